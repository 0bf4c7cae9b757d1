#include "grid/routes.h"

#include "grid/route_helpers.h"

namespace gridmis::grid {

using api::Enum;
using api::Int;
using api::JsonReply;
using api::Obj;
using api::QueryEnum;
using api::QueryText;
using api::Str;
using api::VersionField;
using http::JsonFields;
using http::Reply;
using http::RouteContext;
using nlohmann::json;

namespace {

const std::initializer_list<std::string_view> kStatuses = {"in_service", "out_of_service",
                                                           "retired"};

void AddSchemas(http::Router& r) {
  json status = Enum(kStatuses);
  json voltage = Int("volts: 220, 380, 10000, 20000, 35000, 66000, 110000 or 220000");
  r.AddSchema("Substation",
              Obj({{"id", Int()},
                   {"code", Str()},
                   {"name", Str()},
                   {"voltage_v", voltage},
                   {"department_id", Int()},
                   {"address", Str()},
                   {"status", status},
                   {"feeder_count", Int()},
                   {"version", Int()},
                   {"created_at", Str()},
                   {"updated_at", Str()}},
                  {"id", "code", "name", "voltage_v", "department_id", "status", "version"}));
  r.AddSchema("SubstationInput",
              Obj({{"code", Str("1-32 of A-Z a-z 0-9 _ . -; required on create")},
                   {"name", Str("1-100 characters; required on create")},
                   {"voltage_v", voltage},
                   {"department_id", Int("required on create")},
                   {"address", Str()},
                   {"status", status},
                   {"version", VersionField()}}));
  r.AddSchema("Feeder", Obj({{"id", Int()},
                             {"code", Str()},
                             {"name", Str()},
                             {"substation_id", Int()},
                             {"substation_name", Str()},
                             {"voltage_v", voltage},
                             {"department_id", Int()},
                             {"status", status},
                             {"transformer_area_count", Int()},
                             {"version", Int()},
                             {"created_at", Str()},
                             {"updated_at", Str()}},
                            {"id", "code", "name", "substation_id", "department_id", "version"}));
  r.AddSchema("FeederInput", Obj({{"code", Str("required on create")},
                                  {"name", Str("required on create")},
                                  {"substation_id", Int("required on create")},
                                  {"voltage_v", Int("default 10000")},
                                  {"department_id", Int("default: the substation's")},
                                  {"status", status},
                                  {"version", VersionField()}}));
  r.AddSchema("TransformerArea",
              Obj({{"id", Int()},
                   {"code", Str()},
                   {"name", Str()},
                   {"feeder_id", Int()},
                   {"feeder_name", Str()},
                   {"substation_id", Int()},
                   {"department_id", Int()},
                   {"capacity_kva", Int()},
                   {"ownership", Enum({"public", "private"})},
                   {"address", Str()},
                   {"status", status},
                   {"metering_point_count", Int()},
                   {"version", Int()},
                   {"created_at", Str()},
                   {"updated_at", Str()}},
                  {"id", "code", "name", "feeder_id", "department_id", "capacity_kva", "version"}));
  r.AddSchema("TransformerAreaInput", Obj({{"code", Str("required on create")},
                                           {"name", Str("required on create")},
                                           {"feeder_id", Int("required on create")},
                                           {"department_id", Int("default: the feeder's")},
                                           {"capacity_kva", Int("1..100000; required on create")},
                                           {"ownership", Enum({"public", "private"})},
                                           {"address", Str()},
                                           {"status", status},
                                           {"version", VersionField()}}));
}

SubstationInput ReadSubstationInput(JsonFields& f) {
  SubstationInput in;
  in.code = f.OptString("code", {.max_len = 32});
  in.name = f.OptString("name", {.max_len = 100});
  in.voltage_v = f.OptInt("voltage_v", {.min = 1, .max = 1'000'000});
  in.department_id = f.OptInt("department_id", {.min = 1});
  in.address = f.OptString("address", {.max_len = 200, .min_len = 0});
  in.status = f.OptEnum("status", kStatuses);
  return in;
}

FeederInput ReadFeederInput(JsonFields& f) {
  FeederInput in;
  in.code = f.OptString("code", {.max_len = 32});
  in.name = f.OptString("name", {.max_len = 100});
  in.substation_id = f.OptInt("substation_id", {.min = 1});
  in.voltage_v = f.OptInt("voltage_v", {.min = 1, .max = 1'000'000});
  in.department_id = f.OptInt("department_id", {.min = 1});
  in.status = f.OptEnum("status", kStatuses);
  return in;
}

TransformerAreaInput ReadAreaInput(JsonFields& f) {
  TransformerAreaInput in;
  in.code = f.OptString("code", {.max_len = 32});
  in.name = f.OptString("name", {.max_len = 100});
  in.feeder_id = f.OptInt("feeder_id", {.min = 1});
  in.department_id = f.OptInt("department_id", {.min = 1});
  in.capacity_kva = f.OptInt("capacity_kva", {.min = 1, .max = 100'000});
  in.ownership = f.OptEnum("ownership", {"public", "private"});
  in.address = f.OptString("address", {.max_len = 200, .min_len = 0});
  in.status = f.OptEnum("status", kStatuses);
  return in;
}

// GET list, POST, GET one and PATCH for one kind of record. `Input` is read by `read`.
template <typename Record, typename Input>
void AddCrud(
    http::Router& router, const std::string& path, const std::string& schema,
    const std::string& what, std::vector<http::QueryParamDoc> query,
    std::function<Result<Reply>(RouteContext&)> list, Input (*read)(JsonFields&),
    std::function<Result<Record>(const org::Actor&, int64_t)> get,
    std::function<Result<Record>(const org::Actor&, const Input&)> create,
    std::function<Result<Record>(const org::Actor&, int64_t, int64_t, const Input&)> update) {
  router.Add({.method = "GET",
              .pattern = path,
              .permission = "grid.read",
              .summary = what + "s in your data scope, by code",
              .tag = "grid",
              .query = std::move(query),
              .response = schema,
              .list = true,
              .fn = std::move(list)});
  router.Add({.method = "GET",
              .pattern = path + "/{id}",
              .permission = "grid.read",
              .summary = "One " + what,
              .tag = "grid",
              .response = schema,
              .fn = [get](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(Record rec, get(ctx.actor, id));
                return JsonReply(ToJson(rec));
              }});
  router.Add({.method = "POST",
              .pattern = path,
              .permission = "grid.write",
              .summary = "Create a " + what,
              .tag = "grid",
              .request = schema + "Input",
              .response = schema,
              .success_status = 201,
              .fn = [read, create](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                Input in = read(f);
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(Record rec, create(ctx.actor, in));
                return JsonReply(ToJson(rec), 201);
              }});
  router.Add({.method = "PATCH",
              .pattern = path + "/{id}",
              .permission = "grid.write",
              .summary = "Change a " + what + " (with the version it was read at)",
              .tag = "grid",
              .request = schema + "Input",
              .response = schema,
              .fn = [read, update](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                int64_t version = f.Int("version", {.min = 1});
                Input in = read(f);
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(Record rec, update(ctx.actor, id, version, in));
                return JsonReply(ToJson(rec));
              }});
}

const http::QueryParamDoc kQDoc = {"q", "string", "code or name contains"};
const http::QueryParamDoc kDeptDoc = {"department_id", "integer", "that department and below"};
const http::QueryParamDoc kStatusDoc = {"status", "string", "in_service, out_of_service, retired"};

}  // namespace

void AddRoutes(http::Router& router, GridService& grid) {
  AddSchemas(router);
  GridService* g = &grid;

  AddCrud<Substation, SubstationInput>(
      router, "/api/v1/substations", "Substation", "substation", {kQDoc, kDeptDoc, kStatusDoc},
      [g](RouteContext& ctx) -> Result<Reply> {
        ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
        SubstationQuery q;
        ASSIGN_OR_RETURN(q.q, QueryText(ctx.req, "q"));
        ASSIGN_OR_RETURN(q.department_id, http::QueryInt(ctx.req, "department_id"));
        ASSIGN_OR_RETURN(q.status, QueryEnum(ctx.req, "status", kStatuses));
        q.page = page.page;
        q.page_size = page.page_size;
        int64_t total = 0;
        ASSIGN_OR_RETURN(auto items, g->ListSubstations(ctx.actor, q, &total));
        return JsonReply(http::PageOf(items, page, total));
      },
      &ReadSubstationInput,
      [g](const org::Actor& a, int64_t id) { return g->GetSubstation(a, id); },
      [g](const org::Actor& a, const SubstationInput& in) { return g->CreateSubstation(a, in); },
      [g](const org::Actor& a, int64_t id, int64_t v, const SubstationInput& in) {
        return g->UpdateSubstation(a, id, v, in);
      });

  AddCrud<Feeder, FeederInput>(
      router, "/api/v1/feeders", "Feeder", "feeder",
      {kQDoc, kDeptDoc, {"substation_id", "integer", "feeders of this substation"}, kStatusDoc},
      [g](RouteContext& ctx) -> Result<Reply> {
        ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
        FeederQuery q;
        ASSIGN_OR_RETURN(q.q, QueryText(ctx.req, "q"));
        ASSIGN_OR_RETURN(q.department_id, http::QueryInt(ctx.req, "department_id"));
        ASSIGN_OR_RETURN(q.substation_id, http::QueryInt(ctx.req, "substation_id"));
        ASSIGN_OR_RETURN(q.status, QueryEnum(ctx.req, "status", kStatuses));
        q.page = page.page;
        q.page_size = page.page_size;
        int64_t total = 0;
        ASSIGN_OR_RETURN(auto items, g->ListFeeders(ctx.actor, q, &total));
        return JsonReply(http::PageOf(items, page, total));
      },
      &ReadFeederInput, [g](const org::Actor& a, int64_t id) { return g->GetFeeder(a, id); },
      [g](const org::Actor& a, const FeederInput& in) { return g->CreateFeeder(a, in); },
      [g](const org::Actor& a, int64_t id, int64_t v, const FeederInput& in) {
        return g->UpdateFeeder(a, id, v, in);
      });

  AddCrud<TransformerArea, TransformerAreaInput>(
      router, "/api/v1/transformer-areas", "TransformerArea", "transformer area",
      {kQDoc,
       kDeptDoc,
       {"substation_id", "integer", "areas fed from this substation"},
       {"feeder_id", "integer", "areas on this feeder"},
       {"ownership", "string", "public or private"},
       kStatusDoc},
      [g](RouteContext& ctx) -> Result<Reply> {
        ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
        TransformerAreaQuery q;
        ASSIGN_OR_RETURN(q.q, QueryText(ctx.req, "q"));
        ASSIGN_OR_RETURN(q.department_id, http::QueryInt(ctx.req, "department_id"));
        ASSIGN_OR_RETURN(q.substation_id, http::QueryInt(ctx.req, "substation_id"));
        ASSIGN_OR_RETURN(q.feeder_id, http::QueryInt(ctx.req, "feeder_id"));
        ASSIGN_OR_RETURN(q.ownership, QueryEnum(ctx.req, "ownership", {"public", "private"}));
        ASSIGN_OR_RETURN(q.status, QueryEnum(ctx.req, "status", kStatuses));
        q.page = page.page;
        q.page_size = page.page_size;
        int64_t total = 0;
        ASSIGN_OR_RETURN(auto items, g->ListTransformerAreas(ctx.actor, q, &total));
        return JsonReply(http::PageOf(items, page, total));
      },
      &ReadAreaInput, [g](const org::Actor& a, int64_t id) { return g->GetTransformerArea(a, id); },
      [g](const org::Actor& a, const TransformerAreaInput& in) {
        return g->CreateTransformerArea(a, in);
      },
      [g](const org::Actor& a, int64_t id, int64_t v, const TransformerAreaInput& in) {
        return g->UpdateTransformerArea(a, id, v, in);
      });
}

}  // namespace gridmis::grid
