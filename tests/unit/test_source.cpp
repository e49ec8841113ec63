#include <catch2/catch.hpp>

#include "diag/diagnostic.hpp"
#include "source/source_file.hpp"

using namespace stratum;

TEST_CASE("columns count characters, not bytes") {
  SourceFile f("x.strat", "ab\n  工业 | >= 2000万\n");
  CHECK(f.line_col(0).line == 1);
  // "  工业 | " is 7 characters (12 bytes) before '>'
  uint32_t gt = static_cast<uint32_t>(f.text().find('>'));
  CHECK(f.line_col(gt).line == 2);
  CHECK(f.line_col(gt).column == 8);
  CHECK(f.line_text(2) == "  工业 | >= 2000万");
}

TEST_CASE("the caret lines up under wide characters") {
  SourceSet s;
  uint32_t id = s.add("x.strat", "  工业 | >= 2000万 || 中型\n");
  std::string text = s.file(id).text();
  uint32_t b = static_cast<uint32_t>(text.find(">="));
  uint32_t e = static_cast<uint32_t>(text.find(" ||"));
  Diagnostic d{Severity::error, "type-mismatch", "type mismatch", {id, b, e}, {}};
  CHECK(render_text(d, s) ==
        "x.strat:1:8: error: type mismatch [type-mismatch]\n"
        "  |\n"
        "1 |   工业 | >= 2000万 || 中型\n"
        "  |          ^^^^^^^^^\n");
}

TEST_CASE("JSON diagnostics") {
  SourceSet s;
  uint32_t id = s.add("a\"b.strat", "let x = 工业\n");
  Diagnostic d{Severity::warning, "unknown-name", "unknown name `工业`", {id, 8, 14}, {{"did you mean `x`?", {}}}};
  CHECK(render_json(d, s) ==
        R"({"file":"a\"b.strat","line":1,"column":9,"end":{"line":1,"column":11},"severity":"warning","code":"unknown-name","message":"unknown name `工业`","notes":[{"file":null,"line":null,"column":null,"end":null,"message":"did you mean `x`?"}]})");
}

TEST_CASE("utf8 helpers") {
  CHECK(utf8::length("中小企业") == 4);
  CHECK(utf8::cell_width("中a") == 3);
  CHECK(utf8::valid("规模"));
  CHECK_FALSE(utf8::valid("\xE8\xA7"));
  CHECK_FALSE(utf8::valid("\xFF"));
}

TEST_CASE("UTF-8: surrogates, overlong forms and values above U+10FFFF are not UTF-8") {
  CHECK(utf8::valid("营业收入 ok"));
  CHECK(utf8::valid("\xEF\xBF\xBD"));           // U+FFFD itself
  CHECK(utf8::valid("\xF0\x9F\x98\x80"));       // U+1F600
  CHECK_FALSE(utf8::valid("\xED\xA0\x80"));     // U+D800, a surrogate
  CHECK_FALSE(utf8::valid("\xED\xBF\xBF"));     // U+DFFF
  CHECK_FALSE(utf8::valid("\xE0\x80\xAF"));     // overlong '/'
  CHECK_FALSE(utf8::valid("\xC0\xAF"));         // overlong '/'
  CHECK_FALSE(utf8::valid("\xF4\x90\x80\x80")); // U+110000
  CHECK_FALSE(utf8::valid("\xF0\x8F\xBF\xBF")); // overlong U+FFFF
  CHECK_FALSE(utf8::valid("abc\xFF"));
  CHECK(utf8::valid_prefix("ab\xFF" "cd") == 2);
  CHECK(utf8::valid_prefix("营业") == 6);
}

TEST_CASE("printable: control bytes and bytes that are not UTF-8 are escaped, text is kept") {
  CHECK(utf8::printable(std::string("a\0b", 3)) == "a\\x00b");
  CHECK(utf8::printable("行\n\t\r\x7F") == "行\\n\\t\\r\\x7F");
  CHECK(utf8::printable("\xFF\xED\xA0\x80") == "\\xFF\\xED\\xA0\\x80");
  CHECK(utf8::printable("\xC2\x85") == "\\u0085");
  CHECK(utf8::printable("一二三四五", 3) == "一二三…");
}
