#include "metering/routes.h"

#include "grid/route_helpers.h"

namespace gridmis::metering {

using grid::api::ArrayOf;
using grid::api::Bool;
using grid::api::Enum;
using grid::api::Int;
using grid::api::JsonReply;
using grid::api::NullableId;
using grid::api::NullableInt;
using grid::api::NullableStr;
using grid::api::NullableText;
using grid::api::Obj;
using grid::api::QueryEnum;
using grid::api::QueryText;
using grid::api::Ref;
using grid::api::Str;
using grid::api::VersionField;
using http::JsonFields;
using http::Reply;
using http::RouteContext;
using nlohmann::json;

namespace {

const std::initializer_list<std::string_view> kPfStandards = {"0.90", "0.85", "0.80", "none"};
const std::initializer_list<std::string_view> kSides = {"high", "low"};
const std::initializer_list<std::string_view> kPurposes = {"billing", "check", "sub_meter"};
const std::initializer_list<std::string_view> kPointStatuses = {"active", "suspended", "removed"};
const std::initializer_list<std::string_view> kAccuracy = {"0.2S", "0.5S", "1", "2"};
const std::initializer_list<std::string_view> kProtocols = {"dlt645_2007", "dlt645_1997",
                                                            "dlt698_45"};
const std::initializer_list<std::string_view> kMeterStatuses = {"in_stock", "installed", "removed",
                                                                "scrapped"};
const std::initializer_list<std::string_view> kRemoveReasons = {
    "fault", "rotation", "capacity_change", "closure", "other"};

json ReadingsSchema() {
  return {{"type", "object"},
          {"description",
           "register -> reading in kWh (kvarh; kW for max_demand) as a decimal string, e.g. "
           "{\"total\": \"1234.56\"}; registers: total, sharp, peak, flat, valley, export, "
           "reactive_import, reactive_export, max_demand"},
          {"additionalProperties", {{"type", "string"}}}};
}

// Reads {"total": "1234.56", ...}; errors name "<field>.<register>".
Result<Readings> ReadReadings(JsonFields& f, std::string_view field) {
  const json* obj = f.OptObject(field);
  if (!obj) {
    RETURN_IF_ERROR(f.error());
    return InvalidArgument(std::string(field) + " is required: the reading of each register",
                           std::string(field));
  }
  if (obj->size() > AllRegisters().size()) {
    return InvalidArgument(std::string(field) + " has more entries than a meter has registers",
                           std::string(field));
  }
  Readings out;
  for (auto it = obj->begin(); it != obj->end(); ++it) {
    std::string name = std::string(field) + "." + it.key().substr(0, 40);
    std::string text;
    if (it->is_string()) {
      text = it->get<std::string>();
    } else if (it->is_number_integer()) {
      text = it->dump();
    } else {
      return InvalidArgument(name +
                                 " must be a decimal number of kWh written as a string, e.g. "
                                 "\"1234.56\"",
                             name);
    }
    auto e = Energy::ParseKwh(text, name);
    if (!e.ok()) return InvalidArgument(e.status().message(), name);
    out[it.key()] = *e;
  }
  return out;
}

Result<int64_t> ReadTime(JsonFields& f, std::string_view field) {
  std::string text = f.String(field, {.max_len = 40});
  RETURN_IF_ERROR(f.error());
  auto t = ParseRfc3339(text, field);
  if (!t.ok()) return InvalidArgument(t.status().message(), std::string(field));
  return *t;
}

MeteringPointInput ReadPointInput(JsonFields& f, const json& body) {
  MeteringPointInput in;
  in.code = f.OptString("code", {.max_len = 32});
  in.name = f.OptString("name", {.max_len = 100, .min_len = 0});
  in.customer_id = f.OptInt("customer_id", {.min = 1});
  in.transformer_area_id = NullableId(f, body, "transformer_area_id");
  in.department_id = f.OptInt("department_id", {.min = 1});
  in.voltage_v = f.OptInt("voltage_v", {.min = 1, .max = 1'000'000});
  in.tariff_code = f.OptString("tariff_code", {.max_len = 32});
  in.contracted_capacity_kva = f.OptInt("contracted_capacity_kva", {.min = 0, .max = 10'000'000});
  in.pf_standard = f.OptEnum("pf_standard", kPfStandards);
  in.metering_side = f.OptEnum("metering_side", kSides);
  in.purpose = f.OptEnum("purpose", kPurposes);
  in.status = f.OptEnum("status", kPointStatuses);
  return in;
}

MeterInput ReadMeterInput(JsonFields& f, const json& body) {
  MeterInput in;
  in.asset_no = f.OptString("asset_no", {.max_len = 32});
  in.make = f.OptString("make", {.max_len = 50});
  in.model = f.OptString("model", {.max_len = 50});
  in.phases = f.OptInt("phases", {.min = 1, .max = 3});
  in.accuracy_class = f.OptEnum("accuracy_class", kAccuracy);
  in.rated_current = f.OptString("rated_current", {.max_len = 20, .min_len = 0});
  if (const json* regs = f.OptArray("registers")) {
    std::vector<std::string> names;
    for (size_t i = 0; i < regs->size() && i < 20; ++i) {
      if (!(*regs)[i].is_string()) {
        std::string field = "registers[" + std::to_string(i) + "]";
        f.Fail(InvalidArgument(field + " must be a register name", field));
        break;
      }
      names.push_back((*regs)[i].get<std::string>());
    }
    in.registers = std::move(names);
  }
  in.ct_ratio = f.OptString("ct_ratio", {.max_len = 20});
  in.pt_ratio = f.OptString("pt_ratio", {.max_len = 20});
  in.comm_address = NullableText(f, body, "comm_address", 12);
  in.protocol = f.OptEnum("protocol", kProtocols);
  in.status = f.OptEnum("status", kMeterStatuses);
  in.department_id = f.OptInt("department_id", {.min = 1});
  in.production_date = NullableText(f, body, "production_date", 10);
  in.register_integer_digits = f.OptInt("register_integer_digits", {.min = 0, .max = 10});
  return in;
}

void AddSchemasImpl(http::Router& r) {
  r.AddSchema("Readings", ReadingsSchema());
  r.AddSchema("MeteringPoint", Obj({{"id", Int()},
                                    {"code", Str()},
                                    {"name", Str()},
                                    {"customer_id", Int()},
                                    {"customer_no", Str()},
                                    {"customer_name", Str()},
                                    {"transformer_area_id", NullableInt()},
                                    {"department_id", Int()},
                                    {"voltage_v", Int("volts")},
                                    {"tariff_code", Str()},
                                    {"contracted_capacity_kva", Int()},
                                    {"pf_standard", Enum(kPfStandards)},
                                    {"metering_side", Enum(kSides)},
                                    {"purpose", Enum(kPurposes)},
                                    {"status", Enum(kPointStatuses)},
                                    {"current_meter_id", NullableInt()},
                                    {"current_meter_asset_no", NullableStr()},
                                    {"version", Int()},
                                    {"created_at", Str()},
                                    {"updated_at", Str()}},
                                   {"id", "code", "customer_id", "department_id", "voltage_v",
                                    "tariff_code", "version"}));
  r.AddSchema("MeteringPointInput",
              Obj({{"code", Str("1-32 of A-Z a-z 0-9 _ . -; required on create")},
                   {"name", Str()},
                   {"customer_id", Int("required on create; cannot change")},
                   {"transformer_area_id", NullableInt()},
                   {"department_id", Int("default: the customer's")},
                   {"voltage_v", Int("220, 380, 10000, 20000, 35000, 66000, 110000 or 220000")},
                   {"tariff_code", Str("required on create")},
                   {"contracted_capacity_kva", Int()},
                   {"pf_standard", Enum(kPfStandards)},
                   {"metering_side", Enum(kSides)},
                   {"purpose", Enum(kPurposes)},
                   {"status", Enum(kPointStatuses)},
                   {"version", VersionField()}}));
  json registers = ArrayOf(Enum({"total", "sharp", "peak", "flat", "valley", "export",
                                 "reactive_import", "reactive_export", "max_demand"}));
  r.AddSchema("Meter", Obj({{"id", Int()},
                            {"asset_no", Str()},
                            {"make", Str()},
                            {"model", Str()},
                            {"phases", Int()},
                            {"accuracy_class", Enum(kAccuracy)},
                            {"rated_current", Str()},
                            {"registers", registers},
                            {"ct_ratio", Str("\"200/5\"")},
                            {"pt_ratio", Str("\"10000/100\"")},
                            {"multiplier", Int("CT ratio × PT ratio")},
                            {"comm_address", NullableStr()},
                            {"protocol", Enum(kProtocols)},
                            {"status", Enum(kMeterStatuses)},
                            {"department_id", Int()},
                            {"production_date", NullableStr()},
                            {"register_integer_digits",
                             Int("integer digits of the registers (6 for 999999.99); 0 = unknown")},
                            {"installed_point_id", NullableInt()},
                            {"version", Int()},
                            {"created_at", Str()},
                            {"updated_at", Str()}},
                           {"id", "asset_no", "registers", "ct_ratio", "pt_ratio", "multiplier",
                            "status", "version"}));
  r.AddSchema("MeterInput",
              Obj({{"asset_no", Str("required on create")},
                   {"make", Str("required on create")},
                   {"model", Str("required on create")},
                   {"phases", Int("1 or 3; required on create")},
                   {"accuracy_class", Enum(kAccuracy)},
                   {"rated_current", Str("e.g. 5(60)A")},
                   {"registers", registers},
                   {"ct_ratio", Str("primary/secondary, default 1/1; fixed while installed")},
                   {"pt_ratio", Str("primary/secondary, default 1/1; fixed while installed")},
                   {"comm_address", Str("12 digits")},
                   {"protocol", Enum(kProtocols)},
                   {"status", Enum({"in_stock", "removed", "scrapped"})},
                   {"department_id", Int("required on create")},
                   {"production_date", Str("YYYY-MM-DD")},
                   {"register_integer_digits",
                    Int("0 (unknown, the default) or 4..10: integer digits of the registers, for "
                        "telling a rollover from a wrong reading")},
                   {"version", VersionField()}}));
  r.AddSchema(
      "Installation",
      Obj({{"id", Int()},
           {"meter_id", Int()},
           {"metering_point_id", Int()},
           {"installed_at", Str()},
           {"removed_at", NullableStr()},
           {"install_reason", Enum({"new", "replacement", "rotation"})},
           {"remove_reason", NullableStr()},
           {"installed_by", NullableInt()},
           {"removed_by", NullableInt()},
           {"ct_ratio", Str("as installed")},
           {"pt_ratio", Str("as installed")},
           {"multiplier", Int("as installed")},
           {"install_readings", Ref("Readings")},
           {"remove_readings", {{"allOf", json::array({Ref("Readings")})}, {"nullable", true}}},
           {"meter", Ref("Meter")},
           {"version", Int()},
           {"created_at", Str()},
           {"updated_at", Str()}},
          {"id", "meter_id", "metering_point_id", "installed_at", "install_readings", "meter"}));
  r.AddSchema("InstallRequest", Obj({{"meter_id", Int()},
                                     {"installed_at", Str("RFC 3339")},
                                     {"readings", Ref("Readings")},
                                     {"reason", Enum({"new", "rotation"})}},
                                    {"meter_id", "installed_at", "readings"}));
  r.AddSchema("RemoveRequest", Obj({{"removed_at", Str("RFC 3339")},
                                    {"readings", Ref("Readings")},
                                    {"reason", Enum(kRemoveReasons)},
                                    {"rollover", Bool()}},
                                   {"removed_at", "readings", "reason"}));
  r.AddSchema("ReplaceRequest", Obj({{"at", Str("RFC 3339")},
                                     {"remove_readings", Ref("Readings")},
                                     {"remove_reason", Enum(kRemoveReasons)},
                                     {"rollover", Bool()},
                                     {"new_meter_id", Int()},
                                     {"install_readings", Ref("Readings")}},
                                    {"at", "remove_readings", "new_meter_id", "install_readings"}));
  r.AddSchema("Replacement",
              Obj({{"removed", Ref("Installation")}, {"installed", Ref("Installation")}},
                  {"removed", "installed"}));
}

json CappedPage(json items, const http::Page& page, const grid::CappedCount& total) {
  json body = http::PageJson(std::move(items), page, total.total);
  body["total_capped"] = total.capped;
  return body;
}

}  // namespace

void AddMeteringSchemas(http::Router& router) { AddSchemasImpl(router); }

void AddRoutes(http::Router& router, MeteringService& metering) {
  AddSchemasImpl(router);
  MeteringService* s = &metering;

  // ---- Metering points ----
  router.Add({.method = "GET",
              .pattern = "/api/v1/metering-points",
              .permission = "metering.read",
              .summary = "Metering points in your data scope, by code (total counts at most "
                         "10000; total_capped says there are more)",
              .tag = "metering",
              .query = {{"q", "string", "code prefix"},
                        {"customer_id", "integer", "points of this customer"},
                        {"transformer_area_id", "integer", "points in this transformer area"},
                        {"department_id", "integer", "that department and below"},
                        {"status", "string", "active, suspended, removed"},
                        {"tariff_code", "string", "points on this tariff"}},
              .response = "MeteringPoint",
              .list = true,
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
                MeteringPointQuery q;
                ASSIGN_OR_RETURN(q.q, QueryText(ctx.req, "q", 32));
                ASSIGN_OR_RETURN(q.customer_id, http::QueryInt(ctx.req, "customer_id"));
                ASSIGN_OR_RETURN(q.transformer_area_id,
                                 http::QueryInt(ctx.req, "transformer_area_id"));
                ASSIGN_OR_RETURN(q.department_id, http::QueryInt(ctx.req, "department_id"));
                ASSIGN_OR_RETURN(q.status, QueryEnum(ctx.req, "status", kPointStatuses));
                ASSIGN_OR_RETURN(q.tariff_code, QueryText(ctx.req, "tariff_code", 32));
                q.page = page.page;
                q.page_size = page.page_size;
                grid::CappedCount total;
                ASSIGN_OR_RETURN(auto points, s->ListPoints(ctx.actor, q, &total));
                json items = json::array();
                for (const auto& p : points) items.push_back(ToJson(p));
                return JsonReply(CappedPage(std::move(items), page, total));
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/metering-points",
              .permission = "metering.write",
              .summary = "Create a metering point for a customer",
              .tag = "metering",
              .request = "MeteringPointInput",
              .response = "MeteringPoint",
              .success_status = 201,
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                MeteringPointInput in = ReadPointInput(f, body);
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(MeteringPoint p, s->CreatePoint(ctx.actor, in));
                return JsonReply(ToJson(p), 201);
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/metering-points/{id}",
              .permission = "metering.read",
              .summary = "One metering point with its current meter",
              .tag = "metering",
              .response = "MeteringPoint",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(MeteringPoint p, s->GetPoint(ctx.actor, id));
                return JsonReply(ToJson(p));
              }});
  router.Add({.method = "PATCH",
              .pattern = "/api/v1/metering-points/{id}",
              .permission = "metering.write",
              .summary = "Change a metering point (with its version)",
              .tag = "metering",
              .request = "MeteringPointInput",
              .response = "MeteringPoint",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                int64_t version = f.Int("version", {.min = 1});
                MeteringPointInput in = ReadPointInput(f, body);
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(MeteringPoint p, s->UpdatePoint(ctx.actor, id, version, in));
                return JsonReply(ToJson(p));
              }});

  // ---- Meters ----
  router.Add({.method = "GET",
              .pattern = "/api/v1/meters",
              .permission = "metering.read",
              .summary = "Meters in your data scope, by asset number (total counts at most "
                         "10000; total_capped says there are more)",
              .tag = "metering",
              .query = {{"q", "string", "asset number or communication address prefix"},
                        {"status", "string", "in_stock, installed, removed, scrapped"},
                        {"department_id", "integer", "that department and below"}},
              .response = "Meter",
              .list = true,
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
                MeterQuery q;
                ASSIGN_OR_RETURN(q.q, QueryText(ctx.req, "q", 32));
                ASSIGN_OR_RETURN(q.status, QueryEnum(ctx.req, "status", kMeterStatuses));
                ASSIGN_OR_RETURN(q.department_id, http::QueryInt(ctx.req, "department_id"));
                q.page = page.page;
                q.page_size = page.page_size;
                grid::CappedCount total;
                ASSIGN_OR_RETURN(auto meters, s->ListMeters(ctx.actor, q, &total));
                json items = json::array();
                for (const auto& m : meters) items.push_back(ToJson(m));
                return JsonReply(CappedPage(std::move(items), page, total));
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/meters",
              .permission = "metering.write",
              .summary = "Register a meter asset (in stock)",
              .tag = "metering",
              .request = "MeterInput",
              .response = "Meter",
              .success_status = 201,
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                MeterInput in = ReadMeterInput(f, body);
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(Meter m, s->CreateMeter(ctx.actor, in));
                return JsonReply(ToJson(m), 201);
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/meters/{id}",
              .permission = "metering.read",
              .summary = "One meter",
              .tag = "metering",
              .response = "Meter",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(Meter m, s->GetMeter(ctx.actor, id));
                return JsonReply(ToJson(m));
              }});
  router.Add({.method = "PATCH",
              .pattern = "/api/v1/meters/{id}",
              .permission = "metering.write",
              .summary = "Change a meter (with its version); registers and ratios are fixed "
                         "while it is installed",
              .tag = "metering",
              .request = "MeterInput",
              .response = "Meter",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                int64_t version = f.Int("version", {.min = 1});
                MeterInput in = ReadMeterInput(f, body);
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(Meter m, s->UpdateMeter(ctx.actor, id, version, in));
                return JsonReply(ToJson(m));
              }});

  // ---- Installations ----
  router.Add({.method = "POST",
              .pattern = "/api/v1/metering-points/{id}/install",
              .permission = "metering.write",
              .summary = "Install a meter at a point that has none, with its register readings",
              .tag = "metering",
              .request = "InstallRequest",
              .response = "Installation",
              .success_status = 201,
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                InstallInput in;
                in.meter_id = f.Int("meter_id", {.min = 1});
                ASSIGN_OR_RETURN(in.installed_at_us, ReadTime(f, "installed_at"));
                ASSIGN_OR_RETURN(in.readings, ReadReadings(f, "readings"));
                in.reason = f.OptEnum("reason", {"new", "rotation"}).value_or("new");
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(Installation i, s->Install(ctx.actor, id, in));
                return JsonReply(ToJson(i), 201);
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/metering-points/{id}/replace",
              .permission = "metering.write",
              .summary = "Replace the installed meter (换表): removal readings of the old, "
                         "installation readings of the new, in one transaction",
              .tag = "metering",
              .request = "ReplaceRequest",
              .response = "Replacement",
              .success_status = 201,
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                ReplaceInput in;
                ASSIGN_OR_RETURN(in.at_us, ReadTime(f, "at"));
                ASSIGN_OR_RETURN(in.remove_readings, ReadReadings(f, "remove_readings"));
                in.remove_reason = f.OptEnum("remove_reason", kRemoveReasons).value_or("fault");
                in.rollover = f.OptBool("rollover").value_or(false);
                in.new_meter_id = f.Int("new_meter_id", {.min = 1});
                ASSIGN_OR_RETURN(in.install_readings, ReadReadings(f, "install_readings"));
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(Replacement r, s->Replace(ctx.actor, id, in));
                return JsonReply(
                    {{"removed", ToJson(r.removed)}, {"installed", ToJson(r.installed)}}, 201);
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/installations/{id}/remove",
              .permission = "metering.write",
              .summary = "Remove an installed meter with its register readings",
              .tag = "metering",
              .request = "RemoveRequest",
              .response = "Installation",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                RemoveInput in;
                ASSIGN_OR_RETURN(in.removed_at_us, ReadTime(f, "removed_at"));
                ASSIGN_OR_RETURN(in.readings, ReadReadings(f, "readings"));
                in.reason = f.Enum("reason", kRemoveReasons);
                in.rollover = f.OptBool("rollover").value_or(false);
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(Installation i, s->Remove(ctx.actor, id, in));
                return JsonReply(ToJson(i));
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/metering-points/{id}/installations",
              .permission = "metering.read",
              .summary = "A metering point's installation history, newest first",
              .tag = "metering",
              .response = "Installation",
              .list = true,
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
                ASSIGN_OR_RETURN(auto all, s->ListInstallations(ctx.actor, id));
                json items = json::array();
                for (size_t i = 0; i < all.size(); ++i) {
                  auto n = static_cast<int64_t>(i);
                  if (n >= page.offset() && n < page.offset() + page.page_size) {
                    items.push_back(ToJson(all[i]));
                  }
                }
                return JsonReply(
                    http::PageJson(std::move(items), page, static_cast<int64_t>(all.size())));
              }});
}

}  // namespace gridmis::metering
