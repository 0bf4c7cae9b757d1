#include "core/money.h"

#include <gtest/gtest.h>

namespace gridmis {
namespace {

TEST(MoneyTest, ParsesYuanToFen) {
  EXPECT_EQ(Money::ParseYuan("12.3")->fen(), 1230);
  EXPECT_EQ(Money::ParseYuan("-0.05")->fen(), -5);
  EXPECT_EQ(Money::ParseYuan("100")->fen(), 10000);
  EXPECT_FALSE(Money::ParseYuan("0.001").ok());  // no fractions of a fen
  EXPECT_FALSE(Money::ParseYuan("1e2").ok());
}

TEST(MoneyTest, FormatsAndAdds) {
  Money a = Money::FromFen(1999);
  Money b = Money::FromFen(-2000);
  EXPECT_EQ((a + b).ToYuanString(), "-0.01");
  EXPECT_EQ(a.ToYuanString(), "19.99");
  EXPECT_LT(b, a);
}

TEST(EnergyTest, ResolutionIsATenthOfAWattHour) {
  auto e = Energy::ParseKwh("123456.7891");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->dwh(), 1234567891);
  EXPECT_EQ(e->ToKwhString(), "123456.7891");
  EXPECT_EQ(e->ToKwhString(2), "123456.79");
  EXPECT_EQ(e->RoundedKwh(), 123457);
  EXPECT_FALSE(Energy::ParseKwh("1.23456").ok());
  EXPECT_EQ(Energy::FromKwh(5).dwh(), 50000);
}

TEST(PriceTest, TimesEnergyRoundsToTheFen) {
  auto p = Price::ParseYuan("0.538");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->ToYuanString(), "0.5380");
  // 0.538 x 230 kWh = 123.74
  EXPECT_EQ(p->Times(Energy::FromKwh(230))->fen(), 12374);
  // 0.5283 x 0.5 kWh = 0.26415 -> 0.26
  EXPECT_EQ(Price::ParseYuan("0.5283")->Times(*Energy::ParseKwh("0.5"))->fen(), 26);
  // half rounds up: 0.0125 x 1 kWh -> 0.01 (0.0125 rounds to 0.01), 0.015 -> 0.02
  EXPECT_EQ(Price::ParseYuan("0.015")->Times(Energy::FromKwh(1))->fen(), 2);
  EXPECT_EQ(Price::ParseYuan("0.01234567")->ToYuanString(), "0.01234567");
}

}  // namespace
}  // namespace gridmis
