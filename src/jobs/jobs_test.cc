#include "jobs/jobs.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "grid/testing.h"

namespace gridmis::jobs {
namespace {

using nlohmann::json;
using store::Connection;

// A job kind that counts from its checkpoint to params.n in chunks of params.chunk, writing one
// row per number into job_test_rows in the same transaction as the checkpoint (like a bill run
// writes bills). `after_chunk` runs after each committed chunk (tests crash or cancel there).
JobKind Counter(store::Database& db, std::function<void(JobContext&, int64_t)> after_chunk = {}) {
  return JobKind{
      "test_count", "billing.run", [&db, after_chunk](JobContext& ctx) -> Status {
        json p = json::parse(ctx.job().params_json);
        int64_t n = p["n"], chunk = p["chunk"];
        int64_t next = ctx.job().checkpoint_json.empty()
                           ? 1
                           : json::parse(ctx.job().checkpoint_json)["next"].get<int64_t>();
        while (next <= n) {
          int64_t end = std::min(n, next + chunk - 1);
          RETURN_IF_ERROR(db.Write([&](Connection& c) -> Status {
            for (int64_t i = next; i <= end; ++i) {
              RETURN_IF_ERROR(
                  c.Exec("INSERT INTO job_test_rows (n, job_id) VALUES ($1, $2)", {i, ctx.job_id()})
                      .status());
            }
            return ctx.Checkpoint(c, json{{"next", end + 1}}.dump(), "counting", end, n);
          }));
          next = end + 1;
          if (after_chunk) after_chunk(ctx, end);
          RETURN_IF_ERROR(ctx.Progress("counting", end, n));
        }
        ctx.SetResult(json{{"counted", n}}.dump());
        return Status::Ok();
      }};
}

class JobsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto u = grid::testing::TestUtility::Create(GetParam(), clock_);
    if (!u.ok() && GetParam() == "postgres" && !store::testing::PostgresRequiredForTest()) {
      GTEST_SKIP() << u.status().ToString();
    }
    ASSERT_TRUE(u.ok()) << u.status().ToString();
    u_ = std::move(*u);
    ASSERT_TRUE(u_->db()
                    .Write([](Connection& c) {
                      return c.ExecScript(
                          "CREATE TABLE job_test_rows (n BIGINT PRIMARY KEY, job_id BIGINT NOT "
                          "NULL)");
                    })
                    .ok());
    auto a = u_->MakeActor("clerk_a", u_->county_a, {"billing_clerk"});
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    clerk_a_ = *a;
    auto b = u_->MakeActor("clerk_b", u_->county_b, {"billing_clerk"});
    ASSERT_TRUE(b.ok());
    clerk_b_ = *b;
    auto v = u_->MakeActor("viewer", u_->county_a, {"counter_clerk"});  // no jobs.read
    ASSERT_TRUE(v.ok());
    viewer_ = *v;
  }

  JobRunnerOptions Fast() {
    JobRunnerOptions o;
    o.progress_interval_ms = 0;
    o.poll_interval_ms = 20;
    o.heartbeat_interval_ms = 50;
    o.stale_after_us = kMicrosPerMinute;
    return o;
  }

  std::unique_ptr<JobRunner> MakeRunner(std::function<void(JobContext&, int64_t)> after = {}) {
    auto r = std::make_unique<JobRunner>(u_->db(), clock_, Fast(),
                                         [this](int64_t id) { return u_->org().LoadActor(id); });
    r->Register(Counter(u_->db(), std::move(after)));
    return r;
  }

  std::vector<int64_t> Rows() {
    std::vector<int64_t> out;
    EXPECT_TRUE(u_->db()
                    .Read([&](Connection& c) {
                      return c.Query("SELECT n FROM job_test_rows ORDER BY n", {},
                                     [&](const store::Row& r) { out.push_back(r.Int(0)); });
                    })
                    .ok());
    return out;
  }

  static std::vector<int64_t> Range(int64_t n) {
    std::vector<int64_t> v;
    for (int64_t i = 1; i <= n; ++i) v.push_back(i);
    return v;
  }

  std::string Params(int64_t n, int64_t chunk) { return json{{"n", n}, {"chunk", chunk}}.dump(); }

  FakeClock clock_{1'800'000'000'000'000};
  std::unique_ptr<grid::testing::TestUtility> u_;
  org::Actor clerk_a_, clerk_b_, viewer_;
};

TEST_P(JobsTest, RunsAQueuedJobToSuccessWithProgressAndResult) {
  auto runner = MakeRunner();
  auto job = runner->Submit(clerk_a_, "test_count", Params(10, 3), u_->county_a);
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_EQ(job->status, "queued");
  EXPECT_EQ(job->created_by, clerk_a_.user_id);
  auto ran = runner->RunPendingForTest();
  ASSERT_TRUE(ran.ok()) << ran.status().ToString();
  EXPECT_EQ(*ran, 1);
  auto done = runner->Get(clerk_a_, job->id);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->status, "succeeded") << done->error;
  EXPECT_EQ(done->done, 10);
  EXPECT_EQ(done->total, 10);
  EXPECT_EQ(done->attempts, 1);
  EXPECT_EQ(json::parse(done->result_json)["counted"], 10);
  EXPECT_EQ(json::parse(done->checkpoint_json)["next"], 11);
  EXPECT_TRUE(done->started_at_us && done->finished_at_us);
  EXPECT_EQ(Rows(), Range(10));
  // Nothing left to run.
  EXPECT_EQ(*runner->RunPendingForTest(), 0);
}

TEST_P(JobsTest, SubmitChecksTheKindPermissionAndDepartmentScope) {
  auto runner = MakeRunner();
  EXPECT_EQ(runner->Submit(viewer_, "test_count", Params(1, 1), u_->county_a).status().code(),
            StatusCode::kPermissionDenied);
  auto other = runner->Submit(clerk_a_, "test_count", Params(1, 1), u_->county_b);
  EXPECT_EQ(other.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(other.status().field(), "department_id");
  EXPECT_EQ(runner->Submit(clerk_a_, "no_such_kind", "{}", u_->county_a).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_P(JobsTest, AFailingJobIsFailedWithItsError) {
  JobRunner runner(u_->db(), clock_, Fast());
  runner.Register({"test_fail", "billing.run", [](JobContext& ctx) -> Status {
                     RETURN_IF_ERROR(ctx.Progress("working", 1, 2));
                     return FailedPrecondition("tariff X is missing");
                   }});
  auto job = runner.Submit(clerk_a_, "test_fail", "{}", u_->county_a);
  ASSERT_TRUE(job.ok());
  ASSERT_EQ(*runner.RunPendingForTest(), 1);
  auto j = runner.Load(job->id);
  EXPECT_EQ(j->status, "failed");
  EXPECT_NE(j->error.find("tariff X is missing"), std::string::npos) << j->error;
  EXPECT_EQ(j->stage, "working");
  // A failed job can be resumed by someone with the kind's permission, not by others.
  EXPECT_EQ(runner.Resume(clerk_b_, job->id).status().code(), StatusCode::kNotFound);
  auto resumed = runner.Resume(clerk_a_, job->id);
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  EXPECT_EQ(resumed->status, "queued");
  EXPECT_EQ(runner.Resume(clerk_a_, job->id).status().code(), StatusCode::kFailedPrecondition);
}

TEST_P(JobsTest, ScopedListAndGet) {
  auto runner = MakeRunner();
  auto a = runner->Submit(clerk_a_, "test_count", Params(1, 1), u_->county_a);
  auto b = runner->Submit(clerk_b_, "test_count", Params(1, 1), u_->county_b);
  ASSERT_TRUE(a.ok() && b.ok());
  int64_t total = 0;
  auto list = runner->List(clerk_a_, {}, &total);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].id, a->id);
  EXPECT_EQ(total, 1);
  EXPECT_EQ(runner->Get(clerk_a_, b->id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(runner->Cancel(clerk_a_, b->id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(runner->Get(viewer_, a->id).status().code(), StatusCode::kPermissionDenied);
  auto all = runner->List(u_->system(), {.status = "queued"}, &total);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(total, 2);
  auto sub = runner->List(u_->system(), {.department_id = u_->county_b}, &total);
  ASSERT_TRUE(sub.ok());
  ASSERT_EQ(sub->size(), 1u);
  EXPECT_EQ((*sub)[0].id, b->id);
}

TEST_P(JobsTest, CancelAQueuedJobAtOnceAndARunningOneAtItsNextReport) {
  // Cancelled while running: the job is flagged by another request after its second chunk.
  JobRunner* runner_ptr = nullptr;
  org::Actor canceller = clerk_a_;
  auto runner = MakeRunner([&](JobContext& ctx, int64_t end) {
    if (end == 4) {
      ASSERT_TRUE(runner_ptr->Cancel(canceller, ctx.job_id()).ok());
    }
  });
  runner_ptr = runner.get();
  auto queued = runner->Submit(clerk_a_, "test_count", Params(5, 1), u_->county_a);
  ASSERT_TRUE(queued.ok());
  auto c = runner->Cancel(clerk_a_, queued->id);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->status, "cancelled");
  EXPECT_EQ(runner->Cancel(clerk_a_, queued->id).status().code(), StatusCode::kFailedPrecondition);

  auto job = runner->Submit(clerk_a_, "test_count", Params(10, 2), u_->county_a);
  ASSERT_TRUE(job.ok());
  ASSERT_EQ(*runner->RunPendingForTest(), 1);
  auto j = runner->Load(job->id);
  EXPECT_EQ(j->status, "cancelled");
  EXPECT_TRUE(j->cancel_requested);
  EXPECT_EQ(Rows(), Range(4));  // the committed chunks stay
  // Resumed, it continues from its checkpoint and ends with every row once.
  runner = MakeRunner();
  ASSERT_TRUE(runner->Resume(clerk_a_, job->id).ok());
  ASSERT_EQ(*runner->RunPendingForTest(), 1);
  j = runner->Load(job->id);
  EXPECT_EQ(j->status, "succeeded") << j->error;
  EXPECT_EQ(j->attempts, 2);
  EXPECT_EQ(Rows(), Range(10));
}

TEST_P(JobsTest, ARunningJobWithAStaleHeartbeatIsTakenOver) {
  auto runner = MakeRunner();
  auto job = runner->Submit(clerk_a_, "test_count", Params(6, 2), u_->county_a);
  ASSERT_TRUE(job.ok());
  // Another machine claimed it, wrote two rows with their checkpoint, and went silent.
  ASSERT_TRUE(u_->db()
                  .Write([&](Connection& c) -> Status {
                    RETURN_IF_ERROR(c.Exec("INSERT INTO job_test_rows (n, job_id) VALUES (1, $1), "
                                           "(2, $1)",
                                           {job->id})
                                        .status());
                    return c
                        .Exec(
                            "UPDATE jobs SET status = 'running', owner = 'elsewhere:77:abc', "
                            "heartbeat_us = $1, attempts = 1, checkpoint_json = $2 "
                            "WHERE id = $3",
                            {clock_.NowMicros(), json{{"next", 3}}.dump(), job->id})
                        .status();
                  })
                  .ok());
  // Fresh heartbeat: not ours to take.
  EXPECT_EQ(*runner->RunPendingForTest(), 0);
  EXPECT_EQ(runner->Load(job->id)->status, "running");
  // A stale heartbeat: taken over and finished from the checkpoint.
  clock_.Advance(2 * kMicrosPerMinute);
  EXPECT_EQ(*runner->RunPendingForTest(), 1);
  auto j = runner->Load(job->id);
  EXPECT_EQ(j->status, "succeeded") << j->error;
  EXPECT_EQ(j->attempts, 2);
  EXPECT_EQ(*j->owner, runner->owner());
  EXPECT_EQ(Rows(), Range(6));
}

TEST_P(JobsTest, AJobOfAKilledProcessIsResumedFromItsCheckpoint) {
  auto runner = MakeRunner();
  auto job = runner->Submit(clerk_a_, "test_count", Params(9, 2), u_->county_a);
  ASSERT_TRUE(job.ok());
  std::string url = u_->db().Describe();
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The child runs the job with its own connections and dies without any clean-up after the
    // third chunk commits (as with SIGKILL).
    auto db = store::Database::Open(url);
    if (!db.ok()) _exit(3);
    JobRunner child(**db, clock_, Fast());
    child.Register(Counter(**db, [](JobContext&, int64_t end) {
      if (end == 6) _exit(0);
    }));
    auto r = child.RunNow(job->id);
    _exit(r.ok() ? 4 : 5);
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFEXITED(wstatus));
  ASSERT_EQ(WEXITSTATUS(wstatus), 0);
  auto left = runner->Load(job->id);
  EXPECT_EQ(left->status, "running");
  EXPECT_EQ(left->done, 6);
  EXPECT_EQ(Rows(), Range(6));
  // The heartbeat is fresh, but the owner process is gone: resumed at once.
  EXPECT_EQ(*runner->RunPendingForTest(), 1);
  auto j = runner->Load(job->id);
  EXPECT_EQ(j->status, "succeeded") << j->error;
  EXPECT_EQ(j->attempts, 2);
  EXPECT_EQ(Rows(), Range(9));
}

TEST_P(JobsTest, StopHandsARunningJobBackAndTheNextStartFinishesIt) {
  std::atomic<bool> reached{false};
  auto runner = MakeRunner([&](JobContext& ctx, int64_t end) {
    if (end == 2) {
      reached = true;
      while (!ctx.ShouldStop()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  ASSERT_TRUE(runner->Start().ok());
  auto job = runner->Submit(clerk_a_, "test_count", Params(5, 2), u_->county_a);
  ASSERT_TRUE(job.ok());
  for (int i = 0; i < 2000 && !reached; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(reached);
  runner->Stop();
  auto j = runner->Load(job->id);
  EXPECT_EQ(j->status, "queued");
  EXPECT_FALSE(j->owner.has_value());
  EXPECT_EQ(Rows(), Range(2));

  auto next = MakeRunner();
  ASSERT_TRUE(next->Start().ok());
  auto fin = next->WaitForJob(job->id, 20'000);
  ASSERT_TRUE(fin.ok());
  EXPECT_EQ(fin->status, "succeeded") << fin->error;
  EXPECT_EQ(Rows(), Range(5));
  next->Stop();
}

TEST_P(JobsTest, AnOwnerThatLostTheJobCannotCheckpoint) {
  auto runner = MakeRunner([&](JobContext& ctx, int64_t end) {
    if (end == 1) {
      // Meanwhile another runner took the job over.
      ASSERT_TRUE(u_->db()
                      .Write([&](Connection& c) {
                        return c
                            .Exec("UPDATE jobs SET owner = 'elsewhere:1:x' WHERE id = $1",
                                  {ctx.job_id()})
                            .status();
                      })
                      .ok());
    }
  });
  auto job = runner->Submit(clerk_a_, "test_count", Params(3, 1), u_->county_a);
  ASSERT_TRUE(job.ok());
  ASSERT_EQ(*runner->RunPendingForTest(), 1);
  // The second chunk's transaction rolled back: only the first row exists.
  EXPECT_EQ(Rows(), Range(1));
  EXPECT_EQ(runner->Load(job->id)->status, "running");  // the new owner's to finish
}

INSTANTIATE_TEST_SUITE_P(Backends, JobsTest,
                         ::testing::ValuesIn(store::testing::AvailableBackendsForTest()),
                         [](const auto& p) { return p.param; });

}  // namespace
}  // namespace gridmis::jobs
