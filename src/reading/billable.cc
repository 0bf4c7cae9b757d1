#include "reading/billable.h"

#include <algorithm>
#include <set>

#include "grid/records.h"
#include "reading/internal.h"
#include "reading/review.h"

namespace gridmis::reading {

using store::Connection;
using store::Row;

namespace internal {

const std::vector<std::string>& RegisterColumns() {
  static const std::vector<std::string> kColumns = [] {
    std::vector<std::string> out;
    for (const auto& r : ReadRegisterNames()) out.push_back(r + "_dwh");
    return out;
  }();
  return kColumns;
}

std::string RegisterSelect(std::string_view alias) {
  std::string out;
  for (const auto& col : RegisterColumns()) {
    out += (out.empty() ? "" : ", ") + std::string(alias) + "." + col;
  }
  return out;
}

Registers ReadRegisterColumns(const Row& row, int at) {
  Registers out;
  const auto& names = ReadRegisterNames();
  for (size_t i = 0; i < names.size(); ++i) {
    int col = at + static_cast<int>(i);
    if (!row.IsNull(col)) out[names[i]] = Energy::FromDwh(row.Int(col));
  }
  return out;
}

void AppendRegisterParams(const Registers& regs, store::Params* params) {
  for (const auto& name : ReadRegisterNames()) {
    auto it = regs.find(name);
    params->push_back(it == regs.end() ? store::Value() : store::Value(it->second.dwh()));
  }
}

std::vector<std::string> SplitList(std::string_view s) {
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

std::string JoinList(const std::vector<std::string>& items) {
  std::string s;
  for (const auto& i : items) s += (s.empty() ? "" : ",") + i;
  return s;
}

Result<std::map<int64_t, std::vector<MeterInstall>>> LoadInstalls(
    Connection& c, const std::vector<int64_t>& point_ids) {
  std::map<int64_t, std::vector<MeterInstall>> out;
  if (point_ids.empty()) return out;
  std::map<int64_t, std::pair<int64_t, size_t>> where;  // installation -> (point, index)
  // Three single-table lookups by key (installations by point, their meters, their readings)
  // rather than one join: right after a bulk load, without statistics, PostgreSQL planned the
  // join as a hash of every meter, a full scan per page.
  RETURN_IF_ERROR(ForChunks(point_ids, 500, [&](const std::vector<int64_t>& ids) -> Status {
    std::vector<int64_t> inst_ids;
    struct Ref {
      int64_t point;
      size_t index;
      bool own_multiplier;  // the installation's multiplier, else the meter's
    };
    std::map<int64_t, std::vector<Ref>> by_meter;  // meter -> its installations
    RETURN_IF_ERROR(
        c.Query("SELECT mi.id, mi.metering_point_id, mi.installed_at_us, mi.removed_at_us, "
                "mi.install_reason, mi.multiplier, mi.meter_id FROM meter_installations mi WHERE " +
                    grid::InSql("mi.metering_point_id", ids) +
                    " ORDER BY mi.metering_point_id, mi.installed_at_us, mi.id",
                {}, [&](const Row& r) {
                  MeterInstall i;
                  i.id = r.Int(0);
                  i.installed_at_us = r.Int(2);
                  i.removed_at_us = r.OptInt(3);
                  i.install_reason = r.Text(4);
                  if (!r.IsNull(5)) i.multiplier = r.Int(5);
                  auto& list = out[r.Int(1)];
                  where[i.id] = {r.Int(1), list.size()};
                  by_meter[r.Int(6)].push_back({r.Int(1), list.size(), !r.IsNull(5)});
                  inst_ids.push_back(i.id);
                  list.push_back(std::move(i));
                }));
    if (inst_ids.empty()) return Status::Ok();
    std::vector<int64_t> meter_ids;
    for (const auto& [id, installs] : by_meter) meter_ids.push_back(id);
    RETURN_IF_ERROR(c.Query(
        "SELECT id, multiplier, asset_no, registers, register_integer_digits FROM meters WHERE " +
            grid::InSql("id", meter_ids),
        {}, [&](const Row& r) {
          for (const Ref& ref : by_meter[r.Int(0)]) {
            MeterInstall& i = out[ref.point][ref.index];
            if (!ref.own_multiplier) i.multiplier = r.Int(1);
            i.meter_asset_no = r.Text(2);
            i.registers = SplitList(r.TextView(3));
            i.register_integer_digits = static_cast<int>(r.Int(4));
          }
        }));
    return c.Query(
        "SELECT installation_id, event, register, value_dwh FROM installation_readings WHERE " +
            grid::InSql("installation_id", inst_ids),
        {}, [&](const Row& r) {
          auto w = where.find(r.Int(0));
          if (w == where.end()) return;
          MeterInstall& i = out[w->second.first][w->second.second];
          Registers& target = r.TextView(1) == "install" ? i.install_readings : i.remove_readings;
          target[r.Text(2)] = Energy::FromDwh(r.Int(3));
        });
  }));
  return out;
}

}  // namespace internal

namespace {

using internal::ReadRegisterColumns;
using internal::RegisterSelect;

struct PageRow {
  BillableRead read;
  int64_t installation_id = 0;
  Registers end;
  int64_t multiplier = 1;
  std::string asset_no;
  int digits = 0;
  std::optional<PastRead> previous;
};

std::string DepartmentCondition(const std::vector<int64_t>& depts) {
  return grid::InSql("mp.department_id", depts);
}

Status CheckQuery(const BillableQuery& q) {
  if (q.department_id <= 0) {
    return InvalidArgument("department_id is required", "department_id");
  }
  if (q.limit < 1 || q.limit > 10'000) {
    return InvalidArgument("limit must be from 1 to 10000", "limit");
  }
  if (q.period.month < 1 || q.period.month > 12) {
    return InvalidArgument("period " + q.period.ToString() + " is not a month", "period");
  }
  return Status::Ok();
}

// Daily total-register use from the frozen rows: complete only when every day's row is there
// and the first and last rows agree with the span's start and end.
void FillDailyTotals(Connection& c, std::vector<PageRow>& rows, Status* status) {
  std::vector<int64_t> points;
  Date lo{9999, 12, 31}, hi{1, 1, 1};
  for (auto& row : rows) {
    const auto& r = row.read;
    if (r.spans.size() != 1 || r.first_day > r.last_day) continue;
    if (r.last_day.ToDays() - r.first_day.ToDays() > 400) continue;
    points.push_back(r.metering_point_id);
    lo = std::min(lo, r.first_day);
    hi = std::max(hi, r.last_day.AddDays(1));
  }
  if (points.empty()) return;
  if (hi.ToDays() - lo.ToDays() > 800) hi = lo.AddDays(800);
  std::vector<int64_t> days;
  for (int64_t d = lo.ToDays(); d <= hi.ToDays(); ++d) days.push_back(DayKey(Date::FromDays(d)));
  // One range of point ids per day (the key leads with the day): the page's points are a
  // keyset range, so the rows between them are few besides theirs.
  std::sort(points.begin(), points.end());
  std::map<int64_t, std::map<int64_t, int64_t>> totals;  // point -> day key -> total dWh
  *status = c.Query(
      "SELECT metering_point_id, day, total_dwh FROM daily_frozen_reads WHERE " +
          grid::InSql("day", days) +
          " AND metering_point_id >= $1 AND metering_point_id <= $2 AND total_dwh IS NOT NULL",
      {points.front(), points.back()}, [&](const Row& r) {
        if (std::binary_search(points.begin(), points.end(), r.Int(0))) {
          totals[r.Int(0)][r.Int(1)] = r.Int(2);
        }
      });
  if (!status->ok()) return;
  for (auto& row : rows) {
    auto& r = row.read;
    if (r.spans.size() != 1) continue;
    const BillableSpan& s = r.spans[0];
    auto pt = totals.find(r.metering_point_id);
    if (pt == totals.end()) continue;
    auto start = s.start.find("total");
    auto end = s.end.find("total");
    if (start == s.start.end() || end == s.end.end()) continue;
    std::map<Date, Energy> daily;
    bool complete = true;
    for (Date d = r.first_day; d <= r.last_day && complete; d = d.AddDays(1)) {
      auto a = pt->second.find(DayKey(d));
      auto b = pt->second.find(DayKey(d.AddDays(1)));
      if (a == pt->second.end() || b == pt->second.end()) {
        complete = false;
        break;
      }
      if (d == r.first_day && a->second != start->second.dwh()) complete = false;
      if (d == r.last_day && b->second != end->second.dwh()) complete = false;
      auto diff = RegisterDifference(Energy::FromDwh(a->second), Energy::FromDwh(b->second),
                                     s.register_integer_digits, nullptr);
      if (!diff) {
        complete = false;
        break;
      }
      daily[d] = Energy::FromDwh(diff->dwh() * s.multiplier);
    }
    if (complete) r.daily_total = std::move(daily);
  }
}

}  // namespace

Result<std::vector<BillableRead>> LoadBillableReads(Connection& c, const BillableQuery& q) {
  RETURN_IF_ERROR(CheckQuery(q));
  ASSIGN_OR_RETURN(TimeZone zone, TimeZone::Load(q.time_zone));
  ASSIGN_OR_RETURN(std::vector<int64_t> depts, grid::DepartmentSubtree(c, q.department_id));
  if (depts.empty()) {
    return InvalidArgument("department " + std::to_string(q.department_id) + " does not exist",
                           "department_id");
  }
  store::Params params = {PeriodKey(q.period), q.after_point_id, int64_t{q.limit}};
  std::string segment_join;
  if (q.segment_id) {
    segment_join =
        " JOIN reading_segment_points sp ON sp.metering_point_id = r.metering_point_id AND "
        "sp.segment_id = $4 AND sp.metering_point_id > $2";
    params.push_back(*q.segment_id);
  }
  // The page: the approved reads with their meters, through the billable index on period and
  // point. The keyset bound is repeated on every table joined by point: PostgreSQL does not
  // carry an inequality across the join, and a merge join on metering_points otherwise scanned
  // the key from the first point on every page (quadratic over a bill run).
  std::string sql =
      "SELECT r.id, r.metering_point_id, r.read_date, r.source, r.installation_id, " +
      RegisterSelect("r") +
      ", COALESCE(mi.multiplier, m.multiplier), m.asset_no, m.register_integer_digits "
      "FROM meter_reads r JOIN metering_points mp ON mp.id = r.metering_point_id "
      "JOIN meter_installations mi ON mi.id = r.installation_id JOIN meters m ON m.id = "
      "mi.meter_id" +
      segment_join +
      " WHERE r.period = $1 AND r.billable = 1 AND r.metering_point_id > $2 AND mp.id > $2 AND "
      "mp.purpose = 'billing' AND " +
      DepartmentCondition(depts) + " ORDER BY r.metering_point_id LIMIT $3";
  std::vector<PageRow> rows;
  rows.reserve(static_cast<size_t>(q.limit));
  RETURN_IF_ERROR(c.Query(sql, params, [&](const Row& r) {
    PageRow row;
    row.read.read_id = r.Int(0);
    row.read.metering_point_id = r.Int(1);
    row.read.period = q.period;
    row.read.last_day = DayFromKey(r.Int(2));
    row.read.source = r.Text(3);
    row.read.estimated = row.read.source == "estimate";
    row.installation_id = r.Int(4);
    row.end = ReadRegisterColumns(r, 5);
    row.multiplier = r.Int(14);
    row.asset_no = r.Text(15);
    row.digits = static_cast<int>(r.Int(16));
    rows.push_back(std::move(row));
  }));
  if (rows.empty()) return std::vector<BillableRead>();

  // The previous approved read of each point: the latest of the two periods before (monthly and
  // bimonthly reading) in one range of the same index; the few points without one there (first
  // reads, gaps) by the point's index.
  std::map<int64_t, PastRead> previous;
  auto read_past = [&](const Row& r) {
    PastRead p;
    p.id = r.Int(0);
    p.period = PeriodFromKey(r.Int(2));
    p.read_date = DayFromKey(r.Int(3));
    p.installation_id = r.Int(4);
    p.registers = ReadRegisterColumns(r, 5);
    auto& slot = previous[r.Int(1)];
    if (slot.id == 0 || p.period > slot.period) slot = std::move(p);
  };
  const std::string past_select =
      "SELECT p.id, p.metering_point_id, p.period, p.read_date, p.installation_id, " +
      RegisterSelect("p") + " FROM meter_reads p WHERE p.billable = 1 AND ";
  RETURN_IF_ERROR(c.Query(past_select + "p.period IN ($1, $2) AND p.metering_point_id >= $3 AND "
                                        "p.metering_point_id <= $4",
                          {PeriodKey(AddMonths(q.period, -1)), PeriodKey(AddMonths(q.period, -2)),
                           rows.front().read.metering_point_id, rows.back().read.metering_point_id},
                          read_past));
  std::vector<int64_t> older;
  for (const auto& row : rows) {
    if (!previous.count(row.read.metering_point_id)) older.push_back(row.read.metering_point_id);
  }
  RETURN_IF_ERROR(internal::ForChunks(older, 500, [&](const std::vector<int64_t>& ids) {
    return c.Query(past_select + grid::InSql("p.metering_point_id", ids) +
                       " AND p.period = (SELECT MAX(x.period) FROM meter_reads x WHERE "
                       "x.metering_point_id = p.metering_point_id AND x.billable = 1 AND "
                       "x.period < $1)",
                   {PeriodKey(q.period)}, read_past);
  }));
  for (auto& row : rows) {
    auto it = previous.find(row.read.metering_point_id);
    if (it != previous.end()) row.previous = std::move(it->second);
  }

  // Same meter as the previous read: one span, no further query. Otherwise (a replacement, or
  // the point's first read) the installation history of those points.
  std::vector<int64_t> slow;
  for (auto& row : rows) {
    auto& r = row.read;
    std::string end_source = "read #" + std::to_string(r.read_id) + " " + r.last_day.ToString();
    if (row.previous && row.previous->installation_id == row.installation_id) {
      BillableSpan s;
      s.installation_id = row.installation_id;
      s.meter_asset_no = row.asset_no;
      s.multiplier = row.multiplier;
      s.register_integer_digits = row.digits;
      s.start = row.previous->registers;
      s.end = row.end;
      s.start_source =
          "read #" + std::to_string(row.previous->id) + " " + row.previous->read_date.ToString();
      s.end_source = std::move(end_source);
      r.first_day = row.previous->read_date.AddDays(1);
      r.spans.push_back(std::move(s));
    } else {
      slow.push_back(r.metering_point_id);
    }
  }
  if (!slow.empty()) {
    ASSIGN_OR_RETURN(auto installs, internal::LoadInstalls(c, slow));
    for (auto& row : rows) {
      auto& r = row.read;
      if (!r.spans.empty()) continue;
      std::string end_source = "read #" + std::to_string(r.read_id) + " " + r.last_day.ToString();
      auto spans =
          BuildSpans(installs[r.metering_point_id], row.previous ? &*row.previous : nullptr,
                     r.last_day, row.end, end_source, zone, &r.first_day);
      if (!spans.ok()) {
        return FailedPrecondition("metering point " + std::to_string(r.metering_point_id) +
                                  ", read #" + std::to_string(r.read_id) + ": " +
                                  spans.status().message());
      }
      r.spans = std::move(*spans);
    }
  }
  if (q.with_daily_total) {
    Status st;
    FillDailyTotals(c, rows, &st);
    RETURN_IF_ERROR(st);
  }
  std::vector<BillableRead> out;
  out.reserve(rows.size());
  for (auto& row : rows) out.push_back(std::move(row.read));
  return out;
}

Result<int64_t> CountUnbillable(Connection& c, const BillableQuery& q) {
  RETURN_IF_ERROR(CheckQuery(q));
  ASSIGN_OR_RETURN(std::vector<int64_t> depts, grid::DepartmentSubtree(c, q.department_id));
  if (depts.empty()) {
    return InvalidArgument("department " + std::to_string(q.department_id) + " does not exist",
                           "department_id");
  }
  // $1: the month pattern of segments that read in the period; $2: the segment, if any.
  store::Params params = {"%," + std::to_string(q.period.month) + ",%"};
  std::string segment_join;
  if (q.segment_id) {
    segment_join =
        " JOIN reading_segment_points sp ON sp.metering_point_id = mp.id AND sp.segment_id = $2";
    params.push_back(*q.segment_id);
  }
  // The points expected to be billed, less those with their approved read: two plain counts
  // (an anti-join planned without statistics, right after a bulk load, ran quadratic on
  // PostgreSQL).
  std::string expected =
      segment_join + " WHERE " + DepartmentCondition(depts) +
      " AND mp.status = 'active' AND mp.purpose = 'billing' AND NOT EXISTS (SELECT 1 FROM "
      "reading_segment_points s2 JOIN reading_segments s ON s.id = s2.segment_id WHERE "
      "s2.metering_point_id = mp.id AND s.read_months NOT LIKE $1)";
  ASSIGN_OR_RETURN(int64_t points,
                   c.QueryInt("SELECT COUNT(*) FROM metering_points mp" + expected, params));
  std::string period = "$" + std::to_string(params.size() + 1);
  params.push_back(PeriodKey(q.period));
  ASSIGN_OR_RETURN(int64_t billable,
                   c.QueryInt("SELECT COUNT(*) FROM meter_reads r JOIN metering_points mp ON "
                              "mp.id = r.metering_point_id" +
                                  expected + " AND r.period = " + period + " AND r.billable = 1",
                              params));
  return points - billable;
}

// ---- Daily frozen ----

namespace {

const std::initializer_list<std::string_view> kQualities = {"valid", "estimated", "edited"};

std::string FrozenWhere(const DailyFrozen& f) {
  return "daily frozen row of metering point " + std::to_string(f.metering_point_id) + " on " +
         f.day.ToString();
}

std::string UpsertSql(size_t rows) {
  std::string cols;
  for (const auto& col : internal::RegisterColumns()) cols += col + ", ";
  std::string sql = "INSERT INTO daily_frozen_reads (day, metering_point_id, multiplier, " + cols +
                    "quality) VALUES ";
  const size_t per_row = 3 + internal::RegisterColumns().size() + 1;
  for (size_t i = 0; i < rows; ++i) {
    sql += i ? ", (" : "(";
    for (size_t k = 0; k < per_row; ++k) {
      sql += (k ? ", $" : "$") + std::to_string(i * per_row + k + 1);
    }
    sql += ")";
  }
  sql += " ON CONFLICT (day, metering_point_id) DO UPDATE SET multiplier = excluded.multiplier, ";
  for (const auto& col : internal::RegisterColumns()) sql += col + " = excluded." + col + ", ";
  sql += "quality = excluded.quality";
  return sql;
}

}  // namespace

Status StoreDailyFrozen(Connection& c, const std::vector<DailyFrozen>& rows) {
  if (rows.empty()) return Status::Ok();
  // Later rows for the same point and day replace earlier ones.
  std::map<std::pair<int64_t, int64_t>, const DailyFrozen*> unique;
  std::set<int64_t> points;
  for (const auto& f : rows) {
    if (f.metering_point_id <= 0) {
      return InvalidArgument(FrozenWhere(f) + ": the metering point id must be positive",
                             "metering_point_id");
    }
    if (f.day.month < 1 || f.day.month > 12 || f.day.day < 1 ||
        f.day.day > DaysInMonth(f.day.year, f.day.month) || f.day.year < 1900 ||
        f.day.year > 9999) {
      return InvalidArgument(FrozenWhere(f) + ": not a valid day", "day");
    }
    if (f.multiplier < 1) {
      return InvalidArgument(FrozenWhere(f) + ": multiplier must be at least 1", "multiplier");
    }
    if (std::find(kQualities.begin(), kQualities.end(), f.quality) == kQualities.end()) {
      return InvalidArgument(FrozenWhere(f) + ": quality must be valid, estimated or edited",
                             "quality");
    }
    if (f.registers.empty()) {
      return InvalidArgument(FrozenWhere(f) + ": no registers", "registers");
    }
    for (const auto& [reg, value] : f.registers) {
      if (!IsKnownRegister(reg)) {
        return InvalidArgument(FrozenWhere(f) + ": unknown register '" + reg.substr(0, 40) + "'",
                               "registers." + reg.substr(0, 40));
      }
      if (value.dwh() < 0) {
        return InvalidArgument(FrozenWhere(f) + ": register " + reg + " is negative",
                               "registers." + reg);
      }
    }
    unique[{DayKey(f.day), f.metering_point_id}] = &f;
    points.insert(f.metering_point_id);
  }
  std::vector<int64_t> ids(points.begin(), points.end());
  std::set<int64_t> found;
  RETURN_IF_ERROR(internal::ForChunks(ids, 500, [&](const std::vector<int64_t>& chunk) {
    return c.Query("SELECT id FROM metering_points WHERE " + grid::InSql("id", chunk), {},
                   [&](const Row& r) { found.insert(r.Int(0)); });
  }));
  for (const auto& [key, f] : unique) {
    if (!found.count(f->metering_point_id)) {
      return InvalidArgument(FrozenWhere(*f) + ": metering point " +
                                 std::to_string(f->metering_point_id) + " does not exist",
                             "metering_point_id");
    }
  }
  constexpr size_t kBatch = 100;
  std::unique_ptr<store::Statement> batch;
  store::Params params;
  size_t in_batch = 0;
  auto add = [&](const DailyFrozen& f) {
    params.push_back(DayKey(f.day));
    params.push_back(f.metering_point_id);
    params.push_back(f.multiplier);
    internal::AppendRegisterParams(f.registers, &params);
    params.push_back(f.quality);
    ++in_batch;
  };
  for (const auto& [key, f] : unique) {
    add(*f);
    if (in_batch == kBatch) {
      if (!batch) {
        ASSIGN_OR_RETURN(batch, c.Prepare(UpsertSql(kBatch)));
      }
      RETURN_IF_ERROR(batch->Run(params).status());
      params.clear();
      in_batch = 0;
    }
  }
  if (in_batch > 0) {
    ASSIGN_OR_RETURN(auto rest, c.Prepare(UpsertSql(in_batch)));
    RETURN_IF_ERROR(rest->Run(params).status());
  }
  return Status::Ok();
}

Result<std::vector<DailyFrozen>> LoadDailyFrozen(Connection& c,
                                                 const std::vector<int64_t>& point_ids,
                                                 Date first_day, Date last_day) {
  std::vector<DailyFrozen> out;
  if (point_ids.empty() || first_day > last_day) return out;
  if (last_day.ToDays() - first_day.ToDays() > 731) {
    return InvalidArgument("at most two years of daily frozen rows at a time", "last_day");
  }
  std::vector<int64_t> days;
  for (int64_t d = first_day.ToDays(); d <= last_day.ToDays(); ++d) {
    days.push_back(DayKey(Date::FromDays(d)));
  }
  std::vector<int64_t> ids = point_ids;
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  RETURN_IF_ERROR(internal::ForChunks(ids, 500, [&](const std::vector<int64_t>& chunk) {
    return c.Query("SELECT metering_point_id, day, multiplier, quality, " + RegisterSelect("f") +
                       " FROM daily_frozen_reads f WHERE " + grid::InSql("f.day", days) + " AND " +
                       grid::InSql("f.metering_point_id", chunk) +
                       " ORDER BY f.metering_point_id, f.day",
                   {}, [&](const Row& r) {
                     DailyFrozen f;
                     f.metering_point_id = r.Int(0);
                     f.day = DayFromKey(r.Int(1));
                     f.multiplier = r.Int(2);
                     f.quality = r.Text(3);
                     f.registers = ReadRegisterColumns(r, 4);
                     out.push_back(std::move(f));
                   });
  }));
  return out;
}

}  // namespace gridmis::reading
