// The accounts module's two uses of the tariff catalogue: its late-fee policy and the pricing of
// remote prepaid consumption with the rating engine.
#include "rating/rating.h"
#include "rating/tariff.h"

#include "accounts/late_fee.h"
#include "accounts/prepaid.h"

namespace gridmis::accounts {

LateFeePolicy LateFeePolicyFromCatalogue(const rating::LateFeePolicy& p) {
  LateFeePolicy out;
  out.residential_daily_rate = p.residential_daily_rate;
  out.current_year_daily_rate = p.current_year_daily_rate;
  out.cross_year_daily_rate = p.cross_year_daily_rate;
  out.minimum = p.minimum;
  out.count_payment_day = p.count_payment_day;
  out.waive_residential = p.residential_waived;
  out.rate_by_day_year = p.rate_by_day_year;
  return out;
}

namespace {

class RatingPricer final : public PrepaidPricer {
 public:
  explicit RatingPricer(std::shared_ptr<const rating::TariffCatalogue> catalogue)
      : catalogue_(std::move(catalogue)) {}

  Result<Money> MonthToDate(const PricingRequest& r) const override {
    if (!catalogue_) return FailedPrecondition("no tariff catalogue is loaded");
    rating::RatingInput in;
    in.metering_point_code = r.point_code;
    in.period = r.period;
    in.first_day = r.first_day;
    in.last_day = r.last_day;
    in.tariff_code = r.tariff_code;
    rating::MeterSpan span;
    span.multiplier = r.multiplier;
    span.start = r.start;
    span.end = r.end;
    span.start_source = "frozen " + r.first_day.ToString();
    span.end_source = "frozen " + r.last_day.AddDays(1).ToString();
    in.meters.push_back(std::move(span));
    ASSIGN_OR_RETURN(rating::RatedBill bill, rating::Rate(in, *catalogue_));
    return bill.total;
  }

 private:
  std::shared_ptr<const rating::TariffCatalogue> catalogue_;
};

}  // namespace

std::shared_ptr<const PrepaidPricer> MakeRatingPricer(
    std::shared_ptr<const rating::TariffCatalogue> catalogue) {
  return std::make_shared<RatingPricer>(std::move(catalogue));
}

}  // namespace gridmis::accounts
