#include "driver/testing.hpp"

#include <algorithm>
#include <deque>

#include <fmt/format.h>

#include <yaml-cpp/yaml.h>

#include "io/bind.hpp"
#include "value/date.hpp"

namespace stratum {

namespace {

std::string where(const SourceSet& sources, Span span) {
  if (span.file == 0) return "";
  const SourceFile& f = sources.file(span.file);
  return fmt::format("{}:{}", f.path(), f.line_col(span.begin).line);
}

bool same(const eval::Value& a, const eval::Value& b, const Type& t) {
  if (eval::is_missing(a) || eval::is_missing(b)) return eval::is_missing(a) == eval::is_missing(b);
  if (t.base == BaseType::text && !t.is_set) return a.s == b.s;
  if (t.is_list) return a.s == b.s;
  if (t.is_set && t.base == BaseType::text) {  // the same texts, in any order
    auto items = [](std::string_view s) {
      std::vector<std::string_view> out;
      if (s.empty()) return out;
      size_t start = 0;
      for (size_t end; (end = s.find(eval::kSetSeparator, start)) != std::string_view::npos; start = end + 1) out.push_back(s.substr(start, end - start));
      out.push_back(s.substr(start));
      std::sort(out.begin(), out.end());
      out.erase(std::unique(out.begin(), out.end()), out.end());
      return out;
    };
    return items(a.s) == items(b.s);
  }
  return a.n == b.n;
}

// Evaluates the expectations on a frame whose inputs are set.
void check_expectations(const eval::Program& p, eval::Frame& frame,
                        const std::vector<eval::TestCase::Expectation>& expect, TestOutcome& out) {
  for (const auto& x : expect) {
    if (!x.reject.empty()) {
      try {
        const eval::Value& got = p.slot(frame, x.slot);
        out.problems.push_back(fmt::format("{}: expected the rejection \"{}\", got {}", x.name, x.reject, p.format(got, x.type)));
      } catch (const eval::EvalError& e) {
        if (e.what() != x.reject) {
          out.problems.push_back(fmt::format("{}: expected the rejection \"{}\", got the rejection \"{}\"", x.name, x.reject, e.what()));
        }
      }
      continue;
    }
    try {
      const eval::Value& got = p.slot(frame, x.slot);
      if (!same(got, x.value, x.type)) {
        out.problems.push_back(fmt::format("{}: expected {}, got {}", x.name, p.format(x.value, x.type), p.format(got, x.type)));
      }
    } catch (const eval::EvalError& e) {
      out.problems.push_back(fmt::format("{}: expected {}, but evaluation failed: {}", x.name, p.format(x.value, x.type), e.what()));
    }
  }
  p.cover_plan(frame);
  out.passed = out.problems.empty();
}

eval::Frame fresh_frame(const eval::Program& p, std::optional<int32_t> as_of) {
  eval::Frame frame = p.make_frame();
  frame.test_mode = true;
  if (as_of) { frame.today = *as_of; frame.has_today = true; }
  for (size_t i = 0; i < p.fields.size(); ++i) {
    frame.state[i] = 0;
    if (p.fields[i].optional) frame.slots[i] = eval::missing_value();
  }
  return frame;
}

}  // namespace

std::vector<TestOutcome> run_test_blocks(const Compilation& c, std::optional<int32_t> as_of,
                                         std::vector<uint8_t>* covered) {
  std::vector<TestOutcome> out;
  const eval::Program& p = *c.program;
  for (const auto& t : p.tests) {
    TestOutcome o;
    o.name = t.name;
    o.where = where(c.sources, t.span);
    eval::Frame frame = fresh_frame(p, t.today ? t.today : as_of);
    frame.covered = covered;
    for (auto& [slot, value] : t.given) {
      frame.slots[slot] = value;
      frame.state[slot] = eval::is_missing(value) ? 0 : 1;  // `x: missing`, as the binder leaves it
    }
    check_expectations(p, frame, t.expect, o);
    out.push_back(std::move(o));
  }
  return out;
}

std::vector<TestOutcome> run_yaml_cases(const Compilation& c, const std::string& path, std::optional<int32_t> as_of,
                                        std::vector<uint8_t>* covered) {
  std::vector<TestOutcome> out;
  const eval::Program& p = *c.program;
  auto broken = [&](std::string where_, std::string message) {
    TestOutcome o;
    o.name = "(case file)";
    o.where = std::move(where_);
    o.problems.push_back(std::move(message));
    out.push_back(std::move(o));
    return out;
  };
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return broken(path, "cannot read the file");
  } catch (const YAML::Exception& e) {
    return broken(fmt::format("{}:{}", path, e.mark.line + 1), fmt::format("invalid YAML: {}", e.msg));
  }
  if (!root.IsSequence()) return broken(path, "expected a list of cases (`- name: …`, `given: {…}`, `expect: {…}`)");
  io::Binder binder(p);
  size_t index = 0;
  for (const auto& item : root) {
    ++index;
    TestOutcome o;
    o.where = fmt::format("{}:{}", path, item.Mark().line + 1);
    o.name = item.IsMap() && item["name"] && item["name"].IsScalar() ? item["name"].Scalar() : fmt::format("case {}", index);
    if (!item.IsMap() || !item["given"] || !item["given"].IsMap() || !item["expect"] || !item["expect"].IsMap()) {
      o.problems.push_back("a case is a map with `given: {field: value, …}` and `expect: {decision: value, …}`");
      out.push_back(std::move(o));
      continue;
    }
    eval::Frame frame = fresh_frame(p, as_of);
    frame.covered = covered;
    std::deque<std::string> keep;  // text values must outlive the evaluation (stable addresses)
    binder.start_record();
    bool ok = true;
    for (const auto& kv : item["given"]) {
      std::string name = kv.first.Scalar();
      if (name == "today" && kv.second.IsScalar()) {
        auto day = parse_iso_date(kv.second.Scalar());
        if (!day) { o.problems.push_back("given: `today` must be a date YYYY-MM-DD"); ok = false; continue; }
        frame.today = *day;
        frame.has_today = true;
        continue;
      }
      int32_t slot = -1;
      for (size_t i = 0; i < p.fields.size(); ++i) {
        if (p.fields[i].name == name || p.fields[i].column == name) slot = static_cast<int32_t>(i);
      }
      if (slot < 0) { o.problems.push_back(fmt::format("given: `{}` is not an input field", name)); ok = false; continue; }
      const auto& field = p.fields[slot];
      if (kv.second.IsNull()) {
        if (!field.optional) { o.problems.push_back(fmt::format("given: `{}` is required and cannot be null", name)); ok = false; }
        continue;
      }
      // The value goes through the record binder, as a field of a data file would.
      io::RawField rf;
      if (kv.second.IsSequence()) {
        rf.kind = io::RawKind::array;
        for (const auto& e : kv.second) {
          if (!e.IsScalar()) { rf.kind = io::RawKind::object; break; }
          rf.items.push_back(keep.emplace_back(e.Scalar()));
        }
      } else if (kv.second.IsScalar()) {
        rf.kind = io::RawKind::text;
        rf.text = keep.emplace_back(kv.second.Scalar());
      } else {
        rf.kind = io::RawKind::object;
      }
      if (rf.kind == io::RawKind::object) {
        o.problems.push_back(fmt::format("given: `{}` must be a value or a list", name));
        ok = false;
        continue;
      }
      io::Rejection why;
      if (!binder.bind_field(static_cast<size_t>(slot), rf, frame, why)) {
        o.problems.push_back(fmt::format("given: `{}`: {}", name, why.reason));
        ok = false;
        continue;
      }
    }
    std::vector<eval::TestCase::Expectation> expect;
    for (const auto& kv : item["expect"]) {
      std::string name = kv.first.Scalar();
      int32_t slot = -1;
      Type type;
      // `plan.项目` names a plan item; other names a decision, `let` or `segment`.
      std::string lookup = name.starts_with("plan.") ? name.substr(5) : name;
      for (size_t d = 0; d < p.derived.size(); ++d) {
        bool is_plan = p.derived[d].kind == eval::DerivedKind::plan_item;
        if (p.derived[d].name == lookup && is_plan == name.starts_with("plan.")) {
          slot = static_cast<int32_t>(p.fields.size() + d);
          type = p.derived[d].type;
        }
      }
      if (slot < 0) {
        o.problems.push_back(fmt::format("expect: `{}` is not a decision, `let`, `segment` or `plan.…`", name));
        ok = false;
        continue;
      }
      if (kv.second.IsNull()) {
        expect.push_back({name, {}, slot, type, eval::missing_value()});
        continue;
      }
      if (kv.second.IsSequence()) {  // a list's items in order, or a set's members
        if (!type.is_set) {
          o.problems.push_back(fmt::format("expect: `{}` is one value, not a list: write it without `[ ]`", name));
          ok = false;
          continue;
        }
        Type element = type.element();
        std::string joined;
        int128 mask = 0;
        bool items_ok = true;
        size_t k = 0;
        for (const auto& item : kv.second) {
          eval::Value e;
          std::string why;
          if (!item.IsScalar() || !binder.parse_value(keep.emplace_back(item.Scalar()), element, e, why)) {
            o.problems.push_back(fmt::format("expect: `{}`, item {}: {}", name, k + 1, item.IsScalar() ? why : "must be a value"));
            items_ok = false;
            break;
          }
          if (k++) joined += eval::kSetSeparator;
          joined += p.format(e, element);
          if (element.base == BaseType::enum_) mask |= static_cast<int128>(1) << static_cast<int>(e.n);
        }
        if (!items_ok) { ok = false; continue; }
        bool enum_set = element.base == BaseType::enum_ && !type.is_list;
        expect.push_back({name, {}, slot, type, enum_set ? eval::Value{mask, {}} : eval::Value{0, keep.emplace_back(std::move(joined))}});
        continue;
      }
      if (!kv.second.IsScalar()) { o.problems.push_back(fmt::format("expect: `{}` must be a value", name)); ok = false; continue; }
      std::string text = kv.second.Scalar();
      if (type.is_set && text != "missing") {
        o.problems.push_back(fmt::format("expect: `{}` is a {}: write its {} as `[a, b]` (`[]` when empty)", name,
                                         type.is_list ? "list" : "set", type.is_list ? "items in order" : "members"));
        ok = false;
        continue;
      }
      if (name == "segment" && p.segment_slot >= 0) {
        // a leaf's name stands for its path
        for (const auto& node : p.segment_nodes) {
          if (node.leaf >= 0 && node.name == text) text = p.enums[type.enum_id].members[node.leaf];
        }
      }
      eval::Value v;
      std::string why;
      if (text == "missing") {
        expect.push_back({name, {}, slot, type, eval::missing_value()});
        continue;
      }
      keep.push_back(text);
      if (!binder.parse_value(keep.back(), type, v, why)) {
        o.problems.push_back(fmt::format("expect: `{}`: {}", name, why));
        ok = false;
        continue;
      }
      expect.push_back({name, {}, slot, type, v});
    }
    if (ok) check_expectations(p, frame, expect, o);
    if (expect.empty() && ok) { o.problems.push_back("the case expects nothing"); o.passed = false; }
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace stratum
