// HTTP routes of collection (采集): terminals' online state, collected registers, curves and
// events, acquisition success statistics and failures, collection tasks and runs. Documented in
// the OpenAPI document (tag "acquisition"). Reads need acquisition.read, tasks and runs
// acquisition.collect; records outside the data scope are NotFound.
#pragma once

#include "acquisition/collection.h"
#include "http/router.h"

namespace gridmis::acquisition {

// Registers the routes and their schemas. `collection` must outlive the router. Refers to the
// "Job" schema of jobs/routes.h.
void AddCollectionRoutes(http::Router& router, CollectionService& collection);

}  // namespace gridmis::acquisition
