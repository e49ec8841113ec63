#include "io/bind.hpp"

#include <bit>
#include <cstring>

#include <fmt/format.h>

#include "value/date.hpp"

namespace stratum::io {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string shown(std::string_view s) { return "\"" + utf8::printable(s, 40) + "\""; }

// A duration as the rules and the outputs write it: one or more parts, each
// a whole number and a unit (`3 months`, `2 weeks`, `1 year 10 days`,
// `1 month + 10 days`, `6个月`, `2周`, `30天`, `3年`), at most 96,000 months
// and 2,920,000 days.
enum class DurationText { ok, not_one, out_of_range };
DurationText parse_duration(std::string_view t, int128& months, int128& days) {
  using R = DurationText;
  static constexpr std::pair<std::string_view, int> units[] = {
      {"years", 12}, {"year", 12}, {"months", 1}, {"month", 1}, {"weeks", -7}, {"week", -7}, {"days", -1}, {"day", -1},
      {"个月", 1},    {"年", 12},    {"周", -7},     {"天", -1}};
  months = days = 0;
  bool any = false, out_of_range = false;
  while (true) {
    while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
    if (t.empty()) {
      if (!any) return R::not_one;
      if (out_of_range || months > kMaxDurationMonths || months < -kMaxDurationMonths || days > kMaxDurationDays ||
          days < -kMaxDurationDays) {
        return R::out_of_range;
      }
      return R::ok;
    }
    // `1 month + 10 days` and `1 month - 10 days`, as a test block writes them, read too
    bool negative = t.front() == '-';
    if (negative || (any && t.front() == '+')) {
      t.remove_prefix(1);
      while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
    }
    int128 count = 0;
    size_t digits = 0;
    while (digits < t.size() && t[digits] >= '0' && t[digits] <= '9') {
      if (count <= kMaxDurationDays * 10) count = count * 10 + (t[digits] - '0');  // beyond: out of range, whatever follows
      ++digits;
    }
    if (digits == 0) return R::not_one;
    t.remove_prefix(digits);
    while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
    int factor = 0;
    for (auto [word, f] : units) {
      if (t.starts_with(word)) { t.remove_prefix(word.size()); factor = f; break; }
    }
    if (factor == 0 || (!t.empty() && t.front() != ' ' && t.front() != '-' && t.front() != '+' && !(t.front() >= '0' && t.front() <= '9'))) {
      return R::not_one;
    }
    if (negative) count = -count;
    if (factor > 0) months += count * factor;
    else days += count * -factor;
    if (months > kMaxDurationMonths * 10 || months < -kMaxDurationMonths * 10 || days > kMaxDurationDays * 10 ||
        days < -kMaxDurationDays * 10) {
      out_of_range = true;  // still read to the end: a text that is no duration says so first
      months = days = 0;
    }
    any = true;
  }
}

}  // namespace

namespace {
// Up to eight ASCII digits as one number (the first the most significant),
// with loads inside the text: padded with '0' on the left, checked and
// converted in a register (the conversion is simdjson's), no branch per digit.
bool eight_digits(const char* p, size_t n, uint64_t& out) {
  uint64_t x;
  if (n >= 4) {
    uint32_t a, b;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + n - 4, 4);
    x = a | (static_cast<uint64_t>(b) << (8 * (n - 4)));
  } else {
    x = static_cast<unsigned char>(p[0]);
    if (n > 1) x |= static_cast<uint64_t>(static_cast<unsigned char>(p[1])) << 8;
    if (n > 2) x |= static_cast<uint64_t>(static_cast<unsigned char>(p[2])) << 16;
  }
  if (n < 8) x = (x << (8 * (8 - n))) | (0x3030303030303030ull >> (8 * n));
  // every byte 0x30–0x39: its high half 3, and no carry out of its low half + 6
  if ((x & 0xF0F0F0F0F0F0F0F0ull) != 0x3030303030303030ull ||
      ((x + 0x0606060606060606ull) & 0xF0F0F0F0F0F0F0F0ull) != 0x3030303030303030ull) {
    return false;
  }
  x = (x & 0x0F0F0F0F0F0F0F0Full) * 2561 >> 8;
  x = (x & 0x00FF00FF00FF00FFull) * 6553601 >> 16;
  out = (x & 0x0000FFFF0000FFFFull) * 42949672960001ull >> 32;
  return true;
}
}  // namespace

bool plain_digits(std::string_view text, uint64_t& out) {
  size_t n = text.size();
  if (n == 0 || n > 16) return false;
  if constexpr (std::endian::native != std::endian::little) {  // eight_digits reads bytes little-endian
    out = 0;
    for (char c : text) {
      if (c < '0' || c > '9') return false;
      out = out * 10 + static_cast<uint64_t>(c - '0');
    }
    return true;
  }
  if (n <= 8) return eight_digits(text.data(), n, out);
  uint64_t high, low;
  if (!eight_digits(text.data(), n - 8, high) || !eight_digits(text.data() + n - 8, 8, low)) return false;
  out = high * 100000000ull + low;
  return true;
}

namespace {
// The enum tables' hash: the length and the first and last eight bytes
// (two loads, whatever the name's length; a collision only costs a probe).
uint32_t name_hash(std::string_view s) {
  uint64_t a = 0, b = 0;
  if (s.size() >= 8) {
    std::memcpy(&a, s.data(), 8);
    std::memcpy(&b, s.data() + s.size() - 8, 8);
  } else {
    std::memcpy(&a, s.data(), s.size());
  }
  uint64_t h = (a * 0x9E3779B97F4A7C15ull) ^ (((b * 0xC2B2AE3D27D4EB4Full) << 31) | ((b * 0xC2B2AE3D27D4EB4Full) >> 33)) ^ s.size();
  h ^= h >> 29;
  h *= 0xBF58476D1CE4E5B9ull;
  return static_cast<uint32_t>(h >> 32);
}
}  // namespace

int32_t Binder::EnumTable::find(std::string_view name) const {
  for (uint32_t i = name_hash(name) & mask;; i = (i + 1) & mask) {
    const auto& [key, code] = slots[i];
    if (code < 0) return -1;
    if (key == name) return code;
  }
}

Binder::Binder(const eval::Program& program) : program_(program) {
  for (const auto& e : program.enums) {
    EnumTable table;
    uint32_t size = 8;
    while (size < e.members.size() * 4) size *= 2;
    table.mask = size - 1;
    table.slots.assign(size, {std::string_view(), -1});
    for (size_t i = 0; i < e.members.size(); ++i) {
      uint32_t at = name_hash(e.members[i]) & table.mask;
      while (table.slots[at].second >= 0) at = (at + 1) & table.mask;
      table.slots[at] = {e.members[i], static_cast<int32_t>(i)};
    }
    enum_codes_.push_back(std::move(table));
  }
  scratch_.reserve(1 << 16);
}

std::vector<std::string> Binder::columns() const {
  std::vector<std::string> out;
  for (const auto& f : program_.fields) out.push_back(f.column);
  return out;
}

std::vector<bool> Binder::required() const {
  std::vector<bool> out;
  for (const auto& f : program_.fields) out.push_back(!f.optional);
  return out;
}

std::string Binder::key_text(const RawRecord& raw) const {
  if (program_.key_field < 0 || raw.fields.size() <= static_cast<size_t>(program_.key_field)) return {};
  const RawField& f = raw.fields[program_.key_field];
  return f.kind == RawKind::text || f.kind == RawKind::number ? utf8::printable(f.text, 80) : std::string();
}

bool Binder::parse_value(std::string_view text, const Type& type, eval::Value& out, std::string& why, int scale) {
  std::string_view t = type.base == BaseType::text ? text : trim(text);
  switch (type.base) {
    case BaseType::boolean:
      if (t == "true" || t == "TRUE" || t == "True" || t == "1" || t == "是") { out = {1, {}}; return true; }
      if (t == "false" || t == "FALSE" || t == "False" || t == "0" || t == "否") { out = {0, {}}; return true; }
      why = fmt::format("{} is not a boolean (true/false, 1/0, 是/否)", shown(text));
      return false;
    case BaseType::int_:
    case BaseType::decimal:
    case BaseType::money: {
      std::string reason;
      // A unit written after the number says its scale, whatever the field's.
      std::string_view number = t;
      static constexpr std::pair<std::string_view, int> money_units[] = {{"万元", 4}, {"亿元", 8}, {"万", 4}, {"亿", 8}, {"元", 0}};
      if (type.base == BaseType::money) {
        for (auto [suffix, exp] : money_units) {
          if (number.ends_with(suffix)) { number.remove_suffix(suffix.size()); scale = exp; break; }
        }
      } else if (type.base == BaseType::decimal && number.ends_with('%')) {
        number.remove_suffix(1);
        scale = -2;
      }
      if (number.size() != t.size()) {
        while (!number.empty() && number.back() == ' ') number.remove_suffix(1);
        if (number.empty()) {
          why = fmt::format("{} is not a number (write plain digits, e.g. 12345.67)", shown(text));
          return false;
        }
      }
      auto d = Decimal::parse(number, &reason);
      if (!d) {
        why = reason == "not a number" ? fmt::format("{} is not a number (write plain digits, e.g. 12345.67)", shown(text))
                                       : fmt::format("{}: {}", shown(text), reason);
        return false;
      }
      if (scale != 0) {
        try {
          Decimal factor = Decimal::from_int(1);
          for (int k = 0; k < (scale < 0 ? -scale : scale); ++k) factor = factor * Decimal::from_int(10);
          Decimal scaled = scale > 0 ? *d * factor : *d / factor;
          if (scale < 0 && !(scaled * factor == *d)) {
            why = fmt::format("{} has more decimal places than a number holds (12)", shown(text));
            return false;
          }
          d = scaled;
        } catch (const ArithmeticError&) {
          why = fmt::format("{}: number out of range", shown(text));
          return false;
        }
      }
      if (type.base == BaseType::int_ && !d->is_integer()) {
        why = fmt::format("{} is not a whole number", shown(text));
        return false;
      }
      out = {d->raw(), {}};
      return true;
    }
    case BaseType::text:
      out = {0, text};
      return true;
    case BaseType::date: {
      auto days = parse_iso_date(t);
      if (!days) {
        why = fmt::format("{} is not a date (write YYYY-MM-DD)", shown(text));
        return false;
      }
      out = {*days, {}};
      return true;
    }
    case BaseType::enum_: {
      int32_t code = enum_codes_[type.enum_id].find(t);
      if (code < 0) {
        const auto& members = program_.enums[type.enum_id].members;
        std::string all;
        for (size_t i = 0; i < members.size() && i < 20; ++i) all += (i ? ", " : "") + members[i];
        if (members.size() > 20) all += ", …";
        why = fmt::format("{} is not a value of {} ({})", shown(text), program_.enums[type.enum_id].name, all);
        return false;
      }
      out = {code, {}};
      return true;
    }
    case BaseType::days:
    case BaseType::months:
    case BaseType::duration: {
      int128 months = 0, days = 0;
      DurationText read = parse_duration(t, months, days);
      if (read == DurationText::out_of_range) {
        why = fmt::format("{}: duration out of range (at most 96000 months and 2920000 days, about 8,000 years)", shown(text));
        return false;
      }
      if (read != DurationText::ok) {
        why = fmt::format("{} is not a duration (write e.g. `3 months`, `2 weeks`, `30 days`, `1 year`, `6个月`, `1 month 2 weeks`)",
                          shown(text));
        return false;
      }
      if (type.base == BaseType::days && months != 0) {
        why = fmt::format("{} is in months; this value is a duration in days: write it in days or weeks", shown(text));
        return false;
      }
      if (type.base == BaseType::months && days != 0) {
        why = fmt::format("{} is in days; this value is a duration in months: write it in months or years", shown(text));
        return false;
      }
      out = {eval::make_duration(months, days), {}};
      return true;
    }
    case BaseType::error:
      why = "this value has no type";
      return false;
  }
  return false;
}

bool Binder::bind(const RawRecord& raw, eval::Frame& frame, Rejection& why) {
  if (!raw.error.empty()) {
    why = {raw.error_column, raw.error};
    return false;
  }
  start_record();
  for (size_t i = 0; i < program_.fields.size(); ++i) {
    if (!bind_field(i, raw.fields[i], frame, why)) return false;
  }
  return true;
}

bool Binder::bind_field(size_t i, const RawField& rf, eval::Frame& frame, Rejection& why) {
  {
    const eval::Field& field = program_.fields[i];
    // The shapes of nearly every value, read directly (each gives what the
    // general path below would): an enum value as written, plain digits.
    if (!field.type.is_set && (rf.kind == RawKind::text || rf.kind == RawKind::number) && !rf.text.empty() &&
        rf.text.size() <= max_field_) {
      BaseType base = field.type.base;
      if (base == BaseType::enum_ && rf.kind == RawKind::text) {
        if (int32_t code = enum_codes_[field.type.enum_id].find(rf.text); code >= 0) {
          frame.state[i] = 1;
          frame.slots[i].n = code;
          frame.slots[i].s = {};
          return true;
        }
      } else if (base == BaseType::text && !field.domain) {
        if (utf8::valid_prefix(rf.text) == rf.text.size()) {
          frame.state[i] = 1;
          frame.slots[i].n = 0;
          frame.slots[i].s = rf.text;
          return true;
        }
      } else if ((base == BaseType::int_ || base == BaseType::money || base == BaseType::decimal) && field.data_scale == 0 &&
                 rf.text.size() <= 18) {
        // Plain digits; or a sign, digits and a point, nothing else, whose
        // value parse_value would take from Decimal::parse (no unit, nothing
        // to trim). Anything else, and a value these refuse, is left to the
        // general path below, which says why.
        uint64_t acc;
        std::optional<int128> raw;
        if (plain_digits(rf.text, acc)) {
          raw = static_cast<int128>(acc) * Decimal::kScale;
        } else {
          bool plain = true;
          for (size_t m = 0; m < rf.text.size() && plain; ++m) {
            char c = rf.text[m];
            plain = (c >= '0' && c <= '9') || c == '.' || (m == 0 && (c == '-' || c == '+'));
          }
          std::optional<Decimal> d = plain ? Decimal::parse(rf.text) : std::nullopt;
          if (d && (base != BaseType::int_ || d->is_integer())) raw = d->raw();
        }
        if (raw) {
          // Written in place (a value built aside and copied would be read
          // back through the stack before its stores land).
          eval::Value& v = frame.slots[i];
          v.n = *raw;
          v.s = {};
          if (!field.domain || program_.in_domain(field, v)) {
            frame.state[i] = 1;
            return true;
          }
        }
      }
    }
    auto reject = [&](std::string reason) {
      why = {field.column, std::move(reason)};
      return false;
    };
    bool empty = rf.kind == RawKind::absent || rf.kind == RawKind::null ||
                 (rf.kind == RawKind::text && (rf.text.empty() || ((rf.text.front() == ' ' || rf.text.front() == '\t') &&
                                                                   trim(rf.text).empty() && field.type.base != BaseType::text)));
    if (field.type.is_set && rf.kind == RawKind::text && rf.text.empty()) empty = false;  // "" is the empty set
    if (empty) {
      if (!field.optional) {
        return reject(rf.kind == RawKind::absent ? "the required field is absent" : "the required field is empty");
      }
      frame.state[i] = 0;
      frame.slots[i] = eval::missing_value();
      return true;
    }
    if (rf.kind == RawKind::object) return reject("expected a value, found an object");
    size_t size = rf.text.size();
    for (std::string_view item : rf.items) size += item.size();
    if (size > max_field_) {
      return reject(fmt::format("the value is longer than {} bytes (the limit, --max-field-bytes)", max_field_));
    }
    // Text is UTF-8: a value that is not is refused, never copied into the output.
    if (rf.kind == RawKind::text || rf.kind == RawKind::number) {
      if (size_t ok = utf8::valid_prefix(rf.text); ok != rf.text.size()) {
        return reject(fmt::format("{} is not UTF-8 text (byte 0x{:02X} at byte {})", shown(rf.text),
                                  static_cast<unsigned char>(rf.text[ok]), ok + 1));
      }
    }
    for (std::string_view item : rf.items) {
      if (size_t ok = utf8::valid_prefix(item); ok != item.size()) {
        return reject(fmt::format("list item {} is not UTF-8 text (byte 0x{:02X} at byte {})", shown(item),
                                  static_cast<unsigned char>(item[ok]), ok + 1));
      }
    }
    eval::Value v;
    std::string reason;
    if (field.type.is_set) {
      std::vector<std::string_view>& items = items_;
      items.clear();
      if (rf.kind == RawKind::array) {
        items.assign(rf.items.begin(), rf.items.end());
      } else {
        std::string_view s = rf.text;
        size_t start = 0;
        while (start <= s.size() && !s.empty()) {
          size_t end = s.find(';', start);
          if (end == std::string_view::npos) end = s.size();
          std::string_view item = trim(s.substr(start, end - start));
          if (!item.empty()) items.push_back(item);
          start = end + 1;
        }
      }
      Type elem = field.type.element();
      if (elem.base == BaseType::enum_) {
        int128 mask = 0;
        for (auto item : items) {
          eval::Value e;
          if (!parse_value(item, elem, e, reason)) return reject(reason);
          mask |= static_cast<int128>(1) << static_cast<int>(e.n);
        }
        v = {mask, {}};
      } else {
        size_t off = scratch_.size();
        size_t need = 0;
        for (auto item : items) need += item.size() + 1;
        if (scratch_.capacity() < off + need) {
          return reject("the set is too long (over 64 KiB)");
        }
        int128 known = 0;
        for (size_t k = 0; k < items.size(); ++k) {
          if (k) scratch_ += eval::kSetSeparator;
          scratch_.append(items[k]);
          for (size_t m = 0; m < field.known_members.size(); ++m) {
            if (field.known_members[m] == items[k]) known |= static_cast<int128>(1) << m;
          }
        }
        v = {known, std::string_view(scratch_).substr(off)};
      }
    } else {
      if (rf.kind == RawKind::array) return reject("expected one value, found a list");
      if (!parse_value(rf.text, field.type, v, reason, field.data_scale)) return reject(reason);
      if (field.domain && !program_.in_domain(field, v)) {
        return reject(fmt::format("{} is outside the field's range `{}`", program_.format(v, field.type), field.domain_text));
      }
      if (rf.kind == RawKind::boolean && field.type.base != BaseType::boolean && field.type.base != BaseType::text) {
        return reject(fmt::format("expected {}, found {}", field.type.base == BaseType::enum_ ? "an enum value" : "a number", rf.text));
      }
    }
    frame.state[i] = 1;
    frame.slots[i] = v;
  }
  return true;
}

}  // namespace stratum::io
