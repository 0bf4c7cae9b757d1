// VEE: each rule with numbers that trigger it and numbers just inside its threshold, the
// estimators' exact integer arithmetic, and the service on SQLite and PostgreSQL (findings kept
// once, review actions with versions, scope and audit, estimation never overwriting collected
// values, editing with before/after, curves marked suspect, clock drift).
#include "acquisition/vee.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "acquisition/terminals.h"
#include "customer/customer.h"
#include "grid/grid.h"
#include "grid/testing.h"
#include "metering/metering.h"
#include "org/audit.h"
#include "reading/billable.h"

namespace gridmis::acquisition::vee {
namespace {

using reading::DailyFrozen;

Energy K(const char* kwh) { return Energy::ParseKwh(kwh).value(); }
Energy D(int64_t dwh) { return Energy::FromDwh(dwh); }

DailyFrozen Row(Date day, Energy total, int64_t point = 1) {
  DailyFrozen f;
  f.metering_point_id = point;
  f.day = day;
  f.registers["total"] = total;
  return f;
}

DailyRow Daily(Date day, Energy total, int64_t meter = 1, int digits = 6) {
  return DailyRow{Row(day, total), meter, digits};
}

// n+1 rows from `first` with `per_day` use each day, starting at `start`.
std::vector<DailyRow> Steady(Date first, int n, Energy start, Energy per_day) {
  std::vector<DailyRow> rows;
  for (int i = 0; i <= n; ++i) {
    rows.push_back(Daily(first.AddDays(i), D(start.dwh() + per_day.dwh() * i)));
  }
  return rows;
}

std::vector<std::string> Rules(const std::vector<Finding>& fs) {
  std::vector<std::string> out;
  for (const auto& f : fs) out.push_back(f.rule + "@" + f.day.ToString());
  return out;
}

constexpr Date kDay0{2026, 12, 1};

// ---- rollover / reverse ----

TEST(VeeRulesTest, RolloverOnlyWhenTheWrapIsUnderATenthOfTheRange) {
  // 6 integer digits: the range is 1,000,000 kWh; a wrap of 99,999 kWh is under 10 %.
  auto rows = std::vector<DailyRow>{Daily(kDay0, K("900001")), Daily(kDay0.AddDays(1), K("0"))};
  auto f = ValidateDailySeries(rows, {});
  ASSERT_EQ(Rules(f), (std::vector<std::string>{"rollover@2026-12-02"}));
  EXPECT_EQ(f[0].severity, "info");
  EXPECT_NE(f[0].detail.find("use 99999"), std::string::npos) << f[0].detail;
  // A wrap of exactly 100,000 kWh is not under 10 %: the register went backwards.
  rows[0] = Daily(kDay0, K("900000"));
  f = ValidateDailySeries(rows, {});
  ASSERT_EQ(Rules(f), (std::vector<std::string>{"reverse@2026-12-02"}));
  EXPECT_EQ(f[0].severity, "suspect");
  EXPECT_NE(f[0].detail.find("not under 10 %"), std::string::npos) << f[0].detail;
}

TEST(VeeRulesTest, ReverseWithUnknownDigitsAndNotAcrossMeters) {
  auto rows = std::vector<DailyRow>{Daily(kDay0, K("100"), 1, 0),
                                    Daily(kDay0.AddDays(1), K("99.9999"), 1, 0)};
  auto f = ValidateDailySeries(rows, {});
  ASSERT_EQ(Rules(f), (std::vector<std::string>{"reverse@2026-12-02"}));
  EXPECT_NE(f[0].detail.find("digits are unknown"), std::string::npos);
  // Equal is not backwards.
  rows[1] = Daily(kDay0.AddDays(1), K("100"), 1, 0);
  EXPECT_TRUE(ValidateDailySeries(rows, {}).empty());
  // A replaced meter starts low: not a finding.
  rows[1] = Daily(kDay0.AddDays(1), K("5"), 2, 6);
  EXPECT_TRUE(ValidateDailySeries(rows, {}).empty());
  // Nor a change of multiplier on the same installation.
  rows[1] = Daily(kDay0.AddDays(1), K("5"), 1, 0);
  rows[1].frozen.multiplier = 40;
  EXPECT_TRUE(ValidateDailySeries(rows, {}).empty());
}

// ---- spike ----

TEST(VeeRulesTest, SpikeAboveFiveTimesTheMedian) {
  // Ten days of 20 kWh: the limit is max(5 × 20, 50) = 100 kWh.
  auto rows = Steady(kDay0, 10, K("1000"), K("20"));
  rows.push_back(Daily(kDay0.AddDays(11), K("1300")));  // 1200 + 100
  EXPECT_TRUE(ValidateDailySeries(rows, {}).empty());
  rows.back() = Daily(kDay0.AddDays(11), K("1300.0001"));
  auto f = ValidateDailySeries(rows, {});
  ASSERT_EQ(Rules(f), (std::vector<std::string>{"spike@2026-12-12"}));
  EXPECT_NE(f[0].detail.find("use 100.0001 kWh on 2026-12-11"), std::string::npos) << f[0].detail;
  EXPECT_NE(f[0].detail.find("median 20"), std::string::npos) << f[0].detail;
  // Reported only on the days asked for.
  EXPECT_TRUE(ValidateDailySeries(rows, {kDay0.AddDays(10)}).empty());
}

TEST(VeeRulesTest, SpikeFloorAndTooLittleHistory) {
  // 1 kWh a day: 5 × 1 < the 50 kWh floor.
  auto rows = Steady(kDay0, 10, K("10"), K("1"));
  rows.push_back(Daily(kDay0.AddDays(11), K("70")));  // 20 + 50
  EXPECT_TRUE(ValidateDailySeries(rows, {}).empty());
  rows.back() = Daily(kDay0.AddDays(11), K("70.0001"));
  EXPECT_EQ(Rules(ValidateDailySeries(rows, {})), (std::vector<std::string>{"spike@2026-12-12"}));
  // Six days of history are not enough for a median (seven are).
  auto short_rows = Steady(kDay0, 6, K("10"), K("1"));
  short_rows.push_back(Daily(kDay0.AddDays(7), K("5000")));
  EXPECT_TRUE(ValidateDailySeries(short_rows, {}).empty());
  auto seven = Steady(kDay0, 7, K("10"), K("1"));
  seven.push_back(Daily(kDay0.AddDays(8), K("5000")));
  EXPECT_EQ(Rules(ValidateDailySeries(seven, {})), (std::vector<std::string>{"spike@2026-12-09"}));
}

TEST(VeeRulesTest, SpikeOverAGapScalesWithItsDays) {
  auto rows = Steady(kDay0, 10, K("1000"), K("20"));
  rows.push_back(Daily(kDay0.AddDays(13), K("1500")));  // 3 days: 300 = 3 × 100
  EXPECT_TRUE(ValidateDailySeries(rows, {}).empty());
  rows.back() = Daily(kDay0.AddDays(13), K("1500.0001"));
  auto f = ValidateDailySeries(rows, {});
  ASSERT_EQ(Rules(f), (std::vector<std::string>{"spike@2026-12-14"}));
  EXPECT_NE(f[0].detail.find("over 3 days"), std::string::npos) << f[0].detail;
}

// ---- zero_run ----

TEST(VeeRulesTest, ZeroRunReportedOnceWhenItReachesThreeDays) {
  auto rows = Steady(kDay0, 5, K("100"), K("10"));  // 12-01 .. 12-06, 150 kWh
  for (int i = 6; i <= 10; ++i) rows.push_back(Daily(kDay0.AddDays(i), K("150")));
  // Zero use on 12-06, 12-07 (two days, below the run) then 12-08 (three): on the 12-09 row.
  auto f = ValidateDailySeries(rows, {});
  ASSERT_EQ(Rules(f), (std::vector<std::string>{"zero_run@2026-12-09"}));
  EXPECT_NE(f[0].detail.find("over 3 days (2026-12-06 to 2026-12-08)"), std::string::npos)
      << f[0].detail;
  // Two zero days only: nothing.
  rows.resize(8);
  EXPECT_TRUE(ValidateDailySeries(rows, {}).empty());
  // A point that never used anything is vacant, not stuck.
  std::vector<DailyRow> vacant;
  for (int i = 0; i <= 10; ++i) vacant.push_back(Daily(kDay0.AddDays(i), K("7")));
  EXPECT_TRUE(ValidateDailySeries(vacant, {}).empty());
}

// ---- tou_sum ----

TEST(VeeRulesTest, TouSumWithinOneHundredthPerRegister) {
  DailyFrozen f = Row(kDay0, K("100"));
  f.registers["sharp"] = K("10");
  f.registers["peak"] = K("30");
  f.registers["flat"] = K("30");
  f.registers["valley"] = K("30.05");  // 0.05 over: 5 registers × 0.01
  EXPECT_FALSE(CheckTouSum(f).has_value());
  f.registers["valley"] = K("30.0501");
  auto finding = CheckTouSum(f);
  ASSERT_TRUE(finding.has_value());
  EXPECT_EQ(finding->rule, "tou_sum");
  EXPECT_NE(finding->detail.find("difference 0.0501"), std::string::npos) << finding->detail;
  f.registers["valley"] = K("29.9499");  // short by 0.0501
  EXPECT_TRUE(CheckTouSum(f).has_value());
  f.registers.erase("total");
  EXPECT_FALSE(CheckTouSum(f).has_value());
}

// ---- curve_sum ----

TEST(VeeRulesTest, CurveSumAgainstTheRegisterDelta) {
  Curve c;
  c.metering_point_id = 1;
  c.day = kDay0;
  c.values.assign(96, D(10625));  // 96 × 1.0625 = 102 kWh
  c.quality.assign(96, 'V');
  // Delta 100 kWh: tolerance max(2 % = 2 kWh, 0.5 kWh).
  EXPECT_FALSE(CheckCurveSum(c, K("100")).has_value());
  c.values[5] = D(10626);
  auto f = CheckCurveSum(c, K("100"));
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->detail,
            "96 intervals add up to 102.0001 kWh but the total register moved 100.00 kWh over "
            "2026-12-01 (difference 2.0001 kWh, tolerance 2.00 kWh)");
  // Small days: the 0.5 kWh floor.
  c.values.assign(96, D(0));
  c.values[0] = D(105000);
  EXPECT_FALSE(CheckCurveSum(c, K("10")).has_value());
  c.values[0] = D(105001);
  EXPECT_TRUE(CheckCurveSum(c, K("10")).has_value());
  c.values[0] = D(94999);
  EXPECT_TRUE(CheckCurveSum(c, K("10")).has_value());
  // Not with a value missing.
  c.values[1] = std::nullopt;
  EXPECT_FALSE(CheckCurveSum(c, K("10")).has_value());
}

// ---- clock_drift ----

TEST(VeeRulesTest, ClockDriftOverFiveMinutes) {
  EXPECT_FALSE(CheckClockDrift(0, 7, kDay0, 300, "terminal clock").has_value());
  EXPECT_FALSE(CheckClockDrift(0, 7, kDay0, -300, "terminal clock").has_value());
  auto f = CheckClockDrift(0, 7, kDay0, 301, "terminal clock");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->detail, "terminal clock 5 min 1 s fast (limit 5 min 0 s)");
  EXPECT_EQ(f->terminal_id, 7);
  f = CheckClockDrift(3, 7, kDay0, -3725, "meter clock");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->detail, "meter clock 1 h 2 min 5 s slow (limit 5 min 0 s)");
}

// ---- estimation ----

std::vector<std::optional<Energy>> Series(std::initializer_list<int64_t> dwh) {
  std::vector<std::optional<Energy>> out;
  for (int64_t v : dwh) out.push_back(v < 0 ? std::nullopt : std::optional<Energy>(D(v)));
  return out;
}
std::vector<int64_t> Dwh(const Estimate& e) {
  std::vector<int64_t> out;
  for (const auto& v : e.values) out.push_back(v ? v->dwh() : -1);
  return out;
}
constexpr int64_t X = -1;  // missing

TEST(VeeEstimateTest, LinearForShortGapsExactInDwh) {
  auto e = FillGaps(Series({100, X, X, X, 200}), "VMMMV", {});
  EXPECT_EQ(Dwh(e), (std::vector<int64_t>{100, 125, 150, 175, 200}));
  EXPECT_EQ(e.quality, "VEEEV");
  // Thirds round half up to the dWh: 133.67 → 134, 167.33 → 167.
  e = FillGaps(Series({100, X, X, 201}), "VMMV", {});
  EXPECT_EQ(Dwh(e), (std::vector<int64_t>{100, 134, 167, 201}));
  // Four values is still linear (the default max_linear_gap).
  e = FillGaps(Series({0, X, X, X, X, 50}), "", {});
  EXPECT_EQ(Dwh(e), (std::vector<int64_t>{0, 10, 20, 30, 40, 50}));
  EXPECT_EQ(e.quality, "VEEEEV");
}

TEST(VeeEstimateTest, LikeDayForLongGapsAndNoBasisStaysMissing) {
  // Five missing values: like-day averaging over the history (rounded half up).
  std::vector<std::vector<std::optional<Energy>>> history = {Series({9, 3, 4, 5, 6, 7, 9}),
                                                             Series({9, 4, 4, X, 6, 8, 9})};
  auto e = FillGaps(Series({10, X, X, X, X, X, 10}), "VMMMMMV", history);
  EXPECT_EQ(Dwh(e), (std::vector<int64_t>{10, 4, 4, 5, 6, 8, 10}));  // 3.5→4, 7.5→8
  EXPECT_EQ(e.quality, "VEEEEEV");
  // Without history a long gap stays missing.
  e = FillGaps(Series({10, X, X, X, X, X, 10}), "VMMMMMV", {});
  EXPECT_EQ(Dwh(e), (std::vector<int64_t>{10, X, X, X, X, X, 10}));
  EXPECT_EQ(e.quality, "VMMMMMV");
  // A short gap at an edge: like-day when there is history, else flat from its neighbour.
  e = FillGaps(Series({X, X, 50, 60}), "MMVV", {});
  EXPECT_EQ(Dwh(e), (std::vector<int64_t>{50, 50, 50, 60}));
  e = FillGaps(Series({X, X, 50, 60}), "MMVV", {Series({5, 6, 50, 60})});
  EXPECT_EQ(Dwh(e), (std::vector<int64_t>{5, 6, 50, 60}));
}

TEST(VeeEstimateTest, ScaledToTheRegisterDeltaByLargestRemainder) {
  std::vector<std::vector<std::optional<Energy>>> history = {Series({0, 1, 2, 3, 4, 5, 0})};
  FillSettings s;
  s.target_total = D(10 + 10 + 30);
  auto e = FillGapsWith(Series({10, X, X, X, X, X, 10}), "", history, s);
  EXPECT_EQ(Dwh(e), (std::vector<int64_t>{10, 2, 4, 6, 8, 10, 10}));
  // 31 over weights 1..5 (sum 15): floors 2,4,6,8,10 and the one left to the largest remainder.
  s.target_total = D(10 + 10 + 31);
  e = FillGapsWith(Series({10, X, X, X, X, X, 10}), "", history, s);
  EXPECT_EQ(Dwh(e), (std::vector<int64_t>{10, 2, 4, 6, 8, 11, 10}));
  // No basis: the remainder spread flat (7 over 5: 2,2,1,1,1).
  s.target_total = D(10 + 10 + 7);
  e = FillGapsWith(Series({10, X, X, X, X, X, 10}), "", {}, s);
  EXPECT_EQ(Dwh(e), (std::vector<int64_t>{10, 2, 2, 1, 1, 1, 10}));
  EXPECT_EQ(e.quality, "VEEEEEV");
  // Known values above the target: not scaled (that is a curve_sum matter).
  s.target_total = D(15);
  e = FillGapsWith(Series({10, X, 10}), "", {}, s);
  EXPECT_EQ(Dwh(e), (std::vector<int64_t>{10, 10, 10}));
  // Large registers do not overflow: 10^12 dWh split in thirds.
  s.target_total = D(1'000'000'000'000);
  e = FillGapsWith(Series({X, X, X}), "", {Series({1, 1, 1})}, s);
  EXPECT_EQ(Dwh(e), (std::vector<int64_t>{333'333'333'334, 333'333'333'333, 333'333'333'333}));
}

TEST(VeeEstimateTest, MethodsForTheEvaluation) {
  FillSettings linear;
  linear.method = FillMethod::kLinear;
  auto e = FillGapsWith(Series({100, X, X, X, X, X, X, 170}), "", {}, linear);
  EXPECT_EQ(Dwh(e), (std::vector<int64_t>{100, 110, 120, 130, 140, 150, 160, 170}));
  FillSettings like;
  like.method = FillMethod::kLikeDay;
  e = FillGapsWith(Series({100, X, 170}), "", {Series({1, 7, 1})}, like);
  EXPECT_EQ(Dwh(e), (std::vector<int64_t>{100, 7, 170}));
  e = FillGapsWith(Series({100, X, 170}), "", {}, like);
  EXPECT_EQ(Dwh(e), (std::vector<int64_t>{100, X, 170}));
}

TEST(VeeEstimateTest, InterpolatedRegistersKeepTheRatesAddingUp) {
  DailyFrozen a = Row(kDay0, D(1'000'000));
  a.registers["peak"] = D(600'000);
  a.registers["valley"] = D(400'000);
  a.registers["max_demand"] = D(52'000);
  DailyFrozen b = Row(kDay0.AddDays(3), D(1'000'010));
  b.registers["peak"] = D(600'007);
  b.registers["valley"] = D(400'003);
  b.registers["max_demand"] = D(61'000);
  auto d1 = InterpolateDailyFrozen(a, b, kDay0.AddDays(1));
  ASSERT_TRUE(d1.has_value());
  EXPECT_EQ(d1->quality, "estimated");
  EXPECT_EQ(d1->registers.at("total").dwh(), 1'000'003);  // 3.33 → 3
  EXPECT_EQ(d1->registers.at("peak").dwh(), 600'002);     // 2.33
  EXPECT_EQ(d1->registers.at("valley").dwh(), 400'001);   // 1
  EXPECT_FALSE(d1->registers.count("max_demand"));        // not cumulative
  auto d2 = InterpolateDailyFrozen(a, b, kDay0.AddDays(2));
  ASSERT_TRUE(d2.has_value());
  EXPECT_EQ(d2->registers.at("total").dwh(), 1'000'007);  // 6.67 → 7
  // peak 4.67 and valley 2 floor to 600,004 + 400,002 = 1,000,006: the remainder goes to peak.
  EXPECT_EQ(d2->registers.at("peak").dwh(), 600'005);
  EXPECT_EQ(d2->registers.at("valley").dwh(), 400'002);
  // Outside the span, across multipliers: nothing.
  EXPECT_FALSE(InterpolateDailyFrozen(a, b, kDay0).has_value());
  EXPECT_FALSE(InterpolateDailyFrozen(a, b, kDay0.AddDays(3)).has_value());
  b.multiplier = 2;
  EXPECT_FALSE(InterpolateDailyFrozen(a, b, kDay0.AddDays(1)).has_value());
  // A register going backwards is left out; the others are interpolated on their own.
  b.multiplier = 1;
  b.registers["valley"] = D(399'000);
  auto d3 = InterpolateDailyFrozen(a, b, kDay0.AddDays(1));
  ASSERT_TRUE(d3.has_value());
  EXPECT_FALSE(d3->registers.count("valley"));
  EXPECT_EQ(d3->registers.at("peak").dwh(), 600'002);
}

// ---------------------------------------------------------------------------------------------
// The service, on both engines

class VeeServiceTest : public ::testing::TestWithParam<std::string> {
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
    grid::GridService grid(u_->db(), clock_);
    customer::CustomerService customers(u_->db(), clock_);
    metering_ = std::make_unique<metering::MeteringService>(u_->db(), clock_);
    vee_ = std::make_unique<VeeService>(u_->db(), clock_);
    for (auto [dept, suffix] : {std::pair{u_->county_a, "A"}, std::pair{u_->county_b, "B"}}) {
      grid::SubstationInput s;
      s.code = std::string("SUB-") + suffix;
      s.name = *s.code;
      s.voltage_v = 35'000;
      s.department_id = dept;
      auto sub = grid.CreateSubstation(sys_, s);
      ASSERT_TRUE(sub.ok()) << sub.status().ToString();
      grid::FeederInput f;
      f.code = std::string("F-") + suffix;
      f.name = *f.code;
      f.substation_id = sub->id;
      auto feeder = grid.CreateFeeder(sys_, f);
      ASSERT_TRUE(feeder.ok());
      grid::TransformerAreaInput a;
      a.code = std::string("TA-") + suffix;
      a.name = *a.code;
      a.feeder_id = feeder->id;
      a.capacity_kva = 400;
      auto area = grid.CreateTransformerArea(sys_, a);
      ASSERT_TRUE(area.ok());
      customer::CustomerInput c;
      c.customer_no = std::string(suffix) == "A" ? "1501000001" : "1502000001";
      c.name = std::string("客户") + suffix;
      c.category = "commercial";
      c.address = "幸福路1号";
      c.department_id = dept;
      c.transformer_area_id = std::optional<int64_t>(area->id);
      auto cust = customers.Create(sys_, c);
      ASSERT_TRUE(cust.ok()) << cust.status().ToString();
      (dept == u_->county_a ? customer_a_ : customer_b_) = cust->id;
      (dept == u_->county_a ? area_a_ : area_b_) = area->id;
    }
    operator_a_ = MustActor("operator_a", u_->county_a, "acquisition_operator");
    operator_b_ = MustActor("operator_b", u_->county_b, "acquisition_operator");
    analyst_a_ = MustActor("analyst_a", u_->county_a, "analyst");
  }

  org::Actor MustActor(const std::string& name, int64_t dept, const std::string& role) {
    auto a = u_->MakeActor(name, dept, {role});
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return a.ok() ? *a : org::Actor{};
  }

  // A point with a meter (total, peak, valley; 6 digits) installed on 2026-10-01.
  int64_t MakePoint(const std::string& code, bool county_b = false) {
    metering::MeteringPointInput in;
    in.code = code;
    in.customer_id = county_b ? customer_b_ : customer_a_;
    in.voltage_v = 380;
    in.tariff_code = "GS-COM-1";
    auto p = metering_->CreatePoint(sys_, in);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    metering::MeterInput m;
    m.asset_no = "M-" + code;
    m.make = "威胜";
    m.model = "DDZY1";
    m.phases = 1;
    m.accuracy_class = "2";
    m.registers = std::vector<std::string>{"total", "peak", "valley"};
    m.register_integer_digits = 6;
    m.department_id = county_b ? u_->county_b : u_->county_a;
    auto meter = metering_->CreateMeter(sys_, m);
    EXPECT_TRUE(meter.ok()) << meter.status().ToString();
    metering::InstallInput install;
    install.meter_id = meter->id;
    install.installed_at_us = zone_.StartOfDay({2026, 10, 1}) + 10 * 3600 * kMicrosPerSecond;
    install.readings = {{"total", Energy()}, {"peak", Energy()}, {"valley", Energy()}};
    auto i = metering_->Install(sys_, p->id, install);
    EXPECT_TRUE(i.ok()) << i.status().ToString();
    return p->id;
  }

  // A row with peak 60 % and valley 40 % of the total (exact in dWh).
  static DailyFrozen Frozen(int64_t point, Date day, Energy total) {
    DailyFrozen f = Row(day, total, point);
    int64_t peak = total.dwh() / 10 * 6;
    f.registers["peak"] = D(peak);
    f.registers["valley"] = D(total.dwh() - peak);
    return f;
  }

  // What ingestion does: store the rows and check them in one transaction.
  void Ingest(const std::vector<DailyFrozen>& rows) {
    Status s = u_->db().Write([&](store::Connection& c) -> Status {
      RETURN_IF_ERROR(reading::StoreDailyFrozen(c, rows));
      return vee_->CheckDailyFrozen(c, rows);
    });
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  void IngestCurves(const std::vector<Curve>& curves) {
    Status s = u_->db().Write([&](store::Connection& c) -> Status {
      RETURN_IF_ERROR(StoreCurves(c, curves));
      return vee_->CheckCurves(c, curves);
    });
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  // `days` days of `per_day` kWh from `first`, starting at `start`.
  void IngestSteady(int64_t point, Date first, int days, const char* start, const char* per_day) {
    std::vector<DailyFrozen> rows;
    for (int i = 0; i < days; ++i) {
      rows.push_back(Frozen(point, first.AddDays(i), D(K(start).dwh() + K(per_day).dwh() * i)));
    }
    Ingest(rows);
  }

  std::vector<Issue> List(const org::Actor& actor, IssueQuery q = {}) {
    q.page_size = 200;
    auto page = vee_->ListIssues(actor, q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? page->items : std::vector<Issue>{};
  }
  int64_t Count(const std::string& sql) {
    auto n = u_->db().ReadValue<int64_t>([&](store::Connection& c) { return c.QueryInt(sql); });
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? *n : -1;
  }
  std::optional<DailyFrozen> FrozenOf(int64_t point, Date day) {
    auto rows = u_->db().ReadValue<std::vector<DailyFrozen>>(
        [&](store::Connection& c) { return reading::LoadDailyFrozen(c, {point}, day, day); });
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    if (!rows.ok() || rows->empty()) return std::nullopt;
    return rows->front();
  }
  std::optional<Curve> CurveOf(int64_t point, Date day) {
    auto rows = u_->db().ReadValue<std::vector<Curve>>(
        [&](store::Connection& c) { return LoadCurves(c, {point}, day, day); });
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    if (!rows.ok() || rows->empty()) return std::nullopt;
    return rows->front();
  }
  std::vector<org::AuditEntry> Audit(const std::string& entity) {
    org::AuditQuery q;
    q.entity = entity;
    q.page_size = 200;
    auto page = org::ListAudit(u_->db(), sys_, q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? page->items : std::vector<org::AuditEntry>{};
  }
  static Curve Flat(int64_t point, Date day, int64_t dwh) {
    Curve c;
    c.metering_point_id = point;
    c.day = day;
    c.values.assign(96, D(dwh));
    c.quality.assign(96, 'V');
    return c;
  }

  FakeClock clock_{1'800'000'000'000'000};  // 2027-01-15 08:00 UTC
  TimeZone zone_;
  std::unique_ptr<grid::testing::TestUtility> u_;
  std::unique_ptr<metering::MeteringService> metering_;
  std::unique_ptr<VeeService> vee_;
  org::Actor sys_, operator_a_, operator_b_, analyst_a_;
  int64_t customer_a_ = 0, customer_b_ = 0, area_a_ = 0, area_b_ = 0;
};

TEST_P(VeeServiceTest, FindingsAreKeptOnceAndClosedWhenTheDataIsRecollected) {
  int64_t p = MakePoint("MP-A1");
  IngestSteady(p, kDay0, 10, "1000", "10");  // 12-01 .. 12-10: 1000 .. 1090
  EXPECT_EQ(Count("SELECT COUNT(*) FROM vee_issues"), 0);
  Ingest({Frozen(p, {2026, 12, 11}, K("1085"))});
  auto issues = List(sys_);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].rule, "reverse");
  EXPECT_EQ(issues[0].severity, "suspect");
  EXPECT_EQ(issues[0].status, "open");
  EXPECT_EQ(issues[0].day, (Date{2026, 12, 11}));
  EXPECT_EQ(issues[0].point_code, "MP-A1");
  EXPECT_EQ(issues[0].department_id, u_->county_a);
  EXPECT_EQ(issues[0].version, 1);
  // The same data again: no second finding, nothing changed.
  Ingest({Frozen(p, {2026, 12, 11}, K("1085"))});
  Ingest({Frozen(p, {2026, 12, 10}, K("1090"))});  // the day before: re-checks the step out
  issues = List(sys_);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].version, 1);
  EXPECT_EQ(issues[0].status, "open");
  // Collected again, right this time: closed as corrected by the system.
  Ingest({Frozen(p, {2026, 12, 11}, K("1100"))});
  issues = List(sys_);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].status, "corrected");
  EXPECT_FALSE(issues[0].resolved_by.has_value());
  EXPECT_EQ(issues[0].version, 2);
  // Wrong again: the same finding reopens (no duplicate).
  Ingest({Frozen(p, {2026, 12, 11}, K("1080"))});
  issues = List(sys_);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].status, "open");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM vee_issues"), 1);
  // A catch-up of a missing earlier day re-checks the step to the next row.
  int64_t q = MakePoint("MP-A2");
  IngestSteady(q, kDay0, 5, "500", "10");  // 12-01 .. 12-05
  Ingest({Frozen(q, {2026, 12, 7}, K("560"))});
  Ingest({Frozen(q, {2026, 12, 6}, K("570"))});  // above 12-07's 560: the 12-07 row is reversed
  IssueQuery by_point;
  by_point.metering_point_id = q;
  issues = List(sys_, by_point);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].rule, "reverse");
  EXPECT_EQ(issues[0].day, (Date{2026, 12, 7}));
}

TEST_P(VeeServiceTest, DailyIngestionFindsWhatAFullRevalidationFinds) {
  // One row a day, as collection stores them: 20 kWh a day, ten days without use from 12-26,
  // then 20 kWh again and 150 kWh on 01-10 (the median of the 30 days before is 20 kWh).
  int64_t p = MakePoint("MP-A1");
  int64_t total = K("1000").dwh();
  for (int d = 0; d <= 41; ++d) {
    if (d > 0) {
      int64_t use =
          (d - 1 >= 25 && d - 1 < 35) ? 0 : (d - 1 == 40 ? K("150").dwh() : K("20").dwh());
      total += use;
    }
    Ingest({Frozen(p, kDay0.AddDays(d), D(total))});
  }
  auto issues = List(sys_);
  ASSERT_EQ(issues.size(), 2u);
  EXPECT_EQ(issues[0].rule, "spike");
  EXPECT_EQ(issues[0].day, kDay0.AddDays(41));
  EXPECT_EQ(issues[1].rule, "zero_run");
  EXPECT_EQ(issues[1].day, kDay0.AddDays(28));
  EXPECT_NE(issues[1].detail.find("over 3 days (2026-12-26 to 2026-12-28)"), std::string::npos)
      << issues[1].detail;
  // Checking every row with the whole history at once changes nothing.
  auto all = vee_->Revalidate(operator_a_, p, kDay0, kDay0.AddDays(41));
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->rows, 42);
  EXPECT_EQ(all->open.size(), 2u);
  auto again = List(sys_);
  ASSERT_EQ(again.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(again[i].version, 1) << again[i].rule;
    EXPECT_EQ(again[i].status, "open");
  }
}

TEST_P(VeeServiceTest, ReviewListFiltersAndScope) {
  int64_t a = MakePoint("MP-A1");
  int64_t b = MakePoint("MP-B1", true);
  IngestSteady(a, kDay0, 11, "1000", "20");        // 12-01 .. 12-11: 1000 .. 1200
  Ingest({Frozen(a, {2026, 12, 12}, K("1400"))});  // 200 kWh: a spike
  IngestSteady(b, kDay0, 5, "300", "5");           // 12-01 .. 12-05: 300 .. 320
  Ingest({Frozen(b, {2026, 12, 6}, K("310"))});    // reverse
  EXPECT_EQ(List(sys_).size(), 2u);
  auto mine = List(operator_a_);
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0].rule, "spike");
  ASSERT_EQ(List(operator_b_).size(), 1u);
  EXPECT_EQ(List(operator_b_)[0].rule, "reverse");
  EXPECT_EQ(List(analyst_a_).size(), 1u);
  IssueQuery q;
  q.rule = "reverse";
  EXPECT_EQ(List(sys_, q).size(), 1u);
  q = {};
  q.department_id = u_->county_b;
  EXPECT_EQ(List(sys_, q).size(), 1u);
  q = {};
  q.from = Date{2026, 12, 7};
  EXPECT_EQ(List(sys_, q).size(), 1u);  // the spike on 12-12
  q.to = Date{2026, 12, 11};
  EXPECT_EQ(List(sys_, q).size(), 0u);
  q = {};
  q.status = "accepted";
  EXPECT_EQ(List(sys_, q).size(), 0u);
  q = {};
  q.rule = "bogus";
  EXPECT_EQ(vee_->ListIssues(sys_, q).status().field(), "rule");
  // Paging: one a page, newest day first.
  q = {};
  q.page_size = 1;
  auto page = vee_->ListIssues(sys_, q);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, 2);
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].rule, "spike");
  // Without acquisition.read: refused.
  auto clerk = MustActor("clerk", u_->county_a, "counter_clerk");
  EXPECT_EQ(vee_->ListIssues(clerk, {}).status().code(), StatusCode::kPermissionDenied);
  // Outside the scope: not found.
  EXPECT_EQ(vee_->GetIssue(operator_b_, mine[0].id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(vee_->Accept(operator_b_, mine[0].id, 1, "").status().code(), StatusCode::kNotFound);
}

TEST_P(VeeServiceTest, AcceptAndDismissWithVersionsAndAudit) {
  int64_t a = MakePoint("MP-A1");
  IngestSteady(a, kDay0, 11, "1000", "20");
  Ingest({Frozen(a, {2026, 12, 12}, K("1400"))});
  Ingest({Frozen(a, {2026, 12, 13}, K("1380"))});  // reverse too
  IssueQuery q;
  q.rule = "spike";
  auto spike = List(sys_, q).at(0);
  q.rule = "reverse";
  auto reverse = List(sys_, q).at(0);
  // The analyst may look but not decide.
  EXPECT_EQ(vee_->Accept(analyst_a_, spike.id, spike.version, "").status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(vee_->Accept(operator_a_, spike.id, spike.version + 1, "").status().code(),
            StatusCode::kAborted);
  auto accepted = vee_->Accept(operator_a_, spike.id, spike.version, "air conditioning installed");
  ASSERT_TRUE(accepted.ok()) << accepted.status().ToString();
  EXPECT_EQ(accepted->status, "accepted");
  EXPECT_EQ(accepted->resolved_by, operator_a_.user_id);
  EXPECT_EQ(accepted->resolved_by_name, "operator_a");
  EXPECT_EQ(accepted->note, "air conditioning installed");
  EXPECT_EQ(accepted->version, spike.version + 1);
  EXPECT_EQ(vee_->Accept(operator_a_, spike.id, accepted->version, "").status().code(),
            StatusCode::kFailedPrecondition);
  // Re-validation leaves a person's decision alone.
  auto again = vee_->Revalidate(operator_a_, a, kDay0, {2026, 12, 13});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->rows, 13);
  ASSERT_EQ(again->open.size(), 1u);
  EXPECT_EQ(again->open[0].rule, "reverse");
  q.rule = "spike";
  EXPECT_EQ(List(sys_, q).at(0).status, "accepted");
  // Dismissing needs a note.
  EXPECT_EQ(vee_->Dismiss(operator_a_, reverse.id, reverse.version, "").status().field(), "note");
  auto dismissed = vee_->Dismiss(operator_a_, reverse.id, reverse.version, "meter test on site");
  ASSERT_TRUE(dismissed.ok()) << dismissed.status().ToString();
  EXPECT_EQ(dismissed->status, "dismissed");
  auto audit = Audit("vee_issue");
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(audit[0].action, "dismiss");
  EXPECT_EQ(audit[1].action, "accept");
  EXPECT_EQ(audit[1].username, "operator_a");
  auto before = nlohmann::json::parse(audit[1].before_json);
  auto after = nlohmann::json::parse(audit[1].after_json);
  EXPECT_EQ(before["status"], "open");
  EXPECT_EQ(after["status"], "accepted");
  EXPECT_EQ(audit[1].department_id, u_->county_a);
}

TEST_P(VeeServiceTest, IssueDetailShowsTheDaysAround) {
  int64_t a = MakePoint("MP-A1");
  IngestSteady(a, kDay0, 10, "1000", "10");
  Ingest({Frozen(a, {2026, 12, 11}, K("1085")), Frozen(a, {2026, 12, 12}, K("1095"))});
  auto issue = List(operator_a_).at(0);
  auto d = vee_->GetIssue(operator_a_, issue.id);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->issue.rule, "reverse");
  ASSERT_EQ(d->days.size(), 15u);
  EXPECT_EQ(d->days.front().day, (Date{2026, 12, 4}));
  EXPECT_EQ(d->days[5].day, (Date{2026, 12, 9}));
  EXPECT_EQ(d->days[5].quality, "valid");
  EXPECT_EQ(d->days[5].use, K("10"));
  EXPECT_FALSE(d->days[6].use.has_value());  // 12-10 → 12-11 went backwards
  EXPECT_EQ(d->days[7].quality, "suspect");
  EXPECT_EQ(d->days[7].open_rules, (std::vector<std::string>{"reverse"}));
  EXPECT_EQ(d->days[7].frozen->registers.at("total"), K("1085"));
  EXPECT_EQ(d->days[7].use, K("10"));
  EXPECT_EQ(d->days[9].quality, "missing");
}

TEST_P(VeeServiceTest, EstimatesMissingDaysExactlyAndNeverOverwrites) {
  int64_t a = MakePoint("MP-A1");
  DailyFrozen d1 = Row(kDay0, D(1'000'000), a);
  d1.registers["peak"] = D(600'000);
  d1.registers["valley"] = D(400'000);
  DailyFrozen d4 = Row(kDay0.AddDays(3), D(1'000'010), a);
  d4.registers["peak"] = D(600'007);
  d4.registers["valley"] = D(400'003);
  Ingest({d1, d4});
  auto r = vee_->EstimateRange(operator_a_, a, kDay0, kDay0.AddDays(4));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->frozen.size(), 2u);
  EXPECT_EQ(r->frozen_without_basis, 1);  // 12-05: nothing after it
  auto e2 = FrozenOf(a, kDay0.AddDays(1));
  auto e3 = FrozenOf(a, kDay0.AddDays(2));
  ASSERT_TRUE(e2 && e3);
  EXPECT_EQ(e2->quality, "estimated");
  EXPECT_EQ(e2->registers.at("total").dwh(), 1'000'003);
  EXPECT_EQ(e2->registers.at("peak").dwh(), 600'002);
  EXPECT_EQ(e2->registers.at("valley").dwh(), 400'001);
  EXPECT_EQ(e3->registers.at("total").dwh(), 1'000'007);
  EXPECT_EQ(e3->registers.at("peak").dwh(), 600'005);
  EXPECT_EQ(e3->registers.at("valley").dwh(), 400'002);
  // Collected rows untouched; a second run writes nothing.
  EXPECT_EQ(FrozenOf(a, kDay0)->quality, "valid");
  EXPECT_EQ(FrozenOf(a, kDay0.AddDays(3))->registers.at("total").dwh(), 1'000'010);
  auto again = vee_->EstimateRange(operator_a_, a, kDay0, kDay0.AddDays(4));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->frozen.empty());
  auto audit = Audit("vee_estimate");
  ASSERT_EQ(audit.size(), 2u);
  auto after = nlohmann::json::parse(audit[1].after_json);
  EXPECT_EQ(after["daily_frozen"].size(), 2u);
  EXPECT_EQ(after["daily_frozen"][0]["registers"]["total"], "100.0003");
  EXPECT_EQ(audit[1].username, "operator_a");
  // Scope, permission and range.
  int64_t b = MakePoint("MP-B1", true);
  EXPECT_EQ(vee_->EstimateRange(operator_a_, b, kDay0, kDay0).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(vee_->EstimateRange(analyst_a_, a, kDay0, kDay0).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(vee_->EstimateRange(operator_a_, a, kDay0, kDay0.AddDays(62)).status().field(), "to");
}

TEST_P(VeeServiceTest, EditingADayClosesWhatItFixes) {
  int64_t a = MakePoint("MP-A1");
  IngestSteady(a, kDay0, 10, "1000", "10");
  Ingest({Frozen(a, {2026, 12, 11}, K("1085"))});
  auto issue = List(sys_).at(0);
  DailyFrozenEdit e;
  e.metering_point_id = a;
  e.day = {2026, 12, 11};
  e.registers = Frozen(a, e.day, K("1100")).registers;
  e.reason = "read on site: 1100";
  e.previous = Frozen(a, e.day, K("1090")).registers;  // not what is stored
  EXPECT_EQ(vee_->EditDailyFrozen(operator_a_, e).status().code(), StatusCode::kAborted);
  e.previous = std::nullopt;
  EXPECT_EQ(vee_->EditDailyFrozen(operator_a_, e).status().code(), StatusCode::kAborted);
  e.previous = Frozen(a, e.day, K("1085")).registers;
  e.reason = "x";
  EXPECT_EQ(vee_->EditDailyFrozen(operator_a_, e).status().field(), "reason");
  e.reason = "read on site: 1100";
  auto edited = vee_->EditDailyFrozen(operator_a_, e);
  ASSERT_TRUE(edited.ok()) << edited.status().ToString();
  EXPECT_EQ(edited->quality, "edited");
  auto stored = FrozenOf(a, e.day);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->quality, "edited");
  EXPECT_EQ(stored->registers.at("total"), K("1100"));
  auto closed = List(sys_).at(0);
  EXPECT_EQ(closed.id, issue.id);
  EXPECT_EQ(closed.status, "corrected");
  EXPECT_EQ(closed.resolved_by, operator_a_.user_id);
  EXPECT_EQ(closed.note, "corrected by edit: read on site: 1100");
  auto audit = Audit("daily_frozen");
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].entity_id, std::to_string(a) + "/2026-12-11");
  EXPECT_EQ(nlohmann::json::parse(audit[0].before_json)["registers"]["total"], "1085.00");
  auto after = nlohmann::json::parse(audit[0].after_json);
  EXPECT_EQ(after["registers"]["total"], "1100.00");
  EXPECT_EQ(after["reason"], "read on site: 1100");
  // A day without a row can be entered (previous: none); an unknown register is refused.
  e.day = {2026, 12, 13};
  e.previous = std::nullopt;
  e.registers = {{"total", K("1120")}};
  ASSERT_TRUE(vee_->EditDailyFrozen(operator_a_, e).ok());
  EXPECT_EQ(FrozenOf(a, e.day)->quality, "edited");
  e.registers = {{"bogus", K("1")}};
  EXPECT_EQ(vee_->EditDailyFrozen(operator_a_, e).status().field(), "registers.bogus");
}

TEST_P(VeeServiceTest, CurveSumMarksTheCurveSuspectUntilDecided) {
  int64_t a = MakePoint("MP-A1");
  Ingest({Frozen(a, kDay0, K("1000")), Frozen(a, kDay0.AddDays(1), K("1100"))});
  IngestCurves({Flat(a, kDay0, 10625)});  // 102 kWh against 100: within 2 %
  EXPECT_EQ(Count("SELECT COUNT(*) FROM vee_issues"), 0);
  IngestCurves({Flat(a, kDay0, 11000)});  // 105.6 kWh
  auto issues = List(sys_);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].rule, "curve_sum");
  EXPECT_EQ(issues[0].day, kDay0);
  EXPECT_EQ(CurveOf(a, kDay0)->quality, std::string(96, 'S'));
  auto ok = vee_->Accept(operator_a_, issues[0].id, issues[0].version, "");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(CurveOf(a, kDay0)->quality, std::string(96, 'V'));

  // The frozen row arriving after the curve checks it too.
  IngestCurves({Flat(a, kDay0.AddDays(2), 5000)});  // 48 kWh
  Ingest({Frozen(a, kDay0.AddDays(2), K("1150")), Frozen(a, kDay0.AddDays(3), K("1198.5"))});
  IssueQuery q;
  q.from = kDay0.AddDays(2);
  EXPECT_TRUE(List(sys_, q).empty());                // 48 against 48.5: within max(2 %, 0.5 kWh)
  Ingest({Frozen(a, kDay0.AddDays(3), K("1250"))});  // now 100: off by 52
  auto found = List(sys_, q);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].rule, "curve_sum");
  EXPECT_EQ(found[0].day, kDay0.AddDays(2));
  EXPECT_EQ(CurveOf(a, kDay0.AddDays(2))->quality, std::string(96, 'S'));
  // Editing an interval re-checks: still off, the finding stays open.
  CurveEdit e;
  e.metering_point_id = a;
  e.day = kDay0.AddDays(2);
  e.interval = 40;
  e.value = K("0.6");
  e.previous = K("0.4");  // stale
  e.reason = "copied from the meter's display";
  EXPECT_EQ(vee_->EditCurveValue(operator_a_, e).status().code(), StatusCode::kAborted);
  e.previous = K("0.5");
  auto cv = vee_->EditCurveValue(operator_a_, e);
  ASSERT_TRUE(cv.ok()) << cv.status().ToString();
  EXPECT_EQ(cv->values[40], K("0.6"));
  EXPECT_EQ(cv->quality[40], 'D');
  EXPECT_EQ(cv->quality[39], 'S');
  EXPECT_EQ(List(sys_, q).at(0).status, "open");
  e.interval = 96;
  EXPECT_EQ(vee_->EditCurveValue(operator_a_, e).status().field(), "interval");
  auto audit = Audit("curve_value");
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(audit[0].before_json)["value"], "0.50");
  EXPECT_EQ(nlohmann::json::parse(audit[0].after_json)["value"], "0.60");
}

TEST_P(VeeServiceTest, CurveGapsEstimatedAndScaledToTheRegisterDelta) {
  int64_t a = MakePoint("MP-A1");
  const Date day{2026, 12, 29};  // a Tuesday; like days 12-22, 12-15, ...
  Ingest({Frozen(a, day, K("1000")), Frozen(a, day.AddDays(1), K("1096.5"))});
  // Two quarter hours missing; the others 1 kWh; the registers moved 96.5 kWh.
  Curve c = Flat(a, day, 10000);
  c.values[10] = c.values[11] = std::nullopt;
  c.quality[10] = c.quality[11] = 'M';
  // The day before, for a long gap's like days: the same weekday a week earlier.
  Curve week = Flat(a, day.AddDays(-7), 10000);
  for (int i = 50; i < 60; ++i) week.values[i] = D(20000 + i);
  Curve long_gap = Flat(a, day.AddDays(-1), 10000);
  for (int i = 40; i < 70; ++i) {
    long_gap.values[i] = std::nullopt;
    long_gap.quality[i] = 'M';
  }
  Curve week_before_long = Flat(a, day.AddDays(-8), 30000);
  // 5 h missing (20 quarter hours, under the 6 h limit), no like day: linear.
  Curve five_hours = Flat(a, day.AddDays(-2), 10000);
  for (int i = 20; i < 40; ++i) {
    five_hours.values[i] = std::nullopt;
    five_hours.quality[i] = 'M';
  }
  five_hours.values[40] = D(30000);
  IngestCurves({c, week, long_gap, week_before_long, five_hours});
  auto r = vee_->EstimateRange(operator_a_, a, day.AddDays(-2), day);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->curve_days, 3);
  EXPECT_EQ(r->curve_values, 52);
  auto fh = CurveOf(a, day.AddDays(-2));
  ASSERT_TRUE(fh);
  EXPECT_EQ(fh->values[20], D(10952));  // 1 + 2 × 1/21 kWh, rounded to the dWh
  EXPECT_EQ(fh->values[39], D(29048));
  EXPECT_EQ(fh->quality[20], 'E');
  EXPECT_EQ(r->curve_values_without_basis, 0);
  auto got = CurveOf(a, day);
  ASSERT_TRUE(got);
  // 2.5 kWh left by the registers over the two: 1.25 each, exactly.
  EXPECT_EQ(got->values[10], D(12500));
  EXPECT_EQ(got->values[11], D(12500));
  EXPECT_EQ(got->quality.substr(9, 4), "VEEV");
  int64_t sum = 0;
  for (const auto& v : got->values) sum += v->dwh();
  EXPECT_EQ(sum, K("96.5").dwh());
  // The 30-value gap of 12-28 (no register delta: its end row is missing) from its like day.
  auto lg = CurveOf(a, day.AddDays(-1));
  ASSERT_TRUE(lg);
  EXPECT_EQ(lg->values[40], D(30000));
  EXPECT_EQ(lg->quality[40], 'E');
  EXPECT_EQ(lg->quality[39], 'V');
  // Collected values stay.
  EXPECT_EQ(got->values[9], D(10000));
  EXPECT_EQ(got->quality[9], 'V');
}

TEST_P(VeeServiceTest, ClockDriftPerTerminalAndDay) {
  TerminalService terminals(u_->db(), clock_);
  TerminalInput in;
  in.asset_no = "T-0001";
  in.kind = "public_transformer";
  in.area_code = "1501";
  in.address = 1;
  in.transformer_area_id = std::optional<int64_t>(area_a_);
  auto t = terminals.Create(sys_, in);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  int64_t a = MakePoint("MP-A1");
  const int64_t at = zone_.StartOfDay({2027, 1, 10}) + 3600 * kMicrosPerSecond;
  auto check = [&](std::vector<ClockReading> rs) {
    Status s =
        u_->db().Write([&](store::Connection& c) { return vee_->CheckClockReadings(c, rs); });
    ASSERT_TRUE(s.ok()) << s.ToString();
  };
  check(
      {{t->id, std::nullopt, at, 120}, {t->id, std::nullopt, at + 60, -420}, {t->id, a, at, 300}});
  IssueQuery q;
  q.rule = "clock_drift";
  auto issues = List(operator_a_, q);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].terminal_id, t->id);
  EXPECT_FALSE(issues[0].metering_point_id.has_value());
  EXPECT_EQ(issues[0].day, (Date{2027, 1, 10}));
  EXPECT_EQ(issues[0].detail, "terminal clock 7 min 0 s slow (limit 5 min 0 s)");
  EXPECT_TRUE(List(operator_b_, q).empty());
  // The meter's clock, over the limit: a finding on the point.
  check({{t->id, a, at, 301}});
  ASSERT_EQ(List(operator_a_, q).size(), 2u);
  // After a time sync the terminal's clock is right: corrected.
  check({{t->id, std::nullopt, at + 7200, 2}});
  q.status = "open";
  issues = List(operator_a_, q);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].metering_point_id, a);
}

INSTANTIATE_TEST_SUITE_P(Backends, VeeServiceTest,
                         ::testing::ValuesIn(store::testing::AvailableBackendsForTest()),
                         [](const auto& p) { return p.param; });

}  // namespace
}  // namespace gridmis::acquisition::vee
