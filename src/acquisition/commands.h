// Commands to terminals (远程控制): a queue of time sync, remote trip and permit close,
// power-control enable and release and urge-fee alarm commands with their states, who issued
// them and the answer; the bridge that carries out the prepaid control requests of
// accounts/prepaid.h; on-demand reads (召测); and the front end's live state for the routes.
//
// A command is sent one of two ways (`via`):
//   afn05      Q/GDW 1376.1 AFN05 to the terminal: F1 trip / F2 permit close of a control round
//              (Pn = round 1..8), F9..F16 power control enable / F17..F24 release (Pn = total-add
//              group), F26 / F34 urge-fee alarm on / off, F31 time sync (A.1, the clock in the
//              utility's zone when sent); with the PW of the options.
//   afn10_645  AFN10 F1 transparent forwarding of a DL/T 645-2007 control frame (1C: 1A trip,
//              1B permit close, 2A / 2B alarm on / off) to a meter behind a concentrator, on the
//              port and baud rate of its terminal_meters row.
// Default: afn10_645 for a metering point read by a public transformer terminal (concentrator),
// afn05 otherwise.
//
// States:  pending → sent → confirmed (AFN00 F1, per-unit confirm without error, or the meter's
//                              normal 1C reply 9C)
//                         → denied    (AFN00 F2 / per-unit ERR, or the meter's abnormal DC reply
//                                      with its ERR byte in words)
//                         → timed_out (no answer after the front end's retries, or the meter did
//                                      not answer the terminal)
//                         → failed    (an answer that is not one: wrong AFN, undecodable 645)
//                         → pending   (the terminal went offline, or the front end stopped, before
//                                      an answer: it is sent again)
//          pending → timed_out (still not sent at expires_at: the terminal stayed offline)
//          pending → cancelled (Cancel)
// A command left `sent` by a process that stopped is timed_out after options.sent_stale_after
// (whether the terminal acted is unknown; the answer says so).
//
// Scope: a command belongs to its terminal's department (outside the actor's data scope:
// NotFound). Issue and Cancel need acquisition.command and are audited in their transaction;
// List and Get acquisition.read; ReadNow acquisition.collect; the front-end views
// acquisition.read. Thread-safe.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "acquisition/fep/front_end.h"
#include "core/status.h"
#include "core/time.h"
#include "org/actor.h"
#include "store/db.h"

namespace gridmis::accounts {
class PrepaidService;
}

namespace gridmis::acquisition {

// time_sync, trip, permit_close, power_control_enable, power_control_release, urge_alarm_on,
// urge_alarm_off.
const std::vector<std::string_view>& CommandKinds();
// pending, sent, confirmed, denied, timed_out, failed, cancelled.
const std::vector<std::string_view>& CommandStatuses();
// The power controls of AFN05 (enable Fn / release Fn): period (时段功控, F9/F17), rest_day
// (厂休功控, F10/F18), business_stop (营业报停功控, F11/F19), power_down (当前功率下浮控,
// F12/F20), monthly_energy (月电控, F15/F23), purchase_energy (购电控, F16/F24).
const std::vector<std::string_view>& PowerControls();

// Parameters by kind; fields a kind does not use must be absent.
struct CommandParams {
  // trip, permit_close (afn05): the control round, 1..8 (default 1).
  std::optional<int> round;
  // trip (afn05): 限电时间 0..15 half-hours (0: until permit close) and 告警延时 0..15 minutes
  // (0: trip at once); default 0.
  std::optional<int> limit_half_hours;
  std::optional<int> alarm_delay_minutes;
  // power_control_enable / _release: which control (PowerControls()) and the total-add group
  // (总加组) 1..8 (default 1).
  std::optional<std::string> control;
  std::optional<int> total_group;
  // power_control_enable period (F9): the periods enabled (bit map, default 255) and the
  // setting scheme 0..2 (default 0).
  std::optional<int> period_flags;
  std::optional<int> scheme;
  // power_control_enable power_down (F12): slip time 1..255 min (default 5), float coefficient
  // -79..79 % (default 0), freeze delay 0..255 min (default 1), control time 1..255 half-hours
  // (default 2), alarm time of rounds 1..4, 0..255 min each (default 0).
  std::optional<int> slip_minutes;
  std::optional<int> float_percent;
  std::optional<int> freeze_delay_minutes;
  std::optional<int> control_half_hours;
  std::optional<std::vector<int>> alarm_minutes;
};

struct CommandInput {
  // One of them at least. With only a metering point, the terminal that reads its installed
  // meter; with both, they must match.
  std::optional<int64_t> terminal_id;
  std::optional<int64_t> metering_point_id;
  std::string kind;
  std::optional<std::string> via;  // afn05, afn10_645; default as described above
  CommandParams params;
  // Why (kept with the command and in the audit row): required when a person issues a trip or
  // power control; the prepaid bridge gives the control request's reason.
  std::string reason;
};

struct Command {
  int64_t id = 0;
  int64_t terminal_id = 0;
  std::string terminal_address;  // "3201-04660" (read-only)
  std::string terminal_kind;     // read-only
  std::optional<int64_t> metering_point_id;
  std::optional<std::string> point_code;  // read-only
  // afn05 trip / permit close: the control round; power control: the total-add group; afn10_645:
  // the meter's Pn on the terminal; empty for terminal-wide commands.
  std::optional<int64_t> point_no;
  std::optional<std::string> meter_address;  // afn10_645: DL/T 645 address, 12 digits
  std::optional<int64_t> port;               // afn10_645: terminal port of the meter
  std::optional<int64_t> baud_rate;          // afn10_645
  int64_t department_id = 0;
  std::string kind;
  std::string params_json = "{}";  // the normalised CommandParams
  std::string reason;
  std::string via;
  std::string status;
  int64_t attempts = 0;  // frames sent to the terminal, front-end retries included
  // The request as built (the front end sets the SEQ number and Tp on the wire; the comm log
  // has the exact bytes), the answer frame and the answer in words.
  std::optional<std::string> request_hex;
  std::optional<std::string> answer_hex;
  std::optional<std::string> answer_text;
  std::optional<int64_t> control_request_id;  // the prepaid control request carried out
  std::optional<int64_t> issued_by;           // user id; empty for the system
  std::string issued_by_name;
  int64_t created_at_us = 0;
  int64_t expires_at_us = 0;
  std::optional<int64_t> sent_at_us;
  std::optional<int64_t> completed_at_us;
  int64_t updated_at_us = 0;
  int64_t version = 0;
};

struct CommandQuery {
  std::optional<int64_t> terminal_id;
  std::optional<int64_t> metering_point_id;
  std::optional<int64_t> department_id;  // that department and below
  std::optional<int64_t> control_request_id;
  std::string status;
  std::string kind;
  int page = 1;
  int page_size = 20;  // 1..200
};

// ---- On-demand reads (召测) ----

// energy: current forward active registers (AFN0C F129) and the F33 set (forward active and
//         reactive, Q1, Q4); through 645: DI 00010000 and the rate block 0001FF00.
// power:  AFN0C F25 (P, Q, power factor, U, I, S); through 645: 02030000 active power, 0201FF00
//         voltages, 0202FF00 currents, 02060000 power factor.
// clock:  the terminal's clock AFN0C F2; through 645 the meter's date 04000101 and time 04000102.
const std::vector<std::string_view>& ReadItems();

struct ReadNowRequest {
  int64_t metering_point_id = 0;
  std::vector<std::string> items;  // ReadItems(); default {"energy"}
  std::string via = "terminal";    // terminal (AFN0C, the terminal's data) or afn10_645 (the meter)
};

struct ReadValue {
  std::string item;    // energy, power, clock
  std::string source;  // "AFN0C F129", "645 00010000"
  std::string name;    // fwd_active_total, fwd_active_sharp, voltage_a, clock, reading_time ...
  std::optional<std::string> value;  // exact decimal text ("12345.6789"); empty: no data (EEH)
  std::string unit;                  // kWh, kvarh, kW, V, A, %, kVA, "" for times
};

struct FrameRecord {
  bool outbound = true;
  std::string hex;
  std::string note;  // "AFN0C F129 request", "reply", "645 read 00010000 (inside AFN10 F1)"
};

struct ReadNowResult {
  int64_t metering_point_id = 0;
  int64_t terminal_id = 0;
  std::string terminal_address;
  int64_t point_no = 0;
  std::string via;
  int64_t read_at_us = 0;
  std::vector<ReadValue> values;
  std::vector<std::string> errors;  // per item: "power: the terminal denied the read (AFN00 F2)"
  std::vector<FrameRecord> frames;  // in order
};

struct CommandOptions {
  // PW of AFN05 and AFN10 downlinks: 32 hex digits ("" = 16 × 00, as test terminals accept).
  std::string password_hex;
  // A command not sent by then (terminal offline) is timed_out.
  std::chrono::minutes expiry{24 * 60};
  // A command `sent` longer than this without an answer recorded here is timed_out.
  std::chrono::minutes sent_stale_after{10};
  // The front end's per-attempt time-out and retries for commands (empty: its defaults); the
  // AFN10 frame time-out given to the terminal for the meter's answer.
  std::optional<std::chrono::milliseconds> request_timeout;
  std::optional<int> retries;
  std::chrono::seconds forward_frame_timeout{10};
  // DL/T 645 1C: password level and password, operator code, and how long the command is valid
  // (N3..N8 = now + this, in the utility's zone).
  uint8_t meter_password_level = 0x02;
  uint32_t meter_password = 0;
  uint32_t meter_operator = 0;
  std::chrono::minutes meter_command_validity{10};
  // The control round an AFN05 trip / permit close of a prepaid request uses (special
  // transformer and large customer terminals).
  int prepaid_control_round = 1;
  // Dispatcher: commands in flight at once, how often it looks for work, and whether
  // AttachFrontEnd starts its thread (tests drive it with RunOnceForTest instead).
  size_t max_in_flight = 256;
  std::chrono::milliseconds poll_interval{1000};
  bool dispatcher_thread = true;
  // On-demand reads: the time-out of each request (no retries).
  std::chrono::milliseconds read_timeout{15'000};
};

class CommandService {
 public:
  // `prepaid` (may be null: no bridge) must outlive the service. InvalidArgument naming
  // password_hex when it is not 32 hex digits.
  static Result<std::unique_ptr<CommandService>> Create(store::Database& db, const Clock& clock,
                                                        const TimeZone& zone,
                                                        accounts::PrepaidService* prepaid,
                                                        CommandOptions options = {});
  ~CommandService();  // StopDispatcher()
  CommandService(const CommandService&) = delete;
  CommandService& operator=(const CommandService&) = delete;

  // ---- The queue ----
  Result<Command> Issue(const org::Actor& actor, const CommandInput& in);
  Result<std::vector<Command>> List(const org::Actor& actor, const CommandQuery& q,
                                    int64_t* total);  // newest first
  Result<Command> Get(const org::Actor& actor, int64_t id);
  // Pending only (FailedPrecondition otherwise); `version` must be current (Aborted).
  Result<Command> Cancel(const org::Actor& actor, int64_t id, int64_t version);

  // ---- The dispatcher ----
  // Sets the front end commands and reads go through (nullptr: none) and, unless
  // options.dispatcher_thread is false, starts the dispatcher thread (once). The front end
  // must outlive the service or be detached first (AttachFrontEnd(nullptr) stops the thread).
  // Stop the front end before the service: its cancelled requests are then recorded.
  void AttachFrontEnd(fep::FrontEnd* front_end);
  // Stops the dispatcher thread (records the answers already in); idempotent.
  void StopDispatcher();
  fep::FrontEnd* front_end() const;
  // One whole pass, waiting for every command it sent to be answered: pending control requests
  // become commands, expired and stale commands time out, pending commands to online terminals
  // are sent, answers are recorded and passed on to the control requests. Only without the
  // dispatcher thread.
  Status RunOnceForTest();

  // ---- On-demand reads ----
  // Synchronous (up to options.read_timeout per request). Unavailable when no front end runs
  // here or the terminal is offline. Not stored anywhere.
  Result<ReadNowResult> ReadNow(const org::Actor& actor, const ReadNowRequest& request);

  // ---- The front end's live state (Unavailable when none runs in this process) ----
  // The terminal must be visible (NotFound). Newest first; before_seq 0 = from the newest.
  Result<std::vector<fep::CommLogEntry>> CommLog(const org::Actor& actor, int64_t terminal_id,
                                                 size_t limit, uint64_t before_seq);
  // The live link state (online, peer, counters); offline terminals have online = false.
  Result<fep::TerminalState> LinkState(const org::Actor& actor, int64_t terminal_id);
  Result<fep::FrontEndStats> FrontEndStats(const org::Actor& actor);

 private:
  struct Impl;
  explicit CommandService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

nlohmann::json ToJson(const Command& c);
nlohmann::json ToJson(const ReadNowResult& r);
nlohmann::json ToJson(const fep::TerminalState& s);
nlohmann::json ToJson(const fep::FrontEndStats& s);

}  // namespace gridmis::acquisition
