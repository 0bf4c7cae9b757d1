// Collection end to end: a real front end on a free port with the Ingestor as its listener, a
// simulated fleet built from the test registry, the collection job run by a JobRunner. Stored
// values are compared with the simulator's meter model exactly.
#include "acquisition/collection.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "acquisition/collection_test_util.h"
#include "acquisition/vee.h"
#include "jobs/jobs.h"

namespace gridmis::acquisition {
namespace {

using gdw1376::TerminalKey;
using nlohmann::json;
using testing::AcquisitionField;
using testing::FieldPoint;
using testing::FieldTerminal;

constexpr TerminalKey kT1{3201, 1};  // concentrator, station A1: pn 1..6 billing, 7 check
constexpr TerminalKey kT2{3201, 2};  // special transformer, county A: pn 1, 2
constexpr TerminalKey kT3{3201, 3};  // concentrator, county B: pn 1..3
constexpr TerminalKey kT4{3201, 4};  // special transformer, county A: pn 1; never connects

const Date kDay{2027, 1, 14};  // yesterday at the fixture's clock

class CollectionTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto f = AcquisitionField::Create(GetParam(), clock_);
    if (!f.ok() && GetParam() == "postgres" && !store::testing::PostgresRequiredForTest()) {
      GTEST_SKIP() << f.status().ToString();
    }
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    f_ = std::move(*f);
    auto add = [&](const char* asset, const char* kind, TerminalKey k, bool b) {
      auto t = f_->AddTerminal(asset, kind, k, b);
      EXPECT_TRUE(t.ok()) << t.status().ToString();
      return t.ok() ? *t : FieldTerminal{};
    };
    t1_ = add("T1", "public_transformer", kT1, false);
    t2_ = add("T2", "special_transformer", kT2, false);
    t3_ = add("T3", "public_transformer", kT3, true);
    t4_ = add("T4", "special_transformer", kT4, false);
    auto point = [&](const FieldTerminal& t, uint16_t pn, const std::string& ct = "1/1",
                     const std::string& purpose = "billing") {
      auto p = f_->AddPoint(t, pn, ct, purpose);
      ASSERT_TRUE(p.ok()) << p.status().ToString();
    };
    for (uint16_t pn = 1; pn <= 6; ++pn) point(t1_, pn, pn == 3 ? "200/5" : "1/1");
    point(t1_, 7, "1/1", "check");
    point(t2_, 1, "100/5");
    point(t2_, 2);
    for (uint16_t pn = 1; pn <= 3; ++pn) point(t3_, pn);
    point(t4_, 1);

    auto& u = f_->u();
    auto op = u.MakeActor("operator", u.city, {"acquisition_operator"});
    auto op_b = u.MakeActor("operator_b", u.county_b, {"acquisition_operator"});
    auto an = u.MakeActor("analyst_a", u.county_a, {"analyst"});
    ASSERT_TRUE(op.ok() && op_b.ok() && an.ok());
    operator_ = *op;
    operator_b_ = *op_b;
    analyst_a_ = *an;

    vee_ = std::make_unique<vee::VeeService>(db(), clock_);
    IngestorOptions io;
    io.write_interval = std::chrono::milliseconds(5);
    io.vee = vee_.get();
    ingestor_ = std::make_unique<Ingestor>(db(), clock_, tz_, io);
    ASSERT_TRUE(ingestor_->Start().ok());
    fep::FrontEndOptions fo;
    fo.port = 0;
    fo.request_timeout = std::chrono::milliseconds(3000);
    fo.retries = 0;
    fe_ = std::make_unique<fep::FrontEnd>(fo, ingestor_.get(), clock_);
    ASSERT_TRUE(fe_->Start().ok());
    ingestor_->AttachFrontEnd(fe_.get());

    org::OrgService* org = &u.org();
    runner_ = std::make_unique<jobs::JobRunner>(
        db(), clock_, jobs::JobRunnerOptions{},
        [org](int64_t user_id) { return org->LoadActor(user_id); });
    collection_ = std::make_unique<CollectionService>(db(), clock_, tz_, *ingestor_, *runner_);
    runner_->Register(collection_->JobKind());
  }

  void TearDown() override {
    for (auto& fleet : fleets_) fleet->Stop();
    if (fe_) fe_->Stop();
    if (ingestor_) {
      ingestor_->AttachFrontEnd(nullptr);
      ingestor_->Stop();
    }
    fleets_.clear();
    fe_.reset();
  }

  store::Database& db() { return f_->db(); }

  // A fleet of `terminals` connected to the front end (all logged in on return).
  simulator::Fleet& StartFleet(const std::vector<FieldTerminal>& terminals,
                               simulator::FaultOptions faults = {}) {
    simulator::FleetOptions so;
    so.port = fe_->port();
    so.time_zone = &tz_;
    so.terminals = f_->SimTerminals(terminals);
    so.faults = faults;
    fleets_.push_back(std::make_unique<simulator::Fleet>(so, clock_));
    simulator::Fleet& fleet = *fleets_.back();
    EXPECT_TRUE(fleet.Start().ok());
    Status s = fleet.WaitForLogins(terminals.size(), std::chrono::seconds(20));
    EXPECT_TRUE(s.ok()) << s.ToString();
    // The front end holds them once their logins are confirmed.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (const auto& t : terminals) {
      while (std::chrono::steady_clock::now() < deadline) {
        auto st = fe_->State(t.key);
        if (st && st->online) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
    return fleet;
  }

  // Runs a collection as `actor` to its end; the finished job.
  jobs::Job Collect(CollectionRequest req, const org::Actor& actor) {
    auto job = collection_->StartCollection(actor, req);
    EXPECT_TRUE(job.ok()) << job.status().ToString();
    if (!job.ok()) return {};
    auto ran = runner_->RunPendingForTest();
    EXPECT_TRUE(ran.ok()) << ran.status().ToString();
    auto done = runner_->Load(job->id);
    EXPECT_TRUE(done.ok());
    EXPECT_EQ(done->status, "succeeded") << done->error;
    return *done;
  }
  CollectionRequest Daily(Date day, int catch_up = 0) {
    CollectionRequest r;
    r.kind = "daily_frozen";
    r.day = day;
    r.catch_up_days = catch_up;
    return r;
  }

  std::vector<reading::DailyFrozen> Frozen(int64_t point, Date day) {
    auto rows = db().ReadValue<std::vector<reading::DailyFrozen>>(
        [&](store::Connection& c) { return reading::LoadDailyFrozen(c, {point}, day, day); });
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? *rows : std::vector<reading::DailyFrozen>{};
  }

  // Expects the stored daily frozen row of `p` for Td_d = `td` to be the model's, exactly.
  void ExpectModelRow(simulator::Fleet& fleet, const FieldPoint& p, Date td) {
    auto model = fleet.Model(p.terminal.key, p.pn);
    ASSERT_TRUE(model.has_value());
    std::vector<Energy> want = model->FrozenAt(td.AddDays(1));
    auto rows = Frozen(p.point_id, td.AddDays(1));
    ASSERT_EQ(rows.size(), 1u) << p.code;
    const auto& r = rows[0];
    EXPECT_EQ(r.multiplier, p.multiplier) << p.code;
    EXPECT_EQ(r.registers.size(), 5u) << p.code;
    const char* names[] = {"total", "sharp", "peak", "flat", "valley"};
    for (size_t i = 0; i < 5; ++i) {
      ASSERT_TRUE(r.registers.count(names[i])) << p.code << " " << names[i];
      EXPECT_EQ(r.registers.at(names[i]), want[i]) << p.code << " " << names[i];
    }
  }

  std::vector<CollectionResult> Results(ResultQuery q) {
    q.page_size = 200;
    int64_t total = 0;
    auto r = collection_->ListResults(operator_, q, &total);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::vector<CollectionResult>{};
  }
  CollectionResult ResultOf(const FieldTerminal& t, Date day,
                            const std::string& kind = "daily_frozen") {
    ResultQuery q;
    q.day = day;
    q.kind = kind;
    q.terminal_id = t.id;
    auto r = Results(q);
    EXPECT_EQ(r.size(), 1u) << "terminal " << t.id << " " << day.ToString();
    return r.empty() ? CollectionResult{} : r[0];
  }
  int64_t Count(const std::string& sql, const store::Params& params = {}) {
    auto n = db().ReadValue<int64_t>([&](store::Connection& c) { return c.QueryInt(sql, params); });
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? *n : -1;
  }
  std::vector<FieldPoint> PointsOf(const FieldTerminal& t) {
    std::vector<FieldPoint> out;
    for (const auto& p : f_->points()) {
      if (p.terminal.id == t.id) out.push_back(p);
    }
    return out;
  }

  // 2027-01-15 16:00 in Shanghai: yesterday's freeze is there, today's is not.
  FakeClock clock_{1'800'000'000'000'000};
  TimeZone tz_ = TimeZone::Load("Asia/Shanghai").value();
  std::unique_ptr<AcquisitionField> f_;
  FieldTerminal t1_, t2_, t3_, t4_;
  org::Actor operator_, operator_b_, analyst_a_;
  std::unique_ptr<vee::VeeService> vee_;
  std::unique_ptr<Ingestor> ingestor_;
  std::unique_ptr<fep::FrontEnd> fe_;
  std::vector<std::unique_ptr<simulator::Fleet>> fleets_;
  std::unique_ptr<jobs::JobRunner> runner_;
  std::unique_ptr<CollectionService> collection_;
};

TEST_P(CollectionTest, DailyFrozenEqualsTheMeterModelAndAnOfflineTerminalFails) {
  simulator::Fleet& fleet = StartFleet({t1_, t2_, t3_});
  jobs::Job job = Collect(Daily(kDay), operator_);
  auto result = json::parse(job.result_json);
  EXPECT_EQ(result["terminals"], 4);
  EXPECT_EQ(result["complete"], 3);
  EXPECT_EQ(result["failed"], 1);
  EXPECT_EQ(result["rows_stored"], 12);

  for (const auto& p : f_->points()) {
    if (p.terminal.id == t4_.id) {
      EXPECT_TRUE(Frozen(p.point_id, kDay.AddDays(1)).empty());
      continue;
    }
    ExpectModelRow(fleet, p, kDay);
  }
  // Nothing for the day before (not asked) nor for today.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM daily_frozen_reads"), 12);

  CollectionResult r1 = ResultOf(t1_, kDay);
  EXPECT_EQ(r1.status, "complete");
  EXPECT_EQ(r1.expected_points, 7);
  EXPECT_EQ(r1.collected_points, 7);
  EXPECT_EQ(r1.billing_expected, 6);  // pn 7 is a check meter
  EXPECT_EQ(r1.billing_collected, 6);
  EXPECT_EQ(r1.attempts, 1);
  EXPECT_EQ(r1.job_id, job.id);
  EXPECT_EQ(r1.department_id, f_->u().station_a);
  CollectionResult r4 = ResultOf(t4_, kDay);
  EXPECT_EQ(r4.status, "failed");
  EXPECT_EQ(r4.collected_points, 0);
  EXPECT_NE(r4.last_error.find("not connected"), std::string::npos) << r4.last_error;
  ASSERT_EQ(r4.missing_point_ids.size(), 1u);
  EXPECT_EQ(r4.missing_point_ids[0], PointsOf(t4_)[0].point_id);
  EXPECT_EQ(r4.missing_point_codes[0], PointsOf(t4_)[0].code);

  // 采集成功率: 11 of 12 billing points; county A 8 of 9 (T4's point); county B 3 of 3.
  SuccessQuery q;
  q.from = q.to = kDay;
  auto stats = collection_->Statistics(operator_, q);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  std::map<std::string, SuccessRow> by;
  for (const auto& s : *stats) by[s.key] = s;
  auto& u = f_->u();
  ASSERT_TRUE(by.count(std::to_string(u.city)));
  EXPECT_EQ(by[std::to_string(u.city)].expected_points, 12);
  EXPECT_EQ(by[std::to_string(u.city)].collected_points, 11);
  EXPECT_EQ(by[std::to_string(u.city)].rate_percent, "91.66");
  EXPECT_EQ(by[std::to_string(u.city)].depth, 0);
  EXPECT_EQ(by[std::to_string(u.county_a)].rate_percent, "88.88");
  EXPECT_EQ(by[std::to_string(u.county_a)].failed_terminals, 1);
  EXPECT_EQ(by[std::to_string(u.county_a)].depth, 1);
  EXPECT_EQ(by[std::to_string(u.station_a)].rate_percent, "100.00");
  EXPECT_EQ(by[std::to_string(u.station_a)].depth, 2);
  EXPECT_EQ(by[std::to_string(u.county_b)].rate_percent, "100.00");
  EXPECT_FALSE(by.count(std::to_string(u.root)));  // above the report's department
  q.group_by = "kind";
  stats = collection_->Statistics(operator_, q);
  ASSERT_TRUE(stats.ok());
  by.clear();
  for (const auto& s : *stats) by[s.key] = s;
  EXPECT_EQ(by["public_transformer"].expected_points, 9);
  EXPECT_EQ(by["public_transformer"].rate_percent, "100.00");
  EXPECT_EQ(by["special_transformer"].expected_points, 3);
  EXPECT_EQ(by["special_transformer"].rate_percent, "66.66");
  EXPECT_FALSE(by["substation"].rate_percent.has_value());
  q.group_by = "day";
  q.from = kDay.AddDays(-1);
  stats = collection_->Statistics(operator_, q);
  ASSERT_TRUE(stats.ok());
  ASSERT_EQ(stats->size(), 2u);
  EXPECT_FALSE((*stats)[0].rate_percent.has_value());  // no collection that day
  EXPECT_EQ((*stats)[1].rate_percent, "91.66");
  // In county B's scope only its own terminal counts.
  q.group_by = "kind";
  stats = collection_->Statistics(operator_b_, q);
  ASSERT_TRUE(stats.ok());
  int64_t expected_b = 0;
  for (const auto& s : *stats) expected_b += s.expected_points;
  EXPECT_EQ(expected_b, 3);

  // The failures of the day: T4 alone.
  ResultQuery fq;
  fq.day = kDay;
  fq.kind = "daily_frozen";
  fq.status = "incomplete";
  auto failures = Results(fq);
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].terminal_id, t4_.id);
  EXPECT_EQ(failures[0].terminal_address, "3201-00004");

  // Online state as the ingestor recorded it.
  ASSERT_TRUE(ingestor_->Flush(std::chrono::seconds(10)));
  auto summary = collection_->TerminalStateSummary(operator_, std::nullopt);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->total, 4);
  EXPECT_EQ(summary->online, 3);
  EXPECT_EQ(summary->never_seen, 1);
  TerminalStateQuery sq;
  sq.online = true;
  int64_t total = 0;
  auto online = collection_->TerminalStates(operator_, sq, &total);
  ASSERT_TRUE(online.ok());
  EXPECT_EQ(total, 3);
  ASSERT_TRUE((*online)[0].status.has_value());
  EXPECT_EQ((*online)[0].address, "3201-00001");
  EXPECT_FALSE((*online)[0].status->peer.empty());
}

TEST_P(CollectionTest, ARerunWritesTheSameRowsAndAResumedRunStartsAfterItsCheckpoint) {
  StartFleet({t1_, t2_, t3_});
  Collect(Daily(kDay), operator_);
  auto snapshot = [&] {
    std::vector<std::string> rows;
    EXPECT_TRUE(db().Read([&](store::Connection& c) {
                      return c.Query(
                          "SELECT day, metering_point_id, multiplier, total_dwh, sharp_dwh, "
                          "peak_dwh, flat_dwh, valley_dwh, quality FROM daily_frozen_reads ORDER "
                          "BY day, metering_point_id",
                          {}, [&](const store::Row& r) {
                            std::string s;
                            for (int i = 0; i < r.size(); ++i) s += r.Text(i) + ",";
                            rows.push_back(s);
                          });
                    })
                    .ok());
    return rows;
  };
  auto first = snapshot();
  ASSERT_EQ(first.size(), 12u);
  Collect(Daily(kDay), operator_);
  EXPECT_EQ(snapshot(), first);
  EXPECT_EQ(ResultOf(t1_, kDay).attempts, 2);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM collection_results"), 4);

  // A job interrupted after T2 (its checkpoint says so) continues with T3 and T4 only.
  const Date day = kDay.AddDays(-1);
  CollectionRequest req = Daily(day);
  auto id = db().WriteValue<int64_t>([&](store::Connection& c) -> Result<int64_t> {
    ASSIGN_OR_RETURN(int64_t job, runner_->Insert(c, operator_, kCollectJobKind, ToJson(req).dump(),
                                                  std::nullopt));
    json cp = {{"after_terminal_id", t2_.id}, {"summary", {{"terminals", 2}, {"complete", 2}}}};
    RETURN_IF_ERROR(
        c.Exec("UPDATE jobs SET checkpoint_json = $1 WHERE id = $2", {cp.dump(), job}).status());
    return job;
  });
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_TRUE(runner_->RunPendingForTest().ok());
  auto job = runner_->Load(*id);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->status, "succeeded") << job->error;
  ResultQuery q;
  q.day = day;
  auto results = Results(q);
  ASSERT_EQ(results.size(), 2u);
  std::set<int64_t> terminals;
  for (const auto& r : results) terminals.insert(r.terminal_id);
  EXPECT_EQ(terminals, (std::set<int64_t>{t3_.id, t4_.id}));
  for (const auto& p : PointsOf(t1_)) EXPECT_TRUE(Frozen(p.point_id, day.AddDays(1)).empty());
  for (const auto& p : PointsOf(t3_)) EXPECT_EQ(Frozen(p.point_id, day.AddDays(1)).size(), 1u);
  auto result = json::parse(job->result_json);
  EXPECT_EQ(result["terminals"], 4);  // the 2 of the checkpoint and the 2 it ran
  EXPECT_EQ(result["complete"], 3);
  auto cp = json::parse(job->checkpoint_json);
  EXPECT_EQ(cp["after_terminal_id"], t4_.id);
}

TEST_P(CollectionTest, MissingDataIsNeverStoredAsANumber) {
  simulator::FaultOptions faults;
  faults.missing_data = 0.3;
  simulator::Fleet& fleet = StartFleet({t1_, t2_, t3_}, faults);
  Collect(Daily(kDay), operator_);
  int64_t missing = 0, stored = 0;
  const char* names[] = {"total", "sharp", "peak", "flat", "valley"};
  std::map<int64_t, std::set<int64_t>> missing_of;  // terminal → points listed missing
  for (const auto* t : {&t1_, &t2_, &t3_}) {
    auto r = ResultOf(*t, kDay);
    missing_of[t->id].insert(r.missing_point_ids.begin(), r.missing_point_ids.end());
    EXPECT_EQ(r.collected_points + static_cast<int64_t>(r.missing_point_ids.size()),
              r.expected_points);
    if (!r.missing_point_ids.empty()) EXPECT_NE(r.status, "complete");
  }
  for (const auto& p : f_->points()) {
    if (p.terminal.id == t4_.id) continue;
    auto rows = Frozen(p.point_id, kDay.AddDays(1));
    if (rows.empty()) {
      ++missing;
      EXPECT_TRUE(missing_of[p.terminal.id].count(p.point_id)) << p.code;
      continue;
    }
    ++stored;
    EXPECT_FALSE(missing_of[p.terminal.id].count(p.point_id)) << p.code;
    std::vector<Energy> want = fleet.Model(p.terminal.key, p.pn)->FrozenAt(kDay.AddDays(1));
    for (size_t i = 0; i < 5; ++i) {
      auto it = rows[0].registers.find(names[i]);
      if (it != rows[0].registers.end()) EXPECT_EQ(it->second, want[i]) << p.code << names[i];
    }
    EXPECT_TRUE(rows[0].registers.count("total"));
  }
  EXPECT_GT(missing, 0);
  EXPECT_GT(stored, 0);
}

TEST_P(CollectionTest, CatchUpRetriesTheFailedTerminalsOfEarlierDays) {
  StartFleet({t1_, t2_, t3_});
  const Date d1 = kDay.AddDays(-1);
  Collect(Daily(d1), operator_);
  EXPECT_EQ(ResultOf(t4_, d1).status, "failed");
  EXPECT_EQ(ResultOf(t1_, d1).status, "complete");

  // T4 comes online; the run for the next day also collects what it missed (and the day
  // before, which never ran at all, for everyone).
  simulator::Fleet& late = StartFleet({t4_});
  jobs::Job job = Collect(Daily(kDay, 2), operator_);
  auto result = json::parse(job.result_json);
  EXPECT_EQ(result["catch_up"], 1 + 4);
  CollectionResult r4 = ResultOf(t4_, d1);
  EXPECT_EQ(r4.status, "complete");
  EXPECT_EQ(r4.attempts, 2);
  EXPECT_TRUE(r4.missing_point_ids.empty());
  ExpectModelRow(late, PointsOf(t4_)[0], d1);
  ExpectModelRow(late, PointsOf(t4_)[0], kDay);
  // T1 was complete for d1: not asked again.
  EXPECT_EQ(ResultOf(t1_, d1).attempts, 1);
  ResultQuery q;
  q.day = kDay.AddDays(-2);
  EXPECT_EQ(Results(q).size(), 4u);
}

TEST_P(CollectionTest, CatchUpCollectsATerminalThatHasNoResultForAnEarlierDay) {
  StartFleet({t1_, t2_, t3_, t4_});
  const Date d1 = kDay.AddDays(-1);
  // A run of one terminal for d1 (an on-demand run): the others have no result for d1.
  CollectionRequest only_t1 = Daily(d1);
  only_t1.terminal_ids = std::vector<int64_t>{t1_.id};
  Collect(only_t1, operator_);
  ResultQuery q;
  q.day = d1;
  ASSERT_EQ(Results(q).size(), 1u);
  // The next day's run with catch-up collects d1 for the other three as well.
  Collect(Daily(kDay, 1), operator_);
  EXPECT_EQ(ResultOf(t2_, d1).status, "complete");
  EXPECT_EQ(ResultOf(t4_, d1).status, "complete");
  EXPECT_EQ(ResultOf(t1_, d1).attempts, 1);  // complete already: not asked again
  EXPECT_EQ(Results(q).size(), 4u);
}

TEST_P(CollectionTest, TheDailyRunReadsTerminalClocksForTheClockDriftRule) {
  simulator::FaultOptions drift;
  drift.clock_drift_seconds = 600;
  StartFleet({t1_}, drift);
  StartFleet({t2_});
  Collect(Daily(kDay), operator_);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM vee_issues WHERE rule = 'clock_drift' AND "
                  "terminal_id = $1",
                  {t1_.id}),
            1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM vee_issues WHERE rule = 'clock_drift' AND "
                  "terminal_id = $1",
                  {t2_.id}),
            0);
  // The registers of the drifting terminal are collected all the same.
  EXPECT_EQ(ResultOf(t1_, kDay).status, "complete");
}

TEST_P(CollectionTest, CurvesAndMonthlyFrozenEqualTheModel) {
  simulator::Fleet& fleet = StartFleet({t1_, t2_, t3_});
  CollectionRequest curve;
  curve.kind = "curve";
  curve.day = kDay;
  Collect(curve, operator_);
  EXPECT_EQ(ResultOf(t1_, kDay, "curve").status, "complete");
  for (const auto& p : PointsOf(t1_)) {
    auto model = fleet.Model(p.terminal.key, p.pn);
    ASSERT_TRUE(model.has_value());
    auto curves = db().ReadValue<std::vector<Curve>>(
        [&](store::Connection& c) { return LoadCurves(c, {p.point_id}, kDay, kDay); });
    ASSERT_TRUE(curves.ok()) << curves.status().ToString();
    ASSERT_EQ(curves->size(), 1u) << p.code;
    const Curve& k = (*curves)[0];
    EXPECT_EQ(k.multiplier, p.multiplier);
    ASSERT_EQ(k.values.size(), 96u);
    EXPECT_EQ(k.quality, std::string(96, 'V'));
    int64_t start = tz_.StartOfDay(kDay);
    Energy sum;
    for (size_t i = 0; i < 96; ++i) {
      int64_t from = start + static_cast<int64_t>(i) * 15 * kMicrosPerMinute;
      ASSERT_TRUE(k.values[i].has_value());
      EXPECT_EQ(*k.values[i], model->TotalAt(from + 15 * kMicrosPerMinute) - model->TotalAt(from))
          << p.code << " interval " << i;
      sum = sum + *k.values[i];
    }
    EXPECT_EQ(sum, model->FrozenAt(kDay.AddDays(1))[0] - model->FrozenAt(kDay)[0]);
  }

  CollectionRequest monthly;
  monthly.kind = "monthly_frozen";
  monthly.month = YearMonth{2026, 12};
  Collect(monthly, operator_);
  for (const auto& p : PointsOf(t2_)) {
    auto rows = db().ReadValue<std::vector<MonthlyFrozen>>([&](store::Connection& c) {
      return LoadMonthlyFrozen(c, {p.point_id}, YearMonth{2026, 12}, YearMonth{2026, 12});
    });
    ASSERT_TRUE(rows.ok());
    ASSERT_EQ(rows->size(), 1u);
    std::vector<Energy> want = fleet.Model(p.terminal.key, p.pn)->FrozenAt(Date{2027, 1, 1});
    EXPECT_EQ((*rows)[0].registers.at("total"), want[0]);
    EXPECT_EQ((*rows)[0].registers.at("valley"), want[4]);
    EXPECT_EQ((*rows)[0].multiplier, p.multiplier);
  }
  EXPECT_EQ(ResultOf(t2_, Date{2026, 12, 1}, "monthly_frozen").status, "complete");
}

TEST_P(CollectionTest, EventsReachTheTableThroughReportsAndCollection) {
  simulator::Fleet& fleet = StartFleet({t1_, t2_, t3_});
  ASSERT_TRUE(fleet.RaisePowerOff(kT1));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  int64_t n = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE(ingestor_->Flush(std::chrono::seconds(5)));
    n = Count("SELECT COUNT(*) FROM meter_events WHERE terminal_id = $1 AND kind = 'power_off'",
              {t1_.id});
    if (n > 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(n, 1);
  EventQuery q;
  q.terminal_id = t1_.id;
  int64_t total = 0;
  auto events = collection_->Events(operator_, q, std::nullopt, &total);
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  ASSERT_FALSE(events->empty());
  EXPECT_EQ(events->back().erc, 14);
  // Out of county B's scope.
  auto hidden = collection_->Events(operator_b_, q, std::nullopt, &total);
  ASSERT_TRUE(hidden.ok());
  EXPECT_TRUE(hidden->empty());

  // The terminal now flags its events (ACD, EC1 = 1) in its answers: the ingestor reads its
  // records (AFN0E F1 from 0 to 1) and remembers how far it read.
  Collect(Daily(kDay), operator_);
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE(ingestor_->Flush(std::chrono::seconds(5)));
    if (Count("SELECT COUNT(*) FROM terminal_status WHERE terminal_id = $1 AND event_counter = 1",
              {t1_.id}) == 1) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_GE(ingestor_->Stats().event_reads, 1u);
  EXPECT_EQ(Count("SELECT event_counter FROM terminal_status WHERE terminal_id = $1", {t1_.id}), 1);

  // A collection of events reads what each terminal has; stored once.
  CollectionRequest ev;
  ev.kind = "events";
  ev.day = Date{2027, 1, 15};
  Collect(ev, operator_);
  EXPECT_EQ(ResultOf(t1_, ev.day, "events").status, "complete");
  EXPECT_EQ(ResultOf(t4_, ev.day, "events").status, "failed");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM meter_events WHERE terminal_id = $1 AND kind = 'power_off'",
                  {t1_.id}),
            1);
}

TEST_P(CollectionTest, OfflineAfterTheFleetStops) {
  simulator::Fleet& fleet = StartFleet({t1_, t2_});
  // The front end tells the listener right after it holds the terminal.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE(ingestor_->Flush(std::chrono::seconds(5)));
    if (Count("SELECT COUNT(*) FROM terminal_status WHERE online = 1") == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(Count("SELECT COUNT(*) FROM terminal_status WHERE online = 1"), 2);
  fleet.Stop();
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE(ingestor_->Flush(std::chrono::seconds(5)));
    if (Count("SELECT COUNT(*) FROM terminal_status WHERE online = 1") == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(Count("SELECT COUNT(*) FROM terminal_status WHERE online = 0 AND offline_reason <> ''"),
            2);
}

TEST_P(CollectionTest, PermissionsAndScope) {
  CollectionRequest r = Daily(kDay);
  EXPECT_EQ(collection_->StartCollection(analyst_a_, r).status().code(),
            StatusCode::kPermissionDenied);
  r.department_id = f_->u().county_a;
  Status s = collection_->StartCollection(operator_b_, r).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_EQ(s.field(), "department_id");
  // County B's operator collects county B's terminals only (no fleet: all fail, quickly).
  r.department_id.reset();
  Collect(r, operator_b_);
  ResultQuery q;
  q.day = kDay;
  auto rows = Results(q);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].terminal_id, t3_.id);
  EXPECT_EQ(rows[0].status, "failed");
  // A point outside the scope is not found.
  EXPECT_EQ(collection_->DailyFrozenOfPoint(operator_b_, PointsOf(t1_)[0].point_id, kDay, kDay)
                .status()
                .code(),
            StatusCode::kNotFound);
}

TEST_P(CollectionTest, TasksAreVersionedAuditedAndScheduledOncePerDay) {
  CollectionTaskInput in;
  in.name = "日冻结";
  in.kind = "daily_frozen";
  in.time_of_day = "02:00";
  in.catch_up_days = 3;
  auto daily = collection_->CreateTask(operator_, in);
  ASSERT_TRUE(daily.ok()) << daily.status().ToString();
  EXPECT_EQ(daily->department_id, f_->u().city);
  EXPECT_EQ(daily->version, 1);
  EXPECT_EQ(collection_->CreateTask(operator_, in).status().code(), StatusCode::kAlreadyExists);
  CollectionTaskInput bad = in;
  bad.name = "坏";
  bad.time_of_day = "25:00";
  EXPECT_EQ(collection_->CreateTask(operator_, bad).status().field(), "time_of_day");
  CollectionTaskInput monthly;
  monthly.name = "月冻结";
  monthly.kind = "monthly_frozen";
  monthly.time_of_day = "03:00";
  monthly.day_of_month = 1;
  monthly.catch_up_days = 1;
  auto month_task = collection_->CreateTask(operator_, monthly);
  ASSERT_TRUE(month_task.ok()) << month_task.status().ToString();
  CollectionTaskInput later;
  later.name = "晚上";
  later.kind = "curve";
  later.time_of_day = "23:30";
  ASSERT_TRUE(collection_->CreateTask(operator_, later).ok());
  CollectionTaskInput off;
  off.name = "停用";
  off.kind = "events";
  off.enabled = false;
  ASSERT_TRUE(collection_->CreateTask(operator_, off).ok());

  // Versions and scope.
  CollectionTaskInput change;
  change.catch_up_days = 5;
  auto changed = collection_->UpdateTask(operator_, daily->id, 1, change);
  ASSERT_TRUE(changed.ok()) << changed.status().ToString();
  EXPECT_EQ(changed->version, 2);
  EXPECT_EQ(collection_->UpdateTask(operator_, daily->id, 1, change).status().code(),
            StatusCode::kAborted);
  EXPECT_EQ(collection_->GetTask(operator_b_, daily->id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_log WHERE entity = 'collection_task'"), 5);

  // 16:00: the daily task (02:00) and the monthly one (the 1st, 03:00) are due; the curve task
  // (23:30) and the disabled one are not.
  CollectionScheduler scheduler(db(), clock_, tz_, *runner_);
  auto jobs1 = scheduler.Tick();
  ASSERT_TRUE(jobs1.ok()) << jobs1.status().ToString();
  ASSERT_EQ(jobs1->size(), 2u);
  auto j = runner_->Load((*jobs1)[0]);
  ASSERT_TRUE(j.ok());
  auto params = json::parse(j->params_json);
  EXPECT_EQ(params["kind"], "daily_frozen");
  EXPECT_EQ(params["day"], "2027-01-14");
  EXPECT_EQ(params["catch_up_days"], 5);
  EXPECT_EQ(params["task_id"], daily->id);
  EXPECT_EQ(j->department_id, f_->u().city);
  auto m = runner_->Load((*jobs1)[1]);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(json::parse(m->params_json)["month"], "2026-12");
  auto jobs2 = scheduler.Tick();
  ASSERT_TRUE(jobs2.ok());
  EXPECT_TRUE(jobs2->empty());  // once per day (and month)
  auto listed = collection_->GetTask(operator_, daily->id);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->last_run_key, "2027-01-15");
  EXPECT_EQ(listed->last_job_id, (*jobs1)[0]);

  clock_.Advance(8 * 3600 * kMicrosPerSecond);  // 2027-01-16 00:00: before 02:00
  auto jobs3 = scheduler.Tick();
  ASSERT_TRUE(jobs3.ok());
  EXPECT_TRUE(jobs3->empty());
  clock_.Advance(2 * 3600 * kMicrosPerSecond);  // 02:00
  auto jobs4 = scheduler.Tick();
  ASSERT_TRUE(jobs4.ok());
  ASSERT_EQ(jobs4->size(), 1u);
  EXPECT_EQ(json::parse(runner_->Load((*jobs4)[0])->params_json)["day"], "2027-01-15");

  // Run now, for a day of one's choice.
  auto now = collection_->RunTaskNow(operator_, daily->id, Date{2027, 1, 10}, std::nullopt);
  ASSERT_TRUE(now.ok()) << now.status().ToString();
  EXPECT_EQ(json::parse(now->params_json)["day"], "2027-01-10");
  EXPECT_EQ(collection_->RunTaskNow(operator_, daily->id, std::nullopt, YearMonth{2027, 1})
                .status()
                .field(),
            "month");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_log WHERE entity = 'collection_task' AND action = "
                  "'run'"),
            1);
}

INSTANTIATE_TEST_SUITE_P(Backends, CollectionTest,
                         ::testing::ValuesIn(store::testing::AvailableBackendsForTest()),
                         [](const auto& p) { return p.param; });

}  // namespace
}  // namespace gridmis::acquisition
