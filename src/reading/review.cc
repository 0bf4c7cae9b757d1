#include "reading/review.h"

#include <algorithm>
#include <set>

#include "core/decimal.h"

namespace gridmis::reading {

namespace {

const std::vector<std::string> kRegisters = {
    "total",           "sharp",           "peak",      "flat", "valley", "export",
    "reactive_import", "reactive_export", "max_demand"};

const std::vector<std::string> kRules = {
    "zero_use",        "above_last_month",   "below_last_month",   "above_last_year",
    "below_last_year", "below_previous",     "meter_replaced",     "estimated",
    "tou_mismatch",    "multiplier_changed", "previous_unreviewed"};

bool IsCumulative(std::string_view r) { return r != "max_demand"; }

// 10^digits kWh in dWh; 0 when unknown or out of range.
int64_t RegisterRange(int digits) {
  if (digits <= 0 || digits > 12) return 0;
  int64_t range = Energy::kDwhPerKwh;
  for (int i = 0; i < digits; ++i) range *= 10;
  return range;
}

std::string Kwh(int64_t dwh) { return FormatKwh(Energy::FromDwh(dwh)); }

// dwh per day, rounded half up, formatted as kWh.
std::string PerDay(Energy e, int64_t days) {
  if (days <= 0) return "?";
  auto q = DivRoundHalfUp(e.dwh(), days);
  return q.ok() ? Kwh(*q) : "?";
}

std::string ReadLabel(const PastRead& r) {
  return "read #" + std::to_string(r.id) + " " + r.read_date.ToString();
}

}  // namespace

const std::vector<std::string>& ReadRegisterNames() { return kRegisters; }
const std::vector<std::string>& ReviewRuleNames() { return kRules; }

bool IsTouRegister(std::string_view name) {
  return name == "sharp" || name == "peak" || name == "flat" || name == "valley";
}

bool IsKnownRegister(std::string_view name) {
  return std::find(kRegisters.begin(), kRegisters.end(), name) != kRegisters.end();
}

std::string FormatKwh(Energy e) {
  std::string s = e.ToKwhString(4);
  size_t dot = s.find('.');
  while (s.size() > dot + 3 && s.back() == '0') s.pop_back();
  return s;
}

int64_t DayKey(Date d) { return int64_t{d.year} * 10000 + d.month * 100 + d.day; }
Date DayFromKey(int64_t key) {
  return Date{static_cast<int>(key / 10000), static_cast<int>(key / 100 % 100),
              static_cast<int>(key % 100)};
}
int64_t PeriodKey(YearMonth p) { return int64_t{p.year} * 100 + p.month; }
YearMonth PeriodFromKey(int64_t key) {
  return YearMonth{static_cast<int>(key / 100), static_cast<int>(key % 100)};
}
YearMonth AddMonths(YearMonth p, int months) {
  int total = p.year * 12 + (p.month - 1) + months;
  return YearMonth{total / 12, total % 12 + 1};
}

Status CheckReviewRules(const ReviewRules& r) {
  auto pct = [](int64_t v, const char* field) -> Status {
    if (v < 0 || v > 100'000) {
      return InvalidArgument(std::string(field) + " must be a percentage from 0 to 100000", field);
    }
    return Status::Ok();
  };
  RETURN_IF_ERROR(pct(r.above_last_month_pct, "above_last_month_pct"));
  RETURN_IF_ERROR(pct(r.below_last_month_pct, "below_last_month_pct"));
  RETURN_IF_ERROR(pct(r.above_last_year_pct, "above_last_year_pct"));
  RETURN_IF_ERROR(pct(r.below_last_year_pct, "below_last_year_pct"));
  if (r.below_last_month_pct > r.above_last_month_pct) {
    return InvalidArgument("below_last_month_pct must not exceed above_last_month_pct",
                           "below_last_month_pct");
  }
  if (r.below_last_year_pct > r.above_last_year_pct) {
    return InvalidArgument("below_last_year_pct must not exceed above_last_year_pct",
                           "below_last_year_pct");
  }
  if (r.min_compare_use.dwh() < 0 || r.min_compare_use > Energy::FromKwh(1'000'000'000)) {
    return InvalidArgument("min_compare_kwh must be between 0 and 1000000000", "min_compare_kwh");
  }
  if (r.tou_tolerance.dwh() < 0 || r.tou_tolerance > Energy::FromKwh(1'000'000)) {
    return InvalidArgument("tou_tolerance_kwh must be between 0 and 1000000", "tou_tolerance_kwh");
  }
  if (r.estimate_method != "recent" && r.estimate_method != "last_year") {
    return InvalidArgument("estimate_method must be recent or last_year", "estimate_method");
  }
  if (r.estimate_periods < 1 || r.estimate_periods > 12) {
    return InvalidArgument("estimate_periods must be from 1 to 12", "estimate_periods");
  }
  return Status::Ok();
}

int64_t EndOfDay(const TimeZone& zone, Date day) { return zone.StartOfDay(day.AddDays(1)); }

const MeterInstall* InstallAt(const std::vector<MeterInstall>& installs, int64_t instant_us) {
  const MeterInstall* found = nullptr;
  for (const auto& i : installs) {
    if (i.installed_at_us < instant_us && (!i.removed_at_us || *i.removed_at_us >= instant_us)) {
      found = &i;
    }
  }
  return found;
}

std::optional<Energy> RegisterDifference(Energy start, Energy end, int digits, bool* rolled_over) {
  if (rolled_over) *rolled_over = false;
  if (end >= start) return end - start;
  int64_t range = RegisterRange(digits);
  if (range == 0 || start.dwh() >= range || end.dwh() >= range) return std::nullopt;
  int64_t diff = range - start.dwh() + end.dwh();
  if (diff * 10 >= range) return std::nullopt;  // not under 10 % of the range
  if (rolled_over) *rolled_over = true;
  return Energy::FromDwh(diff);
}

Result<std::vector<BillableSpan>> BuildSpans(const std::vector<MeterInstall>& installs,
                                             const PastRead* previous, Date read_date,
                                             const Registers& end, const std::string& end_source,
                                             const TimeZone& zone, Date* first_day) {
  const int64_t end_instant = EndOfDay(zone, read_date);
  const MeterInstall* last = InstallAt(installs, end_instant);
  if (!last) {
    return InvalidArgument("no meter was installed at the end of " + read_date.ToString(),
                           "read_date");
  }
  std::vector<const MeterInstall*> chain;
  if (previous) {
    const int64_t start_instant = EndOfDay(zone, previous->read_date);
    for (const auto& i : installs) {
      if (i.installed_at_us < end_instant &&
          (!i.removed_at_us || *i.removed_at_us > start_instant)) {
        chain.push_back(&i);
      }
    }
    if (chain.empty() || chain.back() != last) {
      return InvalidArgument("the installation history does not lead from " + ReadLabel(*previous) +
                                 " to the meter read on " + read_date.ToString(),
                             "read_date");
    }
    if (chain.front()->id != previous->installation_id &&
        chain.front()->installed_at_us < start_instant) {
      return InvalidArgument(ReadLabel(*previous) + " was taken on installation " +
                                 std::to_string(previous->installation_id) + ", but meter " +
                                 chain.front()->meter_asset_no + " was installed then",
                             "read_date");
    }
    *first_day = previous->read_date.AddDays(1);
  } else {
    // No approved read before: from the installation, back through same-instant replacements.
    chain.push_back(last);
    while (chain.front()->install_reason == "replacement") {
      const MeterInstall* before = nullptr;
      for (const auto& i : installs) {
        if (i.removed_at_us && *i.removed_at_us == chain.front()->installed_at_us &&
            i.id != chain.front()->id) {
          before = &i;
        }
      }
      if (!before || std::find(chain.begin(), chain.end(), before) != chain.end()) break;
      chain.insert(chain.begin(), before);
    }
    *first_day = zone.LocalDate(chain.front()->installed_at_us);
  }
  std::vector<BillableSpan> spans;
  for (size_t k = 0; k < chain.size(); ++k) {
    const MeterInstall& i = *chain[k];
    BillableSpan s;
    s.installation_id = i.id;
    s.meter_asset_no = i.meter_asset_no;
    s.multiplier = i.multiplier;
    s.register_integer_digits = i.register_integer_digits;
    if (k == 0 && previous && previous->installation_id == i.id) {
      s.start = previous->registers;
      s.start_source = ReadLabel(*previous);
    } else {
      s.start = i.install_readings;
      s.start_source = "install " + zone.LocalDate(i.installed_at_us).ToString();
    }
    if (k + 1 == chain.size()) {
      s.end = end;
      s.end_source = end_source;
    } else {
      if (!i.removed_at_us || i.remove_readings.empty()) {
        return InvalidArgument("meter " + i.meter_asset_no + " has no removal readings",
                               "read_date");
      }
      s.end = i.remove_readings;
      s.end_source = "remove " + zone.LocalDate(*i.removed_at_us).ToString();
    }
    spans.push_back(std::move(s));
  }
  return spans;
}

namespace {

Status CheckRegisters(const MeterInstall& meter, const Registers& regs) {
  for (const auto& [reg, value] : regs) {
    std::string field = "registers." + reg.substr(0, 40);
    if (!IsKnownRegister(reg)) {
      return InvalidArgument("unknown register '" + reg.substr(0, 40) +
                                 "'; registers are total, sharp, peak, flat, valley, export, "
                                 "reactive_import, reactive_export, max_demand",
                             field);
    }
    if (std::find(meter.registers.begin(), meter.registers.end(), reg) == meter.registers.end()) {
      std::string list;
      for (const auto& r : meter.registers) list += (list.empty() ? "" : ",") + r;
      return InvalidArgument("meter " + meter.meter_asset_no + " has no register " + reg +
                                 " (its registers: " + list + ")",
                             field);
    }
    if (value.dwh() < 0) return InvalidArgument(field + " must not be negative", field);
  }
  for (const auto& reg : meter.registers) {
    if (!regs.count(reg)) {
      std::string list;
      for (const auto& r : meter.registers) list += (list.empty() ? "" : ",") + r;
      return InvalidArgument("the reading of register " + reg + " of meter " +
                                 meter.meter_asset_no + " is missing (its registers: " + list + ")",
                             "registers." + reg);
    }
  }
  return Status::Ok();
}

// Percent of the base's daily use, rounded.
int64_t DailyPercent(Energy use, int64_t days, Energy base, int64_t base_days) {
  auto p = DivRoundHalfUp(int128{use.dwh()} * base_days * 100, int128{base.dwh()} * days);
  return p.ok() ? *p : 0;
}

void CompareUse(const std::string& what, const std::string& above_rule,
                const std::string& below_rule, int64_t above_pct, int64_t below_pct, Energy use,
                int64_t days, const PastRead& base, const ReviewRules& rules, bool zero,
                std::vector<Finding>* out) {
  if (!base.consumption || base.days <= 0 || *base.consumption < rules.min_compare_use ||
      base.consumption->dwh() <= 0 || days <= 0) {
    return;
  }
  int128 lhs = int128{use.dwh()} * base.days * 100;
  int128 rhs_base = int128{base.consumption->dwh()} * days;
  int64_t pct = DailyPercent(use, days, *base.consumption, base.days);
  std::string text = "average daily use " + PerDay(use, days) + " kWh over " +
                     std::to_string(days) + " days is " + std::to_string(pct) + "% of " + what +
                     "'s " + PerDay(*base.consumption, base.days) + " kWh (" + ReadLabel(base) +
                     ", period " + base.period.ToString() + ", " + std::to_string(base.days) +
                     " days)";
  if (lhs > rhs_base * above_pct) {
    out->push_back({above_rule, text + ", above the " + std::to_string(above_pct) + "% limit"});
  } else if (!zero && lhs < rhs_base * below_pct) {
    out->push_back({below_rule, text + ", below the " + std::to_string(below_pct) + "% limit"});
  }
}

}  // namespace

Result<Evaluation> Evaluate(const ReadCandidate& read, const PointHistory& history,
                            const ReviewRules& rules, const TimeZone& zone, Date today) {
  if (read.read_date > today) {
    return InvalidArgument("read date " + read.read_date.ToString() +
                               " is in the future (today is " + today.ToString() + ")",
                           "read_date");
  }
  if (read.read_date < read.period.FirstDay().AddDays(-15) ||
      read.read_date > read.period.LastDay().AddDays(15)) {
    return InvalidArgument("read date " + read.read_date.ToString() + " is too far from period " +
                               read.period.ToString() +
                               " (at most 15 days before or after the month)",
                           "read_date");
  }
  const PastRead* previous = history.previous ? &*history.previous : nullptr;
  if (previous && read.read_date <= previous->read_date) {
    return InvalidArgument("read date " + read.read_date.ToString() +
                               " is not after the previous approved " + ReadLabel(*previous) +
                               " of period " + previous->period.ToString(),
                           "read_date");
  }
  const MeterInstall* meter = InstallAt(history.installs, EndOfDay(zone, read.read_date));
  if (!meter) {
    return InvalidArgument("no meter was installed at the end of " + read.read_date.ToString(),
                           "read_date");
  }
  RETURN_IF_ERROR(CheckRegisters(*meter, read.registers));

  Evaluation ev;
  ev.installation_id = meter->id;
  ev.multiplier = meter->multiplier;
  ev.meter_asset_no = meter->meter_asset_no;
  ASSIGN_OR_RETURN(ev.spans, BuildSpans(history.installs, previous, read.read_date, read.registers,
                                        "read " + read.read_date.ToString(), zone, &ev.first_day));
  ev.days = read.read_date.ToDays() - ev.first_day.ToDays() + 1;

  // Register differences per span; rollover; TOU against total.
  bool known = true;
  int64_t total_energy = 0;
  bool tou_reported = false;
  std::set<std::string> rolled;
  for (const auto& s : ev.spans) {
    std::map<std::string, Energy> diff;
    for (const auto& [reg, end_value] : s.end) {
      if (!IsCumulative(reg)) continue;
      auto start = s.start.find(reg);
      if (start == s.start.end()) continue;
      bool rolled_over = false;
      auto d =
          RegisterDifference(start->second, end_value, s.register_integer_digits, &rolled_over);
      if (!d) {
        ev.refused = true;
        int64_t range = RegisterRange(s.register_integer_digits);
        std::string why =
            range == 0
                ? "the meter's register digits are unknown, so it cannot be taken as a rollover"
                : "as a rollover it would mean " +
                      Kwh(range - start->second.dwh() + end_value.dwh()) +
                      " kWh, not under 10% of the register range " + Kwh(range) + " kWh";
        ev.findings.push_back(
            {"below_previous", "register " + reg + " of meter " + s.meter_asset_no + ": " +
                                   FormatKwh(end_value) + " (" + s.end_source + ") is below " +
                                   FormatKwh(start->second) + " (" + s.start_source + "); " + why});
        if (reg == "total") known = false;
        continue;
      }
      if (rolled_over) rolled.insert(reg);
      diff[reg] = *d;
    }
    bool has_total = s.end.count("total") > 0;
    int tou_count = 0;
    int64_t tou_sum = 0;
    bool tou_known = true;
    for (const auto& [reg, v] : s.end) {
      if (!IsTouRegister(reg)) continue;
      ++tou_count;
      auto d = diff.find(reg);
      if (d == diff.end()) {
        tou_known = false;
      } else {
        tou_sum += d->second.dwh();
      }
    }
    if (has_total) {
      auto t = diff.find("total");
      if (t == diff.end()) {
        known = false;
      } else {
        total_energy += t->second.dwh() * s.multiplier;
        if (tou_count > 0 && tou_known && !tou_reported) {
          int64_t gap = tou_sum - t->second.dwh();
          int64_t tolerance = rules.tou_tolerance.dwh() * tou_count;
          if (gap > tolerance || -gap > tolerance) {
            tou_reported = true;
            ev.findings.push_back(
                {"tou_mismatch", "meter " + s.meter_asset_no + " (" + s.start_source + " to " +
                                     s.end_source + "): the TOU registers add up to " +
                                     Kwh(tou_sum) + " kWh but the total register shows " +
                                     FormatKwh(t->second) + " kWh (difference " + Kwh(gap) +
                                     " kWh, tolerance " + Kwh(tolerance) + " kWh)"});
          }
        }
      }
    } else if (tou_count > 0 && tou_known) {
      total_energy += tou_sum * s.multiplier;
    } else {
      known = false;
    }
  }
  ev.rollover.assign(rolled.begin(), rolled.end());
  if (known) ev.consumption = Energy::FromDwh(total_energy);

  if (ev.spans.size() > 1) {
    std::string text;
    for (size_t k = 1; k < ev.spans.size(); ++k) {
      text += (text.empty() ? "" : "; ") + std::string("meter ") + ev.spans[k - 1].meter_asset_no +
              " replaced by " + ev.spans[k].meter_asset_no + " (" + ev.spans[k].start_source + ")";
    }
    ev.findings.push_back({"meter_replaced", text + " in the period"});
  }
  if (ev.consumption) {
    bool zero = ev.consumption->dwh() == 0;
    if (zero && rules.flag_zero_use) {
      ev.findings.push_back({"zero_use", "no use over " + std::to_string(ev.days) + " days since " +
                                             ev.spans.front().start_source});
    }
    if (previous) {
      CompareUse("last month", "above_last_month", "below_last_month", rules.above_last_month_pct,
                 rules.below_last_month_pct, *ev.consumption, ev.days, *previous, rules, zero,
                 &ev.findings);
    }
    if (history.last_year) {
      CompareUse("the same month last year", "above_last_year", "below_last_year",
                 rules.above_last_year_pct, rules.below_last_year_pct, *ev.consumption, ev.days,
                 *history.last_year, rules, zero, &ev.findings);
    }
  }
  if (read.source == "estimate") {
    ev.findings.push_back({"estimated", read.estimate_basis.empty()
                                            ? "estimated read"
                                            : "estimated: " + read.estimate_basis});
  }
  if (read.frozen_multiplier && *read.frozen_multiplier != meter->multiplier) {
    ev.findings.push_back({"multiplier_changed", "the frozen data carries multiplier " +
                                                     std::to_string(*read.frozen_multiplier) +
                                                     " but meter " + meter->meter_asset_no +
                                                     " is installed with multiplier " +
                                                     std::to_string(meter->multiplier)});
  }
  if (history.earlier_unreviewed) {
    ev.findings.push_back(
        {"previous_unreviewed", "a read of an earlier period still waits in the review queue"});
  }
  return ev;
}

Result<Registers> EstimateRegisters(const PointHistory& history, const ReviewRules& rules,
                                    Date read_date, const TimeZone& zone, std::string* basis) {
  const MeterInstall* meter = InstallAt(history.installs, EndOfDay(zone, read_date));
  if (!meter) {
    return FailedPrecondition("no meter was installed at the end of " + read_date.ToString());
  }
  const PastRead* previous = history.previous ? &*history.previous : nullptr;
  Registers start;
  int64_t days = 0;
  std::string since;
  if (previous && previous->installation_id == meter->id) {
    start = previous->registers;
    days = read_date.ToDays() - previous->read_date.ToDays();
    since = ReadLabel(*previous);
  } else {
    start = meter->install_readings;
    Date installed = zone.LocalDate(meter->installed_at_us);
    days = read_date.ToDays() - installed.ToDays() + 1;
    since = "installation of meter " + meter->meter_asset_no + " on " + installed.ToString();
  }
  if (days < 0) days = 0;

  // Average daily use.
  auto recent = [&](int64_t* use, int64_t* d, int* n) {
    for (const auto& r : history.recent) {
      if (*n >= rules.estimate_periods) break;
      if (r.source == "estimate" || !r.consumption || r.days <= 0) continue;
      *use += r.consumption->dwh();
      *d += r.days;
      ++*n;
    }
  };
  int64_t base_use = 0, base_days = 0;
  int periods = 0;
  std::string from;
  auto try_recent = [&] {
    recent(&base_use, &base_days, &periods);
    if (base_days > 0) {
      from = "the last " + std::to_string(periods) + " approved period" +
             (periods == 1 ? "" : "s") + " (" + std::to_string(base_days) + " days)";
      return true;
    }
    return false;
  };
  auto try_last_year = [&] {
    const auto& ly = history.last_year;
    if (ly && ly->source != "estimate" && ly->consumption && ly->days > 0) {
      base_use = ly->consumption->dwh();
      base_days = ly->days;
      from = "the same month last year (period " + ly->period.ToString() + ", " +
             std::to_string(ly->days) + " days)";
      return true;
    }
    return false;
  };
  bool have = rules.estimate_method == "last_year" ? (try_last_year() || try_recent())
                                                   : (try_recent() || try_last_year());
  int64_t energy = 0;
  if (have) {
    ASSIGN_OR_RETURN(energy, DivRoundHalfUp(int128{base_use} * days, base_days));
    *basis = "average daily use " + PerDay(Energy::FromDwh(base_use), base_days) + " kWh of " +
             from + " × " + std::to_string(days) + " days since " + since + " = " + Kwh(energy) +
             " kWh";
  } else {
    *basis = "no approved history to estimate from: zero use since " + since;
  }
  ASSIGN_OR_RETURN(int64_t delta_base, DivRoundHalfUp(energy, meter->multiplier));

  bool has_total = std::find(meter->registers.begin(), meter->registers.end(), "total") !=
                   meter->registers.end();
  int64_t base_start = 0;
  if (has_total) {
    base_start = start.count("total") ? start["total"].dwh() : 0;
  } else {
    for (const auto& r : meter->registers) {
      if (IsTouRegister(r) && start.count(r)) base_start += start[r].dwh();
    }
  }
  std::map<std::string, int64_t> delta;
  for (const auto& r : meter->registers) {
    if (!IsCumulative(r)) continue;
    if (r == "total") {
      delta[r] = delta_base;
    } else if (base_start > 0 && start.count(r)) {
      ASSIGN_OR_RETURN(delta[r], DivRoundHalfUp(int128{delta_base} * start[r].dwh(), base_start));
    } else {
      delta[r] = 0;
    }
  }
  // The TOU registers add up to the total: the rounding remainder goes to flat (or the last TOU
  // register the meter has).
  std::string sink;
  int64_t tou_sum = 0;
  for (const auto& r : meter->registers) {
    if (!IsTouRegister(r)) continue;
    tou_sum += delta[r];
    if (sink != "flat") sink = r;
  }
  if (!sink.empty()) delta[sink] += delta_base - tou_sum;

  Registers out;
  int64_t range = RegisterRange(meter->register_integer_digits);
  for (const auto& r : meter->registers) {
    int64_t s = start.count(r) ? start[r].dwh() : 0;
    if (!IsCumulative(r)) {
      out[r] = Energy::FromDwh(s);
      continue;
    }
    int64_t v = s + delta[r];
    if (range > 0 && v >= range) v -= range;
    out[r] = Energy::FromDwh(v);
  }
  return out;
}

}  // namespace gridmis::reading
