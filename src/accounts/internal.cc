#include "accounts/internal.h"

#include <algorithm>
#include <cstdio>

namespace gridmis::accounts::internal {

using store::Connection;
using store::Row;
using store::Value;

namespace {

Date ParseStoredDate(std::string_view s) {
  auto d = Date::Parse(s);
  return d.ok() ? *d : Date{};
}

YearMonth ParseStoredPeriod(std::string_view s) {
  auto p = YearMonth::Parse(s);
  return p.ok() ? *p : YearMonth{};
}

std::string InIds(const std::vector<int64_t>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(ids[i]);
  }
  return s;
}

}  // namespace

const char* const kReceivableCols =
    "r.id, r.bill_id, r.bill_no, r.customer_id, r.account_id, r.department_id, "
    "r.metering_point_id, r.period, r.category, r.amount_fen, r.principal_paid_fen, "
    "r.late_fee_paid_fen, r.late_fee_waived_fen, r.issue_date, r.due_date, r.status, "
    "r.settled_date, r.debit_batch_id, r.issue_entry_id, r.cancel_entry_id, r.version, "
    "r.created_at_us, r.updated_at_us";

ReceivableRow ReadReceivable(const Row& row, int i) {
  ReceivableRow r;
  r.id = row.Int(i + 0);
  r.bill_id = row.Int(i + 1);
  r.bill_no = row.Text(i + 2);
  r.customer_id = row.Int(i + 3);
  r.account_id = row.OptInt(i + 4);
  r.department_id = row.Int(i + 5);
  r.metering_point_id = row.OptInt(i + 6);
  r.period = ParseStoredPeriod(row.TextView(i + 7));
  r.category = row.Text(i + 8);
  r.amount = Money::FromFen(row.Int(i + 9));
  r.principal_paid = Money::FromFen(row.Int(i + 10));
  r.late_fee_paid = Money::FromFen(row.Int(i + 11));
  r.late_fee_waived = Money::FromFen(row.Int(i + 12));
  r.issue_date = ParseStoredDate(row.TextView(i + 13));
  r.due_date = ParseStoredDate(row.TextView(i + 14));
  r.status = row.Text(i + 15);
  r.settled_date = row.OptText(i + 16);
  r.debit_batch_id = row.OptInt(i + 17);
  r.issue_entry_id = row.OptInt(i + 18);
  r.cancel_entry_id = row.OptInt(i + 19);
  r.version = row.Int(i + 20);
  r.created_at_us = row.Int(i + 21);
  r.updated_at_us = row.Int(i + 22);
  return r;
}

namespace {
Result<std::optional<ReceivableRow>> LoadOneReceivable(Connection& c, const char* where,
                                                       int64_t key) {
  std::optional<ReceivableRow> out;
  RETURN_IF_ERROR(
      c.QueryOne(std::string("SELECT ") + kReceivableCols + " FROM receivables r WHERE " + where,
                 {key}, [&](const Row& row) { out = ReadReceivable(row); })
          .status());
  return out;
}
}  // namespace

Result<std::optional<ReceivableRow>> LoadReceivable(Connection& c, int64_t id) {
  return LoadOneReceivable(c, "r.id = $1", id);
}

Result<std::optional<ReceivableRow>> LoadReceivableByBill(Connection& c, int64_t bill_id) {
  return LoadOneReceivable(c, "r.bill_id = $1", bill_id);
}

Result<std::vector<ReceivableRow>> LoadOpenReceivables(Connection& c, int64_t customer_id) {
  std::vector<ReceivableRow> out;
  RETURN_IF_ERROR(c.Query(std::string("SELECT ") + kReceivableCols +
                              " FROM receivables r WHERE r.customer_id = $1 AND r.status = 'open' "
                              "ORDER BY r.period, r.due_date, r.id",
                          {customer_id},
                          [&](const Row& row) { out.push_back(ReadReceivable(row)); }));
  return out;
}

Result<std::map<int64_t, std::vector<PrincipalPayment>>> LoadPrincipalHistory(
    Connection& c, const std::vector<int64_t>& ids) {
  std::map<int64_t, std::vector<PrincipalPayment>> out;
  for (size_t start = 0; start < ids.size(); start += 500) {
    std::vector<int64_t> part(
        ids.begin() + static_cast<std::ptrdiff_t>(start),
        ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), start + 500)));
    RETURN_IF_ERROR(c.Query(
        "SELECT receivable_id, pay_date, principal_fen FROM payment_allocations "
        "WHERE receivable_id IN (" +
            InIds(part) + ") AND reversed = 0 AND principal_fen <> 0",
        {}, [&](const Row& row) {
          out[row.Int(0)].push_back({ParseStoredDate(row.TextView(1)), Money::FromFen(row.Int(2))});
        }));
  }
  return out;
}

Result<LateFee> ReceivableLateFee(const LateFeePolicy& policy, const ReceivableRow& r,
                                  const std::vector<PrincipalPayment>& history, Date as_of) {
  LateFeeInput in;
  in.principal = r.amount;
  in.bill_period = r.period;
  in.due_date = r.due_date;
  in.residential = IsResidentialCategory(r.category);
  in.payments = history;
  in.as_of = as_of;
  ASSIGN_OR_RETURN(Money accrued, ComputeLateFee(policy, in));
  Money due = accrued - r.late_fee_paid - r.late_fee_waived;
  if (due < Money()) due = Money();
  return LateFee{accrued, due};
}

Result<Dues> CustomerDues(Connection& c, const LateFeePolicy& policy, int64_t customer_id,
                          Date as_of) {
  ASSIGN_OR_RETURN(auto open, LoadOpenReceivables(c, customer_id));
  std::vector<int64_t> ids;
  for (const auto& r : open) ids.push_back(r.id);
  ASSIGN_OR_RETURN(auto hist, LoadPrincipalHistory(c, ids));
  Dues d;
  for (auto& r : open) {
    ASSIGN_OR_RETURN(LateFee fee, ReceivableLateFee(policy, r, hist[r.id], as_of));
    Money principal = r.outstanding();
    d.principal += principal;
    d.late_fee += fee.due;
    d.bills.push_back({std::move(r), principal, fee});
  }
  return d;
}

Result<Money> LockCustomer(Connection& c, int64_t customer_id, int64_t now_us) {
  ASSIGN_OR_RETURN(
      int64_t credit,
      c.QueryInt("INSERT INTO customer_balances (customer_id, credit_fen, lock_seq, updated_at_us) "
                 "VALUES ($1, 0, 1, $2) ON CONFLICT (customer_id) DO UPDATE SET "
                 "lock_seq = customer_balances.lock_seq + 1 RETURNING credit_fen",
                 {customer_id, now_us}));
  return Money::FromFen(credit);
}

Result<Money> CustomerCredit(Connection& c, int64_t customer_id) {
  auto v =
      c.QueryInt("SELECT credit_fen FROM customer_balances WHERE customer_id = $1", {customer_id});
  if (!v.ok() && v.status().code() == StatusCode::kNotFound) return Money();
  if (!v.ok()) return v.status();
  return Money::FromFen(*v);
}

Status CheckNotFrozen(Connection& c, int64_t customer_id, std::optional<int64_t> except_batch) {
  std::string message;
  RETURN_IF_ERROR(
      c.QueryOne("SELECT r.bill_no, b.batch_no, b.export_date, ch.name FROM receivables r "
                 "JOIN debit_batches b ON b.id = r.debit_batch_id "
                 "JOIN payment_channels ch ON ch.id = b.channel_id "
                 "WHERE r.customer_id = $1 AND r.status = 'open' AND r.debit_batch_id IS NOT NULL "
                 "AND r.debit_batch_id <> $2 ORDER BY r.id LIMIT 1",
                 {customer_id, except_batch.value_or(0)},
                 [&](const Row& row) {
                   message = "bill " + row.Text(0) + " is in direct-debit batch " + row.Text(1) +
                             " sent to " + row.Text(3) + " on " + row.Text(2) +
                             " (代扣在途); payments are refused until the bank's return file is "
                             "imported or the batch is cancelled";
                 })
          .status());
  if (!message.empty()) return FailedPrecondition(message);
  return Status::Ok();
}

Result<Applied> ApplyMoney(Connection& c, const LateFeePolicy& policy, const MoneyIn& in,
                           int64_t now_us) {
  Applied out;
  if (in.amount <= Money()) return out;
  ASSIGN_OR_RETURN(auto open, LoadOpenReceivables(c, in.customer_id));
  if (in.skip_frozen) {
    std::erase_if(open, [](const ReceivableRow& r) { return r.debit_batch_id.has_value(); });
  }
  std::vector<int64_t> ids;
  for (const auto& r : open) ids.push_back(r.id);
  ASSIGN_OR_RETURN(auto hist, LoadPrincipalHistory(c, ids));
  Money remaining = in.amount;
  auto target =
      in.target
          ? std::find_if(open.begin(), open.end(),
                         [&](const ReceivableRow& r) { return r.id == in.target->receivable_id; })
          : open.end();
  if (target != open.end()) {
    // The exported fee, unless a waiver since has left less due.
    ASSIGN_OR_RETURN(LateFee fee,
                     ReceivableLateFee(policy, *target, hist[target->id], in.pay_date));
    Money pay_fee = std::min({remaining, in.target->late_fee, fee.due});
    remaining -= pay_fee;
    Money pay_principal = std::min({remaining, in.target->principal, target->outstanding()});
    remaining -= pay_principal;
    if (pay_fee != Money() || pay_principal != Money()) {
      out.lines.push_back({target->id, target->bill_id, target->bill_no, target->period,
                           pay_principal, pay_fee, target->outstanding() - pay_principal});
      out.principal += pay_principal;
      out.late_fee += pay_fee;
    }
    open.erase(target);
  }
  for (const auto& r : open) {
    if (remaining <= Money()) break;
    ASSIGN_OR_RETURN(LateFee fee, ReceivableLateFee(policy, r, hist[r.id], in.pay_date));
    Money pay_fee = std::min(remaining, fee.due);
    remaining -= pay_fee;
    Money pay_principal = std::min(remaining, r.outstanding());
    remaining -= pay_principal;
    if (pay_fee == Money() && pay_principal == Money()) continue;
    out.lines.push_back({r.id, r.bill_id, r.bill_no, r.period, pay_principal, pay_fee,
                         r.outstanding() - pay_principal});
    out.principal += pay_principal;
    out.late_fee += pay_fee;
  }
  Money posted = in.amount;
  if (in.keep_remainder) {
    posted = in.amount - remaining;
  } else if (remaining > Money()) {
    if (in.remainder_to_prepaid) {
      std::vector<int64_t> remote;
      RETURN_IF_ERROR(
          c.Query("SELECT id FROM prepaid_accounts WHERE customer_id = $1 AND status = 'active' "
                  "AND mode = 'remote' ORDER BY id",
                  {in.customer_id}, [&](const Row& row) { remote.push_back(row.Int(0)); }));
      if (remote.size() == 1) out.prepaid_account_id = remote[0];
    }
    if (out.prepaid_account_id) {
      out.prepaid = remaining;
    } else {
      out.credit = remaining;
    }
  }
  if (posted <= Money()) return out;

  JournalEntry e;
  e.kind = in.entry_kind;
  e.business_date = in.business_date;
  e.department_id = in.department_id;
  e.customer_id = in.customer_id;
  e.ref_type = in.ref_type;
  e.ref_id = in.ref_id;
  e.memo = in.memo;
  e.created_by = in.created_by;
  std::optional<int64_t> debit_customer;
  if (HasCustomerSubledger(in.debit_account)) debit_customer = in.customer_id;
  e.lines.push_back({in.debit_account, debit_customer, posted, Money()});
  e.lines.push_back({std::string(kReceivable), in.customer_id, Money(), out.principal});
  e.lines.push_back({std::string(kLateFeeIncome), in.customer_id, Money(), out.late_fee});
  e.lines.push_back({std::string(kCustomerCredit), in.customer_id, Money(), out.credit});
  e.lines.push_back({std::string(kPrepaidLiability), in.customer_id, Money(), out.prepaid});
  ASSIGN_OR_RETURN(int64_t entry_id, PostEntry(c, e, now_us));
  out.entry_id = entry_id;

  for (const auto& l : out.lines) {
    // A receivable frozen in a direct-debit batch since it was read (the export does not take
    // the customer's lock) is not paid twice: the update misses it and the payment fails.
    ASSIGN_OR_RETURN(
        int64_t n,
        c.Exec("UPDATE receivables SET principal_paid_fen = principal_paid_fen + $1, "
               "late_fee_paid_fen = late_fee_paid_fen + $2, "
               "status = CASE WHEN amount_fen - principal_paid_fen - $1 <= 0 THEN 'paid' "
               "ELSE 'open' END, "
               "settled_date = CASE WHEN amount_fen - principal_paid_fen - $1 <= 0 THEN $3 "
               "ELSE NULL END, version = version + 1, updated_at_us = $4 "
               "WHERE id = $5 AND status = 'open' AND debit_batch_id IS NULL",
               {l.principal.fen(), l.late_fee.fen(), in.pay_date.ToString(), now_us,
                l.receivable_id}));
    if (n != 1) {
      return Aborted("bill " + l.bill_no +
                     " changed while the payment was being applied (frozen in a direct-debit "
                     "batch or paid); nothing was posted, try again");
    }
    RETURN_IF_ERROR(c.Exec("INSERT INTO payment_allocations (receivable_id, payment_id, source, "
                           "entry_id, pay_date, principal_fen, late_fee_fen, created_at_us) "
                           "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                           {l.receivable_id, in.payment_id, in.alloc_source, entry_id,
                            in.pay_date.ToString(), l.principal.fen(), l.late_fee.fen(), now_us})
                        .status());
  }
  int64_t credit_change = out.credit.fen();
  if (in.debit_account == kCustomerCredit) credit_change -= posted.fen();
  if (credit_change != 0) {
    RETURN_IF_ERROR(c.Exec("UPDATE customer_balances SET credit_fen = credit_fen + $1, "
                           "updated_at_us = $2 WHERE customer_id = $3",
                           {credit_change, now_us, in.customer_id})
                        .status());
  }
  if (out.prepaid_account_id) {
    ASSIGN_OR_RETURN(auto p, LoadPrepaid(c, *out.prepaid_account_id));
    if (!p) return Internal("prepaid account vanished");
    PrepaidChange ch;
    ch.kind = "payment";
    ch.delta = out.prepaid;
    ch.business_date = in.business_date;
    ch.payment_id = in.payment_id;
    ch.entry_id = entry_id;
    ch.created_by = in.created_by;
    RETURN_IF_ERROR(ChangePrepaidBalance(c, *p, ch, now_us).status());
  }
  return out;
}

Result<Applied> ApplyCredit(Connection& c, const LateFeePolicy& policy, int64_t customer_id,
                            int64_t department_id, Date as_of, std::optional<int64_t> created_by,
                            int64_t now_us) {
  ASSIGN_OR_RETURN(Money credit, CustomerCredit(c, customer_id));
  if (credit <= Money()) return Applied{};
  MoneyIn in;
  in.customer_id = customer_id;
  in.department_id = department_id;
  in.amount = credit;
  in.pay_date = as_of;
  in.business_date = as_of;
  in.debit_account = std::string(kCustomerCredit);
  in.entry_kind = "credit_apply";
  in.memo = "溢缴款抵扣电费";
  in.ref_type = "customer";
  in.ref_id = customer_id;
  in.alloc_source = "credit";
  in.created_by = created_by;
  in.keep_remainder = true;
  return ApplyMoney(c, policy, in, now_us);
}

// ---- Prepaid ----

const char* const kPrepaidCols =
    "p.id, p.metering_point_id, p.customer_id, p.department_id, p.mode, p.card_no, "
    "p.balance_fen, p.purchase_count, p.total_purchased_fen, p.warn_below_fen, "
    "p.disconnect_below_fen, p.reconnect_above_fen, p.keep_power, p.control_state, p.status, "
    "p.version, p.created_at_us, p.updated_at_us";

PrepaidRow ReadPrepaid(const Row& row, int i) {
  PrepaidRow p;
  p.id = row.Int(i + 0);
  p.metering_point_id = row.Int(i + 1);
  p.customer_id = row.Int(i + 2);
  p.department_id = row.Int(i + 3);
  p.mode = row.Text(i + 4);
  p.card_no = row.OptText(i + 5);
  p.balance = Money::FromFen(row.Int(i + 6));
  p.purchase_count = row.Int(i + 7);
  p.total_purchased = Money::FromFen(row.Int(i + 8));
  p.warn_below = Money::FromFen(row.Int(i + 9));
  p.disconnect_below = Money::FromFen(row.Int(i + 10));
  p.reconnect_above = Money::FromFen(row.Int(i + 11));
  p.keep_power = row.Bool(i + 12);
  p.control_state = row.Text(i + 13);
  p.status = row.Text(i + 14);
  p.version = row.Int(i + 15);
  p.created_at_us = row.Int(i + 16);
  p.updated_at_us = row.Int(i + 17);
  return p;
}

namespace {
Result<std::optional<PrepaidRow>> LoadOnePrepaid(Connection& c, const char* where, int64_t key) {
  std::optional<PrepaidRow> out;
  RETURN_IF_ERROR(
      c.QueryOne(std::string("SELECT ") + kPrepaidCols + " FROM prepaid_accounts p WHERE " + where,
                 {key}, [&](const Row& row) { out = ReadPrepaid(row); })
          .status());
  return out;
}
}  // namespace

Result<std::optional<PrepaidRow>> LoadPrepaid(Connection& c, int64_t id) {
  return LoadOnePrepaid(c, "p.id = $1", id);
}

Result<std::optional<PrepaidRow>> LoadPrepaidByPoint(Connection& c, int64_t point_id) {
  return LoadOnePrepaid(c, "p.metering_point_id = $1", point_id);
}

std::string TargetControlState(const PrepaidRow& p, Money balance) {
  if (p.mode != "remote") return "normal";
  if (balance < p.disconnect_below) return p.keep_power ? "warned" : "disconnected";
  if (p.control_state == "disconnected" && balance <= p.reconnect_above) return "disconnected";
  if (balance < p.warn_below) return "warned";
  return "normal";
}

Result<int64_t> ChangePrepaidBalance(Connection& c, PrepaidRow& p, const PrepaidChange& ch,
                                     int64_t now_us) {
  Money balance = p.balance + ch.delta;
  std::string target = ch.evaluate_control ? TargetControlState(p, balance) : p.control_state;
  int64_t purchases = p.purchase_count + (ch.count_purchase ? 1 : 0);
  Money purchased = p.total_purchased + (ch.kind == "purchase" ? ch.delta : Money());
  ASSIGN_OR_RETURN(
      int64_t txn_id,
      c.InsertReturningId(
          "INSERT INTO prepaid_transactions (prepaid_account_id, kind, amount_fen, "
          "balance_after_fen, business_date, method, purchase_count, energy_dwh, "
          "charge_to_date_fen, receivable_id, payment_id, entry_id, created_by, created_at_us, "
          "request_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) "
          "RETURNING id",
          {p.id, ch.kind, ch.delta.fen(), balance.fen(), ch.business_date.ToString(), ch.method,
           ch.count_purchase ? Value(purchases) : Value(), ch.energy_dwh, ch.charge_to_date_fen,
           ch.receivable_id, ch.payment_id, ch.entry_id, ch.created_by, now_us, ch.request_id}));
  RETURN_IF_ERROR(c.Exec("UPDATE prepaid_accounts SET balance_fen = $1, purchase_count = $2, "
                         "total_purchased_fen = $3, control_state = $4, version = version + 1, "
                         "updated_at_us = $5 WHERE id = $6",
                         {balance.fen(), purchases, purchased.fen(), target, now_us, p.id})
                      .status());
  std::string kind;
  std::string reason;
  if (target != p.control_state) {
    if (target == "disconnected") {
      kind = "disconnect";
      reason = "余额 " + balance.ToYuanString() + " 元低于停电阈值 " +
               p.disconnect_below.ToYuanString() + " 元";
    } else if (p.control_state == "disconnected") {
      kind = "reconnect";
      reason = "余额 " + balance.ToYuanString() + " 元高于复电阈值 " +
               p.reconnect_above.ToYuanString() + " 元";
    } else if (target == "warned") {
      kind = "warn";
      reason =
          "余额 " + balance.ToYuanString() + " 元低于预警值 " + p.warn_below.ToYuanString() + " 元";
      if (balance < p.disconnect_below && p.keep_power) reason += "（保电户，不停电）";
    }
  }
  if (!kind.empty()) {
    if (!ch.reason.empty()) reason += "; " + ch.reason;
    RETURN_IF_ERROR(c.Exec("INSERT INTO control_requests (metering_point_id, prepaid_account_id, "
                           "department_id, kind, reason, balance_fen, status, created_by, "
                           "created_at_us, updated_at_us) "
                           "VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $8)",
                           {p.metering_point_id, p.id, p.department_id, kind, reason, balance.fen(),
                            ch.created_by, now_us})
                        .status());
  }
  p.balance = balance;
  p.purchase_count = purchases;
  p.total_purchased = purchased;
  p.control_state = target;
  p.version += 1;
  p.updated_at_us = now_us;
  return txn_id;
}

std::string ReceiptNo(int64_t payment_id, std::string_view clearing_date) {
  std::string digits;
  for (char ch : clearing_date) {
    if (ch != '-') digits += ch;
  }
  char id[32];
  std::snprintf(id, sizeof id, "%08lld", static_cast<long long>(payment_id));
  return "SK" + digits + "-" + id;
}

}  // namespace gridmis::accounts::internal
