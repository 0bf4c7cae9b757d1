// The accounts module's background job kinds for the job runner (jobs/jobs.h).
#pragma once

#include "accounts/prepaid.h"
#include "jobs/jobs.h"

namespace gridmis::accounts {

// "prepaid_deduction" (permission prepaid.write), params {"day": "YYYY-MM-DD",
// "department_id": N (optional)}: PrepaidService::RunDailyDeduction as a job, with progress and
// cancellation; the result is the run's JSON. Rerunning (or resuming after a crash) changes
// nothing for the accounts already done: the deduction is idempotent per day.
jobs::JobKind PrepaidDeductionJobKind(PrepaidService& prepaid);

}  // namespace gridmis::accounts
