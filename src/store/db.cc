#include "store/db.h"

#include <charconv>
#include <cstdio>

namespace gridmis::store {

std::string Value::ToText() const {
  switch (kind_) {
    case Kind::kNull:
      return {};
    case Kind::kInt:
      return std::to_string(i_);
    case Kind::kReal: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.17g", d_);
      return buf;
    }
    case Kind::kText:
      return s_;
  }
  return {};
}

Result<int64_t> Connection::QueryInt(std::string_view sql, const Params& params) {
  std::optional<int64_t> v;
  bool found = false;
  RETURN_IF_ERROR(Query(sql, params, [&](const Row& r) {
    if (!found) {
      found = true;
      v = r.Int(0);
    }
  }));
  if (!found) return NotFound("no row");
  return *v;
}

Result<std::string> Connection::QueryText(std::string_view sql, const Params& params) {
  std::optional<std::string> v;
  RETURN_IF_ERROR(Query(sql, params, [&](const Row& r) {
    if (!v) v = r.Text(0);
  }));
  if (!v) return NotFound("no row");
  return *v;
}

Result<bool> Connection::QueryOne(std::string_view sql, const Params& params, const RowFn& fn) {
  bool found = false;
  RETURN_IF_ERROR(Query(sql, params, [&](const Row& r) {
    if (!found) {
      found = true;
      fn(r);
    }
  }));
  return found;
}

Result<int64_t> Connection::InsertReturningId(std::string_view sql, const Params& params) {
  return QueryInt(sql, params);
}

Status Database::ResetIdentity(Connection& c, std::string_view table) {
  if (dialect() != Dialect::kPostgres) return Status::Ok();
  std::string t(table);
  auto r = c.Exec("SELECT setval(pg_get_serial_sequence('" + t +
                  "', 'id'), COALESCE((SELECT MAX(id) FROM " + t + "), 0) + 1, false)");
  return r.status();
}

std::string ToSqlitePlaceholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  char quote = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (quote) {
      out += c;
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      out += c;
      continue;
    }
    if (c == '$' && i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
      out += '?';
      continue;
    }
    out += c;
  }
  return out;
}

std::string EscapeLike(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace gridmis::store
