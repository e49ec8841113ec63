// Analyser, witnesses: a customer inside a box (valid under every field's
// domain, linear values fitted), shown as a counter-example, and evaluated to
// confirm a finding.
#include "analysis/analyser.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace stratum::analysis {

// ---- counter-examples -------------------------------------------------------

std::optional<Analyser::Example> Analyser::example(const Box& b) {
  Example ex;
  for (size_t i = 0; i < p_.fields.size(); ++i) {
    const Var& v = vars_[i];
    const Dom& d = b[i];
    if (values_empty(d, v)) {
      ex.values.push_back(eval::missing_value());
      ex.present.push_back(0);
      continue;
    }
    Value val;
    switch (v.kind) {
      case Kind::interval: {
        int128 unit = v.type.base == BaseType::date ? 1 : kScale;
        int128 pick;
        if (d.lo <= 0 && d.hi >= 0) pick = 0;
        else if (d.lo > 0) pick = ceil_to(d.lo, unit) <= d.hi ? ceil_to(d.lo, unit) : d.lo;
        else pick = floor_to(d.hi, unit) >= d.lo ? floor_to(d.hi, unit) : d.hi;
        if (v.type.base == BaseType::date && d.lo <= 19723 && d.hi >= 19723) pick = 19723;  // 2024-01-01
        val = {pick, {}};
        break;
      }
      case Kind::mask: {
        int32_t code = 0;
        while (!((d.mask >> code) & 1)) ++code;
        val = {code, {}};
        break;
      }
      case Kind::text: {
        if (d.text_in) {
          val = {0, d.texts.front()};
        } else {
          std::string t = "其他";
          for (int k = 1; std::find(d.texts.begin(), d.texts.end(), t) != d.texts.end(); ++k) t = fmt::format("其他{}", k);
          texts_.push_back(t);
          val = {0, texts_.back()};
        }
        break;
      }
      case Kind::opaque:
        val = {0, {}};
        break;
    }
    ex.values.push_back(val);
    ex.present.push_back(1);
  }
  // Linear `let`s: move one of their fields so each lands in its interval.
  for (const auto& [var, lin] : linear_vars_) {
    const Dom& want = b[var];
    const Var& v = vars_[var];
    if (covers(want, v.universe, v)) continue;
    if (!linear_fit(lin, want, b, ex)) return std::nullopt;
  }
  // Set fields: the members whose atom must be (or may be) held.
  for (size_t i = 0; i < p_.fields.size(); ++i) {
    const auto& f = p_.fields[i];
    if (!f.type.is_set || !ex.present[i]) continue;
    int128 mask = 0;
    std::string joined;
    for (int32_t a : atom_) {
      const Var& v = vars_[a];
      if (v.set_field != static_cast<int32_t>(i)) continue;
      bool hold = (b[a].mask & 2) && !(b[a].mask & 1);  // only "yes" allowed
      if (!hold) continue;
      if (f.type.base == BaseType::text) {
        if (!joined.empty()) joined += eval::kSetSeparator;
        joined += members_[i][v.member];
      } else {
        mask |= static_cast<int128>(1) << v.member;
      }
    }
    if (f.type.base == BaseType::text) {
      texts_.push_back(joined);
      ex.values[i] = {f.known_mask(texts_.back()), texts_.back()};
    } else {
      ex.values[i] = {mask, {}};
    }
  }
  for (size_t i = base_vars_; i < vars_.size(); ++i) {
    if (!covers(b[i], vars_[i].universe, vars_[i])) return std::nullopt;  // needs a particular computed value
  }
  return ex;
}

Decimal Analyser::linear_value(const Linear& lin, const Example& ex) const {
  Decimal v = lin.constant;
  for (auto [f, c] : lin.terms) {
    Decimal x = Decimal::from_raw(ex.values[f].n);
    if (!ex.present[f]) {
      for (auto [g, dflt] : lin.defaults) if (g == f) x = dflt;
    }
    v = v + c * x;
  }
  return v;
}

bool Analyser::linear_fit(const Linear& lin, const Dom& want, const Box& b, Example& ex) {
  try {
    Decimal now = linear_value(lin, ex);
    if (now.raw() >= want.lo && now.raw() <= want.hi) return true;
    // A target inside the interval: a whole number near its low end if possible.
    int128 target = want.lo > kLow ? ceil_to(want.lo, kScale) : (want.hi / kScale) * kScale;
    if (target > want.hi || target < want.lo) target = want.lo > kLow ? want.lo : want.hi;
    for (auto [f, c] : lin.terms) {
      if (c.raw() == 0) continue;
      const Var& fv = vars_[f];
      if (!covers(b[f], present_dom(fv), fv)) continue;  // this field is constrained by the box: keep it
      Decimal x = Decimal::from_raw(ex.present[f] ? ex.values[f].n : 0);
      Decimal rest = now - c * x;
      Decimal need = (Decimal::from_raw(target) - rest) / c;
      if (fv.whole) need = need.round_half_up(0);
      if (need.raw() < fv.universe.lo || need.raw() > fv.universe.hi) continue;
      ex.values[f] = {need.raw(), {}};
      ex.present[f] = 1;
      Decimal after = linear_value(lin, ex);
      if (after.raw() >= want.lo && after.raw() <= want.hi) return true;
    }
  } catch (const ArithmeticError&) {
  }
  return false;
}

std::vector<ExampleValue> Analyser::describe(const Example& ex) const {
  std::vector<ExampleValue> out;
  for (size_t i = 0; i < p_.fields.size(); ++i) {
    const auto& f = p_.fields[i];
    if (!ex.present[i]) {
      out.push_back({f.name, "missing", "null"});
      continue;
    }
    std::string text = p_.format(ex.values[i], f.type);
    if (f.type.is_set) {
      std::string json = "[";
      size_t start = 0;
      while (!text.empty() && start <= text.size()) {
        size_t end = text.find(';', start);
        if (end == std::string::npos) end = text.size();
        json += (json.size() > 1 ? "," : "") + ("\"" + json_escape(text.substr(start, end - start)) + "\"");
        start = end + 1;
      }
      json += "]";
      out.push_back({f.name, "{" + text + "}", json});
      continue;
    }
    bool number = !f.type.is_set && (f.type.base == BaseType::int_ || f.type.base == BaseType::decimal ||
                                     f.type.base == BaseType::money || f.type.base == BaseType::boolean);
    std::string shown = f.type.base == BaseType::money ? text + "元" : text;
    out.push_back({f.name, shown, number ? text : "\"" + json_escape(text) + "\""});
  }
  return out;
}

eval::Frame Analyser::frame_of(const Example& ex) const {
  eval::Frame f = p_.make_frame();
  for (size_t i = 0; i < p_.fields.size(); ++i) {
    f.slots[i] = ex.values[i];
    f.state[i] = ex.present[i];
  }
  f.has_today = true;
  f.today = 19723;
  return f;
}

// True when evaluating `slot` for the customer fails for want of a row or branch.
// The reason evaluating `slot` fails for the customer, or nothing when it
// does not fail.
std::optional<std::string> Analyser::failure(const Example& ex, int32_t slot) const {
  eval::Frame f = frame_of(ex);
  try {
    p_.slot(f, slot);
  } catch (const eval::EvalError& e) {
    return std::string(e.what());
  }
  return std::nullopt;
}

// The line of the earlier branch of `der` that takes the customer.
std::string Analyser::branch_taking(const eval::Derived& der, const Example& ex, const eval::Branch* before) const {
  eval::Frame f = frame_of(ex);
  for (const auto& b : der.branches) {
    if (&b == before) break;
    try {
      if (b.condition < 0 || p_.evaluate_node(f, b.condition).n) {
        return fmt::format("for this customer the branch at line {} applies first", b.origin.line);
      }
    } catch (const eval::EvalError&) {
      return std::string();
    }
  }
  return std::string();
}

}  // namespace stratum::analysis
