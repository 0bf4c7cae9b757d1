// HTTP routes of VEE (采集数据校核): the review list of findings, a finding with the point's
// surrounding days, accept / dismiss, estimation and re-validation of a point's range, and the
// editing of a day's registers or a curve interval. All under /api/v1/vee, in the OpenAPI
// document (tag "acquisition").
#pragma once

#include "acquisition/vee.h"
#include "http/router.h"

namespace gridmis::acquisition {

// Registers the routes and their schemas. `vee` must outlive the router.
void AddVeeRoutes(http::Router& router, vee::VeeService& vee);

}  // namespace gridmis::acquisition
