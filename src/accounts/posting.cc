#include "accounts/posting.h"

#include <mutex>

#include "accounts/internal.h"
#include "accounts/ledger.h"

namespace gridmis::accounts {

using store::Connection;
using store::Row;

namespace {

std::mutex g_settings_mu;
LateFeePolicy& PolicySlot() {
  static LateFeePolicy policy;
  return policy;
}
TimeZone& ZoneSlot() {
  static TimeZone zone = [] {
    auto z = TimeZone::Load("Asia/Shanghai");
    return z.ok() ? *z : TimeZone::Load("UTC").value();
  }();
  return zone;
}

std::optional<int64_t> Author(int64_t user_id) {
  return user_id > 0 ? std::optional<int64_t>(user_id) : std::nullopt;
}

// Settles an issued bill of a prepaid point from the prepaid balance (tariffs.md §10.1 结算,
// §10.2: the month's estimates are replaced by the official bill).
Status SettleFromPrepaid(Connection& c, internal::PrepaidRow& p, const internal::ReceivableRow& r,
                         const BillPosting& bill, int64_t now_us) {
  std::string last_day = bill.period.LastDay().ToString();
  ASSIGN_OR_RETURN(int64_t estimated,
                   c.QueryInt("SELECT COALESCE(SUM(-amount_fen), 0) FROM prepaid_transactions "
                              "WHERE prepaid_account_id = $1 AND kind = 'deduction' "
                              "AND settled_by_receivable_id IS NULL AND business_date <= $2",
                              {p.id, last_day}));
  if (estimated != 0) {
    Money est = Money::FromFen(estimated);
    JournalEntry e;
    e.kind = "prepaid_estimate_reversal";
    e.business_date = bill.issue_date;
    e.department_id = bill.department_id;
    e.customer_id = bill.customer_id;
    e.ref_type = "receivable";
    e.ref_id = r.id;
    e.memo = "冲回 " + bill.period.ToString() + " 测算电费（以账单 " + bill.bill_no + " 结算）";
    e.created_by = Author(bill.actor_user_id);
    if (est > Money()) {
      e.lines = {{std::string(kPrepaidEstimated), bill.customer_id, est, Money()},
                 {std::string(kPrepaidLiability), bill.customer_id, Money(), est}};
    } else {
      e.lines = {{std::string(kPrepaidLiability), bill.customer_id, -est, Money()},
                 {std::string(kPrepaidEstimated), bill.customer_id, Money(), -est}};
    }
    ASSIGN_OR_RETURN(int64_t entry_id, PostEntry(c, e, now_us));
    RETURN_IF_ERROR(c.Exec("UPDATE prepaid_transactions SET settled_by_receivable_id = $1 "
                           "WHERE prepaid_account_id = $2 AND kind = 'deduction' "
                           "AND settled_by_receivable_id IS NULL AND business_date <= $3",
                           {r.id, p.id, last_day})
                        .status());
    internal::PrepaidChange ch;
    ch.kind = "estimate_reversal";
    ch.delta = est;
    ch.business_date = bill.issue_date;
    ch.receivable_id = r.id;
    ch.entry_id = entry_id;
    ch.created_by = Author(bill.actor_user_id);
    ch.evaluate_control = false;
    RETURN_IF_ERROR(ChangePrepaidBalance(c, p, ch, now_us).status());
  }
  JournalEntry e;
  e.kind = "prepaid_settlement";
  e.business_date = bill.issue_date;
  e.department_id = bill.department_id;
  e.customer_id = bill.customer_id;
  e.ref_type = "receivable";
  e.ref_id = r.id;
  e.memo = "预付费结算账单 " + bill.bill_no;
  e.created_by = Author(bill.actor_user_id);
  e.lines = {{std::string(kPrepaidLiability), bill.customer_id, bill.amount, Money()},
             {std::string(kReceivable), bill.customer_id, Money(), bill.amount}};
  ASSIGN_OR_RETURN(int64_t entry_id, PostEntry(c, e, now_us));
  RETURN_IF_ERROR(c.Exec("INSERT INTO payment_allocations (receivable_id, payment_id, source, "
                         "entry_id, pay_date, principal_fen, late_fee_fen, created_at_us) "
                         "VALUES ($1, NULL, 'prepaid', $2, $3, $4, 0, $5)",
                         {r.id, entry_id, bill.issue_date.ToString(), bill.amount.fen(), now_us})
                      .status());
  RETURN_IF_ERROR(c.Exec("UPDATE receivables SET principal_paid_fen = amount_fen, status = 'paid', "
                         "settled_date = $1, version = version + 1, updated_at_us = $2 "
                         "WHERE id = $3",
                         {bill.issue_date.ToString(), now_us, r.id})
                      .status());
  internal::PrepaidChange ch;
  ch.kind = "settlement";
  ch.delta = -bill.amount;
  ch.business_date = bill.issue_date;
  ch.receivable_id = r.id;
  ch.entry_id = entry_id;
  ch.created_by = Author(bill.actor_user_id);
  ch.reason = "账单 " + bill.bill_no + " 结算";
  return ChangePrepaidBalance(c, p, ch, now_us).status();
}

Status CheckPosting(const BillPosting& b) {
  if (b.bill_id <= 0) return InvalidArgument("bill_id must be positive", "bill_id");
  if (b.bill_no.empty()) return InvalidArgument("bill_no is required", "bill_no");
  if (b.customer_id <= 0) return InvalidArgument("customer_id must be positive", "customer_id");
  if (b.department_id <= 0) {
    return InvalidArgument("department_id must be positive", "department_id");
  }
  if (b.due_date < b.issue_date) {
    return InvalidArgument("bill " + b.bill_no + ": due date " + b.due_date.ToString() +
                               " is before the issue date " + b.issue_date.ToString(),
                           "due_date");
  }
  if (b.customer_category.empty()) {
    return InvalidArgument("bill " + b.bill_no + ": customer_category is required",
                           "customer_category");
  }
  return Status::Ok();
}

}  // namespace

void SetLateFeePolicy(const LateFeePolicy& policy) {
  std::lock_guard lock(g_settings_mu);
  PolicySlot() = policy;
}

LateFeePolicy CurrentLateFeePolicy() {
  std::lock_guard lock(g_settings_mu);
  return PolicySlot();
}

void SetBusinessTimeZone(const TimeZone& zone) {
  std::lock_guard lock(g_settings_mu);
  ZoneSlot() = zone;
}

TimeZone BusinessTimeZone() {
  std::lock_guard lock(g_settings_mu);
  return ZoneSlot();
}

Status PostBillIssued(Connection& c, const BillPosting& bill, int64_t now_us) {
  RETURN_IF_ERROR(CheckPosting(bill));
  ASSIGN_OR_RETURN(auto existing, internal::LoadReceivableByBill(c, bill.bill_id));
  if (existing) return Status::Ok();  // idempotent by bill id

  const bool positive = bill.amount > Money();
  // The entry first (it names the bill), so the receivable is written once with it.
  std::optional<int64_t> entry_id;
  if (bill.amount != Money()) {
    JournalEntry e;
    e.kind = "bill_issue";
    e.business_date = bill.issue_date;
    e.department_id = bill.department_id;
    e.customer_id = bill.customer_id;
    e.ref_type = "bill";
    e.ref_id = bill.bill_id;
    e.memo = "发行电费 " + bill.bill_no + " " + bill.period.ToString();
    e.created_by = Author(bill.actor_user_id);
    if (positive) {
      e.lines = {{std::string(kReceivable), bill.customer_id, bill.amount, Money()},
                 {std::string(kEnergySales), std::nullopt, Money(), bill.amount}};
    } else {
      e.lines = {{std::string(kEnergySales), std::nullopt, -bill.amount, Money()},
                 {std::string(kCustomerCredit), bill.customer_id, Money(), -bill.amount}};
    }
    ASSIGN_OR_RETURN(entry_id, PostEntry(c, e, now_us));
  }
  ASSIGN_OR_RETURN(
      int64_t rid,
      c.InsertReturningId(
          "INSERT INTO receivables (bill_id, bill_no, customer_id, account_id, department_id, "
          "metering_point_id, period, category, amount_fen, principal_paid_fen, issue_date, "
          "due_date, status, settled_date, issue_entry_id, created_at_us, updated_at_us) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16) "
          "RETURNING id",
          {bill.bill_id, bill.bill_no, bill.customer_id,
           bill.account_id > 0 ? store::Value(bill.account_id) : store::Value(), bill.department_id,
           bill.metering_point_id > 0 ? store::Value(bill.metering_point_id) : store::Value(),
           bill.period.ToString(), bill.customer_category, bill.amount.fen(),
           positive ? int64_t{0} : bill.amount.fen(), bill.issue_date.ToString(),
           bill.due_date.ToString(), positive ? "open" : "paid",
           positive ? store::Value() : store::Value(bill.issue_date.ToString()), entry_id,
           now_us}));

  std::optional<internal::PrepaidRow> prepaid;
  if (positive && bill.metering_point_id > 0) {
    ASSIGN_OR_RETURN(prepaid, internal::LoadPrepaidByPoint(c, bill.metering_point_id));
    if (prepaid && prepaid->status != "active") prepaid.reset();
  }
  if (prepaid) {
    RETURN_IF_ERROR(internal::LockCustomer(c, bill.customer_id, now_us).status());
    ASSIGN_OR_RETURN(auto r, internal::LoadReceivable(c, rid));
    if (!r) return Internal("receivable vanished");
    return SettleFromPrepaid(c, *prepaid, *r, bill, now_us);
  }
  ASSIGN_OR_RETURN(Money credit, internal::CustomerCredit(c, bill.customer_id));
  if (!positive && bill.amount != Money()) {
    ASSIGN_OR_RETURN(credit, internal::LockCustomer(c, bill.customer_id, now_us));
    RETURN_IF_ERROR(c.Exec("UPDATE customer_balances SET credit_fen = credit_fen + $1, "
                           "updated_at_us = $2 WHERE customer_id = $3",
                           {(-bill.amount).fen(), now_us, bill.customer_id})
                        .status());
    credit -= bill.amount;
  } else if (credit > Money()) {
    RETURN_IF_ERROR(internal::LockCustomer(c, bill.customer_id, now_us).status());
  }
  if (credit > Money()) {
    RETURN_IF_ERROR(internal::ApplyCredit(c, CurrentLateFeePolicy(), bill.customer_id,
                                          bill.department_id, bill.issue_date,
                                          Author(bill.actor_user_id), now_us)
                        .status());
  }
  return Status::Ok();
}

Status PostBillCancelled(Connection& c, int64_t bill_id, int64_t actor_user_id, int64_t now_us) {
  ASSIGN_OR_RETURN(auto r, internal::LoadReceivableByBill(c, bill_id));
  if (!r) {
    return NotFound("bill " + std::to_string(bill_id) +
                    " has no receivable: it was never issued, so there is nothing to cancel");
  }
  if (r->status == "cancelled") return Status::Ok();  // idempotent by bill id
  if (r->debit_batch_id) {
    ASSIGN_OR_RETURN(
        std::string batch_no,
        c.QueryText("SELECT batch_no FROM debit_batches WHERE id = $1", {*r->debit_batch_id}));
    return FailedPrecondition("bill " + r->bill_no + " is in direct-debit batch " + batch_no +
                              " (代扣在途); import the bank's return file or cancel the batch "
                              "before cancelling the bill");
  }
  ASSIGN_OR_RETURN(Money credit, internal::LockCustomer(c, r->customer_id, now_us));
  Date today = BusinessTimeZone().LocalDate(now_us);
  if (today < r->issue_date) today = r->issue_date;
  const std::optional<int64_t> author = Author(actor_user_id);
  std::optional<int64_t> cancel_entry;
  if (r->amount < Money() && r->issue_entry_id) {
    if (credit < -r->amount) {
      return FailedPrecondition("bill " + r->bill_no + " credited " + (-r->amount).ToYuanString() +
                                " yuan, of which the customer has already used " +
                                (-r->amount - credit).ToYuanString() +
                                "; it cannot be cancelled until that much is paid back");
    }
    ASSIGN_OR_RETURN(int64_t id, PostReversal(c, *r->issue_entry_id, "bill_cancel", today, author,
                                              "冲正电费 " + r->bill_no, now_us));
    cancel_entry = id;
    RETURN_IF_ERROR(c.Exec("UPDATE customer_balances SET credit_fen = credit_fen - $1, "
                           "updated_at_us = $2 WHERE customer_id = $3",
                           {(-r->amount).fen(), now_us, r->customer_id})
                        .status());
  } else if (r->amount > Money() && r->issue_entry_id) {
    ASSIGN_OR_RETURN(int64_t id, PostReversal(c, *r->issue_entry_id, "bill_cancel", today, author,
                                              "冲正电费 " + r->bill_no, now_us));
    cancel_entry = id;
    // Money already allocated to the bill goes back: to the prepaid balance for a prepaid
    // settlement, to the customer's credit otherwise.
    int64_t principal_credit = 0, fee_credit = 0, principal_prepaid = 0;
    RETURN_IF_ERROR(c.Query(
        "SELECT source, COALESCE(SUM(principal_fen), 0), COALESCE(SUM(late_fee_fen), 0) "
        "FROM payment_allocations WHERE receivable_id = $1 AND reversed = 0 GROUP BY source",
        {r->id}, [&](const Row& row) {
          if (row.TextView(0) == "prepaid") {
            principal_prepaid += row.Int(1);
            fee_credit += row.Int(2);
          } else {
            principal_credit += row.Int(1);
            fee_credit += row.Int(2);
          }
        }));
    Money to_credit = Money::FromFen(principal_credit + fee_credit);
    Money to_prepaid = Money::FromFen(principal_prepaid);
    if (to_credit > Money() || to_prepaid > Money()) {
      JournalEntry e;
      e.kind = "bill_cancel_refund";
      e.business_date = today;
      e.department_id = r->department_id;
      e.customer_id = r->customer_id;
      e.ref_type = "receivable";
      e.ref_id = r->id;
      e.memo = "冲正账单 " + r->bill_no + " 已收款项转入余额";
      e.created_by = author;
      e.lines = {{std::string(kReceivable), r->customer_id,
                  Money::FromFen(principal_credit + principal_prepaid), Money()},
                 {std::string(kLateFeeIncome), r->customer_id, Money::FromFen(fee_credit), Money()},
                 {std::string(kCustomerCredit), r->customer_id, Money(), to_credit},
                 {std::string(kPrepaidLiability), r->customer_id, Money(), to_prepaid}};
      ASSIGN_OR_RETURN(int64_t refund_entry, PostEntry(c, e, now_us));
      RETURN_IF_ERROR(
          c.Exec("UPDATE payment_allocations SET reversed = 1 WHERE receivable_id = $1", {r->id})
              .status());
      if (to_credit > Money()) {
        RETURN_IF_ERROR(c.Exec("UPDATE customer_balances SET credit_fen = credit_fen + $1, "
                               "updated_at_us = $2 WHERE customer_id = $3",
                               {to_credit.fen(), now_us, r->customer_id})
                            .status());
      }
      if (to_prepaid > Money()) {
        std::optional<internal::PrepaidRow> p;
        if (r->metering_point_id) {
          ASSIGN_OR_RETURN(p, internal::LoadPrepaidByPoint(c, *r->metering_point_id));
        }
        if (!p) return Internal("prepaid account of bill " + r->bill_no + " vanished");
        internal::PrepaidChange ch;
        ch.kind = "refund";
        ch.delta = to_prepaid;
        ch.business_date = today;
        ch.receivable_id = r->id;
        ch.entry_id = refund_entry;
        ch.created_by = author;
        ch.reason = "账单 " + r->bill_no + " 冲正";
        RETURN_IF_ERROR(ChangePrepaidBalance(c, *p, ch, now_us).status());
      }
    }
  }
  return c
      .Exec(
          "UPDATE receivables SET status = 'cancelled', cancel_entry_id = $1, "
          "version = version + 1, updated_at_us = $2 WHERE id = $3",
          {cancel_entry, now_us, r->id})
      .status();
}

}  // namespace gridmis::accounts
