#pragma once

#include <vector>

#include "store/migrate.h"

namespace gridmis::metering {

// Metering points, meters, installations (needs org, grid, customer).
const std::vector<store::Migration>& Migrations();

}  // namespace gridmis::metering
