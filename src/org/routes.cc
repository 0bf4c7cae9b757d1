#include "org/routes.h"

#include "http/json_fields.h"
#include "http/schema.h"
#include "org/audit.h"
#include "org/permissions.h"

namespace gridmis::org {

using http::JsonFields;
using http::Reply;
using http::RouteContext;
using nlohmann::json;

namespace {

using http::schema::Bool;
using http::schema::Int;
using http::schema::NullableInt;
using http::schema::NullableStr;
using http::schema::Obj;
using http::schema::Str;
using http::schema::StrArray;

void AddSchemas(http::Router& r) {
  r.AddSchema(
      "Department",
      Obj({{"id", Int()},
           {"code", Str()},
           {"name", Str()},
           {"kind",
            {{"type", "string"}, {"enum", {"company", "city", "county", "station", "office"}}}},
           {"parent_id", NullableInt()},
           {"path", Str()},
           {"status", Str()},
           {"sort_order", Int()},
           {"version", Int()},
           {"created_at", Str()},
           {"updated_at", Str()}},
          {"id", "code", "name", "kind", "path", "version"}));
  r.AddSchema("DepartmentInput",
              Obj({{"code", Str()},
                   {"name", Str()},
                   {"kind", Str()},
                   {"parent_id", Int()},
                   {"status", Str()},
                   {"sort_order", Int()},
                   {"version", {{"type", "integer"}, {"description", "required on update"}}}}));
  r.AddSchema("User", Obj({{"id", Int()},
                           {"username", Str()},
                           {"display_name", Str()},
                           {"department_id", Int()},
                           {"phone", NullableStr()},
                           {"email", NullableStr()},
                           {"status", Str()},
                           {"must_change_password", Bool()},
                           {"failed_logins", Int()},
                           {"locked_until", NullableStr()},
                           {"last_login_at", NullableStr()},
                           {"roles", StrArray()},
                           {"version", Int()},
                           {"created_at", Str()},
                           {"updated_at", Str()}},
                          {"id", "username", "display_name", "department_id", "roles", "version"}));
  r.AddSchema("UserInput",
              Obj({{"username", Str()},
                   {"display_name", Str()},
                   {"department_id", Int()},
                   {"phone", Str()},
                   {"email", Str()},
                   {"status", Str()},
                   {"password", {{"type", "string"}, {"description", "create only"}}},
                   {"roles", StrArray()},
                   {"version", {{"type", "integer"}, {"description", "required on update"}}}}));
  r.AddSchema("RolesAssign",
              Obj({{"roles", StrArray()}, {"version", Int()}}, {"roles", "version"}));
  r.AddSchema("PasswordReset", Obj({{"password", Str()}}, {"password"}));
  r.AddSchema("PasswordChange", Obj({{"old_password", Str()}, {"new_password", Str()}},
                                    {"old_password", "new_password"}));
  r.AddSchema("Role", Obj({{"id", Int()},
                           {"code", Str()},
                           {"name", Str()},
                           {"category", Str()},
                           {"data_scope", Str()},
                           {"builtin", Bool()},
                           {"description", Str()},
                           {"permissions", StrArray()},
                           {"version", Int()}},
                          {"id", "code", "name", "category", "data_scope", "permissions"}));
  r.AddSchema("RoleInput",
              Obj({{"code", Str()},
                   {"name", Str()},
                   {"data_scope",
                    {{"type", "string"},
                     {"enum", {"self", "own_department", "department_and_below", "all"}}}},
                   {"description", Str()},
                   {"permissions", StrArray()},
                   {"version", Int()}}));
  r.AddSchema("Permission", Obj({{"code", Str()}, {"name_zh", Str()}, {"name_en", Str()}}));
  r.AddSchema("Login", Obj({{"username", Str()}, {"password", Str()}}, {"username", "password"}));
  r.AddSchema("Me", Obj({{"user", {{"$ref", "#/components/schemas/User"}}},
                         {"department", {{"$ref", "#/components/schemas/Department"}}},
                         {"permissions", StrArray()},
                         {"data_scope", Str()},
                         {"auth_method", Str()},
                         {"session_idle_seconds", Int()}},
                        {"user", "permissions", "data_scope"}));
  r.AddSchema(
      "ApiToken",
      Obj({{"id", Int()},
           {"name", Str()},
           {"prefix", Str()},
           {"user_id", Int()},
           {"username", Str()},
           {"created_at", Str()},
           {"expires_at", NullableStr()},
           {"revoked_at", NullableStr()},
           {"last_used_at", NullableStr()},
           {"token", {{"type", "string"}, {"description", "only in the creation response"}}}}));
  r.AddSchema("ApiTokenCreate", Obj({{"name", Str()}, {"user_id", Int()}, {"expires_at", Str()}},
                                    {"name", "user_id"}));
  r.AddSchema("AuditEntry", Obj({{"id", Int()},
                                 {"at", Str()},
                                 {"user_id", Int()},
                                 {"username", Str()},
                                 {"action", Str()},
                                 {"entity", Str()},
                                 {"entity_id", Str()},
                                 {"before", {{"type", "object"}, {"nullable", true}}},
                                 {"after", {{"type", "object"}, {"nullable", true}}},
                                 {"remote_ip", Str()},
                                 {"department_id", Int()}}));
  r.AddSchema("AuditVerify", Obj({{"ok", Bool()}, {"first_bad_id", Int()}}));
  r.AddSchema("Ok", Obj({{"ok", Bool()}}));
}

std::string SessionCookie(const std::string& token, int64_t max_age_s, bool secure) {
  std::string c = std::string(kSessionCookie) + "=" + token +
                  "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age_s);
  if (secure) c += "; Secure";
  return c;
}

Result<DepartmentInput> ReadDepartmentInput(JsonFields& f) {
  DepartmentInput in;
  in.code = f.OptString("code", {.max_len = 32});
  in.name = f.OptString("name", {.max_len = 100});
  in.kind = f.OptEnum("kind", {"company", "city", "county", "station", "office"});
  in.parent_id = f.OptInt("parent_id", {.min = 1});
  in.status = f.OptEnum("status", {"active", "inactive"});
  in.sort_order = f.OptInt("sort_order", {.min = 0, .max = 1'000'000});
  return in;
}

std::optional<std::vector<std::string>> ReadStringArray(JsonFields& f, std::string_view name,
                                                        size_t max_items) {
  const json* a = f.OptArray(name);
  if (!a) return std::nullopt;
  std::vector<std::string> out;
  if (a->size() > max_items) {
    f.Fail(InvalidArgument(
        std::string(name) + " has more than " + std::to_string(max_items) + " items",
        std::string(name)));
    return out;
  }
  for (size_t i = 0; i < a->size(); ++i) {
    if (!(*a)[i].is_string() || (*a)[i].get<std::string>().size() > 64) {
      std::string field = std::string(name) + "[" + std::to_string(i) + "]";
      f.Fail(InvalidArgument(field + " must be a string of at most 64 characters", field));
      return out;
    }
    out.push_back((*a)[i].get<std::string>());
  }
  return out;
}

UserInput ReadUserInput(JsonFields& f) {
  UserInput in;
  in.username = f.OptString("username", {.max_len = 32});
  in.display_name = f.OptString("display_name", {.max_len = 50});
  in.department_id = f.OptInt("department_id", {.min = 1});
  in.phone = f.OptString("phone", {.max_len = 32, .min_len = 0});
  in.email = f.OptString("email", {.max_len = 120, .min_len = 0});
  in.status = f.OptEnum("status", {"active", "disabled"});
  in.password = f.OptString("password", {.max_len = 128, .trim = false});
  in.roles = ReadStringArray(f, "roles", 20);
  return in;
}

RoleInput ReadRoleInput(JsonFields& f) {
  RoleInput in;
  in.code = f.OptString("code", {.max_len = 32});
  in.name = f.OptString("name", {.max_len = 50});
  in.data_scope =
      f.OptEnum("data_scope", {"self", "own_department", "department_and_below", "all"});
  in.description = f.OptString("description", {.max_len = 200, .min_len = 0});
  in.permissions = ReadStringArray(f, "permissions", 200);
  return in;
}

json AuditJson(const AuditEntry& e) {
  auto parse = [](const std::string& s) -> json {
    if (s.empty()) return nullptr;
    return json::parse(s, nullptr, false);
  };
  return json{{"id", e.id},
              {"at", FormatUtc(e.at_us)},
              {"user_id", e.user_id},
              {"username", e.username},
              {"action", e.action},
              {"entity", e.entity},
              {"entity_id", e.entity_id},
              {"before", parse(e.before_json)},
              {"after", parse(e.after_json)},
              {"remote_ip", e.remote_ip},
              {"department_id", e.department_id}};
}

}  // namespace

http::Authenticator MakeAuthenticator(OrgService& org) {
  return [&org](const http::Request& req) -> Result<Actor> {
    std::string_view auth = req.Header("authorization");
    if (auth.rfind("Bearer ", 0) == 0)
      return org.AuthenticateApiToken(auth.substr(7), req.remote_ip);
    std::string token = req.Cookie(kSessionCookie);
    if (token.empty()) return Unauthenticated("log in first");
    return org.AuthenticateSession(token, req.remote_ip);
  };
}

void AddRoutes(http::Router& router, OrgService& org, store::Database& db, const Clock& clock,
               RouteOptions options) {
  AddSchemas(router);
  (void)clock;

  // ---- Sessions ----
  router.Add(
      {.method = "POST",
       .pattern = "/api/v1/auth/login",
       .public_route = true,
       .summary = "Log in with username and password; sets the session cookie",
       .tag = "auth",
       .request = "Login",
       .response = "Me",
       .fn = [&org, options](RouteContext& ctx) -> Result<Reply> {
         ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
         JsonFields f(body);
         std::string username = f.String("username", {.max_len = 64});
         std::string password = f.String("password", {.max_len = 128, .trim = false});
         RETURN_IF_ERROR(f.Finish());
         ASSIGN_OR_RETURN(Session s, org.Login(username, password, ctx.req.remote_ip,
                                               ctx.req.Header("user-agent")));
         ASSIGN_OR_RETURN(Actor a, org.LoadActor(s.user_id));
         Reply r;
         r.body = {{"user_id", a.user_id},
                   {"username", a.username},
                   {"permissions", a.permissions},
                   {"roles", a.roles},
                   {"expires_at", FormatUtc(s.expires_at_us)},
                   {"session_idle_seconds", org.options().session_idle_us / kMicrosPerSecond}};
         r.headers.emplace_back(
             "Set-Cookie", SessionCookie(s.token, org.options().session_max_us / kMicrosPerSecond,
                                         options.cookie_secure));
         return r;
       }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/auth/logout",
              .summary = "End the session",
              .tag = "auth",
              .response = "Ok",
              .fn = [&org, options](RouteContext& ctx) -> Result<Reply> {
                RETURN_IF_ERROR(org.Logout(ctx.actor, ctx.req.Cookie(kSessionCookie)));
                Reply r;
                r.body = {{"ok", true}};
                r.headers.emplace_back("Set-Cookie", SessionCookie("", 0, options.cookie_secure));
                return r;
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/me",
              .summary = "The logged-in user, department, permissions and data scope",
              .tag = "auth",
              .response = "Me",
              .fn = [&org](RouteContext& ctx) -> Result<Reply> {
                const Actor& a = ctx.actor;
                Actor self = a;
                self.permissions.insert("org.user.read");  // everyone may read themselves
                self.scope = DataScope::kAll;
                ASSIGN_OR_RETURN(User u, org.GetUser(self, a.user_id));
                json dept = nullptr;
                auto d = org.GetDepartment(self, a.department_id);
                if (d.ok()) dept = ToJson(*d);
                return http::JsonReply(
                    {{"user", ToJson(u)},
                     {"department", dept},
                     {"permissions", a.permissions},
                     {"roles", a.roles},
                     {"data_scope", DataScopeName(a.scope)},
                     {"auth_method", a.auth_method},
                     {"session_idle_seconds", org.options().session_idle_us / kMicrosPerSecond}});
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/me/password",
              .summary = "Change your own password",
              .tag = "auth",
              .request = "PasswordChange",
              .response = "Ok",
              .fn = [&org](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                std::string old_pw = f.String("old_password", {.max_len = 128, .trim = false});
                std::string new_pw = f.String("new_password", {.max_len = 128, .trim = false});
                RETURN_IF_ERROR(f.Finish());
                RETURN_IF_ERROR(org.ChangeOwnPassword(ctx.actor, old_pw, new_pw));
                return http::JsonReply({{"ok", true}});
              }});

  // ---- Departments ----
  router.Add({.method = "GET",
              .pattern = "/api/v1/departments",
              .summary = "Departments in your data scope, parents before children",
              .tag = "org",
              .query = {{"q", "string", "code or name contains"},
                        {"kind", "string", "company, city, county, station, office"},
                        {"parent_id", "integer", "direct children of this department"}},
              .response = "Department",
              .list = true,
              .fn = [&org](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
                ASSIGN_OR_RETURN(auto parent, http::QueryInt(ctx.req, "parent_id"));
                std::string q(ctx.req.Query("q").value_or(""));
                std::string kind(ctx.req.Query("kind").value_or(""));
                ASSIGN_OR_RETURN(auto all, org.ListDepartments(ctx.actor));
                json items = json::array();
                int64_t total = 0;
                for (const auto& d : all) {
                  if (!q.empty() && d.code.find(q) == std::string::npos &&
                      d.name.find(q) == std::string::npos) {
                    continue;
                  }
                  if (!kind.empty() && d.kind != kind) continue;
                  if (parent && d.parent_id != *parent) continue;
                  if (page.Contains(total)) {
                    items.push_back(ToJson(d));
                  }
                  ++total;
                }
                return http::JsonReply(http::PageJson(std::move(items), page, total));
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/departments/{id}",
              .summary = "One department",
              .tag = "org",
              .response = "Department",
              .fn = [&org](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(Department d, org.GetDepartment(ctx.actor, id));
                return http::JsonReply(ToJson(d));
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/departments",
              .permission = "org.department.write",
              .summary = "Create a department under a parent",
              .tag = "org",
              .request = "DepartmentInput",
              .response = "Department",
              .success_status = 201,
              .fn = [&org](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                ASSIGN_OR_RETURN(DepartmentInput in, ReadDepartmentInput(f));
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(Department d, org.CreateDepartment(ctx.actor, in));
                return http::JsonReply(ToJson(d), 201);
              }});
  router.Add({.method = "PATCH",
              .pattern = "/api/v1/departments/{id}",
              .permission = "org.department.write",
              .summary = "Change or move a department (with its version)",
              .tag = "org",
              .request = "DepartmentInput",
              .response = "Department",
              .fn = [&org](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                int64_t version = f.Int("version", {.min = 1});
                ASSIGN_OR_RETURN(DepartmentInput in, ReadDepartmentInput(f));
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(Department d, org.UpdateDepartment(ctx.actor, id, version, in));
                return http::JsonReply(ToJson(d));
              }});

  // ---- Users ----
  router.Add({.method = "GET",
              .pattern = "/api/v1/users",
              .permission = "org.user.read",
              .summary = "Users in your data scope",
              .tag = "org",
              .query = {{"q", "string", "username or name contains"},
                        {"department_id", "integer", "that department and below"},
                        {"role", "string", "role code"},
                        {"status", "string", "active or disabled"}},
              .response = "User",
              .list = true,
              .fn = [&org](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
                UserQuery q;
                q.q = std::string(ctx.req.Query("q").value_or(""));
                ASSIGN_OR_RETURN(q.department_id, http::QueryInt(ctx.req, "department_id"));
                q.role = std::string(ctx.req.Query("role").value_or(""));
                q.status = std::string(ctx.req.Query("status").value_or(""));
                q.page = page.page;
                q.page_size = page.page_size;
                int64_t total = 0;
                ASSIGN_OR_RETURN(auto users, org.ListUsers(ctx.actor, q, &total));
                return http::JsonReply(http::PageOf(users, page, total));
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/users/{id}",
              .permission = "org.user.read",
              .summary = "One user",
              .tag = "org",
              .response = "User",
              .fn = [&org](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(User u, org.GetUser(ctx.actor, id));
                return http::JsonReply(ToJson(u));
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/users",
              .permission = "org.user.write",
              .summary = "Create a user account (roles need org.role.assign)",
              .tag = "org",
              .request = "UserInput",
              .response = "User",
              .success_status = 201,
              .fn = [&org](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                UserInput in = ReadUserInput(f);
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(User u, org.CreateUser(ctx.actor, in));
                return http::JsonReply(ToJson(u), 201);
              }});
  router.Add({.method = "PATCH",
              .pattern = "/api/v1/users/{id}",
              .permission = "org.user.write",
              .summary = "Change a user's profile, department or status (with its version)",
              .tag = "org",
              .request = "UserInput",
              .response = "User",
              .fn = [&org](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                int64_t version = f.Int("version", {.min = 1});
                UserInput in = ReadUserInput(f);
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(User u, org.UpdateUser(ctx.actor, id, version, in));
                return http::JsonReply(ToJson(u));
              }});
  router.Add({.method = "PUT",
              .pattern = "/api/v1/users/{id}/roles",
              .permission = "org.role.assign",
              .summary = "Replace a user's roles (三员 roles are exclusive)",
              .tag = "org",
              .request = "RolesAssign",
              .response = "User",
              .fn = [&org](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                int64_t version = f.Int("version", {.min = 1});
                auto roles = ReadStringArray(f, "roles", 20);
                if (!roles && f.error().ok()) f.Fail(InvalidArgument("roles is required", "roles"));
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(User u, org.SetUserRoles(ctx.actor, id, version, *roles));
                return http::JsonReply(ToJson(u));
              }});
  for (bool lock : {true, false}) {
    router.Add({.method = "POST",
                .pattern = lock ? "/api/v1/users/{id}/lock" : "/api/v1/users/{id}/unlock",
                .permission = "org.user.lock",
                .summary = lock ? "Lock an account and end its sessions"
                                : "Unlock an account and clear failed logins",
                .tag = "org",
                .response = "User",
                .fn = [&org, lock](RouteContext& ctx) -> Result<Reply> {
                  ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                  ASSIGN_OR_RETURN(User u, org.LockUser(ctx.actor, id, lock));
                  return http::JsonReply(ToJson(u));
                }});
  }
  router.Add({.method = "POST",
              .pattern = "/api/v1/users/{id}/password",
              .permission = "org.user.write",
              .summary = "Reset a user's password; they must change it at next login",
              .tag = "org",
              .request = "PasswordReset",
              .response = "User",
              .fn = [&org](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                std::string pw = f.String("password", {.max_len = 128, .trim = false});
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(User u, org.ResetPassword(ctx.actor, id, pw));
                return http::JsonReply(ToJson(u));
              }});

  // ---- Roles and permissions ----
  router.Add({.method = "GET",
              .pattern = "/api/v1/roles",
              .summary = "Roles with their permissions and data scope",
              .tag = "org",
              .response = "Role",
              .list = true,
              .fn = [&org](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
                ASSIGN_OR_RETURN(auto roles, org.ListRoles(ctx.actor));
                json items = json::array();
                int64_t i = 0;
                for (const auto& role : roles) {
                  if (page.Contains(i)) {
                    items.push_back(ToJson(role));
                  }
                  ++i;
                }
                return http::JsonReply(
                    http::PageJson(std::move(items), page, static_cast<int64_t>(roles.size())));
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/roles",
              .permission = "org.role.write",
              .summary = "Create a custom business role",
              .tag = "org",
              .request = "RoleInput",
              .response = "Role",
              .success_status = 201,
              .fn = [&org](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                RoleInput in = ReadRoleInput(f);
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(Role role, org.CreateRole(ctx.actor, in));
                return http::JsonReply(ToJson(role), 201);
              }});
  router.Add({.method = "PATCH",
              .pattern = "/api/v1/roles/{id}",
              .permission = "org.role.write",
              .summary = "Change a custom role (built-in roles are fixed)",
              .tag = "org",
              .request = "RoleInput",
              .response = "Role",
              .fn = [&org](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                int64_t version = f.Int("version", {.min = 1});
                RoleInput in = ReadRoleInput(f);
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(Role role, org.UpdateRole(ctx.actor, id, version, in));
                return http::JsonReply(ToJson(role));
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/permissions",
              .summary = "The permission catalogue",
              .tag = "org",
              .response = "Permission",
              .list = true,
              .fn = [](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
                json items = json::array();
                const auto& all = AllPermissions();
                for (size_t i = 0; i < all.size(); ++i) {
                  if (page.Contains(static_cast<int64_t>(i))) {
                    items.push_back({{"code", all[i].code},
                                     {"name_zh", all[i].name_zh},
                                     {"name_en", all[i].name_en}});
                  }
                }
                return http::JsonReply(
                    http::PageJson(std::move(items), page, static_cast<int64_t>(all.size())));
              }});

  // ---- API tokens ----
  router.Add({.method = "GET",
              .pattern = "/api/v1/api-tokens",
              .permission = "org.apitoken.write",
              .summary = "API tokens for system integrations (never the secret)",
              .tag = "org",
              .response = "ApiToken",
              .list = true,
              .fn = [&org](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
                ASSIGN_OR_RETURN(auto tokens, org.ListApiTokens(ctx.actor));
                json items = json::array();
                for (size_t i = 0; i < tokens.size(); ++i) {
                  if (page.Contains(static_cast<int64_t>(i))) {
                    items.push_back(ToJson(tokens[i]));
                  }
                }
                Reply r;
                r.body =
                    http::PageJson(std::move(items), page, static_cast<int64_t>(tokens.size()));
                return r;
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/api-tokens",
              .permission = "org.apitoken.write",
              .summary = "Issue an API token acting as a user; the secret is shown once",
              .tag = "org",
              .request = "ApiTokenCreate",
              .response = "ApiToken",
              .success_status = 201,
              .fn = [&org](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                std::string name = f.String("name", {.max_len = 100});
                int64_t user_id = f.Int("user_id", {.min = 1});
                auto expires = f.OptString("expires_at", {.max_len = 40});
                RETURN_IF_ERROR(f.Finish());
                std::optional<int64_t> expires_us;
                if (expires) {
                  auto t = ParseRfc3339(*expires, "expires_at");
                  if (!t.ok()) return InvalidArgument(t.status().message(), "expires_at");
                  expires_us = *t;
                }
                ASSIGN_OR_RETURN(ApiToken t,
                                 org.CreateApiToken(ctx.actor, user_id, name, expires_us));
                return http::JsonReply(ToJson(t), 201);
              }});
  router.Add({.method = "DELETE",
              .pattern = "/api/v1/api-tokens/{id}",
              .permission = "org.apitoken.write",
              .summary = "Revoke an API token",
              .tag = "org",
              .response = "Ok",
              .fn = [&org](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                RETURN_IF_ERROR(org.RevokeApiToken(ctx.actor, id));
                return http::JsonReply({{"ok", true}});
              }});

  // ---- Audit ----
  router.Add(
      {.method = "GET",
       .pattern = "/api/v1/audit",
       .summary = "The audit log, newest first (one record's history needs only read "
                  "access to it; browsing needs audit.read)",
       .tag = "audit",
       .query = {{"entity", "string", "customer, user, department, ..."},
                 {"id", "string", "the record id"},
                 {"username", "string", "who"},
                 {"action", "string", "create, update, login, ..."},
                 {"from", "string", "RFC 3339, inclusive"},
                 {"to", "string", "RFC 3339, exclusive"}},
       .response = "AuditEntry",
       .list = true,
       .fn = [&db](RouteContext& ctx) -> Result<Reply> {
         ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
         AuditQuery q;
         q.entity = std::string(ctx.req.Query("entity").value_or(""));
         q.entity_id = std::string(ctx.req.Query("id").value_or(""));
         q.username = std::string(ctx.req.Query("username").value_or(""));
         q.action = std::string(ctx.req.Query("action").value_or(""));
         for (auto [name, out] : {std::pair{"from", &q.from_us}, std::pair{"to", &q.to_us}}) {
           auto v = ctx.req.Query(name);
           if (v && !v->empty()) {
             auto t = ParseRfc3339(*v, name);
             if (!t.ok()) return InvalidArgument(t.status().message(), name);
             *out = *t;
           }
         }
         q.page = page.page;
         q.page_size = page.page_size;
         ASSIGN_OR_RETURN(AuditPage p, ListAudit(db, ctx.actor, q));
         json items = json::array();
         for (const auto& e : p.items) items.push_back(AuditJson(e));
         return http::JsonReply(http::PageJson(std::move(items), page, p.total));
       }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/audit/verify",
              .permission = "audit.read",
              .summary = "Check the audit log's hash chain for tampering",
              .tag = "audit",
              .response = "AuditVerify",
              .fn = [&db](RouteContext&) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t bad, VerifyAuditChain(db));
                return http::JsonReply({{"ok", bad == 0}, {"first_bad_id", bad}});
              }});
}

}  // namespace gridmis::org
