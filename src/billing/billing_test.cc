// Bill runs, review, issue and corrections over real metering points, meters, approved reads
// (reading::ReadingService), the nmg_west tariff catalogue and the ledger, on SQLite and
// PostgreSQL.
#include "billing/billing.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "customer/customer.h"
#include "grid/grid.h"
#include "grid/testing.h"
#include "metering/metering.h"
#include "reading/reading.h"

namespace gridmis::billing {
namespace {

using nlohmann::json;
using store::Connection;

Energy Kwh(const char* s) { return Energy::ParseKwh(s).value(); }

// The instant of `hour`:00 Beijing time on `d`.
int64_t LocalInstant(Date d, int hour) {
  return d.ToDays() * kMicrosPerDay + (hour - 8) * 3600 * kMicrosPerSecond;
}

class BillingTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    clock_.Set(LocalInstant(Date{2026, 8, 1}, 10));
    auto u = grid::testing::TestUtility::Create(GetParam(), clock_);
    if (!u.ok() && GetParam() == "postgres" && !store::testing::PostgresRequiredForTest()) {
      GTEST_SKIP() << u.status().ToString();
    }
    ASSERT_TRUE(u.ok()) << u.status().ToString();
    u_ = std::move(*u);
    sys_ = u_->system();
    auto tz = TimeZone::Load("Asia/Shanghai");
    ASSERT_TRUE(tz.ok());
    tz_ = *tz;
    auto cat = rating::TariffCatalogue::Load("nmg_west");
    ASSERT_TRUE(cat.ok()) << cat.status().ToString();
    catalogue_ = *cat;
    grid_ = std::make_unique<grid::GridService>(u_->db(), clock_);
    customers_ = std::make_unique<customer::CustomerService>(u_->db(), clock_);
    metering_ = std::make_unique<metering::MeteringService>(u_->db(), clock_);
    reading_ = std::make_unique<reading::ReadingService>(u_->db(), clock_);
    jobs::JobRunnerOptions jo;
    jo.progress_interval_ms = 0;
    runner_ = std::make_unique<jobs::JobRunner>(
        u_->db(), clock_, jo, [this](int64_t id) { return u_->org().LoadActor(id); });
    BillingOptions bo;
    bo.page_size = 2;  // several chunks even with a handful of points
    billing_ = std::make_unique<BillingService>(u_->db(), clock_, tz_, catalogue_, *runner_, bo);

    for (auto [dept, tag] : {std::pair{u_->county_a, "A"}, std::pair{u_->county_b, "B"}}) {
      grid::SubstationInput s;
      s.code = std::string("SUB-") + tag;
      s.name = *s.code;
      s.voltage_v = 35'000;
      s.department_id = dept;
      auto sub = grid_->CreateSubstation(sys_, s);
      ASSERT_TRUE(sub.ok()) << sub.status().ToString();
      grid::FeederInput f;
      f.code = std::string("F-") + tag;
      f.name = *f.code;
      f.substation_id = sub->id;
      auto feeder = grid_->CreateFeeder(sys_, f);
      ASSERT_TRUE(feeder.ok());
      grid::TransformerAreaInput a;
      a.code = std::string("TA-") + tag;
      a.name = *a.code;
      a.feeder_id = feeder->id;
      a.capacity_kva = 400;
      auto area = grid_->CreateTransformerArea(sys_, a);
      ASSERT_TRUE(area.ok());
      (std::string(tag) == "A" ? area_a_ : area_b_) = area->id;
    }
    auto clerk = u_->MakeActor("hesuan_a", u_->county_a, {"billing_clerk"});
    ASSERT_TRUE(clerk.ok()) << clerk.status().ToString();
    clerk_a_ = *clerk;
    auto other = u_->MakeActor("hesuan_b", u_->county_b, {"billing_clerk"});
    ASSERT_TRUE(other.ok());
    clerk_b_ = *other;
    auto counter = u_->MakeActor("yingye_a", u_->county_a, {"counter_clerk"});
    ASSERT_TRUE(counter.ok());
    counter_a_ = *counter;

    // Meters go in at the end of August; reads on the 28th.
    Date install_day{2026, 8, 31};
    r1_ = MakePoint("R1", "residential", "residential_lv", u_->county_a, {{"total", "1000"}},
                    install_day);
    r2_ = MakePoint("R2", "residential", "residential_lv", u_->county_a, {{"total", "500"}},
                    install_day);
    r0_ = MakePoint("R0", "residential", "residential_lv", u_->county_a, {{"total", "0"}},
                    install_day, {.account = false});
    c1_ = MakePoint("C1", "commercial", "commercial_lv", u_->county_a,
                    {{"total", "100"}, {"peak", "40"}, {"flat", "30"}, {"valley", "30"}},
                    install_day);
    l1_ = MakePoint(
        "L1", "large_industry", "large_industry_10kv", u_->county_a,
        {{"total", "10"},
         {"peak", "4"},
         {"flat", "3"},
         {"valley", "3"},
         {"reactive_import", "5"},
         {"max_demand", "0"}},
        install_day,
        {.voltage_v = 10'000, .capacity_kva = 630, .pf = "0.90", .ct = "100/5", .pt = "10000/100"});
    u1_ = MakePoint("U1", "residential", "residential_lv", u_->county_a, {{"total", "10"}},
                    install_day);
    x1_ = MakePoint("X1", "residential", "no_such_tariff", u_->county_a, {{"total", "10"}},
                    install_day);
    b1_ = MakePoint("B1", "residential", "residential_lv", u_->county_b, {{"total", "10"}},
                    install_day);

    // The large-industry point pays a capacity charge.
    BillingParameters p;
    p.basic_mode = rating::BasicChargeMode::kCapacity;
    auto put = billing_->PutParameters(clerk_a_, l1_, 0, p);
    ASSERT_TRUE(put.ok()) << put.status().ToString();

    clock_.Set(LocalInstant(Date{2026, 10, 2}, 10));
    Enter(r1_, {2026, 9}, {{"total", "1200"}});
    Enter(r2_, {2026, 9}, {{"total", "600"}});
    Enter(r0_, {2026, 9}, {{"total", "0"}});
    Enter(c1_, {2026, 9}, {{"total", "1100"}, {"peak", "440"}, {"flat", "330"}, {"valley", "330"}});
    Enter(l1_, {2026, 9},
          {{"total", "110"},
           {"peak", "44"},
           {"flat", "33"},
           {"valley", "33"},
           {"reactive_import", "55"},
           {"max_demand", "0.2"}});
    Enter(x1_, {2026, 9}, {{"total", "20"}});
    Enter(b1_, {2026, 9}, {{"total", "20"}});
    // U1 has no read: unbillable.
  }

  struct PointOptions {
    int64_t voltage_v = 220;
    int64_t capacity_kva = 0;
    std::string pf = "none";
    const char* ct = nullptr;
    const char* pt = nullptr;
    bool account = true;
  };

  int64_t MakePoint(const std::string& code, const std::string& category, const std::string& tariff,
                    int64_t dept, std::vector<std::pair<std::string, std::string>> install,
                    Date day, PointOptions o) {
    customer::CustomerInput c;
    c.customer_no = "15" + std::to_string(10'000'000 + (++seq_));
    c.name = "客户" + code;
    c.category = category;
    c.address = "集宁区" + code + "路1号";
    c.department_id = dept;
    c.transformer_area_id = std::optional<int64_t>(dept == u_->county_a ? area_a_ : area_b_);
    auto cust = customers_->Create(sys_, c);
    EXPECT_TRUE(cust.ok()) << cust.status().ToString();
    if (!cust.ok()) return 0;
    if (o.account) {
      customer::AccountInput a;
      a.account_no = "AC" + *c.customer_no;
      a.name = *c.name;
      auto acc = customers_->CreateAccount(sys_, cust->id, a);
      EXPECT_TRUE(acc.ok()) << acc.status().ToString();
    }
    metering::MeteringPointInput in;
    in.code = "MP-" + code;
    in.customer_id = cust->id;
    in.voltage_v = o.voltage_v;
    in.tariff_code = tariff;
    in.contracted_capacity_kva = o.capacity_kva;
    in.pf_standard = o.pf;
    auto p = metering_->CreatePoint(sys_, in);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    if (!p.ok()) return 0;
    metering::MeterInput mi;
    mi.asset_no = "33010" + std::to_string(100'000 + seq_);
    mi.make = "威胜";
    mi.model = "DTZ341";
    mi.phases = 3;
    mi.accuracy_class = "0.5S";
    std::vector<std::string> regs;
    metering::Readings readings;
    for (const auto& [reg, v] : install) {
      regs.push_back(reg);
      readings[reg] = Kwh(v.c_str());
    }
    mi.registers = regs;
    if (o.ct) mi.ct_ratio = o.ct;
    if (o.pt) mi.pt_ratio = o.pt;
    mi.department_id = dept;
    auto m = metering_->CreateMeter(sys_, mi);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    if (!m.ok()) return 0;
    Date save_day = day;
    int64_t saved = clock_.NowMicros();
    clock_.Set(LocalInstant(save_day, 14));
    metering::InstallInput ii;
    ii.meter_id = m->id;
    ii.installed_at_us = LocalInstant(save_day, 12);
    ii.readings = readings;
    auto inst = metering_->Install(sys_, p->id, ii);
    EXPECT_TRUE(inst.ok()) << inst.status().ToString();
    clock_.Set(saved);
    return p->id;
  }
  int64_t MakePoint(const std::string& code, const std::string& category, const std::string& tariff,
                    int64_t dept, std::vector<std::pair<std::string, std::string>> install,
                    Date day) {
    return MakePoint(code, category, tariff, dept, std::move(install), day, PointOptions{});
  }

  // An approved read of the period on the 28th.
  int64_t Enter(int64_t point, YearMonth period,
                std::vector<std::pair<std::string, std::string>> regs) {
    reading::ReadInput in;
    in.metering_point_id = point;
    in.period = period;
    in.read_date = Date{period.year, period.month, 28};
    for (const auto& [reg, v] : regs) in.registers[reg] = Kwh(v.c_str());
    auto r = reading_->EnterRead(sys_, in);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return 0;
    if (r->status != "approved") {
      auto a = reading_->Approve(sys_, r->id, r->version);
      EXPECT_TRUE(a.ok()) << a.status().ToString();
      if (a.ok()) return a->id;
    }
    return r->id;
  }

  // Runs a bill run to its end (in this thread) and returns it.
  BillRun Run(const org::Actor& actor, YearMonth period, int64_t dept) {
    auto run = billing_->StartRun(actor, {.period = period, .department_id = dept});
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    if (!run.ok()) return {};
    auto n = runner_->RunPendingForTest();
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    auto after = billing_->GetRun(actor, run->id);
    EXPECT_TRUE(after.ok());
    return after.ok() ? *after : BillRun{};
  }

  std::vector<Bill> Bills(BillQuery q = {}) {
    q.page_size = 200;
    auto list = billing_->ListBills(sys_, q, nullptr);
    EXPECT_TRUE(list.ok()) << list.status().ToString();
    return list.ok() ? *list : std::vector<Bill>{};
  }

  Bill BillOf(int64_t point, YearMonth period) {
    for (auto& b : Bills({.metering_point_id = point, .period = period})) {
      if (b.status != "cancelled") {
        auto full = billing_->GetBill(sys_, b.id);
        EXPECT_TRUE(full.ok());
        return *full;
      }
    }
    ADD_FAILURE() << "no bill for point " << point;
    return {};
  }

  // Every bill and line of the database except ids, run ids and times, in bill-number order.
  std::string Dump() {
    std::string out;
    EXPECT_TRUE(
        u_->db()
            .Read([&](Connection& c) -> Status {
              RETURN_IF_ERROR(c.Query(
                  "SELECT bill_no, metering_point_id, customer_id, account_id, department_id, "
                  "period, seq, status, tariff_code, tariff_version, customer_category, "
                  "first_day, last_day, billed_kwh, tier1_kwh, tier2_kwh, tier3_kwh, "
                  "tier_cumulative_after_kwh, power_factor, pf_standard, pf_adjust_rate, "
                  "pf_base_fen, energy_fen, basic_fen, pf_fen, fund_fen, total_fen, read_id, "
                  "read_source, review_flags, detail_json FROM bills ORDER BY bill_no",
                  {}, [&](const store::Row& r) {
                    for (int i = 0; i < r.size(); ++i) out += r.Text(i) + "|";
                    out += "\n";
                  }));
              return c.Query(
                  "SELECT b.bill_no, l.line_no, l.kind, l.rule, l.description, l.tariff_code, "
                  "l.period_code, l.tier, l.quantity, l.unit, l.unit_price, l.amount_fen, "
                  "l.sources, l.tariff_version, l.share, l.days, l.days_base, l.from_day, "
                  "l.to_day FROM bill_lines l JOIN bills b ON b.id = l.bill_id ORDER BY "
                  "b.bill_no, l.line_no",
                  {}, [&](const store::Row& r) {
                    for (int i = 0; i < r.size(); ++i) out += r.Text(i) + "|";
                    out += "\n";
                  });
            })
            .ok());
    return out;
  }

  void DeleteBills() {
    ASSERT_TRUE(u_->db()
                    .Write([](Connection& c) -> Status {
                      RETURN_IF_ERROR(c.Exec("DELETE FROM bill_lines").status());
                      RETURN_IF_ERROR(c.Exec("DELETE FROM bills").status());
                      return c.Exec("DELETE FROM bill_run_exceptions").status();
                    })
                    .ok());
  }

  int64_t Count(const std::string& sql, store::Params params = {}) {
    auto n = u_->db().ReadValue<int64_t>([&](Connection& c) { return c.QueryInt(sql, params); });
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? *n : -1;
  }

  FakeClock clock_{0};
  TimeZone tz_;
  std::unique_ptr<grid::testing::TestUtility> u_;
  org::Actor sys_, clerk_a_, clerk_b_, counter_a_;
  std::shared_ptr<const rating::TariffCatalogue> catalogue_;
  std::unique_ptr<grid::GridService> grid_;
  std::unique_ptr<customer::CustomerService> customers_;
  std::unique_ptr<metering::MeteringService> metering_;
  std::unique_ptr<reading::ReadingService> reading_;
  std::unique_ptr<jobs::JobRunner> runner_;
  std::unique_ptr<BillingService> billing_;
  int64_t area_a_ = 0, area_b_ = 0, seq_ = 0;
  int64_t r1_ = 0, r2_ = 0, r0_ = 0, c1_ = 0, l1_ = 0, u1_ = 0, x1_ = 0, b1_ = 0;
};

TEST_P(BillingTest, ARunBillsEveryBillablePointOfTheDepartmentAndSummarises) {
  BillRun run = Run(clerk_a_, {2026, 9}, u_->county_a);
  EXPECT_EQ(run.job.status, "succeeded") << run.job.error;
  ASSERT_TRUE(run.finished_at_us.has_value());
  // R1, R2, R0, C1, L1; X1 has an unknown tariff; U1 no read; B1 is in the other county.
  EXPECT_EQ(run.bills, 5);
  EXPECT_EQ(run.exceptions, 1);
  EXPECT_EQ(run.unbillable, 1);
  EXPECT_EQ(run.skipped, 0);
  auto ex = billing_->RunExceptions(clerk_a_, run.id, 1, 20, nullptr);
  ASSERT_TRUE(ex.ok());
  ASSERT_EQ(ex->size(), 1u);
  EXPECT_EQ((*ex)[0].metering_point_id, x1_);
  EXPECT_NE((*ex)[0].message.find("no_such_tariff"), std::string::npos) << (*ex)[0].message;
  EXPECT_TRUE(Bills({.metering_point_id = b1_}).empty());
  EXPECT_TRUE(Bills({.metering_point_id = x1_}).empty());

  // Residential: 200 kWh in tier 1 at 0.50.
  Bill r1 = BillOf(r1_, {2026, 9});
  EXPECT_EQ(r1.bill_no, BillNo({2026, 9}, r1_, 1));
  EXPECT_EQ(r1.billed_kwh, 200);
  EXPECT_EQ(r1.total, Money::FromFen(10000));
  EXPECT_EQ(r1.tier_kwh[0], 200);
  EXPECT_EQ(r1.tier_cumulative_after_kwh, 200);
  EXPECT_EQ(r1.status, "calculated");
  EXPECT_EQ(r1.run_id, run.id);
  EXPECT_TRUE(r1.account_id.has_value());
  EXPECT_EQ(r1.tariff_version, "residential_lv@2012-07-01");
  EXPECT_EQ(r1.first_day, (Date{2026, 8, 31}));  // from the installation
  EXPECT_EQ(r1.last_day, (Date{2026, 9, 28}));
  ASSERT_FALSE(r1.lines.empty());
  Money sum;
  for (const auto& l : r1.lines) sum += l.amount;
  EXPECT_EQ(sum, r1.total);
  EXPECT_EQ(r1.created_by, clerk_a_.user_id);

  // The commercial and large-industry bills are exactly what the rating engine makes of the
  // same reads.
  for (int64_t point : {c1_, l1_}) {
    Bill b = BillOf(point, {2026, 9});
    auto trial = billing_->TrialStored(clerk_a_, point, {2026, 9});
    ASSERT_TRUE(trial.ok()) << trial.status().ToString();
    EXPECT_EQ(b.total, trial->rated.total);
    ASSERT_EQ(b.lines.size(), trial->rated.lines.size());
    for (size_t i = 0; i < b.lines.size(); ++i) {
      EXPECT_EQ(b.lines[i].kind, trial->rated.lines[i].kind);
      EXPECT_EQ(b.lines[i].amount, trial->rated.lines[i].amount);
      EXPECT_EQ(b.lines[i].quantity, trial->rated.lines[i].quantity);
      EXPECT_EQ(b.lines[i].unit_price, trial->rated.lines[i].unit_price);
      EXPECT_EQ(b.lines[i].sources, trial->rated.lines[i].sources);
      EXPECT_EQ(b.lines[i].tariff_version, trial->rated.lines[i].tariff_version);
    }
  }
  // Commercial: 1000 kWh × multiplier 1, TOU energy and funds.
  Bill c1 = BillOf(c1_, {2026, 9});
  EXPECT_EQ(c1.billed_kwh, 1000);
  EXPECT_GT(c1.fund_charge.fen(), 0);
  // Large industry: 100 kWh × 2000 = 200000 kWh, capacity charge 630 kVA × 21.00.
  Bill l1 = BillOf(l1_, {2026, 9});
  EXPECT_EQ(l1.billed_kwh, 200'000);
  EXPECT_EQ(l1.basic_charge, Money::FromFen(1'323'000));
  EXPECT_TRUE(l1.power_factor.has_value());
  json detail = json::parse(l1.detail_json);
  EXPECT_EQ(detail["meters"][0]["multiplier"], 2000);
  EXPECT_EQ(detail["meters"][0]["end"]["total"], "110");

  // The zero bill is for review; its customer also has no account.
  Bill r0 = BillOf(r0_, {2026, 9});
  EXPECT_EQ(r0.status, "review");
  EXPECT_EQ(r0.review_flags, (std::vector<std::string>{"zero", "no_account"}));
  EXPECT_EQ(run.review, 1);
  Money total;
  for (const auto& b : Bills({.run_id = run.id})) total += b.total;
  EXPECT_EQ(run.total, total);

  // The job reports the summary as its result.
  json result = json::parse(run.job.result_json);
  EXPECT_EQ(result["bills"], 5);
  EXPECT_EQ(result["unbillable"], 1);
  // The run and its chunks are in the audit log.
  EXPECT_GE(Count("SELECT COUNT(*) FROM audit_log WHERE entity = 'bill_run' AND entity_id = $1",
                  {std::to_string(run.id)}),
            3);
}

TEST_P(BillingTest, ARunNeedsADataScopeThatReachesTheWholeSubtree) {
  // An own-department clerk at the city would bill (and issue) every county below it.
  org::RoleInput in;
  in.code = "billing_own";
  in.name = "billing_own";
  in.data_scope = "own_department";
  in.permissions = {"billing.read", "billing.run", "billing.review"};
  ASSERT_TRUE(u_->org().CreateRole(u_->system(), in).ok());
  auto own = u_->MakeActor("hesuan_city_own", u_->city, {"billing_own"});
  ASSERT_TRUE(own.ok()) << own.status().ToString();
  RunRequest req;
  req.period = {2026, 9};
  req.department_id = u_->city;
  auto refused = billing_->StartRun(*own, req);
  ASSERT_EQ(refused.status().code(), StatusCode::kPermissionDenied) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("own_department"), std::string::npos);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM bill_runs", {}), 0);
  // A department-and-below clerk of county A may not run county B, nor the city above.
  req.department_id = u_->county_b;
  EXPECT_FALSE(billing_->StartRun(clerk_a_, req).ok());
  req.department_id = u_->city;
  EXPECT_FALSE(billing_->StartRun(clerk_a_, req).ok());
  // ... and may not issue a run of the city made by someone else.
  BillRun city = Run(sys_, {2026, 9}, u_->city);
  EXPECT_FALSE(billing_->IssueRun(clerk_a_, city.id).ok());
}

TEST_P(BillingTest, ASecondRunOfTheSamePeriodMakesNothingNew) {
  BillRun first = Run(clerk_a_, {2026, 9}, u_->county_a);
  ASSERT_EQ(first.job.status, "succeeded");
  std::string before = Dump();
  BillRun second = Run(clerk_a_, {2026, 9}, u_->county_a);
  EXPECT_EQ(second.job.status, "succeeded") << second.job.error;
  EXPECT_EQ(second.bills, 0);
  EXPECT_EQ(second.skipped, 5);
  EXPECT_EQ(second.exceptions, 1);  // X1 is tried again
  EXPECT_EQ(Dump(), before);
  // A city-wide run bills only what is left: B1.
  BillRun city = Run(sys_, {2026, 9}, u_->city);
  EXPECT_EQ(city.bills, 1);
  EXPECT_EQ(city.skipped, 5);
}

TEST_P(BillingTest, ARunKilledPartWayAndStartedAgainEndsWithTheSameBills) {
  // The reference: an uninterrupted run.
  BillRun clean = Run(clerk_a_, {2026, 9}, u_->county_a);
  ASSERT_EQ(clean.job.status, "succeeded");
  std::string reference = Dump();
  ASSERT_NE(reference.find(BillNo({2026, 9}, l1_, 1)), std::string::npos);
  for (int kill_after = 1; kill_after <= 3; ++kill_after) {
    SCOPED_TRACE("killed after chunk " + std::to_string(kill_after));
    DeleteBills();
    // Resumed from its checkpoint.
    BillingOptions o = billing_->options();
    o.fail_after_chunks_for_test = kill_after;
    billing_->set_options_for_test(o);
    BillRun killed = Run(clerk_a_, {2026, 9}, u_->county_a);
    EXPECT_EQ(killed.job.status, "failed");
    EXPECT_NE(killed.job.error.find("test hook"), std::string::npos) << killed.job.error;
    // Three chunks of two reads: R1 R2 | R0 C1 | L1 X1; killed after the last one, before the
    // summary.
    int64_t partial = Count("SELECT COUNT(*) FROM bills");
    EXPECT_EQ(partial, std::min(5, kill_after * 2));
    o.fail_after_chunks_for_test = -1;
    billing_->set_options_for_test(o);
    auto resumed = billing_->ResumeRun(clerk_a_, killed.id);
    ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
    ASSERT_EQ(*runner_->RunPendingForTest(), 1);
    auto done = billing_->GetRun(clerk_a_, killed.id);
    EXPECT_EQ(done->job.status, "succeeded") << done->job.error;
    EXPECT_EQ(done->job.attempts, 2);
    EXPECT_EQ(done->bills, 5);
    EXPECT_EQ(done->exceptions, 1);
    EXPECT_EQ(Dump(), reference);

    // Or a new run after the killed one.
    DeleteBills();
    o.fail_after_chunks_for_test = kill_after;
    billing_->set_options_for_test(o);
    BillRun killed2 = Run(clerk_a_, {2026, 9}, u_->county_a);
    EXPECT_EQ(killed2.job.status, "failed");
    o.fail_after_chunks_for_test = -1;
    billing_->set_options_for_test(o);
    BillRun fresh = Run(clerk_a_, {2026, 9}, u_->county_a);
    EXPECT_EQ(fresh.job.status, "succeeded") << fresh.job.error;
    EXPECT_EQ(fresh.bills + fresh.skipped, 5);
    EXPECT_GT(fresh.skipped, 0);
    EXPECT_EQ(Dump(), reference);
  }
  // Without the pipeline (reading and writing on one thread) the bills are the same.
  DeleteBills();
  BillingOptions o = billing_->options();
  o.pipeline = false;
  o.page_size = 3;
  billing_->set_options_for_test(o);
  EXPECT_EQ(Run(clerk_a_, {2026, 9}, u_->county_a).job.status, "succeeded");
  EXPECT_EQ(Dump(), reference);
}

TEST_P(BillingTest, NextMonthUsesTheTierCumulativeAndFlagsLargeChanges) {
  ASSERT_EQ(Run(clerk_a_, {2026, 9}, u_->county_a).job.status, "succeeded");
  clock_.Set(LocalInstant(Date{2026, 11, 2}, 10));
  Enter(r1_, {2026, 10}, {{"total", "1500"}});  // 300 kWh: +50 % on September
  Enter(r2_, {2026, 10}, {{"total", "700"}});   // 100 kWh: as September
  BillRun oct = Run(clerk_a_, {2026, 10}, u_->county_a);
  ASSERT_EQ(oct.job.status, "succeeded") << oct.job.error;
  EXPECT_EQ(oct.bills, 2);
  Bill r1 = BillOf(r1_, {2026, 10});
  EXPECT_EQ(r1.billed_kwh, 300);
  EXPECT_EQ(r1.tier_cumulative_after_kwh, 500);  // 200 in September + 300
  EXPECT_EQ(r1.total, Money::FromFen(15000));
  EXPECT_EQ(r1.status, "review");
  EXPECT_EQ(r1.review_flags, std::vector<std::string>{"change_month"});
  Bill r2 = BillOf(r2_, {2026, 10});
  EXPECT_EQ(r2.status, "calculated");
  EXPECT_TRUE(r2.review_flags.empty());
  EXPECT_EQ(r2.tier_cumulative_after_kwh, 200);
  // A higher threshold lets +50 % through.
  auto resumed = billing_->Cancel(clerk_a_, r1.id, r1.version, "阈值测试", false);
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  auto run = billing_->StartRun(
      clerk_a_, {.period = {2026, 10}, .department_id = u_->county_a, .change_threshold_pct = 60});
  ASSERT_TRUE(run.ok());
  ASSERT_EQ(*runner_->RunPendingForTest(), 1);
  EXPECT_EQ(BillOf(r1_, {2026, 10}).status, "calculated");
}

TEST_P(BillingTest, ReviewActionsCheckVersionStateScopeAndAreAudited) {
  ASSERT_EQ(Run(clerk_a_, {2026, 9}, u_->county_a).job.status, "succeeded");
  Bill r1 = BillOf(r1_, {2026, 9});
  // Another county's clerk does not see it; a counter clerk may not review.
  EXPECT_EQ(billing_->GetBill(clerk_b_, r1.id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(billing_->Approve(clerk_b_, r1.id, r1.version, "").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(billing_->Approve(counter_a_, r1.id, r1.version, "").status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_TRUE(billing_->GetBill(counter_a_, r1.id).ok());  // billing.read
  // Stale version.
  EXPECT_EQ(billing_->Approve(clerk_a_, r1.id, r1.version + 1, "").status().code(),
            StatusCode::kAborted);
  // Hold needs a reason; then unhold; then approve.
  EXPECT_EQ(billing_->Hold(clerk_a_, r1.id, r1.version, "").status().field(), "reason");
  auto held = billing_->Hold(clerk_a_, r1.id, r1.version, "用户投诉电量异常");
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  EXPECT_EQ(held->status, "held");
  EXPECT_EQ(held->review_note, "用户投诉电量异常");
  EXPECT_EQ(billing_->Issue(clerk_a_, r1.id, held->version).status().code(),
            StatusCode::kFailedPrecondition);
  auto unheld = billing_->Unhold(clerk_a_, r1.id, held->version);
  ASSERT_TRUE(unheld.ok());
  EXPECT_EQ(unheld->status, "calculated");
  auto approved = billing_->Approve(clerk_a_, r1.id, unheld->version, "核对无误");
  ASSERT_TRUE(approved.ok()) << approved.status().ToString();
  EXPECT_EQ(approved->status, "approved");
  EXPECT_EQ(approved->approved_by, clerk_a_.user_id);
  EXPECT_EQ(billing_->Approve(clerk_a_, r1.id, approved->version, "").status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_log WHERE entity = 'bill' AND entity_id = $1",
                  {std::to_string(r1.id)}),
            3);
  // The review queue.
  auto queue = Bills({.status = "review"});
  ASSERT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue[0].metering_point_id, r0_);
}

TEST_P(BillingTest, RecalculateRatesACorrectedRead) {
  ASSERT_EQ(Run(clerk_a_, {2026, 9}, u_->county_a).job.status, "succeeded");
  Bill r2 = BillOf(r2_, {2026, 9});
  EXPECT_EQ(r2.total, Money::FromFen(5000));
  // The read was wrong: 650, not 600.
  grid::CappedCount count;
  auto reads = reading_->ListReads(sys_, {.metering_point_id = r2_}, &count);
  ASSERT_TRUE(reads.ok() && !reads->empty());
  reading::CorrectionInput fix;
  fix.registers["total"] = Kwh("650");
  fix.reason = "抄错";
  auto corrected = reading_->Correct(sys_, (*reads)[0].id, (*reads)[0].version, fix);
  ASSERT_TRUE(corrected.ok()) << corrected.status().ToString();
  auto re = billing_->Recalculate(clerk_a_, r2.id, r2.version);
  ASSERT_TRUE(re.ok()) << re.status().ToString();
  EXPECT_EQ(re->id, r2.id);
  EXPECT_EQ(re->billed_kwh, 150);
  EXPECT_EQ(re->total, Money::FromFen(7500));
  EXPECT_EQ(re->read_id, corrected->id);
  EXPECT_EQ(re->version, r2.version + 1);
  Money sum;
  for (const auto& l : re->lines) sum += l.amount;
  EXPECT_EQ(sum, re->total);
  // An issued bill is never recalculated in place.
  auto issued = billing_->Issue(clerk_a_, r2.id, re->version);
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  EXPECT_EQ(billing_->Recalculate(clerk_a_, r2.id, issued->version).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST_P(BillingTest, IssuePostsToTheLedgerAndCancelRebillReverses) {
  BillRun run = Run(clerk_a_, {2026, 9}, u_->county_a);
  ASSERT_EQ(run.job.status, "succeeded");
  clock_.Set(LocalInstant(Date{2026, 10, 5}, 9));
  Bill r1 = BillOf(r1_, {2026, 9});
  auto issued = billing_->Issue(clerk_a_, r1.id, r1.version);
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  EXPECT_EQ(issued->status, "issued");
  EXPECT_EQ(issued->due_date, (Date{2026, 10, 20}));  // + bill_due_days 15
  EXPECT_EQ(issued->issued_by, clerk_a_.user_id);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM receivables WHERE bill_id = $1 AND status = 'open' AND "
                  "amount_fen = 10000",
                  {r1.id}),
            1);

  // The run's other bills in a bill_issue job: R2, C1, L1; the zero bill stays for review.
  auto job = billing_->IssueRun(clerk_a_, run.id);
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_EQ(job->kind, "bill_issue");
  ASSERT_EQ(*runner_->RunPendingForTest(), 1);
  auto j = runner_->Load(job->id);
  EXPECT_EQ(j->status, "succeeded") << j->error;
  EXPECT_EQ(json::parse(j->result_json)["issued"], 3);
  EXPECT_EQ(Bills({.run_id = run.id, .status = "issued"}).size(), 4u);
  EXPECT_EQ(Bills({.run_id = run.id, .status = "review"}).size(), 1u);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM receivables"), 4);

  // Cancel and rebill R1 after its read was corrected.
  grid::CappedCount count;
  auto reads = reading_->ListReads(sys_, {.metering_point_id = r1_}, &count);
  ASSERT_TRUE(reads.ok() && !reads->empty());
  reading::CorrectionInput fix;
  fix.registers["total"] = Kwh("1180");
  fix.reason = "抄错";
  ASSERT_TRUE(reading_->Correct(sys_, (*reads)[0].id, (*reads)[0].version, fix).ok());
  EXPECT_EQ(billing_->Cancel(clerk_a_, r1.id, issued->version, "", true).status().field(),
            "reason");
  EXPECT_EQ(billing_->Cancel(counter_a_, r1.id, issued->version, "x", true).status().code(),
            StatusCode::kPermissionDenied);
  auto corr = billing_->Cancel(clerk_a_, r1.id, issued->version, "抄表错误，重新开具", true);
  ASSERT_TRUE(corr.ok()) << corr.status().ToString();
  EXPECT_EQ(corr->cancelled.id, r1.id);
  EXPECT_EQ(corr->cancelled.status, "cancelled");
  EXPECT_EQ(corr->cancelled.cancel_reason, "抄表错误，重新开具");
  EXPECT_EQ(corr->cancelled.total, Money::FromFen(10000));  // unchanged: never edited
  ASSERT_TRUE(corr->rebill.has_value());
  const Bill& rebill = *corr->rebill;
  EXPECT_EQ(rebill.seq, 2);
  EXPECT_EQ(rebill.bill_no, BillNo({2026, 9}, r1_, 2));
  EXPECT_EQ(rebill.replaces_bill_id, r1.id);
  EXPECT_EQ(rebill.billed_kwh, 180);
  EXPECT_EQ(rebill.total, Money::FromFen(9000));
  EXPECT_EQ(rebill.status, "calculated");
  EXPECT_FALSE(rebill.run_id.has_value());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM receivables WHERE bill_id = $1 AND status = 'cancelled'",
                  {r1.id}),
            1);
  // The rebill is issued like any bill.
  auto rebill_issued = billing_->Issue(clerk_a_, rebill.id, rebill.version);
  ASSERT_TRUE(rebill_issued.ok()) << rebill_issued.status().ToString();
  EXPECT_EQ(
      Count("SELECT COUNT(*) FROM receivables WHERE bill_id = $1 AND status = 'open'", {rebill.id}),
      1);
  // One live bill per point and period; the cancelled one stays for the record.
  EXPECT_EQ(Bills({.metering_point_id = r1_}).size(), 2u);
  EXPECT_EQ(
      billing_->Cancel(clerk_a_, r1.id, corr->cancelled.version, "again", false).status().code(),
      StatusCode::kFailedPrecondition);
  // A rerun of the period leaves the rebill alone.
  BillRun again = Run(clerk_a_, {2026, 9}, u_->county_a);
  EXPECT_EQ(again.bills, 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_log WHERE entity = 'bill' AND action IN "
                  "('cancel', 'rebill')"),
            2);
}

TEST_P(BillingTest, BillingParametersAreValidatedVersionedScopedAndAudited) {
  auto get = billing_->GetParameters(clerk_a_, r1_);
  ASSERT_TRUE(get.ok()) << get.status().ToString();
  EXPECT_EQ(get->version, 0);
  EXPECT_EQ(get->household_multiplier, 1);
  BillingParameters p;
  p.household_multiplier = 2;
  p.free_allowance_kwh = 15;
  p.suspensions = {{Date{2026, 3, 1}, Date{2026, 3, 10}}};
  rating::SubAllocation sub;
  sub.tariff_code = "other_lv";
  sub.ratio = Decimal{5, 2};
  sub.label = "门面";
  p.sub_allocations = {sub};
  p.service_start = Date{2026, 4, 1};
  auto created = billing_->PutParameters(clerk_a_, r1_, 0, p);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->version, 1);
  EXPECT_EQ(created->sub_allocations.size(), 1u);
  EXPECT_EQ(created->sub_allocations[0].ratio, (Decimal{5, 2}));
  EXPECT_EQ(created->service_start, (Date{2026, 4, 1}));
  // Creating twice, or updating a stale version, is a conflict.
  EXPECT_EQ(billing_->PutParameters(clerk_a_, r1_, 0, p).status().code(), StatusCode::kAborted);
  p.household_multiplier = 3;
  auto updated = billing_->PutParameters(clerk_a_, r1_, 1, p);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(updated->version, 2);
  EXPECT_EQ(billing_->PutParameters(clerk_a_, r1_, 1, p).status().code(), StatusCode::kAborted);
  // Bad values name the field and change nothing.
  BillingParameters bad = p;
  bad.basic_mode = rating::BasicChargeMode::kDeclaredDemand;
  EXPECT_EQ(billing_->PutParameters(clerk_a_, r1_, 2, bad).status().field(), "declared_demand_kw");
  bad = p;
  bad.sub_allocations[0].tariff_code = "nope";
  EXPECT_EQ(billing_->PutParameters(clerk_a_, r1_, 2, bad).status().field(),
            "sub_allocations[0].tariff_code");
  bad = p;
  bad.sub_allocations[0].fixed_kwh = 10;
  EXPECT_EQ(billing_->PutParameters(clerk_a_, r1_, 2, bad).status().field(), "sub_allocations[0]");
  bad = p;
  bad.suspensions[0].last = Date{2026, 2, 1};
  EXPECT_EQ(billing_->PutParameters(clerk_a_, r1_, 2, bad).status().field(), "suspensions[0]");
  bad = p;
  bad.line_loss_rate = Decimal{6, 1};
  EXPECT_EQ(billing_->PutParameters(clerk_a_, r1_, 2, bad).status().field(), "line_loss_rate");
  EXPECT_EQ(billing_->GetParameters(clerk_a_, r1_)->household_multiplier, 3);
  // Scope and permission.
  EXPECT_EQ(billing_->GetParameters(clerk_b_, r1_).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(billing_->PutParameters(clerk_b_, r1_, 2, p).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(billing_->PutParameters(counter_a_, r1_, 2, p).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_log WHERE entity = 'billing_parameters' AND "
                  "entity_id = $1",
                  {std::to_string(r1_)}),
            2);
  // The run rates with them: the household multiplier and free allowance reach the bill.
  ASSERT_EQ(Run(clerk_a_, {2026, 9}, u_->county_a).job.status, "succeeded");
  auto trial = billing_->TrialStored(clerk_a_, r1_, {2026, 9});
  ASSERT_TRUE(trial.ok()) << trial.status().ToString();
  Bill r1 = BillOf(r1_, {2026, 9});
  EXPECT_EQ(r1.total, trial->rated.total);
  EXPECT_NE(r1.total, Money::FromFen(10000));  // the free allowance and the 5 % share count
}

TEST_P(BillingTest, TrialFromStoredReadsSavesNothing) {
  auto t = billing_->TrialStored(clerk_a_, r1_, {2026, 9});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->rated.total, Money::FromFen(10000));
  EXPECT_EQ(t->rated.billed_kwh, 200);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM bills"), 0);
  EXPECT_EQ(billing_->TrialStored(clerk_a_, u1_, {2026, 9}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(billing_->TrialStored(clerk_b_, r1_, {2026, 9}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(billing_->TrialStored(counter_a_, r1_, {2026, 9}).status().code(), StatusCode::kOk);
}

TEST_P(BillingTest, DocumentsOfStoredBills) {
  ASSERT_EQ(Run(clerk_a_, {2026, 9}, u_->county_a).job.status, "succeeded");
  Bill l1 = BillOf(l1_, {2026, 9});
  auto pdf = billing_->BillPdf(clerk_a_, l1.id);
  ASSERT_TRUE(pdf.ok()) << pdf.status().ToString();
  EXPECT_EQ(pdf->substr(0, 5), "%PDF-");
  EXPECT_EQ(billing_->BillPdf(clerk_b_, l1.id).status().code(), StatusCode::kNotFound);
  auto xlsx = billing_->ExportXlsx(clerk_a_, {.period = YearMonth{2026, 9}});
  ASSERT_TRUE(xlsx.ok()) << xlsx.status().ToString();
  EXPECT_EQ(xlsx->substr(0, 2), "PK");
  EXPECT_EQ(billing_->ExportXlsx(counter_a_, {}).status().code(), StatusCode::kPermissionDenied);
}

TEST_P(BillingTest, RunsAreScopedAndOneRunAtATimePerDepartmentAndPeriod) {
  auto run = billing_->StartRun(clerk_a_, {.period = {2026, 9}, .department_id = u_->county_a});
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->job.status, "queued");
  EXPECT_EQ(billing_->StartRun(clerk_a_, {.period = {2026, 9}, .department_id = u_->county_a})
                .status()
                .code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(billing_->StartRun(clerk_a_, {.period = {2026, 9}, .department_id = u_->county_b})
                .status()
                .field(),
            "department_id");
  EXPECT_EQ(billing_->StartRun(counter_a_, {.period = {2026, 9}, .department_id = u_->county_a})
                .status()
                .code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(billing_->GetRun(clerk_b_, run->id).status().code(), StatusCode::kNotFound);
  int64_t total = 0;
  auto mine = billing_->ListRuns(clerk_a_, {}, &total);
  ASSERT_TRUE(mine.ok());
  EXPECT_EQ(total, 1);
  auto theirs = billing_->ListRuns(clerk_b_, {}, &total);
  EXPECT_EQ(total, 0);
  // Cancelled while queued; resumed later.
  ASSERT_TRUE(runner_->Cancel(clerk_a_, run->job_id).ok());
  EXPECT_EQ(billing_->GetRun(clerk_a_, run->id)->job.status, "cancelled");
  ASSERT_TRUE(billing_->ResumeRun(clerk_a_, run->id).ok());
  ASSERT_EQ(*runner_->RunPendingForTest(), 1);
  EXPECT_EQ(billing_->GetRun(clerk_a_, run->id)->bills, 5);
}

INSTANTIATE_TEST_SUITE_P(Backends, BillingTest,
                         ::testing::ValuesIn(store::testing::AvailableBackendsForTest()),
                         [](const auto& p) { return p.param; });

}  // namespace
}  // namespace gridmis::billing
