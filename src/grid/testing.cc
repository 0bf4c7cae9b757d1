#include "grid/testing.h"

#include "app/migrations.h"
#include "store/migrate.h"

namespace gridmis::grid::testing {

Result<std::unique_ptr<TestUtility>> TestUtility::Create(const std::string& backend,
                                                         const Clock& clock) {
  auto t = std::unique_ptr<TestUtility>(new TestUtility());
  ASSIGN_OR_RETURN(t->tdb_, store::testing::TestDatabase::Create(backend));
  RETURN_IF_ERROR(store::Migrate(t->db(), app::AllMigrations(), clock.NowMicros()));
  org::OrgOptions options;
  options.hash_strength = org::HashStrength::kMinimum;
  t->org_ = std::make_unique<org::OrgService>(t->db(), clock, options);
  RETURN_IF_ERROR(t->org_->EnsureBuiltinRoles());
  t->system_ = org::Actor::System("test");

  auto dept = [&](const char* code, const char* name, const char* kind,
                  std::optional<int64_t> parent) -> Result<int64_t> {
    org::DepartmentInput in;
    in.code = code;
    in.name = name;
    in.kind = kind;
    in.parent_id = parent;
    ASSIGN_OR_RETURN(org::Department d, t->org_->CreateDepartment(t->system_, in));
    return d.id;
  };
  ASSIGN_OR_RETURN(t->root, dept("GS", "乌兰察布供电公司", "company", std::nullopt));
  ASSIGN_OR_RETURN(t->city, dept("GS01", "城区供电局", "city", t->root));
  ASSIGN_OR_RETURN(t->county_a, dept("GS0101", "甲县供电分局", "county", t->city));
  ASSIGN_OR_RETURN(t->county_b, dept("GS0102", "乙县供电分局", "county", t->city));
  ASSIGN_OR_RETURN(t->station_a, dept("GS010101", "甲一供电所", "station", t->county_a));

  const std::vector<std::string> perms = {"customer.read", "customer.write", "grid.read",
                                          "grid.write",    "metering.read",  "metering.write",
                                          "terminal.read", "terminal.write"};
  for (auto [code, scope] :
       {std::pair{"editor_below", "department_and_below"},
        std::pair{"editor_own", "own_department"}, std::pair{"editor_self", "self"}}) {
    org::RoleInput in;
    in.code = code;
    in.name = code;
    in.data_scope = scope;
    in.permissions = perms;
    RETURN_IF_ERROR(t->org_->CreateRole(t->system_, in).status());
  }
  return t;
}

Result<org::Actor> TestUtility::MakeActor(const std::string& username, int64_t department_id,
                                          const std::vector<std::string>& roles) {
  org::UserInput in;
  in.username = username;
  in.display_name = username;
  in.department_id = department_id;
  in.password = "Passw0rd!x";
  in.roles = roles;
  ASSIGN_OR_RETURN(org::User u, org_->CreateUser(system_, in));
  ASSIGN_OR_RETURN(org::Actor a, org_->LoadActor(u.id));
  a.auth_method = "session";
  a.remote_ip = "127.0.0.1";
  return a;
}

}  // namespace gridmis::grid::testing
