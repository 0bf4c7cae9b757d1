#include "reading/reading.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "grid/records.h"
#include "org/audit.h"
#include "reading/import.h"
#include "reading/internal.h"

namespace gridmis::reading {

using grid::CheckCode;
using grid::CheckOneOf;
using grid::CheckText;
using grid::InSql;
using grid::SqlWhere;
using internal::ReadRegisterColumns;
using internal::RegisterSelect;
using nlohmann::json;
using org::Actor;
using store::Connection;
using store::Row;

namespace {

const std::initializer_list<std::string_view> kCycles = {"monthly", "bimonthly"};
const std::initializer_list<std::string_view> kSegmentStatuses = {"active", "inactive"};
const std::initializer_list<std::string_view> kReadStatuses = {"pending", "flagged", "approved",
                                                               "superseded"};
const std::initializer_list<std::string_view> kSources = {"frozen", "manual", "import", "estimate",
                                                          "correction"};
const std::initializer_list<std::string_view> kPlanStatuses = {"planned", "reading", "reviewing",
                                                               "completed"};

constexpr size_t kChunk = 500;

json Opt(const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); }

store::Value UserValue(const Actor& actor) {
  return actor.user_id ? store::Value(actor.user_id) : store::Value();
}

std::string MonthsText(const std::vector<int>& months) {
  std::string s = ",";
  for (int m : months) s += std::to_string(m) + ",";
  return s;
}

std::vector<int> ParseMonths(std::string_view text) {
  std::vector<int> out;
  for (const auto& item : internal::SplitList(text)) out.push_back(std::stoi(item));
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// JSON

std::vector<std::string> Read::flags() const {
  std::vector<std::string> out;
  for (const auto& f : findings) {
    if (std::find(out.begin(), out.end(), f.rule) == out.end()) out.push_back(f.rule);
  }
  return out;
}

json RegistersJson(const Registers& r) {
  json j = json::object();
  for (const auto& [reg, value] : r) j[reg] = FormatKwh(value);
  return j;
}

json ToJson(const Segment& s) {
  return json{{"id", s.id},
              {"code", s.code},
              {"name", s.name},
              {"department_id", s.department_id},
              {"reading_day", s.reading_day},
              {"cycle", s.cycle},
              {"read_months", s.read_months},
              {"reader_user_id", Opt(s.reader_user_id)},
              {"reader_name", s.reader_name},
              {"status", s.status},
              {"point_count", s.point_count},
              {"version", s.version},
              {"created_at", FormatUtc(s.created_at_us)},
              {"updated_at", FormatUtc(s.updated_at_us)}};
}

json ToJson(const SegmentPoint& p) {
  return json{{"metering_point_id", p.metering_point_id},
              {"code", p.code},
              {"name", p.name},
              {"customer_no", p.customer_no},
              {"customer_name", p.customer_name},
              {"department_id", p.department_id},
              {"added_at", FormatUtc(p.added_at_us)}};
}

json ToJson(const Plan& p) {
  return json{{"id", p.id},
              {"segment_id", p.segment_id},
              {"segment_code", p.segment_code},
              {"segment_name", p.segment_name},
              {"period", p.period.ToString()},
              {"reading_date", p.reading_date.ToString()},
              {"department_id", p.department_id},
              {"reader_user_id", Opt(p.reader_user_id)},
              {"status", p.status},
              {"point_count", p.point_count},
              {"read_count", p.read_count},
              {"flagged_count", p.flagged_count},
              {"approved_count", p.approved_count},
              {"estimated_count", p.estimated_count},
              {"missing_count", p.missing_count},
              {"version", p.version},
              {"created_at", FormatUtc(p.created_at_us)},
              {"updated_at", FormatUtc(p.updated_at_us)}};
}

json ToJson(const Read& r) {
  json findings = json::array();
  for (const auto& f : r.findings) findings.push_back({{"rule", f.rule}, {"message", f.message}});
  return json{
      {"id", r.id},
      {"metering_point_id", r.metering_point_id},
      {"point_code", r.point_code},
      {"department_id", r.department_id},
      {"period", r.period.ToString()},
      {"plan_id", Opt(r.plan_id)},
      {"installation_id", r.installation_id},
      {"meter_asset_no", r.meter_asset_no},
      {"read_date", r.read_date.ToString()},
      {"registers", RegistersJson(r.registers)},
      {"multiplier", r.multiplier},
      {"source", r.source},
      {"status", r.status},
      {"flags", r.flags()},
      {"findings", findings},
      {"rollover", r.rollover},
      {"billable", r.billable},
      {"consumption_kwh", r.consumption ? json(FormatKwh(*r.consumption)) : json(nullptr)},
      {"first_day", r.first_day.ToString()},
      {"days", r.days},
      {"corrected_from", Opt(r.corrected_from)},
      {"corrected_by", Opt(r.corrected_by)},
      {"import_id", Opt(r.import_id)},
      {"note", r.note},
      {"entered_by", Opt(r.entered_by)},
      {"reviewed_by", Opt(r.reviewed_by)},
      {"reviewed_at", r.reviewed_at_us ? json(FormatUtc(*r.reviewed_at_us)) : json(nullptr)},
      {"version", r.version},
      {"created_at", FormatUtc(r.created_at_us)},
      {"updated_at", FormatUtc(r.updated_at_us)}};
}

json ToJson(const ReviewRules& r) {
  return json{{"department_id", r.department_id ? json(r.department_id) : json(nullptr)},
              {"above_last_month_pct", r.above_last_month_pct},
              {"below_last_month_pct", r.below_last_month_pct},
              {"above_last_year_pct", r.above_last_year_pct},
              {"below_last_year_pct", r.below_last_year_pct},
              {"min_compare_kwh", FormatKwh(r.min_compare_use)},
              {"tou_tolerance_kwh", FormatKwh(r.tou_tolerance)},
              {"flag_zero_use", r.flag_zero_use},
              {"estimate_method", r.estimate_method},
              {"estimate_periods", r.estimate_periods},
              {"version", r.version}};
}

json ToJson(const DailyFrozen& f) {
  return json{{"metering_point_id", f.metering_point_id},
              {"day", f.day.ToString()},
              {"multiplier", f.multiplier},
              {"registers", RegistersJson(f.registers)},
              {"quality", f.quality}};
}

namespace {

// ---------------------------------------------------------------------------------------------
// Segments

constexpr const char* kSegmentSelect =
    "SELECT s.id, s.code, s.name, s.department_id, s.reading_day, s.cycle, s.read_months, "
    "s.reader_user_id, u.display_name, s.status, s.version, s.created_at_us, s.updated_at_us, "
    "(SELECT COUNT(*) FROM reading_segment_points sp WHERE sp.segment_id = s.id) "
    "FROM reading_segments s LEFT JOIN users u ON u.id = s.reader_user_id";

Segment ReadSegment(const Row& r) {
  Segment s;
  s.id = r.Int(0);
  s.code = r.Text(1);
  s.name = r.Text(2);
  s.department_id = r.Int(3);
  s.reading_day = r.Int(4);
  s.cycle = r.Text(5);
  s.read_months = ParseMonths(r.TextView(6));
  s.reader_user_id = r.OptInt(7);
  s.reader_name = r.Text(8);
  s.status = r.Text(9);
  s.version = r.Int(10);
  s.created_at_us = r.Int(11);
  s.updated_at_us = r.Int(12);
  s.point_count = r.Int(13);
  return s;
}

Result<std::optional<Segment>> LoadSegment(Connection& c, int64_t id) {
  std::optional<Segment> s;
  RETURN_IF_ERROR(c.Query(std::string(kSegmentSelect) + " WHERE s.id = $1", {id},
                          [&](const Row& r) { s = ReadSegment(r); }));
  return s;
}

Result<Segment> LoadVisibleSegment(Connection& c, const Actor& actor, int64_t id) {
  ASSIGN_OR_RETURN(auto s, LoadSegment(c, id));
  if (!s || !grid::CanSeeDepartment(actor, s->department_id)) {
    return NotFound("reading segment " + std::to_string(id) + " not found");
  }
  return *s;
}

Status CheckSegment(const Segment& s) {
  RETURN_IF_ERROR(CheckCode(s.code, "code"));
  RETURN_IF_ERROR(CheckText(s.name, "name", 1, 100));
  if (s.reading_day < 1 || s.reading_day > 28) {
    return InvalidArgument(
        "reading_day must be a day from 1 to 28 (got " + std::to_string(s.reading_day) + ")",
        "reading_day");
  }
  RETURN_IF_ERROR(CheckOneOf(s.cycle, "cycle", kCycles));
  RETURN_IF_ERROR(CheckOneOf(s.status, "status", kSegmentStatuses));
  std::set<int> months;
  for (size_t i = 0; i < s.read_months.size(); ++i) {
    int m = s.read_months[i];
    std::string field = "read_months[" + std::to_string(i) + "]";
    if (m < 1 || m > 12) return InvalidArgument(field + " must be a month from 1 to 12", field);
    if (!months.insert(m).second)
      return InvalidArgument(field + " repeats month " + std::to_string(m), field);
  }
  if (s.cycle == "monthly" && months.size() != 12) {
    return InvalidArgument("a monthly segment reads every month: read_months must be 1..12",
                           "read_months");
  }
  if (s.cycle == "bimonthly") {
    bool alternate = months.size() == 6;
    for (int m : months) {
      if (m % 2 != *months.begin() % 2) alternate = false;
    }
    if (!alternate) {
      return InvalidArgument(
          "a bimonthly segment reads every other month: read_months must be the six odd "
          "months (1,3,5,7,9,11) or the six even ones",
          "read_months");
    }
  }
  return Status::Ok();
}

Status MergeSegment(const SegmentInput& in, Segment* s) {
  if (in.code) s->code = *in.code;
  if (in.name) s->name = *in.name;
  if (in.department_id) s->department_id = *in.department_id;
  if (in.reading_day) s->reading_day = *in.reading_day;
  bool cycle_changed = in.cycle && *in.cycle != s->cycle;
  if (in.cycle) s->cycle = *in.cycle;
  if (in.read_months) {
    s->read_months = *in.read_months;
    std::sort(s->read_months.begin(), s->read_months.end());
  } else if (cycle_changed || s->read_months.empty()) {
    s->read_months.clear();
    for (int m = 1; m <= 12; m += (s->cycle == "bimonthly" ? 2 : 1)) s->read_months.push_back(m);
  }
  s->reader_user_id = grid::Merge(in.reader_user_id, s->reader_user_id);
  if (in.status) s->status = *in.status;
  return Status::Ok();
}

// The reader must be a user of the segment's department, above it or below it.
Status CheckReader(Connection& c, const Actor& actor, const Segment& s) {
  if (!s.reader_user_id) return Status::Ok();
  std::optional<int64_t> dept;
  std::string user_path, segment_path;
  RETURN_IF_ERROR(
      c.Query("SELECT u.department_id, d.path, (SELECT path FROM departments WHERE id "
              "= $2) FROM users u JOIN departments d ON d.id = u.department_id WHERE "
              "u.id = $1",
              {*s.reader_user_id, s.department_id}, [&](const Row& r) {
                dept = r.Int(0);
                user_path = r.Text(1);
                segment_path = r.Text(2);
              }));
  bool related = dept && !segment_path.empty() &&
                 (user_path.rfind(segment_path, 0) == 0 || segment_path.rfind(user_path, 0) == 0);
  if (!dept || !grid::CanSeeDepartment(actor, *dept) || !related) {
    return InvalidArgument("user " + std::to_string(*s.reader_user_id) +
                               " does not exist, is outside your data scope or does not work in "
                               "the segment's department (or above or below it)",
                           "reader_user_id");
  }
  return Status::Ok();
}

Status CodeTaken(const Status& s, const std::string& code) {
  if (s.code() == StatusCode::kAlreadyExists) {
    return AlreadyExists("reading segment code '" + code + "' is already used", "code");
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Points

struct PointRow {
  int64_t id = 0;
  std::string code;
  int64_t department_id = 0;
  std::optional<int64_t> manager;
  std::string status;
  std::optional<int64_t> segment_id;
};

constexpr const char* kPointRowSelect =
    "SELECT mp.id, mp.code, mp.department_id, c.account_manager_id, mp.status, sp.segment_id "
    "FROM metering_points mp JOIN customers c ON c.id = mp.customer_id "
    "LEFT JOIN reading_segment_points sp ON sp.metering_point_id = mp.id";

PointRow ReadPointRow(const Row& r) {
  return PointRow{r.Int(0), r.Text(1), r.Int(2), r.OptInt(3), r.Text(4), r.OptInt(5)};
}

Result<std::map<int64_t, PointRow>> LoadPointRows(Connection& c, const std::vector<int64_t>& ids) {
  std::map<int64_t, PointRow> out;
  RETURN_IF_ERROR(internal::ForChunks(ids, kChunk, [&](const std::vector<int64_t>& chunk) {
    return c.Query(std::string(kPointRowSelect) + " WHERE " + InSql("mp.id", chunk), {},
                   [&](const Row& r) {
                     PointRow p = ReadPointRow(r);
                     out[p.id] = p;
                   });
  }));
  return out;
}

bool CanSeePoint(const Actor& actor, const PointRow& p) {
  return actor.CanSee(p.department_id, p.manager);
}

// ---------------------------------------------------------------------------------------------
// Review rules per department

class RulesBook {
 public:
  static Result<RulesBook> Load(Connection& c) {
    RulesBook book;
    RETURN_IF_ERROR(c.Query(
        "SELECT department_id, above_last_month_pct, below_last_month_pct, above_last_year_pct, "
        "below_last_year_pct, min_compare_dwh, tou_tolerance_dwh, flag_zero_use, "
        "estimate_method, estimate_periods, version, updated_at_us FROM reading_review_rules",
        {}, [&](const Row& r) {
          ReviewRules x;
          x.department_id = r.Int(0);
          x.above_last_month_pct = r.Int(1);
          x.below_last_month_pct = r.Int(2);
          x.above_last_year_pct = r.Int(3);
          x.below_last_year_pct = r.Int(4);
          x.min_compare_use = Energy::FromDwh(r.Int(5));
          x.tou_tolerance = Energy::FromDwh(r.Int(6));
          x.flag_zero_use = r.Int(7) != 0;
          x.estimate_method = r.Text(8);
          x.estimate_periods = r.Int(9);
          x.version = r.Int(10);
          x.updated_at_us = r.Int(11);
          book.rules_[x.department_id] = x;
        }));
    return book;
  }

  // The rules of the department, else of the nearest department above with its own.
  Result<ReviewRules> For(Connection& c, int64_t department_id) {
    if (rules_.empty()) return defaults_;
    auto cached = resolved_.find(department_id);
    if (cached != resolved_.end()) return cached->second;
    std::string path;
    RETURN_IF_ERROR(c.Query("SELECT path FROM departments WHERE id = $1", {department_id},
                            [&](const Row& r) { path = r.Text(0); }));
    ReviewRules found = defaults_;
    // path "/1/4/9/": ancestors first, so the deepest department with rules wins.
    size_t pos = 0;
    while (pos < path.size()) {
      size_t next = path.find('/', pos + 1);
      if (next == std::string::npos) break;
      std::string part = path.substr(pos + 1, next - pos - 1);
      if (!part.empty()) {
        auto it = rules_.find(std::stoll(part));
        if (it != rules_.end()) found = it->second;
      }
      pos = next;
    }
    resolved_[department_id] = found;
    return found;
  }

  std::optional<ReviewRules> Own(int64_t department_id) const {
    auto it = rules_.find(department_id);
    if (it == rules_.end()) return std::nullopt;
    return it->second;
  }

 private:
  ReviewRules defaults_;
  std::map<int64_t, ReviewRules> rules_;
  std::map<int64_t, ReviewRules> resolved_;
};

// ---------------------------------------------------------------------------------------------
// Reads: loading

constexpr const char* kReadSelect =
    "SELECT r.id, r.metering_point_id, mp.code, mp.department_id, r.period, r.plan_id, "
    "r.installation_id, m.asset_no, r.read_date, r.total_dwh, r.sharp_dwh, r.peak_dwh, "
    "r.flat_dwh, r.valley_dwh, r.export_dwh, r.reactive_import_dwh, r.reactive_export_dwh, "
    "r.max_demand_dwh, r.multiplier, r.source, r.status, r.findings, r.rollover, r.billable, "
    "r.consumption_dwh, r.first_day, r.days, r.corrected_from, "
    "(SELECT MIN(x.id) FROM meter_reads x WHERE x.corrected_from = r.id), r.import_id, r.note, "
    "r.entered_by, r.reviewed_by, r.reviewed_at_us, r.version, r.created_at_us, "
    "r.updated_at_us, c.account_manager_id "
    "FROM meter_reads r JOIN metering_points mp ON mp.id = r.metering_point_id "
    "JOIN customers c ON c.id = mp.customer_id "
    "JOIN meter_installations mi ON mi.id = r.installation_id JOIN meters m ON m.id = mi.meter_id";

std::vector<Finding> ParseFindings(std::string_view text) {
  std::vector<Finding> out;
  json j = json::parse(text, nullptr, false);
  if (!j.is_array()) return out;
  for (const auto& f : j) {
    if (f.is_object()) out.push_back({f.value("rule", ""), f.value("message", "")});
  }
  return out;
}

std::string FindingsJson(const std::vector<Finding>& findings) {
  json j = json::array();
  for (const auto& f : findings) j.push_back({{"rule", f.rule}, {"message", f.message}});
  return j.dump();
}

std::string FlagsText(const std::vector<Finding>& findings) {
  std::vector<std::string> flags;
  for (const auto& f : findings) {
    if (std::find(flags.begin(), flags.end(), f.rule) == flags.end()) flags.push_back(f.rule);
  }
  return internal::JoinList(flags);
}

struct ReadRow {
  Read read;
  std::optional<int64_t> manager;
};

ReadRow ReadReadRow(const Row& r) {
  ReadRow row;
  Read& x = row.read;
  x.id = r.Int(0);
  x.metering_point_id = r.Int(1);
  x.point_code = r.Text(2);
  x.department_id = r.Int(3);
  x.period = PeriodFromKey(r.Int(4));
  x.plan_id = r.OptInt(5);
  x.installation_id = r.Int(6);
  x.meter_asset_no = r.Text(7);
  x.read_date = DayFromKey(r.Int(8));
  x.registers = ReadRegisterColumns(r, 9);
  x.multiplier = r.Int(18);
  x.source = r.Text(19);
  x.status = r.Text(20);
  x.findings = ParseFindings(r.TextView(21));
  x.rollover = internal::SplitList(r.TextView(22));
  x.billable = r.Int(23) != 0;
  if (!r.IsNull(24)) x.consumption = Energy::FromDwh(r.Int(24));
  x.first_day = DayFromKey(r.Int(25));
  x.days = r.Int(26);
  x.corrected_from = r.OptInt(27);
  x.corrected_by = r.OptInt(28);
  x.import_id = r.OptInt(29);
  x.note = r.Text(30);
  x.entered_by = r.OptInt(31);
  x.reviewed_by = r.OptInt(32);
  x.reviewed_at_us = r.OptInt(33);
  x.version = r.Int(34);
  x.created_at_us = r.Int(35);
  x.updated_at_us = r.Int(36);
  row.manager = r.OptInt(37);
  return row;
}

Result<std::optional<ReadRow>> LoadRead(Connection& c, int64_t id) {
  std::optional<ReadRow> row;
  RETURN_IF_ERROR(c.Query(std::string(kReadSelect) + " WHERE r.id = $1", {id},
                          [&](const Row& r) { row = ReadReadRow(r); }));
  return row;
}

Result<Read> LoadVisibleRead(Connection& c, const Actor& actor, int64_t id) {
  ASSIGN_OR_RETURN(auto row, LoadRead(c, id));
  if (!row || !actor.CanSee(row->read.department_id, row->manager)) {
    return NotFound("meter read " + std::to_string(id) + " not found");
  }
  return row->read;
}

// ---------------------------------------------------------------------------------------------
// Histories of (point, period)

struct Key {
  int64_t point = 0;
  int64_t period = 0;  // yyyymm
  auto operator<=>(const Key&) const = default;
};

struct KeyHistory {
  PointHistory history;
  std::optional<PastRead> current;  // the point's current read of the period
  std::optional<YearMonth> later;   // a current read of a later period
};

PastRead ReadPast(const Row& r) {
  PastRead p;
  p.id = r.Int(0);
  p.period = PeriodFromKey(r.Int(2));
  p.read_date = DayFromKey(r.Int(3));
  p.installation_id = r.Int(4);
  p.registers = ReadRegisterColumns(r, 5);
  if (!r.IsNull(14)) p.consumption = Energy::FromDwh(r.Int(14));
  p.days = r.Int(15);
  p.source = r.Text(16);
  p.status = r.Text(17);
  return p;
}

std::string PastSelect() {
  return "SELECT r.id, r.metering_point_id, r.period, r.read_date, r.installation_id, " +
         RegisterSelect("r") +
         ", r.consumption_dwh, r.days, r.source, r.status, r.billable FROM meter_reads r ";
}

Result<std::map<Key, KeyHistory>> LoadHistories(Connection& c, const std::vector<Key>& keys) {
  std::map<Key, KeyHistory> out;
  if (keys.empty()) return out;
  std::set<int64_t> point_set;
  int64_t min_period = keys.front().period;
  for (const auto& k : keys) {
    point_set.insert(k.point);
    min_period = std::min(min_period, k.period);
  }
  std::vector<int64_t> points(point_set.begin(), point_set.end());
  int64_t window = PeriodKey(AddMonths(PeriodFromKey(min_period), -13));
  ASSIGN_OR_RETURN(auto installs, internal::LoadInstalls(c, points));
  // Current reads from 13 months before the earliest period on, newest first.
  std::map<int64_t, std::vector<std::pair<PastRead, bool>>> reads;  // point -> (read, billable)
  RETURN_IF_ERROR(internal::ForChunks(points, kChunk, [&](const std::vector<int64_t>& chunk) {
    return c.Query(PastSelect() + "WHERE " + InSql("r.metering_point_id", chunk) +
                       " AND r.status <> 'superseded' AND r.period >= $1 ORDER BY "
                       "r.metering_point_id, r.period DESC",
                   {window}, [&](const Row& r) {
                     reads[r.Int(1)].push_back({ReadPast(r), r.Int(18) != 0});
                   });
  }));
  // The latest approved read before the window, for points whose window has none before their
  // period.
  std::map<int64_t, PastRead> older;
  {
    std::vector<int64_t> need;
    for (const auto& k : keys) {
      bool found = false;
      for (const auto& [r, billable] : reads[k.point]) {
        if (billable && PeriodKey(r.period) < k.period) found = true;
      }
      if (!found) need.push_back(k.point);
    }
    std::sort(need.begin(), need.end());
    need.erase(std::unique(need.begin(), need.end()), need.end());
    RETURN_IF_ERROR(internal::ForChunks(need, kChunk, [&](const std::vector<int64_t>& chunk) {
      return c.Query(PastSelect() + "WHERE " + InSql("r.metering_point_id", chunk) +
                         " AND r.billable = 1 AND r.period = (SELECT MAX(x.period) FROM "
                         "meter_reads x WHERE x.metering_point_id = r.metering_point_id AND "
                         "x.billable = 1 AND x.period < $1)",
                     {window}, [&](const Row& r) { older[r.Int(1)] = ReadPast(r); });
    }));
  }
  for (const auto& k : keys) {
    KeyHistory& h = out[k];
    h.history.installs = installs[k.point];
    int64_t last_year = PeriodKey(AddMonths(PeriodFromKey(k.period), -12));
    for (const auto& [r, billable] : reads[k.point]) {
      int64_t p = PeriodKey(r.period);
      if (p == k.period) {
        h.current = r;
      } else if (p > k.period) {
        if (!h.later || r.period > *h.later) h.later = r.period;
      } else if (billable) {
        if (!h.history.previous) h.history.previous = r;
        h.history.recent.push_back(r);
        if (p == last_year) h.history.last_year = r;
      } else if (r.status == "flagged" || r.status == "pending") {
        h.history.earlier_unreviewed = true;
      }
    }
    if (!h.history.previous) {
      auto it = older.find(k.point);
      if (it != older.end()) {
        h.history.previous = it->second;
        h.history.recent.push_back(it->second);
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reads: storing

struct Extra {
  std::optional<int64_t> plan_id;
  std::optional<int64_t> corrected_from;
  std::optional<int64_t> import_id;
  std::string note;
  bool reviewer_approved = false;  // a correction: approved by the reviewer
};

// Inserts a read as the rules decided (approved and billable when clean); returns its id.
Result<int64_t> InsertRead(Connection& c, const Actor& actor, int64_t point_id,
                           const ReadCandidate& cand, const Evaluation& ev, const Extra& extra,
                           int64_t now) {
  bool approved = extra.reviewer_approved || ev.findings.empty();
  std::string note = extra.note;
  if (note.empty() && cand.source == "estimate") note = cand.estimate_basis;
  store::Params p = {point_id, PeriodKey(cand.period), extra.plan_id, ev.installation_id,
                     DayKey(cand.read_date)};
  internal::AppendRegisterParams(cand.registers, &p);
  p.push_back(cand.frozen_multiplier.value_or(ev.multiplier));
  p.push_back(cand.source);
  p.push_back(approved ? "approved" : "flagged");
  p.push_back(FlagsText(ev.findings));
  p.push_back(FindingsJson(ev.findings));
  p.push_back(internal::JoinList(ev.rollover));
  p.push_back(int64_t{approved ? 1 : 0});
  p.push_back(ev.consumption ? store::Value(ev.consumption->dwh()) : store::Value());
  p.push_back(DayKey(ev.first_day));
  p.push_back(ev.days);
  p.push_back(extra.corrected_from);
  p.push_back(extra.import_id);
  p.push_back(note);
  p.push_back(UserValue(actor));
  p.push_back(extra.reviewer_approved ? UserValue(actor) : store::Value());
  p.push_back(extra.reviewer_approved ? store::Value(now) : store::Value());
  p.push_back(now);
  std::string cols;
  for (const auto& col : internal::RegisterColumns()) cols += col + ", ";
  auto id = c.InsertReturningId(
      "INSERT INTO meter_reads (metering_point_id, period, plan_id, installation_id, read_date, " +
          cols +
          "multiplier, source, status, flags, findings, rollover, billable, consumption_dwh, "
          "first_day, days, corrected_from, import_id, note, entered_by, reviewed_by, "
          "reviewed_at_us, created_at_us, updated_at_us) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
          "$9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, "
          "$26, $27, $28, $29, $30, $31, $31) RETURNING id",
      p);
  if (!id.ok() && id.status().code() == StatusCode::kAlreadyExists) {
    return FailedPrecondition("metering point " + std::to_string(point_id) +
                              " got a read for period " + cand.period.ToString() +
                              " while this one was stored; reload and try again");
  }
  return id;
}

// Plans of (segment, period) for the points' segments.
Result<std::map<std::pair<int64_t, int64_t>, int64_t>> LoadPlanIds(
    Connection& c, const std::vector<int64_t>& segments, const std::set<int64_t>& periods) {
  std::map<std::pair<int64_t, int64_t>, int64_t> out;
  if (segments.empty() || periods.empty()) return out;
  std::vector<int64_t> ps(periods.begin(), periods.end());
  RETURN_IF_ERROR(internal::ForChunks(segments, kChunk, [&](const std::vector<int64_t>& chunk) {
    return c.Query("SELECT id, segment_id, period FROM reading_plans WHERE " +
                       InSql("segment_id", chunk) + " AND " + InSql("period", ps),
                   {}, [&](const Row& r) {
                     out[{r.Int(1), r.Int(2)}] = r.Int(0);
                   });
  }));
  return out;
}

// Recomputes a plan's counts and status from its reads and members.
Status RefreshPlans(Connection& c, const std::set<int64_t>& plan_ids, int64_t now) {
  for (int64_t id : plan_ids) {
    int64_t points = 0, reads = 0, flagged = 0, approved = 0, estimated = 0;
    RETURN_IF_ERROR(c.Query(
        "SELECT (SELECT COUNT(*) FROM reading_segment_points sp WHERE sp.segment_id = "
        "p.segment_id), "
        "(SELECT COUNT(*) FROM meter_reads r WHERE r.plan_id = p.id AND r.status <> "
        "'superseded'), "
        "(SELECT COUNT(*) FROM meter_reads r WHERE r.plan_id = p.id AND r.status = 'flagged'), "
        "(SELECT COUNT(*) FROM meter_reads r WHERE r.plan_id = p.id AND r.status = 'approved'), "
        "(SELECT COUNT(*) FROM meter_reads r WHERE r.plan_id = p.id AND r.status <> "
        "'superseded' AND r.source = 'estimate') FROM reading_plans p WHERE p.id = $1",
        {id}, [&](const Row& r) {
          points = r.Int(0);
          reads = r.Int(1);
          flagged = r.Int(2);
          approved = r.Int(3);
          estimated = r.Int(4);
        }));
    std::string status = reads == 0                        ? "planned"
                         : reads < points                  ? "reading"
                         : flagged > 0 || approved < reads ? "reviewing"
                                                           : "completed";
    RETURN_IF_ERROR(c.Exec("UPDATE reading_plans SET point_count = $1, read_count = $2, "
                           "flagged_count = $3, approved_count = $4, estimated_count = $5, "
                           "status = $6, updated_at_us = $7 WHERE id = $8",
                           {points, reads, flagged, approved, estimated, status, now, id})
                        .status());
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Plans: loading

constexpr const char* kPlanSelect =
    "SELECT p.id, p.segment_id, s.code, s.name, p.period, p.reading_date, p.department_id, "
    "p.reader_user_id, p.status, p.point_count, p.read_count, p.flagged_count, "
    "p.approved_count, p.estimated_count, p.version, p.created_at_us, p.updated_at_us "
    "FROM reading_plans p JOIN reading_segments s ON s.id = p.segment_id";

Plan ReadPlan(const Row& r) {
  Plan p;
  p.id = r.Int(0);
  p.segment_id = r.Int(1);
  p.segment_code = r.Text(2);
  p.segment_name = r.Text(3);
  p.period = PeriodFromKey(r.Int(4));
  p.reading_date = DayFromKey(r.Int(5));
  p.department_id = r.Int(6);
  p.reader_user_id = r.OptInt(7);
  p.status = r.Text(8);
  p.point_count = r.Int(9);
  p.read_count = r.Int(10);
  p.flagged_count = r.Int(11);
  p.approved_count = r.Int(12);
  p.estimated_count = r.Int(13);
  p.missing_count = std::max<int64_t>(0, p.point_count - p.read_count);
  p.version = r.Int(14);
  p.created_at_us = r.Int(15);
  p.updated_at_us = r.Int(16);
  return p;
}

Result<Plan> LoadVisiblePlan(Connection& c, const Actor& actor, int64_t id) {
  std::optional<Plan> p;
  RETURN_IF_ERROR(c.Query(std::string(kPlanSelect) + " WHERE p.id = $1", {id},
                          [&](const Row& r) { p = ReadPlan(r); }));
  if (!p || !grid::CanSeeDepartment(actor, p->department_id)) {
    return NotFound("reading plan " + std::to_string(id) + " not found");
  }
  return *p;
}

// The segment's points without a current read for the period, and how many have one.
Result<std::vector<int64_t>> UnreadPoints(Connection& c, const Plan& plan, int64_t* already) {
  std::vector<int64_t> out;
  RETURN_IF_ERROR(
      c.Query("SELECT sp.metering_point_id, (SELECT COUNT(*) FROM meter_reads r WHERE "
              "r.metering_point_id = sp.metering_point_id AND r.period = $2 AND r.status <> "
              "'superseded') FROM reading_segment_points sp WHERE sp.segment_id = $1 ORDER BY "
              "sp.metering_point_id",
              {plan.segment_id, PeriodKey(plan.period)}, [&](const Row& r) {
                if (r.Int(1) > 0) {
                  ++*already;
                } else {
                  out.push_back(r.Int(0));
                }
              }));
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Service

ReadingService::ReadingService(store::Database& db, const Clock& clock, ReadingOptions options)
    : db_(db), clock_(clock), options_(std::move(options)) {}

// ---- Segments ----

Result<std::vector<Segment>> ReadingService::ListSegments(const Actor& actor, const SegmentQuery& q,
                                                          grid::CappedCount* total) {
  RETURN_IF_ERROR(actor.Require("reading.read"));
  if (!q.status.empty()) RETURN_IF_ERROR(CheckOneOf(q.status, "status", kSegmentStatuses));
  std::vector<Segment> out;
  Status st = db_.Read([&](Connection& c) -> Status {
    SqlWhere w(grid::DepartmentScopeSql(actor, "s.department_id"));
    if (q.department_id) {
      ASSIGN_OR_RETURN(auto sub, grid::DepartmentSubtree(c, *q.department_id));
      w.And(InSql("s.department_id", sub));
    }
    if (!q.q.empty()) {
      std::string lo = w.Bind(q.q);
      auto hi = grid::NextPrefix(q.q);
      w.And(hi ? "s.code >= " + lo + " AND s.code < " + w.Bind(*hi) : "s.code >= " + lo);
    }
    if (!q.status.empty()) w.And("s.status = " + w.Bind(q.status));
    ASSIGN_OR_RETURN(*total,
                     grid::CountCapped(c, "reading_segments s WHERE " + w.sql(), w.params()));
    return c.Query(std::string(kSegmentSelect) + " WHERE " + w.sql() + " ORDER BY s.code " +
                       w.LimitOffset(q.page, q.page_size),
                   w.params(), [&](const Row& r) { out.push_back(ReadSegment(r)); });
  });
  if (!st.ok()) return st;
  return out;
}

Result<Segment> ReadingService::GetSegment(const Actor& actor, int64_t id) {
  RETURN_IF_ERROR(actor.Require("reading.read"));
  return db_.ReadValue<Segment>(
      [&](Connection& c) -> Result<Segment> { return LoadVisibleSegment(c, actor, id); });
}

Result<Segment> ReadingService::CreateSegment(const Actor& actor, const SegmentInput& in) {
  RETURN_IF_ERROR(actor.Require("reading.write"));
  for (auto [present, field] :
       {std::pair{in.code.has_value(), "code"}, std::pair{in.name.has_value(), "name"},
        std::pair{in.department_id.has_value(), "department_id"},
        std::pair{in.reading_day.has_value(), "reading_day"}}) {
    if (!present) return InvalidArgument(std::string(field) + " is required", field);
  }
  Segment s;
  RETURN_IF_ERROR(MergeSegment(in, &s));
  RETURN_IF_ERROR(CheckSegment(s));
  int64_t now = clock_.NowMicros();
  return db_.WriteValue<Segment>([&](Connection& c) -> Result<Segment> {
    RETURN_IF_ERROR(grid::CheckDepartment(c, actor, s.department_id));
    RETURN_IF_ERROR(CheckReader(c, actor, s));
    auto id = c.InsertReturningId(
        "INSERT INTO reading_segments (code, name, department_id, reading_day, cycle, "
        "read_months, reader_user_id, status, created_at_us, updated_at_us) VALUES ($1, $2, $3, "
        "$4, $5, $6, $7, $8, $9, $9) RETURNING id",
        {s.code, s.name, s.department_id, s.reading_day, s.cycle, MonthsText(s.read_months),
         s.reader_user_id, s.status, now});
    if (!id.ok()) return CodeTaken(id.status(), s.code);
    ASSIGN_OR_RETURN(auto created, LoadSegment(c, *id));
    RETURN_IF_ERROR(org::WriteAudit(c, actor,
                                    {"create", "reading_segment", std::to_string(*id), "",
                                     ToJson(*created).dump(), created->department_id},
                                    now));
    return *created;
  });
}

Result<Segment> ReadingService::UpdateSegment(const Actor& actor, int64_t id, int64_t version,
                                              const SegmentInput& in) {
  RETURN_IF_ERROR(actor.Require("reading.write"));
  int64_t now = clock_.NowMicros();
  return db_.WriteValue<Segment>([&](Connection& c) -> Result<Segment> {
    ASSIGN_OR_RETURN(Segment before, LoadVisibleSegment(c, actor, id));
    if (before.version != version) {
      return grid::StaleVersion("reading segment", id, before.version, version);
    }
    Segment s = before;
    RETURN_IF_ERROR(MergeSegment(in, &s));
    RETURN_IF_ERROR(CheckSegment(s));
    if (s.department_id != before.department_id) {
      RETURN_IF_ERROR(grid::CheckDepartment(c, actor, s.department_id));
      // Its points must stay inside the new department's subtree.
      ASSIGN_OR_RETURN(auto sub, grid::DepartmentSubtree(c, s.department_id));
      ASSIGN_OR_RETURN(int64_t outside,
                       c.QueryInt("SELECT COUNT(*) FROM reading_segment_points sp JOIN "
                                  "metering_points mp ON mp.id = sp.metering_point_id WHERE "
                                  "sp.segment_id = $1 AND NOT (" +
                                      InSql("mp.department_id", sub) + ")",
                                  {id}));
      if (outside > 0) {
        return FailedPrecondition(std::to_string(outside) +
                                      " of the segment's metering points are not in that "
                                      "department; remove them first",
                                  "department_id");
      }
    }
    if (s.reader_user_id != before.reader_user_id || s.department_id != before.department_id) {
      RETURN_IF_ERROR(CheckReader(c, actor, s));
    }
    auto n = c.Exec(
        "UPDATE reading_segments SET code = $1, name = $2, department_id = $3, reading_day = $4, "
        "cycle = $5, read_months = $6, reader_user_id = $7, status = $8, version = version + 1, "
        "updated_at_us = $9 WHERE id = $10 AND version = $11",
        {s.code, s.name, s.department_id, s.reading_day, s.cycle, MonthsText(s.read_months),
         s.reader_user_id, s.status, now, id, version});
    if (!n.ok()) return CodeTaken(n.status(), s.code);
    if (*n == 0) {
      return grid::StaleVersionAfterUpdate(c, "reading_segments", "reading segment", id, version);
    }
    ASSIGN_OR_RETURN(auto after, LoadSegment(c, id));
    RETURN_IF_ERROR(
        org::WriteAudit(c, actor,
                        {"update", "reading_segment", std::to_string(id), ToJson(before).dump(),
                         ToJson(*after).dump(), after->department_id},
                        now));
    return *after;
  });
}

Result<std::vector<SegmentPoint>> ReadingService::SegmentPoints(const Actor& actor,
                                                                int64_t segment_id, int page,
                                                                int page_size, int64_t* total) {
  RETURN_IF_ERROR(actor.Require("reading.read"));
  std::vector<SegmentPoint> out;
  Status st = db_.Read([&](Connection& c) -> Status {
    RETURN_IF_ERROR(LoadVisibleSegment(c, actor, segment_id).status());
    std::string scope = actor.ScopeSql("mp.department_id", "c.account_manager_id");
    std::string from =
        " FROM reading_segment_points sp JOIN metering_points mp ON mp.id = "
        "sp.metering_point_id JOIN customers c ON c.id = mp.customer_id WHERE sp.segment_id = $1 "
        "AND " +
        scope;
    ASSIGN_OR_RETURN(*total, c.QueryInt("SELECT COUNT(*)" + from, {segment_id}));
    int64_t offset = static_cast<int64_t>(page - 1) * page_size;
    return c.Query(
        "SELECT mp.id, mp.code, mp.name, c.customer_no, c.name, mp.department_id, "
        "sp.added_at_us" +
            from + " ORDER BY mp.code LIMIT $2 OFFSET $3",
        {segment_id, int64_t{page_size}, offset}, [&](const Row& r) {
          out.push_back({r.Int(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4), r.Int(5), r.Int(6)});
        });
  });
  if (!st.ok()) return st;
  return out;
}

Result<Segment> ReadingService::AddPoints(const Actor& actor, int64_t segment_id, int64_t version,
                                          const std::vector<int64_t>& point_ids) {
  RETURN_IF_ERROR(actor.Require("reading.write"));
  if (point_ids.empty()) return InvalidArgument("point_ids must not be empty", "point_ids");
  if (point_ids.size() > 10'000) {
    return InvalidArgument("at most 10000 points at a time", "point_ids");
  }
  int64_t now = clock_.NowMicros();
  return db_.WriteValue<Segment>([&](Connection& c) -> Result<Segment> {
    ASSIGN_OR_RETURN(Segment before, LoadVisibleSegment(c, actor, segment_id));
    if (before.version != version) {
      return grid::StaleVersion("reading segment", segment_id, before.version, version);
    }
    ASSIGN_OR_RETURN(auto sub, grid::DepartmentSubtree(c, before.department_id));
    std::vector<int64_t> ids = point_ids;
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    ASSIGN_OR_RETURN(auto points, LoadPointRows(c, ids));
    std::vector<std::string> codes;
    for (size_t i = 0; i < point_ids.size(); ++i) {
      std::string field = "point_ids[" + std::to_string(i) + "]";
      auto it = points.find(point_ids[i]);
      if (it == points.end() || !CanSeePoint(actor, it->second)) {
        return InvalidArgument("metering point " + std::to_string(point_ids[i]) +
                                   " does not exist or is outside your data scope",
                               field);
      }
      const PointRow& p = it->second;
      if (!std::binary_search(sub.begin(), sub.end(), p.department_id)) {
        return InvalidArgument(
            "metering point " + p.code + " is not in the segment's department or below it", field);
      }
      if (p.segment_id) {
        if (*p.segment_id == segment_id) continue;
        std::string other;
        RETURN_IF_ERROR(c.Query("SELECT code FROM reading_segments WHERE id = $1", {*p.segment_id},
                                [&](const Row& r) { other = r.Text(0); }));
        return AlreadyExists("metering point " + p.code + " is already in reading segment " +
                                 other + "; remove it there first",
                             field);
      }
    }
    auto insert = c.Prepare(
        "INSERT INTO reading_segment_points (metering_point_id, segment_id, added_at_us) VALUES "
        "($1, $2, $3)");
    if (!insert.ok()) return insert.status();
    for (int64_t id : ids) {
      if (points[id].segment_id) continue;
      RETURN_IF_ERROR((*insert)->Run({id, segment_id, now}).status());
      codes.push_back(points[id].code);
    }
    RETURN_IF_ERROR(c.Exec("UPDATE reading_segments SET version = version + 1, updated_at_us = $1 "
                           "WHERE id = $2",
                           {now, segment_id})
                        .status());
    ASSIGN_OR_RETURN(auto after, LoadSegment(c, segment_id));
    json change = ToJson(*after);
    change["points_added"] = codes;
    RETURN_IF_ERROR(org::WriteAudit(c, actor,
                                    {"add_points", "reading_segment", std::to_string(segment_id),
                                     ToJson(before).dump(), change.dump(), after->department_id},
                                    now));
    return *after;
  });
}

Result<Segment> ReadingService::RemovePoints(const Actor& actor, int64_t segment_id,
                                             int64_t version,
                                             const std::vector<int64_t>& point_ids) {
  RETURN_IF_ERROR(actor.Require("reading.write"));
  if (point_ids.empty()) return InvalidArgument("point_ids must not be empty", "point_ids");
  if (point_ids.size() > 10'000) {
    return InvalidArgument("at most 10000 points at a time", "point_ids");
  }
  int64_t now = clock_.NowMicros();
  return db_.WriteValue<Segment>([&](Connection& c) -> Result<Segment> {
    ASSIGN_OR_RETURN(Segment before, LoadVisibleSegment(c, actor, segment_id));
    if (before.version != version) {
      return grid::StaleVersion("reading segment", segment_id, before.version, version);
    }
    std::vector<int64_t> ids = point_ids;
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    ASSIGN_OR_RETURN(auto points, LoadPointRows(c, ids));
    std::vector<std::string> codes;
    for (size_t i = 0; i < point_ids.size(); ++i) {
      auto it = points.find(point_ids[i]);
      if (it == points.end() || !CanSeePoint(actor, it->second) ||
          it->second.segment_id != segment_id) {
        std::string field = "point_ids[" + std::to_string(i) + "]";
        return InvalidArgument("metering point " + std::to_string(point_ids[i]) +
                                   " is not in reading segment " + before.code,
                               field);
      }
    }
    for (int64_t id : ids) codes.push_back(points[id].code);
    RETURN_IF_ERROR(c.Exec("DELETE FROM reading_segment_points WHERE segment_id = $1 AND " +
                               InSql("metering_point_id", ids),
                           {segment_id})
                        .status());
    RETURN_IF_ERROR(c.Exec("UPDATE reading_segments SET version = version + 1, updated_at_us = $1 "
                           "WHERE id = $2",
                           {now, segment_id})
                        .status());
    ASSIGN_OR_RETURN(auto after, LoadSegment(c, segment_id));
    json change = ToJson(*after);
    change["points_removed"] = codes;
    RETURN_IF_ERROR(org::WriteAudit(c, actor,
                                    {"remove_points", "reading_segment", std::to_string(segment_id),
                                     ToJson(before).dump(), change.dump(), after->department_id},
                                    now));
    return *after;
  });
}

// ---- Plans ----

Result<GenerateResult> ReadingService::GeneratePlans(const Actor& actor, YearMonth period,
                                                     std::optional<int64_t> department_id) {
  RETURN_IF_ERROR(actor.Require("reading.write"));
  if (period.month < 1 || period.month > 12 || period.year < 2000 || period.year > 9999) {
    return InvalidArgument("period must be a month YYYY-MM", "period");
  }
  int64_t now = clock_.NowMicros();
  return db_.WriteValue<GenerateResult>([&](Connection& c) -> Result<GenerateResult> {
    SqlWhere w(grid::DepartmentScopeSql(actor, "s.department_id"));
    if (department_id) {
      if (!grid::CanSeeDepartment(actor, *department_id)) {
        return InvalidArgument("department " + std::to_string(*department_id) +
                                   " does not exist or is outside your data scope",
                               "department_id");
      }
      ASSIGN_OR_RETURN(auto sub, grid::DepartmentSubtree(c, *department_id));
      w.And(InSql("s.department_id", sub));
    }
    w.And("s.status = 'active'");
    w.And("s.read_months LIKE " + w.Bind("%," + std::to_string(period.month) + ",%"));
    w.And("NOT EXISTS (SELECT 1 FROM reading_plans p WHERE p.segment_id = s.id AND p.period = " +
          w.Bind(PeriodKey(period)) + ")");
    struct Todo {
      int64_t id, department_id, reading_day;
      std::optional<int64_t> reader;
    };
    std::vector<Todo> todo;
    RETURN_IF_ERROR(
        c.Query("SELECT s.id, s.department_id, s.reading_day, s.reader_user_id FROM "
                "reading_segments s WHERE " +
                    w.sql() + " ORDER BY s.code",
                w.params(), [&](const Row& r) {
                  todo.push_back({r.Int(0), r.Int(1), r.Int(2), r.OptInt(3)});
                }));
    GenerateResult out;
    {
      SqlWhere e(grid::DepartmentScopeSql(actor, "p.department_id"));
      e.And("p.period = " + e.Bind(PeriodKey(period)));
      if (department_id) {
        ASSIGN_OR_RETURN(auto sub, grid::DepartmentSubtree(c, *department_id));
        e.And(InSql("p.department_id", sub));
      }
      ASSIGN_OR_RETURN(
          out.existing,
          c.QueryInt("SELECT COUNT(*) FROM reading_plans p WHERE " + e.sql(), e.params()));
    }
    for (const auto& t : todo) {
      Date reading_date{period.year, period.month, static_cast<int>(t.reading_day)};
      auto id = c.InsertReturningId(
          "INSERT INTO reading_plans (segment_id, period, reading_date, department_id, "
          "reader_user_id, status, point_count, created_at_us, updated_at_us) VALUES ($1, $2, "
          "$3, $4, $5, 'planned', (SELECT COUNT(*) FROM reading_segment_points WHERE "
          "segment_id = $1), $6, $6) RETURNING id",
          {t.id, PeriodKey(period), DayKey(reading_date), t.department_id, t.reader, now});
      if (!id.ok() && id.status().code() == StatusCode::kAlreadyExists) {
        return Aborted("plans of " + period.ToString() +
                       " were generated by someone else meanwhile; try again");
      }
      RETURN_IF_ERROR(id.status());
      // Reads entered before the plan existed belong to it.
      RETURN_IF_ERROR(c.Exec("UPDATE meter_reads SET plan_id = $1 WHERE period = $2 AND "
                             "plan_id IS NULL AND metering_point_id IN (SELECT metering_point_id "
                             "FROM reading_segment_points WHERE segment_id = $3)",
                             {*id, PeriodKey(period), t.id})
                          .status());
      RETURN_IF_ERROR(RefreshPlans(c, {*id}, now));
      ASSIGN_OR_RETURN(Plan plan, LoadVisiblePlan(c, Actor::System("plan"), *id));
      RETURN_IF_ERROR(org::WriteAudit(c, actor,
                                      {"create", "reading_plan", std::to_string(*id), "",
                                       ToJson(plan).dump(), plan.department_id},
                                      now));
      out.created.push_back(std::move(plan));
    }
    return out;
  });
}

Result<std::vector<Plan>> ReadingService::ListPlans(const Actor& actor, const PlanQuery& q,
                                                    int64_t* total) {
  RETURN_IF_ERROR(actor.Require("reading.read"));
  if (!q.status.empty()) RETURN_IF_ERROR(CheckOneOf(q.status, "status", kPlanStatuses));
  std::vector<Plan> out;
  Status st = db_.Read([&](Connection& c) -> Status {
    SqlWhere w(grid::DepartmentScopeSql(actor, "p.department_id"));
    if (q.department_id) {
      ASSIGN_OR_RETURN(auto sub, grid::DepartmentSubtree(c, *q.department_id));
      w.And(InSql("p.department_id", sub));
    }
    if (q.period) w.And("p.period = " + w.Bind(PeriodKey(*q.period)));
    if (q.segment_id) w.And("p.segment_id = " + w.Bind(*q.segment_id));
    if (!q.status.empty()) w.And("p.status = " + w.Bind(q.status));
    ASSIGN_OR_RETURN(
        *total, c.QueryInt("SELECT COUNT(*) FROM reading_plans p WHERE " + w.sql(), w.params()));
    return c.Query(std::string(kPlanSelect) + " WHERE " + w.sql() +
                       " ORDER BY p.period DESC, s.code " + w.LimitOffset(q.page, q.page_size),
                   w.params(), [&](const Row& r) { out.push_back(ReadPlan(r)); });
  });
  if (!st.ok()) return st;
  return out;
}

Result<Plan> ReadingService::GetPlan(const Actor& actor, int64_t id) {
  RETURN_IF_ERROR(actor.Require("reading.read"));
  return db_.ReadValue<Plan>(
      [&](Connection& c) -> Result<Plan> { return LoadVisiblePlan(c, actor, id); });
}

Result<CollectResult> ReadingService::CollectFrozen(const Actor& actor, int64_t plan_id) {
  RETURN_IF_ERROR(actor.Require("reading.write"));
  ASSIGN_OR_RETURN(TimeZone zone, TimeZone::Load(options_.time_zone));
  int64_t now = clock_.NowMicros();
  Date today = zone.LocalDate(now);
  return db_.WriteValue<CollectResult>([&](Connection& c) -> Result<CollectResult> {
    ASSIGN_OR_RETURN(Plan plan, LoadVisiblePlan(c, actor, plan_id));
    CollectResult out;
    out.plan_id = plan.id;
    out.frozen_day = plan.reading_date.AddDays(1);
    ASSIGN_OR_RETURN(auto todo, UnreadPoints(c, plan, &out.already_read));
    ASSIGN_OR_RETURN(RulesBook book, RulesBook::Load(c));
    RETURN_IF_ERROR(
        internal::ForChunks(todo, kChunk, [&](const std::vector<int64_t>& chunk) -> Status {
          std::map<int64_t, DailyFrozen> frozen;
          RETURN_IF_ERROR(c.Query("SELECT f.metering_point_id, f.multiplier, " +
                                      RegisterSelect("f") +
                                      " FROM daily_frozen_reads f WHERE f.day = $1 AND " +
                                      InSql("f.metering_point_id", chunk),
                                  {DayKey(out.frozen_day)}, [&](const Row& r) {
                                    DailyFrozen f;
                                    f.metering_point_id = r.Int(0);
                                    f.multiplier = r.Int(1);
                                    f.registers = ReadRegisterColumns(r, 2);
                                    frozen[f.metering_point_id] = std::move(f);
                                  }));
          ASSIGN_OR_RETURN(auto points, LoadPointRows(c, chunk));
          std::vector<Key> keys;
          for (int64_t id : chunk) {
            const PointRow& p = points[id];
            if (!CanSeePoint(actor, p)) {
              out.issues.push_back({p.id, p.code, "not in your data scope"});
            } else if (frozen.count(id)) {
              keys.push_back({id, PeriodKey(plan.period)});
            } else {
              ++out.missing;
            }
          }
          ASSIGN_OR_RETURN(auto histories, LoadHistories(c, keys));
          for (const auto& k : keys) {
            const PointRow& p = points[k.point];
            const KeyHistory& h = histories[k];
            const DailyFrozen& f = frozen[k.point];
            auto issue = [&](const std::string& message) {
              out.issues.push_back({p.id, p.code, message});
            };
            if (h.later) {
              issue("the point already has a read for the later period " + h.later->ToString());
              continue;
            }
            ReadCandidate cand;
            cand.period = plan.period;
            cand.read_date = plan.reading_date;
            cand.source = "frozen";
            cand.frozen_multiplier = f.multiplier;
            // The registers of the meter in effect; a frozen row without all of them is missing.
            const MeterInstall* meter =
                InstallAt(h.history.installs, EndOfDay(zone, plan.reading_date));
            if (!meter) {
              issue("no meter was installed at the end of " + plan.reading_date.ToString());
              continue;
            }
            std::string lacking;
            for (const auto& reg : meter->registers) {
              auto v = f.registers.find(reg);
              if (v == f.registers.end()) {
                lacking += (lacking.empty() ? "" : ",") + reg;
              } else {
                cand.registers[reg] = v->second;
              }
            }
            if (!lacking.empty()) {
              ++out.missing;
              issue("the frozen row of " + out.frozen_day.ToString() + " lacks register(s) " +
                    lacking + " of meter " + meter->meter_asset_no);
              continue;
            }
            ASSIGN_OR_RETURN(ReviewRules rules, book.For(c, p.department_id));
            auto ev = Evaluate(cand, h.history, rules, zone, today);
            if (!ev.ok()) {
              issue(ev.status().message());
              continue;
            }
            Extra extra;
            extra.plan_id = plan.id;
            RETURN_IF_ERROR(InsertRead(c, actor, p.id, cand, *ev, extra, now).status());
            ++out.collected;
            ++(ev->findings.empty() ? out.approved : out.flagged);
          }
          return Status::Ok();
        }));
    RETURN_IF_ERROR(RefreshPlans(c, {plan.id}, now));
    json summary = {{"frozen_day", out.frozen_day.ToString()},
                    {"collected", out.collected},
                    {"approved", out.approved},
                    {"flagged", out.flagged},
                    {"already_read", out.already_read},
                    {"missing", out.missing},
                    {"issues", out.issues.size()}};
    RETURN_IF_ERROR(org::WriteAudit(c, actor,
                                    {"collect_frozen", "reading_plan", std::to_string(plan.id), "",
                                     summary.dump(), plan.department_id},
                                    now));
    return out;
  });
}

Result<EstimateResult> ReadingService::EstimateMissing(const Actor& actor, int64_t plan_id) {
  RETURN_IF_ERROR(actor.Require("reading.write"));
  ASSIGN_OR_RETURN(TimeZone zone, TimeZone::Load(options_.time_zone));
  int64_t now = clock_.NowMicros();
  Date today = zone.LocalDate(now);
  return db_.WriteValue<EstimateResult>([&](Connection& c) -> Result<EstimateResult> {
    ASSIGN_OR_RETURN(Plan plan, LoadVisiblePlan(c, actor, plan_id));
    if (today <= plan.reading_date) {
      return FailedPrecondition("the reading date " + plan.reading_date.ToString() + " of plan " +
                                std::to_string(plan.id) +
                                " has not passed yet; reads may still come");
    }
    EstimateResult out;
    out.plan_id = plan.id;
    ASSIGN_OR_RETURN(auto todo, UnreadPoints(c, plan, &out.already_read));
    ASSIGN_OR_RETURN(RulesBook book, RulesBook::Load(c));
    RETURN_IF_ERROR(
        internal::ForChunks(todo, kChunk, [&](const std::vector<int64_t>& chunk) -> Status {
          ASSIGN_OR_RETURN(auto points, LoadPointRows(c, chunk));
          std::vector<Key> keys;
          for (int64_t id : chunk) {
            const PointRow& p = points[id];
            if (!CanSeePoint(actor, p)) {
              out.issues.push_back({p.id, p.code, "not in your data scope"});
            } else {
              keys.push_back({id, PeriodKey(plan.period)});
            }
          }
          ASSIGN_OR_RETURN(auto histories, LoadHistories(c, keys));
          for (const auto& k : keys) {
            const PointRow& p = points[k.point];
            const KeyHistory& h = histories[k];
            auto issue = [&](const std::string& message) {
              out.issues.push_back({p.id, p.code, message});
            };
            if (h.later) {
              issue("the point already has a read for the later period " + h.later->ToString());
              continue;
            }
            ASSIGN_OR_RETURN(ReviewRules rules, book.For(c, p.department_id));
            ReadCandidate cand;
            cand.period = plan.period;
            cand.read_date = plan.reading_date;
            cand.source = "estimate";
            auto regs =
                EstimateRegisters(h.history, rules, plan.reading_date, zone, &cand.estimate_basis);
            if (!regs.ok()) {
              issue(regs.status().message());
              continue;
            }
            cand.registers = std::move(*regs);
            auto ev = Evaluate(cand, h.history, rules, zone, today);
            if (!ev.ok()) {
              issue(ev.status().message());
              continue;
            }
            Extra extra;
            extra.plan_id = plan.id;
            RETURN_IF_ERROR(InsertRead(c, actor, p.id, cand, *ev, extra, now).status());
            ++out.estimated;
          }
          return Status::Ok();
        }));
    RETURN_IF_ERROR(RefreshPlans(c, {plan.id}, now));
    json summary = {{"estimated", out.estimated},
                    {"already_read", out.already_read},
                    {"issues", out.issues.size()}};
    RETURN_IF_ERROR(org::WriteAudit(c, actor,
                                    {"estimate_missing", "reading_plan", std::to_string(plan.id),
                                     "", summary.dump(), plan.department_id},
                                    now));
    return out;
  });
}

// ---- Reads ----

namespace {

// The filters of ListReads and ReviewQueue.
Result<SqlWhere> ReadFilters(Connection& c, const Actor& actor, const ReadQuery& q) {
  SqlWhere w(actor.ScopeSql("mp.department_id", "c.account_manager_id"));
  if (q.metering_point_id) w.And("r.metering_point_id = " + w.Bind(*q.metering_point_id));
  if (q.plan_id) w.And("r.plan_id = " + w.Bind(*q.plan_id));
  if (q.period) w.And("r.period = " + w.Bind(PeriodKey(*q.period)));
  if (q.department_id) {
    ASSIGN_OR_RETURN(auto sub, grid::DepartmentSubtree(c, *q.department_id));
    w.And(InSql("mp.department_id", sub));
  }
  if (q.status.empty()) {
    w.And("r.status <> 'superseded'");
  } else if (q.status != "all") {
    w.And("r.status = " + w.Bind(q.status));
  }
  if (!q.flag.empty()) {
    w.And("(',' || r.flags || ',') LIKE " + w.Bind("%," + q.flag + ",%"));
  }
  if (!q.source.empty()) w.And("r.source = " + w.Bind(q.source));
  return w;
}

Status CheckReadQuery(const ReadQuery& q) {
  if (!q.status.empty() && q.status != "all") {
    RETURN_IF_ERROR(CheckOneOf(q.status, "status", kReadStatuses));
  }
  if (!q.flag.empty()) {
    const auto& rules = ReviewRuleNames();
    if (std::find(rules.begin(), rules.end(), q.flag) == rules.end()) {
      return InvalidArgument(
          "flag must be one of the review rules: zero_use, above_last_month, "
          "below_last_month, above_last_year, below_last_year, "
          "below_previous, meter_replaced, estimated, tou_mismatch, "
          "multiplier_changed, previous_unreviewed",
          "flag");
    }
  }
  if (!q.source.empty()) RETURN_IF_ERROR(CheckOneOf(q.source, "source", kSources));
  return Status::Ok();
}

constexpr const char* kReadFrom =
    "meter_reads r JOIN metering_points mp ON mp.id = r.metering_point_id JOIN customers c ON "
    "c.id = mp.customer_id WHERE ";

}  // namespace

Result<std::vector<Read>> ReadingService::ListReads(const Actor& actor, const ReadQuery& q,
                                                    grid::CappedCount* total) {
  RETURN_IF_ERROR(actor.Require("reading.read"));
  RETURN_IF_ERROR(CheckReadQuery(q));
  // A narrowing filter: all the reads of all periods are too many to page through.
  if (!q.metering_point_id && !q.plan_id && !q.period && q.status != "flagged" &&
      q.status != "pending") {
    return InvalidArgument("give metering_point_id, plan_id, period or status=flagged",
                           "metering_point_id");
  }
  std::vector<Read> out;
  Status st = db_.Read([&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(SqlWhere w, ReadFilters(c, actor, q));
    ASSIGN_OR_RETURN(*total, grid::CountCapped(c, std::string(kReadFrom) + w.sql(), w.params()));
    return c.Query(std::string(kReadSelect) + " WHERE " + w.sql() +
                       " ORDER BY r.period DESC, mp.code, r.id DESC " +
                       w.LimitOffset(q.page, q.page_size),
                   w.params(), [&](const Row& r) { out.push_back(ReadReadRow(r).read); });
  });
  if (!st.ok()) return st;
  return out;
}

Result<std::vector<Read>> ReadingService::ReviewQueue(const Actor& actor, const ReadQuery& q,
                                                      grid::CappedCount* total) {
  RETURN_IF_ERROR(actor.Require("reading.read"));
  ReadQuery flagged = q;
  flagged.status = "flagged";
  RETURN_IF_ERROR(CheckReadQuery(flagged));
  std::vector<Read> out;
  Status st = db_.Read([&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(SqlWhere w, ReadFilters(c, actor, flagged));
    ASSIGN_OR_RETURN(*total, grid::CountCapped(c, std::string(kReadFrom) + w.sql(), w.params()));
    return c.Query(std::string(kReadSelect) + " WHERE " + w.sql() +
                       " ORDER BY r.period, r.metering_point_id " +
                       w.LimitOffset(q.page, q.page_size),
                   w.params(), [&](const Row& r) { out.push_back(ReadReadRow(r).read); });
  });
  if (!st.ok()) return st;
  return out;
}

Result<Read> ReadingService::GetRead(const Actor& actor, int64_t id) {
  RETURN_IF_ERROR(actor.Require("reading.read"));
  return db_.ReadValue<Read>(
      [&](Connection& c) -> Result<Read> { return LoadVisibleRead(c, actor, id); });
}

Result<Read> ReadingService::EnterRead(const Actor& actor, const ReadInput& in) {
  RETURN_IF_ERROR(actor.Require("reading.write"));
  ASSIGN_OR_RETURN(TimeZone zone, TimeZone::Load(options_.time_zone));
  if (in.note.size() > 2000) return InvalidArgument("note is too long", "note");
  int64_t now = clock_.NowMicros();
  Date today = zone.LocalDate(now);
  ReadCandidate cand;
  cand.period = in.period.value_or(YearMonth{in.read_date.year, in.read_date.month});
  cand.read_date = in.read_date;
  cand.registers = in.registers;
  cand.source = "manual";
  return db_.WriteValue<Read>([&](Connection& c) -> Result<Read> {
    ASSIGN_OR_RETURN(auto points, LoadPointRows(c, {in.metering_point_id}));
    auto it = points.find(in.metering_point_id);
    if (it == points.end() || !CanSeePoint(actor, it->second)) {
      return NotFound("metering point " + std::to_string(in.metering_point_id) + " not found");
    }
    const PointRow& p = it->second;
    if (p.status == "removed") {
      return FailedPrecondition("metering point " + p.code + " is removed; it takes no reads");
    }
    Key key{p.id, PeriodKey(cand.period)};
    ASSIGN_OR_RETURN(auto histories, LoadHistories(c, {key}));
    const KeyHistory& h = histories[key];
    if (h.current) {
      return FailedPrecondition("metering point " + p.code + " already has read #" +
                                std::to_string(h.current->id) + " (" + h.current->status +
                                ") for period " + cand.period.ToString() +
                                "; correct it in the review queue instead");
    }
    if (h.later) {
      return FailedPrecondition("metering point " + p.code +
                                    " already has a read for the later "
                                    "period " +
                                    h.later->ToString() + "; reads go in period order",
                                "period");
    }
    ASSIGN_OR_RETURN(RulesBook book, RulesBook::Load(c));
    ASSIGN_OR_RETURN(ReviewRules rules, book.For(c, p.department_id));
    ASSIGN_OR_RETURN(Evaluation ev, Evaluate(cand, h.history, rules, zone, today));
    Extra extra;
    extra.note = in.note;
    if (p.segment_id) {
      ASSIGN_OR_RETURN(auto plans, LoadPlanIds(c, {*p.segment_id}, {key.period}));
      auto plan = plans.find({*p.segment_id, key.period});
      if (plan != plans.end()) extra.plan_id = plan->second;
    }
    ASSIGN_OR_RETURN(int64_t id, InsertRead(c, actor, p.id, cand, ev, extra, now));
    if (extra.plan_id) RETURN_IF_ERROR(RefreshPlans(c, {*extra.plan_id}, now));
    ASSIGN_OR_RETURN(Read created, LoadVisibleRead(c, Actor::System("read"), id));
    RETURN_IF_ERROR(org::WriteAudit(c, actor,
                                    {"create", "meter_read", std::to_string(id), "",
                                     ToJson(created).dump(), created.department_id},
                                    now));
    return created;
  });
}

Result<ImportResult> ReadingService::Import(const Actor& actor, std::istream& file,
                                            const ImportOptions& options,
                                            std::vector<ImportLineError>* line_errors) {
  RETURN_IF_ERROR(actor.Require("reading.write"));
  if (options.format != "csv" && options.format != "xlsx") {
    return InvalidArgument("format must be csv or xlsx", "format");
  }
  RETURN_IF_ERROR(CheckText(options.file_name, "file_name", 1, 200));
  ASSIGN_OR_RETURN(TimeZone zone, TimeZone::Load(options_.time_zone));
  int64_t now = clock_.NowMicros();
  Date today = zone.LocalDate(now);
  std::vector<ImportLineError> errors;
  ImportResult result;
  Status st = db_.Write([&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(result.import_id,
                     c.InsertReturningId(
                         "INSERT INTO reading_imports (file_name, format, charset, line_count, "
                         "read_count, department_id, created_by, created_at_us) VALUES ($1, "
                         "$2, '', 0, 0, $3, $4, $5) RETURNING id",
                         {options.file_name, options.format,
                          actor.department_id ? store::Value(actor.department_id) : store::Value(),
                          UserValue(actor), now}));
    ASSIGN_OR_RETURN(RulesBook book, RulesBook::Load(c));
    std::map<std::pair<std::string, int64_t>, int64_t> seen;  // (code, period) -> line
    std::vector<ImportedRead> chunk;
    std::set<std::string> chunk_codes;
    std::set<int64_t> plans_touched;
    int64_t first_id = 0, last_id = 0;
    auto error = [&](int64_t line, const std::string& message) {
      errors.push_back({line, message});
    };
    auto flush = [&]() -> Status {
      if (chunk.empty()) return Status::Ok();
      std::vector<ImportedRead> lines = std::move(chunk);
      chunk.clear();
      chunk_codes.clear();
      // Points by code.
      store::Params codes;
      std::string in_list;
      std::set<std::string> unique;
      for (const auto& l : lines) {
        if (!unique.insert(l.point_code).second) continue;
        codes.push_back(l.point_code);
        in_list += (in_list.empty() ? "$" : ", $") + std::to_string(codes.size());
      }
      std::map<std::string, PointRow> by_code;
      RETURN_IF_ERROR(c.Query(std::string(kPointRowSelect) + " WHERE mp.code IN (" + in_list + ")",
                              codes, [&](const Row& r) {
                                PointRow p = ReadPointRow(r);
                                by_code[p.code] = p;
                              }));
      std::vector<Key> keys;
      std::vector<const PointRow*> rows(lines.size(), nullptr);
      std::vector<int64_t> segments;
      std::set<int64_t> periods;
      for (size_t i = 0; i < lines.size(); ++i) {
        const auto& l = lines[i];
        auto it = by_code.find(l.point_code);
        if (it == by_code.end() || !CanSeePoint(actor, it->second)) {
          error(l.line, "metering point '" + l.point_code +
                            "' does not exist or is outside your data scope");
          continue;
        }
        if (it->second.status == "removed") {
          error(l.line, "metering point " + l.point_code + " is removed; it takes no reads");
          continue;
        }
        rows[i] = &it->second;
        YearMonth period = l.period.value_or(YearMonth{l.read_date.year, l.read_date.month});
        keys.push_back({it->second.id, PeriodKey(period)});
        periods.insert(PeriodKey(period));
        if (it->second.segment_id) segments.push_back(*it->second.segment_id);
      }
      ASSIGN_OR_RETURN(auto histories, LoadHistories(c, keys));
      std::sort(segments.begin(), segments.end());
      segments.erase(std::unique(segments.begin(), segments.end()), segments.end());
      ASSIGN_OR_RETURN(auto plan_ids, LoadPlanIds(c, segments, periods));
      for (size_t i = 0; i < lines.size(); ++i) {
        if (!rows[i]) continue;
        const auto& l = lines[i];
        const PointRow& p = *rows[i];
        ReadCandidate cand;
        cand.period = l.period.value_or(YearMonth{l.read_date.year, l.read_date.month});
        cand.read_date = l.read_date;
        cand.registers = l.registers;
        cand.source = "import";
        Key key{p.id, PeriodKey(cand.period)};
        const KeyHistory& h = histories[key];
        if (h.current) {
          error(l.line, "metering point " + p.code + " already has read #" +
                            std::to_string(h.current->id) + " (" + h.current->status +
                            ") for period " + cand.period.ToString());
          continue;
        }
        if (h.later) {
          error(l.line, "metering point " + p.code + " already has a read for the later period " +
                            h.later->ToString());
          continue;
        }
        ASSIGN_OR_RETURN(ReviewRules rules, book.For(c, p.department_id));
        auto ev = Evaluate(cand, h.history, rules, zone, today);
        if (!ev.ok()) {
          error(l.line, "metering point " + p.code + ": " + ev.status().message());
          continue;
        }
        if (!errors.empty()) continue;  // the file is rejected: check the rest, store nothing
        Extra extra;
        extra.import_id = result.import_id;
        if (p.segment_id) {
          auto plan = plan_ids.find({*p.segment_id, key.period});
          if (plan != plan_ids.end()) {
            extra.plan_id = plan->second;
            plans_touched.insert(plan->second);
          }
        }
        ASSIGN_OR_RETURN(int64_t id, InsertRead(c, actor, p.id, cand, *ev, extra, now));
        if (!first_id) first_id = id;
        last_id = id;
        ++result.reads;
        ++(ev->findings.empty() ? result.approved : result.flagged);
      }
      return Status::Ok();
    };
    auto on_read = [&](ImportedRead&& read) -> Status {
      ++result.lines;
      if (result.lines > 1'000'000) {
        return InvalidArgument("the file has more than 1000000 reads; split it", "file");
      }
      YearMonth period = read.period.value_or(YearMonth{read.read_date.year, read.read_date.month});
      auto key = std::make_pair(read.point_code, PeriodKey(period));
      auto [it, fresh] = seen.emplace(key, read.line);
      if (!fresh) {
        error(read.line, "metering point " + read.point_code + " period " + period.ToString() +
                             " is also on line " + std::to_string(it->second));
        return Status::Ok();
      }
      // The same point again (another period): its earlier lines are stored first.
      if (chunk_codes.count(read.point_code)) RETURN_IF_ERROR(flush());
      chunk_codes.insert(read.point_code);
      chunk.push_back(std::move(read));
      if (chunk.size() >= kChunk) return flush();
      return Status::Ok();
    };
    auto on_error = [&](int64_t line, const std::string& message) {
      ++result.lines;
      error(line, message);
    };
    if (options.format == "csv") {
      RETURN_IF_ERROR(ReadCsvReads(file, options.charset, &result.charset, on_read, on_error));
    } else {
      result.charset = "utf-8";
      RETURN_IF_ERROR(ReadXlsxReads(file, on_read, on_error));
    }
    RETURN_IF_ERROR(flush());
    if (errors.empty() && result.lines == 0) errors.push_back({1, "the file has no reads"});
    if (!errors.empty()) {
      std::stable_sort(errors.begin(), errors.end(),
                       [](const auto& a, const auto& b) { return a.line < b.line; });
      std::string message = options.file_name + ": " + std::to_string(errors.size()) + " bad line" +
                            (errors.size() == 1 ? "" : "s") + ", nothing was imported: ";
      for (size_t i = 0; i < errors.size() && i < 20; ++i) {
        message += (i ? "; " : "") + std::string("line ") + std::to_string(errors[i].line) + ": " +
                   errors[i].message;
      }
      if (errors.size() > 20) message += "; …";
      return InvalidArgument(message, "file");
    }
    RETURN_IF_ERROR(c.Exec("UPDATE reading_imports SET charset = $1, line_count = $2, read_count "
                           "= $3 WHERE id = $4",
                           {result.charset, result.lines, result.reads, result.import_id})
                        .status());
    RETURN_IF_ERROR(RefreshPlans(c, plans_touched, now));
    json summary = {{"file_name", options.file_name}, {"format", options.format},
                    {"charset", result.charset},      {"lines", result.lines},
                    {"reads", result.reads},          {"approved", result.approved},
                    {"flagged", result.flagged},      {"first_read_id", first_id},
                    {"last_read_id", last_id}};
    return org::WriteAudit(c, actor,
                           {"import", "reading_import", std::to_string(result.import_id), "",
                            summary.dump(), actor.department_id},
                           now);
  });
  if (line_errors) *line_errors = errors;
  if (!st.ok()) return st;
  return result;
}

Result<Read> ReadingService::Approve(const Actor& actor, int64_t read_id, int64_t version) {
  RETURN_IF_ERROR(actor.Require("reading.review"));
  int64_t now = clock_.NowMicros();
  return db_.WriteValue<Read>([&](Connection& c) -> Result<Read> {
    ASSIGN_OR_RETURN(Read before, LoadVisibleRead(c, actor, read_id));
    if (before.version != version) {
      return grid::StaleVersion("meter read", read_id, before.version, version);
    }
    if (before.status != "flagged" && before.status != "pending") {
      return FailedPrecondition("meter read " + std::to_string(read_id) + " is " + before.status +
                                "; only reads in the review queue are approved");
    }
    auto flags = before.flags();
    if (std::find(flags.begin(), flags.end(), "below_previous") != flags.end()) {
      std::string why;
      for (const auto& f : before.findings) {
        if (f.rule == "below_previous") why = f.message;
      }
      return FailedPrecondition("meter read " + std::to_string(read_id) +
                                " cannot be approved as it is: " + why +
                                "; correct it (or record the meter's register digits and "
                                "enter it again)");
    }
    auto n = c.Exec(
        "UPDATE meter_reads SET status = 'approved', billable = 1, reviewed_by = $1, "
        "reviewed_at_us = $2, version = version + 1, updated_at_us = $2 WHERE id = $3 "
        "AND version = $4",
        {UserValue(actor), now, read_id, version});
    if (!n.ok() && n.status().code() == StatusCode::kAlreadyExists) {
      return FailedPrecondition("metering point " + before.point_code +
                                " already has an approved read for period " +
                                before.period.ToString());
    }
    if (!n.ok()) return n.status();
    if (*n == 0)
      return grid::StaleVersionAfterUpdate(c, "meter_reads", "meter read", read_id, version);
    if (before.plan_id) RETURN_IF_ERROR(RefreshPlans(c, {*before.plan_id}, now));
    ASSIGN_OR_RETURN(Read after, LoadVisibleRead(c, actor, read_id));
    RETURN_IF_ERROR(
        org::WriteAudit(c, actor,
                        {"approve", "meter_read", std::to_string(read_id), ToJson(before).dump(),
                         ToJson(after).dump(), after.department_id},
                        now));
    return after;
  });
}

Result<Read> ReadingService::Correct(const Actor& actor, int64_t read_id, int64_t version,
                                     const CorrectionInput& in) {
  RETURN_IF_ERROR(actor.Require("reading.review"));
  RETURN_IF_ERROR(CheckText(in.reason, "reason", 1, 500));
  ASSIGN_OR_RETURN(TimeZone zone, TimeZone::Load(options_.time_zone));
  int64_t now = clock_.NowMicros();
  Date today = zone.LocalDate(now);
  return db_.WriteValue<Read>([&](Connection& c) -> Result<Read> {
    ASSIGN_OR_RETURN(Read before, LoadVisibleRead(c, actor, read_id));
    if (before.version != version) {
      return grid::StaleVersion("meter read", read_id, before.version, version);
    }
    if (before.status == "superseded") {
      return FailedPrecondition("meter read " + std::to_string(read_id) +
                                " was already corrected by read #" +
                                std::to_string(before.corrected_by.value_or(0)));
    }
    Key key{before.metering_point_id, PeriodKey(before.period)};
    ASSIGN_OR_RETURN(auto histories, LoadHistories(c, {key}));
    const KeyHistory& h = histories[key];
    // The later read's consumption starts from this one: correcting it would change that too.
    if (h.later) {
      return FailedPrecondition("meter read " + std::to_string(read_id) + " of period " +
                                before.period.ToString() + " cannot be corrected: metering point " +
                                before.point_code + " already has a read for the later period " +
                                h.later->ToString() + "; reads go in period order");
    }
    ReadCandidate cand;
    cand.period = before.period;
    cand.read_date = in.read_date.value_or(before.read_date);
    cand.registers = in.registers;
    cand.source = "correction";
    ASSIGN_OR_RETURN(RulesBook book, RulesBook::Load(c));
    ASSIGN_OR_RETURN(ReviewRules rules, book.For(c, before.department_id));
    ASSIGN_OR_RETURN(Evaluation ev, Evaluate(cand, h.history, rules, zone, today));
    if (ev.refused) {
      std::string why;
      for (const auto& f : ev.findings) {
        if (f.rule == "below_previous") why = f.message;
      }
      return InvalidArgument("the corrected read cannot be billed: " + why, "registers");
    }
    ASSIGN_OR_RETURN(int64_t n, c.Exec("UPDATE meter_reads SET status = 'superseded', billable = "
                                       "0, version = version + 1, updated_at_us = $1 WHERE id = "
                                       "$2 AND version = $3",
                                       {now, read_id, version}));
    if (n == 0)
      return grid::StaleVersionAfterUpdate(c, "meter_reads", "meter read", read_id, version);
    Extra extra;
    extra.plan_id = before.plan_id;
    extra.corrected_from = read_id;
    extra.note = in.reason;
    extra.reviewer_approved = true;
    ASSIGN_OR_RETURN(int64_t id,
                     InsertRead(c, actor, before.metering_point_id, cand, ev, extra, now));
    if (before.plan_id) RETURN_IF_ERROR(RefreshPlans(c, {*before.plan_id}, now));
    ASSIGN_OR_RETURN(Read after, LoadVisibleRead(c, actor, id));
    json change = {{"reason", in.reason}, {"read", ToJson(after)}};
    RETURN_IF_ERROR(org::WriteAudit(c, actor,
                                    {"correct", "meter_read", std::to_string(read_id),
                                     ToJson(before).dump(), change.dump(), after.department_id},
                                    now));
    return after;
  });
}

// ---- Daily frozen ----

Result<std::vector<DailyFrozen>> ReadingService::DailyFrozenOfPoint(const Actor& actor,
                                                                    int64_t point_id,
                                                                    std::optional<Date> from,
                                                                    std::optional<Date> to) {
  RETURN_IF_ERROR(actor.Require("reading.read"));
  ASSIGN_OR_RETURN(TimeZone zone, TimeZone::Load(options_.time_zone));
  Date last_day = to.value_or(zone.LocalDate(clock_.NowMicros()));
  Date first_day = from.value_or(last_day.AddDays(-30));
  if (first_day > last_day) {
    return InvalidArgument("from must not be after to", "from");
  }
  if (last_day.ToDays() - first_day.ToDays() > 366) {
    return InvalidArgument("at most 367 days at a time", "to");
  }
  return db_.ReadValue<std::vector<DailyFrozen>>(
      [&](Connection& c) -> Result<std::vector<DailyFrozen>> {
        ASSIGN_OR_RETURN(auto points, LoadPointRows(c, {point_id}));
        auto it = points.find(point_id);
        if (it == points.end() || !CanSeePoint(actor, it->second)) {
          return NotFound("metering point " + std::to_string(point_id) + " not found");
        }
        return LoadDailyFrozen(c, {point_id}, first_day, last_day);
      });
}

// ---- Review rules ----

Result<ReviewRules> ReadingService::GetRules(const Actor& actor, int64_t department_id) {
  RETURN_IF_ERROR(actor.Require("reading.read"));
  if (!grid::CanSeeDepartment(actor, department_id)) {
    return NotFound("department " + std::to_string(department_id) + " not found");
  }
  return db_.ReadValue<ReviewRules>([&](Connection& c) -> Result<ReviewRules> {
    ASSIGN_OR_RETURN(int64_t n,
                     c.QueryInt("SELECT COUNT(*) FROM departments WHERE id = $1", {department_id}));
    if (n == 0) return NotFound("department " + std::to_string(department_id) + " not found");
    ASSIGN_OR_RETURN(RulesBook book, RulesBook::Load(c));
    return book.For(c, department_id);
  });
}

Result<ReviewRules> ReadingService::SetRules(const Actor& actor, int64_t department_id,
                                             int64_t version, const ReviewRules& rules) {
  RETURN_IF_ERROR(actor.Require("reading.review"));
  RETURN_IF_ERROR(CheckReviewRules(rules));
  if (!grid::CanSeeDepartment(actor, department_id)) {
    return NotFound("department " + std::to_string(department_id) + " not found");
  }
  int64_t now = clock_.NowMicros();
  return db_.WriteValue<ReviewRules>([&](Connection& c) -> Result<ReviewRules> {
    ASSIGN_OR_RETURN(int64_t n,
                     c.QueryInt("SELECT COUNT(*) FROM departments WHERE id = $1", {department_id}));
    if (n == 0) return NotFound("department " + std::to_string(department_id) + " not found");
    ASSIGN_OR_RETURN(RulesBook book, RulesBook::Load(c));
    ASSIGN_OR_RETURN(ReviewRules before, book.For(c, department_id));
    std::optional<ReviewRules> own = book.Own(department_id);
    int64_t current = own ? own->version : 0;
    if (current != version) {
      return grid::StaleVersion("review rules of department", department_id, current, version);
    }
    store::Params p = {rules.above_last_month_pct,
                       rules.below_last_month_pct,
                       rules.above_last_year_pct,
                       rules.below_last_year_pct,
                       rules.min_compare_use.dwh(),
                       rules.tou_tolerance.dwh(),
                       int64_t{rules.flag_zero_use ? 1 : 0},
                       rules.estimate_method,
                       rules.estimate_periods,
                       now,
                       department_id};
    if (own) {
      p.push_back(version);
      ASSIGN_OR_RETURN(
          int64_t changed,
          c.Exec("UPDATE reading_review_rules SET above_last_month_pct = $1, below_last_month_pct "
                 "= $2, above_last_year_pct = $3, below_last_year_pct = $4, min_compare_dwh = $5, "
                 "tou_tolerance_dwh = $6, flag_zero_use = $7, estimate_method = $8, "
                 "estimate_periods = $9, updated_at_us = $10, version = version + 1 WHERE "
                 "department_id = $11 AND version = $12",
                 p));
      if (changed == 0) {
        return Aborted("the review rules of department " + std::to_string(department_id) +
                       " were changed by someone else; reload them and try again");
      }
    } else {
      auto inserted = c.Exec(
          "INSERT INTO reading_review_rules (above_last_month_pct, below_last_month_pct, "
          "above_last_year_pct, below_last_year_pct, min_compare_dwh, tou_tolerance_dwh, "
          "flag_zero_use, estimate_method, estimate_periods, updated_at_us, department_id) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
          p);
      if (!inserted.ok() && inserted.status().code() == StatusCode::kAlreadyExists) {
        return Aborted("the review rules of department " + std::to_string(department_id) +
                       " were set by someone else; reload them and try again");
      }
      RETURN_IF_ERROR(inserted.status());
    }
    ASSIGN_OR_RETURN(RulesBook fresh, RulesBook::Load(c));
    ReviewRules after = *fresh.Own(department_id);
    json b = ToJson(before), a = ToJson(after);
    RETURN_IF_ERROR(
        org::WriteAudit(c, actor,
                        {own ? "update" : "create", "reading_review_rules",
                         std::to_string(department_id), b.dump(), a.dump(), department_id},
                        now));
    return after;
  });
}

}  // namespace gridmis::reading
