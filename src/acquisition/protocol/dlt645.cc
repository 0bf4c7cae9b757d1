// DL/T 645-2007 frames, requests, replies and data identifiers (see dlt645.h).
#include "acquisition/protocol/dlt645.h"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <mutex>
#include <string_view>
#include <unordered_set>

#include "core/time.h"

namespace gridmis::acquisition::dlt645 {
namespace {

constexpr uint8_t kStart = 0x68;
constexpr uint8_t kEnd = 0x16;
constexpr uint8_t kWake = 0xFE;
constexpr size_t kMinFrame = 12;  // 68 A(6) 68 C L CS 16

std::string HexByte(uint8_t b) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  return std::string{kDigits[b >> 4], kDigits[b & 15]};
}

std::string Di8(uint32_t di) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08X", di);
  return buf;
}

std::string OffsetError(size_t offset, std::string_view what) {
  return "offset " + std::to_string(offset) + ": " + std::string(what);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// The 6 wire bytes (A0 first) of a 12-hex-digit address; zeros where it is not one.
std::array<uint8_t, 6> AddressBytes(const std::string& address) {
  std::array<uint8_t, 6> out{};
  if (address.size() != 12) return out;
  for (int i = 0; i < 6; ++i) {
    int hi = HexValue(address[2 * i]), lo = HexValue(address[2 * i + 1]);
    if (hi < 0 || lo < 0) continue;
    out[5 - i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

std::string AddressText(const uint8_t* a0) {
  std::string s;
  s.reserve(12);
  for (int i = 5; i >= 0; --i) s += HexByte(a0[i]);
  return s;
}

bool IsBcd(uint8_t b) { return (b >> 4) <= 9 && (b & 15) <= 9; }
uint8_t ToBcd(int v) { return static_cast<uint8_t>((v / 10 % 10) << 4 | (v % 10)); }
int FromBcd(uint8_t b) { return (b >> 4) * 10 + (b & 15); }

// EEH (or FFH) in any byte of a value: the meter has no data for it.
bool IsMissing(ByteSpan v) {
  for (uint8_t b : v) {
    if (b == 0xEE || b == 0xFF) return true;
  }
  return false;
}

// BCD little endian; with `is_signed` D7 of the high byte is the sign.
Result<int64_t> DecodeBcd(ByteSpan v, bool is_signed, size_t at, std::string_view what) {
  int64_t units = 0;
  bool negative = false;
  for (size_t k = v.size(); k-- > 0;) {
    uint8_t b = v[k];
    if (is_signed && k + 1 == v.size()) {
      negative = (b & 0x80) != 0;
      b &= 0x7F;
    }
    if (!IsBcd(b)) {
      return InvalidArgument("value byte " + std::to_string(at + k) + ": " + HexByte(v[k]) +
                             " is not BCD (" + std::string(what) + ")");
    }
    units = units * 100 + FromBcd(b);
  }
  return negative ? -units : units;
}

void EncodeBcd(int64_t units, int bytes, bool is_signed, Bytes& out) {
  bool negative = units < 0;
  uint64_t mag = negative ? static_cast<uint64_t>(-units) : static_cast<uint64_t>(units);
  for (int k = 0; k < bytes; ++k) {
    uint8_t b = ToBcd(static_cast<int>(mag % 100));
    mag /= 100;
    if (k + 1 == bytes && is_signed && negative) b |= 0x80;
    out.push_back(b);
  }
}

std::string FixedText(int64_t units, int decimals) {
  bool negative = units < 0;
  uint64_t mag = negative ? static_cast<uint64_t>(-units) : static_cast<uint64_t>(units);
  std::string digits = std::to_string(mag);
  if (decimals > 0) {
    if (static_cast<int>(digits.size()) <= decimals) {
      digits.insert(0, static_cast<size_t>(decimals + 1 - static_cast<int>(digits.size())), '0');
    }
    digits.insert(digits.size() - static_cast<size_t>(decimals), 1, '.');
  }
  return negative ? "-" + digits : digits;
}

// Parses "-12.345" with at most `decimals` fraction digits into units of 10^-decimals.
std::optional<int64_t> ParseFixed(std::string_view text, int decimals) {
  bool negative = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  if (text.empty() || text.size() > 18) return std::nullopt;
  int64_t units = 0;
  int frac = -1;
  for (char c : text) {
    if (c == '.') {
      if (frac >= 0) return std::nullopt;
      frac = 0;
      continue;
    }
    if (c < '0' || c > '9') return std::nullopt;
    if (frac >= 0 && ++frac > decimals) return std::nullopt;
    units = units * 10 + (c - '0');
  }
  if (frac == 0) return std::nullopt;  // "12."
  for (int k = frac < 0 ? 0 : frac; k < decimals; ++k) units *= 10;
  return negative ? -units : units;
}

// ---- Time fields (BCD, low byte first) ----

bool ValidDate(int y, int m, int d) {
  return m >= 1 && m <= 12 && d >= 1 && d <= DaysInMonth(y, m);
}

std::string Pad2(int v) {
  char buf[4];
  std::snprintf(buf, sizeof buf, "%02d", v % 100);
  return buf;
}

// `fields` of v (after a missing check), all BCD; returns them or an error naming the byte.
Result<std::array<int, 6>> BcdFields(ByteSpan v, size_t at, std::string_view what) {
  std::array<int, 6> f{};
  for (size_t k = 0; k < v.size() && k < 6; ++k) {
    if (!IsBcd(v[k])) {
      return InvalidArgument("value byte " + std::to_string(at + k) + ": " + HexByte(v[k]) +
                             " is not BCD (" + std::string(what) + ")");
    }
    f[k] = FromBcd(v[k]);
  }
  return f;
}

Status BadTime(size_t at, std::string_view what, std::string_view detail) {
  return InvalidArgument("value byte " + std::to_string(at) + ": " + std::string(what) + " " +
                         std::string(detail));
}

// ss mm hh DD MM YY / mm hh DD MM YY → "YYYY-MM-DD hh:mm[:ss]".
Result<std::string> TimeText(ByteSpan v, bool seconds, size_t at, std::string_view what) {
  ASSIGN_OR_RETURN(auto f, BcdFields(v, at, what));
  int i = 0;
  int ss = seconds ? f[i++] : 0;
  int mm = f[i++], hh = f[i++], dd = f[i++], mo = f[i++], yy = f[i++];
  int year = 2000 + yy;
  if (!ValidDate(year, mo, dd)) return BadTime(at, what, "has no such date");
  if (hh > 23 || mm > 59 || ss > 59) return BadTime(at, what, "has no such time of day");
  std::string s =
      std::to_string(year) + "-" + Pad2(mo) + "-" + Pad2(dd) + " " + Pad2(hh) + ":" + Pad2(mm);
  if (seconds) s += ":" + Pad2(ss);
  return s;
}

// ---- The DI table ----

// Names built from the DI pattern are interned: one copy per DI seen, alive for the process.
const char* Intern(std::string s) {
  static std::mutex mu;
  static std::unordered_set<std::string>* names = new std::unordered_set<std::string>();
  std::lock_guard<std::mutex> lock(mu);
  return names->insert(std::move(s)).first->c_str();
}

struct EnergyKind {
  const char* name;
  const char* unit;
  const char* demand_unit;
  bool is_signed;
};
// DI2 of 00xxxxxx / 01xxxxxx.
constexpr EnergyKind kEnergyKinds[] = {
    {"combined active", "kWh", "kW", true},          // 00 (no demand)
    {"forward active", "kWh", "kW", false},          // 01
    {"reverse active", "kWh", "kW", false},          // 02
    {"combined reactive 1", "kvarh", "kvar", true},  // 03
    {"combined reactive 2", "kvarh", "kvar", true},  // 04
    {"quadrant I reactive", "kvarh", "kvar", false},
    {"quadrant II reactive", "kvarh", "kvar", false},
    {"quadrant III reactive", "kvarh", "kvar", false},
    {"quadrant IV reactive", "kvarh", "kvar", false},
    {"forward apparent", "kVAh", "kVA", false},  // 09
    {"reverse apparent", "kVAh", "kVA", false},  // 0A
};

std::string Settlement(int n) {
  return n == 0 ? "" : " (last " + std::to_string(n) + " settlement day)";
}

std::string RatePart(int di1) {
  if (di1 == 0) return "total";
  if (di1 == 0xFF) return "block (total, rates)";
  return "rate " + std::to_string(di1);
}

struct Fixed {
  uint32_t di;
  const char* name;
  const char* unit;
  int bytes;
  int decimals;
  bool is_signed;
  int count;
  DiFormat format;
};
constexpr Fixed kFixed[] = {
    // Instantaneous values (02xxxxxx).
    {0x02010100, "phase A voltage", "V", 2, 1, false, 1, DiFormat::kNumber},
    {0x02010200, "phase B voltage", "V", 2, 1, false, 1, DiFormat::kNumber},
    {0x02010300, "phase C voltage", "V", 2, 1, false, 1, DiFormat::kNumber},
    {0x0201FF00, "voltage block (A, B, C)", "V", 2, 1, false, 3, DiFormat::kNumber},
    {0x02020100, "phase A current", "A", 3, 3, true, 1, DiFormat::kNumber},
    {0x02020200, "phase B current", "A", 3, 3, true, 1, DiFormat::kNumber},
    {0x02020300, "phase C current", "A", 3, 3, true, 1, DiFormat::kNumber},
    {0x0202FF00, "current block (A, B, C)", "A", 3, 3, true, 3, DiFormat::kNumber},
    {0x02030000, "total active power", "kW", 3, 4, true, 1, DiFormat::kNumber},
    {0x02030100, "phase A active power", "kW", 3, 4, true, 1, DiFormat::kNumber},
    {0x02030200, "phase B active power", "kW", 3, 4, true, 1, DiFormat::kNumber},
    {0x02030300, "phase C active power", "kW", 3, 4, true, 1, DiFormat::kNumber},
    {0x0203FF00, "active power block (total, A, B, C)", "kW", 3, 4, true, 4, DiFormat::kNumber},
    {0x02040000, "total reactive power", "kvar", 3, 4, true, 1, DiFormat::kNumber},
    {0x02040100, "phase A reactive power", "kvar", 3, 4, true, 1, DiFormat::kNumber},
    {0x02040200, "phase B reactive power", "kvar", 3, 4, true, 1, DiFormat::kNumber},
    {0x02040300, "phase C reactive power", "kvar", 3, 4, true, 1, DiFormat::kNumber},
    {0x0204FF00, "reactive power block (total, A, B, C)", "kvar", 3, 4, true, 4, DiFormat::kNumber},
    {0x02050000, "total apparent power", "kVA", 3, 4, true, 1, DiFormat::kNumber},
    {0x02050100, "phase A apparent power", "kVA", 3, 4, true, 1, DiFormat::kNumber},
    {0x02050200, "phase B apparent power", "kVA", 3, 4, true, 1, DiFormat::kNumber},
    {0x02050300, "phase C apparent power", "kVA", 3, 4, true, 1, DiFormat::kNumber},
    {0x0205FF00, "apparent power block (total, A, B, C)", "kVA", 3, 4, true, 4, DiFormat::kNumber},
    {0x02060000, "total power factor", "", 2, 3, true, 1, DiFormat::kNumber},
    {0x02060100, "phase A power factor", "", 2, 3, true, 1, DiFormat::kNumber},
    {0x02060200, "phase B power factor", "", 2, 3, true, 1, DiFormat::kNumber},
    {0x02060300, "phase C power factor", "", 2, 3, true, 1, DiFormat::kNumber},
    {0x0206FF00, "power factor block (total, A, B, C)", "", 2, 3, true, 4, DiFormat::kNumber},
    {0x02070100, "phase A angle", "°", 2, 1, false, 1, DiFormat::kNumber},
    {0x02070200, "phase B angle", "°", 2, 1, false, 1, DiFormat::kNumber},
    {0x02070300, "phase C angle", "°", 2, 1, false, 1, DiFormat::kNumber},
    {0x0207FF00, "phase angle block (A, B, C)", "°", 2, 1, false, 3, DiFormat::kNumber},
    {0x02800001, "zero-sequence current", "A", 3, 3, true, 1, DiFormat::kNumber},
    {0x02800002, "grid frequency", "Hz", 2, 2, false, 1, DiFormat::kNumber},
    {0x02800003, "one-minute average total active power", "kW", 3, 4, true, 1, DiFormat::kNumber},
    {0x02800004, "current active demand", "kW", 3, 4, true, 1, DiFormat::kNumber},
    {0x02800005, "current reactive demand", "kvar", 3, 4, true, 1, DiFormat::kNumber},
    {0x02800006, "current apparent demand", "kVA", 3, 4, true, 1, DiFormat::kNumber},
    {0x02800007, "meter temperature", "°C", 2, 1, true, 1, DiFormat::kNumber},
    {0x02800008, "clock battery voltage", "V", 2, 2, false, 1, DiFormat::kNumber},
    {0x02800009, "meter-reading battery voltage", "V", 2, 2, false, 1, DiFormat::kNumber},
    {0x0280000A, "internal battery working time", "min", 4, 0, false, 1, DiFormat::kNumber},
    // Parameters (04xxxxxx).
    {0x04000101, "date and weekday", "", 4, 0, false, 1, DiFormat::kDateWeek},
    {0x04000102, "time", "", 3, 0, false, 1, DiFormat::kTime},
    {0x04000401, "communication address", "", 6, 0, false, 1, DiFormat::kDigits},
    {0x04000402, "meter number", "", 6, 0, false, 1, DiFormat::kDigits},
    // Trip and close event counts (1D/1E).
    {0x1D000001, "trip event count", "", 3, 0, false, 1, DiFormat::kNumber},
    {0x1E000001, "close event count", "", 3, 0, false, 1, DiFormat::kNumber},
    // DL/T 645-1997 (2-byte DIs).
    {0x9010, "forward active total energy (1997)", "kWh", 4, 2, false, 1, DiFormat::kEnergy},
    {0x9020, "reverse active total energy (1997)", "kWh", 4, 2, false, 1, DiFormat::kEnergy},
    {0x901F, "forward active energy block (1997)", "kWh", 4, 2, false, 0, DiFormat::kEnergy},
    {0x9110, "forward reactive total energy (1997)", "kvarh", 4, 2, false, 1, DiFormat::kEnergy},
    {0xB611, "phase A voltage (1997)", "V", 2, 0, false, 1, DiFormat::kNumber},
    {0xB612, "phase B voltage (1997)", "V", 2, 0, false, 1, DiFormat::kNumber},
    {0xB613, "phase C voltage (1997)", "V", 2, 0, false, 1, DiFormat::kNumber},
    {0xB621, "phase A current (1997)", "A", 2, 2, false, 1, DiFormat::kNumber},
    {0xB622, "phase B current (1997)", "A", 2, 2, false, 1, DiFormat::kNumber},
    {0xB623, "phase C current (1997)", "A", 2, 2, false, 1, DiFormat::kNumber},
    {0xB630, "total active power (1997)", "kW", 3, 4, false, 1, DiFormat::kNumber},
    {0xB650, "total power factor (1997)", "", 2, 3, false, 1, DiFormat::kNumber},
    {0xC010, "date and weekday (1997)", "", 4, 0, false, 1, DiFormat::kDateWeek},
    {0xC011, "time (1997)", "", 3, 0, false, 1, DiFormat::kTime},
    {0xC032, "communication address (1997)", "", 6, 0, false, 1, DiFormat::kDigits},
};

// DI1 of the daily freeze 0506xxnn: what is frozen.
struct FreezeKind {
  const char* name;
  const char* unit;
  bool is_signed;
  bool demand;
};
constexpr FreezeKind kFreezeKinds[] = {
    {"", "", false, false},  // 00: freeze time
    {"forward active energy", "kWh", false, false},
    {"reverse active energy", "kWh", false, false},
    {"combined reactive 1 energy", "kvarh", true, false},
    {"combined reactive 2 energy", "kvarh", true, false},
    {"quadrant I reactive energy", "kvarh", false, false},
    {"quadrant II reactive energy", "kvarh", false, false},
    {"quadrant III reactive energy", "kvarh", false, false},
    {"quadrant IV reactive energy", "kvarh", false, false},
    {"forward active max demand", "kW", false, true},
    {"reverse active max demand", "kW", false, true},
};

Result<DiInfo> NotKnown(uint32_t di) {
  return NotFound("DI " + Di8(di) + " is not in the DL/T 645 table of this codec");
}

// Without `with_name` the pattern DIs leave `name` empty (no interning: the decoders' fast path).
Result<DiInfo> Lookup(uint32_t di, bool with_name) {
  for (const Fixed& f : kFixed) {
    if (f.di == di) {
      return DiInfo{f.di, f.name, f.unit, f.bytes, f.decimals, f.is_signed, f.count, f.format};
    }
  }
  const int di3 = static_cast<int>(di >> 24), di2 = static_cast<int>(di >> 16 & 0xFF),
            di1 = static_cast<int>(di >> 8 & 0xFF), di0 = static_cast<int>(di & 0xFF);
  const bool rate_ok = di1 <= 0x3F || di1 == 0xFF;
  if (di3 == 0x00 && di2 <= 0x0A && rate_ok && di0 <= 0x0C) {
    const EnergyKind& k = kEnergyKinds[di2];
    DiInfo info{di, "", k.unit, 4, 2, k.is_signed, di1 == 0xFF ? 0 : 1, DiFormat::kEnergy};
    if (with_name)
      info.name = Intern(std::string(k.name) + " energy, " + RatePart(di1) + Settlement(di0));
    return info;
  }
  if (di3 == 0x01 && di2 >= 0x01 && di2 <= 0x0A && rate_ok && di0 <= 0x0C) {
    const EnergyKind& k = kEnergyKinds[di2];
    DiInfo info{di, "", k.demand_unit, 8, 4, k.is_signed, di1 == 0xFF ? 0 : 1, DiFormat::kDemand};
    if (with_name)
      info.name =
          Intern(std::string(k.name) + " max demand and time, " + RatePart(di1) + Settlement(di0));
    return info;
  }
  if (di3 == 0x05 && di2 == 0x06 && di1 <= 0x0A && di0 >= 1 && di0 <= 0x3E) {
    const std::string last = "(last " + std::to_string(di0) + ") daily freeze ";
    if (di1 == 0) {
      return DiInfo{
          di, with_name ? Intern(last + "time") : "", "", 5, 0, false, 1, DiFormat::kMinuteTime};
    }
    const FreezeKind& k = kFreezeKinds[di1];
    if (k.demand) {
      return DiInfo{di,     with_name ? Intern(last + k.name + " (total, rates)") : "",
                    k.unit, 8,
                    4,      false,
                    0,      DiFormat::kDemand};
    }
    return DiInfo{di,     with_name ? Intern(last + k.name + " (total, rates)") : "",
                  k.unit, 4,
                  2,      k.is_signed,
                  0,      DiFormat::kEnergy};
  }
  if ((di3 == 0x1D || di3 == 0x1E) && di2 == 0x00 && di1 == 0x01 && di0 >= 1 && di0 <= 0x0A) {
    std::string name =
        "(last " + std::to_string(di0) + ") " + (di3 == 0x1D ? "trip" : "close") + " event record";
    return DiInfo{
        di, with_name ? Intern(std::move(name)) : "", "", 34, 0, false, 1, DiFormat::kSwitchEvent};
  }
  return NotKnown(di);
}

// "DI 00010000 (forward active energy, total)" for error messages.
std::string Described(uint32_t di) {
  auto info = Lookup(di, true);
  return "DI " + Di8(di) + (info.ok() ? std::string(" (") + info->name + ")" : std::string());
}

// Splits `value` into the values of `info`, checking the length.
Result<size_t> ValueCount(const DiInfo& info, ByteSpan value) {
  const size_t b = static_cast<size_t>(info.bytes);
  if (info.format == DiFormat::kSwitchEvent) return size_t{1};
  if (info.count > 0) {
    if (value.size() != b * static_cast<size_t>(info.count)) {
      return InvalidArgument(Described(info.di) + ": " + std::to_string(value.size()) +
                             " value bytes, expected " +
                             std::to_string(b * static_cast<size_t>(info.count)));
    }
    return static_cast<size_t>(info.count);
  }
  if (value.empty() || value.size() % b != 0) {
    return InvalidArgument(Described(info.di) + ": " + std::to_string(value.size()) +
                           " value bytes, not a whole number of " + std::to_string(b) +
                           "-byte values");
  }
  return value.size() / b;
}

Result<std::optional<std::string>> OneText(const DiInfo& info, ByteSpan v, size_t at) {
  if (info.format == DiFormat::kSwitchEvent) {
    ASSIGN_OR_RETURN(SwitchEvent e, DecodeSwitchEvent(v));
    return std::optional<std::string>(e.Text());
  }
  if (info.format == DiFormat::kDemand) {
    if (IsMissing(v.first(3))) return std::optional<std::string>();
    ASSIGN_OR_RETURN(int64_t units, DecodeBcd(v.first(3), info.is_signed, at, info.name));
    std::string s = FixedText(units, 4);
    if (!IsMissing(v.subspan(3))) {
      ASSIGN_OR_RETURN(std::string t, TimeText(v.subspan(3), false, at + 3, "demand time"));
      s += " at " + t;
    }
    return std::optional<std::string>(s);
  }
  if (IsMissing(v)) return std::optional<std::string>();
  switch (info.format) {
    case DiFormat::kNumber:
    case DiFormat::kEnergy: {
      ASSIGN_OR_RETURN(int64_t units, DecodeBcd(v, info.is_signed, at, info.name));
      return std::optional<std::string>(FixedText(units, info.decimals));
    }
    case DiFormat::kDateWeek: {
      ASSIGN_OR_RETURN(auto f, BcdFields(v, at, "date"));
      int year = 2000 + f[3];
      if (!ValidDate(year, f[2], f[1])) return BadTime(at + 1, "date", "has no such date");
      if (f[0] > 6) return BadTime(at, "date", "weekday is not 0..6");
      return std::optional<std::string>(std::to_string(year) + "-" + Pad2(f[2]) + "-" + Pad2(f[1]));
    }
    case DiFormat::kTime: {
      ASSIGN_OR_RETURN(auto f, BcdFields(v, at, "time"));
      if (f[2] > 23 || f[1] > 59 || f[0] > 59) {
        return BadTime(at, "time", "has no such time of day");
      }
      return std::optional<std::string>(Pad2(f[2]) + ":" + Pad2(f[1]) + ":" + Pad2(f[0]));
    }
    case DiFormat::kMinuteTime: {
      ASSIGN_OR_RETURN(std::string t, TimeText(v, false, at, info.name));
      return std::optional<std::string>(std::move(t));
    }
    case DiFormat::kDigits:
      return std::optional<std::string>(AddressText(v.data()));
    default:
      break;
  }
  return Internal("unhandled DI format");
}

Status TextError(uint32_t di, size_t index, std::string_view text, std::string_view expected) {
  return InvalidArgument("DI " + Di8(di) + " value " + std::to_string(index) + ": '" +
                         std::string(text) + "' is not " + std::string(expected));
}

// "YYYY-MM-DD" and friends, digits at fixed positions.
std::optional<int> Digits(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) return std::nullopt;
  int v = 0;
  for (size_t k = pos; k < pos + n; ++k) {
    if (s[k] < '0' || s[k] > '9') return std::nullopt;
    v = v * 10 + (s[k] - '0');
  }
  return v;
}

struct Civil {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
};
// "YYYY-MM-DD", "YYYY-MM-DD hh:mm", "YYYY-MM-DD hh:mm:ss" (by `len`), years 2000..2099.
std::optional<Civil> ParseCivil(std::string_view s, size_t len) {
  if (s.size() != len) return std::nullopt;
  Civil c;
  auto y = Digits(s, 0, 4), mo = Digits(s, 5, 2), d = Digits(s, 8, 2);
  if (!y || !mo || !d || s[4] != '-' || s[7] != '-') return std::nullopt;
  c.year = *y, c.month = *mo, c.day = *d;
  if (len >= 16) {
    auto h = Digits(s, 11, 2), mi = Digits(s, 14, 2);
    if (!h || !mi || s[10] != ' ' || s[13] != ':') return std::nullopt;
    c.hour = *h, c.minute = *mi;
  }
  if (len == 19) {
    auto se = Digits(s, 17, 2);
    if (!se || s[16] != ':') return std::nullopt;
    c.second = *se;
  }
  if (c.year < 2000 || c.year > 2099 || !ValidDate(c.year, c.month, c.day) || c.hour > 23 ||
      c.minute > 59 || c.second > 59) {
    return std::nullopt;
  }
  return c;
}

}  // namespace

// ---- Frames ----

uint8_t Frame::ControlByte() const {
  return static_cast<uint8_t>((up ? 0x80 : 0) | (abnormal ? 0x40 : 0) | (follow ? 0x20 : 0) |
                              (func & 0x1F));
}

Status CheckAddress(const std::string& address) {
  if (address.size() != 12) {
    return InvalidArgument("meter address '" + address + "' has " + std::to_string(address.size()) +
                           " characters, expected 12 digits");
  }
  for (size_t i = 0; i < address.size(); ++i) {
    if (HexValue(address[i]) < 0) {
      return InvalidArgument("meter address '" + address + "': character " + std::to_string(i + 1) +
                             " is not a digit");
    }
  }
  return Status::Ok();
}

Scan ScanFrame(ByteSpan buf) {
  Scan r;
  const size_t n = buf.size();
  size_t i = 0;
  while (i < n && buf[i] == kWake) ++i;
  if (i > static_cast<size_t>(kMaxLeadingFe)) {
    r.kind = Scan::kSkip;
    r.length = i - 4;
    r.reason = "too many FE wake-up bytes";
    return r;
  }
  auto skip = [&](size_t from, std::string reason) {
    // Drop up to the next byte that may start a frame (68H or FE) after `from`.
    size_t j = from + 1;
    while (j < n && buf[j] != kStart && buf[j] != kWake) ++j;
    r.kind = Scan::kSkip;
    r.length = j;
    r.reason = std::move(reason);
    return r;
  };
  if (i == n) return r;  // only wake-up bytes so far
  if (buf[i] != kStart) return skip(i, "no 68H");
  if (n > i + 7 && buf[i + 7] != kStart) return skip(i, "second 68H missing");
  if (n < i + 10) return r;
  const size_t len = buf[i + 9];
  const size_t total = i + kMinFrame + len;
  if (n < total) return r;
  uint8_t cs = 0;
  for (size_t k = i; k < i + 10 + len; ++k) cs = static_cast<uint8_t>(cs + buf[k]);
  if (cs != buf[i + 10 + len]) return skip(i, "checksum");
  if (buf[total - 1] != kEnd) return skip(i, "no 16H");
  r.kind = Scan::kFrame;
  r.length = total;
  return r;
}

Result<Frame> Decode(ByteSpan frame) {
  const size_t n = frame.size();
  size_t i = 0;
  while (i < n && frame[i] == kWake) ++i;
  if (n - i < kMinFrame) {
    return InvalidArgument(OffsetError(i, "frame too short: " + std::to_string(n - i) +
                                              " bytes from the start byte, a DL/T 645 frame "
                                              "has at least 12"));
  }
  if (frame[i] != kStart) {
    return InvalidArgument(OffsetError(i, "start byte " + HexByte(frame[i]) + ", not 68H"));
  }
  if (frame[i + 7] != kStart) {
    return InvalidArgument(
        OffsetError(i + 7, "second start byte " + HexByte(frame[i + 7]) + ", not 68H"));
  }
  const size_t len = frame[i + 9];
  if (n != i + kMinFrame + len) {
    return InvalidArgument(OffsetError(i + 9, "L = " + std::to_string(len) + " makes a frame of " +
                                                  std::to_string(i + kMinFrame + len) +
                                                  " bytes, got " + std::to_string(n)));
  }
  uint8_t cs = 0;
  for (size_t k = i; k < i + 10 + len; ++k) cs = static_cast<uint8_t>(cs + frame[k]);
  if (cs != frame[i + 10 + len]) {
    return InvalidArgument(OffsetError(
        i + 10 + len, "checksum " + HexByte(frame[i + 10 + len]) + ", computed " + HexByte(cs)));
  }
  if (frame[n - 1] != kEnd) {
    return InvalidArgument(OffsetError(n - 1, "end byte " + HexByte(frame[n - 1]) + ", not 16H"));
  }
  Frame f;
  f.leading_fe = static_cast<int>(i);
  f.address = AddressText(&frame[i + 1]);
  const uint8_t c = frame[i + 8];
  f.up = (c & 0x80) != 0;
  f.abnormal = (c & 0x40) != 0;
  f.follow = (c & 0x20) != 0;
  f.func = c & 0x1F;
  f.data.resize(len);
  for (size_t k = 0; k < len; ++k) f.data[k] = static_cast<uint8_t>(frame[i + 10 + k] - 0x33);
  return f;
}

Bytes Encode(const Frame& f) {
  assert(CheckAddress(f.address).ok());
  assert(f.data.size() <= kMaxData);
  const size_t len = std::min(f.data.size(), kMaxData);
  Bytes out;
  out.reserve(static_cast<size_t>(std::max(f.leading_fe, 0)) + kMinFrame + len);
  for (int k = 0; k < f.leading_fe; ++k) out.push_back(kWake);
  const size_t start = out.size();
  out.push_back(kStart);
  for (uint8_t b : AddressBytes(f.address)) out.push_back(b);
  out.push_back(kStart);
  out.push_back(f.ControlByte());
  out.push_back(static_cast<uint8_t>(len));
  for (size_t k = 0; k < len; ++k) out.push_back(static_cast<uint8_t>(f.data[k] + 0x33));
  uint8_t cs = 0;
  for (size_t k = start; k < out.size(); ++k) cs = static_cast<uint8_t>(cs + out[k]);
  out.push_back(cs);
  out.push_back(kEnd);
  return out;
}

Result<Bytes> EncodeChecked(const Frame& f) {
  RETURN_IF_ERROR(CheckAddress(f.address));
  if (f.data.size() > kMaxData) {
    return InvalidArgument("DL/T 645 data of " + std::to_string(f.data.size()) +
                           " bytes; at most 255 fit in L");
  }
  if (f.leading_fe < 0 || f.leading_fe > kMaxLeadingFe) {
    return InvalidArgument("leading FE count " + std::to_string(f.leading_fe) + " is not 0..16");
  }
  return Encode(f);
}

std::string ErrorText(uint8_t err) {
  static constexpr const char* kBits[] = {
      "other error",
      "no requested data",
      "password error / not authorised",
      "baud rate cannot change",
      "too many annual time zones",
      "too many daily time slots",
      "too many tariffs",
      "reserved bit 7",
  };
  if (err == 0) return "unspecified error (ERR 00)";
  std::string s;
  for (int b = 0; b < 8; ++b) {
    if (err & (1 << b)) {
      if (!s.empty()) s += ", ";
      s += kBits[b];
    }
  }
  return s;
}

// ---- Requests ----

Frame MakeRead(const std::string& address, uint32_t di) {
  Frame f;
  f.address = address;
  f.func = kRead;
  f.data = {static_cast<uint8_t>(di), static_cast<uint8_t>(di >> 8), static_cast<uint8_t>(di >> 16),
            static_cast<uint8_t>(di >> 24)};
  return f;
}

Frame MakeRead1997(const std::string& address, uint16_t di) {
  Frame f;
  f.address = address;
  f.func = kRead1997;
  f.data = {static_cast<uint8_t>(di), static_cast<uint8_t>(di >> 8)};
  return f;
}

Frame MakeBroadcastTime(int year, int month, int day, int hour, int minute, int second) {
  Frame f;
  f.address = "999999999999";
  f.func = kBroadcastTime;
  f.data = {ToBcd(second), ToBcd(minute), ToBcd(hour), ToBcd(day), ToBcd(month), ToBcd(year)};
  return f;
}

Frame MakeReadAddress() {
  Frame f;
  f.address = "AAAAAAAAAAAA";
  f.func = kReadAddress;
  return f;
}

Frame MakeControl(const std::string& address, const ControlParams& p) {
  Frame f;
  f.address = address;
  f.func = kControl;
  f.data = {p.password_level,
            static_cast<uint8_t>(p.password),
            static_cast<uint8_t>(p.password >> 8),
            static_cast<uint8_t>(p.password >> 16),
            static_cast<uint8_t>(p.operator_code),
            static_cast<uint8_t>(p.operator_code >> 8),
            static_cast<uint8_t>(p.operator_code >> 16),
            static_cast<uint8_t>(p.operator_code >> 24),
            static_cast<uint8_t>(p.action),
            0x00,
            ToBcd(p.valid_second),
            ToBcd(p.valid_minute),
            ToBcd(p.valid_hour),
            ToBcd(p.valid_day),
            ToBcd(p.valid_month),
            ToBcd(p.valid_year)};
  return f;
}

Result<ControlParams> DecodeControl(const Frame& request) {
  if (request.func != kControl || request.up) {
    return InvalidArgument("not a control request: C = " + HexByte(request.ControlByte()));
  }
  if (request.data.size() != 16) {
    return InvalidArgument("control data of " + std::to_string(request.data.size()) +
                           " bytes, the plain form has 16 (ciphertext control is not decoded)");
  }
  const Bytes& d = request.data;
  ControlParams p;
  p.password_level = d[0];
  p.password = uint32_t{d[1]} | uint32_t{d[2]} << 8 | uint32_t{d[3]} << 16;
  p.operator_code =
      uint32_t{d[4]} | uint32_t{d[5]} << 8 | uint32_t{d[6]} << 16 | uint32_t{d[7]} << 24;
  switch (d[8]) {
    case 0x1A:
    case 0x1B:
    case 0x1C:
    case 0x2A:
    case 0x2B:
    case 0x3A:
    case 0x3B:
      p.action = static_cast<ControlAction>(d[8]);
      break;
    default:
      return InvalidArgument("data byte 8: control action N1 = " + HexByte(d[8]) +
                             " is not 1A, 1B, 1C, 2A, 2B, 3A or 3B");
  }
  ASSIGN_OR_RETURN(auto f, BcdFields(ByteSpan(d).subspan(10, 6), 10, "valid-until time"));
  p.valid_second = f[0], p.valid_minute = f[1], p.valid_hour = f[2], p.valid_day = f[3],
  p.valid_month = f[4], p.valid_year = 2000 + f[5];
  if (!ValidDate(p.valid_year, p.valid_month, p.valid_day) || p.valid_hour > 23 ||
      p.valid_minute > 59 || p.valid_second > 59) {
    return InvalidArgument("data byte 10: valid-until time is not a date and time");
  }
  return p;
}

// ---- Replies ----

Result<ReadReply> DecodeReadReply(const Frame& reply) {
  if (!reply.up) {
    return InvalidArgument("not a reply: C = " + HexByte(reply.ControlByte()) +
                           " is master → meter");
  }
  if (reply.abnormal) {
    if (reply.data.empty()) return InvalidArgument("error reply without its ERR byte");
    return FailedPrecondition("meter error reply: " + ErrorText(reply.data[0]));
  }
  ReadReply r;
  switch (reply.func) {
    case kRead:
    case kReadFollow: {
      const size_t tail = reply.func == kReadFollow ? 1 : 0;
      if (reply.data.size() < 4 + tail) {
        return InvalidArgument("read reply data of " + std::to_string(reply.data.size()) +
                               " bytes, shorter than its DI");
      }
      r.di = uint32_t{reply.data[0]} | uint32_t{reply.data[1]} << 8 |
             uint32_t{reply.data[2]} << 16 | uint32_t{reply.data[3]} << 24;
      r.value.assign(reply.data.begin() + 4, reply.data.end() - static_cast<ptrdiff_t>(tail));
      return r;
    }
    case kRead1997:
      if (reply.data.size() < 2) {
        return InvalidArgument("1997 read reply data of " + std::to_string(reply.data.size()) +
                               " bytes, shorter than its DI");
      }
      r.di = uint32_t{reply.data[0]} | uint32_t{reply.data[1]} << 8;
      r.value.assign(reply.data.begin() + 2, reply.data.end());
      return r;
    case kReadAddress:
      if (reply.data.size() != 6) {
        return InvalidArgument("read-address reply data of " + std::to_string(reply.data.size()) +
                               " bytes, expected 6");
      }
      r.di = 0x04000401;
      r.value = reply.data;
      return r;
    default:
      return InvalidArgument("not a read reply: C = " + HexByte(reply.ControlByte()));
  }
}

Frame MakeReadReply(const Frame& request, const Bytes& value) {
  Frame f;
  f.address = request.address;
  f.up = true;
  f.func = request.func;
  if (request.func == kRead || request.func == kReadFollow) {
    f.data.assign(request.data.begin(),
                  request.data.begin() + std::min<size_t>(4, request.data.size()));
  } else if (request.func == kRead1997) {
    f.data.assign(request.data.begin(),
                  request.data.begin() + std::min<size_t>(2, request.data.size()));
  } else if (request.func == kReadAddress && value.size() == 6) {
    f.address = AddressText(value.data());
  }
  f.data.insert(f.data.end(), value.begin(), value.end());
  return f;
}

Frame MakeErrorReply(const Frame& request, uint8_t err) {
  Frame f;
  f.address = request.address;
  f.up = true;
  f.abnormal = true;
  f.func = request.func;
  f.data = {err};
  return f;
}

Frame MakeControlReply(const Frame& request) {
  Frame f;
  f.address = request.address;
  f.up = true;
  f.func = kControl;
  return f;
}

// ---- Data identifiers ----

Result<DiInfo> LookupDi(uint32_t di) { return Lookup(di, true); }

Result<std::vector<std::optional<Energy>>> DecodeEnergies(uint32_t di, ByteSpan value) {
  ASSIGN_OR_RETURN(DiInfo info, Lookup(di, false));
  if (info.format != DiFormat::kEnergy) {
    return InvalidArgument(Described(di) + " is not an energy");
  }
  ASSIGN_OR_RETURN(size_t count, ValueCount(info, value));
  std::vector<std::optional<Energy>> out;
  out.reserve(count);
  for (size_t k = 0; k < count; ++k) {
    ByteSpan v = value.subspan(k * 4, 4);
    if (IsMissing(v)) {
      out.emplace_back();
      continue;
    }
    ASSIGN_OR_RETURN(int64_t hundredths, DecodeBcd(v, info.is_signed, k * 4, "energy"));
    out.push_back(Energy::FromDwh(hundredths * 100));
  }
  return out;
}

Bytes EncodeEnergies(const std::vector<std::optional<Energy>>& v) {
  Bytes out;
  out.reserve(v.size() * 4);
  for (const auto& e : v) {
    if (!e) {
      out.insert(out.end(), 4, 0xEE);
      continue;
    }
    int64_t dwh = e->dwh();
    int64_t hundredths = dwh >= 0 ? (dwh + 50) / 100 : -((-dwh + 50) / 100);
    if (hundredths >= 0) {
      EncodeBcd(hundredths % 100'000'000, 4, false, out);
    } else {
      EncodeBcd(-(-hundredths % 80'000'000), 4, true, out);
    }
  }
  return out;
}

Result<std::vector<std::optional<std::string>>> DecodeValueText(uint32_t di, ByteSpan value) {
  ASSIGN_OR_RETURN(DiInfo info, LookupDi(di));
  ASSIGN_OR_RETURN(size_t count, ValueCount(info, value));
  std::vector<std::optional<std::string>> out;
  out.reserve(count);
  const size_t b =
      info.format == DiFormat::kSwitchEvent ? value.size() : static_cast<size_t>(info.bytes);
  for (size_t k = 0; k < count; ++k) {
    ASSIGN_OR_RETURN(auto text, OneText(info, value.subspan(k * b, b), k * b));
    out.push_back(std::move(text));
  }
  return out;
}

Result<Bytes> EncodeValueText(uint32_t di, const std::vector<std::optional<std::string>>& values) {
  ASSIGN_OR_RETURN(DiInfo info, LookupDi(di));
  if (info.format == DiFormat::kDemand || info.format == DiFormat::kSwitchEvent) {
    return InvalidArgument("DI " + Di8(di) + " (" + info.name + ") has no text encoding");
  }
  if (info.count > 0 ? values.size() != static_cast<size_t>(info.count) : values.empty()) {
    return InvalidArgument("DI " + Di8(di) + " (" + info.name + ") takes " +
                           (info.count > 0 ? std::to_string(info.count) : "one or more") +
                           " values, got " + std::to_string(values.size()));
  }
  const size_t b = static_cast<size_t>(info.bytes);
  if (values.size() * b > kMaxData - 4) {
    return InvalidArgument("DI " + Di8(di) + ": " + std::to_string(values.size()) +
                           " values do not fit in one frame");
  }
  Bytes out;
  for (size_t k = 0; k < values.size(); ++k) {
    if (!values[k]) {
      out.insert(out.end(), b, 0xEE);
      continue;
    }
    const std::string& t = *values[k];
    switch (info.format) {
      case DiFormat::kNumber:
      case DiFormat::kEnergy: {
        auto units = ParseFixed(t, info.decimals);
        // 2b BCD digits; signed: the high byte keeps D7 for the sign, so its digits reach 79.
        int64_t limit = 1;
        for (size_t d = 0; d + 1 < 2 * b; ++d) limit *= 10;
        limit *= info.is_signed ? 8 : 10;
        if (!units || (*units < 0 && !info.is_signed) || *units >= limit || *units <= -limit) {
          return TextError(di, k, t,
                           "a number with at most " + std::to_string(info.decimals) +
                               " decimals that fits in " + std::to_string(b) + " BCD bytes");
        }
        EncodeBcd(*units, static_cast<int>(b), info.is_signed, out);
        break;
      }
      case DiFormat::kDateWeek: {
        auto c = ParseCivil(t, 10);
        if (!c) return TextError(di, k, t, "a date YYYY-MM-DD (2000..2099)");
        int weekday = Date{c->year, c->month, c->day}.Weekday();
        out.insert(out.end(), {ToBcd(weekday), ToBcd(c->day), ToBcd(c->month), ToBcd(c->year)});
        break;
      }
      case DiFormat::kTime: {
        auto h = Digits(t, 0, 2), m = Digits(t, 3, 2), s = Digits(t, 6, 2);
        if (t.size() != 8 || !h || !m || !s || t[2] != ':' || t[5] != ':' || *h > 23 || *m > 59 ||
            *s > 59) {
          return TextError(di, k, t, "a time hh:mm:ss");
        }
        out.insert(out.end(), {ToBcd(*s), ToBcd(*m), ToBcd(*h)});
        break;
      }
      case DiFormat::kMinuteTime: {
        auto c = ParseCivil(t, 16);
        if (!c) return TextError(di, k, t, "a time YYYY-MM-DD hh:mm (2000..2099)");
        out.insert(out.end(), {ToBcd(c->minute), ToBcd(c->hour), ToBcd(c->day), ToBcd(c->month),
                               ToBcd(c->year)});
        break;
      }
      case DiFormat::kDigits: {
        if (!CheckAddress(t).ok()) return TextError(di, k, t, "12 digits");
        for (uint8_t byte : AddressBytes(t)) out.push_back(byte);
        break;
      }
      default:
        return Internal("unhandled DI format");
    }
  }
  return out;
}

std::string SwitchEvent::Text() const {
  std::string s = time ? *time : "time missing";
  char op[9];
  std::snprintf(op, sizeof op, "%08X", operator_code);
  s += ", operator ";
  s += op;
  auto energy = [&](const char* what, const std::optional<Energy>& e, const char* unit) {
    if (!e) return;
    s += std::string(", ") + what + " " + e->ToKwhString(2) + " " + unit;
  };
  energy("forward active", forward_active, "kWh");
  energy("reverse active", reverse_active, "kWh");
  static constexpr const char* kQuadrant[] = {"quadrant I reactive", "quadrant II reactive",
                                              "quadrant III reactive", "quadrant IV reactive"};
  for (int q = 0; q < 4; ++q) energy(kQuadrant[q], reactive[static_cast<size_t>(q)], "kvarh");
  return s;
}

Result<SwitchEvent> DecodeSwitchEvent(ByteSpan value) {
  if (value.size() < 10) {
    return InvalidArgument("event record of " + std::to_string(value.size()) +
                           " bytes; it needs at least the time (6) and the operator code (4)");
  }
  if (value.size() > 10 && (value.size() - 10) % 4 != 0) {
    return InvalidArgument("event record of " + std::to_string(value.size()) +
                           " bytes: the energies after byte 10 are not whole 4-byte values");
  }
  if (value.size() > 34) {
    return InvalidArgument("event record of " + std::to_string(value.size()) +
                           " bytes, at most 34");
  }
  SwitchEvent e;
  if (!IsMissing(value.first(6))) {
    ASSIGN_OR_RETURN(std::string t, TimeText(value.first(6), true, 0, "event time"));
    e.time = std::move(t);
  }
  e.operator_code = uint32_t{value[6]} | uint32_t{value[7]} << 8 | uint32_t{value[8]} << 16 |
                    uint32_t{value[9]} << 24;
  std::array<std::optional<Energy>*, 6> slots = {&e.forward_active, &e.reverse_active,
                                                 &e.reactive[0],    &e.reactive[1],
                                                 &e.reactive[2],    &e.reactive[3]};
  for (size_t k = 0; 10 + 4 * k + 4 <= value.size(); ++k) {
    ByteSpan v = value.subspan(10 + 4 * k, 4);
    if (IsMissing(v)) continue;
    ASSIGN_OR_RETURN(int64_t hundredths, DecodeBcd(v, false, 10 + 4 * k, "event energy"));
    *slots[k] = Energy::FromDwh(hundredths * 100);
  }
  return e;
}

}  // namespace gridmis::acquisition::dlt645
