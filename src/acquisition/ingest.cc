#include "acquisition/ingest.h"

#include <tuple>

#include <map>

#include <set>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "acquisition/migrations.h"
#include "acquisition/vee.h"

namespace gridmis::acquisition {

using nlohmann::json;
using store::Connection;
using store::Row;

// ---- Schema (acquisition migration 2) ----

namespace {

// No foreign keys to reading/ or accounts/ tables: acquisition migrates before them.
constexpr const char* kCollectionSchema = R"sql(
CREATE TABLE load_curves (              -- 负荷曲线: one row per point, day and quantity
  day BIGINT NOT NULL,                  -- yyyymmdd, the local day
  metering_point_id BIGINT NOT NULL REFERENCES metering_points(id),
  quantity TEXT NOT NULL,               -- fwd_active_energy
  interval_minutes BIGINT NOT NULL,     -- 15: 96 values
  multiplier BIGINT NOT NULL,           -- the installed meter's 倍率; values are the meter's
  values_dwh TEXT NOT NULL,             -- comma-separated 0.0001 kWh per interval, empty = missing
  quality TEXT NOT NULL,                -- one flag per value: V valid, S suspect, E estimated, D edited, M missing
  missing_count BIGINT NOT NULL,
  PRIMARY KEY (day, metering_point_id, quantity)
);

CREATE TABLE monthly_frozen_reads (     -- 月冻结: registers frozen at the end of the month (Td_m)
  month BIGINT NOT NULL,                -- yyyymm
  metering_point_id BIGINT NOT NULL REFERENCES metering_points(id),
  multiplier BIGINT NOT NULL,
  total_dwh BIGINT NOT NULL,
  sharp_dwh BIGINT,
  peak_dwh BIGINT,
  flat_dwh BIGINT,
  valley_dwh BIGINT,
  reading_time_us BIGINT,               -- the terminal's reading time
  quality TEXT NOT NULL DEFAULT 'valid',
  received_at_us BIGINT NOT NULL,
  PRIMARY KEY (month, metering_point_id)
);

CREATE TABLE meter_events (             -- 事件: AFN0E ERC records of terminals and meters
  {{PK}},
  dedup_key TEXT NOT NULL UNIQUE,       -- the same record read twice is stored once
  terminal_id BIGINT NOT NULL REFERENCES terminals(id),
  metering_point_id BIGINT REFERENCES metering_points(id),
  erc BIGINT NOT NULL,
  kind TEXT NOT NULL,                   -- power_off, power_on, remote_trip, clock_drift, ...
  meaning TEXT NOT NULL DEFAULT '',
  occurred_at_us BIGINT NOT NULL,
  ended_at_us BIGINT,
  detail_json TEXT NOT NULL DEFAULT '{}',
  received_at_us BIGINT NOT NULL
);
CREATE INDEX meter_events_terminal ON meter_events (terminal_id, occurred_at_us);
CREATE INDEX meter_events_point ON meter_events (metering_point_id, occurred_at_us);
CREATE INDEX meter_events_time ON meter_events (occurred_at_us);

CREATE TABLE terminal_status (          -- 在线状态, as the front end saw it
  terminal_id BIGINT PRIMARY KEY REFERENCES terminals(id),
  online BIGINT NOT NULL DEFAULT 0,
  peer TEXT NOT NULL DEFAULT '',
  login_at_us BIGINT,
  last_seen_us BIGINT,
  offline_at_us BIGINT,
  offline_reason TEXT NOT NULL DEFAULT '',
  logins BIGINT NOT NULL DEFAULT 0,
  event_counter BIGINT,                 -- EC1 up to which events were read
  updated_at_us BIGINT NOT NULL
);
CREATE INDEX terminal_status_online ON terminal_status (online);

CREATE TABLE collection_tasks (         -- 采集任务: what the scheduler submits and when
  {{PK}},
  name TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,                   -- daily_frozen, monthly_frozen, curve, events
  department_id BIGINT NOT NULL REFERENCES departments(id),  -- its terminals and below
  time_of_day TEXT NOT NULL,            -- HH:MM, local
  day_of_month BIGINT NOT NULL DEFAULT 1,  -- monthly_frozen: from this day of the month
  catch_up_days BIGINT NOT NULL DEFAULT 3,  -- earlier periods retried (months for monthly)
  enabled BIGINT NOT NULL DEFAULT 1,
  version BIGINT NOT NULL DEFAULT 1,
  created_at_us BIGINT NOT NULL,
  updated_at_us BIGINT NOT NULL
);

CREATE TABLE collection_task_runs (     -- what the scheduler submitted: once per task and key
  task_id BIGINT NOT NULL REFERENCES collection_tasks(id),
  run_key TEXT NOT NULL,                -- the local day it ran ("2027-01-15"), "2027-01" monthly
  job_id BIGINT NOT NULL,
  submitted_at_us BIGINT NOT NULL,
  PRIMARY KEY (task_id, run_key)
);

CREATE TABLE collection_results (       -- per terminal, kind and day: catch-up and 采集成功率
  day BIGINT NOT NULL,                  -- yyyymmdd: daily_frozen Td_d, curve its day, monthly the 1st, events the run day
  kind TEXT NOT NULL,                   -- daily_frozen, monthly_frozen, curve, events
  terminal_id BIGINT NOT NULL REFERENCES terminals(id),
  department_id BIGINT NOT NULL,        -- the terminal's when collected
  terminal_kind TEXT NOT NULL,
  expected_points BIGINT NOT NULL,      -- points behind the terminal with an installed meter
  collected_points BIGINT NOT NULL,
  billing_expected BIGINT NOT NULL,     -- of them, active billing points (the statistics)
  billing_collected BIGINT NOT NULL,
  missing_point_ids TEXT NOT NULL DEFAULT '',  -- metering points not collected, comma-separated
  missing_values BIGINT NOT NULL DEFAULT 0,
  attempts BIGINT NOT NULL,
  status TEXT NOT NULL,                 -- complete, partial, failed
  last_error TEXT NOT NULL DEFAULT '',
  job_id BIGINT,
  first_attempt_at_us BIGINT NOT NULL,
  last_attempt_at_us BIGINT NOT NULL,
  PRIMARY KEY (day, kind, terminal_id)
);
CREATE INDEX collection_results_terminal ON collection_results (terminal_id, kind, day);
CREATE INDEX collection_results_status ON collection_results (kind, status, day)
)sql";

}  // namespace

std::string_view CollectionSchemaSql(bool /*postgres*/) { return kCollectionSchema; }

// ---- Registry ----

const RegistryPoint* RegistryTerminal::FindPoint(uint16_t pn) const {
  auto it = std::lower_bound(points.begin(), points.end(), pn,
                             [](const RegistryPoint& p, uint16_t v) { return p.pn < v; });
  return it != points.end() && it->pn == pn ? &*it : nullptr;
}

const RegistryPoint* RegistryTerminal::FindMeteringPoint(int64_t metering_point_id) const {
  for (const auto& p : points) {
    if (p.metering_point_id == metering_point_id) return &p;
  }
  return nullptr;
}

std::optional<TerminalKey> KeyOf(std::string_view area_code, int64_t address) {
  if (area_code.size() != 4 || address < 1 || address > 65535) return std::nullopt;
  int area = 0;
  for (char ch : area_code) {
    if (ch < '0' || ch > '9') return std::nullopt;
    area = area * 10 + (ch - '0');
  }
  return TerminalKey{static_cast<uint16_t>(area), static_cast<uint16_t>(address)};
}

Result<std::string> Registry::Fingerprint(Connection& c) {
  std::string out;
  RETURN_IF_ERROR(c.Query(
      "SELECT (SELECT COUNT(*) FROM terminals), (SELECT MAX(updated_at_us) FROM terminals), "
      "(SELECT COUNT(*) FROM terminal_meters), (SELECT MAX(updated_at_us) FROM terminal_meters), "
      "(SELECT COUNT(*) FROM meter_installations), "
      "(SELECT MAX(updated_at_us) FROM meter_installations), "
      "(SELECT MAX(updated_at_us) FROM meters), (SELECT MAX(updated_at_us) FROM metering_points)",
      {}, [&](const Row& r) {
        for (int i = 0; i < r.size(); ++i) out += std::to_string(r.Int(i)) + "/";
      }));
  return out;
}

Result<std::shared_ptr<const Registry>> Registry::Load(Connection& c) {
  auto reg = std::make_shared<Registry>();
  ASSIGN_OR_RETURN(reg->fingerprint_, Fingerprint(c));
  RETURN_IF_ERROR(c.Query(
      "SELECT t.id, t.area_code, t.address, t.asset_no, t.kind, t.department_id, t.status, "
      "tm.point_no, tm.meter_id, mi.metering_point_id, COALESCE(mi.multiplier, m.multiplier), "
      "mp.purpose, mp.status FROM terminals t "
      "LEFT JOIN terminal_meters tm ON tm.terminal_id = t.id "
      "LEFT JOIN meters m ON m.id = tm.meter_id "
      "LEFT JOIN meter_installations mi ON mi.meter_id = tm.meter_id AND mi.removed_at_us IS NULL "
      "LEFT JOIN metering_points mp ON mp.id = mi.metering_point_id "
      "ORDER BY t.id, tm.point_no",
      {}, [&](const Row& r) {
        int64_t id = r.Int(0);
        if (reg->terminals_.empty() || reg->terminals_.back().id != id) {
          auto key = KeyOf(r.TextView(1), r.Int(2));
          if (!key) return;  // the registry never holds one (terminals.cc checks), but be safe
          RegistryTerminal t;
          t.id = id;
          t.key = *key;
          t.asset_no = r.Text(3);
          t.kind = r.Text(4);
          t.department_id = r.Int(5);
          t.installed = r.TextView(6) == "installed";
          reg->terminals_.push_back(std::move(t));
        }
        RegistryTerminal& t = reg->terminals_.back();
        if (r.IsNull(7)) return;  // no meters
        if (r.IsNull(9)) {
          ++t.unmapped_meters;
          return;
        }
        int64_t pn = r.Int(7);
        if (pn < 1 || pn > 2040) return;
        RegistryPoint p;
        p.pn = static_cast<uint16_t>(pn);
        p.meter_id = r.Int(8);
        p.metering_point_id = r.Int(9);
        p.multiplier = std::max<int64_t>(1, r.Int(10));
        p.billing = r.TextView(11) == "billing" && r.TextView(12) == "active";
        t.points.push_back(p);
      }));
  for (size_t i = 0; i < reg->terminals_.size(); ++i) {
    const auto& t = reg->terminals_[i];
    reg->by_key_[t.key.Packed()] = i;
    reg->by_id_[t.id] = i;
    reg->point_count_ += static_cast<int64_t>(t.points.size());
  }
  return std::shared_ptr<const Registry>(std::move(reg));
}

const RegistryTerminal* Registry::Find(TerminalKey k) const {
  auto it = by_key_.find(k.Packed());
  return it == by_key_.end() ? nullptr : &terminals_[it->second];
}

const RegistryTerminal* Registry::FindById(int64_t terminal_id) const {
  auto it = by_id_.find(terminal_id);
  return it == by_id_.end() ? nullptr : &terminals_[it->second];
}

// ---- Decoding ----

void DecodedData::Merge(DecodedData other) {
  daily.insert(daily.end(), std::make_move_iterator(other.daily.begin()),
               std::make_move_iterator(other.daily.end()));
  monthly.insert(monthly.end(), std::make_move_iterator(other.monthly.begin()),
                 std::make_move_iterator(other.monthly.end()));
  curves.insert(curves.end(), std::make_move_iterator(other.curves.begin()),
                std::make_move_iterator(other.curves.end()));
  collected.insert(other.collected.begin(), other.collected.end());
  missing_values += other.missing_values;
  missing_points += other.missing_points;
  unknown_points += other.unknown_points;
  other_period += other.other_period;
  errors.insert(errors.end(), std::make_move_iterator(other.errors.begin()),
                std::make_move_iterator(other.errors.end()));
}

namespace {

const char* const kRateNames[] = {"sharp", "peak", "flat", "valley"};

std::string ItemWhere(const gdw1376::Item& item) {
  return "pn " + std::to_string(item.pn) + " F" + std::to_string(item.fn);
}

// Calls fn(item) for each item of `fn_wanted` in AFN `afn` frames.
template <typename Fn>
void ForItems(const std::vector<gdw1376::Frame>& frames, uint8_t afn,
              std::initializer_list<uint16_t> fns, Fn fn) {
  for (const auto& f : frames) {
    if (f.afn != afn) continue;
    for (const auto& g : f.groups) {
      for (const auto& item : g.items) {
        if (std::find(fns.begin(), fns.end(), item.fn) != fns.end()) fn(item);
      }
    }
  }
}

// Registers of an indication (total + M rates): nullopt when the total is missing. Counts the
// missing rates.
std::optional<std::map<std::string, Energy>> RegistersOf(const gdw1376::Indication& v,
                                                         int64_t* missing_values) {
  if (v.values.empty() || !v.values[0]) {
    *missing_values += static_cast<int64_t>(v.values.empty() ? 1 : v.values.size());
    return std::nullopt;
  }
  std::map<std::string, Energy> regs;
  regs["total"] = *v.values[0];
  for (size_t i = 1; i < v.values.size(); ++i) {
    if (!v.values[i]) {
      ++*missing_values;
      continue;
    }
    // Rates 1..4 of M = 4 are 尖 峰 平 谷; other rate counts have no agreed names.
    if (v.rates == 4 && i <= 4) regs[kRateNames[i - 1]] = *v.values[i];
  }
  return regs;
}

}  // namespace

DecodedData DecodeDailyFrozen(const RegistryTerminal& t, const std::vector<gdw1376::Frame>& frames,
                              std::optional<Date> expect) {
  DecodedData out;
  ForItems(frames, gdw1376::kAfnClass2, {161}, [&](const gdw1376::Item& item) {
    const RegistryPoint* p = t.FindPoint(item.pn);
    if (!p) {
      ++out.unknown_points;
      return;
    }
    auto v = gdw1376::DecodeDailyIndication(item.data, true);
    if (!v.ok()) {
      out.errors.push_back(ItemWhere(item) + ": " + v.status().message());
      return;
    }
    if (expect && v->day != *expect) {
      ++out.other_period;
      return;
    }
    auto regs = RegistersOf(v->value, &out.missing_values);
    if (!regs) {
      ++out.missing_points;
      return;
    }
    reading::DailyFrozen row;
    row.metering_point_id = p->metering_point_id;
    row.day = v->day.AddDays(1);  // frozen at 24:00 of Td_d = 00:00 of the next day
    row.multiplier = p->multiplier;
    row.registers = std::move(*regs);
    out.daily.push_back(std::move(row));
    out.collected.insert(item.pn);
  });
  return out;
}

DecodedData DecodeMonthlyFrozen(const RegistryTerminal& t,
                                const std::vector<gdw1376::Frame>& frames,
                                std::optional<YearMonth> expect) {
  DecodedData out;
  ForItems(frames, gdw1376::kAfnClass2, {177}, [&](const gdw1376::Item& item) {
    const RegistryPoint* p = t.FindPoint(item.pn);
    if (!p) {
      ++out.unknown_points;
      return;
    }
    auto v = gdw1376::DecodeMonthlyIndication(item.data, true);
    if (!v.ok()) {
      out.errors.push_back(ItemWhere(item) + ": " + v.status().message());
      return;
    }
    if (expect && v->month != *expect) {
      ++out.other_period;
      return;
    }
    auto regs = RegistersOf(v->value, &out.missing_values);
    if (!regs) {
      ++out.missing_points;
      return;
    }
    MonthlyFrozen row;
    row.metering_point_id = p->metering_point_id;
    row.month = v->month;
    row.multiplier = p->multiplier;
    row.registers = std::move(*regs);
    out.monthly.push_back(std::move(row));
    out.collected.insert(item.pn);
  });
  return out;
}

DecodedData DecodeCurves(const RegistryTerminal& t, const std::vector<gdw1376::Frame>& frames,
                         std::optional<Date> expect) {
  DecodedData out;
  std::map<std::pair<uint16_t, int64_t>, Curve> acc;  // (pn, day) → curve
  ForItems(frames, gdw1376::kAfnClass2, {97, 101}, [&](const gdw1376::Item& item) {
    const RegistryPoint* p = t.FindPoint(item.pn);
    if (!p) {
      ++out.unknown_points;
      return;
    }
    auto v = gdw1376::DecodeCurve(item.fn, item.data);
    if (!v.ok()) {
      out.errors.push_back(ItemWhere(item) + ": " + v.status().message());
      return;
    }
    int step = v->interval_minutes;
    if (step <= 0 || 1440 % step != 0) {
      out.errors.push_back(ItemWhere(item) + ": curve density of " + std::to_string(step) +
                           " minutes does not divide a day");
      return;
    }
    Date start_day{v->start.year, v->start.month, v->start.day};
    if (start_day.month < 1 || start_day.month > 12 || start_day.day < 1 ||
        start_day.day > DaysInMonth(start_day.year, start_day.month) || v->start.hour > 23 ||
        v->start.minute > 59) {
      out.errors.push_back(ItemWhere(item) + ": curve start is not a valid time");
      return;
    }
    Date day = expect.value_or(start_day);
    // Minutes from 00:00 of `day` to the curve's first point.
    int64_t offset =
        (start_day.ToDays() - day.ToDays()) * 1440 + v->start.hour * 60 + v->start.minute;
    size_t n = static_cast<size_t>(1440 / step);
    auto [it, fresh] = acc.try_emplace({item.pn, DayKey(day)});
    Curve& k = it->second;
    if (fresh) {
      k.metering_point_id = p->metering_point_id;
      k.day = day;
      k.interval_minutes = step;
      k.multiplier = p->multiplier;
      k.values.assign(n, std::nullopt);
      k.quality.assign(n, 'M');
    } else if (k.interval_minutes != step) {
      out.errors.push_back(ItemWhere(item) + ": curve density differs between frames");
      return;
    }
    const auto& e = v->energy;
    auto put = [&](int64_t minute, std::optional<Energy> value) {
      if (minute < 0 || minute >= 1440 || minute % step != 0) return;
      size_t i = static_cast<size_t>(minute / step);
      if (!value) return;
      k.values[i] = value;
      k.quality[i] = value->dwh() < 0 ? 'S' : 'V';
    };
    if (item.fn == 101) {
      // Indications at start + j × step; interval j is the difference of points j and j + 1.
      for (size_t j = 0; j + 1 < e.size(); ++j) {
        std::optional<Energy> d;
        if (e[j] && e[j + 1]) d = *e[j + 1] - *e[j];
        put(offset + static_cast<int64_t>(j) * step, d);
      }
    } else {
      // Energy quantities: point j is the energy of the interval ending at start + j × step.
      for (size_t j = 0; j < e.size(); ++j) {
        put(offset + (static_cast<int64_t>(j) - 1) * step, e[j]);
      }
    }
  });
  for (auto& [key, k] : acc) {
    int64_t missing = std::count(k.quality.begin(), k.quality.end(), 'M');
    out.missing_values += missing;
    if (missing == static_cast<int64_t>(k.quality.size())) {
      ++out.missing_points;
      continue;
    }
    if (missing == 0) out.collected.insert(key.first);
    out.curves.push_back(std::move(k));
  }
  return out;
}

std::optional<int64_t> LocalMinuteToUs(const gdw1376::MinuteTime& t, const TimeZone& tz) {
  if (t.month < 1 || t.month > 12 || t.day < 1 || t.day > DaysInMonth(t.year, t.month) ||
      t.hour < 0 || t.hour > 23 || t.minute < 0 || t.minute > 59) {
    return std::nullopt;
  }
  return tz.StartOfDay(Date{t.year, t.month, t.day}) +
         (int64_t{t.hour} * 60 + t.minute) * kMicrosPerMinute;
}

namespace {

std::string Hex(const gdw1376::Bytes& b) {
  static const char* kDigits = "0123456789ABCDEF";
  std::string s;
  for (uint8_t v : b) {
    s += kDigits[v >> 4];
    s += kDigits[v & 15];
  }
  return s;
}

std::string MinuteText(const gdw1376::MinuteTime& t) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d", t.year, t.month, t.day, t.hour,
                t.minute);
  return buf;
}

}  // namespace

DecodedEvents DecodeEventReplies(const RegistryTerminal& t,
                                 const std::vector<gdw1376::Frame>& frames, const TimeZone& tz,
                                 int64_t received_at_us) {
  DecodedEvents out;
  ForItems(frames, gdw1376::kAfnClass3, {1, 2}, [&](const gdw1376::Item& item) {
    auto block = gdw1376::DecodeEvents(item.data);
    if (!block.ok()) {
      out.errors.push_back(ItemWhere(item) + ": " + block.status().message());
      return;
    }
    if (item.fn == 1) out.ec1 = block->ec1;
    for (const auto& rec : block->records) {
      MeterEvent e;
      e.terminal_id = t.id;
      e.erc = rec.erc;
      e.kind = EventKindOfErc(rec.erc);
      e.meaning = rec.meaning;
      if (rec.pn) {
        if (const RegistryPoint* p = t.FindPoint(*rec.pn))
          e.metering_point_id = p->metering_point_id;
      }
      std::optional<int64_t> at = rec.time ? LocalMinuteToUs(*rec.time, tz) : std::nullopt;
      std::optional<int64_t> end = rec.end_time ? LocalMinuteToUs(*rec.end_time, tz) : std::nullopt;
      json detail = {{"erc", rec.erc},
                     {"class", item.fn == 1 ? "important" : "normal"},
                     {"content", Hex(rec.content)}};
      if (rec.time) detail["time"] = MinuteText(*rec.time);
      if (rec.end_time) detail["end_time"] = MinuteText(*rec.end_time);
      if (rec.pn) detail["pn"] = *rec.pn;
      if (!rec.meaning.empty()) detail["meaning"] = rec.meaning;
      e.detail_json = detail.dump();
      e.occurred_at_us = at.value_or(received_at_us);
      e.received_at_us = received_at_us;
      if (rec.erc == 14) {
        // 停电/上电: the power-off at its time (ended when restored), the power-on at the end.
        if (at) {
          e.ended_at_us = end;
          out.events.push_back(e);
        }
        if (end) {
          MeterEvent on = e;
          on.kind = "power_on";
          on.occurred_at_us = *end;
          on.ended_at_us.reset();
          out.events.push_back(std::move(on));
        }
        if (!at && !end) out.events.push_back(e);
        continue;
      }
      e.ended_at_us = end;
      out.events.push_back(std::move(e));
    }
  });
  return out;
}

// ---- Ingestor ----

Ingestor::Ingestor(store::Database& db, const Clock& clock, const TimeZone& tz,
                   IngestorOptions options)
    : db_(db),
      clock_(clock),
      tz_(tz),
      options_(std::move(options)),
      alive_(std::make_shared<Alive>()) {
  alive_->self = this;
}

Ingestor::~Ingestor() {
  Stop();
  std::lock_guard<std::mutex> l(alive_->mu);
  alive_->self = nullptr;
}

Status Ingestor::Start() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (started_) return Status::Ok();
  }
  RETURN_IF_ERROR(RefreshRegistry(true));
  if (options_.mark_offline_on_start) {
    int64_t now = clock_.NowMicros();
    RETURN_IF_ERROR(db_.Write([&](Connection& c) {
      return MarkAllOffline(c, "master station restarted", now).status();
    }));
  }
  std::lock_guard<std::mutex> l(mu_);
  started_ = true;
  stopping_ = false;
  writer_ = std::thread([this] { WriterLoop(); });
  refresher_ = std::thread([this] { RefresherLoop(); });
  return Status::Ok();
}

void Ingestor::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!started_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  refresh_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  if (refresher_.joinable()) refresher_.join();
  std::lock_guard<std::mutex> l(mu_);
  started_ = false;
  done_cv_.notify_all();
}

void Ingestor::AttachFrontEnd(fep::FrontEnd* front_end) {
  std::lock_guard<std::mutex> l(mu_);
  front_end_ = front_end;
}

fep::FrontEnd* Ingestor::front_end() const {
  std::lock_guard<std::mutex> l(mu_);
  return front_end_;
}

Status Ingestor::RefreshRegistry(bool force) {
  std::lock_guard<std::mutex> serial(refresh_mu_);
  auto current = registry();
  if (!force && current) {
    ASSIGN_OR_RETURN(std::string fp, db_.ReadValue<std::string>(
                                         [](Connection& c) { return Registry::Fingerprint(c); }));
    if (fp == current->fingerprint()) return Status::Ok();
  }
  ASSIGN_OR_RETURN(auto fresh, db_.ReadValue<std::shared_ptr<const Registry>>(
                                   [](Connection& c) { return Registry::Load(c); }));
  {
    std::lock_guard<std::mutex> l(registry_mu_);
    registry_ = std::move(fresh);
  }
  std::lock_guard<std::mutex> l(mu_);
  ++stats_.registry_loads;
  return Status::Ok();
}

std::shared_ptr<const Registry> Ingestor::registry() const {
  std::lock_guard<std::mutex> l(registry_mu_);
  return registry_;
}

IngestorStats Ingestor::Stats() const {
  std::lock_guard<std::mutex> l(mu_);
  return stats_;
}

bool Ingestor::Flush(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> l(mu_);
  uint64_t target = enqueued_seq_;
  cv_.notify_all();
  return done_cv_.wait_for(l, timeout, [&] {
    return (written_seq_ >= target && pending_event_reads_ == 0) || !started_;
  }) && written_seq_ >= target;
}

namespace {

std::pair<int64_t, int64_t> DayKeyRange(const std::vector<Date>& days) {
  auto [lo, hi] = std::minmax_element(days.begin(), days.end());
  return {DayKey(*lo), DayKey(*hi)};
}

// Rows a person edited (quality edited) are kept: collection drops its value for them.
Status KeepEditedDaily(Connection& c, std::vector<reading::DailyFrozen>* rows) {
  std::vector<Date> days;
  for (const auto& r : *rows) days.push_back(r.day);
  auto [lo, hi] = DayKeyRange(days);
  std::set<std::pair<int64_t, int64_t>> edited;  // (day key, point)
  RETURN_IF_ERROR(
      c.Query("SELECT day, metering_point_id FROM daily_frozen_reads WHERE quality = 'edited' AND "
              "day BETWEEN $1 AND $2",
              {lo, hi}, [&](const store::Row& r) {
                edited.insert({r.Int(0), r.Int(1)});
              }));
  if (edited.empty()) return Status::Ok();
  std::erase_if(*rows, [&](const reading::DailyFrozen& r) {
    return edited.count({DayKey(r.day), r.metering_point_id}) > 0;
  });
  return Status::Ok();
}

// A new curve replaces the stored one interval by interval, except where a person edited the
// stored value (D) or the new one is missing and the stored one is not: those stay.
Status MergeWithStoredCurves(Connection& c, std::vector<Curve>* curves) {
  std::vector<Date> days;
  std::vector<int64_t> with_gaps;
  for (const auto& k : *curves) {
    days.push_back(k.day);
    if (k.quality.find(static_cast<char>(Quality::kMissing)) != std::string::npos) {
      with_gaps.push_back(k.metering_point_id);
    }
  }
  auto [lo, hi] = DayKeyRange(days);
  std::set<int64_t> edited_points;
  RETURN_IF_ERROR(
      c.Query("SELECT metering_point_id FROM load_curves WHERE quality LIKE '%D%' AND "
              "day BETWEEN $1 AND $2",
              {lo, hi}, [&](const store::Row& r) { edited_points.insert(r.Int(0)); }));
  std::vector<int64_t> ids = with_gaps;
  ids.insert(ids.end(), edited_points.begin(), edited_points.end());
  if (ids.empty()) return Status::Ok();
  std::map<std::tuple<int64_t, int64_t, std::string>, Curve> stored;
  Date first = *std::min_element(days.begin(), days.end());
  Date last = *std::max_element(days.begin(), days.end());
  std::set<std::string> quantities;
  for (const auto& k : *curves) quantities.insert(k.quantity);
  for (const std::string& q : quantities) {
    ASSIGN_OR_RETURN(std::vector<Curve> old, LoadCurves(c, ids, first, last, q));
    for (Curve& k : old) {
      stored.emplace(std::make_tuple(k.metering_point_id, DayKey(k.day), k.quantity), std::move(k));
    }
  }
  for (Curve& k : *curves) {
    auto it = stored.find(std::make_tuple(k.metering_point_id, DayKey(k.day), k.quantity));
    if (it == stored.end() || it->second.values.size() != k.values.size() ||
        it->second.interval_minutes != k.interval_minutes) {
      continue;
    }
    const Curve& old = it->second;
    for (size_t i = 0; i < k.values.size(); ++i) {
      char was = old.quality[i];
      bool keep = was == static_cast<char>(Quality::kEdited) ||
                  (k.quality[i] == static_cast<char>(Quality::kMissing) &&
                   was != static_cast<char>(Quality::kMissing));
      if (keep) {
        k.values[i] = old.values[i];
        k.quality[i] = was;
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Status Ingestor::StoreDecoded(Connection& c, const DecodedData& d) {
  if (!d.daily.empty()) {
    std::vector<reading::DailyFrozen> daily = d.daily;
    RETURN_IF_ERROR(KeepEditedDaily(c, &daily));
    if (!daily.empty()) {
      RETURN_IF_ERROR(reading::StoreDailyFrozen(c, daily));
      if (options_.vee) RETURN_IF_ERROR(options_.vee->CheckDailyFrozen(c, daily));
    }
  }
  if (!d.monthly.empty()) RETURN_IF_ERROR(StoreMonthlyFrozen(c, d.monthly, clock_.NowMicros()));
  if (!d.curves.empty()) {
    std::vector<Curve> curves = d.curves;
    RETURN_IF_ERROR(MergeWithStoredCurves(c, &curves));
    RETURN_IF_ERROR(StoreCurves(c, curves));
    if (options_.vee) RETURN_IF_ERROR(options_.vee->CheckCurves(c, curves));
  }
  return Status::Ok();
}

Status Ingestor::StoreClockReadings(Connection& c, const std::vector<vee::ClockReading>& readings) {
  if (!options_.vee || readings.empty()) return Status::Ok();
  return options_.vee->CheckClockReadings(c, readings);
}

// ---- Listener (I/O threads) ----

bool Ingestor::IsKnown(TerminalKey k) {
  auto reg = registry();
  const RegistryTerminal* t = reg ? reg->Find(k) : nullptr;
  if (t && t->installed) return true;
  std::lock_guard<std::mutex> l(mu_);
  ++stats_.unknown_terminals;
  // A terminal registered since the last load: check soon (rate-limited).
  int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::steady_clock::now().time_since_epoch())
                    .count();
  if (now - last_unknown_refresh_us_ >=
      std::chrono::duration_cast<std::chrono::microseconds>(options_.unknown_refresh).count()) {
    last_unknown_refresh_us_ = now;
    refresh_wanted_ = true;
    refresh_cv_.notify_all();
  }
  return false;
}

void Ingestor::OnOnline(TerminalKey k, const std::string& peer, int64_t at_us) {
  Work w{Work::Kind::kOnline, k};
  w.text = peer;
  w.at_us = at_us;
  Enqueue(std::move(w));
}

void Ingestor::OnOffline(TerminalKey k, const std::string& reason, int64_t at_us) {
  Work w{Work::Kind::kOffline, k};
  w.text = reason;
  w.at_us = at_us;
  Enqueue(std::move(w));
}

void Ingestor::OnReport(TerminalKey k, const gdw1376::Frame& f, int64_t at_us) {
  Work w{Work::Kind::kReport, k};
  w.at_us = at_us;
  w.frames.push_back(f);
  Enqueue(std::move(w));
}

void Ingestor::OnEventCounter(TerminalKey k, gdw1376::EventCounter ec, int64_t at_us) {
  Work w{Work::Kind::kEventCounter, k};
  w.ec = ec;
  w.at_us = at_us;
  Enqueue(std::move(w));
}

void Ingestor::Enqueue(Work w) {
  std::lock_guard<std::mutex> l(mu_);
  if (!started_ || (stopping_ && w.kind != Work::Kind::kEventReply)) {
    ++stats_.dropped;
    if (w.kind == Work::Kind::kEventReply && pending_event_reads_ > 0) --pending_event_reads_;
    done_cv_.notify_all();
    return;
  }
  // Event replies are never dropped: a read in flight must be accounted for.
  if (queue_.size() >= options_.max_queue && w.kind != Work::Kind::kEventReply) {
    ++stats_.dropped;
    return;
  }
  w.seq = ++enqueued_seq_;
  queue_.push_back(std::move(w));
  if (queue_.size() == 1) cv_.notify_all();
}

void Ingestor::NoteError(const Status& s) {
  spdlog::warn("acquisition ingest: {}", s.ToString());
  std::lock_guard<std::mutex> l(mu_);
  ++stats_.write_errors;
  stats_.last_error = s.ToString();
}

// ---- Writer and refresher threads ----

namespace {
// How long Stop() waits for event reads still in flight.
constexpr auto kStopGrace = std::chrono::seconds(5);
}  // namespace

void Ingestor::RefresherLoop() {
  std::unique_lock<std::mutex> l(mu_);
  while (!stopping_) {
    refresh_cv_.wait_for(l, options_.registry_refresh,
                         [&] { return stopping_ || refresh_wanted_; });
    if (stopping_) break;
    refresh_wanted_ = false;
    l.unlock();
    Status s = RefreshRegistry(false);
    if (!s.ok()) spdlog::warn("acquisition registry refresh: {}", s.ToString());
    l.lock();
  }
}

void Ingestor::WriterLoop() {
  using SteadyClock = std::chrono::steady_clock;
  auto last_seen_copy = SteadyClock::now();
  std::optional<SteadyClock::time_point> stop_seen;
  std::unique_lock<std::mutex> l(mu_);
  while (true) {
    // While stopping, event reads in flight still answer (or time out) into the queue; they
    // are waited for a few seconds at most.
    auto may_stop = [&] {
      if (!stopping_) return false;
      if (!stop_seen) stop_seen = SteadyClock::now();
      return pending_event_reads_ == 0 || SteadyClock::now() - *stop_seen > kStopGrace;
    };
    cv_.wait_for(l, options_.write_interval, [&] { return !queue_.empty() || may_stop(); });
    // Let a burst gather into one batch.
    if (!stopping_ && !queue_.empty() && queue_.size() < 1000) {
      cv_.wait_for(l, options_.write_interval / 4, [&] { return stopping_; });
    }
    bool stop = queue_.empty() && may_stop();
    std::vector<Work> batch(std::make_move_iterator(queue_.begin()),
                            std::make_move_iterator(queue_.end()));
    queue_.clear();
    fep::FrontEnd* fe = front_end_;
    const bool stopping = stopping_;
    l.unlock();
    if (fe && !stopping && SteadyClock::now() - last_seen_copy >= options_.last_seen_interval) {
      last_seen_copy = SteadyClock::now();
      for (const auto& st : fe->Online()) {
        Work w{Work::Kind::kSeen, st.key};
        w.at_us = st.last_seen_us;
        batch.push_back(std::move(w));
      }
    }
    if (!batch.empty()) ProcessBatch(std::move(batch));
    l.lock();
    if (stop) break;
  }
}

void Ingestor::StartEventRead(const RegistryTerminal& t, uint8_t from, uint8_t to) {
  fep::FrontEnd* fe = front_end();
  if (!fe) return;
  gdw1376::Group g;
  auto made = gdw1376::MakeGroup({0}, {1});
  if (!made.ok()) return;
  g = std::move(*made);
  g.items.push_back(gdw1376::Item{0, 1, {from, to}});
  gdw1376::Frame req =
      gdw1376::MakeRequest(gdw1376::Address{t.key, 0, false}, gdw1376::kAfnClass3, 0, {g});
  {
    std::lock_guard<std::mutex> l(mu_);
    ++pending_event_reads_;
    ++stats_.event_reads;
  }
  reading_events_.insert(t.id);
  std::shared_ptr<Alive> alive = alive_;
  TerminalKey key = t.key;
  fe->Request(key, std::move(req), options_.event_request, [alive, key, to](fep::RequestResult r) {
    std::lock_guard<std::mutex> l(alive->mu);
    if (!alive->self) return;
    Work w{Work::Kind::kEventReply, key};
    w.ok = r.status.ok();
    w.text = r.status.ok() ? "" : r.status.ToString();
    w.ec.important = to;
    w.frames = std::move(r.replies);
    w.at_us = alive->self->clock_.NowMicros();
    alive->self->Enqueue(std::move(w));
  });
}

void Ingestor::ProcessBatch(std::vector<Work> batch) {
  auto reg = registry();
  if (!reg) reg = std::make_shared<Registry>();
  int64_t now = clock_.NowMicros();
  std::vector<TerminalStatusChange> changes;
  DecodedData data;
  std::vector<MeterEvent> events;
  std::vector<std::pair<int64_t, int>> counters;  // terminal → EC1 read up to
  std::vector<std::pair<const RegistryTerminal*, gdw1376::EventCounter>> ec_changes;
  uint64_t reports = 0, replies = 0, read_failures = 0, unknown = 0;
  for (auto& w : batch) {
    const RegistryTerminal* t = reg->Find(w.key);
    if (w.kind == Work::Kind::kEventReply) {
      ++replies;
      if (t) reading_events_.erase(t->id);
    }
    if (!t) {
      ++unknown;
      continue;
    }
    switch (w.kind) {
      case Work::Kind::kOnline:
        changes.push_back({t->id, TerminalStatusChange::Kind::kOnline, w.text, "", w.at_us});
        break;
      case Work::Kind::kOffline:
        changes.push_back({t->id, TerminalStatusChange::Kind::kOffline, "", w.text, w.at_us});
        break;
      case Work::Kind::kSeen:
        changes.push_back({t->id, TerminalStatusChange::Kind::kSeen, "", "", w.at_us});
        break;
      case Work::Kind::kReport: {
        ++reports;
        changes.push_back({t->id, TerminalStatusChange::Kind::kSeen, "", "", w.at_us});
        const gdw1376::Frame& f = w.frames.front();
        if (f.afn == gdw1376::kAfnClass2) {
          data.Merge(DecodeDailyFrozen(*t, w.frames));
          data.Merge(DecodeMonthlyFrozen(*t, w.frames));
          data.Merge(DecodeCurves(*t, w.frames));
        } else if (f.afn == gdw1376::kAfnClass3) {
          auto ev = DecodeEventReplies(*t, w.frames, tz_, w.at_us);
          events.insert(events.end(), ev.events.begin(), ev.events.end());
        }
        break;
      }
      case Work::Kind::kEventCounter:
        ec_changes.push_back({t, w.ec});
        break;
      case Work::Kind::kEventReply: {
        if (!w.ok) {
          ++read_failures;
          spdlog::info("acquisition: reading the events of terminal {} failed: {}",
                       gdw1376::ToString(w.key), w.text);
          break;
        }
        auto ev = DecodeEventReplies(*t, w.frames, tz_, w.at_us);
        for (const auto& e : ev.errors) {
          spdlog::warn("acquisition: events of terminal {}: {}", gdw1376::ToString(w.key), e);
        }
        events.insert(events.end(), ev.events.begin(), ev.events.end());
        counters.push_back({t->id, w.ec.important});
        event_counter_[t->id] = w.ec.important;
        break;
      }
    }
  }
  for (const auto& e : data.errors) spdlog::warn("acquisition report: {}", e);

  // Event counters: read the records between what was read and the terminal's EC1.
  if (!ec_changes.empty()) {
    std::vector<int64_t> unknown_ids;
    for (const auto& [t, ec] : ec_changes) {
      if (!event_counter_.count(t->id)) unknown_ids.push_back(t->id);
    }
    if (!unknown_ids.empty()) {
      auto stored = db_.ReadValue<std::vector<TerminalStatus>>(
          [&](Connection& c) { return LoadTerminalStatus(c, unknown_ids); });
      if (stored.ok()) {
        for (const auto& s : *stored) {
          if (s.event_counter) event_counter_[s.terminal_id] = *s.event_counter;
        }
      }
      for (int64_t id : unknown_ids) event_counter_.try_emplace(id, 0);
    }
    for (const auto& [t, ec] : ec_changes) {
      int last = event_counter_[t->id];
      if (ec.important == last || reading_events_.count(t->id)) continue;
      StartEventRead(*t, static_cast<uint8_t>(last), ec.important);
    }
  }

  // One transaction; on failure each part again on its own, so one bad row loses only its part.
  auto write_status = [&](Connection& c) { return ApplyTerminalStatus(c, changes, now); };
  auto write_data = [&](Connection& c) { return StoreDecoded(c, data); };
  int64_t new_events = 0;
  auto write_events = [&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(new_events, InsertEvents(c, &events));
    for (const auto& [id, ec] : counters) RETURN_IF_ERROR(SaveEventCounter(c, id, ec, now));
    return Status::Ok();
  };
  Status all = db_.Write([&](Connection& c) -> Status {
    RETURN_IF_ERROR(write_status(c));
    RETURN_IF_ERROR(write_data(c));
    return write_events(c);
  });
  if (!all.ok()) {
    NoteError(all);
    Status s1 = db_.Write(write_status);
    if (!s1.ok()) NoteError(s1);
    Status s2 = db_.Write(write_data);
    if (!s2.ok()) NoteError(s2);
    Status s3 = db_.Write(write_events);
    if (!s3.ok()) NoteError(s3);
  }
  uint64_t last_seq = 0;
  for (const auto& w : batch) last_seq = std::max(last_seq, w.seq);
  std::lock_guard<std::mutex> l(mu_);
  stats_.status_changes += changes.size();
  stats_.unknown_terminals += unknown;
  stats_.reports += reports;
  stats_.report_rows += data.daily.size() + data.monthly.size() + data.curves.size();
  stats_.event_read_failures += read_failures;
  stats_.events_stored += static_cast<uint64_t>(new_events);
  stats_.write_batches += 1;
  pending_event_reads_ -= static_cast<int>(replies);
  if (pending_event_reads_ < 0) pending_event_reads_ = 0;
  written_seq_ = std::max(written_seq_, last_seq);
  done_cv_.notify_all();
}

}  // namespace gridmis::acquisition
