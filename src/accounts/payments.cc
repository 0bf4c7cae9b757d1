// Payments inside a write transaction: taking money, the receipt, reversal. Shared by the
// counter (accounts.cc), the channels and the direct debits (channel.cc).
#include <nlohmann/json.hpp>

#include "accounts/internal.h"
#include "org/audit.h"

namespace gridmis::accounts::internal {

using nlohmann::json;
using store::Connection;
using store::Row;
using store::Value;

namespace {

Date StoredDate(std::string_view s) {
  auto d = Date::Parse(s);
  return d.ok() ? *d : Date{};
}

const char* const kCustomerCols =
    "cu.id, cu.customer_no, cu.name, cu.address, cu.category, cu.department_id, "
    "cu.account_manager_id";

CustomerInfo ReadCustomer(const Row& r) {
  return {r.Int(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4), r.Int(5), r.OptInt(6)};
}

const char* const kPaymentCols =
    "p.id, p.customer_id, p.department_id, p.source, p.channel_id, p.method, p.serial, "
    "p.amount_fen, p.tendered_fen, p.change_fen, p.principal_fen, p.late_fee_fen, p.credit_fen, "
    "p.prepaid_fen, p.prepaid_account_id, p.pay_date, p.txn_time, p.clearing_date, p.entry_id, "
    "p.status, p.reversal_entry_id, p.reversed_at_us, p.reversal_reason, p.created_by, "
    "p.created_at_us, p.version, p.request_id";

PaymentRow ReadPayment(const Row& r) {
  PaymentRow p;
  p.id = r.Int(0);
  p.customer_id = r.Int(1);
  p.department_id = r.Int(2);
  p.source = r.Text(3);
  p.channel_id = r.OptInt(4);
  p.method = r.Text(5);
  p.serial = r.OptText(6);
  p.amount = Money::FromFen(r.Int(7));
  if (!r.IsNull(8)) p.tendered = Money::FromFen(r.Int(8));
  p.change = Money::FromFen(r.Int(9));
  p.principal = Money::FromFen(r.Int(10));
  p.late_fee = Money::FromFen(r.Int(11));
  p.credit = Money::FromFen(r.Int(12));
  p.prepaid = Money::FromFen(r.Int(13));
  p.prepaid_account_id = r.OptInt(14);
  p.pay_date = StoredDate(r.TextView(15));
  p.txn_time = r.OptText(16);
  p.clearing_date = StoredDate(r.TextView(17));
  p.entry_id = r.OptInt(18);
  p.status = r.Text(19);
  p.reversal_entry_id = r.OptInt(20);
  p.reversed_at_us = r.OptInt(21);
  p.reversal_reason = r.OptText(22);
  p.created_by = r.OptInt(23);
  p.created_at_us = r.Int(24);
  p.version = r.Int(25);
  p.request_id = r.OptText(26);
  return p;
}

Result<std::optional<CustomerInfo>> LoadCustomerWhere(Connection& c, const char* where, Value key) {
  std::optional<CustomerInfo> out;
  RETURN_IF_ERROR(
      c.QueryOne(std::string("SELECT ") + kCustomerCols + " FROM customers cu WHERE " + where,
                 {std::move(key)}, [&](const Row& r) { out = ReadCustomer(r); })
          .status());
  return out;
}

}  // namespace

Result<std::optional<CustomerInfo>> LoadCustomer(Connection& c, int64_t id) {
  return LoadCustomerWhere(c, "cu.id = $1", id);
}

Result<std::optional<CustomerInfo>> LoadCustomerByNo(Connection& c, std::string_view no) {
  return LoadCustomerWhere(c, "cu.customer_no = $1", std::string(no));
}

Result<CustomerInfo> LoadVisibleCustomer(Connection& c, const org::Actor& actor, int64_t id) {
  ASSIGN_OR_RETURN(auto cu, LoadCustomer(c, id));
  if (!cu || !actor.CanSee(cu->department_id, cu->account_manager_id)) {
    return NotFound("customer " + std::to_string(id) + " not found");
  }
  return *cu;
}

std::string CustomerScopeSql(const org::Actor& actor, std::string_view dept_col) {
  return actor.ScopeSql(dept_col, "cu.account_manager_id");
}

Result<std::optional<PaymentRow>> LoadPayment(Connection& c, int64_t id) {
  std::optional<PaymentRow> out;
  RETURN_IF_ERROR(
      c.QueryOne(std::string("SELECT ") + kPaymentCols + " FROM payments p WHERE p.id = $1", {id},
                 [&](const Row& r) { out = ReadPayment(r); })
          .status());
  return out;
}

Result<std::optional<PaymentRow>> LoadPaymentBySerial(Connection& c, int64_t channel_id,
                                                      std::string_view source,
                                                      std::string_view serial) {
  std::optional<PaymentRow> out;
  RETURN_IF_ERROR(
      c.QueryOne(std::string("SELECT ") + kPaymentCols +
                     " FROM payments p WHERE p.channel_id = $1 AND p.source = $2 AND p.serial = $3",
                 {channel_id, std::string(source), std::string(serial)},
                 [&](const Row& r) { out = ReadPayment(r); })
          .status());
  return out;
}

Result<std::optional<PaymentRow>> LoadPaymentByRequest(Connection& c, int64_t created_by,
                                                       std::string_view request_id) {
  std::optional<PaymentRow> out;
  RETURN_IF_ERROR(c.QueryOne(std::string("SELECT ") + kPaymentCols +
                                 " FROM payments p WHERE p.created_by = $1 AND p.request_id = $2",
                             {created_by, std::string(request_id)},
                             [&](const Row& r) { out = ReadPayment(r); })
                      .status());
  return out;
}

Result<int64_t> InsertPayment(Connection& c, const PaymentRow& p, int64_t now_us) {
  return c.InsertReturningId(
      "INSERT INTO payments (customer_id, department_id, source, channel_id, method, serial, "
      "amount_fen, tendered_fen, change_fen, pay_date, txn_time, clearing_date, status, "
      "created_by, created_at_us, request_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
      "$11, $12, 'posted', $13, $14, $15) RETURNING id",
      {p.customer_id, p.department_id, p.source, p.channel_id, p.method, p.serial, p.amount.fen(),
       p.tendered ? Value(p.tendered->fen()) : Value(), p.change.fen(), p.pay_date.ToString(),
       p.txn_time, p.clearing_date.ToString(), p.created_by, now_us, p.request_id});
}

Status RecordApplied(Connection& c, int64_t payment_id, const Applied& a) {
  return c
      .Exec(
          "UPDATE payments SET principal_fen = $1, late_fee_fen = $2, credit_fen = $3, "
          "prepaid_fen = $4, prepaid_account_id = $5, entry_id = $6 WHERE id = $7",
          {a.principal.fen(), a.late_fee.fen(), a.credit.fen(), a.prepaid.fen(),
           a.prepaid_account_id, a.entry_id, payment_id})
      .status();
}

Status Audit(Connection& c, const org::Actor& actor, std::string_view action,
             std::string_view entity, int64_t id, const std::string& before,
             const std::string& after, int64_t department_id, int64_t now_us) {
  return org::WriteAudit(
      c, actor,
      {std::string(action), std::string(entity), std::to_string(id), before, after, department_id},
      now_us);
}

Result<int64_t> TakePayment(Connection& c, const LateFeePolicy& policy, const org::Actor& actor,
                            PaymentRow p, const std::string& debit_account, Date business_date,
                            int64_t now_us, std::optional<MoneyIn::Target> target) {
  RETURN_IF_ERROR(LockCustomer(c, p.customer_id, now_us).status());
  const bool debit = p.source == "debit";
  if (!debit) RETURN_IF_ERROR(CheckNotFrozen(c, p.customer_id));
  ASSIGN_OR_RETURN(p.id, InsertPayment(c, p, now_us));
  MoneyIn in;
  in.customer_id = p.customer_id;
  in.department_id = p.department_id;
  in.amount = p.amount;
  in.pay_date = p.pay_date;
  in.business_date = business_date;
  in.debit_account = debit_account;
  in.entry_kind = "payment";
  in.memo = "收费 " + ReceiptNo(p.id, p.clearing_date.ToString());
  if (p.serial) in.memo += " 流水号 " + *p.serial;
  in.ref_type = "payment";
  in.ref_id = p.id;
  in.payment_id = p.id;
  in.created_by = p.created_by;
  in.skip_frozen = debit;
  in.target = target;
  ASSIGN_OR_RETURN(Applied applied, ApplyMoney(c, policy, in, now_us));
  RETURN_IF_ERROR(RecordApplied(c, p.id, applied));
  ASSIGN_OR_RETURN(Receipt receipt, LoadReceipt(c, p.id));
  RETURN_IF_ERROR(Audit(c, actor, "create", "payment", p.id, "", ToJson(receipt).dump(),
                        p.department_id, now_us));
  return p.id;
}

Result<Receipt> LoadReceipt(Connection& c, int64_t payment_id) {
  ASSIGN_OR_RETURN(auto p, LoadPayment(c, payment_id));
  if (!p) return NotFound("payment " + std::to_string(payment_id) + " not found");
  Receipt r;
  r.payment_id = p->id;
  r.receipt_no = ReceiptNo(p->id, p->clearing_date.ToString());
  r.customer_id = p->customer_id;
  r.department_id = p->department_id;
  r.source = p->source;
  r.channel_id = p->channel_id;
  r.method = p->method;
  r.serial = p->serial;
  r.request_id = p->request_id;
  r.amount = p->amount;
  r.tendered = p->tendered;
  r.change = p->change;
  r.principal = p->principal;
  r.late_fee = p->late_fee;
  r.credit = p->credit;
  r.prepaid = p->prepaid;
  r.prepaid_account_id = p->prepaid_account_id;
  r.pay_date = p->pay_date;
  r.txn_time = p->txn_time;
  r.clearing_date = p->clearing_date;
  r.status = p->status;
  r.reversed_at_us = p->reversed_at_us;
  r.reversal_reason = p->reversal_reason;
  r.created_at_us = p->created_at_us;
  r.version = p->version;
  RETURN_IF_ERROR(c.QueryOne("SELECT cu.customer_no, cu.name, cu.address, d.name, "
                             "COALESCE(u.username, ''), ch.code FROM payments p "
                             "JOIN customers cu ON cu.id = p.customer_id "
                             "LEFT JOIN departments d ON d.id = p.department_id "
                             "LEFT JOIN users u ON u.id = p.created_by "
                             "LEFT JOIN payment_channels ch ON ch.id = p.channel_id "
                             "WHERE p.id = $1",
                             {payment_id},
                             [&](const Row& row) {
                               r.customer_no = row.Text(0);
                               r.customer_name = row.Text(1);
                               r.customer_address = row.Text(2);
                               r.department_name = row.Text(3);
                               r.cashier = row.Text(4);
                               r.channel_code = row.OptText(5);
                             })
                      .status());
  RETURN_IF_ERROR(
      c.Query("SELECT a.receivable_id, r.bill_no, r.period, a.principal_fen, a.late_fee_fen "
              "FROM payment_allocations a JOIN receivables r ON r.id = a.receivable_id "
              "WHERE a.payment_id = $1 ORDER BY a.id",
              {payment_id}, [&](const Row& row) {
                ReceiptLine l;
                l.receivable_id = row.Int(0);
                l.bill_no = row.Text(1);
                auto period = YearMonth::Parse(row.TextView(2));
                if (period.ok()) l.period = *period;
                l.principal = Money::FromFen(row.Int(3));
                l.late_fee = Money::FromFen(row.Int(4));
                r.lines.push_back(std::move(l));
              }));
  return r;
}

Status ReversePaymentTx(Connection& c, const PaymentRow& p, const org::Actor& actor,
                        const std::string& reason, Date today, int64_t now_us) {
  ASSIGN_OR_RETURN(Money credit, LockCustomer(c, p.customer_id, now_us));
  ASSIGN_OR_RETURN(Receipt before, LoadReceipt(c, p.id));
  std::string problem;
  RETURN_IF_ERROR(
      c.Query("SELECT r.bill_no, r.status, a.reversed FROM payment_allocations a "
              "JOIN receivables r ON r.id = a.receivable_id WHERE a.payment_id = $1",
              {p.id}, [&](const Row& row) {
                if (problem.empty() && (row.TextView(1) == "cancelled" || row.Int(2) != 0)) {
                  problem = "bill " + row.Text(0) +
                            " was cancelled after this payment; its money is in the "
                            "customer's credit, so the payment cannot be reversed";
                }
              }));
  if (!problem.empty()) return FailedPrecondition(problem);
  if (credit < p.credit) {
    return FailedPrecondition("the overpayment of " + p.credit.ToYuanString() +
                              " yuan has since been applied to other bills (credit left " +
                              credit.ToYuanString() + "); the payment cannot be reversed");
  }
  if (!p.entry_id) return Internal("payment " + std::to_string(p.id) + " has no journal entry");
  const std::string receipt_no = ReceiptNo(p.id, p.clearing_date.ToString());
  const std::optional<int64_t> author =
      actor.user_id > 0 ? std::optional<int64_t>(actor.user_id) : std::nullopt;
  ASSIGN_OR_RETURN(int64_t reversal, PostReversal(c, *p.entry_id, "payment_reversal", today, author,
                                                  "冲正收费 " + receipt_no, now_us));
  std::vector<std::tuple<int64_t, int64_t, int64_t>> allocs;
  RETURN_IF_ERROR(c.Query(
      "SELECT receivable_id, principal_fen, late_fee_fen FROM "
      "payment_allocations WHERE payment_id = $1 AND reversed = 0",
      {p.id}, [&](const Row& row) { allocs.emplace_back(row.Int(0), row.Int(1), row.Int(2)); }));
  for (const auto& [rid, principal, fee] : allocs) {
    RETURN_IF_ERROR(c.Exec("UPDATE receivables SET principal_paid_fen = principal_paid_fen - $1, "
                           "late_fee_paid_fen = late_fee_paid_fen - $2, status = 'open', "
                           "settled_date = NULL, version = version + 1, updated_at_us = $3 "
                           "WHERE id = $4",
                           {principal, fee, now_us, rid})
                        .status());
  }
  RETURN_IF_ERROR(
      c.Exec("UPDATE payment_allocations SET reversed = 1 WHERE payment_id = $1", {p.id}).status());
  if (p.credit > Money()) {
    RETURN_IF_ERROR(c.Exec("UPDATE customer_balances SET credit_fen = credit_fen - $1, "
                           "updated_at_us = $2 WHERE customer_id = $3",
                           {p.credit.fen(), now_us, p.customer_id})
                        .status());
  }
  if (p.prepaid > Money() && p.prepaid_account_id) {
    ASSIGN_OR_RETURN(auto pa, LoadPrepaid(c, *p.prepaid_account_id));
    if (!pa) return Internal("prepaid account vanished");
    PrepaidChange ch;
    ch.kind = "payment_reversal";
    ch.delta = -p.prepaid;
    ch.business_date = today;
    ch.payment_id = p.id;
    ch.entry_id = reversal;
    ch.created_by = author;
    ch.reason = "收费 " + receipt_no + " 冲正";
    RETURN_IF_ERROR(ChangePrepaidBalance(c, *pa, ch, now_us).status());
  }
  RETURN_IF_ERROR(
      c.Exec("UPDATE payments SET status = 'reversed', reversal_entry_id = $1, "
             "reversed_at_us = $2, reversed_by = $3, reversal_reason = $4, "
             "version = version + 1 WHERE id = $5",
             {reversal, now_us, actor.user_id > 0 ? Value(actor.user_id) : Value(), reason, p.id})
          .status());
  ASSIGN_OR_RETURN(Receipt after, LoadReceipt(c, p.id));
  return Audit(c, actor, "reverse", "payment", p.id, ToJson(before).dump(), ToJson(after).dump(),
               p.department_id, now_us);
}

}  // namespace gridmis::accounts::internal
