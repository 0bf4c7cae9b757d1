// Tests of app/customer360.cc (GET /api/v1/customers/{id}). It lives here until app/ has a
// library and test target for it; it belongs in src/app/customer360_test.cc.
#include "app/customer360.h"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>

#include "acquisition/terminals.h"
#include "customer/customer.h"
#include "grid/grid.h"
#include "grid/testing.h"
#include "metering/metering.h"

namespace gridmis::app {
namespace {

using nlohmann::json;

class Customer360Test : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto u = grid::testing::TestUtility::Create(GetParam(), clock_);
    if (!u.ok() && GetParam() == "postgres" && !store::testing::PostgresRequiredForTest()) {
      GTEST_SKIP() << u.status().ToString();
    }
    ASSERT_TRUE(u.ok()) << u.status().ToString();
    u_ = std::move(*u);
    customers_ = std::make_unique<customer::CustomerService>(u_->db(), clock_);
    metering_ = std::make_unique<metering::MeteringService>(u_->db(), clock_);
    terminals_ = std::make_unique<acquisition::TerminalService>(u_->db(), clock_);
    const org::Actor sys = u_->system();

    grid::GridService grid(u_->db(), clock_);
    grid::SubstationInput s;
    s.code = "SUB-1";
    s.name = "集宁110kV变";
    s.voltage_v = 110'000;
    s.department_id = u_->county_a;
    auto sub = grid.CreateSubstation(sys, s);
    ASSERT_TRUE(sub.ok());
    grid::FeederInput f;
    f.code = "F-1";
    f.name = "新华线";
    f.substation_id = sub->id;
    auto feeder = grid.CreateFeeder(sys, f);
    ASSERT_TRUE(feeder.ok());
    grid::TransformerAreaInput ta;
    ta.code = "TA-1";
    ta.name = "幸福小区1号台区";
    ta.feeder_id = feeder->id;
    ta.capacity_kva = 630;
    auto area = grid.CreateTransformerArea(sys, ta);
    ASSERT_TRUE(area.ok());

    customer::CustomerInput c;
    c.customer_no = "1501000001";
    c.name = "集宁宏达机械厂";
    c.category = "large_industry";
    c.address = "集宁区工业园区8号";
    c.mobile = std::optional<std::string>("13947401234");
    c.id_doc_type = std::optional<std::string>("unified_credit_code");
    c.id_doc_no = std::optional<std::string>("91350100M000100Y43");
    c.department_id = u_->county_a;
    c.transformer_area_id = std::optional<int64_t>(area->id);
    auto cust = customers_->Create(sys, c);
    ASSERT_TRUE(cust.ok()) << cust.status().ToString();
    customer_ = *cust;
    ASSERT_TRUE(
        customers_->AddContact(sys, customer_.id, {.name = "赵厂长", .is_primary = true}).ok());
    customer::AccountInput acc;
    acc.account_no = "A-1501000001";
    acc.name = "集宁宏达机械厂";
    acc.payment_method = "bank_debit";
    acc.bank_name = std::optional<std::string>("中国农业银行集宁支行");
    acc.bank_account_no = std::optional<std::string>("6228480012345678");
    ASSERT_TRUE(customers_->CreateAccount(sys, customer_.id, acc).ok());

    metering::MeteringPointInput p;
    p.code = "MP-1";
    p.customer_id = customer_.id;
    p.voltage_v = 10'000;
    p.tariff_code = "LI-10";
    auto point = metering_->CreatePoint(sys, p);
    ASSERT_TRUE(point.ok()) << point.status().ToString();
    point_id_ = point->id;
    p.code = "MP-2";
    p.purpose = "check";
    ASSERT_TRUE(metering_->CreatePoint(sys, p).ok());
    auto meter = [&](const char* asset, const char* ct) {
      metering::MeterInput m;
      m.asset_no = asset;
      m.make = "威胜";
      m.model = "DSSD331";
      m.phases = 3;
      m.accuracy_class = "0.2S";
      m.registers = std::vector<std::string>{"total", "peak"};
      m.ct_ratio = ct;
      m.pt_ratio = "10000/100";
      m.department_id = u_->county_a;
      auto r = metering_->CreateMeter(sys, m);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      return r.ok() ? r->id : 0;
    };
    int64_t old_meter = meter("M-OLD", "50/5");
    new_meter_ = meter("M-NEW", "75/5");
    metering::Readings zero = {{"total", Energy::FromKwh(0)}, {"peak", Energy::FromKwh(0)}};
    auto inst = metering_->Install(sys, point_id_, {old_meter, clock_.NowMicros(), zero, "new"});
    ASSERT_TRUE(inst.ok()) << inst.status().ToString();
    clock_.Advance(30 * kMicrosPerDay);
    metering::ReplaceInput rep;
    rep.at_us = clock_.NowMicros();
    rep.remove_readings = {{"total", Energy::FromKwh(120)}, {"peak", Energy::FromKwh(50)}};
    rep.new_meter_id = new_meter_;
    rep.install_readings = zero;
    ASSERT_TRUE(metering_->Replace(sys, point_id_, rep).ok());

    acquisition::TerminalInput t;
    t.asset_no = "T-1";
    t.kind = "special_transformer";
    t.area_code = "1501";
    t.address = 12;
    t.customer_id = std::optional<int64_t>(customer_.id);
    auto terminal = terminals_->Create(sys, t);
    ASSERT_TRUE(terminal.ok()) << terminal.status().ToString();
    ASSERT_TRUE(terminals_->AddMeter(sys, terminal->id, {new_meter_, 7, {}, {}, {}}).ok());

    auto a = u_->MakeActor("clerk_a", u_->county_a, {"editor_below"});
    auto b = u_->MakeActor("clerk_b", u_->county_b, {"editor_below"});
    ASSERT_TRUE(a.ok() && b.ok());
    actors_["a"] = *a;
    actors_["b"] = *b;
    router_.SetAuthenticator([this](const http::Request& r) -> Result<org::Actor> {
      auto it = actors_.find(std::string(r.Header("authorization")));
      if (it == actors_.end()) return Unauthenticated("log in first");
      return it->second;
    });
    AddCustomer360Route(router_, *customers_, *metering_, *terminals_);
  }

  http::Response Get(const std::string& who, int64_t id) {
    http::Request r;
    r.method = "GET";
    r.path = r.target = "/api/v1/customers/" + std::to_string(id);
    r.headers.emplace_back("authorization", who);
    return router_.Handle(r);
  }

  FakeClock clock_{1'800'000'000'000'000};
  std::unique_ptr<grid::testing::TestUtility> u_;
  std::unique_ptr<customer::CustomerService> customers_;
  std::unique_ptr<metering::MeteringService> metering_;
  std::unique_ptr<acquisition::TerminalService> terminals_;
  customer::Customer customer_;
  int64_t point_id_ = 0, new_meter_ = 0;
  std::map<std::string, org::Actor> actors_;
  http::Router router_;
};

TEST_P(Customer360Test, EverythingAboutOneCustomer) {
  http::Response res = Get("a", customer_.id);
  ASSERT_EQ(res.status, 200) << res.body;
  json v = json::parse(res.body);
  EXPECT_EQ(v["customer"]["customer_no"], "1501000001");
  EXPECT_EQ(v["customer"]["mobile"], "13947401234");  // unmasked in the single record
  EXPECT_EQ(v["customer"]["id_doc_no"], "91350100M000100Y43");
  ASSERT_EQ(v["contacts"].size(), 1u);
  EXPECT_EQ(v["contacts"][0]["is_primary"], true);
  ASSERT_EQ(v["accounts"].size(), 1u);
  EXPECT_EQ(v["accounts"][0]["bank_account_no"], "6228480012345678");

  ASSERT_EQ(v["metering_points"].size(), 2u);
  const json& p = v["metering_points"][0];
  EXPECT_EQ(p["code"], "MP-1");
  EXPECT_EQ(p["current_meter"]["asset_no"], "M-NEW");
  EXPECT_EQ(p["current_meter"]["ct_ratio"], "75/5");
  EXPECT_EQ(p["current_meter"]["pt_ratio"], "10000/100");
  EXPECT_EQ(p["current_meter"]["multiplier"], 1500);
  EXPECT_EQ(p["current_meter"]["install_readings"]["total"], "0.00");
  ASSERT_EQ(p["installations"].size(), 2u);
  EXPECT_EQ(p["installations"][0]["install_reason"], "replacement");
  EXPECT_EQ(p["installations"][1]["meter"]["asset_no"], "M-OLD");
  EXPECT_EQ(p["installations"][1]["multiplier"], 1000);
  EXPECT_EQ(p["installations"][1]["remove_readings"]["total"], "120.00");
  EXPECT_TRUE(v["metering_points"][1]["current_meter"].is_null());
  EXPECT_TRUE(v["metering_points"][1]["installations"].empty());

  ASSERT_EQ(v["terminals"].size(), 1u);
  EXPECT_EQ(v["terminals"][0]["address_text"], "1501-00012");
  ASSERT_EQ(v["terminals"][0]["meters"].size(), 1u);
  EXPECT_EQ(v["terminals"][0]["meters"][0]["point_no"], 7);
  EXPECT_EQ(v["terminals"][0]["meters"][0]["meter_id"], new_meter_);
}

TEST_P(Customer360Test, OutsideTheScopeIsNotFound) {
  EXPECT_EQ(Get("b", customer_.id).status, 404);
  EXPECT_EQ(Get("a", customer_.id + 1000).status, 404);
  EXPECT_EQ(Get("nobody", customer_.id).status, 401);
  // "self": only a customer the user manages.
  auto self = u_->MakeActor("manager_a", u_->county_a, {"editor_self"});
  ASSERT_TRUE(self.ok());
  actors_["self"] = *self;
  EXPECT_EQ(Get("self", customer_.id).status, 404);
  customer::CustomerInput assign;
  assign.account_manager_id = std::optional<int64_t>(self->user_id);
  ASSERT_TRUE(customers_->Update(u_->system(), customer_.id, customer_.version, assign).ok());
  http::Response res = Get("self", customer_.id);
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(json::parse(res.body)["metering_points"].size(), 2u);
}

TEST_P(Customer360Test, SectionsFollowPermissions) {
  org::RoleInput role;
  role.code = "customer_only";
  role.name = "只看客户";
  role.data_scope = "department_and_below";
  role.permissions = std::vector<std::string>{"customer.read"};
  ASSERT_TRUE(u_->org().CreateRole(u_->system(), role).ok());
  auto reader = u_->MakeActor("reader", u_->county_a, {"customer_only"});
  ASSERT_TRUE(reader.ok());
  actors_["reader"] = *reader;
  http::Response res = Get("reader", customer_.id);
  ASSERT_EQ(res.status, 200) << res.body;
  json v = json::parse(res.body);
  EXPECT_EQ(v["accounts"].size(), 1u);
  EXPECT_FALSE(v.contains("metering_points"));
  EXPECT_FALSE(v.contains("terminals"));

  auto nobody = u_->MakeActor("no_rights", u_->county_a, {});
  ASSERT_TRUE(nobody.ok());
  actors_["no_rights"] = *nobody;
  EXPECT_EQ(Get("no_rights", customer_.id).status, 403);
}

TEST_P(Customer360Test, SchemaRefsResolve) {
  ASSERT_TRUE(router_.schemas().count("Customer360"));
  std::function<void(const json&)> walk = [&](const json& j) {
    if (j.is_object()) {
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (it.key() == "$ref") {
          std::string name = it.value().get<std::string>().substr(strlen("#/components/schemas/"));
          EXPECT_TRUE(router_.schemas().count(name)) << name;
        } else {
          walk(it.value());
        }
      }
    } else if (j.is_array()) {
      for (const auto& x : j) walk(x);
    }
  };
  for (const auto& [name, schema] : router_.schemas()) walk(schema);
}

INSTANTIATE_TEST_SUITE_P(Backends, Customer360Test,
                         ::testing::ValuesIn(store::testing::AvailableBackendsForTest()),
                         [](const auto& p) { return p.param; });

}  // namespace
}  // namespace gridmis::app
