#include "app/domain.h"

#include "acquisition/routes.h"
#include "acquisition/terminals.h"
#include "app/customer360.h"
#include "customer/customer.h"
#include "customer/routes.h"
#include "grid/grid.h"
#include "grid/routes.h"
#include "metering/metering.h"
#include "metering/routes.h"

namespace gridmis::app {

struct Domain::Impl {
  std::unique_ptr<grid::GridService> grid;
  std::unique_ptr<customer::CustomerService> customers;
  std::unique_ptr<metering::MeteringService> metering;
  std::unique_ptr<acquisition::TerminalService> terminals;
};

Domain::Domain() : impl_(std::make_unique<Impl>()) {}
Domain::~Domain() = default;

Result<std::unique_ptr<Domain>> Domain::Create(store::Database& db, const Clock& clock,
                                               org::OrgService& org, http::Router& router) {
  (void)org;
  std::unique_ptr<Domain> d(new Domain());
  Impl& m = *d->impl_;
  m.grid = std::make_unique<grid::GridService>(db, clock);
  m.customers = std::make_unique<customer::CustomerService>(db, clock);
  m.metering = std::make_unique<metering::MeteringService>(db, clock);
  m.terminals = std::make_unique<acquisition::TerminalService>(db, clock);
  grid::AddRoutes(router, *m.grid);
  customer::AddRoutes(router, *m.customers);
  metering::AddRoutes(router, *m.metering);
  acquisition::AddRoutes(router, *m.terminals);
  AddCustomer360Route(router, *m.customers, *m.metering, *m.terminals);
  return d;
}

grid::GridService& Domain::grid() { return *impl_->grid; }
customer::CustomerService& Domain::customers() { return *impl_->customers; }
metering::MeteringService& Domain::metering() { return *impl_->metering; }
acquisition::TerminalService& Domain::terminals() { return *impl_->terminals; }

}  // namespace gridmis::app
