#include "core/time.h"

#include <gtest/gtest.h>

namespace gridmis {
namespace {

TEST(DateTest, ParsesStrictly) {
  auto d = Date::Parse("2024-02-29");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->ToString(), "2024-02-29");
  EXPECT_FALSE(Date::Parse("2023-02-29").ok());
  EXPECT_FALSE(Date::Parse("2023-2-1").ok());
  EXPECT_FALSE(Date::Parse("2023-13-01").ok());
  EXPECT_FALSE(Date::Parse("2023-01-01T").ok());
}

TEST(DateTest, Arithmetic) {
  Date d{2026, 12, 31};
  EXPECT_EQ(d.AddDays(1).ToString(), "2027-01-01");
  EXPECT_EQ((Date{1970, 1, 1}).ToDays(), 0);
  EXPECT_EQ(Date::FromDays(-1).ToString(), "1969-12-31");
  EXPECT_EQ((Date{2026, 11, 28}).Weekday(), 6);  // Saturday
  EXPECT_EQ(DaysInMonth(2100, 2), 28);
  EXPECT_EQ(DaysInMonth(2000, 2), 29);
}

TEST(YearMonthTest, Periods) {
  auto p = YearMonth::Parse("2026-12");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->Next().ToString(), "2027-01");
  EXPECT_EQ(p->Prev().ToString(), "2026-11");
  EXPECT_EQ(YearMonth::Parse("2024-02")->LastDay().ToString(), "2024-02-29");
  EXPECT_FALSE(YearMonth::Parse("2026-00").ok());
  EXPECT_FALSE(YearMonth::Parse("2026-1").ok());
}

TEST(TimeZoneTest, ShanghaiBusinessDates) {
  auto tz = TimeZone::Load("Asia/Shanghai");
  ASSERT_TRUE(tz.ok());
  // 2026-10-31T16:30:00Z is 2026-11-01 00:30 in Shanghai.
  int64_t t = *ParseRfc3339("2026-10-31T16:30:00Z");
  EXPECT_EQ(tz->LocalDate(t).ToString(), "2026-11-01");
  EXPECT_EQ(tz->FormatLocal(t), "2026-11-01 00:30:00");
  EXPECT_EQ(tz->OffsetSeconds(t), 8 * 3600);
  EXPECT_EQ(FormatUtc(tz->StartOfDay(Date{2026, 11, 1})), "2026-10-31T16:00:00Z");
  EXPECT_FALSE(TimeZone::Load("Mars/Olympus").ok());
}

TEST(TimeZoneTest, DaylightSavingZones) {
  auto ny = TimeZone::Load("America/New_York");
  ASSERT_TRUE(ny.ok());
  // 2026-03-08 has 23 hours in New York.
  int64_t a = ny->StartOfDay(Date{2026, 3, 8});
  int64_t b = ny->StartOfDay(Date{2026, 3, 9});
  EXPECT_EQ(b - a, 23 * 3600 * kMicrosPerSecond);
}

TEST(Rfc3339Test, RoundTrip) {
  EXPECT_EQ(*ParseRfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*ParseRfc3339("2026-10-31T08:00:00+08:00"), *ParseRfc3339("2026-10-31T00:00:00Z"));
  EXPECT_EQ(FormatUtc(*ParseRfc3339("2026-10-31T00:00:00.25Z")), "2026-10-31T00:00:00.25Z");
  EXPECT_FALSE(ParseRfc3339("2026-10-31 08:00").ok());
  EXPECT_FALSE(ParseRfc3339("2026-10-31T08:00:00").ok());  // a zone is required
  EXPECT_FALSE(ParseRfc3339("2026-10-31T08:00:00+8").ok());
}

TEST(FakeClockTest, Advances) {
  FakeClock c(1000);
  c.Advance(kMicrosPerMinute);
  EXPECT_EQ(c.NowMicros(), 1000 + kMicrosPerMinute);
}

}  // namespace
}  // namespace gridmis
