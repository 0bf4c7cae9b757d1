#include "rating/routes.h"

#include "http/json_fields.h"
#include "http/schema.h"
#include "rating/json.h"
#include "rating/rating.h"

namespace gridmis::rating {

using http::Reply;
using http::RouteContext;
using http::schema::ArrayOf;
using http::schema::Bool;
using http::schema::Enum;
using http::schema::Int;
using http::schema::NullableInt;
using http::schema::NullableStr;
using http::schema::Obj;
using http::schema::Ref;
using http::schema::Str;
using http::schema::StrArray;
using nlohmann::json;

namespace {

json Registers() {
  return {{"type", "object"},
          {"description",
           "register → reading (kWh, kvarh; kW for max_demand) as a decimal string: total, "
           "sharp, peak, flat, valley, export, reactive_import, reactive_export, max_demand"},
          {"additionalProperties", {{"type", "string"}}}};
}

json Dec(std::string what) { return Str("decimal string: " + what); }

void AddSchemas(http::Router& r) {
  r.AddSchema("RatingInput",
              Obj({{"metering_point_code", Str()},
                   {"period", Str("电费年月 YYYY-MM")},
                   {"first_day", Str("first day the reads cover, YYYY-MM-DD (default: the "
                                     "period's first day)")},
                   {"last_day", Str("reading day, YYYY-MM-DD (default: the period's last day)")},
                   {"tariff_code", Str()},
                   {"meters", ArrayOf(Obj({{"meter_asset_no", Str()},
                                           {"multiplier", Int("综合倍率 CT × PT")},
                                           {"register_integer_digits",
                                            Int("integer digits of the register (0 = unknown: "
                                                "no rollover)")},
                                           {"start", Registers()},
                                           {"end", Registers()},
                                           {"start_source", Str()},
                                           {"end_source", Str()}},
                                          {"start", "end"}))},
                   {"adjustment", Dec("增减电量 kWh, may be negative")},
                   {"refund_energy", Dec("退补电量 kWh, may be negative")},
                   {"adjustment_reason", Str()},
                   {"basic_mode", Enum({"none", "capacity", "declared_demand", "actual_demand"})},
                   {"capacity_kva", Int()},
                   {"declared_demand_kw", NullableInt()},
                   {"service_start", NullableStr()},
                   {"service_end", NullableStr()},
                   {"suspensions", ArrayOf(Obj({{"first", Str()}, {"last", Str()}}))},
                   {"pf_standard", Enum({"0.90", "0.85", "0.80", "none"})},
                   {"transformer", Obj({{"method", Enum({"formula", "table"})},
                                        {"rated_kva", Int()},
                                        {"no_load_loss_kw", Dec("P0")},
                                        {"load_loss_kw", Dec("Pk")},
                                        {"no_load_current_pct", Dec("I0%")},
                                        {"impedance_voltage_pct", Dec("Uk%")},
                                        {"correction", Dec("K, default 1")},
                                        {"loss_table", Str()},
                                        {"shift_load_kwh", Int()}})},
                   {"line_loss_rate", Dec("协议线损率, e.g. 0.02")},
                   {"sub_allocations", ArrayOf(Obj({{"tariff_code", Str()},
                                                    {"ratio", Dec("定比")},
                                                    {"fixed_kwh", Int("定量 kWh per month")},
                                                    {"label", Str()}}))},
                   {"tier_cumulative_kwh", Int("tier energy already billed this tier year")},
                   {"tier_months_in_service", NullableInt()},
                   {"tier_days_in_service", NullableInt()},
                   {"household_multiplier", Int()},
                   {"free_allowance_kwh", Int()},
                   {"daily_total",
                    {{"type", "object"},
                     {"description", "YYYY-MM-DD → daily total energy (kWh)"},
                     {"additionalProperties", {{"type", "string"}}}}}},
                  {"period", "tariff_code", "meters"}));
  r.AddSchema("BillLine",
              Obj({{"kind", Enum({"energy", "tier_increment", "free_allowance", "basic_capacity",
                                  "basic_demand", "basic_overage", "pf_adjustment", "fund"})},
                   {"description", Str("zh-CN, as printed")},
                   {"tariff_code", Str()},
                   {"tariff_version", Str()},
                   {"share", Str("carve-out label, '' for the point's own tariff")},
                   {"period_code", Str()},
                   {"tier", Int()},
                   {"quantity", Str()},
                   {"unit", Str()},
                   {"unit_price", Str()},
                   {"amount", Str("yuan")},
                   {"days", Int()},
                   {"days_base", Int()},
                   {"from", Str()},
                   {"to", Str()},
                   {"rule", Str()},
                   {"sources", StrArray()}}));
  json energies = {{"type", "object"}, {"additionalProperties", {{"type", "string"}}}};
  r.AddSchema("RatedBill", Obj({{"metering_point_code", Str()},
                                {"period", Str()},
                                {"tariff_code", Str()},
                                {"tariff_version", Str()},
                                {"tariff_category", Str()},
                                {"energy", Obj({{"metered", energies},
                                                {"replaced", energies},
                                                {"loss", energies},
                                                {"billed", energies},
                                                {"transformer_active_loss", Str()},
                                                {"transformer_reactive_loss", Str()},
                                                {"line_loss", Str()},
                                                {"max_demand_kw", Str()}})},
                                {"billed_kwh", Int()},
                                {"tier_kwh", ArrayOf(Int())},
                                {"tier_bounds_kwh", ArrayOf(Int())},
                                {"tier_cumulative_after_kwh", Int()},
                                {"power_factor", NullableStr()},
                                {"pf_standard", NullableStr()},
                                {"pf_adjust_rate", NullableStr()},
                                {"pf_base", Str()},
                                {"energy_charge", Str()},
                                {"basic_charge", Str()},
                                {"pf_charge", Str()},
                                {"fund_charge", Str()},
                                {"total", Str()},
                                {"lines", ArrayOf(Ref("BillLine"))},
                                {"notes", StrArray()}}));
  r.AddSchema("TariffVersion", Obj({{"code", Str()},
                                    {"id", Str("code@effective_from")},
                                    {"name_zh", Str()},
                                    {"category", Str()},
                                    {"category_zh", Str()},
                                    {"voltage", Str()},
                                    {"effective_from", Str()},
                                    {"effective_to", NullableStr()},
                                    {"pricing", Enum({"flat", "tou"})},
                                    {"flat_price", NullableStr()},
                                    {"seasons", ArrayOf(Obj({{"name", Str()},
                                                             {"months", ArrayOf(Int())},
                                                             {"prices", {{"type", "object"}}}}))},
                                    {"tiers", {{"type", "object"}, {"nullable", true}}},
                                    {"funds_included", Bool()},
                                    {"capacity_price", NullableStr()},
                                    {"demand_price", NullableStr()},
                                    {"tou_table", NullableStr()},
                                    {"sources", StrArray()},
                                    {"label", Enum({"V", "T", "M", "I"})},
                                    {"labels", {{"type", "object"}}},
                                    {"note", Str()}}));
  r.AddSchema("Tariff", Obj({{"code", Str()},
                             {"name_zh", Str()},
                             {"category", Str()},
                             {"voltage", Str()},
                             {"versions", ArrayOf(Ref("TariffVersion"))}}));
  r.AddSchema("TariffCatalogue", Obj({{"province", Str()},
                                      {"name", Str()},
                                      {"note", Str()},
                                      {"policies", {{"type", "object"}}},
                                      {"sources", ArrayOf({{"type", "object"}})},
                                      {"tou_tables", ArrayOf({{"type", "object"}})},
                                      {"loss_tables", ArrayOf({{"type", "object"}})},
                                      {"funds", ArrayOf({{"type", "object"}})},
                                      {"tariffs", ArrayOf(Ref("Tariff"))}}));
}

}  // namespace

void AddRoutes(http::Router& router, std::shared_ptr<const TariffCatalogue> catalogue) {
  AddSchemas(router);
  router.Add({.method = "GET",
              .pattern = "/api/v1/tariffs",
              .permission = "tariff.read",
              .summary = "The tariff catalogue: province, policies, tariffs with their versions, "
                         "prices, tiers, TOU tables and funds",
              .tag = "tariffs",
              .response = "TariffCatalogue",
              .fn = [catalogue](RouteContext&) -> Result<Reply> {
                return http::JsonReply(ToJson(*catalogue));
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/tariffs/{code}",
              .permission = "tariff.read",
              .summary = "One tariff with all its versions",
              .tag = "tariffs",
              .response = "Tariff",
              .fn = [catalogue](RouteContext& ctx) -> Result<Reply> {
                const Tariff* t = catalogue->FindTariff(ctx.Param("code"));
                if (t == nullptr) {
                  return NotFound("tariff '" + std::string(ctx.Param("code")).substr(0, 40) +
                                  "' is not in the " + catalogue->province() + " catalogue");
                }
                return http::JsonReply(ToJson(*t));
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/billing/trial",
              .permission = "billing.trial",
              .summary = "Trial bill calculation (電費試算) from typed-in reads; saves nothing",
              .tag = "billing",
              .request = "RatingInput",
              .response = "RatedBill",
              .fn = [catalogue](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                ASSIGN_OR_RETURN(RatingInput in, RatingInputFromJson(body));
                auto bill = Rate(in, *catalogue);
                if (!bill.ok()) {
                  // Everything here was typed in: an unknown tariff or a missing standard is a
                  // bad request, not a missing record.
                  const Status& s = bill.status();
                  return InvalidArgument(s.message(), s.field());
                }
                return http::JsonReply(ToJson(*bill));
              }});
}

}  // namespace gridmis::rating
