#include "rating/rating.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <iterator>
#include <limits>
#include <numeric>

namespace gridmis::rating {

namespace {

using i128 = int128;

// ---- Registers ----

enum Reg { kTotal, kSharp, kPeak, kFlat, kValley, kExport, kRImp, kRExp, kMaxDemand, kRegCount };
constexpr std::string_view kRegNames[kRegCount] = {
    "total",           "sharp",           "peak",      "flat", "valley", "export",
    "reactive_import", "reactive_export", "max_demand"};
// TOU period → register (深谷 has no register on 645/698 meters).
constexpr int kPeriodReg[kTouPeriodCount] = {kSharp, kPeak, kFlat, kValley, -1};
constexpr int kMeteredPeriods = 4;  // sharp, peak, flat, valley

int RegIndex(std::string_view name) {
  for (int i = 0; i < kRegCount; ++i) {
    if (kRegNames[i] == name) return i;
  }
  return -1;
}

constexpr int64_t kDwhPerKwh = Energy::kDwhPerKwh;

i128 P10(int n) {
  i128 v = 1;
  for (int i = 0; i < n; ++i) v *= 10;
  return v;
}

// Checked product for the loss formulas (inputs are bounded, but a nameplate typo must not wrap).
bool MulOk(i128 a, i128 b, i128* out) { return !__builtin_mul_overflow(a, b, out); }

Result<int64_t> RoundDiv(i128 num, i128 den) { return DivRoundHalfUp(num, den); }

// amount = q × price × num / den, rounded to the fen (四舍五入).
Result<Money> Amount(Decimal q, Price price, int64_t num = 1, int64_t den = 1) {
  i128 n = static_cast<i128>(q.mantissa) * price.raw() * num;
  // q has q.scale decimals, the price 8; the fen has 2.
  int drop = q.scale + Price::kScale - 2;
  ASSIGN_OR_RETURN(int64_t fen, RoundDiv(n, P10(drop) * den));
  return Money::FromFen(fen);
}

Decimal Kwh(int64_t dwh) { return Decimal{dwh, Energy::kScale}; }
Decimal PriceDec(Price p) { return Decimal{p.raw(), Price::kScale}; }

// v / 10^scale with `decimals` digits (0..scale), rounded half away from zero. Fast: the bill
// run formats a few of these per bill.
std::string Fixed(int64_t v, int scale, int decimals) {
  int drop = scale - decimals;
  bool neg = v < 0;
  uint64_t u = neg ? static_cast<uint64_t>(-(v + 1)) + 1 : static_cast<uint64_t>(v);
  if (drop > 0) {
    uint64_t p = 1;
    for (int i = 0; i < drop; ++i) p *= 10;
    u = (u + p / 2) / p;
  }
  bool minus = neg && u != 0;
  char buf[32];
  int n = 0;
  for (int i = 0; i < decimals; ++i) {
    buf[n++] = static_cast<char>('0' + u % 10);
    u /= 10;
  }
  if (decimals > 0) buf[n++] = '.';
  do {
    buf[n++] = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u != 0);
  if (minus) buf[n++] = '-';
  return std::string(std::make_reverse_iterator(buf + n), std::make_reverse_iterator(buf));
}

// A register reading as read: 2 decimals, or 4 when the last two are not zero.
std::string ReadingText(Energy e) { return Fixed(e.dwh(), 4, e.dwh() % 100 == 0 ? 2 : 4); }

std::string KwhText(int64_t dwh) { return Fixed(dwh, 4, 4); }
// Whole kWh without decimals when exact, else 4 decimals (for messages and sources).
std::string KwhShort(int64_t dwh) {
  if (dwh % kDwhPerKwh == 0) return std::to_string(dwh / kDwhPerKwh);
  return Fixed(dwh, 4, 4);
}

// Energy of the point or of one share: the total and, when time-of-use applies, the metered
// periods (sharp, peak, flat, valley) that add up to it.
struct EVec {
  int64_t total = 0;
  std::array<int64_t, kTouPeriodCount> p{};
  bool tou = false;

  int64_t PeriodSum() const { return std::accumulate(p.begin(), p.end(), int64_t{0}); }
};

// Splits `total` into parts proportional to `weights` (non-negative, not all zero), in multiples
// of `unit`, by largest remainder (ties to the earlier part); a total that is not a multiple of
// `unit` gives its odd part to the largest share. Sums are preserved exactly.
std::vector<int64_t> SplitLargestRemainder(int64_t total, const std::vector<int64_t>& weights,
                                           int64_t unit) {
  size_t n = weights.size();
  std::vector<int64_t> out(n, 0);
  i128 w_sum = 0;
  size_t largest = 0;
  for (size_t i = 0; i < n; ++i) {
    w_sum += weights[i];
    if (weights[i] > weights[largest]) largest = i;
  }
  if (n == 0) return out;
  if (w_sum == 0) {
    out[0] = total;
    return out;
  }
  bool neg = total < 0;
  int64_t abs_total = neg ? -total : total;
  int64_t units = abs_total / unit;
  int64_t odd = abs_total % unit;
  std::vector<std::pair<i128, size_t>> rem(n);
  int64_t given = 0;
  for (size_t i = 0; i < n; ++i) {
    i128 x = static_cast<i128>(units) * weights[i];
    int64_t q = static_cast<int64_t>(x / w_sum);
    out[i] = q;
    given += q;
    rem[i] = {x % w_sum, i};
  }
  std::stable_sort(rem.begin(), rem.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (int64_t k = 0; k < units - given; ++k) out[rem[static_cast<size_t>(k)].second] += 1;
  for (size_t i = 0; i < n; ++i) out[i] *= unit;
  out[largest] += odd;
  if (neg) {
    for (auto& v : out) v = -v;
  }
  return out;
}

std::string RangeText(Date a, Date b) { return a.ToString() + "至" + b.ToString(); }

const char* TierZh(int tier) {
  static const char* k[] = {"", "第一档", "第二档", "第三档"};
  return k[tier];
}

struct Share {
  std::string tariff_code;
  std::string label;  // "" for the main tariff
  bool main = false;
  EVec billed;
  std::vector<const TariffVersion*> versions;  // covering the read period, in order
  TariffCategory category = TariffCategory::kOther;
  bool any_tou = false;
  bool tiered = false;
};

struct Segment {
  Date first;
  Date last;
};

class Rater {
 public:
  Rater(const RatingInput& in, const TariffCatalogue& cat)
      : in_(in), cat_(cat), pol_(cat.policy()) {}

  Result<RatedBill> Run() {
    RETURN_IF_ERROR(CheckInput());
    RETURN_IF_ERROR(LoadShares());
    RETURN_IF_ERROR(MeterEnergy());
    RETURN_IF_ERROR(Losses());
    RETURN_IF_ERROR(Allocate());
    RETURN_IF_ERROR(MakeSegments());
    for (Share& s : shares_) RETURN_IF_ERROR(PriceEnergy(s));
    RETURN_IF_ERROR(BasicCharge());
    RETURN_IF_ERROR(PowerFactorLine());
    for (Share& s : shares_) RETURN_IF_ERROR(FundLines(s));
    Totals();
    return std::move(bill_);
  }

 private:
  // ---- Input ----

  Status CheckInput() {
    if (in_.last_day < in_.first_day) {
      return InvalidArgument("last_day " + in_.last_day.ToString() + " is before first_day " +
                                 in_.first_day.ToString(),
                             "last_day");
    }
    if (in_.meters.empty()) {
      return InvalidArgument("meters: at least one meter span is required", "meters");
    }
    if (in_.household_multiplier < 1) {
      return InvalidArgument("household_multiplier must be at least 1", "household_multiplier");
    }
    if (in_.free_allowance_kwh < 0 || in_.tier_cumulative_kwh < 0) {
      return InvalidArgument("free_allowance_kwh and tier_cumulative_kwh must not be negative",
                             "tier_cumulative_kwh");
    }
    days_ = static_cast<int>(in_.last_day.ToDays() - in_.first_day.ToDays() + 1);
    month_ = in_.period.month;
    bill_.metering_point_code = in_.metering_point_code;
    bill_.period = in_.period;
    bill_.tariff_code = in_.tariff_code;
    bill_.lines.reserve(10);
    return Status::Ok();
  }

  Status LoadShares() {
    auto add = [&](const std::string& code, const std::string& label, bool main) -> Status {
      Share s;
      s.tariff_code = code;
      s.label = label;
      s.main = main;
      auto v = cat_.VersionsCovering(code, in_.first_day, in_.last_day);
      if (!v.ok()) {
        return Status(v.status().code(),
                      v.status().message() + " (the read period is " +
                          RangeText(in_.first_day, in_.last_day) + ")",
                      main ? "tariff_code" : "sub_allocations");
      }
      s.versions = std::move(*v);
      s.category = s.versions.front()->category;
      for (const TariffVersion* tv : s.versions) {
        s.any_tou = s.any_tou || tv->pricing == EnergyPricing::kTou;
        s.tiered = s.tiered || tv->tiers.has_value();
      }
      if (!main && s.tiered) {
        return InvalidArgument("sub-allocation '" + label + "': tariff " + code +
                                   " has residential tiers; a carved-out share is priced flat "
                                   "or by time of use",
                               "sub_allocations");
      }
      shares_.push_back(std::move(s));
      return Status::Ok();
    };
    shares_.reserve(1 + in_.sub_allocations.size());
    RETURN_IF_ERROR(add(in_.tariff_code, "", true));
    for (size_t i = 0; i < in_.sub_allocations.size(); ++i) {
      const SubAllocation& sa = in_.sub_allocations[i];
      std::string where = "sub_allocations[" + std::to_string(i) + "]";
      if (sa.ratio.has_value() == sa.fixed_kwh.has_value()) {
        return InvalidArgument(where + ": give exactly one of ratio (定比) and fixed_kwh (定量)",
                               where);
      }
      if (sa.ratio && (sa.ratio->mantissa <= 0 || *sa.ratio >= Decimal{1, 0})) {
        return InvalidArgument(where + ".ratio must be between 0 and 1", where + ".ratio");
      }
      if (sa.fixed_kwh && *sa.fixed_kwh <= 0) {
        return InvalidArgument(where + ".fixed_kwh must be positive", where + ".fixed_kwh");
      }
      RETURN_IF_ERROR(add(sa.tariff_code, sa.label.empty() ? sa.tariff_code : sa.label, false));
    }
    const TariffVersion& mv = *shares_.front().versions.back();
    bill_.tariff_version = shares_.front().versions.front()->id;
    for (size_t i = 1; i < shares_.front().versions.size(); ++i) {
      bill_.tariff_version += "," + shares_.front().versions[i]->id;
    }
    bill_.tariff_category = std::string(CategoryName(mv.category));
    for (const Share& s : shares_) tou_ = tou_ || s.any_tou;
    return Status::Ok();
  }

  // Register differences × multiplier per span; 抄见 (current meter) and 换表 (earlier meters).
  Status MeterEnergy() {
    const size_t nspans = in_.meters.size();
    std::array<bool, kRegCount> in_all{};
    in_all.fill(true);
    std::array<int64_t, kRegCount> metered{}, replaced{};
    int64_t max_demand = 0;
    bool any_md = false;
    for (size_t si = 0; si < nspans; ++si) {
      const MeterSpan& m = in_.meters[si];
      const std::string mwhere = "meters[" + std::to_string(si) + "]";
      if (m.multiplier < 1) {
        return InvalidArgument(mwhere + ".multiplier must be at least 1", mwhere + ".multiplier");
      }
      std::array<bool, kRegCount> have{};
      std::array<int64_t, kRegCount> raw{};
      for (const auto& [name, v] : m.end) {
        int r = RegIndex(name);
        if (r < 0) {
          return InvalidArgument(mwhere + ".end: unknown register '" + name + "'",
                                 mwhere + ".end." + name);
        }
        if (r == kMaxDemand) {
          if (v.dwh() < 0) {
            return InvalidArgument(mwhere + ".end.max_demand must not be negative",
                                   mwhere + ".end.max_demand");
          }
          int64_t md = v.dwh() * m.multiplier;
          max_demand = std::max(max_demand, md);
          any_md = true;
          reg_reads_[kMaxDemand].push_back({si, Energy(), v, md});
          continue;
        }
        auto st = m.start.find(name);
        if (st == m.start.end()) {
          return InvalidArgument(
              mwhere + ": register " + name + " has an end reading but no start reading",
              mwhere + ".start." + name);
        }
        Energy d = v - st->second;
        if (v < st->second) {
          ASSIGN_OR_RETURN(d, RegisterDifference(st->second, v, m.register_integer_digits,
                                                 "register " + name + " of meter " + MeterName(m)));
        }
        have[r] = true;
        raw[r] = d.dwh();
        int64_t e = d.dwh() * m.multiplier;
        (si + 1 == nspans ? metered : replaced)[r] += e;
        reg_reads_[r].push_back({si, st->second, v, e});
      }
      for (const auto& [name, v] : m.start) {
        int r = RegIndex(name);
        if (r < 0) {
          return InvalidArgument(mwhere + ".start: unknown register '" + name + "'",
                                 mwhere + ".start." + name);
        }
        if (r != kMaxDemand && !m.end.count(name)) {
          return InvalidArgument(
              mwhere + ": register " + name + " has a start reading but no end reading",
              mwhere + ".end." + name);
        }
      }
      if (!have[kTotal]) {
        return InvalidArgument(mwhere + ": the total register is required", mwhere + ".end.total");
      }
      for (int r = 0; r < kRegCount; ++r) {
        in_all[r] = in_all[r] && have[r];
        any_span_has_[r] = any_span_has_[r] || have[r];
      }
      // §0.3 rule 2: the period registers must add up to the total within the tolerance.
      int nper = 0;
      int64_t sum = 0;
      for (int p = 0; p < kMeteredPeriods; ++p) {
        if (have[kPeriodReg[p]]) {
          ++nper;
          sum += raw[kPeriodReg[p]];
        }
      }
      if (tou_ && nper > 0) {
        int64_t tol = pol_.tou_register_tolerance.dwh() * nper;
        int64_t diff = raw[kTotal] - sum;
        if (diff > tol || -diff > tol) {
          return InvalidArgument("meter " + MeterName(m) + ": the period registers add up to " +
                                     KwhText(sum) + " kWh but the total register advanced " +
                                     KwhText(raw[kTotal]) + " kWh; the difference " +
                                     KwhText(diff) + " is beyond the tolerance " + KwhText(tol) +
                                     " kWh (refer the read to review)",
                                 mwhere + ".end.total");
        }
      }
    }
    bool have_periods = false;
    for (int p = 0; p < kMeteredPeriods; ++p) have_periods = have_periods || in_all[kPeriodReg[p]];
    if (tou_) {
      for (int p = 0; p < kMeteredPeriods; ++p) {
        if (any_span_has_[kPeriodReg[p]] && !in_all[kPeriodReg[p]]) {
          return InvalidArgument(
              "register " + std::string(kRegNames[kPeriodReg[p]]) +
                  " is read on some meter spans but not on all: the period energy cannot be "
                  "billed by time of use",
              "meters");
        }
      }
    }
    if (tou_ && !have_periods) {
      return InvalidArgument("tariff " + FirstTouCode() +
                                 " is time-of-use but the meter has no period registers (sharp, "
                                 "peak, flat, valley) in every span",
                             "meters");
    }
    has_reactive_ = in_all[kRImp] || in_all[kRExp];
    reactive_ = std::llabs(metered[kRImp] + replaced[kRImp]) * (in_all[kRImp] ? 1 : 0) +
                std::llabs(metered[kRExp] + replaced[kRExp]) * (in_all[kRExp] ? 1 : 0);
    has_md_ = any_md;
    max_demand_ = max_demand;

    EnergyBreakdown& eb = bill_.energy;
    for (int r = 0; r < kRegCount; ++r) {
      if (r == kMaxDemand || !in_all[r]) continue;
      eb.metered[std::string(kRegNames[r])] = Energy::FromDwh(metered[r]);
      if (nspans > 1) eb.replaced[std::string(kRegNames[r])] = Energy::FromDwh(replaced[r]);
    }
    eb.max_demand_kw = Energy::FromDwh(max_demand);

    // 电能表电量 = 抄见 + 换表 + 增减 (§1 step 4).
    meter_.tou = tou_;
    meter_.total = metered[kTotal] + replaced[kTotal];
    if (tou_) {
      for (int p = 0; p < kMeteredPeriods; ++p) {
        int r = kPeriodReg[p];
        if (in_all[r]) meter_.p[p] = metered[r] + replaced[r];
      }
    }
    AddUnregistered(&meter_, meter_.total - meter_.PeriodSum(), /*total_too=*/false);
    if (in_.adjustment.dwh() != 0) {
      AddUnregistered(&meter_, in_.adjustment.dwh(), true);
      notes_adjust_ = "增减电量 " + KwhShort(in_.adjustment.dwh()) + " kWh" +
                      (in_.adjustment_reason.empty() ? "" : "（" + in_.adjustment_reason + "）");
      bill_.notes.push_back(notes_adjust_);
    }
    return Status::Ok();
  }

  // Energy not on a period register (the tolerance remainder, adjustments, refunds) goes to the
  // policy's remainder period, or by share when the tariff does not price that period.
  void AddUnregistered(EVec* v, int64_t dwh, bool total_too) {
    if (total_too) v->total += dwh;
    if (!v->tou || dwh == 0) return;
    int rp = static_cast<int>(pol_.tou_remainder_period);
    if (rp < kMeteredPeriods && MainPrices(static_cast<TouPeriod>(rp))) {
      v->p[rp] += dwh;
      return;
    }
    std::vector<int64_t> w(v->p.begin(), v->p.begin() + kMeteredPeriods);
    for (auto& x : w) x = std::max<int64_t>(x, 0);
    auto parts = SplitLargestRemainder(dwh, w, 1);
    for (int p = 0; p < kMeteredPeriods; ++p) v->p[p] += parts[p];
  }

  // Whether every TOU version of the main tariff prices `period` in the bill's month.
  bool MainPrices(TouPeriod period) const {
    for (const TariffVersion* v : shares_.front().versions) {
      if (v->pricing == EnergyPricing::kTou && !v->PeriodPrice(period, month_)) return false;
    }
    return true;
  }

  std::string FirstTouCode() const {
    for (const Share& s : shares_) {
      if (s.any_tou) return s.tariff_code;
    }
    return in_.tariff_code;
  }

  // "M1 peak 1060.00→1120.50 × 2000 = 121000 kWh (read 2026-02-28 → read 2026-03-31)"
  const std::vector<std::string>& RegSources(int r) {
    if (reg_src_built_[r]) return reg_src_[r];
    reg_src_built_[r] = true;
    for (const RegRead& rr : reg_reads_[r]) {
      const MeterSpan& m = in_.meters[rr.span];
      std::string t = MeterName(m);
      t += ' ';
      t += kRegNames[r];
      t += ' ';
      if (r == kMaxDemand) {
        t += Fixed(rr.end.dwh(), 4, 4) + " × " + std::to_string(m.multiplier) + " = " +
             KwhShort(rr.energy) + " kW";
      } else {
        t += ReadingText(rr.start) + "→" + ReadingText(rr.end) + " × " +
             std::to_string(m.multiplier) + " = " + KwhShort(rr.energy) + " kWh";
      }
      if (!m.start_source.empty() || !m.end_source.empty()) {
        t += " (" + m.start_source + " → " + m.end_source + ")";
      }
      reg_src_[r].push_back(std::move(t));
    }
    return reg_src_[r];
  }

  static std::string MeterName(const MeterSpan& m) {
    return m.meter_asset_no.empty() ? std::string("(unnamed)") : m.meter_asset_no;
  }

  // ---- Losses (§6.4) ----

  Status Losses() {
    int64_t a = meter_.total;  // active energy of the month, dWh
    int64_t loss_active_kwh = 0;
    int64_t loss_reactive_kvarh = 0;
    if (in_.transformer) {
      const TransformerLossConfig& t = *in_.transformer;
      if (t.method == TransformerLossConfig::Method::kFormula) {
        RETURN_IF_ERROR(FormulaLoss(t, a, &loss_active_kwh, &loss_reactive_kvarh));
      } else {
        RETURN_IF_ERROR(TableLoss(t, a, &loss_active_kwh, &loss_reactive_kvarh));
      }
      bill_.energy.transformer_active_loss = Energy::FromKwh(loss_active_kwh);
      bill_.energy.transformer_reactive_loss = Energy::FromKwh(loss_reactive_kvarh);
    }
    int64_t line_kwh = 0;
    if (in_.line_loss_rate) {
      const Decimal& r = *in_.line_loss_rate;
      if (r.mantissa < 0 || *in_.line_loss_rate >= Decimal{1, 0}) {
        return InvalidArgument("line_loss_rate must be between 0 and 1", "line_loss_rate");
      }
      // 线损电量 = (energy + transformer loss) × agreed rate, whole kWh half up.
      i128 base = static_cast<i128>(a) + static_cast<i128>(loss_active_kwh) * kDwhPerKwh;
      ASSIGN_OR_RETURN(line_kwh, RoundDiv(base * r.mantissa, P10(r.scale) * kDwhPerKwh));
      bill_.energy.line_loss = Energy::FromKwh(line_kwh);
    }
    loss_active_dwh_ = (loss_active_kwh + line_kwh) * kDwhPerKwh;
    loss_reactive_dwh_ = loss_reactive_kvarh * kDwhPerKwh;
    // Allocation to the period registers by share (4-decimal proportion, whole kWh, the
    // remainder to the largest share; §6.4, Example C).
    loss_.tou = meter_.tou;
    loss_.total = loss_active_dwh_;
    if (meter_.tou && loss_active_dwh_ != 0) {
      int64_t sum = 0;
      int largest = -1;
      for (int p = 0; p < kMeteredPeriods; ++p) {
        sum += std::max<int64_t>(meter_.p[p], 0);
        if (largest < 0 || meter_.p[p] > meter_.p[largest]) largest = p;
      }
      int64_t loss_kwh = loss_active_kwh + line_kwh;
      if (sum <= 0) {
        loss_.p[static_cast<int>(pol_.tou_remainder_period) % kMeteredPeriods] = loss_active_dwh_;
      } else {
        int64_t given = 0;
        for (int p = 0; p < kMeteredPeriods; ++p) {
          int64_t e = std::max<int64_t>(meter_.p[p], 0);
          ASSIGN_OR_RETURN(int64_t share, RoundDiv(static_cast<i128>(e) * 10000, sum));
          ASSIGN_OR_RETURN(int64_t kwh, RoundDiv(static_cast<i128>(loss_kwh) * share, 10000));
          loss_.p[p] = kwh * kDwhPerKwh;
          given += kwh;
        }
        loss_.p[largest] += (loss_kwh - given) * kDwhPerKwh;
      }
    }
    if (loss_active_dwh_ != 0) {
      bill_.energy.loss["total"] = Energy::FromDwh(loss_.total);
      if (loss_.tou) {
        for (int p = 0; p < kMeteredPeriods; ++p) {
          if (loss_.p[p] != 0) {
            bill_.energy.loss[std::string(TouPeriodName(static_cast<TouPeriod>(p)))] =
                Energy::FromDwh(loss_.p[p]);
          }
        }
      }
    }
    return Status::Ok();
  }

  Status FormulaLoss(const TransformerLossConfig& t, int64_t a, int64_t* da, int64_t* dr) {
    if (t.rated_kva <= 0) {
      return InvalidArgument("transformer.rated_kva must be positive", "transformer.rated_kva");
    }
    for (const Decimal* d : {&t.no_load_loss_kw, &t.load_loss_kw, &t.no_load_current_pct,
                             &t.impedance_voltage_pct, &t.correction}) {
      if (d->mantissa < 0 || d->scale > 8) {
        return InvalidArgument("transformer figures must be non-negative with at most 8 decimals",
                               "transformer");
      }
    }
    const i128 h = static_cast<i128>(days_) * 24;
    const i128 se = t.rated_kva;
    // A² + R² in (dWh)²; without a reactive meter S = A / pf0 and ΔR = 0 (§6.4).
    i128 s2_num = 0, s2_den = 1;  // (A²+R²) = s2_num / s2_den, in dWh²
    bool reactive = has_reactive_;
    i128 a2, r2;
    if (!MulOk(a, a, &a2) || !MulOk(reactive_, reactive_, &r2)) return Overflow();
    if (reactive) {
      s2_num = a2 + r2;
    } else {
      const Decimal& pf0 = pol_.no_reactive_meter_pf;
      if (!MulOk(a2, P10(2 * pf0.scale), &s2_num)) return Overflow();
      s2_den = static_cast<i128>(pf0.mantissa) * pf0.mantissa;
    }
    // ΔA = P0·H + K·Pk·S² / (H·Se²), kWh; S² in kWh² = s2 / 10^8.
    {
      const Decimal &p0 = t.no_load_loss_kw, &k = t.correction, &pk = t.load_loss_kw;
      int sc = k.scale + pk.scale;
      i128 den;  // 10^(sc+8) · H · Se² · s2_den
      i128 num2;
      if (!MulOk(P10(sc + 8) * h, se * se, &den) || !MulOk(den, s2_den, &den)) return Overflow();
      if (!MulOk(static_cast<i128>(k.mantissa) * pk.mantissa, s2_num, &num2)) return Overflow();
      // Bring both terms to the denominator den · 10^p0.scale.
      i128 t1, t2, total_den;
      if (!MulOk(static_cast<i128>(p0.mantissa) * h, den, &t1)) return Overflow();
      if (!MulOk(num2, P10(p0.scale), &t2)) return Overflow();
      if (!MulOk(den, P10(p0.scale), &total_den)) return Overflow();
      ASSIGN_OR_RETURN(*da, RoundDiv(t1 + t2, total_den));
    }
    *dr = 0;
    if (reactive) {
      // ΔR = I0%·Se·H/100 + K·Uk%·(A²+R²) / (100·H·Se), kvarh.
      const Decimal &i0 = t.no_load_current_pct, &k = t.correction, &uk = t.impedance_voltage_pct;
      int sc = k.scale + uk.scale;
      i128 den;  // 10^(sc+8) · 100 · H · Se
      if (!MulOk(P10(sc + 8) * 100 * h, se, &den)) return Overflow();
      i128 num2;
      if (!MulOk(static_cast<i128>(k.mantissa) * uk.mantissa, s2_num, &num2)) return Overflow();
      i128 t1, t2, total_den;
      // term1 = i0m · Se · H / (100 · 10^i0.scale)
      if (!MulOk(static_cast<i128>(i0.mantissa) * se * h, P10(sc + 8) * h * se, &t1)) {
        return Overflow();
      }
      if (!MulOk(num2, P10(i0.scale), &t2)) return Overflow();
      if (!MulOk(den, P10(i0.scale), &total_den)) return Overflow();
      ASSIGN_OR_RETURN(*dr, RoundDiv(t1 + t2, total_den));
    }
    std::string T = std::to_string(days_ * 24);
    bill_.notes.push_back(
        "变损（公式法）：T = " + std::to_string(days_) + " 天 × 24 = " + T +
        " h，ΔA = " + std::to_string(*da) + " kWh，ΔR = " + std::to_string(*dr) + " kvarh" +
        (reactive
             ? ""
             : "（无功表缺，按功率因数 " + pol_.no_reactive_meter_pf.ToString() + " 计视在）"));
    return Status::Ok();
  }

  Status TableLoss(const TransformerLossConfig& t, int64_t a, int64_t* da, int64_t* dr) {
    const LossTable* table = cat_.FindLossTable(t.loss_table);
    if (table == nullptr) {
      return FailedPrecondition(
          "transformer.loss_table '" + t.loss_table + "' is not in the catalogue's loss tables",
          "transformer.loss_table");
    }
    const LossTable::Row* row = &table->rows.front();
    std::string why = "无负荷，取空载行";
    if (a > 0) {
      if (t.shift_load_kwh <= 0) {
        return InvalidArgument("transformer.shift_load_kwh must be positive for the table method",
                               "transformer.shift_load_kwh");
      }
      // Load ratio = A / (shift load × days/30, whole kWh) + 0.05, to 0.1 half up; above 1 it
      // is 1.1 (fms-cfs calculateByTable).
      ASSIGN_OR_RETURN(int64_t full_kwh, RoundDiv(static_cast<i128>(t.shift_load_kwh) * days_, 30));
      if (full_kwh <= 0) {
        return InvalidArgument("transformer.shift_load_kwh is too small for the days in service",
                               "transformer.shift_load_kwh");
      }
      i128 num = static_cast<i128>(a) * 20 + static_cast<i128>(full_kwh) * kDwhPerKwh;
      i128 den = static_cast<i128>(full_kwh) * kDwhPerKwh * 20;
      int64_t tenths = 11;
      if (num <= den) {
        ASSIGN_OR_RETURN(tenths, RoundDiv(num * 10, den));
      }
      Decimal ratio{tenths, 1};
      row = &table->RowFor(ratio);
      why = "负荷率 " + ratio.ToString() + "，取 " + row->load_ratio.ToString() + " 行";
    }
    ASSIGN_OR_RETURN(*da, RoundDiv(static_cast<i128>(row->active_kwh) * days_, 30));
    ASSIGN_OR_RETURN(*dr, RoundDiv(static_cast<i128>(row->reactive_kvarh) * days_, 30));
    if (!has_reactive_) *dr = 0;
    bill_.notes.push_back("变损（查表法 " + table->name + "）：" + why + "，按 " +
                          std::to_string(days_) + "/30 天：ΔA = " + std::to_string(*da) +
                          " kWh，ΔR = " + std::to_string(*dr) + " kvarh");
    return Status::Ok();
  }

  static Status Overflow() {
    return InvalidArgument("transformer loss: the figures are too large to compute exactly",
                           "transformer");
  }

  // ---- 计费电量 and carve-outs (§1 step 6, §6.5) ----

  Status Allocate() {
    EVec point = meter_;  // 电能表电量
    auto add = [](EVec* x, const EVec& y) {
      x->total += y.total;
      for (int p = 0; p < kTouPeriodCount; ++p) x->p[p] += y.p[p];
    };
    bool losses_first = pol_.sub_allocation_order == SubAllocationOrder::kLossesFirst;
    if (losses_first) add(&point, loss_);
    if (in_.refund_energy.dwh() != 0) {
      AddUnregistered(&point, in_.refund_energy.dwh(), true);
      bill_.notes.push_back("退补电量 " + KwhShort(in_.refund_energy.dwh()) + " kWh");
    }
    if (point.total < 0) {
      return InvalidArgument("the billed energy would be negative (" + KwhText(point.total) +
                                 " kWh): check the adjustment and refund",
                             "adjustment");
    }
    EVec main = point;
    for (size_t i = 1; i < shares_.size(); ++i) {
      const SubAllocation& sa = in_.sub_allocations[i - 1];
      EVec sub;
      sub.tou = point.tou;
      if (sa.ratio) {
        const Decimal& r = *sa.ratio;
        auto part = [&](int64_t e) -> Result<int64_t> {
          ASSIGN_OR_RETURN(int64_t kwh,
                           RoundDiv(static_cast<i128>(e) * r.mantissa, P10(r.scale) * kDwhPerKwh));
          return kwh * kDwhPerKwh;
        };
        if (point.tou) {
          for (int p = 0; p < kMeteredPeriods; ++p) {
            ASSIGN_OR_RETURN(sub.p[p], part(point.p[p]));
          }
          sub.total = sub.PeriodSum();
        } else {
          ASSIGN_OR_RETURN(sub.total, part(point.total));
        }
      } else {
        int64_t fixed = std::min(*sa.fixed_kwh * kDwhPerKwh, std::max<int64_t>(point.total, 0));
        sub.total = fixed;
        if (point.tou) {
          std::vector<int64_t> w(point.p.begin(), point.p.begin() + kMeteredPeriods);
          for (auto& x : w) x = std::max<int64_t>(x, 0);
          auto parts = SplitLargestRemainder(fixed, w, kDwhPerKwh);
          for (int p = 0; p < kMeteredPeriods; ++p) sub.p[p] = parts[p];
        }
      }
      main.total -= sub.total;
      for (int p = 0; p < kTouPeriodCount; ++p) main.p[p] -= sub.p[p];
      shares_[i].billed = sub;
      bill_.notes.push_back(shares_[i].label + " " +
                            (sa.ratio ? "定比 " + sa.ratio->ToString()
                                      : "定量 " + std::to_string(*sa.fixed_kwh) + " kWh") +
                            "：" + KwhShort(sub.total) + " kWh 按 " + shares_[i].tariff_code +
                            " 计价");
    }
    if (main.total < 0) {
      return InvalidArgument("the sub-allocations take more energy (" +
                                 KwhText(point.total - main.total) + " kWh) than the point has (" +
                                 KwhText(point.total) + " kWh)",
                             "sub_allocations");
    }
    if (!losses_first) add(&main, loss_);
    shares_.front().billed = main;

    // Residential 计费电量 in whole kWh (§9.1).
    int64_t total = 0;
    for (Share& s : shares_) {
      if (s.category == TariffCategory::kResidential &&
          pol_.residential_energy_rounding == EnergyRounding::kWholeKwhHalfUp) {
        EVec& b = s.billed;
        if (b.tou) {
          for (int p = 0; p < kMeteredPeriods; ++p)
            b.p[p] = Energy::FromDwh(b.p[p]).RoundedKwh() * kDwhPerKwh;
          b.total = b.PeriodSum();
        } else {
          b.total = Energy::FromDwh(b.total).RoundedKwh() * kDwhPerKwh;
        }
      }
      total += s.billed.total;
    }
    point_total_ = total;
    bill_.billed_kwh = Energy::FromDwh(total).RoundedKwh();
    const EVec& mb = shares_.front().billed;
    bill_.energy.billed["total"] = Energy::FromDwh(mb.total);
    if (mb.tou) {
      for (int p = 0; p < kMeteredPeriods; ++p) {
        if (mb.p[p] != 0 || bill_.energy.metered.count(std::string(kRegNames[kPeriodReg[p]]))) {
          bill_.energy.billed[std::string(TouPeriodName(static_cast<TouPeriod>(p)))] =
              Energy::FromDwh(mb.p[p]);
        }
      }
    }
    return Status::Ok();
  }

  // ---- Price changes inside the period (§2.5) ----

  Status MakeSegments() {
    std::vector<Date> starts = {in_.first_day};
    for (const Share& s : shares_) {
      for (size_t i = 1; i < s.versions.size(); ++i)
        starts.push_back(s.versions[i]->effective_from);
    }
    std::sort(starts.begin(), starts.end());
    starts.erase(std::unique(starts.begin(), starts.end()), starts.end());
    for (size_t i = 0; i < starts.size(); ++i) {
      Date last = i + 1 < starts.size() ? starts[i + 1].AddDays(-1) : in_.last_day;
      segments_.push_back({starts[i], last});
    }
    weights_.clear();
    if (segments_.size() == 1) return Status::Ok();
    // Daily frozen totals when complete for the period, else days.
    bool complete = static_cast<int>(in_.daily_total.size()) >= days_;
    if (complete) {
      for (Date d = in_.first_day; !(in_.last_day < d); d = d.AddDays(1)) {
        if (!in_.daily_total.count(d)) {
          complete = false;
          break;
        }
      }
    }
    int64_t wsum = 0;
    for (const Segment& seg : segments_) {
      int64_t w = 0;
      if (complete) {
        for (auto it = in_.daily_total.lower_bound(seg.first);
             it != in_.daily_total.end() && !(seg.last < it->first); ++it) {
          w += std::max<int64_t>(it->second.dwh(), 0);
        }
      } else {
        w = seg.last.ToDays() - seg.first.ToDays() + 1;
      }
      weights_.push_back(w);
      wsum += w;
    }
    if (wsum == 0) {
      weights_.clear();
      for (const Segment& seg : segments_)
        weights_.push_back(seg.last.ToDays() - seg.first.ToDays() + 1);
      complete = false;
    }
    std::string how = complete ? "按日冻结电量" : "按天数";
    std::string parts;
    for (size_t i = 0; i < segments_.size(); ++i) {
      parts += (i ? "，" : "") + RangeText(segments_[i].first, segments_[i].last) +
               (complete ? " " + KwhShort(weights_[i]) + " kWh"
                         : " " + std::to_string(weights_[i]) + " 天");
    }
    bill_.notes.push_back("电价调整，电量" + how + "分摊：" + parts);
    return Status::Ok();
  }

  // The share's energy in each segment.
  std::vector<EVec> SplitBySegment(const Share& s) const {
    std::vector<EVec> out(segments_.size());
    if (segments_.size() == 1) {
      out[0] = s.billed;
      return out;
    }
    int64_t unit = s.category == TariffCategory::kResidential &&
                           pol_.residential_energy_rounding == EnergyRounding::kWholeKwhHalfUp
                       ? kDwhPerKwh
                       : 1;
    for (auto& e : out) e.tou = s.billed.tou;
    if (s.billed.tou) {
      for (int p = 0; p < kMeteredPeriods; ++p) {
        auto parts = SplitLargestRemainder(s.billed.p[p], weights_, unit);
        for (size_t i = 0; i < out.size(); ++i) out[i].p[p] = parts[i];
      }
      for (auto& e : out) e.total = e.PeriodSum();
    } else {
      auto parts = SplitLargestRemainder(s.billed.total, weights_, unit);
      for (size_t i = 0; i < out.size(); ++i) out[i].total = parts[i];
    }
    return out;
  }

  const TariffVersion* VersionOn(const Share& s, Date day) const {
    for (const TariffVersion* v : s.versions) {
      if (v->InForce(day)) return v;
    }
    return s.versions.back();
  }

  // ---- Energy charges (§2, §3) ----

  BillLine& NewLine(const char* kind, const Share& s, const TariffVersion& v, size_t seg) {
    bill_.lines.emplace_back();
    BillLine& l = bill_.lines.back();
    l.kind = kind;
    l.tariff_code = s.tariff_code;
    l.tariff_version = v.id;
    l.share = s.label;
    if (segments_.size() > 1) {
      l.from = segments_[seg].first;
      l.to = segments_[seg].last;
    }
    return l;
  }

  std::string Describe(const Share& s, size_t seg, std::string what) const {
    std::string d = s.main ? std::string() : s.label + " ";
    d += what;
    if (segments_.size() > 1)
      d += "（" + RangeText(segments_[seg].first, segments_[seg].last) + "）";
    return d;
  }

  std::vector<std::string> EnergySources(const Share& s, int period) {
    std::vector<std::string> src;
    int r = period < 0 ? kTotal : kPeriodReg[period];
    if (r >= 0) src = RegSources(r);
    int64_t loss = period < 0 ? loss_.total : loss_.p[period];
    if (loss != 0) src.push_back("变损线损 " + KwhShort(loss) + " kWh");
    if (!s.main) src.push_back("定比/定量 " + s.label);
    if (!notes_adjust_.empty()) src.push_back(notes_adjust_);
    return src;
  }

  Status EnergyLine(const Share& s, const TariffVersion& v, size_t seg, int period, int tier,
                    int64_t dwh, Price price, const char* kind, std::string what,
                    std::string rule) {
    BillLine& l = NewLine(kind, s, v, seg);
    l.period_code =
        period < 0 ? std::string() : std::string(TouPeriodName(static_cast<TouPeriod>(period)));
    l.tier = tier;
    l.quantity = Kwh(dwh);
    l.unit = "kWh";
    l.unit_price = PriceDec(price);
    ASSIGN_OR_RETURN(l.amount, Amount(l.quantity, price));
    l.description = Describe(s, seg, std::move(what));
    l.rule = std::move(rule);
    l.sources = EnergySources(s, period);
    return Status::Ok();
  }

  // Tier bounds of this bill in dWh (§2.3, §2.5).
  Status TierBounds(const TierSchedule& ts, int64_t out[2]) {
    const TierSchedule::Bounds& b = ts.BoundsFor(month_);
    int64_t num = in_.household_multiplier, den = 1;
    if (ts.cycle == TierSchedule::Cycle::kYear) {
      if (pol_.tier_proration == TierProration::kMonths && in_.tier_months_in_service) {
        int m = *in_.tier_months_in_service;
        if (m < 1 || m > 12) {
          return InvalidArgument("tier_months_in_service must be 1..12", "tier_months_in_service");
        }
        num *= m;
        den = 12;
      } else if (pol_.tier_proration == TierProration::kDays && in_.tier_days_in_service) {
        int year_days = IsLeapYear(in_.period.year) ? 366 : 365;
        int d = *in_.tier_days_in_service;
        if (d < 1 || d > year_days) {
          return InvalidArgument("tier_days_in_service must be 1.." + std::to_string(year_days),
                                 "tier_days_in_service");
        }
        num *= d;
        den = year_days;
      }
    } else if (pol_.tier_proration == TierProration::kDays && in_.tier_days_in_service) {
      int md = in_.period.Days();
      int d = *in_.tier_days_in_service;
      if (d < 1 || d > md) {
        return InvalidArgument("tier_days_in_service must be 1.." + std::to_string(md),
                               "tier_days_in_service");
      }
      num *= d;
      den = md;
    }
    for (int k = 0; k < 2; ++k) {
      ASSIGN_OR_RETURN(int64_t kwh, RoundDiv(static_cast<i128>(b.upper_kwh[k]) * num, den));
      out[k] = kwh * kDwhPerKwh;
      bill_.tier_bounds_kwh[k] = kwh;
    }
    return Status::Ok();
  }

  Status PriceEnergy(Share& s) {
    std::vector<EVec> parts = SplitBySegment(s);
    // Tiers walk the cumulative energy through the segments in time order (bounds are not
    // re-prorated by a price change).
    int64_t bounds[2] = {0, 0};
    const TariffVersion* tier_version = nullptr;
    for (const TariffVersion* v : s.versions) {
      if (v->tiers) tier_version = v;
    }
    if (s.main && tier_version) RETURN_IF_ERROR(TierBounds(*tier_version->tiers, bounds));
    int64_t cum = in_.tier_cumulative_kwh * kDwhPerKwh;
    int64_t free_left = s.main ? in_.free_allowance_kwh * kDwhPerKwh : 0;
    int64_t tier_total[3] = {0, 0, 0};
    for (size_t seg = 0; seg < segments_.size(); ++seg) {
      const TariffVersion& v = *VersionOn(s, segments_[seg].first);
      const EVec& e = parts[seg];
      // Tier split of this segment's energy (on the period sum, §0.3 rule 1).
      int64_t tier_e[3] = {e.total, 0, 0};
      if (v.tiers) {
        int64_t c0 = cum, c1 = cum + e.total;
        int64_t lower = 0;
        for (int k = 0; k < 3; ++k) {
          int64_t upper = k < 2 ? bounds[k] : std::numeric_limits<int64_t>::max();
          tier_e[k] = std::max<int64_t>(0, std::min(c1, upper) - std::max(c0, lower));
          lower = upper;
        }
        cum = c1;
      }
      for (int k = 0; k < 3; ++k) tier_total[k] += tier_e[k];
      std::string src_v = v.id;
      if (v.pricing == EnergyPricing::kFlat) {
        if (v.tiers) {
          for (int k = 0; k < 3; ++k) {
            if (tier_e[k] == 0) continue;
            Price p = Price::FromNanoYuanX10(v.flat_price.raw() +
                                             (k == 0 ? 0 : v.tiers->increment[k - 1].raw()));
            RETURN_IF_ERROR(EnergyLine(s, v, seg, -1, k + 1, tier_e[k], p, "energy",
                                       std::string(TierZh(k + 1)) + "电度电费",
                                       "tariffs.md §2.3 tier " + std::to_string(k + 1) + " (≤ " +
                                           (k < 2 ? KwhShort(bounds[k]) : std::string("∞")) +
                                           " kWh cumulative)"));
          }
        } else if (e.total != 0 || segments_.size() == 1) {
          RETURN_IF_ERROR(EnergyLine(s, v, seg, -1, 0, e.total, v.flat_price, "energy", "电度电费",
                                     "tariffs.md §1 step 7 flat price"));
        }
      } else {
        if (!e.tou) return Internal("TOU pricing without period energies");
        for (int p = 0; p < kMeteredPeriods; ++p) {
          if (e.p[p] == 0) continue;
          auto price = v.PeriodPrice(static_cast<TouPeriod>(p), month_);
          // A period priced only in some seasons (蒙西 尖峰 in June–August): energy on its
          // register in a month without it was recorded in the days of the read period that
          // fell in the season before (a September bill reading from 10 August), so it takes
          // that season's price.
          int price_month = month_;
          if (!price && in_.first_day.month != month_) {
            price = v.PeriodPrice(static_cast<TouPeriod>(p), in_.first_day.month);
            price_month = in_.first_day.month;
          }
          if (!price) {
            return InvalidArgument("tariff " + v.id + " has no " +
                                       std::string(TouPeriodName(static_cast<TouPeriod>(p))) +
                                       " price in month " + std::to_string(month_) + " but the " +
                                       std::string(TouPeriodName(static_cast<TouPeriod>(p))) +
                                       " register has " + KwhShort(e.p[p]) + " kWh",
                                   "meters");
          }
          const SeasonPrices* season = v.SeasonFor(price_month);
          std::string rule =
              "tariffs.md §3 TOU " + std::string(TouPeriodName(static_cast<TouPeriod>(p)));
          if (price_month != month_) {
            rule += " (season of month " + std::to_string(price_month) + ", when it was recorded)";
          }
          if (season && !season->derivation[p].empty() && season->derivation[p] != "published") {
            rule += " = " + season->derivation[p];
          }
          RETURN_IF_ERROR(
              EnergyLine(s, v, seg, p, 0, e.p[p], *price, "energy",
                         std::string(TouPeriodNameZh(static_cast<TouPeriod>(p))) + "电度电费",
                         std::move(rule)));
        }
        if (v.tiers) {
          for (int k = 1; k < 3; ++k) {
            if (tier_e[k] == 0) continue;
            RETURN_IF_ERROR(EnergyLine(s, v, seg, -1, k + 1, tier_e[k], v.tiers->increment[k - 1],
                                       "tier_increment", k == 1 ? "阶梯二档加价" : "阶梯三档加价",
                                       "tariffs.md §2.4 / §0.3 rule 1: tier " +
                                           std::to_string(k + 1) +
                                           " increment on the period sum (> " +
                                           KwhShort(bounds[k - 1]) + " kWh cumulative)"));
          }
        }
      }
      // 低保/五保 free allowance, taken off tier-1 energy (§2.5).
      if (free_left > 0 && tier_e[0] > 0) {
        int64_t f = std::min(free_left, tier_e[0]);
        free_left -= f;
        if (v.pricing == EnergyPricing::kFlat) {
          RETURN_IF_ERROR(EnergyLine(s, v, seg, -1, 1, -f, v.flat_price, "free_allowance",
                                     "低保/五保免费电量", "tariffs.md §2.5 free allowance"));
        } else {
          std::vector<int64_t> w(e.p.begin(), e.p.begin() + kMeteredPeriods);
          for (auto& x : w) x = std::max<int64_t>(x, 0);
          auto fp = SplitLargestRemainder(f, w, kDwhPerKwh);
          for (int p = 0; p < kMeteredPeriods; ++p) {
            if (fp[p] == 0) continue;
            RETURN_IF_ERROR(
                EnergyLine(s, v, seg, p, 1, -fp[p],
                           *v.PeriodPrice(static_cast<TouPeriod>(p), month_), "free_allowance",
                           "低保/五保免费电量（" +
                               std::string(TouPeriodNameZh(static_cast<TouPeriod>(p))) + "）",
                           "tariffs.md §2.5 free allowance, by period share"));
          }
        }
      }
    }
    if (s.main && tier_version) {
      for (int k = 0; k < 3; ++k) bill_.tier_kwh[k] = Energy::FromDwh(tier_total[k]).RoundedKwh();
      bill_.tier_cumulative_after_kwh = Energy::FromDwh(cum).RoundedKwh();
    }
    return Status::Ok();
  }

  // ---- Basic charge (§4) ----

  Status BasicCharge() {
    const Share& s = shares_.front();
    const TariffVersion& v = *s.versions.back();
    if (in_.basic_mode == BasicChargeMode::kNone) {
      if (v.category == TariffCategory::kLargeIndustry) {
        return FailedPrecondition("tariff " + v.code +
                                      " is two-part: basic_mode (capacity, declared_demand or "
                                      "actual_demand) is required",
                                  "basic_mode");
      }
      return Status::Ok();
    }
    // Days used in the calendar month (电费年月): service window minus sealed days.
    Date m_first = in_.period.FirstDay(), m_last = in_.period.LastDay();
    Date a = in_.service_start ? std::max(*in_.service_start, m_first) : m_first;
    Date b = in_.service_end ? std::min(*in_.service_end, m_last) : m_last;
    for (size_t i = 0; i < in_.suspensions.size(); ++i) {
      if (in_.suspensions[i].last < in_.suspensions[i].first) {
        return InvalidArgument("suspensions[" + std::to_string(i) + "]: last is before first",
                               "suspensions");
      }
    }
    int used = 0;
    if (!(b < a)) {
      const int64_t a_day = a.ToDays(), b_day = b.ToDays();
      used = static_cast<int>(b_day - a_day + 1);
      // Sealed days inside the window, counting overlapping ranges once.
      std::vector<std::pair<int64_t, int64_t>> sealed;
      for (const DayRange& r : in_.suspensions) {
        int64_t f = std::max(r.first.ToDays(), a_day), l = std::min(r.last.ToDays(), b_day);
        if (f <= l) sealed.emplace_back(f, l);
      }
      std::sort(sealed.begin(), sealed.end());
      int64_t covered_to = a_day - 1;
      for (const auto& [f, l] : sealed) {
        int64_t from = std::max(f, covered_to + 1);
        if (from <= l) used -= static_cast<int>(l - from + 1);
        covered_to = std::max(covered_to, l);
      }
    }
    int month_days = in_.period.Days();
    int num = 1, den = 1;
    if (used != month_days) {
      num = used;
      den = 30;
    }
    if (used != month_days) {
      bill_.notes.push_back("基本电费按实用天数 " + std::to_string(used) + "/30 计（" +
                            RangeText(a, b) + (in_.suspensions.empty() ? "" : "，扣除暂停天数") +
                            "）");
    }
    if (used == 0) return Status::Ok();
    auto set_days = [&](BillLine& l) {
      if (den != 1) {
        l.days = num;
        l.days_base = den;
      }
    };
    auto base_line = [&](const char* kind, Decimal q, const char* unit, Price p, std::string desc,
                         std::string rule, std::vector<std::string> src) -> Status {
      BillLine& l = NewLine(kind, s, v, 0);
      l.from.reset();
      l.to.reset();
      l.quantity = q;
      l.unit = unit;
      l.unit_price = PriceDec(p);
      set_days(l);
      ASSIGN_OR_RETURN(l.amount, Amount(q, p, num, den));
      l.description = std::move(desc);
      l.rule = std::move(rule);
      if (den != 1) l.rule += "; × " + std::to_string(num) + "/30 days (§0.3 rule 5)";
      l.sources = std::move(src);
      return Status::Ok();
    };

    if (in_.basic_mode == BasicChargeMode::kCapacity) {
      if (!v.capacity_price) {
        return FailedPrecondition("tariff " + v.id + " has no capacity price", "basic_mode");
      }
      if (in_.capacity_kva <= 0) {
        return InvalidArgument("capacity_kva is required for capacity billing", "capacity_kva");
      }
      return base_line("basic_capacity", Decimal{in_.capacity_kva, 0}, "kVA", *v.capacity_price,
                       "基本电费（容量）", "tariffs.md §4.2 capacity × 容量电价",
                       {"capacity " + std::to_string(in_.capacity_kva) + " kVA"});
    }
    if (!v.demand_price) {
      return FailedPrecondition("tariff " + v.id + " has no demand price", "basic_mode");
    }
    if (!has_md_) {
      return InvalidArgument("demand billing needs the max_demand register", "meters");
    }
    Price p = *v.demand_price;
    std::string discount;
    if (pol_.high_utilisation_discount && in_.capacity_kva > 0 &&
        point_total_ >=
            static_cast<i128>(pol_.high_utilisation_kwh_per_kva) * in_.capacity_kva * kDwhPerKwh) {
      ASSIGN_OR_RETURN(Decimal d, Decimal::Multiply(PriceDec(p), pol_.high_utilisation_price_ratio,
                                                    Price::kScale));
      p = Price::FromNanoYuanX10(d.mantissa);
      discount = "; ≥ " + std::to_string(pol_.high_utilisation_kwh_per_kva) +
                 " kWh/kVA: demand price × " + pol_.high_utilisation_price_ratio.ToString();
    }
    Decimal md = Kwh(max_demand_);  // kW, 4 decimals
    std::vector<std::string> md_src = RegSources(kMaxDemand);
    if (in_.basic_mode == BasicChargeMode::kActualDemand) {
      return base_line("basic_demand", md, "kW", p, "基本电费（实际最大需量）",
                       "tariffs.md §4.2 actual maximum demand × 需量电价" + discount, md_src);
    }
    // Declared (contract) demand.
    if (!in_.declared_demand_kw || *in_.declared_demand_kw <= 0) {
      return InvalidArgument("declared demand is required for demand billing",
                             "declared_demand_kw");
    }
    if (in_.capacity_kva <= 0) {
      return InvalidArgument("capacity_kva is required for demand billing (the 40% floor)",
                             "capacity_kva");
    }
    // 40 % floor, in 0.0001 kW.
    int64_t dc = *in_.declared_demand_kw * kDwhPerKwh;
    int64_t floor = in_.capacity_kva * kDwhPerKwh * 4 / 10;
    std::string floor_note;
    if (dc < floor) {
      floor_note = "; declared " + std::to_string(*in_.declared_demand_kw) +
                   " kW lifted to 40% of " + std::to_string(in_.capacity_kva) + " kVA";
      dc = floor;
    }
    i128 band_exact_num = static_cast<i128>(dc) * 105;  // in 0.000001 kW
    std::vector<std::string> src = md_src;
    src.push_back("declared " + KwhShort(dc) + " kW, 105% = " +
                  Decimal{static_cast<int64_t>(band_exact_num), 6}.ToString() + " kW");
    if (static_cast<i128>(max_demand_) * 100 <= band_exact_num) {
      return base_line("basic_demand", Kwh(dc), "kW", p, "基本电费（合同最大需量）",
                       "tariffs.md §4.2 declared demand (actual ≤ 105%)" + floor_note + discount,
                       src);
    }
    // Overage above 105 %: in 0.000001 kW to stay exact.
    Decimal over{static_cast<int64_t>(static_cast<i128>(max_demand_) * 100 - band_exact_num), 6};
    if (over.mantissa % 100 == 0) over = Decimal{over.mantissa / 100, 4};
    if (pol_.demand_overage == DemandOverage::kStandard) {
      RETURN_IF_ERROR(base_line("basic_demand", md, "kW", p, "基本电费（实际最大需量）",
                                "tariffs.md §4.2 standard: actual demand over 105% of declared, "
                                "MD × p" +
                                    floor_note + discount,
                                src));
      return base_line("basic_overage", over, "kW", p, "基本电费（超合同需量105%加收）",
                       "tariffs.md §4.2 standard: (MD − 1.05·Dc) × p" + discount, src);
    }
    RETURN_IF_ERROR(base_line("basic_demand", Kwh(dc), "kW", p, "基本电费（合同最大需量）",
                              "tariffs.md §4.2 alternative: Dc × p" + floor_note + discount, src));
    return base_line("basic_overage", over, "kW", Price::FromNanoYuanX10(p.raw() * 2),
                     "基本电费（超合同需量105%加倍）",
                     "tariffs.md §4.2 alternative: 2 × p × (MD − 1.05·Dc)" + discount, src);
  }

  // ---- Power factor (§5) ----

  Status PowerFactorLine() {
    const Share& s = shares_.front();
    const TariffVersion& v = *s.versions.back();
    if (in_.pf_standard == "none" || in_.pf_standard.empty()) {
      if (v.category != TariffCategory::kResidential &&
          in_.capacity_kva >= pol_.pf_assessed_min_kva) {
        return FailedPrecondition(
            "metering point " + in_.metering_point_code + " (" + std::to_string(in_.capacity_kva) +
                " kVA, " + std::string(CategoryName(v.category)) +
                ") needs a power-factor standard (≥ " + std::to_string(pol_.pf_assessed_min_kva) +
                " kVA, tariffs.md §5.1) but has none",
            "pf_standard");
      }
      return Status::Ok();
    }
    ASSIGN_OR_RETURN(Decimal std_pf, Decimal::Parse(in_.pf_standard, 2, "pf_standard"));
    if (!has_reactive_) {
      return InvalidArgument("power factor standard " + in_.pf_standard +
                                 " needs the reactive registers (reactive_import / "
                                 "reactive_export)",
                             "meters");
    }
    bool with_losses = pol_.pf_includes_losses;
    int64_t p_active = meter_.total + (with_losses ? loss_active_dwh_ : 0);
    int64_t q = reactive_ + (with_losses ? loss_reactive_dwh_ : 0);
    if (p_active <= 0 && q <= 0) {
      bill_.notes.push_back("无用电量，不计功率因数调整");
      return Status::Ok();
    }
    if (p_active < 0) p_active = 0;
    Decimal pf = PowerFactor(Energy::FromDwh(p_active), Energy::FromDwh(q));
    ASSIGN_OR_RETURN(Decimal rate, PowerFactorAdjustment(pf, in_.pf_standard));
    Money base;
    for (const BillLine& l : bill_.lines) {
      bool energy_kind =
          l.kind == "energy" || l.kind == "tier_increment" || l.kind == "free_allowance";
      bool basic_kind = l.kind.rfind("basic_", 0) == 0;
      if (basic_kind || energy_kind) {
        // Residential shares are not power-factor assessed.
        bool residential = false;
        for (const Share& sh : shares_) {
          if (sh.label == l.share && sh.tariff_code == l.tariff_code) {
            residential = sh.category == TariffCategory::kResidential;
          }
        }
        if (!residential) base += l.amount;
      }
    }
    bill_.power_factor = pf;
    bill_.pf_adjust_rate = rate;
    bill_.pf_standard = std_pf;
    bill_.pf_base = base;
    BillLine& l = NewLine("pf_adjustment", s, v, 0);
    l.from.reset();
    l.to.reset();
    l.quantity = Decimal{base.fen(), 2};
    l.unit = "yuan";
    l.unit_price = rate;
    ASSIGN_OR_RETURN(int64_t fen,
                     RoundDiv(static_cast<i128>(base.fen()) * rate.mantissa, P10(rate.scale)));
    l.amount = Money::FromFen(fen);
    l.description = "功率因数调整电费";
    l.rule = "tariffs.md §5: PF " + pf.ToString() + " vs standard " + in_.pf_standard + " → " +
             PercentText(rate) + " of basic + energy charges (funds excluded)" +
             (with_losses && loss_active_dwh_ ? "; P and Q include losses (§0.3 rule 3)" : "");
    l.sources = {"P = " + KwhShort(p_active) + " kWh", "Q = " + KwhShort(q) + " kvarh"};
    return Status::Ok();
  }

  static std::string PercentText(Decimal rate) {
    // rate has 4 decimals as a fraction → percent with 2 decimals.
    auto r = rate.Rescale(4);
    Decimal pct{r.ok() ? r->mantissa : 0, 2};
    std::string t = pct.ToString();
    return (pct.mantissa > 0 ? "+" : "") + t + "%";
  }

  // ---- Funds (§7, §0.3 rule 9) ----

  Status FundLines(const Share& s) {
    std::vector<EVec> parts;
    bool split = false;
    for (size_t seg = 0; seg < segments_.size(); ++seg) {
      const TariffVersion& v = *VersionOn(s, segments_[seg].first);
      if (v.funds_included) continue;
      if (!split) {
        parts = SplitBySegment(s);
        split = true;
      }
      for (const Fund& f : cat_.funds()) {
        if (!f.AppliesTo(s.category, segments_[seg].first)) continue;
        if (parts[seg].total == 0) continue;
        BillLine& l = NewLine("fund", s, v, seg);
        l.quantity = Kwh(parts[seg].total);
        l.unit = "kWh";
        l.unit_price = PriceDec(f.rate);
        ASSIGN_OR_RETURN(l.amount, Amount(l.quantity, f.rate));
        l.description = Describe(s, seg, f.name_zh);
        l.rule = "tariffs.md §7 " + f.code + " on 计费电量 (no TOU float, no PF adjustment)";
        l.sources = {"计费电量 " + KwhShort(parts[seg].total) + " kWh"};
      }
    }
    return Status::Ok();
  }

  void Totals() {
    Money total;
    for (const BillLine& l : bill_.lines) {
      if (l.kind == "energy" || l.kind == "tier_increment" || l.kind == "free_allowance") {
        bill_.energy_charge += l.amount;
      } else if (l.kind.rfind("basic_", 0) == 0) {
        bill_.basic_charge += l.amount;
      } else if (l.kind == "pf_adjustment") {
        bill_.pf_charge += l.amount;
      } else if (l.kind == "fund") {
        bill_.fund_charge += l.amount;
      }
      total += l.amount;
    }
    bill_.total = total;
  }

  const RatingInput& in_;
  const TariffCatalogue& cat_;
  const Policy& pol_;
  RatedBill bill_;
  int days_ = 0;
  int month_ = 1;
  bool tou_ = false;
  std::vector<Share> shares_;
  // The reads behind each register's energy; their text is built only for the registers a line
  // cites.
  struct RegRead {
    size_t span;
    Energy start;
    Energy end;
    int64_t energy;  // × multiplier (max_demand: kW × multiplier)
  };
  std::array<std::vector<RegRead>, kRegCount> reg_reads_;
  std::array<std::vector<std::string>, kRegCount> reg_src_;
  std::array<bool, kRegCount> reg_src_built_{};
  EVec meter_;
  EVec loss_;
  int64_t loss_active_dwh_ = 0;
  int64_t loss_reactive_dwh_ = 0;
  std::array<bool, kRegCount> any_span_has_{};
  bool has_reactive_ = false;
  int64_t reactive_ = 0;
  bool has_md_ = false;
  int64_t max_demand_ = 0;
  int64_t point_total_ = 0;
  std::string notes_adjust_;
  std::vector<Segment> segments_;
  std::vector<int64_t> weights_;
};

}  // namespace

bool IsKnownRegister(std::string_view name) { return RegIndex(name) >= 0; }

Result<RatedBill> Rate(const RatingInput& in, const TariffCatalogue& catalogue) {
  return Rater(in, catalogue).Run();
}

Decimal PowerFactor(Energy active, Energy reactive) {
  i128 p = active.dwh() < 0 ? -static_cast<i128>(active.dwh()) : active.dwh();
  i128 q = reactive.dwh() < 0 ? -static_cast<i128>(reactive.dwh()) : reactive.dwh();
  i128 p2 = p * p, s2 = p * p + q * q;
  if (s2 == 0) return Decimal{100, 2};
  // The largest k (hundredths) with PF rounded ≥ k/100 ⇔ 40000·P² ≥ (2k − 1)²·(P² + Q²).
  int lo = 0, hi = 100;
  while (lo < hi) {
    int k = (lo + hi + 1) / 2;
    i128 lhs = 40000 * p2;
    i128 f = 2 * k - 1;
    if (lhs >= f * f * s2) {
      lo = k;
    } else {
      hi = k - 1;
    }
  }
  return Decimal{lo, 2};
}

Result<Decimal> PowerFactorAdjustment(Decimal pf, std::string_view standard) {
  ASSIGN_OR_RETURN(Decimal p2, pf.Rescale(2));
  int64_t h = p2.mantissa;  // hundredths
  if (h < 0 || h > 100) return InvalidArgument("power factor " + pf.ToString() + " is not 0..1");
  // Result in hundredths of a percent (1 = 0.01 %), then a fraction with 4 decimals.
  int64_t bp = 0;
  if (standard == "0.90") {
    if (h >= 95) {
      bp = -75;
    } else if (h >= 90) {
      bp = -15 * (h - 90);
    } else if (h >= 70) {
      bp = 50 * (90 - h);
    } else if (h >= 65) {
      bp = 1000 + 100 * (70 - h);
    } else {
      bp = 1500 + 200 * (65 - h);
    }
  } else if (standard == "0.85") {
    if (h >= 94) {
      bp = -110;
    } else if (h >= 91) {
      bp = -50 - 15 * (h - 90);
    } else if (h >= 85) {
      bp = -10 * (h - 85);
    } else if (h >= 65) {
      bp = 50 * (85 - h);
    } else if (h >= 60) {
      bp = 1000 + 100 * (65 - h);
    } else {
      bp = 1500 + 200 * (60 - h);
    }
  } else if (standard == "0.80") {
    if (h >= 92) {
      bp = -130;
    } else if (h >= 91) {
      bp = -115;
    } else if (h >= 80) {
      bp = -10 * (h - 80);
    } else if (h >= 60) {
      bp = 50 * (80 - h);
    } else if (h >= 55) {
      bp = 1000 + 100 * (60 - h);
    } else {
      bp = 1500 + 200 * (55 - h);
    }
  } else {
    return InvalidArgument(
        "power factor standard '" + std::string(standard) + "' is not 0.90, 0.85 or 0.80",
        "pf_standard");
  }
  // bp hundredths of a percent = bp / 10000 as a fraction.
  return Decimal{bp, 4};
}

Result<Energy> RegisterDifference(Energy start, Energy end, int integer_digits,
                                  std::string_view what) {
  if (start.dwh() < 0 || end.dwh() < 0) {
    return InvalidArgument(std::string(what) + ": readings must not be negative");
  }
  if (end >= start) return end - start;
  if (integer_digits <= 0) {
    return InvalidArgument(std::string(what) + ": reading " + ReadingText(end) +
                           " below previous " + ReadingText(start) +
                           " and the register's digit count is unknown, so it cannot be a "
                           "rollover (tariffs.md §0.3 rule 8)");
  }
  if (integer_digits > 12) {
    return InvalidArgument(std::string(what) + ": register_integer_digits must be at most 12");
  }
  int64_t range = static_cast<int64_t>(P10(integer_digits)) * kDwhPerKwh;
  if (start.dwh() >= range) {
    return InvalidArgument(std::string(what) + ": previous reading " + ReadingText(start) +
                           " does not fit a register of " + std::to_string(integer_digits) +
                           " integer digits");
  }
  int64_t diff = range - start.dwh() + end.dwh();
  if (diff * 10 >= range) {
    return InvalidArgument(std::string(what) + ": reading " + ReadingText(end) +
                           " below previous " + ReadingText(start) +
                           "; as a rollover it would "
                           "be " +
                           Energy::FromDwh(diff).ToKwhString(2) +
                           " kWh, 10% of the register range or more: refused (meter reversal or "
                           "replacement? tariffs.md §0.3 rule 8)");
  }
  return Energy::FromDwh(diff);
}

}  // namespace gridmis::rating
