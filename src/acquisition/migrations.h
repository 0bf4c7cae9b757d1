#pragma once

#include <vector>

#include "store/migrate.h"

namespace gridmis::acquisition {

// Terminals and the meters behind them (needs org, grid, customer, metering).
const std::vector<store::Migration>& Migrations();

}  // namespace gridmis::acquisition
