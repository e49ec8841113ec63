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
      Run r = run(dir, "eval " + strat.filename().string() + " --input " + input + " --errors '" + errors.string() +
                           "' --summary " + extra);
      std::string text = "# output\n" + r.out + "# errors\n" + (fs::exists(errors) ? slurp(errors) : "") +
                         "# stderr\n" + r.err + "# exit " + std::to_string(r.status) + "\n";
      compare(dir / (stem + ".expected"), text);
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
      Run r = run(dir, "explain " + strat.filename().string() + " --record " + stem + ".record.yaml " + extra);
      compare(dir / (stem + ".expected"), r.out + r.err + "exit " + std::to_string(r.status) + "\n");
    }
  }
}
