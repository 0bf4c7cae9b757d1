#include "accounts/late_fee.h"

#include <algorithm>

namespace gridmis::accounts {

namespace {

constexpr int kRateScale = 8;  // rates are summed as counts of 1e-8 per day

Result<int64_t> RateUnits(Decimal rate, std::string_view name) {
  if (rate.scale < 0 || rate.scale > kRateScale) {
    return InvalidArgument(std::string(name) + " has more than 8 decimals", std::string(name));
  }
  if (rate.mantissa < 0 || rate.mantissa > Pow10(rate.scale)) {
    return InvalidArgument(std::string(name) + " must be between 0 and 1 a day", std::string(name));
  }
  return rate.mantissa * Pow10(kRateScale - rate.scale);
}

}  // namespace

Status LateFeePolicy::Validate() const {
  RETURN_IF_ERROR(RateUnits(residential_daily_rate, "residential_daily_rate").status());
  RETURN_IF_ERROR(RateUnits(current_year_daily_rate, "current_year_daily_rate").status());
  RETURN_IF_ERROR(RateUnits(cross_year_daily_rate, "cross_year_daily_rate").status());
  if (minimum < Money()) return InvalidArgument("minimum must not be negative", "minimum");
  return Status::Ok();
}

int64_t DaysOverdue(Date due_date, Date as_of) {
  return std::max<int64_t>(0, as_of.ToDays() - due_date.ToDays());
}

Result<Money> ComputeLateFee(const LateFeePolicy& policy, const LateFeeInput& in) {
  ASSIGN_OR_RETURN(int64_t residential, RateUnits(policy.residential_daily_rate, "residential"));
  ASSIGN_OR_RETURN(int64_t current, RateUnits(policy.current_year_daily_rate, "current_year"));
  ASSIGN_OR_RETURN(int64_t cross, RateUnits(policy.cross_year_daily_rate, "cross_year"));
  if (policy.minimum < Money()) return InvalidArgument("minimum must not be negative", "minimum");
  if (in.residential && policy.waive_residential) return Money();
  if (in.principal <= Money()) return Money();

  const int64_t first = in.due_date.ToDays() + 1;
  const int64_t last = in.as_of.ToDays() - (policy.count_payment_day ? 0 : 1);
  if (last < first) return Money();

  std::vector<PrincipalPayment> pays = in.payments;
  std::sort(pays.begin(), pays.end(),
            [](const PrincipalPayment& a, const PrincipalPayment& b) { return a.date < b.date; });
  size_t next = 0;
  int64_t owed = in.principal.fen();
  // Payments made on or before the due date never bore a fee.
  while (next < pays.size() && pays[next].date.ToDays() < first)
    owed -= pays[next++].principal.fen();

  int128 sum = 0;  // fen × 1e-8
  for (int64_t day = first; day <= last && owed > 0; ++day) {
    // Principal paid on earlier days no longer accrues from this day.
    while (next < pays.size() && pays[next].date.ToDays() < day)
      owed -= pays[next++].principal.fen();
    if (owed <= 0) break;
    int64_t rate = residential;
    if (!in.residential) {
      int year = policy.rate_by_day_year ? Date::FromDays(day).year : in.as_of.year;
      rate = year == in.bill_period.year ? current : cross;
    }
    sum += static_cast<int128>(rate) * owed;
  }
  ASSIGN_OR_RETURN(int64_t fen, DivRoundHalfUp(sum, Pow10(kRateScale)));
  if (sum > 0 && fen < policy.minimum.fen()) fen = policy.minimum.fen();
  return Money::FromFen(fen);
}

}  // namespace gridmis::accounts
