// Boxes: the per-variable operations and the box algebra (boxes.hpp).
#include "analysis/boxes.hpp"

#include <algorithm>

namespace stratum::analysis {

using eval::TestKind;

std::optional<std::pair<int128, int128>> interval_of(TestKind k, int128 low, int128 high, bool low_closed, bool high_closed) {
  switch (k) {
    case TestKind::ge: return std::make_pair(low, kHigh);
    case TestKind::gt: return std::make_pair(low + 1, kHigh);
    case TestKind::le: return std::make_pair(kLow, low);
    case TestKind::lt: return std::make_pair(kLow, low - 1);
    case TestKind::eq: return std::make_pair(low, low);
    case TestKind::range: return std::make_pair(low_closed ? low : low + 1, high_closed ? high : high - 1);
    default: return std::nullopt;
  }
}

// ---- one dimension ----------------------------------------------------------

bool values_empty(const Dom& d, const Var& v) {
  if (!d.present) return true;
  switch (v.kind) {
    case Kind::interval: {
      if (d.lo > d.hi) return true;
      if (!v.whole) return false;
      int128 first = ceil_to(d.lo, kScale);
      return first > d.hi;
    }
    case Kind::mask: return d.mask == 0;
    case Kind::text: return d.text_in && d.texts.empty();
    case Kind::opaque: return false;
  }
  return false;
}

bool empty(const Dom& d, const Var& v) { return !d.missing && values_empty(d, v); }

int128 ceil_to(int128 x, int128 unit) {
  int128 q = x / unit;
  if (x % unit > 0) ++q;
  return q * unit;
}

int128 floor_to(int128 x, int128 unit) {
  int128 q = x / unit;
  if (x % unit < 0) --q;
  return q * unit;
}

Dom meet(const Dom& a, const Dom& b, const Var& v) {
  Dom r;
  r.missing = a.missing && b.missing;
  r.present = a.present && b.present;
  switch (v.kind) {
    case Kind::interval:
      r.lo = std::max(a.lo, b.lo);
      r.hi = std::min(a.hi, b.hi);
      break;
    case Kind::mask: r.mask = a.mask & b.mask; break;
    case Kind::text: {
      auto has = [](const std::vector<std::string_view>& s, std::string_view x) { return std::find(s.begin(), s.end(), x) != s.end(); };
      if (a.text_in && b.text_in) {
        r.text_in = true;
        for (auto x : a.texts) if (has(b.texts, x)) r.texts.push_back(x);
      } else if (a.text_in || b.text_in) {
        const Dom& in = a.text_in ? a : b;
        const Dom& out = a.text_in ? b : a;
        r.text_in = true;
        for (auto x : in.texts) if (!has(out.texts, x)) r.texts.push_back(x);
      } else {
        r.text_in = false;
        r.texts = a.texts;
        for (auto x : b.texts) if (!has(r.texts, x)) r.texts.push_back(x);
      }
      break;
    }
    case Kind::opaque: break;
  }
  return r;
}

std::vector<Dom> complement(const Dom& d, const Var& v) {
  std::vector<Dom> out;
  const Dom& u = v.universe;
  if (u.missing && !d.missing) {
    Dom m = u;
    m.present = false;
    m.missing = true;
    out.push_back(m);
  }
  auto piece = [&]() {
    Dom x = u;
    x.missing = false;
    return x;
  };
  if (!d.present) {
    Dom x = piece();
    if (!values_empty(x, v)) out.push_back(x);
    return out;
  }
  switch (v.kind) {
    case Kind::interval: {
      if (d.lo > u.lo) { Dom x = piece(); x.hi = std::min(u.hi, d.lo - 1); if (!values_empty(x, v)) out.push_back(x); }
      if (d.hi < u.hi) { Dom x = piece(); x.lo = std::max(u.lo, d.hi + 1); if (!values_empty(x, v)) out.push_back(x); }
      break;
    }
    case Kind::mask: { Dom x = piece(); x.mask = u.mask & ~d.mask; if (x.mask) out.push_back(x); break; }
    case Kind::text: {
      Dom x = piece();
      x.text_in = !d.text_in;
      x.texts = d.texts;
      if (!values_empty(x, v)) out.push_back(x);
      break;
    }
    case Kind::opaque: break;
  }
  return out;
}

bool covers(const Dom& outer, const Dom& inner, const Var& v) {
  for (const Dom& c : complement(outer, v)) {
    if (!empty(meet(c, inner, v), v)) return false;
  }
  return true;
}

// ---- boxes ------------------------------------------------------------------

Box BoxAlgebra::universe() const {
  Box b;
  for (const auto& v : vars_) b.push_back(v.universe);
  return b;
}

std::optional<Box> BoxAlgebra::meet(const Box& a, const Box& b) const {
  Box r(a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    r[i] = analysis::meet(a[i], b[i], vars_[i]);
    if (empty(r[i], vars_[i])) return std::nullopt;
  }
  return r;
}

Boxes BoxAlgebra::subtract(const Box& a, const Box& b) const {
  tick_();
  if (!meet(a, b)) return {a};
  Boxes out;
  Box prefix = a;
  for (size_t i = 0; i < a.size(); ++i) {
    if (covers(b[i], a[i], vars_[i])) continue;
    for (const Dom& c : complement(b[i], vars_[i])) {
      Dom part = analysis::meet(c, a[i], vars_[i]);
      if (empty(part, vars_[i])) continue;
      Box piece = prefix;
      piece[i] = part;
      out.push_back(std::move(piece));
    }
    prefix[i] = analysis::meet(a[i], b[i], vars_[i]);
  }
  return out;
}

Boxes BoxAlgebra::subtract(const Boxes& from, const Boxes& what) const {
  Boxes cur = from;
  for (const Box& w : what) {
    Boxes next;
    for (const Box& c : cur) {
      for (auto& piece : subtract(c, w)) next.push_back(std::move(piece));
    }
    cur = std::move(next);
    if (cur.size() > kMaxBoxes) throw Unknown{"the conditions are too many to analyse"};
  }
  return cur;
}

Boxes BoxAlgebra::intersect(const Boxes& a, const Boxes& b) const {
  Boxes out;
  for (const Box& x : a) {
    for (const Box& y : b) {
      tick_();
      if (auto m = meet(x, y)) out.push_back(std::move(*m));
    }
    if (out.size() > kMaxBoxes) throw Unknown{"the conditions are too many to analyse"};
  }
  return out;
}

Box BoxAlgebra::with(int32_t var, Dom d) const {
  Box b = universe();
  b[var] = analysis::meet(b[var], d, vars_[var]);
  return b;
}

}  // namespace stratum::analysis
