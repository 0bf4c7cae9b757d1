#include "org/org.h"

#include <gtest/gtest.h>

#include "org/audit.h"
#include "org/migrations.h"
#include "store/testing.h"

namespace gridmis::org {
namespace {

class OrgTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto t = store::testing::TestDatabase::Create(GetParam());
    if (!t.ok() && GetParam() == "postgres" && !store::testing::PostgresRequiredForTest()) {
      GTEST_SKIP() << t.status().ToString();
    }
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    tdb_ = std::move(*t);
    ASSERT_TRUE(store::Migrate(tdb_->db(), Migrations(), 1, nullptr).ok());
    OrgOptions o;
    o.hash_strength = HashStrength::kMinimum;
    org_ = std::make_unique<OrgService>(tdb_->db(), clock_, o);
    ASSERT_TRUE(org_->EnsureBuiltinRoles().ok());
    sys_ = Actor::System("test");
    root_ = Dept("GS", "公司", "company", std::nullopt);
    city_ = Dept("GS01", "城区供电局", "city", root_);
    county_a_ = Dept("GS0101", "甲县", "county", city_);
    county_b_ = Dept("GS0102", "乙县", "county", city_);
    station_a_ = Dept("GS010101", "甲一所", "station", county_a_);
  }
  int64_t Dept(std::string code, std::string name, std::string kind,
               std::optional<int64_t> parent) {
    DepartmentInput in;
    in.code = code;
    in.name = name;
    in.kind = kind;
    in.parent_id = parent;
    auto d = org_->CreateDepartment(sys_, in);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return d.ok() ? d->id : 0;
  }
  Result<User> MakeUser(std::string name, int64_t dept, std::vector<std::string> roles,
                        std::string pw = "Passw0rd!x") {
    UserInput in;
    in.username = name;
    in.display_name = name;
    in.department_id = dept;
    in.password = pw;
    in.roles = roles;
    return org_->CreateUser(sys_, in);
  }

  FakeClock clock_{1'800'000'000'000'000};
  std::unique_ptr<store::testing::TestDatabase> tdb_;
  std::unique_ptr<OrgService> org_;
  Actor sys_;
  int64_t root_ = 0, city_ = 0, county_a_ = 0, county_b_ = 0, station_a_ = 0;
};

TEST_P(OrgTest, DepartmentTreeAndScope) {
  auto sub = org_->Subtree(county_a_);
  ASSERT_TRUE(sub.ok());
  EXPECT_EQ(*sub, (std::vector<int64_t>{county_a_, station_a_}));
  auto u = MakeUser("clerk_a", county_a_, {"counter_clerk"});
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  auto a = org_->LoadActor(u->id);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->scope, DataScope::kDepartmentAndBelow);
  EXPECT_TRUE(a->CanSee(station_a_));
  EXPECT_FALSE(a->CanSee(county_b_));
  EXPECT_FALSE(a->CanSee(city_));
  auto depts = org_->ListDepartments(*a);
  ASSERT_TRUE(depts.ok());
  ASSERT_EQ(depts->size(), 2u);
  EXPECT_EQ((*depts)[0].code, "GS0101");
  EXPECT_EQ(a->ScopeSql("c.department_id"), "c.department_id IN (" + std::to_string(county_a_) +
                                                "," + std::to_string(station_a_) + ")");
}

TEST_P(OrgTest, MovingADepartmentMovesItsSubtree) {
  auto d = org_->GetDepartment(sys_, county_a_);
  DepartmentInput in;
  in.parent_id = root_;
  auto moved = org_->UpdateDepartment(sys_, county_a_, d->version, in);
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  auto st = org_->GetDepartment(sys_, station_a_);
  EXPECT_EQ(st->path, "/" + std::to_string(root_) + "/" + std::to_string(county_a_) + "/" +
                          std::to_string(station_a_) + "/");
  // Under its own child: refused. With a stale version: conflict.
  in.parent_id = station_a_;
  EXPECT_EQ(org_->UpdateDepartment(sys_, county_a_, moved->version, in).status().field(),
            "parent_id");
  in.parent_id = city_;
  EXPECT_EQ(org_->UpdateDepartment(sys_, county_a_, d->version, in).status().code(),
            StatusCode::kAborted);
}

TEST_P(OrgTest, AdminRolesAreExclusive) {
  auto u = MakeUser("twohats", root_, {"system_admin", "audit_admin"}, "Adm1n!Passw0rd");
  EXPECT_EQ(u.status().field(), "roles");
  auto v = MakeUser("mixed", root_, {"security_admin", "counter_clerk"}, "Adm1n!Passw0rd");
  EXPECT_EQ(v.status().field(), "roles");
  auto w = MakeUser("sysadm", root_, {"system_admin"}, "short1!A");
  EXPECT_EQ(w.status().field(), "password");  // admins need 12 characters
  auto x = MakeUser("sysadm", root_, {"system_admin"}, "Adm1n!Passw0rd");
  ASSERT_TRUE(x.ok()) << x.status().ToString();
  auto a = org_->LoadActor(x->id);
  EXPECT_FALSE(a->Can("customer.read"));  // no business rights
  EXPECT_TRUE(a->Can("org.user.write"));
  // The system administrator creates accounts but cannot give roles.
  UserInput in;
  in.username = "newbie";
  in.display_name = "New";
  in.department_id = county_a_;
  in.password = "Passw0rd!x";
  in.roles = std::vector<std::string>{"counter_clerk"};
  EXPECT_EQ(org_->CreateUser(*a, in).status().code(), StatusCode::kPermissionDenied);
  in.roles.reset();
  EXPECT_TRUE(org_->CreateUser(*a, in).ok());
}

TEST_P(OrgTest, LockoutAfterFiveFailures) {
  ASSERT_TRUE(MakeUser("reader", county_a_, {"meter_reader"}).ok());
  for (int i = 0; i < 4; ++i) {
    auto s = org_->Login("reader", "wrong", "127.0.0.1", "t");
    EXPECT_EQ(s.status().code(), StatusCode::kUnauthenticated);
  }
  auto fifth = org_->Login("reader", "wrong", "127.0.0.1", "t");
  EXPECT_EQ(fifth.status().code(), StatusCode::kResourceExhausted);
  // Even the right password is refused while locked...
  EXPECT_EQ(org_->Login("reader", "Passw0rd!x", "127.0.0.1", "t").status().code(),
            StatusCode::kResourceExhausted);
  // ...and accepted after ten minutes.
  clock_.Advance(10 * kMicrosPerMinute + 1);
  EXPECT_TRUE(org_->Login("reader", "Passw0rd!x", "127.0.0.1", "t").ok());
}

TEST_P(OrgTest, SessionsExpireWhenIdleAndOnLogout) {
  auto u = MakeUser("clerk", county_a_, {"counter_clerk"});
  ASSERT_TRUE(u.ok());
  auto s = org_->Login("clerk", "Passw0rd!x", "1.2.3.4", "t");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(org_->AuthenticateSession(s->token, "1.2.3.4").ok());
  clock_.Advance(29 * kMicrosPerMinute);
  EXPECT_TRUE(org_->AuthenticateSession(s->token, "1.2.3.4").ok());  // activity extends it
  clock_.Advance(29 * kMicrosPerMinute);
  auto a = org_->AuthenticateSession(s->token, "1.2.3.4");
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(org_->Logout(*a, s->token).ok());
  EXPECT_EQ(org_->AuthenticateSession(s->token, "1.2.3.4").status().code(),
            StatusCode::kUnauthenticated);
  auto s2 = org_->Login("clerk", "Passw0rd!x", "1.2.3.4", "t");
  clock_.Advance(31 * kMicrosPerMinute);
  auto idle = org_->AuthenticateSession(s2->token, "1.2.3.4");
  EXPECT_EQ(idle.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(idle.status().message().find("without activity"), std::string::npos);
}

TEST_P(OrgTest, ApiTokensAuthenticateUntilRevoked) {
  auto u = MakeUser("bank_icbc", city_, {"billing_clerk"});
  ASSERT_TRUE(u.ok());
  auto t = org_->CreateApiToken(sys_, u->id, "ICBC collection", std::nullopt);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  auto a = org_->AuthenticateApiToken(t->token, "10.0.0.1");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->username, "bank_icbc");
  EXPECT_EQ(a->auth_method, "api_token");
  ASSERT_TRUE(org_->RevokeApiToken(sys_, t->id).ok());
  EXPECT_FALSE(org_->AuthenticateApiToken(t->token, "10.0.0.1").ok());
}

TEST_P(OrgTest, EveryWriteIsAuditedAndChained) {
  auto u = MakeUser("clerk", county_a_, {"counter_clerk"});
  ASSERT_TRUE(u.ok());
  UserInput in;
  in.display_name = "王小明";
  auto changed = org_->UpdateUser(sys_, u->id, u->version, in);
  ASSERT_TRUE(changed.ok());
  AuditQuery q;
  q.entity = "user";
  q.entity_id = std::to_string(u->id);
  auto page = ListAudit(tdb_->db(), sys_, q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->total, 2);
  EXPECT_EQ(page->items[0].action, "update");
  EXPECT_NE(page->items[0].before_json.find("\"display_name\":\"clerk\""), std::string::npos);
  EXPECT_NE(page->items[0].after_json.find("王小明"), std::string::npos);
  EXPECT_EQ(*VerifyAuditChain(tdb_->db()), 0);
  // Tampering is detected.
  ASSERT_TRUE(tdb_->db()
                  .Write([](store::Connection& c) {
                    return c.Exec("UPDATE audit_log SET username = 'nobody' WHERE id = 2").status();
                  })
                  .ok());
  EXPECT_EQ(*VerifyAuditChain(tdb_->db()), 2);
}

INSTANTIATE_TEST_SUITE_P(Backends, OrgTest,
                         ::testing::ValuesIn(store::testing::AvailableBackendsForTest()),
                         [](const auto& p) { return p.param; });

}  // namespace
}  // namespace gridmis::org
