// stratum serve RULES_DIR — the decision service (docs/serve.md).
#include <functional>

#include <fmt/format.h>

#include "cli/cli.hpp"
#include "serve/service.hpp"
#include "value/date.hpp"

namespace stratum::cli {

namespace {

constexpr const char* kHelp = R"(usage: stratum serve RULES_DIR [options]

Serves every rule set under RULES_DIR over HTTP: each rule file (*.strat)
and each folder of rule files directly in it, named by the file (without
.strat) or the folder.

  POST /v1/rulesets/NAME/decide   one JSON record → its decisions, segment and
                                  plan; an array or JSON Lines decides a batch;
                                  ?explain=true adds the explanation,
                                  ?as_of=YYYY-MM-DD sets the evaluation date
  GET  /v1/rulesets               name, version, hash, loaded-at, last reload error
  GET  /healthz  /readyz  /metrics

  --listen HOST:PORT      where to listen (default 127.0.0.1:8080; port 0 picks
                          a free one, logged at the start). An address that is
                          not loopback needs --token-file
  --threads N             request threads (default 64); each serves one
                          connection at a time
  --token-file FILE       bearer tokens, one per line (# comments); every request
                          but /healthz and /readyz must carry one
  --tls-cert FILE         serve HTTPS with this certificate (PEM) …
  --tls-key FILE          … and its private key (PEM)
  --as-of YYYY-MM-DD      the evaluation date of every request (default: today,
                          in the machine's time zone; a request may give as_of)
  --watch-interval S      seconds between looks at the rule files (default 1;
                          0: reload on SIGHUP only)
  --max-body-bytes N      the largest request body (default 16777216) → 413
  --max-records N         the most records in one request (default 100000) → 413
  --max-header-bytes N    the largest request head (default 16384) → 431
  --max-field-bytes N     the longest value of a field (default 1048576) → 422
  --max-connections N     connections open at once (default 1024) → 503
  --request-timeout S     seconds to wait for a request's next bytes or to send
                          an answer (default 10); the connection is then closed
  --idle-timeout S        seconds a kept-alive connection may stay idle (default 5)
  --no-access-log         no JSON Lines line per request on standard error

Rule files are reloaded on SIGHUP and when they change: the new version is
checked off to the side and swapped in whole; one with errors is refused
(logged, and shown by GET /v1/rulesets) and the last good version keeps
serving. SIGTERM or SIGINT: the requests in flight are answered, then the
service exits with status 0.

Exit status: 0 after SIGTERM/SIGINT; 1 a rule set has errors at the start;
2 usage or I/O error (address in use, unreadable token file or certificate).
)";

bool whole_number(const std::string& text, uint64_t low, uint64_t high, uint64_t& out) {
  if (text.empty() || text.size() > 12 || text.find_first_not_of("0123456789") != std::string::npos) return false;
  out = std::stoull(text);
  return out >= low && out <= high;
}

}  // namespace

int serve(const std::vector<std::string>& argv) {
  Args args(argv, {"--help", "-h", "--no-access-log"},
            {"--listen", "--threads", "--token-file", "--tls-cert", "--tls-key", "--as-of", "--watch-interval",
             "--max-body-bytes", "--max-records", "--max-header-bytes", "--max-field-bytes", "--max-connections",
             "--request-timeout", "--idle-timeout"});
  if (args.flag("--help") || args.flag("-h")) { fmt::print("{}", kHelp); return kOk; }
  if (args.error()) return usage_error("serve", *args.error());
  if (args.positionals().size() != 1) return usage_error("serve", "name the folder of rule sets: stratum serve RULES_DIR");
  serve::Config config;
  config.rules_dir = args.positionals()[0];
  if (auto listen = args.value("--listen")) {
    size_t colon = listen->rfind(':');
    if (colon == std::string::npos) return usage_error("serve", fmt::format("--listen {}: expected HOST:PORT, e.g. 127.0.0.1:8080", *listen));
    std::string host = listen->substr(0, colon);
    uint64_t port;
    if (!whole_number(listen->substr(colon + 1), 0, 65535, port)) {
      return usage_error("serve", fmt::format("--listen {}: the port is a whole number from 0 to 65535", *listen));
    }
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host.empty()) return usage_error("serve", fmt::format("--listen {}: name the address to listen on (0.0.0.0 for every one)", *listen));
    config.host = host;
    config.port = static_cast<int>(port);
  }
  struct Limit {
    const char* flag;
    uint64_t low, high;
    std::function<void(uint64_t)> set;
  };
  const Limit limits[] = {
      {"--threads", 1, 4096, [&](uint64_t v) { config.threads = static_cast<unsigned>(v); }},
      {"--max-body-bytes", 1, 1ull << 34, [&](uint64_t v) { config.max_body = v; }},
      {"--max-records", 1, 100000000, [&](uint64_t v) { config.max_records = v; }},
      {"--max-header-bytes", 256, 1u << 20, [&](uint64_t v) { config.max_header = v; }},
      {"--max-field-bytes", 1, 1ull << 34, [&](uint64_t v) { config.max_field = v; }},
      {"--max-connections", 1, 1000000, [&](uint64_t v) { config.max_connections = v; }},
      {"--request-timeout", 1, 3600, [&](uint64_t v) { config.request_timeout = static_cast<int>(v); }},
      {"--idle-timeout", 1, 3600, [&](uint64_t v) { config.idle_timeout = static_cast<int>(v); }},
  };
  for (const auto& l : limits) {
    if (auto v = args.value(l.flag)) {
      uint64_t n;
      if (!whole_number(*v, l.low, l.high, n)) {
        return usage_error("serve", fmt::format("{} takes a whole number from {} to {}", l.flag, l.low, l.high));
      }
      l.set(n);
    }
  }
  if (auto w = args.value("--watch-interval")) {
    char* end = nullptr;
    double v = std::strtod(w->c_str(), &end);
    if (w->empty() || *end != '\0' || !(v >= 0) || v > 3600) {
      return usage_error("serve", "--watch-interval takes seconds from 0 (off) to 3600, e.g. 0.5");
    }
    config.watch_interval = v;
  }
  if (auto d = args.value("--as-of")) {
    config.as_of = parse_iso_date(*d);
    if (!config.as_of) return usage_error("serve", fmt::format("--as-of {}: expected a date YYYY-MM-DD", *d));
  }
  config.token_file = args.value("--token-file").value_or("");
  config.tls_cert = args.value("--tls-cert").value_or("");
  config.tls_key = args.value("--tls-key").value_or("");
  config.access_log = !args.flag("--no-access-log");
  return serve::run(config);
}

}  // namespace stratum::cli
