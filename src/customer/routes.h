// HTTP routes of the customer module: the customer search and create/update, contacts and
// accounts. GET /api/v1/customers/{id} (the 360 view) is registered by app/customer360.h.
#pragma once

#include "customer/customer.h"
#include "http/router.h"

namespace gridmis::customer {

// Registers the routes and their OpenAPI schemas. `customers` must outlive the router.
void AddRoutes(http::Router& router, CustomerService& customers);

// The OpenAPI schemas "Customer", "Contact", "Account" and their inputs (also used by the
// customer 360 view).
void AddCustomerSchemas(http::Router& router);

}  // namespace gridmis::customer
