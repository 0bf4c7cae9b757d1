#include "grid/migrations.h"

namespace gridmis::grid {

const std::vector<store::Migration>& Migrations() {
  static const std::vector<store::Migration> kMigrations = {
      {"grid", 1, "substations, feeders, transformer areas", R"sql(
CREATE TABLE substations (
  {{PK}},
  code TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  voltage_v BIGINT NOT NULL,          -- highest voltage, volts: 110000, 35000
  department_id BIGINT NOT NULL REFERENCES departments(id),
  address TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT 'in_service',   -- in_service, out_of_service, retired
  version BIGINT NOT NULL DEFAULT 1,
  created_at_us BIGINT NOT NULL,
  updated_at_us BIGINT NOT NULL
);
CREATE INDEX substations_department ON substations (department_id);

CREATE TABLE feeders (                -- 10 kV lines
  {{PK}},
  code TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  substation_id BIGINT NOT NULL REFERENCES substations(id),
  voltage_v BIGINT NOT NULL DEFAULT 10000,
  department_id BIGINT NOT NULL REFERENCES departments(id),
  status TEXT NOT NULL DEFAULT 'in_service',
  version BIGINT NOT NULL DEFAULT 1,
  created_at_us BIGINT NOT NULL,
  updated_at_us BIGINT NOT NULL
);
CREATE INDEX feeders_substation ON feeders (substation_id);
CREATE INDEX feeders_department ON feeders (department_id);

CREATE TABLE transformer_areas (      -- 台区
  {{PK}},
  code TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  feeder_id BIGINT NOT NULL REFERENCES feeders(id),
  department_id BIGINT NOT NULL REFERENCES departments(id),
  capacity_kva BIGINT NOT NULL,
  ownership TEXT NOT NULL DEFAULT 'public',    -- public (公变) or private (专变)
  address TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT 'in_service',
  version BIGINT NOT NULL DEFAULT 1,
  created_at_us BIGINT NOT NULL,
  updated_at_us BIGINT NOT NULL
);
CREATE INDEX transformer_areas_feeder ON transformer_areas (feeder_id);
CREATE INDEX transformer_areas_department ON transformer_areas (department_id)
)sql"},
  };
  return kMigrations;
}

}  // namespace gridmis::grid
