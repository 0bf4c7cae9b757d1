#include "jobs/routes.h"

#include "grid/route_helpers.h"

namespace gridmis::jobs {

using grid::api::Bool;
using grid::api::Enum;
using grid::api::Int;
using grid::api::JsonReply;
using grid::api::NullableInt;
using grid::api::NullableStr;
using grid::api::Obj;
using grid::api::QueryEnum;
using grid::api::QueryText;
using grid::api::Str;
using http::Reply;
using http::RouteContext;
using nlohmann::json;

namespace {

const std::initializer_list<std::string_view> kStatuses = {"queued", "running", "succeeded",
                                                           "failed", "cancelled"};

}  // namespace

void AddRoutes(http::Router& router, JobRunner& runner) {
  JobRunner* r = &runner;
  router.AddSchema("Job",
                   Obj({{"id", Int()},
                        {"kind", Str("bill_run, ...")},
                        {"params", {{"type", "object"}, {"description", "the kind's parameters"}}},
                        {"department_id", NullableInt()},
                        {"status", Enum(kStatuses)},
                        {"stage", Str("what it is doing now")},
                        {"done", Int()},
                        {"total", Int("0 while unknown")},
                        {"percent", Int()},
                        {"result", {{"type", "object"}, {"nullable", true}}},
                        {"error", Str()},
                        {"cancel_requested", Bool()},
                        {"created_by", NullableInt()},
                        {"created_by_name", Str()},
                        {"attempts", Int("times started, resumes included")},
                        {"created_at", Str()},
                        {"started_at", NullableStr()},
                        {"finished_at", NullableStr()},
                        {"heartbeat_at", NullableStr()},
                        {"version", Int()}},
                       {"id", "kind", "status", "done", "total"}));
  router.AddSchema("JobCancelRequest", Obj({{"reason", Str("optional note")}}));

  router.Add({.method = "GET",
              .pattern = "/api/v1/jobs",
              .permission = "jobs.read",
              .summary = "Background jobs in your data scope, newest first",
              .tag = "jobs",
              .query = {{"kind", "string", "e.g. bill_run"},
                        {"status", "string", "queued, running, succeeded, failed, cancelled"},
                        {"department_id", "integer", "that department and below"}},
              .response = "Job",
              .list = true,
              .fn = [r](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
                JobQuery q;
                ASSIGN_OR_RETURN(q.kind, QueryText(ctx.req, "kind", 32));
                ASSIGN_OR_RETURN(q.status, QueryEnum(ctx.req, "status", kStatuses));
                ASSIGN_OR_RETURN(q.department_id, http::QueryInt(ctx.req, "department_id"));
                q.page = page.page;
                q.page_size = page.page_size;
                int64_t total = 0;
                ASSIGN_OR_RETURN(auto list, r->List(ctx.actor, q, &total));
                return JsonReply(http::PageOf(list, page, total));
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/jobs/{id}",
              .permission = "jobs.read",
              .summary = "One job with its progress, result or error",
              .tag = "jobs",
              .response = "Job",
              .fn = [r](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(Job j, r->Get(ctx.actor, id));
                return JsonReply(ToJson(j));
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/jobs/{id}/cancel",
              .permission = "jobs.read",
              .summary = "Cancel a job (also needs the job kind's permission, e.g. billing.run): "
                         "a queued job at once, a running one at its next progress report; work "
                         "already committed stays and a resume continues from the checkpoint",
              .tag = "jobs",
              .request = "JobCancelRequest",
              .response = "Job",
              .fn = [r](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                if (!ctx.req.body.empty()) {
                  ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                  http::JsonFields f(body);
                  (void)f.OptString("reason", {.max_len = 200, .min_len = 0});
                  RETURN_IF_ERROR(f.Finish());
                }
                ASSIGN_OR_RETURN(Job j, r->Cancel(ctx.actor, id));
                return JsonReply(ToJson(j));
              }});
}

}  // namespace gridmis::jobs
