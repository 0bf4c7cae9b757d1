// Late fees (tariffs.md §8, §0.3 rule 7; Example D as golden values) and the bank file parsers.
#include "accounts/late_fee.h"

#include <gtest/gtest.h>

#include <set>

#include "accounts/bank_files.h"

namespace gridmis::accounts {
namespace {

Date D(const char* s) { return Date::Parse(s).value(); }
YearMonth P(const char* s) { return YearMonth::Parse(s).value(); }
Money Y(const char* s) { return Money::ParseYuan(s).value(); }

LateFeeInput Bill(const char* amount, const char* period, const char* due, bool residential,
                  const char* as_of) {
  LateFeeInput in;
  in.principal = Y(amount);
  in.bill_period = P(period);
  in.due_date = D(due);
  in.residential = residential;
  in.as_of = D(as_of);
  return in;
}

TEST(LateFeeTest, ExampleDNonResidentialCrossesTheYear) {
  // Due 2025-12-25, paid 2026-01-10: Dec 26-31 at 2‰ (120.00) + Jan 1-10 at 3‰ (300.00).
  auto fee = ComputeLateFee({}, Bill("10000.00", "2025-12", "2025-12-25", false, "2026-01-10"));
  ASSERT_TRUE(fee.ok()) << fee.status().ToString();
  EXPECT_EQ(fee->ToYuanString(), "420.00");
  // The December part alone.
  EXPECT_EQ(ComputeLateFee({}, Bill("10000.00", "2025-12", "2025-12-25", false, "2025-12-31"))
                ->ToYuanString(),
            "120.00");
}

TEST(LateFeeTest, ExampleDResidentialAndMinimum) {
  EXPECT_EQ(ComputeLateFee({}, Bill("10000.00", "2025-12", "2025-12-25", true, "2026-01-10"))
                ->ToYuanString(),
            "160.00");
  // 50.00 five days late: 0.25 → the minimum 1.00.
  EXPECT_EQ(ComputeLateFee({}, Bill("50.00", "2026-01", "2026-02-05", true, "2026-02-10"))
                ->ToYuanString(),
            "1.00");
  // Not overdue: nothing, not the minimum.
  EXPECT_EQ(ComputeLateFee({}, Bill("50.00", "2026-01", "2026-02-05", true, "2026-02-05"))
                ->ToYuanString(),
            "0.00");
}

TEST(LateFeeTest, PartialPaymentLowersThePrincipalFromTheNextDay) {
  // 10,000.00 residential due 01-10; 6,000.00 paid on 01-15; fee to 01-20:
  // 01-11..01-15: 5 days × 10,000 × 1‰ = 50.00 (the payment day still on the whole amount)
  // 01-16..01-20: 5 days × 4,000 × 1‰ = 20.00
  LateFeeInput in = Bill("10000.00", "2026-01", "2026-01-10", true, "2026-01-20");
  in.payments = {{D("2026-01-15"), Y("6000.00")}};
  EXPECT_EQ(ComputeLateFee({}, in)->ToYuanString(), "70.00");
  // Paid in full on 01-15: nothing accrues after.
  in.payments = {{D("2026-01-15"), Y("10000.00")}};
  EXPECT_EQ(ComputeLateFee({}, in)->ToYuanString(), "50.00");
  // A payment on or before the due date never bore a fee.
  in.payments = {{D("2026-01-05"), Y("4000.00")}};
  EXPECT_EQ(ComputeLateFee({}, in)->ToYuanString(), "60.00");
}

TEST(LateFeeTest, RoundsOnceHalfUp) {
  // 1,234.56 × 2‰ × 7 days = 17.28384 → 17.28.
  EXPECT_EQ(ComputeLateFee({}, Bill("1234.56", "2026-03", "2026-04-10", false, "2026-04-17"))
                ->ToYuanString(),
            "17.28");
  LateFeePolicy p;
  p.minimum = Money();
  EXPECT_EQ(
      ComputeLateFee(p, Bill("0.10", "2026-03", "2026-04-10", true, "2026-04-11"))->ToYuanString(),
      "0.00");
  // A positive fee that rounds to 0.00 still takes the minimum.
  EXPECT_EQ(
      ComputeLateFee({}, Bill("0.10", "2026-03", "2026-04-10", true, "2026-04-11"))->ToYuanString(),
      "1.00");
}

TEST(LateFeeTest, PolicyOptions) {
  LateFeeInput in = Bill("10000.00", "2025-12", "2025-12-25", false, "2026-01-10");
  LateFeePolicy no_pay_day;
  no_pay_day.count_payment_day = false;  // Dec 26..Jan 9: 120.00 + 9 × 30.00
  EXPECT_EQ(ComputeLateFee(no_pay_day, in)->ToYuanString(), "390.00");
  LateFeePolicy whole_cross;
  whole_cross.rate_by_day_year = false;  // every day at 3‰ once the year turned
  EXPECT_EQ(ComputeLateFee(whole_cross, in)->ToYuanString(), "480.00");
  LateFeePolicy waived;
  waived.waive_residential = true;
  EXPECT_EQ(ComputeLateFee(waived, Bill("10000.00", "2025-12", "2025-12-25", true, "2026-01-10"))
                ->ToYuanString(),
            "0.00");
  EXPECT_EQ(ComputeLateFee(waived, in)->ToYuanString(), "420.00");  // others still pay
  LateFeePolicy custom;
  custom.current_year_daily_rate = Decimal{5, 4};  // 0.5‰
  custom.cross_year_daily_rate = Decimal{5, 4};
  EXPECT_EQ(ComputeLateFee(custom, in)->ToYuanString(), "80.00");
  LateFeePolicy bad;
  bad.cross_year_daily_rate = Decimal{2, 0};
  EXPECT_FALSE(bad.Validate().ok());
  EXPECT_FALSE(ComputeLateFee(bad, in).ok());
  EXPECT_EQ(DaysOverdue(D("2025-12-25"), D("2026-01-10")), 16);
  EXPECT_EQ(DaysOverdue(D("2025-12-25"), D("2025-12-20")), 0);
}

// ---- Bank files ----

TEST(BankFilesTest, EncodingsAndBase64) {
  std::string utf8 = "1500000001|张伟|100.00\n";
  auto gbk = FromUtf8(utf8, "gbk");
  ASSERT_TRUE(gbk.ok());
  EXPECT_NE(*gbk, utf8);
  EXPECT_EQ(gbk->size(), utf8.size() - 2);  // two CJK characters: 3 bytes each in UTF-8, 2 in GBK
  EXPECT_EQ(*ToUtf8(*gbk, "gbk"), utf8);
  EXPECT_EQ(*ToUtf8("\xEF\xBB\xBF" + utf8, "utf8"), utf8);
  auto bad = ToUtf8("ok\nline\xFF\xFE", "utf8");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("line 2"), std::string::npos) << bad.status().message();
  EXPECT_FALSE(ToUtf8("x", "latin1").ok());
  for (std::string s :
       {std::string(""), std::string("a"), std::string("ab"), std::string("abc"), *gbk}) {
    EXPECT_EQ(*DecodeBase64(EncodeBase64(s)), s);
  }
  EXPECT_FALSE(DecodeBase64("ab*c").ok());
}

TEST(BankFilesTest, DebitRequestLayout) {
  std::vector<DebitRequestLine> lines = {
      {"1500000001", "6222020200001", Y("100.50"), P("2025-12"), "GS0101", "DK1-00001", "张|伟"},
      {"1500000002", "6222020200002", Y("20.00"), P("2026-01"), "GS0101", "DK1-00002", "李娜"}};
  std::string file = FormatDebitRequest("DK1", D("2026-01-10"), lines);
  EXPECT_EQ(file,
            "202601|2|120.50|DK1\n"
            "1500000001|6222020200001|100.50|202512|GS0101|DK1-00001|张 伟\n"
            "1500000002|6222020200002|20.00|202601|GS0101|DK1-00002|李娜\n");
}

TEST(BankFilesTest, ReturnFileGoodAndBad) {
  std::vector<FileError> errors;
  DebitReturn ok = ParseDebitReturn(
      "DK1|2|100.50\r\n"
      "DK1-00001|1500000001|100.50|1|100.50|B001|20260111|\r\n"
      "\r\n"
      "DK1-00002|1500000002|20.00|0|0.00||20260111|余额不足\r\n",
      &errors);
  EXPECT_TRUE(errors.empty()) << DescribeFileErrors(errors);
  ASSERT_EQ(ok.lines.size(), 2u);
  EXPECT_EQ(ok.lines[1].line, 4);
  EXPECT_FALSE(ok.lines[1].success);
  EXPECT_EQ(ok.lines[1].reason, "余额不足");

  DebitReturn bad = ParseDebitReturn(
      "DK1|3|130.50\n"
      "DK1-00001|1500000001|100.50|1|90.00|B001|20260111|\n"  // partial debit
      "DK1-00002|1500000002|abc|0|0.00||20260111|\n"          // bad amount
      "DK1-00002|1500000002|20.00|2|0.00||20261340|\n"        // flag, date, duplicate serial
      "too|few\n",
      &errors);
  std::set<int64_t> lines;
  for (const auto& e : errors) lines.insert(e.line);
  EXPECT_EQ(lines, (std::set<int64_t>{1, 2, 3, 4, 5})) << DescribeFileErrors(errors);
  EXPECT_NE(DescribeFileErrors(errors).find("line 4: the success flag '2' must be 1 or 0"),
            std::string::npos)
      << DescribeFileErrors(errors);
  EXPECT_NE(DescribeFileErrors(errors).find("header says 3 records but the file has 4"),
            std::string::npos);
}

TEST(BankFilesTest, CheckFile) {
  std::vector<FileError> errors;
  CheckFile f = ParseCheckFile(
      "ICBC|20260110|3|10000\n"
      "SK1|1500000001|20260110|20260110|101500|S1|622|01|15000||20260110|101501||202512\n"
      "|1500000002|20260110|20260110|101600|S2|622|01|5000||||| \n"
      "|1500000001|20260110|20260110|101700|R1|622|02|10000|S1||||\n",
      &errors);
  EXPECT_TRUE(errors.empty()) << DescribeFileErrors(errors);
  EXPECT_EQ(f.lines.size(), 3u);
  EXPECT_EQ(f.net_total.fen(), 10000);

  CheckFile bad = ParseCheckFile(
      "ICBC|20260110|2|999\n"
      "SK1|1500000001|20260109|20260110|101500|S1|622|03|15000||||| \n"
      "|1500000001|20260110|20260110|101700|R1|622|02|10000|S9||||\n",
      &errors);
  std::string all = DescribeFileErrors(errors);
  EXPECT_NE(all.find("line 2: clearing date 2026-01-09 is not the header's 2026-01-10"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("line 2: transaction type '03'"), std::string::npos) << all;
  EXPECT_NE(all.find("line 3: the reversal names serial 'S9'"), std::string::npos) << all;
}

}  // namespace
}  // namespace gridmis::accounts
