// Prepaid accounts: IC-card purchases, remote daily deductions from frozen reads, thresholds and
// control requests, 保电, monthly settlement by the issued bill — on SQLite and PostgreSQL.
#include "accounts/prepaid.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "accounts/jobs.h"
#include "accounts/testing.h"
#include "rating/tariff.h"
#include "reading/billable.h"

namespace gridmis::accounts {
namespace {

using testing::AccountsFixture;

Date D(const char* s) { return Date::Parse(s).value(); }
YearMonth P(const char* s) { return YearMonth::Parse(s).value(); }
Money Y(const char* s) { return Money::ParseYuan(s).value(); }

class PrepaidTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    // 0.50 yuan/kWh, the nmg_west residential first tier.
    auto f = AccountsFixture::Create(
        GetParam(), D("2026-03-20"),
        std::make_shared<testing::FlatPricer>(Price::ParseYuan("0.50").value()));
    if (!f.ok() && GetParam() == "postgres" && !store::testing::PostgresRequiredForTest()) {
      GTEST_SKIP() << f.status().ToString();
    }
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    f_ = std::move(*f);
    auto c = f_->MakeCustomer("1500000201", "residential", f_->utility().county_a);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    customer_ = *c;
    auto p = f_->MakePoint(customer_, "MP201");
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    point_ = *p;
  }

  PrepaidAccount Open(const std::string& mode, int64_t point, bool keep_power = false,
                      const char* reconnect_above = "0.00") {
    PrepaidAccountInput in;
    in.metering_point_id = point;
    in.mode = mode;
    if (mode == "ic_card") in.card_no = std::optional<std::string>("IC" + std::to_string(point));
    in.keep_power = keep_power;
    in.reconnect_above = Y(reconnect_above);
    auto a = f_->prepaid().Create(f_->clerk_a, in);
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return a.ok() ? *a : PrepaidAccount{};
  }
  PurchaseResult Buy(int64_t account, const char* amount) {
    auto r = f_->prepaid().Purchase(f_->clerk_a, account, {Y(amount), "cash"});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : PurchaseResult{};
  }
  // The total register frozen at 00:00 of `day`.
  void Freeze(int64_t point, const char* day, const char* total_kwh, int64_t multiplier = 1) {
    reading::DailyFrozen f;
    f.metering_point_id = point;
    f.day = D(day);
    f.multiplier = multiplier;
    f.registers["total"] = Energy::ParseKwh(total_kwh).value();
    Status s =
        f_->db().Write([&](store::Connection& c) { return reading::StoreDailyFrozen(c, {f}); });
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  DeductionRun Deduct(const char* day) {
    auto r = f_->prepaid().RunDailyDeduction(f_->clerk_a, D(day), std::nullopt);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : DeductionRun{};
  }
  std::vector<ControlRequest> Requests() {
    int64_t total = 0;
    auto r = f_->prepaid().ListControlRequests(f_->clerk_a, {}, &total);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::vector<ControlRequest>{};
  }
  Money Balance(int64_t account) {
    auto a = f_->prepaid().Get(f_->clerk_a, account);
    EXPECT_TRUE(a.ok());
    return a.ok() ? a->balance : Money();
  }
  int64_t Count(const std::string& sql, const store::Params& params = {}) {
    auto n = f_->QueryInt(sql, params);
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? *n : -1;
  }
  void ExpectLedgerMatches(int64_t account) {
    EXPECT_EQ(Count("SELECT COALESCE(SUM(debit_fen - credit_fen), 0) FROM journal_lines"), 0);
    // The customer's prepaid liability on the ledger is the account's balance.
    EXPECT_EQ(-Count("SELECT COALESCE(SUM(debit_fen - credit_fen), 0) FROM journal_lines WHERE "
                     "account_code = 'prepaid_liability' AND customer_id = $1",
                     {customer_}),
              Balance(account).fen());
  }

  std::unique_ptr<AccountsFixture> f_;
  int64_t customer_ = 0, point_ = 0;
};

TEST_P(PrepaidTest, IcCardPurchaseWritesTheCardAndBooksPrepaidMoney) {
  PrepaidAccount a = Open("ic_card", point_);
  EXPECT_EQ(a.control_state, "normal");
  PurchaseResult r = Buy(a.id, "100.00");
  ASSERT_TRUE(r.card_write.has_value());
  EXPECT_EQ(r.card_write->card_no, "IC" + std::to_string(point_));
  EXPECT_EQ(r.card_write->purchase_count, 1);
  EXPECT_EQ(r.card_write->amount.ToYuanString(), "100.00");
  r = Buy(a.id, "50.00");
  EXPECT_EQ(r.card_write->purchase_count, 2);
  EXPECT_EQ(r.card_write->total_purchased.ToYuanString(), "150.00");
  EXPECT_EQ(r.account.balance.ToYuanString(), "150.00");
  EXPECT_EQ(Count("SELECT COALESCE(SUM(debit_fen), 0) FROM journal_lines WHERE account_code = "
                  "'cash'"),
            15000);
  ExpectLedgerMatches(a.id);
  EXPECT_TRUE(Requests().empty());  // the meter controls itself
  // One account per point; permissions; bad thresholds.
  PrepaidAccountInput again;
  again.metering_point_id = point_;
  again.mode = "remote";
  EXPECT_EQ(f_->prepaid().Create(f_->clerk_a, again).status().code(), StatusCode::kAlreadyExists);
  auto analyst = f_->utility().MakeActor("analyst2", f_->utility().city, {"analyst"});
  EXPECT_EQ(f_->prepaid().Purchase(*analyst, a.id, {Y("1.00"), "cash"}).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_TRUE(f_->prepaid().Get(*analyst, a.id).ok());  // prepaid.read
  auto p2 = f_->MakePoint(customer_, "MP202");
  PrepaidAccountInput bad;
  bad.metering_point_id = *p2;
  bad.mode = "remote";
  bad.warn_below = Y("10.00");
  bad.disconnect_below = Y("20.00");
  EXPECT_EQ(f_->prepaid().Create(f_->clerk_a, bad).status().field(), "warn_below");
  EXPECT_EQ(f_->prepaid().Purchase(f_->clerk_b, a.id, {Y("1.00"), "cash"}).status().code(),
            StatusCode::kNotFound);  // county B
}

TEST_P(PrepaidTest, RemoteDeductionsWarnDisconnectAndReconnect) {
  PrepaidAccount a = Open("remote", point_, false, "10.00");
  Buy(a.id, "100.00");
  Freeze(point_, "2026-03-01", "1000.00");
  Freeze(point_, "2026-03-02", "1040.00");  // day 1: 40 kWh = 20.00
  Freeze(point_, "2026-03-03", "1120.00");  // day 2: 80 kWh = 40.00 → 40.00 left: warn
  Freeze(point_, "2026-03-04", "1210.00");  // day 3: 90 kWh = 45.00 → -5.00: disconnect
  DeductionRun d1 = Deduct("2026-03-01");
  EXPECT_EQ(d1.deducted, 1);
  EXPECT_EQ(d1.total.ToYuanString(), "20.00");
  EXPECT_EQ(Balance(a.id).ToYuanString(), "80.00");
  EXPECT_TRUE(Requests().empty());
  Deduct("2026-03-02");
  EXPECT_EQ(Balance(a.id).ToYuanString(), "40.00");
  auto reqs = Requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].kind, "warn");
  EXPECT_EQ(reqs[0].status, "pending");
  DeductionRun d3 = Deduct("2026-03-03");
  EXPECT_EQ(d3.control_requests, 1);
  EXPECT_EQ(Balance(a.id).ToYuanString(), "-5.00");
  reqs = Requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].kind, "disconnect");
  EXPECT_NE(reqs[1].reason.find("-5.00"), std::string::npos) << reqs[1].reason;
  // Rerunning a day changes nothing.
  DeductionRun again = Deduct("2026-03-03");
  EXPECT_EQ(again.deducted, 0);
  EXPECT_EQ(again.already_done, 1);
  EXPECT_EQ(Balance(a.id).ToYuanString(), "-5.00");
  EXPECT_EQ(Requests().size(), 2u);
  // A purchase that leaves 5.00 (not above the 10.00 reconnect threshold) keeps it off.
  Buy(a.id, "10.00");
  EXPECT_EQ(Requests().size(), 2u);
  EXPECT_EQ(f_->prepaid().Get(f_->clerk_a, a.id)->control_state, "disconnected");
  Buy(a.id, "100.00");  // 105.00: reconnect
  reqs = Requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[2].kind, "reconnect");
  EXPECT_EQ(f_->prepaid().Get(f_->clerk_a, a.id)->control_state, "normal");
  ExpectLedgerMatches(a.id);
  EXPECT_EQ(Count("SELECT COALESCE(SUM(credit_fen - debit_fen), 0) FROM journal_lines WHERE "
                  "account_code = 'prepaid_estimated'"),
            10500);

  // The acquisition subsystem marks the requests.
  auto sent = f_->prepaid().UpdateControlRequest(f_->clerk_a, reqs[1].id, reqs[1].version, "sent",
                                                 std::nullopt);
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_TRUE(sent->sent_at_us.has_value());
  auto done = f_->prepaid().UpdateControlRequest(f_->clerk_a, reqs[1].id, sent->version,
                                                 "confirmed", std::nullopt);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->status, "confirmed");
  EXPECT_EQ(f_->prepaid()
                .UpdateControlRequest(f_->clerk_a, reqs[1].id, done->version, "sent", std::nullopt)
                .status()
                .code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(
      f_->prepaid()
          .UpdateControlRequest(f_->clerk_a, reqs[0].id, reqs[0].version, "failed", std::nullopt)
          .status()
          .field(),
      "error");
  EXPECT_TRUE(f_->prepaid()
                  .UpdateControlRequest(f_->clerk_a, reqs[0].id, reqs[0].version, "failed",
                                        std::string("终端离线"))
                  .ok());
}

TEST_P(PrepaidTest, KeepPowerIsNeverDisconnected) {
  PrepaidAccount a = Open("remote", point_, /*keep_power=*/true);
  Buy(a.id, "10.00");  // below 50.00 already: a warning
  Freeze(point_, "2026-03-01", "0.00");
  Freeze(point_, "2026-03-02", "100.00");  // 50.00: -40.00
  Deduct("2026-03-01");
  EXPECT_EQ(Balance(a.id).ToYuanString(), "-40.00");
  auto reqs = Requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].kind, "warn");
  for (const auto& r : reqs) EXPECT_NE(r.kind, "disconnect");
  // Lifting 保电 disconnects at once.
  auto now = f_->prepaid().Get(f_->clerk_a, a.id);
  PrepaidAccountInput in;
  in.keep_power = false;
  auto lifted = f_->prepaid().Update(f_->clerk_a, a.id, now->version, in);
  ASSERT_TRUE(lifted.ok()) << lifted.status().ToString();
  EXPECT_EQ(lifted->control_state, "disconnected");
  EXPECT_EQ(Requests().back().kind, "disconnect");
}

TEST_P(PrepaidTest, DeductionsAreExactMonthToDateAndSkipCoveredDays) {
  PrepaidAccount a = Open("remote", point_);
  Buy(a.id, "1000.00");
  Freeze(point_, "2026-03-01", "500.00");
  Freeze(point_, "2026-03-04", "500.33");
  Freeze(point_, "2026-03-06", "510.01");
  // Day 3 (closing freeze of 03-04): 0.33 kWh = 0.165 → 0.17.
  Deduct("2026-03-03");
  // Day 5 (closing 03-06): month to date 10.01 kWh = 5.005 → 5.01; less 0.17 = 4.84.
  DeductionRun d5 = Deduct("2026-03-05");
  EXPECT_EQ(d5.total.ToYuanString(), "4.84");
  EXPECT_EQ(Balance(a.id).ToYuanString(), "994.99");
  // Day 4 comes late: day 5 already covers it.
  Freeze(point_, "2026-03-05", "505.00");
  DeductionRun d4 = Deduct("2026-03-04");
  EXPECT_EQ(d4.deducted, 0);
  EXPECT_EQ(d4.already_done, 1);
  EXPECT_EQ(Count("SELECT COALESCE(SUM(-amount_fen), 0) FROM prepaid_transactions WHERE kind = "
                  "'deduction'"),
            501);
  // A missing freeze is reported, not guessed; a day not over yet is refused.
  DeductionRun d7 = Deduct("2026-03-07");
  ASSERT_EQ(d7.problems.size(), 1u);
  EXPECT_NE(d7.problems[0].reason.find("2026-03-08"), std::string::npos) << d7.problems[0].reason;
  EXPECT_EQ(
      f_->prepaid().RunDailyDeduction(f_->clerk_a, D("2026-03-20"), std::nullopt).status().code(),
      StatusCode::kInvalidArgument);
  ExpectLedgerMatches(a.id);
}

TEST_P(PrepaidTest, TheIssuedBillSettlesFromTheBalanceReplacingTheEstimates) {
  PrepaidAccount a = Open("remote", point_);
  Buy(a.id, "200.00");
  Freeze(point_, "2026-02-01", "0.00");
  Freeze(point_, "2026-02-28", "100.00");  // Feb 1..27: 50.00 estimated
  Deduct("2026-02-27");
  EXPECT_EQ(Balance(a.id).ToYuanString(), "150.00");
  // The February bill says 52.30.
  ASSERT_TRUE(f_->IssueBill(301, customer_, Y("52.30"), P("2026-02"), D("2026-03-20"),
                            D("2026-03-05"), point_)
                  .ok());
  EXPECT_EQ(Balance(a.id).ToYuanString(), "147.70");
  EXPECT_EQ(Count("SELECT status = 'paid' FROM receivables WHERE bill_id = 301"), 1);
  EXPECT_EQ(Count("SELECT COALESCE(SUM(debit_fen - credit_fen), 0) FROM journal_lines WHERE "
                  "account_code = 'prepaid_estimated' AND customer_id = $1",
                  {customer_}),
            0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM prepaid_transactions WHERE kind = 'deduction' AND "
                  "settled_by_receivable_id IS NULL"),
            0);
  // Issued again: nothing changes. Cancelled: the money goes back to the balance.
  ASSERT_TRUE(f_->IssueBill(301, customer_, Y("52.30"), P("2026-02"), D("2026-03-20"),
                            D("2026-03-05"), point_)
                  .ok());
  EXPECT_EQ(Balance(a.id).ToYuanString(), "147.70");
  ASSERT_TRUE(f_->CancelBill(301).ok());
  EXPECT_EQ(Balance(a.id).ToYuanString(), "200.00");
  ExpectLedgerMatches(a.id);
}

TEST_P(PrepaidTest, ChannelPaymentsTopUpARemoteAccountAndReconnect) {
  PrepaidAccount a = Open("remote", point_);
  Freeze(point_, "2026-03-01", "0.00");
  Freeze(point_, "2026-03-02", "20.00");  // 10.00: -10.00, disconnected
  Deduct("2026-03-01");
  ASSERT_EQ(Requests().back().kind, "disconnect");
  org::Actor bank;
  ASSERT_TRUE(f_->MakeChannel("CCB", "utf8", &bank).ok());
  ChannelPayInput in;
  in.serial = "CCB-1";
  in.customer_no = "1500000201";
  in.amount = Y("30.00");
  auto r = f_->channels().Pay(bank, in);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->prepaid.ToYuanString(), "30.00");
  EXPECT_EQ(Balance(a.id).ToYuanString(), "20.00");
  EXPECT_EQ(Requests().back().kind, "reconnect");
  // Reversing the payment takes the money back and cuts again.
  ASSERT_TRUE(f_->channels().Reverse(bank, "CCB-1", "").ok());
  EXPECT_EQ(Balance(a.id).ToYuanString(), "-10.00");
  EXPECT_EQ(Requests().back().kind, "disconnect");
  ExpectLedgerMatches(a.id);
}

TEST_P(PrepaidTest, TheDailyDeductionRunsAsAJob) {
  PrepaidAccount a = Open("remote", point_);
  Buy(a.id, "100.00");
  Freeze(point_, "2026-03-01", "0.00");
  Freeze(point_, "2026-03-02", "30.00");
  jobs::JobRunner runner(f_->db(), f_->clock());
  runner.Register(PrepaidDeductionJobKind(f_->prepaid()));
  for (int i = 0; i < 2; ++i) {  // twice: the second run changes nothing
    auto job = runner.Submit(f_->clerk_a, "prepaid_deduction", R"({"day": "2026-03-01"})",
                             f_->utility().county_a);
    ASSERT_TRUE(job.ok()) << job.status().ToString();
    auto done = runner.RunNow(job->id);
    ASSERT_TRUE(done.ok()) << done.status().ToString();
    EXPECT_EQ(done->status, "succeeded") << done->error;
    EXPECT_NE(done->result_json.find(i == 0 ? R"("deducted":1)" : R"("already_done":1)"),
              std::string::npos)
        << done->result_json;
  }
  EXPECT_EQ(Balance(a.id).ToYuanString(), "85.00");
  auto bad = runner.Submit(f_->clerk_a, "prepaid_deduction", R"({"day": "March"})", std::nullopt);
  ASSERT_TRUE(bad.ok());
  auto failed = runner.RunNow(bad->id);
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->status, "failed");
}

TEST_P(PrepaidTest, APurchaseRetryWithTheSameRequestIdBuysOnce) {
  PrepaidAccount a = Open("ic_card", point_);
  auto snapshot = [&] {
    return std::vector<int64_t>{Count("SELECT COUNT(*) FROM prepaid_transactions"),
                                Count("SELECT COUNT(*) FROM journal_entries"),
                                Count("SELECT COUNT(*) FROM audit_log"),
                                Count("SELECT balance_fen + purchase_count FROM prepaid_accounts")};
  };
  PurchaseInput in{Y("100.00"), "cash", "CARD-0001"};
  auto first = f_->prepaid().Purchase(f_->clerk_a, a.id, in);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->duplicate);
  EXPECT_EQ(first->transaction.request_id, "CARD-0001");
  Buy(a.id, "50.00");  // a later purchase without an id
  auto before = snapshot();
  // The counter timed out writing the card and sends the purchase again: the original card
  // write (购电次数 1), not a second one; nothing posted.
  auto again = f_->prepaid().Purchase(f_->clerk_a, a.id, in);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->transaction.id, first->transaction.id);
  ASSERT_TRUE(again->card_write.has_value());
  EXPECT_EQ(again->card_write->purchase_count, 1);
  EXPECT_EQ(again->card_write->amount.ToYuanString(), "100.00");
  EXPECT_EQ(again->card_write->total_purchased.ToYuanString(), "100.00");
  EXPECT_EQ(again->account.balance.ToYuanString(), "150.00");
  EXPECT_EQ(snapshot(), before);
  // The same id with another amount: a conflict naming request_id.
  auto other = f_->prepaid().Purchase(f_->clerk_a, a.id, {Y("10.00"), "cash", "CARD-0001"});
  EXPECT_EQ(other.status().code(), StatusCode::kAlreadyExists) << other.status().ToString();
  EXPECT_EQ(other.status().field(), "request_id");
  EXPECT_EQ(snapshot(), before);
  EXPECT_EQ(
      f_->prepaid().Purchase(f_->clerk_a, a.id, {Y("1.00"), "cash", "bad id!"}).status().field(),
      "request_id");

  // Concurrent identical requests: the unique index lets exactly one through.
  constexpr int kThreads = 6;
  std::vector<Result<PurchaseResult>> results(kThreads,
                                              Result<PurchaseResult>(Internal("not run")));
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      ++ready;
      while (ready.load() < kThreads) std::this_thread::yield();
      results[i] = f_->prepaid().Purchase(f_->clerk_a, a.id, {Y("20.00"), "cash", "CARD-0002"});
    });
  }
  for (auto& t : threads) t.join();
  int originals = 0;
  std::set<int64_t> ids;
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    if (!r->duplicate) ++originals;
    ids.insert(r->transaction.id);
    EXPECT_EQ(r->card_write->purchase_count, 3);
  }
  EXPECT_EQ(originals, 1);
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(Balance(a.id).ToYuanString(), "170.00");
  ExpectLedgerMatches(a.id);

  // The lost race, made certain: the first request holds its transaction open (so the early
  // look-up misses it) and commits while this one waits to write; the unique index refuses
  // this one's row and the original is answered.
  std::atomic<bool> inserted{false};
  int64_t racer = 0;
  std::thread first_request([&] {
    Status s = f_->db().Write([&](store::Connection& c) -> Status {
      ASSIGN_OR_RETURN(racer,
                       c.InsertReturningId(
                           "INSERT INTO prepaid_transactions (prepaid_account_id, kind, "
                           "amount_fen, balance_after_fen, business_date, method, purchase_count, "
                           "created_at_us, request_id) VALUES ($1, 'purchase', 500, 17500, "
                           "'2026-03-20', 'cash', 4, 1, 'CARD-0003') RETURNING id",
                           {a.id}));
      inserted = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
  });
  while (!inserted.load()) std::this_thread::yield();
  auto lost = f_->prepaid().Purchase(f_->clerk_a, a.id, {Y("5.00"), "cash", "CARD-0003"});
  first_request.join();
  ASSERT_TRUE(lost.ok()) << lost.status().ToString();
  EXPECT_TRUE(lost->duplicate);
  EXPECT_EQ(lost->transaction.id, racer);
  EXPECT_EQ(lost->card_write->purchase_count, 4);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM prepaid_transactions WHERE kind = 'purchase'"), 4);
}

TEST_P(PrepaidTest, AnAccountWithMoneyOnItCannotBeClosed) {
  PrepaidAccount a = Open("ic_card", point_);
  Buy(a.id, "30.00");
  auto now = f_->prepaid().Get(f_->clerk_a, a.id);
  ASSERT_TRUE(now.ok());
  int64_t audits = Count("SELECT COUNT(*) FROM audit_log");
  PrepaidAccountInput close;
  close.status = "closed";
  auto refused = f_->prepaid().Update(f_->clerk_a, a.id, now->version, close);
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition)
      << refused.status().ToString();
  EXPECT_EQ(refused.status().field(), "status");
  EXPECT_NE(refused.status().message().find("30.00"), std::string::npos)
      << refused.status().message();
  EXPECT_EQ(f_->prepaid().Get(f_->clerk_a, a.id)->status, "active");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_log"), audits);
  // A remote account owing money (a negative balance) neither.
  auto p2 = f_->MakePoint(customer_, "MP203");
  ASSERT_TRUE(p2.ok());
  PrepaidAccount r = Open("remote", *p2);
  Freeze(*p2, "2026-03-01", "0.00");
  Freeze(*p2, "2026-03-02", "10.00");  // 5.00: -5.00
  Deduct("2026-03-01");
  auto owing = f_->prepaid().Get(f_->clerk_a, r.id);
  ASSERT_EQ(owing->balance.ToYuanString(), "-5.00");
  auto refused2 = f_->prepaid().Update(f_->clerk_a, r.id, owing->version, close);
  EXPECT_EQ(refused2.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused2.status().message().find("-5.00"), std::string::npos);
  // At 0.00 it closes.
  auto p3 = f_->MakePoint(customer_, "MP204");
  ASSERT_TRUE(p3.ok());
  PrepaidAccount empty = Open("ic_card", *p3);
  auto closed = f_->prepaid().Update(f_->clerk_a, empty.id, empty.version, close);
  ASSERT_TRUE(closed.ok()) << closed.status().ToString();
  EXPECT_EQ(closed->status, "closed");
}

TEST_P(PrepaidTest, EachAccountsDeductionIsAuditedInItsOwnTransaction) {
  auto p2 = f_->MakePoint(customer_, "MP205");
  ASSERT_TRUE(p2.ok());
  PrepaidAccount a = Open("remote", point_);
  PrepaidAccount b = Open("remote", *p2);
  Buy(a.id, "100.00");
  Buy(b.id, "100.00");
  for (int64_t p : {point_, *p2}) {
    Freeze(p, "2026-03-01", "0.00");
    Freeze(p, "2026-03-02", "40.00");  // 20.00
  }
  auto audits = [&](int64_t id) {
    return Count(
        "SELECT COUNT(*) FROM audit_log WHERE entity = 'prepaid_account' AND action = "
        "'daily_deduction' AND entity_id = $1",
        {std::to_string(id)});
  };
  // The run is cancelled after the first account (a job cancelled, or a crash).
  auto run = f_->prepaid().RunDailyDeduction(
      f_->clerk_a, D("2026-03-01"), std::nullopt,
      [](int64_t done, int64_t) { return done >= 1 ? Aborted("job cancelled") : Status::Ok(); });
  EXPECT_EQ(run.status().code(), StatusCode::kAborted);
  EXPECT_EQ(Balance(a.id).ToYuanString(), "80.00");
  EXPECT_EQ(Balance(b.id).ToYuanString(), "100.00");
  // The account deducted has its audit row, with the balance before and after.
  ASSERT_EQ(audits(a.id), 1);
  EXPECT_EQ(audits(b.id), 0);
  std::string before, after;
  ASSERT_TRUE(f_->db()
                  .Read([&](store::Connection& c) -> Status {
                    return c
                        .QueryOne(
                            "SELECT before_json, after_json FROM audit_log WHERE action = "
                            "'daily_deduction' AND entity_id = $1",
                            {std::to_string(a.id)},
                            [&](const store::Row& r) {
                              before = r.Text(0);
                              after = r.Text(1);
                            })
                        .status();
                  })
                  .ok());
  EXPECT_NE(before.find(R"("balance":"100.00")"), std::string::npos) << before;
  EXPECT_NE(after.find(R"("balance":"80.00")"), std::string::npos) << after;
  EXPECT_NE(after.find(R"("day":"2026-03-01")"), std::string::npos) << after;
  // The rerun does the rest: one row per account deducted, and the run's summary.
  DeductionRun rerun = Deduct("2026-03-01");
  EXPECT_EQ(rerun.deducted, 1);
  EXPECT_EQ(rerun.already_done, 1);
  EXPECT_EQ(audits(a.id), 1);
  EXPECT_EQ(audits(b.id), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_log WHERE entity = 'prepaid_deduction' AND action "
                  "= 'run'"),
            1);
}

TEST_P(PrepaidTest, TheRatingEngineProvidesTheRemoteCharge) {
  auto catalogue = rating::TariffCatalogue::Load("nmg_west");
  ASSERT_TRUE(catalogue.ok()) << catalogue.status().ToString();
  auto pricer = MakeRatingPricer(*catalogue);
  PricingRequest r;
  r.point_code = "MP201";
  r.tariff_code = "residential_lv";
  r.period = P("2026-03");
  r.first_day = D("2026-03-01");
  r.last_day = D("2026-03-05");
  r.multiplier = 1;
  r.start["total"] = Energy::FromKwh(1000);
  r.end["total"] = Energy::FromKwh(1040);
  auto charge = pricer->MonthToDate(r);
  ASSERT_TRUE(charge.ok()) << charge.status().ToString();
  EXPECT_EQ(charge->ToYuanString(), "20.00");  // 40 kWh in the first tier at 0.50
  r.tariff_code = "no_such_tariff";
  EXPECT_FALSE(pricer->MonthToDate(r).ok());
}

INSTANTIATE_TEST_SUITE_P(Backends, PrepaidTest,
                         ::testing::ValuesIn(store::testing::AvailableBackendsForTest()),
                         [](const auto& p) { return p.param; });

}  // namespace
}  // namespace gridmis::accounts
