#include "accounts/jobs.h"

#include <nlohmann/json.hpp>

#include "http/json_fields.h"

namespace gridmis::accounts {

jobs::JobKind PrepaidDeductionJobKind(PrepaidService& prepaid) {
  PrepaidService* service = &prepaid;
  return {"prepaid_deduction", "prepaid.write", [service](jobs::JobContext& ctx) -> Status {
            ASSIGN_OR_RETURN(nlohmann::json params, http::ParseJsonObject(ctx.job().params_json));
            http::JsonFields f(params);
            std::string day_text = f.String("day", {.max_len = 10});
            auto department = f.OptInt("department_id", {.min = 1});
            RETURN_IF_ERROR(f.Finish());
            ASSIGN_OR_RETURN(Date day, Date::Parse(day_text, "day"));
            ASSIGN_OR_RETURN(DeductionRun run,
                             service->RunDailyDeduction(
                                 ctx.actor(), day, department, [&ctx](int64_t done, int64_t total) {
                                   return ctx.Progress("deducting", done, total);
                                 }));
            ctx.SetResult(ToJson(run).dump());
            return Status::Ok();
          }};
}

}  // namespace gridmis::accounts
