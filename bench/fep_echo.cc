// The front end's frame throughput against a bare Asio exchange of the same frames: our
// overhead over the network itself.
//
// Both runs face the same terminal process (fep_terminals.h: N connections on epoll, each
// answering every AFN0C F129 request with a 51-byte F129 reply) over loopback:
//   fep:  the front end (io_threads 1); per terminal a closed loop of Request() calls, the next
//         issued from the previous one's `done` (one outstanding request per terminal, as the
//         front end allows);
//   bare: one Asio thread; per connection a coroutine that writes the same encoded request
//         (PSEQ and checksum patched) and reads the reply frame back by its length, nothing
//         else (no decoding, no matching, no log, no timers).
// Reported: round trips (request + reply frames) per second after a warm-up, CPU time of the
// master-station process per round trip, and the ratio fep / bare.
//
//   fep_echo --terminals 1000 --seconds 10
#include <utility>  // before Asio (Boost 1.74)

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <thread>

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "acquisition/fep/front_end.h"
#include "fep_terminals.h"

namespace gridmis::bench {
namespace {

namespace fep = acquisition::fep;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Steady = std::chrono::steady_clock;

struct Options {
  int terminals = 1000;
  int seconds = 10;
  int warmup_seconds = 2;
  size_t comm_log_frames = 50'000;
};

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec +
         u.ru_stime.tv_usec / 1e6;
}

struct Run {
  double round_trips_per_s = 0;
  double cpu_us_per_round_trip = 0;
  long terminal_answers = 0;
};

g::Frame F129Request(g::TerminalKey k) {
  return g::MakeRequest({k, 1, false}, g::kAfnClass1, 0, {*g::MakeGroup({1}, {129})});
}

// The terminal process: waits for the port on `control`, runs the fleet until `control` closes.
struct FleetChild {
  pid_t pid = -1;
  int control = -1, report = -1;
};

FleetChild SpawnFleet(int terminals) {
  int control[2], report[2];
  if (pipe(control) != 0 || pipe(report) != 0) std::abort();
  pid_t pid = fork();
  if (pid == 0) {
    close(control[1]);
    close(report[0]);
    uint16_t port = 0;
    if (read(control[0], &port, sizeof port) != sizeof port) std::_Exit(1);
    FleetConfig c;
    c.port = port;
    c.count = terminals;
    c.control_fd = control[0];
    Fleet fleet(c);
    WriteResult(report[1], fleet.Run());
    std::_Exit(0);
  }
  close(control[0]);
  close(report[1]);
  return {pid, control[1], report[0]};
}

long StopFleet(FleetChild& f) {
  close(f.control);
  FleetResult r;
  ReadResult(f.report, &r);
  close(f.report);
  waitpid(f.pid, nullptr, 0);
  return r.requests_answered;
}

// Counts completions in the measuring window.
struct Window {
  std::atomic<long> count{0};
  std::atomic<bool> stop{false};
  Run Measure(const Options& o) {
    std::this_thread::sleep_for(std::chrono::seconds(o.warmup_seconds));
    const long c0 = count.load();
    const double cpu0 = CpuSeconds();
    const auto t0 = Steady::now();
    std::this_thread::sleep_for(std::chrono::seconds(o.seconds));
    const long c1 = count.load();
    const double cpu1 = CpuSeconds();
    const double s = SecondsSince(t0);
    Run r;
    r.round_trips_per_s = (c1 - c0) / s;
    r.cpu_us_per_round_trip = c1 > c0 ? (cpu1 - cpu0) * 1e6 / (c1 - c0) : 0;
    return r;
  }
};

// ---- The front end ----

class AllKnown : public fep::Listener {
 public:
  bool IsKnown(fep::TerminalKey) override { return true; }
  void OnOnline(fep::TerminalKey, const std::string&, int64_t) override { online.fetch_add(1); }
  void OnOffline(fep::TerminalKey, const std::string&, int64_t) override {}
  void OnReport(fep::TerminalKey, const g::Frame&, int64_t) override {}
  void OnEventCounter(fep::TerminalKey, g::EventCounter, int64_t) override {}
  std::atomic<int> online{0};
};

Run RunFrontEnd(const Options& o) {
  FleetChild fleet = SpawnFleet(o.terminals);
  AllKnown listener;
  fep::FrontEndOptions fo;
  fo.io_threads = 1;
  fo.retries = 0;
  fo.comm_log_frames = o.comm_log_frames;
  fep::FrontEnd fe(fo, &listener, *SystemClock::Get());
  if (Status s = fe.Start(); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    std::exit(1);
  }
  const uint16_t port = fe.port();
  if (write(fleet.control, &port, sizeof port) != sizeof port) std::abort();
  while (listener.online.load() < o.terminals)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));

  Window w;
  std::atomic<long> failures{0};
  std::atomic<int> in_flight{0};
  std::function<void(g::TerminalKey)> issue;
  issue = [&](g::TerminalKey k) {
    in_flight.fetch_add(1);
    fe.Request(k, F129Request(k), {}, [&, k](fep::RequestResult r) {
      if (r.status.ok()) {
        w.count.fetch_add(1, std::memory_order_relaxed);
      } else {
        failures.fetch_add(1);
      }
      if (!w.stop.load()) issue(k);
      in_flight.fetch_sub(1);
    });
  };
  for (int i = 0; i < o.terminals; ++i) issue({3201, static_cast<uint16_t>(1 + i)});
  Run r = w.Measure(o);
  w.stop = true;
  while (in_flight.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  fep::FrontEndStats st = fe.Stats();
  fe.Stop();
  r.terminal_answers = StopFleet(fleet);
  if (failures.load() > 0 || st.bad_frames > 0) {
    std::fprintf(stderr, "fep: %ld failed requests, %llu bad frames\n", failures.load(),
                 static_cast<unsigned long long>(st.bad_frames));
  }
  return r;
}

// ---- Bare Asio ----

net::awaitable<void> BareSession(tcp::socket s, Window* w) {
  boost::system::error_code ec;
  auto tok = net::redirect_error(net::use_awaitable, ec);
  std::vector<uint8_t> buf(g::kMaxFrame);
  auto read_frame = [&]() -> net::awaitable<size_t> {
    co_await net::async_read(s, net::buffer(buf.data(), 6), tok);
    if (ec) co_return 0;
    const size_t total = static_cast<size_t>((buf[1] | (buf[2] << 8)) >> 2) + 8;
    if (total > buf.size() || total < 8) co_return 0;
    co_await net::async_read(s, net::buffer(buf.data() + 6, total - 6), tok);
    co_return ec ? 0 : total;
  };
  // The login: answered with a confirm.
  const size_t n = co_await read_frame();
  if (n == 0) co_return;
  auto login = g::Decode(g::ByteSpan(buf.data(), n));
  if (!login.ok()) co_return;
  auto confirm = g::Encode(g::MakeConfirm(*login));
  auto request = g::Encode(F129Request(login->a.terminal));
  co_await net::async_write(s, net::buffer(*confirm), tok);
  std::vector<uint8_t> req = *request;
  for (uint8_t pseq = 0; !ec && !w->stop.load(std::memory_order_relaxed); ++pseq) {
    req[13] = static_cast<uint8_t>((req[13] & 0xF0) | (pseq & 0x0F));
    uint8_t cs = 0;
    for (size_t i = 6; i + 2 < req.size(); ++i) cs = static_cast<uint8_t>(cs + req[i]);
    req[req.size() - 2] = cs;
    co_await net::async_write(s, net::buffer(req), tok);
    if (ec) break;
    if (co_await read_frame() == 0) break;
    w->count.fetch_add(1, std::memory_order_relaxed);
  }
}

net::awaitable<void> BareAccept(tcp::acceptor& acc, int n, Window* w) {
  for (int i = 0; i < n; ++i) {
    tcp::socket s = co_await acc.async_accept(net::use_awaitable);
    s.set_option(tcp::no_delay(true));
    net::co_spawn(acc.get_executor(), BareSession(std::move(s), w), net::detached);
  }
}

Run RunBare(const Options& o) {
  FleetChild fleet = SpawnFleet(o.terminals);
  net::io_context ioc(1);
  tcp::acceptor acc(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  acc.listen(4096);
  const uint16_t port = acc.local_endpoint().port();
  Window w;
  net::co_spawn(ioc, BareAccept(acc, o.terminals, &w), net::detached);
  std::thread io([&] { ioc.run(); });
  if (write(fleet.control, &port, sizeof port) != sizeof port) std::abort();
  Run r = w.Measure(o);
  w.stop = true;
  r.terminal_answers = StopFleet(fleet);  // closes the connections: the sessions end
  ioc.stop();
  io.join();
  return r;
}

int Main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    long v = std::atol(argv[i + 1]);
    if (k == "--terminals")
      o.terminals = static_cast<int>(v);
    else if (k == "--seconds")
      o.seconds = static_cast<int>(v);
    else if (k == "--warmup")
      o.warmup_seconds = static_cast<int>(v);
    else if (k == "--comm-log")
      o.comm_log_frames = static_cast<size_t>(v);
    else {
      std::fprintf(stderr,
                   "usage: fep_echo [--terminals N] [--seconds S] [--warmup S] "
                   "[--comm-log FRAMES]\n");
      return 2;
    }
  }
  RaiseFdLimit();
  signal(SIGPIPE, SIG_IGN);
  spdlog::set_level(spdlog::level::warn);
  // Bare first: no thread exists yet when the terminal process is forked.
  Run bare = RunBare(o);
  Run front = RunFrontEnd(o);
  std::printf("terminals %d, %d s measured after %d s warm-up, loopback, 1 io thread each\n",
              o.terminals, o.seconds, o.warmup_seconds);
  std::printf("bare asio:  %9.0f round trips/s (%9.0f frames/s), %.2f us CPU per round trip\n",
              bare.round_trips_per_s, 2 * bare.round_trips_per_s, bare.cpu_us_per_round_trip);
  std::printf(
      "front end:  %9.0f round trips/s (%9.0f frames/s), %.2f us CPU per round trip "
      "(comm log %zu frames)\n",
      front.round_trips_per_s, 2 * front.round_trips_per_s, front.cpu_us_per_round_trip,
      o.comm_log_frames);
  std::printf("ratio front end / bare: %.2f\n",
              bare.round_trips_per_s > 0 ? front.round_trips_per_s / bare.round_trips_per_s : 0);
  return 0;
}

}  // namespace
}  // namespace gridmis::bench

int main(int argc, char** argv) { return gridmis::bench::Main(argc, argv); }
