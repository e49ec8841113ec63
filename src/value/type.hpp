// Type: the checked type of a value. Set by the checker on every expression
// and used by lowering and the data readers.
#pragma once

#include <cstdint>
#include <string>

namespace stratum {

// A duration is a number of months and a number of days (`1 month`,
// `2 weeks`, or both: `1 month 2 weeks`), each at most about 8,000 years
// (literals beyond are refused; sums beyond are errors). A month is 28 to
// 31 days, so the two parts are never converted into each other.
inline constexpr int64_t kMaxDurationDays = 2'920'000;
inline constexpr int64_t kMaxDurationMonths = 96'000;
// At run time a duration is one integer, months × kDurationMonth + days:
// sums, differences and equality work on it directly, and a duration in
// days alone is its number of days.
inline constexpr int64_t kDurationMonth = int64_t{1} << 33;

enum class BaseType : uint8_t {
  error,       // already reported; suppresses follow-on errors
  boolean,
  int_,
  decimal,
  money,
  text,
  date,
  days,        // a duration in days alone (weeks, days, date − date)
  months,      // a duration in months alone (years, months)
  duration,    // a duration that may hold months and days (`duration`)
  enum_,
};

struct Type {
  BaseType base = BaseType::error;
  int32_t enum_id = -1;  // for enum_
  bool is_set = false;   // set<base>, or list<base> when is_list
  // list<base>: the ordered results of a `rule order` or `output order`
  // table, duplicates kept; is_set is true as well (a list is never a
  // number, an enum code or a text). Held as the items' texts joined by
  // '\x1f'. Lists are outputs only: no expression reads one.
  bool is_list = false;

  static Type of(BaseType b) { return {b, -1, false, false}; }
  static Type enum_of(int32_t id) { return {BaseType::enum_, id, false, false}; }
  Type element() const { return {base, enum_id, false, false}; }
  Type as_set() const { return {base, enum_id, true, false}; }
  Type as_list() const { return {base, enum_id, true, true}; }
  bool is_enum_set() const { return is_set && !is_list && base == BaseType::enum_; }

  bool is_error() const { return base == BaseType::error; }
  bool is_numeric() const {
    return !is_set && (base == BaseType::int_ || base == BaseType::decimal);
  }
  // A duration in one unit is ordered; one that may mix months and days is
  // not (is 1 month more than 30 days?).
  bool is_ordered() const {
    return !is_set && (base == BaseType::int_ || base == BaseType::decimal || base == BaseType::money ||
                       base == BaseType::date || base == BaseType::days || base == BaseType::months ||
                       base == BaseType::enum_);
  }
  bool is_duration() const {
    return !is_set && (base == BaseType::days || base == BaseType::months || base == BaseType::duration);
  }
  bool is_number_like() const {  // held as a Decimal at run time
    return !is_set && (base == BaseType::int_ || base == BaseType::decimal || base == BaseType::money);
  }
  friend bool operator==(const Type&, const Type&) = default;
};

}  // namespace stratum
