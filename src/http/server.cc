// The HTTP/1.1 transport on Boost.Beast and Asio C++20 coroutines. This is the only translation
// unit that includes Beast (it costs 30-50 s to compile); everything else sees http.h/server.h.
//
// Shape (see /work/shared/reference/beast-patterns.md, which this follows):
//   - one io_context run by `io_threads` threads; the acceptor, the signal set and the shutdown
//     coroutine share one strand; every connection has its own strand;
//   - a connection alternates an idle wait (idle_timeout) and a whole-request read
//     (request_timeout), then hops to the worker pool for the Handler and back to its strand,
//     then writes (write_timeout);
//   - Stop() runs Shutdown() on the acceptor strand: stop accepting, cancel idle connections,
//     let the others finish their current request (answered with Connection: close), force-close
//     what is left after shutdown_grace, then stop the io_context.

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include "http/server.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <exception>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <variant>
#include <vector>

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/file.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/file_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace gridmis::http {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

using StringResponse = bhttp::response<bhttp::string_body>;
using FileResponse = bhttp::response<bhttp::file_body>;
// Beast 1.74 has no message_generator: one alternative per body type we send.
using AnyResponse = std::variant<StringResponse, FileResponse>;

constexpr size_t kReadChunk = 4096;
// A flat_buffer that grew past this for one large request is shrunk before the idle wait, so
// thousands of idle keep-alive connections stay small.
constexpr size_t kIdleBufferKeep = 16 * 1024;
// After answering and closing our side, read and discard what the client still sends for at
// most this long (RFC 9112 §9.6 "lingering close"), so that the kernel does not reset the
// connection and destroy the response before the client read it (413 mid-upload).
constexpr auto kLingerTime = 500ms;
constexpr size_t kLingerMaxBytes = 4 * 1024 * 1024;
constexpr auto kAcceptBackoff = 100ms;
constexpr auto kShutdownPoll = 5ms;
constexpr auto kForceCloseWait = 1s;
constexpr int kListenBacklog = 4096;

// beast::string_view is boost::string_view in 1.74: convert at the edge.
std::string_view SV(beast::string_view s) { return {s.data(), s.size()}; }
beast::string_view BV(std::string_view s) { return {s.data(), s.size()}; }

char LowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (LowerAscii(a[i]) != LowerAscii(b[i])) return false;
  }
  return true;
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// IMF-fixdate (RFC 9110 §5.6.7), locale-independent, cached per thread for the current second.
const std::string& HttpDate() {
  static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  thread_local std::time_t cached_second = -1;
  thread_local std::string cached;
  std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday % 7],
                  tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                  tm.tm_sec);
    cached = buf;
    cached_second = now;
  }
  return cached;
}

// The JSON error shape the API uses everywhere: {"error":{"code":"...","message":"..."}}.
// `code` and `message` are our own constants (no escaping needed).
Response ErrorResponse(int status, std::string_view code, std::string_view message) {
  Response res;
  res.status = status;
  res.content_type = "application/json; charset=utf-8";
  res.body.reserve(40 + code.size() + message.size());
  res.body.append(R"({"error":{"code":")").append(code);
  res.body.append(R"(","message":")").append(message).append(R"("}})");
  return res;
}

// A header name is a token; a value must not smuggle CR/LF (response splitting).
bool ValidHeader(std::string_view name, std::string_view value) {
  if (name.empty()) return false;
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == ':') return false;
  }
  for (char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

// Logs what escaped a coroutine; `detached` would swallow it.
struct LogException {
  const char* what;
  void operator()(std::exception_ptr ep) const {
    if (!ep) return;
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      spdlog::error("http: {} ended with an exception: {}", what, e.what());
    } catch (...) {
      spdlog::error("http: {} ended with an unknown exception", what);
    }
  }
};

// Runs `f` on `pool` and resumes the awaiting coroutine on its own executor (the connection's
// strand). `co_await net::post(pool, use_awaitable)` would NOT move the coroutine to the pool in
// Asio 1.18, hence the hand-written initiation. An exception thrown by `f` is rethrown at the
// co_await. `f` may capture the caller's locals by reference: the caller awaits at once.
template <class F>
net::awaitable<std::invoke_result_t<F&>> RunInPool(net::thread_pool& pool, F f) {
  using R = std::invoke_result_t<F&>;
  co_return co_await net::async_initiate<const net::use_awaitable_t<>, void(std::exception_ptr, R)>(
      [&pool](auto handler, F fn) {
        auto work = net::make_work_guard(net::get_associated_executor(handler));
        net::post(pool,
                  [h = std::move(handler), fn = std::move(fn), work = std::move(work)]() mutable {
                    std::exception_ptr ep;
                    R r{};
                    try {
                      r = fn();
                    } catch (...) {
                      ep = std::current_exception();
                    }
                    auto ex = net::get_associated_executor(h);
                    net::post(ex, [h = std::move(h), ep, r = std::move(r)]() mutable {
                      std::move(h)(ep, std::move(r));
                    });
                  });
      },
      net::use_awaitable, std::move(f));
}

// Decrements a counter when a scope (or a destroyed coroutine frame) ends.
class CounterGuard {
 public:
  explicit CounterGuard(std::atomic<int64_t>& counter) : counter_(&counter) {}
  CounterGuard(const CounterGuard&) = delete;
  CounterGuard& operator=(const CounterGuard&) = delete;
  ~CounterGuard() { counter_->fetch_sub(1); }

 private:
  std::atomic<int64_t>* counter_;
};

}  // namespace

namespace {

struct Conn;

// The live connections, for Shutdown(): weak references keyed by address.
class ConnRegistry {
 public:
  void Add(const std::shared_ptr<Conn>& c) {
    std::lock_guard lock(mu_);
    conns_.emplace(c.get(), c);
  }
  void Remove(const Conn* c) {
    std::lock_guard lock(mu_);
    conns_.erase(c);
  }
  std::vector<std::shared_ptr<Conn>> Live() {
    std::vector<std::shared_ptr<Conn>> out;
    std::lock_guard lock(mu_);
    out.reserve(conns_.size());
    for (auto& [ptr, weak] : conns_) {
      if (auto c = weak.lock()) out.push_back(std::move(c));
    }
    return out;
  }

 private:
  std::mutex mu_;
  std::unordered_map<const Conn*, std::weak_ptr<Conn>> conns_;  // guarded by mu_
};

// One accepted connection. Everything here is touched only on the connection's strand, except
// in the destructor (then nothing else can reach it). `stats` and `registry` outlive the
// io_context, and so every Conn.
struct Conn {
  Conn(ServerStats* s, ConnRegistry* r, tcp::socket socket)
      : stats(s), registry(r), stream(std::move(socket)) {}
  ~Conn() {
    if (idle) stats->connections_idle.fetch_sub(1);
    registry->Remove(this);
    stats->connections_open.fetch_sub(1);
  }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  ServerStats* stats;
  ConnRegistry* registry;
  beast::tcp_stream stream;
  bool idle = false;  // parked waiting for the first byte of the next request
};

}  // namespace

struct Server::Impl {
  Impl(ServerOptions o, Handler h)
      : opts(std::move(o)),
        handler(std::move(h)),
        ioc(std::max(1, opts.io_threads)),
        acceptor_strand(net::make_strand(ioc)),
        pool(static_cast<size_t>(std::max(1, opts.worker_threads))) {}

  ~Impl() {
    // Start() without Run(), or Run() already returned: nothing runs on the io_context now.
    // The members below are destroyed in reverse order: the pool (joined), the signal set, the
    // acceptor, then the io_context, whose destructor destroys suspended coroutine frames; their
    // cleanup (~Conn, counter guards) touches the state declared before it.
  }

  Status Start();
  void Run();
  void Stop();

  net::awaitable<void> AcceptLoop();
  net::awaitable<void> Session(std::shared_ptr<Conn> c);
  net::awaitable<void> Shutdown();
  // Polls until no connection is open or `deadline` passes.
  net::awaitable<void> WaitForConnections(std::chrono::steady_clock::time_point deadline);
  net::awaitable<bool> Write(Conn& c, Response res, unsigned version, bool keep_alive, bool head);
  net::awaitable<void> LingeringClose(Conn& c);
  AnyResponse BuildMessage(Response res, unsigned version, bool keep_alive, bool head);
  Response Dispatch(Request& req);

  // ---- State the coroutines touch: declared BEFORE the io_context (it must outlive it). ----
  const ServerOptions opts;
  const Handler handler;
  ServerStats stats;
  std::atomic<bool> stopping{false};        // set by Shutdown(); read by every connection
  std::atomic<bool> stop_requested{false};  // Stop() is idempotent
  std::atomic<bool> run_called{false};
  std::atomic<uint16_t> bound_port{0};
  ConnRegistry registry;

  // ---- Asio objects. ----
  net::io_context ioc;
  net::strand<net::io_context::executor_type> acceptor_strand;
  std::optional<tcp::acceptor> acceptor;   // on acceptor_strand
  std::optional<net::signal_set> signals;  // on acceptor_strand
  net::thread_pool pool;                   // after ioc: its queued handlers refer to ioc
};

Status Server::Impl::Start() {
  if (acceptor) return FailedPrecondition("http: server already started");
  beast::error_code ec;
  tcp::endpoint endpoint;
  auto address = net::ip::make_address(opts.host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, opts.port);
  } else {
    tcp::resolver resolver(ioc);
    auto results =
        resolver.resolve(opts.host, std::to_string(opts.port), tcp::resolver::passive, ec);
    if (ec || results.empty()) {
      return Unavailable("http: cannot resolve listen host '" + opts.host +
                         "': " + (ec ? ec.message() : std::string("no address")));
    }
    endpoint = results.begin()->endpoint();
  }

  const std::string where = opts.host + ":" + std::to_string(opts.port);
  tcp::acceptor acc(acceptor_strand);
  if (acc.open(endpoint.protocol(), ec); ec) {
    return Unavailable("http: cannot open a socket for " + where + ": " + ec.message());
  }
  if (acc.set_option(net::socket_base::reuse_address(true), ec); ec) {
    return Unavailable("http: cannot set SO_REUSEADDR on " + where + ": " + ec.message());
  }
  if (acc.bind(endpoint, ec); ec) {
    return Unavailable("http: cannot bind " + where + ": " + ec.message());
  }
  if (acc.listen(kListenBacklog, ec); ec) {
    return Unavailable("http: cannot listen on " + where + ": " + ec.message());
  }
  auto local = acc.local_endpoint(ec);
  if (ec) return Unavailable("http: cannot read the bound address: " + ec.message());
  bound_port = local.port();
  acceptor.emplace(std::move(acc));
  spdlog::info("http: listening on {}:{}", local.address().to_string(), local.port());
  return Status::Ok();
}

void Server::Impl::Run() {
  if (!acceptor) {
    spdlog::error("http: Run() without a successful Start()");
    return;
  }
  if (run_called.exchange(true)) {
    spdlog::error("http: Run() called twice");
    return;
  }
  if (opts.handle_signals) {
    signals.emplace(acceptor_strand, SIGINT, SIGTERM);
    signals->async_wait([this](const beast::error_code& ec, int signo) {
      if (ec) return;  // cancelled by Shutdown()
      spdlog::info("http: signal {} received, shutting down", signo);
      Stop();
    });
  }
  net::co_spawn(acceptor_strand, AcceptLoop(), LogException{"accept loop"});

  auto run_io = [this] {
    for (;;) {
      try {
        ioc.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("http: exception escaped an io handler: {}", e.what());
      } catch (...) {
        spdlog::error("http: unknown exception escaped an io handler");
      }
    }
  };
  std::vector<std::thread> threads;
  const int n = std::max(1, opts.io_threads);
  threads.reserve(static_cast<size_t>(n - 1));
  for (int i = 1; i < n; ++i) threads.emplace_back(run_io);
  run_io();  // the calling thread is io thread 0
  for (auto& t : threads) t.join();
  // A handler still running (blocked on the database) delays this: DB calls need their own
  // timeouts.
  pool.join();
  spdlog::info("http: server stopped");
}

void Server::Impl::Stop() {
  if (stop_requested.exchange(true)) return;
  // Queued on the acceptor strand; if Run() has not started yet it runs first thing there, and
  // if Run() is never called the io_context destroys it unexecuted.
  net::co_spawn(acceptor_strand, Shutdown(), LogException{"shutdown"});
}

net::awaitable<void> Server::Impl::AcceptLoop() {
  beast::error_code ec;
  for (;;) {
    if (stopping || !acceptor || !acceptor->is_open()) co_return;
    tcp::socket socket(net::make_strand(ioc));  // a strand per connection
    co_await acceptor->async_accept(socket, net::redirect_error(net::use_awaitable, ec));
    if (ec) {
      if (stopping || !acceptor->is_open()) co_return;  // closed by Shutdown()
      // EMFILE/ENFILE/ENOBUFS...: back off instead of spinning on a failing accept.
      spdlog::warn("http: accept failed: {}; retrying in {} ms", ec.message(),
                   std::chrono::milliseconds(kAcceptBackoff).count());
      net::steady_timer timer(acceptor_strand, kAcceptBackoff);
      co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);  // best effort
    stats.connections_accepted.fetch_add(1);
    stats.connections_open.fetch_add(1);  // undone by ~Conn
    auto c = std::make_shared<Conn>(&stats, &registry, std::move(socket));
    // Registered here, on the acceptor strand, so Shutdown() (same strand) sees every
    // connection accepted before it.
    registry.Add(c);
    auto ex = c->stream.get_executor();
    net::co_spawn(ex, Session(std::move(c)), LogException{"connection"});
  }
}

net::awaitable<void> Server::Impl::Shutdown() {
  stopping = true;
  spdlog::info("http: graceful shutdown: {} connection(s) open", stats.connections_open.load());
  beast::error_code ec;
  if (acceptor && acceptor->is_open()) acceptor->close(ec);
  if (signals) signals->cancel(ec);

  // Wake idle connections; each checks `stopping` before it parks again, and the cancel runs on
  // its strand, so there is no window where a connection parks unseen.
  for (auto& c : registry.Live()) {
    net::post(c->stream.get_executor(), [c] {
      if (c->idle) c->stream.cancel();
    });
  }

  co_await WaitForConnections(std::chrono::steady_clock::now() + opts.shutdown_grace);

  if (stats.connections_open.load() > 0) {
    spdlog::warn("http: {} connection(s) still open after the {} ms grace; closing them",
                 stats.connections_open.load(), opts.shutdown_grace.count());
    for (auto& c : registry.Live()) {
      net::post(c->stream.get_executor(), [c] { c->stream.close(); });
    }
    co_await WaitForConnections(std::chrono::steady_clock::now() + kForceCloseWait);
  }
  if (stats.connections_open.load() > 0) {
    // Typically a handler still blocked on the pool: its frame is destroyed with the
    // io_context after Run() has joined the pool.
    spdlog::warn("http: {} connection(s) did not close; stopping the io_context",
                 stats.connections_open.load());
  }
  ioc.stop();
}

net::awaitable<void> Server::Impl::WaitForConnections(
    std::chrono::steady_clock::time_point deadline) {
  net::steady_timer timer(acceptor_strand);
  beast::error_code ec;
  while (stats.connections_open.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(kShutdownPoll);
    co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
  }
}

Response Server::Impl::Dispatch(Request& req) {
  try {
    return handler(req);
  } catch (const std::exception& e) {
    spdlog::error("http: handler threw for {} {}: {}", req.method, req.path, e.what());
  } catch (...) {
    spdlog::error("http: handler threw a non-exception for {} {}", req.method, req.path);
  }
  return ErrorResponse(500, "INTERNAL", "internal error");
}

net::awaitable<void> Server::Impl::Session(std::shared_ptr<Conn> c) {
  beast::tcp_stream& stream = c->stream;
  beast::flat_buffer buffer;
  beast::error_code ec;
  auto token = net::redirect_error(net::use_awaitable, ec);

  std::string remote_ip;
  {
    auto endpoint = stream.socket().remote_endpoint(ec);
    if (!ec) remote_ip = endpoint.address().to_string();
  }

  bool linger = false;  // close with LingeringClose() rather than at once (see kLingerTime)
  for (;;) {
    // ---- Keep-alive wait for the first byte (idle_timeout). ----
    if (buffer.size() == 0) {
      if (stopping) break;
      if (buffer.capacity() > kIdleBufferKeep) buffer.shrink_to_fit();
      c->idle = true;
      stats.connections_idle.fetch_add(1);
      stream.expires_after(opts.idle_timeout);
      size_t n = co_await stream.async_read_some(buffer.prepare(kReadChunk), token);
      c->idle = false;
      stats.connections_idle.fetch_sub(1);
      if (ec) {
        if (ec == beast::error::timeout) stats.idle_closed.fetch_add(1);
        co_return;  // timeout (the stream closed the socket), EOF, reset, or Shutdown()
      }
      buffer.commit(n);
    }

    // ---- The whole request, header and body, within request_timeout. ----
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(
        std::min<size_t>(opts.header_limit_bytes, std::numeric_limits<std::uint32_t>::max())));
    parser.body_limit(static_cast<std::uint64_t>(opts.body_limit_bytes));
    stream.expires_after(opts.request_timeout);
    co_await bhttp::async_read_header(stream, buffer, parser, token);
    if (!ec && !parser.is_done()) {
      const auto& h = parser.get();
      if (h.version() >= 11 && EqualsIgnoreCase(SV(h[bhttp::field::expect]), "100-continue")) {
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        co_await net::async_write(stream, net::buffer(kContinue.data(), kContinue.size()), token);
      }
      if (!ec) co_await bhttp::async_read(stream, buffer, parser, token);
    }
    if (ec) {
      Response err;
      if (ec == beast::error::timeout) {
        // The stream has closed the socket: a 408 cannot be sent.
        stats.request_timeouts.fetch_add(1);
        co_return;
      } else if (ec == bhttp::error::body_limit) {
        err = ErrorResponse(413, "INVALID_ARGUMENT", "request body too large");
      } else if (ec == bhttp::error::header_limit) {
        err = ErrorResponse(431, "INVALID_ARGUMENT", "request header too large");
      } else if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
                 ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
        err = ErrorResponse(400, "INVALID_ARGUMENT", "malformed HTTP request");
      } else {
        co_return;  // the client went away (EOF mid-request, reset, force-closed)
      }
      stats.bad_requests.fetch_add(1);
      spdlog::debug("http: bad request from {}: {}", remote_ip, ec.message());
      unsigned version = parser.is_header_done() ? parser.get().version() : 11;
      if (version != 10) version = 11;
      co_await Write(*c, std::move(err), version, /*keep_alive=*/false, /*head=*/false);
      linger = true;
      break;
    }

    // ---- Our Request. ----
    auto& msg = parser.get();
    const bool head = msg.method() == bhttp::verb::head;
    const unsigned version = msg.version() == 10 ? 10 : 11;
    Request req;
    // HEAD is answered as GET without a body: the application sees "GET".
    req.method = head ? std::string("GET") : std::string(SV(msg.method_string()));
    req.target = std::string(SV(msg.target()));
    req.remote_ip = remote_ip;
    req.received_us = NowMicros();
    std::string_view target = req.target;
    const size_t qmark = target.find('?');
    std::string_view raw_path = target.substr(0, qmark);
    std::optional<Response> early;  // answered without the handler
    if (raw_path.empty() || raw_path.front() != '/' ||
        !PercentDecode(raw_path, &req.path, /*plus_is_space=*/false)) {
      early = ErrorResponse(400, "INVALID_ARGUMENT", "malformed request path");
    } else if (qmark != std::string_view::npos &&
               !ParseQueryString(target.substr(qmark + 1), &req.query)) {
      early = ErrorResponse(400, "INVALID_ARGUMENT", "malformed query string");
    }
    if (early) stats.bad_requests.fetch_add(1);
    req.headers.reserve(static_cast<size_t>(std::distance(msg.begin(), msg.end())));
    for (const auto& field : msg) {
      std::string name(SV(field.name_string()));
      for (char& ch : name) ch = LowerAscii(ch);
      req.headers.emplace_back(std::move(name), std::string(SV(field.value())));
    }
    req.body = std::move(msg.body());
    const bool client_keep_alive = msg.keep_alive();
    stats.requests_total.fetch_add(1);

    // ---- The handler, on the worker pool, under admission control. ----
    Response res;
    if (early) {
      res = std::move(*early);
    } else if (stats.inflight.fetch_add(1) >= opts.max_inflight) {
      stats.inflight.fetch_sub(1);
      stats.rejected_overload.fetch_add(1);
      res = ErrorResponse(503, "UNAVAILABLE", "server busy, retry");
      res.headers.emplace_back("Retry-After", "1");
    } else {
      CounterGuard inflight(stats.inflight);  // also right if this frame is destroyed suspended
      stream.expires_never();                 // the handler may wait on the database
      std::optional<Response> out;
      try {
        out = co_await RunInPool(pool, [this, &req] { return Dispatch(req); });
      } catch (const std::exception& e) {
        spdlog::error("http: worker pool hop failed: {}", e.what());
      } catch (...) {
        spdlog::error("http: worker pool hop failed");
      }
      res = out ? std::move(*out) : ErrorResponse(500, "INTERNAL", "internal error");
    }

    // ---- The response. While stopping, this is the connection's last answer. ----
    bool keep_alive = client_keep_alive && !stopping;
    for (const auto& [name, value] : res.headers) {
      if (EqualsIgnoreCase(name, "connection") && EqualsIgnoreCase(value, "close")) {
        keep_alive = false;  // the application asked to close
      }
    }
    const bool ok = co_await Write(*c, std::move(res), version, keep_alive, head);
    if (!ok) co_return;
    if (!keep_alive) {
      // Linger only when the client has already pipelined more: those bytes would make the
      // kernel answer our close with a reset. Otherwise close at once (fast shutdown).
      linger = buffer.size() > 0;
      break;
    }
  }

  if (linger) {
    co_await LingeringClose(*c);
  } else {
    c->stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    c->stream.close();
  }
}

net::awaitable<void> Server::Impl::LingeringClose(Conn& c) {
  beast::error_code ec;
  c.stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (ec) co_return;
  c.stream.expires_after(
      std::min<std::chrono::steady_clock::duration>(kLingerTime, opts.request_timeout));
  std::array<char, kReadChunk> sink;
  size_t drained = 0;
  while (drained < kLingerMaxBytes) {
    size_t n = co_await c.stream.async_read_some(net::buffer(sink),
                                                 net::redirect_error(net::use_awaitable, ec));
    if (ec) break;  // EOF: the client closed after reading the answer
    drained += n;
  }
  c.stream.close();
}

AnyResponse Server::Impl::BuildMessage(Response res, unsigned version, bool keep_alive, bool head) {
  if (res.status < 200 || res.status > 599) {
    spdlog::error("http: handler returned invalid status {}", res.status);
    res = ErrorResponse(500, "INTERNAL", "internal error");
  }
  const bool no_body = res.status == 204 || res.status == 304;

  auto set_headers = [&](auto& m) {
    m.version(version);
    m.result(static_cast<unsigned>(res.status));
    m.set(bhttp::field::server, "gridmis");
    m.set(bhttp::field::date, BV(HttpDate()));
    if (!no_body && !res.content_type.empty()) {
      m.set(bhttp::field::content_type, BV(res.content_type));
    }
    for (const auto& [name, value] : res.headers) {
      // Framing belongs to the transport (Session() has read a "Connection: close").
      if (EqualsIgnoreCase(name, "content-length") || EqualsIgnoreCase(name, "transfer-encoding") ||
          EqualsIgnoreCase(name, "connection")) {
        continue;
      }
      if (!ValidHeader(name, value)) {
        spdlog::error("http: dropped invalid response header '{}'", name);
        continue;
      }
      if (EqualsIgnoreCase(name, "server") || EqualsIgnoreCase(name, "date")) {
        m.set(BV(name), BV(value));
      } else {
        m.insert(BV(name), BV(value));
      }
    }
  };

  if (!res.file_path.empty() && !no_body) {
    struct stat st {};
    bhttp::file_body::value_type file;
    std::string why;  // empty: opened
    if (::stat(res.file_path.c_str(), &st) != 0) {
      why = beast::error_code(errno, boost::system::generic_category()).message();
    } else if (!S_ISREG(st.st_mode)) {
      why = "not a regular file";  // a directory would fail mid-body with EISDIR
    } else {
      beast::error_code ec;
      file.open(res.file_path.c_str(), beast::file_mode::scan, ec);
      if (ec) why = ec.message();
    }
    if (!why.empty()) {
      spdlog::warn("http: cannot send '{}': {}", res.file_path, why);
      res = ErrorResponse(404, "NOT_FOUND", "file not found");
    } else if (head) {
      StringResponse m;
      set_headers(m);
      m.content_length(file.size());
      m.keep_alive(keep_alive);
      return m;
    } else {
      FileResponse m;
      set_headers(m);
      const auto size = file.size();
      m.body() = std::move(file);
      m.content_length(size);
      m.keep_alive(keep_alive);
      return m;
    }
  }

  StringResponse m;
  set_headers(m);
  if (!no_body) {
    m.content_length(res.body.size());
    if (!head) m.body() = std::move(res.body);
  }
  m.keep_alive(keep_alive);
  return m;
}

net::awaitable<bool> Server::Impl::Write(Conn& c, Response res, unsigned version, bool keep_alive,
                                         bool head) {
  AnyResponse msg = BuildMessage(std::move(res), version, keep_alive, head);
  beast::error_code ec;
  auto token = net::redirect_error(net::use_awaitable, ec);
  c.stream.expires_after(opts.write_timeout);
  if (auto* s = std::get_if<StringResponse>(&msg)) {
    co_await bhttp::async_write(c.stream, *s, token);
  } else {
    co_await bhttp::async_write(c.stream, std::get<FileResponse>(msg), token);
  }
  if (ec) spdlog::debug("http: write failed: {}", ec.message());
  co_return !ec;
}

// ---------------------------------------------------------------------------------------------

Server::Server(ServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

Server::~Server() = default;

Status Server::Start() { return impl_->Start(); }

uint16_t Server::port() const { return impl_->bound_port.load(); }

void Server::Run() { impl_->Run(); }

void Server::Stop() { impl_->Stop(); }

const ServerStats& Server::stats() const { return impl_->stats; }

}  // namespace gridmis::http
