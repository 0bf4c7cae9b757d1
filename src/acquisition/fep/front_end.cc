// The terminal front end on Boost.Asio C++20 coroutines: the only Asio translation unit of
// acquisition (see front_end.h for the contract, /work/shared/reference/beast-patterns.md for
// the patterns and traps of Boost 1.74 this follows).
//
// Shape:
//   - one io_context run by `io_threads` threads; the acceptor on its own strand, every
//     connection on its own strand: everything of a connection (its reads, writes, timer,
//     request queue) runs there, so a connection needs no lock;
//   - a connection is one coroutine that waits for readability without a buffer
//     (socket.async_wait), then reads what is there into a per-thread scratch buffer and cuts
//     frames out of it: an idle connection holds no read buffer, only a partial frame is kept;
//   - one steady_timer per connection, armed at the nearest of its deadlines (login, idle,
//     the outstanding request's attempt, a delayed close);
//   - state shared between connections (the terminals, the live connections, the communication
//     log, the counters) behind mutexes and atomics. Lock order: Terminal::notify_mu, then
//     Core::mu; the listener is never called with Core::mu held.

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include "acquisition/fep/front_end.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <future>
#include <mutex>
#include <string_view>
#include <thread>
#include <unordered_map>

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace gridmis::acquisition::fep {

namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;
using TimePoint = SteadyClock::time_point;
using gdw1376::Bytes;
using gdw1376::ByteSpan;
using gdw1376::Frame;
using namespace std::chrono_literals;

constexpr size_t kCommLogMaxBytes = 512;
// Reads go into a per-thread buffer of this size; a connection keeps only a partial frame.
constexpr size_t kScratchBytes = 64 * 1024;
// Reads per readiness wake-up before yielding to other connections.
constexpr int kMaxReadsPerWake = 4;
// Bytes queued to a terminal that does not read before the connection is closed.
constexpr size_t kMaxWriteBacklog = 1 << 20;
// How long a logout confirm may take to drain before the connection is closed anyway.
constexpr auto kCloseDrainTime = 5s;
constexpr auto kAcceptBackoff = 100ms;
constexpr auto kJoinGrace = 10s;
constexpr int kListenBacklog = 4096;

constexpr uint8_t kLinkLogin = 1, kLinkLogout = 2, kLinkHeartbeat = 3;

// The Status the core lacks: DeadlineExceeded has a code but no helper.
Status DeadlineExceeded(std::string message) {
  return Status(StatusCode::kDeadlineExceeded, std::move(message));
}
Status StoppedStatus() { return Unavailable("front end stopped"); }

// The most frames one multi-frame reply may have (at ~16 KB each: ~4 MB). A concentrator's
// largest answers (2,040 points of daily registers) take a few dozen.
constexpr size_t kMaxReplyFrames = 256;

std::vector<uint8_t>& Scratch() {
  thread_local std::vector<uint8_t> scratch(kScratchBytes);
  return scratch;
}

// The Fn of a one-unit frame (AFN00/02), 0 when none.
uint16_t FirstFn(const Frame& f) {
  if (f.confirm) return 3;
  if (f.groups.empty() || f.groups.front().fns.empty()) return 0;
  return f.groups.front().fns.front();
}

std::string AfnLabel(uint8_t afn, uint16_t fn) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "AFN%02X F%u", afn, fn);
  return buf;
}

// Calls a listener method, logging what it throws (it runs on an I/O thread).
template <class F>
void Notify(const char* what, F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    spdlog::error("fep: listener {} threw: {}", what, e.what());
  } catch (...) {
    spdlog::error("fep: listener {} threw a non-exception", what);
  }
}

struct LogException {
  const char* what;
  void operator()(std::exception_ptr ep) const {
    if (!ep) return;
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      spdlog::error("fep: {} ended with an exception: {}", what, e.what());
    } catch (...) {
      spdlog::error("fep: {} ended with an unknown exception", what);
    }
  }
};

// ---- The communication log: a ring shared by every connection. ----
class CommLogRing {
 public:
  explicit CommLogRing(size_t capacity) : capacity_(capacity) {}

  void Add(int64_t at_us, std::optional<TerminalKey> key, const std::string& peer, bool inbound,
           ByteSpan bytes, std::string note) {
    if (capacity_ == 0) return;
    if (bytes.size() > kCommLogMaxBytes) {
      note += note.empty() ? "" : "; ";
      note += std::to_string(bytes.size()) + " bytes, the first " +
              std::to_string(kCommLogMaxBytes) + " kept";
      bytes = bytes.first(kCommLogMaxBytes);
    }
    std::lock_guard lock(mu_);
    const uint64_t seq = next_seq_++;
    CommLogEntry* e;
    if (ring_.size() < capacity_) {
      e = &ring_.emplace_back();
    } else {
      e = &ring_[(seq - 1) % capacity_];
    }
    e->seq = seq;
    e->at_us = at_us;
    e->key = key;
    e->peer = peer;  // reuses the slot's capacity
    e->inbound = inbound;
    e->bytes.assign(bytes.begin(), bytes.end());
    e->note = std::move(note);
  }

  std::vector<CommLogEntry> Query(std::optional<TerminalKey> key, size_t limit,
                                  uint64_t before_seq) const {
    std::vector<CommLogEntry> out;
    std::lock_guard lock(mu_);
    if (ring_.empty() || limit == 0) return out;
    const uint64_t newest = next_seq_ - 1;
    const uint64_t oldest = newest >= ring_.size() ? newest - ring_.size() + 1 : 1;
    uint64_t s = before_seq == 0 ? newest : std::min(newest, before_seq - 1);
    for (; s >= oldest && s > 0 && out.size() < limit; --s) {
      const CommLogEntry& e = ring_[(s - 1) % capacity_];
      if (key && e.key != key) continue;
      out.push_back(e);
    }
    return out;
  }

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::vector<CommLogEntry> ring_;  // guarded by mu_; seq s sits at (s - 1) % capacity_
  uint64_t next_seq_ = 1;           // guarded by mu_
};

struct Counters {
  std::atomic<uint64_t> connections_open{0}, terminals_online{0}, connections_accepted{0},
      logins{0}, refused_unknown{0}, frames_in{0}, frames_out{0}, bytes_in{0}, bytes_out{0},
      bad_frames{0}, rate_limited{0}, requests{0}, request_timeouts{0}, request_retries{0},
      denied{0}, reports{0};
};

void Inc(std::atomic<uint64_t>& c, uint64_t n = 1) { c.fetch_add(n, std::memory_order_relaxed); }

// ---- A master request from Request() until its `done` ran. ----
struct PendingRequest {
  PendingRequest(TerminalKey k, Frame f, std::chrono::milliseconds t, int r,
                 std::function<void(RequestResult)> d)
      : key(k), frame(std::move(f)), timeout(t), retries(r), done(std::move(d)) {}
  PendingRequest(const PendingRequest&) = delete;
  PendingRequest& operator=(const PendingRequest&) = delete;
  // A request destroyed unanswered (its handler never ran: the io_context was stopped) is
  // cancelled, so `done` runs exactly once whatever happens.
  ~PendingRequest() {
    if (done) Finish(StoppedStatus(), /*cancelled=*/true);
  }

  void Finish(Status status, bool cancelled = false) {
    auto d = std::exchange(done, nullptr);
    if (!d) return;
    result.status = std::move(status);
    result.cancelled = cancelled;
    try {
      d(std::move(result));
    } catch (const std::exception& e) {
      spdlog::error("fep: a request's done callback threw: {}", e.what());
    } catch (...) {
      spdlog::error("fep: a request's done callback threw a non-exception");
    }
  }

  const TerminalKey key;
  Frame frame;
  const std::chrono::milliseconds timeout;
  const int retries;
  std::function<void(RequestResult)> done;
  RequestResult result;
  Bytes wire;
  uint8_t pseq = 0;
  TimePoint sent_at{}, deadline{};
};

struct Conn;

// A terminal that has logged in at least once (online or not).
struct Terminal {
  explicit Terminal(TerminalKey k) : key(k) {}
  const TerminalKey key;
  // Held while the terminal's online state changes and the listener hears of it, so that
  // OnOnline/OnOffline of one terminal arrive in order. Before Core::mu.
  std::mutex notify_mu;
  // Guarded by Core::mu:
  std::shared_ptr<Conn> conn;  // the current connection, null when offline
  std::string peer;
  int64_t login_at_us = 0;
  // Lock-free:
  std::atomic<int64_t> last_seen_us{0};
  std::atomic<uint64_t> frames_in{0}, frames_out{0}, bad_frames{0};
  std::atomic<size_t> queued{0};  // queued + outstanding requests
  std::atomic<uint8_t> pfc{0};    // the master's frame counter; PSEQ = PFC mod 16
};

// Everything of a front end; FrontEnd::Impl is this (Conn needs the type, Impl is private).
struct Core {
  Core(FrontEndOptions o, Listener* l, const Clock& c)
      : opts(std::move(o)),
        listener(l),
        clock(c),
        comm_log(opts.comm_log_frames),
        ioc(std::max(1, opts.io_threads)),
        acceptor_strand(net::make_strand(ioc)) {}
  ~Core() {
    Stop();
    Join();
  }
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  Status Start();
  void Stop();
  void Join();
  bool OnIoThread() const;
  net::awaitable<void> AcceptLoop();
  net::awaitable<void> Session(std::shared_ptr<Conn> c);
  void Request(TerminalKey k, Frame request, RequestOptions options,
               std::function<void(RequestResult)> done);
  int64_t NowUs() const { return clock.NowMicros(); }
  bool Stopping() const { return stopping.load(std::memory_order_acquire); }
  gdw1376::TimeTag MakeTp(uint8_t pfc) const;

  // ---- State the coroutines touch: declared BEFORE the io_context (which destroys suspended
  // coroutine frames, and so Conns, in its destructor). ----
  const FrontEndOptions opts;
  Listener* const listener;
  const Clock& clock;
  std::optional<TimeZone> tz;
  Counters stats;
  CommLogRing comm_log;
  std::atomic<bool> stopping{false};
  std::atomic<uint16_t> bound_port{0};

  mutable std::mutex mu;
  std::unordered_map<uint32_t, std::shared_ptr<Terminal>> terminals;  // guarded by mu
  std::unordered_map<Conn*, std::weak_ptr<Conn>> conns;               // guarded by mu
  bool started = false;                                               // guarded by mu
  bool stop_requested = false;                                        // guarded by mu

  std::mutex join_mu;  // held through Join()
  std::mutex run_mu;
  std::condition_variable run_cv;
  int running_threads = 0;  // guarded by run_mu
  std::vector<std::thread> threads;

  // ---- Asio objects. ----
  net::io_context ioc;
  net::strand<net::io_context::executor_type> acceptor_strand;
  std::optional<tcp::acceptor> acceptor;  // on acceptor_strand
};

thread_local const Core* tls_io_owner = nullptr;

// One accepted TCP connection. Everything but the constructor, the destructor and the const
// members runs on the connection's strand (the socket's executor).
struct Conn : std::enable_shared_from_this<Conn> {
  Conn(Core* f, tcp::socket s, std::string p)
      : fe(f), socket(std::move(s)), timer(socket.get_executor()), peer(std::move(p)) {
    fe->stats.connections_open.fetch_add(1);
  }
  ~Conn() { fe->stats.connections_open.fetch_sub(1); }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  // Entry points (on the strand).
  void Begin();
  bool ReadAvailable(std::string* reason);  // true: the connection ended
  void Close(const std::string& reason);
  void Enqueue(std::unique_ptr<PendingRequest> r);

  // Inbound.
  void OnBytes(const uint8_t* data, size_t n);
  void OnGarbage(ByteSpan bytes, const std::string& reason);
  void OnFrame(ByteSpan bytes);
  bool TakeToken(TimePoint now);
  void CountBad();
  void Login(const Frame& f, TerminalKey k);
  void Refuse(const Frame& f);
  void OnReply(Frame f);
  bool MatchesOutstanding(const Frame& f) const;

  // Outbound.
  void Send(const Frame& f, std::string note);
  void SendBytes(Bytes bytes, std::string note);
  void StartWrite();
  void CloseAfterWrite(const std::string& reason);

  // Requests.
  void SendNext();
  void SendAttempt();
  void FinishOutstanding(Status s);

  // The timer.
  void ArmTimer(TimePoint when);
  void OnTimer();
  TimePoint NextDeadline() const;

  std::optional<TerminalKey> Key() const {
    return terminal ? std::optional<TerminalKey>(terminal->key) : std::nullopt;
  }
  void Log(bool inbound, ByteSpan bytes, std::string note, std::optional<TerminalKey> key) {
    fe->comm_log.Add(fe->NowUs(), key, peer, inbound, bytes, std::move(note));
  }

  Core* const fe;
  tcp::socket socket;
  net::steady_timer timer;
  const std::string peer;

  bool closed = false;
  std::shared_ptr<Terminal> terminal;       // after a login
  bool refused = false;                     // unknown terminal: waiting for close_at
  std::optional<std::string> close_reason;  // a close pending after a write or a delay
  bool close_when_written = false;
  TimePoint close_at = TimePoint::max();
  TimePoint login_deadline{};
  TimePoint last_frame{};
  // Timer.
  bool timer_armed = false;
  TimePoint timer_expiry{};
  uint32_t timer_gen = 0;
  // Reading.
  Bytes pending;  // a partial frame; empty (no allocation) between frames
  int bad_in_a_row = 0;
  double tokens = 0;
  TimePoint tokens_at{};
  bool rate_limit_logged = false;
  // Writing.
  std::vector<Bytes> write_queue;
  size_t write_backlog = 0;
  bool writing = false;
  // Requests.
  std::vector<std::unique_ptr<PendingRequest>> queue;
  std::unique_ptr<PendingRequest> outstanding;
  int last_timed_out_pseq = -1;
};

void Conn::Begin() {
  const auto now = SteadyClock::now();
  login_deadline = now + fe->opts.login_timeout;
  last_frame = now;
  tokens = std::max(1.0, fe->opts.burst_frames);
  tokens_at = now;
  ArmTimer(login_deadline);
}

// ---- The timer ----

TimePoint Conn::NextDeadline() const {
  TimePoint next = close_at;
  if (!terminal && !refused) next = std::min(next, login_deadline);
  if (terminal) next = std::min(next, last_frame + fe->opts.idle_timeout);
  if (outstanding) next = std::min(next, outstanding->deadline);
  return next;
}

void Conn::ArmTimer(TimePoint when) {
  if (closed || when == TimePoint::max()) return;
  if (timer_armed && when >= timer_expiry) return;  // it fires earlier and re-arms then
  timer_armed = true;
  timer_expiry = when;
  const uint32_t gen = ++timer_gen;
  timer.expires_at(when);  // cancels a wait in progress: its handler sees another generation
  timer.async_wait([self = shared_from_this(), gen](const error_code& ec) {
    if (ec || gen != self->timer_gen || self->closed) return;
    self->timer_armed = false;
    self->OnTimer();
  });
}

void Conn::OnTimer() {
  const auto now = SteadyClock::now();
  if (now >= close_at) {
    Close(close_reason.value_or("closed"));
    return;
  }
  if (!terminal && !refused && now >= login_deadline) {
    Log(true, {}, "no login within " + std::to_string(fe->opts.login_timeout.count()) + " ms",
        std::nullopt);
    Close("login timeout");
    return;
  }
  if (terminal && now >= last_frame + fe->opts.idle_timeout) {
    Close("idle timeout");
    return;
  }
  if (outstanding && now >= outstanding->deadline) {
    PendingRequest& r = *outstanding;
    const std::string what =
        AfnLabel(r.frame.afn, FirstFn(r.frame)) + " PSEQ " + std::to_string(r.pseq);
    if (r.result.attempts <= r.retries) {
      Inc(fe->stats.request_retries);
      SendAttempt();
    } else {
      Inc(fe->stats.request_timeouts);
      last_timed_out_pseq = r.pseq;
      Log(false, {},
          "timeout: no answer to " + what + " after " + std::to_string(r.result.attempts) +
              " attempt(s)",
          Key());
      FinishOutstanding(DeadlineExceeded("terminal " + gdw1376::ToString(r.key) +
                                         " did not answer " + what + " after " +
                                         std::to_string(r.result.attempts) + " attempt(s) of " +
                                         std::to_string(r.timeout.count()) + " ms"));
    }
  }
  ArmTimer(NextDeadline());
}

// ---- Reading ----

bool Conn::ReadAvailable(std::string* reason) {
  for (int i = 0; i < kMaxReadsPerWake && !closed; ++i) {
    std::vector<uint8_t>& scratch = Scratch();
    error_code ec;
    const size_t n = socket.read_some(net::buffer(scratch.data(), scratch.size()), ec);
    if (ec == net::error::would_block || ec == net::error::try_again) return false;
    if (ec) {
      *reason = ec == net::error::eof ? "connection closed" : "connection error: " + ec.message();
      return true;
    }
    OnBytes(scratch.data(), n);
    if (n < scratch.size()) break;
  }
  return closed;
}

void Conn::OnBytes(const uint8_t* data, size_t n) {
  Inc(fe->stats.bytes_in, n);
  if (refused || close_reason || closed) return;  // the connection is on its way out
  ByteSpan input(data, n);
  if (!pending.empty()) {
    pending.insert(pending.end(), data, data + n);
    input = ByteSpan(pending);
  }
  size_t pos = 0;
  while (pos < input.size() && !closed && !refused && !close_reason) {
    const gdw1376::Scan scan = gdw1376::ScanFrame(input.subspan(pos), fe->opts.max_frame_bytes);
    if (scan.kind == gdw1376::Scan::kNeedMore) break;
    const size_t len = std::clamp<size_t>(scan.length, 1, input.size() - pos);
    if (scan.kind == gdw1376::Scan::kSkip) {
      OnGarbage(input.subspan(pos, len), scan.reason);
    } else {
      OnFrame(input.subspan(pos, len));
    }
    pos += len;
  }
  if (closed || refused || close_reason) {
    Bytes().swap(pending);
    return;
  }
  if (input.data() == pending.data()) {
    pending.erase(pending.begin(), pending.begin() + static_cast<ptrdiff_t>(pos));
  } else {
    pending.assign(data + pos, data + n);
  }
  // ScanFrame rejects a length over max_frame_bytes from the header, so this only guards
  // against a scanner that keeps asking for more.
  if (pending.size() > fe->opts.max_frame_bytes + kScratchBytes) {
    OnGarbage(pending, "buffer over the frame limit");
    pending.clear();
  }
  if (pending.empty()) Bytes().swap(pending);  // idle connections keep no buffer
}

void Conn::CountBad() {
  Inc(fe->stats.bad_frames);
  if (terminal) terminal->bad_frames.fetch_add(1, std::memory_order_relaxed);
  if (++bad_in_a_row >= fe->opts.max_bad_frames_in_a_row && fe->opts.max_bad_frames_in_a_row > 0) {
    Log(true, {}, "too many bad frames in a row (" + std::to_string(bad_in_a_row) + ")", Key());
    Close("too many bad frames in a row");
  }
}

void Conn::OnGarbage(ByteSpan bytes, const std::string& reason) {
  Log(true, bytes, "dropped " + std::to_string(bytes.size()) + " byte(s): " + reason, Key());
  CountBad();
}

bool Conn::TakeToken(TimePoint now) {
  const double rate = fe->opts.max_frames_per_second;
  if (rate <= 0) return true;
  const double burst = std::max(1.0, fe->opts.burst_frames);
  const double elapsed = std::chrono::duration<double>(now - tokens_at).count();
  tokens = std::min(burst, tokens + elapsed * rate);
  tokens_at = now;
  if (tokens < 1.0) return false;
  tokens -= 1.0;
  return true;
}

bool Conn::MatchesOutstanding(const Frame& f) const {
  if (!outstanding) return false;
  const PendingRequest& r = *outstanding;
  if (f.afn != r.frame.afn && f.afn != gdw1376::kAfnConfirm) return false;
  const auto expected = static_cast<uint8_t>((r.pseq + r.result.replies.size()) & 0x0F);
  return f.seq.seq == expected || f.seq.seq == r.pseq;
}

void Conn::OnFrame(ByteSpan bytes) {
  Inc(fe->stats.frames_in);
  const auto now = SteadyClock::now();
  last_frame = now;  // a well-formed frame (checksum right) keeps the connection alive
  // The token bucket, before decoding. Replies to our own outstanding request (DIR=1 PRM=0)
  // are not limited: we asked for them, one request at a time.
  const bool maybe_reply = outstanding && bytes.size() > 6 && (bytes[6] & 0xC0) == 0x80;
  if (!maybe_reply && !TakeToken(now)) {
    Inc(fe->stats.rate_limited);
    if (!rate_limit_logged) {
      rate_limit_logged = true;
      Log(true, bytes,
          "rate limited (over " + std::to_string(fe->opts.max_frames_per_second) +
              " frames/s): dropped, and the frames after it until the rate falls",
          Key());
    }
    return;
  }
  rate_limit_logged = false;
  if (terminal) terminal->frames_in.fetch_add(1, std::memory_order_relaxed);

  // Cheap checks on the header bytes (ScanFrame has checked the framing) before any decoding:
  // a terminal sends uplink frames only, and nothing but a login (AFN02, PRM=1) before it has
  // logged in — so an unauthenticated peer never makes us decode its data units.
  if (bytes.size() > 13) {
    const uint8_t c = bytes[6], afn = bytes[12];
    const char* refused = nullptr;
    if ((c & 0x80) == 0) {
      refused = "a downlink frame (DIR=0) from a terminal: dropped";
    } else if (!terminal && (afn != gdw1376::kAfnLink || (c & 0x40) == 0)) {
      refused = "not logged in: only a login is accepted, dropped";
    }
    if (refused) {
      Log(true, bytes, refused, Key());
      CountBad();
      return;
    }
  }
  auto decoded = gdw1376::Decode(bytes);
  if (!decoded.ok()) {
    Log(true, bytes, "malformed: " + decoded.status().message(), Key());
    CountBad();
    return;
  }
  Frame& f = *decoded;
  const int64_t now_us = fe->NowUs();
  std::string warn;
  for (const auto& w : f.warnings) warn += "; " + w;

  if (!f.c.up) {
    Log(true, bytes, "a downlink frame (DIR=0) from a terminal: dropped" + warn, Key());
    CountBad();
    return;
  }
  const uint16_t fn = FirstFn(f);
  const bool link = f.afn == gdw1376::kAfnLink && f.c.prm;

  // ---- Not logged in: only a login is acceptable. ----
  if (!terminal) {
    if (!link || fn != kLinkLogin) {
      Log(true, bytes, "not logged in: " + AfnLabel(f.afn, fn) + " dropped" + warn, f.a.terminal);
      CountBad();
      return;
    }
    bool known = false;
    Notify("IsKnown", [&] { known = fe->listener->IsKnown(f.a.terminal); });
    if (!known) {
      Log(true, bytes, "login refused: unknown terminal " + gdw1376::ToString(f.a.terminal) + warn,
          f.a.terminal);
      Refuse(f);
      return;
    }
    Log(true, bytes, "login" + warn, f.a.terminal);
    bad_in_a_row = 0;  // only an accepted frame ends a run of bad ones
    Login(f, f.a.terminal);
    if (f.c.fcb_acd && f.ec) {
      Notify("OnEventCounter", [&] { fe->listener->OnEventCounter(terminal->key, *f.ec, now_us); });
    }
    return;
  }

  // ---- Logged in. ----
  const TerminalKey key = terminal->key;
  terminal->last_seen_us.store(now_us, std::memory_order_relaxed);
  if (f.a.terminal != key) {
    Log(true, bytes,
        "address " + gdw1376::ToString(f.a.terminal) + " is not this connection's terminal " +
            gdw1376::ToString(key) + ": dropped" + warn,
        key);
    CountBad();
    return;
  }
  bad_in_a_row = 0;  // an accepted frame of this terminal
  if (link) {
    switch (fn) {
      case kLinkHeartbeat:
        Log(true, bytes, "heartbeat" + warn, key);
        Send(gdw1376::MakeConfirm(f), "heartbeat confirmed");
        break;
      case kLinkLogin:
        Log(true, bytes, "login again on the same connection" + warn, key);
        Send(gdw1376::MakeConfirm(f), "login confirmed");
        break;
      case kLinkLogout:
        Log(true, bytes, "logout" + warn, key);
        Send(gdw1376::MakeConfirm(f), "logout confirmed");
        CloseAfterWrite("logout");
        break;
      default:
        Log(true, bytes, "unknown link function " + AfnLabel(f.afn, fn) + ": dropped" + warn, key);
        break;
    }
  } else if (f.c.prm) {
    // Started by the terminal: an active report or an event.
    Log(true, bytes, "report " + AfnLabel(f.afn, fn) + (f.seq.con ? ", confirm asked" : "") + warn,
        key);
    if (f.seq.con) Send(gdw1376::MakeConfirm(f), "report confirmed");
    Inc(fe->stats.reports);
    Notify("OnReport", [&] { fe->listener->OnReport(key, f, now_us); });
  } else if (MatchesOutstanding(f)) {
    Log(true, bytes, "reply " + AfnLabel(f.afn, fn) + warn, key);
    const std::optional<gdw1376::EventCounter> ec = f.c.fcb_acd ? f.ec : std::nullopt;
    OnReply(std::move(f));  // into the result: no copy of the frame
    if (!closed && ec) {
      Notify("OnEventCounter", [&] { fe->listener->OnEventCounter(key, *ec, now_us); });
    }
    return;
  } else {
    const bool late = !outstanding || f.seq.seq != outstanding->pseq;
    Log(true, bytes,
        std::string(late && f.seq.seq == last_timed_out_pseq ? "late reply after a time-out"
                                                             : "unexpected reply") +
            " (RSEQ " + std::to_string(f.seq.seq) + "): dropped" + warn,
        key);
  }
  if (!closed && f.c.fcb_acd && f.ec) {
    Notify("OnEventCounter", [&] { fe->listener->OnEventCounter(key, *f.ec, now_us); });
  }
}

// ---- Link management ----

void Conn::Refuse(const Frame& f) {
  Inc(fe->stats.refused_unknown);
  spdlog::warn("fep: login refused: unknown terminal {} from {}", gdw1376::ToString(f.a.terminal),
               peer);
  refused = true;
  Send(gdw1376::MakeDeny(f), "login denied: unknown terminal");
  close_reason = "refused: unknown terminal";
  close_at = SteadyClock::now() + fe->opts.refuse_close_delay;
  if (fe->opts.refuse_close_delay.count() <= 0) {
    CloseAfterWrite("refused: unknown terminal");
  } else {
    ArmTimer(close_at);
  }
}

void Conn::Login(const Frame& f, TerminalKey k) {
  std::shared_ptr<Terminal> t;
  {
    std::lock_guard lock(fe->mu);
    auto& slot = fe->terminals[k.Packed()];
    if (!slot) slot = std::make_shared<Terminal>(k);
    t = slot;
  }
  const int64_t now_us = fe->NowUs();
  std::lock_guard notify(t->notify_mu);
  std::shared_ptr<Conn> old;
  bool stopping = false;
  {
    std::lock_guard lock(fe->mu);
    stopping = fe->stop_requested;
    if (!stopping) {
      old = std::exchange(t->conn, shared_from_this());
      t->peer = peer;
      t->login_at_us = now_us;
      t->last_seen_us.store(now_us);
    }
  }
  if (stopping) {
    Close("front end stopped");  // takes fe->mu: not under it
    return;
  }
  terminal = t;
  Inc(fe->stats.logins);
  t->frames_in.fetch_add(1, std::memory_order_relaxed);  // the login itself
  Send(gdw1376::MakeConfirm(f), "login confirmed");
  if (old) {
    Notify("OnOffline", [&] { fe->listener->OnOffline(k, "replaced by a new login", now_us); });
    net::post(old->socket.get_executor(), [old] { old->Close("replaced by a new login"); });
  } else {
    fe->stats.terminals_online.fetch_add(1);
  }
  Notify("OnOnline", [&] { fe->listener->OnOnline(k, peer, now_us); });
  ArmTimer(NextDeadline());
}

void Conn::Close(const std::string& reason) {
  if (closed) return;
  closed = true;
  error_code ec;
  timer.cancel();
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
  Log(true, {}, "connection closed: " + reason, Key());

  // Fail what is queued.
  const bool stopped = fe->Stopping();
  auto fail = [&](std::unique_ptr<PendingRequest>& r) {
    if (!r) return;
    if (terminal) terminal->queued.fetch_sub(1, std::memory_order_relaxed);
    if (stopped) {
      r->Finish(StoppedStatus(), /*cancelled=*/true);
    } else {
      r->Finish(Unavailable("terminal " + gdw1376::ToString(r->key) +
                            ": the connection closed before the answer (" + reason + ")"));
    }
    r.reset();
  };
  fail(outstanding);
  auto queued = std::move(queue);
  for (auto& r : queued) fail(r);

  // Offline, when this is still the terminal's connection (a replaced one is not).
  std::shared_ptr<Terminal> t = terminal;
  if (t) {
    std::lock_guard notify(t->notify_mu);
    bool current = false;
    {
      std::lock_guard lock(fe->mu);
      fe->conns.erase(this);
      if (t->conn.get() == this) {
        t->conn.reset();
        current = true;
      }
    }
    if (current) {
      fe->stats.terminals_online.fetch_sub(1);
      const int64_t now_us = fe->NowUs();
      Notify("OnOffline", [&] { fe->listener->OnOffline(t->key, reason, now_us); });
    }
  } else {
    std::lock_guard lock(fe->mu);
    fe->conns.erase(this);
  }
  spdlog::debug("fep: {} ({}) closed: {}", peer, t ? gdw1376::ToString(t->key) : "no login",
                reason);
}

// ---- Writing ----

void Conn::Send(const Frame& f, std::string note) {
  auto wire = gdw1376::Encode(f);
  if (!wire.ok()) {
    // Our own frame: a bug, not the terminal's fault.
    spdlog::error("fep: cannot encode a frame for {}: {}", peer, wire.status().message());
    Log(false, {}, "cannot encode " + note + ": " + wire.status().message(), Key());
    return;
  }
  SendBytes(std::move(*wire), std::move(note));
}

void Conn::SendBytes(Bytes bytes, std::string note) {
  if (closed) return;
  Inc(fe->stats.frames_out);
  Inc(fe->stats.bytes_out, bytes.size());
  if (terminal) terminal->frames_out.fetch_add(1, std::memory_order_relaxed);
  Log(false, bytes, std::move(note), Key());
  write_backlog += bytes.size();
  if (write_backlog > kMaxWriteBacklog) {
    Close("the terminal does not read (" + std::to_string(write_backlog) + " bytes queued)");
    return;
  }
  write_queue.push_back(std::move(bytes));
  if (!writing) StartWrite();
}

void Conn::StartWrite() {
  writing = true;
  net::async_write(socket, net::buffer(write_queue.front()),
                   [self = shared_from_this()](const error_code& ec, size_t) {
                     self->writing = false;
                     self->write_backlog -= self->write_queue.front().size();
                     self->write_queue.erase(self->write_queue.begin());
                     if (self->closed) {
                       self->write_queue.clear();
                       return;
                     }
                     if (ec) {
                       self->Close("write failed: " + ec.message());
                       return;
                     }
                     if (!self->write_queue.empty()) {
                       self->StartWrite();
                     } else {
                       self->write_queue.shrink_to_fit();
                       if (self->close_when_written) self->Close(*self->close_reason);
                     }
                   });
}

void Conn::CloseAfterWrite(const std::string& reason) {
  close_reason = reason;
  if (!writing) {
    Close(reason);
    return;
  }
  close_when_written = true;  // the write completion closes it; at the latest, the timer
  close_at = std::min(close_at, SteadyClock::now() + kCloseDrainTime);
  ArmTimer(close_at);
}

// ---- Requests ----

void Conn::Enqueue(std::unique_ptr<PendingRequest> r) {
  if (closed || !terminal) {
    if (fe->Stopping()) {
      r->Finish(StoppedStatus(), /*cancelled=*/true);
    } else {
      r->Finish(Unavailable("terminal " + gdw1376::ToString(r->key) + " is not connected"));
    }
    return;
  }
  terminal->queued.fetch_add(1, std::memory_order_relaxed);
  queue.push_back(std::move(r));
  if (!outstanding) SendNext();
}

void Conn::SendNext() {
  while (!outstanding && !queue.empty() && !closed) {
    std::unique_ptr<PendingRequest> r = std::move(queue.front());
    queue.erase(queue.begin());
    const auto pfc = terminal->pfc.fetch_add(1, std::memory_order_relaxed);
    r->pseq = static_cast<uint8_t>(pfc & 0x0F);
    Frame& f = r->frame;
    f.a.terminal = terminal->key;
    f.a.msa = fe->opts.master_address;
    f.a.group = false;
    f.c.up = false;
    f.c.prm = true;
    f.c.fcb_acd = false;
    f.c.fcv = false;
    if (f.c.func == 0) {
      const bool class_data = f.afn == gdw1376::kAfnClass1 || f.afn == gdw1376::kAfnClass2 ||
                              f.afn == gdw1376::kAfnClass3;
      f.c.func = class_data ? 11 : 10;
    }
    f.seq.fir = true;
    f.seq.fin = true;
    f.seq.seq = r->pseq;
    f.ec.reset();
    if (fe->opts.tp_on_requests) {
      f.tp = fe->MakeTp(pfc);
    }
    f.seq.tpv = f.tp.has_value();
    auto wire = gdw1376::Encode(f);
    if (!wire.ok()) {
      terminal->queued.fetch_sub(1, std::memory_order_relaxed);
      r->Finish(InvalidArgument("request to terminal " + gdw1376::ToString(r->key) +
                                " cannot be encoded: " + wire.status().message()));
      continue;
    }
    r->wire = std::move(*wire);
    outstanding = std::move(r);
    SendAttempt();
  }
}

void Conn::SendAttempt() {
  PendingRequest& r = *outstanding;
  r.result.attempts++;
  r.result.replies.clear();
  r.sent_at = SteadyClock::now();
  r.deadline = r.sent_at + r.timeout;
  std::string note =
      "request " + AfnLabel(r.frame.afn, FirstFn(r.frame)) + " PSEQ " + std::to_string(r.pseq);
  if (r.result.attempts > 1) {
    note += ", time-out: retry " + std::to_string(r.result.attempts - 1);
  }
  SendBytes(r.wire, std::move(note));
  ArmTimer(r.deadline);
}

void Conn::FinishOutstanding(Status s) {
  std::unique_ptr<PendingRequest> r = std::move(outstanding);
  terminal->queued.fetch_sub(1, std::memory_order_relaxed);
  r->Finish(std::move(s));
  SendNext();
}

void Conn::OnReply(Frame f) {
  PendingRequest& r = *outstanding;
  const auto now = SteadyClock::now();
  const bool fin = f.seq.fin;
  if (f.afn == gdw1376::kAfnConfirm && r.frame.afn != gdw1376::kAfnConfirm) {
    const bool denied = FirstFn(f) == 2;
    r.result.replies.push_back(std::move(f));
    r.result.round_trip_us =
        std::chrono::duration_cast<std::chrono::microseconds>(now - r.sent_at).count();
    if (denied) {
      Inc(fe->stats.denied);
      FinishOutstanding(FailedPrecondition("terminal " + gdw1376::ToString(r.key) + " denied " +
                                           AfnLabel(r.frame.afn, FirstFn(r.frame)) +
                                           " (AFN00 F2)"));
    } else {
      FinishOutstanding(Status::Ok());
    }
    return;
  }
  r.result.replies.push_back(std::move(f));
  if (!fin && r.result.replies.size() >= kMaxReplyFrames) {
    // A reply that never ends (FIN never set) would grow without bound: fail the request and
    // drop the connection, which a conforming terminal never makes us do.
    FinishOutstanding(ResourceExhausted("terminal " + gdw1376::ToString(r.key) +
                                        " sent more than " + std::to_string(kMaxReplyFrames) +
                                        " frames without FIN for one request"));
    Close("a reply of more than " + std::to_string(kMaxReplyFrames) + " frames");
    return;
  }
  if (fin) {
    r.result.round_trip_us =
        std::chrono::duration_cast<std::chrono::microseconds>(now - r.sent_at).count();
    FinishOutstanding(Status::Ok());
    return;
  }
  // More frames to come: each within the time-out of the one before.
  r.deadline = now + r.timeout;
}

// ---- Core ----

gdw1376::TimeTag Core::MakeTp(uint8_t pfc) const {
  const int64_t now_us = clock.NowMicros();
  const int64_t offset_s = tz ? tz->OffsetSeconds(now_us) : 0;
  int64_t local_s = now_us / kMicrosPerSecond + offset_s;
  int64_t days = local_s / 86'400;
  if (local_s % 86'400 < 0) --days;
  const int64_t sod = local_s - days * 86'400;
  const Date d = Date::FromDays(days);
  gdw1376::TimeTag tp;
  tp.pfc = pfc;
  tp.second = static_cast<uint8_t>(sod % 60);
  tp.minute = static_cast<uint8_t>(sod / 60 % 60);
  tp.hour = static_cast<uint8_t>(sod / 3600);
  tp.day = static_cast<uint8_t>(d.day);
  tp.delay_minutes = opts.tp_delay_minutes;
  return tp;
}

bool Core::OnIoThread() const { return tls_io_owner == this; }

Status Core::Start() {
  {
    std::lock_guard lock(mu);
    if (started) return FailedPrecondition("fep: front end already started");
    if (stop_requested) return FailedPrecondition("fep: front end stopped");
  }
  if (!listener) return InvalidArgument("fep: no listener");
  if (opts.tp_on_requests) {
    auto zone = TimeZone::Load(opts.time_zone);
    if (!zone.ok()) return zone.status().WithContext("fep: time_zone");
    tz = std::move(*zone);
  }
  error_code ec;
  const std::string where = opts.host + ":" + std::to_string(opts.port);
  auto address = net::ip::make_address(opts.host, ec);
  if (ec) return InvalidArgument("fep: listen host '" + opts.host + "' is not an IP address");
  tcp::endpoint endpoint(address, opts.port);
  tcp::acceptor acc(acceptor_strand);
  if (acc.open(endpoint.protocol(), ec); ec) {
    return Unavailable("fep: cannot open a socket for " + where + ": " + ec.message());
  }
  if (acc.set_option(net::socket_base::reuse_address(true), ec); ec) {
    return Unavailable("fep: cannot set SO_REUSEADDR on " + where + ": " + ec.message());
  }
  if (acc.bind(endpoint, ec); ec) {
    return Unavailable("fep: cannot bind " + where + ": " + ec.message());
  }
  if (acc.listen(kListenBacklog, ec); ec) {
    return Unavailable("fep: cannot listen on " + where + ": " + ec.message());
  }
  auto local = acc.local_endpoint(ec);
  if (ec) return Unavailable("fep: cannot read the bound address: " + ec.message());
  bound_port = local.port();
  acceptor.emplace(std::move(acc));
  {
    std::lock_guard lock(mu);
    started = true;
  }
  net::co_spawn(acceptor_strand, AcceptLoop(), LogException{"accept loop"});

  const int n = std::max(1, opts.io_threads);
  {
    std::lock_guard lock(run_mu);
    running_threads = n;
  }
  threads.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([this] {
      tls_io_owner = this;
      for (;;) {
        try {
          ioc.run();
          break;
        } catch (const std::exception& e) {
          spdlog::error("fep: exception escaped an io handler: {}", e.what());
        } catch (...) {
          spdlog::error("fep: unknown exception escaped an io handler");
        }
      }
      {
        std::lock_guard lock(run_mu);
        --running_threads;
      }
      run_cv.notify_all();
    });
  }
  spdlog::info("fep: listening on {}:{}", local.address().to_string(), local.port());
  return Status::Ok();
}

void Core::Stop() {
  std::vector<std::shared_ptr<Conn>> live;
  {
    std::lock_guard lock(mu);
    if (stop_requested) return;
    stop_requested = true;
    stopping.store(true, std::memory_order_release);
    if (!started) return;
    live.reserve(conns.size());
    for (auto& [ptr, weak] : conns) {
      if (auto c = weak.lock()) live.push_back(std::move(c));
    }
  }
  spdlog::info("fep: stopping: {} connection(s) open", stats.connections_open.load());
  net::post(acceptor_strand, [this] {
    error_code ec;
    if (acceptor) acceptor->close(ec);
  });
  for (auto& c : live) {
    net::post(c->socket.get_executor(), [c] { c->Close("front end stopped"); });
  }
  if (!OnIoThread()) Join();
}

void Core::Join() {
  if (OnIoThread()) {
    spdlog::error("fep: the front end cannot be joined from one of its own I/O threads");
    return;
  }
  std::lock_guard join_lock(join_mu);
  if (threads.empty()) return;
  {
    std::unique_lock lock(run_mu);
    // Every connection closes and the accept loop ends, so run() returns by itself; a handler
    // stuck in a listener callback would keep it: then stop the io_context.
    if (!run_cv.wait_for(lock, kJoinGrace, [this] { return running_threads == 0; })) {
      spdlog::warn("fep: I/O threads still busy {} s after Stop(); stopping the io_context",
                   std::chrono::duration_cast<std::chrono::seconds>(kJoinGrace).count());
      ioc.stop();
    }
  }
  for (auto& t : threads) t.join();
  threads.clear();
  spdlog::info("fep: stopped");
}

net::awaitable<void> Core::AcceptLoop() {
  error_code ec;
  auto token = net::redirect_error(net::use_awaitable, ec);
  auto last_warning = SteadyClock::time_point{};
  for (;;) {
    if (Stopping() || !acceptor || !acceptor->is_open()) co_return;
    tcp::socket socket(net::make_strand(ioc));  // a strand per connection
    co_await acceptor->async_accept(socket, token);
    if (ec) {
      if (Stopping() || !acceptor->is_open()) co_return;
      // EMFILE/ENFILE/ENOBUFS...: back off instead of spinning on a failing accept.
      if (SteadyClock::now() - last_warning > 10s) {
        spdlog::warn("fep: accept failed: {}; backing off {} ms", ec.message(),
                     std::chrono::milliseconds(kAcceptBackoff).count());
        last_warning = SteadyClock::now();
      }
      net::steady_timer backoff(acceptor_strand, kAcceptBackoff);
      co_await backoff.async_wait(token);
      continue;
    }
    Inc(stats.connections_accepted);
    if (stats.connections_open.load() >= opts.max_connections) {
      if (SteadyClock::now() - last_warning > 10s) {
        spdlog::warn("fep: {} connections open (max_connections): refusing new ones",
                     stats.connections_open.load());
        last_warning = SteadyClock::now();
      }
      socket.close(ec);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    socket.non_blocking(true, ec);
    if (ec) {
      socket.close(ec);
      continue;
    }
    std::string peer;
    {
      auto remote = socket.remote_endpoint(ec);
      if (ec) {
        socket.close(ec);  // already gone
        continue;
      }
      peer = remote.address().to_string() + ":" + std::to_string(remote.port());
    }
    auto c = std::make_shared<Conn>(this, std::move(socket), std::move(peer));
    {
      std::lock_guard lock(mu);
      if (stop_requested) co_return;  // c closes its socket when destroyed
      conns.emplace(c.get(), c);
    }
    auto ex = c->socket.get_executor();
    net::co_spawn(ex, Session(std::move(c)), LogException{"connection"});
  }
}

net::awaitable<void> Core::Session(std::shared_ptr<Conn> c) {
  std::string reason = "connection closed";
  try {
    c->Begin();
    error_code ec;
    while (!c->closed) {
      // Wait for bytes without holding a buffer: an idle connection costs no read memory.
      co_await c->socket.async_wait(tcp::socket::wait_read,
                                    net::redirect_error(net::use_awaitable, ec));
      if (c->closed) break;
      if (ec) {
        reason = "connection error: " + ec.message();
        break;
      }
      if (c->ReadAvailable(&reason)) break;
    }
  } catch (const std::exception& e) {
    spdlog::error("fep: connection {} failed: {}", c->peer, e.what());
    reason = std::string("internal error: ") + e.what();
  }
  c->Close(reason);
}

void Core::Request(TerminalKey k, Frame request, RequestOptions options,
                   std::function<void(RequestResult)> done) {
  Inc(stats.requests);
  auto r = std::make_unique<PendingRequest>(
      k, std::move(request), options.timeout.value_or(opts.request_timeout),
      std::max(0, options.retries.value_or(opts.retries)), std::move(done));
  std::unique_lock lock(mu);
  if (stop_requested || !started) {
    lock.unlock();
    if (stop_requested) {
      r->Finish(StoppedStatus(), /*cancelled=*/true);
    } else {
      r->Finish(Unavailable("fep: the front end is not started"));
    }
    return;
  }
  std::shared_ptr<Conn> c;
  if (auto it = terminals.find(k.Packed()); it != terminals.end()) c = it->second->conn;
  // Posted while holding mu: Stop() cannot slip between the check and the post, so the
  // io_context runs this handler before its threads finish.
  if (!c) {
    net::post(ioc, [r = std::move(r)]() mutable {
      r->Finish(Unavailable("terminal " + gdw1376::ToString(r->key) + " is not connected"));
    });
    return;
  }
  net::post(c->socket.get_executor(),
            [c, r = std::move(r)]() mutable { c->Enqueue(std::move(r)); });
}

}  // namespace

struct FrontEnd::Impl : Core {
  using Core::Core;
};

// ---- FrontEnd ----

FrontEnd::FrontEnd(FrontEndOptions options, Listener* listener, const Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(options), listener, clock)) {}

FrontEnd::~FrontEnd() = default;

Status FrontEnd::Start() { return impl_->Start(); }

uint16_t FrontEnd::port() const { return impl_->bound_port.load(); }

void FrontEnd::Stop() { impl_->Stop(); }

void FrontEnd::Request(TerminalKey k, gdw1376::Frame request, RequestOptions options,
                       std::function<void(RequestResult)> done) {
  impl_->Request(k, std::move(request), options, std::move(done));
}

RequestResult FrontEnd::RequestSync(TerminalKey k, gdw1376::Frame request, RequestOptions options) {
  if (impl_->OnIoThread()) {
    RequestResult r;
    r.status = FailedPrecondition("fep: RequestSync called from an I/O thread");
    return r;
  }
  std::promise<RequestResult> promise;
  auto future = promise.get_future();
  impl_->Request(k, std::move(request), options,
                 [&promise](RequestResult r) { promise.set_value(std::move(r)); });
  return future.get();
}

std::optional<TerminalState> FrontEnd::State(TerminalKey k) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->terminals.find(k.Packed());
  if (it == impl_->terminals.end()) return std::nullopt;
  const Terminal& t = *it->second;
  TerminalState s;
  s.key = t.key;
  s.online = t.conn != nullptr;
  s.peer = t.peer;
  s.login_at_us = t.login_at_us;
  s.last_seen_us = t.last_seen_us.load();
  s.frames_in = t.frames_in.load();
  s.frames_out = t.frames_out.load();
  s.bad_frames = t.bad_frames.load();
  s.queued_requests = t.queued.load();
  return s;
}

std::vector<TerminalState> FrontEnd::Online() const {
  std::vector<TerminalKey> keys;
  {
    std::lock_guard lock(impl_->mu);
    for (const auto& [packed, t] : impl_->terminals) {
      if (t->conn) keys.push_back(t->key);
    }
  }
  std::sort(keys.begin(), keys.end());
  std::vector<TerminalState> out;
  out.reserve(keys.size());
  for (TerminalKey k : keys) {
    if (auto s = State(k); s && s->online) out.push_back(std::move(*s));
  }
  return out;
}

FrontEndStats FrontEnd::Stats() const {
  const Counters& c = impl_->stats;
  FrontEndStats s;
  s.connections_open = c.connections_open.load();
  s.terminals_online = c.terminals_online.load();
  s.connections_accepted = c.connections_accepted.load();
  s.logins = c.logins.load();
  s.refused_unknown = c.refused_unknown.load();
  s.frames_in = c.frames_in.load();
  s.frames_out = c.frames_out.load();
  s.bytes_in = c.bytes_in.load();
  s.bytes_out = c.bytes_out.load();
  s.bad_frames = c.bad_frames.load();
  s.rate_limited = c.rate_limited.load();
  s.requests = c.requests.load();
  s.request_timeouts = c.request_timeouts.load();
  s.request_retries = c.request_retries.load();
  s.denied = c.denied.load();
  s.reports = c.reports.load();
  return s;
}

std::vector<CommLogEntry> FrontEnd::CommLog(std::optional<TerminalKey> k, size_t limit,
                                            uint64_t before_seq) const {
  return impl_->comm_log.Query(k, limit, before_seq);
}

void FrontEnd::Disconnect(TerminalKey k) {
  std::shared_ptr<Conn> c;
  {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->terminals.find(k.Packed());
    if (it != impl_->terminals.end()) c = it->second->conn;
  }
  if (!c) return;
  net::post(c->socket.get_executor(), [c] { c->Close("disconnected by the master station"); });
}

}  // namespace gridmis::acquisition::fep
