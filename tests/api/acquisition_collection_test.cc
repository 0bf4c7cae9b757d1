// Collection over HTTP: tasks (create, list, versioned edit, scope), runs as background jobs
// (a task now, an ad hoc collection), their per-terminal results, failures and success
// statistics, and the reads of collected data — daily and monthly frozen registers, a day's
// curve with its quality flags, events, terminals' online state — with permissions and data
// scope. No front end runs here: every terminal is "not connected" and fails, as in production
// when the front end is down.
#include "acquisition/readings.h"
#include "acquisition/terminals.h"
#include "api/api_fixture.h"
#include "app/domain.h"
#include "customer/customer.h"
#include "grid/grid.h"
#include "jobs/jobs.h"
#include "metering/metering.h"
#include "reading/billable.h"

namespace gridmis::testing {
namespace {

using nlohmann::json;

class CollectionApiTest : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    CreateUser("operator_a", county_a_, "acquisition_operator");
    CreateUser("operator_b", county_b_, "acquisition_operator");
    CreateUser("analyst_a", county_a_, "analyst");
    const org::Actor sys = org::Actor::System("test");
    app::Domain& d = app_->domain();
    const Clock& clock = app_->clock();
    for (bool b : {false, true}) {
      std::string sfx = b ? "B" : "A";
      int64_t dept = b ? county_b_ : county_a_;
      grid::SubstationInput s;
      s.code = "SUB-" + sfx;
      s.name = *s.code;
      s.voltage_v = 110'000;
      s.department_id = dept;
      auto sub = d.grid().CreateSubstation(sys, s);
      ASSERT_TRUE(sub.ok()) << sub.status().ToString();
      grid::FeederInput f;
      f.code = "F-" + sfx;
      f.name = *f.code;
      f.substation_id = sub->id;
      auto feeder = d.grid().CreateFeeder(sys, f);
      ASSERT_TRUE(feeder.ok());
      grid::TransformerAreaInput ta;
      ta.code = "TA-" + sfx;
      ta.name = *ta.code;
      ta.feeder_id = feeder->id;
      ta.capacity_kva = 400;
      ta.department_id = dept;
      auto area = d.grid().CreateTransformerArea(sys, ta);
      ASSERT_TRUE(area.ok());
      customer::CustomerInput c;
      c.customer_no = b ? "1502000001" : "1501000001";
      c.name = "客户" + sfx;
      c.category = "residential";
      c.address = "幸福路";
      c.department_id = dept;
      auto cust = d.customers().Create(sys, c);
      ASSERT_TRUE(cust.ok()) << cust.status().ToString();
      acquisition::TerminalInput ti;
      ti.asset_no = "T-" + sfx;
      ti.kind = "public_transformer";
      ti.area_code = "3201";
      ti.address = b ? 2 : 1;
      ti.transformer_area_id = std::optional<int64_t>(area->id);
      auto t = d.terminals().Create(sys, ti);
      ASSERT_TRUE(t.ok()) << t.status().ToString();
      (b ? terminal_b_ : terminal_a_) = t->id;
      for (int pn = 1; pn <= (b ? 1 : 2); ++pn) {
        metering::MeteringPointInput mp;
        mp.code = "MP-" + sfx + std::to_string(pn);
        mp.customer_id = cust->id;
        mp.voltage_v = 220;
        mp.tariff_code = "residential";
        auto point = d.metering().CreatePoint(sys, mp);
        ASSERT_TRUE(point.ok()) << point.status().ToString();
        metering::MeterInput m;
        m.asset_no = "M-" + sfx + std::to_string(pn);
        m.make = "威胜";
        m.model = "DDZY";
        m.phases = 1;
        m.accuracy_class = "2";
        m.registers = std::vector<std::string>{"total"};
        m.department_id = dept;
        auto meter = d.metering().CreateMeter(sys, m);
        ASSERT_TRUE(meter.ok()) << meter.status().ToString();
        metering::InstallInput in;
        in.meter_id = meter->id;
        in.installed_at_us = clock.NowMicros() - 30 * kMicrosPerDay;
        in.readings = {{"total", Energy::FromKwh(0)}};
        ASSERT_TRUE(d.metering().Install(sys, point->id, in).ok());
        ASSERT_TRUE(d.terminals().AddMeter(sys, t->id, {meter->id, pn, {}, {}, {}}).ok());
        (b ? points_b_ : points_a_).push_back(point->id);
      }
    }
    op_a_ = LoginAs("operator_a");
    op_b_ = LoginAs("operator_b");
    mgr_ = LoginAs("manager");
  }

  // Waits for the job (run by the server's pool) to finish.
  json WaitForJob(int64_t id) {
    auto j = app_->domain().jobs().WaitForJob(id, 60'000);
    EXPECT_TRUE(j.ok()) << j.status().ToString();
    EXPECT_TRUE(j.ok() && j->finished()) << (j.ok() ? j->status : "");
    return j.ok() ? jobs::ToJson(*j) : json();
  }

  Status WriteDb(const std::function<Status(store::Connection&)>& fn) {
    return app_->db().Write(fn);
  }

  std::unique_ptr<HttpClient> op_a_, op_b_, mgr_;
  int64_t terminal_a_ = 0, terminal_b_ = 0;
  std::vector<int64_t> points_a_, points_b_;
};

TEST_P(CollectionApiTest, TasksAreCreatedEditedWithTheirVersionAndScoped) {
  auto r = op_a_->Post("/api/v1/acquisition/collection-tasks", json{{"name", "甲县日冻结"},
                                                                    {"kind", "daily_frozen"},
                                                                    {"time_of_day", "02:30"},
                                                                    {"catch_up_days", 3}}
                                                                   .dump());
  ASSERT_EQ(r.status, 201) << r.body;
  json task = Json(r);
  EXPECT_EQ(task["department_id"], county_a_);
  EXPECT_EQ(task["version"], 1);
  EXPECT_TRUE(task["last_run_key"].is_null());
  int64_t id = task["id"];

  // Strict bodies: unknown fields, bad values, a department outside the scope.
  int64_t audits = AuditCount();
  r = op_a_->Post("/api/v1/acquisition/collection-tasks",
                  json{{"name", "x"}, {"kind", "daily_frozen"}, {"color", "red"}}.dump());
  EXPECT_EQ(r.status, 400) << r.body;
  r = op_a_->Post("/api/v1/acquisition/collection-tasks",
                  json{{"name", "x"}, {"kind", "daily_frozen"}, {"time_of_day", "2:30"}}.dump());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Json(r)["error"]["field"], "time_of_day");
  r = op_a_->Post(
      "/api/v1/acquisition/collection-tasks",
      json{{"name", "x"}, {"kind", "daily_frozen"}, {"department_id", county_b_}}.dump());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Json(r)["error"]["field"], "department_id");
  r = op_a_->Post("/api/v1/acquisition/collection-tasks",
                  json{{"name", "甲县日冻结"}, {"kind", "curve"}}.dump());
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(AuditCount(), audits);

  r = op_a_->Patch("/api/v1/acquisition/collection-tasks/" + std::to_string(id),
                   json{{"version", 1}, {"enabled", false}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r)["enabled"], false);
  EXPECT_EQ(Json(r)["version"], 2);
  r = op_a_->Patch("/api/v1/acquisition/collection-tasks/" + std::to_string(id),
                   json{{"version", 1}, {"enabled", true}}.dump());
  EXPECT_EQ(r.status, 409) << r.body;

  // County B sees nothing of it; an analyst reads but may not change.
  EXPECT_EQ(op_b_->Get("/api/v1/acquisition/collection-tasks/" + std::to_string(id)).status, 404);
  EXPECT_TRUE(Json(op_b_->Get("/api/v1/acquisition/collection-tasks"))["items"].empty());
  auto analyst = LoginAs("analyst_a");
  EXPECT_EQ(Json(analyst->Get("/api/v1/acquisition/collection-tasks"))["items"].size(), 1u);
  EXPECT_EQ(analyst
                ->Patch("/api/v1/acquisition/collection-tasks/" + std::to_string(id),
                        json{{"version", 2}, {"enabled", true}}.dump())
                .status,
            403);
  EXPECT_EQ(LoginAs("clerk_a")->Get("/api/v1/acquisition/collection-tasks").status, 403);
}

TEST_P(CollectionApiTest, ARunBecomesAJobWithResultsFailuresAndStatistics) {
  auto r = mgr_->Post(
      "/api/v1/acquisition/collection-tasks",
      json{{"name", "全市日冻结"}, {"kind", "daily_frozen"}, {"catch_up_days", 1}}.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  int64_t task = Json(r)["id"];
  r = mgr_->Post("/api/v1/acquisition/collection-tasks/" + std::to_string(task) + "/run",
                 json{{"day", "2027-01-14"}}.dump());
  ASSERT_EQ(r.status, 202) << r.body;
  json job = Json(r);
  EXPECT_EQ(job["kind"], "acquisition.collect");
  EXPECT_EQ(job["params"]["day"], "2027-01-14");
  json done = WaitForJob(job["id"]);
  EXPECT_EQ(done["status"], "succeeded") << done.dump();
  // Both terminals, for the day and (catch-up: that day never ran) the day before.
  EXPECT_EQ(done["result"]["failed"], 4);
  EXPECT_EQ(done["result"]["catch_up"], 2);

  // No front end: both terminals failed, every point listed missing.
  r = mgr_->Get("/api/v1/acquisition/failures?day=2027-01-14");
  ASSERT_EQ(r.status, 200) << r.body;
  json failures = Json(r);
  EXPECT_EQ(failures["total"], 2);
  json first = failures["items"][0];
  EXPECT_EQ(first["status"], "failed");
  EXPECT_EQ(first["terminal_address"], "3201-00001");
  EXPECT_EQ(first["missing_count"], 2);
  EXPECT_EQ(first["missing_points"][0]["code"], "MP-A1");
  EXPECT_NE(first["last_error"].get<std::string>().find("front end"), std::string::npos);
  // County B's operator sees its own terminal only.
  EXPECT_EQ(Json(op_b_->Get("/api/v1/acquisition/failures?day=2027-01-14"))["total"], 1);
  EXPECT_EQ(Json(mgr_->Get("/api/v1/acquisition/collection-results?status=complete"))["total"], 0);

  r = mgr_->Get("/api/v1/acquisition/statistics?from=2027-01-14&to=2027-01-14");
  ASSERT_EQ(r.status, 200) << r.body;
  json stats = Json(r)["items"];
  ASSERT_FALSE(stats.empty());
  EXPECT_EQ(stats[0]["key"], std::to_string(city_));
  EXPECT_EQ(stats[0]["expected_points"], 3);
  EXPECT_EQ(stats[0]["collected_points"], 0);
  EXPECT_EQ(stats[0]["rate_percent"], "0.00");
  r = mgr_->Get("/api/v1/acquisition/statistics?from=2027-01-12&to=2027-01-14&group_by=day");
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(Json(r)["items"].size(), 3u);
  EXPECT_TRUE(Json(r)["items"][0]["rate_percent"].is_null());  // nothing collected that day
  EXPECT_EQ(Json(r)["items"][1]["rate_percent"], "0.00");
  EXPECT_EQ(mgr_->Get("/api/v1/acquisition/statistics?group_by=color").status, 400);

  // An ad hoc collection; the request is checked strictly.
  r = op_a_->Post("/api/v1/acquisition/collections",
                  json{{"kind", "monthly_frozen"}, {"month", "2026-12"}}.dump());
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(Json(r)["department_id"], county_a_);
  done = WaitForJob(Json(r)["id"]);
  EXPECT_EQ(done["result"]["terminals"], 1);
  r = op_a_->Post("/api/v1/acquisition/collections",
                  json{{"kind", "monthly_frozen"}, {"day", "2026-12-01"}}.dump());
  EXPECT_EQ(r.status, 400);
  r = op_a_->Post(
      "/api/v1/acquisition/collections",
      json{{"kind", "daily_frozen"}, {"day", "2027-01-14"}, {"department_id", county_b_}}.dump());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(LoginAs("analyst_a")
                ->Post("/api/v1/acquisition/collections",
                       json{{"kind", "daily_frozen"}, {"day", "2027-01-14"}}.dump())
                .status,
            403);
}

TEST_P(CollectionApiTest, CollectedDataOfAPointAndEventsInScope) {
  const Date day{2027, 1, 14};
  ASSERT_TRUE(
      WriteDb([&](store::Connection& c) -> Status {
        reading::DailyFrozen f;
        f.metering_point_id = points_a_[0];
        f.day = day.AddDays(1);
        f.registers = {{"total", Energy::FromDwh(123456789)}, {"peak", Energy::FromDwh(23456789)}};
        RETURN_IF_ERROR(reading::StoreDailyFrozen(c, {f}));
        acquisition::MonthlyFrozen m;
        m.metering_point_id = points_a_[0];
        m.month = YearMonth{2026, 12};
        m.registers = {{"total", Energy::FromDwh(120000000)}};
        RETURN_IF_ERROR(acquisition::StoreMonthlyFrozen(c, {m}, 1));
        acquisition::Curve k;
        k.metering_point_id = points_a_[0];
        k.day = day;
        for (int i = 0; i < 96; ++i) {
          k.values.push_back(Energy::FromDwh(2500));
          k.quality += 'V';
        }
        k.values[40].reset();
        k.quality[40] = 'M';
        k.quality[41] = 'E';
        RETURN_IF_ERROR(acquisition::StoreCurves(c, {k}));
        acquisition::MeterEvent e;
        e.terminal_id = terminal_a_;
        e.metering_point_id = points_a_[1];
        e.erc = 5;
        e.kind = "remote_trip";
        e.meaning = "remote trip";
        e.occurred_at_us = app_->clock().NowMicros() - kMicrosPerDay;
        e.detail_json = R"({"erc":5})";
        e.received_at_us = app_->clock().NowMicros();
        std::vector<acquisition::MeterEvent> events = {e};
        RETURN_IF_ERROR(acquisition::InsertEvents(c, &events).status());
        return acquisition::ApplyTerminalStatus(
            c,
            {{terminal_a_, acquisition::TerminalStatusChange::Kind::kOnline, "10.1.1.1:50000", "",
              app_->clock().NowMicros()}},
            app_->clock().NowMicros());
      }).ok());
  std::string point = "/api/v1/acquisition/metering-points/" + std::to_string(points_a_[0]);

  auto r = op_a_->Get(point + "/daily-frozen?from=2027-01-10&to=2027-01-15");
  ASSERT_EQ(r.status, 200) << r.body;
  json items = Json(r)["items"];
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["day"], "2027-01-15");
  EXPECT_EQ(items[0]["registers"]["total"], "12345.6789");
  EXPECT_EQ(items[0]["registers"]["peak"], "2345.6789");

  r = op_a_->Get(point + "/monthly-frozen?from=2026-10&to=2027-01");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r)["items"][0]["month"], "2026-12");
  EXPECT_EQ(Json(r)["items"][0]["registers"]["total"], "12000.0000");

  r = op_a_->Get(point + "/curve?day=2027-01-14");
  ASSERT_EQ(r.status, 200) << r.body;
  json curve = Json(r);
  ASSERT_EQ(curve["values"].size(), 96u);
  EXPECT_EQ(curve["values"][0], "0.2500");
  EXPECT_TRUE(curve["values"][40].is_null());
  EXPECT_EQ(curve["quality"][40], "missing");
  EXPECT_EQ(curve["quality"][41], "estimated");
  EXPECT_EQ(curve["times"][40], "10:00");
  EXPECT_EQ(curve["missing"], 1);
  EXPECT_TRUE(curve["total"].is_null());
  EXPECT_EQ(op_a_->Get(point + "/curve?day=2027-01-13").status, 404);
  EXPECT_EQ(op_a_->Get(point + "/curve").status, 400);
  EXPECT_EQ(op_a_->Get(point + "/curve?day=2027-01-14&quantity=voltage").status, 400);

  // Outside the scope: not found.
  EXPECT_EQ(op_b_->Get(point + "/daily-frozen").status, 404);
  EXPECT_EQ(op_b_->Get(point + "/curve?day=2027-01-14").status, 404);

  r = op_a_->Get("/api/v1/acquisition/events?kind=remote_trip");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r)["total"], 1);
  EXPECT_EQ(Json(r)["items"][0]["metering_point_id"], points_a_[1]);
  EXPECT_EQ(Json(r)["items"][0]["detail"]["erc"], 5);
  EXPECT_EQ(Json(op_a_->Get("/api/v1/acquisition/events?from=2027-01-15"))["total"], 0);
  EXPECT_EQ(Json(op_b_->Get("/api/v1/acquisition/events"))["total"], 0);
  EXPECT_EQ(op_a_->Get("/api/v1/acquisition/events?from=yesterday").status, 400);

  r = op_a_->Get("/api/v1/acquisition/terminal-states?online=true");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r)["total"], 1);
  EXPECT_EQ(Json(r)["items"][0]["peer"], "10.1.1.1:50000");
  r = mgr_->Get("/api/v1/acquisition/terminal-states/summary");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r)["total"], 2);
  EXPECT_EQ(Json(r)["online"], 1);
  EXPECT_EQ(Json(r)["never_seen"], 1);
  EXPECT_EQ(Json(op_b_->Get("/api/v1/acquisition/terminal-states?online=true"))["total"], 0);
}

GRIDMIS_API_TEST_BACKENDS(CollectionApiTest);

}  // namespace
}  // namespace gridmis::testing
