// Meter reading and its review (电费抄、核): reading segments (抄表段) of metering points with a
// reading day, a reader and a cycle; reading plans per segment and period; reads from the
// acquisition system's daily frozen registers, manual entry and imported CSV/xlsx files; the
// review rules run on every new read (review.h): clean reads become approved and billable,
// the others wait in the review queue until a reviewer approves or corrects them.
//
// Data scope: segments and plans are department-owned (grid::CanSeeDepartment); a read is
// visible with its metering point (org::Actor::CanSee of the point's department and customer
// manager). Records outside the scope are NotFound. Permissions: reading.read, reading.write
// (segments, plans, entry, import, collection, estimates), reading.review (approve, correct,
// rules). Every write is audited in its transaction; edits carry their version (stale: Aborted).
//
// Nothing is edited in place: a correction is a new read (source correction) and the old one
// becomes superseded. At most one current read per point and period; at most one billable.
#pragma once

#include <cstdint>
#include <istream>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/money.h"
#include "core/time.h"
#include "grid/records.h"
#include "org/actor.h"
#include "reading/billable.h"
#include "reading/review.h"
#include "store/db.h"

namespace gridmis::reading {

// ---- Segments ----

struct Segment {
  int64_t id = 0;
  std::string code;  // unique
  std::string name;
  int64_t department_id = 0;
  int64_t reading_day = 25;       // 抄表例日, 1..28
  std::string cycle = "monthly";  // monthly, bimonthly
  std::vector<int> read_months;   // 1..12 the segment reads in
  std::optional<int64_t> reader_user_id;
  std::string reader_name;        // read-only
  std::string status = "active";  // active, inactive
  int64_t point_count = 0;        // read-only
  int64_t version = 0;
  int64_t created_at_us = 0;
  int64_t updated_at_us = 0;
};

struct SegmentInput {
  std::optional<std::string> code;       // required on create
  std::optional<std::string> name;       // required on create
  std::optional<int64_t> department_id;  // required on create
  std::optional<int64_t> reading_day;    // required on create
  std::optional<std::string> cycle;      // default monthly
  // Default: every month for monthly; the odd months for bimonthly. Bimonthly needs six months
  // two apart.
  std::optional<std::vector<int>> read_months;
  grid::Nullable<int64_t> reader_user_id;  // a user of the segment's department or above
  std::optional<std::string> status;
};

struct SegmentQuery {
  std::string q;                         // code prefix
  std::optional<int64_t> department_id;  // that department and below
  std::string status;
  int page = 1;
  int page_size = 20;
};

struct SegmentPoint {
  int64_t metering_point_id = 0;
  std::string code;
  std::string name;
  std::string customer_no;
  std::string customer_name;
  int64_t department_id = 0;
  int64_t added_at_us = 0;
};

// ---- Plans ----

struct Plan {
  int64_t id = 0;
  int64_t segment_id = 0;
  std::string segment_code;
  std::string segment_name;
  YearMonth period;
  Date reading_date;
  int64_t department_id = 0;
  std::optional<int64_t> reader_user_id;
  std::string status;  // planned, reading, reviewing, completed
  int64_t point_count = 0;
  int64_t read_count = 0;
  int64_t flagged_count = 0;
  int64_t approved_count = 0;
  int64_t estimated_count = 0;
  int64_t missing_count = 0;  // point_count − read_count, not below 0
  int64_t version = 0;
  int64_t created_at_us = 0;
  int64_t updated_at_us = 0;
};

struct PlanQuery {
  std::optional<YearMonth> period;
  std::optional<int64_t> segment_id;
  std::optional<int64_t> department_id;  // that department and below
  std::string status;
  int page = 1;
  int page_size = 20;
};

struct GenerateResult {
  std::vector<Plan> created;
  int64_t existing = 0;  // plans of the period that were there already
};

// ---- Reads ----

struct Read {
  int64_t id = 0;
  int64_t metering_point_id = 0;
  std::string point_code;
  int64_t department_id = 0;
  YearMonth period;
  std::optional<int64_t> plan_id;
  int64_t installation_id = 0;
  std::string meter_asset_no;
  Date read_date;
  Registers registers;
  int64_t multiplier = 1;
  std::string source;             // frozen, manual, import, estimate, correction
  std::string status;             // pending, flagged, approved, superseded
  std::vector<Finding> findings;  // the review rules that fired, with why
  std::vector<std::string> rollover;
  bool billable = false;
  std::optional<Energy> consumption;  // total energy × multiplier over the period
  Date first_day;
  int64_t days = 0;
  std::optional<int64_t> corrected_from;
  std::optional<int64_t> corrected_by;  // read-only: the correction that superseded this one
  std::optional<int64_t> import_id;
  std::string note;
  std::optional<int64_t> entered_by;
  std::optional<int64_t> reviewed_by;
  std::optional<int64_t> reviewed_at_us;
  int64_t version = 0;
  int64_t created_at_us = 0;
  int64_t updated_at_us = 0;

  std::vector<std::string> flags() const;
};

struct ReadQuery {
  std::optional<int64_t> metering_point_id;
  std::optional<int64_t> plan_id;
  std::optional<YearMonth> period;
  std::optional<int64_t> department_id;  // that department and below
  std::string status;                    // "" = any but superseded; "all" = any
  std::string flag;                      // reads where this rule fired
  std::string source;
  int page = 1;
  int page_size = 20;
};

// Manual entry (手工录入).
struct ReadInput {
  int64_t metering_point_id = 0;
  std::optional<YearMonth> period;  // default: the read date's month
  Date read_date;
  Registers registers;  // every register of the installed meter
  std::string note;
};

struct CorrectionInput {
  Registers registers;            // the corrected registers (all of the meter's)
  std::optional<Date> read_date;  // default: the corrected read's
  std::string reason;             // required: why (audited)
};

// ---- Import ----

struct ImportOptions {
  std::string format = "csv";  // csv or xlsx
  std::string charset;         // csv: "utf-8", "gbk" (also gb2312, gb18030); "" = detect
  std::string file_name = "upload";
};

struct ImportLineError {
  int64_t line = 0;  // 1-based line of the file (the row of the sheet for xlsx)
  std::string message;
};

struct ImportResult {
  int64_t import_id = 0;
  int64_t lines = 0;  // data lines
  int64_t reads = 0;
  int64_t approved = 0;
  int64_t flagged = 0;
  std::string charset;
};

// ---- Batch operations on a plan ----

struct PointIssue {
  int64_t metering_point_id = 0;
  std::string point_code;
  std::string message;
};

struct CollectResult {
  int64_t plan_id = 0;
  Date frozen_day;        // the frozen rows taken: reading date + 1
  int64_t collected = 0;  // new reads
  int64_t approved = 0;
  int64_t flagged = 0;
  int64_t already_read = 0;        // points with a current read for the period
  int64_t missing = 0;             // no frozen row (or not every register)
  std::vector<PointIssue> issues;  // reads that could not be stored, with why
};

struct EstimateResult {
  int64_t plan_id = 0;
  int64_t estimated = 0;
  int64_t already_read = 0;
  std::vector<PointIssue> issues;
};

struct ReadingOptions {
  std::string time_zone = "Asia/Shanghai";  // the utility's zone: business dates
};

// Thread-safe: it holds no state besides its references and options.
class ReadingService {
 public:
  ReadingService(store::Database& db, const Clock& clock, ReadingOptions options = {});

  // ---- Segments ----
  // By code; `total` counts at most grid::kListCountCap.
  Result<std::vector<Segment>> ListSegments(const org::Actor& actor, const SegmentQuery& q,
                                            grid::CappedCount* total);
  Result<Segment> GetSegment(const org::Actor& actor, int64_t id);
  Result<Segment> CreateSegment(const org::Actor& actor, const SegmentInput& in);
  Result<Segment> UpdateSegment(const org::Actor& actor, int64_t id, int64_t version,
                                const SegmentInput& in);
  // Members by point code.
  Result<std::vector<SegmentPoint>> SegmentPoints(const org::Actor& actor, int64_t segment_id,
                                                  int page, int page_size, int64_t* total);
  // Adds visible points of the segment's department (or below) that are in no segment;
  // AlreadyExists naming the other segment otherwise. Bumps the segment's version.
  Result<Segment> AddPoints(const org::Actor& actor, int64_t segment_id, int64_t version,
                            const std::vector<int64_t>& point_ids);
  Result<Segment> RemovePoints(const org::Actor& actor, int64_t segment_id, int64_t version,
                               const std::vector<int64_t>& point_ids);

  // ---- Plans ----
  // A plan for every active segment in scope (and under `department_id`) that reads in the
  // period's month and has none yet. A second call creates nothing.
  Result<GenerateResult> GeneratePlans(const org::Actor& actor, YearMonth period,
                                       std::optional<int64_t> department_id);
  Result<std::vector<Plan>> ListPlans(const org::Actor& actor, const PlanQuery& q, int64_t* total);
  Result<Plan> GetPlan(const org::Actor& actor, int64_t id);
  // Reads from the daily frozen rows of the plan's reading date (the row of the next day) for
  // the segment's points without a current read; rerunning adds only what is new.
  Result<CollectResult> CollectFrozen(const org::Actor& actor, int64_t plan_id);
  // Estimates the reads still missing after the reading date (flagged "estimated").
  Result<EstimateResult> EstimateMissing(const org::Actor& actor, int64_t plan_id);

  // ---- Reads ----
  // Newest period first. Needs a point, a plan, a period or the flagged/pending status.
  Result<std::vector<Read>> ListReads(const org::Actor& actor, const ReadQuery& q,
                                      grid::CappedCount* total);
  Result<Read> GetRead(const org::Actor& actor, int64_t id);
  // Runs the review rules: approved and billable when clean, flagged otherwise.
  // InvalidArgument naming the field for a read that cannot be stored; FailedPrecondition when
  // the point already has a read for the period (correct it instead).
  Result<Read> EnterRead(const org::Actor& actor, const ReadInput& in);
  // A whole file in one transaction: any bad line rejects it all (InvalidArgument listing the
  // lines; `line_errors`, when given, receives every one) and nothing is stored.
  Result<ImportResult> Import(const org::Actor& actor, std::istream& file,
                              const ImportOptions& options,
                              std::vector<ImportLineError>* line_errors = nullptr);
  // The review queue: flagged reads (oldest period first, then point), same filters.
  Result<std::vector<Read>> ReviewQueue(const org::Actor& actor, const ReadQuery& q,
                                        grid::CappedCount* total);
  // Approves a flagged read (reading.review). A read whose register went backwards without a
  // possible rollover cannot be approved: correct it.
  Result<Read> Approve(const org::Actor& actor, int64_t read_id, int64_t version);
  // Supersedes a flagged or approved read with a corrected one (approved, billable); audited with
  // the before, the after and the reason. Returns the new read.
  Result<Read> Correct(const org::Actor& actor, int64_t read_id, int64_t version,
                       const CorrectionInput& in);

  // ---- Daily frozen ----
  // Between the two days inclusive (default: the 30 days up to today), at most 367 days.
  Result<std::vector<DailyFrozen>> DailyFrozenOfPoint(const org::Actor& actor, int64_t point_id,
                                                      std::optional<Date> first_day,
                                                      std::optional<Date> last_day);

  // ---- Review rules ----
  // The rules in force for a department (its own, else the nearest above, else the defaults).
  Result<ReviewRules> GetRules(const org::Actor& actor, int64_t department_id);
  // Sets a department's own rules (reading.review); `version` 0 when it has none yet.
  Result<ReviewRules> SetRules(const org::Actor& actor, int64_t department_id, int64_t version,
                               const ReviewRules& rules);

 private:
  store::Database& db_;
  const Clock& clock_;
  ReadingOptions options_;
};

nlohmann::json ToJson(const Segment& s);
nlohmann::json ToJson(const SegmentPoint& p);
nlohmann::json ToJson(const Plan& p);
nlohmann::json ToJson(const Read& r);
nlohmann::json ToJson(const ReviewRules& r);
nlohmann::json ToJson(const DailyFrozen& f);
nlohmann::json RegistersJson(const Registers& r);

}  // namespace gridmis::reading
