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
//
// What a simulated terminal answers (the conventions a master can rely on):
//   - AFN0D F161/F162/F163 with Td_d = D: the registers frozen at 24:00 of D, i.e.
//     FrozenAt(D + 1) / ReactiveAt / ReverseAt at that instant, reading time 00:00 of D + 1.
//     No data (the DT bit cleared) for a D whose freeze is still in the future, older than
//     history_days, or inside an offline terminal's outage. F177 with Td_m = M: frozen at 24:00
//     of M's last day (FrozenAt(first day of the next month)), kept 12 months.
//   - Curves, Td_c = (start, density, n): point j at t_j = start + j × interval (local time).
//     F101 (indication, A.11): the total register at t_j, truncated to 0.01 kWh. F97 (energy
//     quantity, A.13): the energy of the interval ENDING at t_j, [t_j − interval, t_j) — so the
//     96 quantities of local day D are the points 00:15 .. 24:00 (request start D 00:15, n 96)
//     and they sum exactly to FrozenAt(D + 1)[0] − FrozenAt(D)[0]. Points not yet reached, or
//     outside the history, are EEH.
//   - AFN05 F1 trip / F2 permit close: Pn is the control round 1..8; the simulated terminal
//     wires round r to the supply of its measurement point r (RelayClosed(k, r)); a round with
//     no such point, a wrong PW (when FleetOptions::password is set) → AFN00 F2 deny. Several
//     units with mixed outcomes → AFN00 F3 per unit.
//   - AFN10 F1 to a meter (by its 12-digit address) with DL/T 645-2007: read (0x11) of the
//     energy DIs (00000000, 0001xx00, 0001FF00, 0002xx00, 00030000/00040000), 05060101/05060001
//     (last daily freeze), voltage/current/power/power factor/frequency, 04000101/04000102
//     (date/time, drifted), 04000401 (address), 1D000101/1E000101 (last trip/close); control
//     0x1C (trip / permit close change RelayClosed of that meter's Pn; alarm / keep power are
//     acknowledged); broadcast time 0x08 (no reply; sets the meters' clock). A meter that is
//     not behind the terminal does not answer (empty forward reply).
//   - The register model is not affected by the relay state (a tripped meter keeps counting:
//     registers stay a pure function of the instant).
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
// The inverse of KindName; InvalidArgument naming the text otherwise.
Result<TerminalKind> ParseKind(std::string_view name);

struct SimMeter {
  uint16_t pn = 1;
  std::string meter_address;  // 12 digits (DL/T 645 address for AFN10 forwarding)
  uint64_t seed = 0;          // decides the meter's size and profile
  // The customer's mean use per day (primary side). 0: from the seed — residential 2..20
  // kWh/day on a concentrator; 100..10,000 on special transformer / large customer terminals;
  // 1,000..20,000 on substation terminals.
  int64_t mean_daily_dwh = 0;
  // CT × PT ratio (倍率): the register counts primary energy / multiplier, as a CT-connected
  // meter does (the master multiplies back). 0: chosen from the size, the smallest usual ratio
  // that keeps the register below 40 kWh/day (1 for households). The register's mean is held
  // within 1..40 kWh/day whatever is given, so that 45 years fit in an A.14 register.
  int64_t multiplier = 0;
  // When set, the total register shows anchor_total at 00:00 of anchor_day (a real meter's
  // last known reading, e.g. the demo's), and runs on from there; 0 before it.
  std::optional<Date> anchor_day;
  Energy anchor_total;
};

struct SimTerminal {
  gdw1376::TerminalKey key;
  TerminalKind kind = TerminalKind::kPublicTransformer;
  std::vector<SimMeter> meters;
};

// Deterministic register values. Cheap to copy (no per-instant state); thread-compatible.
//
// Model: on local day d (days since 2015-01-01) the meter uses
//   mean × (1000 + weekday[d] + season[d]) / 1000 + noise(d + 1) − noise(d)
// where the weekday and season terms sum to zero over a week and a year, so the total register
// at the start of day d is a closed form, base + mean × X(d) / 1000 + noise(d), with no sum
// over history. The sharp/peak/flat registers are fixed shares (those of the kind's load
// profile under the TOU periods sharp 19–21, peak 8–11 & 18–19 & 21–23, flat 7–8 & 11–18,
// valley 23–7) of the total at day starts, valley the rest; within a day each rate's use is
// spread over its own 15-minute slots by the day's load profile (household / commercial /
// substation, weekday / weekend, summer / winter / other). Total = sum of the rates exactly,
// whole 0.0001 kWh; every register is non-decreasing in time.
class MeterModel {
 public:
  static constexpr int kRates = 4;  // M: sharp, peak, flat, valley

  // `tz`: business time zone of TOU periods and the daily profile (nullptr: Asia/Shanghai); it
  // must outlive the model.
  MeterModel(const SimMeter& m, TerminalKind kind, const TimeZone* tz);
  // Forward active registers at an instant: total, sharp, peak, flat, valley (M = 4); total
  // equals the sum of the rates exactly. Whole 0.0001 kWh.
  std::vector<Energy> RegistersAt(int64_t at_us) const;
  // Registers frozen at 00:00 of `day` (= the daily frozen value of day - 1 in 1376.1 terms).
  std::vector<Energy> FrozenAt(Date day) const;
  // Reverse active registers (small; for F163), total + 4 rates, total = sum.
  std::vector<Energy> ReverseAt(int64_t at_us) const;
  // Forward (combined 1) reactive registers in 0.0001 kvarh, whole 0.01 kvarh (A.11), total + 4
  // rates, total = sum (F162, F33).
  std::vector<Energy> ReactiveAt(int64_t at_us) const;
  // The total forward active register only (faster than RegistersAt(at)[0], same value).
  Energy TotalAt(int64_t at_us) const;
  // Mean active power over the 15-minute slot holding `at_us`, in watts (secondary side).
  int64_t PowerWatts(int64_t at_us) const;

  int64_t register_mean_daily_dwh() const { return mean_reg_; }  // after the multiplier
  int64_t multiplier() const { return multiplier_; }
  const TimeZone& time_zone() const { return *tz_; }

 private:
  struct DayState;
  void Day(int64_t at_us, DayState* s) const;
  int64_t TotalAtDayStart(int64_t day_index) const;
  int64_t RawTotalAtDayStart(int64_t day_index) const;  // without base_ and the 0 floor
  std::vector<Energy> Split(const DayState& s, int64_t at_us) const;

  const TimeZone* tz_;
  uint64_t seed_;
  int profile_class_;  // 0 household, 1 commercial/industrial, 2 substation
  int64_t mean_reg_;   // dWh per day on the register
  int64_t multiplier_;
  int64_t base_;  // dWh at the epoch
  int64_t noise_amplitude_;
  int32_t reactive_permille_;  // reactive / active
  int32_t reverse_ppm_;        // reverse / forward active
};

// DL/T 645 energy registers (XXXXXX.XX) and 1376.1 A.11 values carry 2 decimals: a simulated
// meter shows a model register truncated to 0.01 kWh.
Energy TruncateTo645(Energy e);

struct FaultOptions {
  double drop_per_hour = 0;     // expected connection drops per terminal-hour (reconnects)
  double corrupt_frames = 0;    // fraction of outgoing frames (not logins) with a flipped byte
  double missing_data = 0;      // fraction of (pn, Fn, time) answered with EEH (deterministic)
  int clock_drift_seconds = 0;  // terminal/meter clocks off by this much (AFN0C F2, ERC12)
  double offline_fraction = 0;  // fraction of terminals (chosen by the seed) that are offline
  // Those terminals have been down (no frozen data, no curve points after that instant) since
  // local midnight `offline_days` days before Start() (0: since Start()), and do not connect...
  int offline_days = 0;
  // ...until the fleet's clock reaches this instant (0: never during the run). After it they
  // connect and answer, with their outage missing from the data.
  int64_t offline_until_us = 0;
  double silent_requests = 0;  // fraction of requests left unanswered (time-outs)
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
  int history_days = 62;                // days of frozen data a terminal keeps (older: no data)
  const TimeZone* time_zone = nullptr;  // nullptr: Asia/Shanghai
  std::string password;  // expected PW for control (empty: any); 32 hex digits or ASCII (≤ 16)
  size_t max_reply_frame_bytes = 2048;  // a longer reply is sent as a multi-frame reply
  int login_retry_seconds = 10;         // a login not confirmed by then is sent again
};

struct FleetStats {
  uint64_t connected = 0, logins_confirmed = 0, reconnects = 0;
  uint64_t requests = 0, replies = 0, denied = 0, unanswered = 0;
  uint64_t commands_executed = 0, corrupt_sent = 0;
  uint64_t bad_frames_received = 0;
  // Additions: terminals logged in now (connected is the connections open now), frames and
  // bytes sent, active event reports sent, drops made by the fault knob.
  uint64_t logged_in = 0, frames_sent = 0, bytes_sent = 0, reports_sent = 0, drops = 0;
  uint64_t offline_terminals = 0;  // held back by the offline knob now
};

// Synthetic fleets: `terminals` terminals (kinds in the proportions of a county: mostly
// concentrators) with `meters_per_terminal` meters each, A1 = area, A2 from first_address.
// Meter addresses are unique in the fleet: 3 digits of the area, 5 of A2, 4 of Pn.
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
  // Relay state of a meter after control commands (true = closed, power on); nullopt for a
  // terminal or Pn the fleet does not have.
  std::optional<bool> RelayClosed(gdw1376::TerminalKey k, uint16_t pn) const;
  // Makes a terminal report an event (ERC14 power off, restored a minute later) through an
  // active AFN0E F1 report, ACD/EC on its next frames, and AFN0E reads. False for an unknown
  // terminal.
  bool RaisePowerOff(gdw1376::TerminalKey k);
  // Is the terminal logged in now?
  bool LoggedIn(gdw1376::TerminalKey k) const;
  // The terminal's clock offset now (fault drift, then changed by time syncs), in seconds.
  std::optional<int64_t> ClockOffsetSeconds(gdw1376::TerminalKey k) const;
  // The register model of a meter (tests compare collected values with it).
  std::optional<MeterModel> Model(gdw1376::TerminalKey k, uint16_t pn) const;
  // Is the terminal one the offline knob chose?
  bool IsOfflineTerminal(gdw1376::TerminalKey k) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gridmis::acquisition::simulator
