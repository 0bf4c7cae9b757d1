#include "app/domain.h"

#include "accounts/accounts.h"
#include "accounts/channel.h"
#include "accounts/jobs.h"
#include "accounts/posting.h"
#include "accounts/prepaid.h"
#include "accounts/routes.h"
#include "acquisition/collection.h"
#include "acquisition/commands.h"
#include "acquisition/ingest.h"
#include "acquisition/routes.h"
#include "acquisition/routes_collection.h"
#include "acquisition/routes_commands.h"
#include "acquisition/routes_vee.h"
#include "acquisition/terminals.h"
#include "app/customer360.h"
#include "billing/billing.h"
#include "billing/routes.h"
#include "customer/customer.h"
#include "customer/routes.h"
#include "grid/grid.h"
#include "grid/routes.h"
#include "jobs/jobs.h"
#include "jobs/routes.h"
#include "metering/metering.h"
#include "metering/routes.h"
#include "org/org.h"
#include "rating/routes.h"
#include "rating/tariff.h"
#include "reading/reading.h"
#include "reading/routes.h"

namespace gridmis::app {

struct Domain::Impl {
  store::Database* db = nullptr;
  const Clock* clock = nullptr;
  const TimeZone* time_zone = nullptr;
  std::unique_ptr<grid::GridService> grid;
  std::unique_ptr<customer::CustomerService> customers;
  std::unique_ptr<metering::MeteringService> metering;
  std::unique_ptr<acquisition::TerminalService> terminals;
  std::shared_ptr<const rating::TariffCatalogue> tariffs;
  TimeZone tz;  // when none was given
  std::unique_ptr<jobs::JobRunner> jobs;
  std::unique_ptr<billing::BillingService> billing;
  std::unique_ptr<reading::ReadingService> reading;
  std::unique_ptr<accounts::AccountsService> accounts;
  std::unique_ptr<accounts::ChannelService> channels;
  std::unique_ptr<accounts::PrepaidService> prepaid;
  // VEE of collected data; declared before the ingestor, which uses it.
  std::unique_ptr<acquisition::vee::VeeService> vee;
  // Acquisition: the front end's listener (ingestion) and collection (jobs, tasks, routes).
  std::unique_ptr<acquisition::Ingestor> ingestor;
  std::unique_ptr<acquisition::CollectionService> collection;
  // Commands to terminals and the prepaid bridge (its dispatcher starts when the front end
  // is attached: CommandService::AttachFrontEnd).
  std::unique_ptr<acquisition::CommandService> commands;
};

Domain::Domain() : impl_(std::make_unique<Impl>()) {}
Domain::~Domain() {
  // Running jobs use the services: stop them first.
  if (impl_->jobs) impl_->jobs->Stop();
}

Result<std::unique_ptr<Domain>> Domain::Create(
    store::Database& db, const Clock& clock, org::OrgService& org, http::Router& router,
    std::shared_ptr<const rating::TariffCatalogue> tariffs, const TimeZone* time_zone,
    const Config* config) {
  const Config defaults;
  if (!config) config = &defaults;
  if (!tariffs) return InvalidArgument("Domain::Create: no tariff catalogue");
  (void)org;
  std::unique_ptr<Domain> d(new Domain());
  Impl& m = *d->impl_;
  m.db = &db;
  m.clock = &clock;
  m.grid = std::make_unique<grid::GridService>(db, clock);
  m.customers = std::make_unique<customer::CustomerService>(db, clock);
  m.metering = std::make_unique<metering::MeteringService>(db, clock);
  m.terminals = std::make_unique<acquisition::TerminalService>(db, clock);
  m.tariffs = std::move(tariffs);
  grid::AddRoutes(router, *m.grid);
  customer::AddRoutes(router, *m.customers);
  metering::AddRoutes(router, *m.metering);
  acquisition::AddRoutes(router, *m.terminals);
  rating::AddRoutes(router, m.tariffs);
  AddCustomer360Route(router, *m.customers, *m.metering, *m.terminals);
  if (!time_zone) {
    ASSIGN_OR_RETURN(m.tz, TimeZone::Load("Asia/Shanghai"));
    time_zone = &m.tz;
  }
  m.time_zone = time_zone;
  org::OrgService* o = &org;
  m.jobs = std::make_unique<jobs::JobRunner>(
      db, clock, jobs::JobRunnerOptions{}, [o](int64_t user_id) { return o->LoadActor(user_id); });
  billing::BillingOptions bo;
  if (!config->billing_payment_url_prefix.empty()) {
    bo.payment_url_prefix = config->billing_payment_url_prefix;
  }
  m.billing =
      std::make_unique<billing::BillingService>(db, clock, *time_zone, m.tariffs, *m.jobs, bo);
  jobs::AddRoutes(router, *m.jobs);
  billing::AddRoutes(router, *m.billing);
  m.reading = std::make_unique<reading::ReadingService>(db, clock,
                                                        reading::ReadingOptions{time_zone->name()});
  reading::AddRoutes(router, *m.reading);
  // Accounts: the late-fee policy comes from the catalogue, business dates from the zone; the
  // bill postings (accounts/posting.h) use the same through the process-wide settings.
  accounts::LateFeePolicy late_fee =
      accounts::LateFeePolicyFromCatalogue(m.tariffs->policy().late_fee);
  RETURN_IF_ERROR(late_fee.Validate());
  accounts::SetLateFeePolicy(late_fee);
  accounts::SetBusinessTimeZone(*time_zone);
  accounts::AccountsContext accounts_ctx{db, clock, *time_zone, late_fee};
  m.accounts = std::make_unique<accounts::AccountsService>(accounts_ctx);
  m.channels = std::make_unique<accounts::ChannelService>(accounts_ctx);
  m.prepaid = std::make_unique<accounts::PrepaidService>(accounts_ctx,
                                                         accounts::MakeRatingPricer(m.tariffs));
  accounts::AddRoutes(router, *m.accounts, *m.channels, *m.prepaid);
  m.jobs->Register(accounts::PrepaidDeductionJobKind(*m.prepaid));
  // The ingestor is started (and given its front end) by the front end's wiring; collection
  // works without it (terminals not connected are recorded as failed).
  acquisition::vee::VeeOptions vee_options;
  vee_options.time_zone = time_zone->name();
  m.vee = std::make_unique<acquisition::vee::VeeService>(db, clock, vee_options);
  acquisition::AddVeeRoutes(router, *m.vee);
  acquisition::IngestorOptions ingestor_options;
  ingestor_options.vee = m.vee.get();
  m.ingestor = std::make_unique<acquisition::Ingestor>(db, clock, *time_zone, ingestor_options);
  acquisition::CollectionOptions collection_options;
  collection_options.window = static_cast<size_t>(config->collect_window);
  m.collection = std::make_unique<acquisition::CollectionService>(
      db, clock, *time_zone, *m.ingestor, *m.jobs, collection_options);
  m.jobs->Register(m.collection->JobKind());
  acquisition::AddCollectionRoutes(router, *m.collection);
  acquisition::CommandOptions command_options;
  command_options.password_hex = config->command_password;
  command_options.expiry = std::chrono::minutes(config->command_expiry_minutes);
  ASSIGN_OR_RETURN(m.commands, acquisition::CommandService::Create(
                                   db, clock, *time_zone, m.prepaid.get(), command_options));
  acquisition::AddCommandRoutes(router, *m.commands);
  return d;
}

grid::GridService& Domain::grid() { return *impl_->grid; }
acquisition::Ingestor& Domain::ingestor() { return *impl_->ingestor; }
acquisition::CollectionService& Domain::collection() { return *impl_->collection; }
acquisition::vee::VeeService& Domain::vee() { return *impl_->vee; }
store::Database& Domain::db() { return *impl_->db; }
const Clock& Domain::clock() const { return *impl_->clock; }
const TimeZone& Domain::time_zone() const { return *impl_->time_zone; }
customer::CustomerService& Domain::customers() { return *impl_->customers; }
metering::MeteringService& Domain::metering() { return *impl_->metering; }
acquisition::TerminalService& Domain::terminals() { return *impl_->terminals; }
const rating::TariffCatalogue& Domain::tariffs() const { return *impl_->tariffs; }
std::shared_ptr<const rating::TariffCatalogue> Domain::tariffs_ptr() const {
  return impl_->tariffs;
}
jobs::JobRunner& Domain::jobs() { return *impl_->jobs; }
billing::BillingService& Domain::billing() { return *impl_->billing; }
reading::ReadingService& Domain::reading() { return *impl_->reading; }
accounts::AccountsService& Domain::accounts() { return *impl_->accounts; }
accounts::ChannelService& Domain::channels() { return *impl_->channels; }
accounts::PrepaidService& Domain::prepaid() { return *impl_->prepaid; }
acquisition::CommandService& Domain::commands() { return *impl_->commands; }

}  // namespace gridmis::app
