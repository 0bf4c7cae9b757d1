// Ingestion (数据入库): what the terminal front end hands over — logins and logouts, active
// reports, event counters — and what collection reads, decoded and stored.
//
//   front end (I/O threads)  ──IsKnown──▶ registry snapshot (memory; refreshed in the background)
//                            ──OnOnline/OnOffline/OnReport/OnEventCounter──▶ queue
//   writer thread: queue ──▶ one write transaction per batch: terminal_status, reported daily
//                  frozen / monthly frozen / curves (with VEE), events (AFN0E read through the
//                  front end when the terminal's EC1 changed)
//   collection (collection.h): replies ──Decode*──▶ DecodedData ──StoreDecoded──▶ tables
//
// Register conventions (reading/billable.h): a 1376.1 daily freeze with Td_d = D (frozen at
// 24:00 of D) is stored as reading::DailyFrozen with day = D + 1; registers total, sharp, peak,
// flat, valley (rates 1..4 of M = 4), as the meter shows them with the installed meter's
// multiplier beside them. Missing data (EEH) is never a number: a rate that is EEH is left out
// of the row, a row without its total is not stored, a curve value that is EEH is missing.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "acquisition/fep/front_end.h"
#include "acquisition/protocol/gdw1376.h"
#include "acquisition/readings.h"
#include "core/status.h"
#include "core/time.h"
#include "reading/billable.h"
#include "store/db.h"

namespace gridmis::acquisition {

namespace vee {
class VeeService;
struct ClockReading;
}  // namespace vee

using gdw1376::TerminalKey;

// ---- The registry snapshot ----

// A measurement point (Pn) of a terminal whose meter is installed at a metering point.
struct RegistryPoint {
  uint16_t pn = 0;
  int64_t meter_id = 0;
  int64_t metering_point_id = 0;
  int64_t multiplier = 1;  // of the installation (as on the meter when not overridden)
  bool billing = false;    // the point's purpose is billing and it is active
};

struct RegistryTerminal {
  int64_t id = 0;
  TerminalKey key;
  std::string asset_no;
  std::string kind;  // public_transformer, special_transformer, large_customer, substation
  int64_t department_id = 0;
  bool installed = false;             // status installed: the front end accepts its login
  std::vector<RegistryPoint> points;  // by pn; meters without an installation are left out
  int64_t unmapped_meters = 0;        // meters behind it that are not installed at a point

  const RegistryPoint* FindPoint(uint16_t pn) const;
  const RegistryPoint* FindMeteringPoint(int64_t metering_point_id) const;
};

// An immutable snapshot of the terminal registry. Thread-safe (const).
class Registry {
 public:
  // Every terminal with its points, in one query.
  static Result<std::shared_ptr<const Registry>> Load(store::Connection& c);
  // A cheap fingerprint of the tables the snapshot is built from (row counts and the latest
  // update of terminals, terminal_meters, meters, meter_installations, metering_points): the
  // snapshot is reloaded only when it changes.
  static Result<std::string> Fingerprint(store::Connection& c);

  const RegistryTerminal* Find(TerminalKey k) const;
  const RegistryTerminal* FindById(int64_t terminal_id) const;
  const std::vector<RegistryTerminal>& terminals() const { return terminals_; }  // by id
  int64_t point_count() const { return point_count_; }
  const std::string& fingerprint() const { return fingerprint_; }

 private:
  std::vector<RegistryTerminal> terminals_;
  std::unordered_map<uint32_t, size_t> by_key_;
  std::unordered_map<int64_t, size_t> by_id_;
  int64_t point_count_ = 0;
  std::string fingerprint_;
};

// The terminal key of a registry row: A1 "3201" → 3201; nullopt unless 4 digits and A2 in
// 1..65535.
std::optional<TerminalKey> KeyOf(std::string_view area_code, int64_t address);

// ---- Decoding replies and reports (pure) ----

struct DecodedData {
  std::vector<reading::DailyFrozen> daily;
  std::vector<MonthlyFrozen> monthly;
  std::vector<Curve> curves;
  std::set<uint16_t> collected;     // pns complete: a row with its total; a curve with every value
  int64_t missing_values = 0;       // EEH values (rates, curve points) not stored
  int64_t missing_points = 0;       // items without a total (or a curve without any value)
  int64_t unknown_points = 0;       // items of a pn the registry does not map
  int64_t other_period = 0;         // items of another day or month than the one asked for
  std::vector<std::string> errors;  // items that did not decode: "pn 3 F161: offset 5: ..."

  bool empty() const { return daily.empty() && monthly.empty() && curves.empty(); }
  void Merge(DecodedData other);
};

// AFN0D F161 items (daily frozen forward active indications) of `frames`: Td_d = D gives a row
// with day D + 1. `expect` (the Td_d asked for): items of other days are skipped and counted.
DecodedData DecodeDailyFrozen(const RegistryTerminal& t, const std::vector<gdw1376::Frame>& frames,
                              std::optional<Date> expect = std::nullopt);
// AFN0D F177 items (monthly frozen forward active indications), month = Td_m.
DecodedData DecodeMonthlyFrozen(const RegistryTerminal& t,
                                const std::vector<gdw1376::Frame>& frames,
                                std::optional<YearMonth> expect = std::nullopt);
// AFN0D curve items of one local day: F101 (forward active indication curve, A.11) gives the
// interval energies as differences of successive points (a day of 15-minute intervals needs
// the 97 points 00:00 .. 24:00; an interval without both ends is missing; a negative
// difference is kept, flagged suspect); F97 (forward active energy quantity, A.13) gives them
// directly, point k being the energy of the interval ENDING at start + k × interval (a day is
// the 96 points 00:15 .. 24:00). Intervals outside the day `expect` (or the day of the curve's
// start when not given) are ignored. A curve with every interval is "collected"; one with some
// is stored (missing intervals flagged 'M') and counted in missing_values.
DecodedData DecodeCurves(const RegistryTerminal& t, const std::vector<gdw1376::Frame>& frames,
                         std::optional<Date> expect = std::nullopt);

// The instant of a terminal's local minute time (A.15) in the utility's zone; nullopt when the
// fields are not a valid date and time.
std::optional<int64_t> LocalMinuteToUs(const gdw1376::MinuteTime& t, const TimeZone& tz);

struct DecodedEvents {
  std::vector<MeterEvent> events;
  std::optional<uint8_t> ec1;  // the terminal's important-event counter in the reply
  std::vector<std::string> errors;
};
// AFN0E F1/F2 items (event blocks) of `frames` → events: ERC14 gives power_off at its time and,
// when restored, power_on at its end time; a record without a time is stamped `received_at_us`.
// The record's pn (when it names one the registry maps) gives the metering point.
DecodedEvents DecodeEventReplies(const RegistryTerminal& t,
                                 const std::vector<gdw1376::Frame>& frames, const TimeZone& tz,
                                 int64_t received_at_us);

// ---- The ingestor ----

struct IngestorOptions {
  // How often the registry fingerprint is checked (and the snapshot reloaded when it changed).
  std::chrono::milliseconds registry_refresh{30'000};
  // An unknown login triggers a check at most this often (a terminal just registered).
  std::chrono::milliseconds unknown_refresh{5'000};
  // The writer takes what arrived in this time as one batch (one transaction).
  std::chrono::milliseconds write_interval{200};
  // Queued items beyond this are dropped (and counted): the front end never waits for us.
  size_t max_queue = 200'000;
  // Last-seen times of online terminals are copied from the front end this often.
  std::chrono::milliseconds last_seen_interval{60'000};
  // On Start, terminals left online by an earlier process are marked offline.
  bool mark_offline_on_start = true;
  // The AFN0E reads started by an event counter change.
  fep::RequestOptions event_request;
  // Validation run in the same write transaction as the rows it checks; null = none. (Not
  // owned; must outlive the ingestor.)
  vee::VeeService* vee = nullptr;
};

struct IngestorStats {
  uint64_t registry_loads = 0;
  uint64_t status_changes = 0;
  uint64_t unknown_terminals = 0;  // front-end calls for keys not in the snapshot
  uint64_t reports = 0;            // active report frames
  uint64_t report_rows = 0;        // rows stored from them
  uint64_t event_reads = 0;        // AFN0E reads sent
  uint64_t event_read_failures = 0;
  uint64_t events_stored = 0;  // new events
  uint64_t dropped = 0;        // queue full
  uint64_t write_batches = 0;
  uint64_t write_errors = 0;
  std::string last_error;
};

// Implements fep::Listener: the callbacks only look at the registry snapshot and queue; every
// database write happens on the writer thread. Thread-safe.
class Ingestor final : public fep::Listener {
 public:
  Ingestor(store::Database& db, const Clock& clock, const TimeZone& tz,
           IngestorOptions options = {});
  ~Ingestor() override;  // Stop()s
  Ingestor(const Ingestor&) = delete;
  Ingestor& operator=(const Ingestor&) = delete;

  // Loads the registry (an error if it cannot) and starts the refresher and writer threads.
  Status Start();
  // Writes what is queued, stops the threads. Idempotent.
  void Stop();

  // The front end event reads (and collection) go through; null detaches. Not owned: detach
  // before the front end is destroyed.
  void AttachFrontEnd(fep::FrontEnd* front_end);
  fep::FrontEnd* front_end() const;

  // Reloads the snapshot now when the fingerprint changed (or always with `force`).
  Status RefreshRegistry(bool force = false);
  // The current snapshot (empty before the first load).
  std::shared_ptr<const Registry> registry() const;

  // Waits until everything queued before the call is written and the event reads it started
  // are answered and stored; false on timeout. For tests, the CLI and shutdown.
  bool Flush(std::chrono::milliseconds timeout);
  IngestorStats Stats() const;

  // Stores decoded rows in the caller's write transaction (daily frozen through
  // reading::StoreDailyFrozen, monthly frozen, curves), then runs the VEE checks on them.
  Status StoreDecoded(store::Connection& c, const DecodedData& d);
  // Terminal (or meter) clock readings, for VEE's clock-drift rule (nothing without VEE).
  Status StoreClockReadings(store::Connection& c, const std::vector<vee::ClockReading>& readings);

  // fep::Listener (I/O threads; never blocks on the database).
  bool IsKnown(TerminalKey k) override;
  void OnOnline(TerminalKey k, const std::string& peer, int64_t at_us) override;
  void OnOffline(TerminalKey k, const std::string& reason, int64_t at_us) override;
  void OnReport(TerminalKey k, const gdw1376::Frame& f, int64_t at_us) override;
  void OnEventCounter(TerminalKey k, gdw1376::EventCounter ec, int64_t at_us) override;

 private:
  struct Work {
    enum class Kind { kOnline, kOffline, kSeen, kReport, kEventCounter, kEventReply } kind;
    TerminalKey key;
    std::string text;  // peer, reason, or the failure of an event read
    int64_t at_us = 0;
    gdw1376::EventCounter ec;
    std::vector<gdw1376::Frame> frames;  // the report; the event read's replies
    bool ok = true;                      // kEventReply: the read succeeded
    uint64_t seq = 0;
  };

  void Enqueue(Work w);
  void WriterLoop();
  void RefresherLoop();
  // Processes one batch on the writer thread.
  void ProcessBatch(std::vector<Work> batch);
  void StartEventRead(const RegistryTerminal& t, uint8_t from, uint8_t to);
  void NoteError(const Status& s);

  store::Database& db_;
  const Clock& clock_;
  const TimeZone& tz_;
  IngestorOptions options_;

  mutable std::mutex registry_mu_;
  std::shared_ptr<const Registry> registry_;  // guarded by registry_mu_
  std::mutex refresh_mu_;                     // serialises reloads

  mutable std::mutex mu_;
  std::condition_variable cv_;           // work queued or stopping (guarded by mu_)
  std::condition_variable done_cv_;      // a batch was written (guarded by mu_)
  std::condition_variable refresh_cv_;   // a reload is wanted or stopping (guarded by mu_)
  std::deque<Work> queue_;               // guarded by mu_
  uint64_t enqueued_seq_ = 0;            // guarded by mu_
  uint64_t written_seq_ = 0;             // guarded by mu_
  int pending_event_reads_ = 0;          // guarded by mu_
  bool stopping_ = false;                // guarded by mu_
  bool started_ = false;                 // guarded by mu_
  bool refresh_wanted_ = false;          // guarded by mu_
  int64_t last_unknown_refresh_us_ = 0;  // guarded by mu_ (steady clock)
  fep::FrontEnd* front_end_ = nullptr;   // guarded by mu_
  IngestorStats stats_;                  // guarded by mu_

  // Writer thread only: EC1 up to which each terminal's events were read; reads in flight.
  std::map<int64_t, int> event_counter_;
  std::set<int64_t> reading_events_;

  // Callbacks of event reads hold this, not `this`: the ingestor may go before the front end.
  struct Alive {
    std::mutex mu;
    Ingestor* self = nullptr;  // guarded by mu
  };
  std::shared_ptr<Alive> alive_;

  std::thread writer_;
  std::thread refresher_;
};

}  // namespace gridmis::acquisition
