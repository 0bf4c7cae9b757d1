#include "acquisition/vee.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <set>
#include <tuple>
#include <utility>

#include "acquisition/migrations.h"
#include "core/decimal.h"
#include "grid/records.h"
#include "org/audit.h"
#include "reading/review.h"

namespace gridmis::acquisition {

// Version 4 of the acquisition migrations: the findings of the validation rules.
std::string_view VeeSchemaSql(bool /*postgres*/) {
  return R"sql(
CREATE TABLE vee_issues (               -- 采集数据校核: findings of the VEE rules (vee.h)
  {{PK}},
  metering_point_id BIGINT REFERENCES metering_points(id),  -- NULL: a terminal's own clock
  terminal_id BIGINT REFERENCES terminals(id),
  department_id BIGINT NOT NULL REFERENCES departments(id), -- the point's or terminal's, when found
  day BIGINT NOT NULL,                  -- yyyymmdd: the frozen row's, the curve's or the clock's day
  rule TEXT NOT NULL,                   -- rollover, reverse, spike, zero_run, curve_sum, clock_drift, tou_sum
  severity TEXT NOT NULL,               -- info, suspect
  detail TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'open',  -- open, accepted, corrected, dismissed
  note TEXT NOT NULL DEFAULT '',
  detected_at_us BIGINT NOT NULL,
  updated_at_us BIGINT NOT NULL,
  resolved_by BIGINT REFERENCES users(id),  -- NULL when closed by re-validation
  resolved_at_us BIGINT,
  version BIGINT NOT NULL DEFAULT 1,
  CHECK (metering_point_id IS NOT NULL OR terminal_id IS NOT NULL)
);
CREATE UNIQUE INDEX vee_issues_point_day_rule ON vee_issues (metering_point_id, day, rule)
  WHERE metering_point_id IS NOT NULL;
CREATE UNIQUE INDEX vee_issues_terminal_day_rule ON vee_issues (terminal_id, day, rule)
  WHERE metering_point_id IS NULL;
CREATE INDEX vee_issues_day ON vee_issues (day, id);
CREATE INDEX vee_issues_status_day ON vee_issues (status, day);
CREATE INDEX vee_issues_department_day ON vee_issues (department_id, day)
)sql";
}

namespace vee {

using nlohmann::json;
using org::Actor;
using reading::DailyFrozen;
using reading::DayFromKey;
using reading::DayKey;
using reading::FormatKwh;
using store::Connection;
using store::Row;

const std::vector<std::string>& RuleNames() {
  static const std::vector<std::string> kNames = {"rollover",  "reverse",     "spike",  "zero_run",
                                                  "curve_sum", "clock_drift", "tou_sum"};
  return kNames;
}

namespace {

const char* const kRegisterRules[] = {"rollover", "reverse", "spike", "zero_run", "tou_sum"};
const char* const kRates[] = {"sharp", "peak", "flat", "valley"};
constexpr const char* kEnergyCurve = "fwd_active_energy";

std::string Kwh(int64_t dwh) { return FormatKwh(Energy::FromDwh(dwh)); }

// num / den rounded half up (den > 0), exact for any int64 operands.
int64_t DivRound(int128 num, int128 den) {
  int128 q = num / den;
  int128 r = num % den;
  if (r < 0) {  // floor
    q -= 1;
    r += den;
  }
  if (2 * r >= den) q += 1;
  return static_cast<int64_t>(q);
}

// Floor division for den > 0.
int64_t DivFloor(int128 num, int128 den, int64_t* remainder) {
  int128 q = num / den;
  int128 r = num % den;
  if (r < 0) {
    q -= 1;
    r += den;
  }
  if (remainder) *remainder = static_cast<int64_t>(r);
  return static_cast<int64_t>(q);
}

bool IsCumulative(const std::string& reg) { return reg != "max_demand"; }

// 10^digits kWh in dWh; 0 when unknown.
int64_t RegisterRange(int digits) {
  if (digits <= 0 || digits > 12) return 0;
  int64_t range = Energy::kDwhPerKwh;
  for (int i = 0; i < digits; ++i) range *= 10;
  return range;
}

std::string DaysText(Date first, Date last) {
  return first == last ? "on " + first.ToString()
                       : "over " + std::to_string(last.ToDays() - first.ToDays() + 1) + " days (" +
                             first.ToString() + " to " + last.ToString() + ")";
}

bool Comparable(const DailyRow& a, const DailyRow& b) {
  return a.meter_key >= 0 && a.meter_key == b.meter_key &&
         a.frozen.multiplier == b.frozen.multiplier;
}

int64_t Median(std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  if (n % 2 == 1) return v[n / 2];
  return DivRound(static_cast<int128>(v[n / 2 - 1]) + v[n / 2], 2);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Pure rules

std::optional<Energy> TotalUse(const DailyFrozen& from, const DailyFrozen& to, int digits,
                               bool* rolled_over) {
  if (rolled_over) *rolled_over = false;
  auto a = from.registers.find("total");
  auto b = to.registers.find("total");
  if (a == from.registers.end() || b == to.registers.end()) return std::nullopt;
  return reading::RegisterDifference(a->second, b->second, digits, rolled_over);
}

std::optional<Finding> CheckTouSum(const DailyFrozen& row, const VeeOptions& o) {
  auto total = row.registers.find("total");
  if (total == row.registers.end()) return std::nullopt;
  int64_t sum = 0;
  int count = 0;
  std::string names;
  for (const char* rate : kRates) {
    auto it = row.registers.find(rate);
    if (it == row.registers.end()) continue;
    sum += it->second.dwh();
    ++count;
    names += (names.empty() ? "" : " + ") + std::string(rate);
  }
  if (count == 0) return std::nullopt;
  int64_t gap = sum - total->second.dwh();
  int64_t tolerance = o.tou_tolerance_dwh * (count + 1);
  if (gap <= tolerance && -gap <= tolerance) return std::nullopt;
  return Finding{row.metering_point_id,
                 std::nullopt,
                 row.day,
                 "tou_sum",
                 kSuspect,
                 "rate registers " + names + " add up to " + Kwh(sum) + " kWh but total is " +
                     FormatKwh(total->second) + " kWh (difference " + Kwh(gap) +
                     " kWh, tolerance " + Kwh(tolerance) + " kWh)"};
}

std::optional<Finding> CheckCurveSum(const Curve& curve, Energy register_delta,
                                     const VeeOptions& o) {
  if (curve.quantity != kEnergyCurve || curve.values.empty()) return std::nullopt;
  int64_t sum = 0;
  for (const auto& v : curve.values) {
    if (!v) return std::nullopt;
    sum += v->dwh();
  }
  int64_t delta = register_delta.dwh();
  int64_t diff = sum - delta;
  int64_t tolerance =
      std::max(o.curve_sum_floor_dwh,
               DivRound(static_cast<int128>(delta) * o.curve_sum_tolerance_permille, 1000));
  if (diff <= tolerance && -diff <= tolerance) return std::nullopt;
  return Finding{curve.metering_point_id,
                 std::nullopt,
                 curve.day,
                 "curve_sum",
                 kSuspect,
                 std::to_string(curve.values.size()) + " intervals add up to " + Kwh(sum) +
                     " kWh but the total register moved " + Kwh(delta) + " kWh over " +
                     curve.day.ToString() + " (difference " + Kwh(diff) + " kWh, tolerance " +
                     Kwh(tolerance) + " kWh)"};
}

std::optional<Finding> CheckClockDrift(int64_t metering_point_id,
                                       std::optional<int64_t> terminal_id, Date day,
                                       int64_t drift_seconds, const std::string& what,
                                       const VeeOptions& o) {
  int64_t off = drift_seconds < 0 ? -drift_seconds : drift_seconds;
  if (off <= o.clock_drift_limit_seconds) return std::nullopt;
  auto text = [](int64_t s) {
    std::string t;
    if (s >= 3600) t += std::to_string(s / 3600) + " h ";
    if (s >= 60) t += std::to_string(s / 60 % 60) + " min ";
    t += std::to_string(s % 60) + " s";
    return t;
  };
  return Finding{metering_point_id,
                 terminal_id,
                 day,
                 "clock_drift",
                 kSuspect,
                 what + " " + text(off) + (drift_seconds > 0 ? " fast" : " slow") + " (limit " +
                     text(o.clock_drift_limit_seconds) + ")"};
}

std::vector<Finding> ValidateDailySeries(const std::vector<DailyRow>& input,
                                         const std::set<Date>& report_days, const VeeOptions& o) {
  // One row per day, by day (a later row for the same day wins).
  std::vector<const DailyRow*> rows;
  rows.reserve(input.size());
  bool sorted = true;
  for (size_t i = 1; i < input.size() && sorted; ++i) {
    sorted = input[i - 1].frozen.day < input[i].frozen.day;
  }
  if (sorted) {
    for (const auto& r : input) rows.push_back(&r);
  } else {
    std::map<Date, const DailyRow*> by_day;
    for (const auto& r : input) by_day[r.frozen.day] = &r;
    for (const auto& [day, r] : by_day) rows.push_back(r);
  }
  std::vector<Finding> out;
  const size_t n = rows.size();
  auto reported = [&](size_t i) {
    return report_days.empty() || report_days.count(rows[i]->frozen.day) > 0;
  };

  // Steps: use from row i-1 to row i.
  struct Step {
    bool comparable = false;
    int64_t days = 0;
    std::optional<int64_t> use;  // total register difference, rollover-aware
  };
  std::vector<Step> steps(n);
  for (size_t i = 1; i < n; ++i) {
    Step& s = steps[i];
    s.comparable = Comparable(*rows[i - 1], *rows[i]);
    s.days = rows[i]->frozen.day.ToDays() - rows[i - 1]->frozen.day.ToDays();
    if (!s.comparable) continue;
    auto u = TotalUse(rows[i - 1]->frozen, rows[i]->frozen, rows[i]->digits);
    if (u) s.use = u->dwh();
  }

  for (size_t i = 0; i < n; ++i) {
    if (!reported(i)) continue;
    const DailyFrozen& cur = rows[i]->frozen;
    if (auto f = CheckTouSum(cur, o)) out.push_back(*f);
    if (i == 0 || !steps[i].comparable) continue;
    const DailyFrozen& prev = rows[i - 1]->frozen;
    const Step& step = steps[i];
    const Date use_first = prev.day;
    const Date use_last = cur.day.AddDays(-1);

    // rollover / reverse, per cumulative register present in both rows.
    std::string rolled, reversed;
    for (const auto& [reg, value] : cur.registers) {
      if (!IsCumulative(reg)) continue;
      auto before = prev.registers.find(reg);
      if (before == prev.registers.end() || value >= before->second) continue;
      bool wrap = false;
      auto d = reading::RegisterDifference(before->second, value, rows[i]->digits, &wrap);
      std::string what = reg + " " + FormatKwh(before->second) + " → " + FormatKwh(value) + " kWh";
      if (d && wrap) {
        rolled += (rolled.empty() ? "" : "; ") + what + " (use " + FormatKwh(*d) + " kWh)";
      } else {
        int64_t range = RegisterRange(rows[i]->digits);
        std::string why = range == 0 ? "the meter's register digits are unknown"
                                     : "as a wrap of the " + std::to_string(rows[i]->digits) +
                                           "-digit register it would be " +
                                           Kwh(range - before->second.dwh() + value.dwh()) +
                                           " kWh, not under 10 % of its range";
        reversed += (reversed.empty() ? "" : "; ") + what + " (" + why + ")";
      }
    }
    if (!rolled.empty()) {
      out.push_back({cur.metering_point_id, std::nullopt, cur.day, "rollover", kInfo,
                     "register rolled over since " + prev.day.ToString() + ": " + rolled});
    }
    if (!reversed.empty()) {
      out.push_back({cur.metering_point_id, std::nullopt, cur.day, "reverse", kSuspect,
                     "register went backwards since " + prev.day.ToString() + ": " + reversed});
    }
    if (!step.use) continue;
    const int64_t use = *step.use;

    // spike: against the median daily use of the window before this step.
    {
      std::vector<int64_t> daily;
      const int64_t window_start = prev.day.ToDays() - o.history_days;
      for (size_t j = 1; j < i; ++j) {
        const Step& h = steps[j];
        if (!h.comparable || !h.use || h.days <= 0) continue;
        if (rows[j - 1]->frozen.day.ToDays() < window_start) continue;
        int64_t per_day = DivFloor(*h.use, h.days, nullptr);
        for (int64_t k = 0; k < h.days; ++k) daily.push_back(per_day);
      }
      if (static_cast<int>(daily.size()) >= o.spike_min_history) {
        int64_t median = Median(daily);
        int64_t per_day_limit = std::max(o.spike_factor * median, o.spike_floor_dwh);
        int64_t limit = per_day_limit * step.days;
        if (use > limit) {
          out.push_back({cur.metering_point_id, std::nullopt, cur.day, "spike", kSuspect,
                         "use " + Kwh(use) + " kWh " + DaysText(use_first, use_last) + " > " +
                             (step.days > 1 ? std::to_string(step.days) + " × " : "") + "max(" +
                             std::to_string(o.spike_factor) + " × median " + Kwh(median) +
                             " kWh/day of the " + std::to_string(daily.size()) +
                             " days before, floor " + Kwh(o.spike_floor_dwh) +
                             " kWh) = " + Kwh(limit) + " kWh"});
        }
      }
    }

    // zero_run: reported on the row where the run of zero-use days reaches N.
    if (use == 0) {
      int64_t run = 0;
      size_t k = i;
      while (k >= 1 && steps[k].comparable && steps[k].use && *steps[k].use == 0) {
        run += steps[k].days;
        --k;
      }
      // rows[k] is where the run starts; was there use before it?
      std::optional<std::pair<Date, int64_t>> last_use;
      for (size_t j = k; j >= 1; --j) {
        if (!steps[j].comparable || !steps[j].use) break;
        if (*steps[j].use > 0) {
          last_use = std::pair{rows[j]->frozen.day, *steps[j].use};
          break;
        }
      }
      int64_t before = run - step.days;
      if (run >= o.zero_run_days && before < o.zero_run_days && last_use) {
        Date start = rows[k]->frozen.day;
        out.push_back({cur.metering_point_id, std::nullopt, cur.day, "zero_run", kSuspect,
                       "no use " + DaysText(start, use_last) + " on a point that used " +
                           Kwh(last_use->second) + " kWh up to " +
                           last_use->first.AddDays(-1).ToString()});
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Estimation

Estimate FillGaps(const std::vector<std::optional<Energy>>& values, const std::string& quality,
                  const std::vector<std::vector<std::optional<Energy>>>& history,
                  const VeeOptions& o) {
  FillSettings s;
  s.method = FillMethod::kAuto;
  s.max_linear = o.max_linear_gap;
  return FillGapsWith(values, quality, history, s);
}

Estimate FillGapsWith(const std::vector<std::optional<Energy>>& values, const std::string& quality,
                      const std::vector<std::vector<std::optional<Energy>>>& history,
                      const FillSettings& s) {
  const size_t n = values.size();
  Estimate out;
  out.values = values;
  out.quality.resize(n);
  for (size_t i = 0; i < n; ++i) {
    out.quality[i] = i < quality.size()
                         ? quality[i]
                         : static_cast<char>(values[i] ? Quality::kValid : Quality::kMissing);
  }
  std::vector<bool> gap(n, false);
  for (size_t i = 0; i < n; ++i) gap[i] = !values[i].has_value();

  auto like_day = [&](size_t i) -> std::optional<int64_t> {
    int64_t sum = 0;
    int64_t count = 0;
    for (const auto& h : history) {
      if (i < h.size() && h[i]) {
        sum += h[i]->dwh();
        ++count;
      }
    }
    if (count == 0) return std::nullopt;
    return DivRound(sum, count);
  };

  std::vector<std::optional<int64_t>> est(n);
  for (size_t a = 0; a < n;) {
    if (!gap[a]) {
      ++a;
      continue;
    }
    size_t b = a;
    while (b < n && gap[b]) ++b;
    const int64_t len = static_cast<int64_t>(b - a);
    std::optional<int64_t> left, right;
    if (a > 0) left = values[a - 1]->dwh();
    if (b < n) right = values[b]->dwh();
    bool linear = false;
    bool flat_fallback = false;
    switch (s.method) {
      case FillMethod::kLinear:
        linear = left && right;
        flat_fallback = true;
        break;
      case FillMethod::kLikeDay:
        break;
      case FillMethod::kAuto:
        linear = left && right && len <= s.max_linear;
        flat_fallback = len <= s.max_linear;
        break;
    }
    for (size_t i = a; i < b; ++i) {
      if (linear) {
        const int64_t k = static_cast<int64_t>(i - a) + 1;
        est[i] = DivRound(
            static_cast<int128>(*left) * (len + 1 - k) + static_cast<int128>(*right) * k, len + 1);
        continue;
      }
      if (s.method != FillMethod::kLinear) est[i] = like_day(i);
      if (!est[i] && flat_fallback && (left || right)) est[i] = left ? *left : *right;
    }
    a = b;
  }

  // Scale to the known total.
  if (s.target_total) {
    int64_t known = 0;
    std::vector<size_t> positions;
    for (size_t i = 0; i < n; ++i) {
      if (gap[i]) {
        positions.push_back(i);
      } else {
        known += values[i]->dwh();
      }
    }
    const int64_t residual = s.target_total->dwh() - known;
    if (!positions.empty() && residual >= 0) {
      // Weights: the estimates; positions without a basis take the mean of the others (flat).
      int64_t filled_sum = 0, filled = 0;
      for (size_t i : positions) {
        if (est[i]) {
          filled_sum += std::max<int64_t>(*est[i], 0);
          ++filled;
        }
      }
      const int64_t flat = filled > 0 ? DivRound(filled_sum, filled) : 0;
      std::vector<int64_t> w;
      int128 total_w = 0;
      for (size_t i : positions) {
        w.push_back(est[i] ? std::max<int64_t>(*est[i], 0) : flat);
        total_w += w.back();
      }
      if (total_w == 0) {
        std::fill(w.begin(), w.end(), 1);
        total_w = static_cast<int128>(w.size());
      }
      // Largest remainder: floor shares, then +1 to the largest remainders (ties: earliest).
      std::vector<int64_t> share(w.size());
      std::vector<std::pair<int64_t, size_t>> rem;
      int64_t given = 0;
      for (size_t k = 0; k < w.size(); ++k) {
        int128 num = static_cast<int128>(residual) * w[k];
        share[k] = static_cast<int64_t>(num / total_w);
        rem.push_back({static_cast<int64_t>(num % total_w), k});
        given += share[k];
      }
      int64_t left_over = residual - given;
      std::stable_sort(rem.begin(), rem.end(),
                       [](const auto& x, const auto& y) { return x.first > y.first; });
      for (size_t k = 0; k < rem.size() && left_over > 0; ++k, --left_over) {
        share[rem[k].second] += 1;
      }
      for (size_t k = 0; k < positions.size(); ++k) est[positions[k]] = share[k];
    }
  }

  for (size_t i = 0; i < n; ++i) {
    if (gap[i] && est[i]) {
      out.values[i] = Energy::FromDwh(std::max<int64_t>(*est[i], 0));
      out.quality[i] = static_cast<char>(Quality::kEstimated);
    }
  }
  return out;
}

std::optional<DailyFrozen> InterpolateDailyFrozen(const DailyFrozen& before,
                                                  const DailyFrozen& after, Date day) {
  if (!(before.day < day && day < after.day)) return std::nullopt;
  if (before.multiplier != after.multiplier || before.metering_point_id != after.metering_point_id)
    return std::nullopt;
  const int64_t span = after.day.ToDays() - before.day.ToDays();
  const int64_t k = day.ToDays() - before.day.ToDays();
  // Exact value of each register as num / span.
  std::map<std::string, int128> num;
  for (const auto& [reg, a] : before.registers) {
    if (!IsCumulative(reg)) continue;
    auto b = after.registers.find(reg);
    if (b == after.registers.end() || b->second < a) continue;
    num[reg] =
        static_cast<int128>(a.dwh()) * span + static_cast<int128>(b->second.dwh() - a.dwh()) * k;
  }
  if (num.empty()) return std::nullopt;
  DailyFrozen out;
  out.metering_point_id = before.metering_point_id;
  out.day = day;
  out.multiplier = before.multiplier;
  out.quality = "estimated";
  for (const auto& [reg, x] : num) out.registers[reg] = Energy::FromDwh(DivRound(x, span));

  // Rates adding up to the total at both ends keep doing so.
  auto sums_to_total = [](const DailyFrozen& f, int* count) {
    auto t = f.registers.find("total");
    if (t == f.registers.end()) return false;
    int64_t sum = 0;
    *count = 0;
    for (const char* r : kRates) {
      auto it = f.registers.find(r);
      if (it == f.registers.end()) continue;
      sum += it->second.dwh();
      ++*count;
    }
    return *count > 0 && sum == t->second.dwh();
  };
  int count_before = 0, count_after = 0;
  bool rates_ok = num.count("total") > 0 && sums_to_total(before, &count_before) &&
                  sums_to_total(after, &count_after) && count_before == count_after;
  std::vector<std::string> rates;
  for (const char* r : kRates) {
    if (before.registers.count(r)) {
      if (!num.count(r) || !after.registers.count(r)) rates_ok = false;
      rates.push_back(r);
    }
  }
  if (rates_ok && !rates.empty()) {
    const int64_t total = out.registers["total"].dwh();
    int64_t floor_sum = 0;
    std::vector<std::pair<int64_t, size_t>> rem;
    std::vector<int64_t> value(rates.size());
    for (size_t i = 0; i < rates.size(); ++i) {
      int64_t r = 0;
      value[i] = DivFloor(num[rates[i]], span, &r);
      floor_sum += value[i];
      rem.push_back({r, i});
    }
    int64_t extra = total - floor_sum;
    std::stable_sort(rem.begin(), rem.end(),
                     [](const auto& x, const auto& y) { return x.first > y.first; });
    for (size_t i = 0; i < rem.size() && extra > 0; ++i) {
      if (rem[i].first == 0) break;
      value[rem[i].second] += 1;
      --extra;
    }
    if (extra == 0) {
      for (size_t i = 0; i < rates.size(); ++i) {
        out.registers[rates[i]] = Energy::FromDwh(value[i]);
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The service: storage helpers

namespace {

struct Install {
  int64_t id = 0;
  int64_t installed_at_us = 0;
  std::optional<int64_t> removed_at_us;
  int64_t multiplier = 1;
  int digits = 0;
};

struct PointInfo {
  int64_t id = 0;
  std::string code;
  std::string name;
  int64_t department_id = 0;
  std::optional<int64_t> manager;
  std::vector<Install> installs;  // by installation time
};

Result<std::map<int64_t, PointInfo>> LoadPointInfo(Connection& c, std::vector<int64_t> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::map<int64_t, PointInfo> out;
  for (size_t at = 0; at < ids.size(); at += 500) {
    std::vector<int64_t> chunk(
        ids.begin() + static_cast<std::ptrdiff_t>(at),
        ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), at + 500)));
    RETURN_IF_ERROR(c.Query(
        "SELECT mp.id, mp.code, mp.name, mp.department_id, c.account_manager_id, i.id, "
        "i.installed_at_us, i.removed_at_us, COALESCE(i.multiplier, m.multiplier), "
        "m.register_integer_digits FROM metering_points mp JOIN customers c ON c.id = "
        "mp.customer_id LEFT JOIN meter_installations i ON i.metering_point_id = mp.id LEFT JOIN "
        "meters m ON m.id = i.meter_id WHERE " +
            grid::InSql("mp.id", chunk) + " ORDER BY mp.id, i.installed_at_us, i.id",
        {}, [&](const Row& r) {
          PointInfo& p = out[r.Int(0)];
          p.id = r.Int(0);
          p.code = r.Text(1);
          p.name = r.Text(2);
          p.department_id = r.Int(3);
          p.manager = r.OptInt(4);
          if (!r.IsNull(5)) {
            p.installs.push_back({r.Int(5), r.Int(6), r.OptInt(7), r.IsNull(8) ? 1 : r.Int(8),
                                  static_cast<int>(r.Int(9))});
          }
        }));
  }
  return out;
}

// The installation in effect at a frozen instant (as reading::InstallAt): its id, or 0 when the
// point has no installation records at all, or -1 when none was in effect.
const Install* InstallAt(const PointInfo& p, int64_t instant_us) {
  const Install* found = nullptr;
  for (const auto& i : p.installs) {
    if (i.installed_at_us < instant_us && (!i.removed_at_us || *i.removed_at_us >= instant_us)) {
      found = &i;
    }
  }
  return found;
}

DailyRow MakeRow(DailyFrozen f, const PointInfo* p, const TimeZone& zone) {
  DailyRow r;
  r.frozen = std::move(f);
  if (!p || p->installs.empty()) return r;  // one meter assumed, digits unknown
  const Install* i = InstallAt(*p, zone.StartOfDay(r.frozen.day));
  if (!i) {
    r.meter_key = -1;
    return r;
  }
  r.meter_key = i->id;
  r.digits = i->digits;
  return r;
}

// Whether the rules on `report` days of a point's rows (by day, a short window) could depend on
// rows older than the window: a report row with no earlier row in it, a use above the spike
// floor (the median needs the whole window), or a zero run reaching back to the window's first
// row while still shorter than zero_run_days (the run's start and the use before it are older).
bool NeedsHistory(const std::vector<DailyRow>& rows, const std::set<Date>& report,
                  const VeeOptions& o) {
  for (size_t i = 0; i < rows.size(); ++i) {
    if (!report.count(rows[i].frozen.day)) continue;
    if (i == 0) return true;
    if (!Comparable(rows[i - 1], rows[i])) continue;
    const int64_t days = rows[i].frozen.day.ToDays() - rows[i - 1].frozen.day.ToDays();
    auto use = TotalUse(rows[i - 1].frozen, rows[i].frozen, rows[i].digits);
    if (!use) continue;
    if (use->dwh() > o.spike_floor_dwh * days) return true;
    if (use->dwh() != 0) continue;
    int64_t before = 0;  // zero-use days before this step
    size_t k = i - 1;
    for (;;) {
      if (k == 0) {
        if (before < o.zero_run_days) return true;
        break;
      }
      if (!Comparable(rows[k - 1], rows[k])) break;
      auto u = TotalUse(rows[k - 1].frozen, rows[k].frozen, rows[k].digits);
      if (!u || u->dwh() != 0) break;
      before += rows[k].frozen.day.ToDays() - rows[k - 1].frozen.day.ToDays();
      --k;
    }
  }
  return false;
}

// A finding's identity: the point (or 0 and the terminal), day and rule.
struct Key {
  int64_t point = 0;
  int64_t terminal = 0;
  int64_t day = 0;
  std::string rule;
  auto operator<=>(const Key&) const = default;
};
Key KeyOf(const Finding& f) {
  return {f.metering_point_id, f.metering_point_id ? 0 : f.terminal_id.value_or(0), DayKey(f.day),
          f.rule};
}

struct Stored {
  int64_t id = 0;
  std::string status;
  std::string severity;
  std::string detail;
};

constexpr const char* kIssueSelect =
    "SELECT v.id, v.metering_point_id, mp.code, v.terminal_id, v.department_id, v.day, v.rule, "
    "v.severity, v.detail, v.status, v.note, v.detected_at_us, v.updated_at_us, v.resolved_by, "
    "u.username, v.resolved_at_us, v.version, c.account_manager_id "
    "FROM vee_issues v LEFT JOIN metering_points mp ON mp.id = v.metering_point_id "
    "LEFT JOIN customers c ON c.id = mp.customer_id LEFT JOIN users u ON u.id = v.resolved_by";

Issue ReadIssue(const Row& r, std::optional<int64_t>* manager) {
  Issue i;
  i.id = r.Int(0);
  i.metering_point_id = r.OptInt(1);
  i.point_code = r.Text(2);
  i.terminal_id = r.OptInt(3);
  i.department_id = r.Int(4);
  i.day = DayFromKey(r.Int(5));
  i.rule = r.Text(6);
  i.severity = r.Text(7);
  i.detail = r.Text(8);
  i.status = r.Text(9);
  i.note = r.Text(10);
  i.detected_at_us = r.Int(11);
  i.updated_at_us = r.Int(12);
  i.resolved_by = r.OptInt(13);
  i.resolved_by_name = r.Text(14);
  i.resolved_at_us = r.OptInt(15);
  i.version = r.Int(16);
  if (manager) *manager = r.OptInt(17);
  return i;
}

bool CanSeeIssue(const Actor& actor, const Issue& i, std::optional<int64_t> manager) {
  if (i.metering_point_id) return actor.CanSee(i.department_id, manager);
  return grid::CanSeeDepartment(actor, i.department_id);
}

std::string IssueScopeSql(const Actor& actor) {
  return "((v.metering_point_id IS NOT NULL AND " +
         actor.ScopeSql("v.department_id", "c.account_manager_id") +
         ") OR (v.metering_point_id IS NULL AND " +
         grid::DepartmentScopeSql(actor, "v.department_id") + "))";
}

json IssueJson(const Issue& i) {
  return json{{"id", i.id},
              {"metering_point_id", i.metering_point_id ? json(*i.metering_point_id) : json()},
              {"terminal_id", i.terminal_id ? json(*i.terminal_id) : json()},
              {"day", i.day.ToString()},
              {"rule", i.rule},
              {"severity", i.severity},
              {"detail", i.detail},
              {"status", i.status},
              {"note", i.note},
              {"version", i.version}};
}

json RegistersJson(const std::map<std::string, Energy>& regs) {
  json j = json::object();
  for (const auto& [k, v] : regs) j[k] = FormatKwh(v);
  return j;
}

Result<PointInfo> LoadVisiblePoint(Connection& c, const Actor& actor, int64_t id) {
  ASSIGN_OR_RETURN(auto points, LoadPointInfo(c, {id}));
  auto it = points.find(id);
  if (it == points.end() || !actor.CanSee(it->second.department_id, it->second.manager)) {
    return NotFound("metering point " + std::to_string(id) + " not found");
  }
  return it->second;
}

Status CheckRange(Date first, Date last, int max_days) {
  if (last < first) return InvalidArgument("the range ends before it starts", "to");
  if (last.ToDays() - first.ToDays() + 1 > max_days) {
    return InvalidArgument("at most " + std::to_string(max_days) + " days at a time", "to");
  }
  return Status::Ok();
}

Status CheckReason(const std::string& reason, std::string_view field, size_t min_chars) {
  return grid::CheckText(reason, field, min_chars, 200);
}

// Curves by (point, day) of one quantity.
using CurveMap = std::map<std::pair<int64_t, Date>, Curve>;

Result<CurveMap> LoadCurveMap(Connection& c, const std::vector<int64_t>& points, Date first,
                              Date last) {
  CurveMap out;
  if (points.empty() || last < first) return out;
  ASSIGN_OR_RETURN(auto curves, LoadCurves(c, points, first, last, kEnergyCurve));
  for (auto& cv : curves) out[{cv.metering_point_id, cv.day}] = std::move(cv);
  return out;
}

// Sets the curve's valid values to suspect (or back): whether it changed.
bool MarkSuspect(Curve* cv, bool suspect) {
  bool changed = false;
  const char from = static_cast<char>(suspect ? Quality::kValid : Quality::kSuspect);
  const char to = static_cast<char>(suspect ? Quality::kSuspect : Quality::kValid);
  for (char& q : cv->quality) {
    if (q == from) {
      q = to;
      changed = true;
    }
  }
  return changed;
}

}  // namespace

struct VeeService::Resolver {
  std::optional<int64_t> user_id;  // nullopt: the system (re-collection)
  std::string note;
};

namespace {

// Upserts the findings of keys that were evaluated; returns the status of every evaluated key
// afterwards ("" when there is no finding).
Result<std::map<Key, std::string>> ApplyFindings(Connection& c, const std::set<Key>& evaluated,
                                                 const std::vector<Finding>& findings,
                                                 const std::map<int64_t, int64_t>& point_dept,
                                                 const std::map<int64_t, int64_t>& terminal_dept,
                                                 std::optional<int64_t> resolver,
                                                 const std::string& resolver_note, int64_t now) {
  std::map<Key, std::string> status;
  if (evaluated.empty()) return status;
  // Existing rows of the evaluated subjects and days.
  std::set<int64_t> points, terminals;
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (const auto& k : evaluated) {
    (k.point ? points : terminals).insert(k.point ? k.point : k.terminal);
    lo = std::min(lo, k.day);
    hi = std::max(hi, k.day);
  }
  std::map<Key, Stored> stored;
  auto load = [&](const std::set<int64_t>& ids, bool point) -> Status {
    std::vector<int64_t> all(ids.begin(), ids.end());
    for (size_t at = 0; at < all.size(); at += 500) {
      std::vector<int64_t> chunk(
          all.begin() + static_cast<std::ptrdiff_t>(at),
          all.begin() + static_cast<std::ptrdiff_t>(std::min(all.size(), at + 500)));
      std::string where =
          point ? grid::InSql("metering_point_id", chunk)
                : "metering_point_id IS NULL AND " + grid::InSql("terminal_id", chunk);
      RETURN_IF_ERROR(c.Query(
          "SELECT id, metering_point_id, terminal_id, day, rule, status, severity, detail FROM "
          "vee_issues WHERE " +
              where + " AND day >= $1 AND day <= $2",
          {lo, hi}, [&](const Row& r) {
            Key k{r.IsNull(1) ? 0 : r.Int(1), r.IsNull(1) ? r.Int(2) : 0, r.Int(3), r.Text(4)};
            stored[k] = {r.Int(0), r.Text(5), r.Text(6), r.Text(7)};
          }));
    }
    return Status::Ok();
  };
  if (!points.empty()) RETURN_IF_ERROR(load(points, true));
  if (!terminals.empty()) RETURN_IF_ERROR(load(terminals, false));

  std::set<Key> produced;
  for (const auto& f : findings) {
    Key k = KeyOf(f);
    if (!evaluated.count(k) || !produced.insert(k).second) continue;
    auto it = stored.find(k);
    if (it == stored.end()) {
      int64_t dept = 0;
      if (k.point) {
        auto d = point_dept.find(k.point);
        if (d != point_dept.end()) dept = d->second;
      } else {
        auto d = terminal_dept.find(k.terminal);
        if (d != terminal_dept.end()) dept = d->second;
      }
      if (dept == 0) {
        return InvalidArgument("VEE finding " + f.rule + " on " + f.day.ToString() +
                               ": no such metering point or terminal");
      }
      store::Value point = k.point ? store::Value(k.point) : store::Value();
      store::Value terminal = f.terminal_id ? store::Value(*f.terminal_id) : store::Value();
      RETURN_IF_ERROR(
          c.Exec("INSERT INTO vee_issues (metering_point_id, terminal_id, "
                 "department_id, day, rule, severity, detail, detected_at_us, "
                 "updated_at_us) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) "
                 "ON CONFLICT DO NOTHING",
                 {point, terminal, dept, k.day, f.rule, f.severity, f.detail.substr(0, 2000), now})
              .status());
      status[k] = "open";
      continue;
    }
    const Stored& s = it->second;
    if (s.status == "open") {
      if (s.detail != f.detail || s.severity != f.severity) {
        RETURN_IF_ERROR(c.Exec("UPDATE vee_issues SET detail = $1, severity = $2, "
                               "updated_at_us = $3, version = version + 1 WHERE id = $4",
                               {f.detail.substr(0, 2000), f.severity, now, s.id})
                            .status());
      }
      status[k] = "open";
    } else if (s.status == "corrected") {
      // The data fails again (re-collected, edited back): the finding is open again.
      RETURN_IF_ERROR(c.Exec("UPDATE vee_issues SET status = 'open', detail = $1, severity = $2, "
                             "note = '', resolved_by = NULL, resolved_at_us = NULL, "
                             "updated_at_us = $3, version = version + 1 WHERE id = $4",
                             {f.detail.substr(0, 2000), f.severity, now, s.id})
                          .status());
      status[k] = "open";
    } else {
      status[k] = s.status;  // accepted or dismissed: a person's decision stands
    }
  }
  for (const auto& k : evaluated) {
    if (produced.count(k)) continue;
    auto it = stored.find(k);
    if (it == stored.end()) {
      status[k] = "";
      continue;
    }
    if (it->second.status == "open") {
      RETURN_IF_ERROR(
          c.Exec("UPDATE vee_issues SET status = 'corrected', note = $1, "
                 "resolved_by = $2, resolved_at_us = $3, updated_at_us = $3, "
                 "version = version + 1 WHERE id = $4",
                 {resolver_note.substr(0, 500), resolver ? store::Value(*resolver) : store::Value(),
                  now, it->second.id})
              .status());
      status[k] = "corrected";
    } else {
      status[k] = it->second.status;
    }
  }
  return status;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The service

VeeService::VeeService(store::Database& db, const Clock& clock, VeeOptions options)
    : db_(db), clock_(clock), options_(std::move(options)) {
  auto z = TimeZone::Load(options_.time_zone);
  if (z.ok()) {
    zone_ = *z;
  } else {
    zone_status_ = z.status().WithContext("VEE options time_zone");
  }
}

Status VeeService::CheckDailyFrozen(Connection& c, const std::vector<DailyFrozen>& rows) {
  return CheckDailyFrozenAs(c, rows, Resolver{std::nullopt, "no longer found when checked again"});
}

Status VeeService::CheckCurves(Connection& c, const std::vector<Curve>& curves) {
  return CheckCurvesAs(c, curves, Resolver{std::nullopt, "no longer found when checked again"});
}

Status VeeService::CheckDailyFrozenAs(Connection& c, const std::vector<DailyFrozen>& rows,
                                      const Resolver& by) {
  if (rows.empty()) return Status::Ok();
  RETURN_IF_ERROR(zone_status_);
  std::map<int64_t, std::set<Date>> batch;
  Date min_day = rows.front().day, max_day = rows.front().day;
  for (const auto& r : rows) {
    batch[r.metering_point_id].insert(r.day);
    min_day = std::min(min_day, r.day);
    max_day = std::max(max_day, r.day);
  }
  std::vector<int64_t> ids;
  for (const auto& [id, days] : batch) ids.push_back(id);
  // Two steps, so a daily batch stays cheap: a short window first (the step into each row, the
  // step out of it, short zero runs), then the whole spike window only for the points whose
  // rules need it (a use above the spike floor, a zero run reaching back to the window's start,
  // a row without an earlier one in the window). The findings are the same as with the whole
  // window loaded for every point: the rules cannot fire otherwise.
  const int near_back = options_.zero_run_days + 1;
  const Date near_first = min_day.AddDays(-near_back);
  const Date history_first = min_day.AddDays(-(options_.history_days + 1));
  const Date load_last = max_day.AddDays(7);
  ASSIGN_OR_RETURN(auto stored, reading::LoadDailyFrozen(c, ids, near_first, load_last));
  ASSIGN_OR_RETURN(auto info, LoadPointInfo(c, ids));

  // Series per point: the stored rows, the batch's rows over them.
  std::map<int64_t, std::map<Date, DailyFrozen>> frozen;
  for (auto& f : stored) frozen[f.metering_point_id][f.day] = std::move(f);
  stored.clear();
  for (const auto& f : rows) frozen[f.metering_point_id][f.day] = f;
  auto point_of = [&](int64_t id) -> const PointInfo* {
    auto pi = info.find(id);
    return pi == info.end() ? nullptr : &pi->second;
  };
  // Report on the batch's days and the next stored row after each.
  std::map<int64_t, std::set<Date>> report;
  for (const auto& [id, days] : frozen) {
    std::set<Date>& r = report[id];
    for (Date d : batch[id]) {
      r.insert(d);
      auto next = days.upper_bound(d);
      if (next != days.end()) r.insert(next->first);
    }
  }
  if (history_first < near_first) {
    std::vector<int64_t> more;
    for (const auto& [id, days] : frozen) {
      std::vector<DailyRow> s;
      for (const auto& [day, f] : days) s.push_back(MakeRow(f, point_of(id), zone_));
      if (NeedsHistory(s, report[id], options_)) more.push_back(id);
    }
    if (!more.empty()) {
      ASSIGN_OR_RETURN(auto older,
                       reading::LoadDailyFrozen(c, more, history_first, near_first.AddDays(-1)));
      for (auto& f : older) frozen[f.metering_point_id].emplace(f.day, std::move(f));
    }
  }

  std::vector<Finding> findings;
  std::set<Key> evaluated;
  std::map<int64_t, std::vector<DailyRow>> series;
  for (auto& [id, days] : frozen) {
    std::vector<DailyRow>& s = series[id];
    s.reserve(days.size());
    for (auto& [day, f] : days) s.push_back(MakeRow(std::move(f), point_of(id), zone_));
    for (Date d : report[id]) {
      for (const char* rule : kRegisterRules) evaluated.insert({id, 0, DayKey(d), rule});
    }
    auto f = ValidateDailySeries(s, report[id], options_);
    findings.insert(findings.end(), f.begin(), f.end());
  }

  // curve_sum of the curves of the days around the batch's rows.
  ASSIGN_OR_RETURN(CurveMap curves, LoadCurveMap(c, ids, min_day.AddDays(-1), max_day));
  std::vector<Curve*> checked;
  for (auto& [key, cv] : curves) {
    const auto& [id, day] = key;
    if (!batch[id].count(day) && !batch[id].count(day.AddDays(1))) continue;
    const auto& s = series[id];
    auto at = [&](Date d) -> const DailyRow* {
      for (const auto& r : s) {
        if (r.frozen.day == d) return &r;
      }
      return nullptr;
    };
    const DailyRow* a = at(day);
    const DailyRow* b = at(day.AddDays(1));
    if (!a || !b || !Comparable(*a, *b)) continue;
    auto delta = TotalUse(a->frozen, b->frozen, b->digits);
    if (!delta) continue;
    if (std::any_of(cv.values.begin(), cv.values.end(), [](const auto& v) { return !v; })) {
      continue;
    }
    evaluated.insert({id, 0, DayKey(day), "curve_sum"});
    if (auto f = CheckCurveSum(cv, *delta, options_)) findings.push_back(*f);
    checked.push_back(&cv);
  }

  std::map<int64_t, int64_t> dept;
  for (const auto& [id, p] : info) dept[id] = p.department_id;
  ASSIGN_OR_RETURN(auto status, ApplyFindings(c, evaluated, findings, dept, {}, by.user_id, by.note,
                                              clock_.NowMicros()));
  std::vector<Curve> changed;
  for (Curve* cv : checked) {
    Key k{cv->metering_point_id, 0, DayKey(cv->day), "curve_sum"};
    if (MarkSuspect(cv, status[k] == "open")) changed.push_back(*cv);
  }
  if (!changed.empty()) RETURN_IF_ERROR(StoreCurves(c, changed));
  return Status::Ok();
}

Status VeeService::CheckCurvesAs(Connection& c, const std::vector<Curve>& input,
                                 const Resolver& by) {
  std::vector<Curve> curves;
  for (const auto& cv : input) {
    if (cv.quantity == kEnergyCurve) curves.push_back(cv);
  }
  if (curves.empty()) return Status::Ok();
  RETURN_IF_ERROR(zone_status_);
  std::vector<int64_t> ids;
  Date min_day = curves.front().day, max_day = curves.front().day;
  for (const auto& cv : curves) {
    ids.push_back(cv.metering_point_id);
    min_day = std::min(min_day, cv.day);
    max_day = std::max(max_day, cv.day);
  }
  ASSIGN_OR_RETURN(auto stored, reading::LoadDailyFrozen(c, ids, min_day, max_day.AddDays(1)));
  ASSIGN_OR_RETURN(auto info, LoadPointInfo(c, ids));
  std::map<std::pair<int64_t, Date>, DailyRow> rows;
  for (const auto& f : stored) {
    auto pi = info.find(f.metering_point_id);
    rows[{f.metering_point_id, f.day}] =
        MakeRow(f, pi == info.end() ? nullptr : &pi->second, zone_);
  }
  std::set<Key> evaluated;
  std::vector<Finding> findings;
  std::vector<Curve*> checked;
  for (auto& cv : curves) {
    auto a = rows.find({cv.metering_point_id, cv.day});
    auto b = rows.find({cv.metering_point_id, cv.day.AddDays(1)});
    if (a == rows.end() || b == rows.end() || !Comparable(a->second, b->second)) continue;
    auto delta = TotalUse(a->second.frozen, b->second.frozen, b->second.digits);
    if (!delta) continue;
    if (std::any_of(cv.values.begin(), cv.values.end(), [](const auto& v) { return !v; })) {
      continue;
    }
    evaluated.insert({cv.metering_point_id, 0, DayKey(cv.day), "curve_sum"});
    if (auto f = CheckCurveSum(cv, *delta, options_)) findings.push_back(*f);
    checked.push_back(&cv);
  }
  std::map<int64_t, int64_t> dept;
  for (const auto& [id, p] : info) dept[id] = p.department_id;
  ASSIGN_OR_RETURN(auto status, ApplyFindings(c, evaluated, findings, dept, {}, by.user_id, by.note,
                                              clock_.NowMicros()));
  std::vector<Curve> changed;
  for (Curve* cv : checked) {
    Key k{cv->metering_point_id, 0, DayKey(cv->day), "curve_sum"};
    if (MarkSuspect(cv, status[k] == "open")) changed.push_back(*cv);
  }
  if (!changed.empty()) RETURN_IF_ERROR(StoreCurves(c, changed));
  return Status::Ok();
}

Status VeeService::CheckClockReadings(Connection& c, const std::vector<ClockReading>& readings) {
  if (readings.empty()) return Status::Ok();
  RETURN_IF_ERROR(zone_status_);
  // The largest drift per subject and local day.
  std::map<Key, const ClockReading*> worst;
  std::set<int64_t> points, terminals;
  for (const auto& r : readings) {
    Date day = zone_.LocalDate(r.read_at_us);
    Key k{r.metering_point_id.value_or(0), r.metering_point_id ? 0 : r.terminal_id, DayKey(day),
          "clock_drift"};
    auto abs = [](int64_t x) { return x < 0 ? -x : x; };
    auto& w = worst[k];
    if (!w || abs(r.drift_seconds) > abs(w->drift_seconds)) w = &r;
    if (r.metering_point_id) {
      points.insert(*r.metering_point_id);
    } else {
      terminals.insert(r.terminal_id);
    }
  }
  std::map<int64_t, int64_t> point_dept, terminal_dept;
  if (!points.empty()) {
    RETURN_IF_ERROR(c.Query("SELECT id, department_id FROM metering_points WHERE " +
                                grid::InSql("id", {points.begin(), points.end()}),
                            {}, [&](const Row& r) { point_dept[r.Int(0)] = r.Int(1); }));
  }
  if (!terminals.empty()) {
    RETURN_IF_ERROR(c.Query("SELECT id, department_id FROM terminals WHERE " +
                                grid::InSql("id", {terminals.begin(), terminals.end()}),
                            {}, [&](const Row& r) { terminal_dept[r.Int(0)] = r.Int(1); }));
  }
  std::set<Key> evaluated;
  std::vector<Finding> findings;
  for (const auto& [k, r] : worst) {
    evaluated.insert(k);
    std::string what = r->metering_point_id
                           ? "meter clock (terminal " + std::to_string(r->terminal_id) + ")"
                           : "terminal clock";
    if (auto f = CheckClockDrift(r->metering_point_id.value_or(0), r->terminal_id,
                                 DayFromKey(k.day), r->drift_seconds, what, options_)) {
      findings.push_back(*f);
    }
  }
  return ApplyFindings(c, evaluated, findings, point_dept, terminal_dept, std::nullopt,
                       "the clock is within the limit again", clock_.NowMicros())
      .status();
}

// ---- Review ----

Result<IssuePage> VeeService::ListIssues(const Actor& actor, const IssueQuery& q) {
  RETURN_IF_ERROR(actor.Require("acquisition.read"));
  if (!q.rule.empty()) {
    const auto& names = RuleNames();
    if (std::find(names.begin(), names.end(), q.rule) == names.end()) {
      return InvalidArgument(
          "rule must be one of rollover, reverse, spike, zero_run, curve_sum, "
          "clock_drift, tou_sum",
          "rule");
    }
  }
  if (!q.status.empty()) {
    RETURN_IF_ERROR(
        grid::CheckOneOf(q.status, "status", {"open", "accepted", "corrected", "dismissed"}));
  }
  if (q.page < 1) return InvalidArgument("page must be at least 1", "page");
  if (q.page_size < 1 || q.page_size > 200) {
    return InvalidArgument("page_size must be 1..200", "page_size");
  }
  if (q.from && q.to && *q.to < *q.from) {
    return InvalidArgument("the day range ends before it starts", "to");
  }
  IssuePage page;
  RETURN_IF_ERROR(db_.Read([&](Connection& c) -> Status {
    grid::SqlWhere w(IssueScopeSql(actor));
    if (q.department_id) {
      ASSIGN_OR_RETURN(auto sub, grid::DepartmentSubtree(c, *q.department_id));
      w.And(grid::InSql("v.department_id", sub));
    }
    if (q.metering_point_id) w.And("v.metering_point_id = " + w.Bind(*q.metering_point_id));
    if (!q.rule.empty()) w.And("v.rule = " + w.Bind(q.rule));
    if (!q.status.empty()) w.And("v.status = " + w.Bind(q.status));
    if (q.from) w.And("v.day >= " + w.Bind(DayKey(*q.from)));
    if (q.to) w.And("v.day <= " + w.Bind(DayKey(*q.to)));
    const std::string from_where =
        "vee_issues v LEFT JOIN metering_points mp ON mp.id = v.metering_point_id LEFT JOIN "
        "customers c ON c.id = mp.customer_id WHERE " +
        w.sql();
    ASSIGN_OR_RETURN(auto count, grid::CountCapped(c, from_where, w.params()));
    page.total = count.total;
    page.total_capped = count.capped;
    std::string sql = std::string(kIssueSelect) + " WHERE " + w.sql() +
                      " ORDER BY v.day DESC, v.id DESC " + w.LimitOffset(q.page, q.page_size);
    return c.Query(sql, w.params(),
                   [&](const Row& r) { page.items.push_back(ReadIssue(r, nullptr)); });
  }));
  return page;
}

namespace {

Result<Issue> LoadVisibleIssue(Connection& c, const Actor& actor, int64_t id) {
  std::optional<Issue> issue;
  std::optional<int64_t> manager;
  RETURN_IF_ERROR(c.Query(std::string(kIssueSelect) + " WHERE v.id = $1", {id},
                          [&](const Row& r) { issue = ReadIssue(r, &manager); }));
  if (!issue || !CanSeeIssue(actor, *issue, manager)) {
    return NotFound("VEE finding " + std::to_string(id) + " not found");
  }
  return *issue;
}

}  // namespace

Result<IssueDetail> VeeService::GetIssue(const Actor& actor, int64_t id) {
  RETURN_IF_ERROR(actor.Require("acquisition.read"));
  RETURN_IF_ERROR(zone_status_);
  return db_.ReadValue<IssueDetail>([&](Connection& c) -> Result<IssueDetail> {
    IssueDetail d;
    ASSIGN_OR_RETURN(d.issue, LoadVisibleIssue(c, actor, id));
    if (!d.issue.metering_point_id) return d;
    const int64_t point = *d.issue.metering_point_id;
    ASSIGN_OR_RETURN(auto info, LoadPointInfo(c, {point}));
    const PointInfo* p = info.count(point) ? &info[point] : nullptr;
    if (p) d.point_name = p->name;
    const Date first = d.issue.day.AddDays(-7), last = d.issue.day.AddDays(7);
    ASSIGN_OR_RETURN(auto rows, reading::LoadDailyFrozen(c, {point}, first, last.AddDays(1)));
    std::map<Date, DailyRow> by_day;
    for (const auto& f : rows) by_day[f.day] = MakeRow(f, p, zone_);
    std::map<Date, std::vector<std::pair<std::string, std::string>>> open;  // rule, severity
    RETURN_IF_ERROR(
        c.Query("SELECT day, rule, severity FROM vee_issues WHERE metering_point_id = $1 AND "
                "status = 'open' AND day >= $2 AND day <= $3 ORDER BY day, rule",
                {point, DayKey(first), DayKey(last)}, [&](const Row& r) {
                  open[DayFromKey(r.Int(0))].push_back({r.Text(1), r.Text(2)});
                }));
    for (Date day = first; day <= last; day = day.AddDays(1)) {
      DayView v;
      v.day = day;
      auto it = by_day.find(day);
      bool suspect = false;
      for (const auto& [rule, severity] : open[day]) {
        v.open_rules.push_back(rule);
        if (severity == kSuspect && rule != "curve_sum" && rule != "clock_drift") suspect = true;
      }
      if (it == by_day.end()) {
        v.quality = "missing";
      } else {
        v.frozen = it->second.frozen;
        v.quality = suspect ? "suspect" : it->second.frozen.quality;
        auto next = by_day.find(day.AddDays(1));
        if (next != by_day.end() && Comparable(it->second, next->second)) {
          v.use = TotalUse(it->second.frozen, next->second.frozen, next->second.digits);
        }
      }
      d.days.push_back(std::move(v));
    }
    ASSIGN_OR_RETURN(auto curves, LoadCurveMap(c, {point}, d.issue.day, d.issue.day));
    auto cv = curves.find({point, d.issue.day});
    if (cv != curves.end()) d.curve = cv->second;
    return d;
  });
}

// ---- Actions ----

Result<Issue> VeeService::Accept(const Actor& actor, int64_t id, int64_t version,
                                 const std::string& note) {
  return Resolve(actor, id, version, "accepted", note);
}

Result<Issue> VeeService::Dismiss(const Actor& actor, int64_t id, int64_t version,
                                  const std::string& note) {
  return Resolve(actor, id, version, "dismissed", note);
}

Result<Issue> VeeService::Resolve(const Actor& actor, int64_t id, int64_t version,
                                  const std::string& status, const std::string& note) {
  RETURN_IF_ERROR(actor.Require("acquisition.vee"));
  const bool dismiss = status == "dismissed";
  RETURN_IF_ERROR(grid::CheckText(note, "note", dismiss ? 2 : 0, 500));
  const int64_t now = clock_.NowMicros();
  return db_.WriteValue<Issue>([&](Connection& c) -> Result<Issue> {
    ASSIGN_OR_RETURN(Issue before, LoadVisibleIssue(c, actor, id));
    if (before.version != version) {
      return grid::StaleVersion("VEE finding", id, before.version, version);
    }
    if (before.status != "open") {
      return FailedPrecondition("VEE finding " + std::to_string(id) + " is already " +
                                before.status + "; only open findings can be " + status);
    }
    ASSIGN_OR_RETURN(
        int64_t n,
        c.Exec("UPDATE vee_issues SET status = $1, note = $2, "
               "resolved_by = $3, resolved_at_us = $4, updated_at_us = $4, "
               "version = version + 1 WHERE id = $5 AND version = $6",
               {status, note, actor.user_id ? store::Value(actor.user_id) : store::Value(), now, id,
                version}));
    if (n != 1) {
      return grid::StaleVersionAfterUpdate(c, "vee_issues", "VEE finding", id, version);
    }
    if (before.rule == "curve_sum" && before.metering_point_id) {
      ASSIGN_OR_RETURN(auto curves,
                       LoadCurveMap(c, {*before.metering_point_id}, before.day, before.day));
      auto cv = curves.find({*before.metering_point_id, before.day});
      if (cv != curves.end() && MarkSuspect(&cv->second, false)) {
        RETURN_IF_ERROR(StoreCurves(c, {cv->second}));
      }
    }
    ASSIGN_OR_RETURN(Issue after, LoadVisibleIssue(c, actor, id));
    RETURN_IF_ERROR(
        org::WriteAudit(c, actor,
                        {dismiss ? "dismiss" : "accept", "vee_issue", std::to_string(id),
                         IssueJson(before).dump(), IssueJson(after).dump(), before.department_id},
                        now));
    return after;
  });
}

Result<EstimateResult> VeeService::EstimateRange(const Actor& actor, int64_t point_id,
                                                 Date first_day, Date last_day) {
  RETURN_IF_ERROR(actor.Require("acquisition.vee"));
  RETURN_IF_ERROR(zone_status_);
  RETURN_IF_ERROR(CheckRange(first_day, last_day, options_.max_estimate_days));
  const int64_t now = clock_.NowMicros();
  return db_.WriteValue<EstimateResult>([&](Connection& c) -> Result<EstimateResult> {
    ASSIGN_OR_RETURN(PointInfo p, LoadVisiblePoint(c, actor, point_id));
    EstimateResult out;
    out.metering_point_id = point_id;
    out.first_day = first_day;
    out.last_day = last_day;

    // Daily frozen registers: missing days between two rows of the same meter.
    const int gap = options_.max_register_gap_days;
    ASSIGN_OR_RETURN(auto stored,
                     reading::LoadDailyFrozen(c, {point_id}, first_day.AddDays(-(gap + 1)),
                                              last_day.AddDays(gap + 1)));
    std::map<Date, DailyRow> rows;
    for (const auto& f : stored) rows[f.day] = MakeRow(f, &p, zone_);
    for (Date d = first_day; d <= last_day; d = d.AddDays(1)) {
      if (rows.count(d)) continue;
      auto after = rows.upper_bound(d);
      if (after == rows.end() || after == rows.begin()) {
        ++out.frozen_without_basis;
        continue;
      }
      auto before = std::prev(after);
      if (after->first.ToDays() - before->first.ToDays() - 1 > gap ||
          !Comparable(before->second, after->second)) {
        ++out.frozen_without_basis;
        continue;
      }
      auto est = InterpolateDailyFrozen(before->second.frozen, after->second.frozen, d);
      if (!est) {
        ++out.frozen_without_basis;
        continue;
      }
      out.frozen.push_back(*est);
    }
    if (!out.frozen.empty()) {
      RETURN_IF_ERROR(reading::StoreDailyFrozen(c, out.frozen));
      for (const auto& f : out.frozen) rows[f.day] = MakeRow(f, &p, zone_);
    }

    // Curves: gaps of each day, like days from the previous weeks, the register delta.
    const int weeks = options_.like_weeks;
    ASSIGN_OR_RETURN(CurveMap curves, LoadCurveMap(c, {point_id}, first_day.AddDays(-7 * weeks),
                                                   last_day.AddDays(1)));
    auto curve_of = [&](Date d) -> const Curve* {
      auto it = curves.find({point_id, d});
      return it == curves.end() ? nullptr : &it->second;
    };
    auto reference = [](const Curve* cv, size_t n) {
      std::vector<std::optional<Energy>> v(n);
      if (!cv || cv->values.size() != n) return v;
      for (size_t i = 0; i < n; ++i) {
        char q = i < cv->quality.size() ? cv->quality[i] : 'V';
        if (cv->values[i] &&
            (q == static_cast<char>(Quality::kValid) || q == static_cast<char>(Quality::kEdited))) {
          v[i] = cv->values[i];
        }
      }
      return v;
    };
    std::vector<Curve> written;
    json curve_audit = json::array();
    for (Date d = first_day; d <= last_day; d = d.AddDays(1)) {
      const Curve* existing = curve_of(d);
      bool like_day = false;
      for (int k = 1; k <= weeks; ++k) like_day = like_day || curve_of(d.AddDays(-7 * k));
      // A day without a curve is estimated only from like days (a point that collects curves);
      // otherwise there is nothing to fill.
      if (!existing && !like_day) continue;
      Curve cv;
      if (existing) {
        cv = *existing;
      } else {
        cv.metering_point_id = point_id;
        cv.day = d;
        cv.quantity = kEnergyCurve;
        cv.interval_minutes = 15;
        const Install* in = InstallAt(p, zone_.StartOfDay(d));
        cv.multiplier = in ? in->multiplier : 1;
        cv.values.assign(96, std::nullopt);
        cv.quality.assign(96, static_cast<char>(Quality::kMissing));
      }
      const size_t n = cv.values.size();
      if (std::all_of(cv.values.begin(), cv.values.end(), [](const auto& v) { return v; })) {
        continue;
      }
      // The series, with the adjacent days' neighbouring values when they are known (so a gap
      // at midnight is still between two values).
      const Curve* prev = curve_of(d.AddDays(-1));
      const Curve* next = curve_of(d.AddDays(1));
      std::optional<Energy> left, right;
      if (prev && prev->values.size() == n) left = prev->values.back();
      if (next && next->values.size() == n) right = next->values.front();
      const size_t offset = left ? 1 : 0;
      std::vector<std::optional<Energy>> values;
      std::string quality;
      if (left) {
        values.push_back(left);
        quality.push_back('V');
      }
      values.insert(values.end(), cv.values.begin(), cv.values.end());
      std::string own = cv.quality;
      own.resize(n, 'M');
      quality += own;
      if (right) {
        values.push_back(right);
        quality.push_back('V');
      }
      std::vector<std::vector<std::optional<Energy>>> history;
      for (int k = 1; k <= weeks; ++k) {
        auto h = reference(curve_of(d.AddDays(-7 * k)), n);
        if (left) h.insert(h.begin(), std::nullopt);
        if (right) h.push_back(std::nullopt);
        history.push_back(std::move(h));
      }
      FillSettings s;
      s.method = FillMethod::kAuto;
      // The register delta over the day when both frozen ends were collected (or edited).
      auto a = rows.find(d);
      auto b = rows.find(d.AddDays(1));
      if (a != rows.end() && b != rows.end() && a->second.frozen.quality != "estimated" &&
          b->second.frozen.quality != "estimated" && Comparable(a->second, b->second)) {
        if (auto delta = TotalUse(a->second.frozen, b->second.frozen, b->second.digits)) {
          s.target_total =
              Energy::FromDwh(delta->dwh() + (left ? left->dwh() : 0) + (right ? right->dwh() : 0));
        }
      }
      const int interval = std::max(1, cv.interval_minutes);
      s.max_linear = std::max(
          1, (s.target_total ? options_.max_linear_minutes_anchored : options_.max_linear_minutes) /
                 interval);
      Estimate est = FillGapsWith(values, quality, history, s);
      int64_t filled = 0, left_missing = 0;
      for (size_t i = 0; i < n; ++i) {
        if (cv.values[i]) continue;
        if (est.values[i + offset]) {
          cv.values[i] = est.values[i + offset];
          if (i >= cv.quality.size()) cv.quality.resize(i + 1, 'M');
          cv.quality[i] = static_cast<char>(Quality::kEstimated);
          ++filled;
        } else {
          ++left_missing;
        }
      }
      out.curve_values_without_basis += left_missing;
      if (filled == 0) continue;
      out.curve_values += filled;
      ++out.curve_days;
      curve_audit.push_back({{"day", d.ToString()},
                             {"values_estimated", filled},
                             {"scaled_to_register_delta", s.target_total.has_value()}});
      written.push_back(cv);
      curves[{point_id, d}] = cv;  // a basis for the neighbours of later days
    }
    if (!written.empty()) RETURN_IF_ERROR(StoreCurves(c, written));

    json frozen_audit = json::array();
    for (const auto& f : out.frozen) {
      frozen_audit.push_back(
          {{"day", f.day.ToString()}, {"registers", RegistersJson(f.registers)}});
    }
    RETURN_IF_ERROR(
        org::WriteAudit(c, actor,
                        {"estimate", "vee_estimate", std::to_string(point_id), "",
                         json{{"metering_point_id", point_id},
                              {"point_code", p.code},
                              {"from", first_day.ToString()},
                              {"to", last_day.ToString()},
                              {"daily_frozen", frozen_audit},
                              {"curves", curve_audit},
                              {"frozen_without_basis", out.frozen_without_basis},
                              {"curve_values_without_basis", out.curve_values_without_basis}}
                             .dump(),
                         p.department_id},
                        now));
    Resolver by{actor.user_id ? std::optional<int64_t>(actor.user_id) : std::nullopt,
                "corrected by estimation"};
    RETURN_IF_ERROR(CheckDailyFrozenAs(c, out.frozen, by));
    RETURN_IF_ERROR(CheckCurvesAs(c, written, by));
    return out;
  });
}

Result<ValidateResult> VeeService::Revalidate(const Actor& actor, int64_t point_id, Date first_day,
                                              Date last_day) {
  RETURN_IF_ERROR(actor.Require("acquisition.vee"));
  RETURN_IF_ERROR(zone_status_);
  RETURN_IF_ERROR(CheckRange(first_day, last_day, options_.max_estimate_days));
  const int64_t now = clock_.NowMicros();
  return db_.WriteValue<ValidateResult>([&](Connection& c) -> Result<ValidateResult> {
    ASSIGN_OR_RETURN(PointInfo p, LoadVisiblePoint(c, actor, point_id));
    ValidateResult out;
    ASSIGN_OR_RETURN(auto rows, reading::LoadDailyFrozen(c, {point_id}, first_day, last_day));
    ASSIGN_OR_RETURN(auto curves, LoadCurves(c, {point_id}, first_day, last_day, kEnergyCurve));
    out.rows = static_cast<int64_t>(rows.size());
    out.curves = static_cast<int64_t>(curves.size());
    Resolver by{actor.user_id ? std::optional<int64_t>(actor.user_id) : std::nullopt,
                "no longer found when checked again"};
    RETURN_IF_ERROR(CheckDailyFrozenAs(c, rows, by));
    RETURN_IF_ERROR(CheckCurvesAs(c, curves, by));
    RETURN_IF_ERROR(c.Query(std::string(kIssueSelect) +
                                " WHERE v.metering_point_id = $1 AND v.status = 'open' AND "
                                "v.day >= $2 AND v.day <= $3 ORDER BY v.day, v.rule",
                            {point_id, DayKey(first_day), DayKey(last_day)},
                            [&](const Row& r) { out.open.push_back(ReadIssue(r, nullptr)); }));
    RETURN_IF_ERROR(org::WriteAudit(c, actor,
                                    {"revalidate", "vee_estimate", std::to_string(point_id), "",
                                     json{{"metering_point_id", point_id},
                                          {"from", first_day.ToString()},
                                          {"to", last_day.ToString()},
                                          {"rows", out.rows},
                                          {"curves", out.curves},
                                          {"open", out.open.size()}}
                                         .dump(),
                                     p.department_id},
                                    now));
    return out;
  });
}

Result<DailyFrozen> VeeService::EditDailyFrozen(const Actor& actor, const DailyFrozenEdit& e) {
  RETURN_IF_ERROR(actor.Require("acquisition.vee"));
  RETURN_IF_ERROR(zone_status_);
  RETURN_IF_ERROR(CheckReason(e.reason, "reason", 2));
  if (e.registers.empty()) return InvalidArgument("no registers given", "registers");
  for (const auto& [reg, value] : e.registers) {
    if (!reading::IsKnownRegister(reg)) {
      return InvalidArgument("unknown register '" + reg.substr(0, 40) + "'",
                             "registers." + reg.substr(0, 40));
    }
    if (value.dwh() < 0) {
      return InvalidArgument("register " + reg + " is negative", "registers." + reg);
    }
  }
  const int64_t now = clock_.NowMicros();
  return db_.WriteValue<DailyFrozen>([&](Connection& c) -> Result<DailyFrozen> {
    ASSIGN_OR_RETURN(PointInfo p, LoadVisiblePoint(c, actor, e.metering_point_id));
    ASSIGN_OR_RETURN(auto rows, reading::LoadDailyFrozen(c, {p.id}, e.day, e.day));
    std::optional<DailyFrozen> before;
    if (!rows.empty()) before = rows.front();
    const std::string where =
        "the daily frozen row of metering point " + p.code + " on " + e.day.ToString();
    if (before.has_value() != e.previous.has_value() ||
        (before && before->registers != *e.previous)) {
      return Aborted(where + " was changed since you looked (now " +
                     (before ? RegistersJson(before->registers).dump() : std::string("no row")) +
                     "); reload it and try again");
    }
    DailyFrozen after;
    after.metering_point_id = p.id;
    after.day = e.day;
    after.registers = e.registers;
    after.quality = "edited";
    if (before) {
      after.multiplier = before->multiplier;
    } else {
      const Install* in = InstallAt(p, zone_.StartOfDay(e.day));
      if (!in && !p.installs.empty()) {
        return InvalidArgument("no meter was installed at metering point " + p.code +
                                   " at 00:00 of " + e.day.ToString(),
                               "day");
      }
      after.multiplier = in ? in->multiplier : 1;
    }
    RETURN_IF_ERROR(reading::StoreDailyFrozen(c, {after}));
    json before_json;
    if (before) {
      before_json = {{"registers", RegistersJson(before->registers)},
                     {"quality", before->quality},
                     {"multiplier", before->multiplier}};
    }
    RETURN_IF_ERROR(
        org::WriteAudit(c, actor,
                        {"edit", "daily_frozen", std::to_string(p.id) + "/" + e.day.ToString(),
                         before ? before_json.dump() : "",
                         json{{"metering_point_id", p.id},
                              {"day", e.day.ToString()},
                              {"registers", RegistersJson(after.registers)},
                              {"quality", "edited"},
                              {"multiplier", after.multiplier},
                              {"reason", e.reason}}
                             .dump(),
                         p.department_id},
                        now));
    RETURN_IF_ERROR(CheckDailyFrozenAs(
        c, {after},
        Resolver{actor.user_id ? std::optional<int64_t>(actor.user_id) : std::nullopt,
                 "corrected by edit: " + e.reason}));
    return after;
  });
}

Result<Curve> VeeService::EditCurveValue(const Actor& actor, const CurveEdit& e) {
  RETURN_IF_ERROR(actor.Require("acquisition.vee"));
  RETURN_IF_ERROR(zone_status_);
  RETURN_IF_ERROR(CheckReason(e.reason, "reason", 2));
  RETURN_IF_ERROR(grid::CheckCode(e.quantity, "quantity", 40));
  if (e.value.dwh() < 0) return InvalidArgument("the value is negative", "value");
  if (e.interval < 0) return InvalidArgument("interval must be 0 or more", "interval");
  const int64_t now = clock_.NowMicros();
  return db_.WriteValue<Curve>([&](Connection& c) -> Result<Curve> {
    ASSIGN_OR_RETURN(PointInfo p, LoadVisiblePoint(c, actor, e.metering_point_id));
    ASSIGN_OR_RETURN(auto curves, LoadCurves(c, {p.id}, e.day, e.day, e.quantity));
    Curve cv;
    if (curves.empty()) {
      cv.metering_point_id = p.id;
      cv.day = e.day;
      cv.quantity = e.quantity;
      cv.interval_minutes = 15;
      const Install* in = InstallAt(p, zone_.StartOfDay(e.day));
      cv.multiplier = in ? in->multiplier : 1;
      cv.values.assign(96, std::nullopt);
      cv.quality.assign(96, static_cast<char>(Quality::kMissing));
    } else {
      cv = curves.front();
    }
    const std::string where = "interval " + std::to_string(e.interval) + " of the " + e.quantity +
                              " curve of metering point " + p.code + " on " + e.day.ToString();
    if (static_cast<size_t>(e.interval) >= cv.values.size()) {
      return InvalidArgument("the curve has " + std::to_string(cv.values.size()) +
                                 " intervals (0.." + std::to_string(cv.values.size() - 1) + ")",
                             "interval");
    }
    const size_t i = static_cast<size_t>(e.interval);
    const std::optional<Energy> old = cv.values[i];
    if (old != e.previous) {
      return Aborted(where + " was changed since you looked (now " +
                     (old ? FormatKwh(*old) + " kWh" : std::string("missing")) +
                     "); reload it and try again");
    }
    const char old_quality = i < cv.quality.size() ? cv.quality[i] : 'M';
    cv.values[i] = e.value;
    if (cv.quality.size() < cv.values.size()) cv.quality.resize(cv.values.size(), 'M');
    cv.quality[i] = static_cast<char>(Quality::kEdited);
    RETURN_IF_ERROR(StoreCurves(c, {cv}));
    const std::string entity_id = std::to_string(p.id) + "/" + e.day.ToString() + "/" + e.quantity +
                                  "/" + std::to_string(e.interval);
    json before{{"value", old ? json(FormatKwh(*old)) : json()},
                {"quality", QualityName(static_cast<Quality>(old_quality))}};
    RETURN_IF_ERROR(org::WriteAudit(c, actor,
                                    {"edit", "curve_value", entity_id, before.dump(),
                                     json{{"metering_point_id", p.id},
                                          {"day", e.day.ToString()},
                                          {"quantity", e.quantity},
                                          {"interval", e.interval},
                                          {"value", FormatKwh(e.value)},
                                          {"quality", "edited"},
                                          {"reason", e.reason}}
                                         .dump(),
                                     p.department_id},
                                    now));
    RETURN_IF_ERROR(
        CheckCurvesAs(c, {cv},
                      Resolver{actor.user_id ? std::optional<int64_t>(actor.user_id) : std::nullopt,
                               "corrected by edit: " + e.reason}));
    // CheckCurvesAs may have re-marked the values: return what is stored.
    ASSIGN_OR_RETURN(auto now_stored, LoadCurves(c, {p.id}, e.day, e.day, e.quantity));
    if (!now_stored.empty()) return now_stored.front();
    return cv;
  });
}

}  // namespace vee
}  // namespace gridmis::acquisition
