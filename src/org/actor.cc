#include "org/actor.h"

#include <algorithm>

namespace gridmis::org {

std::string_view DataScopeName(DataScope s) {
  switch (s) {
    case DataScope::kSelf:
      return "self";
    case DataScope::kOwnDepartment:
      return "own_department";
    case DataScope::kDepartmentAndBelow:
      return "department_and_below";
    case DataScope::kAll:
      return "all";
  }
  return "self";
}

Result<DataScope> ParseDataScope(std::string_view s) {
  if (s == "self") return DataScope::kSelf;
  if (s == "own_department") return DataScope::kOwnDepartment;
  if (s == "department_and_below") return DataScope::kDepartmentAndBelow;
  if (s == "all") return DataScope::kAll;
  return InvalidArgument(
      "data scope must be one of: self, own_department, "
      "department_and_below, all",
      "data_scope");
}

Actor Actor::System(std::string name) {
  Actor a;
  a.username = std::move(name);
  a.scope = DataScope::kAll;
  a.auth_method = "system";
  return a;
}

bool Actor::Can(std::string_view permission) const {
  if (is_system()) return true;
  return permissions.find(std::string(permission)) != permissions.end();
}

Status Actor::Require(std::string_view permission) const {
  if (Can(permission)) return Status::Ok();
  return PermissionDenied("permission '" + std::string(permission) + "' is required");
}

bool Actor::CanSee(int64_t department_id, std::optional<int64_t> responsible_user_id) const {
  switch (scope) {
    case DataScope::kAll:
      return true;
    case DataScope::kSelf:
      return responsible_user_id.has_value() && *responsible_user_id == user_id;
    case DataScope::kOwnDepartment:
    case DataScope::kDepartmentAndBelow:
      return std::binary_search(scope_departments.begin(), scope_departments.end(), department_id);
  }
  return false;
}

std::string Actor::ScopeSql(std::string_view dept_column, std::string_view user_column) const {
  switch (scope) {
    case DataScope::kAll:
      return "1=1";
    case DataScope::kSelf:
      if (user_column.empty()) return "1=0";
      return std::string(user_column) + " = " + std::to_string(user_id);
    case DataScope::kOwnDepartment:
    case DataScope::kDepartmentAndBelow: {
      if (scope_departments.empty()) return "1=0";
      std::string s(dept_column);
      if (scope_departments.size() == 1) return s + " = " + std::to_string(scope_departments[0]);
      s += " IN (";
      for (size_t i = 0; i < scope_departments.size(); ++i) {
        if (i) s += ',';
        s += std::to_string(scope_departments[i]);
      }
      s += ')';
      return s;
    }
  }
  return "1=0";
}

}  // namespace gridmis::org
