#pragma once

#include <vector>

#include "store/migrate.h"

namespace gridmis::jobs {

const std::vector<store::Migration>& Migrations();

}  // namespace gridmis::jobs
