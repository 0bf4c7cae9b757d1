// Prepaid metering points (预付费, tariffs.md §10): IC-card (本地费控) and remote (远程费控)
// accounts with a balance, all of it on the ledger (money received is prepaid_liability, 预收).
//
// - IC card: a purchase records the credit written to the card (购电次数 + 1); the meter keeps
//   the purse and trips itself, so no control requests are made for it.
// - Remote: the utility computes the balance. Each day's charge is estimated from the daily
//   frozen registers (reading::LoadDailyFrozen): the consumption from the month's first 00:00
//   freeze to the freeze that closes the day, priced with the point's tariff (rating::Rate)
//   month to date, less what was already deducted this month — exact and idempotent per day
//   (a day is deducted once; a day before an already deducted later day is skipped). Estimates
//   go to prepaid_estimated and are replaced by the official bill when it is issued
//   (posting.h: settlement).
// - Thresholds (remote): warn below warn_below (default 50.00), disconnect below
//   disconnect_below (default 0: a negative balance), reconnect only above reconnect_above. The
//   保电 flag (keep_power) never disconnects. Each change of state creates a control request
//   (warn | disconnect | reconnect) for the acquisition subsystem, which marks it sent and then
//   confirmed or failed.
//
// Data scope: by the metering point's department and the customer's account manager; outside
// it NotFound. Reads need prepaid.read, writes prepaid.write; every write is audited.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "accounts/accounts.h"
#include "grid/records.h"

namespace gridmis::rating {
class TariffCatalogue;
}

namespace gridmis::accounts {

// Prices a remote point's consumption from the first day of the month.
struct PricingRequest {
  std::string point_code;
  std::string tariff_code;
  YearMonth period;
  Date first_day;
  Date last_day;
  int64_t multiplier = 1;
  std::map<std::string, Energy> start;  // registers frozen at 00:00 of first_day (not multiplied)
  std::map<std::string, Energy> end;    // registers frozen at 00:00 of last_day + 1
};
class PrepaidPricer {
 public:
  virtual ~PrepaidPricer() = default;
  // The charge for the period so far (a bill of these reads); errors name the cause.
  virtual Result<Money> MonthToDate(const PricingRequest& r) const = 0;
};
// rating::Rate with the catalogue (tier cumulative taken as zero: the monthly bill trues up).
std::shared_ptr<const PrepaidPricer> MakeRatingPricer(
    std::shared_ptr<const rating::TariffCatalogue> catalogue);

struct PrepaidAccount {
  int64_t id = 0;
  int64_t metering_point_id = 0;
  std::string point_code;
  std::string tariff_code;
  int64_t customer_id = 0;
  std::string customer_no;
  std::string customer_name;
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
  std::string status;         // active, closed
  int64_t version = 0;
  int64_t created_at_us = 0;
  int64_t updated_at_us = 0;
};

struct PrepaidAccountInput {
  std::optional<int64_t> metering_point_id;  // required on create; cannot change
  std::optional<std::string> mode;           // required on create; cannot change
  grid::Nullable<std::string> card_no;
  std::optional<Money> warn_below;
  std::optional<Money> disconnect_below;
  std::optional<Money> reconnect_above;
  std::optional<bool> keep_power;
  std::optional<std::string> status;  // active, closed
};

struct PrepaidQuery {
  std::optional<int64_t> department_id;
  std::optional<int64_t> customer_id;
  std::string mode;
  std::string control_state;
  int page = 1;
  int page_size = 20;
};

struct PrepaidTransaction {
  int64_t id = 0;
  int64_t prepaid_account_id = 0;
  std::string kind;  // purchase, deduction, estimate_reversal, settlement, payment, refund, ...
  Money amount;      // signed change of the balance
  Money balance_after;
  Date business_date;
  std::optional<std::string> method;
  std::optional<int64_t> purchase_count;
  std::optional<int64_t> energy_dwh;
  std::optional<int64_t> charge_to_date_fen;
  std::optional<int64_t> receivable_id;
  std::optional<int64_t> payment_id;
  std::optional<int64_t> entry_id;
  int64_t created_at_us = 0;
  std::optional<std::string> request_id;  // purchases: the client's idempotency key
};

struct PurchaseInput {
  Money amount;
  std::string method = "cash";  // cash, card, transfer
  // Optional but recommended: 1-64 of A-Z a-z 0-9 - _ . chosen by the client per purchase. A
  // retry with the same id answers the original purchase (the same card write) with duplicate =
  // true and posts nothing; the same id with another amount or method is AlreadyExists on
  // request_id. Unique per prepaid account.
  std::optional<std::string> request_id;
};

// What the counter writes onto the customer's IC card.
struct CardWrite {
  std::string card_no;
  int64_t purchase_count = 0;  // 购电次数 after this purchase
  Money amount;                // 本次购电金额
  Money total_purchased;       // 累计购电金额
};

struct PurchaseResult {
  PrepaidAccount account;
  PrepaidTransaction transaction;
  std::optional<CardWrite> card_write;
  bool duplicate = false;  // a retry (same request_id) answered with the original purchase
};

struct ControlRequest {
  int64_t id = 0;
  int64_t metering_point_id = 0;
  std::string point_code;
  std::optional<int64_t> prepaid_account_id;
  int64_t department_id = 0;
  std::string kind;  // warn, disconnect, reconnect
  std::string reason;
  Money balance;
  std::string status;  // pending, sent, confirmed, failed
  std::optional<std::string> error;
  int64_t created_at_us = 0;
  std::optional<int64_t> sent_at_us;
  std::optional<int64_t> completed_at_us;
  int64_t version = 0;
};

struct ControlRequestQuery {
  std::string status;
  std::string kind;
  std::optional<int64_t> metering_point_id;
  std::optional<int64_t> department_id;
  int page = 1;
  int page_size = 20;
};

struct DeductionProblem {
  int64_t prepaid_account_id = 0;
  std::string point_code;
  std::string reason;
};
struct DeductionRun {
  Date day;
  int64_t accounts = 0;  // remote accounts looked at
  int64_t deducted = 0;
  int64_t already_done = 0;  // the day (or a later one) was deducted before
  Money total;
  int64_t control_requests = 0;
  std::vector<DeductionProblem> problems;  // skipped, with the reason
};

class PrepaidService {
 public:
  PrepaidService(AccountsContext ctx, std::shared_ptr<const PrepaidPricer> pricer)
      : ctx_(std::move(ctx)), pricer_(std::move(pricer)) {}

  Result<std::vector<PrepaidAccount>> List(const org::Actor& actor, const PrepaidQuery& q,
                                           int64_t* total);
  Result<PrepaidAccount> Get(const org::Actor& actor, int64_t id);
  Result<PrepaidAccount> Create(const org::Actor& actor, const PrepaidAccountInput& in);
  // Closing (status closed) is refused while the balance is not 0.00 (FailedPrecondition on
  // status): the money must be refunded or settled first.
  Result<PrepaidAccount> Update(const org::Actor& actor, int64_t id, int64_t version,
                                const PrepaidAccountInput& in);
  // 购电: cash/card/transfer → prepaid liability; may reconnect a remote point. Idempotent by
  // request_id.
  Result<PurchaseResult> Purchase(const org::Actor& actor, int64_t id, const PurchaseInput& in);
  Result<std::vector<PrepaidTransaction>> ListTransactions(const org::Actor& actor, int64_t id,
                                                           int page, int page_size, int64_t* total);
  // The daily deduction of every remote account (of the department and below, when given) for
  // `day`, which must have ended (its closing freeze is at 00:00 of day + 1). Each account in
  // its own transaction, audited there (prepaid_account, daily_deduction, balance before and
  // after); the run's summary is audited at the end; rerunning changes nothing.
  // `progress` (optional) is told the accounts done; a non-OK status from it stops the run
  // there and is returned (the days done stay done).
  Result<DeductionRun> RunDailyDeduction(
      const org::Actor& actor, Date day, std::optional<int64_t> department_id,
      const std::function<Status(int64_t done, int64_t total)>& progress = nullptr);

  Result<std::vector<ControlRequest>> ListControlRequests(const org::Actor& actor,
                                                          const ControlRequestQuery& q,
                                                          int64_t* total);
  // pending → sent → confirmed | failed (pending → failed too); `error` with failed.
  Result<ControlRequest> UpdateControlRequest(const org::Actor& actor, int64_t id, int64_t version,
                                              const std::string& status,
                                              const std::optional<std::string>& error);

 private:
  AccountsContext ctx_;
  std::shared_ptr<const PrepaidPricer> pricer_;
};

nlohmann::json ToJson(const PrepaidAccount& a);
nlohmann::json ToJson(const PrepaidTransaction& t);
nlohmann::json ToJson(const PurchaseResult& r);
nlohmann::json ToJson(const ControlRequest& r);
nlohmann::json ToJson(const DeductionRun& r);

}  // namespace gridmis::accounts
