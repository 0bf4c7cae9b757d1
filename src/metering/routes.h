// HTTP routes of the metering module: metering points, meters, and installing, replacing and
// removing meters with their register readings.
#pragma once

#include "http/router.h"
#include "metering/metering.h"

namespace gridmis::metering {

// Registers the routes and their OpenAPI schemas. `metering` must outlive the router.
void AddRoutes(http::Router& router, MeteringService& metering);

// The OpenAPI schemas "MeteringPoint", "Meter", "Installation" and "Readings" (also used by the
// customer 360 view).
void AddMeteringSchemas(http::Router& router);

}  // namespace gridmis::metering
