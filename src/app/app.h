// The assembled application: configuration, database, services, router and HTTP server. The
// CLI's `serve` and `demo`, and the API tests, build one App; nothing else wires modules.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "core/config.h"
#include "core/status.h"
#include "core/time.h"
#include "org/password.h"

namespace gridmis {
namespace store {
class Database;
}
namespace org {
class OrgService;
}
namespace http {
class Router;
class Metrics;
}  // namespace http

namespace app {

class Domain;

struct AppOptions {
  const Clock* clock = nullptr;  // nullptr: the system clock
  org::HashStrength hash_strength = org::HashStrength::kInteractive;
  bool migrate = true;     // apply pending migrations at start
  bool bulk_load = false;  // SQLite synchronous=OFF (demo generation)
};

class App {
 public:
  static Result<std::unique_ptr<App>> Create(const Config& config, AppOptions options = {});
  ~App();

  const Config& config() const;
  const Clock& clock() const;
  const TimeZone& time_zone() const;
  store::Database& db();
  org::OrgService& org();
  http::Router& router();
  http::Metrics& metrics();
  // The business services (billing, jobs, ...), for the CLI and tests.
  Domain& domain();

  // Serves on config.listen until Stop() or SIGINT/SIGTERM (when handle_signals), then shuts
  // down gracefully. `on_listening` is called with the bound port once accepting.
  Status Serve(bool handle_signals,
               const std::function<void(uint16_t port)>& on_listening = nullptr);
  // Starts a graceful shutdown of Serve() or ServeFrontEnd(); safe from any thread.
  void Stop();
  // `gridmis fep`: the terminal front end with ingestion, collection jobs and the command
  // dispatcher, without the HTTP server, until Stop() or SIGINT/SIGTERM (when handle_signals).
  // `on_listening` gets the front end's port.
  Status ServeFrontEnd(bool handle_signals,
                       const std::function<void(uint16_t port)>& on_listening = nullptr);
  // The port the terminal front end listens on while Serve/ServeFrontEnd runs (0: none).
  uint16_t front_end_port() const;

 private:
  App();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace app
}  // namespace gridmis
