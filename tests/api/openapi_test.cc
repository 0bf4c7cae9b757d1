// The OpenAPI document stays in step with the routes: every route is documented with a summary
// and schemas that resolve, every documented operation answers (not 404/405), and the paths the
// checks rely on exist.
#include <regex>

#include "api/api_fixture.h"
#include "http/router.h"

namespace gridmis::testing {
namespace {

using nlohmann::json;

class OpenApiTest : public ApiTest {};

void CollectRefs(const json& j, std::vector<std::string>* out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key() == "$ref" && it->is_string()) out->push_back(it->get<std::string>());
      CollectRefs(*it, out);
    }
  } else if (j.is_array()) {
    for (const auto& e : j) CollectRefs(e, out);
  }
}

TEST_P(OpenApiTest, DocumentMatchesTheRoutes) {
  auto r = Anonymous()->Get("/api/v1/openapi.json");
  ASSERT_EQ(r.status, 200);
  json doc = Json(r);
  EXPECT_EQ(doc["openapi"], "3.0.3");
  size_t operations = 0;
  for (auto p = doc["paths"].begin(); p != doc["paths"].end(); ++p) operations += p->size();
  EXPECT_EQ(operations, app_->router().routes().size());
  for (const auto& route : app_->router().routes()) {
    std::string m = route.method;
    for (auto& ch : m) ch = static_cast<char>(std::tolower(ch));
    ASSERT_TRUE(doc["paths"].contains(route.pattern)) << route.pattern;
    ASSERT_TRUE(doc["paths"][route.pattern].contains(m)) << m << " " << route.pattern;
    EXPECT_FALSE(route.summary.empty()) << route.pattern;
    EXPECT_FALSE(route.tag.empty()) << route.pattern;
    if (m == "post" || m == "patch" || m == "put") {
      bool bodyless = route.pattern.find("/lock") != std::string::npos ||
                      route.pattern.find("/unlock") != std::string::npos ||
                      route.pattern.find("/logout") != std::string::npos;
      if (!bodyless) EXPECT_FALSE(route.request.empty()) << m << " " << route.pattern;
    }
  }
  // Every object schema's properties are a map from name to schema.
  for (auto it = doc["components"]["schemas"].begin(); it != doc["components"]["schemas"].end();
       ++it) {
    if (it->contains("properties")) {
      EXPECT_TRUE((*it)["properties"].is_object()) << it.key();
      for (auto p = (*it)["properties"].begin(); p != (*it)["properties"].end(); ++p) {
        EXPECT_TRUE(p->is_object()) << it.key() << "." << p.key();
      }
    }
  }
  std::vector<std::string> refs;
  CollectRefs(doc, &refs);
  EXPECT_FALSE(refs.empty());
  for (const auto& ref : refs) {
    ASSERT_EQ(ref.rfind("#/components/", 0), 0u) << ref;
    std::string rest = ref.substr(13);
    std::string kind = rest.substr(0, rest.find('/'));
    std::string name = rest.substr(rest.find('/') + 1);
    EXPECT_TRUE(doc["components"][kind].contains(name)) << "unresolved " << ref;
  }
}

TEST_P(OpenApiTest, EveryDocumentedOperationIsServed) {
  auto c = LoginAs("manager");
  json doc = Json(Anonymous()->Get("/api/v1/openapi.json"));
  for (auto p = doc["paths"].begin(); p != doc["paths"].end(); ++p) {
    std::string path = std::regex_replace(p.key(), std::regex("\\{[a-z_]+\\}"), "999999");
    for (auto op = p->begin(); op != p->end(); ++op) {
      std::string method = op.key();
      for (auto& ch : method) ch = static_cast<char>(std::toupper(ch));
      if (path == "/api/v1/auth/logout") continue;  // would end the session used here
      auto r = c->Send(method, path, method == "GET" || method == "DELETE" ? "" : "{}");
      EXPECT_NE(r.status, 405) << method << " " << path;
      if (r.status == 404) {
        // A 404 must come from the handler (a record not found), not from routing.
        EXPECT_EQ(Json(r)["error"]["message"].get<std::string>().find("no route"),
                  std::string::npos)
            << method << " " << path;
      }
    }
  }
}

TEST_P(OpenApiTest, TheRoutesChecksRelyOnExist) {
  json doc = Json(Anonymous()->Get("/api/v1/openapi.json"));
  for (auto [path, method] :
       std::vector<std::pair<std::string, std::string>>{{"/api/v1/health", "get"},
                                                        {"/api/v1/auth/login", "post"},
                                                        {"/api/v1/auth/logout", "post"},
                                                        {"/api/v1/me", "get"},
                                                        {"/api/v1/departments", "get"},
                                                        {"/api/v1/customers", "get"},
                                                        {"/api/v1/customers/{id}", "get"},
                                                        {"/api/v1/audit", "get"}}) {
    EXPECT_TRUE(doc["paths"].contains(path) && doc["paths"][path].contains(method))
        << method << " " << path;
  }
}

GRIDMIS_API_TEST_BACKENDS(OpenApiTest);

}  // namespace
}  // namespace gridmis::testing
