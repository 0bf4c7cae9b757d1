#include "http/http.h"

namespace gridmis::http {

namespace {

// ASCII-only lower-casing: header names are tokens, locale must not matter.
char LowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (LowerAscii(a[i]) != LowerAscii(b[i])) return false;
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string_view Request::Header(std::string_view lower_name) const {
  // Names are stored in lower case; comparing without case also forgives a caller's "Host".
  for (const auto& [name, value] : headers) {
    if (EqualsIgnoreCase(name, lower_name)) return value;
  }
  return {};
}

std::optional<std::string_view> Request::Query(std::string_view name) const {
  for (const auto& [key, value] : query) {
    if (key == name) return std::string_view(value);
  }
  return std::nullopt;
}

std::string Request::Cookie(std::string_view name) const {
  if (name.empty()) return {};
  // RFC 6265 §5.4: "a=1; b=2". A client may (wrongly) send several Cookie headers: look in all.
  for (const auto& [header_name, header_value] : headers) {
    if (!EqualsIgnoreCase(header_name, "cookie")) continue;
    std::string_view rest = header_value;
    while (!rest.empty()) {
      size_t semi = rest.find(';');
      std::string_view pair = TrimSpaces(rest.substr(0, semi));
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      size_t eq = pair.find('=');
      if (eq == std::string_view::npos) continue;
      if (TrimSpaces(pair.substr(0, eq)) != name) continue;
      std::string_view value = TrimSpaces(pair.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      return std::string(value);
    }
  }
  return {};
}

bool PercentDecode(std::string_view in, std::string* out, bool plus_is_space) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (in.size() - i < 3) {  // fewer than two characters after '%'
        out->clear();
        return false;
      }
      int hi = HexValue(in[i + 1]);
      int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) {
        out->clear();
        return false;
      }
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    if (c == '\0') {
      out->clear();
      return false;
    }
    out->push_back(c);
  }
  return true;
}

bool ParseQueryString(std::string_view qs, std::vector<std::pair<std::string, std::string>>* out) {
  out->clear();
  while (!qs.empty()) {
    size_t amp = qs.find('&');
    std::string_view part = qs.substr(0, amp);
    qs = amp == std::string_view::npos ? std::string_view() : qs.substr(amp + 1);
    if (part.empty()) continue;  // "a=1&&b=2", a trailing '&'
    size_t eq = part.find('=');
    std::string key;
    std::string value;
    if (!PercentDecode(part.substr(0, eq), &key, /*plus_is_space=*/true) ||
        (eq != std::string_view::npos &&
         !PercentDecode(part.substr(eq + 1), &value, /*plus_is_space=*/true))) {
      out->clear();
      return false;
    }
    out->emplace_back(std::move(key), std::move(value));
  }
  return true;
}

}  // namespace gridmis::http
