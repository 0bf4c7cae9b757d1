#pragma once

#include <vector>

#include "store/migrate.h"

namespace gridmis::org {

// The org module's schema: departments, roles, users, sessions, API tokens, audit log.
const std::vector<store::Migration>& Migrations();

}  // namespace gridmis::org
