// Test fixture of the reading module's database tests (reading_test.cc, billable_test.cc): a
// fresh database per backend with the grid test organisation, one transformer area and customer
// per county, metering points with meters installed on 2026-10-01, and actors with the built-in
// roles: a meter reader (own department) and a billing clerk (reviewer) in county A, a billing
// clerk in county B. The clock stands at 2027-01-15.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "customer/customer.h"
#include "grid/grid.h"
#include "grid/testing.h"
#include "metering/metering.h"
#include "org/audit.h"
#include "reading/billable.h"
#include "reading/reading.h"

namespace gridmis::reading {

inline Energy Kwh(const char* text) { return Energy::ParseKwh(text).value(); }

inline Registers R(std::initializer_list<std::pair<const std::string, const char*>> values) {
  Registers out;
  for (const auto& [reg, kwh] : values) out[reg] = Kwh(kwh);
  return out;
}

class ReadingDbTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto u = grid::testing::TestUtility::Create(GetParam(), clock_);
    if (!u.ok() && GetParam() == "postgres" && !store::testing::PostgresRequiredForTest()) {
      GTEST_SKIP() << u.status().ToString();
    }
    ASSERT_TRUE(u.ok()) << u.status().ToString();
    u_ = std::move(*u);
    sys_ = u_->system();
    zone_ = TimeZone::Load("Asia/Shanghai").value();
    grid_ = std::make_unique<grid::GridService>(u_->db(), clock_);
    customers_ = std::make_unique<customer::CustomerService>(u_->db(), clock_);
    metering_ = std::make_unique<metering::MeteringService>(u_->db(), clock_);
    reading_ = std::make_unique<ReadingService>(u_->db(), clock_);
    for (auto [dept, suffix] : {std::pair{u_->county_a, "A"}, std::pair{u_->county_b, "B"}}) {
      grid::SubstationInput s;
      s.code = std::string("SUB-") + suffix;
      s.name = *s.code;
      s.voltage_v = 35'000;
      s.department_id = dept;
      auto sub = grid_->CreateSubstation(sys_, s);
      ASSERT_TRUE(sub.ok()) << sub.status().ToString();
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
      (dept == u_->county_a ? customer_a_ : customer_b_) = cust->id;
    }
    auto reader = u_->MakeActor("reader_a", u_->county_a, {"meter_reader"});
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    reader_ = *reader;
    auto reviewer = u_->MakeActor("reviewer_a", u_->county_a, {"billing_clerk"});
    ASSERT_TRUE(reviewer.ok());
    reviewer_ = *reviewer;
    auto clerk_b = u_->MakeActor("clerk_b", u_->county_b, {"billing_clerk"});
    ASSERT_TRUE(clerk_b.ok());
    clerk_b_ = *clerk_b;
  }

  // A point of customer A (county A) or B, with a meter installed on `installed` at 10:00.
  int64_t MakePoint(const std::string& code, bool county_b = false,
                    std::vector<std::string> registers = {"total", "peak", "valley"},
                    int64_t digits = 6, Date installed = {2026, 10, 1}, Registers readings = {},
                    const char* ct = nullptr) {
    metering::MeteringPointInput in;
    in.code = code;
    in.customer_id = county_b ? customer_b_ : customer_a_;
    in.voltage_v = 380;
    in.tariff_code = "GS-COM-1";
    auto p = metering_->CreatePoint(sys_, in);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    if (!p.ok()) return 0;
    int64_t meter = MakeMeter("M-" + code, county_b, registers, digits, ct);
    if (readings.empty()) {
      for (const auto& r : registers) readings[r] = Energy();
    }
    metering::InstallInput install;
    install.meter_id = meter;
    install.installed_at_us = At(installed, 10);
    install.readings = readings;
    auto i = metering_->Install(sys_, p->id, install);
    EXPECT_TRUE(i.ok()) << i.status().ToString();
    return p->id;
  }

  int64_t MakeMeter(const std::string& asset_no, bool county_b, std::vector<std::string> registers,
                    int64_t digits, const char* ct = nullptr) {
    metering::MeterInput m;
    m.asset_no = asset_no;
    m.make = "威胜";
    m.model = "DTZ341";
    m.phases = 3;
    m.accuracy_class = "0.5S";
    m.registers = registers;
    m.register_integer_digits = digits;
    if (ct) m.ct_ratio = ct;
    m.department_id = county_b ? u_->county_b : u_->county_a;
    auto meter = metering_->CreateMeter(sys_, m);
    EXPECT_TRUE(meter.ok()) << meter.status().ToString();
    return meter.ok() ? meter->id : 0;
  }

  // The local instant of `hour`:00 on `d`.
  int64_t At(Date d, int hour) { return zone_.StartOfDay(d) + hour * 3600 * kMicrosPerSecond; }

  Result<Read> Enter(int64_t point, Date date, Registers regs,
                     std::optional<YearMonth> period = std::nullopt) {
    ReadInput in;
    in.metering_point_id = point;
    in.read_date = date;
    in.registers = std::move(regs);
    in.period = period;
    return reading_->EnterRead(reader_, in);
  }

  std::vector<std::string> Flags(const Read& r) { return r.flags(); }

  int64_t Count(const std::string& sql) {
    auto n = u_->db().ReadValue<int64_t>([&](store::Connection& c) { return c.QueryInt(sql); });
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? *n : -1;
  }

  std::vector<org::AuditEntry> Audit(const std::string& entity, const std::string& id = "") {
    org::AuditQuery q;
    q.entity = entity;
    q.entity_id = id;
    q.page_size = 200;
    auto page = org::ListAudit(u_->db(), sys_, q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? page->items : std::vector<org::AuditEntry>{};
  }

  FakeClock clock_{1'800'000'000'000'000};  // 2027-01-15 08:00 UTC
  TimeZone zone_;
  std::unique_ptr<grid::testing::TestUtility> u_;
  std::unique_ptr<grid::GridService> grid_;
  std::unique_ptr<customer::CustomerService> customers_;
  std::unique_ptr<metering::MeteringService> metering_;
  std::unique_ptr<ReadingService> reading_;
  org::Actor sys_, reader_, reviewer_, clerk_b_;
  int64_t customer_a_ = 0, customer_b_ = 0;
};

#define GRIDMIS_READING_BACKENDS(Suite)                                                     \
  INSTANTIATE_TEST_SUITE_P(Backends, Suite,                                                 \
                           ::testing::ValuesIn(store::testing::AvailableBackendsForTest()), \
                           [](const auto& p) { return p.param; })

}  // namespace gridmis::reading
