// `gridmis simulate` (see simulate_cmd.h): a fleet of simulated terminals against a front end.
//
//   gridmis simulate --fep HOST:PORT [--terminals N --meters M --area 3201 --first-address 1]
//                    [--db URL]  (the installed terminals of the registry and their meters)
//                    [--heartbeat S] [--seed N] [--connect-rate N] [--io-threads N]
//                    [--history-days N] [--password PW] [--time-zone Z]
//                    [--drop-per-hour X] [--corrupt F] [--missing F] [--clock-drift S]
//                    [--offline F] [--offline-days N] [--offline-recover S] [--silent F]
//                    [--duration S] [--progress S]
// A progress line goes to stderr every --progress seconds; the run ends after --duration
// seconds (0: at Ctrl-C / SIGTERM), logging every terminal out. Exit codes: 0 ok; 1 the fleet
// or the database failed; 2 bad arguments.
#include "cli/simulate_cmd.h"

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "acquisition/simulator/registry_fleet.h"
#include "acquisition/simulator/simulator.h"
#include "core/config.h"
#include "core/log.h"
#include "core/status.h"
#include "core/time.h"
#include "store/db.h"

namespace gridmis::cli {
namespace {

namespace sim = acquisition::simulator;

struct Flags {
  std::string fep;
  int terminals = 10;
  int meters = 8;
  int area = 3201;
  int first_address = 1;
  std::string db_url;
  int heartbeat = 60;
  uint64_t seed = 1;
  int connect_rate = 2000;
  int io_threads = 1;
  int history_days = 62;
  std::string password;
  std::string time_zone = "Asia/Shanghai";
  double drop_per_hour = 0, corrupt = 0, missing = 0, offline = 0, silent = 0;
  int clock_drift = 0, offline_days = 0;
  int offline_recover = 0;
  int duration = 0;
  int progress = 5;
};

std::atomic<bool> g_interrupted{false};
extern "C" void OnSignal(int) { g_interrupted = true; }

int Fail(const Status& s) {
  std::fprintf(stderr, "gridmis simulate: %s\n", s.ToString().c_str());
  return s.code() == StatusCode::kInvalidArgument ? 2 : 1;
}

Status CheckFraction(double v, const char* flag) {
  if (!(v >= 0 && v <= 1)) {
    return InvalidArgument(
        std::string(flag) + " " + std::to_string(v) + " is not a fraction between 0 and 1", flag);
  }
  return Status::Ok();
}

Result<std::pair<std::string, uint16_t>> ParseHostPort(const std::string& s) {
  std::string host;
  uint16_t port = 0;
  if (!SplitHostPort(s, &host, &port).ok() || port == 0) {
    return InvalidArgument("--fep \"" + s + "\" is not HOST:PORT with a port 1..65535", "--fep");
  }
  return std::make_pair(host, port);
}

// The installed terminals of the registry and the meters behind them (read-only), each meter
// continuing from its last approved read.
Result<std::vector<sim::SimTerminal>> LoadFleet(const std::string& url, uint64_t seed) {
  ASSIGN_OR_RETURN(auto db, store::Database::Open(url));
  return sim::LoadRegistryFleet(*db, seed);
}

int Run(const Flags& f) {
  InitLogging("info");
  auto hp = ParseHostPort(f.fep);
  if (!hp.ok()) return Fail(hp.status());
  for (auto [v, flag] : {std::pair{f.corrupt, "--corrupt"}, std::pair{f.missing, "--missing"},
                         std::pair{f.offline, "--offline"}, std::pair{f.silent, "--silent"}}) {
    if (Status s = CheckFraction(v, flag); !s.ok()) return Fail(s);
  }
  if (f.drop_per_hour < 0) return Fail(InvalidArgument("--drop-per-hour is negative"));
  if (f.heartbeat < 1) return Fail(InvalidArgument("--heartbeat must be at least 1 second"));
  if (f.offline_days < 0 || f.history_days < 0 || f.duration < 0 || f.offline_recover < 0) {
    return Fail(InvalidArgument(
        "--offline-days, --history-days, --duration and --offline-recover must not be negative"));
  }
  auto tz = TimeZone::Load(f.time_zone);
  if (!tz.ok()) return Fail(tz.status());

  sim::FleetOptions o;
  o.host = hp->first;
  o.port = hp->second;
  if (!f.db_url.empty()) {
    auto loaded = LoadFleet(f.db_url, f.seed);
    if (!loaded.ok()) return Fail(loaded.status());
    o.terminals = std::move(*loaded);
    if (o.terminals.empty()) {
      return Fail(FailedPrecondition("the database has no installed terminals to simulate"));
    }
  } else {
    if (f.terminals < 1 || f.terminals > 65535) {
      return Fail(InvalidArgument("--terminals must be 1..65535"));
    }
    if (f.meters < 0 || f.meters > 2040) return Fail(InvalidArgument("--meters must be 0..2040"));
    if (f.area < 0 || f.area > 9999) return Fail(InvalidArgument("--area must be 4 digits"));
    if (f.first_address < 1 || f.first_address + f.terminals - 1 > 65535) {
      return Fail(InvalidArgument("--first-address + --terminals must stay within 1..65535"));
    }
    o.terminals = sim::MakeFleet(f.terminals, f.meters, static_cast<uint16_t>(f.area),
                                 static_cast<uint16_t>(f.first_address), f.seed);
  }
  size_t terminals = o.terminals.size(), meters = 0;
  std::map<std::string, int> kinds;
  for (const auto& t : o.terminals) {
    meters += t.meters.size();
    ++kinds[sim::KindName(t.kind)];
  }
  o.heartbeat_seconds = f.heartbeat;
  o.connect_per_second = std::max(1, f.connect_rate);
  o.io_threads = std::max(1, f.io_threads);
  o.seed = f.seed;
  o.history_days = f.history_days;
  o.time_zone = &*tz;
  o.password = f.password;
  o.faults.drop_per_hour = f.drop_per_hour;
  o.faults.corrupt_frames = f.corrupt;
  o.faults.missing_data = f.missing;
  o.faults.clock_drift_seconds = f.clock_drift;
  o.faults.offline_fraction = f.offline;
  o.faults.offline_days = f.offline_days;
  o.faults.silent_requests = f.silent;
  const Clock& clock = *SystemClock::Get();
  if (f.offline_recover > 0) {
    o.faults.offline_until_us = clock.NowMicros() + int64_t{f.offline_recover} * kMicrosPerSecond;
  }

  std::string kind_text;
  for (const auto& [k, n] : kinds) {
    kind_text += (kind_text.empty() ? "" : ", ") + std::to_string(n) + " " + k;
  }
  std::fprintf(stderr, "simulating %zu terminals (%s) with %zu meters against %s\n", terminals,
               kind_text.c_str(), meters, f.fep.c_str());

  sim::Fleet fleet(std::move(o), clock);
  if (Status s = fleet.Start(); !s.ok()) return Fail(s);
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  auto start = std::chrono::steady_clock::now();
  auto next_progress = start + std::chrono::seconds(std::max(1, f.progress));
  auto print = [&](const char* prefix) {
    sim::FleetStats s = fleet.Stats();
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(
        stderr,
        "%s%7.1fs connected %llu/%zu, logged in %llu, logins %llu, reconnects %llu, "
        "requests %llu, replies %llu, denied %llu, unanswered %llu, commands %llu, "
        "events %llu, corrupt sent %llu, bad frames in %llu, offline %llu\n",
        prefix, secs, static_cast<unsigned long long>(s.connected), terminals,
        static_cast<unsigned long long>(s.logged_in),
        static_cast<unsigned long long>(s.logins_confirmed),
        static_cast<unsigned long long>(s.reconnects), static_cast<unsigned long long>(s.requests),
        static_cast<unsigned long long>(s.replies), static_cast<unsigned long long>(s.denied),
        static_cast<unsigned long long>(s.unanswered),
        static_cast<unsigned long long>(s.commands_executed),
        static_cast<unsigned long long>(s.reports_sent),
        static_cast<unsigned long long>(s.corrupt_sent),
        static_cast<unsigned long long>(s.bad_frames_received),
        static_cast<unsigned long long>(s.offline_terminals));
  };
  while (!g_interrupted) {
    auto now = std::chrono::steady_clock::now();
    if (f.duration > 0 && now - start >= std::chrono::seconds(f.duration)) break;
    if (now >= next_progress) {
      print("");
      next_progress += std::chrono::seconds(std::max(1, f.progress));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  fleet.Stop();
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  print("stopped ");
  return 0;
}

}  // namespace

std::function<std::optional<int>()> AddSimulateCommand(CLI::App& cli) {
  auto* cmd = cli.add_subcommand(
      "simulate", "Run a fleet of simulated Q/GDW 1376.1 terminals against a front end");
  auto f = std::make_shared<Flags>();
  cmd->add_option("--fep", f->fep, "HOST:PORT of the front end")->required();
  cmd->add_option("--terminals", f->terminals, "synthetic fleet: number of terminals (10)");
  cmd->add_option("--meters", f->meters, "synthetic fleet: meters per terminal (8)");
  cmd->add_option("--area", f->area, "synthetic fleet: A1 area code (3201)");
  cmd->add_option("--first-address", f->first_address, "synthetic fleet: first A2 (1)");
  cmd->add_option("--db", f->db_url,
                  "simulate the installed terminals of this database instead "
                  "(sqlite://PATH or postgresql://...; read only)");
  cmd->add_option("--heartbeat", f->heartbeat, "heartbeat period in seconds (60)");
  cmd->add_option("--seed", f->seed, "seed of the meters' registers and the faults (1)");
  cmd->add_option("--connect-rate", f->connect_rate, "connections opened per second (2000)");
  cmd->add_option("--io-threads", f->io_threads, "I/O threads (1)");
  cmd->add_option("--history-days", f->history_days, "days of frozen data kept (62)");
  cmd->add_option("--password", f->password,
                  "PW expected on control and forwarding (32 hex digits or text; default any)");
  cmd->add_option("--time-zone", f->time_zone, "business time zone (Asia/Shanghai)");
  cmd->add_option("--drop-per-hour", f->drop_per_hour,
                  "fault: expected connection drops per terminal-hour");
  cmd->add_option("--corrupt", f->corrupt, "fault: fraction of frames sent with a flipped byte");
  cmd->add_option("--missing", f->missing, "fault: fraction of values answered with EEH");
  cmd->add_option("--clock-drift", f->clock_drift,
                  "fault: terminal and meter clocks off by this many seconds");
  cmd->add_option("--offline", f->offline, "fault: fraction of terminals that stay offline");
  cmd->add_option("--offline-days", f->offline_days,
                  "fault: the offline terminals have no data for this many days back");
  cmd->add_option("--offline-recover", f->offline_recover,
                  "fault: the offline terminals come back after this many seconds (0: never)");
  cmd->add_option("--silent", f->silent, "fault: fraction of requests left unanswered");
  cmd->add_option("--duration", f->duration, "seconds to run (0: until Ctrl-C)");
  cmd->add_option("--progress", f->progress, "seconds between progress lines (5)");
  return [cmd, f]() -> std::optional<int> {
    if (!cmd->parsed()) return std::nullopt;
    return Run(*f);
  };
}

}  // namespace gridmis::cli
