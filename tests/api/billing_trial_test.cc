// The trial calculation (電費試算) and the tariff catalogue over HTTP: a typed-in bill is rated
// with the configured province's catalogue (nmg_west by default) and nothing is saved; bad
// bodies answer 400 naming the field; the permissions are billing.trial and tariff.read.
#include <set>

#include "api/api_fixture.h"

namespace gridmis::testing {
namespace {

using nlohmann::json;

class BillingTrialApiTest : public ApiTest {
 protected:
  // 蒙西 residential, annual tiers 2160 / 4200 at 0.50 / 0.55 / 0.80 (the flagged figures).
  static json Residential() {
    return {{"metering_point_code", "1500000001-01"},
            {"period", "2026-10"},
            {"tariff_code", "residential_lv"},
            {"meters",
             {{{"meter_asset_no", "1509000001"},
               {"register_integer_digits", 6},
               {"start", {{"total", "1000.00"}}},
               {"end", {{"total", "1450.00"}}}}}},
            {"tier_cumulative_kwh", 2000}};
  }
};

TEST_P(BillingTrialApiTest, RatesTypedInReadsAndSavesNothing) {
  auto clerk = LoginAs("clerk_a");
  int64_t audit_before = AuditCount();
  auto r = clerk->Post("/api/v1/billing/trial", Residential().dump());
  ASSERT_EQ(r.status, 200) << r.body;
  json b = Json(r);
  // C0 2000 + 450: 160 kWh in tier 1 at 0.50, 290 in tier 2 at 0.55.
  ASSERT_EQ(b["lines"].size(), 2u) << b.dump(2);
  EXPECT_EQ(b["lines"][0]["tier"], 1);
  EXPECT_EQ(b["lines"][0]["quantity"], "160.0000");
  EXPECT_EQ(b["lines"][0]["amount"], "80.00");
  EXPECT_EQ(b["lines"][1]["tier"], 2);
  EXPECT_EQ(b["lines"][1]["unit_price"], "0.5500");
  EXPECT_EQ(b["lines"][1]["amount"], "159.50");
  EXPECT_EQ(b["total"], "239.50");
  EXPECT_EQ(b["tariff_version"], "residential_lv@2012-07-01");
  EXPECT_EQ(b["tier_cumulative_after_kwh"], 2450);
  EXPECT_EQ(AuditCount(), audit_before);

  // A two-part bill with the demand charge and the power factor.
  json li = {{"period", "2026-07"},
             {"tariff_code", "large_industry_10kv"},
             {"meters",
              {{{"multiplier", 2000},
                {"start",
                 {{"total", "0"},
                  {"sharp", "0"},
                  {"peak", "0"},
                  {"flat", "0"},
                  {"valley", "0"},
                  {"reactive_import", "0"}}},
                {"end",
                 {{"total", "200"},
                  {"sharp", "10"},
                  {"peak", "60"},
                  {"flat", "80"},
                  {"valley", "50"},
                  {"reactive_import", "100"},
                  {"max_demand", "0.6"}}}}}},
             {"basic_mode", "declared_demand"},
             {"capacity_kva", 2000},
             {"declared_demand_kw", 1000},
             {"pf_standard", "0.90"}};
  r = clerk->Post("/api/v1/billing/trial", li.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  b = Json(r);
  EXPECT_EQ(b["billed_kwh"], 400000);
  EXPECT_EQ(b["energy"]["max_demand_kw"], "1200.0000");
  EXPECT_EQ(b["power_factor"], "0.89");  // 400,000 / √(400,000² + 200,000²) = 0.894
  // Actual 1200 kW over 105% of 1000: 1200 × 33 + (1200 − 1050) × 33 (illustrative price).
  EXPECT_EQ(b["basic_charge"], "44550.00");
  EXPECT_EQ(AuditCount(), audit_before);
}

TEST_P(BillingTrialApiTest, BadBodiesAre400NamingTheField) {
  auto clerk = LoginAs("clerk_a");
  auto post = [&](const json& body) { return clerk->Post("/api/v1/billing/trial", body.dump()); };
  json unknown = Residential();
  unknown["tarif_code"] = "x";
  auto r = post(unknown);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(Json(r)["error"]["field"], "tarif_code");

  json bad = Residential();
  bad["meters"][0]["end"]["total"] = "14x0";
  r = post(bad);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(Json(r)["error"]["field"], "meters[0].end.total");

  json floaty = Residential();
  floaty["meters"][0]["end"]["total"] = 1450.5;
  r = post(floaty);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(Json(r)["error"]["field"], "meters[0].end.total");

  json tariff = Residential();
  tariff["tariff_code"] = "no_such_tariff";
  r = post(tariff);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(Json(r)["error"]["field"], "tariff_code");

  json rollover = Residential();
  rollover["meters"][0].erase("register_integer_digits");
  rollover["meters"][0]["end"]["total"] = "900.00";
  r = post(rollover);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(Json(r)["error"]["message"].get<std::string>().find("digit count is unknown"),
            std::string::npos);

  r = clerk->Post("/api/v1/billing/trial", "{\"period\": ");
  EXPECT_EQ(r.status, 400) << r.body;
  r = clerk->Post("/api/v1/billing/trial", "{}");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(Json(r)["error"]["field"], "period");
}

TEST_P(BillingTrialApiTest, PermissionsAndTheCatalogue) {
  // A meter reader may read the catalogue but not run a trial.
  auto reader = LoginAs("reader_a");
  EXPECT_EQ(reader->Post("/api/v1/billing/trial", Residential().dump()).status, 403);
  auto cat = reader->Get("/api/v1/tariffs");
  ASSERT_EQ(cat.status, 200) << cat.body;
  json c = Json(cat);
  EXPECT_EQ(c["province"], "nmg_west");
  EXPECT_EQ(c["policies"]["late_fee"]["residential_daily_rate"], "0.001");
  std::set<std::string> codes;
  for (const auto& t : c["tariffs"]) codes.insert(t["code"].get<std::string>());
  for (const char* code : {"residential_lv", "commercial_lv", "commercial_10kv",
                           "large_industry_10kv", "agricultural_lv", "other_lv"}) {
    EXPECT_TRUE(codes.count(code)) << code;
  }
  auto one = reader->Get("/api/v1/tariffs/large_industry_10kv");
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(Json(one)["versions"][0]["demand_price"], "33.0000");
  EXPECT_EQ(reader->Get("/api/v1/tariffs/nope").status, 404);
  EXPECT_EQ(Anonymous()->Get("/api/v1/tariffs").status, 401);
  EXPECT_EQ(Anonymous()->Post("/api/v1/billing/trial", Residential().dump()).status, 401);
  // The security administrator (三员) has neither.
  EXPECT_EQ(LoginAs("secadmin")->Get("/api/v1/tariffs").status, 403);
}

GRIDMIS_API_TEST_BACKENDS(BillingTrialApiTest);

}  // namespace
}  // namespace gridmis::testing
