#include "acquisition/migrations.h"

namespace gridmis::acquisition {

const std::vector<store::Migration>& Migrations() {
  static const std::vector<store::Migration> kMigrations = {
      {"acquisition", 1, "terminals and the meters behind them", R"sql(
CREATE TABLE terminals (                -- 采集终端
  {{PK}},
  asset_no TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,                   -- public_transformer, special_transformer, large_customer, substation
  area_code TEXT NOT NULL,              -- A1: administrative area code, 4 BCD digits ("3301")
  address BIGINT NOT NULL,              -- A2: terminal address 1..65535
  make TEXT NOT NULL DEFAULT '',
  model TEXT NOT NULL DEFAULT '',
  protocol TEXT NOT NULL DEFAULT 'gdw1376_1',
  comm_mode TEXT NOT NULL DEFAULT '4g',  -- gprs, 4g, ethernet, fiber, carrier
  sim_no TEXT,
  department_id BIGINT NOT NULL REFERENCES departments(id),
  transformer_area_id BIGINT REFERENCES transformer_areas(id),
  customer_id BIGINT REFERENCES customers(id),
  substation_id BIGINT REFERENCES substations(id),
  status TEXT NOT NULL DEFAULT 'installed',   -- in_stock, installed, removed
  installed_on TEXT,
  version BIGINT NOT NULL DEFAULT 1,
  created_at_us BIGINT NOT NULL,
  updated_at_us BIGINT NOT NULL,
  UNIQUE (area_code, address)
);
CREATE INDEX terminals_department ON terminals (department_id);
CREATE INDEX terminals_customer ON terminals (customer_id);
CREATE INDEX terminals_transformer_area ON terminals (transformer_area_id);

CREATE TABLE terminal_meters (          -- measurement points (Pn) of a terminal
  {{PK}},
  terminal_id BIGINT NOT NULL REFERENCES terminals(id),
  meter_id BIGINT NOT NULL REFERENCES meters(id),
  point_no BIGINT NOT NULL,             -- Pn, 1..2040
  port BIGINT NOT NULL DEFAULT 2,       -- terminal comm port (e.g. 2 = RS-485 I, 31 = carrier)
  baud_rate BIGINT NOT NULL DEFAULT 2400,
  protocol TEXT NOT NULL DEFAULT 'dlt645_2007',
  version BIGINT NOT NULL DEFAULT 1,
  created_at_us BIGINT NOT NULL,
  updated_at_us BIGINT NOT NULL,
  UNIQUE (terminal_id, point_no),
  UNIQUE (meter_id)
)
)sql"},
      {"acquisition", 2, "collected curves, events, terminal state, collection tasks, statistics",
       CollectionSchemaSql(false), CollectionSchemaSql(true)},
      {"acquisition", 3, "terminal command queue", CommandSchemaSql(false), CommandSchemaSql(true)},
      {"acquisition", 4, "validation findings (VEE)", VeeSchemaSql(false), VeeSchemaSql(true)},
      // Collection keeps the intervals a person edited: it looks for such curves by day.
      {"acquisition", 5, "an index of curves with edited values",
       "CREATE INDEX load_curves_edited ON load_curves (day, metering_point_id) "
       "WHERE quality LIKE '%D%'"},
      // Why a command was issued (a trip or power control needs one), audited with it.
      {"acquisition", 6, "the reason of a terminal command",
       "ALTER TABLE terminal_commands ADD COLUMN reason TEXT NOT NULL DEFAULT ''"},
  };
  return kMigrations;
}

}  // namespace gridmis::acquisition
