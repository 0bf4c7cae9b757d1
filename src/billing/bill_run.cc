// The bill run job: page through the period's approved reads, rate, write bills and lines in
// chunked transactions with the job's checkpoint; then the summary. And the issue job.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <unordered_set>

#include "accounts/posting.h"
#include "billing/internal/billing_internal.h"
#include "org/audit.h"

namespace gridmis::billing {

using nlohmann::json;
using store::Connection;
using store::Row;

namespace {

struct RunRow {
  int64_t id = 0;
  int64_t job_id = 0;
  int64_t department_id = 0;
  std::optional<int64_t> segment_id;
  YearMonth period;
  int64_t threshold_pct = 0;
  std::optional<int64_t> started_by;
};

Result<RunRow> LoadRunRow(Connection& c, int64_t id) {
  std::optional<RunRow> row;
  Status bad;
  RETURN_IF_ERROR(c.Query(
      "SELECT id, job_id, department_id, segment_id, period, change_threshold_pct, started_by "
      "FROM bill_runs WHERE id = $1",
      {id}, [&](const Row& r) {
        RunRow x;
        x.id = r.Int(0);
        x.job_id = r.Int(1);
        x.department_id = r.Int(2);
        x.segment_id = r.OptInt(3);
        auto ym = YearMonth::Parse(r.TextView(4));
        if (!ym.ok()) bad = ym.status();
        if (ym.ok()) x.period = *ym;
        x.threshold_pct = r.Int(5);
        x.started_by = r.OptInt(6);
        row = x;
      }));
  RETURN_IF_ERROR(bad);
  if (!row) return NotFound("bill run " + std::to_string(id) + " not found");
  return *row;
}

struct ExceptionRow {
  int64_t point_id = 0;
  int64_t read_id = 0;
  std::string code;
  std::string message;
};

// One page of reads, rated and ready to write.
struct Page {
  std::vector<NewBill> bills;
  std::vector<ExceptionRow> exceptions;
  int64_t last_point_id = 0;
  int64_t reads = 0;
  int64_t skipped = 0;
  bool end = false;  // no more reads after the checkpoint
};

struct Checkpoint {
  int64_t after = 0;  // last metering point id whose read was handled
  int64_t done = 0;   // reads handled
  int64_t skipped = 0;
  int64_t chunks = 0;

  static Checkpoint Parse(const std::string& text) {
    Checkpoint cp;
    if (text.empty()) return cp;
    json j = json::parse(text, nullptr, false);
    if (!j.is_object()) return cp;
    cp.after = j.value("after", int64_t{0});
    cp.done = j.value("done", int64_t{0});
    cp.skipped = j.value("skipped", int64_t{0});
    cp.chunks = j.value("chunks", int64_t{0});
    return cp;
  }
  std::string Dump() const {
    return json{{"after", after}, {"done", done}, {"skipped", skipped}, {"chunks", chunks}}.dump();
  }
};

// A bounded queue between the reading/rating thread and the writer.
class PageQueue {
 public:
  explicit PageQueue(size_t capacity) : capacity_(capacity) {}
  // False when the consumer closed the queue.
  bool Push(Result<Page> page) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return closed_ || items_.size() < capacity_; });
    if (closed_) return false;
    items_.push_back(std::move(page));
    cv_.notify_all();
    return true;
  }
  Result<Page> Pop() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !items_.empty(); });
    Result<Page> p = std::move(items_.front());
    items_.pop_front();
    cv_.notify_all();
    return p;
  }
  void Close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  size_t capacity_;
  bool closed_ = false;
  std::deque<Result<Page>> items_;
};

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Status BillingService::Impl::RunBillRun(jobs::JobContext& ctx) {
  json params = json::parse(ctx.job().params_json, nullptr, false);
  if (!params.is_object() || !params.contains("run_id")) {
    return InvalidArgument("bill_run job " + std::to_string(ctx.job_id()) + " has no run_id");
  }
  int64_t run_id = params["run_id"].get<int64_t>();
  ASSIGN_OR_RETURN(RunRow run,
                   db.ReadValue<RunRow>([&](Connection& c) { return LoadRunRow(c, run_id); }));
  Checkpoint cp = Checkpoint::Parse(ctx.job().checkpoint_json);
  const int page_size = std::max(1, options.page_size);
  const int fail_after = options.fail_after_chunks_for_test;
  int64_t now_start = clock.NowMicros();
  int64_t wall_start = SteadyMs();

  // Total: the department's billing points (the segment's when given is not known here; the
  // bar then shows the points handled).
  int64_t total = ctx.job().total;
  if (total == 0) {
    auto n = db.ReadValue<int64_t>([&](Connection& c) -> Result<int64_t> {
      ASSIGN_OR_RETURN(auto sub, grid::DepartmentSubtree(c, run.department_id));
      return c.QueryInt("SELECT COUNT(*) FROM metering_points WHERE " +
                        grid::InSql("department_id", sub) + " AND purpose = 'billing'");
    });
    if (n.ok() && !run.segment_id) total = *n;
  }
  RETURN_IF_ERROR(ctx.Progress("rating", cp.done, total));

  reading::BillableQuery base_query = QueryFor(run.period);
  base_query.department_id = run.department_id;
  base_query.segment_id = run.segment_id;

  // Reads, points and prior bills of the page after `after`, rated.
  auto produce = [&](int64_t after) -> Result<Page> {
    Page page;
    std::vector<reading::BillableRead> reads;
    std::map<int64_t, PointInfo> points;
    std::map<int64_t, PriorBills> prior;
    RETURN_IF_ERROR(db.Read([&](Connection& c) -> Status {
      reading::BillableQuery q = base_query;
      q.after_point_id = after;
      q.limit = page_size;
      ASSIGN_OR_RETURN(reads, reading::LoadBillableReads(c, q));
      if (reads.empty()) return Status::Ok();
      std::vector<int64_t> ids;
      ids.reserve(reads.size());
      for (const auto& r : reads) ids.push_back(r.metering_point_id);
      ASSIGN_OR_RETURN(points, LoadPoints(c, ids));
      ASSIGN_OR_RETURN(prior, LoadPriorBills(c, ids, run.period));
      return Status::Ok();
    }));
    if (reads.empty()) {
      page.end = true;
      return page;
    }
    page.reads = static_cast<int64_t>(reads.size());
    page.last_point_id = reads.back().metering_point_id;
    int64_t now = clock.NowMicros();
    page.bills.reserve(reads.size());
    static const PriorBills kNone;
    for (auto& read : reads) {
      auto pit = prior.find(read.metering_point_id);
      const PriorBills& pb = pit == prior.end() ? kNone : pit->second;
      if (pb.has_live_bill) {
        ++page.skipped;
        continue;
      }
      auto it = points.find(read.metering_point_id);
      if (it == points.end()) {
        page.exceptions.push_back(
            {read.metering_point_id, read.read_id, "NOT_FOUND",
             "metering point " + std::to_string(read.metering_point_id) + " no longer exists"});
        continue;
      }
      const PointInfo& point = it->second;
      rating::RatingInput in = BuildInput(read, point, pb.tier_before_kwh);
      auto rated = rating::Rate(in, *catalogue);
      if (!rated.ok()) {
        page.exceptions.push_back({point.id, read.read_id,
                                   std::string(StatusCodeName(rated.status().code())),
                                   rated.status().message()});
        continue;
      }
      std::vector<std::string> flags = ReviewFlags(*rated, pb, run.threshold_pct);
      if (!point.account_id) flags.push_back("no_account");
      page.bills.push_back(MakeBill(read, point, run.period, std::move(*rated), std::move(flags),
                                    run.id, pb.max_seq + 1, std::nullopt, run.started_by, now));
    }
    return page;
  };

  // Writes one page with the checkpoint after it.
  auto write = [&](Page& page) -> Status {
    Status last;
    for (int attempt = 0; attempt < 3; ++attempt) {
      int64_t now = clock.NowMicros();
      Checkpoint next = cp;
      last = db.Write([&](Connection& c) -> Status {
        // Another run (or a correction) may have billed or cancelled some of these points
        // since they were read: this check, under the write lock, decides.
        if (!page.bills.empty()) {
          ASSIGN_OR_RETURN(auto existing,
                           BillsOfPeriod(c, run.period, page.bills.front().bill.metering_point_id,
                                         page.bills.back().bill.metering_point_id));
          if (!existing.empty()) {
            std::vector<NewBill> keep;
            for (auto& nb : page.bills) {
              auto it = existing.find(nb.bill.metering_point_id);
              if (it != existing.end() && it->second.live) {
                ++page.skipped;  // gone from the page for good, even if this attempt fails
                continue;
              }
              int64_t seq = it == existing.end() ? 1 : it->second.max_seq + 1;
              if (seq != nb.bill.seq) {
                nb.bill.seq = seq;
                nb.bill.bill_no = BillNo(run.period, nb.bill.metering_point_id, seq);
              }
              keep.push_back(std::move(nb));
            }
            page.bills = std::move(keep);
          }
        }
        RETURN_IF_ERROR(InsertBills(c, page.bills));
        if (!page.exceptions.empty()) {
          std::string sql =
              "INSERT INTO bill_run_exceptions (run_id, metering_point_id, read_id, code, "
              "message) VALUES ($1, $2, $3, $4, $5)";
          ASSIGN_OR_RETURN(auto st, c.Prepare(sql));
          for (const auto& e : page.exceptions) {
            std::string msg = e.message.size() > 2000 ? e.message.substr(0, 2000) : e.message;
            RETURN_IF_ERROR(st->Run({run.id, e.point_id, e.read_id, e.code, msg}).status());
          }
        }
        next.after = page.last_point_id;
        next.done = cp.done + page.reads;
        next.skipped = cp.skipped + page.skipped;
        next.chunks = cp.chunks + 1;
        json audit = {{"chunk", next.chunks},
                      {"bills", page.bills.size()},
                      {"exceptions", page.exceptions.size()},
                      {"skipped", page.skipped},
                      {"through_point_id", page.last_point_id}};
        RETURN_IF_ERROR(org::WriteAudit(
            c, ctx.actor(),
            {"bill", "bill_run", std::to_string(run.id), "", audit.dump(), run.department_id},
            now));
        return ctx.Checkpoint(c, next.Dump(), "rating", next.done, std::max(total, next.done));
      });
      if (last.ok()) cp = next;  // committed
      // A concurrent writer (PostgreSQL) took one of the points between the check and the
      // insert: the unique index refused the chunk; check again.
      if (last.code() != StatusCode::kAlreadyExists) return last;
    }
    return last;
  };

  int64_t chunks_this_attempt = 0;
  Status result;
  if (options.pipeline) {
    PageQueue queue(2);
    std::atomic<bool> stop{false};
    int64_t start_after = cp.after;
    std::thread producer([&] {
      int64_t after = start_after;
      while (!stop) {
        Result<Page> page = produce(after);
        bool end = !page.ok() || page->end;
        if (page.ok()) after = page->last_point_id;
        if (!queue.Push(std::move(page)) || end) return;
      }
    });
    while (true) {
      Result<Page> page = queue.Pop();
      if (!page.ok()) {
        result = page.status();
        break;
      }
      if (page->end) break;
      result = write(*page);
      if (!result.ok()) break;
      ++chunks_this_attempt;
      if (fail_after >= 0 && chunks_this_attempt >= fail_after) {
        result = Internal("bill run stopped by the test hook after " +
                          std::to_string(chunks_this_attempt) + " chunk(s)");
        break;
      }
      if (ctx.ShouldStop()) {
        result = ctx.Progress("rating", cp.done, std::max(total, cp.done));
        if (result.ok()) result = Aborted("stopped");
        break;
      }
    }
    stop = true;
    queue.Close();
    producer.join();
  } else {
    while (true) {
      Result<Page> page = produce(cp.after);
      if (!page.ok()) {
        result = page.status();
        break;
      }
      if (page->end) break;
      result = write(*page);
      if (!result.ok()) break;
      ++chunks_this_attempt;
      if (fail_after >= 0 && chunks_this_attempt >= fail_after) {
        result = Internal("bill run stopped by the test hook after " +
                          std::to_string(chunks_this_attempt) + " chunk(s)");
        break;
      }
      if (ctx.ShouldStop()) {
        result = ctx.Progress("rating", cp.done, std::max(total, cp.done));
        if (result.ok()) result = Aborted("stopped");
        break;
      }
    }
  }
  RETURN_IF_ERROR(result);

  // Summary.
  RETURN_IF_ERROR(ctx.Progress("summary", cp.done, cp.done));
  int64_t now = clock.NowMicros();
  json summary;
  RETURN_IF_ERROR(db.Write([&](Connection& c) -> Status {
    int64_t bills = 0, total_fen = 0, review = 0;
    RETURN_IF_ERROR(
        c.Query("SELECT COUNT(*), COALESCE(SUM(total_fen), 0), COALESCE(SUM(CASE WHEN status = "
                "'review' THEN 1 ELSE 0 END), 0) FROM bills WHERE run_id = $1",
                {run.id}, [&](const Row& r) {
                  bills = r.Int(0);
                  total_fen = r.Int(1);
                  review = r.Int(2);
                }));
    ASSIGN_OR_RETURN(
        int64_t exceptions,
        c.QueryInt("SELECT COUNT(*) FROM bill_run_exceptions WHERE run_id = $1", {run.id}));
    ASSIGN_OR_RETURN(int64_t unbillable, reading::CountUnbillable(c, base_query));
    int64_t started = ctx.job().started_at_us.value_or(now_start);
    int64_t elapsed_ms = std::max<int64_t>((now - started) / 1000, SteadyMs() - wall_start);
    summary = {{"run_id", run.id},
               {"bills", bills},
               {"total", Money::FromFen(total_fen).ToYuanString()},
               {"total_fen", total_fen},
               {"exceptions", exceptions},
               {"unbillable", unbillable},
               {"review", review},
               {"skipped", cp.skipped},
               {"reads", cp.done},
               {"elapsed_ms", elapsed_ms}};
    RETURN_IF_ERROR(c.Exec("UPDATE bill_runs SET bills = $1, total_fen = $2, exceptions = $3, "
                           "unbillable = $4, review = $5, skipped = $6, elapsed_ms = $7, "
                           "finished_at_us = $8, updated_at_us = $8 WHERE id = $9",
                           {bills, total_fen, exceptions, unbillable, review, cp.skipped,
                            elapsed_ms, now, run.id})
                        .status());
    return org::WriteAudit(
        c, ctx.actor(),
        {"finish", "bill_run", std::to_string(run.id), "", summary.dump(), run.department_id}, now);
  }));
  ctx.SetResult(summary.dump());
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Issuing

Status BillingService::Impl::IssueInTx(Connection& c, const org::Actor& actor, const Bill& bill,
                                       int64_t now) {
  if (!bill.account_id) {
    return FailedPrecondition("bill " + bill.bill_no + ": customer " + bill.customer_no +
                              " has no active account to bill");
  }
  Date issue_date = tz.LocalDate(now);
  Date due = issue_date.AddDays(catalogue->policy().bill_due_days);
  ASSIGN_OR_RETURN(int64_t n,
                   c.Exec("UPDATE bills SET status = 'issued', issued_by = $1, issued_at_us = $2, "
                          "due_date = $3, updated_at_us = $2, version = version + 1 WHERE id = $4 "
                          "AND status IN ('calculated', 'approved')",
                          {actor.user_id ? store::Value(actor.user_id) : store::Value(), now,
                           due.ToString(), bill.id}));
  if (n == 0) {
    return FailedPrecondition("bill " + bill.bill_no + " is " + bill.status +
                              "; only a calculated or approved bill can be issued");
  }
  accounts::BillPosting p;
  p.bill_id = bill.id;
  p.bill_no = bill.bill_no;
  p.customer_id = bill.customer_id;
  p.account_id = *bill.account_id;
  p.department_id = bill.department_id;
  p.metering_point_id = bill.metering_point_id;
  p.period = bill.period;
  p.amount = bill.total;
  p.issue_date = issue_date;
  p.due_date = due;
  p.customer_category = bill.customer_category;
  p.actor_user_id = actor.user_id;
  return accounts::PostBillIssued(c, p, now);
}

Status BillingService::Impl::RunIssue(jobs::JobContext& ctx) {
  json params = json::parse(ctx.job().params_json, nullptr, false);
  if (!params.is_object() || !params.contains("run_id")) {
    return InvalidArgument("bill_issue job " + std::to_string(ctx.job_id()) + " has no run_id");
  }
  int64_t run_id = params["run_id"].get<int64_t>();
  ASSIGN_OR_RETURN(RunRow run,
                   db.ReadValue<RunRow>([&](Connection& c) { return LoadRunRow(c, run_id); }));
  int64_t done = Checkpoint::Parse(ctx.job().checkpoint_json).done;
  ASSIGN_OR_RETURN(int64_t left, db.ReadValue<int64_t>([&](Connection& c) {
    return c.QueryInt(
        "SELECT COUNT(*) FROM bills WHERE run_id = $1 AND status IN ('calculated', 'approved')",
        {run.id});
  }));
  int64_t total = done + left;
  RETURN_IF_ERROR(ctx.Progress("issuing", done, total));
  constexpr int64_t kChunk = 500;
  int64_t after = 0;
  while (true) {
    int64_t issued = 0;
    size_t seen = 0;
    Money amount;
    int64_t now = clock.NowMicros();
    RETURN_IF_ERROR(db.Write([&](Connection& c) -> Status {
      std::vector<Bill> bills;
      RETURN_IF_ERROR(
          c.Query(std::string(kBillSelect) + " WHERE b.run_id = $1 AND b.status IN ('calculated', "
                                             "'approved') AND b.id > $2 ORDER BY b.id LIMIT $3",
                  {run.id, after, kChunk}, [&](const Row& r) { bills.push_back(ReadBill(r)); }));
      seen = bills.size();
      if (!bills.empty()) after = bills.back().id;
      for (const auto& b : bills) {
        if (!b.account_id) continue;  // stays for review (flagged no_account)
        RETURN_IF_ERROR(IssueInTx(c, ctx.actor(), b, now));
        ++issued;
        amount += b.total;
      }
      if (issued == 0) return Status::Ok();
      Checkpoint cp;
      cp.done = done + issued;
      RETURN_IF_ERROR(org::WriteAudit(
          c, ctx.actor(),
          {"issue", "bill_run", std::to_string(run.id), "",
           json{{"bills", issued}, {"amount", amount.ToYuanString()}}.dump(), run.department_id},
          now));
      return ctx.Checkpoint(c, cp.Dump(), "issuing", cp.done, total);
    }));
    if (seen == 0) break;
    done += issued;
    if (ctx.ShouldStop()) return ctx.Progress("issuing", done, total);
  }
  ctx.SetResult(json{{"run_id", run.id}, {"issued", done}}.dump());
  return Status::Ok();
}

}  // namespace gridmis::billing
