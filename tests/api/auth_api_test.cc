// Authentication, sessions, lockout, administration and the audit log over a real server.
#include "api/api_fixture.h"

namespace gridmis::testing {
namespace {

using nlohmann::json;

class AuthApiTest : public ApiTest {};

TEST_P(AuthApiTest, HealthIsPublic) {
  auto r = Anonymous()->Get("/api/v1/health");
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(Json(r)["status"], "ok");
  EXPECT_EQ(Json(r)["database"], "ok");
  EXPECT_GE(Json(r)["schema_migrations"].get<int>(), 5);
}

TEST_P(AuthApiTest, LoginSetsAHardenedCookieAndMeDescribesTheUser) {
  auto c = Anonymous();
  auto r = c->Post("/api/v1/auth/login", R"({"username":"clerk_a","password":"Passw0rd!Long1"})");
  ASSERT_EQ(r.status, 200) << r.body;
  std::string cookie = r.Header("set-cookie");
  EXPECT_NE(cookie.find("gridmis_session="), std::string::npos);
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
  auto me = c->Get("/api/v1/me");
  ASSERT_EQ(me.status, 200) << me.body;
  json j = Json(me);
  EXPECT_EQ(j["user"]["username"], "clerk_a");
  EXPECT_EQ(j["department"]["code"], "GS0101");
  EXPECT_EQ(j["data_scope"], "department_and_below");
  EXPECT_TRUE(j["permissions"].contains("customer.write") ||
              std::find(j["permissions"].begin(), j["permissions"].end(), "customer.write") !=
                  j["permissions"].end());
  EXPECT_EQ(j["user"].count("password_hash"), 0u);
}

TEST_P(AuthApiTest, WithoutASessionEverythingButPublicRoutesIs401) {
  auto c = Anonymous();
  for (const char* path : {"/api/v1/me", "/api/v1/departments", "/api/v1/users", "/api/v1/audit"}) {
    auto r = c->Get(path);
    EXPECT_EQ(r.status, 401) << path;
    EXPECT_EQ(Json(r)["error"]["code"], "UNAUTHENTICATED");
  }
  c->SetCookie("gridmis_session", "forged-token");
  EXPECT_EQ(c->Get("/api/v1/me").status, 401);
}

TEST_P(AuthApiTest, WrongPasswordsLockTheAccountForTenMinutes) {
  auto c = Anonymous();
  for (int i = 1; i <= 4; ++i) {
    auto r = c->Post("/api/v1/auth/login", R"({"username":"clerk_b","password":"nope"})");
    EXPECT_EQ(r.status, 401);
    EXPECT_NE(
        Json(r)["error"]["message"].get<std::string>().find(std::to_string(5 - i) + " attempt"),
        std::string::npos)
        << r.body;
  }
  auto locked = c->Post("/api/v1/auth/login", R"({"username":"clerk_b","password":"nope"})");
  EXPECT_EQ(locked.status, 429);
  EXPECT_NE(Json(locked)["error"]["message"].get<std::string>().find("locked"), std::string::npos);
  auto right =
      c->Post("/api/v1/auth/login", R"({"username":"clerk_b","password":"Passw0rd!Long1"})");
  EXPECT_EQ(right.status, 429);
  clock_.Advance(10 * kMicrosPerMinute + kMicrosPerSecond);
  right = c->Post("/api/v1/auth/login", R"({"username":"clerk_b","password":"Passw0rd!Long1"})");
  EXPECT_EQ(right.status, 200) << right.body;
  // The failures and the lock are in the audit log.
  auto auditor = LoginAs("auditor");
  auto log = Json(auditor->Get("/api/v1/audit?action=locked"));
  EXPECT_EQ(log["total"], 1);
}

TEST_P(AuthApiTest, IdleSessionsExpireAndLogoutRevokes) {
  auto c = LoginAs("clerk_a");
  clock_.Advance(20 * kMicrosPerMinute);
  EXPECT_EQ(c->Get("/api/v1/me").status, 200);  // activity keeps it alive
  clock_.Advance(20 * kMicrosPerMinute);
  EXPECT_EQ(c->Get("/api/v1/me").status, 200);
  clock_.Advance(31 * kMicrosPerMinute);
  auto expired = c->Get("/api/v1/me");
  EXPECT_EQ(expired.status, 401);
  EXPECT_NE(Json(expired)["error"]["message"].get<std::string>().find("without activity"),
            std::string::npos);

  auto d = LoginAs("clerk_a");
  auto token = d->cookies().at("gridmis_session");
  auto out = d->Post("/api/v1/auth/logout", "");
  EXPECT_EQ(out.status, 200) << out.body;
  // The browser forgets the cookie, and the server refuses it if replayed.
  EXPECT_EQ(d->cookies().count("gridmis_session"), 0u);
  d->SetCookie("gridmis_session", token);
  EXPECT_EQ(d->Get("/api/v1/me").status, 401);
}

TEST_P(AuthApiTest, ApiTokensForIntegrations) {
  int64_t bank = CreateUser("bank_channel", city_, "billing_clerk");
  auto sec = LoginAs("secadmin");
  auto created =
      sec->Post("/api/v1/api-tokens", json{{"name", "ICBC 代收"}, {"user_id", bank}}.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  std::string token = Json(created)["token"];
  ASSERT_EQ(token.rfind("gmt_", 0), 0u);
  auto list = Json(sec->Get("/api/v1/api-tokens"));
  EXPECT_EQ(list["items"][0].count("token"), 0u);  // the secret is shown once
  auto integ = Anonymous();
  integ->SetBearer(token);
  auto me = integ->Get("/api/v1/me");
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(Json(me)["auth_method"], "api_token");
  int64_t id = Json(created)["id"];
  EXPECT_EQ(sec->Delete("/api/v1/api-tokens/" + std::to_string(id)).status, 200);
  EXPECT_EQ(integ->Get("/api/v1/me").status, 401);
}

TEST_P(AuthApiTest, SeparationOfDuties) {
  auto sys = LoginAs("sysadmin");
  // The system administrator creates accounts but has no business data and cannot give roles.
  EXPECT_EQ(sys->Get("/api/v1/customers").status, 403);
  EXPECT_EQ(sys->Get("/api/v1/audit").status, 403);
  auto u = sys->Post("/api/v1/users", json{{"username", "newclerk"},
                                           {"display_name", "新营业员"},
                                           {"department_id", county_a_},
                                           {"password", "Welcome#2027"},
                                           {"roles", {"counter_clerk"}}}
                                          .dump());
  EXPECT_EQ(u.status, 403) << u.body;
  u = sys->Post("/api/v1/users", json{{"username", "newclerk"},
                                      {"display_name", "新营业员"},
                                      {"department_id", county_a_},
                                      {"password", "Welcome#2027"}}
                                     .dump());
  ASSERT_EQ(u.status, 201) << u.body;
  json user = Json(u);
  EXPECT_TRUE(user["must_change_password"].get<bool>());
  // The security administrator assigns roles; 三员 roles are exclusive.
  auto sec = LoginAs("secadmin");
  std::string path = "/api/v1/users/" + std::to_string(user["id"].get<int64_t>()) + "/roles";
  auto bad = sec->Put(
      path, json{{"roles", {"audit_admin", "counter_clerk"}}, {"version", user["version"]}}.dump());
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Json(bad)["error"]["field"], "roles");
  auto ok = sec->Put(path, json{{"roles", {"counter_clerk"}}, {"version", user["version"]}}.dump());
  ASSERT_EQ(ok.status, 200) << ok.body;
  // A stale version is a conflict.
  auto stale = sec->Put(path, json{{"roles", {"analyst"}}, {"version", user["version"]}}.dump());
  EXPECT_EQ(stale.status, 409);
  EXPECT_EQ(Json(stale)["error"]["code"], "CONFLICT");
  // The audit administrator sees both administrators' actions, with before and after.
  auto aud = LoginAs("auditor");
  auto hist =
      Json(aud->Get("/api/v1/audit?entity=user&id=" + std::to_string(user["id"].get<int64_t>())));
  ASSERT_EQ(hist["total"], 2);
  EXPECT_EQ(hist["items"][0]["action"], "update_roles");
  EXPECT_EQ(hist["items"][0]["username"], "secadmin");
  EXPECT_EQ(hist["items"][0]["before"]["roles"], json::array());
  EXPECT_EQ(hist["items"][0]["after"]["roles"], json::array({"counter_clerk"}));
  EXPECT_EQ(hist["items"][1]["action"], "create");
  EXPECT_EQ(hist["items"][1]["username"], "sysadmin");
  auto verify = Json(aud->Get("/api/v1/audit/verify"));
  EXPECT_EQ(verify["ok"], true);
}

TEST_P(AuthApiTest, LockAndUnlockEndSessions) {
  auto victim = LoginAs("clerk_a");
  auto sec = LoginAs("secadmin");
  auto users = Json(sec->Get("/api/v1/users?q=clerk_a"));
  ASSERT_EQ(users["total"], 1);
  std::string id = std::to_string(users["items"][0]["id"].get<int64_t>());
  EXPECT_EQ(sec->Post("/api/v1/users/" + id + "/lock", "").status, 200);
  EXPECT_EQ(victim->Get("/api/v1/me").status, 401);
  auto again = Anonymous()->Post("/api/v1/auth/login",
                                 R"({"username":"clerk_a","password":"Passw0rd!Long1"})");
  EXPECT_EQ(again.status, 403);
  EXPECT_EQ(sec->Post("/api/v1/users/" + id + "/unlock", "").status, 200);
  EXPECT_EQ(
      Anonymous()
          ->Post("/api/v1/auth/login", R"({"username":"clerk_a","password":"Passw0rd!Long1"})")
          .status,
      200);
}

TEST_P(AuthApiTest, DepartmentsAreScoped) {
  auto a = LoginAs("clerk_a");
  auto list = Json(a->Get("/api/v1/departments"));
  EXPECT_EQ(list["total"], 2);  // county A and its station
  EXPECT_EQ(a->Get("/api/v1/departments/" + std::to_string(county_b_)).status, 404);
  auto m = LoginAs("manager");
  EXPECT_EQ(Json(m->Get("/api/v1/departments"))["total"], 4);
  auto sys = LoginAs("sysadmin");
  EXPECT_EQ(Json(sys->Get("/api/v1/departments"))["total"], 5);
  auto created = sys->Post("/api/v1/departments", json{{"code", "GS010102"},
                                                       {"name", "甲二供电所"},
                                                       {"kind", "station"},
                                                       {"parent_id", county_a_}}
                                                      .dump());
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(Json(a->Get("/api/v1/departments"))["total"], 3);
}

TEST_P(AuthApiTest, BadInputIs400WithTheFieldAndChangesNothing) {
  auto sys = LoginAs("sysadmin");
  int64_t before = AuditCount();
  struct Case {
    std::string body;
    std::string field;
  };
  std::vector<Case> cases = {
      {"{", ""},                                                              // malformed
      {"[]", ""},                                                             // not an object
      {R"({"code":"X1","name":"n","kind":"station"})", "parent_id"},          // missing
      {R"({"code":7,"name":"n","kind":"station","parent_id":2})", "code"},    // wrong type
      {R"({"code":"X1","name":"n","kind":"planet","parent_id":2})", "kind"},  // bad enum
      {R"({"code":"X1","name":"n","kind":"station","parent_id":2,"colour":"red"})", "colour"},
      {R"({"code":"X1","name":")" + std::string(101, 'a') + R"(","kind":"station","parent_id":2})",
       "name"},
      {R"({"code":"bad code!","name":"n","kind":"station","parent_id":2})", "code"},
      {R"({"code":"X1","name":"n","kind":"station","parent_id":-3})", "parent_id"},
      {R"({"code":"X1","name":"n","kind":"station","parent_id":999999})", "parent_id"},
  };
  for (const auto& c : cases) {
    auto r = sys->Post("/api/v1/departments", c.body);
    EXPECT_EQ(r.status, 400) << c.body << " -> " << r.body;
    json e = Json(r)["error"];
    EXPECT_EQ(e["code"], "INVALID_ARGUMENT") << c.body;
    if (!c.field.empty()) EXPECT_EQ(e.value("field", ""), c.field) << c.body << " -> " << r.body;
    EXPECT_FALSE(e["message"].get<std::string>().empty());
  }
  EXPECT_EQ(sys->Get("/api/v1/departments/abc").status, 400);
  EXPECT_EQ(Json(sys->Get("/api/v1/departments/abc"))["error"]["field"], "id");
  EXPECT_EQ(sys->Get("/api/v1/departments?page=0").status, 400);
  auto form = sys->Send("POST", "/api/v1/departments", "code=X",
                        {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(form.status, 415);
  EXPECT_EQ(AuditCount(), before);  // nothing was written
}

TEST_P(AuthApiTest, MetricsExposeRequestsAndThePool) {
  auto c = LoginAs("clerk_a");
  c->Get("/api/v1/me");
  auto m = Anonymous()->Get("/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_NE(m.Header("content-type").find("text/plain"), std::string::npos);
  EXPECT_NE(m.body.find(
                "gridmis_http_requests_total{method=\"GET\",route=\"/api/v1/me\",status=\"200\"}"),
            std::string::npos);
  EXPECT_NE(m.body.find("gridmis_http_request_duration_seconds_bucket"), std::string::npos);
  EXPECT_NE(m.body.find("gridmis_db_connections_open"), std::string::npos);
  EXPECT_NE(m.body.find("gridmis_http_connections_open"), std::string::npos);
}

GRIDMIS_API_TEST_BACKENDS(AuthApiTest);

}  // namespace
}  // namespace gridmis::testing
