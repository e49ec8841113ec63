// stratum import-dmn: DMN 1.x decision tables → a rule file.
//
// The model is read with tinyxml2 (elements matched by local name, so any
// DMN namespace and prefix is accepted). Everything the importer meets is
// either written into the rule file or reported as `unsupported` at its XML
// line; a model with any such report produces no file.
#include "dmn/dmn.hpp"

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <set>
#include <string_view>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <tinyxml2.h>

namespace stratum::dmn {

namespace {

using tinyxml2::XMLElement;

// ---- XML helpers ------------------------------------------------------------

std::string_view local_name(const char* name) {
  std::string_view n = name ? name : "";
  auto colon = n.find(':');
  return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

std::vector<const XMLElement*> children(const XMLElement* e, std::string_view name) {
  std::vector<const XMLElement*> out;
  if (!e) return out;
  for (const XMLElement* c = e->FirstChildElement(); c; c = c->NextSiblingElement()) {
    if (local_name(c->Name()) == name) out.push_back(c);
  }
  return out;
}

const XMLElement* child(const XMLElement* e, std::string_view name) {
  if (!e) return nullptr;
  for (const XMLElement* c = e->FirstChildElement(); c; c = c->NextSiblingElement()) {
    if (local_name(c->Name()) == name) return c;
  }
  return nullptr;
}

// An attribute's value, normalized as XML does (tab, line end → space).
std::string normalized(const char* v) {
  std::string s = v ? v : "";
  for (char& c : s) {
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

std::string attr(const XMLElement* e, const char* name) {
  if (!e) return "";
  if (const char* v = e->Attribute(name)) return normalized(v);
  // A prefixed attribute (xsi:type, xsi:nil) by its local name.
  for (const tinyxml2::XMLAttribute* a = e->FirstAttribute(); a; a = a->Next()) {
    if (local_name(a->Name()) == name) return normalized(a->Value());
  }
  return "";
}

bool valid_number(std::string_view n);

// What XML 1.0 forbids and tinyxml2 lets through: a DOCTYPE (with its
// entities), references to undeclared entities, character references to
// what is not a character. The offset and what is wrong, or nothing.
std::optional<std::pair<size_t, std::string>> xml_problem(std::string_view s) {
  auto skip = [&](size_t& i, std::string_view open, std::string_view close) {
    if (s.substr(i, open.size()) != open) return false;
    size_t end = s.find(close, i + open.size());
    i = end == std::string_view::npos ? s.size() : end + close.size();
    return true;
  };
  for (size_t i = 0; i < s.size();) {
    if (skip(i, "<!--", "-->") || skip(i, "<![CDATA[", "]]>") || skip(i, "<?", "?>")) continue;
    if (s.substr(i, 9) == "<!DOCTYPE") return std::make_pair(i, std::string("a DOCTYPE: DTDs and the entities they declare are not read"));
    if (s[i] != '&') {
      ++i;
      continue;
    }
    size_t semi = s.find(';', i);
    std::string_view ref = semi == std::string_view::npos || semi - i > 12 ? s.substr(i, 1) : s.substr(i + 1, semi - i - 1);
    if (ref == "amp" || ref == "lt" || ref == "gt" || ref == "quot" || ref == "apos") {
      i = semi + 1;
      continue;
    }
    if (ref.size() > 1 && ref[0] == '#') {
      bool hex = ref[1] == 'x';
      std::string_view digits = ref.substr(hex ? 2 : 1);
      bool ok = !digits.empty() && std::all_of(digits.begin(), digits.end(), [&](char c) {
        return hex ? std::isxdigit(static_cast<unsigned char>(c)) != 0 : (c >= '0' && c <= '9');
      });
      unsigned long cp = ok && digits.size() <= 8 ? std::stoul(std::string(digits), nullptr, hex ? 16 : 10) : 0x110000;
      bool character = cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) || (cp >= 0xE000 && cp <= 0xFFFD) ||
                       (cp >= 0x10000 && cp <= 0x10FFFF);
      if (!ok || !character) return std::make_pair(i, fmt::format("the character reference `&{};` is not a character XML allows", ref));
      i = semi + 1;
      continue;
    }
    return std::make_pair(i, semi == std::string_view::npos || semi - i > 12 ? std::string("a `&` that starts no reference (write `&amp;`)")
                                                                            : fmt::format("a reference to the undeclared entity `&{};`", ref));
  }
  return std::nullopt;
}

// A number in XML Schema's form (`1.5E3`, `2e-2`) written without its
// exponent (`1500`, `0.02`); other text is returned as it is.
std::string plain_number(const std::string& s) {
  auto e = s.find_first_of("eE");
  if (e == std::string::npos || e == 0 || e + 1 >= s.size() || e + 7 < s.size()) return s;
  std::string mantissa = s.substr(0, e), exp_text = s.substr(e + 1);
  if (!valid_number(mantissa)) return s;
  size_t k = exp_text[0] == '-' || exp_text[0] == '+' ? 1 : 0;
  if (k >= exp_text.size() || !std::all_of(exp_text.begin() + static_cast<long>(k), exp_text.end(), [](char c) { return c >= '0' && c <= '9'; })) return s;
  int exp = std::stoi(exp_text);
  if (exp > 40 || exp < -40) return s;
  bool neg = mantissa[0] == '-';
  if (mantissa[0] == '-' || mantissa[0] == '+') mantissa.erase(0, 1);
  auto dot = mantissa.find('.');
  std::string digits = mantissa;
  int point = static_cast<int>(mantissa.size());
  if (dot != std::string::npos) {
    digits = mantissa.substr(0, dot) + mantissa.substr(dot + 1);
    point = static_cast<int>(dot);
  }
  point += exp;
  while (point <= 0) { digits = "0" + digits; ++point; }
  while (point > static_cast<int>(digits.size())) digits += "0";
  std::string out = digits.substr(0, point);
  std::string frac = digits.substr(point);
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  out.erase(0, std::min(out.find_first_not_of('0'), out.size() - 1));
  if (!frac.empty()) out += "." + frac;
  return (neg ? "-" : "") + out;
}

// The offset of the first byte that is not UTF-8, or npos.
size_t invalid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return i;
    char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; k < len; ++k) {
      unsigned char n = static_cast<unsigned char>(s[i + k]);
      if ((n & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (n & 0x3F);
    }
    bool overlong = (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
    if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return std::string_view::npos;
}

// The 1-based line of a byte offset, given the lines' starts.
int line_of(const std::vector<uint32_t>& starts, size_t offset) {
  return static_cast<int>(std::upper_bound(starts.begin(), starts.end(), static_cast<uint32_t>(offset)) - starts.begin());
}

// tinyxml2's error, in words: XML_ERROR_MISMATCHED_ELEMENT → "mismatched element".
std::string xml_error(const tinyxml2::XMLDocument& doc) {
  std::string n = doc.ErrorName() ? doc.ErrorName() : "XML_ERROR_PARSING";
  if (n.starts_with("XML_ERROR_")) n = n.substr(10);
  else if (n.starts_with("XML_")) n = n.substr(4);
  for (char& c : n) c = c == '_' ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return n;
}

std::string trim(std::string_view s) {
  size_t a = 0, b = s.size();
  while (a < b && (s[a] == ' ' || s[a] == '\t' || s[a] == '\n' || s[a] == '\r')) ++a;
  while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\n' || s[b - 1] == '\r')) --b;
  return std::string(s.substr(a, b - a));
}

// All the text of an element: its text and CDATA pieces joined (comments
// between them are not text).
std::string element_text(const XMLElement* e) {
  if (!e) return "";
  std::string out;
  for (const tinyxml2::XMLNode* n = e->FirstChild(); n; n = n->NextSibling()) {
    if (const tinyxml2::XMLText* t = n->ToText()) out += t->Value() ? t->Value() : "";
  }
  return trim(out);
}

// The text of an element's <text> child (inputEntry, outputEntry, …).
std::string text_child(const XMLElement* e) { return element_text(child(e, "text")); }

std::string one_line(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == ' ' || c == 0x7F) {  // no control character reaches a comment
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// ---- names ------------------------------------------------------------------

// Decodes one UTF-8 code point at s[i], advancing i (invalid bytes are one each).
char32_t next_code_point(std::string_view s, size_t& i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
  if (i + len > s.size()) len = 1;
  char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
  for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  i += len;
  return cp;
}

// A letter of a Stratum name (grammar/stratum/lexical.hpp, ident_letter).
bool ident_letter(char32_t c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  static constexpr std::pair<char32_t, char32_t> ranges[] = {
      {0x00C0, 0x00D6}, {0x00D8, 0x00F6}, {0x00F8, 0x1FFF}, {0x2E80, 0x2FDF}, {0x3005, 0x3005},
      {0x3007, 0x3007}, {0x3040, 0x9FFF}, {0xAC00, 0xD7AF}, {0xF900, 0xFAFF}, {0xFF21, 0xFF3A},
      {0xFF41, 0xFF5A}, {0x20000, 0x3FFFF}};
  for (auto [lo, hi] : ranges) {
    if (c >= lo && c <= hi) return true;
  }
  return false;
}

bool ident_char(char32_t c) { return ident_letter(c) || (c >= '0' && c <= '9'); }

// Words a name cannot be: the reserved words, and the words that mean
// something where a name could stand (`missing` as a result, `present`).
const std::set<std::string>& reserved() {
  static const std::set<std::string> words = {"and", "or", "not", "in", "contains", "is", "when", "else",
                                              "true", "false", "today", "missing", "present", "segment"};
  return words;
}

// True when `s` is usable as written as a Stratum name.
bool is_name(std::string_view s) {
  if (s.empty() || reserved().count(std::string(s))) return false;
  size_t i = 0;
  bool first = true;
  while (i < s.size()) {
    char32_t c = next_code_point(s, i);
    if (first ? !ident_letter(c) : !ident_char(c)) return false;
    first = false;
  }
  return true;
}

// A DMN name (which may hold spaces, '/', '-', '.') as a Stratum name:
// other characters become one '_' each run; a leading digit gets '_'.
std::string to_name(std::string_view s) {
  std::string out;
  bool pending = false;
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    char32_t c = next_code_point(s, i);
    if (ident_char(c)) {
      if (pending && !out.empty()) out += '_';
      pending = false;
      out.append(s.substr(start, i - start));
    } else {
      pending = true;
    }
  }
  if (out.empty()) out = "x";
  if (out[0] >= '0' && out[0] <= '9') out = "_" + out;
  if (reserved().count(out)) out += '_';
  return out;
}

// Unique names within one namespace.
class Names {
 public:
  std::string take(std::string_view dmn_name) {
    std::string base = to_name(dmn_name), name = base;
    for (int k = 2; used_.count(name); ++k) name = fmt::format("{}_{}", base, k);
    used_.insert(name);
    return name;
  }
  bool used(const std::string& n) const { return used_.count(n) > 0; }

 private:
  std::set<std::string> used_;
};

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': break;
      default: out += c;
    }
  }
  return out + "\"";
}

// ---- types ------------------------------------------------------------------

enum class Kind { number, string, boolean, date, unsupported };

struct ValueType {
  Kind kind = Kind::unsupported;
  std::string written;  // the DMN type's name, for messages
};

Kind builtin_kind(std::string_view t) {
  auto colon = t.find(':');
  if (colon != std::string_view::npos) t = t.substr(colon + 1);
  if (t == "number" || t == "decimal" || t == "integer" || t == "int" || t == "long" || t == "double") return Kind::number;
  if (t == "string") return Kind::string;
  if (t == "boolean") return Kind::boolean;
  if (t == "date") return Kind::date;
  return Kind::unsupported;
}

// ---- S-FEEL literals and unary tests ----------------------------------------

struct Literal {
  enum class Type { string, number, boolean, date, null, other } type = Type::other;
  std::string text;  // string: its value; number: as written; boolean: true/false; date: YYYY-MM-DD
  std::string why;   // other: what is wrong with it, when it looked like a literal
};

// A real calendar date YYYY-MM-DD.
bool valid_date(std::string_view d) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (d[i] < '0' || d[i] > '9') return false;
  }
  int y = std::stoi(std::string(d.substr(0, 4))), m = std::stoi(std::string(d.substr(5, 2))), day = std::stoi(std::string(d.substr(8, 2)));
  static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m >= 1 && m <= 12 && day >= 1 && day <= days[m - 1] + (m == 2 && leap ? 1 : 0);
}

bool valid_number(std::string_view n) {
  size_t i = 0;
  if (i < n.size() && (n[i] == '-' || n[i] == '+')) ++i;
  size_t digits = 0, dot = 0;
  for (; i < n.size(); ++i) {
    if (n[i] >= '0' && n[i] <= '9') ++digits;
    else if (n[i] == '.' && dot == 0) ++dot;
    else return false;
  }
  return digits > 0;
}

// Within Stratum's exact numbers: below 10^24, at most 12 decimal places.
bool exact_number(std::string_view n) {
  if (!n.empty() && (n[0] == '-' || n[0] == '+')) n.remove_prefix(1);
  auto dot = n.find('.');
  std::string_view whole = n.substr(0, dot), fraction = dot == std::string_view::npos ? "" : n.substr(dot + 1);
  while (!whole.empty() && whole.front() == '0') whole.remove_prefix(1);
  while (!fraction.empty() && fraction.back() == '0') fraction.remove_suffix(1);
  return whole.size() <= 24 && fraction.size() <= 12;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

Literal literal(std::string_view raw) {
  std::string s = trim(raw);
  Literal l;
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') {
    // FEEL string escapes: \" \' \\ \n \r \t \uXXXX \UXXXXXX.
    std::string v;
    for (size_t i = 1; i + 1 < s.size(); ++i) {
      if (s[i] == '"') return l;  // two strings, or a stray quote
      if (s[i] != '\\') {
        v += s[i];
        continue;
      }
      if (i + 2 >= s.size()) {
        l.why = fmt::format("the string {} ends in a lone `\\`", s);
        return l;
      }
      char n = s[++i];
      if (n == '"' || n == '\'' || n == '\\') v += n;
      else if (n == 'n') v += '\n';
      else if (n == 'r') v += '\r';
      else if (n == 't') v += '\t';
      else if (n == 'u' || n == 'U') {
        size_t len = n == 'u' ? 4 : 6;
        std::string hex = i + len < s.size() - 1 ? s.substr(i + 1, len) : "";
        bool ok = hex.size() == len && std::all_of(hex.begin(), hex.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
        char32_t cp = ok ? static_cast<char32_t>(std::stoul(hex, nullptr, 16)) : 0;
        if (!ok || cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
          l.why = fmt::format("the string {} has an escape `\\{}` that is not a character", s, n);
          return l;
        }
        append_utf8(v, cp);
        i += len;
      } else {
        l.why = fmt::format("the string {} has an unknown escape `\\{}`", s, n);
        return l;
      }
    }
    for (char c : v) {
      if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r') {
        l.why = fmt::format("the string {} holds a control character", s);
        return l;
      }
    }
    l.type = Literal::Type::string;
    l.text = v;
    return l;
  }
  if (s == "true" || s == "false") {
    l.type = Literal::Type::boolean;
    l.text = s;
    return l;
  }
  if (s == "null") {
    l.type = Literal::Type::null;
    return l;
  }
  if (valid_number(s)) {
    if (!exact_number(s)) {
      l.why = fmt::format("the number {} is beyond Stratum's exact numbers (below 10^24, at most 12 decimal places)", s);
      return l;
    }
    l.type = Literal::Type::number;
    l.text = s[0] == '+' ? s.substr(1) : s;
    // Leading and trailing dots as digits: .5 → 0.5, 5. → 5
    if (l.text.find('.') != std::string::npos) {
      bool neg = l.text[0] == '-';
      std::string body = neg ? l.text.substr(1) : l.text;
      if (body[0] == '.') body = "0" + body;
      if (body.back() == '.') body.pop_back();
      l.text = (neg ? "-" : "") + body;
    }
    return l;
  }
  for (std::string_view f : {"date(\"", "date( \""}) {
    if (s.starts_with(f) && s.ends_with("\")")) {
      std::string d = trim(s.substr(f.size(), s.size() - f.size() - 2));
      if (valid_date(d)) {
        l.type = Literal::Type::date;
        l.text = d;
      } else {
        l.why = fmt::format("{} is not a calendar date", s);
      }
      return l;
    }
  }
  return l;
}

// Splits at top-level commas (outside quotes, brackets and parentheses).
std::vector<std::string> split_list(std::string_view s) {
  std::vector<std::string> parts;
  std::string cur;
  int depth = 0;
  bool quoted = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quoted) {
      cur += c;
      if (c == '\\' && i + 1 < s.size()) cur += s[++i];
      else if (c == '"') quoted = false;
      continue;
    }
    if (c == '"') quoted = true;
    else if (c == '(' || c == '[') ++depth;
    else if (c == ')' || c == ']') --depth;
    // `]a..b[` (open ends written outward) opens with ']' and closes with '['.
    if (c == ',' && depth <= 0) {
      parts.push_back(trim(cur));
      cur.clear();
      continue;
    }
    cur += c;
  }
  parts.push_back(trim(cur));
  return parts;
}

struct UnaryTest {
  enum class Kind { any, equals, compare, range, set, not_set, null, invalid } kind = Kind::invalid;
  std::string op;               // compare: < <= > >= !=
  std::vector<Literal> values;  // equals/compare: 1; range: 2; set: n
  bool low_closed = true, high_closed = true;
  std::string why;              // invalid: what is not supported
};

UnaryTest single_test(std::string_view raw) {
  std::string s = trim(raw);
  UnaryTest t;
  if (s.empty()) {
    t.why = "an empty test in a list";
    return t;
  }
  for (std::string_view op : {"<=", ">=", "!=", "<", ">", "="}) {
    if (s.starts_with(op)) {
      Literal l = literal(s.substr(op.size()));
      if (l.type == Literal::Type::other || l.type == Literal::Type::null) {
        t.why = !l.why.empty() ? l.why : fmt::format("`{}` compares with something other than a literal value", s);
        return t;
      }
      t.kind = op == "=" ? UnaryTest::Kind::equals : UnaryTest::Kind::compare;
      t.op = std::string(op);
      t.values.push_back(l);
      return t;
    }
  }
  if ((s.front() == '[' || s.front() == '(' || s.front() == ']') &&
      (s.back() == ']' || s.back() == ')' || s.back() == '[')) {
    auto dots = s.find("..");
    if (dots == std::string::npos) {
      t.why = fmt::format("`{}` is not a range `[a..b]`", s);
      return t;
    }
    Literal lo = literal(s.substr(1, dots - 1)), hi = literal(s.substr(dots + 2, s.size() - dots - 3));
    if (lo.type == Literal::Type::other || hi.type == Literal::Type::other || lo.type == Literal::Type::null ||
        hi.type == Literal::Type::null) {
      t.why = !lo.why.empty() ? lo.why : !hi.why.empty() ? hi.why : fmt::format("the range `{}` has a bound that is not a literal value", s);
      return t;
    }
    t.kind = UnaryTest::Kind::range;
    t.low_closed = s.front() == '[';
    t.high_closed = s.back() == ']';
    t.values = {lo, hi};
    return t;
  }
  Literal l = literal(s);
  if (l.type == Literal::Type::null) {
    t.kind = UnaryTest::Kind::null;  // the input has no value
    return t;
  }
  if (l.type == Literal::Type::other) {
    t.why = !l.why.empty() ? l.why : fmt::format("`{}` is an expression; the importer reads S-FEEL unary tests of literal values", s);
    return t;
  }
  t.kind = UnaryTest::Kind::equals;
  t.values.push_back(l);
  return t;
}

UnaryTest unary_tests(std::string_view raw) {
  std::string s = trim(raw);
  UnaryTest t;
  if (s.empty() || s == "-") {
    t.kind = UnaryTest::Kind::any;
    return t;
  }
  bool negated = false;
  if (s.starts_with("not(") || s.starts_with("not (")) {
    if (s.back() != ')') {
      t.why = fmt::format("`{}` is not `not(…)`", s);
      return t;
    }
    negated = true;
    s = trim(s.substr(s.find('(') + 1, s.size() - s.find('(') - 2));
  }
  std::vector<std::string> parts = split_list(s);
  if (parts.size() == 1) {
    UnaryTest one = single_test(parts[0]);
    if (!negated || one.kind == UnaryTest::Kind::invalid) return one;
    if (one.kind == UnaryTest::Kind::null) {
      t.why = "`not(null)`: a cell tests one comparison, one range, a set of values or `null`";
      return t;
    }
    if (one.kind == UnaryTest::Kind::equals) {
      one.kind = UnaryTest::Kind::not_set;
      return one;
    }
    if (one.kind == UnaryTest::Kind::compare) {
      static const std::map<std::string, std::string> opposite = {{"<", ">="}, {"<=", ">"}, {">", "<="}, {">=", "<"}, {"!=", "="}};
      one.op = opposite.at(one.op);
      if (one.op == "=") one.kind = UnaryTest::Kind::equals;
      return one;
    }
    t.why = fmt::format("`not({})`: the negation of a range", s);
    return t;
  }
  // A list: each a literal value (a set), else not expressible as one cell.
  t.kind = negated ? UnaryTest::Kind::not_set : UnaryTest::Kind::set;
  for (const auto& p : parts) {
    UnaryTest one = single_test(p);
    if (one.kind == UnaryTest::Kind::null) {
      t.kind = UnaryTest::Kind::invalid;
      t.why = fmt::format("`{}`: a list holding `null` (a cell tests a set of values, or `null` alone)", s);
      return t;
    }
    if (one.kind != UnaryTest::Kind::equals || one.op == "=") {
      t.kind = UnaryTest::Kind::invalid;
      t.why = one.kind == UnaryTest::Kind::invalid
                  ? one.why
                  : fmt::format("`{}`: a list of comparisons or ranges (a cell tests one comparison, one range or a set of values)", s);
      return t;
    }
    t.values.push_back(one.values[0]);
  }
  return t;
}

// ---- the model --------------------------------------------------------------

struct ItemDef {
  const XMLElement* element = nullptr;
  std::string type_ref;
  bool collection = false;
  std::vector<std::pair<std::string, const XMLElement*>> components;  // name → itemComponent
  const XMLElement* allowed = nullptr;  // allowedValues
};

// A value the rules read or decide: a field or a decision's output.
struct Column {
  std::string name;        // the Stratum name
  std::string dmn_name;
  Kind kind = Kind::unsupported;
  std::string type_written;
  std::vector<std::string> members;  // an enum's values, in order; empty: not an enum
  std::string enum_name;
  std::string item;   // the item definition its type and values come from, if any
  bool list = false;  // a list<…> (rule order, output order, collect)
};

struct Field {
  Column col;
  int line = 0;
  std::optional<std::vector<std::string>> allowed;  // string values from the item definition
  std::vector<std::vector<std::string>> table_values;  // inputValues of each table that reads it
  std::set<std::string> literals;  // string literals its cells test
  std::string domain;              // a number range from the item definition (`>= 0`, `in [0, 100]`)
};

struct Output {
  Column col;
  std::string component;  // the DMN output (component) name
  std::vector<std::string> values;  // outputValues (string literals), in order
  bool has_values = false;
  std::optional<std::string> default_entry;
  int line = 0;
};

struct Rule {
  int line = 0;
  std::vector<std::string> inputs;   // input entries, as written
  std::vector<int> input_lines;
  std::vector<std::string> outputs;  // output entries, as written
  std::vector<int> output_lines;
  std::string comment;
};

struct Table {
  bool broken = false;  // reported while reading: not written
  std::string dmn_name;
  std::string name;  // the table's Stratum name
  int line = 0;
  std::string policy;  // DMN hitPolicy
  std::string aggregation;
  std::vector<std::string> inputs;   // Stratum column names
  std::vector<int> input_fields;     // index into fields, or -1 (a decision)
  std::vector<Kind> input_kinds;
  std::vector<Output> outputs;
  std::vector<Rule> rules;
  std::vector<std::string> annotations;
};

class Importer {
 public:
  Importer(SourceSet& sources, Diagnostics& diags) : sources_(sources), diags_(diags) {}

  std::optional<std::string> run(const XmlFile& model, const std::vector<XmlFile>& tests) {
    file_ = sources_.add(model.path, model.text);
    line_starts(model.text);
    if (size_t bad = invalid_utf8(model.text); bad != std::string::npos) {
      error("dmn-xml", line_of(starts_, bad), "the model is not valid UTF-8 (DMN models are read as UTF-8)");
      return std::nullopt;
    }
    if (auto bad = xml_problem(model.text)) {
      error("dmn-xml", line_of(starts_, bad->first), fmt::format("not well-formed XML: {}", bad->second));
      return std::nullopt;
    }
    tinyxml2::XMLDocument doc;
    if (doc.Parse(model.text.data(), model.text.size()) != tinyxml2::XML_SUCCESS) {
      error("dmn-xml", doc.ErrorLineNum(), fmt::format("not well-formed XML ({})", xml_error(doc)));
      return std::nullopt;
    }
    if (doc.RootElement() && doc.RootElement()->NextSiblingElement()) {
      error("dmn-xml", doc.RootElement()->NextSiblingElement()->GetLineNum(), "not well-formed XML: a second root element");
      return std::nullopt;
    }
    const XMLElement* root = doc.RootElement();
    if (!root || local_name(root->Name()) != "definitions") {
      error("dmn-xml", root ? root->GetLineNum() : 1, "not a DMN model: its root element is not <definitions>");
      return std::nullopt;
    }
    model_name_ = attr(root, "name");
    read_definitions(root);
    decide_types();
    std::string body = write_tables();
    std::string test_text;
    for (const auto& t : tests) test_text += read_tests(t);
    if (diags_.has_errors()) return std::nullopt;
    return header(model.path) + write_enums() + write_input() + body + test_text;
  }

 private:
  SourceSet& sources_;
  Diagnostics& diags_;
  uint32_t file_ = 0;
  std::vector<uint32_t> starts_;
  std::string text_;
  std::string model_name_;
  std::map<std::string, ItemDef> items_;
  std::vector<Field> fields_;
  std::map<std::string, int> field_index_;     // DMN name → field
  std::vector<Table> tables_;
  std::map<std::string, int> table_index_;     // DMN decision name → table
  Names values_, enums_;
  std::map<std::string, int> member_count_;    // enum value → how many enums hold it
  bool has_null_default_ = false, has_list_default_ = false, has_list_ = false, has_collect_ = false, has_aggregate_ = false;

  void line_starts(const std::string& text) {
    text_ = text;
    starts_ = {0};
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\n') starts_.push_back(static_cast<uint32_t>(i + 1));
    }
  }

  Span line_span(uint32_t file, const std::vector<uint32_t>& starts, const std::string& text, int line) const {
    if (line < 1 || static_cast<size_t>(line) > starts.size()) return {file, 0, 0};
    uint32_t b = starts[line - 1];
    uint32_t e = static_cast<size_t>(line) < starts.size() ? starts[line] : static_cast<uint32_t>(text.size());
    while (e > b && (text[e - 1] == '\n' || text[e - 1] == '\r' || text[e - 1] == ' ')) --e;
    while (b < e && (text[b] == ' ' || text[b] == '\t')) ++b;
    return {file, b, e};
  }

  Diagnostic& error(const char* code, int line, std::string message) {
    return diags_.error(code, line_span(file_, starts_, text_, line), std::move(message));
  }
  Diagnostic& unsupported(int line, std::string message) { return error("unsupported", line, std::move(message)); }

  // ---- reading ----------------------------------------------------------------

  void read_definitions(const XMLElement* root) {
    for (const XMLElement* e : children(root, "itemDefinition")) {
      ItemDef d;
      d.element = e;
      d.type_ref = element_text(child(e, "typeRef"));
      if (d.type_ref.empty()) d.type_ref = attr(e, "typeRef");
      d.collection = attr(e, "isCollection") == "true";
      d.allowed = child(e, "allowedValues");
      for (const XMLElement* c : children(e, "itemComponent")) d.components.push_back({attr(c, "name"), c});
      items_[attr(e, "name")] = d;
    }
    expression_language(root);
    for (const XMLElement* e : children(root, "inputData")) {
      Field f;
      f.col.dmn_name = attr(e, "name");
      f.line = e->GetLineNum();
      if (trim(f.col.dmn_name).empty()) {
        unsupported(e->GetLineNum(), "input data without a name");
        continue;
      }
      if (field_index_.count(f.col.dmn_name)) {
        unsupported(e->GetLineNum(), fmt::format("a second input data named `{}` (the first is at line {})", one_line(f.col.dmn_name),
                                                 fields_[field_index_[f.col.dmn_name]].line));
        continue;
      }
      std::string type = attr(child(e, "variable"), "typeRef");
      resolve_field_type(f, type, e->GetLineNum());
      field_index_[f.col.dmn_name] = static_cast<int>(fields_.size());
      fields_.push_back(std::move(f));
    }
    for (const XMLElement* e : children(root, "decision")) {
      std::string name = attr(e, "name");
      if (trim(name).empty() || table_index_.count(name) || field_index_.count(name)) {
        unsupported(e->GetLineNum(), trim(name).empty() ? std::string("a decision without a name")
                                                        : fmt::format("a second element named `{}` (decisions and input data share one namespace)", one_line(name)));
        continue;
      }
      if (children(e, "decisionTable").size() > 1) {
        unsupported(e->GetLineNum(), fmt::format("decision `{}` has {} decision tables; a decision has one", one_line(name), children(e, "decisionTable").size()));
        continue;
      }
      if (child(e, "decisionTable")) {
        table_index_[attr(e, "name")] = static_cast<int>(tables_.size());
        tables_.push_back({});
        tables_.back().dmn_name = attr(e, "name");
        tables_.back().line = e->GetLineNum();
      } else {
        std::string what = "no decision logic";
        for (const XMLElement* c = e->FirstChildElement(); c; c = c->NextSiblingElement()) {
          std::string_view n = local_name(c->Name());
          if (n != "variable" && n != "informationRequirement" && n != "knowledgeRequirement" && n != "authorityRequirement" &&
              n != "description" && n != "question" && n != "allowedAnswers" && n != "extensionElements") {
            what = fmt::format("a <{}>", n);
            break;
          }
        }
        unsupported(e->GetLineNum(), fmt::format("decision `{}` is {}: only decision tables are imported", attr(e, "name"), what));
      }
    }
    for (std::string_view other : {"businessKnowledgeModel", "decisionService", "import"}) {
      for (const XMLElement* e : children(root, other)) {
        unsupported(e->GetLineNum(), fmt::format("<{}> `{}`: only decision tables (and the input data they read) are imported", other, attr(e, "name")));
      }
    }
    // Names: fields first, then decisions, in document order.
    for (auto& f : fields_) f.col.name = values_.take(f.col.dmn_name);
    for (const XMLElement* e : children(root, "decision")) {
      auto it = table_index_.find(attr(e, "name"));
      if (it == table_index_.end()) continue;
      size_t before = diags_.error_count();
      read_table(tables_[it->second], e, child(e, "decisionTable"));
      if (diags_.error_count() != before) tables_[it->second].broken = true;
    }
  }

  // Every expression is FEEL (S-FEEL): another language anywhere is refused.
  void expression_language(const XMLElement* e) {
    std::string lang = attr(e, "expressionLanguage");
    if (!lang.empty()) {
      std::string lower = lang;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower.find("feel") == std::string::npos) {
        unsupported(e->GetLineNum(), fmt::format("expression language `{}`: the importer reads FEEL", one_line(lang)));
      }
    }
    for (const XMLElement* c = e->FirstChildElement(); c; c = c->NextSiblingElement()) {
      if (local_name(c->Name()) == "text" && c->NextSiblingElement() && local_name(c->NextSiblingElement()->Name()) == "text") {
        unsupported(c->NextSiblingElement()->GetLineNum(), "a second <text> in one expression");
      }
      expression_language(c);
    }
  }

  void resolve_field_type(Field& f, const std::string& type, int line) {
    f.col.type_written = type;
    Kind k = builtin_kind(type);
    if (k == Kind::unsupported) {
      auto it = items_.find(type);
      if (it != items_.end() && !it->second.collection && it->second.components.empty()) {
        k = builtin_kind(it->second.type_ref);
        f.col.item = type;
        if (const XMLElement* allowed = it->second.allowed) read_allowed(f, text_child(allowed), k, allowed->GetLineNum());
      } else if (it != items_.end()) {
        unsupported(line, fmt::format("input `{}` is of type `{}`, a {}: inputs are numbers, strings, booleans or dates",
                                      f.col.dmn_name, type, it->second.collection ? "collection" : "structure"));
        return;
      }
    }
    if (k == Kind::unsupported) {
      unsupported(line, fmt::format("input `{}` is of type `{}`: inputs are numbers, strings, booleans or dates",
                                    f.col.dmn_name, type.empty() ? "(none)" : type));
    }
    f.col.kind = k;
  }

  void read_allowed(Field& f, const std::string& text, Kind k, int line) {
    UnaryTest t = unary_tests(text);
    if (k == Kind::string && (t.kind == UnaryTest::Kind::set || t.kind == UnaryTest::Kind::equals)) {
      std::vector<std::string> values;
      for (const auto& v : t.values) {
        if (v.type != Literal::Type::string) break;
        values.push_back(v.text);
      }
      if (values.size() == t.values.size()) {
        f.allowed = values;
        return;
      }
    }
    if (k == Kind::number && (t.kind == UnaryTest::Kind::range || t.kind == UnaryTest::Kind::compare) &&
        std::all_of(t.values.begin(), t.values.end(), [](const Literal& l) { return l.type == Literal::Type::number; })) {
      if (t.kind == UnaryTest::Kind::compare && t.op != "!=") f.domain = t.op + " " + t.values[0].text;
      if (t.kind == UnaryTest::Kind::range)
        f.domain = fmt::format("in {}{}, {}{}", t.low_closed ? "[" : "(", t.values[0].text, t.values[1].text, t.high_closed ? "]" : ")");
      if (!f.domain.empty()) return;
    }
    unsupported(line, fmt::format("the allowed values `{}` of input `{}`: read are a list of strings, or one range or comparison of numbers",
                                  one_line(text), f.col.dmn_name));
  }

  void read_table(Table& t, const XMLElement* decision, const XMLElement* dt) {
    t.policy = attr(dt, "hitPolicy");
    if (t.policy.empty()) t.policy = "UNIQUE";
    t.aggregation = attr(dt, "aggregation");
    static const std::set<std::string> policies = {"UNIQUE", "FIRST", "PRIORITY", "ANY", "COLLECT", "RULE ORDER", "OUTPUT ORDER"};
    if (!policies.count(t.policy)) {
      unsupported(dt->GetLineNum(), fmt::format("hit policy `{}` (DMN's are UNIQUE, FIRST, PRIORITY, ANY, COLLECT, RULE ORDER and OUTPUT ORDER)", t.policy));
      return;
    }
    if (!t.aggregation.empty() && t.policy != "COLLECT") {
      unsupported(dt->GetLineNum(), fmt::format("aggregation `{}` with hit policy {}: aggregation belongs to COLLECT", t.aggregation, t.policy));
      return;
    }
    if (!t.aggregation.empty() && t.aggregation != "SUM" && t.aggregation != "MIN" && t.aggregation != "MAX" && t.aggregation != "COUNT") {
      unsupported(dt->GetLineNum(), fmt::format("aggregation `{}` (DMN's are SUM, MIN, MAX and COUNT)", t.aggregation));
      return;
    }
    std::string orientation = attr(dt, "preferredOrientation");
    (void)orientation;  // a presentation choice: rules are rows here whatever it says
    // Inputs.
    for (const XMLElement* in : children(dt, "input")) {
      const XMLElement* ie = child(in, "inputExpression");
      std::string expr = text_child(ie);
      int line = (ie ? ie : in)->GetLineNum();
      auto f = field_index_.find(expr);
      auto d = table_index_.find(expr);
      if (d != table_index_.end() && d->second == static_cast<int>(&t - tables_.data())) {
        unsupported(line, fmt::format("decision `{}` reads itself", one_line(t.dmn_name)));
        return;
      }
      if (f != field_index_.end()) {
        Field& field = fields_[f->second];
        t.inputs.push_back(field.col.name);
        t.input_fields.push_back(f->second);
        t.input_kinds.push_back(field.col.kind);
        if (field.col.kind == Kind::unsupported) {
          Kind k = builtin_kind(attr(ie, "typeRef"));
          if (k != Kind::unsupported) field.col.kind = k;
        }
        if (const XMLElement* iv = child(in, "inputValues")) {
          UnaryTest v = unary_tests(text_child(iv));
          std::vector<std::string> values;
          for (const auto& l : v.values) if (l.type == Literal::Type::string) values.push_back(l.text);
          if ((v.kind == UnaryTest::Kind::set || v.kind == UnaryTest::Kind::equals) && values.size() == v.values.size()) {
            field.table_values.push_back(values);
          } else if (v.kind != UnaryTest::Kind::any) {
            unsupported(iv->GetLineNum(), fmt::format("input values `{}`: read are a list of strings", one_line(text_child(iv))));
          }
        }
      } else if (d != table_index_.end() && d->second != static_cast<int>(&t - tables_.data())) {
        t.inputs.push_back("");  // the decision's name, once it has one
        t.input_fields.push_back(-1 - d->second);
        t.input_kinds.push_back(Kind::unsupported);
      } else {
        unsupported(line, expr.empty() ? std::string("an input without an input expression")
                                       : fmt::format("input expression `{}`: inputs are the names of input data or of other decision tables", one_line(expr)));
        return;
      }
    }
    for (const XMLElement* a : children(dt, "annotation")) t.annotations.push_back(attr(a, "name"));
    // Outputs: the columns; their names and types from the decision's item definition.
    std::string decision_type = attr(child(decision, "variable"), "typeRef");
    if (decision_type.empty()) decision_type = attr(dt, "typeRef");
    const ItemDef* def = nullptr;
    if (auto it = items_.find(decision_type); it != items_.end()) def = &it->second;
    std::vector<const XMLElement*> outs = children(dt, "output");
    if (outs.empty()) {
      unsupported(dt->GetLineNum(), fmt::format("decision table `{}` has no output", t.dmn_name));
      return;
    }
    bool lists = t.policy == "RULE ORDER" || t.policy == "OUTPUT ORDER" || (t.policy == "COLLECT" && t.aggregation.empty());
    if (outs.size() > 1 && !t.aggregation.empty()) {
      unsupported(dt->GetLineNum(), fmt::format("COLLECT with {} over {} outputs: DMN aggregates a table of one output", t.aggregation, outs.size()));
      return;
    }
    for (size_t k = 0; k < outs.size(); ++k) {
      const XMLElement* o = outs[k];
      Output out;
      out.line = o->GetLineNum();
      out.component = attr(o, "name");
      if (outs.size() > 1 && out.component.empty()) {
        unsupported(o->GetLineNum(), "an output of a table of several outputs without a name");
        return;
      }
      // The type: the output's own, the component's, or the decision's.
      std::string type = attr(o, "typeRef");
      const XMLElement* allowed = nullptr;
      if (def && outs.size() > 1) {
        for (const auto& [name, comp] : def->components) {
          if (name != out.component) continue;
          if (type.empty()) type = element_text(child(comp, "typeRef"));
          allowed = child(comp, "allowedValues");
        }
      }
      if (type.empty() && def && outs.size() == 1) {
        type = def->type_ref;
        allowed = def->allowed;
        if (type.empty() && def->components.size() == 1) type = element_text(child(def->components[0].second, "typeRef"));
      }
      if (type.empty() && outs.size() == 1) type = decision_type;
      Kind kind = builtin_kind(type);
      if (kind == Kind::unsupported) {
        if (auto it = items_.find(type); it != items_.end() && it->second.components.empty()) {
          kind = builtin_kind(it->second.type_ref);
          if (!allowed) allowed = it->second.allowed;
          out.col.item = type;
        }
      }
      if (kind == Kind::unsupported && type.empty()) kind = Kind::string;  // typed by its values below
      if (kind == Kind::unsupported) {
        unsupported(o->GetLineNum(), fmt::format("output `{}` is of type `{}`: outputs are numbers, strings, booleans or dates",
                                                 out.component.empty() ? t.dmn_name : out.component, type));
        return;
      }
      out.col.kind = kind;
      out.col.type_written = type;
      out.col.list = lists;
      const XMLElement* values = child(o, "outputValues");
      if (!values) values = allowed;
      if (values) {
        UnaryTest v = unary_tests(text_child(values));
        for (const auto& l : v.values) if (l.type == Literal::Type::string) out.values.push_back(l.text);
        out.has_values = (v.kind == UnaryTest::Kind::set || v.kind == UnaryTest::Kind::equals) && out.values.size() == v.values.size();
        if (!out.has_values) out.values.clear();
      }
      if (const XMLElement* de = child(o, "defaultOutputEntry")) {
        out.default_entry = text_child(de);
        if (!t.aggregation.empty()) {
          unsupported(de->GetLineNum(), fmt::format("a default output entry with hit policy {} {}", t.policy, t.aggregation));
          return;
        }
      }
      out.col.dmn_name = outs.size() == 1 ? t.dmn_name : out.component;
      out.col.name = values_.take(outs.size() == 1 ? t.dmn_name : t.dmn_name + "_" + out.component);
      t.outputs.push_back(std::move(out));
    }
    if ((t.aggregation == "SUM" || t.aggregation == "MIN" || t.aggregation == "MAX") && t.outputs[0].col.kind != Kind::number) {
      unsupported(dt->GetLineNum(), fmt::format("COLLECT {} over {} outputs: the importer aggregates numbers", t.aggregation,
                                                kind_name(t.outputs[0].col.kind)));
      return;
    }
    t.name = t.outputs.size() == 1 ? t.outputs[0].col.name : values_.take(t.dmn_name);
    // Rules.
    for (const XMLElement* r : children(dt, "rule")) {
      Rule rule;
      rule.line = r->GetLineNum();
      for (const XMLElement* e : children(r, "inputEntry")) {
        rule.inputs.push_back(text_child(e));
        rule.input_lines.push_back(e->GetLineNum());
      }
      for (const XMLElement* e : children(r, "outputEntry")) {
        rule.outputs.push_back(text_child(e));
        rule.output_lines.push_back(e->GetLineNum());
      }
      std::vector<std::string> notes;
      if (std::string d = element_text(child(r, "description")); !d.empty()) notes.push_back(one_line(d));
      auto entries = children(r, "annotationEntry");
      for (size_t k = 0; k < entries.size(); ++k) {
        std::string a = one_line(text_child(entries[k]));
        if (a.empty()) continue;
        std::string label = k < t.annotations.size() && !t.annotations[k].empty() ? one_line(t.annotations[k]) + ": " : "";
        notes.push_back(label + a);
      }
      for (const auto& n : notes) rule.comment += (rule.comment.empty() ? "" : "; ") + n;
      if (rule.inputs.size() != t.inputs.size()) {
        unsupported(rule.line, fmt::format("this rule has {} input entries, the table {} inputs", rule.inputs.size(), t.inputs.size()));
        return;
      }
      if (rule.outputs.size() != t.outputs.size()) {
        unsupported(rule.line, fmt::format("this rule has {} output entries, the table {} outputs", rule.outputs.size(), t.outputs.size()));
        return;
      }
      // String literals tested per field: an enum must hold every one.
      for (size_t c = 0; c < rule.inputs.size(); ++c) {
        if (t.input_fields[c] < 0) continue;
        UnaryTest u = unary_tests(rule.inputs[c]);
        for (const auto& l : u.values) if (l.type == Literal::Type::string) fields_[t.input_fields[c]].literals.insert(l.text);
      }
      t.rules.push_back(std::move(rule));
    }
  }

  // ---- types and enums --------------------------------------------------------

  // Enums where every value is a name as written and every literal the
  // rules use is among them; otherwise text.
  void decide_types() {
    for (auto& f : fields_) {
      if (f.col.kind != Kind::string) continue;
      std::optional<std::vector<std::string>> values = f.allowed;
      if (!values && !f.table_values.empty() &&
          std::all_of(f.table_values.begin(), f.table_values.end(), [&](const auto& v) { return v == f.table_values[0]; })) {
        values = f.table_values[0];
      }
      if (!values || !enum_ok(*values, f.literals)) continue;
      f.col.members = *values;
      name_enum(f.col, f.col.dmn_name);
    }
    for (auto& t : tables_) {
      if (t.broken) continue;
      for (size_t k = 0; k < t.outputs.size(); ++k) {
        Output& o = t.outputs[k];
        if (o.col.kind != Kind::string || !o.has_values) continue;
        std::set<std::string> used;
        for (const auto& r : t.rules) {
          Literal l = literal(r.outputs[k]);
          if (l.type == Literal::Type::string) used.insert(l.text);
        }
        if (o.default_entry) {
          Literal l = literal(*o.default_entry);
          if (l.type == Literal::Type::string) used.insert(l.text);
        }
        if (!enum_ok(o.values, used)) continue;
        o.col.members = o.values;
        name_enum(o.col, o.col.name);
      }
      // Priority and output order rank by the output values: they must be an enum.
      if ((t.policy == "PRIORITY" || t.policy == "OUTPUT ORDER") &&
          std::none_of(t.outputs.begin(), t.outputs.end(), [](const Output& o) { return !o.col.members.empty(); })) {
        unsupported(t.line, fmt::format("hit policy {} ranks the results by the output values list; decision `{}` has no output with a list of "
                                        "string values that are names (letters, digits and `_`), holding every result",
                                        t.policy, t.dmn_name));
      }
    }
    // Decisions that read each other in a cycle cannot be decided.
    std::vector<int> color(tables_.size(), 0), path;
    std::function<void(int)> visit = [&](int i) {
      color[i] = 1;
      path.push_back(i);
      for (int src : tables_[i].input_fields) {
        if (src >= 0) continue;
        int j = -1 - src;
        if (color[j] == 1) {
          std::string chain;
          auto from = std::find(path.begin(), path.end(), j);
          for (auto it = from; it != path.end(); ++it) chain += one_line(tables_[*it].dmn_name) + " → ";
          chain += one_line(tables_[j].dmn_name);
          unsupported(tables_[j].line, fmt::format("decisions read each other in a cycle: {}", chain));
          for (auto it = from; it != path.end(); ++it) tables_[*it].broken = true;
        } else if (color[j] == 0) {
          visit(j);
        }
      }
      path.pop_back();
      color[i] = 2;
    };
    for (size_t i = 0; i < tables_.size(); ++i) {
      if (color[i] == 0) visit(static_cast<int>(i));
    }
    // Columns that read another decision take its name and type.
    for (auto& t : tables_) {
      if (t.broken) continue;
      for (size_t c = 0; c < t.inputs.size(); ++c) {
        if (t.input_fields[c] >= 0) continue;
        const Table& src = tables_[-1 - t.input_fields[c]];
        if (src.broken) continue;
        if (src.outputs.size() != 1 || src.outputs[0].col.list) {
          unsupported(t.line, fmt::format("decision `{}` reads decision `{}`, which gives {}: a column reads a single value",
                                          t.dmn_name, src.dmn_name, src.outputs.size() != 1 ? "several outputs" : "a list"));
          continue;
        }
        t.inputs[c] = src.outputs[0].col.name;
        t.input_kinds[c] = src.outputs[0].col.kind;
      }
    }
  }

  // Columns typed by one item definition share its enum (named after it);
  // others get an enum of their own, named after the column.
  std::map<std::string, std::pair<std::string, std::vector<std::string>>> item_enums_;
  std::set<std::string> written_enums_;
  void name_enum(Column& c, const std::string& fallback) {
    if (!c.item.empty()) {
      auto it = item_enums_.find(c.item);
      if (it != item_enums_.end() && it->second.second == c.members) {
        c.enum_name = it->second.first;
        return;
      }
    }
    c.enum_name = enums_.take(c.item.empty() || item_enums_.count(c.item) ? fallback : c.item);
    if (!c.item.empty() && !item_enums_.count(c.item)) item_enums_[c.item] = {c.enum_name, c.members};
    for (const auto& m : c.members) ++member_count_[m];
  }

  bool enum_ok(const std::vector<std::string>& values, const std::set<std::string>& used) const {
    if (values.empty()) return false;
    std::set<std::string> seen;
    for (const auto& v : values) {
      if (!is_name(v) || !seen.insert(v).second) return false;
    }
    return std::all_of(used.begin(), used.end(), [&](const std::string& u) { return seen.count(u) > 0; });
  }

  // An enum value as written in the rules: qualified where the name alone
  // could mean something else.
  std::string member(const Column& c, const std::string& v) const {
    auto it = member_count_.find(v);
    bool clash = (it != member_count_.end() && it->second > 1) || values_.used(v);
    return clash ? c.enum_name + "." + v : v;
  }

  // Whether column c of t may lack a value: an input (DMN's null), or a
  // decision that gives null when none of its rules match.
  bool may_be_missing(const Table& t, size_t c) const {
    if (t.input_fields[c] >= 0) return true;
    const Table& src = tables_[-1 - t.input_fields[c]];
    if (src.outputs.size() != 1) return false;
    bool lists = src.policy == "RULE ORDER" || src.policy == "OUTPUT ORDER" || (src.policy == "COLLECT" && src.aggregation.empty());
    if (lists || src.aggregation == "COUNT") return false;
    return !src.outputs[0].default_entry.has_value();
  }

  const Column* column_of(const Table& t, size_t c) const {
    static const Column none;  // a decision that gives no single value (reported)
    if (t.input_fields[c] >= 0) return &fields_[t.input_fields[c]].col;
    const Table& src = tables_[-1 - t.input_fields[c]];
    return src.outputs.size() == 1 && !src.broken ? &src.outputs[0].col : &none;
  }

  // ---- writing ----------------------------------------------------------------

  std::string header(const std::string& path) {
    std::string base = path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
    std::string h = fmt::format("# Imported from {} by `stratum import-dmn`: its decision tables, as DMN defines them.\n", one_line(base));
    std::vector<std::string> notes;
    if (has_null_default_)
      notes.push_back("No rule matching gives null in DMN; a Stratum table would reject the customer. The tables of a single\n"
                      "#   result therefore end with `else || missing` (or the DMN default output): no row, no value.");
    if (has_list_)
      notes.push_back("RULE ORDER and OUTPUT ORDER give a list of every matching rule's results (in rule order, or sorted by\n"
                      "#   the output values list, duplicates kept): `rule order` / `output order` tables of list<…>. A table\n"
                      "#   of several outputs gives one list per output; item k of each belongs to the same rule.");
    if (has_list_default_)
      notes.push_back("A list whose rules all fail to match holds the DMN default output entries as its one item.");
    if (has_collect_)
      notes.push_back("COLLECT without an operator leaves the order of its list open; here it is the rules' order.");
    if (has_aggregate_)
      notes.push_back("COLLECT with SUM, MIN or MAX gives null when no rule matches (`else || missing`); COUNT gives 0.");
    notes.push_back("An input may be null: every field is optional (`?`) and every column is written `name?`, so that a\n"
                    "#   customer without the value matches `-`, `missing` (DMN's `null`) and `not {…}` cells, as in DMN.");
    for (const auto& n : notes) h += "#  - " + n + "\n";
    h += fmt::format("ruleset {}\n\n", quote(model_name_.empty() ? base : model_name_));
    return h;
  }

  std::string write_enums() {
    std::string out;
    auto one = [&](const Column& c, const std::string& what) {
      if (c.members.empty() || !written_enums_.insert(c.enum_name).second) return;
      std::string list;
      for (const auto& m : c.members) list += (list.empty() ? "" : ", ") + m;
      out += fmt::format("enum {} {{ {} }}  # {}\n", c.enum_name, list, one_line(what));
    };
    for (const auto& f : fields_) {
      one(f.col, f.col.item.empty() ? fmt::format("the allowed values of input `{}`", f.col.dmn_name)
                                    : fmt::format("item definition `{}`", f.col.item));
    }
    for (const auto& t : tables_) {
      if (t.broken) continue;
      for (const auto& o : t.outputs) {
        one(o.col, o.col.item.empty() ? fmt::format("the output values of `{}`", o.col.dmn_name)
                                      : fmt::format("item definition `{}`", o.col.item));
      }
    }
    return out.empty() ? out : out + "\n";
  }

  static std::string kind_name(Kind k) {
    switch (k) {
      case Kind::number: return "decimal";
      case Kind::string: return "text";
      case Kind::boolean: return "bool";
      case Kind::date: return "date";
      case Kind::unsupported: return "?";
    }
    return "?";
  }

  static std::string type_of(const Column& c) {
    std::string base = c.members.empty() ? kind_name(c.kind) : c.enum_name;
    return c.list ? "list<" + base + ">" : base;
  }

  std::string write_input() {
    std::string out = "input dmn {\n";
    size_t width = 0;
    for (const auto& f : fields_) width = std::max(width, utf8::cell_width(f.col.name));
    for (const auto& f : fields_) {
      std::string line = fmt::format("  {}{} : {}?", f.col.name, std::string(width - utf8::cell_width(f.col.name), ' '), type_of(f.col));
      if (!f.domain.empty()) line += " " + f.domain;
      if (f.col.name != f.col.dmn_name) line += " as " + quote(f.col.dmn_name);
      out += line + "\n";
    }
    return out + "}\n";
  }

  // A literal as a value of column `c`, or nothing (with a diagnostic).
  std::optional<std::string> value(const Column& c, const Literal& l, int line, const std::string& where) {
    auto wrong = [&](const char* got) -> std::optional<std::string> {
      unsupported(line, fmt::format("{}: {}, where the column is {}", where, got,
                                    c.type_written.empty() ? kind_name(c.kind) : c.type_written));
      return std::nullopt;
    };
    switch (l.type) {
      case Literal::Type::string:
        if (c.kind != Kind::string) return wrong("a string");
        if (!c.members.empty()) return member(c, l.text);
        return quote(l.text);
      case Literal::Type::number:
        if (c.kind != Kind::number) return wrong("a number");
        return l.text;
      case Literal::Type::boolean:
        if (c.kind != Kind::boolean) return wrong("a boolean");
        return l.text;
      case Literal::Type::date:
        if (c.kind != Kind::date) return wrong("a date");
        return l.text;
      case Literal::Type::null:
      case Literal::Type::other:
        break;
    }
    unsupported(line, fmt::format("{}: {}", where, l.why.empty() ? "not a literal value" : l.why));
    return std::nullopt;
  }

  std::optional<std::string> cell(const Column& c, const std::string& text, int line) {
    UnaryTest t = unary_tests(text);
    std::string where = fmt::format("input entry `{}`", one_line(text));
    switch (t.kind) {
      case UnaryTest::Kind::any: return "-";
      case UnaryTest::Kind::null: return "missing";
      case UnaryTest::Kind::invalid:
        unsupported(line, t.why);
        return std::nullopt;
      case UnaryTest::Kind::equals: {
        auto v = value(c, t.values[0], line, where);
        if (!v) return std::nullopt;
        return *v;
      }
      case UnaryTest::Kind::compare: {
        if ((c.kind == Kind::string || c.kind == Kind::boolean) && t.op != "!=") {
          unsupported(line, fmt::format("{}: `{}` orders {} values; the importer orders numbers and dates", where, t.op,
                                        c.kind == Kind::boolean ? "boolean" : "string"));
          return std::nullopt;
        }
        auto v = value(c, t.values[0], line, where);
        if (!v) return std::nullopt;
        return t.op + " " + *v;
      }
      case UnaryTest::Kind::range: {
        if (c.kind != Kind::number && c.kind != Kind::date) {
          unsupported(line, fmt::format("{}: a range of {} values", where, kind_name(c.kind)));
          return std::nullopt;
        }
        auto lo = value(c, t.values[0], line, where), hi = value(c, t.values[1], line, where);
        if (!lo || !hi) return std::nullopt;
        return fmt::format("{}{}, {}{}", t.low_closed ? "[" : "(", *lo, *hi, t.high_closed ? "]" : ")");
      }
      case UnaryTest::Kind::set:
      case UnaryTest::Kind::not_set: {
        std::string list;
        for (const auto& l : t.values) {
          auto v = value(c, l, line, where);
          if (!v) return std::nullopt;
          list += (list.empty() ? "" : ", ") + *v;
        }
        return (t.kind == UnaryTest::Kind::not_set ? "not {" : "{") + list + "}";
      }
    }
    return std::nullopt;
  }

  std::optional<std::string> result(const Column& c, const std::string& text, int line, bool may_be_null) {
    Literal l = literal(text);
    if (l.type == Literal::Type::null || (text.empty() && may_be_null)) {
      if (!may_be_null) {
        unsupported(line, "a null output entry in a table whose every matching rule adds to a list or an aggregate");
        return std::nullopt;
      }
      return "missing";
    }
    return value(c, l, line, fmt::format("output entry `{}`", one_line(text)));
  }

  std::string write_tables() {
    std::string out;
    for (auto& t : tables_) {
      if (t.broken) continue;
      bool typed = true;  // an input of a type not read is reported where it is declared
      for (size_t c = 0; c < t.inputs.size(); ++c) typed = typed && column_of(t, c)->kind != Kind::unsupported;
      if (!typed) continue;
      bool lists = t.policy == "RULE ORDER" || t.policy == "OUTPUT ORDER" || (t.policy == "COLLECT" && t.aggregation.empty());
      std::string policy;
      if (t.policy == "UNIQUE") policy = "unique";
      else if (t.policy == "FIRST") policy = "first";
      else if (t.policy == "ANY") policy = "any";
      else if (t.policy == "PRIORITY") policy = "priority";
      else if (t.policy == "RULE ORDER") policy = "rule order";
      else if (t.policy == "OUTPUT ORDER") policy = "output order";
      else if (t.aggregation.empty()) policy = "rule order";
      else if (t.aggregation == "SUM") policy = "collect sum";
      else if (t.aggregation == "MIN") policy = "collect min";
      else if (t.aggregation == "MAX") policy = "collect max";
      else policy = "collect count";
      bool aggregate = t.aggregation == "SUM" || t.aggregation == "MIN" || t.aggregation == "MAX";
      bool count = t.aggregation == "COUNT";
      bool single = !lists && t.aggregation.empty();
      has_list_ = has_list_ || lists;
      has_collect_ = has_collect_ || (t.policy == "COLLECT" && t.aggregation.empty());
      has_aggregate_ = has_aggregate_ || aggregate || count;
      std::string hp = t.policy + (t.aggregation.empty() ? "" : " " + t.aggregation);
      out += fmt::format("\n# DMN decision `{}` (line {}), hit policy {}\n", one_line(t.dmn_name), t.line, hp);
      std::string head;
      for (size_t c = 0; c < t.inputs.size(); ++c) head += (c ? " | " : "") + t.inputs[c] + (may_be_missing(t, c) ? "?" : "");
      // A rule testing for null a decision that always gives a value never
      // applies: it is kept as a comment.
      auto never_applies = [&](const Rule& r) -> std::optional<std::string> {
        for (size_t c = 0; c < t.inputs.size() && c < r.inputs.size(); ++c) {
          if (!may_be_missing(t, c) && unary_tests(r.inputs[c]).kind == UnaryTest::Kind::null) return t.inputs[c];
        }
        return std::nullopt;
      };
      if (t.inputs.empty()) {
        unsupported(t.line, fmt::format("decision table `{}` has no inputs", t.dmn_name));
        continue;
      }
      head += " || ";
      for (size_t k = 0; k < t.outputs.size(); ++k) {
        const Column& oc = t.outputs[k].col;
        std::string type = count ? "int" : type_of(oc);
        head += (k ? " | " : "") + oc.name + " : " + type;
      }
      std::vector<std::string> rows;
      for (const auto& r : t.rules) {
        std::string row;
        bool ok = true;
        for (size_t c = 0; c < r.inputs.size(); ++c) {
          auto v = cell(*column_of(t, c), r.inputs[c], r.input_lines[c]);
          if (!v) { ok = false; continue; }
          row += (c ? " | " : "") + *v;
        }
        row += " || ";
        for (size_t k = 0; k < r.outputs.size(); ++k) {
          std::string v;
          if (auto x = result(t.outputs[k].col, r.outputs[k], r.output_lines[k], single)) {  // (collect count counts the rows)
            v = *x;
          } else {
            ok = false;
          }
          row += (k ? " | " : "") + v;
        }
        if (!r.comment.empty()) row += "  # " + r.comment;
        if (auto name = never_applies(r); ok && name) {
          rows.push_back(fmt::format("# never applies (`{}` always has a value, the rule tests it for null): {}", *name, row));
          continue;
        }
        if (ok) rows.push_back(row);
      }
      bool defaults = std::any_of(t.outputs.begin(), t.outputs.end(), [](const Output& o) { return o.default_entry.has_value(); });
      if (lists && defaults) {
        // DMN's default output: the one item of the list when no rule matches.
        std::string row = "else || ";
        for (size_t k = 0; k < t.outputs.size(); ++k) {
          std::string v;
          if (!t.outputs[k].default_entry) {
            unsupported(t.outputs[k].line, fmt::format("output `{}` has no default output entry while the others of decision `{}` have one",
                                                       t.outputs[k].component, t.dmn_name));
          } else if (auto x = result(t.outputs[k].col, *t.outputs[k].default_entry, t.outputs[k].line, false)) {
            v = *x;
          }
          row += (k ? " | " : "") + v;
        }
        rows.push_back(row + "  # no rule matches: the default output");
        has_list_default_ = true;
      }
      if (single || aggregate) {
        std::string row = "else || ";
        for (size_t k = 0; k < t.outputs.size(); ++k) {
          std::string v = "missing";
          if (t.outputs[k].default_entry) {
            if (auto x = result(t.outputs[k].col, *t.outputs[k].default_entry, t.outputs[k].line, true)) v = *x;
          }
          row += (k ? " | " : "") + v;
        }
        rows.push_back(row + "  # no rule matches");
        has_null_default_ = true;
      }
      out += fmt::format("table {} {} {{\n  {}\n", t.name, policy, head);
      for (const auto& r : rows) out += "  " + r + "\n";
      out += "}\n";
      if (t.rules.empty()) unsupported(t.line, fmt::format("decision table `{}` has no rules", t.dmn_name));
    }
    return out;
  }

  // ---- tests ------------------------------------------------------------------

  uint32_t test_file_ = 0;
  std::vector<uint32_t> test_starts_;
  std::string test_text_;

  Diagnostic& test_error(int line, std::string message) {
    return diags_.error("unsupported", line_span(test_file_, test_starts_, test_text_, line), std::move(message));
  }

  // A test value (<value xsi:type=…>) as a value of column `c`.
  std::optional<std::string> test_value(const Column& c, const XMLElement* v, const std::string& what) {
    std::string type = attr(v, "type");
    std::string text = v->GetText() ? v->GetText() : "";
    auto colon = type.find(':');
    if (colon != std::string::npos) type = type.substr(colon + 1);
    Literal l;
    if (type == "string" || (type.empty() && c.kind == Kind::string)) {
      l.type = Literal::Type::string;
      l.text = text;
      if (!c.members.empty() && std::find(c.members.begin(), c.members.end(), text) == c.members.end()) {
        test_error(v->GetLineNum(), fmt::format("{}: `{}` is not one of the values of `{}` ({})", what, text, c.dmn_name,
                                                fmt::format("{}", fmt::join(c.members, ", "))));
        return std::nullopt;
      }
    } else if (type == "decimal" || type == "double" || type == "int" || type == "integer" || type == "long" || type == "float" ||
               (type.empty() && c.kind == Kind::number)) {
      l = literal(plain_number(trim(text)));
      if (l.type != Literal::Type::number) {
        test_error(v->GetLineNum(), fmt::format("{}: `{}` is not a number", what, trim(text)));
        return std::nullopt;
      }
    } else if (type == "boolean" || (type.empty() && c.kind == Kind::boolean)) {
      l.type = Literal::Type::boolean;
      l.text = trim(text);
    } else if (type == "date" || (type.empty() && c.kind == Kind::date)) {
      l.type = Literal::Type::date;
      l.text = trim(text);
      if (!valid_date(l.text)) {
        test_error(v->GetLineNum(), fmt::format("{}: `{}` is not a date", what, l.text));
        return std::nullopt;
      }
    } else {
      test_error(v->GetLineNum(), fmt::format("{}: a value of type `{}`", what, type));
      return std::nullopt;
    }
    // Reported against the test file: the literal's column type.
    auto wrong = [&]() -> std::optional<std::string> {
      test_error(v->GetLineNum(), fmt::format("{}: a {} value for {} `{}`", what, type.empty() ? "typed" : type, kind_name(c.kind), c.dmn_name));
      return std::nullopt;
    };
    switch (l.type) {
      case Literal::Type::string: if (c.kind != Kind::string) return wrong(); return c.members.empty() ? quote(l.text) : member(c, l.text);
      case Literal::Type::number: if (c.kind != Kind::number) return wrong(); return l.text;
      case Literal::Type::boolean: if (c.kind != Kind::boolean || (l.text != "true" && l.text != "false")) return wrong(); return l.text;
      case Literal::Type::date: if (c.kind != Kind::date) return wrong(); return l.text;
      default: return wrong();
    }
  }

  static bool nil(const XMLElement* e) { return attr(e, "nil") == "true"; }

  std::string read_tests(const XmlFile& file) {
    test_file_ = sources_.add(file.path, file.text);
    test_text_ = file.text;
    test_starts_ = {0};
    for (size_t i = 0; i < file.text.size(); ++i) {
      if (file.text[i] == '\n') test_starts_.push_back(static_cast<uint32_t>(i + 1));
    }
    if (size_t bad = invalid_utf8(file.text); bad != std::string::npos) {
      test_error(line_of(test_starts_, bad), "the test file is not valid UTF-8 (it is read as UTF-8)");
      return "";
    }
    if (auto bad = xml_problem(file.text)) {
      test_error(line_of(test_starts_, bad->first), fmt::format("not well-formed XML: {}", bad->second));
      return "";
    }
    tinyxml2::XMLDocument doc;
    if (doc.Parse(file.text.data(), file.text.size()) != tinyxml2::XML_SUCCESS) {
      test_error(doc.ErrorLineNum(), fmt::format("not well-formed XML ({})", xml_error(doc)));
      return "";
    }
    if (doc.RootElement() && doc.RootElement()->NextSiblingElement()) {
      test_error(doc.RootElement()->NextSiblingElement()->GetLineNum(), "not well-formed XML: a second root element");
      return "";
    }
    const XMLElement* root = doc.RootElement();
    if (!root || local_name(root->Name()) != "testCases") {
      test_error(root ? root->GetLineNum() : 1, "not a DMN TCK test file: its root element is not <testCases>");
      return "";
    }
    std::string base = file.path.substr(file.path.find_last_of('/') == std::string::npos ? 0 : file.path.find_last_of('/') + 1);
    std::string out = fmt::format("\n# The test cases of {}\n", one_line(base));
    for (const XMLElement* tc : children(root, "testCase")) {
      std::string id = attr(tc, "id");
      std::string name = attr(tc, "name");
      std::string title = id + (name.empty() ? "" : " " + name);
      std::string description = one_line(element_text(child(tc, "description")));
      if (attr(tc, "type") == "bkm" || attr(tc, "type") == "decisionService") {
        test_error(tc->GetLineNum(), fmt::format("test case {} invokes a {}: only decisions are imported", id, attr(tc, "type")));
        continue;
      }
      std::vector<std::string> given, expect;
      bool ok = true;
      std::set<std::string> seen_inputs, seen_results;
      for (const XMLElement* in : children(tc, "inputNode")) {
        std::string n = attr(in, "name");
        if (!seen_inputs.insert(n).second) {
          test_error(in->GetLineNum(), fmt::format("test case {}: input `{}` is given twice", id, one_line(n)));
          ok = false;
          continue;
        }
        auto f = field_index_.find(n);
        if (f == field_index_.end()) {
          test_error(in->GetLineNum(), fmt::format("test case {}: `{}` is not an input of the model", id, n));
          ok = false;
          continue;
        }
        const XMLElement* v = child(in, "value");
        if (!v || nil(v)) {
          if (child(in, "list") || child(in, "component")) {
            test_error(in->GetLineNum(), fmt::format("test case {}: input `{}` is a list or a structure", id, n));
            ok = false;
          }
          given.push_back(fmt::format("{}: missing", fields_[f->second].col.name));  // null
          continue;
        }
        auto x = test_value(fields_[f->second].col, v, fmt::format("test case {}, input `{}`", id, n));
        if (!x) { ok = false; continue; }
        given.push_back(fmt::format("{}: {}", fields_[f->second].col.name, *x));
      }
      for (const XMLElement* rn : children(tc, "resultNode")) {
        std::string n = attr(rn, "name");
        std::string what = fmt::format("test case {}, result `{}`", id, one_line(n));
        if (!seen_results.insert(n).second) {
          test_error(rn->GetLineNum(), fmt::format("{}: expected twice", what));
          ok = false;
          continue;
        }
        auto ti = table_index_.find(n);
        if (ti == table_index_.end()) {
          test_error(rn->GetLineNum(), fmt::format("{}: not a decision table of the model", what));
          ok = false;
          continue;
        }
        if (attr(rn, "errorResult") == "true") {
          test_error(rn->GetLineNum(), fmt::format("{}: an expected error (errorResult)", what));
          ok = false;
          continue;
        }
        const Table& t = tables_[ti->second];
        if (t.broken || t.outputs.empty()) {  // reported where the table is
          ok = false;
          continue;
        }
        const XMLElement* expected = child(rn, "expected");
        if (!expected) {
          test_error(rn->GetLineNum(), fmt::format("{}: no <expected>", what));
          ok = false;
          continue;
        }
        if (!expect_result(t, expected, what, expect)) ok = false;
      }
      if (!ok) continue;
      if (expect.empty()) {
        test_error(tc->GetLineNum(), fmt::format("test case {} expects nothing", id));
        continue;
      }
      if (!description.empty()) out += "# " + description + "\n";
      out += fmt::format("test {} {{\n  given {{ {} }}\n  expect {{ {} }}\n}}\n", quote(title), fmt::format("{}", fmt::join(given, ", ")),
                         fmt::format("{}", fmt::join(expect, ", ")));
    }
    return out;
  }

  // One expected result: a value, null, a list, a context (several
  // outputs) or a list of contexts; as `name: value` per output.
  bool expect_result(const Table& t, const XMLElement* expected, const std::string& what, std::vector<std::string>& expect) {
    bool lists = t.outputs[0].col.list;
    const XMLElement* v = child(expected, "value");
    const XMLElement* list = child(expected, "list");
    auto components = children(expected, "component");
    auto output_of = [&](const std::string& component) -> const Output* {
      for (const auto& o : t.outputs) if (o.component == component) return &o;
      return nullptr;
    };
    if (!lists) {
      if (t.outputs.size() == 1) {
        if (!components.empty()) {
          std::string name = attr(components[0], "name");
          if (components.size() != 1 || (name != t.outputs[0].component && name != t.dmn_name)) {
            test_error(components[0]->GetLineNum(), fmt::format("{}: a structure of {} (`{}`), where the decision gives one value", what,
                                                               components.size(), one_line(name)));
            return false;
          }
          v = child(components[0], "value");
        }
        if (list) {
          test_error(list->GetLineNum(), fmt::format("{}: a list, where the decision gives one value", what));
          return false;
        }
        if (!v || nil(v)) {
          expect.push_back(fmt::format("{}: missing", t.outputs[0].col.name));
          return true;
        }
        Column c = t.outputs[0].col;
        if (t.aggregation == "COUNT") c.kind = Kind::number;
        auto x = test_value(c, v, what);
        if (!x) return false;
        expect.push_back(fmt::format("{}: {}", c.name, *x));
        return true;
      }
      if (v && nil(v)) {
        for (const auto& o : t.outputs) expect.push_back(fmt::format("{}: missing", o.col.name));
        return true;
      }
      if (components.size() != t.outputs.size()) {
        test_error(expected->GetLineNum(), fmt::format("{}: expected a value for each of the {} outputs (<component>), found {}", what,
                                                       t.outputs.size(), components.size()));
        return false;
      }
      for (const XMLElement* comp : components) {
        const Output* o = output_of(attr(comp, "name"));
        if (!o) {
          test_error(comp->GetLineNum(), fmt::format("{}: `{}` is not an output of the table", what, attr(comp, "name")));
          return false;
        }
        const XMLElement* cv = child(comp, "value");
        if (!cv || nil(cv)) {
          expect.push_back(fmt::format("{}: missing", o->col.name));
          continue;
        }
        auto x = test_value(o->col, cv, what);
        if (!x) return false;
        expect.push_back(fmt::format("{}: {}", o->col.name, *x));
      }
      return true;
    }
    // A list: of values (one output), or of contexts (one item per rule).
    std::vector<std::vector<std::string>> items(t.outputs.size());
    if (!list && v && !nil(v) && t.outputs.size() == 1) {
      // A singleton list may be written as its item.
      auto x = test_value(t.outputs[0].col, v, what);
      if (!x) return false;
      items[0].push_back(*x);
    } else if (list) {
      for (const XMLElement* item : children(list, "item")) {
        if (t.outputs.size() == 1) {
          const XMLElement* iv = child(item, "value");
          auto comps = children(item, "component");
          if (!iv && comps.size() == 1) iv = child(comps[0], "value");
          if (!iv || nil(iv)) {
            test_error(item->GetLineNum(), fmt::format("{}: a null item in a list", what));
            return false;
          }
          auto x = test_value(t.outputs[0].col, iv, what);
          if (!x) return false;
          items[0].push_back(*x);
          continue;
        }
        auto comps = children(item, "component");
        if (comps.size() != t.outputs.size()) {
          test_error(item->GetLineNum(), fmt::format("{}: an item with {} components, the table has {} outputs", what, comps.size(), t.outputs.size()));
          return false;
        }
        for (size_t k = 0; k < t.outputs.size(); ++k) {
          const XMLElement* comp = nullptr;
          for (const XMLElement* c : comps) if (attr(c, "name") == t.outputs[k].component) comp = c;
          const XMLElement* cv = comp ? child(comp, "value") : nullptr;
          if (!cv || nil(cv)) {
            test_error(item->GetLineNum(), fmt::format("{}: output `{}` has no value in this item", what, t.outputs[k].component));
            return false;
          }
          auto x = test_value(t.outputs[k].col, cv, what);
          if (!x) return false;
          items[k].push_back(*x);
        }
      }
    } else if (!(v && nil(v))) {
      test_error(expected->GetLineNum(), fmt::format("{}: expected a <list>", what));
      return false;
    }
    for (size_t k = 0; k < t.outputs.size(); ++k) {
      expect.push_back(fmt::format("{}: [{}]", t.outputs[k].col.name, fmt::join(items[k], ", ")));
    }
    return true;
  }
};

}  // namespace

std::optional<std::string> import_dmn(const XmlFile& model, const std::vector<XmlFile>& tests, SourceSet& sources,
                                      Diagnostics& diags) {
  return Importer(sources, diags).run(model, tests);
}

}  // namespace stratum::dmn
