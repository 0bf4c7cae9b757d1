// Property test: thousands of random operations — bills issued and cancelled, counter and
// channel payments (with retried serials), reversals, late-fee waivers, prepaid purchases and
// daily deductions, days passing — and after each batch the ledger balances entry by entry, the
// trial balance is zero, and every customer's sub-ledgers equal its receivables, credit and
// prepaid balances. On SQLite and PostgreSQL, with a fixed seed.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "accounts/testing.h"
#include "reading/billable.h"

namespace gridmis::accounts {
namespace {

using testing::AccountsFixture;

Date D(const char* s) { return Date::Parse(s).value(); }

class LedgerPropertyTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto f = AccountsFixture::Create(
        GetParam(), D("2026-01-01"),
        std::make_shared<testing::FlatPricer>(Price::ParseYuan("0.55").value()));
    if (!f.ok() && GetParam() == "postgres" && !store::testing::PostgresRequiredForTest()) {
      GTEST_SKIP() << f.status().ToString();
    }
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    f_ = std::move(*f);
  }

  int64_t Int(const std::string& sql, const store::Params& params = {}) {
    auto n = f_->QueryInt(sql, params);
    EXPECT_TRUE(n.ok()) << sql << ": " << n.status().ToString();
    return n.ok() ? *n : -1;
  }

  void CheckInvariants(const std::vector<int64_t>& customers, int step) {
    SCOPED_TRACE("after operation " + std::to_string(step));
    EXPECT_EQ(Int("SELECT COUNT(*) FROM (SELECT entry_id FROM journal_lines GROUP BY entry_id "
                  "HAVING SUM(debit_fen) <> SUM(credit_fen)) x"),
              0);
    auto tb =
        f_->accounts().GetTrialBalance(f_->system(), std::nullopt, std::nullopt, std::nullopt);
    ASSERT_TRUE(tb.ok());
    EXPECT_EQ(tb->total_debit, tb->total_credit);
    EXPECT_EQ(tb->total_balance, Money());
    EXPECT_EQ(Int("SELECT COUNT(*) FROM journal_lines WHERE debit_fen < 0 OR credit_fen < 0 OR "
                  "(debit_fen > 0 AND credit_fen > 0)"),
              0);
    for (int64_t c : customers) {
      auto sub = [&](const char* account) {
        return Int(
            "SELECT COALESCE(SUM(debit_fen - credit_fen), 0) FROM journal_lines WHERE "
            "customer_id = $1 AND account_code = $2",
            {c, std::string(account)});
      };
      EXPECT_EQ(sub("receivable"),
                Int("SELECT COALESCE(SUM(amount_fen - principal_paid_fen), 0) FROM receivables "
                    "WHERE customer_id = $1 AND status <> 'cancelled'",
                    {c}))
          << "customer " << c;
      EXPECT_EQ(-sub("customer_credit"),
                Int("SELECT COALESCE(MAX(credit_fen), 0) FROM customer_balances WHERE "
                    "customer_id = $1",
                    {c}))
          << "customer " << c;
      EXPECT_EQ(-sub("prepaid_liability"),
                Int("SELECT COALESCE(SUM(balance_fen), 0) FROM prepaid_accounts WHERE "
                    "customer_id = $1",
                    {c}))
          << "customer " << c;
      EXPECT_EQ(-sub("prepaid_estimated"),
                Int("SELECT COALESCE(SUM(-t.amount_fen), 0) FROM prepaid_transactions t JOIN "
                    "prepaid_accounts p ON p.id = t.prepaid_account_id WHERE p.customer_id = $1 "
                    "AND t.kind = 'deduction' AND t.settled_by_receivable_id IS NULL",
                    {c}))
          << "customer " << c;
      EXPECT_GE(Int("SELECT COALESCE(MIN(credit_fen), 0) FROM customer_balances WHERE "
                    "customer_id = $1",
                    {c}),
                0);
    }
    // Receivables equal what was allocated to them; payments equal their parts.
    EXPECT_EQ(Int("SELECT COUNT(*) FROM receivables r WHERE r.status <> 'cancelled' AND "
                  "r.amount_fen > 0 AND (r.principal_paid_fen <> (SELECT COALESCE(SUM("
                  "a.principal_fen), 0) FROM payment_allocations a WHERE a.receivable_id = r.id "
                  "AND a.reversed = 0) OR r.late_fee_paid_fen <> (SELECT COALESCE(SUM("
                  "a.late_fee_fen), 0) FROM payment_allocations a WHERE a.receivable_id = r.id "
                  "AND a.reversed = 0))"),
              0);
    EXPECT_EQ(Int("SELECT COUNT(*) FROM receivables WHERE principal_paid_fen > amount_fen AND "
                  "amount_fen > 0"),
              0);
    EXPECT_EQ(Int("SELECT COUNT(*) FROM receivables WHERE status = 'paid' AND amount_fen > 0 AND "
                  "principal_paid_fen <> amount_fen"),
              0);
    EXPECT_EQ(Int("SELECT COUNT(*) FROM payments WHERE amount_fen <> principal_fen + "
                  "late_fee_fen + credit_fen + prepaid_fen"),
              0);
  }

  std::unique_ptr<AccountsFixture> f_;
};

TEST_P(LedgerPropertyTest, RandomOperationsKeepTheLedgerBalanced) {
  constexpr int kOperations = 2000;
  std::mt19937_64 rng(20260101);
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  auto& u = f_->utility();
  std::vector<int64_t> customers;
  std::vector<std::string> numbers;
  for (int i = 0; i < 8; ++i) {
    std::string no = "15000003" + std::to_string(10 + i);
    auto c =
        f_->MakeCustomer(no, i % 2 ? "residential" : "commercial", i < 6 ? u.county_a : u.county_b);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    customers.push_back(*c);
    numbers.push_back(no);
  }
  // Customer 0 has a remote prepaid point, customer 1 an IC-card one.
  auto remote_point = f_->MakePoint(customers[0], "MP-R");
  auto ic_point = f_->MakePoint(customers[1], "MP-IC");
  ASSERT_TRUE(remote_point.ok() && ic_point.ok());
  PrepaidAccountInput ri;
  ri.metering_point_id = *remote_point;
  ri.mode = "remote";
  auto remote = f_->prepaid().Create(f_->manager, ri);
  PrepaidAccountInput ii;
  ii.metering_point_id = *ic_point;
  ii.mode = "ic_card";
  ii.card_no = std::optional<std::string>("IC-1");
  auto ic = f_->prepaid().Create(f_->manager, ii);
  ASSERT_TRUE(remote.ok() && ic.ok());
  org::Actor bank;
  ASSERT_TRUE(f_->MakeChannel("PSBC", "utf8", &bank).ok());

  int64_t next_bill = 1;
  std::vector<int64_t> bills;
  std::vector<std::string> serials;
  int64_t frozen_kwh = 0;
  auto freeze = [&](Date day) {
    reading::DailyFrozen fr;
    fr.metering_point_id = *remote_point;
    fr.day = day;
    fr.registers["total"] = Energy::FromKwh(frozen_kwh);
    Status s =
        f_->db().Write([&](store::Connection& c) { return reading::StoreDailyFrozen(c, {fr}); });
    ASSERT_TRUE(s.ok()) << s.ToString();
  };
  freeze(f_->Today());
  std::map<std::string, int> outcomes;
  auto record = [&](const char* op, const Status& s) {
    // Refusals are expected (frozen, used credit, same-day rules); bugs are not.
    ASSERT_NE(s.code(), StatusCode::kInternal) << op << ": " << s.ToString();
    ASSERT_NE(s.code(), StatusCode::kInvalidArgument) << op << ": " << s.ToString();
    outcomes[std::string(op) + (s.ok() ? " ok" : " " + std::string(StatusCodeName(s.code())))]++;
  };

  for (int step = 1; step <= kOperations; ++step) {
    int64_t op = pick(0, 99);
    size_t who = static_cast<size_t>(pick(0, static_cast<int64_t>(customers.size()) - 1));
    Date today = f_->Today();
    if (op < 22) {  // issue a bill
      int64_t fen = pick(0, 30) == 0 ? -pick(1, 5000) : pick(1, 300000);
      Date issued = today.AddDays(-pick(0, 40));
      YearMonth period{issued.year, issued.month};
      period = period.Prev();
      int64_t point = who == 0 ? *remote_point : who == 1 ? *ic_point : 0;
      Status s = f_->IssueBill(next_bill, customers[who], Money::FromFen(fen), period,
                               issued.AddDays(pick(0, 20)), issued, point);
      record("issue", s);
      bills.push_back(next_bill++);
    } else if (op < 27 && !bills.empty()) {  // cancel a bill
      int64_t bill = bills[static_cast<size_t>(pick(0, static_cast<int64_t>(bills.size()) - 1))];
      record("cancel", f_->CancelBill(bill));
    } else if (op < 50) {  // counter payment
      CounterPaymentInput in;
      in.customer_id = customers[who];
      in.amount = Money::FromFen(pick(1, 200000));
      in.method = pick(0, 2) == 0 ? "card" : "cash";
      const org::Actor& clerk = who < 6 ? f_->clerk_a : f_->clerk_b;
      record("counter", f_->accounts().PayAtCounter(clerk, in).status());
    } else if (op < 68) {  // channel payment, sometimes a retry of an earlier serial
      ChannelPayInput in;
      if (!serials.empty() && pick(0, 4) == 0) {
        in.serial = serials[static_cast<size_t>(pick(0, static_cast<int64_t>(serials.size()) - 1))];
      } else {
        in.serial = "PSBC-" + std::to_string(step);
        serials.push_back(in.serial);
      }
      in.customer_no = numbers[who];
      in.amount = Money::FromFen(pick(1, 150000));
      in.txn_date = today.AddDays(-pick(0, 1));
      auto r = f_->channels().Pay(bank, in);
      record("channel", r.status().code() == StatusCode::kAlreadyExists ? Status() : r.status());
    } else if (op < 76) {  // reverse one of today's payments
      std::vector<std::pair<int64_t, std::string>> today_payments;
      Status s = f_->db().Read([&](store::Connection& c) {
        return c.Query(
            "SELECT id, COALESCE(serial, ''), source FROM payments WHERE status = "
            "'posted' AND clearing_date = $1 AND source <> 'debit' ORDER BY id",
            {today.ToString()}, [&](const store::Row& r) {
              today_payments.emplace_back(r.Int(0),
                                          r.TextView(2) == "channel" ? r.Text(1) : std::string());
            });
      });
      ASSERT_TRUE(s.ok());
      if (today_payments.empty()) continue;
      auto [id, serial] = today_payments[static_cast<size_t>(
          pick(0, static_cast<int64_t>(today_payments.size()) - 1))];
      if (!serial.empty()) {
        record("channel reversal", f_->channels().Reverse(bank, serial, "").status());
      } else {
        auto p = f_->accounts().GetPayment(f_->manager, id);
        ASSERT_TRUE(p.ok());
        record("counter reversal",
               f_->accounts().ReversePayment(f_->manager, id, p->version, "随机冲正").status());
      }
    } else if (op < 80) {  // waive part of a late fee
      int64_t total = 0;
      auto open = f_->accounts().ListReceivables(
          f_->manager, {.status = "open", .overdue_only = true, .page_size = 50}, &total);
      ASSERT_TRUE(open.ok()) << open.status().ToString();
      for (const auto& r : *open) {
        if (r.late_fee_due > Money()) {
          Money part = Money::FromFen(pick(1, r.late_fee_due.fen()));
          record("waive",
                 f_->accounts().WaiveLateFee(f_->manager, r.id, r.version, part, "减免").status());
          break;
        }
      }
    } else if (op < 88) {  // prepaid purchase
      int64_t account = pick(0, 1) ? remote->id : ic->id;
      record("purchase",
             f_->prepaid()
                 .Purchase(f_->clerk_a, account, {Money::FromFen(pick(100, 50000)), "cash"})
                 .status());
    } else if (op < 96) {  // a day passes: freeze the remote meter, deduct yesterday
      frozen_kwh += pick(0, 60);
      Date tomorrow = today.AddDays(1);
      f_->SetToday(tomorrow);
      freeze(tomorrow);
      if (tomorrow.day == 1) {
        // The month's start freeze is today's; nothing more to do.
      }
      auto run = f_->prepaid().RunDailyDeduction(f_->manager, today, std::nullopt);
      record("deduction", run.status());
    } else {  // a debit-free no-op read: the arrears of someone
      record("arrears", f_->accounts().GetArrears(f_->manager, customers[who]).status());
    }
    if (HasFatalFailure()) return;
    if (step % 250 == 0) {
      CheckInvariants(customers, step);
      if (HasFailure()) return;
    }
  }
  CheckInvariants(customers, kOperations);
  // The run exercised what it is meant to.
  EXPECT_GT(outcomes["issue ok"], 100);
  EXPECT_GT(outcomes["counter ok"], 100);
  EXPECT_GT(outcomes["channel ok"], 100);
  EXPECT_GT(outcomes["channel reversal ok"] + outcomes["counter reversal ok"], 10);
  EXPECT_GT(outcomes["deduction ok"], 50);
  EXPECT_GT(outcomes["waive ok"], 5);
  EXPECT_GT(outcomes["cancel ok"], 20);
  EXPECT_GT(Int("SELECT COUNT(*) FROM payment_allocations WHERE late_fee_fen > 0"), 10);
  EXPECT_GT(Int("SELECT COUNT(*) FROM payment_allocations WHERE source = 'credit'"), 10);
  EXPECT_GT(Int("SELECT COUNT(*) FROM payment_allocations WHERE source = 'prepaid'"), 10);
  for (const auto& [k, v] : outcomes) std::cout << "  " << k << ": " << v << "\n";
}

INSTANTIATE_TEST_SUITE_P(Backends, LedgerPropertyTest,
                         ::testing::ValuesIn(store::testing::AvailableBackendsForTest()),
                         [](const auto& p) { return p.param; });

}  // namespace
}  // namespace gridmis::accounts
