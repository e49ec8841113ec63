// Boxes: regions of customers, as the analysis reasons about them.
//
// A variable is an input field (or a membership in a set field, or a value
// computed from the inputs); its domain in a box is an interval of exact
// values, a set of enum codes or booleans, a set of texts or its complement,
// and whether "missing" is allowed. A box holds one domain per variable; a
// region is a union of boxes. Boxes know nothing of rules: the analysis
// (analyser.hpp) turns conditions into boxes and boxes into customers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "eval/program.hpp"
#include "value/decimal.hpp"
#include "value/type.hpp"

namespace stratum::analysis {

// Every number the rules or the data can hold lies in [kLow, kHigh]: the
// exact range of Decimal, so "no value beyond" is a fact, not a cap.
inline constexpr int128 kLow = -Decimal::kMaxRaw;
inline constexpr int128 kHigh = Decimal::kMaxRaw;
inline constexpr size_t kMaxBoxes = 20000;
inline constexpr int128 kScale = Decimal::kScale;

enum class Kind { interval, mask, text, opaque };

struct Dom {
  bool missing = false;  // "missing" allowed
  bool present = true;   // present values allowed (then `values` below)
  int128 lo = kLow, hi = kHigh;
  unsigned __int128 mask = 0;
  bool text_in = false;  // text: in `texts` (true) or not in it (false)
  std::vector<std::string_view> texts;
};

using Box = std::vector<Dom>;
using Boxes = std::vector<Box>;

// What could not be proven, and why: thrown where the analysis gives up.
struct Unknown {
  std::string reason;
};

struct Var {
  std::string name;
  Type type;
  Kind kind;
  bool whole = false;   // int: multiples of the scale
  int32_t codes = 0;    // enum / bool
  Dom universe;
  bool field = true;    // false: a computed column
  int32_t set_field = -1;   // a membership atom: does set field `set_field` hold member `member`?
  int32_t member = -1;
  int32_t let_slot = -1;    // a `let` linear in the inputs: its value, a variable of its own
  int32_t expr_node = -1;   // or a linear expression written in a condition (`a + b < 1万`)
};

// ---- one dimension -----------------------------------------------------------

// The closed raw interval of a comparison with constants.
std::optional<std::pair<int128, int128>> interval_of(eval::TestKind k, int128 low, int128 high, bool low_closed, bool high_closed);
// The least multiple of unit at or above x.
int128 ceil_to(int128 x, int128 unit);
// The greatest multiple of unit at or below x (division rounds toward
// zero, which for negative x would be above it).
int128 floor_to(int128 x, int128 unit);
// Whether d allows no present value of v (an int interval without a whole number counts).
bool values_empty(const Dom& d, const Var& v);
// Whether d allows nothing: no present value, and not missing.
bool empty(const Dom& d, const Var& v);
// The values both a and b allow.
Dom meet(const Dom& a, const Dom& b, const Var& v);
// The parts of the variable's universe outside d, as disjoint pieces.
std::vector<Dom> complement(const Dom& d, const Var& v);
// Whether every value inner allows, outer allows too.
bool covers(const Dom& outer, const Dom& inner, const Var& v);

// ---- boxes -------------------------------------------------------------------

// Boxes over a list of variables. The variables are read at every call (the
// caller may add some and remove them again between calls); `tick` is called
// in the inner loops and may throw Unknown to give up (a time budget).
class BoxAlgebra {
 public:
  BoxAlgebra(const std::vector<Var>& vars, std::function<void()> tick) : vars_(vars), tick_(std::move(tick)) {}

  // Every customer: each variable's universe.
  Box universe() const;
  // a ∩ b, or nothing when some dimension is empty.
  std::optional<Box> meet(const Box& a, const Box& b) const;
  // a − b as disjoint boxes.
  Boxes subtract(const Box& a, const Box& b) const;
  // from − what (Unknown beyond kMaxBoxes boxes).
  Boxes subtract(const Boxes& from, const Boxes& what) const;
  // The non-empty meets of a box of a and a box of b (Unknown beyond kMaxBoxes boxes).
  Boxes intersect(const Boxes& a, const Boxes& b) const;
  // Every customer whose variable `var` lies in d.
  Box with(int32_t var, Dom d) const;

 private:
  const std::vector<Var>& vars_;
  std::function<void()> tick_;
};

}  // namespace stratum::analysis
