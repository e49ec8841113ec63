#include "native/codegen.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "native/embedded.hpp"

namespace stratum::native {

using eval::DerivedKind;
using eval::Node;
using eval::Op;
using eval::Program;

namespace {

// FNV-1a, 64 bits, from two starting points: 128 bits of fingerprint.
std::string hash_text(std::string_view text) {
  uint64_t a = 0xcbf29ce484222325ULL, b = 0x84222325cbf29ce4ULL;
  for (unsigned char ch : text) {
    a = (a ^ ch) * 0x100000001b3ULL;
    b = (b ^ ch) * 0x100000001b3ULL;
    b ^= b >> 29;
  }
  return fmt::format("{:016x}{:016x}", a, b);
}

std::string without_pragma_once(std::string text) {
  const std::string pragma = "#pragma once\n";
  if (auto at = text.find(pragma); at != std::string::npos) text.erase(at, pragma.size());
  return text;
}

// A C++ string literal holding `text` exactly (every byte outside printable
// ASCII escaped in octal, so no trigraph, no encoding question).
std::string literal(std::string_view text) {
  std::string out = "\"";
  for (unsigned char ch : text) {
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += static_cast<char>(ch);
    } else if (ch >= 0x20 && ch < 0x7f && ch != '?') {
      out += static_cast<char>(ch);
    } else {
      out += fmt::format("\\{:03o}", ch);
    }
  }
  return out + "\"";
}

// An int128 constant as C++.
std::string int128_literal(int128 v) {
  if (v > INT64_MIN && v <= INT64_MAX) return fmt::format("I({}LL)", static_cast<int64_t>(v));
  auto u = static_cast<unsigned __int128>(v);
  return fmt::format("static_cast<I>((static_cast<unsigned __int128>({:#x}ULL) << 64) | {:#x}ULL)", static_cast<uint64_t>(u >> 64),
                     static_cast<uint64_t>(u));
}

const char* comparison(eval::Cmp c) {
  switch (c) {
    case eval::Cmp::eq: return "==";
    case eval::Cmp::ne: return "!=";
    case eval::Cmp::lt: return "<";
    case eval::Cmp::le: return "<=";
    case eval::Cmp::gt: return ">";
    case eval::Cmp::ge: return ">=";
  }
  return "==";
}

class Generator {
 public:
  explicit Generator(const Program& p) : p_(p), n_fields_(static_cast<int32_t>(p.fields.size())) {}

  Generated run() {
    Generated g;
    std::string body;
    size_t n_derived = p_.derived.size();
    written_.assign(n_derived, 0);
    for (size_t i = 0; i < n_derived; ++i) {
      std::string why = unsupported_derived(p_.derived[i]);
      if (why.empty()) {
        written_[i] = 1;
        ++g.compiled;
      } else {
        g.interpreted.push_back(p_.derived[i].name + ": " + why);
      }
    }
    body += fmt::format("// The rule set {} version {}, compiled ahead of time by `stratum build --native`.\n"
                        "// Generated: edit the rules, not this file.\n",
                        literal(p_.ruleset), literal(p_.version));
    body += "#include <cstdint>\n#include <string_view>\n\n";
    body += without_pragma_once(kAbiHeaderText);
    body += "\n";
    body += without_pragma_once(kDecimalFastText);
    body += R"(
namespace {

using I = __int128;
using stratum_native::Context;
using stratum_native::Value;
namespace fast = stratum::decimal_fast;

// Thrown inside the library only: the customer is left to the interpreter.
struct Bail {};

[[gnu::noinline, noreturn]] void bail() { throw Bail{}; }

inline I add(I a, I b) { I r; if (!fast::add(a, b, r)) bail(); return r; }
inline I sub(I a, I b) { I r; if (!fast::sub(a, b, r)) bail(); return r; }
inline I mul(Context& c, I a, I b) {
  I r;
  if (fast::multiply(a, b, r)) return r;
  if (!c.host->multiply(a, b, &r)) bail();
  return r;
}
// a × k for a constant k = M·S/P (P a power of ten): a·M/P rounded half away
// from zero, the same number as a·k/S, without a division instruction
// while a·M fits in 64 bits.
template <int64_t M, int64_t P>
inline I mul_constant(Context& c, I a) {
  int64_t p;
  if (a == static_cast<int64_t>(a) && !__builtin_mul_overflow(static_cast<int64_t>(a), M, &p)) {
    if constexpr (P == 1) {
      return p;
    } else {
      int64_t q = p / P, r = p % P;
      if (r < 0) r = -r;
      if (r >= P - r) q += p < 0 ? -1 : 1;
      return q;
    }
  }
  return mul(c, a, static_cast<I>(M) * (fast::kScale / P));
}
inline I divide(Context& c, I a, I b) {
  I r;
  if (b == 0 || !c.host->divide(a, b, &r)) bail();
  return r;
}
inline I neg(I a) {  // as Decimal's unary minus: only the most negative int128 has no negation
  if (a == static_cast<I>(static_cast<unsigned __int128>(1) << 127)) bail();
  return -a;
}
inline bool missing(const Context& c, const Value& v) { return v.s.data() == c.missing->s.data(); }
inline Value number(I n) { return Value{n, {}}; }
[[gnu::noinline]] const Value& interpreted(Context& c, int32_t slot) {
  const Value* v = c.host->slot(c.host_state, slot);
  if (!v) bail();
  return *v;
}

)";
    // Declarations, then one function per slot the rules read.
    choose_sweep();
    for (int32_t s = 0; s < static_cast<int32_t>(p_.slot_count()); ++s) {
      body += fmt::format("const Value& S{}(Context& c);\n", s);
    }
    if (std::find(swept_.begin(), swept_.end(), 1) != swept_.end()) body += "void plans(Context& c);\n";
    body += "\n";
    for (size_t t = 0; t < p_.tables.size(); ++t) {
      if (table_written(static_cast<int32_t>(t))) body += fmt::format("int32_t row{}(Context& c);\n", t);
    }
    for (int32_t s = 0; s < n_fields_; ++s) field_function(body, s);
    for (size_t t = 0; t < p_.tables.size(); ++t) {
      if (table_written(static_cast<int32_t>(t))) table_function(body, static_cast<int32_t>(t));
    }
    for (size_t i = 0; i < n_derived; ++i) derived_function(body, static_cast<int32_t>(i));
    bool sweep = plan_sweep(body);
    body += "}  // namespace\n\n";
    // The entry point: every decision, then the plan's items when asked for.
    body += "extern \"C\" __attribute__((visibility(\"default\"))) int stratum_native_evaluate(Context* c, int plan) {\n  try {\n";
    for (const auto& o : p_.outputs) {
      if (!o.plan) body += fmt::format("    S{}(*c);\n", o.slot);
    }
    body += "    if (plan) {\n";
    if (sweep) body += "      plans(*c);\n";
    for (const auto& o : p_.outputs) {
      if (o.plan) body += fmt::format("      S{}(*c);\n", o.slot);
    }
    body += "    }\n    return 1;\n  } catch (...) {\n    return 0;\n  }\n}\n";
    g.fingerprint = hash_text(body);
    g.source = body;
    g.source += fmt::format(
        "\nextern \"C\" __attribute__((visibility(\"default\"))) const stratum_native::Info* stratum_native_info() {{\n"
        "  static const stratum_native::Info info = {{stratum_native::kAbi, sizeof(Value), offsetof(Value, s), {}, {}, {}u,\n"
        "                                            stratum_native::kProbe, std::string_view(stratum_native::kProbe, 5)}};\n"
        "  return &info;\n}}\n",
        literal(g.fingerprint), literal(p_.ruleset + " version " + p_.version), p_.slot_count());
    return g;
  }

 private:
  const Program& p_;
  int32_t n_fields_;
  std::vector<uint8_t> written_;  // per derived: 1 written out, 0 left to the interpreter
  std::vector<uint8_t> column_always_present_;  // the table being written: per column, never missing
  std::set<int32_t> held_;  // slots read once into a local `x<slot>` by the function being written
  std::vector<uint8_t> swept_;  // per derived: 1 a plan item computed by `plans` (choose_sweep)
  int labels_ = 0;

  // Why node `node` (and what it reads in place) cannot be written out, or "".
  std::string unsupported_node(int32_t index) const {
    const Node& n = p_.nodes[index];
    auto operands = [&]() -> std::string {
      for (int32_t o : {n.a, n.b}) {
        if (o < 0) continue;
        if (auto why = unsupported_node(o); !why.empty()) return why;
      }
      return "";
    };
    switch (n.op) {
      case Op::constant: case Op::field: case Op::derived: return "";
      case Op::add: case Op::sub: case Op::mul: case Op::div: case Op::neg: case Op::abs:
      case Op::cmp_num: case Op::cmp_text: case Op::and_: case Op::or_: case Op::not_:
      case Op::present: case Op::coalesce: case Op::in_set: case Op::set_has_bit:
      case Op::text_contains: case Op::starts_with:
        return operands();
      case Op::set_has:
        if (n.text) return "membership in a set of texts";
        return operands();
      case Op::min: case Op::max:
        for (int32_t i = 0; i < n.count; ++i) {
          if (auto why = unsupported_node(p_.args[n.index + i]); !why.empty()) return why;
        }
        return "";
      case Op::today: return "today";
      case Op::round: case Op::floor: case Op::ceil: return "rounding";
      case Op::set_size: return "the size of a set";
      default: return "dates and durations";
    }
  }

  std::string unsupported_derived(const eval::Derived& d) const {
    if (d.stability >= 0) return "a stable value (stability rule)";
    switch (d.kind) {
      case DerivedKind::let: return unsupported_node(d.node);
      case DerivedKind::decide:
        for (const auto& b : d.branches) {
          if (b.condition >= 0) if (auto why = unsupported_node(b.condition); !why.empty()) return why;
          if (b.result >= 0) if (auto why = unsupported_node(b.result); !why.empty()) return why;
        }
        return "";
      case DerivedKind::segment:
        for (const auto& sn : p_.segment_nodes) {
          for (const auto& [condition, child] : sn.branches) {
            if (condition >= 0) if (auto why = unsupported_node(condition); !why.empty()) return why;
          }
        }
        return "";
      case DerivedKind::plan_item:
        for (int32_t node : d.by_leaf) {
          if (node >= 0) if (auto why = unsupported_node(node); !why.empty()) return why;
        }
        for (const auto& c : d.conditional) {
          if (auto why = unsupported_node(c.value); !why.empty()) return why;
          if (auto why = unsupported_node(p_.plan_conditions[c.plan].condition); !why.empty()) return why;
        }
        return "";
      case DerivedKind::table: return unsupported_table(p_.tables[d.table]);
      case DerivedKind::scorecard: return "a scorecard";
      case DerivedKind::factor: return "a scorecard factor";
      case DerivedKind::capacity: return "a capacity limit";
      case DerivedKind::held: return "a stable value (stability rule)";
    }
    return "not yet supported";
  }

  // Whether a table's row function is written (a written value reads it).
  bool table_written(int32_t t) const {
    for (size_t i = 0; i < p_.derived.size(); ++i) {
      if (written_[i] && p_.derived[i].kind == DerivedKind::table && p_.derived[i].table == t) return true;
    }
    return false;
  }

  std::string unsupported_table(const eval::Table& t) const {
    if (t.policy != eval::HitPolicy::first && t.policy != eval::HitPolicy::unique) return "a table of this hit policy";
    for (int32_t column : t.columns) {
      if (auto why = unsupported_node(column); !why.empty()) return why;
    }
    auto tests = [&](const std::vector<eval::CellTest>& cells) -> std::string {
      for (const auto& c : cells) {
        for (int32_t bound : {c.low_node, c.high_node}) {
          if (bound >= 0) if (auto why = unsupported_node(bound); !why.empty()) return why;
        }
      }
      return "";
    };
    for (const auto& row : t.rows) {
      if (auto why = tests(row.tests); !why.empty()) return why;
      for (int32_t out : row.outputs) {
        if (auto why = unsupported_node(out); !why.empty()) return why;
      }
    }
    for (int32_t out : t.else_outputs) {
      if (auto why = unsupported_node(out); !why.empty()) return why;
    }
    return "";
  }

  // Whether a cell passes, as Program::tests_match and test_cell decide:
  // a missing value passes `missing`, `not {…}` and `!=` only.
  std::string cell(const eval::CellTest& t, const std::string& v, bool present_always) {
    using eval::TestKind;
    auto bound = [&](int32_t node, const eval::Value& k) {
      if (node >= 0) return t.text ? val(node) + ".s" : num(node);
      return t.text ? fmt::format("std::string_view({}, {})", literal(k.s), k.s.size()) : int128_literal(k.n);
    };
    std::string x = t.text ? v + ".s" : v + ".n";
    std::string present;
    switch (t.kind) {
      case TestKind::any: return "true";
      case TestKind::missing: return fmt::format("missing(c, {})", v);
      case TestKind::lt: present = fmt::format("{} < {}", x, bound(t.low_node, t.low)); break;
      case TestKind::le: present = fmt::format("{} <= {}", x, bound(t.low_node, t.low)); break;
      case TestKind::gt: present = fmt::format("{} > {}", x, bound(t.low_node, t.low)); break;
      case TestKind::ge: present = fmt::format("{} >= {}", x, bound(t.low_node, t.low)); break;
      case TestKind::eq: present = fmt::format("{} == {}", x, bound(t.low_node, t.low)); break;
      case TestKind::ne: present = fmt::format("{} != {}", x, bound(t.low_node, t.low)); break;
      case TestKind::range:
        present = fmt::format("({} {} {}) & ({} {} {})", x, t.low_closed ? ">=" : ">", bound(t.low_node, t.low), x,
                              t.high_closed ? "<=" : "<", bound(t.high_node, t.high));
        break;
      case TestKind::in_set:
      case TestKind::not_in_set: {
        const eval::ConstSet& set = p_.sets[t.set];
        std::string in = !set.text && set.numbers.empty() && set.mask != 0
                             ? fmt::format("(({0}.n >= 0) & ({0}.n < 128) & static_cast<bool>((({1}) >> static_cast<int>({0}.n & 127)) & 1))", v, int128_literal(set.mask))
                             : fmt::format("(c.host->set_contains(c.host_state, {}, &{}) != 0)", t.set, v);
        present = t.kind == TestKind::in_set ? in : "!" + in;
        break;
      }
    }
    // (bitwise: every part is read, none has an effect, and no branch is taken)
    if (present_always) return "(" + present + ")";
    bool missing_passes = t.kind == TestKind::not_in_set || t.kind == TestKind::ne;
    return missing_passes ? fmt::format("(missing(c, {}) | ({}))", v, present) : fmt::format("(!missing(c, {}) & ({}))", v, present);
  }

  std::string row_test(const std::vector<eval::CellTest>& tests) {
    std::string out;
    for (const auto& t : tests) {
      if (t.kind == eval::TestKind::any) continue;
      bool present = static_cast<size_t>(t.column) < column_always_present_.size() && column_always_present_[t.column];
      out += (out.empty() ? "" : " & ") + cell(t, fmt::format("v{}", t.column), present);
    }
    return out.empty() ? "true" : out;
  }

  // Table t's row for this customer (-2 none, -3 the else row), remembered
  // in the frame as Program::table_row does. Every column is computed
  // first: a column the rows would not have reached that fails leaves the
  // customer to the interpreter, which decides it as written.
  void table_function(std::string& out, int32_t index) {
    const eval::Table& t = p_.tables[index];
    out += fmt::format("[[gnu::noinline]] int32_t row{}(Context& c) {{  // table {}\n  int32_t& hit = c.table_hit[{}];\n"
                       "  if (hit != -1) return hit;\n",
                       index, t.name, index);
    column_always_present_.assign(t.columns.size(), 0);
    for (size_t k = 0; k < t.columns.size(); ++k) {
      const Node& column = p_.nodes[t.columns[k]];
      // a required field's accessor returns it present, or gives up
      column_always_present_[k] = column.op == Op::field && !p_.fields[column.index].optional;
      out += fmt::format("  const Value& v{} = {};\n", k, val(t.columns[k]));
    }
    out += "  int32_t h = -2;\n";
    // Cells that only compare the column values with constants: every row
    // of a group is tested at once, without a branch (one bit per row; the
    // lowest bit set is the first row that matches).
    auto pure = [&](const std::vector<eval::CellTest>& tests) {
      for (const auto& c : tests) {
        if (c.low_node >= 0 || c.high_node >= 0) return false;
        if (c.kind == eval::TestKind::in_set || c.kind == eval::TestKind::not_in_set) {
          const eval::ConstSet& set = p_.sets[c.set];
          if (set.text || !set.numbers.empty() || set.mask == 0) return false;
        }
      }
      return true;
    };
    int group = 0;
    auto rows = [&](const std::vector<int32_t>& which, bool indexed, const std::string& indent) {
      bool all_pure = which.size() >= 2 && which.size() <= 64;
      for (int32_t r : which) all_pure = all_pure && pure(indexed ? t.indexed_tests[r] : t.rows[r].tests);
      if (all_pure) {
        std::string list;
        for (int32_t r : which) list += fmt::format("{}{}", list.empty() ? "" : ", ", r);
        out += fmt::format("{}{{\n{}  static constexpr int32_t group{}[] = {{{}}};\n{}  uint64_t m = 0;\n", indent, indent, group, list, indent);
        for (size_t k = 0; k < which.size(); ++k) {
          std::string test = row_test(indexed ? t.indexed_tests[which[k]] : t.rows[which[k]].tests);
          out += fmt::format("{}  m |= static_cast<uint64_t>({}) << {};\n", indent, test, k);
        }
        if (t.policy == eval::HitPolicy::unique) out += fmt::format("{}  if (m & (m - 1)) bail();  // two rows match\n", indent);
        out += fmt::format("{}  if (m) {{ h = group{}[__builtin_ctzll(m)]; goto found; }}\n{}}}\n", indent, group, indent);
        ++group;
        return;
      }
      for (int32_t r : which) {
        std::string test = row_test(indexed ? t.indexed_tests[r] : t.rows[r].tests);
        if (t.policy == eval::HitPolicy::first) {
          out += fmt::format("{}if ({}) {{ h = {}; goto found; }}\n", indent, test, r);
        } else {
          out += fmt::format("{}if ({}) {{ if (h >= 0) bail(); h = {}; }}\n", indent, test, r);
        }
      }
    };
    if (t.index_column >= 0) {
      out += fmt::format("  switch (static_cast<int64_t>(v{}.n)) {{\n", t.index_column);
      for (size_t code = 0; code < t.rows_by_code.size(); ++code) {
        out += fmt::format("    case {}:\n", code);
        rows(t.rows_by_code[code], true, "      ");
        out += "      break;\n";
      }
      out += "    default: bail();\n  }\n";
    } else {
      std::vector<int32_t> all(t.rows.size());
      for (size_t r = 0; r < all.size(); ++r) all[r] = static_cast<int32_t>(r);
      rows(all, false, "  ");
    }
    out += "  goto found;\nfound:\n";
    if (t.has_else) out += "  if (h == -2) h = -3;\n";
    out += "  hit = h;\n  return h;\n}\n";
  }

  // A node's number (int128), as Program::number reads it.
  std::string num(int32_t index) {
    const Node& n = p_.nodes[index];
    switch (n.op) {
      case Op::constant: return int128_literal(n.constant.n);
      case Op::field: case Op::derived: return held_.count(n.index) ? fmt::format("x{}.n", n.index) : fmt::format("S{}(c).n", n.index);
      default: return expr(index, true);
    }
  }

  // A node's value (Value), as Program::value reads it.
  std::string val(int32_t index) {
    const Node& n = p_.nodes[index];
    switch (n.op) {
      case Op::constant: return fmt::format("c.constants[{}]", index);
      case Op::field: case Op::derived: return held_.count(n.index) ? fmt::format("x{}", n.index) : fmt::format("S{}(c)", n.index);
      default: return expr(index, false);
    }
  }

  // A node evaluated as Program::eval does: its number (`as_number`) or its value.
  std::string expr(int32_t index, bool as_number) {
    const Node& n = p_.nodes[index];
    auto wrap = [&](const std::string& number) { return as_number ? number : "number(" + number + ")"; };
    auto flag = [&](const std::string& condition) { return wrap("static_cast<I>(" + condition + ")"); };
    switch (n.op) {
      case Op::constant: case Op::field: case Op::derived:
        return as_number ? num(index) : val(index);
      case Op::add: return wrap(fmt::format("({{ I a_ = {}; I b_ = {}; add(a_, b_); }})", num(n.a), num(n.b)));
      case Op::sub: return wrap(fmt::format("({{ I a_ = {}; I b_ = {}; sub(a_, b_); }})", num(n.a), num(n.b)));
      case Op::mul: {
        // by a constant (a weight, a rate): see mul_constant
        for (auto [k, x] : {std::pair{n.b, n.a}, std::pair{n.a, n.b}}) {
          if (p_.nodes[k].op != Op::constant) continue;
          int128 raw = p_.nodes[k].constant.n, power = 1;
          int digits = 12;
          while (digits > 0 && raw % 10 == 0) raw /= 10, --digits;
          for (int i = 0; i < digits; ++i) power *= 10;
          if (raw > INT64_MIN && raw <= INT64_MAX) {
            return wrap(fmt::format("mul_constant<{}LL, {}LL>(c, {})", static_cast<int64_t>(raw), static_cast<int64_t>(power), num(x)));
          }
        }
        return wrap(fmt::format("({{ I a_ = {}; I b_ = {}; mul(c, a_, b_); }})", num(n.a), num(n.b)));
      }
      case Op::div:  // (as the interpreter: both operands, then the quotient)
        return wrap(fmt::format("({{ I a_ = {}.n; I b_ = {}.n; divide(c, a_, b_); }})", val(n.a), val(n.b)));
      case Op::neg: return wrap(fmt::format("neg({})", val(n.a) + ".n"));
      case Op::abs: return wrap(fmt::format("({{ I a_ = {}.n; a_ < 0 ? neg(a_) : a_; }})", val(n.a)));
      case Op::cmp_num:
        return flag(fmt::format("({{ I a_ = {}; I b_ = {}; a_ {} b_; }})", num(n.a), num(n.b), comparison(n.cmp)));
      case Op::cmp_text:
        return flag(fmt::format("({{ std::string_view a_ = {}.s; std::string_view b_ = {}.s; a_ {} b_; }})", val(n.a), val(n.b),
                                comparison(n.cmp)));
      case Op::and_: return flag(fmt::format("({} != 0 && {} != 0)", num(n.a), num(n.b)));
      case Op::or_: return flag(fmt::format("({} != 0 || {} != 0)", num(n.a), num(n.b)));
      case Op::not_: return flag(fmt::format("({} == 0)", num(n.a)));
      case Op::present: return flag(fmt::format("(!missing(c, {}) != {})", val(n.a), n.negated ? "true" : "false"));
      case Op::coalesce: {
        std::string b = val(n.b);
        if (as_number) return fmt::format("({{ Value a_ = {}; missing(c, a_) ? {}.n : a_.n; }})", val(n.a), b);
        return fmt::format("({{ Value a_ = {}; missing(c, a_) ? Value({}) : a_; }})", val(n.a), b);
      }
      case Op::in_set: {
        const eval::ConstSet& set = p_.sets[n.index];
        if (!set.text && set.numbers.empty() && set.mask != 0) {
          return flag(fmt::format("({{ I v_ = {}.n; (v_ >= 0 && v_ < 128 && ((({}) >> static_cast<int>(v_)) & 1)) != {}; }})", val(n.a),
                                  int128_literal(set.mask), n.negated ? "true" : "false"));
        }
        return flag(fmt::format("({{ const Value& v_ = {}; (c.host->set_contains(c.host_state, {}, &v_) != 0) != {}; }})", val(n.a),
                                n.index, n.negated ? "true" : "false"));
      }
      case Op::set_has: {
        return flag(fmt::format("({{ I s_ = {}.n; I x_ = {}.n; (x_ >= 0 && x_ < 128 && ((s_ >> static_cast<int>(x_)) & 1)) != {}; }})",
                                val(n.a), val(n.b), n.negated ? "true" : "false"));
      }
      case Op::set_has_bit:
        return flag(fmt::format("((((({}).n >> {}) & 1) != 0) != {})", val(n.a), n.index, n.negated ? "true" : "false"));
      case Op::text_contains:
        return flag(fmt::format("({{ std::string_view a_ = {}.s; std::string_view b_ = {}.s; a_.find(b_) != std::string_view::npos; }})",
                                val(n.a), val(n.b)));
      case Op::starts_with:
        return flag(fmt::format("({{ std::string_view a_ = {}.s; std::string_view b_ = {}.s; a_.starts_with(b_); }})", val(n.a), val(n.b)));
      case Op::min:
      case Op::max: {
        std::string out = fmt::format("({{ Value best_ = {};", val(p_.args[n.index]));
        for (int32_t i = 1; i < n.count; ++i) {
          out += fmt::format(" {{ Value v_ = {}; if (v_.n {} best_.n) best_ = v_; }}", val(p_.args[n.index + i]), n.op == Op::min ? "<" : ">");
        }
        out += as_number ? " best_.n; })" : " best_; })";
        return out;
      }
      default: return "(bail(), I(0))";  // not reached: unsupported_node refuses it
    }
  }

  // A field is read in place: the frame comes bound (Library::evaluate),
  // every required field present and every absent optional one holding the
  // missing value.
  void field_function(std::string& out, int32_t s) {
    out += fmt::format("inline const Value& S{0}(Context& c) {{ return c.slots[{0}]; }}  // {1}\n", s, p_.fields[s].name);
  }

  // A plan item's conditional plans that can apply to some leaf, in file
  // order; `branchless` when each condition only compares values at hand and
  // each value is a constant, and so is each leaf's value from the tree.
  struct Setting {
    std::string leaves;  // the leaf test, "" when under every leaf
    const eval::ConditionalSetting* setting;
  };
  std::vector<Setting> plan_settings(const eval::Derived& d, bool& branchless) const {
    std::vector<Setting> settings;
    branchless = true;
    for (const auto& setting : d.conditional) {
      const eval::PlanCondition& pc = p_.plan_conditions[setting.plan];
      Setting one{"", &setting};
      if (!pc.leaves.empty()) {
        for (size_t leaf = 0; leaf < pc.leaves.size(); ++leaf) {
          if (!pc.leaves[leaf]) continue;
          one.leaves += fmt::format("{}leaf == {}", one.leaves.empty() ? "" : " || ", leaf);
        }
        if (one.leaves.empty()) continue;  // under no leaf: never applies
      }
      branchless = branchless && cheap(pc.condition) && p_.nodes[setting.value].op == Op::constant;
      settings.push_back(one);
    }
    branchless = branchless && settings.size() <= 64;
    for (int32_t node : d.by_leaf) branchless = branchless && (node < 0 || p_.nodes[node].op == Op::constant);
    return settings;
  }

  // The plan items whose plans are all constants under conditions over
  // values at hand, computed together in one function `plans` (each
  // distinct list of conditional plans tested once for all its items):
  // the service plan of a customer costs a few stores per item. Such an
  // item asked for alone is computed by `plans` too. None is, when a
  // condition reads a plan item (`plans` would then ask for itself).
  void choose_sweep() {
    swept_.assign(p_.derived.size(), 0);
    std::set<int32_t> reads;
    for (size_t i = 0; i < p_.derived.size(); ++i) {
      const eval::Derived& d = p_.derived[i];
      if (!written_[i] || d.kind != DerivedKind::plan_item) continue;
      bool branchless = false;
      auto settings = plan_settings(d, branchless);
      if (!branchless) continue;
      for (const auto& one : settings) slots_read(p_.plan_conditions[one.setting->plan].condition, reads);
      swept_[i] = 1;
    }
    for (int32_t slot : reads) {
      if (slot >= n_fields_ && p_.derived[slot - n_fields_].kind == DerivedKind::plan_item) swept_.assign(p_.derived.size(), 0);
    }
  }

  // Writes `plans` (see choose_sweep); false when no item is swept.
  bool plan_sweep(std::string& out) {
    std::vector<int32_t> items;
    std::vector<std::vector<Setting>> item_settings;
    std::vector<std::vector<int32_t>> lists;  // distinct lists of conditional plans
    std::vector<size_t> list_of;              // per item
    std::set<int32_t> reads;
    for (size_t i = 0; i < p_.derived.size(); ++i) {
      if (!swept_[i]) continue;
      bool unused = false;
      item_settings.push_back(plan_settings(p_.derived[i], unused));
      std::vector<int32_t> plans;
      for (const auto& one : item_settings.back()) {
        plans.push_back(one.setting->plan);
        slots_read(p_.plan_conditions[one.setting->plan].condition, reads);
      }
      size_t k = std::find(lists.begin(), lists.end(), plans) - lists.begin();
      if (k == lists.size()) lists.push_back(plans);
      items.push_back(static_cast<int32_t>(i));
      list_of.push_back(k);
    }
    if (items.empty()) return false;
    out += "// The service plan's items with constant plans, all at once.\n[[gnu::noinline]] void plans(Context& c) {\n";
    out += p_.segment_slot >= 0 ? fmt::format("  int32_t leaf = static_cast<int32_t>(S{}(c).n);\n", p_.segment_slot)
                                : "  int32_t leaf = -1;\n";
    for (int32_t slot : reads) out += fmt::format("  const Value& x{0} = S{0}(c);\n", slot);
    held_ = reads;
    for (size_t g = 0; g < lists.size(); ++g) {
      out += fmt::format("  uint64_t m{} = 0;\n", g);
      for (size_t k = 0; k < lists[g].size(); ++k) {
        const eval::PlanCondition& pc = p_.plan_conditions[lists[g][k]];
        std::string leaves;
        for (size_t leaf = 0; leaf < pc.leaves.size(); ++leaf) {
          if (pc.leaves[leaf]) leaves += fmt::format("{}(leaf == {})", leaves.empty() ? "" : " | ", leaf);
        }
        out += fmt::format("  m{} |= static_cast<uint64_t>({}({} != 0)) << {};\n", g, leaves.empty() ? "" : "(" + leaves + ") & ",
                           num(pc.condition), k);
      }
      out += fmt::format("  int32_t k{0} = m{0} ? __builtin_ctzll(m{0}) : -1;\n", g);
    }
    held_.clear();
    for (size_t j = 0; j < items.size(); ++j) {
      const eval::Derived& d = p_.derived[items[j]];
      int32_t s = n_fields_ + items[j];
      std::string values, by_leaf;
      for (const auto& one : item_settings[j]) values += fmt::format("{}, ", one.setting->value);
      for (int32_t node : d.by_leaf) by_leaf += fmt::format("{}, ", node);
      out += fmt::format("  if (c.state[{0}] != 2) {{  // {1}\n"
                         "    static constexpr int32_t values[] = {{{2}-1}}, by_leaf[] = {{{3}-1}};\n"
                         "    int32_t node = k{4} >= 0 ? values[k{4}] : leaf >= 0 && leaf < {5} ? by_leaf[leaf] : -1;\n"
                         "    c.slots[{0}] = *(node >= 0 ? &c.constants[node] : c.missing);\n"
                         "    c.state[{0}] = 2;\n  }}\n",
                         s, d.name, values, by_leaf, list_of[j], d.by_leaf.size());
    }
    out += "}\n";
    return true;
  }

  // The slots a node reads.
  void slots_read(int32_t index, std::set<int32_t>& out) const {
    const Node& n = p_.nodes[index];
    if (n.op == Op::field || n.op == Op::derived) {
      out.insert(n.index);
      return;
    }
    for (int32_t o : {n.a, n.b}) if (o >= 0) slots_read(o, out);
  }

  // Whether a condition only compares values already at hand (no
  // arithmetic, no call back): then it is evaluated where it is needed
  // rather than remembered per customer.
  bool cheap(int32_t index) const {
    const Node& n = p_.nodes[index];
    switch (n.op) {
      case Op::constant: case Op::field: case Op::derived: return true;
      case Op::cmp_num: case Op::and_: case Op::or_: return cheap(n.a) && cheap(n.b);
      case Op::not_: case Op::present: case Op::set_has_bit: return cheap(n.a);
      case Op::in_set: {
        const eval::ConstSet& set = p_.sets[n.index];
        return !set.text && set.numbers.empty() && set.mask != 0 && cheap(n.a);
      }
      default: return false;
    }
  }

  void derived_function(std::string& out, int32_t i) {
    const eval::Derived& d = p_.derived[i];
    int32_t s = n_fields_ + i;
    out += fmt::format("// {}\n", d.name);
    if (!written_[i]) {
      out += fmt::format("inline const Value& S{0}(Context& c) {{\n  if (c.state[{0}] == 2) return c.slots[{0}];\n"
                         "  return interpreted(c, {0});\n}}\n",
                         s);
      return;
    }
    if (swept_[i]) {
      out += fmt::format("[[gnu::noinline]] const Value& compute{0}(Context& c) {{\n  plans(c);  // with the plan's other such items\n"
                         "  return c.slots[{0}];\n}}\n"
                         "inline const Value& S{0}(Context& c) {{\n  if (c.state[{0}] == 2) return c.slots[{0}];\n  return compute{0}(c);\n}}\n",
                         s);
      return;
    }
    out += fmt::format("[[gnu::noinline]] const Value& compute{0}(Context& c) {{\n  if (c.state[{0}] == 1) bail();\n  c.state[{0}] = 1;\n  Value r;\n",
                       s);
    switch (d.kind) {
      case DerivedKind::let: out += fmt::format("  r = {};\n", val(d.node)); break;
      case DerivedKind::decide: {
        std::string done = fmt::format("done{}", labels_++);
        for (const auto& b : d.branches) {
          std::string taken = b.result < 0 ? "bail();" : fmt::format("r = {}; goto {};", val(b.result), done);
          if (b.condition < 0) {
            out += fmt::format("  {{ {} }}\n", taken);
          } else {
            out += fmt::format("  if ({} != 0) {{ {} }}\n", num(b.condition), taken);
          }
        }
        out += "  bail();  // no branch applies\n" + done + ":\n";
        break;
      }
      case DerivedKind::segment: {
        std::string done = fmt::format("done{}", labels_++);
        for (size_t k = 0; k < p_.segment_nodes.size(); ++k) {
          const eval::SegmentNode& sn = p_.segment_nodes[k];
          out += fmt::format("node{}_{}:  // {}\n", s, k, sn.name);
          if (sn.leaf >= 0) {
            out += fmt::format("  r = number({});\n  goto {};\n", sn.leaf, done);
            continue;
          }
          for (const auto& [condition, child] : sn.branches) {
            if (condition < 0) {
              out += fmt::format("  goto node{}_{};\n", s, child);
            } else {
              out += fmt::format("  if ({} != 0) goto node{}_{};\n", num(condition), s, child);
            }
          }
          out += "  bail();  // no branch applies\n";
        }
        out += done + ":\n";
        break;
      }
      case DerivedKind::plan_item: {
        std::string done = fmt::format("done{}", labels_++);
        out += p_.segment_slot >= 0 ? fmt::format("  int32_t leaf = static_cast<int32_t>(S{}(c).n);\n", p_.segment_slot)
                                    : "  int32_t leaf = -1;\n";
        // The values the plans' conditions compare, each read once (the
        // conditions are tried one after another on the same few values).
        std::set<int32_t> reads;
        for (const auto& setting : d.conditional) {
          int32_t condition = p_.plan_conditions[setting.plan].condition;
          if (cheap(condition)) slots_read(condition, reads);
        }
        for (int32_t slot : reads) out += fmt::format("  const Value& x{0} = S{0}(c);\n", slot);
        held_ = reads;
        bool unused = false;
        std::vector<Setting> settings = plan_settings(d, unused);
        for (const auto& one : settings) {
          const eval::PlanCondition& pc = p_.plan_conditions[one.setting->plan];
          std::string where = one.leaves.empty() ? "" : "(" + one.leaves + ") && ";
          if (cheap(pc.condition)) {
            out += fmt::format("  if ({}{} != 0) {{ r = {}; goto {}; }}\n", where, num(pc.condition), val(one.setting->value), done);
          } else {
            out += fmt::format("  if ({}({{ int8_t& h_ = c.plan_conditions[{}]; if (h_ < 0) h_ = {} != 0 ? 1 : 0; h_; }})) {{ r = {}; goto {}; }}\n",
                               where, one.setting->plan, num(pc.condition), val(one.setting->value), done);
          }
        }
        held_.clear();
        bool constant_by_leaf = true;
        for (int32_t node : d.by_leaf) constant_by_leaf = constant_by_leaf && (node < 0 || p_.nodes[node].op == Op::constant);
        if (constant_by_leaf && !d.by_leaf.empty()) {
          // the tree's plans: a constant per leaf (or none), read from a list by leaf
          std::string list;
          for (int32_t node : d.by_leaf) list += fmt::format("{}{}", list.empty() ? "" : ", ", node);
          out += fmt::format("  {{\n    static constexpr int32_t by_leaf[] = {{{}}};\n"
                             "    int32_t k = leaf >= 0 && leaf < {} ? by_leaf[leaf] : -1;\n"
                             "    r = *(k >= 0 ? &c.constants[k] : c.missing);\n  }}\n",
                             list, d.by_leaf.size());
        } else {
          out += "  switch (leaf) {\n";
          for (size_t leaf = 0; leaf < d.by_leaf.size(); ++leaf) {
            if (d.by_leaf[leaf] >= 0) out += fmt::format("    case {}: r = {}; break;\n", leaf, val(d.by_leaf[leaf]));
          }
          out += "    default: r = *c.missing; break;\n  }\n";
        }
        out += done + ":\n";
        break;
      }
      case DerivedKind::table: {
        const eval::Table& t = p_.tables[d.table];
        std::string done = fmt::format("done{}", labels_++);
        if (t.propagate_missing) {
          // a grid over optional values: missing in, missing out
          std::string any;
          for (int32_t column : t.columns) any += fmt::format("{}missing(c, {})", any.empty() ? "" : " || ", val(column));
          out += fmt::format("  if ({}) {{ r = *c.missing; goto {}; }}\n", any, done);
        }
        bool constants = true;
        for (const auto& row : t.rows) constants = constants && p_.nodes[row.outputs[d.column]].op == Op::constant;
        if (constants) {
          // every result a constant: read from a list by row, not by a jump
          std::string list;
          for (const auto& row : t.rows) list += fmt::format("{}{}", list.empty() ? "" : ", ", row.outputs[d.column]);
          out += fmt::format("  {{\n    static constexpr int32_t results[] = {{{}}};\n    int32_t h = row{}(c);\n", list, d.table);
          out += "    if (h >= 0) {\n      r = c.constants[results[h]];\n    }";
          if (t.has_else) out += fmt::format(" else if (h == -3) {{\n      r = {};\n    }}", val(t.else_outputs[d.column]));
          out += " else {\n      bail();  // no row matches\n    }\n  }\n" + done + ":\n";
        } else {
          out += fmt::format("  switch (row{}(c)) {{\n", d.table);
          if (t.has_else) out += fmt::format("    case -3: r = {}; break;\n", val(t.else_outputs[d.column]));
          for (size_t row = 0; row < t.rows.size(); ++row) {
            out += fmt::format("    case {}: r = {}; break;\n", row, val(t.rows[row].outputs[d.column]));
          }
          out += "    default: bail();  // no row matches\n  }\n" + done + ":\n";
        }
        break;
      }
      default: out += "  bail();\n"; break;  // not reached: unsupported_derived refuses it
    }
    out += fmt::format("  c.slots[{0}] = r;\n  c.state[{0}] = 2;\n  return c.slots[{0}];\n}}\n", s);
    out += fmt::format("inline const Value& S{0}(Context& c) {{\n  if (c.state[{0}] == 2) return c.slots[{0}];\n  return compute{0}(c);\n}}\n", s);
  }
};

}  // namespace

Generated generate(const Program& program) {
  // Written-out values compute one another without the interpreter's count
  // of nesting (eval::kMaxNesting); fewer values than that cannot nest deeper.
  if (program.derived.size() >= static_cast<size_t>(eval::kMaxNesting)) {
    throw std::runtime_error(fmt::format("not yet supported: rules with {} or more computed values ({} here)", eval::kMaxNesting,
                                         program.derived.size()));
  }
  // A capacity limit moves customers after they are decided and computes
  // their plan again over the values already in the frame; the library
  // computes some values the interpreter would not have needed yet, which
  // would then be those of the customer's first leaf.
  if (!program.capacities.empty()) {
    throw std::runtime_error(fmt::format("not yet supported: rules with capacity limits (`capacity {}`)", program.capacities[0].node));
  }
  return Generator(program).run();
}

}  // namespace stratum::native
