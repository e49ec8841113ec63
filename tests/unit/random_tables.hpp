// Random decision tables and random customers, for the tests that compare
// two ways of deciding them (test_row_sets.cpp, test_native.cpp).
#pragma once

#include <deque>
#include <random>
#include <string>

#include <fmt/format.h>

#include "eval/program.hpp"
#include "value/date.hpp"

namespace stratum::testing {

struct RandomFields {
  unsigned missing_one_in = 10;  // an optional field is missing one time in this many
  bool unknown_member = false;   // a set of texts may also hold a text the rules do not name
  bool calendar = false;         // dates around 2020, durations, whole ints (else every number from number_of)
};

// One random customer in `f`: every field given, an optional one sometimes
// missing; enums, bools and sets at random, a text from text_of(slot, rng),
// a number from number_of(slot, rng). Set texts are kept in `texts`.
template <class TextOf, class NumberOf>
void randomise_fields(const eval::Program& p, eval::Frame& f, std::mt19937_64& rng, std::deque<std::string>& texts,
                      const RandomFields& how, TextOf text_of, NumberOf number_of) {
  static const int32_t base_day = days_from_civil(2020, 1, 1);
  for (size_t s = 0; s < p.fields.size(); ++s) {
    const eval::Field& field = p.fields[s];
    f.state[s] = 1;
    f.slots[s] = eval::Value{};
    if (field.optional && rng() % how.missing_one_in == 0) {
      f.state[s] = 0;
      f.slots[s] = eval::missing_value();
      continue;
    }
    const Type& type = field.type;
    if (type.is_set) {
      if (type.base == BaseType::enum_) {
        size_t n = p.enums[type.enum_id].members.size();
        f.slots[s].n = static_cast<int128>(rng() & (n >= 64 ? ~0ULL : (1ULL << n) - 1));
      } else {
        std::string joined;
        for (const auto& m : field.known_members) {
          if (rng() % 2) joined += (joined.empty() ? "" : std::string(1, eval::kSetSeparator)) + m;
        }
        if (how.unknown_member && rng() % 4 == 0) joined += (joined.empty() ? "" : std::string(1, eval::kSetSeparator)) + "其他";
        texts.push_back(joined);
        f.slots[s].s = texts.back();
        f.slots[s].n = field.known_mask(texts.back());
      }
      continue;
    }
    switch (type.base) {
      case BaseType::enum_: f.slots[s].n = static_cast<int128>(rng() % p.enums[type.enum_id].members.size()); break;
      case BaseType::boolean: f.slots[s].n = static_cast<int128>(rng() % 2); break;
      case BaseType::text: f.slots[s].s = text_of(static_cast<int32_t>(s), rng); break;
      case BaseType::date:
        f.slots[s].n = how.calendar ? base_day + static_cast<int128>(rng() % 4000) - 2000 : number_of(static_cast<int32_t>(s), rng);
        break;
      case BaseType::days: case BaseType::months: case BaseType::duration:
        f.slots[s].n = how.calendar ? static_cast<int128>(rng() % 2000) : number_of(static_cast<int32_t>(s), rng);
        break;
      default: {
        int128 v = number_of(static_cast<int32_t>(s), rng);
        if (how.calendar && type.base == BaseType::int_) v -= v % Decimal::kScale;  // whole, as the binder gives an int
        f.slots[s].n = v;
        break;
      }
    }
  }
}

// A random table over an enum, three numbers and a text; `plain`: the enum
// tested by single values, the numbers by comparisons and ranges only.
// `computed`: the enum and two numbers are computed values (decisions)
// that reject some customers, not fields.
inline std::string random_table(std::mt19937_64& rng, int rows, const std::string& policy, bool plain, bool computed = false) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  auto number = [&](int column) {
    int v = pick(column == 2 ? 40 : 12) * (column == 2 ? 25 : 1);
    return column == 3 ? fmt::format("{}.{}", v, pick(10)) : column == 2 ? fmt::format("{}万", v) : std::to_string(v);
  };
  auto cell = [&](int column) -> std::string {
    int kind = pick(10);
    if (column == 0) {
      static const char* codes[] = {"甲", "乙", "丙", "丁", "戊"};
      if (kind < 3) return "-";
      if (kind < 6 || plain) return codes[pick(5)];
      if (kind < 8) return fmt::format("{{{}, {}}}", codes[pick(5)], codes[pick(5)]);
      return fmt::format("not {{{}}}", codes[pick(5)]);
    }
    if (column == 4) {
      static const char* words[] = {"\"a\"", "\"b\"", "\"c\""};
      return kind < 7 || plain ? "-" : kind < 9 ? words[pick(3)] : fmt::format("{{{}, {}}}", words[pick(3)], words[pick(3)]);
    }
    if (kind < 2) return "-";
    static const char* ops[] = {">=", ">", "<=", "<", "!="};
    if (kind < 6) return fmt::format("{} {}", ops[pick(column == 1 && !plain ? 5 : 4)], number(column));
    if (kind < 8) {
      std::string a = number(column), b = number(column);
      if (std::stod(a) > std::stod(b)) std::swap(a, b);  // (stod reads `25万` as 25)
      return fmt::format("{}{}, {}{}", pick(2) ? "[" : "(", a, b, pick(2) ? "]" : ")");
    }
    if (kind < 9 && column == 1 && !plain) return fmt::format("{{{}, {}}}", number(column), number(column));
    return number(column);
  };
  bool collect = policy.starts_with("collect") || policy.ends_with("order");
  std::string result = policy == "collect count" ? "int" : policy == "collect list" ? "set<档>"
                       : policy == "rule order" || policy == "output order" ? "list<档>" : "档";
  std::string out = "enum 码 { 甲, 乙, 丙, 丁, 戊 }\nenum 档 { A, B, C, D }\n";
  if (computed) {
    out += "input c { id : text key  k0 : 码  x0 : int  y0 : money  z : decimal?  w : text }\n"
           "decide k : 码 { when k0 == 戊 and x0 < 0 -> reject \"k fails\"  else -> k0 }\n"
           "decide x : int { when x0 == 7 -> reject \"x is seven\"  else -> x0 }\n"
           "decide y : money { when y0 > 900万 -> reject \"y is too large\"  else -> y0 + 0元 }\n";
  } else {
    out += "input c { id : text key  k : 码  x : int  y : money  z : decimal?  w : text }\n";
  }
  out += fmt::format("table t : {} {} {{\n  k | x | y | z? | w || t\n", result, policy);
  static const char* grades[] = {"A", "B", "C", "D"};
  for (int r = 0; r < rows; ++r) {
    std::string line = "  ";
    for (int c = 0; c < 5; ++c) {
      std::string text = cell(c);
      if (c == 3 && pick(12) == 0 && !plain) text = "missing";
      line += text + (c < 4 ? " | " : "");
    }
    out += line + " || " + (collect && policy == "collect count" ? "1" : grades[pick(4)]) + "\n";
  }
  return out + "}\n";
}

}  // namespace stratum::testing
