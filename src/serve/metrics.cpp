#include "serve/metrics.hpp"

#include <stdexcept>

#include <fmt/format.h>

namespace stratum::serve {

namespace {

// The length of the well-formed UTF-8 sequence at s[i], or 0.
size_t utf8_sequence(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t n = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
  }
  if (c == 0xE0 && b(i + 1) < 0xA0) return 0;   // overlong
  if (c == 0xED && b(i + 1) > 0x9F) return 0;   // surrogate
  if (c == 0xF0 && b(i + 1) < 0x90) return 0;   // overlong
  if (c == 0xF4 && b(i + 1) > 0x8F) return 0;   // beyond U+10FFFF
  return n;
}

}  // namespace

std::string render_labels(const Labels& labels) {
  if (labels.empty()) return {};
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ',';
    out += labels[i].first;
    out += "=\"";
    const std::string& v = labels[i].second;
    for (size_t k = 0; k < v.size();) {
      char c = v[k];
      size_t n = utf8_sequence(v, k);
      if (n == 0) {
        out += "\xEF\xBF\xBD";  // U+FFFD: the text format is UTF-8
        ++k;
        continue;
      }
      if (c == '\\') out += "\\\\";
      else if (c == '"') out += "\\\"";
      else if (c == '\n') out += "\\n";
      else out.append(v, k, n);
      k += n;
    }
    out += '"';
  }
  out += '}';
  return out;
}

Metrics::Metrics() {
  declare("stratum_http_requests_total", "counter", "HTTP requests answered, by route, method and status.");
  declare("stratum_http_request_duration_seconds", "histogram",
          "Time from a request's arrival to its answer, by route and status.");
  declare("stratum_records_decided_total", "counter", "Records decided, by rule set.");
  declare("stratum_segment_decisions_total", "counter", "Records decided into each segment, by rule set and segment.");
  declare("stratum_records_rejected_total", "counter", "Records rejected (answered 422 or listed as rejected), by rule set.");
  declare("stratum_reloads_total", "counter", "Rule set versions loaded and swapped in after the start, by rule set.");
  declare("stratum_reload_failures_total", "counter",
          "Rule set versions refused because they have errors (the last good version kept serving), by rule set.");
  declare("stratum_limit_refusals_total", "counter",
          "Requests or connections refused by a limit: body, records, header, timeout, connections, auth.");
  declare("stratum_connections_open", "gauge", "Connections open now.");
  declare("stratum_connections_total", "counter", "Connections accepted.");
  declare("stratum_ruleset_info", "gauge", "The version being served of each rule set (value 1), with its hash.");
}

void Metrics::declare(const std::string& name, const std::string& type, const std::string& help) {
  families_[name] = Family{type, help, {}, {}};
}

void Metrics::add(const std::string& counter, const Labels& labels, uint64_t by) {
  std::string key = render_labels(labels);
  std::lock_guard lock(mutex_);
  auto it = families_.find(counter);
  if (it == families_.end()) throw std::logic_error("undeclared metric " + counter);
  it->second.values[key] += static_cast<double>(by);
}

void Metrics::set(const std::string& gauge, const Labels& labels, double value) {
  std::string key = render_labels(labels);
  std::lock_guard lock(mutex_);
  auto it = families_.find(gauge);
  if (it == families_.end()) throw std::logic_error("undeclared metric " + gauge);
  it->second.values[key] = value;
}

void Metrics::forget(const std::string& gauge, const std::string& label, const std::string& value) {
  std::string needle = render_labels({{label, value}});
  needle = needle.substr(1, needle.size() - 2);  // label="value"
  std::lock_guard lock(mutex_);
  auto& values = families_.at(gauge).values;
  for (auto it = values.begin(); it != values.end();) {
    if (it->first.find(needle) != std::string::npos) it = values.erase(it);
    else ++it;
  }
}

void Metrics::observe(const std::string& histogram, const Labels& labels, double seconds) {
  std::string key = render_labels(labels);
  std::lock_guard lock(mutex_);
  auto it = families_.find(histogram);
  if (it == families_.end()) throw std::logic_error("undeclared metric " + histogram);
  auto& h = it->second.histograms[key];
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += seconds;
}

double Metrics::value(const std::string& name, const Labels& labels) const {
  std::lock_guard lock(mutex_);
  auto it = families_.find(name);
  if (it == families_.end()) return 0;
  auto v = it->second.values.find(render_labels(labels));
  return v == it->second.values.end() ? 0 : v->second;
}

namespace {

std::string number(double v) {
  if (v == static_cast<double>(static_cast<int64_t>(v)) && v < 9e15 && v > -9e15) return fmt::format("{}", static_cast<int64_t>(v));
  return fmt::format("{}", v);
}

// `{a="x"}` and `le="0.5"` → `{a="x",le="0.5"}`.
std::string with_label(const std::string& labels, const std::string& extra) {
  if (labels.empty()) return "{" + extra + "}";
  return labels.substr(0, labels.size() - 1) + "," + extra + "}";
}

}  // namespace

std::string Metrics::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& [name, f] : families_) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, f.help, name, f.type);
    for (const auto& [labels, v] : f.values) out += fmt::format("{}{} {}\n", name, labels, number(v));
    for (const auto& [labels, h] : f.histograms) {
      for (size_t i = 0; i < kBuckets.size(); ++i) {
        out += fmt::format("{}_bucket{} {}\n", name, with_label(labels, fmt::format("le=\"{}\"", kBuckets[i])), h.buckets[i]);
      }
      out += fmt::format("{}_bucket{} {}\n", name, with_label(labels, "le=\"+Inf\""), h.count);
      out += fmt::format("{}_sum{} {}\n", name, labels, h.sum);
      out += fmt::format("{}_count{} {}\n", name, labels, h.count);
    }
  }
  return out;
}

}  // namespace stratum::serve
