// Background jobs (后台任务): persisted, observable, cancellable and resumable work such as bill
// runs.
//
// A job is a row in `jobs`: its kind, parameters (JSON), department (for the data scope), status
// queued → running → succeeded | failed | cancelled, progress (stage, done/total), a checkpoint,
// the error, who started it, the process running it (`owner`) and that process's heartbeat.
//
// A JobRunner executes the kinds registered with it on a small pool of threads. A kind's function
// receives a JobContext: it reports progress, saves its checkpoint in its own write transactions
// (so the checkpoint and the data it describes commit together) and sees cancellation. A job
// whose function is interrupted — the process crashed, was killed, or stopped — is taken over:
// on start-up and while polling, a runner claims `running` jobs whose owner is dead (a stale
// heartbeat, or a process on this host that no longer exists) and runs them again from their
// checkpoint. Job functions must therefore be idempotent from any checkpoint.
//
// Thread-safety: JobRunner is thread-safe. A JobContext belongs to the thread running its job.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "org/actor.h"
#include "store/db.h"

namespace gridmis::jobs {

struct Job {
  int64_t id = 0;
  std::string kind;
  std::string params_json;
  std::optional<int64_t> department_id;
  std::string status;  // queued, running, succeeded, failed, cancelled
  std::string stage;
  int64_t done = 0;
  int64_t total = 0;  // 0 = unknown
  std::string checkpoint_json;
  std::string result_json;
  std::string error;
  bool cancel_requested = false;
  std::optional<int64_t> created_by;
  std::string created_by_name;
  std::optional<std::string> owner;
  int64_t attempts = 0;
  std::optional<int64_t> heartbeat_us;
  int64_t created_at_us = 0;
  std::optional<int64_t> started_at_us;
  std::optional<int64_t> finished_at_us;
  int64_t updated_at_us = 0;
  int64_t version = 0;

  bool finished() const {
    return status == "succeeded" || status == "failed" || status == "cancelled";
  }
};

struct JobQuery {
  std::string kind;                      // "" = any
  std::string status;                    // "" = any
  std::optional<int64_t> department_id;  // that department and below
  int page = 1;
  int page_size = 20;
};

class JobRunner;

// What a running job sees. Not thread-safe: used by the thread running the job.
class JobContext {
 public:
  const Job& job() const { return job_; }
  int64_t job_id() const { return job_.id; }
  // The user who started the job (reloaded with their current rights when resumed), or the
  // system actor for jobs started by the system.
  const org::Actor& actor() const { return actor_; }
  const Clock& clock() const;

  // Records progress. Writes at most every progress interval (and on a stage change) in its own
  // transaction. Returns Aborted when the job was cancelled or the runner is stopping; the job
  // function should then return that status.
  Status Progress(std::string_view stage, int64_t done, int64_t total);

  // Saves the checkpoint with progress inside the caller's write transaction, so that the data
  // a chunk wrote and the checkpoint after it commit or roll back together. Aborted (and the
  // caller's transaction must roll back) when this process no longer owns the job: another
  // runner took it over after a stale heartbeat.
  Status Checkpoint(store::Connection& c, std::string_view checkpoint_json, std::string_view stage,
                    int64_t done, int64_t total);

  // Whether cancellation was requested or the runner is stopping (reads the flag at most every
  // progress interval).
  bool ShouldStop();

  // The result stored with the job when it succeeds (JSON text).
  void SetResult(std::string result_json) { result_json_ = std::move(result_json); }

 private:
  friend class JobRunner;
  JobContext(JobRunner& runner, Job job, org::Actor actor)
      : runner_(runner), job_(std::move(job)), actor_(std::move(actor)) {}
  Status StopStatus() const;

  JobRunner& runner_;
  Job job_;
  org::Actor actor_;
  std::string result_json_;
  bool cancelled_ = false;
  bool interrupted_ = false;  // the runner is stopping: hand the job back, do not finish it
  std::string last_stage_;
  int64_t last_write_us_ = 0;  // steady time of the last progress write / flag check
};

// A job kind: its name, the permission needed to start, resume or cancel it, and its function.
struct JobKind {
  std::string kind;
  std::string permission;
  // Runs (or resumes, from job().checkpoint_json) the job. OK → succeeded; the context's stop
  // status → cancelled (or handed back when the runner stops); any other error → failed with
  // the status's message.
  std::function<Status(JobContext&)> run;
};

struct JobRunnerOptions {
  int threads = 2;
  // A running job whose heartbeat is older than this (by the runner's clock) is taken over.
  int64_t stale_after_us = 2 * kMicrosPerMinute;
  // How often (wall time) owned jobs' heartbeats are refreshed and the queue is polled for jobs
  // submitted by other processes.
  int64_t heartbeat_interval_ms = 10'000;
  int64_t poll_interval_ms = 2'000;
  // Minimum wall time between progress writes of one job.
  int64_t progress_interval_ms = 500;
};

// Loads the Actor of a user id (org::OrgService::LoadActor); unset: jobs run as the system.
using ActorLoader = std::function<Result<org::Actor>(int64_t user_id)>;

class JobRunner {
 public:
  JobRunner(store::Database& db, const Clock& clock, JobRunnerOptions options = {},
            ActorLoader load_actor = nullptr);
  ~JobRunner();  // Stop()s
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  // Registers a kind before Start(). Not thread-safe with running jobs.
  void Register(JobKind kind);
  const JobKind* FindKind(std::string_view kind) const;

  // The process-unique owner token this runner stamps on the jobs it runs: "host:pid:token".
  const std::string& owner() const { return owner_; }

  // ---- Submitting and observing (any thread) ----

  // Inserts a queued job inside the caller's transaction (so that a job and the record it works
  // for are created together). The kind must be registered. Wakes the pool after the caller
  // commits: call Wake() then. With `claim_here` the job is inserted as running and owned by
  // this runner, so that no other process takes it before RunNow() does (the CLI).
  Result<int64_t> Insert(store::Connection& c, const org::Actor& actor, std::string_view kind,
                         std::string_view params_json, std::optional<int64_t> department_id,
                         bool claim_here = false);
  // Insert in its own transaction, then Wake().
  Result<Job> Submit(const org::Actor& actor, std::string_view kind, std::string_view params_json,
                     std::optional<int64_t> department_id);
  void Wake();

  // Jobs in the actor's data scope (jobs.read). NotFound outside it.
  Result<Job> Get(const org::Actor& actor, int64_t id);
  Result<std::vector<Job>> List(const org::Actor& actor, const JobQuery& q, int64_t* total);
  // A queued job is cancelled at once; a running one is flagged and stops at its next progress
  // report. Needs the kind's permission. Finished jobs: FailedPrecondition.
  Result<Job> Cancel(const org::Actor& actor, int64_t id);
  // A failed or cancelled job goes back to the queue and continues from its checkpoint. Needs
  // the kind's permission.
  Result<Job> Resume(const org::Actor& actor, int64_t id);
  // Without a scope check (internal callers that already checked, e.g. the bill run service).
  Result<Job> Load(int64_t id);

  // ---- Running ----

  // Starts the pool and the heartbeat/poll thread; jobs left running by dead owners are resumed.
  Status Start();
  // Stops taking jobs; running jobs see ShouldStop() and are handed back to the queue (with
  // their checkpoint) for the next start. Blocks until the pool threads end.
  void Stop();
  bool running() const;

  // Runs one job in the calling thread (the CLI): claims it (queued, or running with a dead
  // owner, or `take_over_failed` and failed/cancelled), runs it with this runner's heartbeat and
  // returns the finished job. `on_progress` is called after every progress report.
  Result<Job> RunNow(int64_t id, const std::function<void(const Job&)>& on_progress = nullptr);

  // Blocks until the job is finished or `timeout_ms` of wall time passes; returns the job as
  // last seen. For tests and the CLI.
  Result<Job> WaitForJob(int64_t id, int64_t timeout_ms);

  // Claims and runs, in the calling thread, every job that is claimable now (queued, or running
  // with a dead owner); returns how many ran. Tests use it instead of the pool.
  Result<int> RunPendingForTest();

 private:
  friend class JobContext;
  struct Claimed {
    Job job;
  };
  void WorkerLoop();
  void HeartbeatLoop();
  // Claims the next claimable job (by id) or the given one. nullopt when none.
  Result<std::optional<Job>> ClaimNext(std::optional<int64_t> only_id, bool include_failed);
  // Whether a running job's owner is gone. Called by ClaimNext with the job reserved in active_.
  Result<bool> OwnerIsDead(const Job& j) const;
  // Runs a claimed job to its end state.
  Job Execute(Job job, const std::function<void(const Job&)>& on_progress);
  Status Finish(const JobContext& ctx, const Status& result);
  Status WriteProgress(JobContext& ctx, std::string_view stage, int64_t done, int64_t total);
  Result<bool> CancelFlag(int64_t id);
  void NotifyProgress(const Job& j);

  store::Database& db_;
  const Clock& clock_;
  JobRunnerOptions options_;
  ActorLoader load_actor_;
  std::string owner_;
  std::string host_;
  std::map<std::string, JobKind, std::less<>> kinds_;

  mutable std::mutex mu_;
  std::condition_variable cv_;       // work or stop (guarded by mu_)
  std::condition_variable done_cv_;  // a job changed (guarded by mu_)
  bool started_ = false;             // guarded by mu_
  bool stopping_ = false;            // guarded by mu_
  int64_t wake_seq_ = 0;             // guarded by mu_
  std::vector<int64_t> active_;      // jobs being claimed or run by this runner, guarded by mu_
  std::map<int64_t, std::function<void(const Job&)>> progress_fns_;  // guarded by mu_
  std::vector<std::thread> threads_;
};

// JSON of a job for the API: {"id", "kind", "params", "department_id", "status", "stage", "done",
// "total", "percent", "result", "error", "cancel_requested", "created_by", "created_by_name",
// "attempts", "created_at", "started_at", "finished_at", "heartbeat_at", "version"}.
nlohmann::json ToJson(const Job& j);

}  // namespace gridmis::jobs
