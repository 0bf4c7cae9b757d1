// Collected data the acquisition system stores beside reading/'s daily frozen registers:
// interval curves (96 points a day), monthly frozen registers, meter and terminal events, and
// terminals' online state.
//
// CONTRACT between ingest (owner: writes) and vee, routes, analytics (readers). Daily frozen
// registers are not here: they are reading::DailyFrozen, written with reading::StoreDailyFrozen.
//
// Every function runs on a connection the caller holds (a Database::Read or Write); none opens a
// transaction of its own. Inputs are validated before anything is written: an error names the
// row (point, day) and the field, and the caller's transaction should then roll back.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/money.h"
#include "core/status.h"
#include "core/time.h"
#include "store/db.h"

namespace gridmis::acquisition {

// Quality of one collected value (a flag on every value).
enum class Quality : char {
  kValid = 'V',      // collected, passed validation
  kSuspect = 'S',    // collected, failed a validation rule (see vee_issues)
  kEstimated = 'E',  // filled by estimation
  kEdited = 'D',     // edited by a person (audited)
  kMissing = 'M',    // not collected (EEH or no answer) and not estimated
};
const char* QualityName(Quality q);  // valid, suspect, estimated, edited, missing
// The Quality of a flag character; nullopt for any other character.
std::optional<Quality> QualityFromChar(char c);

// yyyymmdd, the day key of the tables below (as reading/ keys daily_frozen_reads).
int64_t DayKey(Date d);
Date DayFromKey(int64_t key);

// ---- Curves (负荷曲线) ----

// One metering point's curve of one quantity for one local day: `values.size()` = 1440 /
// interval_minutes (96 at 15 min), value i covers [i × interval, (i+1) × interval).
// fwd_active_energy: the energy (kWh, 4 decimals) used in each interval; derived from an
// indication curve (F101) as differences of successive points, or collected directly (F97).
struct Curve {
  int64_t metering_point_id = 0;
  Date day;
  std::string quantity = "fwd_active_energy";
  int interval_minutes = 15;
  int64_t multiplier = 1;                     // applied to nothing stored: values are the meter's
  std::vector<std::optional<Energy>> values;  // nullopt = missing
  std::string quality;                        // one Quality char per value
};

// Quantities a curve may hold (fwd_active_energy only, for now).
bool IsKnownCurveQuantity(std::string_view quantity);

// Upsert by (point, day, quantity); the whole day is replaced. Validates: a positive point id
// that exists, a known quantity, an interval of 1, 5, 15, 30 or 60 minutes, exactly 1440 /
// interval values, one quality char per value, a value missing exactly where its flag is 'M',
// no negative value unless flagged suspect ('S'), a multiplier of at least 1. Rows are written
// in multi-row statements (bulk).
Status StoreCurves(store::Connection& c, const std::vector<Curve>& curves);
// By point, then day. Days in the range without a stored curve are absent. At most 366 days.
Result<std::vector<Curve>> LoadCurves(store::Connection& c, const std::vector<int64_t>& point_ids,
                                      Date first_day, Date last_day,
                                      const std::string& quantity = "fwd_active_energy");

// ---- Monthly frozen registers (月冻结) ----

// One metering point's registers frozen at the end of `month` (24:00 of its last day = 00:00
// of the 1st of the next month), as the meter shows them: AFN0D F177 with Td_m = month.
struct MonthlyFrozen {
  int64_t metering_point_id = 0;
  YearMonth month;
  int64_t multiplier = 1;                   // the installed meter's 倍率
  std::map<std::string, Energy> registers;  // total, sharp, peak, flat, valley
  std::optional<int64_t> reading_time_us;   // the terminal's reading time (抄表时间)
  std::string quality = "valid";            // valid, estimated, edited
};

// Upsert by (point, month). Validates as reading::StoreDailyFrozen does (point exists, register
// names, non-negative values, a total).
Status StoreMonthlyFrozen(store::Connection& c, const std::vector<MonthlyFrozen>& rows,
                          int64_t now_us);
// By point, then month.
Result<std::vector<MonthlyFrozen>> LoadMonthlyFrozen(store::Connection& c,
                                                     const std::vector<int64_t>& point_ids,
                                                     YearMonth first, YearMonth last);

// ---- Events (事件) ----

// An event a terminal or meter reported (AFN0E ERC records, active reports).
struct MeterEvent {
  int64_t id = 0;
  int64_t terminal_id = 0;
  std::optional<int64_t> metering_point_id;  // when the record names a point
  int erc = 0;
  std::string kind;     // power_off, power_on, remote_trip, clock_drift, cover_open, ...
  std::string meaning;  // words
  int64_t occurred_at_us = 0;
  std::optional<int64_t> ended_at_us;
  std::string detail_json;  // the decoded record
  int64_t received_at_us = 0;
};

// The event kind of an ERC code ("erc_<n>" for codes without a name): 1 terminal_init,
// 2 parameter_loss, 3 parameter_change, 4 state_change, 5 remote_trip, 6 power_control_trip,
// 7 energy_control_trip, 8 meter_parameter_change, 9 current_circuit_fault,
// 10 voltage_circuit_fault, 11 phase_sequence_fault, 12 clock_drift, 13 meter_fault,
// 14 power_off (power_on for the restoration), 20 authentication_error, 21 terminal_fault,
// 31 meter_read_failure, 32 traffic_over_limit, 33 meter_status_change, 34 ct_fault,
// 35 unknown_meter, 37 cover_open, 38 terminal_cover_open.
std::string EventKindOfErc(int erc);

// Inserts the events not stored yet: an event is the same as a stored one when terminal, ERC,
// kind, occurrence time, point and detail are equal (reading a terminal's event records twice
// stores them once); for ERC14 the detail does not count, and a later report of the same
// power-off with its restoration time sets `ended_at_us` of the stored one. Sets `id` of the
// new ones (0 for known ones) and returns how many were new. Not safe against a concurrent
// insert of the same event (one writer: the ingestor's thread).
Result<int64_t> InsertEvents(store::Connection& c, std::vector<MeterEvent>* events);

struct EventQuery {
  std::optional<int64_t> terminal_id;
  std::optional<int64_t> metering_point_id;
  std::string kind;                                 // "" = any
  std::optional<int64_t> from_us;                   // occurred at or after
  std::optional<int64_t> to_us;                     // occurred before
  std::optional<std::vector<int64_t>> departments;  // the terminal's department in these
  int page = 1;
  int page_size = 50;
};
// Newest first (occurred_at, then id). `total` (when given) counts every match.
Result<std::vector<MeterEvent>> QueryEvents(store::Connection& c, const EventQuery& q,
                                            int64_t* total);

// ---- Terminal online state (在线状态) ----

struct TerminalStatus {
  int64_t terminal_id = 0;
  bool online = false;
  std::string peer;  // "10.1.2.3:50122" of the last login
  std::optional<int64_t> login_at_us;
  std::optional<int64_t> last_seen_us;
  std::optional<int64_t> offline_at_us;
  std::string offline_reason;  // "idle timeout", "logout", ...
  int64_t logins = 0;          // logins seen since the row was created
  // EC1 (important-event counter) up to which the terminal's events have been read.
  std::optional<int> event_counter;
  int64_t updated_at_us = 0;
};

// What the front end reported about a terminal, in the order it happened.
struct TerminalStatusChange {
  enum class Kind { kOnline, kOffline, kSeen };
  int64_t terminal_id = 0;
  Kind kind = Kind::kSeen;
  std::string peer;    // kOnline
  std::string reason;  // kOffline
  int64_t at_us = 0;
};

// Applies the changes in order (one upsert per terminal): online sets peer, login and last
// seen and counts the login; offline sets the time and reason unless it is older than the
// terminal's latest login (a replaced connection closing after the new login); seen advances
// last seen (and means online when later than the last offline). Unknown terminal ids are an
// error (the batch is rejected).
Status ApplyTerminalStatus(store::Connection& c, const std::vector<TerminalStatusChange>& changes,
                           int64_t now_us);
// Marks every online terminal offline with `reason` (the front end stopped or restarted).
Result<int64_t> MarkAllOffline(store::Connection& c, const std::string& reason, int64_t at_us);
// Records the EC1 up to which events were read.
Status SaveEventCounter(store::Connection& c, int64_t terminal_id, int event_counter,
                        int64_t now_us);
// The rows of these terminals (those without a row are absent), by terminal id.
Result<std::vector<TerminalStatus>> LoadTerminalStatus(store::Connection& c,
                                                       const std::vector<int64_t>& terminal_ids);

}  // namespace gridmis::acquisition
