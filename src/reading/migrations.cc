#include "reading/migrations.h"

namespace gridmis::reading {

namespace {

// Dates are yyyymmdd and periods yyyymm integers: compact keys that sort as dates.
constexpr std::string_view kReadsSql = R"sql(
CREATE TABLE reading_segments (         -- 抄表段
  {{PK}},
  code TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  department_id BIGINT NOT NULL REFERENCES departments(id),
  reading_day BIGINT NOT NULL,          -- 抄表例日, 1..28
  cycle TEXT NOT NULL DEFAULT 'monthly',  -- monthly, bimonthly
  read_months TEXT NOT NULL,            -- the months it reads, ",1,3,5,7,9,11," (bracketed for LIKE)
  reader_user_id BIGINT REFERENCES users(id),
  status TEXT NOT NULL DEFAULT 'active',  -- active, inactive
  version BIGINT NOT NULL DEFAULT 1,
  created_at_us BIGINT NOT NULL,
  updated_at_us BIGINT NOT NULL
);
CREATE INDEX reading_segments_department ON reading_segments (department_id);

CREATE TABLE reading_segment_points (   -- a metering point is in at most one segment
  metering_point_id BIGINT PRIMARY KEY REFERENCES metering_points(id),
  segment_id BIGINT NOT NULL REFERENCES reading_segments(id),
  added_at_us BIGINT NOT NULL
);
CREATE INDEX reading_segment_points_segment ON reading_segment_points (segment_id, metering_point_id);

CREATE TABLE reading_plans (            -- 抄表计划: a segment's reading of one period
  {{PK}},
  segment_id BIGINT NOT NULL REFERENCES reading_segments(id),
  period BIGINT NOT NULL,               -- yyyymm
  reading_date BIGINT NOT NULL,         -- yyyymmdd
  department_id BIGINT NOT NULL REFERENCES departments(id),
  reader_user_id BIGINT REFERENCES users(id),
  status TEXT NOT NULL DEFAULT 'planned',  -- planned, reading, reviewing, completed
  point_count BIGINT NOT NULL DEFAULT 0,
  read_count BIGINT NOT NULL DEFAULT 0,
  flagged_count BIGINT NOT NULL DEFAULT 0,
  approved_count BIGINT NOT NULL DEFAULT 0,
  estimated_count BIGINT NOT NULL DEFAULT 0,
  version BIGINT NOT NULL DEFAULT 1,
  created_at_us BIGINT NOT NULL,
  updated_at_us BIGINT NOT NULL,
  UNIQUE (segment_id, period)
);
CREATE INDEX reading_plans_period ON reading_plans (period, department_id);

CREATE TABLE reading_imports (          -- one imported file
  {{PK}},
  file_name TEXT NOT NULL,
  format TEXT NOT NULL,                 -- csv, xlsx
  charset TEXT NOT NULL,                -- utf-8, gbk (csv)
  line_count BIGINT NOT NULL,
  read_count BIGINT NOT NULL,
  department_id BIGINT REFERENCES departments(id),  -- the importer's; NULL for the system
  created_by BIGINT REFERENCES users(id),
  created_at_us BIGINT NOT NULL
);

CREATE TABLE meter_reads (              -- 抄表示数: one row per point, period and reading
  {{PK}},
  metering_point_id BIGINT NOT NULL REFERENCES metering_points(id),
  period BIGINT NOT NULL,               -- yyyymm (电费年月)
  plan_id BIGINT REFERENCES reading_plans(id),
  installation_id BIGINT NOT NULL REFERENCES meter_installations(id),  -- the meter read
  read_date BIGINT NOT NULL,            -- yyyymmdd: the registers at the end of that day
  -- Registers as the meter shows them, in 0.0001 kWh (kvarh; kW for max_demand); NULL = none.
  total_dwh BIGINT,
  sharp_dwh BIGINT,
  peak_dwh BIGINT,
  flat_dwh BIGINT,
  valley_dwh BIGINT,
  export_dwh BIGINT,
  reactive_import_dwh BIGINT,
  reactive_export_dwh BIGINT,
  max_demand_dwh BIGINT,
  multiplier BIGINT NOT NULL,           -- of the installation (or as the frozen row carried it)
  source TEXT NOT NULL,                 -- frozen, manual, import, estimate, correction
  status TEXT NOT NULL,                 -- pending, flagged, approved, superseded
  flags TEXT NOT NULL DEFAULT '',       -- the review rules that fired: "zero_use,meter_replaced"
  findings TEXT NOT NULL DEFAULT '[]',  -- JSON [{"rule","message"}]: why each rule fired
  rollover TEXT NOT NULL DEFAULT '',    -- registers accepted as rolled over
  billable BIGINT NOT NULL DEFAULT 0,   -- 1: the approved read of the point and period
  consumption_dwh BIGINT,               -- total energy x multiplier over the period (all meters)
  first_day BIGINT NOT NULL,            -- yyyymmdd: the period's first day for this point
  days BIGINT NOT NULL,
  corrected_from BIGINT REFERENCES meter_reads(id),
  import_id BIGINT REFERENCES reading_imports(id),
  note TEXT NOT NULL DEFAULT '',        -- a correction's reason, an estimate's basis
  entered_by BIGINT REFERENCES users(id),
  reviewed_by BIGINT REFERENCES users(id),
  reviewed_at_us BIGINT,
  version BIGINT NOT NULL DEFAULT 1,
  created_at_us BIGINT NOT NULL,
  updated_at_us BIGINT NOT NULL
);
-- The bill run's pages: approved reads of a period by point.
CREATE UNIQUE INDEX meter_reads_billable ON meter_reads (period, metering_point_id) WHERE billable = 1;
-- A point's approved reads by period: the previous read of a period.
CREATE INDEX meter_reads_point_billable ON meter_reads (metering_point_id, period) WHERE billable = 1;
-- One current (not superseded) read per point and period.
CREATE UNIQUE INDEX meter_reads_current ON meter_reads (metering_point_id, period)
  WHERE status <> 'superseded';
CREATE INDEX meter_reads_plan ON meter_reads (plan_id, status);
CREATE INDEX meter_reads_queue ON meter_reads (period, metering_point_id) WHERE status = 'flagged';
CREATE INDEX meter_reads_corrected_from ON meter_reads (corrected_from);

CREATE TABLE reading_review_rules (     -- thresholds of the review rules for a department and below
  department_id BIGINT PRIMARY KEY REFERENCES departments(id),
  above_last_month_pct BIGINT NOT NULL,
  below_last_month_pct BIGINT NOT NULL,
  above_last_year_pct BIGINT NOT NULL,
  below_last_year_pct BIGINT NOT NULL,
  min_compare_dwh BIGINT NOT NULL,
  tou_tolerance_dwh BIGINT NOT NULL,
  flag_zero_use BIGINT NOT NULL,
  estimate_method TEXT NOT NULL,        -- recent, last_year
  estimate_periods BIGINT NOT NULL,
  version BIGINT NOT NULL DEFAULT 1,
  updated_at_us BIGINT NOT NULL
)
)sql";

// 日冻结: keyed by day first, so the acquisition system's daily batch appends.
constexpr std::string_view kFrozenColumns = R"sql(
  day BIGINT NOT NULL,                  -- yyyymmdd: frozen at 00:00 of that day
  metering_point_id BIGINT NOT NULL REFERENCES metering_points(id),
  multiplier BIGINT NOT NULL,           -- the installed meter's multiplier that day
  total_dwh BIGINT,
  sharp_dwh BIGINT,
  peak_dwh BIGINT,
  flat_dwh BIGINT,
  valley_dwh BIGINT,
  export_dwh BIGINT,
  reactive_import_dwh BIGINT,
  reactive_export_dwh BIGINT,
  max_demand_dwh BIGINT,
  quality TEXT NOT NULL DEFAULT 'valid',  -- valid, estimated, edited
  PRIMARY KEY (day, metering_point_id)
)sql";

const std::string& FrozenSql(bool sqlite) {
  static const std::string kSqlite =
      "CREATE TABLE daily_frozen_reads (" + std::string(kFrozenColumns) + "\n) WITHOUT ROWID";
  static const std::string kPostgres =
      "CREATE TABLE daily_frozen_reads (" + std::string(kFrozenColumns) + "\n)";
  return sqlite ? kSqlite : kPostgres;
}

}  // namespace

const std::vector<store::Migration>& Migrations() {
  static const std::vector<store::Migration> kMigrations = {
      {"reading", 1, "reading segments, plans, meter reads, review rules", kReadsSql},
      {"reading", 2, "daily frozen reads", FrozenSql(true), FrozenSql(false)},
      // Collection must not overwrite a value a person edited: it looks for them by day.
      {"reading", 3, "an index of edited daily frozen reads",
       "CREATE INDEX daily_frozen_edited ON daily_frozen_reads (day, metering_point_id) "
       "WHERE quality = 'edited'"},
  };
  return kMigrations;
}

}  // namespace gridmis::reading
