#include "acquisition/terminals.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "org/audit.h"

namespace gridmis::acquisition {

using grid::CheckOneOf;
using grid::CheckText;
using grid::InSql;
using grid::IsDigits;
using grid::SqlWhere;
using nlohmann::json;
using org::Actor;
using store::Connection;
using store::Row;

std::string FormatTerminalAddress(std::string_view area_code, int64_t address) {
  char a2[16];
  std::snprintf(a2, sizeof a2, "%05lld", static_cast<long long>(address));
  return std::string(area_code) + "-" + a2;
}

std::optional<std::pair<std::string, int64_t>> ParseTerminalAddress(std::string_view text) {
  size_t dash = text.find('-');
  if (dash != 4) return std::nullopt;
  std::string_view a1 = text.substr(0, 4);
  std::string_view a2 = text.substr(5);
  if (!IsDigits(a1) || !IsDigits(a2) || a2.size() > 5) return std::nullopt;
  int64_t address = std::stoll(std::string(a2));
  if (address < 1 || address > 65535) return std::nullopt;
  return std::pair{std::string(a1), address};
}

namespace {
json Opt(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }
json Opt(const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); }
}  // namespace

json ToJson(const TerminalMeter& m) {
  return json{{"id", m.id},
              {"terminal_id", m.terminal_id},
              {"meter_id", m.meter_id},
              {"meter_asset_no", m.meter_asset_no},
              {"meter_comm_address", Opt(m.meter_comm_address)},
              {"point_no", m.point_no},
              {"port", m.port},
              {"baud_rate", m.baud_rate},
              {"protocol", m.protocol},
              {"version", m.version},
              {"created_at", FormatUtc(m.created_at_us)},
              {"updated_at", FormatUtc(m.updated_at_us)}};
}

json ToJson(const Terminal& t) {
  json j{{"id", t.id},
         {"asset_no", t.asset_no},
         {"kind", t.kind},
         {"area_code", t.area_code},
         {"address", t.address},
         {"address_text", FormatTerminalAddress(t.area_code, t.address)},
         {"make", t.make},
         {"model", t.model},
         {"protocol", t.protocol},
         {"comm_mode", t.comm_mode},
         {"sim_no", Opt(t.sim_no)},
         {"department_id", t.department_id},
         {"transformer_area_id", Opt(t.transformer_area_id)},
         {"customer_id", Opt(t.customer_id)},
         {"substation_id", Opt(t.substation_id)},
         {"status", t.status},
         {"installed_on", Opt(t.installed_on)},
         {"meter_count", t.meter_count},
         {"version", t.version},
         {"created_at", FormatUtc(t.created_at_us)},
         {"updated_at", FormatUtc(t.updated_at_us)}};
  if (t.meters) {
    json meters = json::array();
    for (const auto& m : *t.meters) meters.push_back(ToJson(m));
    j["meters"] = std::move(meters);
  }
  return j;
}

namespace {

const std::initializer_list<std::string_view> kKinds = {"public_transformer", "special_transformer",
                                                        "large_customer", "substation"};
const std::initializer_list<std::string_view> kProtocols = {"gdw1376_1", "dlt698_45"};
const std::initializer_list<std::string_view> kCommModes = {"gprs",     "4g",    "5g",
                                                            "ethernet", "fiber", "carrier"};
const std::initializer_list<std::string_view> kStatuses = {"in_stock", "installed", "removed"};
const std::initializer_list<std::string_view> kMeterProtocols = {"dlt645_2007", "dlt645_1997",
                                                                 "dlt698_45"};
constexpr int64_t kBaudRates[] = {300, 600, 1200, 2400, 4800, 7200, 9600, 19200};

Status Required(bool present, std::string_view field) {
  if (present) return Status::Ok();
  return InvalidArgument(std::string(field) + " is required", std::string(field));
}

constexpr const char* kTerminalSelect =
    "SELECT t.id, t.asset_no, t.kind, t.area_code, t.address, t.make, t.model, t.protocol, "
    "t.comm_mode, t.sim_no, t.department_id, t.transformer_area_id, t.customer_id, "
    "t.substation_id, t.status, t.installed_on, t.version, t.created_at_us, t.updated_at_us, "
    "(SELECT COUNT(*) FROM terminal_meters x WHERE x.terminal_id = t.id) "
    "FROM terminals t";

Terminal ReadTerminal(const Row& r) {
  Terminal t;
  t.id = r.Int(0);
  t.asset_no = r.Text(1);
  t.kind = r.Text(2);
  t.area_code = r.Text(3);
  t.address = r.Int(4);
  t.make = r.Text(5);
  t.model = r.Text(6);
  t.protocol = r.Text(7);
  t.comm_mode = r.Text(8);
  t.sim_no = r.OptText(9);
  t.department_id = r.Int(10);
  t.transformer_area_id = r.OptInt(11);
  t.customer_id = r.OptInt(12);
  t.substation_id = r.OptInt(13);
  t.status = r.Text(14);
  t.installed_on = r.OptText(15);
  t.version = r.Int(16);
  t.created_at_us = r.Int(17);
  t.updated_at_us = r.Int(18);
  t.meter_count = r.Int(19);
  return t;
}

Result<std::optional<Terminal>> LoadTerminal(Connection& c, int64_t id) {
  std::optional<Terminal> t;
  RETURN_IF_ERROR(c.Query(std::string(kTerminalSelect) + " WHERE t.id = $1", {id},
                          [&](const Row& r) { t = ReadTerminal(r); }));
  return t;
}

Result<Terminal> LoadVisibleTerminal(Connection& c, const Actor& actor, int64_t id) {
  ASSIGN_OR_RETURN(auto t, LoadTerminal(c, id));
  if (!t || !grid::CanSeeDepartment(actor, t->department_id)) {
    return NotFound("terminal " + std::to_string(id) + " not found");
  }
  return *t;
}

constexpr const char* kTerminalMeterSelect =
    "SELECT tm.id, tm.terminal_id, tm.meter_id, m.asset_no, m.comm_address, tm.point_no, "
    "tm.port, tm.baud_rate, tm.protocol, tm.version, tm.created_at_us, tm.updated_at_us "
    "FROM terminal_meters tm JOIN meters m ON m.id = tm.meter_id";

TerminalMeter ReadTerminalMeter(const Row& r) {
  TerminalMeter m;
  m.id = r.Int(0);
  m.terminal_id = r.Int(1);
  m.meter_id = r.Int(2);
  m.meter_asset_no = r.Text(3);
  m.meter_comm_address = r.OptText(4);
  m.point_no = r.Int(5);
  m.port = r.Int(6);
  m.baud_rate = r.Int(7);
  m.protocol = r.Text(8);
  m.version = r.Int(9);
  m.created_at_us = r.Int(10);
  m.updated_at_us = r.Int(11);
  return m;
}

Status CheckTerminal(const Terminal& t) {
  RETURN_IF_ERROR(grid::CheckCode(t.asset_no, "asset_no"));
  RETURN_IF_ERROR(CheckOneOf(t.kind, "kind", kKinds));
  if (t.area_code.size() != 4 || !IsDigits(t.area_code)) {
    return InvalidArgument("area_code (A1) must be exactly 4 decimal digits, e.g. \"1501\"",
                           "area_code");
  }
  if (t.address < 1 || t.address > 65535) {
    return InvalidArgument("address (A2) must be between 1 and 65535", "address");
  }
  RETURN_IF_ERROR(CheckText(t.make, "make", 0, 50));
  RETURN_IF_ERROR(CheckText(t.model, "model", 0, 50));
  RETURN_IF_ERROR(CheckOneOf(t.protocol, "protocol", kProtocols));
  RETURN_IF_ERROR(CheckOneOf(t.comm_mode, "comm_mode", kCommModes));
  if (t.sim_no && (t.sim_no->size() < 11 || t.sim_no->size() > 20 || !IsDigits(*t.sim_no))) {
    return InvalidArgument("sim_no must be 11-20 digits", "sim_no");
  }
  RETURN_IF_ERROR(CheckOneOf(t.status, "status", kStatuses));
  if (t.installed_on) {
    auto d = Date::Parse(*t.installed_on, "installed_on");
    if (!d.ok()) return InvalidArgument(d.status().message(), "installed_on");
  }
  // The link matching the kind, and only that one.
  struct Link {
    std::string_view field;
    bool set;
    bool wanted;
  };
  bool public_t = t.kind == "public_transformer";
  bool customer_t = t.kind == "special_transformer" || t.kind == "large_customer";
  bool substation_t = t.kind == "substation";
  const Link links[] = {Link{"transformer_area_id", t.transformer_area_id.has_value(), public_t},
                        Link{"customer_id", t.customer_id.has_value(), customer_t},
                        Link{"substation_id", t.substation_id.has_value(), substation_t}};
  // The missing link first: it says what the kind needs.
  for (const Link& l : links) {
    if (l.wanted && !l.set) {
      return InvalidArgument("a " + t.kind + " terminal needs " + std::string(l.field),
                             std::string(l.field));
    }
  }
  for (const Link& l : links) {
    if (!l.wanted && l.set) {
      return InvalidArgument(std::string(l.field) + " must be empty for a " + t.kind + " terminal",
                             std::string(l.field));
    }
  }
  return Status::Ok();
}

void MergeTerminal(const TerminalInput& in, Terminal* t) {
  if (in.asset_no) t->asset_no = *in.asset_no;
  if (in.kind) t->kind = *in.kind;
  if (in.area_code) t->area_code = *in.area_code;
  if (in.address) t->address = *in.address;
  if (in.make) t->make = *in.make;
  if (in.model) t->model = *in.model;
  if (in.protocol) t->protocol = *in.protocol;
  if (in.comm_mode) t->comm_mode = *in.comm_mode;
  t->sim_no = grid::Merge(in.sim_no, t->sim_no);
  if (in.department_id) t->department_id = *in.department_id;
  t->transformer_area_id = grid::Merge(in.transformer_area_id, t->transformer_area_id);
  t->customer_id = grid::Merge(in.customer_id, t->customer_id);
  t->substation_id = grid::Merge(in.substation_id, t->substation_id);
  if (in.status) t->status = *in.status;
  t->installed_on = grid::Merge(in.installed_on, t->installed_on);
}

// Checks the (new or changed) link and returns the linked record's department.
Result<int64_t> CheckLink(Connection& c, const Actor& actor, const Terminal& t) {
  if (t.transformer_area_id) {
    return grid::CheckVisibleReference(c, actor, "transformer_areas", "transformer area",
                                       *t.transformer_area_id, "transformer_area_id");
  }
  if (t.substation_id) {
    return grid::CheckVisibleReference(c, actor, "substations", "substation", *t.substation_id,
                                       "substation_id");
  }
  std::optional<int64_t> dept, manager;
  RETURN_IF_ERROR(c.Query("SELECT department_id, account_manager_id FROM customers WHERE id = $1",
                          {t.customer_id.value_or(0)}, [&](const Row& r) {
                            dept = r.Int(0);
                            manager = r.OptInt(1);
                          }));
  if (!dept || !actor.CanSee(*dept, manager)) {
    return InvalidArgument("customer " + std::to_string(t.customer_id.value_or(0)) +
                               " does not exist or is outside your data scope",
                           "customer_id");
  }
  return *dept;
}

// Asset number and A1/A2 address are unique: say which, and (when visible) who has it.
Status CheckUnique(Connection& c, const Actor& actor, const Terminal& t) {
  std::optional<std::pair<int64_t, std::string>> holder;  // department, asset_no
  RETURN_IF_ERROR(
      c.Query("SELECT department_id, asset_no FROM terminals WHERE asset_no = $1 AND "
              "id <> $2",
              {t.asset_no, t.id}, [&](const Row& r) {
                holder = std::pair{r.Int(0), r.Text(1)};
              }));
  if (holder) {
    return AlreadyExists("terminal asset number " + t.asset_no + " is already used", "asset_no");
  }
  RETURN_IF_ERROR(
      c.Query("SELECT department_id, asset_no FROM terminals WHERE area_code = $1 "
              "AND address = $2 AND id <> $3",
              {t.area_code, t.address, t.id}, [&](const Row& r) {
                holder = std::pair{r.Int(0), r.Text(1)};
              }));
  if (holder) {
    std::string who = grid::CanSeeDepartment(actor, holder->first)
                          ? "terminal " + holder->second
                          : std::string("another terminal");
    return AlreadyExists("terminal address " + FormatTerminalAddress(t.area_code, t.address) +
                             " is already used by " + who,
                         "address");
  }
  return Status::Ok();
}

Status UniqueRace(const Status& s) {
  if (s.code() == StatusCode::kAlreadyExists) {
    return AlreadyExists("the asset number or address was taken while this edit ran; try again",
                         "address");
  }
  return s;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

Result<std::vector<Terminal>> TerminalService::List(const Actor& actor, const TerminalQuery& q,
                                                    int64_t* total) {
  RETURN_IF_ERROR(actor.Require("terminal.read"));
  if (!q.kind.empty()) RETURN_IF_ERROR(CheckOneOf(q.kind, "kind", kKinds));
  if (!q.status.empty()) RETURN_IF_ERROR(CheckOneOf(q.status, "status", kStatuses));
  std::vector<Terminal> out;
  Status st = db_.Read([&](Connection& c) -> Status {
    SqlWhere w(grid::DepartmentScopeSql(actor, "t.department_id"));
    if (q.department_id) {
      ASSIGN_OR_RETURN(auto ids, grid::DepartmentSubtree(c, *q.department_id));
      w.And(InSql("t.department_id", ids));
    }
    if (!q.q.empty()) {
      if (auto addr = ParseTerminalAddress(q.q)) {
        w.And("t.area_code = " + w.Bind(addr->first) + " AND t.address = " + w.Bind(addr->second));
      } else {
        std::string lo = w.Bind(q.q);
        auto hi = grid::NextPrefix(q.q);
        std::string prefix = hi ? "(t.asset_no >= " + lo + " AND t.asset_no < " + w.Bind(*hi) + ")"
                                : "(t.asset_no >= " + lo + ")";
        if (q.q.size() == 4 && IsDigits(q.q)) prefix += " OR t.area_code = " + lo;
        w.And("(" + prefix + ")");
      }
    }
    if (!q.kind.empty()) w.And("t.kind = " + w.Bind(q.kind));
    if (!q.status.empty()) w.And("t.status = " + w.Bind(q.status));
    if (q.transformer_area_id) w.And("t.transformer_area_id = " + w.Bind(*q.transformer_area_id));
    if (q.customer_id) w.And("t.customer_id = " + w.Bind(*q.customer_id));
    ASSIGN_OR_RETURN(*total,
                     c.QueryInt("SELECT COUNT(*) FROM terminals t WHERE " + w.sql(), w.params()));
    std::string sql =
        std::string(kTerminalSelect) + " WHERE " + w.sql() + " ORDER BY t.area_code, t.address ";
    sql += w.LimitOffset(q.page, q.page_size);
    return c.Query(sql, w.params(), [&](const Row& r) { out.push_back(ReadTerminal(r)); });
  });
  if (!st.ok()) return st;
  return out;
}

Result<Terminal> TerminalService::Get(const Actor& actor, int64_t id) {
  RETURN_IF_ERROR(actor.Require("terminal.read"));
  return db_.ReadValue<Terminal>([&](Connection& c) -> Result<Terminal> {
    ASSIGN_OR_RETURN(Terminal t, LoadVisibleTerminal(c, actor, id));
    t.meters.emplace();
    RETURN_IF_ERROR(c.Query(
        std::string(kTerminalMeterSelect) + " WHERE tm.terminal_id = $1 ORDER BY tm.point_no", {id},
        [&](const Row& r) { t.meters->push_back(ReadTerminalMeter(r)); }));
    return t;
  });
}

Result<Terminal> TerminalService::Create(const Actor& actor, const TerminalInput& in) {
  RETURN_IF_ERROR(actor.Require("terminal.write"));
  RETURN_IF_ERROR(Required(in.asset_no.has_value(), "asset_no"));
  RETURN_IF_ERROR(Required(in.kind.has_value(), "kind"));
  RETURN_IF_ERROR(Required(in.area_code.has_value(), "area_code"));
  RETURN_IF_ERROR(Required(in.address.has_value(), "address"));
  Terminal t;
  MergeTerminal(in, &t);
  RETURN_IF_ERROR(CheckTerminal(t));
  int64_t now = clock_.NowMicros();
  return db_.WriteValue<Terminal>([&](Connection& c) -> Result<Terminal> {
    ASSIGN_OR_RETURN(int64_t link_dept, CheckLink(c, actor, t));
    t.department_id = in.department_id.value_or(link_dept);
    RETURN_IF_ERROR(grid::CheckDepartment(c, actor, t.department_id));
    RETURN_IF_ERROR(CheckUnique(c, actor, t));
    auto id = c.InsertReturningId(
        "INSERT INTO terminals (asset_no, kind, area_code, address, make, model, protocol, "
        "comm_mode, sim_no, department_id, transformer_area_id, customer_id, substation_id, "
        "status, installed_on, created_at_us, updated_at_us) VALUES ($1, $2, $3, $4, $5, $6, $7, "
        "$8, $9, $10, $11, $12, $13, $14, $15, $16, $16) RETURNING id",
        {t.asset_no, t.kind, t.area_code, t.address, t.make, t.model, t.protocol, t.comm_mode,
         t.sim_no, t.department_id, t.transformer_area_id, t.customer_id, t.substation_id, t.status,
         t.installed_on, now});
    if (!id.ok()) return UniqueRace(id.status());
    ASSIGN_OR_RETURN(auto created, LoadTerminal(c, *id));
    RETURN_IF_ERROR(org::WriteAudit(c, actor,
                                    {"create", "terminal", std::to_string(*id), "",
                                     ToJson(*created).dump(), created->department_id},
                                    now));
    return *created;
  });
}

Result<Terminal> TerminalService::Update(const Actor& actor, int64_t id, int64_t version,
                                         const TerminalInput& in) {
  RETURN_IF_ERROR(actor.Require("terminal.write"));
  int64_t now = clock_.NowMicros();
  return db_.WriteValue<Terminal>([&](Connection& c) -> Result<Terminal> {
    ASSIGN_OR_RETURN(Terminal before, LoadVisibleTerminal(c, actor, id));
    if (before.version != version)
      return grid::StaleVersion("terminal", id, before.version, version);
    Terminal t = before;
    MergeTerminal(in, &t);
    RETURN_IF_ERROR(CheckTerminal(t));
    if (t.transformer_area_id != before.transformer_area_id ||
        t.customer_id != before.customer_id || t.substation_id != before.substation_id) {
      RETURN_IF_ERROR(CheckLink(c, actor, t).status());
    }
    if (t.department_id != before.department_id) {
      RETURN_IF_ERROR(grid::CheckDepartment(c, actor, t.department_id));
    }
    RETURN_IF_ERROR(CheckUnique(c, actor, t));
    auto n = c.Exec(
        "UPDATE terminals SET asset_no = $1, kind = $2, area_code = $3, address = $4, make = $5, "
        "model = $6, protocol = $7, comm_mode = $8, sim_no = $9, department_id = $10, "
        "transformer_area_id = $11, customer_id = $12, substation_id = $13, status = $14, "
        "installed_on = $15, version = version + 1, updated_at_us = $16 "
        "WHERE id = $17 AND version = $18",
        {t.asset_no, t.kind, t.area_code, t.address, t.make, t.model, t.protocol, t.comm_mode,
         t.sim_no, t.department_id, t.transformer_area_id, t.customer_id, t.substation_id, t.status,
         t.installed_on, now, id, version});
    if (!n.ok()) return UniqueRace(n.status());
    if (*n == 0) return grid::StaleVersionAfterUpdate(c, "terminals", "terminal", id, version);
    ASSIGN_OR_RETURN(auto after, LoadTerminal(c, id));
    RETURN_IF_ERROR(
        org::WriteAudit(c, actor,
                        {"update", "terminal", std::to_string(id), ToJson(before).dump(),
                         ToJson(*after).dump(), after->department_id},
                        now));
    return *after;
  });
}

Result<TerminalMeter> TerminalService::AddMeter(const Actor& actor, int64_t terminal_id,
                                                const TerminalMeterInput& in) {
  RETURN_IF_ERROR(actor.Require("terminal.write"));
  TerminalMeter m;
  m.terminal_id = terminal_id;
  m.meter_id = in.meter_id;
  m.point_no = in.point_no;
  m.port = in.port.value_or(2);
  m.baud_rate = in.baud_rate.value_or(2400);
  m.protocol = in.protocol.value_or("dlt645_2007");
  if (m.point_no < 1 || m.point_no > 2040) {
    return InvalidArgument("point_no (Pn) must be between 1 and 2040", "point_no");
  }
  if (m.port < 1 || m.port > 31) return InvalidArgument("port must be between 1 and 31", "port");
  if (std::find(std::begin(kBaudRates), std::end(kBaudRates), m.baud_rate) ==
      std::end(kBaudRates)) {
    return InvalidArgument("baud_rate must be one of 300, 600, 1200, 2400, 4800, 7200, 9600, 19200",
                           "baud_rate");
  }
  RETURN_IF_ERROR(CheckOneOf(m.protocol, "protocol", kMeterProtocols));
  int64_t now = clock_.NowMicros();
  return db_.WriteValue<TerminalMeter>([&](Connection& c) -> Result<TerminalMeter> {
    ASSIGN_OR_RETURN(Terminal t, LoadVisibleTerminal(c, actor, terminal_id));
    RETURN_IF_ERROR(
        grid::CheckVisibleReference(c, actor, "meters", "meter", m.meter_id, "meter_id").status());
    std::optional<std::pair<int64_t, std::string>> other;  // point_no, terminal asset_no
    std::optional<int64_t> other_dept;
    RETURN_IF_ERROR(
        c.Query("SELECT tm.point_no, t.asset_no, t.department_id FROM terminal_meters tm "
                "JOIN terminals t ON t.id = tm.terminal_id WHERE tm.meter_id = $1",
                {m.meter_id}, [&](const Row& r) {
                  other = std::pair{r.Int(0), r.Text(1)};
                  other_dept = r.Int(2);
                }));
    if (other) {
      std::string who =
          grid::CanSeeDepartment(actor, *other_dept)
              ? "terminal " + other->second + " (Pn " + std::to_string(other->first) + ")"
              : std::string("another terminal");
      return AlreadyExists("meter " + std::to_string(m.meter_id) + " is already read by " + who,
                           "meter_id");
    }
    std::optional<std::string> pn_holder;
    RETURN_IF_ERROR(
        c.Query("SELECT m.asset_no FROM terminal_meters tm JOIN meters m ON m.id = tm.meter_id "
                "WHERE tm.terminal_id = $1 AND tm.point_no = $2",
                {terminal_id, m.point_no}, [&](const Row& r) { pn_holder = r.Text(0); }));
    if (pn_holder) {
      return AlreadyExists("Pn " + std::to_string(m.point_no) + " of terminal " + t.asset_no +
                               " is already used by meter " + *pn_holder,
                           "point_no");
    }
    auto id = c.InsertReturningId(
        "INSERT INTO terminal_meters (terminal_id, meter_id, point_no, port, baud_rate, "
        "protocol, created_at_us, updated_at_us) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) "
        "RETURNING id",
        {terminal_id, m.meter_id, m.point_no, m.port, m.baud_rate, m.protocol, now});
    if (!id.ok() && id.status().code() == StatusCode::kAlreadyExists) {
      return AlreadyExists("the meter or Pn was taken while this edit ran; reload and try again",
                           "point_no");
    }
    RETURN_IF_ERROR(id.status());
    std::optional<TerminalMeter> created;
    RETURN_IF_ERROR(c.Query(std::string(kTerminalMeterSelect) + " WHERE tm.id = $1", {*id},
                            [&](const Row& r) { created = ReadTerminalMeter(r); }));
    RETURN_IF_ERROR(org::WriteAudit(c, actor,
                                    {"create", "terminal_meter", std::to_string(*id), "",
                                     ToJson(*created).dump(), t.department_id},
                                    now));
    return *created;
  });
}

Status TerminalService::RemoveMeter(const Actor& actor, int64_t terminal_meter_id,
                                    std::optional<int64_t> version) {
  RETURN_IF_ERROR(actor.Require("terminal.write"));
  int64_t now = clock_.NowMicros();
  return db_.Write([&](Connection& c) -> Status {
    std::optional<TerminalMeter> before;
    RETURN_IF_ERROR(c.Query(std::string(kTerminalMeterSelect) + " WHERE tm.id = $1",
                            {terminal_meter_id},
                            [&](const Row& r) { before = ReadTerminalMeter(r); }));
    std::optional<Terminal> t;
    if (before) {
      ASSIGN_OR_RETURN(t, LoadTerminal(c, before->terminal_id));
    }
    if (!before || !t || !grid::CanSeeDepartment(actor, t->department_id)) {
      return NotFound("terminal meter " + std::to_string(terminal_meter_id) + " not found");
    }
    if (version && *version != before->version) {
      return grid::StaleVersion("terminal meter", terminal_meter_id, before->version, *version);
    }
    RETURN_IF_ERROR(
        c.Exec("DELETE FROM terminal_meters WHERE id = $1", {terminal_meter_id}).status());
    return org::WriteAudit(c, actor,
                           {"delete", "terminal_meter", std::to_string(terminal_meter_id),
                            ToJson(*before).dump(), "", t->department_id},
                           now);
  });
}

Result<std::vector<Terminal>> TerminalService::TerminalsReadingMeters(
    const Actor& actor, const std::vector<int64_t>& meter_ids) {
  RETURN_IF_ERROR(actor.Require("terminal.read"));
  if (meter_ids.empty()) return std::vector<Terminal>();
  std::vector<int64_t> ids = meter_ids;
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return db_.ReadValue<std::vector<Terminal>>([&](Connection& c) -> Result<std::vector<Terminal>> {
    std::vector<TerminalMeter> entries;
    RETURN_IF_ERROR(c.Query(std::string(kTerminalMeterSelect) + " WHERE " +
                                InSql("tm.meter_id", ids) + " ORDER BY tm.terminal_id, tm.point_no",
                            {}, [&](const Row& r) { entries.push_back(ReadTerminalMeter(r)); }));
    std::vector<int64_t> terminal_ids;
    for (const auto& e : entries) terminal_ids.push_back(e.terminal_id);
    std::vector<Terminal> out;
    if (terminal_ids.empty()) return out;
    terminal_ids.erase(std::unique(terminal_ids.begin(), terminal_ids.end()), terminal_ids.end());
    RETURN_IF_ERROR(c.Query(std::string(kTerminalSelect) + " WHERE " + InSql("t.id", terminal_ids) +
                                " AND " + grid::DepartmentScopeSql(actor, "t.department_id") +
                                " ORDER BY t.id",
                            {}, [&](const Row& r) { out.push_back(ReadTerminal(r)); }));
    for (auto& t : out) {
      t.meters.emplace();
      for (const auto& e : entries) {
        if (e.terminal_id == t.id) t.meters->push_back(e);
      }
    }
    return out;
  });
}

}  // namespace gridmis::acquisition
