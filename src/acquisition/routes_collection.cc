#include "acquisition/routes_collection.h"

#include "grid/route_helpers.h"
#include "jobs/jobs.h"

namespace gridmis::acquisition {

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

const std::initializer_list<std::string_view> kKinds = {"daily_frozen", "monthly_frozen", "curve",
                                                        "events"};
const std::initializer_list<std::string_view> kTerminalKinds = {
    "public_transformer", "special_transformer", "large_customer", "substation"};
const std::initializer_list<std::string_view> kResultStatuses = {"complete", "partial", "failed",
                                                                 "incomplete"};

Result<std::optional<Date>> QueryDate(const http::Request& req, std::string_view name) {
  auto v = req.Query(name);
  if (!v || v->empty()) return std::optional<Date>();
  auto d = Date::Parse(*v, name);
  if (!d.ok()) return InvalidArgument(d.status().message(), std::string(name));
  return std::optional<Date>(*d);
}

Result<std::optional<YearMonth>> QueryMonth(const http::Request& req, std::string_view name) {
  auto v = req.Query(name);
  if (!v || v->empty()) return std::optional<YearMonth>();
  auto m = YearMonth::Parse(*v, name);
  if (!m.ok()) return InvalidArgument(m.status().message(), std::string(name));
  return std::optional<YearMonth>(*m);
}

Result<std::optional<bool>> QueryBool(const http::Request& req, std::string_view name) {
  auto v = req.Query(name);
  if (!v || v->empty()) return std::optional<bool>();
  if (*v == "true" || *v == "1") return std::optional<bool>(true);
  if (*v == "false" || *v == "0") return std::optional<bool>(false);
  return InvalidArgument("query parameter " + std::string(name) + " must be true or false",
                         std::string(name));
}

// An instant: RFC 3339, or a local day (its start) in the utility's zone.
Result<std::optional<int64_t>> QueryInstant(const http::Request& req, std::string_view name,
                                            const TimeZone& tz) {
  auto v = req.Query(name);
  if (!v || v->empty()) return std::optional<int64_t>();
  if (v->size() == 10) {
    auto d = Date::Parse(*v, name);
    if (!d.ok()) return InvalidArgument(d.status().message(), std::string(name));
    return std::optional<int64_t>(tz.StartOfDay(*d));
  }
  auto t = ParseRfc3339(*v, name);
  if (!t.ok()) return InvalidArgument(t.status().message(), std::string(name));
  return std::optional<int64_t>(*t);
}

json OptStr() { return NullableStr(); }
json NullableText(std::string description) {
  return {{"type", "string"}, {"nullable", true}, {"description", std::move(description)}};
}

void AddSchemas(http::Router& r) {
  r.AddSchema(
      "TerminalState",
      Obj({{"terminal_id", Int()},
           {"asset_no", Str()},
           {"address", Str("A1-A2, \"3201-00012\"")},
           {"kind", Enum(kTerminalKinds)},
           {"department_id", Int()},
           {"meter_count", Int()},
           {"online", Bool()},
           {"seen",
            {{"type", "boolean"}, {"description", "false: the front end never saw it log in"}}},
           {"peer", OptStr()},
           {"login_at", OptStr()},
           {"last_seen_at", OptStr()},
           {"offline_at", OptStr()},
           {"offline_reason", OptStr()},
           {"logins", Int()}},
          {"terminal_id", "address", "online"}));
  r.AddSchema(
      "TerminalStateSummary",
      Obj({{"total", Int("installed terminals")},
           {"online", Int()},
           {"offline", Int()},
           {"never_seen", Int()},
           {"by_kind",
            ArrayOf(Obj({{"kind", Enum(kTerminalKinds)}, {"total", Int()}, {"online", Int()}}))}},
          {"total", "online", "offline"}));
  json registers = {{"type", "object"},
                    {"description",
                     "register → kWh with 4 decimals (total, sharp, peak, flat, "
                     "valley)"},
                    {"additionalProperties", {{"type", "string"}}}};
  r.AddSchema(
      "CollectedDailyFrozen",
      Obj({{"metering_point_id", Int()},
           {"day", Str("YYYY-MM-DD: frozen at 00:00 of that day (the end of day - 1)")},
           {"multiplier", Int("the installed meter's multiplier; registers are the meter's")},
           {"registers", registers},
           {"quality", Enum({"valid", "estimated", "edited"})}},
          {"metering_point_id", "day", "registers"}));
  r.AddSchema("CollectedDailyFrozenList",
              Obj({{"items", ArrayOf(Ref("CollectedDailyFrozen"))}}, {"items"}));
  r.AddSchema("MonthlyFrozen", Obj({{"metering_point_id", Int()},
                                    {"month", Str("YYYY-MM: frozen at the end of that month")},
                                    {"multiplier", Int()},
                                    {"registers", registers},
                                    {"reading_time", OptStr()},
                                    {"quality", Enum({"valid", "estimated", "edited"})}},
                                   {"metering_point_id", "month", "registers"}));
  r.AddSchema("MonthlyFrozenList", Obj({{"items", ArrayOf(Ref("MonthlyFrozen"))}}, {"items"}));
  r.AddSchema(
      "LoadCurve",
      Obj({{"metering_point_id", Int()},
           {"day", Str("YYYY-MM-DD, local")},
           {"quantity", Enum({"fwd_active_energy"})},
           {"interval_minutes", Int()},
           {"multiplier", Int("values are the meter's; × multiplier for primary energy")},
           {"times", ArrayOf(Str("HH:MM, the start of each interval"))},
           {"values", ArrayOf({{"type", "string"},
                               {"nullable", true},
                               {"description", "kWh used in the interval; null = missing"}})},
           {"quality", ArrayOf(Enum({"valid", "suspect", "estimated", "edited", "missing"}))},
           {"quality_flags", Str("one letter per value: V S E D M")},
           {"missing", Int()},
           {"total", NullableText("the day's sum when no value is missing")}},
          {"metering_point_id", "day", "values", "quality"}));
  r.AddSchema("MeterEvent",
              Obj({{"id", Int()},
                   {"terminal_id", Int()},
                   {"metering_point_id", NullableInt()},
                   {"erc", Int("1376.1 ERC code")},
                   {"kind", Str("power_off, power_on, remote_trip, clock_drift, cover_open, ...")},
                   {"meaning", Str()},
                   {"occurred_at", Str()},
                   {"ended_at", OptStr()},
                   {"detail", {{"type", "object"}, {"description", "the decoded record"}}},
                   {"received_at", Str()}},
                  {"id", "terminal_id", "erc", "kind", "occurred_at"}));
  r.AddSchema(
      "SuccessStat",
      Obj({{"key", Str("department id, terminal kind or day")},
           {"label", Str()},
           {"depth", Int("department lines: levels below the report's department")},
           {"terminals", Int("terminal-days")},
           {"failed_terminals", Int("terminal-days not complete")},
           {"expected_points", Int("billing points behind installed terminals")},
           {"collected_points", Int("of them, with a daily frozen total")},
           {"rate_percent", NullableText("采集成功率, \"98.75\"; null when none expected")}},
          {"key", "label", "expected_points", "collected_points"}));
  r.AddSchema("SuccessStatList", Obj({{"items", ArrayOf(Ref("SuccessStat"))}}, {"items"}));
  r.AddSchema(
      "CollectionResult",
      Obj({{"day", Str("YYYY-MM-DD: daily_frozen Td_d, curve its day, monthly the 1st")},
           {"kind", Enum(kKinds)},
           {"terminal_id", Int()},
           {"terminal_address", Str()},
           {"terminal_asset_no", Str()},
           {"terminal_kind", Enum(kTerminalKinds)},
           {"department_id", Int()},
           {"expected_points", Int()},
           {"collected_points", Int()},
           {"billing_expected", Int()},
           {"billing_collected", Int()},
           {"missing_count", Int()},
           {"missing_points", ArrayOf(Obj({{"metering_point_id", Int()}, {"code", Str()}}))},
           {"missing_values", Int("EEH values")},
           {"attempts", Int()},
           {"status", Enum({"complete", "partial", "failed"})},
           {"last_error", Str()},
           {"job_id", NullableInt()},
           {"first_attempt_at", Str()},
           {"last_attempt_at", Str()}},
          {"day", "kind", "terminal_id", "status"}));
  r.AddSchema("CollectionTask",
              Obj({{"id", Int()},
                   {"name", Str()},
                   {"kind", Enum(kKinds)},
                   {"department_id", Int("its terminals and below")},
                   {"time_of_day", Str("HH:MM local")},
                   {"day_of_month", Int("monthly_frozen: on or after this day")},
                   {"catch_up_days", Int("earlier periods retried (months for monthly)")},
                   {"enabled", Bool()},
                   {"last_run_key", OptStr()},
                   {"last_job_id", NullableInt()},
                   {"version", Int()},
                   {"created_at", Str()},
                   {"updated_at", Str()}},
                  {"id", "name", "kind", "department_id", "version"}));
  r.AddSchema("CollectionTaskList", Obj({{"items", ArrayOf(Ref("CollectionTask"))}}, {"items"}));
  r.AddSchema("CollectionTaskInput",
              Obj({{"name", Str("required on create; unique")},
                   {"kind", Enum(kKinds)},
                   {"department_id", Int("default: yours")},
                   {"time_of_day", Str("HH:MM, default 02:00")},
                   {"day_of_month", Int("1..28, default 1")},
                   {"catch_up_days", Int("0..62 (0..12 for monthly), default 3")},
                   {"enabled", Bool()},
                   {"version", VersionField()}}));
  r.AddSchema("CollectionTaskRunRequest",
              Obj({{"day", Str("YYYY-MM-DD (daily_frozen, curve: default yesterday; events: "
                               "today)")},
                   {"month", Str("YYYY-MM (monthly_frozen: default last month)")}}));
  r.AddSchema("CollectionRequest", Obj({{"kind", Enum(kKinds)},
                                        {"day", Str("YYYY-MM-DD (all kinds but monthly_frozen)")},
                                        {"month", Str("YYYY-MM (monthly_frozen)")},
                                        {"department_id", Int("default: yours")},
                                        {"catch_up_days", Int("0..62")},
                                        {"terminal_ids", ArrayOf(Int())}},
                                       {"kind"}));
}

CollectionTaskInput ReadTaskInput(JsonFields& f) {
  CollectionTaskInput in;
  in.name = f.OptString("name", {.max_len = 50});
  in.kind = f.OptEnum("kind", kKinds);
  in.department_id = f.OptInt("department_id", {.min = 1});
  in.time_of_day = f.OptString("time_of_day", {.max_len = 5});
  in.day_of_month = f.OptInt("day_of_month", {.min = 1, .max = 28});
  in.catch_up_days = f.OptInt("catch_up_days", {.min = 0, .max = 62});
  in.enabled = f.OptBool("enabled");
  return in;
}

}  // namespace

void AddCollectionRoutes(http::Router& router, CollectionService& collection) {
  AddSchemas(router);
  CollectionService* s = &collection;

  // ---- Terminal state ----
  router.Add({.method = "GET",
              .pattern = "/api/v1/acquisition/terminal-states",
              .permission = "acquisition.read",
              .summary = "Installed terminals with their online state (在线状态), by address",
              .tag = "acquisition",
              .query = {{"online", "boolean", "only online (true) or offline (false) ones"},
                        {"kind", "string",
                         "public_transformer, special_transformer, large_customer, substation"},
                        {"department_id", "integer", "that department and below"}},
              .response = "TerminalState",
              .list = true,
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
                TerminalStateQuery q;
                ASSIGN_OR_RETURN(q.online, QueryBool(ctx.req, "online"));
                ASSIGN_OR_RETURN(q.kind, QueryEnum(ctx.req, "kind", kTerminalKinds));
                ASSIGN_OR_RETURN(q.department_id, http::QueryInt(ctx.req, "department_id"));
                q.page = page.page;
                q.page_size = page.page_size;
                int64_t total = 0;
                ASSIGN_OR_RETURN(auto rows, s->TerminalStates(ctx.actor, q, &total));
                return JsonReply(http::PageOf(rows, page, total));
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/acquisition/terminal-states/summary",
              .permission = "acquisition.read",
              .summary = "Counts of installed terminals online, offline and never seen, by kind",
              .tag = "acquisition",
              .query = {{"department_id", "integer", "that department and below"}},
              .response = "TerminalStateSummary",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(auto dept, http::QueryInt(ctx.req, "department_id"));
                ASSIGN_OR_RETURN(TerminalStateCounts c, s->TerminalStateSummary(ctx.actor, dept));
                json kinds = json::array();
                for (const auto& k : c.by_kind) {
                  kinds.push_back({{"kind", k.kind}, {"total", k.total}, {"online", k.online}});
                }
                return JsonReply({{"total", c.total},
                                  {"online", c.online},
                                  {"offline", c.offline},
                                  {"never_seen", c.never_seen},
                                  {"by_kind", kinds}});
              }});

  // ---- Collected data of a metering point ----
  router.Add({.method = "GET",
              .pattern = "/api/v1/acquisition/metering-points/{id}/daily-frozen",
              .permission = "acquisition.read",
              .summary = "A metering point's collected daily frozen registers (日冻结)",
              .tag = "acquisition",
              .query = {{"from", "string", "YYYY-MM-DD (default: 30 days before `to`)"},
                        {"to", "string", "YYYY-MM-DD (default: today)"}},
              .response = "CollectedDailyFrozenList",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(auto from, QueryDate(ctx.req, "from"));
                ASSIGN_OR_RETURN(auto to, QueryDate(ctx.req, "to"));
                Date last = to.value_or(s->Today());
                Date first = from.value_or(last.AddDays(-30));
                ASSIGN_OR_RETURN(auto rows, s->DailyFrozenOfPoint(ctx.actor, id, first, last));
                json items = json::array();
                for (const auto& r : rows) {
                  json regs = json::object();
                  for (const auto& [name, v] : r.registers) regs[name] = v.ToKwhString(4);
                  items.push_back({{"metering_point_id", r.metering_point_id},
                                   {"day", r.day.ToString()},
                                   {"multiplier", r.multiplier},
                                   {"registers", regs},
                                   {"quality", r.quality}});
                }
                return JsonReply({{"items", items}});
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/acquisition/metering-points/{id}/monthly-frozen",
              .permission = "acquisition.read",
              .summary = "A metering point's collected monthly frozen registers (月冻结)",
              .tag = "acquisition",
              .query = {{"from", "string", "YYYY-MM (default: 12 months before `to`)"},
                        {"to", "string", "YYYY-MM (default: last month)"}},
              .response = "MonthlyFrozenList",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(auto from, QueryMonth(ctx.req, "from"));
                ASSIGN_OR_RETURN(auto to, QueryMonth(ctx.req, "to"));
                Date today = s->Today();
                YearMonth last = to.value_or(YearMonth{today.year, today.month}.Prev());
                YearMonth first = last;
                if (from) {
                  first = *from;
                } else {
                  for (int i = 0; i < 11; ++i) first = first.Prev();
                }
                ASSIGN_OR_RETURN(auto rows, s->MonthlyFrozenOfPoint(ctx.actor, id, first, last));
                json items = json::array();
                for (const auto& r : rows) items.push_back(ToJson(r));
                return JsonReply({{"items", items}});
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/acquisition/metering-points/{id}/curve",
              .permission = "acquisition.read",
              .summary = "A metering point's load curve of a day (96 values with their quality)",
              .tag = "acquisition",
              .query = {{"day", "string", "YYYY-MM-DD (required)"},
                        {"quantity", "string", "fwd_active_energy (default)"}},
              .response = "LoadCurve",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(auto day, QueryDate(ctx.req, "day"));
                if (!day) return InvalidArgument("day (YYYY-MM-DD) is required", "day");
                ASSIGN_OR_RETURN(std::string quantity,
                                 QueryEnum(ctx.req, "quantity", {"fwd_active_energy"}));
                if (quantity.empty()) quantity = "fwd_active_energy";
                ASSIGN_OR_RETURN(Curve k, s->CurveOfPoint(ctx.actor, id, *day, quantity));
                return JsonReply(ToJson(k, s->time_zone()));
              }});

  // ---- Events ----
  router.Add({.method = "GET",
              .pattern = "/api/v1/acquisition/events",
              .permission = "acquisition.read",
              .summary = "Events terminals and meters reported (ERC records), newest first",
              .tag = "acquisition",
              .query = {{"terminal_id", "integer", "events of this terminal"},
                        {"metering_point_id", "integer", "events naming this point"},
                        {"kind", "string", "power_off, power_on, remote_trip, clock_drift, ..."},
                        {"from", "string", "occurred at or after (YYYY-MM-DD local, or RFC 3339)"},
                        {"to", "string", "occurred before (YYYY-MM-DD local, or RFC 3339)"},
                        {"department_id", "integer", "terminals of that department and below"}},
              .response = "MeterEvent",
              .list = true,
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
                EventQuery q;
                ASSIGN_OR_RETURN(q.terminal_id, http::QueryInt(ctx.req, "terminal_id"));
                ASSIGN_OR_RETURN(q.metering_point_id, http::QueryInt(ctx.req, "metering_point_id"));
                ASSIGN_OR_RETURN(q.kind, grid::api::QueryText(ctx.req, "kind", 40));
                ASSIGN_OR_RETURN(q.from_us, QueryInstant(ctx.req, "from", s->time_zone()));
                ASSIGN_OR_RETURN(q.to_us, QueryInstant(ctx.req, "to", s->time_zone()));
                ASSIGN_OR_RETURN(auto dept, http::QueryInt(ctx.req, "department_id"));
                q.page = page.page;
                q.page_size = page.page_size;
                int64_t total = 0;
                ASSIGN_OR_RETURN(auto rows, s->Events(ctx.actor, q, dept, &total));
                return JsonReply(http::PageOf(rows, page, total));
              }});

  // ---- Statistics and results ----
  router.Add({.method = "GET",
              .pattern = "/api/v1/acquisition/statistics",
              .permission = "acquisition.read",
              .summary = "Acquisition success (采集成功率): billing points expected and collected, "
                         "per department subtree, terminal kind or day",
              .tag = "acquisition",
              .query = {{"from", "string", "YYYY-MM-DD (default: `to`)"},
                        {"to", "string", "YYYY-MM-DD (default: yesterday)"},
                        {"kind", "string", "daily_frozen (default), monthly_frozen, curve, events"},
                        {"group_by", "string", "department (default), kind, day"},
                        {"department_id", "integer", "the report's department (default: yours)"}},
              .response = "SuccessStatList",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                SuccessQuery q;
                ASSIGN_OR_RETURN(auto from, QueryDate(ctx.req, "from"));
                ASSIGN_OR_RETURN(auto to, QueryDate(ctx.req, "to"));
                q.to = to.value_or(s->Today().AddDays(-1));
                q.from = from.value_or(q.to);
                ASSIGN_OR_RETURN(std::string kind, QueryEnum(ctx.req, "kind", kKinds));
                if (!kind.empty()) q.kind = kind;
                ASSIGN_OR_RETURN(std::string group,
                                 QueryEnum(ctx.req, "group_by", {"department", "kind", "day"}));
                if (!group.empty()) q.group_by = group;
                ASSIGN_OR_RETURN(q.department_id, http::QueryInt(ctx.req, "department_id"));
                ASSIGN_OR_RETURN(auto rows, s->Statistics(ctx.actor, q));
                json items = json::array();
                for (const auto& r : rows) items.push_back(ToJson(r));
                return JsonReply({{"items", items}});
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/acquisition/failures",
              .permission = "acquisition.read",
              .summary = "Terminals not completely collected on a day, with the points missing",
              .tag = "acquisition",
              .query = {{"day", "string", "YYYY-MM-DD (default: yesterday)"},
                        {"kind", "string", "daily_frozen (default), monthly_frozen, curve, events"},
                        {"department_id", "integer", "that department and below"}},
              .response = "CollectionResult",
              .list = true,
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
                ResultQuery q;
                ASSIGN_OR_RETURN(q.day, QueryDate(ctx.req, "day"));
                if (!q.day) q.day = s->Today().AddDays(-1);
                ASSIGN_OR_RETURN(q.kind, QueryEnum(ctx.req, "kind", kKinds));
                if (q.kind.empty()) q.kind = "daily_frozen";
                ASSIGN_OR_RETURN(q.department_id, http::QueryInt(ctx.req, "department_id"));
                q.status = "incomplete";
                q.page = page.page;
                q.page_size = page.page_size;
                int64_t total = 0;
                ASSIGN_OR_RETURN(auto rows, s->ListResults(ctx.actor, q, &total));
                return JsonReply(http::PageOf(rows, page, total));
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/acquisition/collection-results",
              .permission = "acquisition.read",
              .summary = "Per-terminal collection results, newest day first",
              .tag = "acquisition",
              .query = {{"day", "string", "YYYY-MM-DD"},
                        {"kind", "string", "daily_frozen, monthly_frozen, curve, events"},
                        {"status", "string", "complete, partial, failed, incomplete"},
                        {"terminal_id", "integer", "results of this terminal"},
                        {"department_id", "integer", "that department and below"}},
              .response = "CollectionResult",
              .list = true,
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
                ResultQuery q;
                ASSIGN_OR_RETURN(q.day, QueryDate(ctx.req, "day"));
                ASSIGN_OR_RETURN(q.kind, QueryEnum(ctx.req, "kind", kKinds));
                ASSIGN_OR_RETURN(q.status, QueryEnum(ctx.req, "status", kResultStatuses));
                ASSIGN_OR_RETURN(q.terminal_id, http::QueryInt(ctx.req, "terminal_id"));
                ASSIGN_OR_RETURN(q.department_id, http::QueryInt(ctx.req, "department_id"));
                q.page = page.page;
                q.page_size = page.page_size;
                int64_t total = 0;
                ASSIGN_OR_RETURN(auto rows, s->ListResults(ctx.actor, q, &total));
                return JsonReply(http::PageOf(rows, page, total));
              }});

  // ---- Tasks and runs ----
  router.Add({.method = "GET",
              .pattern = "/api/v1/acquisition/collection-tasks",
              .permission = "acquisition.read",
              .summary = "Collection tasks (采集任务) of your data scope, by name",
              .tag = "acquisition",
              .response = "CollectionTaskList",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(auto tasks, s->ListTasks(ctx.actor));
                json items = json::array();
                for (const auto& t : tasks) items.push_back(ToJson(t));
                return JsonReply({{"items", items}});
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/acquisition/collection-tasks",
              .permission = "acquisition.collect",
              .summary = "Create a collection task (what to collect, for which department, when)",
              .tag = "acquisition",
              .request = "CollectionTaskInput",
              .response = "CollectionTask",
              .success_status = 201,
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                CollectionTaskInput in = ReadTaskInput(f);
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(CollectionTask t, s->CreateTask(ctx.actor, in));
                return JsonReply(ToJson(t), 201);
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/acquisition/collection-tasks/{id}",
              .permission = "acquisition.read",
              .summary = "One collection task with its last scheduled run",
              .tag = "acquisition",
              .response = "CollectionTask",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(CollectionTask t, s->GetTask(ctx.actor, id));
                return JsonReply(ToJson(t));
              }});
  router.Add({.method = "PATCH",
              .pattern = "/api/v1/acquisition/collection-tasks/{id}",
              .permission = "acquisition.collect",
              .summary = "Change a collection task (with its version)",
              .tag = "acquisition",
              .request = "CollectionTaskInput",
              .response = "CollectionTask",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                int64_t version = f.Int("version", {.min = 1});
                CollectionTaskInput in = ReadTaskInput(f);
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(CollectionTask t, s->UpdateTask(ctx.actor, id, version, in));
                return JsonReply(ToJson(t));
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/acquisition/collection-tasks/{id}/run",
              .permission = "acquisition.collect",
              .summary = "Run a collection task now (a background job) for a day or month",
              .tag = "acquisition",
              .request = "CollectionTaskRunRequest",
              .response = "Job",
              .success_status = 202,
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                std::optional<Date> day;
                std::optional<YearMonth> month;
                if (!ctx.req.body.empty()) {
                  ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                  JsonFields f(body);
                  auto d = f.OptString("day", {.max_len = 10});
                  auto m = f.OptString("month", {.max_len = 7});
                  RETURN_IF_ERROR(f.Finish());
                  if (d) {
                    ASSIGN_OR_RETURN(day, Date::Parse(*d, "day"));
                  }
                  if (m) {
                    ASSIGN_OR_RETURN(month, YearMonth::Parse(*m, "month"));
                  }
                }
                ASSIGN_OR_RETURN(jobs::Job j, s->RunTaskNow(ctx.actor, id, day, month));
                return JsonReply(jobs::ToJson(j), 202);
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/acquisition/collections",
              .permission = "acquisition.collect",
              .summary = "Collect now (a background job): a kind for a day or month, a "
                         "department or some terminals",
              .tag = "acquisition",
              .request = "CollectionRequest",
              .response = "Job",
              .success_status = 202,
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                if (body.contains("task_id")) {
                  return InvalidArgument("task_id: run a task with its /run route", "task_id");
                }
                ASSIGN_OR_RETURN(CollectionRequest req, ParseCollectionRequest(body));
                ASSIGN_OR_RETURN(jobs::Job j, s->StartCollection(ctx.actor, req));
                return JsonReply(jobs::ToJson(j), 202);
              }});
}

}  // namespace gridmis::acquisition
