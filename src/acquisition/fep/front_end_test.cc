// The terminal front end over real sockets on 127.0.0.1: test terminals written here with
// blocking POSIX sockets (and one poll() loop driving a thousand of them) speak 1376.1 through
// the codec. Time-outs are short real durations; the FakeClock only stamps events.
#include "acquisition/fep/front_end.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

namespace gridmis::acquisition::fep {
namespace {

using gdw1376::Bytes;
using gdw1376::Frame;
using namespace std::chrono_literals;

constexpr int64_t kT0 = 1'780'000'000'000'000;  // 2026-05-28

TerminalKey Key(uint16_t address) { return TerminalKey{3201, address}; }

// ---- The listener: records what the front end tells the system. ----
class RecordingListener : public Listener {
 public:
  void Know(TerminalKey k) {
    std::lock_guard lock(mu_);
    known_.insert(k.Packed());
  }
  bool IsKnown(TerminalKey k) override {
    std::lock_guard lock(mu_);
    return known_.count(k.Packed()) > 0;
  }
  void OnOnline(TerminalKey k, const std::string& peer, int64_t at_us) override {
    Add("online " + gdw1376::ToString(k), at_us);
    std::lock_guard lock(mu_);
    peers_[k.Packed()] = peer;
  }
  void OnOffline(TerminalKey k, const std::string& reason, int64_t at_us) override {
    Add("offline " + gdw1376::ToString(k) + " " + reason, at_us);
  }
  void OnReport(TerminalKey k, const Frame& f, int64_t at_us) override {
    {
      std::lock_guard lock(mu_);
      reports_.push_back(f);
    }
    Add("report " + gdw1376::ToString(k), at_us);
  }
  void OnEventCounter(TerminalKey k, gdw1376::EventCounter ec, int64_t at_us) override {
    Add("ec " + gdw1376::ToString(k) + " " + std::to_string(ec.important) + " " +
            std::to_string(ec.normal),
        at_us);
  }

  // Waits until `event` has been recorded (true) or `timeout` passed.
  bool WaitFor(const std::string& event, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] {
      return std::find(events_.begin(), events_.end(), event) != events_.end();
    });
  }
  std::vector<std::string> Events() {
    std::lock_guard lock(mu_);
    return events_;
  }
  std::vector<Frame> Reports() {
    std::lock_guard lock(mu_);
    return reports_;
  }
  int64_t LastAt() {
    std::lock_guard lock(mu_);
    return last_at_;
  }

 private:
  void Add(std::string e, int64_t at_us) {
    {
      std::lock_guard lock(mu_);
      events_.push_back(std::move(e));
      last_at_ = at_us;
    }
    cv_.notify_all();
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<uint32_t> known_;
  std::map<uint32_t, std::string> peers_;
  std::vector<std::string> events_;
  std::vector<Frame> reports_;
  int64_t last_at_ = 0;
};

// ---- A test terminal on a blocking socket. ----
class TestTerminal {
 public:
  TestTerminal(uint16_t port, TerminalKey key) : port_(port), key_(key) {}
  ~TestTerminal() { Close(); }
  TestTerminal(const TestTerminal&) = delete;
  TestTerminal& operator=(const TestTerminal&) = delete;

  TerminalKey key() const { return key_; }
  int fd() const { return fd_; }

  bool Connect() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return false;
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port_);
    ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    return ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  bool SendRaw(const Bytes& b) {
    size_t off = 0;
    while (off < b.size()) {
      ssize_t n = ::send(fd_, b.data() + off, b.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }
  static Bytes Wire(const Frame& f) {
    auto w = gdw1376::Encode(f);
    EXPECT_TRUE(w.ok()) << w.status().ToString();
    return w.ok() ? *w : Bytes{};
  }
  bool Send(const Frame& f) { return SendRaw(Wire(f)); }

  // The next whole frame from the front end, decoded; nullopt on time-out or close.
  std::optional<Frame> Recv(std::chrono::milliseconds timeout = 3s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      while (!buf_.empty()) {
        gdw1376::Scan s = gdw1376::ScanFrame(buf_);
        if (s.kind == gdw1376::Scan::kNeedMore) break;
        Bytes frame(buf_.begin(), buf_.begin() + static_cast<ptrdiff_t>(s.length));
        buf_.erase(buf_.begin(), buf_.begin() + static_cast<ptrdiff_t>(s.length));
        if (s.kind == gdw1376::Scan::kSkip) continue;
        auto f = gdw1376::Decode(frame);
        EXPECT_TRUE(f.ok()) << f.status().ToString();
        if (f.ok()) return std::move(*f);
      }
      if (!ReadSome(deadline)) return std::nullopt;
    }
  }
  // True when the front end closed the connection before `timeout` (frames before are read
  // and dropped).
  bool WaitClosed(std::chrono::milliseconds timeout = 3s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (ReadSome(deadline)) buf_.clear();
    return closed_;
  }
  bool closed() const { return closed_; }

  Frame Link(uint16_t fn) { return gdw1376::MakeLink(key_, fn, seq_++); }
  // Logs in and checks the confirm; returns the login frame sent.
  void Login() {
    Frame login = Link(1);
    ASSERT_TRUE(Send(login));
    auto confirm = Recv();
    ASSERT_TRUE(confirm.has_value()) << "no confirm to the login of " << gdw1376::ToString(key_);
    EXPECT_EQ(confirm->afn, gdw1376::kAfnConfirm);
    ASSERT_FALSE(confirm->groups.empty());
    EXPECT_EQ(confirm->groups[0].fns, std::vector<uint16_t>{1});
    EXPECT_EQ(confirm->seq.seq, login.seq.seq);
  }

 private:
  bool ReadSome(std::chrono::steady_clock::time_point deadline) {
    if (fd_ < 0 || closed_) return false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    uint8_t tmp[4096];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    buf_.insert(buf_.end(), tmp, tmp + n);
    return true;
  }

  uint16_t port_;
  TerminalKey key_;
  int fd_ = -1;
  uint8_t seq_ = 0;
  bool closed_ = false;
  Bytes buf_;
};

// Reply builders.
Frame F129Request() {
  auto g = gdw1376::MakeGroup({1}, {129});
  EXPECT_TRUE(g.ok());
  return gdw1376::MakeRequest({}, gdw1376::kAfnClass1, 0, {*g});
}

gdw1376::Group F129Group(int64_t total_dwh) {
  auto g = gdw1376::MakeGroup({1}, {129});
  EXPECT_TRUE(g.ok());
  gdw1376::Indication ind;
  ind.reading_time = {2026, 5, 28, 10, 15};
  ind.rates = 4;
  const Energy zero = Energy::FromDwh(0);
  ind.values = {Energy::FromDwh(total_dwh), zero, zero, zero, Energy::FromDwh(total_dwh)};
  g->items.push_back({1, 129, gdw1376::EncodeIndication(ind, true)});
  return *g;
}

Frame F129Reply(const Frame& request, int64_t total_dwh) {
  return gdw1376::MakeResponse(request, gdw1376::kAfnClass1, {F129Group(total_dwh)});
}

std::optional<Energy> TotalOf(const Frame& reply) {
  const gdw1376::Item* item = reply.Find(129);
  if (!item) return std::nullopt;
  auto ind = gdw1376::DecodeIndication(item->data, true);
  if (!ind.ok() || ind->values.empty()) return std::nullopt;
  return ind->values[0];
}

bool HasNote(const std::vector<CommLogEntry>& log, const std::string& part) {
  return std::any_of(log.begin(), log.end(),
                     [&](const CommLogEntry& e) { return e.note.find(part) != std::string::npos; });
}

// Waits for `pred` to hold (true) or `timeout`.
template <class P>
bool Eventually(P pred, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

// An asynchronous request whose result the test waits for.
class Pending {
 public:
  std::function<void(RequestResult)> Callback() {
    return [this](RequestResult r) {
      std::lock_guard lock(mu_);
      ++calls_;
      result_ = std::move(r);
      cv_.notify_all();
    };
  }
  std::optional<RequestResult> Wait(std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return calls_ > 0; })) return std::nullopt;
    return result_;
  }
  int calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int calls_ = 0;
  RequestResult result_;
};

class FrontEndTest : public ::testing::Test {
 protected:
  void StartFrontEnd(FrontEndOptions o = {}) {
    o.port = 0;
    o.request_timeout =
        o.request_timeout == FrontEndOptions{}.request_timeout ? 2s : o.request_timeout;
    o.refuse_close_delay =
        o.refuse_close_delay == FrontEndOptions{}.refuse_close_delay ? 50ms : o.refuse_close_delay;
    fe_ = std::make_unique<FrontEnd>(o, &listener_, clock_);
    Status s = fe_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_NE(fe_->port(), 0);
  }
  std::unique_ptr<TestTerminal> Terminal(uint16_t address, bool known = true) {
    if (known) listener_.Know(Key(address));
    auto t = std::make_unique<TestTerminal>(fe_->port(), Key(address));
    EXPECT_TRUE(t->Connect());
    return t;
  }
  std::unique_ptr<TestTerminal> LoggedIn(uint16_t address) {
    auto t = Terminal(address);
    t->Login();
    EXPECT_TRUE(listener_.WaitFor("online " + gdw1376::ToString(Key(address))));
    return t;
  }

  FakeClock clock_{kT0};
  RecordingListener listener_;
  std::unique_ptr<FrontEnd> fe_;
};

// ---- Link management ----

TEST_F(FrontEndTest, LoginIsConfirmedAndTheTerminalIsOnline) {
  StartFrontEnd();
  auto t = Terminal(1);
  Frame login = t->Link(1);
  ASSERT_TRUE(t->Send(login));
  auto confirm = t->Recv();
  ASSERT_TRUE(confirm.has_value());
  // AFN00 F1 from the master: DIR 0, PRM 0, MSA 0 (the terminal started it), SEQ echoed.
  EXPECT_EQ(confirm->afn, gdw1376::kAfnConfirm);
  EXPECT_FALSE(confirm->c.up);
  EXPECT_FALSE(confirm->c.prm);
  EXPECT_EQ(confirm->a.terminal, Key(1));
  EXPECT_EQ(confirm->a.msa, 0);
  EXPECT_EQ(confirm->seq.seq, login.seq.seq);
  EXPECT_EQ(confirm->groups.at(0).fns, std::vector<uint16_t>{1});

  ASSERT_TRUE(listener_.WaitFor("online 3201-00001"));
  auto state = fe_->State(Key(1));
  ASSERT_TRUE(state.has_value());
  EXPECT_TRUE(state->online);
  EXPECT_EQ(state->login_at_us, kT0);
  EXPECT_EQ(state->peer.rfind("127.0.0.1:", 0), 0u) << state->peer;
  EXPECT_EQ(state->frames_in, 1u);
  EXPECT_EQ(state->frames_out, 1u);
  auto online = fe_->Online();
  ASSERT_EQ(online.size(), 1u);
  EXPECT_EQ(online[0].key, Key(1));
  FrontEndStats s = fe_->Stats();
  EXPECT_EQ(s.logins, 1u);
  EXPECT_EQ(s.terminals_online, 1u);
  EXPECT_EQ(s.connections_open, 1u);
  EXPECT_EQ(s.frames_in, 1u);
  EXPECT_EQ(s.frames_out, 1u);
  EXPECT_EQ(s.bytes_in, 20u);
  EXPECT_FALSE(fe_->State(Key(2)).has_value());
}

TEST_F(FrontEndTest, UnknownTerminalIsRefusedLoggedAndClosed) {
  StartFrontEnd();
  auto t = Terminal(7, /*known=*/false);
  ASSERT_TRUE(t->Send(t->Link(1)));
  auto deny = t->Recv();
  ASSERT_TRUE(deny.has_value());
  EXPECT_EQ(deny->afn, gdw1376::kAfnConfirm);
  EXPECT_EQ(deny->groups.at(0).fns, std::vector<uint16_t>{2});
  EXPECT_TRUE(t->WaitClosed());
  EXPECT_EQ(fe_->Stats().refused_unknown, 1u);
  EXPECT_EQ(fe_->Stats().logins, 0u);
  EXPECT_FALSE(fe_->State(Key(7)).has_value());
  auto log = fe_->CommLog(Key(7), 10);
  EXPECT_TRUE(HasNote(log, "login refused: unknown terminal 3201-00007"));
  EXPECT_TRUE(Eventually([&] { return fe_->Stats().connections_open == 0; }));
  for (const auto& e : listener_.Events()) EXPECT_EQ(e.find("online"), std::string::npos) << e;
}

TEST_F(FrontEndTest, HeartbeatIsConfirmedAndUpdatesLastSeen) {
  StartFrontEnd();
  auto t = LoggedIn(1);
  clock_.Advance(60 * kMicrosPerSecond);
  Frame hb = t->Link(3);
  ASSERT_TRUE(t->Send(hb));
  auto confirm = t->Recv();
  ASSERT_TRUE(confirm.has_value());
  EXPECT_EQ(confirm->afn, gdw1376::kAfnConfirm);
  EXPECT_EQ(confirm->seq.seq, hb.seq.seq);
  auto state = fe_->State(Key(1));
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->last_seen_us, kT0 + 60 * kMicrosPerSecond);
  EXPECT_EQ(state->login_at_us, kT0);
  EXPECT_TRUE(HasNote(fe_->CommLog(Key(1), 10), "heartbeat confirmed"));
}

TEST_F(FrontEndTest, LogoutIsConfirmedThenOfflineAndClosed) {
  StartFrontEnd();
  auto t = LoggedIn(1);
  ASSERT_TRUE(t->Send(t->Link(2)));
  auto confirm = t->Recv();
  ASSERT_TRUE(confirm.has_value());
  EXPECT_EQ(confirm->afn, gdw1376::kAfnConfirm);
  EXPECT_TRUE(t->WaitClosed());
  ASSERT_TRUE(listener_.WaitFor("offline 3201-00001 logout"));
  EXPECT_FALSE(fe_->State(Key(1))->online);
  EXPECT_TRUE(fe_->Online().empty());
  EXPECT_EQ(fe_->Stats().terminals_online, 0u);
}

TEST_F(FrontEndTest, FramesBeforeTheLoginAreDroppedAndTheLoginTimesOut) {
  FrontEndOptions o;
  o.login_timeout = 300ms;
  StartFrontEnd(o);
  auto t = Terminal(1);
  ASSERT_TRUE(t->Send(t->Link(3)));  // a heartbeat first: not answered
  EXPECT_FALSE(t->Recv(150ms).has_value());
  EXPECT_TRUE(t->WaitClosed(3s));
  EXPECT_TRUE(HasNote(fe_->CommLog(std::nullopt, 20), "no login within 300 ms"));
  EXPECT_TRUE(HasNote(fe_->CommLog(Key(1), 20), "not logged in: AFN02 F3 dropped"));
  EXPECT_EQ(fe_->Stats().bad_frames, 1u);
}

TEST_F(FrontEndTest, AnUnauthenticatedPeerIsClosedAfterTooManyFramesThatAreNotALogin) {
  FrontEndOptions o;
  o.max_bad_frames_in_a_row = 20;
  StartFrontEnd(o);
  auto t = Terminal(1);
  // A data frame before the login is dropped on its header, not decoded.
  Frame report = F129Reply(F129Request(), 5);
  report.c.prm = true;
  report.a.terminal = Key(1);
  ASSERT_TRUE(t->Send(report));
  // Well-formed heartbeats do not reset the count of frames refused in a row.
  for (int i = 0; i < 25; ++i) {
    if (!t->Send(t->Link(3))) break;
  }
  EXPECT_TRUE(t->WaitClosed(3s));
  EXPECT_TRUE(HasNote(fe_->CommLog(std::nullopt, 50), "not logged in: only a login is accepted"));
  EXPECT_GE(fe_->Stats().bad_frames, 20u);
  EXPECT_EQ(fe_->Stats().logins, 0u);
}

TEST_F(FrontEndTest, IdleTerminalGoesOffline) {
  FrontEndOptions o;
  o.idle_timeout = 600ms;
  StartFrontEnd(o);
  auto t = LoggedIn(1);
  // Heartbeats keep it online past the idle time-out...
  for (int i = 0; i < 4; ++i) {
    std::this_thread::sleep_for(200ms);
    ASSERT_TRUE(t->Send(t->Link(3)));
    ASSERT_TRUE(t->Recv().has_value());
  }
  EXPECT_TRUE(fe_->State(Key(1))->online);
  // ...silence does not.
  EXPECT_TRUE(t->WaitClosed(3s));
  ASSERT_TRUE(listener_.WaitFor("offline 3201-00001 idle timeout"));
  EXPECT_FALSE(fe_->State(Key(1))->online);
}

TEST_F(FrontEndTest, ASecondLoginReplacesTheFirstConnection) {
  StartFrontEnd();
  auto first = LoggedIn(1);
  auto second = Terminal(1);
  second->Login();
  EXPECT_TRUE(first->WaitClosed());
  ASSERT_TRUE(listener_.WaitFor("offline 3201-00001 replaced by a new login"));
  // Offline (of the old connection) before online (of the new one), and no second offline.
  EXPECT_TRUE(Eventually([&] { return fe_->Stats().connections_open == 1; }));
  std::vector<std::string> events = listener_.Events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0], "online 3201-00001");
  EXPECT_EQ(events[1], "offline 3201-00001 replaced by a new login");
  EXPECT_EQ(events[2], "online 3201-00001");
  EXPECT_TRUE(fe_->State(Key(1))->online);
  EXPECT_EQ(fe_->Stats().terminals_online, 1u);
  // Requests go to the new connection.
  Pending p;
  fe_->Request(Key(1), F129Request(), {}, p.Callback());
  auto req = second->Recv();
  ASSERT_TRUE(req.has_value());
  ASSERT_TRUE(second->Send(F129Reply(*req, 10000)));
  auto r = p.Wait();
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->status.ok()) << r->status.ToString();
}

TEST_F(FrontEndTest, DisconnectClosesTheTerminalsConnection) {
  StartFrontEnd();
  auto t = LoggedIn(1);
  fe_->Disconnect(Key(1));
  EXPECT_TRUE(t->WaitClosed());
  ASSERT_TRUE(listener_.WaitFor("offline 3201-00001 disconnected by the master station"));
}

// ---- Master requests ----

TEST_F(FrontEndTest, RequestAndReplyAreMatchedBySequence) {
  StartFrontEnd();
  auto t = LoggedIn(1);
  Pending p1, p2;
  fe_->Request(Key(1), F129Request(), {}, p1.Callback());
  fe_->Request(Key(1), F129Request(), {}, p2.Callback());

  auto req = t->Recv();
  ASSERT_TRUE(req.has_value());
  EXPECT_FALSE(req->c.up);
  EXPECT_TRUE(req->c.prm);
  EXPECT_EQ(req->c.func, 11);
  EXPECT_EQ(req->a.terminal, Key(1));
  EXPECT_EQ(req->a.msa, 1);
  EXPECT_EQ(req->afn, gdw1376::kAfnClass1);
  const uint8_t pseq = req->seq.seq;
  // One outstanding request per terminal: the second waits for the first's answer.
  EXPECT_FALSE(t->Recv(200ms).has_value());
  EXPECT_EQ(fe_->State(Key(1))->queued_requests, 2u);

  // A reply with another RSEQ does not match; the right one does.
  Frame wrong = F129Reply(*req, 1);
  wrong.seq.seq = (pseq + 5) & 0x0F;
  ASSERT_TRUE(t->Send(wrong));
  ASSERT_TRUE(t->Send(F129Reply(*req, 123456)));
  auto r1 = p1.Wait();
  ASSERT_TRUE(r1.has_value());
  ASSERT_TRUE(r1->status.ok()) << r1->status.ToString();
  EXPECT_EQ(r1->attempts, 1);
  ASSERT_EQ(r1->replies.size(), 1u);
  EXPECT_EQ(TotalOf(r1->replies[0]), Energy::FromDwh(123456));
  EXPECT_GT(r1->round_trip_us, 0);
  EXPECT_TRUE(HasNote(fe_->CommLog(Key(1), 20), "unexpected reply"));

  // Then the second request, with the next PSEQ.
  auto req2 = t->Recv();
  ASSERT_TRUE(req2.has_value());
  EXPECT_EQ(req2->seq.seq, (pseq + 1) & 0x0F);
  Frame reply2 = F129Reply(*req2, 7);
  reply2.c.fcb_acd = true;  // ACD on a reply: the event counters go to the listener too
  reply2.ec = gdw1376::EventCounter{1, 2};
  ASSERT_TRUE(t->Send(reply2));
  auto r2 = p2.Wait();
  ASSERT_TRUE(r2.has_value());
  ASSERT_TRUE(r2->status.ok());
  EXPECT_EQ(TotalOf(r2->replies.at(0)), Energy::FromDwh(7));
  EXPECT_TRUE(listener_.WaitFor("ec 3201-00001 1 2"));
  EXPECT_EQ(p1.calls(), 1);
  EXPECT_EQ(p2.calls(), 1);
  EXPECT_EQ(fe_->State(Key(1))->queued_requests, 0u);
  EXPECT_EQ(fe_->Stats().requests, 2u);
}

TEST_F(FrontEndTest, TimeTagOnRequestsCarriesThePfcAndLocalSendTime) {
  FrontEndOptions o;
  o.tp_on_requests = true;
  o.tp_delay_minutes = 5;
  StartFrontEnd(o);
  auto t = LoggedIn(1);
  for (uint8_t pfc = 0; pfc < 2; ++pfc) {
    Pending p;
    fe_->Request(Key(1), F129Request(), {}, p.Callback());
    auto req = t->Recv();
    ASSERT_TRUE(req.has_value());
    ASSERT_TRUE(req->tp.has_value());
    EXPECT_TRUE(req->seq.tpv);
    EXPECT_EQ(req->tp->pfc, pfc);
    EXPECT_EQ(req->seq.seq, pfc);  // PSEQ = PFC mod 16
    // kT0 is 2026-05-29 04:26:40 in Asia/Shanghai.
    EXPECT_EQ(req->tp->day, 29);
    EXPECT_EQ(req->tp->hour, 4);
    EXPECT_EQ(req->tp->minute, 26);
    EXPECT_EQ(req->tp->second, 40);
    EXPECT_EQ(req->tp->delay_minutes, 5);
    ASSERT_TRUE(t->Send(F129Reply(*req, 1)));  // the Tp echoed
    auto r = p.Wait();
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->status.ok()) << r->status.ToString();
  }
}

TEST_F(FrontEndTest, StartFailsOnAnUnknownTimeZoneOrATakenPort) {
  FrontEndOptions o;
  o.tp_on_requests = true;
  o.time_zone = "Mars/Olympus";
  FrontEnd bad(o, &listener_, clock_);
  EXPECT_EQ(bad.Start().code(), StatusCode::kInvalidArgument);

  StartFrontEnd();
  FrontEndOptions taken;
  taken.port = fe_->port();
  FrontEnd second(taken, &listener_, clock_);
  Status s = second.Start();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_EQ(fe_->Start().code(), StatusCode::kFailedPrecondition);  // started twice
}

TEST_F(FrontEndTest, RequestSyncToAnOfflineTerminalIsUnavailable) {
  StartFrontEnd();
  RequestResult r = fe_->RequestSync(Key(9), F129Request());
  EXPECT_EQ(r.status.code(), StatusCode::kUnavailable);
  EXPECT_FALSE(r.cancelled);
  EXPECT_EQ(r.attempts, 0);
}

TEST_F(FrontEndTest, SilentFirstAttemptIsRetriedWithTheSamePseq) {
  StartFrontEnd();
  auto t = LoggedIn(1);
  Pending p;
  fe_->Request(Key(1), F129Request(), {.timeout = 500ms, .retries = 2}, p.Callback());
  auto first = t->Recv();
  ASSERT_TRUE(first.has_value());
  auto second = t->Recv(3s);  // the retry, after 500 ms of silence
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->seq.seq, first->seq.seq);
  ASSERT_TRUE(t->Send(F129Reply(*second, 42)));
  auto r = p.Wait();
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->status.ok()) << r->status.ToString();
  EXPECT_EQ(r->attempts, 2);
  EXPECT_EQ(fe_->Stats().request_retries, 1u);
  EXPECT_EQ(fe_->Stats().request_timeouts, 0u);
  EXPECT_TRUE(HasNote(fe_->CommLog(Key(1), 20), "time-out: retry 1"));
}

TEST_F(FrontEndTest, NoAnswerAfterEveryAttemptIsDeadlineExceededAndALateReplyIsDropped) {
  StartFrontEnd();
  auto t = LoggedIn(1);
  Pending p;
  fe_->Request(Key(1), F129Request(), {.timeout = 100ms, .retries = 1}, p.Callback());
  auto req = t->Recv();
  ASSERT_TRUE(req.has_value());
  auto r = p.Wait();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status.code(), StatusCode::kDeadlineExceeded) << r->status.ToString();
  EXPECT_EQ(r->attempts, 2);
  EXPECT_EQ(fe_->Stats().request_timeouts, 1u);
  // The answer arrives late: logged and dropped, nothing else happens.
  ASSERT_TRUE(t->Send(F129Reply(*req, 5)));
  EXPECT_TRUE(Eventually([&] { return HasNote(fe_->CommLog(Key(1), 20), "late reply"); }));
  EXPECT_EQ(p.calls(), 1);
  EXPECT_TRUE(fe_->State(Key(1))->online);
}

TEST_F(FrontEndTest, DenyIsFailedPrecondition) {
  StartFrontEnd();
  auto t = LoggedIn(1);
  Pending p;
  fe_->Request(Key(1), F129Request(), {}, p.Callback());
  auto req = t->Recv();
  ASSERT_TRUE(req.has_value());
  Frame deny = gdw1376::MakeDeny(*req);
  EXPECT_TRUE(deny.c.up);
  ASSERT_TRUE(t->Send(deny));
  auto r = p.Wait();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status.code(), StatusCode::kFailedPrecondition) << r->status.ToString();
  ASSERT_EQ(r->replies.size(), 1u);
  EXPECT_EQ(r->replies[0].afn, gdw1376::kAfnConfirm);
  EXPECT_EQ(fe_->Stats().denied, 1u);
}

TEST_F(FrontEndTest, ConfirmAnswersACommand) {
  StartFrontEnd();
  auto t = LoggedIn(1);
  auto g = gdw1376::MakeGroup({1}, {2});  // AFN05 F2 permit close, round 1
  ASSERT_TRUE(g.ok());
  Frame cmd = gdw1376::MakeRequest({}, gdw1376::kAfnControl, 0, {*g});
  Pending p;
  fe_->Request(Key(1), cmd, {}, p.Callback());
  auto req = t->Recv();
  ASSERT_TRUE(req.has_value());
  EXPECT_EQ(req->afn, gdw1376::kAfnControl);
  EXPECT_TRUE(req->pw.has_value());
  EXPECT_TRUE(req->seq.con);
  ASSERT_TRUE(t->Send(gdw1376::MakeConfirm(*req)));
  auto r = p.Wait();
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->status.ok()) << r->status.ToString();
  ASSERT_EQ(r->replies.size(), 1u);
  EXPECT_EQ(r->replies[0].groups.at(0).fns, std::vector<uint16_t>{1});
}

TEST_F(FrontEndTest, MultiFrameReplyIsCollectedUntilFin) {
  StartFrontEnd();
  auto t = LoggedIn(1);
  Pending p;
  fe_->Request(Key(1), F129Request(), {}, p.Callback());
  auto req = t->Recv();
  ASSERT_TRUE(req.has_value());
  for (int i = 0; i < 3; ++i) {
    Frame part = F129Reply(*req, 100 + i);
    part.seq.fir = i == 0;
    part.seq.fin = i == 2;
    part.seq.seq = (req->seq.seq + i) & 0x0F;  // RSEQ counts up from the PSEQ
    ASSERT_TRUE(t->Send(part));
    if (i < 2) {
      EXPECT_EQ(p.calls(), 0);
    }
    std::this_thread::sleep_for(20ms);
  }
  auto r = p.Wait();
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->status.ok()) << r->status.ToString();
  ASSERT_EQ(r->replies.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(TotalOf(r->replies[i]), Energy::FromDwh(100 + i));

  // A single reply flagged FIR=0 FIN=1 (seen in real captures) is accepted.
  Pending p2;
  fe_->Request(Key(1), F129Request(), {}, p2.Callback());
  auto req2 = t->Recv();
  ASSERT_TRUE(req2.has_value());
  Frame odd = F129Reply(*req2, 9);
  odd.seq.fir = false;
  ASSERT_TRUE(t->Send(odd));
  auto r2 = p2.Wait();
  ASSERT_TRUE(r2.has_value());
  EXPECT_TRUE(r2->status.ok());
  EXPECT_EQ(r2->replies.size(), 1u);
}

TEST_F(FrontEndTest, AReplyThatNeverEndsFailsTheRequestAndClosesTheConnection) {
  StartFrontEnd();
  auto t = LoggedIn(1);
  Pending p;
  fe_->Request(Key(1), F129Request(), {}, p.Callback());
  auto req = t->Recv();
  ASSERT_TRUE(req.has_value());
  for (int i = 0; i < 300; ++i) {
    Frame part = F129Reply(*req, i);
    part.seq.fir = i == 0;
    part.seq.fin = false;
    part.seq.seq = req->seq.seq;
    if (!t->Send(part)) break;
  }
  auto r = p.Wait();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status.code(), StatusCode::kResourceExhausted) << r->status.ToString();
  EXPECT_NE(r->status.message().find("without FIN"), std::string::npos);
  EXPECT_TRUE(t->WaitClosed(3s));
}

TEST_F(FrontEndTest, ConnectionDropFailsTheRequestsWithUnavailable) {
  StartFrontEnd();
  auto t = LoggedIn(1);
  Pending p1, p2;
  fe_->Request(Key(1), F129Request(), {.timeout = 10s}, p1.Callback());
  fe_->Request(Key(1), F129Request(), {.timeout = 10s}, p2.Callback());
  ASSERT_TRUE(t->Recv().has_value());
  t->Close();
  for (Pending* p : {&p1, &p2}) {
    auto r = p->Wait();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status.code(), StatusCode::kUnavailable) << r->status.ToString();
    EXPECT_FALSE(r->cancelled);
  }
  ASSERT_TRUE(listener_.WaitFor("offline 3201-00001 connection closed"));
}

TEST_F(FrontEndTest, StopWithRequestsInFlightCancelsThemWithoutHanging) {
  StartFrontEnd();
  auto silent = LoggedIn(1);
  std::vector<std::unique_ptr<Pending>> pending;
  for (int i = 0; i < 5; ++i) {
    pending.push_back(std::make_unique<Pending>());
    fe_->Request(Key(1), F129Request(), {.timeout = 60s}, pending.back()->Callback());
  }
  ASSERT_TRUE(silent->Recv().has_value());  // the first is on the wire
  const auto t0 = std::chrono::steady_clock::now();
  fe_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);  // no hang
  for (auto& p : pending) {
    EXPECT_EQ(p->calls(), 1);
    auto r = p->Wait(0ms);
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->cancelled);
    EXPECT_EQ(r->status.code(), StatusCode::kUnavailable);
    EXPECT_EQ(r->status.message(), "front end stopped");
  }
  EXPECT_TRUE(silent->WaitClosed());
  EXPECT_TRUE(listener_.WaitFor("offline 3201-00001 front end stopped", 0ms));
  // After Stop: cancelled at once, and Stop again is harmless.
  Pending after;
  fe_->Request(Key(1), F129Request(), {}, after.Callback());
  auto r = after.Wait(0ms);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->cancelled);
  fe_->Stop();
  EXPECT_EQ(fe_->Stats().connections_open, 0u);
}

// ---- Frames the terminal starts ----

TEST_F(FrontEndTest, ActiveReportIsConfirmedAndPassedOn) {
  StartFrontEnd();
  auto t = LoggedIn(1);
  Frame report;
  report.c.up = true;
  report.c.prm = true;
  report.c.func = 4;
  report.c.fcb_acd = true;  // important events waiting: EC present
  report.a.terminal = Key(1);
  report.afn = gdw1376::kAfnClass1;
  report.seq.con = true;
  report.seq.seq = 6;
  report.groups = {F129Group(555)};
  report.ec = gdw1376::EventCounter{3, 9};
  ASSERT_TRUE(t->Send(report));
  auto confirm = t->Recv();
  ASSERT_TRUE(confirm.has_value());
  EXPECT_EQ(confirm->afn, gdw1376::kAfnConfirm);
  EXPECT_EQ(confirm->seq.seq, 6);
  ASSERT_TRUE(listener_.WaitFor("report 3201-00001"));
  ASSERT_TRUE(listener_.WaitFor("ec 3201-00001 3 9"));
  auto reports = listener_.Reports();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(TotalOf(reports[0]), Energy::FromDwh(555));
  EXPECT_EQ(fe_->Stats().reports, 1u);

  // Without CON: passed on, not confirmed.
  report.seq.con = false;
  report.c.fcb_acd = false;
  report.ec.reset();
  report.seq.seq = 7;
  ASSERT_TRUE(t->Send(report));
  EXPECT_TRUE(Eventually([&] { return fe_->Stats().reports == 2; }));
  EXPECT_FALSE(t->Recv(200ms).has_value());
}

// ---- Protection ----

TEST_F(FrontEndTest, FramesOverTheMaximumLengthAreDropped) {
  FrontEndOptions o;
  o.max_frame_bytes = 64;
  StartFrontEnd(o);
  auto t = LoggedIn(1);
  Frame big = t->Link(3);
  big.afn = gdw1376::kAfnClass1;
  big.c.func = 4;
  big.seq.con = false;
  big.groups = {F129Group(1), F129Group(2)};  // 14 + 2 × 35 + 2 > 64 bytes
  Bytes wire = TestTerminal::Wire(big);
  ASSERT_GT(wire.size(), 64u);
  Bytes stream = wire;
  Bytes hb = TestTerminal::Wire(t->Link(3));
  stream.insert(stream.end(), hb.begin(), hb.end());
  ASSERT_TRUE(t->SendRaw(stream));
  auto confirm = t->Recv();  // the heartbeat after it still gets through
  ASSERT_TRUE(confirm.has_value());
  EXPECT_EQ(confirm->afn, gdw1376::kAfnConfirm);
  EXPECT_GE(fe_->Stats().bad_frames, 1u);
  EXPECT_EQ(fe_->Stats().reports, 0u);
  EXPECT_TRUE(HasNote(fe_->CommLog(Key(1), 50), "too long"));
}

TEST_F(FrontEndTest, GarbageAndBadChecksumsAreCountedAndTheConnectionResynchronises) {
  StartFrontEnd();
  auto t = LoggedIn(1);
  Bytes stream = {0x00, 0x01, 0x02, 0xFF, 0x16};  // no 68H
  Bytes bad = TestTerminal::Wire(t->Link(3));
  bad[bad.size() - 2] ^= 0x5A;  // checksum
  stream.insert(stream.end(), bad.begin(), bad.end());
  Frame hb = t->Link(3);
  Bytes good = TestTerminal::Wire(hb);
  // The good frame split across two writes.
  stream.insert(stream.end(), good.begin(), good.begin() + 7);
  ASSERT_TRUE(t->SendRaw(stream));
  std::this_thread::sleep_for(50ms);
  ASSERT_TRUE(t->SendRaw(Bytes(good.begin() + 7, good.end())));
  auto confirm = t->Recv();
  ASSERT_TRUE(confirm.has_value());
  EXPECT_EQ(confirm->seq.seq, hb.seq.seq);
  EXPECT_GE(fe_->Stats().bad_frames, 2u);
  EXPECT_GE(fe_->State(Key(1))->bad_frames, 2u);
  auto log = fe_->CommLog(Key(1), 50);
  EXPECT_TRUE(HasNote(log, "checksum"));
  EXPECT_TRUE(HasNote(log, "no 68H"));
  // The dropped bytes are in the log.
  auto it = std::find_if(log.begin(), log.end(), [](const CommLogEntry& e) {
    return e.note.find("no 68H") != std::string::npos;
  });
  ASSERT_NE(it, log.end());
  EXPECT_EQ(it->bytes, (Bytes{0x00, 0x01, 0x02, 0xFF, 0x16}));
  EXPECT_TRUE(fe_->State(Key(1))->online);
}

TEST_F(FrontEndTest, TooManyBadFramesInARowCloseTheConnection) {
  FrontEndOptions o;
  o.max_bad_frames_in_a_row = 5;
  StartFrontEnd(o);
  auto t = LoggedIn(1);
  Bytes junk;
  for (int i = 0; i < 10; ++i) junk.insert(junk.end(), {0x68, 0x00, 0x11});  // protocol id 00
  ASSERT_TRUE(t->SendRaw(junk));
  EXPECT_TRUE(t->WaitClosed());
  ASSERT_TRUE(listener_.WaitFor("offline 3201-00001 too many bad frames in a row"));
  EXPECT_EQ(fe_->Stats().bad_frames, 5u);
}

TEST_F(FrontEndTest, RateLimitDropsFramesOverTheBucket) {
  FrontEndOptions o;
  o.max_frames_per_second = 2;
  o.burst_frames = 5;
  StartFrontEnd(o);
  auto t = LoggedIn(1);  // the login took one token
  Bytes burst;
  for (int i = 0; i < 20; ++i) {
    Bytes hb = TestTerminal::Wire(t->Link(3));
    burst.insert(burst.end(), hb.begin(), hb.end());
  }
  ASSERT_TRUE(t->SendRaw(burst));
  int confirms = 0;
  while (t->Recv(300ms)) ++confirms;
  EXPECT_GE(confirms, 4);
  EXPECT_LE(confirms, 6);  // 4 tokens left, maybe one refilled
  EXPECT_GE(fe_->Stats().rate_limited, 14u);
  EXPECT_EQ(fe_->Stats().frames_in, 21u);
  EXPECT_TRUE(HasNote(fe_->CommLog(Key(1), 50), "rate limited"));
  // The bucket refills.
  std::this_thread::sleep_for(1100ms);
  ASSERT_TRUE(t->Send(t->Link(3)));
  EXPECT_TRUE(t->Recv().has_value());
}

TEST_F(FrontEndTest, CommLogIsPerTerminalNewestFirstAndPages) {
  StartFrontEnd();
  auto a = LoggedIn(1);
  auto b = LoggedIn(2);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(a->Send(a->Link(3)));
    ASSERT_TRUE(a->Recv().has_value());
  }
  auto all = fe_->CommLog(std::nullopt, 100);
  auto of_a = fe_->CommLog(Key(1), 100);
  auto of_b = fe_->CommLog(Key(2), 100);
  EXPECT_EQ(of_a.size(), 8u);  // login + confirm + 3 × (heartbeat + confirm)
  EXPECT_EQ(of_b.size(), 2u);
  EXPECT_EQ(all.size(), 10u);
  for (size_t i = 1; i < all.size(); ++i) EXPECT_GT(all[i - 1].seq, all[i].seq);
  EXPECT_TRUE(of_a[0].inbound == false);  // the newest: the last confirm
  EXPECT_EQ(of_a.back().note, "login");
  EXPECT_EQ(of_a.back().bytes.size(), 20u);
  auto page = fe_->CommLog(Key(1), 3, of_a[2].seq);
  ASSERT_EQ(page.size(), 3u);
  EXPECT_EQ(page[0].seq, of_a[3].seq);
}

TEST_F(FrontEndTest, CommLogIsARing) {
  FrontEndOptions o;
  o.comm_log_frames = 4;
  StartFrontEnd(o);
  auto a = LoggedIn(1);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(a->Send(a->Link(3)));
    ASSERT_TRUE(a->Recv().has_value());
  }
  auto all = fe_->CommLog(std::nullopt, 100);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].seq, 8u);
  EXPECT_EQ(all[3].seq, 5u);
}

// Two io threads, requests from several threads, logins replacing each other and
// disconnections at the same time: every request is answered exactly once, nothing hangs.
TEST_F(FrontEndTest, ConcurrentRequestsReloginsAndDisconnectsOnTwoIoThreads) {
  FrontEndOptions o;
  o.io_threads = 2;
  o.request_timeout = 300ms;
  o.retries = 0;
  StartFrontEnd(o);
  constexpr int kTerminals = 20;
  std::vector<std::unique_ptr<TestTerminal>> terms;
  for (int i = 0; i < kTerminals; ++i) terms.push_back(LoggedIn(static_cast<uint16_t>(10 + i)));

  std::atomic<bool> stop{false};
  // Each terminal answers requests on its own thread.
  std::vector<std::thread> answerers;
  for (auto& t : terms) {
    answerers.emplace_back([&stop, term = t.get()] {
      while (!stop) {
        auto f = term->Recv(20ms);
        if (f && f->afn == gdw1376::kAfnClass1) term->Send(F129Reply(*f, 1));
      }
    });
  }
  std::atomic<int> done{0}, ok{0};
  constexpr int kCallers = 4, kPerCaller = 100;
  std::vector<std::thread> callers;
  for (int c = 0; c < kCallers; ++c) {
    callers.emplace_back([&, c] {
      for (int i = 0; i < kPerCaller; ++i) {
        const auto k = Key(static_cast<uint16_t>(10 + (i * kCallers + c) % kTerminals));
        fe_->Request(k, F129Request(), {}, [&](RequestResult r) {
          if (r.status.ok()) ok.fetch_add(1);
          done.fetch_add(1);
        });
        if (i % 10 == 0) {
          (void)fe_->State(k);
          (void)fe_->Online();
          (void)fe_->CommLog(k, 5);
        }
      }
    });
  }
  // Meanwhile: a new login of terminal 10 (replacing its connection) and a disconnect of 11.
  auto relogin = Terminal(10);
  relogin->Login();
  fe_->Disconnect(Key(11));
  for (auto& t : callers) t.join();
  EXPECT_TRUE(Eventually([&] { return done.load() == kCallers * kPerCaller; }, 20s)) << done.load();
  stop = true;
  for (auto& t : answerers) t.join();
  fe_->Stop();
  EXPECT_EQ(done.load(), kCallers * kPerCaller);
  // Terminals 10 (replaced: its requests fail or time out) and 11 (disconnected) aside, the
  // others answer: most requests succeed.
  EXPECT_GT(ok.load(), kCallers * kPerCaller / 2);
}

// ---- A terminal sending garbage does not disturb a thousand healthy ones. ----

// Drives many terminals on non-blocking sockets with one poll() loop: each logs in, then
// answers every AFN0C F129 request with its own address as the total register.
class Fleet {
 public:
  Fleet(uint16_t port, int n) {
    for (int i = 0; i < n; ++i) {
      auto t = std::make_unique<TestTerminal>(port, Key(static_cast<uint16_t>(1000 + i)));
      EXPECT_TRUE(t->Connect());
      terminals_.push_back(std::move(t));
      bufs_.emplace_back();
    }
  }
  std::vector<TerminalKey> Keys() const {
    std::vector<TerminalKey> k;
    for (auto& t : terminals_) k.push_back(t->key());
    return k;
  }
  void Run(const std::atomic<bool>& stop) {
    for (auto& t : terminals_) EXPECT_TRUE(t->Send(t->Link(1)));
    std::vector<pollfd> fds;
    for (auto& t : terminals_) fds.push_back({t->fd(), POLLIN, 0});
    while (!stop) {
      int n = ::poll(fds.data(), fds.size(), 50);
      if (n <= 0) continue;
      for (size_t i = 0; i < fds.size(); ++i) {
        if (!(fds[i].revents & POLLIN)) continue;
        uint8_t tmp[4096];
        ssize_t got = ::recv(fds[i].fd, tmp, sizeof tmp, MSG_DONTWAIT);
        if (got <= 0) {
          fds[i].events = 0;  // closed: a healthy terminal should never see this
          closed_++;
          continue;
        }
        Bytes& buf = bufs_[i];
        buf.insert(buf.end(), tmp, tmp + got);
        for (;;) {
          gdw1376::Scan s = gdw1376::ScanFrame(buf);
          if (s.kind == gdw1376::Scan::kNeedMore) break;
          Bytes frame(buf.begin(), buf.begin() + static_cast<ptrdiff_t>(s.length));
          buf.erase(buf.begin(), buf.begin() + static_cast<ptrdiff_t>(s.length));
          if (s.kind == gdw1376::Scan::kSkip) continue;
          auto f = gdw1376::Decode(frame);
          if (!f.ok() || f->afn != gdw1376::kAfnClass1) continue;
          terminals_[i]->Send(F129Reply(*f, 1000 + static_cast<int64_t>(i)));
        }
      }
    }
  }
  int closed() const { return closed_; }

 private:
  std::vector<std::unique_ptr<TestTerminal>> terminals_;
  std::vector<Bytes> bufs_;
  int closed_ = 0;
};

TEST_F(FrontEndTest, AGarbageFloodDoesNotDisturbAThousandHealthyTerminals) {
  constexpr int kHealthy = 1000;
  FrontEndOptions o;
  o.request_timeout = 10s;
  o.retries = 0;
  o.comm_log_frames = 5000;
  o.io_threads = 2;  // strands and shared state under two threads (run under TSan too)
  StartFrontEnd(o);
  for (int i = 0; i < kHealthy; ++i) listener_.Know(Key(static_cast<uint16_t>(1000 + i)));
  listener_.Know(Key(1));

  // The flooder logs in, then sends random bytes (with many 68H in them) as fast as it can,
  // reconnecting each time the front end throws it out.
  std::atomic<bool> stop{false};
  std::atomic<int> flood_connections{0};
  std::thread flooder([&] {
    std::mt19937 rng(42);
    Bytes junk(8192);
    while (!stop) {
      TestTerminal f(fe_->port(), Key(1));
      if (!f.Connect()) continue;
      ++flood_connections;
      f.Send(f.Link(1));
      while (!stop) {
        for (auto& b : junk) b = static_cast<uint8_t>(rng() % 4 == 0 ? 0x68 : rng());
        if (!f.SendRaw(junk)) break;
      }
    }
  });

  // A silent terminal with a request waiting for its (long) time-out.
  listener_.Know(Key(2));
  auto silent = LoggedIn(2);
  Pending silent_request;
  fe_->Request(Key(2), F129Request(), {.timeout = 30s}, silent_request.Callback());

  Fleet fleet(fe_->port(), kHealthy);
  std::thread driver([&] { fleet.Run(stop); });
  const auto keys = fleet.Keys();
  auto all_online = [&] {
    for (TerminalKey k : keys) {
      auto st = fe_->State(k);
      if (!st || !st->online) return false;
    }
    return true;
  };
  ASSERT_TRUE(Eventually(all_online, 60s)) << fe_->Stats().logins;

  std::mutex mu;
  std::condition_variable cv;
  int answered = 0, ok = 0, right_value = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    fe_->Request(keys[i], F129Request(), {}, [&, i](RequestResult r) {
      std::lock_guard lock(mu);
      ++answered;
      if (r.status.ok()) {
        ++ok;
        if (!r.replies.empty() &&
            TotalOf(r.replies[0]) == Energy::FromDwh(1000 + static_cast<int64_t>(i))) {
          ++right_value;
        }
      }
      cv.notify_all();
    });
  }
  {
    std::unique_lock lock(mu);
    cv.wait_for(lock, 60s, [&] { return answered == kHealthy; });
  }
  stop = true;
  driver.join();
  flooder.join();
  std::lock_guard lock(mu);
  EXPECT_EQ(answered, kHealthy);
  EXPECT_EQ(ok, kHealthy);
  EXPECT_EQ(right_value, kHealthy);
  EXPECT_EQ(fleet.closed(), 0);
  FrontEndStats s = fe_->Stats();
  std::printf("flood: %d connection(s), %llu bad frames, %llu bytes in; %d healthy answered\n",
              flood_connections.load(), static_cast<unsigned long long>(s.bad_frames),
              static_cast<unsigned long long>(s.bytes_in), ok);
  EXPECT_GT(s.bad_frames, 20u);
  EXPECT_GE(flood_connections.load(), 1);
  EXPECT_EQ(s.request_timeouts, 0u);
  EXPECT_EQ(silent_request.calls(), 0);  // still waiting, and it held nobody up
  fe_->Stop();                           // before the locals its callbacks use go
  EXPECT_EQ(silent_request.calls(), 1);
}

}  // namespace
}  // namespace gridmis::acquisition::fep
