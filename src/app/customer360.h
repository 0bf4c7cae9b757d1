// The customer 360 view (客户全景视图): GET /api/v1/customers/{id} gathers what the counter,
// the call centre and the inspectors need about one customer in one reply.
#pragma once

#include "http/router.h"

namespace gridmis::customer {
class CustomerService;
}
namespace gridmis::metering {
class MeteringService;
}
namespace gridmis::acquisition {
class TerminalService;
}

namespace gridmis::app {

// Registers GET /api/v1/customers/{id} (permission customer.read) and the "Customer360" schema
// (with the Customer, Contact, Account, MeteringPoint, Meter, Installation and Terminal schemas
// it refers to). The reply holds the full profile (identity and phone numbers unmasked),
// contacts, accounts, and — when the actor has metering.read — the customer's metering points
// each with its current meter (CT/PT ratios, multiplier, installation readings) and installation
// history, and — with terminal.read — the terminals reading those meters with their Pn. A
// customer outside the actor's data scope is 404. The services must outlive the router.
void AddCustomer360Route(http::Router& router, customer::CustomerService& customers,
                         metering::MeteringService& metering,
                         acquisition::TerminalService& terminals);

}  // namespace gridmis::app
