// Internals of the billing module shared by its .cc files: loading what rating needs for a set
// of points in a few queries, building rating inputs, review flags, and the bill rows.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "billing/billing.h"
#include "reading/billable.h"
#include "store/db.h"

namespace gridmis::billing {

// A metering point with what its bills need: its own fields, its customer's, the customer's
// first active account and the billing parameters.
struct PointInfo {
  int64_t id = 0;
  std::string code;
  std::string name;
  int64_t customer_id = 0;
  std::string customer_no;
  std::string customer_name;
  std::string customer_address;
  std::string customer_category;
  std::optional<int64_t> account_manager_id;
  std::optional<int64_t> account_id;
  int64_t department_id = 0;
  int64_t voltage_v = 0;
  std::string tariff_code;
  int64_t contracted_capacity_kva = 0;
  std::string pf_standard;
  std::string metering_side;
  std::string status;
  std::string purpose;
  BillingParameters params;
};

// The points of `ids` (unknown ids are left out). Parameter rows that do not parse are an
// Internal error naming the point.
Result<std::map<int64_t, PointInfo>> LoadPoints(store::Connection& c,
                                                const std::vector<int64_t>& ids);

// What earlier live bills of a point say about this period's bill.
struct PriorBills {
  std::optional<Money> last_month;  // total of the previous period's bill
  std::optional<Money> last_year;   // total of the same period last year
  int64_t tier_before_kwh = 0;      // tier kWh of the tier year's bills before this period
  bool has_live_bill = false;       // a live bill for this period exists
  int64_t max_seq = 0;              // of this period's bills, cancelled ones included
};

// For the points of `ids` and `period`. The tier year is the calendar year of the period
// (电费年月).
Result<std::map<int64_t, PriorBills>> LoadPriorBills(store::Connection& c,
                                                     const std::vector<int64_t>& ids,
                                                     YearMonth period);

// The rating input of a read (tariffs.md §1): the spans, the point's own fields, its billing
// parameters and the tier cumulative before this bill.
rating::RatingInput BuildInput(const reading::BillableRead& read, const PointInfo& point,
                               int64_t tier_before_kwh);

// Review flags of a rated bill: zero (total 0), negative_line (a line below zero other than a
// power-factor reward or a free allowance), change_month / change_year (the total moved more
// than `threshold_pct` percent against a non-zero previous total).
std::vector<std::string> ReviewFlags(const rating::RatedBill& rated, const PriorBills& prior,
                                     int64_t threshold_pct);

// A bill about to be written.
struct NewBill {
  Bill bill;  // header fields (no id yet)
  rating::RatedBill rated;
};

// Builds the bill of a rated read (status calculated or review by its flags).
NewBill MakeBill(const reading::BillableRead& read, const PointInfo& point, YearMonth period,
                 rating::RatedBill rated, std::vector<std::string> flags,
                 std::optional<int64_t> run_id, int64_t seq,
                 std::optional<int64_t> replaces_bill_id, std::optional<int64_t> created_by,
                 int64_t now_us);

// The detail JSON of a bill: meters with reads and multiplier, the energy breakdown.
std::string DetailJson(const reading::BillableRead& read, const rating::RatedBill& rated);

// Inserts bills and their lines with multi-row prepared statements; assigns ids (reserved in
// the transaction) into the bills.
Status InsertBills(store::Connection& c, std::vector<NewBill>& bills);
Status InsertLines(store::Connection& c, int64_t bill_id,
                   const std::vector<rating::BillLine>& lines);

// The bills of `period` of the points from `first_point` to `last_point` (by id), cancelled ones
// included: point → (has a live bill, highest seq). One range scan of the bill-number index
// (bill numbers sort by period, then point, then seq).
struct PeriodBills {
  bool live = false;
  int64_t max_seq = 0;
};
Result<std::map<int64_t, PeriodBills>> BillsOfPeriod(store::Connection& c, YearMonth period,
                                                     int64_t first_point, int64_t last_point);

// Loading bills.
extern const char* const kBillSelect;  // "SELECT ... FROM bills b JOIN ..." (no WHERE)
Bill ReadBill(const store::Row& r);
Result<std::optional<Bill>> LoadBill(store::Connection& c, int64_t id);
Status LoadLines(store::Connection& c, Bill* bill);

// The approved read of one point (NotFound naming the point and period when there is none);
// `base` carries the period, zone and whether daily totals are wanted.
Result<reading::BillableRead> LoadReadOfPoint(store::Connection& c, const PointInfo& point,
                                              const reading::BillableQuery& base);

// Whether any tariff of the catalogue changes price within the reads of `period` (a version
// starting from 40 days before the month through its end): the reads then need daily totals to
// split the energy at the change exactly.
bool NeedsDailyTotals(const rating::TariffCatalogue& catalogue, YearMonth period);

std::string JoinFlags(const std::vector<std::string>& flags);
std::vector<std::string> SplitFlags(std::string_view s);

// Parameters (parameters.cc).
Result<std::optional<BillingParameters>> LoadParameters(store::Connection& c, int64_t point_id);
Result<BillingParameters> ReadParameterColumns(const store::Row& r, int at, int64_t point_id);
extern const char* const kParameterCols;  // bp.* columns in ReadParameterColumns order
inline constexpr int kParameterColCount = 21;

// Documents (documents.cc).
struct BillDocument {
  Bill bill;  // with lines and detail_json
  std::string utility_name;
  std::string department_name;
  std::string voltage_text;  // 交流10kV
  std::string payment_url;
  Date print_date;
};
Result<std::string> RenderBillPdf(const BillDocument& doc);
// The bills `next_page` returns, page after page until an empty one, as one worksheet.
Result<std::string> RenderBillsXlsx(const std::function<Result<std::vector<Bill>>()>& next_page);
Result<std::string> RenderBillsXlsx(const std::vector<Bill>& bills);

}  // namespace gridmis::billing

// ---- The service's state (billing.cc, bill_run.cc, parameters.cc) ----
namespace gridmis::billing {

struct BillingService::Impl {
  store::Database& db;
  const Clock& clock;
  const TimeZone& tz;
  std::shared_ptr<const rating::TariffCatalogue> catalogue;
  jobs::JobRunner& runner;
  BillingOptions options;

  // The job functions.
  Status RunBillRun(jobs::JobContext& ctx);
  Status RunIssue(jobs::JobContext& ctx);

  // The point behind a bill or a parameter edit, when visible to the actor; NotFound otherwise.
  Result<PointInfo> VisiblePoint(store::Connection& c, const org::Actor& actor, int64_t point_id);
  // A bill visible to the actor, without lines; NotFound otherwise.
  Result<Bill> VisibleBill(store::Connection& c, const org::Actor& actor, int64_t id);
  // Rates one point's read (recalculate, rebill, trial).
  Result<NewBill> RateOne(store::Connection& c, const PointInfo& point, YearMonth period,
                          int64_t threshold_pct, std::optional<int64_t> run_id, int64_t seq,
                          std::optional<int64_t> replaces, std::optional<int64_t> created_by);
  // The reading query of a period: the zone and daily totals set.
  reading::BillableQuery QueryFor(YearMonth period) const;
  // Issues one bill inside the caller's transaction (the bill is calculated or approved).
  Status IssueInTx(store::Connection& c, const org::Actor& actor, const Bill& bill, int64_t now);
};

}  // namespace gridmis::billing
