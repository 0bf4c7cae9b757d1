// The home dashboard's figures (首页概览): GET /api/v1/stats/overview counts what the actor may
// see — customers by category and by county, metering points, meters and terminals — in one
// reply, so that the console's first page costs one request.
#pragma once

#include "http/router.h"

namespace gridmis::store {
class Database;
}

namespace gridmis::app {

// Registers GET /api/v1/stats/overview (any authenticated user) and its "StatsOverview" schema.
// Every count is restricted to the actor's data scope, the same way the lists are: customers
// and metering points by department (or, for the "self" scope, by the customer's account
// manager); meters and terminals, which are department assets, by department ("self" is the
// user's own department). A section is present only when the actor holds its read permission:
// `customers` and `customers_by_county` with customer.read, `metering_points` and `meters` with
// metering.read, `terminals` with terminal.read; an administrator gets none of them. Customers by
// county groups each customer under its department's nearest county ancestor (the department
// itself when it has none, e.g. a city office), largest first. `db` must outlive the router.
void AddDashboardRoute(http::Router& router, store::Database& db);

}  // namespace gridmis::app
