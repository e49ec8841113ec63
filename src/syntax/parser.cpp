// The one translation unit that instantiates the PEGTL grammar.
//
// PEGTL builds a generic parse tree (only the rules selected below become
// nodes); `Builder` then turns that tree into the typed AST. Building from a
// finished tree rather than from actions means backtracking never leaves
// half-built AST behind. Parse errors are converted to our Diagnostic here.
#include "syntax/parser.hpp"

#include <tao/pegtl.hpp>
#include <tao/pegtl/contrib/parse_tree.hpp>

#include <charconv>
#include <fmt/format.h>

#include "../../grammar/stratum/errors.hpp"
#include "value/date.hpp"

namespace stratum {

namespace pegtl = tao::pegtl;
namespace g = grammar;

namespace {

// clang-format off
template< typename Rule >
using selector = pegtl::parse_tree::selector<
   Rule,
   pegtl::parse_tree::store_content::on<
      g::ident, g::qualified_name, g::string_lit, g::number_lit, g::date_lit, g::bool_lit,
      g::today_lit, g::set_lit, g::call, g::contains_name, g::cell_negative,
      g::op_neg, g::op_mul, g::op_div, g::op_add, g::op_sub, g::op_coalesce,
      g::op_eq, g::op_ne, g::op_le, g::op_ge, g::op_lt, g::op_gt,
      g::op_not, g::op_and, g::op_or, g::presence_test, g::not_in, g::in_tail,
      g::contains_tail, g::compare_tail,
      g::ruleset_decl, g::ruleset_version, g::ruleset_effective, g::ruleset_extends, g::override_mark, g::enum_decl, g::enum_member,
      g::input_decl, g::record_name, g::field_decl, g::column_alias, g::key_mark,
      g::type_ref, g::type_name, g::set_type, g::list_type, g::optional_mark, g::table_else, g::list_value,
      g::let_decl, g::decide_decl, g::when_row, g::else_row,
      g::table_decl, g::table_type, g::hit_policy, g::table_header, g::input_column, g::column_may_be_missing,
      g::output_column, g::table_row, g::row_label_name, g::rows_decl, g::input_cell, g::output_cell, g::cell_value,
      g::cell_any, g::cell_compare, g::cell_range, g::cell_set, g::cell_not_set,
      g::test_decl, g::given_block, g::expect_block, g::binding,
      g::load_expr, g::import_decl, g::field_domain, g::data_unit, g::segment_split, g::segment_split_value,
      g::scorecard_decl, g::factor_decl, g::factor_value, g::factor_weight, g::score_bin, g::bin_else,
      g::multiply_decl, g::bonus_decl,
      g::grid_decl, g::grid_dimension, g::grid_header, g::grid_row,
      g::segments_decl, g::segment_when, g::segment_else, g::segment_name,
      g::capacity_decl, g::req_capacity_count, g::capacity_per, g::capacity_rank, g::capacity_ascending, g::overflow_segment, g::overflow_plan,
      g::fixed_decl, g::fixed_field, g::stability_decl, g::stability_value, g::stability_order, g::stability_down,
      g::stability_up, g::stability_from, g::req_stability_count, g::stability_rule,
      g::plan_decl, g::plan_node, g::plan_condition, g::plan_item, g::reject_result, g::private_mark, g::binding_today >,
   pegtl::parse_tree::fold_one::on<
      g::or_expr, g::and_expr, g::not_expr, g::compare_expr, g::coalesce_expr,
      g::add_expr, g::mul_expr, g::unary_expr > >;
// clang-format on

template <typename Rule>
using control = pegtl::must_if<g::error_messages, pegtl::normal, true>::control<Rule>;

using Node = pegtl::parse_tree::node;

struct SyntaxError {
  uint32_t offset;
  std::string message;
};

// Bounds that keep every later stage's recursion shallow, whatever the input.
constexpr int32_t kMaxExpressionDepth = 2000;
constexpr int kMaxNesting = 100;

// Brackets nested deeper than kMaxNesting, or more than kMaxNesting unary
// operators in a row, would make the recursive-descent parser recurse without
// bound; such text is rejected before parsing. Returns the offending offset.
std::optional<std::pair<uint32_t, std::string>> too_deep(std::string_view text) {
  int depth = 0, unary_run = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
      continue;
    }
    if (c == '"') {
      for (++i; i < text.size() && text[i] != '"' && text[i] != '\n'; ++i) {
        if (text[i] == '\\') ++i;
      }
      unary_run = 0;
      continue;
    }
    if (c == '(' || c == '[' || c == '{') {
      if (++depth > kMaxNesting) {
        return std::make_pair(static_cast<uint32_t>(i), fmt::format("brackets nested more than {} deep", kMaxNesting));
      }
    } else if (c == ')' || c == ']' || c == '}') {
      depth = std::max(0, depth - 1);
    }
    bool is_not = text.substr(i, 3) == "not" && (i == 0 || !std::isalnum(static_cast<unsigned char>(text[i - 1]))) &&
                  (i + 3 >= text.size() || !std::isalnum(static_cast<unsigned char>(text[i + 3])));
    if (c == '-' || is_not) {
      if (++unary_run > kMaxNesting) {
        return std::make_pair(static_cast<uint32_t>(i), fmt::format("more than {} `-` or `not` in a row", kMaxNesting));
      }
      if (is_not) i += 2;
    } else if (c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '(') {
      unary_run = 0;
    }
  }
  return std::nullopt;
}

class Builder {
 public:
  Builder(const SourceFile& file, uint32_t file_id) : file_(file), file_id_(file_id) {}

  ast::Module module(const Node& root) {
    ast::Module m;
    m.file = file_id_;
    bool next_private = false, next_override = false;
    for (const auto& child : root.children) {
      if (child->is_type<g::private_mark>()) {
        next_private = true;
        continue;
      }
      if (child->is_type<g::override_mark>()) {
        next_override = true;
        continue;
      }
      size_t decides = m.decides.size(), tables = m.tables.size(), scorecards = m.scorecards.size();
      size_t lets = m.lets.size(), plans = m.plans.size();
      declaration(m, *child);
      if (next_private) {
        if (m.decides.size() > decides) m.decides.back().is_private = true;
        if (m.tables.size() > tables) m.tables.back().is_private = true;
        if (m.scorecards.size() > scorecards) m.scorecards.back().is_private = true;
        next_private = false;
      }
      if (next_override) {
        if (m.decides.size() > decides) m.decides.back().override_ = true;
        if (m.tables.size() > tables) m.tables.back().override_ = true;
        if (m.scorecards.size() > scorecards) m.scorecards.back().override_ = true;
        if (m.lets.size() > lets) m.lets.back().override_ = true;
        if (m.plans.size() > plans) m.plans.back().override_ = true;
        next_override = false;
      }
    }
    return m;
  }

 private:
  const SourceFile& file_;
  uint32_t file_id_;

  Span span(const Node& n) const {
    auto base = file_.text().data();
    return {file_id_, static_cast<uint32_t>(n.m_begin.data - base), static_cast<uint32_t>(end_of(n) - base)};
  }

  // Nodes kept by fold_one have their content (and end) removed: their end
  // is the end of their last child.
  static const char* end_of(const Node& n) {
    if (n.m_end.data) return n.m_end.data;
    if (!n.children.empty()) return end_of(*n.children.back());
    return n.m_begin.data;
  }

  [[noreturn]] void fail(const Node& n, std::string message) const {
    throw SyntaxError{span(n).begin, std::move(message)};
  }

  static std::string unquote(std::string_view s) {
    std::string out;
    for (size_t i = 1; i + 1 < s.size(); ++i) {
      if (s[i] == '\\' && i + 2 < s.size()) {
        char c = s[++i];
        out += c == 'n' ? '\n' : c == 't' ? '\t' : c;
      } else {
        out += s[i];
      }
    }
    return out;
  }

  void declaration(ast::Module& m, const Node& n) {
    if (n.is_type<g::ruleset_decl>()) {
      m.ruleset = unquote(n.children.at(0)->string_view());
      for (size_t i = 1; i < n.children.size(); ++i) {
        const Node& c = *n.children[i];
        if (c.is_type<g::ruleset_version>()) m.version = unquote(c.children.at(0)->string_view());
        if (c.is_type<g::ruleset_effective>()) {
          const Node& d = *c.children.at(0);
          auto days = parse_iso_date(d.string_view());
          if (!days) fail(d, fmt::format("`{}` is not a calendar date", d.string_view()));
          m.effective = *days;
          m.effective_span = span(d);
        }
        if (c.is_type<g::ruleset_extends>()) {
          m.extends = unquote(c.children.at(0)->string_view());
          if (m.extends.empty()) fail(*c.children[0], "expected the rule file this rule set extends, e.g. \"corporate_segments.strat\"");
          m.extends_span = span(*c.children[0]);
        }
      }
    } else if (n.is_type<g::enum_decl>()) {
      ast::EnumDecl e;
      e.name = n.children.at(0)->string();
      e.span = span(*n.children[0]);
      for (size_t i = 1; i < n.children.size(); ++i) {
        e.members.push_back({n.children[i]->string(), span(*n.children[i])});
      }
      m.enums.push_back(std::move(e));
    } else if (n.is_type<g::input_decl>()) {
      ast::InputDecl in;
      in.span = span(n);
      for (const auto& c : n.children) {
        if (c->is_type<g::record_name>()) {
          in.name = c->string();
          in.span = span(*c);
        } else {
          in.fields.push_back(field(*c));
        }
      }
      m.inputs.push_back(std::move(in));
    } else if (n.is_type<g::let_decl>()) {
      ast::LetDecl l;
      l.name = n.children.at(0)->string();
      l.span = span(*n.children[0]);
      const Node& v = *n.children.at(1);
      if (v.is_type<g::load_expr>()) {
        auto e = make(ast::ExprKind::load, v);
        e->text = unquote(v.children.at(0)->string_view());
        e->qualifier = v.children.at(1)->string();
        l.value = std::move(e);
      } else {
        l.value = expr(v);
      }
      m.lets.push_back(std::move(l));
    } else if (n.is_type<g::stability_decl>()) {
      ast::StabilityDecl s;
      s.target = n.children.at(0)->string();
      s.span = span(*n.children[0]);
      for (size_t i = 1; i < n.children.size(); ++i) {
        const Node& part = *n.children[i];
        if (part.is_type<g::stability_order>()) {
          if (!s.order.empty()) fail(part, "a stability rule has one `order`");
          s.order_span = span(part);
          for (const auto& v : part.children) s.order.push_back({v->string(), span(*v)});
          continue;
        }
        ast::StabilityDecl::Rule r;
        r.span = span(part);
        r.down = part.children.at(0)->is_type<g::stability_down>();
        for (size_t k = 1; k < part.children.size(); ++k) {
          const Node& c = *part.children[k];
          if (c.is_type<g::stability_from>()) {
            r.from = c.children.at(0)->string();
            r.from_span = span(*c.children[0]);
          } else if (c.is_type<g::req_stability_count>()) {
            r.periods = expr(*c.children.at(0));
          }
        }
        s.rules.push_back(std::move(r));
      }
      if (s.order.empty()) fail(*n.children[0], fmt::format("the stability of `{}` needs `order A < B < C`: which values are higher", s.target));
      m.stabilities.push_back(std::move(s));
    } else if (n.is_type<g::fixed_decl>()) {
      for (const auto& f : n.children) m.fixed.push_back({f->string(), span(*f)});
    } else if (n.is_type<g::import_decl>()) {
      m.imports.push_back({unquote(n.children.at(0)->string_view()), span(*n.children[0])});
    } else if (n.is_type<g::scorecard_decl>()) {
      m.scorecards.push_back(scorecard(n));
    } else if (n.is_type<g::grid_decl>()) {
      m.tables.push_back(grid(n));
    } else if (n.is_type<g::capacity_decl>()) {
      ast::CapacityDecl c;
      c.node = n.children.at(0)->string();
      c.span = span(*n.children[0]);
      int limits = 0, ranks = 0, overflows = 0;
      for (size_t i = 1; i < n.children.size(); ++i) {
        const Node& part = *n.children[i];
        if (part.is_type<g::req_capacity_count>() && ++limits > 1) fail(part, "a capacity has one `limit`");
        if (part.is_type<g::capacity_rank>() && ++ranks > 1) fail(part, "a capacity has one `rank by`");
        if ((part.is_type<g::overflow_segment>() || part.is_type<g::overflow_plan>()) && ++overflows > 1) fail(part, "a capacity has one `overflow`");
        if (part.is_type<g::req_capacity_count>()) {
          c.limit = expr(*part.children.at(0));
        } else if (part.is_type<g::capacity_per>()) {
          c.per = part.children.at(0)->string();
          c.per_span = span(*part.children[0]);
        } else if (part.is_type<g::capacity_rank>()) {
          c.rank = part.children.at(0)->string();
          c.rank_span = span(*part.children[0]);
          c.ascending = part.children.size() > 1;
        } else if (part.is_type<g::overflow_segment>() || part.is_type<g::overflow_plan>()) {
          c.overflow = part.children.at(0)->string();
          c.overflow_span = span(*part.children[0]);
          c.plan_only = part.is_type<g::overflow_plan>();
        }
      }
      const char* missing = !limits ? "`limit N` (how many customers keep their place)"
                            : !ranks ? "`rank by NAME` (who keeps a place: the largest first)"
                            : !overflows ? "`overflow -> SEGMENT` or `overflow plan SEGMENT` (where the others go)" : nullptr;
      if (missing) fail(*n.children[0], fmt::format("the capacity of `{}` needs {}", c.node, missing));
      m.capacities.push_back(std::move(c));
    } else if (n.is_type<g::segments_decl>()) {
      auto root = std::make_unique<ast::SegmentNode>();
      root->name = n.children.at(0)->string();
      root->span = span(*n.children[0]);
      for (size_t i = 1; i < n.children.size(); ++i) root->branches.push_back(segment_branch(*n.children[i]));
      m.segments.push_back(std::move(root));
    } else if (n.is_type<g::plan_decl>()) {
      ast::PlanDecl p;
      p.span = span(*n.children.at(0));
      size_t i = 0;
      if (n.children[i]->is_type<g::plan_node>()) p.node = n.children[i++]->string();
      if (i < n.children.size() && n.children[i]->is_type<g::plan_condition>()) {
        const Node& c = *n.children[i++];
        if (p.node.empty()) p.span = span(c);
        p.condition = expr(*c.children.at(0));
      }
      for (; i < n.children.size(); ++i) {
        const Node& item = *n.children[i];
        p.items.push_back({item.children.at(0)->string(), span(*item.children[0]), expr(*item.children.at(1))});
      }
      m.plans.push_back(std::move(p));
    } else if (n.is_type<g::decide_decl>()) {
      ast::DecideDecl d;
      d.name = n.children.at(0)->string();
      d.span = span(*n.children[0]);
      d.type = type(*n.children.at(1));
      for (size_t i = 2; i < n.children.size(); ++i) {
        const Node& row = *n.children[i];
        ast::Branch b;
        b.span = span(row);
        const Node* result = nullptr;
        if (row.is_type<g::when_row>()) {
          b.condition = expr(*row.children.at(0));
          result = row.children.at(1).get();
        } else {
          result = row.children.at(0).get();
        }
        if (result->is_type<g::reject_result>()) {
          b.reject = unquote(result->children.at(0)->string_view());
          if (b.reject.empty()) fail(*result, "give the reason for the rejection");
        } else {
          b.result = expr(*result);
        }
        d.branches.push_back(std::move(b));
      }
      m.decides.push_back(std::move(d));
    } else if (n.is_type<g::rows_decl>()) {
      ast::TableDecl t = table(n);
      t.rows_only = true;
      m.tables.push_back(std::move(t));
    } else if (n.is_type<g::table_decl>()) {
      m.tables.push_back(table(n));
    } else if (n.is_type<g::test_decl>()) {
      ast::TestDecl t;
      t.name = unquote(n.children.at(0)->string_view());
      t.span = span(*n.children[0]);
      t.given = bindings(*n.children.at(1));
      t.expect = bindings(*n.children.at(2));
      m.tests.push_back(std::move(t));
    } else {
      throw InternalError(fmt::format("unexpected declaration node {}", n.type));
    }
  }

  std::vector<ast::Binding> bindings(const Node& block) {
    std::vector<ast::Binding> out;
    for (const auto& b : block.children) {
      const Node& v = *b->children.at(1);
      if (v.is_type<g::reject_result>()) {
        out.push_back({b->children.at(0)->string(), span(*b->children[0]), nullptr, unquote(v.children.at(0)->string_view())});
      } else if (v.is_type<g::list_value>()) {
        ast::Binding bind;
        bind.name = b->children.at(0)->string();
        bind.span = span(*b->children[0]);
        bind.is_list = true;
        bind.list_span = span(v);
        for (const auto& item : v.children) bind.items.push_back(expr(*item));
        out.push_back(std::move(bind));
      } else {
        out.push_back({b->children.at(0)->string(), span(*b->children[0]), expr(v), {}});
      }
    }
    return out;
  }

  ast::TypeRef type(const Node& n) {
    ast::TypeRef t;
    t.span = span(n);
    for (const auto& c : n.children) {
      if (c->is_type<g::type_name>()) {
        t.name = c->string();
      } else if (c->is_type<g::set_type>()) {
        t.is_set = true;
        t.name = c->children.at(0)->string();
      } else if (c->is_type<g::list_type>()) {
        t.is_list = true;
        t.name = c->children.at(0)->string();
      } else if (c->is_type<g::optional_mark>()) {
        t.optional = true;
      }
    }
    return t;
  }

  ast::FieldDecl field(const Node& n) {
    ast::FieldDecl f;
    f.name = n.children.at(0)->string();
    f.span = span(*n.children[0]);
    f.type = type(*n.children.at(1));
    for (size_t i = 2; i < n.children.size(); ++i) {
      const Node& c = *n.children[i];
      if (c.is_type<g::column_alias>()) {
        f.column = unquote(c.children.at(0)->string_view());
        f.column_span = span(*c.children[0]);
      } else if (c.is_type<g::data_unit>()) {
        std::string_view u = c.string_view();
        u.remove_prefix(2);  // "in"
        while (!u.empty() && (u.front() == ' ' || u.front() == '\t')) u.remove_prefix(1);
        f.data_unit = std::string(u);
        f.data_unit_span = span(c);
      } else if (c.is_type<g::field_domain>()) {
        f.domain = std::make_shared<ast::Cell>(input_cell(*c.children.at(0)));
      } else if (c.is_type<g::key_mark>()) {
        f.key = true;
        f.key_span = span(c);
      }
    }
    return f;
  }

  // ---- scorecards, grids, segments -------------------------------------------

  ast::ScorecardDecl scorecard(const Node& n) {
    ast::ScorecardDecl sc;
    sc.name = n.children.at(0)->string();
    sc.span = span(*n.children[0]);
    for (size_t i = 1; i < n.children.size(); ++i) {
      const Node& c = *n.children[i];
      if (c.is_type<g::table_type>()) {
        sc.type = type(*c.children.at(0));
      } else if (c.is_type<g::factor_decl>()) {
        ast::Factor f;
        const Node& value = *c.children.at(0)->children.at(0);  // factor_value → qualified_name
        f.value = name_expr(value);
        f.name = value.string();
        f.span = span(value);
        for (size_t k = 1; k < c.children.size(); ++k) {
          const Node& b = *c.children[k];
          if (b.is_type<g::factor_weight>()) {
            f.weight = expr(*b.children.at(0));
            continue;
          }
          ast::ScoreBin bin;
          bin.span = span(b);
          const Node& test = *b.children.at(0);
          if (test.is_type<g::bin_else>()) {
            bin.is_else = true;
          } else {
            bin.test = input_cell(*test.children.at(0));
          }
          bin.points = expr(*b.children.at(1));
          f.bins.push_back(std::move(bin));
        }
        sc.factors.push_back(std::move(f));
      } else {
        ast::Adjustment a;
        a.span = span(c);
        a.multiply = c.is_type<g::multiply_decl>();
        a.amount = expr(*c.children.at(0));
        a.condition = expr(*c.children.at(1));
        sc.adjustments.push_back(std::move(a));
      }
    }
    return sc;
  }

  // A grid is a first-hit table over (row value, column value): its cells in
  // reading order, each testing its row's and its column's condition.
  ast::TableDecl grid(const Node& n) {
    ast::TableDecl t;
    t.is_grid = true;
    t.name = n.children.at(0)->string();
    t.span = span(*n.children[0]);
    t.type = type(*n.children.at(1));
    t.policy = ast::HitPolicy::first;
    t.policy_span = t.span;
    t.columns.push_back(name_expr(*n.children.at(2)->children.at(0)));
    t.columns.push_back(name_expr(*n.children.at(3)->children.at(0)));
    t.outputs.push_back({t.name, t.span, std::nullopt});
    std::vector<ast::Cell> column_tests;
    for (size_t i = 4; i < n.children.size(); ++i) {
      const Node& c = *n.children[i];
      if (c.is_type<g::grid_header>()) {
        for (const auto& cell : c.children) column_tests.push_back(input_cell(*cell->children.at(0)));
        continue;
      }
      // grid_row: row test, then one result per column
      ast::Cell row_test = input_cell(*c.children.at(0)->children.at(0));
      size_t results = c.children.size() - 1;
      if (results != column_tests.size()) {
        fail(c, fmt::format("this grid row has {} result{}, the header has {} column{}", results, results == 1 ? "" : "s",
                            column_tests.size(), column_tests.size() == 1 ? "" : "s"));
      }
      for (size_t k = 0; k < results; ++k) {
        ast::TableRow row;
        const Node& out = *c.children[k + 1];
        row.span = span(out);
        row.inputs.push_back(clone_cell(row_test));
        row.inputs.push_back(clone_cell(column_tests[k]));
        row.outputs.push_back(cell_value(*out.children.at(0)));
        t.rows.push_back(std::move(row));
      }
    }
    return t;
  }

  static ast::Cell clone_cell(const ast::Cell& c) {
    ast::Cell out;
    out.kind = c.kind;
    out.span = c.span;
    out.op = c.op;
    out.low_closed = c.low_closed;
    out.high_closed = c.high_closed;
    for (const auto& v : c.values) out.values.push_back(ast::clone(*v));
    return out;
  }

  ast::SegmentBranch segment_branch(const Node& n) {
    ast::SegmentBranch b;
    b.span = span(n);
    size_t i = 0;
    if (n.is_type<g::segment_when>()) b.condition = expr(*n.children.at(i++));
    b.node = std::make_unique<ast::SegmentNode>();
    b.node->name = n.children.at(i)->string();
    b.node->span = span(*n.children[i]);
    for (++i; i < n.children.size(); ++i) {
      const Node& c = *n.children[i];
      if (c.is_type<g::segment_split>()) {
        b.node->split_by = c.children.at(0)->string();
        b.node->split_span = span(c);
        continue;
      }
      b.node->branches.push_back(segment_branch(c));
    }
    return b;
  }

  // ---- tables ---------------------------------------------------------------

  ast::TableDecl table(const Node& n) {
    ast::TableDecl t;
    t.name = n.children.at(0)->string();
    t.span = span(*n.children[0]);
    for (size_t i = 1; i < n.children.size(); ++i) {
      const Node& c = *n.children[i];
      if (c.is_type<g::table_type>()) {
        t.type = type(*c.children.at(0));
      } else if (c.is_type<g::hit_policy>()) {
        t.policy_span = span(c);
        std::string_view p = c.string_view();
        if (p.starts_with("first")) t.policy = ast::HitPolicy::first;
        else if (p.starts_with("unique")) t.policy = ast::HitPolicy::unique;
        else if (p.starts_with("priority")) t.policy = ast::HitPolicy::priority;
        else if (p.starts_with("any")) t.policy = ast::HitPolicy::any;
        else if (p.starts_with("rule")) t.policy = ast::HitPolicy::rule_order;
        else if (p.starts_with("output")) t.policy = ast::HitPolicy::output_order;
        else {
          t.policy = ast::HitPolicy::collect;
          if (p.ends_with("sum")) t.collect = ast::CollectOp::sum;
          else if (p.ends_with("min")) t.collect = ast::CollectOp::min;
          else if (p.ends_with("max")) t.collect = ast::CollectOp::max;
          else if (p.ends_with("count")) t.collect = ast::CollectOp::count;
        }
      } else if (c.is_type<g::table_header>()) {
        for (const auto& h : c.children) {
          if (h->is_type<g::input_column>()) {
            t.columns.push_back(name_expr(*h->children.at(0)));
            t.column_may_be_missing.push_back(h->children.size() > 1);
          } else {
            ast::OutputColumn o;
            o.name = h->children.at(0)->string();
            o.span = span(*h->children[0]);
            if (h->children.size() > 1) o.type = type(*h->children[1]);
            t.outputs.push_back(std::move(o));
          }
        }
      } else if (c.is_type<g::table_row>()) {
        if (t.else_row) fail(c, "the `else` row is the last row of a table");
        ast::TableRow row;
        row.span = span(c);
        for (const auto& cell : c.children) {
          if (cell->is_type<g::row_label_name>()) {
            row.label = cell->string();
            row.label_span = span(*cell);
          } else if (cell->is_type<g::input_cell>()) {
            row.inputs.push_back(input_cell(*cell->children.at(0)));
          } else {
            row.outputs.push_back(cell_value(*cell->children.at(0)));
          }
        }
        t.rows.push_back(std::move(row));
      } else if (c.is_type<g::table_else>()) {
        if (t.else_row) fail(c, "a table has at most one `else` row");
        ast::TableRow row;
        row.span = span(c);
        for (const auto& cell : c.children) row.outputs.push_back(cell_value(*cell->children.at(0)));
        t.else_row = std::move(row);
      }
    }
    return t;
  }

  ast::Cell input_cell(const Node& n) {
    ast::Cell cell;
    cell.span = span(n);
    if (n.is_type<g::cell_any>()) {
      cell.kind = ast::CellKind::any;
    } else if (n.is_type<g::cell_compare>()) {
      cell.kind = ast::CellKind::compare;
      cell.op = compare_op(*n.children.at(0));
      cell.values.push_back(cell_value(*n.children.at(1)));
    } else if (n.is_type<g::cell_range>()) {
      cell.kind = ast::CellKind::range;
      std::string_view text = n.string_view();
      cell.low_closed = text.front() == '[';
      cell.high_closed = text.back() == ']';
      cell.values.push_back(cell_value(*n.children.at(0)));
      cell.values.push_back(cell_value(*n.children.at(1)));
    } else if (n.is_type<g::cell_set>() || n.is_type<g::cell_not_set>()) {
      const Node& set = n.is_type<g::cell_set>() ? n : *n.children.at(0);
      cell.kind = n.is_type<g::cell_set>() ? ast::CellKind::set : ast::CellKind::not_set;
      for (const auto& v : set.children) cell.values.push_back(cell_value(*v));
    } else if (n.is_type<g::cell_value>()) {
      cell.kind = ast::CellKind::equals;
      cell.values.push_back(cell_value(n));
    } else {
      throw InternalError(fmt::format("unexpected cell node {}", n.type));
    }
    return cell;
  }

  ast::ExprPtr cell_value(const Node& n) {
    const Node& v = n.is_type<g::cell_value>() || n.is_type<g::output_cell>()
                        ? (n.children.empty() ? n : *n.children.at(0))
                        : n;
    if (v.is_type<g::output_cell>()) return cell_value(v);
    if (v.is_type<g::cell_negative>()) {
      auto e = std::make_unique<ast::Expr>();
      e->kind = ast::ExprKind::negate;
      e->span = span(v);
      e->args.push_back(expr(*v.children.at(0)));
      return e;
    }
    return expr(v);
  }

  static ast::BinaryOp compare_op(const Node& n) {
    if (n.is_type<g::op_eq>()) return ast::BinaryOp::eq;
    if (n.is_type<g::op_ne>()) return ast::BinaryOp::ne;
    if (n.is_type<g::op_lt>()) return ast::BinaryOp::lt;
    if (n.is_type<g::op_le>()) return ast::BinaryOp::le;
    if (n.is_type<g::op_gt>()) return ast::BinaryOp::gt;
    if (n.is_type<g::op_ge>()) return ast::BinaryOp::ge;
    throw InternalError(fmt::format("unexpected comparison node {}", n.type));
  }

  // ---- expressions ----------------------------------------------------------

  ast::ExprPtr make(ast::ExprKind kind, const Node& n) {
    auto e = std::make_unique<ast::Expr>();
    e->kind = kind;
    e->span = span(n);
    return e;
  }

  ast::ExprPtr name_expr(const Node& n) {
    auto e = make(ast::ExprKind::name, n);
    if (n.children.size() == 2) {
      e->qualifier = n.children[0]->string();
      e->text = n.children[1]->string();
    } else {
      e->text = n.string();
    }
    return e;
  }

  ast::ExprPtr binary(ast::BinaryOp op, ast::ExprPtr lhs, ast::ExprPtr rhs) {
    auto e = std::make_unique<ast::Expr>();
    e->depth = std::max(lhs->depth, rhs->depth) + 1;
    if (e->depth > kMaxExpressionDepth) {
      throw SyntaxError{rhs->span.begin, fmt::format("the expression is too long: more than {} operators in a row", kMaxExpressionDepth)};
    }
    e->kind = ast::ExprKind::binary;
    e->op = op;
    e->span = {file_id_, lhs->span.begin, rhs->span.end};
    e->args.push_back(std::move(lhs));
    e->args.push_back(std::move(rhs));
    return e;
  }

  // Left-associative chain: operand (op operand)*.
  ast::ExprPtr chain(const Node& n) {
    ast::ExprPtr lhs = expr(*n.children.at(0));
    for (size_t i = 1; i + 1 < n.children.size(); i += 2) {
      const Node& op = *n.children[i];
      ast::BinaryOp bop = op.is_type<g::op_add>()        ? ast::BinaryOp::add
                          : op.is_type<g::op_sub>()      ? ast::BinaryOp::sub
                          : op.is_type<g::op_mul>()      ? ast::BinaryOp::mul
                          : op.is_type<g::op_div>()      ? ast::BinaryOp::div
                          : op.is_type<g::op_coalesce>() ? ast::BinaryOp::coalesce
                          : op.is_type<g::op_and>()      ? ast::BinaryOp::and_
                                                         : ast::BinaryOp::or_;
      lhs = binary(bop, std::move(lhs), expr(*n.children[i + 1]));
    }
    return lhs;
  }

  ast::ExprPtr expr(const Node& n) {
    ast::ExprPtr e = expr_node(n);
    for (const auto& a : e->args) e->depth = std::max(e->depth, a->depth + 1);
    if (e->depth > kMaxExpressionDepth) {
      throw SyntaxError{e->span.begin, fmt::format("the expression is too deep: more than {} levels", kMaxExpressionDepth)};
    }
    return e;
  }

  ast::ExprPtr expr_node(const Node& n) {
    using K = ast::ExprKind;
    if (n.is_type<g::or_expr>() || n.is_type<g::and_expr>() || n.is_type<g::add_expr>() ||
        n.is_type<g::mul_expr>() || n.is_type<g::coalesce_expr>()) {
      return chain(n);
    }
    if (n.is_type<g::not_expr>()) {  // op_not operand
      auto e = make(K::not_, n);
      e->args.push_back(expr(*n.children.at(1)));
      return e;
    }
    if (n.is_type<g::unary_expr>()) {  // op_neg operand
      auto e = make(K::negate, n);
      e->args.push_back(expr(*n.children.at(1)));
      return e;
    }
    if (n.is_type<g::compare_expr>()) {
      ast::ExprPtr lhs = expr(*n.children.at(0));
      const Node& tail = *n.children.at(1);
      if (tail.is_type<g::compare_tail>()) {
        auto e = binary(compare_op(*tail.children.at(0)), std::move(lhs), expr(*tail.children.at(1)));
        return e;
      }
      if (tail.is_type<g::presence_test>()) {
        std::string_view t = tail.string_view();
        if (t.ends_with("empty")) {  // `s is empty`, `s is not empty`
          auto e = make(K::empty, n);
          e->negated = t.find("not") != std::string_view::npos;
          e->args.push_back(std::move(lhs));
          return e;
        }
        auto e = make(K::presence, n);
        bool has_not = t.find("not") != std::string_view::npos;
        bool says_missing = t.find("missing") != std::string_view::npos;
        e->negated = has_not != says_missing;
        e->args.push_back(std::move(lhs));
        return e;
      }
      if (tail.is_type<g::in_tail>()) {
        auto e = make(K::in, n);
        e->negated = tail.children.size() == 2;
        e->args.push_back(std::move(lhs));
        e->args.push_back(expr(*tail.children.back()));
        return e;
      }
      auto e = make(K::contains, n);  // contains_tail
      e->args.push_back(std::move(lhs));
      e->args.push_back(expr(*tail.children.at(0)));
      return e;
    }
    if (n.is_type<g::number_lit>()) return number(n);
    if (n.is_type<g::string_lit>()) {
      auto e = make(K::text, n);
      e->text = unquote(n.string_view());
      return e;
    }
    if (n.is_type<g::bool_lit>()) {
      auto e = make(K::boolean, n);
      e->boolean = n.string_view() == "true";
      return e;
    }
    if (n.is_type<g::date_lit>()) {
      auto e = make(K::date, n);
      auto days = parse_iso_date(n.string_view());
      if (!days) fail(n, fmt::format("`{}` is not a calendar date", n.string_view()));
      e->date_days = *days;
      return e;
    }
    if (n.is_type<g::today_lit>()) return make(K::today, n);
    if (n.is_type<g::qualified_name>()) return name_expr(n);
    if (n.is_type<g::set_lit>()) {
      auto e = make(K::set, n);
      for (const auto& c : n.children) e->args.push_back(expr(*c));
      return e;
    }
    if (n.is_type<g::call>()) {
      auto e = make(K::call, n);
      e->text = n.children.at(0)->string();
      for (size_t i = 1; i < n.children.size(); ++i) e->args.push_back(expr(*n.children[i]));
      return e;
    }
    if (n.is_type<g::output_cell>() || n.is_type<g::cell_value>()) return cell_value(n);
    if (n.is_type<g::cell_negative>()) return cell_value(n);
    throw InternalError(fmt::format("unexpected expression node {}", n.type));
  }

  ast::ExprPtr number(const Node& n) {
    auto e = make(ast::ExprKind::number, n);
    std::string_view text = n.string_view();
    size_t digits = 0;
    while (digits < text.size() && (std::isdigit(static_cast<unsigned char>(text[digits])) || text[digits] == '.')) {
      ++digits;
    }
    std::string_view num = text.substr(0, digits);
    std::string_view unit = text.substr(digits);
    while (!unit.empty() && (unit.front() == ' ' || unit.front() == '\t')) unit.remove_prefix(1);
    std::string why;
    auto value = Decimal::parse(num, &why);
    if (!value) fail(n, fmt::format("number `{}`: {}", num, why));
    using U = ast::Unit;
    int shift = 0;
    U u = U::none;
    if (unit.empty()) u = U::none;
    else if (unit == "%") { u = U::percent; shift = -2; }
    else if (unit == "万" || unit == "万元") { u = U::yuan; shift = 4; }
    else if (unit == "亿" || unit == "亿元") { u = U::yuan; shift = 8; }
    else if (unit == "元") u = U::yuan;
    else if (unit == "人" || unit == "户" || unit == "家" || unit == "个") u = U::count;
    else if (unit == "年" || unit.starts_with("year")) u = U::years;
    else if (unit == "个月" || unit.starts_with("month")) u = U::months;
    else if (unit == "周" || unit.starts_with("week")) u = U::weeks;
    else if (unit == "天" || unit.starts_with("day")) u = U::days;
    else throw InternalError(fmt::format("unknown unit {}", unit));
    auto shifted = value->shifted(shift);
    if (!shifted) fail(n, fmt::format("`{}` is out of range or has more than 12 decimal places", text));
    e->number = *shifted;
    e->unit = u;
    return e;
  }
};

}  // namespace

std::optional<ast::Module> parse(const SourceSet& sources, uint32_t file_id, Diagnostics& diags) {
  const SourceFile& file = sources.file(file_id);
  const std::string& text = file.text();
  auto error_at = [&](uint32_t offset, std::string message) {
    // Point at one character (or the end of the file).
    uint32_t end = offset;
    if (end < text.size()) {
      size_t i = offset;
      utf8::decode(text, i);
      end = static_cast<uint32_t>(i);
    }
    diags.error("syntax", {file_id, offset, end}, std::move(message));
  };
  if (!utf8::valid(text)) {
    size_t i = 0;
    while (i < text.size()) {
      size_t before = i;
      if (utf8::decode(text, i) == 0xFFFD) { i = before; break; }
    }
    error_at(static_cast<uint32_t>(i), "the file is not valid UTF-8 (save it as UTF-8)");
    return std::nullopt;
  }
  if (auto deep = too_deep(text)) {
    error_at(deep->first, deep->second);
    return std::nullopt;
  }
  pegtl::memory_input in(text.data(), text.size(), file.path());
  try {
    auto root = pegtl::parse_tree::parse<g::file, selector, pegtl::nothing, control>(in);
    if (!root) {
      error_at(0, "could not parse the file");
      return std::nullopt;
    }
    return Builder(file, file_id).module(*root);
  } catch (const pegtl::parse_error& e) {
    uint32_t offset = static_cast<uint32_t>(e.positions().front().byte);
    std::string message(e.message());
    if (message.starts_with("unterminated text")) {
      // Point at the quote that opened the text, not at the end of the line.
      uint32_t open = offset;
      while (open > 0 && text[open - 1] != '\n') --open;
      size_t q = text.rfind('"', offset == 0 ? 0 : offset - 1);
      if (q != std::string::npos && q >= open) offset = static_cast<uint32_t>(q);
    }
    error_at(offset, message);
    return std::nullopt;
  } catch (const SyntaxError& e) {
    error_at(e.offset, e.message);
    return std::nullopt;
  }
}

ast::ExprPtr ast::clone(const Expr& e) {
  auto c = std::make_unique<Expr>();
  c->kind = e.kind;
  c->span = e.span;
  c->number = e.number;
  c->unit = e.unit;
  c->text = e.text;
  c->qualifier = e.qualifier;
  c->boolean = e.boolean;
  c->date_days = e.date_days;
  c->op = e.op;
  c->negated = e.negated;
  c->depth = e.depth;
  for (const auto& a : e.args) c->args.push_back(clone(*a));
  return c;
}

}  // namespace stratum
