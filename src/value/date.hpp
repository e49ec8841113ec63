// Civil dates: days since 1970-01-01 (proleptic Gregorian) ⇄ year, month,
// day, and the one date format the rules and the data use (YYYY-MM-DD).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stratum {

// Civil date ⇄ days since 1970-01-01 (proleptic Gregorian).
int32_t days_from_civil(int y, unsigned m, unsigned d);
void civil_from_days(int32_t z, int& y, unsigned& m, unsigned& d);
// Parses YYYY-MM-DD (a real calendar date) into days since 1970-01-01.
std::optional<int32_t> parse_iso_date(std::string_view text);
// Days since 1970-01-01 as YYYY-MM-DD.
std::string format_date(int32_t days);

}  // namespace stratum
