#include "acquisition/commands.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "accounts/prepaid.h"
#include "acquisition/migrations.h"
#include "acquisition/protocol/dlt645.h"
#include "acquisition/protocol/frame_json.h"
#include "acquisition/protocol/gdw1376.h"
#include "acquisition/terminals.h"
#include "grid/records.h"
#include "org/audit.h"

namespace gridmis::acquisition {

// Migration v3 (acquisition/migrations.cc): the command queue. The same SQL on both engines.
std::string_view CommandSchemaSql(bool postgres) {
  if (postgres) return "";
  return R"sql(
CREATE TABLE terminal_commands (        -- 远程控制命令
  {{PK}},
  terminal_id BIGINT NOT NULL REFERENCES terminals(id),
  metering_point_id BIGINT REFERENCES metering_points(id),
  point_no BIGINT,                      -- control round or total-add group (afn05), meter Pn (afn10_645)
  meter_address TEXT,                   -- afn10_645: the meter's DL/T 645 address
  port BIGINT,                          -- afn10_645: the terminal port of the meter
  baud_rate BIGINT,
  department_id BIGINT NOT NULL,        -- the terminal's at issue: the data scope
  kind TEXT NOT NULL,                   -- time_sync, trip, permit_close, power_control_enable, ...
  params_json TEXT NOT NULL DEFAULT '{}',
  via TEXT NOT NULL,                    -- afn05, afn10_645
  status TEXT NOT NULL DEFAULT 'pending',  -- pending, sent, confirmed, denied, timed_out, failed, cancelled
  attempts BIGINT NOT NULL DEFAULT 0,   -- frames sent, front-end retries included
  request_hex TEXT,
  answer_hex TEXT,
  answer_text TEXT,
  control_request_id BIGINT,            -- accounts control_requests (another module: no FK)
  control_synced BIGINT NOT NULL DEFAULT 0,  -- the outcome was passed on to the control request
  issued_by BIGINT REFERENCES users(id),
  issued_by_name TEXT NOT NULL,
  created_at_us BIGINT NOT NULL,
  expires_at_us BIGINT NOT NULL,
  sent_at_us BIGINT,
  completed_at_us BIGINT,
  updated_at_us BIGINT NOT NULL,
  version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX terminal_commands_dispatch ON terminal_commands (status, id);
CREATE INDEX terminal_commands_terminal ON terminal_commands (terminal_id, id);
CREATE INDEX terminal_commands_point ON terminal_commands (metering_point_id, id);
CREATE INDEX terminal_commands_department ON terminal_commands (department_id, id);
CREATE UNIQUE INDEX terminal_commands_control_request ON terminal_commands (control_request_id)
  WHERE control_request_id IS NOT NULL;
CREATE INDEX terminal_commands_unsynced ON terminal_commands (control_synced, id)
  WHERE control_request_id IS NOT NULL
)sql";
}

using nlohmann::json;
using org::Actor;
using store::Connection;
using store::Row;

namespace {

// ---------------------------------------------------------------------------------------------
// Vocabulary

const std::vector<std::string_view> kKinds = {"time_sync",
                                              "trip",
                                              "permit_close",
                                              "power_control_enable",
                                              "power_control_release",
                                              "urge_alarm_on",
                                              "urge_alarm_off"};
const std::vector<std::string_view> kStatuses = {"pending",   "sent",   "confirmed", "denied",
                                                 "timed_out", "failed", "cancelled"};
const std::vector<std::string_view> kVias = {"afn05", "afn10_645"};
const std::vector<std::string_view> kReadItems = {"energy", "power", "clock"};

struct PowerControl {
  std::string_view name;
  uint16_t enable_fn;
  uint16_t release_fn;
};
constexpr PowerControl kPowerControls[] = {{"period", 9, 17},          {"rest_day", 10, 18},
                                           {"business_stop", 11, 19},  {"power_down", 12, 20},
                                           {"monthly_energy", 15, 23}, {"purchase_energy", 16, 24}};

const PowerControl* FindPowerControl(std::string_view name) {
  for (const auto& p : kPowerControls) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

bool OneOf(std::string_view v, const std::vector<std::string_view>& set) {
  return std::find(set.begin(), set.end(), v) != set.end();
}

std::string Join(const std::vector<std::string_view>& v) {
  std::string out;
  for (auto s : v) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

Status CheckIn(std::string_view v, std::string_view field,
               const std::vector<std::string_view>& set) {
  if (OneOf(v, set)) return Status::Ok();
  return InvalidArgument(
      std::string(field) + " must be one of " + Join(set) + ", not \"" + std::string(v) + "\"",
      std::string(field));
}

using protocol::Hex;

std::string Hex2(int v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02X", v & 0xFF);
  return buf;
}

std::string DiText(uint32_t di) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08X", di);
  return buf;
}

// Text for the control_requests.error column (1..500 characters), cut on a UTF-8 boundary.
std::string ClipText(std::string s, size_t max_bytes = 480) {
  if (s.empty()) return "(no detail)";
  if (s.size() <= max_bytes) return s;
  size_t n = max_bytes;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  s.resize(n);
  return s + "…";
}

// ---------------------------------------------------------------------------------------------
// Parameters

Status ParamOutOfRange(std::string_view name, int lo, int hi) {
  return InvalidArgument("params." + std::string(name) + " must be between " + std::to_string(lo) +
                             " and " + std::to_string(hi),
                         "params." + std::string(name));
}

Status ParamNotUsed(std::string_view name, std::string_view why) {
  return InvalidArgument(
      "params." + std::string(name) + " is not a parameter of " + std::string(why),
      "params." + std::string(name));
}

// Checks the parameters of `kind` sent `via` and returns them normalised, defaults filled in.
Result<json> NormaliseParams(const std::string& kind, const std::string& via,
                             const CommandParams& p) {
  json out = json::object();
  std::set<std::string_view> used;
  auto take = [&](std::string_view name, const std::optional<int>& v, int lo, int hi,
                  int dflt) -> Status {
    used.insert(name);
    int x = v.value_or(dflt);
    if (x < lo || x > hi) return ParamOutOfRange(name, lo, hi);
    out[std::string(name)] = x;
    return Status::Ok();
  };
  bool afn05 = via == "afn05";
  if ((kind == "trip" || kind == "permit_close") && afn05) {
    RETURN_IF_ERROR(take("round", p.round, 1, 8, 1));
    if (kind == "trip") {
      RETURN_IF_ERROR(take("limit_half_hours", p.limit_half_hours, 0, 15, 0));
      RETURN_IF_ERROR(take("alarm_delay_minutes", p.alarm_delay_minutes, 0, 15, 0));
    }
  }
  if (kind == "power_control_enable" || kind == "power_control_release") {
    used.insert("control");
    if (!p.control) {
      return InvalidArgument(
          "params.control is required: one of period, rest_day, business_stop, power_down, "
          "monthly_energy, purchase_energy",
          "params.control");
    }
    const PowerControl* pc = FindPowerControl(*p.control);
    if (!pc) RETURN_IF_ERROR(CheckIn(*p.control, "params.control", PowerControls()));
    out["control"] = *p.control;
    RETURN_IF_ERROR(take("total_group", p.total_group, 1, 8, 1));
    if (kind == "power_control_enable" && *p.control == "period") {
      RETURN_IF_ERROR(take("period_flags", p.period_flags, 0, 255, 255));
      RETURN_IF_ERROR(take("scheme", p.scheme, 0, 2, 0));
    }
    if (kind == "power_control_enable" && *p.control == "power_down") {
      RETURN_IF_ERROR(take("slip_minutes", p.slip_minutes, 1, 255, 5));
      RETURN_IF_ERROR(take("float_percent", p.float_percent, -79, 79, 0));
      RETURN_IF_ERROR(take("freeze_delay_minutes", p.freeze_delay_minutes, 0, 255, 1));
      RETURN_IF_ERROR(take("control_half_hours", p.control_half_hours, 1, 255, 2));
      used.insert("alarm_minutes");
      std::vector<int> alarms = p.alarm_minutes.value_or(std::vector<int>{0, 0, 0, 0});
      if (alarms.size() != 4) {
        return InvalidArgument("params.alarm_minutes must list the 4 rounds' alarm times",
                               "params.alarm_minutes");
      }
      for (size_t i = 0; i < 4; ++i) {
        if (alarms[i] < 0 || alarms[i] > 255) {
          return InvalidArgument(
              "params.alarm_minutes[" + std::to_string(i) + "] must be between 0 and 255",
              "params.alarm_minutes");
        }
      }
      out["alarm_minutes"] = alarms;
    }
  }
  std::string what = kind + " sent through " + via;
  struct Field {
    std::string_view name;
    bool set;
  };
  const Field fields[] = {{"round", p.round.has_value()},
                          {"limit_half_hours", p.limit_half_hours.has_value()},
                          {"alarm_delay_minutes", p.alarm_delay_minutes.has_value()},
                          {"control", p.control.has_value()},
                          {"total_group", p.total_group.has_value()},
                          {"period_flags", p.period_flags.has_value()},
                          {"scheme", p.scheme.has_value()},
                          {"slip_minutes", p.slip_minutes.has_value()},
                          {"float_percent", p.float_percent.has_value()},
                          {"freeze_delay_minutes", p.freeze_delay_minutes.has_value()},
                          {"control_half_hours", p.control_half_hours.has_value()},
                          {"alarm_minutes", p.alarm_minutes.has_value()}};
  for (const Field& f : fields) {
    if (f.set && !used.count(f.name)) return ParamNotUsed(f.name, what);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Rows

constexpr const char* kCommandSelect =
    "SELECT c.id, c.terminal_id, t.area_code, t.address, t.kind, c.metering_point_id, mp.code, "
    "c.point_no, c.meter_address, c.port, c.baud_rate, c.department_id, c.kind, c.params_json, "
    "c.via, c.status, c.attempts, c.request_hex, c.answer_hex, c.answer_text, "
    "c.control_request_id, c.issued_by, c.issued_by_name, c.created_at_us, c.expires_at_us, "
    "c.sent_at_us, c.completed_at_us, c.updated_at_us, c.version, c.reason "
    "FROM terminal_commands c JOIN terminals t ON t.id = c.terminal_id "
    "LEFT JOIN metering_points mp ON mp.id = c.metering_point_id";

Command ReadCommand(const Row& r) {
  Command c;
  c.id = r.Int(0);
  c.terminal_id = r.Int(1);
  c.terminal_address = FormatTerminalAddress(r.Text(2), r.Int(3));
  c.terminal_kind = r.Text(4);
  c.metering_point_id = r.OptInt(5);
  c.point_code = r.OptText(6);
  c.point_no = r.OptInt(7);
  c.meter_address = r.OptText(8);
  c.port = r.OptInt(9);
  c.baud_rate = r.OptInt(10);
  c.department_id = r.Int(11);
  c.kind = r.Text(12);
  c.params_json = r.Text(13);
  c.via = r.Text(14);
  c.status = r.Text(15);
  c.attempts = r.Int(16);
  c.request_hex = r.OptText(17);
  c.answer_hex = r.OptText(18);
  c.answer_text = r.OptText(19);
  c.control_request_id = r.OptInt(20);
  c.issued_by = r.OptInt(21);
  c.issued_by_name = r.Text(22);
  c.created_at_us = r.Int(23);
  c.expires_at_us = r.Int(24);
  c.sent_at_us = r.OptInt(25);
  c.completed_at_us = r.OptInt(26);
  c.updated_at_us = r.Int(27);
  c.version = r.Int(28);
  c.reason = r.Text(29);
  return c;
}

Result<std::optional<Command>> LoadCommand(Connection& c, int64_t id) {
  std::optional<Command> out;
  RETURN_IF_ERROR(c.Query(std::string(kCommandSelect) + " WHERE c.id = $1", {id},
                          [&](const Row& r) { out = ReadCommand(r); }));
  return out;
}

// A terminal as commands need it.
struct TerminalRef {
  int64_t id = 0;
  std::string area_code;
  int64_t address = 0;
  std::string kind;
  std::string status;
  int64_t department_id = 0;
  gdw1376::TerminalKey Key() const {
    return gdw1376::TerminalKey{static_cast<uint16_t>(std::stoi(area_code)),
                                static_cast<uint16_t>(address)};
  }
  std::string Text() const { return FormatTerminalAddress(area_code, address); }
};

Result<std::optional<TerminalRef>> LoadTerminalRef(Connection& c, int64_t id) {
  std::optional<TerminalRef> t;
  RETURN_IF_ERROR(c.Query(
      "SELECT id, area_code, address, kind, status, department_id FROM terminals WHERE id = $1",
      {id}, [&](const Row& r) {
        t = TerminalRef{r.Int(0), r.Text(1), r.Int(2), r.Text(3), r.Text(4), r.Int(5)};
      }));
  return t;
}

Result<TerminalRef> LoadVisibleTerminal(Connection& c, const Actor& actor, int64_t id) {
  ASSIGN_OR_RETURN(auto t, LoadTerminalRef(c, id));
  if (!t || !grid::CanSeeDepartment(actor, t->department_id)) {
    return NotFound("terminal " + std::to_string(id) + " not found");
  }
  return *t;
}

// Where a metering point's installed meter is read: its terminal, Pn, port and address.
struct PointTarget {
  int64_t metering_point_id = 0;
  std::string point_code;
  TerminalRef terminal;
  int64_t point_no = 0;
  std::optional<std::string> meter_address;
  std::string meter_asset_no;
  int64_t port = 2;
  int64_t baud_rate = 2400;
  std::string meter_protocol;
};

// Whether the actor sees the metering point (its department and customer's account manager).
Result<bool> PointVisible(Connection& c, const Actor& actor, int64_t point_id) {
  bool visible = false;
  RETURN_IF_ERROR(
      c.Query("SELECT mp.department_id, cu.account_manager_id FROM metering_points mp "
              "JOIN customers cu ON cu.id = mp.customer_id WHERE mp.id = $1",
              {point_id}, [&](const Row& r) { visible = actor.CanSee(r.Int(0), r.OptInt(1)); }));
  return visible;
}

// FailedPrecondition (field metering_point_id) saying why a point cannot be reached.
Result<PointTarget> ResolvePoint(Connection& c, int64_t point_id) {
  std::optional<std::string> code;
  RETURN_IF_ERROR(c.Query("SELECT code FROM metering_points WHERE id = $1", {point_id},
                          [&](const Row& r) { code = r.Text(0); }));
  if (!code) {
    return InvalidArgument("metering point " + std::to_string(point_id) + " does not exist",
                           "metering_point_id");
  }
  std::optional<PointTarget> t;
  std::optional<std::string> installed_meter;
  RETURN_IF_ERROR(c.Query(
      "SELECT m.asset_no, m.comm_address, tm.point_no, tm.port, tm.baud_rate, tm.protocol, "
      "t.id, t.area_code, t.address, t.kind, t.status, t.department_id "
      "FROM meter_installations mi JOIN meters m ON m.id = mi.meter_id "
      "LEFT JOIN terminal_meters tm ON tm.meter_id = m.id "
      "LEFT JOIN terminals t ON t.id = tm.terminal_id "
      "WHERE mi.metering_point_id = $1 AND mi.removed_at_us IS NULL",
      {point_id}, [&](const Row& r) {
        installed_meter = r.Text(0);
        if (r.IsNull(6)) return;
        PointTarget p;
        p.metering_point_id = point_id;
        p.point_code = *code;
        p.meter_asset_no = r.Text(0);
        p.meter_address = r.OptText(1);
        p.point_no = r.Int(2);
        p.port = r.Int(3);
        p.baud_rate = r.Int(4);
        p.meter_protocol = r.Text(5);
        p.terminal = TerminalRef{r.Int(6), r.Text(7), r.Int(8), r.Text(9), r.Text(10), r.Int(11)};
        t = p;
      }));
  if (!installed_meter) {
    return FailedPrecondition("metering point " + *code + " has no meter installed",
                              "metering_point_id");
  }
  if (!t) {
    return FailedPrecondition("meter " + *installed_meter + " of metering point " + *code +
                                  " is not read by any terminal",
                              "metering_point_id");
  }
  return *t;
}

// Comm control word of AFN10 F1 for 8E1 at `baud` (D7-D5 baud code, D3 parity, D1-D0 8 bits).
uint8_t CommControl(int64_t baud) {
  static constexpr int64_t kBauds[] = {300, 600, 1200, 2400, 4800, 7200, 9600, 19200};
  int code = 3;
  for (int i = 0; i < 8; ++i) {
    if (kBauds[i] == baud) code = i;
  }
  return static_cast<uint8_t>((code << 5) | 0x08 | 0x03);
}

// Civil time in the zone.
gdw1376::ClockTime LocalClock(const TimeZone& zone, int64_t utc_us) {
  int64_t local_s = utc_us / kMicrosPerSecond + zone.OffsetSeconds(utc_us);
  int64_t days = local_s >= 0 ? local_s / 86400 : (local_s - 86399) / 86400;
  int64_t sod = local_s - days * 86400;
  Date d = Date::FromDays(days);
  gdw1376::ClockTime t;
  t.year = d.year;
  t.month = d.month;
  t.day = d.day;
  t.hour = static_cast<int>(sod / 3600);
  t.minute = static_cast<int>(sod / 60 % 60);
  t.second = static_cast<int>(sod % 60);
  int w = d.Weekday();  // 0 = Sunday
  t.weekday = w == 0 ? 7 : w;
  return t;
}

std::string TimeText(const gdw1376::MinuteTime& t) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d", t.year, t.month, t.day, t.hour,
                t.minute);
  return buf;
}
std::string TimeText(const gdw1376::ClockTime& t) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", t.year, t.month, t.day, t.hour,
                t.minute, t.second);
  return buf;
}

Result<std::array<uint8_t, 16>> ParsePassword(std::string_view hex) {
  std::array<uint8_t, 16> pw{};
  if (hex.empty()) return pw;
  if (hex.size() != 32) {
    return InvalidArgument("password_hex must be 32 hex digits (16 bytes), not " +
                               std::to_string(hex.size()) + " characters",
                           "password_hex");
  }
  auto nibble = [](char ch) -> int {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < 16; ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return InvalidArgument("password_hex has a character that is not a hex digit at position " +
                                 std::to_string(hi < 0 ? 2 * i + 1 : 2 * i + 2),
                             "password_hex");
    }
    pw[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return pw;
}

// The words of a rate index of M = 4 registers.
std::string RateName(size_t i, int rates) {
  static const char* kNames[] = {"total", "sharp", "peak", "flat", "valley"};
  if (rates == 4 && i < 5) return kNames[i];
  return i == 0 ? "total" : "rate_" + std::to_string(i);
}

// Both the frame and its group units as the name of an exchange: "AFN0C F129".
std::string AfnFn(uint8_t afn, uint16_t fn) {
  return "AFN" + Hex2(afn) + " F" + std::to_string(fn);
}

bool GroupsName(const gdw1376::Frame& f, uint16_t fn) {
  for (const auto& g : f.groups) {
    if (std::find(g.fns.begin(), g.fns.end(), fn) != g.fns.end()) return true;
  }
  return false;
}

const gdw1376::Item* FindItem(const std::vector<gdw1376::Frame>& replies, uint16_t fn,
                              std::optional<uint16_t> pn = std::nullopt) {
  for (const auto& f : replies) {
    for (const auto& g : f.groups) {
      for (const auto& it : g.items) {
        if (it.fn == fn && (!pn || it.pn == *pn || it.pn == gdw1376::kAllPoints)) return &it;
      }
    }
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Dispatcher plumbing shared with the front end's I/O threads (kept alive by the callbacks).

struct Completion {
  int64_t command_id = 0;
  fep::RequestResult result;
};

struct Mailbox {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Completion> done;  // GUARDED_BY(mu)
  bool wake = false;            // GUARDED_BY(mu)
  bool stop = false;            // GUARDED_BY(mu)
};

// What an answer means for a command.
struct Outcome {
  std::string status;  // confirmed, denied, timed_out, failed, or pending (send again)
  std::string text;
  std::optional<std::string> answer_hex;
};

}  // namespace

const std::vector<std::string_view>& CommandKinds() { return kKinds; }
const std::vector<std::string_view>& CommandStatuses() { return kStatuses; }
const std::vector<std::string_view>& PowerControls() {
  static const std::vector<std::string_view> kNames = [] {
    std::vector<std::string_view> v;
    for (const auto& p : kPowerControls) v.push_back(p.name);
    return v;
  }();
  return kNames;
}
const std::vector<std::string_view>& ReadItems() { return kReadItems; }

// ---------------------------------------------------------------------------------------------

struct CommandService::Impl {
  Impl(store::Database& d, const Clock& c, const TimeZone& z, accounts::PrepaidService* p,
       CommandOptions o, std::array<uint8_t, 16> password)
      : db(d), clock(c), zone(z), prepaid(p), opt(std::move(o)), pw(password) {}

  store::Database& db;
  const Clock& clock;
  TimeZone zone;
  accounts::PrepaidService* prepaid;
  CommandOptions opt;
  std::array<uint8_t, 16> pw;
  Actor system = Actor::System("acquisition.dispatcher");

  std::atomic<fep::FrontEnd*> fe{nullptr};
  std::shared_ptr<Mailbox> mailbox = std::make_shared<Mailbox>();
  std::mutex thread_mu;
  std::thread thread;  // GUARDED_BY(thread_mu)

  // Dispatcher state: one pass at a time.
  std::mutex pass_mu;
  std::map<int64_t, Command> in_flight;  // GUARDED_BY(pass_mu)

  // ---- Issue ----
  Result<Command> Issue(const Actor& actor, const CommandInput& in);
  Result<Command> CreateCommand(Connection& c, const Actor& actor, const CommandInput& in,
                                std::optional<int64_t> control_request_id, int64_t now);

  // ---- Dispatch ----
  void Wake();
  void Loop();
  Status Pass(bool wait_for_answers);
  Status BridgeRequests();
  Status HandleRequest(const accounts::ControlRequest& req);
  Status SyncRequests();
  Status ExpireAndSweep();
  Status Dispatch();
  Status RecordAnswers();
  Result<gdw1376::Frame> BuildFrame(const Command& cmd, int64_t now_us) const;
  Outcome Interpret(const Command& cmd, const fep::RequestResult& r) const;

  // ---- Reads ----
  fep::RequestResult Exchange(fep::FrontEnd& f, gdw1376::TerminalKey key, gdw1376::Frame frame,
                              const std::string& note, ReadNowResult* out) const;
  // false when the terminal or the meter stopped answering (the remaining items are skipped).
  bool ReadTerminalItem(fep::FrontEnd& f, const PointTarget& t, const std::string& item,
                        ReadNowResult* out) const;
  bool ReadMeterItem(fep::FrontEnd& f, const PointTarget& t, const std::string& item,
                     ReadNowResult* out) const;
};

// ---------------------------------------------------------------------------------------------
// Issue, list, get, cancel

Result<Command> CommandService::Impl::CreateCommand(Connection& c, const Actor& actor,
                                                    const CommandInput& in,
                                                    std::optional<int64_t> control_request_id,
                                                    int64_t now) {
  RETURN_IF_ERROR(CheckIn(in.kind, "kind", kKinds));
  if (in.via) RETURN_IF_ERROR(CheckIn(*in.via, "via", kVias));
  if (in.reason.size() > 500) return InvalidArgument("reason is longer than 500 bytes", "reason");
  const bool cuts_supply = in.kind == "trip" || in.kind == "power_control_enable";
  if (cuts_supply && !control_request_id &&
      in.reason.find_first_not_of(" \t") == std::string::npos) {
    return InvalidArgument("a " + in.kind + " needs a reason (kept with the command and audited)",
                           "reason");
  }
  if (!in.terminal_id && !in.metering_point_id) {
    return InvalidArgument("terminal_id or metering_point_id is required", "terminal_id");
  }
  std::optional<PointTarget> point;
  if (in.metering_point_id) {
    ASSIGN_OR_RETURN(bool visible, PointVisible(c, actor, *in.metering_point_id));
    if (!visible) {
      return NotFound("metering point " + std::to_string(*in.metering_point_id) + " not found");
    }
    ASSIGN_OR_RETURN(point, ResolvePoint(c, *in.metering_point_id));
  }
  TerminalRef terminal;
  if (in.terminal_id) {
    ASSIGN_OR_RETURN(terminal, LoadVisibleTerminal(c, actor, *in.terminal_id));
    if (point && point->terminal.id != terminal.id) {
      return InvalidArgument("metering point " + point->point_code + " is read by terminal " +
                                 point->terminal.Text() + ", not by terminal " + terminal.Text(),
                             "terminal_id");
    }
  } else {
    terminal = point->terminal;
    if (!grid::CanSeeDepartment(actor, terminal.department_id)) {
      // The point's terminal is outside the scope: as if the point had none.
      return NotFound("metering point " + std::to_string(*in.metering_point_id) + " not found");
    }
  }
  if (terminal.status != "installed") {
    return FailedPrecondition(
        "terminal " + terminal.Text() + " is " + terminal.status + ", not installed",
        "terminal_id");
  }
  bool meter_level = in.kind == "trip" || in.kind == "permit_close" || in.kind == "urge_alarm_on" ||
                     in.kind == "urge_alarm_off";
  std::string via = in.via.value_or(
      point && meter_level && terminal.kind == "public_transformer" ? "afn10_645" : "afn05");
  Command cmd;
  cmd.terminal_id = terminal.id;
  cmd.department_id = terminal.department_id;
  cmd.kind = in.kind;
  cmd.via = via;
  if (point) cmd.metering_point_id = point->metering_point_id;
  if (via == "afn10_645") {
    if (!meter_level) {
      return InvalidArgument(in.kind + " is sent to the terminal (afn05), not forwarded to a meter",
                             "via");
    }
    if (!point) {
      return InvalidArgument("metering_point_id is required to forward a command to a meter",
                             "metering_point_id");
    }
    if (!point->meter_address || point->meter_address->empty()) {
      return FailedPrecondition("meter " + point->meter_asset_no +
                                    " has no communication address to forward a command to",
                                "metering_point_id");
    }
    if (point->meter_protocol != "dlt645_2007") {
      return FailedPrecondition("meter " + point->meter_asset_no + " speaks " +
                                    point->meter_protocol +
                                    ": remote control is forwarded as DL/T 645-2007 (1C) only",
                                "via");
    }
    RETURN_IF_ERROR(dlt645::CheckAddress(*point->meter_address));
    cmd.point_no = point->point_no;
    cmd.meter_address = point->meter_address;
    cmd.port = point->port;
    cmd.baud_rate = point->baud_rate;
  }
  ASSIGN_OR_RETURN(json params, NormaliseParams(in.kind, via, in.params));
  if (params.contains("round")) cmd.point_no = params["round"].get<int>();
  if (params.contains("total_group")) cmd.point_no = params["total_group"].get<int>();
  cmd.params_json = params.dump();
  cmd.status = "pending";
  cmd.control_request_id = control_request_id;
  cmd.issued_by = actor.user_id ? std::optional<int64_t>(actor.user_id) : std::nullopt;
  cmd.issued_by_name = actor.username;
  cmd.created_at_us = now;
  cmd.expires_at_us =
      now + std::chrono::duration_cast<std::chrono::microseconds>(opt.expiry).count();
  ASSIGN_OR_RETURN(
      int64_t id,
      c.InsertReturningId(
          "INSERT INTO terminal_commands (terminal_id, metering_point_id, point_no, "
          "meter_address, port, baud_rate, department_id, kind, params_json, via, status, "
          "control_request_id, issued_by, issued_by_name, created_at_us, expires_at_us, "
          "updated_at_us, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending', "
          "$11, $12, $13, $14, $15, $14, $16) RETURNING id",
          {cmd.terminal_id, cmd.metering_point_id, cmd.point_no, cmd.meter_address, cmd.port,
           cmd.baud_rate, cmd.department_id, cmd.kind, cmd.params_json, cmd.via,
           cmd.control_request_id, cmd.issued_by, cmd.issued_by_name, now, cmd.expires_at_us,
           in.reason}));
  ASSIGN_OR_RETURN(auto created, LoadCommand(c, id));
  if (!created) return Internal("command " + std::to_string(id) + " vanished");
  RETURN_IF_ERROR(org::WriteAudit(c, actor,
                                  {"create", "terminal_command", std::to_string(id), "",
                                   ToJson(*created).dump(), created->department_id},
                                  now));
  return *created;
}

Result<Command> CommandService::Impl::Issue(const Actor& actor, const CommandInput& in) {
  RETURN_IF_ERROR(actor.Require("acquisition.command"));
  int64_t now = clock.NowMicros();
  auto cmd = db.WriteValue<Command>([&](Connection& c) -> Result<Command> {
    return CreateCommand(c, actor, in, std::nullopt, now);
  });
  if (cmd.ok()) Wake();
  return cmd;
}

Result<Command> CommandService::Issue(const Actor& actor, const CommandInput& in) {
  return impl_->Issue(actor, in);
}

Result<std::vector<Command>> CommandService::List(const Actor& actor, const CommandQuery& q,
                                                  int64_t* total) {
  RETURN_IF_ERROR(actor.Require("acquisition.read"));
  if (q.page < 1) return InvalidArgument("page must be at least 1", "page");
  if (q.page_size < 1 || q.page_size > 200) {
    return InvalidArgument("page_size must be 1-200", "page_size");
  }
  if (!q.status.empty()) RETURN_IF_ERROR(CheckIn(q.status, "status", kStatuses));
  if (!q.kind.empty()) RETURN_IF_ERROR(CheckIn(q.kind, "kind", kKinds));
  std::vector<Command> out;
  Status st = impl_->db.Read([&](Connection& c) -> Status {
    grid::SqlWhere w(grid::DepartmentScopeSql(actor, "c.department_id"));
    if (q.department_id) {
      ASSIGN_OR_RETURN(auto ids, grid::DepartmentSubtree(c, *q.department_id));
      w.And(grid::InSql("c.department_id", ids));
    }
    if (q.terminal_id) w.And("c.terminal_id = " + w.Bind(*q.terminal_id));
    if (q.metering_point_id) w.And("c.metering_point_id = " + w.Bind(*q.metering_point_id));
    if (q.control_request_id) w.And("c.control_request_id = " + w.Bind(*q.control_request_id));
    if (!q.status.empty()) w.And("c.status = " + w.Bind(q.status));
    if (!q.kind.empty()) w.And("c.kind = " + w.Bind(q.kind));
    ASSIGN_OR_RETURN(*total, c.QueryInt("SELECT COUNT(*) FROM terminal_commands c WHERE " + w.sql(),
                                        w.params()));
    std::string sql = std::string(kCommandSelect) + " WHERE " + w.sql() + " ORDER BY c.id DESC ";
    sql += w.LimitOffset(q.page, q.page_size);
    return c.Query(sql, w.params(), [&](const Row& r) { out.push_back(ReadCommand(r)); });
  });
  if (!st.ok()) return st;
  return out;
}

Result<Command> CommandService::Get(const Actor& actor, int64_t id) {
  RETURN_IF_ERROR(actor.Require("acquisition.read"));
  return impl_->db.ReadValue<Command>([&](Connection& c) -> Result<Command> {
    ASSIGN_OR_RETURN(auto cmd, LoadCommand(c, id));
    if (!cmd || !grid::CanSeeDepartment(actor, cmd->department_id)) {
      return NotFound("command " + std::to_string(id) + " not found");
    }
    return *cmd;
  });
}

Result<Command> CommandService::Cancel(const Actor& actor, int64_t id, int64_t version) {
  RETURN_IF_ERROR(actor.Require("acquisition.command"));
  int64_t now = impl_->clock.NowMicros();
  return impl_->db.WriteValue<Command>([&](Connection& c) -> Result<Command> {
    ASSIGN_OR_RETURN(auto before, LoadCommand(c, id));
    if (!before || !grid::CanSeeDepartment(actor, before->department_id)) {
      return NotFound("command " + std::to_string(id) + " not found");
    }
    if (before->version != version) {
      return grid::StaleVersion("command", id, before->version, version);
    }
    if (before->status != "pending") {
      return FailedPrecondition("command " + std::to_string(id) + " is " + before->status +
                                ": only a pending command can be cancelled");
    }
    ASSIGN_OR_RETURN(int64_t n,
                     c.Exec("UPDATE terminal_commands SET status = 'cancelled', answer_text = $1, "
                            "completed_at_us = $2, updated_at_us = $2, version = version + 1 "
                            "WHERE id = $3 AND version = $4 AND status = 'pending'",
                            {"cancelled by " + actor.username, now, id, version}));
    if (n == 0) {
      return grid::StaleVersionAfterUpdate(c, "terminal_commands", "command", id, version);
    }
    ASSIGN_OR_RETURN(auto after, LoadCommand(c, id));
    RETURN_IF_ERROR(
        org::WriteAudit(c, actor,
                        {"cancel", "terminal_command", std::to_string(id), ToJson(*before).dump(),
                         ToJson(*after).dump(), after->department_id},
                        now));
    return *after;
  });
}

// ---------------------------------------------------------------------------------------------
// Frames

Result<gdw1376::Frame> CommandService::Impl::BuildFrame(const Command& cmd, int64_t now_us) const {
  json p = json::parse(cmd.params_json, nullptr, false);
  if (p.is_discarded() || !p.is_object()) {
    return InvalidArgument("command " + std::to_string(cmd.id) + ": params_json is not an object");
  }
  auto pint = [&](const char* name, int dflt) { return p.value(name, dflt); };
  auto parsed = ParseTerminalAddress(cmd.terminal_address);
  if (!parsed) {
    return InvalidArgument("command " + std::to_string(cmd.id) + ": terminal address " +
                           cmd.terminal_address + " is not A1-A2");
  }
  gdw1376::TerminalKey key{static_cast<uint16_t>(std::stoi(parsed->first)),
                           static_cast<uint16_t>(parsed->second)};
  gdw1376::Address a{key, 0, false};

  uint16_t pn = 0, fn = 0;
  gdw1376::Bytes data;
  uint8_t afn = gdw1376::kAfnControl;
  if (cmd.via == "afn05") {
    if (cmd.kind == "trip") {
      pn = static_cast<uint16_t>(pint("round", 1));
      fn = 1;
      data.push_back(static_cast<uint8_t>((pint("limit_half_hours", 0) & 0x0F) << 4 |
                                          (pint("alarm_delay_minutes", 0) & 0x0F)));
    } else if (cmd.kind == "permit_close") {
      pn = static_cast<uint16_t>(pint("round", 1));
      fn = 2;
    } else if (cmd.kind == "power_control_enable" || cmd.kind == "power_control_release") {
      const PowerControl* pc = FindPowerControl(p.value("control", ""));
      if (!pc) return InvalidArgument("command " + std::to_string(cmd.id) + ": unknown control");
      bool enable = cmd.kind == "power_control_enable";
      pn = static_cast<uint16_t>(pint("total_group", 1));
      fn = enable ? pc->enable_fn : pc->release_fn;
      if (enable && pc->enable_fn == 9) {
        data = {static_cast<uint8_t>(pint("period_flags", 255)),
                static_cast<uint8_t>(pint("scheme", 0))};
      } else if (enable && pc->enable_fn == 12) {
        int f = pint("float_percent", 0);
        int mag = f < 0 ? -f : f;
        data = {static_cast<uint8_t>(pint("slip_minutes", 5)),
                static_cast<uint8_t>((f < 0 ? 0x80 : 0) | (mag / 10) << 4 | (mag % 10)),
                static_cast<uint8_t>(pint("freeze_delay_minutes", 1)),
                static_cast<uint8_t>(pint("control_half_hours", 2))};
        std::vector<int> alarms = p.value("alarm_minutes", std::vector<int>{0, 0, 0, 0});
        alarms.resize(4, 0);
        for (int x : alarms) data.push_back(static_cast<uint8_t>(x));
      }
    } else if (cmd.kind == "urge_alarm_on") {
      fn = 26;
    } else if (cmd.kind == "urge_alarm_off") {
      fn = 34;
    } else if (cmd.kind == "time_sync") {
      fn = 31;
      data = gdw1376::EncodeClock(LocalClock(zone, now_us));
    } else {
      return InvalidArgument("command " + std::to_string(cmd.id) + ": unknown kind " + cmd.kind);
    }
  } else {
    // AFN10 F1 carrying a DL/T 645 1C to the meter.
    dlt645::ControlParams cp;
    cp.password_level = opt.meter_password_level;
    cp.password = opt.meter_password;
    cp.operator_code = opt.meter_operator;
    if (cmd.kind == "trip") {
      cp.action = dlt645::ControlAction::kTrip;
    } else if (cmd.kind == "permit_close") {
      cp.action = dlt645::ControlAction::kPermitClose;
    } else if (cmd.kind == "urge_alarm_on") {
      cp.action = dlt645::ControlAction::kAlarm;
    } else if (cmd.kind == "urge_alarm_off") {
      cp.action = dlt645::ControlAction::kAlarmOff;
    } else {
      return InvalidArgument("command " + std::to_string(cmd.id) + ": " + cmd.kind +
                             " cannot be forwarded to a meter");
    }
    gdw1376::ClockTime until = LocalClock(
        zone,
        now_us + std::chrono::duration_cast<std::chrono::microseconds>(opt.meter_command_validity)
                     .count());
    cp.valid_year = until.year;
    cp.valid_month = until.month;
    cp.valid_day = until.day;
    cp.valid_hour = until.hour;
    cp.valid_minute = until.minute;
    cp.valid_second = until.second;
    dlt645::Frame control = dlt645::MakeControl(cmd.meter_address.value_or(""), cp);
    control.leading_fe = 4;
    ASSIGN_OR_RETURN(dlt645::Bytes payload, dlt645::EncodeChecked(control));
    gdw1376::ForwardRequest fr;
    fr.port = static_cast<uint8_t>(cmd.port.value_or(2));
    fr.comm_control = CommControl(cmd.baud_rate.value_or(2400));
    int64_t secs = std::clamp<int64_t>(opt.forward_frame_timeout.count(), 1, 127);
    fr.frame_timeout = static_cast<uint8_t>(0x80 | secs);
    fr.byte_timeout = 0x14;
    fr.payload = std::move(payload);
    afn = gdw1376::kAfnForward;
    fn = 1;
    pn = 0;
    data = gdw1376::EncodeForwardRequest(fr);
  }
  ASSIGN_OR_RETURN(gdw1376::Group g, gdw1376::MakeGroup({pn}, {fn}));
  g.items.push_back(gdw1376::Item{pn, fn, std::move(data)});
  gdw1376::Frame f = gdw1376::MakeRequest(a, afn, 0, {std::move(g)}, std::nullopt, pw);
  return f;
}

Outcome CommandService::Impl::Interpret(const Command& cmd, const fep::RequestResult& r) const {
  Outcome o;
  const gdw1376::Frame* answer = r.replies.empty() ? nullptr : &r.replies.back();
  if (answer) {
    auto bytes = gdw1376::Encode(*answer);
    if (bytes.ok()) o.answer_hex = Hex(*bytes);
  }
  const Status& s = r.status;
  if (!s.ok()) {
    switch (s.code()) {
      case StatusCode::kUnavailable:
        o.status = "pending";
        o.text = r.cancelled ? "the front end stopped before an answer (" + s.message() +
                                   "); it is sent again later"
                             : "the terminal was not connected or its connection closed before "
                               "an answer (" +
                                   s.message() + "); it is sent again when it is online";
        return o;
      case StatusCode::kDeadlineExceeded:
        o.status = "timed_out";
        o.text = "no answer from the terminal after " + std::to_string(r.attempts) +
                 " attempt(s) (" + s.message() + ")";
        return o;
      case StatusCode::kFailedPrecondition:
        o.status = "denied";
        o.text = "denied by the terminal (AFN00 F2)" +
                 (s.message().empty() ? std::string() : ": " + s.message());
        return o;
      default:
        o.status = "failed";
        o.text = "the front end could not send it: " + s.ToString();
        return o;
    }
  }
  if (!answer) {
    o.status = "failed";
    o.text = "the front end reported an answer without a frame";
    return o;
  }
  if (answer->afn == gdw1376::kAfnConfirm) {
    if (answer->confirm) {
      std::string errors;
      for (const auto& u : answer->confirm->units) {
        if (u.err != 0) {
          if (!errors.empty()) errors += ", ";
          errors += "p" + std::to_string(u.pn) + " F" + std::to_string(u.fn);
        }
      }
      if (!errors.empty()) {
        o.status = "denied";
        o.text = "denied by the terminal per unit (AFN00 F3): " + errors;
        return o;
      }
      if (cmd.via == "afn05") {
        o.status = "confirmed";
        o.text = "confirmed by the terminal (AFN00 F3, every unit)";
        return o;
      }
    } else if (GroupsName(*answer, 2)) {
      o.status = "denied";
      o.text = "denied by the terminal (AFN00 F2)";
      return o;
    } else if (GroupsName(*answer, 1) && cmd.via == "afn05") {
      o.status = "confirmed";
      o.text = "confirmed by the terminal (AFN00 F1)";
      return o;
    }
    if (cmd.via == "afn10_645") {
      o.status = "failed";
      o.text = "the terminal confirmed the forwarding but returned no answer of the meter";
      return o;
    }
    o.status = "failed";
    o.text = "an AFN00 answer that is neither a confirm nor a deny";
    return o;
  }
  if (cmd.via == "afn05") {
    o.status = "failed";
    o.text = "unexpected answer " + AfnFn(answer->afn, 0).substr(0, 5) + " to an AFN05 command";
    return o;
  }
  // AFN10 F1: the meter's answer inside.
  const gdw1376::Item* item = FindItem(r.replies, 1);
  if (answer->afn != gdw1376::kAfnForward || !item) {
    o.status = "failed";
    o.text = "unexpected answer to an AFN10 forwarding (AFN " + Hex2(answer->afn) + ")";
    return o;
  }
  auto fr = gdw1376::DecodeForwardReply(item->data);
  if (!fr.ok()) {
    o.status = "failed";
    o.text = "the AFN10 F1 answer does not decode: " + fr.status().message();
    return o;
  }
  if (fr->payload.empty()) {
    o.status = "timed_out";
    o.text = "the meter did not answer the terminal (AFN10 F1 answer of length 0)";
    return o;
  }
  auto mf = dlt645::Decode(fr->payload);
  if (!mf.ok()) {
    o.status = "failed";
    o.text = "the meter's answer is not a DL/T 645 frame: " + mf.status().message();
    return o;
  }
  if (!mf->up || mf->func != dlt645::kControl) {
    o.status = "failed";
    o.text =
        "the meter answered with control code " + Hex2(mf->ControlByte()) + ", not an answer to 1C";
    return o;
  }
  if (cmd.meter_address && mf->address != *cmd.meter_address) {
    o.status = "failed";
    o.text = "the answer came from meter " + mf->address + ", not " + *cmd.meter_address;
    return o;
  }
  if (mf->abnormal) {
    uint8_t err = mf->data.empty() ? 0 : mf->data[0];
    o.status = "denied";
    o.text =
        "refused by the meter (645 " + Hex2(mf->ControlByte()) + "): " + dlt645::ErrorText(err);
    return o;
  }
  o.status = "confirmed";
  o.text = "confirmed by the meter (645 " + Hex2(mf->ControlByte()) + ")";
  return o;
}

// ---------------------------------------------------------------------------------------------
// The dispatcher

void CommandService::Impl::Wake() {
  {
    std::lock_guard<std::mutex> lock(mailbox->mu);
    mailbox->wake = true;
  }
  mailbox->cv.notify_all();
}

void CommandService::Impl::Loop() {
  for (;;) {
    Status s = Pass(false);
    if (!s.ok()) spdlog::warn("command dispatcher: {}", s.ToString());
    std::unique_lock<std::mutex> lock(mailbox->mu);
    mailbox->cv.wait_for(lock, opt.poll_interval,
                         [&] { return mailbox->stop || mailbox->wake || !mailbox->done.empty(); });
    mailbox->wake = false;
    if (mailbox->stop) break;
  }
  // The answers already in (e.g. the front end's cancellations) are recorded.
  std::lock_guard<std::mutex> pass(pass_mu);
  Status s = RecordAnswers();
  if (!s.ok()) spdlog::warn("command dispatcher stopping: {}", s.ToString());
}

Status CommandService::Impl::Pass(bool wait_for_answers) {
  std::lock_guard<std::mutex> pass(pass_mu);
  Status first;
  auto note = [&](Status s) {
    if (!s.ok() && first.ok()) first = s;
  };
  note(RecordAnswers());
  if (prepaid) note(BridgeRequests());
  note(ExpireAndSweep());
  note(Dispatch());
  if (wait_for_answers && !in_flight.empty()) {
    std::unique_lock<std::mutex> lock(mailbox->mu);
    bool all = mailbox->cv.wait_for(lock, std::chrono::minutes(5),
                                    [&] { return mailbox->done.size() >= in_flight.size(); });
    lock.unlock();
    if (!all)
      note(Status(StatusCode::kDeadlineExceeded, "commands still unanswered after 5 minutes"));
    note(RecordAnswers());
  }
  if (prepaid) note(SyncRequests());
  return first;
}

Status CommandService::Impl::RecordAnswers() {
  std::deque<Completion> done;
  {
    std::lock_guard<std::mutex> lock(mailbox->mu);
    done.swap(mailbox->done);
  }
  Status first;
  for (auto& d : done) {
    auto it = in_flight.find(d.command_id);
    if (it == in_flight.end()) continue;
    Command cmd = std::move(it->second);
    in_flight.erase(it);
    Outcome o = Interpret(cmd, d.result);
    int64_t now = clock.NowMicros();
    bool final = o.status != "pending";
    Status s = db.Write([&](Connection& c) -> Status {
      return c
          .Exec(
              "UPDATE terminal_commands SET status = $1, answer_hex = $2, answer_text = $3, "
              "attempts = attempts + $4, completed_at_us = $5, updated_at_us = $6, "
              "version = version + 1 WHERE id = $7 AND status = 'sent'",
              {o.status, o.answer_hex, o.text, static_cast<int64_t>(d.result.attempts),
               final ? std::optional<int64_t>(now) : std::nullopt, now, cmd.id})
          .status();
    });
    if (!s.ok() && first.ok()) first = s.WithContext("recording command " + std::to_string(cmd.id));
  }
  return first;
}

Status CommandService::Impl::ExpireAndSweep() {
  int64_t now = clock.NowMicros();
  int64_t stale_before =
      now - std::chrono::duration_cast<std::chrono::microseconds>(opt.sent_stale_after).count();
  return db.Write([&](Connection& c) -> Status {
    RETURN_IF_ERROR(
        c.Exec("UPDATE terminal_commands SET status = 'timed_out', answer_text = 'expired "
               "before it could be sent: the terminal was not online.' || "
               "COALESCE(' Last attempt: ' || answer_text, ''), completed_at_us = $1, "
               "updated_at_us = $1, version = version + 1 "
               "WHERE status = 'pending' AND expires_at_us <= $1",
               {now})
            .status());
    std::vector<int64_t> stale;
    RETURN_IF_ERROR(c.Query(
        "SELECT id FROM terminal_commands WHERE status = 'sent' AND sent_at_us < $1 ORDER BY id",
        {stale_before}, [&](const Row& r) {
          if (!in_flight.count(r.Int(0))) stale.push_back(r.Int(0));
        }));
    for (int64_t id : stale) {
      RETURN_IF_ERROR(
          c.Exec("UPDATE terminal_commands SET status = 'timed_out', answer_text = $1, "
                 "completed_at_us = $2, updated_at_us = $2, version = version + 1 "
                 "WHERE id = $3 AND status = 'sent'",
                 {std::string("no answer was recorded: the process that sent it stopped while "
                              "waiting; whether the terminal acted is unknown"),
                  now, id})
              .status());
    }
    return Status::Ok();
  });
}

Status CommandService::Impl::Dispatch() {
  fep::FrontEnd* f = fe.load();
  if (!f) return Status::Ok();
  int64_t now = clock.NowMicros();
  int64_t after = 0;
  std::map<uint32_t, bool> online;  // by packed key, this pass
  while (in_flight.size() < opt.max_in_flight) {
    std::vector<Command> batch;
    RETURN_IF_ERROR(db.Read([&](Connection& c) {
      return c.Query(std::string(kCommandSelect) +
                         " WHERE c.status = 'pending' AND c.id > $1 ORDER BY c.id LIMIT 500",
                     {after}, [&](const Row& r) { batch.push_back(ReadCommand(r)); });
    }));
    if (batch.empty()) break;
    after = batch.back().id;
    for (Command& cmd : batch) {
      if (in_flight.size() >= opt.max_in_flight) break;
      if (cmd.expires_at_us <= now || in_flight.count(cmd.id)) continue;
      auto built = BuildFrame(cmd, now);
      if (!built.ok()) {
        RETURN_IF_ERROR(db.Write([&](Connection& c) {
          return c
              .Exec(
                  "UPDATE terminal_commands SET status = 'failed', answer_text = $1, "
                  "completed_at_us = $2, updated_at_us = $2, version = version + 1 "
                  "WHERE id = $3 AND status = 'pending'",
                  {"the frame could not be built: " + built.status().message(), now, cmd.id})
              .status();
        }));
        continue;
      }
      gdw1376::TerminalKey key = built->a.terminal;
      auto known = online.find(key.Packed());
      if (known == online.end()) {
        auto st = f->State(key);
        known = online.emplace(key.Packed(), st && st->online).first;
      }
      if (!known->second) continue;  // stays pending until the terminal is online
      auto bytes = gdw1376::Encode(*built);
      std::optional<std::string> hex;
      if (bytes.ok()) hex = Hex(*bytes);
      ASSIGN_OR_RETURN(int64_t n, db.WriteValue<int64_t>([&](Connection& c) {
        return c.Exec(
            "UPDATE terminal_commands SET status = 'sent', request_hex = $1, sent_at_us = $2, "
            "updated_at_us = $2, version = version + 1 WHERE id = $3 AND status = 'pending'",
            {hex, now, cmd.id});
      }));
      if (n == 0) continue;  // cancelled meanwhile, or another dispatcher took it
      cmd.status = "sent";
      int64_t id = cmd.id;
      bool forward = cmd.via == "afn10_645";
      in_flight.emplace(id, std::move(cmd));
      fep::RequestOptions ro;
      ro.timeout = opt.request_timeout;
      ro.retries = opt.retries;
      if (forward && !ro.timeout) {
        // The terminal waits up to the frame time-out for the meter before it answers.
        ro.timeout =
            std::chrono::duration_cast<std::chrono::milliseconds>(opt.forward_frame_timeout) +
            std::chrono::seconds(10);
      }
      std::weak_ptr<Mailbox> weak = mailbox;
      f->Request(key, std::move(*built), ro, [weak, id](fep::RequestResult r) {
        auto box = weak.lock();
        if (!box) return;
        {
          std::lock_guard<std::mutex> lock(box->mu);
          box->done.push_back(Completion{id, std::move(r)});
        }
        box->cv.notify_all();
      });
    }
  }
  return Status::Ok();
}

// ---- The prepaid bridge ----

Status CommandService::Impl::BridgeRequests() {
  std::set<int64_t> seen;
  Status first;
  for (int round = 0; round < 20; ++round) {
    accounts::ControlRequestQuery q;
    q.status = "pending";
    q.page_size = 100;
    int64_t total = 0;
    ASSIGN_OR_RETURN(auto list, prepaid->ListControlRequests(system, q, &total));
    bool progress = false;
    for (const auto& req : list) {
      if (!seen.insert(req.id).second) continue;
      progress = true;
      Status s = HandleRequest(req);
      if (!s.ok() && first.ok()) {
        first = s.WithContext("control request " + std::to_string(req.id));
      }
    }
    if (!progress || list.size() < 100) break;
  }
  return first;
}

Status CommandService::Impl::HandleRequest(const accounts::ControlRequest& req) {
  int64_t now = clock.NowMicros();
  std::optional<int64_t> existing;
  RETURN_IF_ERROR(db.Read([&](Connection& c) {
    return c.Query("SELECT id FROM terminal_commands WHERE control_request_id = $1", {req.id},
                   [&](const Row& r) { existing = r.Int(0); });
  }));
  if (!existing) {
    auto created = db.WriteValue<Command>([&](Connection& c) -> Result<Command> {
      ASSIGN_OR_RETURN(PointTarget t, ResolvePoint(c, req.metering_point_id));
      CommandInput in;
      in.metering_point_id = req.metering_point_id;
      in.reason = "prepaid control request " + std::to_string(req.id) + ": " + req.reason;
      if (t.terminal.kind == "public_transformer") {
        in.via = "afn10_645";
        in.kind = req.kind == "disconnect"  ? "trip"
                  : req.kind == "reconnect" ? "permit_close"
                                            : "urge_alarm_on";
      } else if (t.terminal.kind == "special_transformer" || t.terminal.kind == "large_customer") {
        in.via = "afn05";
        in.kind = req.kind == "disconnect"  ? "trip"
                  : req.kind == "reconnect" ? "permit_close"
                                            : "urge_alarm_on";
        if (in.kind != "urge_alarm_on") in.params.round = opt.prepaid_control_round;
      } else {
        return FailedPrecondition("metering point " + t.point_code + " is read by " +
                                  t.terminal.kind + " terminal " + t.terminal.Text() +
                                  ", which does not control customers' supply");
      }
      return CreateCommand(c, system, in, req.id, now);
    });
    if (!created.ok()) {
      StatusCode code = created.status().code();
      if (code == StatusCode::kAlreadyExists) return Status::Ok();  // another dispatcher did
      if (code == StatusCode::kInvalidArgument || code == StatusCode::kFailedPrecondition ||
          code == StatusCode::kNotFound) {
        // The request cannot be carried out: say why on it.
        return prepaid
            ->UpdateControlRequest(
                system, req.id, req.version, "failed",
                ClipText("no command could be made: " + created.status().message()))
            .status();
      }
      return created.status();
    }
    Wake();
  }
  return prepaid->UpdateControlRequest(system, req.id, req.version, "sent", std::nullopt).status();
}

Status CommandService::Impl::SyncRequests() {
  struct Ended {
    int64_t id, request_id, point_id;
    std::string status, text;
  };
  std::vector<Ended> ended;
  RETURN_IF_ERROR(db.Read([&](Connection& c) {
    return c.Query(
        "SELECT id, control_request_id, metering_point_id, status, answer_text "
        "FROM terminal_commands WHERE control_request_id IS NOT NULL AND control_synced = 0 "
        "AND status IN ('confirmed', 'denied', 'timed_out', 'failed', 'cancelled') "
        "ORDER BY id LIMIT 500",
        {}, [&](const Row& r) {
          ended.push_back(Ended{r.Int(0), r.Int(1), r.Int(2), r.Text(3), r.Text(4)});
        });
  }));
  Status first;
  for (const Ended& e : ended) {
    Status s = [&]() -> Status {
      std::optional<accounts::ControlRequest> req;
      for (const char* status : {"sent", "pending"}) {
        accounts::ControlRequestQuery q;
        q.status = status;
        q.metering_point_id = e.point_id;
        q.page_size = 500;
        int64_t total = 0;
        ASSIGN_OR_RETURN(auto list, prepaid->ListControlRequests(system, q, &total));
        for (const auto& r : list) {
          if (r.id == e.request_id) req = r;
        }
        if (req) break;
      }
      if (req && req->status == "pending") {
        ASSIGN_OR_RETURN(req, prepaid->UpdateControlRequest(system, req->id, req->version, "sent",
                                                            std::nullopt));
      }
      if (req) {
        if (e.status == "confirmed") {
          RETURN_IF_ERROR(
              prepaid
                  ->UpdateControlRequest(system, req->id, req->version, "confirmed", std::nullopt)
                  .status());
        } else {
          RETURN_IF_ERROR(prepaid
                              ->UpdateControlRequest(system, req->id, req->version, "failed",
                                                     ClipText("command " + std::to_string(e.id) +
                                                              " " + e.status + ": " + e.text))
                              .status());
        }
      }
      return db.Write([&](Connection& c) {
        return c.Exec("UPDATE terminal_commands SET control_synced = 1 WHERE id = $1", {e.id})
            .status();
      });
    }();
    if (!s.ok() && first.ok())
      first = s.WithContext("control request " + std::to_string(e.request_id));
  }
  return first;
}

// ---------------------------------------------------------------------------------------------
// On-demand reads

fep::RequestResult CommandService::Impl::Exchange(fep::FrontEnd& f, gdw1376::TerminalKey key,
                                                  gdw1376::Frame frame, const std::string& note,
                                                  ReadNowResult* out) const {
  frame.a.terminal = key;
  auto bytes = gdw1376::Encode(frame);
  if (bytes.ok()) out->frames.push_back(FrameRecord{true, Hex(*bytes), note});
  fep::RequestOptions ro;
  ro.timeout = opt.read_timeout;
  ro.retries = 0;
  fep::RequestResult r = f.RequestSync(key, std::move(frame), ro);
  for (const auto& reply : r.replies) {
    auto rb = gdw1376::Encode(reply);
    if (rb.ok()) out->frames.push_back(FrameRecord{false, Hex(*rb), "reply"});
  }
  return r;
}

namespace {

// A denial still shows a terminal that answers; a time-out or a lost connection does not.
bool Answering(const fep::RequestResult& r) {
  return r.status.code() != StatusCode::kDeadlineExceeded &&
         r.status.code() != StatusCode::kUnavailable;
}

std::string ExchangeError(const std::string& item, const fep::RequestResult& r) {
  switch (r.status.code()) {
    case StatusCode::kFailedPrecondition:
      return item + ": the terminal denied the read (AFN00 F2)";
    case StatusCode::kDeadlineExceeded:
      return item + ": no answer from the terminal in time";
    case StatusCode::kUnavailable:
      return item + ": the terminal is not connected (" + r.status.message() + ")";
    default:
      return item + ": " + r.status.ToString();
  }
}

void AddIndication(const std::string& item, const std::string& source, const std::string& prefix,
                   const gdw1376::Indication& ind, int decimals, const char* unit,
                   ReadNowResult* out, bool with_time) {
  if (with_time) {
    out->values.push_back(ReadValue{item, source, "reading_time", TimeText(ind.reading_time), ""});
  }
  for (size_t i = 0; i < ind.values.size(); ++i) {
    std::optional<std::string> v;
    if (ind.values[i]) v = ind.values[i]->ToKwhString(decimals);
    out->values.push_back(ReadValue{item, source, prefix + RateName(i, ind.rates), v, unit});
  }
}

}  // namespace

bool CommandService::Impl::ReadTerminalItem(fep::FrontEnd& f, const PointTarget& t,
                                            const std::string& item, ReadNowResult* out) const {
  gdw1376::TerminalKey key = t.terminal.Key();
  auto request = [&](uint16_t pn, std::vector<uint16_t> fns) -> Result<gdw1376::Frame> {
    std::vector<gdw1376::Group> groups;
    for (uint16_t fn : fns) {
      ASSIGN_OR_RETURN(gdw1376::Group g, gdw1376::MakeGroup({pn}, {fn}));
      groups.push_back(std::move(g));
    }
    return gdw1376::MakeRequest(gdw1376::Address{key, 0, false}, gdw1376::kAfnClass1, 0,
                                std::move(groups));
  };
  uint16_t pn = static_cast<uint16_t>(t.point_no);
  if (item == "energy") {
    auto frame = request(pn, {33, 129});
    if (!frame.ok()) {
      out->errors.push_back(item + ": " + frame.status().message());
      return true;
    }
    auto r = Exchange(f, key, std::move(*frame), "AFN0C F33 + F129 request", out);
    if (!r.status.ok()) {
      out->errors.push_back(ExchangeError(item, r));
      return Answering(r);
    }
    if (const gdw1376::Item* it = FindItem(r.replies, 129, pn)) {
      auto ind = gdw1376::DecodeIndication(it->data, true);
      if (ind.ok()) {
        AddIndication(item, "AFN0C F129", "fwd_active_", *ind, 4, "kWh", out, true);
      } else {
        out->errors.push_back(item + ": F129 does not decode: " + ind.status().message());
      }
    } else {
      out->errors.push_back(item + ": the terminal has no F129 data for Pn " + std::to_string(pn));
    }
    if (const gdw1376::Item* it = FindItem(r.replies, 33, pn)) {
      // Reading time (5), M (1), forward active (M+1) × A.14, then forward reactive, Q1 and Q4
      // reactive (M+1) × A.11 each: decoded as indications sharing the header.
      const auto& d = it->data;
      if (d.size() < 6) {
        out->errors.push_back(item + ": F33 is " + std::to_string(d.size()) +
                              " bytes, shorter than its 6-byte header");
        return true;
      }
      size_t m1 = static_cast<size_t>(d[5]) + 1;
      size_t need = 6 + m1 * (5 + 4 * 3);
      if (d[5] > 12 || d.size() < need) {
        out->errors.push_back(item + ": F33 with M = " + std::to_string(d[5]) + " needs " +
                              std::to_string(need) + " bytes, got " + std::to_string(d.size()));
        return true;
      }
      struct Part {
        const char* prefix;
        size_t offset, width;
        bool active;
        const char* unit;
        int decimals;
      };
      const Part parts[] = {{"fwd_active_", 6, 5, true, "kWh", 4},
                            {"fwd_reactive_", 6 + m1 * 5, 4, false, "kvarh", 2},
                            {"q1_reactive_", 6 + m1 * 9, 4, false, "kvarh", 2},
                            {"q4_reactive_", 6 + m1 * 13, 4, false, "kvarh", 2}};
      for (const Part& p : parts) {
        gdw1376::Bytes one(d.begin(), d.begin() + 6);
        one.insert(one.end(), d.begin() + p.offset, d.begin() + p.offset + m1 * p.width);
        auto ind = gdw1376::DecodeIndication(one, p.active);
        if (!ind.ok()) {
          out->errors.push_back(item + ": F33 " + p.prefix +
                                " does not decode: " + ind.status().message());
          continue;
        }
        AddIndication(item, "AFN0C F33", p.prefix, *ind, p.decimals, p.unit, out, p.offset == 6);
      }
    } else {
      out->errors.push_back(item + ": the terminal has no F33 data for Pn " + std::to_string(pn));
    }
  } else if (item == "power") {
    auto frame = request(pn, {25});
    if (!frame.ok()) {
      out->errors.push_back(item + ": " + frame.status().message());
      return true;
    }
    auto r = Exchange(f, key, std::move(*frame), "AFN0C F25 request", out);
    if (!r.status.ok()) {
      out->errors.push_back(ExchangeError(item, r));
      return Answering(r);
    }
    const gdw1376::Item* it = FindItem(r.replies, 25, pn);
    if (!it) {
      out->errors.push_back(item + ": the terminal has no F25 data for Pn " + std::to_string(pn));
      return true;
    }
    auto p = gdw1376::DecodeRealTimePower(it->data);
    if (!p.ok()) {
      out->errors.push_back(item + ": F25 does not decode: " + p.status().message());
      return true;
    }
    const std::string src = "AFN0C F25";
    out->values.push_back(ReadValue{item, src, "reading_time", TimeText(p->reading_time), ""});
    auto add = [&](const std::string& name, const std::optional<gdw1376::Fixed>& v,
                   const char* unit) {
      out->values.push_back(ReadValue{
          item, src, name, v ? std::optional<std::string>(v->ToString()) : std::nullopt, unit});
    };
    static const char* kPhase4[] = {"total", "a", "b", "c"};
    for (int i = 0; i < 4; ++i) add(std::string("active_power_") + kPhase4[i], p->p[i], "kW");
    for (int i = 0; i < 4; ++i) add(std::string("reactive_power_") + kPhase4[i], p->q[i], "kvar");
    for (int i = 0; i < 4; ++i) add(std::string("power_factor_") + kPhase4[i], p->pf[i], "%");
    static const char* kPhase3[] = {"a", "b", "c"};
    for (int i = 0; i < 3; ++i) add(std::string("voltage_") + kPhase3[i], p->u[i], "V");
    static const char* kCurrent[] = {"a", "b", "c", "zero_sequence"};
    for (int i = 0; i < 4; ++i) add(std::string("current_") + kCurrent[i], p->i[i], "A");
    for (int i = 0; i < 4; ++i) add(std::string("apparent_power_") + kPhase4[i], p->s[i], "kVA");
  } else if (item == "clock") {
    auto frame = request(0, {2});
    if (!frame.ok()) {
      out->errors.push_back(item + ": " + frame.status().message());
      return true;
    }
    auto r = Exchange(f, key, std::move(*frame), "AFN0C F2 request", out);
    if (!r.status.ok()) {
      out->errors.push_back(ExchangeError(item, r));
      return Answering(r);
    }
    const gdw1376::Item* it = FindItem(r.replies, 2, 0);
    if (!it) {
      out->errors.push_back(item + ": the terminal did not send its clock (F2)");
      return true;
    }
    auto clk = gdw1376::DecodeClock(it->data);
    if (!clk.ok()) {
      out->errors.push_back(item + ": F2 does not decode: " + clk.status().message());
      return true;
    }
    out->values.push_back(ReadValue{item, "AFN0C F2", "terminal_clock", TimeText(*clk), ""});
    gdw1376::ClockTime master = LocalClock(zone, clock.NowMicros());
    out->values.push_back(ReadValue{item, "master station", "master_clock", TimeText(master), ""});
  }
  return true;
}

bool CommandService::Impl::ReadMeterItem(fep::FrontEnd& f, const PointTarget& t,
                                         const std::string& item, ReadNowResult* out) const {
  std::vector<uint32_t> dis;
  if (item == "energy") dis = {0x00010000, 0x0001FF00};
  if (item == "power") dis = {0x02030000, 0x0201FF00, 0x0202FF00, 0x02060000};
  if (item == "clock") dis = {0x04000101, 0x04000102};
  gdw1376::TerminalKey key = t.terminal.Key();
  for (uint32_t di : dis) {
    std::string source = "645 " + DiText(di);
    dlt645::Frame read = dlt645::MakeRead(*t.meter_address, di);
    read.leading_fe = 4;
    auto payload = dlt645::EncodeChecked(read);
    if (!payload.ok()) {
      out->errors.push_back(item + ": " + payload.status().message());
      return true;
    }
    gdw1376::ForwardRequest fr;
    fr.port = static_cast<uint8_t>(t.port);
    fr.comm_control = CommControl(t.baud_rate);
    fr.frame_timeout =
        static_cast<uint8_t>(0x80 | std::clamp<int64_t>(opt.forward_frame_timeout.count(), 1, 127));
    fr.byte_timeout = 0x14;
    fr.payload = std::move(*payload);
    auto g = gdw1376::MakeGroup({0}, {1});
    if (!g.ok()) {
      out->errors.push_back(item + ": " + g.status().message());
      return true;
    }
    g->items.push_back(gdw1376::Item{0, 1, gdw1376::EncodeForwardRequest(fr)});
    gdw1376::Frame frame =
        gdw1376::MakeRequest(gdw1376::Address{key, 0, false}, gdw1376::kAfnForward, 0,
                             {std::move(*g)}, std::nullopt, pw);
    auto r = Exchange(
        f, key, std::move(frame),
        "AFN10 F1 forwarding 645 read " + DiText(di) + " to meter " + *t.meter_address, out);
    if (!r.status.ok()) {
      out->errors.push_back(ExchangeError(item + " " + DiText(di), r));
      if (!Answering(r)) return false;
      continue;
    }
    const gdw1376::Item* it = FindItem(r.replies, 1);
    if (!it) {
      out->errors.push_back(item + " " + DiText(di) + ": no AFN10 F1 in the answer");
      continue;
    }
    auto rep = gdw1376::DecodeForwardReply(it->data);
    if (!rep.ok()) {
      out->errors.push_back(item + " " + DiText(di) + ": " + rep.status().message());
      continue;
    }
    if (rep->payload.empty()) {
      out->errors.push_back(item + " " + DiText(di) + ": the meter did not answer the terminal");
      return false;
    }
    auto mf = dlt645::Decode(rep->payload);
    if (!mf.ok()) {
      out->errors.push_back(item + " " + DiText(di) +
                            ": the meter's answer does not decode: " + mf.status().message());
      continue;
    }
    auto rr = dlt645::DecodeReadReply(*mf);
    if (!rr.ok()) {
      out->errors.push_back(item + " " + DiText(di) + ": " + rr.status().message());
      continue;
    }
    auto info = dlt645::LookupDi(di);
    const char* unit = info.ok() ? info->unit : "";
    if (info.ok() && info->format == dlt645::DiFormat::kEnergy) {
      auto energies = dlt645::DecodeEnergies(di, rr->value);
      if (!energies.ok()) {
        out->errors.push_back(item + " " + DiText(di) + ": " + energies.status().message());
        continue;
      }
      bool block = (di & 0xFF00) == 0xFF00;
      int rates = static_cast<int>(energies->size()) - 1;
      for (size_t i = 0; i < energies->size(); ++i) {
        std::optional<std::string> v;
        if ((*energies)[i]) v = (*energies)[i]->ToKwhString(2);
        std::string name = block ? "fwd_active_" + RateName(i, rates) : "fwd_active_total";
        out->values.push_back(ReadValue{item, source, name, v, unit});
      }
      continue;
    }
    auto text = dlt645::DecodeValueText(di, rr->value);
    if (!text.ok()) {
      out->errors.push_back(item + " " + DiText(di) + ": " + text.status().message());
      continue;
    }
    static const char* kPhase[] = {"a", "b", "c"};
    for (size_t i = 0; i < text->size(); ++i) {
      std::string name;
      switch (di) {
        case 0x02030000:
          name = "active_power_total";
          break;
        case 0x0201FF00:
          name = std::string("voltage_") + (i < 3 ? kPhase[i] : "x");
          break;
        case 0x0202FF00:
          name = std::string("current_") + (i < 3 ? kPhase[i] : "x");
          break;
        case 0x02060000:
          name = "power_factor_total";
          break;
        case 0x04000101:
          name = "meter_date";
          break;
        case 0x04000102:
          name = "meter_time";
          break;
        default:
          name = DiText(di);
      }
      out->values.push_back(ReadValue{item, source, name, (*text)[i], unit});
    }
  }
  return true;
}

Result<ReadNowResult> CommandService::ReadNow(const Actor& actor, const ReadNowRequest& request) {
  RETURN_IF_ERROR(actor.Require("acquisition.collect"));
  if (request.via != "terminal" && request.via != "afn10_645") {
    return InvalidArgument("via must be terminal or afn10_645, not \"" + request.via + "\"", "via");
  }
  std::vector<std::string> items = request.items;
  if (items.empty()) items = {"energy"};
  for (const auto& item : items) RETURN_IF_ERROR(CheckIn(item, "items", kReadItems));
  std::sort(items.begin(), items.end());
  items.erase(std::unique(items.begin(), items.end()), items.end());
  // Outside the scope (the point's, or its terminal's) is NotFound, as a point that does not
  // exist.
  auto not_found =
      NotFound("metering point " + std::to_string(request.metering_point_id) + " not found");
  std::optional<PointTarget> target;
  RETURN_IF_ERROR(impl_->db.Read([&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(bool visible, PointVisible(c, actor, request.metering_point_id));
    if (!visible) return not_found;
    ASSIGN_OR_RETURN(target, ResolvePoint(c, request.metering_point_id));
    if (!grid::CanSeeDepartment(actor, target->terminal.department_id)) return not_found;
    return Status::Ok();
  }));
  const PointTarget& t = *target;
  fep::FrontEnd* f = impl_->fe.load();
  if (!f) {
    return Unavailable(
        "no terminal front end runs in this process: on-demand reads go through the front end "
        "of gridmis serve (or gridmis fep)");
  }
  if (request.via == "afn10_645") {
    if (!t.meter_address || t.meter_address->empty()) {
      return FailedPrecondition(
          "meter " + t.meter_asset_no + " has no communication address to read it through", "via");
    }
    if (t.meter_protocol != "dlt645_2007") {
      return FailedPrecondition("meter " + t.meter_asset_no + " speaks " + t.meter_protocol +
                                    ": reads are forwarded as DL/T 645-2007 only",
                                "via");
    }
  }
  auto st = f->State(t.terminal.Key());
  if (!st || !st->online) {
    return Unavailable("terminal " + t.terminal.Text() + " is not online");
  }
  ReadNowResult out;
  out.metering_point_id = t.metering_point_id;
  out.terminal_id = t.terminal.id;
  out.terminal_address = t.terminal.Text();
  out.point_no = t.point_no;
  out.via = request.via;
  out.read_at_us = impl_->clock.NowMicros();
  for (size_t i = 0; i < items.size(); ++i) {
    bool answering = request.via == "terminal" ? impl_->ReadTerminalItem(*f, t, items[i], &out)
                                               : impl_->ReadMeterItem(*f, t, items[i], &out);
    if (!answering) {
      for (size_t j = i + 1; j < items.size(); ++j) {
        out.errors.push_back(items[j] + ": not read: the " +
                             (request.via == "terminal" ? "terminal" : "meter") +
                             " stopped answering");
      }
      break;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Front-end views

namespace {
Result<fep::FrontEnd*> RequireFrontEnd(fep::FrontEnd* f) {
  if (!f) {
    return Unavailable(
        "no terminal front end runs in this process (it runs inside gridmis serve unless "
        "[acquisition] fep is off, or alone as gridmis fep)");
  }
  return f;
}
}  // namespace

Result<std::vector<fep::CommLogEntry>> CommandService::CommLog(const Actor& actor,
                                                               int64_t terminal_id, size_t limit,
                                                               uint64_t before_seq) {
  RETURN_IF_ERROR(actor.Require("acquisition.read"));
  if (limit < 1 || limit > 500) return InvalidArgument("limit must be 1-500", "limit");
  ASSIGN_OR_RETURN(TerminalRef t, impl_->db.ReadValue<TerminalRef>([&](Connection& c) {
    return LoadVisibleTerminal(c, actor, terminal_id);
  }));
  ASSIGN_OR_RETURN(fep::FrontEnd * f, RequireFrontEnd(impl_->fe.load()));
  return f->CommLog(t.Key(), limit, before_seq);
}

Result<fep::TerminalState> CommandService::LinkState(const Actor& actor, int64_t terminal_id) {
  RETURN_IF_ERROR(actor.Require("acquisition.read"));
  ASSIGN_OR_RETURN(TerminalRef t, impl_->db.ReadValue<TerminalRef>([&](Connection& c) {
    return LoadVisibleTerminal(c, actor, terminal_id);
  }));
  ASSIGN_OR_RETURN(fep::FrontEnd * f, RequireFrontEnd(impl_->fe.load()));
  auto st = f->State(t.Key());
  if (st) return *st;
  fep::TerminalState offline;
  offline.key = t.Key();
  return offline;
}

Result<fep::FrontEndStats> CommandService::FrontEndStats(const Actor& actor) {
  RETURN_IF_ERROR(actor.Require("acquisition.read"));
  ASSIGN_OR_RETURN(fep::FrontEnd * f, RequireFrontEnd(impl_->fe.load()));
  return f->Stats();
}

// ---------------------------------------------------------------------------------------------
// Life cycle

Result<std::unique_ptr<CommandService>> CommandService::Create(store::Database& db,
                                                               const Clock& clock,
                                                               const TimeZone& zone,
                                                               accounts::PrepaidService* prepaid,
                                                               CommandOptions options) {
  ASSIGN_OR_RETURN(auto pw, ParsePassword(options.password_hex));
  if (options.prepaid_control_round < 1 || options.prepaid_control_round > 8) {
    return InvalidArgument("prepaid_control_round must be between 1 and 8",
                           "prepaid_control_round");
  }
  if (options.max_in_flight < 1) {
    return InvalidArgument("max_in_flight must be at least 1", "max_in_flight");
  }
  auto impl = std::make_unique<Impl>(db, clock, zone, prepaid, std::move(options), pw);
  return std::unique_ptr<CommandService>(new CommandService(std::move(impl)));
}

CommandService::CommandService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

CommandService::~CommandService() { StopDispatcher(); }

void CommandService::AttachFrontEnd(fep::FrontEnd* front_end) {
  if (!front_end) {
    StopDispatcher();
    impl_->fe.store(nullptr);
    return;
  }
  impl_->fe.store(front_end);
  if (!impl_->opt.dispatcher_thread) return;
  std::lock_guard<std::mutex> lock(impl_->thread_mu);
  if (impl_->thread.joinable()) return;
  {
    std::lock_guard<std::mutex> box(impl_->mailbox->mu);
    impl_->mailbox->stop = false;
  }
  impl_->thread = std::thread([this] { impl_->Loop(); });
}

void CommandService::StopDispatcher() {
  std::lock_guard<std::mutex> lock(impl_->thread_mu);
  if (!impl_->thread.joinable()) return;
  {
    std::lock_guard<std::mutex> box(impl_->mailbox->mu);
    impl_->mailbox->stop = true;
  }
  impl_->mailbox->cv.notify_all();
  impl_->thread.join();
}

fep::FrontEnd* CommandService::front_end() const { return impl_->fe.load(); }

Status CommandService::RunOnceForTest() { return impl_->Pass(true); }

// ---------------------------------------------------------------------------------------------
// JSON

namespace {
json Opt(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }
json Opt(const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); }
json OptTime(const std::optional<int64_t>& v) { return v ? json(FormatUtc(*v)) : json(nullptr); }
}  // namespace

json ToJson(const Command& c) {
  json params = json::parse(c.params_json, nullptr, false);
  if (params.is_discarded()) params = json::object();
  return json{{"id", c.id},
              {"terminal_id", c.terminal_id},
              {"terminal_address", c.terminal_address},
              {"terminal_kind", c.terminal_kind},
              {"metering_point_id", Opt(c.metering_point_id)},
              {"point_code", Opt(c.point_code)},
              {"point_no", Opt(c.point_no)},
              {"meter_address", Opt(c.meter_address)},
              {"port", Opt(c.port)},
              {"baud_rate", Opt(c.baud_rate)},
              {"department_id", c.department_id},
              {"reason", c.reason},
              {"kind", c.kind},
              {"params", params},
              {"via", c.via},
              {"status", c.status},
              {"attempts", c.attempts},
              {"request_hex", Opt(c.request_hex)},
              {"answer_hex", Opt(c.answer_hex)},
              {"answer_text", Opt(c.answer_text)},
              {"control_request_id", Opt(c.control_request_id)},
              {"issued_by", Opt(c.issued_by)},
              {"issued_by_name", c.issued_by_name},
              {"created_at", FormatUtc(c.created_at_us)},
              {"expires_at", FormatUtc(c.expires_at_us)},
              {"sent_at", OptTime(c.sent_at_us)},
              {"completed_at", OptTime(c.completed_at_us)},
              {"updated_at", FormatUtc(c.updated_at_us)},
              {"version", c.version}};
}

json ToJson(const ReadNowResult& r) {
  json values = json::array();
  for (const auto& v : r.values) {
    values.push_back(json{{"item", v.item},
                          {"source", v.source},
                          {"name", v.name},
                          {"value", Opt(v.value)},
                          {"unit", v.unit}});
  }
  json frames = json::array();
  for (const auto& f : r.frames) {
    frames.push_back(
        json{{"direction", f.outbound ? "out" : "in"}, {"hex", f.hex}, {"note", f.note}});
  }
  return json{{"metering_point_id", r.metering_point_id},
              {"terminal_id", r.terminal_id},
              {"terminal_address", r.terminal_address},
              {"point_no", r.point_no},
              {"via", r.via},
              {"read_at", FormatUtc(r.read_at_us)},
              {"values", std::move(values)},
              {"errors", r.errors},
              {"frames", std::move(frames)}};
}

json ToJson(const fep::TerminalState& s) {
  return json{{"terminal_address", gdw1376::ToString(s.key)},
              {"online", s.online},
              {"peer", s.peer},
              {"login_at", s.login_at_us ? json(FormatUtc(s.login_at_us)) : json(nullptr)},
              {"last_seen", s.last_seen_us ? json(FormatUtc(s.last_seen_us)) : json(nullptr)},
              {"frames_in", s.frames_in},
              {"frames_out", s.frames_out},
              {"bad_frames", s.bad_frames},
              {"queued_requests", s.queued_requests}};
}

json ToJson(const fep::FrontEndStats& s) {
  return json{{"connections_open", s.connections_open},
              {"terminals_online", s.terminals_online},
              {"connections_accepted", s.connections_accepted},
              {"logins", s.logins},
              {"refused_unknown", s.refused_unknown},
              {"frames_in", s.frames_in},
              {"frames_out", s.frames_out},
              {"bytes_in", s.bytes_in},
              {"bytes_out", s.bytes_out},
              {"bad_frames", s.bad_frames},
              {"rate_limited", s.rate_limited},
              {"requests", s.requests},
              {"request_timeouts", s.request_timeouts},
              {"request_retries", s.request_retries},
              {"denied", s.denied},
              {"reports", s.reports}};
}

}  // namespace gridmis::acquisition
