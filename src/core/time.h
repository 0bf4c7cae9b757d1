// Instants, business dates and the utility's time zone.
//
// Instants are UTC microseconds since the Unix epoch (`*_us`). Business dates (billing periods,
// reading days, time-of-use periods) are civil dates in the utility's zone, taken from
// configuration (default Asia/Shanghai), never from the process environment.
#pragma once

#include <atomic>
#include <compare>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace gridmis {

// A source of the current instant. Tests use FakeClock and never read the wall clock.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMicros() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t NowMicros() const override;
  static const SystemClock* Get();
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t now_us) : now_us_(now_us) {}
  int64_t NowMicros() const override { return now_us_.load(); }
  void Advance(int64_t us) { now_us_ += us; }
  void Set(int64_t now_us) { now_us_ = now_us; }

 private:
  std::atomic<int64_t> now_us_;
};

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMicrosPerMinute = 60 * kMicrosPerSecond;
constexpr int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;

// A civil (proleptic Gregorian) date.
struct Date {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31

  // Strict "YYYY-MM-DD"; the error names `what`.
  static Result<Date> Parse(std::string_view text, std::string_view what = "date");
  static Date FromDays(int64_t days_since_epoch);
  int64_t ToDays() const;
  Date AddDays(int64_t n) const { return FromDays(ToDays() + n); }
  // 0 = Sunday .. 6 = Saturday
  int Weekday() const;
  std::string ToString() const;
  auto operator<=>(const Date&) const = default;
};

int DaysInMonth(int year, int month);
bool IsLeapYear(int year);

// A billing period: a calendar month.
struct YearMonth {
  int year = 1970;
  int month = 1;

  // Strict "YYYY-MM".
  static Result<YearMonth> Parse(std::string_view text, std::string_view what = "period");
  Date FirstDay() const { return Date{year, month, 1}; }
  Date LastDay() const { return Date{year, month, DaysInMonth(year, month)}; }
  int Days() const { return DaysInMonth(year, month); }
  YearMonth Next() const;
  YearMonth Prev() const;
  std::string ToString() const;
  auto operator<=>(const YearMonth&) const = default;
};

// The utility's zone, from the OS tz database.
class TimeZone {
 public:
  // "Asia/Shanghai", "UTC", ... Fails with InvalidArgument for unknown names.
  static Result<TimeZone> Load(std::string_view name);
  const std::string& name() const { return name_; }

  // The business date of an instant.
  Date LocalDate(int64_t utc_us) const;
  // The instant of local midnight starting `d`.
  int64_t StartOfDay(Date d) const;
  // "2026-10-31 08:00:00" local time.
  std::string FormatLocal(int64_t utc_us) const;
  // Offset from UTC in seconds at that instant (+28800 for Asia/Shanghai).
  int64_t OffsetSeconds(int64_t utc_us) const;

 private:
  std::string name_;
  const void* zone_ = nullptr;  // const date::time_zone*, owned by the tz database
};

// "2026-10-31T00:00:00Z" (with ".123456" when there are microseconds).
std::string FormatUtc(int64_t utc_us);
// RFC 3339: "2026-10-31T08:00:00+08:00", "2026-10-31T00:00:00.5Z".
Result<int64_t> ParseRfc3339(std::string_view text, std::string_view what = "time");

}  // namespace gridmis
