#include "core/decimal.h"

#include <gtest/gtest.h>

namespace gridmis {
namespace {

TEST(DecimalTest, ParseAndFormat) {
  auto d = Decimal::Parse("123.4500");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->mantissa, 1234500);
  EXPECT_EQ(d->scale, 4);
  EXPECT_EQ(d->ToString(), "123.4500");
  EXPECT_EQ((Decimal{-5, 3}).ToString(), "-0.005");
  EXPECT_EQ((Decimal{0, 0}).ToString(), "0");
}

TEST(DecimalTest, RejectsMalformed) {
  for (const char* s :
       {"", "-", "1.", ".", "1..2", "1e3", " 1", "1,000", "abc", "99999999999999999999"}) {
    EXPECT_FALSE(Decimal::Parse(s).ok()) << s;
  }
  auto r = Decimal::Parse("1.234", 2, "amount");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("amount '1.234'"), std::string::npos);
}

TEST(DecimalTest, RoundsHalfAwayFromZero) {
  EXPECT_EQ(*DivRoundHalfUp(5, 10), 1);
  EXPECT_EQ(*DivRoundHalfUp(4, 10), 0);
  EXPECT_EQ(*DivRoundHalfUp(-5, 10), -1);
  EXPECT_EQ(*DivRoundHalfUp(-4, 10), 0);
  EXPECT_EQ(*DivRoundHalfUp(15, -10), -2);
  EXPECT_FALSE(DivRoundHalfUp(1, 0).ok());
  EXPECT_EQ((Decimal{12345, 3}).Rescale(2)->mantissa, 1235);  // 12.345 -> 12.35
  EXPECT_EQ((Decimal{-12345, 3}).Rescale(2)->mantissa, -1235);
  EXPECT_EQ((Decimal{12344, 3}).Rescale(2)->mantissa, 1234);
}

TEST(DecimalTest, MultiplyExactThenRound) {
  // 0.5380 yuan/kWh x 123.45 kWh = 66.41610 -> 66.42
  auto m = Decimal::Multiply(Decimal{5380, 4}, Decimal{12345, 2}, 2);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->ToString(), "66.42");
  // Big but exact: 99,999,999.9999 kWh x 1.23456789 yuan
  auto big = Decimal::Multiply(Decimal{999999999999, 4}, Decimal{123456789, 8}, 2);
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->ToString(), "123456789.00");  // 123456788.999876543 rounds up
  EXPECT_EQ(Decimal::Multiply(Decimal{-12345, 2}, Decimal{5, 1}, 2)->ToString(), "-61.73");
}

TEST(DecimalTest, Compares) {
  EXPECT_EQ((Decimal{50, 2}), (Decimal{5, 1}));
  EXPECT_LT((Decimal{49, 2}), (Decimal{5, 1}));
  EXPECT_GT((Decimal{-4, 1}), (Decimal{-50, 2}));
}

}  // namespace
}  // namespace gridmis
