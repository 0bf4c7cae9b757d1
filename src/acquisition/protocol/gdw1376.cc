// Q/GDW 1376.1 framing: the fixed header, C, A, AFN, SEQ, the DA/DT data units, AUX and CS.
// See gdw1376.h for the contract and docs/protocols.md §2 for the layout.
#include "acquisition/protocol/gdw1376.h"

#include <algorithm>
#include <cstdio>
#include <string_view>
#include <utility>

namespace gridmis::acquisition::gdw1376 {
namespace {

std::string Hex2(uint8_t b) {
  char buf[4];
  std::snprintf(buf, sizeof buf, "%02X", b);
  return buf;
}

std::string At(size_t offset, std::string_view what) {
  return "offset " + std::to_string(offset) + ": " + std::string(what);
}

Status ErrorAt(size_t offset, std::string_view what) { return InvalidArgument(At(offset, what)); }

// Prefixes the message of `s` with "offset N: ".
Status WithOffset(const Status& s, size_t offset) {
  return Status(s.code(), At(offset, s.message()), s.field());
}

bool IsBcd(uint8_t b) { return (b & 0x0F) <= 9 && (b >> 4) <= 9; }
int FromBcd(uint8_t b) { return (b >> 4) * 10 + (b & 0x0F); }
uint8_t ToBcd(int v) { return static_cast<uint8_t>(((v / 10) % 10) << 4 | (v % 10)); }

uint16_t Le16(ByteSpan b, size_t at) { return static_cast<uint16_t>(b[at] | (b[at + 1] << 8)); }

// ---- DA / DT ----

std::vector<uint16_t> ExpandDa(uint8_t da1, uint8_t da2) {
  std::vector<uint16_t> pns;
  if (da1 == 0 && da2 == 0) return {0};
  if (da2 == 0) return pns;  // FF 00 (all points) or invalid: the caller tells them apart
  for (int bit = 0; bit < 8; ++bit) {
    if (da1 & (1u << bit)) pns.push_back(static_cast<uint16_t>((da2 - 1) * 8 + bit + 1));
  }
  return pns;
}

std::vector<uint16_t> ExpandDt(uint8_t dt1, uint8_t dt2) {
  std::vector<uint16_t> fns;
  for (int bit = 0; bit < 8; ++bit) {
    if (dt1 & (1u << bit)) fns.push_back(static_cast<uint16_t>(dt2 * 8 + bit + 1));
  }
  return fns;
}

std::string FnList(const std::vector<uint16_t>& fns) {
  std::string s;
  for (uint16_t fn : fns) s += (s.empty() ? "F" : "+F") + std::to_string(fn);
  return s;
}

// ---- Item lengths by AFN/Fn/direction ----

Status Short(std::string_view what, size_t need, size_t have) {
  return InvalidArgument(std::string(what) + " needs " + std::to_string(need) + " bytes, " +
                         std::to_string(have) + " left");
}

// `name()` gives the item's name for the error; it is only called on one (no string is built
// while decoding a good frame).
template <typename NameFn>
Result<size_t> Need(const NameFn& name, size_t need, ByteSpan rest) {
  if (rest.size() < need) return Short(name(), need, rest.size());
  return need;
}

std::string FnName(uint16_t fn) { return "F" + std::to_string(fn); }

// Reading time (A.15) + M + (M+1) values of `width` bytes, after `prefix` bytes (a Td).
Result<size_t> IndicationLength(uint16_t fn, size_t prefix, size_t width, ByteSpan rest) {
  size_t head = prefix + 5 + 1;
  if (rest.size() < head) {
    return InvalidArgument(FnName(fn) + " needs at least " + std::to_string(head) +
                           " bytes (time tags and M), " + std::to_string(rest.size()) + " left");
  }
  size_t m = rest[head - 1];
  return Need([&] { return FnName(fn) + " (M = " + std::to_string(m) + ")"; },
              head + (m + 1) * width, rest);
}

// F33/F34 layout: reading time, M, (M+1) × (A.14 + 3 × A.11).
Result<size_t> F33Length(uint16_t fn, size_t prefix, ByteSpan rest) {
  return IndicationLength(fn, prefix, 5 + 4 + 4 + 4, rest);
}

// The width of one curve point (AFN0D F73..F110, F138, F145..F148); 0 when not known.
size_t CurvePointWidth(uint16_t fn) {
  if (fn == 73 || fn == 74) return 2;    // A.2 total-add group power
  if (fn == 75 || fn == 76) return 4;    // A.3 total-add group energy
  if (fn >= 81 && fn <= 88) return 3;    // A.9 power
  if (fn >= 89 && fn <= 91) return 2;    // A.7 voltage
  if (fn >= 92 && fn <= 95) return 3;    // A.25 current
  if (fn >= 97 && fn <= 104) return 4;   // A.13 / A.11
  if (fn >= 105 && fn <= 108) return 2;  // A.5 power factor
  if (fn == 109 || fn == 110) return 6;  // 3 × A.5 phase angles
  if (fn == 138) return 2;               // A.2 DC analog
  if (fn >= 145 && fn <= 148) return 4;  // A.11 quadrant reactive indications
  return 0;
}

enum class TdKind { kNone, kDay, kMonth, kCurve };

// The time tag an AFN0D request carries for `fn`.
TdKind Afn0dTd(uint16_t fn) {
  auto in = [fn](int a, int b) { return fn >= a && fn <= b; };
  if (in(1, 12) || in(25, 32) || in(41, 43) || in(49, 50) || in(57, 59) || in(113, 123) ||
      fn == 129 || in(153, 156) || in(161, 176) || in(185, 188)) {
    return TdKind::kDay;
  }
  if (in(17, 24) || in(33, 39) || fn == 44 || in(51, 52) || in(60, 62) || in(65, 66) || fn == 130 ||
      in(157, 160) || in(177, 184) || in(189, 196)) {
    return TdKind::kMonth;
  }
  if (CurvePointWidth(fn) != 0) return TdKind::kCurve;
  return TdKind::kNone;
}

Status UnknownFn(uint8_t afn, uint16_t fn, bool up) {
  return NotFound("AFN" + Hex2(afn) + " " + FnName(fn) + (up ? " reply" : " request") +
                  ": length not known to the codec");
}

bool IsActiveIndication(uint16_t fn) {
  // F129/F131 (0C), F161/F163 and F169/F171 (0D daily), F177/F179 (0D monthly): A.14.
  return fn == 129 || fn == 131 || fn == 161 || fn == 163 || fn == 169 || fn == 171 || fn == 177 ||
         fn == 179;
}

}  // namespace

// ---- Names ----

const char* AfnName(uint8_t afn) {
  switch (afn) {
    case 0x00:
      return "confirm/deny";
    case 0x01:
      return "reset";
    case 0x02:
      return "link interface check";
    case 0x03:
      return "relay station command";
    case 0x04:
      return "set parameters";
    case 0x05:
      return "control command";
    case 0x06:
      return "identity authentication";
    case 0x08:
      return "request cascaded terminal report";
    case 0x09:
      return "request terminal configuration";
    case 0x0A:
      return "query parameters";
    case 0x0B:
      return "request task data";
    case 0x0C:
      return "request class 1 data";
    case 0x0D:
      return "request class 2 data";
    case 0x0E:
      return "request class 3 data (events)";
    case 0x0F:
      return "file transfer";
    case 0x10:
      return "data forwarding";
    default:
      return "";
  }
}

bool AfnHasPw(uint8_t afn, bool uplink) {
  if (afn == kAfnAuth) return true;
  if (uplink) return false;
  return afn == kAfnReset || afn == kAfnSetParams || afn == kAfnControl || afn == kAfnFile ||
         afn == kAfnForward;
}

std::string ToString(TerminalKey k) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04u-%05u", static_cast<unsigned>(k.area),
                static_cast<unsigned>(k.address));
  return buf;
}

uint8_t Control::Byte() const {
  return static_cast<uint8_t>((up ? 0x80 : 0) | (prm ? 0x40 : 0) | (fcb_acd ? 0x20 : 0) |
                              (fcv ? 0x10 : 0) | (func & 0x0F));
}

Control Control::FromByte(uint8_t b) {
  Control c;
  c.up = b & 0x80;
  c.prm = b & 0x40;
  c.fcb_acd = b & 0x20;
  c.fcv = b & 0x10;
  c.func = b & 0x0F;
  return c;
}

uint8_t Seq::Byte() const {
  return static_cast<uint8_t>((tpv ? 0x80 : 0) | (fir ? 0x40 : 0) | (fin ? 0x20 : 0) |
                              (con ? 0x10 : 0) | (seq & 0x0F));
}

Seq Seq::FromByte(uint8_t b) {
  Seq s;
  s.tpv = b & 0x80;
  s.fir = b & 0x40;
  s.fin = b & 0x20;
  s.con = b & 0x10;
  s.seq = b & 0x0F;
  return s;
}

const Item* Frame::Find(uint16_t fn) const {
  for (const Group& g : groups) {
    for (const Item& it : g.items) {
      if (it.fn == fn) return &it;
    }
  }
  return nullptr;
}

// ---- Groups ----

Result<Group> MakeGroup(const std::vector<uint16_t>& pns_in, const std::vector<uint16_t>& fns_in) {
  std::vector<uint16_t> pns = pns_in, fns = fns_in;
  std::sort(pns.begin(), pns.end());
  pns.erase(std::unique(pns.begin(), pns.end()), pns.end());
  std::sort(fns.begin(), fns.end());
  fns.erase(std::unique(fns.begin(), fns.end()), fns.end());
  if (pns.empty()) return InvalidArgument("data unit: no pn given");
  if (fns.empty()) return InvalidArgument("data unit: no Fn given");
  Group g;
  if (pns.size() == 1 && pns[0] == kAllPoints) {
    g.all_points = true;
    g.da1 = 0xFF;
    g.da2 = 0;
  } else if (pns.size() == 1 && pns[0] == 0) {
    g.pns = {0};
  } else {
    for (uint16_t pn : pns) {
      if (pn == 0) return InvalidArgument("data unit: p0 cannot share a DA with other points");
      if (pn > kMaxPn) {
        return InvalidArgument("data unit: pn " + std::to_string(pn) + " > " +
                               std::to_string(kMaxPn));
      }
    }
    int group = (pns[0] - 1) / 8;
    for (uint16_t pn : pns) {
      if ((pn - 1) / 8 != group) {
        return InvalidArgument("data unit: p" + std::to_string(pns[0]) + " and p" +
                               std::to_string(pn) + " are not in one DA group");
      }
      g.da1 |= static_cast<uint8_t>(1u << ((pn - 1) % 8));
    }
    g.da2 = static_cast<uint8_t>(group + 1);
    g.pns = pns;
  }
  for (uint16_t fn : fns) {
    if (fn < 1 || fn > kMaxFn) {
      return InvalidArgument("data unit: F" + std::to_string(fn) + " is not in 1.." +
                             std::to_string(kMaxFn));
    }
  }
  int dt_group = (fns[0] - 1) / 8;
  for (uint16_t fn : fns) {
    if ((fn - 1) / 8 != dt_group) {
      return InvalidArgument("data unit: F" + std::to_string(fns[0]) + " and F" +
                             std::to_string(fn) + " are not in one DT group");
    }
    g.dt1 |= static_cast<uint8_t>(1u << ((fn - 1) % 8));
  }
  g.dt2 = static_cast<uint8_t>(dt_group);
  g.fns = fns;
  return g;
}

std::vector<Group> GroupsFor(const std::vector<uint16_t>& pns_in, uint16_t fn, const Bytes& data) {
  std::vector<uint16_t> pns = pns_in;
  std::sort(pns.begin(), pns.end());
  pns.erase(std::unique(pns.begin(), pns.end()), pns.end());
  std::vector<Group> out;
  size_t i = 0;
  while (i < pns.size()) {
    std::vector<uint16_t> chunk{pns[i]};
    size_t j = i + 1;
    if (pns[i] != 0 && pns[i] != kAllPoints && pns[i] <= kMaxPn) {
      while (j < pns.size() && pns[j] <= kMaxPn && (pns[j] - 1) / 8 == (pns[i] - 1) / 8) {
        chunk.push_back(pns[j++]);
      }
    }
    i = j;
    Result<Group> g = MakeGroup(chunk, {fn});
    Group group;
    if (g.ok()) {
      group = std::move(g).value();
    } else {
      // Not encodable (pn > 2040, Fn out of range): kept so that Encode names the problem.
      group.pns = chunk;
      group.fns = {fn};
    }
    for (uint16_t pn : group.all_points ? std::vector<uint16_t>{kAllPoints} : group.pns) {
      group.items.push_back(Item{pn, fn, data});
    }
    out.push_back(std::move(group));
  }
  return out;
}

// ---- Item lengths ----

Result<size_t> ItemLength(uint8_t afn, uint16_t fn, bool up, ByteSpan rest) {
  auto what = [fn] { return FnName(fn); };
  switch (afn) {
    case kAfnConfirm:
      if (fn == 1 || fn == 2) return size_t{0};
      if (fn == 3) {
        // The confirmed AFN and {DA DT ERR}... up to the end of the data.
        if (rest.empty()) return Short("F3 (confirmed AFN)", 1, 0);
        if ((rest.size() - 1) % 5 != 0) {
          return InvalidArgument("F3: " + std::to_string(rest.size() - 1) +
                                 " bytes after the confirmed AFN are not whole {DA DT ERR} "
                                 "units of 5 bytes");
        }
        return rest.size();
      }
      return UnknownFn(afn, fn, up);
    case kAfnReset:
      if (!up && fn >= 1 && fn <= 4) return size_t{0};
      return UnknownFn(afn, fn, up);
    case kAfnLink:
      if (fn >= 1 && fn <= 3) return size_t{0};
      return UnknownFn(afn, fn, up);
    case kAfnSetParams:
    case kAfnQueryParams: {
      bool carries_params = (afn == kAfnSetParams) != up;  // AFN04 down, AFN0A up
      if (!carries_params) {
        if (afn == kAfnSetParams) return UnknownFn(afn, fn, up);  // answered by AFN00
        if (fn == 10) {                                           // query: count + indexes
          if (rest.size() < 2) return Short("F10 (count)", 2, rest.size());
          return Need([&] { return "F10 (" + std::to_string(Le16(rest, 0)) + " indexes)"; },
                      2 + size_t{Le16(rest, 0)} * 2, rest);
        }
        return size_t{0};
      }
      if (fn == 1) return Need(what, 6, rest);
      if (fn == 3) return Need(what, 28, rest);
      if (fn == 10) {
        if (rest.size() < 2) return Short("F10 (count)", 2, rest.size());
        return Need([&] { return "F10 (" + std::to_string(Le16(rest, 0)) + " meters)"; },
                    2 + size_t{Le16(rest, 0)} * 27, rest);
      }
      return UnknownFn(afn, fn, up);
    }
    case kAfnControl:
      if (up) return UnknownFn(afn, fn, up);
      switch (fn) {
        case 1:
        case 25:
        case 49:
        case 50:
        case 51:
        case 52:
        case 53:
          return Need(what, 1, rest);
        case 9:
          return Need(what, 2, rest);
        case 12:
          return Need(what, 8, rest);
        case 31:
          return Need(what, 6, rest);
        case 32: {
          if (rest.size() < 2) return Short("F32 (kind and length)", 2, rest.size());
          return Need([&] { return "F32 (" + std::to_string(rest[1]) + " bytes of text)"; },
                      2 + size_t{rest[1]}, rest);
        }
        case 2:
        case 10:
        case 11:
        case 15:
        case 16:
        case 17:
        case 18:
        case 19:
        case 20:
        case 23:
        case 24:
        case 26:
        case 27:
        case 28:
        case 29:
        case 33:
        case 34:
        case 35:
        case 36:
        case 37:
        case 38:
        case 39:
          return size_t{0};
        default:
          return UnknownFn(afn, fn, up);
      }
    case kAfnConfig:
      if (!up) return size_t{0};
      if (fn == 1) return Need(what, 41, rest);
      return UnknownFn(afn, fn, up);
    case kAfnClass1:
      if (!up) return size_t{0};
      if (fn == 2) return Need(what, 6, rest);
      if (fn == 25) return Need(what, 67, rest);
      if (fn == 33 || fn == 34) return F33Length(fn, 0, rest);
      if (fn >= 129 && fn <= 136)
        return IndicationLength(fn, 0, IsActiveIndication(fn) ? 5 : 4, rest);
      return UnknownFn(afn, fn, up);
    case kAfnClass2: {
      TdKind td = Afn0dTd(fn);
      size_t td_len = td == TdKind::kDay     ? 3
                      : td == TdKind::kMonth ? 2
                      : td == TdKind::kCurve ? 7
                                             : 0;
      if (td == TdKind::kNone) return UnknownFn(afn, fn, up);
      if (!up) return Need([&] { return what() + " request (time tag)"; }, td_len, rest);
      if (fn == 1 || fn == 2 || fn == 9 || fn == 10) return F33Length(fn, 3, rest);
      if (fn == 17 || fn == 18) return F33Length(fn, 2, rest);
      if ((fn >= 161 && fn <= 176) || (fn >= 177 && fn <= 184)) {
        return IndicationLength(fn, td_len, IsActiveIndication(fn) ? 5 : 4, rest);
      }
      if (td == TdKind::kCurve) {
        if (rest.size() < 7) return Short(what() + " (Td_c)", 7, rest.size());
        size_t n = rest[6];
        return Need([&] { return what() + " (" + std::to_string(n) + " points)"; },
                    7 + n * CurvePointWidth(fn), rest);
      }
      return UnknownFn(afn, fn, up);
    }
    case kAfnClass3:
      if (fn != 1 && fn != 2) return UnknownFn(afn, fn, up);
      if (!up) return Need([&] { return what() + " request (Pm, Pn)"; }, 2, rest);
      {
        if (rest.size() < 4) return Short(what() + " (EC1 EC2 Pm Pn)", 4, rest.size());
        size_t count = static_cast<uint8_t>(rest[3] - rest[2]);
        size_t pos = 4;
        for (size_t r = 0; r < count; ++r) {
          if (rest.size() - pos < 2) {
            return Short(what() + " record " + std::to_string(r + 1) + " of " +
                             std::to_string(count) + " (ERC, Le)",
                         pos + 2, rest.size());
          }
          size_t le = rest[pos + 1];
          if (rest.size() - pos - 2 < le) {
            return Short(what() + " record " + std::to_string(r + 1) + " (ERC" +
                             std::to_string(rest[pos]) + ", Le " + std::to_string(le) + ")",
                         pos + 2 + le, rest.size());
          }
          pos += 2 + le;
        }
        return pos;
      }
    case kAfnForward:
      if (fn != 1) return UnknownFn(afn, fn, up);
      if (!up) {
        if (rest.size() < 6) return Short("F1 (port, control, time-outs, length)", 6, rest.size());
        size_t k = Le16(rest, 4);
        return Need([&] { return "F1 (" + std::to_string(k) + " bytes forwarded)"; }, 6 + k, rest);
      } else {
        if (rest.size() < 3) return Short("F1 (port, length)", 3, rest.size());
        size_t k = Le16(rest, 1);
        return Need([&] { return "F1 (" + std::to_string(k) + " bytes forwarded)"; }, 3 + k, rest);
      }
    default:
      return UnknownFn(afn, fn, up);
  }
}

// ---- Framing ----

Scan ScanFrame(ByteSpan buf, size_t max_frame) {
  Scan s;
  if (buf.empty()) return s;  // kNeedMore
  auto skip = [&](std::string reason) {
    size_t next = 1;
    while (next < buf.size() && buf[next] != 0x68) ++next;
    s.kind = Scan::kSkip;
    s.length = next;
    s.reason = std::move(reason);
    return s;
  };
  if (buf[0] != 0x68) return skip("no 68H");
  if (buf.size() >= 2) {
    // Protocol bits in L1 (low byte): 01 (Q/GDW 130) or 10 (376.1).
    uint8_t proto = buf[1] & 0x03;
    if (proto != 1 && proto != 2) return skip("protocol id");
  }
  if (buf.size() < 3) return s;
  uint16_t l1 = Le16(buf, 1);
  size_t total = static_cast<size_t>(l1 >> 2) + 8;
  if (total > max_frame) return skip("too long");
  if ((l1 >> 2) < 8) return skip("too short");
  if (buf.size() >= 4 && buf[3] != (l1 & 0xFF)) return skip("L1 != L2");
  if (buf.size() >= 5 && buf[4] != (l1 >> 8)) return skip("L1 != L2");
  if (buf.size() >= 6 && buf[5] != 0x68) return skip("no second 68H");
  if (buf.size() < total) return s;
  uint8_t cs = 0;
  for (size_t i = 6; i < total - 2; ++i) cs = static_cast<uint8_t>(cs + buf[i]);
  if (cs != buf[total - 2]) return skip("checksum");
  if (buf[total - 1] != 0x16) return skip("no 16H");
  s.kind = Scan::kFrame;
  s.length = total;
  return s;
}

Result<Frame> Decode(ByteSpan b) {
  if (b.size() < 6) {
    return ErrorAt(b.size(), "frame header needs 6 bytes, got " + std::to_string(b.size()));
  }
  if (b[0] != 0x68) return ErrorAt(0, "start byte " + Hex2(b[0]) + "H is not 68H");
  uint16_t l1 = Le16(b, 1), l2 = Le16(b, 3);
  if (l1 != l2) {
    return ErrorAt(3, "L2 " + Hex2(b[4]) + Hex2(b[3]) + "H != L1 " + Hex2(b[2]) + Hex2(b[1]) + "H");
  }
  if (b[5] != 0x68) return ErrorAt(5, "second start byte " + Hex2(b[5]) + "H is not 68H");
  Frame f;
  int proto = l1 & 0x03;
  if (proto == 1) {
    f.warnings.push_back("L protocol id 01 (Q/GDW 130-2005); decoded as 376.1");
  } else if (proto != 2) {
    return ErrorAt(1, "L protocol id " + std::to_string(proto >> 1) + std::to_string(proto & 1) +
                          "b is not 10b (376.1)");
  }
  size_t len = l1 >> 2;
  if (len + 8 != b.size()) {
    return ErrorAt(1, "L gives " + std::to_string(len) + " bytes of user data (a frame of " +
                          std::to_string(len + 8) + "), the frame has " + std::to_string(b.size()) +
                          " bytes");
  }
  if (len < 8) {
    return ErrorAt(1, "L gives " + std::to_string(len) + " bytes of user data, C A AFN SEQ need 8");
  }
  uint8_t cs = 0;
  for (size_t i = 6; i < 6 + len; ++i) cs = static_cast<uint8_t>(cs + b[i]);
  if (cs != b[6 + len]) {
    return ErrorAt(6 + len, "CS " + Hex2(b[6 + len]) + "H, the user data sum to " + Hex2(cs) + "H");
  }
  if (b[7 + len] != 0x16) return ErrorAt(7 + len, "end byte " + Hex2(b[7 + len]) + "H is not 16H");

  f.c = Control::FromByte(b[6]);
  if (!IsBcd(b[7]) || !IsBcd(b[8])) {
    return ErrorAt(7, "A1 " + Hex2(b[7]) + " " + Hex2(b[8]) + " is not BCD");
  }
  f.a.terminal.area = static_cast<uint16_t>(FromBcd(b[8]) * 100 + FromBcd(b[7]));
  f.a.terminal.address = Le16(b, 9);
  f.a.group = b[11] & 1;
  f.a.msa = b[11] >> 1;
  f.afn = b[12];
  f.seq = Seq::FromByte(b[13]);
  if (!f.seq.fir && f.seq.fin && f.c.up && !f.c.prm) {
    f.warnings.push_back("SEQ FIR=0 FIN=1 on a reply (accepted as the last or only frame)");
  }

  // AUX at the end of the user data: [EC 2] [PW 16] [Tp 6].
  const size_t user_end = 6 + len;
  bool has_ec = f.c.up && f.c.fcb_acd;
  bool has_pw = AfnHasPw(f.afn, f.c.up);
  size_t aux = (has_ec ? 2 : 0) + (has_pw ? 16 : 0) + (f.seq.tpv ? 6 : 0);
  if (len - 8 < aux) {
    std::string parts;
    if (has_ec) parts += " EC 2";
    if (has_pw) parts += " PW 16";
    if (f.seq.tpv) parts += " Tp 6";
    return ErrorAt(14, "AUX needs " + std::to_string(aux) + " bytes (" + parts.substr(1) + "), " +
                           std::to_string(len - 8) + " left after SEQ");
  }
  const size_t data_end = user_end - aux;
  size_t p = data_end;
  if (has_ec) {
    f.ec = EventCounter{b[p], b[p + 1]};
    p += 2;
  }
  if (has_pw) {
    std::array<uint8_t, 16> pw;
    std::copy(b.begin() + static_cast<std::ptrdiff_t>(p),
              b.begin() + static_cast<std::ptrdiff_t>(p + 16), pw.begin());
    f.pw = pw;
    p += 16;
  }
  if (f.seq.tpv) {
    for (size_t i = p + 1; i < p + 5; ++i) {
      if (!IsBcd(b[i])) return ErrorAt(i, "Tp send time byte " + Hex2(b[i]) + " is not BCD");
    }
    TimeTag tp;
    tp.pfc = b[p];
    tp.second = static_cast<uint8_t>(FromBcd(b[p + 1]));
    tp.minute = static_cast<uint8_t>(FromBcd(b[p + 2]));
    tp.hour = static_cast<uint8_t>(FromBcd(b[p + 3]));
    tp.day = static_cast<uint8_t>(FromBcd(b[p + 4]));
    tp.delay_minutes = b[p + 5];
    if (tp.second > 59 || tp.minute > 59 || tp.hour > 23 || tp.day > 31) {
      return ErrorAt(p + 1, "Tp send time " + std::to_string(tp.day) + "th " +
                                std::to_string(tp.hour) + ":" + std::to_string(tp.minute) + ":" +
                                std::to_string(tp.second) + " is not a valid time (A.16)");
    }
    f.tp = tp;
  }

  // Data units.
  size_t pos = 14;
  size_t items_in_frame = 0;
  while (pos < data_end) {
    if (!f.groups.empty() && (f.afn == kAfnConfirm || f.afn == kAfnLink)) {
      const Group& last = f.groups.back();
      bool terminal_unit = !last.fns.empty();
      for (uint16_t fn : last.fns) {
        if (fn > (f.afn == kAfnLink ? 3 : 2)) terminal_unit = false;
      }
      if (terminal_unit) {
        f.padding.assign(b.begin() + static_cast<std::ptrdiff_t>(pos),
                         b.begin() + static_cast<std::ptrdiff_t>(data_end));
        f.warnings.push_back(std::to_string(data_end - pos) +
                             " bytes after the last data unit counted in L (tolerated, kept "
                             "as padding)");
        break;
      }
    }
    if (data_end - pos < 4) {
      return ErrorAt(pos, std::to_string(data_end - pos) +
                              " bytes left, a data unit identifier DA DT needs 4");
    }
    Group g;
    g.da1 = b[pos];
    g.da2 = b[pos + 1];
    g.dt1 = b[pos + 2];
    g.dt2 = b[pos + 3];
    auto id = [&g] {
      return "DA " + Hex2(g.da1) + " " + Hex2(g.da2) + " DT " + Hex2(g.dt1) + " " + Hex2(g.dt2);
    };
    if (g.dt2 > 30) {
      return ErrorAt(pos + 3, "DT2 " + std::to_string(g.dt2) + " is not a valid Fn group (0..30)");
    }
    if (g.da2 == 0 && g.da1 != 0 && g.da1 != 0xFF) {
      return ErrorAt(pos, "DA " + Hex2(g.da1) + " 00: DA2 0 is p0 or all points (FF 00) only");
    }
    g.all_points = g.da1 == 0xFF && g.da2 == 0;
    g.pns = ExpandDa(g.da1, g.da2);
    g.fns = ExpandDt(g.dt1, g.dt2);
    if (g.dt1 == 0) f.warnings.push_back(At(pos, id() + " names no Fn (no data)"));
    if (g.da1 == 0 && g.da2 != 0) f.warnings.push_back(At(pos, id() + " names no pn (no data)"));
    if (f.afn == kAfnConfirm && std::find(g.fns.begin(), g.fns.end(), 1) != g.fns.end() &&
        std::find(g.fns.begin(), g.fns.end(), 2) != g.fns.end()) {
      f.warnings.push_back(At(
          pos + 2, "AFN00 unit names " + FnList(g.fns) + " (DT " + Hex2(g.dt1) + " " + Hex2(g.dt2) +
                       "): decoded as the standard says; some masters write F3 as the number "
                       "03 instead of the bit 04"));
    }
    pos += 4;
    // AFN00 F3: per-unit confirm/deny, up to the end of the data.
    if (f.afn == kAfnConfirm && g.fns.size() == 1 && g.fns[0] == 3 && g.pns.size() == 1 &&
        g.pns[0] == 0) {
      auto rest = b.subspan(pos, data_end - pos);
      Result<size_t> n = ItemLength(kAfnConfirm, 3, f.c.up, rest);
      if (!n.ok()) return WithOffset(n.status(), pos);
      Frame::PerUnitConfirm pc;
      pc.afn = rest[0];
      for (size_t u = 1; u + 5 <= rest.size(); u += 5) {
        Frame::UnitResult r;
        r.da1 = rest[u];
        r.da2 = rest[u + 1];
        r.dt1 = rest[u + 2];
        r.dt2 = rest[u + 3];
        r.err = rest[u + 4];
        if (r.dt2 > 30) {
          return ErrorAt(pos + u + 3, "F3 unit DT2 " + std::to_string(r.dt2) +
                                          " is not a valid Fn group (0..30)");
        }
        std::vector<uint16_t> upns = ExpandDa(r.da1, r.da2);
        std::vector<uint16_t> ufns = ExpandDt(r.dt1, r.dt2);
        r.pn = upns.empty() ? 0 : upns[0];
        r.fn = ufns.empty() ? 0 : ufns[0];
        pc.units.push_back(r);
      }
      f.confirm = std::move(pc);
      f.groups.push_back(std::move(g));
      pos = data_end;
      break;
    }
    static const std::vector<uint16_t> kAllPointsPn = {kAllPoints};
    const std::vector<uint16_t>& item_pns = g.all_points ? kAllPointsPn : g.pns;
    size_t total_items = item_pns.size() * g.fns.size();
    items_in_frame += total_items;
    if (items_in_frame > kMaxItemsPerFrame) {
      return ErrorAt(pos, "more than " + std::to_string(kMaxItemsPerFrame) +
                              " data items in one frame (" + id() + ")");
    }
    size_t k = 0;
    for (uint16_t pn : item_pns) {
      for (uint16_t fn : g.fns) {
        ++k;
        auto rest = b.subspan(pos, data_end - pos);
        Result<size_t> n = ItemLength(f.afn, fn, f.c.up, rest);
        size_t item_len = 0;
        if (n.ok()) {
          item_len = *n;
        } else if (n.status().code() == StatusCode::kNotFound) {
          if (k != total_items) {
            return ErrorAt(pos, "p" + std::to_string(pn) + " F" + std::to_string(fn) +
                                    ": length not known and it is not the last item of " + id());
          }
          item_len = rest.size();
          if (item_len > 0) {
            f.warnings.push_back(At(pos, "AFN" + Hex2(f.afn) + " F" + std::to_string(fn) + " " +
                                             std::to_string(item_len) +
                                             " bytes taken as one item (length not known)"));
          }
        } else {
          return WithOffset(n.status(), pos);
        }
        Item it;
        it.pn = pn;
        it.fn = fn;
        it.data.assign(b.begin() + static_cast<std::ptrdiff_t>(pos),
                       b.begin() + static_cast<std::ptrdiff_t>(pos + item_len));
        g.items.push_back(std::move(it));
        pos += item_len;
      }
    }
    f.groups.push_back(std::move(g));
  }
  return f;
}

namespace {

// Checks that a group's DA/DT bytes, pns, fns and items agree; `i` is its index for messages.
Status CheckGroup(const Group& g, size_t i) {
  std::string where = "group " + std::to_string(i) + ": ";
  for (uint16_t pn : g.pns) {
    if (pn > kMaxPn) {
      return InvalidArgument(where + "pn " + std::to_string(pn) + " > " + std::to_string(kMaxPn),
                             "pn");
    }
  }
  for (uint16_t fn : g.fns) {
    if (fn < 1 || fn > kMaxFn) {
      return InvalidArgument(where + "F" + std::to_string(fn) + " is not in 1..248", "fn");
    }
  }
  if (g.dt2 > 30) {
    return InvalidArgument(where + "DT2 " + std::to_string(g.dt2) + " is not a valid Fn group",
                           "DT2");
  }
  bool all = g.da1 == 0xFF && g.da2 == 0;
  if (all != g.all_points) {
    return InvalidArgument(
        where + "all_points does not match DA " + Hex2(g.da1) + " " + Hex2(g.da2), "DA");
  }
  if (!all && g.da2 == 0 && g.da1 != 0) {
    return InvalidArgument(where + "DA " + Hex2(g.da1) + " 00 is not p0 nor all points", "DA");
  }
  if (all ? !g.pns.empty() : ExpandDa(g.da1, g.da2) != g.pns) {
    return InvalidArgument(
        where + "pns do not match DA " + Hex2(g.da1) + " " + Hex2(g.da2) + " (use MakeGroup)",
        "DA");
  }
  if (ExpandDt(g.dt1, g.dt2) != g.fns) {
    return InvalidArgument(
        where + "fns do not match DT " + Hex2(g.dt1) + " " + Hex2(g.dt2) + " (use MakeGroup)",
        "DT");
  }
  if (g.items.empty()) return Status::Ok();
  std::vector<uint16_t> item_pns = all ? std::vector<uint16_t>{kAllPoints} : g.pns;
  if (g.items.size() != item_pns.size() * g.fns.size()) {
    return InvalidArgument(where + std::to_string(g.items.size()) + " items for " +
                               std::to_string(item_pns.size()) + " pn x " +
                               std::to_string(g.fns.size()) + " Fn",
                           "items");
  }
  size_t k = 0;
  for (uint16_t pn : item_pns) {
    for (uint16_t fn : g.fns) {
      const Item& it = g.items[k++];
      if (it.fn != fn || (!all && it.pn != pn)) {
        return InvalidArgument(where + "item " + std::to_string(k - 1) + " is p" +
                                   std::to_string(it.pn) + " F" + std::to_string(it.fn) +
                                   ", expected p" + std::to_string(pn) + " F" + std::to_string(fn) +
                                   " (pn-major, Fn-minor order)",
                               "items");
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Result<Bytes> Encode(const Frame& f) {
  if (f.a.terminal.area > 9999) {
    return InvalidArgument("A1 " + std::to_string(f.a.terminal.area) + " is not 4 BCD digits",
                           "A1");
  }
  if (f.a.msa > 127) {
    return InvalidArgument("MSA " + std::to_string(f.a.msa) + " > 127", "MSA");
  }
  if (f.c.func > 15) return InvalidArgument("function code > 15", "C");
  if (f.seq.seq > 15) return InvalidArgument("SEQ number > 15", "SEQ");
  bool want_ec = f.c.up && f.c.fcb_acd;
  if (f.ec && !want_ec) return InvalidArgument("EC given without an uplink ACD = 1", "EC");
  if (!f.ec && want_ec) return InvalidArgument("ACD = 1 on an uplink frame needs EC", "EC");
  bool want_pw = AfnHasPw(f.afn, f.c.up);
  if (f.pw && !want_pw) {
    return InvalidArgument(
        "PW given but AFN" + Hex2(f.afn) + (f.c.up ? " uplink" : " downlink") + " carries none",
        "PW");
  }
  if (!f.pw && want_pw) {
    return InvalidArgument(std::string("AFN") + Hex2(f.afn) + " downlink needs PW", "PW");
  }
  if (!f.padding.empty() && f.afn != kAfnConfirm && f.afn != kAfnLink) {
    return InvalidArgument("padding is only tolerated after AFN00/AFN02 units", "padding");
  }
  if (f.confirm && f.afn != kAfnConfirm) {
    return InvalidArgument("a per-unit confirm (F3) needs AFN00", "confirm");
  }
  Bytes out;
  out.reserve(64);
  out.insert(out.end(), {0x68, 0, 0, 0, 0, 0x68});
  Seq seq = f.seq;
  seq.tpv = f.tp.has_value();
  out.push_back(f.c.Byte());
  out.push_back(ToBcd(f.a.terminal.area % 100));
  out.push_back(ToBcd(f.a.terminal.area / 100));
  out.push_back(static_cast<uint8_t>(f.a.terminal.address & 0xFF));
  out.push_back(static_cast<uint8_t>(f.a.terminal.address >> 8));
  out.push_back(static_cast<uint8_t>((f.a.msa << 1) | (f.a.group ? 1 : 0)));
  out.push_back(f.afn);
  out.push_back(seq.Byte());

  auto write_confirm = [&](const Frame::PerUnitConfirm& pc) -> Status {
    out.push_back(pc.afn);
    for (size_t u = 0; u < pc.units.size(); ++u) {
      const Frame::UnitResult& r = pc.units[u];
      if (r.dt1 != 0 || r.fn == 0) {  // as decoded (or as given); else from pn and fn
        if (r.dt2 > 30) {
          return InvalidArgument("confirm unit " + std::to_string(u) + ": DT2 > 30", "DT2");
        }
        out.insert(out.end(), {r.da1, r.da2, r.dt1, r.dt2, r.err});
      } else {
        Result<Group> g = MakeGroup({r.pn}, {r.fn});
        if (!g.ok()) return g.status().WithContext("confirm unit " + std::to_string(u));
        out.insert(out.end(), {g->da1, g->da2, g->dt1, g->dt2, r.err});
      }
    }
    return Status::Ok();
  };

  bool confirm_written = false;
  for (size_t i = 0; i < f.groups.size(); ++i) {
    const Group& g = f.groups[i];
    RETURN_IF_ERROR(CheckGroup(g, i));
    std::string where = "group " + std::to_string(i) + ": ";
    out.insert(out.end(), {g.da1, g.da2, g.dt1, g.dt2});
    bool f3 = f.afn == kAfnConfirm && g.fns == std::vector<uint16_t>{3} &&
              g.pns == std::vector<uint16_t>{0};
    if (f3) {
      if (!f.confirm) return InvalidArgument(where + "AFN00 F3 without `confirm`", "confirm");
      if (i + 1 != f.groups.size()) {
        return InvalidArgument(where + "AFN00 F3 must be the last data unit", "groups");
      }
      RETURN_IF_ERROR(write_confirm(*f.confirm));
      confirm_written = true;
      continue;
    }
    std::vector<uint16_t> item_pns = g.all_points ? std::vector<uint16_t>{kAllPoints} : g.pns;
    size_t k = 0;
    size_t total = item_pns.size() * g.fns.size();
    for (uint16_t pn : item_pns) {
      for (uint16_t fn : g.fns) {
        static const Bytes kEmpty;
        const Bytes& data = g.items.empty() ? kEmpty : g.items[k].data;
        ++k;
        // The data must be what the decoder will take as this item.
        Result<size_t> n = ItemLength(f.afn, fn, f.c.up, data);
        bool last = i + 1 == f.groups.size() && k == total && !f.confirm;
        if (n.ok()) {
          if (*n != data.size()) {
            return InvalidArgument(where + "p" + std::to_string(pn) + " F" + std::to_string(fn) +
                                       ": " + std::to_string(data.size()) +
                                       " bytes of data, its layout takes " + std::to_string(*n),
                                   "data");
          }
        } else if (n.status().code() == StatusCode::kNotFound) {
          if (!last) {
            return InvalidArgument(where + "p" + std::to_string(pn) + " F" + std::to_string(fn) +
                                       ": an item of a length the codec does not know must be "
                                       "the last item",
                                   "data");
          }
        } else {
          return InvalidArgument(where + "p" + std::to_string(pn) + " F" + std::to_string(fn) +
                                     ": " + n.status().message(),
                                 "data");
        }
        out.insert(out.end(), data.begin(), data.end());
      }
    }
  }
  if (f.confirm && !confirm_written) {
    out.insert(out.end(), {0x00, 0x00, 0x04, 0x00});
    RETURN_IF_ERROR(write_confirm(*f.confirm));
  }
  out.insert(out.end(), f.padding.begin(), f.padding.end());
  if (f.ec) {
    out.push_back(f.ec->important);
    out.push_back(f.ec->normal);
  }
  if (f.pw) out.insert(out.end(), f.pw->begin(), f.pw->end());
  if (f.tp) {
    const TimeTag& t = *f.tp;
    if (t.second > 59 || t.minute > 59 || t.hour > 23 || t.day > 31) {
      return InvalidArgument("Tp send time out of range", "Tp");
    }
    out.insert(out.end(), {t.pfc, ToBcd(t.second), ToBcd(t.minute), ToBcd(t.hour), ToBcd(t.day),
                           t.delay_minutes});
  }
  size_t len = out.size() - 6;
  if (len > kMaxUserData) {
    return InvalidArgument(
        "user data of " + std::to_string(len) + " bytes > " + std::to_string(kMaxUserData), "L");
  }
  uint16_t l = static_cast<uint16_t>((len << 2) | 0x02);
  out[1] = out[3] = static_cast<uint8_t>(l & 0xFF);
  out[2] = out[4] = static_cast<uint8_t>(l >> 8);
  uint8_t cs = 0;
  for (size_t i = 6; i < out.size(); ++i) cs = static_cast<uint8_t>(cs + out[i]);
  out.push_back(cs);
  out.push_back(0x16);
  return out;
}

// ---- Builders ----

namespace {

// Gives every group without items one empty item per (pn, Fn), as Decode does.
void FillItems(uint8_t afn, std::vector<Group>& groups) {
  for (Group& g : groups) {
    if (!g.items.empty()) continue;
    if (afn == kAfnConfirm && g.fns == std::vector<uint16_t>{3}) continue;
    for (uint16_t pn : g.all_points ? std::vector<uint16_t>{kAllPoints} : g.pns) {
      for (uint16_t fn : g.fns) g.items.push_back(Item{pn, fn, {}});
    }
  }
}

Group SingleGroup(uint16_t pn, uint16_t fn) {
  Result<Group> g = MakeGroup({pn}, {fn});
  return g.ok() ? std::move(g).value() : Group{};
}

}  // namespace

Frame MakeRequest(Address a, uint8_t afn, uint8_t seq, std::vector<Group> groups,
                  std::optional<TimeTag> tp, std::optional<std::array<uint8_t, 16>> pw) {
  Frame f;
  f.c.up = false;
  f.c.prm = true;
  f.c.func = afn == kAfnReset                                                ? 1
             : (afn == kAfnClass1 || afn == kAfnClass2 || afn == kAfnClass3) ? 11
                                                                             : 10;
  f.a = a;
  f.afn = afn;
  f.seq.tpv = tp.has_value();
  f.seq.fir = f.seq.fin = true;
  f.seq.con = afn == kAfnReset || afn == kAfnSetParams || afn == kAfnControl || afn == kAfnFile ||
              afn == kAfnForward;
  f.seq.seq = seq & 0x0F;
  FillItems(afn, groups);
  f.groups = std::move(groups);
  f.tp = tp;
  if (AfnHasPw(afn, false)) f.pw = pw ? *pw : std::array<uint8_t, 16>{};
  return f;
}

Frame MakeResponse(const Frame& request, uint8_t afn, std::vector<Group> groups) {
  Frame f;
  f.c.up = !request.c.up;
  f.c.prm = false;
  f.c.func = f.c.up ? (afn == kAfnConfirm ? 0 : 8) : (afn == kAfnConfirm ? 11 : 8);
  f.a = request.a;
  f.afn = afn;
  f.seq.tpv = request.tp.has_value();
  f.seq.fir = f.seq.fin = true;
  f.seq.con = false;
  f.seq.seq = request.seq.seq;
  FillItems(afn, groups);
  f.groups = std::move(groups);
  f.tp = request.tp;
  if (AfnHasPw(afn, f.c.up)) f.pw = std::array<uint8_t, 16>{};
  return f;
}

Frame MakeConfirm(const Frame& request) {
  return MakeResponse(request, kAfnConfirm, {SingleGroup(0, 1)});
}

Frame MakeDeny(const Frame& request) {
  return MakeResponse(request, kAfnConfirm, {SingleGroup(0, 2)});
}

Frame MakeLink(TerminalKey k, uint16_t fn, uint8_t seq) {
  Frame f;
  f.c.up = true;
  f.c.prm = true;
  f.c.func = 9;
  f.a.terminal = k;
  f.a.msa = 0;
  f.afn = kAfnLink;
  f.seq.tpv = false;
  f.seq.fir = f.seq.fin = f.seq.con = true;
  f.seq.seq = seq & 0x0F;
  f.groups = {SingleGroup(0, fn)};
  FillItems(kAfnLink, f.groups);
  return f;
}

}  // namespace gridmis::acquisition::gdw1376
