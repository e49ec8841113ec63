// Golden tests, paired by stem:
//   golden/check/NAME.strat                → NAME.expected: `stratum check` output
//   golden/eval/NAME.strat + NAME.{csv,jsonl,yaml} [+ NAME.args]
//                                          → NAME.expected: output, errors, summary, exit
// Each runs the real `stratum` binary from inside its folder, so paths in the
// expected text are relative. A stem starting with `error` must exit non-zero.
// STRATUM_UPDATE_GOLDEN=1 rewrites the expected files; review them in the diff.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "driver/stratum.hpp"
#include "io/bind.hpp"
#include "io/readers.hpp"

namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Run {
  int status;
  std::string out, err;
};

Run run(const fs::path& dir, const std::string& args) {
  fs::path tmp = fs::temp_directory_path() / ("stratum-golden-" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  std::string cmd = "cd '" + dir.string() + "' && '" STRATUM_BINARY "' " + args + " >'" + (tmp / "out").string() +
                    "' 2>'" + (tmp / "err").string() + "'";
  int raw = std::system(cmd.c_str());
  Run r{WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, slurp(tmp / "out"), slurp(tmp / "err")};
  return r;
}

void compare(const fs::path& expected_path, const std::string& actual) {
  if (std::getenv("STRATUM_UPDATE_GOLDEN")) {
    std::ofstream(expected_path, std::ios::binary) << actual;
    return;
  }
  REQUIRE(fs::exists(expected_path));
  CHECK(slurp(expected_path) == actual);
}

std::vector<fs::path> stems(const fs::path& dir) {
  std::vector<fs::path> out;
  for (auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".strat") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

const fs::path kGolden = fs::path(STRATUM_SOURCE_DIR) / "tests" / "golden";

}  // namespace

TEST_CASE("golden: check diagnostics") {
  for (const auto& strat : stems(kGolden / "check")) {
    std::string stem = strat.stem().string();
    DYNAMIC_SECTION(stem) {
      std::string args = "check " + strat.filename().string();
      if (fs::exists(strat.parent_path() / (stem + ".args"))) {
        std::string extra = slurp(strat.parent_path() / (stem + ".args"));
        while (!extra.empty() && (extra.back() == '\n' || extra.back() == '\r')) extra.pop_back();
        args += " " + extra;
      }
      Run r = run(strat.parent_path(), args);
      compare(strat.parent_path() / (stem + ".expected"), r.out + r.err + "exit " + std::to_string(r.status) + "\n");
      if (stem.starts_with("error")) CHECK(r.status != 0);
      else CHECK(r.status == 0);
    }
  }
}

// The shipped branch rule sets (rules/*.strat that extend another): check's
// proof of what each can change of the head office's scheme.
TEST_CASE("golden: branch proofs") {
  fs::path rules = fs::path(STRATUM_SOURCE_DIR) / "rules";
  size_t branches = 0;
  for (const auto& strat : stems(rules)) {
    if (slurp(strat).find(" extends \"") == std::string::npos) continue;
    ++branches;
    std::string stem = strat.stem().string();
    DYNAMIC_SECTION(stem) {
      Run r = run(rules, "check " + strat.filename().string());
      compare(kGolden / "branches" / (stem + ".expected"), r.out + r.err + "exit " + std::to_string(r.status) + "\n");
      CHECK(r.status == 0);
    }
  }
  CHECK(branches == 2);
}

// The eastern branch's capacity (30 战略性客户 on the 总行专属团队) over the
// corporate example portfolio: the summary, and each moved customer's key
// and reason; the same bytes on one thread and on three.
TEST_CASE("golden: capacity on the corporate portfolio") {
  fs::path root = fs::path(STRATUM_SOURCE_DIR);
  std::string first;
  for (const char* threads : {"1", "3"}) {
    Run r = run(root, std::string("eval rules/corporate_segments_east.strat --input examples/corporate_portfolio.csv --format csv --summary --threads ") + threads);
    std::string moved;
    size_t start = 0;
    while (start < r.out.size()) {
      size_t end = r.out.find('\n', start);
      if (end == std::string::npos) end = r.out.size();
      std::string line = r.out.substr(start, end - start);
      size_t reason = line.find(",\"容量已满");
      if (reason != std::string::npos) {
        size_t close = line.find('"', reason + 2);
        moved += line.substr(0, line.find(',')) + " " + line.substr(reason + 2, close - reason - 2) + "\n";
      }
      start = end + 1;
    }
    std::string text = "# moved\n" + moved + "# stderr\n" + r.err + "# exit " + std::to_string(r.status) + "\n";
    if (first.empty()) {
      compare(kGolden / "capacity" / "corporate_segments_east.expected", text);
      first = r.out;
    } else {
      CHECK(r.out == first);
    }
  }
}

TEST_CASE("capacity limits read the input twice: standard input is refused, with the reason") {
  fs::path root = fs::path(STRATUM_SOURCE_DIR);
  Run r = run(root, "eval rules/corporate_segments_east.strat --input - --input-format csv < examples/corporate_portfolio.csv");
  CHECK(r.out.empty());
  CHECK(r.err ==
        "stratum eval: the rules have capacity limits, which read the input twice (to rank the customers, then to decide them): "
        "give --input a file, not standard input\nRun `stratum eval --help` for usage.\n");
  CHECK(r.status == 2);
}

TEST_CASE("golden: evaluation") {
  for (const auto& strat : stems(kGolden / "eval")) {
    std::string stem = strat.stem().string();
    DYNAMIC_SECTION(stem) {
      fs::path dir = strat.parent_path();
      std::string input;
      for (const char* ext : {".csv", ".jsonl", ".yaml"}) {
        if (fs::exists(dir / (stem + ext))) input = stem + ext;
      }
      REQUIRE_FALSE(input.empty());
      std::string extra;
      if (fs::exists(dir / (stem + ".args"))) {
        extra = slurp(dir / (stem + ".args"));
        while (!extra.empty() && (extra.back() == '\n' || extra.back() == '\r')) extra.pop_back();
      }
      fs::path errors = fs::temp_directory_path() / ("stratum-golden-errors-" + std::to_string(::getpid()) + ".jsonl");
      fs::remove(errors);
      auto run_with = [&](const std::string& threads) {
        fs::remove(errors);
        Run r = run(dir, "eval " + strat.filename().string() + " --input " + input + " --errors '" + errors.string() +
                             "' --summary --threads " + threads + " " + extra);
        std::string text = "# output\n" + r.out + "# errors\n" + (fs::exists(errors) ? slurp(errors) : "") +
                           "# stderr\n" + r.err + "# exit " + std::to_string(r.status) + "\n";
        return std::make_pair(r, text);
      };
      auto [r, text] = run_with("1");
      compare(dir / (stem + ".expected"), text);
      // Any number of threads gives the same bytes.
      CHECK(run_with("3").second == text);
      if (stem.starts_with("error")) CHECK(r.status != 0);
      else CHECK(r.status == 0);
    }
  }
}

TEST_CASE("golden: explain") {
  for (const auto& strat : stems(kGolden / "explain")) {
    std::string stem = strat.stem().string();
    DYNAMIC_SECTION(stem) {
      fs::path dir = strat.parent_path();
      std::string extra;
      if (fs::exists(dir / (stem + ".args"))) {
        extra = slurp(dir / (stem + ".args"));
        while (!extra.empty() && (extra.back() == '\n' || extra.back() == '\r')) extra.pop_back();
      }
      // nearest-*: with the counterfactuals (`--nearest`).
      if (stem.find("nearest") != std::string::npos) extra = "--nearest " + extra;
      Run r = run(dir, "explain " + strat.filename().string() + " --record " + stem + ".record.yaml " + extra);
      compare(dir / (stem + ".expected"), r.out + r.err + "exit " + std::to_string(r.status) + "\n");
    }
  }
}

// The corporate scheme as shipped (its imports and reference data beside
// it), on one customer of the example portfolio: every counterfactual line
// was checked by hand against rules/corporate_segments.strat.
TEST_CASE("golden: explain --nearest on the corporate scheme") {
  fs::path root = fs::path(STRATUM_SOURCE_DIR);
  Run r = run(root, "explain rules/corporate_segments.strat --record tests/golden/explain/nearest-corporate.record.yaml --nearest");
  compare(kGolden / "explain" / "nearest-corporate.expected", r.out + r.err + "exit " + std::to_string(r.status) + "\n");
  CHECK(r.status == 0);
  Run fixed = run(root, "explain rules/corporate_segments.strat --record tests/golden/explain/nearest-corporate.record.yaml --nearest --fixed industry,所属市场");
  compare(kGolden / "explain" / "nearest-corporate-fixed.expected", fixed.out + fixed.err + "exit " + std::to_string(fixed.status) + "\n");
}

TEST_CASE("any --threads gives the same bytes, on an input of many chunks with malformed records") {
  fs::path dir = fs::temp_directory_path() / ("stratum-threads-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  {
    std::ofstream csv(dir / "big.csv", std::ios::binary);
    csv << "\xEF\xBB\xBFid,industry,employees,revenue,total_assets,note\r\n";
    const char* industries[] = {"工业", "批发业", "零售业", "其他未列明行业", "建筑业"};
    for (int i = 1; i <= 120000; ++i) {
      if (i % 997 == 0) csv << "X" << i << ",工业,\"12\"3,100,100,\r\n";            // stray text after a quote
      else if (i % 1009 == 0) csv << "X" << i << ",工商业,10,100,100,\r\n";         // unknown enum value
      else if (i % 1013 == 0) csv << "X" << i << ",工业,10,100\r\n";                // missing fields
      else if (i % 1019 == 0) csv << "X" << i << ",工业,10,100,100,\"two\r\nlines\"\r\n";  // a quoted line break
      else if (i % 1021 == 0) csv << "\r\n";                                         // a blank line
      else if (i % 1031 == 0) csv << "X" << i << ",工业,10,100,100," << std::string(400, 'x') << "\r\n";  // over --max-record-bytes
      else if (i == 120000) csv << "C" << i << ",工业,10,100,100,";                  // the last line has no line end
      else csv << "C" << i << "," << industries[i % 5] << "," << (int64_t{i} * 7919) % 3000 << "," << (int64_t{i} * 104729) % 900000000
               << "," << (int64_t{i} * 1299709) % 900000000 << ",\r\n";
    }
  }
  fs::path rules = fs::path(STRATUM_SOURCE_DIR) / "rules" / "sme_size.strat";
  auto run_threads = [&](const std::string& threads, const std::string& format) {
    Run r = run(dir, "eval '" + rules.string() + "' --input big.csv --format " + format + " --errors errors-" + threads +
                         ".jsonl --max-record-bytes 300 --threads " + threads);
    return r.out + "\n#errors\n" + slurp(dir / ("errors-" + threads + ".jsonl")) + "\n#stderr\n" + r.err +
           "\n#exit " + std::to_string(r.status);
  };
  for (const char* format : {"csv", "jsonl"}) {
    std::string one = run_threads("1", format);
    CHECK(one.size() > 1'000'000);  // several chunks of work
    CHECK(run_threads("2", format) == one);
    CHECK(run_threads("5", format) == one);
  }
  fs::remove_all(dir);
}

TEST_CASE("any --threads gives the same bytes, on JSON Lines input of many chunks with malformed records") {
  fs::path dir = fs::temp_directory_path() / ("stratum-threads-jsonl-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  {
    std::ofstream in(dir / "big.jsonl", std::ios::binary);
    in << "\xEF\xBB\xBF";  // a byte order mark before the first record
    const char* industries[] = {"工业", "批发业", "零售业", "其他未列明行业", "建筑业"};
    for (int i = 1; i <= 120000; ++i) {
      if (i % 997 == 0) in << "{\"id\":\"X" << i << "\",\"industry\":\"工业\",\"employees\":10,\"revenue\":100\n";  // not closed
      else if (i % 1009 == 0) in << "{\"id\":\"X" << i << "\",\"industry\":\"工商业\",\"employees\":10,\"revenue\":100,\"total_assets\":100}\n";
      else if (i % 1013 == 0) in << "  \t\r\n";  // a blank line
      else if (i % 1019 == 0) in << "\n";
      else if (i % 1031 == 0) in << "{\"id\":\"X" << i << "\",\"note\":\"" << std::string(400, 'x') << "\"}\n";  // over --max-record-bytes
      else in << "{\"id\":\"C" << i << "\",\"industry\":\"" << industries[i % 5] << "\",\"employees\":" << (int64_t{i} * 7919) % 3000
              << ",\"revenue\":" << (int64_t{i} * 104729) % 900000000 << ",\"total_assets\":\"" << (int64_t{i} * 1299709) % 900000000
              << "\"}\r" << (i == 120000 ? "" : "\n");  // CRLF line ends; the last line has none
    }
  }
  fs::path rules = fs::path(STRATUM_SOURCE_DIR) / "rules" / "sme_size.strat";
  auto run_threads = [&](const std::string& threads) {
    Run r = run(dir, "eval '" + rules.string() + "' --input big.jsonl --format csv --errors errors-" + threads +
                         ".jsonl --max-record-bytes 300 --threads " + threads);
    return r.out + "\n#errors\n" + slurp(dir / ("errors-" + threads + ".jsonl")) + "\n#stderr\n" + r.err +
           "\n#exit " + std::to_string(r.status);
  };
  std::string one = run_threads("1");
  CHECK(one.size() > 1'000'000);  // several chunks of work
  // the first record (after the byte order mark), the last, and rejections with their lines
  CHECK(one.find("\nC1,") != std::string::npos);
  CHECK(one.find("\nC119999,") != std::string::npos);
  CHECK(one.find("{\"record\":1029,\"line\":1031,\"key\":null,\"column\":null,\"reason\":\"the record is longer than 300 bytes") != std::string::npos);
  CHECK(run_threads("2") == one);
  CHECK(run_threads("5") == one);
  fs::remove_all(dir);
}

TEST_CASE("golden: fmt") {
  for (const auto& strat : stems(kGolden / "fmt")) {
    std::string stem = strat.stem().string();
    DYNAMIC_SECTION(stem) {
      Run r = run(strat.parent_path(), "fmt --stdout " + strat.filename().string());
      compare(strat.parent_path() / (stem + ".expected"), r.out + r.err + "exit " + std::to_string(r.status) + "\n");
      // Formatting the result again changes nothing.
      fs::path again = fs::temp_directory_path() / ("stratum-fmt-" + std::to_string(::getpid()) + ".strat");
      std::ofstream(again, std::ios::binary) << r.out;
      Run twice = run(again.parent_path(), "fmt --stdout " + again.filename().string());
      CHECK(twice.out == r.out);
      fs::remove(again);
    }
  }
}

// golden/diff/NAME.old.strat + NAME.new.strat + NAME.csv → NAME.expected, or
// NAME.args (the arguments after `diff`, e.g. another --format, --previous,
// a redirection of standard input) → NAME.expected. An `error` stem must
// exit non-zero.
TEST_CASE("golden: diff") {
  fs::path dir = kGolden / "diff";
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    std::string stem;
    std::string args;
    if (name.ends_with(".args")) {
      stem = name.substr(0, name.size() - std::string(".args").size());
      args = slurp(dir / name);
      while (!args.empty() && (args.back() == '\n' || args.back() == '\r')) args.pop_back();
    } else if (name.ends_with(".old.strat")) {
      stem = name.substr(0, name.size() - std::string(".old.strat").size());
      if (fs::exists(dir / (stem + ".args"))) continue;
      args = stem + ".old.strat " + stem + ".new.strat --input " + stem + ".csv";
    } else {
      continue;
    }
    DYNAMIC_SECTION(stem) {
      Run r = run(dir, "diff " + args);
      if (stem.starts_with("error")) CHECK(r.status != 0);
      compare(dir / (stem + ".expected"), r.out + r.err + "exit " + std::to_string(r.status) + "\n");
    }
  }
}

// Every counter-example the analysis reports is a real customer that shows
// the finding: replay it through the reader, binder and evaluator.
TEST_CASE("analysis counter-examples hold when evaluated") {
  for (const auto& strat : stems(kGolden / "check")) {
    if (strat.stem().string().find("analysis") == std::string::npos) continue;
    DYNAMIC_SECTION(strat.stem().string()) {
      std::string text = slurp(strat);
      stratum::Compilation checked = stratum::compile_text(strat.string(), text);
      stratum::Compilation unchecked = stratum::compile_text(strat.string(), text, false);
      REQUIRE(unchecked.ok());
      const auto& program = *unchecked.program;
      for (const auto& d : checked.diagnostics.items()) {
        if (d.counterexample.empty()) continue;
        std::string json = "{";
        for (const auto& v : d.counterexample) json += (json.size() > 1 ? "," : "") + ("\"" + v.field + "\":" + v.json);
        json += "}";
        INFO(d.code << ": " << d.message << " with " << json);
        auto reader = stratum::io::make_record_reader(json);
        stratum::io::Binder binder(program);
        reader->open(binder.columns(), binder.required());
        stratum::io::RawRecord raw;
        REQUIRE(reader->next(raw));
        auto frame = program.make_frame();
        stratum::io::Rejection why;
        REQUIRE(binder.bind(raw, frame, why));  // valid under every field's domain
        if (d.code == "gap") {
          bool failed_for_want_of_a_row = false;
          for (const auto& o : program.outputs) {
            try {
              program.slot(frame, o.slot);
            } catch (const stratum::eval::EvalError& e) {
              std::string m = e.what();
              failed_for_want_of_a_row = failed_for_want_of_a_row || m.find("no row") != std::string::npos ||
                                         m.find("no branch") != std::string::npos;
            }
          }
          CHECK(failed_for_want_of_a_row);
        } else if (d.code == "overlap") {
          // Both rows named by the message apply: the table itself says so when evaluated.
          bool violation = false;
          for (const auto& o : program.outputs) {
            try {
              program.slot(frame, o.slot);
            } catch (const stratum::eval::EvalError& e) {
              violation = violation || std::string(e.what()).find("both match") != std::string::npos;
            }
          }
          CHECK(violation);
        }
      }
    }
  }
}

TEST_CASE("each command's usage line names every option its help lists, or says [options]") {
  for (const char* command : {"check", "eval", "test", "explain", "diff", "replay", "fmt", "report", "serve", "import-dmn", "export-dmn", "lsp"}) {
    DYNAMIC_SECTION(command) {
      Run r = run(kGolden, std::string(command) + " --help");
      REQUIRE(r.status == 0);
      std::string usage = r.out.substr(0, r.out.find("\n\n"));
      if (usage.find("[options]") != std::string::npos) continue;
      std::istringstream lines(r.out);
      std::vector<std::string> unnamed;
      for (std::string line; std::getline(lines, line);) {
        size_t at = line.find_first_not_of(' ');
        if (at == 0 || at == std::string::npos || line.compare(at, 2, "--") != 0) continue;
        std::string option = line.substr(at, line.find_first_of(" =", at) - at);
        if (usage.find(option) == std::string::npos) unnamed.push_back(option);
      }
      CHECK(unnamed == std::vector<std::string>{});
    }
  }
}
