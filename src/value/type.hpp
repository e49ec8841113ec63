// Type: the checked type of a value. Set by the checker on every expression
// and used by lowering and the data readers.
#pragma once

#include <cstdint>
#include <string>

namespace stratum {

// Durations are whole days or whole months, at most about 8,000 years
// either way (literals beyond are refused; sums beyond are errors).
inline constexpr int64_t kMaxDurationDays = 2'920'000;
inline constexpr int64_t kMaxDurationMonths = 96'000;

enum class BaseType : uint8_t {
  error,       // already reported; suppresses follow-on errors
  boolean,
  int_,
  decimal,
  money,
  text,
  date,
  days,        // a duration counted in days (weeks, days, date − date)
  months,      // a duration counted in months (years, months)
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
  bool is_ordered() const {
    return !is_set && (base == BaseType::int_ || base == BaseType::decimal || base == BaseType::money ||
                       base == BaseType::date || base == BaseType::days || base == BaseType::months ||
                       base == BaseType::enum_);
  }
  bool is_number_like() const {  // held as a Decimal at run time
    return !is_set && (base == BaseType::int_ || base == BaseType::decimal || base == BaseType::money);
  }
  friend bool operator==(const Type&, const Type&) = default;
};

}  // namespace stratum
