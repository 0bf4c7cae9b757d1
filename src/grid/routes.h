// HTTP routes of the grid module: substations, feeders and transformer areas under /api/v1.
#pragma once

#include "grid/grid.h"
#include "http/router.h"

namespace gridmis::grid {

// Registers the routes and their OpenAPI schemas. `grid` must outlive the router.
void AddRoutes(http::Router& router, GridService& grid);

}  // namespace gridmis::grid
