// SQLite backend: one writer connection, a pool of WAL readers, a statement cache per
// connection. ":memory:" databases use a single connection for reads and writes.
#include <sqlite3.h>

#include <condition_variable>
#include <mutex>
#include <unordered_map>

#include "store/backends.h"

namespace gridmis::store {

namespace {

Status SqliteError(sqlite3* db, int rc, std::string_view sql) {
  int ext = db ? sqlite3_extended_errcode(db) : rc;
  std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string where(sql.substr(0, 120));
  if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY) {
    return AlreadyExists(msg);
  }
  if (ext == SQLITE_CONSTRAINT_FOREIGNKEY) {
    return FailedPrecondition("a referenced record does not exist or is still referenced (" + msg +
                              ")");
  }
  if ((rc & 0xff) == SQLITE_CONSTRAINT) return InvalidArgument(msg);
  if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
    return Unavailable("database busy: " + msg);
  }
  return Internal("sqlite: " + msg + " in: " + where);
}

class SqliteRow final : public Row {
 public:
  explicit SqliteRow(sqlite3_stmt* st) : st_(st), n_(sqlite3_column_count(st)) {}
  int size() const override { return n_; }
  bool IsNull(int c) const override { return sqlite3_column_type(st_, c) == SQLITE_NULL; }
  int64_t Int(int c) const override { return sqlite3_column_int64(st_, c); }
  double Real(int c) const override { return sqlite3_column_double(st_, c); }
  std::string_view TextView(int c) const override {
    const unsigned char* p = sqlite3_column_text(st_, c);
    if (!p) return {};
    return std::string_view(reinterpret_cast<const char*>(p),
                            static_cast<size_t>(sqlite3_column_bytes(st_, c)));
  }
  std::string_view Name(int c) const override { return sqlite3_column_name(st_, c); }

 private:
  sqlite3_stmt* st_;
  int n_;
};

Status Bind(sqlite3* db, sqlite3_stmt* st, const Params& params, std::string_view sql) {
  int expected = sqlite3_bind_parameter_count(st);
  if (expected != static_cast<int>(params.size())) {
    return Internal("statement wants " + std::to_string(expected) + " parameters, got " +
                    std::to_string(params.size()) + ": " + std::string(sql.substr(0, 120)));
  }
  for (size_t i = 0; i < params.size(); ++i) {
    const Value& v = params[i];
    int idx = static_cast<int>(i) + 1;
    int rc = SQLITE_OK;
    switch (v.kind()) {
      case Value::Kind::kNull:
        rc = sqlite3_bind_null(st, idx);
        break;
      case Value::Kind::kInt:
        rc = sqlite3_bind_int64(st, idx, v.int_value());
        break;
      case Value::Kind::kReal:
        rc = sqlite3_bind_double(st, idx, v.real_value());
        break;
      case Value::Kind::kText:
        rc = sqlite3_bind_text(st, idx, v.text_value().data(),
                               static_cast<int>(v.text_value().size()), SQLITE_TRANSIENT);
        break;
    }
    if (rc != SQLITE_OK) return SqliteError(db, rc, sql);
  }
  return Status::Ok();
}

class SqliteConnection;

class SqliteStatement final : public Statement {
 public:
  SqliteStatement(sqlite3* db, sqlite3_stmt* st, std::string sql)
      : db_(db), st_(st), sql_(std::move(sql)) {}
  ~SqliteStatement() override { sqlite3_finalize(st_); }
  Result<int64_t> Run(const Params& params) override {
    sqlite3_reset(st_);
    RETURN_IF_ERROR(Bind(db_, st_, params, sql_));
    int rc;
    while ((rc = sqlite3_step(st_)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) {
      Status s = SqliteError(db_, rc, sql_);
      sqlite3_reset(st_);
      return s;
    }
    sqlite3_reset(st_);
    return static_cast<int64_t>(sqlite3_changes(db_));
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* st_;
  std::string sql_;
};

class SqliteConnection final : public Connection {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  ~SqliteConnection() override {
    for (auto& [k, st] : cache_) sqlite3_finalize(st);
    sqlite3_close_v2(db_);
  }
  Dialect dialect() const override { return Dialect::kSqlite; }
  sqlite3* raw() { return db_; }

  Result<int64_t> Exec(std::string_view sql, const Params& params) override {
    ASSIGN_OR_RETURN(sqlite3_stmt * st, Get(sql));
    Status s = Bind(db_, st, params, sql);
    if (!s.ok()) {
      sqlite3_reset(st);
      return s;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) {
      Status e = SqliteError(db_, rc, sql);
      sqlite3_reset(st);
      return e;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return static_cast<int64_t>(sqlite3_changes(db_));
  }

  Status Query(std::string_view sql, const Params& params, const RowFn& fn) override {
    ASSIGN_OR_RETURN(sqlite3_stmt * st, Get(sql));
    Status s = Bind(db_, st, params, sql);
    if (!s.ok()) {
      sqlite3_reset(st);
      return s;
    }
    SqliteRow row(st);
    int rc;
    try {
      while ((rc = sqlite3_step(st)) == SQLITE_ROW) fn(row);
    } catch (...) {
      sqlite3_reset(st);
      throw;
    }
    if (rc != SQLITE_DONE) {
      Status e = SqliteError(db_, rc, sql);
      sqlite3_reset(st);
      return e;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return Status::Ok();
  }

  Status ExecScript(std::string_view sql) override {
    char* err = nullptr;
    std::string s(sql);
    int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      std::string msg = err ? err : sqlite3_errstr(rc);
      sqlite3_free(err);
      return Internal("sqlite: " + msg);
    }
    return Status::Ok();
  }

  Result<std::unique_ptr<Statement>> Prepare(std::string_view sql) override {
    std::string s = ToSqlitePlaceholders(sql);
    sqlite3_stmt* st = nullptr;
    int rc = sqlite3_prepare_v2(db_, s.c_str(), static_cast<int>(s.size()), &st, nullptr);
    if (rc != SQLITE_OK) return SqliteError(db_, rc, sql);
    return std::unique_ptr<Statement>(new SqliteStatement(db_, st, std::string(sql)));
  }

 private:
  Result<sqlite3_stmt*> Get(std::string_view sql) {
    auto it = cache_.find(std::string(sql));
    if (it != cache_.end()) return it->second;
    std::string s = ToSqlitePlaceholders(sql);
    sqlite3_stmt* st = nullptr;
    int rc = sqlite3_prepare_v3(db_, s.c_str(), static_cast<int>(s.size()),
                                SQLITE_PREPARE_PERSISTENT, &st, nullptr);
    if (rc != SQLITE_OK) return SqliteError(db_, rc, sql);
    if (cache_.size() > 512) {  // bound the cache; dynamic SQL would otherwise grow it
      for (auto& [k, old] : cache_) sqlite3_finalize(old);
      cache_.clear();
    }
    cache_.emplace(std::string(sql), st);
    return st;
  }

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(std::string path, DatabaseOptions options)
      : path_(std::move(path)), options_(options) {}

  Status Init() {
    memory_ = path_ == ":memory:" || path_.empty();
    ASSIGN_OR_RETURN(writer_, OpenConnection(false));
    if (!memory_) {
      RETURN_IF_ERROR(writer_->ExecScript("PRAGMA journal_mode=WAL;"));
      RETURN_IF_ERROR(writer_->ExecScript(options_.bulk_load ? "PRAGMA synchronous=OFF;"
                                                             : "PRAGMA synchronous=NORMAL;"));
    }
    return Status::Ok();
  }

  Dialect dialect() const override { return Dialect::kSqlite; }
  std::string Describe() const override { return "sqlite://" + path_; }
  const PoolStats& stats() const override { return stats_; }
  int pool_size() const override { return memory_ ? 1 : options_.max_readers + 1; }

  Status Read(const std::function<Status(Connection&)>& fn) override {
    if (memory_) {
      std::lock_guard lock(write_mu_);
      InUse guard(stats_);
      return Count(fn(*writer_));
    }
    std::unique_ptr<SqliteConnection> c;
    {
      std::unique_lock lock(pool_mu_);
      if (free_.empty() && open_readers_ >= options_.max_readers) {
        ++stats_.waits;
        pool_cv_.wait(lock, [&] { return !free_.empty(); });
      }
      if (!free_.empty()) {
        c = std::move(free_.back());
        free_.pop_back();
      } else {
        ++open_readers_;
      }
    }
    if (!c) {
      auto r = OpenConnection(true);
      if (!r.ok()) {
        std::lock_guard lock(pool_mu_);
        --open_readers_;
        pool_cv_.notify_one();
        return r.status();
      }
      c = std::move(*r);
    }
    Status s;
    {
      InUse guard(stats_);
      // A read transaction: every query in `fn` sees one WAL snapshot.
      s = c->Exec("BEGIN", {}).status();
      if (s.ok()) {
        try {
          s = fn(*c);
        } catch (...) {
          (void)c->Exec("ROLLBACK", {});
          Release(std::move(c));
          throw;
        }
        (void)c->Exec("COMMIT", {});
      }
    }
    Release(std::move(c));
    return Count(s);
  }

  Status Write(const std::function<Status(Connection&)>& fn) override {
    std::lock_guard lock(write_mu_);
    InUse guard(stats_);
    RETURN_IF_ERROR(writer_->Exec("BEGIN IMMEDIATE", {}).status());
    Status s;
    try {
      s = fn(*writer_);
    } catch (...) {
      (void)writer_->Exec("ROLLBACK", {});
      ++stats_.rollbacks;
      throw;
    }
    if (!s.ok()) {
      (void)writer_->Exec("ROLLBACK", {});
      ++stats_.rollbacks;
      return Count(s);
    }
    auto c = writer_->Exec("COMMIT", {});
    if (!c.ok()) {
      (void)writer_->Exec("ROLLBACK", {});
      ++stats_.rollbacks;
      return Count(c.status());
    }
    ++stats_.transactions;
    return s;
  }

 private:
  struct InUse {
    explicit InUse(PoolStats& s) : s_(s) { ++s_.connections_in_use; }
    ~InUse() { --s_.connections_in_use; }
    PoolStats& s_;
  };

  Status Count(Status s) {
    if (!s.ok() && s.code() == StatusCode::kInternal) ++stats_.errors;
    return s;
  }

  void Release(std::unique_ptr<SqliteConnection> c) {
    std::lock_guard lock(pool_mu_);
    free_.push_back(std::move(c));
    pool_cv_.notify_one();
  }

  Result<std::unique_ptr<SqliteConnection>> OpenConnection(bool read_only) {
    sqlite3* db = nullptr;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    std::string p = memory_ ? ":memory:" : path_;
    int rc = sqlite3_open_v2(p.c_str(), &db, flags, nullptr);
    if (rc != SQLITE_OK) {
      std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
      sqlite3_close_v2(db);
      return Unavailable("cannot open SQLite database '" + path_ + "': " + msg);
    }
    sqlite3_busy_timeout(db, options_.busy_timeout_ms);
    auto c = std::make_unique<SqliteConnection>(db);
    RETURN_IF_ERROR(c->ExecScript("PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;"));
    // Page cache: 64 MiB for the writer, 16 MiB per reader (the OS caches the file as well).
    RETURN_IF_ERROR(c->ExecScript(read_only ? "PRAGMA cache_size=-16384; PRAGMA query_only=ON;"
                                            : "PRAGMA cache_size=-65536;"));
    ++stats_.connections_open;
    return c;
  }

  std::string path_;
  DatabaseOptions options_;
  bool memory_ = false;
  PoolStats stats_;
  std::mutex write_mu_;
  std::unique_ptr<SqliteConnection> writer_;  // guarded by write_mu_
  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<SqliteConnection>> free_;  // guarded by pool_mu_
  int open_readers_ = 0;                                 // guarded by pool_mu_
};

}  // namespace

Result<std::unique_ptr<Database>> OpenSqlite(std::string path, const DatabaseOptions& options) {
  // Memory statistics take a global mutex on every allocation; nothing here reads them.
  static std::once_flag once;
  std::call_once(once, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
  auto db = std::make_unique<SqliteDatabase>(std::move(path), options);
  RETURN_IF_ERROR(db->Init());
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace gridmis::store
