// Readers on well-formed and malformed input: every record is delivered, a
// malformed one with its reason.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <unistd.h>
#include <fstream>
#include <random>
#include <regex>

#include "io/bind.hpp"
#include "io/decided.hpp"
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

// Records of every length (plain ones are scanned 16 bytes at a time, the
// others byte by byte), plain and quoted fields, LF and CRLF, blank lines,
// over more than one input block: each comes back as written.
TEST_CASE("CSV: random records come back field for field, with their lines") {
  std::mt19937_64 rng(20261129);
  const std::vector<std::string> pieces = {"a", "7", "中", "零售业", "12.5", " ", "x y", ",", "\"", "\n", "\r"};
  std::string text = "a,b,c\n";
  std::vector<std::vector<std::string>> expected;
  std::vector<uint64_t> lines;
  uint64_t line = 2;
  while (text.size() < (3u << 20)) {
    if (rng() % 20 == 0) {  // a blank line, LF or CRLF
      text += rng() % 2 ? "\n" : "\r\n";
      ++line;
      continue;
    }
    std::vector<std::string> fields;
    uint64_t newlines = 0;
    std::string record;
    for (int c = 0; c < 3; ++c) {
      std::string value;
      size_t n = rng() % (rng() % 8 == 0 ? 40 : 6);
      bool plain = rng() % 4 != 0;
      for (size_t k = 0; k < n; ++k) value += pieces[rng() % (plain ? 7 : pieces.size())];
      if (c == 0 && value.empty()) value = "k";  // a record of one empty field would be a blank line
      bool quote = !plain || rng() % 10 == 0;
      if (c) record += ',';
      if (quote) {
        record += '"';
        for (char ch : value) {
          if (ch == '"') record += '"';
          if (ch == '\n') ++newlines;
          record += ch;
        }
        record += '"';
      } else {
        record += value;
      }
      fields.push_back(value);
    }
    bool crlf = rng() % 3 == 0;
    if (!crlf && !fields[2].empty() && fields[2].back() == '\r' && record.back() != '"') record += "x", fields[2] += "x";
    text += record + (crlf ? "\r\n" : "\n");
    expected.push_back(fields);
    lines.push_back(line);
    line += newlines + 1;
  }
  auto got = read_all(Format::csv, "random.csv", text, {"a", "b", "c"});
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("record " << i + 1);
    REQUIRE(got[i].error == "");
    REQUIRE(got[i].values == expected[i]);
    REQUIRE(got[i].line == lines[i]);
    REQUIRE(got[i].number == i + 1);
  }
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

// Keys are looked up first where the previous record had them: records
// whose keys change order, come and go, or repeat still read exactly.
TEST_CASE("JSON Lines: keys in changing orders, unknown keys, long strings") {
  std::string long_text(40, 'x');
  long_text += "\\\"中\\n";  // an escape after 16 plain bytes, then one more
  auto got = read_all(Format::jsonl, "o.jsonl",
                      "{\"id\": \"1\", \"skip\": 1, \"amount\": 2, \"tags\": [\"a\"]}\n"
                      "{\"id\": \"2\", \"skip\": 1, \"amount\": 3, \"tags\": [\"b\"]}\n"
                      "{\"amount\": 4, \"id\": \"3\", \"other\": 1, \"tags\": []}\n"
                      "{\"amount\": 5, \"id\": \"4\", \"skip\": 1, \"tags\": []}\n"
                      "{\"amount\": 6, \"amount\": 7}\n"
                      "{\"skip\": 6, \"skip\": 7, \"id\": \"" + long_text + "\"}\n"
                      "{\"id\": \"0123456789abcdef\", \"amount\": \"0123456789abcdef\\u0001\"}\n"
                      "{\"id\": \"0123456789abcdef\", \"amount\": \"0123456789abcdef\x01\"}\n"
                      "{\"id\": \"0123456789abcdef0123456789abcdef\"}\n",
                      {"id", "amount", "tags"});
  REQUIRE(got.size() == 9);
  CHECK(got[0].values == std::vector<std::string>{"1", "2", "[a]"});
  CHECK(got[1].values == std::vector<std::string>{"2", "3", "[b]"});
  CHECK(got[2].values == std::vector<std::string>{"3", "4", ""});
  CHECK(got[3].values == std::vector<std::string>{"4", "5", ""});
  CHECK(got[4].error == "invalid JSON at character 15: key \"amount\" appears twice");
  CHECK(got[5].error == "");
  CHECK(got[5].values == std::vector<std::string>{std::string(40, 'x') + "\"中\n", "<absent>", "<absent>"});
  CHECK(got[6].error == "");
  CHECK(got[6].values == std::vector<std::string>{"0123456789abcdef", "0123456789abcdef\x01", "<absent>"});
  CHECK(got[7].error == "invalid JSON at character 55: control character in a string");
  CHECK(got[8].values == std::vector<std::string>{"0123456789abcdef0123456789abcdef", "<absent>", "<absent>"});
}

// A line of the shape just read is read by a faster path (keys compared
// as bytes): every line, however mutated, must read there exactly as the
// general parser reads it (the same values, or the same error).
TEST_CASE("JSON Lines: a line of the last record's shape reads as the general parser reads it") {
  const std::string base =
      "{\"id\":\"A1\",\"industry\":\"零售业\",\"employees\":12,\"revenue\":3.5e2,\"total_assets\":-7,"
      "\"flag\":true,\"none\":null,\"skip\":\"x\",\"off\":false}";
  const std::vector<std::string> columns = {"id", "industry", "employees", "revenue", "total_assets", "flag", "none", "off"};
  const std::vector<std::string> bytes = {"\"", "\\", ",", ":", "{", "}", "[", "]", "0", "9", "-", ".", "e", "E", "t",
                                          "n", "u", "l", "a", " ", "\t", "\r", "x", "\x01", "é", "\\u4e2d", "\\n"};
  std::mt19937_64 rng(7);
  std::vector<std::string> lines = {base, base + " ", base + "x", base.substr(0, base.size() - 1), "{}", "{\"id\":\"A1\"}"};
  for (int n = 0; n < 3000; ++n) {
    std::string line = base;
    for (int m = 1 + static_cast<int>(rng() % 3); m > 0; --m) {
      size_t at = rng() % (line.size() + 1);
      switch (rng() % 3) {
        case 0: if (at < line.size()) line.erase(at, 1); break;
        case 1: line.insert(at, bytes[rng() % bytes.size()]); break;
        default: if (at < line.size()) line.replace(at, 1, bytes[rng() % bytes.size()]); break;
      }
    }
    if (line.find('\n') == std::string::npos) lines.push_back(line);
  }
  // Each line after the base line (its shape learned), and after a line of
  // another shape (read by the general parser).
  std::string shaped, general;
  for (const auto& line : lines) {
    shaped += base + "\n" + line + "\n";
    general += "{\"zz\":1}\n" + line + "\n";
  }
  auto a = read_all(Format::jsonl, "shaped.jsonl", shaped, columns);
  auto b = read_all(Format::jsonl, "general.jsonl", general, columns);
  REQUIRE(a.size() == b.size());
  size_t through_fast = 0;
  for (size_t i = 1; i < a.size(); i += 2) {
    INFO("line: " << lines[i / 2]);
    REQUIRE(a[i].error == b[i].error);
    REQUIRE(a[i].values == b[i].values);
    through_fast += a[i].error.empty();
  }
  CHECK(through_fast > 300);  // the mutations leave many lines valid
}

// A malformed number is reported where it stops being one.
TEST_CASE("JSON Lines: malformed numbers, with the character where each goes wrong") {
  auto got = read_all(Format::jsonl, "n.jsonl",
                      "{\"amount\": -}\n{\"amount\": 1.}\n{\"amount\": 1e+}\n{\"amount\": -0.5E-3}\n{\"amount\": .5}\n",
                      {"amount"});
  REQUIRE(got.size() == 5);
  CHECK(got[0].error == "invalid JSON at character 13: malformed number");
  CHECK(got[1].error == "invalid JSON at character 14: malformed number");
  CHECK(got[2].error == "invalid JSON at character 15: malformed number");
  CHECK(got[3].error == "");
  CHECK(got[3].values == std::vector<std::string>{"-0.5E-3"});
  CHECK(got[4].error == "invalid JSON at character 12: expected a value");
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

namespace {

// A decided file's whole contents, or the message it fails with ("io: …" for
// an I/O error, "data: …" for a problem in the file).
std::string decided(Format f, const std::string& name, const std::string& content, std::string* out_path = nullptr) {
  auto path = temp_file(name, content);
  if (out_path) *out_path = path;
  std::string shown;
  try {
    DecidedFile file = DecidedFile::read(path, f, "id");
    for (const auto& c : file.columns()) shown += (shown.empty() ? "" : "|") + c;
    shown += "\n";
    for (size_t i = 0; i < file.size(); ++i) {
      shown += std::to_string(file.line(i)) + ":";
      for (const auto& v : file.row(i)) shown += " " + (v ? *v : std::string("<none>"));
      shown += "\n";
    }
  } catch (const DecidedFileError& e) {
    shown = std::string("data: ") + e.what();
  } catch (const std::runtime_error& e) {
    shown = std::string("io: ") + e.what();
  }
  std::remove(path.c_str());
  if (out_path) shown = std::regex_replace(shown, std::regex(path), "FILE");
  return shown;
}

}  // namespace

TEST_CASE("decided file: CSV and JSON Lines of one run give the same columns and values") {
  std::string csv = decided(Format::csv, "run.csv",
                            "\xEF\xBB\xBFid,segment,flag,服务,@version\r\n"
                            "C1,大型,true,\"综合, 定制\",v1\r\n"
                            "C2,,false,,v1\r\n");
  CHECK(csv == "id|segment|flag|服务|@version\n2: C1 大型 true 综合, 定制 v1\n3: C2 <none> false <none> v1\n");
  std::string jsonl = decided(Format::jsonl, "run.jsonl",
                              "\xEF\xBB\xBF{\"id\":\"C1\",\"segment\":\"大型\",\"flag\":true,\"plan\":{\"服务\":\"综合, 定制\"},\"@version\":\"v1\"}\r\n"
                              "\n"
                              "{\"id\":\"C2\",\"segment\":null,\"flag\":false,\"plan\":{\"服务\":null},\"@version\":\"v1\",\"利率\":-0.1}\n");
  CHECK(jsonl == "id|segment|flag|服务|@version|利率\n1: C1 大型 true 综合, 定制 v1 <none>\n3: C2 <none> false <none> v1 -0.1\n");
  auto path = temp_file("find.jsonl", "{\"id\":\"A\\u4e2d\",\"x\":1}\n{\"id\":7,\"x\":2}\n");
  DecidedFile file = DecidedFile::read(path, Format::jsonl, "id");
  REQUIRE(file.find("A中"));
  CHECK(*(*file.find("A中"))[1] == "1");
  REQUIRE(file.find("7"));
  CHECK(file.find("8") == nullptr);
  CHECK(file.column("x") == 1u);
  CHECK(file.column("y") == std::nullopt);
  CHECK(file.key(1) == "7");
  std::remove(path.c_str());
  // A header only: no customers.
  CHECK(decided(Format::csv, "header.csv", "id,segment\n") == "id|segment\n");
}

TEST_CASE("decided file: each problem names the file and line") {
  std::string p;
  CHECK(decided(Format::csv, "twice.csv", "id,s\nA,1\nB,2\nA,3\n", &p) ==
        "data: FILE:4: the key `A` appears twice (first on line 2)");
  CHECK(decided(Format::jsonl, "twice.jsonl", "{\"id\":\"A\"}\n\n{\"id\":\"A\"}\n", &p) ==
        "data: FILE:3: the key `A` appears twice (first on line 1)");
  CHECK(decided(Format::csv, "nokey.csv", "ident,s\nA,1\n", &p) ==
        "data: FILE:1: the header has no column `id`, the key (its columns are: ident, s)");
  CHECK(decided(Format::jsonl, "nokey.jsonl", "{\"id\":\"A\"}\n{\"s\":1}\n", &p) ==
        "data: FILE:2: the record has no `id`, the key");
  CHECK(decided(Format::jsonl, "nullkey.jsonl", "{\"id\":null}\n", &p) == "data: FILE:1: the key `id` has no value");
  CHECK(decided(Format::csv, "emptykey.csv", "id,s\n,1\n", &p) == "data: FILE:2: the key `id` has no value");
  CHECK(decided(Format::csv, "short.csv", "id,s\nA,1\nB\n", &p) == "data: FILE:3: the record has 1 field, the header has 2");
  CHECK(decided(Format::jsonl, "bad.jsonl", "{\"id\":\"A\"}\n{\"id\":\"B\",}\n", &p) ==
        "data: FILE:2: invalid JSON at character 11: expected a key in double quotes");
  CHECK(decided(Format::jsonl, "plan-twice.jsonl", "{\"id\":\"A\",\"x\":1,\"plan\":{\"x\":2}}\n", &p) ==
        "data: FILE:1: invalid JSON at character 25: key \"x\" appears twice");
  CHECK(decided(Format::csv, "header-twice.csv", "id,s,s\n", &p) == "data: FILE:1: the header names column `s` twice");
  CHECK(decided(Format::csv, "empty.csv", "", &p) == "data: FILE: the input is empty: expected a header row");
  CHECK(decided(Format::jsonl, "empty.jsonl", "", &p) ==
        "data: FILE: the file holds no records (a decided file has one per customer)");
  CHECK(decided(Format::jsonl, "binary.jsonl", std::string("\x7f" "ELF\x02\x01\x00\x00\n\xff\xfe", 11), &p).starts_with("data: FILE:1: invalid JSON"));
  CHECK(decided(Format::csv, "binary.csv", std::string("\x7f" "ELF\x02\x01\x00\x00\n\xff\xfe", 11), &p).starts_with("data: FILE:1: the header has no column `id`"));
  try {
    DecidedFile::read("/nonexistent/prev.csv", Format::csv, "id");
    FAIL("no error for a missing file");
  } catch (const DecidedFileError&) {
    FAIL("a missing file is an I/O error");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()) == "cannot open /nonexistent/prev.csv: No such file or directory");
  }
  try {
    DecidedFile::read(std::filesystem::temp_directory_path().string(), Format::csv, "id");
    FAIL("no error for a folder");
  } catch (const DecidedFileError&) {
    FAIL("a folder is an I/O error");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).ends_with(": it is a folder"));
  }
}

// Digits are read eight at a time: every length, every digit in every
// place, and any byte that is not a digit anywhere, against a plain loop.
TEST_CASE("plain digits: every length from 1 to 16, and anything else refused") {
  std::mt19937_64 rng(16);
  auto reference = [](std::string_view s, uint64_t& out) {
    if (s.empty() || s.size() > 16) return false;
    out = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      out = out * 10 + static_cast<uint64_t>(c - '0');
    }
    return true;
  };
  const std::string odd = std::string("/:") + '\0' + "\x80\xff a-.e+\x06\x3a\x2f\xb0\xb9";
  for (int n = 0; n < 200000; ++n) {
    size_t len = static_cast<size_t>(rng() % 18);
    std::string s;
    for (size_t k = 0; k < len; ++k) s += static_cast<char>('0' + rng() % 10);
    if (len && rng() % 3 == 0) s[rng() % len] = odd[rng() % odd.size()];
    uint64_t want = 0, got = 0;
    bool ok = reference(s, want);
    INFO("text: " << s);
    REQUIRE(plain_digits(s, got) == ok);
    if (ok) REQUIRE(got == want);
  }
  uint64_t v = 0;
  CHECK(plain_digits("9999999999999999", v));
  CHECK(v == 9999999999999999ull);
  CHECK(plain_digits("0000000000000001", v));
  CHECK(v == 1);
  CHECK_FALSE(plain_digits("", v));
  CHECK_FALSE(plain_digits("12345678901234567", v));
}
