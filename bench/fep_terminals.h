// Load-generating terminals for the front end benchmarks (fep_connections, fep_echo): one
// process drives thousands of Q/GDW 1376.1 terminal connections with epoll on non-blocking
// sockets. Each logs in, sends heartbeats when asked, and answers every AFN0C request with an
// F129 reply (a template encoded once per terminal; only the RSEQ and the checksum are patched
// per answer, so the terminals cost the same whatever master station they face).
//
// Loopback only. Source addresses 127.0.0.x (x = source_ip) widen the ephemeral port space.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "acquisition/protocol/gdw1376.h"

namespace gridmis::bench {

namespace g = acquisition::gdw1376;

inline double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// VmRSS of this process in KiB. The status file stays open from the first call on: a front end
// holding every file descriptor it may have could not open it any more.
inline long RssKib() {
  static const int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[4096];
  const ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return -1;
  buf[n] = 0;
  const char* p = std::strstr(buf, "VmRSS:");
  return p ? std::atol(p + 6) : -1;
}

inline void RaiseFdLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

struct FleetConfig {
  uint16_t port = 0;
  uint16_t first_address = 1;  // A2 of the first terminal; area 3201
  int count = 0;
  int source_ip = 1;          // connect from 127.0.0.<source_ip>
  int heartbeat_seconds = 0;  // 0: no heartbeats
  int control_fd = -1;        // readable (or closed) = stop
};

struct FleetResult {
  int connected = 0, connect_failed = 0, logged_in = 0, closed_by_peer = 0;
  long heartbeats_sent = 0, heartbeats_confirmed = 0, requests_answered = 0;
  double connect_seconds = 0, login_seconds = 0;  // from the first connect
};

class Fleet {
 public:
  explicit Fleet(FleetConfig c) : cfg_(c) {}

  FleetResult Run() {
    FleetResult r;
    epfd_ = epoll_create1(0);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = ~uint64_t{0};
    epoll_ctl(epfd_, EPOLL_CTL_ADD, cfg_.control_fd, &ev);
    const auto t0 = std::chrono::steady_clock::now();
    conns_.reserve(static_cast<size_t>(cfg_.count));
    for (int i = 0; i < cfg_.count; ++i) {
      int fd = Connect();
      if (fd < 0) {
        ++r.connect_failed;
        if (r.connect_failed == 1) std::perror("fleet: connect");
        continue;
      }
      Conn c;
      c.fd = fd;
      c.key = {3201, static_cast<uint16_t>(cfg_.first_address + i)};
      c.reply = ReplyTemplate(c.key);
      conns_.push_back(std::move(c));
      ev.events = EPOLLIN;
      ev.data.u64 = conns_.size() - 1;
      epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
      SendLink(conns_.back(), 1);
      // Keep the confirms flowing while connecting.
      if ((i & 255) == 255) Poll(0, r);
    }
    r.connected = static_cast<int>(conns_.size());
    r.connect_seconds = SecondsSince(t0);
    auto next_hb = std::chrono::steady_clock::now();
    size_t hb_cursor = 0;
    while (!stop_) {
      Poll(20, r);
      if (logged_in_ == r.connected && r.login_seconds == 0) r.login_seconds = SecondsSince(t0);
      if (cfg_.heartbeat_seconds > 0 && !conns_.empty()) {
        // Spread: conns.size() heartbeats per heartbeat period.
        const auto now = std::chrono::steady_clock::now();
        const auto step = std::chrono::duration<double>(cfg_.heartbeat_seconds) / conns_.size();
        while (next_hb <= now && !stop_) {
          Conn& c = conns_[hb_cursor++ % conns_.size()];
          if (c.fd >= 0 && c.logged_in) {
            SendLink(c, 3);
            ++r.heartbeats_sent;
          }
          next_hb += std::chrono::duration_cast<std::chrono::steady_clock::duration>(step);
        }
      }
    }
    r.logged_in = logged_in_;
    for (Conn& c : conns_) {
      if (c.fd >= 0) close(c.fd);
    }
    close(epfd_);
    return r;
  }

 private:
  struct Conn {
    int fd = -1;
    g::TerminalKey key;
    bool logged_in = false;
    uint8_t seq = 0;
    std::vector<uint8_t> buf;
    std::vector<uint8_t> reply;
  };

  int Connect() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (cfg_.source_ip != 1) {
#ifdef IP_BIND_ADDRESS_NO_PORT
      setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
#endif
      sockaddr_in src{};
      src.sin_family = AF_INET;
      src.sin_addr.s_addr = htonl((127u << 24) | static_cast<uint32_t>(cfg_.source_ip));
      if (bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) {
        close(fd);
        return -1;
      }
    }
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(cfg_.port);
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0) {
      close(fd);
      return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
  }

  static std::vector<uint8_t> ReplyTemplate(g::TerminalKey k) {
    auto group = g::MakeGroup({1}, {129});
    g::Indication ind;
    ind.reading_time = {2026, 5, 28, 10, 15};
    ind.rates = 4;
    ind.values = {Energy::FromDwh(123456789), Energy::FromDwh(1), Energy::FromDwh(2),
                  Energy::FromDwh(3), Energy::FromDwh(123456783)};
    group->items.push_back({1, 129, g::EncodeIndication(ind, true)});
    g::Frame req = g::MakeRequest({k, 1, false}, g::kAfnClass1, 0, {*g::MakeGroup({1}, {129})});
    auto wire = g::Encode(g::MakeResponse(req, g::kAfnClass1, {*group}));
    return wire.ok() ? *wire : std::vector<uint8_t>{};
  }

  void SendLink(Conn& c, uint16_t fn) {
    auto wire = g::Encode(g::MakeLink(c.key, fn, c.seq++));
    if (wire.ok()) Write(c, wire->data(), wire->size());
  }

  void Write(Conn& c, const uint8_t* p, size_t n) {
    // Frames are small and the socket buffer large: a short write means a stuck peer.
    ssize_t w = send(c.fd, p, n, MSG_NOSIGNAL);
    (void)w;
  }

  void Poll(int timeout_ms, FleetResult& r) {
    epoll_event events[256];
    int n = epoll_wait(epfd_, events, 256, timeout_ms);
    for (int e = 0; e < n; ++e) {
      if (events[e].data.u64 == ~uint64_t{0}) {
        stop_ = true;
        continue;
      }
      Conn& c = conns_[events[e].data.u64];
      if (c.fd < 0) continue;
      uint8_t tmp[16384];
      for (;;) {
        ssize_t got = recv(c.fd, tmp, sizeof tmp, 0);
        if (got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
          ++r.closed_by_peer;
          if (c.logged_in) --logged_in_;
          close(c.fd);
          c.fd = -1;
          break;
        }
        if (got < 0) break;
        c.buf.insert(c.buf.end(), tmp, tmp + got);
        OnData(c, r);
        if (got < static_cast<ssize_t>(sizeof tmp)) break;
      }
    }
  }

  void OnData(Conn& c, FleetResult& r) {
    size_t pos = 0;
    while (pos < c.buf.size()) {
      g::Scan s = g::ScanFrame(g::ByteSpan(c.buf).subspan(pos));
      if (s.kind == g::Scan::kNeedMore) break;
      if (s.kind == g::Scan::kFrame) {
        const uint8_t* f = c.buf.data() + pos;
        const uint8_t afn = f[12];
        if (afn == g::kAfnConfirm) {
          if (!c.logged_in) {
            c.logged_in = true;
            ++logged_in_;
          } else {
            ++r.heartbeats_confirmed;
          }
        } else if (afn == g::kAfnClass1 && (f[6] & 0x80) == 0 && !c.reply.empty()) {
          std::vector<uint8_t>& rep = c.reply;
          rep[13] = static_cast<uint8_t>((rep[13] & 0xF0) | (f[13] & 0x0F));
          uint8_t cs = 0;
          for (size_t i = 6; i + 2 < rep.size(); ++i) cs = static_cast<uint8_t>(cs + rep[i]);
          rep[rep.size() - 2] = cs;
          Write(c, rep.data(), rep.size());
          ++r.requests_answered;
        }
      }
      pos += s.length;
    }
    c.buf.erase(c.buf.begin(), c.buf.begin() + static_cast<ptrdiff_t>(pos));
  }

  FleetConfig cfg_;
  int epfd_ = -1;
  bool stop_ = false;
  int logged_in_ = 0;
  std::vector<Conn> conns_;
};

// Writes a FleetResult to a pipe as one line; reads it back.
inline void WriteResult(int fd, const FleetResult& r) {
  char line[256];
  int n = std::snprintf(line, sizeof line, "%d %d %d %d %ld %ld %ld %.6f %.6f\n", r.connected,
                        r.connect_failed, r.logged_in, r.closed_by_peer, r.heartbeats_sent,
                        r.heartbeats_confirmed, r.requests_answered, r.connect_seconds,
                        r.login_seconds);
  if (write(fd, line, static_cast<size_t>(n)) != n) std::perror("fleet: report");
}

inline bool ReadResult(int fd, FleetResult* r) {
  std::string s;
  char ch;
  while (read(fd, &ch, 1) == 1 && ch != '\n') s += ch;
  return std::sscanf(s.c_str(), "%d %d %d %d %ld %ld %ld %lf %lf", &r->connected,
                     &r->connect_failed, &r->logged_in, &r->closed_by_peer, &r->heartbeats_sent,
                     &r->heartbeats_confirmed, &r->requests_answered, &r->connect_seconds,
                     &r->login_seconds) == 9;
}

}  // namespace gridmis::bench
