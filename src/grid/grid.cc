#include "grid/grid.h"

#include <nlohmann/json.hpp>

#include "grid/records.h"
#include "org/audit.h"

namespace gridmis::grid {

using nlohmann::json;
using org::Actor;
using store::Connection;
using store::Row;

namespace {

const std::initializer_list<std::string_view> kStatuses = {"in_service", "out_of_service",
                                                           "retired"};

// ---- Substations ----

constexpr const char* kSubstationSelect =
    "SELECT s.id, s.code, s.name, s.voltage_v, s.department_id, s.address, s.status, s.version, "
    "s.created_at_us, s.updated_at_us, "
    "(SELECT COUNT(*) FROM feeders f WHERE f.substation_id = s.id) "
    "FROM substations s";

Substation ReadSubstation(const Row& r) {
  Substation s;
  s.id = r.Int(0);
  s.code = r.Text(1);
  s.name = r.Text(2);
  s.voltage_v = r.Int(3);
  s.department_id = r.Int(4);
  s.address = r.Text(5);
  s.status = r.Text(6);
  s.version = r.Int(7);
  s.created_at_us = r.Int(8);
  s.updated_at_us = r.Int(9);
  s.feeder_count = r.Int(10);
  return s;
}

Result<std::optional<Substation>> LoadSubstation(Connection& c, int64_t id) {
  std::optional<Substation> s;
  RETURN_IF_ERROR(c.Query(std::string(kSubstationSelect) + " WHERE s.id = $1", {id},
                          [&](const Row& r) { s = ReadSubstation(r); }));
  return s;
}

Status CheckSubstation(const Substation& s) {
  RETURN_IF_ERROR(CheckCode(s.code, "code"));
  RETURN_IF_ERROR(CheckText(s.name, "name", 1, 100));
  RETURN_IF_ERROR(CheckVoltage(s.voltage_v));
  RETURN_IF_ERROR(CheckText(s.address, "address", 0, 200));
  return CheckOneOf(s.status, "status", kStatuses);
}

// ---- Feeders ----

constexpr const char* kFeederSelect =
    "SELECT f.id, f.code, f.name, f.substation_id, s.name, f.voltage_v, f.department_id, "
    "f.status, f.version, f.created_at_us, f.updated_at_us, "
    "(SELECT COUNT(*) FROM transformer_areas a WHERE a.feeder_id = f.id) "
    "FROM feeders f JOIN substations s ON s.id = f.substation_id";

Feeder ReadFeeder(const Row& r) {
  Feeder f;
  f.id = r.Int(0);
  f.code = r.Text(1);
  f.name = r.Text(2);
  f.substation_id = r.Int(3);
  f.substation_name = r.Text(4);
  f.voltage_v = r.Int(5);
  f.department_id = r.Int(6);
  f.status = r.Text(7);
  f.version = r.Int(8);
  f.created_at_us = r.Int(9);
  f.updated_at_us = r.Int(10);
  f.transformer_area_count = r.Int(11);
  return f;
}

Result<std::optional<Feeder>> LoadFeeder(Connection& c, int64_t id) {
  std::optional<Feeder> f;
  RETURN_IF_ERROR(c.Query(std::string(kFeederSelect) + " WHERE f.id = $1", {id},
                          [&](const Row& r) { f = ReadFeeder(r); }));
  return f;
}

Status CheckFeeder(const Feeder& f) {
  RETURN_IF_ERROR(CheckCode(f.code, "code"));
  RETURN_IF_ERROR(CheckText(f.name, "name", 1, 100));
  RETURN_IF_ERROR(CheckVoltage(f.voltage_v));
  return CheckOneOf(f.status, "status", kStatuses);
}

// ---- Transformer areas ----

constexpr const char* kAreaSelect =
    "SELECT a.id, a.code, a.name, a.feeder_id, f.name, f.substation_id, a.department_id, "
    "a.capacity_kva, a.ownership, a.address, a.status, a.version, a.created_at_us, "
    "a.updated_at_us, "
    "(SELECT COUNT(*) FROM metering_points mp WHERE mp.transformer_area_id = a.id) "
    "FROM transformer_areas a JOIN feeders f ON f.id = a.feeder_id";

TransformerArea ReadArea(const Row& r) {
  TransformerArea a;
  a.id = r.Int(0);
  a.code = r.Text(1);
  a.name = r.Text(2);
  a.feeder_id = r.Int(3);
  a.feeder_name = r.Text(4);
  a.substation_id = r.Int(5);
  a.department_id = r.Int(6);
  a.capacity_kva = r.Int(7);
  a.ownership = r.Text(8);
  a.address = r.Text(9);
  a.status = r.Text(10);
  a.version = r.Int(11);
  a.created_at_us = r.Int(12);
  a.updated_at_us = r.Int(13);
  a.metering_point_count = r.Int(14);
  return a;
}

Result<std::optional<TransformerArea>> LoadArea(Connection& c, int64_t id) {
  std::optional<TransformerArea> a;
  RETURN_IF_ERROR(c.Query(std::string(kAreaSelect) + " WHERE a.id = $1", {id},
                          [&](const Row& r) { a = ReadArea(r); }));
  return a;
}

Status CheckArea(const TransformerArea& a) {
  RETURN_IF_ERROR(CheckCode(a.code, "code"));
  RETURN_IF_ERROR(CheckText(a.name, "name", 1, 100));
  if (a.capacity_kva < 1 || a.capacity_kva > 100'000) {
    return InvalidArgument("capacity_kva must be between 1 and 100000 kVA (got " +
                               std::to_string(a.capacity_kva) + ")",
                           "capacity_kva");
  }
  RETURN_IF_ERROR(CheckOneOf(a.ownership, "ownership", {"public", "private"}));
  RETURN_IF_ERROR(CheckText(a.address, "address", 0, 200));
  return CheckOneOf(a.status, "status", kStatuses);
}

Status Required(bool present, std::string_view field) {
  if (present) return Status::Ok();
  return InvalidArgument(std::string(field) + " is required", std::string(field));
}

Status CodeTaken(const Status& s, std::string_view what, const std::string& code) {
  if (s.code() == StatusCode::kAlreadyExists) {
    return AlreadyExists(std::string(what) + " code '" + code + "' is already used", "code");
  }
  return s;
}

// Adds the free-text filter on code and name.
void AddTextFilter(SqlWhere& w, std::string_view alias, const std::string& q) {
  if (q.empty()) return;
  std::string p = w.Bind(ContainsPattern(q));
  std::string a(alias);
  w.And("(LOWER(" + a + ".code) LIKE " + p + " ESCAPE '\\' OR LOWER(" + a + ".name) LIKE " + p +
        " ESCAPE '\\')");
}

Status AddDepartmentFilter(Connection& c, SqlWhere& w, std::string_view column,
                           const std::optional<int64_t>& department_id) {
  if (!department_id) return Status::Ok();
  ASSIGN_OR_RETURN(auto ids, DepartmentSubtree(c, *department_id));
  w.And(InSql(column, ids));
  return Status::Ok();
}

}  // namespace

json ToJson(const Substation& s) {
  return json{{"id", s.id},
              {"code", s.code},
              {"name", s.name},
              {"voltage_v", s.voltage_v},
              {"department_id", s.department_id},
              {"address", s.address},
              {"status", s.status},
              {"feeder_count", s.feeder_count},
              {"version", s.version},
              {"created_at", FormatUtc(s.created_at_us)},
              {"updated_at", FormatUtc(s.updated_at_us)}};
}

json ToJson(const Feeder& f) {
  return json{{"id", f.id},
              {"code", f.code},
              {"name", f.name},
              {"substation_id", f.substation_id},
              {"substation_name", f.substation_name},
              {"voltage_v", f.voltage_v},
              {"department_id", f.department_id},
              {"status", f.status},
              {"transformer_area_count", f.transformer_area_count},
              {"version", f.version},
              {"created_at", FormatUtc(f.created_at_us)},
              {"updated_at", FormatUtc(f.updated_at_us)}};
}

json ToJson(const TransformerArea& a) {
  return json{{"id", a.id},
              {"code", a.code},
              {"name", a.name},
              {"feeder_id", a.feeder_id},
              {"feeder_name", a.feeder_name},
              {"substation_id", a.substation_id},
              {"department_id", a.department_id},
              {"capacity_kva", a.capacity_kva},
              {"ownership", a.ownership},
              {"address", a.address},
              {"status", a.status},
              {"metering_point_count", a.metering_point_count},
              {"version", a.version},
              {"created_at", FormatUtc(a.created_at_us)},
              {"updated_at", FormatUtc(a.updated_at_us)}};
}

// ---------------------------------------------------------------------------------------------
// Substations

Result<std::vector<Substation>> GridService::ListSubstations(const Actor& actor,
                                                             const SubstationQuery& q,
                                                             int64_t* total) {
  RETURN_IF_ERROR(actor.Require("grid.read"));
  std::vector<Substation> out;
  Status st = db_.Read([&](Connection& c) -> Status {
    SqlWhere w(DepartmentScopeSql(actor, "s.department_id"));
    RETURN_IF_ERROR(AddDepartmentFilter(c, w, "s.department_id", q.department_id));
    AddTextFilter(w, "s", q.q);
    if (!q.status.empty()) w.And("s.status = " + w.Bind(q.status));
    ASSIGN_OR_RETURN(*total,
                     c.QueryInt("SELECT COUNT(*) FROM substations s WHERE " + w.sql(), w.params()));
    std::string sql = std::string(kSubstationSelect) + " WHERE " + w.sql() + " ORDER BY s.code ";
    sql += w.LimitOffset(q.page, q.page_size);
    return c.Query(sql, w.params(), [&](const Row& r) { out.push_back(ReadSubstation(r)); });
  });
  if (!st.ok()) return st;
  return out;
}

Result<Substation> GridService::GetSubstation(const Actor& actor, int64_t id) {
  RETURN_IF_ERROR(actor.Require("grid.read"));
  ASSIGN_OR_RETURN(auto s, db_.ReadValue<std::optional<Substation>>(
                               [&](Connection& c) { return LoadSubstation(c, id); }));
  if (!s || !CanSeeDepartment(actor, s->department_id)) {
    return NotFound("substation " + std::to_string(id) + " not found");
  }
  return *s;
}

Result<Substation> GridService::CreateSubstation(const Actor& actor, const SubstationInput& in) {
  RETURN_IF_ERROR(actor.Require("grid.write"));
  RETURN_IF_ERROR(Required(in.code.has_value(), "code"));
  RETURN_IF_ERROR(Required(in.name.has_value(), "name"));
  RETURN_IF_ERROR(Required(in.voltage_v.has_value(), "voltage_v"));
  RETURN_IF_ERROR(Required(in.department_id.has_value(), "department_id"));
  Substation s;
  s.code = *in.code;
  s.name = *in.name;
  s.voltage_v = *in.voltage_v;
  s.department_id = *in.department_id;
  s.address = in.address.value_or("");
  s.status = in.status.value_or("in_service");
  RETURN_IF_ERROR(CheckSubstation(s));
  int64_t now = clock_.NowMicros();
  return db_.WriteValue<Substation>([&](Connection& c) -> Result<Substation> {
    RETURN_IF_ERROR(CheckDepartment(c, actor, s.department_id));
    auto id = c.InsertReturningId(
        "INSERT INTO substations (code, name, voltage_v, department_id, address, status, "
        "created_at_us, updated_at_us) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
        {s.code, s.name, s.voltage_v, s.department_id, s.address, s.status, now});
    if (!id.ok()) return CodeTaken(id.status(), "substation", s.code);
    ASSIGN_OR_RETURN(auto created, LoadSubstation(c, *id));
    RETURN_IF_ERROR(org::WriteAudit(c, actor,
                                    {"create", "substation", std::to_string(*id), "",
                                     ToJson(*created).dump(), created->department_id},
                                    now));
    return *created;
  });
}

Result<Substation> GridService::UpdateSubstation(const Actor& actor, int64_t id, int64_t version,
                                                 const SubstationInput& in) {
  RETURN_IF_ERROR(actor.Require("grid.write"));
  int64_t now = clock_.NowMicros();
  return db_.WriteValue<Substation>([&](Connection& c) -> Result<Substation> {
    ASSIGN_OR_RETURN(auto before, LoadSubstation(c, id));
    if (!before || !CanSeeDepartment(actor, before->department_id)) {
      return NotFound("substation " + std::to_string(id) + " not found");
    }
    if (before->version != version) {
      return StaleVersion("substation", id, before->version, version);
    }
    Substation s = *before;
    if (in.code) s.code = *in.code;
    if (in.name) s.name = *in.name;
    if (in.voltage_v) s.voltage_v = *in.voltage_v;
    if (in.department_id) s.department_id = *in.department_id;
    if (in.address) s.address = *in.address;
    if (in.status) s.status = *in.status;
    RETURN_IF_ERROR(CheckSubstation(s));
    if (s.department_id != before->department_id) {
      RETURN_IF_ERROR(CheckDepartment(c, actor, s.department_id));
    }
    auto n = c.Exec(
        "UPDATE substations SET code = $1, name = $2, voltage_v = $3, department_id = $4, "
        "address = $5, status = $6, version = version + 1, updated_at_us = $7 "
        "WHERE id = $8 AND version = $9",
        {s.code, s.name, s.voltage_v, s.department_id, s.address, s.status, now, id, version});
    if (!n.ok()) return CodeTaken(n.status(), "substation", s.code);
    if (*n == 0) return StaleVersionAfterUpdate(c, "substations", "substation", id, version);
    ASSIGN_OR_RETURN(auto after, LoadSubstation(c, id));
    RETURN_IF_ERROR(
        org::WriteAudit(c, actor,
                        {"update", "substation", std::to_string(id), ToJson(*before).dump(),
                         ToJson(*after).dump(), after->department_id},
                        now));
    return *after;
  });
}

// ---------------------------------------------------------------------------------------------
// Feeders

Result<std::vector<Feeder>> GridService::ListFeeders(const Actor& actor, const FeederQuery& q,
                                                     int64_t* total) {
  RETURN_IF_ERROR(actor.Require("grid.read"));
  std::vector<Feeder> out;
  Status st = db_.Read([&](Connection& c) -> Status {
    SqlWhere w(DepartmentScopeSql(actor, "f.department_id"));
    RETURN_IF_ERROR(AddDepartmentFilter(c, w, "f.department_id", q.department_id));
    AddTextFilter(w, "f", q.q);
    if (q.substation_id) w.And("f.substation_id = " + w.Bind(*q.substation_id));
    if (!q.status.empty()) w.And("f.status = " + w.Bind(q.status));
    ASSIGN_OR_RETURN(*total,
                     c.QueryInt("SELECT COUNT(*) FROM feeders f WHERE " + w.sql(), w.params()));
    std::string sql = std::string(kFeederSelect) + " WHERE " + w.sql() + " ORDER BY f.code ";
    sql += w.LimitOffset(q.page, q.page_size);
    return c.Query(sql, w.params(), [&](const Row& r) { out.push_back(ReadFeeder(r)); });
  });
  if (!st.ok()) return st;
  return out;
}

Result<Feeder> GridService::GetFeeder(const Actor& actor, int64_t id) {
  RETURN_IF_ERROR(actor.Require("grid.read"));
  ASSIGN_OR_RETURN(auto f, db_.ReadValue<std::optional<Feeder>>(
                               [&](Connection& c) { return LoadFeeder(c, id); }));
  if (!f || !CanSeeDepartment(actor, f->department_id)) {
    return NotFound("feeder " + std::to_string(id) + " not found");
  }
  return *f;
}

Result<Feeder> GridService::CreateFeeder(const Actor& actor, const FeederInput& in) {
  RETURN_IF_ERROR(actor.Require("grid.write"));
  RETURN_IF_ERROR(Required(in.code.has_value(), "code"));
  RETURN_IF_ERROR(Required(in.name.has_value(), "name"));
  RETURN_IF_ERROR(Required(in.substation_id.has_value(), "substation_id"));
  Feeder f;
  f.code = *in.code;
  f.name = *in.name;
  f.substation_id = *in.substation_id;
  f.voltage_v = in.voltage_v.value_or(10'000);
  f.status = in.status.value_or("in_service");
  RETURN_IF_ERROR(CheckFeeder(f));
  int64_t now = clock_.NowMicros();
  return db_.WriteValue<Feeder>([&](Connection& c) -> Result<Feeder> {
    ASSIGN_OR_RETURN(int64_t parent_dept,
                     CheckVisibleReference(c, actor, "substations", "substation", f.substation_id,
                                           "substation_id"));
    f.department_id = in.department_id.value_or(parent_dept);
    RETURN_IF_ERROR(CheckDepartment(c, actor, f.department_id));
    auto id = c.InsertReturningId(
        "INSERT INTO feeders (code, name, substation_id, voltage_v, department_id, status, "
        "created_at_us, updated_at_us) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
        {f.code, f.name, f.substation_id, f.voltage_v, f.department_id, f.status, now});
    if (!id.ok()) return CodeTaken(id.status(), "feeder", f.code);
    ASSIGN_OR_RETURN(auto created, LoadFeeder(c, *id));
    RETURN_IF_ERROR(org::WriteAudit(c, actor,
                                    {"create", "feeder", std::to_string(*id), "",
                                     ToJson(*created).dump(), created->department_id},
                                    now));
    return *created;
  });
}

Result<Feeder> GridService::UpdateFeeder(const Actor& actor, int64_t id, int64_t version,
                                         const FeederInput& in) {
  RETURN_IF_ERROR(actor.Require("grid.write"));
  int64_t now = clock_.NowMicros();
  return db_.WriteValue<Feeder>([&](Connection& c) -> Result<Feeder> {
    ASSIGN_OR_RETURN(auto before, LoadFeeder(c, id));
    if (!before || !CanSeeDepartment(actor, before->department_id)) {
      return NotFound("feeder " + std::to_string(id) + " not found");
    }
    if (before->version != version) return StaleVersion("feeder", id, before->version, version);
    Feeder f = *before;
    if (in.code) f.code = *in.code;
    if (in.name) f.name = *in.name;
    if (in.substation_id) f.substation_id = *in.substation_id;
    if (in.voltage_v) f.voltage_v = *in.voltage_v;
    if (in.department_id) f.department_id = *in.department_id;
    if (in.status) f.status = *in.status;
    RETURN_IF_ERROR(CheckFeeder(f));
    if (f.substation_id != before->substation_id) {
      RETURN_IF_ERROR(CheckVisibleReference(c, actor, "substations", "substation", f.substation_id,
                                            "substation_id")
                          .status());
    }
    if (f.department_id != before->department_id) {
      RETURN_IF_ERROR(CheckDepartment(c, actor, f.department_id));
    }
    auto n = c.Exec(
        "UPDATE feeders SET code = $1, name = $2, substation_id = $3, voltage_v = $4, "
        "department_id = $5, status = $6, version = version + 1, updated_at_us = $7 "
        "WHERE id = $8 AND version = $9",
        {f.code, f.name, f.substation_id, f.voltage_v, f.department_id, f.status, now, id,
         version});
    if (!n.ok()) return CodeTaken(n.status(), "feeder", f.code);
    if (*n == 0) return StaleVersionAfterUpdate(c, "feeders", "feeder", id, version);
    ASSIGN_OR_RETURN(auto after, LoadFeeder(c, id));
    RETURN_IF_ERROR(org::WriteAudit(c, actor,
                                    {"update", "feeder", std::to_string(id), ToJson(*before).dump(),
                                     ToJson(*after).dump(), after->department_id},
                                    now));
    return *after;
  });
}

// ---------------------------------------------------------------------------------------------
// Transformer areas

Result<std::vector<TransformerArea>> GridService::ListTransformerAreas(
    const Actor& actor, const TransformerAreaQuery& q, int64_t* total) {
  RETURN_IF_ERROR(actor.Require("grid.read"));
  std::vector<TransformerArea> out;
  Status st = db_.Read([&](Connection& c) -> Status {
    SqlWhere w(DepartmentScopeSql(actor, "a.department_id"));
    RETURN_IF_ERROR(AddDepartmentFilter(c, w, "a.department_id", q.department_id));
    AddTextFilter(w, "a", q.q);
    if (q.feeder_id) w.And("a.feeder_id = " + w.Bind(*q.feeder_id));
    if (q.substation_id) w.And("f.substation_id = " + w.Bind(*q.substation_id));
    if (!q.ownership.empty()) w.And("a.ownership = " + w.Bind(q.ownership));
    if (!q.status.empty()) w.And("a.status = " + w.Bind(q.status));
    ASSIGN_OR_RETURN(*total, c.QueryInt("SELECT COUNT(*) FROM transformer_areas a JOIN feeders f "
                                        "ON f.id = a.feeder_id WHERE " +
                                            w.sql(),
                                        w.params()));
    std::string sql = std::string(kAreaSelect) + " WHERE " + w.sql() + " ORDER BY a.code ";
    sql += w.LimitOffset(q.page, q.page_size);
    return c.Query(sql, w.params(), [&](const Row& r) { out.push_back(ReadArea(r)); });
  });
  if (!st.ok()) return st;
  return out;
}

Result<TransformerArea> GridService::GetTransformerArea(const Actor& actor, int64_t id) {
  RETURN_IF_ERROR(actor.Require("grid.read"));
  ASSIGN_OR_RETURN(auto a, db_.ReadValue<std::optional<TransformerArea>>(
                               [&](Connection& c) { return LoadArea(c, id); }));
  if (!a || !CanSeeDepartment(actor, a->department_id)) {
    return NotFound("transformer area " + std::to_string(id) + " not found");
  }
  return *a;
}

Result<TransformerArea> GridService::CreateTransformerArea(const Actor& actor,
                                                           const TransformerAreaInput& in) {
  RETURN_IF_ERROR(actor.Require("grid.write"));
  RETURN_IF_ERROR(Required(in.code.has_value(), "code"));
  RETURN_IF_ERROR(Required(in.name.has_value(), "name"));
  RETURN_IF_ERROR(Required(in.feeder_id.has_value(), "feeder_id"));
  RETURN_IF_ERROR(Required(in.capacity_kva.has_value(), "capacity_kva"));
  TransformerArea a;
  a.code = *in.code;
  a.name = *in.name;
  a.feeder_id = *in.feeder_id;
  a.capacity_kva = *in.capacity_kva;
  a.ownership = in.ownership.value_or("public");
  a.address = in.address.value_or("");
  a.status = in.status.value_or("in_service");
  RETURN_IF_ERROR(CheckArea(a));
  int64_t now = clock_.NowMicros();
  return db_.WriteValue<TransformerArea>([&](Connection& c) -> Result<TransformerArea> {
    ASSIGN_OR_RETURN(int64_t parent_dept, CheckVisibleReference(c, actor, "feeders", "feeder",
                                                                a.feeder_id, "feeder_id"));
    a.department_id = in.department_id.value_or(parent_dept);
    RETURN_IF_ERROR(CheckDepartment(c, actor, a.department_id));
    auto id = c.InsertReturningId(
        "INSERT INTO transformer_areas (code, name, feeder_id, department_id, capacity_kva, "
        "ownership, address, status, created_at_us, updated_at_us) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
        {a.code, a.name, a.feeder_id, a.department_id, a.capacity_kva, a.ownership, a.address,
         a.status, now});
    if (!id.ok()) return CodeTaken(id.status(), "transformer area", a.code);
    ASSIGN_OR_RETURN(auto created, LoadArea(c, *id));
    RETURN_IF_ERROR(org::WriteAudit(c, actor,
                                    {"create", "transformer_area", std::to_string(*id), "",
                                     ToJson(*created).dump(), created->department_id},
                                    now));
    return *created;
  });
}

Result<TransformerArea> GridService::UpdateTransformerArea(const Actor& actor, int64_t id,
                                                           int64_t version,
                                                           const TransformerAreaInput& in) {
  RETURN_IF_ERROR(actor.Require("grid.write"));
  int64_t now = clock_.NowMicros();
  return db_.WriteValue<TransformerArea>([&](Connection& c) -> Result<TransformerArea> {
    ASSIGN_OR_RETURN(auto before, LoadArea(c, id));
    if (!before || !CanSeeDepartment(actor, before->department_id)) {
      return NotFound("transformer area " + std::to_string(id) + " not found");
    }
    if (before->version != version) {
      return StaleVersion("transformer area", id, before->version, version);
    }
    TransformerArea a = *before;
    if (in.code) a.code = *in.code;
    if (in.name) a.name = *in.name;
    if (in.feeder_id) a.feeder_id = *in.feeder_id;
    if (in.department_id) a.department_id = *in.department_id;
    if (in.capacity_kva) a.capacity_kva = *in.capacity_kva;
    if (in.ownership) a.ownership = *in.ownership;
    if (in.address) a.address = *in.address;
    if (in.status) a.status = *in.status;
    RETURN_IF_ERROR(CheckArea(a));
    if (a.feeder_id != before->feeder_id) {
      RETURN_IF_ERROR(
          CheckVisibleReference(c, actor, "feeders", "feeder", a.feeder_id, "feeder_id").status());
    }
    if (a.department_id != before->department_id) {
      RETURN_IF_ERROR(CheckDepartment(c, actor, a.department_id));
    }
    auto n = c.Exec(
        "UPDATE transformer_areas SET code = $1, name = $2, feeder_id = $3, department_id = $4, "
        "capacity_kva = $5, ownership = $6, address = $7, status = $8, version = version + 1, "
        "updated_at_us = $9 WHERE id = $10 AND version = $11",
        {a.code, a.name, a.feeder_id, a.department_id, a.capacity_kva, a.ownership, a.address,
         a.status, now, id, version});
    if (!n.ok()) return CodeTaken(n.status(), "transformer area", a.code);
    if (*n == 0) {
      return StaleVersionAfterUpdate(c, "transformer_areas", "transformer area", id, version);
    }
    ASSIGN_OR_RETURN(auto after, LoadArea(c, id));
    RETURN_IF_ERROR(
        org::WriteAudit(c, actor,
                        {"update", "transformer_area", std::to_string(id), ToJson(*before).dump(),
                         ToJson(*after).dump(), after->department_id},
                        now));
    return *after;
  });
}

}  // namespace gridmis::grid
