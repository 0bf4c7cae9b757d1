// The money engine shared by the bill postings, counter and channel payments, direct debits and
// prepaid accounts: receivables, allocation (oldest bill first, late fee before principal),
// customer credit, prepaid balances with their control state. Not a public interface: callers
// outside accounts/ use posting.h and the services.
//
// Every function runs inside the caller's write transaction. Money operations on a customer
// first take the customer's lock row (LockCustomer): on PostgreSQL that row lock serialises
// them per customer; SQLite has one writer anyway.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "accounts/accounts.h"
#include "accounts/late_fee.h"
#include "accounts/ledger.h"
#include "core/money.h"
#include "core/status.h"
#include "core/time.h"
#include "org/actor.h"
#include "store/db.h"

namespace gridmis::accounts::internal {

struct ReceivableRow {
  int64_t id = 0;
  int64_t bill_id = 0;
  std::string bill_no;
  int64_t customer_id = 0;
  std::optional<int64_t> account_id;
  int64_t department_id = 0;
  std::optional<int64_t> metering_point_id;
  YearMonth period;
  std::string category;
  Money amount;
  Money principal_paid;
  Money late_fee_paid;
  Money late_fee_waived;
  Date issue_date;
  Date due_date;
  std::string status;  // open, paid, cancelled
  std::optional<std::string> settled_date;
  std::optional<int64_t> debit_batch_id;
  std::optional<int64_t> issue_entry_id;
  std::optional<int64_t> cancel_entry_id;
  int64_t version = 0;
  int64_t created_at_us = 0;
  int64_t updated_at_us = 0;

  Money outstanding() const { return amount - principal_paid; }
};

// The column list and reader for receivables (alias r).
extern const char* const kReceivableCols;
ReceivableRow ReadReceivable(const store::Row& row, int first_col = 0);

Result<std::optional<ReceivableRow>> LoadReceivable(store::Connection& c, int64_t id);
Result<std::optional<ReceivableRow>> LoadReceivableByBill(store::Connection& c, int64_t bill_id);
// Open receivables of a customer, oldest first (period, due date, id).
Result<std::vector<ReceivableRow>> LoadOpenReceivables(store::Connection& c, int64_t customer_id);

// Principal payments (not reversed) of each receivable, for the late-fee computation.
Result<std::map<int64_t, std::vector<PrincipalPayment>>> LoadPrincipalHistory(
    store::Connection& c, const std::vector<int64_t>& receivable_ids);

// The late fee accrued on `r` up to `as_of` in total (paid, waived and due), and what is still
// due of it.
struct LateFee {
  Money accrued;
  Money due;
};
Result<LateFee> ReceivableLateFee(const LateFeePolicy& policy, const ReceivableRow& r,
                                  const std::vector<PrincipalPayment>& history, Date as_of);

// What a customer owes on `as_of`, bill by bill (oldest first).
struct DueBill {
  ReceivableRow receivable;
  Money principal;  // outstanding
  LateFee late_fee;
};
struct Dues {
  std::vector<DueBill> bills;
  Money principal;
  Money late_fee;
  Money total() const { return principal + late_fee; }
};
Result<Dues> CustomerDues(store::Connection& c, const LateFeePolicy& policy, int64_t customer_id,
                          Date as_of);

// Takes the customer's money lock (creating its balance row) and returns the credit balance.
Result<Money> LockCustomer(store::Connection& c, int64_t customer_id, int64_t now_us);
Result<Money> CustomerCredit(store::Connection& c, int64_t customer_id);

// FailedPrecondition naming the batch when an open receivable of the customer is frozen in a
// direct-debit batch (代扣) other than `except_batch`.
Status CheckNotFrozen(store::Connection& c, int64_t customer_id,
                      std::optional<int64_t> except_batch = std::nullopt);

// Money arriving for a customer, allocated to the open receivables oldest first, late fee
// before principal, as of `pay_date`. The remainder goes to the customer's remote prepaid
// account when it has exactly one (a top-up, which may reconnect it), else to the customer's
// credit; with `keep_remainder` (applying existing credit) it is not taken at all.
struct MoneyIn {
  int64_t customer_id = 0;
  int64_t department_id = 0;
  Money amount;
  Date pay_date;
  Date business_date;
  std::string debit_account;  // cash, card_clearing, bank_clearing.X, customer_credit, ...
  std::string entry_kind;     // payment, credit_apply, ...
  std::string memo;
  std::string ref_type;
  std::optional<int64_t> ref_id;
  std::optional<int64_t> payment_id;
  std::string alloc_source = "payment";  // payment, credit
  std::optional<int64_t> created_by;
  bool keep_remainder = false;
  bool remainder_to_prepaid = true;
  // Leave out receivables frozen in a direct-debit batch (a debit of another batch).
  bool skip_frozen = false;
  // A direct debit: paid to the receivable it was exported for first, exactly the exported
  // principal and late fee (the fee as of the export date), whatever has accrued since.
  struct Target {
    int64_t receivable_id = 0;
    Money principal;
    Money late_fee;
  };
  std::optional<Target> target;
};
struct AllocationLine {
  int64_t receivable_id = 0;
  int64_t bill_id = 0;
  std::string bill_no;
  YearMonth period;
  Money principal;
  Money late_fee;
  Money outstanding_after;
};
struct Applied {
  std::vector<AllocationLine> lines;
  Money principal;
  Money late_fee;
  Money credit;   // to the customer's credit
  Money prepaid;  // to the prepaid account
  std::optional<int64_t> prepaid_account_id;
  std::optional<int64_t> entry_id;  // none when nothing moved
};
// The customer must be locked. Posts one journal entry.
Result<Applied> ApplyMoney(store::Connection& c, const LateFeePolicy& policy, const MoneyIn& in,
                           int64_t now_us);

// Applies the customer's credit to its open receivables (oldest first). The customer must be
// locked.
Result<Applied> ApplyCredit(store::Connection& c, const LateFeePolicy& policy, int64_t customer_id,
                            int64_t department_id, Date as_of, std::optional<int64_t> created_by,
                            int64_t now_us);

// ---- Prepaid balances ----

struct PrepaidRow {
  int64_t id = 0;
  int64_t metering_point_id = 0;
  int64_t customer_id = 0;
  int64_t department_id = 0;
  std::string mode;  // ic_card, remote
  std::optional<std::string> card_no;
  Money balance;
  int64_t purchase_count = 0;
  Money total_purchased;
  Money warn_below;
  Money disconnect_below;
  Money reconnect_above;
  bool keep_power = false;
  std::string control_state;  // normal, warned, disconnected
  std::string status;
  int64_t version = 0;
  int64_t created_at_us = 0;
  int64_t updated_at_us = 0;
};
extern const char* const kPrepaidCols;
PrepaidRow ReadPrepaid(const store::Row& row, int first_col = 0);
Result<std::optional<PrepaidRow>> LoadPrepaid(store::Connection& c, int64_t id);
Result<std::optional<PrepaidRow>> LoadPrepaidByPoint(store::Connection& c, int64_t point_id);

// The state a remote account's balance calls for (tariffs.md §10.2): disconnected below the
// disconnect threshold (never for 保电), back on only above the reconnect threshold, warned
// below the warning threshold. IC-card accounts are controlled by their meter: always normal.
std::string TargetControlState(const PrepaidRow& p, Money balance);

struct PrepaidChange {
  std::string kind;  // purchase, deduction, estimate_reversal, settlement, payment, refund
  Money delta;       // signed change of the balance
  Date business_date;
  std::optional<std::string> method;
  bool count_purchase = false;  // IC-card purchase: 购电次数 + 1
  std::optional<int64_t> energy_dwh;
  std::optional<int64_t> charge_to_date_fen;
  std::optional<int64_t> receivable_id;
  std::optional<int64_t> payment_id;
  std::optional<int64_t> entry_id;
  std::optional<int64_t> created_by;
  std::string reason;                     // for control requests
  std::optional<std::string> request_id;  // the client's, for purchases (idempotency)
  // False for a step of a larger change (the estimate reversal before a settlement): the
  // control state is left for the final step to decide, so no request flaps.
  bool evaluate_control = true;
};
// Records the change, moves the balance and the control state, and creates the control
// requests the transition calls for. Updates `p`. Returns the transaction id.
Result<int64_t> ChangePrepaidBalance(store::Connection& c, PrepaidRow& p, const PrepaidChange& ch,
                                     int64_t now_us);

// The receipt number of a payment: "SK" + clearing date + id.
std::string ReceiptNo(int64_t payment_id, std::string_view clearing_date);

// ---- Customers ----

struct CustomerInfo {
  int64_t id = 0;
  std::string customer_no;
  std::string name;
  std::string address;
  std::string category;
  int64_t department_id = 0;
  std::optional<int64_t> account_manager_id;
};
Result<std::optional<CustomerInfo>> LoadCustomer(store::Connection& c, int64_t id);
Result<std::optional<CustomerInfo>> LoadCustomerByNo(store::Connection& c,
                                                     std::string_view customer_no);
// The customer when it exists and is in the actor's data scope; NotFound otherwise.
Result<CustomerInfo> LoadVisibleCustomer(store::Connection& c, const org::Actor& actor, int64_t id);
// A SQL condition: the row's customer (column `customer_col`, with customers aliased `cu`
// joined) is in the actor's data scope.
std::string CustomerScopeSql(const org::Actor& actor,
                             std::string_view dept_col = "cu.department_id");

// ---- Payments ----

struct PaymentRow {
  int64_t id = 0;
  int64_t customer_id = 0;
  int64_t department_id = 0;
  std::string source;
  std::optional<int64_t> channel_id;
  std::string method;
  std::optional<std::string> serial;
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
  std::optional<int64_t> entry_id;
  std::string status;
  std::optional<int64_t> reversal_entry_id;
  std::optional<int64_t> reversed_at_us;
  std::optional<std::string> reversal_reason;
  std::optional<int64_t> created_by;
  int64_t created_at_us = 0;
  int64_t version = 0;
  std::optional<std::string> request_id;  // the client's (counter), unique per user
};
Result<std::optional<PaymentRow>> LoadPayment(store::Connection& c, int64_t id);
Result<std::optional<PaymentRow>> LoadPaymentBySerial(store::Connection& c, int64_t channel_id,
                                                      std::string_view source,
                                                      std::string_view serial);
Result<std::optional<PaymentRow>> LoadPaymentByRequest(store::Connection& c, int64_t created_by,
                                                       std::string_view request_id);

// Inserts the payment (amounts allocated later by RecordApplied); AlreadyExists when the
// channel's serial or the user's request id is taken.
Result<int64_t> InsertPayment(store::Connection& c, const PaymentRow& p, int64_t now_us);
Status RecordApplied(store::Connection& c, int64_t payment_id, const Applied& a);

// Takes money for a customer: locks it, refuses frozen receivables (a direct debit instead
// skips them), inserts the payment, allocates (to `target` first, see MoneyIn) and posts it,
// audits. Returns the payment id.
Result<int64_t> TakePayment(store::Connection& c, const LateFeePolicy& policy,
                            const org::Actor& actor, PaymentRow p, const std::string& debit_account,
                            Date business_date, int64_t now_us,
                            std::optional<MoneyIn::Target> target = std::nullopt);

Result<Receipt> LoadReceipt(store::Connection& c, int64_t payment_id);

// Reverses a posted payment (the caller has checked the day rules): reversal entry, allocations
// undone, credit and prepaid money taken back, payment marked reversed, audited.
Status ReversePaymentTx(store::Connection& c, const PaymentRow& p, const org::Actor& actor,
                        const std::string& reason, Date today, int64_t now_us);

// Audit helper: writes an audit row for `entity` with before/after JSON texts.
Status Audit(store::Connection& c, const org::Actor& actor, std::string_view action,
             std::string_view entity, int64_t id, const std::string& before,
             const std::string& after, int64_t department_id, int64_t now_us);

}  // namespace gridmis::accounts::internal
