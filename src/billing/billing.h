// Bill runs and bills (电费核算): billing parameters of metering points, bill runs over a
// department (and optionally a reading segment) and period, the review queue, issuing,
// corrections (cancel and rebill) and the bill documents.
//
// A bill run is a job (jobs/jobs.h) of kind "bill_run". It pages through the period's approved
// reads (reading::LoadBillableReads), rates each point (rating::Rate) with its metering point,
// billing parameters and tier cumulative, and writes bills and their lines in chunked write
// transactions that also hold the job's checkpoint. A point that already has a live
// (non-cancelled) bill for the period is skipped, and a unique index keeps it so: a run killed
// at any point and started again ends with exactly the bills an uninterrupted run makes. Rating
// errors go to the run's exception list, not to bills.
//
// Bill states: calculated (passed the automatic review) | review (flagged: zero bill, a negative
// line, or a total that moved more than the run's threshold against last month or the same
// month last year) | held → approved → issued; cancelled. Issuing posts to the ledger
// (accounts::PostBillIssued) in the same transaction. An issued bill is never edited: a
// correction cancels it (accounts::PostBillCancelled) and makes a new bill with seq + 1 and
// replaces_bill_id.
//
// Data scope: a bill belongs to its metering point's department and customer (account manager
// for the "self" scope); records outside it are NotFound. Permissions: billing.read (bills,
// runs), billing.run (start and resume runs, billing parameters), billing.review (approve,
// hold, recalculate, issue), billing.correct (cancel and rebill), billing.export (xlsx),
// billing.trial (trial from stored reads). Every write is audited in its transaction; edits
// carry the version (stale: Aborted).
//
// Thread-safety: BillingService is thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/money.h"
#include "core/status.h"
#include "core/time.h"
#include "grid/records.h"
#include "jobs/jobs.h"
#include "org/actor.h"
#include "rating/rating.h"
#include "rating/tariff.h"
#include "store/db.h"

namespace gridmis::billing {

// ---- Billing parameters (计费参数) ----

struct BillingParameters {
  int64_t metering_point_id = 0;
  rating::BasicChargeMode basic_mode = rating::BasicChargeMode::kNone;
  std::optional<int64_t> declared_demand_kw;
  std::optional<rating::TransformerLossConfig> transformer;  // for metering_side = low
  std::optional<Decimal> line_loss_rate;
  std::vector<rating::SubAllocation> sub_allocations;
  std::vector<rating::DayRange> suspensions;
  int64_t household_multiplier = 1;
  int64_t free_allowance_kwh = 0;
  std::optional<Date> service_start;
  std::optional<Date> service_end;
  int64_t version = 0;  // 0: none stored (the defaults)
  int64_t created_at_us = 0;
  int64_t updated_at_us = 0;
};

std::string_view BasicModeName(rating::BasicChargeMode m);  // none, capacity, ...
Result<rating::BasicChargeMode> ParseBasicMode(std::string_view s, std::string_view field);

// Field checks; errors name the field ("sub_allocations[1].ratio").
Status CheckParameters(const BillingParameters& p);

// ---- Bills ----

struct Bill {
  int64_t id = 0;
  std::string bill_no;
  int64_t metering_point_id = 0;
  std::string metering_point_code;  // read-only
  std::string metering_point_name;  // read-only
  int64_t customer_id = 0;
  std::string customer_no;       // read-only
  std::string customer_name;     // read-only
  std::string customer_address;  // read-only
  std::optional<int64_t> account_id;
  int64_t department_id = 0;
  YearMonth period;
  int64_t seq = 1;
  std::string status;  // calculated, review, held, approved, issued, cancelled
  std::string tariff_code;
  std::string tariff_version;
  std::string customer_category;
  Date first_day;
  Date last_day;
  int64_t billed_kwh = 0;
  int64_t tier_kwh[3] = {0, 0, 0};
  int64_t tier_cumulative_after_kwh = 0;
  std::optional<std::string> power_factor;
  std::optional<std::string> pf_adjust_rate;
  std::optional<std::string> pf_standard;  // 0.90 / 0.85 / 0.80 when assessed
  Money pf_base;                           // 参与调整电费金额
  Money energy_charge;
  Money basic_charge;
  Money pf_charge;
  Money fund_charge;
  Money total;
  std::optional<int64_t> run_id;
  int64_t read_id = 0;
  std::string read_source;
  std::vector<std::string> review_flags;  // zero, negative_line, change_month, change_year
  std::string review_note;
  std::string detail_json;  // {"meters": [...], "energy": {...}}
  std::optional<Date> due_date;
  std::optional<int64_t> approved_by;
  std::optional<int64_t> approved_at_us;
  std::optional<int64_t> issued_by;
  std::optional<int64_t> issued_at_us;
  std::optional<int64_t> cancelled_by;
  std::optional<int64_t> cancelled_at_us;
  std::optional<std::string> cancel_reason;
  std::optional<int64_t> replaces_bill_id;
  std::optional<int64_t> created_by;
  int64_t created_at_us = 0;
  int64_t updated_at_us = 0;
  int64_t version = 0;
  std::vector<rating::BillLine> lines;  // GetBill only
};

struct BillQuery {
  std::optional<int64_t> run_id;
  std::optional<int64_t> metering_point_id;
  std::optional<int64_t> customer_id;
  std::optional<int64_t> department_id;  // that department and below
  std::string status;                    // "" = any
  std::optional<YearMonth> period;
  int page = 1;
  int page_size = 20;
  int64_t after_id = 0;  // keyset paging (exports): bills with a larger id
};

// The deterministic bill number: YYYYMM, the point id in 10 digits, the seq in 2.
std::string BillNo(YearMonth period, int64_t metering_point_id, int64_t seq);

// ---- Bill runs ----

struct RunRequest {
  YearMonth period;
  int64_t department_id = 0;
  std::optional<int64_t> segment_id;
  std::optional<int64_t> change_threshold_pct;  // default BillingOptions
  // The CLI runs the job itself: the job is created owned by this process's runner, so that a
  // server on the same database does not take it first.
  bool claim_for_this_process = false;
};

struct BillRun {
  int64_t id = 0;
  int64_t job_id = 0;
  int64_t department_id = 0;
  std::optional<int64_t> segment_id;
  YearMonth period;
  int64_t change_threshold_pct = 0;
  // Summary (when the run has finished).
  int64_t bills = 0;
  Money total;
  int64_t exceptions = 0;
  int64_t unbillable = 0;
  int64_t review = 0;
  int64_t skipped = 0;
  int64_t elapsed_ms = 0;
  std::optional<int64_t> started_by;
  std::string started_by_name;
  int64_t created_at_us = 0;
  std::optional<int64_t> finished_at_us;
  jobs::Job job;  // status and progress
};

struct RunQuery {
  std::optional<YearMonth> period;
  std::optional<int64_t> department_id;  // that department and below
  int page = 1;
  int page_size = 20;
};

struct RunException {
  int64_t metering_point_id = 0;
  std::string metering_point_code;
  int64_t read_id = 0;
  std::string code;
  std::string message;
};

// A cancelled bill and its rebill (when asked for).
struct Correction {
  Bill cancelled;
  std::optional<Bill> rebill;
};

// A trial from stored reads: what the bill would be, nothing saved.
struct Trial {
  rating::RatedBill rated;
  int64_t read_id = 0;
  Date first_day;
  Date last_day;
  int64_t tier_cumulative_before_kwh = 0;
  std::vector<std::string> review_flags;
};

struct BillingOptions {
  int64_t default_change_threshold_pct = 30;
  int page_size = 2000;  // reads per LoadBillableReads page = bills per write transaction
  // Read and rate the next page on a second thread while the current one is written.
  bool pipeline = true;
  // The payment link printed as a QR code: this prefix + the bill number.
  std::string payment_url_prefix = "https://pay.gridmis.example/bill?no=";
  std::string utility_name = "供电公司";  // the bill's header when the department has no name
  // Test hook: the run fails (as if killed) after this many committed chunks; -1 = never.
  int fail_after_chunks_for_test = -1;
};

class BillingService {
 public:
  // Registers the job kinds "bill_run" and "bill_issue" with `runner`. `catalogue` and the
  // references must outlive the service.
  BillingService(store::Database& db, const Clock& clock, const TimeZone& tz,
                 std::shared_ptr<const rating::TariffCatalogue> catalogue, jobs::JobRunner& runner,
                 BillingOptions options = {});
  ~BillingService();

  const BillingOptions& options() const;
  void set_options_for_test(const BillingOptions& o);

  // ---- Billing parameters ----
  // The stored parameters, or the defaults (version 0) when none are stored.
  Result<BillingParameters> GetParameters(const org::Actor& actor, int64_t point_id);
  // Creates (version 0) or replaces (the stored version) the point's parameters.
  Result<BillingParameters> PutParameters(const org::Actor& actor, int64_t point_id,
                                          int64_t version, const BillingParameters& in);

  // ---- Runs ----
  // Creates the run and its queued job (billing.run). FailedPrecondition when a run of the same
  // department, segment and period is queued or running.
  Result<BillRun> StartRun(const org::Actor& actor, const RunRequest& req);
  Result<BillRun> GetRun(const org::Actor& actor, int64_t id);
  Result<std::vector<BillRun>> ListRuns(const org::Actor& actor, const RunQuery& q, int64_t* total);
  Result<std::vector<RunException>> RunExceptions(const org::Actor& actor, int64_t run_id, int page,
                                                  int page_size, int64_t* total);
  // A failed or cancelled run continues from its checkpoint (billing.run).
  Result<BillRun> ResumeRun(const org::Actor& actor, int64_t id);
  // The unfinished run (failed, cancelled, or running with a dead owner) of the same
  // department, segment and period, if any: the CLI resumes it instead of starting another.
  Result<std::optional<BillRun>> FindUnfinishedRun(const RunRequest& req);
  // Issues the run's calculated and approved bills in a job of kind "bill_issue"
  // (billing.review); returns the job.
  Result<jobs::Job> IssueRun(const org::Actor& actor, int64_t run_id);

  // ---- Bills ----
  Result<std::vector<Bill>> ListBills(const org::Actor& actor, const BillQuery& q,
                                      grid::CappedCount* total);
  // With its lines.
  Result<Bill> GetBill(const org::Actor& actor, int64_t id);
  // calculated | review → approved.
  Result<Bill> Approve(const org::Actor& actor, int64_t id, int64_t version,
                       const std::string& note);
  // calculated | review | approved → held.
  Result<Bill> Hold(const org::Actor& actor, int64_t id, int64_t version,
                    const std::string& reason);
  // held → review (flagged) or calculated.
  Result<Bill> Unhold(const org::Actor& actor, int64_t id, int64_t version);
  // Rerates a bill that is not issued from its point's approved read (which may have been
  // corrected) and current parameters; lines, amounts and flags are replaced.
  Result<Bill> Recalculate(const org::Actor& actor, int64_t id, int64_t version);
  // calculated | approved → issued, posting to the ledger; the due date from the catalogue's
  // policy.
  Result<Bill> Issue(const org::Actor& actor, int64_t id, int64_t version);
  // Cancels a bill (an issued one with reversal entries) and, with `rebill`, makes its
  // replacement from the approved read (billing.correct).
  Result<Correction> Cancel(const org::Actor& actor, int64_t id, int64_t version,
                            const std::string& reason, bool rebill);

  // Rates a point's stored approved read for `period` without saving (billing.trial).
  Result<Trial> TrialStored(const org::Actor& actor, int64_t point_id, YearMonth period);

  // ---- Documents ----
  // The bill as a PDF (billing.read).
  Result<std::string> BillPdf(const org::Actor& actor, int64_t id);
  // The bills of the query as an xlsx workbook (billing.export), at most `max_rows`.
  Result<std::string> ExportXlsx(const org::Actor& actor, const BillQuery& q,
                                 int64_t max_rows = 100'000);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

nlohmann::json ToJson(const BillingParameters& p);
// Without lines unless `with_lines`.
nlohmann::json ToJson(const Bill& b, bool with_lines);
nlohmann::json ToJson(const rating::BillLine& l);
nlohmann::json ToJson(const BillRun& r);
nlohmann::json ToJson(const RunException& e);
nlohmann::json ToJson(const Trial& t);

}  // namespace gridmis::billing
