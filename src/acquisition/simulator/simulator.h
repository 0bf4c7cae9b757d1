// A fleet of simulated field terminals (`gridmis simulate`, tests, load and demos): each a TCP
// client speaking Q/GDW 1376.1 to a front end the way real terminals do — login, heartbeats,
// logout; answers to class-1 (AFN0C F2, F25, F33, F129), class-2 (AFN0D F161..F163 daily
// frozen, F177 monthly frozen, F101 / F97 curves) and configuration/parameter reads (AFN09 F1,
// AFN0A F1/F10); control commands carried out (AFN05 F1 trip, F2 permit close, F9..F16 /
// F17..F24 power control, F26/F34 urge-fee alarm, F31 time sync) with an AFN00 confirm and an
// ERC5 event; AFN10 F1 forwarding answered with DL/T 645 from the meter behind; event reports
// (ERC14 power off/on) through ACD/EC and AFN0E.
//
// Meter registers are a pure function of (seed, meter number, instant): they advance plausibly
// (a daily load profile, weekday/weekend, the time-of-use periods of each register), never go
// backwards, and are the same across days and restarts, so a test can compute what the master
// should have stored (see MeterModel).
//
// Faults are knobs: dropped connections, corrupt frames, missing data (EEH), clock drift,
// terminals offline for whole days.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "acquisition/protocol/gdw1376.h"
#include "core/money.h"
#include "core/status.h"
#include "core/time.h"

namespace gridmis::acquisition::simulator {

// The four kinds of terminal (采集终端): a concentrator has many meters (Pn 1..2040), the others
// a few.
enum class TerminalKind { kPublicTransformer, kSpecialTransformer, kLargeCustomer, kSubstation };
const char* KindName(TerminalKind k);  // public_transformer, ...

struct SimMeter {
  uint16_t pn = 1;
  std::string meter_address;  // 12 digits (DL/T 645 address for AFN10 forwarding)
  uint64_t seed = 0;          // decides the meter's size and profile
  int64_t mean_daily_dwh = 0;  // 0: from the seed (residential 2..20 kWh/day; ×kind factor)
};

struct SimTerminal {
  gdw1376::TerminalKey key;
  TerminalKind kind = TerminalKind::kPublicTransformer;
  std::vector<SimMeter> meters;
};

// Deterministic register values.
class MeterModel {
 public:
  // `tz`: business time zone of TOU periods and the daily profile.
  MeterModel(const SimMeter& m, TerminalKind kind, const TimeZone* tz);
  // Forward active registers at an instant: total, sharp, peak, flat, valley (M = 4); total
  // equals the sum of the rates exactly. Whole 0.0001 kWh.
  std::vector<Energy> RegistersAt(int64_t at_us) const;
  // Registers frozen at 00:00 of `day` (= the daily frozen value of day - 1 in 1376.1 terms).
  std::vector<Energy> FrozenAt(Date day) const;
  // Reverse active / reactive registers (small, for F162/F163).
  std::vector<Energy> ReverseAt(int64_t at_us) const;
};

struct FaultOptions {
  double drop_per_hour = 0;       // chance a connection drops in an hour (then reconnects)
  double corrupt_frames = 0;      // fraction of outgoing frames with a flipped byte
  double missing_data = 0;        // fraction of (pn, Fn) answered with EEH
  int clock_drift_seconds = 0;    // terminal/meter clocks off by this much (AFN0C F2, ERC12)
  double offline_fraction = 0;    // fraction of terminals that never connect
  int offline_days = 0;           // those terminals have no frozen data for this many days back
  double silent_requests = 0;     // fraction of requests left unanswered (time-outs)
};

struct FleetOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::vector<SimTerminal> terminals;
  int heartbeat_seconds = 60;
  int connect_per_second = 2000;  // ramp-up
  int io_threads = 1;
  uint64_t seed = 1;
  FaultOptions faults;
  int history_days = 62;  // days of frozen data a terminal keeps (older: no data)
  const TimeZone* time_zone = nullptr;  // nullptr: Asia/Shanghai
  std::string password;  // expected PW for control (empty: any)
};

struct FleetStats {
  uint64_t connected = 0, logins_confirmed = 0, reconnects = 0;
  uint64_t requests = 0, replies = 0, denied = 0, unanswered = 0;
  uint64_t commands_executed = 0, corrupt_sent = 0;
  uint64_t bad_frames_received = 0;
};

// Synthetic fleets: `terminals` terminals (kinds in the proportions of a county: mostly
// concentrators) with `meters_per_terminal` meters each, A1 = area, A2 from first_address.
std::vector<SimTerminal> MakeFleet(int terminals, int meters_per_terminal, uint16_t area = 3201,
                                   uint16_t first_address = 1, uint64_t seed = 1);

class Fleet {
 public:
  Fleet(FleetOptions options, const Clock& clock);
  ~Fleet();  // Stop()s
  Fleet(const Fleet&) = delete;
  Fleet& operator=(const Fleet&) = delete;

  Status Start();  // starts the I/O threads and the connect ramp
  void Stop();     // logs out and closes every terminal; idempotent
  // Waits until `n` terminals are logged in (confirmed), or the timeout.
  Status WaitForLogins(size_t n, std::chrono::milliseconds timeout);
  FleetStats Stats() const;
  // Relay state of a meter after control commands (true = closed, power on).
  std::optional<bool> RelayClosed(gdw1376::TerminalKey k, uint16_t pn) const;
  // Makes a terminal report an event (ERC14 power off) through ACD and AFN0E.
  void RaisePowerOff(gdw1376::TerminalKey k);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gridmis::acquisition::simulator
