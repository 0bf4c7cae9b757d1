#include "core/time.h"

#include <date/date.h>
#include <date/tz.h>

#include <chrono>
#include <cstdio>

namespace gridmis {

int64_t SystemClock::NowMicros() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const SystemClock* SystemClock::Get() {
  static const SystemClock clock;
  return &clock;
}

bool IsLeapYear(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && IsLeapYear(year)) return 29;
  return kDays[month - 1];
}

namespace {

// Parses exactly `n` digits at s[pos..).
bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

Status BadDate(std::string_view what, std::string_view text, std::string_view expect) {
  return InvalidArgument(std::string(what) + " '" + std::string(text.substr(0, 40)) +
                         "' is not a valid " + std::string(expect));
}

}  // namespace

Result<Date> Date::Parse(std::string_view text, std::string_view what) {
  Date d;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' || !Digits(text, 0, 4, &d.year) ||
      !Digits(text, 5, 2, &d.month) || !Digits(text, 8, 2, &d.day) || d.month < 1 || d.month > 12 ||
      d.day < 1 || d.day > DaysInMonth(d.year, d.month)) {
    return BadDate(what, text, "date (YYYY-MM-DD)");
  }
  return d;
}

Date Date::FromDays(int64_t days) {
  date::year_month_day ymd{date::sys_days{date::days{days}}};
  return Date{static_cast<int>(ymd.year()), static_cast<int>(static_cast<unsigned>(ymd.month())),
              static_cast<int>(static_cast<unsigned>(ymd.day()))};
}

int64_t Date::ToDays() const {
  date::sys_days sd = date::year{year} / date::month{static_cast<unsigned>(month)} /
                      date::day{static_cast<unsigned>(day)};
  return sd.time_since_epoch().count();
}

int Date::Weekday() const {
  return static_cast<int>(date::weekday{date::sys_days{date::days{ToDays()}}}.c_encoding());
}

std::string Date::ToString() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", year, month, day);
  return buf;
}

Result<YearMonth> YearMonth::Parse(std::string_view text, std::string_view what) {
  YearMonth ym;
  if (text.size() != 7 || text[4] != '-' || !Digits(text, 0, 4, &ym.year) ||
      !Digits(text, 5, 2, &ym.month) || ym.month < 1 || ym.month > 12 || ym.year < 1900) {
    return BadDate(what, text, "period (YYYY-MM)");
  }
  return ym;
}

YearMonth YearMonth::Next() const {
  return month == 12 ? YearMonth{year + 1, 1} : YearMonth{year, month + 1};
}
YearMonth YearMonth::Prev() const {
  return month == 1 ? YearMonth{year - 1, 12} : YearMonth{year, month - 1};
}
std::string YearMonth::ToString() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d", year, month);
  return buf;
}

namespace {
const date::time_zone* Zone(const void* p) { return static_cast<const date::time_zone*>(p); }
using SysUs = date::sys_time<std::chrono::microseconds>;
}  // namespace

Result<TimeZone> TimeZone::Load(std::string_view name) {
  TimeZone tz;
  try {
    tz.zone_ = date::locate_zone(std::string(name));
  } catch (const std::exception& e) {
    return InvalidArgument("unknown time zone '" + std::string(name) + "'", "time_zone");
  }
  tz.name_ = std::string(name);
  return tz;
}

Date TimeZone::LocalDate(int64_t utc_us) const {
  auto local = Zone(zone_)->to_local(SysUs{std::chrono::microseconds{utc_us}});
  auto days = date::floor<date::days>(local);
  return Date::FromDays(days.time_since_epoch().count());
}

int64_t TimeZone::StartOfDay(Date d) const {
  date::local_days ld{date::days{d.ToDays()}};
  // A zone whose midnight falls in a gap starts the day at the first valid instant.
  auto info = Zone(zone_)->get_info(ld);
  date::sys_seconds sys;
  if (info.result == date::local_info::nonexistent) {
    sys = info.second.begin;
  } else {
    sys = date::sys_seconds{ld.time_since_epoch()} - info.first.offset;
  }
  return std::chrono::duration_cast<std::chrono::microseconds>(sys.time_since_epoch()).count();
}

std::string TimeZone::FormatLocal(int64_t utc_us) const {
  auto local = Zone(zone_)->to_local(
      date::floor<std::chrono::seconds>(SysUs{std::chrono::microseconds{utc_us}}));
  return date::format("%Y-%m-%d %H:%M:%S", local);
}

int64_t TimeZone::OffsetSeconds(int64_t utc_us) const {
  auto info = Zone(zone_)->get_info(
      date::floor<std::chrono::seconds>(SysUs{std::chrono::microseconds{utc_us}}));
  return info.offset.count();
}

std::string FormatUtc(int64_t utc_us) {
  SysUs t{std::chrono::microseconds{utc_us}};
  auto secs = date::floor<std::chrono::seconds>(t);
  int64_t frac = (t - secs).count();
  std::string s = date::format("%Y-%m-%dT%H:%M:%S", secs);
  if (frac != 0) {
    char buf[16];
    std::snprintf(buf, sizeof buf, ".%06lld", static_cast<long long>(frac));
    std::string f = buf;
    while (f.back() == '0') f.pop_back();
    s += f;
  }
  s += 'Z';
  return s;
}

Result<int64_t> ParseRfc3339(std::string_view text, std::string_view what) {
  auto bad = [&] { return BadDate(what, text, "time (RFC 3339, e.g. 2026-10-31T08:00:00+08:00)"); };
  if (text.size() < 20) return bad();
  auto date = Date::Parse(text.substr(0, 10), what);
  if (!date.ok()) return bad();
  if (text[10] != 'T' && text[10] != 't' && text[10] != ' ') return bad();
  int hh, mm, ss;
  if (!Digits(text, 11, 2, &hh) || text[13] != ':' || !Digits(text, 14, 2, &mm) ||
      text[16] != ':' || !Digits(text, 17, 2, &ss) || hh > 23 || mm > 59 || ss > 60) {
    return bad();
  }
  size_t pos = 19;
  int64_t frac_us = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int n = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (n < 6) frac_us = frac_us * 10 + (text[pos] - '0');
      ++n;
      ++pos;
    }
    if (n == 0) return bad();
    for (int i = n; i < 6; ++i) frac_us *= 10;
  }
  if (pos >= text.size()) return bad();
  int64_t offset_s = 0;
  if (text[pos] == 'Z' || text[pos] == 'z') {
    ++pos;
  } else if (text[pos] == '+' || text[pos] == '-') {
    int oh, om;
    if (!Digits(text, pos + 1, 2, &oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !Digits(text, pos + 4, 2, &om) || oh > 23 || om > 59) {
      return bad();
    }
    offset_s = (oh * 3600 + om * 60) * (text[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return bad();
  }
  if (pos != text.size()) return bad();
  int64_t secs = date->ToDays() * 86400 + hh * 3600 + mm * 60 + ss - offset_s;
  return secs * kMicrosPerSecond + frac_us;
}

}  // namespace gridmis
