#pragma once

#include <string_view>
#include <vector>

#include "store/migrate.h"

namespace gridmis::acquisition {

// Terminals and the meters behind them (needs org, grid, customer, metering).
const std::vector<store::Migration>& Migrations();

// The SQL of the later versions, each kept beside the code that owns the tables:
// version 2 (ingest.cc): curves, events, terminal online state, collection tasks and results,
// acquisition statistics; version 3 (commands.cc): the command queue; version 4 (vee.cc): VEE
// findings. `postgres` selects the PostgreSQL text where the engines differ ("" = same).
std::string_view CollectionSchemaSql(bool postgres);
std::string_view CommandSchemaSql(bool postgres);
std::string_view VeeSchemaSql(bool postgres);

}  // namespace gridmis::acquisition
