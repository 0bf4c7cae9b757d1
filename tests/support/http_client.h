// A small blocking HTTP/1.1 client for tests: one request per connection, cookies kept like a
// browser (a cookie jar per client), bounded by socket time-outs so a test never hangs.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace gridmis::testing {

struct HttpResponse {
  int status = 0;  // 0 when the request failed at the socket level
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string error;  // socket-level failure

  std::string Header(const std::string& lower_name) const;
};

class HttpClient {
 public:
  explicit HttpClient(uint16_t port, std::string host = "127.0.0.1")
      : host_(std::move(host)), port_(port) {}

  HttpResponse Get(const std::string& target) { return Send("GET", target, ""); }
  HttpResponse Post(const std::string& target, const std::string& json) {
    return Send("POST", target, json);
  }
  HttpResponse Patch(const std::string& target, const std::string& json) {
    return Send("PATCH", target, json);
  }
  HttpResponse Put(const std::string& target, const std::string& json) {
    return Send("PUT", target, json);
  }
  HttpResponse Delete(const std::string& target) { return Send("DELETE", target, ""); }
  // Any request; `extra_headers` are sent as given (e.g. a raw Content-Type).
  HttpResponse Send(const std::string& method, const std::string& target, const std::string& body,
                    const std::vector<std::pair<std::string, std::string>>& extra_headers = {});
  // Sends raw bytes and returns whatever comes back (for malformed-request tests).
  std::string SendRaw(const std::string& bytes);

  void SetBearer(std::string token) { bearer_ = std::move(token); }
  const std::map<std::string, std::string>& cookies() const { return cookies_; }
  void ClearCookies() { cookies_.clear(); }
  void SetCookie(const std::string& name, const std::string& value) { cookies_[name] = value; }

 private:
  std::string host_;
  uint16_t port_;
  std::string bearer_;
  std::map<std::string, std::string> cookies_;
};

// "%E5%BC%A0" style escaping for query values.
std::string UrlEncode(const std::string& s);

}  // namespace gridmis::testing
