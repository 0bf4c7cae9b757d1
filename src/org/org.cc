#include "org/org.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "org/audit.h"
#include "org/permissions.h"

namespace gridmis::org {

using nlohmann::json;
using store::Connection;
using store::Params;
using store::Row;
using store::Value;

namespace {

constexpr int64_t kCacheTtlUs = 5 * kMicrosPerSecond;
constexpr int64_t kTouchEveryUs = 60 * kMicrosPerSecond;  // session last_seen granularity

bool ValidCode(std::string_view s, size_t max) {
  if (s.empty() || s.size() > max) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) {
      return false;
    }
  }
  return true;
}

Status StaleVersion(std::string_view entity, int64_t id, int64_t current, int64_t given) {
  return Aborted(std::string(entity) + " " + std::to_string(id) +
                 " was changed by someone else (now version " + std::to_string(current) +
                 ", your edit was based on version " + std::to_string(given) +
                 "); reload it and try again");
}

constexpr const char* kDeptCols =
    "id, code, name, kind, parent_id, path, status, sort_order, version, created_at_us, "
    "updated_at_us";

Department ReadDepartment(const Row& r) {
  Department d;
  d.id = r.Int(0);
  d.code = r.Text(1);
  d.name = r.Text(2);
  d.kind = r.Text(3);
  d.parent_id = r.OptInt(4);
  d.path = r.Text(5);
  d.status = r.Text(6);
  d.sort_order = r.Int(7);
  d.version = r.Int(8);
  d.created_at_us = r.Int(9);
  d.updated_at_us = r.Int(10);
  return d;
}

constexpr const char* kUserCols =
    "id, username, display_name, department_id, phone, email, status, must_change_password, "
    "failed_logins, locked_until_us, last_login_at_us, password_changed_at_us, version, "
    "created_at_us, updated_at_us";

User ReadUser(const Row& r) {
  User u;
  u.id = r.Int(0);
  u.username = r.Text(1);
  u.display_name = r.Text(2);
  u.department_id = r.Int(3);
  u.phone = r.OptText(4);
  u.email = r.OptText(5);
  u.status = r.Text(6);
  u.must_change_password = r.Bool(7);
  u.failed_logins = r.Int(8);
  u.locked_until_us = r.Int(9);
  u.last_login_at_us = r.OptInt(10);
  u.password_changed_at_us = r.Int(11);
  u.version = r.Int(12);
  u.created_at_us = r.Int(13);
  u.updated_at_us = r.Int(14);
  return u;
}

bool IsAdminPermission(std::string_view p) {
  return p == "org.department.write" || p == "org.user.write" || p == "org.user.lock" ||
         p == "org.role.write" || p == "org.role.assign" || p == "org.apitoken.write" ||
         p == "system.config" || p == "audit.read";
}

}  // namespace

json ToJson(const Department& d) {
  return json{{"id", d.id},
              {"code", d.code},
              {"name", d.name},
              {"kind", d.kind},
              {"parent_id", d.parent_id ? json(*d.parent_id) : json(nullptr)},
              {"path", d.path},
              {"status", d.status},
              {"sort_order", d.sort_order},
              {"version", d.version},
              {"created_at", FormatUtc(d.created_at_us)},
              {"updated_at", FormatUtc(d.updated_at_us)}};
}

json ToJson(const User& u) {
  return json{
      {"id", u.id},
      {"username", u.username},
      {"display_name", u.display_name},
      {"department_id", u.department_id},
      {"phone", u.phone ? json(*u.phone) : json(nullptr)},
      {"email", u.email ? json(*u.email) : json(nullptr)},
      {"status", u.status},
      {"must_change_password", u.must_change_password},
      {"failed_logins", u.failed_logins},
      {"locked_until", u.locked_until_us ? json(FormatUtc(u.locked_until_us)) : json(nullptr)},
      {"last_login_at", u.last_login_at_us ? json(FormatUtc(*u.last_login_at_us)) : json(nullptr)},
      {"roles", u.roles},
      {"version", u.version},
      {"created_at", FormatUtc(u.created_at_us)},
      {"updated_at", FormatUtc(u.updated_at_us)}};
}

json ToJson(const Role& r) {
  return json{{"id", r.id},
              {"code", r.code},
              {"name", r.name},
              {"category", r.category},
              {"data_scope", r.data_scope},
              {"builtin", r.builtin},
              {"description", r.description},
              {"permissions", r.permissions},
              {"version", r.version}};
}

json ToJson(const ApiToken& t) {
  json j{{"id", t.id},
         {"name", t.name},
         {"prefix", t.prefix},
         {"user_id", t.user_id},
         {"username", t.username},
         {"created_at", FormatUtc(t.created_at_us)},
         {"expires_at", t.expires_at_us ? json(FormatUtc(*t.expires_at_us)) : json(nullptr)},
         {"revoked_at", t.revoked_at_us ? json(FormatUtc(*t.revoked_at_us)) : json(nullptr)},
         {"last_used_at", t.last_used_at_us ? json(FormatUtc(*t.last_used_at_us)) : json(nullptr)}};
  if (!t.token.empty()) j["token"] = t.token;
  return j;
}

// ---------------------------------------------------------------------------------------------
// Caches: the department tree and role definitions change rarely and are read on every request.

struct OrgService::Cache {
  std::mutex mu;
  int64_t depts_loaded_us = -1;                     // guarded by mu; -1 = stale
  std::vector<Department> depts;                    // tree order
  std::map<int64_t, std::vector<int64_t>> subtree;  // id -> sorted ids of itself and below
  int64_t roles_loaded_us = -1;
  std::map<int64_t, Role> roles;  // by id
};

OrgService::OrgService(store::Database& db, const Clock& clock, OrgOptions options)
    : db_(db), clock_(clock), options_(options), cache_(std::make_unique<Cache>()) {}

OrgService::~OrgService() = default;

Status OrgService::InvalidateDepartments() {
  std::lock_guard lock(cache_->mu);
  cache_->depts_loaded_us = -1;
  return Status::Ok();
}

namespace {

// Orders departments parent-first, siblings by sort_order then code.
std::vector<Department> TreeOrder(std::vector<Department> all) {
  std::map<std::optional<int64_t>, std::vector<Department*>> kids;
  std::set<int64_t> ids;
  for (auto& d : all) ids.insert(d.id);
  for (auto& d : all) {
    auto parent = d.parent_id && ids.count(*d.parent_id) ? d.parent_id : std::nullopt;
    kids[parent].push_back(&d);
  }
  for (auto& [k, v] : kids) {
    std::sort(v.begin(), v.end(), [](const Department* a, const Department* b) {
      return std::tie(a->sort_order, a->code) < std::tie(b->sort_order, b->code);
    });
  }
  std::vector<Department> out;
  std::function<void(std::optional<int64_t>)> walk = [&](std::optional<int64_t> p) {
    auto it = kids.find(p);
    if (it == kids.end()) return;
    for (Department* d : it->second) {
      out.push_back(*d);
      walk(d->id);
    }
  };
  walk(std::nullopt);
  return out;
}

}  // namespace

Result<std::vector<int64_t>> OrgService::Subtree(int64_t id) {
  int64_t now = clock_.NowMicros();
  std::lock_guard lock(cache_->mu);
  if (cache_->depts_loaded_us < 0 || now - cache_->depts_loaded_us > kCacheTtlUs) {
    std::vector<Department> all;
    RETURN_IF_ERROR(db_.Read([&](Connection& c) {
      return c.Query(std::string("SELECT ") + kDeptCols + " FROM departments", {},
                     [&](const Row& r) { all.push_back(ReadDepartment(r)); });
    }));
    cache_->depts = TreeOrder(std::move(all));
    cache_->subtree.clear();
    for (const auto& d : cache_->depts) {
      // Every ancestor on the path gets this department.
      size_t pos = 1;
      while (pos < d.path.size()) {
        size_t slash = d.path.find('/', pos);
        if (slash == std::string::npos) break;
        int64_t anc = std::stoll(d.path.substr(pos, slash - pos));
        cache_->subtree[anc].push_back(d.id);
        pos = slash + 1;
      }
    }
    for (auto& [k, v] : cache_->subtree) std::sort(v.begin(), v.end());
    cache_->depts_loaded_us = now;
  }
  auto it = cache_->subtree.find(id);
  if (it == cache_->subtree.end()) return std::vector<int64_t>{id};
  return it->second;
}

// ---------------------------------------------------------------------------------------------
// Built-in roles

Status OrgService::EnsureBuiltinRoles() {
  int64_t now = clock_.NowMicros();
  Status s = db_.Write([&](Connection& c) -> Status {
    for (const auto& b : BuiltinRoles()) {
      std::optional<int64_t> id;
      RETURN_IF_ERROR(c.Query("SELECT id FROM roles WHERE code = $1", {b.code},
                              [&](const Row& r) { id = r.Int(0); }));
      if (!id) {
        ASSIGN_OR_RETURN(
            id, c.InsertReturningId("INSERT INTO roles (code, name, category, data_scope, builtin, "
                                    "description, created_at_us, updated_at_us) "
                                    "VALUES ($1, $2, $3, $4, 1, $5, $6, $6) RETURNING id",
                                    {b.code, b.name_zh, b.category, b.data_scope, b.name_en, now}));
      } else {
        RETURN_IF_ERROR(c.Exec("UPDATE roles SET name = $1, category = $2, data_scope = $3, "
                               "builtin = 1, description = $4 WHERE id = $5",
                               {b.name_zh, b.category, b.data_scope, b.name_en, *id})
                            .status());
        RETURN_IF_ERROR(c.Exec("DELETE FROM role_permissions WHERE role_id = $1", {*id}).status());
      }
      for (auto p : b.permissions) {
        RETURN_IF_ERROR(
            c.Exec("INSERT INTO role_permissions (role_id, permission) VALUES ($1, $2)", {*id, p})
                .status());
      }
    }
    return Status::Ok();
  });
  std::lock_guard lock(cache_->mu);
  cache_->roles_loaded_us = -1;
  return s;
}

// ---------------------------------------------------------------------------------------------
// Departments

Result<std::vector<Department>> OrgService::ListDepartments(const Actor& actor) {
  RETURN_IF_ERROR(Subtree(0).status());  // refreshes the cache
  std::lock_guard lock(cache_->mu);
  std::vector<Department> out;
  for (const auto& d : cache_->depts) {
    if (actor.scope == DataScope::kSelf ? d.id == actor.department_id : actor.CanSee(d.id)) {
      out.push_back(d);
    }
  }
  return out;
}

Result<Department> OrgService::GetDepartment(const Actor& actor, int64_t id) {
  std::optional<Department> d;
  RETURN_IF_ERROR(db_.Read([&](Connection& c) {
    return c.Query(std::string("SELECT ") + kDeptCols + " FROM departments WHERE id = $1", {id},
                   [&](const Row& r) { d = ReadDepartment(r); });
  }));
  bool visible =
      d && (actor.scope == DataScope::kSelf ? d->id == actor.department_id : actor.CanSee(d->id));
  if (!visible) return NotFound("department " + std::to_string(id) + " not found");
  return *d;
}

Result<std::optional<Department>> OrgService::FindDepartmentByCode(std::string_view code) {
  std::optional<Department> d;
  RETURN_IF_ERROR(db_.Read([&](Connection& c) {
    return c.Query(std::string("SELECT ") + kDeptCols + " FROM departments WHERE code = $1", {code},
                   [&](const Row& r) { d = ReadDepartment(r); });
  }));
  return d;
}

namespace {
Status CheckDepartmentInput(const DepartmentInput& in, bool create) {
  if (create && !in.code) return InvalidArgument("code is required", "code");
  if (create && !in.name) return InvalidArgument("name is required", "name");
  if (create && !in.kind) return InvalidArgument("kind is required", "kind");
  if (in.code && !ValidCode(*in.code, 32)) {
    return InvalidArgument("code must be 1-32 letters, digits, '-', '_' or '.'", "code");
  }
  if (in.kind) {
    static const std::set<std::string, std::less<>> kKinds = {"company", "city", "county",
                                                              "station", "office"};
    if (!kKinds.count(*in.kind)) {
      return InvalidArgument("kind must be one of: company, city, county, station, office", "kind");
    }
  }
  if (in.status && *in.status != "active" && *in.status != "inactive") {
    return InvalidArgument("status must be active or inactive", "status");
  }
  return Status::Ok();
}
}  // namespace

Result<Department> OrgService::CreateDepartment(const Actor& actor, const DepartmentInput& in) {
  RETURN_IF_ERROR(actor.Require("org.department.write"));
  RETURN_IF_ERROR(CheckDepartmentInput(in, true));
  int64_t now = clock_.NowMicros();
  Department d;
  Status s = db_.Write([&](Connection& c) -> Status {
    std::string parent_path = "/";
    if (in.parent_id) {
      std::optional<std::string> pp;
      RETURN_IF_ERROR(c.Query("SELECT path FROM departments WHERE id = $1", {*in.parent_id},
                              [&](const Row& r) { pp = r.Text(0); }));
      if (!pp || !actor.CanSee(*in.parent_id)) {
        return InvalidArgument(
            "parent department " + std::to_string(*in.parent_id) + " does not exist", "parent_id");
      }
      parent_path = *pp;
    } else {
      ASSIGN_OR_RETURN(int64_t n, c.QueryInt("SELECT COUNT(*) FROM departments"));
      if (n > 0) {
        return InvalidArgument("parent_id is required: only the first department is the root",
                               "parent_id");
      }
    }
    auto id = c.InsertReturningId(
        "INSERT INTO departments (code, name, kind, parent_id, path, status, sort_order, "
        "created_at_us, updated_at_us) VALUES ($1, $2, $3, $4, '', $5, $6, $7, $7) RETURNING id",
        {*in.code, *in.name, *in.kind, in.parent_id, in.status.value_or("active"),
         in.sort_order.value_or(0), now});
    if (!id.ok()) {
      if (id.status().code() == StatusCode::kAlreadyExists) {
        return AlreadyExists("department code '" + *in.code + "' is already used", "code");
      }
      return id.status();
    }
    std::string path = parent_path + std::to_string(*id) + "/";
    RETURN_IF_ERROR(c.Exec("UPDATE departments SET path = $1 WHERE id = $2", {path, *id}).status());
    RETURN_IF_ERROR(c.Query(std::string("SELECT ") + kDeptCols + " FROM departments WHERE id = $1",
                            {*id}, [&](const Row& r) { d = ReadDepartment(r); }));
    return WriteAudit(
        c, actor, {"create", "department", std::to_string(d.id), "", ToJson(d).dump(), d.id}, now);
  });
  RETURN_IF_ERROR(s);
  RETURN_IF_ERROR(InvalidateDepartments());
  return d;
}

Result<Department> OrgService::UpdateDepartment(const Actor& actor, int64_t id, int64_t version,
                                                const DepartmentInput& in) {
  RETURN_IF_ERROR(actor.Require("org.department.write"));
  RETURN_IF_ERROR(CheckDepartmentInput(in, false));
  int64_t now = clock_.NowMicros();
  Department after;
  Status s = db_.Write([&](Connection& c) -> Status {
    std::optional<Department> before;
    RETURN_IF_ERROR(c.Query(std::string("SELECT ") + kDeptCols + " FROM departments WHERE id = $1",
                            {id}, [&](const Row& r) { before = ReadDepartment(r); }));
    if (!before || !actor.CanSee(id))
      return NotFound("department " + std::to_string(id) + " not found");
    if (before->version != version) return StaleVersion("department", id, before->version, version);
    std::string new_path = before->path;
    std::optional<int64_t> parent = before->parent_id;
    if (in.parent_id && in.parent_id != before->parent_id) {
      if (!before->parent_id)
        return InvalidArgument("the root department cannot be moved", "parent_id");
      std::optional<std::string> pp;
      RETURN_IF_ERROR(c.Query("SELECT path FROM departments WHERE id = $1", {*in.parent_id},
                              [&](const Row& r) { pp = r.Text(0); }));
      if (!pp || !actor.CanSee(*in.parent_id)) {
        return InvalidArgument(
            "parent department " + std::to_string(*in.parent_id) + " does not exist", "parent_id");
      }
      if (pp->rfind(before->path, 0) == 0) {
        return InvalidArgument("a department cannot be moved under itself or its descendants",
                               "parent_id");
      }
      new_path = *pp + std::to_string(id) + "/";
      parent = in.parent_id;
    }
    auto n = c.Exec(
        "UPDATE departments SET code = $1, name = $2, kind = $3, parent_id = $4, path = $5, "
        "status = $6, sort_order = $7, version = version + 1, updated_at_us = $8 "
        "WHERE id = $9 AND version = $10",
        {in.code.value_or(before->code), in.name.value_or(before->name),
         in.kind.value_or(before->kind), parent, new_path, in.status.value_or(before->status),
         in.sort_order.value_or(before->sort_order), now, id, version});
    if (!n.ok() && n.status().code() == StatusCode::kAlreadyExists) {
      return AlreadyExists("department code '" + in.code.value_or("") + "' is already used",
                           "code");
    }
    RETURN_IF_ERROR(n.status());
    if (new_path != before->path) {
      RETURN_IF_ERROR(c.Exec("UPDATE departments SET path = $1 || substr(path, $2) "
                             "WHERE path LIKE $3 AND id <> $4",
                             {new_path, static_cast<int64_t>(before->path.size() + 1),
                              store::EscapeLike(before->path) + "%", id})
                          .status());
    }
    RETURN_IF_ERROR(c.Query(std::string("SELECT ") + kDeptCols + " FROM departments WHERE id = $1",
                            {id}, [&](const Row& r) { after = ReadDepartment(r); }));
    return WriteAudit(c, actor,
                      {"update", "department", std::to_string(id), ToJson(*before).dump(),
                       ToJson(after).dump(), id},
                      now);
  });
  RETURN_IF_ERROR(s);
  RETURN_IF_ERROR(InvalidateDepartments());
  return after;
}

// ---------------------------------------------------------------------------------------------
// Roles

namespace {
Status LoadRoles(Connection& c, std::map<int64_t, Role>* out) {
  out->clear();
  RETURN_IF_ERROR(c.Query(
      "SELECT id, code, name, category, data_scope, builtin, description, version FROM roles", {},
      [&](const Row& r) {
        Role role;
        role.id = r.Int(0);
        role.code = r.Text(1);
        role.name = r.Text(2);
        role.category = r.Text(3);
        role.data_scope = r.Text(4);
        role.builtin = r.Bool(5);
        role.description = r.Text(6);
        role.version = r.Int(7);
        (*out)[role.id] = std::move(role);
      }));
  return c.Query("SELECT role_id, permission FROM role_permissions ORDER BY permission", {},
                 [&](const Row& r) {
                   auto it = out->find(r.Int(0));
                   if (it != out->end()) it->second.permissions.push_back(r.Text(1));
                 });
}
}  // namespace

Result<std::vector<Role>> OrgService::ListRoles(const Actor& actor) {
  if (!actor.Can("org.role.read") && !actor.Can("org.user.read")) {
    return actor.Require("org.role.read");
  }
  std::map<int64_t, Role> roles;
  RETURN_IF_ERROR(db_.Read([&](Connection& c) { return LoadRoles(c, &roles); }));
  std::vector<Role> out;
  for (auto& [k, r] : roles) out.push_back(std::move(r));
  return out;
}

namespace {
Status CheckRoleInput(const RoleInput& in, bool create) {
  if (create && !in.code) return InvalidArgument("code is required", "code");
  if (create && !in.name) return InvalidArgument("name is required", "name");
  if (create && !in.data_scope) return InvalidArgument("data_scope is required", "data_scope");
  if (in.code && !ValidCode(*in.code, 32)) {
    return InvalidArgument("code must be 1-32 letters, digits, '-', '_' or '.'", "code");
  }
  if (in.data_scope) RETURN_IF_ERROR(ParseDataScope(*in.data_scope).status());
  if (in.permissions) {
    for (size_t i = 0; i < in.permissions->size(); ++i) {
      const auto& p = (*in.permissions)[i];
      std::string field = "permissions[" + std::to_string(i) + "]";
      if (!IsKnownPermission(p)) return InvalidArgument("unknown permission '" + p + "'", field);
      if (IsAdminPermission(p)) {
        return InvalidArgument("permission '" + p +
                                   "' belongs to the built-in administrator roles (三员) and "
                                   "cannot be given to a business role",
                               field);
      }
    }
  }
  return Status::Ok();
}
}  // namespace

Result<Role> OrgService::CreateRole(const Actor& actor, const RoleInput& in) {
  RETURN_IF_ERROR(actor.Require("org.role.write"));
  RETURN_IF_ERROR(CheckRoleInput(in, true));
  int64_t now = clock_.NowMicros();
  Role out;
  RETURN_IF_ERROR(db_.Write([&](Connection& c) -> Status {
    auto id = c.InsertReturningId(
        "INSERT INTO roles (code, name, category, data_scope, builtin, description, "
        "created_at_us, updated_at_us) VALUES ($1, $2, 'business', $3, 0, $4, $5, $5) RETURNING id",
        {*in.code, *in.name, *in.data_scope, in.description.value_or(""), now});
    if (!id.ok() && id.status().code() == StatusCode::kAlreadyExists) {
      return AlreadyExists("role code '" + *in.code + "' is already used", "code");
    }
    RETURN_IF_ERROR(id.status());
    std::set<std::string> perms;
    if (in.permissions) perms.insert(in.permissions->begin(), in.permissions->end());
    for (const auto& p : perms) {
      RETURN_IF_ERROR(
          c.Exec("INSERT INTO role_permissions (role_id, permission) VALUES ($1, $2)", {*id, p})
              .status());
    }
    std::map<int64_t, Role> roles;
    RETURN_IF_ERROR(LoadRoles(c, &roles));
    out = roles[*id];
    return WriteAudit(c, actor, {"create", "role", std::to_string(*id), "", ToJson(out).dump(), 0},
                      now);
  }));
  std::lock_guard lock(cache_->mu);
  cache_->roles_loaded_us = -1;
  return out;
}

Result<Role> OrgService::UpdateRole(const Actor& actor, int64_t id, int64_t version,
                                    const RoleInput& in) {
  RETURN_IF_ERROR(actor.Require("org.role.write"));
  RETURN_IF_ERROR(CheckRoleInput(in, false));
  int64_t now = clock_.NowMicros();
  Role out;
  RETURN_IF_ERROR(db_.Write([&](Connection& c) -> Status {
    std::map<int64_t, Role> roles;
    RETURN_IF_ERROR(LoadRoles(c, &roles));
    auto it = roles.find(id);
    if (it == roles.end()) return NotFound("role " + std::to_string(id) + " not found");
    Role before = it->second;
    if (before.builtin) {
      return FailedPrecondition("built-in role '" + before.code +
                                "' cannot be changed; create a custom role instead");
    }
    if (before.version != version) return StaleVersion("role", id, before.version, version);
    auto n = c.Exec(
        "UPDATE roles SET code = $1, name = $2, data_scope = $3, description = $4, "
        "version = version + 1, updated_at_us = $5 WHERE id = $6 AND version = $7",
        {in.code.value_or(before.code), in.name.value_or(before.name),
         in.data_scope.value_or(before.data_scope), in.description.value_or(before.description),
         now, id, version});
    if (!n.ok() && n.status().code() == StatusCode::kAlreadyExists) {
      return AlreadyExists("role code is already used", "code");
    }
    RETURN_IF_ERROR(n.status());
    if (in.permissions) {
      RETURN_IF_ERROR(c.Exec("DELETE FROM role_permissions WHERE role_id = $1", {id}).status());
      std::set<std::string> perms(in.permissions->begin(), in.permissions->end());
      for (const auto& p : perms) {
        RETURN_IF_ERROR(
            c.Exec("INSERT INTO role_permissions (role_id, permission) VALUES ($1, $2)", {id, p})
                .status());
      }
    }
    RETURN_IF_ERROR(LoadRoles(c, &roles));
    out = roles[id];
    return WriteAudit(
        c, actor,
        {"update", "role", std::to_string(id), ToJson(before).dump(), ToJson(out).dump(), 0}, now);
  }));
  std::lock_guard lock(cache_->mu);
  cache_->roles_loaded_us = -1;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Users

Result<User> OrgService::LoadUser(Connection& c, int64_t id) {
  std::optional<User> u;
  RETURN_IF_ERROR(c.Query(std::string("SELECT ") + kUserCols + " FROM users WHERE id = $1", {id},
                          [&](const Row& r) { u = ReadUser(r); }));
  if (!u) return NotFound("user " + std::to_string(id) + " not found");
  RETURN_IF_ERROR(c.Query(
      "SELECT r.code FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = $1 "
      "ORDER BY r.code",
      {id}, [&](const Row& r) { u->roles.push_back(r.Text(0)); }));
  return *u;
}

Result<User> OrgService::GetUser(const Actor& actor, int64_t id) {
  RETURN_IF_ERROR(actor.Require("org.user.read"));
  ASSIGN_OR_RETURN(User u, db_.ReadValue<User>([&](Connection& c) { return LoadUser(c, id); }));
  if (!actor.CanSee(u.department_id, u.id))
    return NotFound("user " + std::to_string(id) + " not found");
  return u;
}

Result<std::vector<User>> OrgService::ListUsers(const Actor& actor, const UserQuery& q,
                                                int64_t* total) {
  RETURN_IF_ERROR(actor.Require("org.user.read"));
  std::string where = actor.ScopeSql("u.department_id", "u.id");
  Params params;
  auto add = [&](const std::string& cond, Value v) {
    params.push_back(std::move(v));
    std::string p = "$" + std::to_string(params.size());
    std::string c = cond;
    size_t pos;
    while ((pos = c.find('?')) != std::string::npos) c.replace(pos, 1, p);
    where += " AND " + c;
  };
  if (!q.q.empty()) {
    add("(u.username LIKE ? ESCAPE '\\' OR u.display_name LIKE ? ESCAPE '\\')",
        "%" + store::EscapeLike(q.q) + "%");
  }
  if (q.department_id) {
    ASSIGN_OR_RETURN(auto sub, Subtree(*q.department_id));
    std::string in = "u.department_id IN (";
    for (size_t i = 0; i < sub.size(); ++i) in += (i ? "," : "") + std::to_string(sub[i]);
    where += " AND " + in + ")";
  }
  if (!q.status.empty()) add("u.status = ?", q.status);
  if (!q.role.empty()) {
    add("EXISTS (SELECT 1 FROM user_roles ur JOIN roles r ON r.id = ur.role_id "
        "WHERE ur.user_id = u.id AND r.code = ?)",
        q.role);
  }
  std::vector<User> out;
  RETURN_IF_ERROR(db_.Read([&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(*total, c.QueryInt("SELECT COUNT(*) FROM users u WHERE " + where, params));
    Params p = params;
    p.push_back(static_cast<int64_t>(q.page_size));
    p.push_back(static_cast<int64_t>(q.page - 1) * q.page_size);
    std::string cols;
    for (std::string_view col :
         {"id", "username", "display_name", "department_id", "phone", "email", "status",
          "must_change_password", "failed_logins", "locked_until_us", "last_login_at_us",
          "password_changed_at_us", "version", "created_at_us", "updated_at_us"}) {
      cols += (cols.empty() ? "u." : ", u.") + std::string(col);
    }
    RETURN_IF_ERROR(c.Query("SELECT " + cols + " FROM users u WHERE " + where +
                                " ORDER BY u.username LIMIT $" + std::to_string(p.size() - 1) +
                                " OFFSET $" + std::to_string(p.size()),
                            p, [&](const Row& r) { out.push_back(ReadUser(r)); }));
    for (auto& u : out) {
      RETURN_IF_ERROR(
          c.Query("SELECT r.code FROM user_roles ur JOIN roles r ON r.id = ur.role_id "
                  "WHERE ur.user_id = $1 ORDER BY r.code",
                  {u.id}, [&](const Row& r) { u.roles.push_back(r.Text(0)); }));
    }
    return Status::Ok();
  }));
  return out;
}

namespace {

// Ends every open session of a user (lock, disable, password reset).
Status RevokeSessions(Connection& c, int64_t user_id, int64_t now_us) {
  return c
      .Exec("UPDATE sessions SET revoked_at_us = $1 WHERE user_id = $2 AND revoked_at_us IS NULL",
            {now_us, user_id})
      .status();
}

// Validates a role set: known codes, and 三员 roles never combined with any other role.
Result<std::vector<int64_t>> ResolveRoles(Connection& c, const std::vector<std::string>& codes,
                                          bool* is_admin) {
  std::map<int64_t, Role> roles;
  RETURN_IF_ERROR(LoadRoles(c, &roles));
  std::vector<int64_t> ids;
  int admin = 0;
  std::set<std::string> seen;
  for (size_t i = 0; i < codes.size(); ++i) {
    if (!seen.insert(codes[i]).second) continue;
    auto it = std::find_if(roles.begin(), roles.end(),
                           [&](const auto& kv) { return kv.second.code == codes[i]; });
    if (it == roles.end()) {
      return InvalidArgument("unknown role '" + codes[i] + "'", "roles[" + std::to_string(i) + "]");
    }
    if (it->second.category == "admin") ++admin;
    ids.push_back(it->first);
  }
  if (admin > 0 && ids.size() > 1) {
    return InvalidArgument(
        "the system, security and audit administrator roles (三员) are mutually exclusive and "
        "cannot be combined with any other role",
        "roles");
  }
  *is_admin = admin > 0;
  return ids;
}

Status CheckUserFields(const UserInput& in, bool create) {
  if (create && !in.username) return InvalidArgument("username is required", "username");
  if (create && !in.display_name)
    return InvalidArgument("display_name is required", "display_name");
  if (create && !in.department_id)
    return InvalidArgument("department_id is required", "department_id");
  if (create && !in.password) return InvalidArgument("password is required", "password");
  if (in.username && (!ValidCode(*in.username, 32) || in.username->size() < 3)) {
    return InvalidArgument("username must be 3-32 letters, digits, '-', '_' or '.'", "username");
  }
  if (in.email && !in.email->empty() &&
      (in.email->find('@') == std::string::npos || in.email->size() > 120)) {
    return InvalidArgument("email is not a valid address", "email");
  }
  if (in.status && *in.status != "active" && *in.status != "disabled") {
    return InvalidArgument("status must be active or disabled", "status");
  }
  return Status::Ok();
}

}  // namespace

Result<User> OrgService::CreateUser(const Actor& actor, const UserInput& in) {
  RETURN_IF_ERROR(actor.Require("org.user.write"));
  RETURN_IF_ERROR(CheckUserFields(in, true));
  if (in.roles && !in.roles->empty() && !actor.Can("org.role.assign")) {
    return PermissionDenied(
        "permission 'org.role.assign' is required to give roles; a security administrator "
        "assigns them after the account is created");
  }
  int64_t now = clock_.NowMicros();
  std::string hash;
  User out;
  RETURN_IF_ERROR(db_.Write([&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(
        int64_t dept_exists,
        c.QueryInt("SELECT COUNT(*) FROM departments WHERE id = $1", {*in.department_id}));
    if (!dept_exists || !actor.CanSee(*in.department_id)) {
      return InvalidArgument("department " + std::to_string(*in.department_id) + " does not exist",
                             "department_id");
    }
    bool is_admin = false;
    std::vector<int64_t> role_ids;
    if (in.roles) {
      ASSIGN_OR_RETURN(role_ids, ResolveRoles(c, *in.roles, &is_admin));
    }
    RETURN_IF_ERROR(
        CheckPasswordPolicy(*in.password, *in.username, is_admin, options_.password_policy));
    ASSIGN_OR_RETURN(hash, HashPassword(*in.password, options_.hash_strength));
    auto id = c.InsertReturningId(
        "INSERT INTO users (username, display_name, department_id, phone, email, password_hash, "
        "password_changed_at_us, must_change_password, status, created_at_us, updated_at_us) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $7, $7) RETURNING id",
        {*in.username, *in.display_name, *in.department_id, in.phone, in.email, hash, now,
         actor.is_system() ? 0 : 1, in.status.value_or("active")});
    if (!id.ok() && id.status().code() == StatusCode::kAlreadyExists) {
      return AlreadyExists("username '" + *in.username + "' is already taken", "username");
    }
    RETURN_IF_ERROR(id.status());
    for (int64_t r : role_ids) {
      RETURN_IF_ERROR(
          c.Exec("INSERT INTO user_roles (user_id, role_id) VALUES ($1, $2)", {*id, r}).status());
    }
    ASSIGN_OR_RETURN(out, LoadUser(c, *id));
    return WriteAudit(
        c, actor,
        {"create", "user", std::to_string(out.id), "", ToJson(out).dump(), out.department_id}, now);
  }));
  return out;
}

Result<User> OrgService::UpdateUser(const Actor& actor, int64_t id, int64_t version,
                                    const UserInput& in) {
  RETURN_IF_ERROR(actor.Require("org.user.write"));
  RETURN_IF_ERROR(CheckUserFields(in, false));
  if (in.password) {
    return InvalidArgument("use the reset-password operation to change a password", "password");
  }
  if (in.roles) return InvalidArgument("use the roles operation to change roles", "roles");
  int64_t now = clock_.NowMicros();
  User out;
  RETURN_IF_ERROR(db_.Write([&](Connection& c) -> Status {
    auto before = LoadUser(c, id);
    if (!before.ok() || !actor.CanSee(before->department_id, before->id)) {
      return NotFound("user " + std::to_string(id) + " not found");
    }
    if (before->version != version) return StaleVersion("user", id, before->version, version);
    if (in.department_id && *in.department_id != before->department_id) {
      ASSIGN_OR_RETURN(int64_t n, c.QueryInt("SELECT COUNT(*) FROM departments WHERE id = $1",
                                             {*in.department_id}));
      if (!n || !actor.CanSee(*in.department_id)) {
        return InvalidArgument(
            "department " + std::to_string(*in.department_id) + " does not exist", "department_id");
      }
    }
    auto n = c.Exec(
        "UPDATE users SET username = $1, display_name = $2, department_id = $3, phone = $4, "
        "email = $5, status = $6, version = version + 1, updated_at_us = $7 "
        "WHERE id = $8 AND version = $9",
        {in.username.value_or(before->username), in.display_name.value_or(before->display_name),
         in.department_id.value_or(before->department_id), in.phone ? in.phone : before->phone,
         in.email ? in.email : before->email, in.status.value_or(before->status), now, id,
         version});
    if (!n.ok() && n.status().code() == StatusCode::kAlreadyExists) {
      return AlreadyExists("username is already taken", "username");
    }
    RETURN_IF_ERROR(n.status());
    if (in.status && *in.status == "disabled") {
      RETURN_IF_ERROR(RevokeSessions(c, id, now));
    }
    ASSIGN_OR_RETURN(out, LoadUser(c, id));
    return WriteAudit(c, actor,
                      {"update", "user", std::to_string(id), ToJson(*before).dump(),
                       ToJson(out).dump(), out.department_id},
                      now);
  }));
  return out;
}

Result<User> OrgService::SetUserRoles(const Actor& actor, int64_t id, int64_t version,
                                      const std::vector<std::string>& roles) {
  RETURN_IF_ERROR(actor.Require("org.role.assign"));
  if (id == actor.user_id) {
    return PermissionDenied("you cannot change your own roles; ask another security administrator");
  }
  int64_t now = clock_.NowMicros();
  User out;
  RETURN_IF_ERROR(db_.Write([&](Connection& c) -> Status {
    auto before = LoadUser(c, id);
    if (!before.ok() || !actor.CanSee(before->department_id, before->id)) {
      return NotFound("user " + std::to_string(id) + " not found");
    }
    if (before->version != version) return StaleVersion("user", id, before->version, version);
    bool is_admin = false;
    ASSIGN_OR_RETURN(auto ids, ResolveRoles(c, roles, &is_admin));
    RETURN_IF_ERROR(c.Exec("DELETE FROM user_roles WHERE user_id = $1", {id}).status());
    for (int64_t r : ids) {
      RETURN_IF_ERROR(
          c.Exec("INSERT INTO user_roles (user_id, role_id) VALUES ($1, $2)", {id, r}).status());
    }
    RETURN_IF_ERROR(c.Exec("UPDATE users SET version = version + 1, updated_at_us = $1 "
                           "WHERE id = $2",
                           {now, id})
                        .status());
    ASSIGN_OR_RETURN(out, LoadUser(c, id));
    return WriteAudit(c, actor,
                      {"update_roles", "user", std::to_string(id), ToJson(*before).dump(),
                       ToJson(out).dump(), out.department_id},
                      now);
  }));
  return out;
}

Result<User> OrgService::LockUser(const Actor& actor, int64_t id, bool locked) {
  RETURN_IF_ERROR(actor.Require("org.user.lock"));
  if (id == actor.user_id) return PermissionDenied("you cannot lock or unlock yourself");
  int64_t now = clock_.NowMicros();
  User out;
  RETURN_IF_ERROR(db_.Write([&](Connection& c) -> Status {
    auto before = LoadUser(c, id);
    if (!before.ok() || !actor.CanSee(before->department_id, before->id)) {
      return NotFound("user " + std::to_string(id) + " not found");
    }
    RETURN_IF_ERROR(c.Exec("UPDATE users SET status = $1, failed_logins = 0, locked_until_us = 0, "
                           "version = version + 1, updated_at_us = $2 WHERE id = $3",
                           {locked ? "disabled" : "active", now, id})
                        .status());
    if (locked) {
      RETURN_IF_ERROR(RevokeSessions(c, id, now));
    }
    ASSIGN_OR_RETURN(out, LoadUser(c, id));
    return WriteAudit(c, actor,
                      {locked ? "lock" : "unlock", "user", std::to_string(id),
                       ToJson(*before).dump(), ToJson(out).dump(), out.department_id},
                      now);
  }));
  return out;
}

Result<User> OrgService::ResetPassword(const Actor& actor, int64_t id,
                                       std::string_view new_password) {
  RETURN_IF_ERROR(actor.Require("org.user.write"));
  int64_t now = clock_.NowMicros();
  User out;
  RETURN_IF_ERROR(db_.Write([&](Connection& c) -> Status {
    auto before = LoadUser(c, id);
    if (!before.ok() || !actor.CanSee(before->department_id, before->id)) {
      return NotFound("user " + std::to_string(id) + " not found");
    }
    std::map<int64_t, Role> roles;
    RETURN_IF_ERROR(LoadRoles(c, &roles));
    bool is_admin = false;
    for (const auto& [k, r] : roles) {
      if (r.category == "admin" &&
          std::find(before->roles.begin(), before->roles.end(), r.code) != before->roles.end()) {
        is_admin = true;
      }
    }
    RETURN_IF_ERROR(
        CheckPasswordPolicy(new_password, before->username, is_admin, options_.password_policy));
    ASSIGN_OR_RETURN(std::string hash, HashPassword(new_password, options_.hash_strength));
    RETURN_IF_ERROR(c.Exec("UPDATE users SET password_hash = $1, password_changed_at_us = $2, "
                           "must_change_password = 1, failed_logins = 0, locked_until_us = 0, "
                           "version = version + 1, updated_at_us = $2 WHERE id = $3",
                           {hash, now, id})
                        .status());
    RETURN_IF_ERROR(RevokeSessions(c, id, now));
    ASSIGN_OR_RETURN(out, LoadUser(c, id));
    return WriteAudit(c, actor,
                      {"reset_password", "user", std::to_string(id), "",
                       json{{"must_change_password", true}}.dump(), out.department_id},
                      now);
  }));
  return out;
}

Status OrgService::ChangeOwnPassword(const Actor& actor, std::string_view old_password,
                                     std::string_view new_password) {
  if (actor.user_id == 0) return Unauthenticated("log in first");
  int64_t now = clock_.NowMicros();
  return db_.Write([&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(std::string hash,
                     c.QueryText("SELECT password_hash FROM users WHERE id = $1", {actor.user_id}));
    if (!VerifyPassword(hash, old_password)) {
      return InvalidArgument("the current password is wrong", "old_password");
    }
    if (old_password == new_password) {
      return InvalidArgument("the new password must differ from the current one", "new_password");
    }
    bool is_admin = false;
    for (const auto& r : actor.roles) {
      for (const auto& b : BuiltinRoles()) {
        if (b.code == r && b.category == "admin") is_admin = true;
      }
    }
    Status policy =
        CheckPasswordPolicy(new_password, actor.username, is_admin, options_.password_policy);
    if (!policy.ok()) return InvalidArgument(policy.message(), "new_password");
    ASSIGN_OR_RETURN(std::string new_hash, HashPassword(new_password, options_.hash_strength));
    RETURN_IF_ERROR(c.Exec("UPDATE users SET password_hash = $1, password_changed_at_us = $2, "
                           "must_change_password = 0, version = version + 1, updated_at_us = $2 "
                           "WHERE id = $3",
                           {new_hash, now, actor.user_id})
                        .status());
    return WriteAudit(
        c, actor,
        {"change_password", "user", std::to_string(actor.user_id), "", "", actor.department_id},
        now);
  });
}

// ---------------------------------------------------------------------------------------------
// Authentication

Result<Actor> OrgService::LoadActor(int64_t user_id) {
  int64_t now = clock_.NowMicros();
  std::optional<User> user;
  std::vector<int64_t> role_ids;
  RETURN_IF_ERROR(db_.Read([&](Connection& c) -> Status {
    RETURN_IF_ERROR(c.Query(std::string("SELECT ") + kUserCols + " FROM users WHERE id = $1",
                            {user_id}, [&](const Row& r) { user = ReadUser(r); }));
    return c.Query("SELECT role_id FROM user_roles WHERE user_id = $1", {user_id},
                   [&](const Row& r) { role_ids.push_back(r.Int(0)); });
  }));
  if (!user) return Unauthenticated("the user no longer exists");
  Actor a;
  a.user_id = user->id;
  a.username = user->username;
  a.department_id = user->department_id;
  a.scope = DataScope::kSelf;
  {
    std::unique_lock lock(cache_->mu);
    if (cache_->roles_loaded_us < 0 || now - cache_->roles_loaded_us > kCacheTtlUs) {
      std::map<int64_t, Role> roles;
      lock.unlock();
      RETURN_IF_ERROR(db_.Read([&](Connection& c) { return LoadRoles(c, &roles); }));
      lock.lock();
      cache_->roles = std::move(roles);
      cache_->roles_loaded_us = now;
    }
    for (int64_t rid : role_ids) {
      auto it = cache_->roles.find(rid);
      if (it == cache_->roles.end()) continue;
      a.roles.push_back(it->second.code);
      for (const auto& p : it->second.permissions) a.permissions.insert(p);
      auto sc = ParseDataScope(it->second.data_scope);
      if (sc.ok() && *sc > a.scope) a.scope = *sc;
    }
  }
  std::sort(a.roles.begin(), a.roles.end());
  if (a.scope == DataScope::kOwnDepartment) {
    a.scope_departments = {a.department_id};
  } else if (a.scope == DataScope::kDepartmentAndBelow) {
    ASSIGN_OR_RETURN(a.scope_departments, Subtree(a.department_id));
  }
  return a;
}

Result<Session> OrgService::Login(std::string_view username, std::string_view password,
                                  std::string_view remote_ip, std::string_view user_agent) {
  int64_t now = clock_.NowMicros();
  std::optional<User> user;
  std::string hash;
  RETURN_IF_ERROR(db_.Read([&](Connection& c) {
    return c.Query(
        std::string("SELECT ") + kUserCols + ", password_hash FROM users WHERE username = $1",
        {username}, [&](const Row& r) {
          user = ReadUser(r);
          hash = r.Text(15);
        });
  }));
  Actor who;
  who.username = std::string(username).substr(0, 64);
  who.remote_ip = std::string(remote_ip);
  who.auth_method = "login";
  auto audit_only = [&](const std::string& action, const std::string& detail, int64_t dept) {
    return db_.Write([&](Connection& c) {
      return WriteAudit(c, who,
                        {action, "session", user ? std::to_string(user->id) : "", "",
                         json{{"detail", detail}}.dump(), dept},
                        now);
    });
  };
  if (!user) {
    // Spend the same time as a real check, so response time does not tell whether a
    // username exists.
    static const std::string dummy =
        HashPassword("not-a-real-password", options_.hash_strength).value();
    (void)VerifyPassword(dummy, password);
    RETURN_IF_ERROR(audit_only("login_failed", "unknown username", 0));
    return Unauthenticated("wrong username or password");
  }
  who.user_id = user->id;
  who.department_id = user->department_id;
  if (user->status != "active") {
    RETURN_IF_ERROR(audit_only("login_failed", "account disabled", user->department_id));
    return Status(StatusCode::kPermissionDenied,
                  "this account is disabled; ask your security administrator");
  }
  if (user->locked_until_us > now) {
    RETURN_IF_ERROR(audit_only("login_failed", "account locked", user->department_id));
    int64_t minutes = (user->locked_until_us - now + kMicrosPerMinute - 1) / kMicrosPerMinute;
    return ResourceExhausted("too many failed logins: the account is locked for " +
                             std::to_string(minutes) + " more minute(s)");
  }
  if (!VerifyPassword(hash, password)) {
    int64_t failures = user->failed_logins + 1;
    bool lock = failures >= options_.lockout_failures;
    RETURN_IF_ERROR(db_.Write([&](Connection& c) -> Status {
      RETURN_IF_ERROR(
          c.Exec("UPDATE users SET failed_logins = $1, locked_until_us = $2 WHERE id = $3",
                 {lock ? 0 : failures, lock ? now + options_.lockout_us : int64_t{0}, user->id})
              .status());
      return WriteAudit(
          c, who,
          {lock ? "locked" : "login_failed", "session", std::to_string(user->id), "",
           json{{"detail", "wrong password"}, {"failures", failures}}.dump(), user->department_id},
          now);
    }));
    if (lock) {
      return ResourceExhausted("too many failed logins: the account is locked for " +
                               std::to_string(options_.lockout_us / kMicrosPerMinute) + " minutes");
    }
    return Unauthenticated("wrong username or password (" +
                           std::to_string(options_.lockout_failures - failures) +
                           " attempt(s) left before the account is locked)");
  }
  Session s;
  s.token = RandomToken(32);
  s.user_id = user->id;
  s.expires_at_us = now + options_.session_max_us;
  s.idle_expires_at_us = now + options_.session_idle_us;
  RETURN_IF_ERROR(db_.Write([&](Connection& c) -> Status {
    RETURN_IF_ERROR(c.Exec("UPDATE users SET failed_logins = 0, locked_until_us = 0, "
                           "last_login_at_us = $1 WHERE id = $2",
                           {now, user->id})
                        .status());
    RETURN_IF_ERROR(c.Exec("INSERT INTO sessions (token_hash, user_id, created_at_us, "
                           "last_seen_at_us, expires_at_us, remote_ip, user_agent) "
                           "VALUES ($1, $2, $3, $3, $4, $5, $6)",
                           {TokenHash(s.token), user->id, now, s.expires_at_us, remote_ip,
                            std::string(user_agent.substr(0, 200))})
                        .status());
    return WriteAudit(
        c, who,
        {"login", "session", std::to_string(user->id), "",
         json{{"user_agent", std::string(user_agent.substr(0, 200))}}.dump(), user->department_id},
        now);
  }));
  return s;
}

Result<Actor> OrgService::AuthenticateSession(std::string_view token, std::string_view remote_ip) {
  if (token.empty()) return Unauthenticated("log in first");
  int64_t now = clock_.NowMicros();
  std::string th = TokenHash(token);
  bool found = false;
  int64_t user_id = 0, last_seen = 0, expires = 0;
  std::optional<int64_t> revoked;
  std::string status;
  RETURN_IF_ERROR(db_.Read([&](Connection& c) {
    return c.Query(
        "SELECT s.user_id, s.last_seen_at_us, s.expires_at_us, s.revoked_at_us, u.status "
        "FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1",
        {th}, [&](const Row& r) {
          found = true;
          user_id = r.Int(0);
          last_seen = r.Int(1);
          expires = r.Int(2);
          revoked = r.OptInt(3);
          status = r.Text(4);
        });
  }));
  if (!found) return Unauthenticated("your session is not valid; log in again");
  if (revoked) return Unauthenticated("your session has ended (logged out); log in again");
  if (status != "active") return Unauthenticated("this account is disabled");
  if (now >= expires) return Unauthenticated("your session has expired; log in again");
  if (now - last_seen >= options_.session_idle_us) {
    return Unauthenticated("your session expired after " +
                           std::to_string(options_.session_idle_us / kMicrosPerMinute) +
                           " minutes without activity; log in again");
  }
  if (now - last_seen >= kTouchEveryUs) {
    RETURN_IF_ERROR(db_.Write([&](Connection& c) {
      return c.Exec("UPDATE sessions SET last_seen_at_us = $1 WHERE token_hash = $2", {now, th})
          .status();
    }));
  }
  ASSIGN_OR_RETURN(Actor a, LoadActor(user_id));
  a.remote_ip = std::string(remote_ip);
  a.auth_method = "session";
  return a;
}

Status OrgService::Logout(const Actor& actor, std::string_view token) {
  int64_t now = clock_.NowMicros();
  return db_.Write([&](Connection& c) -> Status {
    RETURN_IF_ERROR(c.Exec("UPDATE sessions SET revoked_at_us = $1 WHERE token_hash = $2 AND "
                           "revoked_at_us IS NULL",
                           {now, TokenHash(token)})
                        .status());
    return WriteAudit(
        c, actor, {"logout", "session", std::to_string(actor.user_id), "", "", actor.department_id},
        now);
  });
}

Result<Actor> OrgService::AuthenticateApiToken(std::string_view token, std::string_view remote_ip) {
  int64_t now = clock_.NowMicros();
  std::string th = TokenHash(token);
  bool found = false;
  int64_t id = 0, user_id = 0;
  std::optional<int64_t> expires, revoked, last_used;
  RETURN_IF_ERROR(db_.Read([&](Connection& c) {
    return c.Query(
        "SELECT id, user_id, expires_at_us, revoked_at_us, last_used_at_us "
        "FROM api_tokens WHERE token_hash = $1",
        {th}, [&](const Row& r) {
          found = true;
          id = r.Int(0);
          user_id = r.Int(1);
          expires = r.OptInt(2);
          revoked = r.OptInt(3);
          last_used = r.OptInt(4);
        });
  }));
  if (!found || revoked) return Unauthenticated("the API token is not valid");
  if (expires && now >= *expires) return Unauthenticated("the API token has expired");
  if (!last_used || now - *last_used >= kTouchEveryUs) {
    RETURN_IF_ERROR(db_.Write([&](Connection& c) {
      return c.Exec("UPDATE api_tokens SET last_used_at_us = $1 WHERE id = $2", {now, id}).status();
    }));
  }
  ASSIGN_OR_RETURN(Actor a, LoadActor(user_id));
  a.remote_ip = std::string(remote_ip);
  a.auth_method = "api_token";
  return a;
}

Result<ApiToken> OrgService::CreateApiToken(const Actor& actor, int64_t user_id,
                                            std::string_view name,
                                            std::optional<int64_t> expires_at_us) {
  RETURN_IF_ERROR(actor.Require("org.apitoken.write"));
  if (name.empty() || name.size() > 100) {
    return InvalidArgument("name must be 1-100 characters", "name");
  }
  int64_t now = clock_.NowMicros();
  if (expires_at_us && *expires_at_us <= now) {
    return InvalidArgument("expires_at must be in the future", "expires_at");
  }
  ApiToken t;
  t.token = "gmt_" + RandomToken(32);
  t.prefix = t.token.substr(0, 10);
  t.name = std::string(name);
  t.user_id = user_id;
  t.created_at_us = now;
  t.expires_at_us = expires_at_us;
  RETURN_IF_ERROR(db_.Write([&](Connection& c) -> Status {
    auto u = LoadUser(c, user_id);
    if (!u.ok())
      return InvalidArgument("user " + std::to_string(user_id) + " does not exist", "user_id");
    t.username = u->username;
    ASSIGN_OR_RETURN(
        t.id,
        c.InsertReturningId("INSERT INTO api_tokens (name, prefix, token_hash, user_id, "
                            "created_by, created_at_us, expires_at_us) "
                            "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                            {t.name, t.prefix, TokenHash(t.token), user_id,
                             actor.user_id ? Value(actor.user_id) : Value(), now, expires_at_us}));
    ApiToken shown = t;
    shown.token.clear();
    return WriteAudit(
        c, actor,
        {"create", "api_token", std::to_string(t.id), "", ToJson(shown).dump(), u->department_id},
        now);
  }));
  return t;
}

Result<std::vector<ApiToken>> OrgService::ListApiTokens(const Actor& actor) {
  RETURN_IF_ERROR(actor.Require("org.apitoken.write"));
  std::vector<ApiToken> out;
  RETURN_IF_ERROR(db_.Read([&](Connection& c) {
    return c.Query(
        "SELECT t.id, t.name, t.prefix, t.user_id, u.username, t.created_at_us, t.expires_at_us, "
        "t.revoked_at_us, t.last_used_at_us FROM api_tokens t JOIN users u ON u.id = t.user_id "
        "ORDER BY t.id",
        {}, [&](const Row& r) {
          ApiToken t;
          t.id = r.Int(0);
          t.name = r.Text(1);
          t.prefix = r.Text(2);
          t.user_id = r.Int(3);
          t.username = r.Text(4);
          t.created_at_us = r.Int(5);
          t.expires_at_us = r.OptInt(6);
          t.revoked_at_us = r.OptInt(7);
          t.last_used_at_us = r.OptInt(8);
          out.push_back(std::move(t));
        });
  }));
  return out;
}

Status OrgService::RevokeApiToken(const Actor& actor, int64_t id) {
  RETURN_IF_ERROR(actor.Require("org.apitoken.write"));
  int64_t now = clock_.NowMicros();
  return db_.Write([&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(int64_t n, c.Exec("UPDATE api_tokens SET revoked_at_us = $1 WHERE id = $2 "
                                       "AND revoked_at_us IS NULL",
                                       {now, id}));
    if (n == 0) return NotFound("active API token " + std::to_string(id) + " not found");
    return WriteAudit(c, actor, {"revoke", "api_token", std::to_string(id), "", "", 0}, now);
  });
}

}  // namespace gridmis::org
