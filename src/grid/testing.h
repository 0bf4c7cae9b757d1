// Test support for the services built on the grid topology (grid, customer, metering,
// acquisition): a fresh database on one backend with every module's migrations, the built-in
// roles, a department tree and actors of each data scope.
//
//   company (root) → city → county A → station A1
//                         → county B
//
// Custom roles with every business permission of these modules (grid, customer, metering,
// terminal; read and write): "editor_below" (department and below), "editor_own" (own
// department) and "editor_self" (self).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/time.h"
#include "org/org.h"
#include "store/testing.h"

namespace gridmis::grid::testing {

class TestUtility {
 public:
  // GTEST-free: the caller decides whether a missing PostgreSQL server is a skip.
  static Result<std::unique_ptr<TestUtility>> Create(const std::string& backend,
                                                     const Clock& clock);

  store::Database& db() { return tdb_->db(); }
  org::OrgService& org() { return *org_; }
  const org::Actor& system() const { return system_; }

  // A user in `department_id` with `roles`, as an Actor.
  Result<org::Actor> MakeActor(const std::string& username, int64_t department_id,
                               const std::vector<std::string>& roles);

  int64_t root = 0, city = 0, county_a = 0, county_b = 0, station_a = 0;

 private:
  std::unique_ptr<store::testing::TestDatabase> tdb_;
  std::unique_ptr<org::OrgService> org_;
  org::Actor system_;
};

}  // namespace gridmis::grid::testing
