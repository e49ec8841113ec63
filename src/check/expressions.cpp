// Checker, expressions: each expression resolved and typed where it stands
// (names, enum values, units, sets, calls, operators), with the facts the
// surrounding conditions establish about optional values.
#include "check/checker.hpp"
#include "syntax/format.hpp"

#include <algorithm>

#include <set>

#include <fmt/format.h>

namespace stratum::checking {

// ---- expressions ------------------------------------------------------------

bool Checker::is_constant(const Expr& e) {
  switch (e.kind) {
    case ExprKind::number: case ExprKind::text: case ExprKind::boolean: case ExprKind::date:
      return true;
    case ExprKind::name: return e.ref == RefKind::enum_value;
    case ExprKind::negate: return is_constant(*e.args[0]);
    case ExprKind::binary: {
      // a duration of months and days: `1 month + 10 days`
      auto duration = [](const Expr& x) {
        using U = ast::Unit;
        const Expr& n = x.kind == ExprKind::negate ? *x.args[0] : x;
        return n.kind == ExprKind::number && (n.unit == U::years || n.unit == U::months || n.unit == U::weeks || n.unit == U::days);
      };
      return (e.op == BinaryOp::add || e.op == BinaryOp::sub) && duration(*e.args[0]) && duration(*e.args[1]);
    }
    case ExprKind::set:
      return e.loaded || std::all_of(e.args.begin(), e.args.end(), [](auto& a) { return is_constant(*a); });
    default: return false;
  }
}

void Checker::require_value(Typed& t, const Expr& e) {
  if (!t.maybe_missing) return;
  t.maybe_missing = false;
  std::string name = e.kind == ExprKind::name ? e.text : "this value";
  std::string hint = e.kind == ExprKind::name
                         ? fmt::format("guard it in the same condition (`{0} is present and …`) or give a default (`{0} ?? …`)", e.text)
                         : "guard the optional fields it uses with `is present`, or give a default with `??`";
  auto& d = diags_.error("unguarded-optional", e.span, fmt::format("`{}` may be missing here", name));
  d.notes.push_back({hint, {}});
}

bool Checker::compatible(const Type& got, const Type& want) const {
  if (got.is_error() || want.is_error()) return true;
  if (got == want) return true;
  if (got.is_set != want.is_set) return false;
  // int widens to decimal; a duration in one unit to one of months and days
  return (got.base == BaseType::int_ && want.base == BaseType::decimal) ||
         (got.is_duration() && want.base == BaseType::duration && !want.is_set);
}

void Checker::expect_type(const Type& got, const Type& want, const Expr& e, const std::string& where) {
  if (compatible(got, want)) return;
  auto& d = diags_.error("type-mismatch", e.span,
                         fmt::format("type mismatch: {} is {}, this is {}", where, m_.type_name(want), m_.type_name(got)));
  unit_hint(d, got, want, e);
}

void Checker::unit_hint(Diagnostic& d, const Type& got, const Type& want, const Expr& e) const {
  if (want.base == BaseType::money && got.is_numeric() && e.kind == ExprKind::number) {
    d.notes.push_back({fmt::format("money needs a unit: write `{0}元`, `{0}万` or `{0}亿`", e.number.to_string()), {}});
  } else if (got.base == BaseType::money && want.is_numeric()) {
    d.notes.push_back({"amounts of money (万/亿/元) cannot be compared with counts or ratios", {}});
  } else if (want.is_duration() && got.base == BaseType::text && !got.is_set && e.kind == ExprKind::text) {
    bool looks = !e.text.empty() && e.text.front() >= '0' && e.text.front() <= '9';
    d.notes.push_back({looks ? fmt::format("a duration is written without quotes: `{}`", e.text)
                             : std::string("durations are written `3 months`, `1 year`, `2 weeks`, `30 days` (or `6个月`, `2周`)"),
                       {}});
  } else if (want.is_duration() && got.is_numeric() && e.kind == ExprKind::number) {
    std::string n = e.number.to_string(), s = n == "1" ? "" : "s";
    d.notes.push_back({fmt::format("a duration needs a unit: write `{0} month{1}`, `{0} week{1}` or `{0} day{1}`", n, s), {}});
  } else if (want.is_duration() && got.is_duration()) {
    d.notes.push_back({want.base == BaseType::days ? "this is a duration in days: write it in days or weeks (a month is 28 to 31 days)"
                                                   : "this is a duration in months: write it in months or years (a month is 28 to 31 days)",
                       {}});
  }
}

// Comparing a value of type `left` with `right` (==, <, …).
void Checker::compare_types(const Type& left, const Type& right, const Expr& at, const std::string& what, BinaryOp op) {
  if (left.is_error() || right.is_error()) return;
  bool ok = left == right || (left.is_numeric() && right.is_numeric());
  bool ordering = op != BinaryOp::eq && op != BinaryOp::ne;
  if (left.is_duration() && right.is_duration() && !(left == right)) {
    if (!ordering) return;  // 1 month == 4 weeks is false, as it is on every calendar
    bool mixed = left.base == BaseType::duration || right.base == BaseType::duration;
    auto& d = diags_.error("type-mismatch", at.span,
                           fmt::format("{} is a {}, `{}` is a {}: {}", what, m_.type_name(left), source_text(at), m_.type_name(right),
                                       mixed ? "a duration that may hold months and days has no order"
                                             : "durations in months and in days have no order"));
    d.notes.push_back({"a month is 28 to 31 days: compare in one unit (`90 days` or `3 months`), or compare dates "
                       "(e.g. `开户日期 <= today - 3 months`)", {}});
    return;
  }
  if (ok && ordering && !left.is_ordered()) {
    diags_.error("type-mismatch", at.span, fmt::format("{} is {}, which has no order: use == or !=", what, m_.type_name(left)));
    return;
  }
  if (!ok) {
    auto& d = diags_.error("type-mismatch", at.span,
                           fmt::format("type mismatch: {} is {}, `{}` is {}", what, m_.type_name(left),
                                       source_text(at), m_.type_name(right)));
    unit_hint(d, right, left, at);
  }
}

// The text of an expression, from the file it is written in (an imported
// file's expressions are checked along with the importing file's).
std::string Checker::source_text(const Expr& e) const {
  if (!sources_ || e.span.file == 0) return "";
  const std::string& text = sources_->file(e.span.file).text();
  Span s = balanced_span(text, e.span);
  return text.substr(s.begin, s.end - s.begin);
}

uint32_t Checker::line_of(Span span) const { return sources_ && span.file ? sources_->file(span.file).line_col(span.begin).line : 0; }

Facts Checker::facts_when(const Expr& e, bool truth) const {
  Facts f;
  if (e.kind == ExprKind::presence && e.negated != truth && e.args[0]->kind == ExprKind::name) {
    f.present.push_back({e.args[0]->ref, e.args[0]->ref_index});
  } else if (e.kind == ExprKind::not_) {
    f = facts_when(*e.args[0], !truth);
  } else if (e.kind == ExprKind::binary && ((e.op == BinaryOp::and_ && truth) || (e.op == BinaryOp::or_ && !truth))) {
    f = facts_when(*e.args[0], truth);
    f.add(facts_when(*e.args[1], truth));
  }
  return f;
}

Typed Checker::error_typed() { return {}; }

// A bare name that is not a field/let/decision but is some enum's value.
bool Checker::is_enum_candidate(const Expr& e) const {
  return e.kind == ExprKind::name && e.qualifier.empty() && !symbols_.count(e.text) && enum_members_.count(e.text);
}

bool Checker::is_enum_set_candidate(const Expr& e) const {
  return e.kind == ExprKind::set && !e.args.empty() &&
         std::all_of(e.args.begin(), e.args.end(), [&](auto& a) { return is_enum_candidate(*a); });
}

void Checker::depend_on(int32_t node, Span at) {
  if (current_node_ >= 0) deps_[current_node_].push_back({node, at});
}

Typed Checker::name(Expr& e, const Type* expected, const Facts& facts) {
  // 评分卡.因子: a scorecard factor's points
  if (!e.qualifier.empty() && scorecard_index_.count(e.qualifier)) {
    const ScorecardInfo& sc = m_.scorecards[scorecard_index_.at(e.qualifier)];
    for (size_t k = 0; k < sc.decl->factors.size(); ++k) {
      if (sc.decl->factors[k].name == e.text) {
        e.ref = RefKind::factor;
        e.ref_index = sc.first_factor + static_cast<int32_t>(k);
        depend_on(decision_node(sc.decision), e.span);
        e.type = Type::of(BaseType::decimal);
        return {e.type, false};
      }
    }
    diags_.error("unknown-name", e.span, fmt::format("scorecard `{}` has no factor `{}`", e.qualifier, e.text));
    return error_typed();
  }
  // 行业.工业
  if (!e.qualifier.empty()) {
    auto it = enum_index_.find(e.qualifier);
    if (it == enum_index_.end()) {
      diags_.error("unknown-name", e.span, fmt::format("`{}` is not an enum", e.qualifier));
      return error_typed();
    }
    return enum_value(e, it->second);
  }
  if (expected && expected->base == BaseType::enum_ && expected->enum_id >= 0 &&
      m_.enums[expected->enum_id].codes.count(e.text)) {
    return enum_value(e, expected->enum_id);
  }
  if (auto it = symbols_.find(e.text); it != symbols_.end()) {
    Symbol s = it->second;
    switch (s.kind) {
      case SymbolKind::field: {
        const FieldInfo& f = m_.fields[s.index];
        e.ref = RefKind::field;
        e.ref_index = s.index;
        e.type = f.type;
        return {f.type, f.optional && !facts.has(RefKind::field, s.index)};
      }
      case SymbolKind::let: {
        e.ref = RefKind::let;
        e.ref_index = s.index;
        depend_on(s.index, e.span);
        if (let_state_[s.index] == 0) check_let(s.index);
        const LetInfo& l = m_.lets[s.index];
        e.type = l.type;
        return {l.type, l.maybe_missing && !facts.has(RefKind::let, s.index)};
      }
      case SymbolKind::decision: {
        e.ref = RefKind::decision;
        e.ref_index = s.index;
        depend_on(decision_node(s.index), e.span);
        e.type = m_.decisions[s.index].type;
        if (e.type.is_list) {
          diags_.error("unsupported-type", e.span,
                       fmt::format("`{}` is a list (the results of a `{}` table): a list is an output, not a value to compute with",
                                   e.text, "rule order/output order"));
          e.type = {};
          return {e.type, false};
        }
        return {e.type, m_.decisions[s.index].maybe_missing && !facts.has(RefKind::decision, s.index)};
      }
    }
  }
  if (auto it = enum_members_.find(e.text); it != enum_members_.end()) {
    if (expected && expected->base == BaseType::enum_ && expected->enum_id >= 0) {
      // A value of another enum where this one is expected.
      return unknown_enum_value(e, expected->enum_id);
    }
    if (it->second.size() == 1) return enum_value(e, it->second[0]);
    auto& d = diags_.error("ambiguous-name", e.span, fmt::format("`{}` is a value of several enums", e.text));
    for (int32_t id : it->second) d.notes.push_back({fmt::format("write `{}.{}` to mean enum `{}`'s", m_.enums[id].name, e.text, m_.enums[id].name), {}});
    return error_typed();
  }
  if (expected && expected->base == BaseType::enum_ && expected->enum_id >= 0) return unknown_enum_value(e, expected->enum_id);
  std::vector<std::string> names;
  for (auto& [n, _] : symbols_) names.push_back(n);
  std::sort(names.begin(), names.end());
  auto& d = diags_.error("unknown-name", e.span, fmt::format("unknown name `{}`", e.text));
  // Where a type is expected (a threshold compared with an amount), a name of that type is the likelier.
  auto fits = [&](const std::string& n) {
    if (!expected) return false;
    const Symbol& s = symbols_.at(n);
    const Type& t = s.kind == SymbolKind::field ? m_.fields[s.index].type : s.kind == SymbolKind::let ? m_.lets[s.index].type
                                                                                                     : m_.decisions[s.index].type;
    return compatible(t, *expected);
  };
  if (auto hint = closest(e.text, names, fits); !hint.empty()) d.notes.push_back({fmt::format("did you mean `{}`?", hint), {}});
  return error_typed();
}

Typed Checker::enum_value(Expr& e, int32_t enum_id) {
  const EnumInfo& info = m_.enums[enum_id];
  auto it = info.codes.find(e.text);
  if (it == info.codes.end()) return unknown_enum_value(e, enum_id);
  e.ref = RefKind::enum_value;
  e.ref_index = it->second;
  e.type = Type::enum_of(enum_id);
  return {e.type, false};
}

Typed Checker::unknown_enum_value(Expr& e, int32_t enum_id) {
  const EnumInfo& info = m_.enums[enum_id];
  auto& d = diags_.error("unknown-enum-value", e.span, fmt::format("`{}` is not a value of enum `{}`", e.text, info.name));
  if (auto hint = closest(e.text, info.members); !hint.empty()) {
    d.notes.push_back({fmt::format("did you mean `{}`?", hint), {}});
  } else {
    std::string all;
    for (auto& m : info.members) all += (all.empty() ? "" : ", ") + m;
    d.notes.push_back({fmt::format("its values are: {}", all), {}});
  }
  return error_typed();
}

Typed Checker::number(Expr& e) {
  using U = ast::Unit;
  auto whole = [&](const char* what) {
    if (!e.number.is_integer()) {
      diags_.error("not-whole", e.span, fmt::format("{} must be a whole number", what));
    }
  };
  // Durations are whole days or months within the calendar's range: a
  // larger one is refused here, never wrapped around.
  auto bounded = [&](int64_t factor, int64_t limit, const char* what) {
    Decimal limit_d = Decimal::from_int(limit / factor);
    if (e.number > limit_d || e.number < -limit_d) {
      diags_.error("out-of-range", e.span, fmt::format("a duration is at most {} {}{}", limit / factor, what,
                                                        std::string_view(what) == "years" ? "" : " (about 8,000 years)"));
      e.number = Decimal{};
      return;
    }
    e.number = e.number * Decimal::from_int(factor);
  };
  switch (e.unit) {
    case U::none: e.type = Type::of(e.number.is_integer() ? BaseType::int_ : BaseType::decimal); break;
    case U::percent: e.type = Type::of(BaseType::decimal); break;
    case U::yuan: case U::wan_yuan: case U::yi_yuan: e.type = Type::of(BaseType::money); break;
    case U::count: whole("a count"); e.type = Type::of(BaseType::int_); break;
    case U::years: whole("a number of years"); bounded(12, kMaxDurationMonths, "years"); e.type = Type::of(BaseType::months); break;
    case U::months: whole("a number of months"); bounded(1, kMaxDurationMonths, "months"); e.type = Type::of(BaseType::months); break;
    case U::weeks: whole("a number of weeks"); bounded(7, kMaxDurationDays, "weeks"); e.type = Type::of(BaseType::days); break;
    case U::days: whole("a number of days"); bounded(1, kMaxDurationDays, "days"); e.type = Type::of(BaseType::days); break;
  }
  return {e.type, false};
}

Typed Checker::expr(Expr& e, const Type* expected, const Facts& facts) {
  Typed t = expr_inner(e, expected, facts);
  e.type = t.type;
  return t;
}

Typed Checker::value(Expr& e, const Type* expected, const Facts& facts) {
  Typed t = expr(e, expected, facts);
  require_value(t, e);
  return t;
}

Typed Checker::expr_inner(Expr& e, const Type* expected, const Facts& facts) {
  switch (e.kind) {
    case ExprKind::number: return number(e);
    case ExprKind::text: return {Type::of(BaseType::text), false};
    case ExprKind::boolean: return {Type::of(BaseType::boolean), false};
    case ExprKind::date: return {Type::of(BaseType::date), false};
    case ExprKind::today: m_.uses_today = true; return {Type::of(BaseType::date), false};
    case ExprKind::name: return name(e, expected, facts);
    case ExprKind::set: return set(e, expected, facts);
    case ExprKind::call: return call(e, facts);
    case ExprKind::negate: {
      Typed a = value(*e.args[0], expected, facts);
      if (!a.type.is_error() && !(a.type.is_number_like() || a.type.is_duration())) {
        diags_.error("type-mismatch", e.span, fmt::format("cannot negate {}", m_.type_name(a.type)));
        return error_typed();
      }
      return {a.type, false};
    }
    case ExprKind::not_: {
      Typed a = value(*e.args[0], nullptr, facts);
      expect_type(a.type, Type::of(BaseType::boolean), *e.args[0], "the operand of `not`");
      return {Type::of(BaseType::boolean), false};
    }
    case ExprKind::presence: {
      Expr& x = *e.args[0];
      Typed a = expr(x, nullptr, Facts{});
      if (x.kind != ExprKind::name || (x.ref != RefKind::field && x.ref != RefKind::let && x.ref != RefKind::decision)) {
        diags_.error("not-optional", x.span, "`is present` applies to an optional field, or a `let` or grid that may be missing");
      } else if (!a.type.is_error() && !a.maybe_missing) {
        diags_.warning("never-missing", x.span, fmt::format("`{}` is never missing, so this test is always {}", x.text, e.negated ? "false" : "true"));
      }
      return {Type::of(BaseType::boolean), false};
    }
    case ExprKind::empty: {
      Typed a = value(*e.args[0], nullptr, facts);
      if (!a.type.is_error() && !a.type.is_set) {
        diags_.error("type-mismatch", e.args[0]->span,
                     fmt::format("`is empty` tests a set or a list, this is {} (a text: `== \"\"`)", m_.type_name(a.type)));
      }
      return {Type::of(BaseType::boolean), false};
    }
    case ExprKind::in: {
      Expr& x = *e.args[0];
      Expr& s = *e.args[1];
      Typed a, b;
      if (is_enum_candidate(x) && !is_enum_set_candidate(s)) {
        b = value(s, nullptr, facts);
        Type elem = b.type.element();
        a = value(x, &elem, facts);
      } else {
        a = value(x, nullptr, facts);
        Type want = a.type.as_set();
        b = value(s, &want, facts);
      }
      membership(a.type, b.type, e, s);
      return {Type::of(BaseType::boolean), false};
    }
    case ExprKind::contains: {
      Expr& s = *e.args[0];
      Expr& x = *e.args[1];
      Typed b = value(s, nullptr, facts);
      if (!b.type.is_error() && !b.type.is_set && b.type.base == BaseType::text) {
        Typed a = value(x, nullptr, facts);
        expect_type(a.type, Type::of(BaseType::text), x, "the text searched for");
        return {Type::of(BaseType::boolean), false};
      }
      Type elem = b.type.element();
      Typed a = value(x, b.type.is_error() ? nullptr : &elem, facts);
      membership(a.type, b.type, e, s);
      return {Type::of(BaseType::boolean), false};
    }
    case ExprKind::binary: return binary(e, expected, facts);
    case ExprKind::load:
      return error_typed();  // the loader replaced it, or reported why it could not
    case ExprKind::missing:
      return error_typed();  // only a table's result cell, handled there
  }
  return error_typed();
}

void Checker::membership(const Type& item, const Type& set, const Expr& e, const Expr& set_expr) {
  if (item.is_error() || set.is_error()) return;
  if (!set.is_set) {
    diags_.error("type-mismatch", set_expr.span, fmt::format("expected a set, this is {}", m_.type_name(set)));
    return;
  }
  if (!(item == set.element() || (item.is_numeric() && set.element().is_numeric()) || (item.is_duration() && set.element().is_duration()))) {
    diags_.error("type-mismatch", e.span,
                 fmt::format("type mismatch: {} cannot be in {}", m_.type_name(item), m_.type_name(set)));
  }
}

Typed Checker::set(Expr& e, const Type* expected, const Facts& facts) {
  if (e.loaded) return {Type::of(BaseType::text).as_set(), false};  // reference data: texts
  Type elem_expected;
  const Type* ep = nullptr;
  if (expected && expected->is_set) { elem_expected = expected->element(); ep = &elem_expected; }
  Type elem;
  bool first = true;
  for (auto& a : e.args) {
    if (ep && ep->base == BaseType::enum_ && ep->enum_id >= 0 && a->kind == ExprKind::name &&
        a->qualifier.empty() && !m_.enums[ep->enum_id].codes.count(a->text)) {
      // In a set of enum values, a name that is not one is a misspelt value.
      unknown_enum_value(*a, ep->enum_id);
      first = false;
      elem = {};
      continue;
    }
    Typed t = value(*a, ep, facts);
    if (!is_constant(*a) && !t.type.is_error()) {
      diags_.error("not-constant", a->span, "set elements are values (text, numbers or enum values)");
    }
    if (first) {
      elem = t.type;
      first = false;
      if (!ep && elem.base == BaseType::enum_) { elem_expected = elem; ep = &elem_expected; }
    } else if (elem.is_duration() && t.type.is_duration()) {
      if (!(elem == t.type)) elem = Type::of(BaseType::duration);  // `{1 month, 2 weeks}`: months and days
    } else if (!compatible(t.type, elem) && !compatible(elem, t.type)) {
      diags_.error("type-mismatch", a->span, fmt::format("set elements must have one type: {} and {}", m_.type_name(elem), m_.type_name(t.type)));
    } else if (elem.base == BaseType::int_ && t.type.base == BaseType::decimal) {
      elem = t.type;
    }
    if (t.type.is_set) diags_.error("type-mismatch", a->span, "sets cannot contain sets");
  }
  if (e.args.empty()) {
    if (expected && expected->is_set) return {*expected, false};
    diags_.error("type-mismatch", e.span, "an empty set needs a context that gives its type");
    return error_typed();
  }
  if (elem.is_error()) return error_typed();
  return {elem.as_set(), false};
}

Typed Checker::call(Expr& e, const Facts& facts) {
  const std::string& f = e.text;
  auto arity = [&](size_t lo, size_t hi) {
    if (e.args.size() < lo || e.args.size() > hi) {
      diags_.error("wrong-arity", e.span,
                   lo == hi ? fmt::format("`{}` takes {} argument{}", f, lo, lo == 1 ? "" : "s")
                            : fmt::format("`{}` takes {} to {} arguments", f, lo, hi));
      return false;
    }
    return true;
  };
  std::vector<Typed> args;
  if (f == "coalesce") {
    if (!arity(2, 64)) return error_typed();
    Typed first = expr(*e.args[0], nullptr, facts);
    bool missing = first.maybe_missing;
    for (size_t i = 1; i < e.args.size(); ++i) {
      Typed t = expr(*e.args[i], &first.type, facts);
      expect_type(t.type, first.type, *e.args[i], "the default");
      missing = t.maybe_missing;
    }
    return {first.type, missing};
  }
  for (auto& a : e.args) args.push_back(value(*a, nullptr, facts));
  auto numeric_or_money = [&](const Typed& t, const Expr& at) {
    if (t.type.is_error() || t.type.is_number_like()) return true;
    diags_.error("type-mismatch", at.span, fmt::format("`{}` needs a number or an amount, this is {}", f, m_.type_name(t.type)));
    return false;
  };
  if (f == "min" || f == "max") {
    if (!arity(2, 64)) return error_typed();
    Type result = args[0].type;
    for (size_t i = 0; i < args.size(); ++i) {
      if (args[i].type.is_error()) return error_typed();
      if (!args[i].type.is_ordered()) {
        diags_.error("type-mismatch", e.args[i]->span,
                     fmt::format("`{}` needs ordered values, this is {}{}", f, m_.type_name(args[i].type),
                                 args[i].type.base == BaseType::duration ? " (it may hold months and days, which have no order)" : ""));
        return error_typed();
      }
      if (args[i].type.base == BaseType::decimal && result.base == BaseType::int_) result = args[i].type;
      else if (!compatible(args[i].type, result) && !compatible(result, args[i].type)) {
        diags_.error("type-mismatch", e.args[i]->span,
                     fmt::format("`{}` compares values of one type: {} and {}", f, m_.type_name(result), m_.type_name(args[i].type)));
        return error_typed();
      }
    }
    return {result, false};
  }
  if (f == "abs" || f == "floor" || f == "ceil") {
    if (!arity(1, 1) || !numeric_or_money(args[0], *e.args[0])) return error_typed();
    Type t = args[0].type;
    if (f != "abs" && t.base == BaseType::decimal) t = Type::of(BaseType::int_);
    return {t, false};
  }
  if (f == "round") {
    if (!arity(1, 2) || !numeric_or_money(args[0], *e.args[0])) return error_typed();
    if (e.args.size() == 2) {
      const Expr& p = *e.args[1];
      if (p.kind != ExprKind::number || p.unit != ast::Unit::none || !p.number.is_integer() ||
          p.number < Decimal::from_int(-12) || p.number > Decimal::from_int(12)) {
        diags_.error("type-mismatch", p.span, "the places of `round` are a whole number from -12 to 12, written as it is");
        return error_typed();
      }
    }
    return {args[0].type, false};
  }
  if (f == "years_between" || f == "months_between" || f == "days_between") {
    if (!arity(2, 2)) return error_typed();
    for (size_t i = 0; i < 2; ++i) expect_type(args[i].type, Type::of(BaseType::date), *e.args[i], fmt::format("argument {} of `{}`", i + 1, f));
    return {Type::of(BaseType::int_), false};
  }
  if (f == "size") {
    if (!arity(1, 1)) return error_typed();
    if (!args[0].type.is_error() && !args[0].type.is_set) {
      diags_.error("type-mismatch", e.args[0]->span, fmt::format("`size` counts the members of a set or the items of a list, this is {}", m_.type_name(args[0].type)));
      return error_typed();
    }
    return {Type::of(BaseType::int_), false};
  }
  if (f == "contains" || f == "startswith") {
    if (!arity(2, 2)) return error_typed();
    for (size_t i = 0; i < 2; ++i) expect_type(args[i].type, Type::of(BaseType::text), *e.args[i], fmt::format("argument {} of `{}`", i + 1, f));
    return {Type::of(BaseType::boolean), false};
  }
  auto& d = diags_.error("unknown-function", e.span, fmt::format("unknown function `{}`", f));
  // Names other languages give what `size` and `is empty` do.
  static const std::set<std::string> counting = {"count", "len", "length", "cardinality", "card", "num", "number", "cnt", "empty",
                                                 "is_empty", "isempty", "isEmpty", "nonempty", "not_empty", "size_of", "sizeof"};
  bool over_set = e.args.size() == 1 && args[0].type.is_set;
  if (over_set || counting.count(f)) {
    std::string s = e.args.size() == 1 && e.args[0]->kind == ExprKind::name ? e.args[0]->text : "s";
    d.notes.push_back({fmt::format("sets and lists: `{0} is empty`, `{0} is not empty`, `size({0})` (members or items), `v in {0}`", s), {}});
    return error_typed();
  }
  std::string hint = closest(f, {"min", "max", "abs", "round", "floor", "ceil", "years_between", "months_between",
                                 "days_between", "coalesce", "contains", "startswith", "size"});
  d.notes.push_back({hint.empty() ? "the functions are min max abs round floor ceil years_between months_between days_between coalesce contains startswith size"
                                  : fmt::format("did you mean `{}`?", hint), {}});
  return error_typed();
}

Typed Checker::binary(Expr& e, const Type* expected, const Facts& facts) {
  Expr& l = *e.args[0];
  Expr& r = *e.args[1];
  switch (e.op) {
    case BinaryOp::and_:
    case BinaryOp::or_: {
      Typed a = value(l, nullptr, facts);
      expect_type(a.type, Type::of(BaseType::boolean), l, fmt::format("the left side of `{}`", to_string(e.op)));
      Facts right = facts;
      right.add(facts_when(l, e.op == BinaryOp::and_));
      Typed b = value(r, nullptr, right);
      expect_type(b.type, Type::of(BaseType::boolean), r, fmt::format("the right side of `{}`", to_string(e.op)));
      return {Type::of(BaseType::boolean), false};
    }
    case BinaryOp::coalesce: {
      Typed a = expr(l, expected, facts);
      if (!a.type.is_error() && !a.maybe_missing) {
        diags_.warning("never-missing", l.span, "this value is never missing, so `?? …` has no effect");
      }
      Typed b = expr(r, a.type.is_error() ? expected : &a.type, facts);
      expect_type(b.type, a.type, r, "the default after `??`");
      return {a.type, b.maybe_missing};
    }
    case BinaryOp::eq: case BinaryOp::ne: case BinaryOp::lt:
    case BinaryOp::le: case BinaryOp::gt: case BinaryOp::ge: {
      Typed a, b;
      if (is_enum_candidate(l) && !is_enum_candidate(r)) {
        b = value(r, nullptr, facts);
        a = value(l, &b.type, facts);
      } else {
        a = value(l, nullptr, facts);
        b = value(r, &a.type, facts);
      }
      compare_types(a.type, b.type, r, fmt::format("`{}`", source_text(l)), e.op);
      if (a.type.is_set || b.type.is_set) {
        if (!a.type.is_error() && !b.type.is_error())
          diags_.error("type-mismatch", e.span, "sets are tested with `in` and `contains`, not compared");
      }
      return {Type::of(BaseType::boolean), false};
    }
    default: break;
  }
  // arithmetic
  Typed a = value(l, nullptr, facts);
  Typed b = value(r, nullptr, facts);
  if (a.type.is_error() || b.type.is_error()) return error_typed();
  Type result = arithmetic(e.op, a.type, b.type);
  if (result.is_error()) {
    auto& d = diags_.error("type-mismatch", e.span,
                           fmt::format("cannot compute {} {} {}", m_.type_name(a.type), to_string(e.op), m_.type_name(b.type)));
    if ((a.type.base == BaseType::money) != (b.type.base == BaseType::money) && (e.op == BinaryOp::add || e.op == BinaryOp::sub)) {
      d.notes.push_back({"money adds to money: give the number a unit (元, 万, 亿)", {}});
    }
  }
  return {result, false};
}

Type Checker::arithmetic(BinaryOp op, Type a, Type b) {
  using B = BaseType;
  if (a.is_set || b.is_set) return {};
  auto num = [](Type t) { return t.base == B::int_ || t.base == B::decimal; };
  auto widen = [](Type x, Type y) { return Type::of(x.base == B::decimal || y.base == B::decimal ? B::decimal : B::int_); };
  switch (op) {
    case BinaryOp::add:
    case BinaryOp::sub:
      if (num(a) && num(b)) return widen(a, b);
      if (a.base == B::money && b.base == B::money) return a;
      if (a.base == B::date && b.is_duration()) return a;
      if (op == BinaryOp::add && b.base == B::date && a.is_duration()) return b;
      if (op == BinaryOp::sub && a.base == B::date && b.base == B::date) return Type::of(B::days);
      if (a.is_duration() && b.is_duration()) return a == b ? a : Type::of(B::duration);
      return {};
    case BinaryOp::mul:
      if (num(a) && num(b)) return widen(a, b);
      if (a.base == B::money && num(b)) return a;
      if (num(a) && b.base == B::money) return b;
      if (a.is_duration() && b.base == B::int_) return a;
      if (a.base == B::int_ && b.is_duration()) return b;
      return {};
    case BinaryOp::div:
      if (num(a) && num(b)) return Type::of(B::decimal);
      if (a.base == B::money && b.base == B::money) return Type::of(B::decimal);
      if (a.base == B::money && num(b)) return a;
      return {};
    default: return {};
  }
}

}  // namespace stratum::checking
