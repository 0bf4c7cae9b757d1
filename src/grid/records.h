// Helpers shared by the record services that build on the grid topology (grid, customer,
// metering, acquisition): the data scope of department-owned records, scoped list filters,
// optimistic-concurrency errors and field checks that name the field at fault.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "org/actor.h"
#include "store/db.h"

namespace gridmis::grid {

// A field of a partial update that may also be cleared: nullopt leaves the stored value as it
// is, an empty inner optional clears it (NULL), a value sets it.
template <typename T>
using Nullable = std::optional<std::optional<T>>;

// Applies a Nullable update to a stored optional value.
template <typename T>
std::optional<T> Merge(const Nullable<T>& update, const std::optional<T>& stored) {
  return update ? *update : stored;
}

// ---- Data scope of department-owned records ----
//
// Topology, meter assets and terminals belong to a department and have no responsible user.
// Under the "self" data scope (records the user is responsible for) a user sees those of their
// own department, like org::OrgService::ListDepartments does; every other scope is
// org::Actor::CanSee.
bool CanSeeDepartment(const org::Actor& actor, int64_t department_id);
// The same rule as a SQL condition over `column` (integers inlined, no parameters).
std::string DepartmentScopeSql(const org::Actor& actor, std::string_view column);

// The ids of `department_id` and every department below it (by departments.path), sorted;
// empty when there is no such department.
Result<std::vector<int64_t>> DepartmentSubtree(store::Connection& c, int64_t department_id);

// The department condition of a list of rows of `table` (which has a department_id column):
// `scope` (the actor's departments, or null when the scope is not a department list)
// intersected with the subtree of `department_filter`.
struct DepartmentRestriction {
  // The departments rows must belong to; nullopt when nothing restricts. Always part of the
  // query when present: it is the data scope.
  std::optional<std::vector<int64_t>> ids;
  // False when `ids` leaves out only departments without rows in `table` (a city bureau's scope
  // is every station below it): such a condition selects everything and must not drive the
  // query through the department index.
  bool selective = false;
};
// `table` is one of our table names.
Result<DepartmentRestriction> RestrictDepartments(store::Connection& c,
                                                  const std::vector<int64_t>* scope,
                                                  std::optional<int64_t> department_filter,
                                                  std::string_view table);

// "column IN (1,2,3)", "column = 1", or "1=0" for an empty list.
std::string InSql(std::string_view column, const std::vector<int64_t>& ids);

// The department a record is created in or moved to must exist and be inside the actor's data
// scope (CanSeeDepartment); otherwise InvalidArgument naming `field`.
Status CheckDepartment(store::Connection& c, const org::Actor& actor, int64_t department_id,
                       std::string_view field = "department_id");

// A department-owned record referenced by id (a substation, feeder, transformer area or meter)
// must exist and be visible; otherwise InvalidArgument naming `field`: "transformer area 7 does
// not exist or is outside your data scope". `table` is one of our table names, never user
// input. Returns the record's department_id.
Result<int64_t> CheckVisibleReference(store::Connection& c, const org::Actor& actor,
                                      std::string_view table, std::string_view label, int64_t id,
                                      std::string_view field);

// ---- Building scoped list queries ----

// A WHERE clause with positional parameters:
//   SqlWhere w(actor.ScopeSql("c.department_id"));
//   w.And("c.status = " + w.Bind(q.status));
//   c.Query("SELECT ... WHERE " + w.sql() + " ORDER BY ... " + w.LimitOffset(page, size),
//   w.params(), ...)
class SqlWhere {
 public:
  explicit SqlWhere(std::string first_condition = "1=1") : sql_(std::move(first_condition)) {}
  // Adds a parameter and returns its placeholder ("$3").
  std::string Bind(store::Value v);
  void And(std::string_view condition);
  const std::string& sql() const { return sql_; }
  const store::Params& params() const { return params_; }
  // "LIMIT $n OFFSET $m", binding both; call last.
  std::string LimitOffset(int page, int page_size);

 private:
  std::string sql_;
  store::Params params_;
};

// The smallest string greater, bytewise (SQLite's BINARY collation, PostgreSQL's C and
// C.UTF-8), than every string starting with `prefix`: its last code point incremented, for
// index range scans "col >= prefix AND col < next". nullopt when there is none.
std::optional<std::string> NextPrefix(const std::string& prefix);

// Counts at most `cap` + 1 rows of "SELECT 1 FROM <from_where>", so a broad list never counts a
// whole large table: {min(n, cap), n > cap}.
inline constexpr int64_t kListCountCap = 10'000;
struct CappedCount {
  int64_t total = 0;
  bool capped = false;
};
Result<CappedCount> CountCapped(store::Connection& c, std::string_view from_where,
                                const store::Params& params, int64_t cap = kListCountCap);

// "%fragment%" with LIKE wildcards escaped, lower-cased (ASCII), for
// "LOWER(col) LIKE $n ESCAPE '\'".
std::string ContainsPattern(std::string_view fragment);

// ---- Errors and field checks ----

// Aborted (HTTP 409): "feeder 12 was changed by someone else (now version 4, your edit was based
// on version 3); reload it and try again".
Status StaleVersion(std::string_view entity, int64_t id, int64_t current, int64_t given);
// The same after "UPDATE <table> ... WHERE id = $ AND version = $" changed no row because a
// concurrent edit won the race: reads the current version for the message.
Status StaleVersionAfterUpdate(store::Connection& c, std::string_view table,
                               std::string_view entity, int64_t id, int64_t given);

// 1..max_len of [A-Za-z0-9_.-].
bool IsValidCode(std::string_view s, size_t max_len = 32);
Status CheckCode(std::string_view value, std::string_view field, size_t max_len = 32);
// Valid UTF-8 without control characters, min_chars..max_chars code points.
Status CheckText(std::string_view value, std::string_view field, size_t min_chars,
                 size_t max_chars);
Status CheckOneOf(std::string_view value, std::string_view field,
                  std::initializer_list<std::string_view> allowed);
// Every character a decimal digit (and at least one).
bool IsDigits(std::string_view s);

// Standard voltage levels in volts: 220, 380, 10000, 20000, 35000, 66000, 110000, 220000.
bool IsStandardVoltage(int64_t volts);
Status CheckVoltage(int64_t volts, std::string_view field = "voltage_v");

}  // namespace gridmis::grid
