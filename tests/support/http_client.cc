#include "support/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstring>

namespace gridmis::testing {

std::string HttpResponse::Header(const std::string& lower_name) const {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return v;
  }
  return "";
}

namespace {

int Connect(const std::string& host, uint16_t port, std::string* error) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{10, 0};  // bounded: no test waits more than 10 s on a socket
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    *error = std::string("connect: ") + std::strerror(errno);
    close(fd);
    return -1;
  }
  return fd;
}

bool SendAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

std::string ReadAll(int fd) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string HttpClient::SendRaw(const std::string& bytes) {
  std::string error;
  int fd = Connect(host_, port_, &error);
  if (fd < 0) return "";
  SendAll(fd, bytes);
  std::string out = ReadAll(fd);
  close(fd);
  return out;
}

HttpResponse HttpClient::Send(const std::string& method, const std::string& target,
                              const std::string& body,
                              const std::vector<std::pair<std::string, std::string>>& extra) {
  HttpResponse res;
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: " + host_ + "\r\n" +
                    "Connection: close\r\nUser-Agent: gridmis-test\r\n";
  bool has_ct = false;
  for (const auto& [k, v] : extra) {
    req += k + ": " + v + "\r\n";
    if (Lower(k) == "content-type") has_ct = true;
  }
  if (!body.empty() && !has_ct) req += "Content-Type: application/json\r\n";
  if (!body.empty() || method == "POST" || method == "PATCH" || method == "PUT") {
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  if (!bearer_.empty()) req += "Authorization: Bearer " + bearer_ + "\r\n";
  if (!cookies_.empty()) {
    req += "Cookie: ";
    bool first = true;
    for (const auto& [k, v] : cookies_) {
      if (!first) req += "; ";
      req += k + "=" + v;
      first = false;
    }
    req += "\r\n";
  }
  req += "\r\n" + body;
  int fd = Connect(host_, port_, &res.error);
  if (fd < 0) return res;
  if (!SendAll(fd, req)) {
    res.error = "send failed";
    close(fd);
    return res;
  }
  std::string raw = ReadAll(fd);
  close(fd);
  size_t head_end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos) {
    res.error = "malformed response: " + raw.substr(0, 100);
    return res;
  }
  res.status = std::atoi(raw.c_str() + 9);
  size_t pos = raw.find("\r\n") + 2;
  while (pos < head_end) {
    size_t eol = raw.find("\r\n", pos);
    std::string line = raw.substr(pos, eol - pos);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = Lower(line.substr(0, colon));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      res.headers.emplace_back(name, value);
      if (name == "set-cookie") {
        size_t eq = value.find('=');
        size_t semi = value.find(';');
        std::string cname = value.substr(0, eq);
        std::string cval =
            value.substr(eq + 1, semi == std::string::npos ? std::string::npos : semi - eq - 1);
        if (cval.empty() || value.find("Max-Age=0") != std::string::npos) {
          cookies_.erase(cname);
        } else {
          cookies_[cname] = cval;
        }
      }
    }
    pos = eol + 2;
  }
  res.body = raw.substr(head_end + 4);
  if (Lower(res.Header("transfer-encoding")) == "chunked") {
    std::string decoded;
    size_t p = 0;
    while (p < res.body.size()) {
      size_t eol = res.body.find("\r\n", p);
      size_t n = std::stoul(res.body.substr(p, eol - p), nullptr, 16);
      if (n == 0) break;
      decoded += res.body.substr(eol + 2, n);
      p = eol + 2 + n + 2;
    }
    res.body = decoded;
  }
  return res;
}

std::string UrlEncode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace gridmis::testing
