// Channel collection (代收) with retries and concurrency, direct-debit files (代扣) with frozen
// receivables, and reconciliation (对账) with closing the day — on SQLite and PostgreSQL.
#include "accounts/channel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "accounts/testing.h"

namespace gridmis::accounts {
namespace {

using testing::AccountsFixture;

Date D(const char* s) { return Date::Parse(s).value(); }
YearMonth P(const char* s) { return YearMonth::Parse(s).value(); }
Money Y(const char* s) { return Money::ParseYuan(s).value(); }

class ChannelTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto f = AccountsFixture::Create(GetParam(), D("2026-01-10"));
    if (!f.ok() && GetParam() == "postgres" && !store::testing::PostgresRequiredForTest()) {
      GTEST_SKIP() << f.status().ToString();
    }
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    f_ = std::move(*f);
    auto ch = f_->MakeChannel("ICBC", "utf8", &bank_, "工商银行");
    ASSERT_TRUE(ch.ok()) << ch.status().ToString();
    channel_ = *ch;
  }

  int64_t Customer(const std::string& no, const std::string& category = "commercial") {
    auto id = f_->MakeCustomer(no, category, f_->utility().county_a);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : 0;
  }
  void Issue(int64_t bill_id, int64_t customer, const char* amount, const char* due,
             std::optional<int64_t> account = {}) {
    Status s = f_->IssueBill(bill_id, customer, Y(amount), P("2025-12"), D(due), D("2025-12-10"), 0,
                             account);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  int64_t Count(const std::string& sql, const store::Params& params = {}) {
    auto n = f_->QueryInt(sql, params);
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? *n : -1;
  }
  // Rows that a refused request must leave alone.
  std::vector<int64_t> Snapshot() {
    return {Count("SELECT COUNT(*) FROM payments"),
            Count("SELECT COUNT(*) FROM journal_entries"),
            Count("SELECT COUNT(*) FROM journal_lines"),
            Count("SELECT COUNT(*) FROM audit_log"),
            Count("SELECT COALESCE(SUM(principal_paid_fen), 0) FROM receivables"),
            Count("SELECT COUNT(*) FROM receivables WHERE debit_batch_id IS NOT NULL"),
            Count("SELECT COUNT(*) FROM reconciliations"),
            Count("SELECT COUNT(*) FROM debit_items WHERE status = 'pending'")};
  }
  void ExpectBalanced() {
    EXPECT_EQ(Count("SELECT COALESCE(SUM(debit_fen - credit_fen), 0) FROM journal_lines"), 0);
  }
  ChannelPayInput PayIn(const std::string& serial, const std::string& customer_no,
                        const char* amount) {
    ChannelPayInput in;
    in.serial = serial;
    in.customer_no = customer_no;
    in.amount = Y(amount);
    return in;
  }

  std::unique_ptr<AccountsFixture> f_;
  org::Actor bank_;
  Channel channel_;
};

TEST_P(ChannelTest, QueryPayAndARetryNeverPaysTwice) {
  int64_t c = Customer("1500000101");
  Issue(101, c, "10000.00", "2025-12-25");
  auto q = f_->channels().QueryArrears(bank_, "1500000101", std::nullopt);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->total.ToYuanString(), "10420.00");
  // The late fee runs to the bank's transaction date.
  auto q_before = f_->channels().QueryArrears(bank_, "1500000101", D("2026-01-05"));
  EXPECT_EQ(q_before->late_fee.ToYuanString(), "270.00");

  ChannelPayInput in = PayIn("ICBC-0001", "1500000101", "10420.00");
  in.expected_total = q->total;
  in.txn_time = "101500";
  auto r = f_->channels().Pay(bank_, in);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->duplicate);
  EXPECT_EQ(r->late_fee.ToYuanString(), "420.00");
  EXPECT_EQ(r->channel_code, "ICBC");
  EXPECT_EQ(r->method, "bank");
  auto before = Snapshot();
  // The same request again (a timeout on the bank's side): the original answer, nothing posted.
  auto again = f_->channels().Pay(bank_, in);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->receipt_no, r->receipt_no);
  EXPECT_EQ(again->payment_id, r->payment_id);
  EXPECT_EQ(Snapshot(), before);
  // The same serial with another amount: a conflict, nothing posted.
  auto other = f_->channels().Pay(bank_, PayIn("ICBC-0001", "1500000101", "10.00"));
  EXPECT_EQ(other.status().code(), StatusCode::kAlreadyExists) << other.status().ToString();
  EXPECT_EQ(other.status().field(), "serial");
  EXPECT_EQ(Snapshot(), before);
  ExpectBalanced();
  EXPECT_EQ(Count("SELECT COALESCE(SUM(debit_fen - credit_fen), 0) FROM journal_lines WHERE "
                  "account_code = 'bank_clearing.ICBC'"),
            1042000);
  // The day's running totals.
  EXPECT_EQ(
      Count("SELECT payment_total_fen FROM channel_days WHERE channel_id = $1", {channel_.id}),
      1042000);
}

TEST_P(ChannelTest, ChangedArrearsAndPartialPaymentsAreRefused) {
  int64_t c = Customer("1500000102");
  Issue(102, c, "100.00", "2026-01-25");
  auto q = f_->channels().QueryArrears(bank_, "1500000102", std::nullopt);
  ASSERT_TRUE(q.ok());
  // A new bill arrives between the query and the payment.
  Issue(103, c, "50.00", "2026-01-25");
  ChannelPayInput in = PayIn("ICBC-0002", "1500000102", "100.00");
  in.expected_total = q->total;
  auto before = Snapshot();
  auto r = f_->channels().Pay(bank_, in);
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("电费发生变动"), std::string::npos) << r.status().message();
  EXPECT_EQ(Snapshot(), before);
  // A channel that takes full payments only.
  org::Actor strict;
  ASSERT_TRUE(f_->MakeChannel("ABC", "utf8", &strict, std::nullopt, false).ok());
  auto partial = f_->channels().Pay(strict, PayIn("ABC-1", "1500000102", "100.00"));
  EXPECT_EQ(partial.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(f_->channels().Pay(strict, PayIn("ABC-1", "1500000102", "150.00")).ok());
  // Unknown customer, bad serial, a user who is not a channel.
  EXPECT_EQ(f_->channels().Pay(bank_, PayIn("ICBC-3", "9999", "1.00")).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(f_->channels().Pay(bank_, PayIn("bad serial!", "1500000102", "1.00")).status().field(),
            "serial");
  auto not_channel = f_->utility().MakeActor("other_api", f_->utility().root, {"payment_channel"});
  ASSERT_TRUE(not_channel.ok());
  EXPECT_EQ(f_->channels().Pay(*not_channel, PayIn("X-1", "1500000102", "1.00")).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(f_->channels().Pay(f_->clerk_a, PayIn("X-1", "1500000102", "1.00")).status().code(),
            StatusCode::kPermissionDenied);
  ExpectBalanced();
}

TEST_P(ChannelTest, ConcurrentIdenticalRequestsApplyExactlyOnce) {
  int64_t c = Customer("1500000103");
  Issue(104, c, "300.00", "2026-01-25");
  constexpr int kThreads = 8;
  std::vector<Result<Receipt>> results(kThreads, Result<Receipt>(Internal("not run")));
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      ++ready;
      while (ready.load() < kThreads) std::this_thread::yield();
      results[i] = f_->channels().Pay(bank_, PayIn("ICBC-CONC-1", "1500000103", "300.00"));
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
  EXPECT_EQ(Count("SELECT COUNT(*) FROM payments"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM journal_entries WHERE kind = 'payment'"), 1);
  EXPECT_EQ(Count("SELECT principal_paid_fen FROM receivables WHERE bill_id = 104"), 30000);
  EXPECT_EQ(Count("SELECT payment_count FROM channel_days"), 1);
  ExpectBalanced();
}

TEST_P(ChannelTest, ReversalSameDayOnlyAndNotAfterTheDayIsClosed) {
  int64_t c = Customer("1500000104");
  Issue(105, c, "500.00", "2026-01-25");
  ASSERT_TRUE(f_->channels().Pay(bank_, PayIn("ICBC-R1", "1500000104", "200.00")).ok());
  auto rev = f_->channels().Reverse(bank_, "ICBC-R1", "");
  ASSERT_TRUE(rev.ok()) << rev.status().ToString();
  EXPECT_EQ(rev->status, "reversed");
  EXPECT_EQ(rev->reversal_reason, "渠道冲正");
  auto rev_again = f_->channels().Reverse(bank_, "ICBC-R1", "");  // a retried reversal
  ASSERT_TRUE(rev_again.ok());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM journal_entries WHERE kind = 'payment_reversal'"), 1);
  EXPECT_EQ(Count("SELECT principal_paid_fen FROM receivables WHERE bill_id = 105"), 0);
  EXPECT_EQ(f_->channels().Reverse(bank_, "ICBC-NONE", "").status().code(), StatusCode::kNotFound);
  // A payment of yesterday cannot be reversed today.
  f_->SetToday(D("2026-01-09"));
  ASSERT_TRUE(f_->channels().Pay(bank_, PayIn("ICBC-R0", "1500000104", "10.00")).ok());
  f_->SetToday(D("2026-01-10"));
  auto old = f_->channels().Reverse(bank_, "ICBC-R0", "");
  EXPECT_EQ(old.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(old.status().message().find("same day"), std::string::npos);

  // Close the day: reconcile (the bank's file has R2), then no reversal and no payment.
  ASSERT_TRUE(f_->channels().Pay(bank_, PayIn("ICBC-R2", "1500000104", "100.00")).ok());
  std::string file =
      "ICBC|20260110|3|10000\n"
      "|1500000104|20260110|20260110|090000|ICBC-R1|622|01|20000||||| \n"
      "|1500000104|20260110|20260110|090500|ICBC-R1X|622|02|20000|ICBC-R1|||| \n"
      "|1500000104|20260110|20260110|091000|ICBC-R2|622|01|10000||||| \n";
  std::vector<FileError> errors;
  auto recon = f_->channels().ImportCheckFile(f_->finance, channel_.id, D("2026-01-10"), file,
                                              "c.txt", &errors);
  ASSERT_TRUE(recon.ok()) << recon.status().ToString();
  EXPECT_EQ(recon->matched_count, 1);
  EXPECT_EQ(recon->bank_only_count + recon->utility_only_count + recon->mismatch_count, 0);
  EXPECT_EQ(f_->channels().CloseDay(f_->clerk_a, channel_.id, D("2026-01-10")).status().code(),
            StatusCode::kPermissionDenied);
  auto closed = f_->channels().CloseDay(f_->finance, channel_.id, D("2026-01-10"));
  ASSERT_TRUE(closed.ok()) << closed.status().ToString();
  EXPECT_EQ(closed->status, "closed");
  auto before = Snapshot();
  auto late = f_->channels().Reverse(bank_, "ICBC-R2", "");
  EXPECT_EQ(late.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(late.status().message().find("已清算"), std::string::npos);
  EXPECT_EQ(f_->channels().Pay(bank_, PayIn("ICBC-R3", "1500000104", "1.00")).status().code(),
            StatusCode::kFailedPrecondition);
  // Nor through the counter's reversal, nor a new reconciliation of the closed day.
  auto p = f_->QueryInt("SELECT id FROM payments WHERE serial = 'ICBC-R2'");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(f_->accounts().ReversePayment(f_->manager, *p, 1, "柜台冲正").status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(f_->channels()
                .ImportCheckFile(f_->finance, channel_.id, D("2026-01-10"), file, "c.txt", &errors)
                .status()
                .code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(Snapshot(), before);
  ExpectBalanced();
}

TEST_P(ChannelTest, ARetryOfAReversedSerialIsRefusedNotAnsweredAsPaid) {
  int64_t c = Customer("1500000106");
  Issue(106, c, "500.00", "2026-01-25");
  ChannelPayInput in = PayIn("ICBC-RV1", "1500000106", "200.00");
  ASSERT_TRUE(f_->channels().Pay(bank_, in).ok());
  ASSERT_TRUE(f_->channels().Reverse(bank_, "ICBC-RV1", "").ok());
  auto before = Snapshot();
  // The bank retries the original request: the money is not the utility's, so no "paid".
  auto retry = f_->channels().Pay(bank_, in);
  EXPECT_EQ(retry.status().code(), StatusCode::kFailedPrecondition) << retry.status().ToString();
  EXPECT_EQ(retry.status().field(), "serial");
  EXPECT_NE(retry.status().message().find("serial ICBC-RV1 was reversed on 2026-01-10"),
            std::string::npos)
      << retry.status().message();
  EXPECT_NE(retry.status().message().find("a new payment needs a new serial"), std::string::npos);
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(Count("SELECT principal_paid_fen FROM receivables WHERE bill_id = 106"), 0);
  // A new serial pays.
  EXPECT_TRUE(f_->channels().Pay(bank_, PayIn("ICBC-RV2", "1500000106", "200.00")).ok());
  ExpectBalanced();
}

TEST_P(ChannelTest, ReconciliationFindsEveryKindOfDifference) {
  for (const char* no : {"1500000111", "1500000112", "1500000113"}) Customer(no);
  ASSERT_TRUE(f_->channels().Pay(bank_, PayIn("S1", "1500000111", "10.00")).ok());  // matched
  ASSERT_TRUE(f_->channels().Pay(bank_, PayIn("S2", "1500000112", "20.00")).ok());  // mismatch
  ASSERT_TRUE(f_->channels().Pay(bank_, PayIn("S3", "1500000113", "30.00")).ok());  // ours only
  ASSERT_TRUE(f_->channels().Pay(bank_, PayIn("S5", "1500000113", "50.00")).ok());  // both reversed
  ASSERT_TRUE(f_->channels().Reverse(bank_, "S5", "").ok());
  std::string file =
      "ICBC|20260110|5|7500\n"
      "|1500000111|20260110|20260110|090000|S1|622|01|1000||||| \n"
      "|1500000112|20260110|20260110|090100|S2|622|01|2500||||| \n"
      "|1500000113|20260110|20260110|090200|S4|622|01|4000||||| \n"
      "|1500000113|20260110|20260110|090300|S5|622|01|5000||||| \n"
      "|1500000113|20260110|20260110|090400|S5R|622|02|5000|S5|||| \n";
  auto before = Snapshot();
  // A bad file first: nothing stored, every bad line named.
  std::string bad_file =
      "ICBC|20260110|3|7500\n"
      "|1500000111|20260110|20260110|090000|S1|622|01|10.00||||| \n"
      "|1500000112|2026011|20260110|090100|S2|622|01|2500||||| \n"
      "|1500000113|20260110|20260110|090200|S4|622|01|4000\n";
  std::vector<FileError> errors;
  auto bad = f_->channels().ImportCheckFile(f_->finance, channel_.id, D("2026-01-10"), bad_file, "",
                                            &errors);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  std::set<int64_t> bad_lines;
  for (const auto& e : errors) bad_lines.insert(e.line);
  EXPECT_EQ(bad_lines, (std::set<int64_t>{2, 3, 4})) << DescribeFileErrors(errors);
  EXPECT_EQ(Snapshot(), before);

  errors.clear();
  auto recon = f_->channels().ImportCheckFile(f_->finance, channel_.id, D("2026-01-10"), file,
                                              "icbc.txt", &errors);
  ASSERT_TRUE(recon.ok()) << recon.status().ToString() << DescribeFileErrors(errors);
  EXPECT_EQ(recon->matched_count, 1);
  EXPECT_EQ(recon->mismatch_count, 1);
  EXPECT_EQ(recon->bank_only_count, 1);
  EXPECT_EQ(recon->utility_only_count, 1);
  EXPECT_EQ(recon->bank_count, 3);
  EXPECT_EQ(recon->bank_total.ToYuanString(), "75.00");
  EXPECT_EQ(recon->utility_count, 3);
  EXPECT_EQ(recon->utility_total.ToYuanString(), "60.00");
  std::map<std::string, std::string> category;
  for (const auto& it : recon->items) category[it.serial] = it.category;
  EXPECT_EQ(category["S1"], "matched");
  EXPECT_EQ(category["S2"], "amount_mismatch");
  EXPECT_EQ(category["S3"], "utility_only");
  EXPECT_EQ(category["S4"], "bank_only");
  EXPECT_EQ(category.count("S5"), 0u);
  EXPECT_EQ(recon->items.front().category == "matched", false);  // differences first
  // Importing again replaces the day's report.
  auto again = f_->channels().ImportCheckFile(f_->finance, channel_.id, D("2026-01-10"), file,
                                              "icbc.txt", &errors);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM reconciliations WHERE status = 'current'"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM reconciliations"), 2);
  auto stored = f_->channels().GetReconciliation(f_->manager, again->id);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->items.size(), 4u);
}

TEST_P(ChannelTest, DirectDebitFreezesThenPostsTheReturnFile) {
  org::Actor boc_api;
  auto boc = f_->MakeChannel("BOC", "gbk", &boc_api, "中国银行");
  ASSERT_TRUE(boc.ok()) << boc.status().ToString();
  int64_t c1 = Customer("1500000121", "residential");
  int64_t c2 = Customer("1500000122", "residential");
  int64_t c3 = Customer("1500000123", "residential");  // counter payer: not in the file
  auto a1 = f_->MakeDebitAccount(c1, "D1", "中国银行", "6216600000000001");
  auto a2 = f_->MakeDebitAccount(c2, "D2", "中国银行", "6216600000000002");
  ASSERT_TRUE(a1.ok() && a2.ok());
  Issue(121, c1, "100.00", "2026-01-25", *a1);
  Issue(122, c2, "200.00", "2026-01-25", *a2);
  Issue(123, c3, "300.00", "2026-01-25");

  EXPECT_EQ(
      f_->channels().ExportDebits(f_->clerk_a, boc->id, f_->utility().county_a).status().code(),
      StatusCode::kPermissionDenied);
  auto batch = f_->channels().ExportDebits(f_->finance, boc->id, f_->utility().county_a);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  ASSERT_EQ(batch->item_count, 2);
  EXPECT_EQ(batch->total.ToYuanString(), "300.00");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM receivables WHERE debit_batch_id IS NOT NULL"), 2);
  // Nothing left to export.
  EXPECT_EQ(
      f_->channels().ExportDebits(f_->finance, boc->id, f_->utility().county_a).status().code(),
      StatusCode::kFailedPrecondition);

  // Frozen: the counter and the channels refuse, with the reason.
  CounterPaymentInput counter;
  counter.customer_id = c1;
  counter.amount = Y("100.00");
  auto refused = f_->accounts().PayAtCounter(f_->clerk_a, counter);
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find(batch->batch_no), std::string::npos)
      << refused.status().message();
  EXPECT_EQ(f_->channels().Pay(bank_, PayIn("ICBC-F1", "1500000121", "100.00")).status().code(),
            StatusCode::kFailedPrecondition);
  // The cancellation of a frozen bill waits too.
  EXPECT_EQ(f_->CancelBill(121).code(), StatusCode::kFailedPrecondition);

  // The request file, in GBK.
  auto file = f_->channels().DebitFile(f_->finance, batch->id);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->content_type, "text/plain; charset=GBK");
  auto text = ToUtf8(file->bytes, "gbk");
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->substr(0, text->find('\n')), "202601|2|300.00|" + batch->batch_no);
  EXPECT_NE(text->find("1500000121|6216600000000001|100.00|202512|GS0101|" +
                       batch->items[0].serial + "|代扣账户D1"),
            std::string::npos)
      << *text;

  // The return file: the first debited, the second failed.
  std::string ret = batch->batch_no + "|2|100.00\n" + batch->items[0].serial +
                    "|1500000121|100.00|1|100.00|BOC778|20260111|\n" + batch->items[1].serial +
                    "|1500000122|200.00|0|0.00||20260111|余额不足\n";
  f_->SetToday(D("2026-01-11"));
  auto gbk = FromUtf8(ret, "gbk");
  ASSERT_TRUE(gbk.ok());
  std::vector<FileError> errors;
  auto done = f_->channels().ImportDebitReturn(f_->finance, batch->id, *gbk, &errors);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->status, "returned");
  EXPECT_EQ(done->success_count, 1);
  EXPECT_EQ(done->failure_count, 1);
  EXPECT_EQ(done->items[1].reason, "余额不足");
  EXPECT_EQ(Count("SELECT status = 'paid' FROM receivables WHERE bill_id = 121"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM receivables WHERE debit_batch_id IS NOT NULL"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM payments WHERE source = 'debit'"), 1);
  // The same file again: the same result, nothing posted; another file: refused.
  auto before = Snapshot();
  auto same = f_->channels().ImportDebitReturn(f_->finance, batch->id, *gbk, &errors);
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  EXPECT_EQ(same->success_count, 1);
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(f_->channels()
                .ImportDebitReturn(f_->finance, batch->id, *gbk + "\n\n ", &errors)
                .status()
                .code(),
            StatusCode::kFailedPrecondition);
  // The failed one is released: the counter takes it now.
  counter.customer_id = c2;
  counter.amount = Y("200.00");
  EXPECT_TRUE(f_->accounts().PayAtCounter(f_->clerk_a, counter).ok());
  ExpectBalanced();
  EXPECT_EQ(Count("SELECT COALESCE(SUM(debit_fen - credit_fen), 0) FROM journal_lines WHERE "
                  "account_code = 'bank_clearing.BOC'"),
            10000);
}

TEST_P(ChannelTest, ASuccessfulDebitSettlesItsBillAtTheExportedLateFee) {
  int64_t c = Customer("1500000141", "residential");
  auto acc = f_->MakeDebitAccount(c, "F1", "工商银行", "6222000000000141");
  ASSERT_TRUE(acc.ok()) << acc.status().ToString();
  Issue(140, c, "50.00", "2025-12-20");  // an older counter bill, not in the file
  Issue(141, c, "10000.00", "2025-12-25", *acc);
  // Exported on 2026-01-10: 10,000.00 + 16 days at 1‰ = 160.00.
  auto batch = f_->channels().ExportDebits(f_->finance, channel_.id, f_->utility().county_a);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  ASSERT_EQ(batch->item_count, 1);
  EXPECT_EQ(batch->items[0].amount.ToYuanString(), "10160.00");
  EXPECT_EQ(batch->items[0].principal->ToYuanString(), "10000.00");
  EXPECT_EQ(batch->items[0].late_fee->ToYuanString(), "160.00");
  // The bank debits it two days later, when 180.00 would have accrued.
  f_->SetToday(D("2026-01-12"));
  std::string ret = batch->batch_no + "|1|10160.00\n" + batch->items[0].serial +
                    "|1500000141|10160.00|1|10160.00|ICBC9|20260112|\n";
  std::vector<FileError> errors;
  auto done = f_->channels().ImportDebitReturn(f_->finance, batch->id, ret, &errors);
  ASSERT_TRUE(done.ok()) << done.status().ToString() << DescribeFileErrors(errors);
  // The debited bill is closed with exactly the exported principal and fee.
  EXPECT_EQ(Count("SELECT status = 'paid' FROM receivables WHERE bill_id = 141"), 1);
  EXPECT_EQ(Count("SELECT principal_paid_fen FROM receivables WHERE bill_id = 141"), 1000000);
  EXPECT_EQ(Count("SELECT late_fee_paid_fen FROM receivables WHERE bill_id = 141"), 16000);
  auto receipt = f_->accounts().GetPayment(f_->manager, *done->items[0].payment_id);
  ASSERT_TRUE(receipt.ok()) << receipt.status().ToString();
  EXPECT_EQ(receipt->principal.ToYuanString(), "10000.00");
  EXPECT_EQ(receipt->late_fee.ToYuanString(), "160.00");
  EXPECT_EQ(receipt->credit, Money());
  ASSERT_EQ(receipt->lines.size(), 1u);
  EXPECT_EQ(receipt->lines[0].bill_no, "B141");
  // The counter bill the bank was not asked for is left alone.
  EXPECT_EQ(Count("SELECT principal_paid_fen + late_fee_paid_fen FROM receivables WHERE "
                  "bill_id = 140"),
            0);
  EXPECT_EQ(Count("SELECT status = 'open' FROM receivables WHERE bill_id = 140"), 1);
  ExpectBalanced();
}

TEST_P(ChannelTest, ABadReturnFileChangesNothingAndNamesEveryBadLine) {
  int64_t c1 = Customer("1500000131", "residential");
  int64_t c2 = Customer("1500000132", "residential");
  auto a1 = f_->MakeDebitAccount(c1, "E1", "工商银行", "6222000000000001");
  auto a2 = f_->MakeDebitAccount(c2, "E2", "工商银行", "6222000000000002");
  Issue(131, c1, "100.00", "2026-01-25", *a1);
  Issue(132, c2, "200.00", "2026-01-25", *a2);
  auto batch = f_->channels().ExportDebits(f_->finance, channel_.id, f_->utility().county_a);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  const std::string s1 = batch->items[0].serial, s2 = batch->items[1].serial;
  auto before = Snapshot();
  struct Case {
    std::string file;
    std::set<int64_t> lines;
    std::string says;
  };
  std::vector<Case> cases = {
      // header total wrong
      {batch->batch_no + "|2|250.00\n" + s1 + "|1500000131|100.00|1|100.00|B1|20260110|\n" + s2 +
           "|1500000132|200.00|0|0.00||20260110|x\n",
       {1},
       "not the sum of the debited amounts"},
      // a line for a serial not exported, wrong amount, unparsable date
      {batch->batch_no + "|3|100.00\n" + s1 + "|1500000131|100.00|1|100.00|B1|20260110|\n" +
           "DKX-1|1500000131|1.00|0|0.00||20260110|\n" + s2 +
           "|1500000132|210.00|0|0.00||2026-01-10|x\n",
       {3, 4},
       "was not exported"},
      // a serial twice, another batch's header, a customer mismatch
      {"DK-OTHER|2|100.00\n" + s1 + "|1500000132|100.00|1|100.00|B1|20260110|\n" + s1 +
           "|1500000131|100.00|1|100.00|B1|20260110|\n",
       {1, 2, 3},
       "already appears on line 2"},
      // a line missing: the exported serial is named
      {batch->batch_no + "|1|100.00\n" + s1 + "|1500000131|100.00|1|100.00|B1|20260110|\n",
       {0},
       "has no line in the return file"},
      // not UTF-8
      {batch->batch_no + "|1|100.00\n\xff\xfe", {0}, "not valid UTF-8"},
  };
  for (const auto& c : cases) {
    std::vector<FileError> errors;
    auto r = f_->channels().ImportDebitReturn(f_->finance, batch->id, c.file, &errors);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.file;
    std::set<int64_t> lines;
    for (const auto& e : errors) lines.insert(e.line);
    EXPECT_EQ(lines, c.lines) << DescribeFileErrors(errors);
    EXPECT_NE(r.status().message().find(c.says), std::string::npos) << r.status().message();
    EXPECT_EQ(Snapshot(), before) << c.file;
  }
  // Cancelling the batch releases the bills.
  auto cancelled =
      f_->channels().CancelDebitBatch(f_->finance, batch->id, batch->version, "银行未回盘");
  ASSERT_TRUE(cancelled.ok()) << cancelled.status().ToString();
  EXPECT_EQ(Count("SELECT COUNT(*) FROM receivables WHERE debit_batch_id IS NOT NULL"), 0);
  EXPECT_TRUE(f_->channels().Pay(bank_, PayIn("ICBC-AFTER", "1500000131", "100.00")).ok());
}

INSTANTIATE_TEST_SUITE_P(Backends, ChannelTest,
                         ::testing::ValuesIn(store::testing::AvailableBackendsForTest()),
                         [](const auto& p) { return p.param; });

}  // namespace
}  // namespace gridmis::accounts
