// PostgreSQL backend over libpq: a pool of connections, a prepared-statement cache per
// connection, text-format parameters and results.
#include <libpq-fe.h>

#include <charconv>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "store/backends.h"

namespace gridmis::store {

namespace {

Status PgError(PGconn* conn, const PGresult* res, std::string_view sql) {
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string msg = res ? PQresultErrorMessage(res) : (conn ? PQerrorMessage(conn) : "");
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  std::string code = state ? state : "";
  if (code == "23505") return AlreadyExists(msg);
  if (code == "23503") {
    return FailedPrecondition("a referenced record does not exist or is still referenced (" + msg +
                              ")");
  }
  if (code.rfind("23", 0) == 0) return InvalidArgument(msg);
  if (code == "57014") return Status(StatusCode::kDeadlineExceeded, "statement timed out: " + msg);
  if (code == "40001" || code == "40P01") return Aborted("transaction conflict, retry: " + msg);
  if (code.rfind("08", 0) == 0 || (conn && PQstatus(conn) != CONNECTION_OK)) {
    return Unavailable("database connection lost: " + msg);
  }
  return Internal("postgresql: " + msg + " in: " + std::string(sql.substr(0, 160)));
}

class PgRow final : public Row {
 public:
  PgRow(const PGresult* r, int row) : r_(r), row_(row), n_(PQnfields(r)) {}
  void set_row(int row) { row_ = row; }
  int size() const override { return n_; }
  bool IsNull(int c) const override { return PQgetisnull(r_, row_, c) != 0; }
  int64_t Int(int c) const override {
    const char* p = PQgetvalue(r_, row_, c);
    int len = PQgetlength(r_, row_, c);
    if (len == 1 && (p[0] == 't' || p[0] == 'f')) return p[0] == 't';  // boolean columns
    int64_t v = 0;
    std::from_chars(p, p + len, v);
    return v;
  }
  double Real(int c) const override { return std::strtod(PQgetvalue(r_, row_, c), nullptr); }
  std::string_view TextView(int c) const override {
    return std::string_view(PQgetvalue(r_, row_, c), static_cast<size_t>(PQgetlength(r_, row_, c)));
  }
  std::string_view Name(int c) const override { return PQfname(r_, c); }

 private:
  const PGresult* r_;
  int row_;
  int n_;
};

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

class PgConnection final : public Connection {
 public:
  explicit PgConnection(PGconn* c) : conn_(c) {}
  ~PgConnection() override { PQfinish(conn_); }
  Dialect dialect() const override { return Dialect::kPostgres; }
  bool healthy() const { return PQstatus(conn_) == CONNECTION_OK; }

  Result<ResultPtr> Run(std::string_view sql, const Params& params) {
    ASSIGN_OR_RETURN(std::string name, PrepareCached(sql, static_cast<int>(params.size())));
    std::vector<std::string> texts(params.size());
    std::vector<const char*> values(params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      if (params[i].is_null()) {
        values[i] = nullptr;
      } else {
        texts[i] = params[i].ToText();
        values[i] = texts[i].c_str();
      }
    }
    ResultPtr res(PQexecPrepared(conn_, name.c_str(), static_cast<int>(params.size()),
                                 values.data(), nullptr, nullptr, 0));
    auto st = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return PgError(conn_, res.get(), sql);
    return res;
  }

  Result<int64_t> Exec(std::string_view sql, const Params& params) override {
    ASSIGN_OR_RETURN(ResultPtr res, Run(sql, params));
    const char* n = PQcmdTuples(res.get());
    int64_t v = 0;
    if (n && *n) std::from_chars(n, n + std::strlen(n), v);
    return v;
  }

  Status Query(std::string_view sql, const Params& params, const RowFn& fn) override {
    ASSIGN_OR_RETURN(ResultPtr res, Run(sql, params));
    int n = PQntuples(res.get());
    PgRow row(res.get(), 0);
    for (int i = 0; i < n; ++i) {
      row.set_row(i);
      fn(row);
    }
    return Status::Ok();
  }

  Status ExecScript(std::string_view sql) override {
    ResultPtr res(PQexec(conn_, std::string(sql).c_str()));
    auto st = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return PgError(conn_, res.get(), sql);
    return Status::Ok();
  }

  Result<std::unique_ptr<Statement>> Prepare(std::string_view sql) override;

  // Simple-protocol command without parameters (BEGIN/COMMIT/ROLLBACK).
  Status Simple(const char* sql) {
    ResultPtr res(PQexec(conn_, sql));
    if (!res || PQresultStatus(res.get()) != PGRES_COMMAND_OK)
      return PgError(conn_, res.get(), sql);
    return Status::Ok();
  }

 private:
  Result<std::string> PrepareCached(std::string_view sql, int nparams) {
    auto it = cache_.find(std::string(sql));
    if (it != cache_.end()) return it->second;
    if (cache_.size() > 512) {
      (void)Simple("DEALLOCATE ALL");
      cache_.clear();
    }
    std::string name = "s" + std::to_string(next_++);
    ResultPtr res(PQprepare(conn_, name.c_str(), std::string(sql).c_str(), nparams, nullptr));
    if (!res || PQresultStatus(res.get()) != PGRES_COMMAND_OK)
      return PgError(conn_, res.get(), sql);
    cache_.emplace(std::string(sql), name);
    return name;
  }

  PGconn* conn_;
  std::unordered_map<std::string, std::string> cache_;
  int next_ = 0;
};

class PgStatement final : public Statement {
 public:
  PgStatement(PgConnection* c, std::string sql) : c_(c), sql_(std::move(sql)) {}
  Result<int64_t> Run(const Params& params) override { return c_->Exec(sql_, params); }

 private:
  PgConnection* c_;
  std::string sql_;
};

Result<std::unique_ptr<Statement>> PgConnection::Prepare(std::string_view sql) {
  return std::unique_ptr<Statement>(new PgStatement(this, std::string(sql)));
}

class PgDatabase final : public Database {
 public:
  PgDatabase(std::string url, DatabaseOptions options) : url_(std::move(url)), options_(options) {}

  Status Init() {
    ASSIGN_OR_RETURN(auto c, Connect());
    free_.push_back(std::move(c));
    open_ = 1;
    return Status::Ok();
  }

  Dialect dialect() const override { return Dialect::kPostgres; }
  std::string Describe() const override {
    // Hide a password in postgresql://user:pass@host
    std::string u = url_;
    size_t scheme = u.find("://");
    size_t at = u.find('@');
    if (scheme != std::string::npos && at != std::string::npos) {
      size_t colon = u.find(':', scheme + 3);
      if (colon != std::string::npos && colon < at) u.replace(colon + 1, at - colon - 1, "***");
    }
    return u;
  }
  const PoolStats& stats() const override { return stats_; }
  int pool_size() const override { return options_.max_readers; }

  Status Read(const std::function<Status(Connection&)>& fn) override {
    ASSIGN_OR_RETURN(auto c, Acquire());
    Status s;
    try {
      s = fn(*c);
    } catch (...) {
      Release(std::move(c));
      throw;
    }
    Release(std::move(c));
    if (!s.ok() && s.code() == StatusCode::kInternal) ++stats_.errors;
    return s;
  }

  Status Write(const std::function<Status(Connection&)>& fn) override {
    ASSIGN_OR_RETURN(auto c, Acquire());
    Status s = c->Simple("BEGIN");
    if (!s.ok()) {
      Release(std::move(c));
      return s;
    }
    try {
      s = fn(*c);
    } catch (...) {
      (void)c->Simple("ROLLBACK");
      ++stats_.rollbacks;
      Release(std::move(c));
      throw;
    }
    if (s.ok()) {
      s = c->Simple("COMMIT");
      if (s.ok()) ++stats_.transactions;
    } else {
      (void)c->Simple("ROLLBACK");
      ++stats_.rollbacks;
    }
    Release(std::move(c));
    if (!s.ok() && s.code() == StatusCode::kInternal) ++stats_.errors;
    return s;
  }

 private:
  struct Lease {
    PgDatabase* db;
    std::unique_ptr<PgConnection> c;
  };

  Result<std::unique_ptr<PgConnection>> Connect() {
    PGconn* c = PQconnectdb(url_.c_str());
    if (PQstatus(c) != CONNECTION_OK) {
      std::string msg = PQerrorMessage(c);
      while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
      PQfinish(c);
      return Unavailable("cannot connect to PostgreSQL at " + Describe() + ": " + msg);
    }
    auto conn = std::make_unique<PgConnection>(c);
    RETURN_IF_ERROR(conn->ExecScript(
        "SET statement_timeout = " + std::to_string(options_.statement_timeout_ms) +
        "; SET client_min_messages = warning; SET TIME ZONE 'UTC'"));
    ++stats_.connections_open;
    return conn;
  }

  Result<std::unique_ptr<PgConnection>> Acquire() {
    std::unique_ptr<PgConnection> c;
    {
      std::unique_lock lock(mu_);
      if (free_.empty() && open_ >= options_.max_readers) {
        ++stats_.waits;
        cv_.wait(lock, [&] { return !free_.empty(); });
      }
      if (!free_.empty()) {
        c = std::move(free_.back());
        free_.pop_back();
      } else {
        ++open_;
      }
    }
    if (c && !c->healthy()) {  // a broken connection is replaced
      c.reset();
      --stats_.connections_open;
    }
    if (!c) {
      auto r = Connect();
      if (!r.ok()) {
        std::lock_guard lock(mu_);
        --open_;
        cv_.notify_one();
        return r.status();
      }
      c = std::move(*r);
    }
    ++stats_.connections_in_use;
    return c;
  }

  void Release(std::unique_ptr<PgConnection> c) {
    --stats_.connections_in_use;
    std::lock_guard lock(mu_);
    free_.push_back(std::move(c));
    cv_.notify_one();
  }

  std::string url_;
  DatabaseOptions options_;
  PoolStats stats_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<PgConnection>> free_;  // guarded by mu_
  int open_ = 0;                                     // guarded by mu_
};

}  // namespace

Result<std::unique_ptr<Database>> OpenPostgres(std::string url, const DatabaseOptions& options) {
  auto db = std::make_unique<PgDatabase>(std::move(url), options);
  RETURN_IF_ERROR(db->Init());
  return std::unique_ptr<Database>(std::move(db));
}

Result<std::unique_ptr<Database>> Database::Open(std::string_view url,
                                                 const DatabaseOptions& options) {
  if (url.rfind("sqlite://", 0) == 0) return OpenSqlite(std::string(url.substr(9)), options);
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
    return OpenPostgres(std::string(url), options);
  }
  return InvalidArgument(
      "database URL '" + std::string(url) + "' must start with sqlite:// or postgresql://",
      "database_url");
}

}  // namespace gridmis::store
