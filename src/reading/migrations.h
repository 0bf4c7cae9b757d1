#pragma once

#include <vector>

#include "store/migrate.h"

namespace gridmis::reading {

const std::vector<store::Migration>& Migrations();

}  // namespace gridmis::reading
