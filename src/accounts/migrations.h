#pragma once

#include <vector>

#include "store/migrate.h"

namespace gridmis::accounts {

const std::vector<store::Migration>& Migrations();

}  // namespace gridmis::accounts
