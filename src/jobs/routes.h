// HTTP routes of background jobs: the scoped list, one job with its progress, cancel.
#pragma once

#include "http/router.h"
#include "jobs/jobs.h"

namespace gridmis::jobs {

// Registers the routes and the "Job" schema. `runner` must outlive the router.
void AddRoutes(http::Router& router, JobRunner& runner);

}  // namespace gridmis::jobs
