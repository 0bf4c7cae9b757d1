// The daily frozen collection of a whole bureau through the real front end into the database:
// total time and readings per second (docs/benchmarks.md, "Daily frozen collection").
//
//   collection_bench [--customers 200000] [--db sqlite:///tmp/collection_bench.db] [--reuse]
//                    [--window 256] [--points-per-frame 64] [--io-threads 1] [--no-vee]
//                    [--rerun]
//
// 1. The registry: demo::BuildDemo with N customers (~N metering points behind ~N/42
//    terminals of the four kinds), unless --reuse finds it built.
// 2. The field: every installed terminal with its points as a simulator::Fleet (in this
//    process, its own io thread), connected to a fep::FrontEnd on 127.0.0.1 whose listener is
//    the acquisition::Ingestor.
// 3. The figure: the acquisition.collect job of yesterday's daily frozen registers (F161) run
//    by a JobRunner in this thread — requests through the front end, replies decoded, rows
//    stored through reading::StoreDailyFrozen with the VEE checks, results and checkpoints —
//    from the job's start to its end.
// 4. Checks: the number of rows, and 2,000 sampled rows equal to the simulator's meter model.
// With --rerun the same job runs a second time (the idempotent rerun: the same rows upserted).
// A benchmark, not a test.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>

#include "acquisition/collection.h"
#include "acquisition/fep/front_end.h"
#include "acquisition/ingest.h"
#include "acquisition/simulator/simulator.h"
#include "acquisition/vee.h"
#include "app/migrations.h"
#include "demo/demo.h"
#include "jobs/jobs.h"
#include "org/actor.h"
#include "reading/billable.h"
#include "store/migrate.h"

namespace gridmis::acquisition {
namespace {

using SteadyClock = std::chrono::steady_clock;
using nlohmann::json;

double Seconds(SteadyClock::time_point since) {
  return std::chrono::duration<double>(SteadyClock::now() - since).count();
}

double PeakRssMb() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

bool Check(const Status& s, const char* what) {
  if (!s.ok()) std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
  return s.ok();
}

struct Options {
  int64_t customers = 200'000;
  std::string url = "sqlite:///tmp/collection_bench.db";
  bool reuse = false;
  bool vee = true;
  bool rerun = false;
  size_t window = 256;
  int points_per_frame = 64;
  int io_threads = 1;
};

// Builds the registry when the database has none.
bool Setup(const Options& o) {
  store::DatabaseOptions dbo;
  dbo.bulk_load = true;
  auto db = store::Database::Open(o.url, dbo);
  if (!Check(db.status(), "open")) return false;
  if (!Check(store::Migrate(**db, app::AllMigrations(), SystemClock::Get()->NowMicros()),
             "migrate")) {
    return false;
  }
  auto n = (*db)->ReadValue<int64_t>(
      [](store::Connection& c) { return c.QueryInt("SELECT COUNT(*) FROM terminals"); });
  if (n.ok() && *n > 0) {
    std::printf("registry: reusing %lld terminals in %s\n", static_cast<long long>(*n),
                o.url.c_str());
    return true;
  }
  auto t0 = SteadyClock::now();
  demo::DemoOptions d;
  d.customers = o.customers;
  d.password_strength = org::HashStrength::kMinimum;
  auto summary = demo::BuildDemo(**db, *SystemClock::Get(), d);
  if (!Check(summary.status(), "demo")) return false;
  if ((*db)->dialect() == store::Dialect::kPostgres) {
    if (!Check((*db)->Read([](store::Connection& c) { return c.Exec("ANALYZE").status(); }),
               "analyze")) {
      return false;
    }
  }
  std::printf(
      "registry: demo of %lld customers, %lld metering points, %lld terminals (%lld "
      "terminal meters) built in %.1f s\n",
      static_cast<long long>(summary->customers), static_cast<long long>(summary->metering_points),
      static_cast<long long>(summary->terminals), static_cast<long long>(summary->terminal_meters),
      Seconds(t0));
  return true;
}

std::vector<simulator::SimTerminal> FieldOf(const Registry& reg, int64_t* points) {
  std::vector<simulator::SimTerminal> out;
  *points = 0;
  for (const auto& t : reg.terminals()) {
    if (!t.installed || t.points.empty()) continue;
    simulator::SimTerminal st;
    st.key = t.key;
    auto kind = simulator::ParseKind(t.kind);
    st.kind = kind.ok() ? *kind : simulator::TerminalKind::kPublicTransformer;
    for (const auto& p : t.points) {
      simulator::SimMeter m;
      m.pn = p.pn;
      char addr[16];
      std::snprintf(addr, sizeof addr, "%012lld", static_cast<long long>(p.meter_id));
      m.meter_address = addr;
      m.seed = static_cast<uint64_t>(p.metering_point_id);
      m.multiplier = p.multiplier;
      st.meters.push_back(m);
      ++*points;
    }
    out.push_back(std::move(st));
  }
  return out;
}

int Main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--customers") {
      o.customers = std::atoll(next());
    } else if (a == "--db") {
      o.url = next();
    } else if (a == "--reuse") {
      o.reuse = true;
    } else if (a == "--window") {
      o.window = static_cast<size_t>(std::atoll(next()));
    } else if (a == "--points-per-frame") {
      o.points_per_frame = std::atoi(next());
    } else if (a == "--io-threads") {
      o.io_threads = std::atoi(next());
    } else if (a == "--no-vee") {
      o.vee = false;
    } else if (a == "--rerun") {
      o.rerun = true;
    } else {
      std::fprintf(stderr,
                   "usage: %s [--customers N] [--db URL] [--reuse] [--window N] "
                   "[--points-per-frame N] [--io-threads N] [--no-vee] [--rerun]\n",
                   argv[0]);
      return 2;
    }
  }
  if (!o.reuse && o.url.rfind("sqlite://", 0) == 0) {
    std::string path = o.url.substr(9);
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
  }
  if (!Setup(o)) return 1;

  // The collection runs on an ordinary connection (SQLite synchronous=NORMAL, WAL).
  auto opened = store::Database::Open(o.url);
  if (!Check(opened.status(), "open")) return 1;
  store::Database& db = **opened;
  const Clock& clock = *SystemClock::Get();
  auto zone = TimeZone::Load("Asia/Shanghai");
  if (!Check(zone.status(), "zone")) return 1;
  const TimeZone& tz = *zone;
  const Date day = tz.LocalDate(clock.NowMicros()).AddDays(-1);

  vee::VeeService vee(db, clock);
  IngestorOptions io;
  if (o.vee) io.vee = &vee;
  Ingestor ingestor(db, clock, tz, io);
  if (!Check(ingestor.Start(), "ingestor")) return 1;
  int64_t points = 0;
  std::vector<simulator::SimTerminal> field = FieldOf(*ingestor.registry(), &points);
  size_t terminals = field.size();

  fep::FrontEndOptions fo;
  fo.port = 0;
  fo.io_threads = o.io_threads;
  fo.request_timeout = std::chrono::seconds(30);
  fo.retries = 1;
  fep::FrontEnd fe(fo, &ingestor, clock);
  if (!Check(fe.Start(), "front end")) return 1;
  ingestor.AttachFrontEnd(&fe);

  simulator::FleetOptions so;
  so.port = fe.port();
  so.terminals = std::move(field);
  so.io_threads = o.io_threads;
  so.connect_per_second = 2000;
  so.heartbeat_seconds = 300;
  so.time_zone = &tz;
  simulator::Fleet fleet(so, clock);
  auto t_login = SteadyClock::now();
  if (!Check(fleet.Start(), "fleet")) return 1;
  if (!Check(fleet.WaitForLogins(terminals, std::chrono::minutes(5)), "logins")) return 1;
  ingestor.Flush(std::chrono::seconds(60));
  std::printf("field: %zu terminals with %lld meters logged in through the front end in %.1f s\n",
              terminals, static_cast<long long>(points), Seconds(t_login));

  jobs::JobRunner runner(db, clock);
  CollectionOptions co;
  co.window = o.window;
  co.points_per_frame = o.points_per_frame;
  CollectionService collection(db, clock, tz, ingestor, runner, co);
  runner.Register(collection.JobKind());
  org::Actor system = org::Actor::System("collection_bench");

  auto run_once = [&](const char* label) -> bool {
    CollectionRequest req;
    req.kind = "daily_frozen";
    req.day = day;
    auto job = collection.StartCollection(system, req);
    if (!Check(job.status(), "start")) return false;
    auto cpu0 = std::clock();
    auto t0 = SteadyClock::now();
    auto last_print = SteadyClock::now();
    auto done = runner.RunNow(job->id, [&](const jobs::Job& j) {
      if (SteadyClock::now() - last_print > std::chrono::seconds(5)) {
        last_print = SteadyClock::now();
        std::printf("  %s: %lld / %lld terminals, %.1f s\n", label, static_cast<long long>(j.done),
                    static_cast<long long>(j.total), Seconds(t0));
        std::fflush(stdout);
      }
    });
    double secs = Seconds(t0);
    double cpu = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
    if (!Check(done.status(), "run")) return false;
    if (done->status != "succeeded") {
      std::fprintf(stderr, "job %s: %s\n", done->status.c_str(), done->error.c_str());
      return false;
    }
    json r = json::parse(done->result_json);
    int64_t rows = r["rows_stored"];
    std::printf(
        "%s: Td_d %s, %lld terminals (%lld complete, %lld partial, %lld failed), %lld "
        "points, %lld rows stored, %lld requests in %.1f s: %.0f readings/s "
        "(process CPU %.1f s)\n",
        label, day.ToString().c_str(), static_cast<long long>(r["terminals"].get<int64_t>()),
        static_cast<long long>(r["complete"].get<int64_t>()),
        static_cast<long long>(r["partial"].get<int64_t>()),
        static_cast<long long>(r["failed"].get<int64_t>()),
        static_cast<long long>(r["expected_points"].get<int64_t>()), static_cast<long long>(rows),
        static_cast<long long>(r["requests"].get<int64_t>()), secs,
        static_cast<double>(rows) / secs, cpu);
    return true;
  };
  if (!run_once("collection")) return 1;

  // Checks: every row there, and a sample equal to the model.
  auto stored = db.ReadValue<int64_t>([&](store::Connection& c) {
    return c.QueryInt("SELECT COUNT(*) FROM daily_frozen_reads WHERE day = $1",
                      {int64_t{DayKey(day.AddDays(1))}});
  });
  if (!Check(stored.status(), "count")) return 1;
  std::printf("check: %lld daily frozen rows for %s (frozen 00:00 %s)\n",
              static_cast<long long>(*stored), day.ToString().c_str(),
              day.AddDays(1).ToString().c_str());
  auto reg = ingestor.registry();
  std::mt19937_64 rng(42);
  int64_t sampled = 0, equal = 0;
  const char* names[] = {"total", "sharp", "peak", "flat", "valley"};
  for (int i = 0; i < 2000; ++i) {
    const auto& t = reg->terminals()[rng() % reg->terminals().size()];
    if (!t.installed || t.points.empty()) continue;
    const auto& p = t.points[rng() % t.points.size()];
    auto model = fleet.Model(t.key, p.pn);
    auto rows = db.ReadValue<std::vector<reading::DailyFrozen>>([&](store::Connection& c) {
      return reading::LoadDailyFrozen(c, {p.metering_point_id}, day.AddDays(1), day.AddDays(1));
    });
    if (!model || !rows.ok() || rows->size() != 1) continue;
    ++sampled;
    std::vector<Energy> want = model->FrozenAt(day.AddDays(1));
    bool same = (*rows)[0].multiplier == p.multiplier;
    for (size_t k = 0; k < 5; ++k) {
      auto it = (*rows)[0].registers.find(names[k]);
      same = same && it != (*rows)[0].registers.end() && it->second == want[k];
    }
    equal += same;
  }
  std::printf("check: %lld of %lld sampled rows equal the meter model exactly\n",
              static_cast<long long>(equal), static_cast<long long>(sampled));
  if (o.rerun && !run_once("rerun (idempotent)")) return 1;

  simulator::FleetStats fs = fleet.Stats();
  fep::FrontEndStats st = fe.Stats();
  std::printf(
      "front end: %llu requests, %llu time-outs, %llu retries, %llu bad frames; fleet: "
      "%llu replies; peak RSS %.0f MB (fleet, front end, ingestor and job in one process)\n",
      static_cast<unsigned long long>(st.requests),
      static_cast<unsigned long long>(st.request_timeouts),
      static_cast<unsigned long long>(st.request_retries),
      static_cast<unsigned long long>(st.bad_frames), static_cast<unsigned long long>(fs.replies),
      PeakRssMb());
  fleet.Stop();
  fe.Stop();
  ingestor.AttachFrontEnd(nullptr);
  ingestor.Stop();
  return equal == sampled && sampled > 0 ? 0 : 1;
}

}  // namespace
}  // namespace gridmis::acquisition

int main(int argc, char** argv) { return gridmis::acquisition::Main(argc, argv); }
