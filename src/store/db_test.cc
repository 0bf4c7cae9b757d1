#include "store/db.h"

#include <gtest/gtest.h>

#include <thread>

#include "store/migrate.h"
#include "store/testing.h"

namespace gridmis::store {
namespace {

class DbTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto t = testing::TestDatabase::Create(GetParam());
    if (!t.ok() && GetParam() == "postgres" && !testing::PostgresRequiredForTest()) {
      GTEST_SKIP() << t.status().ToString();
    }
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    tdb_ = std::move(*t);
  }
  Database& db() { return tdb_->db(); }
  std::unique_ptr<testing::TestDatabase> tdb_;
};

const std::vector<Migration> kMigrations = {
    {"t", 1, "widgets",
     "CREATE TABLE widgets ({{PK}}, code TEXT NOT NULL UNIQUE, amount_fen BIGINT NOT NULL, "
     "note TEXT); CREATE INDEX widgets_amount ON widgets (amount_fen)"},
    {"t", 2, "parts",
     "CREATE TABLE parts ({{PK}}, widget_id BIGINT NOT NULL REFERENCES widgets(id), "
     "name TEXT NOT NULL)"},
};

TEST(PlaceholderTest, RewritesOutsideQuotes) {
  EXPECT_EQ(ToSqlitePlaceholders("SELECT $1, '$2', \"$3\", $10"), "SELECT ?1, '$2', \"$3\", ?10");
  EXPECT_EQ(EscapeLike("50%_a\\"), "50\\%\\_a\\\\");
}

TEST_P(DbTest, MigratesOnceAndRecordsVersions) {
  int applied = 0;
  ASSERT_TRUE(Migrate(db(), kMigrations, 1000, [&](const Migration&) { ++applied; }).ok());
  EXPECT_EQ(applied, 2);
  ASSERT_TRUE(Migrate(db(), kMigrations, 2000, [&](const Migration&) { ++applied; }).ok());
  EXPECT_EQ(applied, 2);  // nothing pending the second time
  auto list = AppliedMigrations(db());
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[1].name, "parts");
  EXPECT_EQ((*list)[1].applied_at_us, 1000);
}

TEST_P(DbTest, FailingMigrationLeavesSchemaAsItWas) {
  ASSERT_TRUE(Migrate(db(), kMigrations, 1, nullptr).ok());
  std::vector<Migration> more = kMigrations;
  more.push_back(
      {"t", 3, "broken",
       "CREATE TABLE gadgets ({{PK}}, name TEXT); ALTER TABLE no_such ADD COLUMN x TEXT"});
  Status s = Migrate(db(), more, 2, nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("t/3 (broken)"), std::string::npos) << s.ToString();
  // gadgets was rolled back with the failing statement, and version 3 is not recorded.
  Status q = db().Read([](Connection& c) { return c.Exec("SELECT * FROM gadgets").status(); });
  EXPECT_FALSE(q.ok());
  EXPECT_EQ(PendingMigrations(db(), more)->size(), 1u);
}

TEST_P(DbTest, TypedRoundTripAndErrors) {
  ASSERT_TRUE(Migrate(db(), kMigrations, 1, nullptr).ok());
  int64_t id = 0;
  ASSERT_TRUE(db().Write([&](Connection& c) -> Status {
                    ASSIGN_OR_RETURN(
                        id, c.InsertReturningId("INSERT INTO widgets (code, amount_fen, note) "
                                                "VALUES ($1, $2, $3) RETURNING id",
                                                {"W-1", int64_t{9'000'000'000'000}, "张三 $1"}));
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_GT(id, 0);
  Status s = db().Read([&](Connection& c) {
    return c.Query("SELECT code, amount_fen, note, NULL FROM widgets WHERE id = $1", {id},
                   [](const Row& r) {
                     EXPECT_EQ(r.Text(0), "W-1");
                     EXPECT_EQ(r.Int(1), 9'000'000'000'000);
                     EXPECT_EQ(r.Text(2), "张三 $1");
                     EXPECT_TRUE(r.IsNull(3));
                     EXPECT_FALSE(r.OptInt(3).has_value());
                   });
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  // A duplicate code is AlreadyExists; a dangling reference FailedPrecondition.
  Status dup = db().Write([&](Connection& c) {
    return c.Exec("INSERT INTO widgets (code, amount_fen) VALUES ($1, $2)", {"W-1", 1}).status();
  });
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists) << dup.ToString();
  Status fk = db().Write([&](Connection& c) {
    return c.Exec("INSERT INTO parts (widget_id, name) VALUES ($1, $2)", {int64_t{999}, "x"})
        .status();
  });
  EXPECT_EQ(fk.code(), StatusCode::kFailedPrecondition) << fk.ToString();
}

TEST_P(DbTest, FailedWriteRollsBackEverything) {
  ASSERT_TRUE(Migrate(db(), kMigrations, 1, nullptr).ok());
  Status s = db().Write([&](Connection& c) -> Status {
    RETURN_IF_ERROR(
        c.Exec("INSERT INTO widgets (code, amount_fen) VALUES ($1, $2)", {"A", 1}).status());
    return InvalidArgument("changed my mind");
  });
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  auto n = db().ReadValue<int64_t>(
      [](Connection& c) { return c.QueryInt("SELECT COUNT(*) FROM widgets"); });
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0);
  EXPECT_EQ(db().stats().rollbacks.load(), 1);
}

TEST_P(DbTest, PreparedBulkInsertAndConcurrentReads) {
  ASSERT_TRUE(Migrate(db(), kMigrations, 1, nullptr).ok());
  ASSERT_TRUE(db().Write([&](Connection& c) -> Status {
                    ASSIGN_OR_RETURN(auto st,
                                     c.Prepare("INSERT INTO widgets (id, code, amount_fen) "
                                               "VALUES ($1, $2, $3)"));
                    for (int i = 1; i <= 2000; ++i) {
                      RETURN_IF_ERROR(st->Run({i, "C" + std::to_string(i), i * 10}).status());
                    }
                    return db().ResetIdentity(c, "widgets");
                  })
                  .ok());
  // The identity continues after the explicit ids.
  auto next = db().WriteValue<int64_t>([](Connection& c) {
    return c.InsertReturningId(
        "INSERT INTO widgets (code, amount_fen) VALUES ('next', 0) RETURNING id", {});
  });
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(*next, 2001);
  std::vector<std::thread> readers;
  std::atomic<int> good{0};
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        auto sum = db().ReadValue<int64_t>([](Connection& c) {
          return c.QueryInt("SELECT SUM(amount_fen) FROM widgets WHERE id <= 2000");
        });
        if (sum.ok() && *sum == 20'010'000) ++good;
      }
    });
  }
  for (auto& r : readers) r.join();
  EXPECT_EQ(good.load(), 200);
}

INSTANTIATE_TEST_SUITE_P(Backends, DbTest, ::testing::ValuesIn(testing::AvailableBackendsForTest()),
                         [](const auto& p) { return p.param; });

}  // namespace
}  // namespace gridmis::store
