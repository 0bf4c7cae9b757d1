// Terminal commands over HTTP: issue, list, get, cancel with permissions, data scope, strict
// bodies and the audit trail; the front-end routes (on-demand read, communication log, link
// state, statistics) answer 503 when the server runs no front end, and work end to end when it
// runs one with a simulated terminal connected. The other round trips (denials, expiry, AFN10,
// the prepaid bridge) are in src/acquisition/commands_test.cc.
#include <thread>

#include "acquisition/simulator/simulator.h"
#include "api/api_fixture.h"

namespace gridmis::testing {
namespace {

using nlohmann::json;

class CommandApiTest : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    CreateUser("operator_a", county_a_, "acquisition_operator");
    CreateUser("operator_b", county_b_, "acquisition_operator");
    CreateUser("analyst_a", county_a_, "analyst");
    mgr_ = LoginAs("manager");
    op_a_ = LoginAs("operator_a");
    op_b_ = LoginAs("operator_b");
    analyst_a_ = LoginAs("analyst_a");

    auto cust = mgr_->Post("/api/v1/customers", json{{"customer_no", "1500000101"},
                                                     {"name", "示范工厂"},
                                                     {"category", "large_industry"},
                                                     {"address", "工业园区1号"},
                                                     {"department_id", county_a_}}
                                                    .dump());
    ASSERT_EQ(cust.status, 201) << cust.body;
    int64_t customer = Json(cust)["id"];
    auto mp = mgr_->Post("/api/v1/metering-points", json{{"code", "MP0101"},
                                                         {"customer_id", customer},
                                                         {"voltage_v", 10000},
                                                         {"tariff_code", "GS-IND-10K"}}
                                                        .dump());
    ASSERT_EQ(mp.status, 201) << mp.body;
    point_ = Json(mp)["id"];
    auto meter = mgr_->Post("/api/v1/meters", json{{"asset_no", "M0101"},
                                                   {"make", "威胜"},
                                                   {"model", "DTZ341"},
                                                   {"phases", 3},
                                                   {"accuracy_class", "0.5S"},
                                                   {"registers", {"total"}},
                                                   {"comm_address", "000000000101"},
                                                   {"department_id", county_a_}}
                                                  .dump());
    ASSERT_EQ(meter.status, 201) << meter.body;
    auto inst = mgr_->Post("/api/v1/metering-points/" + std::to_string(point_) + "/install",
                           json{{"meter_id", Json(meter)["id"]},
                                {"installed_at", "2027-01-10T09:00:00+08:00"},
                                {"readings", {{"total", "0"}}}}
                               .dump());
    ASSERT_EQ(inst.status, 201) << inst.body;
    auto term = mgr_->Post("/api/v1/terminals", json{{"asset_no", "T0101"},
                                                     {"kind", "special_transformer"},
                                                     {"area_code", "3201"},
                                                     {"address", 1},
                                                     {"customer_id", customer}}
                                                    .dump());
    ASSERT_EQ(term.status, 201) << term.body;
    terminal_ = Json(term)["id"];
    auto tm = mgr_->Post("/api/v1/terminals/" + std::to_string(terminal_) + "/meters",
                         json{{"meter_id", Json(meter)["id"]}, {"point_no", 1}}.dump());
    ASSERT_EQ(tm.status, 201) << tm.body;
  }

  std::string CommandPath(int64_t id) { return "/api/v1/terminal-commands/" + std::to_string(id); }

  std::unique_ptr<HttpClient> mgr_, op_a_, op_b_, analyst_a_;
  int64_t point_ = 0, terminal_ = 0;
};

TEST_P(CommandApiTest, IssueListGetAndCancel) {
  int64_t audits = AuditCount();
  auto r = op_a_->Post("/api/v1/terminal-commands",
                       json{{"terminal_id", terminal_},
                            {"kind", "trip"},
                            {"reason", "欠费停电 arrears"},
                            {"params", {{"round", 1}, {"limit_half_hours", 2}}}}
                           .dump());
  ASSERT_EQ(r.status, 201) << r.body;
  json c = Json(r);
  EXPECT_EQ(c["status"], "pending");
  EXPECT_EQ(c["via"], "afn05");
  EXPECT_EQ(c["terminal_address"], "3201-00001");
  EXPECT_EQ(c["point_no"], 1);
  EXPECT_EQ(c["params"], (json{{"round", 1}, {"limit_half_hours", 2}, {"alarm_delay_minutes", 0}}));
  EXPECT_EQ(c["issued_by_name"], "operator_a");
  EXPECT_EQ(c["reason"], "欠费停电 arrears");
  EXPECT_TRUE(c["request_hex"].is_null());
  EXPECT_TRUE(c["request_decoded"].is_null());
  EXPECT_EQ(AuditCount(), audits + 1);
  int64_t id = c["id"];

  // By metering point: the terminal reading its meter, time sync to the terminal itself.
  auto by_point = op_a_->Post("/api/v1/terminal-commands",
                              json{{"metering_point_id", point_}, {"kind", "permit_close"}}.dump());
  ASSERT_EQ(by_point.status, 201) << by_point.body;
  EXPECT_EQ(Json(by_point)["terminal_id"], terminal_);
  EXPECT_EQ(Json(by_point)["point_code"], "MP0101");
  auto sync = op_a_->Post("/api/v1/terminal-commands",
                          json{{"terminal_id", terminal_}, {"kind", "time_sync"}}.dump());
  ASSERT_EQ(sync.status, 201) << sync.body;

  // Lists: newest first, filters, scope.
  auto list = analyst_a_->Get("/api/v1/terminal-commands");
  ASSERT_EQ(list.status, 200) << list.body;
  json page = Json(list);
  EXPECT_EQ(page["total"], 3);
  ASSERT_EQ(page["items"].size(), 3u);
  EXPECT_EQ(page["items"][0]["kind"], "time_sync");
  auto trips = op_a_->Get("/api/v1/terminal-commands?kind=trip&status=pending&terminal_id=" +
                          std::to_string(terminal_));
  ASSERT_EQ(trips.status, 200);
  ASSERT_EQ(Json(trips)["items"].size(), 1u);
  EXPECT_EQ(Json(trips)["items"][0]["id"], id);
  EXPECT_EQ(Json(op_b_->Get("/api/v1/terminal-commands"))["total"], 0);
  auto bad_filter = op_a_->Get("/api/v1/terminal-commands?status=lost");
  EXPECT_EQ(bad_filter.status, 400);
  EXPECT_EQ(Json(bad_filter)["error"]["field"], "status");

  auto one = analyst_a_->Get(CommandPath(id));
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(Json(one)["kind"], "trip");
  EXPECT_EQ(op_b_->Get(CommandPath(id)).status, 404);

  // Refused: permission, scope, strict bodies; nothing written.
  audits = AuditCount();
  auto as_analyst =
      analyst_a_->Post("/api/v1/terminal-commands",
                       json{{"terminal_id", terminal_}, {"kind", "trip"}, {"reason", "r"}}.dump());
  EXPECT_EQ(as_analyst.status, 403);
  auto other_county =
      op_b_->Post("/api/v1/terminal-commands",
                  json{{"terminal_id", terminal_}, {"kind", "trip"}, {"reason", "r"}}.dump());
  EXPECT_EQ(other_county.status, 404);
  auto no_reason = op_a_->Post("/api/v1/terminal-commands",
                               json{{"terminal_id", terminal_}, {"kind", "trip"}}.dump());
  EXPECT_EQ(no_reason.status, 400);
  EXPECT_EQ(Json(no_reason)["error"]["field"], "reason");
  auto stray = op_a_->Post(
      "/api/v1/terminal-commands",
      json{{"terminal_id", terminal_}, {"kind", "trip"}, {"params", {{"rounds", 1}}}}.dump());
  EXPECT_EQ(stray.status, 400);
  EXPECT_EQ(Json(stray)["error"]["field"], "params.rounds");
  auto unused = op_a_->Post(
      "/api/v1/terminal-commands",
      json{{"terminal_id", terminal_}, {"kind", "time_sync"}, {"params", {{"round", 1}}}}.dump());
  EXPECT_EQ(unused.status, 400);
  EXPECT_EQ(Json(unused)["error"]["field"], "params.round");
  auto no_kind = op_a_->Post("/api/v1/terminal-commands", json{{"terminal_id", terminal_}}.dump());
  EXPECT_EQ(no_kind.status, 400);
  EXPECT_EQ(Json(no_kind)["error"]["field"], "kind");
  auto fwd_sync = op_a_->Post(
      "/api/v1/terminal-commands",
      json{{"metering_point_id", point_}, {"kind", "time_sync"}, {"via", "afn10_645"}}.dump());
  EXPECT_EQ(fwd_sync.status, 400);
  EXPECT_EQ(Json(fwd_sync)["error"]["field"], "via");
  EXPECT_EQ(AuditCount(), audits);

  // Cancel: the version must be current; only pending; audited.
  auto stale = op_a_->Post(CommandPath(id) + "/cancel", json{{"version", 99}}.dump());
  EXPECT_EQ(stale.status, 409);
  EXPECT_EQ(
      analyst_a_->Post(CommandPath(id) + "/cancel", json{{"version", c["version"]}}.dump()).status,
      403);
  auto cancel = op_a_->Post(CommandPath(id) + "/cancel", json{{"version", c["version"]}}.dump());
  ASSERT_EQ(cancel.status, 200) << cancel.body;
  EXPECT_EQ(Json(cancel)["status"], "cancelled");
  EXPECT_EQ(Json(cancel)["answer_text"], "cancelled by operator_a");
  EXPECT_EQ(AuditCount(), audits + 1);
  auto again =
      op_a_->Post(CommandPath(id) + "/cancel", json{{"version", Json(cancel)["version"]}}.dump());
  EXPECT_EQ(again.status, 409);
  auto audit =
      LoginAs("auditor")->Get("/api/v1/audit?entity=terminal_command&id=" + std::to_string(id));
  ASSERT_EQ(audit.status, 200) << audit.body;
  json items = Json(audit)["items"];
  ASSERT_EQ(items.size(), 2u) << audit.body;
  EXPECT_EQ(items[0]["action"], "cancel");
  EXPECT_EQ(items[1]["action"], "create");
  EXPECT_EQ(items[1]["username"], "operator_a");
}

TEST_P(CommandApiTest, FrontEndRoutesAre503WithoutAFrontEnd) {
  std::string t = "/api/v1/terminals/" + std::to_string(terminal_);
  for (const char* path : {"/comm-log", "/link"}) {
    auto r = analyst_a_->Get(t + path);
    EXPECT_EQ(r.status, 503) << path << ": " << r.body;
    EXPECT_NE(Json(r)["error"]["message"].get<std::string>().find("no terminal front end"),
              std::string::npos)
        << r.body;
    EXPECT_EQ(op_b_->Get(t + path).status, 404) << path;  // scope first
  }
  auto stats = analyst_a_->Get("/api/v1/acquisition/front-end");
  EXPECT_EQ(stats.status, 503) << stats.body;
  auto read = op_a_->Post("/api/v1/metering-points/" + std::to_string(point_) + "/read-now",
                          json{{"items", {"energy", "clock"}}}.dump());
  EXPECT_EQ(read.status, 503) << read.body;
  // Permission, scope and body checks come before.
  std::string read_path = "/api/v1/metering-points/" + std::to_string(point_) + "/read-now";
  EXPECT_EQ(analyst_a_->Post(read_path, "{}").status, 403);
  EXPECT_EQ(op_b_->Post(read_path, "{}").status, 404);
  auto bad_item = op_a_->Post(read_path, json{{"items", {"energy", "weather"}}}.dump());
  EXPECT_EQ(bad_item.status, 400);
  EXPECT_EQ(Json(bad_item)["error"]["field"], "items[1]");
  auto bad_limit = analyst_a_->Get(t + "/comm-log?limit=0");
  EXPECT_EQ(bad_limit.status, 400);
}

// The server with its front end on a free port and a simulated special transformer terminal
// (3201-00001, the meter at Pn 1 on control round 1) logged in.
class CommandFrontEndApiTest : public CommandApiTest {
 protected:
  void Configure(Config& c) override { c.fep_enabled = true; }

  void SetUp() override {
    CommandApiTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_NE(app_->front_end_port(), 0);
    acquisition::simulator::FleetOptions so;
    so.port = app_->front_end_port();
    so.login_retry_seconds = 1;
    so.terminals = {{{3201, 1},
                     acquisition::simulator::TerminalKind::kSpecialTransformer,
                     {acquisition::simulator::SimMeter{1, "000000000101", 7}}}};
    fleet_ = std::make_unique<acquisition::simulator::Fleet>(so, clock_);
    ASSERT_TRUE(fleet_->Start().ok());
    // The registry is reloaded after an unknown login: the first attempts may be refused.
    Status s = fleet_->WaitForLogins(1, std::chrono::seconds(60));
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  void TearDown() override {
    if (fleet_) fleet_->Stop();
    CommandApiTest::TearDown();
  }

  std::unique_ptr<acquisition::simulator::Fleet> fleet_;
};

TEST_P(CommandFrontEndApiTest, TripOverHttpWithTheCommunicationLog) {
  ASSERT_EQ(fleet_->RelayClosed({3201, 1}, 1), true);
  auto r =
      op_a_->Post("/api/v1/terminal-commands",
                  json{{"metering_point_id", point_}, {"kind", "trip"}, {"reason", "test"}}.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  int64_t id = Json(r)["id"];
  json c;
  for (int i = 0; i < 1000; ++i) {  // the dispatcher thread sends it
    c = Json(analyst_a_->Get(CommandPath(id)));
    if (c["status"] != "pending" && c["status"] != "sent") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(c["status"], "confirmed") << c.dump();
  EXPECT_EQ(c["request_decoded"]["afn"], "05");
  EXPECT_EQ(c["answer_decoded"]["afn"], "00");
  EXPECT_EQ(fleet_->RelayClosed({3201, 1}, 1), false);

  std::string t = "/api/v1/terminals/" + std::to_string(terminal_);
  auto link = analyst_a_->Get(t + "/link");
  ASSERT_EQ(link.status, 200) << link.body;
  EXPECT_EQ(Json(link)["online"], true);
  EXPECT_EQ(Json(link)["terminal_address"], "3201-00001");
  auto stats = analyst_a_->Get("/api/v1/acquisition/front-end");
  ASSERT_EQ(stats.status, 200) << stats.body;
  EXPECT_EQ(Json(stats)["terminals_online"], 1);
  auto log = analyst_a_->Get(t + "/comm-log?limit=2");
  ASSERT_EQ(log.status, 200) << log.body;
  json page = Json(log);
  ASSERT_EQ(page["items"].size(), 2u);
  EXPECT_FALSE(page["next_before"].is_null());
  bool saw_trip = false;
  for (int i = 0; i < 20 && !saw_trip; ++i) {
    for (const auto& e : page["items"]) {
      EXPECT_FALSE(e["hex"].get<std::string>().empty());
      EXPECT_EQ(e["decoded"]["protocol"], "Q/GDW 1376.1") << e.dump();
      if (e["direction"] == "out" && e["decoded"]["afn"] == "05") saw_trip = true;
    }
    if (page["next_before"].is_null()) break;
    page = Json(analyst_a_->Get(
        t + "/comm-log?limit=2&before=" + std::to_string(page["next_before"].get<int64_t>())));
  }
  EXPECT_TRUE(saw_trip);

  // On-demand read of the point's registers through the terminal.
  auto read = op_a_->Post("/api/v1/metering-points/" + std::to_string(point_) + "/read-now",
                          json{{"items", {"energy"}}}.dump());
  ASSERT_EQ(read.status, 200) << read.body;
  json values = Json(read)["values"];
  bool total = false;
  for (const auto& v : values) {
    if (v["source"] == "AFN0C F129" && v["name"] == "fwd_active_total") {
      total = v["value"].is_string();
    }
  }
  EXPECT_TRUE(total) << read.body;
  EXPECT_EQ(Json(read)["frames"][0]["decoded"]["afn"], "0C");
}

GRIDMIS_API_TEST_BACKENDS(CommandApiTest);
GRIDMIS_API_TEST_BACKENDS(CommandFrontEndApiTest);

}  // namespace
}  // namespace gridmis::testing
