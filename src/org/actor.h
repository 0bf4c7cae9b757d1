// The acting user of a request or job: who they are, what they may do (permissions) and which
// records they may see (data scope). Services take an Actor and enforce both; the UI only hides.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/db.h"

namespace gridmis::org {

// 数据权限: which records a role reaches.
enum class DataScope {
  kSelf = 0,                // 仅本人: records the user is responsible for
  kOwnDepartment = 1,       // 本部门
  kDepartmentAndBelow = 2,  // 本部门及以下
  kAll = 3,                 // 全部
};

std::string_view DataScopeName(DataScope s);  // "self", "own_department", ...
Result<DataScope> ParseDataScope(std::string_view s);

struct Actor {
  int64_t user_id = 0;  // 0 for the system itself (CLI bootstrap, scheduled jobs)
  std::string username;
  int64_t department_id = 0;
  DataScope scope = DataScope::kSelf;
  // Departments reachable under `scope`, sorted; unused when scope is kAll.
  std::vector<int64_t> scope_departments;
  std::set<std::string> permissions;
  std::vector<std::string> roles;
  std::string remote_ip;
  std::string auth_method;  // "session", "api_token", "system"

  // The system actor: all permissions, all data. Only for CLI bootstrap and internal jobs.
  static Actor System(std::string name);
  bool is_system() const { return auth_method == "system"; }

  bool Can(std::string_view permission) const;
  // PermissionDenied naming the permission when !Can.
  Status Require(std::string_view permission) const;

  // Whether a record owned by `department_id` (and, for kSelf, with `responsible_user_id`) is
  // inside the data scope.
  bool CanSee(int64_t department_id, std::optional<int64_t> responsible_user_id = {}) const;

  // A SQL condition restricting `dept_column` (and `user_column` for kSelf; may be empty) to the
  // data scope, e.g. "c.department_id IN (3,4,9)" or "1=1". Ids are inlined (they are integers
  // from the database), so the fragment needs no parameters.
  std::string ScopeSql(std::string_view dept_column, std::string_view user_column = {}) const;
};

}  // namespace gridmis::org
