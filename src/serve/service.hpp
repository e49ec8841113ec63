// The decision service (`stratum serve`): every rule set under a directory,
// decided over HTTP. One loaded version of each rule set is shared read-only
// by all request threads; a request decides entirely with the version it
// found when it arrived. New versions are loaded off to the side and
// swapped in whole (on SIGHUP and when the files change); a version with
// errors is refused and the last good one keeps serving. SIGTERM and SIGINT
// drain the requests in flight and end the process with status 0.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace stratum::serve {

struct Config {
  std::string rules_dir;
  std::string host = "127.0.0.1";
  int port = 8080;                 // 0: any free port (the address is logged)
  unsigned threads = 64;           // request threads: each holds one connection while it is served
  std::string token_file;          // bearer tokens, one per line; required off loopback
  std::string tls_cert, tls_key;   // PEM files: serve HTTPS
  size_t max_body = 16u << 20;     // bytes (413)
  size_t max_records = 100000;     // per request (413)
  size_t max_header = 16u << 10;   // bytes of all request headers together (431)
  size_t max_field = 1u << 20;     // bytes of one value (422)
  size_t max_connections = 1024;   // open at once, served or waiting (503)
  int request_timeout = 10;        // seconds waiting for a request's next bytes, or to write an answer
  int idle_timeout = 5;            // seconds a kept-alive connection may wait for its next request
  std::optional<int32_t> as_of;    // the evaluation date for every request (default: today, local time)
  double watch_interval = 1.0;     // seconds between looks at the rule files; 0: reload on SIGHUP only
  bool access_log = true;          // JSON Lines on standard error
};

// Whether `host` is a loopback address (127.0.0.0/8, ::1, localhost).
bool is_loopback(const std::string& host);

// Serves until SIGTERM or SIGINT; returns the exit status (0 after a drain,
// 1 when the rules cannot be served at the start, 2 on a usage or I/O
// problem). Problems are told on standard error.
int run(const Config& config);

}  // namespace stratum::serve
