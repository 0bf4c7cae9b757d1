// The simulator: the register model (pure), and fleets of simulated terminals against the real
// front end (fep::FrontEnd) on 127.0.0.1, asked through its Request API the way the collection
// and command services ask. Real short durations for heartbeats and time-outs; a FakeClock for
// the registers and the data's time.
#include "acquisition/simulator/simulator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "acquisition/fep/front_end.h"
#include "acquisition/protocol/dlt645.h"

namespace gridmis::acquisition::simulator {
namespace {

using gdw1376::Frame;
using gdw1376::TerminalKey;
using namespace std::chrono_literals;

const TimeZone& Shanghai() {
  static const TimeZone* tz = new TimeZone(*TimeZone::Load("Asia/Shanghai"));
  return *tz;
}

int64_t LocalInstant(Date d, int hour, int minute) {
  return Shanghai().StartOfDay(d) + (int64_t{hour} * 60 + minute) * kMicrosPerMinute;
}

SimMeter Meter(uint64_t seed) {
  SimMeter m;
  m.pn = 1;
  m.meter_address = "000000000001";
  m.seed = seed;
  return m;
}

void ExpectConsistent(const std::vector<Energy>& v, const std::string& where) {
  ASSERT_EQ(v.size(), 5u) << where;
  EXPECT_EQ(v[0].dwh(), v[1].dwh() + v[2].dwh() + v[3].dwh() + v[4].dwh()) << where;
  for (const auto& e : v) EXPECT_GE(e.dwh(), 0) << where;
}

// ---- The register model ----

TEST(MeterModelTest, RegistersNeverDecreaseAndTotalIsTheSumOfTheRates) {
  for (auto kind : {TerminalKind::kPublicTransformer, TerminalKind::kSpecialTransformer,
                    TerminalKind::kLargeCustomer, TerminalKind::kSubstation}) {
    for (uint64_t seed : {1ull, 77ull, 123456789ull}) {
      MeterModel m(Meter(seed), kind, &Shanghai());
      // Across a year end, a leap day and a month: every 7 minutes.
      for (Date start : {Date{2023, 12, 30}, Date{2024, 2, 27}, Date{2026, 6, 10}}) {
        std::vector<Energy> prev, prev_rev, prev_q;
        int64_t t0 = Shanghai().StartOfDay(start);
        for (int64_t t = t0; t < t0 + 4 * kMicrosPerDay; t += 7 * kMicrosPerMinute) {
          std::string where = std::string(KindName(kind)) + " seed " + std::to_string(seed) +
                              " at " + Shanghai().FormatLocal(t);
          auto v = m.RegistersAt(t), rev = m.ReverseAt(t), q = m.ReactiveAt(t);
          ExpectConsistent(v, where);
          ExpectConsistent(rev, where);
          ExpectConsistent(q, where);
          EXPECT_EQ(m.TotalAt(t), v[0]);
          for (const auto& e : q) EXPECT_EQ(e.dwh() % 100, 0) << where;  // 0.01 kvarh
          if (!prev.empty()) {
            for (size_t r = 0; r < 5; ++r) {
              ASSERT_GE(v[r], prev[r]) << where << " register " << r;
              ASSERT_GE(rev[r], prev_rev[r]) << where << " reverse register " << r;
              ASSERT_GE(q[r], prev_q[r]) << where << " reactive register " << r;
            }
          }
          prev = v;
          prev_rev = rev;
          prev_q = q;
        }
      }
    }
  }
}

TEST(MeterModelTest, FrozenValueIsTheRegisterAtMidnightAndSurvivesARestart) {
  SimMeter sm = Meter(42);
  MeterModel a(sm, TerminalKind::kPublicTransformer, &Shanghai());
  for (Date d = Date{2026, 2, 20}; d <= Date{2026, 3, 5}; d = d.AddDays(1)) {
    EXPECT_EQ(a.FrozenAt(d), a.RegistersAt(Shanghai().StartOfDay(d))) << d.ToString();
    // A new model object (another process, another day) computes the same numbers.
    MeterModel b(sm, TerminalKind::kPublicTransformer, &Shanghai());
    EXPECT_EQ(b.FrozenAt(d), a.FrozenAt(d)) << d.ToString();
    EXPECT_EQ(b.RegistersAt(LocalInstant(d, 13, 37)), a.RegistersAt(LocalInstant(d, 13, 37)));
    // The day advances the registers: a household uses something every day.
    EXPECT_GT(a.FrozenAt(d.AddDays(1))[0], a.FrozenAt(d)[0]) << d.ToString();
  }
  // The registers do not depend on the order of questions (no hidden state).
  MeterModel c(sm, TerminalKind::kPublicTransformer, &Shanghai());
  auto late = c.FrozenAt(Date{2026, 3, 5});
  auto early = c.FrozenAt(Date{2026, 2, 20});
  EXPECT_EQ(late, a.FrozenAt(Date{2026, 3, 5}));
  EXPECT_EQ(early, a.FrozenAt(Date{2026, 2, 20}));
  // Another seed is another meter.
  MeterModel other(Meter(43), TerminalKind::kPublicTransformer, &Shanghai());
  EXPECT_NE(other.FrozenAt(Date{2026, 3, 1}), a.FrozenAt(Date{2026, 3, 1}));
}

TEST(MeterModelTest, AnAnchoredMeterShowsItsLastReadingAndRunsOn) {
  SimMeter m;
  m.seed = 77;
  m.mean_daily_dwh = 80'000;  // 8 kWh a day
  m.anchor_day = Date{2026, 11, 1};
  m.anchor_total = Energy::FromDwh(12'345'6789);
  MeterModel model(m, TerminalKind::kPublicTransformer, nullptr);
  EXPECT_EQ(model.FrozenAt(Date{2026, 11, 1})[0], m.anchor_total);
  Energy prev = m.anchor_total;
  for (int d = 1; d <= 40; ++d) {
    Energy e = model.FrozenAt(Date{2026, 11, 1}.AddDays(d))[0];
    EXPECT_GT(e, prev) << "day " << d;
    prev = e;
  }
  // Forty days at about 8 kWh a day.
  int64_t used = (prev - m.anchor_total).dwh();
  EXPECT_GT(used, 40 * 40'000);
  EXPECT_LT(used, 40 * 160'000);
  std::vector<Energy> regs = model.FrozenAt(Date{2026, 11, 20});
  EXPECT_EQ(regs[0], regs[1] + regs[2] + regs[3] + regs[4]);
}

TEST(MeterModelTest, QuarterHourIntervalsSumToTheDailyDelta) {
  MeterModel m(Meter(9), TerminalKind::kSpecialTransformer, &Shanghai());
  Date d{2026, 3, 17};
  int64_t sum = 0;
  std::vector<int64_t> rate_sum(5, 0);
  for (int k = 0; k < 96; ++k) {
    int64_t a = LocalInstant(d, 0, 15 * k), b = LocalInstant(d, 0, 15 * (k + 1));
    auto ra = m.RegistersAt(a), rb = m.RegistersAt(b);
    sum += rb[0].dwh() - ra[0].dwh();
    for (size_t r = 1; r < 5; ++r) rate_sum[r] += rb[r].dwh() - ra[r].dwh();
  }
  auto f0 = m.FrozenAt(d), f1 = m.FrozenAt(d.AddDays(1));
  EXPECT_EQ(sum, f1[0].dwh() - f0[0].dwh());
  for (size_t r = 1; r < 5; ++r) EXPECT_EQ(rate_sum[r], f1[r].dwh() - f0[r].dwh()) << r;
}

TEST(MeterModelTest, RatesAdvanceOnlyInTheirTimeOfUsePeriods) {
  MeterModel m(Meter(5), TerminalKind::kPublicTransformer, &Shanghai());
  Date d{2026, 7, 14};
  auto at = [&](int h, int min) { return m.RegistersAt(LocalInstant(d, h, min)); };
  // 19:00–21:00 sharp only.
  auto a = at(19, 0), b = at(21, 0);
  EXPECT_GT(b[1], a[1]);
  EXPECT_EQ(b[2], a[2]);
  EXPECT_EQ(b[3], a[3]);
  EXPECT_EQ(b[4], a[4]);
  // 08:00–11:00 peak only.
  a = at(8, 0), b = at(11, 0);
  EXPECT_EQ(b[1], a[1]);
  EXPECT_GT(b[2], a[2]);
  EXPECT_EQ(b[3], a[3]);
  EXPECT_EQ(b[4], a[4]);
  // 11:00–18:00 flat only.
  a = at(11, 0), b = at(18, 0);
  EXPECT_EQ(b[2], a[2]);
  EXPECT_GT(b[3], a[3]);
  EXPECT_EQ(b[4], a[4]);
  // 23:00–07:00 (next day) valley only.
  auto night = m.RegistersAt(LocalInstant(d, 23, 0));
  auto morning = m.RegistersAt(LocalInstant(d.AddDays(1), 7, 0));
  EXPECT_EQ(morning[1], night[1]);
  EXPECT_EQ(morning[2], night[2]);
  EXPECT_EQ(morning[3], night[3]);
  EXPECT_GT(morning[4], night[4]);
  // Households use more in the evening peak hour than at 3 a.m.
  EXPECT_GT(m.PowerWatts(LocalInstant(d, 20, 5)), m.PowerWatts(LocalInstant(d, 3, 5)));
}

TEST(MeterModelTest, KindsScaleTheSizeAndWeekendsDiffer) {
  // Households: 2..20 kWh a day on average over a year; commercial meters use less at weekends.
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    MeterModel h(Meter(seed), TerminalKind::kPublicTransformer, &Shanghai());
    int64_t year = h.FrozenAt(Date{2026, 1, 1})[0].dwh() - h.FrozenAt(Date{2025, 1, 1})[0].dwh();
    EXPECT_EQ(h.multiplier(), 1);
    EXPECT_GE(year / 365, 18'000) << seed;  // 2 kWh, less the seasonal and noise wobble
    EXPECT_LE(year / 365, 220'000) << seed;
    MeterModel c(Meter(seed), TerminalKind::kLargeCustomer, &Shanghai());
    int64_t primary =
        (c.FrozenAt(Date{2026, 1, 1})[0].dwh() - c.FrozenAt(Date{2025, 1, 1})[0].dwh()) *
        c.multiplier() / 365;
    EXPECT_GE(primary, 90 * 10'000) << seed;  // 100..10,000 kWh a day
    EXPECT_LE(primary, 11'000 * 10'000) << seed;
    EXPECT_LE(c.register_mean_daily_dwh(), 400'000) << seed;
    int64_t weekdays = 0, weekends = 0;
    for (Date d{2026, 3, 2}; d < Date{2026, 3, 30}; d = d.AddDays(1)) {  // 4 whole weeks
      int64_t use = c.FrozenAt(d.AddDays(1))[0].dwh() - c.FrozenAt(d)[0].dwh();
      (d.Weekday() == 0 || d.Weekday() == 6 ? weekends : weekdays) += use;
    }
    EXPECT_LT(weekends / 8, weekdays / 20) << seed;
  }
  // MakeFleet: deterministic, unique meter addresses, mostly concentrators.
  auto a = MakeFleet(200, 3, 3201, 1, 7), b = MakeFleet(200, 3, 3201, 1, 7);
  ASSERT_EQ(a.size(), 200u);
  std::set<std::string> addresses;
  int concentrators = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].key, b[i].key);
    EXPECT_EQ(a[i].kind, b[i].kind);
    EXPECT_EQ(a[i].key.address, i + 1);
    ASSERT_EQ(a[i].meters.size(), 3u);
    concentrators += a[i].kind == TerminalKind::kPublicTransformer;
    for (size_t p = 0; p < 3; ++p) {
      EXPECT_EQ(a[i].meters[p].seed, b[i].meters[p].seed);
      EXPECT_EQ(a[i].meters[p].meter_address.size(), 12u);
      addresses.insert(a[i].meters[p].meter_address);
      MeterModel ma(a[i].meters[p], a[i].kind, &Shanghai());
      EXPECT_EQ(ma.multiplier(), a[i].meters[p].multiplier);
    }
  }
  EXPECT_EQ(addresses.size(), 600u);
  EXPECT_GT(concentrators, 140);
  EXPECT_LT(concentrators, 200);
}

// ---- Fleets against the real front end ----

class KnowAll : public fep::Listener {
 public:
  bool IsKnown(TerminalKey) override { return true; }
  void OnOnline(TerminalKey, const std::string&, int64_t) override {}
  void OnOffline(TerminalKey k, const std::string& reason, int64_t) override {
    std::lock_guard lock(mu_);
    offline_[k.Packed()] = reason;
  }
  std::string OfflineReason(TerminalKey k) {
    std::lock_guard lock(mu_);
    return offline_.count(k.Packed()) ? offline_[k.Packed()] : "";
  }
  void OnReport(TerminalKey k, const Frame& f, int64_t) override {
    std::lock_guard lock(mu_);
    reports_.emplace_back(k, f);
    cv_.notify_all();
  }
  void OnEventCounter(TerminalKey k, gdw1376::EventCounter ec, int64_t) override {
    std::lock_guard lock(mu_);
    counters_[k.Packed()] = ec;
    cv_.notify_all();
  }
  std::optional<Frame> WaitReport(TerminalKey k, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    std::optional<Frame> out;
    cv_.wait_for(lock, timeout, [&] {
      for (auto& [key, f] : reports_) {
        if (key == k) out = f;
      }
      return out.has_value();
    });
    return out;
  }
  std::optional<gdw1376::EventCounter> Counter(TerminalKey k) {
    std::lock_guard lock(mu_);
    auto it = counters_.find(k.Packed());
    if (it == counters_.end()) return std::nullopt;
    return it->second;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<TerminalKey, Frame>> reports_;
  std::map<uint32_t, gdw1376::EventCounter> counters_;
  std::map<uint32_t, std::string> offline_;
};

constexpr TerminalKey kConcentrator{3201, 1};
constexpr TerminalKey kSpecial{3201, 2};
constexpr TerminalKey kLarge{3201, 3};
const Date kToday{2026, 3, 18};

std::vector<SimTerminal> TestFleet() {
  auto fleet = MakeFleet(3, 10, 3201, 1, 11);
  fleet[0].kind = TerminalKind::kPublicTransformer;
  fleet[1].kind = TerminalKind::kSpecialTransformer;
  fleet[1].meters.resize(2);
  fleet[2].kind = TerminalKind::kLargeCustomer;
  fleet[2].meters.resize(1);
  for (auto& t : fleet) {
    for (auto& m : t.meters) m.mean_daily_dwh = 0, m.multiplier = 0;
  }
  return fleet;
}

class FleetTest : public ::testing::Test {
 protected:
  FleetTest() : clock_(LocalInstant(kToday, 10, 7)) {}

  void StartFrontEnd() {
    fep::FrontEndOptions fo;
    fo.port = 0;
    fo.request_timeout = 3s;
    fo.retries = 0;
    fe_ = std::make_unique<fep::FrontEnd>(fo, &listener_, clock_);
    ASSERT_TRUE(fe_->Start().ok());
  }
  // Starts a front end and a fleet (TestFleet unless given) and waits for `logins`.
  void StartFleet(FaultOptions faults = {}, std::optional<std::vector<SimTerminal>> terminals = {},
                  size_t logins = 3, size_t max_reply = 2048, int io_threads = 1) {
    if (!fe_) StartFrontEnd();
    FleetOptions o;
    o.port = fe_->port();
    o.terminals = terminals ? *terminals : TestFleet();
    o.heartbeat_seconds = 1;
    o.seed = 5;
    o.faults = faults;
    o.time_zone = &Shanghai();
    o.password = "0102030405060708090A0B0C0D0E0F10";
    o.max_reply_frame_bytes = max_reply;
    o.io_threads = io_threads;
    fleet_ = std::make_unique<Fleet>(o, clock_);
    ASSERT_TRUE(fleet_->Start().ok());
    if (logins > 0) {
      Status s = fleet_->WaitForLogins(logins, 10s);
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
  }
  void TearDown() override {
    if (fleet_) fleet_->Stop();
    if (fe_) fe_->Stop();
  }

  static std::array<uint8_t, 16> Pw() {
    std::array<uint8_t, 16> pw{};
    for (size_t i = 0; i < 16; ++i) pw[i] = static_cast<uint8_t>(i + 1);
    return pw;
  }
  fep::RequestResult Ask(TerminalKey k, uint8_t afn, std::vector<gdw1376::Group> groups,
                         bool with_pw = false, fep::RequestOptions ro = {}) {
    Frame f = gdw1376::MakeRequest({}, afn, 0, std::move(groups), std::nullopt,
                                   with_pw ? std::optional(Pw()) : std::nullopt);
    return fe_->RequestSync(k, std::move(f), ro);
  }
  // AFN0D F161 for `pns` of day `d`: pn → values (nullopt: the item was there, all EEH).
  std::map<uint16_t, std::vector<std::optional<Energy>>> Daily(TerminalKey k,
                                                               std::vector<uint16_t> pns, Date d,
                                                               fep::RequestResult* raw = nullptr) {
    std::map<uint16_t, std::vector<std::optional<Energy>>> out;
    auto r = Ask(k, gdw1376::kAfnClass2, gdw1376::GroupsFor(pns, 161, gdw1376::EncodeTd(d)));
    if (raw != nullptr) *raw = r;
    if (!r.status.ok()) return out;
    for (const auto& f : r.replies) {
      for (const auto& g : f.groups) {
        for (const auto& it : g.items) {
          auto di = gdw1376::DecodeDailyIndication(it.data, true);
          EXPECT_TRUE(di.ok()) << di.status().ToString();
          if (!di.ok()) continue;
          EXPECT_EQ(di->day, d);
          EXPECT_EQ(di->value.rates, 4);
          out[it.pn] = di->value.values;
        }
      }
    }
    return out;
  }

  FakeClock clock_;
  KnowAll listener_;
  std::unique_ptr<fep::FrontEnd> fe_;
  std::unique_ptr<Fleet> fleet_;
};

TEST_F(FleetTest, LogsInAndSendsHeartbeats) {
  StartFleet();
  auto online = fe_->Online();
  ASSERT_EQ(online.size(), 3u);
  EXPECT_TRUE(fleet_->LoggedIn(kConcentrator));
  auto s0 = fe_->State(kSpecial);
  ASSERT_TRUE(s0.has_value());
  EXPECT_TRUE(s0->online);
  // Heartbeats every second, each confirmed by the front end.
  std::this_thread::sleep_for(2500ms);
  auto s1 = fe_->State(kSpecial);
  ASSERT_TRUE(s1.has_value());
  EXPECT_GE(s1->frames_in, s0->frames_in + 2);
  FleetStats st = fleet_->Stats();
  EXPECT_EQ(st.connected, 3u);
  EXPECT_EQ(st.logged_in, 3u);
  EXPECT_EQ(st.logins_confirmed, 3u);
  EXPECT_EQ(st.reconnects, 0u);
  EXPECT_EQ(st.bad_frames_received, 0u);
  // Stop logs out: the front end sees the terminals go offline.
  fleet_->Stop();
  for (int i = 0; i < 100 && !fe_->Online().empty(); ++i) std::this_thread::sleep_for(20ms);
  EXPECT_TRUE(fe_->Online().empty());
  EXPECT_EQ(listener_.OfflineReason(kConcentrator), "logout");
  EXPECT_EQ(listener_.OfflineReason(kLarge), "logout");
}

TEST_F(FleetTest, DailyFrozenValuesAreTheModelsAndOnlyForPastDays) {
  StartFleet();
  Date yesterday = kToday.AddDays(-1);
  std::vector<uint16_t> pns = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  auto got = Daily(kConcentrator, pns, yesterday);
  ASSERT_EQ(got.size(), 10u);
  for (uint16_t pn : pns) {
    auto model = fleet_->Model(kConcentrator, pn);
    ASSERT_TRUE(model.has_value());
    auto want = model->FrozenAt(kToday);  // frozen at 24:00 of yesterday
    ASSERT_EQ(got[pn].size(), 5u);
    for (size_t r = 0; r < 5; ++r) {
      ASSERT_TRUE(got[pn][r].has_value()) << pn;
      EXPECT_EQ(*got[pn][r], want[r]) << "pn " << pn << " register " << r;
    }
  }
  // A week ago too; today's freeze has not happened; older than the history: no data (deny).
  auto week = Daily(kConcentrator, {3}, kToday.AddDays(-7));
  ASSERT_EQ(week.count(3), 1u);
  EXPECT_EQ(*week[3][0], fleet_->Model(kConcentrator, 3)->FrozenAt(kToday.AddDays(-6))[0]);
  fep::RequestResult r;
  EXPECT_TRUE(Daily(kConcentrator, {1}, kToday, &r).empty());
  EXPECT_EQ(r.status.code(), StatusCode::kFailedPrecondition) << r.status.ToString();
  EXPECT_TRUE(Daily(kConcentrator, {1}, kToday.AddDays(-100), &r).empty());
  EXPECT_EQ(r.status.code(), StatusCode::kFailedPrecondition);
  // A point the terminal does not have is left out of the reply (its DT bit cleared).
  auto some = Daily(kSpecial, {1, 2, 3}, yesterday);
  EXPECT_EQ(some.size(), 2u);
  EXPECT_EQ(some.count(3), 0u);
}

TEST_F(FleetTest, ReactiveReverseAndMonthlyFrozenValues) {
  StartFleet();
  auto model = *fleet_->Model(kSpecial, 1);
  Date d = kToday.AddDays(-1);
  auto g = gdw1376::MakeGroup({1}, {162, 163});
  for (uint16_t fn : {162, 163}) g->items.push_back({1, fn, gdw1376::EncodeTd(d)});
  auto m = gdw1376::MakeGroup({1}, {177});
  m->items.push_back({1, 177, gdw1376::EncodeTdMonth(YearMonth{2026, 2})});
  auto r = Ask(kSpecial, gdw1376::kAfnClass2, {*g, *m});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  int64_t freeze = Shanghai().StartOfDay(kToday);
  auto q = gdw1376::DecodeDailyIndication(r.replies[0].Find(162)->data, false);  // A.11
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  auto rev = gdw1376::DecodeDailyIndication(r.replies[0].Find(163)->data, true);  // A.14
  ASSERT_TRUE(rev.ok()) << rev.status().ToString();
  auto mon = gdw1376::DecodeMonthlyIndication(r.replies[0].Find(177)->data, true);
  ASSERT_TRUE(mon.ok()) << mon.status().ToString();
  for (size_t k = 0; k < 5; ++k) {
    EXPECT_EQ(q->value.values[k], model.ReactiveAt(freeze)[k]) << k;
    EXPECT_EQ(rev->value.values[k], model.ReverseAt(freeze)[k]) << k;
    EXPECT_EQ(mon->value.values[k], model.FrozenAt(Date{2026, 3, 1})[k]) << k;
  }
  EXPECT_EQ(mon->month, (YearMonth{2026, 2}));
  // This month's freeze (at the end of March) has not happened.
  auto now_month = gdw1376::MakeGroup({1}, {177});
  now_month->items.push_back({1, 177, gdw1376::EncodeTdMonth(YearMonth{2026, 3})});
  r = Ask(kSpecial, gdw1376::kAfnClass2, {*now_month});
  EXPECT_EQ(r.status.code(), StatusCode::kFailedPrecondition);
}

TEST_F(FleetTest, TimeTagIsEchoedAndAStaleClockDropsRequestsUntilSynced) {
  fep::FrontEndOptions fo;
  fo.port = 0;
  fo.request_timeout = 400ms;
  fo.retries = 0;
  fo.tp_on_requests = true;
  fo.tp_delay_minutes = 5;
  fe_ = std::make_unique<fep::FrontEnd>(fo, &listener_, clock_);
  ASSERT_TRUE(fe_->Start().ok());
  auto terminals = TestFleet();
  StartFleet({}, terminals);
  auto read = [&] {
    return Ask(kLarge, gdw1376::kAfnClass2,
               gdw1376::GroupsFor({1}, 161, gdw1376::EncodeTd(kToday.AddDays(-1))));
  };
  auto r = read();
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_TRUE(r.replies[0].tp.has_value());  // the request's Tp, echoed
  EXPECT_EQ(r.replies[0].tp->delay_minutes, 5);
  EXPECT_EQ(r.replies[0].tp->hour, 10);
  EXPECT_EQ(r.replies[0].tp->minute, 7);
  fleet_->Stop();
  fleet_.reset();
  // A terminal whose clock is 10 minutes fast drops frames older than 5 minutes...
  StartFleet({.clock_drift_seconds = 600}, terminals);
  r = read();
  EXPECT_EQ(r.status.code(), StatusCode::kDeadlineExceeded) << r.status.ToString();
  EXPECT_GE(fleet_->Stats().unanswered, 1u);
  // ...but takes a time sync (F31 is never dropped for its Tp), and then answers.
  auto sync = gdw1376::MakeGroup({0}, {31});
  sync->items.push_back(
      {0, 31, gdw1376::EncodeClock({kToday.year, kToday.month, kToday.day, 10, 7, 0, 3})});
  r = Ask(kLarge, gdw1376::kAfnControl, {*sync}, true);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  r = read();
  EXPECT_TRUE(r.status.ok()) << r.status.ToString();
}

TEST_F(FleetTest, LongRepliesComeInSeveralFrames) {
  auto fleet = TestFleet();
  fleet[0].meters = MakeFleet(1, 40, 3201, 1, 11)[0].meters;
  StartFleet({}, fleet, 3, /*max_reply=*/300);
  std::vector<uint16_t> pns;
  for (uint16_t p = 1; p <= 40; ++p) pns.push_back(p);
  fep::RequestResult r;
  auto got = Daily(kConcentrator, pns, kToday.AddDays(-2), &r);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_GT(r.replies.size(), 3u);
  EXPECT_TRUE(r.replies.front().seq.fir);
  EXPECT_TRUE(r.replies.back().seq.fin);
  ASSERT_EQ(got.size(), 40u);
  for (uint16_t pn : pns) {
    EXPECT_EQ(*got[pn][0], fleet_->Model(kConcentrator, pn)->FrozenAt(kToday.AddDays(-1))[0]);
  }
}

TEST_F(FleetTest, RealTimeReadsOfAllPointsAndTheClock) {
  StartFleet({.clock_drift_seconds = 600});
  // AFN0C F129 with DA FF 00 (all points): every meter, the registers now.
  auto g = gdw1376::MakeGroup({gdw1376::kAllPoints}, {129});
  ASSERT_TRUE(g.ok());
  auto r = Ask(kConcentrator, gdw1376::kAfnClass1, {*g});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  std::set<uint16_t> seen;
  for (const auto& f : r.replies) {
    for (const auto& grp : f.groups) {
      for (const auto& it : grp.items) {
        auto ind = gdw1376::DecodeIndication(it.data, true);
        ASSERT_TRUE(ind.ok());
        EXPECT_EQ(ind->values[0],
                  fleet_->Model(kConcentrator, it.pn)->RegistersAt(clock_.NowMicros())[0]);
        seen.insert(it.pn);
      }
    }
  }
  EXPECT_EQ(seen.size(), 10u);
  // F25 and F33 of a special transformer's meter decode.
  auto g25 = gdw1376::MakeGroup({1}, {25});
  auto g33 = gdw1376::MakeGroup({1}, {33});
  r = Ask(kSpecial, gdw1376::kAfnClass1, {*g25, *g33});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  const auto* f25 = r.replies[0].Find(25);
  const auto* f33 = r.replies[0].Find(33);
  ASSERT_NE(f25, nullptr);
  ASSERT_NE(f33, nullptr);
  auto power = gdw1376::DecodeRealTimePower(f25->data);
  ASSERT_TRUE(power.ok()) << power.status().ToString();
  ASSERT_TRUE(power->p[0].has_value());
  EXPECT_GT(power->p[0]->units, 0);
  auto set = gdw1376::DecodeIndicationSet(f33->data);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->values[0][0], fleet_->Model(kSpecial, 1)->RegistersAt(clock_.NowMicros())[0]);
  EXPECT_EQ(set->values[1][0], fleet_->Model(kSpecial, 1)->ReactiveAt(clock_.NowMicros())[0]);

  // AFN0C F2: the terminal's clock is 10 minutes fast (the drift knob)...
  auto clock_read = [&]() -> int64_t {
    auto g0 = gdw1376::MakeGroup({0}, {2});
    auto rr = Ask(kLarge, gdw1376::kAfnClass1, {*g0});
    EXPECT_TRUE(rr.status.ok()) << rr.status.ToString();
    if (!rr.status.ok()) return 0;
    auto c = gdw1376::DecodeClock(rr.replies[0].Find(2)->data);
    EXPECT_TRUE(c.ok());
    Date d{c->year, c->month, c->day};
    return Shanghai().StartOfDay(d) +
           ((int64_t{c->hour} * 60 + c->minute) * 60 + c->second) * kMicrosPerSecond;
  };
  EXPECT_EQ(clock_read() - clock_.NowMicros(), 600 * kMicrosPerSecond);
  EXPECT_EQ(fleet_->ClockOffsetSeconds(kLarge), 600);
  // ...until a time sync (AFN05 F31) sets it to the master's time.
  auto sync = gdw1376::MakeGroup({0}, {31});
  Date d = Shanghai().LocalDate(clock_.NowMicros());
  int64_t secs = (clock_.NowMicros() - Shanghai().StartOfDay(d)) / kMicrosPerSecond;
  sync->items.push_back(gdw1376::Item{
      0, 31,
      gdw1376::EncodeClock({d.year, d.month, d.day, static_cast<int>(secs / 3600),
                            static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60), 3})});
  r = Ask(kLarge, gdw1376::kAfnControl, {*sync}, true);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(fleet_->ClockOffsetSeconds(kLarge), 0);
  EXPECT_EQ(clock_read() - clock_.NowMicros(), 0);
}

TEST_F(FleetTest, CurvesAddUpToTheDailyRegisters) {
  StartFleet();
  Date d = kToday.AddDays(-1);
  auto model = *fleet_->Model(kSpecial, 2);
  // F97: 96 quantities of 15 minutes, point j = the interval ending at 00:15 + 15 j.
  auto g = gdw1376::MakeGroup({2}, {97});
  g->items.push_back(
      gdw1376::Item{2, 97, gdw1376::EncodeTdCurve({d.year, d.month, d.day, 0, 15}, 1, 96)});
  auto r = Ask(kSpecial, gdw1376::kAfnClass2, {*g});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  auto c = gdw1376::DecodeCurve(97, r.replies[0].Find(97)->data);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->energy.size(), 96u);
  int64_t sum = 0;
  for (const auto& v : c->energy) {
    ASSERT_TRUE(v.has_value());
    sum += v->dwh();
  }
  EXPECT_EQ(sum, model.FrozenAt(kToday)[0].dwh() - model.FrozenAt(d)[0].dwh());
  // F101: the total register at each point (0.01 kWh); points after now are EEH.
  auto g2 = gdw1376::MakeGroup({2}, {101});
  g2->items.push_back(gdw1376::Item{
      2, 101, gdw1376::EncodeTdCurve({kToday.year, kToday.month, kToday.day, 0, 0}, 1, 96)});
  r = Ask(kSpecial, gdw1376::kAfnClass2, {*g2});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  auto c2 = gdw1376::DecodeCurve(101, r.replies[0].Find(101)->data);
  ASSERT_TRUE(c2.ok());
  ASSERT_EQ(c2->energy.size(), 96u);
  for (int j = 0; j < 96; ++j) {
    int64_t tj = LocalInstant(kToday, 0, 15 * j);
    if (tj <= clock_.NowMicros()) {
      ASSERT_TRUE(c2->energy[static_cast<size_t>(j)].has_value()) << j;
      EXPECT_EQ(*c2->energy[static_cast<size_t>(j)], TruncateTo645(model.TotalAt(tj))) << j;
    } else {
      EXPECT_FALSE(c2->energy[static_cast<size_t>(j)].has_value()) << j;
    }
  }
}

TEST_F(FleetTest, TripAndPermitCloseChangeTheRelayAndRecordAnEvent) {
  StartFleet();
  EXPECT_EQ(fleet_->RelayClosed(kSpecial, 1), true);
  auto trip = gdw1376::MakeGroup({1}, {1});
  trip->items.push_back(gdw1376::Item{1, 1, {gdw1376::EncodeTrip({0, 0})}});
  // A wrong PW is denied and changes nothing.
  auto r = Ask(kSpecial, gdw1376::kAfnControl, {*trip}, /*with_pw=*/false);
  EXPECT_EQ(r.status.code(), StatusCode::kFailedPrecondition) << r.status.ToString();
  EXPECT_EQ(fleet_->RelayClosed(kSpecial, 1), true);
  // The right PW: confirmed, the relay opens.
  r = Ask(kSpecial, gdw1376::kAfnControl, {*trip}, true);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(r.replies.size(), 1u);
  EXPECT_EQ(r.replies[0].afn, gdw1376::kAfnConfirm);
  EXPECT_EQ(fleet_->RelayClosed(kSpecial, 1), false);
  EXPECT_EQ(fleet_->RelayClosed(kSpecial, 2), true);
  // The confirm carried ACD with EC1 = 1 (the ERC5 record waits).
  EXPECT_TRUE(r.replies[0].c.fcb_acd);
  ASSERT_TRUE(r.replies[0].ec.has_value());
  EXPECT_EQ(r.replies[0].ec->important, 1);
  // A round the terminal does not have is denied.
  auto trip9 = gdw1376::MakeGroup({9}, {1});
  trip9->items.push_back(gdw1376::Item{9, 1, {0}});
  r = Ask(kSpecial, gdw1376::kAfnControl, {*trip9}, true);
  EXPECT_EQ(r.status.code(), StatusCode::kFailedPrecondition);
  // Round 1 and a missing round 3 in one frame: per-unit answer (F3).
  auto both = gdw1376::MakeGroup({1, 3}, {2});
  r = Ask(kSpecial, gdw1376::kAfnControl, {*both}, true);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_TRUE(r.replies[0].confirm.has_value());
  ASSERT_EQ(r.replies[0].confirm->units.size(), 2u);
  EXPECT_EQ(r.replies[0].confirm->units[0].err, 0);
  EXPECT_EQ(r.replies[0].confirm->units[1].err, 1);
  EXPECT_EQ(fleet_->RelayClosed(kSpecial, 1), true);  // permit close carried out
  // AFN0E F1: the ERC5 record of the trip.
  auto ev = gdw1376::MakeGroup({0}, {1});
  ev->items.push_back(gdw1376::Item{0, 1, {0, 1}});
  r = Ask(kSpecial, gdw1376::kAfnClass3, {*ev});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  auto block = gdw1376::DecodeEvents(r.replies[0].Find(1)->data);
  ASSERT_TRUE(block.ok()) << block.status().ToString();
  ASSERT_EQ(block->records.size(), 1u);
  EXPECT_EQ(block->records[0].erc, 5);
  ASSERT_TRUE(block->records[0].time.has_value());
  EXPECT_EQ(block->records[0].time->hour, 10);
  EXPECT_EQ(block->records[0].time->minute, 7);
  // Power control and urge-fee alarm commands are confirmed.
  auto pc = gdw1376::MakeGroup({1}, {10});
  r = Ask(kSpecial, gdw1376::kAfnControl, {*pc}, true);
  EXPECT_TRUE(r.status.ok()) << r.status.ToString();
  auto urge = gdw1376::MakeGroup({0}, {26});
  r = Ask(kSpecial, gdw1376::kAfnControl, {*urge}, true);
  EXPECT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_GE(fleet_->Stats().commands_executed, 4u);
}

TEST_F(FleetTest, ForwardedDlt645IsAnsweredByTheMeter) {
  StartFleet();
  auto model = *fleet_->Model(kConcentrator, 3);
  std::string address = MakeFleet(3, 10, 3201, 1, 11)[0].meters[2].meter_address;
  auto forward = [&](const dlt645::Frame& f) -> std::optional<dlt645::Frame> {
    gdw1376::ForwardRequest fr;
    dlt645::Frame out = f;
    out.leading_fe = 4;
    fr.payload = dlt645::Encode(out);
    auto g = gdw1376::MakeGroup({0}, {1});
    g->items.push_back(gdw1376::Item{0, 1, gdw1376::EncodeForwardRequest(fr)});
    auto r = Ask(kConcentrator, gdw1376::kAfnForward, {*g}, true);
    EXPECT_TRUE(r.status.ok()) << r.status.ToString();
    if (!r.status.ok()) return std::nullopt;
    auto reply = gdw1376::DecodeForwardReply(r.replies[0].Find(1)->data);
    EXPECT_TRUE(reply.ok());
    if (!reply.ok() || reply->payload.empty()) return std::nullopt;
    auto d = dlt645::Decode(reply->payload);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    if (!d.ok()) return std::nullopt;
    return *d;
  };
  auto reply = forward(dlt645::MakeRead(address, 0x00010000));
  ASSERT_TRUE(reply.has_value());
  auto read = dlt645::DecodeReadReply(*reply);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  auto energies = dlt645::DecodeEnergies(0x00010000, read->value);
  ASSERT_TRUE(energies.ok());
  EXPECT_EQ((*energies)[0], TruncateTo645(model.RegistersAt(clock_.NowMicros())[0]));
  // The block of total + rates.
  reply = forward(dlt645::MakeRead(address, 0x0001FF00));
  ASSERT_TRUE(reply.has_value());
  energies = dlt645::DecodeEnergies(0x0001FF00, dlt645::DecodeReadReply(*reply)->value);
  ASSERT_TRUE(energies.ok());
  ASSERT_EQ(energies->size(), 5u);
  EXPECT_EQ((*energies)[4], TruncateTo645(model.RegistersAt(clock_.NowMicros())[4]));
  // An unknown DI: an abnormal reply "no requested data".
  reply = forward(dlt645::MakeRead(address, 0x0F0F0F0F));
  ASSERT_TRUE(reply.has_value());
  EXPECT_TRUE(reply->abnormal);
  // A 645 trip (1C) opens that meter's relay; permit close closes it.
  dlt645::ControlParams cp;
  cp.action = dlt645::ControlAction::kTrip;
  reply = forward(dlt645::MakeControl(address, cp));
  ASSERT_TRUE(reply.has_value());
  EXPECT_FALSE(reply->abnormal);
  EXPECT_EQ(fleet_->RelayClosed(kConcentrator, 3), false);
  EXPECT_EQ(fleet_->RelayClosed(kConcentrator, 4), true);
  cp.action = dlt645::ControlAction::kPermitClose;
  reply = forward(dlt645::MakeControl(address, cp));
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(fleet_->RelayClosed(kConcentrator, 3), true);
  // A meter that is not behind this terminal does not answer.
  EXPECT_FALSE(forward(dlt645::MakeRead("999999999998", 0x00010000)).has_value());
}

TEST_F(FleetTest, PowerOffIsReportedAndReadable) {
  StartFleet();
  ASSERT_TRUE(fleet_->RaisePowerOff(kLarge));
  auto report = listener_.WaitReport(kLarge, 5s);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->afn, gdw1376::kAfnClass3);
  auto block = gdw1376::DecodeEvents(report->Find(1)->data);
  ASSERT_TRUE(block.ok()) << block.status().ToString();
  ASSERT_EQ(block->records.size(), 1u);
  EXPECT_EQ(block->records[0].erc, 14);
  ASSERT_TRUE(block->records[0].end_time.has_value());
  // The front end saw the event counter (ACD with EC1 = 1).
  for (int i = 0; i < 100 && !listener_.Counter(kLarge); ++i) std::this_thread::sleep_for(20ms);
  ASSERT_TRUE(listener_.Counter(kLarge).has_value());
  EXPECT_EQ(listener_.Counter(kLarge)->important, 1);
  // AFN0E F1 Pm = 0, Pn = 1 reads it again.
  auto ev = gdw1376::MakeGroup({0}, {1});
  ev->items.push_back(gdw1376::Item{0, 1, {0, 1}});
  auto r = Ask(kLarge, gdw1376::kAfnClass3, {*ev});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  block = gdw1376::DecodeEvents(r.replies[0].Find(1)->data);
  ASSERT_TRUE(block.ok());
  ASSERT_EQ(block->records.size(), 1u);
  EXPECT_EQ(block->records[0].erc, 14);
  EXPECT_FALSE(fleet_->RaisePowerOff(TerminalKey{3201, 999}));
}

TEST_F(FleetTest, ConfigurationParametersAndUnknownRequests) {
  StartFleet();
  auto g = gdw1376::MakeGroup({0}, {1});
  auto r = Ask(kConcentrator, gdw1376::kAfnConfig, {*g});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  auto v = gdw1376::DecodeTerminalVersion(r.replies[0].Find(1)->data);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->vendor, "GMSM");
  r = Ask(kConcentrator, gdw1376::kAfnQueryParams, {*g});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  auto up = gdw1376::DecodeUplinkParams(r.replies[0].Find(1)->data);
  ASSERT_TRUE(up.ok());
  EXPECT_EQ(up->heartbeat_minutes, 1);
  auto f10 = gdw1376::MakeGroup({0}, {10});
  f10->items.push_back(gdw1376::Item{0, 10, gdw1376::EncodeMeterArchiveQuery({2, 5, 77})});
  r = Ask(kConcentrator, gdw1376::kAfnQueryParams, {*f10});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  auto archive = gdw1376::DecodeMeterArchive(r.replies[0].Find(10)->data);
  ASSERT_TRUE(archive.ok()) << archive.status().ToString();
  ASSERT_EQ(archive->size(), 2u);  // 77 is not in the archive
  EXPECT_EQ((*archive)[0].pn, 2);
  EXPECT_EQ((*archive)[1].meter_address, MakeFleet(3, 10, 3201, 1, 11)[0].meters[4].meter_address);
  // An AFN the terminal does not serve (0B task data) and an unknown Fn: AFN00 F2 deny.
  r = Ask(kConcentrator, gdw1376::kAfnTask, {*g});
  EXPECT_EQ(r.status.code(), StatusCode::kFailedPrecondition);
  auto f5 = gdw1376::MakeGroup({1}, {5});
  r = Ask(kConcentrator, gdw1376::kAfnClass1, {*f5});
  EXPECT_EQ(r.status.code(), StatusCode::kFailedPrecondition);
  EXPECT_GE(fleet_->Stats().denied, 2u);
}

TEST_F(FleetTest, TwoIoThreadsAnswerConcurrentRequests) {
  StartFleet({}, {}, 3, 2048, /*io_threads=*/2);
  std::mutex mu;
  std::condition_variable cv;
  int done = 0, ok = 0;
  Date d = kToday.AddDays(-1);
  for (int round = 0; round < 20; ++round) {
    for (TerminalKey k : {kConcentrator, kSpecial, kLarge}) {
      Frame f = gdw1376::MakeRequest({}, gdw1376::kAfnClass2, 0,
                                     gdw1376::GroupsFor({1}, 161, gdw1376::EncodeTd(d)));
      fe_->Request(k, std::move(f), {}, [&, k](fep::RequestResult r) {
        bool right = false;
        if (r.status.ok() && r.replies.size() == 1 && r.replies[0].Find(161) != nullptr) {
          auto di = gdw1376::DecodeDailyIndication(r.replies[0].Find(161)->data, true);
          right = di.ok() && di->value.values[0] == fleet_->Model(k, 1)->FrozenAt(kToday)[0];
        }
        std::lock_guard lock(mu);
        ++done;
        ok += right ? 1 : 0;
        cv.notify_all();
      });
    }
  }
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, 20s, [&] { return done == 60; }));
  EXPECT_EQ(ok, 60);
}

// ---- Faults ----

TEST_F(FleetTest, MissingDataIsEeh) {
  StartFleet({.missing_data = 1.0});
  auto got = Daily(kConcentrator, {1, 2}, kToday.AddDays(-1));
  ASSERT_EQ(got.size(), 2u);  // the items are there...
  for (const auto& [pn, values] : got) {
    ASSERT_EQ(values.size(), 5u);
    for (const auto& v : values) EXPECT_FALSE(v.has_value()) << pn;  // ...all EEH
  }
}

TEST_F(FleetTest, CorruptFramesAreCountedByTheFrontEnd) {
  StartFleet({.corrupt_frames = 1.0});  // logins are sent intact, everything else corrupt
  std::this_thread::sleep_for(2500ms);  // heartbeats
  EXPECT_GT(fe_->Stats().bad_frames, 0u);
  EXPECT_GT(fleet_->Stats().corrupt_sent, 0u);
  // A request gets no usable answer.
  auto r = Ask(kSpecial, gdw1376::kAfnClass2,
               gdw1376::GroupsFor({1}, 161, gdw1376::EncodeTd(kToday.AddDays(-1))), false,
               {.timeout = 500ms, .retries = 0});
  EXPECT_EQ(r.status.code(), StatusCode::kDeadlineExceeded);
}

TEST_F(FleetTest, SilentRequestsTimeOut) {
  StartFleet({.silent_requests = 1.0});
  auto r = Ask(kSpecial, gdw1376::kAfnClass2,
               gdw1376::GroupsFor({1}, 161, gdw1376::EncodeTd(kToday.AddDays(-1))), false,
               {.timeout = 300ms, .retries = 1});
  EXPECT_EQ(r.status.code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(r.attempts, 2);
  EXPECT_EQ(fleet_->Stats().unanswered, 2u);
  EXPECT_EQ(fe_->Stats().request_timeouts, 1u);
  // The heartbeats still go on: the terminals stay online.
  EXPECT_EQ(fe_->Online().size(), 3u);
}

TEST_F(FleetTest, OfflineTerminalsDoNotConnectAndComeBackWithAGap) {
  // All terminals offline since local midnight 3 days ago, back at +1 hour (fleet clock).
  StartFleet({.offline_fraction = 1.0,
              .offline_days = 3,
              .offline_until_us = clock_.NowMicros() + 3600 * kMicrosPerSecond},
             {}, /*logins=*/0);
  std::this_thread::sleep_for(1500ms);
  EXPECT_TRUE(fe_->Online().empty());
  EXPECT_FALSE(fleet_->LoggedIn(kConcentrator));
  EXPECT_TRUE(fleet_->IsOfflineTerminal(kConcentrator));
  EXPECT_EQ(fleet_->Stats().offline_terminals, 3u);
  EXPECT_EQ(fleet_->Stats().connected, 0u);
  // The outage ends: they connect; their frozen data stops 3 days ago.
  clock_.Advance(2 * 3600 * kMicrosPerSecond);
  ASSERT_TRUE(fleet_->WaitForLogins(3, 10s).ok());
  // Days -3..-1 were frozen (at 24:00) inside the outage; day -4 at the very instant it began.
  for (int d = 1; d <= 3; ++d) {
    EXPECT_EQ(Daily(kConcentrator, {1}, kToday.AddDays(-d)).size(), 0u) << d;
  }
  auto before = Daily(kConcentrator, {1}, kToday.AddDays(-4));
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(*before[1][0], fleet_->Model(kConcentrator, 1)->FrozenAt(kToday.AddDays(-3))[0]);
}

TEST_F(FleetTest, DroppedConnectionsReconnect) {
  // About 3 drops a second per terminal: every terminal drops and logs in again.
  StartFleet({.drop_per_hour = 3 * 3600.0});
  std::this_thread::sleep_for(4s);
  FleetStats s = fleet_->Stats();
  EXPECT_GT(s.drops, 0u);
  EXPECT_GT(s.reconnects, 0u);
  EXPECT_GT(s.logins_confirmed, 3u);
}

}  // namespace
}  // namespace gridmis::acquisition::simulator
