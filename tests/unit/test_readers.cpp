// Readers on well-formed and malformed input: every record is delivered, a
// malformed one with its reason.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <unistd.h>
#include <fstream>

#include "io/readers.hpp"

using namespace stratum::io;

namespace {

std::string temp_file(const std::string& name, const std::string& content) {
  static int counter = 0;
  std::string path = (std::filesystem::temp_directory_path() /
                      ("stratum-reader-" + std::to_string(::getpid()) + "-" + std::to_string(++counter) + "-" + name))
                         .string();
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

struct Got {
  uint64_t number, line;
  std::vector<std::string> values;  // "<absent>" for absent
  std::string error;
};

std::vector<Got> read_all(Format f, const std::string& name, const std::string& content,
                          std::vector<std::string> columns, std::string* open_error = nullptr) {
  auto path = temp_file(name, content);
  auto reader = open_reader(path, f);
  std::vector<bool> required(columns.size(), true);
  if (auto e = reader->open(columns, required)) {
    if (open_error) *open_error = *e;
    std::remove(path.c_str());
    return {};
  }
  std::vector<Got> out;
  RawRecord r;
  while (reader->next(r)) {
    Got g{r.number, r.line, {}, r.error};
    for (auto& field : r.fields) {
      if (field.kind == RawKind::absent) g.values.push_back("<absent>");
      else if (field.kind == RawKind::null) g.values.push_back("<null>");
      else if (field.kind == RawKind::array) {
        std::string joined;
        for (auto& i : field.items) { joined += '['; joined += i; joined += ']'; }
        g.values.push_back(joined);
      } else g.values.push_back(std::string(field.text));
    }
    out.push_back(std::move(g));
  }
  std::remove(path.c_str());
  return out;
}

std::vector<Got> read_text(const std::string& text, std::vector<std::string> columns) {
  auto reader = make_json_text_reader(text);
  reader->open(columns, std::vector<bool>(columns.size(), true));
  std::vector<Got> out;
  RawRecord r;
  while (reader->next(r)) {
    Got g{r.number, r.line, {}, r.error};
    for (auto& field : r.fields) {
      if (field.kind == RawKind::absent) g.values.push_back("<absent>");
      else if (field.kind == RawKind::null) g.values.push_back("<null>");
      else if (field.kind == RawKind::array) {
        std::string joined;
        for (auto& i : field.items) { joined += '['; joined += i; joined += ']'; }
        g.values.push_back(joined);
      } else g.values.push_back(std::string(field.text));
    }
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace

TEST_CASE("CSV: BOM, CRLF, quotes, reordered and extra columns") {
  auto got = read_all(Format::csv, "a.csv",
                      "\xEF\xBB\xBFid,extra,name,amount\r\n"
                      "1,x,\"Acme, Inc.\",12.5\r\n"
                      "2,y,\"say \"\"hi\"\"\",3\r\n"
                      "3,z,\"two\nlines\",4\r\n"
                      "\r\n"
                      "4,w,plain,5",
                      {"id", "amount", "name"});
  REQUIRE(got.size() == 4);
  CHECK(got[0].values == std::vector<std::string>{"1", "12.5", "Acme, Inc."});
  CHECK(got[1].values[2] == "say \"hi\"");
  CHECK(got[2].values[2] == "two\nlines");
  CHECK(got[2].line == 4);
  CHECK(got[3].values == std::vector<std::string>{"4", "5", "plain"});
  CHECK(got[3].line == 7);
  CHECK(got[3].number == 4);
}

TEST_CASE("CSV: malformed records are reported and reading goes on") {
  auto got = read_all(Format::csv, "b.csv",
                      "id,name\n"
                      "1,a\"b\n"
                      "2,\"ok\"x\n"
                      "3,too,many\n"
                      "4\n"
                      "5,fine\n"
                      "6,\"never closed\n"
                      "7,not lost\n",
                      {"id", "name"});
  REQUIRE(got.size() == 7);
  CHECK(got[0].error == "a '\"' inside field 2, which is not quoted (quote the whole field and double the quote)");
  CHECK(got[1].error == "unexpected text after the closing quote of field 2");
  CHECK(got[2].error == "the record has 3 fields, the header has 2");
  CHECK(got[3].error == "the record has 1 field, the header has 2");
  CHECK(got[4].error.empty());
  CHECK(got[4].values[1] == "fine");
  CHECK(got[5].error == "a quoted field opened on line 7 is never closed (the record ends with that line)");
  CHECK(got[5].line == 7);
  // The line after an unclosed quote is a record of its own, not swallowed.
  CHECK(got[6].error.empty());
  CHECK(got[6].values == std::vector<std::string>{"7", "not lost"});
  CHECK(got[6].line == 8);
}

TEST_CASE("CSV: a missing required column is an up-front error") {
  std::string error;
  read_all(Format::csv, "c.csv", "id,name\n1,a\n", {"id", "revenue"}, &error);
  CHECK(error == "the input has no column `revenue` (its columns are: id, name)");
  read_all(Format::csv, "d.csv", "", {"id"}, &error);
  CHECK(error == "the input is empty: expected a header row");
}

TEST_CASE("JSON Lines: values as text, escapes, arrays, malformed lines") {
  auto got = read_all(Format::jsonl, "e.jsonl",
                      "{\"id\": \"A1\", \"amount\": 1.5e3, \"tags\": [\"互联网\", \"x\"], \"other\": {\"deep\": [1, 2]}}\n"
                      "\n"
                      "{\"id\": \"A\\u4e2d\\\"\", \"amount\": null, \"tags\": []}\n"
                      "{\"id\": \"A3\", \"amount\": 1,}\n"
                      "[1, 2]\n"
                      "{\"id\": \"A5\", \"id\": \"again\"}\n",
                      {"id", "amount", "tags"});
  REQUIRE(got.size() == 5);
  CHECK(got[0].values == std::vector<std::string>{"A1", "1.5e3", "[互联网][x]"});
  CHECK(got[1].values == std::vector<std::string>{"A中\"", "<null>", ""});
  CHECK(got[1].line == 3);
  CHECK(got[2].error == "invalid JSON at character 26: expected a key in double quotes");
  CHECK(got[3].error == "invalid JSON at character 1: expected a JSON object `{…}` on each line");
  CHECK(got[4].error == "invalid JSON at character 14: key \"id\" appears twice");
}

TEST_CASE("JSON text: one object, objects one after another, an array; pretty-printed") {
  using V = std::vector<std::string>;
  auto one = read_text("\xEF\xBB\xBF {\n  \"id\": \"A1\",\n  \"amount\": 12.50\n}\n", {"id", "amount"});
  REQUIRE(one.size() == 1);
  CHECK(one[0].values == V{"A1", "12.50"});
  CHECK((one[0].number == 1 && one[0].line == 1 && one[0].error.empty()));

  auto lines = read_text("{\"id\":\"A1\"}\n\n{\"id\":\"A2\",\"tags\":[\"x\"]}\r\n{\"id\":\"A\\n3\"} {\"id\":\"A4\"}", {"id", "tags"});
  REQUIRE(lines.size() == 4);
  CHECK(lines[0].values == V{"A1", "<absent>"});
  CHECK(lines[1].values == V{"A2", "[x]"});
  CHECK(lines[1].line == 3);
  CHECK(lines[2].values == V{"A\n3", "<absent>"});
  CHECK((lines[3].values == V{"A4", "<absent>"} && lines[3].number == 4 && lines[3].line == 4));

  auto array = read_text("[\n  {\"id\": \"A1\", \"other\": {\"deep\": [1, {\"x\": null}]}},\n  {\"id\": \"A2\"}\n]\n", {"id"});
  REQUIRE(array.size() == 2);
  CHECK((array[0].values == V{"A1"} && array[0].line == 2));
  CHECK((array[1].values == V{"A2"} && array[1].line == 3 && array[1].number == 2));
  CHECK(read_text("[]", {"id"}).empty());
  CHECK(read_text(" \n ", {"id"}).empty());
}

TEST_CASE("JSON text: a syntax error ends the records, with its line and column") {
  auto got = read_text("[{\"id\":\"A1\"},\n {\"id\": \"中文\" \"x\": 1},\n {\"id\":\"A3\"}]", {"id"});
  REQUIRE(got.size() == 2);
  CHECK(got[0].error.empty());
  CHECK(got[1].error == "invalid JSON at line 2, column 14: expected ',' or '}'");
  CHECK((got[1].number == 2 && got[1].line == 2));

  auto tail = read_text("[{\"id\":\"A1\"} {\"id\":\"A2\"}]", {"id"});
  REQUIRE(tail.size() == 2);
  CHECK(tail[1].error == "invalid JSON at line 1, column 14: expected ',' or ']'");
  auto after = read_text("[{\"id\":\"A1\"}] {}", {"id"});
  REQUIRE(after.size() == 2);
  CHECK(after[1].error == "invalid JSON at line 1, column 15: unexpected text after the array");
  auto open = read_text("[{\"id\":\"A1\"}", {"id"});
  REQUIRE(open.size() == 2);
  CHECK(open[1].error == "invalid JSON at line 1, column 13: expected ',' or ']', the text ends");
  auto scalar = read_text("[1]", {"id"});
  REQUIRE(scalar.size() == 1);
  CHECK(scalar[0].error == "invalid JSON at line 1, column 2: expected a JSON object `{…}` in the array");
  std::string deep(100, '[');
  auto nested = read_text("{\"x\":" + deep + "}", {"id"});
  REQUIRE(nested.size() == 1);
  CHECK(nested[0].error == "invalid JSON at line 1, column 70: nested too deeply");
}

TEST_CASE("JSON text: a well-formed object that is not a record is rejected, and reading goes on") {
  auto got = read_text("{\"id\":\"A1\",\"id\":\"A2\"}\n{\"id\":\"A3\",\"tags\":[{\"no\":1}]}\n{\"id\":\"A4\"}", {"id", "tags"});
  REQUIRE(got.size() == 3);
  CHECK(got[0].error == "invalid JSON at line 1, column 12: key \"id\" appears twice");
  CHECK(got[1].error == "invalid JSON at line 2, column 20: expected text or a number in the array");
  CHECK((got[2].error.empty() && got[2].values == std::vector<std::string>{"A4", "<absent>"}));
}

TEST_CASE("YAML: a sequence of maps") {
  auto got = read_all(Format::yaml, "f.yaml",
                      "- id: C1\n  amount: 12.5\n  tags: [a, b]\n"
                      "- id: C2\n  amount: ~\n"
                      "- just text\n",
                      {"id", "amount", "tags"});
  REQUIRE(got.size() == 3);
  CHECK(got[0].values == std::vector<std::string>{"C1", "12.5", "[a][b]"});
  CHECK(got[1].values == std::vector<std::string>{"C2", "<null>", "<absent>"});
  CHECK(got[2].error == "expected a map of field names to values");
}
