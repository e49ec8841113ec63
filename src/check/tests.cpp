// Checker, tests: the `given` and `expect` of each `test` block, against
// the fields, decisions, segments, plan items and scorecard factors.
#include "check/checker.hpp"

#include <set>

#include <fmt/format.h>

namespace stratum::checking {

// ---- tests ------------------------------------------------------------------

void Checker::check_test(ast::TestDecl& t) {
  Facts none;
  std::set<std::string> seen;
  for (auto& b : t.given) {
    auto it = symbols_.find(b.name);
    if (b.is_list) {
      diags_.error("not-constant", b.list_span, "a list is a result (of a `rule order` or `output order` table): `[…]` belongs in `expect`; a set field is given as `{…}`");
      continue;
    }
    if (!b.value) {
      diags_.error("not-constant", b.span, "`reject` belongs in `expect`, not in `given`");
      continue;
    }
    if (!seen.insert("g:" + b.name).second) {
      diags_.error("duplicate-name", b.span, fmt::format("`{}` is given twice", b.name));
      continue;
    }
    if (b.name == "today" && it == symbols_.end()) {
      // `today: 2024-06-30` fixes the evaluation date for this test.
      Type date = Type::of(BaseType::date);
      Typed v = expr(*b.value, &date, none);
      if (b.value->kind != ExprKind::date) diags_.error("not-constant", b.value->span, "`today` is given as a date, e.g. 2024-06-30");
      expect_type(v.type, date, *b.value, "`today`");
      continue;
    }
    if (it == symbols_.end() || it->second.kind != SymbolKind::field) {
      std::vector<std::string> names;
      for (auto& f : m_.fields) names.push_back(f.name);
      auto& d = diags_.error("unknown-name", b.span, fmt::format("`{}` is not an input field", b.name));
      if (auto hint = closest(b.name, names); !hint.empty()) d.notes.push_back({fmt::format("did you mean `{}`?", hint), {}});
      continue;
    }
    const FieldInfo& f = m_.fields[it->second.index];
    if (ast::is_missing_cell(*b.value) && !symbols_.count("missing")) {  // `x: missing`: given without a value
      if (!f.optional) diags_.error("not-optional", b.value->span, fmt::format("field `{}` is not optional: it cannot be given as missing", f.name));
      continue;
    }
    Typed v = expr(*b.value, &f.type, none);
    if (!is_constant(*b.value)) {
      diags_.error("not-constant", b.value->span, "a test gives plain values (literals and enum values)");
    }
    expect_type(v.type, f.type, *b.value, fmt::format("field `{}`", f.name));
  }
  for (auto& b : t.expect) {
    auto it = symbols_.find(b.name);
    if (!seen.insert("e:" + b.name).second) {
      diags_.error("duplicate-name", b.span, fmt::format("`{}` is expected twice", b.name));
      continue;
    }
    if (b.is_list) {  // `x: [a, b]`
      if (it == symbols_.end() || it->second.kind != SymbolKind::decision || !m_.decisions[it->second.index].type.is_list) {
        diags_.error("type-mismatch", b.list_span,
                     fmt::format("`{}` is not a list (the result of a `rule order` or `output order` table): expect its value without `[ ]`", b.name));
        continue;
      }
      Type element = m_.decisions[it->second.index].type.element();
      for (auto& item : b.items) {
        Typed v = expr(*item, &element, none);
        if (!is_constant(*item)) diags_.error("not-constant", item->span, "a test expects plain values (literals and enum values)");
        expect_type(v.type, element, *item, fmt::format("an item of `{}`", b.name));
      }
      continue;
    }
    if (!b.value) {  // `x: reject "…"`
      if (it == symbols_.end() && b.name != "segment") {
        diags_.error("unknown-name", b.span, fmt::format("`{}` is not a decision or a `let`", b.name));
      }
      continue;
    }
    if (b.name == "segment" || b.name.starts_with("plan.") || b.name.find('.') != std::string::npos) {
      expect_special(b);
      continue;
    }
    if (it == symbols_.end() || it->second.kind == SymbolKind::field) {
      std::vector<std::string> names;
      for (auto& d : m_.decisions) names.push_back(d.name);
      for (auto& l : m_.lets) names.push_back(l.name);
      auto& d = diags_.error("unknown-name", b.span, fmt::format("`{}` is not a decision or a `let`", b.name));
      if (auto hint = closest(b.name, names); !hint.empty()) d.notes.push_back({fmt::format("did you mean `{}`?", hint), {}});
      continue;
    }
    Type want = it->second.kind == SymbolKind::let ? m_.lets[it->second.index].type : m_.decisions[it->second.index].type;
    if (b.value->kind == ExprKind::name && b.value->text == "missing" && b.value->qualifier.empty() && !symbols_.count("missing")) {
      continue;  // `expect { x: missing }`: no value
    }
    Typed v = expr(*b.value, &want, none);
    if (!is_constant(*b.value)) {
      diags_.error("not-constant", b.value->span, "a test expects plain values (literals and enum values)");
    }
    expect_type(v.type, want, *b.value, fmt::format("`{}`", b.name));
  }
  if (t.expect.empty()) diags_.error("empty-test", t.span, "the test expects nothing: add `expect { decision: value }`");
}

// `segment: 叶子` / `segment: "对公客户/…"`, `plan.项目: 值`, `评分卡.因子: 分`.
void Checker::expect_special(ast::Binding& b) {
  Facts none;
  if (b.name == "segment") {
    if (m_.segments.empty()) {
      diags_.error("unknown-name", b.span, "the rules have no segment tree");
      return;
    }
    Expr& v = *b.value;
    int32_t leaf = -1;
    if (v.kind == ExprKind::name && v.qualifier.empty()) {
      auto it = segment_index_.find(v.text);
      if (it != segment_index_.end()) leaf = m_.segments[it->second].leaf;
      if (it != segment_index_.end() && leaf < 0) {
        diags_.error("type-mismatch", v.span, fmt::format("`{}` is not a leaf: a customer always lands in a leaf", v.text));
        return;
      }
    } else if (v.kind == ExprKind::text) {
      for (auto& n : m_.segments) {
        if (n.leaf >= 0 && n.path == v.text) leaf = n.leaf;
      }
    }
    if (leaf < 0) {
      std::vector<std::string> names;
      for (auto& n : m_.segments) if (n.leaf >= 0) names.push_back(n.name);
      auto& d = diags_.error("unknown-name", v.span, "expected a leaf of the segment tree, by name or by its path in quotes");
      std::string text = v.kind == ExprKind::text ? v.text : v.text;
      if (auto hint = closest(text, names); !hint.empty()) d.notes.push_back({fmt::format("did you mean `{}`?", hint), {}});
      return;
    }
    v.ref = RefKind::enum_value;
    v.ref_index = leaf;
    v.kind = ExprKind::name;
    v.type = Type::enum_of(m_.segment_enum);
    return;
  }
  if (b.name.starts_with("plan.")) {
    std::string item = b.name.substr(5);
    for (auto& p : m_.plan_items) {
      if (p.name == item) {
        if (b.value->kind == ExprKind::name && b.value->text == "missing" && b.value->qualifier.empty()) return;
        Typed v = expr(*b.value, &p.type, none);
        if (!is_constant(*b.value)) diags_.error("not-constant", b.value->span, "a test expects plain values");
        expect_type(v.type, p.type, *b.value, fmt::format("plan item `{}`", item));
        return;
      }
    }
    diags_.error("unknown-name", b.span, fmt::format("no plan sets `{}`", item));
    return;
  }
  std::string qualifier = b.name.substr(0, b.name.find('.'));
  std::string factor = b.name.substr(b.name.find('.') + 1);
  auto sc = scorecard_index_.find(qualifier);
  if (sc != scorecard_index_.end()) {
    for (auto& f : m_.scorecards[sc->second].decl->factors) {
      if (f.name == factor) {
        Type want = Type::of(BaseType::decimal);
        Typed v = expr(*b.value, &want, none);
        expect_type(v.type, want, *b.value, fmt::format("the points of `{}`", b.name));
        return;
      }
    }
  }
  diags_.error("unknown-name", b.span, fmt::format("`{}` is not a decision, `let`, `segment`, `plan.…` or scorecard factor", b.name));
}

}  // namespace stratum::checking
