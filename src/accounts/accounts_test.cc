// Receivables, counter payments, allocation, late fees through payments, reversal, waiver,
// the bill postings, the ledger views, arrears and reminders — on SQLite and PostgreSQL.
#include "accounts/accounts.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "accounts/testing.h"

namespace gridmis::accounts {
namespace {

using testing::AccountsFixture;

Date D(const char* s) { return Date::Parse(s).value(); }
YearMonth P(const char* s) { return YearMonth::Parse(s).value(); }
Money Y(const char* s) { return Money::ParseYuan(s).value(); }

class AccountsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto f = AccountsFixture::Create(GetParam(), D("2026-01-10"));
    if (!f.ok() && GetParam() == "postgres" && !store::testing::PostgresRequiredForTest()) {
      GTEST_SKIP() << f.status().ToString();
    }
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    f_ = std::move(*f);
  }

  int64_t Customer(const std::string& no, const std::string& category = "commercial",
                   int64_t dept = 0) {
    auto id = f_->MakeCustomer(no, category, dept ? dept : f_->utility().county_a);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : 0;
  }
  // Issued 15 days before it is due unless `issued` says otherwise.
  void Issue(int64_t bill_id, int64_t customer, const char* amount, const char* period,
             const char* due, const char* issued = nullptr) {
    Status s = f_->IssueBill(bill_id, customer, Y(amount), P(period), D(due),
                             issued ? D(issued) : D(due).AddDays(-15));
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  int64_t Count(const std::string& sql, const store::Params& params = {}) {
    auto n = f_->QueryInt(sql, params);
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? *n : -1;
  }
  void ExpectBalanced() {
    auto tb = f_->accounts().GetTrialBalance(f_->manager, std::nullopt, std::nullopt, std::nullopt);
    ASSERT_TRUE(tb.ok()) << tb.status().ToString();
    EXPECT_EQ(tb->total_debit, tb->total_credit);
    EXPECT_EQ(tb->total_balance, Money());
  }
  Money AccountBalance(const std::string& code) {
    auto tb =
        f_->accounts().GetTrialBalance(f_->system(), std::nullopt, std::nullopt, std::nullopt);
    EXPECT_TRUE(tb.ok());
    for (const auto& r : tb->rows) {
      if (r.code == code) return r.balance;
    }
    return Money();
  }
  Receipt Pay(int64_t customer, const char* amount, const char* method = "cash") {
    CounterPaymentInput in;
    in.customer_id = customer;
    in.amount = Y(amount);
    in.method = method;
    auto r = f_->accounts().PayAtCounter(f_->clerk_a, in);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : Receipt{};
  }

  std::unique_ptr<AccountsFixture> f_;
};

TEST_P(AccountsTest, ExampleDLateFeeIsPaidAtTheCounterAndBooked) {
  int64_t shop = Customer("1500000001", "commercial");
  int64_t home = Customer("1500000002", "residential");
  Issue(1, shop, "10000.00", "2025-12", "2025-12-25");
  Issue(2, home, "10000.00", "2025-12", "2025-12-25");
  Issue(3, home, "50.00", "2026-01", "2026-01-05", "2026-01-02");

  auto arrears = f_->accounts().GetArrears(f_->clerk_a, shop);
  ASSERT_TRUE(arrears.ok()) << arrears.status().ToString();
  EXPECT_EQ(arrears->late_fee.ToYuanString(), "420.00");
  EXPECT_EQ(arrears->total.ToYuanString(), "10420.00");
  EXPECT_EQ(arrears->bills.at(0).days_overdue, 16);

  CounterPaymentInput in;
  in.customer_id = shop;
  in.amount = Y("10420.00");
  in.method = "cash";
  in.tendered = Y("10500.00");
  auto r = f_->accounts().PayAtCounter(f_->clerk_a, in);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->late_fee.ToYuanString(), "420.00");
  EXPECT_EQ(r->principal.ToYuanString(), "10000.00");
  EXPECT_EQ(r->change.ToYuanString(), "80.00");
  EXPECT_EQ(r->credit, Money());
  ASSERT_EQ(r->lines.size(), 1u);
  EXPECT_EQ(r->lines[0].bill_no, "B1");
  EXPECT_EQ(r->cashier, "clerk_a");
  std::string text = PrintableReceipt(*r, f_->zone());
  EXPECT_NE(text.find("违约金：420.00"), std::string::npos) << text;
  EXPECT_NE(text.find("找零：80.00"), std::string::npos) << text;
  EXPECT_NE(text.find(r->receipt_no), std::string::npos);

  // Residential: 160.00 on the big bill; the 50.00 bill 5 days late takes the 1.00 minimum.
  auto home_arrears = f_->accounts().GetArrears(f_->clerk_a, home);
  ASSERT_TRUE(home_arrears.ok());
  ASSERT_EQ(home_arrears->bills.size(), 2u);
  EXPECT_EQ(home_arrears->bills[0].late_fee.ToYuanString(), "160.00");
  EXPECT_EQ(home_arrears->bills[1].late_fee.ToYuanString(), "1.00");
  EXPECT_EQ(home_arrears->total.ToYuanString(), "10211.00");

  // The ledger: cash 10,420.00 in, late-fee income 420.00, the shop's receivable settled.
  ExpectBalanced();
  EXPECT_EQ(AccountBalance("cash").ToYuanString(), "10420.00");
  EXPECT_EQ(AccountBalance("late_fee_income").ToYuanString(), "-420.00");
  EXPECT_EQ(Count("SELECT COALESCE(SUM(debit_fen - credit_fen), 0) FROM journal_lines WHERE "
                  "account_code = 'receivable' AND customer_id = $1",
                  {shop}),
            0);
  auto detail = f_->accounts().GetReceivable(f_->manager, r->lines[0].receivable_id);
  ASSERT_TRUE(detail.ok());
  EXPECT_EQ(detail->receivable.status, "paid");
  EXPECT_EQ(detail->receivable.late_fee_paid.ToYuanString(), "420.00");
  EXPECT_EQ(detail->receivable.late_fee_accrued.ToYuanString(), "420.00");
  EXPECT_EQ(detail->receivable.settled_date, "2026-01-10");
  ASSERT_EQ(detail->allocations.size(), 1u);
  EXPECT_EQ(detail->allocations[0].receipt_no, r->receipt_no);
  // The payment is audited with the receipt.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_log WHERE entity = 'payment' AND action = 'create' "
                  "AND entity_id = $1",
                  {std::to_string(r->payment_id)}),
            1);
}

TEST_P(AccountsTest, ACounterRetryWithTheSameRequestIdPaysOnce) {
  int64_t shop = Customer("1500000031");
  Issue(31, shop, "1000.00", "2026-01", "2026-01-25");
  auto snapshot = [&] {
    return std::vector<int64_t>{
        Count("SELECT COUNT(*) FROM payments"), Count("SELECT COUNT(*) FROM journal_entries"),
        Count("SELECT COUNT(*) FROM audit_log"),
        Count("SELECT COALESCE(SUM(principal_paid_fen), 0) FROM receivables"),
        Count("SELECT COALESCE(SUM(credit_fen), 0) FROM customer_balances")};
  };
  CounterPaymentInput in;
  in.customer_id = shop;
  in.amount = Y("400.00");
  in.request_id = "POS7-20260110-0001";
  auto first = f_->accounts().PayAtCounter(f_->clerk_a, in);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->duplicate);
  EXPECT_EQ(first->request_id, "POS7-20260110-0001");
  auto before = snapshot();
  // The clerk's client timed out (or a double click) and sends it again: the original receipt.
  auto again = f_->accounts().PayAtCounter(f_->clerk_a, in);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->payment_id, first->payment_id);
  EXPECT_EQ(again->receipt_no, first->receipt_no);
  EXPECT_EQ(snapshot(), before);
  // The same id with another amount: a conflict naming request_id, nothing posted.
  in.amount = Y("500.00");
  auto other = f_->accounts().PayAtCounter(f_->clerk_a, in);
  EXPECT_EQ(other.status().code(), StatusCode::kAlreadyExists) << other.status().ToString();
  EXPECT_EQ(other.status().field(), "request_id");
  EXPECT_NE(other.status().message().find(first->receipt_no), std::string::npos);
  EXPECT_EQ(snapshot(), before);
  in.request_id = "bad id!";
  EXPECT_EQ(f_->accounts().PayAtCounter(f_->clerk_a, in).status().field(), "request_id");
  // Without an id every request is a new payment (the old behaviour, still allowed).
  EXPECT_FALSE(Pay(shop, "1.00").duplicate);
  EXPECT_FALSE(Pay(shop, "1.00").duplicate);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM payments"), 3);

  // Concurrent identical requests: the unique index lets exactly one through.
  constexpr int kThreads = 6;
  in.amount = Y("100.00");
  in.request_id = "POS7-20260110-0002";
  std::vector<Result<Receipt>> results(kThreads, Result<Receipt>(Internal("not run")));
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      ++ready;
      while (ready.load() < kThreads) std::this_thread::yield();
      results[i] = f_->accounts().PayAtCounter(f_->clerk_a, in);
    });
  }
  for (auto& t : threads) t.join();
  int originals = 0;
  std::set<int64_t> ids;
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    if (!r->duplicate) ++originals;
    ids.insert(r->payment_id);
  }
  EXPECT_EQ(originals, 1);
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM payments"), 4);
  EXPECT_EQ(Count("SELECT principal_paid_fen FROM receivables WHERE bill_id = 31"), 50200);
  ExpectBalanced();

  // The lost race, made certain: the first request holds its transaction open (so the early
  // look-up misses it) and commits while this one waits to write; the unique index refuses
  // this one's row and the original is answered.
  std::atomic<bool> inserted{false};
  int64_t racer = 0;
  std::thread first_request([&] {
    Status s = f_->db().Write([&](store::Connection& c) -> Status {
      ASSIGN_OR_RETURN(
          racer,
          c.InsertReturningId("INSERT INTO payments (customer_id, department_id, source, method, "
                              "amount_fen, pay_date, clearing_date, created_by, created_at_us, "
                              "request_id) VALUES ($1, $2, 'counter', 'cash', 700, '2026-01-10', "
                              "'2026-01-10', $3, 1, 'POS7-20260110-0003') RETURNING id",
                              {shop, f_->utility().county_a, f_->clerk_a.user_id}));
      inserted = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
  });
  while (!inserted.load()) std::this_thread::yield();
  in.amount = Y("7.00");
  in.request_id = "POS7-20260110-0003";
  auto lost = f_->accounts().PayAtCounter(f_->clerk_a, in);
  first_request.join();
  ASSERT_TRUE(lost.ok()) << lost.status().ToString();
  EXPECT_TRUE(lost->duplicate);
  EXPECT_EQ(lost->payment_id, racer);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM payments"), 5);
  EXPECT_EQ(Count("SELECT principal_paid_fen FROM receivables WHERE bill_id = 31"), 50200);
}

TEST_P(AccountsTest, PaymentsGoToTheOldestBillFirstLateFeeBeforePrincipal) {
  int64_t c = Customer("1500000010", "commercial");
  Issue(10, c, "100.00", "2025-10", "2025-11-25");
  Issue(11, c, "200.00", "2025-11", "2025-12-25");
  Issue(12, c, "300.00", "2025-12", "2026-01-25");
  // Fees on 2026-01-10: bill 10: 36 days × 0.20 + 10 days × 0.30 = 10.20;
  // bill 11: 6 × 0.40 + 10 × 0.60 = 8.40; bill 12 not due.
  Receipt first = Pay(c, "115.00");
  ASSERT_EQ(first.lines.size(), 2u);
  EXPECT_EQ(first.lines[0].bill_no, "B10");
  EXPECT_EQ(first.lines[0].late_fee.ToYuanString(), "10.20");
  EXPECT_EQ(first.lines[0].principal.ToYuanString(), "100.00");
  EXPECT_EQ(first.lines[1].bill_no, "B11");
  EXPECT_EQ(first.lines[1].late_fee.ToYuanString(), "4.80");
  EXPECT_EQ(first.lines[1].principal.ToYuanString(), "0.00");

  Receipt second = Pay(c, "500.00");
  ASSERT_EQ(second.lines.size(), 2u);
  EXPECT_EQ(second.lines[0].bill_no, "B11");
  EXPECT_EQ(second.lines[0].late_fee.ToYuanString(), "3.60");
  EXPECT_EQ(second.lines[0].principal.ToYuanString(), "200.00");
  EXPECT_EQ(second.lines[1].bill_no, "B12");
  EXPECT_EQ(second.lines[1].late_fee.ToYuanString(), "0.00");
  EXPECT_EQ(second.lines[1].principal.ToYuanString(), "296.40");

  auto arrears = f_->accounts().GetArrears(f_->clerk_a, c);
  ASSERT_TRUE(arrears.ok());
  ASSERT_EQ(arrears->bills.size(), 1u);
  EXPECT_EQ(arrears->bills[0].principal.ToYuanString(), "3.60");
  EXPECT_EQ(arrears->total.ToYuanString(), "3.60");
  ExpectBalanced();

  // Bad input changes nothing.
  int64_t payments = Count("SELECT COUNT(*) FROM payments");
  CounterPaymentInput bad;
  bad.customer_id = c;
  bad.amount = Y("10.00");
  bad.method = "cheque";
  EXPECT_EQ(f_->accounts().PayAtCounter(f_->clerk_a, bad).status().field(), "method");
  bad.method = "card";
  bad.tendered = Y("20.00");
  EXPECT_EQ(f_->accounts().PayAtCounter(f_->clerk_a, bad).status().field(), "tendered");
  bad.method = "cash";
  bad.tendered = Y("5.00");
  EXPECT_EQ(f_->accounts().PayAtCounter(f_->clerk_a, bad).status().field(), "tendered");
  bad.tendered.reset();
  bad.amount = Money();
  EXPECT_EQ(f_->accounts().PayAtCounter(f_->clerk_a, bad).status().field(), "amount");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM payments"), payments);
}

TEST_P(AccountsTest, OverpaymentBecomesCreditAppliedToTheNextBill) {
  int64_t c = Customer("1500000020", "residential");
  Receipt r = Pay(c, "50.00");
  EXPECT_EQ(r.credit.ToYuanString(), "50.00");
  EXPECT_TRUE(r.lines.empty());
  Issue(20, c, "30.00", "2025-12", "2026-01-25", "2026-01-10");
  auto a = f_->accounts().GetArrears(f_->clerk_a, c);
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->bills.empty());
  EXPECT_EQ(a->credit.ToYuanString(), "20.00");
  Issue(21, c, "100.00", "2026-01", "2026-02-25", "2026-01-10");
  a = f_->accounts().GetArrears(f_->clerk_a, c);
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->bills.size(), 1u);
  EXPECT_EQ(a->bills[0].principal.ToYuanString(), "80.00");
  EXPECT_EQ(a->credit, Money());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM payment_allocations WHERE source = 'credit'"), 2);
  EXPECT_EQ(AccountBalance("customer_credit"), Money());
  ExpectBalanced();
}

TEST_P(AccountsTest, BillPostingsAreIdempotentAndCancellationReturnsTheMoney) {
  int64_t c = Customer("1500000030", "residential");
  Issue(30, c, "120.00", "2025-12", "2026-01-25", "2026-01-05");
  Issue(30, c, "120.00", "2025-12", "2026-01-25", "2026-01-05");  // again: nothing new
  EXPECT_EQ(Count("SELECT COUNT(*) FROM receivables"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM journal_entries WHERE kind = 'bill_issue'"), 1);
  Pay(c, "100.00");
  ASSERT_TRUE(f_->CancelBill(30).ok());
  ASSERT_TRUE(f_->CancelBill(30).ok());  // again: nothing new
  EXPECT_EQ(Count("SELECT COUNT(*) FROM journal_entries WHERE kind = 'bill_cancel'"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM journal_entries WHERE kind = 'bill_cancel_refund'"), 1);
  EXPECT_EQ(Count("SELECT status = 'cancelled' FROM receivables WHERE bill_id = 30"), 1);
  auto a = f_->accounts().GetArrears(f_->clerk_a, c);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->credit.ToYuanString(), "100.00");
  // The rebill takes the money back.
  Issue(31, c, "110.00", "2025-12", "2026-01-25", "2026-01-10");
  a = f_->accounts().GetArrears(f_->clerk_a, c);
  ASSERT_EQ(a->bills.size(), 1u);
  EXPECT_EQ(a->bills[0].principal.ToYuanString(), "10.00");
  EXPECT_EQ(a->credit, Money());
  // The receivable sub-ledger equals the open receivables.
  EXPECT_EQ(Count("SELECT COALESCE(SUM(debit_fen - credit_fen), 0) FROM journal_lines "
                  "WHERE account_code = 'receivable'"),
            1000);
  ExpectBalanced();

  // A bill never issued cannot be cancelled; a bad posting is refused whole.
  EXPECT_EQ(f_->CancelBill(999).code(), StatusCode::kNotFound);
  Status bad = f_->IssueBill(32, c, Y("10.00"), P("2026-01"), D("2026-01-01"), D("2026-01-10"));
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.field(), "due_date");

  // A negative bill credits the customer; once that credit is used it cannot be cancelled.
  Issue(33, c, "-15.00", "2026-01", "2026-02-25", "2026-01-10");
  a = f_->accounts().GetArrears(f_->clerk_a, c);
  EXPECT_TRUE(a->bills.empty());
  EXPECT_EQ(a->credit.ToYuanString(), "5.00");
  Status cancel = f_->CancelBill(33);
  EXPECT_EQ(cancel.code(), StatusCode::kFailedPrecondition) << cancel.ToString();
  ExpectBalanced();
}

TEST_P(AccountsTest, ReversalOnlyOnTheSameDayWithReversalEntries) {
  int64_t c = Customer("1500000040", "commercial");
  Issue(40, c, "10000.00", "2025-12", "2025-12-25");
  Receipt today = Pay(c, "10420.00");
  int64_t entries = Count("SELECT COUNT(*) FROM journal_entries");
  auto rev = f_->accounts().ReversePayment(f_->clerk_a, today.payment_id, today.version, "收错户");
  ASSERT_TRUE(rev.ok()) << rev.status().ToString();
  EXPECT_EQ(rev->status, "reversed");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM journal_entries"), entries + 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM journal_entries WHERE reverses_entry_id IS NOT NULL"), 1);
  auto a = f_->accounts().GetArrears(f_->clerk_a, c);
  EXPECT_EQ(a->total.ToYuanString(), "10420.00");
  EXPECT_EQ(AccountBalance("cash"), Money());
  EXPECT_EQ(AccountBalance("late_fee_income"), Money());
  // Twice: refused, nothing changes.
  EXPECT_EQ(f_->accounts()
                .ReversePayment(f_->clerk_a, today.payment_id, rev->version, "again")
                .status()
                .code(),
            StatusCode::kFailedPrecondition);
  // A stale version: Aborted.
  EXPECT_EQ(f_->accounts().ReversePayment(f_->clerk_a, today.payment_id, 1, "xx").status().code(),
            StatusCode::kAborted);

  Receipt yesterday = Pay(c, "10420.00");
  f_->SetToday(D("2026-01-11"));
  auto late = f_->accounts().ReversePayment(f_->clerk_a, yesterday.payment_id, yesterday.version,
                                            "次日冲正");
  EXPECT_EQ(late.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(late.status().message().find("only be reversed on the day"), std::string::npos);
  // Without payment.reverse: refused.
  auto analyst = f_->utility().MakeActor("analyst1", f_->utility().city, {"analyst"});
  ASSERT_TRUE(analyst.ok());
  EXPECT_EQ(f_->accounts().ReversePayment(*analyst, yesterday.payment_id, 1, "xx").status().code(),
            StatusCode::kPermissionDenied);
  ExpectBalanced();
}

TEST_P(AccountsTest, LateFeeWaiverIsAuditedAndLowersWhatIsDue) {
  int64_t c = Customer("1500000050", "commercial");
  Issue(50, c, "10000.00", "2025-12", "2025-12-25");
  int64_t total = 0;
  auto list = f_->accounts().ListReceivables(f_->manager, {.customer_id = c}, &total);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(total, 1);
  const Receivable& r = list->at(0);
  EXPECT_EQ(r.late_fee_due.ToYuanString(), "420.00");
  // The counter clerk may not waive.
  EXPECT_EQ(f_->accounts()
                .WaiveLateFee(f_->clerk_a, r.id, r.version, Y("100.00"), "特殊困难")
                .status()
                .code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(f_->accounts()
                .WaiveLateFee(f_->finance, r.id, r.version, Y("500.00"), "特殊困难")
                .status()
                .field(),
            "amount");
  auto w = f_->accounts().WaiveLateFee(f_->finance, r.id, r.version, Y("100.00"), "特殊困难");
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->late_fee_waived.ToYuanString(), "100.00");
  EXPECT_EQ(w->late_fee_due.ToYuanString(), "320.00");
  EXPECT_EQ(f_->accounts().WaiveLateFee(f_->finance, r.id, r.version, {}, "stale").status().code(),
            StatusCode::kAborted);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_log WHERE action = 'waive_late_fee' AND "
                  "entity = 'receivable'"),
            1);
  Receipt p = Pay(c, "10320.00");
  EXPECT_EQ(p.late_fee.ToYuanString(), "320.00");
  EXPECT_EQ(p.principal.ToYuanString(), "10000.00");
  auto d = f_->accounts().GetReceivable(f_->manager, r.id);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->waivers.size(), 1u);
  EXPECT_EQ(d->waivers[0].reason, "特殊困难");
  EXPECT_EQ(d->waivers[0].created_by_name, "finance");
  EXPECT_EQ(d->receivable.late_fee_accrued.ToYuanString(), "420.00");
}

TEST_P(AccountsTest, OtherCountiesAreOutOfScope) {
  int64_t b = Customer("1500000060", "commercial", f_->utility().county_b);
  Issue(60, b, "100.00", "2025-12", "2026-01-25");
  CounterPaymentInput in;
  in.customer_id = b;
  in.amount = Y("100.00");
  EXPECT_EQ(f_->accounts().PayAtCounter(f_->clerk_a, in).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(f_->accounts().GetArrears(f_->clerk_a, b).status().code(), StatusCode::kNotFound);
  int64_t total = -1;
  auto list = f_->accounts().ListReceivables(f_->clerk_a, {}, &total);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(total, 0);
  EXPECT_TRUE(f_->accounts().PayAtCounter(f_->clerk_b, in).ok());
  EXPECT_EQ(
      f_->accounts().GetStatement(f_->clerk_a, b, D("2025-01-01"), D("2026-12-31")).status().code(),
      StatusCode::kNotFound);
}

TEST_P(AccountsTest, StatementTrialBalanceAndJournal) {
  int64_t c = Customer("1500000070", "commercial");
  Issue(70, c, "10000.00", "2025-12", "2025-12-25");
  Pay(c, "10420.00", "card");
  Pay(c, "80.00", "transfer");  // credit
  auto s = f_->accounts().GetStatement(f_->manager, c, D("2026-01-01"), D("2026-01-31"));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->opening_balance.ToYuanString(), "10000.00");  // the December bill
  ASSERT_EQ(s->lines.size(), 2u);
  EXPECT_EQ(s->lines[0].amount.ToYuanString(), "10420.00");
  EXPECT_EQ(s->lines[0].late_fee.ToYuanString(), "420.00");
  EXPECT_EQ(s->lines[0].change.ToYuanString(), "-10000.00");
  EXPECT_EQ(s->lines[1].change.ToYuanString(), "-80.00");
  EXPECT_EQ(s->closing_balance.ToYuanString(), "-80.00");  // the utility owes 80.00 (credit)
  EXPECT_EQ(s->payments.ToYuanString(), "10080.00");

  auto tb = f_->accounts().GetTrialBalance(f_->manager, f_->utility().county_a, std::nullopt,
                                           std::nullopt);
  ASSERT_TRUE(tb.ok());
  EXPECT_EQ(tb->total_debit.ToYuanString(), "20500.00");  // bill + two payments
  EXPECT_EQ(tb->total_balance, Money());
  auto other = f_->accounts().GetTrialBalance(f_->manager, f_->utility().county_b, std::nullopt,
                                              std::nullopt);
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->rows.empty());

  int64_t total = 0;
  auto entries = f_->accounts().ListEntries(f_->manager, {.customer_id = c}, &total);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  EXPECT_EQ(total, 3);
  ASSERT_EQ(entries->size(), 3u);
  const Entry& pay = entries->at(1);  // newest first: credit payment, payment, bill
  EXPECT_EQ(pay.kind, "payment");
  Money debits, credits;
  for (const auto& l : pay.lines) {
    debits += l.debit;
    credits += l.credit;
  }
  EXPECT_EQ(debits, credits);
  EXPECT_EQ(pay.lines.at(0).account, "card_clearing");
  auto accounts = f_->accounts().ListLedgerAccounts(f_->manager);
  ASSERT_TRUE(accounts.ok());
  EXPECT_GE(accounts->size(), 9u);
}

TEST_P(AccountsTest, AgingArrearsListAndReminders) {
  auto& u = f_->utility();
  int64_t a1 = Customer("1500000081", "commercial");
  int64_t a2 = Customer("1500000082", "residential");
  int64_t b1 = Customer("1500000083", "commercial", u.county_b);
  Issue(81, a1, "100.00", "2025-12", "2026-01-20");  // not due
  Issue(82, a1, "200.00", "2025-11", "2025-12-25");  // 16 days
  Issue(83, a2, "300.00", "2025-10", "2025-11-25");  // 46 days
  Issue(84, a2, "400.00", "2025-08", "2025-10-01");  // 101 days
  Issue(85, b1, "500.00", "2025-09", "2025-10-25");  // 77 days

  auto aging = f_->accounts().GetAging(f_->manager, u.city, std::nullopt);
  ASSERT_TRUE(aging.ok()) << aging.status().ToString();
  ASSERT_EQ(aging->rows.size(), 2u);
  const AgingRow& ra = aging->rows[0].department_id == u.county_a ? aging->rows[0] : aging->rows[1];
  EXPECT_EQ(ra.current.ToYuanString(), "100.00");
  EXPECT_EQ(ra.d0_30.ToYuanString(), "200.00");
  EXPECT_EQ(ra.d31_60.ToYuanString(), "300.00");
  EXPECT_EQ(ra.d61_90.ToYuanString(), "0.00");
  EXPECT_EQ(ra.d90_plus.ToYuanString(), "400.00");
  EXPECT_EQ(ra.overdue_bills, 3);
  EXPECT_EQ(ra.overdue_customers, 2);
  EXPECT_EQ(aging->total.d61_90.ToYuanString(), "500.00");
  EXPECT_EQ(aging->total.overdue.ToYuanString(), "1400.00");
  // The county clerk sees its county only.
  auto own = f_->accounts().GetAging(f_->clerk_a, std::nullopt, std::nullopt);
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(own->rows.size(), 1u);

  int64_t total = 0;
  auto list =
      f_->accounts().ListArrearsCustomers(f_->manager, {.department_id = u.county_a}, &total);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(total, 2);
  EXPECT_EQ(list->at(0).customer_no, "1500000082");  // the oldest debt first
  EXPECT_EQ(list->at(0).max_days_overdue, 101);
  EXPECT_EQ(list->at(0).principal.ToYuanString(), "700.00");
  EXPECT_GT(list->at(0).late_fee, Money());
  list = f_->accounts().ListArrearsCustomers(
      f_->manager, {.department_id = u.county_a, .min_days_overdue = 30}, &total);
  EXPECT_EQ(total, 1);

  // Reminders: one per overdue bill at its level; again: nothing new.
  auto run = f_->accounts().GenerateReminders(f_->finance, u.county_a, std::nullopt);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->created, 3);
  EXPECT_EQ(run->bills, 3);
  run = f_->accounts().GenerateReminders(f_->finance, u.county_a, std::nullopt);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->created, 0);
  EXPECT_EQ(run->existing, 3);
  auto reminders = f_->accounts().ListReminders(f_->manager, {.department_id = u.county_a}, &total);
  ASSERT_TRUE(reminders.ok());
  ASSERT_EQ(total, 3);
  std::map<std::string, int64_t> levels;
  for (const auto& m : *reminders) levels[m.bill_no] = m.level;
  EXPECT_EQ(levels["B82"], 2);  // 16 days
  EXPECT_EQ(levels["B83"], 3);
  EXPECT_EQ(levels["B84"], 3);
  // Two weeks later bill 82 is 30 days overdue (level 3) and bill 81 became overdue (level 1).
  f_->SetToday(D("2026-01-24"));
  run = f_->accounts().GenerateReminders(f_->finance, u.county_a, std::nullopt);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->created, 2);
  auto notice_of = [&](const std::string& bill) -> std::string {
    auto all = f_->accounts().ListReminders(f_->manager, {}, &total);
    for (const auto& m : *all) {
      if (m.bill_no == bill && m.level == 3) return ReminderNoticeText(m);
    }
    return "";
  };
  std::string notice = notice_of("B84");
  EXPECT_NE(notice.find("欠费停电预告通知书"), std::string::npos) << notice;
  EXPECT_NE(notice.find("1500000082"), std::string::npos);
  EXPECT_NE(notice.find("中止供电"), std::string::npos);
  EXPECT_NE(notice.find("400.00"), std::string::npos);
  // The counter clerk cannot generate them.
  EXPECT_EQ(f_->accounts().GenerateReminders(f_->clerk_a, u.county_a, std::nullopt).status().code(),
            StatusCode::kPermissionDenied);
}

INSTANTIATE_TEST_SUITE_P(Backends, AccountsTest,
                         ::testing::ValuesIn(store::testing::AvailableBackendsForTest()),
                         [](const auto& p) { return p.param; });

}  // namespace
}  // namespace gridmis::accounts
