#include "reading/migrations.h"

namespace gridmis::reading {

const std::vector<store::Migration>& Migrations() {
  static const std::vector<store::Migration> kMigrations = {};
  return kMigrations;
}

}  // namespace gridmis::reading
