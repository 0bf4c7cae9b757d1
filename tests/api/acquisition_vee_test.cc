// VEE over HTTP: validation of stored daily frozen rows, the review list and a finding's detail,
// accept / dismiss with versions, editing a day and a curve interval, estimation of a missing
// day, and the data scope and permissions, on SQLite and PostgreSQL.
#include "acquisition/readings.h"
#include "api/api_fixture.h"
#include "reading/billable.h"

namespace gridmis::testing {
namespace {

using nlohmann::json;

class VeeApiTest : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    mgr_ = LoginAs("manager");
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
    auto p = mgr_->Post("/api/v1/metering-points", json{{"code", "MP-A001"},
                                                        {"customer_id", Json(c)["id"]},
                                                        {"voltage_v", 380},
                                                        {"tariff_code", "GS-COM-1"}}
                                                       .dump());
    ASSERT_EQ(p.status, 201) << p.body;
    point_ = Json(p)["id"];
    auto m = mgr_->Post("/api/v1/meters", json{{"asset_no", "M-A001"},
                                               {"make", "威胜"},
                                               {"model", "DDZY1"},
                                               {"phases", 1},
                                               {"accuracy_class", "2"},
                                               {"registers", {"total"}},
                                               {"register_integer_digits", 6},
                                               {"department_id", county_a_}}
                                              .dump());
    ASSERT_EQ(m.status, 201) << m.body;
    auto i = mgr_->Post("/api/v1/metering-points/" + std::to_string(point_) + "/install",
                        json{{"meter_id", Json(m)["id"]},
                             {"installed_at", "2026-10-01T02:00:00Z"},
                             {"readings", {{"total", "0"}}}}
                            .dump());
    ASSERT_EQ(i.status, 201) << i.body;
    // Collected daily frozen rows: 12-01 .. 12-10 at 10 kWh a day, 12-11 below 12-10 (a
    // register going backwards), 12-12 missing, 12-13.
    std::vector<reading::DailyFrozen> rows;
    for (int d = 1; d <= 13; ++d) {
      if (d == 12) continue;
      reading::DailyFrozen r;
      r.metering_point_id = point_;
      r.day = Date{2026, 12, d};
      r.registers["total"] = Energy::FromKwh(d == 11 ? 1085 : d == 13 ? 1120 : 990 + 10 * d);
      rows.push_back(r);
    }
    Status st = app_->db().Write(
        [&](store::Connection& conn) { return reading::StoreDailyFrozen(conn, rows); });
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  std::string Range(const std::string& from, const std::string& to) {
    return json{{"metering_point_id", point_}, {"from", from}, {"to", to}}.dump();
  }

  std::unique_ptr<HttpClient> mgr_;
  int64_t point_ = 0;
};

TEST_P(VeeApiTest, ValidateReviewEditEstimate) {
  // Validation of the stored rows finds the register going backwards.
  auto v = mgr_->Post("/api/v1/vee/validate", Range("2026-12-01", "2026-12-13"));
  ASSERT_EQ(v.status, 200) << v.body;
  EXPECT_EQ(Json(v)["rows"], 12);
  ASSERT_EQ(Json(v)["open"].size(), 1u);
  auto list = mgr_->Get("/api/v1/vee/issues?rule=reverse&status=open&from=2026-12-01");
  ASSERT_EQ(list.status, 200) << list.body;
  json page = Json(list);
  EXPECT_EQ(page["total"], 1);
  ASSERT_EQ(page["items"].size(), 1u);
  json issue = page["items"][0];
  EXPECT_EQ(issue["day"], "2026-12-11");
  EXPECT_EQ(issue["point_code"], "MP-A001");
  EXPECT_EQ(issue["severity"], "suspect");
  const std::string id = std::to_string(issue["id"].get<int64_t>());
  // Validating again does not duplicate it.
  ASSERT_EQ(mgr_->Post("/api/v1/vee/validate", Range("2026-12-01", "2026-12-13")).status, 200);
  EXPECT_EQ(Json(mgr_->Get("/api/v1/vee/issues"))["total"], 1);

  auto detail = mgr_->Get("/api/v1/vee/issues/" + id);
  ASSERT_EQ(detail.status, 200) << detail.body;
  json d = Json(detail);
  ASSERT_EQ(d["days"].size(), 15u);
  EXPECT_EQ(d["days"][7]["day"], "2026-12-11");
  EXPECT_EQ(d["days"][7]["quality"], "suspect");
  EXPECT_EQ(d["days"][7]["registers"]["total"], "1085.00");
  EXPECT_EQ(d["days"][5]["use"], "10.00");
  EXPECT_EQ(d["days"][8]["quality"], "missing");
  EXPECT_TRUE(d["curve"].is_null());

  // Strict bodies and versions.
  auto r = mgr_->Post("/api/v1/vee/issues/" + id + "/accept", json{{"version", 99}}.dump());
  EXPECT_EQ(r.status, 409) << r.body;
  r = mgr_->Post("/api/v1/vee/issues/" + id + "/dismiss", json{{"version", 1}}.dump());
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(Json(r)["error"]["field"], "note");
  r = mgr_->Post("/api/v1/vee/issues/" + id + "/accept", json{{"version", 1}, {"x", 1}}.dump());
  EXPECT_EQ(r.status, 400) << r.body;

  // Edit the day: the stale "previous" is refused, the right one replaces the registers.
  json edit = {{"metering_point_id", point_},
               {"day", "2026-12-11"},
               {"registers", {{"total", "1100"}}},
               {"previous", {{"total", "1090"}}},
               {"reason", "read on site"}};
  r = mgr_->Put("/api/v1/vee/daily-frozen", edit.dump());
  EXPECT_EQ(r.status, 409) << r.body;
  edit["previous"] = {{"total", "1085"}};
  int64_t audit_before = AuditCount();
  r = mgr_->Put("/api/v1/vee/daily-frozen", edit.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r)["quality"], "edited");
  EXPECT_EQ(Json(r)["registers"]["total"], "1100.00");
  EXPECT_EQ(AuditCount(), audit_before + 1);
  json after = Json(mgr_->Get("/api/v1/vee/issues/" + id));
  EXPECT_EQ(after["issue"]["status"], "corrected");
  EXPECT_EQ(after["issue"]["resolved_by_name"], "manager");
  EXPECT_EQ(after["days"][7]["quality"], "edited");
  edit.erase("previous");
  r = mgr_->Put("/api/v1/vee/daily-frozen", edit.dump());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Json(r)["error"]["field"], "previous");

  // Estimate the missing 12-12 between 12-11 (edited, 1100) and 12-13 (1120).
  r = mgr_->Post("/api/v1/vee/estimate", Range("2026-12-12", "2026-12-12"));
  ASSERT_EQ(r.status, 200) << r.body;
  json e = Json(r);
  ASSERT_EQ(e["daily_frozen"].size(), 1u);
  EXPECT_EQ(e["daily_frozen"][0]["day"], "2026-12-12");
  EXPECT_EQ(e["daily_frozen"][0]["registers"]["total"], "1110.00");
  EXPECT_EQ(e["daily_frozen"][0]["quality"], "estimated");
  r = mgr_->Post("/api/v1/vee/estimate",
                 json{{"metering_point_id", point_}, {"from", "2026-12-12"}}.dump());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Json(r)["error"]["field"], "to");

  // One interval of a day without a curve.
  json cv = {{"metering_point_id", point_},
             {"day", "2026-12-05"},
             {"interval", 3},
             {"value", "0.25"},
             {"previous", nullptr},
             {"reason", "from the meter"}};
  r = mgr_->Put("/api/v1/vee/curve-values", cv.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  json curve = Json(r);
  EXPECT_EQ(curve["values"][3], "0.25");
  EXPECT_TRUE(curve["values"][2].is_null());
  EXPECT_EQ(curve["quality"].get<std::string>().substr(0, 5), "MMMDM");
  r = mgr_->Put("/api/v1/vee/curve-values", cv.dump());  // previous is no longer null
  EXPECT_EQ(r.status, 409) << r.body;
}

TEST_P(VeeApiTest, ScopeAndPermissions) {
  ASSERT_EQ(mgr_->Post("/api/v1/vee/validate", Range("2026-12-01", "2026-12-13")).status, 200);
  json items = Json(mgr_->Get("/api/v1/vee/issues"))["items"];
  ASSERT_EQ(items.size(), 1u);
  const std::string id = std::to_string(items[0]["id"].get<int64_t>());
  CreateUser("operator_b", county_b_, "acquisition_operator");
  CreateUser("analyst_a", county_a_, "analyst");
  auto b = LoginAs("operator_b");
  EXPECT_EQ(Json(b->Get("/api/v1/vee/issues"))["total"], 0);
  EXPECT_EQ(b->Get("/api/v1/vee/issues/" + id).status, 404);
  EXPECT_EQ(b->Post("/api/v1/vee/issues/" + id + "/accept", json{{"version", 1}}.dump()).status,
            404);
  EXPECT_EQ(b->Post("/api/v1/vee/estimate", Range("2026-12-12", "2026-12-12")).status, 404);
  auto analyst = LoginAs("analyst_a");
  EXPECT_EQ(Json(analyst->Get("/api/v1/vee/issues"))["total"], 1);
  EXPECT_EQ(
      analyst->Post("/api/v1/vee/issues/" + id + "/accept", json{{"version", 1}}.dump()).status,
      403);
  auto clerk = LoginAs("clerk_b");
  EXPECT_EQ(clerk->Get("/api/v1/vee/issues").status, 403);
  EXPECT_EQ(Anonymous()->Get("/api/v1/vee/issues").status, 401);
  auto ok = mgr_->Post("/api/v1/vee/issues/" + id + "/accept",
                       json{{"version", 1}, {"note", "checked"}}.dump());
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(Json(ok)["status"], "accepted");
  EXPECT_EQ(Json(ok)["version"], 2);
  EXPECT_EQ(Json(mgr_->Get("/api/v1/vee/issues?status=accepted"))["total"], 1);
  EXPECT_EQ(mgr_->Get("/api/v1/vee/issues?rule=nonsense").status, 400);
  EXPECT_EQ(mgr_->Get("/api/v1/vee/issues?from=2026-13-01").status, 400);
}

GRIDMIS_API_TEST_BACKENDS(VeeApiTest);

}  // namespace
}  // namespace gridmis::testing
