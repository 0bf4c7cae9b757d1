// Numbered schema migrations, embedded in the binary. Each module owns its list (e.g.
// org/migrations.cc); cli/ assembles them in dependency order. Each migration runs in its own
// transaction together with its row in schema_migrations, so a failing migration leaves the
// schema as it was.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "store/db.h"

namespace gridmis::store {

struct Migration {
  std::string_view module;  // "org"
  int version;              // 1, 2, ... within the module, never reused
  std::string_view name;    // "departments and users"
  // Statements separated by ';'. Portable SQL plus tokens rendered per dialect:
  //   {{PK}}   an auto-assigned BIGINT primary key "id"
  //   {{BLOB}} binary data
  std::string_view sql;
  // When not empty, used instead of `sql` on PostgreSQL (indexes and search structures that
  // differ per engine, e.g. FTS5 on SQLite and pg_trgm on PostgreSQL).
  std::string_view postgres_sql = {};
};

struct AppliedMigration {
  std::string module;
  int version = 0;
  std::string name;
  int64_t applied_at_us = 0;
};

// Renders the dialect tokens.
std::string RenderSql(std::string_view sql, Dialect dialect);

// Applies the pending migrations in `all` (in order). Calls `on_apply` before each. Fails on the
// first error, naming the migration; earlier ones stay applied. `now_us` stamps applied_at.
Status Migrate(Database& db, const std::vector<Migration>& all, int64_t now_us,
               const std::function<void(const Migration&)>& on_apply = nullptr);

// What is recorded in schema_migrations (empty before the first Migrate).
Result<std::vector<AppliedMigration>> AppliedMigrations(Database& db);

// The migrations in `all` not applied yet.
Result<std::vector<Migration>> PendingMigrations(Database& db, const std::vector<Migration>& all);

}  // namespace gridmis::store
