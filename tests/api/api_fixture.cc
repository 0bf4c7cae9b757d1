#include "api/api_fixture.h"

#include "store/db.h"

namespace gridmis::testing {

using nlohmann::json;

void ApiTest::SetUp() {
  auto t = store::testing::TestDatabase::Create(GetParam());
  if (!t.ok() && GetParam() == "postgres" && !store::testing::PostgresRequiredForTest()) {
    GTEST_SKIP() << t.status().ToString();
  }
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  tdb_ = std::move(*t);
  tdb_->Close();
  Config c;
  c.database_url = tdb_->url();
  c.listen = "127.0.0.1:0";
  c.log_level = "warn";
  c.db_workers = 4;
  c.fep_listen = "127.0.0.1:0";
  Configure(c);
  app::AppOptions o;
  o.clock = &clock_;
  o.hash_strength = org::HashStrength::kMinimum;
  auto a = app::App::Create(c, o);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  app_ = std::move(*a);

  org::Actor sys = org::Actor::System("test");
  auto dept = [&](const char* code, const char* name, const char* kind,
                  std::optional<int64_t> parent) {
    org::DepartmentInput in;
    in.code = code;
    in.name = name;
    in.kind = kind;
    in.parent_id = parent;
    auto d = app_->org().CreateDepartment(sys, in);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return d.ok() ? d->id : 0;
  };
  root_ = dept("GS", "示范电力公司", "company", std::nullopt);
  city_ = dept("GS01", "示范市供电公司", "city", root_);
  county_a_ = dept("GS0101", "甲县供电分公司", "county", city_);
  county_b_ = dept("GS0102", "乙县供电分公司", "county", city_);
  station_a_ = dept("GS010101", "甲一供电所", "station", county_a_);
  CreateUser("sysadmin", root_, "system_admin");
  CreateUser("secadmin", root_, "security_admin");
  CreateUser("auditor", root_, "audit_admin");
  CreateUser("clerk_a", county_a_, "counter_clerk");
  CreateUser("clerk_b", county_b_, "counter_clerk");
  CreateUser("reader_a", county_a_, "meter_reader");
  CreateUser("manager", city_, "manager");

  std::promise<uint16_t> listening;
  auto fut = listening.get_future();
  server_ = std::thread([this, &listening] {
    Status s = app_->Serve(false, [&](uint16_t port) { listening.set_value(port); });
    if (!s.ok()) listening.set_value(0);
  });
  ASSERT_EQ(fut.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  port_ = fut.get();
  ASSERT_NE(port_, 0);
}

void ApiTest::TearDown() {
  if (app_) app_->Stop();
  if (server_.joinable()) server_.join();
  app_.reset();
}

int64_t ApiTest::CreateUser(const std::string& username, int64_t dept, const std::string& role) {
  org::UserInput in;
  in.username = username;
  in.display_name = username;
  in.department_id = dept;
  in.password = kPassword;
  in.roles = std::vector<std::string>{role};
  auto u = app_->org().CreateUser(org::Actor::System("test"), in);
  EXPECT_TRUE(u.ok()) << u.status().ToString();
  return u.ok() ? u->id : 0;
}

std::unique_ptr<HttpClient> ApiTest::LoginAs(const std::string& username) {
  auto c = std::make_unique<HttpClient>(port_);
  auto r =
      c->Post("/api/v1/auth/login", json{{"username", username}, {"password", kPassword}}.dump());
  EXPECT_EQ(r.status, 200) << username << ": " << r.body << r.error;
  return c;
}

json ApiTest::Json(const HttpResponse& r) {
  json j = json::parse(r.body, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << "not JSON: " << r.body.substr(0, 200);
  return j;
}

int64_t ApiTest::AuditCount() {
  auto n = app_->db().ReadValue<int64_t>(
      [](store::Connection& c) { return c.QueryInt("SELECT COUNT(*) FROM audit_log"); });
  EXPECT_TRUE(n.ok());
  return n.ok() ? *n : -1;
}

}  // namespace gridmis::testing
