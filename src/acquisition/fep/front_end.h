// The terminal front end (前置机): an asynchronous TCP server (Boost.Asio, C++20 coroutines)
// holding thousands of Q/GDW 1376.1 terminal connections.
//
//   terminal connects → sends AFN02 F1 login → known terminal: AFN00 confirm, online
//                                             unknown: refused (logged, counted, closed)
//   heartbeat (AFN02 F3) → confirm, last-seen updated; logout (F2) → confirm, offline, closed
//   no frame for `idle_timeout` → offline, closed
//   master requests (Request) → queued per terminal, sent one at a time with a PSEQ, matched to
//   the reply by PSEQ (and AFN), retried on time-out, the result handed to the caller
//   frames the terminal starts (PRM=1: active reports, events) → Listener::OnReport, confirmed
//   when CON is set
//
// Protection: frames longer than max_frame_bytes and bytes that are not frames are dropped and
// counted (the connection resynchronises on the next 68H; too many in a row closes it); a
// per-connection token bucket limits frames per second; a login must arrive within
// login_timeout. One slow or silent terminal never delays another: every connection is its own
// coroutine on a strand, and requests to different terminals run concurrently.
//
// This header is Boost-free; the Asio code lives in front_end.cc only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "acquisition/protocol/gdw1376.h"
#include "core/status.h"
#include "core/time.h"

namespace gridmis::acquisition::fep {

using gdw1376::TerminalKey;

struct FrontEndOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0: any free port (see FrontEnd::port())
  int io_threads = 1;
  uint8_t master_address = 1;  // MSA in the A3 of master-initiated frames
  size_t max_frame_bytes = gdw1376::kMaxFrame;
  size_t max_connections = 50000;
  std::chrono::milliseconds login_timeout{30'000};
  // Offline after this long without a frame (heartbeats are every 1..15 min on real terminals).
  std::chrono::milliseconds idle_timeout{20 * 60'000};
  std::chrono::milliseconds request_timeout{10'000};  // per attempt
  int retries = 2;                                    // attempts = 1 + retries
  double max_frames_per_second = 50;                  // token bucket per connection
  double burst_frames = 200;
  int max_bad_frames_in_a_row = 20;  // then the connection is closed
  size_t comm_log_frames = 50'000;   // frames kept for the communication log (a ring)
  bool tp_on_requests = false;       // add a Tp (PFC, send time, delay) to requests
  uint8_t tp_delay_minutes = 0;
  // The zone of the Tp send time (terminals keep local time). Loaded by Start() only when
  // tp_on_requests; an unknown name fails Start() with InvalidArgument.
  std::string time_zone = "Asia/Shanghai";
  // A refused login (unknown terminal) is answered with an AFN00 deny and the connection closed
  // this long after, so that a misconfigured terminal does not reconnect in a tight loop.
  std::chrono::milliseconds refuse_close_delay{1'000};
};

// What the front end tells the rest of the system. Called from I/O threads: implementations
// must be quick and non-blocking (queue work, do not touch the database inline).
class Listener {
 public:
  virtual ~Listener() = default;
  // Is the terminal in the registry (installed)? Refused otherwise.
  virtual bool IsKnown(TerminalKey k) = 0;
  virtual void OnOnline(TerminalKey k, const std::string& peer, int64_t at_us) = 0;
  // reason: "logout", "idle timeout", "connection closed", "replaced by a new login", ...
  virtual void OnOffline(TerminalKey k, const std::string& reason, int64_t at_us) = 0;
  // A frame the terminal started (PRM = 1) other than link management: active reports of
  // class-1/2 data, events (AFN0E) — already confirmed to the terminal when it asked.
  virtual void OnReport(TerminalKey k, const gdw1376::Frame& f, int64_t at_us) = 0;
  // ACD = 1: the EC of an uplink frame (important events waiting when EC1 changed).
  virtual void OnEventCounter(TerminalKey k, gdw1376::EventCounter ec, int64_t at_us) = 0;
};

struct RequestOptions {
  std::optional<std::chrono::milliseconds> timeout;  // default: options' request_timeout
  std::optional<int> retries;                        // default: options' retries
};

struct RequestResult {
  // OK: replies hold the answer (data frames of a multi-frame reply in order, or the AFN00
  // confirm: F1 all confirmed, or F3 per unit — check its `confirm`). FailedPrecondition: the
  // terminal denied (AFN00 F2, replies hold the deny). Unavailable: not connected, or the
  // connection closed before the answer. DeadlineExceeded: no answer after every attempt.
  // InvalidArgument: the request cannot be encoded. Cancelled (the front end stopped, or the
  // request came after Stop): Unavailable "front end stopped" with `cancelled` set — the core
  // has no Cancelled code.
  Status status;
  bool cancelled = false;
  std::vector<gdw1376::Frame> replies;
  int attempts = 0;
  int64_t round_trip_us = 0;  // of the answered attempt
};

struct TerminalState {
  TerminalKey key;
  bool online = false;
  std::string peer;  // "10.1.2.3:50122"
  int64_t login_at_us = 0;
  int64_t last_seen_us = 0;
  uint64_t frames_in = 0, frames_out = 0, bad_frames = 0;
  size_t queued_requests = 0;
};

struct FrontEndStats {
  uint64_t connections_open = 0;
  uint64_t terminals_online = 0;
  uint64_t connections_accepted = 0;
  uint64_t logins = 0;
  uint64_t refused_unknown = 0;  // logins from terminals not in the registry
  uint64_t frames_in = 0, frames_out = 0;
  uint64_t bytes_in = 0, bytes_out = 0;
  uint64_t bad_frames = 0;    // malformed, over-long, bad checksum
  uint64_t rate_limited = 0;  // frames dropped by the token bucket
  uint64_t requests = 0, request_timeouts = 0, request_retries = 0, denied = 0;
  uint64_t reports = 0;
};

struct CommLogEntry {
  uint64_t seq = 0;  // increasing
  int64_t at_us = 0;
  std::optional<TerminalKey> key;  // unknown before a login
  std::string peer;
  bool inbound = true;
  gdw1376::Bytes bytes;  // the frame (or the dropped bytes, up to 512)
  std::string note;      // "checksum", "refused: unknown terminal", "timeout, retry 1" ...
};

class FrontEnd {
 public:
  FrontEnd(FrontEndOptions options, Listener* listener, const Clock& clock);
  ~FrontEnd();  // Stop()s
  FrontEnd(const FrontEnd&) = delete;
  FrontEnd& operator=(const FrontEnd&) = delete;

  // Binds and starts the I/O threads. Unavailable when the address is taken; FailedPrecondition
  // when started twice or after Stop. `listener` must outlive the front end.
  Status Start();
  uint16_t port() const;  // the bound port, after Start
  // Closes the listener and every connection (terminals go offline with "front end stopped"),
  // fails queued requests as cancelled (see RequestResult), joins the threads. Idempotent, any
  // thread; from an I/O thread (a Listener callback) it does not wait: the destructor joins.
  void Stop();

  // Sends `request` to the terminal and calls `done` exactly once: from an I/O thread, or
  // inline when the front end is stopped or was never started. The front end sets the frame's A
  // (the terminal's address, MSA = master_address), C's DIR/PRM (and the function code when it
  // is 0), its SEQ (FIR FIN, PSEQ = the terminal's next PFC mod 16, kept on retries) and, when
  // configured, the Tp; the caller fills AFN, groups, PW and CON. Requests to one terminal go
  // one at a time in submission order; to different terminals, concurrently. A reply matches
  // when DIR=1 PRM=0, its RSEQ is the PSEQ (+1 per further frame of a multi-frame reply; the
  // same PSEQ is accepted too) and its AFN is the request's or 00. Every frame of the answer
  // must come within the time-out of the frame before. Requests queued on a connection that
  // closes fail with Unavailable (they do not move to a new login). Thread-safe.
  void Request(TerminalKey k, gdw1376::Frame request, RequestOptions options,
               std::function<void(RequestResult)> done);
  // Blocking form, for jobs, the CLI and tests. From an I/O thread it would deadlock: there it
  // returns FailedPrecondition at once.
  RequestResult RequestSync(TerminalKey k, gdw1376::Frame request, RequestOptions options = {});

  std::optional<TerminalState> State(TerminalKey k) const;
  std::vector<TerminalState> Online() const;  // by key
  FrontEndStats Stats() const;
  // Newest first: entries with seq < before_seq (0 = from the newest), of one terminal when
  // given, at most `limit`.
  std::vector<CommLogEntry> CommLog(std::optional<TerminalKey> k, size_t limit,
                                    uint64_t before_seq = 0) const;
  // Closes a terminal's connection (offline "disconnected by the master station").
  void Disconnect(TerminalKey k);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gridmis::acquisition::fep
