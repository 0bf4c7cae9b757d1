// The double-entry ledger (总账): a chart of ledger accounts, journal entries with lines in fen,
// every entry balanced before it is written, nothing edited — a mistake is undone by a reversal
// entry that swaps debits and credits and points at the entry it reverses (at most once).
//
// Accounts with a customer sub-ledger (receivable, late_fee_income, customer_credit,
// prepaid_liability, prepaid_estimated) carry the customer on every line, so a customer's
// balance on them is a sum over journal_lines. Bank clearing accounts are one per payment
// channel: "bank_clearing.<channel code>".
//
// These functions run inside the caller's write transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/money.h"
#include "core/status.h"
#include "core/time.h"
#include "store/db.h"

namespace gridmis::accounts {

// Ledger account codes.
inline constexpr std::string_view kReceivable = "receivable";
inline constexpr std::string_view kCash = "cash";
inline constexpr std::string_view kCardClearing = "card_clearing";
inline constexpr std::string_view kTransferClearing = "transfer_clearing";
inline constexpr std::string_view kEnergySales = "energy_sales";
inline constexpr std::string_view kLateFeeIncome = "late_fee_income";
inline constexpr std::string_view kCustomerCredit = "customer_credit";
inline constexpr std::string_view kPrepaidLiability = "prepaid_liability";
inline constexpr std::string_view kPrepaidEstimated = "prepaid_estimated";
// "bank_clearing.ICBC"
std::string BankClearingAccount(std::string_view channel_code);
// Whether lines of `account` must name their customer.
bool HasCustomerSubledger(std::string_view account);

struct JournalLine {
  std::string account;
  std::optional<int64_t> customer_id;
  Money debit;
  Money credit;
};

struct JournalEntry {
  std::string kind;  // bill_issue, bill_cancel, payment, payment_reversal, credit_apply, ...
  Date business_date;
  int64_t department_id = 0;
  std::optional<int64_t> customer_id;
  std::string ref_type;
  std::optional<int64_t> ref_id;
  std::string memo;
  std::optional<int64_t> created_by;         // users.id
  std::optional<int64_t> reverses_entry_id;  // set by PostReversal
  std::vector<JournalLine> lines;
};

// Lines with zero amounts are dropped. The rest must each be one-sided and non-negative, name
// their customer on sub-ledger accounts, and sum to equal debits and credits above zero;
// otherwise Internal (a bug of the caller: nothing is written).
Status CheckBalanced(const JournalEntry& entry);

// Checks and writes the entry; returns its id.
Result<int64_t> PostEntry(store::Connection& c, const JournalEntry& entry, int64_t now_us);

// Writes the reversal of `entry_id` (debits and credits swapped) with `kind`; an entry is
// reversed at most once (FailedPrecondition the second time). Returns the reversal's id.
Result<int64_t> PostReversal(store::Connection& c, int64_t entry_id, std::string_view kind,
                             Date business_date, std::optional<int64_t> created_by,
                             std::string_view memo, int64_t now_us);

// A customer's balance (debits − credits) on one sub-ledger account.
Result<Money> CustomerSubledgerBalance(store::Connection& c, std::string_view account,
                                       int64_t customer_id);

// Creates the bank clearing account of a channel when it does not exist.
Status EnsureBankClearingAccount(store::Connection& c, int64_t channel_id,
                                 std::string_view channel_code, std::string_view channel_name,
                                 int64_t now_us);

}  // namespace gridmis::accounts
