#include "billing/billing.h"

#include <nlohmann/json.hpp>

#include "accounts/posting.h"
#include "billing/internal/billing_internal.h"
#include "org/audit.h"

namespace gridmis::billing {

using nlohmann::json;
using org::Actor;
using store::Connection;
using store::Row;

namespace {

store::Value UserValue(const Actor& actor) {
  return actor.user_id ? store::Value(actor.user_id) : store::Value();
}

std::optional<int64_t> UserId(const Actor& actor) {
  return actor.user_id ? std::optional<int64_t>(actor.user_id) : std::nullopt;
}

constexpr const char* kRunSelect =
    "SELECT br.id, br.job_id, br.department_id, br.segment_id, br.period, "
    "br.change_threshold_pct, br.bills, br.total_fen, br.exceptions, br.unbillable, br.review, "
    "br.skipped, br.elapsed_ms, br.started_by, br.started_by_name, br.created_at_us, "
    "br.finished_at_us FROM bill_runs br";

BillRun ReadRun(const Row& r) {
  BillRun x;
  x.id = r.Int(0);
  x.job_id = r.Int(1);
  x.department_id = r.Int(2);
  x.segment_id = r.OptInt(3);
  auto ym = YearMonth::Parse(r.TextView(4));
  if (ym.ok()) x.period = *ym;
  x.change_threshold_pct = r.Int(5);
  x.bills = r.Int(6);
  x.total = Money::FromFen(r.Int(7));
  x.exceptions = r.Int(8);
  x.unbillable = r.Int(9);
  x.review = r.Int(10);
  x.skipped = r.Int(11);
  x.elapsed_ms = r.Int(12);
  x.started_by = r.OptInt(13);
  x.started_by_name = r.Text(14);
  x.created_at_us = r.Int(15);
  x.finished_at_us = r.OptInt(16);
  return x;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Construction

BillingService::BillingService(store::Database& db, const Clock& clock, const TimeZone& tz,
                               std::shared_ptr<const rating::TariffCatalogue> catalogue,
                               jobs::JobRunner& runner, BillingOptions options)
    : impl_(new Impl{db, clock, tz, std::move(catalogue), runner, std::move(options)}) {
  Impl* impl = impl_.get();
  runner.Register(
      {"bill_run", "billing.run", [impl](jobs::JobContext& ctx) { return impl->RunBillRun(ctx); }});
  runner.Register({"bill_issue", "billing.review",
                   [impl](jobs::JobContext& ctx) { return impl->RunIssue(ctx); }});
}

BillingService::~BillingService() = default;

const BillingOptions& BillingService::options() const { return impl_->options; }
void BillingService::set_options_for_test(const BillingOptions& o) { impl_->options = o; }

// ---------------------------------------------------------------------------------------------
// Shared pieces

Result<PointInfo> BillingService::Impl::VisiblePoint(Connection& c, const Actor& actor,
                                                     int64_t point_id) {
  ASSIGN_OR_RETURN(auto points, LoadPoints(c, {point_id}));
  auto it = points.find(point_id);
  if (it == points.end() ||
      !actor.CanSee(it->second.department_id, it->second.account_manager_id)) {
    return NotFound("metering point " + std::to_string(point_id) + " not found");
  }
  return std::move(it->second);
}

Result<Bill> BillingService::Impl::VisibleBill(Connection& c, const Actor& actor, int64_t id) {
  std::optional<Bill> bill;
  std::optional<int64_t> manager;
  RETURN_IF_ERROR(c.Query(std::string(kBillSelect) + " WHERE b.id = $1", {id}, [&](const Row& r) {
    bill = ReadBill(r);
    manager = r.OptInt(50);
  }));
  if (!bill || !actor.CanSee(bill->department_id, manager)) {
    return NotFound("bill " + std::to_string(id) + " not found");
  }
  return std::move(*bill);
}

reading::BillableQuery BillingService::Impl::QueryFor(YearMonth period) const {
  reading::BillableQuery q;
  q.period = period;
  q.time_zone = tz.name();
  q.with_daily_total = NeedsDailyTotals(*catalogue, period);
  return q;
}

Result<NewBill> BillingService::Impl::RateOne(Connection& c, const PointInfo& point,
                                              YearMonth period, int64_t threshold_pct,
                                              std::optional<int64_t> run_id, int64_t seq,
                                              std::optional<int64_t> replaces,
                                              std::optional<int64_t> created_by) {
  ASSIGN_OR_RETURN(reading::BillableRead read, LoadReadOfPoint(c, point, QueryFor(period)));
  ASSIGN_OR_RETURN(auto prior, LoadPriorBills(c, {point.id}, period));
  PriorBills pb = prior.count(point.id) ? prior[point.id] : PriorBills{};
  rating::RatingInput in = BuildInput(read, point, pb.tier_before_kwh);
  auto rated = rating::Rate(in, *catalogue);
  if (!rated.ok()) {
    return FailedPrecondition("metering point " + point.code + " cannot be rated for " +
                              period.ToString() + ": " + rated.status().message());
  }
  std::vector<std::string> flags = ReviewFlags(*rated, pb, threshold_pct);
  if (!point.account_id) flags.push_back("no_account");
  return MakeBill(read, point, period, std::move(*rated), std::move(flags), run_id, seq, replaces,
                  created_by, clock.NowMicros());
}

// ---------------------------------------------------------------------------------------------
// Runs

namespace {

// A bill run (and the issue of its bills) covers a department and everything below it, so the
// actor's data scope must reach the whole subtree: "all", or "department and below" from the
// department or above it. An own-department or self scope never does (its children are outside).
Status CheckSubtreeScope(const Actor& actor, int64_t department_id) {
  if (actor.is_system() || actor.scope == org::DataScope::kAll) return Status::Ok();
  if (actor.scope == org::DataScope::kDepartmentAndBelow && actor.CanSee(department_id)) {
    return Status::Ok();
  }
  return PermissionDenied("a bill run covers department " + std::to_string(department_id) +
                          " and every department below it; your data scope (" +
                          std::string(org::DataScopeName(actor.scope)) +
                          ") does not reach all "
                          "of them");
}

}  // namespace

Result<BillRun> BillingService::StartRun(const Actor& actor, const RunRequest& req) {
  RETURN_IF_ERROR(actor.Require("billing.run"));
  int64_t threshold =
      req.change_threshold_pct.value_or(impl_->options.default_change_threshold_pct);
  if (threshold < 0 || threshold > 10'000) {
    return InvalidArgument("change_threshold_pct must be between 0 and 10000",
                           "change_threshold_pct");
  }
  if (req.period.month < 1 || req.period.month > 12 || req.period.year < 2000 ||
      req.period.year > 2200) {
    return InvalidArgument("period must be a month YYYY-MM", "period");
  }
  int64_t now = impl_->clock.NowMicros();
  ASSIGN_OR_RETURN(int64_t run_id, impl_->db.WriteValue<int64_t>([&](Connection& c)
                                                                     -> Result<int64_t> {
    RETURN_IF_ERROR(grid::CheckDepartment(c, actor, req.department_id));
    RETURN_IF_ERROR(CheckSubtreeScope(actor, req.department_id));
    std::optional<int64_t> active;
    RETURN_IF_ERROR(c.Query(
        "SELECT br.id FROM bill_runs br JOIN jobs j ON j.id = br.job_id WHERE br.department_id = "
        "$1 AND br.period = $2 AND COALESCE(br.segment_id, 0) = $3 AND j.status IN ('queued', "
        "'running')",
        {req.department_id, req.period.ToString(), req.segment_id.value_or(0)},
        [&](const Row& r) { active = r.Int(0); }));
    if (active) {
      return FailedPrecondition("bill run " + std::to_string(*active) + " of department " +
                                std::to_string(req.department_id) + " for " +
                                req.period.ToString() + " is still running");
    }
    ASSIGN_OR_RETURN(int64_t job_id,
                     impl_->runner.Insert(c, actor, "bill_run", "{}", req.department_id,
                                          req.claim_for_this_process));
    ASSIGN_OR_RETURN(
        int64_t id,
        c.InsertReturningId(
            "INSERT INTO bill_runs (job_id, department_id, segment_id, period, "
            "change_threshold_pct, started_by, started_by_name, created_at_us, updated_at_us) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
            {job_id, req.department_id, req.segment_id, req.period.ToString(), threshold,
             UserValue(actor), actor.username, now}));
    json params = {{"run_id", id},
                   {"period", req.period.ToString()},
                   {"department_id", req.department_id},
                   {"segment_id", req.segment_id ? json(*req.segment_id) : json(nullptr)}};
    RETURN_IF_ERROR(
        c.Exec("UPDATE jobs SET params_json = $1 WHERE id = $2", {params.dump(), job_id}).status());
    json after = params;
    after["job_id"] = job_id;
    after["change_threshold_pct"] = threshold;
    RETURN_IF_ERROR(org::WriteAudit(
        c, actor, {"create", "bill_run", std::to_string(id), "", after.dump(), req.department_id},
        now));
    return id;
  }));
  impl_->runner.Wake();
  return GetRun(actor, run_id);
}

Result<BillRun> BillingService::GetRun(const Actor& actor, int64_t id) {
  RETURN_IF_ERROR(actor.Require("billing.read"));
  std::optional<BillRun> run;
  RETURN_IF_ERROR(impl_->db.Read([&](Connection& c) {
    return c.Query(std::string(kRunSelect) + " WHERE br.id = $1", {id},
                   [&](const Row& r) { run = ReadRun(r); });
  }));
  if (!run || !grid::CanSeeDepartment(actor, run->department_id)) {
    return NotFound("bill run " + std::to_string(id) + " not found");
  }
  ASSIGN_OR_RETURN(run->job, impl_->runner.Load(run->job_id));
  return std::move(*run);
}

Result<std::vector<BillRun>> BillingService::ListRuns(const Actor& actor, const RunQuery& q,
                                                      int64_t* total) {
  RETURN_IF_ERROR(actor.Require("billing.read"));
  std::vector<BillRun> out;
  RETURN_IF_ERROR(impl_->db.Read([&](Connection& c) -> Status {
    grid::SqlWhere w(grid::DepartmentScopeSql(actor, "br.department_id"));
    if (q.period) w.And("br.period = " + w.Bind(q.period->ToString()));
    if (q.department_id) {
      ASSIGN_OR_RETURN(auto sub, grid::DepartmentSubtree(c, *q.department_id));
      w.And(grid::InSql("br.department_id", sub));
    }
    if (total) {
      ASSIGN_OR_RETURN(
          *total, c.QueryInt("SELECT COUNT(*) FROM bill_runs br WHERE " + w.sql(), w.params()));
    }
    return c.Query(std::string(kRunSelect) + " WHERE " + w.sql() + " ORDER BY br.id DESC " +
                       w.LimitOffset(q.page, q.page_size),
                   w.params(), [&](const Row& r) { out.push_back(ReadRun(r)); });
  }));
  for (auto& r : out) {
    auto j = impl_->runner.Load(r.job_id);
    if (j.ok()) r.job = std::move(*j);
  }
  return out;
}

Result<std::vector<RunException>> BillingService::RunExceptions(const Actor& actor, int64_t run_id,
                                                                int page, int page_size,
                                                                int64_t* total) {
  ASSIGN_OR_RETURN(BillRun run, GetRun(actor, run_id));
  std::vector<RunException> out;
  RETURN_IF_ERROR(impl_->db.Read([&](Connection& c) -> Status {
    if (total) {
      ASSIGN_OR_RETURN(
          *total,
          c.QueryInt("SELECT COUNT(*) FROM bill_run_exceptions WHERE run_id = $1", {run.id}));
    }
    return c.Query(
        "SELECT e.metering_point_id, mp.code, e.read_id, e.code, e.message FROM "
        "bill_run_exceptions e JOIN metering_points mp ON mp.id = e.metering_point_id WHERE "
        "e.run_id = $1 ORDER BY e.metering_point_id LIMIT $2 OFFSET $3",
        {run.id, static_cast<int64_t>(page_size), static_cast<int64_t>(page - 1) * page_size},
        [&](const Row& r) {
          out.push_back({r.Int(0), r.Text(1), r.Int(2), r.Text(3), r.Text(4)});
        });
  }));
  return out;
}

Result<BillRun> BillingService::ResumeRun(const Actor& actor, int64_t id) {
  RETURN_IF_ERROR(actor.Require("billing.run"));
  ASSIGN_OR_RETURN(BillRun run, GetRun(actor, id));
  RETURN_IF_ERROR(impl_->runner.Resume(actor, run.job_id).status());
  return GetRun(actor, id);
}

Result<std::optional<BillRun>> BillingService::FindUnfinishedRun(const RunRequest& req) {
  std::optional<int64_t> id;
  RETURN_IF_ERROR(impl_->db.Read([&](Connection& c) {
    return c.Query(
        "SELECT br.id FROM bill_runs br JOIN jobs j ON j.id = br.job_id WHERE br.department_id = "
        "$1 AND br.period = $2 AND COALESCE(br.segment_id, 0) = $3 AND j.status <> 'succeeded' "
        "ORDER BY br.id DESC LIMIT 1",
        {req.department_id, req.period.ToString(), req.segment_id.value_or(0)},
        [&](const Row& r) { id = r.Int(0); });
  }));
  if (!id) return std::optional<BillRun>();
  ASSIGN_OR_RETURN(BillRun run, GetRun(Actor::System("cli"), *id));
  return std::optional<BillRun>(std::move(run));
}

Result<jobs::Job> BillingService::IssueRun(const Actor& actor, int64_t run_id) {
  RETURN_IF_ERROR(actor.Require("billing.review"));
  ASSIGN_OR_RETURN(BillRun run, GetRun(actor, run_id));
  RETURN_IF_ERROR(CheckSubtreeScope(actor, run.department_id));
  if (run.job.status != "succeeded") {
    return FailedPrecondition("bill run " + std::to_string(run_id) + " is " + run.job.status +
                              "; issue its bills when it has finished");
  }
  return impl_->runner.Submit(actor, "bill_issue", json{{"run_id", run_id}}.dump(),
                              run.department_id);
}

// ---------------------------------------------------------------------------------------------
// Bills

Result<std::vector<Bill>> BillingService::ListBills(const Actor& actor, const BillQuery& q,
                                                    grid::CappedCount* total) {
  RETURN_IF_ERROR(actor.Require("billing.read"));
  std::vector<Bill> out;
  RETURN_IF_ERROR(impl_->db.Read([&](Connection& c) -> Status {
    grid::SqlWhere w(actor.ScopeSql("b.department_id", "c.account_manager_id"));
    if (q.after_id > 0) w.And("b.id > " + w.Bind(q.after_id));
    if (q.run_id) w.And("b.run_id = " + w.Bind(*q.run_id));
    if (q.metering_point_id) w.And("b.metering_point_id = " + w.Bind(*q.metering_point_id));
    if (q.customer_id) w.And("b.customer_id = " + w.Bind(*q.customer_id));
    if (!q.status.empty()) {
      w.And("b.status = " + w.Bind(q.status));
      // Lets the planner use the review queue's partial index.
      if (q.status == "review" || q.status == "held") w.And("b.status IN ('review', 'held')");
    }
    if (q.period) {
      // The period's bills are a range of the bill-number index.
      w.And("b.bill_no >= " + w.Bind(BillNo(*q.period, 0, 0)) +
            " AND b.bill_no <= " + w.Bind(BillNo(*q.period, 9'999'999'999, 99)) +
            " AND b.period = " + w.Bind(q.period->ToString()));
    }
    if (q.department_id) {
      ASSIGN_OR_RETURN(auto sub, grid::DepartmentSubtree(c, *q.department_id));
      w.And(grid::InSql("b.department_id", sub));
    }
    std::string from =
        "bills b JOIN metering_points mp ON mp.id = b.metering_point_id JOIN customers c ON c.id "
        "= b.customer_id WHERE " +
        w.sql();
    if (total) {
      ASSIGN_OR_RETURN(*total, grid::CountCapped(c, from, w.params()));
    }
    return c.Query(std::string(kBillSelect) + " WHERE " + w.sql() + " ORDER BY b.id " +
                       w.LimitOffset(q.page, q.page_size),
                   w.params(), [&](const Row& r) { out.push_back(ReadBill(r)); });
  }));
  return out;
}

Result<Bill> BillingService::GetBill(const Actor& actor, int64_t id) {
  RETURN_IF_ERROR(actor.Require("billing.read"));
  return impl_->db.ReadValue<Bill>([&](Connection& c) -> Result<Bill> {
    ASSIGN_OR_RETURN(Bill b, impl_->VisibleBill(c, actor, id));
    RETURN_IF_ERROR(LoadLines(c, &b));
    return b;
  });
}

namespace {

// Loads the visible bill, checks its version and state, runs `change` and audits.
template <typename Fn>
Result<Bill> ChangeBill(BillingService::Impl& impl, const Actor& actor, int64_t id, int64_t version,
                        std::initializer_list<std::string_view> from, std::string_view action,
                        Fn change) {
  int64_t now = impl.clock.NowMicros();
  return impl.db.WriteValue<Bill>([&](Connection& c) -> Result<Bill> {
    ASSIGN_OR_RETURN(Bill before, impl.VisibleBill(c, actor, id));
    if (before.version != version) {
      return grid::StaleVersion("bill " + before.bill_no, id, before.version, version);
    }
    bool allowed = false;
    std::string states;
    for (auto s : from) {
      allowed |= before.status == s;
      states += (states.empty() ? "" : ", ") + std::string(s);
    }
    if (!allowed) {
      return FailedPrecondition("bill " + before.bill_no + " is " + before.status + "; " +
                                std::string(action) + " needs a bill that is " + states);
    }
    RETURN_IF_ERROR(change(c, before, now));
    ASSIGN_OR_RETURN(auto after, LoadBill(c, id));
    if (!after) return Internal("bill vanished");
    RETURN_IF_ERROR(LoadLines(c, &*after));
    RETURN_IF_ERROR(org::WriteAudit(
        c, actor,
        {std::string(action), "bill", std::to_string(id), ToJson(before, false).dump(),
         ToJson(*after, false).dump(), before.department_id},
        now));
    return *after;
  });
}

Status CheckNote(const std::string& text, std::string_view field, bool required) {
  if (required && text.empty()) {
    return InvalidArgument(std::string(field) + " is required", std::string(field));
  }
  return grid::CheckText(text, field, 0, 500);
}

}  // namespace

Result<Bill> BillingService::Approve(const Actor& actor, int64_t id, int64_t version,
                                     const std::string& note) {
  RETURN_IF_ERROR(actor.Require("billing.review"));
  RETURN_IF_ERROR(CheckNote(note, "note", false));
  return ChangeBill(*impl_, actor, id, version, {"calculated", "review"}, "approve",
                    [&](Connection& c, const Bill& b, int64_t now) {
                      return c
                          .Exec(
                              "UPDATE bills SET status = 'approved', approved_by = $1, "
                              "approved_at_us = $2, review_note = $3, updated_at_us = $2, "
                              "version = version + 1 WHERE id = $4",
                              {UserValue(actor), now, note.empty() ? b.review_note : note, b.id})
                          .status();
                    });
}

Result<Bill> BillingService::Hold(const Actor& actor, int64_t id, int64_t version,
                                  const std::string& reason) {
  RETURN_IF_ERROR(actor.Require("billing.review"));
  RETURN_IF_ERROR(CheckNote(reason, "reason", true));
  return ChangeBill(*impl_, actor, id, version, {"calculated", "review", "approved"}, "hold",
                    [&](Connection& c, const Bill& b, int64_t now) {
                      return c
                          .Exec(
                              "UPDATE bills SET status = 'held', review_note = $1, "
                              "approved_by = NULL, approved_at_us = NULL, updated_at_us = $2, "
                              "version = version + 1 WHERE id = $3",
                              {reason, now, b.id})
                          .status();
                    });
}

Result<Bill> BillingService::Unhold(const Actor& actor, int64_t id, int64_t version) {
  RETURN_IF_ERROR(actor.Require("billing.review"));
  return ChangeBill(*impl_, actor, id, version, {"held"}, "unhold",
                    [&](Connection& c, const Bill& b, int64_t now) {
                      std::string status = b.review_flags.empty() ? "calculated" : "review";
                      return c
                          .Exec(
                              "UPDATE bills SET status = $1, updated_at_us = $2, version = "
                              "version + 1 WHERE id = $3",
                              {status, now, b.id})
                          .status();
                    });
}

Result<Bill> BillingService::Recalculate(const Actor& actor, int64_t id, int64_t version) {
  RETURN_IF_ERROR(actor.Require("billing.review"));
  return ChangeBill(
      *impl_, actor, id, version, {"calculated", "review", "held", "approved"}, "recalculate",
      [&](Connection& c, const Bill& b, int64_t now) -> Status {
        ASSIGN_OR_RETURN(auto points, LoadPoints(c, {b.metering_point_id}));
        if (!points.count(b.metering_point_id)) return Internal("the bill's point vanished");
        const PointInfo& point = points[b.metering_point_id];
        int64_t threshold = impl_->options.default_change_threshold_pct;
        if (b.run_id) {
          auto t =
              c.QueryInt("SELECT change_threshold_pct FROM bill_runs WHERE id = $1", {*b.run_id});
          if (t.ok()) threshold = *t;
        }
        ASSIGN_OR_RETURN(NewBill nb, impl_->RateOne(c, point, b.period, threshold, b.run_id, b.seq,
                                                    b.replaces_bill_id, b.created_by));
        const Bill& n = nb.bill;
        std::string status = b.status == "held" ? "held" : n.status;
        RETURN_IF_ERROR(
            c.Exec("UPDATE bills SET status = $1, tariff_code = $2, tariff_version = $3, "
                   "customer_category = $4, first_day = $5, last_day = $6, billed_kwh = $7, "
                   "tier1_kwh = $8, tier2_kwh = $9, tier3_kwh = $10, tier_cumulative_after_kwh = "
                   "$11, power_factor = $12, pf_adjust_rate = $13, energy_fen = $14, basic_fen = "
                   "$15, pf_fen = $16, fund_fen = $17, total_fen = $18, read_id = $19, "
                   "read_source = $20, review_flags = $21, detail_json = $22, account_id = $23, "
                   "approved_by = NULL, approved_at_us = NULL, updated_at_us = $24, version = "
                   "version + 1, pf_standard = $26, pf_base_fen = $27 WHERE id = $25",
                   {status,
                    n.tariff_code,
                    n.tariff_version,
                    n.customer_category,
                    n.first_day.ToString(),
                    n.last_day.ToString(),
                    n.billed_kwh,
                    n.tier_kwh[0],
                    n.tier_kwh[1],
                    n.tier_kwh[2],
                    n.tier_cumulative_after_kwh,
                    n.power_factor,
                    n.pf_adjust_rate,
                    n.energy_charge.fen(),
                    n.basic_charge.fen(),
                    n.pf_charge.fen(),
                    n.fund_charge.fen(),
                    n.total.fen(),
                    n.read_id,
                    n.read_source,
                    JoinFlags(n.review_flags),
                    n.detail_json,
                    n.account_id,
                    now,
                    b.id,
                    n.pf_standard,
                    n.pf_base.fen()})
                .status());
        RETURN_IF_ERROR(c.Exec("DELETE FROM bill_lines WHERE bill_id = $1", {b.id}).status());
        return InsertLines(c, b.id, nb.rated.lines);
      });
}

Result<Bill> BillingService::Issue(const Actor& actor, int64_t id, int64_t version) {
  RETURN_IF_ERROR(actor.Require("billing.review"));
  return ChangeBill(*impl_, actor, id, version, {"calculated", "approved"}, "issue",
                    [&](Connection& c, const Bill& b, int64_t now) {
                      return impl_->IssueInTx(c, actor, b, now);
                    });
}

Result<Correction> BillingService::Cancel(const Actor& actor, int64_t id, int64_t version,
                                          const std::string& reason, bool rebill) {
  RETURN_IF_ERROR(actor.Require("billing.correct"));
  RETURN_IF_ERROR(CheckNote(reason, "reason", true));
  int64_t now = impl_->clock.NowMicros();
  return impl_->db.WriteValue<Correction>([&](Connection& c) -> Result<Correction> {
    ASSIGN_OR_RETURN(Bill before, impl_->VisibleBill(c, actor, id));
    if (before.version != version) {
      return grid::StaleVersion("bill " + before.bill_no, id, before.version, version);
    }
    if (before.status == "cancelled") {
      return FailedPrecondition("bill " + before.bill_no + " is already cancelled");
    }
    ASSIGN_OR_RETURN(int64_t n,
                     c.Exec("UPDATE bills SET status = 'cancelled', cancelled_by = $1, "
                            "cancelled_at_us = $2, cancel_reason = $3, updated_at_us = $2, "
                            "version = version + 1 WHERE id = $4 AND version = $5",
                            {UserValue(actor), now, reason, id, version}));
    if (n == 0) return grid::StaleVersionAfterUpdate(c, "bills", "bill", id, version);
    if (before.status == "issued") {
      // 冲正: reversal postings; the ledger entries of the bill stay.
      RETURN_IF_ERROR(accounts::PostBillCancelled(c, id, actor.user_id, now));
    }
    Correction out;
    ASSIGN_OR_RETURN(auto cancelled, LoadBill(c, id));
    out.cancelled = std::move(*cancelled);
    RETURN_IF_ERROR(LoadLines(c, &out.cancelled));
    RETURN_IF_ERROR(
        org::WriteAudit(c, actor,
                        {"cancel", "bill", std::to_string(id), ToJson(before, false).dump(),
                         ToJson(out.cancelled, false).dump(), before.department_id},
                        now));
    if (!rebill) return out;
    ASSIGN_OR_RETURN(auto points, LoadPoints(c, {before.metering_point_id}));
    if (!points.count(before.metering_point_id)) return Internal("the bill's point vanished");
    ASSIGN_OR_RETURN(auto seqs, BillsOfPeriod(c, before.period, before.metering_point_id,
                                              before.metering_point_id));
    int64_t max_seq = seqs[before.metering_point_id].max_seq;
    ASSIGN_OR_RETURN(NewBill nb, impl_->RateOne(c, points[before.metering_point_id], before.period,
                                                impl_->options.default_change_threshold_pct,
                                                std::nullopt, max_seq + 1, id, UserId(actor)));
    std::vector<NewBill> one;
    one.push_back(std::move(nb));
    RETURN_IF_ERROR(InsertBills(c, one));
    int64_t new_id = one[0].bill.id;
    ASSIGN_OR_RETURN(auto created, LoadBill(c, new_id));
    out.rebill = std::move(*created);
    RETURN_IF_ERROR(LoadLines(c, &*out.rebill));
    RETURN_IF_ERROR(org::WriteAudit(c, actor,
                                    {"rebill", "bill", std::to_string(new_id), "",
                                     ToJson(*out.rebill, false).dump(), before.department_id},
                                    now));
    return out;
  });
}

Result<Trial> BillingService::TrialStored(const Actor& actor, int64_t point_id, YearMonth period) {
  RETURN_IF_ERROR(actor.Require("billing.trial"));
  return impl_->db.ReadValue<Trial>([&](Connection& c) -> Result<Trial> {
    ASSIGN_OR_RETURN(PointInfo point, impl_->VisiblePoint(c, actor, point_id));
    ASSIGN_OR_RETURN(reading::BillableRead read,
                     LoadReadOfPoint(c, point, impl_->QueryFor(period)));
    ASSIGN_OR_RETURN(auto prior, LoadPriorBills(c, {point.id}, period));
    PriorBills pb = prior.count(point.id) ? prior[point.id] : PriorBills{};
    rating::RatingInput in = BuildInput(read, point, pb.tier_before_kwh);
    ASSIGN_OR_RETURN(rating::RatedBill rated, rating::Rate(in, *impl_->catalogue));
    Trial t;
    t.review_flags = ReviewFlags(rated, pb, impl_->options.default_change_threshold_pct);
    t.rated = std::move(rated);
    t.read_id = read.read_id;
    t.first_day = read.first_day;
    t.last_day = read.last_day;
    t.tier_cumulative_before_kwh = pb.tier_before_kwh;
    return t;
  });
}

// ---------------------------------------------------------------------------------------------
// Documents

namespace {

std::string VoltageText(int64_t volts) {
  if (volts < 1000) return "交流" + std::to_string(volts) + "V";
  return "交流" + std::to_string(volts / 1000) + "kV";
}

}  // namespace

Result<std::string> BillingService::BillPdf(const Actor& actor, int64_t id) {
  RETURN_IF_ERROR(actor.Require("billing.read"));
  BillDocument doc;
  RETURN_IF_ERROR(impl_->db.Read([&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(doc.bill, impl_->VisibleBill(c, actor, id));
    RETURN_IF_ERROR(LoadLines(c, &doc.bill));
    RETURN_IF_ERROR(
        c.Query("SELECT d.name, r.name FROM departments d, departments r WHERE d.id "
                "= $1 AND r.parent_id IS NULL ORDER BY r.id LIMIT 1",
                {doc.bill.department_id}, [&](const Row& r) {
                  doc.department_name = r.Text(0);
                  doc.utility_name = r.Text(1);
                }));
    ASSIGN_OR_RETURN(int64_t volts,
                     c.QueryInt("SELECT voltage_v FROM metering_points WHERE id = $1",
                                {doc.bill.metering_point_id}));
    doc.voltage_text = VoltageText(volts);
    return Status::Ok();
  }));
  if (doc.utility_name.empty()) doc.utility_name = impl_->options.utility_name;
  doc.payment_url = impl_->options.payment_url_prefix + doc.bill.bill_no;
  doc.print_date = impl_->tz.LocalDate(impl_->clock.NowMicros());
  return RenderBillPdf(doc);
}

Result<std::string> BillingService::ExportXlsx(const Actor& actor, const BillQuery& q,
                                               int64_t max_rows) {
  RETURN_IF_ERROR(actor.Require("billing.export"));
  RETURN_IF_ERROR(actor.Require("billing.read"));
  // Streamed page by page (keyset on id) into the workbook.
  BillQuery page = q;
  page.page_size = 500;
  page.page = 1;
  int64_t rows = 0;
  bool done = false;
  return RenderBillsXlsx([&]() -> Result<std::vector<Bill>> {
    if (done || rows >= max_rows) return std::vector<Bill>();
    page.page_size = static_cast<int>(std::min<int64_t>(500, max_rows - rows));
    ASSIGN_OR_RETURN(auto bills, ListBills(actor, page, nullptr));
    if (bills.size() < static_cast<size_t>(page.page_size)) done = true;
    if (!bills.empty()) page.after_id = bills.back().id;
    rows += static_cast<int64_t>(bills.size());
    return bills;
  });
}

// ---------------------------------------------------------------------------------------------
// JSON

json ToJson(const BillRun& r) {
  auto opt_time = [](const std::optional<int64_t>& t) {
    return t ? json(FormatUtc(*t)) : json(nullptr);
  };
  return json{{"id", r.id},
              {"job_id", r.job_id},
              {"department_id", r.department_id},
              {"segment_id", r.segment_id ? json(*r.segment_id) : json(nullptr)},
              {"period", r.period.ToString()},
              {"change_threshold_pct", r.change_threshold_pct},
              {"status", r.job.status},
              {"stage", r.job.stage},
              {"done", r.job.done},
              {"total_points", r.job.total},
              {"error", r.job.error},
              {"summary", r.finished_at_us ? json{{"bills", r.bills},
                                                  {"total", r.total.ToYuanString()},
                                                  {"total_fen", r.total.fen()},
                                                  {"exceptions", r.exceptions},
                                                  {"unbillable", r.unbillable},
                                                  {"review", r.review},
                                                  {"skipped", r.skipped},
                                                  {"elapsed_ms", r.elapsed_ms}}
                                           : json(nullptr)},
              {"started_by", r.started_by ? json(*r.started_by) : json(nullptr)},
              {"started_by_name", r.started_by_name},
              {"created_at", FormatUtc(r.created_at_us)},
              {"finished_at", opt_time(r.finished_at_us)}};
}

json ToJson(const RunException& e) {
  return json{{"metering_point_id", e.metering_point_id},
              {"metering_point_code", e.metering_point_code},
              {"read_id", e.read_id},
              {"code", e.code},
              {"message", e.message}};
}

json ToJson(const Trial& t) {
  const auto& r = t.rated;
  json lines = json::array();
  for (const auto& l : r.lines) lines.push_back(ToJson(l));
  auto regs = [](const std::map<std::string, Energy>& m) {
    json o = json::object();
    for (const auto& [k, v] : m) o[k] = v.ToKwhString(4);
    return o;
  };
  return json{
      {"metering_point_code", r.metering_point_code},
      {"period", r.period.ToString()},
      {"read_id", t.read_id},
      {"first_day", t.first_day.ToString()},
      {"last_day", t.last_day.ToString()},
      {"tariff_code", r.tariff_code},
      {"tariff_version", r.tariff_version},
      {"billed_kwh", r.billed_kwh},
      {"tier_kwh", {r.tier_kwh[0], r.tier_kwh[1], r.tier_kwh[2]}},
      {"tier_cumulative_before_kwh", t.tier_cumulative_before_kwh},
      {"tier_cumulative_after_kwh", r.tier_cumulative_after_kwh},
      {"power_factor", r.power_factor ? json(r.power_factor->ToString()) : json(nullptr)},
      {"pf_adjust_rate", r.pf_adjust_rate ? json(r.pf_adjust_rate->ToString()) : json(nullptr)},
      {"energy_charge", r.energy_charge.ToYuanString()},
      {"basic_charge", r.basic_charge.ToYuanString()},
      {"pf_charge", r.pf_charge.ToYuanString()},
      {"fund_charge", r.fund_charge.ToYuanString()},
      {"total", r.total.ToYuanString()},
      {"total_fen", r.total.fen()},
      {"energy",
       {{"metered", regs(r.energy.metered)},
        {"replaced", regs(r.energy.replaced)},
        {"loss", regs(r.energy.loss)},
        {"billed", regs(r.energy.billed)}}},
      {"review_flags", t.review_flags},
      {"lines", std::move(lines)}};
}

}  // namespace gridmis::billing
