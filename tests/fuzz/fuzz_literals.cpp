// Decimal and date literals: parsing never crashes, and what parses prints
// back to text that parses to the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "eval/program.hpp"
#include "value/date.hpp"
#include "value/decimal.hpp"

using namespace stratum;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string why;
  if (auto d = Decimal::parse(text, &why)) {
    if (d->raw() > Decimal::kMaxRaw || d->raw() < -Decimal::kMaxRaw) std::abort();
    auto again = Decimal::parse(d->to_string());
    if (!again || *again != *d) std::abort();
    try {
      (void)(*d * *d);
      (void)(*d + *d);
      (void)(*d / *d);
      (void)d->round_half_up(2);
    } catch (const ArithmeticError&) {
    }
  }
  if (auto days = parse_iso_date(text)) {
    auto again = parse_iso_date(format_date(*days));
    if (!again || *again != *days) std::abort();
  }
  return 0;
}
