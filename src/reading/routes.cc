#include "reading/routes.h"

#include <sstream>

#include "grid/route_helpers.h"
#include "reading/import.h"

namespace gridmis::reading {

using grid::api::ArrayOf;
using grid::api::Bool;
using grid::api::Enum;
using grid::api::Int;
using grid::api::JsonReply;
using grid::api::NullableId;
using grid::api::NullableInt;
using grid::api::NullableStr;
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

constexpr const char* kXlsxType =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

const std::initializer_list<std::string_view> kCycles = {"monthly", "bimonthly"};
const std::initializer_list<std::string_view> kSegmentStatuses = {"active", "inactive"};
const std::initializer_list<std::string_view> kPlanStatuses = {"planned", "reading", "reviewing",
                                                               "completed"};
const std::initializer_list<std::string_view> kReadStatuses = {"pending", "flagged", "approved",
                                                               "superseded", "all"};
const std::initializer_list<std::string_view> kSources = {"frozen", "manual", "import", "estimate",
                                                          "correction"};
const std::initializer_list<std::string_view> kRules = {
    "zero_use",        "above_last_month",   "below_last_month",   "above_last_year",
    "below_last_year", "below_previous",     "meter_replaced",     "estimated",
    "tou_mismatch",    "multiplier_changed", "previous_unreviewed"};

json RegistersSchema() {
  return {{"type", "object"},
          {"description",
           "register -> reading in kWh (kvarh; kW for max_demand) as a decimal string with at "
           "most 4 decimals, e.g. {\"total\": \"1234.56\"}; registers: total, sharp, peak, flat, "
           "valley, export, reactive_import, reactive_export, max_demand"},
          {"additionalProperties", {{"type", "string"}}}};
}

json CappedPage(json items, const http::Page& page, const grid::CappedCount& total) {
  json body = http::PageJson(std::move(items), page, total.total);
  body["total_capped"] = total.capped;
  return body;
}

// {"total": "1234.56", ...}; errors name "<field>.<register>".
Result<Registers> ReadRegisters(JsonFields& f, std::string_view field) {
  const json* obj = f.OptObject(field);
  if (!obj) {
    RETURN_IF_ERROR(f.error());
    return InvalidArgument(std::string(field) + " is required: the reading of each register",
                           std::string(field));
  }
  if (obj->size() > ReadRegisterNames().size()) {
    return InvalidArgument(std::string(field) + " has more entries than a meter has registers",
                           std::string(field));
  }
  Registers out;
  for (auto it = obj->begin(); it != obj->end(); ++it) {
    std::string name = std::string(field) + "." + it.key().substr(0, 40);
    std::string text;
    if (it->is_string()) {
      text = it->get<std::string>();
    } else if (it->is_number_integer()) {
      text = it->dump();
    } else {
      return InvalidArgument(
          name + " must be a decimal number of kWh written as a string, e.g. \"1234.56\"", name);
    }
    auto e = Energy::ParseKwh(text, name);
    if (!e.ok()) return InvalidArgument(e.status().message(), name);
    out[it.key()] = *e;
  }
  return out;
}

Result<Date> ReadDate(JsonFields& f, std::string_view field) {
  std::string text = f.String(field, {.max_len = 10});
  RETURN_IF_ERROR(f.error());
  auto d = Date::Parse(text, field);
  if (!d.ok()) return InvalidArgument(d.status().message(), std::string(field));
  return *d;
}

Result<std::optional<YearMonth>> QueryPeriod(const http::Request& req, std::string_view name) {
  auto v = req.Query(name);
  if (!v || v->empty()) return std::optional<YearMonth>();
  auto p = YearMonth::Parse(*v, name);
  if (!p.ok()) return InvalidArgument(p.status().message(), std::string(name));
  return std::optional<YearMonth>(*p);
}

Result<std::optional<Date>> QueryDate(const http::Request& req, std::string_view name) {
  auto v = req.Query(name);
  if (!v || v->empty()) return std::optional<Date>();
  auto d = Date::Parse(*v, name);
  if (!d.ok()) return InvalidArgument(d.status().message(), std::string(name));
  return std::optional<Date>(*d);
}

Result<std::vector<int64_t>> ReadIds(JsonFields& f, std::string_view field) {
  const json* arr = f.OptArray(field);
  if (!arr) {
    RETURN_IF_ERROR(f.error());
    return InvalidArgument(std::string(field) + " is required: a list of metering point ids",
                           std::string(field));
  }
  std::vector<int64_t> ids;
  for (size_t i = 0; i < arr->size(); ++i) {
    const json& v = (*arr)[i];
    std::string name = std::string(field) + "[" + std::to_string(i) + "]";
    if (!v.is_number_integer() || v.get<int64_t>() < 1) {
      return InvalidArgument(name + " must be a positive id", name);
    }
    ids.push_back(v.get<int64_t>());
    if (ids.size() > 10'000) {
      return InvalidArgument(std::string(field) + " has more than 10000 ids", std::string(field));
    }
  }
  return ids;
}

SegmentInput ReadSegmentInput(JsonFields& f, const json& body) {
  SegmentInput in;
  in.code = f.OptString("code", {.max_len = 32});
  in.name = f.OptString("name", {.max_len = 100});
  in.department_id = f.OptInt("department_id", {.min = 1});
  in.reading_day = f.OptInt("reading_day", {.min = 1, .max = 28});
  in.cycle = f.OptEnum("cycle", kCycles);
  if (const json* months = f.OptArray("read_months")) {
    std::vector<int> m;
    for (size_t i = 0; i < months->size() && i < 24; ++i) {
      const json& v = (*months)[i];
      if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > 12) {
        std::string field = "read_months[" + std::to_string(i) + "]";
        f.Fail(InvalidArgument(field + " must be a month from 1 to 12", field));
        break;
      }
      m.push_back(v.get<int>());
    }
    in.read_months = std::move(m);
  }
  in.reader_user_id = NullableId(f, body, "reader_user_id");
  in.status = f.OptEnum("status", kSegmentStatuses);
  return in;
}

Result<ReviewRules> ReadRulesInput(JsonFields& f) {
  ReviewRules r;
  r.above_last_month_pct = f.Int("above_last_month_pct", {.min = 0, .max = 100'000});
  r.below_last_month_pct = f.Int("below_last_month_pct", {.min = 0, .max = 100'000});
  r.above_last_year_pct = f.Int("above_last_year_pct", {.min = 0, .max = 100'000});
  r.below_last_year_pct = f.Int("below_last_year_pct", {.min = 0, .max = 100'000});
  std::string min_compare = f.DecimalText("min_compare_kwh");
  std::string tolerance = f.DecimalText("tou_tolerance_kwh");
  r.flag_zero_use = f.Bool("flag_zero_use");
  r.estimate_method = f.Enum("estimate_method", {"recent", "last_year"});
  r.estimate_periods = f.Int("estimate_periods", {.min = 1, .max = 12});
  RETURN_IF_ERROR(f.error());
  auto m = Energy::ParseKwh(min_compare, "min_compare_kwh");
  if (!m.ok()) return InvalidArgument(m.status().message(), "min_compare_kwh");
  auto t = Energy::ParseKwh(tolerance, "tou_tolerance_kwh");
  if (!t.ok()) return InvalidArgument(t.status().message(), "tou_tolerance_kwh");
  r.min_compare_use = *m;
  r.tou_tolerance = *t;
  return r;
}

json IssuesJson(const std::vector<PointIssue>& issues) {
  json out = json::array();
  for (const auto& i : issues) {
    out.push_back({{"metering_point_id", i.metering_point_id},
                   {"point_code", i.point_code},
                   {"message", i.message}});
  }
  return out;
}

// The charset parameter of a Content-Type ("text/csv; charset=GBK" → "GBK").
std::string CharsetOf(std::string_view content_type) {
  std::string lower;
  for (char ch : content_type) lower += (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch + 32) : ch;
  size_t at = lower.find("charset=");
  if (at == std::string::npos) return "";
  std::string v(content_type.substr(at + 8));
  size_t end = v.find_first_of("; ");
  if (end != std::string::npos) v.resize(end);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  return v;
}

void AddSchemas(http::Router& r) {
  r.AddSchema("ReadRegisters", RegistersSchema());
  r.AddSchema("ReadingSegment", Obj({{"id", Int()},
                                     {"code", Str()},
                                     {"name", Str()},
                                     {"department_id", Int()},
                                     {"reading_day", Int("抄表例日, 1..28")},
                                     {"cycle", Enum(kCycles)},
                                     {"read_months", ArrayOf(Int())},
                                     {"reader_user_id", NullableInt()},
                                     {"reader_name", Str()},
                                     {"status", Enum(kSegmentStatuses)},
                                     {"point_count", Int()},
                                     {"version", Int()},
                                     {"created_at", Str()},
                                     {"updated_at", Str()}},
                                    {"id", "code", "name", "department_id", "reading_day", "cycle",
                                     "read_months", "status", "version"}));
  r.AddSchema("ReadingSegmentInput",
              Obj({{"code", Str("1-32 of A-Z a-z 0-9 _ . -; required on create")},
                   {"name", Str("required on create")},
                   {"department_id", Int("required on create")},
                   {"reading_day", Int("1..28; required on create")},
                   {"cycle", Enum(kCycles)},
                   {"read_months",
                    ArrayOf(Int("1..12: all twelve for monthly; six alternate months for bimonthly "
                                "(default: the odd months)"))},
                   {"reader_user_id", NullableInt()},
                   {"status", Enum(kSegmentStatuses)},
                   {"version", VersionField()}}));
  r.AddSchema("SegmentPoint", Obj({{"metering_point_id", Int()},
                                   {"code", Str()},
                                   {"name", Str()},
                                   {"customer_no", Str()},
                                   {"customer_name", Str()},
                                   {"department_id", Int()},
                                   {"added_at", Str()}},
                                  {"metering_point_id", "code"}));
  r.AddSchema(
      "SegmentPointsRequest",
      Obj({{"version", VersionField()}, {"point_ids", ArrayOf(Int())}}, {"version", "point_ids"}));
  r.AddSchema("ReadingPlan",
              Obj({{"id", Int()},
                   {"segment_id", Int()},
                   {"segment_code", Str()},
                   {"segment_name", Str()},
                   {"period", Str("YYYY-MM")},
                   {"reading_date", Str("YYYY-MM-DD")},
                   {"department_id", Int()},
                   {"reader_user_id", NullableInt()},
                   {"status", Enum(kPlanStatuses)},
                   {"point_count", Int()},
                   {"read_count", Int()},
                   {"flagged_count", Int()},
                   {"approved_count", Int()},
                   {"estimated_count", Int()},
                   {"missing_count", Int()},
                   {"version", Int()},
                   {"created_at", Str()},
                   {"updated_at", Str()}},
                  {"id", "segment_id", "period", "reading_date", "status", "point_count",
                   "read_count", "flagged_count", "approved_count", "missing_count"}));
  r.AddSchema("GeneratePlansRequest",
              Obj({{"period", Str("YYYY-MM")},
                   {"department_id", Int("only segments of that department and below")}},
                  {"period"}));
  r.AddSchema("GeneratePlansResult",
              Obj({{"created", ArrayOf(Ref("ReadingPlan"))},
                   {"existing", Int("plans of the period that were there already")}},
                  {"created", "existing"}));
  r.AddSchema("PlanActionRequest",
              {{"type", "object"},
               {"description", "an empty object (or no body): the plan is in the path"},
               {"properties", json::object()}});
  json issues =
      ArrayOf(Obj({{"metering_point_id", Int()}, {"point_code", Str()}, {"message", Str()}}));
  r.AddSchema("CollectResult", Obj({{"plan_id", Int()},
                                    {"frozen_day", Str("the frozen rows taken: reading date + 1")},
                                    {"collected", Int()},
                                    {"approved", Int()},
                                    {"flagged", Int()},
                                    {"already_read", Int()},
                                    {"missing", Int()},
                                    {"issues", issues}},
                                   {"plan_id", "collected", "missing", "issues"}));
  r.AddSchema(
      "EstimateResult",
      Obj({{"plan_id", Int()}, {"estimated", Int()}, {"already_read", Int()}, {"issues", issues}},
          {"plan_id", "estimated", "issues"}));
  r.AddSchema("MeterRead",
              Obj({{"id", Int()},
                   {"metering_point_id", Int()},
                   {"point_code", Str()},
                   {"department_id", Int()},
                   {"period", Str("YYYY-MM")},
                   {"plan_id", NullableInt()},
                   {"installation_id", Int()},
                   {"meter_asset_no", Str()},
                   {"read_date", Str("YYYY-MM-DD: the registers at the end of that day")},
                   {"registers", Ref("ReadRegisters")},
                   {"multiplier", Int()},
                   {"source", Enum(kSources)},
                   {"status", Enum({"pending", "flagged", "approved", "superseded"})},
                   {"flags", ArrayOf(Enum(kRules))},
                   {"findings", ArrayOf(Obj({{"rule", Enum(kRules)}, {"message", Str()}},
                                            {"rule", "message"}))},
                   {"rollover", ArrayOf(Str())},
                   {"billable", Bool()},
                   {"consumption_kwh", NullableStr()},
                   {"first_day", Str()},
                   {"days", Int()},
                   {"corrected_from", NullableInt()},
                   {"corrected_by", NullableInt()},
                   {"import_id", NullableInt()},
                   {"note", Str()},
                   {"entered_by", NullableInt()},
                   {"reviewed_by", NullableInt()},
                   {"reviewed_at", NullableStr()},
                   {"version", Int()},
                   {"created_at", Str()},
                   {"updated_at", Str()}},
                  {"id", "metering_point_id", "period", "read_date", "registers", "source",
                   "status", "flags", "findings", "billable", "version"}));
  r.AddSchema("MeterReadInput", Obj({{"metering_point_id", Int()},
                                     {"period", Str("YYYY-MM; default: the read date's month")},
                                     {"read_date", Str("YYYY-MM-DD")},
                                     {"registers", Ref("ReadRegisters")},
                                     {"note", Str()}},
                                    {"metering_point_id", "read_date", "registers"}));
  r.AddSchema("ReadImportFile",
              {{"type", "string"},
               {"format", "binary"},
               {"description",
                "a CSV (UTF-8 or GBK) or xlsx file: a header line naming point_code, read_date, "
                "optionally period, and register columns (total, sharp, peak, flat, valley, "
                "export, reactive_import, reactive_export, max_demand; or 计量点编号, 抄表日期, "
                "电费年月, 总, 尖, 峰, 平, 谷, ...), then one read per line"}});
  r.AddSchema("ReadImportResult", Obj({{"import_id", Int()},
                                       {"lines", Int()},
                                       {"reads", Int()},
                                       {"approved", Int()},
                                       {"flagged", Int()},
                                       {"charset", Str()}},
                                      {"import_id", "lines", "reads", "approved", "flagged"}));
  r.AddSchema("ApproveRequest", Obj({{"version", VersionField()}}, {"version"}));
  r.AddSchema("CorrectionRequest",
              Obj({{"version", VersionField()},
                   {"registers", Ref("ReadRegisters")},
                   {"read_date", Str("YYYY-MM-DD; default: the corrected read's")},
                   {"reason", Str("why the read is corrected (audited)")}},
                  {"version", "registers", "reason"}));
  r.AddSchema("DailyFrozen", Obj({{"metering_point_id", Int()},
                                  {"day", Str("YYYY-MM-DD: frozen at 00:00 of that day")},
                                  {"multiplier", Int()},
                                  {"registers", Ref("ReadRegisters")},
                                  {"quality", Enum({"valid", "estimated", "edited"})}},
                                 {"metering_point_id", "day", "registers"}));
  r.AddSchema("DailyFrozenList", Obj({{"items", ArrayOf(Ref("DailyFrozen"))}}, {"items"}));
  json rules_props = {
      {"above_last_month_pct", Int("flag when the average daily use is above this % of last "
                                   "month's")},
      {"below_last_month_pct", Int("flag when below this % of last month's")},
      {"above_last_year_pct", Int("the same against the same month last year")},
      {"below_last_year_pct", Int()},
      {"min_compare_kwh", Str("compare only against a period that used at least this")},
      {"tou_tolerance_kwh", Str("allowed |TOU sum - total| per TOU register")},
      {"flag_zero_use", Bool()},
      {"estimate_method", Enum({"recent", "last_year"})},
      {"estimate_periods", Int("1..12: periods averaged by the recent method")}};
  json rules =
      Obj({{"department_id", NullableInt()},  // whose rules these are; null: the built-in defaults
           {"version", Int()}},
          {"above_last_month_pct", "below_last_month_pct", "min_compare_kwh", "estimate_method",
           "version"});
  for (auto it = rules_props.begin(); it != rules_props.end(); ++it) {
    rules["properties"][it.key()] = it.value();
  }
  r.AddSchema("ReviewRules", rules);
  json input = Obj({{"version", Int("the department's own rules' version; 0 when it has none")}},
                   {"version", "above_last_month_pct", "below_last_month_pct",
                    "above_last_year_pct", "below_last_year_pct", "min_compare_kwh",
                    "tou_tolerance_kwh", "flag_zero_use", "estimate_method", "estimate_periods"});
  for (auto it = rules_props.begin(); it != rules_props.end(); ++it) {
    input["properties"][it.key()] = it.value();
  }
  r.AddSchema("ReviewRulesInput", input);
}

Result<ReadQuery> ReadQueryOf(const http::Request& req, const http::Page& page) {
  ReadQuery q;
  ASSIGN_OR_RETURN(q.metering_point_id, http::QueryInt(req, "metering_point_id"));
  ASSIGN_OR_RETURN(q.plan_id, http::QueryInt(req, "plan_id"));
  ASSIGN_OR_RETURN(q.period, QueryPeriod(req, "period"));
  ASSIGN_OR_RETURN(q.department_id, http::QueryInt(req, "department_id"));
  ASSIGN_OR_RETURN(q.status, QueryEnum(req, "status", kReadStatuses));
  ASSIGN_OR_RETURN(q.flag, QueryEnum(req, "flag", kRules));
  ASSIGN_OR_RETURN(q.source, QueryEnum(req, "source", kSources));
  q.page = page.page;
  q.page_size = page.page_size;
  return q;
}

json ReadsJson(const std::vector<Read>& reads) {
  json items = json::array();
  for (const auto& r : reads) items.push_back(ToJson(r));
  return items;
}

}  // namespace

void AddRoutes(http::Router& router, ReadingService& reading) {
  AddSchemas(router);
  ReadingService* s = &reading;

  // ---- Segments ----
  router.Add({.method = "GET",
              .pattern = "/api/v1/reading-segments",
              .permission = "reading.read",
              .summary = "Reading segments (抄表段) in your data scope, by code",
              .tag = "reading",
              .query = {{"q", "string", "code prefix"},
                        {"department_id", "integer", "that department and below"},
                        {"status", "string", "active, inactive"}},
              .response = "ReadingSegment",
              .list = true,
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
                SegmentQuery q;
                ASSIGN_OR_RETURN(q.q, QueryText(ctx.req, "q", 32));
                ASSIGN_OR_RETURN(q.department_id, http::QueryInt(ctx.req, "department_id"));
                ASSIGN_OR_RETURN(q.status, QueryEnum(ctx.req, "status", kSegmentStatuses));
                q.page = page.page;
                q.page_size = page.page_size;
                grid::CappedCount total;
                ASSIGN_OR_RETURN(auto list, s->ListSegments(ctx.actor, q, &total));
                json items = json::array();
                for (const auto& x : list) items.push_back(ToJson(x));
                return JsonReply(CappedPage(std::move(items), page, total));
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/reading-segments",
              .permission = "reading.write",
              .summary = "Create a reading segment: a reading day, a cycle and a reader",
              .tag = "reading",
              .request = "ReadingSegmentInput",
              .response = "ReadingSegment",
              .success_status = 201,
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                SegmentInput in = ReadSegmentInput(f, body);
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(Segment x, s->CreateSegment(ctx.actor, in));
                return JsonReply(ToJson(x), 201);
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/reading-segments/{id}",
              .permission = "reading.read",
              .summary = "One reading segment",
              .tag = "reading",
              .response = "ReadingSegment",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(Segment x, s->GetSegment(ctx.actor, id));
                return JsonReply(ToJson(x));
              }});
  router.Add({.method = "PATCH",
              .pattern = "/api/v1/reading-segments/{id}",
              .permission = "reading.write",
              .summary = "Change a reading segment (with its version)",
              .tag = "reading",
              .request = "ReadingSegmentInput",
              .response = "ReadingSegment",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                int64_t version = f.Int("version", {.min = 1});
                SegmentInput in = ReadSegmentInput(f, body);
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(Segment x, s->UpdateSegment(ctx.actor, id, version, in));
                return JsonReply(ToJson(x));
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/reading-segments/{id}/points",
              .permission = "reading.read",
              .summary = "The metering points of a reading segment, by code",
              .tag = "reading",
              .response = "SegmentPoint",
              .list = true,
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
                int64_t total = 0;
                ASSIGN_OR_RETURN(
                    auto list, s->SegmentPoints(ctx.actor, id, page.page, page.page_size, &total));
                return JsonReply(http::PageOf(list, page, total));
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/reading-segments/{id}/points",
              .permission = "reading.write",
              .summary = "Add metering points to a segment (a point is in at most one segment)",
              .tag = "reading",
              .request = "SegmentPointsRequest",
              .response = "ReadingSegment",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                int64_t version = f.Int("version", {.min = 1});
                ASSIGN_OR_RETURN(auto ids, ReadIds(f, "point_ids"));
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(Segment x, s->AddPoints(ctx.actor, id, version, ids));
                return JsonReply(ToJson(x));
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/reading-segments/{id}/points/remove",
              .permission = "reading.write",
              .summary = "Remove metering points from a segment",
              .tag = "reading",
              .request = "SegmentPointsRequest",
              .response = "ReadingSegment",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                int64_t version = f.Int("version", {.min = 1});
                ASSIGN_OR_RETURN(auto ids, ReadIds(f, "point_ids"));
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(Segment x, s->RemovePoints(ctx.actor, id, version, ids));
                return JsonReply(ToJson(x));
              }});

  // ---- Plans ----
  router.Add({.method = "POST",
              .pattern = "/api/v1/reading-plans/generate",
              .permission = "reading.write",
              .summary = "Generate the reading plans of a period for the active segments that "
                         "read in its month (a second call creates nothing)",
              .tag = "reading",
              .request = "GeneratePlansRequest",
              .response = "GeneratePlansResult",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                std::string period_text = f.String("period", {.max_len = 7});
                auto department_id = f.OptInt("department_id", {.min = 1});
                RETURN_IF_ERROR(f.Finish());
                auto period = YearMonth::Parse(period_text, "period");
                if (!period.ok()) return InvalidArgument(period.status().message(), "period");
                ASSIGN_OR_RETURN(GenerateResult r,
                                 s->GeneratePlans(ctx.actor, *period, department_id));
                json created = json::array();
                for (const auto& p : r.created) created.push_back(ToJson(p));
                return JsonReply({{"created", created}, {"existing", r.existing}});
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/reading-plans",
              .permission = "reading.read",
              .summary = "Reading plans with their counts, newest period first",
              .tag = "reading",
              .query = {{"period", "string", "YYYY-MM"},
                        {"segment_id", "integer", "plans of this segment"},
                        {"department_id", "integer", "that department and below"},
                        {"status", "string", "planned, reading, reviewing, completed"}},
              .response = "ReadingPlan",
              .list = true,
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
                PlanQuery q;
                ASSIGN_OR_RETURN(q.period, QueryPeriod(ctx.req, "period"));
                ASSIGN_OR_RETURN(q.segment_id, http::QueryInt(ctx.req, "segment_id"));
                ASSIGN_OR_RETURN(q.department_id, http::QueryInt(ctx.req, "department_id"));
                ASSIGN_OR_RETURN(q.status, QueryEnum(ctx.req, "status", kPlanStatuses));
                q.page = page.page;
                q.page_size = page.page_size;
                int64_t total = 0;
                ASSIGN_OR_RETURN(auto list, s->ListPlans(ctx.actor, q, &total));
                return JsonReply(http::PageOf(list, page, total));
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/reading-plans/{id}",
              .permission = "reading.read",
              .summary = "One reading plan with its counts (points, read, flagged, approved, "
                         "estimated, missing)",
              .tag = "reading",
              .response = "ReadingPlan",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(Plan x, s->GetPlan(ctx.actor, id));
                return JsonReply(ToJson(x));
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/reading-plans/{id}/collect",
              .permission = "reading.write",
              .summary = "Take the reads of a plan from the acquisition system's daily frozen "
                         "registers of its reading date (rerunning adds only what is new)",
              .tag = "reading",
              .request = "PlanActionRequest",
              .response = "CollectResult",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                if (!ctx.req.body.empty()) {
                  ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                  RETURN_IF_ERROR(JsonFields(body).Finish());
                }
                ASSIGN_OR_RETURN(CollectResult r, s->CollectFrozen(ctx.actor, id));
                return JsonReply({{"plan_id", r.plan_id},
                                  {"frozen_day", r.frozen_day.ToString()},
                                  {"collected", r.collected},
                                  {"approved", r.approved},
                                  {"flagged", r.flagged},
                                  {"already_read", r.already_read},
                                  {"missing", r.missing},
                                  {"issues", IssuesJson(r.issues)}});
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/reading-plans/{id}/estimate",
              .permission = "reading.write",
              .summary = "Estimate the reads still missing after the plan's reading date "
                         "(flagged estimated, to the review queue)",
              .tag = "reading",
              .request = "PlanActionRequest",
              .response = "EstimateResult",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                if (!ctx.req.body.empty()) {
                  ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                  RETURN_IF_ERROR(JsonFields(body).Finish());
                }
                ASSIGN_OR_RETURN(EstimateResult r, s->EstimateMissing(ctx.actor, id));
                return JsonReply({{"plan_id", r.plan_id},
                                  {"estimated", r.estimated},
                                  {"already_read", r.already_read},
                                  {"issues", IssuesJson(r.issues)}});
              }});

  // ---- Reads ----
  std::vector<http::QueryParamDoc> read_filters = {
      {"metering_point_id", "integer", "reads of this point"},
      {"plan_id", "integer", "reads of this plan"},
      {"period", "string", "YYYY-MM"},
      {"department_id", "integer", "that department and below"},
      {"status", "string",
       "pending, flagged, approved, superseded, all (default: all but "
       "superseded)"},
      {"flag", "string", "reads where this review rule fired"},
      {"source", "string", "frozen, manual, import, estimate, correction"}};
  router.Add({.method = "GET",
              .pattern = "/api/v1/meter-reads",
              .permission = "reading.read",
              .summary = "Meter reads of a point, a plan or a period, newest period first",
              .tag = "reading",
              .query = read_filters,
              .response = "MeterRead",
              .list = true,
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
                ASSIGN_OR_RETURN(ReadQuery q, ReadQueryOf(ctx.req, page));
                grid::CappedCount total;
                ASSIGN_OR_RETURN(auto list, s->ListReads(ctx.actor, q, &total));
                return JsonReply(CappedPage(ReadsJson(list), page, total));
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/meter-reads/{id}",
              .permission = "reading.read",
              .summary = "One meter read with the review rules that fired",
              .tag = "reading",
              .response = "MeterRead",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(Read x, s->GetRead(ctx.actor, id));
                return JsonReply(ToJson(x));
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/meter-reads",
              .permission = "reading.write",
              .summary = "Enter a read by hand; the review rules approve it or send it to the "
                         "review queue",
              .tag = "reading",
              .request = "MeterReadInput",
              .response = "MeterRead",
              .success_status = 201,
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                ReadInput in;
                in.metering_point_id = f.Int("metering_point_id", {.min = 1});
                if (auto p = f.OptString("period", {.max_len = 7})) {
                  auto period = YearMonth::Parse(*p, "period");
                  if (!period.ok()) return InvalidArgument(period.status().message(), "period");
                  in.period = *period;
                }
                ASSIGN_OR_RETURN(in.read_date, ReadDate(f, "read_date"));
                ASSIGN_OR_RETURN(in.registers, ReadRegisters(f, "registers"));
                in.note = f.OptString("note", {.max_len = 500, .min_len = 0}).value_or("");
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(Read x, s->EnterRead(ctx.actor, in));
                return JsonReply(ToJson(x), 201);
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/meter-reads/import",
              .permission = "reading.write",
              .summary =
                  "Import a file of reads: the body is the file, Content-Type text/csv (UTF-8 or "
                  "GBK; charset= names it, else detected) or the xlsx type. A bad file is "
                  "rejected whole (400 with every bad line in `lines`) and nothing is stored",
              .tag = "reading",
              .query = {{"file_name", "string", "the file's name, for the audit trail"},
                        {"charset", "string",
                         "csv: utf-8 or gbk (default: from Content-Type or "
                         "detected)"}},
              .request = "ReadImportFile",
              .content_types = {"text/csv", kXlsxType},
              .response = "ReadImportResult",
              .success_status = 201,
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                std::string_view type = ctx.req.Header("content-type");
                ImportOptions options;
                options.format = type.rfind(kXlsxType, 0) == 0 ? "xlsx" : "csv";
                ASSIGN_OR_RETURN(options.file_name, QueryText(ctx.req, "file_name", 200));
                if (options.file_name.empty()) options.file_name = "upload." + options.format;
                ASSIGN_OR_RETURN(options.charset, QueryText(ctx.req, "charset", 20));
                if (options.charset.empty()) options.charset = CharsetOf(type);
                if (ctx.req.body.empty()) {
                  return InvalidArgument(
                      "the request body must be the file (Content-Type text/csv "
                      "or " +
                          std::string(kXlsxType) + ")",
                      "file");
                }
                std::istringstream in(ctx.req.body);
                std::vector<ImportLineError> lines;
                auto r = s->Import(ctx.actor, in, options, &lines);
                if (!r.ok()) {
                  if (lines.empty()) return r.status();
                  json errors = json::array();
                  for (const auto& e : lines)
                    errors.push_back({{"line", e.line}, {"message", e.message}});
                  return JsonReply({{"error",
                                     {{"code", std::string(StatusCodeName(r.status().code()))},
                                      {"message", r.status().message()},
                                      {"field", r.status().field()}}},
                                    {"lines", errors}},
                                   http::HttpStatusFor(r.status().code()));
                }
                return JsonReply({{"import_id", r->import_id},
                                  {"lines", r->lines},
                                  {"reads", r->reads},
                                  {"approved", r->approved},
                                  {"flagged", r->flagged},
                                  {"charset", r->charset}},
                                 201);
              }});

  // ---- Review ----
  router.Add({.method = "GET",
              .pattern = "/api/v1/review-queue",
              .permission = "reading.read",
              .summary = "Flagged reads waiting for review with the rules that fired and why, "
                         "oldest period first",
              .tag = "reading",
              .query = read_filters,
              .response = "MeterRead",
              .list = true,
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
                ASSIGN_OR_RETURN(ReadQuery q, ReadQueryOf(ctx.req, page));
                grid::CappedCount total;
                ASSIGN_OR_RETURN(auto list, s->ReviewQueue(ctx.actor, q, &total));
                return JsonReply(CappedPage(ReadsJson(list), page, total));
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/meter-reads/{id}/approve",
              .permission = "reading.review",
              .summary = "Approve a flagged read: it becomes the billable read of its period",
              .tag = "reading",
              .request = "ApproveRequest",
              .response = "MeterRead",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                int64_t version = f.Int("version", {.min = 1});
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(Read x, s->Approve(ctx.actor, id, version));
                return JsonReply(ToJson(x));
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/meter-reads/{id}/correct",
              .permission = "reading.review",
              .summary = "Correct a read: a new approved read replaces it (the old one is kept, "
                         "superseded), audited with the reason",
              .tag = "reading",
              .request = "CorrectionRequest",
              .response = "MeterRead",
              .success_status = 201,
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                int64_t version = f.Int("version", {.min = 1});
                CorrectionInput in;
                ASSIGN_OR_RETURN(in.registers, ReadRegisters(f, "registers"));
                if (auto d = f.OptString("read_date", {.max_len = 10})) {
                  auto date = Date::Parse(*d, "read_date");
                  if (!date.ok()) return InvalidArgument(date.status().message(), "read_date");
                  in.read_date = *date;
                }
                in.reason = f.String("reason", {.max_len = 500});
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(Read x, s->Correct(ctx.actor, id, version, in));
                return JsonReply(ToJson(x), 201);
              }});

  // ---- Daily frozen ----
  router.Add({.method = "GET",
              .pattern = "/api/v1/metering-points/{id}/daily-frozen",
              .permission = "reading.read",
              .summary = "A metering point's daily frozen registers (日冻结) between two days",
              .tag = "reading",
              .query = {{"from", "string", "YYYY-MM-DD (default: 30 days before `to`)"},
                        {"to", "string", "YYYY-MM-DD (default: today)"}},
              .response = "DailyFrozenList",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(auto from, QueryDate(ctx.req, "from"));
                ASSIGN_OR_RETURN(auto to, QueryDate(ctx.req, "to"));
                ASSIGN_OR_RETURN(auto rows, s->DailyFrozenOfPoint(ctx.actor, id, from, to));
                json items = json::array();
                for (const auto& r : rows) items.push_back(ToJson(r));
                return JsonReply({{"items", items}});
              }});

  // ---- Review rules ----
  router.Add({.method = "GET",
              .pattern = "/api/v1/reading-rules/{department_id}",
              .permission = "reading.read",
              .summary = "The review rules in force for a department (its own, the nearest "
                         "above, or the defaults)",
              .tag = "reading",
              .response = "ReviewRules",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam("department_id"));
                ASSIGN_OR_RETURN(ReviewRules r, s->GetRules(ctx.actor, id));
                return JsonReply(ToJson(r));
              }});
  router.Add({.method = "PUT",
              .pattern = "/api/v1/reading-rules/{department_id}",
              .permission = "reading.review",
              .summary = "Set a department's own review rules (for it and below)",
              .tag = "reading",
              .request = "ReviewRulesInput",
              .response = "ReviewRules",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam("department_id"));
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                int64_t version = f.Int("version", {.min = 0});
                ASSIGN_OR_RETURN(ReviewRules rules, ReadRulesInput(f));
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(ReviewRules r, s->SetRules(ctx.actor, id, version, rules));
                return JsonReply(ToJson(r));
              }});
}

}  // namespace gridmis::reading
