#include "accounts/accounts.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "accounts/internal.h"
#include "accounts/posting.h"
#include "grid/records.h"

namespace gridmis::accounts {

using internal::CustomerInfo;
using internal::ReceivableRow;
using nlohmann::json;
using org::Actor;
using store::Connection;
using store::Row;
using store::Value;

LateFeePolicy AccountsContext::Policy() const { return policy ? *policy : CurrentLateFeePolicy(); }

namespace {

std::string Yuan(Money m) { return m.ToYuanString(); }
json OptText(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }
json OptInt(const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); }
json OptYuan(const std::optional<Money>& v) { return v ? json(Yuan(*v)) : json(nullptr); }

Date StoredDate(std::string_view s) {
  auto d = Date::Parse(s);
  return d.ok() ? *d : Date{};
}

std::optional<int64_t> Author(const Actor& a) {
  return a.user_id > 0 ? std::optional<int64_t>(a.user_id) : std::nullopt;
}

// The department condition for `column`: the subtree of `department_id` when given.
Result<std::string> DepartmentFilter(Connection& c, std::optional<int64_t> department_id,
                                     std::string_view column) {
  if (!department_id) return std::string("1=1");
  ASSIGN_OR_RETURN(auto ids, grid::DepartmentSubtree(c, *department_id));
  return grid::InSql(column, ids);
}

Receivable ToPublic(const ReceivableRow& r, const internal::LateFee& fee, Date as_of) {
  Receivable out;
  out.id = r.id;
  out.bill_id = r.bill_id;
  out.bill_no = r.bill_no;
  out.customer_id = r.customer_id;
  out.account_id = r.account_id;
  out.department_id = r.department_id;
  out.metering_point_id = r.metering_point_id;
  out.period = r.period;
  out.category = r.category;
  out.amount = r.amount;
  out.principal_paid = r.principal_paid;
  out.outstanding = r.status == "cancelled" ? Money() : r.outstanding();
  out.late_fee_paid = r.late_fee_paid;
  out.late_fee_waived = r.late_fee_waived;
  if (r.status == "open") {
    out.late_fee_accrued = fee.accrued;
    out.late_fee_due = fee.due;
  } else {
    out.late_fee_accrued = r.late_fee_paid + r.late_fee_waived;
  }
  out.as_of = as_of;
  out.issue_date = r.issue_date;
  out.due_date = r.due_date;
  out.days_overdue = r.status == "open" ? DaysOverdue(r.due_date, as_of) : 0;
  out.status = r.status;
  out.settled_date = r.settled_date;
  out.debit_batch_id = r.debit_batch_id;
  out.version = r.version;
  out.created_at_us = r.created_at_us;
  out.updated_at_us = r.updated_at_us;
  return out;
}

// Public receivables for rows read with the customer's number and name after the receivable
// columns.
Result<std::vector<Receivable>> Publish(
    Connection& c, const LateFeePolicy& policy,
    const std::vector<std::pair<ReceivableRow, std::pair<std::string, std::string>>>& rows,
    Date as_of) {
  std::vector<int64_t> open;
  for (const auto& [r, names] : rows) {
    if (r.status == "open") open.push_back(r.id);
  }
  ASSIGN_OR_RETURN(auto hist, internal::LoadPrincipalHistory(c, open));
  std::vector<Receivable> out;
  for (const auto& [r, names] : rows) {
    internal::LateFee fee;
    if (r.status == "open") {
      ASSIGN_OR_RETURN(fee, internal::ReceivableLateFee(policy, r, hist[r.id], as_of));
    }
    Receivable p = ToPublic(r, fee, as_of);
    p.customer_no = names.first;
    p.customer_name = names.second;
    out.push_back(std::move(p));
  }
  return out;
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

const char* LevelTitle(int64_t level) {
  switch (level) {
    case 1:
      return "电费催缴通知单";
    case 2:
      return "电费催缴通知单（第二次）";
    default:
      return "欠费停电预告通知书";
  }
}

std::string Pad(std::string s, size_t width) {
  // Pads by display width: CJK characters (3-byte UTF-8) count as two columns.
  size_t w = 0;
  for (size_t i = 0; i < s.size();) {
    unsigned char ch = static_cast<unsigned char>(s[i]);
    size_t n = ch < 0x80 ? 1 : ch < 0xE0 ? 2 : ch < 0xF0 ? 3 : 4;
    w += n >= 3 ? 2 : 1;
    i += n;
  }
  if (w < width) s.append(width - w, ' ');
  return s;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Receivables

Result<CustomerArrears> AccountsService::GetArrears(const Actor& actor, int64_t customer_id,
                                                    std::optional<Date> as_of) {
  if (!actor.Can("accounts.read") && !actor.Can("payment.counter")) {
    return PermissionDenied("permission 'accounts.read' or 'payment.counter' is required");
  }
  Date day = as_of.value_or(ctx_.Today());
  LateFeePolicy policy = ctx_.Policy();
  return ctx_.db.ReadValue<CustomerArrears>([&](Connection& c) -> Result<CustomerArrears> {
    ASSIGN_OR_RETURN(CustomerInfo cu, internal::LoadVisibleCustomer(c, actor, customer_id));
    ASSIGN_OR_RETURN(internal::Dues dues, internal::CustomerDues(c, policy, cu.id, day));
    CustomerArrears a;
    a.customer_id = cu.id;
    a.customer_no = cu.customer_no;
    a.name = cu.name;
    a.address = cu.address;
    a.department_id = cu.department_id;
    a.as_of = day;
    for (const auto& b : dues.bills) {
      a.bills.push_back({b.receivable.id, b.receivable.bill_id, b.receivable.bill_no,
                         b.receivable.period, b.receivable.amount, b.principal, b.late_fee.due,
                         b.receivable.due_date, DaysOverdue(b.receivable.due_date, day),
                         b.receivable.debit_batch_id.has_value()});
    }
    a.principal = dues.principal;
    a.late_fee = dues.late_fee;
    a.total = dues.total();
    ASSIGN_OR_RETURN(a.credit, internal::CustomerCredit(c, cu.id));
    RETURN_IF_ERROR(c.QueryOne("SELECT id, balance_fen FROM prepaid_accounts WHERE customer_id = "
                               "$1 AND status = 'active' ORDER BY id LIMIT 1",
                               {cu.id},
                               [&](const Row& r) {
                                 a.prepaid_account_id = r.Int(0);
                                 a.prepaid_balance = Money::FromFen(r.Int(1));
                               })
                        .status());
    return a;
  });
}

Result<std::vector<Receivable>> AccountsService::ListReceivables(const Actor& actor,
                                                                 const ReceivableQuery& q,
                                                                 int64_t* total) {
  RETURN_IF_ERROR(actor.Require("accounts.read"));
  RETURN_IF_ERROR(CheckPage(q.page, q.page_size));
  if (!q.status.empty()) {
    RETURN_IF_ERROR(grid::CheckOneOf(q.status, "status", {"open", "paid", "cancelled"}));
  }
  if (!q.period.empty()) RETURN_IF_ERROR(YearMonth::Parse(q.period, "period").status());
  Date as_of = q.as_of.value_or(ctx_.Today());
  LateFeePolicy policy = ctx_.Policy();
  return ctx_.db.ReadValue<std::vector<Receivable>>(
      [&](Connection& c) -> Result<std::vector<Receivable>> {
        grid::SqlWhere w(internal::CustomerScopeSql(actor, "r.department_id"));
        ASSIGN_OR_RETURN(std::string dept, DepartmentFilter(c, q.department_id, "r.department_id"));
        w.And(dept);
        if (q.customer_id) w.And("r.customer_id = " + w.Bind(*q.customer_id));
        if (!q.status.empty()) w.And("r.status = " + w.Bind(q.status));
        if (!q.period.empty()) w.And("r.period = " + w.Bind(q.period));
        if (q.overdue_only) {
          w.And("r.status = 'open' AND r.due_date < " + w.Bind(as_of.ToString()));
        }
        const std::string from = " FROM receivables r JOIN customers cu ON cu.id = r.customer_id ";
        ASSIGN_OR_RETURN(*total,
                         c.QueryInt("SELECT COUNT(*)" + from + "WHERE " + w.sql(), w.params()));
        std::vector<std::pair<ReceivableRow, std::pair<std::string, std::string>>> rows;
        RETURN_IF_ERROR(
            c.Query(std::string("SELECT ") + internal::kReceivableCols +
                        ", cu.customer_no, cu.name" + from + "WHERE " + w.sql() +
                        " ORDER BY r.period DESC, r.id DESC" + PageSql(q.page, q.page_size),
                    w.params(), [&](const Row& row) {
                      rows.push_back({internal::ReadReceivable(row), {row.Text(23), row.Text(24)}});
                    }));
        return Publish(c, policy, rows, as_of);
      });
}

Result<ReceivableDetail> AccountsService::GetReceivable(const Actor& actor, int64_t id,
                                                        std::optional<Date> as_of) {
  RETURN_IF_ERROR(actor.Require("accounts.read"));
  Date day = as_of.value_or(ctx_.Today());
  LateFeePolicy policy = ctx_.Policy();
  return ctx_.db.ReadValue<ReceivableDetail>([&](Connection& c) -> Result<ReceivableDetail> {
    ASSIGN_OR_RETURN(auto r, internal::LoadReceivable(c, id));
    std::optional<CustomerInfo> cu;
    if (r) {
      ASSIGN_OR_RETURN(cu, internal::LoadCustomer(c, r->customer_id));
    }
    if (!r || !cu || !actor.CanSee(r->department_id, cu->account_manager_id)) {
      return NotFound("receivable " + std::to_string(id) + " not found");
    }
    ASSIGN_OR_RETURN(auto list, Publish(c, policy, {{*r, {cu->customer_no, cu->name}}}, day));
    ReceivableDetail d;
    d.receivable = list.at(0);
    RETURN_IF_ERROR(c.Query(
        "SELECT a.id, a.receivable_id, a.payment_id, a.source, a.pay_date, a.principal_fen, "
        "a.late_fee_fen, a.reversed, p.clearing_date FROM payment_allocations a "
        "LEFT JOIN payments p ON p.id = a.payment_id WHERE a.receivable_id = $1 ORDER BY a.id",
        {id}, [&](const Row& row) {
          Allocation a;
          a.id = row.Int(0);
          a.receivable_id = row.Int(1);
          a.payment_id = row.OptInt(2);
          if (a.payment_id) a.receipt_no = internal::ReceiptNo(*a.payment_id, row.TextView(8));
          a.source = row.Text(3);
          a.pay_date = StoredDate(row.TextView(4));
          a.principal = Money::FromFen(row.Int(5));
          a.late_fee = Money::FromFen(row.Int(6));
          a.reversed = row.Bool(7);
          d.allocations.push_back(std::move(a));
        }));
    RETURN_IF_ERROR(c.Query(
        "SELECT w.id, w.amount_fen, w.as_of_date, w.reason, w.created_by, "
        "COALESCE(u.username, ''), w.created_at_us FROM late_fee_waivers w "
        "LEFT JOIN users u ON u.id = w.created_by WHERE w.receivable_id = $1 ORDER BY w.id",
        {id}, [&](const Row& row) {
          d.waivers.push_back({row.Int(0), Money::FromFen(row.Int(1)), StoredDate(row.TextView(2)),
                               row.Text(3), row.OptInt(4), row.Text(5), row.Int(6)});
        }));
    return d;
  });
}

Result<Receivable> AccountsService::WaiveLateFee(const Actor& actor, int64_t receivable_id,
                                                 int64_t version, std::optional<Money> amount,
                                                 const std::string& reason) {
  RETURN_IF_ERROR(actor.Require("accounts.late_fee"));
  RETURN_IF_ERROR(grid::CheckText(reason, "reason", 2, 200));
  if (amount && *amount <= Money()) {
    return InvalidArgument("amount must be above zero", "amount");
  }
  Date today = ctx_.Today();
  LateFeePolicy policy = ctx_.Policy();
  int64_t now = ctx_.clock.NowMicros();
  return ctx_.db.WriteValue<Receivable>([&](Connection& c) -> Result<Receivable> {
    ASSIGN_OR_RETURN(auto r, internal::LoadReceivable(c, receivable_id));
    std::optional<CustomerInfo> cu;
    if (r) {
      ASSIGN_OR_RETURN(cu, internal::LoadCustomer(c, r->customer_id));
    }
    if (!r || !cu || !actor.CanSee(r->department_id, cu->account_manager_id)) {
      return NotFound("receivable " + std::to_string(receivable_id) + " not found");
    }
    RETURN_IF_ERROR(internal::LockCustomer(c, r->customer_id, now).status());
    ASSIGN_OR_RETURN(r, internal::LoadReceivable(c, receivable_id));
    if (r->version != version) {
      return grid::StaleVersion("receivable", receivable_id, r->version, version);
    }
    if (r->status != "open") {
      return FailedPrecondition("bill " + r->bill_no + " is " + r->status +
                                "; only an open bill's late fee can be waived");
    }
    ASSIGN_OR_RETURN(auto hist, internal::LoadPrincipalHistory(c, {r->id}));
    ASSIGN_OR_RETURN(internal::LateFee fee,
                     internal::ReceivableLateFee(policy, *r, hist[r->id], today));
    if (fee.due <= Money()) {
      return FailedPrecondition("bill " + r->bill_no + " has no late fee due on " +
                                today.ToString());
    }
    Money waive = amount.value_or(fee.due);
    if (waive > fee.due) {
      return InvalidArgument("amount " + waive.ToYuanString() + " is more than the late fee due (" +
                                 fee.due.ToYuanString() + ")",
                             "amount");
    }
    ASSIGN_OR_RETURN(auto before_list,
                     Publish(c, policy, {{*r, {cu->customer_no, cu->name}}}, today));
    RETURN_IF_ERROR(c.Exec("INSERT INTO late_fee_waivers (receivable_id, amount_fen, as_of_date, "
                           "reason, created_by, created_at_us) VALUES ($1, $2, $3, $4, $5, $6)",
                           {r->id, waive.fen(), today.ToString(), reason, Author(actor), now})
                        .status());
    RETURN_IF_ERROR(c.Exec("UPDATE receivables SET late_fee_waived_fen = late_fee_waived_fen + $1, "
                           "version = version + 1, updated_at_us = $2 WHERE id = $3",
                           {waive.fen(), now, r->id})
                        .status());
    ASSIGN_OR_RETURN(r, internal::LoadReceivable(c, receivable_id));
    ASSIGN_OR_RETURN(auto after_list,
                     Publish(c, policy, {{*r, {cu->customer_no, cu->name}}}, today));
    json after = ToJson(after_list.at(0));
    after["waiver"] = {{"amount", Yuan(waive)}, {"reason", reason}};
    RETURN_IF_ERROR(internal::Audit(c, actor, "waive_late_fee", "receivable", r->id,
                                    ToJson(before_list.at(0)).dump(), after.dump(),
                                    r->department_id, now));
    return after_list.at(0);
  });
}

// ---------------------------------------------------------------------------------------------
// Payments

namespace {

// The answer to a counter payment whose request id the cashier used before.
Result<Receipt> AnswerCounterRetry(Connection& c, const internal::PaymentRow& existing,
                                   const CounterPaymentInput& in) {
  ASSIGN_OR_RETURN(Receipt r, internal::LoadReceipt(c, existing.id));
  if (existing.customer_id != in.customer_id || existing.amount != in.amount ||
      existing.method != in.method) {
    return AlreadyExists("request_id " + in.request_id.value_or("") +
                             " was already used for receipt " + r.receipt_no + " (" +
                             r.amount.ToYuanString() + " yuan " + r.method + " from customer " +
                             r.customer_no + "); a new payment needs a new request_id",
                         "request_id");
  }
  r.duplicate = true;
  return r;
}

}  // namespace

Result<Receipt> AccountsService::PayAtCounter(const Actor& actor, const CounterPaymentInput& in) {
  RETURN_IF_ERROR(actor.Require("payment.counter"));
  RETURN_IF_ERROR(grid::CheckOneOf(in.method, "method", {"cash", "card", "transfer"}));
  const std::optional<int64_t> author = Author(actor);
  if (in.request_id) {
    RETURN_IF_ERROR(grid::CheckCode(*in.request_id, "request_id", 64));
    if (!author) {
      return InvalidArgument("request_id is kept per cashier; this actor is not a user",
                             "request_id");
    }
  }
  if (in.amount <= Money()) return InvalidArgument("amount must be above zero", "amount");
  if (in.amount > Money::FromFen(100'000'000'000)) {
    return InvalidArgument("amount is more than 1,000,000,000.00 yuan", "amount");
  }
  Money change;
  if (in.tendered) {
    if (in.method != "cash") {
      return InvalidArgument("tendered is only for cash payments", "tendered");
    }
    if (*in.tendered < in.amount) {
      return InvalidArgument("tendered " + in.tendered->ToYuanString() + " is less than amount " +
                                 in.amount.ToYuanString(),
                             "tendered");
    }
    change = *in.tendered - in.amount;
  }
  Date today = ctx_.Today();
  LateFeePolicy policy = ctx_.Policy();
  int64_t now = ctx_.clock.NowMicros();
  // A retry of a request already posted answers the original receipt.
  auto earlier = [&]() -> Result<std::optional<Receipt>> {
    if (!in.request_id) return std::optional<Receipt>();
    return ctx_.db.ReadValue<std::optional<Receipt>>(
        [&](Connection& c) -> Result<std::optional<Receipt>> {
          ASSIGN_OR_RETURN(auto existing,
                           internal::LoadPaymentByRequest(c, *author, *in.request_id));
          if (!existing) return std::optional<Receipt>();
          ASSIGN_OR_RETURN(Receipt r, AnswerCounterRetry(c, *existing, in));
          return std::optional<Receipt>(std::move(r));
        });
  };
  ASSIGN_OR_RETURN(auto retried, earlier());
  if (retried) return *retried;
  auto posted = ctx_.db.WriteValue<Receipt>([&](Connection& c) -> Result<Receipt> {
    ASSIGN_OR_RETURN(CustomerInfo cu, internal::LoadVisibleCustomer(c, actor, in.customer_id));
    internal::PaymentRow p;
    p.customer_id = cu.id;
    p.department_id = cu.department_id;
    p.source = "counter";
    p.method = in.method;
    p.amount = in.amount;
    p.tendered = in.tendered;
    p.change = change;
    p.pay_date = today;
    p.clearing_date = today;
    p.created_by = author;
    p.request_id = in.request_id;
    std::string account = in.method == "cash"   ? std::string(kCash)
                          : in.method == "card" ? std::string(kCardClearing)
                                                : std::string(kTransferClearing);
    ASSIGN_OR_RETURN(int64_t id, internal::TakePayment(c, policy, actor, p, account, today, now));
    return internal::LoadReceipt(c, id);
  });
  if (posted.ok() || !in.request_id || posted.status().code() != StatusCode::kAlreadyExists) {
    return posted;
  }
  // The unique index refused the id: a concurrent identical request committed first.
  ASSIGN_OR_RETURN(retried, earlier());
  if (retried) return *retried;
  return posted;
}

Result<Receipt> AccountsService::GetPayment(const Actor& actor, int64_t id) {
  if (!actor.Can("accounts.read") && !actor.Can("payment.counter")) {
    return PermissionDenied("permission 'accounts.read' or 'payment.counter' is required");
  }
  return ctx_.db.ReadValue<Receipt>([&](Connection& c) -> Result<Receipt> {
    ASSIGN_OR_RETURN(auto p, internal::LoadPayment(c, id));
    std::optional<CustomerInfo> cu;
    if (p) {
      ASSIGN_OR_RETURN(cu, internal::LoadCustomer(c, p->customer_id));
    }
    if (!p || !cu || !actor.CanSee(p->department_id, cu->account_manager_id)) {
      return NotFound("payment " + std::to_string(id) + " not found");
    }
    return internal::LoadReceipt(c, id);
  });
}

Result<std::vector<Receipt>> AccountsService::ListPayments(const Actor& actor,
                                                           const PaymentQuery& q, int64_t* total) {
  RETURN_IF_ERROR(actor.Require("accounts.read"));
  RETURN_IF_ERROR(CheckPage(q.page, q.page_size));
  if (!q.source.empty()) {
    RETURN_IF_ERROR(grid::CheckOneOf(q.source, "source", {"counter", "channel", "debit"}));
  }
  if (!q.status.empty()) {
    RETURN_IF_ERROR(grid::CheckOneOf(q.status, "status", {"posted", "reversed"}));
  }
  return ctx_.db.ReadValue<std::vector<Receipt>>(
      [&](Connection& c) -> Result<std::vector<Receipt>> {
        grid::SqlWhere w(internal::CustomerScopeSql(actor, "p.department_id"));
        if (q.customer_id) w.And("p.customer_id = " + w.Bind(*q.customer_id));
        if (q.channel_id) w.And("p.channel_id = " + w.Bind(*q.channel_id));
        if (!q.source.empty()) w.And("p.source = " + w.Bind(q.source));
        if (!q.status.empty()) w.And("p.status = " + w.Bind(q.status));
        if (q.from) w.And("p.clearing_date >= " + w.Bind(q.from->ToString()));
        if (q.to) w.And("p.clearing_date <= " + w.Bind(q.to->ToString()));
        const std::string from = " FROM payments p JOIN customers cu ON cu.id = p.customer_id ";
        ASSIGN_OR_RETURN(*total,
                         c.QueryInt("SELECT COUNT(*)" + from + "WHERE " + w.sql(), w.params()));
        std::vector<int64_t> ids;
        RETURN_IF_ERROR(c.Query("SELECT p.id" + from + "WHERE " + w.sql() + " ORDER BY p.id DESC" +
                                    PageSql(q.page, q.page_size),
                                w.params(), [&](const Row& r) { ids.push_back(r.Int(0)); }));
        std::vector<Receipt> out;
        for (int64_t id : ids) {
          ASSIGN_OR_RETURN(Receipt r, internal::LoadReceipt(c, id));
          out.push_back(std::move(r));
        }
        return out;
      });
}

Result<Receipt> AccountsService::ReversePayment(const Actor& actor, int64_t id, int64_t version,
                                                const std::string& reason) {
  RETURN_IF_ERROR(actor.Require("payment.reverse"));
  RETURN_IF_ERROR(grid::CheckText(reason, "reason", 2, 200));
  Date today = ctx_.Today();
  int64_t now = ctx_.clock.NowMicros();
  return ctx_.db.WriteValue<Receipt>([&](Connection& c) -> Result<Receipt> {
    ASSIGN_OR_RETURN(auto p, internal::LoadPayment(c, id));
    std::optional<CustomerInfo> cu;
    if (p) {
      ASSIGN_OR_RETURN(cu, internal::LoadCustomer(c, p->customer_id));
    }
    if (!p || !cu || !actor.CanSee(p->department_id, cu->account_manager_id)) {
      return NotFound("payment " + std::to_string(id) + " not found");
    }
    if (p->version != version) return grid::StaleVersion("payment", id, p->version, version);
    const std::string receipt_no = internal::ReceiptNo(p->id, p->clearing_date.ToString());
    if (p->status != "posted") {
      return FailedPrecondition("payment " + receipt_no + " is already " + p->status);
    }
    if (p->source == "debit") {
      return FailedPrecondition("payment " + receipt_no +
                                " came from a direct-debit return file; the bank reverses it, "
                                "not the counter");
    }
    if (p->clearing_date != today) {
      return FailedPrecondition("payment " + receipt_no + " was taken on " +
                                p->clearing_date.ToString() +
                                "; a payment can only be reversed on the day it was taken");
    }
    if (p->source == "channel" && p->channel_id) {
      ASSIGN_OR_RETURN(int64_t n,
                       c.Exec("UPDATE channel_days SET payment_count = payment_count - 1, "
                              "payment_total_fen = payment_total_fen - $1, updated_at_us = $2 "
                              "WHERE channel_id = $3 AND clearing_date = $4 AND status = 'open'",
                              {p->amount.fen(), now, *p->channel_id, today.ToString()}));
      if (n != 1) {
        return FailedPrecondition("the channel's day " + today.ToString() +
                                  " is closed (已清算); its payments can no longer be reversed");
      }
    }
    RETURN_IF_ERROR(internal::ReversePaymentTx(c, *p, actor, reason, today, now));
    return internal::LoadReceipt(c, id);
  });
}

// ---------------------------------------------------------------------------------------------
// Ledger

Result<std::vector<LedgerAccount>> AccountsService::ListLedgerAccounts(const Actor& actor) {
  RETURN_IF_ERROR(actor.Require("accounts.read"));
  return ctx_.db.ReadValue<std::vector<LedgerAccount>>(
      [&](Connection& c) -> Result<std::vector<LedgerAccount>> {
        std::vector<LedgerAccount> out;
        RETURN_IF_ERROR(
            c.Query("SELECT code, name, kind, subledger FROM ledger_accounts ORDER BY kind, code",
                    {}, [&](const Row& r) {
                      out.push_back({r.Text(0), r.Text(1), r.Text(2), r.Text(3)});
                    }));
        return out;
      });
}

Result<TrialBalance> AccountsService::GetTrialBalance(const Actor& actor,
                                                      std::optional<int64_t> department_id,
                                                      std::optional<Date> from,
                                                      std::optional<Date> to) {
  RETURN_IF_ERROR(actor.Require("accounts.read"));
  return ctx_.db.ReadValue<TrialBalance>([&](Connection& c) -> Result<TrialBalance> {
    TrialBalance t;
    t.department_id = department_id;
    t.from = from;
    t.to = to;
    // Every line of an entry carries the entry's department, so any department selection of
    // whole entries balances.
    grid::SqlWhere w(actor.ScopeSql("jl.department_id"));
    ASSIGN_OR_RETURN(std::string dept, DepartmentFilter(c, department_id, "jl.department_id"));
    w.And(dept);
    std::string join;
    if (from || to) {
      join = " JOIN journal_entries je ON je.id = jl.entry_id ";
      if (from) w.And("je.business_date >= " + w.Bind(from->ToString()));
      if (to) w.And("je.business_date <= " + w.Bind(to->ToString()));
    }
    RETURN_IF_ERROR(c.Query(
        "SELECT la.code, la.name, la.kind, COALESCE(SUM(jl.debit_fen), 0), "
        "COALESCE(SUM(jl.credit_fen), 0) FROM journal_lines jl" +
            join + " JOIN ledger_accounts la ON la.code = jl.account_code WHERE " + w.sql() +
            " GROUP BY la.code, la.name, la.kind ORDER BY la.code",
        w.params(), [&](const Row& r) {
          TrialBalanceRow row{
              r.Text(0), r.Text(1), r.Text(2), Money::FromFen(r.Int(3)), Money::FromFen(r.Int(4)),
              Money()};
          row.balance = row.debit - row.credit;
          t.total_debit += row.debit;
          t.total_credit += row.credit;
          t.total_balance += row.balance;
          t.rows.push_back(std::move(row));
        }));
    return t;
  });
}

Result<std::vector<Entry>> AccountsService::ListEntries(const Actor& actor, const EntryQuery& q,
                                                        int64_t* total) {
  RETURN_IF_ERROR(actor.Require("accounts.read"));
  RETURN_IF_ERROR(CheckPage(q.page, q.page_size));
  return ctx_.db.ReadValue<std::vector<Entry>>([&](Connection& c) -> Result<std::vector<Entry>> {
    grid::SqlWhere w(actor.ScopeSql("je.department_id"));
    ASSIGN_OR_RETURN(std::string dept, DepartmentFilter(c, q.department_id, "je.department_id"));
    w.And(dept);
    if (q.customer_id) w.And("je.customer_id = " + w.Bind(*q.customer_id));
    if (!q.kind.empty()) w.And("je.kind = " + w.Bind(q.kind));
    if (q.from) w.And("je.business_date >= " + w.Bind(q.from->ToString()));
    if (q.to) w.And("je.business_date <= " + w.Bind(q.to->ToString()));
    ASSIGN_OR_RETURN(
        *total, c.QueryInt("SELECT COUNT(*) FROM journal_entries je WHERE " + w.sql(), w.params()));
    std::vector<Entry> out;
    std::map<int64_t, size_t> index;
    RETURN_IF_ERROR(c.Query(
        "SELECT je.id, je.kind, je.business_date, je.posted_at_us, je.department_id, "
        "je.customer_id, je.ref_type, je.ref_id, je.memo, je.amount_fen, je.reverses_entry_id, "
        "je.created_by, (SELECT r.id FROM journal_entries r WHERE r.reverses_entry_id = je.id) "
        "FROM journal_entries je WHERE " +
            w.sql() + " ORDER BY je.id DESC" + PageSql(q.page, q.page_size),
        w.params(), [&](const Row& r) {
          Entry e;
          e.id = r.Int(0);
          e.kind = r.Text(1);
          e.business_date = StoredDate(r.TextView(2));
          e.posted_at_us = r.Int(3);
          e.department_id = r.Int(4);
          e.customer_id = r.OptInt(5);
          e.ref_type = r.Text(6);
          e.ref_id = r.OptInt(7);
          e.memo = r.Text(8);
          e.amount = Money::FromFen(r.Int(9));
          e.reverses_entry_id = r.OptInt(10);
          e.created_by = r.OptInt(11);
          e.reversed_by_entry_id = r.OptInt(12);
          index[e.id] = out.size();
          out.push_back(std::move(e));
        }));
    if (!out.empty()) {
      std::vector<int64_t> ids;
      for (const auto& e : out) ids.push_back(e.id);
      RETURN_IF_ERROR(
          c.Query("SELECT entry_id, line_no, account_code, customer_id, debit_fen, "
                  "credit_fen FROM journal_lines WHERE " +
                      grid::InSql("entry_id", ids) + " ORDER BY entry_id, line_no",
                  {}, [&](const Row& r) {
                    out[index[r.Int(0)]].lines.push_back({r.Int(1), r.Text(2), r.OptInt(3),
                                                          Money::FromFen(r.Int(4)),
                                                          Money::FromFen(r.Int(5))});
                  }));
    }
    return out;
  });
}

Result<Statement> AccountsService::GetStatement(const Actor& actor, int64_t customer_id, Date from,
                                                Date to) {
  RETURN_IF_ERROR(actor.Require("accounts.read"));
  if (to < from) return InvalidArgument("to is before from", "to");
  return ctx_.db.ReadValue<Statement>([&](Connection& c) -> Result<Statement> {
    ASSIGN_OR_RETURN(CustomerInfo cu, internal::LoadVisibleCustomer(c, actor, customer_id));
    Statement s;
    s.customer_id = cu.id;
    s.customer_no = cu.customer_no;
    s.customer_name = cu.name;
    s.from = from;
    s.to = to;
    // The balance owed: receivables less credit and prepaid money (estimates of remote prepaid
    // consumption show as charges until the bill replaces them).
    const char* owed =
        "(jl.account_code IN ('receivable', 'customer_credit', 'prepaid_liability'))";
    ASSIGN_OR_RETURN(
        int64_t opening,
        c.QueryInt(std::string("SELECT COALESCE(SUM(jl.debit_fen - jl.credit_fen), 0) "
                               "FROM journal_lines jl JOIN journal_entries je ON je.id = "
                               "jl.entry_id WHERE jl.customer_id = $1 AND ") +
                       owed + " AND je.business_date < $2",
                   {cu.id, from.ToString()}));
    s.opening_balance = Money::FromFen(opening);
    Money balance = s.opening_balance;
    RETURN_IF_ERROR(c.Query(
        std::string("SELECT je.id, je.business_date, je.kind, je.memo, je.amount_fen, "
                    "COALESCE(SUM(CASE WHEN ") +
            owed +
            " THEN jl.debit_fen - jl.credit_fen ELSE 0 END), 0), "
            "COALESCE(SUM(CASE WHEN jl.account_code = 'late_fee_income' "
            "THEN jl.credit_fen - jl.debit_fen ELSE 0 END), 0) "
            "FROM journal_entries je JOIN journal_lines jl ON jl.entry_id = je.id "
            "AND jl.customer_id = $1 WHERE je.customer_id = $1 AND je.business_date >= $2 "
            "AND je.business_date <= $3 GROUP BY je.id, je.business_date, je.kind, je.memo, "
            "je.amount_fen ORDER BY je.business_date, je.id",
        {cu.id, from.ToString(), to.ToString()}, [&](const Row& r) {
          StatementLine l;
          l.entry_id = r.Int(0);
          l.business_date = StoredDate(r.TextView(1));
          l.kind = r.Text(2);
          l.memo = r.Text(3);
          l.amount = Money::FromFen(r.Int(4));
          l.change = Money::FromFen(r.Int(5));
          l.late_fee = Money::FromFen(r.Int(6));
          balance += l.change;
          l.balance = balance;
          if (l.change > Money()) s.charges += l.change;
          if (l.change < Money()) s.payments -= l.change;
          s.lines.push_back(std::move(l));
        }));
    s.closing_balance = balance;
    return s;
  });
}

// ---------------------------------------------------------------------------------------------
// Arrears and reminders

Result<Aging> AccountsService::GetAging(const Actor& actor, std::optional<int64_t> department_id,
                                        std::optional<Date> as_of) {
  RETURN_IF_ERROR(actor.Require("accounts.read"));
  Date day = as_of.value_or(ctx_.Today());
  return ctx_.db.ReadValue<Aging>([&](Connection& c) -> Result<Aging> {
    Aging a;
    a.as_of = day;
    grid::SqlWhere w(internal::CustomerScopeSql(actor, "r.department_id"));
    ASSIGN_OR_RETURN(std::string dept, DepartmentFilter(c, department_id, "r.department_id"));
    w.And(dept);
    w.And("r.status = 'open'");
    std::string d0 = w.Bind(day.ToString());
    std::string d30 = w.Bind(day.AddDays(-30).ToString());
    std::string d60 = w.Bind(day.AddDays(-60).ToString());
    std::string d90 = w.Bind(day.AddDays(-90).ToString());
    const std::string out = "(r.amount_fen - r.principal_paid_fen)";
    std::string sql =
        "SELECT r.department_id, COALESCE(MAX(d.name), ''), "
        "COALESCE(SUM(CASE WHEN r.due_date >= " +
        d0 + " THEN " + out +
        " ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN r.due_date < " +
        d0 + " AND r.due_date >= " + d30 + " THEN " + out +
        " ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN r.due_date < " +
        d30 + " AND r.due_date >= " + d60 + " THEN " + out +
        " ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN r.due_date < " +
        d60 + " AND r.due_date >= " + d90 + " THEN " + out +
        " ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN r.due_date < " +
        d90 + " THEN " + out +
        " ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN r.due_date < " +
        d0 +
        " THEN 1 ELSE 0 END), 0), "
        "COUNT(DISTINCT CASE WHEN r.due_date < " +
        d0 +
        " THEN r.customer_id END) "
        "FROM receivables r JOIN customers cu ON cu.id = r.customer_id "
        "LEFT JOIN departments d ON d.id = r.department_id WHERE " +
        w.sql() + " GROUP BY r.department_id ORDER BY r.department_id";
    a.total.department_name = "合计";
    RETURN_IF_ERROR(c.Query(sql, w.params(), [&](const Row& r) {
      AgingRow row;
      row.department_id = r.Int(0);
      row.department_name = r.Text(1);
      row.current = Money::FromFen(r.Int(2));
      row.d0_30 = Money::FromFen(r.Int(3));
      row.d31_60 = Money::FromFen(r.Int(4));
      row.d61_90 = Money::FromFen(r.Int(5));
      row.d90_plus = Money::FromFen(r.Int(6));
      row.overdue = row.d0_30 + row.d31_60 + row.d61_90 + row.d90_plus;
      row.overdue_bills = r.Int(7);
      row.overdue_customers = r.Int(8);
      a.total.current += row.current;
      a.total.d0_30 += row.d0_30;
      a.total.d31_60 += row.d31_60;
      a.total.d61_90 += row.d61_90;
      a.total.d90_plus += row.d90_plus;
      a.total.overdue += row.overdue;
      a.total.overdue_bills += row.overdue_bills;
      a.total.overdue_customers += row.overdue_customers;  // a customer sits in one department
      a.rows.push_back(std::move(row));
    }));
    return a;
  });
}

Result<std::vector<ArrearsCustomer>> AccountsService::ListArrearsCustomers(const Actor& actor,
                                                                           const ArrearsQuery& q,
                                                                           int64_t* total) {
  RETURN_IF_ERROR(actor.Require("accounts.read"));
  RETURN_IF_ERROR(CheckPage(q.page, q.page_size));
  if (q.min_days_overdue < 1) {
    return InvalidArgument("min_days_overdue must be at least 1", "min_days_overdue");
  }
  Date day = q.as_of.value_or(ctx_.Today());
  LateFeePolicy policy = ctx_.Policy();
  return ctx_.db.ReadValue<std::vector<ArrearsCustomer>>(
      [&](Connection& c) -> Result<std::vector<ArrearsCustomer>> {
        grid::SqlWhere w(internal::CustomerScopeSql(actor, "r.department_id"));
        ASSIGN_OR_RETURN(std::string dept, DepartmentFilter(c, q.department_id, "r.department_id"));
        w.And(dept);
        w.And("r.status = 'open' AND r.due_date < " + w.Bind(day.ToString()));
        std::string having =
            " HAVING MIN(r.due_date) <= " + w.Bind(day.AddDays(-q.min_days_overdue).ToString());
        std::string grouped =
            "SELECT r.customer_id, MAX(cu.customer_no) AS customer_no, MAX(cu.name) AS name, "
            "MAX(cu.department_id) AS department_id, COUNT(*) AS bills, "
            "SUM(r.amount_fen - r.principal_paid_fen) AS principal, MIN(r.due_date) AS oldest "
            "FROM receivables r JOIN customers cu ON cu.id = r.customer_id WHERE " +
            w.sql() + " GROUP BY r.customer_id" + having;
        ASSIGN_OR_RETURN(*total,
                         c.QueryInt("SELECT COUNT(*) FROM (" + grouped + ") g", w.params()));
        std::vector<ArrearsCustomer> out;
        RETURN_IF_ERROR(
            c.Query(grouped + " ORDER BY oldest, r.customer_id" + PageSql(q.page, q.page_size),
                    w.params(), [&](const Row& r) {
                      ArrearsCustomer a;
                      a.customer_id = r.Int(0);
                      a.customer_no = r.Text(1);
                      a.name = r.Text(2);
                      a.department_id = r.Int(3);
                      a.overdue_bills = r.Int(4);
                      a.principal = Money::FromFen(r.Int(5));
                      a.oldest_due_date = StoredDate(r.TextView(6));
                      a.max_days_overdue = DaysOverdue(a.oldest_due_date, day);
                      out.push_back(std::move(a));
                    }));
        for (auto& a : out) {
          // The late fee of every open bill (including those not yet overdue, which have none).
          ASSIGN_OR_RETURN(internal::Dues d, internal::CustomerDues(c, policy, a.customer_id, day));
          a.late_fee = d.late_fee;
          a.total = a.principal + a.late_fee;
        }
        return out;
      });
}

Result<ReminderRun> AccountsService::GenerateReminders(const Actor& actor, int64_t department_id,
                                                       std::optional<Date> as_of,
                                                       const ReminderPolicy& policy) {
  RETURN_IF_ERROR(actor.Require("accounts.late_fee"));
  if (policy.level2_days < 2 || policy.level3_days <= policy.level2_days) {
    return InvalidArgument("reminder levels must be 1 < level2_days < level3_days", "policy");
  }
  Date day = as_of.value_or(ctx_.Today());
  if (ctx_.Today() < day) return InvalidArgument("as_of is in the future", "as_of");
  LateFeePolicy fee_policy = ctx_.Policy();
  int64_t now = ctx_.clock.NowMicros();
  ReminderRun run;
  run.as_of = day;
  RETURN_IF_ERROR(ctx_.db.Write([&](Connection& c) -> Status {
    RETURN_IF_ERROR(grid::CheckDepartment(c, actor, department_id));
    ASSIGN_OR_RETURN(auto subtree, grid::DepartmentSubtree(c, department_id));
    std::vector<ReceivableRow> bills;
    RETURN_IF_ERROR(c.Query(
        std::string("SELECT ") + internal::kReceivableCols +
            " FROM receivables r JOIN customers cu ON cu.id = r.customer_id WHERE " +
            grid::InSql("r.department_id", subtree) + " AND " +
            internal::CustomerScopeSql(actor, "r.department_id") +
            " AND r.status = 'open' AND r.due_date < $1 ORDER BY r.id",
        {day.ToString()}, [&](const Row& row) { bills.push_back(internal::ReadReceivable(row)); }));
    run.bills = static_cast<int64_t>(bills.size());
    std::vector<int64_t> ids;
    for (const auto& r : bills) ids.push_back(r.id);
    ASSIGN_OR_RETURN(auto hist, internal::LoadPrincipalHistory(c, ids));
    for (const auto& r : bills) {
      int64_t days = DaysOverdue(r.due_date, day);
      int64_t level = days >= policy.level3_days ? 3 : days >= policy.level2_days ? 2 : 1;
      ASSIGN_OR_RETURN(internal::LateFee fee,
                       internal::ReceivableLateFee(fee_policy, r, hist[r.id], day));
      ASSIGN_OR_RETURN(
          int64_t n,
          c.Exec("INSERT INTO reminders (receivable_id, customer_id, department_id, level, "
                 "as_of_date, days_overdue, principal_fen, late_fee_fen, deadline_date, "
                 "created_by, created_at_us) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
                 "ON CONFLICT (receivable_id, level) DO NOTHING",
                 {r.id, r.customer_id, r.department_id, level, day.ToString(), days,
                  r.outstanding().fen(), fee.due.fen(),
                  day.AddDays(policy.deadline_days).ToString(), Author(actor), now}));
      if (n == 1) {
        ++run.created;
      } else {
        ++run.existing;
      }
    }
    return internal::Audit(c, actor, "generate", "reminders", department_id, "", ToJson(run).dump(),
                           department_id, now);
  }));
  return run;
}

namespace {

const char* const kReminderSelect =
    "SELECT m.id, m.receivable_id, r.bill_no, r.period, m.customer_id, cu.customer_no, cu.name, "
    "cu.address, m.department_id, COALESCE(d.name, ''), m.level, m.as_of_date, m.days_overdue, "
    "r.amount_fen, m.principal_fen, m.late_fee_fen, r.due_date, m.deadline_date, m.created_at_us "
    "FROM reminders m JOIN receivables r ON r.id = m.receivable_id "
    "JOIN customers cu ON cu.id = m.customer_id LEFT JOIN departments d ON d.id = m.department_id ";

Reminder ReadReminder(const Row& r) {
  Reminder m;
  m.id = r.Int(0);
  m.receivable_id = r.Int(1);
  m.bill_no = r.Text(2);
  auto p = YearMonth::Parse(r.TextView(3));
  if (p.ok()) m.period = *p;
  m.customer_id = r.Int(4);
  m.customer_no = r.Text(5);
  m.customer_name = r.Text(6);
  m.customer_address = r.Text(7);
  m.department_id = r.Int(8);
  m.department_name = r.Text(9);
  m.level = r.Int(10);
  m.as_of = StoredDate(r.TextView(11));
  m.days_overdue = r.Int(12);
  m.amount = Money::FromFen(r.Int(13));
  m.principal = Money::FromFen(r.Int(14));
  m.late_fee = Money::FromFen(r.Int(15));
  m.due_date = StoredDate(r.TextView(16));
  m.deadline = StoredDate(r.TextView(17));
  m.created_at_us = r.Int(18);
  return m;
}

}  // namespace

Result<std::vector<Reminder>> AccountsService::ListReminders(const Actor& actor,
                                                             const ReminderQuery& q,
                                                             int64_t* total) {
  RETURN_IF_ERROR(actor.Require("accounts.read"));
  RETURN_IF_ERROR(CheckPage(q.page, q.page_size));
  return ctx_.db.ReadValue<std::vector<Reminder>>(
      [&](Connection& c) -> Result<std::vector<Reminder>> {
        grid::SqlWhere w(internal::CustomerScopeSql(actor, "m.department_id"));
        ASSIGN_OR_RETURN(std::string dept, DepartmentFilter(c, q.department_id, "m.department_id"));
        w.And(dept);
        if (q.customer_id) w.And("m.customer_id = " + w.Bind(*q.customer_id));
        if (q.level) w.And("m.level = " + w.Bind(*q.level));
        ASSIGN_OR_RETURN(*total,
                         c.QueryInt("SELECT COUNT(*) FROM reminders m JOIN customers cu ON cu.id = "
                                    "m.customer_id WHERE " +
                                        w.sql(),
                                    w.params()));
        std::vector<Reminder> out;
        RETURN_IF_ERROR(c.Query(std::string(kReminderSelect) + "WHERE " + w.sql() +
                                    " ORDER BY m.id DESC" + PageSql(q.page, q.page_size),
                                w.params(), [&](const Row& r) { out.push_back(ReadReminder(r)); }));
        return out;
      });
}

Result<Reminder> AccountsService::GetReminder(const Actor& actor, int64_t id) {
  RETURN_IF_ERROR(actor.Require("accounts.read"));
  return ctx_.db.ReadValue<Reminder>([&](Connection& c) -> Result<Reminder> {
    std::optional<Reminder> m;
    RETURN_IF_ERROR(c.QueryOne(std::string(kReminderSelect) + "WHERE m.id = $1 AND " +
                                   internal::CustomerScopeSql(actor, "m.department_id"),
                               {id}, [&](const Row& r) { m = ReadReminder(r); })
                        .status());
    if (!m) return NotFound("reminder " + std::to_string(id) + " not found");
    return *m;
  });
}

std::string ReminderNoticeText(const Reminder& m) {
  std::string t;
  t += std::string(LevelTitle(m.level)) + "\n";
  t += "编号：CJ" + std::to_string(m.id) + "\n\n";
  t += "尊敬的 " + m.customer_name + "（户号 " + m.customer_no + "）：\n";
  t += "用电地址：" + m.customer_address + "\n\n";
  t += "截至 " + m.as_of.ToString() + "，您 " + m.period.ToString() + " 电费（账单 " + m.bill_no +
       "）尚未缴清：\n";
  t += "  应缴电费：" + Yuan(m.amount) + " 元\n";
  t += "  欠费本金：" + Yuan(m.principal) + " 元\n";
  t += "  缴费截止日期：" + m.due_date.ToString() + "，已逾期 " + std::to_string(m.days_overdue) +
       " 天\n";
  t += "  电费违约金（计至 " + m.as_of.ToString() + "）：" + Yuan(m.late_fee) + " 元\n";
  t += "  合计应缴：" + Yuan(m.principal + m.late_fee) + " 元\n\n";
  t += "请于 " + m.deadline.ToString() +
       " 前到供电营业厅或通过银行、网上渠道缴清。逾期未缴，将依照《供电营业规则》按日继续计收电费"
       "违约金";
  if (m.level >= 3) {
    t += "，并可能依法定程序对您中止供电。中止供电前将另行书面通知";
  }
  t += "。\n如已缴清，请忽略本通知。\n\n";
  t += m.department_name + "\n" + m.as_of.ToString() + "\n";
  return t;
}

std::string PrintableReceipt(const Receipt& r, const TimeZone& zone) {
  std::string t;
  t += "          电 费 收 据\n";
  t += "收据号：" + r.receipt_no + "\n";
  t += "营业单位：" + r.department_name + "\n";
  t += "户号：" + r.customer_no + "  户名：" + r.customer_name + "\n";
  t += "地址：" + r.customer_address + "\n";
  std::string method = r.method == "cash"       ? "现金"
                       : r.method == "card"     ? "银行卡"
                       : r.method == "transfer" ? "转账"
                                                : "银行代收";
  if (r.source == "debit") method = "银行代扣";
  t += "缴费方式：" + method;
  if (r.channel_code) t += "（" + *r.channel_code + "）";
  if (r.serial) t += "  流水号：" + *r.serial;
  t += "\n";
  t += "缴费日期：" + r.pay_date.ToString() + "  收费时间：" + zone.FormatLocal(r.created_at_us) +
       "\n";
  t += "------------------------------------------\n";
  t += Pad("电费年月", 10) + Pad("账单号", 16) + Pad("本金", 12) + "违约金\n";
  for (const auto& l : r.lines) {
    t += Pad(l.period.ToString(), 10) + Pad(l.bill_no, 16) + Pad(Yuan(l.principal), 12) +
         Yuan(l.late_fee) + "\n";
  }
  t += "------------------------------------------\n";
  t += "实收金额：" + Yuan(r.amount) + " 元\n";
  t += "  其中电费：" + Yuan(r.principal) + " 元  违约金：" + Yuan(r.late_fee) + " 元\n";
  if (r.credit > Money()) t += "  转预收（溢缴）：" + Yuan(r.credit) + " 元\n";
  if (r.prepaid > Money()) t += "  转预付费余额：" + Yuan(r.prepaid) + " 元\n";
  if (r.tendered) {
    t += "收款：" + Yuan(*r.tendered) + " 元  找零：" + Yuan(r.change) + " 元\n";
  }
  t += "收费员：" + r.cashier + "\n";
  if (r.status == "reversed") {
    t += "*** 本笔收费已冲正";
    if (r.reversal_reason) t += "：" + *r.reversal_reason;
    t += " ***\n";
  }
  return t;
}

// ---------------------------------------------------------------------------------------------
// JSON

json ToJson(const Receivable& r) {
  return json{{"id", r.id},
              {"bill_id", r.bill_id},
              {"bill_no", r.bill_no},
              {"customer_id", r.customer_id},
              {"customer_no", r.customer_no},
              {"customer_name", r.customer_name},
              {"account_id", OptInt(r.account_id)},
              {"department_id", r.department_id},
              {"metering_point_id", OptInt(r.metering_point_id)},
              {"period", r.period.ToString()},
              {"category", r.category},
              {"amount", Yuan(r.amount)},
              {"principal_paid", Yuan(r.principal_paid)},
              {"outstanding", Yuan(r.outstanding)},
              {"late_fee_accrued", Yuan(r.late_fee_accrued)},
              {"late_fee_paid", Yuan(r.late_fee_paid)},
              {"late_fee_waived", Yuan(r.late_fee_waived)},
              {"late_fee_due", Yuan(r.late_fee_due)},
              {"as_of", r.as_of.ToString()},
              {"issue_date", r.issue_date.ToString()},
              {"due_date", r.due_date.ToString()},
              {"days_overdue", r.days_overdue},
              {"status", r.status},
              {"settled_date", OptText(r.settled_date)},
              {"debit_batch_id", OptInt(r.debit_batch_id)},
              {"frozen", r.debit_batch_id.has_value()},
              {"version", r.version},
              {"created_at", FormatUtc(r.created_at_us)},
              {"updated_at", FormatUtc(r.updated_at_us)}};
}

json ToJson(const ReceivableDetail& d) {
  json j = ToJson(d.receivable);
  json allocs = json::array();
  for (const auto& a : d.allocations) {
    allocs.push_back({{"id", a.id},
                      {"payment_id", OptInt(a.payment_id)},
                      {"receipt_no", OptText(a.receipt_no)},
                      {"source", a.source},
                      {"pay_date", a.pay_date.ToString()},
                      {"principal", Yuan(a.principal)},
                      {"late_fee", Yuan(a.late_fee)},
                      {"reversed", a.reversed}});
  }
  json waivers = json::array();
  for (const auto& w : d.waivers) {
    waivers.push_back({{"id", w.id},
                       {"amount", Yuan(w.amount)},
                       {"as_of", w.as_of.ToString()},
                       {"reason", w.reason},
                       {"created_by", OptInt(w.created_by)},
                       {"created_by_name", w.created_by_name},
                       {"created_at", FormatUtc(w.created_at_us)}});
  }
  j["allocations"] = std::move(allocs);
  j["waivers"] = std::move(waivers);
  return j;
}

json ToJson(const CustomerArrears& a) {
  json bills = json::array();
  for (const auto& b : a.bills) {
    bills.push_back({{"receivable_id", b.receivable_id},
                     {"bill_id", b.bill_id},
                     {"bill_no", b.bill_no},
                     {"period", b.period.ToString()},
                     {"amount", Yuan(b.amount)},
                     {"principal", Yuan(b.principal)},
                     {"late_fee", Yuan(b.late_fee)},
                     {"due_date", b.due_date.ToString()},
                     {"days_overdue", b.days_overdue},
                     {"frozen", b.frozen}});
  }
  return json{{"customer_id", a.customer_id},
              {"customer_no", a.customer_no},
              {"name", a.name},
              {"address", a.address},
              {"department_id", a.department_id},
              {"as_of", a.as_of.ToString()},
              {"bills", std::move(bills)},
              {"principal", Yuan(a.principal)},
              {"late_fee", Yuan(a.late_fee)},
              {"total", Yuan(a.total)},
              {"credit", Yuan(a.credit)},
              {"prepaid_account_id", OptInt(a.prepaid_account_id)},
              {"prepaid_balance", OptYuan(a.prepaid_balance)}};
}

json ToJson(const Receipt& r) {
  json lines = json::array();
  for (const auto& l : r.lines) {
    lines.push_back({{"receivable_id", l.receivable_id},
                     {"bill_no", l.bill_no},
                     {"period", l.period.ToString()},
                     {"principal", Yuan(l.principal)},
                     {"late_fee", Yuan(l.late_fee)}});
  }
  return json{
      {"payment_id", r.payment_id},
      {"receipt_no", r.receipt_no},
      {"customer_id", r.customer_id},
      {"customer_no", r.customer_no},
      {"customer_name", r.customer_name},
      {"department_id", r.department_id},
      {"source", r.source},
      {"channel_id", OptInt(r.channel_id)},
      {"channel_code", OptText(r.channel_code)},
      {"method", r.method},
      {"serial", OptText(r.serial)},
      {"request_id", OptText(r.request_id)},
      {"amount", Yuan(r.amount)},
      {"tendered", OptYuan(r.tendered)},
      {"change", Yuan(r.change)},
      {"principal", Yuan(r.principal)},
      {"late_fee", Yuan(r.late_fee)},
      {"credit", Yuan(r.credit)},
      {"prepaid", Yuan(r.prepaid)},
      {"prepaid_account_id", OptInt(r.prepaid_account_id)},
      {"pay_date", r.pay_date.ToString()},
      {"txn_time", OptText(r.txn_time)},
      {"clearing_date", r.clearing_date.ToString()},
      {"lines", std::move(lines)},
      {"status", r.status},
      {"reversed_at", r.reversed_at_us ? json(FormatUtc(*r.reversed_at_us)) : json(nullptr)},
      {"reversal_reason", OptText(r.reversal_reason)},
      {"cashier", r.cashier},
      {"created_at", FormatUtc(r.created_at_us)},
      {"version", r.version},
      {"duplicate", r.duplicate}};
}

json ToJson(const TrialBalance& t) {
  json rows = json::array();
  for (const auto& r : t.rows) {
    rows.push_back({{"code", r.code},
                    {"name", r.name},
                    {"kind", r.kind},
                    {"debit", Yuan(r.debit)},
                    {"credit", Yuan(r.credit)},
                    {"balance", Yuan(r.balance)}});
  }
  return json{{"department_id", OptInt(t.department_id)},
              {"from", t.from ? json(t.from->ToString()) : json(nullptr)},
              {"to", t.to ? json(t.to->ToString()) : json(nullptr)},
              {"rows", std::move(rows)},
              {"total_debit", Yuan(t.total_debit)},
              {"total_credit", Yuan(t.total_credit)},
              {"total_balance", Yuan(t.total_balance)},
              {"balanced", t.total_debit == t.total_credit}};
}

json ToJson(const Entry& e) {
  json lines = json::array();
  for (const auto& l : e.lines) {
    lines.push_back({{"line_no", l.line_no},
                     {"account", l.account},
                     {"customer_id", OptInt(l.customer_id)},
                     {"debit", Yuan(l.debit)},
                     {"credit", Yuan(l.credit)}});
  }
  return json{{"id", e.id},
              {"kind", e.kind},
              {"business_date", e.business_date.ToString()},
              {"posted_at", FormatUtc(e.posted_at_us)},
              {"department_id", e.department_id},
              {"customer_id", OptInt(e.customer_id)},
              {"ref_type", e.ref_type},
              {"ref_id", OptInt(e.ref_id)},
              {"memo", e.memo},
              {"amount", Yuan(e.amount)},
              {"reverses_entry_id", OptInt(e.reverses_entry_id)},
              {"reversed_by_entry_id", OptInt(e.reversed_by_entry_id)},
              {"created_by", OptInt(e.created_by)},
              {"lines", std::move(lines)}};
}

json ToJson(const Statement& s) {
  json lines = json::array();
  for (const auto& l : s.lines) {
    lines.push_back({{"entry_id", l.entry_id},
                     {"business_date", l.business_date.ToString()},
                     {"kind", l.kind},
                     {"memo", l.memo},
                     {"amount", Yuan(l.amount)},
                     {"late_fee", Yuan(l.late_fee)},
                     {"change", Yuan(l.change)},
                     {"balance", Yuan(l.balance)}});
  }
  return json{{"customer_id", s.customer_id},
              {"customer_no", s.customer_no},
              {"customer_name", s.customer_name},
              {"from", s.from.ToString()},
              {"to", s.to.ToString()},
              {"opening_balance", Yuan(s.opening_balance)},
              {"charges", Yuan(s.charges)},
              {"payments", Yuan(s.payments)},
              {"closing_balance", Yuan(s.closing_balance)},
              {"lines", std::move(lines)}};
}

namespace {
json AgingRowJson(const AgingRow& r) {
  return json{{"department_id", r.department_id}, {"department_name", r.department_name},
              {"current", Yuan(r.current)},       {"d0_30", Yuan(r.d0_30)},
              {"d31_60", Yuan(r.d31_60)},         {"d61_90", Yuan(r.d61_90)},
              {"d90_plus", Yuan(r.d90_plus)},     {"overdue", Yuan(r.overdue)},
              {"overdue_bills", r.overdue_bills}, {"overdue_customers", r.overdue_customers}};
}
}  // namespace

json ToJson(const Aging& a) {
  json rows = json::array();
  for (const auto& r : a.rows) rows.push_back(AgingRowJson(r));
  json total = AgingRowJson(a.total);
  total.erase("department_id");
  return json{{"as_of", a.as_of.ToString()}, {"rows", std::move(rows)}, {"total", total}};
}

json ToJson(const ArrearsCustomer& a) {
  return json{{"customer_id", a.customer_id},
              {"customer_no", a.customer_no},
              {"name", a.name},
              {"department_id", a.department_id},
              {"overdue_bills", a.overdue_bills},
              {"principal", Yuan(a.principal)},
              {"late_fee", Yuan(a.late_fee)},
              {"total", Yuan(a.total)},
              {"oldest_due_date", a.oldest_due_date.ToString()},
              {"max_days_overdue", a.max_days_overdue}};
}

json ToJson(const Reminder& m) {
  return json{{"id", m.id},
              {"receivable_id", m.receivable_id},
              {"bill_no", m.bill_no},
              {"period", m.period.ToString()},
              {"customer_id", m.customer_id},
              {"customer_no", m.customer_no},
              {"customer_name", m.customer_name},
              {"department_id", m.department_id},
              {"level", m.level},
              {"title", LevelTitle(m.level)},
              {"as_of", m.as_of.ToString()},
              {"days_overdue", m.days_overdue},
              {"amount", Yuan(m.amount)},
              {"principal", Yuan(m.principal)},
              {"late_fee", Yuan(m.late_fee)},
              {"due_date", m.due_date.ToString()},
              {"deadline", m.deadline.ToString()},
              {"created_at", FormatUtc(m.created_at_us)}};
}

json ToJson(const ReminderRun& r) {
  return json{{"as_of", r.as_of.ToString()},
              {"created", r.created},
              {"existing", r.existing},
              {"bills", r.bills}};
}

}  // namespace gridmis::accounts
