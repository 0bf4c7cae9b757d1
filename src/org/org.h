// The organisation service: the department tree, users, roles and permissions, login sessions
// and API tokens. Every write checks the actor's permission and data scope and is audited.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/time.h"
#include "org/actor.h"
#include "org/password.h"
#include "store/db.h"

namespace gridmis::org {

// 部门: company → city bureau → county branch → supply station, any depth.
struct Department {
  int64_t id = 0;
  std::string code;
  std::string name;
  std::string kind;  // company, city, county, station, office
  std::optional<int64_t> parent_id;
  std::string path;  // "/1/4/9/"
  std::string status = "active";
  int64_t sort_order = 0;
  int64_t version = 0;
  int64_t created_at_us = 0;
  int64_t updated_at_us = 0;
};

struct DepartmentInput {
  std::optional<std::string> code;
  std::optional<std::string> name;
  std::optional<std::string> kind;
  std::optional<int64_t> parent_id;  // required on create except for the first (root)
  std::optional<std::string> status;
  std::optional<int64_t> sort_order;
};

struct User {
  int64_t id = 0;
  std::string username;
  std::string display_name;
  int64_t department_id = 0;
  std::optional<std::string> phone;
  std::optional<std::string> email;
  std::string status = "active";  // active, disabled
  bool must_change_password = false;
  int64_t failed_logins = 0;
  int64_t locked_until_us = 0;
  std::optional<int64_t> last_login_at_us;
  int64_t password_changed_at_us = 0;
  std::vector<std::string> roles;  // role codes
  int64_t version = 0;
  int64_t created_at_us = 0;
  int64_t updated_at_us = 0;
};

struct UserInput {
  std::optional<std::string> username;
  std::optional<std::string> display_name;
  std::optional<int64_t> department_id;
  std::optional<std::string> phone;
  std::optional<std::string> email;
  std::optional<std::string> status;
  std::optional<std::string> password;  // create only; later changes go through SetPassword
  std::optional<std::vector<std::string>> roles;
};

struct UserQuery {
  std::string q;                         // username or display name contains
  std::optional<int64_t> department_id;  // that department and below
  std::string role;
  std::string status;
  int page = 1;
  int page_size = 20;
};

struct Role {
  int64_t id = 0;
  std::string code;
  std::string name;
  std::string category;    // admin, business
  std::string data_scope;  // self, own_department, department_and_below, all
  bool builtin = false;
  std::string description;
  std::vector<std::string> permissions;
  int64_t version = 0;
};

struct RoleInput {
  std::optional<std::string> code;
  std::optional<std::string> name;
  std::optional<std::string> data_scope;
  std::optional<std::string> description;
  std::optional<std::vector<std::string>> permissions;
};

struct Session {
  std::string token;  // the cookie value; only returned at login
  int64_t user_id = 0;
  int64_t expires_at_us = 0;       // absolute
  int64_t idle_expires_at_us = 0;  // if no request before then
};

struct ApiToken {
  int64_t id = 0;
  std::string name;
  std::string prefix;
  int64_t user_id = 0;
  std::string username;
  int64_t created_at_us = 0;
  std::optional<int64_t> expires_at_us;
  std::optional<int64_t> revoked_at_us;
  std::optional<int64_t> last_used_at_us;
  std::string token;  // only when just created
};

struct OrgOptions {
  int64_t session_idle_us = 30 * kMicrosPerMinute;
  int64_t session_max_us = 12 * 60 * kMicrosPerMinute;
  int lockout_failures = 5;
  int64_t lockout_us = 10 * kMicrosPerMinute;
  PasswordPolicy password_policy;
  HashStrength hash_strength = HashStrength::kInteractive;
};

class OrgService {
 public:
  OrgService(store::Database& db, const Clock& clock, OrgOptions options);
  ~OrgService();

  // Creates or refreshes the built-in roles and their permissions. Idempotent.
  Status EnsureBuiltinRoles();

  // ---- Departments ----
  // Those inside the actor's data scope, ordered as a tree (parents before children).
  Result<std::vector<Department>> ListDepartments(const Actor& actor);
  Result<Department> GetDepartment(const Actor& actor, int64_t id);
  Result<Department> CreateDepartment(const Actor& actor, const DepartmentInput& in);
  // Moving a department (parent_id) moves its subtree; a move under itself is refused.
  Result<Department> UpdateDepartment(const Actor& actor, int64_t id, int64_t version,
                                      const DepartmentInput& in);
  Result<std::optional<Department>> FindDepartmentByCode(std::string_view code);
  // The ids of `id` and all its descendants (cached; refreshed after department writes).
  Result<std::vector<int64_t>> Subtree(int64_t id);

  // ---- Users ----
  Result<std::vector<User>> ListUsers(const Actor& actor, const UserQuery& q, int64_t* total);
  Result<User> GetUser(const Actor& actor, int64_t id);
  Result<User> CreateUser(const Actor& actor, const UserInput& in);
  Result<User> UpdateUser(const Actor& actor, int64_t id, int64_t version, const UserInput& in);
  Result<User> SetUserRoles(const Actor& actor, int64_t id, int64_t version,
                            const std::vector<std::string>& roles);
  Result<User> LockUser(const Actor& actor, int64_t id, bool locked);
  // An administrator sets a new password; the user must change it at next login.
  Result<User> ResetPassword(const Actor& actor, int64_t id, std::string_view new_password);
  // A user changes their own password.
  Status ChangeOwnPassword(const Actor& actor, std::string_view old_password,
                           std::string_view new_password);

  // ---- Roles ----
  Result<std::vector<Role>> ListRoles(const Actor& actor);
  Result<Role> CreateRole(const Actor& actor, const RoleInput& in);
  Result<Role> UpdateRole(const Actor& actor, int64_t id, int64_t version, const RoleInput& in);

  // ---- Authentication ----
  // Checks the password; counts failures and locks the account after lockout_failures for
  // lockout_us. Errors are deliberately vague about which part was wrong.
  Result<Session> Login(std::string_view username, std::string_view password,
                        std::string_view remote_ip, std::string_view user_agent);
  // The Actor behind a session token; Unauthenticated when unknown, revoked or expired (idle or
  // absolute). Extends the idle expiry.
  Result<Actor> AuthenticateSession(std::string_view token, std::string_view remote_ip);
  Status Logout(const Actor& actor, std::string_view token);
  Result<Actor> AuthenticateApiToken(std::string_view token, std::string_view remote_ip);
  Result<ApiToken> CreateApiToken(const Actor& actor, int64_t user_id, std::string_view name,
                                  std::optional<int64_t> expires_at_us);
  Result<std::vector<ApiToken>> ListApiTokens(const Actor& actor);
  Status RevokeApiToken(const Actor& actor, int64_t id);

  // The Actor of a user (roles, permissions, data scope), for sessions, tokens and tests.
  Result<Actor> LoadActor(int64_t user_id);

  const OrgOptions& options() const { return options_; }

 private:
  struct Cache;
  Status InvalidateDepartments();
  Result<User> LoadUser(store::Connection& c, int64_t id);

  store::Database& db_;
  const Clock& clock_;
  OrgOptions options_;
  std::unique_ptr<Cache> cache_;
};

// Records as JSON, for the API and the audit log's before/after values. Users never include
// password hashes.
nlohmann::json ToJson(const Department& d);
nlohmann::json ToJson(const User& u);
nlohmann::json ToJson(const Role& r);
nlohmann::json ToJson(const ApiToken& t);

}  // namespace gridmis::org
