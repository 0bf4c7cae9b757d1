#include "metering/metering.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "customer/customer.h"
#include "grid/grid.h"
#include "grid/testing.h"
#include "metering/routes.h"
#include "org/audit.h"

namespace gridmis::metering {
namespace {

using nlohmann::json;

TEST(RatioTest, ParseAndMultiplier) {
  auto ct = Ratio::Parse("200/5", "ct_ratio");
  ASSERT_TRUE(ct.ok());
  EXPECT_EQ(ct->primary, 200);
  EXPECT_EQ(ct->secondary, 5);
  auto pt = Ratio::Parse("10000/100", "pt_ratio");
  ASSERT_TRUE(pt.ok());
  EXPECT_EQ(*Multiplier(*ct, *pt), 4000);
  EXPECT_EQ(*Multiplier(Ratio{75, 5}, Ratio{}), 15);
  for (const char* bad :
       {"200", "0/5", "200/0", "-200/5", "200/5/1", "2e2/5", "", "01/5", "2000000/5"}) {
    auto r = Ratio::Parse(bad, "ct_ratio");
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().field(), "ct_ratio") << bad;
  }
  auto fractional = Multiplier(Ratio{200, 3}, Ratio{});
  EXPECT_EQ(fractional.status().field(), "ct_ratio");
  EXPECT_NE(fractional.status().message().find("200/3"), std::string::npos);
  EXPECT_EQ(*Multiplier(Ratio{100, 3}, Ratio{3, 1}), 100);  // whole overall: accepted
}

TEST(RatioTest, FormatKwh) {
  EXPECT_EQ(FormatKwh(Energy::FromDwh(12'345'600)), "1234.56");
  EXPECT_EQ(FormatKwh(Energy::FromDwh(12'345'678)), "1234.5678");
  EXPECT_EQ(FormatKwh(Energy::FromDwh(12'345'670)), "1234.567");
  EXPECT_EQ(FormatKwh(Energy::FromDwh(0)), "0.00");
}

Readings R(std::initializer_list<std::pair<const std::string, const char*>> values) {
  Readings out;
  for (const auto& [reg, kwh] : values) out[reg] = Energy::ParseKwh(kwh).value();
  return out;
}

class MeteringTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto u = grid::testing::TestUtility::Create(GetParam(), clock_);
    if (!u.ok() && GetParam() == "postgres" && !store::testing::PostgresRequiredForTest()) {
      GTEST_SKIP() << u.status().ToString();
    }
    ASSERT_TRUE(u.ok()) << u.status().ToString();
    u_ = std::move(*u);
    sys_ = u_->system();
    grid_ = std::make_unique<grid::GridService>(u_->db(), clock_);
    customers_ = std::make_unique<customer::CustomerService>(u_->db(), clock_);
    service_ = std::make_unique<MeteringService>(u_->db(), clock_);
    for (auto [dept, suffix] : {std::pair{u_->county_a, "A"}, std::pair{u_->county_b, "B"}}) {
      grid::SubstationInput s;
      s.code = std::string("SUB-") + suffix;
      s.name = *s.code;
      s.voltage_v = 35'000;
      s.department_id = dept;
      auto sub = grid_->CreateSubstation(sys_, s);
      ASSERT_TRUE(sub.ok());
      grid::FeederInput f;
      f.code = std::string("F-") + suffix;
      f.name = *f.code;
      f.substation_id = sub->id;
      auto feeder = grid_->CreateFeeder(sys_, f);
      ASSERT_TRUE(feeder.ok());
      grid::TransformerAreaInput a;
      a.code = std::string("TA-") + suffix;
      a.name = *a.code;
      a.feeder_id = feeder->id;
      a.capacity_kva = 400;
      auto area = grid_->CreateTransformerArea(sys_, a);
      ASSERT_TRUE(area.ok());
      customer::CustomerInput c;
      c.customer_no = std::string(suffix) == "A" ? "1501000001" : "1502000001";
      c.name = std::string("客户") + suffix;
      c.category = "commercial";
      c.address = "幸福路1号";
      c.department_id = dept;
      c.transformer_area_id = std::optional<int64_t>(area->id);
      auto cust = customers_->Create(sys_, c);
      ASSERT_TRUE(cust.ok()) << cust.status().ToString();
      (dept == u_->county_a ? area_a_ : area_b_) = area->id;
      (dept == u_->county_a ? customer_a_ : customer_b_) = cust->id;
    }
    auto a = u_->MakeActor("metering_a", u_->county_a, {"editor_below"});
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    clerk_a_ = *a;
    clock_.Advance(kMicrosPerDay);
  }

  MeteringPoint MakePoint(const std::string& code, int64_t customer_id) {
    MeteringPointInput in;
    in.code = code;
    in.customer_id = customer_id;
    in.voltage_v = 380;
    in.tariff_code = "GS-COM-1";
    auto p = service_->CreatePoint(sys_, in);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? *p : MeteringPoint{};
  }
  Meter MakeMeter(const std::string& asset_no, int64_t dept,
                  std::vector<std::string> registers = {"total", "peak", "valley", "max_demand"},
                  const char* ct = nullptr) {
    MeterInput in;
    in.asset_no = asset_no;
    in.make = "威胜";
    in.model = "DTZ341";
    in.phases = 3;
    in.accuracy_class = "0.5S";
    in.registers = registers;
    if (ct) in.ct_ratio = ct;
    in.department_id = dept;
    auto m = service_->CreateMeter(sys_, in);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? *m : Meter{};
  }
  int64_t Ago(int64_t hours) { return clock_.NowMicros() - hours * 3600 * kMicrosPerSecond; }

  FakeClock clock_{1'800'000'000'000'000};
  std::unique_ptr<grid::testing::TestUtility> u_;
  std::unique_ptr<grid::GridService> grid_;
  std::unique_ptr<customer::CustomerService> customers_;
  std::unique_ptr<MeteringService> service_;
  org::Actor sys_;
  org::Actor clerk_a_;
  int64_t area_a_ = 0, area_b_ = 0, customer_a_ = 0, customer_b_ = 0;
};

TEST_P(MeteringTest, MeteringPointsFollowTheirCustomer) {
  MeteringPointInput in;
  in.code = "MP-A-001";
  in.customer_id = customer_a_;
  in.voltage_v = 10'000;
  in.tariff_code = "GS-LI-10";
  in.contracted_capacity_kva = 630;
  in.pf_standard = "0.90";
  auto p = service_->CreatePoint(clerk_a_, in);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->department_id, u_->county_a);  // the customer's
  EXPECT_EQ(p->transformer_area_id, area_a_);
  EXPECT_EQ(p->customer_no, "1501000001");
  EXPECT_EQ(grid_->GetTransformerArea(sys_, area_a_)->metering_point_count, 1);

  auto dup = service_->CreatePoint(clerk_a_, in);
  EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(dup.status().field(), "code");
  in.code = "MP-B-001";
  in.customer_id = customer_b_;
  EXPECT_EQ(service_->CreatePoint(clerk_a_, in).status().field(), "customer_id");
  in.customer_id = customer_a_;
  in.voltage_v = 400;
  EXPECT_EQ(service_->CreatePoint(clerk_a_, in).status().field(), "voltage_v");
  in.voltage_v = 380;
  in.pf_standard = "0.95";
  EXPECT_EQ(service_->CreatePoint(clerk_a_, in).status().field(), "pf_standard");
  in.pf_standard.reset();
  in.transformer_area_id = std::optional<int64_t>(area_b_);
  EXPECT_EQ(service_->CreatePoint(clerk_a_, in).status().field(), "transformer_area_id");

  MeteringPoint b = MakePoint("MP-B-001", customer_b_);
  EXPECT_EQ(service_->GetPoint(clerk_a_, b.id).status().code(), StatusCode::kNotFound);
  grid::CappedCount total;
  auto list = service_->ListPoints(clerk_a_, {}, &total);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(total.total, 1);
  EXPECT_FALSE(total.capped);
  list = service_->ListPoints(sys_, {.q = "MP-"}, &total);
  EXPECT_EQ(total.total, 2);
  list = service_->ListPoints(sys_, {.q = "MP-B"}, &total);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].id, b.id);

  // A "self" user sees the points of the customers they manage.
  auto self = u_->MakeActor("manager_a", u_->county_a, {"editor_self"});
  ASSERT_TRUE(self.ok());
  EXPECT_EQ(service_->GetPoint(*self, p->id).status().code(), StatusCode::kNotFound);
  customer::CustomerInput assign;
  assign.account_manager_id = std::optional<int64_t>(self->user_id);
  ASSERT_TRUE(customers_->Update(sys_, customer_a_, 1, assign).ok());
  EXPECT_TRUE(service_->GetPoint(*self, p->id).ok());
  EXPECT_EQ(service_->PointsOfCustomer(*self, customer_a_)->size(), 1u);
  EXPECT_TRUE(service_->PointsOfCustomer(*self, customer_b_)->empty());

  MeteringPointInput change;
  change.contracted_capacity_kva = 800;
  auto changed = service_->UpdatePoint(clerk_a_, p->id, p->version, change);
  ASSERT_TRUE(changed.ok()) << changed.status().ToString();
  EXPECT_EQ(service_->UpdatePoint(clerk_a_, p->id, p->version, change).status().code(),
            StatusCode::kAborted);
  change.customer_id = customer_b_;
  EXPECT_EQ(service_->UpdatePoint(clerk_a_, p->id, changed->version, change).status().field(),
            "customer_id");
  org::AuditQuery q;
  q.entity = "metering_point";
  q.entity_id = std::to_string(p->id);
  auto audit = org::ListAudit(u_->db(), sys_, q);
  ASSERT_EQ(audit->total, 2);
  EXPECT_EQ(json::parse(audit->items[0].before_json)["contracted_capacity_kva"], 630);
  EXPECT_EQ(json::parse(audit->items[0].after_json)["contracted_capacity_kva"], 800);
}

TEST_P(MeteringTest, MeterValidationAndMultiplier) {
  MeterInput in;
  in.asset_no = "3330001000001";
  in.make = "林洋";
  in.model = "DTZ71";
  in.phases = 3;
  in.accuracy_class = "0.5S";
  in.registers = std::vector<std::string>{"valley", "total", "peak"};
  in.ct_ratio = "200/5";
  in.pt_ratio = "10000/100";
  in.comm_address = std::optional<std::string>("000012345678");
  in.department_id = u_->county_a;
  auto m = service_->CreateMeter(clerk_a_, in);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->multiplier, 4000);
  EXPECT_EQ(m->registers, (std::vector<std::string>{"total", "peak", "valley"}));
  EXPECT_EQ(m->status, "in_stock");
  EXPECT_EQ(ToJson(*m)["ct_ratio"], "200/5");
  auto dup = service_->CreateMeter(clerk_a_, in);
  EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(dup.status().field(), "asset_no");

  auto field = [&](std::function<void(MeterInput&)> edit) {
    MeterInput bad = in;
    bad.asset_no = "3330001000002";
    edit(bad);
    return service_->CreateMeter(clerk_a_, bad).status().field();
  };
  EXPECT_EQ(field([](auto& b) { b.ct_ratio = "200/3"; }), "ct_ratio");
  EXPECT_EQ(field([](auto& b) { b.pt_ratio = "10kV/100V"; }), "pt_ratio");
  EXPECT_EQ(field([](auto& b) { b.registers = std::vector<std::string>{}; }), "registers");
  EXPECT_EQ(field([](auto& b) {
              b.registers = std::vector<std::string>{"total", "sharpest"};
            }),
            "registers[1]");
  EXPECT_EQ(field([](auto& b) {
              b.registers = std::vector<std::string>{"total", "total"};
            }),
            "registers[1]");
  EXPECT_EQ(field([](auto& b) { b.phases = 2; }), "phases");
  EXPECT_EQ(field([](auto& b) { b.accuracy_class = "0.1"; }), "accuracy_class");
  EXPECT_EQ(field([](auto& b) { b.comm_address = std::optional<std::string>("12345"); }),
            "comm_address");
  EXPECT_EQ(field([](auto& b) { b.status = "installed"; }), "status");
  EXPECT_EQ(field([](auto& b) { b.production_date = std::optional<std::string>("2026-13-01"); }),
            "production_date");
  EXPECT_EQ(field([&](auto& b) { b.department_id = u_->county_b; }), "department_id");

  grid::CappedCount total;
  auto found = service_->ListMeters(sys_, {.q = "0000123"}, &total);  // by comm address
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 1u);
  found = service_->ListMeters(sys_, {.q = "33300010"}, &total);  // by asset number
  EXPECT_EQ(total.total, 1);
  auto b_user = u_->MakeActor("metering_b", u_->county_b, {"editor_below"});
  ASSERT_TRUE(b_user.ok());
  EXPECT_EQ(service_->GetMeter(*b_user, m->id).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(service_->ListMeters(*b_user, {}, &total)->empty());

  // Stock transitions: in_stock -> scrapped is final.
  MeterInput scrap;
  scrap.status = "scrapped";
  auto scrapped = service_->UpdateMeter(clerk_a_, m->id, m->version, scrap);
  ASSERT_TRUE(scrapped.ok()) << scrapped.status().ToString();
  MeterInput restock;
  restock.status = "in_stock";
  auto refused = service_->UpdateMeter(clerk_a_, m->id, scrapped->version, restock);
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.status().field(), "status");
  EXPECT_EQ(service_->UpdateMeter(clerk_a_, m->id, m->version, scrap).status().code(),
            StatusCode::kAborted);
}

TEST_P(MeteringTest, InstallReplaceAndRemoveKeepHistory) {
  MeteringPoint p = MakePoint("MP-A-001", customer_a_);
  Meter m1 = MakeMeter("M-0001", u_->county_a, {"total", "peak", "valley", "max_demand"}, "200/5");
  Meter m2 = MakeMeter("M-0002", u_->county_a, {"total", "peak", "valley", "max_demand"});

  InstallInput in;
  in.meter_id = m1.id;
  in.installed_at_us = Ago(20);
  in.readings = R({{"total", "100.5"}, {"peak", "40"}, {"valley", "60.5"}});
  EXPECT_EQ(service_->Install(clerk_a_, p.id, in).status().field(), "readings.max_demand");
  in.readings["max_demand"] = Energy::ParseKwh("1.2").value();
  in.readings["sharp"] = Energy::ParseKwh("0").value();
  EXPECT_EQ(service_->Install(clerk_a_, p.id, in).status().field(), "readings.sharp");
  in.readings.erase("sharp");
  in.installed_at_us = clock_.NowMicros() + kMicrosPerMinute;
  EXPECT_EQ(service_->Install(clerk_a_, p.id, in).status().field(), "installed_at");
  in.installed_at_us = Ago(20);
  auto first = service_->Install(clerk_a_, p.id, in);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->multiplier, 40);
  EXPECT_EQ(first->install_readings.at("total").dwh(), 1'005'000);
  EXPECT_EQ(first->installed_by, clerk_a_.user_id);
  EXPECT_EQ(service_->GetMeter(sys_, m1.id)->status, "installed");
  EXPECT_EQ(service_->GetPoint(sys_, p.id)->current_meter_asset_no, "M-0001");

  // One meter per point, one point per meter.
  in.meter_id = m2.id;
  EXPECT_EQ(service_->Install(clerk_a_, p.id, in).status().code(), StatusCode::kFailedPrecondition);
  MeteringPoint p2 = MakePoint("MP-A-002", customer_a_);
  in.meter_id = m1.id;
  auto twice = service_->Install(clerk_a_, p2.id, in);
  EXPECT_EQ(twice.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(twice.status().field(), "meter_id");
  // The database refuses a second open installation even if a service check were skipped.
  Status raw = u_->db().Write([&](store::Connection& c) {
    return c
        .Exec(
            "INSERT INTO meter_installations (meter_id, metering_point_id, "
            "installed_at_us, created_at_us, updated_at_us) VALUES ($1, $2, 1, 1, 1)",
            {m2.id, p.id})
        .status();
  });
  EXPECT_EQ(raw.code(), StatusCode::kAlreadyExists);

  // Ratios and registers are fixed while installed.
  Meter installed = *service_->GetMeter(sys_, m1.id);
  MeterInput recalibrate;
  recalibrate.ct_ratio = "300/5";
  EXPECT_EQ(service_->UpdateMeter(clerk_a_, m1.id, installed.version, recalibrate).status().field(),
            "ct_ratio");

  // A replacement with a removal reading below the installation reading changes nothing.
  ReplaceInput rep;
  rep.at_us = Ago(2);
  rep.remove_readings =
      R({{"total", "99"}, {"peak", "41"}, {"valley", "61"}, {"max_demand", "0.8"}});
  rep.new_meter_id = m2.id;
  rep.install_readings = R({{"total", "0"}, {"peak", "0"}, {"valley", "0"}, {"max_demand", "0"}});
  auto bad = service_->Replace(clerk_a_, p.id, rep);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().field(), "remove_readings.total");
  EXPECT_NE(bad.status().message().find("100.50"), std::string::npos) << bad.status().message();
  EXPECT_EQ(service_->GetMeter(sys_, m1.id)->status, "installed");
  EXPECT_EQ(service_->GetMeter(sys_, m2.id)->status, "in_stock");
  EXPECT_EQ(service_->ListInstallations(sys_, p.id)->size(), 1u);
  // The new meter's readings are checked too (and named as such).
  rep.remove_readings["total"] = Energy::ParseKwh("1500.25").value();
  rep.install_readings.erase("valley");
  EXPECT_EQ(service_->Replace(clerk_a_, p.id, rep).status().field(), "install_readings.valley");
  rep.install_readings["valley"] = Energy::FromDwh(0);
  // max_demand may be lower at removal: it is not cumulative.
  auto replaced = service_->Replace(clerk_a_, p.id, rep);
  ASSERT_TRUE(replaced.ok()) << replaced.status().ToString();
  EXPECT_EQ(replaced->removed.id, first->id);
  EXPECT_EQ(replaced->removed.remove_reason, "fault");
  EXPECT_EQ(replaced->installed.install_reason, "replacement");
  EXPECT_EQ(replaced->installed.installed_at_us, rep.at_us);
  EXPECT_EQ(service_->GetMeter(sys_, m1.id)->status, "removed");
  EXPECT_EQ(service_->GetMeter(sys_, m2.id)->status, "installed");

  // After removal the old meter can be re-fitted; its history keeps the ratio it was used with.
  installed = *service_->GetMeter(sys_, m1.id);
  auto refit = service_->UpdateMeter(clerk_a_, m1.id, installed.version, recalibrate);
  ASSERT_TRUE(refit.ok()) << refit.status().ToString();
  EXPECT_EQ(refit->multiplier, 60);
  auto history = service_->ListInstallations(clerk_a_, p.id);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].meter.asset_no, "M-0002");
  EXPECT_FALSE((*history)[0].removed_at_us.has_value());
  EXPECT_EQ((*history)[1].meter.asset_no, "M-0001");
  EXPECT_EQ((*history)[1].multiplier, 40);
  EXPECT_EQ((*history)[1].ct.ToString(), "200/5");
  EXPECT_EQ((*history)[1].meter.multiplier, 60);
  EXPECT_EQ((*history)[1].remove_readings.at("total").dwh(), 15'002'500);
  EXPECT_EQ((*history)[1].remove_readings.at("max_demand").dwh(), 8'000);

  // Removing the new meter: time and readings are checked; a rollover is accepted when stated.
  RemoveInput rm;
  rm.removed_at_us = Ago(3);  // before it was installed
  rm.readings = R({{"total", "5"}, {"peak", "2"}, {"valley", "3"}, {"max_demand", "0.5"}});
  rm.reason = "closure";
  EXPECT_EQ(service_->Remove(clerk_a_, replaced->installed.id, rm).status().field(), "removed_at");
  rm.removed_at_us = Ago(1);
  rm.reason = "stolen";
  EXPECT_EQ(service_->Remove(clerk_a_, replaced->installed.id, rm).status().field(), "reason");
  rm.reason = "closure";
  auto removed = service_->Remove(clerk_a_, replaced->installed.id, rm);
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(removed->removed_by, clerk_a_.user_id);
  EXPECT_EQ(service_->Remove(clerk_a_, replaced->installed.id, rm).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_FALSE(service_->GetPoint(sys_, p.id)->current_meter_id.has_value());

  // The removed meter goes up at another point, not before it came down.
  in.meter_id = m1.id;
  in.installed_at_us = Ago(5);
  in.readings = R({{"total", "1500.25"}, {"peak", "41"}, {"valley", "61"}, {"max_demand", "0"}});
  EXPECT_EQ(service_->Install(clerk_a_, p2.id, in).status().field(), "installed_at");
  in.installed_at_us = Ago(1);
  in.reason = "rotation";
  ASSERT_TRUE(service_->Install(clerk_a_, p2.id, in).ok());

  auto both = service_->InstallationsOfPoints(clerk_a_, {p2.id, p.id, p.id});
  ASSERT_TRUE(both.ok());
  ASSERT_EQ(both->size(), 3u);
  EXPECT_EQ((*both)[0].metering_point_id, std::min(p.id, p2.id));
  auto current = service_->InstallationsOfPoints(clerk_a_, {p.id, p2.id}, true);
  ASSERT_EQ(current->size(), 1u);
  EXPECT_EQ((*current)[0].meter.asset_no, "M-0001");
  EXPECT_EQ((*current)[0].multiplier, 60);

  // Another county sees none of it.
  auto b_user = u_->MakeActor("metering_b", u_->county_b, {"editor_below"});
  ASSERT_TRUE(b_user.ok());
  EXPECT_EQ(service_->ListInstallations(*b_user, p.id).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(service_->InstallationsOfPoints(*b_user, {p.id, p2.id})->empty());
  EXPECT_EQ(service_->Remove(*b_user, (*current)[0].id, rm).status().code(), StatusCode::kNotFound);

  org::AuditQuery q;
  q.entity = "meter_installation";
  q.entity_id = std::to_string(first->id);
  auto audit = org::ListAudit(u_->db(), sys_, q);
  ASSERT_EQ(audit->total, 2);
  EXPECT_EQ(audit->items[0].action, "remove");
  EXPECT_TRUE(json::parse(audit->items[0].before_json)["removed_at"].is_null());
  EXPECT_EQ(json::parse(audit->items[0].after_json)["remove_readings"]["total"], "1500.25");
  EXPECT_EQ(audit->items[1].action, "install");
  q.entity = "meter";
  q.entity_id = std::to_string(m1.id);
  audit = org::ListAudit(u_->db(), sys_, q);
  EXPECT_EQ(audit->total, 5);  // create, installed, removed, re-fitted, installed
}

TEST_P(MeteringTest, RolloverIsAcceptedWhenStated) {
  MeteringPoint p = MakePoint("MP-A-001", customer_a_);
  Meter m = MakeMeter("M-0001", u_->county_a, {"total"});
  auto inst = service_->Install(sys_, p.id, {m.id, Ago(10), R({{"total", "999990"}}), "new"});
  ASSERT_TRUE(inst.ok()) << inst.status().ToString();
  RemoveInput rm{Ago(1), R({{"total", "12.5"}}), "fault", false};
  EXPECT_EQ(service_->Remove(sys_, inst->id, rm).status().field(), "readings.total");
  rm.rollover = true;
  EXPECT_TRUE(service_->Remove(sys_, inst->id, rm).ok());
}

TEST_P(MeteringTest, ListsPlanByCappedCounts) {
  // 10,500 meters in bulk: every 7th in county B, every 1000th in stock (the rest removed).
  ASSERT_TRUE(u_->db()
                  .Write([&](store::Connection& c) -> Status {
                    ASSIGN_OR_RETURN(
                        auto stmt,
                        c.Prepare("INSERT INTO meters (asset_no, make, model, phases, "
                                  "accuracy_class, registers, comm_address, status, "
                                  "department_id, created_at_us, updated_at_us) VALUES ($1, 'x', "
                                  "'y', 3, '1', 'total', $2, $3, $4, 1, 1)"));
                    for (int i = 0; i < 10'500; ++i) {
                      char asset[16], addr[16];
                      std::snprintf(asset, sizeof asset, "A%07d", i);
                      std::snprintf(addr, sizeof addr, "%012d", 999'999 - i);
                      RETURN_IF_ERROR(stmt->Run({std::string(asset), std::string(addr),
                                                 i % 1000 == 0 ? "in_stock" : "removed",
                                                 i % 7 == 0 ? u_->county_b : u_->county_a})
                                          .status());
                    }
                    return Status::Ok();
                  })
                  .ok());
  auto first = [&](const org::Actor& who, const MeterQuery& q, int64_t want_total, bool capped) {
    grid::CappedCount total;
    auto list = service_->ListMeters(who, q, &total);
    EXPECT_TRUE(list.ok()) << list.status().ToString();
    EXPECT_EQ(total.total, want_total) << q.q << " " << q.status;
    EXPECT_EQ(total.capped, capped) << q.q << " " << q.status;
    return list.ok() && !list->empty() ? list->front().asset_no : "";
  };
  EXPECT_EQ(first(sys_, {}, 10'000, true), "A0000000");
  EXPECT_EQ(first(sys_, {.q = "A00"}, 10'000, true), "A0000000");
  EXPECT_EQ(first(sys_, {.q = "A001", .page = 2, .page_size = 10}, 500, false), "A0010010");
  EXPECT_EQ(first(sys_, {.q = "000000999999"}, 1, false), "A0000000");  // by comm address
  EXPECT_EQ(first(sys_, {.status = "in_stock"}, 11, false), "A0000000");
  EXPECT_EQ(first(sys_, {.status = "removed", .page = 2, .page_size = 5}, 10'000, true),
            "A0000006");
  // County A's user: 9,000 of them, through the department index.
  EXPECT_EQ(first(clerk_a_, {}, 9000, false), "A0000001");
  EXPECT_EQ(first(clerk_a_, {.status = "in_stock"}, 9, false), "A0001000");
  auto b_user = u_->MakeActor("metering_b", u_->county_b, {"editor_below"});
  ASSERT_TRUE(b_user.ok());
  EXPECT_EQ(first(*b_user, {.q = "A00", .page = 2, .page_size = 3}, 1500, false), "A0000021");
  // A city-wide user: the restriction excludes no meter.
  auto city = u_->MakeActor("metering_city", u_->city, {"editor_below"});
  ASSERT_TRUE(city.ok());
  EXPECT_EQ(first(*city, {.page = 3, .page_size = 4}, 10'000, true), "A0000008");
}

// ---- Routes ----

class MeteringRoutesTest : public MeteringTest {
 protected:
  void SetUp() override {
    MeteringTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    router_.SetAuthenticator(
        [this](const http::Request&) -> Result<org::Actor> { return clerk_a_; });
    AddRoutes(router_, *service_);
  }
  json Call(std::string method, std::string target, std::string body, int want) {
    http::Request r;
    r.method = std::move(method);
    r.path = target.substr(0, target.find('?'));
    r.target = target;
    if (target.find('?') != std::string::npos) {
      http::ParseQueryString(target.substr(target.find('?') + 1), &r.query);
    }
    r.body = std::move(body);
    if (!r.body.empty()) r.headers.emplace_back("content-type", "application/json");
    http::Response res = router_.Handle(r);
    EXPECT_EQ(res.status, want) << r.method << " " << target << ": " << res.body;
    return json::parse(res.body);
  }
  http::Router router_;
};

TEST_P(MeteringRoutesTest, InstallReplaceRemoveOverHttp) {
  std::string dept = std::to_string(u_->county_a);
  json point = Call("POST", "/api/v1/metering-points",
                    R"({"code":"MP-1","customer_id":)" + std::to_string(customer_a_) +
                        R"(,"voltage_v":10000,"tariff_code":"LI-10","metering_side":"high"})",
                    201);
  std::string pid = std::to_string(point["id"].get<int64_t>());
  json m1 = Call("POST", "/api/v1/meters",
                 R"({"asset_no":"M-1","make":"威胜","model":"DSZ331","phases":3,)"
                 R"("accuracy_class":"0.2S","registers":["total","peak"],"ct_ratio":"75/5",)"
                 R"("pt_ratio":"10000/100","department_id":)" +
                     dept + "}",
                 201);
  EXPECT_EQ(m1["multiplier"], 1500);
  json m2 = Call("POST", "/api/v1/meters",
                 R"({"asset_no":"M-2","make":"威胜","model":"DSZ331","phases":3,)"
                 R"("accuracy_class":"0.2S","registers":["total","peak"],"department_id":)" +
                     dept + "}",
                 201);
  json err = Call("POST", "/api/v1/meters",
                  R"({"asset_no":"M-3","make":"x","model":"y","phases":3,"accuracy_class":"1",)"
                  R"("registers":["total"],"ct_ratio":"100/3","department_id":)" +
                      dept + "}",
                  400);
  EXPECT_EQ(err["error"]["field"], "ct_ratio");

  std::string m1_id = std::to_string(m1["id"].get<int64_t>());
  std::string m2_id = std::to_string(m2["id"].get<int64_t>());
  std::string at = FormatUtc(Ago(10));
  err = Call("POST", "/api/v1/metering-points/" + pid + "/install",
             R"({"meter_id":)" + m1_id + R"(,"installed_at":")" + at +
                 R"(","readings":{"total":"12.3.4","peak":"1"}})",
             400);
  EXPECT_EQ(err["error"]["field"], "readings.total");
  err = Call("POST", "/api/v1/metering-points/" + pid + "/install",
             R"({"meter_id":)" + m1_id + R"(,"installed_at":"yesterday","readings":{}})", 400);
  EXPECT_EQ(err["error"]["field"], "installed_at");
  json inst = Call("POST", "/api/v1/metering-points/" + pid + "/install",
                   R"({"meter_id":)" + m1_id + R"(,"installed_at":")" + at +
                       R"(","readings":{"total":"1234.56","peak":"300"}})",
                   201);
  EXPECT_EQ(inst["install_readings"]["total"], "1234.56");
  EXPECT_EQ(inst["multiplier"], 1500);
  EXPECT_EQ(inst["meter"]["asset_no"], "M-1");

  json rep = Call("POST", "/api/v1/metering-points/" + pid + "/replace",
                  R"({"at":")" + FormatUtc(Ago(2)) +
                      R"(","remove_readings":{"total":"1300","peak":"310"},"remove_reason":)"
                      R"("rotation","new_meter_id":)" +
                      m2_id + R"(,"install_readings":{"total":"0","peak":"0"}})",
                  201);
  EXPECT_EQ(rep["removed"]["remove_readings"]["total"], "1300.00");
  EXPECT_EQ(rep["installed"]["install_reason"], "replacement");
  std::string new_inst = std::to_string(rep["installed"]["id"].get<int64_t>());
  err = Call("POST", "/api/v1/installations/" + new_inst + "/remove",
             R"({"removed_at":")" + FormatUtc(Ago(1)) +
                 R"(","readings":{"total":"7","peak":"2"},"reason":"closure","extra":1})",
             400);
  EXPECT_EQ(err["error"]["field"], "extra");
  json removed = Call("POST", "/api/v1/installations/" + new_inst + "/remove",
                      R"({"removed_at":")" + FormatUtc(Ago(1)) +
                          R"(","readings":{"total":"7","peak":"2"},"reason":"closure"})",
                      200);
  EXPECT_FALSE(removed["removed_at"].is_null());

  json history = Call("GET", "/api/v1/metering-points/" + pid + "/installations", "", 200);
  EXPECT_EQ(history["total"], 2);
  EXPECT_EQ(history["items"][1]["meter"]["asset_no"], "M-1");
  json meters = Call("GET", "/api/v1/meters?status=removed", "", 200);
  EXPECT_EQ(meters["total"], 2);
  EXPECT_EQ(meters["total_capped"], false);
  Call("GET", "/api/v1/meters?status=lost", "", 400);

  for (const auto& r : router_.routes()) {
    for (const auto& name : {r.request, r.response}) {
      if (!name.empty()) {
        EXPECT_TRUE(router_.schemas().count(name)) << r.pattern << " " << name;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, MeteringTest,
                         ::testing::ValuesIn(store::testing::AvailableBackendsForTest()),
                         [](const auto& p) { return p.param; });
INSTANTIATE_TEST_SUITE_P(Backends, MeteringRoutesTest,
                         ::testing::ValuesIn(store::testing::AvailableBackendsForTest()),
                         [](const auto& p) { return p.param; });

}  // namespace
}  // namespace gridmis::metering
