#include "acquisition/readings.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string_view>
#include <tuple>

#include "grid/records.h"

namespace gridmis::acquisition {

using store::Connection;
using store::Params;
using store::Row;

const char* QualityName(Quality q) {
  switch (q) {
    case Quality::kValid:
      return "valid";
    case Quality::kSuspect:
      return "suspect";
    case Quality::kEstimated:
      return "estimated";
    case Quality::kEdited:
      return "edited";
    case Quality::kMissing:
      return "missing";
  }
  return "missing";
}

std::optional<Quality> QualityFromChar(char c) {
  switch (c) {
    case 'V':
      return Quality::kValid;
    case 'S':
      return Quality::kSuspect;
    case 'E':
      return Quality::kEstimated;
    case 'D':
      return Quality::kEdited;
    case 'M':
      return Quality::kMissing;
    default:
      return std::nullopt;
  }
}

int64_t DayKey(Date d) { return int64_t{d.year} * 10000 + d.month * 100 + d.day; }
Date DayFromKey(int64_t key) {
  return Date{static_cast<int>(key / 10000), static_cast<int>(key / 100 % 100),
              static_cast<int>(key % 100)};
}

bool IsKnownCurveQuantity(std::string_view quantity) { return quantity == "fwd_active_energy"; }

namespace {

constexpr size_t kChunk = 500;

bool ValidDay(Date d) {
  return d.year >= 1900 && d.year <= 9999 && d.month >= 1 && d.month <= 12 && d.day >= 1 &&
         d.day <= DaysInMonth(d.year, d.month);
}

template <typename Fn>
Status ForChunks(const std::vector<int64_t>& ids, Fn fn) {
  for (size_t i = 0; i < ids.size(); i += kChunk) {
    std::vector<int64_t> chunk(
        ids.begin() + static_cast<std::ptrdiff_t>(i),
        ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), i + kChunk)));
    RETURN_IF_ERROR(fn(chunk));
  }
  return Status::Ok();
}

// The ids among `ids` that are metering points.
Result<std::set<int64_t>> ExistingPoints(Connection& c, const std::set<int64_t>& ids) {
  std::vector<int64_t> list(ids.begin(), ids.end());
  std::set<int64_t> found;
  RETURN_IF_ERROR(ForChunks(list, [&](const std::vector<int64_t>& chunk) {
    return c.Query("SELECT id FROM metering_points WHERE " + grid::InSql("id", chunk), {},
                   [&](const Row& r) { found.insert(r.Int(0)); });
  }));
  return found;
}

// "($1, $2, ...), (...)" for `rows` rows of `cols` parameters.
std::string ValuesSql(size_t rows, size_t cols) {
  std::string sql;
  for (size_t i = 0; i < rows; ++i) {
    sql += i ? ", (" : "(";
    for (size_t k = 0; k < cols; ++k) {
      sql += (k ? ", $" : "$") + std::to_string(i * cols + k + 1);
    }
    sql += ")";
  }
  return sql;
}

// Runs multi-row statements of up to `batch` rows: `sql_for(n)` is the statement for n rows,
// `add(i, params)` appends row i's parameters.
template <typename AddFn>
Status RunBatched(Connection& c, size_t count, size_t batch,
                  const std::function<std::string(size_t)>& sql_for, AddFn add) {
  std::unique_ptr<store::Statement> full;
  Params params;
  size_t in_batch = 0;
  for (size_t i = 0; i < count; ++i) {
    add(i, &params);
    if (++in_batch == batch) {
      if (!full) {
        ASSIGN_OR_RETURN(full, c.Prepare(sql_for(batch)));
      }
      RETURN_IF_ERROR(full->Run(params).status());
      params.clear();
      in_batch = 0;
    }
  }
  if (in_batch > 0) {
    ASSIGN_OR_RETURN(auto rest, c.Prepare(sql_for(in_batch)));
    RETURN_IF_ERROR(rest->Run(params).status());
  }
  return Status::Ok();
}

std::string CurveWhere(const Curve& k) {
  return "curve of metering point " + std::to_string(k.metering_point_id) + " on " +
         (ValidDay(k.day) ? k.day.ToString() : std::string("an invalid day"));
}

Status CheckCurve(const Curve& k) {
  if (k.metering_point_id <= 0) {
    return InvalidArgument(CurveWhere(k) + ": the metering point id must be positive",
                           "metering_point_id");
  }
  if (!ValidDay(k.day)) return InvalidArgument(CurveWhere(k) + ": not a valid day", "day");
  if (!IsKnownCurveQuantity(k.quantity)) {
    return InvalidArgument(CurveWhere(k) + ": unknown quantity '" + k.quantity.substr(0, 40) + "'",
                           "quantity");
  }
  if (k.interval_minutes != 1 && k.interval_minutes != 5 && k.interval_minutes != 15 &&
      k.interval_minutes != 30 && k.interval_minutes != 60) {
    return InvalidArgument(CurveWhere(k) + ": interval must be 1, 5, 15, 30 or 60 minutes",
                           "interval_minutes");
  }
  if (k.multiplier < 1) {
    return InvalidArgument(CurveWhere(k) + ": multiplier must be at least 1", "multiplier");
  }
  size_t n = static_cast<size_t>(1440 / k.interval_minutes);
  if (k.values.size() != n) {
    return InvalidArgument(CurveWhere(k) + ": " + std::to_string(k.values.size()) +
                               " values, a day of " + std::to_string(k.interval_minutes) +
                               "-minute intervals has " + std::to_string(n),
                           "values");
  }
  if (k.quality.size() != n) {
    return InvalidArgument(CurveWhere(k) + ": " + std::to_string(k.quality.size()) +
                               " quality flags for " + std::to_string(n) + " values",
                           "quality");
  }
  for (size_t i = 0; i < n; ++i) {
    auto q = QualityFromChar(k.quality[i]);
    std::string at = CurveWhere(k) + ", value " + std::to_string(i);
    if (!q) return InvalidArgument(at + ": unknown quality flag", "quality");
    if ((*q == Quality::kMissing) != !k.values[i].has_value()) {
      return InvalidArgument(
          at + (k.values[i] ? ": a value flagged missing" : ": no value but not flagged missing"),
          "quality");
    }
    if (k.values[i] && k.values[i]->dwh() < 0 && *q != Quality::kSuspect) {
      return InvalidArgument(at + ": negative energy must be flagged suspect", "values");
    }
  }
  return Status::Ok();
}

std::string PackValues(const std::vector<std::optional<Energy>>& values) {
  std::string s;
  s.reserve(values.size() * 7);
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) s += ',';
    if (values[i]) s += std::to_string(values[i]->dwh());
  }
  return s;
}

Result<std::vector<std::optional<Energy>>> UnpackValues(std::string_view s, size_t n) {
  std::vector<std::optional<Energy>> out;
  out.reserve(n);
  size_t pos = 0;
  while (true) {
    size_t comma = s.find(',', pos);
    std::string_view item = s.substr(pos, comma == std::string_view::npos ? s.npos : comma - pos);
    if (item.empty()) {
      out.emplace_back();
    } else {
      int64_t v = 0;
      bool neg = item[0] == '-';
      if (neg) item.remove_prefix(1);
      if (item.empty() || item.size() > 18) return Internal("stored curve value malformed");
      for (char ch : item) {
        if (ch < '0' || ch > '9') return Internal("stored curve value malformed");
        v = v * 10 + (ch - '0');
      }
      out.push_back(Energy::FromDwh(neg ? -v : v));
    }
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  if (out.size() != n)
    return Internal("stored curve has " + std::to_string(out.size()) + " values");
  return out;
}

std::vector<int64_t> DayKeys(Date first, Date last) {
  std::vector<int64_t> keys;
  for (int64_t d = first.ToDays(); d <= last.ToDays(); ++d)
    keys.push_back(DayKey(Date::FromDays(d)));
  return keys;
}

// "day IN (...)" with the keys inlined (integers).
std::string InKeys(std::string_view column, const std::vector<int64_t>& keys) {
  return grid::InSql(column, keys);
}

}  // namespace

Status StoreCurves(Connection& c, const std::vector<Curve>& curves) {
  if (curves.empty()) return Status::Ok();
  std::map<std::tuple<int64_t, int64_t, std::string>, const Curve*> unique;
  std::set<int64_t> points;
  for (const auto& k : curves) {
    RETURN_IF_ERROR(CheckCurve(k));
    unique[{DayKey(k.day), k.metering_point_id, k.quantity}] = &k;
    points.insert(k.metering_point_id);
  }
  ASSIGN_OR_RETURN(auto found, ExistingPoints(c, points));
  for (const auto& [key, k] : unique) {
    if (!found.count(k->metering_point_id)) {
      return InvalidArgument(CurveWhere(*k) + ": metering point " +
                                 std::to_string(k->metering_point_id) + " does not exist",
                             "metering_point_id");
    }
  }
  std::vector<const Curve*> rows;
  for (const auto& [key, k] : unique) rows.push_back(k);
  constexpr size_t kCols = 8;
  auto sql_for = [](size_t n) {
    return "INSERT INTO load_curves (day, metering_point_id, quantity, interval_minutes, "
           "multiplier, values_dwh, quality, missing_count) VALUES " +
           ValuesSql(n, kCols) +
           " ON CONFLICT (day, metering_point_id, quantity) DO UPDATE SET interval_minutes = "
           "excluded.interval_minutes, multiplier = excluded.multiplier, values_dwh = "
           "excluded.values_dwh, quality = excluded.quality, missing_count = "
           "excluded.missing_count";
  };
  return RunBatched(c, rows.size(), 50, sql_for, [&](size_t i, Params* p) {
    const Curve& k = *rows[i];
    int64_t missing = std::count(k.quality.begin(), k.quality.end(), 'M');
    p->push_back(DayKey(k.day));
    p->push_back(k.metering_point_id);
    p->push_back(k.quantity);
    p->push_back(int64_t{k.interval_minutes});
    p->push_back(k.multiplier);
    p->push_back(PackValues(k.values));
    p->push_back(k.quality);
    p->push_back(missing);
  });
}

Result<std::vector<Curve>> LoadCurves(Connection& c, const std::vector<int64_t>& point_ids,
                                      Date first_day, Date last_day, const std::string& quantity) {
  if (!ValidDay(first_day) || !ValidDay(last_day) || last_day < first_day) {
    return InvalidArgument("curves: the first day must be a valid day on or before the last",
                           "from");
  }
  if (last_day.ToDays() - first_day.ToDays() >= 366) {
    return InvalidArgument("curves: at most 366 days at a time", "to");
  }
  std::vector<Curve> out;
  if (point_ids.empty()) return out;
  std::vector<int64_t> ids = point_ids;
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::vector<int64_t> days = DayKeys(first_day, last_day);
  Status bad;
  // The key leads with the day: one probe per (day, point) through both IN lists.
  RETURN_IF_ERROR(ForChunks(ids, [&](const std::vector<int64_t>& chunk) {
    return c.Query(
        "SELECT metering_point_id, day, quantity, interval_minutes, multiplier, values_dwh, "
        "quality FROM load_curves WHERE " +
            InKeys("day", days) + " AND " + grid::InSql("metering_point_id", chunk) +
            " AND quantity = $1",
        {quantity}, [&](const Row& r) {
          Curve k;
          k.metering_point_id = r.Int(0);
          k.day = DayFromKey(r.Int(1));
          k.quantity = r.Text(2);
          k.interval_minutes = static_cast<int>(r.Int(3));
          k.multiplier = r.Int(4);
          k.quality = r.Text(6);
          auto values = UnpackValues(r.TextView(5), k.quality.size());
          if (!values.ok()) {
            if (bad.ok()) bad = values.status();
            return;
          }
          k.values = std::move(*values);
          out.push_back(std::move(k));
        });
  }));
  RETURN_IF_ERROR(bad);
  std::sort(out.begin(), out.end(), [](const Curve& a, const Curve& b) {
    return std::tie(a.metering_point_id, a.day) < std::tie(b.metering_point_id, b.day);
  });
  return out;
}

// ---- Monthly frozen ----

namespace {

const std::vector<std::string> kMonthlyRegisters = {"total", "sharp", "peak", "flat", "valley"};

int64_t MonthKey(YearMonth m) { return int64_t{m.year} * 100 + m.month; }

std::string MonthlyWhere(const MonthlyFrozen& f) {
  return "monthly frozen of metering point " + std::to_string(f.metering_point_id) + " for " +
         f.month.ToString();
}

}  // namespace

Status StoreMonthlyFrozen(Connection& c, const std::vector<MonthlyFrozen>& rows, int64_t now_us) {
  if (rows.empty()) return Status::Ok();
  std::map<std::pair<int64_t, int64_t>, const MonthlyFrozen*> unique;
  std::set<int64_t> points;
  for (const auto& f : rows) {
    if (f.metering_point_id <= 0) {
      return InvalidArgument(MonthlyWhere(f) + ": the metering point id must be positive",
                             "metering_point_id");
    }
    if (f.month.month < 1 || f.month.month > 12 || f.month.year < 1900 || f.month.year > 9999) {
      return InvalidArgument(MonthlyWhere(f) + ": not a valid month", "month");
    }
    if (f.multiplier < 1) {
      return InvalidArgument(MonthlyWhere(f) + ": multiplier must be at least 1", "multiplier");
    }
    if (f.quality != "valid" && f.quality != "estimated" && f.quality != "edited") {
      return InvalidArgument(MonthlyWhere(f) + ": quality must be valid, estimated or edited",
                             "quality");
    }
    if (!f.registers.count("total")) {
      return InvalidArgument(MonthlyWhere(f) + ": no total register", "registers.total");
    }
    for (const auto& [reg, value] : f.registers) {
      if (std::find(kMonthlyRegisters.begin(), kMonthlyRegisters.end(), reg) ==
          kMonthlyRegisters.end()) {
        return InvalidArgument(MonthlyWhere(f) + ": unknown register '" + reg.substr(0, 40) + "'",
                               "registers." + reg.substr(0, 40));
      }
      if (value.dwh() < 0) {
        return InvalidArgument(MonthlyWhere(f) + ": register " + reg + " is negative",
                               "registers." + reg);
      }
    }
    unique[{MonthKey(f.month), f.metering_point_id}] = &f;
    points.insert(f.metering_point_id);
  }
  ASSIGN_OR_RETURN(auto found, ExistingPoints(c, points));
  for (const auto& [key, f] : unique) {
    if (!found.count(f->metering_point_id)) {
      return InvalidArgument(MonthlyWhere(*f) + ": metering point " +
                                 std::to_string(f->metering_point_id) + " does not exist",
                             "metering_point_id");
    }
  }
  std::vector<const MonthlyFrozen*> list;
  for (const auto& [key, f] : unique) list.push_back(f);
  constexpr size_t kCols = 11;
  auto sql_for = [](size_t n) {
    return "INSERT INTO monthly_frozen_reads (month, metering_point_id, multiplier, total_dwh, "
           "sharp_dwh, peak_dwh, flat_dwh, valley_dwh, reading_time_us, quality, "
           "received_at_us) VALUES " +
           ValuesSql(n, kCols) +
           " ON CONFLICT (month, metering_point_id) DO UPDATE SET multiplier = "
           "excluded.multiplier, total_dwh = excluded.total_dwh, sharp_dwh = excluded.sharp_dwh, "
           "peak_dwh = excluded.peak_dwh, flat_dwh = excluded.flat_dwh, valley_dwh = "
           "excluded.valley_dwh, reading_time_us = excluded.reading_time_us, quality = "
           "excluded.quality, received_at_us = excluded.received_at_us";
  };
  return RunBatched(c, list.size(), 100, sql_for, [&](size_t i, Params* p) {
    const MonthlyFrozen& f = *list[i];
    p->push_back(MonthKey(f.month));
    p->push_back(f.metering_point_id);
    p->push_back(f.multiplier);
    for (const auto& reg : kMonthlyRegisters) {
      auto it = f.registers.find(reg);
      p->push_back(it == f.registers.end() ? store::Value() : store::Value(it->second.dwh()));
    }
    p->push_back(f.reading_time_us);
    p->push_back(f.quality);
    p->push_back(now_us);
  });
}

Result<std::vector<MonthlyFrozen>> LoadMonthlyFrozen(Connection& c,
                                                     const std::vector<int64_t>& point_ids,
                                                     YearMonth first, YearMonth last) {
  if (last < first) return InvalidArgument("the first month is after the last", "from");
  std::vector<int64_t> months;
  for (YearMonth m = first; m <= last && months.size() <= 240; m = m.Next()) {
    months.push_back(MonthKey(m));
  }
  if (months.size() > 240) return InvalidArgument("at most 240 months at a time", "to");
  std::vector<MonthlyFrozen> out;
  std::vector<int64_t> ids = point_ids;
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  RETURN_IF_ERROR(ForChunks(ids, [&](const std::vector<int64_t>& chunk) {
    return c.Query(
        "SELECT metering_point_id, month, multiplier, total_dwh, sharp_dwh, peak_dwh, flat_dwh, "
        "valley_dwh, reading_time_us, quality FROM monthly_frozen_reads WHERE " +
            grid::InSql("month", months) + " AND " + grid::InSql("metering_point_id", chunk),
        {}, [&](const Row& r) {
          MonthlyFrozen f;
          f.metering_point_id = r.Int(0);
          f.month = YearMonth{static_cast<int>(r.Int(1) / 100), static_cast<int>(r.Int(1) % 100)};
          f.multiplier = r.Int(2);
          for (size_t i = 0; i < kMonthlyRegisters.size(); ++i) {
            if (!r.IsNull(3 + static_cast<int>(i))) {
              f.registers[kMonthlyRegisters[i]] = Energy::FromDwh(r.Int(3 + static_cast<int>(i)));
            }
          }
          f.reading_time_us = r.OptInt(8);
          f.quality = r.Text(9);
          out.push_back(std::move(f));
        });
  }));
  std::sort(out.begin(), out.end(), [](const MonthlyFrozen& a, const MonthlyFrozen& b) {
    return std::tie(a.metering_point_id, a.month) < std::tie(b.metering_point_id, b.month);
  });
  return out;
}

// ---- Events ----

std::string EventKindOfErc(int erc) {
  switch (erc) {
    case 1:
      return "terminal_init";
    case 2:
      return "parameter_loss";
    case 3:
      return "parameter_change";
    case 4:
      return "state_change";
    case 5:
      return "remote_trip";
    case 6:
      return "power_control_trip";
    case 7:
      return "energy_control_trip";
    case 8:
      return "meter_parameter_change";
    case 9:
      return "current_circuit_fault";
    case 10:
      return "voltage_circuit_fault";
    case 11:
      return "phase_sequence_fault";
    case 12:
      return "clock_drift";
    case 13:
      return "meter_fault";
    case 14:
      return "power_off";
    case 20:
      return "authentication_error";
    case 21:
      return "terminal_fault";
    case 31:
      return "meter_read_failure";
    case 32:
      return "traffic_over_limit";
    case 33:
      return "meter_status_change";
    case 34:
      return "ct_fault";
    case 35:
      return "unknown_meter";
    case 37:
      return "cover_open";
    case 38:
      return "terminal_cover_open";
    default:
      return "erc_" + std::to_string(erc);
  }
}

namespace {

// FNV-1a, 64 bits: the dedup key of an event (not security relevant).
uint64_t Fnv1a(std::string_view s, uint64_t h = 1469598103934665603ull) {
  for (unsigned char ch : s) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  return h;
}

// The identity of an event record: terminal, ERC, kind, time, point and content. A power-off
// (ERC14) is first reported without its restoration time and again with it: its identity leaves
// the content out, and the second report completes the first.
std::string EventKey(const MeterEvent& e) {
  std::string basis = std::to_string(e.terminal_id) + "|" + std::to_string(e.erc) + "|" + e.kind +
                      "|" + std::to_string(e.occurred_at_us) + "|" +
                      std::to_string(e.metering_point_id.value_or(0));
  if (e.erc != 14) basis += "|" + e.detail_json;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(Fnv1a(basis)));
  return std::to_string(e.terminal_id) + ":" + std::to_string(e.occurred_at_us) + ":" + hex;
}

MeterEvent ReadEvent(const Row& r) {
  MeterEvent e;
  e.id = r.Int(0);
  e.terminal_id = r.Int(1);
  e.metering_point_id = r.OptInt(2);
  e.erc = static_cast<int>(r.Int(3));
  e.kind = r.Text(4);
  e.meaning = r.Text(5);
  e.occurred_at_us = r.Int(6);
  e.ended_at_us = r.OptInt(7);
  e.detail_json = r.Text(8);
  e.received_at_us = r.Int(9);
  return e;
}

constexpr const char* kEventSelect =
    "SELECT e.id, e.terminal_id, e.metering_point_id, e.erc, e.kind, e.meaning, e.occurred_at_us, "
    "e.ended_at_us, e.detail_json, e.received_at_us FROM meter_events e";

}  // namespace

Result<int64_t> InsertEvents(Connection& c, std::vector<MeterEvent>* events) {
  int64_t added = 0;
  for (auto& e : *events) {
    e.id = 0;
    if (e.terminal_id <= 0) return InvalidArgument("event: no terminal", "terminal_id");
    if (e.kind.empty() || e.kind.size() > 40) {
      return InvalidArgument(
          "event of terminal " + std::to_string(e.terminal_id) + ": kind must be 1..40 characters",
          "kind");
    }
    std::string key = EventKey(e);
    std::optional<int64_t> stored_id;
    bool stored_open = false;
    RETURN_IF_ERROR(c.Query("SELECT id, ended_at_us FROM meter_events WHERE dedup_key = $1", {key},
                            [&](const Row& r) {
                              stored_id = r.Int(0);
                              stored_open = r.IsNull(1);
                            }));
    if (stored_id) {
      // Known: a later report may only add the end (power restored).
      if (stored_open && e.ended_at_us) {
        RETURN_IF_ERROR(c.Exec("UPDATE meter_events SET ended_at_us = $1, detail_json = $2 "
                               "WHERE id = $3",
                               {*e.ended_at_us, e.detail_json, *stored_id})
                            .status());
      }
      continue;
    }
    ASSIGN_OR_RETURN(
        e.id, c.InsertReturningId(
                  "INSERT INTO meter_events (dedup_key, terminal_id, metering_point_id, erc, kind, "
                  "meaning, occurred_at_us, ended_at_us, detail_json, received_at_us) VALUES ($1, "
                  "$2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                  {key, e.terminal_id, e.metering_point_id, int64_t{e.erc}, e.kind,
                   e.meaning.substr(0, 200), e.occurred_at_us, e.ended_at_us, e.detail_json,
                   e.received_at_us}));
    ++added;
  }
  return added;
}

Result<std::vector<MeterEvent>> QueryEvents(Connection& c, const EventQuery& q, int64_t* total) {
  grid::SqlWhere w;
  if (q.departments) {
    w.And("e.terminal_id IN (SELECT t.id FROM terminals t WHERE " +
          grid::InSql("t.department_id", *q.departments) + ")");
  }
  if (q.terminal_id) w.And("e.terminal_id = " + w.Bind(*q.terminal_id));
  if (q.metering_point_id) w.And("e.metering_point_id = " + w.Bind(*q.metering_point_id));
  if (!q.kind.empty()) w.And("e.kind = " + w.Bind(q.kind));
  if (q.from_us) w.And("e.occurred_at_us >= " + w.Bind(*q.from_us));
  if (q.to_us) w.And("e.occurred_at_us < " + w.Bind(*q.to_us));
  if (total) {
    ASSIGN_OR_RETURN(
        *total, c.QueryInt("SELECT COUNT(*) FROM meter_events e WHERE " + w.sql(), w.params()));
  }
  std::vector<MeterEvent> out;
  std::string sql = std::string(kEventSelect) + " WHERE " + w.sql() +
                    " ORDER BY e.occurred_at_us DESC, e.id DESC " +
                    w.LimitOffset(q.page, q.page_size);
  RETURN_IF_ERROR(c.Query(sql, w.params(), [&](const Row& r) { out.push_back(ReadEvent(r)); }));
  return out;
}

// ---- Terminal status ----

namespace {

constexpr const char* kStatusSelect =
    "SELECT terminal_id, online, peer, login_at_us, last_seen_us, offline_at_us, "
    "offline_reason, logins, event_counter, updated_at_us FROM terminal_status";

TerminalStatus ReadStatus(const Row& r) {
  TerminalStatus s;
  s.terminal_id = r.Int(0);
  s.online = r.Bool(1);
  s.peer = r.Text(2);
  s.login_at_us = r.OptInt(3);
  s.last_seen_us = r.OptInt(4);
  s.offline_at_us = r.OptInt(5);
  s.offline_reason = r.Text(6);
  s.logins = r.Int(7);
  if (!r.IsNull(8)) s.event_counter = static_cast<int>(r.Int(8));
  s.updated_at_us = r.Int(9);
  return s;
}

Status UpsertStatus(Connection& c, const std::vector<TerminalStatus>& rows) {
  constexpr size_t kCols = 10;
  auto sql_for = [](size_t n) {
    return "INSERT INTO terminal_status (terminal_id, online, peer, login_at_us, last_seen_us, "
           "offline_at_us, offline_reason, logins, event_counter, updated_at_us) VALUES " +
           ValuesSql(n, kCols) +
           " ON CONFLICT (terminal_id) DO UPDATE SET online = excluded.online, peer = "
           "excluded.peer, login_at_us = excluded.login_at_us, last_seen_us = "
           "excluded.last_seen_us, offline_at_us = excluded.offline_at_us, offline_reason = "
           "excluded.offline_reason, logins = excluded.logins, event_counter = "
           "excluded.event_counter, updated_at_us = excluded.updated_at_us";
  };
  return RunBatched(c, rows.size(), 100, sql_for, [&](size_t i, Params* p) {
    const TerminalStatus& s = rows[i];
    p->push_back(s.terminal_id);
    p->push_back(s.online);
    p->push_back(s.peer);
    p->push_back(s.login_at_us);
    p->push_back(s.last_seen_us);
    p->push_back(s.offline_at_us);
    p->push_back(s.offline_reason);
    p->push_back(s.logins);
    p->push_back(s.event_counter ? store::Value(int64_t{*s.event_counter}) : store::Value());
    p->push_back(s.updated_at_us);
  });
}

}  // namespace

Result<std::vector<TerminalStatus>> LoadTerminalStatus(Connection& c,
                                                       const std::vector<int64_t>& terminal_ids) {
  std::vector<int64_t> ids = terminal_ids;
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::vector<TerminalStatus> out;
  RETURN_IF_ERROR(ForChunks(ids, [&](const std::vector<int64_t>& chunk) {
    return c.Query(std::string(kStatusSelect) + " WHERE " + grid::InSql("terminal_id", chunk), {},
                   [&](const Row& r) { out.push_back(ReadStatus(r)); });
  }));
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.terminal_id < b.terminal_id; });
  return out;
}

Status ApplyTerminalStatus(Connection& c, const std::vector<TerminalStatusChange>& changes,
                           int64_t now_us) {
  if (changes.empty()) return Status::Ok();
  std::set<int64_t> ids;
  for (const auto& ch : changes) ids.insert(ch.terminal_id);
  std::vector<int64_t> list(ids.begin(), ids.end());
  std::set<int64_t> known;
  RETURN_IF_ERROR(ForChunks(list, [&](const std::vector<int64_t>& chunk) {
    return c.Query("SELECT id FROM terminals WHERE " + grid::InSql("id", chunk), {},
                   [&](const Row& r) { known.insert(r.Int(0)); });
  }));
  for (int64_t id : ids) {
    if (!known.count(id)) {
      return InvalidArgument("terminal status: terminal " + std::to_string(id) + " does not exist",
                             "terminal_id");
    }
  }
  ASSIGN_OR_RETURN(auto stored, LoadTerminalStatus(c, list));
  std::map<int64_t, TerminalStatus> state;
  for (auto& s : stored) state[s.terminal_id] = std::move(s);
  for (const auto& ch : changes) {
    TerminalStatus& s = state[ch.terminal_id];
    s.terminal_id = ch.terminal_id;
    switch (ch.kind) {
      case TerminalStatusChange::Kind::kOnline:
        s.online = true;
        s.peer = ch.peer;
        s.login_at_us = ch.at_us;
        s.last_seen_us = std::max(s.last_seen_us.value_or(0), ch.at_us);
        s.logins += 1;
        break;
      case TerminalStatusChange::Kind::kOffline:
        // A replaced connection may report its end after the new login.
        if (s.login_at_us && ch.at_us < *s.login_at_us) break;
        s.online = false;
        s.offline_at_us = ch.at_us;
        s.offline_reason = ch.reason.substr(0, 200);
        break;
      case TerminalStatusChange::Kind::kSeen:
        s.last_seen_us = std::max(s.last_seen_us.value_or(0), ch.at_us);
        // A frame after the last offline: the front end holds the terminal.
        if (!s.offline_at_us || ch.at_us > *s.offline_at_us) s.online = true;
        break;
    }
    s.updated_at_us = now_us;
  }
  std::vector<TerminalStatus> rows;
  for (auto& [id, s] : state) rows.push_back(std::move(s));
  return UpsertStatus(c, rows);
}

Result<int64_t> MarkAllOffline(Connection& c, const std::string& reason, int64_t at_us) {
  return c.Exec(
      "UPDATE terminal_status SET online = 0, offline_at_us = $1, offline_reason = $2, "
      "updated_at_us = $1 WHERE online = 1",
      {at_us, reason});
}

Status SaveEventCounter(Connection& c, int64_t terminal_id, int event_counter, int64_t now_us) {
  return c
      .Exec(
          "INSERT INTO terminal_status (terminal_id, online, event_counter, updated_at_us) VALUES "
          "($1, 0, $2, $3) ON CONFLICT (terminal_id) DO UPDATE SET event_counter = "
          "excluded.event_counter, updated_at_us = excluded.updated_at_us",
          {terminal_id, int64_t{event_counter}, now_us})
      .status();
}

}  // namespace gridmis::acquisition
