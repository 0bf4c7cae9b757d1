#include "reading/review.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace gridmis::reading {
namespace {

Energy Kwh(const char* text) { return Energy::ParseKwh(text).value(); }

Registers R(std::initializer_list<std::pair<const std::string, const char*>> values) {
  Registers out;
  for (const auto& [reg, kwh] : values) out[reg] = Kwh(kwh);
  return out;
}

std::vector<std::string> Rules(const Evaluation& ev) {
  std::vector<std::string> out;
  for (const auto& f : ev.findings) out.push_back(f.rule);
  return out;
}

bool Has(const Evaluation& ev, const std::string& rule) {
  auto rules = Rules(ev);
  return std::find(rules.begin(), rules.end(), rule) != rules.end();
}

std::string Message(const Evaluation& ev, const std::string& rule) {
  for (const auto& f : ev.findings) {
    if (f.rule == rule) return f.message;
  }
  return "";
}

class ReviewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    zone_ = TimeZone::Load("Asia/Shanghai").value();
    meter_.id = 10;
    meter_.meter_asset_no = "M-OLD";
    meter_.registers = {"total", "peak", "valley"};
    meter_.multiplier = 1;
    meter_.installed_at_us = zone_.StartOfDay(Date{2026, 1, 10}) + 10 * 3600 * kMicrosPerSecond;
    meter_.install_reason = "new";
    meter_.install_readings = R({{"total", "0"}, {"peak", "0"}, {"valley", "0"}});
    history_.installs = {meter_};
    history_.previous = Past(1, {2026, 2}, {2026, 2, 25},
                             R({{"total", "1000"}, {"peak", "600"}, {"valley", "400"}}), "300", 28);
    history_.recent = {*history_.previous};
  }

  PastRead Past(int64_t id, YearMonth period, Date date, Registers regs, const char* use,
                int64_t days, int64_t installation = 10) {
    PastRead p;
    p.id = id;
    p.period = period;
    p.read_date = date;
    p.installation_id = installation;
    p.registers = std::move(regs);
    if (use) p.consumption = Kwh(use);
    p.days = days;
    p.source = "manual";
    p.status = "approved";
    return p;
  }

  ReadCandidate Cand(Registers regs, Date date = {2026, 3, 25}) {
    ReadCandidate c;
    c.period = {2026, 3};
    c.read_date = date;
    c.registers = std::move(regs);
    c.source = "manual";
    return c;
  }

  Result<Evaluation> Eval(const ReadCandidate& c) {
    return Evaluate(c, history_, rules_, zone_, today_);
  }

  TimeZone zone_;
  MeterInstall meter_;
  PointHistory history_;
  ReviewRules rules_;
  Date today_{2026, 4, 2};
};

TEST_F(ReviewTest, ACleanReadFiresNoRule) {
  // 28 days; 300 kWh in 28 days before, 330 in 28 days now: 110 %.
  auto ev = Eval(Cand(R({{"total", "1330"}, {"peak", "800"}, {"valley", "530"}})));
  ASSERT_TRUE(ev.ok()) << ev.status().ToString();
  EXPECT_TRUE(ev->findings.empty()) << ev->findings.front().message;
  EXPECT_FALSE(ev->refused);
  EXPECT_EQ(ev->installation_id, 10);
  EXPECT_EQ(ev->first_day, (Date{2026, 2, 26}));
  EXPECT_EQ(ev->days, 28);
  ASSERT_TRUE(ev->consumption);
  EXPECT_EQ(*ev->consumption, Kwh("330"));
  ASSERT_EQ(ev->spans.size(), 1u);
  EXPECT_EQ(ev->spans[0].start.at("total"), Kwh("1000"));
  EXPECT_EQ(ev->spans[0].end.at("total"), Kwh("1330"));
  EXPECT_EQ(ev->spans[0].start_source, "read #1 2026-02-25");
}

TEST_F(ReviewTest, ZeroUse) {
  auto ev = Eval(Cand(R({{"total", "1000"}, {"peak", "600"}, {"valley", "400"}})));
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(Rules(*ev), std::vector<std::string>{"zero_use"});  // not also below_last_month
  rules_.flag_zero_use = false;
  ev = Eval(Cand(R({{"total", "1000"}, {"peak", "600"}, {"valley", "400"}})));
  ASSERT_TRUE(ev.ok());
  EXPECT_TRUE(ev->findings.empty());
}

TEST_F(ReviewTest, UseAgainstLastMonth) {
  // 610 kWh over 28 days against 300: 203 % > 200 %.
  auto ev = Eval(Cand(R({{"total", "1610"}, {"peak", "1000"}, {"valley", "610"}})));
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(Rules(*ev), std::vector<std::string>{"above_last_month"});
  EXPECT_NE(Message(*ev, "above_last_month").find("203%"), std::string::npos)
      << Message(*ev, "above_last_month");
  // 600 kWh is exactly 200 %: not above.
  ev = Eval(Cand(R({{"total", "1600"}, {"peak", "1000"}, {"valley", "600"}})));
  ASSERT_TRUE(ev.ok());
  EXPECT_TRUE(ev->findings.empty());
  // 80 kWh is 27 % < 30 %.
  ev = Eval(Cand(R({{"total", "1080"}, {"peak", "640"}, {"valley", "440"}})));
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(Rules(*ev), std::vector<std::string>{"below_last_month"});
  // Thresholds are configurable.
  rules_.below_last_month_pct = 20;
  ev = Eval(Cand(R({{"total", "1080"}, {"peak", "640"}, {"valley", "440"}})));
  ASSERT_TRUE(ev.ok());
  EXPECT_TRUE(ev->findings.empty());
  // A base below min_compare_use is not compared.
  history_.previous->consumption = Kwh("5");
  ev = Eval(Cand(R({{"total", "1610"}, {"peak", "1000"}, {"valley", "610"}})));
  ASSERT_TRUE(ev.ok());
  EXPECT_TRUE(ev->findings.empty());
}

TEST_F(ReviewTest, DailyAveragesMakePeriodsOfDifferentLengthComparable) {
  // Last period 600 kWh in 56 days (bimonthly); now 330 in 28 days: same daily use.
  history_.previous->consumption = Kwh("600");
  history_.previous->days = 56;
  auto ev = Eval(Cand(R({{"total", "1330"}, {"peak", "800"}, {"valley", "530"}})));
  ASSERT_TRUE(ev.ok());
  EXPECT_TRUE(ev->findings.empty());
}

TEST_F(ReviewTest, UseAgainstTheSameMonthLastYear) {
  history_.last_year = Past(0, {2025, 3}, {2025, 3, 25}, {}, "100", 28, 9);
  auto ev = Eval(Cand(R({{"total", "1330"}, {"peak", "800"}, {"valley", "530"}})));
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(Rules(*ev), std::vector<std::string>{"above_last_year"});
  EXPECT_NE(Message(*ev, "above_last_year").find("330%"), std::string::npos);
  history_.last_year->consumption = Kwh("2000");
  ev = Eval(Cand(R({{"total", "1330"}, {"peak", "800"}, {"valley", "530"}})));
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(Rules(*ev), std::vector<std::string>{"below_last_year"});
}

TEST_F(ReviewTest, BelowPreviousIsARolloverOnlyWithKnownDigitsAndASmallDifference) {
  // tariffs.md Example E: 6 integer digits, 999850.00 → 120.00 is 270.00 kWh.
  history_.installs[0].registers = {"total"};
  history_.previous->registers = R({{"total", "999850"}});
  history_.previous->consumption = Kwh("250");
  auto c = Cand(R({{"total", "120"}}));

  auto refused = Eval(c);  // digits unknown
  ASSERT_TRUE(refused.ok());
  EXPECT_TRUE(refused->refused);
  EXPECT_TRUE(Has(*refused, "below_previous"));
  EXPECT_NE(Message(*refused, "below_previous").find("digits are unknown"), std::string::npos);
  EXPECT_FALSE(refused->consumption);

  history_.installs[0].register_integer_digits = 6;
  auto accepted = Eval(c);
  ASSERT_TRUE(accepted.ok());
  EXPECT_FALSE(accepted->refused);
  EXPECT_TRUE(accepted->findings.empty()) << accepted->findings.front().message;
  EXPECT_EQ(accepted->rollover, std::vector<std::string>{"total"});
  EXPECT_EQ(*accepted->consumption, Kwh("270"));

  // 500000 → 100 would be 500100 kWh: not under 10 % of the range.
  history_.previous->registers = R({{"total", "500000"}});
  auto large = Eval(c);
  ASSERT_TRUE(large.ok());
  EXPECT_TRUE(large->refused);
  EXPECT_NE(Message(*large, "below_previous").find("not under 10%"), std::string::npos)
      << Message(*large, "below_previous");
}

TEST_F(ReviewTest, RegisterDifference) {
  bool rolled = false;
  EXPECT_EQ(RegisterDifference(Kwh("999850"), Kwh("120"), 6, &rolled), Kwh("270"));
  EXPECT_TRUE(rolled);
  EXPECT_EQ(RegisterDifference(Kwh("10"), Kwh("12.5"), 0, &rolled), Kwh("2.5"));
  EXPECT_FALSE(rolled);
  EXPECT_FALSE(RegisterDifference(Kwh("12"), Kwh("10"), 0, &rolled));
  // 99990 → 9990 on 5 digits is 10000 kWh: exactly 10 %, not under it.
  EXPECT_FALSE(RegisterDifference(Kwh("99990"), Kwh("9990"), 5, &rolled));
  EXPECT_EQ(RegisterDifference(Kwh("99990"), Kwh("9989.99"), 5, &rolled), Kwh("9999.99"));
  // A reading beyond the digits: the digits are wrong, no rollover.
  EXPECT_FALSE(RegisterDifference(Kwh("1999850"), Kwh("120"), 6, &rolled));
}

TEST_F(ReviewTest, AReplacementInThePeriodSplitsItIntoSpans) {
  // tariffs.md Example E: old 5230 → removed at 5310 (×1), new installed at 0, read 145 → 225.
  history_.installs[0].registers = {"total"};
  history_.previous->registers = R({{"total", "5230"}});
  history_.previous->consumption = Kwh("220");
  int64_t swap = zone_.StartOfDay(Date{2026, 3, 14}) + 9 * 3600 * kMicrosPerSecond;
  history_.installs[0].removed_at_us = swap;
  history_.installs[0].remove_readings = R({{"total", "5310"}});
  MeterInstall fresh;
  fresh.id = 11;
  fresh.meter_asset_no = "M-NEW";
  fresh.registers = {"total"};
  fresh.multiplier = 1;
  fresh.installed_at_us = swap;
  fresh.install_reason = "replacement";
  fresh.install_readings = R({{"total", "0"}});
  history_.installs.push_back(fresh);

  auto ev = Eval(Cand(R({{"total", "145"}})));
  ASSERT_TRUE(ev.ok()) << ev.status().ToString();
  EXPECT_EQ(ev->installation_id, 11);
  ASSERT_EQ(ev->spans.size(), 2u);
  EXPECT_EQ(ev->spans[0].meter_asset_no, "M-OLD");
  EXPECT_EQ(ev->spans[0].start.at("total"), Kwh("5230"));
  EXPECT_EQ(ev->spans[0].end.at("total"), Kwh("5310"));
  EXPECT_EQ(ev->spans[0].end_source, "remove 2026-03-14");
  EXPECT_EQ(ev->spans[1].meter_asset_no, "M-NEW");
  EXPECT_EQ(ev->spans[1].start.at("total"), Kwh("0"));
  EXPECT_EQ(ev->spans[1].start_source, "install 2026-03-14");
  EXPECT_EQ(*ev->consumption, Kwh("225"));
  EXPECT_EQ(Rules(*ev), std::vector<std::string>{"meter_replaced"});
  EXPECT_NE(Message(*ev, "meter_replaced").find("M-OLD replaced by M-NEW"), std::string::npos);

  // A new meter's multiplier applies to its own span: 80 × 1 + 145 × 40.
  history_.installs[1].multiplier = 40;
  ev = Eval(Cand(R({{"total", "145"}})));
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(*ev->consumption, Kwh("5880"));

  // Without a previous read: back through the same-instant replacement to the installation.
  history_.previous.reset();
  history_.recent.clear();
  Date first;
  auto spans = BuildSpans(history_.installs, nullptr, {2026, 3, 25}, R({{"total", "145"}}), "read",
                          zone_, &first);
  ASSERT_TRUE(spans.ok()) << spans.status().ToString();
  ASSERT_EQ(spans->size(), 2u);
  EXPECT_EQ((*spans)[0].start.at("total"), Kwh("0"));
  EXPECT_EQ((*spans)[0].start_source, "install 2026-01-10");
  EXPECT_EQ(first, (Date{2026, 1, 10}));
}

TEST_F(ReviewTest, TouRegistersAgainstTheTotal) {
  // total +330, peak +200, valley +120: 10 kWh missing, tolerance 0.02 kWh.
  auto ev = Eval(Cand(R({{"total", "1330"}, {"peak", "800"}, {"valley", "520"}})));
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(Rules(*ev), std::vector<std::string>{"tou_mismatch"});
  EXPECT_NE(Message(*ev, "tou_mismatch").find("add up to 320.00 kWh"), std::string::npos)
      << Message(*ev, "tou_mismatch");
  // 0.02 kWh off with two TOU registers: within the resolution.
  ev = Eval(Cand(R({{"total", "1330"}, {"peak", "800"}, {"valley", "529.98"}})));
  ASSERT_TRUE(ev.ok());
  EXPECT_TRUE(ev->findings.empty());
  ev = Eval(Cand(R({{"total", "1330"}, {"peak", "800"}, {"valley", "529.97"}})));
  ASSERT_TRUE(ev.ok());
  EXPECT_TRUE(Has(*ev, "tou_mismatch"));
}

TEST_F(ReviewTest, MultiplierAndEarlierReviewFlags) {
  auto c = Cand(R({{"total", "1330"}, {"peak", "800"}, {"valley", "530"}}));
  c.source = "frozen";
  c.frozen_multiplier = 40;
  history_.earlier_unreviewed = true;
  auto ev = Eval(c);
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(Rules(*ev), (std::vector<std::string>{"multiplier_changed", "previous_unreviewed"}));
}

TEST_F(ReviewTest, ReadsThatCannotBeStored) {
  auto future =
      Eval(Cand(R({{"total", "1330"}, {"peak", "800"}, {"valley", "530"}}), {2026, 4, 3}));
  EXPECT_EQ(future.status().field(), "read_date");
  EXPECT_NE(future.status().message().find("in the future"), std::string::npos);
  auto before_previous = Eval(Cand(R({{"total", "1330"}}), {2026, 2, 25}));
  EXPECT_EQ(before_previous.status().field(), "read_date");
  EXPECT_NE(before_previous.status().message().find("not after the previous approved read #1"),
            std::string::npos);
  auto missing = Eval(Cand(R({{"total", "1330"}, {"peak", "800"}})));
  EXPECT_EQ(missing.status().field(), "registers.valley");
  auto unknown =
      Eval(Cand(R({{"total", "1330"}, {"peak", "800"}, {"valley", "530"}, {"flat", "1"}})));
  EXPECT_EQ(unknown.status().field(), "registers.flat");
  EXPECT_NE(unknown.status().message().find("M-OLD has no register flat"), std::string::npos);
  history_.installs[0].removed_at_us = zone_.StartOfDay(Date{2026, 3, 1});
  history_.installs[0].remove_readings = R({{"total", "1100"}, {"peak", "660"}, {"valley", "440"}});
  auto no_meter = Eval(Cand(R({{"total", "1330"}, {"peak", "800"}, {"valley", "530"}})));
  EXPECT_NE(no_meter.status().message().find("no meter was installed"), std::string::npos);
  auto c = Cand(R({{"total", "1330"}, {"peak", "800"}, {"valley", "530"}}));
  c.period = {2026, 6};
  auto far = Eval(c);
  EXPECT_EQ(far.status().field(), "read_date");
  EXPECT_NE(far.status().message().find("too far from period 2026-06"), std::string::npos);
}

TEST_F(ReviewTest, EstimateFromRecentPeriodsOrLastYear) {
  // Recent: 300 kWh/28 days and 310/31 days → 610/59 per day; 28 days → 289.49 kWh.
  history_.recent.push_back(Past(0, {2026, 1}, {2026, 1, 28}, {}, "310", 31));
  std::string basis;
  auto regs = EstimateRegisters(history_, rules_, {2026, 3, 25}, zone_, &basis);
  ASSERT_TRUE(regs.ok()) << regs.status().ToString();
  EXPECT_EQ(regs->at("total"), Kwh("1289.4915"));  // 610 × 28 / 59 = 289.49152…
  // Shared like the registers so far (peak 60 %, valley 40 %), adding up to the total.
  EXPECT_EQ(regs->at("peak") + regs->at("valley") - Kwh("1000"), regs->at("total") - Kwh("1000"));
  EXPECT_EQ(regs->at("peak"), Kwh("773.6949"));
  EXPECT_NE(basis.find("the last 2 approved periods (59 days)"), std::string::npos) << basis;

  // Estimated reads are flagged.
  ReadCandidate c = Cand(*regs);
  c.source = "estimate";
  c.estimate_basis = basis;
  auto ev = Eval(c);
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(Rules(*ev), std::vector<std::string>{"estimated"});

  // The same month last year first when configured (and an estimate is never a base).
  history_.last_year = Past(0, {2025, 3}, {2025, 3, 25}, {}, "560", 28, 9);
  rules_.estimate_method = "last_year";
  regs = EstimateRegisters(history_, rules_, {2026, 3, 25}, zone_, &basis);
  ASSERT_TRUE(regs.ok());
  EXPECT_EQ(regs->at("total"), Kwh("1560"));
  EXPECT_NE(basis.find("same month last year"), std::string::npos) << basis;
  history_.last_year->source = "estimate";
  regs = EstimateRegisters(history_, rules_, {2026, 3, 25}, zone_, &basis);
  EXPECT_EQ(regs->at("total"), Kwh("1289.4915"));

  // No history: zero use from the installation.
  history_.previous.reset();
  history_.recent.clear();
  history_.last_year.reset();
  regs = EstimateRegisters(history_, rules_, {2026, 3, 25}, zone_, &basis);
  ASSERT_TRUE(regs.ok());
  EXPECT_EQ(regs->at("total"), Kwh("0"));
  EXPECT_NE(basis.find("no approved history"), std::string::npos);
}

TEST(ReviewRulesTest, Checks) {
  ReviewRules r;
  EXPECT_TRUE(CheckReviewRules(r).ok());
  r.below_last_month_pct = 300;
  EXPECT_EQ(CheckReviewRules(r).field(), "below_last_month_pct");
  r = ReviewRules();
  r.estimate_method = "guess";
  EXPECT_EQ(CheckReviewRules(r).field(), "estimate_method");
  r = ReviewRules();
  r.estimate_periods = 0;
  EXPECT_EQ(CheckReviewRules(r).field(), "estimate_periods");
}

TEST(ReviewKeysTest, DaysAndPeriods) {
  EXPECT_EQ(DayKey(Date{2026, 3, 25}), 20260325);
  EXPECT_EQ(DayFromKey(20260325), (Date{2026, 3, 25}));
  EXPECT_EQ(PeriodKey(YearMonth{2026, 3}), 202603);
  EXPECT_EQ(PeriodFromKey(202612), (YearMonth{2026, 12}));
  EXPECT_EQ(AddMonths(YearMonth{2026, 1}, -13), (YearMonth{2024, 12}));
  EXPECT_EQ(AddMonths(YearMonth{2026, 11}, 3), (YearMonth{2027, 2}));
}

}  // namespace
}  // namespace gridmis::reading
