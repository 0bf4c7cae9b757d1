#include "billing/amount_words.h"

#include <gtest/gtest.h>

namespace gridmis::billing {
namespace {

std::string W(int64_t fen) { return AmountInWords(Money::FromFen(fen)); }

TEST(AmountInWordsTest, TheUsualCases) {
  EXPECT_EQ(W(12345), "壹佰贰拾叁元肆角伍分");
  EXPECT_EQ(W(10000), "壹佰元整");
  EXPECT_EQ(W(100503), "壹仟零伍元零叁分");
  EXPECT_EQ(W(5), "伍分");
  EXPECT_EQ(W(50), "伍角整");
  EXPECT_EQ(W(0), "零元整");
  EXPECT_EQ(W(1000), "壹拾元整");
  EXPECT_EQ(W(1050), "壹拾元伍角整");
  EXPECT_EQ(W(1005), "壹拾元零伍分");
  EXPECT_EQ(W(-1000), "负壹拾元整");
  EXPECT_EQ(W(-12), "负壹角贰分");
}

TEST(AmountInWordsTest, ZerosInsideAndAcrossTheGroupsOfFourDigits) {
  EXPECT_EQ(W(100100), "壹仟零壹元整");
  EXPECT_EQ(W(101000), "壹仟零壹拾元整");
  EXPECT_EQ(W(110000), "壹仟壹佰元整");
  EXPECT_EQ(W(10000000), "壹拾万元整");
  EXPECT_EQ(W(10001000), "壹拾万零壹拾元整");
  EXPECT_EQ(W(1000000000), "壹仟万元整");
  EXPECT_EQ(W(1000001000), "壹仟万零壹拾元整");
  EXPECT_EQ(W(10000000000), "壹亿元整");
  EXPECT_EQ(W(10000000100), "壹亿零壹元整");
  EXPECT_EQ(W(10100000000), "壹亿零壹佰万元整");
  EXPECT_EQ(W(12345678900), "壹亿贰仟叁佰肆拾伍万陆仟柒佰捌拾玖元整");
  // Zeros at the end of a group are not read (贰仟万伍仟); zeros before a group's digits are.
  EXPECT_EQ(W(2000500007), "贰仟万伍仟元零柒分");
  EXPECT_EQ(W(2000050007), "贰仟万零伍佰元零柒分");
  EXPECT_EQ(W(168032), "壹仟陆佰捌拾元叁角贰分");
  EXPECT_EQ(W(100000000000000), "壹万亿元整");
}

}  // namespace
}  // namespace gridmis::billing
