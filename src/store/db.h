// One data-access layer over SQLite (embedded, the default) and PostgreSQL.
//
// SQL is written once in the subset both dialects accept, with positional parameters $1..$n
// (translated to ?1..?n for SQLite). Money, energy and instants are BIGINT; text is UTF-8 TEXT.
// Library failures never escape as exceptions: they come back as Status values, with unique
// violations as AlreadyExists and foreign-key violations as FailedPrecondition.
//
// Concurrency: a Database hands out connections for Read (a reader) and Write (a transaction
// on the writer: SQLite has one writer connection and a pool of WAL readers; PostgreSQL a pool).
// A Connection is used by one thread at a time.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace gridmis::store {

enum class Dialect { kSqlite, kPostgres };

// A parameter value: NULL, a 64-bit integer, a double (never for money or energy) or text.
class Value {
 public:
  enum class Kind { kNull, kInt, kReal, kText };
  Value() = default;
  Value(std::nullptr_t) {}                                        // NOLINT
  Value(int v) : kind_(Kind::kInt), i_(v) {}                      // NOLINT
  Value(int64_t v) : kind_(Kind::kInt), i_(v) {}                  // NOLINT
  Value(bool v) : kind_(Kind::kInt), i_(v ? 1 : 0) {}             // NOLINT
  Value(double v) : kind_(Kind::kReal), d_(v) {}                  // NOLINT
  Value(std::string v) : kind_(Kind::kText), s_(std::move(v)) {}  // NOLINT
  Value(std::string_view v) : kind_(Kind::kText), s_(v) {}        // NOLINT
  Value(const char* v) : kind_(Kind::kText), s_(v) {}             // NOLINT
  template <typename T>
  Value(const std::optional<T>& v) {  // NOLINT: NULL when empty
    if (v) *this = Value(*v);
  }

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  int64_t int_value() const { return i_; }
  double real_value() const { return d_; }
  const std::string& text_value() const { return s_; }
  // The value as PostgreSQL text-format parameter.
  std::string ToText() const;

 private:
  Kind kind_ = Kind::kNull;
  int64_t i_ = 0;
  double d_ = 0;
  std::string s_;
};

using Params = std::vector<Value>;

// One row of a result, valid only inside the callback that receives it.
class Row {
 public:
  virtual ~Row() = default;
  virtual int size() const = 0;
  virtual bool IsNull(int col) const = 0;
  // NULL reads as 0 / "" ; use the Opt* forms where NULL means something.
  virtual int64_t Int(int col) const = 0;
  virtual double Real(int col) const = 0;
  virtual std::string_view TextView(int col) const = 0;
  virtual std::string_view Name(int col) const = 0;

  std::string Text(int col) const { return std::string(TextView(col)); }
  bool Bool(int col) const { return Int(col) != 0; }
  std::optional<int64_t> OptInt(int col) const {
    return IsNull(col) ? std::nullopt : std::optional<int64_t>(Int(col));
  }
  std::optional<std::string> OptText(int col) const {
    return IsNull(col) ? std::nullopt : std::optional<std::string>(Text(col));
  }
};

using RowFn = std::function<void(const Row&)>;

// A statement prepared once and run many times (bulk loads).
class Statement {
 public:
  virtual ~Statement() = default;
  // Runs the statement with `params`; returns rows affected.
  virtual Result<int64_t> Run(const Params& params) = 0;
};

class Connection {
 public:
  virtual ~Connection() = default;
  virtual Dialect dialect() const = 0;

  // Runs one statement; returns the number of rows changed.
  virtual Result<int64_t> Exec(std::string_view sql, const Params& params = {}) = 0;
  // Runs one query and calls `fn` for each row.
  virtual Status Query(std::string_view sql, const Params& params, const RowFn& fn) = 0;
  // Runs several statements separated by ';' without parameters (migrations).
  virtual Status ExecScript(std::string_view sql) = 0;
  virtual Result<std::unique_ptr<Statement>> Prepare(std::string_view sql) = 0;

  // Conveniences over Query.
  // The first column of the first row, or NotFound when there is no row.
  Result<int64_t> QueryInt(std::string_view sql, const Params& params = {});
  Result<std::string> QueryText(std::string_view sql, const Params& params = {});
  // true and the row passed to fn when there is a row; false when none.
  Result<bool> QueryOne(std::string_view sql, const Params& params, const RowFn& fn);
  // INSERT ... RETURNING id
  Result<int64_t> InsertReturningId(std::string_view sql, const Params& params);
};

struct PoolStats {
  std::atomic<int64_t> connections_open{0};
  std::atomic<int64_t> connections_in_use{0};
  std::atomic<int64_t> waits{0};         // acquisitions that had to wait
  std::atomic<int64_t> transactions{0};  // committed write transactions
  std::atomic<int64_t> rollbacks{0};
  std::atomic<int64_t> errors{0};
};

struct DatabaseOptions {
  int max_readers = 8;  // SQLite readers / PostgreSQL pool size
  int busy_timeout_ms = 10'000;
  int statement_timeout_ms = 30'000;  // PostgreSQL statement_timeout
  bool bulk_load = false;             // SQLite: synchronous=OFF for a one-off generator run
};

class Database {
 public:
  virtual ~Database() = default;

  // "sqlite://PATH", "sqlite://:memory:", "postgresql://..." (libpq URI syntax).
  static Result<std::unique_ptr<Database>> Open(std::string_view url,
                                                const DatabaseOptions& options = {});

  virtual Dialect dialect() const = 0;
  // The URL without password, for logs.
  virtual std::string Describe() const = 0;

  // Runs `fn` on a reader connection, outside any explicit transaction.
  virtual Status Read(const std::function<Status(Connection&)>& fn) = 0;
  // Runs `fn` in a write transaction: commit when it returns OK, roll back otherwise (and on
  // exceptions, which are rethrown). Serialised on SQLite.
  virtual Status Write(const std::function<Status(Connection&)>& fn) = 0;

  virtual const PoolStats& stats() const = 0;
  virtual int pool_size() const = 0;

  // After bulk inserts with explicit ids: moves PostgreSQL's identity sequence past max(id).
  Status ResetIdentity(Connection& c, std::string_view table);

  // Typed helpers.
  template <typename T>
  Result<T> ReadValue(const std::function<Result<T>(Connection&)>& fn) {
    std::optional<Result<T>> out;
    Status st = Read([&](Connection& c) {
      out.emplace(fn(c));
      return out->status();
    });
    if (!st.ok()) return st;
    return std::move(*out);
  }
  template <typename T>
  Result<T> WriteValue(const std::function<Result<T>(Connection&)>& fn) {
    std::optional<Result<T>> out;
    Status st = Write([&](Connection& c) {
      out.emplace(fn(c));
      return out->status();
    });
    if (!st.ok()) return st;
    return std::move(*out);
  }
};

// Rewrites $1..$n to ?1..?n outside string literals and quoted identifiers (SQLite).
std::string ToSqlitePlaceholders(std::string_view sql);

// Escapes a LIKE pattern fragment with '\' (use with ESCAPE '\').
std::string EscapeLike(std::string_view s);

}  // namespace gridmis::store
