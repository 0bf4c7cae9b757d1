// The ledger entries the bill workflow posts, in the caller's write transaction.
//
// CONTRACT between accounts/ (owner) and billing/ (user): when billing issues a bill it calls
// PostBillIssued in the same transaction that marks the bill issued; when it cancels an issued
// bill (冲正, before rebilling) it calls PostBillCancelled. Both are idempotent by bill id: a
// second call for the same bill changes nothing and returns OK.
#pragma once

#include <cstdint>
#include <string>

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
  YearMonth period;            // 电费年月
  Money amount;                // the bill total (may be zero or negative for a credit)
  Date issue_date;
  Date due_date;               // late fees run from the day after
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

}  // namespace gridmis::accounts
