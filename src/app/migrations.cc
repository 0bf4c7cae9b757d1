#include "app/migrations.h"

#include "acquisition/migrations.h"
#include "customer/migrations.h"
#include "grid/migrations.h"
#include "metering/migrations.h"
#include "org/migrations.h"

namespace gridmis::app {

std::vector<store::Migration> AllMigrations() {
  std::vector<store::Migration> all;
  for (const auto* list : {&org::Migrations(), &grid::Migrations(), &customer::Migrations(),
                           &metering::Migrations(), &acquisition::Migrations()}) {
    all.insert(all.end(), list->begin(), list->end());
  }
  return all;
}

}  // namespace gridmis::app
