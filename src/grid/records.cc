#include "grid/records.h"

#include <algorithm>
#include <iterator>

#include "http/json_fields.h"

namespace gridmis::grid {

bool CanSeeDepartment(const org::Actor& actor, int64_t department_id) {
  if (actor.scope == org::DataScope::kSelf) return department_id == actor.department_id;
  return actor.CanSee(department_id);
}

std::string DepartmentScopeSql(const org::Actor& actor, std::string_view column) {
  if (actor.scope == org::DataScope::kSelf) {
    return std::string(column) + " = " + std::to_string(actor.department_id);
  }
  return actor.ScopeSql(column);
}

Result<std::vector<int64_t>> DepartmentSubtree(store::Connection& c, int64_t department_id) {
  std::vector<int64_t> ids;
  // Paths are "/1/4/9/": digits and slashes only, so they need no LIKE escaping.
  RETURN_IF_ERROR(
      c.Query("SELECT d.id FROM departments d, departments p WHERE p.id = $1 AND "
              "d.path LIKE p.path || '%' ORDER BY d.id",
              {department_id}, [&](const store::Row& r) { ids.push_back(r.Int(0)); }));
  return ids;
}

Result<DepartmentRestriction> RestrictDepartments(store::Connection& c,
                                                  const std::vector<int64_t>* scope,
                                                  std::optional<int64_t> department_filter,
                                                  std::string_view table) {
  DepartmentRestriction r;
  if (scope) r.ids = *scope;
  if (department_filter) {
    ASSIGN_OR_RETURN(auto sub, DepartmentSubtree(c, *department_filter));
    if (r.ids) {
      std::vector<int64_t> both;
      std::set_intersection(r.ids->begin(), r.ids->end(), sub.begin(), sub.end(),
                            std::back_inserter(both));
      r.ids = std::move(both);
    } else {
      r.ids = std::move(sub);
    }
  }
  if (!r.ids) return r;
  r.selective = true;
  if (r.ids->empty()) return r;
  std::vector<int64_t> others;
  RETURN_IF_ERROR(c.Query("SELECT id FROM departments WHERE NOT (" + InSql("id", *r.ids) + ")", {},
                          [&](const store::Row& row) { others.push_back(row.Int(0)); }));
  bool outside = false;
  if (!others.empty()) {
    RETURN_IF_ERROR(c.Query("SELECT 1 FROM " + std::string(table) + " WHERE " +
                                InSql("department_id", others) + " LIMIT 1",
                            {}, [&](const store::Row&) { outside = true; }));
  }
  r.selective = outside;
  return r;
}

std::string InSql(std::string_view column, const std::vector<int64_t>& ids) {
  if (ids.empty()) return "1=0";
  std::string s(column);
  if (ids.size() == 1) return s + " = " + std::to_string(ids[0]);
  s += " IN (";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(ids[i]);
  }
  s += ')';
  return s;
}

Status CheckDepartment(store::Connection& c, const org::Actor& actor, int64_t department_id,
                       std::string_view field) {
  bool exists = false;
  RETURN_IF_ERROR(c.Query("SELECT 1 FROM departments WHERE id = $1", {department_id},
                          [&](const store::Row&) { exists = true; }));
  if (!exists || !CanSeeDepartment(actor, department_id)) {
    return InvalidArgument("department " + std::to_string(department_id) +
                               " does not exist or is outside your data scope",
                           std::string(field));
  }
  return Status::Ok();
}

Result<int64_t> CheckVisibleReference(store::Connection& c, const org::Actor& actor,
                                      std::string_view table, std::string_view label, int64_t id,
                                      std::string_view field) {
  std::optional<int64_t> dept;
  RETURN_IF_ERROR(c.Query("SELECT department_id FROM " + std::string(table) + " WHERE id = $1",
                          {id}, [&](const store::Row& r) { dept = r.Int(0); }));
  if (!dept || !CanSeeDepartment(actor, *dept)) {
    return InvalidArgument(std::string(label) + " " + std::to_string(id) +
                               " does not exist or is outside your data scope",
                           std::string(field));
  }
  return *dept;
}

std::string SqlWhere::Bind(store::Value v) {
  params_.push_back(std::move(v));
  return "$" + std::to_string(params_.size());
}

void SqlWhere::And(std::string_view condition) {
  sql_ += " AND ";
  sql_ += condition;
}

std::string SqlWhere::LimitOffset(int page, int page_size) {
  std::string limit = Bind(static_cast<int64_t>(page_size));
  std::string offset = Bind(static_cast<int64_t>(page - 1) * page_size);
  return "LIMIT " + limit + " OFFSET " + offset;
}

std::optional<std::string> NextPrefix(const std::string& prefix) {
  size_t start = prefix.size();
  while (start > 0 && (static_cast<unsigned char>(prefix[start - 1]) & 0xC0) == 0x80) --start;
  if (start == 0) return std::nullopt;
  --start;
  std::string_view last(prefix.data() + start, prefix.size() - start);
  auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(last[i])); };
  uint32_t cp;
  if (last.size() == 1) {
    cp = b(0);
  } else if (last.size() == 2) {
    cp = ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
  } else if (last.size() == 3) {
    cp = ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
  } else {
    cp = ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
  }
  ++cp;
  if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xE000;
  if (cp > 0x10FFFF) return std::nullopt;
  std::string out = prefix.substr(0, start);
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

Result<CappedCount> CountCapped(store::Connection& c, std::string_view from_where,
                                const store::Params& params, int64_t cap) {
  ASSIGN_OR_RETURN(int64_t n,
                   c.QueryInt("SELECT COUNT(*) FROM (SELECT 1 FROM " + std::string(from_where) +
                                  " LIMIT " + std::to_string(cap + 1) + ") t",
                              params));
  return CappedCount{std::min(n, cap), n > cap};
}

std::string ContainsPattern(std::string_view fragment) {
  std::string lower(fragment);
  for (char& ch : lower) {
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  }
  return "%" + store::EscapeLike(lower) + "%";
}

Status StaleVersion(std::string_view entity, int64_t id, int64_t current, int64_t given) {
  return Aborted(std::string(entity) + " " + std::to_string(id) +
                 " was changed by someone else (now version " + std::to_string(current) +
                 ", your edit was based on version " + std::to_string(given) +
                 "); reload it and try again");
}

Status StaleVersionAfterUpdate(store::Connection& c, std::string_view table,
                               std::string_view entity, int64_t id, int64_t given) {
  auto current = c.QueryInt("SELECT version FROM " + std::string(table) + " WHERE id = $1", {id});
  if (!current.ok()) {
    if (current.status().code() == StatusCode::kNotFound) {
      return NotFound(std::string(entity) + " " + std::to_string(id) + " not found");
    }
    return current.status();
  }
  return StaleVersion(entity, id, *current, given);
}

bool IsValidCode(std::string_view s, size_t max_len) {
  if (s.empty() || s.size() > max_len) return false;
  return std::all_of(s.begin(), s.end(), [](char ch) {
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-' || ch == '.';
  });
}

Status CheckCode(std::string_view value, std::string_view field, size_t max_len) {
  if (IsValidCode(value, max_len)) return Status::Ok();
  return InvalidArgument(std::string(field) + " must be 1-" + std::to_string(max_len) +
                             " letters, digits, '-', '_' or '.' (got '" +
                             std::string(value.substr(0, 40)) + "')",
                         std::string(field));
}

Status CheckText(std::string_view value, std::string_view field, size_t min_chars,
                 size_t max_chars) {
  bool control = std::any_of(value.begin(), value.end(), [](char ch) {
    return static_cast<unsigned char>(ch) < 0x20 && ch != '\t';
  });
  if (!http::IsValidUtf8(value) || control) {
    return InvalidArgument(std::string(field) +
                               " must be valid UTF-8 text without control "
                               "characters",
                           std::string(field));
  }
  size_t n = http::Utf8Length(value);
  if (n < min_chars || n > max_chars) {
    std::string range = min_chars == 0
                            ? "at most " + std::to_string(max_chars)
                            : std::to_string(min_chars) + "-" + std::to_string(max_chars);
    return InvalidArgument(
        std::string(field) + " must be " + range + " characters (got " + std::to_string(n) + ")",
        std::string(field));
  }
  return Status::Ok();
}

Status CheckOneOf(std::string_view value, std::string_view field,
                  std::initializer_list<std::string_view> allowed) {
  std::string list;
  for (auto a : allowed) {
    if (a == value) return Status::Ok();
    if (!list.empty()) list += ", ";
    list += a;
  }
  return InvalidArgument(std::string(field) + " must be one of: " + list + " (got '" +
                             std::string(value.substr(0, 40)) + "')",
                         std::string(field));
}

bool IsDigits(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
}

bool IsStandardVoltage(int64_t volts) {
  for (int64_t v : {220, 380, 10'000, 20'000, 35'000, 66'000, 110'000, 220'000}) {
    if (v == volts) return true;
  }
  return false;
}

Status CheckVoltage(int64_t volts, std::string_view field) {
  if (IsStandardVoltage(volts)) return Status::Ok();
  return InvalidArgument(std::string(field) +
                             " must be a standard voltage level in volts: 220, "
                             "380, 10000, 20000, 35000, 66000, 110000 or 220000 "
                             "(got " +
                             std::to_string(volts) + ")",
                         std::string(field));
}

}  // namespace gridmis::grid
