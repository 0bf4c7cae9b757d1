// VEE — validation, estimation and editing of collected data (采集数据校核).
//
// Pure rules and estimators (no I/O) plus the service that applies them to stored data.
//
// Validation rules, each a named rule with at most one finding per (point, day, rule):
//   rollover        current register below the previous day's and the drop fits a register
//                   wrap (known integer digits, the wrapped difference under 10 % of the
//                   register range, as reading::RegisterDifference): accepted, flagged for
//                   information
//   reverse         current below previous without a wrap: suspect
//   spike           daily use above max(k × median of the last 30 days, a floor): suspect
//   zero_run        N days (default 3) in a row of zero use on a point that used energy before
//                   (reported once per run, on the row where the run reaches N days)
//   curve_sum       the day's interval energies differ from the register delta by more than
//                   the tolerance (default 2 % or 0.5 kWh, whichever is larger)
//   clock_drift     terminal/meter clock off by more than the limit (default 5 min)
//   tou_sum         rate registers do not add up to the total (tolerance: 0.01 kWh per
//                   register, the resolution of a DL/T 645 register)
// The day of a finding: for the register rules the daily frozen row's day (frozen at 00:00 of
// that day, so a spike on day D+1's row is the use of day D); for curve_sum the curve's day;
// for clock_drift the local day of the clock reading.
//
// Suspect registers: reading::StoreDailyFrozen accepts only valid, estimated and edited, so a
// daily frozen row stays "valid" in daily_frozen_reads and its suspect state is an open finding
// of severity "suspect" in vee_issues (the review detail shows such a row as "suspect"). Curve
// values carry Quality::kSuspect themselves: a curve failing curve_sum has its valid values
// marked 'S' while the finding is open.
//
// Estimation: daily registers interpolated linearly between the neighbouring rows of the same
// meter (up to max_register_gap_days); curve gaps linear up to max_linear_minutes (6 h; 12 h
// when the register delta is known), like-day averaging (same weekday over the last 4 weeks)
// beyond, scaled to the day's register delta when both frozen ends were collected. The
// thresholds come from the evaluation on real data (docs/vee-evaluation.md). Estimated values
// carry Quality::kEstimated.
// Editing: a person replaces a value with a reason; audited; Quality::kEdited.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "acquisition/readings.h"
#include "core/money.h"
#include "core/status.h"
#include "core/time.h"
#include "org/actor.h"
#include "reading/billable.h"
#include "store/db.h"

namespace gridmis::acquisition::vee {

struct VeeOptions {
  int spike_factor = 5;              // × median daily use
  int64_t spike_floor_dwh = 500000;  // 50 kWh: below this never a spike
  int zero_run_days = 3;
  int curve_sum_tolerance_permille = 20;  // 2 %
  int64_t curve_sum_floor_dwh = 5000;     // 0.5 kWh
  int clock_drift_limit_seconds = 300;
  int max_linear_gap = 4;  // values: longer gaps use like-day averaging (the pure FillGaps)
  // --- added by the VEE implementation ---
  int history_days = 30;            // days of use the spike median looks back over
  int spike_min_history = 7;        // fewer daily uses than this in the window: no spike check
  int64_t tou_tolerance_dwh = 100;  // allowed |Σ rates − total| per register compared
  int like_weeks = 4;               // like-day averaging: the same weekday of N earlier weeks
  int max_register_gap_days = 31;   // daily registers interpolated across at most this many days
  int max_estimate_days = 62;       // one EstimateRange / Revalidate call covers at most this
  // The service's curve estimation (EstimateRange) decides by duration, whatever the interval:
  // linear up to this long a gap, like-day beyond. Measured on real half-hourly data
  // (docs/vee-evaluation.md, bench/vee_eval): without a register anchor linear is better up to
  // about 6 h; when the day's register delta scales the estimate, linear shapes stay better up
  // to about 12 h.
  int max_linear_minutes = 360;
  int max_linear_minutes_anchored = 720;
  std::string time_zone = "Asia/Shanghai";  // local midnight of a frozen day (meter changes)
};

// Rule names, in the order above; severities.
const std::vector<std::string>& RuleNames();
inline constexpr const char* kInfo = "info";
inline constexpr const char* kSuspect = "suspect";

struct Finding {
  int64_t metering_point_id = 0;  // 0 for a terminal's own clock (then terminal_id is set)
  std::optional<int64_t> terminal_id;
  Date day;
  std::string rule;      // rollover, reverse, spike, zero_run, curve_sum, clock_drift, tou_sum
  std::string severity;  // info, suspect
  std::string detail;    // words with the numbers: "use 812.4 kWh > 5 × median 9.1 kWh"
};

// ---- Pure rules ----

// One daily frozen row of a point with the meter in effect when it was frozen: `meter_key`
// identifies the installation (0 when the point has no installation records: one meter
// assumed), `digits` its register integer digits (0 = unknown).
struct DailyRow {
  reading::DailyFrozen frozen;
  int64_t meter_key = 0;
  int digits = 0;
};

// Applies rollover, reverse, spike, zero_run and tou_sum to one point's rows (sorted by day,
// one per day) and returns the findings on the rows whose day is in `report_days` (every row
// when empty). A step between two rows of different meters (a replacement), or with a
// different multiplier, is not checked. Use over a gap of k days counts as k days of use/k.
std::vector<Finding> ValidateDailySeries(const std::vector<DailyRow>& rows,
                                         const std::set<Date>& report_days,
                                         const VeeOptions& o = {});

// The total register's difference to.total − from.total, rollover-aware (see above); nullopt
// when a total is missing or it went backwards without a wrap.
std::optional<Energy> TotalUse(const reading::DailyFrozen& from, const reading::DailyFrozen& to,
                               int digits, bool* rolled_over = nullptr);

// tou_sum on one row: |sharp + peak + flat + valley − total| above tou_tolerance_dwh per
// register compared (the rates present and the total). nullopt without a total or rates.
std::optional<Finding> CheckTouSum(const reading::DailyFrozen& row, const VeeOptions& o = {});

// curve_sum: a complete curve (no missing value) of fwd_active_energy against the total
// register's delta over its day (frozen day+1 − frozen day). nullopt when within tolerance,
// when a value is missing or for other quantities.
std::optional<Finding> CheckCurveSum(const Curve& curve, Energy register_delta,
                                     const VeeOptions& o = {});

// clock_drift: |drift_seconds| (device clock − master clock) above the limit.
std::optional<Finding> CheckClockDrift(int64_t metering_point_id,
                                       std::optional<int64_t> terminal_id, Date day,
                                       int64_t drift_seconds, const std::string& what,
                                       const VeeOptions& o = {});

// ---- Estimation ----

// Estimation of a series with gaps (nullopt). Interval values (energy per interval): gaps of
// up to max_linear filled by linear interpolation between the neighbours' values; longer ones
// by like-day averaging over `history` (the same interval of earlier days, one vector per day,
// newest first); returned with one Quality char per value ('E' where filled, the input flag
// elsewhere; values without any basis stay missing).
struct Estimate {
  std::vector<std::optional<Energy>> values;
  std::string quality;
};
Estimate FillGaps(const std::vector<std::optional<Energy>>& values, const std::string& quality,
                  const std::vector<std::vector<std::optional<Energy>>>& history,
                  const VeeOptions& o = {});

enum class FillMethod {
  kAuto,     // linear up to max_linear values, like-day for longer gaps (FillGaps)
  kLinear,   // linear between the neighbours whatever the gap's length
  kLikeDay,  // like-day averaging whatever the gap's length
};
struct FillSettings {
  FillMethod method = FillMethod::kAuto;
  int max_linear = 4;
  // The series' known total (a register delta over the whole series): when set, the estimated
  // values are scaled (largest remainder, exact in dWh) so that the series adds up to it, and
  // positions with no basis are filled flat from the remainder. Ignored when the known values
  // already exceed it.
  std::optional<Energy> target_total;
};
// FillGaps with a choice of method. `history[k]` is the series `values` covers shifted back by
// k+1 like periods (for a one-day series, the same weekday k+1 weeks earlier); shorter vectors
// count as missing beyond their end. `quality` shorter than `values` is read as 'V' for present
// and 'M' for missing values. A gap at either end of the series is never linear: like-day, or
// flat from its one neighbour when there is no history. Every result is an exact integer in dWh
// (rounding half up); no floating point.
Estimate FillGapsWith(const std::vector<std::optional<Energy>>& values, const std::string& quality,
                      const std::vector<std::vector<std::optional<Energy>>>& history,
                      const FillSettings& s);

// The registers of `day` interpolated between two rows of the same meter (before.day < day <
// after.day): each cumulative register present in both and not going backwards, linearly in
// days and rounded half up to the dWh; the rate registers shared (largest remainder) so they add
// up to the interpolated total when they do at both ends. quality "estimated". nullopt when no
// register can be interpolated or the multipliers differ.
std::optional<reading::DailyFrozen> InterpolateDailyFrozen(const reading::DailyFrozen& before,
                                                           const reading::DailyFrozen& after,
                                                           Date day);

// ---- The service ----

// A finding as stored (vee_issues), with its review state.
struct Issue {
  int64_t id = 0;
  std::optional<int64_t> metering_point_id;
  std::string point_code;  // "" for a terminal's clock
  std::optional<int64_t> terminal_id;
  int64_t department_id = 0;
  Date day;
  std::string rule;
  std::string severity;
  std::string detail;
  std::string status;  // open, accepted, corrected, dismissed
  std::string note;    // the reviewer's words ("" when none)
  int64_t detected_at_us = 0;
  int64_t updated_at_us = 0;
  std::optional<int64_t> resolved_by;  // null when closed by re-validation (the system)
  std::string resolved_by_name;
  std::optional<int64_t> resolved_at_us;
  int64_t version = 0;
};

struct IssueQuery {
  std::string rule;                      // "" = any
  std::string status;                    // "" = any
  std::optional<int64_t> department_id;  // that department and below
  std::optional<int64_t> metering_point_id;
  std::optional<Date> from;  // day range, inclusive
  std::optional<Date> to;
  int page = 1;
  int page_size = 20;  // 1..200
};

struct IssuePage {
  std::vector<Issue> items;
  int64_t total = 0;
  bool total_capped = false;  // more than grid::kListCountCap
};

// One day of a point around a finding: the daily frozen row of the day (if any) and the use
// from it to the next day's row.
struct DayView {
  Date day;
  std::optional<reading::DailyFrozen> frozen;
  std::string quality;        // valid, estimated, edited, suspect (open suspect finding), missing
  std::optional<Energy> use;  // total register to the next day's row (same meter), if known
  std::vector<std::string> open_rules;  // open findings of the point on this day
};

struct IssueDetail {
  Issue issue;
  std::string point_name;
  std::vector<DayView> days;   // the finding's day ± 7 days (points only)
  std::optional<Curve> curve;  // the point's fwd_active_energy curve of the day, if stored
};

struct EstimateResult {
  int64_t metering_point_id = 0;
  Date first_day, last_day;
  std::vector<reading::DailyFrozen> frozen;  // rows estimated and stored
  int64_t frozen_without_basis = 0;          // missing days left: no neighbours to interpolate
  int64_t curve_days = 0;                    // curves written with estimated values
  int64_t curve_values = 0;                  // interval values estimated
  int64_t curve_values_without_basis = 0;    // missing values left
};

struct ValidateResult {
  int64_t rows = 0;         // daily frozen rows checked
  int64_t curves = 0;       // curves checked
  std::vector<Issue> open;  // open findings of the point in the range afterwards
};

// A day's registers replaced by a person.
struct DailyFrozenEdit {
  int64_t metering_point_id = 0;
  Date day;
  std::map<std::string, Energy> registers;  // the whole new set
  // What the person saw (optimistic concurrency in place of a version): the row's registers,
  // or nullopt when the day had no row. A different stored row is Aborted.
  std::optional<std::map<std::string, Energy>> previous;
  std::string reason;  // required, 2..200 characters
};

// One interval of a curve replaced by a person.
struct CurveEdit {
  int64_t metering_point_id = 0;
  Date day;
  std::string quantity = "fwd_active_energy";
  int interval = 0;  // 0 .. values.size()-1 (0..95 at 15 min)
  Energy value;
  std::optional<Energy> previous;  // what the person saw: nullopt = missing (or no curve)
  std::string reason;
};

// Clock readings (terminal AFN0C F2, meter DL/T 645 04000101/02) handed in by ingestion or
// commands: the drift of the device's clock against the master station's.
struct ClockReading {
  int64_t terminal_id = 0;
  std::optional<int64_t> metering_point_id;  // the meter's clock; nullopt: the terminal's
  int64_t read_at_us = 0;                    // master time of the reading
  int64_t drift_seconds = 0;                 // device − master
};

// Applies the rules to stored rows, keeps the findings (vee_issues), estimates and edits.
// Thread-safe (holds references and immutable options only).
//
// Findings are upserted by (point or terminal, day, rule): re-validating the same data changes
// nothing; an open finding the rules no longer produce is closed as "corrected" (by the person
// whose edit or estimate fixed it, or by the system on re-collection); accepted and dismissed
// findings are a person's decision and are never reopened or changed by re-validation.
class VeeService {
 public:
  VeeService(store::Database& db, const Clock& clock, VeeOptions options = {});

  // Called by ingestion in its write transaction after storing rows: validates them against
  // the stored history, records findings, marks suspect curve values. Also re-checks the step
  // to the next stored row of each day. Cheap: four queries per batch (the rows of a short
  // window around the batch's days, points with their meters, curves, existing findings); the
  // 30-day spike window is read only for the points whose use is above the spike floor (or
  // whose zero run or previous row lies before the short window). Writes only where findings
  // change. Measured ~0.025 ms a row on SQLite, ~0.055 on PostgreSQL (1,000-row batches).
  Status CheckDailyFrozen(store::Connection& c, const std::vector<reading::DailyFrozen>& rows);
  // curve_sum of fwd_active_energy curves against the stored registers (three queries a batch).
  Status CheckCurves(store::Connection& c, const std::vector<Curve>& curves);
  // clock_drift per (terminal or point, local day): the largest drift of the batch decides.
  Status CheckClockReadings(store::Connection& c, const std::vector<ClockReading>& readings);

  // ---- Review (acquisition.read; data scope of the point's or terminal's department) ----
  // Newest day first.
  Result<IssuePage> ListIssues(const org::Actor& actor, const IssueQuery& q);
  Result<IssueDetail> GetIssue(const org::Actor& actor, int64_t id);

  // ---- Actions (acquisition.vee; audited; scope → NotFound) ----
  // Accept (the data is right as it is: a real rollover, a real high use) or dismiss (a false
  // alarm) an open finding; `version` must be current (Aborted otherwise). Dismissing needs a
  // note. Curve values marked suspect for the finding return to valid.
  Result<Issue> Accept(const org::Actor& actor, int64_t id, int64_t version,
                       const std::string& note);
  Result<Issue> Dismiss(const org::Actor& actor, int64_t id, int64_t version,
                        const std::string& note);
  // Estimates the point's missing daily frozen rows (interpolated between collected
  // neighbours) and curve gaps (FillGaps; like days from the 4 previous weeks; scaled to the
  // register delta when both frozen ends are known) in [first_day, last_day]. Collected values
  // are never replaced. Audited as one record listing what was written.
  Result<EstimateResult> EstimateRange(const org::Actor& actor, int64_t metering_point_id,
                                       Date first_day, Date last_day);
  // Runs the rules again over the point's stored rows and curves in the range.
  Result<ValidateResult> Revalidate(const org::Actor& actor, int64_t metering_point_id,
                                    Date first_day, Date last_day);
  // Replace values; quality edited; audited with before and after and the reason; the day is
  // validated again (findings it no longer fails are closed as corrected by the actor).
  Result<reading::DailyFrozen> EditDailyFrozen(const org::Actor& actor, const DailyFrozenEdit& e);
  Result<Curve> EditCurveValue(const org::Actor& actor, const CurveEdit& e);

  const VeeOptions& options() const { return options_; }

 private:
  struct Resolver;
  Status CheckDailyFrozenAs(store::Connection& c, const std::vector<reading::DailyFrozen>& rows,
                            const Resolver& by);
  Status CheckCurvesAs(store::Connection& c, const std::vector<Curve>& curves, const Resolver& by);
  Result<Issue> Resolve(const org::Actor& actor, int64_t id, int64_t version,
                        const std::string& status, const std::string& note);

  store::Database& db_;
  const Clock& clock_;
  VeeOptions options_;
  TimeZone zone_;
  Status zone_status_;  // a bad options.time_zone: every call fails with it
};

}  // namespace gridmis::acquisition::vee
