// Accounts (帳務): receivables per bill, counter payments with receipts and same-day reversal,
// late fees and their waiver, the ledger's trial balance, journal and customer statement (对账单),
// arrears aging, the list of customers in arrears and payment reminders (催缴).
//
// Money is allocated to a customer's oldest bill first (by 电费年月, then due date), the late
// fee before the principal (tariffs.md §0.3 rule 7, §11.4); what is left goes to the customer's
// remote prepaid account when it has one, else to its credit (溢缴), which is applied to the next
// bill at issue. Late fees are computed to the payment day with the policy (late_fee.h); they
// reach the ledger only when paid (late_fee_income), a waiver is audited.
//
// Data scope: receivables, payments and reminders belong to their customer's department; they
// are visible when org::Actor::CanSee(department, the customer's account manager). Outside the
// scope is NotFound. Every write is audited in its transaction and posts balanced journal entries
// (ledger.h). Edits carry the record's version (stale: Aborted). Thread-safe.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "accounts/late_fee.h"
#include "core/money.h"
#include "core/status.h"
#include "core/time.h"
#include "org/actor.h"
#include "store/db.h"

namespace gridmis::accounts {

// What the services share: the database, the clock, the zone of business dates and the late-fee
// policy (posting.h's CurrentLateFeePolicy() unless set).
struct AccountsContext {
  store::Database& db;
  const Clock& clock;
  TimeZone zone;
  std::optional<LateFeePolicy> policy;  // empty: CurrentLateFeePolicy()

  Date Today() const { return zone.LocalDate(clock.NowMicros()); }
  LateFeePolicy Policy() const;
};

// ---- Records ----

struct Receivable {
  int64_t id = 0;
  int64_t bill_id = 0;
  std::string bill_no;
  int64_t customer_id = 0;
  std::string customer_no;
  std::string customer_name;
  std::optional<int64_t> account_id;
  int64_t department_id = 0;
  std::optional<int64_t> metering_point_id;
  YearMonth period;
  std::string category;
  Money amount;
  Money principal_paid;
  Money outstanding;
  Money late_fee_accrued;  // to `as_of`: paid, waived and due together
  Money late_fee_paid;
  Money late_fee_waived;
  Money late_fee_due;
  Date as_of;
  Date issue_date;
  Date due_date;
  int64_t days_overdue = 0;
  std::string status;  // open, paid, cancelled
  std::optional<std::string> settled_date;
  std::optional<int64_t> debit_batch_id;  // frozen in a direct-debit batch
  int64_t version = 0;
  int64_t created_at_us = 0;
  int64_t updated_at_us = 0;
};

struct Allocation {
  int64_t id = 0;
  int64_t receivable_id = 0;
  std::optional<int64_t> payment_id;
  std::optional<std::string> receipt_no;
  std::string source;  // payment, credit, prepaid
  Date pay_date;
  Money principal;
  Money late_fee;
  bool reversed = false;
};

struct Waiver {
  int64_t id = 0;
  Money amount;
  Date as_of;
  std::string reason;
  std::optional<int64_t> created_by;
  std::string created_by_name;
  int64_t created_at_us = 0;
};

struct ReceivableDetail {
  Receivable receivable;
  std::vector<Allocation> allocations;
  std::vector<Waiver> waivers;
};

struct ReceivableQuery {
  std::optional<int64_t> customer_id;
  std::optional<int64_t> department_id;  // that department and below
  std::string status;                    // open, paid, cancelled
  std::string period;                    // YYYY-MM
  bool overdue_only = false;
  std::optional<Date> as_of;  // late fees to this day (default today)
  int page = 1;
  int page_size = 20;
};

// What a customer owes today, bill by bill (the counter's and the channels' query).
struct ArrearsBill {
  int64_t receivable_id = 0;
  int64_t bill_id = 0;
  std::string bill_no;
  YearMonth period;
  Money amount;
  Money principal;  // outstanding
  Money late_fee;   // due
  Date due_date;
  int64_t days_overdue = 0;
  bool frozen = false;
};
struct CustomerArrears {
  int64_t customer_id = 0;
  std::string customer_no;
  std::string name;
  std::string address;
  int64_t department_id = 0;
  Date as_of;
  std::vector<ArrearsBill> bills;
  Money principal;
  Money late_fee;
  Money total;
  Money credit;  // 溢缴 already held
  std::optional<int64_t> prepaid_account_id;
  std::optional<Money> prepaid_balance;
};

struct ReceiptLine {
  int64_t receivable_id = 0;
  std::string bill_no;
  YearMonth period;
  Money principal;
  Money late_fee;
};

// A payment as its receipt (收据).
struct Receipt {
  int64_t payment_id = 0;
  std::string receipt_no;
  int64_t customer_id = 0;
  std::string customer_no;
  std::string customer_name;
  std::string customer_address;
  int64_t department_id = 0;
  std::string department_name;
  std::string source;  // counter, channel, debit
  std::optional<int64_t> channel_id;
  std::optional<std::string> channel_code;
  std::string method;  // cash, card, transfer, bank
  std::optional<std::string> serial;
  std::optional<std::string> request_id;  // the counter client's idempotency key
  Money amount;
  std::optional<Money> tendered;
  Money change;
  Money principal;
  Money late_fee;
  Money credit;
  Money prepaid;
  std::optional<int64_t> prepaid_account_id;
  Date pay_date;
  std::optional<std::string> txn_time;
  Date clearing_date;
  std::vector<ReceiptLine> lines;
  std::string status;  // posted, reversed
  std::optional<int64_t> reversed_at_us;
  std::optional<std::string> reversal_reason;
  std::string cashier;  // username of who took it (the channel's API user)
  int64_t created_at_us = 0;
  int64_t version = 0;
  bool duplicate = false;  // a retry (channel serial, counter request id) answered the original
};

// The printable receipt (Chinese, fixed width lines).
std::string PrintableReceipt(const Receipt& r, const TimeZone& zone);

struct CounterPaymentInput {
  int64_t customer_id = 0;
  Money amount;
  std::string method = "cash";    // cash, card, transfer
  std::optional<Money> tendered;  // cash handed over (≥ amount); change = tendered − amount
  // Optional but recommended: 1-64 of A-Z a-z 0-9 - _ . chosen by the client per payment. A
  // retry with the same id (after a timeout, a double click) answers the original receipt with
  // duplicate = true and posts nothing; the same id for another customer, amount or method is
  // AlreadyExists on request_id. Unique per cashier (users.id).
  std::optional<std::string> request_id;
};

struct PaymentQuery {
  std::optional<int64_t> customer_id;
  std::optional<int64_t> channel_id;
  std::string source;        // counter, channel, debit
  std::string status;        // posted, reversed
  std::optional<Date> from;  // clearing dates, inclusive
  std::optional<Date> to;
  int page = 1;
  int page_size = 20;
};

// ---- Ledger views ----

struct LedgerAccount {
  std::string code;
  std::string name;
  std::string kind;       // asset, liability, revenue
  std::string subledger;  // customer or ""
};

struct TrialBalanceRow {
  std::string code;
  std::string name;
  std::string kind;
  Money debit;
  Money credit;
  Money balance;  // debit − credit
};
struct TrialBalance {
  std::optional<int64_t> department_id;
  std::optional<Date> from;
  std::optional<Date> to;
  std::vector<TrialBalanceRow> rows;
  Money total_debit;
  Money total_credit;
  Money total_balance;  // always zero
};

struct EntryLine {
  int64_t line_no = 0;
  std::string account;
  std::optional<int64_t> customer_id;
  Money debit;
  Money credit;
};
struct Entry {
  int64_t id = 0;
  std::string kind;
  Date business_date;
  int64_t posted_at_us = 0;
  int64_t department_id = 0;
  std::optional<int64_t> customer_id;
  std::string ref_type;
  std::optional<int64_t> ref_id;
  std::string memo;
  Money amount;
  std::optional<int64_t> reverses_entry_id;
  std::optional<int64_t> reversed_by_entry_id;
  std::optional<int64_t> created_by;
  std::vector<EntryLine> lines;
};
struct EntryQuery {
  std::optional<int64_t> customer_id;
  std::optional<int64_t> department_id;
  std::string kind;
  std::optional<Date> from;
  std::optional<Date> to;
  int page = 1;
  int page_size = 20;
};

// 对账单: the customer's balance (what it owes: receivables minus credit and prepaid money)
// moved entry by entry.
struct StatementLine {
  int64_t entry_id = 0;
  Date business_date;
  std::string kind;
  std::string memo;
  Money amount;    // the entry's amount
  Money late_fee;  // late fee paid in the entry
  Money change;    // of the balance owed (+ charge, − payment)
  Money balance;   // owed after the entry
};
struct Statement {
  int64_t customer_id = 0;
  std::string customer_no;
  std::string customer_name;
  Date from;
  Date to;
  Money opening_balance;
  Money charges;   // sum of the positive changes
  Money payments;  // sum of the negative changes, as a positive amount
  Money closing_balance;
  std::vector<StatementLine> lines;
};

// ---- Arrears and reminders ----

struct AgingRow {
  int64_t department_id = 0;
  std::string department_name;
  Money current;  // not yet due
  Money d0_30;    // 1-30 days overdue
  Money d31_60;
  Money d61_90;
  Money d90_plus;
  Money overdue;  // the four buckets
  int64_t overdue_bills = 0;
  int64_t overdue_customers = 0;
};
struct Aging {
  Date as_of;
  std::vector<AgingRow> rows;  // one per department with receivables
  AgingRow total;
};

struct ArrearsCustomer {
  int64_t customer_id = 0;
  std::string customer_no;
  std::string name;
  int64_t department_id = 0;
  int64_t overdue_bills = 0;
  Money principal;
  Money late_fee;
  Money total;
  Date oldest_due_date;
  int64_t max_days_overdue = 0;
};
struct ArrearsQuery {
  std::optional<int64_t> department_id;
  std::optional<Date> as_of;
  int64_t min_days_overdue = 1;
  int page = 1;
  int page_size = 20;
};

struct Reminder {
  int64_t id = 0;
  int64_t receivable_id = 0;
  std::string bill_no;
  YearMonth period;
  int64_t customer_id = 0;
  std::string customer_no;
  std::string customer_name;
  std::string customer_address;
  int64_t department_id = 0;
  std::string department_name;
  int64_t level = 1;  // 1 催缴通知, 2 再次催缴, 3 停电预告
  Date as_of;
  int64_t days_overdue = 0;
  Money amount;
  Money principal;
  Money late_fee;
  Date due_date;
  Date deadline;
  int64_t created_at_us = 0;
};
struct ReminderQuery {
  std::optional<int64_t> department_id;
  std::optional<int64_t> customer_id;
  std::optional<int64_t> level;
  int page = 1;
  int page_size = 20;
};
struct ReminderRun {
  Date as_of;
  int64_t created = 0;
  int64_t existing = 0;  // already generated for that bill and level
  int64_t bills = 0;     // overdue bills looked at
};
// Days overdue from which each reminder level is due; a level-3 notice warns of disconnection
// (tariffs.md §8: 30 days overdue and after a demand).
struct ReminderPolicy {
  int64_t level2_days = 15;
  int64_t level3_days = 30;
  int64_t deadline_days = 7;  // pay within this many days of the notice
};
// The printable notice (Chinese).
std::string ReminderNoticeText(const Reminder& r);

class AccountsService {
 public:
  explicit AccountsService(AccountsContext ctx) : ctx_(std::move(ctx)) {}
  const AccountsContext& context() const { return ctx_; }

  // ---- Receivables ----
  // Needs accounts.read or payment.counter (the counter's query before taking money).
  Result<CustomerArrears> GetArrears(const org::Actor& actor, int64_t customer_id,
                                     std::optional<Date> as_of = std::nullopt);
  Result<std::vector<Receivable>> ListReceivables(const org::Actor& actor, const ReceivableQuery& q,
                                                  int64_t* total);
  Result<ReceivableDetail> GetReceivable(const org::Actor& actor, int64_t id,
                                         std::optional<Date> as_of = std::nullopt);
  // Waives `amount` (default: all) of the late fee due today (accounts.late_fee). Audited.
  Result<Receivable> WaiveLateFee(const org::Actor& actor, int64_t receivable_id, int64_t version,
                                  std::optional<Money> amount, const std::string& reason);

  // ---- Payments ----
  // 坐收 (payment.counter): allocates, posts, audits; the receipt. Idempotent by request_id.
  Result<Receipt> PayAtCounter(const org::Actor& actor, const CounterPaymentInput& in);
  Result<Receipt> GetPayment(const org::Actor& actor, int64_t id);
  Result<std::vector<Receipt>> ListPayments(const org::Actor& actor, const PaymentQuery& q,
                                            int64_t* total);
  // 冲正 (payment.reverse): only on the payment's clearing day, and for a channel payment only
  // while the channel's day is open; reversal entries, receivables reopened.
  Result<Receipt> ReversePayment(const org::Actor& actor, int64_t id, int64_t version,
                                 const std::string& reason);

  // ---- Ledger (accounts.read) ----
  Result<std::vector<LedgerAccount>> ListLedgerAccounts(const org::Actor& actor);
  Result<TrialBalance> GetTrialBalance(const org::Actor& actor,
                                       std::optional<int64_t> department_id,
                                       std::optional<Date> from, std::optional<Date> to);
  Result<std::vector<Entry>> ListEntries(const org::Actor& actor, const EntryQuery& q,
                                         int64_t* total);
  Result<Statement> GetStatement(const org::Actor& actor, int64_t customer_id, Date from, Date to);

  // ---- Arrears (accounts.read) and reminders ----
  Result<Aging> GetAging(const org::Actor& actor, std::optional<int64_t> department_id,
                         std::optional<Date> as_of);
  Result<std::vector<ArrearsCustomer>> ListArrearsCustomers(const org::Actor& actor,
                                                            const ArrearsQuery& q, int64_t* total);
  // 催缴 (accounts.late_fee): a notice for every overdue open bill of the department (and
  // below) at the level its days overdue reach; idempotent per bill and level.
  Result<ReminderRun> GenerateReminders(const org::Actor& actor, int64_t department_id,
                                        std::optional<Date> as_of,
                                        const ReminderPolicy& policy = {});
  Result<std::vector<Reminder>> ListReminders(const org::Actor& actor, const ReminderQuery& q,
                                              int64_t* total);
  Result<Reminder> GetReminder(const org::Actor& actor, int64_t id);

 private:
  AccountsContext ctx_;
};

// ---- JSON (money as "123.45" yuan strings, dates "YYYY-MM-DD") ----
nlohmann::json ToJson(const Receivable& r);
nlohmann::json ToJson(const ReceivableDetail& d);
nlohmann::json ToJson(const CustomerArrears& a);
nlohmann::json ToJson(const Receipt& r);
nlohmann::json ToJson(const TrialBalance& t);
nlohmann::json ToJson(const Entry& e);
nlohmann::json ToJson(const Statement& s);
nlohmann::json ToJson(const Aging& a);
nlohmann::json ToJson(const ArrearsCustomer& a);
nlohmann::json ToJson(const Reminder& r);
nlohmann::json ToJson(const ReminderRun& r);

}  // namespace gridmis::accounts
