#include "app/migrations.h"

#include "accounts/migrations.h"
#include "acquisition/migrations.h"
#include "billing/migrations.h"
#include "customer/migrations.h"
#include "grid/migrations.h"
#include "jobs/migrations.h"
#include "metering/migrations.h"
#include "org/migrations.h"
#include "reading/migrations.h"

namespace gridmis::app {

std::vector<store::Migration> AllMigrations() {
  std::vector<store::Migration> all;
  for (const auto* list :
       {&org::Migrations(), &grid::Migrations(), &customer::Migrations(), &metering::Migrations(),
        &acquisition::Migrations(), &jobs::Migrations(), &reading::Migrations(),
        &billing::Migrations(), &accounts::Migrations()}) {
    all.insert(all.end(), list->begin(), list->end());
  }
  return all;
}

}  // namespace gridmis::app
