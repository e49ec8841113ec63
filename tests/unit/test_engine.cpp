// The engine API: rule sets named by their files, compiled again from them
// alone; deciders and batches that decide as eval does.
#include <catch2/catch.hpp>

#include <filesystem>
#include <mutex>
#include <random>

#include "engine/batch.hpp"
#include "engine/rule_set.hpp"
#include "driver/stratum.hpp"
#include "io/bind.hpp"
#include "io/readers.hpp"

using namespace stratum;

namespace {

const std::string kRules = std::string(STRATUM_SOURCE_DIR) + "/rules/";

std::vector<std::string> paths(const engine::Bundle& b) {
  std::vector<std::string> out;
  for (const auto& f : b.files) out.push_back(f.path);
  return out;
}

}  // namespace

TEST_CASE("a rule set carries every file it was compiled from and is named by them") {
  auto rules = engine::RuleSet::load(kRules + "corporate_segments.strat");
  REQUIRE(rules->ok());
  CHECK(paths(rules->bundle()) ==
        std::vector<std::string>{"corporate_segments.strat", "data/strategic_groups.csv", "sme_size.strat"});
  CHECK(rules->hash().size() == 64);
  CHECK(rules->hash() == engine::bundle_hash(rules->bundle().files));

  auto again = engine::RuleSet::from_bundle(rules->bundle());
  REQUIRE(again->ok());
  CHECK(again->hash() == rules->hash());
  CHECK(again->path() == rules->path());
  CHECK(again->compilation().render() == rules->compilation().render());

  // One byte more in one file: another rule set.
  engine::Bundle changed = rules->bundle();
  changed.files[2].text += "\n";
  CHECK(engine::bundle_hash(changed.files) != rules->hash());

  // An imported file missing from the bundle is a diagnostic, as on disk.
  engine::Bundle missing = rules->bundle();
  missing.files.erase(missing.files.begin() + 2);
  auto broken = engine::RuleSet::from_bundle(missing);
  CHECK_FALSE(broken->ok());
  CHECK(broken->compilation().render().find("imported file `sme_size.strat` does not exist") != std::string::npos);

  // Files named outside the rules root stay outside it in memory too.
  engine::Bundle escape{"x/main.strat", {{"main.strat", "import \"../secret.strat\"\n"}, {"../secret.strat", ""}}};
  auto escaped = engine::RuleSet::from_bundle(escape);
  CHECK_FALSE(escaped->ok());
  CHECK(escaped->compilation().render().find("[outside-root]") != std::string::npos);

  CHECK_THROWS_WITH(engine::RuleSet::from_bundle({"a.strat", {}}), "the bundle has no file `a.strat` for its main rule file `a.strat`");
}

TEST_CASE("a folder stands for its one rule file, or main.strat") {
  CHECK_THROWS_WITH(engine::main_rule_file(kRules),
                    Catch::Matchers::StartsWith("the folder " + kRules + " has ") &&
                        Catch::Matchers::EndsWith("and no main.strat: name the rule file to load"));
  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("stratum-engine-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  CHECK_THROWS_WITH(engine::main_rule_file(dir.string()), "the folder " + dir.string() + " has no rule file (*.strat)");
  { std::FILE* f = std::fopen((dir / "only.strat").c_str(), "w"); std::fclose(f); }
  CHECK(engine::main_rule_file(dir.string()) == (dir / "only.strat").string());
  { std::FILE* f = std::fopen((dir / "main.strat").c_str(), "w"); std::fclose(f); }
  CHECK(engine::main_rule_file(dir.string()) == (dir / "main.strat").string());
  std::filesystem::remove_all(dir);
}

TEST_CASE("a batch decides every row once, the same on any number of threads") {
  auto rules = engine::RuleSet::load(kRules + "sme_size.strat");
  REQUIRE(rules->ok());
  const auto& p = rules->program();
  // The example portfolio's rows, 40 times, with some rows made unreadable.
  auto reader = io::open_reader(std::string(STRATUM_SOURCE_DIR) + "/examples/portfolio.csv", io::Format::csv);
  io::Binder binder(p);
  REQUIRE_FALSE(reader->open(binder.columns(), binder.required()));
  std::vector<std::vector<std::string>> rows;
  io::RawRecord raw;
  while (reader->next(raw)) {
    std::vector<std::string> row;
    for (const auto& f : raw.fields) row.emplace_back(f.text);
    rows.push_back(row);
  }
  std::vector<std::vector<std::string>> all;
  for (int k = 0; k < 40; ++k) all.insert(all.end(), rows.begin(), rows.end());
  auto run = [&](unsigned threads) {
    std::vector<std::string> out(all.size());
    std::vector<int> seen(all.size(), 0);
    std::mutex m;
    engine::BatchOptions options;
    options.threads = threads;
    options.rows_per_thread = 100;
    engine::BatchCalls calls;
    calls.fill = [&](unsigned, size_t r, io::RawRecord& raw, engine::Rejection& why) {
      if (r % 97 == 5) {
        why = {"employees", "unreadable"};
        raw.fields[p.key_field] = {io::RawKind::text, all[r][p.key_field], {}};
        return false;
      }
      for (size_t i = 0; i < all[r].size(); ++i) raw.fields[i] = {io::RawKind::text, all[r][i], {}};
      if (r % 89 == 7) raw.fields[2].text = "abc";
      return true;
    };
    calls.decided = [&](unsigned, size_t r, const engine::Decider& d) {
      ++seen[r];
      out[r] = p.format(d.frame().slots[p.outputs[0].slot], p.outputs[0].type);
    };
    calls.rejected = [&](unsigned, size_t r, engine::RejectedRecord&& rej) {
      ++seen[r];
      out[r] = "rejected " + std::to_string(rej.record) + " " + rej.key + " " + rej.why.column + ": " + rej.why.reason;
    };
    engine::decide_batch(*rules, all.size(), options, calls);
    CHECK(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));
    return out;
  };
  auto one = run(1);
  CHECK(run(3) == one);
  CHECK(run(64) == one);
  CHECK(one[5] == "rejected 6 " + all[5][0] + " employees: unreadable");
  CHECK(one[7] == "rejected 8 " + all[7][0] + " employees: \"abc\" is not a number (write plain digits, e.g. 12345.67)");
  CHECK(one[0] == "大型");
  CHECK(engine::split_batch(1000, {{}, 8, 100}).threads == 8);
  CHECK(engine::split_batch(1000, {{}, 8, 400}).threads == 3);
  CHECK(engine::split_batch(0, {{}, 8, 100}).threads == 1);
}

// Numbers of the common shapes are bound by a shorter path (plain digits; a
// sign, digits and a point): for every text of those bytes, on every number
// type, with and without a range, it binds what the general parse gives, or
// leaves the text to the general path, which rejects it with its reason.
TEST_CASE("binding numbers: the short path gives what the general parse gives") {
  Compilation c = compile_text("numbers.strat",
      "input c {\n  id : text key\n  i : int\n  m : money\n  d : decimal\n  p : decimal in [0, 100]\n  n : money >= 0元\n}\n", false);
  INFO(c.render());
  REQUIRE(c.ok());
  const auto& p = *c.program;
  io::Binder binder(p);
  eval::Frame frame = p.make_frame();
  std::mt19937_64 rng(2026);
  const std::string bytes = "0123456789.-+";
  int accepted = 0;
  for (int n = 0; n < 200000; ++n) {
    std::string text;
    for (size_t k = rng() % 20; k > 0; --k) text += bytes[rng() % (rng() % 3 ? 10 : bytes.size())];
    for (size_t f = 1; f < p.fields.size(); ++f) {
      io::RawField raw;
      raw.kind = io::RawKind::text;
      raw.text = text;
      io::Rejection why;
      binder.start_record();
      frame.state[f] = 0;
      bool bound = binder.bind_field(f, raw, frame, why);
      eval::Value want;
      std::string reason;
      bool ok = !text.empty() && binder.parse_value(text, p.fields[f].type, want, reason) && p.in_domain(p.fields[f], want);
      INFO("field " << p.fields[f].name << ", text `" << text << "`: " << why.reason);
      REQUIRE(bound == ok);
      if (ok) {
        REQUIRE(frame.state[f] == 1);
        REQUIRE(frame.slots[f].n == want.n);
        ++accepted;
      }
    }
  }
  CHECK(accepted > 100000);
}
