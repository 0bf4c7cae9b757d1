// Test helpers for the 1376.1 codec tests: hex in and out, times from the vector files.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#include "acquisition/protocol/gdw1376.h"

namespace gridmis::acquisition::gdw1376::testutil {

// "68 32 00" or "683200" → bytes.
inline Bytes FromHex(const std::string& hex) {
  Bytes out;
  std::string digits;
  for (char c : hex) {
    if (c != ' ') digits += c;
  }
  for (size_t i = 0; i + 1 < digits.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::strtoul(digits.substr(i, 2).c_str(), nullptr, 16)));
  }
  return out;
}

inline std::string ToHex(const Bytes& b, const std::string& sep = " ") {
  std::string s;
  char buf[4];
  for (size_t i = 0; i < b.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%02X", b[i]);
    if (i) s += sep;
    s += buf;
  }
  return s;
}

// "2024-03-15 10:30" → MinuteTime.
inline MinuteTime ParseMinute(const std::string& s) {
  MinuteTime t;
  std::sscanf(s.c_str(), "%d-%d-%d %d:%d", &t.year, &t.month, &t.day, &t.hour, &t.minute);
  return t;
}

inline std::string FormatMinute(const MinuteTime& t) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d", t.year, t.month, t.day, t.hour,
                t.minute);
  return buf;
}

}  // namespace gridmis::acquisition::gdw1376::testutil
