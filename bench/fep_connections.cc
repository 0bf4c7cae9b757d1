// Connections the terminal front end holds at once, and its memory per connection.
//
// The front end(s) and the terminals run in separate processes (fork), each under the hard
// limit of 20,000 open files of this machine: a front end process holds at most ~19,990
// connections, so --frontends 2 shows what one machine holds with two of them. Terminal
// processes of --per-client connections each connect from 127.0.0.<n> (a source address per
// process widens the ephemeral port space), log in, and then send heartbeats spread over
// --heartbeat-s seconds while the connections are held for --hold-s seconds.
//
// Reported per front end: connections held (terminals online), VmRSS before the first
// connection, after every login and after the hold, memory per connection, login rate
// (first to last OnOnline), frames in/out.
//
//   fep_connections --connections 19980 --hold-s 30 --heartbeat-s 10
//   fep_connections --connections 39960 --frontends 2 --hold-s 30 --heartbeat-s 10
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <thread>

#include <spdlog/spdlog.h>

#include "acquisition/fep/front_end.h"
#include "fep_terminals.h"

namespace gridmis::bench {
namespace {

namespace fep = acquisition::fep;
using Steady = std::chrono::steady_clock;

struct Options {
  int connections = 19'980;
  int frontends = 1;
  int per_client = 5'000;
  int heartbeat_seconds = 10;
  int hold_seconds = 30;
  int io_threads = 1;
  size_t comm_log_frames = 50'000;
};

class CountingListener : public fep::Listener {
 public:
  bool IsKnown(fep::TerminalKey) override { return true; }
  void OnOnline(fep::TerminalKey, const std::string&, int64_t) override {
    const int64_t now = Steady::now().time_since_epoch().count();
    int64_t zero = 0;
    first_ns.compare_exchange_strong(zero, now);
    last_ns.store(now);
    online.fetch_add(1);
  }
  void OnOffline(fep::TerminalKey, const std::string&, int64_t) override { offline.fetch_add(1); }
  void OnReport(fep::TerminalKey, const acquisition::gdw1376::Frame&, int64_t) override {}
  void OnEventCounter(fep::TerminalKey, acquisition::gdw1376::EventCounter, int64_t) override {}

  std::atomic<int> online{0}, offline{0};
  std::atomic<int64_t> first_ns{0}, last_ns{0};
};

void WriteLine(int fd, const std::string& s) {
  std::string line = s + "\n";
  if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    std::perror("write");
  }
}

std::string ReadLine(int fd) {
  std::string s;
  char ch;
  while (read(fd, &ch, 1) == 1 && ch != '\n') s += ch;
  return s;
}

// Waits up to `ms` for the control pipe: returns the byte read, 0 on EOF, -1 on time-out.
int WaitControl(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, ms) <= 0) return -1;
  char ch;
  return read(fd, &ch, 1) == 1 ? ch : 0;
}

int FrontEndProcess(const Options& o, int expected, int report_fd, int control_fd) {
  spdlog::set_level(spdlog::level::warn);
  CountingListener listener;
  fep::FrontEndOptions fo;
  fo.port = 0;
  fo.io_threads = o.io_threads;
  fo.max_connections = static_cast<size_t>(expected) + 100;
  fo.login_timeout = std::chrono::seconds(300);
  fo.idle_timeout = std::chrono::minutes(30);
  fo.comm_log_frames = o.comm_log_frames;
  fep::FrontEnd fe(fo, &listener, *SystemClock::Get());
  Status s = fe.Start();
  if (!s.ok()) {
    WriteLine(report_fd, "error " + s.ToString());
    return 1;
  }
  const long rss0 = RssKib();
  WriteLine(report_fd, std::to_string(fe.port()));
  // Until every terminal is online (or 300 s).
  const auto t0 = Steady::now();
  while (listener.online.load() < expected && Steady::now() - t0 < std::chrono::seconds(300)) {
    if (WaitControl(control_fd, 20) == 0) break;
  }
  const double login_s = (listener.last_ns.load() - listener.first_ns.load()) / 1e9;
  char line[512];
  std::snprintf(line, sizeof line, "%d %ld %.6f", listener.online.load(), RssKib(), login_s);
  WriteLine(report_fd, line);
  // 'm': measure after the hold.
  while (WaitControl(control_fd, 1000) != 'm') {
  }
  fep::FrontEndStats st = fe.Stats();
  std::snprintf(line, sizeof line, "%ld %ld %llu %llu %llu %llu %d", rss0, RssKib(),
                static_cast<unsigned long long>(st.connections_open),
                static_cast<unsigned long long>(st.terminals_online),
                static_cast<unsigned long long>(st.frames_in),
                static_cast<unsigned long long>(st.frames_out), listener.offline.load());
  WriteLine(report_fd, line);
  while (WaitControl(control_fd, 1000) != 0) {
  }
  fe.Stop();
  return 0;
}

int Main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    long v = std::atol(argv[i + 1]);
    if (k == "--connections")
      o.connections = static_cast<int>(v);
    else if (k == "--frontends")
      o.frontends = static_cast<int>(v);
    else if (k == "--per-client")
      o.per_client = static_cast<int>(v);
    else if (k == "--heartbeat-s")
      o.heartbeat_seconds = static_cast<int>(v);
    else if (k == "--hold-s")
      o.hold_seconds = static_cast<int>(v);
    else if (k == "--io-threads")
      o.io_threads = static_cast<int>(v);
    else if (k == "--comm-log")
      o.comm_log_frames = static_cast<size_t>(v);
    else {
      std::fprintf(stderr,
                   "usage: fep_connections [--connections N] [--frontends F] [--per-client M] "
                   "[--heartbeat-s S] [--hold-s H] [--io-threads T] [--comm-log FRAMES]\n");
      return 2;
    }
  }
  RaiseFdLimit();
  signal(SIGPIPE, SIG_IGN);

  struct Child {
    pid_t pid;
    int report_fd, control_fd;
  };
  std::vector<Child> frontends, clients;
  std::vector<uint16_t> ports;
  std::vector<int> expected(static_cast<size_t>(o.frontends), 0);
  for (int i = 0; i < o.connections; ++i) expected[static_cast<size_t>(i % o.frontends)]++;

  // The parent's ends of the pipes of the children forked so far: a child closes them, or it
  // would keep another child's control pipe open (no EOF when the parent closes it).
  std::vector<int> parent_fds;
  auto spawn = [&parent_fds](auto body) {
    int report[2], control[2];
    if (pipe(report) != 0 || pipe(control) != 0) std::abort();
    pid_t pid = fork();
    if (pid == 0) {
      for (int fd : parent_fds) close(fd);
      close(report[0]);
      close(control[1]);
      int rc = body(report[1], control[0]);
      std::_Exit(rc);
    }
    close(report[1]);
    close(control[0]);
    parent_fds.push_back(report[0]);
    parent_fds.push_back(control[1]);
    return Child{pid, report[0], control[1]};
  };

  for (int f = 0; f < o.frontends; ++f) {
    const int n = expected[static_cast<size_t>(f)];
    frontends.push_back(
        spawn([&o, n](int rep, int ctl) { return FrontEndProcess(o, n, rep, ctl); }));
    std::string port = ReadLine(frontends.back().report_fd);
    ports.push_back(static_cast<uint16_t>(std::atoi(port.c_str())));
    if (ports.back() == 0) {
      std::fprintf(stderr, "front end %d failed to start: %s\n", f, port.c_str());
      return 1;
    }
  }

  const auto t0 = Steady::now();
  int source_ip = 2;
  uint16_t address = 1;
  for (int f = 0; f < o.frontends; ++f) {
    int left = expected[static_cast<size_t>(f)];
    while (left > 0) {
      FleetConfig c;
      c.port = ports[static_cast<size_t>(f)];
      c.first_address = address;
      c.count = std::min(left, o.per_client);
      c.source_ip = source_ip++;
      c.heartbeat_seconds = o.heartbeat_seconds;
      left -= c.count;
      address = static_cast<uint16_t>(address + c.count);
      clients.push_back(spawn([c](int rep, int ctl) mutable {
        c.control_fd = ctl;
        Fleet fleet(c);
        WriteResult(rep, fleet.Run());
        return 0;
      }));
    }
  }

  std::vector<std::string> online_lines;
  for (auto& fe : frontends) online_lines.push_back(ReadLine(fe.report_fd));
  const double all_online_s = SecondsSince(t0);
  std::printf("all front ends report their terminals online after %.1f s; holding %d s\n",
              all_online_s, o.hold_seconds);
  std::fflush(stdout);
  std::this_thread::sleep_for(std::chrono::seconds(o.hold_seconds));

  std::vector<std::string> final_lines;
  for (auto& fe : frontends) {
    WriteLine(fe.control_fd, "m");
    final_lines.push_back(ReadLine(fe.report_fd));
  }
  FleetResult total;
  for (auto& c : clients) {
    close(c.control_fd);
    FleetResult r;
    if (!ReadResult(c.report_fd, &r)) std::fprintf(stderr, "a terminal process did not report\n");
    total.connected += r.connected;
    total.connect_failed += r.connect_failed;
    total.logged_in += r.logged_in;
    total.closed_by_peer += r.closed_by_peer;
    total.heartbeats_sent += r.heartbeats_sent;
    total.heartbeats_confirmed += r.heartbeats_confirmed;
    total.login_seconds = std::max(total.login_seconds, r.login_seconds);
    waitpid(c.pid, nullptr, 0);
  }
  for (auto& fe : frontends) {
    close(fe.control_fd);
    waitpid(fe.pid, nullptr, 0);
  }

  std::printf(
      "terminals: %d connected, %d failed to connect, %d logged in, %d closed by the "
      "front end; %ld heartbeats sent, %ld confirmed; %d terminal process(es)\n",
      total.connected, total.connect_failed, total.logged_in, total.closed_by_peer,
      total.heartbeats_sent, total.heartbeats_confirmed, static_cast<int>(clients.size()));
  int held_total = 0;
  for (size_t f = 0; f < frontends.size(); ++f) {
    int online = 0;
    long rss_online = 0;
    double login_s = 0;
    std::sscanf(online_lines[f].c_str(), "%d %ld %lf", &online, &rss_online, &login_s);
    long rss0 = 0, rss_end = 0;
    unsigned long long open = 0, on = 0, fin = 0, fout = 0;
    int offline = 0;
    std::sscanf(final_lines[f].c_str(), "%ld %ld %llu %llu %llu %llu %d", &rss0, &rss_end, &open,
                &on, &fin, &fout, &offline);
    held_total += static_cast<int>(on);
    const double per_conn_online = on ? (rss_online - rss0) * 1024.0 / on : 0;
    const double per_conn_end = on ? (rss_end - rss0) * 1024.0 / on : 0;
    std::printf(
        "front end %zu: %llu connections held, %llu terminals online (%d went offline); "
        "VmRSS %.1f MiB before, %.1f MiB after the logins, %.1f MiB after %d s of heartbeats: "
        "%.0f B per connection (%.0f B right after login); %d logins in %.2f s = %.0f logins/s; "
        "frames in %llu, out %llu\n",
        f, open, on, offline, rss0 / 1024.0, rss_online / 1024.0, rss_end / 1024.0, o.hold_seconds,
        per_conn_end, per_conn_online, online, login_s, login_s > 0 ? online / login_s : 0.0, fin,
        fout);
  }
  std::printf(
      "total held: %d connections in %d front end process(es) (comm log ring %zu "
      "frames, io threads %d)\n",
      held_total, o.frontends, o.comm_log_frames, o.io_threads);
  return held_total == o.connections ? 0 : 1;
}

}  // namespace
}  // namespace gridmis::bench

int main(int argc, char** argv) { return gridmis::bench::Main(argc, argv); }
