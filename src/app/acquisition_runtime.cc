#include "app/acquisition_runtime.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "acquisition/collection.h"
#include "acquisition/commands.h"
#include "acquisition/fep/front_end.h"
#include "acquisition/ingest.h"
#include "app/domain.h"
#include "http/metrics.h"
#include "org/actor.h"
#include "store/db.h"

namespace gridmis::app {

struct AcquisitionRuntime::Impl {
  Domain* domain = nullptr;
  http::Metrics* metrics = nullptr;
  std::unique_ptr<acquisition::fep::FrontEnd> front_end;
  std::unique_ptr<acquisition::CollectionScheduler> scheduler;
  // The scheduler starts after a warm-up, so that a run due at start (a restart after the
  // collection time) does not find every terminal still reconnecting and record it failed.
  std::thread warm_up;
  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;  // guarded by mu
  bool stopped = false;
};

AcquisitionRuntime::AcquisitionRuntime() : impl_(std::make_unique<Impl>()) {}
AcquisitionRuntime::~AcquisitionRuntime() { Stop(); }

namespace {

// The front end's figures as Prometheus gauges and counters.
struct FrontEndMetric {
  const char* name;
  const char* help;
  const char* type;
  uint64_t acquisition::fep::FrontEndStats::*field;
};
using Stats = acquisition::fep::FrontEndStats;
constexpr FrontEndMetric kMetrics[] = {
    {"gridmis_fep_connections_open", "Terminal connections open.", "gauge",
     &Stats::connections_open},
    {"gridmis_fep_terminals_online", "Terminals logged in.", "gauge", &Stats::terminals_online},
    {"gridmis_fep_logins_total", "Terminal logins confirmed.", "counter", &Stats::logins},
    {"gridmis_fep_refused_total", "Logins refused: terminal not in the registry.", "counter",
     &Stats::refused_unknown},
    {"gridmis_fep_frames_in_total", "Frames received from terminals.", "counter",
     &Stats::frames_in},
    {"gridmis_fep_frames_out_total", "Frames sent to terminals.", "counter", &Stats::frames_out},
    {"gridmis_fep_bad_frames_total", "Malformed, over-long or bad-checksum input dropped.",
     "counter", &Stats::bad_frames},
    {"gridmis_fep_rate_limited_total", "Frames dropped by the per-connection rate limit.",
     "counter", &Stats::rate_limited},
    {"gridmis_fep_requests_total", "Requests sent to terminals.", "counter", &Stats::requests},
    {"gridmis_fep_request_timeouts_total", "Requests unanswered after every attempt.", "counter",
     &Stats::request_timeouts},
};

// A database without collection tasks gets the configured ones ([acquisition]
// collect_daily_at, collect_curves_at, catch_up_days) for the whole company: yesterday's daily
// registers, the previous month's on the 1st, yesterday's curves. Afterwards the tasks are
// data (console, API); the configuration is not read again.
Status EnsureDefaultTasks(const Config& config, Domain& domain) {
  ASSIGN_OR_RETURN(int64_t tasks, domain.db().ReadValue<int64_t>([](store::Connection& c) {
    return c.QueryInt("SELECT COUNT(*) FROM collection_tasks");
  }));
  if (tasks > 0) return Status::Ok();
  ASSIGN_OR_RETURN(int64_t root, domain.db().ReadValue<int64_t>([](store::Connection& c) {
    return c.QueryInt("SELECT COALESCE(MIN(id), 0) FROM departments WHERE parent_id IS NULL");
  }));
  if (root == 0) return Status::Ok();  // an empty database: nothing to collect yet
  org::Actor sys = org::Actor::System("acquisition defaults");
  auto add = [&](const char* name, const char* kind, const std::string& at,
                 int64_t catch_up) -> Status {
    acquisition::CollectionTaskInput in;
    in.name = name;
    in.kind = kind;
    in.department_id = root;
    in.time_of_day = at;
    in.catch_up_days = catch_up;
    in.enabled = true;
    return domain.collection().CreateTask(sys, in).status();
  };
  RETURN_IF_ERROR(add("日冻结 daily frozen", "daily_frozen", config.collect_daily_at,
                      config.collect_catch_up_days));
  RETURN_IF_ERROR(add("月冻结 monthly frozen", "monthly_frozen", config.collect_daily_at, 1));
  if (!config.collect_curves_at.empty()) {
    RETURN_IF_ERROR(add("负荷曲线 curves", "curve", config.collect_curves_at,
                        std::min(config.collect_catch_up_days, 3)));
  }
  spdlog::info("collection tasks created from the configuration (daily at {}, curves at {})",
               config.collect_daily_at,
               config.collect_curves_at.empty() ? "off" : config.collect_curves_at);
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<AcquisitionRuntime>> AcquisitionRuntime::Start(const Config& config,
                                                                      Domain& domain,
                                                                      http::Metrics* metrics) {
  std::unique_ptr<AcquisitionRuntime> rt(new AcquisitionRuntime());
  Impl& m = *rt->impl_;
  m.domain = &domain;
  m.metrics = metrics;
  RETURN_IF_ERROR(EnsureDefaultTasks(config, domain));
  acquisition::Ingestor& ingestor = domain.ingestor();
  RETURN_IF_ERROR(ingestor.Start());

  acquisition::fep::FrontEndOptions fo;
  RETURN_IF_ERROR(SplitHostPort(config.fep_listen, &fo.host, &fo.port));
  fo.io_threads = config.fep_io_threads;
  fo.master_address = static_cast<uint8_t>(config.fep_master_address);
  fo.request_timeout = std::chrono::milliseconds(config.fep_request_timeout_ms);
  fo.retries = config.fep_retries;
  fo.idle_timeout = std::chrono::seconds(config.fep_idle_timeout_s);
  fo.max_frames_per_second = config.fep_max_frames_per_second;
  fo.burst_frames = std::max(200.0, 4.0 * config.fep_max_frames_per_second);
  fo.time_zone = config.time_zone;
  m.front_end = std::make_unique<acquisition::fep::FrontEnd>(fo, &ingestor, domain.clock());
  if (Status st = m.front_end->Start(); !st.ok()) {
    ingestor.Stop();
    return Unavailable("the terminal front end cannot listen on " + config.fep_listen + ": " +
                       st.message() + " (set [acquisition] fep_listen, or fep = false)");
  }
  ingestor.AttachFrontEnd(m.front_end.get());
  domain.commands().AttachFrontEnd(m.front_end.get());
  m.scheduler = std::make_unique<acquisition::CollectionScheduler>(
      domain.db(), domain.clock(), domain.time_zone(), domain.jobs());
  m.warm_up = std::thread([&m, delay = std::chrono::seconds(config.collect_warm_up_s)] {
    std::unique_lock lock(m.mu);
    if (m.cv.wait_for(lock, delay, [&m] { return m.stopping; })) return;
    m.scheduler->Start();
  });
  if (metrics) {
    acquisition::fep::FrontEnd* fe = m.front_end.get();
    for (const FrontEndMetric& x : kMetrics) {
      metrics->AddCollector(x.name, x.help, x.type, [fe, field = x.field] {
        return static_cast<double>(fe->Stats().*field);
      });
    }
  }
  spdlog::info("terminal front end listening on {}:{} (Q/GDW 1376.1)", fo.host,
               m.front_end->port());
  return rt;
}

uint16_t AcquisitionRuntime::port() const {
  return impl_->front_end ? impl_->front_end->port() : 0;
}

void AcquisitionRuntime::Stop() {
  Impl& m = *impl_;
  if (m.stopped) return;
  m.stopped = true;
  {
    std::lock_guard lock(m.mu);
    m.stopping = true;
  }
  m.cv.notify_all();
  if (m.warm_up.joinable()) m.warm_up.join();
  if (m.scheduler) m.scheduler->Stop();
  if (m.metrics) {
    for (const FrontEndMetric& x : kMetrics) {
      m.metrics->AddCollector(x.name, "front end stopped", x.type, [] { return 0.0; });
    }
  }
  if (m.front_end) m.front_end->Stop();
  m.domain->commands().AttachFrontEnd(nullptr);
  m.domain->ingestor().AttachFrontEnd(nullptr);
  m.domain->ingestor().Stop();
  m.front_end.reset();
  spdlog::info("terminal front end stopped");
}

}  // namespace gridmis::app
