#include "http/metrics.h"

#include <cstdio>
#include <sstream>

namespace gridmis::http {

void Metrics::ObserveRequest(std::string_view method, std::string_view route, int status,
                             double seconds) {
  std::string key(method);
  key += '|';
  key += route;
  std::lock_guard lock(mu_);
  ++requests_[key + '|' + std::to_string(status)];
  Series& s = latency_[key];
  ++s.count;
  s.sum += seconds;
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++s.buckets[i];
  }
}

void Metrics::AddCollector(std::string name, std::string help, std::string type,
                           std::function<double()> value) {
  std::lock_guard lock(mu_);
  collectors_[std::move(name)] = Collector{std::move(help), std::move(type), std::move(value)};
}

namespace {
std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}
std::string Label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}
}  // namespace

std::string Metrics::Render() const {
  std::ostringstream o;
  std::lock_guard lock(mu_);
  o << "# HELP gridmis_http_requests_total HTTP requests by method, route and status.\n"
       "# TYPE gridmis_http_requests_total counter\n";
  for (const auto& [k, n] : requests_) {
    size_t a = k.find('|'), b = k.rfind('|');
    o << "gridmis_http_requests_total{method=\"" << Label(k.substr(0, a)) << "\",route=\""
      << Label(k.substr(a + 1, b - a - 1)) << "\",status=\"" << k.substr(b + 1) << "\"} " << n
      << "\n";
  }
  o << "# HELP gridmis_http_request_duration_seconds Time from a request read to its response.\n"
       "# TYPE gridmis_http_request_duration_seconds histogram\n";
  for (const auto& [k, s] : latency_) {
    size_t a = k.find('|');
    std::string labels =
        "method=\"" + Label(k.substr(0, a)) + "\",route=\"" + Label(k.substr(a + 1)) + "\"";
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      o << "gridmis_http_request_duration_seconds_bucket{" << labels << ",le=\"" << Num(kBuckets[i])
        << "\"} " << s.buckets[i] << "\n";
    }
    o << "gridmis_http_request_duration_seconds_bucket{" << labels << ",le=\"+Inf\"} " << s.count
      << "\n";
    o << "gridmis_http_request_duration_seconds_sum{" << labels << "} " << Num(s.sum) << "\n";
    o << "gridmis_http_request_duration_seconds_count{" << labels << "} " << s.count << "\n";
  }
  for (const auto& [name, c] : collectors_) {
    o << "# HELP " << name << " " << c.help << "\n# TYPE " << name << " " << c.type << "\n"
      << name << " " << Num(c.value()) << "\n";
  }
  return o.str();
}

}  // namespace gridmis::http
