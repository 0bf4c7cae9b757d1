#include "store/testing.h"

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <random>

namespace gridmis::store::testing {

std::vector<std::string> AvailableBackendsForTest() {
  std::vector<std::string> b = {"sqlite"};
  const char* pg = std::getenv("GRIDMIS_TEST_PG_URL");
  if ((pg && *pg) || PostgresRequiredForTest()) b.push_back("postgres");
  return b;
}

bool PostgresRequiredForTest() {
  const char* r = std::getenv("GRIDMIS_TEST_REQUIRE_PG");
  return r && std::string(r) == "1";
}

namespace {

std::string UniqueName() {
  static std::atomic<int> n{0};
  std::random_device rd;
  return "gridmis_t" + std::to_string(getpid()) + "_" + std::to_string(n++) + "_" +
         std::to_string(rd() % 100000);
}

// Replaces the database name in a libpq URI "postgresql://user@host/DB?params".
std::string WithDatabase(const std::string& url, const std::string& db) {
  size_t scheme = url.find("://");
  size_t start = url.find('/', scheme + 3);
  size_t q = url.find('?', scheme + 3);
  if (start == std::string::npos || (q != std::string::npos && start > q)) {
    std::string base = q == std::string::npos ? url : url.substr(0, q);
    std::string params = q == std::string::npos ? "" : url.substr(q);
    return base + "/" + db + params;
  }
  size_t end = q == std::string::npos ? url.size() : q;
  return url.substr(0, start + 1) + db + url.substr(end);
}

Status AdminExec(const std::string& admin_url, const std::string& sql) {
  PGconn* c = PQconnectdb(admin_url.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(c);
    PQfinish(c);
    return Unavailable("test PostgreSQL server unreachable at " + admin_url + ": " + msg);
  }
  PGresult* r = PQexec(c, sql.c_str());
  bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  std::string msg = PQresultErrorMessage(r);
  PQclear(r);
  PQfinish(c);
  if (!ok) return Internal(sql + ": " + msg);
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<TestDatabase>> TestDatabase::Create(const std::string& backend) {
  auto t = std::unique_ptr<TestDatabase>(new TestDatabase());
  t->backend_ = backend;
  t->name_ = UniqueName();
  if (backend == "sqlite") {
    std::string tmpl = (std::filesystem::temp_directory_path() / "gridmis-test-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) return Internal("mkdtemp failed");
    t->dir_ = tmpl;
    t->url_ = "sqlite://" + tmpl + "/test.db";
  } else if (backend == "postgres") {
    const char* pg = std::getenv("GRIDMIS_TEST_PG_URL");
    if (!pg || !*pg) return Unavailable("GRIDMIS_TEST_PG_URL is not set");
    t->admin_url_ = pg;
    RETURN_IF_ERROR(AdminExec(t->admin_url_, "CREATE DATABASE " + t->name_));
    t->url_ = WithDatabase(t->admin_url_, t->name_);
  } else {
    return InvalidArgument("unknown backend " + backend);
  }
  RETURN_IF_ERROR(t->Reopen());
  return t;
}

Status TestDatabase::Reopen() {
  ASSIGN_OR_RETURN(db_, Database::Open(url_));
  return Status::Ok();
}

TestDatabase::~TestDatabase() {
  db_.reset();
  if (backend_ == "sqlite" && !dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  } else if (backend_ == "postgres") {
    (void)AdminExec(admin_url_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  }
}

}  // namespace gridmis::store::testing
