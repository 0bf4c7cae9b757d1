// Plain request/response values shared by the transport (server.cc, the only file that sees
// Boost.Beast) and everything above it: router, middleware, route handlers. No Boost here.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gridmis::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;  // "GET", "POST", ... ("HEAD" is answered as GET without a body)
  std::string target;  // as received: "/api/v1/customers?q=%E5%BC%A0&page=2"
  std::string path;    // percent-decoded path without the query: "/api/v1/customers"
  // Percent-decoded query parameters in order ('+' is a space).
  std::vector<std::pair<std::string, std::string>> query;
  HeaderList headers;  // names in lower case
  std::string body;
  std::string remote_ip;
  int64_t received_us = 0;  // when the request was fully read (UTC µs)

  // The first header with that lower-case name, or "" when absent.
  std::string_view Header(std::string_view lower_name) const;
  // The first query parameter with that name.
  std::optional<std::string_view> Query(std::string_view name) const;
  // A cookie value from the Cookie header, or "" when absent.
  std::string Cookie(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json; charset=utf-8";
  std::string body;
  HeaderList headers;  // extra headers (Set-Cookie, Cache-Control, Location, ...)
  // When not empty, the transport streams this file as the body (static files); `body` is
  // ignored. The caller has already checked that the path is safe to serve.
  std::string file_path;
};

// Decodes %XX escapes (and '+' as space when `plus_is_space`). Returns false on a malformed
// escape or an embedded NUL.
bool PercentDecode(std::string_view in, std::string* out, bool plus_is_space);

// Splits "a=1&b=%20x" into decoded pairs. Returns false on a malformed escape.
bool ParseQueryString(std::string_view qs, std::vector<std::pair<std::string, std::string>>* out);

// The application: called for every request on a worker thread (it may block on the
// database). It must not throw; an exception becomes a 500.
using Handler = std::function<Response(Request&)>;

}  // namespace gridmis::http
