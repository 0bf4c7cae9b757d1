// The simulated meters' registers: a closed-form, deterministic function of (seed, instant).
// See MeterModel in simulator.h for the model.
#include <algorithm>
#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "acquisition/simulator/simulator.h"

namespace gridmis::acquisition::simulator {

namespace {

constexpr int kSlots = 96;
constexpr int kClasses = 3;                        // household, commercial/industrial, substation
constexpr int64_t kMinRegisterDailyDwh = 10'000;   // 1 kWh/day
constexpr int64_t kMaxRegisterDailyDwh = 400'000;  // 40 kWh/day: 45 years fit in 999999.9999
constexpr int kNoisePermille = 150;

uint64_t Mix(uint64_t x) {  // splitmix64
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
uint64_t Hash(uint64_t a, uint64_t b) { return Mix(a ^ Mix(b ^ 0x5851F42D4C957F2Dull)); }

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

int64_t EpochDays() {
  static const int64_t kDays = Date{2015, 1, 1}.ToDays();
  return kDays;
}

// The TOU rate (1 sharp, 2 peak, 3 flat, 4 valley) of a 15-minute slot: sharp 19–21, peak 8–11
// & 18–19 & 21–23, valley 23–7, flat the rest (7–8, 11–18).
int RateOfSlot(int slot) {
  int h = slot / 4;
  if (h == 19 || h == 20) return 1;
  if ((h >= 8 && h <= 10) || h == 18 || h == 21 || h == 22) return 2;
  if (h == 23 || h <= 6) return 4;
  return 3;
}

// Hourly load shapes (relative), per class and day type (0 weekday, 1 weekend).
constexpr int kHourly[kClasses][2][24] = {
    {// household
     {40, 32, 28, 26, 26, 30, 50,  80,  70,  55,  50,  60,
      70, 60, 50, 50, 55, 80, 120, 150, 160, 140, 100, 60},
     {45, 35, 30, 28, 27, 30, 40,  60,  80,  90,  85,  90,
      95, 85, 75, 70, 70, 90, 125, 150, 155, 135, 100, 65}},
    {// commercial / industrial
     {40,  38,  36,  36,  36,  40,  55,  80, 120, 140, 145, 140,
      110, 120, 140, 140, 135, 120, 100, 90, 80,  70,  55,  45},
     {40, 38, 36, 36, 36, 38, 45, 55, 65, 70, 70, 70,
      65, 65, 70, 70, 70, 65, 60, 55, 50, 48, 45, 42}},
    {// substation (a mix)
     {60,  55,  50,  50,  50,  55,  70,  90,  110, 120, 120, 115,
      105, 110, 120, 120, 120, 120, 125, 130, 125, 110, 85,  70},
     {60, 55, 50, 50, 50,  52,  60,  75,  90,  100, 100, 100,
      95, 95, 95, 95, 100, 105, 115, 125, 120, 105, 85,  70}},
};

// Per-day deviation (permille) by weekday, Monday first; each sums to zero over a week.
constexpr int kWeekly[kClasses][7] = {
    {-32, -32, -32, -32, -32, 80, 80},
    {100, 100, 100, 100, 100, -250, -250},
    {20, 20, 20, 20, 20, -50, -50},
};
// Seasonal deviation (permille) by month before centring: summer cooling, winter heating.
constexpr int kMonthly[12] = {120, 60, -60, -110, -90, 30, 160, 170, 10, -110, -70, 90};
constexpr int kSeasonPercent[kClasses] = {100, 50, 80};

int SeasonOf(int month) {  // intraday shape: 0 other, 1 summer, 2 winter
  if (month >= 6 && month <= 9) return 1;
  if (month == 12 || month <= 2) return 2;
  return 0;
}

struct Tables {
  // Slot weights and, per rate, the cumulative weight of that rate's slots before slot k.
  int64_t cum[kClasses][2][3][5][kSlots + 1];
  int64_t share_ppm[kClasses][5];     // rates 1..3 (4 takes the rest)
  int64_t week_cum[kClasses][8];      // Σ of kWeekly before weekday k (Monday 0)
  int64_t season_cum[kClasses][367];  // Σ of the day deviations before day-of-year k
  int32_t season_day[kClasses][366];
};

const Tables& T() {
  static const Tables* t = [] {
    auto* x = new Tables{};
    for (int c = 0; c < kClasses; ++c) {
      for (int dt = 0; dt < 2; ++dt) {
        for (int season = 0; season < 3; ++season) {
          std::array<int64_t, kSlots> w{};
          for (int k = 0; k < kSlots; ++k) {
            int h = k / 4, q = k % 4;
            int64_t v = kHourly[c][dt][h] * (4 - q) + kHourly[c][dt][(h + 1) % 24] * q;
            int pct = 100;
            if (season == 1 && ((h >= 11 && h <= 16) || (h >= 19 && h <= 23))) pct = 130;
            if (season == 2 && ((h >= 6 && h <= 9) || (h >= 17 && h <= 22))) pct = 120;
            w[static_cast<size_t>(k)] = v * pct;
          }
          for (int r = 1; r <= 4; ++r) {
            int64_t acc = 0;
            for (int k = 0; k <= kSlots; ++k) {
              x->cum[c][dt][season][r][k] = acc;
              if (k < kSlots && RateOfSlot(k) == r) acc += w[static_cast<size_t>(k)];
            }
          }
        }
      }
      // Rate shares from the weekday profile of the "other" season.
      int64_t all = 0;
      for (int r = 1; r <= 4; ++r) all += x->cum[c][0][0][r][kSlots];
      for (int r = 1; r <= 4; ++r) {
        x->share_ppm[c][r] = x->cum[c][0][0][r][kSlots] * 1'000'000 / all;
      }
      x->week_cum[c][0] = 0;
      for (int k = 0; k < 7; ++k) x->week_cum[c][k + 1] = x->week_cum[c][k] + kWeekly[c][k];
      // Day-of-year deviations of a 365-day year summing to zero; day 366 deviates by 0.
      static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
      std::array<int64_t, 366> s{};
      int i = 0;
      int64_t sum = 0;
      for (int m = 0; m < 12; ++m) {
        for (int d = 0; d < kDays[m]; ++d, ++i) {
          s[static_cast<size_t>(i)] = kMonthly[m] * kSeasonPercent[c] / 100;
          sum += s[static_cast<size_t>(i)];
        }
      }
      int64_t each = FloorDiv(sum, 365), rest = sum - each * 365;  // 0 <= rest < 365
      for (int k = 0; k < 365; ++k) s[static_cast<size_t>(k)] -= each + (k < rest ? 1 : 0);
      s[365] = 0;
      x->season_cum[c][0] = 0;
      for (int k = 0; k < 366; ++k) {
        x->season_day[c][k] = static_cast<int32_t>(s[static_cast<size_t>(k)]);
        x->season_cum[c][k + 1] = x->season_cum[c][k] + s[static_cast<size_t>(k)];
      }
    }
    return x;
  }();
  return *t;
}

const TimeZone* DefaultZone() {
  static const TimeZone* z = [] {
    auto r = TimeZone::Load("Asia/Shanghai");
    if (!r.ok()) r = TimeZone::Load("UTC");
    return new TimeZone(*r);
  }();
  return z;
}

int ClassOf(TerminalKind k) {
  switch (k) {
    case TerminalKind::kPublicTransformer:
      return 0;
    case TerminalKind::kSpecialTransformer:
    case TerminalKind::kLargeCustomer:
      return 1;
    case TerminalKind::kSubstation:
      return 2;
  }
  return 0;
}

int64_t MeanFromSeed(uint64_t seed, TerminalKind kind) {
  uint64_t h = Hash(seed, 1);
  switch (kind) {
    case TerminalKind::kPublicTransformer:
      return 20'000 + static_cast<int64_t>(h % 180'001);  // 2..20 kWh
    case TerminalKind::kSpecialTransformer:
    case TerminalKind::kLargeCustomer: {
      int64_t mantissa = 100 + static_cast<int64_t>(h % 900);  // 1.00..9.99
      int64_t decade = (Hash(seed, 7) % 2 == 0) ? 1 : 10;
      return mantissa * decade * 10'000;  // 100..9,990 kWh
    }
    case TerminalKind::kSubstation:
      return (1'000 + static_cast<int64_t>(h % 19'001)) * 10'000;  // 1,000..20,000 kWh
  }
  return 100'000;
}

int64_t AutoMultiplier(int64_t mean_dwh, TerminalKind kind) {
  if (kind == TerminalKind::kPublicTransformer) return 1;
  static constexpr int64_t kRatios[] = {1,    20,   30,   40,   60,   80,   100,
                                        150,  200,  300,  400,  600,  800,  1000,
                                        1500, 2000, 3000, 4000, 6000, 8000, 10000};
  for (int64_t r : kRatios) {
    if (mean_dwh / r <= kMaxRegisterDailyDwh) return r;
  }
  return 10000;
}

}  // namespace

const char* KindName(TerminalKind k) {
  switch (k) {
    case TerminalKind::kPublicTransformer:
      return "public_transformer";
    case TerminalKind::kSpecialTransformer:
      return "special_transformer";
    case TerminalKind::kLargeCustomer:
      return "large_customer";
    case TerminalKind::kSubstation:
      return "substation";
  }
  return "";
}

Result<TerminalKind> ParseKind(std::string_view name) {
  for (auto k : {TerminalKind::kPublicTransformer, TerminalKind::kSpecialTransformer,
                 TerminalKind::kLargeCustomer, TerminalKind::kSubstation}) {
    if (name == KindName(k)) return k;
  }
  return InvalidArgument("terminal kind \"" + std::string(name) +
                         "\" is not public_transformer, special_transformer, large_customer or "
                         "substation");
}

Energy TruncateTo645(Energy e) { return Energy::FromDwh(FloorDiv(e.dwh(), 100) * 100); }

struct MeterModel::DayState {
  int64_t start_us = 0, end_us = 0;
  std::array<int64_t, 5> r0{}, r1{};  // registers (1..4 rates, 0 total) at the day's bounds
  const int64_t (*cum)[kSlots + 1] = nullptr;  // [rate][slot]
};

MeterModel::MeterModel(const SimMeter& m, TerminalKind kind, const TimeZone* tz)
    : tz_(tz != nullptr ? tz : DefaultZone()), seed_(Mix(m.seed ^ 0xA5A5A5A5u)) {
  profile_class_ = ClassOf(kind);
  int64_t mean = m.mean_daily_dwh > 0 ? m.mean_daily_dwh : MeanFromSeed(seed_, kind);
  multiplier_ = m.multiplier > 0 ? m.multiplier : AutoMultiplier(mean, kind);
  mean_reg_ = std::clamp(mean / multiplier_, kMinRegisterDailyDwh, kMaxRegisterDailyDwh);
  base_ = mean_reg_ * static_cast<int64_t>(Hash(seed_, 2) % 1500);
  noise_amplitude_ = mean_reg_ * kNoisePermille / 1000;
  if (m.anchor_day) {
    // The register shows anchor_total at 00:00 of anchor_day (a meter's last known reading).
    base_ = 0;
    base_ = m.anchor_total.dwh() - RawTotalAtDayStart(m.anchor_day->ToDays() - EpochDays());
  }
  uint64_t h3 = Hash(seed_, 3);
  switch (profile_class_) {
    case 0:
      reactive_permille_ = 150 + static_cast<int32_t>(h3 % 201);
      reverse_ppm_ = (Hash(seed_, 4) % 10 == 0) ? 20'000 + static_cast<int32_t>(h3 % 30'001)
                                                : static_cast<int32_t>(h3 % 2'001);
      break;
    case 1:
      reactive_permille_ = 250 + static_cast<int32_t>(h3 % 201);
      reverse_ppm_ = static_cast<int32_t>(h3 % 501);
      break;
    default:
      reactive_permille_ = 200 + static_cast<int32_t>(h3 % 201);
      reverse_ppm_ = static_cast<int32_t>(h3 % 501);
      break;
  }
}

int64_t MeterModel::RawTotalAtDayStart(int64_t day_index) const {
  const Tables& t = T();
  Date date = Date::FromDays(EpochDays() + day_index);
  int monday_based = (date.Weekday() + 6) % 7;
  int doy = static_cast<int>(date.ToDays() - Date{date.year, 1, 1}.ToDays());
  int64_t x = 1000 * day_index + t.week_cum[profile_class_][monday_based] +
              t.season_cum[profile_class_][doy];
  int64_t noise = 0;
  if (noise_amplitude_ > 0) {
    uint64_t h = Hash(seed_ ^ 0x6E6F697365ull, static_cast<uint64_t>(day_index));
    noise = static_cast<int64_t>(h % static_cast<uint64_t>(2 * noise_amplitude_ + 1)) -
            noise_amplitude_;
  }
  return FloorDiv(mean_reg_ * x, 1000) + noise;
}

int64_t MeterModel::TotalAtDayStart(int64_t day_index) const {
  return std::max<int64_t>(0, base_ + RawTotalAtDayStart(day_index));
}

void MeterModel::Day(int64_t at_us, DayState* s) const {
  const Tables& t = T();
  Date date = tz_->LocalDate(at_us);
  int64_t d = date.ToDays() - EpochDays();
  s->start_us = tz_->StartOfDay(date);
  s->end_us = tz_->StartOfDay(date.AddDays(1));
  int64_t t0 = TotalAtDayStart(d), t1 = TotalAtDayStart(d + 1);
  auto split = [&](int64_t total, std::array<int64_t, 5>& r) {
    r[0] = total;
    int64_t used = 0;
    for (int k = 1; k <= 3; ++k) {
      r[static_cast<size_t>(k)] = total / 1'000'000 * t.share_ppm[profile_class_][k] +
                                  total % 1'000'000 * t.share_ppm[profile_class_][k] / 1'000'000;
      used += r[static_cast<size_t>(k)];
    }
    r[4] = total - used;
  };
  split(t0, s->r0);
  split(t1, s->r1);
  int weekend = (date.Weekday() == 0 || date.Weekday() == 6) ? 1 : 0;
  s->cum = t.cum[profile_class_][weekend][SeasonOf(date.month)];
}

std::vector<Energy> MeterModel::Split(const DayState& s, int64_t at_us) const {
  int64_t len = s.end_us - s.start_us;
  int64_t pos = std::clamp<int64_t>(at_us - s.start_us, 0, len);
  int k = static_cast<int>(std::min<int64_t>(pos * kSlots / len, kSlots - 1));
  int64_t b0 = s.start_us + len * k / kSlots, b1 = s.start_us + len * (k + 1) / kSlots;
  std::vector<Energy> out(5);
  int64_t total = 0;
  for (int r = 1; r <= 4; ++r) {
    int64_t u = s.r1[static_cast<size_t>(r)] - s.r0[static_cast<size_t>(r)];
    int64_t whole = s.cum[r][kSlots];
    int64_t c0 = u * s.cum[r][k] / whole, c1 = u * s.cum[r][k + 1] / whole;
    int64_t v = s.r0[static_cast<size_t>(r)] + c0 + (c1 - c0) * (at_us - b0) / (b1 - b0);
    if (at_us >= s.end_us) v = s.r1[static_cast<size_t>(r)];
    out[static_cast<size_t>(r)] = Energy::FromDwh(v);
    total += v;
  }
  out[0] = Energy::FromDwh(total);
  return out;
}

std::vector<Energy> MeterModel::RegistersAt(int64_t at_us) const {
  DayState s;
  Day(at_us, &s);
  return Split(s, at_us);
}

std::vector<Energy> MeterModel::FrozenAt(Date day) const {
  return RegistersAt(tz_->StartOfDay(day));
}

Energy MeterModel::TotalAt(int64_t at_us) const { return RegistersAt(at_us)[0]; }

std::vector<Energy> MeterModel::ReverseAt(int64_t at_us) const {
  std::vector<Energy> fwd = RegistersAt(at_us);
  std::vector<Energy> out(5);
  int64_t total = 0;
  for (size_t r = 1; r <= 4; ++r) {
    int64_t v = fwd[r].dwh() * reverse_ppm_ / 1'000'000;
    out[r] = Energy::FromDwh(v);
    total += v;
  }
  out[0] = Energy::FromDwh(total);
  return out;
}

std::vector<Energy> MeterModel::ReactiveAt(int64_t at_us) const {
  std::vector<Energy> fwd = RegistersAt(at_us);
  std::vector<Energy> out(5);
  int64_t total = 0;
  for (size_t r = 1; r <= 4; ++r) {
    int64_t v = fwd[r].dwh() * reactive_permille_ / 1000 / 100 * 100;  // whole 0.01 kvarh
    out[r] = Energy::FromDwh(v);
    total += v;
  }
  out[0] = Energy::FromDwh(total);
  return out;
}

int64_t MeterModel::PowerWatts(int64_t at_us) const {
  DayState s;
  Day(at_us, &s);
  int64_t len = s.end_us - s.start_us;
  int64_t pos = std::clamp<int64_t>(at_us - s.start_us, 0, len - 1);
  int64_t k = pos * kSlots / len;
  int64_t b0 = s.start_us + len * k / kSlots, b1 = s.start_us + len * (k + 1) / kSlots;
  int64_t dwh = Split(s, b1)[0].dwh() - Split(s, b0)[0].dwh();
  // dWh over the slot → W: dWh × 0.1 Wh × 3600 s / slot seconds.
  int64_t slot_s = std::max<int64_t>(1, (b1 - b0) / kMicrosPerSecond);
  return dwh * 360 / slot_s;
}

// ---- Synthetic fleets ----

std::vector<SimTerminal> MakeFleet(int terminals, int meters_per_terminal, uint16_t area,
                                   uint16_t first_address, uint64_t seed) {
  std::vector<SimTerminal> out;
  if (terminals <= 0) return out;
  out.reserve(static_cast<size_t>(terminals));
  int meters = std::clamp(meters_per_terminal, 0, 2040);
  for (int i = 0; i < terminals; ++i) {
    uint32_t a2 = uint32_t{first_address} + static_cast<uint32_t>(i);
    if (a2 == 0 || a2 > 65535) break;  // A2 is 1..65535
    SimTerminal t;
    t.key = gdw1376::TerminalKey{area, static_cast<uint16_t>(a2)};
    uint64_t h = Hash(seed, (uint64_t{area} << 16) | a2) % 100;
    t.kind = h < 85   ? TerminalKind::kPublicTransformer
             : h < 95 ? TerminalKind::kSpecialTransformer
             : h < 99 ? TerminalKind::kLargeCustomer
                      : TerminalKind::kSubstation;
    t.meters.reserve(static_cast<size_t>(meters));
    for (int p = 1; p <= meters; ++p) {
      SimMeter m;
      m.pn = static_cast<uint16_t>(p);
      char addr[16];
      std::snprintf(addr, sizeof addr, "%03u%05u%04d", static_cast<unsigned>(area % 1000),
                    static_cast<unsigned>(a2), p);
      m.meter_address = addr;
      m.seed = Hash(seed ^ 0x6D65746572ull,
                    (uint64_t{area} << 32) | (uint64_t{a2} << 12) | static_cast<uint64_t>(p));
      int64_t mean = MeanFromSeed(Mix(m.seed ^ 0xA5A5A5A5u), t.kind);
      m.mean_daily_dwh = mean;
      m.multiplier = AutoMultiplier(mean, t.kind);
      t.meters.push_back(std::move(m));
    }
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace gridmis::acquisition::simulator
