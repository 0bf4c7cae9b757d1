#include "http/router.h"

#include <charconv>
#include <chrono>

#include "http/metrics.h"

namespace gridmis::http {

using nlohmann::json;

std::string_view RouteContext::Param(std::string_view name) const {
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return {};
}

namespace {
std::optional<int64_t> ParseInt64(std::string_view s) {
  int64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}
}  // namespace

Result<int64_t> RouteContext::IdParam(std::string_view name) const {
  auto v = ParseInt64(Param(name));
  if (!v || *v <= 0) {
    return InvalidArgument(
        "'" + std::string(Param(name).substr(0, 40)) + "' is not a valid id (a positive integer)",
        std::string(name));
  }
  return *v;
}

Result<std::optional<int64_t>> QueryInt(const Request& req, std::string_view name) {
  auto q = req.Query(name);
  if (!q || q->empty()) return std::optional<int64_t>();
  auto v = ParseInt64(*q);
  if (!v) {
    return InvalidArgument("query parameter " + std::string(name) + "='" +
                               std::string(q->substr(0, 40)) + "' is not an integer",
                           std::string(name));
  }
  return std::optional<int64_t>(*v);
}

Result<Page> ParsePage(const Request& req) {
  Page p;
  ASSIGN_OR_RETURN(auto page, QueryInt(req, "page"));
  ASSIGN_OR_RETURN(auto size, QueryInt(req, "page_size"));
  if (page) {
    if (*page < 1 || *page > 1'000'000) return InvalidArgument("page must be at least 1", "page");
    p.page = static_cast<int>(*page);
  }
  if (size) {
    if (*size < 1 || *size > 200) {
      return InvalidArgument("page_size must be between 1 and 200", "page_size");
    }
    p.page_size = static_cast<int>(*size);
  }
  return p;
}

json PageJson(json items, const Page& page, int64_t total) {
  return json{{"items", std::move(items)},
              {"page", page.page},
              {"page_size", page.page_size},
              {"total", total}};
}

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
      return 409;
    case StatusCode::kAborted:
      return 409;
    case StatusCode::kFailedPrecondition:
      return 409;
    case StatusCode::kResourceExhausted:
      return 429;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kDeadlineExceeded:
      return 504;
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

Response ErrorResponse(const Status& status) {
  Response r;
  r.status = HttpStatusFor(status.code());
  json err = {{"code", StatusCodeName(status.code())}, {"message", status.message()}};
  if (!status.field().empty()) err["field"] = status.field();
  r.body = json{{"error", err}}.dump();
  r.headers.emplace_back("Cache-Control", "no-store");
  if (status.code() == StatusCode::kUnavailable) r.headers.emplace_back("Retry-After", "1");
  return r;
}

Router::Router(Metrics* metrics) : metrics_(metrics) {}

void Router::Add(RouteSpec spec) { routes_.push_back(std::move(spec)); }

void Router::AddSchema(std::string name, json schema) {
  schemas_[std::move(name)] = std::move(schema);
}

namespace {

// Matches "/api/v1/customers/{id}" against "/api/v1/customers/42".
bool MatchPattern(std::string_view pattern, std::string_view path,
                  std::vector<std::pair<std::string, std::string>>* params) {
  params->clear();
  size_t i = 0, j = 0;
  while (i < pattern.size() && j <= path.size()) {
    if (pattern[i] == '{') {
      size_t close = pattern.find('}', i);
      std::string name(pattern.substr(i + 1, close - i - 1));
      size_t end = path.find('/', j);
      if (end == std::string_view::npos) end = path.size();
      if (end == j) return false;  // empty segment
      params->emplace_back(std::move(name), std::string(path.substr(j, end - j)));
      i = close + 1;
      j = end;
      continue;
    }
    if (j >= path.size() || pattern[i] != path[j]) return false;
    ++i;
    ++j;
  }
  return i == pattern.size() && j == path.size();
}

}  // namespace

const RouteSpec* Router::Match(const Request& req,
                               std::vector<std::pair<std::string, std::string>>* params,
                               bool* path_matched) const {
  *path_matched = false;
  std::string_view method = req.method == "HEAD" ? std::string_view("GET") : req.method;
  for (const auto& r : routes_) {
    if (!MatchPattern(r.pattern, req.path, params)) continue;
    *path_matched = true;
    if (r.method == method) return &r;
  }
  return nullptr;
}

Response Router::Handle(Request& req) {
  auto start = std::chrono::steady_clock::now();
  std::vector<std::pair<std::string, std::string>> params;
  bool path_matched = false;
  const RouteSpec* route = Match(req, &params, &path_matched);
  std::string_view route_name = route ? std::string_view(route->pattern) : "unmatched";

  Response res;
  if (!route) {
    bool is_api = req.path.rfind("/api/", 0) == 0 || req.path == "/metrics";
    if (!is_api && fallback_ && (req.method == "GET" || req.method == "HEAD")) {
      res = fallback_(req);
      route_name = "static";
    } else if (path_matched) {
      res = ErrorResponse(Status(StatusCode::kInvalidArgument,
                                 "method " + req.method + " is not allowed on " + req.path));
      res.status = 405;
    } else {
      res = ErrorResponse(NotFound("no route for " + req.method + " " + req.path));
    }
  } else {
    RouteContext ctx{req, org::Actor(), std::move(params)};
    Status st;
    if (!route->public_route) {
      if (!auth_) {
        st = Unauthenticated("authentication is not configured");
      } else {
        auto actor = auth_(req);
        if (actor.ok()) {
          ctx.actor = std::move(*actor);
        } else {
          st = actor.status();
        }
      }
      if (st.ok() && !route->permission.empty()) st = ctx.actor.Require(route->permission);
    }
    bool has_body = req.method == "POST" || req.method == "PATCH" || req.method == "PUT";
    if (st.ok() && has_body && !req.body.empty()) {
      std::string_view ct = req.Header("content-type");
      bool accepted = route->content_types.empty() && ct.rfind("application/json", 0) == 0;
      std::string expected;
      for (const auto& type : route->content_types) {
        accepted = accepted || ct.rfind(type, 0) == 0;
        expected += (expected.empty() ? "" : " or ") + type;
      }
      if (expected.empty()) expected = "application/json";
      if (!accepted) {
        st = InvalidArgument("Content-Type must be " + expected);
        res = ErrorResponse(st);
        res.status = 415;
      }
    }
    if (st.ok()) {
      Result<Reply> reply = Status(Internal("handler did not run"));
      try {
        reply = route->fn(ctx);
      } catch (const std::exception& e) {
        reply = Internal(std::string("unexpected error: ") + e.what());
      }
      if (reply.ok()) {
        res.status = reply->status;
        if (!reply->raw_content_type.empty()) {
          res.content_type = reply->raw_content_type;
          res.body = std::move(reply->raw_body);
        } else if (reply->status != 204) {
          res.body = reply->body.dump(-1, ' ', false, json::error_handler_t::replace);
        }
        res.headers = std::move(reply->headers);
        res.headers.emplace_back("Cache-Control", "no-store");
      } else {
        res = ErrorResponse(reply.status());
      }
    } else if (res.status != 415) {
      res = ErrorResponse(st);
    }
  }
  res.headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (metrics_) {
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    metrics_->ObserveRequest(req.method, route_name, res.status, secs);
  }
  return res;
}

json Router::OpenApi(std::string_view title, std::string_view version) const {
  json paths = json::object();
  json error_ref = {{"$ref", "#/components/responses/Error"}};
  for (const auto& r : routes_) {
    json op = {{"summary", r.summary}, {"tags", json::array({r.tag})}};
    std::string method = r.method;
    for (auto& ch : method) ch = static_cast<char>(std::tolower(ch));
    std::string id = method;
    for (char ch : r.pattern) {
      if (std::isalnum(static_cast<unsigned char>(ch)))
        id += ch;
      else if (ch == '/' || ch == '{')
        id += '_';
    }
    op["operationId"] = id;
    json parameters = json::array();
    std::vector<std::pair<std::string, std::string>> unused;
    for (size_t p = r.pattern.find('{'); p != std::string::npos; p = r.pattern.find('{', p + 1)) {
      std::string name = r.pattern.substr(p + 1, r.pattern.find('}', p) - p - 1);
      parameters.push_back(
          {{"name", name},
           {"in", "path"},
           {"required", true},
           {"schema", {{"type", name == "id" || name.ends_with("_id") ? "integer" : "string"}}}});
    }
    if (r.list) {
      parameters.push_back(
          {{"name", "page"}, {"in", "query"}, {"schema", {{"type", "integer"}, {"minimum", 1}}}});
      parameters.push_back({{"name", "page_size"},
                            {"in", "query"},
                            {"schema", {{"type", "integer"}, {"minimum", 1}, {"maximum", 200}}}});
    }
    for (const auto& q : r.query) {
      parameters.push_back({{"name", q.name},
                            {"in", "query"},
                            {"description", q.description},
                            {"schema", {{"type", q.type}}}});
    }
    if (!parameters.empty()) op["parameters"] = parameters;
    if (!r.request.empty()) {
      json content = json::object();
      for (const auto& type : r.content_types.empty() ? std::vector<std::string>{"application/json"}
                                                      : r.content_types) {
        content[type] = {{"schema", {{"$ref", "#/components/schemas/" + r.request}}}};
      }
      op["requestBody"] = {{"required", true}, {"content", content}};
    }
    json ok = {{"description", "success"}};
    if (!r.response.empty()) {
      json schema = {{"$ref", "#/components/schemas/" + r.response}};
      if (r.list) {
        schema = {{"type", "object"},
                  {"required", {"items", "page", "page_size", "total"}},
                  {"properties",
                   {{"items", {{"type", "array"}, {"items", schema}}},
                    {"page", {{"type", "integer"}}},
                    {"page_size", {{"type", "integer"}}},
                    {"total", {{"type", "integer"}}}}}};
      }
      ok["content"] = {{"application/json", {{"schema", schema}}}};
    }
    json responses = {{std::to_string(r.success_status), ok}, {"default", error_ref}};
    op["responses"] = responses;
    if (r.public_route) op["security"] = json::array();
    if (!r.permission.empty()) op["x-permission"] = r.permission;
    paths[r.pattern][method] = op;
  }
  json schemas = json::object();
  for (const auto& [k, v] : schemas_) schemas[k] = v;
  schemas["Error"] = {{"type", "object"},
                      {"required", {"error"}},
                      {"properties",
                       {{"error",
                         {{"type", "object"},
                          {"required", {"code", "message"}},
                          {"properties",
                           {{"code", {{"type", "string"}}},
                            {"message", {{"type", "string"}}},
                            {"field", {{"type", "string"}}}}}}}}}};
  return json{
      {"openapi", "3.0.3"},
      {"info", {{"title", title}, {"version", version}}},
      {"paths", paths},
      {"components",
       {{"schemas", schemas},
        {"responses",
         {{"Error",
           {{"description", "error"},
            {"content",
             {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}}}}},
        {"securitySchemes",
         {{"session", {{"type", "apiKey"}, {"in", "cookie"}, {"name", "gridmis_session"}}},
          {"apiToken", {{"type", "http"}, {"scheme", "bearer"}}}}}}},
      {"security", json::array({{{"session", json::array()}}, {{"apiToken", json::array()}}})}};
}

}  // namespace gridmis::http
