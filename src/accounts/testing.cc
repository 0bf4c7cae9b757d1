#include "accounts/testing.h"

#include "customer/customer.h"
#include "metering/metering.h"

namespace gridmis::accounts::testing {

Result<Money> FlatPricer::MonthToDate(const PricingRequest& r) const {
  auto start = r.start.find("total");
  auto end = r.end.find("total");
  if (start == r.start.end() || end == r.end.end()) {
    return InvalidArgument("the total register is missing");
  }
  Energy used = Energy::FromDwh((end->second - start->second).dwh() * r.multiplier);
  return per_kwh_.Times(used);
}

Result<std::unique_ptr<AccountsFixture>> AccountsFixture::Create(
    const std::string& backend, Date today, std::shared_ptr<const PrepaidPricer> pricer) {
  std::unique_ptr<AccountsFixture> f(new AccountsFixture());
  ASSIGN_OR_RETURN(f->zone_, TimeZone::Load("Asia/Shanghai"));
  f->SetToday(today);
  ASSIGN_OR_RETURN(f->u_, grid::testing::TestUtility::Create(backend, f->clock_));
  AccountsContext ctx{f->db(), f->clock_, f->zone_, LateFeePolicy{}};
  f->accounts_ = std::make_unique<AccountsService>(ctx);
  f->channels_ = std::make_unique<ChannelService>(ctx);
  f->prepaid_ = std::make_unique<PrepaidService>(ctx, std::move(pricer));
  auto& u = *f->u_;
  ASSIGN_OR_RETURN(f->clerk_a, u.MakeActor("clerk_a", u.county_a, {"counter_clerk"}));
  ASSIGN_OR_RETURN(f->clerk_b, u.MakeActor("clerk_b", u.county_b, {"counter_clerk"}));
  ASSIGN_OR_RETURN(f->finance, u.MakeActor("finance", u.city, {"finance_clerk"}));
  ASSIGN_OR_RETURN(f->manager, u.MakeActor("manager", u.city, {"manager"}));
  return f;
}

void AccountsFixture::SetToday(Date day) {
  clock_.Set(zone_.StartOfDay(day) + 10 * 3600 * kMicrosPerSecond);
}

Result<int64_t> AccountsFixture::MakeCustomer(const std::string& customer_no,
                                              const std::string& category, int64_t department_id) {
  customer::CustomerService customers(db(), clock_);
  customer::CustomerInput in;
  in.customer_no = customer_no;
  in.name = "客户" + customer_no;
  in.category = category;
  in.address = "集宁区新华街" + customer_no + "号";
  in.department_id = department_id;
  ASSIGN_OR_RETURN(customer::Customer c, customers.Create(system(), in));
  customer::AccountInput a;
  a.account_no = "A" + customer_no;
  a.name = "客户" + customer_no;
  RETURN_IF_ERROR(customers.CreateAccount(system(), c.id, a).status());
  return c.id;
}

Result<int64_t> AccountsFixture::MakeDebitAccount(int64_t customer_id,
                                                  const std::string& account_no,
                                                  const std::string& bank_name,
                                                  const std::string& bank_account) {
  customer::CustomerService customers(db(), clock_);
  customer::AccountInput a;
  a.account_no = account_no;
  a.name = "代扣账户" + account_no;
  a.payment_method = "bank_debit";
  a.bank_name = std::optional<std::string>(bank_name);
  a.bank_account_no = std::optional<std::string>(bank_account);
  ASSIGN_OR_RETURN(customer::Account acc, customers.CreateAccount(system(), customer_id, a));
  return acc.id;
}

Result<int64_t> AccountsFixture::AccountOf(int64_t customer_id) {
  return QueryInt("SELECT MIN(id) FROM accounts WHERE customer_id = $1", {customer_id});
}

Result<int64_t> AccountsFixture::MakePoint(int64_t customer_id, const std::string& code,
                                           const std::string& tariff_code) {
  metering::MeteringService metering(db(), clock_);
  metering::MeteringPointInput in;
  in.code = code;
  in.customer_id = customer_id;
  in.voltage_v = 220;
  in.tariff_code = tariff_code;
  ASSIGN_OR_RETURN(metering::MeteringPoint p, metering.CreatePoint(system(), in));
  return p.id;
}

Result<Channel> AccountsFixture::MakeChannel(const std::string& code, const std::string& encoding,
                                             org::Actor* actor,
                                             std::optional<std::string> bank_name,
                                             bool allow_partial) {
  ASSIGN_OR_RETURN(*actor, u_->MakeActor("api_" + code, u_->root, {"payment_channel"}));
  actor->auth_method = "api_token";
  ChannelInput in;
  in.code = code;
  in.name = code + "银行";
  in.user_id = std::optional<int64_t>(actor->user_id);
  in.bank_name = bank_name;
  in.file_encoding = encoding;
  in.allow_partial = allow_partial;
  return channels_->CreateChannel(finance, in);
}

Status AccountsFixture::IssueBill(int64_t bill_id, int64_t customer_id, Money amount,
                                  YearMonth period, Date due_date, std::optional<Date> issue_date,
                                  int64_t metering_point_id, std::optional<int64_t> account_id) {
  return db().Write([&](store::Connection& c) -> Status {
    BillPosting b;
    b.bill_id = bill_id;
    b.bill_no = "B" + std::to_string(bill_id);
    b.customer_id = customer_id;
    if (account_id) {
      b.account_id = *account_id;
    } else {
      ASSIGN_OR_RETURN(
          b.account_id,
          c.QueryInt("SELECT MIN(id) FROM accounts WHERE customer_id = $1", {customer_id}));
    }
    bool found = false;
    RETURN_IF_ERROR(c.QueryOne("SELECT department_id, category FROM customers WHERE id = $1",
                               {customer_id},
                               [&](const store::Row& r) {
                                 found = true;
                                 b.department_id = r.Int(0);
                                 b.customer_category = r.Text(1);
                               })
                        .status());
    if (!found) return NotFound("customer");
    b.metering_point_id = metering_point_id;
    b.period = period;
    b.amount = amount;
    b.issue_date = issue_date.value_or(zone_.LocalDate(clock_.NowMicros()));
    b.due_date = due_date;
    b.actor_user_id = manager.user_id;
    return PostBillIssued(c, b, clock_.NowMicros());
  });
}

Status AccountsFixture::CancelBill(int64_t bill_id) {
  return db().Write([&](store::Connection& c) {
    return PostBillCancelled(c, bill_id, manager.user_id, clock_.NowMicros());
  });
}

Result<int64_t> AccountsFixture::QueryInt(const std::string& sql, const store::Params& params) {
  return db().ReadValue<int64_t>([&](store::Connection& c) { return c.QueryInt(sql, params); });
}

}  // namespace gridmis::accounts::testing
