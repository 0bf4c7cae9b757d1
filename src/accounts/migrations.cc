#include "accounts/migrations.h"

namespace gridmis::accounts {

const std::vector<store::Migration>& Migrations() {
  static const std::vector<store::Migration> kMigrations = {};
  return kMigrations;
}

}  // namespace gridmis::accounts
