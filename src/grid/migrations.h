#pragma once

#include <vector>

#include "store/migrate.h"

namespace gridmis::grid {

// Substations, feeders and transformer areas (needs org).
const std::vector<store::Migration>& Migrations();

}  // namespace gridmis::grid
