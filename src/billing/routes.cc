#include "billing/routes.h"

#include "grid/route_helpers.h"

namespace gridmis::billing {

using grid::api::ArrayOf;
using grid::api::Bool;
using grid::api::Enum;
using grid::api::Int;
using grid::api::JsonReply;
using grid::api::NullableInt;
using grid::api::NullableStr;
using grid::api::Obj;
using grid::api::QueryEnum;
using grid::api::Ref;
using grid::api::Str;
using grid::api::VersionField;
using http::JsonFields;
using http::Reply;
using http::RouteContext;
using nlohmann::json;

namespace {

const std::initializer_list<std::string_view> kBillStatuses = {"calculated", "review", "held",
                                                               "approved",   "issued", "cancelled"};
const std::initializer_list<std::string_view> kBasicModes = {"none", "capacity", "declared_demand",
                                                             "actual_demand"};

Result<Decimal> ParseDecimalField(const std::string& text, const std::string& field) {
  auto d = Decimal::Parse(text, 8, field);
  if (!d.ok()) return InvalidArgument(d.status().message(), field);
  return *d;
}

Result<Date> ParseDateField(const std::string& text, const std::string& field) {
  auto d = Date::Parse(text, field);
  if (!d.ok()) return InvalidArgument(d.status().message(), field);
  return *d;
}

Result<YearMonth> ParsePeriodField(const std::string& text, const std::string& field) {
  auto p = YearMonth::Parse(text, field);
  if (!p.ok()) return InvalidArgument(p.status().message(), field);
  return *p;
}

// A nullable date: absent or null = none.
Result<std::optional<Date>> OptDate(JsonFields& f, const json& body, const std::string& name) {
  auto it = body.find(name);
  if (it != body.end() && it->is_null()) {
    f.Allow(name);
    return std::optional<Date>();
  }
  auto s = f.OptString(name, {.max_len = 10});
  RETURN_IF_ERROR(f.error());
  if (!s) return std::optional<Date>();
  ASSIGN_OR_RETURN(Date d, ParseDateField(*s, f.FieldName(name)));
  return std::optional<Date>(d);
}

Result<rating::TransformerLossConfig> ReadTransformer(const json& obj) {
  if (!obj.is_object()) {
    return InvalidArgument("transformer must be an object or null", "transformer");
  }
  JsonFields f(obj, "transformer.");
  rating::TransformerLossConfig t;
  std::string method = f.OptEnum("method", {"formula", "table"}).value_or("formula");
  t.method = method == "table" ? rating::TransformerLossConfig::Method::kTable
                               : rating::TransformerLossConfig::Method::kFormula;
  t.rated_kva = f.Int("rated_kva", {.min = 1, .max = 1'000'000});
  auto dec = [&](const char* name, Decimal* out, bool required) -> Status {
    auto text = required ? std::optional<std::string>(f.DecimalText(name)) : f.OptDecimalText(name);
    RETURN_IF_ERROR(f.error());
    if (!text) return Status::Ok();
    ASSIGN_OR_RETURN(*out, ParseDecimalField(*text, f.FieldName(name)));
    return Status::Ok();
  };
  bool formula = t.method == rating::TransformerLossConfig::Method::kFormula;
  RETURN_IF_ERROR(dec("no_load_loss_kw", &t.no_load_loss_kw, formula));
  RETURN_IF_ERROR(dec("load_loss_kw", &t.load_loss_kw, formula));
  RETURN_IF_ERROR(dec("no_load_current_pct", &t.no_load_current_pct, formula));
  RETURN_IF_ERROR(dec("impedance_voltage_pct", &t.impedance_voltage_pct, formula));
  RETURN_IF_ERROR(dec("correction", &t.correction, false));
  t.loss_table = f.OptString("loss_table", {.max_len = 64, .min_len = 0}).value_or("");
  t.shift_load_kwh = f.OptInt("shift_load_kwh", {.min = 0, .max = 1'000'000'000}).value_or(0);
  RETURN_IF_ERROR(f.Finish());
  return t;
}

Result<BillingParameters> ReadParameters(JsonFields& f, const json& body) {
  BillingParameters p;
  std::string mode = f.OptEnum("basic_mode", kBasicModes).value_or("none");
  RETURN_IF_ERROR(f.error());
  ASSIGN_OR_RETURN(p.basic_mode, ParseBasicMode(mode, "basic_mode"));
  p.declared_demand_kw = f.OptInt("declared_demand_kw", {.min = 1, .max = 10'000'000});
  auto tx = body.find("transformer");
  if (tx != body.end()) {
    f.Allow("transformer");
    if (!tx->is_null()) {
      ASSIGN_OR_RETURN(p.transformer, ReadTransformer(*tx));
    }
  }
  if (auto rate = f.OptDecimalText("line_loss_rate")) {
    ASSIGN_OR_RETURN(p.line_loss_rate, ParseDecimalField(*rate, "line_loss_rate"));
  }
  RETURN_IF_ERROR(f.error());
  if (const json* subs = f.OptArray("sub_allocations")) {
    if (subs->size() > 10) {
      return InvalidArgument("sub_allocations has more than 10 entries", "sub_allocations");
    }
    for (size_t i = 0; i < subs->size(); ++i) {
      std::string prefix = "sub_allocations[" + std::to_string(i) + "].";
      if (!(*subs)[i].is_object()) {
        return InvalidArgument(prefix.substr(0, prefix.size() - 1) + " must be an object",
                               prefix.substr(0, prefix.size() - 1));
      }
      JsonFields e((*subs)[i], prefix);
      rating::SubAllocation s;
      s.tariff_code = e.String("tariff_code", {.max_len = 32});
      if (auto r = e.OptDecimalText("ratio")) {
        ASSIGN_OR_RETURN(s.ratio, ParseDecimalField(*r, prefix + "ratio"));
      }
      s.fixed_kwh = e.OptInt("fixed_kwh", {.min = 1, .max = 100'000'000});
      s.label = e.OptString("label", {.max_len = 50, .min_len = 0}).value_or("");
      RETURN_IF_ERROR(e.Finish());
      p.sub_allocations.push_back(std::move(s));
    }
  }
  if (const json* sus = f.OptArray("suspensions")) {
    if (sus->size() > 50) {
      return InvalidArgument("suspensions has more than 50 entries", "suspensions");
    }
    for (size_t i = 0; i < sus->size(); ++i) {
      std::string prefix = "suspensions[" + std::to_string(i) + "].";
      if (!(*sus)[i].is_object()) {
        return InvalidArgument(prefix.substr(0, prefix.size() - 1) + " must be an object",
                               prefix.substr(0, prefix.size() - 1));
      }
      JsonFields e((*sus)[i], prefix);
      std::string first = e.String("first", {.max_len = 10});
      std::string last = e.String("last", {.max_len = 10});
      RETURN_IF_ERROR(e.Finish());
      rating::DayRange r;
      ASSIGN_OR_RETURN(r.first, ParseDateField(first, prefix + "first"));
      ASSIGN_OR_RETURN(r.last, ParseDateField(last, prefix + "last"));
      p.suspensions.push_back(r);
    }
  }
  p.household_multiplier = f.OptInt("household_multiplier", {.min = 1, .max = 10}).value_or(1);
  p.free_allowance_kwh = f.OptInt("free_allowance_kwh", {.min = 0, .max = 1000}).value_or(0);
  RETURN_IF_ERROR(f.error());
  ASSIGN_OR_RETURN(p.service_start, OptDate(f, body, "service_start"));
  ASSIGN_OR_RETURN(p.service_end, OptDate(f, body, "service_end"));
  return p;
}

Result<std::optional<YearMonth>> QueryPeriod(const http::Request& req) {
  auto v = req.Query("period");
  if (!v || v->empty()) return std::optional<YearMonth>();
  ASSIGN_OR_RETURN(YearMonth p, ParsePeriodField(std::string(*v), "period"));
  return std::optional<YearMonth>(p);
}

Result<BillQuery> ReadBillQuery(const http::Request& req) {
  BillQuery q;
  ASSIGN_OR_RETURN(q.run_id, http::QueryInt(req, "run_id"));
  ASSIGN_OR_RETURN(q.metering_point_id, http::QueryInt(req, "metering_point_id"));
  ASSIGN_OR_RETURN(q.customer_id, http::QueryInt(req, "customer_id"));
  ASSIGN_OR_RETURN(q.department_id, http::QueryInt(req, "department_id"));
  ASSIGN_OR_RETURN(q.status, QueryEnum(req, "status", kBillStatuses));
  ASSIGN_OR_RETURN(q.period, QueryPeriod(req));
  return q;
}

const std::vector<http::QueryParamDoc> kBillQueryDocs = {
    {"run_id", "integer", "bills of this run"},
    {"metering_point_id", "integer", "bills of this metering point"},
    {"customer_id", "integer", "bills of this customer"},
    {"department_id", "integer", "that department and below"},
    {"status", "string",
     "calculated, review (the review queue), held, approved, issued, cancelled"},
    {"period", "string", "YYYY-MM"}};

// {"version": n, <extra>} bodies of the review actions.
struct ActionBody {
  int64_t version = 0;
  std::string text;
  bool rebill = false;
};

Result<ActionBody> ReadAction(const http::Request& req, const char* text_field, bool text_required,
                              bool with_rebill) {
  ASSIGN_OR_RETURN(json body, http::ParseJsonObject(req.body));
  JsonFields f(body);
  ActionBody a;
  a.version = f.Int("version", {.min = 1});
  if (text_field) {
    if (text_required) {
      a.text = f.String(text_field, {.max_len = 500});
    } else {
      a.text = f.OptString(text_field, {.max_len = 500, .min_len = 0}).value_or("");
    }
  }
  if (with_rebill) a.rebill = f.OptBool("rebill").value_or(true);
  RETURN_IF_ERROR(f.Finish());
  return a;
}

void AddSchemas(http::Router& r) {
  json decimal = Str("decimal number as a string");
  r.AddSchema("TransformerLoss",
              Obj({{"method", Enum({"formula", "table"})},
                   {"rated_kva", Int("Se")},
                   {"no_load_loss_kw", Str("P0, e.g. \"0.57\"")},
                   {"load_loss_kw", Str("Pk")},
                   {"no_load_current_pct", Str("I0%")},
                   {"impedance_voltage_pct", Str("Uk%")},
                   {"correction", Str("K, default 1")},
                   {"loss_table", Str("table method: a loss table of the catalogue")},
                   {"shift_load_kwh", Int("table method: 班次负荷电量 per 30 days")}},
                  {"rated_kva"}));
  r.AddSchema("SubAllocation", Obj({{"tariff_code", Str()},
                                    {"ratio", Str("定比, e.g. \"0.03\"")},
                                    {"fixed_kwh", Int("定量 per month")},
                                    {"label", Str("e.g. 办公照明")}},
                                   {"tariff_code"}));
  r.AddSchema("DayRange",
              Obj({{"first", Str("YYYY-MM-DD")}, {"last", Str("YYYY-MM-DD")}}, {"first", "last"}));
  json params_props = {
      {"basic_mode", Enum(kBasicModes)},
      {"declared_demand_kw", NullableInt()},
      {"transformer", {{"allOf", json::array({Ref("TransformerLoss")})}, {"nullable", true}}},
      {"line_loss_rate", NullableStr()},
      {"sub_allocations", ArrayOf(Ref("SubAllocation"))},
      {"suspensions", ArrayOf(Ref("DayRange"))},
      {"household_multiplier", Int("一户多人口 tier multiplier, 1-10")},
      {"free_allowance_kwh", Int("低保/五保 kWh per month")},
      {"service_start", NullableStr()},
      {"service_end", NullableStr()}};
  json out = Obj({{"metering_point_id", Int()}, {"version", Int("0 when none are stored")}},
                 {"metering_point_id", "basic_mode", "version"});
  json in = Obj({{"version", Int("0 to create, else the stored version")}}, {"version"});
  for (auto it = params_props.begin(); it != params_props.end(); ++it) {
    out["properties"][it.key()] = *it;
    in["properties"][it.key()] = *it;
  }
  out["properties"]["created_at"] = NullableStr();
  out["properties"]["updated_at"] = NullableStr();
  r.AddSchema("BillingParameters", out);
  r.AddSchema("BillingParametersInput", in);

  r.AddSchema("BillLine", Obj({{"kind", Str("energy, tier_increment, basic_capacity, "
                                            "basic_demand, basic_overage, pf_adjustment, fund, "
                                            "free_allowance, refund")},
                               {"rule", Str()},
                               {"description", Str("as printed")},
                               {"tariff_code", Str()},
                               {"period_code", Str("TOU period or empty")},
                               {"tier", Int()},
                               {"quantity", decimal},
                               {"unit", Str()},
                               {"unit_price", decimal},
                               {"amount", Str("yuan")},
                               {"amount_fen", Int()},
                               {"sources", ArrayOf(Str())}},
                              {"kind", "amount"}));
  r.AddSchema(
      "Bill",
      Obj({{"id", Int()},
           {"bill_no", Str()},
           {"metering_point_id", Int()},
           {"metering_point_code", Str()},
           {"metering_point_name", Str()},
           {"customer_id", Int()},
           {"customer_no", Str()},
           {"customer_name", Str()},
           {"account_id", NullableInt()},
           {"department_id", Int()},
           {"period", Str("YYYY-MM")},
           {"seq", Int("1, then 2, 3 for rebills")},
           {"status", Enum(kBillStatuses)},
           {"tariff_code", Str()},
           {"tariff_version", Str()},
           {"customer_category", Str()},
           {"first_day", Str()},
           {"last_day", Str()},
           {"billed_kwh", Int()},
           {"tier_kwh", ArrayOf(Int())},
           {"tier_cumulative_after_kwh", Int()},
           {"power_factor", NullableStr()},
           {"pf_adjust_rate", NullableStr()},
           {"energy_charge", Str("yuan")},
           {"basic_charge", Str("yuan")},
           {"pf_charge", Str("yuan")},
           {"fund_charge", Str("yuan")},
           {"total", Str("yuan")},
           {"total_fen", Int()},
           {"run_id", NullableInt()},
           {"read_id", Int()},
           {"read_source", Str()},
           {"review_flags",
            ArrayOf(Enum({"zero", "negative_line", "change_month", "change_year", "no_account"}))},
           {"review_note", Str()},
           {"due_date", NullableStr()},
           {"approved_by", NullableInt()},
           {"approved_at", NullableStr()},
           {"issued_by", NullableInt()},
           {"issued_at", NullableStr()},
           {"cancelled_by", NullableInt()},
           {"cancelled_at", NullableStr()},
           {"cancel_reason", NullableStr()},
           {"replaces_bill_id", NullableInt()},
           {"created_at", Str()},
           {"updated_at", Str()},
           {"version", Int()},
           {"lines", ArrayOf(Ref("BillLine"))},
           {"detail",
            {{"type", "object"},
             {"description", "meters with their reads and multiplier; energy"}}}},
          {"id", "bill_no", "metering_point_id", "period", "status", "total", "version"}));
  r.AddSchema("BillRunRequest",
              Obj({{"period", Str("YYYY-MM")},
                   {"department_id", Int("that department and below")},
                   {"segment_id", NullableInt()},
                   {"change_threshold_pct", Int("review when the total moves more; default 30")}},
                  {"period", "department_id"}));
  r.AddSchema("BillRun",
              Obj({{"id", Int()},
                   {"job_id", Int()},
                   {"department_id", Int()},
                   {"segment_id", NullableInt()},
                   {"period", Str()},
                   {"change_threshold_pct", Int()},
                   {"status", Enum({"queued", "running", "succeeded", "failed", "cancelled"})},
                   {"stage", Str()},
                   {"done", Int()},
                   {"total_points", Int()},
                   {"error", Str()},
                   {"summary",
                    {{"type", "object"},
                     {"nullable", true},
                     {"description",
                      "bills, total, total_fen, exceptions, "
                      "unbillable, review, skipped, elapsed_ms"}}},
                   {"started_by", NullableInt()},
                   {"started_by_name", Str()},
                   {"created_at", Str()},
                   {"finished_at", NullableStr()},
                   {"exceptions", ArrayOf(Ref("RunException"))}},
                  {"id", "job_id", "period", "status"}));
  r.AddSchema("RunException", Obj({{"metering_point_id", Int()},
                                   {"metering_point_code", Str()},
                                   {"read_id", Int()},
                                   {"code", Str()},
                                   {"message", Str()}}));
  r.AddSchema("EmptyRequest", Obj({}));
  r.AddSchema("VersionRequest", Obj({{"version", VersionField()}}, {"version"}));
  r.AddSchema("ApproveRequest",
              Obj({{"version", VersionField()}, {"note", Str("optional")}}, {"version"}));
  r.AddSchema("HoldRequest",
              Obj({{"version", VersionField()}, {"reason", Str()}}, {"version", "reason"}));
  r.AddSchema(
      "CancelBillRequest",
      Obj({{"version", VersionField()}, {"reason", Str("why (差错原因)")}, {"rebill", Bool()}},
          {"version", "reason"}));
  r.AddSchema("Correction",
              Obj({{"cancelled", Ref("Bill")},
                   {"rebill", {{"allOf", json::array({Ref("Bill")})}, {"nullable", true}}}},
                  {"cancelled"}));
  r.AddSchema("TrialStoredRequest", Obj({{"metering_point_id", Int()}, {"period", Str("YYYY-MM")}},
                                        {"metering_point_id", "period"}));
  r.AddSchema("TrialStored", Obj({{"metering_point_code", Str()},
                                  {"period", Str()},
                                  {"read_id", Int()},
                                  {"first_day", Str()},
                                  {"last_day", Str()},
                                  {"tariff_code", Str()},
                                  {"tariff_version", Str()},
                                  {"billed_kwh", Int()},
                                  {"tier_kwh", ArrayOf(Int())},
                                  {"tier_cumulative_before_kwh", Int()},
                                  {"tier_cumulative_after_kwh", Int()},
                                  {"power_factor", NullableStr()},
                                  {"pf_adjust_rate", NullableStr()},
                                  {"energy_charge", Str()},
                                  {"basic_charge", Str()},
                                  {"pf_charge", Str()},
                                  {"fund_charge", Str()},
                                  {"total", Str()},
                                  {"total_fen", Int()},
                                  {"energy", {{"type", "object"}}},
                                  {"review_flags", ArrayOf(Str())},
                                  {"lines", ArrayOf(Ref("BillLine"))}},
                                 {"total", "lines"}));
}

json PointPathBody(const BillingParameters& p) { return ToJson(p); }

}  // namespace

void AddRoutes(http::Router& router, BillingService& billing) {
  AddSchemas(router);
  BillingService* s = &billing;

  // ---- Billing parameters ----
  router.Add({.method = "GET",
              .pattern = "/api/v1/metering-points/{id}/billing-parameters",
              .permission = "billing.read",
              .summary = "A metering point's billing parameters (the defaults, version 0, when "
                         "none are stored)",
              .tag = "billing",
              .response = "BillingParameters",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(auto p, s->GetParameters(ctx.actor, id));
                return JsonReply(PointPathBody(p));
              }});
  router.Add({.method = "PUT",
              .pattern = "/api/v1/metering-points/{id}/billing-parameters",
              .permission = "billing.run",
              .summary = "Set a metering point's billing parameters: basic-charge mode, "
                         "transformer and line loss, sub-allocations, suspensions, household "
                         "multiplier, free allowance, service dates (version 0 creates)",
              .tag = "billing",
              .request = "BillingParametersInput",
              .response = "BillingParameters",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                int64_t version = f.Int("version", {.min = 0});
                RETURN_IF_ERROR(f.error());
                ASSIGN_OR_RETURN(BillingParameters in, ReadParameters(f, body));
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(auto p, s->PutParameters(ctx.actor, id, version, in));
                return JsonReply(PointPathBody(p));
              }});

  // ---- Bill runs ----
  router.Add({.method = "POST",
              .pattern = "/api/v1/bill-runs",
              .permission = "billing.run",
              .summary = "Start a bill run (a background job) over a department (and below), "
                         "optionally one reading segment, for a period",
              .tag = "billing",
              .request = "BillRunRequest",
              .response = "BillRun",
              .success_status = 202,
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                std::string period = f.String("period", {.max_len = 7});
                RunRequest req;
                req.department_id = f.Int("department_id", {.min = 1});
                req.segment_id = f.OptInt("segment_id", {.min = 1});
                req.change_threshold_pct =
                    f.OptInt("change_threshold_pct", {.min = 0, .max = 10000});
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(req.period, ParsePeriodField(period, "period"));
                ASSIGN_OR_RETURN(BillRun run, s->StartRun(ctx.actor, req));
                return JsonReply(ToJson(run), 202);
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/bill-runs",
              .permission = "billing.read",
              .summary = "Bill runs in your data scope, newest first",
              .tag = "billing",
              .query = {{"period", "string", "YYYY-MM"},
                        {"department_id", "integer", "that department and below"}},
              .response = "BillRun",
              .list = true,
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
                RunQuery q;
                ASSIGN_OR_RETURN(q.period, QueryPeriod(ctx.req));
                ASSIGN_OR_RETURN(q.department_id, http::QueryInt(ctx.req, "department_id"));
                q.page = page.page;
                q.page_size = page.page_size;
                int64_t total = 0;
                ASSIGN_OR_RETURN(auto runs, s->ListRuns(ctx.actor, q, &total));
                return JsonReply(http::PageOf(runs, page, total));
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/bill-runs/{id}",
              .permission = "billing.read",
              .summary = "A bill run with its progress, summary and first exceptions (up to 100; "
                         "all through /exceptions)",
              .tag = "billing",
              .response = "BillRun",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(BillRun run, s->GetRun(ctx.actor, id));
                int64_t total = 0;
                ASSIGN_OR_RETURN(auto ex, s->RunExceptions(ctx.actor, id, 1, 100, &total));
                json body = ToJson(run);
                body["exceptions"] = json::array();
                for (const auto& e : ex) body["exceptions"].push_back(ToJson(e));
                body["exceptions_total"] = total;
                return JsonReply(std::move(body));
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/bill-runs/{id}/exceptions",
              .permission = "billing.read",
              .summary = "The points a run could not rate, with the reason",
              .tag = "billing",
              .response = "RunException",
              .list = true,
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
                int64_t total = 0;
                ASSIGN_OR_RETURN(
                    auto ex, s->RunExceptions(ctx.actor, id, page.page, page.page_size, &total));
                return JsonReply(http::PageOf(ex, page, total));
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/bill-runs/{id}/resume",
              .permission = "billing.run",
              .summary = "Resume a failed or cancelled bill run from its checkpoint",
              .tag = "billing",
              .request = "EmptyRequest",
              .response = "BillRun",
              .success_status = 202,
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(BillRun run, s->ResumeRun(ctx.actor, id));
                return JsonReply(ToJson(run), 202);
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/bill-runs/{id}/issue",
              .permission = "billing.review",
              .summary = "Issue the run's calculated and approved bills (a background job of "
                         "kind bill_issue; posts each to the ledger)",
              .tag = "billing",
              .request = "EmptyRequest",
              .response = "Job",
              .success_status = 202,
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(jobs::Job job, s->IssueRun(ctx.actor, id));
                return JsonReply(jobs::ToJson(job), 202);
              }});

  // ---- Bills ----
  router.Add(
      {.method = "GET",
       .pattern = "/api/v1/bills/export.xlsx",
       .permission = "billing.export",
       .summary = "The bills of the query as an Excel workbook (at most 100000 rows)",
       .tag = "billing",
       .query = kBillQueryDocs,
       .fn = [s](RouteContext& ctx) -> Result<Reply> {
         ASSIGN_OR_RETURN(BillQuery q, ReadBillQuery(ctx.req));
         ASSIGN_OR_RETURN(std::string xlsx, s->ExportXlsx(ctx.actor, q));
         Reply r;
         r.raw_content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
         r.raw_body = std::move(xlsx);
         r.headers.emplace_back("Content-Disposition", "attachment; filename=\"bills.xlsx\"");
         return r;
       }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/bills",
              .permission = "billing.read",
              .summary = "Bills in your data scope by id (the review queue is status=review; "
                         "total counts at most 10000, total_capped says there are more)",
              .tag = "billing",
              .query = kBillQueryDocs,
              .response = "Bill",
              .list = true,
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
                ASSIGN_OR_RETURN(BillQuery q, ReadBillQuery(ctx.req));
                q.page = page.page;
                q.page_size = page.page_size;
                grid::CappedCount total;
                ASSIGN_OR_RETURN(auto bills, s->ListBills(ctx.actor, q, &total));
                json items = json::array();
                for (const auto& b : bills) items.push_back(ToJson(b, false));
                json body = http::PageJson(std::move(items), page, total.total);
                body["total_capped"] = total.capped;
                return JsonReply(std::move(body));
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/bills/{id}",
              .permission = "billing.read",
              .summary = "One bill with its lines and reads",
              .tag = "billing",
              .response = "Bill",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(Bill b, s->GetBill(ctx.actor, id));
                return JsonReply(ToJson(b, true));
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/bills/{id}/pdf",
              .permission = "billing.read",
              .summary = "The bill as a PDF (电费通知单) with a payment QR code",
              .tag = "billing",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(std::string pdf, s->BillPdf(ctx.actor, id));
                Reply r;
                r.raw_content_type = "application/pdf";
                r.raw_body = std::move(pdf);
                r.headers.emplace_back("Content-Disposition",
                                       "inline; filename=\"bill-" + std::to_string(id) + ".pdf\"");
                return r;
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/bills/{id}/approve",
              .permission = "billing.review",
              .summary = "Approve a calculated or flagged bill",
              .tag = "billing",
              .request = "ApproveRequest",
              .response = "Bill",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(ActionBody a, ReadAction(ctx.req, "note", false, false));
                ASSIGN_OR_RETURN(Bill b, s->Approve(ctx.actor, id, a.version, a.text));
                return JsonReply(ToJson(b, true));
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/bills/{id}/hold",
              .permission = "billing.review",
              .summary = "Hold a bill back from issue (暂挂), with the reason",
              .tag = "billing",
              .request = "HoldRequest",
              .response = "Bill",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(ActionBody a, ReadAction(ctx.req, "reason", true, false));
                ASSIGN_OR_RETURN(Bill b, s->Hold(ctx.actor, id, a.version, a.text));
                return JsonReply(ToJson(b, true));
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/bills/{id}/unhold",
              .permission = "billing.review",
              .summary = "Release a held bill back to review",
              .tag = "billing",
              .request = "VersionRequest",
              .response = "Bill",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(ActionBody a, ReadAction(ctx.req, nullptr, false, false));
                ASSIGN_OR_RETURN(Bill b, s->Unhold(ctx.actor, id, a.version));
                return JsonReply(ToJson(b, true));
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/bills/{id}/recalculate",
              .permission = "billing.review",
              .summary = "Rerate a bill that is not issued from its point's approved read and "
                         "current parameters",
              .tag = "billing",
              .request = "VersionRequest",
              .response = "Bill",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(ActionBody a, ReadAction(ctx.req, nullptr, false, false));
                ASSIGN_OR_RETURN(Bill b, s->Recalculate(ctx.actor, id, a.version));
                return JsonReply(ToJson(b, true));
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/bills/{id}/issue",
              .permission = "billing.review",
              .summary = "Issue one calculated or approved bill (posts it to the ledger; the due "
                         "date from the tariff policy)",
              .tag = "billing",
              .request = "VersionRequest",
              .response = "Bill",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(ActionBody a, ReadAction(ctx.req, nullptr, false, false));
                ASSIGN_OR_RETURN(Bill b, s->Issue(ctx.actor, id, a.version));
                return JsonReply(ToJson(b, true));
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/bills/{id}/cancel",
              .permission = "billing.correct",
              .summary = "Cancel a bill (an issued one with reversal entries) and, unless "
                         "rebill is false, make its replacement (seq + 1) from the approved read",
              .tag = "billing",
              .request = "CancelBillRequest",
              .response = "Correction",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(ActionBody a, ReadAction(ctx.req, "reason", true, true));
                ASSIGN_OR_RETURN(Correction c,
                                 s->Cancel(ctx.actor, id, a.version, a.text, a.rebill));
                return JsonReply({{"cancelled", ToJson(c.cancelled, true)},
                                  {"rebill", c.rebill ? ToJson(*c.rebill, true) : json(nullptr)}});
              }});

  // ---- Trial from stored reads ----
  router.Add({.method = "POST",
              .pattern = "/api/v1/billing/trial-stored",
              .permission = "billing.trial",
              .summary = "Rate a metering point's stored approved read for a period without "
                         "saving anything (the counter's 试算)",
              .tag = "billing",
              .request = "TrialStoredRequest",
              .response = "TrialStored",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                int64_t point = f.Int("metering_point_id", {.min = 1});
                std::string period = f.String("period", {.max_len = 7});
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(YearMonth p, ParsePeriodField(period, "period"));
                ASSIGN_OR_RETURN(Trial t, s->TrialStored(ctx.actor, point, p));
                return JsonReply(ToJson(t));
              }});
}

}  // namespace gridmis::billing
