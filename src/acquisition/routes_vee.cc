#include "acquisition/routes_vee.h"

#include "grid/route_helpers.h"
#include "reading/reading.h"
#include "reading/review.h"

namespace gridmis::acquisition {

using grid::api::ArrayOf;
using grid::api::Enum;
using grid::api::Int;
using grid::api::JsonReply;
using grid::api::NullableInt;
using grid::api::NullableStr;
using grid::api::Obj;
using grid::api::QueryEnum;
using grid::api::Ref;
using grid::api::Str;
using http::JsonFields;
using http::Reply;
using http::RouteContext;
using nlohmann::json;
using vee::VeeService;

namespace {

const std::initializer_list<std::string_view> kRules = {
    "rollover", "reverse", "spike", "zero_run", "curve_sum", "clock_drift", "tou_sum"};
const std::initializer_list<std::string_view> kStatuses = {"open", "accepted", "corrected",
                                                           "dismissed"};

json Opt(const std::optional<int64_t>& v) { return v ? json(*v) : json(); }

json RegistersJson(const std::map<std::string, Energy>& regs) {
  json j = json::object();
  for (const auto& [k, v] : regs) j[k] = reading::FormatKwh(v);
  return j;
}

json ToJson(const vee::Issue& i) {
  return json{{"id", i.id},
              {"metering_point_id", Opt(i.metering_point_id)},
              {"point_code", i.point_code},
              {"terminal_id", Opt(i.terminal_id)},
              {"department_id", i.department_id},
              {"day", i.day.ToString()},
              {"rule", i.rule},
              {"severity", i.severity},
              {"detail", i.detail},
              {"status", i.status},
              {"note", i.note},
              {"detected_at", FormatUtc(i.detected_at_us)},
              {"updated_at", FormatUtc(i.updated_at_us)},
              {"resolved_by", Opt(i.resolved_by)},
              {"resolved_by_name", i.resolved_by ? json(i.resolved_by_name) : json()},
              {"resolved_at", i.resolved_at_us ? json(FormatUtc(*i.resolved_at_us)) : json()},
              {"version", i.version}};
}

json ToJson(const Curve& c) {
  json values = json::array();
  for (const auto& v : c.values) values.push_back(v ? json(reading::FormatKwh(*v)) : json());
  return json{{"metering_point_id", c.metering_point_id},
              {"day", c.day.ToString()},
              {"quantity", c.quantity},
              {"interval_minutes", c.interval_minutes},
              {"multiplier", c.multiplier},
              {"values", std::move(values)},
              {"quality", c.quality}};
}

json ToJson(const vee::IssueDetail& d) {
  json days = json::array();
  for (const auto& v : d.days) {
    days.push_back({{"day", v.day.ToString()},
                    {"quality", v.quality},
                    {"registers", v.frozen ? RegistersJson(v.frozen->registers) : json()},
                    {"multiplier", v.frozen ? json(v.frozen->multiplier) : json()},
                    {"use", v.use ? json(reading::FormatKwh(*v.use)) : json()},
                    {"open_rules", v.open_rules}});
  }
  return json{{"issue", ToJson(d.issue)},
              {"point_name", d.point_name},
              {"days", std::move(days)},
              {"curve", d.curve ? ToJson(*d.curve) : json()}};
}

void AddSchemas(http::Router& r) {
  r.AddSchema("VeeIssue",
              Obj({{"id", Int()},
                   {"metering_point_id", NullableInt()},
                   {"point_code", Str("\"\" for a terminal's own clock")},
                   {"terminal_id", NullableInt()},
                   {"department_id", Int()},
                   {"day", Str("YYYY-MM-DD: the daily frozen row's day (frozen at 00:00), the "
                               "curve's day, or the local day of a clock reading")},
                   {"rule", Enum(kRules)},
                   {"severity", Enum({"info", "suspect"})},
                   {"detail", Str("the numbers behind the finding")},
                   {"status", Enum(kStatuses)},
                   {"note", Str("the reviewer's words")},
                   {"detected_at", Str()},
                   {"updated_at", Str()},
                   {"resolved_by", NullableInt()},
                   {"resolved_by_name", NullableStr()},
                   {"resolved_at", NullableStr()},
                   {"version", Int()}},
                  {"id", "day", "rule", "severity", "detail", "status", "version"}));
  r.AddSchema(
      "VeeDay",
      Obj({{"day", Str()},
           {"quality", Enum({"valid", "estimated", "edited", "suspect", "missing"})},
           {"registers",
            {{"type", "object"}, {"nullable", true}, {"additionalProperties", Str("kWh")}}},
           {"multiplier", NullableInt()},
           {"use",
            {{"type", "string"}, {"nullable", true}, {"description", "kWh to the next day's row"}}},
           {"open_rules", ArrayOf(Str())}},
          {"day", "quality"}));
  r.AddSchema("VeeCurve",
              Obj({{"metering_point_id", Int()},
                   {"day", Str()},
                   {"quantity", Str()},
                   {"interval_minutes", Int()},
                   {"multiplier", Int()},
                   {"values", ArrayOf({{"type", "string"}, {"nullable", true}})},
                   {"quality", Str("one character per value: V valid, S suspect, E estimated, "
                                   "D edited, M missing")}},
                  {"metering_point_id", "day", "values", "quality"}));
  json curve = Ref("VeeCurve");
  r.AddSchema("VeeIssueDetail",
              Obj({{"issue", Ref("VeeIssue")},
                   {"point_name", Str()},
                   {"days", ArrayOf(Ref("VeeDay"))},
                   {"curve", {{"allOf", json::array({curve})}, {"nullable", true}}}},
                  {"issue", "days"}));
  r.AddSchema("VeeResolveInput",
              Obj({{"version", Int("the finding's version")},
                   {"note", Str("why; required (2..500 characters) to dismiss")}},
                  {"version"}));
  r.AddSchema("VeeRangeInput", Obj({{"metering_point_id", Int()},
                                    {"from", Str("YYYY-MM-DD")},
                                    {"to", Str("YYYY-MM-DD, at most 62 days after from")}},
                                   {"metering_point_id", "from", "to"}));
  r.AddSchema("VeeDailyFrozen",
              Obj({{"metering_point_id", Int()},
                   {"day", Str()},
                   {"multiplier", Int()},
                   {"registers", {{"type", "object"}, {"additionalProperties", Str("kWh")}}},
                   {"quality", Enum({"valid", "estimated", "edited"})}}));
  r.AddSchema("VeeEstimateResult",
              Obj({{"metering_point_id", Int()},
                   {"from", Str()},
                   {"to", Str()},
                   {"daily_frozen", ArrayOf(Ref("VeeDailyFrozen"))},
                   {"frozen_without_basis", Int("missing days left: no neighbours")},
                   {"curve_days", Int()},
                   {"curve_values", Int("interval values estimated")},
                   {"curve_values_without_basis", Int()}}));
  r.AddSchema("VeeValidateResult", Obj({{"rows", Int("daily frozen rows checked")},
                                        {"curves", Int("curves checked")},
                                        {"open", ArrayOf(Ref("VeeIssue"))}}));
  r.AddSchema("VeeDailyFrozenEdit",
              Obj({{"metering_point_id", Int()},
                   {"day", Str("YYYY-MM-DD: the frozen row's day")},
                   {"registers",
                    {{"type", "object"},
                     {"additionalProperties", Str("kWh")},
                     {"description", "the whole new set: {\"total\": \"1234.56\"}"}}},
                   {"previous",
                    {{"type", "object"},
                     {"nullable", true},
                     {"additionalProperties", Str("kWh")},
                     {"description",
                      "the registers you saw (null: no row); a "
                      "different stored row is a 409"}}},
                   {"reason", Str("2..200 characters")}},
                  {"metering_point_id", "day", "registers", "previous", "reason"}));
  r.AddSchema("VeeCurveEdit",
              Obj({{"metering_point_id", Int()},
                   {"day", Str()},
                   {"quantity", Str("default fwd_active_energy")},
                   {"interval", Int("0..95 at 15 minutes")},
                   {"value", Str("kWh, e.g. \"0.2513\"")},
                   {"previous",
                    {{"type", "string"},
                     {"nullable", true},
                     {"description", "the value you saw (null: missing)"}}},
                   {"reason", Str("2..200 characters")}},
                  {"metering_point_id", "day", "interval", "value", "previous", "reason"}));
}

Result<std::optional<Date>> QueryDate(const http::Request& req, std::string_view name) {
  auto v = req.Query(name);
  if (!v || v->empty()) return std::optional<Date>();
  auto d = Date::Parse(*v, name);
  if (!d.ok()) return InvalidArgument(d.status().message(), std::string(name));
  return std::optional<Date>(*d);
}

Result<Date> ReadDate(JsonFields& f, std::string_view field) {
  std::string text = f.String(field, {.max_len = 10});
  RETURN_IF_ERROR(f.error());
  auto d = Date::Parse(text, field);
  if (!d.ok()) return InvalidArgument(d.status().message(), std::string(field));
  return *d;
}

Result<Energy> ParseEnergy(const json& v, const std::string& name) {
  std::string text;
  if (v.is_string()) {
    text = v.get<std::string>();
  } else if (v.is_number_integer()) {
    text = v.dump();
  } else {
    return InvalidArgument(name +
                               " must be a decimal number of kWh written as a string, e.g. "
                               "\"1234.56\"",
                           name);
  }
  if (text.size() > 40) return InvalidArgument(name + " is too long", name);
  auto e = Energy::ParseKwh(text, name);
  if (!e.ok()) return InvalidArgument(e.status().message(), name);
  return *e;
}

Result<std::map<std::string, Energy>> ParseRegisters(const json& obj, const std::string& field) {
  if (!obj.is_object()) {
    return InvalidArgument(field +
                               " must be an object of register readings, e.g. "
                               "{\"total\": \"1234.56\"}",
                           field);
  }
  if (obj.size() > reading::ReadRegisterNames().size()) {
    return InvalidArgument(field + " has more entries than a meter has registers", field);
  }
  std::map<std::string, Energy> out;
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    std::string name = field + "." + it.key().substr(0, 40);
    ASSIGN_OR_RETURN(out[it.key()], ParseEnergy(*it, name));
  }
  return out;
}

// A required key that may be null.
Result<const json*> RequiredNullable(JsonFields& f, const json& body, std::string_view name,
                                     std::string_view what) {
  auto it = body.find(name);
  f.Allow(name);
  if (it == body.end()) {
    return InvalidArgument(std::string(name) + " is required: " + std::string(what),
                           std::string(name));
  }
  return &*it;
}

Result<Reply> Resolve(VeeService* s, RouteContext& ctx, bool dismiss) {
  ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
  ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
  JsonFields f(body);
  int64_t version = f.Int("version", {.min = 1});
  std::string note = f.OptString("note", {.max_len = 500, .min_len = 0}).value_or("");
  RETURN_IF_ERROR(f.Finish());
  ASSIGN_OR_RETURN(vee::Issue i, dismiss ? s->Dismiss(ctx.actor, id, version, note)
                                         : s->Accept(ctx.actor, id, version, note));
  return JsonReply(ToJson(i));
}

struct Range {
  int64_t point = 0;
  Date from, to;
};

Result<Range> ReadRange(RouteContext& ctx) {
  ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
  JsonFields f(body);
  Range r;
  r.point = f.Int("metering_point_id", {.min = 1});
  RETURN_IF_ERROR(f.error());
  ASSIGN_OR_RETURN(r.from, ReadDate(f, "from"));
  ASSIGN_OR_RETURN(r.to, ReadDate(f, "to"));
  RETURN_IF_ERROR(f.Finish());
  return r;
}

}  // namespace

void AddVeeRoutes(http::Router& router, VeeService& vee) {
  AddSchemas(router);
  VeeService* s = &vee;

  router.Add({.method = "GET",
              .pattern = "/api/v1/vee/issues",
              .permission = "acquisition.read",
              .summary = "The VEE review list: findings of the validation rules, newest day first",
              .tag = "acquisition",
              .query = {{"rule", "string",
                         "rollover, reverse, spike, zero_run, curve_sum, clock_drift, tou_sum"},
                        {"status", "string", "open, accepted, corrected, dismissed"},
                        {"department_id", "integer", "that department and below"},
                        {"metering_point_id", "integer", "one point's findings"},
                        {"from", "string", "first day (YYYY-MM-DD)"},
                        {"to", "string", "last day (YYYY-MM-DD)"}},
              .response = "VeeIssue",
              .list = true,
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
                vee::IssueQuery q;
                ASSIGN_OR_RETURN(q.rule, QueryEnum(ctx.req, "rule", kRules));
                ASSIGN_OR_RETURN(q.status, QueryEnum(ctx.req, "status", kStatuses));
                ASSIGN_OR_RETURN(q.department_id, http::QueryInt(ctx.req, "department_id"));
                ASSIGN_OR_RETURN(q.metering_point_id, http::QueryInt(ctx.req, "metering_point_id"));
                ASSIGN_OR_RETURN(q.from, QueryDate(ctx.req, "from"));
                ASSIGN_OR_RETURN(q.to, QueryDate(ctx.req, "to"));
                q.page = page.page;
                q.page_size = page.page_size;
                ASSIGN_OR_RETURN(auto list, s->ListIssues(ctx.actor, q));
                json items = json::array();
                for (const auto& i : list.items) items.push_back(ToJson(i));
                json out = http::PageJson(std::move(items), page, list.total);
                out["total_capped"] = list.total_capped;
                return JsonReply(std::move(out));
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/vee/issues/{id}",
              .permission = "acquisition.read",
              .summary = "A VEE finding with the point's days around it (±7) and the day's curve",
              .tag = "acquisition",
              .response = "VeeIssueDetail",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(auto d, s->GetIssue(ctx.actor, id));
                return JsonReply(ToJson(d));
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/vee/issues/{id}/accept",
              .permission = "acquisition.vee",
              .summary = "Accept an open finding: the data is right as it is",
              .tag = "acquisition",
              .request = "VeeResolveInput",
              .response = "VeeIssue",
              .fn = [s](RouteContext& ctx) { return Resolve(s, ctx, false); }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/vee/issues/{id}/dismiss",
              .permission = "acquisition.vee",
              .summary = "Dismiss an open finding as a false alarm (with a note)",
              .tag = "acquisition",
              .request = "VeeResolveInput",
              .response = "VeeIssue",
              .fn = [s](RouteContext& ctx) { return Resolve(s, ctx, true); }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/vee/estimate",
              .permission = "acquisition.vee",
              .summary = "Estimate a point's missing daily registers and curve gaps in a range",
              .tag = "acquisition",
              .request = "VeeRangeInput",
              .response = "VeeEstimateResult",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(Range r, ReadRange(ctx));
                ASSIGN_OR_RETURN(auto e, s->EstimateRange(ctx.actor, r.point, r.from, r.to));
                json frozen = json::array();
                for (const auto& f : e.frozen) frozen.push_back(reading::ToJson(f));
                return JsonReply({{"metering_point_id", e.metering_point_id},
                                  {"from", e.first_day.ToString()},
                                  {"to", e.last_day.ToString()},
                                  {"daily_frozen", std::move(frozen)},
                                  {"frozen_without_basis", e.frozen_without_basis},
                                  {"curve_days", e.curve_days},
                                  {"curve_values", e.curve_values},
                                  {"curve_values_without_basis", e.curve_values_without_basis}});
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/vee/validate",
              .permission = "acquisition.vee",
              .summary = "Run the validation rules again over a point's stored data in a range",
              .tag = "acquisition",
              .request = "VeeRangeInput",
              .response = "VeeValidateResult",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(Range r, ReadRange(ctx));
                ASSIGN_OR_RETURN(auto v, s->Revalidate(ctx.actor, r.point, r.from, r.to));
                json open = json::array();
                for (const auto& i : v.open) open.push_back(ToJson(i));
                return JsonReply({{"rows", v.rows}, {"curves", v.curves}, {"open", open}});
              }});
  router.Add({.method = "PUT",
              .pattern = "/api/v1/vee/daily-frozen",
              .permission = "acquisition.vee",
              .summary = "Replace a day's frozen registers with a reason (quality edited)",
              .tag = "acquisition",
              .request = "VeeDailyFrozenEdit",
              .response = "VeeDailyFrozen",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                vee::DailyFrozenEdit e;
                e.metering_point_id = f.Int("metering_point_id", {.min = 1});
                e.reason = f.String("reason", {.max_len = 200, .min_len = 2});
                RETURN_IF_ERROR(f.error());
                ASSIGN_OR_RETURN(e.day, ReadDate(f, "day"));
                const json* regs = f.OptObject("registers");
                RETURN_IF_ERROR(f.error());
                if (!regs) {
                  return InvalidArgument("registers is required: the whole new set", "registers");
                }
                ASSIGN_OR_RETURN(e.registers, ParseRegisters(*regs, "registers"));
                ASSIGN_OR_RETURN(const json* prev,
                                 RequiredNullable(f, body, "previous",
                                                  "the registers you saw, or null for no row"));
                if (!prev->is_null()) {
                  ASSIGN_OR_RETURN(e.previous, ParseRegisters(*prev, "previous"));
                }
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(auto row, s->EditDailyFrozen(ctx.actor, e));
                return JsonReply(reading::ToJson(row));
              }});
  router.Add({.method = "PUT",
              .pattern = "/api/v1/vee/curve-values",
              .permission = "acquisition.vee",
              .summary = "Replace one interval of a point's curve with a reason (quality edited)",
              .tag = "acquisition",
              .request = "VeeCurveEdit",
              .response = "VeeCurve",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                vee::CurveEdit e;
                e.metering_point_id = f.Int("metering_point_id", {.min = 1});
                e.quantity = f.OptString("quantity", {.max_len = 40}).value_or("fwd_active_energy");
                e.interval = static_cast<int>(f.Int("interval", {.min = 0, .max = 1439}));
                e.reason = f.String("reason", {.max_len = 200, .min_len = 2});
                RETURN_IF_ERROR(f.error());
                ASSIGN_OR_RETURN(e.day, ReadDate(f, "day"));
                f.Allow("value");
                auto value = body.find("value");
                if (value == body.end()) {
                  return InvalidArgument("value is required (kWh as a string)", "value");
                }
                ASSIGN_OR_RETURN(e.value, ParseEnergy(*value, "value"));
                ASSIGN_OR_RETURN(const json* prev,
                                 RequiredNullable(f, body, "previous",
                                                  "the value you saw, or null when missing"));
                if (!prev->is_null()) {
                  ASSIGN_OR_RETURN(e.previous, ParseEnergy(*prev, "previous"));
                }
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(auto cv, s->EditCurveValue(ctx.actor, e));
                return JsonReply(ToJson(cv));
              }});
}

}  // namespace gridmis::acquisition
