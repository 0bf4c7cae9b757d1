// Late-payment fees (电费违约金), tariffs.md §8 and §0.3 rule 7. Pure: no database, no clock.
//
// For each overdue day d from due_date + 1 up to the day of payment (inclusive when the policy
// counts the payment day), the fee is rate(d) × the principal still owed at the start of d:
//   residential: the residential rate (default 1‰ a day);
//   others: the current-year rate (2‰) when d is in the year of the bill's 电费年月, else the
//   cross-year rate (3‰) — each day takes the rate of its own year.
// A partial payment lowers the principal from the next day (the day of payment still accrues on
// the amount before it when the payment day counts). The fee does not compound. The sum is kept
// exact and rounded once to the fen, half up; a total above zero and below the minimum (1.00
// yuan) is charged as the minimum. Every figure is configurable (LateFeePolicy).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/decimal.h"
#include "core/money.h"
#include "core/status.h"
#include "core/time.h"

namespace gridmis::rating {
struct LateFeePolicy;
}

namespace gridmis::accounts {

struct LateFeePolicy {
  Decimal residential_daily_rate{1, 3};   // 1‰
  Decimal current_year_daily_rate{2, 3};  // 2‰
  Decimal cross_year_daily_rate{3, 3};    // 3‰
  Money minimum = Money::FromFen(100);    // a positive total below this is charged as this
  bool count_payment_day = true;          // the day of payment accrues
  bool waive_residential = false;         // some utilities charge residential customers none
  // §0.3 rule 7: each day takes the rate of its own year (true); false: once the fee is computed
  // in a later year than the bill's, every overdue day takes the cross-year rate.
  bool rate_by_day_year = true;

  // Rates between 0 and 1 with at most 8 decimals, a minimum of zero or more.
  Status Validate() const;
};

// The tariff catalogue's late-fee policy (rating::Policy::late_fee) in these terms.
LateFeePolicy LateFeePolicyFromCatalogue(const rating::LateFeePolicy& p);

// A principal payment of a receivable: the principal it paid and the day it was paid.
struct PrincipalPayment {
  Date date;
  Money principal;
};

struct LateFeeInput {
  Money principal;  // the bill amount
  YearMonth bill_period;
  Date due_date;
  bool residential = false;
  std::vector<PrincipalPayment> payments;  // any order
  Date as_of;                              // the payment day (or the day the fee is computed to)
};

// The whole fee accrued up to `as_of` (paid, waived and due together). Zero when not overdue.
// InvalidArgument only for an invalid policy or an amount that overflows.
Result<Money> ComputeLateFee(const LateFeePolicy& policy, const LateFeeInput& in);

// Days overdue on `as_of`: as_of − due_date when positive, else 0.
int64_t DaysOverdue(Date due_date, Date as_of);

// "residential" is the only category with the residential rate.
inline bool IsResidentialCategory(std::string_view category) { return category == "residential"; }

}  // namespace gridmis::accounts
