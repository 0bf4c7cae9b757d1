// Collection (数据采集): the job that reads every terminal's frozen registers, curves or events
// through the front end, the configurable tasks that schedule it, and the acquisition success
// statistics (采集成功率) built on its per-terminal results.
//
// A run (job kind "acquisition.collect", params {kind, day | month, department_id?,
// catch_up_days?, task_id?, terminal_ids?}) works through the installed terminals in its
// department and the starter's data scope, by terminal id, keeping `window` terminals in flight
// through fep::FrontEnd::Request (each terminal's points a few frames of many Pn each). Replies
// are decoded (ingest.h), stored in batches with a collection_results row per terminal and
// period and the job's checkpoint (the last terminal id below which everything is stored) in
// the same transaction: a run resumed after a crash continues from there, and a rerun writes the
// same rows again (upserts). A terminal the front end does not hold is recorded as failed at
// once ("not connected"), never waited for. Catch-up: a run for period P also retries the
// terminals whose result for one of the `catch_up_days` periods before P is failed or partial
// (only their missing points), and every terminal for such a period that has no results at all.
//
// Periods: daily_frozen and curve — `day` is the day whose registers are frozen at its end
// (Td_d; stored as reading::DailyFrozen of day + 1) or whose curve is read; monthly_frozen —
// `month` (Td_m); events — `day` is the day of the run. Result rows are keyed by that day (the
// 1st for a month).
//
// Success statistics count, per terminal and day, the active billing points behind installed
// terminals (expected) and those collected (a daily frozen row with its total), summed per
// department subtree, terminal kind or day.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "acquisition/fep/front_end.h"
#include "acquisition/ingest.h"
#include "acquisition/readings.h"
#include "core/status.h"
#include "core/time.h"
#include "org/actor.h"
#include "reading/billable.h"
#include "store/db.h"

namespace gridmis::jobs {
class JobRunner;
class JobContext;
struct Job;
struct JobKind;
}  // namespace gridmis::jobs

namespace gridmis::acquisition {

inline constexpr char kCollectJobKind[] = "acquisition.collect";

// daily_frozen, monthly_frozen, curve, events.
bool IsCollectionKind(std::string_view kind);

struct CollectionRequest {
  std::string kind = "daily_frozen";
  Date day;                              // daily_frozen, curve: the data day; events: the run day
  YearMonth month;                       // monthly_frozen
  std::optional<int64_t> department_id;  // that department and below (always within scope)
  int catch_up_days = 0;                 // 0..62 earlier periods retried
  std::optional<int64_t> task_id;        // the task that submitted it
  std::optional<std::vector<int64_t>> terminal_ids;  // only these terminals
};
// The job parameters and back. Parsing is strict (unknown fields, ranges).
nlohmann::json ToJson(const CollectionRequest& r);
Result<CollectionRequest> ParseCollectionRequest(const nlohmann::json& params);

struct CollectionSummary {
  int64_t terminals = 0;  // terminal-periods worked on (items)
  int64_t complete = 0, partial = 0, failed = 0;
  int64_t catch_up = 0;         // of the items, earlier periods retried
  int64_t expected_points = 0;  // summed over items
  int64_t collected_points = 0;
  int64_t rows_stored = 0;     // daily / monthly / curve rows, events
  int64_t missing_values = 0;  // EEH values
  int64_t requests = 0;        // frames sent
  int64_t decode_errors = 0;
  double seconds = 0;
};
nlohmann::json ToJson(const CollectionSummary& s);

struct CollectionTask {
  int64_t id = 0;
  std::string name;
  std::string kind;  // daily_frozen, monthly_frozen, curve, events
  int64_t department_id = 0;
  std::string time_of_day = "02:00";  // HH:MM local
  int64_t day_of_month = 1;           // monthly_frozen: on or after this day (1..28)
  int64_t catch_up_days = 3;          // 0..62 (months for monthly_frozen, at most 12)
  bool enabled = true;
  int64_t version = 0;
  int64_t created_at_us = 0;
  int64_t updated_at_us = 0;
  // Read-only: the scheduler's last submission.
  std::optional<std::string> last_run_key;
  std::optional<int64_t> last_job_id;
};

struct CollectionTaskInput {
  std::optional<std::string> name;       // required on create; 1..50 characters, unique
  std::optional<std::string> kind;       // required on create
  std::optional<int64_t> department_id;  // default: the actor's department
  std::optional<std::string> time_of_day;
  std::optional<int64_t> day_of_month;
  std::optional<int64_t> catch_up_days;
  std::optional<bool> enabled;
};

// One collection_results row: a terminal's collection of one kind and day.
struct CollectionResult {
  Date day;
  std::string kind;
  int64_t terminal_id = 0;
  std::string terminal_address;  // "3201-00012"
  std::string terminal_asset_no;
  std::string terminal_kind;
  int64_t department_id = 0;
  int64_t expected_points = 0;
  int64_t collected_points = 0;
  int64_t billing_expected = 0;
  int64_t billing_collected = 0;
  std::vector<int64_t> missing_point_ids;
  std::vector<std::string> missing_point_codes;  // ListResults: of the first 100 missing
  int64_t missing_values = 0;
  int64_t attempts = 0;
  std::string status;  // complete, partial, failed
  std::string last_error;
  std::optional<int64_t> job_id;
  int64_t first_attempt_at_us = 0;
  int64_t last_attempt_at_us = 0;
};

struct ResultQuery {
  std::optional<Date> day;
  std::string kind;    // "" = any
  std::string status;  // complete, partial, failed, incomplete (partial or failed); "" = any
  std::optional<int64_t> terminal_id;
  std::optional<int64_t> department_id;  // the terminal's department and below
  int page = 1;
  int page_size = 50;
};

struct SuccessQuery {
  Date from, to;  // days, at most 366
  std::string kind = "daily_frozen";
  std::string group_by = "department";   // department, kind, day
  std::optional<int64_t> department_id;  // default: the actor's department
};

// One line of the statistics. Department lines are subtree roll-ups, in tree order.
struct SuccessRow {
  std::string key;               // department id, terminal kind or day
  std::string label;             // department name, kind, day
  int depth = 0;                 // department lines: 0 for the root of the report
  int64_t terminals = 0;         // terminal-days
  int64_t failed_terminals = 0;  // of them, not complete
  int64_t expected_points = 0;   // billing points
  int64_t collected_points = 0;
  std::optional<std::string> rate_percent;  // "98.75" (floor); none when nothing expected
};

struct TerminalStateRow {
  int64_t terminal_id = 0;
  std::string asset_no;
  std::string address;  // "3201-00012"
  std::string kind;
  int64_t department_id = 0;
  int64_t meter_count = 0;
  std::optional<TerminalStatus> status;  // none: never seen by the front end
};

struct TerminalStateQuery {
  std::optional<bool> online;
  std::string kind;
  std::optional<int64_t> department_id;
  int page = 1;
  int page_size = 50;
};

struct TerminalStateCounts {
  int64_t total = 0, online = 0, offline = 0, never_seen = 0;  // installed terminals
  struct ByKind {
    std::string kind;
    int64_t total = 0, online = 0;
  };
  std::vector<ByKind> by_kind;
};

struct CollectionOptions {
  size_t window = 256;             // terminals in flight at once
  int points_per_frame = 64;       // daily and monthly frozen requests
  int curve_points_per_frame = 8;  // a 97-point curve item is ~400 bytes
  // 97: energy quantity curve (A.13, exact to the register); 101: indication curve (A.11, 0.01
  // kWh) as differences.
  uint16_t curve_fn = 97;
  size_t flush_rows = 20'000;  // stored (and checkpointed) at least this often
  std::chrono::milliseconds flush_interval{2'000};
  fep::RequestOptions request;  // per frame (defaults: the front end's)
};

// Thread-safe (holds references and options only).
class CollectionService {
 public:
  CollectionService(store::Database& db, const Clock& clock, const TimeZone& tz, Ingestor& ingestor,
                    jobs::JobRunner& runner, CollectionOptions options = {});

  // The job kind to register with the runner (permission acquisition.collect).
  jobs::JobKind JobKind();
  // The job's work, in the calling thread: resumes from ctx's checkpoint. Needs
  // acquisition.collect; the terminals are those of the request within ctx.actor()'s scope.
  Result<CollectionSummary> Run(jobs::JobContext& ctx, const CollectionRequest& req);

  // An on-demand run: a queued job (audited). The department must be visible (default: the
  // actor's; none for the whole scope of an actor who sees everything).
  Result<jobs::Job> StartCollection(const org::Actor& actor, CollectionRequest req);
  // Runs a task now for a period (default: the one its schedule would collect today).
  Result<jobs::Job> RunTaskNow(const org::Actor& actor, int64_t task_id, std::optional<Date> day,
                               std::optional<YearMonth> month);

  // Tasks: read with acquisition.read, written with acquisition.collect (audited, versioned).
  // Only tasks of departments in scope.
  Result<std::vector<CollectionTask>> ListTasks(const org::Actor& actor);
  Result<CollectionTask> GetTask(const org::Actor& actor, int64_t id);
  Result<CollectionTask> CreateTask(const org::Actor& actor, const CollectionTaskInput& in);
  Result<CollectionTask> UpdateTask(const org::Actor& actor, int64_t id, int64_t version,
                                    const CollectionTaskInput& in);

  // Results and statistics (acquisition.read, scoped by the terminal's department).
  Result<std::vector<CollectionResult>> ListResults(const org::Actor& actor, const ResultQuery& q,
                                                    int64_t* total);
  Result<std::vector<SuccessRow>> Statistics(const org::Actor& actor, const SuccessQuery& q);

  // Reads of collected data (acquisition.read; scope by the terminal's or the point's
  // department, NotFound outside it).
  Result<std::vector<TerminalStateRow>> TerminalStates(const org::Actor& actor,
                                                       const TerminalStateQuery& q, int64_t* total);
  Result<TerminalStateCounts> TerminalStateSummary(const org::Actor& actor,
                                                   std::optional<int64_t> department_id);
  Result<std::vector<reading::DailyFrozen>> DailyFrozenOfPoint(const org::Actor& actor,
                                                               int64_t point_id, Date from,
                                                               Date to);
  Result<std::vector<MonthlyFrozen>> MonthlyFrozenOfPoint(const org::Actor& actor, int64_t point_id,
                                                          YearMonth from, YearMonth to);
  // NotFound when the point has no curve that day.
  Result<Curve> CurveOfPoint(const org::Actor& actor, int64_t point_id, Date day,
                             const std::string& quantity);
  // q.departments is set from the actor's scope (and q's department filter).
  Result<std::vector<MeterEvent>> Events(const org::Actor& actor, EventQuery q,
                                         std::optional<int64_t> department_id, int64_t* total);

  const TimeZone& time_zone() const { return tz_; }
  // The local date now (the service's clock).
  Date Today() const { return tz_.LocalDate(clock_.NowMicros()); }

 private:
  store::Database& db_;
  const Clock& clock_;
  const TimeZone& tz_;
  Ingestor& ingestor_;
  jobs::JobRunner& runner_;
  CollectionOptions options_;
};

// Submits each enabled task's run once it is due, once per task and key (collection_task_runs
// dedups across restarts and processes): daily_frozen and curve after time_of_day for
// yesterday, events after time_of_day for today, monthly_frozen on or after day_of_month at
// time_of_day for the previous month. Jobs run as the system actor in the task's department.
class CollectionScheduler {
 public:
  CollectionScheduler(store::Database& db, const Clock& clock, const TimeZone& tz,
                      jobs::JobRunner& runner,
                      std::chrono::milliseconds poll = std::chrono::seconds(30));
  ~CollectionScheduler();  // Stop()s
  CollectionScheduler(const CollectionScheduler&) = delete;
  CollectionScheduler& operator=(const CollectionScheduler&) = delete;

  // Starts the thread (Tick at once, then every `poll`). Idempotent.
  void Start();
  void Stop();
  // Submits what is due now; returns the new jobs' ids.
  Result<std::vector<int64_t>> Tick();

 private:
  void Loop();

  store::Database& db_;
  const Clock& clock_;
  const TimeZone& tz_;
  jobs::JobRunner& runner_;
  std::chrono::milliseconds poll_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

nlohmann::json ToJson(const CollectionTask& t);
nlohmann::json ToJson(const CollectionResult& r);
nlohmann::json ToJson(const SuccessRow& r);
nlohmann::json ToJson(const TerminalStateRow& r);
nlohmann::json ToJson(const MeterEvent& e);
nlohmann::json ToJson(const MonthlyFrozen& m);
nlohmann::json ToJson(const Curve& k, const TimeZone& tz);

}  // namespace gridmis::acquisition
