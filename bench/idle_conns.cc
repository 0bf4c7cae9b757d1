// Opens N TCP connections to HOST:PORT, sends a partial keep-alive-style nothing, and holds
// them open for SECONDS, then reports how many the server still had open. Used by
// bench/api_wrk.sh to check that thousands of idle keep-alive connections do not stop the
// server from serving. Loopback only.
//   idle_conns 127.0.0.1 8080 2000 40
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: idle_conns HOST PORT COUNT SECONDS\n");
    return 2;
  }
  const char* host = argv[1];
  int port = std::atoi(argv[2]);
  int count = std::atoi(argv[3]);
  int seconds = std::atoi(argv[4]);
  if (std::strncmp(host, "127.", 4) != 0 && std::strcmp(host, "localhost") != 0) {
    std::fprintf(stderr, "idle_conns only targets loopback addresses\n");
    return 2;
  }
  std::vector<int> fds;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, host, &addr.sin_addr);
  for (int i = 0; i < count; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      std::fprintf(stderr, "connection %d failed: %s\n", i, std::strerror(errno));
      if (fd >= 0) close(fd);
      break;
    }
    fds.push_back(fd);
  }
  std::printf("idle_conns: %zu connections open\n", fds.size());
  std::fflush(stdout);
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  // A connection the server closed reads EOF at once; an open one would block: poll with
  // MSG_DONTWAIT.
  int still_open = 0;
  for (int fd : fds) {
    char b;
    ssize_t n = recv(fd, &b, 1, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) ++still_open;
    close(fd);
  }
  std::printf("idle_conns: %d of %zu still open after %d s\n", still_open, fds.size(), seconds);
  return 0;
}
