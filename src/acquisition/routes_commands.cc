#include "acquisition/routes_commands.h"

#include "acquisition/protocol/frame_json.h"
#include "grid/route_helpers.h"

namespace gridmis::acquisition {

using grid::api::ArrayOf;
using grid::api::Bool;
using grid::api::Enum;
using grid::api::Int;
using grid::api::JsonReply;
using grid::api::NullableInt;
using grid::api::NullableStr;
using grid::api::Obj;
using grid::api::Ref;
using grid::api::Str;
using grid::api::VersionField;
using http::JsonFields;
using http::Reply;
using http::RouteContext;
using nlohmann::json;

namespace {

const std::initializer_list<std::string_view> kKinds = {"time_sync",
                                                        "trip",
                                                        "permit_close",
                                                        "power_control_enable",
                                                        "power_control_release",
                                                        "urge_alarm_on",
                                                        "urge_alarm_off"};
const std::initializer_list<std::string_view> kStatuses = {
    "pending", "sent", "confirmed", "denied", "timed_out", "failed", "cancelled"};
const std::initializer_list<std::string_view> kVias = {"afn05", "afn10_645"};
const std::initializer_list<std::string_view> kControls = {
    "period", "rest_day", "business_stop", "power_down", "monthly_energy", "purchase_energy"};

// A frame's bytes decoded for people (frame_json.h), or the reason it does not decode.
json Decoded(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return nullptr;
  return protocol::FrameToJson(bytes);
}

json DecodedHex(const std::string& hex) {
  auto bytes = protocol::ParseHex(hex);
  if (!bytes.ok()) return nullptr;
  return Decoded(*bytes);
}

json CommandJson(const Command& c) {
  json j = ToJson(c);
  j["request_decoded"] = c.request_hex ? DecodedHex(*c.request_hex) : json(nullptr);
  j["answer_decoded"] = c.answer_hex ? DecodedHex(*c.answer_hex) : json(nullptr);
  return j;
}

json CommLogJson(const fep::CommLogEntry& e) {
  return json{{"seq", e.seq},
              {"at", FormatUtc(e.at_us)},
              {"direction", e.inbound ? "in" : "out"},
              {"terminal_address", e.key ? json(gdw1376::ToString(*e.key)) : json(nullptr)},
              {"peer", e.peer},
              {"hex", protocol::Hex(e.bytes)},
              {"decoded", Decoded(e.bytes)},
              {"note", e.note}};
}

void AddSchemas(http::Router& r) {
  json params =
      Obj({{"round", Int("trip / permit_close via afn05: control round 1..8 (default 1)")},
           {"limit_half_hours", Int("trip via afn05: 限电时间 0..15 half-hours, 0 = until closed")},
           {"alarm_delay_minutes", Int("trip via afn05: 告警延时 0..15 minutes, 0 = at once")},
           {"control", Enum(kControls)},
           {"total_group", Int("power control: total-add group 1..8 (default 1)")},
           {"period_flags", Int("power_control_enable period (F9): periods bit map (default 255)")},
           {"scheme", Int("power_control_enable period (F9): setting scheme 0..2 (default 0)")},
           {"slip_minutes", Int("power_control_enable power_down (F12): 1..255 (default 5)")},
           {"float_percent", Int("power_down: float coefficient -79..79 % (default 0)")},
           {"freeze_delay_minutes", Int("power_down: 0..255 (default 1)")},
           {"control_half_hours", Int("power_down: 1..255 (default 2)")},
           {"alarm_minutes", ArrayOf(Int("power_down: alarm time of rounds 1..4"))}});
  r.AddSchema("TerminalCommandParams", params);
  r.AddSchema(
      "TerminalCommandInput",
      Obj({{"terminal_id", Int("the terminal; or give metering_point_id")},
           {"metering_point_id", Int("the point whose installed meter's terminal gets it")},
           {"kind", Enum(kKinds)},
           {"via",
            {{"type", "string"},
             {"enum", json(std::vector<std::string>(kVias.begin(), kVias.end()))},
             {"description",
              "afn05 to the terminal, or afn10_645 forwarded to the meter (default for a point "
              "behind a concentrator)"}}},
           {"params", Ref("TerminalCommandParams")},
           {"reason", Str("why: required for trip and power_control_enable; audited")}},
          {"kind"}));
  r.AddSchema("TerminalCommand",
              Obj({{"id", Int()},
                   {"terminal_id", Int()},
                   {"terminal_address", Str("\"3201-04660\"")},
                   {"terminal_kind", Str()},
                   {"reason", Str("why it was issued")},
                   {"metering_point_id", NullableInt()},
                   {"point_code", NullableStr()},
                   {"point_no",
                    {{"type", "integer"},
                     {"nullable", true},
                     {"description", "control round / total-add group, or the meter's Pn"}}},
                   {"meter_address", NullableStr()},
                   {"port", NullableInt()},
                   {"baud_rate", NullableInt()},
                   {"department_id", Int()},
                   {"kind", Enum(kKinds)},
                   {"params", Ref("TerminalCommandParams")},
                   {"via", Enum(kVias)},
                   {"status", Enum(kStatuses)},
                   {"attempts", Int("frames sent, front-end retries included")},
                   {"request_hex", NullableStr()},
                   {"request_decoded", {{"type", "object"}, {"nullable", true}}},
                   {"answer_hex", NullableStr()},
                   {"answer_decoded", {{"type", "object"}, {"nullable", true}}},
                   {"answer_text", NullableStr()},
                   {"control_request_id", NullableInt()},
                   {"issued_by", NullableInt()},
                   {"issued_by_name", Str()},
                   {"created_at", Str()},
                   {"expires_at", Str()},
                   {"sent_at", NullableStr()},
                   {"completed_at", NullableStr()},
                   {"updated_at", Str()},
                   {"version", Int()}},
                  {"id", "terminal_id", "kind", "via", "status", "version"}));
  r.AddSchema("TerminalCommandCancel", Obj({{"version", VersionField()}}, {"version"}));
  r.AddSchema("ReadNowRequest", Obj({{"items", ArrayOf(Enum({"energy", "power", "clock"}))},
                                     {"via", Enum({"terminal", "afn10_645"})}}));
  r.AddSchema("ReadNowValue", Obj({{"item", Str()},
                                   {"source", Str("\"AFN0C F129\", \"645 00010000\"")},
                                   {"name", Str()},
                                   {"value", NullableStr()},
                                   {"unit", Str()}}));
  r.AddSchema("FrameRecord", Obj({{"direction", Enum({"in", "out"})},
                                  {"hex", Str()},
                                  {"note", Str()},
                                  {"decoded", {{"type", "object"}, {"nullable", true}}}}));
  r.AddSchema("ReadNowResult", Obj({{"metering_point_id", Int()},
                                    {"terminal_id", Int()},
                                    {"terminal_address", Str()},
                                    {"point_no", Int()},
                                    {"via", Str()},
                                    {"read_at", Str()},
                                    {"values", ArrayOf(Ref("ReadNowValue"))},
                                    {"errors", ArrayOf(Str())},
                                    {"frames", ArrayOf(Ref("FrameRecord"))}}));
  r.AddSchema("CommLogEntry", Obj({{"seq", Int()},
                                   {"at", Str()},
                                   {"direction", Enum({"in", "out"})},
                                   {"terminal_address", NullableStr()},
                                   {"peer", Str()},
                                   {"hex", Str()},
                                   {"decoded", {{"type", "object"}, {"nullable", true}}},
                                   {"note", Str()}}));
  r.AddSchema("CommLogPage", Obj({{"items", ArrayOf(Ref("CommLogEntry"))},
                                  {"next_before",
                                   {{"type", "integer"},
                                    {"nullable", true},
                                    {"description", "pass as ?before= for older entries"}}}}));
  r.AddSchema("TerminalLinkState", Obj({{"terminal_id", Int()},
                                        {"terminal_address", Str()},
                                        {"online", Bool()},
                                        {"peer", Str()},
                                        {"login_at", NullableStr()},
                                        {"last_seen", NullableStr()},
                                        {"frames_in", Int()},
                                        {"frames_out", Int()},
                                        {"bad_frames", Int()},
                                        {"queued_requests", Int()}}));
  json stats = {{"type", "object"}, {"properties", json::object()}};
  for (const char* k :
       {"connections_open", "terminals_online", "connections_accepted", "logins", "refused_unknown",
        "frames_in", "frames_out", "bytes_in", "bytes_out", "bad_frames", "rate_limited",
        "requests", "request_timeouts", "request_retries", "denied", "reports"}) {
    stats["properties"][k] = Int();
  }
  r.AddSchema("FrontEndStats", stats);
}

std::optional<int> OptSmallInt(JsonFields& f, std::string_view name) {
  auto v = f.OptInt(name, {.min = -1000, .max = 1000});
  if (!v) return std::nullopt;
  return static_cast<int>(*v);
}

CommandParams ReadParams(JsonFields& outer, const json& body) {
  CommandParams p;
  const json* obj = outer.OptObject("params");
  if (!obj) return p;
  JsonFields f(*obj, "params.");
  p.round = OptSmallInt(f, "round");
  p.limit_half_hours = OptSmallInt(f, "limit_half_hours");
  p.alarm_delay_minutes = OptSmallInt(f, "alarm_delay_minutes");
  p.control = f.OptEnum("control", kControls);
  p.total_group = OptSmallInt(f, "total_group");
  p.period_flags = OptSmallInt(f, "period_flags");
  p.scheme = OptSmallInt(f, "scheme");
  p.slip_minutes = OptSmallInt(f, "slip_minutes");
  p.float_percent = OptSmallInt(f, "float_percent");
  p.freeze_delay_minutes = OptSmallInt(f, "freeze_delay_minutes");
  p.control_half_hours = OptSmallInt(f, "control_half_hours");
  if (const json* a = f.OptArray("alarm_minutes")) {
    std::vector<int> v;
    for (size_t i = 0; i < a->size(); ++i) {
      if (!(*a)[i].is_number_integer() || i >= 8) {
        std::string field = "params.alarm_minutes[" + std::to_string(i) + "]";
        f.Fail(InvalidArgument(field + " must be an integer (4 of them)", field));
        break;
      }
      v.push_back((*a)[i].get<int>());
    }
    p.alarm_minutes = std::move(v);
  }
  Status s = f.Finish();
  if (!s.ok()) outer.Fail(s);
  (void)body;
  return p;
}

}  // namespace

void AddCommandRoutes(http::Router& router, CommandService& commands) {
  AddSchemas(router);
  CommandService* s = &commands;

  router.Add({.method = "POST",
              .pattern = "/api/v1/terminal-commands",
              .permission = "acquisition.command",
              .summary = "Issue a command to a terminal or a metering point's meter (queued, sent "
                         "by the dispatcher when the terminal is online)",
              .tag = "acquisition",
              .request = "TerminalCommandInput",
              .response = "TerminalCommand",
              .success_status = 201,
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                CommandInput in;
                in.terminal_id = f.OptInt("terminal_id", {.min = 1});
                in.metering_point_id = f.OptInt("metering_point_id", {.min = 1});
                in.kind = f.Enum("kind", kKinds);
                in.via = f.OptEnum("via", kVias);
                in.params = ReadParams(f, body);
                in.reason = f.OptString("reason", {.max_len = 500}).value_or("");
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(Command c, s->Issue(ctx.actor, in));
                return JsonReply(CommandJson(c), 201);
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/terminal-commands",
              .permission = "acquisition.read",
              .summary = "Commands in your data scope, newest first",
              .tag = "acquisition",
              .query = {{"terminal_id", "integer", "of this terminal"},
                        {"metering_point_id", "integer", "of this metering point"},
                        {"department_id", "integer", "that department and below"},
                        {"control_request_id", "integer", "carrying out this prepaid request"},
                        {"status", "string",
                         "pending, sent, confirmed, denied, timed_out, failed, cancelled"},
                        {"kind", "string",
                         "time_sync, trip, permit_close, power_control_enable, "
                         "power_control_release, urge_alarm_on, urge_alarm_off"}},
              .response = "TerminalCommand",
              .list = true,
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
                CommandQuery q;
                ASSIGN_OR_RETURN(q.terminal_id, http::QueryInt(ctx.req, "terminal_id"));
                ASSIGN_OR_RETURN(q.metering_point_id, http::QueryInt(ctx.req, "metering_point_id"));
                ASSIGN_OR_RETURN(q.department_id, http::QueryInt(ctx.req, "department_id"));
                ASSIGN_OR_RETURN(q.control_request_id,
                                 http::QueryInt(ctx.req, "control_request_id"));
                ASSIGN_OR_RETURN(q.status, grid::api::QueryEnum(ctx.req, "status", kStatuses));
                ASSIGN_OR_RETURN(q.kind, grid::api::QueryEnum(ctx.req, "kind", kKinds));
                q.page = page.page;
                q.page_size = page.page_size;
                int64_t total = 0;
                ASSIGN_OR_RETURN(auto list, s->List(ctx.actor, q, &total));
                return JsonReply(http::PageOf(list, page, total));
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/terminal-commands/{id}",
              .permission = "acquisition.read",
              .summary = "One command with its request and answer frames decoded",
              .tag = "acquisition",
              .response = "TerminalCommand",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(Command c, s->Get(ctx.actor, id));
                return JsonReply(CommandJson(c));
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/terminal-commands/{id}/cancel",
              .permission = "acquisition.command",
              .summary = "Cancel a pending command (with its version)",
              .tag = "acquisition",
              .request = "TerminalCommandCancel",
              .response = "TerminalCommand",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                int64_t version = f.Int("version", {.min = 1});
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(Command c, s->Cancel(ctx.actor, id, version));
                return JsonReply(CommandJson(c));
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/metering-points/{id}/read-now",
              .permission = "acquisition.collect",
              .summary = "On-demand read (召测) of a metering point's meter through its terminal: "
                         "current registers, power, clock; not stored",
              .tag = "acquisition",
              .request = "ReadNowRequest",
              .response = "ReadNowResult",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                ReadNowRequest rq;
                rq.metering_point_id = id;
                if (const json* items = f.OptArray("items")) {
                  for (size_t i = 0; i < items->size(); ++i) {
                    const json& v = (*items)[i];
                    std::string field = "items[" + std::to_string(i) + "]";
                    if (!v.is_string() || i >= 3 ||
                        !grid::CheckOneOf(v.get<std::string>(), field, {"energy", "power", "clock"})
                             .ok()) {
                      f.Fail(
                          InvalidArgument(field + " must be one of energy, power, clock", field));
                      break;
                    }
                    rq.items.push_back(v.get<std::string>());
                  }
                }
                rq.via = f.OptEnum("via", {"terminal", "afn10_645"}).value_or("terminal");
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(ReadNowResult r, s->ReadNow(ctx.actor, rq));
                json j = ToJson(r);
                for (auto& fr : j["frames"]) {
                  fr["decoded"] = DecodedHex(fr["hex"].get<std::string>());
                }
                return JsonReply(std::move(j));
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/terminals/{id}/comm-log",
              .permission = "acquisition.read",
              .summary = "A terminal's communication log from the front end, newest first: frames "
                         "in hex beside their decoded meaning",
              .tag = "acquisition",
              .query = {{"before", "integer", "only entries with seq below this (paging)"},
                        {"limit", "integer", "1..500, default 100"}},
              .response = "CommLogPage",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(auto before, http::QueryInt(ctx.req, "before"));
                ASSIGN_OR_RETURN(auto limit, http::QueryInt(ctx.req, "limit"));
                if (before && *before < 1) {
                  return InvalidArgument("before must be a positive sequence number", "before");
                }
                if (limit && (*limit < 1 || *limit > 500)) {
                  return InvalidArgument("limit must be 1-500", "limit");
                }
                size_t n = static_cast<size_t>(limit.value_or(100));
                ASSIGN_OR_RETURN(
                    auto entries,
                    s->CommLog(ctx.actor, id, n, static_cast<uint64_t>(before.value_or(0))));
                json items = json::array();
                for (const auto& e : entries) items.push_back(CommLogJson(e));
                json next = entries.size() == n && !entries.empty() ? json(entries.back().seq)
                                                                    : json(nullptr);
                return JsonReply(json{{"items", std::move(items)}, {"next_before", next}});
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/terminals/{id}/link",
              .permission = "acquisition.read",
              .summary = "A terminal's live link state in the front end (online, peer, last seen, "
                         "frame counters)",
              .tag = "acquisition",
              .response = "TerminalLinkState",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(fep::TerminalState st, s->LinkState(ctx.actor, id));
                json j = ToJson(st);
                j["terminal_id"] = id;
                return JsonReply(std::move(j));
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/acquisition/front-end",
              .permission = "acquisition.read",
              .summary = "Terminal front end statistics: connections, terminals online, frames, "
                         "bad frames, requests",
              .tag = "acquisition",
              .response = "FrontEndStats",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(fep::FrontEndStats st, s->FrontEndStats(ctx.actor));
                return JsonReply(ToJson(st));
              }});
}

}  // namespace gridmis::acquisition
