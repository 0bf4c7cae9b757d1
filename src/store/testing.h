// Test support: fresh databases on each backend the machine offers.
//
// SQLite is always available (a file in a temp folder). PostgreSQL is used when the environment
// names a server: GRIDMIS_TEST_PG_URL=postgresql://USER@/postgres?host=/socket/dir (a role
// allowed to CREATE DATABASE). Each TestDatabase creates its own database and drops it on
// destruction. With GRIDMIS_TEST_REQUIRE_PG=1 (CI) a missing server is a failure, not a skip.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "store/db.h"

namespace gridmis::store::testing {

// "sqlite", and "postgres" when GRIDMIS_TEST_PG_URL is set.
std::vector<std::string> AvailableBackendsForTest();
bool PostgresRequiredForTest();

class TestDatabase {
 public:
  // backend: "sqlite" or "postgres".
  static Result<std::unique_ptr<TestDatabase>> Create(const std::string& backend);
  ~TestDatabase();
  const std::string& url() const { return url_; }
  Database& db() { return *db_; }
  // Closes the pool (e.g. before a server process opens the same database).
  void Close() { db_.reset(); }
  Status Reopen();

 private:
  std::string backend_;
  std::string url_;
  std::string admin_url_;
  std::string name_;
  std::string dir_;
  std::unique_ptr<Database> db_;
};

}  // namespace gridmis::store::testing
