// The demo's business history on both engines: reads, bills, payments and prepaid accounts went
// through the real services and left a consistent ledger.
#include "demo/business.h"

#include <gtest/gtest.h>

#include "app/migrations.h"
#include "demo/demo.h"
#include "store/migrate.h"
#include "store/testing.h"

namespace gridmis::demo {
namespace {

constexpr int64_t kNowUs = 1'795'840'541'033'743;  // 2026-11-28T04:35:41Z

class BusinessTest : public ::testing::TestWithParam<std::string> {};

TEST_P(BusinessTest, HistoryIsReadBilledIssuedPaidAndBalanced) {
  auto tdb = store::testing::TestDatabase::Create(GetParam());
  ASSERT_TRUE(tdb.ok()) << tdb.status().ToString();
  Config config;
  config.database_url = (*tdb)->url();
  {
    auto db = store::Database::Open(config.database_url);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE(store::Migrate(**db, app::AllMigrations(), kNowUs).ok());
    FakeClock clock(kNowUs);
    DemoOptions o;
    o.customers = 600;
    o.password_strength = org::HashStrength::kMinimum;
    auto built = BuildDemo(**db, clock, o);
    ASSERT_TRUE(built.ok()) << built.status().ToString();
  }
  BusinessOptions bo;
  bo.now_us = kNowUs;
  auto s = BuildBusinessHistory(config, bo);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->billed_periods, "2026-08, 2026-09");
  EXPECT_EQ(s->open_period, "2026-10");
  EXPECT_GT(s->segments, 0);
  EXPECT_GT(s->flagged_reads, 0);  // the latest month's anomalies wait for review
  EXPECT_GT(s->bills, 500);
  EXPECT_EQ(s->bills_issued, s->bills);
  EXPECT_GT(s->payments, 0);
  EXPECT_GT(s->prepaid_accounts, 0);

  auto db = store::Database::Open(config.database_url);
  ASSERT_TRUE(db.ok());
  auto q = [&](const std::string& sql) {
    auto v = (*db)->ReadValue<int64_t>([&](store::Connection& c) { return c.QueryInt(sql); });
    EXPECT_TRUE(v.ok()) << sql << ": " << v.status().ToString();
    return v.ok() ? *v : -1;
  };
  EXPECT_EQ(q("SELECT COUNT(*) FROM bills WHERE period = '2026-10'"), 0);
  EXPECT_EQ(q("SELECT COUNT(*) FROM bills"), s->bills);
  EXPECT_GT(q("SELECT COUNT(*) FROM meter_reads WHERE period = 202610 AND status = 'flagged'"), 0);
  // Every issued bill has its receivable; the journal balances to the fen.
  EXPECT_EQ(q("SELECT COUNT(*) FROM receivables"), s->bills);
  EXPECT_EQ(q("SELECT COALESCE(SUM(debit_fen - credit_fen), 0) FROM journal_lines"), 0);
  EXPECT_GT(q("SELECT COALESCE(SUM(debit_fen), 0) FROM journal_lines"), 0);
  // Some paid late: late fees were charged.
  EXPECT_GT(q("SELECT COALESCE(SUM(late_fee_paid_fen), 0) FROM receivables"), 0);
  // Everything was done by named demo users, and audited.
  EXPECT_GT(q("SELECT COUNT(*) FROM audit_log WHERE entity LIKE '%bill%'"), 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, BusinessTest,
                         ::testing::ValuesIn(store::testing::AvailableBackendsForTest()));

}  // namespace
}  // namespace gridmis::demo
