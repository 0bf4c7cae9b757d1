#include "http/router.h"

#include <gtest/gtest.h>

#include "http/metrics.h"

namespace gridmis::http {
namespace {

using nlohmann::json;

Request Req(std::string method, std::string path, std::string body = "") {
  Request r;
  r.method = std::move(method);
  r.path = path;
  r.target = path;
  r.body = std::move(body);
  if (!r.body.empty()) r.headers.emplace_back("content-type", "application/json");
  return r;
}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.SetAuthenticator([](const Request& r) -> Result<org::Actor> {
      if (r.Header("authorization") != "Bearer good") return Unauthenticated("log in first");
      org::Actor a;
      a.user_id = 7;
      a.permissions = {"thing.read"};
      return a;
    });
    router_.Add({.method = "GET",
                 .pattern = "/api/v1/things/{id}",
                 .permission = "thing.read",
                 .summary = "a thing",
                 .tag = "t",
                 .response = "Thing",
                 .fn = [](RouteContext& ctx) -> Result<Reply> {
                   ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                   if (id == 404) return NotFound("thing 404 not found");
                   Reply r;
                   r.body = {{"id", id}, {"by", ctx.actor.user_id}};
                   return r;
                 }});
    router_.Add({.method = "POST",
                 .pattern = "/api/v1/things",
                 .permission = "thing.write",
                 .summary = "make a thing",
                 .tag = "t",
                 .fn = [](RouteContext&) -> Result<Reply> { return Reply(); }});
    router_.Add({.method = "GET",
                 .pattern = "/api/v1/open",
                 .public_route = true,
                 .summary = "public",
                 .tag = "t",
                 .fn = [](RouteContext&) -> Result<Reply> { throw std::runtime_error("boom"); }});
  }
  Response Call(Request r, bool auth = true) {
    if (auth) r.headers.emplace_back("authorization", "Bearer good");
    return router_.Handle(r);
  }
  Metrics metrics_;
  Router router_{&metrics_};
};

TEST_F(RouterTest, MatchesPatternsAndAuthenticates) {
  Response ok = Call(Req("GET", "/api/v1/things/12"));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(json::parse(ok.body)["id"], 12);
  EXPECT_EQ(json::parse(ok.body)["by"], 7);
  EXPECT_EQ(Call(Req("GET", "/api/v1/things/12"), false).status, 401);
}

TEST_F(RouterTest, ErrorShapeAndStatuses) {
  Response bad = Call(Req("GET", "/api/v1/things/abc"));
  EXPECT_EQ(bad.status, 400);
  json e = json::parse(bad.body)["error"];
  EXPECT_EQ(e["code"], "INVALID_ARGUMENT");
  EXPECT_EQ(e["field"], "id");
  EXPECT_EQ(Call(Req("GET", "/api/v1/things/404")).status, 404);
  EXPECT_EQ(Call(Req("POST", "/api/v1/things", "{}")).status, 403);  // no thing.write
  EXPECT_EQ(Call(Req("DELETE", "/api/v1/things/1")).status, 405);
  EXPECT_EQ(Call(Req("GET", "/api/v1/nothing")).status, 404);
  Response boom = Call(Req("GET", "/api/v1/open"), false);
  EXPECT_EQ(boom.status, 500);
  EXPECT_EQ(json::parse(boom.body)["error"]["code"], "INTERNAL");
}

TEST_F(RouterTest, RejectsNonJsonBodies) {
  Request r = Req("POST", "/api/v1/things");
  r.body = "a=1";
  r.headers.emplace_back("content-type", "application/x-www-form-urlencoded");
  r.headers.emplace_back("authorization", "Bearer good");
  EXPECT_EQ(router_.Handle(r).status, 403);  // permission is checked first
}

TEST_F(RouterTest, MetricsCountRoutesNotRawPaths) {
  Call(Req("GET", "/api/v1/things/1"));
  Call(Req("GET", "/api/v1/things/2"));
  std::string text = metrics_.Render();
  EXPECT_NE(text.find("gridmis_http_requests_total{method=\"GET\",route=\"/api/v1/things/{id}\","
                      "status=\"200\"} 2"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("gridmis_http_request_duration_seconds_count{method=\"GET\",route=\"/api/v1/"
                      "things/{id}\"} 2"),
            std::string::npos);
}

TEST_F(RouterTest, OpenApiListsEveryRoute) {
  json doc = router_.OpenApi("t", "1");
  EXPECT_EQ(doc["openapi"], "3.0.3");
  EXPECT_TRUE(doc["paths"]["/api/v1/things/{id}"].contains("get"));
  EXPECT_TRUE(doc["paths"]["/api/v1/things"].contains("post"));
  EXPECT_EQ(doc["paths"]["/api/v1/things/{id}"]["get"]["parameters"][0]["name"], "id");
  EXPECT_EQ(doc["paths"]["/api/v1/open"]["get"]["security"], json::array());
}

TEST(PageTest, ParsesAndBounds) {
  Request r;
  r.query = {{"page", "3"}, {"page_size", "50"}};
  auto p = ParsePage(r);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->offset(), 100);
  r.query = {{"page_size", "500"}};
  EXPECT_EQ(ParsePage(r).status().field(), "page_size");
  r.query = {{"page", "x"}};
  EXPECT_EQ(ParsePage(r).status().field(), "page");
}

}  // namespace
}  // namespace gridmis::http
