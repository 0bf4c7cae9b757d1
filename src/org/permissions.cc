#include "org/permissions.h"

namespace gridmis::org {

const std::vector<PermissionInfo>& AllPermissions() {
  static const std::vector<PermissionInfo> kAll = {
      {"org.department.read", "查看部门", "View departments"},
      {"org.department.write", "维护部门", "Edit departments"},
      {"org.user.read", "查看用户", "View users"},
      {"org.user.write", "维护用户账号", "Create and edit user accounts"},
      {"org.user.lock", "锁定/解锁用户", "Lock and unlock users"},
      {"org.role.read", "查看角色", "View roles"},
      {"org.role.write", "维护角色权限", "Edit roles and their permissions"},
      {"org.role.assign", "分配角色", "Assign roles to users"},
      {"org.apitoken.write", "管理接口令牌", "Issue and revoke API tokens"},
      {"system.config", "系统配置", "System configuration"},
      {"audit.read", "查看审计日志", "Read the audit log"},
      {"customer.read", "查看客户", "View customers"},
      {"customer.write", "维护客户档案", "Edit customers and accounts"},
      {"customer.export", "导出客户", "Export customer lists"},
      {"grid.read", "查看电网拓扑", "View grid topology"},
      {"grid.write", "维护电网拓扑", "Edit grid topology"},
      {"metering.read", "查看计量点与电能表", "View metering points and meters"},
      {"metering.write", "维护计量点与电能表", "Edit metering points, meters and installations"},
      {"terminal.read", "查看采集终端", "View terminals"},
      {"terminal.write", "维护采集终端", "Edit terminals"},
  };
  return kAll;
}

bool IsKnownPermission(std::string_view code) {
  for (const auto& p : AllPermissions()) {
    if (p.code == code) return true;
  }
  return false;
}

const std::vector<BuiltinRole>& BuiltinRoles() {
  static const std::vector<BuiltinRole> kRoles = {
      // 三员: mutually exclusive; the system administrator has no business rights.
      {"system_admin",
       "系统管理员",
       "System administrator",
       "admin",
       "all",
       {"org.department.read", "org.department.write", "org.user.read", "org.user.write",
        "org.role.read", "system.config"}},
      {"security_admin",
       "安全管理员",
       "Security administrator",
       "admin",
       "all",
       {"org.department.read", "org.user.read", "org.user.lock", "org.role.read", "org.role.write",
        "org.role.assign", "org.apitoken.write"}},
      {"audit_admin",
       "审计管理员",
       "Audit administrator",
       "admin",
       "all",
       {"org.department.read", "org.user.read", "audit.read"}},
      // Business roles.
      {"counter_clerk",
       "营业员",
       "Counter clerk",
       "business",
       "department_and_below",
       {"org.department.read", "customer.read", "customer.write", "customer.export", "grid.read",
        "metering.read", "metering.write", "terminal.read"}},
      {"meter_reader",
       "抄表员",
       "Meter reader",
       "business",
       "own_department",
       {"org.department.read", "customer.read", "grid.read", "metering.read", "terminal.read"}},
      {"billing_clerk",
       "核算员",
       "Billing clerk",
       "business",
       "department_and_below",
       {"org.department.read", "customer.read", "customer.export", "grid.read", "metering.read",
        "terminal.read"}},
      {"inspector",
       "用电检查员",
       "Inspector",
       "business",
       "department_and_below",
       {"org.department.read", "customer.read", "grid.read", "metering.read", "metering.write",
        "terminal.read", "terminal.write"}},
      {"analyst",
       "分析员",
       "Analyst",
       "business",
       "department_and_below",
       {"org.department.read", "customer.read", "customer.export", "grid.read", "metering.read",
        "terminal.read"}},
      {"manager",
       "营销经理",
       "Manager",
       "business",
       "department_and_below",
       {"org.department.read", "org.user.read", "customer.read", "customer.write",
        "customer.export", "grid.read", "grid.write", "metering.read", "metering.write",
        "terminal.read", "terminal.write"}},
  };
  return kRoles;
}

}  // namespace gridmis::org
