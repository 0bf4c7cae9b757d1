#include "jobs/migrations.h"

namespace gridmis::jobs {

const std::vector<store::Migration>& Migrations() {
  static const std::vector<store::Migration> kMigrations = {
      {"jobs", 1, "persisted background jobs", R"sql(
CREATE TABLE jobs (                     -- 后台任务: bill runs, imports, batch files
  {{PK}},
  kind TEXT NOT NULL,                   -- a registered kind: bill_run, ...
  params_json TEXT NOT NULL,            -- the kind's parameters
  department_id BIGINT REFERENCES departments(id),  -- whose data it works on (scope)
  status TEXT NOT NULL DEFAULT 'queued',  -- queued, running, succeeded, failed, cancelled
  stage TEXT NOT NULL DEFAULT '',       -- what it is doing now, for progress displays
  done BIGINT NOT NULL DEFAULT 0,
  total BIGINT NOT NULL DEFAULT 0,      -- 0 = not known yet
  checkpoint_json TEXT NOT NULL DEFAULT '',  -- where a resumed run continues
  result_json TEXT NOT NULL DEFAULT '',
  error TEXT NOT NULL DEFAULT '',
  cancel_requested BIGINT NOT NULL DEFAULT 0,
  created_by BIGINT REFERENCES users(id),  -- NULL for the system (CLI, schedules)
  created_by_name TEXT NOT NULL,
  owner TEXT,                           -- the runner executing it: host:pid:token
  attempts BIGINT NOT NULL DEFAULT 0,   -- times it was started (resumes included)
  heartbeat_us BIGINT,                  -- last sign of life of the owner
  created_at_us BIGINT NOT NULL,
  started_at_us BIGINT,                 -- first start
  finished_at_us BIGINT,
  updated_at_us BIGINT NOT NULL,
  version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX jobs_status ON jobs (status, id);
CREATE INDEX jobs_department ON jobs (department_id, id);
CREATE INDEX jobs_created_by ON jobs (created_by, id)
)sql"},
  };
  return kMigrations;
}

}  // namespace gridmis::jobs
