#include "serve/service.hpp"

#include <arpa/inet.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <strings.h>
#include <deque>
#include <filesystem>
#include <future>
#include <thread>

#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "engine/decider.hpp"
#include "io/readers.hpp"
#include "io/writer.hpp"
#include "serve/metrics.hpp"
#include "serve/registry.hpp"
#include "value/date.hpp"

namespace stratum::serve {

namespace {

using json = nlohmann::ordered_json;
using Steady = std::chrono::steady_clock;

// What the request thread learnt about the request it serves, for the
// access log and the metrics (written by the handlers, read by the logger).
struct RequestNote {
  Steady::time_point start{};
  bool started = false;
  std::string ruleset, hash;
  uint64_t records = 0, rejected = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;  // an answer that closes the connection (its body is not in the response)
  bool closing = false;
  std::string error;
};
thread_local RequestNote tl_note;
// Set on the thread that answers connections over the limit.
thread_local bool tl_overflow = false;
// Since when the connection this thread serves has been waiting for a
// request: its start, then each answer.
thread_local Steady::time_point tl_waiting_since;

std::string iso_time(Clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  time_t secs = static_cast<time_t>(ms / 1000);
  struct tm utc;
  gmtime_r(&secs, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday,
                     utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(ms % 1000));
}

int32_t today_local() {
  time_t now = std::time(nullptr);
  struct tm local;
  localtime_r(&now, &local);
  return days_from_civil(local.tm_year + 1900, static_cast<unsigned>(local.tm_mon + 1), static_cast<unsigned>(local.tm_mday));
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// JSON Lines on standard error, one write per line so lines from several
// threads never interleave.
void log_line(json j) {
  json line = {{"time", iso_time(Clock::now())}};
  line.update(j);
  std::string s = dump(line) + "\n";
  const char* p = s.data();
  size_t left = s.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // standard error is gone: nothing left to tell
    p += n;
    left -= static_cast<size_t>(n);
  }
}

// Reads a token, certificate or key file: a regular file of at most 1 MiB,
// opened without blocking (a FIFO put in its place must not hold the
// service). An error message, or empty.
std::string read_small_file(const std::string& path, const char* option, std::string& text) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return fmt::format("{} {}: {}", option, path, std::strerror(errno));
  struct stat st;
  std::string problem;
  if (::fstat(fd, &st) != 0) problem = fmt::format("{} {}: {}", option, path, std::strerror(errno));
  else if (!S_ISREG(st.st_mode)) problem = fmt::format("{} {}: not a regular file", option, path);
  else if (st.st_size > (1 << 20)) problem = fmt::format("{} {}: larger than 1 MiB: not a token or PEM file", option, path);
  char buf[65536];
  while (problem.empty()) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) problem = fmt::format("{} {}: {}", option, path, std::strerror(errno));
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > (1 << 20)) problem = fmt::format("{} {}: larger than 1 MiB: not a token or PEM file", option, path);
  }
  ::close(fd);
  return problem;
}

// Bearer tokens, kept as SHA-256 digests and compared in constant time.
class Tokens {
 public:
  // Reads the file; an error message, or empty.
  std::string load(const std::string& path) {
    std::string text;
    if (auto problem = read_small_file(path, "--token-file", text); !problem.empty()) return problem;
    std::vector<Digest> digests;
    size_t at = 0;
    while (at <= text.size()) {
      size_t end = text.find('\n', at);
      if (end == std::string::npos) end = text.size();
      std::string_view line(text.data() + at, end - at);
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
      while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
      if (!line.empty() && line.front() != '#') {
        if (line.size() < 16) return fmt::format("{}: a token is shorter than 16 characters: use long random tokens", path);
        digests.push_back(digest(line));
      }
      at = end + 1;
    }
    if (digests.empty()) return fmt::format("{} holds no token (one per line; # starts a comment)", path);
    std::lock_guard lock(mutex_);
    digests_ = std::move(digests);
    return {};
  }
  bool accepts(std::string_view presented) const {
    Digest d = digest(presented);
    std::lock_guard lock(mutex_);
    int found = 0;
    for (const auto& t : digests_) found |= CRYPTO_memcmp(t.data(), d.data(), d.size()) == 0;  // every token, always
    return found != 0;
  }

 private:
  using Digest = std::array<unsigned char, 32>;
  mutable std::mutex mutex_;
  std::vector<Digest> digests_;

  static Digest digest(std::string_view s) {
    Digest d{};
    unsigned int size = 0;
    EVP_Digest(s.data(), s.size(), d.data(), &size, EVP_sha256(), nullptr);
    return d;
  }
};

// The request threads. Each accepted connection is served by one of
// `threads` threads; connections beyond `max_connections` (served and
// waiting together) are answered 503 at once by threads of their own.
class ConnectionQueue : public httplib::TaskQueue {
 public:
  ConnectionQueue(size_t threads, size_t max_connections, Metrics& metrics)
      : max_(max_connections), metrics_(metrics) {
    // As many threads as the system gives, up to the number asked for (a
    // limit on address space or processes must not end the service).
    try {
      for (size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { work(jobs_, false); });
      // A refused connection holds its thread until the client closes it or
      // --idle-timeout passes: a few, so one slow client does not hold up the rest.
      for (int i = 0; i < 4; ++i) overflow_threads_.emplace_back([this] { work(overflow_, true); });
    } catch (const std::system_error& e) {
      if (workers_.empty()) throw;
      log_line({{"event", "warning"},
                {"message", fmt::format("only {} request threads and {} for refusals could be started ({}): fewer "
                                        "connections are served at once", workers_.size(), overflow_threads_.size(), e.what())}});
      if (overflow_threads_.empty()) max_ = std::numeric_limits<size_t>::max();  // none to refuse with: connections wait
    }
  }
  void enqueue(std::function<void()> fn) override {
    {
      std::lock_guard lock(mutex_);
      metrics_.add("stratum_connections_total", {});
      if (draining_) {
        overflow_.push_back(std::move(fn));
      } else if (active_ + jobs_.size() >= max_) {
        metrics_.add("stratum_limit_refusals_total", {{"limit", "connections"}});
        overflow_.push_back(std::move(fn));
      } else {
        jobs_.push_back(std::move(fn));
        metrics_.set("stratum_connections_open", {}, static_cast<double>(active_ + jobs_.size()));
      }
    }
    cond_.notify_all();
  }
  // From now on, new connections are answered 503 (the service is stopping).
  void drain() {
    std::lock_guard lock(mutex_);
    draining_ = true;
  }
  bool draining() const { return draining_; }
  // Waits until every connection accepted before the drain has been taken
  // by a request thread and has had its first answer, or until `deadline`.
  // True when none is left waiting.
  bool wait_until_started(Steady::time_point deadline) {
    std::unique_lock lock(mutex_);
    return cond_.wait_until(lock, deadline, [&] { return jobs_.empty() && fresh_ == 0; });
  }
  // Called on a request thread when its connection's first answer is written.
  static void answered() {
    if (tl_queue && tl_fresh) tl_queue->settle();
  }

  void shutdown() override {
    {
      std::lock_guard lock(mutex_);
      shutdown_ = true;
    }
    cond_.notify_all();
    for (auto& t : workers_) t.join();
    for (auto& t : overflow_threads_) t.join();
  }

 private:
  size_t max_;
  Metrics& metrics_;
  std::mutex mutex_;
  std::condition_variable cond_;
  std::deque<std::function<void()>> jobs_, overflow_;
  size_t active_ = 0;
  size_t fresh_ = 0;  // connections taken by a request thread and not yet answered once
  std::atomic<bool> draining_{false};
  bool shutdown_ = false;
  static thread_local ConnectionQueue* tl_queue;
  static thread_local bool tl_fresh;

  void settle() {
    {
      std::lock_guard lock(mutex_);
      tl_fresh = false;
      --fresh_;
    }
    cond_.notify_all();
  }
  std::vector<std::thread> workers_;
  std::vector<std::thread> overflow_threads_;

  void work(std::deque<std::function<void()>>& queue, bool overflow) {
    tl_overflow = overflow;
    tl_queue = this;
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock lock(mutex_);
        cond_.wait(lock, [&] { return !queue.empty() || shutdown_; });
        if (queue.empty()) return;
        fn = std::move(queue.front());
        queue.pop_front();
        if (!overflow) {
          ++active_;
          ++fresh_;
          tl_fresh = true;
        }
      }
      tl_waiting_since = Steady::now();
      try {
        fn();
      } catch (...) {
        // A connection's failure ends that connection only.
      }
      if (!overflow) {
        {
          std::lock_guard lock(mutex_);
          --active_;
          if (tl_fresh) --fresh_;  // closed before its first request
          tl_fresh = false;
          metrics_.set("stratum_connections_open", {}, static_cast<double>(active_ + jobs_.size()));
        }
        cond_.notify_all();
      }
    }
  }
};
thread_local ConnectionQueue* ConnectionQueue::tl_queue = nullptr;
thread_local bool ConnectionQueue::tl_fresh = false;

// The method as the metrics name it: one of a fixed few, so no request can
// add label values of its own.
std::string method_label(const std::string& method) {
  for (const char* m : {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    if (method == m) return method;
  }
  return "other";
}

// The route a path belongs to, as the metrics name it.
std::string route_of(const std::string& method, const std::string& path) {
  if (path == "/healthz" || path == "/readyz" || path == "/metrics" || path == "/v1/rulesets") return path;
  if (path.starts_with("/v1/rulesets/")) {
    std::string_view rest = std::string_view(path).substr(13);
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos) return "/v1/rulesets/{name}";
    if (rest.substr(slash) == "/decide") return "/v1/rulesets/{name}/decide";
  }
  return "other";
}

void answer(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(dump(body) + "\n", "application/json; charset=utf-8");
  tl_note.error = body.contains("error") ? body["error"].get<std::string>() : "";
}

// Answers, then closes the connection: for a request refused before its body
// was read (or with a body that cannot be delimited), whose remaining bytes
// must never be taken for a next request. The library closes a connection
// whose answer's content provider reports failure; this one reports it
// after writing the whole answer.
void answer_and_close(httplib::Response& res, int status, const json& body) {
  auto text = std::make_shared<std::string>(dump(body) + "\n");
  res.status = status;
  res.body.clear();
  res.headers.erase("Content-Type");
  res.set_header("Connection", "close");
  res.set_content_provider(text->size(), "application/json; charset=utf-8",
                           [text](size_t offset, size_t length, httplib::DataSink& sink) {
                             sink.write(text->data() + offset, length);
                             return false;
                           });
  tl_note.error = body.contains("error") ? body["error"].get<std::string>() : "";
  tl_note.bytes_out = text->size();
  tl_note.closing = true;
}

// Makes an answer already made close its connection once written (the drain).
void close_after(httplib::Response& res) {
  if (tl_note.closing || res.content_provider_) return;
  auto text = std::make_shared<std::string>(std::move(res.body));
  std::string type = res.get_header_value("Content-Type");
  res.body.clear();
  res.headers.erase("Content-Type");
  res.set_header("Connection", "close");
  res.set_content_provider(text->size(), type.empty() ? std::string("application/json; charset=utf-8") : type,
                           [text](size_t offset, size_t length, httplib::DataSink& sink) {
                             sink.write(text->data() + offset, length);
                             return false;
                           });
  tl_note.bytes_out = text->size();
  tl_note.closing = true;
}

// Whether a header's name is an HTTP token (RFC 9110): a name with a space
// or a folded line is where two servers may read different headers.
bool is_token(const std::string& name) {
  if (name.empty()) return false;
  for (unsigned char c : name) {
    if (std::isalnum(c)) continue;
    if (c == 0 || !std::strchr("!#$%&'*+-.^_`|~", c)) return false;
  }
  return true;
}

class Service {
 public:
  Service(const Config& config) : config_(config), registry_(config.rules_dir) {}

  const Config& config_;
  Registry registry_;
  Metrics metrics_;
  Tokens tokens_;
  bool auth_ = false;
  std::atomic<bool> ready_{false}, draining_{false};

  void note_events(const std::vector<ReloadEvent>& events, bool at_start) {
    auto catalog = registry_.snapshot();
    for (const auto& e : events) {
      if (e.kind == ReloadEvent::Kind::unreadable) {
        log_line({{"event", "rules_dir_unreadable"}, {"message", e.diagnostics + " (every rule set loaded keeps serving)"}});
        metrics_.add("stratum_reload_failures_total", {{"ruleset", ""}});
        continue;
      }
      json line = {{"ruleset", e.name}};
      switch (e.kind) {
        case ReloadEvent::Kind::loaded:
          line["event"] = "loaded";
          line["hash"] = e.hash;
          if (!at_start) metrics_.add("stratum_reloads_total", {{"ruleset", e.name}});
          break;
        case ReloadEvent::Kind::reloaded:
          line["event"] = "reloaded";
          line["hash"] = e.hash;
          line["previous_hash"] = e.previous;
          metrics_.add("stratum_reloads_total", {{"ruleset", e.name}});
          break;
        case ReloadEvent::Kind::refused:
          if (at_start) continue;  // told on standard error as text, and the service does not start
          line["event"] = "reload_refused";
          if (!e.hash.empty()) line["hash"] = e.hash;
          line["serving_hash"] = e.previous.empty() ? json(nullptr) : json(e.previous);
          line["diagnostics"] = e.diagnostics;
          metrics_.add("stratum_reload_failures_total", {{"ruleset", e.name}});
          break;
        case ReloadEvent::Kind::removed:
          line["event"] = "removed";
          break;
        case ReloadEvent::Kind::unchanged:
          line["event"] = "unchanged";
          line["hash"] = e.hash;
          break;
        case ReloadEvent::Kind::unreadable:
          break;  // told above
      }
      if ((e.kind == ReloadEvent::Kind::loaded || e.kind == ReloadEvent::Kind::reloaded) && !e.diagnostics.empty()) {
        line["warnings"] = e.diagnostics;
      }
      log_line(line);
      metrics_.forget("stratum_ruleset_info", "ruleset", e.name);
      auto it = catalog->find(e.name);
      if (it != catalog->end() && it->second->rules) {
        const auto& program = it->second->rules->program();
        metrics_.set("stratum_ruleset_info",
                     {{"ruleset", e.name}, {"version", program.version}, {"hash", it->second->rules->hash()}}, 1);
      }
    }
  }

  json describe(const Served& s) const {
    json j = {{"name", s.name}, {"file", std::filesystem::path(s.path).lexically_relative(registry_.rules_dir()).generic_string()}};
    if (s.rules) {
      const auto& program = s.rules->program();
      j["title"] = program.ruleset.empty() ? json(nullptr) : json(program.ruleset);
      j["version"] = program.version.empty() ? json(nullptr) : json(program.version);
      j["hash"] = s.rules->hash();
      j["loaded_at"] = iso_time(s.loaded_at);
      json files = json::array();
      for (const auto& f : s.rules->bundle().files) files.push_back(f.path);
      j["files"] = files;
      j["uses_today"] = program.uses_today;
    } else {
      j["title"] = nullptr;
      j["version"] = nullptr;
      j["hash"] = nullptr;
      j["loaded_at"] = nullptr;
    }
    j["serving"] = s.rules != nullptr;
    if (s.last_error.empty()) {
      j["last_reload_error"] = nullptr;
    } else {
      j["last_reload_error"] = {{"at", iso_time(s.last_error_at)},
                                {"hash", s.refused_hash.empty() ? json(nullptr) : json(s.refused_hash)},
                                {"diagnostics", s.last_error}};
    }
    return j;
  }

  void list(const httplib::Request&, httplib::Response& res) {
    auto catalog = registry_.snapshot();
    json all = json::array();
    for (const auto& [name, s] : *catalog) all.push_back(describe(*s));
    std::string dir_error = registry_.dir_error();
    answer(res, 200, {{"rulesets", all}, {"rules_dir_error", dir_error.empty() ? json(nullptr) : json(dir_error)}});
  }

  void one(const httplib::Request& req, httplib::Response& res) {
    std::string name = req.matches[1];
    auto catalog = registry_.snapshot();
    auto it = catalog->find(name);
    if (it == catalog->end()) return unknown(res, name, *catalog);
    answer(res, 200, describe(*it->second));
  }

  void unknown(httplib::Response& res, const std::string& name, const Catalog& catalog) {
    json names = json::array();
    for (const auto& [n, _] : catalog) names.push_back(n);
    answer(res, 404, {{"error", fmt::format("no rule set named `{}`", name)}, {"rulesets", names}});
  }

  // The records of one request, decided (or a part of them, on one thread).
  struct Run {
    std::string results;  // `{"decision":…},{"rejected":…}…`
    uint64_t records = 0, decided = 0, rejected = 0;
    std::vector<uint64_t> by_segment;
    enum class Stop { none, malformed, too_many } stop = Stop::none;
    std::string error;
    uint64_t error_record = 0, error_line = 0;

    void count(const Run& part) {
      records += part.records;
      decided += part.decided;
      rejected += part.rejected;
      if (by_segment.size() < part.by_segment.size()) by_segment.resize(part.by_segment.size());
      for (size_t k = 0; k < part.by_segment.size(); ++k) by_segment[k] += part.by_segment[k];
    }
  };
  static constexpr size_t kParallelBytes = 256u << 10;
  static constexpr size_t kRecordsPerThread = 1024;

  void too_large(httplib::Response& res) {
    metrics_.add("stratum_limit_refusals_total", {{"limit", "body"}});
    answer(res, 413, {{"error", fmt::format("the body is larger than {} bytes (the limit, --max-body-bytes)", config_.max_body)},
                      {"limit", config_.max_body}});
  }

  void too_many_records(httplib::Response& res) {
    metrics_.add("stratum_limit_refusals_total", {{"limit", "records"}});
    answer(res, 413, {{"error", fmt::format("the request holds more than {} records (the limit, --max-records)", config_.max_records)},
                      {"limit", config_.max_records}});
  }

  // Decides every record `reader` gives into `run`. `first` records come
  // before the reader's first (their numbers and lines are in `layout`).
  void decide_records(io::Reader& reader, const engine::RuleSet& rules, const engine::Options& options,
                      const std::vector<std::string>* segments, size_t first, const io::JsonTextLayout* layout, Run& run) {
    const eval::Program& program = rules.program();
    io::Binder columns(program);
    reader.open(columns.columns(), columns.required());
    reader.set_limits({config_.max_body, config_.max_field});
    engine::Decider decider(rules, options);
    std::string item;
    io::RecordWriter writer(program, io::OutputFormat::jsonl, item);
    writer.set_explain(options.explain);
    run.by_segment.assign(segments ? segments->size() : 0, 0);
    io::RawRecord raw;
    while (reader.next(raw)) {
      uint64_t number = first + raw.number;
      uint64_t line = layout ? layout->records[number - 1].line : raw.line;
      if (!raw.error.empty()) {
        run.stop = Run::Stop::malformed;
        run.error = raw.error;
        run.error_record = number;
        run.error_line = line;
        return;
      }
      if (++run.records > config_.max_records) {
        run.stop = Run::Stop::too_many;
        return;
      }
      if (run.records > 1) run.results += ',';
      engine::Rejection why;
      if (decider.decide(raw, why)) {
        item.clear();
        writer.record(decider.frame(), number, options.explain ? &decider.explanation() : nullptr);
        if (!item.empty() && item.back() == '\n') item.pop_back();
        run.results += "{\"decision\":";
        run.results += item;
        run.results += '}';
        ++run.decided;
        if (segments) {
          const eval::Value& v = decider.frame().slots[program.segment_slot];
          if (!eval::is_missing(v) && v.n >= 0 && static_cast<size_t>(v.n) < run.by_segment.size()) ++run.by_segment[v.n];
        }
      } else {
        std::string r = io::rejection_json(number, line, decider.key_text(raw), why);
        if (!r.empty() && r.back() == '\n') r.pop_back();
        run.results += "{\"rejected\":";
        run.results += r;
        run.results += '}';
        ++run.rejected;
      }
    }
  }

  void decide(const httplib::Request& req, httplib::Response& res, const std::string& name, const std::string& body_in) {
    tl_note.ruleset = name;
    auto catalog = registry_.snapshot();  // this request's one view of the rules
    auto it = catalog->find(name);
    if (it == catalog->end()) return unknown(res, name, *catalog);
    std::shared_ptr<const Served> served = it->second;
    if (!served->rules) {
      return answer(res, 503, {{"error", fmt::format("rule set `{}` has errors and no earlier version to serve", name)},
                               {"diagnostics", served->last_error}});
    }
    const engine::RuleSet& rules = *served->rules;
    const eval::Program& program = rules.program();
    tl_note.hash = rules.hash();

    bool explain = false;
    int32_t as_of = config_.as_of ? *config_.as_of : today_local();
    // The query's parameters only (a form-encoded body is not parameters: it is read as JSON).
    httplib::Params query;
    if (size_t q = req.target.find('?'); q != std::string::npos) httplib::detail::parse_query_text(req.target.substr(q + 1), query);
    for (const auto& [key, value] : query) {
      if (key == "explain") {
        if (value == "true" || value == "1" || value.empty()) explain = true;
        else if (value == "false" || value == "0") explain = false;
        else return answer(res, 400, {{"error", fmt::format("explain={}: expected true or false", value)}});
      } else if (key == "as_of") {
        auto d = parse_iso_date(value);
        if (!d) return answer(res, 400, {{"error", fmt::format("as_of={}: expected a date YYYY-MM-DD", value)}});
        as_of = *d;
      } else {
        return answer(res, 400, {{"error", fmt::format("unknown parameter `{}`: the parameters are explain and as_of", key)}});
      }
    }
    std::string type = req.get_header_value("Content-Type");
    type = type.substr(0, type.find(';'));
    while (!type.empty() && type.back() == ' ') type.pop_back();
    for (auto& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    bool lines = type == "application/x-ndjson" || type == "application/ndjson" || type == "application/jsonl" ||
                 type == "application/x-jsonlines" || type == "application/jsonlines";
    // curl -d sends application/x-www-form-urlencoded: the body is read as JSON all the same.
    if (!type.empty() && !lines && type != "application/json" && type != "text/plain" && type != "application/x-www-form-urlencoded") {
      return answer(res, 415, {{"error", fmt::format("Content-Type {} is not accepted: send application/json (one record "
                                                     "or an array) or application/x-ndjson (JSON Lines)", type)}});
    }
    size_t first = body_in.starts_with("\xEF\xBB\xBF") ? 3 : 0;
    first = body_in.find_first_not_of(" \t\r\n", first);
    bool array = first != std::string::npos && body_in[first] == '[';

    engine::Options options;
    options.as_of = as_of;
    options.explain = explain;
    options.max_field = config_.max_field;

    // The segment, for the metrics.
    const std::vector<std::string>* segments = nullptr;
    for (const auto& o : program.outputs) {
      if (o.slot == program.segment_slot && program.segment_slot >= 0 && o.type.base == BaseType::enum_) {
        segments = &program.enums[o.type.enum_id].members;
      }
    }

    // A large batch is located first (its records' bytes and lines), then
    // decided on every core, each thread a contiguous run of records; the
    // runs are joined in order. Anything unusual in it (a syntax error, an
    // object that is not a record) is answered by the one-thread path below,
    // which reports it exactly.
    Run run;                 // the counts (and, on one thread, the results)
    std::vector<Run> parts;  // on several threads: each one's results, in order
    bool done = false;
    unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    if (cores > 1 && body_in.size() >= kParallelBytes) {
      io::JsonTextLayout layout = io::locate_json_records(body_in);
      if (layout.error.empty() && layout.records.size() > config_.max_records) return too_many_records(res);
      if (layout.error.empty() && layout.records.size() >= 2 * kRecordsPerThread) {
        size_t n = layout.records.size();
        unsigned threads = static_cast<unsigned>(std::min<size_t>(cores, n / kRecordsPerThread));
        std::vector<Run> runs(threads);
        std::vector<std::thread> started;
        auto part = [&](unsigned k) {
          size_t lo = n * k / threads, hi = n * (k + 1) / threads;
          std::string chunk;
          chunk.reserve(layout.records[hi - 1].offset + layout.records[hi - 1].size - layout.records[lo].offset + (hi - lo));
          for (size_t j = lo; j < hi; ++j) {
            chunk.append(body_in, layout.records[j].offset, layout.records[j].size);
            chunk += '\n';
          }
          auto reader = io::make_json_text_reader(std::move(chunk));
          decide_records(*reader, rules, options, segments, lo, &layout, runs[k]);
        };
        try {
          for (unsigned k = 1; k < threads; ++k) started.emplace_back(part, k);
        } catch (const std::system_error&) {
          // No more threads: the runs not started are decided here.
        }
        part(0);
        for (size_t k = started.size() + 1; k < threads; ++k) part(static_cast<unsigned>(k));
        for (auto& t : started) t.join();
        bool clean = true;
        for (const auto& r : runs) clean = clean && r.stop == Run::Stop::none;
        if (clean) {
          for (auto& r : runs) run.count(r);
          parts = std::move(runs);
          done = true;
        }
      }
    }
    if (!done) {
      auto reader = io::make_json_text_reader(body_in);
      decide_records(*reader, rules, options, segments, 0, nullptr, run);
      if (run.stop == Run::Stop::malformed) {
        return answer(res, 400, {{"error", "malformed JSON"}, {"message", run.error}, {"record", run.error_record}, {"line", run.error_line}});
      }
      if (run.stop == Run::Stop::too_many) return too_many_records(res);
      parts.push_back(std::move(run));
      run = Run{};
      run.count(parts.back());
    }
    uint64_t records = run.records, decided = run.decided, rejected = run.rejected;
    const std::vector<uint64_t>& by_segment = run.by_segment;
    if (records == 0 && !array) {
      return answer(res, 400, {{"error", "the body holds no record: send one JSON object, an array of them, or JSON Lines"}});
    }
    tl_note.records = records;
    tl_note.rejected = rejected;
    if (decided) metrics_.add("stratum_records_decided_total", {{"ruleset", name}}, decided);
    if (rejected) metrics_.add("stratum_records_rejected_total", {{"ruleset", name}}, rejected);
    for (size_t k = 0; k < by_segment.size(); ++k) {
      if (by_segment[k]) metrics_.add("stratum_segment_decisions_total", {{"ruleset", name}, {"segment", (*segments)[k]}}, by_segment[k]);
    }

    size_t size = 256;
    for (const auto& p : parts) size += p.results.size() + 1;
    std::string body;
    body.reserve(size);
    body = "{\"ruleset\":" + dump(name);
    body += ",\"title\":" + (program.ruleset.empty() ? std::string("null") : dump(program.ruleset));
    body += ",\"version\":" + (program.version.empty() ? std::string("null") : dump(program.version));
    body += ",\"hash\":\"" + rules.hash() + "\"";
    body += ",\"as_of\":\"" + format_date(as_of) + "\"";
    bool batch = array || lines || records > 1;
    if (batch) {
      body += fmt::format(",\"records\":{},\"decided\":{},\"rejected\":{},\"results\":[", records, decided, rejected);
      bool first = true;
      for (const auto& p : parts) {
        if (p.records == 0) continue;
        if (!first) body += ',';
        body += p.results;
        first = false;
      }
      body += "]}\n";
      res.status = 200;
    } else {
      body += ',';
      const std::string& one = parts.front().results;
      body.append(one, 1, one.size() - 2);  // the one result's member, unwrapped
      body += "}\n";
      res.status = decided ? 200 : 422;
      if (!decided) tl_note.error = "rejected";
    }
    res.set_header("Stratum-Ruleset-Hash", rules.hash());
    res.set_content(std::move(body), "application/json; charset=utf-8");
  }
};

const char* status_text(int status) {
  switch (status) {
    case 400: return "bad request: the request is not well-formed HTTP";
    case 405: return "method not allowed";
    case 408: return "the request took too long to arrive";
    case 411: return "a body needs a Content-Length";
    case 416: return "range not satisfiable";
    case 417: return "expectation failed";
    case 431: return "the request's headers are too large";
    case 500: return "internal error";
    case 503: return "unavailable";
    default: return "the request was not served";
  }
}

// The library listens with a backlog of 5 connections: a burst of clients
// connecting at once would see SYNs dropped and retried a second later.
// Listening again on the bound socket raises the backlog.
template <class Base>
class Server : public Base {
 public:
  using Base::Base;
  void raise_backlog() { ::listen(this->svr_sock_, SOMAXCONN); }
};

bool valid_token_header(const std::string& header, std::string_view& token) {
  constexpr std::string_view bearer = "Bearer ";
  if (header.size() <= bearer.size()) return false;
  for (size_t i = 0; i < bearer.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != std::tolower(static_cast<unsigned char>(bearer[i]))) return false;
  }
  token = std::string_view(header).substr(bearer.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  return !token.empty();
}

}  // namespace

bool is_loopback(const std::string& host) {
  if (host == "localhost") return true;
  unsigned char buf[sizeof(struct in6_addr)];
  if (::inet_pton(AF_INET, host.c_str(), buf) == 1) return buf[0] == 127;
  std::string h = host;
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (::inet_pton(AF_INET6, h.c_str(), buf) == 1) {
    static const unsigned char loop6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return std::memcmp(buf, loop6, 16) == 0;
  }
  return false;
}

int run(const Config& config) {
  auto fail = [](int status, const std::string& message) {
    fmt::print(stderr, "stratum serve: {}\n", message);
    return status;
  };
  std::error_code ec;
  if (!std::filesystem::is_directory(config.rules_dir, ec)) {
    return fail(2, fmt::format("{} is not a folder: name the folder that holds the rule sets to serve", config.rules_dir));
  }
  if (!is_loopback(config.host) && config.token_file.empty()) {
    return fail(2, fmt::format("{} is not a loopback address: anyone who can reach it could decide customers and read "
                               "the rules' versions. Give --token-file FILE (bearer tokens) to serve it, and "
                               "--tls-cert/--tls-key to encrypt it; or listen on 127.0.0.1",
                               config.host));
  }
  if (config.tls_cert.empty() != config.tls_key.empty()) {
    return fail(2, "--tls-cert and --tls-key go together: give both (PEM files) or neither");
  }

  // A token, certificate or key file that is not a regular file (a FIFO, a
  // device) could hold the start forever, or without end fill the memory.
  for (const auto& [option, file] : {std::pair<const char*, const std::string*>{"--token-file", &config.token_file},
                                     {"--tls-cert", &config.tls_cert}, {"--tls-key", &config.tls_key}}) {
    if (file->empty()) continue;
    std::string text;
    if (auto problem = read_small_file(*file, option, text); !problem.empty()) return fail(2, problem);
  }

  Service service(config);
  if (!config.token_file.empty()) {
    if (auto problem = service.tokens_.load(config.token_file); !problem.empty()) return fail(2, problem);
    service.auth_ = true;
    struct stat st;
    if (::stat(config.token_file.c_str(), &st) == 0 && (st.st_mode & 0077)) {
      log_line({{"event", "warning"},
                {"message", fmt::format("{} can be read by other users (mode {:o}): chmod 600 it", config.token_file, st.st_mode & 0777)}});
    }
  }
  if (!is_loopback(config.host) && config.tls_cert.empty()) {
    log_line({{"event", "warning"}, {"message", "serving off loopback without TLS: tokens and customers' data travel in clear text"}});
  }

  std::unique_ptr<httplib::Server> server;
  if (!config.tls_cert.empty()) {
    server = std::make_unique<Server<httplib::SSLServer>>(config.tls_cert.c_str(), config.tls_key.c_str());
    if (!server->is_valid()) {
      return fail(2, fmt::format("cannot use the TLS certificate {} with the key {}: check that both are readable PEM files "
                                 "and that the key matches the certificate", config.tls_cert, config.tls_key));
    }
  } else {
    server = std::make_unique<Server<httplib::Server>>();
  }
  // The rule sets, all checked before the first request.
  auto events = service.registry_.refresh(true);
  service.note_events(events, true);
  auto catalog = service.registry_.snapshot();
  bool refused = false;
  for (const auto& [name, s] : *catalog) {
    if (!s->rules) {
      fmt::print(stderr, "stratum serve: rule set `{}` ({}) cannot be served:\n{}", name, s->path, s->last_error);
      if (!s->last_error.empty() && s->last_error.back() != '\n') fmt::print(stderr, "\n");
      refused = true;
    }
  }
  if (refused) return fail(1, "fix the rule sets above (stratum check shows the same), then start again");
  if (catalog->empty()) return fail(1, fmt::format("{} holds no rule set (*.strat files, or folders of them)", config.rules_dir));

  // SIGPIPE: a client gone mid-answer is that connection's end, not the service's.
  ::signal(SIGPIPE, SIG_IGN);
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGQUIT}) sigaddset(&signals, s);
  ::pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // the request threads inherit it: only sigtimedwait below sees them

  httplib::Server& svr = *server;
  Metrics& metrics = service.metrics_;
  std::atomic<ConnectionQueue*> queue{nullptr};
  svr.new_task_queue = [&] {
    auto* q = new ConnectionQueue(config.threads, config.max_connections, metrics);
    queue = q;
    return q;
  };
  // SO_REUSEADDR only: the library's default adds SO_REUSEPORT, with which a
  // second service started on the same port would silently share it.
  svr.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  svr.set_payload_max_length(config.max_body);
  svr.set_read_timeout(config.request_timeout, 0);
  svr.set_write_timeout(config.request_timeout, 0);
  svr.set_keep_alive_timeout(config.idle_timeout);
  svr.set_keep_alive_max_count(10000);
  svr.set_tcp_nodelay(true);

  auto not_found = [&](const httplib::Request& req, httplib::Response& res) {
    answer(res, 404, {{"error", fmt::format("no such resource: {} {}", req.method, req.path)},
                      {"routes", {"POST /v1/rulesets/{name}/decide", "GET /v1/rulesets", "GET /v1/rulesets/{name}",
                                  "GET /healthz", "GET /readyz", "GET /metrics"}}});
  };
  // The library's own 400: the request could not be read whole. Either it
  // is not HTTP, or it stopped arriving for --request-timeout.
  auto library_refusal = [&](httplib::Response& res) {
    double waited = std::chrono::duration<double>(Steady::now() - tl_waiting_since).count();
    if (waited >= config.request_timeout * 0.9) {
      metrics.add("stratum_limit_refusals_total", {{"limit", "timeout"}});
      answer_and_close(res, 408, {{"error", fmt::format("the request did not arrive whole within {} s (the limit, --request-timeout)", config.request_timeout)}});
    } else {
      answer_and_close(res, 400, {{"error", "the request is not well-formed HTTP"}});
    }
  };

  svr.set_pre_routing_handler([&](const httplib::Request& req, httplib::Response& res) {
    tl_note = RequestNote{};
    tl_note.start = Steady::now();
    tl_note.started = true;
    if (tl_overflow) {
      res.set_header("Retry-After", "1");
      if (service.draining_) {
        answer_and_close(res, 503, {{"error", "the service is stopping: send the request to another instance, or again once it is back"}});
      } else {
        answer_and_close(res, 503, {{"error", fmt::format("too many connections (the limit, --max-connections, is {}): try again", config.max_connections)}});
      }
      return httplib::Server::HandlerResponse::Handled;
    }
    // The request's framing, strictly: one reading of where it ends, or none.
    for (const auto& [name, value] : req.headers) {
      if (!is_token(name)) {
        answer_and_close(res, 400, {{"error", "a header's name is not a token (a space before the colon, or a folded line)"}});
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    size_t lengths = req.get_header_value_count("Content-Length");
    bool conflicting = false;
    uint64_t length = 0;
    for (size_t i = 0; i < lengths; ++i) {
      std::string v = req.get_header_value("Content-Length", i);
      if (v.empty() || v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos) {
        answer_and_close(res, 400, {{"error", fmt::format("Content-Length `{}` is not a number of bytes", v.substr(0, 32))}});
        return httplib::Server::HandlerResponse::Handled;
      }
      uint64_t n = std::stoull(v);
      conflicting = conflicting || (i > 0 && n != length);
      length = n;
    }
    bool chunked = req.has_header("Transfer-Encoding");
    if (conflicting || (lengths > 0 && chunked) || req.get_header_value_count("Transfer-Encoding") > 1) {
      answer_and_close(res, 400, {{"error", "the body's length is given in more than one way (Content-Length twice, or with "
                                            "Transfer-Encoding): send one"}});
      return httplib::Server::HandlerResponse::Handled;
    }
    if (chunked && ::strcasecmp(req.get_header_value("Transfer-Encoding").c_str(), "chunked") != 0) {
      answer_and_close(res, 400, {{"error", "Transfer-Encoding other than chunked is not accepted"}});
      return httplib::Server::HandlerResponse::Handled;
    }
    bool body = chunked || length > 0;
    if (body && (req.method == "GET" || req.method == "HEAD" || req.method == "OPTIONS" || req.method == "DELETE")) {
      // The library would not read it, and its bytes would be taken for a next request.
      answer_and_close(res, 400, {{"error", fmt::format("a {} request carries no body here", req.method)}});
      return httplib::Server::HandlerResponse::Handled;
    }
    if (length > config.max_body) {
      service.too_large(res);
      answer_and_close(res, 413, json::parse(res.body));  // refused before a byte of it is read
      return httplib::Server::HandlerResponse::Handled;
    }
    if (body) {
      std::string encoding = req.get_header_value("Content-Encoding");
      if (!encoding.empty() && ::strcasecmp(encoding.c_str(), "identity") != 0 && ::strcasecmp(encoding.c_str(), "gzip") != 0 &&
          ::strcasecmp(encoding.c_str(), "deflate") != 0) {
        answer_and_close(res, 415, {{"error", fmt::format("Content-Encoding {} is not accepted: send the body as it is, or gzip "
                                                          "or deflate it", encoding.substr(0, 32))}});
        return httplib::Server::HandlerResponse::Handled;
      }
      if (req.is_multipart_form_data()) {
        answer_and_close(res, 415, {{"error", "a multipart form is not accepted: send application/json (one record or an "
                                              "array) or application/x-ndjson (JSON Lines)"}});
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    if (method_label(req.method) == "other") {
      res.set_header("Allow", "GET, HEAD, POST");
      answer_and_close(res, 405, {{"error", fmt::format("the method {} is not served", req.method.substr(0, 32))}});
      return httplib::Server::HandlerResponse::Handled;
    }
    size_t header_bytes = req.method.size() + req.target.size() + req.version.size() + 4;
    for (const auto& [k, v] : req.headers) header_bytes += k.size() + v.size() + 4;
    if (header_bytes > config.max_header) {
      metrics.add("stratum_limit_refusals_total", {{"limit", "header"}});
      answer_and_close(res, 431, {{"error", fmt::format("the request's headers take {} bytes, more than {} (the limit, --max-header-bytes)", header_bytes, config.max_header)}});
      return httplib::Server::HandlerResponse::Handled;
    }
    if (service.auth_ && req.path != "/healthz" && req.path != "/readyz") {
      std::string_view token;
      if (!valid_token_header(req.get_header_value("Authorization"), token) || !service.tokens_.accepts(token)) {
        metrics.add("stratum_limit_refusals_total", {{"limit", "auth"}});
        res.set_header("WWW-Authenticate", "Bearer realm=\"stratum\"");
        answer_and_close(res, 401, {{"error", req.has_header("Authorization") ? "the bearer token is not accepted"
                                                                    : "this service needs a bearer token: send Authorization: Bearer TOKEN"}});
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });

  // During the drain every answer closes its connection, so that a kept-alive
  // client does not hold a request thread a connection still waiting needs.
  svr.set_post_routing_handler([&](const httplib::Request&, httplib::Response& res) {
    if (service.draining_) close_after(res);
  });

  svr.Get("/healthz", [&](const httplib::Request&, httplib::Response& res) { answer(res, 200, {{"status", "ok"}}); });
  svr.Get("/readyz", [&](const httplib::Request&, httplib::Response& res) {
    if (service.draining_) return answer(res, 503, {{"status", "draining"}});
    if (!service.ready_) return answer(res, 503, {{"status", "starting"}});
    auto catalog = service.registry_.snapshot();
    size_t serving = 0;
    for (const auto& [_, s] : *catalog) serving += s->rules != nullptr;
    if (serving == 0) return answer(res, 503, {{"status", "no rule set is being served"}, {"rulesets", 0}});
    answer(res, 200, {{"status", "ready"}, {"rulesets", serving}});
  });
  svr.Get("/metrics", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics.render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  svr.Get("/v1/rulesets", [&](const httplib::Request& req, httplib::Response& res) { service.list(req, res); });
  svr.Get(R"(/v1/rulesets/([^/]+))", [&](const httplib::Request& req, httplib::Response& res) { service.one(req, res); });
  svr.Get(R"(/v1/rulesets/([^/]+)/decide)", [&](const httplib::Request& req, httplib::Response& res) {
    res.set_header("Allow", "POST");
    answer(res, 405, {{"error", fmt::format("{} {} is not served: use POST", req.method, req.path)}});
  });
  // Every request that may carry a body (POST, PUT, PATCH, DELETE) is read
  // here, chunk by chunk, so the body limit holds whatever its framing
  // (Content-Length or chunked), and then routed.
  auto with_body = [&](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& content_reader) {
    std::string body;
    size_t total = 0;
    bool over = false;
    bool whole = content_reader([&](const char* data, size_t size) {
      total += size;
      if (!over && total > config.max_body) {
        over = true;
        std::string().swap(body);
      }
      // Over the limit: no more is read; the answer closes the connection.
      if (over) return false;
      body.append(data, size);
      return true;
    });
    tl_note.bytes_in = total;
    if (over || res.status == 413) {
      // Closed after the answer: what is left of the body is never read as a request.
      service.too_large(res);
      answer_and_close(res, 413, json::parse(res.body));
      return;
    }
    if (!whole) return library_refusal(res);
    res.status = -1;
    const std::string& path = req.path;
    std::string_view rest = std::string_view(path).substr(std::min<size_t>(path.size(), 13));
    size_t slash = rest.find('/');
    bool under = path.starts_with("/v1/rulesets/") && !rest.empty();
    if (under && slash != std::string_view::npos && slash > 0 && rest.substr(slash) == "/decide") {
      if (req.method == "POST") return service.decide(req, res, std::string(rest.substr(0, slash)), body);
      res.set_header("Allow", "POST");
    } else if ((under && slash == std::string_view::npos) || path == "/healthz" || path == "/readyz" || path == "/metrics" ||
               path == "/v1/rulesets") {
      res.set_header("Allow", "GET");
    } else {
      return not_found(req, res);
    }
    answer(res, 405, {{"error", fmt::format("{} {} is not served: use {}", req.method, req.path, res.get_header_value("Allow"))}});
  };
  svr.Post(".*", with_body);
  svr.Put(".*", with_body);
  svr.Patch(".*", with_body);
  svr.Delete(".*", with_body);

  svr.set_exception_handler([&](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown failure";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    log_line({{"event", "internal_error"}, {"message", what}});
    answer(res, 500, {{"error", "internal error: the request was not decided (see the service's log)"}});
  });
  svr.set_error_handler(httplib::Server::HandlerWithResponse([&](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty() || tl_note.closing) return httplib::Server::HandlerResponse::Unhandled;
    if (res.status == 404) {
      not_found(req, res);
    } else if (res.status == 413) {
      service.too_large(res);
    } else if (res.status == 400) {
      library_refusal(res);
    } else if (res.status == 414) {
      metrics.add("stratum_limit_refusals_total", {{"limit", "header"}});
      answer_and_close(res, 414, {{"error", "the request's target is too long"}});
    } else {
      answer(res, res.status, {{"error", status_text(res.status)}});
    }
    return httplib::Server::HandlerResponse::Handled;
  }));
  svr.set_logger([&](const httplib::Request& req, const httplib::Response& res) {
    double seconds = tl_note.started ? std::chrono::duration<double>(Steady::now() - tl_note.start).count() : 0.0;
    ConnectionQueue::answered();
    std::string route = route_of(req.method, req.path);
    std::string status = std::to_string(res.status);
    metrics.add("stratum_http_requests_total", {{"route", route}, {"method", method_label(req.method)}, {"status", status}});
    metrics.observe("stratum_http_request_duration_seconds", {{"route", route}, {"status", status}}, seconds);
    if (config.access_log) {
      json line = {{"event", "request"}, {"remote", req.remote_addr}, {"method", req.method}, {"path", req.path},
                   {"status", res.status}, {"bytes_in", std::max<uint64_t>(tl_note.bytes_in, req.body.size())}, {"bytes_out", tl_note.closing ? tl_note.bytes_out : res.body.size()},
                   {"ms", std::round(seconds * 1e6) / 1e3}};
      if (!tl_note.ruleset.empty()) line["ruleset"] = tl_note.ruleset;
      if (!tl_note.hash.empty()) line["hash"] = tl_note.hash;
      if (tl_note.records) {
        line["records"] = tl_note.records;
        line["rejected"] = tl_note.rejected;
      }
      if (!tl_note.error.empty() && res.status >= 400) line["error"] = tl_note.error;
      log_line(line);
    }
    tl_note = RequestNote{};  // a request refused before routing must not show this one's fields
    tl_waiting_since = Steady::now();
  });

  int port = config.port;
  if (config.port == 0) {
    port = svr.bind_to_any_port(config.host);
    if (port < 0) return fail(2, fmt::format("cannot listen on {}: {}", config.host, std::strerror(errno)));
  } else if (!svr.bind_to_port(config.host, config.port)) {
    return fail(2, fmt::format("cannot listen on {}:{}: {}", config.host, config.port,
                               errno ? std::strerror(errno) : "the address is in use or not on this machine"));
  }
  if (auto* tls = dynamic_cast<Server<httplib::SSLServer>*>(server.get())) tls->raise_backlog();
  else static_cast<Server<httplib::Server>*>(server.get())->raise_backlog();
  std::promise<void> listener_done;
  auto stopped = listener_done.get_future();
  std::string listen_failure;
  std::thread listener([&] {
    try {
      svr.listen_after_bind();
    } catch (const std::exception& e) {
      listen_failure = e.what();
    }
    listener_done.set_value();
  });
  // The listener is running before anything may stop it (a stop before it
  // starts would be lost, and the drain would wait for ever).
  while (!svr.is_running() && stopped.wait_for(std::chrono::milliseconds(1)) != std::future_status::ready) {
  }
  if (stopped.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
    listener.join();
    return fail(2, fmt::format("cannot serve: {}", listen_failure.empty() ? "the listener stopped at once" : listen_failure));
  }
  service.ready_ = true;
  {
    json names = json::array();
    for (const auto& [name, _] : *service.registry_.snapshot()) names.push_back(name);
    std::string host = config.host.find(':') != std::string::npos && config.host.front() != '[' ? "[" + config.host + "]" : config.host;
    log_line({{"event", "listening"},
              {"url", fmt::format("{}://{}:{}", config.tls_cert.empty() ? "http" : "https", host, port)},
              {"port", port},
              {"rulesets", names},
              {"threads", config.threads}});
  }

  // The control loop: signals, and a look at the rule files now and then.
  double interval = config.watch_interval > 0 ? config.watch_interval : 3600;
  for (;;) {
    struct timespec wait;
    wait.tv_sec = static_cast<time_t>(interval);
    wait.tv_nsec = static_cast<long>((interval - static_cast<double>(wait.tv_sec)) * 1e9);
    siginfo_t info;
    int sig = ::sigtimedwait(&signals, &info, &wait);
    if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT) {
      log_line({{"event", "draining"}, {"signal", sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "SIGQUIT"}});
      service.draining_ = true;
      break;
    }
    try {
      if (sig == SIGHUP) {
        log_line({{"event", "reload_requested"}, {"signal", "SIGHUP"}});
        if (!config.token_file.empty()) {
          if (auto problem = service.tokens_.load(config.token_file); !problem.empty()) {
            log_line({{"event", "tokens_refused"}, {"message", problem + " (the tokens read before are kept)"}});
          }
        }
        service.note_events(service.registry_.refresh(true), false);
      } else if (config.watch_interval > 0 && service.registry_.changed()) {
        service.note_events(service.registry_.refresh(false), false);
      }
    } catch (const std::exception& e) {
      log_line({{"event", "reload_failed"}, {"message", e.what()}});
    }
  }
  // The drain: connections accepted from now on are answered 503; those
  // already accepted are each answered at least once (up to
  // --request-timeout); then every connection ends after the answer it is
  // writing, and the process once they have.
  bool started = true;
  if (ConnectionQueue* q = queue.load()) {
    q->drain();
    started = q->wait_until_started(Steady::now() + std::chrono::seconds(config.request_timeout));
  }
  if (!started) {
    log_line({{"event", "drain_timeout"}, {"message", "connections still waiting for their first answer are closed unanswered"}});
  }
  svr.stop();
  // Each connection ends after the answer it is writing; one that trickles
  // its request a byte at a time is not waited for beyond the deadline.
  int deadline = config.request_timeout + config.idle_timeout + 5;
  if (stopped.wait_for(std::chrono::seconds(deadline)) != std::future_status::ready) {
    log_line({{"event", "drain_timeout"},
              {"message", fmt::format("connections still open {} s after the drain began are cut", deadline)}});
    log_line({{"event", "stopped"}});
    std::_Exit(0);
  }
  listener.join();
  log_line({{"event", "stopped"}});
  return 0;
}

}  // namespace stratum::serve
