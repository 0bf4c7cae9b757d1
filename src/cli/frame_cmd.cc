// `gridmis frame decode` and `gridmis frame encode` (see frame_cmd.h).
//
//   gridmis frame decode HEX...            one frame (the arguments joined), JSON on stdout
//   gridmis frame decode -                 one frame per line of stdin ('#' lines skipped)
//   gridmis frame encode login|heartbeat|logout --terminal 3201-04660
//   gridmis frame encode read    --terminal T --fn 129 --pn 1,2 [--afn 0C]
//   gridmis frame encode daily   --terminal T [--fn 161] --pn 1..8 --day 2024-03-14
//   gridmis frame encode monthly --terminal T [--fn 177] --pn 1 --month 2024-02
//   gridmis frame encode curve   --terminal T [--fn 101] --pn 1 --start '2024-03-14 00:00'
//                                [--density 1] [--points 96]
//   gridmis frame encode trip|close --terminal T [--round 1]
//   gridmis frame encode timesync --terminal T --time '2024-03-15 10:30:00'
//   gridmis frame encode urge-alarm on|off --terminal T
//   gridmis frame encode power-control enable|release --terminal T [--kind purchase] [--group 1]
//   gridmis frame encode forward645 --terminal T [--port 2] --meter 000000000001
//                                   [--di 00010000 | --control trip]
//   gridmis frame encode events --terminal T [--fn 1] --pm 0 --pn 10
// Common: --msa 1, --seq N, --tp-time 'YYYY-MM-DD hh:mm:ss' [--tp-delay MIN] [--pfc N].
// Exit codes: 0 ok; 1 a frame that does not decode; 2 bad arguments.
#include "cli/frame_cmd.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "acquisition/protocol/dlt645.h"
#include "acquisition/protocol/frame_json.h"
#include "acquisition/protocol/gdw1376.h"
#include "core/status.h"
#include "core/time.h"

namespace gridmis::cli {
namespace {

namespace g = acquisition::gdw1376;
namespace d = acquisition::dlt645;
using acquisition::protocol::Bytes;

struct DecodeFlags {
  std::vector<std::string> hex;
  bool compact = false;
};

struct EncodeFlags {
  std::string terminal;
  int msa = 1;
  int seq = 0;
  std::string tp_time;
  int tp_delay = 0;
  int pfc = -1;
  std::string pw;  // 32 hex digits
  // Data units.
  std::string afn = "0C";
  int fn = 0;
  std::string pn = "0";
  std::string day, month, start, time;
  int density = 1;
  int points = 96;
  std::string round = "1";
  int limit_half_hours = 0, alarm_delay = 0;
  std::string on_off;
  std::string kind = "purchase";
  std::string group = "1";
  int port = 2;
  std::string meter;
  std::string di = "00010000";
  std::string control;
  int pm = 0, pointer_n = 0;
};

int Fail(const Status& s) {
  std::fprintf(stderr, "gridmis frame: %s\n", s.message().c_str());
  return 2;
}

// ---- Argument parsing ----

Result<g::TerminalKey> ParseTerminal(const std::string& text) {
  auto bad = [&] {
    return InvalidArgument("--terminal '" + text +
                           "': expected A1-A2 like 3201-04660 (4 digits, then 1..65535)");
  };
  auto dash = text.find('-');
  if (dash != 4 || text.size() < 6 || text.size() > 10) return bad();
  g::TerminalKey k;
  int area = 0;
  for (size_t i = 0; i < 4; ++i) {
    if (text[i] < '0' || text[i] > '9') return bad();
    area = area * 10 + (text[i] - '0');
  }
  long address = 0;
  for (size_t i = 5; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return bad();
    address = address * 10 + (text[i] - '0');
  }
  if (address < 1 || address > 65535) return bad();
  k.area = static_cast<uint16_t>(area);
  k.address = static_cast<uint16_t>(address);
  return k;
}

// "1,2,5..8", "0" (p0) or "all" (every valid point).
Result<std::vector<uint16_t>> ParseList(const std::string& text, const char* what, int max) {
  if (text == "all") return std::vector<uint16_t>{g::kAllPoints};
  std::vector<uint16_t> out;
  size_t pos = 0;
  auto bad = [&](const std::string& part) {
    return InvalidArgument(std::string(what) + " '" + text + "': '" + part +
                           "' is not a number or a range a..b within 0.." + std::to_string(max));
  };
  auto number = [&](const std::string& s) -> std::optional<int> {
    if (s.empty() || s.size() > 5) return std::nullopt;
    int v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + (c - '0');
    }
    return v <= max ? std::optional<int>(v) : std::nullopt;
  };
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    std::string part =
        text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    auto dots = part.find("..");
    if (dots == std::string::npos) {
      auto v = number(part);
      if (!v) return bad(part);
      out.push_back(static_cast<uint16_t>(*v));
    } else {
      auto a = number(part.substr(0, dots)), b = number(part.substr(dots + 2));
      if (!a || !b || *a > *b) return bad(part);
      for (int v = *a; v <= *b; ++v) out.push_back(static_cast<uint16_t>(v));
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

struct Civil {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
};
// "YYYY-MM-DD hh:mm" (seconds = false) or "YYYY-MM-DD hh:mm:ss".
Result<Civil> ParseCivil(const std::string& text, bool seconds, const char* what) {
  const size_t len = seconds ? 19 : 16;
  auto bad = [&] {
    return InvalidArgument(std::string(what) + " '" + text + "': expected " +
                           (seconds ? "YYYY-MM-DD hh:mm:ss" : "YYYY-MM-DD hh:mm"));
  };
  if (text.size() != len) return bad();
  auto date = Date::Parse(text.substr(0, 10), what);
  if (!date.ok()) return date.status();
  auto digits = [&](size_t at) -> int {
    if (text[at] < '0' || text[at] > '9' || text[at + 1] < '0' || text[at + 1] > '9') return -1;
    return (text[at] - '0') * 10 + (text[at + 1] - '0');
  };
  Civil c{date->year, date->month, date->day, digits(11), digits(14), seconds ? digits(17) : 0};
  if (text[10] != ' ' || text[13] != ':' || (seconds && text[16] != ':') || c.hour < 0 ||
      c.hour > 23 || c.minute < 0 || c.minute > 59 || c.second < 0 || c.second > 59 ||
      c.year < 2000 || c.year > 2099) {
    return bad();
  }
  return c;
}

Result<uint32_t> ParseHexNumber(const std::string& text, const char* what, size_t digits) {
  if (text.empty() || text.size() > digits) {
    return InvalidArgument(std::string(what) + " '" + text + "': expected up to " +
                           std::to_string(digits) + " hex digits");
  }
  uint32_t v = 0;
  for (char c : text) {
    int x = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                   : -1;
    if (x < 0) {
      return InvalidArgument(std::string(what) + " '" + text + "': '" + c + "' is not a hex digit");
    }
    v = v << 4 | static_cast<uint32_t>(x);
  }
  return v;
}

// ---- Building frames ----

Result<g::Frame> Request(const EncodeFlags& f, uint8_t afn, std::vector<g::Group> groups) {
  ASSIGN_OR_RETURN(g::TerminalKey key, ParseTerminal(f.terminal));
  if (f.msa < 0 || f.msa > 127) return InvalidArgument("--msa must be 0..127");
  if (f.seq < 0 || f.seq > 15) return InvalidArgument("--seq must be 0..15");
  g::Address a;
  a.terminal = key;
  a.msa = static_cast<uint8_t>(f.msa);
  std::optional<g::TimeTag> tp;
  if (!f.tp_time.empty()) {
    ASSIGN_OR_RETURN(Civil c, ParseCivil(f.tp_time, true, "--tp-time"));
    if (f.tp_delay < 0 || f.tp_delay > 255) return InvalidArgument("--tp-delay must be 0..255");
    g::TimeTag t;
    t.pfc = static_cast<uint8_t>(f.pfc >= 0 ? f.pfc : f.seq);
    t.second = static_cast<uint8_t>(c.second);
    t.minute = static_cast<uint8_t>(c.minute);
    t.hour = static_cast<uint8_t>(c.hour);
    t.day = static_cast<uint8_t>(c.day);
    t.delay_minutes = static_cast<uint8_t>(f.tp_delay);
    tp = t;
  }
  std::optional<std::array<uint8_t, 16>> pw;
  if (!f.pw.empty()) {
    auto bytes = acquisition::protocol::ParseHex(f.pw);
    if (!bytes.ok()) return bytes.status().WithContext("--pw");
    if (bytes->size() != 16) return InvalidArgument("--pw: expected 16 bytes (32 hex digits)");
    std::array<uint8_t, 16> p{};
    std::copy(bytes->begin(), bytes->end(), p.begin());
    pw = p;
  }
  return g::MakeRequest(a, afn, static_cast<uint8_t>(f.seq), std::move(groups), tp, pw);
}

Result<std::vector<g::Group>> Groups(const std::string& pn_text, int fn, const Bytes& data,
                                     const char* what = "--pn") {
  if (fn < 1 || fn > g::kMaxFn) return InvalidArgument("--fn must be 1..248");
  ASSIGN_OR_RETURN(auto pns, ParseList(pn_text, what, g::kMaxPn));
  return g::GroupsFor(pns, static_cast<uint16_t>(fn), data);
}

Result<g::Frame> Build(const std::string& cmd, const EncodeFlags& f) {
  if (cmd == "login" || cmd == "heartbeat" || cmd == "logout") {
    ASSIGN_OR_RETURN(g::TerminalKey key, ParseTerminal(f.terminal));
    if (f.seq < 0 || f.seq > 15) return InvalidArgument("--seq must be 0..15");
    uint16_t fn = cmd == "login" ? 1 : cmd == "logout" ? 2 : 3;
    return g::MakeLink(key, fn, static_cast<uint8_t>(f.seq));
  }
  if (cmd == "read") {
    ASSIGN_OR_RETURN(uint32_t afn, ParseHexNumber(f.afn, "--afn", 2));
    ASSIGN_OR_RETURN(auto groups, Groups(f.pn, f.fn, {}));
    return Request(f, static_cast<uint8_t>(afn), std::move(groups));
  }
  if (cmd == "daily") {
    auto day = Date::Parse(f.day, "--day");
    if (!day.ok()) return day.status();
    ASSIGN_OR_RETURN(auto groups, Groups(f.pn, f.fn, g::EncodeTd(*day)));
    return Request(f, g::kAfnClass2, std::move(groups));
  }
  if (cmd == "monthly") {
    auto month = YearMonth::Parse(f.month, "--month");
    if (!month.ok()) return month.status();
    ASSIGN_OR_RETURN(auto groups, Groups(f.pn, f.fn, g::EncodeTdMonth(*month)));
    return Request(f, g::kAfnClass2, std::move(groups));
  }
  if (cmd == "curve") {
    ASSIGN_OR_RETURN(Civil c, ParseCivil(f.start, false, "--start"));
    if (f.density < 0 || f.density > 255) return InvalidArgument("--density must be 0..255");
    if (f.points < 1 || f.points > 255) return InvalidArgument("--points must be 1..255");
    g::MinuteTime start{c.year, c.month, c.day, c.hour, c.minute};
    ASSIGN_OR_RETURN(auto groups, Groups(f.pn, f.fn, g::EncodeTdCurve(start, f.density, f.points)));
    return Request(f, g::kAfnClass2, std::move(groups));
  }
  if (cmd == "trip" || cmd == "close") {
    Bytes data;
    if (cmd == "trip") {
      if (f.limit_half_hours < 0 || f.limit_half_hours > 15 || f.alarm_delay < 0 ||
          f.alarm_delay > 15) {
        return InvalidArgument("--limit-half-hours and --alarm-delay must be 0..15");
      }
      data = {static_cast<uint8_t>(f.limit_half_hours << 4 | f.alarm_delay)};
    }
    ASSIGN_OR_RETURN(auto groups, Groups(f.round, cmd == "trip" ? 1 : 2, data, "--round"));
    return Request(f, g::kAfnControl, std::move(groups));
  }
  if (cmd == "timesync") {
    ASSIGN_OR_RETURN(Civil c, ParseCivil(f.time, true, "--time"));
    g::ClockTime t;
    t.year = c.year, t.month = c.month, t.day = c.day, t.hour = c.hour, t.minute = c.minute,
    t.second = c.second;
    int weekday = Date{c.year, c.month, c.day}.Weekday();  // 0 = Sunday
    t.weekday = weekday == 0 ? 7 : weekday;
    ASSIGN_OR_RETURN(auto groups, Groups("0", 31, g::EncodeClock(t)));
    return Request(f, g::kAfnControl, std::move(groups));
  }
  if (cmd == "urge-alarm") {
    if (f.on_off != "on" && f.on_off != "off") return InvalidArgument("urge-alarm takes on or off");
    ASSIGN_OR_RETURN(auto groups, Groups("0", f.on_off == "on" ? 26 : 34, {}));
    return Request(f, g::kAfnControl, std::move(groups));
  }
  if (cmd == "power-control") {
    if (f.on_off != "enable" && f.on_off != "release") {
      return InvalidArgument("power-control takes enable or release");
    }
    const bool on = f.on_off == "enable";
    // Enable Fn; release = enable + 8.
    int fn = 0;
    Bytes data;
    if (f.kind == "period") {
      fn = 9;
      if (on) data = {0xFF, 0x00};  // every period of scheme 1 (方案号 0)
    } else if (f.kind == "rest") {
      fn = 10;
    } else if (f.kind == "stop") {
      fn = 11;
    } else if (f.kind == "monthly") {
      fn = 15;
    } else if (f.kind == "purchase") {
      fn = 16;
    } else {
      return InvalidArgument("--kind '" + f.kind +
                             "': expected period, rest, stop, monthly or purchase");
    }
    ASSIGN_OR_RETURN(auto groups, Groups(f.group, on ? fn : fn + 8, data, "--group"));
    return Request(f, g::kAfnControl, std::move(groups));
  }
  if (cmd == "forward645") {
    d::Frame inner;
    if (f.control.empty()) {
      ASSIGN_OR_RETURN(uint32_t di, ParseHexNumber(f.di, "--di", 8));
      inner = d::MakeRead(f.meter, di);
    } else {
      d::ControlParams p;
      if (f.control == "trip") {
        p.action = d::ControlAction::kTrip;
      } else if (f.control == "permit-close") {
        p.action = d::ControlAction::kPermitClose;
      } else {
        return InvalidArgument("--control '" + f.control + "': expected trip or permit-close");
      }
      inner = d::MakeControl(f.meter, p);
    }
    inner.leading_fe = 4;
    auto payload = d::EncodeChecked(inner);
    if (!payload.ok()) return payload.status().WithContext("--meter");
    if (f.port < 1 || f.port > 31) return InvalidArgument("--port must be 1..31");
    g::ForwardRequest fr;
    fr.port = static_cast<uint8_t>(f.port);
    fr.payload = *payload;
    ASSIGN_OR_RETURN(auto groups, Groups("0", 1, g::EncodeForwardRequest(fr)));
    return Request(f, g::kAfnForward, std::move(groups));
  }
  if (cmd == "events") {
    if (f.fn != 1 && f.fn != 2) return InvalidArgument("--fn must be 1 (important) or 2 (normal)");
    if (f.pm < 0 || f.pm > 255 || f.pointer_n < 0 || f.pointer_n > 255) {
      return InvalidArgument("--pm and --pn must be 0..255");
    }
    Bytes data = {static_cast<uint8_t>(f.pm), static_cast<uint8_t>(f.pointer_n)};
    ASSIGN_OR_RETURN(auto groups, Groups("0", f.fn, data));
    return Request(f, g::kAfnClass3, std::move(groups));
  }
  return InvalidArgument("unknown frame '" + cmd + "'");
}

// ---- Commands ----

int RunDecode(const DecodeFlags& flags) {
  auto print = [&](const nlohmann::json& j) {
    std::string s = flags.compact ? j.dump() : j.dump(2);
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fputc('\n', stdout);
  };
  auto one = [&](const std::string& text, const std::string& where) {
    auto bytes = acquisition::protocol::ParseHex(text);
    if (!bytes.ok()) {
      std::fprintf(stderr, "gridmis frame: %s%s\n", where.c_str(),
                   bytes.status().message().c_str());
      print(nlohmann::json{{"error", bytes.status().message()}});
      return false;
    }
    nlohmann::json j = acquisition::protocol::FrameToJson(*bytes);
    print(j);
    if (j.contains("error")) {
      std::fprintf(stderr, "gridmis frame: %s%s\n", where.c_str(),
                   j["error"].get<std::string>().c_str());
      return false;
    }
    return true;
  };
  if (flags.hex.size() == 1 && flags.hex[0] == "-") {
    bool ok = true;
    std::string line;
    int n = 0;
    while (std::getline(std::cin, line)) {
      ++n;
      size_t first = line.find_first_not_of(" \t\r");
      if (first == std::string::npos || line[first] == '#') continue;
      ok = one(line, "line " + std::to_string(n) + ": ") && ok;
    }
    return ok ? 0 : 1;
  }
  std::string joined;
  for (const auto& h : flags.hex) joined += h + " ";
  return one(joined, "") ? 0 : 1;
}

}  // namespace

std::function<std::optional<int>()> AddFrameCommand(CLI::App& cli) {
  auto decode_flags = std::make_shared<DecodeFlags>();
  auto encode_flags = std::make_shared<EncodeFlags>();
  auto* frame = cli.add_subcommand("frame", "Decode and build Q/GDW 1376.1 and DL/T 645 frames");
  frame->require_subcommand(1);

  auto* decode = frame->add_subcommand(
      "decode", "Print a frame as JSON (hex bytes; '-' reads one frame per line from stdin)");
  decode->add_option("HEX", decode_flags->hex, "the frame's bytes in hex, or -")->required();
  decode->add_flag("--compact", decode_flags->compact, "one line of JSON per frame");

  auto* encode = frame->add_subcommand("encode", "Build a master-station frame; prints its hex");
  encode->require_subcommand(1);
  EncodeFlags& ef = *encode_flags;
  std::vector<std::pair<std::string, CLI::App*>> commands;
  auto add = [&](const std::string& name, const std::string& help) {
    CLI::App* c = encode->add_subcommand(name, help);
    c->add_option("--terminal", ef.terminal, "terminal address A1-A2, e.g. 3201-04660")->required();
    c->add_option("--seq", ef.seq, "PSEQ 0..15 (default 0)");
    if (name != "login" && name != "heartbeat" && name != "logout") {
      c->add_option("--msa", ef.msa, "master station address 0..127 (default 1)");
      c->add_option("--tp-time", ef.tp_time,
                    "add a Tp with this send time 'YYYY-MM-DD hh:mm:ss' (day and time are sent)");
      c->add_option("--tp-delay", ef.tp_delay, "Tp allowed delay in minutes (default 0)");
      c->add_option("--pfc", ef.pfc, "Tp frame counter (default: --seq)");
      c->add_option("--pw", ef.pw, "PW, 16 bytes in hex (default 16 x 00) for AFN 04/05/10");
    }
    commands.emplace_back(name, c);
    return c;
  };
  add("login", "AFN02 F1 login (as a terminal sends it)");
  add("heartbeat", "AFN02 F3 heartbeat");
  add("logout", "AFN02 F2 logout");
  auto* read = add("read", "Read class-1 data (AFN0C) or any AFN/Fn without request data");
  read->add_option("--fn", ef.fn, "Fn, e.g. 129")->required();
  read->add_option("--pn", ef.pn, "points: 0, 1,2, 1..8 or all (default 0)");
  read->add_option("--afn", ef.afn, "AFN in hex (default 0C)");
  auto* daily = add("daily", "AFN0D daily frozen data for a day (Td_d)");
  daily->add_option("--fn", ef.fn, "Fn (default 161)");
  daily->add_option("--pn", ef.pn, "points")->required();
  daily->add_option("--day", ef.day, "the day frozen, YYYY-MM-DD")->required();
  auto* monthly = add("monthly", "AFN0D monthly frozen data (Td_m)");
  monthly->add_option("--fn", ef.fn, "Fn (default 177)");
  monthly->add_option("--pn", ef.pn, "points")->required();
  monthly->add_option("--month", ef.month, "YYYY-MM")->required();
  auto* curve = add("curve", "AFN0D curve (Td_c)");
  curve->add_option("--fn", ef.fn, "Fn (default 101)");
  curve->add_option("--pn", ef.pn, "points")->required();
  curve->add_option("--start", ef.start, "first point 'YYYY-MM-DD hh:mm'")->required();
  curve->add_option("--density", ef.density, "1 = 15 min, 2 = 30, 3 = 60, 254 = 5, 255 = 1");
  curve->add_option("--points", ef.points, "number of points (default 96)");
  auto* trip = add("trip", "AFN05 F1 remote trip of control rounds");
  trip->add_option("--round", ef.round, "control rounds, e.g. 1 or 1,2 (default 1)");
  trip->add_option("--limit-half-hours", ef.limit_half_hours, "0..15, 0 = until released");
  trip->add_option("--alarm-delay", ef.alarm_delay, "minutes 0..15, 0 = at once");
  auto* close = add("close", "AFN05 F2 permit close of control rounds");
  close->add_option("--round", ef.round, "control rounds (default 1)");
  auto* timesync = add("timesync", "AFN05 F31 time sync");
  timesync->add_option("--time", ef.time, "'YYYY-MM-DD hh:mm:ss'")->required();
  auto* urge = add("urge-alarm", "AFN05 F26 urge-fee alarm on / F34 off");
  urge->add_option("STATE", ef.on_off, "on or off")->required();
  auto* power = add("power-control", "AFN05 power/energy control enable (F9..F16) or release");
  power->add_option("STATE", ef.on_off, "enable or release")->required();
  power->add_option("--kind", ef.kind, "period, rest, stop, monthly or purchase (default)");
  power->add_option("--group", ef.group, "total-add group(s) (default 1)");
  auto* fwd = add("forward645", "AFN10 F1 transparent forward of a DL/T 645 frame");
  fwd->add_option("--port", ef.port, "terminal port 1..31 (default 2, RS-485 I)");
  fwd->add_option("--meter", ef.meter, "meter address, 12 digits")->required();
  fwd->add_option("--di", ef.di, "DI to read, hex (default 00010000)");
  fwd->add_option("--control", ef.control, "instead of a read: trip or permit-close");
  auto* events = add("events", "AFN0E events from pointer Pm to Pn");
  events->add_option("--fn", ef.fn, "1 important (default), 2 normal");
  events->add_option("--pm", ef.pm, "start pointer")->required();
  events->add_option("--pn", ef.pointer_n, "end pointer")->required();

  return [frame, decode, decode_flags, encode_flags, commands]() -> std::optional<int> {
    if (!frame->parsed()) return std::nullopt;
    if (decode->parsed()) return RunDecode(*decode_flags);
    for (const auto& [name, app] : commands) {
      if (!app->parsed()) continue;
      EncodeFlags f = *encode_flags;
      if (f.fn == 0) {
        f.fn = name == "daily" ? 161 : name == "monthly" ? 177 : name == "curve" ? 101 : 1;
      }
      auto frame_or = Build(name, f);
      if (!frame_or.ok()) return Fail(frame_or.status());
      auto bytes = g::Encode(*frame_or);
      if (!bytes.ok()) return Fail(bytes.status());
      std::printf("%s\n", acquisition::protocol::Hex(*bytes).c_str());
      return 0;
    }
    return 2;
  };
}

}  // namespace gridmis::cli
