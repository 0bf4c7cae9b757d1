#include "accounts/prepaid.h"

#include <map>
#include <nlohmann/json.hpp>

#include "accounts/internal.h"
#include "accounts/ledger.h"
#include "reading/billable.h"

namespace gridmis::accounts {

using internal::PrepaidRow;
using nlohmann::json;
using org::Actor;
using store::Connection;
using store::Row;
using store::Value;

namespace {

std::string Yuan(Money m) { return m.ToYuanString(); }
json OptText(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }
json OptInt(const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); }
json OptTime(const std::optional<int64_t>& v) { return v ? json(FormatUtc(*v)) : json(nullptr); }

Date StoredDate(std::string_view s) {
  auto d = Date::Parse(s);
  return d.ok() ? *d : Date{};
}

std::optional<int64_t> Author(const Actor& a) {
  return a.user_id > 0 ? std::optional<int64_t>(a.user_id) : std::nullopt;
}

std::string PageSql(int page, int page_size) {
  return " LIMIT " + std::to_string(page_size) + " OFFSET " +
         std::to_string(static_cast<int64_t>(page - 1) * page_size);
}

Status CheckPage(int page, int page_size) {
  if (page < 1) return InvalidArgument("page must be at least 1", "page");
  if (page_size < 1 || page_size > 500) {
    return InvalidArgument("page_size must be 1-500", "page_size");
  }
  return Status::Ok();
}

const std::string kAccountSelect =
    std::string("SELECT ") + internal::kPrepaidCols +
    ", mp.code, mp.tariff_code, cu.customer_no, cu.name, cu.account_manager_id "
    "FROM prepaid_accounts p JOIN metering_points mp ON mp.id = p.metering_point_id "
    "JOIN customers cu ON cu.id = p.customer_id ";

PrepaidAccount ReadAccount(const Row& r) {
  PrepaidRow p = internal::ReadPrepaid(r);
  PrepaidAccount a;
  a.id = p.id;
  a.metering_point_id = p.metering_point_id;
  a.customer_id = p.customer_id;
  a.department_id = p.department_id;
  a.mode = p.mode;
  a.card_no = p.card_no;
  a.balance = p.balance;
  a.purchase_count = p.purchase_count;
  a.total_purchased = p.total_purchased;
  a.warn_below = p.warn_below;
  a.disconnect_below = p.disconnect_below;
  a.reconnect_above = p.reconnect_above;
  a.keep_power = p.keep_power;
  a.control_state = p.control_state;
  a.status = p.status;
  a.version = p.version;
  a.created_at_us = p.created_at_us;
  a.updated_at_us = p.updated_at_us;
  a.point_code = r.Text(18);
  a.tariff_code = r.Text(19);
  a.customer_no = r.Text(20);
  a.customer_name = r.Text(21);
  return a;
}

Result<PrepaidAccount> LoadVisibleAccount(Connection& c, const Actor& actor, int64_t id) {
  std::optional<PrepaidAccount> a;
  RETURN_IF_ERROR(c.QueryOne(kAccountSelect + "WHERE p.id = $1 AND " +
                                 internal::CustomerScopeSql(actor, "p.department_id"),
                             {id}, [&](const Row& r) { a = ReadAccount(r); })
                      .status());
  if (!a) return NotFound("prepaid account " + std::to_string(id) + " not found");
  return *a;
}

const char* const kTxnCols =
    "id, prepaid_account_id, kind, amount_fen, balance_after_fen, business_date, method, "
    "purchase_count, energy_dwh, charge_to_date_fen, receivable_id, payment_id, entry_id, "
    "created_at_us, request_id";

PrepaidTransaction ReadTxn(const Row& r) {
  PrepaidTransaction t;
  t.id = r.Int(0);
  t.prepaid_account_id = r.Int(1);
  t.kind = r.Text(2);
  t.amount = Money::FromFen(r.Int(3));
  t.balance_after = Money::FromFen(r.Int(4));
  t.business_date = StoredDate(r.TextView(5));
  t.method = r.OptText(6);
  t.purchase_count = r.OptInt(7);
  t.energy_dwh = r.OptInt(8);
  t.charge_to_date_fen = r.OptInt(9);
  t.receivable_id = r.OptInt(10);
  t.payment_id = r.OptInt(11);
  t.entry_id = r.OptInt(12);
  t.created_at_us = r.Int(13);
  t.request_id = r.OptText(14);
  return t;
}

Status CheckThresholds(Money warn, Money disconnect, Money reconnect) {
  if (warn < disconnect) {
    return InvalidArgument("warn_below " + warn.ToYuanString() +
                               " must not be below disconnect_below " + disconnect.ToYuanString(),
                           "warn_below");
  }
  if (reconnect < disconnect) {
    return InvalidArgument("reconnect_above " + reconnect.ToYuanString() +
                               " must not be below disconnect_below " + disconnect.ToYuanString(),
                           "reconnect_above");
  }
  return Status::Ok();
}

const char* const kControlSelect =
    "SELECT r.id, r.metering_point_id, mp.code, r.prepaid_account_id, r.department_id, r.kind, "
    "r.reason, r.balance_fen, r.status, r.error, r.created_at_us, r.sent_at_us, "
    "r.completed_at_us, r.version FROM control_requests r "
    "JOIN metering_points mp ON mp.id = r.metering_point_id "
    "JOIN customers cu ON cu.id = mp.customer_id ";

ControlRequest ReadControl(const Row& r) {
  ControlRequest x;
  x.id = r.Int(0);
  x.metering_point_id = r.Int(1);
  x.point_code = r.Text(2);
  x.prepaid_account_id = r.OptInt(3);
  x.department_id = r.Int(4);
  x.kind = r.Text(5);
  x.reason = r.Text(6);
  x.balance = Money::FromFen(r.Int(7));
  x.status = r.Text(8);
  x.error = r.OptText(9);
  x.created_at_us = r.Int(10);
  x.sent_at_us = r.OptInt(11);
  x.completed_at_us = r.OptInt(12);
  x.version = r.Int(13);
  return x;
}

}  // namespace

Result<std::vector<PrepaidAccount>> PrepaidService::List(const Actor& actor, const PrepaidQuery& q,
                                                         int64_t* total) {
  RETURN_IF_ERROR(actor.Require("prepaid.read"));
  RETURN_IF_ERROR(CheckPage(q.page, q.page_size));
  if (!q.mode.empty()) RETURN_IF_ERROR(grid::CheckOneOf(q.mode, "mode", {"ic_card", "remote"}));
  if (!q.control_state.empty()) {
    RETURN_IF_ERROR(
        grid::CheckOneOf(q.control_state, "control_state", {"normal", "warned", "disconnected"}));
  }
  return ctx_.db.ReadValue<std::vector<PrepaidAccount>>(
      [&](Connection& c) -> Result<std::vector<PrepaidAccount>> {
        grid::SqlWhere w(internal::CustomerScopeSql(actor, "p.department_id"));
        if (q.department_id) {
          ASSIGN_OR_RETURN(auto ids, grid::DepartmentSubtree(c, *q.department_id));
          w.And(grid::InSql("p.department_id", ids));
        }
        if (q.customer_id) w.And("p.customer_id = " + w.Bind(*q.customer_id));
        if (!q.mode.empty()) w.And("p.mode = " + w.Bind(q.mode));
        if (!q.control_state.empty()) w.And("p.control_state = " + w.Bind(q.control_state));
        ASSIGN_OR_RETURN(*total, c.QueryInt("SELECT COUNT(*) FROM prepaid_accounts p JOIN "
                                            "customers cu ON cu.id = p.customer_id WHERE " +
                                                w.sql(),
                                            w.params()));
        std::vector<PrepaidAccount> out;
        RETURN_IF_ERROR(c.Query(
            kAccountSelect + "WHERE " + w.sql() + " ORDER BY p.id" + PageSql(q.page, q.page_size),
            w.params(), [&](const Row& r) { out.push_back(ReadAccount(r)); }));
        return out;
      });
}

Result<PrepaidAccount> PrepaidService::Get(const Actor& actor, int64_t id) {
  RETURN_IF_ERROR(actor.Require("prepaid.read"));
  return ctx_.db.ReadValue<PrepaidAccount>(
      [&](Connection& c) -> Result<PrepaidAccount> { return LoadVisibleAccount(c, actor, id); });
}

Result<PrepaidAccount> PrepaidService::Create(const Actor& actor, const PrepaidAccountInput& in) {
  RETURN_IF_ERROR(actor.Require("prepaid.write"));
  if (!in.metering_point_id) {
    return InvalidArgument("metering_point_id is required", "metering_point_id");
  }
  if (!in.mode) return InvalidArgument("mode is required (ic_card or remote)", "mode");
  RETURN_IF_ERROR(grid::CheckOneOf(*in.mode, "mode", {"ic_card", "remote"}));
  std::optional<std::string> card = in.card_no ? *in.card_no : std::nullopt;
  if (card) RETURN_IF_ERROR(grid::CheckCode(*card, "card_no", 32));
  Money warn = in.warn_below.value_or(Money::FromFen(5000));
  Money disconnect = in.disconnect_below.value_or(Money());
  Money reconnect = in.reconnect_above.value_or(Money());
  RETURN_IF_ERROR(CheckThresholds(warn, disconnect, reconnect));
  if (in.status && *in.status != "active") {
    return InvalidArgument("a new prepaid account is active", "status");
  }
  int64_t now = ctx_.clock.NowMicros();
  return ctx_.db.WriteValue<PrepaidAccount>([&](Connection& c) -> Result<PrepaidAccount> {
    int64_t customer_id = 0, department_id = 0;
    std::optional<int64_t> manager;
    bool found = false;
    RETURN_IF_ERROR(c.QueryOne("SELECT mp.customer_id, mp.department_id, cu.account_manager_id "
                               "FROM metering_points mp JOIN customers cu ON cu.id = "
                               "mp.customer_id WHERE mp.id = $1",
                               {*in.metering_point_id},
                               [&](const Row& r) {
                                 found = true;
                                 customer_id = r.Int(0);
                                 department_id = r.Int(1);
                                 manager = r.OptInt(2);
                               })
                        .status());
    if (!found || !actor.CanSee(department_id, manager)) {
      return InvalidArgument("metering point " + std::to_string(*in.metering_point_id) +
                                 " does not exist or is outside your data scope",
                             "metering_point_id");
    }
    auto id = c.InsertReturningId(
        "INSERT INTO prepaid_accounts (metering_point_id, customer_id, department_id, mode, "
        "card_no, warn_below_fen, disconnect_below_fen, reconnect_above_fen, keep_power, "
        "created_at_us, updated_at_us) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) "
        "RETURNING id",
        {*in.metering_point_id, customer_id, department_id, *in.mode, card, warn.fen(),
         disconnect.fen(), reconnect.fen(), in.keep_power.value_or(false), now});
    if (!id.ok() && id.status().code() == StatusCode::kAlreadyExists) {
      return AlreadyExists("metering point " + std::to_string(*in.metering_point_id) +
                               " already has a prepaid account",
                           "metering_point_id");
    }
    RETURN_IF_ERROR(id.status());
    ASSIGN_OR_RETURN(PrepaidAccount a, LoadVisibleAccount(c, actor, *id));
    RETURN_IF_ERROR(internal::Audit(c, actor, "create", "prepaid_account", a.id, "",
                                    ToJson(a).dump(), a.department_id, now));
    return a;
  });
}

Result<PrepaidAccount> PrepaidService::Update(const Actor& actor, int64_t id, int64_t version,
                                              const PrepaidAccountInput& in) {
  RETURN_IF_ERROR(actor.Require("prepaid.write"));
  if (in.status) RETURN_IF_ERROR(grid::CheckOneOf(*in.status, "status", {"active", "closed"}));
  if (in.card_no && *in.card_no) RETURN_IF_ERROR(grid::CheckCode(**in.card_no, "card_no", 32));
  int64_t now = ctx_.clock.NowMicros();
  return ctx_.db.WriteValue<PrepaidAccount>([&](Connection& c) -> Result<PrepaidAccount> {
    ASSIGN_OR_RETURN(PrepaidAccount before, LoadVisibleAccount(c, actor, id));
    if (before.version != version) {
      return grid::StaleVersion("prepaid account", id, before.version, version);
    }
    if (in.metering_point_id && *in.metering_point_id != before.metering_point_id) {
      return InvalidArgument("a prepaid account's metering point cannot change",
                             "metering_point_id");
    }
    if (in.mode && *in.mode != before.mode) {
      return InvalidArgument("a prepaid account's mode cannot change; close it and open another",
                             "mode");
    }
    PrepaidAccount a = before;
    if (in.card_no) a.card_no = *in.card_no;
    if (in.warn_below) a.warn_below = *in.warn_below;
    if (in.disconnect_below) a.disconnect_below = *in.disconnect_below;
    if (in.reconnect_above) a.reconnect_above = *in.reconnect_above;
    if (in.keep_power) a.keep_power = *in.keep_power;
    if (in.status) a.status = *in.status;
    if (a.status == "closed" && before.status != "closed" && before.balance != Money()) {
      return FailedPrecondition("prepaid account " + std::to_string(id) + " has a balance of " +
                                    before.balance.ToYuanString() +
                                    " yuan; it can be closed only at 0.00 (refund or settle the "
                                    "balance first)",
                                "status");
    }
    RETURN_IF_ERROR(CheckThresholds(a.warn_below, a.disconnect_below, a.reconnect_above));
    RETURN_IF_ERROR(internal::LockCustomer(c, a.customer_id, now).status());
    ASSIGN_OR_RETURN(int64_t n,
                     c.Exec("UPDATE prepaid_accounts SET card_no = $1, warn_below_fen = $2, "
                            "disconnect_below_fen = $3, reconnect_above_fen = $4, keep_power = $5, "
                            "status = $6, version = version + 1, updated_at_us = $7 "
                            "WHERE id = $8 AND version = $9",
                            {a.card_no, a.warn_below.fen(), a.disconnect_below.fen(),
                             a.reconnect_above.fen(), a.keep_power, a.status, now, id, version}));
    if (n == 0) {
      return grid::StaleVersionAfterUpdate(c, "prepaid_accounts", "prepaid account", id, version);
    }
    // New thresholds or 保电 may call for another state now.
    ASSIGN_OR_RETURN(auto row, internal::LoadPrepaid(c, id));
    if (row && row->status == "active" &&
        internal::TargetControlState(*row, row->balance) != row->control_state) {
      internal::PrepaidChange ch;
      ch.kind = "threshold_change";
      ch.delta = Money();
      ch.business_date = ctx_.Today();
      ch.created_by = Author(actor);
      ch.reason = "阈值或保电标志变更";
      RETURN_IF_ERROR(internal::ChangePrepaidBalance(c, *row, ch, now).status());
    }
    ASSIGN_OR_RETURN(PrepaidAccount after, LoadVisibleAccount(c, actor, id));
    RETURN_IF_ERROR(internal::Audit(c, actor, "update", "prepaid_account", id,
                                    ToJson(before).dump(), ToJson(after).dump(),
                                    after.department_id, now));
    return after;
  });
}

Result<PurchaseResult> PrepaidService::Purchase(const Actor& actor, int64_t id,
                                                const PurchaseInput& in) {
  RETURN_IF_ERROR(actor.Require("prepaid.write"));
  RETURN_IF_ERROR(grid::CheckOneOf(in.method, "method", {"cash", "card", "transfer"}));
  if (in.amount <= Money()) return InvalidArgument("amount must be above zero", "amount");
  if (in.amount > Money::FromFen(10'000'000'000)) {
    return InvalidArgument("amount is more than 100,000,000.00 yuan", "amount");
  }
  if (in.request_id) RETURN_IF_ERROR(grid::CheckCode(*in.request_id, "request_id", 64));
  Date today = ctx_.Today();
  int64_t now = ctx_.clock.NowMicros();
  // A retry of a purchase already posted answers the original, with the same card write.
  auto earlier = [&]() -> Result<std::optional<PurchaseResult>> {
    if (!in.request_id) return std::optional<PurchaseResult>();
    return ctx_.db.ReadValue<std::optional<PurchaseResult>>(
        [&](Connection& c) -> Result<std::optional<PurchaseResult>> {
          ASSIGN_OR_RETURN(PrepaidAccount a, LoadVisibleAccount(c, actor, id));
          std::optional<PrepaidTransaction> t;
          RETURN_IF_ERROR(c.QueryOne(std::string("SELECT ") + kTxnCols +
                                         " FROM prepaid_transactions WHERE prepaid_account_id = "
                                         "$1 AND request_id = $2",
                                     {id, *in.request_id}, [&](const Row& r) { t = ReadTxn(r); })
                              .status());
          if (!t) return std::optional<PurchaseResult>();
          if (t->kind != "purchase" || t->amount != in.amount || t->method != in.method) {
            return AlreadyExists("request_id " + *in.request_id + " was already used on " +
                                     t->business_date.ToString() + " for a " + t->kind + " of " +
                                     t->amount.ToYuanString() + " yuan (" + t->method.value_or("") +
                                     "); a new purchase needs a new request_id",
                                 "request_id");
          }
          PurchaseResult out;
          out.account = std::move(a);
          out.transaction = *t;
          out.duplicate = true;
          if (out.account.mode == "ic_card" && out.account.card_no) {
            ASSIGN_OR_RETURN(int64_t purchased,
                             c.QueryInt("SELECT COALESCE(SUM(amount_fen), 0) FROM "
                                        "prepaid_transactions WHERE prepaid_account_id = $1 AND "
                                        "kind = 'purchase' AND id <= $2",
                                        {id, t->id}));
            out.card_write = CardWrite{*out.account.card_no, t->purchase_count.value_or(0),
                                       t->amount, Money::FromFen(purchased)};
          }
          return std::optional<PurchaseResult>(std::move(out));
        });
  };
  ASSIGN_OR_RETURN(auto retried, earlier());
  if (retried) return *retried;
  auto posted = ctx_.db.WriteValue<PurchaseResult>([&](Connection& c) -> Result<PurchaseResult> {
    ASSIGN_OR_RETURN(PrepaidAccount before, LoadVisibleAccount(c, actor, id));
    if (before.status != "active") {
      return FailedPrecondition("prepaid account " + std::to_string(id) + " is " + before.status);
    }
    if (before.mode == "ic_card" && !before.card_no) {
      return FailedPrecondition("prepaid account " + std::to_string(id) +
                                " has no IC card number; issue a card first");
    }
    RETURN_IF_ERROR(internal::LockCustomer(c, before.customer_id, now).status());
    ASSIGN_OR_RETURN(auto row, internal::LoadPrepaid(c, id));
    if (!row) return Internal("prepaid account vanished");
    JournalEntry e;
    e.kind = "prepaid_purchase";
    e.business_date = today;
    e.department_id = row->department_id;
    e.customer_id = row->customer_id;
    e.ref_type = "prepaid_account";
    e.ref_id = row->id;
    e.memo = (row->mode == "ic_card" ? "IC卡购电 " : "远程费控购电 ") + before.point_code;
    e.created_by = Author(actor);
    std::string account = in.method == "cash"   ? std::string(kCash)
                          : in.method == "card" ? std::string(kCardClearing)
                                                : std::string(kTransferClearing);
    e.lines = {{account, std::nullopt, in.amount, Money()},
               {std::string(kPrepaidLiability), row->customer_id, Money(), in.amount}};
    ASSIGN_OR_RETURN(int64_t entry_id, PostEntry(c, e, now));
    internal::PrepaidChange ch;
    ch.kind = "purchase";
    ch.delta = in.amount;
    ch.business_date = today;
    ch.method = in.method;
    ch.count_purchase = row->mode == "ic_card";
    ch.entry_id = entry_id;
    ch.created_by = Author(actor);
    ch.reason = "购电 " + in.amount.ToYuanString() + " 元";
    ch.request_id = in.request_id;
    ASSIGN_OR_RETURN(int64_t txn_id, internal::ChangePrepaidBalance(c, *row, ch, now));
    PurchaseResult out;
    ASSIGN_OR_RETURN(out.account, LoadVisibleAccount(c, actor, id));
    bool found = false;
    RETURN_IF_ERROR(
        c.QueryOne(std::string("SELECT ") + kTxnCols + " FROM prepaid_transactions WHERE id = $1",
                   {txn_id},
                   [&](const Row& r) {
                     found = true;
                     out.transaction = ReadTxn(r);
                   })
            .status());
    if (!found) return Internal("prepaid transaction vanished");
    if (out.account.mode == "ic_card") {
      out.card_write = CardWrite{*out.account.card_no, out.account.purchase_count, in.amount,
                                 out.account.total_purchased};
    }
    RETURN_IF_ERROR(internal::Audit(c, actor, "purchase", "prepaid_account", id,
                                    ToJson(before).dump(), ToJson(out).dump(),
                                    out.account.department_id, now));
    return out;
  });
  if (posted.ok() || !in.request_id || posted.status().code() != StatusCode::kAlreadyExists) {
    return posted;
  }
  // The unique index refused the id: a concurrent identical request committed first.
  ASSIGN_OR_RETURN(retried, earlier());
  if (retried) return *retried;
  return posted;
}

Result<std::vector<PrepaidTransaction>> PrepaidService::ListTransactions(const Actor& actor,
                                                                         int64_t id, int page,
                                                                         int page_size,
                                                                         int64_t* total) {
  RETURN_IF_ERROR(actor.Require("prepaid.read"));
  RETURN_IF_ERROR(CheckPage(page, page_size));
  return ctx_.db.ReadValue<std::vector<PrepaidTransaction>>(
      [&](Connection& c) -> Result<std::vector<PrepaidTransaction>> {
        RETURN_IF_ERROR(LoadVisibleAccount(c, actor, id).status());
        ASSIGN_OR_RETURN(*total, c.QueryInt("SELECT COUNT(*) FROM prepaid_transactions WHERE "
                                            "prepaid_account_id = $1",
                                            {id}));
        std::vector<PrepaidTransaction> out;
        RETURN_IF_ERROR(c.Query(std::string("SELECT ") + kTxnCols +
                                    " FROM prepaid_transactions WHERE prepaid_account_id = $1 "
                                    "ORDER BY id DESC" +
                                    PageSql(page, page_size),
                                {id}, [&](const Row& r) { out.push_back(ReadTxn(r)); }));
        return out;
      });
}

Result<DeductionRun> PrepaidService::RunDailyDeduction(
    const Actor& actor, Date day, std::optional<int64_t> department_id,
    const std::function<Status(int64_t done, int64_t total)>& progress) {
  RETURN_IF_ERROR(actor.Require("prepaid.write"));
  Date today = ctx_.Today();
  if (!(day < today)) {
    return InvalidArgument("day " + day.ToString() +
                               " has not ended: its consumption is known from the freeze at "
                               "00:00 of the next day",
                           "day");
  }
  if (!pricer_) return FailedPrecondition("no tariff pricing is configured for remote prepaid");
  const Date month_start{day.year, day.month, 1};
  const Date closing = day.AddDays(1);
  const YearMonth period{day.year, day.month};
  int64_t now = ctx_.clock.NowMicros();
  DeductionRun run;
  run.day = day;

  struct Candidate {
    PrepaidAccount account;
    std::optional<reading::DailyFrozen> start;
    std::optional<reading::DailyFrozen> end;
  };
  std::vector<Candidate> candidates;
  RETURN_IF_ERROR(ctx_.db.Read([&](Connection& c) -> Status {
    grid::SqlWhere w(internal::CustomerScopeSql(actor, "p.department_id"));
    if (department_id) {
      RETURN_IF_ERROR(grid::CheckDepartment(c, actor, *department_id));
      ASSIGN_OR_RETURN(auto ids, grid::DepartmentSubtree(c, *department_id));
      w.And(grid::InSql("p.department_id", ids));
    }
    w.And("p.mode = 'remote' AND p.status = 'active'");
    RETURN_IF_ERROR(c.Query(kAccountSelect + "WHERE " + w.sql() + " ORDER BY p.id", w.params(),
                            [&](const Row& r) {
                              candidates.push_back({ReadAccount(r), {}, {}});
                            }));
    std::vector<int64_t> points;
    std::map<int64_t, size_t> index;
    for (size_t i = 0; i < candidates.size(); ++i) {
      points.push_back(candidates[i].account.metering_point_id);
      index[candidates[i].account.metering_point_id] = i;
    }
    ASSIGN_OR_RETURN(auto starts, reading::LoadDailyFrozen(c, points, month_start, month_start));
    for (auto& f : starts) candidates[index[f.metering_point_id]].start = std::move(f);
    ASSIGN_OR_RETURN(auto ends, reading::LoadDailyFrozen(c, points, closing, closing));
    for (auto& f : ends) candidates[index[f.metering_point_id]].end = std::move(f);
    return Status::Ok();
  }));
  run.accounts = static_cast<int64_t>(candidates.size());

  int64_t done = 0;
  for (auto& cand : candidates) {
    if (progress) RETURN_IF_ERROR(progress(done, run.accounts));
    ++done;
    const PrepaidAccount& a = cand.account;
    auto problem = [&](std::string reason) {
      run.problems.push_back({a.id, a.point_code, std::move(reason)});
    };
    if (!cand.start) {
      problem("no daily frozen read for " + month_start.ToString() + " (the month's start)");
      continue;
    }
    if (!cand.end) {
      problem("no daily frozen read for " + closing.ToString() + " (the end of " + day.ToString() +
              ")");
      continue;
    }
    if (cand.start->multiplier != cand.end->multiplier) {
      problem("the multiplier changed from " + std::to_string(cand.start->multiplier) + " to " +
              std::to_string(cand.end->multiplier) +
              " this month (meter replaced); the monthly bill settles it");
      continue;
    }
    PricingRequest pr;
    pr.point_code = a.point_code;
    pr.tariff_code = a.tariff_code;
    pr.period = period;
    pr.first_day = month_start;
    pr.last_day = day;
    pr.multiplier = cand.end->multiplier;
    pr.start = cand.start->registers;
    pr.end = cand.end->registers;
    auto charge = pricer_->MonthToDate(pr);
    if (!charge.ok()) {
      problem(charge.status().message());
      continue;
    }
    int64_t energy_dwh = 0;
    if (pr.start.count("total") && pr.end.count("total")) {
      energy_dwh = (pr.end.at("total") - pr.start.at("total")).dwh() * pr.multiplier;
    }
    struct Outcome {
      bool done_before = false;
      Money amount;
      bool control = false;
    };
    auto outcome = ctx_.db.WriteValue<Outcome>([&](Connection& c) -> Result<Outcome> {
      Outcome o;
      RETURN_IF_ERROR(internal::LockCustomer(c, a.customer_id, now).status());
      // A deduction of this day or a later day of the month already covers it.
      ASSIGN_OR_RETURN(
          bool covered,
          c.QueryOne("SELECT 1 FROM prepaid_transactions WHERE prepaid_account_id = "
                     "$1 AND kind = 'deduction' AND business_date >= $2 AND "
                     "business_date <= $3",
                     {a.id, day.ToString(), period.LastDay().ToString()}, [](const Row&) {}));
      if (covered) {
        o.done_before = true;
        return o;
      }
      ASSIGN_OR_RETURN(int64_t so_far,
                       c.QueryInt("SELECT COALESCE(SUM(-amount_fen), 0) FROM prepaid_transactions "
                                  "WHERE prepaid_account_id = $1 AND kind = 'deduction' AND "
                                  "business_date >= $2 AND business_date < $3",
                                  {a.id, month_start.ToString(), day.ToString()}));
      ASSIGN_OR_RETURN(auto row, internal::LoadPrepaid(c, a.id));
      if (!row || row->status != "active") {
        o.done_before = true;
        return o;
      }
      o.amount = *charge - Money::FromFen(so_far);
      std::optional<int64_t> entry_id;
      if (o.amount != Money()) {
        JournalEntry e;
        e.kind = "prepaid_deduction";
        e.business_date = day;
        e.department_id = row->department_id;
        e.customer_id = row->customer_id;
        e.ref_type = "prepaid_account";
        e.ref_id = row->id;
        e.memo = "远程费控测算电费 " + a.point_code + " " + day.ToString() + "（本月累计 " +
                 charge->ToYuanString() + " 元）";
        e.created_by = Author(actor);
        Money m = o.amount > Money() ? o.amount : -o.amount;
        if (o.amount > Money()) {
          e.lines = {{std::string(kPrepaidLiability), row->customer_id, m, Money()},
                     {std::string(kPrepaidEstimated), row->customer_id, Money(), m}};
        } else {
          e.lines = {{std::string(kPrepaidEstimated), row->customer_id, m, Money()},
                     {std::string(kPrepaidLiability), row->customer_id, Money(), m}};
        }
        ASSIGN_OR_RETURN(int64_t id, PostEntry(c, e, now));
        entry_id = id;
      }
      std::string state_before = row->control_state;
      const Money balance_before = row->balance;
      internal::PrepaidChange ch;
      ch.kind = "deduction";
      ch.delta = -o.amount;
      ch.business_date = day;
      ch.energy_dwh = energy_dwh;
      ch.charge_to_date_fen = charge->fen();
      ch.entry_id = entry_id;
      ch.created_by = Author(actor);
      ch.reason = day.ToString() + " 测算扣费 " + o.amount.ToYuanString() + " 元";
      ASSIGN_OR_RETURN(int64_t txn_id, internal::ChangePrepaidBalance(c, *row, ch, now));
      o.control = row->control_state != state_before;
      // Audited with the postings: a run cancelled or crashed later leaves no unaudited day.
      json before{{"balance", Yuan(balance_before)}, {"control_state", state_before}};
      json after{{"balance", Yuan(row->balance)},
                 {"control_state", row->control_state},
                 {"day", day.ToString()},
                 {"amount", Yuan(o.amount)},
                 {"charge_to_date", Yuan(*charge)},
                 {"energy_kwh", Energy::FromDwh(energy_dwh).ToKwhString(2)},
                 {"transaction_id", txn_id}};
      RETURN_IF_ERROR(internal::Audit(c, actor, "daily_deduction", "prepaid_account", row->id,
                                      before.dump(), after.dump(), row->department_id, now));
      return o;
    });
    if (!outcome.ok()) {
      if (outcome.status().code() == StatusCode::kAlreadyExists) {
        ++run.already_done;  // a concurrent run took the day
      } else {
        problem(outcome.status().message());
      }
      continue;
    }
    if (outcome->done_before) {
      ++run.already_done;
      continue;
    }
    ++run.deducted;
    run.total += outcome->amount;
    if (outcome->control) ++run.control_requests;
  }
  RETURN_IF_ERROR(ctx_.db.Write([&](Connection& c) -> Status {
    return internal::Audit(c, actor, "run", "prepaid_deduction", 0, "", ToJson(run).dump(),
                           department_id.value_or(0), now);
  }));
  return run;
}

Result<std::vector<ControlRequest>> PrepaidService::ListControlRequests(
    const Actor& actor, const ControlRequestQuery& q, int64_t* total) {
  RETURN_IF_ERROR(actor.Require("prepaid.read"));
  RETURN_IF_ERROR(CheckPage(q.page, q.page_size));
  if (!q.status.empty()) {
    RETURN_IF_ERROR(
        grid::CheckOneOf(q.status, "status", {"pending", "sent", "confirmed", "failed"}));
  }
  if (!q.kind.empty()) {
    RETURN_IF_ERROR(grid::CheckOneOf(q.kind, "kind", {"warn", "disconnect", "reconnect"}));
  }
  return ctx_.db.ReadValue<std::vector<ControlRequest>>(
      [&](Connection& c) -> Result<std::vector<ControlRequest>> {
        grid::SqlWhere w(internal::CustomerScopeSql(actor, "r.department_id"));
        if (q.department_id) {
          ASSIGN_OR_RETURN(auto ids, grid::DepartmentSubtree(c, *q.department_id));
          w.And(grid::InSql("r.department_id", ids));
        }
        if (!q.status.empty()) w.And("r.status = " + w.Bind(q.status));
        if (!q.kind.empty()) w.And("r.kind = " + w.Bind(q.kind));
        if (q.metering_point_id) w.And("r.metering_point_id = " + w.Bind(*q.metering_point_id));
        ASSIGN_OR_RETURN(*total,
                         c.QueryInt("SELECT COUNT(*) FROM control_requests r JOIN metering_points "
                                    "mp ON mp.id = r.metering_point_id JOIN customers cu ON cu.id "
                                    "= mp.customer_id WHERE " +
                                        w.sql(),
                                    w.params()));
        std::vector<ControlRequest> out;
        RETURN_IF_ERROR(c.Query(std::string(kControlSelect) + "WHERE " + w.sql() +
                                    " ORDER BY r.id" + PageSql(q.page, q.page_size),
                                w.params(), [&](const Row& r) { out.push_back(ReadControl(r)); }));
        return out;
      });
}

Result<ControlRequest> PrepaidService::UpdateControlRequest(
    const Actor& actor, int64_t id, int64_t version, const std::string& status,
    const std::optional<std::string>& error) {
  RETURN_IF_ERROR(actor.Require("prepaid.write"));
  RETURN_IF_ERROR(grid::CheckOneOf(status, "status", {"sent", "confirmed", "failed"}));
  if (error) RETURN_IF_ERROR(grid::CheckText(*error, "error", 1, 500));
  if (status == "failed" && !error) {
    return InvalidArgument("error is required when a request failed", "error");
  }
  int64_t now = ctx_.clock.NowMicros();
  return ctx_.db.WriteValue<ControlRequest>([&](Connection& c) -> Result<ControlRequest> {
    std::optional<ControlRequest> before;
    RETURN_IF_ERROR(c.QueryOne(std::string(kControlSelect) + "WHERE r.id = $1 AND " +
                                   internal::CustomerScopeSql(actor, "r.department_id"),
                               {id}, [&](const Row& r) { before = ReadControl(r); })
                        .status());
    if (!before) return NotFound("control request " + std::to_string(id) + " not found");
    if (before->version != version) {
      return grid::StaleVersion("control request", id, before->version, version);
    }
    bool allowed = (before->status == "pending" && (status == "sent" || status == "failed")) ||
                   (before->status == "sent" && (status == "confirmed" || status == "failed"));
    if (!allowed) {
      return FailedPrecondition("control request " + std::to_string(id) + " cannot go from " +
                                before->status + " to " + status);
    }
    ASSIGN_OR_RETURN(
        int64_t n, c.Exec("UPDATE control_requests SET status = $1, error = $2, "
                          "sent_at_us = CASE WHEN $1 = 'sent' THEN $3 ELSE sent_at_us END, "
                          "completed_at_us = CASE WHEN $1 IN ('confirmed', 'failed') THEN $3 ELSE "
                          "completed_at_us END, version = version + 1, updated_at_us = $3 "
                          "WHERE id = $4 AND version = $5",
                          {status, error, now, id, version}));
    if (n == 0) {
      return grid::StaleVersionAfterUpdate(c, "control_requests", "control request", id, version);
    }
    std::optional<ControlRequest> after;
    RETURN_IF_ERROR(
        c.QueryOne(std::string(kControlSelect) + "WHERE r.id = $1", {id}, [&](const Row& r) {
           after = ReadControl(r);
         }).status());
    RETURN_IF_ERROR(internal::Audit(c, actor, "update", "control_request", id,
                                    ToJson(*before).dump(), ToJson(*after).dump(),
                                    after->department_id, now));
    return *after;
  });
}

// ---------------------------------------------------------------------------------------------
// JSON

json ToJson(const PrepaidAccount& a) {
  return json{{"id", a.id},
              {"metering_point_id", a.metering_point_id},
              {"point_code", a.point_code},
              {"tariff_code", a.tariff_code},
              {"customer_id", a.customer_id},
              {"customer_no", a.customer_no},
              {"customer_name", a.customer_name},
              {"department_id", a.department_id},
              {"mode", a.mode},
              {"card_no", OptText(a.card_no)},
              {"balance", Yuan(a.balance)},
              {"purchase_count", a.purchase_count},
              {"total_purchased", Yuan(a.total_purchased)},
              {"warn_below", Yuan(a.warn_below)},
              {"disconnect_below", Yuan(a.disconnect_below)},
              {"reconnect_above", Yuan(a.reconnect_above)},
              {"keep_power", a.keep_power},
              {"control_state", a.control_state},
              {"status", a.status},
              {"version", a.version},
              {"created_at", FormatUtc(a.created_at_us)},
              {"updated_at", FormatUtc(a.updated_at_us)}};
}

json ToJson(const PrepaidTransaction& t) {
  return json{
      {"id", t.id},
      {"prepaid_account_id", t.prepaid_account_id},
      {"kind", t.kind},
      {"amount", Yuan(t.amount)},
      {"balance_after", Yuan(t.balance_after)},
      {"business_date", t.business_date.ToString()},
      {"method", OptText(t.method)},
      {"purchase_count", OptInt(t.purchase_count)},
      {"energy_kwh",
       t.energy_dwh ? json(Energy::FromDwh(*t.energy_dwh).ToKwhString(2)) : json(nullptr)},
      {"charge_to_date",
       t.charge_to_date_fen ? json(Yuan(Money::FromFen(*t.charge_to_date_fen))) : json(nullptr)},
      {"receivable_id", OptInt(t.receivable_id)},
      {"payment_id", OptInt(t.payment_id)},
      {"entry_id", OptInt(t.entry_id)},
      {"request_id", OptText(t.request_id)},
      {"created_at", FormatUtc(t.created_at_us)}};
}

json ToJson(const PurchaseResult& r) {
  json j{{"account", ToJson(r.account)},
         {"transaction", ToJson(r.transaction)},
         {"duplicate", r.duplicate}};
  if (r.card_write) {
    j["card_write"] = {{"card_no", r.card_write->card_no},
                       {"purchase_count", r.card_write->purchase_count},
                       {"amount", Yuan(r.card_write->amount)},
                       {"total_purchased", Yuan(r.card_write->total_purchased)}};
  } else {
    j["card_write"] = nullptr;
  }
  return j;
}

json ToJson(const ControlRequest& r) {
  return json{{"id", r.id},
              {"metering_point_id", r.metering_point_id},
              {"point_code", r.point_code},
              {"prepaid_account_id", OptInt(r.prepaid_account_id)},
              {"department_id", r.department_id},
              {"kind", r.kind},
              {"reason", r.reason},
              {"balance", Yuan(r.balance)},
              {"status", r.status},
              {"error", OptText(r.error)},
              {"created_at", FormatUtc(r.created_at_us)},
              {"sent_at", OptTime(r.sent_at_us)},
              {"completed_at", OptTime(r.completed_at_us)},
              {"version", r.version}};
}

json ToJson(const DeductionRun& r) {
  json problems = json::array();
  for (const auto& p : r.problems) {
    problems.push_back({{"prepaid_account_id", p.prepaid_account_id},
                        {"point_code", p.point_code},
                        {"reason", p.reason}});
  }
  return json{{"day", r.day.ToString()},        {"accounts", r.accounts},
              {"deducted", r.deducted},         {"already_done", r.already_done},
              {"total", Yuan(r.total)},         {"control_requests", r.control_requests},
              {"problems", std::move(problems)}};
}

}  // namespace gridmis::accounts
