#include "jobs/migrations.h"

namespace gridmis::jobs {

const std::vector<store::Migration>& Migrations() {
  static const std::vector<store::Migration> kMigrations = {};
  return kMigrations;
}

}  // namespace gridmis::jobs
