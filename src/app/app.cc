#include "app/app.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "app/acquisition_runtime.h"
#include "app/dashboard.h"
#include "app/domain.h"
#include "app/migrations.h"
#include "app/static_files.h"
#include "core/log.h"
#include "http/metrics.h"
#include "http/router.h"
#include "http/server.h"
#include "jobs/jobs.h"
#include "org/org.h"
#include "org/routes.h"
#include "rating/tariff.h"
#include "store/db.h"
#include "store/migrate.h"

namespace gridmis::app {

using nlohmann::json;

struct App::Impl {
  Config config;
  const Clock* clock = nullptr;
  TimeZone tz;
  std::unique_ptr<store::Database> db;
  std::unique_ptr<org::OrgService> org;
  std::unique_ptr<Domain> domain;
  http::Metrics metrics;
  std::unique_ptr<http::Router> router;
  std::mutex server_mu;
  http::Server* server = nullptr;   // guarded by server_mu, set while Serve runs
  bool stop_requested = false;      // guarded by server_mu
  std::condition_variable stop_cv;  // ServeFrontEnd waits on it (with server_mu)
  std::atomic<uint16_t> fep_port{0};
};

App::App() : impl_(std::make_unique<Impl>()) {}
App::~App() = default;

const Config& App::config() const { return impl_->config; }
const Clock& App::clock() const { return *impl_->clock; }
const TimeZone& App::time_zone() const { return impl_->tz; }
store::Database& App::db() { return *impl_->db; }
org::OrgService& App::org() { return *impl_->org; }
http::Router& App::router() { return *impl_->router; }
http::Metrics& App::metrics() { return impl_->metrics; }
Domain& App::domain() { return *impl_->domain; }

namespace {

void AddSystemRoutes(App& app, http::Router& router) {
  router.AddSchema("Health", {{"type", "object"},
                              {"properties",
                               {{"status", {{"type", "string"}}},
                                {"database", {{"type", "string"}}},
                                {"version", {{"type", "string"}}},
                                {"schema_migrations", {{"type", "integer"}}},
                                {"time_zone", {{"type", "string"}}},
                                {"time", {{"type", "string"}}}}}});
  router.Add({.method = "GET",
              .pattern = "/api/v1/health",
              .public_route = true,
              .summary = "Liveness and database reachability",
              .tag = "system",
              .response = "Health",
              .fn = [&app](http::RouteContext&) -> Result<http::Reply> {
                http::Reply r;
                auto n = app.db().ReadValue<int64_t>([](store::Connection& c) {
                  return c.QueryInt("SELECT COUNT(*) FROM schema_migrations");
                });
                r.body = {{"status", n.ok() ? "ok" : "degraded"},
                          {"database", n.ok() ? "ok" : n.status().message()},
                          {"version", GRIDMIS_VERSION},
                          {"schema_migrations", n.ok() ? *n : 0},
                          {"time_zone", app.time_zone().name()},
                          {"time", FormatUtc(app.clock().NowMicros())}};
                if (!n.ok()) r.status = 503;
                return r;
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/openapi.json",
              .public_route = true,
              .summary = "This API's OpenAPI 3 document",
              .tag = "system",
              .fn = [&router](http::RouteContext&) -> Result<http::Reply> {
                http::Reply r;
                r.body = router.OpenApi("gridmis API", GRIDMIS_VERSION);
                return r;
              }});
  router.Add({.method = "GET",
              .pattern = "/metrics",
              .public_route = true,
              .summary = "Prometheus metrics (text format 0.0.4)",
              .tag = "system",
              .fn = [&app](http::RouteContext&) -> Result<http::Reply> {
                http::Reply r;
                r.raw_content_type = "text/plain; version=0.0.4; charset=utf-8";
                r.raw_body = app.metrics().Render();
                return r;
              }});
}

}  // namespace

Result<std::unique_ptr<App>> App::Create(const Config& config, AppOptions options) {
  RETURN_IF_ERROR(ValidateConfig(config));
  InitLogging(config.log_level);
  std::unique_ptr<App> app(new App());
  Impl& m = *app->impl_;
  m.config = config;
  m.clock = options.clock ? options.clock : SystemClock::Get();
  ASSIGN_OR_RETURN(m.tz, TimeZone::Load(config.time_zone));
  store::DatabaseOptions dbo;
  dbo.max_readers = std::max(2, config.db_workers);
  dbo.bulk_load = options.bulk_load;
  ASSIGN_OR_RETURN(m.db, store::Database::Open(config.database_url, dbo));
  if (options.migrate) {
    RETURN_IF_ERROR(store::Migrate(
        *m.db, AllMigrations(), m.clock->NowMicros(), [](const store::Migration& mig) {
          spdlog::info("migrating {}/{}: {}", mig.module, mig.version, mig.name);
        }));
  }
  org::OrgOptions oo;
  oo.session_idle_us = static_cast<int64_t>(config.session_idle_minutes) * kMicrosPerMinute;
  oo.session_max_us = static_cast<int64_t>(config.session_max_hours) * 60 * kMicrosPerMinute;
  oo.lockout_failures = config.lockout_failures;
  oo.lockout_us = static_cast<int64_t>(config.lockout_minutes) * kMicrosPerMinute;
  oo.password_policy.min_length = config.password_min_length;
  oo.password_policy.admin_min_length = config.admin_password_min_length;
  oo.hash_strength = options.hash_strength;
  m.org = std::make_unique<org::OrgService>(*m.db, *m.clock, oo);
  if (options.migrate) RETURN_IF_ERROR(m.org->EnsureBuiltinRoles());

  m.router = std::make_unique<http::Router>(&m.metrics);
  m.router->SetAuthenticator(org::MakeAuthenticator(*m.org));
  AddSystemRoutes(*app, *m.router);
  org::AddRoutes(*m.router, *m.org, *m.db, *m.clock, {.cookie_secure = config.cookie_secure});
  ASSIGN_OR_RETURN(auto tariffs, rating::TariffCatalogue::Load(config.billing_province,
                                                               config.billing_tariff_dirs));
  ASSIGN_OR_RETURN(m.domain,
                   Domain::Create(*m.db, *m.clock, *m.org, *m.router, tariffs, &m.tz, &m.config));
  AddDashboardRoute(*m.router, *m.db);
  ASSIGN_OR_RETURN(std::string static_dir, ResolveStaticDir(config.static_dir));
  m.router->SetFallback(MakeStaticHandler(static_dir));

  store::Database* db = m.db.get();
  m.metrics.AddCollector("gridmis_db_pool_size", "Database connections the pool may open.", "gauge",
                         [db] { return static_cast<double>(db->pool_size()); });
  m.metrics.AddCollector("gridmis_db_connections_open", "Database connections open.", "gauge",
                         [db] { return static_cast<double>(db->stats().connections_open.load()); });
  m.metrics.AddCollector(
      "gridmis_db_connections_in_use", "Database connections in use.", "gauge",
      [db] { return static_cast<double>(db->stats().connections_in_use.load()); });
  m.metrics.AddCollector("gridmis_db_pool_waits_total",
                         "Times a request waited for a free database connection.", "counter",
                         [db] { return static_cast<double>(db->stats().waits.load()); });
  m.metrics.AddCollector("gridmis_db_transactions_total", "Committed write transactions.",
                         "counter",
                         [db] { return static_cast<double>(db->stats().transactions.load()); });
  m.metrics.AddCollector("gridmis_db_rollbacks_total", "Rolled-back write transactions.", "counter",
                         [db] { return static_cast<double>(db->stats().rollbacks.load()); });
  return app;
}

Status App::Serve(bool handle_signals, const std::function<void(uint16_t port)>& on_listening) {
  Impl& m = *impl_;
  http::ServerOptions so;
  RETURN_IF_ERROR(SplitHostPort(m.config.listen, &so.host, &so.port));
  so.io_threads = m.config.io_threads;
  so.worker_threads = m.config.db_workers;
  so.max_inflight = m.config.max_inflight;
  so.body_limit_bytes = static_cast<size_t>(m.config.max_body_bytes);
  so.request_timeout = std::chrono::milliseconds(m.config.request_timeout_ms);
  so.idle_timeout = std::chrono::milliseconds(m.config.idle_timeout_ms);
  so.handle_signals = handle_signals;
  http::Router* router = m.router.get();
  http::Server server(so, [router](http::Request& req) { return router->Handle(req); });
  RETURN_IF_ERROR(server.Start());
  // Background jobs run while serving; jobs left running by a crashed process are resumed.
  RETURN_IF_ERROR(m.domain->jobs().Start());
  // The terminal front end, ingestion, collection schedule and command dispatcher.
  std::unique_ptr<AcquisitionRuntime> acquisition;
  if (m.config.fep_enabled) {
    auto rt = AcquisitionRuntime::Start(m.config, *m.domain, &m.metrics);
    if (!rt.ok()) {
      m.domain->jobs().Stop();
      return rt.status();
    }
    acquisition = std::move(*rt);
    m.fep_port = acquisition->port();
  }
  const http::ServerStats* stats = &server.stats();
  m.metrics.AddCollector("gridmis_http_connections_open", "Open client connections.", "gauge",
                         [stats] { return static_cast<double>(stats->connections_open.load()); });
  m.metrics.AddCollector("gridmis_http_connections_idle", "Keep-alive connections waiting.",
                         "gauge",
                         [stats] { return static_cast<double>(stats->connections_idle.load()); });
  m.metrics.AddCollector("gridmis_http_inflight", "Requests queued or running on workers.", "gauge",
                         [stats] { return static_cast<double>(stats->inflight.load()); });
  m.metrics.AddCollector("gridmis_http_rejected_overload_total",
                         "Requests answered 503 because the worker queue was full.", "counter",
                         [stats] { return static_cast<double>(stats->rejected_overload.load()); });
  {
    std::lock_guard lock(m.server_mu);
    m.server = &server;
    if (m.stop_requested) server.Stop();
  }
  spdlog::info("gridmis listening on http://{}:{} (database {})", so.host, server.port(),
               m.db->Describe());
  if (on_listening) on_listening(server.port());
  server.Run();
  // Running jobs are handed back to the queue with their checkpoint for the next start — before
  // the front end stops, so that a collection in progress stops at its checkpoint rather than
  // seeing every terminal go away.
  m.domain->jobs().Stop();
  if (acquisition) acquisition->Stop();
  m.fep_port = 0;
  {
    std::lock_guard lock(m.server_mu);
    m.server = nullptr;
  }
  // The collectors point into `server`; replace them with constants.
  for (const char* name : {"gridmis_http_connections_open", "gridmis_http_connections_idle",
                           "gridmis_http_inflight", "gridmis_http_rejected_overload_total"}) {
    m.metrics.AddCollector(name, "server stopped", "gauge", [] { return 0.0; });
  }
  spdlog::info("gridmis stopped");
  return Status::Ok();
}

void App::Stop() {
  std::lock_guard lock(impl_->server_mu);
  impl_->stop_requested = true;
  if (impl_->server) impl_->server->Stop();
  impl_->stop_cv.notify_all();
}

uint16_t App::front_end_port() const { return impl_->fep_port.load(); }

Status App::ServeFrontEnd(bool handle_signals,
                          const std::function<void(uint16_t port)>& on_listening) {
  Impl& m = *impl_;
  // SIGINT/SIGTERM are taken by a thread that waits for them (sigwait) and calls Stop(); they
  // are blocked first, so that the threads started below inherit the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  if (handle_signals) pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  RETURN_IF_ERROR(m.domain->jobs().Start());
  auto rt = AcquisitionRuntime::Start(m.config, *m.domain, &m.metrics);
  if (!rt.ok()) {
    m.domain->jobs().Stop();
    return rt.status();
  }
  m.fep_port = (*rt)->port();
  if (on_listening) on_listening((*rt)->port());
  std::thread signal_watcher;
  if (handle_signals) {
    signal_watcher = std::thread([this, signals] {
      int sig = 0;
      if (sigwait(&signals, &sig) == 0 && (sig == SIGINT || sig == SIGTERM)) {
        spdlog::info("signal {}: stopping", sig);
        Stop();
      }
    });
  }
  {
    std::unique_lock lock(m.server_mu);
    m.stop_cv.wait(lock, [&m] { return m.stop_requested; });
  }
  m.domain->jobs().Stop();  // first: see Serve
  (*rt)->Stop();
  m.fep_port = 0;
  if (signal_watcher.joinable()) {
    // Wake the watcher if it is still waiting (stopped through Stop(), not a signal).
    pthread_kill(signal_watcher.native_handle(), SIGTERM);
    signal_watcher.join();
  }
  spdlog::info("gridmis front end stopped");
  return Status::Ok();
}

}  // namespace gridmis::app
