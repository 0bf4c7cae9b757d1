// The business modules of the domain model, constructed once and their routes registered.
#pragma once

#include <memory>

#include "core/config.h"
#include "core/status.h"
#include "core/time.h"

namespace gridmis {
namespace store {
class Database;
}
namespace org {
class OrgService;
}
namespace http {
class Router;
}
namespace grid {
class GridService;
}
namespace customer {
class CustomerService;
}
namespace metering {
class MeteringService;
}
namespace acquisition {
class TerminalService;
class CommandService;
class CollectionService;
class Ingestor;
namespace vee {
class VeeService;
}
}  // namespace acquisition
namespace rating {
class TariffCatalogue;
}
namespace jobs {
class JobRunner;
}
namespace billing {
class BillingService;
}
namespace reading {
class ReadingService;
}
namespace accounts {
class AccountsService;
class ChannelService;
class PrepaidService;
}  // namespace accounts

namespace app {

class Domain {
 public:
  // `tariffs`: the province's tariff catalogue (App::Create loads it from config.billing_*).
  // `config`: the payment link of bills' QR codes ([billing] payment_url_prefix) and the
  // command options ([acquisition] command_password, command_expiry_minutes, ...).
  static Result<std::unique_ptr<Domain>> Create(
      store::Database& db, const Clock& clock, org::OrgService& org, http::Router& router,
      std::shared_ptr<const rating::TariffCatalogue> tariffs,
      const TimeZone* time_zone = nullptr,  // business dates; nullptr: Asia/Shanghai
      const Config* config = nullptr);      // nullptr: the defaults
  ~Domain();

  grid::GridService& grid();
  customer::CustomerService& customers();
  metering::MeteringService& metering();
  acquisition::TerminalService& terminals();
  // The tariff catalogue the bill run and the trial calculation rate with (shared, immutable).
  const rating::TariffCatalogue& tariffs() const;
  std::shared_ptr<const rating::TariffCatalogue> tariffs_ptr() const;
  // Background jobs (bill runs, issues): the App starts and stops the runner's pool in Serve;
  // the CLI runs a job in its own thread (JobRunner::RunNow).
  jobs::JobRunner& jobs();
  billing::BillingService& billing();
  // Reading and review (抄表、核): segments, plans, reads, the review queue.
  reading::ReadingService& reading();
  // Accounts (帳務): receivables, payments, ledger, arrears; bank channels and files; prepaid.
  accounts::AccountsService& accounts();
  accounts::ChannelService& channels();
  accounts::PrepaidService& prepaid();
  // Commands to terminals (the dispatcher runs once a front end is attached), on-demand reads.
  acquisition::CommandService& commands();
  // The front end's listener (ingestion), collection (jobs, tasks, statistics) and VEE.
  acquisition::Ingestor& ingestor();
  acquisition::CollectionService& collection();
  acquisition::vee::VeeService& vee();
  // What the services were built with.
  store::Database& db();
  const Clock& clock() const;
  const TimeZone& time_zone() const;

 private:
  Domain();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace app
}  // namespace gridmis
