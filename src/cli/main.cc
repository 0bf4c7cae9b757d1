// gridmis: one binary, subcommands.
//
//   gridmis serve    [--config F] [--db URL] [--listen HOST:PORT]
//   gridmis migrate  [--config F] [--db URL] [--status]
//   gridmis user create --username U --password P --role ROLE --department CODE [--name N]
//   gridmis demo     [--seed N] [--customers N] [--fresh] [--no-serve] [--config F] [--db URL]
//   [--listen H:P] gridmis openapi  prints the OpenAPI document gridmis version
//   gridmis bill trial FILE.json [--province P] [--config F]   rates typed-in reads
//   gridmis tariff check DIR_OR_FILE                            validates catalogue files
//   gridmis bill run --period YYYY-MM [--department ID] [--segment ID] [--config F] [--db URL]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "acquisition/collection.h"
#include "acquisition/simulator/registry_fleet.h"
#include "acquisition/simulator/simulator.h"
#include "app/app.h"
#include "app/domain.h"
#include "app/migrations.h"
#include "billing/billing.h"
#include "cli/frame_cmd.h"
#include "cli/simulate_cmd.h"
#include "core/config.h"
#include "core/log.h"
#include "demo/business.h"
#include "demo/demo.h"
#include "http/router.h"
#include "jobs/jobs.h"
#include "org/org.h"
#include "rating/json.h"
#include "rating/rating.h"
#include "rating/tariff.h"
#include "store/db.h"
#include "store/migrate.h"

namespace gridmis {
namespace {

struct CommonFlags {
  std::string config_path;
  std::string db_url;
  std::string listen;
  std::string fep_listen;
  bool no_fep = false;
};

void AddCommon(CLI::App* cmd, CommonFlags* f, bool server) {
  cmd->add_option("--config", f->config_path, "TOML configuration file");
  cmd->add_option("--db", f->db_url, "database URL: sqlite://PATH or postgresql://...");
  if (server) {
    cmd->add_option("--listen", f->listen, "HOST:PORT to serve on");
    cmd->add_option("--fep-listen", f->fep_listen,
                    "HOST:PORT the terminal front end listens on (Q/GDW 1376.1)");
    cmd->add_flag("--no-fep", f->no_fep, "do not run the terminal front end");
  }
}

Result<Config> LoadWithFlags(const CommonFlags& f) {
  std::optional<std::string> path;
  if (!f.config_path.empty()) path = f.config_path;
  ASSIGN_OR_RETURN(Config c, LoadConfig(path));
  if (!f.db_url.empty()) c.database_url = f.db_url;
  if (!f.listen.empty()) c.listen = f.listen;
  if (!f.fep_listen.empty()) c.fep_listen = f.fep_listen;
  if (f.no_fep) c.fep_enabled = false;
  RETURN_IF_ERROR(ValidateConfig(c));
  InitLogging(c.log_level);
  return c;
}

int Fail(const Status& s) {
  std::fprintf(stderr, "gridmis: %s\n", s.ToString().c_str());
  return s.code() == StatusCode::kInvalidArgument ? 2 : 1;
}

// A progress bar on a terminal, plain lines otherwise.
class Progress {
 public:
  Progress() : tty_(isatty(STDERR_FILENO)), start_(std::chrono::steady_clock::now()) {}
  void Update(std::string_view stage, int64_t done, int64_t total) {
    auto now = std::chrono::steady_clock::now();
    double secs = std::chrono::duration<double>(now - start_).count();
    bool stage_changed = stage != stage_;
    if (!tty_) {
      if (stage_changed || done == total) {
        std::fprintf(stderr, "%7.1fs %-18s %lld/%lld\n", secs, std::string(stage).c_str(),
                     static_cast<long long>(done), static_cast<long long>(total));
      }
    } else if (stage_changed || now - last_ > std::chrono::milliseconds(100) || done == total) {
      int width = 30;
      int filled = total > 0 ? static_cast<int>(width * done / total) : width;
      std::string bar(static_cast<size_t>(filled), '#');
      bar.resize(static_cast<size_t>(width), ' ');
      std::fprintf(stderr, "\r[%s] %-18s %10lld/%-10lld %3d%% %6.1fs", bar.c_str(),
                   std::string(stage).c_str(), static_cast<long long>(done),
                   static_cast<long long>(total),
                   total > 0 ? static_cast<int>(100 * done / total) : 100, secs);
      if (done == total) std::fputc('\n', stderr);
      last_ = now;
    }
    stage_ = std::string(stage);
  }

 private:
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_{};
  std::string stage_;
};

int CmdServe(const CommonFlags& f) {
  auto config = LoadWithFlags(f);
  if (!config.ok()) return Fail(config.status());
  auto app = app::App::Create(*config);
  if (!app.ok()) return Fail(app.status());
  Status s = (*app)->Serve(true);
  return s.ok() ? 0 : Fail(s);
}

int CmdFep(const CommonFlags& f) {
  auto config = LoadWithFlags(f);
  if (!config.ok()) return Fail(config.status());
  auto app = app::App::Create(*config);
  if (!app.ok()) return Fail(app.status());
  Status s = (*app)->ServeFrontEnd(true);
  return s.ok() ? 0 : Fail(s);
}

int CmdMigrate(const CommonFlags& f, bool status_only) {
  auto config = LoadWithFlags(f);
  if (!config.ok()) return Fail(config.status());
  auto db = store::Database::Open(config->database_url);
  if (!db.ok()) return Fail(db.status());
  auto all = app::AllMigrations();
  if (!status_only) {
    Status s =
        store::Migrate(**db, all, SystemClock::Get()->NowMicros(), [](const store::Migration& m) {
          std::printf("applying %.*s/%d: %.*s\n", static_cast<int>(m.module.size()),
                      m.module.data(), m.version, static_cast<int>(m.name.size()), m.name.data());
        });
    if (!s.ok()) return Fail(s);
  }
  auto applied = store::AppliedMigrations(**db);
  if (!applied.ok()) return Fail(applied.status());
  auto pending = store::PendingMigrations(**db, all);
  if (!pending.ok()) return Fail(pending.status());
  std::printf("schema of %s: %zu migration(s) applied, %zu pending\n", (*db)->Describe().c_str(),
              applied->size(), pending->size());
  for (const auto& a : *applied) {
    std::printf("  %-12s v%-3d %s  (%s)\n", a.module.c_str(), a.version, a.name.c_str(),
                FormatUtc(a.applied_at_us).c_str());
  }
  for (const auto& p : *pending) {
    std::printf("  %-12.*s v%-3d %.*s  (pending)\n", static_cast<int>(p.module.size()),
                p.module.data(), p.version, static_cast<int>(p.name.size()), p.name.data());
  }
  return 0;
}

struct UserFlags {
  std::string username, password, role, department, name;
};

int CmdUserCreate(const CommonFlags& f, const UserFlags& u) {
  auto config = LoadWithFlags(f);
  if (!config.ok()) return Fail(config.status());
  auto app = app::App::Create(*config);
  if (!app.ok()) return Fail(app.status());
  org::OrgService& org = (*app)->org();
  org::Actor sys = org::Actor::System("cli");
  auto dept = org.FindDepartmentByCode(u.department);
  if (!dept.ok()) return Fail(dept.status());
  if (!*dept) {
    auto all = org.ListDepartments(sys);
    if (!all.ok()) return Fail(all.status());
    if (!all->empty()) {
      return Fail(InvalidArgument(
          "department '" + u.department +
              "' does not exist (existing top department: " + all->front().code + ")",
          "department"));
    }
    // A fresh database: the first department becomes the company root.
    org::DepartmentInput in;
    in.code = u.department;
    in.name = u.department;
    in.kind = "company";
    auto created = org.CreateDepartment(sys, in);
    if (!created.ok()) return Fail(created.status());
    std::printf("created root department %s (id %lld)\n", created->code.c_str(),
                static_cast<long long>(created->id));
    *dept = *created;
  }
  org::UserInput in;
  in.username = u.username;
  in.display_name = u.name.empty() ? u.username : u.name;
  in.department_id = (*dept)->id;
  in.password = u.password;
  in.roles = std::vector<std::string>{u.role};
  auto user = org.CreateUser(sys, in);
  if (!user.ok()) return Fail(user.status());
  std::printf("created user %s (id %lld) with role %s in %s\n", user->username.c_str(),
              static_cast<long long>(user->id), u.role.c_str(), (*dept)->code.c_str());
  return 0;
}

struct DemoFlags {
  uint64_t seed = 20261128;
  int64_t customers = 20000;
  bool fresh = false;
  bool no_serve = false;
  // The business history (reads, bills, payments; demo/business.h) goes through the services
  // one record at a time: about 16 s per 20,000 customers. Skipped above 200,000 customers
  // unless asked for.
  bool history = false;
  bool no_history = false;
  bool no_simulate = false;  // no simulated terminals against the demo's front end
};

// The demo's simulated terminals and the thread that starts the first collection.
struct DemoFleet {
  std::unique_ptr<acquisition::simulator::Fleet> fleet;
  std::thread collector;
  std::atomic<bool> stop{false};
  ~DemoFleet() {
    stop = true;
    if (collector.joinable()) collector.join();
    if (fleet) fleet->Stop();
  }
};

// Starts a simulated fleet of the registry's terminals against the app's front end (each meter
// continuing from its last read), and, once they are logged in, collects the last week's daily
// frozen registers and yesterday's curves (jobs, in the background).
Status StartDemoFleet(app::App& app, uint64_t seed, DemoFleet* demo) {
  namespace sim = acquisition::simulator;
  ASSIGN_OR_RETURN(std::vector<sim::SimTerminal> terminals, sim::LoadRegistryFleet(app.db(), seed));
  if (terminals.empty()) return Status::Ok();
  sim::FleetOptions o;
  o.host = "127.0.0.1";
  o.port = app.front_end_port();
  o.terminals = std::move(terminals);
  o.seed = seed;
  o.time_zone = &app.time_zone();
  o.faults.missing_data = 0.002;  // a few EEH values, as real terminals have
  o.faults.offline_fraction = 0.01;
  size_t expected = o.terminals.size() * 9 / 10;
  demo->fleet = std::make_unique<sim::Fleet>(std::move(o), app.clock());
  RETURN_IF_ERROR(demo->fleet->Start());
  // Collect once most terminals are in (the scheduler takes over from tomorrow).
  demo->collector = std::thread([&app, expected, demo] {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!demo->stop && demo->fleet->Stats().logged_in < expected &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    if (demo->stop) return;
    org::Actor sys = org::Actor::System("demo");
    Date yesterday = app.time_zone().LocalDate(app.clock().NowMicros()).AddDays(-1);
    acquisition::CollectionRequest daily;
    daily.kind = "daily_frozen";
    daily.day = yesterday;
    daily.catch_up_days = 7;
    acquisition::CollectionRequest curve;
    curve.kind = "curve";
    curve.day = yesterday;
    for (const auto& req : {daily, curve}) {
      auto job = app.domain().collection().StartCollection(sys, req);
      if (!job.ok()) spdlog::warn("demo collection not started: {}", job.status().ToString());
    }
  });
  return Status::Ok();
}

// Whether a TCP port on an IPv4 host can be bound now (the demo's front end port).
bool PortFree(const std::string& host, uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  bool ok = inet_pton(AF_INET, host.c_str(), &a.sin_addr) == 1 &&
            bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

int CmdDemo(CommonFlags f, const DemoFlags& d) {
  auto config = LoadWithFlags(f);
  if (!config.ok()) return Fail(config.status());
  // The demo's front end port (9001 by default) is often taken by another program (supervisord,
  // MinIO's console): unless one was asked for, the demo then takes a free one.
  if (config->fep_enabled && f.fep_listen.empty() && !d.no_serve) {
    std::string host;
    uint16_t port = 0;
    if (SplitHostPort(config->fep_listen, &host, &port).ok() && port != 0 &&
        !PortFree(host, port)) {
      std::printf(
          "%s is in use: the demo's terminal front end listens on a free port instead "
          "(see the log line 'terminal front end listening on').\n",
          config->fep_listen.c_str());
      config->fep_listen = host + ":0";
    }
  }
  if (d.fresh && config->database_url.rfind("sqlite://", 0) == 0) {
    std::string path = config->database_url.substr(9);
    if (path != ":memory:") {
      for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    }
  }
  bool built = false;
  {
    app::AppOptions opts;
    opts.bulk_load = true;
    auto gen = app::App::Create(*config, opts);
    if (!gen.ok()) return Fail(gen.status());
    auto n = (*gen)->db().ReadValue<int64_t>(
        [](store::Connection& c) { return c.QueryInt("SELECT COUNT(*) FROM customers"); });
    if (!n.ok()) return Fail(n.status());
    if (*n > 0) {
      std::printf(
          "%s already holds a demo utility (%lld customers); serving it. Use --fresh to "
          "rebuild.\n",
          (*gen)->db().Describe().c_str(), static_cast<long long>(*n));
    } else {
      Progress progress;
      demo::DemoOptions o;
      o.seed = d.seed;
      o.customers = d.customers;
      o.progress = [&](std::string_view stage, int64_t done, int64_t total) {
        progress.Update(stage, done, total);
      };
      auto summary = demo::BuildDemo((*gen)->db(), (*gen)->clock(), o);
      if (!summary.ok()) return Fail(summary.status());
      std::printf("%s", demo::FormatSummary(*summary).c_str());
      built = true;
    }
  }
  const bool history = d.history || (!d.no_history && d.customers <= 200000);
  if (built && !history) {
    std::printf("Business history skipped (%s); add --history to build it.\n",
                d.no_history ? "--no-history" : "more than 200,000 customers");
  }
  if (built && history) {
    Progress progress;
    demo::BusinessOptions bo;
    bo.seed = d.seed;
    bo.now_us = SystemClock::Get()->NowMicros();
    bo.progress = [&](std::string_view stage, int64_t done, int64_t total) {
      progress.Update(stage, done, total);
    };
    auto business = demo::BuildBusinessHistory(*config, bo);
    if (!business.ok()) return Fail(business.status());
    std::printf("%s", demo::FormatBusinessSummary(*business).c_str());
  }
  if (d.no_serve) return 0;
  auto app = app::App::Create(*config);
  if (!app.ok()) return Fail(app.status());
  // The demo's terminals, simulated in this process against its own front end, so that the
  // acquisition pages have live terminals, frames, collected registers and curves.
  DemoFleet fleet;
  const bool simulate = config->fep_enabled && !d.no_simulate;
  Status s = (*app)->Serve(true, [&](uint16_t port) {
    std::string host = config->listen.substr(0, config->listen.rfind(':'));
    if (simulate) {
      Status sim = StartDemoFleet(**app, d.seed, &fleet);
      if (!sim.ok()) {
        std::fprintf(stderr, "gridmis demo: no simulated terminals: %s\n", sim.ToString().c_str());
      }
    }
    std::printf(
        "\ngridmis demo is serving at http://%s:%u/  (log in as 'manager' with password "
        "'%s'; all demo logins are in README.md)\nPress Ctrl-C to stop.\n",
        host.c_str(), port, demo::kDemoPassword);
    std::fflush(stdout);
  });
  return s.ok() ? 0 : Fail(s);
}

// `gridmis bill trial FILE.json`: rates typed-in reads (the trial JSON of
// POST /api/v1/billing/trial) with the configured province's catalogue and prints the bill.
int CmdBillTrial(const CommonFlags& f, const std::string& file, const std::string& province) {
  auto fail = [](const Status& s) {
    std::fprintf(stderr, "gridmis: %s\n", s.ToString().c_str());
    return 1;
  };
  auto config = LoadWithFlags(f);
  if (!config.ok()) return fail(config.status());
  auto cat = rating::TariffCatalogue::Load(province.empty() ? config->billing_province : province,
                                           config->billing_tariff_dirs);
  if (!cat.ok()) return fail(cat.status());
  std::ifstream in(file, std::ios::binary);
  if (!in) return fail(InvalidArgument("cannot read " + file));
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json body;
  try {
    body = nlohmann::json::parse(ss.str());
  } catch (const nlohmann::json::parse_error& e) {
    return fail(InvalidArgument(file + ": not JSON (byte " + std::to_string(e.byte) + ")"));
  }
  auto input = rating::RatingInputFromJson(body);
  if (!input.ok()) return fail(input.status().WithContext(file));
  auto bill = rating::Rate(*input, **cat);
  if (!bill.ok()) return fail(bill.status().WithContext(file));
  std::printf("%s\n", rating::ToJson(*bill).dump(2).c_str());
  return 0;
}

struct BillRunFlags {
  std::string period;
  int64_t department = 0;  // 0: the company (root department)
  int64_t segment = 0;     // 0: every segment
  int64_t threshold_pct = -1;
};

// `gridmis bill run --period YYYY-MM [--department ID] [--segment ID]`: runs a bill run in this
// process — resuming the unfinished run of the same department, segment and period if there is
// one — with a progress bar on a terminal (plain lines otherwise), then prints the summary. Exit
// code 0 when the run succeeded; rerunnable (points already billed are skipped).
int CmdBillRun(const CommonFlags& f, const BillRunFlags& b) {
  auto config = LoadWithFlags(f);
  if (!config.ok()) return Fail(config.status());
  auto period = YearMonth::Parse(b.period, "--period");
  if (!period.ok()) return Fail(InvalidArgument(period.status().message(), "period"));
  auto app = app::App::Create(*config);
  if (!app.ok()) return Fail(app.status());
  billing::BillingService& billing = (*app)->domain().billing();
  jobs::JobRunner& runner = (*app)->domain().jobs();
  org::Actor sys = org::Actor::System("cli");
  billing::RunRequest req;
  req.period = *period;
  req.department_id = b.department;
  if (b.segment > 0) req.segment_id = b.segment;
  if (b.threshold_pct >= 0) req.change_threshold_pct = b.threshold_pct;
  if (req.department_id == 0) {
    auto root = (*app)->db().ReadValue<int64_t>([](store::Connection& c) {
      return c.QueryInt("SELECT id FROM departments WHERE parent_id IS NULL ORDER BY id LIMIT 1");
    });
    if (!root.ok()) return Fail(FailedPrecondition("the database has no departments"));
    req.department_id = *root;
  }
  auto unfinished = billing.FindUnfinishedRun(req);
  if (!unfinished.ok()) return Fail(unfinished.status());
  int64_t run_id = 0, job_id = 0;
  if (*unfinished) {
    run_id = (*unfinished)->id;
    job_id = (*unfinished)->job_id;
    std::fprintf(stderr, "resuming bill run %lld (job %lld, %s, %lld done)\n",
                 static_cast<long long>(run_id), static_cast<long long>(job_id),
                 (*unfinished)->job.status.c_str(),
                 static_cast<long long>((*unfinished)->job.done));
  } else {
    req.claim_for_this_process = true;
    auto run = billing.StartRun(sys, req);
    if (!run.ok()) return Fail(run.status());
    run_id = run->id;
    job_id = run->job_id;
    std::fprintf(stderr, "bill run %lld (job %lld) for %s, department %lld\n",
                 static_cast<long long>(run_id), static_cast<long long>(job_id),
                 req.period.ToString().c_str(), static_cast<long long>(req.department_id));
  }
  Progress progress;
  auto start = std::chrono::steady_clock::now();
  auto job = runner.RunNow(job_id, [&](const jobs::Job& j) {
    progress.Update(j.stage, j.done, std::max(j.total, j.done));
  });
  if (!job.ok()) return Fail(job.status());
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  auto run = billing.GetRun(sys, run_id);
  if (!run.ok()) return Fail(run.status());
  const billing::BillRun& r = *run;
  std::printf("bill run %lld, %s, department %lld: %s\n", static_cast<long long>(r.id),
              r.period.ToString().c_str(), static_cast<long long>(r.department_id),
              job->status.c_str());
  if (job->status != "succeeded") {
    std::printf("  error       %s\n  rerun the same command to continue from the checkpoint\n",
                job->error.c_str());
    return 1;
  }
  std::printf(
      "  bills       %lld\n  total       %s yuan\n  review      %lld\n"
      "  exceptions  %lld\n  unbillable  %lld\n  skipped     %lld (already billed)\n"
      "  time        %.1f s (%.0f bills/s)\n",
      static_cast<long long>(r.bills), r.total.ToYuanString().c_str(),
      static_cast<long long>(r.review), static_cast<long long>(r.exceptions),
      static_cast<long long>(r.unbillable), static_cast<long long>(r.skipped), secs,
      secs > 0 ? static_cast<double>(r.bills) / secs : 0.0);
  if (r.exceptions > 0) {
    int64_t total = 0;
    auto ex = billing.RunExceptions(sys, r.id, 1, 10, &total);
    if (ex.ok()) {
      for (const auto& e : *ex) {
        std::printf("  ! %s: %s\n", e.metering_point_code.c_str(), e.message.c_str());
      }
      if (total > 10) std::printf("  ... %lld more\n", static_cast<long long>(total - 10));
    }
  }
  return 0;
}

// `gridmis tariff check DIR_OR_FILE`: validates catalogue files; one line per file.
int CmdTariffCheck(const std::string& path) {
  int bad = 0;
  for (const auto& r : rating::TariffCatalogue::CheckPath(path)) {
    if (!r.status.ok()) {
      ++bad;
      std::fprintf(stderr, "error: %s\n", r.status.message().c_str());
      continue;
    }
    size_t versions = 0;
    for (const auto& t : r.catalogue->tariffs()) versions += t.versions.size();
    std::printf("ok: %s (province %s: %zu tariffs, %zu versions)\n", r.file.c_str(),
                r.catalogue->province().c_str(), r.catalogue->tariffs().size(), versions);
  }
  return bad == 0 ? 0 : 1;
}

int CmdOpenApi() {
  Config c;
  c.database_url = "sqlite://:memory:";
  c.log_level = "warn";
  InitLogging(c.log_level);
  app::AppOptions o;
  o.hash_strength = org::HashStrength::kMinimum;
  auto app = app::App::Create(c, o);
  if (!app.ok()) return Fail(app.status());
  std::printf("%s\n", (*app)->router().OpenApi("gridmis API", GRIDMIS_VERSION).dump(2).c_str());
  return 0;
}

}  // namespace
}  // namespace gridmis

int main(int argc, char** argv) {
  using namespace gridmis;
  CLI::App cli{"gridmis: marketing information system for electricity utilities"};
  cli.require_subcommand(1);
  CommonFlags common;

  auto* serve = cli.add_subcommand("serve", "Serve the HTTP API and web console");
  AddCommon(serve, &common, true);

  auto* fep = cli.add_subcommand(
      "fep", "Run the terminal front end alone (ingestion, collection jobs, commands; no HTTP)");
  fep->add_option("--config", common.config_path, "TOML configuration file");
  fep->add_option("--db", common.db_url, "database URL: sqlite://PATH or postgresql://...");
  fep->add_option("--fep-listen", common.fep_listen,
                  "HOST:PORT the terminal front end listens on (Q/GDW 1376.1)");

  auto* migrate = cli.add_subcommand("migrate", "Create or upgrade the database schema");
  AddCommon(migrate, &common, false);
  bool status_only = false;
  migrate->add_flag("--status", status_only, "Only show applied and pending migrations");

  auto* user = cli.add_subcommand("user", "Manage user accounts");
  user->require_subcommand(1);
  auto* user_create = user->add_subcommand("create", "Create a user (bootstraps a fresh database)");
  AddCommon(user_create, &common, false);
  UserFlags uf;
  user_create->add_option("--username", uf.username, "login name")->required();
  user_create->add_option("--password", uf.password, "initial password")->required();
  user_create->add_option("--role", uf.role, "role code, e.g. system_admin, counter_clerk")
      ->required();
  user_create
      ->add_option("--department", uf.department,
                   "department code; on an empty database it becomes the company root")
      ->required();
  user_create->add_option("--name", uf.name, "display name (default: the username)");

  auto* demo_cmd = cli.add_subcommand("demo", "Build a synthetic utility and serve it");
  AddCommon(demo_cmd, &common, true);
  DemoFlags df;
  demo_cmd->add_option("--seed", df.seed, "random seed (same seed, same utility)");
  demo_cmd->add_option("--customers", df.customers, "number of customers")
      ->check(CLI::Range(int64_t{1}, int64_t{20'000'000}));
  demo_cmd->add_flag("--fresh", df.fresh, "delete an existing SQLite demo file first");
  demo_cmd->add_flag("--no-serve", df.no_serve, "only build the database");
  demo_cmd->add_flag("--history", df.history,
                     "build the reads, bills and payments of the last months (default: up to "
                     "200,000 customers)");
  demo_cmd->add_flag("--no-history", df.no_history, "only the base utility, no business history");
  demo_cmd->add_flag("--no-simulate", df.no_simulate,
                     "no simulated terminals (by default the demo's terminals are simulated "
                     "against its front end and the last week is collected)");

  auto* bill = cli.add_subcommand("bill", "Bills: trial calculation, bill runs");
  bill->require_subcommand(1);
  auto* bill_trial = bill->add_subcommand(
      "trial", "Rate typed-in reads (trial JSON) and print the bill JSON; saves nothing");
  AddCommon(bill_trial, &common, false);
  std::string trial_file, trial_province;
  bill_trial->add_option("FILE", trial_file, "trial JSON (see POST /api/v1/billing/trial)")
      ->required();
  bill_trial->add_option("--province", trial_province,
                         "tariff catalogue (default: billing.province of the configuration)");
  auto* bill_run = bill->add_subcommand(
      "run", "Run a bill run in this process (resumes an unfinished one) and print the summary");
  AddCommon(bill_run, &common, false);
  BillRunFlags brf;
  bill_run->add_option("--period", brf.period, "电费年月 YYYY-MM")->required();
  bill_run->add_option("--department", brf.department,
                       "department id (that department and below; default: the company)");
  bill_run->add_option("--segment", brf.segment, "reading segment id (default: all)");
  bill_run->add_option("--threshold", brf.threshold_pct,
                       "review bills whose total moved more than this % (default 30)");

  auto* tariff = cli.add_subcommand("tariff", "Tariff catalogue files");
  tariff->require_subcommand(1);
  auto* tariff_check =
      tariff->add_subcommand("check", "Validate tariff catalogue files (a file or a directory)");
  std::string tariff_path;
  tariff_check->add_option("PATH", tariff_path, "a .toml file or a directory of them")->required();

  auto run_frame = cli::AddFrameCommand(cli);
  auto run_simulate = cli::AddSimulateCommand(cli);

  auto* openapi = cli.add_subcommand("openapi", "Print the OpenAPI document");
  auto* version = cli.add_subcommand("version", "Print the version");

  CLI11_PARSE(cli, argc, argv);
  if (serve->parsed()) return CmdServe(common);
  if (fep->parsed()) return CmdFep(common);
  if (migrate->parsed()) return CmdMigrate(common, status_only);
  if (user_create->parsed()) return CmdUserCreate(common, uf);
  if (demo_cmd->parsed()) return CmdDemo(common, df);
  if (bill_trial->parsed()) return CmdBillTrial(common, trial_file, trial_province);
  if (bill_run->parsed()) return CmdBillRun(common, brf);
  if (tariff_check->parsed()) return CmdTariffCheck(tariff_path);
  if (auto rc = run_frame()) return *rc;
  if (auto rc = run_simulate()) return *rc;
  if (openapi->parsed()) return CmdOpenApi();
  if (version->parsed()) {
    std::printf("gridmis %s\n", GRIDMIS_VERSION);
    return 0;
  }
  return 0;
}
