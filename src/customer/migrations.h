#pragma once

#include <vector>

#include "store/migrate.h"

namespace gridmis::customer {

// Customers, contacts, accounts (needs org, grid).
const std::vector<store::Migration>& Migrations();

}  // namespace gridmis::customer
