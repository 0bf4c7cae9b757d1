#include "billing/migrations.h"

#include <string>

namespace gridmis::billing {

namespace {

// Tables shared by both engines; bill_lines differs (WITHOUT ROWID on SQLite).
constexpr std::string_view kTables = R"sql(
CREATE TABLE billing_parameters (       -- 计费参数 of a metering point (its own fields stay there)
  metering_point_id BIGINT PRIMARY KEY REFERENCES metering_points(id),
  basic_mode TEXT NOT NULL DEFAULT 'none',  -- none, capacity, declared_demand, actual_demand
  declared_demand_kw BIGINT,            -- 合同最大需量 for declared_demand
  -- Transformer on the customer's side of a low-side metered supply (高供低计); NULL = none.
  tx_method TEXT,                       -- formula or table
  tx_rated_kva BIGINT,
  tx_no_load_loss_kw TEXT,              -- decimals as text: P0, Pk, I0%, Uk%, K
  tx_load_loss_kw TEXT,
  tx_no_load_current_pct TEXT,
  tx_impedance_voltage_pct TEXT,
  tx_correction TEXT,
  tx_loss_table TEXT,                   -- table method: the catalogue's loss table
  tx_shift_load_kwh BIGINT,
  line_loss_rate TEXT,                  -- 协议线损率, e.g. 0.02
  sub_allocations_json TEXT NOT NULL DEFAULT '[]',  -- 定比/定量: [{tariff_code, ratio|fixed_kwh, label}]
  suspensions_json TEXT NOT NULL DEFAULT '[]',      -- 暂停: [{first, last}] days
  household_multiplier BIGINT NOT NULL DEFAULT 1,   -- 一户多人口
  free_allowance_kwh BIGINT NOT NULL DEFAULT 0,     -- 低保/五保 kWh per month
  service_start TEXT,                   -- YYYY-MM-DD connection (新装) day
  service_end TEXT,                     -- YYYY-MM-DD termination (销户) day
  version BIGINT NOT NULL DEFAULT 1,
  created_at_us BIGINT NOT NULL,
  updated_at_us BIGINT NOT NULL
);

CREATE TABLE bill_runs (                -- 电费核算批次: one job of kind bill_run
  {{PK}},
  job_id BIGINT NOT NULL REFERENCES jobs(id),
  department_id BIGINT NOT NULL REFERENCES departments(id),  -- that department and below
  segment_id BIGINT,                    -- a reading segment (抄表段), or all
  period TEXT NOT NULL,                 -- YYYY-MM 电费年月
  change_threshold_pct BIGINT NOT NULL, -- review when the total moves more than this
  bills BIGINT NOT NULL DEFAULT 0,      -- summary, written when the run ends
  total_fen BIGINT NOT NULL DEFAULT 0,
  exceptions BIGINT NOT NULL DEFAULT 0,
  unbillable BIGINT NOT NULL DEFAULT 0,
  review BIGINT NOT NULL DEFAULT 0,
  skipped BIGINT NOT NULL DEFAULT 0,    -- points that already had a bill for the period
  elapsed_ms BIGINT NOT NULL DEFAULT 0,
  started_by BIGINT REFERENCES users(id),
  started_by_name TEXT NOT NULL,
  created_at_us BIGINT NOT NULL,
  finished_at_us BIGINT,
  updated_at_us BIGINT NOT NULL
);
CREATE INDEX bill_runs_period ON bill_runs (period, department_id);
CREATE INDEX bill_runs_job ON bill_runs (job_id);

CREATE TABLE bill_run_exceptions (      -- points a run could not rate, with the reason
  run_id BIGINT NOT NULL REFERENCES bill_runs(id),
  metering_point_id BIGINT NOT NULL REFERENCES metering_points(id),
  read_id BIGINT NOT NULL,
  code TEXT NOT NULL,                   -- the status code: INVALID_ARGUMENT, FAILED_PRECONDITION...
  message TEXT NOT NULL,
  PRIMARY KEY (run_id, metering_point_id)
);

CREATE TABLE bills (                    -- 电费账单 of a metering point for a period
  {{PK}},
  bill_no TEXT NOT NULL UNIQUE,         -- YYYYMM + point id (10 digits) + seq (2 digits)
  metering_point_id BIGINT NOT NULL REFERENCES metering_points(id),
  customer_id BIGINT NOT NULL REFERENCES customers(id),
  account_id BIGINT REFERENCES accounts(id),  -- the customer's first active account
  department_id BIGINT NOT NULL REFERENCES departments(id),
  period TEXT NOT NULL,                 -- YYYY-MM
  seq BIGINT NOT NULL DEFAULT 1,        -- 2, 3... for rebills
  status TEXT NOT NULL,                 -- calculated, review, held, approved, issued, cancelled
  tariff_code TEXT NOT NULL,
  tariff_version TEXT NOT NULL,         -- code@effective_from
  customer_category TEXT NOT NULL,
  first_day TEXT NOT NULL,              -- the days the reads cover
  last_day TEXT NOT NULL,
  billed_kwh BIGINT NOT NULL,
  tier1_kwh BIGINT NOT NULL DEFAULT 0,
  tier2_kwh BIGINT NOT NULL DEFAULT 0,
  tier3_kwh BIGINT NOT NULL DEFAULT 0,
  tier_cumulative_after_kwh BIGINT NOT NULL DEFAULT 0,
  power_factor TEXT,                    -- 0.87
  pf_standard TEXT,                     -- 0.90 / 0.85 / 0.80 when assessed
  pf_adjust_rate TEXT,                  -- 0.025 = +2.5 %
  pf_base_fen BIGINT NOT NULL DEFAULT 0,  -- 参与调整电费金额
  energy_fen BIGINT NOT NULL,
  basic_fen BIGINT NOT NULL,
  pf_fen BIGINT NOT NULL,
  fund_fen BIGINT NOT NULL,
  total_fen BIGINT NOT NULL,
  run_id BIGINT REFERENCES bill_runs(id),   -- NULL for rebills
  read_id BIGINT NOT NULL,
  read_source TEXT NOT NULL DEFAULT '',
  review_flags TEXT NOT NULL DEFAULT '',    -- comma list: zero, negative_line, change_month, change_year
  review_note TEXT NOT NULL DEFAULT '',
  detail_json TEXT NOT NULL,            -- meters with their reads and multipliers, energy breakdown
  due_date TEXT,                        -- set on issue
  approved_by BIGINT REFERENCES users(id),
  approved_at_us BIGINT,
  issued_by BIGINT REFERENCES users(id),
  issued_at_us BIGINT,
  cancelled_by BIGINT REFERENCES users(id),
  cancelled_at_us BIGINT,
  cancel_reason TEXT,
  replaces_bill_id BIGINT REFERENCES bills(id),
  created_by BIGINT REFERENCES users(id),
  created_at_us BIGINT NOT NULL,
  updated_at_us BIGINT NOT NULL,
  version BIGINT NOT NULL DEFAULT 1
);
-- One live bill per point and period: the bill run's idempotency rests on it.
CREATE UNIQUE INDEX bills_point_period_live ON bills (metering_point_id, period)
  WHERE status <> 'cancelled';
-- Bill numbers sort by period, point and seq: a period's bills of a range of points (and a
-- period's bills in general) are a range of the bill_no index.
CREATE INDEX bills_run ON bills (run_id, status);
CREATE INDEX bills_customer ON bills (customer_id, period);
-- The review queue (and held bills): the bills a person has to look at.
CREATE INDEX bills_queue ON bills (department_id, id) WHERE status IN ('review', 'held');
-- Rebills by the bill they replace (and the foreign key's check); only rebills are in it.
CREATE INDEX bills_replaces ON bills (replaces_bill_id) WHERE replaces_bill_id IS NOT NULL
)sql";

constexpr std::string_view kSqliteLines = R"sql(;
CREATE TABLE bill_lines (               -- every line of a bill as rating::BillLine made it
  bill_id BIGINT NOT NULL REFERENCES bills(id),
  line_no BIGINT NOT NULL,
  kind TEXT NOT NULL,                   -- energy, tier_increment, basic_capacity, ... fund
  rule TEXT NOT NULL,
  description TEXT NOT NULL,
  tariff_code TEXT NOT NULL,
  period_code TEXT NOT NULL,            -- TOU period or ''
  tier BIGINT NOT NULL,
  quantity TEXT NOT NULL,               -- decimal
  unit TEXT NOT NULL,
  unit_price TEXT NOT NULL,             -- decimal yuan
  amount_fen BIGINT NOT NULL,
  sources TEXT NOT NULL,                -- one source per line
  tariff_version TEXT NOT NULL,         -- code@effective_from that priced the line
  share TEXT NOT NULL,                  -- '' or the carve-out (定比/定量) label
  days BIGINT NOT NULL,                 -- partial-month basic charge: days / days_base
  days_base BIGINT NOT NULL,
  from_day TEXT,                        -- the part of the period when a price changed in it
  to_day TEXT,
  PRIMARY KEY (bill_id, line_no)
) WITHOUT ROWID
)sql";

constexpr std::string_view kPostgresLines = R"sql(;
CREATE TABLE bill_lines (
  bill_id BIGINT NOT NULL REFERENCES bills(id),
  line_no BIGINT NOT NULL,
  kind TEXT NOT NULL,
  rule TEXT NOT NULL,
  description TEXT NOT NULL,
  tariff_code TEXT NOT NULL,
  period_code TEXT NOT NULL,
  tier BIGINT NOT NULL,
  quantity TEXT NOT NULL,
  unit TEXT NOT NULL,
  unit_price TEXT NOT NULL,
  amount_fen BIGINT NOT NULL,
  sources TEXT NOT NULL,
  tariff_version TEXT NOT NULL,
  share TEXT NOT NULL,
  days BIGINT NOT NULL,
  days_base BIGINT NOT NULL,
  from_day TEXT,
  to_day TEXT,
  PRIMARY KEY (bill_id, line_no)
)
)sql";

}  // namespace

const std::vector<store::Migration>& Migrations() {
  static const std::string kSqlite = std::string(kTables) + std::string(kSqliteLines);
  static const std::string kPostgres = std::string(kTables) + std::string(kPostgresLines);
  static const std::vector<store::Migration> kMigrations = {
      {"billing", 1, "billing parameters, bill runs, bills and their lines", kSqlite, kPostgres},
  };
  return kMigrations;
}

}  // namespace gridmis::billing
