// HTTP routes of the terminal registry: terminals and the meters behind them (Pn).
#pragma once

#include "acquisition/terminals.h"
#include "http/router.h"

namespace gridmis::acquisition {

// Registers the routes and their OpenAPI schemas. `terminals` must outlive the router.
void AddRoutes(http::Router& router, TerminalService& terminals);

// The OpenAPI schemas "Terminal" and "TerminalMeter" (also used by the customer 360 view).
void AddTerminalSchemas(http::Router& router);

}  // namespace gridmis::acquisition
