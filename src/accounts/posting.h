// The ledger entries the bill workflow posts, in the caller's write transaction.
//
// CONTRACT between accounts/ (owner) and billing/ (user): when billing issues a bill it calls
// PostBillIssued in the same transaction that marks the bill issued; when it cancels an issued
// bill (冲正, before rebilling) it calls PostBillCancelled. Both are idempotent by bill id: a
// second call for the same bill changes nothing and returns OK.
#pragma once

#include <cstdint>
#include <string>

#include "accounts/late_fee.h"
#include "core/money.h"
#include "core/status.h"
#include "core/time.h"
#include "store/db.h"

namespace gridmis::accounts {

struct BillPosting {
  int64_t bill_id = 0;
  std::string bill_no;
  int64_t customer_id = 0;
  int64_t account_id = 0;     // the customer's paying account (accounts table)
  int64_t department_id = 0;  // for scope
  int64_t metering_point_id = 0;
  YearMonth period;  // 电费年月
  Money amount;      // the bill total (may be zero or negative for a credit)
  Date issue_date;
  Date due_date;                  // late fees run from the day after
  std::string customer_category;  // residential, commercial, ... (late-fee rates)
  int64_t actor_user_id = 0;
};

// Debits receivables, credits energy sales (and tax-inclusive revenue lines as the ledger keeps
// them); creates the receivable (应收) the payments are allocated to. A customer's prepaid credit
// balance is applied to it at once, oldest first.
Status PostBillIssued(store::Connection& c, const BillPosting& bill, int64_t now_us);

// Reverses the bill's entries with reversal postings (nothing is edited in place). Money already
// allocated to it goes back to the customer's credit balance (to be allocated to the rebill).
Status PostBillCancelled(store::Connection& c, int64_t bill_id, int64_t actor_user_id,
                         int64_t now_us);

// ---- Additions (accounts/ owner) ----
//
// Behaviour in detail:
// - PostBillIssued creates the receivable (status open; a zero or negative bill is settled at
//   once, a negative one credits the customer). When the bill's metering point has an active
//   prepaid account (预付费), the bill is settled from its balance at once (monthly 结算 /
//   true-up): the remote account's daily estimates up to the period's end are cleared first and
//   the balance may go below zero (which may request a disconnection). Otherwise the customer's
//   credit is applied to its open receivables, oldest first, late fee before principal, as of
//   the issue date. Journal entries carry `actor_user_id` as their author.
// - PostBillCancelled refuses (FailedPrecondition) while the bill is frozen in a direct-debit
//   batch (代扣在途), and a negative bill whose credit the customer has already used. NotFound
//   when the bill was never issued.
// - Both only take the customer's lock row (customer_balances) when they move credit or
//   prepaid money, so a bill issue in bulk does not serialise on customers.

// The late-fee policy the postings and the accounts services use (tariffs.md §8 defaults until
// set). Set once at start-up from the tariff catalogue's policy; thread-safe.
void SetLateFeePolicy(const LateFeePolicy& policy);
LateFeePolicy CurrentLateFeePolicy();
// The zone of business dates for PostBillCancelled's entries (default Asia/Shanghai); set at
// start-up from the configuration.
void SetBusinessTimeZone(const TimeZone& zone);
TimeZone BusinessTimeZone();

}  // namespace gridmis::accounts
