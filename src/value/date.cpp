// Civil dates: the calendar arithmetic behind dates in rules and data.
#include "value/date.hpp"

#include <cctype>
#include <cstdio>

namespace stratum {

// Howard Hinnant's days_from_civil / civil_from_days.
int32_t days_from_civil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int>(doe) - 719468;
}

void civil_from_days(int32_t z, int& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

std::optional<int32_t> parse_iso_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  int y = 0;
  unsigned m = 0, d = 0;
  for (int i : {0, 1, 2, 3}) { if (!std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt; y = y * 10 + (s[i] - '0'); }
  for (int i : {5, 6}) { if (!std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt; m = m * 10 + (s[i] - '0'); }
  for (int i : {8, 9}) { if (!std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt; d = d * 10 + (s[i] - '0'); }
  if (m < 1 || m > 12 || d < 1) return std::nullopt;
  static const unsigned month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  unsigned max_day = month_days[m - 1] + (m == 2 && leap ? 1 : 0);
  if (d > max_day) return std::nullopt;
  return days_from_civil(y, m, d);
}

std::string format_date(int32_t days) {
  int y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  char out[32];
  std::snprintf(out, sizeof out, "%04d-%02u-%02u", y, m, d);
  return out;
}

}  // namespace stratum
