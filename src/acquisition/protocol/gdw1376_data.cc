// Q/GDW 1376.1 Appendix A data formats and the data units the master station reads and writes.
// Formats by number as the Fn tables cite them (docs/protocols.md §2.5): BCD, low byte first;
// a value with any EEH byte is missing.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string_view>
#include <utility>

#include "acquisition/protocol/gdw1376.h"

namespace gridmis::acquisition::gdw1376 {
namespace {

constexpr uint8_t kEe = 0xEE;

std::string Hex2(uint8_t b) {
  char buf[4];
  std::snprintf(buf, sizeof buf, "%02X", b);
  return buf;
}

bool IsBcd(uint8_t b) { return (b & 0x0F) <= 9 && (b >> 4) <= 9; }
int FromBcd(uint8_t b) { return (b >> 4) * 10 + (b & 0x0F); }
uint8_t ToBcd(int64_t v) { return static_cast<uint8_t>(((v / 10) % 10) << 4 | (v % 10)); }

int64_t Pow10(int n) {
  int64_t p = 1;
  while (n-- > 0) p *= 10;
  return p;
}

// A field's name for error messages, built into a string only when there is an error (the
// decoders allocate no strings for a good item): "value 3 (A.14)".
class Name {
 public:
  Name(const char* base) : base_(base) {}         // NOLINT: implicit by design
  Name(const std::string& base) : base_(base) {}  // NOLINT: implicit by design
  Name(std::string_view base, size_t index, std::string_view format = {})
      : base_(base), index_(index), format_(format) {}
  std::string str() const {
    std::string s(base_);
    if (index_ != kNone) s += " " + std::to_string(index_);
    if (!format_.empty()) s += " (" + std::string(format_) + ")";
    return s;
  }

 private:
  static constexpr size_t kNone = static_cast<size_t>(-1);
  std::string_view base_;
  size_t index_ = kNone;
  std::string_view format_;
};

// Reads one item's data front to back; errors name the item, the offset and the field.
class Reader {
 public:
  Reader(ByteSpan data, std::string what) : data_(data), what_(std::move(what)) {}

  size_t pos() const { return pos_; }
  size_t left() const { return data_.size() - pos_; }

  Status Error(size_t at, std::string_view msg) const {
    return InvalidArgument(what_ + " offset " + std::to_string(at) + ": " + std::string(msg));
  }
  // The next `n` bytes, or an error naming `field`.
  Result<ByteSpan> Take(size_t n, const Name& field) {
    if (left() < n) {
      return Error(pos_, field.str() + " needs " + std::to_string(n) + " bytes, " +
                             std::to_string(left()) + " left");
    }
    ByteSpan out = data_.subspan(pos_, n);
    pos_ += n;
    return out;
  }
  Status End() const {
    if (left() != 0) {
      return Error(pos_, std::to_string(left()) + " bytes after the last field");
    }
    return Status::Ok();
  }
  const std::string& what() const { return what_; }

 private:
  ByteSpan data_;
  std::string what_;
  size_t pos_ = 0;
};

bool AnyEe(ByteSpan b) { return std::find(b.begin(), b.end(), kEe) != b.end(); }

// Little-endian BCD of b (the top byte masked with `top_mask`); error names the field.
Result<int64_t> Bcd(const Reader& r, ByteSpan b, size_t at, const Name& field,
                    uint8_t top_mask = 0xFF) {
  int64_t v = 0;
  for (size_t i = b.size(); i-- > 0;) {
    uint8_t x = i + 1 == b.size() ? static_cast<uint8_t>(b[i] & top_mask) : b[i];
    if (!IsBcd(x)) {
      return r.Error(at + i, field.str() + " byte " + Hex2(b[i]) + " is not BCD");
    }
    v = v * 100 + FromBcd(x);
  }
  return v;
}

// Unsigned BCD value of n bytes, missing on EEH.
Result<std::optional<int64_t>> ReadBcd(Reader& r, size_t n, const Name& field) {
  size_t at = r.pos();
  ASSIGN_OR_RETURN(ByteSpan b, r.Take(n, field));
  if (AnyEe(b)) return std::optional<int64_t>();
  ASSIGN_OR_RETURN(int64_t v, Bcd(r, b, at, field));
  return std::optional<int64_t>(v);
}

// Signed: the top byte's D7 is the sign (A.9, A.25 and A.5: sign in D7 of the last byte).
Result<std::optional<int64_t>> ReadSignedBcd(Reader& r, size_t n, const Name& field) {
  size_t at = r.pos();
  ASSIGN_OR_RETURN(ByteSpan b, r.Take(n, field));
  if (AnyEe(b)) return std::optional<int64_t>();
  ASSIGN_OR_RETURN(int64_t v, Bcd(r, b, at, field, 0x7F));
  return std::optional<int64_t>((b[n - 1] & 0x80) ? -v : v);
}

void PutEe(Bytes& out, size_t n) { out.insert(out.end(), n, kEe); }

// Writes v (0 <= v < 100^n) as n bytes of BCD, low byte first.
void PutBcd(Bytes& out, int64_t v, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    out.push_back(ToBcd(v % 100));
    v /= 100;
  }
}

// A signed value with `digits` digits and the sign in D7 of the top byte.
void PutSignedBcd(Bytes& out, const std::optional<int64_t>& v, size_t n, int digits) {
  if (!v || *v >= Pow10(digits) || *v <= -Pow10(digits)) return PutEe(out, n);
  int64_t a = *v < 0 ? -*v : *v;
  size_t start = out.size();
  PutBcd(out, a, n);
  if (*v < 0) out[start + n - 1] |= 0x80;
}

// Rescales a Fixed to `scale` decimals, rounding half away from zero.
std::optional<int64_t> Rescale(const std::optional<Fixed>& f, int scale) {
  if (!f) return std::nullopt;
  if (f->scale <= scale) {
    if (scale - f->scale > 18) return std::nullopt;
    int64_t p = Pow10(scale - f->scale);
    if (f->units > INT64_MAX / p || f->units < INT64_MIN / p) return std::nullopt;
    return f->units * p;
  }
  int d = f->scale - scale;
  if (d > 18) return 0;
  int64_t p = Pow10(d);
  int64_t q = f->units / p, rem = f->units % p;
  if (rem < 0) rem = -rem;
  if (2 * rem >= p) q += f->units < 0 ? -1 : 1;
  return q;
}

// ---- Times ----

Result<MinuteTime> CheckMinute(const Reader& r, size_t at, const Name& field, MinuteTime t) {
  if (t.month < 1 || t.month > 12 || t.day < 1 || t.day > DaysInMonth(t.year, t.month) ||
      t.hour > 23 || t.minute > 59) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d", t.year, t.month, t.day, t.hour,
                  t.minute);
    return r.Error(at, field.str() + " " + buf + " is not a valid time");
  }
  return t;
}

// A.15 mm hh DD MM YY; missing on EEH.
Result<std::optional<MinuteTime>> ReadA15(Reader& r, const Name& field) {
  size_t at = r.pos();
  ASSIGN_OR_RETURN(ByteSpan b, r.Take(5, field));
  if (AnyEe(b)) return std::optional<MinuteTime>();
  for (size_t i = 0; i < 5; ++i) {
    if (!IsBcd(b[i])) {
      return r.Error(at + i, field.str() + " byte " + Hex2(b[i]) + " is not BCD");
    }
  }
  MinuteTime t{2000 + FromBcd(b[4]), FromBcd(b[3]), FromBcd(b[2]), FromBcd(b[1]), FromBcd(b[0])};
  ASSIGN_OR_RETURN(t, CheckMinute(r, at, field, t));
  return std::optional<MinuteTime>(t);
}

Result<MinuteTime> ReadA15Required(Reader& r, const Name& field) {
  size_t at = r.pos();
  ASSIGN_OR_RETURN(std::optional<MinuteTime> t, ReadA15(r, field));
  if (!t) return r.Error(at, field.str() + " is missing (EEH)");
  return *t;
}

bool TimeFits(const MinuteTime& t) {
  return t.year >= 2000 && t.year <= 2099 && t.month >= 1 && t.month <= 12 && t.day >= 1 &&
         t.day <= 31 && t.hour >= 0 && t.hour <= 23 && t.minute >= 0 && t.minute <= 59;
}

void PutA15(Bytes& out, const std::optional<MinuteTime>& t) {
  if (!t || !TimeFits(*t)) return PutEe(out, 5);
  out.insert(out.end(), {ToBcd(t->minute), ToBcd(t->hour), ToBcd(t->day), ToBcd(t->month),
                         ToBcd(t->year - 2000)});
}

Result<Date> ReadA20(Reader& r, const Name& field) {
  size_t at = r.pos();
  ASSIGN_OR_RETURN(ByteSpan b, r.Take(3, field));
  if (AnyEe(b)) return r.Error(at, field.str() + " is missing (EEH)");
  for (size_t i = 0; i < 3; ++i) {
    if (!IsBcd(b[i])) {
      return r.Error(at + i, field.str() + " byte " + Hex2(b[i]) + " is not BCD");
    }
  }
  Date d{2000 + FromBcd(b[2]), FromBcd(b[1]), FromBcd(b[0])};
  if (d.month < 1 || d.month > 12 || d.day < 1 || d.day > DaysInMonth(d.year, d.month)) {
    return r.Error(at, field.str() + " " + Hex2(b[0]) + " " + Hex2(b[1]) + " " + Hex2(b[2]) +
                           " is not a valid date");
  }
  return d;
}

void PutA20(Bytes& out, const Date& d) {
  if (d.year < 2000 || d.year > 2099 || d.month < 1 || d.month > 12 || d.day < 1 || d.day > 31) {
    return PutEe(out, 3);
  }
  out.insert(out.end(), {ToBcd(d.day), ToBcd(d.month), ToBcd(d.year - 2000)});
}

Result<YearMonth> ReadA21(Reader& r, const Name& field) {
  size_t at = r.pos();
  ASSIGN_OR_RETURN(ByteSpan b, r.Take(2, field));
  if (AnyEe(b)) return r.Error(at, field.str() + " is missing (EEH)");
  for (size_t i = 0; i < 2; ++i) {
    if (!IsBcd(b[i])) {
      return r.Error(at + i, field.str() + " byte " + Hex2(b[i]) + " is not BCD");
    }
  }
  YearMonth m{2000 + FromBcd(b[1]), FromBcd(b[0])};
  if (m.month < 1 || m.month > 12) {
    return r.Error(at, field.str() + " month " + std::to_string(m.month) + " is not 1..12");
  }
  return m;
}

void PutA21(Bytes& out, const YearMonth& m) {
  if (m.year < 2000 || m.year > 2099 || m.month < 1 || m.month > 12) return PutEe(out, 2);
  out.insert(out.end(), {ToBcd(m.month), ToBcd(m.year - 2000)});
}

// ---- Energy formats ----

// A.14 (5 bytes, 4 decimals), A.11 (4 bytes, 2 decimals), A.13 (4 bytes, 4 decimals).
Result<std::optional<Energy>> ReadEnergy(Reader& r, size_t n, int decimals, const Name& field) {
  ASSIGN_OR_RETURN(std::optional<int64_t> v, ReadBcd(r, n, field));
  if (!v) return std::optional<Energy>();
  return std::optional<Energy>(Energy::FromDwh(*v * Pow10(Energy::kScale - decimals)));
}

void PutEnergy(Bytes& out, const std::optional<Energy>& e, size_t n, int decimals) {
  if (!e || e->dwh() < 0) return PutEe(out, n);
  int64_t units = e->dwh() / Pow10(Energy::kScale - decimals);
  PutBcd(out, units % Pow10(static_cast<int>(2 * n)), n);
}

// A.3: ±XXXXXXX kWh (G = 0) or MWh (G = 1); byte4 D6 = G, D4 = sign, D3-D0 = 7th digit.
Result<std::optional<Energy>> ReadA3(Reader& r, const Name& field) {
  size_t at = r.pos();
  ASSIGN_OR_RETURN(ByteSpan b, r.Take(4, field));
  if (AnyEe(b)) return std::optional<Energy>();
  ASSIGN_OR_RETURN(int64_t v, Bcd(r, b, at, field, 0x0F));
  int64_t dwh = v * ((b[3] & 0x40) ? 1000 * Energy::kDwhPerKwh : Energy::kDwhPerKwh);
  return std::optional<Energy>(Energy::FromDwh((b[3] & 0x10) ? -dwh : dwh));
}

void PutA3(Bytes& out, const std::optional<Energy>& e) {
  if (!e) return PutEe(out, 4);
  int64_t kwh = e->dwh() / Energy::kDwhPerKwh;
  bool neg = kwh < 0;
  if (neg) kwh = -kwh;
  uint8_t g = 0;
  if (kwh >= 10'000'000) {
    kwh /= 1000;
    g = 0x40;
  }
  if (kwh >= 10'000'000) return PutEe(out, 4);
  size_t start = out.size();
  PutBcd(out, kwh, 4);
  out[start + 3] = static_cast<uint8_t>((out[start + 3] & 0x0F) | g | (neg ? 0x10 : 0));
}

// ---- Fixed-point formats ----

// A.2: ±XXX × 10^(4-G): byte1 BCD tens/units; byte2 D7-D5 G, D4 sign, D3-D0 hundreds.
Result<std::optional<Fixed>> ReadA2(Reader& r, const Name& field) {
  size_t at = r.pos();
  ASSIGN_OR_RETURN(ByteSpan b, r.Take(2, field));
  if (AnyEe(b)) return std::optional<Fixed>();
  ASSIGN_OR_RETURN(int64_t v, Bcd(r, b, at, field, 0x0F));
  int g = b[1] >> 5;
  if (b[1] & 0x10) v = -v;
  Fixed f;
  if (g >= 4) {
    f = Fixed{v, g - 4};
  } else {
    f = Fixed{v * Pow10(4 - g), 0};
  }
  return std::optional<Fixed>(f);
}

void PutA2(Bytes& out, const std::optional<Fixed>& f) {
  if (!f) return PutEe(out, 2);
  // The finest G (10^(G-4) = 10^-3 .. 10^4) that holds the value in 3 digits.
  for (int g = 7; g >= 0; --g) {
    std::optional<int64_t> v = Rescale(f, g - 4);
    if (!v || *v >= 1000 || *v <= -1000) continue;
    int64_t a = *v < 0 ? -*v : *v;
    out.push_back(ToBcd(a % 100));
    out.push_back(static_cast<uint8_t>((g << 5) | (*v < 0 ? 0x10 : 0) | (a / 100)));
    return;
  }
  PutEe(out, 2);
}

struct FixedFormat {
  size_t bytes;
  int digits;
  int scale;
  bool is_signed;
  const char* name;
};
constexpr FixedFormat kA5{2, 4, 1, true, "A.5"};    // ±XXX.X (sign D7, hundreds in 3 bits)
constexpr FixedFormat kA7{2, 4, 1, false, "A.7"};   // XXX.X
constexpr FixedFormat kA9{3, 6, 4, true, "A.9"};    // ±XX.XXXX
constexpr FixedFormat kA25{3, 6, 3, true, "A.25"};  // ±XXX.XXX

Result<std::optional<Fixed>> ReadFixed(Reader& r, const FixedFormat& fmt, const Name& field) {
  std::optional<int64_t> v;
  if (fmt.is_signed) {
    ASSIGN_OR_RETURN(v, ReadSignedBcd(r, fmt.bytes, field));
  } else {
    ASSIGN_OR_RETURN(v, ReadBcd(r, fmt.bytes, field));
  }
  if (!v) return std::optional<Fixed>();
  return std::optional<Fixed>(Fixed{*v, fmt.scale});
}

void PutFixed(Bytes& out, const FixedFormat& fmt, const std::optional<Fixed>& f) {
  std::optional<int64_t> v = Rescale(f, fmt.scale);
  // Signed formats have one bit less in the top digit (D7 is the sign): at most 7 there.
  int64_t limit = fmt.is_signed ? 8 * Pow10(fmt.digits - 1) : Pow10(fmt.digits);
  if (!v || (!fmt.is_signed && *v < 0) || *v >= limit || *v <= -limit) {
    return PutEe(out, fmt.bytes);
  }
  PutSignedBcd(out, v, fmt.bytes, fmt.digits);
}

// "value 3 (A.14)"
Name Field(std::string_view name, size_t i, std::string_view format = {}) {
  return Name(name, i, format);
}

// ---- Indications ----

Result<Indication> ReadIndication(Reader& r, bool active) {
  Indication v;
  ASSIGN_OR_RETURN(v.reading_time, ReadA15Required(r, "reading time (A.15)"));
  size_t at = r.pos();
  ASSIGN_OR_RETURN(ByteSpan m, r.Take(1, "M"));
  if (m[0] == kEe) return r.Error(at, "rate count M is missing (EEH)");
  v.rates = m[0];
  size_t width = active ? 5 : 4;
  size_t need = (size_t{m[0]} + 1) * width;
  if (r.left() < need) {
    return r.Error(r.pos(), "M = " + std::to_string(v.rates) + " needs " + std::to_string(need) +
                                " bytes of values, " + std::to_string(r.left()) + " left");
  }
  for (int i = 0; i <= v.rates; ++i) {
    std::optional<Energy> e;
    ASSIGN_OR_RETURN(e,
                     ReadEnergy(r, width, active ? 4 : 2,
                                Field("value", static_cast<size_t>(i), active ? "A.14" : "A.11")));
    v.values.push_back(e);
  }
  return v;
}

void PutIndication(Bytes& out, const Indication& v, bool active) {
  PutA15(out, v.reading_time);
  int m = std::clamp(v.rates, 0, 255);
  out.push_back(static_cast<uint8_t>(m));
  for (int i = 0; i <= m; ++i) {
    std::optional<Energy> e = static_cast<size_t>(i) < v.values.size() ? v.values[i] : std::nullopt;
    if (active) {
      PutEnergy(out, e, 5, 4);
    } else {
      PutEnergy(out, e, 4, 2);
    }
  }
}

// ---- Event records ----

const char* ErcMeaning(int erc) {
  switch (erc) {
    case 1:
      return "initialisation / version change";
    case 2:
      return "parameter loss";
    case 3:
      return "parameter change";
    case 4:
      return "state change";
    case 5:
      return "remote trip";
    case 6:
      return "power-control trip";
    case 7:
      return "energy-control trip";
    case 8:
      return "meter parameter change";
    case 9:
      return "current circuit fault";
    case 10:
      return "voltage circuit fault";
    case 11:
      return "phase sequence fault";
    case 12:
      return "meter clock drift";
    case 13:
      return "meter fault";
    case 14:
      return "power off";
    case 20:
      return "authentication error";
    case 21:
      return "terminal fault";
    case 31:
      return "RS-485 read failure";
    case 32:
      return "traffic over limit";
    case 33:
      return "meter status word change";
    case 34:
      return "CT fault";
    case 35:
      return "unknown meter found";
    default:
      return "";
  }
}

// Decodes the known fields of a record's content; fields that do not fit stay unset.
void DecodeRecordFields(EventRecord& e) {
  e.meaning = ErcMeaning(e.erc);
  Reader r(e.content, "ERC" + std::to_string(e.erc));
  auto time = [&r]() -> std::optional<MinuteTime> {
    Result<std::optional<MinuteTime>> t = ReadA15(r, "time");
    return t.ok() ? *t : std::nullopt;
  };
  if (e.erc < 1 || e.erc > 35 || e.content.size() < 5) return;
  // Every record of ERC1..ERC35 starts with its time (A.15).
  e.time = time();
  switch (e.erc) {
    case 1: {
      // Flags (D0 initialisation, D1 version change), software version before and after.
      if (r.left() < 9) break;
      uint8_t flags = (*r.Take(1, "flags"))[0];
      ByteSpan before = *r.Take(4, "old version");
      ByteSpan after = *r.Take(4, "new version");
      std::vector<std::string> parts;
      if (flags & 1) parts.push_back("initialisation");
      if (flags & 2) {
        parts.push_back("version change " + std::string(before.begin(), before.end()) + " -> " +
                        std::string(after.begin(), after.end()));
      }
      if (!parts.empty()) {
        e.meaning = parts[0];
        for (size_t i = 1; i < parts.size(); ++i) e.meaning += ", " + parts[i];
      }
      break;
    }
    case 3: {
      // The station that changed them (MSA) and the DA DT of the changed parameters.
      if (r.left() < 1) break;
      e.meaning += " by MSA " + std::to_string((*r.Take(1, "station"))[0]);
      std::string units;
      while (r.left() >= 4) {
        ByteSpan u = *r.Take(4, "DA DT");
        if (u[3] > 30) break;
        std::string pn = u[0] == 0 && u[1] == 0 ? "p0" : "DA " + Hex2(u[0]) + " " + Hex2(u[1]);
        for (int bit = 0; bit < 8; ++bit) {
          if (u[2] & (1 << bit)) {
            units += (units.empty() ? "" : ", ") + pn + " F" + std::to_string(u[3] * 8 + bit + 1);
          }
        }
      }
      if (!units.empty()) e.meaning += ": " + units;
      break;
    }
    case 5: {
      // Control rounds tripped (bit map), power at the trip and 2 minutes after (A.2).
      if (r.left() < 1) break;
      uint8_t rounds = (*r.Take(1, "rounds"))[0];
      std::string list;
      for (int bit = 0; bit < 8; ++bit) {
        if (rounds & (1 << bit)) list += (list.empty() ? "" : ", ") + std::to_string(bit + 1);
      }
      if (!list.empty()) e.meaning += " (round " + list + ")";
      break;
    }
    case 14:
      if (r.left() >= 5) e.end_time = time();
      if (!e.time && e.end_time) e.meaning = "power on";
      if (e.time && e.end_time) e.meaning = "power off and on";
      break;
    case 9:
    case 10:
    case 12:
    case 13:
    case 31: {
      // 起止标志及测量点号: D11-D0 pn, D15 1 = started, 0 = restored.
      if (r.left() < 2) break;
      ByteSpan b = *r.Take(2, "pn");
      uint16_t w = static_cast<uint16_t>(b[0] | (b[1] << 8));
      e.pn = static_cast<uint16_t>(w & 0x0FFF);
      if (!(w & 0x8000)) e.meaning += " (restored)";
      if (e.erc == 13 && r.left() >= 1) {
        e.meaning += " (flags " + Hex2((*r.Take(1, "flags"))[0]) + "H)";
      }
      break;
    }
    default:
      break;
  }
}

}  // namespace

// ---- Public: small formats ----

std::string Fixed::ToString() const {
  uint64_t a = units < 0 ? 0 - static_cast<uint64_t>(units) : static_cast<uint64_t>(units);
  std::string digits = std::to_string(a);
  if (scale > 0) {
    if (digits.size() <= static_cast<size_t>(scale)) {
      digits.insert(0, static_cast<size_t>(scale) + 1 - digits.size(), '0');
    }
    digits.insert(digits.size() - static_cast<size_t>(scale), ".");
  } else if (scale < 0) {
    digits += std::string(static_cast<size_t>(-scale), '0');
  }
  return (units < 0 ? "-" : "") + digits;
}

Bytes EncodeTd(Date day) {
  Bytes out;
  PutA20(out, day);
  return out;
}

Bytes EncodeTdMonth(YearMonth m) {
  Bytes out;
  PutA21(out, m);
  return out;
}

Bytes EncodeTdCurve(const MinuteTime& start, int density_code, int points) {
  Bytes out;
  PutA15(out, start);
  out.push_back(static_cast<uint8_t>(std::clamp(density_code, 0, 255)));
  out.push_back(static_cast<uint8_t>(std::clamp(points, 0, 255)));
  return out;
}

Result<Date> DecodeTd(ByteSpan data) {
  Reader r(data, "Td_d");
  return ReadA20(r, "Td_d (A.20)");
}

Result<YearMonth> DecodeTdMonth(ByteSpan data) {
  Reader r(data, "Td_m");
  return ReadA21(r, "Td_m (A.21)");
}

Result<int> CurveIntervalMinutes(int density_code) {
  switch (density_code) {
    case 1:
      return 15;
    case 2:
      return 30;
    case 3:
      return 60;
    case 254:
      return 5;
    case 255:
      return 1;
    default:
      return InvalidArgument("curve density m " + std::to_string(density_code) +
                             " is not 1, 2, 3, 254 or 255");
  }
}

Result<CurveTag> DecodeTdCurve(ByteSpan data) {
  Reader r(data, "Td_c");
  CurveTag t;
  ASSIGN_OR_RETURN(t.start, ReadA15Required(r, "start (A.15)"));
  size_t at = r.pos();
  ASSIGN_OR_RETURN(ByteSpan mn, r.Take(2, "density m and points n"));
  t.density_code = mn[0];
  t.points = mn[1];
  Result<int> interval = CurveIntervalMinutes(t.density_code);
  if (!interval.ok()) return r.Error(at, interval.status().message());
  t.interval_minutes = *interval;
  return t;
}

Bytes EncodeMinuteTime(const std::optional<MinuteTime>& t) {
  Bytes out;
  PutA15(out, t);
  return out;
}

Result<std::optional<MinuteTime>> DecodeMinuteTime(ByteSpan data) {
  Reader r(data, "A.15");
  ASSIGN_OR_RETURN(std::optional<MinuteTime> t, ReadA15(r, "time"));
  RETURN_IF_ERROR(r.End());
  return t;
}

// ---- Indications ----

Result<Indication> DecodeIndication(ByteSpan data, bool active) {
  Reader r(data, "indication");
  ASSIGN_OR_RETURN(Indication v, ReadIndication(r, active));
  RETURN_IF_ERROR(r.End());
  return v;
}

Bytes EncodeIndication(const Indication& v, bool active) {
  Bytes out;
  PutIndication(out, v, active);
  return out;
}

Result<DailyIndication> DecodeDailyIndication(ByteSpan data, bool active) {
  Reader r(data, "daily indication");
  DailyIndication v;
  ASSIGN_OR_RETURN(v.day, ReadA20(r, "Td_d (A.20)"));
  ASSIGN_OR_RETURN(v.value, ReadIndication(r, active));
  RETURN_IF_ERROR(r.End());
  return v;
}

Bytes EncodeDailyIndication(const DailyIndication& v, bool active) {
  Bytes out;
  PutA20(out, v.day);
  PutIndication(out, v.value, active);
  return out;
}

Result<MonthlyIndication> DecodeMonthlyIndication(ByteSpan data, bool active) {
  Reader r(data, "monthly indication");
  MonthlyIndication v;
  ASSIGN_OR_RETURN(v.month, ReadA21(r, "Td_m (A.21)"));
  ASSIGN_OR_RETURN(v.value, ReadIndication(r, active));
  RETURN_IF_ERROR(r.End());
  return v;
}

Bytes EncodeMonthlyIndication(const MonthlyIndication& v, bool active) {
  Bytes out;
  PutA21(out, v.month);
  PutIndication(out, v.value, active);
  return out;
}

Result<IndicationSet> DecodeIndicationSet(ByteSpan data) {
  Reader r(data, "indication set");
  IndicationSet v;
  ASSIGN_OR_RETURN(v.reading_time, ReadA15Required(r, "reading time (A.15)"));
  size_t at = r.pos();
  ASSIGN_OR_RETURN(ByteSpan m, r.Take(1, "M"));
  if (m[0] == kEe) return r.Error(at, "rate count M is missing (EEH)");
  v.rates = m[0];
  size_t need = (size_t{m[0]} + 1) * 17;
  if (r.left() != need) {
    return r.Error(r.pos(), "M = " + std::to_string(v.rates) + " needs " + std::to_string(need) +
                                " bytes of values, " + std::to_string(r.left()) + " left");
  }
  static const char* kNames[] = {"active", "reactive", "quadrant", "quadrant"};
  for (size_t k = 0; k < 4; ++k) {
    for (int i = 0; i <= v.rates; ++i) {
      std::optional<Energy> e;
      ASSIGN_OR_RETURN(
          e, ReadEnergy(r, k == 0 ? 5 : 4, k == 0 ? 4 : 2,
                        Field(kNames[k], static_cast<size_t>(i), k == 0 ? "A.14" : "A.11")));
      v.values[k].push_back(e);
    }
  }
  return v;
}

Bytes EncodeIndicationSet(const IndicationSet& v) {
  Bytes out;
  PutA15(out, v.reading_time);
  int m = std::clamp(v.rates, 0, 255);
  out.push_back(static_cast<uint8_t>(m));
  for (size_t k = 0; k < 4; ++k) {
    for (int i = 0; i <= m; ++i) {
      std::optional<Energy> e =
          static_cast<size_t>(i) < v.values[k].size() ? v.values[k][i] : std::nullopt;
      if (k == 0) {
        PutEnergy(out, e, 5, 4);
      } else {
        PutEnergy(out, e, 4, 2);
      }
    }
  }
  return out;
}

// ---- Curves ----

bool CurveIsEnergy(uint16_t fn) {
  return (fn >= 97 && fn <= 104) || (fn >= 145 && fn <= 148) || fn == 75 || fn == 76;
}

namespace {

// The fixed-point format of a non-energy curve's points, and how many values per point.
std::optional<std::pair<const FixedFormat*, int>> CurveFixedFormat(uint16_t fn) {
  if (fn >= 81 && fn <= 88) return std::make_pair(&kA9, 1);
  if (fn >= 89 && fn <= 91) return std::make_pair(&kA7, 1);
  if (fn >= 92 && fn <= 95) return std::make_pair(&kA25, 1);
  if (fn >= 105 && fn <= 108) return std::make_pair(&kA5, 1);
  if (fn == 109 || fn == 110) return std::make_pair(&kA5, 3);
  return std::nullopt;
}

bool CurveIsA2(uint16_t fn) { return fn == 73 || fn == 74 || fn == 138; }

}  // namespace

Result<Curve> DecodeCurve(uint16_t fn, ByteSpan data) {
  Reader r(data, "F" + std::to_string(fn) + " curve");
  bool energy = CurveIsEnergy(fn);
  auto fixed = CurveFixedFormat(fn);
  if (!energy && !fixed && !CurveIsA2(fn)) {
    return InvalidArgument("F" + std::to_string(fn) + " is not a curve the codec knows");
  }
  Curve c;
  ASSIGN_OR_RETURN(c.start, ReadA15Required(r, "start (A.15)"));
  size_t at = r.pos();
  ASSIGN_OR_RETURN(ByteSpan mn, r.Take(2, "density m and points n"));
  c.density_code = mn[0];
  Result<int> interval = CurveIntervalMinutes(c.density_code);
  if (!interval.ok()) return r.Error(at, interval.status().message());
  c.interval_minutes = *interval;
  size_t n = mn[1];
  for (size_t i = 0; i < n; ++i) {
    if (energy) {
      std::optional<Energy> e;
      if (fn == 75 || fn == 76) {
        ASSIGN_OR_RETURN(e, ReadA3(r, Field("point", i, "A.3")));
      } else if (fn <= 100) {
        ASSIGN_OR_RETURN(e, ReadEnergy(r, 4, 4, Field("point", i, "A.13")));
      } else {
        ASSIGN_OR_RETURN(e, ReadEnergy(r, 4, 2, Field("point", i, "A.11")));
      }
      c.energy.push_back(e);
    } else if (fixed) {
      for (int k = 0; k < fixed->second; ++k) {
        std::optional<Fixed> v;
        ASSIGN_OR_RETURN(v, ReadFixed(r, *fixed->first, Field("point", i, fixed->first->name)));
        c.fixed.push_back(v);
      }
    } else {
      std::optional<Fixed> v;
      ASSIGN_OR_RETURN(v, ReadA2(r, Field("point", i, "A.2")));
      c.fixed.push_back(v);
    }
  }
  RETURN_IF_ERROR(r.End());
  return c;
}

Bytes EncodeCurve(uint16_t fn, const Curve& v) {
  bool energy = CurveIsEnergy(fn);
  auto fixed = CurveFixedFormat(fn);
  size_t per_point = fixed ? static_cast<size_t>(fixed->second) : 1;
  size_t n = energy ? v.energy.size() : v.fixed.size() / per_point;
  n = std::min<size_t>(n, 255);
  Bytes out = EncodeTdCurve(v.start, v.density_code, static_cast<int>(n));
  for (size_t i = 0; i < n; ++i) {
    if (energy) {
      if (fn == 75 || fn == 76) {
        PutA3(out, v.energy[i]);
      } else if (fn <= 100) {
        PutEnergy(out, v.energy[i], 4, 4);
      } else {
        PutEnergy(out, v.energy[i], 4, 2);
      }
    } else if (fixed) {
      for (size_t k = 0; k < per_point; ++k)
        PutFixed(out, *fixed->first, v.fixed[i * per_point + k]);
    } else {
      PutA2(out, v.fixed[i]);
    }
  }
  return out;
}

// ---- AFN0C F25 ----

Result<RealTimePower> DecodeRealTimePower(ByteSpan data) {
  Reader r(data, "F25");
  RealTimePower v;
  ASSIGN_OR_RETURN(v.reading_time, ReadA15Required(r, "reading time (A.15)"));
  static const char* kPhase[] = {"total", "A", "B", "C"};
  for (size_t i = 0; i < 4; ++i) {
    ASSIGN_OR_RETURN(v.p[i], ReadFixed(r, kA9, std::string("P ") + kPhase[i] + " (A.9)"));
  }
  for (size_t i = 0; i < 4; ++i) {
    ASSIGN_OR_RETURN(v.q[i], ReadFixed(r, kA9, std::string("Q ") + kPhase[i] + " (A.9)"));
  }
  for (size_t i = 0; i < 4; ++i) {
    ASSIGN_OR_RETURN(v.pf[i], ReadFixed(r, kA5, std::string("PF ") + kPhase[i] + " (A.5)"));
  }
  for (size_t i = 0; i < 3; ++i) {
    ASSIGN_OR_RETURN(v.u[i], ReadFixed(r, kA7, std::string("U ") + kPhase[i + 1] + " (A.7)"));
  }
  static const char* kCurrent[] = {"A", "B", "C", "zero-sequence"};
  for (size_t i = 0; i < 4; ++i) {
    ASSIGN_OR_RETURN(v.i[i], ReadFixed(r, kA25, std::string("I ") + kCurrent[i] + " (A.25)"));
  }
  for (size_t i = 0; i < 4; ++i) {
    ASSIGN_OR_RETURN(v.s[i], ReadFixed(r, kA9, std::string("S ") + kPhase[i] + " (A.9)"));
  }
  RETURN_IF_ERROR(r.End());
  return v;
}

Bytes EncodeRealTimePower(const RealTimePower& v) {
  Bytes out;
  PutA15(out, v.reading_time);
  for (const auto& x : v.p) PutFixed(out, kA9, x);
  for (const auto& x : v.q) PutFixed(out, kA9, x);
  for (const auto& x : v.pf) PutFixed(out, kA5, x);
  for (const auto& x : v.u) PutFixed(out, kA7, x);
  for (const auto& x : v.i) PutFixed(out, kA25, x);
  for (const auto& x : v.s) PutFixed(out, kA9, x);
  return out;
}

// ---- A.1 clock ----

Result<ClockTime> DecodeClock(ByteSpan data) {
  Reader r(data, "clock");
  ASSIGN_OR_RETURN(ByteSpan b, r.Take(6, "A.1"));
  RETURN_IF_ERROR(r.End());
  if (AnyEe(b)) return r.Error(0, "clock (A.1) is missing (EEH)");
  uint8_t month_byte = b[4] & 0x1F;
  for (size_t i = 0; i < 6; ++i) {
    uint8_t x = i == 4 ? month_byte : b[i];
    if (!IsBcd(x)) return r.Error(i, "A.1 byte " + Hex2(b[i]) + " is not BCD");
  }
  ClockTime c;
  c.second = FromBcd(b[0]);
  c.minute = FromBcd(b[1]);
  c.hour = FromBcd(b[2]);
  c.day = FromBcd(b[3]);
  c.month = FromBcd(month_byte);
  c.weekday = b[4] >> 5;
  c.year = 2000 + FromBcd(b[5]);
  if (c.second > 59 || c.minute > 59 || c.hour > 23 || c.month < 1 || c.month > 12 || c.day < 1 ||
      c.day > DaysInMonth(c.year, c.month)) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", c.year, c.month, c.day, c.hour,
                  c.minute, c.second);
    return r.Error(0, std::string("A.1 ") + buf + " is not a valid time");
  }
  return c;
}

Bytes EncodeClock(const ClockTime& c) {
  Bytes out;
  if (c.year < 2000 || c.year > 2099 || c.month < 1 || c.month > 12 || c.day < 1 || c.day > 31 ||
      c.hour < 0 || c.hour > 23 || c.minute < 0 || c.minute > 59 || c.second < 0 || c.second > 59) {
    PutEe(out, 6);
    return out;
  }
  int weekday = c.weekday >= 1 && c.weekday <= 7 ? c.weekday : 0;
  out.insert(out.end(),
             {ToBcd(c.second), ToBcd(c.minute), ToBcd(c.hour), ToBcd(c.day),
              static_cast<uint8_t>((weekday << 5) | ToBcd(c.month)), ToBcd(c.year - 2000)});
  return out;
}

// ---- AFN09 F1 ----

namespace {

std::string ReadAscii(Reader& r, size_t n, const Name& field) {
  ByteSpan b = *r.Take(n, field);  // the caller checked the total length
  return std::string(b.begin(), b.end());
}

void PutAscii(Bytes& out, const std::string& s, size_t n) {
  for (size_t i = 0; i < n; ++i) out.push_back(i < s.size() ? static_cast<uint8_t>(s[i]) : ' ');
}

Result<std::string> ReadDateString(Reader& r, const Name& field) {
  size_t at = r.pos();
  ByteSpan b = *r.Take(3, field);
  if (AnyEe(b)) return std::string();
  Reader sub(b, r.what());
  Result<Date> d = ReadA20(sub, field);
  if (!d.ok())
    return r.Error(at, field.str() + " " + Hex2(b[0]) + " " + Hex2(b[1]) + " " + Hex2(b[2]) +
                           " is not a valid date (A.20)");
  return d->ToString();
}

void PutDateString(Bytes& out, const std::string& s) {
  Result<Date> d = Date::Parse(s);
  if (!d.ok()) return PutEe(out, 3);
  PutA20(out, *d);
}

}  // namespace

Result<TerminalVersion> DecodeTerminalVersion(ByteSpan data) {
  Reader r(data, "AFN09 F1");
  if (data.size() != 41) {
    return r.Error(0, "terminal version needs 41 bytes, got " + std::to_string(data.size()));
  }
  TerminalVersion v;
  v.vendor = ReadAscii(r, 4, "vendor");
  v.device_id = ReadAscii(r, 8, "device id");
  v.software_version = ReadAscii(r, 4, "software version");
  ASSIGN_OR_RETURN(v.software_date, ReadDateString(r, "software date"));
  v.capacity = ReadAscii(r, 11, "capacity");
  v.protocol_version = ReadAscii(r, 4, "protocol version");
  v.hardware_version = ReadAscii(r, 4, "hardware version");
  ASSIGN_OR_RETURN(v.hardware_date, ReadDateString(r, "hardware date"));
  return v;
}

Bytes EncodeTerminalVersion(const TerminalVersion& v) {
  Bytes out;
  PutAscii(out, v.vendor, 4);
  PutAscii(out, v.device_id, 8);
  PutAscii(out, v.software_version, 4);
  PutDateString(out, v.software_date);
  PutAscii(out, v.capacity, 11);
  PutAscii(out, v.protocol_version, 4);
  PutAscii(out, v.hardware_version, 4);
  PutDateString(out, v.hardware_date);
  return out;
}

// ---- AFN04/0A F1 ----

Result<UplinkParams> DecodeUplinkParams(ByteSpan data) {
  Reader r(data, "F1 uplink parameters");
  ASSIGN_OR_RETURN(ByteSpan b, r.Take(6, "RTS, delay, time-out, flags, heartbeat"));
  RETURN_IF_ERROR(r.End());
  UplinkParams v;
  v.rts_20ms = b[0];
  v.master_delay_minutes = b[1];
  uint16_t w = static_cast<uint16_t>(b[2] | (b[3] << 8));
  v.timeout_seconds = w & 0x0FFF;
  v.retries = (w >> 12) & 0x03;
  v.confirm_class1 = b[4] & 0x01;
  v.confirm_class2 = b[4] & 0x02;
  v.confirm_events = b[4] & 0x04;
  v.heartbeat_minutes = b[5];
  return v;
}

Bytes EncodeUplinkParams(const UplinkParams& v) {
  uint16_t w = static_cast<uint16_t>((std::clamp(v.timeout_seconds, 0, 4095)) |
                                     (std::clamp(v.retries, 0, 3) << 12));
  return {static_cast<uint8_t>(std::clamp(v.rts_20ms, 0, 255)),
          static_cast<uint8_t>(std::clamp(v.master_delay_minutes, 0, 255)),
          static_cast<uint8_t>(w & 0xFF),
          static_cast<uint8_t>(w >> 8),
          static_cast<uint8_t>((v.confirm_class1 ? 1 : 0) | (v.confirm_class2 ? 2 : 0) |
                               (v.confirm_events ? 4 : 0)),
          static_cast<uint8_t>(std::clamp(v.heartbeat_minutes, 0, 255))};
}

// ---- AFN04/0A F10 ----

namespace {

// A.12: 12 BCD digits, low byte first → "000000000001".
Result<std::string> ReadA12(Reader& r, const Name& field) {
  size_t at = r.pos();
  ASSIGN_OR_RETURN(ByteSpan b, r.Take(6, field));
  std::string s;
  for (size_t i = 6; i-- > 0;) {
    if (!IsBcd(b[i])) {
      return r.Error(at + i, field.str() + " byte " + Hex2(b[i]) + " is not BCD");
    }
    s += static_cast<char>('0' + (b[i] >> 4));
    s += static_cast<char>('0' + (b[i] & 0x0F));
  }
  return s;
}

void PutDigits(Bytes& out, const std::string& s, bool hex) {
  // Right-aligned 12 digits, low byte first; a non-digit counts as 0.
  std::string d = s.size() >= 12 ? s.substr(s.size() - 12) : std::string(12 - s.size(), '0') + s;
  auto val = [hex](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (hex && c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (hex && c >= 'A' && c <= 'F') return c - 'A' + 10;
    return 0;
  };
  for (size_t i = 6; i-- > 0;) {
    out.push_back(static_cast<uint8_t>((val(d[2 * i]) << 4) | val(d[2 * i + 1])));
  }
}

}  // namespace

Result<std::vector<MeterArchiveEntry>> DecodeMeterArchive(ByteSpan data) {
  Reader r(data, "F10 meter archive");
  ASSIGN_OR_RETURN(ByteSpan n, r.Take(2, "count"));
  size_t count = n[0] | (n[1] << 8);
  if (r.left() != count * 27) {
    return r.Error(2, std::to_string(count) + " meters need " + std::to_string(count * 27) +
                          " bytes, " + std::to_string(r.left()) + " left");
  }
  std::vector<MeterArchiveEntry> out;
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    MeterArchiveEntry e;
    ByteSpan head = *r.Take(4, "index, pn");
    e.index = static_cast<uint16_t>(head[0] | (head[1] << 8));
    e.pn = static_cast<uint16_t>(head[2] | (head[3] << 8));
    ByteSpan port = *r.Take(2, "port, protocol");
    e.baud_code = port[0] >> 5;
    e.port = port[0] & 0x1F;
    e.protocol = port[1];
    ASSIGN_OR_RETURN(e.meter_address, ReadA12(r, Field("meter address", i)));
    ByteSpan pw = *r.Take(6, "password");
    for (size_t k = 6; k-- > 0;) e.password += Hex2(pw[k]);
    ByteSpan digits = *r.Take(2, "rates, digits");
    e.rates = digits[0] & 0x3F;
    e.integer_digits = ((digits[1] >> 2) & 0x03) + 4;
    e.decimal_digits = (digits[1] & 0x03) + 1;
    ASSIGN_OR_RETURN(e.collector_address, ReadA12(r, Field("collector address", i)));
    uint8_t cls = (*r.Take(1, "user class"))[0];
    e.user_class = cls >> 4;
    e.sub_class = cls & 0x0F;
    out.push_back(std::move(e));
  }
  return out;
}

Bytes EncodeMeterArchive(const std::vector<MeterArchiveEntry>& v) {
  Bytes out;
  size_t n = std::min<size_t>(v.size(), 0xFFFF);
  out.push_back(static_cast<uint8_t>(n & 0xFF));
  out.push_back(static_cast<uint8_t>(n >> 8));
  for (size_t i = 0; i < n; ++i) {
    const MeterArchiveEntry& e = v[i];
    out.insert(out.end(), {static_cast<uint8_t>(e.index & 0xFF), static_cast<uint8_t>(e.index >> 8),
                           static_cast<uint8_t>(e.pn & 0xFF), static_cast<uint8_t>(e.pn >> 8),
                           static_cast<uint8_t>((std::clamp(e.baud_code, 0, 7) << 5) |
                                                std::clamp(e.port, 0, 31)),
                           static_cast<uint8_t>(std::clamp(e.protocol, 0, 255))});
    PutDigits(out, e.meter_address, false);
    PutDigits(out, e.password, true);
    out.push_back(static_cast<uint8_t>(std::clamp(e.rates, 0, 63)));
    out.push_back(static_cast<uint8_t>((std::clamp(e.integer_digits - 4, 0, 3) << 2) |
                                       std::clamp(e.decimal_digits - 1, 0, 3)));
    PutDigits(out, e.collector_address, false);
    out.push_back(static_cast<uint8_t>((std::clamp(e.user_class, 0, 15) << 4) |
                                       std::clamp(e.sub_class, 0, 15)));
  }
  return out;
}

Bytes EncodeMeterArchiveQuery(const std::vector<uint16_t>& indexes) {
  Bytes out;
  size_t n = std::min<size_t>(indexes.size(), 0xFFFF);
  out.push_back(static_cast<uint8_t>(n & 0xFF));
  out.push_back(static_cast<uint8_t>(n >> 8));
  for (size_t i = 0; i < n; ++i) {
    out.push_back(static_cast<uint8_t>(indexes[i] & 0xFF));
    out.push_back(static_cast<uint8_t>(indexes[i] >> 8));
  }
  return out;
}

Result<std::vector<uint16_t>> DecodeMeterArchiveQuery(ByteSpan data) {
  Reader r(data, "F10 query");
  ASSIGN_OR_RETURN(ByteSpan n, r.Take(2, "count"));
  size_t count = n[0] | (n[1] << 8);
  if (r.left() != count * 2) {
    return r.Error(2, std::to_string(count) + " indexes need " + std::to_string(count * 2) +
                          " bytes, " + std::to_string(r.left()) + " left");
  }
  std::vector<uint16_t> out;
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    ByteSpan b = *r.Take(2, "index");
    out.push_back(static_cast<uint16_t>(b[0] | (b[1] << 8)));
  }
  return out;
}

// ---- AFN0E ----

Result<EventBlock> DecodeEvents(ByteSpan data) {
  Reader r(data, "events");
  ASSIGN_OR_RETURN(ByteSpan head, r.Take(4, "EC1 EC2 Pm Pn"));
  EventBlock v;
  v.ec1 = head[0];
  v.ec2 = head[1];
  v.pm = head[2];
  v.pn = head[3];
  size_t count = static_cast<uint8_t>(v.pn - v.pm);
  for (size_t i = 0; i < count; ++i) {
    std::string field = "record " + std::to_string(i + 1) + " of " + std::to_string(count);
    ASSIGN_OR_RETURN(ByteSpan erc_le, r.Take(2, field + " (ERC, Le)"));
    EventRecord e;
    e.erc = erc_le[0];
    ASSIGN_OR_RETURN(ByteSpan content,
                     r.Take(erc_le[1], field + " (ERC" + std::to_string(e.erc) + ")"));
    e.content.assign(content.begin(), content.end());
    DecodeRecordFields(e);
    v.records.push_back(std::move(e));
  }
  RETURN_IF_ERROR(r.End());
  return v;
}

Bytes EncodeEvents(const EventBlock& v) {
  Bytes out = {v.ec1, v.ec2, v.pm, v.pn};
  for (const EventRecord& e : v.records) {
    size_t n = std::min<size_t>(e.content.size(), 255);
    out.push_back(static_cast<uint8_t>(e.erc));
    out.push_back(static_cast<uint8_t>(n));
    out.insert(out.end(), e.content.begin(), e.content.begin() + static_cast<std::ptrdiff_t>(n));
  }
  return out;
}

EventRecord PowerOffRecord(const MinuteTime& off, const std::optional<MinuteTime>& on) {
  EventRecord e;
  e.erc = 14;
  PutA15(e.content, off);
  PutA15(e.content, on);
  DecodeRecordFields(e);
  return e;
}

EventRecord RemoteTripRecord(const MinuteTime& at, uint8_t rounds,
                             const std::optional<Fixed>& power_kw,
                             const std::optional<Fixed>& power_after_kw) {
  EventRecord e;
  e.erc = 5;
  PutA15(e.content, at);
  e.content.push_back(rounds);
  PutA2(e.content, power_kw);
  PutA2(e.content, power_after_kw);
  DecodeRecordFields(e);
  return e;
}

EventRecord MeterEventRecord(int erc, const MinuteTime& at, uint16_t pn, bool started,
                             uint8_t flags) {
  EventRecord e;
  e.erc = erc;
  PutA15(e.content, at);
  uint16_t w = static_cast<uint16_t>((pn & 0x0FFF) | (started ? 0x8000 : 0));
  e.content.push_back(static_cast<uint8_t>(w & 0xFF));
  e.content.push_back(static_cast<uint8_t>(w >> 8));
  if (erc == 13) e.content.push_back(flags);
  DecodeRecordFields(e);
  return e;
}

// ---- AFN05 F1 ----

uint8_t EncodeTrip(const TripParams& v) {
  return static_cast<uint8_t>((std::clamp(v.limit_half_hours, 0, 15) << 4) |
                              std::clamp(v.alarm_delay_minutes, 0, 15));
}

TripParams DecodeTrip(uint8_t b) { return TripParams{b >> 4, b & 0x0F}; }

// ---- AFN10 F1 ----

Result<ForwardRequest> DecodeForwardRequest(ByteSpan data) {
  Reader r(data, "AFN10 F1 request");
  ASSIGN_OR_RETURN(ByteSpan head, r.Take(6, "port, control, time-outs, length"));
  ForwardRequest v;
  v.port = head[0];
  v.comm_control = head[1];
  v.frame_timeout = head[2];
  v.byte_timeout = head[3];
  size_t k = head[4] | (head[5] << 8);
  ASSIGN_OR_RETURN(ByteSpan payload, r.Take(k, "forwarded frame"));
  RETURN_IF_ERROR(r.End());
  v.payload.assign(payload.begin(), payload.end());
  return v;
}

Bytes EncodeForwardRequest(const ForwardRequest& v) {
  size_t k = std::min<size_t>(v.payload.size(), 0xFFFF);
  Bytes out;
  out.reserve(6 + k);
  for (uint8_t b : {v.port, v.comm_control, v.frame_timeout, v.byte_timeout,
                    static_cast<uint8_t>(k & 0xFF), static_cast<uint8_t>(k >> 8)}) {
    out.push_back(b);
  }
  out.insert(out.end(), v.payload.begin(), v.payload.begin() + static_cast<std::ptrdiff_t>(k));
  return out;
}

Result<ForwardReply> DecodeForwardReply(ByteSpan data) {
  Reader r(data, "AFN10 F1 reply");
  ASSIGN_OR_RETURN(ByteSpan head, r.Take(3, "port, length"));
  ForwardReply v;
  v.port = head[0];
  size_t k = head[1] | (head[2] << 8);
  ASSIGN_OR_RETURN(ByteSpan payload, r.Take(k, "forwarded frame"));
  RETURN_IF_ERROR(r.End());
  v.payload.assign(payload.begin(), payload.end());
  return v;
}

Bytes EncodeForwardReply(const ForwardReply& v) {
  size_t k = std::min<size_t>(v.payload.size(), 0xFFFF);
  Bytes out;
  out.reserve(3 + k);
  out.push_back(v.port);
  out.push_back(static_cast<uint8_t>(k & 0xFF));
  out.push_back(static_cast<uint8_t>(k >> 8));
  out.insert(out.end(), v.payload.begin(), v.payload.begin() + static_cast<std::ptrdiff_t>(k));
  return out;
}

}  // namespace gridmis::acquisition::gdw1376
