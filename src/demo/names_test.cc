#include "demo/names.h"

#include <gtest/gtest.h>

#include <set>

#include "demo/places.h"
#include "demo/rng.h"

namespace gridmis::demo {
namespace {

TEST(RngTest, SameSeedSameStreamDifferentSeedDiffers) {
  Rng a(42), b(42), c(43);
  for (int i = 0; i < 100; ++i) {
    uint64_t x = a.Next();
    EXPECT_EQ(x, b.Next());
    EXPECT_NE(x, c.Next());
  }
  // Streams are independent of each other and stable.
  EXPECT_EQ(Rng::For(1, 2, 3).Next(), Rng::For(1, 2, 3).Next());
  EXPECT_NE(Rng::For(1, 2, 3).Next(), Rng::For(1, 2, 4).Next());
  EXPECT_NE(Rng::For(1, 2, 3).Next(), Rng::For(1, 3, 3).Next());
}

TEST(RngTest, BoundsAndWeights) {
  Rng r(7);
  int counts[3] = {};
  const int weights[] = {1, 0, 3};
  for (int i = 0; i < 40000; ++i) {
    int64_t v = r.Between(-2, 2);
    ASSERT_GE(v, -2);
    ASSERT_LE(v, 2);
    ++counts[r.Weighted(weights)];
  }
  EXPECT_EQ(counts[1], 0);
  EXPECT_NEAR(counts[2] / 40000.0, 0.75, 0.02);
}

TEST(ResidentIdTest, StandardExamples) {
  // The examples of GB 11643-1999 and widely published test numbers.
  EXPECT_EQ(ResidentIdCheckChar("11010519491231002"), 'X');
  EXPECT_TRUE(IsValidResidentId("11010519491231002X"));
  EXPECT_TRUE(IsValidResidentId("440524188001010014"));
  EXPECT_FALSE(IsValidResidentId("440524188001010015"));  // wrong check digit
  EXPECT_FALSE(IsValidResidentId("11010519490231002X"));  // 31 February... 1949-02-31
  EXPECT_FALSE(IsValidResidentId("1101051949123100"));    // too short
}

TEST(ResidentIdTest, GeneratedIdsCarryBirthSexAndCheck) {
  Rng r(1);
  for (int i = 0; i < 1000; ++i) {
    bool male = i % 2 == 0;
    std::string id = MakeResidentId(r, "150902", Date{1980, 2, 29}, male);
    ASSERT_TRUE(IsValidResidentId(id)) << id;
    EXPECT_EQ(id.substr(0, 14), "15090219800229");
    EXPECT_EQ((id[16] - '0') % 2 == 1, male) << id;
  }
}

TEST(CreditCodeTest, StandardExampleAndGenerated) {
  // GB 32100-2015 examples as printed on business licences.
  EXPECT_TRUE(IsValidCreditCode("91350100M000100Y43"));
  EXPECT_TRUE(IsValidCreditCode("91110000600037341L"));
  EXPECT_FALSE(IsValidCreditCode("91350100M000100Y44"));
  EXPECT_EQ(OrganizationCodeCheckChar("M000100Y"), '4');
  Rng r(2);
  for (const char* reg : {"91", "92", "93", "11", "12", "52", "54"}) {
    for (int i = 0; i < 200; ++i) {
      std::string code = MakeCreditCode(r, reg, "150926");
      ASSERT_EQ(code.size(), 18u);
      EXPECT_TRUE(IsValidCreditCode(code)) << code;
      EXPECT_EQ(code.substr(0, 8), std::string(reg) + "150926");
      EXPECT_EQ(OrganizationCodeCheckChar(code.substr(8, 8)), code[16]) << code;
    }
  }
}

TEST(LuhnTest, KnownAndGeneratedCards) {
  EXPECT_TRUE(IsValidLuhn("79927398713"));
  EXPECT_FALSE(IsValidLuhn("79927398710"));
  Rng r(3);
  for (size_t bank = 0; bank < kBankCount; ++bank) {
    std::string card = DebitCardNumber(r, bank);
    EXPECT_EQ(card.size(), 19u);
    EXPECT_TRUE(IsValidLuhn(card)) << card;
  }
}

TEST(ContactNumbersTest, Shapes) {
  Rng r(4);
  for (int i = 0; i < 200; ++i) {
    std::string m = MobileNumber(r);
    ASSERT_EQ(m.size(), 11u);
    EXPECT_EQ(m[0], '1');
    std::string l = LandlineNumber(r);
    EXPECT_EQ(l.substr(0, 5), "0474-");
    EXPECT_EQ(l.size(), 12u);
  }
}

TEST(PlacesTest, ElevenRealCountiesWithStations) {
  auto counties = UlanqabCounties();
  ASSERT_EQ(counties.size(), 11u);
  std::set<std::string_view> codes, logins;
  for (const CountyInfo& c : counties) {
    EXPECT_TRUE(c.admin_code.starts_with("1509")) << c.name;
    codes.insert(c.admin_code);
    EXPECT_GE(c.stations.size(), 2u);
    EXPECT_LE(c.stations.size(), 4u);
    EXPECT_TRUE(logins.insert(c.pinyin).second) << c.pinyin;
    for (const StationInfo& s : c.stations) {
      EXPECT_TRUE(s.name.ends_with("供电所")) << s.name;
      EXPECT_TRUE(logins.insert(s.pinyin).second) << s.pinyin;
    }
  }
  EXPECT_EQ(codes.size(), 11u);
}

TEST(NamesTest, PeopleAndBusinessesLookPlausible) {
  Rng r(5);
  const CountyInfo& county = UlanqabCounties()[7];  // 察哈尔右翼前旗
  for (int i = 0; i < 500; ++i) {
    std::string name = PersonName(r, i % 2 == 0, i % 10 == 0);
    EXPECT_GE(name.size(), 6u) << name;  // two or more CJK characters
    EXPECT_LE(name.size(), 24u) << name;
  }
  int ferroalloy = 0;
  for (int i = 0; i < 500; ++i) {
    Business b = MakeBusiness(r, BusinessKind::kLargeIndustry, {&county, "", "工业园区", ""});
    EXPECT_FALSE(b.registry.empty());
    EXPECT_TRUE(b.name.find("公司") != std::string::npos) << b.name;
    ferroalloy += b.name.find("合金") != std::string::npos;
  }
  EXPECT_GT(ferroalloy, 100);  // ferroalloy is Ulanqab's signature industry
}

}  // namespace
}  // namespace gridmis::demo
