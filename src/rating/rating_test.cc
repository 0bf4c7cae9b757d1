// Unit tests of the rating engine's rules, edges and errors (the worked examples of tariffs.md
// §13 are the golden files in tests/data/rating/).
#include "rating/rating.h"

#include <gtest/gtest.h>

#include "rating/json.h"

namespace gridmis::rating {
namespace {

using nlohmann::json;

std::shared_ptr<const TariffCatalogue> Catalogue(const std::string& province) {
  auto c = TariffCatalogue::Load(province);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? *c : nullptr;
}

Energy Kwh(const char* s) { return *Energy::ParseKwh(s); }

// A single-meter input with the given register advances (start at 0).
RatingInput Input(const std::string& tariff, const std::string& period,
                  std::map<std::string, Energy> end) {
  RatingInput in;
  in.metering_point_code = "T1";
  in.period = *YearMonth::Parse(period);
  in.first_day = in.period.FirstDay();
  in.last_day = in.period.LastDay();
  in.tariff_code = tariff;
  MeterSpan m;
  m.meter_asset_no = "M1";
  m.register_integer_digits = 8;
  for (const auto& [k, v] : end) {
    if (k != "max_demand") m.start[k] = Energy();
  }
  m.end = std::move(end);
  in.meters.push_back(std::move(m));
  return in;
}

Money Yuan(const char* s) { return *Money::ParseYuan(s); }

const BillLine* FindLine(const RatedBill& b, std::string_view kind, int tier = -1) {
  for (const auto& l : b.lines) {
    if (l.kind == kind && (tier < 0 || l.tier == tier)) return &l;
  }
  return nullptr;
}

// ---- Residential tiers ----

TEST(RateTest, TierBoundaryKwhIsStillTheLowerTier) {
  auto zj = Catalogue("zhejiang");
  // C0 2700 + 60 = 2760: the 2760th kWh is tier 1 (≤ convention, §2.3).
  auto in = Input("residential_lv", "2026-05", {{"total", Kwh("60")}});
  in.tier_cumulative_kwh = 2700;
  auto b = Rate(in, *zj);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->tier_kwh[0], 60);
  EXPECT_EQ(b->tier_kwh[1], 0);
  ASSERT_EQ(b->lines.size(), 1u);
  EXPECT_EQ(b->total, Yuan("32.28"));  // 60 × 0.538
  // One more kWh goes to tier 2.
  in.meters[0].end["total"] = Kwh("61");
  b = Rate(in, *zj);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->tier_kwh[0], 60);
  EXPECT_EQ(b->tier_kwh[1], 1);
  EXPECT_EQ(b->total, Yuan("32.87"));  // 32.28 + 0.588 → 0.59
  EXPECT_EQ(b->tier_cumulative_after_kwh, 2761);
}

TEST(RateTest, ResidentialEnergyIsRoundedToWholeKwhHalfUp) {
  auto zj = Catalogue("zhejiang");
  auto in = Input("residential_lv", "2026-05", {{"total", Kwh("100.50")}});
  auto b = Rate(in, *zj);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->billed_kwh, 101);
  EXPECT_EQ(b->lines[0].quantity, (Decimal{101, 0}));
  in.meters[0].end["total"] = Kwh("100.49");
  b = Rate(in, *zj);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->billed_kwh, 100);
}

TEST(RateTest, HouseholdMultiplierEnlargesEveryBound) {
  auto zj = Catalogue("zhejiang");
  auto in = Input("residential_lv", "2026-05", {{"total", Kwh("3000")}});
  in.household_multiplier = 2;  // 5520 / 9600
  auto b = Rate(in, *zj);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->tier_bounds_kwh[0], 5520);
  EXPECT_EQ(b->tier_kwh[0], 3000);
  EXPECT_EQ(b->tier_kwh[1], 0);
}

TEST(RateTest, TierProrationByDaysUsesTheLeapYear) {
  auto c = TariffCatalogue::FromTexts({{"d.toml", R"(
province = "days"
name = "days proration"
[policies]
tier_proration = "days"
[tariffs.res]
name_zh = "居民"
category = "residential"
voltage = "lv"
[[tariffs.res.versions]]
effective_from = "2020-01-01"
pricing = "flat"
funds_included = true
label = "I"
tiers = { cycle = "year", bounds = [2760, 4800], prices = ["0.538", "0.588", "0.838"] }
)"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto in = Input("res", "2028-03", {{"total", Kwh("10")}});
  in.tier_days_in_service = 183;  // 2028 has 366 days: 2760 × 183/366 = 1380
  auto b = Rate(in, **c);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->tier_bounds_kwh[0], 1380);
  EXPECT_EQ(b->tier_bounds_kwh[1], 2400);
  in.period = *YearMonth::Parse("2027-03");  // 365 days: 2760 × 183/365 = 1383.78 → 1384
  b = Rate(in, **c);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->tier_bounds_kwh[0], 1384);
}

TEST(RateTest, MonthlySeasonalTiers) {
  auto gd = Catalogue("guangdong");
  // July: 260 / 600; 700 kWh → 260 / 340 / 100.
  auto in = Input("residential_lv", "2026-07", {{"total", Kwh("700")}});
  auto b = Rate(in, *gd);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->tier_kwh[0], 260);
  EXPECT_EQ(b->tier_kwh[1], 340);
  EXPECT_EQ(b->tier_kwh[2], 100);
  // 260 × 0.6087 + 340 × 0.6587 + 100 × 0.9087 = 158.26 + 223.96 + 90.87
  EXPECT_EQ(b->total, Yuan("473.09"));
  // January: 200 / 400.
  in.period = *YearMonth::Parse("2026-01");
  b = Rate(in, *gd);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->tier_kwh[0], 200);
  EXPECT_EQ(b->tier_kwh[1], 200);
  EXPECT_EQ(b->tier_kwh[2], 300);
}

TEST(RateTest, FreeAllowanceComesOffTierOneEnergy) {
  auto zj = Catalogue("zhejiang");
  auto in = Input("residential_lv", "2026-05", {{"total", Kwh("100")}});
  in.free_allowance_kwh = 15;
  auto b = Rate(in, *zj);
  ASSERT_TRUE(b.ok());
  const BillLine* f = FindLine(*b, "free_allowance");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->amount, Yuan("-8.07"));  // 15 × 0.538
  EXPECT_EQ(b->total, Yuan("45.73"));   // 53.80 − 8.07
  // Never more than the tier-1 energy.
  in.meters[0].end["total"] = Kwh("10");
  b = Rate(in, *zj);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->total, Yuan("0.00"));
}

TEST(RateTest, TouTiersWithTheFreeAllowanceByPeriodShare) {
  auto zj = Catalogue("zhejiang");
  auto in = Input("residential_tou_lv", "2026-05",
                  {{"total", Kwh("100")}, {"peak", Kwh("60")}, {"valley", Kwh("40")}});
  in.free_allowance_kwh = 10;  // 6 peak + 4 valley
  auto b = Rate(in, *zj);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  // 60 × 0.568 + 40 × 0.288 − 6 × 0.568 − 4 × 0.288 = 34.08 + 11.52 − 3.41 − 1.15
  EXPECT_EQ(b->total, Yuan("41.04"));
}

// ---- Registers ----

TEST(RateTest, RegisterDifference) {
  auto d = RegisterDifference(Kwh("999850"), Kwh("120"), 6, "r");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, Kwh("270"));
  EXPECT_FALSE(RegisterDifference(Kwh("999850"), Kwh("120"), 0, "r").ok());
  // 10 % of a 6-digit register is 100,000 kWh: refused at and above.
  EXPECT_FALSE(RegisterDifference(Kwh("950000"), Kwh("50000"), 6, "r").ok());
  EXPECT_TRUE(RegisterDifference(Kwh("950000"), Kwh("49999.99"), 6, "r").ok());
  auto e = RegisterDifference(Kwh("10"), Kwh("5"), 0, "register total of meter M9");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("register total of meter M9"), std::string::npos);
  EXPECT_NE(e.status().message().find("5.00 below previous 10.00"), std::string::npos);
}

TEST(RateTest, PeriodRegistersWithinToleranceGiveTheRemainderToFlat) {
  auto nmg = Catalogue("nmg_west");
  // Σ periods 99.98 vs total 100.00: 0.02 ≤ 3 registers × 0.01.
  auto in = Input("commercial_lv", "2026-04",
                  {{"total", Kwh("100.00")},
                   {"peak", Kwh("30")},
                   {"flat", Kwh("40")},
                   {"valley", Kwh("29.98")}});
  auto b = Rate(in, *nmg);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->energy.billed.at("flat"), Kwh("40.02"));
  EXPECT_EQ(b->energy.billed.at("total"), Kwh("100"));
  // 0.05 is beyond the tolerance: refused.
  in.meters[0].end["valley"] = Kwh("29.95");
  auto bad = Rate(in, *nmg);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("beyond the tolerance"), std::string::npos);
}

TEST(RateTest, TouTariffWithoutPeriodRegistersIsRefused) {
  auto nmg = Catalogue("nmg_west");
  auto b = Rate(Input("commercial_lv", "2026-04", {{"total", Kwh("100")}}), *nmg);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("no period registers"), std::string::npos);
}

TEST(RateTest, SharpEnergyOutsideTheSharpSeasonIsRefused) {
  auto nmg = Catalogue("nmg_west");
  // 蒙西 prices 尖峰 only in Jun–Aug.
  auto in = Input("commercial_lv", "2026-04",
                  {{"total", Kwh("100")},
                   {"sharp", Kwh("10")},
                   {"peak", Kwh("30")},
                   {"flat", Kwh("30")},
                   {"valley", Kwh("30")}});
  auto b = Rate(in, *nmg);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("no sharp price in month 4"), std::string::npos);
  in.period = *YearMonth::Parse("2026-07");
  in.first_day = in.period.FirstDay();
  in.last_day = in.period.LastDay();
  b = Rate(in, *nmg);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  // Calm season: peak 0.58 × 1.54 = 0.8932, sharp 0.8932 × 1.2 = 1.07184 → 1.0718.
  EXPECT_EQ(FindLine(*b, "energy")->unit_price, (Decimal{107180000, 8}));
}

TEST(RateTest, SharpEnergyRecordedInTheSeasonBeforeTakesThatSeasonsPrice) {
  auto nmg = Catalogue("nmg_west");
  // A September bill read from 10 August: the sharp register advanced in August's days.
  auto in = Input("commercial_lv", "2026-09",
                  {{"total", Kwh("100")},
                   {"sharp", Kwh("10")},
                   {"peak", Kwh("30")},
                   {"flat", Kwh("30")},
                   {"valley", Kwh("30")}});
  in.first_day = *Date::Parse("2026-08-11");
  in.last_day = *Date::Parse("2026-09-10");
  auto b = Rate(in, *nmg);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  const BillLine* sharp = nullptr;
  for (const auto& l : b->lines) {
    if (l.kind == "energy" && l.period_code == "sharp") sharp = &l;
  }
  ASSERT_NE(sharp, nullptr);
  EXPECT_EQ(sharp->unit_price, (Decimal{107180000, 8}));  // August's (calm season) sharp price
  EXPECT_NE(sharp->rule.find("season of month 8"), std::string::npos) << sharp->rule;
  // Read within September only: still refused.
  in.first_day = *Date::Parse("2026-09-01");
  EXPECT_FALSE(Rate(in, *nmg).ok());
}

TEST(RateTest, AdjustmentAndRefundGoToTheBill) {
  auto zj = Catalogue("zhejiang");
  auto in = Input("residential_combined_lv", "2026-05", {{"total", Kwh("100")}});
  in.adjustment = Kwh("-20");
  in.refund_energy = Kwh("5");
  auto b = Rate(in, *zj);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->billed_kwh, 85);
  in.adjustment = Kwh("-200");
  EXPECT_FALSE(Rate(in, *zj).ok());
}

// ---- Two-part tariff ----

RatingInput LargeIndustry(const char* md_kw) {
  auto in = Input("large_industry_10kv", "2026-03",
                  {{"total", Kwh("100000")},
                   {"peak", Kwh("30000")},
                   {"flat", Kwh("40000")},
                   {"valley", Kwh("30000")},
                   {"reactive_import", Kwh("30000")},
                   {"max_demand", Kwh(md_kw)}});
  in.basic_mode = BasicChargeMode::kDeclaredDemand;
  in.capacity_kva = 2000;
  in.declared_demand_kw = 1200;
  in.pf_standard = "0.90";
  return in;
}

TEST(RateTest, DeclaredDemandFloorIsFortyPercentOfCapacity) {
  auto gd = Catalogue("guangdong");
  auto in = LargeIndustry("500");
  in.declared_demand_kw = 300;  // below 40 % of 2000 = 800
  auto b = Rate(in, *gd);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  const BillLine* d = FindLine(*b, "basic_demand");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->quantity, (Decimal{800, 0}));
  EXPECT_EQ(d->amount, Yuan("28880.00"));  // 800 × 36.1
  EXPECT_EQ(FindLine(*b, "basic_overage"), nullptr);
}

TEST(RateTest, DeclaredDemandAtExactly105PercentHasNoOverage) {
  auto gd = Catalogue("guangdong");
  auto b = Rate(LargeIndustry("1260"), *gd);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(FindLine(*b, "basic_overage"), nullptr);
  EXPECT_EQ(b->basic_charge, Yuan("43320.00"));  // Dc × p
  b = Rate(LargeIndustry("1260.0001"), *gd);
  ASSERT_TRUE(b.ok());
  ASSERT_NE(FindLine(*b, "basic_overage"), nullptr);
}

TEST(RateTest, DemandBillingWithoutDeclaredDemandIsRefused) {
  auto gd = Catalogue("guangdong");
  auto in = LargeIndustry("1000");
  in.declared_demand_kw.reset();
  auto b = Rate(in, *gd);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().message(), "declared demand is required for demand billing");
  EXPECT_EQ(b.status().field(), "declared_demand_kw");
  in = LargeIndustry("1000");
  in.basic_mode = BasicChargeMode::kNone;
  b = Rate(in, *gd);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), StatusCode::kFailedPrecondition);
}

TEST(RateTest, ActualDemandAndTheHighUtilisationDiscount) {
  auto gd = Catalogue("guangdong");
  auto in = LargeIndustry("1000");
  in.basic_mode = BasicChargeMode::kActualDemand;
  auto b = Rate(in, *gd);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->basic_charge, Yuan("36100.00"));
  // 100,000 kWh on 300 kVA = 333 kWh/kVA ≥ 260: demand price × 0.9 = 32.49.
  in.capacity_kva = 300;
  b = Rate(in, *gd);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(FindLine(*b, "basic_demand")->unit_price, (Decimal{3249000000, 8}));
  EXPECT_EQ(b->basic_charge, Yuan("32490.00"));
}

TEST(RateTest, SuspensionDaysAreNotCharged) {
  auto gd = Catalogue("guangdong");
  auto in = LargeIndustry("1000");
  in.basic_mode = BasicChargeMode::kCapacity;
  in.suspensions.push_back({*Date::Parse("2026-03-01"), *Date::Parse("2026-03-10")});
  auto b = Rate(in, *gd);
  ASSERT_TRUE(b.ok());
  const BillLine* c = FindLine(*b, "basic_capacity");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->days, 21);  // 31 − 10
  EXPECT_EQ(c->days_base, 30);
  EXPECT_EQ(c->amount, Yuan("31640.00"));  // 2000 × 22.6 × 21/30
  // Sealed all month: no basic charge line at all.
  in.suspensions = {{*Date::Parse("2026-02-20"), *Date::Parse("2026-04-05")}};
  b = Rate(in, *gd);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(FindLine(*b, "basic_capacity"), nullptr);
}

TEST(RateTest, LeapFebruaryWholeMonthIsTheWholeChargeAndPartDaysAreOverThirty) {
  auto gd = Catalogue("guangdong");
  auto in = LargeIndustry("1000");
  in.basic_mode = BasicChargeMode::kCapacity;
  in.period = *YearMonth::Parse("2028-02");  // 29 days
  in.first_day = in.period.FirstDay();
  in.last_day = in.period.LastDay();
  auto b = Rate(in, *gd);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->basic_charge, Yuan("45200.00"));
  EXPECT_EQ(FindLine(*b, "basic_capacity")->days_base, 0);
  in.service_end = *Date::Parse("2028-02-28");  // 28 of 29 days → × 28/30
  b = Rate(in, *gd);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->basic_charge, Yuan("42186.67"));
}

// ---- Power factor ----

TEST(RateTest, PowerFactorIsDecidedExactly) {
  EXPECT_EQ(PowerFactor(Kwh("95000"), Kwh("31130")), (Decimal{95, 2}));
  EXPECT_EQ(PowerFactor(Kwh("95000"), Kwh("34620")), (Decimal{94, 2}));
  EXPECT_EQ(PowerFactor(Kwh("100"), Kwh("0")), (Decimal{100, 2}));
  EXPECT_EQ(PowerFactor(Kwh("0"), Kwh("100")), (Decimal{0, 2}));
  // Exactly 0.945 rounds up: P = 945, S = 1000 → Q = √(1000² − 945²) is not whole, so use
  // 3-4-5 style: P 0.6, Q 0.8 → exactly 0.60.
  EXPECT_EQ(PowerFactor(Kwh("6"), Kwh("8")), (Decimal{60, 2}));
  EXPECT_FALSE(PowerFactorAdjustment(Decimal{90, 2}, "0.95").ok());
}

TEST(RateTest, ReverseReactiveCountsAsItsAbsoluteValue) {
  auto gd = Catalogue("guangdong");
  auto in = LargeIndustry("1000");
  in.meters[0].start["reactive_export"] = Energy();
  in.meters[0].end["reactive_export"] = Kwh("20000");
  auto b = Rate(in, *gd);
  ASSERT_TRUE(b.ok());
  // Q = 30,000 + 20,000 → 100,000 / √(100,000² + 50,000²) = 0.894 → 0.89
  EXPECT_EQ(*b->power_factor, (Decimal{89, 2}));
  EXPECT_EQ(*b->pf_adjust_rate, (Decimal{50, 4}));  // +0.5 %
}

TEST(RateTest, MissingPowerFactorStandardIsRefused) {
  auto nmg = Catalogue("nmg_west");
  auto in = Input("other_lv", "2026-04", {{"total", Kwh("100")}});
  in.capacity_kva = 160;
  auto b = Rate(in, *nmg);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(b.status().field(), "pf_standard");
  in.capacity_kva = 80;  // below 100 kVA: not assessed
  EXPECT_TRUE(Rate(in, *nmg).ok());
  // A standard without reactive registers cannot be computed.
  in.capacity_kva = 160;
  in.pf_standard = "0.85";
  b = Rate(in, *nmg);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("reactive"), std::string::npos);
}

// ---- Losses ----

TEST(RateTest, TransformerLossWithoutReactiveMeterAssumesPf08) {
  auto nmg = Catalogue("nmg_west");
  auto in = Input("commercial_10kv", "2026-04",
                  {{"total", Kwh("150000")},
                   {"peak", Kwh("50000")},
                   {"flat", Kwh("60000")},
                   {"valley", Kwh("40000")}});
  in.capacity_kva = 80;
  TransformerLossConfig t;
  t.rated_kva = 630;
  t.no_load_loss_kw = Decimal{81, 2};
  t.load_loss_kw = Decimal{62, 1};
  t.no_load_current_pct = Decimal{6, 1};
  t.impedance_voltage_pct = Decimal{45, 1};
  in.transformer = t;
  auto b = Rate(in, *nmg);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  // ΔA = 583.2 + 6.2 × (150,000 / 0.8)² / (720 × 630²) = 583.2 + 762.75 = 1345.95 → 1346
  EXPECT_EQ(b->energy.transformer_active_loss, Kwh("1346"));
  EXPECT_EQ(b->energy.transformer_reactive_loss, Energy());
}

TEST(RateTest, TransformerLossByTable) {
  auto nmg = Catalogue("nmg_west");
  auto in = Input("other_lv", "2026-04", {{"total", Kwh("50000")}});
  TransformerLossConfig t;
  t.method = TransformerLossConfig::Method::kTable;
  t.rated_kva = 630;
  t.loss_table = "s11_630_two_shift";
  t.shift_load_kwh = 100000;  // load ratio 50,000 / 100,000 + 0.05 = 0.55 → 0.6 row
  in.transformer = t;
  auto b = Rate(in, *nmg);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->energy.transformer_active_loss, Kwh("1654"));
  EXPECT_EQ(b->billed_kwh, 51654);
  // No consumption: the no-load row prorated by days (30/30 here).
  in.meters[0].end["total"] = Energy();
  b = Rate(in, *nmg);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->energy.transformer_active_loss, Kwh("583"));
  in.transformer->loss_table = "nope";
  EXPECT_EQ(Rate(in, *nmg).status().code(), StatusCode::kFailedPrecondition);
}

TEST(RateTest, LineLossByAgreedRate) {
  auto nmg = Catalogue("nmg_west");
  auto in = Input("other_lv", "2026-04", {{"total", Kwh("10000")}});
  in.line_loss_rate = Decimal{2, 2};
  auto b = Rate(in, *nmg);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->energy.line_loss, Kwh("200"));
  EXPECT_EQ(b->billed_kwh, 10200);
}

// ---- Errors ----

TEST(RateTest, UnknownTariffAndTariffNotInForce) {
  auto nmg = Catalogue("nmg_west");
  auto b = Rate(Input("nope", "2026-04", {{"total", Kwh("1")}}), *nmg);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), StatusCode::kNotFound);
  EXPECT_NE(b.status().message().find("'nope'"), std::string::npos);
  b = Rate(Input("commercial_lv", "2020-04", {{"total", Kwh("1")}}), *nmg);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("no version in force on 2020-04-01"), std::string::npos);
}

TEST(RateTest, SubAllocationsCannotExceedThePoint) {
  auto nmg = Catalogue("nmg_west");
  auto in = Input("other_lv", "2026-04", {{"total", Kwh("100")}});
  in.sub_allocations.push_back({"agricultural_lv", Decimal{6, 1}, std::nullopt, "a"});
  in.sub_allocations.push_back({"agricultural_lv", Decimal{6, 1}, std::nullopt, "b"});
  auto b = Rate(in, *nmg);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("sub-allocations"), std::string::npos);
  // Carving out a tiered residential share is refused.
  in.sub_allocations = {{"residential_lv", Decimal{1, 1}, std::nullopt, "宿舍"}};
  EXPECT_FALSE(Rate(in, *nmg).ok());
}

TEST(RateTest, MissingStartReadingIsNamed) {
  auto nmg = Catalogue("nmg_west");
  auto in = Input("other_lv", "2026-04", {{"total", Kwh("100")}});
  in.meters[0].end["peak"] = Kwh("5");
  auto b = Rate(in, *nmg);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().field(), "meters[0].start.peak");
}

// ---- The JSON form ----

TEST(RatingJsonTest, UnknownAndBadFieldsNameTheirPath) {
  json j = {{"period", "2026-04"},
            {"tariff_code", "other_lv"},
            {"meters", {{{"start", {{"total", "0"}}}, {"end", {{"total", "1"}}}}}}};
  ASSERT_TRUE(RatingInputFromJson(j).ok());
  json bad = j;
  bad["tarif_code"] = "x";
  auto r = RatingInputFromJson(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().field(), "tarif_code");
  bad = j;
  bad["meters"][0]["end"]["peak"] = 12.5;  // a float
  r = RatingInputFromJson(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().field(), "meters[0].end.peak");
  bad = j;
  bad["meters"][0]["end"]["pk"] = "1";
  r = RatingInputFromJson(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().field(), "meters[0].end.pk");
  bad = j;
  bad["meters"][0]["multipler"] = 2;
  r = RatingInputFromJson(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().field(), "meters[0].multipler");
  bad = j;
  bad["period"] = "2026-13";
  EXPECT_EQ(RatingInputFromJson(bad).status().field(), "period");
  bad = j;
  bad["sub_allocations"] = {{{"tariff_code", "x"}, {"ratio", "0.1"}, {"fixed_kwh", 5}}};
  EXPECT_EQ(RatingInputFromJson(bad).status().field(), "sub_allocations[0]");
  bad = j;
  bad["daily_total"] = {{"2026-04-31", "1"}};
  EXPECT_EQ(RatingInputFromJson(bad).status().field(), "daily_total.2026-04-31");
  EXPECT_FALSE(RatingInputFromJson(json::array()).ok());
}

TEST(RatingJsonTest, AmountsAndEnergiesAreDecimalStrings) {
  auto zj = Catalogue("zhejiang");
  auto b = Rate(Input("residential_lv", "2026-05", {{"total", Kwh("100")}}), *zj);
  ASSERT_TRUE(b.ok());
  json j = ToJson(*b);
  EXPECT_EQ(j["total"], "53.80");
  EXPECT_EQ(j["lines"][0]["quantity"], "100.0000");
  EXPECT_EQ(j["lines"][0]["unit_price"], "0.5380");
  EXPECT_EQ(j["energy"]["billed"]["total"], "100.0000");
  EXPECT_EQ(j["lines"][0]["description"], "第一档电度电费");
}

}  // namespace
}  // namespace gridmis::rating
