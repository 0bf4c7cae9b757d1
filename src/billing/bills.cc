// Bill rows: loading points and prior bills for rating, building inputs and bills, bulk insert,
// reading bills back, JSON.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_set>

#include "billing/internal/billing_internal.h"

namespace gridmis::billing {

using nlohmann::json;
using store::Connection;
using store::Row;

std::string BillNo(YearMonth period, int64_t metering_point_id, int64_t seq) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%04d%02d%010lld%02lld", period.year, period.month,
                static_cast<long long>(metering_point_id), static_cast<long long>(seq));
  return buf;
}

std::string JoinFlags(const std::vector<std::string>& flags) {
  std::string s;
  for (const auto& f : flags) s += (s.empty() ? "" : ",") + f;
  return s;
}

std::vector<std::string> SplitFlags(std::string_view s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t comma = s.find(',', pos);
    if (comma == std::string_view::npos) comma = s.size();
    if (comma > pos) out.emplace_back(s.substr(pos, comma - pos));
    pos = comma + 1;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Points and prior bills

Result<std::map<int64_t, PointInfo>> LoadPoints(Connection& c, const std::vector<int64_t>& ids) {
  std::map<int64_t, PointInfo> out;
  if (ids.empty()) return out;
  Status inner;
  RETURN_IF_ERROR(c.Query(
      std::string("SELECT mp.id, mp.code, mp.name, mp.customer_id, c.customer_no, c.name, "
                  "c.address, c.category, c.account_manager_id, (SELECT MIN(a.id) FROM accounts "
                  "a WHERE a.customer_id = mp.customer_id AND a.status = 'active'), "
                  "mp.department_id, mp.voltage_v, mp.tariff_code, mp.contracted_capacity_kva, "
                  "mp.pf_standard, mp.metering_side, mp.status, mp.purpose, ") +
          kParameterCols +
          " FROM metering_points mp JOIN customers c ON c.id = mp.customer_id LEFT JOIN "
          "billing_parameters bp ON bp.metering_point_id = mp.id WHERE " +
          grid::InSql("mp.id", ids),
      {}, [&](const Row& r) {
        PointInfo p;
        p.id = r.Int(0);
        p.code = r.Text(1);
        p.name = r.Text(2);
        p.customer_id = r.Int(3);
        p.customer_no = r.Text(4);
        p.customer_name = r.Text(5);
        p.customer_address = r.Text(6);
        p.customer_category = r.Text(7);
        p.account_manager_id = r.OptInt(8);
        p.account_id = r.OptInt(9);
        p.department_id = r.Int(10);
        p.voltage_v = r.Int(11);
        p.tariff_code = r.Text(12);
        p.contracted_capacity_kva = r.Int(13);
        p.pf_standard = r.Text(14);
        p.metering_side = r.Text(15);
        p.status = r.Text(16);
        p.purpose = r.Text(17);
        auto params = ReadParameterColumns(r, 18, p.id);
        if (!params.ok()) {
          if (inner.ok()) inner = params.status();
          return;
        }
        p.params = std::move(*params);
        out.emplace(p.id, std::move(p));
      }));
  RETURN_IF_ERROR(inner);
  return out;
}

namespace {

YearMonth AddMonths(YearMonth ym, int n) {
  int total = ym.year * 12 + (ym.month - 1) + n;
  return YearMonth{total / 12, total % 12 + 1};
}

}  // namespace

Result<std::map<int64_t, PriorBills>> LoadPriorBills(Connection& c, const std::vector<int64_t>& ids,
                                                     YearMonth period) {
  std::map<int64_t, PriorBills> out;
  if (ids.empty()) return out;
  YearMonth last_year = AddMonths(period, -12);
  YearMonth last_month = AddMonths(period, -1);
  std::string this_s = period.ToString();
  std::string last_month_s = last_month.ToString();
  std::string last_year_s = last_year.ToString();
  std::string tier_from = YearMonth{period.year, 1}.ToString();
  RETURN_IF_ERROR(c.Query(
      "SELECT metering_point_id, period, total_fen, tier1_kwh + tier2_kwh + tier3_kwh FROM bills "
      "WHERE " +
          grid::InSql("metering_point_id", ids) +
          " AND status <> 'cancelled' AND period >= $1 AND period < $2",
      {last_year_s, this_s}, [&](const Row& r) {
        PriorBills& p = out[r.Int(0)];
        std::string_view per = r.TextView(1);
        if (per == last_month_s) p.last_month = Money::FromFen(r.Int(2));
        if (per == last_year_s) p.last_year = Money::FromFen(r.Int(2));
        if (per >= tier_from) p.tier_before_kwh += r.Int(3);
      }));
  auto [lo, hi] = std::minmax_element(ids.begin(), ids.end());
  ASSIGN_OR_RETURN(auto current, BillsOfPeriod(c, period, *lo, *hi));
  if (!current.empty()) {
    std::unordered_set<int64_t> wanted(ids.begin(), ids.end());
    for (const auto& [point, pb] : current) {
      if (!wanted.count(point)) continue;
      out[point].has_live_bill = pb.live;
      out[point].max_seq = pb.max_seq;
    }
  }
  return out;
}

Result<std::map<int64_t, PeriodBills>> BillsOfPeriod(Connection& c, YearMonth period,
                                                     int64_t first_point, int64_t last_point) {
  std::map<int64_t, PeriodBills> out;
  if (last_point < first_point) return out;
  RETURN_IF_ERROR(c.Query(
      "SELECT metering_point_id, seq, status FROM bills WHERE bill_no >= $1 AND bill_no <= $2",
      {BillNo(period, first_point, 0), BillNo(period, last_point, 99)}, [&](const Row& r) {
        PeriodBills& p = out[r.Int(0)];
        p.max_seq = std::max(p.max_seq, r.Int(1));
        if (r.TextView(2) != "cancelled") p.live = true;
      }));
  return out;
}

bool NeedsDailyTotals(const rating::TariffCatalogue& catalogue, YearMonth period) {
  Date from = period.FirstDay().AddDays(-40);
  Date to = period.LastDay();
  for (const auto& t : catalogue.tariffs()) {
    for (const auto& v : t.versions) {
      if (from < v.effective_from && v.effective_from <= to) return true;
    }
  }
  return false;
}

Result<reading::BillableRead> LoadReadOfPoint(Connection& c, const PointInfo& point,
                                              const reading::BillableQuery& base) {
  reading::BillableQuery q = base;
  YearMonth period = q.period;
  q.department_id = point.department_id;
  q.segment_id.reset();
  q.after_point_id = point.id - 1;
  q.limit = 1;
  ASSIGN_OR_RETURN(auto reads, reading::LoadBillableReads(c, q));
  if (reads.empty() || reads[0].metering_point_id != point.id) {
    return NotFound("metering point " + point.code + " has no approved read for " +
                    period.ToString());
  }
  return std::move(reads[0]);
}

// ---------------------------------------------------------------------------------------------
// Rating input, flags, bills

namespace {

bool Within(const Date& d, const Date& first, const Date& last) { return first <= d && d <= last; }

}  // namespace

rating::RatingInput BuildInput(const reading::BillableRead& read, const PointInfo& point,
                               int64_t tier_before_kwh) {
  rating::RatingInput in;
  const BillingParameters& p = point.params;
  in.metering_point_code = point.code;
  in.period = read.period;
  in.first_day = read.first_day;
  in.last_day = read.last_day;
  in.tariff_code = point.tariff_code;
  in.meters.reserve(read.spans.size());
  for (const auto& s : read.spans) {
    rating::MeterSpan m;
    m.meter_asset_no = s.meter_asset_no;
    m.multiplier = s.multiplier;
    m.register_integer_digits = s.register_integer_digits;
    m.start = s.start;
    m.end = s.end;
    m.start_source = s.start_source;
    m.end_source = s.end_source;
    in.meters.push_back(std::move(m));
  }
  in.basic_mode = p.basic_mode;
  in.capacity_kva = point.contracted_capacity_kva;
  in.declared_demand_kw = p.declared_demand_kw;
  // Connection and termination days matter only inside the period (basic-charge proration).
  Date month_first = read.period.FirstDay();
  Date month_last = read.period.LastDay();
  Date lo = std::min(read.first_day, month_first);
  Date hi = std::max(read.last_day, month_last);
  if (p.service_start && Within(*p.service_start, lo, hi)) in.service_start = p.service_start;
  if (p.service_end && Within(*p.service_end, lo, hi)) in.service_end = p.service_end;
  for (const auto& s : p.suspensions) {
    if (s.last < lo || s.first > hi) continue;
    in.suspensions.push_back(s);
  }
  in.pf_standard = point.pf_standard;
  if (point.metering_side == "low" && p.transformer) in.transformer = p.transformer;
  in.line_loss_rate = p.line_loss_rate;
  in.sub_allocations = p.sub_allocations;
  in.tier_cumulative_kwh = tier_before_kwh;
  // Months (and days) in service in the tier year when connected or closed within it.
  int year = read.period.year;
  bool starts = p.service_start && p.service_start->year == year;
  bool ends = p.service_end && p.service_end->year == year;
  if (starts || ends) {
    int from_month = starts ? p.service_start->month : 1;
    int to_month = ends ? p.service_end->month : 12;
    in.tier_months_in_service = std::max(0, to_month - from_month + 1);
    Date from_day = starts ? *p.service_start : Date{year, 1, 1};
    Date to_day = ends ? *p.service_end : Date{year, 12, 31};
    in.tier_days_in_service =
        static_cast<int>(std::max<int64_t>(0, to_day.ToDays() - from_day.ToDays() + 1));
  }
  in.household_multiplier = p.household_multiplier;
  in.free_allowance_kwh = p.free_allowance_kwh;
  in.daily_total = read.daily_total;
  return in;
}

namespace {

// |now - before| > pct % of |before|, exactly.
bool MovedMoreThan(Money now, Money before, int64_t pct) {
  if (before.fen() == 0) return false;
  int128 diff = static_cast<int128>(now.fen()) - before.fen();
  if (diff < 0) diff = -diff;
  int128 base = before.fen() < 0 ? -static_cast<int128>(before.fen()) : before.fen();
  return diff * 100 > base * pct;
}

}  // namespace

std::vector<std::string> ReviewFlags(const rating::RatedBill& rated, const PriorBills& prior,
                                     int64_t threshold_pct) {
  std::vector<std::string> flags;
  if (rated.total.fen() == 0) flags.push_back("zero");
  for (const auto& l : rated.lines) {
    if (l.amount.fen() < 0 && l.kind != "pf_adjustment" && l.kind != "free_allowance") {
      flags.push_back("negative_line");
      break;
    }
  }
  if (prior.last_month && MovedMoreThan(rated.total, *prior.last_month, threshold_pct)) {
    flags.push_back("change_month");
  }
  if (prior.last_year && MovedMoreThan(rated.total, *prior.last_year, threshold_pct)) {
    flags.push_back("change_year");
  }
  return flags;
}

namespace {

// kWh with the trailing zeros of the four decimals trimmed: "101", "12.5".
void AppendKwh(std::string* out, Energy e) {
  int64_t v = e.dwh();
  if (v < 0) {
    *out += '-';
    v = -v;
  }
  *out += std::to_string(v / Energy::kDwhPerKwh);
  int64_t frac = v % Energy::kDwhPerKwh;
  if (frac == 0) return;
  char buf[8];
  std::snprintf(buf, sizeof(buf), ".%04lld", static_cast<long long>(frac));
  std::string f(buf);
  while (f.back() == '0') f.pop_back();
  *out += f;
}

void AppendString(std::string* out, std::string_view s) {
  *out += '"';
  for (char ch : s) {
    switch (ch) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      default:
        if (static_cast<unsigned char>(ch) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", ch);
          *out += buf;
        } else {
          *out += ch;
        }
    }
  }
  *out += '"';
}

void AppendRegisters(std::string* out, const std::map<std::string, Energy>& regs) {
  *out += '{';
  bool first = true;
  for (const auto& [name, v] : regs) {
    if (!first) *out += ',';
    first = false;
    AppendString(out, name);
    *out += ":\"";
    AppendKwh(out, v);
    *out += '"';
  }
  *out += '}';
}

}  // namespace

std::string DetailJson(const reading::BillableRead& read, const rating::RatedBill& rated) {
  // Hand-written (a bill run writes a million of these): only what is not zero or empty.
  std::string out;
  out.reserve(256);
  out += "{\"meters\":[";
  for (size_t i = 0; i < read.spans.size(); ++i) {
    const auto& s = read.spans[i];
    if (i) out += ',';
    out += "{\"asset_no\":";
    AppendString(&out, s.meter_asset_no);
    out += ",\"multiplier\":" + std::to_string(s.multiplier) + ",\"start\":";
    AppendRegisters(&out, s.start);
    out += ",\"end\":";
    AppendRegisters(&out, s.end);
    out += ",\"start_source\":";
    AppendString(&out, s.start_source);
    out += ",\"end_source\":";
    AppendString(&out, s.end_source);
    out += '}';
  }
  out += "],\"energy\":{";
  const auto& e = rated.energy;
  bool first = true;
  auto field = [&](const char* name) {
    if (!first) out += ',';
    first = false;
    out += '"';
    out += name;
    out += "\":";
  };
  for (auto [name, regs] : {std::pair{"metered", &e.metered}, std::pair{"replaced", &e.replaced},
                            std::pair{"loss", &e.loss}, std::pair{"billed", &e.billed}}) {
    if (regs->empty()) continue;
    field(name);
    AppendRegisters(&out, *regs);
  }
  for (auto [name, v] :
       {std::pair{"transformer_active_loss", e.transformer_active_loss},
        std::pair{"transformer_reactive_loss", e.transformer_reactive_loss},
        std::pair{"line_loss", e.line_loss}, std::pair{"max_demand_kw", e.max_demand_kw}}) {
    if (v.dwh() == 0) continue;
    field(name);
    out += '"';
    AppendKwh(&out, v);
    out += '"';
  }
  out += "},\"read_source\":";
  AppendString(&out, read.source);
  if (read.estimated) out += ",\"estimated\":true";
  if (rated.tier_bounds_kwh[0] || rated.tier_bounds_kwh[1]) {
    out += ",\"tier_bounds_kwh\":[" + std::to_string(rated.tier_bounds_kwh[0]) + "," +
           std::to_string(rated.tier_bounds_kwh[1]) + "]";
  }
  if (!rated.notes.empty()) {
    out += ",\"notes\":[";
    for (size_t i = 0; i < rated.notes.size(); ++i) {
      if (i) out += ',';
      AppendString(&out, rated.notes[i]);
    }
    out += ']';
  }
  out += '}';
  return out;
}

NewBill MakeBill(const reading::BillableRead& read, const PointInfo& point, YearMonth period,
                 rating::RatedBill rated, std::vector<std::string> flags,
                 std::optional<int64_t> run_id, int64_t seq,
                 std::optional<int64_t> replaces_bill_id, std::optional<int64_t> created_by,
                 int64_t now_us) {
  NewBill nb;
  Bill& b = nb.bill;
  b.bill_no = BillNo(period, point.id, seq);
  b.metering_point_id = point.id;
  b.metering_point_code = point.code;
  b.metering_point_name = point.name;
  b.customer_id = point.customer_id;
  b.customer_no = point.customer_no;
  b.customer_name = point.customer_name;
  b.customer_address = point.customer_address;
  b.account_id = point.account_id;
  b.department_id = point.department_id;
  b.period = period;
  b.seq = seq;
  b.status = flags.empty() ? "calculated" : "review";
  b.tariff_code = rated.tariff_code.empty() ? point.tariff_code : rated.tariff_code;
  b.tariff_version = rated.tariff_version;
  b.customer_category = point.customer_category;
  b.first_day = read.first_day;
  b.last_day = read.last_day;
  b.billed_kwh = rated.billed_kwh;
  for (int i = 0; i < 3; ++i) b.tier_kwh[i] = rated.tier_kwh[i];
  b.tier_cumulative_after_kwh = rated.tier_cumulative_after_kwh;
  if (rated.power_factor) b.power_factor = rated.power_factor->ToString();
  if (rated.pf_adjust_rate) b.pf_adjust_rate = rated.pf_adjust_rate->ToString();
  if (rated.pf_standard) b.pf_standard = rated.pf_standard->ToString();
  b.pf_base = rated.pf_base;
  b.energy_charge = rated.energy_charge;
  b.basic_charge = rated.basic_charge;
  b.pf_charge = rated.pf_charge;
  b.fund_charge = rated.fund_charge;
  b.total = rated.total;
  b.run_id = run_id;
  b.read_id = read.read_id;
  b.read_source = read.source;
  b.review_flags = std::move(flags);
  b.detail_json = DetailJson(read, rated);
  b.replaces_bill_id = replaces_bill_id;
  b.created_by = created_by;
  b.created_at_us = now_us;
  b.updated_at_us = now_us;
  b.version = 1;
  nb.rated = std::move(rated);
  return nb;
}

// ---------------------------------------------------------------------------------------------
// Bulk insert

namespace {

constexpr const char* kBillInsertCols[] = {"id",
                                           "bill_no",
                                           "metering_point_id",
                                           "customer_id",
                                           "account_id",
                                           "department_id",
                                           "period",
                                           "seq",
                                           "status",
                                           "tariff_code",
                                           "tariff_version",
                                           "customer_category",
                                           "first_day",
                                           "last_day",
                                           "billed_kwh",
                                           "tier1_kwh",
                                           "tier2_kwh",
                                           "tier3_kwh",
                                           "tier_cumulative_after_kwh",
                                           "power_factor",
                                           "pf_adjust_rate",
                                           "pf_standard",
                                           "pf_base_fen",
                                           "energy_fen",
                                           "basic_fen",
                                           "pf_fen",
                                           "fund_fen",
                                           "total_fen",
                                           "run_id",
                                           "read_id",
                                           "read_source",
                                           "review_flags",
                                           "detail_json",
                                           "replaces_bill_id",
                                           "created_by",
                                           "created_at_us",
                                           "updated_at_us",
                                           "version"};
constexpr const char* kLineInsertCols[] = {
    "bill_id",     "line_no",     "kind",     "rule",           "description",
    "tariff_code", "period_code", "tier",     "quantity",       "unit",
    "unit_price",  "amount_fen",  "sources",  "tariff_version", "share",
    "days",        "days_base",   "from_day", "to_day"};
constexpr size_t kValuesPerStatement = 4000;

std::string InsertSql(std::string_view table, const char* const* cols, size_t ncols, size_t rows) {
  std::string sql = "INSERT INTO ";
  sql += table;
  sql += " (";
  for (size_t i = 0; i < ncols; ++i) {
    if (i) sql += ", ";
    sql += cols[i];
  }
  sql += ") VALUES ";
  size_t n = 1;
  sql.reserve(sql.size() + rows * ncols * 6);
  for (size_t r = 0; r < rows; ++r) {
    sql += r ? ",(" : "(";
    for (size_t i = 0; i < ncols; ++i) {
      if (i) sql += ',';
      sql += '$';
      sql += std::to_string(n++);
    }
    sql += ')';
  }
  return sql;
}

// Runs a multi-row INSERT over `rows` parameter lists of `ncols` values each, flattened.
Status InsertRows(Connection& c, std::string_view table, const char* const* cols, size_t ncols,
                  store::Params& flat) {
  size_t rows = flat.size() / ncols;
  if (rows == 0) return Status::Ok();
  size_t per = std::max<size_t>(1, kValuesPerStatement / ncols);
  size_t full = rows / per;
  if (full > 0) {
    ASSIGN_OR_RETURN(auto st, c.Prepare(InsertSql(table, cols, ncols, per)));
    store::Params batch;
    batch.reserve(per * ncols);
    for (size_t b = 0; b < full; ++b) {
      batch.assign(std::make_move_iterator(flat.begin() + b * per * ncols),
                   std::make_move_iterator(flat.begin() + (b + 1) * per * ncols));
      RETURN_IF_ERROR(st->Run(batch).status());
    }
  }
  size_t rest = rows - full * per;
  if (rest > 0) {
    ASSIGN_OR_RETURN(auto st, c.Prepare(InsertSql(table, cols, ncols, rest)));
    store::Params batch(std::make_move_iterator(flat.begin() + full * per * ncols),
                        std::make_move_iterator(flat.end()));
    RETURN_IF_ERROR(st->Run(batch).status());
  }
  return Status::Ok();
}

Result<std::vector<int64_t>> ReserveIds(Connection& c, size_t n) {
  std::vector<int64_t> ids;
  ids.reserve(n);
  if (n == 0) return ids;
  if (c.dialect() == store::Dialect::kSqlite) {
    // The single SQLite writer holds the write lock for the whole transaction.
    ASSIGN_OR_RETURN(int64_t max, c.QueryInt("SELECT COALESCE(MAX(id), 0) FROM bills"));
    for (size_t i = 0; i < n; ++i) ids.push_back(max + 1 + static_cast<int64_t>(i));
    return ids;
  }
  RETURN_IF_ERROR(
      c.Query("SELECT nextval(pg_get_serial_sequence('bills', 'id')) FROM generate_series(1, $1)",
              {static_cast<int64_t>(n)}, [&](const Row& r) { ids.push_back(r.Int(0)); }));
  if (ids.size() != n) return Internal("could not reserve bill ids");
  return ids;
}

std::string JoinSources(const std::vector<std::string>& sources) {
  std::string s;
  for (const auto& src : sources) {
    if (!s.empty()) s += '\n';
    s += src;
  }
  return s;
}

}  // namespace

namespace {

void AppendLineValues(int64_t bill_id, const std::vector<rating::BillLine>& lines,
                      store::Params* out) {
  int64_t line_no = 0;
  for (const auto& l : lines) {
    out->emplace_back(bill_id);
    out->emplace_back(++line_no);
    out->emplace_back(l.kind);
    out->emplace_back(l.rule);
    out->emplace_back(l.description);
    out->emplace_back(l.tariff_code);
    out->emplace_back(l.period_code);
    out->emplace_back(static_cast<int64_t>(l.tier));
    out->emplace_back(l.quantity.ToString());
    out->emplace_back(l.unit);
    out->emplace_back(l.unit_price.ToString());
    out->emplace_back(l.amount.fen());
    out->emplace_back(JoinSources(l.sources));
    out->emplace_back(l.tariff_version);
    out->emplace_back(l.share);
    out->emplace_back(static_cast<int64_t>(l.days));
    out->emplace_back(static_cast<int64_t>(l.days_base));
    out->emplace_back(l.from ? store::Value(l.from->ToString()) : store::Value());
    out->emplace_back(l.to ? store::Value(l.to->ToString()) : store::Value());
  }
}

}  // namespace

Status InsertLines(Connection& c, int64_t bill_id, const std::vector<rating::BillLine>& lines) {
  store::Params values;
  AppendLineValues(bill_id, lines, &values);
  return InsertRows(c, "bill_lines", kLineInsertCols, std::size(kLineInsertCols), values);
}

Status InsertBills(Connection& c, std::vector<NewBill>& bills) {
  if (bills.empty()) return Status::Ok();
  ASSIGN_OR_RETURN(auto ids, ReserveIds(c, bills.size()));
  constexpr size_t kBillCols = std::size(kBillInsertCols);
  constexpr size_t kLineCols = std::size(kLineInsertCols);
  store::Params bill_values;
  bill_values.reserve(bills.size() * kBillCols);
  size_t nlines = 0;
  for (const auto& nb : bills) nlines += nb.rated.lines.size();
  store::Params line_values;
  line_values.reserve(nlines * kLineCols);
  for (size_t i = 0; i < bills.size(); ++i) {
    Bill& b = bills[i].bill;
    b.id = ids[i];
    bill_values.emplace_back(b.id);
    bill_values.emplace_back(b.bill_no);
    bill_values.emplace_back(b.metering_point_id);
    bill_values.emplace_back(b.customer_id);
    bill_values.emplace_back(b.account_id);
    bill_values.emplace_back(b.department_id);
    bill_values.emplace_back(b.period.ToString());
    bill_values.emplace_back(b.seq);
    bill_values.emplace_back(b.status);
    bill_values.emplace_back(b.tariff_code);
    bill_values.emplace_back(b.tariff_version);
    bill_values.emplace_back(b.customer_category);
    bill_values.emplace_back(b.first_day.ToString());
    bill_values.emplace_back(b.last_day.ToString());
    bill_values.emplace_back(b.billed_kwh);
    bill_values.emplace_back(b.tier_kwh[0]);
    bill_values.emplace_back(b.tier_kwh[1]);
    bill_values.emplace_back(b.tier_kwh[2]);
    bill_values.emplace_back(b.tier_cumulative_after_kwh);
    bill_values.emplace_back(b.power_factor);
    bill_values.emplace_back(b.pf_adjust_rate);
    bill_values.emplace_back(b.pf_standard);
    bill_values.emplace_back(b.pf_base.fen());
    bill_values.emplace_back(b.energy_charge.fen());
    bill_values.emplace_back(b.basic_charge.fen());
    bill_values.emplace_back(b.pf_charge.fen());
    bill_values.emplace_back(b.fund_charge.fen());
    bill_values.emplace_back(b.total.fen());
    bill_values.emplace_back(b.run_id);
    bill_values.emplace_back(b.read_id);
    bill_values.emplace_back(b.read_source);
    bill_values.emplace_back(JoinFlags(b.review_flags));
    bill_values.emplace_back(b.detail_json);
    bill_values.emplace_back(b.replaces_bill_id);
    bill_values.emplace_back(b.created_by);
    bill_values.emplace_back(b.created_at_us);
    bill_values.emplace_back(b.updated_at_us);
    bill_values.emplace_back(b.version);
    AppendLineValues(b.id, bills[i].rated.lines, &line_values);
  }
  RETURN_IF_ERROR(InsertRows(c, "bills", kBillInsertCols, kBillCols, bill_values));
  return InsertRows(c, "bill_lines", kLineInsertCols, kLineCols, line_values);
}

// ---------------------------------------------------------------------------------------------
// Reading bills

const char* const kBillSelect =
    "SELECT b.id, b.bill_no, b.metering_point_id, mp.code, mp.name, b.customer_id, "
    "c.customer_no, c.name, c.address, b.account_id, b.department_id, b.period, b.seq, b.status, "
    "b.tariff_code, b.tariff_version, b.customer_category, b.first_day, b.last_day, "
    "b.billed_kwh, b.tier1_kwh, b.tier2_kwh, b.tier3_kwh, b.tier_cumulative_after_kwh, "
    "b.power_factor, b.pf_adjust_rate, b.energy_fen, b.basic_fen, b.pf_fen, b.fund_fen, "
    "b.total_fen, b.run_id, b.read_id, b.read_source, b.review_flags, b.review_note, "
    "b.detail_json, b.due_date, b.approved_by, b.approved_at_us, b.issued_by, b.issued_at_us, "
    "b.cancelled_by, b.cancelled_at_us, b.cancel_reason, b.replaces_bill_id, b.created_by, "
    "b.created_at_us, b.updated_at_us, b.version, c.account_manager_id, b.pf_standard, "
    "b.pf_base_fen "
    "FROM bills b JOIN metering_points mp ON mp.id = b.metering_point_id "
    "JOIN customers c ON c.id = b.customer_id";

namespace {

Date DateOr(std::string_view s) {
  auto d = Date::Parse(s);
  return d.ok() ? *d : Date{};
}

}  // namespace

Bill ReadBill(const Row& r) {
  Bill b;
  b.id = r.Int(0);
  b.bill_no = r.Text(1);
  b.metering_point_id = r.Int(2);
  b.metering_point_code = r.Text(3);
  b.metering_point_name = r.Text(4);
  b.customer_id = r.Int(5);
  b.customer_no = r.Text(6);
  b.customer_name = r.Text(7);
  b.customer_address = r.Text(8);
  b.account_id = r.OptInt(9);
  b.department_id = r.Int(10);
  auto ym = YearMonth::Parse(r.TextView(11));
  if (ym.ok()) b.period = *ym;
  b.seq = r.Int(12);
  b.status = r.Text(13);
  b.tariff_code = r.Text(14);
  b.tariff_version = r.Text(15);
  b.customer_category = r.Text(16);
  b.first_day = DateOr(r.TextView(17));
  b.last_day = DateOr(r.TextView(18));
  b.billed_kwh = r.Int(19);
  b.tier_kwh[0] = r.Int(20);
  b.tier_kwh[1] = r.Int(21);
  b.tier_kwh[2] = r.Int(22);
  b.tier_cumulative_after_kwh = r.Int(23);
  b.power_factor = r.OptText(24);
  b.pf_adjust_rate = r.OptText(25);
  b.energy_charge = Money::FromFen(r.Int(26));
  b.basic_charge = Money::FromFen(r.Int(27));
  b.pf_charge = Money::FromFen(r.Int(28));
  b.fund_charge = Money::FromFen(r.Int(29));
  b.total = Money::FromFen(r.Int(30));
  b.run_id = r.OptInt(31);
  b.read_id = r.Int(32);
  b.read_source = r.Text(33);
  b.review_flags = SplitFlags(r.TextView(34));
  b.review_note = r.Text(35);
  b.detail_json = r.Text(36);
  if (!r.IsNull(37)) b.due_date = DateOr(r.TextView(37));
  b.approved_by = r.OptInt(38);
  b.approved_at_us = r.OptInt(39);
  b.issued_by = r.OptInt(40);
  b.issued_at_us = r.OptInt(41);
  b.cancelled_by = r.OptInt(42);
  b.cancelled_at_us = r.OptInt(43);
  b.cancel_reason = r.OptText(44);
  b.replaces_bill_id = r.OptInt(45);
  b.created_by = r.OptInt(46);
  b.created_at_us = r.Int(47);
  b.updated_at_us = r.Int(48);
  b.version = r.Int(49);
  b.pf_standard = r.OptText(51);
  b.pf_base = Money::FromFen(r.Int(52));
  return b;
}

Result<std::optional<Bill>> LoadBill(Connection& c, int64_t id) {
  std::optional<Bill> b;
  RETURN_IF_ERROR(c.Query(std::string(kBillSelect) + " WHERE b.id = $1", {id},
                          [&](const Row& r) { b = ReadBill(r); }));
  return b;
}

Status LoadLines(Connection& c, Bill* bill) {
  bill->lines.clear();
  return c.Query(
      "SELECT kind, rule, description, tariff_code, period_code, tier, quantity, unit, "
      "unit_price, amount_fen, sources, tariff_version, share, days, days_base, from_day, "
      "to_day FROM bill_lines WHERE bill_id = $1 ORDER BY line_no",
      {bill->id}, [&](const Row& r) {
        rating::BillLine l;
        l.kind = r.Text(0);
        l.rule = r.Text(1);
        l.description = r.Text(2);
        l.tariff_code = r.Text(3);
        l.period_code = r.Text(4);
        l.tier = static_cast<int>(r.Int(5));
        auto q = Decimal::Parse(r.TextView(6));
        if (q.ok()) l.quantity = *q;
        l.unit = r.Text(7);
        auto p = Decimal::Parse(r.TextView(8));
        if (p.ok()) l.unit_price = *p;
        l.amount = Money::FromFen(r.Int(9));
        std::string_view src = r.TextView(10);
        size_t pos = 0;
        while (pos < src.size()) {
          size_t nl = src.find('\n', pos);
          if (nl == std::string_view::npos) nl = src.size();
          l.sources.emplace_back(src.substr(pos, nl - pos));
          pos = nl + 1;
        }
        l.tariff_version = r.Text(11);
        l.share = r.Text(12);
        l.days = static_cast<int>(r.Int(13));
        l.days_base = static_cast<int>(r.Int(14));
        if (!r.IsNull(15)) l.from = DateOr(r.TextView(15));
        if (!r.IsNull(16)) l.to = DateOr(r.TextView(16));
        bill->lines.push_back(std::move(l));
      });
}

// ---------------------------------------------------------------------------------------------
// JSON

json ToJson(const rating::BillLine& l) {
  return json{{"kind", l.kind},
              {"rule", l.rule},
              {"description", l.description},
              {"tariff_code", l.tariff_code},
              {"period_code", l.period_code},
              {"tier", l.tier},
              {"quantity", l.quantity.ToString()},
              {"unit", l.unit},
              {"unit_price", l.unit_price.ToString()},
              {"amount", l.amount.ToYuanString()},
              {"amount_fen", l.amount.fen()},
              {"sources", l.sources},
              {"tariff_version", l.tariff_version},
              {"share", l.share},
              {"days", l.days},
              {"days_base", l.days_base},
              {"from", l.from ? json(l.from->ToString()) : json(nullptr)},
              {"to", l.to ? json(l.to->ToString()) : json(nullptr)}};
}

json ToJson(const Bill& b, bool with_lines) {
  auto opt = [](const auto& v) { return v ? json(*v) : json(nullptr); };
  auto opt_time = [](const std::optional<int64_t>& t) {
    return t ? json(FormatUtc(*t)) : json(nullptr);
  };
  auto money = [](Money m) { return m.ToYuanString(); };
  json j = {{"id", b.id},
            {"bill_no", b.bill_no},
            {"metering_point_id", b.metering_point_id},
            {"metering_point_code", b.metering_point_code},
            {"metering_point_name", b.metering_point_name},
            {"customer_id", b.customer_id},
            {"customer_no", b.customer_no},
            {"customer_name", b.customer_name},
            {"account_id", opt(b.account_id)},
            {"department_id", b.department_id},
            {"period", b.period.ToString()},
            {"seq", b.seq},
            {"status", b.status},
            {"tariff_code", b.tariff_code},
            {"tariff_version", b.tariff_version},
            {"customer_category", b.customer_category},
            {"first_day", b.first_day.ToString()},
            {"last_day", b.last_day.ToString()},
            {"billed_kwh", b.billed_kwh},
            {"tier_kwh", {b.tier_kwh[0], b.tier_kwh[1], b.tier_kwh[2]}},
            {"tier_cumulative_after_kwh", b.tier_cumulative_after_kwh},
            {"power_factor", opt(b.power_factor)},
            {"pf_adjust_rate", opt(b.pf_adjust_rate)},
            {"pf_standard", opt(b.pf_standard)},
            {"pf_base", money(b.pf_base)},
            {"energy_charge", money(b.energy_charge)},
            {"basic_charge", money(b.basic_charge)},
            {"pf_charge", money(b.pf_charge)},
            {"fund_charge", money(b.fund_charge)},
            {"total", money(b.total)},
            {"total_fen", b.total.fen()},
            {"run_id", opt(b.run_id)},
            {"read_id", b.read_id},
            {"read_source", b.read_source},
            {"review_flags", b.review_flags},
            {"review_note", b.review_note},
            {"due_date", b.due_date ? json(b.due_date->ToString()) : json(nullptr)},
            {"approved_by", opt(b.approved_by)},
            {"approved_at", opt_time(b.approved_at_us)},
            {"issued_by", opt(b.issued_by)},
            {"issued_at", opt_time(b.issued_at_us)},
            {"cancelled_by", opt(b.cancelled_by)},
            {"cancelled_at", opt_time(b.cancelled_at_us)},
            {"cancel_reason", opt(b.cancel_reason)},
            {"replaces_bill_id", opt(b.replaces_bill_id)},
            {"created_at", FormatUtc(b.created_at_us)},
            {"updated_at", FormatUtc(b.updated_at_us)},
            {"version", b.version}};
  if (with_lines) {
    json lines = json::array();
    for (const auto& l : b.lines) lines.push_back(ToJson(l));
    j["lines"] = std::move(lines);
    json detail = json::parse(b.detail_json, nullptr, false);
    j["detail"] = detail.is_discarded() ? json(nullptr) : detail;
  }
  return j;
}

}  // namespace gridmis::billing
