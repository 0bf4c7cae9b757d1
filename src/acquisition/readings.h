// Collected data the acquisition system stores beside reading/'s daily frozen registers:
// interval curves (96 points a day), meter and terminal events, and terminals' online state.
//
// CONTRACT between ingest (owner: writes) and vee, routes, analytics (readers). Daily frozen
// registers are not here: they are reading::DailyFrozen, written with reading::StoreDailyFrozen.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/money.h"
#include "core/status.h"
#include "core/time.h"
#include "store/db.h"

namespace gridmis::acquisition {

// Quality of one collected value (a flag on every value).
enum class Quality : char {
  kValid = 'V',      // collected, passed validation
  kSuspect = 'S',    // collected, failed a validation rule (see vee_issues)
  kEstimated = 'E',  // filled by estimation
  kEdited = 'D',     // edited by a person (audited)
  kMissing = 'M',    // not collected (EEH or no answer) and not estimated
};
const char* QualityName(Quality q);  // valid, suspect, estimated, edited, missing

// One metering point's curve of one quantity for one local day: `values.size()` = 1440 /
// interval_minutes (96 at 15 min), value i covers [i × interval, (i+1) × interval).
// fwd_active_energy: the energy (kWh, 4 decimals) used in each interval; derived from an
// indication curve (F101) as differences of successive points, or collected directly (F97).
struct Curve {
  int64_t metering_point_id = 0;
  Date day;
  std::string quantity = "fwd_active_energy";
  int interval_minutes = 15;
  int64_t multiplier = 1;                   // applied to nothing stored: values are the meter's
  std::vector<std::optional<Energy>> values;  // nullopt = missing
  std::string quality;  // one Quality char per value
};

// Upsert by (point, day, quantity); the whole day is replaced. Validates sizes and quality.
Status StoreCurves(store::Connection& c, const std::vector<Curve>& curves);
Result<std::vector<Curve>> LoadCurves(store::Connection& c, const std::vector<int64_t>& point_ids,
                                      Date first_day, Date last_day,
                                      const std::string& quantity = "fwd_active_energy");

// An event a terminal or meter reported (AFN0E ERC records, active reports).
struct MeterEvent {
  int64_t id = 0;
  int64_t terminal_id = 0;
  std::optional<int64_t> metering_point_id;  // when the record names a point
  int erc = 0;
  std::string kind;     // power_off, power_on, remote_trip, clock_drift, cover_open, ...
  std::string meaning;  // words
  int64_t occurred_at_us = 0;
  std::optional<int64_t> ended_at_us;
  std::string detail_json;  // the decoded record
  int64_t received_at_us = 0;
};

}  // namespace gridmis::acquisition
