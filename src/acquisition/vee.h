// VEE — validation, estimation and editing of collected data (采集数据校核).
//
// Pure rules and estimators (no I/O) plus the service that applies them to stored data.
//
// Validation rules, each a named rule with a finding per (point, day):
//   rollover        current register below the previous day's and the drop fits a register
//                   wrap (known integer digits): accepted, flagged for information
//   reverse         current below previous without a wrap: suspect
//   spike           daily use above max(k × median of the last 30 days, a floor): suspect
//   zero_run        N days (default 3) in a row of zero use on a point that used energy before
//   curve_sum       the day's interval energies differ from the register delta by more than
//                   the tolerance (default 2 % or 0.5 kWh)
//   clock_drift     terminal/meter clock off by more than the limit (default 5 min)
//   tou_sum         rate registers do not add up to the total
// Estimation: linear interpolation across gaps of up to `max_linear` values (registers:
// days; curves: intervals), like-day averaging (same weekday over the last 4 weeks, scaled to
// the register delta when known) for longer gaps. Estimated values carry Quality::kEstimated.
// Editing: a person replaces a value with a reason; audited; Quality::kEdited.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "acquisition/readings.h"
#include "core/money.h"
#include "core/status.h"
#include "core/time.h"
#include "store/db.h"

namespace gridmis::reading {
struct DailyFrozen;
}

namespace gridmis::acquisition::vee {

struct VeeOptions {
  int spike_factor = 5;             // × median daily use
  int64_t spike_floor_dwh = 500000;  // 50 kWh: below this never a spike
  int zero_run_days = 3;
  int curve_sum_tolerance_permille = 20;  // 2 %
  int64_t curve_sum_floor_dwh = 5000;     // 0.5 kWh
  int clock_drift_limit_seconds = 300;
  int max_linear_gap = 4;  // values: longer gaps use like-day averaging
};

struct Finding {
  int64_t metering_point_id = 0;
  Date day;
  std::string rule;    // rollover, reverse, spike, zero_run, curve_sum, clock_drift, tou_sum
  std::string severity;  // info, suspect
  std::string detail;  // words with the numbers: "use 812.4 kWh > 5 × median 9.1 kWh"
};

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

// Service: applies the rules to stored rows, keeps the findings (vee_issues), estimates and
// edits. Thread-safe (holds references only).
class VeeService {
 public:
  VeeService(store::Database& db, const Clock& clock, VeeOptions options = {});

  // Called by ingestion in its write transaction after storing rows: validates them against
  // the stored history, records findings, marks suspect rows' quality. Must stay cheap: one or
  // two queries per call for the whole batch.
  Status CheckDailyFrozen(store::Connection& c, const std::vector<reading::DailyFrozen>& rows);
  Status CheckCurves(store::Connection& c, const std::vector<Curve>& curves);

  // (Routes: the VEE review list, accept/dismiss, estimate, edit — the helper defines them.)

 private:
  store::Database& db_;
  const Clock& clock_;
  VeeOptions options_;
};

}  // namespace gridmis::acquisition::vee
