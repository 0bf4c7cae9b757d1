#include "rating/tariff.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/config.h"
#include "rating/json.h"

namespace gridmis::rating {
namespace {

Price P(const char* s) { return *Price::ParseYuan(s); }
Date D(const char* s) { return *Date::Parse(s); }

// A minimal valid catalogue; tests break one thing at a time.
constexpr const char* kMinimal = R"(province = "t"
name = "test"

[sources.s]
title = "fixture"
label = "I"

[tariffs.res]
name_zh = "居民"
category = "residential"
voltage = "lv"

[[tariffs.res.versions]]
effective_from = "2024-01-01"
pricing = "flat"
funds_included = true
sources = ["s"]
label = "I"
tiers = { cycle = "year", bounds = [2760, 4800], prices = ["0.538", "0.588", "0.838"] }
)";

Status Parse(const std::string& text) {
  return TariffCatalogue::FromTexts({{"t.toml", text}}).status();
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

TEST(TariffCatalogueTest, CompiledInCataloguesLoad) {
  for (const char* p : {"nmg_west", "guangdong", "zhejiang"}) {
    auto c = TariffCatalogue::Load(p);
    ASSERT_TRUE(c.ok()) << p << ": " << c.status().ToString();
    EXPECT_EQ((*c)->province(), p);
    EXPECT_FALSE((*c)->tariffs().empty());
  }
  EXPECT_EQ(TariffCatalogue::CompiledIn().size(), 3u);
  auto none = TariffCatalogue::Load("atlantis");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("nmg_west"), std::string::npos);
  EXPECT_FALSE(TariffCatalogue::Load("../etc/passwd").ok());
}

TEST(TariffCatalogueTest, NmgWestHasTheDemoCodes) {
  auto c = *TariffCatalogue::Load("nmg_west");
  for (const char* code : {"residential_lv", "commercial_lv", "commercial_10kv",
                           "large_industry_10kv", "agricultural_lv", "other_lv"}) {
    auto v = c->Find(code, D("2026-10-31"));
    ASSERT_TRUE(v.ok()) << code << ": " << v.status().ToString();
  }
  // The unverified residential figures say so.
  auto res = *c->Find("residential_lv", D("2026-01-01"));
  EXPECT_EQ(res->label, Verification::kThirdParty);
  EXPECT_NE(res->note.find("UNVERIFIED"), std::string::npos);
  EXPECT_EQ(res->tiers->bounds[0].upper_kwh[0], 2160);
  // 1630号: windy 1.68 : 1 : 0.48, calm 1.54 : 1 : 0.44 with sharp = peak × 1.2 and deep valley
  // = valley × 0.8 (base 0.4200 illustrative).
  auto li = *c->Find("large_industry_10kv", D("2026-01-01"));
  EXPECT_EQ(li->LabelOf("tou_base"), Verification::kIllustrative);
  EXPECT_EQ(li->LabelOf("tou_ratios"), Verification::kVerified);
  EXPECT_EQ(*li->PeriodPrice(TouPeriod::kPeak, 1), P("0.7056"));
  EXPECT_EQ(*li->PeriodPrice(TouPeriod::kValley, 1), P("0.2016"));
  EXPECT_FALSE(li->PeriodPrice(TouPeriod::kSharp, 1).has_value());
  EXPECT_EQ(*li->PeriodPrice(TouPeriod::kPeak, 7), P("0.6468"));
  EXPECT_EQ(*li->PeriodPrice(TouPeriod::kSharp, 7), P("0.7762"));       // 0.6468 × 1.2 = 0.77616
  EXPECT_EQ(*li->PeriodPrice(TouPeriod::kDeepValley, 7), P("0.1478"));  // 0.1848 × 0.8 = 0.14784
  const TouTable* t = c->FindTouTable("nmg_1630");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->PeriodAt(1, 7 * 60), TouPeriod::kPeak);
  EXPECT_EQ(t->PeriodAt(1, 12 * 60), TouPeriod::kValley);
  EXPECT_EQ(t->PeriodAt(7, 20 * 60), TouPeriod::kSharp);
  EXPECT_EQ(t->PeriodAt(7, 14 * 60), TouPeriod::kDeepValley);
  EXPECT_EQ(t->PeriodAt(7, 2 * 60), TouPeriod::kFlat);
}

TEST(TariffCatalogueTest, GuangdongDerivesSharpFromTheRoundedPeak) {
  auto c = *TariffCatalogue::Load("guangdong");
  auto v = *c->Find("large_industry_10kv", D("2026-03-01"));
  EXPECT_EQ(*v->PeriodPrice(TouPeriod::kFlat, 3), P("0.65"));
  EXPECT_EQ(*v->PeriodPrice(TouPeriod::kPeak, 3), P("1.105"));
  EXPECT_EQ(*v->PeriodPrice(TouPeriod::kValley, 3), P("0.247"));
  EXPECT_EQ(*v->PeriodPrice(TouPeriod::kSharp, 3), P("1.3813"));  // 1.38125 rounded
  EXPECT_EQ(*v->demand_price, P("36.1"));
  EXPECT_EQ(*v->capacity_price, P("22.6"));
  // Not in force before 2026-02.
  EXPECT_EQ(c->Find("large_industry_10kv", D("2026-01-31")).status().code(), StatusCode::kNotFound);
  ASSERT_EQ(c->funds().size(), 1u);
  EXPECT_EQ(c->funds()[0].rate, P("0.02766875"));
}

TEST(TariffCatalogueTest, PoliciesDefaultToTheReference) {
  auto c = TariffCatalogue::FromTexts({{"t.toml", kMinimal}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const Policy& p = (*c)->policy();
  EXPECT_EQ(p.tier_proration, TierProration::kMonths);
  EXPECT_EQ(p.demand_overage, DemandOverage::kStandard);
  EXPECT_EQ(p.late_fee.residential_daily_rate, (Decimal{1, 3}));
  EXPECT_EQ(p.late_fee.current_year_daily_rate, (Decimal{2, 3}));
  EXPECT_EQ(p.late_fee.cross_year_daily_rate, (Decimal{3, 3}));
  EXPECT_EQ(p.late_fee.minimum, Money::FromFen(100));
  EXPECT_TRUE(p.late_fee.count_payment_day);
  EXPECT_EQ(p.bill_due_days, 15);
  // And the shipped files set them explicitly.
  auto nmg = *TariffCatalogue::Load("nmg_west");
  EXPECT_EQ(nmg->policy().late_fee.cross_year_daily_rate, (Decimal{3, 3}));
  auto alt = TariffCatalogue::FromTexts(
      {{"t.toml", std::string(kMinimal) + "[policies]\ndemand_overage = \"alternative\"\n"
                                          "[policies.late_fee]\nminimum = \"0.50\"\n"
                                          "residential_waived = true\n"}});
  ASSERT_TRUE(alt.ok()) << alt.status().ToString();
  EXPECT_EQ((*alt)->policy().demand_overage, DemandOverage::kAlternative);
  EXPECT_EQ((*alt)->policy().late_fee.minimum, Money::FromFen(50));
  EXPECT_TRUE((*alt)->policy().late_fee.residential_waived);
}

TEST(TariffCatalogueTest, ErrorsNameFileLineKeyAndReason) {
  Status s = Parse(Replace(kMinimal, "bounds = [2760, 4800]", "bounds = [4800, 2760]"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "t.toml:19: tariffs.res.versions[0].tiers.bounds: must increase");

  s = Parse(Replace(kMinimal, "prices = [\"0.538\"", "prices = [0.538"));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("tariffs.res.versions[0].tiers.prices[0]"), std::string::npos);
  EXPECT_NE(s.message().find("not a float"), std::string::npos);

  s = Parse(Replace(kMinimal, "pricing = \"flat\"", "pricing = \"flat\"\npriec = \"1\""));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("tariffs.res.versions[0].priec: unknown key"), std::string::npos);

  s = Parse(Replace(kMinimal, "label = \"I\"\ntiers", "label = \"X\"\ntiers"));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("versions[0].label: must be one of V, T, M, I"), std::string::npos);

  s = Parse(Replace(kMinimal, "category = \"residential\"", "category = \"industrial\""));
  EXPECT_NE(s.message().find("tariffs.res.category"), std::string::npos);

  s = Parse(Replace(kMinimal, "sources = [\"s\"]", "sources = [\"nope\"]"));
  EXPECT_NE(s.message().find("no [sources.nope]"), std::string::npos);

  s = Parse(Replace(kMinimal, "province = \"t\"\n", ""));
  EXPECT_NE(s.message().find("t.toml:1: province: is required"), std::string::npos);

  s = Parse("province = \"t\"\nname = [\n");  // TOML syntax
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message().rfind("t.toml:", 0), 0u);
}

TEST(TariffCatalogueTest, VersionsMustNotOverlapAndCloseEachOther) {
  std::string two = std::string(kMinimal) + R"(
[[tariffs.res.versions]]
effective_from = "2026-03-16"
pricing = "flat"
price = "0.558"
funds_included = true
label = "I"
)";
  auto c = TariffCatalogue::FromTexts({{"t.toml", two}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ((*(*c)->Find("res", D("2026-03-15")))->id, "res@2024-01-01");
  EXPECT_EQ((*(*c)->Find("res", D("2026-03-16")))->id, "res@2026-03-16");
  auto covering = (*c)->VersionsCovering("res", D("2026-03-01"), D("2026-03-31"));
  ASSERT_TRUE(covering.ok());
  EXPECT_EQ(covering->size(), 2u);
  // An explicit end that overlaps the next version is an error.
  Status s = Parse(Replace(two, "effective_from = \"2024-01-01\"",
                           "effective_from = \"2024-01-01\"\neffective_to = \"2026-06-30\""));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("overlaps the previous version"), std::string::npos);
  // Out of order.
  s = Parse(Replace(two, "effective_from = \"2026-03-16\"", "effective_from = \"2020-01-01\""));
  EXPECT_NE(s.message().find("list versions in order"), std::string::npos);
}

TEST(TariffCatalogueTest, SeasonsAndPeriodTablesMustCoverTheYearAndTheDay) {
  std::string tou = R"(province = "t"
name = "test"
[tou_tables.x]
label = "I"
[[tou_tables.x.seasons]]
months = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
periods = [
  { from = "00:00", to = "08:00", period = "valley" },
  { from = "08:00", to = "24:00", period = "flat" },
]
)";
  Status s = Parse(tou);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("tou_tables.x.seasons: must cover every month"), std::string::npos);
  s = Parse(Replace(Replace(tou, "10, 11]", "10, 11, 12]"), "from = \"08:00\", to = \"24:00\"",
                    "from = \"09:00\", to = \"24:00\""));
  EXPECT_NE(s.message().find("must continue the previous range"), std::string::npos);
  EXPECT_TRUE(Parse(Replace(tou, "10, 11]", "10, 11, 12]")).ok());
}

TEST(TariffCatalogueTest, AConfiguredDirectoryReplacesTheCompiledInFile) {
  auto dir = std::filesystem::temp_directory_path() / "gridmis_tariff_dir_test";
  std::filesystem::create_directories(dir);
  {
    std::ofstream out(dir / "nmg_west.toml");
    out << Replace(kMinimal, "province = \"t\"", "province = \"nmg_west\"");
  }
  auto c = TariffCatalogue::Load("nmg_west", {dir.string()});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ((*c)->tariffs().size(), 1u);
  // Another province still comes from the binary.
  auto gd = TariffCatalogue::Load("guangdong", {dir.string()});
  ASSERT_TRUE(gd.ok());
  EXPECT_NE((*gd)->FindTariff("large_industry_10kv"), nullptr);
  // `tariff check`: one result per file, with the error of a bad one.
  {
    std::ofstream out(dir / "bad.toml");
    out << Replace(kMinimal, "bounds = [2760, 4800]", "bounds = [2760]");
  }
  auto results = TariffCatalogue::CheckPath(dir.string());
  ASSERT_EQ(results.size(), 2u);
  EXPECT_FALSE(results[0].status.ok());  // bad.toml sorts first
  EXPECT_NE(results[0].status.message().find("bad.toml:19: tariffs.res.versions[0].tiers.bounds"),
            std::string::npos)
      << results[0].status.message();
  EXPECT_TRUE(results[1].status.ok());
  EXPECT_FALSE(TariffCatalogue::Load("nmg_west", {(dir / "missing").string()}).ok());
  std::filesystem::remove_all(dir);
}

TEST(TariffCatalogueTest, TheShippedFilesPassTheCheck) {
  auto results = TariffCatalogue::CheckPath(GRIDMIS_TARIFF_DATA_DIR);
  ASSERT_EQ(results.size(), 3u);
  for (const auto& r : results) EXPECT_TRUE(r.status.ok()) << r.status.ToString();
}

TEST(TariffCatalogueTest, CatalogueJsonForTheConsole) {
  auto c = *TariffCatalogue::Load("guangdong");
  nlohmann::json j = ToJson(*c);
  EXPECT_EQ(j["province"], "guangdong");
  EXPECT_EQ(j["policies"]["late_fee"]["cross_year_daily_rate"], "0.003");
  bool found = false;
  for (const auto& t : j["tariffs"]) {
    if (t["code"] != "large_industry_10kv") continue;
    found = true;
    const auto& v = t["versions"][0];
    EXPECT_EQ(v["seasons"][0]["prices"]["sharp"]["price"], "1.3813");
    EXPECT_EQ(v["seasons"][0]["prices"]["sharp"]["derivation"], "1.1050 × 1.25");
    EXPECT_EQ(v["demand_price"], "36.1000");
    EXPECT_EQ(v["labels"]["tou_base"], "I");
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(j["tou_tables"][0]["seasons"][0]["periods"][0]["from"], "00:00");
}

TEST(BillingConfigTest, ProvinceAndTariffDirs) {
  auto c = ParseConfig("[billing]\nprovince = \"guangdong\"\ntariff_dirs = [\"/etc/gridmis\"]\n",
                       "g.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->billing_province, "guangdong");
  ASSERT_EQ(c->billing_tariff_dirs.size(), 1u);
  EXPECT_EQ(Config().billing_province, "nmg_west");
  auto bad = ParseConfig("[billing]\nprovence = \"x\"\n", "g.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("billing.provence"), std::string::npos);
  auto env = LoadConfig(std::nullopt, [](const char* n) -> const char* {
    return std::string(n) == "GRIDMIS_BILLING_PROVINCE" ? "zhejiang" : nullptr;
  });
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(env->billing_province, "zhejiang");
}

TEST(BillingConfigTest, PaymentUrlPrefixOfTheBillsQrCode) {
  auto c = ParseConfig("[billing]\npayment_url_prefix = \"https://95598.example.cn/pay?bill=\"\n",
                       "g.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->billing_payment_url_prefix, "https://95598.example.cn/pay?bill=");
  EXPECT_EQ(Config().billing_payment_url_prefix, "https://pay.gridmis.example/bill?no=");
  EXPECT_FALSE(ParseConfig("[billing]\npayment_url_prefix = 3\n", "g.toml").ok());
}

}  // namespace
}  // namespace gridmis::rating
