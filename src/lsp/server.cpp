#include "lsp/server.hpp"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "analysis/analyze.hpp"
#include "driver/stratum.hpp"
#include "syntax/format.hpp"
#include "syntax/parser.hpp"

namespace stratum::lsp {

using json = nlohmann::json;

namespace {

// A message larger than this is refused (read and dropped), never buffered.
constexpr size_t kMaxMessage = 64u << 20;

// ---- transport: `Content-Length: N\r\n\r\n` + N bytes of JSON ---------------

enum class Read { message, end, bad };

Read read_message(std::FILE* in, std::string& body, std::string& problem) {
  size_t length = 0;
  bool have_length = false, any_header = false;
  std::string line;
  while (true) {
    line.clear();
    int c;
    while ((c = std::fgetc(in)) != EOF && c != '\n') {
      if (line.size() < 4096) line += static_cast<char>(c);
    }
    if (c == EOF) return Read::end;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {
      if (!any_header) continue;  // stray blank lines between messages
      break;
    }
    any_header = true;
    static constexpr std::string_view kLength = "content-length:";
    std::string lower = line.substr(0, std::min(line.size(), kLength.size()));
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return std::tolower(ch); });
    if (lower == kLength) {
      std::string digits = line.substr(kLength.size());
      digits.erase(0, digits.find_first_not_of(" \t"));
      while (!digits.empty() && (digits.back() == ' ' || digits.back() == '\t')) digits.pop_back();
      if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 12) {
        problem = "a Content-Length that is not a number of bytes: " + line;
        have_length = false;
        continue;
      }
      char* end = nullptr;
      errno = 0;
      unsigned long long n = std::strtoull(digits.c_str(), &end, 10);
      if (digits.empty() || errno != 0 || (end && *end != '\0')) {
        problem = "a Content-Length that is not a number: " + line;
        have_length = false;
        continue;
      }
      length = static_cast<size_t>(n);
      have_length = true;
    }
  }
  if (!have_length) {
    problem = problem.empty() ? "a message without Content-Length" : problem;
    return Read::bad;
  }
  if (length > kMaxMessage) {
    for (size_t i = 0; i < length && std::fgetc(in) != EOF; ++i) {}
    problem = fmt::format("a message of {} bytes (at most {})", length, kMaxMessage);
    return Read::bad;
  }
  body.resize(length);
  size_t got = length ? std::fread(body.data(), 1, length, in) : 0;
  if (got != length) {
    problem = fmt::format("the input ended inside a message ({} of {} bytes)", got, length);
    return Read::end;
  }
  return Read::message;
}

void write_message(std::FILE* out, const json& message) {
  // Invalid UTF-8 in a document's text must not stop the server: replaced.
  std::string body = message.dump(-1, ' ', false, json::error_handler_t::replace);
  fmt::print(out, "Content-Length: {}\r\n\r\n{}", body.size(), body);
  std::fflush(out);
}

// ---- positions: byte offsets ↔ LSP (line, UTF-16 unit) -----------------------

struct Lines {
  const std::string* text = nullptr;
  std::vector<uint32_t> starts;
  explicit Lines(const std::string& t) : text(&t) {
    starts.push_back(0);
    for (size_t i = 0; i < t.size(); ++i) {
      if (t[i] == '\n') starts.push_back(static_cast<uint32_t>(i + 1));
    }
  }
  json position(uint32_t offset) const {
    offset = std::min<uint32_t>(offset, static_cast<uint32_t>(text->size()));
    size_t line = static_cast<size_t>(std::upper_bound(starts.begin(), starts.end(), offset) - starts.begin()) - 1;
    uint32_t units = 0;
    for (size_t i = starts[line]; i < offset;) {
      char32_t c = utf8::decode(*text, i);
      units += c >= 0x10000 ? 2 : 1;
    }
    return {{"line", line}, {"character", units}};
  }
  uint32_t offset(const json& position) const {
    size_t line = position.value("line", 0u);
    size_t units = position.value("character", 0u);
    if (line >= starts.size()) return static_cast<uint32_t>(text->size());
    size_t end = line + 1 < starts.size() ? starts[line + 1] : text->size();
    size_t i = starts[line];
    size_t counted = 0;
    while (i < end && counted < units && (*text)[i] != '\n' && (*text)[i] != '\r') {
      size_t before = i;
      char32_t c = utf8::decode(*text, i);
      counted += c >= 0x10000 ? 2 : 1;
      if (counted > units) { i = before; break; }
    }
    return static_cast<uint32_t>(i);
  }
  json range(uint32_t begin, uint32_t end) const { return {{"start", position(begin)}, {"end", position(end)}}; }
};

// ---- URIs --------------------------------------------------------------------

std::string path_of(const std::string& uri) {
  std::string rest = uri.starts_with("file://") ? uri.substr(7) : uri;
  std::string out;
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '%' && i + 2 < rest.size() && std::isxdigit(static_cast<unsigned char>(rest[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(rest[i + 2]))) {
      out += static_cast<char>(std::stoi(rest.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += rest[i];
    }
  }
  return out;
}

std::string uri_of(const std::string& path) {
  std::string abs = std::filesystem::absolute(path).lexically_normal().string();
  std::string out = "file://";
  for (unsigned char c : abs) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
    else out += fmt::format("%{:02X}", c);
  }
  return out;
}

std::string same_path(const std::string& p) {
  std::error_code ec;
  auto abs = std::filesystem::absolute(p, ec);
  return ec ? p : abs.lexically_normal().string();
}

// ---- the index: what each name is, where it is declared and used ------------

enum class Kind { input, field, enum_, enum_value, let, decision, table, scorecard, segment, plan_item, test };

const char* kind_word(Kind k) {
  switch (k) {
    case Kind::input: return "input";
    case Kind::field: return "field";
    case Kind::enum_: return "enum";
    case Kind::enum_value: return "value";
    case Kind::let: return "let";
    case Kind::decision: return "decision";
    case Kind::table: return "table";
    case Kind::scorecard: return "scorecard";
    case Kind::segment: return "segment";
    case Kind::plan_item: return "plan item";
    case Kind::test: return "test";
  }
  return "";
}

struct Def {
  Kind kind;
  std::string name;
  Span span;
  std::string detail;   // the type, or what it is
  std::string more;     // shown under it: the definition, the members
  int parent = -1;      // an enum's value → the enum; a field → its input; a segment → its parent
};

struct Ref {
  Span span;
  int def;
};

struct Index {
  std::vector<Def> defs;
  std::vector<Ref> refs;
  std::vector<std::string> keywords;

  int add(Def d) {
    defs.push_back(std::move(d));
    return static_cast<int>(defs.size()) - 1;
  }
  void ref(Span s, int def) {
    if (def >= 0 && s.file != 0) refs.push_back({s, def});
  }
};

class IndexBuilder {
 public:
  IndexBuilder(const Compilation& c, Index& index) : c_(c), m_(*c.model), ix_(index) {}

  void build() {
    const ast::Module& mod = m_.module;
    for (size_t e = 0; e < m_.enums.size(); ++e) {
      const EnumInfo& info = m_.enums[e];
      if (static_cast<int32_t>(e) == m_.segment_enum) { enum_defs_.emplace_back(); continue; }
      std::string members;
      for (size_t i = 0; i < info.members.size() && i < 30; ++i) members += (i ? ", " : "") + info.members[i];
      if (info.members.size() > 30) members += ", …";
      int d = ix_.add({Kind::enum_, info.name, info.span, fmt::format("{} values", info.members.size()), "{ " + members + " }"});
      std::vector<int> values;
      const ast::EnumDecl* decl = nullptr;
      for (const auto& ed : mod.enums) {
        if (ed.name == info.name) decl = &ed;
      }
      for (size_t i = 0; i < info.members.size(); ++i) {
        Span s = decl && i < decl->members.size() ? decl->members[i].span : info.span;
        values.push_back(ix_.add({Kind::enum_value, info.members[i], s, "value of enum " + info.name, "", d}));
      }
      enum_defs_.push_back(std::move(values));
    }
    for (const auto& in : mod.inputs) {
      int input = ix_.add({Kind::input, in.name, in.span, "input", ""});
      for (const auto& f : in.fields) {
        for (size_t i = 0; i < m_.fields.size(); ++i) {
          if (m_.fields[i].name != f.name) continue;
          const FieldInfo& fi = m_.fields[i];
          std::string detail = m_.type_name(fi.type) + (fi.optional ? "?" : "");
          if (!f.data_unit.empty()) detail += " in " + f.data_unit;
          if (fi.key) detail += " (key)";
          std::string more = fi.column != fi.name ? fmt::format("read from column `{}`", fi.column) : "";
          if (fi.domain) more += (more.empty() ? "" : "; ") + std::string("range `") + text(fi.domain->span) + "`";
          field_defs_[i] = ix_.add({Kind::field, fi.name, f.span, detail, more, input});
        }
      }
    }
    for (size_t i = 0; i < m_.lets.size(); ++i) {
      const LetInfo& l = m_.lets[i];
      let_defs_.push_back(ix_.add({Kind::let, l.name, l.span, m_.type_name(l.type) + (l.maybe_missing ? "?" : ""),
                                   l.value ? "let " + l.name + " = " + text(l.value->span) : ""}));
    }
    for (size_t i = 0; i < m_.decisions.size(); ++i) {
      const DecisionInfo& d = m_.decisions[i];
      const char* how = d.source == DecisionSource::decide ? "decide" : d.source == DecisionSource::table ? "table" : "scorecard";
      std::string more = fmt::format("computed by a {}{}", how, d.imported ? "; private or imported: not an output" : "");
      decision_defs_.push_back(ix_.add({Kind::decision, d.name, d.span, m_.type_name(d.type) + (d.maybe_missing ? "?" : ""), more}));
    }
    for (const auto& root : mod.segments) segment(*root, -1, "");
    for (const auto& p : mod.plans) {
      if (!p.node.empty()) {
        auto it = segment_by_name_.find(p.node);
        if (it != segment_by_name_.end()) ix_.ref(p.span, it->second);
      }
      if (p.condition) expr(*p.condition);
      for (const auto& item : p.items) {
        auto it = plan_item_by_name_.find(item.name);
        if (it == plan_item_by_name_.end()) {
          std::string type;
          for (const auto& pi : m_.plan_items) {
            if (pi.name == item.name) type = m_.type_name(pi.type);
          }
          plan_item_by_name_[item.name] = ix_.add({Kind::plan_item, item.name, item.span, type, "a service plan item"});
        } else {
          ix_.ref(item.span, it->second);
        }
        if (item.value) expr(*item.value);
      }
    }
    for (const auto& l : mod.lets) {
      if (l.value) expr(*l.value);
    }
    for (const auto& d : mod.decides) {
      for (const auto& b : d.branches) {
        if (b.condition) expr(*b.condition);
        if (b.result) expr(*b.result);
      }
    }
    for (const auto& t : mod.tables) {
      for (const auto& c : t.columns) expr(*c);
      for (const auto& row : t.rows) table_row(row);
      if (t.else_row) table_row(*t.else_row);
    }
    for (const auto& sc : mod.scorecards) {
      for (const auto& f : sc.factors) {
        if (f.value) expr(*f.value);
        if (f.weight) expr(*f.weight);
        for (const auto& bin : f.bins) {
          cell(bin.test);
          if (bin.points) expr(*bin.points);
        }
      }
      for (const auto& a : sc.adjustments) {
        if (a.amount) expr(*a.amount);
        if (a.condition) expr(*a.condition);
      }
    }
    for (const auto& in : mod.inputs) {
      for (const auto& f : in.fields) {
        if (f.domain) cell(*f.domain);
      }
    }
    for (const auto& t : mod.tests) {
      ix_.add({Kind::test, t.name, t.span, "test", ""});
      for (const auto& b : t.given) {
        for (size_t i = 0; i < m_.fields.size(); ++i) {
          if (m_.fields[i].name == b.name) ix_.ref(b.span, field_defs_[i]);
        }
        if (b.value) expr(*b.value);
        for (const auto& item : b.items) expr(*item);
      }
      for (const auto& b : t.expect) {
        ix_.ref(b.span, named(b.name));
        if (b.value) expr(*b.value);
        for (const auto& item : b.items) expr(*item);
      }
    }
  }

 private:
  std::string text(Span s) const {
    if (s.file == 0 || s.file > c_.sources.size()) return "";
    const std::string& t = c_.sources.file(s.file).text();
    if (s.begin > s.end || s.end > t.size()) return "";
    std::string out = t.substr(s.begin, s.end - s.begin);
    std::replace(out.begin(), out.end(), '\n', ' ');
    return out.size() > 400 ? out.substr(0, 400) + "…" : out;
  }

  // An expected name in a test: a decision, a let, `segment`, `plan.item`.
  int named(const std::string& name) {
    for (size_t i = 0; i < m_.decisions.size(); ++i) {
      if (m_.decisions[i].name == name) return decision_defs_[i];
    }
    for (size_t i = 0; i < m_.lets.size(); ++i) {
      if (m_.lets[i].name == name) return let_defs_[i];
    }
    if (name.starts_with("plan.")) {
      auto it = plan_item_by_name_.find(name.substr(5));
      if (it != plan_item_by_name_.end()) return it->second;
    }
    return -1;
  }

  void segment(const ast::SegmentNode& n, int parent, const std::string& path) {
    std::string here = path.empty() ? n.name : path + "/" + n.name;
    int d = ix_.add({Kind::segment, n.name, n.span, n.branches.empty() && n.split_by.empty() ? "leaf" : "segment", here, parent});
    segment_by_name_.emplace(n.name, d);
    segment_by_path_.emplace(here, d);
    for (const auto& b : n.branches) {
      if (b.condition) expr(*b.condition);
      if (b.node) segment(*b.node, d, here);
    }
  }

  void table_row(const ast::TableRow& row) {
    for (const auto& c : row.inputs) cell(c);
    for (const auto& o : row.outputs) expr(*o);
  }
  void cell(const ast::Cell& c) {
    for (const auto& v : c.values) expr(*v);
  }

  void expr(const ast::Expr& e) {
    if (e.kind == ast::ExprKind::name) {
      switch (e.ref) {
        case ast::RefKind::field:
          if (e.ref_index >= 0 && field_defs_.count(e.ref_index)) ix_.ref(e.span, field_defs_[e.ref_index]);
          break;
        case ast::RefKind::let:
          if (e.ref_index >= 0 && static_cast<size_t>(e.ref_index) < let_defs_.size()) ix_.ref(e.span, let_defs_[e.ref_index]);
          break;
        case ast::RefKind::decision:
          if (e.ref_index >= 0 && static_cast<size_t>(e.ref_index) < decision_defs_.size()) ix_.ref(e.span, decision_defs_[e.ref_index]);
          break;
        case ast::RefKind::enum_value: {
          int32_t en = e.type.enum_id;
          if (en == m_.segment_enum && en >= 0) {
            // a leaf named in a test: by its path
            const auto& members = m_.enums[en].members;
            if (e.ref_index >= 0 && static_cast<size_t>(e.ref_index) < members.size()) {
              auto it = segment_by_path_.find(members[e.ref_index]);
              if (it != segment_by_path_.end()) ix_.ref(e.span, it->second);
            }
          } else if (en >= 0 && static_cast<size_t>(en) < enum_defs_.size() && e.ref_index >= 0 &&
                     static_cast<size_t>(e.ref_index) < enum_defs_[en].size()) {
            ix_.ref(e.span, enum_defs_[en][e.ref_index]);
          }
          break;
        }
        default: break;
      }
    }
    for (const auto& a : e.args) {
      if (a) expr(*a);
    }
  }

  const Compilation& c_;
  const Model& m_;
  Index& ix_;
  std::vector<std::vector<int>> enum_defs_;
  std::map<int32_t, int> field_defs_;
  std::vector<int> let_defs_, decision_defs_;
  std::map<std::string, int> segment_by_name_, segment_by_path_, plan_item_by_name_;
};

const std::vector<std::string>& keywords() {
  static const std::vector<std::string> words = {
      "ruleset", "version", "extends", "import", "load", "enum", "input", "let", "decide", "private", "override", "table", "grid",
      "scorecard", "factor", "weight", "multiply", "bonus", "segments", "plan", "capacity", "limit", "per", "rank", "overflow", "ascending", "when", "else", "reject", "by",
      "test", "given", "expect", "today", "and", "or", "not", "in", "is", "present", "missing", "empty",
      "contains", "startswith", "true", "false", "first", "unique", "priority", "any", "collect", "sum", "min",
      "max", "count", "list", "rule order", "output order", "key", "as", "bool", "int", "decimal", "money", "text",
      "date", "duration", "set"};
  return words;
}

// ---- one open document -------------------------------------------------------

struct Document {
  std::string uri, path, text;
  int version = 0;
  std::shared_ptr<const Compilation> compilation;  // the last compilation of `text` (checked, not analysed)
  std::shared_ptr<Index> index;              // the last index that could be built (kept while the text does not parse)
  struct Fix {
    Span span;
    std::string replacement;
    std::string message;
  };
  std::vector<Fix> fixes;  // "did you mean" notes, as quick fixes
};

class Server {
 public:
  Server(std::FILE* out, std::FILE* log) : out_(out), log_(log), worker_([this] { analyse_in_background(); }) {}
  ~Server() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    wake_.notify_all();
    worker_.join();
  }

  // Returns the exit status once the client said `exit`, else nothing.
  std::optional<int> handle(const json& msg) {
    if (!msg.is_object()) {
      error(nullptr, -32600, "a message must be a JSON object");
      return std::nullopt;
    }
    std::string method = msg.contains("method") && msg["method"].is_string() ? msg["method"].get<std::string>() : "";
    json id = msg.contains("id") ? msg["id"] : json();
    bool request = msg.contains("id");
    if (method.empty()) {
      if (msg.contains("method")) {
        if (request) error(id, -32600, "the method must be a string");
        else note("a notification whose method is not a string");
      }
      return std::nullopt;  // else a response to us: we send no requests
    }
    const json params = msg.contains("params") && msg["params"].is_object() ? msg["params"] : json::object();
    if (method == "exit") return shutdown_ ? 0 : 1;
    if (shutdown_ && request) {
      error(id, -32600, "the server is shutting down");
      return std::nullopt;
    }
    try {
      if (method == "initialize") reply(id, initialize());
      else if (method == "initialized") {}
      else if (method == "shutdown") { shutdown_ = true; reply(id, nullptr); }
      else if (method == "textDocument/didOpen") open(params);
      else if (method == "textDocument/didChange") change(params);
      else if (method == "textDocument/didClose") close(params);
      else if (method == "textDocument/didSave") {}
      else if (method == "textDocument/hover") reply(id, hover(params));
      else if (method == "textDocument/definition") reply(id, definition(params));
      else if (method == "textDocument/references") reply(id, references(params));
      else if (method == "textDocument/completion") reply(id, completion(params));
      else if (method == "textDocument/documentSymbol") reply(id, symbols(params));
      else if (method == "textDocument/formatting") reply(id, formatting(params));
      else if (method == "textDocument/codeAction") reply(id, code_actions(params));
      else if (request) error(id, -32601, "not supported: " + method);
      // other notifications ($/cancelRequest, workspace/…) need nothing
    } catch (const json::exception& e) {
      if (request) error(id, -32602, std::string("invalid params: ") + e.what());
      else note(fmt::format("{}: invalid params: {}", method, e.what()));
    }
    return std::nullopt;
  }

  void error(const json& id, int code, const std::string& message) {
    send({{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}});
  }
  void note(const std::string& line) {
    if (log_) {
      fmt::print(log_, "stratum lsp: {}\n", line);
      std::fflush(log_);
    }
  }

 private:
  // Answers and notifications come from this thread and the analysing one: one writer at a time.
  void send(const json& message) {
    std::lock_guard lock(out_mu_);
    write_message(out_, message);
  }
  void reply(const json& id, const json& result) { send({{"jsonrpc", "2.0"}, {"id", id}, {"result", result}}); }
  void notify(const std::string& method, const json& params) { send({{"jsonrpc", "2.0"}, {"method", method}, {"params", params}}); }

  json initialize() {
    return {{"capabilities",
             {{"textDocumentSync", {{"openClose", true}, {"change", 1}, {"save", false}}},
              {"hoverProvider", true},
              {"definitionProvider", true},
              {"referencesProvider", true},
              {"completionProvider", {{"triggerCharacters", {"."}}}},
              {"documentSymbolProvider", true},
              {"documentFormattingProvider", true},
              {"codeActionProvider", {{"codeActionKinds", {"quickfix"}}}}}},
            {"serverInfo", {{"name", "stratum"}, {"version", "0.1.0"}}}};
  }

  // ---- documents ----

  void open(const json& p) {
    const json& td = p.at("textDocument");
    Document& d = docs_[td.at("uri").get<std::string>()];
    d.uri = td.at("uri").get<std::string>();
    d.path = same_path(path_of(d.uri));
    d.text = td.at("text").get<std::string>();
    d.version = td.value("version", 0);
    analyse(d);
  }
  void change(const json& p) {
    std::string uri = p.at("textDocument").at("uri").get<std::string>();
    auto it = docs_.find(uri);
    if (it == docs_.end()) { note("didChange for a document not open: " + uri); return; }
    const json& changes = p.at("contentChanges");
    if (!changes.is_array() || changes.empty()) return;
    // Full synchronisation: the last change holds the whole text.
    const json& last = changes.back();
    if (last.contains("range")) { note("a ranged change although the server asked for whole texts; ignored"); return; }
    it->second.text = last.at("text").get<std::string>();
    it->second.version = p.at("textDocument").value("version", it->second.version);
    analyse(it->second);
  }
  void close(const json& p) {
    std::string uri = p.at("textDocument").at("uri").get<std::string>();
    auto it = docs_.find(uri);
    if (it == docs_.end()) return;
    std::set<std::string> published;
    {
      std::lock_guard lock(mu_);
      published = std::move(published_[uri]);
      published_.erase(uri);
      latest_.erase(uri);  // an analysis still running for it is not published
      jobs_.erase(uri);
      open_.erase(uri);
      for (const auto& [other, theirs] : published_) {
        for (const auto& u : theirs) published.erase(u);  // still shown for another open document
      }
      for (const auto& u : open_) published.erase(u);  // an open file keeps its own
      published.insert(uri);
    }
    for (const auto& u : published) notify("textDocument/publishDiagnostics", {{"uri", u}, {"diagnostics", json::array()}});
    docs_.erase(it);
  }

  Document* doc(const json& p) {
    auto it = docs_.find(p.at("textDocument").at("uri").get<std::string>());
    return it == docs_.end() ? nullptr : &it->second;
  }

  // Diagnostics in two steps, so that the editor hears at once what the
  // checker says: the text is checked here and its diagnostics published;
  // when it checks clean, the analysis (gaps, overlaps, unreachable rows:
  // seconds on a large scheme) runs on the analysing thread, and its
  // diagnostics, the checker's with the proofs', are published when it is
  // done, unless the text has changed meanwhile.
  void analyse(Document& d) {
    auto c = std::make_shared<Compilation>();
    std::string failure;
    try {
      *c = compile_files(d.path, d.text, LoadOptions{}, false);
    } catch (const std::exception& e) {
      failure = e.what();
    }
    d.fixes.clear();
    for (const auto& diag : c->diagnostics.items()) {
      if (diag.span.file > 1) continue;
      for (const auto& n : diag.notes) {
        static constexpr std::string_view kMean = "did you mean `";
        if (n.message.starts_with(kMean) && n.message.ends_with("`?")) {
          d.fixes.push_back({diag.span, n.message.substr(kMean.size(), n.message.size() - kMean.size() - 2), diag.message});
        }
      }
    }
    uint64_t generation;
    {
      std::lock_guard lock(mu_);
      generation = latest_[d.uri] = ++generations_;  // not the version: a document closed and opened again starts over
      open_.insert(d.uri);
    }
    publish(d.uri, d.version, generation, *c, c->diagnostics, failure);
    if (c->model) {
      auto index = std::make_shared<Index>();
      IndexBuilder(*c, *index).build();
      d.index = index;
    }
    d.compilation = c;
    if (c->program) {
      {
        std::lock_guard lock(mu_);
        jobs_[d.uri] = Job{d.uri, d.version, generation, c};  // one waiting per document: the newest
      }
      wake_.notify_all();
    }
  }

  struct Job {
    std::string uri;
    int version;
    uint64_t generation;
    std::shared_ptr<const Compilation> compilation;
  };

  void analyse_in_background() {
    while (true) {
      Job job;
      {
        std::unique_lock lock(mu_);
        wake_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
        if (stop_) return;
        job = std::move(jobs_.begin()->second);
        jobs_.erase(jobs_.begin());
        auto it = latest_.find(job.uri);
        if (it == latest_.end() || it->second != job.generation) continue;  // edited or closed since
      }
      Diagnostics diags = job.compilation->diagnostics;
      try {
        stratum::analyse(*job.compilation->program, diags);
      } catch (const std::exception& e) {
        note(fmt::format("{}: the analysis failed: {}", job.uri, e.what()));
        continue;
      }
      publish(job.uri, job.version, job.generation, *job.compilation, diags, "");
    }
  }

  // Publishes `diags` of compilation `c` of document `uri`, version
  // `version`, unless a newer version exists: the main file's, and each
  // imported file's on its own URI; a URI that had diagnostics and has none
  // now gets an empty list, so fixed files clear.
  void publish(const std::string& uri, int version, uint64_t generation, const Compilation& c, const Diagnostics& diags,
               const std::string& failure) {
    std::map<std::string, json> by_uri;
    by_uri[uri] = json::array();
    if (!failure.empty()) {
      by_uri[uri].push_back({{"range", {{"start", {{"line", 0}, {"character", 0}}}, {"end", {{"line", 0}, {"character", 0}}}}},
                             {"severity", 1}, {"source", "stratum"}, {"message", failure}});
    }
    auto uri_of_file = [&](uint32_t file) { return file <= 1 || file > c.sources.size() ? uri : uri_of(c.sources.file(file).path()); };
    for (const auto& diag : diags.items()) {
      bool located = diag.span.file != 0 && diag.span.file <= c.sources.size();
      std::string at = uri_of_file(diag.span.file);
      static const std::string kNoText;
      const std::string& file_text = located ? c.sources.file(diag.span.file).text() : kNoText;  // a reference: Lines keeps a pointer
      Lines lines(file_text);
      json item = {{"range", located ? lines.range(diag.span.begin, diag.span.end) : json{{"start", {{"line", 0}, {"character", 0}}}, {"end", {{"line", 0}, {"character", 0}}}}},
                   {"severity", diag.severity == Severity::error ? 1 : diag.severity == Severity::warning ? 2 : 3},
                   {"source", "stratum"},
                   {"code", diag.code},
                   {"message", message(diag)}};
      json related = json::array();
      for (const auto& n : diag.notes) {
        if (n.span.file == 0 || n.span.file > c.sources.size()) continue;
        Lines nl(c.sources.file(n.span.file).text());
        related.push_back({{"location", {{"uri", uri_of_file(n.span.file)}, {"range", nl.range(n.span.begin, n.span.end)}}}, {"message", n.message}});
      }
      if (!related.empty()) item["relatedInformation"] = related;
      by_uri[at].push_back(item);
    }
    std::lock_guard lock(mu_);
    auto latest = latest_.find(uri);
    if (latest == latest_.end() || latest->second != generation) return;
    auto& published = published_[uri];
    for (const auto& u : published) by_uri.emplace(u, json::array());
    published.clear();
    for (auto& [u, list] : by_uri) {
      // An imported file open in the editor shows its own text's diagnostics, not the disk's.
      if (u != uri && open_.count(u)) continue;
      json params = {{"uri", u}, {"diagnostics", list}};
      if (u == uri) params["version"] = version;
      notify("textDocument/publishDiagnostics", params);
      if (!list.empty()) published.insert(u);
    }
  }

  static std::string message(const Diagnostic& d) {
    std::string out = d.message;
    for (const auto& n : d.notes) {
      if (n.span.file == 0) out += "\n" + n.message;
    }
    if (!d.counterexample.empty()) {
      std::string example;
      for (const auto& v : d.counterexample) example += (example.empty() ? "" : ", ") + v.field + ": " + v.text;
      out += "\nfor example: { " + example + " }";
    }
    return out;
  }

  // ---- queries ----

  // The definition at or used at `offset` of the main file, or -1.
  int at(const Document& d, uint32_t offset) const {
    // positions only from an index of this very text (one that does not parse keeps the last for completion alone)
    if (!d.index || !d.compilation || !d.compilation->model) return -1;
    const Index& ix = *d.index;
    int best = -1;
    uint32_t best_size = UINT32_MAX;
    auto consider = [&](Span s, int def) {
      if (s.file == 1 && s.begin <= offset && offset <= s.end && s.end - s.begin < best_size) {
        best = def;
        best_size = s.end - s.begin;
      }
    };
    for (const auto& r : ix.refs) consider(r.span, r.def);
    for (size_t i = 0; i < ix.defs.size(); ++i) consider(ix.defs[i].span, static_cast<int>(i));
    return best;
  }

  json location(const Document& d, Span s) const {
    if (s.file == 1 || !d.compilation || s.file > d.compilation->sources.size()) {
      Lines lines(d.text);
      return {{"uri", d.uri}, {"range", lines.range(s.begin, s.end)}};
    }
    const SourceFile& f = d.compilation->sources.file(s.file);
    Lines lines(f.text());
    return {{"uri", uri_of(f.path())}, {"range", lines.range(s.begin, s.end)}};
  }

  // The comment written with a declaration: the lines of `#` right above it,
  // and the one after it on its line.
  std::string comment_of(const Document& d, Span s) const {
    if (!d.compilation || s.file == 0 || s.file > d.compilation->sources.size()) return "";
    const SourceFile& f = d.compilation->sources.file(s.file);
    uint32_t line = f.line_col(s.begin).line;
    std::vector<std::string> above;
    for (uint32_t l = line - 1; l >= 1; --l) {
      std::string t(f.line_text(l));
      size_t a = t.find_first_not_of(" \t");
      if (a == std::string::npos || t[a] != '#') break;
      above.insert(above.begin(), t.substr(a + 1));
      if (l == 1) break;
    }
    std::string out;
    for (auto& l : above) out += (out.empty() ? "" : "\n") + l;
    std::string same(f.line_text(line));
    bool quoted = false;
    for (size_t i = 0; i < same.size(); ++i) {
      if (same[i] == '"') quoted = !quoted;
      if (!quoted && same[i] == '#') {
        out += (out.empty() ? "" : "\n") + same.substr(i + 1);
        break;
      }
    }
    return out;
  }

  json hover(const json& p) {
    Document* d = doc(p);
    if (!d) return nullptr;
    Lines lines(d->text);
    uint32_t offset = lines.offset(p.at("position"));
    int def = at(*d, offset);
    if (def < 0) return row_hover(*d, offset);
    const Def& x = d->index->defs[def];
    std::string value = fmt::format("**{}** `{}`", kind_word(x.kind), x.name);
    if (!x.detail.empty() && x.kind != Kind::input && x.kind != Kind::test) value += " : " + x.detail;
    if (!x.more.empty()) {
      value += x.kind == Kind::let ? "\n```strat\n" + x.more + "\n```" : "\n\n" + x.more;
    }
    std::string comment = comment_of(*d, x.span);
    if (!comment.empty()) value += "\n\n" + comment;
    return {{"contents", {{"kind", "markdown"}, {"value", value}}}};
  }

  // A table row (or grid cell) under the cursor: the rows that can match the
  // same customers, which for a first-hit table are those that shadow it.
  json row_hover(const Document& d, uint32_t offset) const {
    if (!d.compilation || !d.compilation->program) return nullptr;
    const eval::Program& program = *d.compilation->program;
    for (size_t t = 0; t < program.tables.size(); ++t) {
      const eval::Table& table = program.tables[t];
      for (size_t r = 0; r < table.rows.size(); ++r) {
        const Span& s = table.rows[r].span;
        if (s.file != 1 || offset < s.begin || offset > s.end) continue;
        auto line_of = [&](size_t row) { return row < table.row_lines.size() ? table.row_lines[row] : 0u; };
        std::vector<int32_t> meeting = program.rows_meeting(static_cast<int32_t>(t), static_cast<int32_t>(r));
        std::string before, after;
        size_t before_count = 0, all_count = meeting.size();
        for (int32_t m : meeting) {
          std::string& list = static_cast<size_t>(m) < r ? before : after;
          before_count += static_cast<size_t>(m) < r;
          list += fmt::format("{}{}", list.empty() ? "" : ", ", line_of(static_cast<size_t>(m)));
        }
        auto rows = [](size_t n, const std::string& lines) {
          return n == 1 ? "the row at line " + lines : "the rows at lines " + lines;
        };
        bool ordered = table.policy == eval::HitPolicy::first || table.policy == eval::HitPolicy::priority;
        std::string value = fmt::format("**{}** of `{}`, line {}", table.grid ? "grid cell" : "row", table.name, line_of(r));
        if (table.policy == eval::HitPolicy::first) {
          value += before.empty() ? "\n\nNo row before it can take any of its customers."
                                  : "\n\nShadowed in part: " + rows(before_count, before) + (before_count == 1 ? " comes" : " come") +
                                        " first and can take some of its customers.";
        } else {
          std::string all = before + (before.empty() || after.empty() ? "" : ", ") + after;
          value += all.empty() ? "\n\nNo other row can apply to any of its customers."
                               : "\n\n" + [&] { std::string x = rows(all_count, all); x[0] = 'T'; return x; }() +
                                      " can apply to some of the same customers" +
                                     (ordered ? "." : (table.policy == eval::HitPolicy::unique ? " (a unique table: an overlap)." : ", and do."));
        }
        value += "\n\n(Judged column by column; `stratum check` proves what can never apply.)";
        return {{"contents", {{"kind", "markdown"}, {"value", value}}},
                {"range", Lines(d.text).range(s.begin, s.end)}};
      }
    }
    return nullptr;
  }

  json definition(const json& p) {
    Document* d = doc(p);
    if (!d) return nullptr;
    Lines lines(d->text);
    int def = at(*d, lines.offset(p.at("position")));
    if (def < 0) return nullptr;
    return location(*d, d->index->defs[def].span);
  }

  json references(const json& p) {
    Document* d = doc(p);
    json out = json::array();
    if (!d) return out;
    Lines lines(d->text);
    int def = at(*d, lines.offset(p.at("position")));
    if (def < 0) return out;
    bool declaration = p.contains("context") && p["context"].value("includeDeclaration", false);
    if (declaration) out.push_back(location(*d, d->index->defs[def].span));
    for (const auto& r : d->index->refs) {
      if (r.def == def) out.push_back(location(*d, r.span));
    }
    return out;
  }

  json completion(const json& p) {
    Document* d = doc(p);
    json items = json::array();
    if (!d) return items;
    Lines lines(d->text);
    uint32_t offset = lines.offset(p.at("position"));
    // The word before a '.' just typed: an enum's values, or the plan's items.
    std::string qualifier;
    if (offset > 0 && d->text[offset - 1] == '.') {
      size_t b = offset - 1;
      auto ident = [](unsigned char c) { return c >= 0x80 || std::isalnum(c) || c == '_'; };  // any byte of a UTF-8 letter
      while (b > 0 && ident(static_cast<unsigned char>(d->text[b - 1]))) --b;
      qualifier = d->text.substr(b, offset - 1 - b);
    }
    if (d->index) {
      const auto& defs = d->index->defs;
      for (size_t i = 0; i < defs.size(); ++i) {
        const Def& x = defs[i];
        if (!qualifier.empty()) {
          bool member = (x.kind == Kind::enum_value && x.parent >= 0 && defs[x.parent].name == qualifier) ||
                        (qualifier == "plan" && x.kind == Kind::plan_item);
          if (!member) continue;
        } else if (x.kind == Kind::test || x.kind == Kind::input) {
          continue;
        }
        int kind = 0;
        switch (x.kind) {
          case Kind::field: kind = 5; break;
          case Kind::let: kind = 6; break;
          case Kind::decision: case Kind::table: case Kind::scorecard: kind = 3; break;
          case Kind::enum_: kind = 13; break;
          case Kind::enum_value: kind = 20; break;
          case Kind::segment: kind = 7; break;
          case Kind::plan_item: kind = 10; break;
          default: kind = 1;
        }
        items.push_back({{"label", x.name}, {"kind", kind}, {"detail", std::string(kind_word(x.kind)) + (x.detail.empty() ? "" : " : " + x.detail)}});
      }
    }
    if (qualifier.empty()) {
      for (const auto& k : keywords()) items.push_back({{"label", k}, {"kind", 14}});
    }
    return {{"isIncomplete", false}, {"items", items}};
  }

  json symbols(const json& p) {
    Document* d = doc(p);
    json out = json::array();
    if (!d || !d->index || !d->compilation || !d->compilation->model) return out;
    Lines lines(d->text);
    const auto& defs = d->index->defs;
    auto symbol = [&](const Def& x, int kind) {
      json r = lines.range(x.span.begin, x.span.end);
      return json{{"name", x.name}, {"detail", x.detail}, {"kind", kind}, {"range", r}, {"selectionRange", r}, {"children", json::array()}};
    };
    std::map<int, json> segments;  // def → symbol, children filled below
    std::vector<int> segment_order;
    for (size_t i = 0; i < defs.size(); ++i) {
      const Def& x = defs[i];
      if (x.span.file != 1) continue;
      switch (x.kind) {
        case Kind::input: {
          json s = symbol(x, 23);  // struct
          for (size_t j = 0; j < defs.size(); ++j) {
            if (defs[j].kind == Kind::field && defs[j].parent == static_cast<int>(i)) s["children"].push_back(symbol(defs[j], 8));
          }
          out.push_back(s);
          break;
        }
        case Kind::enum_: {
          json s = symbol(x, 10);
          for (size_t j = 0; j < defs.size(); ++j) {
            if (defs[j].kind == Kind::enum_value && defs[j].parent == static_cast<int>(i)) s["children"].push_back(symbol(defs[j], 22));
          }
          out.push_back(s);
          break;
        }
        case Kind::let: out.push_back(symbol(x, 14)); break;
        case Kind::decision: out.push_back(symbol(x, 12)); break;
        case Kind::plan_item: out.push_back(symbol(x, 7)); break;
        case Kind::test: out.push_back(symbol(x, 24)); break;
        case Kind::segment:
          segments[static_cast<int>(i)] = symbol(x, 5);
          segment_order.push_back(static_cast<int>(i));
          break;
        default: break;
      }
    }
    // The segment tree nested as written: children first into their parents.
    for (auto it = segment_order.rbegin(); it != segment_order.rend(); ++it) {
      int parent = defs[*it].parent;
      if (parent >= 0 && segments.count(parent)) {
        auto& children = segments[parent]["children"];
        children.insert(children.begin(), segments[*it]);
      }
    }
    for (int s : segment_order) {
      if (defs[s].parent < 0) out.push_back(segments[s]);
    }
    return out;
  }

  json formatting(const json& p) {
    Document* d = doc(p);
    json edits = json::array();
    if (!d) return edits;
    SourceSet set;
    Diagnostics diags;
    if (!parse(set, set.add(d->path, d->text), diags)) return edits;  // only a file that parses is formatted
    std::string formatted = format_rule_text(d->text);
    if (formatted == d->text || code_signature(formatted) != code_signature(d->text)) return edits;  // as `stratum fmt`: only blanks move
    Lines lines(d->text);
    edits.push_back({{"range", lines.range(0, static_cast<uint32_t>(d->text.size()))}, {"newText", formatted}});
    return edits;
  }

  json code_actions(const json& p) {
    Document* d = doc(p);
    json out = json::array();
    if (!d) return out;
    Lines lines(d->text);
    const json& range = p.at("range");
    uint32_t begin = lines.offset(range.at("start")), end = lines.offset(range.at("end"));
    for (const auto& fix : d->fixes) {
      if (fix.span.end < begin || fix.span.begin > end) continue;
      json r = lines.range(fix.span.begin, fix.span.end);
      out.push_back({{"title", fmt::format("Replace with `{}`", fix.replacement)},
                     {"kind", "quickfix"},
                     {"isPreferred", true},
                     {"diagnostics", json::array({{{"range", r}, {"message", fix.message}, {"source", "stratum"}}})},
                     {"edit", {{"changes", {{d->uri, json::array({{{"range", r}, {"newText", fix.replacement}}})}}}}}});
    }
    return out;
  }

  std::FILE* out_;
  std::FILE* log_;
  bool shutdown_ = false;
  std::map<std::string, Document> docs_;  // this thread's only
  std::mutex out_mu_;                     // one message on the output at a time
  // Shared with the analysing thread:
  std::mutex mu_;
  std::condition_variable wake_;
  std::map<std::string, Job> jobs_;        // per document, the newest text to analyse (older ones are dropped)
  std::map<std::string, uint64_t> latest_; // per open document: its newest compilation
  std::set<std::string> open_;             // the documents open in the editor
  uint64_t generations_ = 0;
  std::map<std::string, std::set<std::string>> published_;  // per document: the URIs it gave diagnostics to
  bool stop_ = false;
  std::thread worker_;                     // last: started once everything above exists
};

}  // namespace

int serve(std::FILE* in, std::FILE* out, std::FILE* log) {
  Server server(out, log);
  std::string body, problem;
  while (true) {
    problem.clear();
    Read r = read_message(in, body, problem);
    if (r == Read::end) {  // the client went away without `exit`
      if (!problem.empty()) server.note(problem);
      return 1;
    }
    if (r == Read::bad) {
      server.note(problem);
      continue;
    }
    json msg = json::parse(body, nullptr, false);
    if (msg.is_discarded()) {
      server.error(nullptr, -32700, "not JSON");
      continue;
    }
    if (auto status = server.handle(msg)) return *status;
    if (std::ferror(out)) {
      server.note("the editor closed the server's output");
      return 1;
    }
  }
}

}  // namespace stratum::lsp
