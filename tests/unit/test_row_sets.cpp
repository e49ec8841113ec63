// Tables compiled to decision structures (eval/row_sets.cpp) decide exactly
// as the rows tried one by one, in order: on every table of every shipped
// rule file and on random tables of every hit policy, for customers on,
// beside and between every bound the cells name, the rows found are the
// same list, the hit the same row, a rejection the same message.
#include <catch2/catch.hpp>

#include <deque>
#include <filesystem>
#include <random>
#include <set>

#include <fmt/format.h>

#include "driver/stratum.hpp"
#include "tests/unit/random_tables.hpp"

namespace fs = std::filesystem;
using stratum::int128;
using namespace stratum::eval;

namespace {

struct Tally {
  int tables = 0, small = 0, large = 0, customers = 0, compiled_customers = 0;
};

// Values worth giving field `s` for table t: every bound a cell of its
// column names, a step either side, and a few others.
// A field no cell reads (a computed column's input) gets every bound.
std::vector<int128> interesting(const Program& p, const Table& t, int32_t s) {
  std::vector<int128> out = {0, 1, -1};
  bool read = false;
  for (const Row& row : t.rows) {
    for (const CellTest& c : row.tests) read = read || c.slot == s;
  }
  for (const Row& row : t.rows) {
    for (const CellTest& c : row.tests) {
      if (read && c.slot != s) continue;
      for (const Value* v : {&c.low, &c.high}) {
        for (int128 step : {int128{0}, int128{1}, int128{-1}, stratum::Decimal::kScale, -stratum::Decimal::kScale}) {
          out.push_back(v->n + step);
        }
      }
      if (c.set >= 0) {
        for (int128 n : p.sets[c.set].numbers) out.push_back(n);
        for (int i = 0; i < 128; ++i) if ((p.sets[c.set].mask >> i) & 1) out.push_back(i);
      }
    }
  }
  return out;
}

std::vector<std::string_view> texts_of(const Program& p, const Table& t, int32_t s) {
  std::vector<std::string_view> out = {"", "其他"};
  for (const Row& row : t.rows) {
    for (const CellTest& c : row.tests) {
      if (c.slot != s) continue;
      if (c.text) out.push_back(c.low.s);
      if (c.set >= 0) for (auto x : p.sets[c.set].texts) out.push_back(x);
    }
  }
  return out;
}

// One random customer for table t: every field given (or, optional, missing
// one time in ten).
void randomise(const Program& p, const Table& t, Frame& f, std::mt19937_64& rng, std::deque<std::string>& texts) {
  stratum::testing::randomise_fields(
      p, f, rng, texts, {},
      [&](int32_t s, std::mt19937_64& r) {
        auto options = texts_of(p, t, s);
        return options[r() % options.size()];
      },
      [&](int32_t s, std::mt19937_64& r) {
        auto options = interesting(p, t, s);
        return r() % 4 == 0 ? static_cast<int128>(static_cast<int64_t>(r() % 2000000) - 1000000) * stratum::Decimal::kScale / 1000
                            : options[r() % options.size()];
      });
}

// What a table decides for the customer in f: the rows that match, the hit
// of a single-hit policy, or the rejection.
std::string outcome(const Program& p, Frame& f, int32_t t) {
  p.reset(f);
  try {
    std::string out;
    for (int32_t r : p.matching_rows(f, t)) out += fmt::format("{} ", r);
    if (p.tables[t].policy != HitPolicy::collect && p.tables[t].policy != HitPolicy::rule_order &&
        p.tables[t].policy != HitPolicy::output_order) {
      out += fmt::format("hit {}", p.table_hit(f, t));
    }
    return out;
  } catch (const EvalError& e) {
    return std::string("rejected: ") + e.what();
  }
}

// The rows that match, one by one by the row's own test (no index, no
// structure): the reference both paths must give.
std::string reference(const Program& p, Frame& f, int32_t t) {
  p.reset(f);
  try {
    std::string out;
    for (size_t r = 0; r < p.tables[t].rows.size(); ++r) {
      if (p.row_applies(f, t, static_cast<int32_t>(r))) out += fmt::format("{} ", r);
    }
    return out;
  } catch (const EvalError& e) {
    return std::string("rejected: ") + e.what();
  }
}

void compare_tables(const Program& p, const std::string& name, int customers, std::mt19937_64& rng, Tally& tally) {
  Frame f = p.make_frame();
  std::deque<std::string> texts;
  for (size_t t = 0; t < p.tables.size(); ++t) {
    const Table& table = p.tables[t];
    ++tally.tables;
    if (table.row_sets) (table.row_sets->small ? tally.small : tally.large) += 1;
    for (int k = 0; k < customers; ++k) {
      randomise(p, table, f, rng, texts);
      f.row_by_row = true;
      std::string slow = outcome(p, f, static_cast<int32_t>(t));
      f.row_by_row = false;
      std::string fast = outcome(p, f, static_cast<int32_t>(t));
      bool compiled = table.row_sets && std::all_of(table.row_sets->fields.begin(), table.row_sets->fields.end(),
                                                    [&](int32_t s) { return f.state[s] == 1; });
      INFO(name << ", table " << table.name << ", customer " << k << (compiled ? " (compiled)" : ""));
      REQUIRE(fast == slow);
      if (compiled && !fast.starts_with("rejected")) {
        // every cell reads a present field: nothing can fail, and the rows
        // found are the rows whose own test passes (unless the hit policy
        // rejects: two rows of a `unique` table, say)
        std::string rows = reference(p, f, static_cast<int32_t>(t));
        REQUIRE(fast.substr(0, rows.size()) == rows);
        ++tally.compiled_customers;
      }
      ++tally.customers;
    }
  }
}


}  // namespace

TEST_CASE("row sets: every shipped rule file's tables decide as their rows", "[row_sets]") {
  std::mt19937_64 rng(20261129);
  Tally tally;
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(std::string(STRATUM_SOURCE_DIR) + "/rules")) {
    if (entry.path().extension() != ".strat") continue;
    stratum::Compilation c = stratum::compile(entry.path().string());
    INFO(entry.path().string() << "\n" << c.render());
    REQUIRE(c.ok());
    compare_tables(*c.program, entry.path().filename().string(), 600, rng, tally);
    ++files;
  }
  CHECK(files >= 30);
  // the structures are in use: the SME table's small groups, and customers decided by them
  CHECK(tally.small >= 5);
  CHECK(tally.compiled_customers >= 5000);
}

TEST_CASE("row sets: random tables of every hit policy decide as their rows", "[row_sets]") {
  std::mt19937_64 rng(1129);
  Tally tally;
  int compiled = 0, tables = 0;
  for (const char* policy : {"first", "unique", "any", "priority", "collect list", "collect count", "rule order", "output order"}) {
    for (int rows : {3, 9, 17, 40, 70, 130, 300}) {
      for (int round = 0; round < 4; ++round) {
        std::string text = stratum::testing::random_table(rng, rows, policy, round % 2 == 1);
        stratum::Compilation c = stratum::compile_text("random.strat", text, false);
        INFO(text << "\n" << c.render());
        REQUIRE(c.ok());
        compare_tables(*c.program, fmt::format("{} {} rows", policy, rows), 300, rng, tally);
        ++tables;
        compiled += c.program->tables[0].row_sets ? 1 : 0;
      }
    }
  }
  // both structures were built and used
  INFO("small " << tally.small << ", large " << tally.large << ", customers decided by them " << tally.compiled_customers);
  CHECK(tally.small >= 10);
  CHECK(tally.large >= 40);
  CHECK(compiled == tally.small + tally.large);
  CHECK(tally.compiled_customers >= tables * 100);
}

// Columns that are computed values (decisions that reject some customers):
// computed before the rows are tried, and a value that fails leaves the
// customer to the rows one by one, which fail (or not) as before.
TEST_CASE("row sets: tables over computed values decide as their rows", "[row_sets]") {
  std::mt19937_64 rng(291129);
  Tally tally;
  int compiled = 0;
  for (const char* policy : {"first", "unique", "any", "priority", "collect list", "rule order"}) {
    for (int rows : {3, 9, 40, 130}) {
      for (int round = 0; round < 2; ++round) {
        std::string text = stratum::testing::random_table(rng, rows, policy, round % 2 == 1, true);
        stratum::Compilation c = stratum::compile_text("computed.strat", text, false);
        INFO(text << "\n" << c.render());
        REQUIRE(c.ok());
        compare_tables(*c.program, fmt::format("computed, {} {} rows", policy, rows), 400, rng, tally);
        compiled += c.program->tables[0].row_sets ? 1 : 0;
      }
    }
  }
  INFO("small " << tally.small << ", large " << tally.large << ", customers decided by them " << tally.compiled_customers);
  CHECK(compiled >= 20);
  CHECK(tally.compiled_customers >= 5000);
}

// Row by row, an indexed enum column is read for every customer even when
// no cell of it tests anything: not given (in a test) it fails, and computed
// (a decision) its rejection rejects the customer. Compiled, the same.
TEST_CASE("row sets: an indexed column no cell tests is still read", "[row_sets]") {
  auto both = [](const Program& p, Frame& f) {
    f.row_by_row = true;
    std::string slow = outcome(p, f, 0);
    f.row_by_row = false;
    std::string fast = outcome(p, f, 0);
    CHECK(fast == slow);
    return fast;
  };
  {
    stratum::Compilation c = stratum::compile_text("given.strat",
        "enum 码 { 甲, 乙 }\nenum 档 { A, B }\ninput c { id : text key  k : 码  x : int }\n"
        "table t : 档 first {\n  k | x || t\n  - | >= 10 || A\n  - | < 10 || B\n}\n", false);
    INFO(c.render());
    REQUIRE(c.ok());
    const Program& p = *c.program;
    Frame f = p.make_frame();
    f.state[1] = 0;  // k not given (as a test may leave it out)
    f.state[2] = 1;
    f.slots[2].n = 20 * stratum::Decimal::kScale;
    CHECK(both(p, f) == "rejected: the test does not give `k`, which the rules need here");
    f.state[1] = 1;
    CHECK(both(p, f) == "0 hit 0");
  }
  {
    stratum::Compilation c = stratum::compile_text("computed.strat",
        "enum 码 { 甲, 乙 }\nenum 档 { A, B }\ninput c { id : text key  x : int }\n"
        "decide seg : 码 { when x > 100 -> 甲  else -> reject \"no segment\" }\n"
        "table t : 档 first {\n  seg | x || t\n  - | >= 10 || A\n  - | < 10 || B\n}\n", false);
    INFO(c.render());
    REQUIRE(c.ok());
    const Program& p = *c.program;
    CHECK(p.tables[0].row_sets);  // its column is computed first: a rejection leaves the rows to say it
    Frame f = p.make_frame();
    f.state[1] = 1;
    f.slots[1].n = 5 * stratum::Decimal::kScale;
    CHECK(both(p, f) == "rejected: no segment");
    f.slots[1].n = 500 * stratum::Decimal::kScale;
    CHECK(both(p, f) == "0 hit 0");
  }
}
