// Tables compiled to decision structures (Table::RowSets).
//
// Row by row, a table tries its rows in order and each row its cells in
// order. When every column a cell tests reads a field or a computed value
// (a `let`, a decision) and every bound is a constant, a cell's outcome
// depends only on that value, and no cell can fail once the values are
// there: the rows a customer matches can then be found per column instead.
// Fields must be present. Computed values are computed first, before any
// row is tried, which row by row may not need: so only when no explanation
// or coverage is being recorded (they would show the extra values), and a
// value that fails to compute, or is missing, leaves the customer to the
// rows tried one by one, which then fail (or not) exactly as before.
// Two structures, chosen per table:
//
// - small groups: after the enum index (the rows of the customer's code, at
//   most 64), every test an interval on a number; all of them are evaluated
//   without a branch into a mask of failing rows, and the first row left is
//   the hit;
// - row sets: per column, the sorted constant bounds cut the values into
//   elementary intervals (each bound alone, and the open stretches between
//   them), on each of which every cell of the column passes or fails as a
//   whole; each interval (or enum code) keeps the set of rows passing there,
//   one bit per row. A customer's rows are the AND of one set per column,
//   found by binary search; rows with a test no column decides are tried as
//   written.
//
// Both are built from the cells' own test (Program::passes) (each interval's sets from a value
// inside it), so they decide as the rows do; tests/unit/test_row_sets.cpp
// compares them with the row-by-row semantics on every shipped rule file and
// on random tables.
#include <bit>
#include <limits>

#include "eval/program.hpp"

#include "diag/diagnostic.hpp"

namespace stratum::eval {

namespace {

constexpr int128 kHighest = static_cast<int128>(~static_cast<unsigned __int128>(0) >> 1);
constexpr int128 kLowest = -kHighest - 1;

// The closed interval a numeric test passes, when it is one.
bool interval_of(const CellTest& t, int128& lo, int128& hi) {
  lo = kLowest;
  hi = kHighest;
  const int128 b = t.low.n;
  switch (t.kind) {
    case TestKind::ge: lo = b; return true;
    case TestKind::gt: lo = b + 1; return true;
    case TestKind::le: hi = b; return true;
    case TestKind::lt: hi = b - 1; return true;
    case TestKind::eq: lo = hi = b; return true;
    case TestKind::range:
      lo = t.low_closed ? b : b + 1;
      hi = t.high_closed ? t.high.n : t.high.n - 1;
      return true;
    default: return false;
  }
}

// Words of bit sets beyond which a column is not worth its memory (16 MiB).
constexpr size_t kMaxWords = size_t{1} << 21;

}  // namespace

void Program::compile_rows(int32_t ti) {
  Table& t = tables[ti];
  t.row_sets.reset();
  t.row_results.clear();
  bool constant = true;
  for (const Row& row : t.rows) {
    if (row.outputs.size() != t.output_slots.size()) constant = false;
    for (int32_t o : row.outputs) constant = constant && nodes[o].op == Op::constant;
  }
  if (constant) {
    for (const Row& row : t.rows) {
      for (int32_t o : row.outputs) t.row_results.push_back(nodes[o].constant);
    }
  }
  if (t.rows.empty()) return;
  Table::RowSets rs;
  const size_t n_fields = fields.size();
  // The slot each column reads (a field or a computed value), -1 for an expression.
  std::vector<int32_t> field_of(t.columns.size(), -1);
  for (size_t c = 0; c < t.columns.size(); ++c) {
    const Node& n = nodes[t.columns[c]];
    if ((n.op == Op::field && static_cast<size_t>(n.index) < n_fields) ||
        (n.op == Op::derived && static_cast<size_t>(n.index) >= n_fields && static_cast<size_t>(n.index) < slot_count())) {
      field_of[c] = n.index;
    }
  }
  auto read = [&](int32_t s) { (static_cast<size_t>(s) < n_fields ? rs.fields : rs.computed).push_back(s); };
  for (const Row& row : t.rows) {
    for (const CellTest& c : row.tests) {
      if (field_of[c.column] < 0 || c.low_node >= 0 || c.high_node >= 0) return;  // a cell that may compute, and fail
      read(field_of[c.column]);
    }
  }
  if (t.index_column >= 0) {
    // Row by row, the indexed column is read first for every customer, even
    // when no cell of it tests anything: a field is then needed as well, and
    // a computed value computed.
    if (field_of[t.index_column] < 0) return;
    read(field_of[t.index_column]);
  }
  for (auto* list : {&rs.fields, &rs.computed}) {
    std::sort(list->begin(), list->end());
    list->erase(std::unique(list->begin(), list->end()), list->end());
  }
  auto type_of = [&](int32_t s) -> const Type& {
    return static_cast<size_t>(s) < n_fields ? fields[s].type : derived[static_cast<size_t>(s) - n_fields].type;
  };
  auto numeric = [&](const CellTest& c) {
    const Type& type = type_of(field_of[c.column]);
    return !c.text && !type.is_set && type.base != BaseType::text;
  };

  // Small groups.
  bool indexed = t.index_column >= 0;
  size_t groups = indexed ? t.rows_by_code.size() : 1;
  bool small = true;
  for (size_t g = 0; g < groups && small; ++g) {
    std::vector<int32_t> rows;
    if (indexed) rows = t.rows_by_code[g];
    else for (size_t r = 0; r < t.rows.size(); ++r) rows.push_back(static_cast<int32_t>(r));
    if (rows.size() > 64) { small = false; break; }
    std::vector<Table::RowSets::Bound> lows, highs;
    for (size_t k = 0; k < rows.size() && small; ++k) {
      for (const CellTest& c : indexed ? t.indexed_tests[rows[k]] : t.rows[rows[k]].tests) {
        int128 lo, hi;
        if (c.kind == TestKind::any) continue;
        if (!numeric(c) || !interval_of(c, lo, hi)) { small = false; break; }
        if (lo != kLowest) lows.push_back({lo, field_of[c.column], uint64_t{1} << k});
        if (hi != kHighest) highs.push_back({hi, field_of[c.column], uint64_t{1} << k});
      }
    }
    rs.group_lows.push_back(std::move(lows));
    rs.group_highs.push_back(std::move(highs));
    rs.group_rows.push_back(std::move(rows));
  }
  if (small) {
    rs.small = true;
    rs.group_slot = indexed ? field_of[t.index_column] : -1;
    t.row_sets = std::move(rs);
    return;
  }
  rs.group_lows.clear();
  rs.group_highs.clear();
  rs.group_rows.clear();

  // Row sets, for tables where trying rows one by one costs more than a few
  // binary searches.
  if (t.rows.size() < 16) return;
  const size_t n_rows = t.rows.size();
  rs.words = static_cast<int32_t>((n_rows + 63) / 64);
  const size_t words = static_cast<size_t>(rs.words);
  rs.all.assign(words, 0);
  for (size_t r = 0; r < n_rows; ++r) rs.all[r / 64] |= uint64_t{1} << (r % 64);
  rs.verify.assign(words, 0);
  std::vector<uint8_t> decided(t.columns.size(), 0);
  for (size_t c = 0; c < t.columns.size(); ++c) {
    if (field_of[c] < 0) continue;
    std::vector<const CellTest*> cells(n_rows, nullptr);
    bool any = false, codes = true, numbers = true;
    for (size_t r = 0; r < n_rows; ++r) {
      for (const CellTest& x : t.rows[r].tests) {
        if (x.column != static_cast<int32_t>(c) || x.kind == TestKind::any) continue;
        cells[r] = &x;
        any = true;
        bool set_test = x.kind == TestKind::in_set || x.kind == TestKind::not_in_set;
        if (!numeric(x) || x.kind == TestKind::missing) codes = numbers = false;
        if (!(x.kind == TestKind::eq || x.kind == TestKind::ne || set_test)) codes = false;
        if (set_test && (x.set < 0 || sets[x.set].text)) numbers = false;
      }
    }
    if (!any) continue;
    const Type& type = type_of(field_of[c]);
    Table::RowSets::Column col;
    col.slot = field_of[c];
    std::vector<Value> representatives;
    if (codes && type.base == BaseType::enum_ && type.enum_id >= 0) {
      col.by_code = true;
      for (size_t code = 0; code < enums[type.enum_id].members.size(); ++code) representatives.push_back({static_cast<int128>(code), {}});
    } else if (numbers) {
      for (const CellTest* x : cells) {
        if (!x) continue;
        if (x->kind == TestKind::in_set || x->kind == TestKind::not_in_set) {
          const ConstSet& s = sets[x->set];
          if (s.numbers.empty() && s.mask != 0) {
            for (int i = 0; i < 128; ++i) if ((s.mask >> i) & 1) col.bounds.push_back(i);
          }
          col.bounds.insert(col.bounds.end(), s.numbers.begin(), s.numbers.end());
        } else {
          col.bounds.push_back(x->low.n);
          if (x->kind == TestKind::range) col.bounds.push_back(x->high.n);
        }
      }
      std::sort(col.bounds.begin(), col.bounds.end());
      col.bounds.erase(std::unique(col.bounds.begin(), col.bounds.end()), col.bounds.end());
      // interval 2k: below bounds[k] (above bounds[k-1]); 2k+1: bounds[k]; the last: above all
      for (size_t k = 0; k <= col.bounds.size(); ++k) {
        int128 below = k < col.bounds.size() ? col.bounds[k] - 1 : col.bounds.empty() ? 0 : col.bounds.back() + 1;
        representatives.push_back({below, {}});  // an empty stretch (k > 0, bounds[k-1] == below) is never looked up
        if (k < col.bounds.size()) representatives.push_back({col.bounds[k], {}});
      }
    } else {
      continue;  // tried as written
    }
    if (representatives.size() * words > kMaxWords) continue;
    col.sets.assign(representatives.size() * words, 0);
    for (size_t i = 0; i < representatives.size(); ++i) {
      uint64_t* set = col.sets.data() + i * words;
      for (size_t r = 0; r < n_rows; ++r) {
        if (!cells[r] || passes(*cells[r], representatives[i])) set[r / 64] |= uint64_t{1} << (r % 64);
      }
    }
    decided[c] = 1;
    rs.columns.push_back(std::move(col));
  }
  if (rs.columns.empty()) return;
  for (size_t r = 0; r < n_rows; ++r) {
    for (const CellTest& x : t.rows[r].tests) {
      if (x.kind != TestKind::any && !decided[x.column]) rs.verify[r / 64] |= uint64_t{1} << (r % 64);
    }
  }
  t.row_sets = std::move(rs);
}

bool Program::compiled_applies(Frame& f, const Table& table) const {
  if (!table.row_sets || f.row_by_row) return false;
  const Table::RowSets& rs = *table.row_sets;
  for (int32_t s : rs.fields) {
    if (f.state[s] != 1) return false;  // a missing value (or, in a test, one not given): row by row
  }
  if (rs.computed.empty()) return true;
  if (f.trace || f.covered || f.reached) return false;  // they would show the values computed first
  for (int32_t s : rs.computed) {
    if (f.state[s] != 2) {
      try {
        slot(f, s);
      } catch (const EvalError&) {
        return false;  // row by row fails (or not) as it would have
      }
    }
    if (is_missing(f.slots[s])) return false;
  }
  return true;
}

void Program::compiled_mask(const Frame& f, const Table& table, uint64_t* mask) const {
  const Table::RowSets& rs = *table.row_sets;
  const size_t words = static_cast<size_t>(rs.words);
  std::copy(rs.all.begin(), rs.all.end(), mask);
  for (const auto& col : rs.columns) {
    int128 x = f.slots[col.slot].n;
    size_t at;
    if (col.by_code) {
      if (x < 0 || x >= static_cast<int128>(col.sets.size() / words)) throw InternalError("enum code out of range");
      at = static_cast<size_t>(x);
    } else {
      size_t k = static_cast<size_t>(std::lower_bound(col.bounds.begin(), col.bounds.end(), x) - col.bounds.begin());
      at = 2 * k + (k < col.bounds.size() && col.bounds[k] == x ? 1 : 0);
    }
    const uint64_t* set = col.sets.data() + at * words;
    for (size_t w = 0; w < words; ++w) mask[w] &= set[w];
  }
}

namespace {
// The bits of a small group's rows that pass every interval test.
uint64_t passing(const Frame& f, const Table::RowSets& rs, size_t g) {
  uint64_t fail = 0;
  for (const auto& t : rs.group_lows[g]) fail |= t.bit & (uint64_t{0} - static_cast<uint64_t>(f.slots[t.slot].n < t.bound));
  for (const auto& t : rs.group_highs[g]) fail |= t.bit & (uint64_t{0} - static_cast<uint64_t>(f.slots[t.slot].n > t.bound));
  size_t rows = rs.group_rows[g].size();
  uint64_t all = rows == 64 ? ~uint64_t{0} : (uint64_t{1} << rows) - 1;
  return all & ~fail;
}
}  // namespace

int32_t Program::compiled_rows(Frame& f, const Table& table, std::vector<int32_t>* all) const {
  const Table::RowSets& rs = *table.row_sets;
  if (all) all->clear();
  if (rs.small) {
    size_t g = 0;
    if (rs.group_slot >= 0) {
      int128 code = f.slots[rs.group_slot].n;
      if (code < 0 || code >= static_cast<int128>(rs.group_rows.size())) throw InternalError("enum code out of range");
      g = static_cast<size_t>(code);
    }
    uint64_t ok = passing(f, rs, g);
    if (!ok) return -2;
    if (all) {
      for (uint64_t bits = ok; bits; bits &= bits - 1) all->push_back(rs.group_rows[g][static_cast<size_t>(std::countr_zero(bits))]);
    }
    return rs.group_rows[g][static_cast<size_t>(std::countr_zero(ok))];
  }
  f.row_mask.resize(static_cast<size_t>(rs.words));
  uint64_t* mask = f.row_mask.data();
  compiled_mask(f, table, mask);
  for (size_t w = 0; w < f.row_mask.size(); ++w) {
    for (uint64_t bits = mask[w]; bits; bits &= bits - 1) {
      size_t r = w * 64 + static_cast<size_t>(std::countr_zero(bits));
      if ((rs.verify[w] >> (r % 64) & 1) && !tests_match(f, table, table.rows[r].tests)) continue;
      if (!all) return static_cast<int32_t>(r);
      all->push_back(static_cast<int32_t>(r));
    }
  }
  return all && !all->empty() ? (*all)[0] : -2;
}

}  // namespace stratum::eval
