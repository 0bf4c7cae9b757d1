// The simulated terminals: protocol behaviour (what a terminal answers, pure apart from its own
// state) and the Asio client side (one coroutine per terminal on its own strand, all on the
// fleet's few I/O threads; no thread per terminal).
//
// Shape of a terminal's coroutine (Run):
//   ramp delay → connect (10 s time-out) → Session → back-off (1 s doubling to 60 s, ±25 %)
//   → connect again ... until Stop.
// Session: login (AFN02 F1, CON) → reads with a deadline (the next heartbeat, login retry or
// fault drop); a timer cancels the read at the deadline; frames from the master are answered
// in order from the same coroutine (one writer, no write queue races); Stop, RaisePowerOff and
// the deadline wake the coroutine by cancelling the pending read on its strand.

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include "acquisition/simulator/simulator.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "acquisition/protocol/dlt645.h"

namespace gridmis::acquisition::simulator {

namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using gdw1376::Bytes;
using gdw1376::Frame;
using gdw1376::Group;
using gdw1376::Item;
using gdw1376::TerminalKey;
using SteadyClock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr uint16_t kAllPoints = 0xFFFF;
constexpr size_t kReadChunk = 512;

uint64_t Mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
uint64_t Hash(uint64_t a, uint64_t b) { return Mix(a ^ Mix(b ^ 0x2545F4914F6CDD1Dull)); }
// A deterministic draw in [0, 1).
double Unit(uint64_t h) { return static_cast<double>(h >> 11) * (1.0 / 9007199254740992.0); }

// A splitmix64 stream: small and good enough for fault draws.
struct SmallRng {
  uint64_t state = 0;
  uint64_t Next() { return Mix(state++); }
  double Unit() { return static_cast<double>(Next() >> 11) * (1.0 / 9007199254740992.0); }
  uint64_t Below(uint64_t n) { return n == 0 ? 0 : Next() % n; }
};

// ---- Time and BCD helpers ----

uint8_t Bcd(int v) { return static_cast<uint8_t>(((v / 10) % 10) << 4 | (v % 10)); }
int FromBcd(uint8_t b) {
  int hi = b >> 4, lo = b & 0x0F;
  if (hi > 9 || lo > 9) return -1;
  return hi * 10 + lo;
}
// Little-endian BCD of `value` in `bytes` bytes.
void PutBcd(Bytes& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) {
    out.push_back(Bcd(static_cast<int>(value % 100)));
    value /= 100;
  }
}

struct Civil {
  Date date;
  int hour = 0, minute = 0, second = 0;
};
Civil CivilOf(const TimeZone& tz, int64_t at_us) {
  Civil c;
  c.date = tz.LocalDate(at_us);
  int64_t secs = (at_us - tz.StartOfDay(c.date)) / kMicrosPerSecond;
  secs = std::clamp<int64_t>(secs, 0, 86'399);
  c.hour = static_cast<int>(secs / 3600);
  c.minute = static_cast<int>(secs / 60 % 60);
  c.second = static_cast<int>(secs % 60);
  return c;
}
gdw1376::MinuteTime MinuteOf(const TimeZone& tz, int64_t at_us) {
  Civil c = CivilOf(tz, at_us);
  return {c.date.year, c.date.month, c.date.day, c.hour, c.minute};
}
std::optional<int64_t> InstantOf(const TimeZone& tz, int y, int mo, int d, int h, int mi, int s) {
  if (mo < 1 || mo > 12 || d < 1 || d > DaysInMonth(y, mo) || h < 0 || h > 23 || mi < 0 ||
      mi > 59 || s < 0 || s > 59) {
    return std::nullopt;
  }
  return tz.StartOfDay(Date{y, mo, d}) + ((int64_t{h} * 60 + mi) * 60 + s) * kMicrosPerSecond;
}
// ---- Stored events ----

struct StoredEvent {
  uint8_t erc = 0;
  Bytes content;
};

// An event ring of the last 256 records with the counter EC (mod 256) as in 1376.1.
struct EventRing {
  std::vector<StoredEvent> records;  // the newest last; at most 256 (events are rare)
  uint64_t count = 0;                // records ever added
  void Add(StoredEvent e) {
    records.push_back(std::move(e));
    if (records.size() > 256) records.erase(records.begin());
    ++count;
  }
  uint8_t ec() const { return static_cast<uint8_t>(count % 256); }
  // The records with pointers Pm <= p < Pn (mod 256, Pm > Pn wraps), oldest first.
  std::vector<std::pair<uint8_t, const StoredEvent*>> Range(uint8_t pm, uint8_t pn) const {
    std::vector<std::pair<uint8_t, const StoredEvent*>> out;
    int n = pn >= pm ? pn - pm : 256 + pn - pm;
    uint64_t first_kept = count - records.size();
    for (int i = 0; i < n; ++i) {
      uint8_t p = static_cast<uint8_t>(pm + i);
      if (count == 0) break;
      // The newest absolute index a < count with a % 256 == p.
      uint64_t last = count - 1;
      uint64_t back = (static_cast<uint64_t>(static_cast<uint8_t>(last)) + 256 - p) % 256;
      if (back > last) continue;
      uint64_t a = last - back;
      if (a < first_kept) continue;
      out.emplace_back(p, &records[static_cast<size_t>(a - first_kept)]);
    }
    return out;
  }
};

}  // namespace

// ---- One simulated terminal ----

struct Term {
  using Strand = net::strand<net::io_context::executor_type>;
  Term(net::io_context& ioc, SimTerminal c, const TimeZone* tz)
      : cfg(std::move(c)), strand(net::make_strand(ioc)), sock(strand), timer(strand) {
    std::sort(cfg.meters.begin(), cfg.meters.end(),
              [](const SimMeter& a, const SimMeter& b) { return a.pn < b.pn; });
    models.reserve(cfg.meters.size());
    for (const auto& m : cfg.meters) models.emplace_back(m, cfg.kind, tz);
    relay_open.assign(cfg.meters.size(), 0);
    last_trip_us.assign(cfg.meters.size(), 0);
    last_close_us.assign(cfg.meters.size(), 0);
  }
  // Index of the meter with this Pn, or -1.
  int IndexOfPn(uint16_t pn) const {
    auto it = std::lower_bound(cfg.meters.begin(), cfg.meters.end(), pn,
                               [](const SimMeter& m, uint16_t p) { return m.pn < p; });
    if (it == cfg.meters.end() || it->pn != pn) return -1;
    return static_cast<int>(it - cfg.meters.begin());
  }
  int IndexOfAddress(const std::string& address) const {
    for (size_t i = 0; i < cfg.meters.size(); ++i) {
      if (cfg.meters[i].meter_address == address) return static_cast<int>(i);
    }
    return -1;
  }
  std::vector<uint16_t> Pns() const {
    std::vector<uint16_t> out;
    out.reserve(cfg.meters.size());
    for (const auto& m : cfg.meters) out.push_back(m.pn);
    return out;
  }

  SimTerminal cfg;
  std::vector<MeterModel> models;  // by index, meters sorted by pn
  uint64_t seed = 0;
  Strand strand;
  tcp::socket sock;
  net::steady_timer timer;

  // Strand-only state.
  Bytes rx;
  std::vector<Bytes> outbox;  // frames to send, in order
  bool reading = false, connecting = false;
  uint64_t read_gen = 0;
  bool stop = false;
  SmallRng rng;  // 8 bytes (a mt19937_64 is 2.5 KB a terminal)
  uint8_t pseq = 0;
  int login_seq = -1, heartbeat_seq = -1, report_seq = -1;
  int login_attempts = 0, heartbeats_unconfirmed = 0;
  SteadyClock::time_point next_login, next_heartbeat, drop_at;
  int heartbeat_seconds = 60;
  bool offline_fault = false;
  int64_t outage_start_us = 0;
  Bytes last_control_request;
  std::vector<Frame> last_control_reply;
  SteadyClock::time_point last_control_at;

  // Shared with other threads: under mu (logged_in is atomic).
  std::atomic<bool> logged_in{false};
  mutable std::mutex mu;
  int64_t drift_us = 0;             // terminal clock − true time
  int64_t meter_drift_us = 0;       // meters' clock − true time
  std::vector<uint8_t> relay_open;  // by meter index
  std::vector<int64_t> last_trip_us, last_close_us;
  EventRing important, normal;
  bool acd = false;            // important events the master has not read
  uint64_t reported_upto = 0;  // important events sent in active reports
  bool report_pending = false;
  std::array<uint8_t, 9> power_control{};  // by total-add group: bit (Fn − 9) enabled
  bool urge_fee_alarm = false, keep_power = false;
  gdw1376::UplinkParams uplink;
};

// ---- The fleet ----

struct Fleet::Impl {
  Impl(FleetOptions o, const Clock& c) : opt(std::move(o)), clock(c) {}

  // What a master request gets back.
  struct Answer {
    std::vector<Frame> frames;  // empty: nothing to send
    bool denied = false;
    int executed = 0;
  };

  const TimeZone& tz() const { return *tz_; }
  int64_t Now() const { return clock.NowMicros(); }

  // ---- Data availability and faults ----
  bool DataAt(const Term& t, int64_t at_us, int64_t now_us) const {
    if (at_us > now_us) return false;
    Date today = tz().LocalDate(now_us);
    if (at_us < tz().StartOfDay(today.AddDays(-opt.history_days))) return false;
    // The freeze at the very instant the outage began was still made.
    if (t.offline_fault && at_us > t.outage_start_us &&
        (opt.faults.offline_until_us == 0 || at_us < opt.faults.offline_until_us)) {
      return false;
    }
    return true;
  }
  bool Missing(const Term& t, uint16_t pn, uint16_t fn, int64_t which) const {
    if (opt.faults.missing_data <= 0) return false;
    uint64_t h = Hash(t.seed ^ (uint64_t{pn} << 16 | fn), static_cast<uint64_t>(which));
    return Unit(h) < opt.faults.missing_data;
  }
  bool OfflineOver() const {
    return opt.faults.offline_until_us != 0 && Now() >= opt.faults.offline_until_us;
  }

  // ---- Frames the terminal starts ----
  void Uplink(Term& t, Frame& f) {
    std::lock_guard<std::mutex> lock(t.mu);
    if (t.acd) {
      f.c.fcb_acd = true;
      f.ec = gdw1376::EventCounter{t.important.ec(), t.normal.ec()};
    }
  }
  void Queue(Term& t, Frame f, bool may_corrupt) {
    Uplink(t, f);
    auto bytes = gdw1376::Encode(f);
    if (!bytes.ok()) {
      spdlog::error("simulator {}: cannot encode AFN{:02X}: {}", gdw1376::ToString(t.cfg.key),
                    f.afn, bytes.status().ToString());
      return;
    }
    Bytes b = std::move(*bytes);
    if (may_corrupt && opt.faults.corrupt_frames > 0 && b.size() > 8 &&
        t.rng.Unit() < opt.faults.corrupt_frames) {
      // Flip a byte of the user data: the checksum no longer matches.
      size_t i = 6 + t.rng.Below(b.size() - 8);
      b[i] ^= static_cast<uint8_t>(1 + t.rng.Below(255));
      ++corrupt_sent;
    }
    t.outbox.push_back(std::move(b));
  }
  uint8_t NextSeq(Term& t) {
    t.pseq = static_cast<uint8_t>((t.pseq + 1) & 0x0F);
    return t.pseq;
  }
  void QueueLink(Term& t, uint16_t fn) {
    uint8_t seq = NextSeq(t);
    Frame f = gdw1376::MakeLink(t.cfg.key, fn, seq);
    if (fn == 1) t.login_seq = seq;
    if (fn == 3) t.heartbeat_seq = seq;
    Queue(t, std::move(f), fn == 3);
  }
  void QueueReport(Term& t) {
    gdw1376::EventBlock block;
    {
      std::lock_guard<std::mutex> lock(t.mu);
      t.report_pending = false;
      if (t.reported_upto >= t.important.count) return;
      // The records not reported yet that are still kept (at most 16 in one report).
      uint64_t first =
          std::max<uint64_t>({t.reported_upto, t.important.count - t.important.records.size(),
                              t.important.count > 16 ? t.important.count - 16 : 0});
      block.ec1 = t.important.ec();
      block.ec2 = t.normal.ec();
      block.pm = static_cast<uint8_t>(first % 256);
      block.pn = t.important.ec();
      for (uint64_t k = first; k < t.important.count; ++k) {
        const StoredEvent& e =
            t.important
                .records[static_cast<size_t>(k - (t.important.count - t.important.records.size()))];
        gdw1376::EventRecord r;
        r.erc = e.erc;
        r.content = e.content;
        block.records.push_back(std::move(r));
      }
      t.reported_upto = t.important.count;
    }
    Frame f;
    f.c.up = true;
    f.c.prm = true;
    f.c.func = 4;
    f.a.terminal = t.cfg.key;
    f.afn = gdw1376::kAfnClass3;
    f.seq.fir = f.seq.fin = true;
    f.seq.con = true;
    f.seq.seq = NextSeq(t);
    t.report_seq = f.seq.seq;
    auto g = gdw1376::MakeGroup({0}, {1});
    if (!g.ok()) return;
    g->items.push_back(Item{0, 1, gdw1376::EncodeEvents(block)});
    f.groups.push_back(std::move(*g));
    Queue(t, std::move(f), true);
    ++reports_sent;
  }
  void AddEvent(Term& t, bool important, gdw1376::EventRecord r) {
    // Caller holds t.mu.
    StoredEvent e{static_cast<uint8_t>(r.erc), std::move(r.content)};
    if (important) {
      t.important.Add(std::move(e));
      t.acd = true;
    } else {
      t.normal.Add(std::move(e));
    }
  }

  // ---- Answers ----
  std::vector<Frame> Pack(const Frame& req, uint8_t afn, std::vector<Group> groups);
  Answer Respond(Term& t, const Frame& req, gdw1376::ByteSpan raw);
  Answer Class1(Term& t, const Frame& req);
  Answer Class2(Term& t, const Frame& req);
  Answer Class3(Term& t, const Frame& req);
  Answer Control(Term& t, const Frame& req);
  Answer Config(Term& t, const Frame& req);
  Answer QueryParams(Term& t, const Frame& req);
  Answer SetParams(Term& t, const Frame& req);
  Answer Forward(Term& t, const Frame& req);
  Bytes Meter645(Term& t, const dlt645::Frame& in, bool* answered);
  bool PasswordOk(const Frame& req) const;
  bool TpExpired(const Term& t, const Frame& req) const;

  // ---- I/O ----
  net::awaitable<void> Run(Term* t, SteadyClock::duration ramp);
  net::awaitable<void> Session(Term* t);
  net::awaitable<void> Sleep(Term* t, SteadyClock::duration d);
  void Wake(Term* t);
  void ProcessRx(Term& t);
  void HandleFrame(Term& t, const Frame& f, gdw1376::ByteSpan raw);
  void Finished();

  FleetOptions opt;
  const Clock& clock;
  const TimeZone* tz_ = nullptr;
  std::optional<TimeZone> own_tz_;
  std::array<uint8_t, 16> password{};
  tcp::endpoint endpoint;
  int64_t start_us = 0;

  std::atomic<uint64_t> connected{0}, logins_confirmed{0}, reconnects{0}, requests{0}, replies{0},
      denied{0}, unanswered{0}, commands_executed{0}, corrupt_sent{0}, bad_frames_received{0},
      logged_in{0}, frames_sent{0}, bytes_sent{0}, reports_sent{0}, drops{0}, offline_now{0};
  std::atomic<bool> stopping{false};
  std::mutex mu;  // running, started, stopped; cv for logins and finish
  std::condition_variable cv;
  size_t running = 0;
  bool started = false, stopped = false;

  // The io_context before the terminals: terminals (their sockets and timers) are destroyed
  // first, while the context's services still exist; frames left suspended (only when Stop
  // had to give up waiting) are destroyed with the context and touch nothing in their
  // destructors.
  net::io_context ioc;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  std::vector<std::unique_ptr<Term>> terms;
  std::unordered_map<uint32_t, Term*> by_key;
};

namespace {

// Groups for items of one Fn, pn ascending: one group per DA group (pn 1..8, 9..16, ...).
void AddGroups(std::vector<Group>& out, uint16_t fn, std::vector<Item> items) {
  size_t i = 0;
  while (i < items.size()) {
    size_t j = i + 1;
    uint16_t da = items[i].pn == 0 ? 0 : static_cast<uint16_t>((items[i].pn - 1) / 8);
    while (j < items.size() && items[i].pn != 0 && items[j].pn != 0 &&
           (items[j].pn - 1) / 8 == da) {
      ++j;
    }
    std::vector<uint16_t> pns;
    for (size_t k = i; k < j; ++k) pns.push_back(items[k].pn);
    auto g = gdw1376::MakeGroup(pns, {fn});
    if (g.ok()) {
      for (size_t k = i; k < j; ++k) g->items.push_back(std::move(items[k]));
      out.push_back(std::move(*g));
    }
    i = j;
  }
}

size_t GroupBytes(const Group& g) {
  size_t n = 4;
  for (const auto& it : g.items) n += it.data.size();
  return n;
}

// The request data of (pn, fn): the item of that pn, or the one given for all points.
const Item* RequestItem(const Group& g, uint16_t pn, uint16_t fn) {
  const Item* any = nullptr;
  for (const auto& it : g.items) {
    if (it.fn != fn) continue;
    if (it.pn == pn) return &it;
    if (it.pn == kAllPoints || g.all_points || any == nullptr) any = &it;
  }
  return any;
}

}  // namespace

std::vector<Frame> Fleet::Impl::Pack(const Frame& req, uint8_t afn, std::vector<Group> groups) {
  // Split groups too long for one frame into single-point groups.
  size_t budget = std::max<size_t>(opt.max_reply_frame_bytes, 256);
  size_t overhead = 6 + 8 + 2 + 2 + (req.tp ? 6 : 0) + 2;  // header, C A AFN SEQ, EC, Tp, CS 16
  std::vector<Group> split;
  for (auto& g : groups) {
    if (overhead + GroupBytes(g) <= budget || g.items.size() <= 1) {
      split.push_back(std::move(g));
      continue;
    }
    uint16_t fn = g.items.front().fn;
    for (auto& it : g.items) {
      std::vector<Item> one;
      one.push_back(std::move(it));
      AddGroups(split, fn, std::move(one));
    }
  }
  std::vector<std::vector<Group>> per_frame;
  size_t used = overhead;
  for (auto& g : split) {
    size_t n = GroupBytes(g);
    if (per_frame.empty() || (used + n > budget && !per_frame.back().empty())) {
      per_frame.emplace_back();
      used = overhead;
    }
    per_frame.back().push_back(std::move(g));
    used += n;
  }
  std::vector<Frame> frames;
  for (size_t i = 0; i < per_frame.size(); ++i) {
    Frame f = gdw1376::MakeResponse(req, afn, std::move(per_frame[i]));
    f.seq.fir = i == 0;
    f.seq.fin = i + 1 == per_frame.size();
    f.seq.seq = static_cast<uint8_t>((req.seq.seq + i) & 0x0F);
    frames.push_back(std::move(f));
  }
  return frames;
}

bool Fleet::Impl::PasswordOk(const Frame& req) const {
  if (opt.password.empty()) return true;
  return req.pw.has_value() && *req.pw == password;
}

bool Fleet::Impl::TpExpired(const Term& t, const Frame& req) const {
  if (!req.tp || req.tp->delay_minutes == 0) return false;
  int64_t drift;
  {
    std::lock_guard<std::mutex> lock(t.mu);
    drift = t.drift_us;
  }
  int64_t local_now = Now() + drift;
  Civil c = CivilOf(tz(), local_now);
  const auto& tp = *req.tp;  // decoded numbers (A.16)
  int sec = tp.second, min = tp.minute, hour = tp.hour, day = tp.day;
  int64_t best = INT64_MAX;
  for (int dm = -1; dm <= 1; ++dm) {
    YearMonth ym{c.date.year, c.date.month};
    if (dm < 0) ym = ym.Prev();
    if (dm > 0) ym = ym.Next();
    auto sent = InstantOf(tz(), ym.year, ym.month, day, hour, min, sec);
    if (!sent) continue;
    best = std::min(best, std::abs(local_now - *sent));
  }
  return best > int64_t{tp.delay_minutes} * kMicrosPerMinute;
}

Fleet::Impl::Answer Fleet::Impl::Respond(Term& t, const Frame& req, gdw1376::ByteSpan raw) {
  Answer a;
  auto deny = [&] {
    a.frames.push_back(gdw1376::MakeDeny(req));
    a.denied = true;
    return a;
  };
  if (gdw1376::AfnHasPw(req.afn, false) && !PasswordOk(req)) return deny();
  switch (req.afn) {
    case gdw1376::kAfnReset: {
      for (const auto& g : req.groups) {
        for (uint16_t fn : g.fns) {
          if (fn < 1 || fn > 4) return deny();
          if (fn == 2) {  // data area init: events cleared
            std::lock_guard<std::mutex> lock(t.mu);
            t.important = EventRing{};
            t.normal = EventRing{};
            t.acd = false;
            t.reported_upto = 0;
          }
        }
      }
      a.frames.push_back(gdw1376::MakeConfirm(req));
      a.executed = 1;
      return a;
    }
    case gdw1376::kAfnSetParams:
      return SetParams(t, req);
    case gdw1376::kAfnControl: {
      Bytes bytes(raw.begin(), raw.end());
      if (!t.last_control_request.empty() && bytes == t.last_control_request &&
          SteadyClock::now() - t.last_control_at < 2min) {
        a.frames = t.last_control_reply;  // a retry of the command just carried out
        return a;
      }
      a = Control(t, req);
      t.last_control_request = std::move(bytes);
      t.last_control_reply = a.frames;
      t.last_control_at = SteadyClock::now();
      return a;
    }
    case gdw1376::kAfnConfig:
      return Config(t, req);
    case gdw1376::kAfnQueryParams:
      return QueryParams(t, req);
    case gdw1376::kAfnClass1:
      return Class1(t, req);
    case gdw1376::kAfnClass2:
      return Class2(t, req);
    case gdw1376::kAfnClass3:
      return Class3(t, req);
    case gdw1376::kAfnForward:
      return Forward(t, req);
    default:
      return deny();
  }
}

// AFN0C: F2 clock (p0), F25 power, F33 and F129 indications (measurement points).
Fleet::Impl::Answer Fleet::Impl::Class1(Term& t, const Frame& req) {
  Answer a;
  int64_t now = Now();
  std::vector<Group> out;
  for (const auto& g : req.groups) {
    std::vector<uint16_t> pns = g.all_points ? t.Pns() : g.pns;
    for (uint16_t fn : g.fns) {
      std::vector<Item> items;
      for (uint16_t pn : pns) {
        if (fn == 2) {
          if (pn != 0) continue;
          int64_t drift;
          {
            std::lock_guard<std::mutex> lock(t.mu);
            drift = t.drift_us;
          }
          Civil c = CivilOf(tz(), now + drift);
          gdw1376::ClockTime ct{c.date.year,
                                c.date.month,
                                c.date.day,
                                c.hour,
                                c.minute,
                                c.second,
                                c.date.Weekday() == 0 ? 7 : c.date.Weekday()};
          items.push_back(Item{0, 2, gdw1376::EncodeClock(ct)});
          continue;
        }
        int idx = t.IndexOfPn(pn);
        if (idx < 0 || (fn != 25 && fn != 33 && fn != 129)) continue;
        if (!DataAt(t, now, now)) continue;
        const MeterModel& m = t.models[static_cast<size_t>(idx)];
        bool missing = Missing(t, pn, fn, now / kMicrosPerMinute);
        gdw1376::MinuteTime rt = MinuteOf(tz(), now);
        auto opt_values = [&](const std::vector<Energy>& v) {
          std::vector<std::optional<Energy>> o;
          for (const auto& e : v) o.push_back(missing ? std::nullopt : std::optional<Energy>(e));
          return o;
        };
        if (fn == 129) {
          gdw1376::Indication ind{rt, MeterModel::kRates, opt_values(m.RegistersAt(now))};
          items.push_back(Item{pn, fn, gdw1376::EncodeIndication(ind, true)});
        } else if (fn == 33) {
          std::vector<Energy> q = m.ReactiveAt(now);
          std::vector<Energy> q4(q.size());
          int64_t q4_total = 0;
          for (size_t r = 1; r < q.size(); ++r) {
            q4[r] = Energy::FromDwh(q[r].dwh() / 20 / 100 * 100);
            q4_total += q4[r].dwh();
          }
          q4[0] = Energy::FromDwh(q4_total);
          gdw1376::IndicationSet set;
          set.reading_time = rt;
          set.rates = MeterModel::kRates;
          set.values = {opt_values(m.RegistersAt(now)), opt_values(q), opt_values(q),
                        opt_values(q4)};  // forward active, forward reactive, Q1, Q4
          items.push_back(Item{pn, fn, gdw1376::EncodeIndicationSet(set)});
        } else {  // F25
          gdw1376::RealTimePower p;
          p.reading_time = rt;
          if (!missing) {
            int64_t w = m.PowerWatts(now);
            uint64_t h = Hash(t.seed ^ pn, static_cast<uint64_t>(now / kMicrosPerMinute));
            int64_t pf_permille = 900 + static_cast<int64_t>(h % 90);  // 0.900..0.989
            double s_va = static_cast<double>(w) * 1000.0 / static_cast<double>(pf_permille);
            int64_t var = static_cast<int64_t>(
                std::sqrt(std::max(0.0, s_va * s_va - static_cast<double>(w) * w)));
            int64_t u_dv = 2200 + static_cast<int64_t>((h >> 8) % 61) - 30;  // 0.1 V
            bool three_phase = t.cfg.kind != TerminalKind::kPublicTransformer;
            auto kw = [](int64_t watts) {  // A.9: 4 decimals of kW, |x| <= 79.9999
              return gdw1376::Fixed{std::clamp<int64_t>(watts * 10, -799'999, 799'999), 4};
            };
            int phases = three_phase ? 3 : 1;
            p.p[0] = kw(w);
            p.q[0] = kw(var);
            p.s[0] = kw(static_cast<int64_t>(s_va));
            p.pf[0] = gdw1376::Fixed{pf_permille, 1};
            for (int ph = 0; ph < phases; ++ph) {
              size_t i = static_cast<size_t>(ph);
              p.p[i + 1] = kw(w / phases);
              p.q[i + 1] = kw(var / phases);
              p.s[i + 1] = kw(static_cast<int64_t>(s_va) / phases);
              p.pf[i + 1] = gdw1376::Fixed{pf_permille, 1};
              p.u[i] = gdw1376::Fixed{u_dv, 1};
              // I = S / U per phase, in mA.
              int64_t ma =
                  static_cast<int64_t>(s_va / phases * 10'000.0 / static_cast<double>(u_dv));
              p.i[i] = gdw1376::Fixed{std::min<int64_t>(ma, 799'999), 3};
            }
          }
          items.push_back(Item{pn, fn, gdw1376::EncodeRealTimePower(p)});
        }
      }
      AddGroups(out, fn, std::move(items));
    }
  }
  if (out.empty()) {
    a.frames.push_back(gdw1376::MakeDeny(req));
    a.denied = true;
    return a;
  }
  a.frames = Pack(req, gdw1376::kAfnClass1, std::move(out));
  return a;
}

// AFN0D: F161/F162/F163 daily frozen (Td_d), F177 monthly frozen (Td_m), F97/F101 curves (Td_c).
Fleet::Impl::Answer Fleet::Impl::Class2(Term& t, const Frame& req) {
  Answer a;
  int64_t now = Now();
  Date today = tz().LocalDate(now);
  std::vector<Group> out;
  for (const auto& g : req.groups) {
    std::vector<uint16_t> pns = g.all_points ? t.Pns() : g.pns;
    for (uint16_t fn : g.fns) {
      std::vector<Item> items;
      for (uint16_t pn : pns) {
        int idx = t.IndexOfPn(pn);
        const Item* rq = RequestItem(g, pn, fn);
        if (idx < 0 || rq == nullptr) continue;
        const MeterModel& m = t.models[static_cast<size_t>(idx)];
        const Bytes& d = rq->data;
        if (fn == 161 || fn == 162 || fn == 163) {
          auto day = gdw1376::DecodeTd(d);
          if (!day.ok()) continue;
          int64_t freeze = tz().StartOfDay(day->AddDays(1));
          if (!DataAt(t, freeze, now)) continue;
          bool missing = Missing(t, pn, fn, day->ToDays());
          std::vector<Energy> v = fn == 161   ? m.RegistersAt(freeze)
                                  : fn == 162 ? m.ReactiveAt(freeze)
                                              : m.ReverseAt(freeze);
          gdw1376::DailyIndication di;
          di.day = *day;
          di.value.reading_time = MinuteOf(tz(), freeze);
          di.value.rates = MeterModel::kRates;
          for (const auto& e : v) {
            di.value.values.push_back(missing ? std::nullopt : std::optional<Energy>(e));
          }
          items.push_back(Item{pn, fn, gdw1376::EncodeDailyIndication(di, fn != 162)});
        } else if (fn == 177) {
          auto month = gdw1376::DecodeTdMonth(d);
          if (!month.ok()) continue;
          YearMonth ym = *month;
          int64_t freeze = tz().StartOfDay(ym.Next().FirstDay());
          YearMonth oldest = YearMonth{today.year, today.month};
          for (int i = 0; i < 12; ++i) oldest = oldest.Prev();
          if (freeze > now || ym < oldest) continue;
          if (t.offline_fault && freeze > t.outage_start_us &&
              (opt.faults.offline_until_us == 0 || freeze < opt.faults.offline_until_us)) {
            continue;
          }
          bool missing = Missing(t, pn, fn, ym.year * 12 + ym.month);
          gdw1376::MonthlyIndication mi;
          mi.month = ym;
          mi.value.reading_time = MinuteOf(tz(), freeze);
          mi.value.rates = MeterModel::kRates;
          for (const auto& e : m.RegistersAt(freeze)) {
            mi.value.values.push_back(missing ? std::nullopt : std::optional<Energy>(e));
          }
          items.push_back(Item{pn, fn, gdw1376::EncodeMonthlyIndication(mi, true)});
        } else if (fn == 97 || fn == 101) {
          auto tag = gdw1376::DecodeTdCurve(d);
          if (!tag.ok() || tag->points == 0) continue;
          int interval = tag->interval_minutes;
          const gdw1376::MinuteTime& st = tag->start;
          auto start = InstantOf(tz(), st.year, st.month, st.day, st.hour, st.minute, 0);
          if (!start || interval <= 0) continue;
          int n = tag->points;
          bool missing = Missing(t, pn, fn, *start / kMicrosPerMinute);
          gdw1376::Curve c;
          c.start = st;
          c.density_code = tag->density_code;
          c.interval_minutes = interval;
          int64_t step = int64_t{interval} * kMicrosPerMinute;
          bool any = false;
          for (int j = 0; j < n; ++j) {
            int64_t tj = *start + j * step;
            std::optional<Energy> v;
            if (fn == 101 && DataAt(t, tj, now)) {
              v = TruncateTo645(m.TotalAt(tj));
            } else if (fn == 97 && DataAt(t, tj, now) && DataAt(t, tj - step, now)) {
              v = m.TotalAt(tj) - m.TotalAt(tj - step);
            }
            any = any || v.has_value();
            c.energy.push_back(missing ? std::nullopt : v);
          }
          if (!any) continue;
          items.push_back(Item{pn, fn, gdw1376::EncodeCurve(fn, c)});
        }
      }
      AddGroups(out, fn, std::move(items));
    }
  }
  if (out.empty()) {
    a.frames.push_back(gdw1376::MakeDeny(req));
    a.denied = true;
    return a;
  }
  a.frames = Pack(req, gdw1376::kAfnClass2, std::move(out));
  return a;
}

// AFN0E F1 (important) / F2 (normal) events between the pointers Pm and Pn.
Fleet::Impl::Answer Fleet::Impl::Class3(Term& t, const Frame& req) {
  Answer a;
  std::vector<Group> out;
  for (const auto& g : req.groups) {
    for (uint16_t fn : g.fns) {
      const Item* rq = RequestItem(g, 0, fn);
      if ((fn != 1 && fn != 2) || rq == nullptr || rq->data.size() < 2) continue;
      uint8_t pm = rq->data[0], pn = rq->data[1];
      std::lock_guard<std::mutex> lock(t.mu);
      const EventRing& ring = fn == 1 ? t.important : t.normal;
      auto records = ring.Range(pm, pn);
      if (fn == 1 && pn == t.important.ec()) t.acd = false;  // the master read them all
      // Blocks of consecutive pointers that fit a frame, each with its own Pm and Pn (the
      // decoder counts Pn - Pm records).
      size_t budget = std::max<size_t>(opt.max_reply_frame_bytes, 256) - 40;
      std::vector<Item> items;
      size_t i = 0;
      do {
        gdw1376::EventBlock b;
        b.ec1 = t.important.ec();
        b.ec2 = t.normal.ec();
        b.pm = i < records.size() ? records[i].first : pn;
        size_t size = 4;
        while (i < records.size() &&
               (b.records.empty() ||
                (records[i].first == static_cast<uint8_t>(records[i - 1].first + 1) &&
                 size + 2 + records[i].second->content.size() <= budget))) {
          gdw1376::EventRecord r;
          r.erc = records[i].second->erc;
          r.content = records[i].second->content;
          size += 2 + r.content.size();
          b.records.push_back(std::move(r));
          ++i;
        }
        b.pn = static_cast<uint8_t>(b.pm + b.records.size());
        items.push_back(Item{0, fn, gdw1376::EncodeEvents(b)});
      } while (i < records.size());
      for (auto& it : items) {
        std::vector<Item> one;
        one.push_back(std::move(it));
        AddGroups(out, fn, std::move(one));
      }
    }
  }
  if (out.empty()) {
    a.frames.push_back(gdw1376::MakeDeny(req));
    a.denied = true;
    return a;
  }
  a.frames = Pack(req, gdw1376::kAfnClass3, std::move(out));
  return a;
}

// AFN05 control.
Fleet::Impl::Answer Fleet::Impl::Control(Term& t, const Frame& req) {
  Answer a;
  std::vector<Frame::UnitResult> units;
  int64_t now = Now();
  for (const auto& g : req.groups) {
    for (uint16_t pn : g.pns) {
      for (uint16_t fn : g.fns) {
        const Item* item = RequestItem(g, pn, fn);
        bool ok = false;
        std::lock_guard<std::mutex> lock(t.mu);
        if (fn == 1 || fn == 2) {  // trip / permit close of control round pn
          int idx = pn >= 1 && pn <= 8 ? t.IndexOfPn(pn) : -1;
          if (idx >= 0) {
            ok = true;
            size_t i = static_cast<size_t>(idx);
            if (fn == 1) {
              t.relay_open[i] = 1;
              t.last_trip_us[i] = now;
              // ERC5: the rounds tripped, the power at the trip and 2 minutes after (kW).
              gdw1376::Fixed kw{t.models[i].PowerWatts(now), 3};
              AddEvent(t, true,
                       gdw1376::RemoteTripRecord(MinuteOf(tz(), now + t.drift_us),
                                                 static_cast<uint8_t>(1u << (pn - 1)), kw,
                                                 gdw1376::Fixed{0, 3}));
            } else {
              t.relay_open[i] = 0;
              t.last_close_us[i] = now;
            }
          }
        } else if (fn >= 9 && fn <= 24 && fn != 13 && fn != 14 && fn != 21 && fn != 22) {
          if (pn >= 1 && pn <= 8) {  // total-add group
            ok = true;
            int bit = fn <= 16 ? fn - 9 : fn - 17;
            if (fn <= 16) {
              t.power_control[pn] = static_cast<uint8_t>(t.power_control[pn] | (1u << bit));
            } else {
              t.power_control[pn] = static_cast<uint8_t>(t.power_control[pn] & ~(1u << bit));
            }
          }
        } else if (pn == 0 && (fn == 25 || fn == 33)) {
          ok = true;
          t.keep_power = fn == 25;
        } else if (pn == 0 && (fn == 26 || fn == 34)) {
          ok = true;
          t.urge_fee_alarm = fn == 26;
        } else if (pn == 0 && fn == 31) {  // time sync
          if (item != nullptr) {
            auto ct = gdw1376::DecodeClock(item->data);
            if (ct.ok()) {
              auto at =
                  InstantOf(tz(), ct->year, ct->month, ct->day, ct->hour, ct->minute, ct->second);
              if (at) {
                ok = true;
                t.drift_us = *at - now;
              }
            }
          }
        } else if (pn == 0 &&
                   (fn == 27 || fn == 28 || fn == 29 || fn == 35 || fn == 36 || fn == 37)) {
          ok = true;  // talk / eliminate / active report switches: acknowledged
        }
        if (ok) ++a.executed;
        Frame::UnitResult u;
        u.pn = pn;
        u.fn = fn;
        auto one = gdw1376::MakeGroup({pn}, {fn});
        if (one.ok()) {
          u.da1 = one->da1;
          u.da2 = one->da2;
          u.dt1 = one->dt1;
          u.dt2 = one->dt2;
        }
        u.err = ok ? 0 : 1;
        units.push_back(u);
      }
    }
  }
  size_t failed = static_cast<size_t>(
      std::count_if(units.begin(), units.end(), [](const auto& u) { return u.err != 0; }));
  if (units.empty() || failed == units.size()) {
    a.frames.push_back(gdw1376::MakeDeny(req));
    a.denied = true;
  } else if (failed == 0) {
    a.frames.push_back(gdw1376::MakeConfirm(req));
  } else {
    Frame f = gdw1376::MakeConfirm(req);
    auto g = gdw1376::MakeGroup({0}, {3});
    f.groups.clear();
    if (g.ok()) f.groups.push_back(std::move(*g));
    f.confirm = Frame::PerUnitConfirm{gdw1376::kAfnControl, std::move(units)};
    a.frames.push_back(std::move(f));
  }
  return a;
}

// AFN09 F1 version.
Fleet::Impl::Answer Fleet::Impl::Config(Term& t, const Frame& req) {
  Answer a;
  std::vector<Group> out;
  for (const auto& g : req.groups) {
    for (uint16_t fn : g.fns) {
      if (fn != 1) continue;
      gdw1376::TerminalVersion v;
      v.vendor = "GMSM";
      char id[16];
      std::snprintf(id, sizeof id, "%04u%04u", static_cast<unsigned>(t.cfg.key.area % 10000),
                    static_cast<unsigned>(t.cfg.key.address % 10000));
      v.device_id = id;
      v.software_version = "S1.0";
      v.software_date = "2024-01-15";
      v.capacity = "SIM" + std::string(KindName(t.cfg.kind)).substr(0, 8);
      v.protocol_version = "1376";
      v.hardware_version = "H1.0";
      v.hardware_date = "2023-11-20";
      std::vector<Item> items;
      items.push_back(Item{0, 1, gdw1376::EncodeTerminalVersion(v)});
      AddGroups(out, 1, std::move(items));
    }
  }
  if (out.empty()) {
    a.frames.push_back(gdw1376::MakeDeny(req));
    a.denied = true;
    return a;
  }
  a.frames = Pack(req, gdw1376::kAfnConfig, std::move(out));
  return a;
}

// AFN0A F1 uplink parameters, F10 the meter archive (count + indexes; count 0: all).
Fleet::Impl::Answer Fleet::Impl::QueryParams(Term& t, const Frame& req) {
  Answer a;
  std::vector<Group> out;
  for (const auto& g : req.groups) {
    for (uint16_t fn : g.fns) {
      if (fn == 1) {
        gdw1376::UplinkParams p;
        {
          std::lock_guard<std::mutex> lock(t.mu);
          p = t.uplink;
        }
        std::vector<Item> items;
        items.push_back(Item{0, 1, gdw1376::EncodeUplinkParams(p)});
        AddGroups(out, 1, std::move(items));
      } else if (fn == 10) {
        const Item* rq = RequestItem(g, 0, 10);
        std::vector<uint16_t> wanted;
        if (rq != nullptr) {
          auto q = gdw1376::DecodeMeterArchiveQuery(rq->data);
          if (q.ok()) wanted = std::move(*q);
        }
        if (wanted.empty()) wanted = t.Pns();  // count 0: the whole archive
        std::vector<gdw1376::MeterArchiveEntry> entries;
        for (uint16_t index : wanted) {
          int idx = t.IndexOfPn(index);  // the archive's 序号 is the Pn
          if (idx < 0) continue;
          const SimMeter& m = t.cfg.meters[static_cast<size_t>(idx)];
          gdw1376::MeterArchiveEntry e;
          e.index = m.pn;
          e.pn = m.pn;
          e.baud_code = 3;
          e.port = t.cfg.kind == TerminalKind::kPublicTransformer ? 31 : 2;
          e.protocol = 30;
          e.meter_address = m.meter_address;
          e.password = "000000000000";
          e.rates = MeterModel::kRates;
          e.integer_digits = 6;
          e.decimal_digits = 2;
          e.collector_address = "000000000000";
          e.user_class = t.cfg.kind == TerminalKind::kPublicTransformer ? 1 : 2;
          entries.push_back(std::move(e));
        }
        if (entries.empty()) continue;
        size_t per_item =
            std::max<size_t>(1, (std::max<size_t>(opt.max_reply_frame_bytes, 256) - 40) / 27);
        for (size_t i = 0; i < entries.size(); i += per_item) {
          std::vector<gdw1376::MeterArchiveEntry> chunk(
              entries.begin() + static_cast<std::ptrdiff_t>(i),
              entries.begin() +
                  static_cast<std::ptrdiff_t>(std::min(entries.size(), i + per_item)));
          std::vector<Item> items;
          items.push_back(Item{0, 10, gdw1376::EncodeMeterArchive(chunk)});
          AddGroups(out, 10, std::move(items));
        }
      }
    }
  }
  if (out.empty()) {
    a.frames.push_back(gdw1376::MakeDeny(req));
    a.denied = true;
    return a;
  }
  a.frames = Pack(req, gdw1376::kAfnQueryParams, std::move(out));
  return a;
}

// AFN04 F1 (uplink parameters; the heartbeat period is taken on the next heartbeat).
Fleet::Impl::Answer Fleet::Impl::SetParams(Term& t, const Frame& req) {
  Answer a;
  bool ok = !req.groups.empty();
  for (const auto& g : req.groups) {
    for (uint16_t fn : g.fns) {
      const Item* item = RequestItem(g, 0, fn);
      if (fn != 1 || item == nullptr) {
        ok = false;
        continue;
      }
      auto p = gdw1376::DecodeUplinkParams(item->data);
      if (!p.ok()) {
        ok = false;
        continue;
      }
      std::lock_guard<std::mutex> lock(t.mu);
      t.uplink = *p;
      if (p->heartbeat_minutes > 0) t.heartbeat_seconds = p->heartbeat_minutes * 60;
    }
  }
  if (ok) {
    a.frames.push_back(gdw1376::MakeConfirm(req));
    a.executed = 1;
  } else {
    a.frames.push_back(gdw1376::MakeDeny(req));
    a.denied = true;
  }
  return a;
}

// AFN10 F1: a DL/T 645 frame to a meter behind the terminal.
Fleet::Impl::Answer Fleet::Impl::Forward(Term& t, const Frame& req) {
  Answer a;
  std::vector<Group> out;
  for (const auto& g : req.groups) {
    for (uint16_t fn : g.fns) {
      const Item* rq = RequestItem(g, 0, fn);
      if (fn != 1 || rq == nullptr) continue;
      auto fr = gdw1376::DecodeForwardRequest(rq->data);
      if (!fr.ok()) continue;
      gdw1376::ForwardReply reply;
      reply.port = fr->port;
      auto scan = dlt645::ScanFrame(fr->payload);
      size_t off = 0;
      // Skip wake-up bytes and noise before the frame.
      while (scan.kind == dlt645::Scan::kSkip && scan.length > 0 &&
             off + scan.length < fr->payload.size()) {
        off += scan.length;
        scan = dlt645::ScanFrame(gdw1376::ByteSpan(fr->payload).subspan(off));
      }
      if (scan.kind == dlt645::Scan::kFrame) {
        auto in = dlt645::Decode(gdw1376::ByteSpan(fr->payload).subspan(off, scan.length));
        if (in.ok() && !in->up) {
          bool answered = false;
          Bytes payload = Meter645(t, *in, &answered);
          if (answered) {
            reply.payload = std::move(payload);
            if (in->func == dlt645::kControl) ++a.executed;
          }
        }
      }
      std::vector<Item> items;
      items.push_back(Item{0, 1, gdw1376::EncodeForwardReply(reply)});
      AddGroups(out, 1, std::move(items));
    }
  }
  if (out.empty()) {
    a.frames.push_back(gdw1376::MakeDeny(req));
    a.denied = true;
    return a;
  }
  a.frames = Pack(req, gdw1376::kAfnForward, std::move(out));
  return a;
}

// The meter's answer to a DL/T 645-2007 frame (with 4 wake-up bytes); *answered false when the
// meter stays silent (not on this terminal, broadcast).
Bytes Fleet::Impl::Meter645(Term& t, const dlt645::Frame& in, bool* answered) {
  *answered = false;
  int64_t now = Now();
  if (in.func == dlt645::kBroadcastTime && in.address == "999999999999") {
    const Bytes& d = in.data;  // ss mm hh DD MM YY
    if (d.size() >= 6) {
      auto at = InstantOf(tz(), 2000 + FromBcd(d[5]), FromBcd(d[4]), FromBcd(d[3]), FromBcd(d[2]),
                          FromBcd(d[1]), FromBcd(d[0]));
      if (at) {
        std::lock_guard<std::mutex> lock(t.mu);
        t.meter_drift_us = *at - now;
      }
    }
    return {};
  }
  int idx = -1;
  if (in.address == "AAAAAAAAAAAA" && t.cfg.meters.size() == 1) idx = 0;
  if (idx < 0) idx = t.IndexOfAddress(in.address);
  if (idx < 0) return {};
  size_t i = static_cast<size_t>(idx);
  const MeterModel& m = t.models[i];
  const SimMeter& sm = t.cfg.meters[i];
  dlt645::Frame request = in;
  request.address = sm.meter_address;  // a wildcard request is answered with the real address
  auto reply = [&](const dlt645::Frame& f) {
    *answered = true;
    dlt645::Frame out = f;
    out.leading_fe = 4;
    return dlt645::Encode(out);
  };
  constexpr uint8_t kErrOther = 0x01, kErrNoData = 0x02;
  if (in.func == dlt645::kReadAddress) {
    Bytes addr;
    for (int k = 5; k >= 0; --k) {
      addr.push_back(
          static_cast<uint8_t>((sm.meter_address[static_cast<size_t>(2 * k)] - '0') << 4 |
                               (sm.meter_address[static_cast<size_t>(2 * k + 1)] - '0')));
    }
    dlt645::Frame f;
    f.address = sm.meter_address;
    f.up = true;
    f.func = dlt645::kReadAddress;
    f.data = addr;
    return reply(f);
  }
  if (in.func == dlt645::kControl) {
    auto c = dlt645::DecodeControl(in);
    if (!c.ok()) return reply(dlt645::MakeErrorReply(request, kErrOther));
    std::lock_guard<std::mutex> lock(t.mu);
    if (c->action == dlt645::ControlAction::kTrip) {
      t.relay_open[i] = 1;
      t.last_trip_us[i] = now;
    } else if (c->action == dlt645::ControlAction::kPermitClose) {
      t.relay_open[i] = 0;
      t.last_close_us[i] = now;
    }
    ++commands_executed;
    return reply(dlt645::MakeControlReply(request));
  }
  if (in.func != dlt645::kRead) return reply(dlt645::MakeErrorReply(request, kErrOther));
  if (in.data.size() < 4) return reply(dlt645::MakeErrorReply(request, kErrOther));
  uint32_t di = uint32_t{in.data[0]} | uint32_t{in.data[1]} << 8 | uint32_t{in.data[2]} << 16 |
                uint32_t{in.data[3]} << 24;
  if (!DataAt(t, now, now) || Missing(t, sm.pn, 0xF000 | (di & 0xFFF), now / kMicrosPerMinute)) {
    return reply(dlt645::MakeErrorReply(request, kErrNoData));
  }
  int64_t meter_drift;
  int64_t last_trip, last_close;
  {
    std::lock_guard<std::mutex> lock(t.mu);
    meter_drift = t.meter_drift_us;
    last_trip = t.last_trip_us[i];
    last_close = t.last_close_us[i];
  }
  auto energies = [&](const std::vector<Energy>& v, int which) {  // which: -1 block (0xFF)
    std::vector<std::optional<Energy>> o;
    if (which < 0) {
      for (const auto& e : v) o.push_back(TruncateTo645(e));
    } else {
      o.push_back(TruncateTo645(v[static_cast<size_t>(which)]));
    }
    return dlt645::EncodeEnergies(o);
  };
  uint32_t di3 = di >> 24, di2 = (di >> 16) & 0xFF, di1 = (di >> 8) & 0xFF, di0 = di & 0xFF;
  Bytes value;
  bool known = true;
  bool three_phase = t.cfg.kind != TerminalKind::kPublicTransformer;
  if (di3 == 0x00 && di0 == 0x00 && di2 <= 0x04 && (di1 <= 4 || di1 == 0xFF)) {
    int which = di1 == 0xFF ? -1 : static_cast<int>(di1);
    std::vector<Energy> v;
    if (di2 == 0x01) {
      v = m.RegistersAt(now);
    } else if (di2 == 0x02) {
      v = m.ReverseAt(now);
    } else if (di2 == 0x00) {  // combined active = forward + reverse
      auto f = m.RegistersAt(now), r = m.ReverseAt(now);
      for (size_t k = 0; k < f.size(); ++k) v.push_back(f[k] + r[k]);
    } else if (di2 == 0x03) {
      v = m.ReactiveAt(now);
    } else {
      v.assign(5, Energy::FromDwh(0));
    }
    value = energies(v, which);
  } else if (di == 0x05060101) {  // last daily frozen forward active, total + rates
    value = energies(m.FrozenAt(tz().LocalDate(now)), -1);
  } else if (di == 0x05060001) {  // last daily freeze time YYMMDDhhmm (mm first on the wire)
    Date d = tz().LocalDate(now);
    value = {0x00, 0x00, Bcd(d.day), Bcd(d.month), Bcd(d.year % 100)};
  } else if (di3 == 0x02 && (di2 == 0x01 || di2 == 0x02) && (di1 >= 1 && di1 <= 3) && di0 == 0x00) {
    if (di1 > 1 && !three_phase) {
      known = false;
    } else {
      uint64_t h = Hash(t.seed ^ sm.pn, static_cast<uint64_t>(now / kMicrosPerMinute) + di1);
      int64_t u_dv = 2200 + static_cast<int64_t>(h % 61) - 30;
      if (di2 == 0x01) {
        PutBcd(value, static_cast<uint64_t>(u_dv), 2);
      } else {  // current XXX.XXX A
        int64_t w = m.PowerWatts(now) / (three_phase ? 3 : 1);
        int64_t ma = w * 10'000 / u_dv * 100 / 95;  // PF ~0.95
        PutBcd(value, static_cast<uint64_t>(std::min<int64_t>(ma, 799'999)), 3);
      }
    }
  } else if (di == 0x02030000) {  // total active power XX.XXXX kW
    PutBcd(value, static_cast<uint64_t>(std::min<int64_t>(m.PowerWatts(now) * 10, 799'999)), 3);
  } else if (di == 0x02060000) {  // power factor X.XXX
    PutBcd(value, 950, 2);
  } else if (di == 0x02800002) {  // frequency XX.XX Hz
    PutBcd(value, 5000, 2);
  } else if (di == 0x04000101 || di == 0x04000102) {
    Civil c = CivilOf(tz(), now + meter_drift);
    if (di == 0x04000101) {
      value = {static_cast<uint8_t>(c.date.Weekday()), Bcd(c.date.day), Bcd(c.date.month),
               Bcd(c.date.year % 100)};
    } else {
      value = {Bcd(c.second), Bcd(c.minute), Bcd(c.hour)};
    }
  } else if (di == 0x04000401) {
    for (int k = 5; k >= 0; --k) {
      value.push_back(
          static_cast<uint8_t>((sm.meter_address[static_cast<size_t>(2 * k)] - '0') << 4 |
                               (sm.meter_address[static_cast<size_t>(2 * k + 1)] - '0')));
    }
  } else if (di == 0x1D000101 || di == 0x1E000101) {  // last trip / close: time + operator
    int64_t at = di == 0x1D000101 ? last_trip : last_close;
    if (at == 0) {
      known = false;
    } else {
      Civil c = CivilOf(tz(), at + meter_drift);
      value = {Bcd(c.second),   Bcd(c.minute),     Bcd(c.hour),
               Bcd(c.date.day), Bcd(c.date.month), Bcd(c.date.year % 100)};
      value.insert(value.end(), {0x00, 0x00, 0x00, 0x00});  // operator code
    }
  } else {
    known = false;
  }
  if (!known) return reply(dlt645::MakeErrorReply(request, kErrNoData));
  return reply(dlt645::MakeReadReply(request, value));
}

// ---- I/O ----

void Fleet::Impl::Wake(Term* t) {
  net::post(t->strand, [t] {
    if (t->reading) t->sock.cancel();
    if (t->connecting && t->stop) {
      boost::system::error_code ignored;
      t->sock.close(ignored);
    }
    t->timer.cancel();
  });
}

net::awaitable<void> Fleet::Impl::Sleep(Term* t, SteadyClock::duration d) {
  boost::system::error_code ec;
  t->timer.expires_after(d);
  co_await t->timer.async_wait(net::redirect_error(net::use_awaitable, ec));
}

void Fleet::Impl::Finished() {
  std::lock_guard<std::mutex> lock(mu);
  --running;
  cv.notify_all();
}

net::awaitable<void> Fleet::Impl::Run(Term* t, SteadyClock::duration ramp) {
  boost::system::error_code ec;
  auto tok = net::redirect_error(net::use_awaitable, ec);
  co_await Sleep(t, ramp);
  auto backoff = SteadyClock::duration(1s);
  bool counted_offline = false;
  while (!t->stop) {
    if (t->offline_fault && !OfflineOver()) {
      if (!counted_offline) ++offline_now;
      counted_offline = true;
      co_await Sleep(t, 1s);
      continue;
    }
    if (counted_offline) --offline_now;
    counted_offline = false;
    t->connecting = true;
    t->timer.expires_after(10s);
    t->timer.async_wait([t](boost::system::error_code e) {
      if (!e && t->connecting) {
        boost::system::error_code ignored;
        t->sock.close(ignored);
      }
    });
    co_await t->sock.async_connect(endpoint, tok);
    t->connecting = false;
    t->timer.cancel();
    if (ec || t->stop) {
      boost::system::error_code ignored;
      t->sock.close(ignored);
      if (t->stop) break;
      auto jitter = 75 + static_cast<int>(t->rng.Below(51));
      co_await Sleep(t, backoff * jitter / 100);
      backoff = std::min<SteadyClock::duration>(backoff * 2, 60s);
      continue;
    }
    t->sock.set_option(tcp::no_delay(true), ec);
    ++connected;
    auto began = SteadyClock::now();
    co_await Session(t);
    --connected;
    if (t->logged_in.exchange(false)) --logged_in;
    {
      boost::system::error_code ignored;
      t->sock.close(ignored);
    }
    if (t->stop) break;
    ++reconnects;
    if (SteadyClock::now() - began > 60s) backoff = 1s;
    auto jitter = 75 + static_cast<int>(t->rng.Below(51));
    co_await Sleep(t, backoff * jitter / 100);
    backoff = std::min<SteadyClock::duration>(backoff * 2, 60s);
  }
  if (counted_offline) --offline_now;
}

net::awaitable<void> Fleet::Impl::Session(Term* t) {
  boost::system::error_code ec;
  auto tok = net::redirect_error(net::use_awaitable, ec);
  t->rx.clear();
  t->outbox.clear();
  t->login_attempts = 0;
  t->heartbeats_unconfirmed = 0;
  t->login_seq = t->heartbeat_seq = t->report_seq = -1;
  auto far = SteadyClock::now() + std::chrono::hours(24 * 365);
  t->next_login = SteadyClock::now();
  t->next_heartbeat = far;
  t->drop_at = far;
  if (opt.faults.drop_per_hour > 0) {
    double u = std::max(1e-12, t->rng.Unit());
    double seconds = -std::log(u) * 3600.0 / opt.faults.drop_per_hour;
    t->drop_at = SteadyClock::now() +
                 std::chrono::milliseconds(static_cast<int64_t>(std::min(seconds, 3.0e7) * 1000));
  }
  for (;;) {
    if (!t->outbox.empty()) {
      std::vector<Bytes> batch;
      batch.swap(t->outbox);  // only this coroutine queues frames: none arrive meanwhile
      for (const Bytes& b : batch) {
        co_await net::async_write(t->sock, net::buffer(b), tok);
        if (ec) co_return;
        ++frames_sent;
        bytes_sent += b.size();
      }
    }
    if (t->stop) {
      if (t->logged_in) {
        QueueLink(*t, 2);  // logout
        if (t->outbox.empty()) co_return;
        Bytes b = std::move(t->outbox.front());
        t->outbox.clear();
        t->timer.expires_after(1s);
        t->timer.async_wait([t](boost::system::error_code e) {
          if (!e) {
            boost::system::error_code ignored;
            t->sock.close(ignored);
          }
        });
        co_await net::async_write(t->sock, net::buffer(b), tok);
        t->timer.cancel();
        if (!ec) {
          ++frames_sent;
          bytes_sent += b.size();
          t->sock.shutdown(tcp::socket::shutdown_send, ec);
        }
      }
      co_return;
    }
    auto now = SteadyClock::now();
    if (now >= t->drop_at) {
      ++drops;
      co_return;
    }
    if (!t->logged_in && now >= t->next_login) {
      if (t->login_attempts >= 3) co_return;  // reconnect
      ++t->login_attempts;
      QueueLink(*t, 1);
      t->next_login = now + std::chrono::seconds(std::max(1, opt.login_retry_seconds));
      continue;
    }
    if (t->logged_in && now >= t->next_heartbeat) {
      if (t->heartbeats_unconfirmed >= 3) co_return;  // the link is dead
      ++t->heartbeats_unconfirmed;
      QueueLink(*t, 3);
      int hb;
      {
        std::lock_guard<std::mutex> lock(t->mu);
        hb = t->heartbeat_seconds;
      }
      t->next_heartbeat = now + std::chrono::seconds(std::max(1, hb));
      continue;
    }
    bool report = false;
    {
      std::lock_guard<std::mutex> lock(t->mu);
      report = t->report_pending;
    }
    if (report && t->logged_in) {
      QueueReport(*t);
      continue;
    }
    auto deadline = std::min(t->drop_at, t->logged_in ? t->next_heartbeat : t->next_login);
    uint64_t gen = ++t->read_gen;
    t->timer.expires_at(deadline);
    t->timer.async_wait([t, gen](boost::system::error_code e) {
      if (!e && t->reading && t->read_gen == gen) t->sock.cancel();
    });
    size_t old = t->rx.size();
    t->rx.resize(old + kReadChunk);
    t->reading = true;
    size_t n = co_await t->sock.async_read_some(net::buffer(t->rx.data() + old, kReadChunk), tok);
    t->reading = false;
    t->timer.cancel();
    t->rx.resize(old + (ec ? 0 : n));
    if (ec == net::error::operation_aborted) {
      if (!t->sock.is_open()) co_return;
      continue;
    }
    if (ec) co_return;
    ProcessRx(*t);
  }
}

void Fleet::Impl::ProcessRx(Term& t) {
  size_t off = 0;
  gdw1376::ByteSpan all(t.rx);
  while (off < all.size()) {
    auto scan = gdw1376::ScanFrame(all.subspan(off));
    if (scan.kind == gdw1376::Scan::kNeedMore) break;
    if (scan.kind == gdw1376::Scan::kSkip) {
      ++bad_frames_received;
      off += std::max<size_t>(1, scan.length);
      continue;
    }
    auto raw = all.subspan(off, scan.length);
    off += scan.length;
    auto f = gdw1376::Decode(raw);
    if (!f.ok()) {
      ++bad_frames_received;
      continue;
    }
    HandleFrame(t, *f, raw);
  }
  t.rx.erase(t.rx.begin(), t.rx.begin() + static_cast<std::ptrdiff_t>(off));
}

void Fleet::Impl::HandleFrame(Term& t, const Frame& f, gdw1376::ByteSpan raw) {
  if (f.c.up || f.a.terminal != t.cfg.key) {
    ++bad_frames_received;  // not from a master, or not for this terminal
    return;
  }
  if (!f.c.prm) {  // the master's answer to a frame the terminal started
    if (f.afn != gdw1376::kAfnConfirm) return;
    bool ok = true;
    for (const auto& g : f.groups) {
      ok = ok && std::find(g.fns.begin(), g.fns.end(), uint16_t{2}) == g.fns.end();
    }
    if (f.confirm) {
      for (const auto& u : f.confirm->units) ok = ok && u.err == 0;
    }
    int s = f.seq.seq;
    if (!t.logged_in && s == t.login_seq) {
      if (ok) {
        t.logged_in = true;
        ++logged_in;
        ++logins_confirmed;
        int hb;
        {
          std::lock_guard<std::mutex> lock(t.mu);
          hb = t.heartbeat_seconds;
        }
        t.next_heartbeat = SteadyClock::now() + std::chrono::seconds(std::max(1, hb));
        std::lock_guard<std::mutex> lock(mu);
        cv.notify_all();
      }
    } else if (s == t.heartbeat_seq) {
      t.heartbeats_unconfirmed = 0;
    } else if (s == t.report_seq && ok) {
      std::lock_guard<std::mutex> lock(t.mu);
      if (t.reported_upto == t.important.count) t.acd = false;
    }
    return;
  }
  ++requests;
  if (opt.faults.silent_requests > 0 && t.rng.Unit() < opt.faults.silent_requests) {
    ++unanswered;
    return;
  }
  bool time_sync = f.afn == gdw1376::kAfnControl && f.Find(31) != nullptr;
  if (!time_sync && TpExpired(t, f)) {
    ++unanswered;  // a real terminal drops a frame older than its Tp allows
    return;
  }
  Answer a = Respond(t, f, raw);
  if (a.frames.empty()) {
    ++unanswered;
    return;
  }
  ++replies;
  if (a.denied) ++denied;
  commands_executed += static_cast<uint64_t>(f.afn == gdw1376::kAfnForward ? 0 : a.executed);
  for (auto& fr : a.frames) Queue(t, std::move(fr), true);
}

// ---- Fleet ----

Fleet::Fleet(FleetOptions options, const Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(options), clock)) {}

Fleet::~Fleet() { Stop(); }

Status Fleet::Start() {
  Impl& m = *impl_;
  {
    std::lock_guard<std::mutex> lock(m.mu);
    if (m.started) return FailedPrecondition("the fleet was started already");
    m.started = true;
  }
  if (m.opt.port == 0) return InvalidArgument("fleet: the front end's port is not set", "port");
  if (m.opt.time_zone != nullptr) {
    m.tz_ = m.opt.time_zone;
  } else {
    auto z = TimeZone::Load("Asia/Shanghai");
    if (!z.ok()) return z.status();
    m.own_tz_ = *z;
    m.tz_ = &*m.own_tz_;
  }
  if (!m.opt.password.empty()) {
    const std::string& p = m.opt.password;
    bool hex = p.size() == 32 && std::all_of(p.begin(), p.end(), [](char c) {
                 return std::isxdigit(static_cast<unsigned char>(c)) != 0;
               });
    if (hex) {
      for (size_t i = 0; i < 16; ++i) {
        m.password[i] = static_cast<uint8_t>(std::stoi(p.substr(2 * i, 2), nullptr, 16));
      }
    } else if (p.size() <= 16) {
      std::memcpy(m.password.data(), p.data(), p.size());
    } else {
      return InvalidArgument("fleet: the password is neither 32 hex digits nor up to 16 characters",
                             "password");
    }
  }
  boost::system::error_code ec;
  auto address = net::ip::make_address(m.opt.host, ec);
  if (ec) {
    tcp::resolver resolver(m.ioc);
    auto results = resolver.resolve(m.opt.host, std::to_string(m.opt.port), ec);
    if (ec || results.empty()) {
      return InvalidArgument(
          "fleet: cannot resolve the front end's host \"" + m.opt.host + "\": " + ec.message(),
          "host");
    }
    m.endpoint = results.begin()->endpoint();
  } else {
    m.endpoint = tcp::endpoint(address, m.opt.port);
  }
  m.start_us = m.Now();
  Date today = m.tz().LocalDate(m.start_us);
  int64_t outage_start = m.opt.faults.offline_days > 0
                             ? m.tz().StartOfDay(today.AddDays(-m.opt.faults.offline_days))
                             : m.start_us;
  m.terms.reserve(m.opt.terminals.size());
  for (auto& st : m.opt.terminals) {
    if (m.by_key.count(st.key.Packed()) != 0) {
      return InvalidArgument("fleet: terminal " + gdw1376::ToString(st.key) + " is listed twice",
                             "terminals");
    }
    auto t = std::make_unique<Term>(m.ioc, st, m.tz_);
    t->seed = Hash(m.opt.seed, st.key.Packed());
    t->rng.state = t->seed;
    t->heartbeat_seconds = std::max(1, m.opt.heartbeat_seconds);
    t->uplink.heartbeat_minutes = std::max(1, (t->heartbeat_seconds + 59) / 60);
    t->offline_fault = m.opt.faults.offline_fraction > 0 &&
                       Unit(Hash(t->seed, 0x6F66666CULL)) < m.opt.faults.offline_fraction;
    t->outage_start_us = outage_start;
    if (m.opt.faults.clock_drift_seconds != 0) {
      t->drift_us = int64_t{m.opt.faults.clock_drift_seconds} * kMicrosPerSecond;
      t->meter_drift_us = t->drift_us;
      if (!t->cfg.meters.empty() && std::abs(m.opt.faults.clock_drift_seconds) >= 300) {
        // ERC12: the first meter's clock is out of tolerance.
        std::lock_guard<std::mutex> lock(t->mu);
        m.AddEvent(*t, false,
                   gdw1376::MeterEventRecord(12, MinuteOf(m.tz(), m.start_us + t->drift_us),
                                             t->cfg.meters.front().pn, true));
      }
    }
    m.by_key[st.key.Packed()] = t.get();
    m.terms.push_back(std::move(t));
  }
  m.opt.terminals.clear();
  m.opt.terminals.shrink_to_fit();
  m.work.emplace(m.ioc.get_executor());
  int rate = std::max(1, m.opt.connect_per_second);
  {
    std::lock_guard<std::mutex> lock(m.mu);
    m.running = m.terms.size();
  }
  for (size_t i = 0; i < m.terms.size(); ++i) {
    Term* t = m.terms[i].get();
    auto ramp = std::chrono::microseconds(static_cast<int64_t>(i) * 1'000'000 / rate);
    net::co_spawn(t->strand, m.Run(t, ramp), [&m, t](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& x) {
          spdlog::error("simulator {}: {}", gdw1376::ToString(t->cfg.key), x.what());
        }
      }
      m.Finished();
    });
  }
  int threads = std::max(1, m.opt.io_threads);
  for (int i = 0; i < threads; ++i) {
    m.threads.emplace_back([&m] { m.ioc.run(); });
  }
  return Status::Ok();
}

void Fleet::Stop() {
  Impl& m = *impl_;
  {
    std::lock_guard<std::mutex> lock(m.mu);
    if (!m.started || m.stopped) return;
    m.stopped = true;
  }
  m.stopping = true;
  for (auto& t : m.terms) {
    Term* p = t.get();
    net::post(p->strand, [&m, p] {
      p->stop = true;
      m.Wake(p);
    });
  }
  {
    std::unique_lock<std::mutex> lock(m.mu);
    m.cv.wait_for(lock, 5s, [&m] { return m.running == 0; });
  }
  m.work.reset();
  m.ioc.stop();
  for (auto& th : m.threads) th.join();
  m.threads.clear();
}

Status Fleet::WaitForLogins(size_t n, std::chrono::milliseconds timeout) {
  Impl& m = *impl_;
  std::unique_lock<std::mutex> lock(m.mu);
  bool ok = m.cv.wait_for(lock, timeout, [&m, n] { return m.logged_in.load() >= n; });
  if (ok) return Status::Ok();
  return Status(StatusCode::kDeadlineExceeded,
                "fleet: " + std::to_string(m.logged_in.load()) + " of " + std::to_string(n) +
                    " terminals logged in after " + std::to_string(timeout.count()) + " ms");
}

FleetStats Fleet::Stats() const {
  const Impl& m = *impl_;
  FleetStats s;
  s.connected = m.connected;
  s.logins_confirmed = m.logins_confirmed;
  s.reconnects = m.reconnects;
  s.requests = m.requests;
  s.replies = m.replies;
  s.denied = m.denied;
  s.unanswered = m.unanswered;
  s.commands_executed = m.commands_executed;
  s.corrupt_sent = m.corrupt_sent;
  s.bad_frames_received = m.bad_frames_received;
  s.logged_in = m.logged_in;
  s.frames_sent = m.frames_sent;
  s.bytes_sent = m.bytes_sent;
  s.reports_sent = m.reports_sent;
  s.drops = m.drops;
  s.offline_terminals = m.offline_now;
  return s;
}

std::optional<bool> Fleet::RelayClosed(gdw1376::TerminalKey k, uint16_t pn) const {
  auto it = impl_->by_key.find(k.Packed());
  if (it == impl_->by_key.end()) return std::nullopt;
  Term& t = *it->second;
  int idx = t.IndexOfPn(pn);
  if (idx < 0) return std::nullopt;
  std::lock_guard<std::mutex> lock(t.mu);
  return t.relay_open[static_cast<size_t>(idx)] == 0;
}

bool Fleet::RaisePowerOff(gdw1376::TerminalKey k) {
  Impl& m = *impl_;
  auto it = m.by_key.find(k.Packed());
  if (it == m.by_key.end()) return false;
  Term& t = *it->second;
  int64_t now = m.Now();
  {
    std::lock_guard<std::mutex> lock(t.mu);
    // ERC14: power off a minute ago, restored now.
    m.AddEvent(t, true,
               gdw1376::PowerOffRecord(MinuteOf(m.tz(), now + t.drift_us - kMicrosPerMinute),
                                       MinuteOf(m.tz(), now + t.drift_us)));
    t.report_pending = true;
  }
  if (!m.stopping) m.Wake(&t);
  return true;
}

bool Fleet::LoggedIn(gdw1376::TerminalKey k) const {
  auto it = impl_->by_key.find(k.Packed());
  return it != impl_->by_key.end() && it->second->logged_in;
}

std::optional<int64_t> Fleet::ClockOffsetSeconds(gdw1376::TerminalKey k) const {
  auto it = impl_->by_key.find(k.Packed());
  if (it == impl_->by_key.end()) return std::nullopt;
  std::lock_guard<std::mutex> lock(it->second->mu);
  int64_t us = it->second->drift_us;
  return (us >= 0 ? us + kMicrosPerSecond / 2 : us - kMicrosPerSecond / 2) / kMicrosPerSecond;
}

std::optional<MeterModel> Fleet::Model(gdw1376::TerminalKey k, uint16_t pn) const {
  auto it = impl_->by_key.find(k.Packed());
  if (it == impl_->by_key.end()) return std::nullopt;
  int idx = it->second->IndexOfPn(pn);
  if (idx < 0) return std::nullopt;
  return it->second->models[static_cast<size_t>(idx)];
}

bool Fleet::IsOfflineTerminal(gdw1376::TerminalKey k) const {
  auto it = impl_->by_key.find(k.Packed());
  return it != impl_->by_key.end() && it->second->offline_fault;
}

}  // namespace gridmis::acquisition::simulator
