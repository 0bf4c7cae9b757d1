// Tests of app/dashboard.cc (GET /api/v1/stats/overview): counts per data scope and permission.
#include "app/dashboard.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "acquisition/terminals.h"
#include "customer/customer.h"
#include "grid/grid.h"
#include "grid/testing.h"
#include "metering/metering.h"

namespace gridmis::app {
namespace {

using nlohmann::json;

class DashboardTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto u = grid::testing::TestUtility::Create(GetParam(), clock_);
    if (!u.ok() && GetParam() == "postgres" && !store::testing::PostgresRequiredForTest()) {
      GTEST_SKIP() << u.status().ToString();
    }
    ASSERT_TRUE(u.ok()) << u.status().ToString();
    u_ = std::move(*u);
    customer::CustomerService customers(u_->db(), clock_);
    metering::MeteringService metering(u_->db(), clock_);
    acquisition::TerminalService terminals(u_->db(), clock_);
    const org::Actor sys = u_->system();

    // County A: two residential customers at its station and one large industry at the county
    // office; county B: one commercial customer; the city office: one agricultural customer.
    int n = 0;
    auto customer = [&](int64_t dept, const char* category) {
      customer::CustomerInput c;
      c.customer_no = "15010000" + std::to_string(10 + n++);
      c.name = "客户" + std::to_string(n);
      c.category = category;
      c.address = "集宁区" + std::to_string(n) + "号";
      c.department_id = dept;
      auto r = customers.Create(sys, c);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      return r.ok() ? r->id : 0;
    };
    int64_t a1 = customer(u_->station_a, "residential");
    customer(u_->station_a, "residential");
    int64_t a3 = customer(u_->county_a, "large_industry");
    int64_t b1 = customer(u_->county_b, "commercial");
    customer(u_->city, "agricultural");

    auto point = [&](int64_t customer_id, const std::string& code) {
      metering::MeteringPointInput p;
      p.code = code;
      p.customer_id = customer_id;
      p.voltage_v = 220;
      p.tariff_code = "RES";
      auto r = metering.CreatePoint(sys, p);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
    };
    point(a1, "MP-A1");
    point(a3, "MP-A3");
    point(b1, "MP-B1");
    auto meter = [&](int64_t dept, const std::string& asset) {
      metering::MeterInput m;
      m.asset_no = asset;
      m.make = "威胜";
      m.model = "DDZY";
      m.phases = 1;
      m.accuracy_class = "2";
      m.registers = std::vector<std::string>{"total"};
      m.department_id = dept;
      auto r = metering.CreateMeter(sys, m);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
    };
    meter(u_->station_a, "M-A1");
    meter(u_->county_b, "M-B1");
    meter(u_->county_b, "M-B2");

    acquisition::TerminalInput t;
    t.asset_no = "T-A3";
    t.kind = "special_transformer";
    t.area_code = "1501";
    t.address = 3;
    t.customer_id = std::optional<int64_t>(a3);
    auto term = terminals.Create(sys, t);
    ASSERT_TRUE(term.ok()) << term.status().ToString();

    router_.SetAuthenticator([this](const http::Request& r) -> Result<org::Actor> {
      auto it = actors_.find(std::string(r.Header("authorization")));
      if (it == actors_.end()) return Unauthenticated("log in first");
      return it->second;
    });
    AddDashboardRoute(router_, u_->db());
  }

  void AddActor(const std::string& name, int64_t dept, const std::vector<std::string>& roles) {
    auto a = u_->MakeActor(name, dept, roles);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    actors_[name] = *a;
  }

  json Get(const std::string& who, int expect_status = 200) {
    http::Request r;
    r.method = "GET";
    r.path = r.target = "/api/v1/stats/overview";
    r.headers.emplace_back("authorization", who);
    http::Response res = router_.Handle(r);
    EXPECT_EQ(res.status, expect_status) << res.body;
    return json::parse(res.body);
  }

  FakeClock clock_{1'800'000'000'000'000};
  std::unique_ptr<grid::testing::TestUtility> u_;
  std::map<std::string, org::Actor> actors_;
  http::Router router_;
};

TEST_P(DashboardTest, CountyScopeCountsItsOwnRecords) {
  AddActor("clerk_a", u_->county_a, {"editor_below"});
  json v = Get("clerk_a");
  EXPECT_EQ(v["data_scope"], "department_and_below");
  EXPECT_EQ(v["customers"]["total"], 3);
  EXPECT_EQ(v["customers"]["by_category"]["residential"], 2);
  EXPECT_EQ(v["customers"]["by_category"]["large_industry"], 1);
  EXPECT_EQ(v["customers"]["by_category"]["commercial"], 0);  // every category is present
  ASSERT_EQ(v["customers_by_county"].size(), 1u);
  EXPECT_EQ(v["customers_by_county"][0]["department_id"], u_->county_a);
  EXPECT_EQ(v["customers_by_county"][0]["department_name"], "甲县供电分局");
  EXPECT_EQ(v["customers_by_county"][0]["total"], 3);
  EXPECT_EQ(v["metering_points"]["total"], 2);
  EXPECT_EQ(v["meters"]["total"], 1);
  EXPECT_EQ(v["meters"]["by_status"]["in_stock"], 1);
  EXPECT_EQ(v["terminals"]["total"], 1);
  EXPECT_EQ(v["terminals"]["by_kind"]["special_transformer"], 1);
  EXPECT_EQ(v["terminals"]["by_kind"]["public_transformer"], 0);
}

TEST_P(DashboardTest, CityScopeGroupsByCountyLargestFirst) {
  AddActor("manager", u_->city, {"editor_below"});
  json v = Get("manager");
  EXPECT_EQ(v["customers"]["total"], 5);
  const json& groups = v["customers_by_county"];
  ASSERT_EQ(groups.size(), 3u);  // county A, county B, and the city office itself
  EXPECT_EQ(groups[0]["department_id"], u_->county_a);
  EXPECT_EQ(groups[0]["total"], 3);
  EXPECT_EQ(groups[0]["by_category"]["residential"], 2);
  int64_t sum = 0;
  bool city_bucket = false;
  for (const json& g : groups) {
    sum += g["total"].get<int64_t>();
    if (g["department_id"] == u_->city) {
      city_bucket = true;
      EXPECT_EQ(g["by_category"]["agricultural"], 1);
      EXPECT_EQ(g["department_kind"], "city");
    }
  }
  EXPECT_EQ(sum, 5);
  EXPECT_TRUE(city_bucket);
  EXPECT_EQ(v["metering_points"]["total"], 3);
  EXPECT_EQ(v["meters"]["total"], 3);
}

TEST_P(DashboardTest, OtherCountySeesNoneOfCountyA) {
  AddActor("clerk_b", u_->county_b, {"editor_below"});
  json v = Get("clerk_b");
  EXPECT_EQ(v["customers"]["total"], 1);
  EXPECT_EQ(v["customers"]["by_category"]["commercial"], 1);
  EXPECT_EQ(v["metering_points"]["total"], 1);
  EXPECT_EQ(v["meters"]["total"], 2);
  EXPECT_EQ(v["terminals"]["total"], 0);
}

TEST_P(DashboardTest, SelfScopeCountsTheCustomersOneManages) {
  AddActor("mgr_self", u_->county_a, {"editor_self"});
  json v = Get("mgr_self");
  EXPECT_EQ(v["data_scope"], "self");
  EXPECT_EQ(v["customers"]["total"], 0);
  EXPECT_EQ(v["metering_points"]["total"], 0);
  // meters and terminals are department assets: "self" is the user's own department
  EXPECT_EQ(v["terminals"]["total"], 1);
}

TEST_P(DashboardTest, SectionsFollowPermissions) {
  org::RoleInput role;
  role.code = "customer_only";
  role.name = "只看客户";
  role.data_scope = "department_and_below";
  role.permissions = std::vector<std::string>{"customer.read"};
  ASSERT_TRUE(u_->org().CreateRole(u_->system(), role).ok());
  AddActor("reader", u_->county_a, {"customer_only"});
  json v = Get("reader");
  EXPECT_EQ(v["customers"]["total"], 3);
  EXPECT_FALSE(v.contains("metering_points"));
  EXPECT_FALSE(v.contains("meters"));
  EXPECT_FALSE(v.contains("terminals"));

  // An account without business permissions (as the 三员 administrators are) gets no figures.
  AddActor("no_business", u_->root, {});
  json admin = Get("no_business");
  EXPECT_FALSE(admin.contains("customers"));
  EXPECT_FALSE(admin.contains("customers_by_county"));
  EXPECT_FALSE(admin.contains("terminals"));
  EXPECT_TRUE(admin.contains("data_scope"));
  EXPECT_EQ(admin["department_id"], u_->root);

  Get("nobody", 401);
}

TEST_P(DashboardTest, SchemaIsAnObjectSchema) {
  ASSERT_TRUE(router_.schemas().count("StatsOverview"));
  const json& s = router_.schemas().at("StatsOverview");
  ASSERT_TRUE(s["properties"].is_object());
  EXPECT_TRUE(s["properties"]["customers_by_county"]["items"]["properties"].is_object());
}

INSTANTIATE_TEST_SUITE_P(Backends, DashboardTest,
                         ::testing::ValuesIn(store::testing::AvailableBackendsForTest()),
                         [](const auto& p) { return p.param; });

}  // namespace
}  // namespace gridmis::app
