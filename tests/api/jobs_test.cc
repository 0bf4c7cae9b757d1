// Background jobs over HTTP: the scoped list and detail, cancel (the job kind's permission), a
// cancelled run resumed, and a run left "running" by a killed process taken over when the
// server's runner starts.
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "api/api_fixture.h"
#include "app/domain.h"
#include "jobs/jobs.h"

namespace gridmis::testing {
namespace {

using nlohmann::json;

class JobsApiTest : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    CreateUser("hesuan_a", county_a_, "billing_clerk");
    CreateUser("hesuan_b", county_b_, "billing_clerk");
    CreateUser("caiwu_a", county_a_, "finance_clerk");  // jobs.read, not billing.run
    hesuan_a_ = LoginAs("hesuan_a");
    hesuan_b_ = LoginAs("hesuan_b");
    caiwu_a_ = LoginAs("caiwu_a");
    // Jobs stay queued until a test starts the runner again.
    app_->domain().jobs().Stop();
  }

  json StartRun(HttpClient& c, int64_t dept) {
    auto r =
        c.Post("/api/v1/bill-runs", json{{"period", "2026-09"}, {"department_id", dept}}.dump());
    EXPECT_EQ(r.status, 202) << r.body;
    return Json(r);
  }

  std::string JobPath(const json& run, const std::string& action = "") {
    return "/api/v1/jobs/" + std::to_string(run.value("job_id", int64_t{0})) + action;
  }

  std::unique_ptr<HttpClient> hesuan_a_, hesuan_b_, caiwu_a_;
};

TEST_P(JobsApiTest, ListAndDetailAreScoped) {
  json a = StartRun(*hesuan_a_, county_a_);
  json b = StartRun(*hesuan_b_, county_b_);
  json mine = Json(hesuan_a_->Get("/api/v1/jobs"));
  ASSERT_EQ(mine["total"], 1) << mine.dump();
  EXPECT_EQ(mine["items"][0]["id"], a["job_id"]);
  EXPECT_EQ(mine["items"][0]["kind"], "bill_run");
  EXPECT_EQ(mine["items"][0]["status"], "queued");
  EXPECT_EQ(mine["items"][0]["params"]["period"], "2026-09");
  EXPECT_EQ(hesuan_a_->Get(JobPath(b)).status, 404);
  auto mgr = LoginAs("manager");  // the city: both counties
  EXPECT_EQ(Json(mgr->Get("/api/v1/jobs"))["total"], 2);
  EXPECT_EQ(Json(mgr->Get("/api/v1/jobs?department_id=" + std::to_string(county_b_)))["total"], 1);
  EXPECT_EQ(Json(mgr->Get("/api/v1/jobs?status=running"))["total"], 0);
  EXPECT_EQ(mgr->Get("/api/v1/jobs?status=stuck").status, 400);
  EXPECT_EQ(LoginAs("clerk_a")->Get("/api/v1/jobs").status, 403);  // no jobs.read
  json one = Json(hesuan_a_->Get(JobPath(a)));
  EXPECT_EQ(one["created_by_name"], "hesuan_a");
  EXPECT_EQ(one["department_id"], county_a_);
}

TEST_P(JobsApiTest, CancelNeedsTheKindsPermissionAndAResumedRunFinishes) {
  json a = StartRun(*hesuan_a_, county_a_);
  EXPECT_EQ(hesuan_b_->Post(JobPath(a, "/cancel"), "{}").status, 404);
  EXPECT_EQ(caiwu_a_->Get(JobPath(a)).status, 200);
  EXPECT_EQ(caiwu_a_->Post(JobPath(a, "/cancel"), "{}").status, 403);  // billing.run
  auto bad = hesuan_a_->Post(JobPath(a, "/cancel"), json{{"why", "x"}}.dump());
  EXPECT_EQ(bad.status, 400);
  int64_t audits = AuditCount();
  auto c = hesuan_a_->Post(JobPath(a, "/cancel"), json{{"reason", "参数有误"}}.dump());
  ASSERT_EQ(c.status, 200) << c.body;
  EXPECT_EQ(Json(c)["status"], "cancelled");
  EXPECT_EQ(AuditCount(), audits + 1);
  auto again = hesuan_a_->Post(JobPath(a, "/cancel"), "{}");
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(Json(again)["error"]["code"], "FAILED_PRECONDITION");
  // A cancelled run is resumed and the runner finishes it.
  std::string run_path = "/api/v1/bill-runs/" + std::to_string(a["id"].get<int64_t>());
  auto resumed = hesuan_a_->Post(run_path + "/resume", "{}");
  ASSERT_EQ(resumed.status, 202) << resumed.body;
  EXPECT_EQ(Json(resumed)["status"], "queued");
  ASSERT_TRUE(app_->domain().jobs().Start().ok());
  auto done = app_->domain().jobs().WaitForJob(a["job_id"], 60'000);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->status, "succeeded") << done->error;
  EXPECT_EQ(Json(hesuan_a_->Get(run_path))["status"], "succeeded");
  EXPECT_EQ(hesuan_a_->Post(run_path + "/resume", "{}").status, 409);
}

TEST_P(JobsApiTest, ARunLeftRunningByAKilledProcessIsTakenOverAtStart) {
  json a = StartRun(*hesuan_a_, county_a_);
  // A process of this host claimed the job and was killed (its pid no longer exists).
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(0);
  ASSERT_EQ(waitpid(child, nullptr, 0), child);
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  std::string owner = std::string(host) + ":" + std::to_string(child) + ":deadbeef";
  ASSERT_TRUE(app_->db()
                  .Write([&](store::Connection& c) {
                    return c
                        .Exec(
                            "UPDATE jobs SET status = 'running', owner = $1, heartbeat_us = $2, "
                            "attempts = 1, started_at_us = $2 WHERE id = $3",
                            {owner, clock_.NowMicros(), a["job_id"].get<int64_t>()})
                        .status();
                  })
                  .ok());
  EXPECT_EQ(Json(hesuan_a_->Get(JobPath(a)))["status"], "running");
  ASSERT_TRUE(app_->domain().jobs().Start().ok());
  auto done = app_->domain().jobs().WaitForJob(a["job_id"], 60'000);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->status, "succeeded") << done->error;
  EXPECT_EQ(done->attempts, 2);
  EXPECT_EQ(*done->owner, app_->domain().jobs().owner());
  json job = Json(hesuan_a_->Get(JobPath(a)));
  EXPECT_EQ(job["status"], "succeeded");
  EXPECT_EQ(job["attempts"], 2);
}

GRIDMIS_API_TEST_BACKENDS(JobsApiTest);

}  // namespace
}  // namespace gridmis::testing
