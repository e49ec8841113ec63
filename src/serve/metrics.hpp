// Metrics: counters, gauges and latency histograms, kept in memory and
// rendered in the Prometheus text exposition format (version 0.0.4) for
// GET /metrics. Safe to update from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace stratum::serve {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Metrics {
 public:
  Metrics();

  void add(const std::string& counter, const Labels& labels, uint64_t by = 1);
  void set(const std::string& gauge, const Labels& labels, double value);
  // Removes every series of a gauge whose labels include `label` = `value`.
  void forget(const std::string& gauge, const std::string& label, const std::string& value);
  void observe(const std::string& histogram, const Labels& labels, double seconds);

  // One value, for tests and logs: 0 when the series does not exist.
  double value(const std::string& name, const Labels& labels) const;

  std::string render() const;

  // The histogram's upper bounds, in seconds.
  static constexpr std::array<double, 14> kBuckets = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,    0.25,  0.5,   1,     2.5,   5,    10};

 private:
  struct Family {
    std::string type, help;
    std::map<std::string, double> values;  // rendered labels → value
    struct Histogram {
      std::array<uint64_t, kBuckets.size()> buckets{};
      uint64_t count = 0;
      double sum = 0;
    };
    std::map<std::string, Histogram> histograms;
  };
  mutable std::mutex mutex_;
  std::map<std::string, Family> families_;

  void declare(const std::string& name, const std::string& type, const std::string& help);
};

// Labels rendered as Prometheus writes them: {a="x",b="y"} (values escaped).
std::string render_labels(const Labels& labels);

}  // namespace stratum::serve
