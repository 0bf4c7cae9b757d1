// HTTP routes of the billing module: billing parameters, bill runs, bills, the review actions,
// issue, cancel and rebill, the bill PDF, the xlsx export and the trial from stored reads.
#pragma once

#include "billing/billing.h"
#include "http/router.h"

namespace gridmis::billing {

// Registers the routes and their OpenAPI schemas. `billing` must outlive the router.
void AddRoutes(http::Router& router, BillingService& billing);

}  // namespace gridmis::billing
