// The reads a bill run rates: for each metering point and billing period, the approved
// (billable) read and the spans of the meters installed during the period.
//
// CONTRACT between reading/ (owner) and billing/ (user): billing calls LoadBillableReads in its
// own read transaction, page by page, and never reads reading's tables directly.
//
// Dates: a read dated D shows the registers at the end of day D — for a read collected from the
// acquisition system, the daily frozen row of day D+1 (frozen at 00:00 of D+1). So a period runs
// from the day after the previous read's date through its own read date, and a meter installed
// or removed at an instant belongs to the period whose read date ends after that instant.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/money.h"
#include "core/status.h"
#include "core/time.h"
#include "store/db.h"

namespace gridmis::reading {

// One meter's part of the period (see rating::MeterSpan, which it maps to one to one).
struct BillableSpan {
  int64_t installation_id = 0;
  std::string meter_asset_no;
  int64_t multiplier = 1;
  int register_integer_digits = 0;      // 0 = unknown
  std::map<std::string, Energy> start;  // register → reading at the span's start
  std::map<std::string, Energy> end;    // register → reading at its end; max_demand here only
  std::string start_source;             // "read 2026-02-28", "install 2026-03-14"
  std::string end_source;
};

struct BillableRead {
  int64_t metering_point_id = 0;
  int64_t read_id = 0;  // the approved read that ends the period
  YearMonth period;
  Date first_day;  // the day after the previous reading day, or the installation day
  Date last_day;   // this period's reading day
  std::vector<BillableSpan> spans;  // in time order
  std::string source;               // frozen, manual, import, estimate, correction
  bool estimated = false;
  // Daily total-register consumption (kWh × multiplier) from daily frozen reads when complete for
  // the period; empty otherwise.
  std::map<Date, Energy> daily_total;
};

struct BillableQuery {
  YearMonth period;
  int64_t department_id = 0;  // that department and below
  std::optional<int64_t> segment_id;
  int64_t after_point_id = 0;  // keyset paging: points with id > this, by id
  int limit = 2000;            // 1..10000
  // Fill BillableRead::daily_total. Off by default: it reads ~30 frozen rows per point (one more
  // query per page); ask for it when a price changes inside the period.
  bool with_daily_total = false;
  // The utility's zone, for the local dates of meter installations and removals.
  std::string time_zone = "Asia/Shanghai";
};

// Approved reads of the period, by metering point id. Points of the department without an
// approved read are not returned (see CountUnbillable); only billing points (purpose billing)
// are. Two queries per page (the reads; the previous reads), one more for points whose previous
// read is older than two months or missing, one for meter replacements, one for daily totals. A
// span starts at the previous approved read of the point (an earlier period) or, for a point's
// first read, at the installation reading — back through replacements made at the same instant.
// Errors name the point when its history does not chain.
Result<std::vector<BillableRead>> LoadBillableReads(store::Connection& c, const BillableQuery& q);

// Active billing points of the query's department (and segment) that have no approved read for
// the period yet (missing or waiting in the review queue): the bill run reports them. Points of
// a segment that does not read in the period's month (bimonthly) are not counted; paging fields
// are ignored.
Result<int64_t> CountUnbillable(store::Connection& c, const BillableQuery& q);

// ---- Daily frozen registers (日冻结), stored by the acquisition system ----

// One metering point's registers frozen at 00:00 of `day` (the reading for the end of day-1),
// as the meter shows them (not multiplied). `multiplier` is the installed meter's 倍率 that day.
struct DailyFrozen {
  int64_t metering_point_id = 0;
  Date day;
  int64_t multiplier = 1;
  std::map<std::string, Energy> registers;  // total, sharp, peak, flat, valley, ...
  std::string quality = "valid";            // valid, estimated, edited
};

// Upserts (point, day): a later value for the same day replaces the earlier one. Validates
// register names and that the point exists (errors name the point and day).
Status StoreDailyFrozen(store::Connection& c, const std::vector<DailyFrozen>& rows);

// Frozen rows of the points between the two days inclusive, by point then day.
Result<std::vector<DailyFrozen>> LoadDailyFrozen(store::Connection& c,
                                                 const std::vector<int64_t>& point_ids,
                                                 Date first_day, Date last_day);

}  // namespace gridmis::reading
