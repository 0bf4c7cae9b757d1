// Test support for the accounts module: a fresh database on one backend (grid::testing's
// departments and roles), a fake clock on a business day, the three services, customers with
// accounts and metering points, business actors, a payment channel with its API user, and bills
// issued through the posting contract.
#pragma once

#include <memory>
#include <string>

#include "accounts/accounts.h"
#include "accounts/channel.h"
#include "accounts/posting.h"
#include "accounts/prepaid.h"
#include "grid/testing.h"

namespace gridmis::accounts::testing {

// A pricer for tests of the deduction mechanics: a flat price per kWh of the total register
// (× multiplier), rounded half up to the fen. The rating engine's pricing is tested with the
// real catalogue (MakeRatingPricer).
class FlatPricer final : public PrepaidPricer {
 public:
  explicit FlatPricer(Price per_kwh) : per_kwh_(per_kwh) {}
  Result<Money> MonthToDate(const PricingRequest& r) const override;

 private:
  Price per_kwh_;
};

class AccountsFixture {
 public:
  // `today` is the business date the fake clock starts on (10:00 Asia/Shanghai).
  static Result<std::unique_ptr<AccountsFixture>> Create(
      const std::string& backend, Date today,
      std::shared_ptr<const PrepaidPricer> pricer = nullptr);

  store::Database& db() { return u_->db(); }
  grid::testing::TestUtility& utility() { return *u_; }
  FakeClock& clock() { return clock_; }
  const TimeZone& zone() const { return zone_; }
  AccountsService& accounts() { return *accounts_; }
  ChannelService& channels() { return *channels_; }
  PrepaidService& prepaid() { return *prepaid_; }
  const org::Actor& system() const { return u_->system(); }

  // Moves the clock to 10:00 of `day`.
  void SetToday(Date day);
  Date Today() const { return zone_.LocalDate(clock_.NowMicros()); }

  // A customer in `department_id` (category residential, commercial, ...) with a counter
  // account; returns its id.
  Result<int64_t> MakeCustomer(const std::string& customer_no, const std::string& category,
                               int64_t department_id);
  // A bank-debit account of the customer; returns the account id.
  Result<int64_t> MakeDebitAccount(int64_t customer_id, const std::string& account_no,
                                   const std::string& bank_name, const std::string& bank_account);
  Result<int64_t> AccountOf(int64_t customer_id);
  // A metering point of the customer on `tariff_code`; returns its id.
  Result<int64_t> MakePoint(int64_t customer_id, const std::string& code,
                            const std::string& tariff_code = "residential_lv");
  // A payment channel (code, its API user with the payment_channel role); returns the channel
  // and sets *actor to the API user.
  Result<Channel> MakeChannel(const std::string& code, const std::string& encoding,
                              org::Actor* actor, std::optional<std::string> bank_name = {},
                              bool allow_partial = true);

  // Issues bill `bill_id` through PostBillIssued in its own transaction (the account is the
  // customer's first; category and department from the customer).
  Status IssueBill(int64_t bill_id, int64_t customer_id, Money amount, YearMonth period,
                   Date due_date, std::optional<Date> issue_date = std::nullopt,
                   int64_t metering_point_id = 0, std::optional<int64_t> account_id = {});
  Status CancelBill(int64_t bill_id);

  // Sums for checks.
  Result<int64_t> QueryInt(const std::string& sql, const store::Params& params = {});

  // Business actors: clerk_a (counter_clerk, county A), clerk_b (county B), finance (finance
  // clerk, city), manager (city).
  org::Actor clerk_a, clerk_b, finance, manager;

 private:
  AccountsFixture() = default;
  FakeClock clock_{0};
  TimeZone zone_;
  std::unique_ptr<grid::testing::TestUtility> u_;
  std::unique_ptr<AccountsService> accounts_;
  std::unique_ptr<ChannelService> channels_;
  std::unique_ptr<PrepaidService> prepaid_;
};

}  // namespace gridmis::accounts::testing
