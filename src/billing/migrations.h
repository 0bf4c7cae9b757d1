#pragma once

#include <vector>

#include "store/migrate.h"

namespace gridmis::billing {

const std::vector<store::Migration>& Migrations();

}  // namespace gridmis::billing
