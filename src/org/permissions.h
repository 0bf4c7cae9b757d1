// The permission catalogue and the built-in roles (三员分立 plus the business roles).
#pragma once

#include <string_view>
#include <vector>

namespace gridmis::org {

struct PermissionInfo {
  std::string_view code;  // "customer.write"
  std::string_view name_zh;
  std::string_view name_en;
};

// Every permission the system checks, in display order.
const std::vector<PermissionInfo>& AllPermissions();
bool IsKnownPermission(std::string_view code);

struct BuiltinRole {
  std::string_view code;
  std::string_view name_zh;
  std::string_view name_en;
  std::string_view category;    // "admin" (mutually exclusive with any other role) or "business"
  std::string_view data_scope;  // see DataScope
  std::vector<std::string_view> permissions;
};

const std::vector<BuiltinRole>& BuiltinRoles();

}  // namespace gridmis::org
