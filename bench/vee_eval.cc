// Evaluation of VEE gap filling on real data (docs/vee-evaluation.md records the results).
//
// Reads the SGSC sample (10 households, half-hourly kWh, tests/data/sgsc/), takes known-good
// stretches, masks gaps of 1, 2, 4, 8, 16, 48, 96 and 336 half-hours at random positions (fixed
// seed), fills them with vee::FillGapsWith and scores the estimates against the masked readings:
//   linear       linear between the two neighbours, whatever the gap's length
//   like-day     the average of the same half-hour on the same weekday of the 4 previous weeks
//   FillGaps     linear up to --max-linear values (default 12 = 6 h), like-day beyond: the
//                service's rule without a register anchor (VeeOptions::max_linear_minutes)
//   …+reg        the same scaled to the energy the gap really held, as the register readings at
//                both ends of the gap give it (the shape is estimated, the total is known);
//                FillGaps+reg switches at --max-linear-reg (default 24 = 12 h), the service's
//                rule with the anchor (max_linear_minutes_anchored)
// A gap position is used only when the gap, one reading either side and the same stretch on
// each of the 4 previous weeks are all present, so every method estimates every value.
// MAE is in kWh per half-hour; MAPE only over half-hours whose actual reading is above
// 0.05 kWh (near-zero readings make percentages meaningless); "energy" is the error of the gap's
// total, Σ|estimated total − actual total| / Σ actual totals.
//
//   vee_eval [--data PATH] [--samples N] [--seed S] [--max-linear K] [--max-linear-reg K]
//            [--lengths 1,2,4,...]
#include <zlib.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "acquisition/vee.h"
#include "core/money.h"
#include "core/time.h"

namespace {

using gridmis::Date;
using gridmis::Energy;
using gridmis::acquisition::vee::FillGapsWith;
using gridmis::acquisition::vee::FillMethod;
using gridmis::acquisition::vee::FillSettings;

constexpr int64_t kPerDay = 48;
constexpr int64_t kWeek = 7 * kPerDay;
constexpr int kWeeks = 4;

struct Household {
  std::string id;
  int64_t first_slot = 0;                   // half-hours since 1970-01-01 00:00
  std::vector<std::optional<int64_t>> dwh;  // per half-hour from first_slot; nullopt = no reading
};

// "2012-02-10 08:30:00" → half-hours since the epoch; nullopt when malformed.
std::optional<int64_t> Slot(const std::string& t) {
  if (t.size() != 19 || t[10] != ' ' || t[13] != ':' || t[16] != ':') return std::nullopt;
  auto d = Date::Parse(t.substr(0, 10));
  if (!d.ok()) return std::nullopt;
  int hh = std::atoi(t.substr(11, 2).c_str());
  int mm = std::atoi(t.substr(14, 2).c_str());
  if (hh < 0 || hh > 23 || (mm != 0 && mm != 30)) return std::nullopt;
  return d->ToDays() * kPerDay + hh * 2 + mm / 30;
}

bool Load(const std::string& path, std::vector<Household>* out, int64_t* readings) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) {
    std::fprintf(stderr, "cannot open %s\n", path.c_str());
    return false;
  }
  std::map<std::string, std::map<int64_t, int64_t>> raw;
  char buf[512];
  int64_t line = 0;
  bool ok = true;
  while (gzgets(f, buf, sizeof buf)) {
    ++line;
    std::string s(buf);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    if (line == 1) {
      if (s != "customer_id,reading_datetime,general_supply_kwh") {
        std::fprintf(stderr, "%s line 1: unexpected header '%s'\n", path.c_str(), s.c_str());
        ok = false;
        break;
      }
      continue;
    }
    size_t a = s.find(','), b = s.rfind(',');
    if (a == std::string::npos || b == a) {
      std::fprintf(stderr, "%s line %lld: expected 3 fields\n", path.c_str(),
                   static_cast<long long>(line));
      ok = false;
      break;
    }
    auto slot = Slot(s.substr(a + 1, b - a - 1));
    auto kwh = Energy::ParseKwh(s.substr(b + 1), "general_supply_kwh");
    if (!slot || !kwh.ok()) {
      std::fprintf(stderr, "%s line %lld: bad time or kWh in '%s'\n", path.c_str(),
                   static_cast<long long>(line), s.c_str());
      ok = false;
      break;
    }
    raw[s.substr(0, a)][*slot] = kwh->dwh();
    ++*readings;
  }
  gzclose(f);
  if (!ok) return false;
  for (const auto& [id, m] : raw) {
    Household h;
    h.id = id;
    h.first_slot = m.begin()->first;
    h.dwh.assign(static_cast<size_t>(m.rbegin()->first - h.first_slot + 1), std::nullopt);
    for (const auto& [slot, v] : m) h.dwh[static_cast<size_t>(slot - h.first_slot)] = v;
    out->push_back(std::move(h));
  }
  return true;
}

struct Score {
  int64_t values = 0;
  int64_t abs_dwh = 0;  // Σ |estimate − actual|
  int64_t mape_values = 0;
  double ape_sum = 0;  // Σ |e − a| / a over actual > 0.05 kWh (a statistic, not stored energy)
  int64_t total_abs_dwh = 0;  // Σ |Σ estimate − Σ actual| per gap
  int64_t total_dwh = 0;      // Σ actual
  int64_t missing = 0;        // values a method left without an estimate
};

constexpr int kMethods = 6;
const char* const kMethodNames[kMethods] = {"linear",     "like-day",     "FillGaps",
                                            "linear+reg", "like-day+reg", "FillGaps+reg"};
const FillMethod kMethodKinds[kMethods] = {FillMethod::kLinear,  FillMethod::kLikeDay,
                                           FillMethod::kAuto,    FillMethod::kLinear,
                                           FillMethod::kLikeDay, FillMethod::kAuto};

}  // namespace

int main(int argc, char** argv) {
  std::string path = std::string(GRIDMIS_SOURCE_DIR) + "/tests/data/sgsc/sgsc_smart_meter10.csv.gz";
  int samples = 2000;
  uint64_t seed = 20240601;
  int max_linear = 12;
  int max_linear_reg = 24;
  std::vector<int> lengths = {1, 2, 4, 8, 16, 48, 96, 336};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--data") {
      path = next();
    } else if (a == "--samples") {
      samples = std::atoi(next().c_str());
    } else if (a == "--seed") {
      seed = std::strtoull(next().c_str(), nullptr, 10);
    } else if (a == "--max-linear") {
      max_linear = std::atoi(next().c_str());
    } else if (a == "--max-linear-reg") {
      max_linear_reg = std::atoi(next().c_str());
    } else if (a == "--lengths") {
      lengths.clear();
      std::string list = next();
      for (size_t at = 0; at < list.size();) {
        size_t comma = list.find(',', at);
        if (comma == std::string::npos) comma = list.size();
        int len = std::atoi(list.substr(at, comma - at).c_str());
        if (len < 1 || len > 2 * kWeek) {
          std::fprintf(stderr, "--lengths: each 1..%lld\n", static_cast<long long>(2 * kWeek));
          return 2;
        }
        lengths.push_back(len);
        at = comma + 1;
      }
    } else {
      std::fprintf(stderr,
                   "usage: vee_eval [--data PATH] [--samples N] [--seed S] [--max-linear K] "
                   "[--max-linear-reg K] [--lengths 1,2,4,...]\n");
      return 2;
    }
  }
  if (samples < 1 || max_linear < 0 || max_linear_reg < 0) {
    std::fprintf(stderr, "--samples must be at least 1, --max-linear(-reg) at least 0\n");
    return 2;
  }

  std::vector<Household> homes;
  int64_t readings = 0;
  if (!Load(path, &homes, &readings)) return 1;
  int64_t slots = 0, present = 0;
  for (const auto& h : homes) {
    slots += static_cast<int64_t>(h.dwh.size());
    for (const auto& v : h.dwh) present += v.has_value();
  }
  std::printf("data: %s\n%zu households, %lld readings, %lld half-hours spanned, %lld missing\n",
              path.c_str(), homes.size(), static_cast<long long>(readings),
              static_cast<long long>(slots), static_cast<long long>(slots - present));
  std::printf("seed %llu, %d gaps per length, FillGaps max_linear %d (with registers %d)\n\n",
              static_cast<unsigned long long>(seed), samples, max_linear, max_linear_reg);

  std::mt19937_64 rng(seed);
  std::map<int, std::array<Score, kMethods>> scores;
  std::map<int, int64_t> attempts_of;
  for (int len : lengths) {
    auto& sc = scores[len];
    int taken = 0;
    int64_t attempts = 0;
    while (taken < samples && attempts < int64_t{samples} * 2000) {
      ++attempts;
      // A position uniformly over all households' half-hours.
      int64_t r = static_cast<int64_t>(rng() % static_cast<uint64_t>(slots));
      size_t hi = 0;
      while (r >= static_cast<int64_t>(homes[hi].dwh.size())) {
        r -= static_cast<int64_t>(homes[hi].dwh.size());
        ++hi;
      }
      const auto& s = homes[hi].dwh;
      const int64_t start = r;  // first masked half-hour
      const int64_t n = static_cast<int64_t>(s.size());
      if (start - 1 - kWeeks * kWeek < 0 || start + len >= n) continue;
      // The gap and its two neighbours, and the same stretch on each of the previous weeks.
      bool good = true;
      for (int64_t w = 0; w <= kWeeks && good; ++w) {
        for (int64_t i = start - 1; i <= start + len && good; ++i) {
          good = s[static_cast<size_t>(i - w * kWeek)].has_value();
        }
      }
      if (!good) continue;
      ++taken;
      // The window: one neighbour, the gap, one neighbour.
      std::vector<std::optional<Energy>> window, truth;
      int64_t window_total = 0;
      for (int64_t i = start - 1; i <= start + len; ++i) {
        Energy e = Energy::FromDwh(*s[static_cast<size_t>(i)]);
        truth.push_back(e);
        window_total += e.dwh();
        bool masked = i >= start && i < start + len;
        window.push_back(masked ? std::nullopt : std::optional<Energy>(e));
      }
      std::vector<std::vector<std::optional<Energy>>> history;
      for (int64_t w = 1; w <= kWeeks; ++w) {
        std::vector<std::optional<Energy>> h;
        for (int64_t i = start - 1; i <= start + len; ++i) {
          h.push_back(Energy::FromDwh(*s[static_cast<size_t>(i - w * kWeek)]));
        }
        history.push_back(std::move(h));
      }
      for (int m = 0; m < kMethods; ++m) {
        FillSettings fs;
        fs.max_linear = m >= 3 ? max_linear_reg : max_linear;
        fs.method = kMethodKinds[m];
        if (m >= 3) fs.target_total = Energy::FromDwh(window_total);
        auto est = FillGapsWith(window, "", history, fs);
        Score& x = sc[static_cast<size_t>(m)];
        int64_t est_total = 0, true_total = 0;
        for (int64_t k = 1; k <= len; ++k) {
          const int64_t actual = truth[static_cast<size_t>(k)]->dwh();
          true_total += actual;
          const auto& e = est.values[static_cast<size_t>(k)];
          if (!e) {
            ++x.missing;
            continue;
          }
          est_total += e->dwh();
          const int64_t err = e->dwh() > actual ? e->dwh() - actual : actual - e->dwh();
          ++x.values;
          x.abs_dwh += err;
          if (actual > 500) {  // 0.05 kWh
            ++x.mape_values;
            x.ape_sum += static_cast<double>(err) / static_cast<double>(actual);
          }
        }
        x.total_abs_dwh += est_total > true_total ? est_total - true_total : true_total - est_total;
        x.total_dwh += true_total;
      }
    }
    attempts_of[len] = attempts;
    if (taken < samples) {
      std::fprintf(stderr, "gap %d: only %d known-good positions found in %lld draws\n", len, taken,
                   static_cast<long long>(attempts));
    }
  }

  auto header = [&](const char* what) {
    std::printf("%s\n\n| gap (half-hours) | gaps | values |", what);
    for (const char* m : kMethodNames) std::printf(" %s |", m);
    std::printf("\n|---:|---:|---:|");
    for (int m = 0; m < kMethods; ++m) std::printf("---:|");
    std::printf("\n");
  };
  auto row_start = [&](int len) {
    const auto& sc = scores[len];
    std::printf("| %d | %lld | %lld |", len, static_cast<long long>(sc[2].values / len),
                static_cast<long long>(sc[2].values));
  };
  header("MAE, kWh per half-hour");
  for (int len : lengths) {
    row_start(len);
    for (const auto& x : scores[len]) {
      std::printf(" %.4f |", x.values ? static_cast<double>(x.abs_dwh) / x.values / 1e4 : 0.0);
    }
    std::printf("\n");
  }
  std::printf("\n");
  header("MAPE, % (half-hours with actual > 0.05 kWh only)");
  for (int len : lengths) {
    row_start(len);
    for (const auto& x : scores[len]) {
      std::printf(" %.1f |", x.mape_values ? 100.0 * x.ape_sum / x.mape_values : 0.0);
    }
    std::printf("\n");
  }
  std::printf("\n");
  header("Energy of the gap, % error of its total (Σ|est − act| / Σ act)");
  for (int len : lengths) {
    row_start(len);
    for (const auto& x : scores[len]) {
      std::printf(" %.1f |", x.total_dwh ? 100.0 * x.total_abs_dwh / x.total_dwh : 0.0);
    }
    std::printf("\n");
  }
  std::printf("\nMAPE-eligible half-hours (actual > 0.05 kWh) per gap length:");
  for (int len : lengths) {
    std::printf(" %d: %lld/%lld;", len, static_cast<long long>(scores[len][2].mape_values),
                static_cast<long long>(scores[len][2].values));
  }
  std::printf("\nvalues left without an estimate:");
  int64_t left = 0;
  for (int len : lengths) {
    for (const auto& x : scores[len]) left += x.missing;
  }
  std::printf(" %lld\n", static_cast<long long>(left));
  return 0;
}
