// In-memory evaluation benchmarks: the compiled rules against the same
// decision written by hand in C++, over the same records already in memory
// (parsing excluded). Records are generated here with a fixed seed.
//
//   build/bench/stratum_bench [--benchmark_repetitions=5 …]
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <random>

#include "driver/stratum.hpp"
#include "io/bind.hpp"
#include "io/readers.hpp"
#include "native/library.hpp"

namespace {

using stratum::Compilation;
using stratum::eval::Frame;
using stratum::eval::Program;
using stratum::eval::Value;

constexpr int kRecords = 200'000;

const char* kIndustries[] = {"农林牧渔业", "工业", "建筑业", "批发业", "零售业", "交通运输业", "仓储业", "邮政业",
                             "住宿业", "餐饮业", "信息传输业", "软件和信息技术服务业", "房地产开发经营", "物业管理",
                             "租赁和商务服务业", "其他未列明行业"};

// The records: text columns as a data file would give them, then bound once.
struct Portfolio {
  Compilation compilation;
  std::vector<std::vector<std::string>> text;  // kept alive: bound text points into it
  std::vector<std::vector<Value>> inputs;      // bound input slots per record
  std::vector<std::vector<uint8_t>> present;
  // The same, laid out contiguously (record after record), as a host would
  // keep a batch of customers in memory.
  std::vector<Value> flat_inputs;
  std::vector<uint8_t> flat_present;
};

std::string amount(std::mt19937_64& rng, double lo, double hi) {
  std::uniform_real_distribution<double> u(std::log(lo), std::log(hi));
  return std::to_string(static_cast<long long>(std::exp(u(rng))));
}

Portfolio load(const std::string& rules, const std::function<std::vector<std::string>(std::mt19937_64&, int)>& row) {
  Portfolio p;
  p.compilation = stratum::compile(std::string(STRATUM_SOURCE_DIR) + "/" + rules);
  if (!p.compilation.ok()) throw std::runtime_error(p.compilation.render());
  const Program& program = *p.compilation.program;
  stratum::io::Binder binder(program);
  std::mt19937_64 rng(20110618);
  p.text.reserve(kRecords);
  for (int i = 0; i < kRecords; ++i) p.text.push_back(row(rng, i));
  Frame frame = program.make_frame();
  for (auto& fields : p.text) {
    stratum::io::RawRecord raw;
    raw.fields.resize(program.fields.size());
    for (size_t f = 0; f < program.fields.size(); ++f) {
      raw.fields[f].kind = fields[f].empty() && program.fields[f].optional ? stratum::io::RawKind::absent : stratum::io::RawKind::text;
      raw.fields[f].text = fields[f];
    }
    stratum::io::Rejection why;
    if (!binder.bind(raw, frame, why)) throw std::runtime_error(why.reason);
    std::vector<Value> in(frame.slots.begin(), frame.slots.begin() + program.fields.size());
    for (size_t f = 0; f < program.fields.size(); ++f) {
      // set<text> values point into the binder's buffer: re-point them at our copy
      if (program.fields[f].type.is_set && program.fields[f].type.base == stratum::BaseType::text) {
        in[f].s = fields[f];
      }
    }
    p.inputs.push_back(std::move(in));
    p.present.emplace_back(frame.state.begin(), frame.state.begin() + program.fields.size());
  }
  for (size_t r = 0; r < p.inputs.size(); ++r) {
    p.flat_inputs.insert(p.flat_inputs.end(), p.inputs[r].begin(), p.inputs[r].end());
    p.flat_present.insert(p.flat_present.end(), p.present[r].begin(), p.present[r].end());
  }
  return p;
}

const Portfolio& sme() {
  static Portfolio p = load("rules/sme_size.strat", [](std::mt19937_64& rng, int i) {
    std::uniform_int_distribution<int> ind(0, 15);
    std::uniform_real_distribution<double> emp(0, std::log(20000.0));
    return std::vector<std::string>{std::to_string(i), kIndustries[ind(rng)],
                                    std::to_string(1 + static_cast<int>(std::exp(emp(rng)))), amount(rng, 1e4, 1e10),
                                    amount(rng, 1e4, 1e10)};
  });
  return p;
}

// The corporate scheme over the example portfolio's customers (10,000,
// repeated to kRecords), read as the CLI reads them.
const Portfolio& corporate() {
  static std::vector<std::vector<std::string>> rows = [] {
    Compilation c = stratum::compile(std::string(STRATUM_SOURCE_DIR) + "/rules/corporate_segments.strat");
    if (!c.ok()) throw std::runtime_error(c.render());
    stratum::io::Binder binder(*c.program);
    auto reader = stratum::io::open_reader(std::string(STRATUM_SOURCE_DIR) + "/examples/corporate_portfolio.csv",
                                           stratum::io::Format::csv);
    if (auto problem = reader->open(binder.columns(), binder.required())) throw std::runtime_error(*problem);
    std::vector<std::vector<std::string>> out;
    stratum::io::RawRecord raw;
    while (reader->next(raw)) {
      std::vector<std::string> row;
      for (const auto& f : raw.fields) row.emplace_back(f.text);
      out.push_back(std::move(row));
    }
    return out;
  }();
  static Portfolio p = load("rules/corporate_segments.strat", [](std::mt19937_64&, int i) { return rows[static_cast<size_t>(i) % rows.size()]; });
  return p;
}

void evaluate_all(benchmark::State& state, const Portfolio& p) {
  const Program& program = *p.compilation.program;
  Frame frame = program.make_frame();
  size_t n_fields = program.fields.size();
  int64_t checksum = 0;
  for (auto _ : state) {
    for (size_t r = 0; r < p.inputs.size(); ++r) {
      std::copy_n(p.flat_inputs.begin() + r * n_fields, n_fields, frame.slots.begin());
      std::copy_n(p.flat_present.begin() + r * n_fields, n_fields, frame.state.begin());
      program.reset(frame);
      program.evaluate(frame);
      checksum += static_cast<int64_t>(frame.slots[program.outputs[0].slot].n);
    }
  }
  (void)n_fields;
  benchmark::DoNotOptimize(checksum);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(p.inputs.size()));
}

void BM_SmeCompiledRules(benchmark::State& state) { evaluate_all(state, sme()); }

// The same rules compiled ahead of time (`stratum build --native`), built
// here into a temporary folder with the system's C++ compiler.
std::shared_ptr<const stratum::native::Library> native_of(const Portfolio& p, const std::string& name) {
  std::string dir = std::filesystem::temp_directory_path().string() + "/stratum-bench-native-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  std::string lib = dir + "/" + name + ".so";
  stratum::native::build(*p.compilation.program, lib);
  auto loaded = stratum::native::Library::load(lib, *p.compilation.program);
  std::filesystem::remove_all(dir);  // (a loaded library stays mapped)
  return loaded;
}

void evaluate_native(benchmark::State& state, const Portfolio& p, const stratum::native::Library& lib) {
  const Program& program = *p.compilation.program;
  Frame frame = program.make_frame();
  size_t n_fields = program.fields.size();
  int64_t checksum = 0, interpreted = 0;
  for (auto _ : state) {
    for (size_t r = 0; r < p.inputs.size(); ++r) {
      std::copy_n(p.flat_inputs.begin() + r * n_fields, n_fields, frame.slots.begin());
      std::copy_n(p.flat_present.begin() + r * n_fields, n_fields, frame.state.begin());
      program.reset(frame);
      if (!lib.evaluate(frame, true)) {
        ++interpreted;
        program.evaluate(frame);
      }
      checksum += static_cast<int64_t>(frame.slots[program.outputs[0].slot].n);
    }
  }
  benchmark::DoNotOptimize(checksum);
  state.counters["interpreted"] = static_cast<double>(interpreted);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(p.inputs.size()));
}

void BM_SmeNative(benchmark::State& state) {
  static auto lib = native_of(sme(), "sme");
  evaluate_native(state, sme(), *lib);
}

// The same classification written by hand over the same in-memory values
// (amounts as the engine's exact decimals, industries as enum codes).
int classify(int industry, stratum::int128 e, stratum::int128 r, stratum::int128 a) {
  constexpr stratum::int128 S = stratum::Decimal::kScale;
  constexpr stratum::int128 W = 10000 * S;  // 万元
  auto E = [](long long n) { return static_cast<stratum::int128>(n) * S; };
  auto M = [&](long long wan) { return static_cast<stratum::int128>(wan) * W; };
  auto tiers = [&](bool large, bool medium, bool small) { return large ? 0 : medium ? 1 : small ? 2 : 3; };
  switch (industry) {
    case 0: return tiers(r >= M(20000), r >= M(500), r >= M(50));
    case 1: return tiers(e >= E(1000) && r >= M(40000), e >= E(300) && r >= M(2000), e >= E(20) && r >= M(300));
    case 2: return tiers(r >= M(80000) && a >= M(80000), r >= M(6000) && a >= M(5000), r >= M(300) && a >= M(300));
    case 3: return tiers(e >= E(200) && r >= M(40000), e >= E(20) && r >= M(5000), e >= E(5) && r >= M(1000));
    case 4: return tiers(e >= E(300) && r >= M(20000), e >= E(50) && r >= M(500), e >= E(10) && r >= M(100));
    case 5: return tiers(e >= E(1000) && r >= M(30000), e >= E(300) && r >= M(3000), e >= E(20) && r >= M(200));
    case 6: return tiers(e >= E(200) && r >= M(30000), e >= E(100) && r >= M(1000), e >= E(20) && r >= M(100));
    case 7: return tiers(e >= E(1000) && r >= M(30000), e >= E(300) && r >= M(2000), e >= E(20) && r >= M(100));
    case 8:
    case 9: return tiers(e >= E(300) && r >= M(10000), e >= E(100) && r >= M(2000), e >= E(10) && r >= M(100));
    case 10: return tiers(e >= E(2000) && r >= M(100000), e >= E(100) && r >= M(1000), e >= E(10) && r >= M(100));
    case 11: return tiers(e >= E(300) && r >= M(10000), e >= E(100) && r >= M(1000), e >= E(10) && r >= M(50));
    case 12: return tiers(r >= M(200000) && a >= M(10000), r >= M(1000) && a >= M(5000), r >= M(100) && a >= M(2000));
    case 13: return tiers(e >= E(1000) && r >= M(5000), e >= E(300) && r >= M(1000), e >= E(100) && r >= M(500));
    case 14: return tiers(e >= E(300) && a >= M(120000), e >= E(100) && a >= M(8000), e >= E(10) && a >= M(100));
    default: return tiers(e >= E(300), e >= E(100), e >= E(10));
  }
}

void BM_SmeHandWritten(benchmark::State& state) {
  const Portfolio& p = sme();
  std::vector<int> out(p.inputs.size());
  for (auto _ : state) {
    for (size_t r = 0; r < p.inputs.size(); ++r) {
      const auto& in = p.inputs[r];
      out[r] = classify(static_cast<int>(in[1].n), in[2].n, in[3].n, in[4].n);
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(p.inputs.size()));
}

// Both must agree on every record, or the comparison means nothing.
void BM_SmeAgreement(benchmark::State& state) {
  const Portfolio& p = sme();
  const Program& program = *p.compilation.program;
  Frame frame = program.make_frame();
  int64_t mismatches = 0;
  for (auto _ : state) {
    mismatches = 0;
    for (size_t r = 0; r < p.inputs.size(); ++r) {
      std::copy(p.inputs[r].begin(), p.inputs[r].end(), frame.slots.begin());
      std::copy(p.present[r].begin(), p.present[r].end(), frame.state.begin());
      program.reset(frame);
      program.evaluate(frame);
      const auto& in = p.inputs[r];
      mismatches += frame.slots[program.outputs[0].slot].n != classify(static_cast<int>(in[1].n), in[2].n, in[3].n, in[4].n);
    }
  }
  state.counters["mismatches"] = static_cast<double>(mismatches);
  if (mismatches) state.SkipWithError("the compiled rules and the hand-written code disagree");
}

void BM_CorporateCompiledRules(benchmark::State& state) { evaluate_all(state, corporate()); }

void BM_CorporateNative(benchmark::State& state) {
  static auto lib = native_of(corporate(), "corporate");
  evaluate_native(state, corporate(), *lib);
}

// What copying each record's inputs into the frame costs alone (part of the above).
void BM_CorporateInputCopyOnly(benchmark::State& state) {
  const Portfolio& p = corporate();
  Frame frame = p.compilation.program->make_frame();
  size_t n_fields = p.compilation.program->fields.size();
  for (auto _ : state) {
    for (size_t r = 0; r < p.inputs.size(); ++r) {
      std::copy_n(p.flat_inputs.begin() + r * n_fields, n_fields, frame.slots.begin());
      std::copy_n(p.flat_present.begin() + r * n_fields, n_fields, frame.state.begin());
      benchmark::DoNotOptimize(frame.slots.data());
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(p.inputs.size()));
}
BENCHMARK(BM_CorporateInputCopyOnly)->Unit(benchmark::kMillisecond);

BENCHMARK(BM_SmeAgreement)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SmeHandWritten)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SmeCompiledRules)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CorporateCompiledRules)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SmeNative)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CorporateNative)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
