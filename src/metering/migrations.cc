#include "metering/migrations.h"

namespace gridmis::metering {

const std::vector<store::Migration>& Migrations() {
  static const std::vector<store::Migration> kMigrations = {
      {"metering", 1, "metering points, meters, installations", R"sql(
CREATE TABLE metering_points (          -- 计量点
  {{PK}},
  code TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL DEFAULT '',
  customer_id BIGINT NOT NULL REFERENCES customers(id),
  transformer_area_id BIGINT REFERENCES transformer_areas(id),
  department_id BIGINT NOT NULL REFERENCES departments(id),
  voltage_v BIGINT NOT NULL,            -- supply voltage in volts: 220, 380, 10000, 35000, 110000
  tariff_code TEXT NOT NULL,            -- key into the tariff catalogue
  contracted_capacity_kva BIGINT NOT NULL DEFAULT 0,
  pf_standard TEXT NOT NULL DEFAULT 'none',   -- 0.90, 0.85, 0.80, none (力调标准)
  metering_side TEXT NOT NULL DEFAULT 'high', -- high or low (高供高计 / 高供低计)
  purpose TEXT NOT NULL DEFAULT 'billing',    -- billing, check, sub_meter
  status TEXT NOT NULL DEFAULT 'active',      -- active, suspended, removed
  version BIGINT NOT NULL DEFAULT 1,
  created_at_us BIGINT NOT NULL,
  updated_at_us BIGINT NOT NULL
);
CREATE INDEX metering_points_customer ON metering_points (customer_id);
CREATE INDEX metering_points_transformer_area ON metering_points (transformer_area_id);
CREATE INDEX metering_points_department ON metering_points (department_id);

CREATE TABLE meters (                   -- 电能表 assets
  {{PK}},
  asset_no TEXT NOT NULL UNIQUE,
  make TEXT NOT NULL,
  model TEXT NOT NULL,
  phases BIGINT NOT NULL,               -- 1 or 3
  accuracy_class TEXT NOT NULL,         -- 0.2S, 0.5S, 1, 2
  rated_current TEXT NOT NULL DEFAULT '',    -- "5(60)A", "1.5(6)A"
  registers TEXT NOT NULL,              -- comma list: total,sharp,peak,flat,valley,export,reactive_import,reactive_export,max_demand
  ct_primary_a BIGINT NOT NULL DEFAULT 1,    -- CT ratio primary/secondary (1/1 without CT)
  ct_secondary_a BIGINT NOT NULL DEFAULT 1,
  pt_primary_v BIGINT NOT NULL DEFAULT 1,    -- PT ratio primary/secondary (1/1 without PT)
  pt_secondary_v BIGINT NOT NULL DEFAULT 1,
  multiplier BIGINT NOT NULL DEFAULT 1,      -- 倍率 = CT ratio x PT ratio
  comm_address TEXT,                    -- DL/T 645 address, 12 digits
  protocol TEXT NOT NULL DEFAULT 'dlt645_2007',  -- dlt645_2007, dlt698_45
  status TEXT NOT NULL DEFAULT 'in_stock',       -- in_stock, installed, removed, scrapped
  department_id BIGINT NOT NULL REFERENCES departments(id),
  production_date TEXT,
  version BIGINT NOT NULL DEFAULT 1,
  created_at_us BIGINT NOT NULL,
  updated_at_us BIGINT NOT NULL
);
CREATE INDEX meters_department ON meters (department_id);
CREATE INDEX meters_comm_address ON meters (comm_address);
CREATE INDEX meters_status ON meters (status, asset_no);   -- the meters in stock, removed, ...

CREATE TABLE meter_installations (      -- 装拆记录
  {{PK}},
  meter_id BIGINT NOT NULL REFERENCES meters(id),
  metering_point_id BIGINT NOT NULL REFERENCES metering_points(id),
  installed_at_us BIGINT NOT NULL,
  removed_at_us BIGINT,
  install_reason TEXT NOT NULL DEFAULT 'new',   -- new, replacement, rotation
  remove_reason TEXT,                           -- fault, rotation, capacity_change, closure, other
  installed_by BIGINT REFERENCES users(id),
  removed_by BIGINT REFERENCES users(id),
  -- The meter's ratios while installed (kept for the history if the meter is re-fitted later).
  -- NULL means as on the meter.
  ct_primary_a BIGINT,
  ct_secondary_a BIGINT,
  pt_primary_v BIGINT,
  pt_secondary_v BIGINT,
  multiplier BIGINT,
  version BIGINT NOT NULL DEFAULT 1,
  created_at_us BIGINT NOT NULL,
  updated_at_us BIGINT NOT NULL
);
CREATE INDEX meter_installations_point ON meter_installations (metering_point_id, installed_at_us);
CREATE INDEX meter_installations_meter ON meter_installations (meter_id);
-- At most one meter installed at a point, and a meter installed at one point at a time.
CREATE UNIQUE INDEX meter_installations_open_point ON meter_installations (metering_point_id)
  WHERE removed_at_us IS NULL;
CREATE UNIQUE INDEX meter_installations_open_meter ON meter_installations (meter_id)
  WHERE removed_at_us IS NULL;

CREATE TABLE installation_readings (    -- register readings at installation and removal
  installation_id BIGINT NOT NULL REFERENCES meter_installations(id),
  event TEXT NOT NULL,                  -- install or remove
  register TEXT NOT NULL,               -- total, sharp, peak, flat, valley, export, ...
  value_dwh BIGINT NOT NULL,            -- register value in 0.0001 kWh (kvarh; kW for max_demand)
  PRIMARY KEY (installation_id, event, register)
)
)sql"},
      {"metering", 2, "register integer digits of meters", R"sql(
-- Integer digits of the meter's registers (6 for 999999.99); 0 = unknown. A reading below the
-- previous one is a rollover only when this is known (reading review, tariffs.md §0.3 rule 8).
ALTER TABLE meters ADD COLUMN register_integer_digits BIGINT NOT NULL DEFAULT 0
)sql"},
  };
  return kMigrations;
}

}  // namespace gridmis::metering
