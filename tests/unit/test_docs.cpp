// The examples in docs/language.md are tested: every ```strat block must
// compile without errors and its `test` blocks must pass. Blocks that show a
// mistake on purpose are fenced ```strat-error and must fail to compile.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "driver/stratum.hpp"
#include "driver/testing.hpp"
#include "value/date.hpp"

using namespace stratum;

TEST_CASE("docs/language.md examples") {
  std::ifstream in(std::filesystem::path(STRATUM_SOURCE_DIR) / "docs" / "language.md");
  REQUIRE(in);
  std::string line, block, kind;
  int line_no = 0, start = 0, blocks = 0;
  bool inside = false;
  while (std::getline(in, line)) {
    ++line_no;
    if (!inside && (line == "```strat" || line == "```strat-error")) {
      inside = true;
      kind = line.substr(3);
      block.clear();
      start = line_no;
      continue;
    }
    if (inside && line == "```") {
      inside = false;
      ++blocks;
      DYNAMIC_SECTION("block at line " << start) {
        Compilation c = compile_text("language.md:" + std::to_string(start), block);
        if (kind == "strat-error") {
          CHECK_FALSE(c.ok());
        } else {
          INFO(c.render());
          REQUIRE(c.ok());
          for (const auto& o : run_test_blocks(c, parse_iso_date("2024-06-30"))) {
            std::string problems;
            for (auto& p : o.problems) problems += p + "\n";
            INFO(o.name << ": " << problems);
            CHECK(o.passed);
          }
        }
      }
      continue;
    }
    if (inside) block += line + "\n";
  }
  CHECK(blocks > 0);
}
