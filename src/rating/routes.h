// HTTP routes of the rating module: the tariff catalogue (GET /api/v1/tariffs,
// /api/v1/tariffs/{code}) and the trial calculation (POST /api/v1/billing/trial, 電費試算),
// which rates typed-in reads and saves nothing.
#pragma once

#include <memory>

#include "http/router.h"
#include "rating/tariff.h"

namespace gridmis::rating {

// Registers the routes and their OpenAPI schemas. The router keeps `catalogue` alive.
void AddRoutes(http::Router& router, std::shared_ptr<const TariffCatalogue> catalogue);

}  // namespace gridmis::rating
