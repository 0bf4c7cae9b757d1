#include "acquisition/routes.h"

#include "grid/route_helpers.h"

namespace gridmis::acquisition {

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

const std::initializer_list<std::string_view> kKinds = {"public_transformer", "special_transformer",
                                                        "large_customer", "substation"};
const std::initializer_list<std::string_view> kProtocols = {"gdw1376_1", "dlt698_45"};
const std::initializer_list<std::string_view> kCommModes = {"gprs",     "4g",    "5g",
                                                            "ethernet", "fiber", "carrier"};
const std::initializer_list<std::string_view> kStatuses = {"in_stock", "installed", "removed"};
const std::initializer_list<std::string_view> kMeterProtocols = {"dlt645_2007", "dlt645_1997",
                                                                 "dlt698_45"};

void AddSchemasImpl(http::Router& r) {
  r.AddSchema("TerminalMeter", Obj({{"id", Int()},
                                    {"terminal_id", Int()},
                                    {"meter_id", Int()},
                                    {"meter_asset_no", Str()},
                                    {"meter_comm_address", NullableStr()},
                                    {"point_no", Int("Pn, 1..2040")},
                                    {"port", Int()},
                                    {"baud_rate", Int()},
                                    {"protocol", Enum(kMeterProtocols)},
                                    {"version", Int()},
                                    {"created_at", Str()},
                                    {"updated_at", Str()}},
                                   {"id", "terminal_id", "meter_id", "point_no", "version"}));
  r.AddSchema("TerminalMeterInput",
              Obj({{"meter_id", Int()},
                   {"point_no", Int("Pn, 1..2040, unique per terminal")},
                   {"port", Int("1..31, default 2 (RS-485 I)")},
                   {"baud_rate", Int("300, 600, 1200, 2400 (default), 4800, 7200, 9600, 19200")},
                   {"protocol", Enum(kMeterProtocols)}},
                  {"meter_id", "point_no"}));
  r.AddSchema("Terminal",
              Obj({{"id", Int()},
                   {"asset_no", Str()},
                   {"kind", Enum(kKinds)},
                   {"area_code", Str("A1: 4 digits")},
                   {"address", Int("A2: 1..65535")},
                   {"address_text", Str("\"1501-00012\"")},
                   {"make", Str()},
                   {"model", Str()},
                   {"protocol", Enum(kProtocols)},
                   {"comm_mode", Enum(kCommModes)},
                   {"sim_no", NullableStr()},
                   {"department_id", Int()},
                   {"transformer_area_id", NullableInt()},
                   {"customer_id", NullableInt()},
                   {"substation_id", NullableInt()},
                   {"status", Enum(kStatuses)},
                   {"installed_on", NullableStr()},
                   {"meter_count", Int()},
                   {"meters", ArrayOf(Ref("TerminalMeter"))},
                   {"version", Int()},
                   {"created_at", Str()},
                   {"updated_at", Str()}},
                  {"id", "asset_no", "kind", "area_code", "address", "department_id", "version"}));
  r.AddSchema(
      "TerminalInput",
      Obj({{"asset_no", Str("required on create")},
           {"kind", Enum(kKinds)},
           {"area_code", Str("A1: exactly 4 digits; required on create")},
           {"address", Int("A2: 1..65535; required on create; unique with area_code")},
           {"make", Str()},
           {"model", Str()},
           {"protocol", Enum(kProtocols)},
           {"comm_mode", Enum(kCommModes)},
           {"sim_no", NullableStr()},
           {"department_id", Int("default: the linked record's")},
           {"transformer_area_id",
            {{"type", "integer"},
             {"nullable", true},
             {"description", "required for public_transformer"}}},
           {"customer_id",
            {{"type", "integer"},
             {"nullable", true},
             {"description", "required for special_transformer, large_customer"}}},
           {"substation_id",
            {{"type", "integer"}, {"nullable", true}, {"description", "required for substation"}}},
           {"status", Enum(kStatuses)},
           {"installed_on", NullableStr()},
           {"version", VersionField()}}));
  r.AddSchema("Ok", Obj({{"ok", Bool()}}));
}

TerminalInput ReadTerminalInput(JsonFields& f, const json& body) {
  TerminalInput in;
  in.asset_no = f.OptString("asset_no", {.max_len = 32});
  in.kind = f.OptEnum("kind", kKinds);
  in.area_code = f.OptString("area_code", {.max_len = 4});
  in.address = f.OptInt("address", {.min = 1, .max = 65535});
  in.make = f.OptString("make", {.max_len = 50, .min_len = 0});
  in.model = f.OptString("model", {.max_len = 50, .min_len = 0});
  in.protocol = f.OptEnum("protocol", kProtocols);
  in.comm_mode = f.OptEnum("comm_mode", kCommModes);
  in.sim_no = NullableText(f, body, "sim_no", 20);
  in.department_id = f.OptInt("department_id", {.min = 1});
  in.transformer_area_id = NullableId(f, body, "transformer_area_id");
  in.customer_id = NullableId(f, body, "customer_id");
  in.substation_id = NullableId(f, body, "substation_id");
  in.status = f.OptEnum("status", kStatuses);
  in.installed_on = NullableText(f, body, "installed_on", 10);
  return in;
}

}  // namespace

void AddTerminalSchemas(http::Router& router) { AddSchemasImpl(router); }

void AddRoutes(http::Router& router, TerminalService& terminals) {
  AddSchemasImpl(router);
  TerminalService* s = &terminals;

  router.Add({.method = "GET",
              .pattern = "/api/v1/terminals",
              .permission = "terminal.read",
              .summary = "Terminals in your data scope, by address",
              .tag = "acquisition",
              .query = {{"q", "string",
                         "\"1501-00012\": that address; 4 digits: that area code or asset number "
                         "prefix; otherwise asset number prefix"},
                        {"kind", "string",
                         "public_transformer, special_transformer, large_customer, substation"},
                        {"status", "string", "in_stock, installed, removed"},
                        {"department_id", "integer", "that department and below"},
                        {"transformer_area_id", "integer", "terminals of this transformer area"},
                        {"customer_id", "integer", "terminals of this customer"}},
              .response = "Terminal",
              .list = true,
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
                TerminalQuery q;
                ASSIGN_OR_RETURN(q.q, QueryText(ctx.req, "q", 32));
                ASSIGN_OR_RETURN(q.kind, QueryEnum(ctx.req, "kind", kKinds));
                ASSIGN_OR_RETURN(q.status, QueryEnum(ctx.req, "status", kStatuses));
                ASSIGN_OR_RETURN(q.department_id, http::QueryInt(ctx.req, "department_id"));
                ASSIGN_OR_RETURN(q.transformer_area_id,
                                 http::QueryInt(ctx.req, "transformer_area_id"));
                ASSIGN_OR_RETURN(q.customer_id, http::QueryInt(ctx.req, "customer_id"));
                q.page = page.page;
                q.page_size = page.page_size;
                int64_t total = 0;
                ASSIGN_OR_RETURN(auto list, s->List(ctx.actor, q, &total));
                return JsonReply(http::PageOf(list, page, total));
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/terminals",
              .permission = "terminal.write",
              .summary = "Register a terminal with its A1/A2 address and the link its kind needs",
              .tag = "acquisition",
              .request = "TerminalInput",
              .response = "Terminal",
              .success_status = 201,
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                TerminalInput in = ReadTerminalInput(f, body);
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(Terminal t, s->Create(ctx.actor, in));
                return JsonReply(ToJson(t), 201);
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/terminals/{id}",
              .permission = "terminal.read",
              .summary = "One terminal with the meters it reads (by Pn)",
              .tag = "acquisition",
              .response = "Terminal",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(Terminal t, s->Get(ctx.actor, id));
                return JsonReply(ToJson(t));
              }});
  router.Add({.method = "PATCH",
              .pattern = "/api/v1/terminals/{id}",
              .permission = "terminal.write",
              .summary = "Change a terminal (with its version); null clears a link",
              .tag = "acquisition",
              .request = "TerminalInput",
              .response = "Terminal",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                int64_t version = f.Int("version", {.min = 1});
                TerminalInput in = ReadTerminalInput(f, body);
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(Terminal t, s->Update(ctx.actor, id, version, in));
                return JsonReply(ToJson(t));
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/terminals/{id}/meters",
              .permission = "terminal.write",
              .summary = "Put a meter behind a terminal at a measurement point number (Pn)",
              .tag = "acquisition",
              .request = "TerminalMeterInput",
              .response = "TerminalMeter",
              .success_status = 201,
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                TerminalMeterInput in;
                in.meter_id = f.Int("meter_id", {.min = 1});
                in.point_no = f.Int("point_no", {.min = 1, .max = 2040});
                in.port = f.OptInt("port", {.min = 1, .max = 31});
                in.baud_rate = f.OptInt("baud_rate", {.min = 300, .max = 19200});
                in.protocol = f.OptEnum("protocol", kMeterProtocols);
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(TerminalMeter m, s->AddMeter(ctx.actor, id, in));
                return JsonReply(ToJson(m), 201);
              }});
  router.Add({.method = "DELETE",
              .pattern = "/api/v1/terminal-meters/{id}",
              .permission = "terminal.write",
              .summary = "Take a meter off its terminal (?version= makes it conditional)",
              .tag = "acquisition",
              .query = {{"version", "integer", "the version the deletion is based on"}},
              .response = "Ok",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(auto version, http::QueryInt(ctx.req, "version"));
                RETURN_IF_ERROR(s->RemoveMeter(ctx.actor, id, version));
                return JsonReply({{"ok", true}});
              }});
}

}  // namespace gridmis::acquisition
