#include "metering/metering.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "org/audit.h"

namespace gridmis::metering {

using grid::CheckCode;
using grid::CheckOneOf;
using grid::CheckText;
using grid::InSql;
using grid::SqlWhere;
using nlohmann::json;
using org::Actor;
using store::Connection;
using store::Row;

// ---------------------------------------------------------------------------------------------
// Registers, ratios, readings

const std::vector<std::string>& AllRegisters() {
  static const std::vector<std::string> kAll = {
      "total",           "sharp",           "peak",      "flat", "valley", "export",
      "reactive_import", "reactive_export", "max_demand"};
  return kAll;
}

bool IsCumulativeRegister(std::string_view name) { return name != "max_demand"; }

Result<Ratio> Ratio::Parse(std::string_view text, std::string_view field) {
  auto bad = [&] {
    return InvalidArgument(std::string(field) +
                               " must be primary/secondary, two whole numbers "
                               "from 1 to 1000000, e.g. \"200/5\" (got '" +
                               std::string(text.substr(0, 40)) + "')",
                           std::string(field));
  };
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return bad();
  auto number = [](std::string_view s) -> std::optional<int64_t> {
    if (!grid::IsDigits(s) || s.size() > 7 || s[0] == '0') return std::nullopt;
    int64_t v = std::stoll(std::string(s));
    if (v < 1 || v > 1'000'000) return std::nullopt;
    return v;
  };
  auto p = number(text.substr(0, slash));
  auto s = number(text.substr(slash + 1));
  if (!p || !s) return bad();
  return Ratio{*p, *s};
}

std::string Ratio::ToString() const {
  return std::to_string(primary) + "/" + std::to_string(secondary);
}

Result<int64_t> Multiplier(const Ratio& ct, const Ratio& pt) {
  int64_t num = ct.primary * pt.primary;      // at most 1e12
  int64_t den = ct.secondary * pt.secondary;  // at most 1e12
  if (num % den != 0) {
    return InvalidArgument("CT ratio " + ct.ToString() + " × PT ratio " + pt.ToString() +
                               " gives a multiplier of " + std::to_string(num) + "/" +
                               std::to_string(den) +
                               ", which is not a whole number; check ct_ratio and pt_ratio",
                           "ct_ratio");
  }
  return num / den;
}

std::string FormatKwh(Energy e) {
  std::string s = e.ToKwhString(4);
  size_t dot = s.find('.');
  while (s.size() > dot + 3 && s.back() == '0') s.pop_back();
  return s;
}

// ---------------------------------------------------------------------------------------------
// JSON

namespace {
json Opt(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }
json Opt(const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); }
json OptTime(const std::optional<int64_t>& v) { return v ? json(FormatUtc(*v)) : json(nullptr); }
}  // namespace

json ToJson(const Readings& r) {
  json j = json::object();
  for (const auto& [reg, value] : r) j[reg] = FormatKwh(value);
  return j;
}

json ToJson(const MeteringPoint& p) {
  return json{{"id", p.id},
              {"code", p.code},
              {"name", p.name},
              {"customer_id", p.customer_id},
              {"customer_no", p.customer_no},
              {"customer_name", p.customer_name},
              {"transformer_area_id", Opt(p.transformer_area_id)},
              {"department_id", p.department_id},
              {"voltage_v", p.voltage_v},
              {"tariff_code", p.tariff_code},
              {"contracted_capacity_kva", p.contracted_capacity_kva},
              {"pf_standard", p.pf_standard},
              {"metering_side", p.metering_side},
              {"purpose", p.purpose},
              {"status", p.status},
              {"current_meter_id", Opt(p.current_meter_id)},
              {"current_meter_asset_no", Opt(p.current_meter_asset_no)},
              {"version", p.version},
              {"created_at", FormatUtc(p.created_at_us)},
              {"updated_at", FormatUtc(p.updated_at_us)}};
}

json ToJson(const Meter& m) {
  return json{{"id", m.id},
              {"asset_no", m.asset_no},
              {"make", m.make},
              {"model", m.model},
              {"phases", m.phases},
              {"accuracy_class", m.accuracy_class},
              {"rated_current", m.rated_current},
              {"registers", m.registers},
              {"ct_ratio", m.ct.ToString()},
              {"pt_ratio", m.pt.ToString()},
              {"multiplier", m.multiplier},
              {"comm_address", Opt(m.comm_address)},
              {"protocol", m.protocol},
              {"status", m.status},
              {"department_id", m.department_id},
              {"production_date", Opt(m.production_date)},
              {"register_integer_digits", m.register_integer_digits},
              {"installed_point_id", Opt(m.installed_point_id)},
              {"version", m.version},
              {"created_at", FormatUtc(m.created_at_us)},
              {"updated_at", FormatUtc(m.updated_at_us)}};
}

json ToJson(const Installation& i) {
  return json{{"id", i.id},
              {"meter_id", i.meter_id},
              {"metering_point_id", i.metering_point_id},
              {"installed_at", FormatUtc(i.installed_at_us)},
              {"removed_at", OptTime(i.removed_at_us)},
              {"install_reason", i.install_reason},
              {"remove_reason", Opt(i.remove_reason)},
              {"installed_by", Opt(i.installed_by)},
              {"removed_by", Opt(i.removed_by)},
              {"ct_ratio", i.ct.ToString()},
              {"pt_ratio", i.pt.ToString()},
              {"multiplier", i.multiplier},
              {"install_readings", ToJson(i.install_readings)},
              {"remove_readings", i.removed_at_us ? ToJson(i.remove_readings) : json(nullptr)},
              {"meter", ToJson(i.meter)},
              {"version", i.version},
              {"created_at", FormatUtc(i.created_at_us)},
              {"updated_at", FormatUtc(i.updated_at_us)}};
}

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

Status Required(bool present, std::string_view field) {
  if (present) return Status::Ok();
  return InvalidArgument(std::string(field) + " is required", std::string(field));
}

// The acting user for installed_by/removed_by; NULL for the system actor.
store::Value UserValue(const Actor& actor) {
  return actor.user_id ? store::Value(actor.user_id) : store::Value();
}

// Index hints for the list queries on SQLite, which plans without statistics here: a column not
// listed is written "+col", so SQLite cannot drive the query through its index. The lists
// choose the driving index from capped counts, like customer::CustomerService::Search.
// PostgreSQL plans with statistics and gets no hints.
struct Hint {
  bool all = false;
  std::vector<std::string_view> columns;  // qualified: "mp.code"
  std::string operator()(std::string_view column) const {
    bool indexed = all || std::find(columns.begin(), columns.end(), column) != columns.end();
    return (indexed ? "" : "+") + std::string(column);
  }
};

// "(col >= $p AND col < $next)" for the values starting with `prefix`.
std::string PrefixRange(SqlWhere& w, const std::string& col, const std::string& prefix) {
  std::string lo = w.Bind(prefix);
  auto hi = grid::NextPrefix(prefix);
  if (!hi) return "(" + col + " >= " + lo + ")";
  return "(" + col + " >= " + lo + " AND " + col + " < " + w.Bind(*hi) + ")";
}

// ---- Metering points ----

constexpr const char* kPointSelect =
    "SELECT mp.id, mp.code, mp.name, mp.customer_id, c.customer_no, c.name, "
    "mp.transformer_area_id, mp.department_id, mp.voltage_v, mp.tariff_code, "
    "mp.contracted_capacity_kva, mp.pf_standard, mp.metering_side, mp.purpose, mp.status, "
    "mp.version, mp.created_at_us, mp.updated_at_us, mi.meter_id, m.asset_no, "
    "c.account_manager_id "
    "FROM metering_points mp JOIN customers c ON c.id = mp.customer_id "
    "LEFT JOIN meter_installations mi ON mi.metering_point_id = mp.id AND mi.removed_at_us IS NULL "
    "LEFT JOIN meters m ON m.id = mi.meter_id";

struct PointRow {
  MeteringPoint p;
  std::optional<int64_t> manager;  // the customer's account manager, for the "self" scope
};

PointRow ReadPoint(const Row& r) {
  PointRow row;
  MeteringPoint& p = row.p;
  p.id = r.Int(0);
  p.code = r.Text(1);
  p.name = r.Text(2);
  p.customer_id = r.Int(3);
  p.customer_no = r.Text(4);
  p.customer_name = r.Text(5);
  p.transformer_area_id = r.OptInt(6);
  p.department_id = r.Int(7);
  p.voltage_v = r.Int(8);
  p.tariff_code = r.Text(9);
  p.contracted_capacity_kva = r.Int(10);
  p.pf_standard = r.Text(11);
  p.metering_side = r.Text(12);
  p.purpose = r.Text(13);
  p.status = r.Text(14);
  p.version = r.Int(15);
  p.created_at_us = r.Int(16);
  p.updated_at_us = r.Int(17);
  p.current_meter_id = r.OptInt(18);
  p.current_meter_asset_no = r.OptText(19);
  row.manager = r.OptInt(20);
  return row;
}

bool Visible(const Actor& actor, const PointRow& row) {
  return actor.CanSee(row.p.department_id, row.manager);
}

Result<std::optional<PointRow>> LoadPoint(Connection& c, int64_t id) {
  std::optional<PointRow> row;
  RETURN_IF_ERROR(c.Query(std::string(kPointSelect) + " WHERE mp.id = $1", {id},
                          [&](const Row& r) { row = ReadPoint(r); }));
  return row;
}

Result<PointRow> LoadVisiblePoint(Connection& c, const Actor& actor, int64_t id) {
  ASSIGN_OR_RETURN(auto row, LoadPoint(c, id));
  if (!row || !Visible(actor, *row)) {
    return NotFound("metering point " + std::to_string(id) + " not found");
  }
  return *row;
}

Status CheckPoint(const MeteringPoint& p) {
  RETURN_IF_ERROR(CheckCode(p.code, "code"));
  RETURN_IF_ERROR(CheckText(p.name, "name", 0, 100));
  RETURN_IF_ERROR(grid::CheckVoltage(p.voltage_v));
  RETURN_IF_ERROR(CheckCode(p.tariff_code, "tariff_code"));
  if (p.contracted_capacity_kva < 0 || p.contracted_capacity_kva > 10'000'000) {
    return InvalidArgument("contracted_capacity_kva must be between 0 and 10000000 kVA",
                           "contracted_capacity_kva");
  }
  RETURN_IF_ERROR(CheckOneOf(p.pf_standard, "pf_standard", kPfStandards));
  RETURN_IF_ERROR(CheckOneOf(p.metering_side, "metering_side", kSides));
  RETURN_IF_ERROR(CheckOneOf(p.purpose, "purpose", kPurposes));
  return CheckOneOf(p.status, "status", kPointStatuses);
}

void MergePoint(const MeteringPointInput& in, MeteringPoint* p) {
  if (in.code) p->code = *in.code;
  if (in.name) p->name = *in.name;
  if (in.department_id) p->department_id = *in.department_id;
  p->transformer_area_id = grid::Merge(in.transformer_area_id, p->transformer_area_id);
  if (in.voltage_v) p->voltage_v = *in.voltage_v;
  if (in.tariff_code) p->tariff_code = *in.tariff_code;
  if (in.contracted_capacity_kva) p->contracted_capacity_kva = *in.contracted_capacity_kva;
  if (in.pf_standard) p->pf_standard = *in.pf_standard;
  if (in.metering_side) p->metering_side = *in.metering_side;
  if (in.purpose) p->purpose = *in.purpose;
  if (in.status) p->status = *in.status;
}

Status CodeTaken(const Status& s, std::string_view what, const std::string& code,
                 std::string_view field) {
  if (s.code() == StatusCode::kAlreadyExists) {
    return AlreadyExists(std::string(what) + " '" + code + "' is already used", std::string(field));
  }
  return s;
}

// ---- Meters ----

constexpr const char* kMeterCols =
    "m.id, m.asset_no, m.make, m.model, m.phases, m.accuracy_class, m.rated_current, "
    "m.registers, m.ct_primary_a, m.ct_secondary_a, m.pt_primary_v, m.pt_secondary_v, "
    "m.multiplier, m.comm_address, m.protocol, m.status, m.department_id, m.production_date, "
    "m.version, m.created_at_us, m.updated_at_us, mo.metering_point_id, "
    "m.register_integer_digits";
constexpr const char* kMeterFrom =
    "meters m LEFT JOIN meter_installations mo ON mo.meter_id = m.id AND mo.removed_at_us IS NULL";

std::vector<std::string> SplitRegisters(std::string_view s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t comma = s.find(',', pos);
    if (comma == std::string_view::npos) comma = s.size();
    if (comma > pos) out.emplace_back(s.substr(pos, comma - pos));
    pos = comma + 1;
  }
  return out;
}

std::string JoinRegisters(const std::vector<std::string>& regs) {
  std::string s;
  for (const auto& r : regs) s += (s.empty() ? "" : ",") + r;
  return s;
}

Meter ReadMeter(const Row& r, int at) {
  Meter m;
  m.id = r.Int(at + 0);
  m.asset_no = r.Text(at + 1);
  m.make = r.Text(at + 2);
  m.model = r.Text(at + 3);
  m.phases = r.Int(at + 4);
  m.accuracy_class = r.Text(at + 5);
  m.rated_current = r.Text(at + 6);
  m.registers = SplitRegisters(r.TextView(at + 7));
  m.ct = Ratio{r.Int(at + 8), r.Int(at + 9)};
  m.pt = Ratio{r.Int(at + 10), r.Int(at + 11)};
  m.multiplier = r.Int(at + 12);
  m.comm_address = r.OptText(at + 13);
  m.protocol = r.Text(at + 14);
  m.status = r.Text(at + 15);
  m.department_id = r.Int(at + 16);
  m.production_date = r.OptText(at + 17);
  m.version = r.Int(at + 18);
  m.created_at_us = r.Int(at + 19);
  m.updated_at_us = r.Int(at + 20);
  m.installed_point_id = r.OptInt(at + 21);
  m.register_integer_digits = r.Int(at + 22);
  return m;
}

Result<std::optional<Meter>> LoadMeter(Connection& c, int64_t id) {
  std::optional<Meter> m;
  RETURN_IF_ERROR(
      c.Query(std::string("SELECT ") + kMeterCols + " FROM " + kMeterFrom + " WHERE m.id = $1",
              {id}, [&](const Row& r) { m = ReadMeter(r, 0); }));
  return m;
}

// The registers in AllRegisters() order; errors name "registers[i]".
Result<std::vector<std::string>> NormalizeRegisters(const std::vector<std::string>& in) {
  if (in.empty()) {
    return InvalidArgument("registers must name at least one register", "registers");
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < in.size(); ++i) {
    std::string field = "registers[" + std::to_string(i) + "]";
    const auto& all = AllRegisters();
    if (std::find(all.begin(), all.end(), in[i]) == all.end()) {
      return InvalidArgument(field + ": unknown register '" + in[i].substr(0, 40) +
                                 "'; registers are total, sharp, peak, flat, valley, export, "
                                 "reactive_import, reactive_export, max_demand",
                             field);
    }
    if (!seen.insert(in[i]).second) {
      return InvalidArgument(field + ": register '" + in[i] + "' is listed twice", field);
    }
  }
  std::vector<std::string> out;
  for (const auto& r : AllRegisters()) {
    if (seen.count(r)) out.push_back(r);
  }
  return out;
}

Status CheckMeter(const Meter& m) {
  RETURN_IF_ERROR(CheckCode(m.asset_no, "asset_no"));
  RETURN_IF_ERROR(CheckText(m.make, "make", 1, 50));
  RETURN_IF_ERROR(CheckText(m.model, "model", 1, 50));
  if (m.phases != 1 && m.phases != 3) {
    return InvalidArgument("phases must be 1 or 3 (got " + std::to_string(m.phases) + ")",
                           "phases");
  }
  RETURN_IF_ERROR(CheckOneOf(m.accuracy_class, "accuracy_class", kAccuracy));
  RETURN_IF_ERROR(CheckText(m.rated_current, "rated_current", 0, 20));
  if (m.comm_address && (m.comm_address->size() != 12 || !grid::IsDigits(*m.comm_address))) {
    return InvalidArgument("comm_address must be the 12-digit DL/T 645 meter address",
                           "comm_address");
  }
  RETURN_IF_ERROR(CheckOneOf(m.protocol, "protocol", kProtocols));
  RETURN_IF_ERROR(CheckOneOf(m.status, "status", kMeterStatuses));
  if (m.production_date) {
    auto d = Date::Parse(*m.production_date, "production_date");
    if (!d.ok()) return InvalidArgument(d.status().message(), "production_date");
  }
  if (m.register_integer_digits != 0 &&
      (m.register_integer_digits < 4 || m.register_integer_digits > 10)) {
    return InvalidArgument("register_integer_digits must be 0 (unknown) or from 4 to 10 (got " +
                               std::to_string(m.register_integer_digits) + ")",
                           "register_integer_digits");
  }
  return Status::Ok();
}

// Applies `in` over `m` (parsing registers and ratios, recomputing the multiplier).
Status MergeMeter(const MeterInput& in, Meter* m) {
  if (in.asset_no) m->asset_no = *in.asset_no;
  if (in.make) m->make = *in.make;
  if (in.model) m->model = *in.model;
  if (in.phases) m->phases = *in.phases;
  if (in.accuracy_class) m->accuracy_class = *in.accuracy_class;
  if (in.rated_current) m->rated_current = *in.rated_current;
  if (in.registers) {
    ASSIGN_OR_RETURN(m->registers, NormalizeRegisters(*in.registers));
  }
  if (in.ct_ratio) {
    ASSIGN_OR_RETURN(m->ct, Ratio::Parse(*in.ct_ratio, "ct_ratio"));
  }
  if (in.pt_ratio) {
    ASSIGN_OR_RETURN(m->pt, Ratio::Parse(*in.pt_ratio, "pt_ratio"));
  }
  ASSIGN_OR_RETURN(m->multiplier, Multiplier(m->ct, m->pt));
  m->comm_address = grid::Merge(in.comm_address, m->comm_address);
  if (in.protocol) m->protocol = *in.protocol;
  if (in.status) m->status = *in.status;
  if (in.department_id) m->department_id = *in.department_id;
  m->production_date = grid::Merge(in.production_date, m->production_date);
  if (in.register_integer_digits) m->register_integer_digits = *in.register_integer_digits;
  return Status::Ok();
}

Status UpdateMeterStatus(Connection& c, const Actor& actor, const Meter& before,
                         std::string_view status, std::initializer_list<std::string_view> from,
                         int64_t now) {
  std::string allowed;
  for (auto s : from) allowed += (allowed.empty() ? "'" : ", '") + std::string(s) + "'";
  ASSIGN_OR_RETURN(int64_t n, c.Exec("UPDATE meters SET status = $1, version = version + 1, "
                                     "updated_at_us = $2 WHERE id = $3 AND status IN (" +
                                         allowed + ")",
                                     {status, now, before.id}));
  if (n == 0) {
    return FailedPrecondition("meter " + before.asset_no +
                              " changed state while this operation ran; reload and try again");
  }
  ASSIGN_OR_RETURN(auto after, LoadMeter(c, before.id));
  return org::WriteAudit(c, actor,
                         {"update", "meter", std::to_string(before.id), ToJson(before).dump(),
                          ToJson(*after).dump(), before.department_id},
                         now);
}

// ---- Installations ----

constexpr const char* kInstallationSelect =
    "SELECT mi.id, mi.meter_id, mi.metering_point_id, mi.installed_at_us, mi.removed_at_us, "
    "mi.install_reason, mi.remove_reason, mi.installed_by, mi.removed_by, mi.version, "
    "mi.created_at_us, mi.updated_at_us, COALESCE(mi.ct_primary_a, m.ct_primary_a), "
    "COALESCE(mi.ct_secondary_a, m.ct_secondary_a), COALESCE(mi.pt_primary_v, m.pt_primary_v), "
    "COALESCE(mi.pt_secondary_v, m.pt_secondary_v), COALESCE(mi.multiplier, m.multiplier), ";
constexpr int kInstallationMeterAt = 17;  // where the meter's columns start
constexpr const char* kInstallationFrom =
    " FROM meter_installations mi JOIN meters m ON m.id = mi.meter_id "
    "LEFT JOIN meter_installations mo ON mo.meter_id = m.id AND mo.removed_at_us IS NULL";

Installation ReadInstallation(const Row& r) {
  Installation i;
  i.id = r.Int(0);
  i.meter_id = r.Int(1);
  i.metering_point_id = r.Int(2);
  i.installed_at_us = r.Int(3);
  i.removed_at_us = r.OptInt(4);
  i.install_reason = r.Text(5);
  i.remove_reason = r.OptText(6);
  i.installed_by = r.OptInt(7);
  i.removed_by = r.OptInt(8);
  i.version = r.Int(9);
  i.created_at_us = r.Int(10);
  i.updated_at_us = r.Int(11);
  i.ct = Ratio{r.Int(12), r.Int(13)};
  i.pt = Ratio{r.Int(14), r.Int(15)};
  i.multiplier = r.Int(16);
  i.meter = ReadMeter(r, kInstallationMeterAt);
  return i;
}

// Runs an installation query ("WHERE ... ORDER BY ...") and attaches the readings.
Result<std::vector<Installation>> QueryInstallations(Connection& c, const std::string& where,
                                                     const store::Params& params) {
  std::vector<Installation> out;
  RETURN_IF_ERROR(
      c.Query(std::string(kInstallationSelect) + kMeterCols + kInstallationFrom + " " + where,
              params, [&](const Row& r) { out.push_back(ReadInstallation(r)); }));
  if (out.empty()) return out;
  std::vector<int64_t> ids;
  std::map<int64_t, Installation*> by_id;
  for (auto& i : out) {
    ids.push_back(i.id);
    by_id[i.id] = &i;
  }
  RETURN_IF_ERROR(c.Query(
      "SELECT installation_id, event, register, value_dwh FROM "
      "installation_readings WHERE " +
          InSql("installation_id", ids),
      {}, [&](const Row& r) {
        Installation* i = by_id[r.Int(0)];
        Readings& target = r.TextView(1) == "install" ? i->install_readings : i->remove_readings;
        target[r.Text(2)] = Energy::FromDwh(r.Int(3));
      }));
  return out;
}

Result<std::optional<Installation>> LoadInstallation(Connection& c, int64_t id) {
  ASSIGN_OR_RETURN(auto list, QueryInstallations(c, "WHERE mi.id = $1", {id}));
  if (list.empty()) return std::optional<Installation>();
  return std::optional<Installation>(std::move(list[0]));
}

Result<std::optional<Installation>> CurrentInstallation(Connection& c, int64_t point_id) {
  ASSIGN_OR_RETURN(auto list, QueryInstallations(
                                  c, "WHERE mi.metering_point_id = $1 AND mi.removed_at_us IS NULL",
                                  {point_id}));
  if (list.empty()) return std::optional<Installation>();
  return std::optional<Installation>(std::move(list[0]));
}

// Readings must be given for exactly the meter's registers, none negative.
Status CheckReadings(const Meter& m, const Readings& readings, std::string_view prefix) {
  for (const auto& [reg, value] : readings) {
    std::string field = std::string(prefix) + "." + reg;
    if (std::find(m.registers.begin(), m.registers.end(), reg) == m.registers.end()) {
      return InvalidArgument("meter " + m.asset_no + " has no register '" + reg.substr(0, 40) +
                                 "' (its registers: " + JoinRegisters(m.registers) + ")",
                             field);
    }
    if (value.dwh() < 0) {
      return InvalidArgument(field + " must not be negative", field);
    }
  }
  for (const auto& reg : m.registers) {
    if (!readings.count(reg)) {
      std::string field = std::string(prefix) + "." + reg;
      return InvalidArgument("the reading of register " + reg + " of meter " + m.asset_no +
                                 " is required (its registers: " + JoinRegisters(m.registers) + ")",
                             field);
    }
  }
  return Status::Ok();
}

Status InsertReadings(Connection& c, int64_t installation_id, std::string_view event,
                      const Readings& readings) {
  for (const auto& [reg, value] : readings) {
    RETURN_IF_ERROR(c.Exec("INSERT INTO installation_readings (installation_id, event, register, "
                           "value_dwh) VALUES ($1, $2, $3, $4)",
                           {installation_id, event, reg, value.dwh()})
                        .status());
  }
  return Status::Ok();
}

struct InstallFields {
  std::string_view meter = "meter_id";
  std::string_view time = "installed_at";
  std::string_view readings = "readings";
  std::string_view reason = "reason";
};

struct RemoveFields {
  std::string_view time = "removed_at";
  std::string_view readings = "readings";
  std::string_view reason = "reason";
};

// Installs within the caller's transaction; the point is visible.
Result<Installation> DoInstall(Connection& c, const Actor& actor, const PointRow& point,
                               int64_t meter_id, int64_t at, const Readings& readings,
                               std::string_view reason, const InstallFields& fields, int64_t now) {
  const MeteringPoint& p = point.p;
  if (p.status != "active") {
    return FailedPrecondition("metering point " + p.code + " is " + p.status +
                              "; only an active point can get a meter");
  }
  ASSIGN_OR_RETURN(auto current, CurrentInstallation(c, p.id));
  if (current) {
    return FailedPrecondition("metering point " + p.code + " already has meter " +
                              current->meter.asset_no + " installed (installation " +
                              std::to_string(current->id) + "); replace it instead");
  }
  ASSIGN_OR_RETURN(auto meter, LoadMeter(c, meter_id));
  if (!meter || !grid::CanSeeDepartment(actor, meter->department_id)) {
    return InvalidArgument(
        "meter " + std::to_string(meter_id) + " does not exist or is outside your data scope",
        std::string(fields.meter));
  }
  if (meter->status == "installed") {
    return FailedPrecondition("meter " + meter->asset_no + " is installed at metering point " +
                                  std::to_string(meter->installed_point_id.value_or(0)) +
                                  "; remove it there first",
                              std::string(fields.meter));
  }
  if (meter->status == "scrapped") {
    return FailedPrecondition("meter " + meter->asset_no + " is scrapped",
                              std::string(fields.meter));
  }
  RETURN_IF_ERROR(CheckReadings(*meter, readings, fields.readings));
  if (at > now) {
    return InvalidArgument(std::string(fields.time) + " " + FormatUtc(at) + " is in the future",
                           std::string(fields.time));
  }
  // Installation history is a sequence: not before the last removal at the point or of the meter.
  ASSIGN_OR_RETURN(int64_t last_removal,
                   c.QueryInt("SELECT COALESCE(MAX(removed_at_us), 0) FROM meter_installations "
                              "WHERE metering_point_id = $1 OR meter_id = $2",
                              {p.id, meter->id}));
  if (at < last_removal) {
    return InvalidArgument(std::string(fields.time) + " " + FormatUtc(at) +
                               " is before the last removal at this point or of this meter (" +
                               FormatUtc(last_removal) + ")",
                           std::string(fields.time));
  }
  auto id = c.InsertReturningId(
      "INSERT INTO meter_installations (meter_id, metering_point_id, installed_at_us, "
      "install_reason, installed_by, ct_primary_a, ct_secondary_a, pt_primary_v, pt_secondary_v, "
      "multiplier, created_at_us, updated_at_us) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
      {meter->id, p.id, at, reason, UserValue(actor), meter->ct.primary, meter->ct.secondary,
       meter->pt.primary, meter->pt.secondary, meter->multiplier, now});
  if (!id.ok() && id.status().code() == StatusCode::kAlreadyExists) {
    return FailedPrecondition("metering point " + p.code + " or meter " + meter->asset_no +
                              " got an installation while this one ran; reload and try again");
  }
  RETURN_IF_ERROR(id.status());
  RETURN_IF_ERROR(InsertReadings(c, *id, "install", readings));
  RETURN_IF_ERROR(UpdateMeterStatus(c, actor, *meter, "installed", {"in_stock", "removed"}, now));
  ASSIGN_OR_RETURN(auto created, LoadInstallation(c, *id));
  RETURN_IF_ERROR(org::WriteAudit(c, actor,
                                  {"install", "meter_installation", std::to_string(*id), "",
                                   ToJson(*created).dump(), p.department_id},
                                  now));
  return *created;
}

// Removes within the caller's transaction; `before` is open and its point visible.
Result<Installation> DoRemove(Connection& c, const Actor& actor, const Installation& before,
                              int64_t department_id, const RemoveInput& in,
                              const RemoveFields& fields, int64_t now) {
  RETURN_IF_ERROR(CheckOneOf(in.reason, fields.reason, kRemoveReasons));
  if (in.removed_at_us < before.installed_at_us) {
    return InvalidArgument(std::string(fields.time) + " " + FormatUtc(in.removed_at_us) +
                               " is before the meter was installed (" +
                               FormatUtc(before.installed_at_us) + ")",
                           std::string(fields.time));
  }
  if (in.removed_at_us > now) {
    return InvalidArgument(
        std::string(fields.time) + " " + FormatUtc(in.removed_at_us) + " is in the future",
        std::string(fields.time));
  }
  RETURN_IF_ERROR(CheckReadings(before.meter, in.readings, fields.readings));
  for (const auto& [reg, value] : in.readings) {
    auto installed = before.install_readings.find(reg);
    if (!IsCumulativeRegister(reg) || installed == before.install_readings.end()) continue;
    if (value < installed->second && !in.rollover) {
      std::string field = std::string(fields.readings) + "." + reg;
      return InvalidArgument(
          "the removal reading of register " + reg + " (" + FormatKwh(value) +
              " kWh) is below its installation reading (" + FormatKwh(installed->second) +
              " kWh) on meter " + before.meter.asset_no + " installed " +
              FormatUtc(before.installed_at_us) + "; set rollover if the register rolled over",
          field);
    }
  }
  ASSIGN_OR_RETURN(int64_t n,
                   c.Exec("UPDATE meter_installations SET removed_at_us = $1, "
                          "remove_reason = $2, removed_by = $3, version = version + 1, "
                          "updated_at_us = $4 WHERE id = $5 AND removed_at_us IS NULL",
                          {in.removed_at_us, in.reason, UserValue(actor), now, before.id}));
  if (n == 0) {
    return FailedPrecondition("installation " + std::to_string(before.id) +
                              " was removed by someone else; reload it");
  }
  RETURN_IF_ERROR(InsertReadings(c, before.id, "remove", in.readings));
  RETURN_IF_ERROR(UpdateMeterStatus(c, actor, before.meter, "removed", {"installed"}, now));
  ASSIGN_OR_RETURN(auto after, LoadInstallation(c, before.id));
  RETURN_IF_ERROR(org::WriteAudit(c, actor,
                                  {"remove", "meter_installation", std::to_string(before.id),
                                   ToJson(before).dump(), ToJson(*after).dump(), department_id},
                                  now));
  return *after;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Metering points

Result<std::vector<MeteringPoint>> MeteringService::ListPoints(const Actor& actor,
                                                               const MeteringPointQuery& q,
                                                               grid::CappedCount* total) {
  RETURN_IF_ERROR(actor.Require("metering.read"));
  if (!q.status.empty()) RETURN_IF_ERROR(CheckOneOf(q.status, "status", kPointStatuses));
  const bool self_scope = actor.scope == org::DataScope::kSelf;
  const bool department_scope = actor.scope == org::DataScope::kOwnDepartment ||
                                actor.scope == org::DataScope::kDepartmentAndBelow;
  std::vector<MeteringPoint> out;
  Status st = db_.Read([&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(
        grid::DepartmentRestriction depts,
        grid::RestrictDepartments(c, department_scope ? &actor.scope_departments : nullptr,
                                  q.department_id, "metering_points"));
    auto build = [&](const Hint& h, bool departments) {
      SqlWhere w;
      if (self_scope) {
        w.And(h("c.account_manager_id") + " = " + std::to_string(actor.user_id));
      }
      if (depts.ids && departments) w.And(InSql(h("mp.department_id"), *depts.ids));
      if (!q.q.empty()) w.And(PrefixRange(w, h("mp.code"), q.q));
      if (q.customer_id) w.And(h("mp.customer_id") + " = " + w.Bind(*q.customer_id));
      if (q.transformer_area_id) {
        w.And(h("mp.transformer_area_id") + " = " + w.Bind(*q.transformer_area_id));
      }
      if (!q.status.empty()) w.And(h("mp.status") + " = " + w.Bind(q.status));
      if (!q.tariff_code.empty()) w.And(h("mp.tariff_code") + " = " + w.Bind(q.tariff_code));
      return w;
    };
    const std::string from = "metering_points mp JOIN customers c ON c.id = mp.customer_id WHERE ";
    // The driving index: a customer's or an area's points, a code prefix, the departments when
    // they hold few points; otherwise the code index in order.
    Hint hint{c.dialect() != store::Dialect::kSqlite, {}};
    if (!hint.all) {
      if (self_scope || q.customer_id || q.transformer_area_id) {
        hint.columns = {"c.account_manager_id", "mp.customer_id", "mp.transformer_area_id"};
      } else {
        if (!q.q.empty()) {
          SqlWhere w;
          w.And(PrefixRange(w, "mp.code", q.q));
          ASSIGN_OR_RETURN(auto n,
                           grid::CountCapped(c, "metering_points mp WHERE " + w.sql(), w.params()));
          if (!n.capped) hint.columns = {"mp.code"};
        }
        if (hint.columns.empty() && depts.selective) {
          ASSIGN_OR_RETURN(
              auto n,
              grid::CountCapped(
                  c, "metering_points mp WHERE " + InSql("mp.department_id", *depts.ids), {}));
          if (!n.capped) hint.columns = {"mp.department_id"};
        }
        if (hint.columns.empty()) hint.columns = {"mp.code"};
      }
    }
    // The total leaves out a department condition shown to exclude nothing (see
    // customer::CustomerService::Search); the rows never do.
    SqlWhere w = build(hint, depts.selective || hint.all);
    ASSIGN_OR_RETURN(*total, grid::CountCapped(c, from + w.sql(), w.params()));
    w = build(hint, true);
    std::string sql = std::string(kPointSelect) + " WHERE " + w.sql() + " ORDER BY mp.code ";
    sql += w.LimitOffset(q.page, q.page_size);
    return c.Query(sql, w.params(), [&](const Row& r) { out.push_back(ReadPoint(r).p); });
  });
  if (!st.ok()) return st;
  return out;
}

Result<MeteringPoint> MeteringService::GetPoint(const Actor& actor, int64_t id) {
  RETURN_IF_ERROR(actor.Require("metering.read"));
  ASSIGN_OR_RETURN(PointRow row, db_.ReadValue<PointRow>([&](Connection& c) {
    return LoadVisiblePoint(c, actor, id);
  }));
  return row.p;
}

Result<std::vector<MeteringPoint>> MeteringService::PointsOfCustomer(const Actor& actor,
                                                                     int64_t customer_id) {
  RETURN_IF_ERROR(actor.Require("metering.read"));
  std::vector<MeteringPoint> out;
  Status st = db_.Read([&](Connection& c) {
    return c.Query(std::string(kPointSelect) + " WHERE mp.customer_id = $1 AND " +
                       actor.ScopeSql("mp.department_id", "c.account_manager_id") +
                       " ORDER BY mp.code",
                   {customer_id}, [&](const Row& r) { out.push_back(ReadPoint(r).p); });
  });
  if (!st.ok()) return st;
  return out;
}

Result<MeteringPoint> MeteringService::CreatePoint(const Actor& actor,
                                                   const MeteringPointInput& in) {
  RETURN_IF_ERROR(actor.Require("metering.write"));
  RETURN_IF_ERROR(Required(in.code.has_value(), "code"));
  RETURN_IF_ERROR(Required(in.customer_id.has_value(), "customer_id"));
  RETURN_IF_ERROR(Required(in.voltage_v.has_value(), "voltage_v"));
  RETURN_IF_ERROR(Required(in.tariff_code.has_value(), "tariff_code"));
  int64_t now = clock_.NowMicros();
  return db_.WriteValue<MeteringPoint>([&](Connection& c) -> Result<MeteringPoint> {
    // The customer: visible, and the defaults for department and transformer area.
    std::optional<int64_t> cust_dept, cust_manager, cust_area;
    RETURN_IF_ERROR(
        c.Query("SELECT department_id, account_manager_id, transformer_area_id FROM customers "
                "WHERE id = $1",
                {*in.customer_id}, [&](const Row& r) {
                  cust_dept = r.Int(0);
                  cust_manager = r.OptInt(1);
                  cust_area = r.OptInt(2);
                }));
    if (!cust_dept || !actor.CanSee(*cust_dept, cust_manager)) {
      return InvalidArgument("customer " + std::to_string(*in.customer_id) +
                                 " does not exist or is outside your data scope",
                             "customer_id");
    }
    MeteringPoint p;
    p.customer_id = *in.customer_id;
    p.department_id = *cust_dept;
    p.transformer_area_id = cust_area;
    MergePoint(in, &p);
    RETURN_IF_ERROR(CheckPoint(p));
    if (p.department_id != *cust_dept)
      RETURN_IF_ERROR(grid::CheckDepartment(c, actor, p.department_id));
    if (!actor.CanSee(p.department_id, cust_manager)) {
      return InvalidArgument(
          "department " + std::to_string(p.department_id) + " is outside your data scope",
          "department_id");
    }
    if (p.transformer_area_id && p.transformer_area_id != cust_area) {
      RETURN_IF_ERROR(grid::CheckVisibleReference(c, actor, "transformer_areas", "transformer area",
                                                  *p.transformer_area_id, "transformer_area_id")
                          .status());
    }
    auto id = c.InsertReturningId(
        "INSERT INTO metering_points (code, name, customer_id, transformer_area_id, "
        "department_id, voltage_v, tariff_code, contracted_capacity_kva, pf_standard, "
        "metering_side, purpose, status, created_at_us, updated_at_us) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING id",
        {p.code, p.name, p.customer_id, p.transformer_area_id, p.department_id, p.voltage_v,
         p.tariff_code, p.contracted_capacity_kva, p.pf_standard, p.metering_side, p.purpose,
         p.status, now});
    if (!id.ok()) return CodeTaken(id.status(), "metering point code", p.code, "code");
    ASSIGN_OR_RETURN(auto created, LoadPoint(c, *id));
    RETURN_IF_ERROR(org::WriteAudit(c, actor,
                                    {"create", "metering_point", std::to_string(*id), "",
                                     ToJson(created->p).dump(), p.department_id},
                                    now));
    return created->p;
  });
}

Result<MeteringPoint> MeteringService::UpdatePoint(const Actor& actor, int64_t id, int64_t version,
                                                   const MeteringPointInput& in) {
  RETURN_IF_ERROR(actor.Require("metering.write"));
  int64_t now = clock_.NowMicros();
  return db_.WriteValue<MeteringPoint>([&](Connection& c) -> Result<MeteringPoint> {
    ASSIGN_OR_RETURN(PointRow before, LoadVisiblePoint(c, actor, id));
    if (before.p.version != version) {
      return grid::StaleVersion("metering point", id, before.p.version, version);
    }
    if (in.customer_id && *in.customer_id != before.p.customer_id) {
      return InvalidArgument("customer_id of a metering point cannot change", "customer_id");
    }
    MeteringPoint p = before.p;
    MergePoint(in, &p);
    RETURN_IF_ERROR(CheckPoint(p));
    if (p.department_id != before.p.department_id) {
      RETURN_IF_ERROR(grid::CheckDepartment(c, actor, p.department_id));
      if (!actor.CanSee(p.department_id, before.manager)) {
        return InvalidArgument(
            "department " + std::to_string(p.department_id) + " is outside your data scope",
            "department_id");
      }
    }
    if (p.transformer_area_id && p.transformer_area_id != before.p.transformer_area_id) {
      RETURN_IF_ERROR(grid::CheckVisibleReference(c, actor, "transformer_areas", "transformer area",
                                                  *p.transformer_area_id, "transformer_area_id")
                          .status());
    }
    if (p.status == "removed" && before.p.current_meter_id) {
      return FailedPrecondition("metering point " + p.code + " still has meter " +
                                    before.p.current_meter_asset_no.value_or("") +
                                    " installed; remove it first",
                                "status");
    }
    auto n = c.Exec(
        "UPDATE metering_points SET code = $1, name = $2, transformer_area_id = $3, "
        "department_id = $4, voltage_v = $5, tariff_code = $6, contracted_capacity_kva = $7, "
        "pf_standard = $8, metering_side = $9, purpose = $10, status = $11, "
        "version = version + 1, updated_at_us = $12 WHERE id = $13 AND version = $14",
        {p.code, p.name, p.transformer_area_id, p.department_id, p.voltage_v, p.tariff_code,
         p.contracted_capacity_kva, p.pf_standard, p.metering_side, p.purpose, p.status, now, id,
         version});
    if (!n.ok()) return CodeTaken(n.status(), "metering point code", p.code, "code");
    if (*n == 0) {
      return grid::StaleVersionAfterUpdate(c, "metering_points", "metering point", id, version);
    }
    ASSIGN_OR_RETURN(auto after, LoadPoint(c, id));
    RETURN_IF_ERROR(
        org::WriteAudit(c, actor,
                        {"update", "metering_point", std::to_string(id), ToJson(before.p).dump(),
                         ToJson(after->p).dump(), after->p.department_id},
                        now));
    return after->p;
  });
}

// ---------------------------------------------------------------------------------------------
// Meters

Result<std::vector<Meter>> MeteringService::ListMeters(const Actor& actor, const MeterQuery& q,
                                                       grid::CappedCount* total) {
  RETURN_IF_ERROR(actor.Require("metering.read"));
  if (!q.status.empty()) RETURN_IF_ERROR(CheckOneOf(q.status, "status", kMeterStatuses));
  // Meters are department-owned: "self" is the user's own department.
  std::vector<int64_t> own = {actor.department_id};
  const std::vector<int64_t>* scope = actor.scope == org::DataScope::kAll ? nullptr
                                      : actor.scope == org::DataScope::kSelf
                                          ? &own
                                          : &actor.scope_departments;
  std::vector<Meter> out;
  Status st = db_.Read([&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(grid::DepartmentRestriction depts,
                     grid::RestrictDepartments(c, scope, q.department_id, "meters"));
    auto text = [&](SqlWhere& w, const Hint& h) {
      w.And("(" + PrefixRange(w, h("m.asset_no"), q.q) + " OR " +
            PrefixRange(w, h("m.comm_address"), q.q) + ")");
    };
    auto build = [&](const Hint& h, bool departments) {
      SqlWhere w;
      if (depts.ids && departments) w.And(InSql(h("m.department_id"), *depts.ids));
      if (!q.q.empty()) text(w, h);
      if (!q.status.empty()) w.And(h("m.status") + " = " + w.Bind(q.status));
      return w;
    };
    // The driving index: an asset number or address prefix, a rare status (the meters in stock),
    // the departments when they hold few meters; otherwise the asset number index in order.
    Hint hint{c.dialect() != store::Dialect::kSqlite, {}};
    if (!hint.all) {
      if (!q.q.empty()) {
        SqlWhere w;
        text(w, Hint{true, {}});
        ASSIGN_OR_RETURN(auto n, grid::CountCapped(c, "meters m WHERE " + w.sql(), w.params()));
        if (!n.capped) hint.columns = {"m.asset_no", "m.comm_address"};
      }
      if (hint.columns.empty() && !q.status.empty()) {
        ASSIGN_OR_RETURN(auto n, grid::CountCapped(c, "meters m WHERE m.status = $1", {q.status}));
        if (!n.capped) hint.columns = {"m.status"};
      }
      if (hint.columns.empty() && depts.selective) {
        ASSIGN_OR_RETURN(
            auto n,
            grid::CountCapped(c, "meters m WHERE " + InSql("m.department_id", *depts.ids), {}));
        if (!n.capped) hint.columns = {"m.department_id"};
      }
      if (hint.columns.empty()) hint.columns = {"m.asset_no"};
    }
    SqlWhere w = build(hint, depts.selective || hint.all);
    ASSIGN_OR_RETURN(*total, grid::CountCapped(c, "meters m WHERE " + w.sql(), w.params()));
    w = build(hint, true);
    std::string sql = std::string("SELECT ") + kMeterCols + " FROM " + kMeterFrom + " WHERE " +
                      w.sql() + " ORDER BY m.asset_no ";
    sql += w.LimitOffset(q.page, q.page_size);
    return c.Query(sql, w.params(), [&](const Row& r) { out.push_back(ReadMeter(r, 0)); });
  });
  if (!st.ok()) return st;
  return out;
}

Result<Meter> MeteringService::GetMeter(const Actor& actor, int64_t id) {
  RETURN_IF_ERROR(actor.Require("metering.read"));
  ASSIGN_OR_RETURN(
      auto m, db_.ReadValue<std::optional<Meter>>([&](Connection& c) { return LoadMeter(c, id); }));
  if (!m || !grid::CanSeeDepartment(actor, m->department_id)) {
    return NotFound("meter " + std::to_string(id) + " not found");
  }
  return *m;
}

Result<Meter> MeteringService::CreateMeter(const Actor& actor, const MeterInput& in) {
  RETURN_IF_ERROR(actor.Require("metering.write"));
  RETURN_IF_ERROR(Required(in.asset_no.has_value(), "asset_no"));
  RETURN_IF_ERROR(Required(in.make.has_value(), "make"));
  RETURN_IF_ERROR(Required(in.model.has_value(), "model"));
  RETURN_IF_ERROR(Required(in.phases.has_value(), "phases"));
  RETURN_IF_ERROR(Required(in.accuracy_class.has_value(), "accuracy_class"));
  RETURN_IF_ERROR(Required(in.registers.has_value(), "registers"));
  RETURN_IF_ERROR(Required(in.department_id.has_value(), "department_id"));
  if (in.status && *in.status != "in_stock") {
    return InvalidArgument("a new meter is in_stock; it is installed through a metering point",
                           "status");
  }
  Meter m;
  RETURN_IF_ERROR(MergeMeter(in, &m));
  RETURN_IF_ERROR(CheckMeter(m));
  int64_t now = clock_.NowMicros();
  return db_.WriteValue<Meter>([&](Connection& c) -> Result<Meter> {
    RETURN_IF_ERROR(grid::CheckDepartment(c, actor, m.department_id));
    auto id = c.InsertReturningId(
        "INSERT INTO meters (asset_no, make, model, phases, accuracy_class, rated_current, "
        "registers, ct_primary_a, ct_secondary_a, pt_primary_v, pt_secondary_v, multiplier, "
        "comm_address, protocol, status, department_id, production_date, created_at_us, "
        "updated_at_us, register_integer_digits) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
        "$10, $11, $12, $13, $14, $15, $16, $17, $18, $18, $19) RETURNING id",
        {m.asset_no, m.make, m.model, m.phases, m.accuracy_class, m.rated_current,
         JoinRegisters(m.registers), m.ct.primary, m.ct.secondary, m.pt.primary, m.pt.secondary,
         m.multiplier, m.comm_address, m.protocol, m.status, m.department_id, m.production_date,
         now, m.register_integer_digits});
    if (!id.ok()) return CodeTaken(id.status(), "meter asset number", m.asset_no, "asset_no");
    ASSIGN_OR_RETURN(auto created, LoadMeter(c, *id));
    RETURN_IF_ERROR(org::WriteAudit(c, actor,
                                    {"create", "meter", std::to_string(*id), "",
                                     ToJson(*created).dump(), created->department_id},
                                    now));
    return *created;
  });
}

Result<Meter> MeteringService::UpdateMeter(const Actor& actor, int64_t id, int64_t version,
                                           const MeterInput& in) {
  RETURN_IF_ERROR(actor.Require("metering.write"));
  int64_t now = clock_.NowMicros();
  return db_.WriteValue<Meter>([&](Connection& c) -> Result<Meter> {
    ASSIGN_OR_RETURN(auto before, LoadMeter(c, id));
    if (!before || !grid::CanSeeDepartment(actor, before->department_id)) {
      return NotFound("meter " + std::to_string(id) + " not found");
    }
    if (before->version != version)
      return grid::StaleVersion("meter", id, before->version, version);
    Meter m = *before;
    RETURN_IF_ERROR(MergeMeter(in, &m));
    RETURN_IF_ERROR(CheckMeter(m));
    if (before->status == "installed") {
      std::string where = "meter " + before->asset_no + " is installed at metering point " +
                          std::to_string(before->installed_point_id.value_or(0));
      if (m.registers != before->registers) {
        return FailedPrecondition(where + ": its registers cannot change until it is removed",
                                  "registers");
      }
      if (!(m.ct == before->ct)) {
        return FailedPrecondition(where + ": its CT ratio cannot change until it is removed",
                                  "ct_ratio");
      }
      if (!(m.pt == before->pt)) {
        return FailedPrecondition(where + ": its PT ratio cannot change until it is removed",
                                  "pt_ratio");
      }
    }
    if (m.status != before->status) {
      if (m.status == "installed") {
        return InvalidArgument("a meter becomes installed by installing it at a metering point",
                               "status");
      }
      bool allowed =
          (before->status == "in_stock" && m.status == "scrapped") ||
          (before->status == "removed" && (m.status == "in_stock" || m.status == "scrapped"));
      if (!allowed) {
        return FailedPrecondition(
            "meter " + before->asset_no + " cannot go from " + before->status + " to " + m.status,
            "status");
      }
    }
    if (m.department_id != before->department_id) {
      RETURN_IF_ERROR(grid::CheckDepartment(c, actor, m.department_id));
    }
    auto n = c.Exec(
        "UPDATE meters SET asset_no = $1, make = $2, model = $3, phases = $4, "
        "accuracy_class = $5, rated_current = $6, registers = $7, ct_primary_a = $8, "
        "ct_secondary_a = $9, pt_primary_v = $10, pt_secondary_v = $11, multiplier = $12, "
        "comm_address = $13, protocol = $14, status = $15, department_id = $16, "
        "production_date = $17, version = version + 1, updated_at_us = $18, "
        "register_integer_digits = $21 WHERE id = $19 AND version = $20",
        {m.asset_no,
         m.make,
         m.model,
         m.phases,
         m.accuracy_class,
         m.rated_current,
         JoinRegisters(m.registers),
         m.ct.primary,
         m.ct.secondary,
         m.pt.primary,
         m.pt.secondary,
         m.multiplier,
         m.comm_address,
         m.protocol,
         m.status,
         m.department_id,
         m.production_date,
         now,
         id,
         version,
         m.register_integer_digits});
    if (!n.ok()) return CodeTaken(n.status(), "meter asset number", m.asset_no, "asset_no");
    if (*n == 0) return grid::StaleVersionAfterUpdate(c, "meters", "meter", id, version);
    ASSIGN_OR_RETURN(auto after, LoadMeter(c, id));
    RETURN_IF_ERROR(org::WriteAudit(c, actor,
                                    {"update", "meter", std::to_string(id), ToJson(*before).dump(),
                                     ToJson(*after).dump(), after->department_id},
                                    now));
    return *after;
  });
}

// ---------------------------------------------------------------------------------------------
// Installations

Result<Installation> MeteringService::Install(const Actor& actor, int64_t point_id,
                                              const InstallInput& in) {
  RETURN_IF_ERROR(actor.Require("metering.write"));
  if (in.reason != "new" && in.reason != "rotation") {
    return InvalidArgument("reason must be new or rotation (a replacement goes through replace)",
                           "reason");
  }
  int64_t now = clock_.NowMicros();
  return db_.WriteValue<Installation>([&](Connection& c) -> Result<Installation> {
    ASSIGN_OR_RETURN(PointRow point, LoadVisiblePoint(c, actor, point_id));
    return DoInstall(c, actor, point, in.meter_id, in.installed_at_us, in.readings, in.reason,
                     InstallFields{}, now);
  });
}

Result<Installation> MeteringService::Remove(const Actor& actor, int64_t installation_id,
                                             const RemoveInput& in) {
  RETURN_IF_ERROR(actor.Require("metering.write"));
  int64_t now = clock_.NowMicros();
  return db_.WriteValue<Installation>([&](Connection& c) -> Result<Installation> {
    ASSIGN_OR_RETURN(auto before, LoadInstallation(c, installation_id));
    std::optional<PointRow> point;
    if (before) {
      ASSIGN_OR_RETURN(point, LoadPoint(c, before->metering_point_id));
    }
    if (!before || !point || !Visible(actor, *point)) {
      return NotFound("installation " + std::to_string(installation_id) + " not found");
    }
    if (before->removed_at_us) {
      return FailedPrecondition("meter " + before->meter.asset_no + " was already removed at " +
                                FormatUtc(*before->removed_at_us));
    }
    return DoRemove(c, actor, *before, point->p.department_id, in, RemoveFields{}, now);
  });
}

Result<Replacement> MeteringService::Replace(const Actor& actor, int64_t point_id,
                                             const ReplaceInput& in) {
  RETURN_IF_ERROR(actor.Require("metering.write"));
  int64_t now = clock_.NowMicros();
  return db_.WriteValue<Replacement>([&](Connection& c) -> Result<Replacement> {
    ASSIGN_OR_RETURN(PointRow point, LoadVisiblePoint(c, actor, point_id));
    ASSIGN_OR_RETURN(auto current, CurrentInstallation(c, point_id));
    if (!current) {
      return FailedPrecondition("metering point " + point.p.code +
                                " has no meter installed; install one instead");
    }
    if (current->meter_id == in.new_meter_id) {
      return InvalidArgument("new_meter_id is the meter being removed", "new_meter_id");
    }
    Replacement out;
    RemoveInput removal{in.at_us, in.remove_readings, in.remove_reason, in.rollover};
    ASSIGN_OR_RETURN(out.removed, DoRemove(c, actor, *current, point.p.department_id, removal,
                                           {"at", "remove_readings", "remove_reason"}, now));
    ASSIGN_OR_RETURN(
        out.installed,
        DoInstall(c, actor, point, in.new_meter_id, in.at_us, in.install_readings, "replacement",
                  {"new_meter_id", "at", "install_readings", "reason"}, now));
    return out;
  });
}

Result<std::vector<Installation>> MeteringService::ListInstallations(const Actor& actor,
                                                                     int64_t point_id) {
  RETURN_IF_ERROR(actor.Require("metering.read"));
  return db_.ReadValue<std::vector<Installation>>(
      [&](Connection& c) -> Result<std::vector<Installation>> {
        RETURN_IF_ERROR(LoadVisiblePoint(c, actor, point_id).status());
        return QueryInstallations(c,
                                  "WHERE mi.metering_point_id = $1 "
                                  "ORDER BY mi.installed_at_us DESC, mi.id DESC",
                                  {point_id});
      });
}

Result<std::vector<Installation>> MeteringService::InstallationsOfPoints(
    const Actor& actor, const std::vector<int64_t>& point_ids, bool current_only) {
  RETURN_IF_ERROR(actor.Require("metering.read"));
  if (point_ids.empty()) return std::vector<Installation>();
  std::vector<int64_t> ids = point_ids;
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return db_.ReadValue<std::vector<Installation>>(
      [&](Connection& c) -> Result<std::vector<Installation>> {
        std::string where =
            "WHERE " + InSql("mi.metering_point_id", ids) +
            " AND mi.metering_point_id IN (SELECT mp.id FROM metering_points mp JOIN customers c "
            "ON c.id = mp.customer_id WHERE " +
            InSql("mp.id", ids) + " AND " +
            actor.ScopeSql("mp.department_id", "c.account_manager_id") + ")";
        if (current_only) where += " AND mi.removed_at_us IS NULL";
        where += " ORDER BY mi.metering_point_id, mi.installed_at_us DESC, mi.id DESC";
        return QueryInstallations(c, where, {});
      });
}

}  // namespace gridmis::metering
