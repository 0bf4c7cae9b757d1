// The review rules of reads (抄表审核) and the metering arithmetic behind them: spans between the
// previous read and this one (meter replacements split a period, tariffs.md §6.3), register
// differences with rollover (§6.2, §0.3 rule 8), TOU registers against the total (§3.3, §0.3
// rule 2), and the estimate of a missing read. Pure: values in, values out; the service loads
// the history from the database and stores the outcome.
//
// Dates: a read dated D shows the registers at the end of day D (the daily frozen row of day
// D+1, frozen at 00:00 of D+1). A meter installed or removed at an instant belongs to the period
// whose end (end of its reading day) is after that instant.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/money.h"
#include "core/status.h"
#include "core/time.h"
#include "reading/billable.h"

namespace gridmis::reading {

using Registers = std::map<std::string, Energy>;

// The registers a read may carry, in display order (metering::AllRegisters()).
const std::vector<std::string>& ReadRegisterNames();
// sharp, peak, flat, valley (尖峰平谷).
bool IsTouRegister(std::string_view name);
bool IsKnownRegister(std::string_view name);
// "1234.56": four decimals, trailing zeros trimmed down to two.
std::string FormatKwh(Energy e);

// yyyymmdd and yyyymm as stored.
int64_t DayKey(Date d);
Date DayFromKey(int64_t key);
int64_t PeriodKey(YearMonth p);
YearMonth PeriodFromKey(int64_t key);
YearMonth AddMonths(YearMonth p, int months);

// Thresholds of the review rules, per department (the nearest department up the tree that has
// its own; otherwise these defaults).
struct ReviewRules {
  int64_t department_id = 0;  // 0: the built-in defaults
  // Average daily use against the previous approved period's ("last month"): flagged above
  // `above_last_month_pct` % or below `below_last_month_pct` %.
  int64_t above_last_month_pct = 200;
  int64_t below_last_month_pct = 30;
  // The same against the approved read of the same month last year.
  int64_t above_last_year_pct = 200;
  int64_t below_last_year_pct = 30;
  // Comparisons only against a base period that used at least this much (tiny bases give
  // meaningless percentages).
  Energy min_compare_use = Energy::FromKwh(10);
  // Allowed |sharp+peak+flat+valley − total| per TOU register present (§3.3: the register
  // resolution, 0.01 kWh, per register).
  Energy tou_tolerance = Energy::FromDwh(100);
  bool flag_zero_use = true;
  // Estimates of missing reads: "recent" (average daily use of the last `estimate_periods`
  // approved periods, else the same month last year) or "last_year" (the other way round).
  std::string estimate_method = "recent";
  int64_t estimate_periods = 3;
  int64_t version = 0;
  int64_t updated_at_us = 0;
};

// Field errors name the field ("above_last_month_pct").
Status CheckReviewRules(const ReviewRules& r);

// One meter installation at the point, as the reading arithmetic needs it.
struct MeterInstall {
  int64_t id = 0;
  std::string meter_asset_no;
  std::vector<std::string> registers;  // the meter's registers
  int64_t multiplier = 1;
  int register_integer_digits = 0;
  int64_t installed_at_us = 0;
  std::optional<int64_t> removed_at_us;
  std::string install_reason;  // new, replacement, rotation
  Registers install_readings;
  Registers remove_readings;
};

// An approved read of an earlier period (or the current read of the period being checked).
struct PastRead {
  int64_t id = 0;
  YearMonth period;
  Date read_date;
  int64_t installation_id = 0;
  Registers registers;
  std::optional<Energy> consumption;  // total energy × multiplier over its period
  int64_t days = 0;
  std::string source;
  std::string status;
};

// What the rules need to know about a point for one period.
struct PointHistory {
  std::vector<MeterInstall> installs;  // by installation time
  std::optional<PastRead> previous;    // the latest approved read of an earlier period
  std::optional<PastRead> last_year;   // the approved read of the same month last year
  std::vector<PastRead> recent;        // approved reads of earlier periods, newest first
  bool earlier_unreviewed = false;     // a read of an earlier period waits in the review queue
};

// A read about to be stored.
struct ReadCandidate {
  YearMonth period;
  Date read_date;
  Registers registers;
  std::string source;                        // frozen, manual, import, estimate, correction
  std::optional<int64_t> frozen_multiplier;  // the multiplier the frozen row carried
  std::string estimate_basis;                // for source "estimate": how it was estimated
};

struct Finding {
  std::string rule;  // zero_use, above_last_month, ..., see kRules in review.cc
  std::string message;
};

struct Evaluation {
  int64_t installation_id = 0;  // the meter read
  int64_t multiplier = 1;
  std::string meter_asset_no;
  Date first_day;
  int64_t days = 0;
  std::vector<BillableSpan> spans;
  std::optional<Energy> consumption;  // empty when a register went backwards without rollover
  std::vector<Finding> findings;      // the rules that fired; empty: clean
  std::vector<std::string> rollover;  // registers accepted as rolled over
  // A register went backwards and is not a rollover: the read cannot be approved as it is.
  bool refused = false;
};

// Names of the review rules, for filters and documentation.
const std::vector<std::string>& ReviewRuleNames();

// The local instant at the end of `day` (00:00 of the next day).
int64_t EndOfDay(const TimeZone& zone, Date day);

// The installation in effect at the end of `day`, or null.
const MeterInstall* InstallAt(const std::vector<MeterInstall>& installs, int64_t instant_us);

// Spans from the previous approved read (or the installation reading when there is none) to
// the registers `end` read on `read_date`; in time order. Errors when the history does not
// chain (no meter in effect, a removal without readings).
Result<std::vector<BillableSpan>> BuildSpans(const std::vector<MeterInstall>& installs,
                                             const PastRead* previous, Date read_date,
                                             const Registers& end, const std::string& end_source,
                                             const TimeZone& zone, Date* first_day);

// The difference end − start of a cumulative register on a meter with `digits` integer digits:
// a reading below the start is a rollover when the digits are known and the difference is under
// 10 % of the register range (tariffs.md §0.3 rule 8); otherwise nullopt.
std::optional<Energy> RegisterDifference(Energy start, Energy end, int digits, bool* rolled_over);

// Checks a candidate read against the point's history. InvalidArgument (naming "registers.<r>",
// "read_date" or "period") when the read cannot be stored at all; otherwise the findings of the
// review rules. `today` is the utility's current date.
Result<Evaluation> Evaluate(const ReadCandidate& read, const PointHistory& history,
                            const ReviewRules& rules, const TimeZone& zone, Date today);

// Registers estimated for a missing read on `read_date`: the meter in effect then,
// its start registers plus the average daily use (from the history, per `rules`) times the days
// since the start, shared over the registers like the meter's registers so far. `basis` says how.
Result<Registers> EstimateRegisters(const PointHistory& history, const ReviewRules& rules,
                                    Date read_date, const TimeZone& zone, std::string* basis);

}  // namespace gridmis::reading
