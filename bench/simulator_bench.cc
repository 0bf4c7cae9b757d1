// The terminal simulator under load: N simulated terminals on ONE io thread (gridmis simulate's
// Fleet) against the real front end in a child process (fork; each process has its own
// 20,000-descriptor limit), both on 127.0.0.1. Reports the time to log every terminal in, the
// fleet process's CPU while idle (heartbeats only) and while answering one AFN0D F161 read per
// terminal sent all at once by the front end, the answers per second, and the fleet's memory
// per terminal (RSS growth). Recorded in docs/benchmarks.md.
//   simulator_bench [--terminals 19000] [--meters 1] [--heartbeat 30] [--idle 20]
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>

#include "acquisition/fep/front_end.h"
#include "acquisition/simulator/simulator.h"

namespace {

using namespace gridmis;
using namespace gridmis::acquisition;
using namespace std::chrono_literals;

class AcceptAll : public fep::Listener {
 public:
  bool IsKnown(fep::TerminalKey) override { return true; }
  void OnOnline(fep::TerminalKey, const std::string&, int64_t) override {}
  void OnOffline(fep::TerminalKey, const std::string&, int64_t) override {}
  void OnReport(fep::TerminalKey, const gdw1376::Frame&, int64_t) override {}
  void OnEventCounter(fep::TerminalKey, gdw1376::EventCounter, int64_t) override {}
};

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

long RssKb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return 0;
}

bool ReadAll(int fd, void* buf, size_t n) {
  auto* p = static_cast<char*>(buf);
  while (n > 0) {
    ssize_t r = read(fd, p, n);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

struct ReadResult {
  int64_t ok = 0, failed = 0;
  double seconds = 0;
};

// The child: a front end that, on 'R', reads every online terminal's F161 for yesterday.
int RunFrontEnd(int to_parent, int from_parent, int meters) {
  AcceptAll listener;
  fep::FrontEndOptions fo;
  fo.port = 0;
  fo.io_threads = 1;
  fo.max_connections = 30'000;
  fo.request_timeout = 60s;
  fo.retries = 0;
  fo.idle_timeout = 3600s;
  fep::FrontEnd fe(fo, &listener, *SystemClock::Get());
  if (!fe.Start().ok()) return 1;
  uint16_t port = fe.port();
  if (write(to_parent, &port, sizeof port) != sizeof port) return 1;
  char cmd = 0;
  while (ReadAll(from_parent, &cmd, 1) && cmd == 'R') {
    auto tz = *TimeZone::Load("Asia/Shanghai");
    Date yesterday = tz.LocalDate(SystemClock::Get()->NowMicros()).AddDays(-1);
    std::vector<uint16_t> pns;
    for (int p = 1; p <= meters; ++p) pns.push_back(static_cast<uint16_t>(p));
    auto online = fe.Online();
    std::mutex mu;
    std::condition_variable cv;
    ReadResult res;
    size_t done = 0;
    auto start = std::chrono::steady_clock::now();
    for (const auto& t : online) {
      gdw1376::Frame req = gdw1376::MakeRequest(
          {}, gdw1376::kAfnClass2, 0, gdw1376::GroupsFor(pns, 161, gdw1376::EncodeTd(yesterday)));
      fe.Request(t.key, std::move(req), {}, [&](fep::RequestResult r) {
        std::lock_guard lock(mu);
        (r.status.ok() ? res.ok : res.failed) += 1;
        ++done;
        cv.notify_all();
      });
    }
    {
      std::unique_lock lock(mu);
      cv.wait_for(lock, 120s, [&] { return done == online.size(); });
    }
    res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (write(to_parent, &res, sizeof res) != sizeof res) return 1;
  }
  fe.Stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int terminals = 19'000, meters = 1, heartbeat = 30, idle = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    int v = std::atoi(argv[i + 1]);
    if (a == "--terminals")
      terminals = v;
    else if (a == "--meters")
      meters = v;
    else if (a == "--heartbeat")
      heartbeat = v;
    else if (a == "--idle")
      idle = v;
    else {
      std::fprintf(stderr,
                   "usage: simulator_bench [--terminals N] [--meters M] "
                   "[--heartbeat S] [--idle S]\n");
      return 2;
    }
  }
  int up[2], down[2];
  if (pipe(up) != 0 || pipe(down) != 0) return 1;
  pid_t child = fork();
  if (child < 0) return 1;
  if (child == 0) {
    close(up[0]);
    close(down[1]);
    std::_Exit(RunFrontEnd(up[1], down[0], meters));
  }
  close(up[1]);
  close(down[0]);
  uint16_t port = 0;
  if (!ReadAll(up[0], &port, sizeof port)) return 1;

  long rss0 = RssKb();
  simulator::FleetOptions o;
  o.port = port;
  o.terminals = simulator::MakeFleet(terminals, meters, 3201, 1, 1);
  o.heartbeat_seconds = heartbeat;
  o.connect_per_second = 5000;
  o.io_threads = 1;
  long rss_fleet_built = 0;
  simulator::Fleet fleet(std::move(o), *SystemClock::Get());
  auto t0 = std::chrono::steady_clock::now();
  double cpu0 = CpuSeconds();
  if (!fleet.Start().ok()) return 1;
  gridmis::Status s = fleet.WaitForLogins(static_cast<size_t>(terminals), 300s);
  double login_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double login_cpu = CpuSeconds() - cpu0;
  rss_fleet_built = RssKb();
  std::printf("terminals %d x %d meters, heartbeat %d s, 1 io thread\n", terminals, meters,
              heartbeat);
  std::printf("logged in: %llu of %d in %.2f s (ramp 5000/s), fleet CPU %.2f s; %s\n",
              static_cast<unsigned long long>(fleet.Stats().logged_in), terminals, login_s,
              login_cpu, s.ok() ? "all" : s.ToString().c_str());
  std::printf("fleet RSS %.1f MB, %.1f KB per terminal\n", rss_fleet_built / 1024.0,
              static_cast<double>(rss_fleet_built - rss0) / terminals);

  double c1 = CpuSeconds();
  auto w1 = std::chrono::steady_clock::now();
  uint64_t hb0 = fleet.Stats().frames_sent;
  std::this_thread::sleep_for(std::chrono::seconds(idle));
  double idle_wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w1).count();
  double idle_cpu = CpuSeconds() - c1;
  std::printf("idle %.0f s: %llu frames sent (heartbeats), fleet CPU %.1f %% of one core\n",
              idle_wall, static_cast<unsigned long long>(fleet.Stats().frames_sent - hb0),
              100.0 * idle_cpu / idle_wall);

  for (int round = 0; round < 3; ++round) {
    double c2 = CpuSeconds();
    char cmd = 'R';
    if (write(down[1], &cmd, 1) != 1) return 1;
    ReadResult res;
    if (!ReadAll(up[0], &res, sizeof res)) return 1;
    double read_cpu = CpuSeconds() - c2;
    std::printf(
        "F161 read of every terminal (%d pn each): %lld ok, %lld failed in %.2f s = %.0f "
        "answers/s; fleet CPU %.2f s (%.1f us per answer)\n",
        meters, static_cast<long long>(res.ok), static_cast<long long>(res.failed), res.seconds,
        static_cast<double>(res.ok) / res.seconds, read_cpu,
        1e6 * read_cpu / static_cast<double>(std::max<int64_t>(1, res.ok)));
  }
  auto st = fleet.Stats();
  std::printf("fleet: requests %llu, replies %llu, reconnects %llu, bad frames in %llu\n",
              static_cast<unsigned long long>(st.requests),
              static_cast<unsigned long long>(st.replies),
              static_cast<unsigned long long>(st.reconnects),
              static_cast<unsigned long long>(st.bad_frames_received));
  char quit = 'Q';
  if (write(down[1], &quit, 1) != 1) return 1;
  fleet.Stop();
  int status = 0;
  waitpid(child, &status, 0);
  return 0;
}
