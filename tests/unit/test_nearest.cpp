// Counterfactuals (explain --nearest): every change proposed, made to the
// customer's record and decided again through the engine, gives the value it
// promised — for many customers of the corporate example portfolio.
#include <catch2/catch.hpp>

#include <random>

#include "engine/decider.hpp"
#include "io/readers.hpp"

using namespace stratum;

namespace {

const std::string kSource = STRATUM_SOURCE_DIR;

// The record's texts, per field slot ("" where absent).
std::vector<std::string> texts_of(const io::RawRecord& raw) {
  std::vector<std::string> out;
  for (const auto& f : raw.fields) {
    if (f.kind == io::RawKind::absent) { out.emplace_back(); continue; }
    std::string t(f.text);
    for (size_t k = 0; k < f.items.size(); ++k) t += (k ? ";" : "") + std::string(f.items[k]);
    out.push_back(t);
  }
  return out;
}

// A set field's empty text is the empty set; any other field's, a missing value.
io::RawRecord record_of(const eval::Program& p, const std::vector<std::string>& texts) {
  io::RawRecord raw;
  raw.fields.resize(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    if (!texts[i].empty() || p.fields[i].type.is_set) raw.fields[i] = {io::RawKind::text, texts[i], {}};
  }
  return raw;
}

std::string value_of(const engine::Decider& d, const std::string& output) {
  const auto& p = d.program();
  for (const auto& o : p.outputs) {
    if (o.name == output && !o.plan) return p.format(d.frame().slots[o.slot], p.derived[o.slot - p.fields.size()].type);
  }
  FAIL("no output " << output);
  return {};
}

}  // namespace

TEST_CASE("every counterfactual re-evaluates to its target (corporate portfolio, random customers)") {
  auto rules = engine::RuleSet::load(kSource + "/rules/corporate_segments.strat");
  REQUIRE(rules->ok());
  const auto& p = rules->program();
  auto reader = io::open_reader(kSource + "/examples/corporate_portfolio.csv", io::Format::csv);
  io::Binder binder(p);
  REQUIRE_FALSE(reader->open(binder.columns(), binder.required()));
  std::vector<std::vector<std::string>> rows;
  io::RawRecord raw;
  while (reader->next(raw)) rows.push_back(texts_of(raw));
  REQUIRE(rows.size() > 1000);

  std::mt19937_64 rng(20240630);
  engine::Decider decider(*rules);
  engine::Decider again(*rules);
  Nearest nearest(p);
  std::vector<uint8_t> fixed = engine::fixed_fields(p, {"industry"});
  size_t customers = 0, checked = 0;
  for (int k = 0; k < 300; ++k) {
    const auto& row = rows[rng() % rows.size()];
    engine::Rejection why;
    io::RawRecord r = record_of(p, row);
    if (!decider.decide(r, why)) continue;
    ++customers;
    Counterfactuals found = nearest.find(decider.frame(), k % 2 ? fixed : std::vector<uint8_t>{});
    for (const auto& m : found.moves) {
      INFO("customer " << row[p.key_field] << ": " << m.text);
      if (k % 2) CHECK(m.field != "industry");
      size_t f = 0;
      while (f < p.fields.size() && p.fields[f].name != m.field) ++f;
      REQUIRE(f < p.fields.size());
      std::vector<std::string> changed = row;
      changed[f] = m.data;
      io::RawRecord moved = record_of(p, changed);
      REQUIRE(again.bind(moved, why));
      REQUIRE(again.evaluate(engine::Decider::Part::decisions, why) == m.rejected.empty());
      CHECK(value_of(again, m.output) == m.target);
      ++checked;
    }
  }
  CHECK(customers > 200);
  CHECK(checked > customers);  // several counterfactuals per customer
}
