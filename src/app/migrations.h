// Every module's migrations in dependency order: org, grid, customer, metering, acquisition.
#pragma once

#include <vector>

#include "store/migrate.h"

namespace gridmis::app {

std::vector<store::Migration> AllMigrations();

}  // namespace gridmis::app
