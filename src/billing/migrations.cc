#include "billing/migrations.h"

namespace gridmis::billing {

const std::vector<store::Migration>& Migrations() {
  static const std::vector<store::Migration> kMigrations = {};
  return kMigrations;
}

}  // namespace gridmis::billing
