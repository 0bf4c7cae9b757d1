// The HTTP/1.1 transport: an asynchronous server on Boost.Asio coroutines (Boost.Beast), kept
// behind this Boost-free header so that only server.cc pays Beast's compile cost.
//
// Network I/O runs on `io_threads` threads and never blocks; every request is handed to a
// bounded worker pool where the Handler runs (it may block on the database), and the response
// goes back to the connection's strand. Past `max_inflight` queued requests the server answers
// 503 with Retry-After. Limits: header and body size (431 / 413), a whole-request read deadline
// (slow clients are dropped), an idle keep-alive timeout. Stop() is graceful: it stops
// accepting, closes idle connections, answers requests already read, and force-closes what is
// left after `shutdown_grace`.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"
#include "http/http.h"

namespace gridmis::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0: pick a free port (tests)
  int io_threads = 2;
  int worker_threads = 8;
  int max_inflight = 1024;  // requests queued or running on the pool; past it: 503
  size_t header_limit_bytes = 16 * 1024;
  size_t body_limit_bytes = 1024 * 1024;
  std::chrono::milliseconds request_timeout{10'000};  // first byte to last byte of a request
  std::chrono::milliseconds idle_timeout{30'000};     // keep-alive wait between requests
  std::chrono::milliseconds write_timeout{30'000};
  std::chrono::milliseconds shutdown_grace{10'000};
  bool handle_signals = true;  // SIGINT/SIGTERM start a graceful Stop()
};

// Counters the transport keeps; read at any time from any thread.
struct ServerStats {
  std::atomic<int64_t> connections_accepted{0};
  std::atomic<int64_t> connections_open{0};
  std::atomic<int64_t> connections_idle{0};
  std::atomic<int64_t> requests_total{0};
  std::atomic<int64_t> inflight{0};
  std::atomic<int64_t> rejected_overload{0};  // 503 because the pool was full
  std::atomic<int64_t> request_timeouts{0};   // slow clients dropped mid-request
  std::atomic<int64_t> idle_closed{0};
  std::atomic<int64_t> bad_requests{0};  // unparseable HTTP, 413, 431
};

class Server {
 public:
  Server(ServerOptions options, Handler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens. Fails with Unavailable when the address cannot be bound.
  Status Start();
  // The bound port (after Start).
  uint16_t port() const;
  // Serves until Stop() (or a signal when handle_signals) and the graceful shutdown ends.
  void Run();
  // Starts a graceful shutdown; safe from any thread, any number of times.
  void Stop();
  const ServerStats& stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gridmis::http
