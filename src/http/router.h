// Routing, authentication, permission checks, error mapping, metrics and the OpenAPI document
// for the JSON API. Route handlers are plain synchronous functions that turn a request into
// service calls and a reply; they run on the server's worker pool.
//
//   router.Add({.method = "GET", .pattern = "/api/v1/customers/{id}", .permission =
//   "customer.read",
//               .summary = "Customer 360 view", .tag = "customers", .response = "Customer360",
//               .fn = [&](RouteContext& ctx) -> Result<Reply> { ... }});
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "http/http.h"
#include "org/actor.h"

namespace gridmis::http {

class Metrics;

struct Reply {
  int status = 200;
  nlohmann::json body = nlohmann::json::object();
  HeaderList headers;  // e.g. Set-Cookie
  // Non-JSON replies (xlsx, text): when `raw_content_type` is set, `raw_body` is sent as is.
  std::string raw_content_type;
  std::string raw_body;
};

// A JSON reply with `status`.
inline Reply JsonReply(nlohmann::json body, int status = 200) {
  Reply r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

struct RouteContext {
  Request& req;
  org::Actor actor;  // empty (user_id 0, no permissions) on public routes
  std::vector<std::pair<std::string, std::string>> params;  // {name} captures of the pattern

  std::string_view Param(std::string_view name) const;
  // A positive 64-bit id from the path; InvalidArgument naming the parameter otherwise.
  Result<int64_t> IdParam(std::string_view name = "id") const;
};

struct Page {
  int page = 1;        // 1-based
  int page_size = 20;  // 1..200
  int64_t offset() const { return static_cast<int64_t>(page - 1) * page_size; }
  // Whether the `index`-th item (0-based) of a whole list falls on this page.
  bool Contains(int64_t index) const { return index >= offset() && index < offset() + page_size; }
};

// Reads ?page=&page_size= (defaults 1 and 20, page_size at most 200).
Result<Page> ParsePage(const Request& req);
// Reads an optional integer query parameter; InvalidArgument naming it when malformed.
Result<std::optional<int64_t>> QueryInt(const Request& req, std::string_view name);
// {"items": [...], "page": 1, "page_size": 20, "total": 1234}
nlohmann::json PageJson(nlohmann::json items, const Page& page, int64_t total);
// The same for records, each rendered by its ToJson (found by argument-dependent lookup).
template <typename T>
nlohmann::json PageOf(const std::vector<T>& rows, const Page& page, int64_t total) {
  nlohmann::json items = nlohmann::json::array();
  for (const T& row : rows) items.push_back(ToJson(row));
  return PageJson(std::move(items), page, total);
}

// The error body {"error":{"code","message","field"}} and the status for a Status.
int HttpStatusFor(StatusCode code);
Response ErrorResponse(const Status& status);

using RouteFn = std::function<Result<Reply>(RouteContext&)>;

struct QueryParamDoc {
  std::string name;
  std::string type = "string";  // OpenAPI type: string, integer, boolean
  std::string description;
};

struct RouteSpec {
  std::string method;         // GET, POST, PATCH, PUT, DELETE
  std::string pattern;        // "/api/v1/customers/{id}"
  bool public_route = false;  // no authentication required
  std::string permission;     // required permission; "" = any authenticated user
  std::string summary;
  std::string tag;
  std::vector<QueryParamDoc> query;
  std::string request;  // OpenAPI component schema name of the JSON body, or ""
  // Body types the route takes instead of JSON (e.g. "text/csv" for a file upload): the handler
  // reads req.body as it is. Empty: application/json only.
  std::vector<std::string> content_types;
  std::string response;  // schema name of the 2xx body, or "" (see `list`)
  bool list = false;     // the response is a page of `response` items
  int success_status = 200;
  RouteFn fn;
};

// Turns a request into an authenticated Actor (session cookie or API token).
// Unauthenticated for missing/expired/revoked credentials.
using Authenticator = std::function<Result<org::Actor>(const Request&)>;

class Router {
 public:
  explicit Router(Metrics* metrics = nullptr);

  void SetAuthenticator(Authenticator a) { auth_ = std::move(a); }
  void Add(RouteSpec spec);
  // A component schema for OpenAPI ("Customer" -> {...}).
  void AddSchema(std::string name, nlohmann::json schema);
  // Requests not under /api/ and not matching a route go here (static files); may be unset.
  void SetFallback(Handler h) { fallback_ = std::move(h); }

  // The transport's Handler.
  Response Handle(Request& req);

  // The OpenAPI 3 document of every route.
  nlohmann::json OpenApi(std::string_view title, std::string_view version) const;
  const std::vector<RouteSpec>& routes() const { return routes_; }
  const std::map<std::string, nlohmann::json>& schemas() const { return schemas_; }

 private:
  const RouteSpec* Match(const Request& req,
                         std::vector<std::pair<std::string, std::string>>* params,
                         bool* path_matched) const;

  Metrics* metrics_;
  Authenticator auth_;
  Handler fallback_;
  std::vector<RouteSpec> routes_;
  std::map<std::string, nlohmann::json> schemas_;
};

}  // namespace gridmis::http
