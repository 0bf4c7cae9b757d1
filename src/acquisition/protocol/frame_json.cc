// Frames as JSON for field engineers (see frame_json.h).
#include "acquisition/protocol/frame_json.h"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "acquisition/protocol/dlt645.h"
#include "acquisition/protocol/gdw1376.h"

namespace gridmis::acquisition::protocol {
namespace {

namespace g = gdw1376;
namespace d = dlt645;
using json = nlohmann::json;

constexpr char kHexDigits[] = "0123456789ABCDEF";

std::string HexByte(uint8_t b) { return std::string{kHexDigits[b >> 4], kHexDigits[b & 15]}; }

// Text from a frame (vendor strings) or a decoder's message, safe for JSON serialisation: valid
// UTF-8 is kept (RFC 3629: no overlongs, no surrogates), control characters and every byte of an
// invalid sequence become "\\xNN".
std::string Printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  auto escape = [&](unsigned char c) {
    out += "\\x";
    out += HexByte(c);
  };
  auto cont = [&](size_t at) {
    return at < s.size() && (static_cast<unsigned char>(s[at]) & 0xC0) == 0x80;
  };
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7F) {
        escape(c);
      } else {
        out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    size_t n = 0;                        // continuation bytes
    unsigned char lo = 0x80, hi = 0xBF;  // range of the first continuation byte
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    }
    bool ok = n > 0 && i + n < s.size();
    if (ok) {
      const auto c1 = static_cast<unsigned char>(s[i + 1]);
      ok = c1 >= lo && c1 <= hi;
      for (size_t k = 2; ok && k <= n; ++k) ok = cont(i + k);
    }
    if (!ok) {
      escape(c);
      ++i;
      continue;
    }
    out.append(s.substr(i, n + 1));
    i += n + 1;
  }
  return out;
}

std::string Pad(int v, int width) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%0*d", width, v);
  return buf;
}

std::string MinuteText(const g::MinuteTime& t) {
  return Pad(t.year, 4) + "-" + Pad(t.month, 2) + "-" + Pad(t.day, 2) + " " + Pad(t.hour, 2) + ":" +
         Pad(t.minute, 2);
}

json ClockJson(const g::ClockTime& t) {
  json j;
  j["time"] = Pad(t.year, 4) + "-" + Pad(t.month, 2) + "-" + Pad(t.day, 2) + " " + Pad(t.hour, 2) +
              ":" + Pad(t.minute, 2) + ":" + Pad(t.second, 2);
  j["weekday"] = t.weekday;
  return j;
}

json EnergyJson(const std::optional<Energy>& e, int decimals) {
  if (!e) return nullptr;
  return e->ToKwhString(decimals);
}

json FixedJson(const std::optional<g::Fixed>& v) {
  if (!v) return nullptr;
  return v->ToString();
}

template <size_t N>
json FixedArray(const std::array<std::optional<g::Fixed>, N>& a) {
  json out = json::array();
  for (const auto& v : a) out.push_back(FixedJson(v));
  return out;
}

// ---- 1376.1 names ----

const char* LinkFuncName(bool prm, uint8_t func) {
  if (prm) {
    switch (func) {
      case 1:
        return "reset";
      case 4:
        return "user data (no reply)";
      case 9:
        return "link test";
      case 10:
        return "request class 1 data";
      case 11:
        return "request class 2 data";
      default:
        return "";
    }
  }
  switch (func) {
    case 0:
      return "confirm";
    case 8:
      return "user data (response)";
    case 9:
      return "deny: no requested data";
    case 11:
      return "link status";
    default:
      return "";
  }
}

const char* FnName(uint8_t afn, uint16_t fn) {
  switch (afn) {
    case g::kAfnConfirm:
      if (fn == 1) return "all confirmed";
      if (fn == 2) return "all denied";
      if (fn == 3) return "per-unit confirm/deny";
      break;
    case g::kAfnLink:
      if (fn == 1) return "login";
      if (fn == 2) return "logout";
      if (fn == 3) return "heartbeat";
      break;
    case g::kAfnSetParams:
    case g::kAfnQueryParams:
      if (fn == 1) return "uplink communication parameters";
      if (fn == 3) return "master station IP, port and APN";
      if (fn == 10) return "meter archive (电能表/交流采样装置配置)";
      break;
    case g::kAfnControl:
      switch (fn) {
        case 1:
          return "remote trip";
        case 2:
          return "permit close";
        case 9:
          return "period power control on";
        case 10:
          return "rest-day power control on";
        case 11:
          return "business-stop power control on";
        case 12:
          return "current power down-float control on";
        case 15:
          return "monthly energy control on";
        case 16:
          return "purchase (prepaid) energy control on";
        case 17:
          return "period power control off";
        case 18:
          return "rest-day power control off";
        case 19:
          return "business-stop power control off";
        case 20:
          return "current power down-float control off";
        case 23:
          return "monthly energy control off";
        case 24:
          return "purchase (prepaid) energy control off";
        case 25:
          return "keep power (保电) on";
        case 26:
          return "urge-fee alarm on";
        case 27:
          return "permit talk with the master";
        case 28:
          return "terminal elimination on";
        case 29:
          return "permit active reports";
        case 31:
          return "time sync";
        case 32:
          return "Chinese message";
        case 33:
          return "keep power (保电) off";
        case 34:
          return "urge-fee alarm off";
        case 35:
          return "forbid talk with the master";
        case 36:
          return "terminal elimination off";
        case 37:
          return "forbid active reports";
        case 38:
          return "connect to the master";
        case 39:
          return "disconnect from the master";
        default:
          break;
      }
      break;
    case g::kAfnConfig:
      if (fn == 1) return "terminal version";
      if (fn == 2) return "terminal I/O and port configuration";
      if (fn == 3) return "terminal other configuration";
      break;
    case g::kAfnClass1:
      switch (fn) {
        case 2:
          return "terminal clock";
        case 25:
          return "current power, PF, voltage, current";
        case 33:
          return "current forward indications (active, reactive, Q1, Q4)";
        case 34:
          return "current reverse indications (active, reactive, Q2, Q3)";
        case 129:
          return "current forward active energy indication";
        case 130:
          return "current forward reactive energy indication";
        case 131:
          return "current reverse active energy indication";
        case 132:
          return "current reverse reactive energy indication";
        case 133:
          return "current quadrant I reactive indication";
        case 134:
          return "current quadrant II reactive indication";
        case 135:
          return "current quadrant III reactive indication";
        case 136:
          return "current quadrant IV reactive indication";
        default:
          break;
      }
      break;
    case g::kAfnClass2:
      switch (fn) {
        case 1:
          return "daily frozen forward indications (F33 content)";
        case 2:
          return "daily frozen reverse indications (F34 content)";
        case 17:
          return "monthly frozen forward indications";
        case 18:
          return "monthly frozen reverse indications";
        case 81:
          return "active power curve, total";
        case 89:
          return "phase A voltage curve";
        case 97:
          return "forward active energy quantity curve";
        case 101:
          return "forward active total indication curve";
        case 102:
          return "forward reactive total indication curve";
        case 103:
          return "reverse active total indication curve";
        case 104:
          return "reverse reactive total indication curve";
        case 161:
          return "daily frozen forward active indication";
        case 162:
          return "daily frozen forward reactive indication";
        case 163:
          return "daily frozen reverse active indication";
        case 164:
          return "daily frozen reverse reactive indication";
        case 177:
          return "monthly frozen forward active indication";
        case 178:
          return "monthly frozen forward reactive indication";
        case 179:
          return "monthly frozen reverse active indication";
        case 180:
          return "monthly frozen reverse reactive indication";
        default:
          if (fn >= 73 && fn <= 110) return "curve";
          if (fn >= 161 && fn <= 168) return "daily frozen indication";
          if (fn >= 177 && fn <= 184) return "monthly frozen indication";
          break;
      }
      break;
    case g::kAfnClass3:
      if (fn == 1) return "important events";
      if (fn == 2) return "normal events";
      break;
    case g::kAfnForward:
      if (fn == 1) return "transparent forward";
      if (fn == 9) return "forward a read to a meter";
      if (fn == 10) return "forward remote trip/close";
      if (fn == 11) return "forward power-on";
      break;
    default:
      break;
  }
  return "";
}

// Active indications (A.14, 4 decimals) among F129..F136, F161..F168, F177..F184.
bool ActiveIndication(uint16_t fn) {
  return fn == 129 || fn == 131 || fn == 161 || fn == 163 || fn == 177 || fn == 179;
}

json IndicationJson(const g::Indication& v, bool active) {
  const int decimals = active ? 4 : 2;
  json j;
  j["reading_time"] = MinuteText(v.reading_time);
  j["rates"] = v.rates;
  j["unit"] = active ? "kWh" : "kvarh";
  j["total"] = v.values.empty() ? json(nullptr) : EnergyJson(v.values[0], decimals);
  json rates = json::array();
  for (size_t k = 1; k < v.values.size(); ++k) rates.push_back(EnergyJson(v.values[k], decimals));
  j["rate_values"] = std::move(rates);
  if (v.rates == 4) j["rate_names"] = {"sharp", "peak", "flat", "valley"};
  return j;
}

// F33/F34 content (AFN0C; AFN0D F1/F2 after a Td_d, F17/F18 after a Td_m): reading time, M,
// then active (A.14) and three reactive sets (A.11) of total + M rates each.
Result<json> IndicationSetJson(uint16_t fn, ByteSpan data) {
  if (data.size() < 6) {
    return InvalidArgument("F" + std::to_string(fn) + " data of " + std::to_string(data.size()) +
                           " bytes, shorter than its reading time and M");
  }
  const size_t values = size_t{data[5]} + 1;
  const size_t need = 6 + 17 * values;
  if (data.size() != need) {
    return InvalidArgument("F" + std::to_string(fn) + " data of " + std::to_string(data.size()) +
                           " bytes; M = " + std::to_string(data[5]) + " needs " +
                           std::to_string(need));
  }
  const bool forward = fn % 2 == 1;
  static constexpr const char* kForward[] = {"forward_active", "forward_reactive",
                                             "quadrant1_reactive", "quadrant4_reactive"};
  static constexpr const char* kReverse[] = {"reverse_active", "reverse_reactive",
                                             "quadrant2_reactive", "quadrant3_reactive"};
  ASSIGN_OR_RETURN(g::Indication active, g::DecodeIndication(data.first(6 + 5 * values), true));
  json j;
  j["reading_time"] = MinuteText(active.reading_time);
  j["rates"] = active.rates;
  auto set = [&](const g::Indication& v, bool is_active) {
    json s = IndicationJson(v, is_active);
    s.erase("reading_time");
    s.erase("rates");
    return s;
  };
  j[forward ? kForward[0] : kReverse[0]] = set(active, true);
  for (size_t k = 0; k < 3; ++k) {
    Bytes buf(data.begin(), data.begin() + 6);
    auto chunk = data.subspan(6 + 5 * values + 4 * values * k, 4 * values);
    buf.insert(buf.end(), chunk.begin(), chunk.end());
    ASSIGN_OR_RETURN(g::Indication reactive, g::DecodeIndication(buf, false));
    j[forward ? kForward[k + 1] : kReverse[k + 1]] = set(reactive, false);
  }
  return j;
}

json CurveJson(uint16_t fn, const g::Curve& c) {
  json j;
  j["start"] = MinuteText(c.start);
  j["density_code"] = c.density_code;
  j["interval_minutes"] = c.interval_minutes;
  json values = json::array();
  if (!c.energy.empty()) {
    const int decimals = fn >= 97 && fn <= 100 ? 4 : 2;
    j["unit"] = fn == 97 || fn == 99 || fn == 101 || fn == 103 ? "kWh" : "kvarh";
    for (const auto& e : c.energy) values.push_back(EnergyJson(e, decimals));
  } else {
    for (const auto& v : c.fixed) values.push_back(FixedJson(v));
  }
  j["points"] = values.size();
  j["values"] = std::move(values);
  return j;
}

json EventsJson(const g::EventBlock& b) {
  json j;
  j["ec1"] = b.ec1;
  j["ec2"] = b.ec2;
  j["pm"] = b.pm;
  j["pn"] = b.pn;
  json records = json::array();
  for (const auto& r : b.records) {
    json rec;
    rec["erc"] = r.erc;
    rec["meaning"] = Printable(r.meaning);
    if (r.time) rec["time"] = MinuteText(*r.time);
    if (r.end_time) rec["end_time"] = MinuteText(*r.end_time);
    if (r.pn) rec["pn"] = *r.pn;
    rec["hex"] = Hex(r.content);
    records.push_back(std::move(rec));
  }
  j["records"] = std::move(records);
  return j;
}

int BaudOf(uint8_t comm_control) {
  static constexpr int kBauds[] = {300, 600, 1200, 2400, 4800, 7200, 9600, 19200};
  return kBauds[comm_control >> 5];
}

json ForwardJson(uint8_t port, const Bytes& payload, int depth) {
  json j;
  j["port"] = port;
  j["length"] = payload.size();
  j["payload"] = Hex(payload);
  if (!payload.empty() && depth > 0) j["frame"] = FrameToJson(payload, depth - 1);
  return j;
}

// 5-byte A.15 (mm hh DD MM YY) of a Td_c, BCD; nullopt when not BCD.
std::optional<std::string> MinuteBcd(ByteSpan b) {
  int v[5];
  for (int k = 0; k < 5; ++k) {
    if ((b[static_cast<size_t>(k)] >> 4) > 9 || (b[static_cast<size_t>(k)] & 15) > 9) {
      return std::nullopt;
    }
    v[k] = (b[static_cast<size_t>(k)] >> 4) * 10 + (b[static_cast<size_t>(k)] & 15);
  }
  return Pad(2000 + v[4], 4) + "-" + Pad(v[3], 2) + "-" + Pad(v[2], 2) + " " + Pad(v[1], 2) + ":" +
         Pad(v[0], 2);
}

// Request data of AFN0D (a time tag by its length): Td_d, Td_m or Td_c.
std::optional<json> Class2RequestJson(const Bytes& data) {
  auto bcd = [](uint8_t b) { return (b >> 4) <= 9 && (b & 15) <= 9; };
  auto num = [](uint8_t b) { return (b >> 4) * 10 + (b & 15); };
  json j;
  if (data.size() == 3) {
    auto day = g::DecodeTd(data);
    if (!day.ok()) return std::nullopt;
    j["td_d"] = day->ToString();
    return j;
  }
  if (data.size() == 2 && bcd(data[0]) && bcd(data[1]) && num(data[0]) >= 1 && num(data[0]) <= 12) {
    j["td_m"] = Pad(2000 + num(data[1]), 4) + "-" + Pad(num(data[0]), 2);
    return j;
  }
  if (data.size() == 7) {
    auto start = MinuteBcd(ByteSpan(data).first(5));
    if (!start) return std::nullopt;
    j["td_c"] = {{"start", *start}, {"density_code", data[5]}, {"points", data[6]}};
    return j;
  }
  return std::nullopt;
}

// The decoded value of one item, or an error; nullopt where the codec has no decoder.
Result<std::optional<json>> ItemData(uint8_t afn, bool up, const g::Item& it, int depth) {
  const uint16_t fn = it.fn;
  const Bytes& data = it.data;
  using R = std::optional<json>;
  switch (afn) {
    case g::kAfnClass1:
      if (!up) break;
      if (fn == 2) {
        ASSIGN_OR_RETURN(auto c, g::DecodeClock(data));
        return R(ClockJson(c));
      }
      if (fn == 25) {
        ASSIGN_OR_RETURN(auto p, g::DecodeRealTimePower(data));
        json j;
        j["reading_time"] = MinuteText(p.reading_time);
        j["p_kw"] = FixedArray(p.p);
        j["q_kvar"] = FixedArray(p.q);
        j["pf_percent"] = FixedArray(p.pf);
        j["u_v"] = FixedArray(p.u);
        j["i_a"] = FixedArray(p.i);
        j["s_kva"] = FixedArray(p.s);
        return R(std::move(j));
      }
      if (fn >= 129 && fn <= 136) {
        ASSIGN_OR_RETURN(auto v, g::DecodeIndication(data, ActiveIndication(fn)));
        return R(IndicationJson(v, ActiveIndication(fn)));
      }
      if (fn == 33 || fn == 34) {
        ASSIGN_OR_RETURN(json j, IndicationSetJson(fn, data));
        return R(std::move(j));
      }
      break;
    case g::kAfnClass2:
      if (!up) return Class2RequestJson(data);
      if (fn >= 161 && fn <= 168) {
        ASSIGN_OR_RETURN(auto v, g::DecodeDailyIndication(data, ActiveIndication(fn)));
        json j = IndicationJson(v.value, ActiveIndication(fn));
        j["td_d"] = v.day.ToString();
        return R(std::move(j));
      }
      if (fn >= 177 && fn <= 184) {
        ASSIGN_OR_RETURN(auto v, g::DecodeMonthlyIndication(data, ActiveIndication(fn)));
        json j = IndicationJson(v.value, ActiveIndication(fn));
        j["td_m"] = v.month.ToString();
        return R(std::move(j));
      }
      if (fn >= 73 && fn <= 110) {
        ASSIGN_OR_RETURN(auto c, g::DecodeCurve(fn, data));
        return R(CurveJson(fn, c));
      }
      if (fn == 1 || fn == 2 || fn == 17 || fn == 18) {  // F33/F34 content after Td_d / Td_m
        const size_t td = fn <= 2 ? 3 : 2;
        auto tag = Class2RequestJson(Bytes(data.begin(), data.begin() + std::min(td, data.size())));
        if (!tag) return InvalidArgument("F" + std::to_string(fn) + ": no valid time tag");
        ASSIGN_OR_RETURN(json j,
                         IndicationSetJson(fn <= 2 ? 32 + fn : 16 + fn,
                                           ByteSpan(data).subspan(std::min(td, data.size()))));
        j.update(*tag);
        return R(std::move(j));
      }
      break;
    case g::kAfnClass3:
      if (up) {
        ASSIGN_OR_RETURN(auto b, g::DecodeEvents(data));
        return R(EventsJson(b));
      }
      if (data.size() == 2) return R(json{{"pm", data[0]}, {"pn", data[1]}});
      break;
    case g::kAfnConfig:
      if (up && fn == 1) {
        ASSIGN_OR_RETURN(auto v, g::DecodeTerminalVersion(data));
        return R(json{{"vendor", Printable(v.vendor)},
                      {"device_id", Printable(v.device_id)},
                      {"software_version", Printable(v.software_version)},
                      {"software_date", Printable(v.software_date)},
                      {"capacity", Printable(v.capacity)},
                      {"protocol_version", Printable(v.protocol_version)},
                      {"hardware_version", Printable(v.hardware_version)},
                      {"hardware_date", Printable(v.hardware_date)}});
      }
      break;
    case g::kAfnSetParams:
    case g::kAfnQueryParams: {
      const bool carries = afn == g::kAfnSetParams ? !up : up;
      if (!carries) {
        if (afn == g::kAfnQueryParams && fn == 10 && data.size() >= 2) {
          size_t n = data[0] | size_t{data[1]} << 8;
          if (data.size() != 2 + 2 * n) break;
          json idx = json::array();
          for (size_t k = 0; k < n; ++k) idx.push_back(data[2 + 2 * k] | data[3 + 2 * k] << 8);
          return R(json{{"indexes", std::move(idx)}});
        }
        break;
      }
      if (fn == 1) {
        ASSIGN_OR_RETURN(auto p, g::DecodeUplinkParams(data));
        return R(json{{"rts_20ms", p.rts_20ms},
                      {"master_delay_minutes", p.master_delay_minutes},
                      {"timeout_seconds", p.timeout_seconds},
                      {"retries", p.retries},
                      {"confirm_class1", p.confirm_class1},
                      {"confirm_class2", p.confirm_class2},
                      {"confirm_events", p.confirm_events},
                      {"heartbeat_minutes", p.heartbeat_minutes}});
      }
      if (fn == 10) {
        ASSIGN_OR_RETURN(auto meters, g::DecodeMeterArchive(data));
        json arr = json::array();
        for (const auto& m : meters) {
          arr.push_back({{"index", m.index},
                         {"pn", m.pn},
                         {"baud_code", m.baud_code},
                         {"port", m.port},
                         {"protocol", m.protocol},
                         {"meter_address", Printable(m.meter_address)},
                         {"password", Printable(m.password)},
                         {"rates", m.rates},
                         {"integer_digits", m.integer_digits},
                         {"decimal_digits", m.decimal_digits},
                         {"collector_address", Printable(m.collector_address)},
                         {"user_class", m.user_class},
                         {"sub_class", m.sub_class}});
        }
        return R(json{{"meters", std::move(arr)}});
      }
      break;
    }
    case g::kAfnControl:
      if (up) break;
      if ((fn == 1) && data.size() == 1) {
        return R(json{{"limit_half_hours", data[0] >> 4}, {"alarm_delay_minutes", data[0] & 15}});
      }
      if (fn == 31) {
        ASSIGN_OR_RETURN(auto c, g::DecodeClock(data));
        return R(ClockJson(c));
      }
      break;
    case g::kAfnForward:
      if (fn != 1) break;
      if (up) {
        ASSIGN_OR_RETURN(auto r, g::DecodeForwardReply(data));
        return R(ForwardJson(r.port, r.payload, depth));
      } else {
        ASSIGN_OR_RETURN(auto r, g::DecodeForwardRequest(data));
        json j = ForwardJson(r.port, r.payload, depth);
        j["comm_control"] = HexByte(r.comm_control);
        j["baud"] = BaudOf(r.comm_control);
        j["frame_timeout"] = HexByte(r.frame_timeout);
        j["frame_timeout_text"] =
            std::to_string(r.frame_timeout & 0x7F) + ((r.frame_timeout & 0x80) ? " s" : " × 10 ms");
        j["byte_timeout_10ms"] = r.byte_timeout;
        return R(std::move(j));
      }
    default:
      break;
  }
  return R();
}

json Gdw1376Json(const g::Frame& f, int depth) {
  json j;
  const bool up = f.c.up;
  json c;
  c["byte"] = HexByte(f.c.Byte());
  c["dir"] = up ? "terminal->master" : "master->terminal";
  c["prm"] = f.c.prm;
  if (up) {
    c["acd"] = f.c.fcb_acd;
  } else {
    c["fcb"] = f.c.fcb_acd;
    c["fcv"] = f.c.fcv;
  }
  c["func"] = f.c.func;
  c["func_name"] = LinkFuncName(f.c.prm, f.c.func);
  j["control"] = std::move(c);
  j["address"] = {{"terminal", g::ToString(f.a.terminal)},
                  {"area", Pad(f.a.terminal.area, 4)},
                  {"a2", f.a.terminal.address},
                  {"msa", f.a.msa},
                  {"group", f.a.group}};
  j["afn"] = HexByte(f.afn);
  j["afn_name"] = g::AfnName(f.afn);
  j["seq"] = {{"byte", HexByte(f.seq.Byte())},
              {"tpv", f.seq.tpv},
              {"fir", f.seq.fir},
              {"fin", f.seq.fin},
              {"con", f.seq.con},
              {"seq", f.seq.seq}};
  json groups = json::array();
  for (const auto& gr : f.groups) {
    json gj;
    gj["da"] = HexByte(gr.da1) + " " + HexByte(gr.da2);
    gj["dt"] = HexByte(gr.dt1) + " " + HexByte(gr.dt2);
    gj["all_points"] = gr.all_points;
    gj["pns"] = gr.pns;
    gj["fns"] = gr.fns;
    json items = json::array();
    for (const auto& it : gr.items) {
      json ij;
      ij["pn"] = it.pn == g::kAllPoints ? json("all") : json(it.pn);
      ij["fn"] = it.fn;
      ij["name"] = FnName(f.afn, it.fn);
      ij["length"] = it.data.size();
      if (!it.data.empty()) ij["hex"] = Hex(it.data);
      auto data = ItemData(f.afn, up, it, depth);
      if (!data.ok()) {
        ij["error"] = Printable(data.status().message());
      } else if (data->has_value()) {
        ij["data"] = std::move(**data);
      }
      items.push_back(std::move(ij));
    }
    gj["items"] = std::move(items);
    groups.push_back(std::move(gj));
  }
  j["groups"] = std::move(groups);
  if (f.confirm) {
    json units = json::array();
    for (const auto& u : f.confirm->units) {
      units.push_back({{"pn", u.pn},
                       {"fn", u.fn},
                       {"da", HexByte(u.da1) + " " + HexByte(u.da2)},
                       {"dt", HexByte(u.dt1) + " " + HexByte(u.dt2)},
                       {"err", u.err},
                       {"ok", u.err == 0}});
    }
    j["confirm"] = {{"afn", HexByte(f.confirm->afn)},
                    {"afn_name", g::AfnName(f.confirm->afn)},
                    {"units", std::move(units)}};
  }
  if (!f.padding.empty()) j["padding"] = Hex(f.padding);
  json aux = json::object();
  if (f.ec) aux["ec"] = {{"important", f.ec->important}, {"normal", f.ec->normal}};
  if (f.pw) aux["pw"] = Hex(*f.pw);
  if (f.tp) {
    aux["tp"] = {{"pfc", f.tp->pfc},
                 {"send_time", Pad(f.tp->day, 2) + " " + Pad(f.tp->hour, 2) + ":" +
                                   Pad(f.tp->minute, 2) + ":" + Pad(f.tp->second, 2)},
                 {"delay_minutes", f.tp->delay_minutes}};
  }
  j["aux"] = std::move(aux);
  json warnings = json::array();
  for (const auto& w : f.warnings) warnings.push_back(Printable(w));
  j["warnings"] = std::move(warnings);
  return j;
}

// ---- DL/T 645 ----

const char* Dlt645FuncName(uint8_t func) {
  switch (func) {
    case 0x01:
      return "read data (1997)";
    case 0x03:
      return "security authentication";
    case 0x04:
      return "write data (1997)";
    case 0x08:
      return "broadcast time";
    case 0x11:
      return "read data";
    case 0x12:
      return "read follow-up data";
    case 0x13:
      return "read address";
    case 0x14:
      return "write data";
    case 0x15:
      return "write address";
    case 0x16:
      return "freeze";
    case 0x17:
      return "change baud rate";
    case 0x18:
      return "change password";
    case 0x19:
      return "clear max demand";
    case 0x1A:
      return "clear meter";
    case 0x1B:
      return "clear events";
    case 0x1C:
      return "control (trip, close, alarm, keep power)";
    case 0x1D:
      return "multifunction terminal output";
    default:
      return "";
  }
}

const char* ActionName(uint8_t n1) {
  switch (n1) {
    case 0x1A:
      return "trip";
    case 0x1B:
      return "permit close";
    case 0x1C:
      return "direct close";
    case 0x2A:
      return "alarm";
    case 0x2B:
      return "alarm off";
    case 0x3A:
      return "keep power";
    case 0x3B:
      return "keep power off";
    default:
      return "";
  }
}

std::string Di8(uint32_t di) {
  char buf[9];
  std::snprintf(buf, sizeof buf, di > 0xFFFF ? "%08X" : "%04X", di);
  return buf;
}

void AddDiValue(json& j, uint32_t di, const Bytes& value) {
  j["di"] = Di8(di);
  auto info = d::LookupDi(di);
  if (!info.ok()) {
    j["di_name"] = "";
    if (!value.empty()) j["value_hex"] = Hex(value);
    return;
  }
  j["di_name"] = info->name;
  if (*info->unit) j["unit"] = info->unit;
  if (value.empty()) return;
  j["value_hex"] = Hex(value);
  auto text = d::DecodeValueText(di, value);
  if (!text.ok()) {
    j["value_error"] = Printable(text.status().message());
    return;
  }
  json values = json::array();
  for (const auto& t : *text) values.push_back(t ? json(*t) : json(nullptr));
  j["values"] = std::move(values);
  if (info->format == d::DiFormat::kDateWeek && value.size() == 4) {
    j["weekday"] = value[0];
  }
}

json Dlt645Json(const d::Frame& f) {
  json j;
  j["leading_fe"] = f.leading_fe;
  j["address"] = f.address;
  if (f.address == "999999999999") j["address_kind"] = "broadcast";
  if (f.address.find("AA") != std::string::npos) j["address_kind"] = "wildcard";
  j["control"] = {
      {"byte", HexByte(f.ControlByte())}, {"dir", f.up ? "meter->master" : "master->meter"},
      {"abnormal", f.abnormal},           {"follow", f.follow},
      {"func", HexByte(f.func)},          {"func_name", Dlt645FuncName(f.func)}};
  j["l"] = f.data.size();
  j["data"] = Hex(f.data);
  if (f.up && f.abnormal) {
    if (!f.data.empty()) {
      j["err"] = HexByte(f.data[0]);
      j["err_text"] = d::ErrorText(f.data[0]);
    }
    return j;
  }
  switch (f.func) {
    case d::kRead:
    case d::kReadFollow:
      if (!f.up) {
        if (f.data.size() >= 4) {
          uint32_t di = f.data[0] | uint32_t{f.data[1]} << 8 | uint32_t{f.data[2]} << 16 |
                        uint32_t{f.data[3]} << 24;
          AddDiValue(j, di, {});
          if (f.data.size() > 4) j["request_extra"] = Hex(ByteSpan(f.data).subspan(4));
        }
        break;
      }
      [[fallthrough]];
    case d::kRead1997:
    case d::kReadAddress:
      if (!f.up) {
        if (f.func == d::kRead1997 && f.data.size() >= 2) {
          AddDiValue(j, f.data[0] | uint32_t{f.data[1]} << 8, {});
        }
        break;
      } else {
        auto r = d::DecodeReadReply(f);
        if (!r.ok()) {
          j["value_error"] = Printable(r.status().message());
          break;
        }
        AddDiValue(j, r->di, r->value);
      }
      break;
    case d::kBroadcastTime:
      if (f.data.size() == 6) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "20%02X-%02X-%02X %02X:%02X:%02X", f.data[5], f.data[4],
                      f.data[3], f.data[2], f.data[1], f.data[0]);
        j["time"] = buf;
      }
      break;
    case d::kControl:
      if (!f.up) {
        auto p = d::DecodeControl(f);
        if (!p.ok()) {
          j["control_error"] = Printable(p.status().message());
          break;
        }
        char password[8], op[10], until[24];
        std::snprintf(password, sizeof password, "%06X", p->password);
        std::snprintf(op, sizeof op, "%08X", p->operator_code);
        std::snprintf(until, sizeof until, "%04d-%02d-%02d %02d:%02d:%02d", p->valid_year,
                      p->valid_month, p->valid_day, p->valid_hour, p->valid_minute,
                      p->valid_second);
        j["command"] = {{"password_level", HexByte(p->password_level)},
                        {"password", password},
                        {"operator", op},
                        {"action", HexByte(static_cast<uint8_t>(p->action))},
                        {"action_name", ActionName(static_cast<uint8_t>(p->action))},
                        {"valid_until", until}};
      } else {
        j["result"] = "ok";
      }
      break;
    default:
      break;
  }
  return j;
}

json ErrorJson(const char* protocol, ByteSpan frame, std::string message) {
  json j;
  j["protocol"] = protocol;
  j["length"] = frame.size();
  j["hex"] = Hex(frame);
  j["error"] = Printable(message);
  return j;
}

}  // namespace

FrameKind DetectFrame(ByteSpan f) {
  const size_t n = f.size();
  size_t i = 0;
  while (i < n && f[i] == 0xFE) ++i;
  const bool g_shape =
      i == 0 && n >= 6 && f[0] == 0x68 && f[5] == 0x68 && f[1] == f[3] && f[2] == f[4];
  const bool d_shape = n >= i + 8 && f[i] == 0x68 && f[i + 7] == 0x68;
  if (g_shape && d_shape) {
    const size_t g_len = ((f[1] | size_t{f[2]} << 8) >> 2) + 8;
    if (n == g_len) return FrameKind::kGdw1376;
    if (n >= i + 10 && n == i + 12 + f[i + 9]) return FrameKind::kDlt645;
    return FrameKind::kGdw1376;
  }
  if (g_shape) return FrameKind::kGdw1376;
  if (d_shape) return FrameKind::kDlt645;
  if (i > 0 && i < n && f[i] == 0x68) return FrameKind::kDlt645;  // a short 645 frame
  if (i == 0 && n >= 1 && f[0] == 0x68 && (n < 6 || f[5] == 0x68)) return FrameKind::kGdw1376;
  return FrameKind::kUnknown;
}

json FrameToJson(ByteSpan frame, int depth) {
  try {
    switch (DetectFrame(frame)) {
      case FrameKind::kGdw1376: {
        auto f = g::Decode(frame);
        if (!f.ok()) return ErrorJson("Q/GDW 1376.1", frame, f.status().message());
        json j;
        j["protocol"] = "Q/GDW 1376.1";
        j["length"] = frame.size();
        j["hex"] = Hex(frame);
        j.update(Gdw1376Json(*f, depth));
        return j;
      }
      case FrameKind::kDlt645: {
        auto f = d::Decode(frame);
        if (!f.ok()) return ErrorJson("DL/T 645-2007", frame, f.status().message());
        json j;
        j["protocol"] = "DL/T 645-2007";
        j["length"] = frame.size();
        j["hex"] = Hex(frame);
        j.update(Dlt645Json(*f));
        return j;
      }
      case FrameKind::kUnknown:
        break;
    }
    return ErrorJson("unknown", frame,
                     frame.empty() ? "empty frame"
                                   : "not a Q/GDW 1376.1 frame (68 L L 68) nor a DL/T 645 frame "
                                     "([FE..] 68 A0..A5 68)");
  } catch (const std::exception& e) {
    json j;
    j["protocol"] = "unknown";
    j["length"] = frame.size();
    j["error"] = std::string("internal error rendering the frame: ") + Printable(e.what());
    return j;
  }
}

std::string Hex(ByteSpan bytes) {
  std::string s;
  if (bytes.empty()) return s;
  s.resize(bytes.size() * 3 - 1);
  for (size_t k = 0; k < bytes.size(); ++k) {
    s[3 * k] = kHexDigits[bytes[k] >> 4];
    s[3 * k + 1] = kHexDigits[bytes[k] & 15];
    if (k + 1 < bytes.size()) s[3 * k + 2] = ' ';
  }
  return s;
}

Result<Bytes> ParseHex(std::string_view text) {
  Bytes out;
  out.reserve(text.size() / 2);
  int pending = -1;       // the high nibble of a byte being read
  size_t pending_at = 0;  // its character position (1-based)
  for (size_t k = 0; k < text.size(); ++k) {
    const char c = text[k];
    int v = -1;
    if (c >= '0' && c <= '9') v = c - '0';
    if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    if (v >= 0) {
      if (pending < 0) {
        pending = v;
        pending_at = k + 1;
      } else {
        out.push_back(static_cast<uint8_t>(pending << 4 | v));
        pending = -1;
      }
      continue;
    }
    if (c == ' ' || c == '\t' || c == ':' || c == '\n' || c == '\r') {
      if (pending >= 0) {
        return InvalidArgument("hex: character " + std::to_string(pending_at) +
                               ": a byte needs two hex digits");
      }
      continue;
    }
    std::string shown =
        (static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7F)
            ? std::string(1, c)
            : "\\x" + HexByte(static_cast<uint8_t>(c));
    return InvalidArgument("hex: character " + std::to_string(k + 1) + " '" + shown +
                           "' is not a hex digit");
  }
  if (pending >= 0) {
    return InvalidArgument("hex: character " + std::to_string(pending_at) +
                           ": a byte needs two hex digits");
  }
  return out;
}

}  // namespace gridmis::acquisition::protocol
