// The acquisition system at run time: the terminal front end on its port, the ingestion that
// listens to it, the collection scheduler and the command dispatcher. `gridmis serve` runs it
// beside the HTTP server (unless [acquisition] fep = false); `gridmis fep` runs it alone.
#pragma once

#include <cstdint>
#include <memory>

#include "core/config.h"
#include "core/status.h"

namespace gridmis {
namespace http {
class Metrics;
}
namespace app {

class Domain;

class AcquisitionRuntime {
 public:
  // Starts, in order: the ingestion (loads the terminal registry), the front end on
  // config.fep_listen, the command dispatcher and the collection scheduler. The domain's job
  // runner must be started by the caller (collection runs as jobs). Unavailable when the port
  // is taken. `metrics` (may be null) gets the front end's gauges and counters.
  static Result<std::unique_ptr<AcquisitionRuntime>> Start(const Config& config, Domain& domain,
                                                           http::Metrics* metrics);
  ~AcquisitionRuntime();  // Stop()s

  uint16_t port() const;  // the front end's bound port
  // Stops in the reverse order: scheduler, front end (terminals go offline; requests in flight
  // are cancelled and recorded), dispatcher, ingestion (written out). Idempotent.
  void Stop();

 private:
  AcquisitionRuntime();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace app
}  // namespace gridmis
