// Prometheus metrics for the API: request counts by route and status, a latency histogram,
// plus gauges the application reads at scrape time (database pool, connections).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace gridmis::http {

class Metrics {
 public:
  static constexpr std::array<double, 12> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,   0.25,   0.5,   1.0,  2.5,   10.0};

  // `route` is the pattern ("/api/v1/customers/{id}"), never the raw path, to bound cardinality.
  void ObserveRequest(std::string_view method, std::string_view route, int status, double seconds);

  // A gauge or counter computed at scrape time: name, help, type ("gauge"/"counter"), value.
  void AddCollector(std::string name, std::string help, std::string type,
                    std::function<double()> value);

  // The Prometheus text exposition format (version 0.0.4).
  std::string Render() const;

 private:
  struct Series {
    int64_t count = 0;
    std::array<int64_t, kBuckets.size()> buckets{};
    double sum = 0;
  };
  struct Collector {
    std::string help, type;
    std::function<double()> value;
  };
  mutable std::mutex mu_;
  std::map<std::string, int64_t> requests_;  // "method|route|status" -> count
  std::map<std::string, Series> latency_;    // "method|route" -> histogram
  std::map<std::string, Collector> collectors_;
};

}  // namespace gridmis::http
