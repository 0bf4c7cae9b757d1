#include "jobs/jobs.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "grid/records.h"
#include "org/audit.h"

namespace gridmis::jobs {

using nlohmann::json;
using store::Connection;
using store::Row;

namespace {

constexpr const char* kJobCols =
    "id, kind, params_json, department_id, status, stage, done, total, checkpoint_json, "
    "result_json, error, cancel_requested, created_by, created_by_name, owner, attempts, "
    "heartbeat_us, created_at_us, started_at_us, finished_at_us, updated_at_us, version";

Job ReadJob(const Row& r) {
  Job j;
  j.id = r.Int(0);
  j.kind = r.Text(1);
  j.params_json = r.Text(2);
  j.department_id = r.OptInt(3);
  j.status = r.Text(4);
  j.stage = r.Text(5);
  j.done = r.Int(6);
  j.total = r.Int(7);
  j.checkpoint_json = r.Text(8);
  j.result_json = r.Text(9);
  j.error = r.Text(10);
  j.cancel_requested = r.Bool(11);
  j.created_by = r.OptInt(12);
  j.created_by_name = r.Text(13);
  j.owner = r.OptText(14);
  j.attempts = r.Int(15);
  j.heartbeat_us = r.OptInt(16);
  j.created_at_us = r.Int(17);
  j.started_at_us = r.OptInt(18);
  j.finished_at_us = r.OptInt(19);
  j.updated_at_us = r.Int(20);
  j.version = r.Int(21);
  return j;
}

Result<std::optional<Job>> LoadJob(Connection& c, int64_t id) {
  std::optional<Job> j;
  RETURN_IF_ERROR(c.Query(std::string("SELECT ") + kJobCols + " FROM jobs WHERE id = $1", {id},
                          [&](const Row& r) { j = ReadJob(r); }));
  return j;
}

bool Visible(const org::Actor& actor, const Job& j) {
  if (actor.scope == org::DataScope::kAll) return true;
  if (j.created_by && *j.created_by == actor.user_id) return true;
  if (!j.department_id) return false;
  return actor.CanSee(*j.department_id, j.created_by);
}

std::string Hostname() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "localhost";
  std::string h(buf);
  for (char& ch : h) {
    if (ch == ':') ch = '_';
  }
  return h.empty() ? "localhost" : h;
}

// Owner tokens of the runners alive in this process: a token of this process that is not here
// belongs to a runner that is gone (a test's simulated crash).
std::mutex& LiveMu() {
  static std::mutex mu;
  return mu;
}
std::set<std::string>& LiveOwners() {
  static std::set<std::string> owners;
  return owners;
}

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

json ParseOr(const std::string& text, json fallback) {
  if (text.empty()) return fallback;
  auto j = json::parse(text, nullptr, false);
  return j.is_discarded() ? fallback : j;
}

}  // namespace

json ToJson(const Job& j) {
  auto opt_time = [](const std::optional<int64_t>& t) {
    return t ? json(FormatUtc(*t)) : json(nullptr);
  };
  int64_t percent = j.total > 0 ? std::min<int64_t>(100, j.done * 100 / j.total)
                                : (j.status == "succeeded" ? 100 : 0);
  return json{{"id", j.id},
              {"kind", j.kind},
              {"params", ParseOr(j.params_json, json::object())},
              {"department_id", j.department_id ? json(*j.department_id) : json(nullptr)},
              {"status", j.status},
              {"stage", j.stage},
              {"done", j.done},
              {"total", j.total},
              {"percent", percent},
              {"result", ParseOr(j.result_json, json(nullptr))},
              {"error", j.error},
              {"cancel_requested", j.cancel_requested},
              {"created_by", j.created_by ? json(*j.created_by) : json(nullptr)},
              {"created_by_name", j.created_by_name},
              {"attempts", j.attempts},
              {"created_at", FormatUtc(j.created_at_us)},
              {"started_at", opt_time(j.started_at_us)},
              {"finished_at", opt_time(j.finished_at_us)},
              {"heartbeat_at", opt_time(j.heartbeat_us)},
              {"version", j.version}};
}

// ---------------------------------------------------------------------------------------------
// JobContext

const Clock& JobContext::clock() const { return runner_.clock_; }

Status JobContext::StopStatus() const {
  if (interrupted_) {
    return Aborted("job " + std::to_string(job_.id) + " was interrupted: the runner is stopping");
  }
  return Aborted("job " + std::to_string(job_.id) + " was cancelled");
}

bool JobContext::ShouldStop() {
  if (cancelled_ || interrupted_) return true;
  {
    std::lock_guard lock(runner_.mu_);
    if (runner_.stopping_) interrupted_ = true;
  }
  if (interrupted_) return true;
  int64_t now = SteadyMs();
  if (now - last_write_us_ >= runner_.options_.progress_interval_ms) {
    last_write_us_ = now;
    auto flag = runner_.CancelFlag(job_.id);
    if (flag.ok() && *flag) cancelled_ = true;
  }
  return cancelled_;
}

Status JobContext::Progress(std::string_view stage, int64_t done, int64_t total) {
  {
    std::lock_guard lock(runner_.mu_);
    if (runner_.stopping_) interrupted_ = true;
  }
  if (interrupted_ || cancelled_) return StopStatus();
  int64_t now = SteadyMs();
  bool due = stage != last_stage_ ||
             now - last_write_us_ >= runner_.options_.progress_interval_ms ||
             (total > 0 && done >= total);
  job_.stage = std::string(stage);
  job_.done = done;
  job_.total = total;
  if (due) {
    last_write_us_ = now;
    last_stage_ = std::string(stage);
    RETURN_IF_ERROR(runner_.WriteProgress(*this, stage, done, total));
  }
  runner_.NotifyProgress(job_);
  if (cancelled_) return StopStatus();
  return Status::Ok();
}

Status JobContext::Checkpoint(store::Connection& c, std::string_view checkpoint_json,
                              std::string_view stage, int64_t done, int64_t total) {
  int64_t now = runner_.clock_.NowMicros();
  ASSIGN_OR_RETURN(
      int64_t n, c.Exec("UPDATE jobs SET checkpoint_json = $1, stage = $2, done = $3, total = $4, "
                        "heartbeat_us = $5, updated_at_us = $5 WHERE id = $6 AND owner = $7 AND "
                        "status = 'running'",
                        {checkpoint_json, stage, done, total, now, job_.id, runner_.owner_}));
  if (n == 0) {
    return Aborted("job " + std::to_string(job_.id) +
                   " is no longer owned by this process (another runner took it over)");
  }
  job_.checkpoint_json = std::string(checkpoint_json);
  job_.stage = std::string(stage);
  job_.done = done;
  job_.total = total;
  last_stage_ = std::string(stage);
  runner_.NotifyProgress(job_);
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// JobRunner

JobRunner::JobRunner(store::Database& db, const Clock& clock, JobRunnerOptions options,
                     ActorLoader load_actor)
    : db_(db), clock_(clock), options_(options), load_actor_(std::move(load_actor)) {
  host_ = Hostname();
  std::random_device rd;
  std::mt19937_64 rng((static_cast<uint64_t>(rd()) << 32) ^ rd());
  char token[17];
  std::snprintf(token, sizeof(token), "%016llx", static_cast<unsigned long long>(rng()));
  owner_ = host_ + ":" + std::to_string(getpid()) + ":" + token;
  std::lock_guard lock(LiveMu());
  LiveOwners().insert(owner_);
}

JobRunner::~JobRunner() {
  Stop();
  std::lock_guard lock(LiveMu());
  LiveOwners().erase(owner_);
}

void JobRunner::Register(JobKind kind) {
  std::string name = kind.kind;
  kinds_[name] = std::move(kind);
}

const JobKind* JobRunner::FindKind(std::string_view kind) const {
  auto it = kinds_.find(kind);
  return it == kinds_.end() ? nullptr : &it->second;
}

Result<int64_t> JobRunner::Insert(Connection& c, const org::Actor& actor, std::string_view kind,
                                  std::string_view params_json,
                                  std::optional<int64_t> department_id, bool claim_here) {
  const JobKind* k = FindKind(kind);
  if (!k) return InvalidArgument("unknown job kind '" + std::string(kind) + "'", "kind");
  RETURN_IF_ERROR(actor.Require(k->permission));
  if (department_id) {
    RETURN_IF_ERROR(grid::CheckDepartment(c, actor, *department_id));
  }
  int64_t now = clock_.NowMicros();
  ASSIGN_OR_RETURN(
      int64_t id,
      c.InsertReturningId(
          "INSERT INTO jobs (kind, params_json, department_id, created_by, created_by_name, "
          "created_at_us, updated_at_us, status, owner, heartbeat_us) VALUES ($1, $2, $3, $4, "
          "$5, $6, $6, $7, $8, $9) RETURNING id",
          {kind, params_json, department_id,
           actor.user_id ? store::Value(actor.user_id) : store::Value(), actor.username, now,
           claim_here ? "running" : "queued", claim_here ? store::Value(owner_) : store::Value(),
           claim_here ? store::Value(now) : store::Value()}));
  json after = {{"kind", kind}, {"params", ParseOr(std::string(params_json), json::object())}};
  RETURN_IF_ERROR(org::WriteAudit(c, actor,
                                  {"create", "job", std::to_string(id), "", after.dump(),
                                   department_id.value_or(actor.department_id)},
                                  now));
  return id;
}

Result<Job> JobRunner::Submit(const org::Actor& actor, std::string_view kind,
                              std::string_view params_json, std::optional<int64_t> department_id) {
  ASSIGN_OR_RETURN(int64_t id, db_.WriteValue<int64_t>([&](Connection& c) {
    return Insert(c, actor, kind, params_json, department_id);
  }));
  Wake();
  return Load(id);
}

void JobRunner::Wake() {
  std::lock_guard lock(mu_);
  ++wake_seq_;
  cv_.notify_all();
}

Result<Job> JobRunner::Load(int64_t id) {
  ASSIGN_OR_RETURN(
      auto j, db_.ReadValue<std::optional<Job>>([&](Connection& c) { return LoadJob(c, id); }));
  if (!j) return NotFound("job " + std::to_string(id) + " not found");
  return *j;
}

Result<Job> JobRunner::Get(const org::Actor& actor, int64_t id) {
  RETURN_IF_ERROR(actor.Require("jobs.read"));
  auto j = Load(id);
  if (!j.ok() || !Visible(actor, *j)) return NotFound("job " + std::to_string(id) + " not found");
  return j;
}

Result<std::vector<Job>> JobRunner::List(const org::Actor& actor, const JobQuery& q,
                                         int64_t* total) {
  RETURN_IF_ERROR(actor.Require("jobs.read"));
  std::vector<Job> out;
  RETURN_IF_ERROR(db_.Read([&](Connection& c) -> Status {
    std::string scope =
        actor.scope == org::DataScope::kAll
            ? "1=1"
            : "(" + actor.ScopeSql("department_id", "created_by") +
                  (actor.user_id ? " OR created_by = " + std::to_string(actor.user_id)
                                 : std::string()) +
                  ")";
    grid::SqlWhere w(scope);
    if (!q.kind.empty()) w.And("kind = " + w.Bind(q.kind));
    if (!q.status.empty()) w.And("status = " + w.Bind(q.status));
    if (q.department_id) {
      ASSIGN_OR_RETURN(auto sub, grid::DepartmentSubtree(c, *q.department_id));
      w.And(grid::InSql("department_id", sub));
    }
    if (total) {
      ASSIGN_OR_RETURN(*total,
                       c.QueryInt("SELECT COUNT(*) FROM jobs WHERE " + w.sql(), w.params()));
    }
    std::string sql = std::string("SELECT ") + kJobCols + " FROM jobs WHERE " + w.sql() +
                      " ORDER BY id DESC " + w.LimitOffset(q.page, q.page_size);
    return c.Query(sql, w.params(), [&](const Row& r) { out.push_back(ReadJob(r)); });
  }));
  return out;
}

Result<Job> JobRunner::Cancel(const org::Actor& actor, int64_t id) {
  RETURN_IF_ERROR(actor.Require("jobs.read"));
  RETURN_IF_ERROR(db_.Write([&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(auto j, LoadJob(c, id));
    if (!j || !Visible(actor, *j)) return NotFound("job " + std::to_string(id) + " not found");
    const JobKind* k = FindKind(j->kind);
    RETURN_IF_ERROR(actor.Require(k ? k->permission : "jobs.read"));
    if (j->finished()) {
      return FailedPrecondition(
          "job " + std::to_string(id) + " has already " +
          (j->status == "succeeded" ? std::string("succeeded") : "ended (" + j->status + ")"));
    }
    int64_t now = clock_.NowMicros();
    if (j->status == "queued") {
      RETURN_IF_ERROR(c.Exec("UPDATE jobs SET status = 'cancelled', cancel_requested = 1, "
                             "finished_at_us = $1, updated_at_us = $1, version = version + 1 "
                             "WHERE id = $2",
                             {now, id})
                          .status());
    } else {
      RETURN_IF_ERROR(
          c.Exec("UPDATE jobs SET cancel_requested = 1, updated_at_us = $1 WHERE id = $2",
                 {now, id})
              .status());
    }
    ASSIGN_OR_RETURN(auto after, LoadJob(c, id));
    return org::WriteAudit(c, actor,
                           {"cancel", "job", std::to_string(id), ToJson(*j).dump(),
                            ToJson(*after).dump(), j->department_id.value_or(0)},
                           now);
  }));
  {
    std::lock_guard lock(mu_);
    done_cv_.notify_all();
  }
  return Load(id);
}

Result<Job> JobRunner::Resume(const org::Actor& actor, int64_t id) {
  RETURN_IF_ERROR(actor.Require("jobs.read"));
  RETURN_IF_ERROR(db_.Write([&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(auto j, LoadJob(c, id));
    if (!j || !Visible(actor, *j)) return NotFound("job " + std::to_string(id) + " not found");
    const JobKind* k = FindKind(j->kind);
    if (!k) return FailedPrecondition("job kind '" + j->kind + "' is not known to this server");
    RETURN_IF_ERROR(actor.Require(k->permission));
    if (j->status != "failed" && j->status != "cancelled") {
      return FailedPrecondition("job " + std::to_string(id) + " is " + j->status +
                                "; only a failed or cancelled job can be resumed");
    }
    int64_t now = clock_.NowMicros();
    ASSIGN_OR_RETURN(int64_t n,
                     c.Exec("UPDATE jobs SET status = 'queued', cancel_requested = 0, error = '', "
                            "owner = NULL, finished_at_us = NULL, updated_at_us = $1, "
                            "version = version + 1 WHERE id = $2 AND version = $3",
                            {now, id, j->version}));
    if (n == 0) return Aborted("job " + std::to_string(id) + " changed meanwhile; try again");
    ASSIGN_OR_RETURN(auto after, LoadJob(c, id));
    return org::WriteAudit(c, actor,
                           {"resume", "job", std::to_string(id), ToJson(*j).dump(),
                            ToJson(*after).dump(), j->department_id.value_or(0)},
                           now);
  }));
  Wake();
  return Load(id);
}

Result<bool> JobRunner::CancelFlag(int64_t id) {
  return db_.ReadValue<bool>([&](Connection& c) -> Result<bool> {
    ASSIGN_OR_RETURN(int64_t v,
                     c.QueryInt("SELECT cancel_requested FROM jobs WHERE id = $1", {id}));
    return v != 0;
  });
}

Status JobRunner::WriteProgress(JobContext& ctx, std::string_view stage, int64_t done,
                                int64_t total) {
  int64_t now = clock_.NowMicros();
  bool cancel = false;
  Status s = db_.Write([&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(int64_t n, c.Exec("UPDATE jobs SET stage = $1, done = $2, total = $3, "
                                       "heartbeat_us = $4, updated_at_us = $4 WHERE id = $5 AND "
                                       "owner = $6 AND status = 'running'",
                                       {stage, done, total, now, ctx.job_.id, owner_}));
    if (n == 0) {
      return Aborted("job " + std::to_string(ctx.job_.id) +
                     " is no longer owned by this process (another runner took it over)");
    }
    ASSIGN_OR_RETURN(int64_t flag,
                     c.QueryInt("SELECT cancel_requested FROM jobs WHERE id = $1", {ctx.job_.id}));
    cancel = flag != 0;
    return Status::Ok();
  });
  if (cancel) ctx.cancelled_ = true;
  return s;
}

void JobRunner::NotifyProgress(const Job& j) {
  std::function<void(const Job&)> fn;
  {
    std::lock_guard lock(mu_);
    auto it = progress_fns_.find(j.id);
    if (it != progress_fns_.end()) fn = it->second;
  }
  if (fn) fn(j);
}

Result<bool> JobRunner::OwnerIsDead(const Job& j) const {
  if (!j.owner || j.owner->empty()) return true;
  const std::string& o = *j.owner;
  // Our own job: the caller (ClaimNext) holds its reservation in active_, so no thread of this
  // runner is running it; it was left behind (a failed final write).
  if (o == owner_) return true;
  if (!j.heartbeat_us || clock_.NowMicros() - *j.heartbeat_us > options_.stale_after_us) {
    return true;
  }
  // host:pid:token
  size_t a = o.find(':');
  size_t b = a == std::string::npos ? std::string::npos : o.find(':', a + 1);
  if (b == std::string::npos) return false;
  std::string host = o.substr(0, a);
  if (host != host_) return false;  // another machine: only its heartbeat tells
  pid_t pid = static_cast<pid_t>(std::atoll(o.substr(a + 1, b - a - 1).c_str()));
  if (pid == getpid()) {
    std::lock_guard lock(LiveMu());
    return LiveOwners().count(o) == 0;
  }
  if (pid <= 0) return true;
  return kill(pid, 0) != 0 && errno == ESRCH;
}

Result<std::optional<Job>> JobRunner::ClaimNext(std::optional<int64_t> only_id,
                                                bool include_failed) {
  if (kinds_.empty()) return std::optional<Job>();
  std::string kinds;
  for (const auto& [name, k] : kinds_) {
    kinds += (kinds.empty() ? "" : ",") + std::string("'");
    for (char ch : name) {
      if (ch != '\'') kinds += ch;
    }
    kinds += "'";
  }
  std::vector<Job> candidates;
  RETURN_IF_ERROR(db_.Read([&](Connection& c) -> Status {
    std::string statuses =
        include_failed ? "('queued','running','failed','cancelled')" : "('queued','running')";
    std::string sql = std::string("SELECT ") + kJobCols + " FROM jobs WHERE status IN " + statuses +
                      " AND kind IN (" + kinds + ")";
    store::Params params;
    if (only_id) {
      sql += " AND id = $1";
      params.push_back(*only_id);
    }
    sql += " ORDER BY id LIMIT 50";
    return c.Query(sql, params, [&](const Row& r) { candidates.push_back(ReadJob(r)); });
  }));
  for (Job& j : candidates) {
    // Reserve the id in active_ before the claim commits, and skip ids another thread of this
    // runner has reserved: otherwise a second worker could read the row just claimed (running,
    // owned by this runner) before the id is in active_, take this runner for dead (OwnerIsDead)
    // and claim the job again with the same version (checkpoints do not change it), so that the
    // job would run twice at once.
    // Nor claim once the runner is stopping: a job handed back by Stop() would be run again.
    {
      std::lock_guard lock(mu_);
      if (stopping_) return std::optional<Job>();
      if (std::find(active_.begin(), active_.end(), j.id) != active_.end()) continue;
      active_.push_back(j.id);
    }
    auto release = [&] {
      std::lock_guard lock(mu_);
      auto it = std::find(active_.begin(), active_.end(), j.id);
      if (it != active_.end()) active_.erase(it);
    };
    if (j.status == "running") {
      Result<bool> dead = OwnerIsDead(j);
      if (!dead.ok() || !*dead) {
        release();
        if (!dead.ok()) return dead.status();
        continue;
      }
    }
    int64_t now = clock_.NowMicros();
    bool claimed = false;
    Status w = db_.Write([&](Connection& c) -> Status {
      ASSIGN_OR_RETURN(
          int64_t n,
          c.Exec("UPDATE jobs SET status = 'running', owner = $1, heartbeat_us = $2, "
                 "attempts = attempts + 1, started_at_us = COALESCE(started_at_us, $2), "
                 "finished_at_us = NULL, error = '', updated_at_us = $2, version = version + 1 "
                 "WHERE id = $3 AND version = $4",
                 {owner_, now, j.id, j.version}));
      claimed = n == 1;
      return Status::Ok();
    });
    if (!w.ok() || !claimed) {
      release();
      if (!w.ok()) return w;
      continue;
    }
    auto fresh = Load(j.id);
    if (!fresh.ok()) {
      // Claimed but unreadable: leave it to be taken over (running, owner here, not active).
      release();
      return fresh.status();
    }
    return std::optional<Job>(std::move(*fresh));
  }
  return std::optional<Job>();
}

Status JobRunner::Finish(const JobContext& ctx, const Status& result) {
  int64_t now = clock_.NowMicros();
  int64_t id = ctx.job_.id;
  if (!result.ok() && ctx.interrupted_) {
    // Hand the job back with its checkpoint; the next runner continues it.
    return db_.Write([&](Connection& c) {
      return c
          .Exec(
              "UPDATE jobs SET status = 'queued', owner = NULL, updated_at_us = $1, "
              "version = version + 1 WHERE id = $2 AND owner = $3 AND status = 'running'",
              {now, id, owner_})
          .status();
    });
  }
  std::string status = result.ok() ? "succeeded" : (ctx.cancelled_ ? "cancelled" : "failed");
  std::string error = result.ok() ? "" : result.ToString();
  if (error.size() > 4000) error.resize(4000);
  return db_.Write([&](Connection& c) {
    return c
        .Exec(
            "UPDATE jobs SET status = $1, error = $2, result_json = $3, finished_at_us = $4, "
            "heartbeat_us = $4, updated_at_us = $4, version = version + 1, "
            "done = CASE WHEN $1 = 'succeeded' AND total > 0 THEN total ELSE done END "
            "WHERE id = $5 AND owner = $6 AND status = 'running'",
            {status, error, ctx.result_json_, now, id, owner_})
        .status();
  });
}

Job JobRunner::Execute(Job job, const std::function<void(const Job&)>& on_progress) {
  int64_t id = job.id;
  if (on_progress) {
    std::lock_guard lock(mu_);
    progress_fns_[id] = on_progress;
  }
  org::Actor actor =
      org::Actor::System(job.created_by_name.empty() ? "system" : job.created_by_name);
  Status result;
  if (job.created_by && load_actor_) {
    auto a = load_actor_(*job.created_by);
    if (a.ok()) {
      actor = std::move(*a);
      actor.auth_method = "job";
    } else {
      result = a.status().WithContext("loading the user who started job " + std::to_string(id));
    }
  } else if (job.created_by) {
    actor.user_id = *job.created_by;
  }
  JobContext ctx(*this, job, actor);
  if (result.ok()) {
    const JobKind* k = FindKind(job.kind);
    if (!k) {
      result = FailedPrecondition("job kind '" + job.kind + "' is not registered");
    } else {
      try {
        result = k->run(ctx);
      } catch (const std::exception& e) {
        result = Internal(std::string("job threw an exception: ") + e.what());
      }
    }
  }
  Status fin = Finish(ctx, result);
  (void)fin;  // a failed final write leaves the job running; a later runner takes it over
  {
    std::lock_guard lock(mu_);
    active_.erase(std::remove(active_.begin(), active_.end(), id), active_.end());
    progress_fns_.erase(id);
    done_cv_.notify_all();
  }
  auto after = Load(id);
  return after.ok() ? *after : ctx.job_;
}

Result<Job> JobRunner::RunNow(int64_t id, const std::function<void(const Job&)>& on_progress) {
  ASSIGN_OR_RETURN(auto claimed, ClaimNext(id, /*include_failed=*/true));
  if (!claimed) {
    ASSIGN_OR_RETURN(Job j, Load(id));
    if (j.status == "succeeded") return j;
    return FailedPrecondition("job " + std::to_string(id) + " is " + j.status +
                              " and owned by a live process (" + j.owner.value_or("?") + ")");
  }
  // Heartbeat while it runs in this thread.
  std::mutex hb_mu;
  std::condition_variable hb_cv;
  bool hb_stop = false;
  std::thread hb([&] {
    std::unique_lock lock(hb_mu);
    while (!hb_cv.wait_for(lock, std::chrono::milliseconds(options_.heartbeat_interval_ms),
                           [&] { return hb_stop; })) {
      lock.unlock();
      int64_t now = clock_.NowMicros();
      Status s = db_.Write([&](Connection& c) {
        return c
            .Exec("UPDATE jobs SET heartbeat_us = $1 WHERE id = $2 AND owner = $3",
                  {now, id, owner_})
            .status();
      });
      (void)s;
      lock.lock();
    }
  });
  Job j = Execute(std::move(*claimed), on_progress);
  {
    std::lock_guard lock(hb_mu);
    hb_stop = true;
  }
  hb_cv.notify_all();
  hb.join();
  return j;
}

Result<Job> JobRunner::WaitForJob(int64_t id, int64_t timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    ASSIGN_OR_RETURN(Job j, Load(id));
    if (j.finished() || std::chrono::steady_clock::now() >= deadline) return j;
    std::unique_lock lock(mu_);
    done_cv_.wait_for(lock, std::chrono::milliseconds(50));
  }
}

Result<int> JobRunner::RunPendingForTest() {
  int n = 0;
  while (true) {
    ASSIGN_OR_RETURN(auto claimed, ClaimNext(std::nullopt, false));
    if (!claimed) return n;
    Execute(std::move(*claimed), nullptr);
    ++n;
  }
}

void JobRunner::WorkerLoop() {
  while (true) {
    int64_t seen;
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      seen = wake_seq_;
    }
    auto claimed = ClaimNext(std::nullopt, false);
    if (claimed.ok() && *claimed) {
      Execute(std::move(**claimed), nullptr);
      continue;
    }
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(options_.poll_interval_ms),
                 [&] { return stopping_ || wake_seq_ != seen; });
    if (stopping_) return;
  }
}

void JobRunner::HeartbeatLoop() {
  int64_t last_beat = SteadyMs();
  while (true) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(options_.poll_interval_ms),
                   [&] { return stopping_; });
      if (stopping_) return;
      // Poll: jobs submitted by other processes, and dead owners' jobs.
      ++wake_seq_;
      cv_.notify_all();
    }
    if (SteadyMs() - last_beat >= options_.heartbeat_interval_ms) {
      last_beat = SteadyMs();
      int64_t now = clock_.NowMicros();
      Status s = db_.Write([&](Connection& c) {
        return c
            .Exec("UPDATE jobs SET heartbeat_us = $1 WHERE owner = $2 AND status = 'running'",
                  {now, owner_})
            .status();
      });
      (void)s;
    }
  }
}

Status JobRunner::Start() {
  std::lock_guard lock(mu_);
  if (started_) return Status::Ok();
  started_ = true;
  stopping_ = false;
  for (int i = 0; i < std::max(1, options_.threads); ++i) {
    threads_.emplace_back([this] { WorkerLoop(); });
  }
  threads_.emplace_back([this] { HeartbeatLoop(); });
  return Status::Ok();
}

void JobRunner::Stop() {
  {
    std::lock_guard lock(mu_);
    if (!started_) return;
    stopping_ = true;
    cv_.notify_all();
  }
  for (auto& t : threads_) t.join();
  threads_.clear();
  std::lock_guard lock(mu_);
  started_ = false;
  stopping_ = false;
}

bool JobRunner::running() const {
  std::lock_guard lock(mu_);
  return started_ && !stopping_;
}

}  // namespace gridmis::jobs
