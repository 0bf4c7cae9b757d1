// Bill runs, bills, review, issue, corrections, documents, billing parameters and the trial from
// stored reads over HTTP, on SQLite and PostgreSQL. The customers, points, meters and approved
// reads are made through the services; everything billing goes through the API, and the server's
// own job runner runs the bill runs.
#include <nlohmann/json.hpp>

#include "api/api_fixture.h"
#include "app/domain.h"
#include "customer/customer.h"
#include "grid/grid.h"
#include "jobs/jobs.h"
#include "metering/metering.h"
#include "reading/reading.h"

namespace gridmis::testing {
namespace {

using nlohmann::json;

int64_t LocalInstant(Date d, int hour) {
  return d.ToDays() * kMicrosPerDay + (hour - 8) * 3600 * kMicrosPerSecond;
}

class BillingApiTest : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    sys_ = org::Actor::System("test");
    CreateUser("hesuan_a", county_a_, "billing_clerk");
    CreateUser("hesuan_b", county_b_, "billing_clerk");
    app::Domain& d = app_->domain();
    for (auto [dept, tag] : {std::pair{county_a_, "A"}, std::pair{county_b_, "B"}}) {
      grid::SubstationInput s;
      s.code = std::string("SUB-") + tag;
      s.name = *s.code;
      s.voltage_v = 35'000;
      s.department_id = dept;
      auto sub = d.grid().CreateSubstation(sys_, s);
      ASSERT_TRUE(sub.ok()) << sub.status().ToString();
      grid::FeederInput f;
      f.code = std::string("F-") + tag;
      f.name = *f.code;
      f.substation_id = sub->id;
      auto feeder = d.grid().CreateFeeder(sys_, f);
      ASSERT_TRUE(feeder.ok());
      grid::TransformerAreaInput a;
      a.code = std::string("TA-") + tag;
      a.name = *a.code;
      a.feeder_id = feeder->id;
      a.capacity_kva = 400;
      auto area = d.grid().CreateTransformerArea(sys_, a);
      ASSERT_TRUE(area.ok());
      areas_[dept] = area->id;
    }
    reading_ = std::make_unique<reading::ReadingService>(app_->db(), clock_);
    r1_ = MakePoint("R1", "residential", "residential_lv", county_a_, {{"total", "1000"}});
    r2_ = MakePoint("R2", "residential", "residential_lv", county_a_, {{"total", "500"}});
    c1_ = MakePoint("C1", "commercial", "commercial_lv", county_a_,
                    {{"total", "100"}, {"peak", "40"}, {"flat", "30"}, {"valley", "30"}});
    l1_ = MakePoint("L1", "large_industry", "large_industry_10kv", county_a_,
                    {{"total", "10"},
                     {"peak", "4"},
                     {"flat", "3"},
                     {"valley", "3"},
                     {"reactive_import", "5"},
                     {"max_demand", "0"}},
                    true);
    b1_ = MakePoint("B1", "residential", "residential_lv", county_b_, {{"total", "10"}});
    Enter(r1_, {{"total", "1200"}});
    Enter(r2_, {{"total", "500"}});  // zero use: a zero bill for review
    Enter(c1_, {{"total", "1100"}, {"peak", "440"}, {"flat", "330"}, {"valley", "330"}});
    Enter(l1_, {{"total", "110"},
                {"peak", "44"},
                {"flat", "33"},
                {"valley", "33"},
                {"reactive_import", "55"},
                {"max_demand", "0.2"}});
    Enter(b1_, {{"total", "20"}});
    hesuan_a_ = LoginAs("hesuan_a");
    hesuan_b_ = LoginAs("hesuan_b");
    counter_a_ = LoginAs("clerk_a");
  }

  int64_t MakePoint(const std::string& code, const std::string& category, const std::string& tariff,
                    int64_t dept, std::vector<std::pair<std::string, std::string>> install,
                    bool industry = false) {
    app::Domain& d = app_->domain();
    customer::CustomerInput c;
    c.customer_no = "15" + std::to_string(20'000'000 + (++seq_));
    c.name = "客户" + code;
    c.category = category;
    c.address = "集宁区" + code + "路8号";
    c.department_id = dept;
    c.transformer_area_id = std::optional<int64_t>(areas_[dept]);
    auto cust = d.customers().Create(sys_, c);
    EXPECT_TRUE(cust.ok()) << cust.status().ToString();
    if (!cust.ok()) return 0;
    customer::AccountInput a;
    a.account_no = "AC" + *c.customer_no;
    a.name = *c.name;
    EXPECT_TRUE(d.customers().CreateAccount(sys_, cust->id, a).ok());
    metering::MeteringPointInput in;
    in.code = "MP-" + code;
    in.customer_id = cust->id;
    in.voltage_v = industry ? 10'000 : 220;
    in.tariff_code = tariff;
    in.contracted_capacity_kva = industry ? 630 : 0;
    in.pf_standard = industry ? "0.90" : "none";
    auto p = d.metering().CreatePoint(sys_, in);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    if (!p.ok()) return 0;
    metering::MeterInput mi;
    mi.asset_no = "33020" + std::to_string(100'000 + seq_);
    mi.make = "林洋";
    mi.model = "DTZ71";
    mi.phases = 3;
    mi.accuracy_class = "0.5S";
    metering::Readings readings;
    std::vector<std::string> regs;
    for (const auto& [reg, v] : install) {
      regs.push_back(reg);
      readings[reg] = Energy::ParseKwh(v).value();
    }
    mi.registers = regs;
    if (industry) {
      mi.ct_ratio = "100/5";
      mi.pt_ratio = "10000/100";
    }
    mi.department_id = dept;
    auto m = d.metering().CreateMeter(sys_, mi);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    if (!m.ok()) return 0;
    metering::InstallInput ii;
    ii.meter_id = m->id;
    ii.installed_at_us = LocalInstant(Date{2026, 8, 31}, 12);
    ii.readings = readings;
    auto inst = d.metering().Install(sys_, p->id, ii);
    EXPECT_TRUE(inst.ok()) << inst.status().ToString();
    return p->id;
  }

  void Enter(int64_t point, std::vector<std::pair<std::string, std::string>> regs) {
    reading::ReadInput in;
    in.metering_point_id = point;
    in.period = YearMonth{2026, 9};
    in.read_date = Date{2026, 9, 28};
    for (const auto& [reg, v] : regs) in.registers[reg] = Energy::ParseKwh(v).value();
    auto r = reading_->EnterRead(sys_, in);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    if (r->status != "approved") {
      ASSERT_TRUE(reading_->Approve(sys_, r->id, r->version).ok());
    }
  }

  // Starts a run over HTTP and waits for the server's runner to finish it.
  json RunToEnd(HttpClient& c, int64_t dept) {
    auto r =
        c.Post("/api/v1/bill-runs", json{{"period", "2026-09"}, {"department_id", dept}}.dump());
    EXPECT_EQ(r.status, 202) << r.body;
    json run = Json(r);
    auto job = app_->domain().jobs().WaitForJob(run.value("job_id", int64_t{0}), 60'000);
    EXPECT_TRUE(job.ok());
    EXPECT_EQ(job->status, "succeeded") << job->error;
    return Json(c.Get("/api/v1/bill-runs/" + std::to_string(run.value("id", int64_t{0}))));
  }

  json BillOf(HttpClient& c, int64_t point) {
    auto r = c.Get("/api/v1/bills?period=2026-09&metering_point_id=" + std::to_string(point));
    EXPECT_EQ(r.status, 200) << r.body;
    json list = Json(r);
    EXPECT_EQ(list["items"].size(), 1u) << r.body;
    if (list["items"].empty()) return json::object();
    int64_t id = list["items"][0]["id"];
    return Json(c.Get("/api/v1/bills/" + std::to_string(id)));
  }

  static std::string BillPath(const json& b, const std::string& action = "") {
    return "/api/v1/bills/" + std::to_string(b.value("id", int64_t{0})) + action;
  }

  org::Actor sys_;
  std::unique_ptr<reading::ReadingService> reading_;
  std::map<int64_t, int64_t> areas_;
  int64_t seq_ = 0, r1_ = 0, r2_ = 0, c1_ = 0, l1_ = 0, b1_ = 0;
  std::unique_ptr<HttpClient> hesuan_a_, hesuan_b_, counter_a_;
};

TEST_P(BillingApiTest, ABillRunOverHttp) {
  // Billing parameters first: strict bodies, then created with version 0.
  std::string params = "/api/v1/metering-points/" + std::to_string(l1_) + "/billing-parameters";
  auto bad = hesuan_a_->Put(params, json{{"version", 0}, {"basic_mod", "capacity"}}.dump());
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Json(bad)["error"]["field"], "basic_mod");
  bad = hesuan_a_->Put(params,
                       json{{"version", 0},
                            {"basic_mode", "capacity"},
                            {"sub_allocations", {{{"tariff_code", "other_lv"}, {"ratio", "1.5"}}}}}
                           .dump());
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(Json(bad)["error"]["field"], "sub_allocations[0].ratio");
  EXPECT_EQ(counter_a_->Put(params, json{{"version", 0}}.dump()).status, 403);
  EXPECT_EQ(hesuan_b_->Get(params).status, 404);
  auto put = hesuan_a_->Put(params, json{{"version", 0}, {"basic_mode", "capacity"}}.dump());
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(Json(put)["version"], 1);
  EXPECT_EQ(Json(hesuan_a_->Get(params))["basic_mode"], "capacity");

  // The run: the server's job runner bills the county's four points.
  EXPECT_EQ(counter_a_
                ->Post("/api/v1/bill-runs",
                       json{{"period", "2026-09"}, {"department_id", county_a_}}.dump())
                .status,
            403);
  auto other = hesuan_a_->Post("/api/v1/bill-runs",
                               json{{"period", "2026-09"}, {"department_id", county_b_}}.dump());
  EXPECT_EQ(other.status, 400);
  EXPECT_EQ(Json(other)["error"]["field"], "department_id");
  EXPECT_EQ(hesuan_a_
                ->Post("/api/v1/bill-runs",
                       json{{"period", "2026-13"}, {"department_id", county_a_}}.dump())
                .status,
            400);
  json run = RunToEnd(*hesuan_a_, county_a_);
  EXPECT_EQ(run["status"], "succeeded") << run.dump();
  EXPECT_EQ(run["summary"]["bills"], 4);
  EXPECT_EQ(run["summary"]["review"], 1);
  EXPECT_EQ(run["summary"]["exceptions"], 0);
  EXPECT_TRUE(run["exceptions"].empty());
  json job = Json(hesuan_a_->Get("/api/v1/jobs/" + std::to_string(run["job_id"].get<int64_t>())));
  EXPECT_EQ(job["kind"], "bill_run");
  EXPECT_EQ(job["status"], "succeeded");
  EXPECT_EQ(job["percent"], 100);
  EXPECT_EQ(job["result"]["bills"], 4);

  auto list = hesuan_a_->Get("/api/v1/bills?run_id=" + std::to_string(run["id"].get<int64_t>()));
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(Json(list)["total"], 4);
  json l1 = BillOf(*hesuan_a_, l1_);
  EXPECT_EQ(l1["basic_charge"], "13230.00");
  EXPECT_EQ(l1["billed_kwh"], 200000);
  EXPECT_FALSE(l1["lines"].empty());
  EXPECT_EQ(l1["detail"]["meters"][0]["multiplier"], 2000);
  json queue = Json(hesuan_a_->Get("/api/v1/bills?status=review"));
  ASSERT_EQ(queue["items"].size(), 1u);
  EXPECT_EQ(queue["items"][0]["metering_point_id"], r2_);
  EXPECT_EQ(queue["items"][0]["review_flags"], json::array({"zero"}));
  // Another county's clerk sees none of it.
  EXPECT_EQ(hesuan_b_->Get(BillPath(l1)).status, 404);
  EXPECT_EQ(Json(hesuan_b_->Get("/api/v1/bills"))["total"], 0);
  EXPECT_EQ(hesuan_b_->Get("/api/v1/bill-runs/" + std::to_string(run["id"].get<int64_t>())).status,
            404);
  // The same run again makes nothing new.
  json again = RunToEnd(*hesuan_a_, county_a_);
  EXPECT_EQ(again["summary"]["bills"], 0);
  EXPECT_EQ(again["summary"]["skipped"], 4);
}

TEST_P(BillingApiTest, ReviewIssueAndCancelRebillOverHttp) {
  json run = RunToEnd(*hesuan_a_, county_a_);
  // Without billing parameters the two-part point cannot be rated: an exception, not a bill.
  EXPECT_EQ(run["summary"]["bills"], 3);
  ASSERT_EQ(run["exceptions"].size(), 1u) << run.dump();
  EXPECT_EQ(run["exceptions"][0]["metering_point_id"], l1_);
  EXPECT_EQ(run["exceptions"][0]["metering_point_code"], "MP-L1");
  EXPECT_FALSE(run["exceptions"][0]["message"].get<std::string>().empty());
  auto ex = Json(hesuan_a_->Get("/api/v1/bill-runs/" + std::to_string(run["id"].get<int64_t>()) +
                                "/exceptions"));
  EXPECT_EQ(ex["total"], 1);
  json r1 = BillOf(*hesuan_a_, r1_);
  EXPECT_EQ(r1["status"], "calculated");
  EXPECT_EQ(r1["total"], "100.00");
  // Stale version, missing reason, unknown field.
  auto stale = hesuan_a_->Post(BillPath(r1, "/approve"), json{{"version", 99}}.dump());
  EXPECT_EQ(stale.status, 409);
  EXPECT_EQ(Json(stale)["error"]["code"], "CONFLICT");
  auto no_reason = hesuan_a_->Post(BillPath(r1, "/hold"), json{{"version", r1["version"]}}.dump());
  EXPECT_EQ(no_reason.status, 400);
  EXPECT_EQ(Json(no_reason)["error"]["field"], "reason");
  auto unknown = hesuan_a_->Post(BillPath(r1, "/approve"),
                                 json{{"version", r1["version"]}, {"comment", "x"}}.dump());
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(Json(unknown)["error"]["field"], "comment");
  EXPECT_EQ(
      counter_a_->Post(BillPath(r1, "/approve"), json{{"version", r1["version"]}}.dump()).status,
      403);
  // Hold, unhold, approve, issue.
  auto held = hesuan_a_->Post(BillPath(r1, "/hold"),
                              json{{"version", r1["version"]}, {"reason", "待核实"}}.dump());
  ASSERT_EQ(held.status, 200) << held.body;
  EXPECT_EQ(Json(held)["status"], "held");
  auto unheld =
      hesuan_a_->Post(BillPath(r1, "/unhold"), json{{"version", Json(held)["version"]}}.dump());
  ASSERT_EQ(unheld.status, 200) << unheld.body;
  auto approved =
      hesuan_a_->Post(BillPath(r1, "/approve"),
                      json{{"version", Json(unheld)["version"]}, {"note", "已核实"}}.dump());
  ASSERT_EQ(approved.status, 200) << approved.body;
  EXPECT_EQ(Json(approved)["status"], "approved");
  auto issued =
      hesuan_a_->Post(BillPath(r1, "/issue"), json{{"version", Json(approved)["version"]}}.dump());
  ASSERT_EQ(issued.status, 200) << issued.body;
  json ib = Json(issued);
  EXPECT_EQ(ib["status"], "issued");
  EXPECT_EQ(ib["due_date"], "2027-01-30");  // 2027-01-15 + 15 days
  EXPECT_EQ(
      hesuan_a_->Post(BillPath(r1, "/recalculate"), json{{"version", ib["version"]}}.dump()).status,
      409);
  // Cancel and rebill.
  auto corr = hesuan_a_->Post(BillPath(r1, "/cancel"),
                              json{{"version", ib["version"]}, {"reason", "电价执行错误"}}.dump());
  ASSERT_EQ(corr.status, 200) << corr.body;
  json c = Json(corr);
  EXPECT_EQ(c["cancelled"]["status"], "cancelled");
  EXPECT_EQ(c["cancelled"]["cancel_reason"], "电价执行错误");
  EXPECT_EQ(c["rebill"]["seq"], 2);
  EXPECT_EQ(c["rebill"]["replaces_bill_id"], r1["id"]);
  EXPECT_EQ(c["rebill"]["total"], "100.00");
  EXPECT_EQ(c["rebill"]["status"], "calculated");
  // The run's remaining bills are issued by a job; the zero bill waits for review.
  auto job = hesuan_a_->Post(
      "/api/v1/bill-runs/" + std::to_string(run["id"].get<int64_t>()) + "/issue", "{}");
  ASSERT_EQ(job.status, 202) << job.body;
  EXPECT_EQ(Json(job)["kind"], "bill_issue");
  auto done = app_->domain().jobs().WaitForJob(Json(job)["id"], 60'000);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->status, "succeeded") << done->error;
  json issued_list = Json(hesuan_a_->Get("/api/v1/bills?status=issued"));
  EXPECT_EQ(issued_list["total"], 1);  // C1 (R1's rebill has no run; L1 was not billed)
  ASSERT_FALSE(issued_list["items"].empty());
  EXPECT_EQ(issued_list["items"][0]["metering_point_id"], c1_);
  EXPECT_EQ(Json(hesuan_a_->Get("/api/v1/bills?status=review"))["total"], 1);
}

TEST_P(BillingApiTest, DocumentsAndTrialOverHttp) {
  RunToEnd(*hesuan_a_, county_a_);
  json c1 = BillOf(*hesuan_a_, c1_);
  auto pdf = hesuan_a_->Get(BillPath(c1, "/pdf"));
  ASSERT_EQ(pdf.status, 200);
  EXPECT_EQ(pdf.Header("content-type"), "application/pdf");
  EXPECT_EQ(pdf.body.substr(0, 5), "%PDF-");
  EXPECT_EQ(hesuan_b_->Get(BillPath(c1, "/pdf")).status, 404);
  auto xlsx = hesuan_a_->Get("/api/v1/bills/export.xlsx?period=2026-09");
  ASSERT_EQ(xlsx.status, 200) << xlsx.body.substr(0, 200);
  EXPECT_EQ(xlsx.Header("content-type"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
  EXPECT_EQ(xlsx.body.substr(0, 2), "PK");
  EXPECT_EQ(counter_a_->Get("/api/v1/bills/export.xlsx").status, 403);
  EXPECT_EQ(hesuan_a_->Get("/api/v1/bills/export.xlsx?period=2026-9").status, 400);

  // 试算 from the stored read: the counter clerk may; nothing is saved.
  auto trial = counter_a_->Post("/api/v1/billing/trial-stored",
                                json{{"metering_point_id", c1_}, {"period", "2026-09"}}.dump());
  ASSERT_EQ(trial.status, 200) << trial.body;
  EXPECT_EQ(Json(trial)["total"], c1["total"]);
  EXPECT_EQ(Json(trial)["lines"].size(), c1["lines"].size());
  auto bad =
      counter_a_->Post("/api/v1/billing/trial-stored",
                       json{{"metering_point_id", c1_}, {"period", "2026-09"}, {"x", 1}}.dump());
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Json(bad)["error"]["field"], "x");
  EXPECT_EQ(hesuan_b_
                ->Post("/api/v1/billing/trial-stored",
                       json{{"metering_point_id", c1_}, {"period", "2026-09"}}.dump())
                .status,
            404);
  auto none = counter_a_->Post("/api/v1/billing/trial-stored",
                               json{{"metering_point_id", c1_}, {"period", "2026-10"}}.dump());
  EXPECT_EQ(none.status, 404) << none.body;
}

GRIDMIS_API_TEST_BACKENDS(BillingApiTest);

}  // namespace
}  // namespace gridmis::testing
