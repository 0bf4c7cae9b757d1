// HTTP routes of the reading module: segments and their points, plans (generate, collect from
// frozen data, estimate), reads (manual entry, CSV/xlsx import), the review queue (approve,
// correct), the daily frozen rows of a point and the review rules.
#pragma once

#include "http/router.h"
#include "reading/reading.h"

namespace gridmis::reading {

// Registers the routes and their OpenAPI schemas. `reading` must outlive the router.
void AddRoutes(http::Router& router, ReadingService& reading);

}  // namespace gridmis::reading
