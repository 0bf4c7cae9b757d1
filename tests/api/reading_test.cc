// Reading and review over HTTP: segments and plans, manual reads through the review rules, the
// review queue (approve, correct), file uploads (CSV in UTF-8 and GBK, xlsx) rejected whole when
// a line is bad, collection from daily frozen rows, the review rules, data scope and versions.
#include <fstream>

#include "api/api_fixture.h"
#include "reading/billable.h"

namespace gridmis::testing {
namespace {

using nlohmann::json;

constexpr const char* kXlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

std::string Fixture(const std::string& name) {
  std::string here = __FILE__;  // .../tests/api/reading_test.cc
  std::string dir = here.substr(0, here.rfind("/api/")) + "/data/reading/";
  std::ifstream in(dir + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << dir + name;
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class ReadingApiTest : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    mgr_ = LoginAs("manager");
    reader_ = LoginAs("reader_a");
    clerk_b_ = LoginAs("clerk_b");
    auto s = mgr_->Post("/api/v1/substations", json{{"code", "SSA"},
                                                    {"name", "甲变电站"},
                                                    {"voltage_v", 35000},
                                                    {"department_id", county_a_}}
                                                   .dump());
    ASSERT_EQ(s.status, 201) << s.body;
    auto f = mgr_->Post("/api/v1/feeders", json{{"code", "FDA"},
                                                {"name", "甲线"},
                                                {"substation_id", Json(s)["id"]},
                                                {"department_id", county_a_}}
                                               .dump());
    ASSERT_EQ(f.status, 201) << f.body;
    auto a = mgr_->Post("/api/v1/transformer-areas", json{{"code", "TAA"},
                                                          {"name", "甲台区"},
                                                          {"feeder_id", Json(f)["id"]},
                                                          {"department_id", county_a_},
                                                          {"capacity_kva", 400}}
                                                         .dump());
    ASSERT_EQ(a.status, 201) << a.body;
    auto c = mgr_->Post("/api/v1/customers", json{{"customer_no", "1500000001"},
                                                  {"name", "张伟"},
                                                  {"category", "commercial"},
                                                  {"address", "集宁区新华街1号"},
                                                  {"mobile", "13800138000"},
                                                  {"department_id", county_a_},
                                                  {"transformer_area_id", Json(a)["id"]}}
                                                 .dump());
    ASSERT_EQ(c.status, 201) << c.body;
    customer_ = Json(c)["id"];
    for (const char* code : {"MP-A001", "MP-A002", "MP-A003"}) points_.push_back(MakePoint(code));
  }

  int64_t MakePoint(const std::string& code) {
    auto p = mgr_->Post("/api/v1/metering-points", json{{"code", code},
                                                        {"customer_id", customer_},
                                                        {"voltage_v", 380},
                                                        {"tariff_code", "GS-COM-1"}}
                                                       .dump());
    EXPECT_EQ(p.status, 201) << p.body;
    auto m = mgr_->Post("/api/v1/meters", json{{"asset_no", "M-" + code},
                                               {"make", "威胜"},
                                               {"model", "DTZ341"},
                                               {"phases", 3},
                                               {"accuracy_class", "0.5S"},
                                               {"registers", {"total", "peak", "valley"}},
                                               {"register_integer_digits", 6},
                                               {"department_id", county_a_}}
                                              .dump());
    EXPECT_EQ(m.status, 201) << m.body;
    EXPECT_EQ(Json(m)["register_integer_digits"], 6);
    int64_t id = Json(p)["id"];
    auto i = mgr_->Post("/api/v1/metering-points/" + std::to_string(id) + "/install",
                        json{{"meter_id", Json(m)["id"]},
                             {"installed_at", "2026-10-01T02:00:00Z"},
                             {"readings", {{"total", "0"}, {"peak", "0"}, {"valley", "0"}}}}
                            .dump());
    EXPECT_EQ(i.status, 201) << i.body;
    return id;
  }

  HttpResponse EnterRead(HttpClient& c, int64_t point, const std::string& date, const char* total,
                         const char* peak, const char* valley) {
    return c.Post("/api/v1/meter-reads",
                  json{{"metering_point_id", point},
                       {"read_date", date},
                       {"registers", {{"total", total}, {"peak", peak}, {"valley", valley}}}}
                      .dump());
  }

  // The November reads the fixture files follow on.
  void November() {
    const char* values[3][3] = {{"400", "240", "160"}, {"600", "360", "240"}, {"200", "120", "80"}};
    for (size_t i = 0; i < 3; ++i) {
      auto r =
          EnterRead(*reader_, points_[i], "2026-11-25", values[i][0], values[i][1], values[i][2]);
      ASSERT_EQ(r.status, 201) << r.body;
      ASSERT_EQ(Json(r)["status"], "approved");
    }
  }

  HttpResponse Upload(HttpClient& c, const std::string& body, const std::string& type,
                      const std::string& query = "") {
    return c.Send("POST", "/api/v1/meter-reads/import" + query, body, {{"Content-Type", type}});
  }

  std::unique_ptr<HttpClient> mgr_, reader_, clerk_b_;
  json customer_;
  std::vector<int64_t> points_;
};

TEST_P(ReadingApiTest, SegmentsAndPlans) {
  // Meters carry their register digits (for telling a rollover from a wrong reading).
  auto digits = mgr_->Post("/api/v1/meters", json{{"asset_no", "M-X"},
                                                  {"make", "威胜"},
                                                  {"model", "DTZ341"},
                                                  {"phases", 3},
                                                  {"accuracy_class", "0.5S"},
                                                  {"registers", {"total"}},
                                                  {"register_integer_digits", 3},
                                                  {"department_id", county_a_}}
                                                 .dump());
  EXPECT_EQ(digits.status, 400);
  EXPECT_EQ(Json(digits)["error"]["field"], "register_integer_digits");
  auto bad = reader_->Post("/api/v1/reading-segments", json{{"code", "SEG-A1"},
                                                            {"name", "城关一段"},
                                                            {"department_id", county_a_},
                                                            {"reading_day", 25},
                                                            {"colour", "red"}}
                                                           .dump());
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Json(bad)["error"]["field"], "colour");
  auto s = reader_->Post("/api/v1/reading-segments", json{{"code", "SEG-A1"},
                                                          {"name", "城关一段"},
                                                          {"department_id", county_a_},
                                                          {"reading_day", 25}}
                                                         .dump());
  ASSERT_EQ(s.status, 201) << s.body;
  json seg = Json(s);
  std::string path = "/api/v1/reading-segments/" + std::to_string(seg["id"].get<int64_t>());
  auto add = reader_->Post(path + "/points",
                           json{{"version", seg["version"]}, {"point_ids", points_}}.dump());
  ASSERT_EQ(add.status, 200) << add.body;
  EXPECT_EQ(Json(add)["point_count"], 3);
  auto stale = reader_->Post(path + "/points",
                             json{{"version", seg["version"]}, {"point_ids", {points_[0]}}}.dump());
  EXPECT_EQ(stale.status, 409);
  auto members = reader_->Get(path + "/points");
  ASSERT_EQ(members.status, 200);
  EXPECT_EQ(Json(members)["total"], 3);
  EXPECT_EQ(clerk_b_->Get(path).status, 404);
  auto list = reader_->Get("/api/v1/reading-segments?q=SEG");
  EXPECT_EQ(Json(list)["total"], 1);

  auto gen = reader_->Post("/api/v1/reading-plans/generate", json{{"period", "2026-12"}}.dump());
  ASSERT_EQ(gen.status, 200) << gen.body;
  ASSERT_EQ(Json(gen)["created"].size(), 1u);
  json plan = Json(gen)["created"][0];
  EXPECT_EQ(plan["reading_date"], "2026-12-25");
  EXPECT_EQ(plan["point_count"], 3);
  auto again = reader_->Post("/api/v1/reading-plans/generate", json{{"period", "2026-12"}}.dump());
  EXPECT_TRUE(Json(again)["created"].empty());
  EXPECT_EQ(Json(again)["existing"], 1);
  EXPECT_EQ(
      reader_->Post("/api/v1/reading-plans/generate", json{{"period", "2026-13"}}.dump()).status,
      400);
  auto plans = reader_->Get("/api/v1/reading-plans?period=2026-12");
  ASSERT_EQ(plans.status, 200);
  EXPECT_EQ(Json(plans)["total"], 1);
  // A clerk of another county may read plans (reading.read) but not see these.
  EXPECT_EQ(Json(clerk_b_->Get("/api/v1/reading-plans"))["total"], 0);
  EXPECT_EQ(
      clerk_b_->Post("/api/v1/reading-plans/generate", json{{"period", "2027-01"}}.dump()).status,
      403);
}

TEST_P(ReadingApiTest, ManualReadsTheReviewQueueApproveAndCorrect) {
  November();
  auto zero = EnterRead(*reader_, points_[2], "2026-12-25", "200", "120", "80");
  ASSERT_EQ(zero.status, 201) << zero.body;
  json z = Json(zero);
  EXPECT_EQ(z["status"], "flagged");
  EXPECT_EQ(z["flags"], json::array({"zero_use"}));
  EXPECT_EQ(z["billable"], false);
  auto dup = EnterRead(*reader_, points_[2], "2026-12-26", "201", "121", "80");
  EXPECT_EQ(dup.status, 409);
  auto wrong = reader_->Post("/api/v1/meter-reads", json{{"metering_point_id", points_[0]},
                                                         {"read_date", "2026-12-25"},
                                                         {"registers", {{"total", 700.5}}}}
                                                        .dump());
  EXPECT_EQ(wrong.status, 400);
  EXPECT_EQ(Json(wrong)["error"]["field"], "registers.total");

  auto queue = mgr_->Get("/api/v1/review-queue");
  ASSERT_EQ(queue.status, 200) << queue.body;
  ASSERT_EQ(Json(queue)["total"], 1);
  json item = Json(queue)["items"][0];
  EXPECT_EQ(item["point_code"], "MP-A003");
  EXPECT_EQ(item["findings"][0]["rule"], "zero_use");
  EXPECT_NE(item["findings"][0]["message"].get<std::string>().find("no use over 30 days"),
            std::string::npos);
  EXPECT_EQ(Json(clerk_b_->Get("/api/v1/review-queue"))["total"], 0);
  std::string read_path = "/api/v1/meter-reads/" + std::to_string(z["id"].get<int64_t>());
  EXPECT_EQ(clerk_b_->Get(read_path).status, 404);

  // A meter reader may not approve; a stale version is a conflict.
  EXPECT_EQ(reader_->Post(read_path + "/approve", json{{"version", z["version"]}}.dump()).status,
            403);
  EXPECT_EQ(mgr_->Post(read_path + "/approve", json{{"version", 99}}.dump()).status, 409);
  auto corrected =
      mgr_->Post(read_path + "/correct",
                 json{{"version", z["version"]},
                      {"registers", {{"total", "350"}, {"peak", "210"}, {"valley", "140"}}},
                      {"reason", "抄表员漏抄，现场复核"}}
                     .dump());
  ASSERT_EQ(corrected.status, 201) << corrected.body;
  json c = Json(corrected);
  EXPECT_EQ(c["source"], "correction");
  EXPECT_EQ(c["status"], "approved");
  EXPECT_EQ(c["corrected_from"], z["id"]);
  EXPECT_EQ(c["consumption_kwh"], "150.00");
  auto old = mgr_->Get(read_path);
  EXPECT_EQ(Json(old)["status"], "superseded");
  EXPECT_EQ(Json(old)["corrected_by"], c["id"]);
  EXPECT_EQ(Json(mgr_->Get("/api/v1/review-queue"))["total"], 0);
  auto history = mgr_->Get("/api/v1/meter-reads?metering_point_id=" + std::to_string(points_[2]) +
                           "&status=all");
  EXPECT_EQ(Json(history)["total"], 3);
  // November's read is not corrected under December's: that would change December's use.
  json nov = Json(history)["items"][2];
  ASSERT_EQ(nov["period"], "2026-11");
  auto under =
      mgr_->Post("/api/v1/meter-reads/" + std::to_string(nov["id"].get<int64_t>()) + "/correct",
                 json{{"version", nov["version"]},
                      {"registers", {{"total", "210"}, {"peak", "126"}, {"valley", "84"}}},
                      {"reason", "复核"}}
                     .dump());
  EXPECT_EQ(under.status, 409) << under.body;
  EXPECT_NE(Json(under)["error"]["message"].get<std::string>().find("later period 2026-12"),
            std::string::npos)
      << under.body;
  EXPECT_EQ(mgr_->Get("/api/v1/meter-reads/" + std::to_string(nov["id"].get<int64_t>())).status,
            200);
  EXPECT_EQ(mgr_->Get("/api/v1/meter-reads").status, 400);  // a point, plan or period is needed

  // Approving a flagged read.
  auto high = EnterRead(*reader_, points_[0], "2026-12-25", "1400", "840", "560");
  ASSERT_EQ(Json(high)["flags"], json::array({"above_last_month"}));
  std::string high_path = "/api/v1/meter-reads/" + std::to_string(Json(high)["id"].get<int64_t>());
  auto approved =
      mgr_->Post(high_path + "/approve", json{{"version", Json(high)["version"]}}.dump());
  ASSERT_EQ(approved.status, 200) << approved.body;
  EXPECT_EQ(Json(approved)["billable"], true);
  // The approved read is the billable one of the period.
  auto billable =
      app_->db().ReadValue<std::vector<reading::BillableRead>>([&](store::Connection& conn) {
        reading::BillableQuery q;
        q.period = {2026, 12};
        q.department_id = county_a_;
        return reading::LoadBillableReads(conn, q);
      });
  ASSERT_TRUE(billable.ok()) << billable.status().ToString();
  ASSERT_EQ(billable->size(), 2u);
  EXPECT_EQ((*billable)[0].spans[0].end.at("total"), Energy::FromKwh(1400));
}

TEST_P(ReadingApiTest, FileUploads) {
  November();
  int64_t audits = AuditCount();
  auto bad = Upload(*reader_, Fixture("bad.csv"), "text/csv", "?file_name=bad.csv");
  ASSERT_EQ(bad.status, 400) << bad.body;
  json b = Json(bad);
  EXPECT_EQ(b["error"]["code"], "INVALID_ARGUMENT");
  EXPECT_EQ(b["error"]["field"], "file");
  std::vector<int64_t> lines;
  for (const auto& l : b["lines"]) lines.push_back(l["line"]);
  EXPECT_EQ(lines, (std::vector<int64_t>{3, 4, 5, 6, 7, 8}));
  EXPECT_NE(b["error"]["message"].get<std::string>().find("bad.csv: 6 bad lines"),
            std::string::npos);
  EXPECT_EQ(AuditCount(), audits);  // nothing stored
  EXPECT_EQ(Json(reader_->Get("/api/v1/meter-reads?period=2026-12"))["total"], 0);

  // Only the file types the route takes.
  EXPECT_EQ(reader_->Post("/api/v1/meter-reads/import", "{}").status, 415);
  EXPECT_EQ(
      reader_->Send("POST", "/api/v1/meter-reads", "a,b", {{"Content-Type", "text/csv"}}).status,
      415);
  EXPECT_EQ(clerk_b_
                ->Send("POST", "/api/v1/meter-reads/import", Fixture("reads_utf8.csv"),
                       {{"Content-Type", "text/csv"}})
                .status,
            403);

  auto gbk = Upload(*reader_, Fixture("reads_gbk.csv"), "text/csv; charset=GBK",
                    "?file_name=" + UrlEncode("12月.csv"));
  ASSERT_EQ(gbk.status, 201) << gbk.body;
  EXPECT_EQ(Json(gbk)["charset"], "gbk");
  EXPECT_EQ(Json(gbk)["reads"], 3);
  EXPECT_EQ(Json(gbk)["approved"], 2);
  EXPECT_EQ(Json(gbk)["flagged"], 1);
  // The same reads again: every line already has its read.
  auto again = Upload(*reader_, Fixture("reads.xlsx"), kXlsx);
  ASSERT_EQ(again.status, 400);
  EXPECT_EQ(Json(again)["lines"].size(), 3u);
  auto reads = reader_->Get("/api/v1/meter-reads?period=2026-12&source=import");
  EXPECT_EQ(Json(reads)["total"], 3);
}

TEST_P(ReadingApiTest, XlsxUpload) {
  November();
  auto r = Upload(*reader_, Fixture("reads_shared.xlsx"), kXlsx, "?file_name=reads.xlsx");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Json(r)["reads"], 3);
  auto reads = reader_->Get("/api/v1/meter-reads?period=2026-12");
  ASSERT_EQ(Json(reads)["total"], 3);
  EXPECT_EQ(Json(reads)["items"][1]["registers"]["peak"], "660.00");
  auto notxlsx = Upload(*reader_, "point_code,read_date\n", kXlsx);
  EXPECT_EQ(notxlsx.status, 400);
  EXPECT_NE(Json(notxlsx)["error"]["message"].get<std::string>().find("not an xlsx"),
            std::string::npos);
}

TEST_P(ReadingApiTest, CollectFromDailyFrozenAndTheRules) {
  November();
  auto s = reader_->Post("/api/v1/reading-segments", json{{"code", "SEG-A1"},
                                                          {"name", "城关一段"},
                                                          {"department_id", county_a_},
                                                          {"reading_day", 25}}
                                                         .dump());
  ASSERT_EQ(s.status, 201);
  std::string path = "/api/v1/reading-segments/" + std::to_string(Json(s)["id"].get<int64_t>());
  ASSERT_EQ(reader_
                ->Post(path + "/points",
                       json{{"version", Json(s)["version"]}, {"point_ids", points_}}.dump())
                .status,
            200);
  auto gen = reader_->Post("/api/v1/reading-plans/generate", json{{"period", "2026-12"}}.dump());
  int64_t plan = Json(gen)["created"][0]["id"];
  // The acquisition system stores the frozen registers of 2026-12-26 00:00.
  std::vector<reading::DailyFrozen> rows;
  for (size_t i = 0; i < 2; ++i) {
    reading::DailyFrozen f;
    f.metering_point_id = points_[i];
    f.day = {2026, 12, 26};
    f.registers = {{"total", Energy::FromKwh(i == 0 ? 700 : 1100)},
                   {"peak", Energy::FromKwh(i == 0 ? 420 : 660)},
                   {"valley", Energy::FromKwh(i == 0 ? 280 : 440)}};
    rows.push_back(f);
  }
  ASSERT_TRUE(app_->db()
                  .Write([&](store::Connection& c) { return reading::StoreDailyFrozen(c, rows); })
                  .ok());
  std::string plan_path = "/api/v1/reading-plans/" + std::to_string(plan);
  auto collected = reader_->Post(plan_path + "/collect", "{}");
  ASSERT_EQ(collected.status, 200) << collected.body;
  EXPECT_EQ(Json(collected)["collected"], 2);
  EXPECT_EQ(Json(collected)["missing"], 1);
  EXPECT_EQ(Json(reader_->Post(plan_path + "/collect", ""))["collected"], 0);
  auto got = reader_->Get(plan_path);
  EXPECT_EQ(Json(got)["read_count"], 2);
  EXPECT_EQ(Json(got)["missing_count"], 1);
  EXPECT_EQ(Json(got)["status"], "reading");
  auto est = reader_->Post(plan_path + "/estimate", "{}");
  ASSERT_EQ(est.status, 200) << est.body;
  EXPECT_EQ(Json(est)["estimated"], 1);
  EXPECT_EQ(Json(reader_->Get(plan_path))["status"], "reviewing");

  auto frozen = reader_->Get("/api/v1/metering-points/" + std::to_string(points_[0]) +
                             "/daily-frozen?from=2026-12-01&to=2026-12-31");
  ASSERT_EQ(frozen.status, 200) << frozen.body;
  ASSERT_EQ(Json(frozen)["items"].size(), 1u);
  EXPECT_EQ(Json(frozen)["items"][0]["day"], "2026-12-26");
  EXPECT_EQ(Json(frozen)["items"][0]["registers"]["total"], "700.00");
  EXPECT_EQ(clerk_b_->Get("/api/v1/metering-points/" + std::to_string(points_[0]) + "/daily-frozen")
                .status,
            404);

  // The review rules of a department.
  std::string rules_path = "/api/v1/reading-rules/" + std::to_string(county_a_);
  auto rules = reader_->Get(rules_path);
  ASSERT_EQ(rules.status, 200) << rules.body;
  EXPECT_TRUE(Json(rules)["department_id"].is_null());
  json change = Json(rules);
  change.erase("department_id");
  change["above_last_month_pct"] = 300;
  change["version"] = 0;
  EXPECT_EQ(reader_->Put(rules_path, change.dump()).status, 403);
  auto set = mgr_->Put(rules_path, change.dump());
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(Json(set)["department_id"], county_a_);
  EXPECT_EQ(Json(set)["above_last_month_pct"], 300);
  EXPECT_EQ(mgr_->Put(rules_path, change.dump()).status, 409);
  change["min_compare_kwh"] = "ten";
  change["version"] = 1;
  auto bad = mgr_->Put(rules_path, change.dump());
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Json(bad)["error"]["field"], "min_compare_kwh");
}

GRIDMIS_API_TEST_BACKENDS(ReadingApiTest);

}  // namespace
}  // namespace gridmis::testing
