// Commands to terminals end to end: the queue in the database (both engines), a real
// in-process front end and a simulated fleet on 127.0.0.1 carrying out trips, permit closes,
// time syncs and forwarded DL/T 645 controls; the prepaid bridge; on-demand reads; the front
// end's communication log; scope, permissions and audit.
#include "acquisition/commands.h"

#include <gtest/gtest.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "accounts/testing.h"
#include "acquisition/protocol/dlt645.h"
#include "acquisition/protocol/frame_json.h"
#include "acquisition/simulator/simulator.h"
#include "acquisition/terminals.h"
#include "grid/grid.h"
#include "metering/metering.h"
#include "reading/billable.h"

namespace gridmis::acquisition {
namespace {

using accounts::testing::AccountsFixture;
using gdw1376::TerminalKey;
using nlohmann::json;

constexpr char kPw[] = "00112233445566778899AABBCCDDEEFF";
constexpr TerminalKey kSpecial{3201, 1};
constexpr TerminalKey kConcentrator{3201, 2};
constexpr TerminalKey kOffline{3201, 3};
constexpr TerminalKey kCountyB{3201, 4};

Date D(const char* s) { return Date::Parse(s).value(); }

// The registry as the front end sees it: the four terminals of the fixture.
class KnownTerminals final : public fep::Listener {
 public:
  bool IsKnown(TerminalKey k) override {
    return k == kSpecial || k == kConcentrator || k == kOffline || k == kCountyB;
  }
  void OnOnline(TerminalKey, const std::string&, int64_t) override {}
  void OnOffline(TerminalKey, const std::string&, int64_t) override {}
  void OnReport(TerminalKey, const gdw1376::Frame&, int64_t) override {}
  void OnEventCounter(TerminalKey, gdw1376::EventCounter, int64_t) override {}
};

class CommandTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto f = AccountsFixture::Create(
        GetParam(), D("2026-03-20"),
        std::make_shared<accounts::testing::FlatPricer>(Price::ParseYuan("0.50").value()));
    if (!f.ok() && GetParam() == "postgres" && !store::testing::PostgresRequiredForTest()) {
      GTEST_SKIP() << f.status().ToString();
    }
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    f_ = std::move(*f);
    auto zone = TimeZone::Load("Asia/Shanghai");
    ASSERT_TRUE(zone.ok());
    zone_ = *zone;
    const org::Actor& sys = f_->system();
    auto& u = f_->utility();

    grid::GridService grid(f_->db(), f_->clock());
    grid::SubstationInput s;
    s.code = "SUB-A";
    s.name = "SUB-A";
    s.voltage_v = 110'000;
    s.department_id = u.county_a;
    auto sub = grid.CreateSubstation(sys, s);
    ASSERT_TRUE(sub.ok()) << sub.status().ToString();
    grid::FeederInput fd;
    fd.code = "F-A";
    fd.name = "F-A";
    fd.substation_id = sub->id;
    auto feeder = grid.CreateFeeder(sys, fd);
    ASSERT_TRUE(feeder.ok()) << feeder.status().ToString();
    grid::TransformerAreaInput ta;
    ta.code = "TA-A";
    ta.name = "TA-A";
    ta.feeder_id = feeder->id;
    ta.capacity_kva = 400;
    ta.department_id = u.county_a;
    auto area = grid.CreateTransformerArea(sys, ta);
    ASSERT_TRUE(area.ok()) << area.status().ToString();

    auto ca = f_->MakeCustomer("1500000301", "residential", u.county_a);
    auto cb = f_->MakeCustomer("1500000302", "residential", u.county_b);
    ASSERT_TRUE(ca.ok() && cb.ok());

    TerminalService terminals(f_->db(), f_->clock());
    auto terminal = [&](const char* asset, const char* kind, TerminalKey k,
                        std::optional<int64_t> customer, std::optional<int64_t> ta_id) {
      TerminalInput in;
      in.asset_no = asset;
      in.kind = kind;
      in.area_code = std::to_string(k.area);
      in.address = k.address;
      in.customer_id = customer;
      in.transformer_area_id = ta_id;
      auto t = terminals.Create(sys, in);
      EXPECT_TRUE(t.ok()) << t.status().ToString();
      return t.ok() ? t->id : 0;
    };
    special_ = terminal("T-SPECIAL", "special_transformer", kSpecial, *ca, std::nullopt);
    concentrator_ = terminal("T-CONC", "public_transformer", kConcentrator, std::nullopt, area->id);
    offline_ = terminal("T-OFFLINE", "special_transformer", kOffline, *ca, std::nullopt);
    county_b_ = terminal("T-B", "special_transformer", kCountyB, *cb, std::nullopt);

    metering::MeteringService metering(f_->db(), f_->clock());
    // A point with its installed meter, read by `terminal` at `pn`.
    auto point = [&](const char* code, int64_t customer, const char* meter_address,
                     int64_t terminal_id, int64_t pn, int64_t dept) {
      auto p = f_->MakePoint(customer, code);
      EXPECT_TRUE(p.ok()) << p.status().ToString();
      metering::MeterInput m;
      m.asset_no = std::string("M-") + code;
      m.make = "威胜";
      m.model = "DDZY1102";
      m.phases = 1;
      m.accuracy_class = "2";
      m.registers = std::vector<std::string>{"total"};
      m.comm_address = std::optional<std::string>(meter_address);
      m.department_id = dept;
      auto meter = metering.CreateMeter(sys, m);
      EXPECT_TRUE(meter.ok()) << meter.status().ToString();
      metering::InstallInput inst;
      inst.meter_id = meter->id;
      inst.installed_at_us = f_->clock().NowMicros() - kMicrosPerDay * 30;
      inst.readings = {{"total", Energy::FromKwh(0)}};
      auto installed = metering.Install(sys, *p, inst);
      EXPECT_TRUE(installed.ok()) << installed.status().ToString();
      auto tm = terminals.AddMeter(sys, terminal_id, {meter->id, pn, {}, {}, {}});
      EXPECT_TRUE(tm.ok()) << tm.status().ToString();
      return *p;
    };
    point_s1_ = point("MP-S1", *ca, "000000000101", special_, 1, u.county_a);
    point_c5_ = point("MP-C5", *ca, "320100002005", concentrator_, 5, u.county_a);
    point_c6_ = point("MP-C6", *ca, "999999999906", concentrator_, 6, u.county_a);  // not wired
    point_off_ = point("MP-OFF", *ca, "000000000301", offline_, 1, u.county_a);
    point_b_ = point("MP-B", *cb, "000000000401", county_b_, 1, u.county_b);
    auto bare = f_->MakePoint(*ca, "MP-BARE");  // no meter installed
    ASSERT_TRUE(bare.ok());
    point_bare_ = *bare;

    auto op = u.MakeActor("operator_a", u.county_a, {"acquisition_operator"});
    auto an = u.MakeActor("analyst_a", u.county_a, {"analyst"});
    auto ob = u.MakeActor("operator_b", u.county_b, {"acquisition_operator"});
    ASSERT_TRUE(op.ok() && an.ok() && ob.ok());
    operator_a_ = *op;
    analyst_a_ = *an;
    operator_b_ = *ob;

    commands_ = MakeService(kPw, false);
    ASSERT_NE(commands_, nullptr);
  }

  void TearDown() override {
    if (fleet_) fleet_->Stop();
    if (commands_) commands_->StopDispatcher();
    if (fe_) fe_->Stop();
    fleet_.reset();
    commands_.reset();
    fe_.reset();
  }

  std::unique_ptr<CommandService> MakeService(const std::string& pw, bool thread) {
    CommandOptions o;
    o.password_hex = pw;
    o.dispatcher_thread = thread;
    o.request_timeout = std::chrono::milliseconds(3000);
    o.retries = 0;
    o.forward_frame_timeout = std::chrono::seconds(2);
    o.poll_interval = std::chrono::milliseconds(50);
    auto s = CommandService::Create(f_->db(), f_->clock(), zone_, &f_->prepaid(), o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }

  // A front end on a free port and a fleet of the special transformer terminal (meter Pn 1)
  // and the concentrator (meter Pn 5); the offline terminal never connects.
  void StartField(simulator::FaultOptions faults = {}, std::string fleet_password = kPw) {
    fep::FrontEndOptions fo;
    fo.port = 0;
    fo.request_timeout = std::chrono::milliseconds(3000);
    fo.retries = 0;
    fe_ = std::make_unique<fep::FrontEnd>(fo, &listener_, f_->clock());
    ASSERT_TRUE(fe_->Start().ok());
    simulator::FleetOptions so;
    so.port = fe_->port();
    so.time_zone = &zone_;
    so.password = std::move(fleet_password);
    so.faults = faults;
    simulator::SimTerminal st{kSpecial,
                              simulator::TerminalKind::kSpecialTransformer,
                              {simulator::SimMeter{1, "000000000101", 11}}};
    simulator::SimTerminal ct{kConcentrator,
                              simulator::TerminalKind::kPublicTransformer,
                              {simulator::SimMeter{5, "320100002005", 12}}};
    so.terminals = {st, ct};
    fleet_ = std::make_unique<simulator::Fleet>(so, f_->clock());
    ASSERT_TRUE(fleet_->Start().ok());
    Status s = fleet_->WaitForLogins(2, std::chrono::seconds(20));
    ASSERT_TRUE(s.ok()) << s.ToString();
    // The front end knows the terminals online once their logins are confirmed.
    for (int i = 0; i < 200; ++i) {
      auto a = fe_->State(kSpecial), b = fe_->State(kConcentrator);
      if (a && a->online && b && b->online) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    commands_->AttachFrontEnd(fe_.get());
  }

  Command Issue(const CommandInput& in) {
    auto c = commands_->Issue(operator_a_, in);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *c : Command{};
  }
  Command Get(int64_t id) {
    auto c = commands_->Get(operator_a_, id);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *c : Command{};
  }
  void RunOnce() {
    Status s = commands_->RunOnceForTest();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  int64_t Count(const std::string& sql, const store::Params& params = {}) {
    auto n = f_->QueryInt(sql, params);
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? *n : -1;
  }
  static CommandInput Input(std::optional<int64_t> terminal, std::optional<int64_t> point,
                            const std::string& kind) {
    CommandInput in;
    in.terminal_id = terminal;
    in.metering_point_id = point;
    in.kind = kind;
    in.reason = "test";
    return in;
  }
  // The request frame a command recorded, decoded.
  static gdw1376::Frame RequestFrame(const Command& c) {
    EXPECT_TRUE(c.request_hex.has_value());
    auto bytes = protocol::ParseHex(c.request_hex.value_or(""));
    EXPECT_TRUE(bytes.ok());
    auto f = gdw1376::Decode(*bytes);
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    return f.ok() ? *f : gdw1376::Frame{};
  }

  std::unique_ptr<AccountsFixture> f_;
  TimeZone zone_;
  int64_t special_ = 0, concentrator_ = 0, offline_ = 0, county_b_ = 0;
  int64_t point_s1_ = 0, point_c5_ = 0, point_c6_ = 0, point_off_ = 0, point_b_ = 0,
          point_bare_ = 0;
  org::Actor operator_a_, analyst_a_, operator_b_;
  KnownTerminals listener_;
  std::unique_ptr<fep::FrontEnd> fe_;
  std::unique_ptr<simulator::Fleet> fleet_;
  std::unique_ptr<CommandService> commands_;
};

TEST_P(CommandTest, IssueChecksTheCommandAndAuditsIt) {
  CommandInput trip = Input(special_, std::nullopt, "trip");
  trip.params.round = 2;
  trip.params.limit_half_hours = 3;
  Command c = Issue(trip);
  EXPECT_EQ(c.status, "pending");
  EXPECT_EQ(c.via, "afn05");
  EXPECT_EQ(c.point_no, 2);
  EXPECT_EQ(c.terminal_address, "3201-00001");
  EXPECT_EQ(c.issued_by_name, "operator_a");
  EXPECT_EQ(c.attempts, 0);
  EXPECT_EQ(c.expires_at_us - c.created_at_us, 24 * 3600 * kMicrosPerSecond);
  json params = json::parse(c.params_json);
  EXPECT_EQ(params, (json{{"round", 2}, {"limit_half_hours", 3}, {"alarm_delay_minutes", 0}}));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_log WHERE entity = 'terminal_command' AND action = "
                  "'create' AND entity_id = $1 AND username = 'operator_a' AND after_json LIKE "
                  "'%\"limit_half_hours\":3%'",
                  {std::to_string(c.id)}),
            1);

  // A point behind the concentrator goes through AFN10 to its meter; behind the special
  // transformer terminal through AFN05 (round 1 by default).
  Command fwd = Issue(Input(std::nullopt, point_c5_, "trip"));
  EXPECT_EQ(fwd.via, "afn10_645");
  EXPECT_EQ(fwd.terminal_id, concentrator_);
  EXPECT_EQ(fwd.point_no, 5);
  EXPECT_EQ(fwd.meter_address, "320100002005");
  EXPECT_EQ(fwd.port, 2);
  EXPECT_EQ(fwd.params_json, "{}");
  Command round1 = Issue(Input(std::nullopt, point_s1_, "permit_close"));
  EXPECT_EQ(round1.via, "afn05");
  EXPECT_EQ(round1.point_no, 1);

  CommandInput pc = Input(special_, std::nullopt, "power_control_enable");
  pc.params.control = "period";
  pc.params.total_group = 2;
  Command power = Issue(pc);
  EXPECT_EQ(power.point_no, 2);
  EXPECT_EQ(
      json::parse(power.params_json),
      (json{{"control", "period"}, {"total_group", 2}, {"period_flags", 255}, {"scheme", 0}}));

  // Refused, naming the field, and nothing written.
  int64_t before = Count("SELECT COUNT(*) FROM terminal_commands");
  auto bad = [&](CommandInput in, StatusCode code, const std::string& field) {
    auto r = commands_->Issue(operator_a_, in);
    EXPECT_EQ(r.status().code(), code) << r.status().ToString();
    EXPECT_EQ(r.status().field(), field) << r.status().ToString();
  };
  CommandInput sync_fwd = Input(std::nullopt, point_c5_, "time_sync");
  sync_fwd.via = "afn10_645";
  bad(sync_fwd, StatusCode::kInvalidArgument, "via");
  CommandInput round9 = Input(special_, std::nullopt, "trip");
  round9.params.round = 9;
  bad(round9, StatusCode::kInvalidArgument, "params.round");
  CommandInput stray = Input(special_, std::nullopt, "time_sync");
  stray.params.limit_half_hours = 1;
  bad(stray, StatusCode::kInvalidArgument, "params.limit_half_hours");
  CommandInput no_control = Input(special_, std::nullopt, "power_control_release");
  bad(no_control, StatusCode::kInvalidArgument, "params.control");
  bad(Input(std::nullopt, std::nullopt, "trip"), StatusCode::kInvalidArgument, "terminal_id");
  CommandInput unexplained = Input(special_, std::nullopt, "trip");
  unexplained.reason = "  ";
  bad(unexplained, StatusCode::kInvalidArgument, "reason");
  bad(Input(special_, point_c5_, "trip"), StatusCode::kInvalidArgument, "terminal_id");
  bad(Input(std::nullopt, point_bare_, "trip"), StatusCode::kFailedPrecondition,
      "metering_point_id");
  bad(Input(std::nullopt, 999999, "trip"), StatusCode::kNotFound, "");
  bad(Input(999999, std::nullopt, "trip"), StatusCode::kNotFound, "");
  CommandInput unknown = Input(special_, std::nullopt, "explode");
  bad(unknown, StatusCode::kInvalidArgument, "kind");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM terminal_commands"), before);

  // Permission and data scope.
  EXPECT_EQ(commands_->Issue(analyst_a_, Input(special_, std::nullopt, "trip")).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(commands_->Issue(operator_b_, Input(special_, std::nullopt, "trip")).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(commands_->Issue(operator_b_, Input(std::nullopt, point_s1_, "trip")).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(commands_->Get(operator_b_, c.id).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(commands_->Get(analyst_a_, c.id).ok());  // acquisition.read
  auto own_b = commands_->Issue(operator_b_, Input(county_b_, std::nullopt, "time_sync"));
  ASSERT_TRUE(own_b.ok()) << own_b.status().ToString();

  // Lists: scope, filters, newest first.
  int64_t total = 0;
  auto all_a = commands_->List(operator_a_, {}, &total);
  ASSERT_TRUE(all_a.ok());
  EXPECT_EQ(total, 4);
  ASSERT_EQ(all_a->size(), 4u);
  EXPECT_EQ((*all_a)[0].id, power.id);
  CommandQuery by_terminal;
  by_terminal.terminal_id = concentrator_;
  auto conc = commands_->List(analyst_a_, by_terminal, &total);
  ASSERT_TRUE(conc.ok());
  ASSERT_EQ(conc->size(), 1u);
  EXPECT_EQ((*conc)[0].id, fwd.id);
  CommandQuery by_kind;
  by_kind.kind = "trip";
  by_kind.status = "pending";
  ASSERT_TRUE(commands_->List(operator_a_, by_kind, &total).ok());
  EXPECT_EQ(total, 2);
  auto all_b = commands_->List(operator_b_, {}, &total);
  ASSERT_TRUE(all_b.ok());
  ASSERT_EQ(all_b->size(), 1u);
  EXPECT_EQ((*all_b)[0].id, own_b->id);
  CommandQuery bad_status;
  bad_status.status = "lost";
  EXPECT_EQ(commands_->List(operator_a_, bad_status, &total).status().field(), "status");

  // Cancel: version checked, pending only, audited.
  EXPECT_EQ(commands_->Cancel(operator_a_, c.id, c.version + 1).status().code(),
            StatusCode::kAborted);
  EXPECT_EQ(commands_->Cancel(analyst_a_, c.id, c.version).status().code(),
            StatusCode::kPermissionDenied);
  auto cancelled = commands_->Cancel(operator_a_, c.id, c.version);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status().ToString();
  EXPECT_EQ(cancelled->status, "cancelled");
  EXPECT_EQ(cancelled->answer_text, "cancelled by operator_a");
  EXPECT_TRUE(cancelled->completed_at_us.has_value());
  EXPECT_EQ(commands_->Cancel(operator_a_, c.id, cancelled->version).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_log WHERE entity = 'terminal_command' AND action = "
                  "'cancel' AND entity_id = $1 AND before_json LIKE '%\"pending\"%' AND "
                  "after_json LIKE '%\"cancelled\"%'",
                  {std::to_string(c.id)}),
            1);
}

TEST_P(CommandTest, TripAndPermitCloseRoundTrip) {
  StartField();
  ASSERT_EQ(fleet_->RelayClosed(kSpecial, 1), true);
  CommandInput trip = Input(special_, std::nullopt, "trip");
  trip.params.round = 1;
  trip.params.alarm_delay_minutes = 0;
  Command c = Issue(trip);
  RunOnce();
  Command done = Get(c.id);
  EXPECT_EQ(done.status, "confirmed") << done.answer_text.value_or("");
  EXPECT_EQ(done.attempts, 1);
  EXPECT_NE(done.answer_text.value_or("").find("AFN00 F1"), std::string::npos);
  EXPECT_TRUE(done.sent_at_us.has_value());
  EXPECT_TRUE(done.completed_at_us.has_value());
  ASSERT_TRUE(done.answer_hex.has_value());
  EXPECT_EQ(fleet_->RelayClosed(kSpecial, 1), false);
  // The recorded request: AFN05 F1 p1 with the configured PW.
  gdw1376::Frame req = RequestFrame(done);
  EXPECT_EQ(req.afn, gdw1376::kAfnControl);
  ASSERT_NE(req.Find(1), nullptr);
  EXPECT_EQ(req.Find(1)->pn, 1);
  ASSERT_TRUE(req.pw.has_value());
  EXPECT_EQ(protocol::Hex(*req.pw), "00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF");

  Command close = Issue(Input(std::nullopt, point_s1_, "permit_close"));
  RunOnce();
  EXPECT_EQ(Get(close.id).status, "confirmed");
  EXPECT_EQ(fleet_->RelayClosed(kSpecial, 1), true);
  // Terminal-wide commands: urge-fee alarm on and off.
  Command on = Issue(Input(special_, std::nullopt, "urge_alarm_on"));
  Command off = Issue(Input(special_, std::nullopt, "urge_alarm_off"));
  RunOnce();
  EXPECT_EQ(Get(on.id).status, "confirmed");
  EXPECT_EQ(Get(off.id).status, "confirmed");
  EXPECT_EQ(RequestFrame(Get(off.id)).Find(34)->pn, 0);
  // A round with no supply behind it is denied by the terminal.
  CommandInput round7 = Input(special_, std::nullopt, "trip");
  round7.params.round = 7;
  Command denied = Issue(round7);
  RunOnce();
  EXPECT_EQ(Get(denied.id).status, "denied");
}

TEST_P(CommandTest, AWrongPasswordIsDenied) {
  StartField({}, "FFEEDDCCBBAA99887766554433221100");
  Command c = Issue(Input(special_, std::nullopt, "trip"));
  RunOnce();
  Command done = Get(c.id);
  EXPECT_EQ(done.status, "denied");
  EXPECT_NE(done.answer_text.value_or("").find("denied by the terminal"), std::string::npos)
      << done.answer_text.value_or("");
  EXPECT_TRUE(done.answer_hex.has_value());
  EXPECT_EQ(fleet_->RelayClosed(kSpecial, 1), true);  // nothing happened
  EXPECT_EQ(commands_->Cancel(operator_a_, c.id, done.version).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST_P(CommandTest, AnOfflineTerminalKeepsItsCommandPendingUntilItExpires) {
  StartField();
  Command c = Issue(Input(offline_, std::nullopt, "trip"));
  Command live = Issue(Input(special_, std::nullopt, "time_sync"));
  RunOnce();
  EXPECT_EQ(Get(live.id).status, "confirmed");  // one offline terminal delays no other
  Command waiting = Get(c.id);
  EXPECT_EQ(waiting.status, "pending");
  EXPECT_EQ(waiting.attempts, 0);
  f_->clock().Advance(23 * 3600 * kMicrosPerSecond);
  RunOnce();
  EXPECT_EQ(Get(c.id).status, "pending");
  f_->clock().Advance(2 * 3600 * kMicrosPerSecond);
  RunOnce();
  Command expired = Get(c.id);
  EXPECT_EQ(expired.status, "timed_out");
  EXPECT_NE(expired.answer_text.value_or("").find("expired"), std::string::npos);
  EXPECT_TRUE(expired.completed_at_us.has_value());
}

TEST_P(CommandTest, WithoutAFrontEndCommandsWaitAndSentOnesLeftBehindTimeOut) {
  Command c = Issue(Input(special_, std::nullopt, "trip"));
  RunOnce();  // no front end attached: nothing is sent
  EXPECT_EQ(Get(c.id).status, "pending");
  // A command another process marked sent and then never answered (it stopped).
  ASSERT_TRUE(f_->db()
                  .Write([&](store::Connection& conn) {
                    return conn
                        .Exec(
                            "UPDATE terminal_commands SET status = 'sent', sent_at_us = $1 "
                            "WHERE id = $2",
                            {f_->clock().NowMicros(), c.id})
                        .status();
                  })
                  .ok());
  f_->clock().Advance(5 * 60 * kMicrosPerSecond);
  RunOnce();
  EXPECT_EQ(Get(c.id).status, "sent");
  f_->clock().Advance(6 * 60 * kMicrosPerSecond);
  RunOnce();
  Command stale = Get(c.id);
  EXPECT_EQ(stale.status, "timed_out");
  EXPECT_NE(stale.answer_text.value_or("").find("unknown"), std::string::npos);
}

TEST_P(CommandTest, TimeSyncSetsTheTerminalClock) {
  simulator::FaultOptions drift;
  drift.clock_drift_seconds = 300;
  StartField(drift);
  ASSERT_EQ(fleet_->ClockOffsetSeconds(kSpecial), 300);
  Command c = Issue(Input(special_, std::nullopt, "time_sync"));
  RunOnce();
  Command done = Get(c.id);
  EXPECT_EQ(done.status, "confirmed") << done.answer_text.value_or("");
  auto offset = fleet_->ClockOffsetSeconds(kSpecial);
  ASSERT_TRUE(offset.has_value());
  EXPECT_LE(std::abs(*offset), 1);
  // F31 carries the local time (A.1) of the moment it was sent.
  gdw1376::Frame req = RequestFrame(done);
  ASSERT_NE(req.Find(31), nullptr);
  auto clk = gdw1376::DecodeClock(req.Find(31)->data);
  ASSERT_TRUE(clk.ok());
  EXPECT_EQ(clk->year, 2026);
  EXPECT_EQ(clk->month, 3);
  EXPECT_EQ(clk->day, 20);
  EXPECT_EQ(clk->hour, 10);    // the fixture's 10:00 Asia/Shanghai
  EXPECT_EQ(clk->weekday, 5);  // a Friday
}

TEST_P(CommandTest, ForwardedControlOfAMeterBehindAConcentrator) {
  StartField();
  ASSERT_EQ(fleet_->RelayClosed(kConcentrator, 5), true);
  Command trip = Issue(Input(std::nullopt, point_c5_, "trip"));
  RunOnce();
  Command done = Get(trip.id);
  EXPECT_EQ(done.status, "confirmed") << done.answer_text.value_or("");
  EXPECT_NE(done.answer_text.value_or("").find("9C"), std::string::npos);
  EXPECT_EQ(fleet_->RelayClosed(kConcentrator, 5), false);
  // The request: AFN10 F1 on port 2 at 2400 8E1, carrying a 645 1C trip (1A) to the meter.
  gdw1376::Frame req = RequestFrame(done);
  EXPECT_EQ(req.afn, gdw1376::kAfnForward);
  ASSERT_NE(req.Find(1), nullptr);
  auto fwd = gdw1376::DecodeForwardRequest(req.Find(1)->data);
  ASSERT_TRUE(fwd.ok());
  EXPECT_EQ(fwd->port, 2);
  EXPECT_EQ(fwd->comm_control, 0x6B);
  auto meter_frame = dlt645::Decode(fwd->payload);
  ASSERT_TRUE(meter_frame.ok());
  EXPECT_EQ(meter_frame->address, "320100002005");
  auto control = dlt645::DecodeControl(*meter_frame);
  ASSERT_TRUE(control.ok());
  EXPECT_EQ(control->action, dlt645::ControlAction::kTrip);

  Command close = Issue(Input(std::nullopt, point_c5_, "permit_close"));
  Command alarm = Issue(Input(std::nullopt, point_c5_, "urge_alarm_on"));
  RunOnce();
  EXPECT_EQ(Get(close.id).status, "confirmed");
  EXPECT_EQ(Get(alarm.id).status, "confirmed");
  EXPECT_EQ(fleet_->RelayClosed(kConcentrator, 5), true);
  // A meter the concentrator does not have never answers it.
  Command lost = Issue(Input(std::nullopt, point_c6_, "trip"));
  RunOnce();
  Command none = Get(lost.id);
  EXPECT_EQ(none.status, "timed_out");
  EXPECT_NE(none.answer_text.value_or("").find("did not answer"), std::string::npos);
}

TEST_P(CommandTest, APrepaidDisconnectBecomesAConfirmedTrip) {
  auto open = [&](int64_t point) {
    accounts::PrepaidAccountInput in;
    in.metering_point_id = point;
    in.mode = "remote";
    auto a = f_->prepaid().Create(f_->clerk_a, in);
    EXPECT_TRUE(a.ok()) << a.status().ToString();
  };
  auto freeze = [&](int64_t point, const char* day, const char* kwh) {
    reading::DailyFrozen fr;
    fr.metering_point_id = point;
    fr.day = D(day);
    fr.registers["total"] = Energy::ParseKwh(kwh).value();
    ASSERT_TRUE(f_->db()
                    .Write([&](store::Connection& c) { return reading::StoreDailyFrozen(c, {fr}); })
                    .ok());
  };
  open(point_c5_);
  open(point_bare_);
  for (int64_t p : {point_c5_, point_bare_}) {
    freeze(p, "2026-03-01", "1000.00");
    freeze(p, "2026-03-02", "1040.00");  // 40 kWh × 0.50 = 20.00 owed: disconnect
  }
  auto run = f_->prepaid().RunDailyDeduction(f_->clerk_a, D("2026-03-01"), std::nullopt);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  int64_t total = 0;
  accounts::ControlRequestQuery q;
  q.kind = "disconnect";
  auto reqs = f_->prepaid().ListControlRequests(f_->clerk_a, q, &total);
  ASSERT_TRUE(reqs.ok());
  ASSERT_EQ(reqs->size(), 2u);

  StartField();
  RunOnce();
  auto request_of = [&](int64_t point) {
    accounts::ControlRequestQuery rq;
    rq.metering_point_id = point;
    rq.kind = "disconnect";
    auto r = f_->prepaid().ListControlRequests(f_->clerk_a, rq, &total);
    EXPECT_TRUE(r.ok() && r->size() == 1u);
    return r.ok() && !r->empty() ? r->front() : accounts::ControlRequest{};
  };
  accounts::ControlRequest done = request_of(point_c5_);
  EXPECT_EQ(done.status, "confirmed") << done.error.value_or("");
  EXPECT_TRUE(done.completed_at_us.has_value());
  CommandQuery cq;
  cq.control_request_id = done.id;
  auto cmds = commands_->List(operator_a_, cq, &total);
  ASSERT_TRUE(cmds.ok());
  ASSERT_EQ(cmds->size(), 1u);
  const Command& cmd = cmds->front();
  EXPECT_EQ(cmd.kind, "trip");
  EXPECT_EQ(cmd.via, "afn10_645");
  EXPECT_EQ(cmd.status, "confirmed");
  EXPECT_EQ(cmd.issued_by_name, "acquisition.dispatcher");
  EXPECT_FALSE(cmd.issued_by.has_value());
  EXPECT_EQ(fleet_->RelayClosed(kConcentrator, 5), false);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_log WHERE entity = 'terminal_command' AND action = "
                  "'create' AND entity_id = $1 AND username = 'acquisition.dispatcher'",
                  {std::to_string(cmd.id)}),
            1);
  // The point without a meter cannot be disconnected: the request fails with the reason.
  accounts::ControlRequest failed = request_of(point_bare_);
  EXPECT_EQ(failed.status, "failed");
  EXPECT_NE(failed.error.value_or("").find("has no meter installed"), std::string::npos)
      << failed.error.value_or("");
  // Running again changes nothing (one command per request).
  RunOnce();
  EXPECT_EQ(Count("SELECT COUNT(*) FROM terminal_commands"), 1);
  EXPECT_EQ(request_of(point_c5_).version, done.version);
}

TEST_P(CommandTest, ARequestWhoseCommandTimesOutFails) {
  accounts::PrepaidAccountInput in;
  in.metering_point_id = point_off_;
  in.mode = "remote";
  ASSERT_TRUE(f_->prepaid().Create(f_->clerk_a, in).ok());
  for (auto [day, kwh] : {std::pair{"2026-03-01", "10.00"}, std::pair{"2026-03-02", "50.00"}}) {
    reading::DailyFrozen fr;
    fr.metering_point_id = point_off_;
    fr.day = D(day);
    fr.registers["total"] = Energy::ParseKwh(kwh).value();
    ASSERT_TRUE(f_->db()
                    .Write([&](store::Connection& c) { return reading::StoreDailyFrozen(c, {fr}); })
                    .ok());
  }
  ASSERT_TRUE(f_->prepaid().RunDailyDeduction(f_->clerk_a, D("2026-03-01"), std::nullopt).ok());
  RunOnce();
  int64_t total = 0;
  accounts::ControlRequestQuery q;
  q.metering_point_id = point_off_;
  auto sent = f_->prepaid().ListControlRequests(f_->clerk_a, q, &total);
  ASSERT_TRUE(sent.ok());
  ASSERT_EQ(sent->size(), 1u);
  EXPECT_EQ(sent->front().status, "sent");  // a command waits for the terminal (AFN05, round 1)
  f_->clock().Advance(25 * 3600 * kMicrosPerSecond);
  RunOnce();
  auto after = f_->prepaid().ListControlRequests(f_->clerk_a, q, &total);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->front().status, "failed");
  EXPECT_NE(after->front().error.value_or("").find("timed_out"), std::string::npos)
      << after->front().error.value_or("");
}

TEST_P(CommandTest, TheDispatcherThreadSendsOnItsOwn) {
  commands_ = MakeService(kPw, true);
  StartField();
  Command c = Issue(Input(special_, std::nullopt, "trip"));
  Command fwd = Issue(Input(std::nullopt, point_c5_, "trip"));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline &&
         (Get(c.id).status != "confirmed" || Get(fwd.id).status != "confirmed")) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(Get(c.id).status, "confirmed");
  EXPECT_EQ(Get(fwd.id).status, "confirmed");
  EXPECT_EQ(fleet_->RelayClosed(kSpecial, 1), false);
  EXPECT_EQ(fleet_->RelayClosed(kConcentrator, 5), false);
  commands_->StopDispatcher();
}

std::optional<std::string> ValueOf(const ReadNowResult& r, const std::string& source,
                                   const std::string& name) {
  for (const auto& v : r.values) {
    if (v.source == source && v.name == name) return v.value.value_or("(no data)");
  }
  return std::nullopt;
}

TEST_P(CommandTest, OnDemandReadsThroughTheTerminalAndThroughToTheMeter) {
  ReadNowRequest rq;
  rq.metering_point_id = point_s1_;
  rq.items = {"energy", "power", "clock"};
  EXPECT_EQ(commands_->ReadNow(operator_a_, rq).status().code(), StatusCode::kUnavailable);
  StartField();
  EXPECT_EQ(commands_->ReadNow(analyst_a_, rq).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(commands_->ReadNow(operator_b_, rq).status().code(), StatusCode::kNotFound);
  auto r = commands_->ReadNow(operator_a_, rq);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->errors.empty()) << r->errors.front();
  EXPECT_EQ(r->terminal_address, "3201-00001");
  EXPECT_EQ(r->point_no, 1);
  auto model = fleet_->Model(kSpecial, 1);
  ASSERT_TRUE(model.has_value());
  std::vector<Energy> regs = model->RegistersAt(f_->clock().NowMicros());
  EXPECT_EQ(ValueOf(*r, "AFN0C F129", "fwd_active_total"), regs[0].ToKwhString(4));
  EXPECT_EQ(ValueOf(*r, "AFN0C F129", "fwd_active_valley"), regs[4].ToKwhString(4));
  EXPECT_EQ(ValueOf(*r, "AFN0C F33", "fwd_active_peak"), regs[2].ToKwhString(4));
  EXPECT_TRUE(ValueOf(*r, "AFN0C F33", "fwd_reactive_total").has_value());
  EXPECT_TRUE(ValueOf(*r, "AFN0C F25", "voltage_a").has_value());
  EXPECT_EQ(ValueOf(*r, "AFN0C F2", "terminal_clock"), "2026-03-20 10:00:00");
  // Every exchange is there: 3 requests and their replies, decodable.
  ASSERT_EQ(r->frames.size(), 6u);
  for (const auto& fr : r->frames) {
    auto bytes = protocol::ParseHex(fr.hex);
    ASSERT_TRUE(bytes.ok());
    EXPECT_TRUE(gdw1376::Decode(*bytes).ok()) << fr.hex;
  }
  // Through the concentrator to the meter (DL/T 645 in AFN10).
  ReadNowRequest meter;
  meter.metering_point_id = point_c5_;
  meter.items = {"energy", "clock"};
  meter.via = "afn10_645";
  auto m = commands_->ReadNow(operator_a_, meter);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE(m->errors.empty()) << m->errors.front();
  auto cm = fleet_->Model(kConcentrator, 5);
  ASSERT_TRUE(cm.has_value());
  EXPECT_EQ(ValueOf(*m, "645 00010000", "fwd_active_total"),
            simulator::TruncateTo645(cm->TotalAt(f_->clock().NowMicros())).ToKwhString(2));
  EXPECT_EQ(ValueOf(*m, "645 0001FF00", "fwd_active_total"),
            ValueOf(*m, "645 00010000", "fwd_active_total"));
  EXPECT_TRUE(ValueOf(*m, "645 0001FF00", "fwd_active_valley").has_value());
  EXPECT_EQ(ValueOf(*m, "645 04000101", "meter_date").value_or("").substr(0, 10), "2026-03-20");
  // A meter that does not answer is an error of the read, not a failure of the call.
  ReadNowRequest lost;
  lost.metering_point_id = point_c6_;
  lost.via = "afn10_645";
  auto l = commands_->ReadNow(operator_a_, lost);
  ASSERT_TRUE(l.ok());
  EXPECT_TRUE(l->values.empty());
  ASSERT_FALSE(l->errors.empty());
  EXPECT_NE(l->errors.front().find("did not answer"), std::string::npos) << l->errors.front();
  // An offline terminal.
  ReadNowRequest off;
  off.metering_point_id = point_off_;
  EXPECT_EQ(commands_->ReadNow(operator_a_, off).status().code(), StatusCode::kUnavailable);
}

TEST_P(CommandTest, TheFrontEndsStateAndCommunicationLog) {
  EXPECT_EQ(commands_->FrontEndStats(operator_a_).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(commands_->CommLog(operator_a_, special_, 10, 0).status().code(),
            StatusCode::kUnavailable);
  StartField();
  Command c = Issue(Input(special_, std::nullopt, "time_sync"));
  RunOnce();
  ASSERT_EQ(Get(c.id).status, "confirmed");
  auto stats = commands_->FrontEndStats(analyst_a_);
  ASSERT_TRUE(stats.ok());
  EXPECT_GE(stats->logins, 2u);
  EXPECT_EQ(stats->terminals_online, 2u);
  auto link = commands_->LinkState(analyst_a_, special_);
  ASSERT_TRUE(link.ok());
  EXPECT_TRUE(link->online);
  auto off = commands_->LinkState(analyst_a_, offline_);
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->online);
  EXPECT_EQ(commands_->LinkState(operator_b_, special_).status().code(), StatusCode::kNotFound);

  auto log = commands_->CommLog(analyst_a_, special_, 100, 0);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  ASSERT_GE(log->size(), 4u);  // login, its confirm, the time sync, its confirm
  bool saw_sync = false;
  for (size_t i = 0; i < log->size(); ++i) {
    const auto& e = (*log)[i];
    ASSERT_TRUE(e.key.has_value());
    EXPECT_EQ(*e.key, kSpecial);
    if (i > 0) {
      EXPECT_LT(e.seq, (*log)[i - 1].seq);  // newest first
    }
    json decoded = protocol::FrameToJson(e.bytes);
    if (!e.inbound && decoded.value("afn", "") == "05") saw_sync = true;
  }
  EXPECT_TRUE(saw_sync);
  // Paging: the entries before the second one.
  auto older = commands_->CommLog(analyst_a_, special_, 100, (*log)[1].seq);
  ASSERT_TRUE(older.ok());
  ASSERT_EQ(older->size(), log->size() - 2);
  EXPECT_EQ(older->front().seq, (*log)[2].seq);
  EXPECT_EQ(commands_->CommLog(operator_b_, special_, 10, 0).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(commands_->CommLog(analyst_a_, special_, 0, 0).status().code(),
            StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Backends, CommandTest,
                         ::testing::ValuesIn(store::testing::AvailableBackendsForTest()),
                         [](const auto& p) { return p.param; });

}  // namespace
}  // namespace gridmis::acquisition
