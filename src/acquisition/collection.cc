#include "acquisition/collection.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "acquisition/terminals.h"
#include "acquisition/vee.h"
#include "grid/records.h"
#include "http/json_fields.h"
#include "jobs/jobs.h"
#include "org/audit.h"

namespace gridmis::acquisition {

using nlohmann::json;
using org::Actor;
using store::Connection;
using store::Row;

namespace {

const std::initializer_list<std::string_view> kKinds = {"daily_frozen", "monthly_frozen", "curve",
                                                        "events"};
const std::initializer_list<std::string_view> kTerminalKinds = {
    "public_transformer", "special_transformer", "large_customer", "substation"};

std::string Percent(int64_t part, int64_t whole) {
  int64_t bp = part * 10000 / whole;  // floor, in 0.01 %
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld.%02lld", static_cast<long long>(bp / 100),
                static_cast<long long>(bp % 100));
  return buf;
}

std::string JoinIds(const std::vector<int64_t>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(ids[i]);
  }
  return s;
}

std::vector<int64_t> SplitIds(std::string_view s) {
  std::vector<int64_t> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t comma = s.find(',', pos);
    std::string_view item = s.substr(pos, comma == std::string_view::npos ? s.npos : comma - pos);
    int64_t v = 0;
    bool ok = !item.empty() && item.size() < 19;
    for (char ch : item) {
      if (ch < '0' || ch > '9') ok = false;
      v = v * 10 + (ch - '0');
    }
    if (ok) out.push_back(v);
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return out;
}

// The departments an actor's rows may belong to, intersected with the subtree of `filter`;
// nullopt when nothing restricts (scope all, no filter).
Result<std::optional<std::vector<int64_t>>> ScopeDepartments(Connection& c, const Actor& actor,
                                                             std::optional<int64_t> filter) {
  std::optional<std::vector<int64_t>> ids;
  if (actor.scope == org::DataScope::kSelf) {
    ids = std::vector<int64_t>{actor.department_id};
  } else if (actor.scope != org::DataScope::kAll) {
    ids = actor.scope_departments;
    std::sort(ids->begin(), ids->end());
  }
  if (filter) {
    ASSIGN_OR_RETURN(auto sub, grid::DepartmentSubtree(c, *filter));
    if (ids) {
      std::vector<int64_t> both;
      std::set_intersection(ids->begin(), ids->end(), sub.begin(), sub.end(),
                            std::back_inserter(both));
      ids = std::move(both);
    } else {
      ids = std::move(sub);
    }
  }
  return ids;
}

bool Contains(const std::optional<std::vector<int64_t>>& ids, int64_t id) {
  return !ids || std::binary_search(ids->begin(), ids->end(), id);
}

// "HH:MM" → minutes after midnight.
std::optional<int> ParseTimeOfDay(std::string_view s) {
  if (s.size() != 5 || s[2] != ':') return std::nullopt;
  for (size_t i : {0, 1, 3, 4}) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
  }
  int h = (s[0] - '0') * 10 + (s[1] - '0');
  int m = (s[3] - '0') * 10 + (s[4] - '0');
  if (h > 23 || m > 59) return std::nullopt;
  return h * 60 + m;
}

Status CheckRequest(const CollectionRequest& r) {
  RETURN_IF_ERROR(grid::CheckOneOf(r.kind, "kind", kKinds));
  if (r.catch_up_days < 0 || r.catch_up_days > 62 ||
      (r.kind == "monthly_frozen" && r.catch_up_days > 12)) {
    return InvalidArgument("catch_up_days must be 0..62 (0..12 months for monthly_frozen)",
                           "catch_up_days");
  }
  if (r.kind == "monthly_frozen") {
    if (r.month.month < 1 || r.month.month > 12 || r.month.year < 2000 || r.month.year > 2200) {
      return InvalidArgument("month must be YYYY-MM", "month");
    }
  } else if (r.day.year < 2000 || r.day.year > 2200 || r.day.month < 1 || r.day.month > 12 ||
             r.day.day < 1 || r.day.day > DaysInMonth(r.day.year, r.day.month)) {
    return InvalidArgument("day must be YYYY-MM-DD", "day");
  }
  if (r.terminal_ids && (r.terminal_ids->empty() || r.terminal_ids->size() > 10'000)) {
    return InvalidArgument("terminal_ids must list 1..10000 terminals", "terminal_ids");
  }
  return Status::Ok();
}

}  // namespace

bool IsCollectionKind(std::string_view kind) {
  return std::find(kKinds.begin(), kKinds.end(), kind) != kKinds.end();
}

json ToJson(const CollectionRequest& r) {
  json j = {{"kind", r.kind}};
  if (r.kind == "monthly_frozen") {
    j["month"] = r.month.ToString();
  } else {
    j["day"] = r.day.ToString();
  }
  if (r.department_id) j["department_id"] = *r.department_id;
  if (r.catch_up_days) j["catch_up_days"] = r.catch_up_days;
  if (r.task_id) j["task_id"] = *r.task_id;
  if (r.terminal_ids) j["terminal_ids"] = *r.terminal_ids;
  return j;
}

Result<CollectionRequest> ParseCollectionRequest(const json& params) {
  http::JsonFields f(params);
  CollectionRequest r;
  r.kind = f.Enum("kind", kKinds);
  auto day = f.OptString("day", {.max_len = 10});
  auto month = f.OptString("month", {.max_len = 7});
  r.department_id = f.OptInt("department_id", {.min = 1});
  r.catch_up_days = static_cast<int>(f.OptInt("catch_up_days", {.min = 0, .max = 62}).value_or(0));
  r.task_id = f.OptInt("task_id", {.min = 1});
  if (const json* ids = f.OptArray("terminal_ids")) {
    r.terminal_ids.emplace();
    for (const auto& v : *ids) {
      if (!v.is_number_integer() || v.get<int64_t>() < 1) {
        return InvalidArgument("terminal_ids must be positive integers", "terminal_ids");
      }
      r.terminal_ids->push_back(v.get<int64_t>());
    }
  }
  RETURN_IF_ERROR(f.Finish());
  if (r.kind == "monthly_frozen") {
    if (!month) return InvalidArgument("month (YYYY-MM) is required for monthly_frozen", "month");
    if (day) return InvalidArgument("monthly_frozen takes a month, not a day", "day");
    ASSIGN_OR_RETURN(r.month, YearMonth::Parse(*month, "month"));
  } else {
    if (!day) return InvalidArgument("day (YYYY-MM-DD) is required for " + r.kind, "day");
    if (month) return InvalidArgument(r.kind + " takes a day, not a month", "month");
    ASSIGN_OR_RETURN(r.day, Date::Parse(*day, "day"));
  }
  RETURN_IF_ERROR(CheckRequest(r));
  return r;
}

json ToJson(const CollectionSummary& s) {
  return json{{"terminals", s.terminals},
              {"complete", s.complete},
              {"partial", s.partial},
              {"failed", s.failed},
              {"catch_up", s.catch_up},
              {"expected_points", s.expected_points},
              {"collected_points", s.collected_points},
              {"rows_stored", s.rows_stored},
              {"missing_values", s.missing_values},
              {"requests", s.requests},
              {"decode_errors", s.decode_errors},
              {"seconds", s.seconds}};
}

namespace {

CollectionSummary SummaryFromJson(const json& j) {
  CollectionSummary s;
  auto get = [&](const char* k) {
    return j.contains(k) && j[k].is_number() ? j[k].get<int64_t>() : 0;
  };
  s.terminals = get("terminals");
  s.complete = get("complete");
  s.partial = get("partial");
  s.failed = get("failed");
  s.catch_up = get("catch_up");
  s.expected_points = get("expected_points");
  s.collected_points = get("collected_points");
  s.rows_stored = get("rows_stored");
  s.missing_values = get("missing_values");
  s.requests = get("requests");
  s.decode_errors = get("decode_errors");
  if (j.contains("seconds") && j["seconds"].is_number()) s.seconds = j["seconds"].get<double>();
  return s;
}

void Add(CollectionSummary* to, const CollectionSummary& s) {
  to->terminals += s.terminals;
  to->complete += s.complete;
  to->partial += s.partial;
  to->failed += s.failed;
  to->catch_up += s.catch_up;
  to->expected_points += s.expected_points;
  to->collected_points += s.collected_points;
  to->rows_stored += s.rows_stored;
  to->missing_values += s.missing_values;
  to->requests += s.requests;
  to->decode_errors += s.decode_errors;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The collection run

CollectionService::CollectionService(store::Database& db, const Clock& clock, const TimeZone& tz,
                                     Ingestor& ingestor, jobs::JobRunner& runner,
                                     CollectionOptions options)
    : db_(db),
      clock_(clock),
      tz_(tz),
      ingestor_(ingestor),
      runner_(runner),
      options_(std::move(options)) {}

jobs::JobKind CollectionService::JobKind() {
  CollectionService* self = this;
  return {kCollectJobKind, "acquisition.collect", [self](jobs::JobContext& ctx) -> Status {
            ASSIGN_OR_RETURN(json params, http::ParseJsonObject(ctx.job().params_json));
            ASSIGN_OR_RETURN(CollectionRequest req, ParseCollectionRequest(params));
            ASSIGN_OR_RETURN(CollectionSummary s, self->Run(ctx, req));
            ctx.SetResult(ToJson(s).dump());
            return Status::Ok();
          }};
}

namespace {

struct Period {
  int64_t key = 0;  // day key (the 1st for a month)
  Date day;
  YearMonth month;
};

Period PeriodOf(const CollectionRequest& r, int back) {
  Period p;
  if (r.kind == "monthly_frozen") {
    YearMonth m = r.month;
    for (int i = 0; i < back; ++i) m = m.Prev();
    p.month = m;
    p.day = m.FirstDay();
  } else {
    p.day = r.day.AddDays(-back);
  }
  p.key = DayKey(p.day);
  return p;
}

// One terminal's work for one period.
struct Part {
  Period period;
  bool catch_up = false;
  std::vector<uint16_t> pns;  // requested (all the terminal's points, or those missing)
  std::vector<gdw1376::Frame> replies;
  std::vector<std::string> request_errors;
  int requests = 0;
  int failed_requests = 0;
  // events: 0 = asking the counter, 1 = reading the records
  int event_stage = 0;
  int event_from = 0;
  int event_to = 0;
};

struct Item {
  const RegistryTerminal* t = nullptr;
  std::vector<Part> parts;
  // daily_frozen: the terminal's clock (AFN0C F2) read beside the registers, for VEE's
  // clock-drift rule; a failed clock read changes nothing else.
  std::optional<vee::ClockReading> clock;
  int pending = 0;
  bool done = false;
  CollectionSummary summary;  // of this item, added to the checkpoint once stored
};

struct Completion {
  size_t item = 0;
  size_t part = 0;
  fep::RequestResult result;
};

// Shared with the front end's callbacks (which may outlive a cancelled run).
struct Inbox {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Completion> done;  // guarded by mu
};

struct ResultRow {
  int64_t day_key = 0;
  int64_t terminal_id = 0;
  int64_t department_id = 0;
  std::string terminal_kind;
  int64_t expected = 0, collected = 0, billing_expected = 0, billing_collected = 0;
  std::vector<int64_t> missing_ids;
  int64_t missing_values = 0;
  std::string status;
  std::string last_error;
};

Status UpsertResults(Connection& c, const std::string& kind, const std::vector<ResultRow>& rows,
                     int64_t job_id, int64_t now_us) {
  constexpr size_t kCols = 16;
  constexpr size_t kBatch = 100;
  auto sql_for = [](size_t n) {
    return "INSERT INTO collection_results (day, kind, terminal_id, department_id, "
           "terminal_kind, expected_points, collected_points, billing_expected, "
           "billing_collected, missing_point_ids, missing_values, attempts, status, last_error, "
           "job_id, first_attempt_at_us, last_attempt_at_us) VALUES " +
           [&] {
             // 16 parameters per row; last_attempt_at_us repeats first_attempt_at_us.
             std::string v;
             for (size_t i = 0; i < n; ++i) {
               v += i ? ", (" : "(";
               for (size_t k = 0; k < kCols; ++k) {
                 v += (k ? ", $" : "$") + std::to_string(i * kCols + k + 1);
               }
               v += ", $" + std::to_string(i * kCols + kCols) + ")";
             }
             return v;
           }() +
           " ON CONFLICT (day, kind, terminal_id) DO UPDATE SET department_id = "
           "excluded.department_id, terminal_kind = excluded.terminal_kind, expected_points = "
           "excluded.expected_points, collected_points = excluded.collected_points, "
           "billing_expected = excluded.billing_expected, billing_collected = "
           "excluded.billing_collected, missing_point_ids = excluded.missing_point_ids, "
           "missing_values = excluded.missing_values, attempts = collection_results.attempts + "
           "1, status = excluded.status, last_error = excluded.last_error, job_id = "
           "excluded.job_id, last_attempt_at_us = excluded.last_attempt_at_us";
  };
  // Later rows for the same key replace earlier ones within one statement's batch.
  std::map<std::pair<int64_t, int64_t>, const ResultRow*> unique;
  for (const auto& r : rows) unique[{r.day_key, r.terminal_id}] = &r;
  std::vector<const ResultRow*> list;
  for (const auto& [k, r] : unique) list.push_back(r);
  std::unique_ptr<store::Statement> full;
  store::Params params;
  size_t in_batch = 0;
  auto run = [&](size_t n) -> Status {
    if (n == kBatch) {
      if (!full) {
        ASSIGN_OR_RETURN(full, c.Prepare(sql_for(kBatch)));
      }
      return full->Run(params).status();
    }
    ASSIGN_OR_RETURN(auto st, c.Prepare(sql_for(n)));
    return st->Run(params).status();
  };
  for (const ResultRow* r : list) {
    params.push_back(r->day_key);
    params.push_back(kind);
    params.push_back(r->terminal_id);
    params.push_back(r->department_id);
    params.push_back(r->terminal_kind);
    params.push_back(r->expected);
    params.push_back(r->collected);
    params.push_back(r->billing_expected);
    params.push_back(r->billing_collected);
    params.push_back(JoinIds(r->missing_ids));
    params.push_back(r->missing_values);
    params.push_back(int64_t{1});
    params.push_back(r->status);
    params.push_back(r->last_error.substr(0, 500));
    params.push_back(job_id > 0 ? store::Value(job_id) : store::Value());
    params.push_back(now_us);
    if (++in_batch == kBatch) {
      RETURN_IF_ERROR(run(kBatch));
      params.clear();
      in_batch = 0;
    }
  }
  if (in_batch > 0) RETURN_IF_ERROR(run(in_batch));
  return Status::Ok();
}

gdw1376::Frame ClassTwoRequest(TerminalKey key, std::vector<gdw1376::Group> groups) {
  return gdw1376::MakeRequest(gdw1376::Address{key, 0, false}, gdw1376::kAfnClass2, 0,
                              std::move(groups));
}

// The part index of a terminal's clock read (not a part: its answer goes to Item::clock).
constexpr size_t kClockRead = static_cast<size_t>(-1);

gdw1376::Frame ClockRequest(TerminalKey key) {
  gdw1376::Group g;
  auto made = gdw1376::MakeGroup({0}, {2});
  if (made.ok()) g = std::move(*made);
  return gdw1376::MakeRequest(gdw1376::Address{key, 0, false}, gdw1376::kAfnClass1, 0, {g});
}

// The drift of a terminal clock answer (device − master, seconds); nullopt when the answer has
// no readable clock.
std::optional<int64_t> ClockDrift(const std::vector<gdw1376::Frame>& replies, const TimeZone& tz,
                                  int64_t master_us) {
  for (const auto& f : replies) {
    if (f.afn != gdw1376::kAfnClass1) continue;
    const gdw1376::Item* it = f.Find(2);
    if (!it) continue;
    auto clock = gdw1376::DecodeClock(it->data);
    if (!clock.ok()) return std::nullopt;
    if (clock->month < 1 || clock->month > 12 || clock->day < 1 ||
        clock->day > DaysInMonth(clock->year, clock->month)) {
      return std::nullopt;
    }
    Date d{clock->year, clock->month, clock->day};
    int64_t local =
        tz.StartOfDay(d) +
        (int64_t{clock->hour} * 3600 + clock->minute * 60 + clock->second) * kMicrosPerSecond;
    return (local - master_us) / kMicrosPerSecond;
  }
  return std::nullopt;
}

gdw1376::Frame EventRequest(TerminalKey key, int from, int to) {
  gdw1376::Group g;
  auto made = gdw1376::MakeGroup({0}, {1});
  if (made.ok()) g = std::move(*made);
  g.items.push_back(
      gdw1376::Item{0, 1, {static_cast<uint8_t>(from & 0xFF), static_cast<uint8_t>(to & 0xFF)}});
  return gdw1376::MakeRequest(gdw1376::Address{key, 0, false}, gdw1376::kAfnClass3, 0, {g});
}

// Drops rows of points that no longer exist (deleted since the registry snapshot).
Status DropVanishedPoints(Connection& c, DecodedData* d) {
  std::set<int64_t> ids;
  for (const auto& r : d->daily) ids.insert(r.metering_point_id);
  for (const auto& r : d->monthly) ids.insert(r.metering_point_id);
  for (const auto& r : d->curves) ids.insert(r.metering_point_id);
  std::vector<int64_t> list(ids.begin(), ids.end());
  std::set<int64_t> found;
  for (size_t i = 0; i < list.size(); i += 500) {
    std::vector<int64_t> chunk(
        list.begin() + static_cast<std::ptrdiff_t>(i),
        list.begin() + static_cast<std::ptrdiff_t>(std::min(list.size(), i + 500)));
    RETURN_IF_ERROR(c.Query("SELECT id FROM metering_points WHERE " + grid::InSql("id", chunk), {},
                            [&](const Row& r) { found.insert(r.Int(0)); }));
  }
  auto gone = [&](int64_t id) { return !found.count(id); };
  std::erase_if(d->daily, [&](const auto& r) { return gone(r.metering_point_id); });
  std::erase_if(d->monthly, [&](const auto& r) { return gone(r.metering_point_id); });
  std::erase_if(d->curves, [&](const auto& r) { return gone(r.metering_point_id); });
  return Status::Ok();
}

// Runs writes in order on its own thread, at most `depth` waiting, so that the requests to the
// next terminals go on while a batch commits. The first error stops it: later writes are
// dropped and Push/Drain return that error.
class BatchWriter {
 public:
  explicit BatchWriter(size_t depth) : depth_(depth), thread_([this] { Loop(); }) {}
  ~BatchWriter() {
    {
      std::lock_guard<std::mutex> l(mu_);
      closing_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  Status Push(std::function<Status()> fn) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return queue_.size() < depth_ || !error_.ok(); });
    if (!error_.ok()) return error_;
    queue_.push_back(std::move(fn));
    cv_.notify_all();
    return Status::Ok();
  }
  // Waits until everything pushed is written (or failed).
  Status Drain() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return (queue_.empty() && !busy_) || !error_.ok(); });
    return error_;
  }
  Status error() {
    std::lock_guard<std::mutex> l(mu_);
    return error_;
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> l(mu_);
    while (true) {
      cv_.wait(l, [&] { return closing_ || !queue_.empty(); });
      if (queue_.empty()) break;
      auto fn = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
      bool failed = !error_.ok();
      l.unlock();
      Status s = failed ? Status::Ok() : fn();
      l.lock();
      busy_ = false;
      if (!s.ok() && error_.ok()) error_ = s;
      cv_.notify_all();
    }
  }

  const size_t depth_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<Status()>> queue_;  // guarded by mu_
  bool busy_ = false;                          // guarded by mu_
  bool closing_ = false;                       // guarded by mu_
  Status error_;                               // guarded by mu_
  std::thread thread_;
};

}  // namespace

Result<CollectionSummary> CollectionService::Run(jobs::JobContext& ctx,
                                                 const CollectionRequest& req) {
  auto started = std::chrono::steady_clock::now();
  const Actor& actor = ctx.actor();
  RETURN_IF_ERROR(actor.Require("acquisition.collect"));
  RETURN_IF_ERROR(CheckRequest(req));
  RETURN_IF_ERROR(ingestor_.RefreshRegistry(false));
  std::shared_ptr<const Registry> reg = ingestor_.registry();
  if (!reg) return Unavailable("the terminal registry is not loaded");
  fep::FrontEnd* fe = ingestor_.front_end();
  const bool events = req.kind == "events";

  // Scope, catch-up state and (events) the counters read so far.
  std::optional<std::vector<int64_t>> departments;
  std::vector<Period> catch_up;
  for (int i = 1; i <= req.catch_up_days && !events; ++i) catch_up.push_back(PeriodOf(req, i));
  struct Prior {
    std::string status;
    std::vector<int64_t> missing;
  };
  std::map<int64_t, std::map<int64_t, Prior>> prior;  // day key → terminal → result
  std::map<int64_t, int> counters;
  RETURN_IF_ERROR(db_.Read([&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(departments, ScopeDepartments(c, actor, req.department_id));
    if (!catch_up.empty()) {
      std::vector<int64_t> keys;
      for (const auto& p : catch_up) keys.push_back(p.key);
      RETURN_IF_ERROR(c.Query(
          "SELECT day, terminal_id, status, missing_point_ids FROM collection_results WHERE "
          "kind = $1 AND " +
              grid::InSql("day", keys),
          {req.kind}, [&](const Row& r) {
            prior[r.Int(0)][r.Int(1)] = Prior{r.Text(2), SplitIds(r.TextView(3))};
          }));
    }
    if (events) {
      std::vector<int64_t> ids;
      for (const auto& t : reg->terminals()) ids.push_back(t.id);
      ASSIGN_OR_RETURN(auto status, LoadTerminalStatus(c, ids));
      for (const auto& s : status) {
        if (s.event_counter) counters[s.terminal_id] = *s.event_counter;
      }
    }
    return Status::Ok();
  }));
  std::set<int64_t> only;
  if (req.terminal_ids) only.insert(req.terminal_ids->begin(), req.terminal_ids->end());

  // The work, by terminal id.
  std::vector<Item> items;
  for (const auto& t : reg->terminals()) {
    if (!t.installed || (!events && t.points.empty())) continue;
    if (!Contains(departments, t.department_id) ||
        !grid::CanSeeDepartment(actor, t.department_id)) {
      continue;
    }
    if (req.terminal_ids && !only.count(t.id)) continue;
    Item item;
    item.t = &t;
    std::vector<uint16_t> all;
    for (const auto& p : t.points) all.push_back(p.pn);
    Part main;
    main.period = PeriodOf(req, 0);
    main.pns = all;
    if (events) {
      int c = counters.count(t.id) ? counters[t.id] : 0;
      main.event_from = main.event_to = c;
    }
    item.parts.push_back(std::move(main));
    for (const auto& p : catch_up) {
      auto day = prior.find(p.key);
      Part part;
      part.period = p;
      part.catch_up = true;
      if (day == prior.end()) {
        part.pns = all;  // nothing ran for that period: everything
      } else {
        auto row = day->second.find(t.id);
        if (row == day->second.end()) {
          part.pns = all;  // this terminal has no result for that period (a partial run)
          part.catch_up = true;
          item.parts.push_back(std::move(part));
          continue;
        }
        if (row->second.status == "complete") continue;
        for (int64_t id : row->second.missing) {
          if (const RegistryPoint* rp = t.FindMeteringPoint(id)) part.pns.push_back(rp->pn);
        }
        if (part.pns.empty()) part.pns = all;
        std::sort(part.pns.begin(), part.pns.end());
      }
      item.parts.push_back(std::move(part));
    }
    items.push_back(std::move(item));
  }

  // Resume after the checkpoint.
  int64_t after_terminal = 0;
  CollectionSummary summary;
  if (!ctx.job().checkpoint_json.empty()) {
    auto cp = json::parse(ctx.job().checkpoint_json, nullptr, false);
    if (cp.is_object()) {
      if (cp.contains("after_terminal_id") && cp["after_terminal_id"].is_number_integer()) {
        after_terminal = cp["after_terminal_id"].get<int64_t>();
      }
      if (cp.contains("summary") && cp["summary"].is_object()) {
        summary = SummaryFromJson(cp["summary"]);
      }
    }
  }
  const int64_t total = static_cast<int64_t>(items.size());
  size_t next = 0;
  while (next < items.size() && items[next].t->id <= after_terminal) {
    items[next].done = true;
    ++next;
  }
  size_t prefix = next;  // items before this are stored and in `summary`
  int64_t done_count = static_cast<int64_t>(next);
  RETURN_IF_ERROR(ctx.Progress("collecting", done_count, total));

  auto inbox = std::make_shared<Inbox>();
  size_t in_flight = 0;
  DecodedData pending;  // decoded, not stored yet
  std::vector<ResultRow> pending_results;
  std::vector<MeterEvent> pending_events;
  std::vector<vee::ClockReading> pending_clocks;
  std::vector<std::pair<int64_t, int>> pending_counters;
  auto last_flush = std::chrono::steady_clock::now();
  const int per_frame =
      req.kind == "curve" ? options_.curve_points_per_frame : options_.points_per_frame;

  auto send = [&](size_t index, size_t part_index, gdw1376::Frame frame) {
    Item& item = items[index];
    item.pending += 1;
    if (part_index != kClockRead) item.parts[part_index].requests += 1;
    item.summary.requests += 1;
    std::weak_ptr<Inbox> weak = inbox;
    fe->Request(item.t->key, std::move(frame), options_.request,
                [weak, index, part_index](fep::RequestResult r) {
                  auto box = weak.lock();
                  if (!box) return;
                  std::lock_guard<std::mutex> l(box->mu);
                  box->done.push_back({index, part_index, std::move(r)});
                  box->cv.notify_all();
                });
  };

  auto finish_item = [&](size_t index) {
    Item& item = items[index];
    const RegistryTerminal& t = *item.t;
    item.done = true;
    if (item.clock) pending_clocks.push_back(*item.clock);
    for (auto& part : item.parts) {
      ResultRow row;
      row.day_key = part.period.key;
      row.terminal_id = t.id;
      row.department_id = t.department_id;
      row.terminal_kind = t.kind;
      std::string error = part.request_errors.empty() ? "" : part.request_errors.front();
      if (events) {
        row.expected = 1;
        bool ok = part.failed_requests == 0 && part.requests > 0;
        if (ok) {
          auto ev = DecodeEventReplies(t, part.replies, tz_, clock_.NowMicros());
          if (!ev.errors.empty()) {
            error = ev.errors.front();
            item.summary.decode_errors += static_cast<int64_t>(ev.errors.size());
          }
          item.summary.rows_stored += static_cast<int64_t>(ev.events.size());
          pending_events.insert(pending_events.end(), ev.events.begin(), ev.events.end());
          pending_counters.push_back({t.id, part.event_to});
        }
        row.collected = ok ? 1 : 0;
        row.status = ok ? "complete" : "failed";
        if (!fe && error.empty()) error = "the front end is not running";
        row.last_error = ok ? "" : error;
      } else {
        DecodedData d;
        if (req.kind == "daily_frozen") {
          d = DecodeDailyFrozen(t, part.replies, part.period.day);
        } else if (req.kind == "monthly_frozen") {
          d = DecodeMonthlyFrozen(t, part.replies, part.period.month);
        } else {
          d = DecodeCurves(t, part.replies, part.period.day);
        }
        std::set<uint16_t> missing_pns(part.pns.begin(), part.pns.end());
        for (uint16_t pn : d.collected) missing_pns.erase(pn);
        for (uint16_t pn : missing_pns) {
          if (const RegistryPoint* p = t.FindPoint(pn))
            row.missing_ids.push_back(p->metering_point_id);
        }
        std::sort(row.missing_ids.begin(), row.missing_ids.end());
        std::set<int64_t> missing_set(row.missing_ids.begin(), row.missing_ids.end());
        row.expected = static_cast<int64_t>(t.points.size());
        row.collected = row.expected - static_cast<int64_t>(row.missing_ids.size());
        for (const auto& p : t.points) {
          if (!p.billing) continue;
          ++row.billing_expected;
          if (!missing_set.count(p.metering_point_id)) ++row.billing_collected;
        }
        row.missing_values = d.missing_values;
        row.status = row.missing_ids.empty() ? "complete"
                     : row.collected > 0     ? "partial"
                                             : "failed";
        if (error.empty() && !d.errors.empty()) error = d.errors.front();
        if (error.empty() && !row.missing_ids.empty()) {
          error = "no data for " + std::to_string(row.missing_ids.size()) +
                  (row.missing_ids.size() == 1 ? " point" : " points") +
                  " (EEH or not in the reply)";
        }
        if (!fe && part.requests == 0) error = "the front end is not running";
        row.last_error = row.missing_ids.empty() ? "" : error;
        item.summary.expected_points += row.expected;
        item.summary.collected_points += row.collected;
        item.summary.missing_values += d.missing_values;
        item.summary.decode_errors += static_cast<int64_t>(d.errors.size());
        item.summary.rows_stored +=
            static_cast<int64_t>(d.daily.size() + d.monthly.size() + d.curves.size());
        pending.Merge(std::move(d));
      }
      item.summary.terminals += 1;
      if (part.catch_up) item.summary.catch_up += 1;
      if (row.status == "complete") {
        item.summary.complete += 1;
      } else if (row.status == "partial") {
        item.summary.partial += 1;
      } else {
        item.summary.failed += 1;
      }
      pending_results.push_back(std::move(row));
      part.replies.clear();
    }
    ++done_count;
  };

  auto start_item = [&](size_t index) {
    Item& item = items[index];
    if (!fe) {
      finish_item(index);
      return;
    }
    for (size_t pi = 0; pi < item.parts.size(); ++pi) {
      Part& part = item.parts[pi];
      if (events) {
        send(index, pi, EventRequest(item.t->key, part.event_from, part.event_from));
        continue;
      }
      if (req.kind == "daily_frozen" && pi == 0 && !part.catch_up) {
        send(index, kClockRead, ClockRequest(item.t->key));
      }
      for (size_t i = 0; i < part.pns.size(); i += static_cast<size_t>(per_frame)) {
        std::vector<uint16_t> chunk(part.pns.begin() + static_cast<std::ptrdiff_t>(i),
                                    part.pns.begin() + static_cast<std::ptrdiff_t>(std::min(
                                                           part.pns.size(), i + per_frame)));
        gdw1376::Bytes td;
        uint16_t fn = 161;
        if (req.kind == "daily_frozen") {
          td = gdw1376::EncodeTd(part.period.day);
        } else if (req.kind == "monthly_frozen") {
          fn = 177;
          td = gdw1376::EncodeTdMonth(part.period.month);
        } else {
          fn = options_.curve_fn;
          // F101: the indications 00:00 .. 24:00 (97 points, 96 differences); F97: the
          // quantities of the intervals ending 00:15 .. 24:00.
          gdw1376::MinuteTime start{part.period.day.year, part.period.day.month,
                                    part.period.day.day, 0, fn == 101 ? 0 : 15};
          td = gdw1376::EncodeTdCurve(start, 1, fn == 101 ? 97 : 96);
        }
        send(index, pi, ClassTwoRequest(item.t->key, gdw1376::GroupsFor(chunk, fn, td)));
      }
    }
    if (item.pending == 0) finish_item(index);
  };

  // The front end stopped under the run (its requests come back Cancelled): nothing of the
  // unfinished terminals is recorded, so that a later run (or the resumed job) collects them.
  bool front_end_stopped = false;
  auto on_completion = [&](Completion& done) {
    Item& item = items[done.item];
    item.pending -= 1;
    if (done.result.cancelled || front_end_stopped) {
      front_end_stopped = true;
      if (item.pending == 0) --in_flight;
      return;
    }
    if (done.part == kClockRead) {
      int64_t now_us = clock_.NowMicros();
      if (done.result.status.ok()) {
        if (auto drift = ClockDrift(done.result.replies, tz_, now_us)) {
          item.clock = vee::ClockReading{item.t->id, std::nullopt, now_us, *drift};
        }
      }
      if (item.pending == 0) {
        finish_item(done.item);
        --in_flight;
      }
      return;
    }
    Part& part = item.parts[done.part];
    if (done.result.status.ok()) {
      if (events && part.event_stage == 0) {
        // The terminal's counter: read the records between what was read and it.
        auto ev = DecodeEventReplies(*item.t, done.result.replies, tz_, clock_.NowMicros());
        part.event_stage = 1;
        if (ev.ec1 && *ev.ec1 != part.event_from) {
          part.event_to = *ev.ec1;
          send(done.item, done.part, EventRequest(item.t->key, part.event_from, part.event_to));
        } else {
          part.replies = std::move(done.result.replies);
        }
      } else {
        for (auto& f : done.result.replies) part.replies.push_back(std::move(f));
      }
    } else {
      part.failed_requests += 1;
      std::string what = done.result.status.code() == StatusCode::kUnavailable
                             ? "not connected: " + done.result.status.message()
                             : done.result.status.message();
      part.request_errors.push_back(what);
    }
    if (item.pending == 0) {
      finish_item(done.item);
      --in_flight;
    }
  };

  // The job's context is used by this thread and, for checkpoints, by the writer: one at a time.
  std::mutex ctx_mu;
  std::atomic<int64_t> write_us{0};  // time spent in write transactions
  auto writer = std::make_unique<BatchWriter>(2);
  auto flush = [&](bool final) -> Status {
    // Items before `p` are finished: everything of theirs is in the pending batch or queued.
    size_t p = prefix;
    while (p < items.size() && items[p].done) ++p;
    if (pending_results.empty() && p == prefix && !final) return Status::Ok();
    CollectionSummary next_summary = summary;
    for (size_t i = prefix; i < p; ++i) Add(&next_summary, items[i].summary);
    struct Batch {
      DecodedData data;
      std::vector<ResultRow> results;
      std::vector<MeterEvent> events;
      std::vector<std::pair<int64_t, int>> counters;
      std::vector<vee::ClockReading> clocks;
      std::string checkpoint;
      int64_t done = 0;
    };
    auto b = std::make_shared<Batch>();
    b->data = std::move(pending);
    b->results = std::move(pending_results);
    b->events = std::move(pending_events);
    b->counters = std::move(pending_counters);
    b->clocks = std::move(pending_clocks);
    b->checkpoint = json{{"after_terminal_id", p > 0 ? items[p - 1].t->id : after_terminal},
                         {"summary", ToJson(next_summary)}}
                        .dump();
    b->done = done_count;
    pending = DecodedData();
    pending_results.clear();
    pending_events.clear();
    pending_counters.clear();
    pending_clocks.clear();
    summary = next_summary;
    prefix = p;
    last_flush = std::chrono::steady_clock::now();
    return writer->Push([this, b, &ctx, &ctx_mu, &write_us, &req, total]() -> Status {
      int64_t now = clock_.NowMicros();
      auto write = [&](Connection& c) -> Status {
        RETURN_IF_ERROR(ingestor_.StoreDecoded(c, b->data));
        RETURN_IF_ERROR(UpsertResults(c, req.kind, b->results, ctx.job_id(), now));
        if (!b->events.empty()) RETURN_IF_ERROR(InsertEvents(c, &b->events).status());
        if (!b->clocks.empty()) RETURN_IF_ERROR(ingestor_.StoreClockReadings(c, b->clocks));
        for (const auto& [id, ec] : b->counters) RETURN_IF_ERROR(SaveEventCounter(c, id, ec, now));
        std::lock_guard<std::mutex> l(ctx_mu);
        return ctx.Checkpoint(c, b->checkpoint, "collecting", b->done, total);
      };
      auto t0 = std::chrono::steady_clock::now();
      Status st = db_.Write(write);
      if (!st.ok() && st.code() == StatusCode::kInvalidArgument &&
          st.field() == "metering_point_id") {
        // A point was deleted since the snapshot: store the rest.
        RETURN_IF_ERROR(db_.Read([&](Connection& c) { return DropVanishedPoints(c, &b->data); }));
        st = db_.Write(write);
      }
      write_us += std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - t0)
                      .count();
      return st;
    });
  };
  // Cancelled or handed back: the writes queued so far commit (with their checkpoint), then
  // the context's stop status.
  auto stop = [&]() -> Status {
    writer.reset();
    std::lock_guard<std::mutex> l(ctx_mu);
    Status s = ctx.Progress("collecting", done_count, total);
    return s.ok() ? Aborted("collection stopped") : s;
  };

  while (next < items.size() || in_flight > 0) {
    while (in_flight < options_.window && next < items.size() && !front_end_stopped) {
      size_t index = next++;
      ++in_flight;
      start_item(index);
      if (items[index].done) --in_flight;
    }
    std::vector<Completion> batch;
    {
      std::unique_lock<std::mutex> l(inbox->mu);
      if (inbox->done.empty() && in_flight > 0) {
        inbox->cv.wait_for(l, std::chrono::milliseconds(100));
      }
      batch.swap(inbox->done);
    }
    for (auto& done : batch) on_completion(done);
    size_t rows = pending.daily.size() + pending.monthly.size() + pending.curves.size() +
                  pending_results.size();
    if (rows >= options_.flush_rows ||
        std::chrono::steady_clock::now() - last_flush >= options_.flush_interval) {
      RETURN_IF_ERROR(flush(false));
    }
    RETURN_IF_ERROR(writer->error());
    bool should_stop = false;
    {
      std::lock_guard<std::mutex> l(ctx_mu);
      should_stop = ctx.ShouldStop();
    }
    if (should_stop) return stop();
    if (front_end_stopped && in_flight == 0) {
      // What finished before it is stored with its checkpoint; the rest is not touched.
      RETURN_IF_ERROR(flush(false));
      RETURN_IF_ERROR(writer->Drain());
      writer.reset();
      return Unavailable("the terminal front end stopped during the collection; run it again");
    }
  }
  RETURN_IF_ERROR(flush(true));
  RETURN_IF_ERROR(writer->Drain());
  writer.reset();
  double write_seconds = static_cast<double>(write_us.load()) / 1e6;
  summary.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  spdlog::info(
      "acquisition collect {} {}: {} terminal-periods, {} complete, {} partial, {} failed, "
      "{} rows in {:.1f} s ({:.1f} s writing)",
      req.kind, req.kind == "monthly_frozen" ? req.month.ToString() : req.day.ToString(),
      summary.terminals, summary.complete, summary.partial, summary.failed, summary.rows_stored,
      summary.seconds, write_seconds);
  return summary;
}

// ---------------------------------------------------------------------------------------------
// Starting runs

namespace {

// The period a task collects when run on local day `today`.
CollectionRequest RequestForTask(const CollectionTask& t, Date today) {
  CollectionRequest r;
  r.kind = t.kind;
  r.department_id = t.department_id;
  r.catch_up_days = static_cast<int>(t.catch_up_days);
  r.task_id = t.id;
  if (t.kind == "monthly_frozen") {
    r.month = YearMonth{today.year, today.month}.Prev();
  } else if (t.kind == "events") {
    r.day = today;
  } else {
    r.day = today.AddDays(-1);
  }
  return r;
}

constexpr const char* kTaskSelect =
    "SELECT t.id, t.name, t.kind, t.department_id, t.time_of_day, t.day_of_month, "
    "t.catch_up_days, t.enabled, t.version, t.created_at_us, t.updated_at_us, "
    "(SELECT r.run_key FROM collection_task_runs r WHERE r.task_id = t.id ORDER BY "
    "r.submitted_at_us DESC, r.run_key DESC LIMIT 1), "
    "(SELECT r.job_id FROM collection_task_runs r WHERE r.task_id = t.id ORDER BY "
    "r.submitted_at_us DESC, r.run_key DESC LIMIT 1) FROM collection_tasks t";

CollectionTask ReadTask(const Row& r) {
  CollectionTask t;
  t.id = r.Int(0);
  t.name = r.Text(1);
  t.kind = r.Text(2);
  t.department_id = r.Int(3);
  t.time_of_day = r.Text(4);
  t.day_of_month = r.Int(5);
  t.catch_up_days = r.Int(6);
  t.enabled = r.Bool(7);
  t.version = r.Int(8);
  t.created_at_us = r.Int(9);
  t.updated_at_us = r.Int(10);
  t.last_run_key = r.OptText(11);
  t.last_job_id = r.OptInt(12);
  return t;
}

Result<std::optional<CollectionTask>> LoadTask(Connection& c, int64_t id) {
  std::optional<CollectionTask> t;
  RETURN_IF_ERROR(c.Query(std::string(kTaskSelect) + " WHERE t.id = $1", {id},
                          [&](const Row& r) { t = ReadTask(r); }));
  return t;
}

Result<CollectionTask> LoadVisibleTask(Connection& c, const Actor& actor, int64_t id) {
  ASSIGN_OR_RETURN(auto t, LoadTask(c, id));
  if (!t || !grid::CanSeeDepartment(actor, t->department_id)) {
    return NotFound("collection task " + std::to_string(id) + " not found");
  }
  return *t;
}

json TaskAuditJson(const CollectionTask& t) {
  return json{{"name", t.name},
              {"kind", t.kind},
              {"department_id", t.department_id},
              {"time_of_day", t.time_of_day},
              {"day_of_month", t.day_of_month},
              {"catch_up_days", t.catch_up_days},
              {"enabled", t.enabled},
              {"version", t.version}};
}

Status CheckTask(Connection& c, const Actor& actor, const CollectionTask& t) {
  RETURN_IF_ERROR(grid::CheckText(t.name, "name", 1, 50));
  RETURN_IF_ERROR(grid::CheckOneOf(t.kind, "kind", kKinds));
  if (!ParseTimeOfDay(t.time_of_day)) {
    return InvalidArgument("time_of_day must be HH:MM (00:00..23:59)", "time_of_day");
  }
  if (t.day_of_month < 1 || t.day_of_month > 28) {
    return InvalidArgument("day_of_month must be 1..28", "day_of_month");
  }
  if (t.catch_up_days < 0 || t.catch_up_days > 62 ||
      (t.kind == "monthly_frozen" && t.catch_up_days > 12)) {
    return InvalidArgument("catch_up_days must be 0..62 (0..12 months for monthly_frozen)",
                           "catch_up_days");
  }
  RETURN_IF_ERROR(grid::CheckDepartment(c, actor, t.department_id));
  std::optional<int64_t> other;
  RETURN_IF_ERROR(c.Query("SELECT id FROM collection_tasks WHERE name = $1 AND id <> $2",
                          {t.name, t.id}, [&](const Row& r) { other = r.Int(0); }));
  if (other) {
    return AlreadyExists(
        "collection task " + std::to_string(*other) + " is already named '" + t.name + "'", "name");
  }
  return Status::Ok();
}

void MergeTask(const CollectionTaskInput& in, CollectionTask* t) {
  if (in.name) t->name = *in.name;
  if (in.kind) t->kind = *in.kind;
  if (in.department_id) t->department_id = *in.department_id;
  if (in.time_of_day) t->time_of_day = *in.time_of_day;
  if (in.day_of_month) t->day_of_month = *in.day_of_month;
  if (in.catch_up_days) t->catch_up_days = *in.catch_up_days;
  if (in.enabled) t->enabled = *in.enabled;
}

}  // namespace

Result<jobs::Job> CollectionService::StartCollection(const Actor& actor, CollectionRequest req) {
  RETURN_IF_ERROR(actor.Require("acquisition.collect"));
  if (!req.department_id && actor.scope != org::DataScope::kAll) {
    req.department_id = actor.department_id;
  }
  RETURN_IF_ERROR(CheckRequest(req));
  int64_t now = clock_.NowMicros();
  ASSIGN_OR_RETURN(int64_t job_id, db_.WriteValue<int64_t>([&](Connection& c) -> Result<int64_t> {
    if (req.department_id) {
      RETURN_IF_ERROR(grid::CheckDepartment(c, actor, *req.department_id));
    }
    json params = ToJson(req);
    ASSIGN_OR_RETURN(int64_t id,
                     runner_.Insert(c, actor, kCollectJobKind, params.dump(), req.department_id));
    params["job_id"] = id;
    RETURN_IF_ERROR(org::WriteAudit(c, actor,
                                    {"start", "collection", std::to_string(id), "", params.dump(),
                                     req.department_id.value_or(actor.department_id)},
                                    now));
    return id;
  }));
  runner_.Wake();
  return runner_.Load(job_id);
}

Result<jobs::Job> CollectionService::RunTaskNow(const Actor& actor, int64_t task_id,
                                                std::optional<Date> day,
                                                std::optional<YearMonth> month) {
  RETURN_IF_ERROR(actor.Require("acquisition.collect"));
  int64_t now = clock_.NowMicros();
  ASSIGN_OR_RETURN(int64_t job_id, db_.WriteValue<int64_t>([&](Connection& c) -> Result<int64_t> {
    ASSIGN_OR_RETURN(CollectionTask t, LoadVisibleTask(c, actor, task_id));
    CollectionRequest req = RequestForTask(t, tz_.LocalDate(now));
    if (t.kind == "monthly_frozen") {
      if (day) return InvalidArgument("a monthly_frozen task takes a month, not a day", "day");
      if (month) req.month = *month;
    } else {
      if (month) return InvalidArgument("a " + t.kind + " task takes a day, not a month", "month");
      if (day) req.day = *day;
    }
    RETURN_IF_ERROR(CheckRequest(req));
    json params = ToJson(req);
    ASSIGN_OR_RETURN(int64_t id,
                     runner_.Insert(c, actor, kCollectJobKind, params.dump(), t.department_id));
    params["job_id"] = id;
    RETURN_IF_ERROR(org::WriteAudit(
        c, actor,
        {"run", "collection_task", std::to_string(t.id), "", params.dump(), t.department_id}, now));
    return id;
  }));
  runner_.Wake();
  return runner_.Load(job_id);
}

// ---------------------------------------------------------------------------------------------
// Tasks

Result<std::vector<CollectionTask>> CollectionService::ListTasks(const Actor& actor) {
  RETURN_IF_ERROR(actor.Require("acquisition.read"));
  std::vector<CollectionTask> out;
  RETURN_IF_ERROR(db_.Read([&](Connection& c) {
    return c.Query(std::string(kTaskSelect) + " WHERE " +
                       grid::DepartmentScopeSql(actor, "t.department_id") + " ORDER BY t.name",
                   {}, [&](const Row& r) { out.push_back(ReadTask(r)); });
  }));
  return out;
}

Result<CollectionTask> CollectionService::GetTask(const Actor& actor, int64_t id) {
  RETURN_IF_ERROR(actor.Require("acquisition.read"));
  return db_.ReadValue<CollectionTask>(
      [&](Connection& c) { return LoadVisibleTask(c, actor, id); });
}

Result<CollectionTask> CollectionService::CreateTask(const Actor& actor,
                                                     const CollectionTaskInput& in) {
  RETURN_IF_ERROR(actor.Require("acquisition.collect"));
  if (!in.name) return InvalidArgument("name is required", "name");
  if (!in.kind) return InvalidArgument("kind is required", "kind");
  CollectionTask t;
  t.department_id = actor.department_id;
  MergeTask(in, &t);
  int64_t now = clock_.NowMicros();
  ASSIGN_OR_RETURN(int64_t id, db_.WriteValue<int64_t>([&](Connection& c) -> Result<int64_t> {
    RETURN_IF_ERROR(CheckTask(c, actor, t));
    ASSIGN_OR_RETURN(
        int64_t new_id,
        c.InsertReturningId(
            "INSERT INTO collection_tasks (name, kind, department_id, time_of_day, day_of_month, "
            "catch_up_days, enabled, version, created_at_us, updated_at_us) VALUES ($1, $2, $3, "
            "$4, $5, $6, $7, 1, $8, $8) RETURNING id",
            {t.name, t.kind, t.department_id, t.time_of_day, t.day_of_month, t.catch_up_days,
             t.enabled, now}));
    t.id = new_id;
    t.version = 1;
    RETURN_IF_ERROR(org::WriteAudit(c, actor,
                                    {"create", "collection_task", std::to_string(new_id), "",
                                     TaskAuditJson(t).dump(), t.department_id},
                                    now));
    return new_id;
  }));
  return GetTask(actor, id);
}

Result<CollectionTask> CollectionService::UpdateTask(const Actor& actor, int64_t id,
                                                     int64_t version,
                                                     const CollectionTaskInput& in) {
  RETURN_IF_ERROR(actor.Require("acquisition.collect"));
  int64_t now = clock_.NowMicros();
  RETURN_IF_ERROR(db_.Write([&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(CollectionTask before, LoadVisibleTask(c, actor, id));
    if (before.version != version) {
      return grid::StaleVersion("collection task", id, before.version, version);
    }
    CollectionTask t = before;
    MergeTask(in, &t);
    RETURN_IF_ERROR(CheckTask(c, actor, t));
    ASSIGN_OR_RETURN(
        int64_t n,
        c.Exec("UPDATE collection_tasks SET name = $1, kind = $2, department_id = $3, "
               "time_of_day = $4, day_of_month = $5, catch_up_days = $6, enabled = $7, version = "
               "version + 1, updated_at_us = $8 WHERE id = $9 AND version = $10",
               {t.name, t.kind, t.department_id, t.time_of_day, t.day_of_month, t.catch_up_days,
                t.enabled, now, id, version}));
    if (n == 0) {
      return grid::StaleVersionAfterUpdate(c, "collection_tasks", "collection task", id, version);
    }
    t.version = version + 1;
    return org::WriteAudit(c, actor,
                           {"update", "collection_task", std::to_string(id),
                            TaskAuditJson(before).dump(), TaskAuditJson(t).dump(), t.department_id},
                           now);
  }));
  return GetTask(actor, id);
}

// ---------------------------------------------------------------------------------------------
// Results and statistics

Result<std::vector<CollectionResult>> CollectionService::ListResults(const Actor& actor,
                                                                     const ResultQuery& q,
                                                                     int64_t* total) {
  RETURN_IF_ERROR(actor.Require("acquisition.read"));
  if (!q.kind.empty()) RETURN_IF_ERROR(grid::CheckOneOf(q.kind, "kind", kKinds));
  if (!q.status.empty()) {
    RETURN_IF_ERROR(
        grid::CheckOneOf(q.status, "status", {"complete", "partial", "failed", "incomplete"}));
  }
  std::vector<CollectionResult> out;
  RETURN_IF_ERROR(db_.Read([&](Connection& c) -> Status {
    grid::SqlWhere w(grid::DepartmentScopeSql(actor, "r.department_id"));
    if (q.department_id) {
      ASSIGN_OR_RETURN(auto sub, grid::DepartmentSubtree(c, *q.department_id));
      w.And(grid::InSql("r.department_id", sub));
    }
    if (q.day) w.And("r.day = " + w.Bind(DayKey(*q.day)));
    if (!q.kind.empty()) w.And("r.kind = " + w.Bind(q.kind));
    if (q.status == "incomplete") {
      w.And("r.status IN ('partial', 'failed')");
    } else if (!q.status.empty()) {
      w.And("r.status = " + w.Bind(q.status));
    }
    if (q.terminal_id) w.And("r.terminal_id = " + w.Bind(*q.terminal_id));
    if (total) {
      ASSIGN_OR_RETURN(
          *total,
          c.QueryInt("SELECT COUNT(*) FROM collection_results r WHERE " + w.sql(), w.params()));
    }
    RETURN_IF_ERROR(
        c.Query("SELECT r.day, r.kind, r.terminal_id, t.area_code, t.address, t.asset_no, "
                "r.terminal_kind, r.department_id, r.expected_points, r.collected_points, "
                "r.billing_expected, r.billing_collected, r.missing_point_ids, r.missing_values, "
                "r.attempts, r.status, r.last_error, r.job_id, r.first_attempt_at_us, "
                "r.last_attempt_at_us FROM collection_results r JOIN terminals t ON t.id = "
                "r.terminal_id WHERE " +
                    w.sql() + " ORDER BY r.day DESC, r.kind, r.terminal_id " +
                    w.LimitOffset(q.page, q.page_size),
                w.params(), [&](const Row& r) {
                  CollectionResult x;
                  x.day = DayFromKey(r.Int(0));
                  x.kind = r.Text(1);
                  x.terminal_id = r.Int(2);
                  x.terminal_address = FormatTerminalAddress(r.TextView(3), r.Int(4));
                  x.terminal_asset_no = r.Text(5);
                  x.terminal_kind = r.Text(6);
                  x.department_id = r.Int(7);
                  x.expected_points = r.Int(8);
                  x.collected_points = r.Int(9);
                  x.billing_expected = r.Int(10);
                  x.billing_collected = r.Int(11);
                  x.missing_point_ids = SplitIds(r.TextView(12));
                  x.missing_values = r.Int(13);
                  x.attempts = r.Int(14);
                  x.status = r.Text(15);
                  x.last_error = r.Text(16);
                  x.job_id = r.OptInt(17);
                  x.first_attempt_at_us = r.Int(18);
                  x.last_attempt_at_us = r.Int(19);
                  out.push_back(std::move(x));
                }));
    // The codes of the first missing points of each row.
    std::vector<int64_t> ids;
    for (const auto& x : out) {
      for (size_t i = 0; i < x.missing_point_ids.size() && i < 100; ++i) {
        ids.push_back(x.missing_point_ids[i]);
      }
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    std::map<int64_t, std::string> codes;
    for (size_t i = 0; i < ids.size(); i += 500) {
      std::vector<int64_t> chunk(
          ids.begin() + static_cast<std::ptrdiff_t>(i),
          ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), i + 500)));
      RETURN_IF_ERROR(
          c.Query("SELECT id, code FROM metering_points WHERE " + grid::InSql("id", chunk), {},
                  [&](const Row& r) { codes[r.Int(0)] = r.Text(1); }));
    }
    for (auto& x : out) {
      for (size_t i = 0; i < x.missing_point_ids.size() && i < 100; ++i) {
        auto it = codes.find(x.missing_point_ids[i]);
        x.missing_point_codes.push_back(it == codes.end() ? "" : it->second);
      }
    }
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<SuccessRow>> CollectionService::Statistics(const Actor& actor,
                                                              const SuccessQuery& q) {
  RETURN_IF_ERROR(actor.Require("acquisition.read"));
  RETURN_IF_ERROR(grid::CheckOneOf(q.kind, "kind", kKinds));
  RETURN_IF_ERROR(grid::CheckOneOf(q.group_by, "group_by", {"department", "kind", "day"}));
  if (q.to < q.from) return InvalidArgument("from must not be after to", "from");
  if (q.to.ToDays() - q.from.ToDays() >= 366) {
    return InvalidArgument("at most 366 days at a time", "to");
  }
  int64_t root = q.department_id.value_or(actor.department_id);
  struct Agg {
    int64_t terminals = 0, failed = 0, expected = 0, collected = 0;
    void Add(const Agg& o) {
      terminals += o.terminals;
      failed += o.failed;
      expected += o.expected;
      collected += o.collected;
    }
  };
  std::vector<SuccessRow> out;
  RETURN_IF_ERROR(db_.Read([&](Connection& c) -> Status {
    if (q.department_id && !grid::CanSeeDepartment(actor, *q.department_id)) {
      return NotFound("department " + std::to_string(*q.department_id) + " not found");
    }
    ASSIGN_OR_RETURN(auto sub, grid::DepartmentSubtree(c, root));
    if (sub.empty()) return NotFound("department " + std::to_string(root) + " not found");
    grid::SqlWhere w(grid::DepartmentScopeSql(actor, "r.department_id"));
    w.And(grid::InSql("r.department_id", sub));
    w.And("r.kind = " + w.Bind(q.kind));
    w.And("r.day >= " + w.Bind(DayKey(q.from)) + " AND r.day <= " + w.Bind(DayKey(q.to)));
    std::map<std::tuple<int64_t, int64_t, std::string>, Agg> rows;  // day, dept, kind
    RETURN_IF_ERROR(c.Query(
        "SELECT r.day, r.department_id, r.terminal_kind, COUNT(*), SUM(CASE WHEN r.status <> "
        "'complete' THEN 1 ELSE 0 END), SUM(r.billing_expected), SUM(r.billing_collected) FROM "
        "collection_results r WHERE " +
            w.sql() + " GROUP BY r.day, r.department_id, r.terminal_kind",
        w.params(), [&](const Row& r) {
          Agg a{r.Int(3), r.Int(4), r.Int(5), r.Int(6)};
          rows[{r.Int(0), r.Int(1), r.Text(2)}].Add(a);
        }));
    auto emit = [&](std::string key, std::string label, int depth, const Agg& a) {
      SuccessRow s;
      s.key = std::move(key);
      s.label = std::move(label);
      s.depth = depth;
      s.terminals = a.terminals;
      s.failed_terminals = a.failed;
      s.expected_points = a.expected;
      s.collected_points = a.collected;
      if (a.expected > 0) s.rate_percent = Percent(a.collected, a.expected);
      out.push_back(std::move(s));
    };
    if (q.group_by == "day") {
      std::map<int64_t, Agg> by_day;
      for (const auto& [k, a] : rows) by_day[std::get<0>(k)].Add(a);
      for (int64_t d = q.from.ToDays(); d <= q.to.ToDays(); ++d) {
        Date day = Date::FromDays(d);
        auto it = by_day.find(DayKey(day));
        emit(day.ToString(), day.ToString(), 0, it == by_day.end() ? Agg{} : it->second);
      }
      return Status::Ok();
    }
    if (q.group_by == "kind") {
      std::map<std::string, Agg> by_kind;
      for (const auto& [k, a] : rows) by_kind[std::get<2>(k)].Add(a);
      for (std::string_view kind : kTerminalKinds) {
        auto it = by_kind.find(std::string(kind));
        emit(std::string(kind), std::string(kind), 0, it == by_kind.end() ? Agg{} : it->second);
      }
      return Status::Ok();
    }
    // Departments: each line sums its subtree; lines in tree (path) order.
    struct Dept {
      int64_t id;
      std::string name;
      std::string path;
    };
    std::vector<Dept> depts;
    RETURN_IF_ERROR(c.Query(
        "SELECT id, name, path FROM departments WHERE " + grid::InSql("id", sub) + " ORDER BY path",
        {}, [&](const Row& r) {
          depts.push_back({r.Int(0), r.Text(1), r.Text(2)});
        }));
    std::map<int64_t, const Dept*> by_id;
    for (const auto& d : depts) by_id[d.id] = &d;
    std::map<int64_t, Agg> own;
    for (const auto& [k, a] : rows) own[std::get<1>(k)].Add(a);
    std::map<int64_t, Agg> rolled;
    for (const auto& [dept, a] : own) {
      auto it = by_id.find(dept);
      if (it == by_id.end()) continue;
      // Every department on the path at or below the root gets it.
      for (const auto& d : depts) {
        if (it->second->path.rfind(d.path, 0) == 0) rolled[d.id].Add(a);
      }
    }
    size_t root_depth = 0;
    for (const auto& d : depts) {
      if (d.id == root)
        root_depth = static_cast<size_t>(std::count(d.path.begin(), d.path.end(), '/'));
    }
    for (const auto& d : depts) {
      if (!grid::CanSeeDepartment(actor, d.id)) continue;
      int depth = static_cast<int>(std::count(d.path.begin(), d.path.end(), '/') - root_depth);
      auto it = rolled.find(d.id);
      emit(std::to_string(d.id), d.name, depth, it == rolled.end() ? Agg{} : it->second);
    }
    return Status::Ok();
  }));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reads

Result<std::vector<TerminalStateRow>> CollectionService::TerminalStates(const Actor& actor,
                                                                        const TerminalStateQuery& q,
                                                                        int64_t* total) {
  RETURN_IF_ERROR(actor.Require("acquisition.read"));
  if (!q.kind.empty()) RETURN_IF_ERROR(grid::CheckOneOf(q.kind, "kind", kTerminalKinds));
  std::vector<TerminalStateRow> out;
  RETURN_IF_ERROR(db_.Read([&](Connection& c) -> Status {
    grid::SqlWhere w(grid::DepartmentScopeSql(actor, "t.department_id"));
    w.And("t.status = 'installed'");
    if (q.department_id) {
      ASSIGN_OR_RETURN(auto sub, grid::DepartmentSubtree(c, *q.department_id));
      w.And(grid::InSql("t.department_id", sub));
    }
    if (!q.kind.empty()) w.And("t.kind = " + w.Bind(q.kind));
    if (q.online) w.And(*q.online ? "s.online = 1" : "COALESCE(s.online, 0) = 0");
    std::string from =
        " FROM terminals t LEFT JOIN terminal_status s ON s.terminal_id = t.id WHERE " + w.sql();
    if (total) {
      ASSIGN_OR_RETURN(*total, c.QueryInt("SELECT COUNT(*)" + from, w.params()));
    }
    return c.Query(
        "SELECT t.id, t.asset_no, t.area_code, t.address, t.kind, t.department_id, (SELECT "
        "COUNT(*) FROM terminal_meters x WHERE x.terminal_id = t.id), s.terminal_id, s.online, "
        "s.peer, s.login_at_us, s.last_seen_us, s.offline_at_us, s.offline_reason, s.logins, "
        "s.event_counter, s.updated_at_us" +
            from + " ORDER BY t.area_code, t.address " + w.LimitOffset(q.page, q.page_size),
        w.params(), [&](const Row& r) {
          TerminalStateRow x;
          x.terminal_id = r.Int(0);
          x.asset_no = r.Text(1);
          x.address = FormatTerminalAddress(r.TextView(2), r.Int(3));
          x.kind = r.Text(4);
          x.department_id = r.Int(5);
          x.meter_count = r.Int(6);
          if (!r.IsNull(7)) {
            TerminalStatus s;
            s.terminal_id = r.Int(7);
            s.online = r.Bool(8);
            s.peer = r.Text(9);
            s.login_at_us = r.OptInt(10);
            s.last_seen_us = r.OptInt(11);
            s.offline_at_us = r.OptInt(12);
            s.offline_reason = r.Text(13);
            s.logins = r.Int(14);
            if (!r.IsNull(15)) s.event_counter = static_cast<int>(r.Int(15));
            s.updated_at_us = r.Int(16);
            x.status = std::move(s);
          }
          out.push_back(std::move(x));
        });
  }));
  return out;
}

Result<TerminalStateCounts> CollectionService::TerminalStateSummary(
    const Actor& actor, std::optional<int64_t> department_id) {
  RETURN_IF_ERROR(actor.Require("acquisition.read"));
  TerminalStateCounts out;
  RETURN_IF_ERROR(db_.Read([&](Connection& c) -> Status {
    grid::SqlWhere w(grid::DepartmentScopeSql(actor, "t.department_id"));
    w.And("t.status = 'installed'");
    if (department_id) {
      ASSIGN_OR_RETURN(auto sub, grid::DepartmentSubtree(c, *department_id));
      w.And(grid::InSql("t.department_id", sub));
    }
    std::map<std::string, TerminalStateCounts::ByKind> kinds;
    RETURN_IF_ERROR(c.Query(
        "SELECT t.kind, CASE WHEN s.terminal_id IS NULL THEN 2 WHEN s.online = 1 THEN 1 ELSE 0 "
        "END, COUNT(*) FROM terminals t LEFT JOIN terminal_status s ON s.terminal_id = t.id "
        "WHERE " +
            w.sql() +
            " GROUP BY t.kind, CASE WHEN s.terminal_id IS NULL THEN 2 WHEN s.online = 1 "
            "THEN 1 ELSE 0 END",
        w.params(), [&](const Row& r) {
          int64_t n = r.Int(2);
          auto& k = kinds[r.Text(0)];
          k.kind = r.Text(0);
          k.total += n;
          out.total += n;
          switch (r.Int(1)) {
            case 1:
              k.online += n;
              out.online += n;
              break;
            case 2:
              out.never_seen += n;
              break;
            default:
              out.offline += n;
          }
        }));
    for (std::string_view kind : kTerminalKinds) {
      auto it = kinds.find(std::string(kind));
      TerminalStateCounts::ByKind k;
      k.kind = std::string(kind);
      if (it != kinds.end()) k = it->second;
      out.by_kind.push_back(k);
    }
    return Status::Ok();
  }));
  return out;
}

namespace {

Status CheckVisiblePoint(Connection& c, const Actor& actor, int64_t point_id) {
  std::optional<int64_t> dept;
  RETURN_IF_ERROR(c.Query("SELECT department_id FROM metering_points WHERE id = $1", {point_id},
                          [&](const Row& r) { dept = r.Int(0); }));
  if (!dept || !grid::CanSeeDepartment(actor, *dept)) {
    return NotFound("metering point " + std::to_string(point_id) + " not found");
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<reading::DailyFrozen>> CollectionService::DailyFrozenOfPoint(const Actor& actor,
                                                                                int64_t point_id,
                                                                                Date from,
                                                                                Date to) {
  RETURN_IF_ERROR(actor.Require("acquisition.read"));
  if (to < from) return InvalidArgument("from must not be after to", "from");
  if (to.ToDays() - from.ToDays() >= 366) return InvalidArgument("at most 366 days", "to");
  return db_.ReadValue<std::vector<reading::DailyFrozen>>(
      [&](Connection& c) -> Result<std::vector<reading::DailyFrozen>> {
        RETURN_IF_ERROR(CheckVisiblePoint(c, actor, point_id));
        return reading::LoadDailyFrozen(c, {point_id}, from, to);
      });
}

Result<std::vector<MonthlyFrozen>> CollectionService::MonthlyFrozenOfPoint(const Actor& actor,
                                                                           int64_t point_id,
                                                                           YearMonth from,
                                                                           YearMonth to) {
  RETURN_IF_ERROR(actor.Require("acquisition.read"));
  return db_.ReadValue<std::vector<MonthlyFrozen>>(
      [&](Connection& c) -> Result<std::vector<MonthlyFrozen>> {
        RETURN_IF_ERROR(CheckVisiblePoint(c, actor, point_id));
        return LoadMonthlyFrozen(c, {point_id}, from, to);
      });
}

Result<Curve> CollectionService::CurveOfPoint(const Actor& actor, int64_t point_id, Date day,
                                              const std::string& quantity) {
  RETURN_IF_ERROR(actor.Require("acquisition.read"));
  if (!IsKnownCurveQuantity(quantity)) {
    return InvalidArgument("quantity must be fwd_active_energy", "quantity");
  }
  return db_.ReadValue<Curve>([&](Connection& c) -> Result<Curve> {
    RETURN_IF_ERROR(CheckVisiblePoint(c, actor, point_id));
    ASSIGN_OR_RETURN(auto curves, LoadCurves(c, {point_id}, day, day, quantity));
    if (curves.empty()) {
      return NotFound("metering point " + std::to_string(point_id) + " has no " + quantity +
                      " curve for " + day.ToString());
    }
    return std::move(curves.front());
  });
}

Result<std::vector<MeterEvent>> CollectionService::Events(const Actor& actor, EventQuery q,
                                                          std::optional<int64_t> department_id,
                                                          int64_t* total) {
  RETURN_IF_ERROR(actor.Require("acquisition.read"));
  return db_.ReadValue<std::vector<MeterEvent>>(
      [&](Connection& c) -> Result<std::vector<MeterEvent>> {
        ASSIGN_OR_RETURN(q.departments, ScopeDepartments(c, actor, department_id));
        return QueryEvents(c, q, total);
      });
}

// ---------------------------------------------------------------------------------------------
// Scheduler

CollectionScheduler::CollectionScheduler(store::Database& db, const Clock& clock,
                                         const TimeZone& tz, jobs::JobRunner& runner,
                                         std::chrono::milliseconds poll)
    : db_(db), clock_(clock), tz_(tz), runner_(runner), poll_(poll) {}

CollectionScheduler::~CollectionScheduler() { Stop(); }

void CollectionScheduler::Start() {
  std::lock_guard<std::mutex> l(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void CollectionScheduler::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void CollectionScheduler::Loop() {
  std::unique_lock<std::mutex> l(mu_);
  while (!stopping_) {
    l.unlock();
    auto submitted = Tick();
    if (!submitted.ok()) {
      spdlog::warn("acquisition scheduler: {}", submitted.status().ToString());
    } else if (!submitted->empty()) {
      spdlog::info("acquisition scheduler: submitted {} collection job(s)", submitted->size());
    }
    l.lock();
    cv_.wait_for(l, poll_, [&] { return stopping_; });
  }
}

Result<std::vector<int64_t>> CollectionScheduler::Tick() {
  int64_t now = clock_.NowMicros();
  Date today = tz_.LocalDate(now);
  int minute = static_cast<int>((now - tz_.StartOfDay(today)) / kMicrosPerMinute);
  std::vector<CollectionTask> tasks;
  RETURN_IF_ERROR(db_.Read([&](Connection& c) {
    return c.Query(std::string(kTaskSelect) + " WHERE t.enabled = 1 ORDER BY t.id", {},
                   [&](const Row& r) { tasks.push_back(ReadTask(r)); });
  }));
  std::vector<int64_t> jobs;
  Actor system = Actor::System("collection scheduler");
  for (const auto& t : tasks) {
    auto at = ParseTimeOfDay(t.time_of_day);
    if (!at || minute < *at) continue;
    std::string key = today.ToString();
    if (t.kind == "monthly_frozen") {
      if (today.day < t.day_of_month) continue;
      key = YearMonth{today.year, today.month}.ToString();
    }
    CollectionRequest req = RequestForTask(t, today);
    std::optional<int64_t> job;
    Status s = db_.Write([&](Connection& c) -> Status {
      ASSIGN_OR_RETURN(bool seen, c.QueryOne("SELECT 1 FROM collection_task_runs WHERE task_id = "
                                             "$1 AND run_key = $2",
                                             {t.id, key}, [](const Row&) {}));
      if (seen) return Status::Ok();
      ASSIGN_OR_RETURN(int64_t id, runner_.Insert(c, system, kCollectJobKind, ToJson(req).dump(),
                                                  t.department_id));
      RETURN_IF_ERROR(c.Exec("INSERT INTO collection_task_runs (task_id, run_key, job_id, "
                             "submitted_at_us) VALUES ($1, $2, $3, $4)",
                             {t.id, key, id, now})
                          .status());
      job = id;
      return Status::Ok();
    });
    // Another process submitted the same run first: the key is taken, nothing to do.
    if (!s.ok() && s.code() != StatusCode::kAlreadyExists) return s;
    if (job) jobs.push_back(*job);
  }
  if (!jobs.empty()) runner_.Wake();
  return jobs;
}

// ---------------------------------------------------------------------------------------------
// JSON

namespace {
json OptTime(const std::optional<int64_t>& us) { return us ? json(FormatUtc(*us)) : json(nullptr); }
}  // namespace

json ToJson(const CollectionTask& t) {
  return json{{"id", t.id},
              {"name", t.name},
              {"kind", t.kind},
              {"department_id", t.department_id},
              {"time_of_day", t.time_of_day},
              {"day_of_month", t.day_of_month},
              {"catch_up_days", t.catch_up_days},
              {"enabled", t.enabled},
              {"last_run_key", t.last_run_key ? json(*t.last_run_key) : json(nullptr)},
              {"last_job_id", t.last_job_id ? json(*t.last_job_id) : json(nullptr)},
              {"version", t.version},
              {"created_at", FormatUtc(t.created_at_us)},
              {"updated_at", FormatUtc(t.updated_at_us)}};
}

json ToJson(const CollectionResult& r) {
  json missing = json::array();
  for (size_t i = 0; i < r.missing_point_ids.size() && i < 100; ++i) {
    missing.push_back({{"metering_point_id", r.missing_point_ids[i]},
                       {"code", i < r.missing_point_codes.size() ? r.missing_point_codes[i] : ""}});
  }
  return json{{"day", r.day.ToString()},
              {"kind", r.kind},
              {"terminal_id", r.terminal_id},
              {"terminal_address", r.terminal_address},
              {"terminal_asset_no", r.terminal_asset_no},
              {"terminal_kind", r.terminal_kind},
              {"department_id", r.department_id},
              {"expected_points", r.expected_points},
              {"collected_points", r.collected_points},
              {"billing_expected", r.billing_expected},
              {"billing_collected", r.billing_collected},
              {"missing_count", static_cast<int64_t>(r.missing_point_ids.size())},
              {"missing_points", missing},
              {"missing_values", r.missing_values},
              {"attempts", r.attempts},
              {"status", r.status},
              {"last_error", r.last_error},
              {"job_id", r.job_id ? json(*r.job_id) : json(nullptr)},
              {"first_attempt_at", FormatUtc(r.first_attempt_at_us)},
              {"last_attempt_at", FormatUtc(r.last_attempt_at_us)}};
}

json ToJson(const SuccessRow& r) {
  return json{{"key", r.key},
              {"label", r.label},
              {"depth", r.depth},
              {"terminals", r.terminals},
              {"failed_terminals", r.failed_terminals},
              {"expected_points", r.expected_points},
              {"collected_points", r.collected_points},
              {"rate_percent", r.rate_percent ? json(*r.rate_percent) : json(nullptr)}};
}

json ToJson(const TerminalStateRow& r) {
  json j{{"terminal_id", r.terminal_id},
         {"asset_no", r.asset_no},
         {"address", r.address},
         {"kind", r.kind},
         {"department_id", r.department_id},
         {"meter_count", r.meter_count},
         {"online", r.status && r.status->online},
         {"seen", r.status.has_value()}};
  j["peer"] = r.status && !r.status->peer.empty() ? json(r.status->peer) : json(nullptr);
  j["login_at"] = r.status ? OptTime(r.status->login_at_us) : json(nullptr);
  j["last_seen_at"] = r.status ? OptTime(r.status->last_seen_us) : json(nullptr);
  j["offline_at"] = r.status ? OptTime(r.status->offline_at_us) : json(nullptr);
  j["offline_reason"] = r.status && !r.status->offline_reason.empty()
                            ? json(r.status->offline_reason)
                            : json(nullptr);
  j["logins"] = r.status ? r.status->logins : 0;
  return j;
}

json ToJson(const MeterEvent& e) {
  json detail = json::parse(e.detail_json, nullptr, false);
  if (detail.is_discarded()) detail = json::object();
  return json{
      {"id", e.id},
      {"terminal_id", e.terminal_id},
      {"metering_point_id", e.metering_point_id ? json(*e.metering_point_id) : json(nullptr)},
      {"erc", e.erc},
      {"kind", e.kind},
      {"meaning", e.meaning},
      {"occurred_at", FormatUtc(e.occurred_at_us)},
      {"ended_at", OptTime(e.ended_at_us)},
      {"detail", detail},
      {"received_at", FormatUtc(e.received_at_us)}};
}

json ToJson(const MonthlyFrozen& m) {
  json regs = json::object();
  for (const auto& [name, value] : m.registers) regs[name] = value.ToKwhString(4);
  return json{{"metering_point_id", m.metering_point_id},
              {"month", m.month.ToString()},
              {"multiplier", m.multiplier},
              {"registers", regs},
              {"reading_time", OptTime(m.reading_time_us)},
              {"quality", m.quality}};
}

json ToJson(const Curve& k, const TimeZone& tz) {
  json values = json::array();
  json flags = json::array();
  int64_t start = tz.StartOfDay(k.day);
  json times = json::array();
  std::optional<Energy> sum;
  for (size_t i = 0; i < k.values.size(); ++i) {
    values.push_back(k.values[i] ? json(k.values[i]->ToKwhString(4)) : json(nullptr));
    auto q = i < k.quality.size() ? QualityFromChar(k.quality[i]) : std::nullopt;
    flags.push_back(q ? QualityName(*q) : "missing");
    times.push_back(
        tz.FormatLocal(start + static_cast<int64_t>(i) * k.interval_minutes * kMicrosPerMinute)
            .substr(11, 5));
    if (k.values[i]) sum = sum.value_or(Energy()) + *k.values[i];
  }
  int64_t missing = std::count(k.quality.begin(), k.quality.end(), 'M');
  return json{{"metering_point_id", k.metering_point_id},
              {"day", k.day.ToString()},
              {"quantity", k.quantity},
              {"interval_minutes", k.interval_minutes},
              {"multiplier", k.multiplier},
              {"times", times},
              {"values", values},
              {"quality", flags},
              {"quality_flags", k.quality},
              {"missing", missing},
              {"total", missing == 0 && sum ? json(sum->ToKwhString(4)) : json(nullptr)}};
}

}  // namespace gridmis::acquisition
