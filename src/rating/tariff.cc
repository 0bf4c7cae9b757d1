#include "rating/tariff.h"

#include <toml++/toml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "rating/internal/embedded.h"

namespace gridmis::rating {

namespace {

constexpr std::string_view kCategoryNames[] = {"residential", "commercial", "large_industry",
                                               "agricultural", "other"};
constexpr std::string_view kCategoryNamesZh[] = {"居民生活", "一般工商业", "大工业", "农业生产",
                                                 "其他"};
constexpr std::string_view kPeriodNames[] = {"sharp", "peak", "flat", "valley", "deep_valley"};
constexpr std::string_view kPeriodNamesZh[] = {"尖峰", "高峰", "平段", "低谷", "深谷"};
constexpr std::string_view kVoltages[] = {"lv", "10kv", "20kv", "35kv", "110kv", "220kv"};

}  // namespace

std::string_view CategoryName(TariffCategory c) { return kCategoryNames[static_cast<int>(c)]; }
std::string_view CategoryNameZh(TariffCategory c) { return kCategoryNamesZh[static_cast<int>(c)]; }
std::optional<TariffCategory> ParseCategory(std::string_view name) {
  for (int i = 0; i < 5; ++i) {
    if (kCategoryNames[i] == name) return static_cast<TariffCategory>(i);
  }
  return std::nullopt;
}

std::string_view TouPeriodName(TouPeriod p) { return kPeriodNames[static_cast<int>(p)]; }
std::string_view TouPeriodNameZh(TouPeriod p) { return kPeriodNamesZh[static_cast<int>(p)]; }
std::optional<TouPeriod> ParseTouPeriod(std::string_view name) {
  for (int i = 0; i < kTouPeriodCount; ++i) {
    if (kPeriodNames[i] == name) return static_cast<TouPeriod>(i);
  }
  return std::nullopt;
}

std::string_view VerificationName(Verification v) {
  switch (v) {
    case Verification::kVerified:
      return "V";
    case Verification::kThirdParty:
      return "T";
    case Verification::kMemory:
      return "M";
    case Verification::kIllustrative:
      return "I";
  }
  return "M";
}

std::string_view TierProrationName(TierProration p) {
  switch (p) {
    case TierProration::kMonths:
      return "months";
    case TierProration::kDays:
      return "days";
    case TierProration::kNone:
      return "none";
  }
  return "months";
}

std::string_view DemandOverageName(DemandOverage d) {
  return d == DemandOverage::kStandard ? "standard" : "alternative";
}

std::vector<int> MonthSet::Months() const {
  std::vector<int> out;
  for (int m = 1; m <= 12; ++m) {
    if (Has(m)) out.push_back(m);
  }
  return out;
}

const TierSchedule::Bounds& TierSchedule::BoundsFor(int month) const {
  for (const auto& b : bounds) {
    if (b.months.Has(month)) return b;
  }
  return bounds.front();  // validated to cover every month
}

const SeasonPrices* TariffVersion::SeasonFor(int month) const {
  for (const auto& s : seasons) {
    if (s.months.Has(month)) return &s;
  }
  return nullptr;
}

std::optional<Price> TariffVersion::PeriodPrice(TouPeriod period, int month) const {
  if (pricing == EnergyPricing::kFlat) return flat_price;
  const SeasonPrices* s = SeasonFor(month);
  if (s == nullptr) return std::nullopt;
  return s->price[static_cast<int>(period)];
}

Verification TariffVersion::LabelOf(std::string_view figure) const {
  auto it = labels.find(std::string(figure));
  return it == labels.end() ? label : it->second;
}

bool Fund::AppliesTo(TariffCategory c, Date day) const {
  if (day < effective_from || (effective_to && *effective_to < day)) return false;
  return std::find(exempt.begin(), exempt.end(), c) == exempt.end();
}

TouPeriod TouTable::PeriodAt(int month, int minute_of_day) const {
  for (const auto& s : seasons) {
    if (!s.months.Has(month)) continue;
    for (const auto& r : s.ranges) {
      if (minute_of_day >= r.from_minute && minute_of_day < r.to_minute) return r.period;
    }
  }
  return TouPeriod::kFlat;
}

const LossTable::Row& LossTable::RowFor(Decimal load_ratio) const {
  for (const auto& r : rows) {
    if (!(r.load_ratio < load_ratio)) return r;
  }
  return rows.back();
}

// ---------------------------------------------------------------------------------------------
// Parsing

namespace {

// Reads one TOML table with a path for errors and a record of the keys used, so that unknown
// keys are reported. The first error wins; later reads return defaults.
class Reader {
 public:
  Reader(const std::string& file, Status* error) : file_(file), error_(error) {}

  Status* error() { return error_; }
  bool failed() const { return !error_->ok(); }

  void Fail(const toml::node* n, const std::string& path, const std::string& why) {
    if (!error_->ok()) return;
    std::string where = file_;
    if (n != nullptr && n->source().begin.line > 0) {
      where += ":" + std::to_string(n->source().begin.line);
    }
    *error_ = InvalidArgument(where + ": " + path + ": " + why, path);
  }

 private:
  const std::string& file_;
  Status* error_;
};

class Table {
 public:
  Table(Reader& r, const toml::table& t, std::string path) : r_(r), t_(t), path_(std::move(path)) {}

  std::string Key(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }
  const toml::node* Get(std::string_view key) {
    used_.insert(std::string(key));
    return t_.get(key);
  }
  bool Has(std::string_view key) const { return t_.contains(key); }
  void Fail(std::string_view key, const std::string& why) { r_.Fail(t_.get(key), Key(key), why); }
  void FailHere(const std::string& why) { r_.Fail(&t_, path_.empty() ? "(top)" : path_, why); }

  std::optional<std::string> Str(std::string_view key, bool required) {
    const toml::node* n = Get(key);
    if (n == nullptr) {
      if (required) r_.Fail(&t_, Key(key), "is required");
      return std::nullopt;
    }
    if (!n->is_string()) {
      r_.Fail(n, Key(key), "must be a string");
      return std::nullopt;
    }
    return n->as_string()->get();
  }
  std::optional<int64_t> Int(std::string_view key, bool required, int64_t min, int64_t max) {
    const toml::node* n = Get(key);
    if (n == nullptr) {
      if (required) r_.Fail(&t_, Key(key), "is required");
      return std::nullopt;
    }
    if (!n->is_integer()) {
      r_.Fail(n, Key(key), "must be an integer");
      return std::nullopt;
    }
    int64_t v = n->as_integer()->get();
    if (v < min || v > max) {
      r_.Fail(n, Key(key),
              "must be between " + std::to_string(min) + " and " + std::to_string(max));
      return std::nullopt;
    }
    return v;
  }
  std::optional<bool> Bool(std::string_view key) {
    const toml::node* n = Get(key);
    if (n == nullptr) return std::nullopt;
    if (!n->is_boolean()) {
      r_.Fail(n, Key(key), "must be true or false");
      return std::nullopt;
    }
    return n->as_boolean()->get();
  }
  // A decimal written as a string ("0.538"): TOML floats are binary and refused.
  std::optional<Decimal> Dec(std::string_view key, bool required, int max_scale = 8) {
    const toml::node* n = Get(key);
    if (n == nullptr) {
      if (required) r_.Fail(&t_, Key(key), "is required");
      return std::nullopt;
    }
    return DecOf(n, Key(key), max_scale);
  }
  std::optional<Decimal> DecOf(const toml::node* n, const std::string& path, int max_scale = 8) {
    if (n->is_floating_point()) {
      r_.Fail(n, path, "must be a decimal written as a string, e.g. \"0.5380\" (not a float)");
      return std::nullopt;
    }
    if (n->is_integer()) return Decimal{n->as_integer()->get(), 0};
    if (!n->is_string()) {
      r_.Fail(n, path, "must be a decimal written as a string");
      return std::nullopt;
    }
    auto d = Decimal::Parse(n->as_string()->get(), max_scale, "value");
    if (!d.ok()) {
      r_.Fail(n, path, d.status().message());
      return std::nullopt;
    }
    return *d;
  }
  std::optional<Price> PriceOf(const toml::node* n, const std::string& path) {
    auto d = DecOf(n, path, Price::kScale);
    if (!d) return std::nullopt;
    if (d->mantissa < 0) {
      r_.Fail(n, path, "must not be negative");
      return std::nullopt;
    }
    auto s = d->Rescale(Price::kScale);
    if (!s.ok()) {
      r_.Fail(n, path, "is too large");
      return std::nullopt;
    }
    return Price::FromNanoYuanX10(s->mantissa);
  }
  std::optional<Price> PriceAt(std::string_view key, bool required) {
    const toml::node* n = Get(key);
    if (n == nullptr) {
      if (required) r_.Fail(&t_, Key(key), "is required");
      return std::nullopt;
    }
    return PriceOf(n, Key(key));
  }
  std::optional<Date> DateAt(std::string_view key, bool required) {
    auto s = Str(key, required);
    if (!s) return std::nullopt;
    auto d = Date::Parse(*s, "date");
    if (!d.ok()) {
      Fail(key, "must be a date YYYY-MM-DD");
      return std::nullopt;
    }
    return *d;
  }
  std::optional<Verification> Label(std::string_view key, bool required) {
    auto s = Str(key, required);
    if (!s) return std::nullopt;
    return LabelOf(*s, t_.get(key), Key(key));
  }
  std::optional<Verification> LabelOf(const std::string& s, const toml::node* n,
                                      const std::string& path) {
    if (s == "V") return Verification::kVerified;
    if (s == "T") return Verification::kThirdParty;
    if (s == "M") return Verification::kMemory;
    if (s == "I") return Verification::kIllustrative;
    r_.Fail(n, path, "must be one of V, T, M, I (tariffs.md §0.1; I = illustrative)");
    return std::nullopt;
  }
  std::optional<MonthSet> Months(std::string_view key, bool required) {
    const toml::node* n = Get(key);
    if (n == nullptr) {
      if (required) r_.Fail(&t_, Key(key), "is required");
      return std::nullopt;
    }
    const toml::array* a = n->as_array();
    if (a == nullptr || a->empty()) {
      r_.Fail(n, Key(key), "must be a non-empty array of months 1..12");
      return std::nullopt;
    }
    MonthSet m;
    for (size_t i = 0; i < a->size(); ++i) {
      const toml::node* e = a->get(i);
      if (!e->is_integer() || e->as_integer()->get() < 1 || e->as_integer()->get() > 12) {
        r_.Fail(e, Key(key) + "[" + std::to_string(i) + "]", "must be a month 1..12");
        return std::nullopt;
      }
      int mo = static_cast<int>(e->as_integer()->get());
      if (m.Has(mo)) {
        r_.Fail(e, Key(key), "lists month " + std::to_string(mo) + " twice");
        return std::nullopt;
      }
      m.bits |= static_cast<uint16_t>(1u << (mo - 1));
    }
    return m;
  }
  std::vector<std::string> StrList(std::string_view key) {
    std::vector<std::string> out;
    const toml::node* n = Get(key);
    if (n == nullptr) return out;
    const toml::array* a = n->as_array();
    if (a == nullptr) {
      r_.Fail(n, Key(key), "must be an array of strings");
      return out;
    }
    for (size_t i = 0; i < a->size(); ++i) {
      const toml::node* e = a->get(i);
      if (!e->is_string()) {
        r_.Fail(e, Key(key) + "[" + std::to_string(i) + "]", "must be a string");
        return out;
      }
      out.push_back(e->as_string()->get());
    }
    return out;
  }
  const toml::table* SubTable(std::string_view key, bool required) {
    const toml::node* n = Get(key);
    if (n == nullptr) {
      if (required) r_.Fail(&t_, Key(key), "is required");
      return nullptr;
    }
    if (!n->is_table()) {
      r_.Fail(n, Key(key), "must be a table");
      return nullptr;
    }
    return n->as_table();
  }
  const toml::array* Array(std::string_view key, bool required) {
    const toml::node* n = Get(key);
    if (n == nullptr) {
      if (required) r_.Fail(&t_, Key(key), "is required");
      return nullptr;
    }
    if (!n->is_array()) {
      r_.Fail(n, Key(key), "must be an array");
      return nullptr;
    }
    return n->as_array();
  }
  // Reports the first key that was never read.
  void Finish() {
    for (const auto& [k, v] : t_) {
      if (!used_.count(std::string(k.str()))) {
        r_.Fail(&v, Key(k.str()), "unknown key");
        return;
      }
    }
  }
  const toml::table& table() const { return t_; }
  const std::string& path() const { return path_; }

 private:
  Reader& r_;
  const toml::table& t_;
  std::string path_;
  std::set<std::string> used_;
};

// "08:00" → 480; "24:00" → 1440.
std::optional<int> ParseHhMm(std::string_view s) {
  if (s.size() != 5 || s[2] != ':') return std::nullopt;
  for (int i : {0, 1, 3, 4}) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
  }
  int h = (s[0] - '0') * 10 + (s[1] - '0');
  int m = (s[3] - '0') * 10 + (s[4] - '0');
  if (m > 59 || h > 24 || (h == 24 && m != 0)) return std::nullopt;
  return h * 60 + m;
}

Result<Price> MultiplyPrice(Price p, Decimal ratio, int decimals) {
  ASSIGN_OR_RETURN(Decimal v, Decimal::Multiply(Decimal{p.raw(), Price::kScale}, ratio, decimals));
  ASSIGN_OR_RETURN(Decimal s, v.Rescale(Price::kScale));
  return Price::FromNanoYuanX10(s.mantissa);
}

std::string FormatDecimal(Decimal d) {
  std::string s = d.ToString();
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

const std::set<std::string_view> kFigureKeys = {
    "price",        "tou_base",         "tou_ratios",     "tou_prices",   "tiers.bounds",
    "tiers.prices", "tiers.increments", "capacity_price", "demand_price", "funds_included"};

}  // namespace

// Builds a catalogue from parsed files (a friend of TariffCatalogue).
class CatalogueBuilder {
 public:
  explicit CatalogueBuilder(TariffCatalogue* c) : c_(c) {}

  Status AddFile(const std::string& file, std::string_view text) {
    toml::table root;
    try {
      root = toml::parse(text, file);
    } catch (const toml::parse_error& e) {
      std::ostringstream msg;
      msg << file << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
          << e.description();
      return InvalidArgument(msg.str());
    }
    Status err;
    Reader r(file, &err);
    Table top(r, root, "");
    auto province = top.Str("province", true);
    auto name = top.Str("name", true);
    auto note = top.Str("note", false);
    if (province && !c_->province_.empty() && *province != c_->province_) {
      top.Fail("province", "is '" + *province + "' but an earlier file is '" + c_->province_ +
                               "': one catalogue per province");
    }
    if (r.failed()) return err;
    c_->province_ = *province;
    if (c_->name_.empty()) c_->name_ = *name;
    if (note) c_->note_ += (c_->note_.empty() ? "" : "\n") + *note;
    c_->files_.push_back(file);

    if (const toml::table* s = top.SubTable("sources", false)) ReadSources(r, *s);
    if (const toml::table* p = top.SubTable("policies", false)) {
      if (seen_policies_) {
        top.Fail("policies",
                 "is also given in " + policies_file_ + ": one [policies] per catalogue");
      } else {
        seen_policies_ = true;
        policies_file_ = file;
        ReadPolicies(r, *p);
      }
    }
    if (const toml::table* t = top.SubTable("tou_tables", false)) ReadTouTables(r, *t);
    if (const toml::table* t = top.SubTable("loss_tables", false)) ReadLossTables(r, *t);
    if (const toml::array* f = top.Array("funds", false)) ReadFunds(r, *f);
    if (const toml::table* t = top.SubTable("tariffs", false)) ReadTariffs(r, *t);
    top.Finish();
    return err;
  }

  // Cross-references and ordering, once every file is in.
  Status Finish() {
    if (c_->files_.empty()) return InvalidArgument("no tariff files");
    std::string file = c_->files_.front();
    for (const auto& t : c_->tariffs_) {
      for (size_t i = 0; i < t.versions.size(); ++i) {
        const TariffVersion& v = t.versions[i];
        std::string path = "tariffs." + t.code + ".versions[" + std::to_string(i) + "]";
        if (!v.tou_table.empty() && !c_->tou_tables_.count(v.tou_table)) {
          return InvalidArgument(file + ": " + path + ".tou_table: no [tou_tables." + v.tou_table +
                                     "] in the catalogue",
                                 path + ".tou_table");
        }
        for (const auto& s : v.sources) {
          if (!c_->sources_.count(s)) {
            return InvalidArgument(
                file + ": " + path + ".sources: no [sources." + s + "] in the catalogue",
                path + ".sources");
          }
        }
      }
    }
    for (const auto& f : c_->funds_) {
      for (const auto& s : f.sources) {
        if (!c_->sources_.count(s)) {
          return InvalidArgument(file + ": funds." + f.code + ".sources: no [sources." + s + "]",
                                 "funds");
        }
      }
    }
    for (const auto& [name, t] : c_->tou_tables_) {
      for (const auto& s : t.sources) {
        if (!c_->sources_.count(s)) {
          return InvalidArgument(file + ": tou_tables." + name + ".sources: no [sources." + s + "]",
                                 "tou_tables");
        }
      }
    }
    std::sort(c_->tariffs_.begin(), c_->tariffs_.end(),
              [](const Tariff& a, const Tariff& b) { return a.code < b.code; });
    c_->index_.clear();
    for (size_t i = 0; i < c_->tariffs_.size(); ++i) c_->index_[c_->tariffs_[i].code] = i;
    return Status::Ok();
  }

 private:
  void ReadSources(Reader& r, const toml::table& t) {
    for (const auto& [k, v] : t) {
      std::string id(k.str());
      std::string path = "sources." + id;
      if (!v.is_table()) {
        r.Fail(&v, path, "must be a table");
        return;
      }
      Table s(r, *v.as_table(), path);
      Source src;
      src.id = id;
      src.title = s.Str("title", true).value_or("");
      src.cited_by = s.Str("cited_by", false).value_or("");
      src.url = s.Str("url", false).value_or("");
      src.label = s.Label("label", true).value_or(Verification::kMemory);
      s.Finish();
      if (c_->sources_.count(id)) {
        r.Fail(&v, path, "is defined twice");
        return;
      }
      c_->sources_[id] = std::move(src);
    }
  }

  void ReadPolicies(Reader& r, const toml::table& t) {
    Table p(r, t, "policies");
    Policy& pol = c_->policy_;
    if (auto s = p.Str("tier_proration", false)) {
      if (*s == "months") {
        pol.tier_proration = TierProration::kMonths;
      } else if (*s == "days") {
        pol.tier_proration = TierProration::kDays;
      } else if (*s == "none") {
        pol.tier_proration = TierProration::kNone;
      } else {
        p.Fail("tier_proration", "must be months, days or none");
      }
    }
    if (auto s = p.Str("demand_overage", false)) {
      if (*s == "standard") {
        pol.demand_overage = DemandOverage::kStandard;
      } else if (*s == "alternative") {
        pol.demand_overage = DemandOverage::kAlternative;
      } else {
        p.Fail("demand_overage", "must be standard or alternative");
      }
    }
    if (auto b = p.Bool("high_utilisation_discount")) pol.high_utilisation_discount = *b;
    if (auto v = p.Int("high_utilisation_kwh_per_kva", false, 1, 100000)) {
      pol.high_utilisation_kwh_per_kva = *v;
    }
    if (auto d = p.Dec("high_utilisation_price_ratio", false, 4)) {
      if (d->mantissa <= 0 || *d > Decimal{1, 0}) {
        p.Fail("high_utilisation_price_ratio", "must be above 0 and at most 1");
      } else {
        pol.high_utilisation_price_ratio = *d;
      }
    }
    if (auto d = p.Dec("tou_register_tolerance_kwh", false, 4)) {
      if (d->mantissa < 0) {
        p.Fail("tou_register_tolerance_kwh", "must not be negative");
      } else {
        pol.tou_register_tolerance = Energy::FromDwh(d->Rescale(4)->mantissa);
      }
    }
    if (auto s = p.Str("tou_remainder_period", false)) {
      auto period = ParseTouPeriod(*s);
      if (!period) {
        p.Fail("tou_remainder_period", "must be sharp, peak, flat, valley or deep_valley");
      } else {
        pol.tou_remainder_period = *period;
      }
    }
    if (auto s = p.Str("residential_energy_rounding", false)) {
      if (*s == "whole_kwh_half_up") {
        pol.residential_energy_rounding = EnergyRounding::kWholeKwhHalfUp;
      } else if (*s == "exact") {
        pol.residential_energy_rounding = EnergyRounding::kExact;
      } else {
        p.Fail("residential_energy_rounding", "must be whole_kwh_half_up or exact");
      }
    }
    if (auto b = p.Bool("pf_includes_losses")) pol.pf_includes_losses = *b;
    if (auto s = p.Str("sub_allocation_order", false)) {
      if (*s == "losses_first") {
        pol.sub_allocation_order = SubAllocationOrder::kLossesFirst;
      } else if (*s == "losses_after") {
        pol.sub_allocation_order = SubAllocationOrder::kLossesAfter;
      } else {
        p.Fail("sub_allocation_order", "must be losses_first or losses_after");
      }
    }
    if (auto d = p.Dec("no_reactive_meter_pf", false, 4)) {
      if (d->mantissa <= 0 || *d > Decimal{1, 0}) {
        p.Fail("no_reactive_meter_pf", "must be above 0 and at most 1");
      } else {
        pol.no_reactive_meter_pf = *d;
      }
    }
    if (auto v = p.Int("pf_assessed_min_kva", false, 0, 10'000'000)) pol.pf_assessed_min_kva = *v;
    if (auto v = p.Int("bill_due_days", false, 0, 365)) pol.bill_due_days = static_cast<int>(*v);
    if (const toml::table* lf = p.SubTable("late_fee", false)) {
      Table l(r, *lf, "policies.late_fee");
      LateFeePolicy& f = pol.late_fee;
      auto rate = [&](std::string_view key, Decimal* out) {
        if (auto d = l.Dec(key, false, 6)) {
          if (d->mantissa < 0 || *d > Decimal{1, 1}) {
            l.Fail(key, "must be a daily rate between 0 and 0.1 (e.g. \"0.002\" for 2‰)");
          } else {
            *out = *d;
          }
        }
      };
      rate("residential_daily_rate", &f.residential_daily_rate);
      rate("current_year_daily_rate", &f.current_year_daily_rate);
      rate("cross_year_daily_rate", &f.cross_year_daily_rate);
      if (auto s = l.Str("minimum", false)) {
        auto m = Money::ParseYuan(*s, "minimum");
        if (!m.ok() || m->fen() < 0) {
          l.Fail("minimum", "must be an amount in yuan, e.g. \"1.00\"");
        } else {
          f.minimum = *m;
        }
      }
      if (auto b = l.Bool("count_payment_day")) f.count_payment_day = *b;
      if (auto b = l.Bool("residential_waived")) f.residential_waived = *b;
      if (auto b = l.Bool("rate_by_day_year")) f.rate_by_day_year = *b;
      l.Finish();
    }
    p.Finish();
  }

  void ReadTouTables(Reader& r, const toml::table& t) {
    for (const auto& [k, v] : t) {
      std::string name(k.str());
      std::string path = "tou_tables." + name;
      if (!v.is_table()) {
        r.Fail(&v, path, "must be a table");
        return;
      }
      Table tt(r, *v.as_table(), path);
      TouTable table;
      table.name = name;
      table.description = tt.Str("description", false).value_or("");
      table.sources = tt.StrList("sources");
      table.label = tt.Label("label", true).value_or(Verification::kMemory);
      MonthSet covered;
      if (const toml::array* seasons = tt.Array("seasons", true)) {
        for (size_t i = 0; i < seasons->size(); ++i) {
          std::string spath = path + ".seasons[" + std::to_string(i) + "]";
          const toml::node* sn = seasons->get(i);
          if (!sn->is_table()) {
            r.Fail(sn, spath, "must be a table");
            return;
          }
          Table st(r, *sn->as_table(), spath);
          TouTable::Season season;
          season.name = st.Str("name", false).value_or("");
          if (auto m = st.Months("months", true)) {
            if (covered.bits & m->bits) {
              st.Fail("months", "overlaps an earlier season");
            }
            covered.bits |= m->bits;
            season.months = *m;
          }
          int next = 0;
          if (const toml::array* ranges = st.Array("periods", true)) {
            for (size_t j = 0; j < ranges->size(); ++j) {
              std::string rpath = spath + ".periods[" + std::to_string(j) + "]";
              const toml::node* rn = ranges->get(j);
              if (!rn->is_table()) {
                r.Fail(rn, rpath, "must be a table {from, to, period}");
                return;
              }
              Table rt(r, *rn->as_table(), rpath);
              auto from = rt.Str("from", true);
              auto to = rt.Str("to", true);
              auto period = rt.Str("period", true);
              rt.Finish();
              if (r.failed()) return;
              auto f = ParseHhMm(*from);
              auto e = ParseHhMm(*to);
              auto p = ParseTouPeriod(*period);
              if (!f || *f >= 1440) {
                rt.Fail("from", "must be a time HH:MM before 24:00");
              } else if (!e || *e <= *f) {
                rt.Fail("to", "must be a time HH:MM after 'from' (24:00 ends the day)");
              } else if (!p) {
                rt.Fail("period", "must be sharp, peak, flat, valley or deep_valley");
              } else if (*f != next) {
                rt.Fail("from", "must continue the previous range (expected " +
                                    std::to_string(next / 60) + ":" + (next % 60 < 10 ? "0" : "") +
                                    std::to_string(next % 60) +
                                    "): ranges are listed in order and cover the whole day");
              } else {
                season.ranges.push_back({*f, *e, *p});
                next = *e;
              }
              if (r.failed()) return;
            }
            if (next != 1440) st.Fail("periods", "must cover the day up to 24:00");
          }
          st.Finish();
          table.seasons.push_back(std::move(season));
        }
      }
      if (!r.failed() && covered.bits != MonthSet::All().bits) {
        tt.Fail("seasons", "must cover every month exactly once");
      }
      tt.Finish();
      if (r.failed()) return;
      if (c_->tou_tables_.count(name)) {
        r.Fail(&v, path, "is defined twice");
        return;
      }
      c_->tou_tables_[name] = std::move(table);
    }
  }

  void ReadLossTables(Reader& r, const toml::table& t) {
    for (const auto& [k, v] : t) {
      std::string name(k.str());
      std::string path = "loss_tables." + name;
      if (!v.is_table()) {
        r.Fail(&v, path, "must be a table");
        return;
      }
      Table lt(r, *v.as_table(), path);
      LossTable table;
      table.name = name;
      table.description = lt.Str("description", false).value_or("");
      table.rated_kva = lt.Int("rated_kva", true, 1, 1'000'000).value_or(0);
      table.label = lt.Label("label", true).value_or(Verification::kIllustrative);
      if (const toml::array* rows = lt.Array("rows", true)) {
        for (size_t i = 0; i < rows->size(); ++i) {
          std::string rpath = path + ".rows[" + std::to_string(i) + "]";
          const toml::node* rn = rows->get(i);
          if (!rn->is_table()) {
            r.Fail(rn, rpath, "must be a table {load_ratio, active_kwh, reactive_kvarh}");
            return;
          }
          Table rt(r, *rn->as_table(), rpath);
          LossTable::Row row;
          row.load_ratio = rt.Dec("load_ratio", true, 1).value_or(Decimal{});
          row.active_kwh = rt.Int("active_kwh", true, 0, 100'000'000).value_or(0);
          row.reactive_kvarh = rt.Int("reactive_kvarh", true, 0, 100'000'000).value_or(0);
          rt.Finish();
          if (r.failed()) return;
          if (i == 0 && row.load_ratio != Decimal{0, 0}) {
            rt.Fail("load_ratio", "of the first row must be 0.0 (the no-load row)");
          } else if (i > 0 && !(table.rows.back().load_ratio < row.load_ratio)) {
            rt.Fail("load_ratio", "must increase");
          } else if (row.load_ratio > Decimal{11, 1}) {
            rt.Fail("load_ratio", "must be at most 1.1");
          }
          table.rows.push_back(row);
        }
        if (!r.failed() && table.rows.size() < 2) {
          lt.Fail("rows", "needs the no-load row and at least one load row");
        }
      }
      lt.Finish();
      if (r.failed()) return;
      if (c_->loss_tables_.count(name)) {
        r.Fail(&v, path, "is defined twice");
        return;
      }
      c_->loss_tables_[name] = std::move(table);
    }
  }

  void ReadFunds(Reader& r, const toml::array& a) {
    for (size_t i = 0; i < a.size(); ++i) {
      std::string path = "funds[" + std::to_string(i) + "]";
      const toml::node* n = a.get(i);
      if (!n->is_table()) {
        r.Fail(n, path, "must be a table");
        return;
      }
      Table ft(r, *n->as_table(), path);
      Fund f;
      f.code = ft.Str("code", true).value_or("");
      f.name_zh = ft.Str("name_zh", true).value_or("");
      if (auto p = ft.PriceAt("rate", true)) f.rate = *p;
      f.effective_from = ft.DateAt("effective_from", true).value_or(Date{});
      f.effective_to = ft.DateAt("effective_to", false);
      for (const auto& e : ft.StrList("exempt")) {
        auto c = ParseCategory(e);
        if (!c) {
          ft.Fail("exempt", "'" + e +
                                "' is not a category (residential, commercial, large_industry, "
                                "agricultural, other)");
          break;
        }
        f.exempt.push_back(*c);
      }
      f.sources = ft.StrList("sources");
      f.label = ft.Label("label", true).value_or(Verification::kMemory);
      ft.Finish();
      if (r.failed()) return;
      if (f.effective_to && *f.effective_to < f.effective_from) {
        ft.Fail("effective_to", "is before effective_from");
        return;
      }
      for (const auto& g : c_->funds_) {
        bool overlap = g.code == f.code &&
                       (!g.effective_to || f.effective_from <= *g.effective_to) &&
                       (!f.effective_to || g.effective_from <= *f.effective_to);
        if (overlap) {
          ft.Fail("effective_from", "fund " + f.code + " already has a rate in force then");
          return;
        }
      }
      c_->funds_.push_back(std::move(f));
    }
  }

  void ReadTariffs(Reader& r, const toml::table& t) {
    for (const auto& [k, v] : t) {
      std::string code(k.str());
      std::string path = "tariffs." + code;
      if (!v.is_table()) {
        r.Fail(&v, path, "must be a table");
        return;
      }
      bool code_ok = !code.empty() && code.size() <= 32;
      for (char ch : code) {
        code_ok = code_ok && ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_');
      }
      if (!code_ok) {
        r.Fail(&v, path, "a tariff code is 1-32 characters of a-z, 0-9 and _");
        return;
      }
      Table tt(r, *v.as_table(), path);
      Tariff tariff;
      tariff.code = code;
      std::string name_zh = tt.Str("name_zh", true).value_or("");
      std::optional<TariffCategory> category;
      if (auto s = tt.Str("category", true)) {
        category = ParseCategory(*s);
        if (!category) {
          tt.Fail("category",
                  "must be residential, commercial, large_industry, agricultural or other");
        }
      }
      std::string voltage = tt.Str("voltage", true).value_or("");
      if (!voltage.empty() &&
          std::find(std::begin(kVoltages), std::end(kVoltages), voltage) == std::end(kVoltages)) {
        tt.Fail("voltage", "must be lv, 10kv, 20kv, 35kv, 110kv or 220kv");
      }
      if (const toml::array* versions = tt.Array("versions", true)) {
        if (versions->empty()) tt.Fail("versions", "must list at least one version");
        for (size_t i = 0; i < versions->size() && !r.failed(); ++i) {
          std::string vpath = path + ".versions[" + std::to_string(i) + "]";
          const toml::node* vn = versions->get(i);
          if (!vn->is_table()) {
            r.Fail(vn, vpath, "must be a table");
            return;
          }
          TariffVersion tv;
          tv.code = code;
          tv.name_zh = name_zh;
          tv.category = category.value_or(TariffCategory::kOther);
          tv.voltage = voltage;
          ReadVersion(r, *vn->as_table(), vpath, &tv);
          if (r.failed()) return;
          if (!tariff.versions.empty()) {
            TariffVersion& prev = tariff.versions.back();
            if (!(prev.effective_from < tv.effective_from)) {
              r.Fail(vn, vpath + ".effective_from",
                     "must be after the previous version's (" + prev.effective_from.ToString() +
                         "): list versions in order");
              return;
            }
            if (prev.effective_to && !(*prev.effective_to < tv.effective_from)) {
              r.Fail(vn, vpath + ".effective_from",
                     "overlaps the previous version, in force to " + prev.effective_to->ToString());
              return;
            }
            if (!prev.effective_to) prev.effective_to = tv.effective_from.AddDays(-1);
          }
          tariff.versions.push_back(std::move(tv));
        }
      }
      tt.Finish();
      if (r.failed()) return;
      for (const auto& existing : c_->tariffs_) {
        if (existing.code == code) {
          r.Fail(&v, path, "is defined twice");
          return;
        }
      }
      c_->tariffs_.push_back(std::move(tariff));
    }
  }

  void ReadVersion(Reader& r, const toml::table& t, const std::string& path, TariffVersion* v) {
    Table vt(r, t, path);
    v->effective_from = vt.DateAt("effective_from", true).value_or(Date{});
    v->effective_to = vt.DateAt("effective_to", false);
    if (v->effective_to && *v->effective_to < v->effective_from) {
      vt.Fail("effective_to", "is before effective_from");
    }
    v->id = v->code + "@" + v->effective_from.ToString();
    v->sources = vt.StrList("sources");
    v->label = vt.Label("label", true).value_or(Verification::kMemory);
    v->note = vt.Str("note", false).value_or("");
    if (const toml::table* labels = vt.SubTable("labels", false)) {
      for (const auto& [k, n] : *labels) {
        std::string key(k.str());
        std::string lpath = path + ".labels." + key;
        if (!kFigureKeys.count(key)) {
          r.Fail(&n, lpath,
                 "is not a figure of a version (price, tou_base, tou_ratios, tou_prices, "
                 "tiers.bounds, tiers.prices, tiers.increments, capacity_price, demand_price, "
                 "funds_included)");
          return;
        }
        if (!n.is_string()) {
          r.Fail(&n, lpath, "must be V, T, M or I");
          return;
        }
        auto l = vt.LabelOf(n.as_string()->get(), &n, lpath);
        if (!l) return;
        v->labels[key] = *l;
      }
    }
    auto funds_included = vt.Bool("funds_included");
    if (!funds_included) {
      vt.Fail("funds_included", "is required: whether the price includes the government funds");
      return;
    }
    v->funds_included = *funds_included;
    v->capacity_price = vt.PriceAt("capacity_price", false);
    v->demand_price = vt.PriceAt("demand_price", false);
    v->tou_table = vt.Str("tou_table", false).value_or("");

    std::string pricing = vt.Str("pricing", true).value_or("");
    if (r.failed()) return;
    if (pricing == "flat") {
      v->pricing = EnergyPricing::kFlat;
      if (vt.Has("price")) {
        if (auto p = vt.PriceAt("price", true)) v->flat_price = *p;
      }
    } else if (pricing == "tou") {
      v->pricing = EnergyPricing::kTou;
      ReadTouPricing(r, vt, path, v);
    } else {
      vt.Fail("pricing", "must be flat or tou");
      return;
    }
    if (const toml::table* tiers = vt.SubTable("tiers", false)) {
      ReadTiers(r, *tiers, path + ".tiers", v);
    }
    if (r.failed()) return;
    if (v->pricing == EnergyPricing::kFlat && !vt.Has("price") &&
        !(v->tiers && t.at_path("tiers.prices"))) {
      vt.Fail("price", "is required for flat pricing (or tiers.prices)");
    }
    if (v->tiers && v->category != TariffCategory::kResidential) {
      vt.Fail("tiers", "only residential tariffs have tiers");
    }
    vt.Finish();
  }

  void ReadTouPricing(Reader& r, Table& vt, const std::string& path, TariffVersion* v) {
    if (vt.Has("price")) {
      vt.Fail("price",
              "is for flat pricing; a TOU tariff gives tou_prices or tou_base with "
              "tou_seasons");
      return;
    }
    std::optional<Price> base = vt.PriceAt("tou_base", false);
    int decimals = static_cast<int>(vt.Int("tou_rounding_decimals", false, 2, 8).value_or(4));
    if (base) v->flat_price = *base;
    if (const toml::table* prices = vt.SubTable("tou_prices", false)) {
      // One season, explicit prices.
      SeasonPrices s;
      s.months = MonthSet::All();
      if (!ReadExplicitPrices(r, *prices, path + ".tou_prices", &s)) return;
      v->seasons.push_back(std::move(s));
      if (vt.Has("tou_seasons")) vt.Fail("tou_seasons", "give either tou_prices or tou_seasons");
      return;
    }
    const toml::array* seasons = vt.Array("tou_seasons", false);
    if (seasons == nullptr) {
      vt.Fail("tou_prices", "a TOU tariff needs tou_prices or tou_seasons");
      return;
    }
    MonthSet covered;
    for (size_t i = 0; i < seasons->size(); ++i) {
      std::string spath = path + ".tou_seasons[" + std::to_string(i) + "]";
      const toml::node* sn = seasons->get(i);
      if (!sn->is_table()) {
        r.Fail(sn, spath, "must be a table");
        return;
      }
      Table st(r, *sn->as_table(), spath);
      SeasonPrices s;
      s.name = st.Str("name", false).value_or("");
      if (auto m = st.Months("months", true)) {
        if (covered.bits & m->bits) st.Fail("months", "overlaps an earlier season");
        covered.bits |= m->bits;
        s.months = *m;
      }
      if (const toml::table* prices = st.SubTable("prices", false)) {
        if (!ReadExplicitPrices(r, *prices, spath + ".prices", &s)) return;
        if (st.Has("ratios")) st.Fail("ratios", "give either prices or ratios");
      } else if (const toml::table* ratios = st.SubTable("ratios", false)) {
        if (!base) {
          vt.Fail("tou_base", "is required when a season gives ratios (the flat base price)");
          return;
        }
        for (const auto& [k, n] : *ratios) {
          std::string rpath = spath + ".ratios." + std::string(k.str());
          auto p = ParseTouPeriod(k.str());
          if (!p) {
            r.Fail(&n, rpath, "is not a period (sharp, peak, flat, valley, deep_valley)");
            return;
          }
          auto ratio = st.DecOf(&n, rpath, 6);
          if (!ratio) return;
          if (ratio->mantissa <= 0) {
            r.Fail(&n, rpath, "must be positive");
            return;
          }
          auto price = MultiplyPrice(*base, *ratio, decimals);
          if (!price.ok()) {
            r.Fail(&n, rpath, price.status().message());
            return;
          }
          s.price[static_cast<int>(*p)] = *price;
          s.derivation[static_cast<int>(*p)] = base->ToYuanString() + " × " + FormatDecimal(*ratio);
        }
      } else {
        st.Fail("ratios", "a season gives prices or ratios");
        return;
      }
      // Derived periods: e.g. sharp = peak × 1.25, rounded to the same decimals.
      if (const toml::array* derived = st.Array("derived", false)) {
        for (size_t j = 0; j < derived->size(); ++j) {
          std::string dpath = spath + ".derived[" + std::to_string(j) + "]";
          const toml::node* dn = derived->get(j);
          if (!dn->is_table()) {
            r.Fail(dn, dpath, "must be a table {period, from, ratio}");
            return;
          }
          Table dt(r, *dn->as_table(), dpath);
          auto period = ParseTouPeriod(dt.Str("period", true).value_or(""));
          auto from = ParseTouPeriod(dt.Str("from", true).value_or(""));
          auto ratio = dt.Dec("ratio", true, 6);
          dt.Finish();
          if (r.failed()) return;
          if (!period || !from) {
            dt.Fail("period", "period and from must be sharp, peak, flat, valley or deep_valley");
            return;
          }
          auto fp = s.price[static_cast<int>(*from)];
          if (!fp) {
            dt.Fail("from", "the season has no " + std::string(TouPeriodName(*from)) + " price");
            return;
          }
          if (s.price[static_cast<int>(*period)]) {
            dt.Fail("period", std::string(TouPeriodName(*period)) + " is already priced");
            return;
          }
          auto price = MultiplyPrice(*fp, *ratio, decimals);
          if (!price.ok()) {
            dt.Fail("ratio", price.status().message());
            return;
          }
          s.price[static_cast<int>(*period)] = *price;
          s.derivation[static_cast<int>(*period)] =
              fp->ToYuanString() + " × " + FormatDecimal(*ratio);
        }
      }
      st.Finish();
      if (r.failed()) return;
      v->seasons.push_back(std::move(s));
    }
    if (covered.bits != MonthSet::All().bits) {
      vt.Fail("tou_seasons", "must cover every month exactly once");
    }
  }

  bool ReadExplicitPrices(Reader& r, const toml::table& t, const std::string& path,
                          SeasonPrices* s) {
    Table pt(r, t, path);
    int n = 0;
    for (const auto& [k, node] : t) {
      std::string ppath = path + "." + std::string(k.str());
      auto p = ParseTouPeriod(k.str());
      if (!p) {
        r.Fail(&node, ppath, "is not a period (sharp, peak, flat, valley, deep_valley)");
        return false;
      }
      auto price = pt.PriceOf(&node, ppath);
      if (!price) return false;
      s->price[static_cast<int>(*p)] = *price;
      s->derivation[static_cast<int>(*p)] = "published";
      ++n;
    }
    if (n == 0) {
      r.Fail(&t, path, "must price at least one period");
      return false;
    }
    return true;
  }

  void ReadTiers(Reader& r, const toml::table& t, const std::string& path, TariffVersion* v) {
    Table tt(r, t, path);
    TierSchedule ts;
    std::string cycle = tt.Str("cycle", true).value_or("");
    if (cycle == "year") {
      ts.cycle = TierSchedule::Cycle::kYear;
    } else if (cycle == "month") {
      ts.cycle = TierSchedule::Cycle::kMonth;
    } else if (!r.failed()) {
      tt.Fail("cycle", "must be year or month");
    }
    auto read_bounds = [&](Table& bt, MonthSet months) -> bool {
      const toml::array* b = bt.Array("bounds", true);
      if (b == nullptr) return false;
      if (b->size() != 2) {
        bt.Fail("bounds", "must list the upper bounds of tiers 1 and 2 (two whole kWh)");
        return false;
      }
      TierSchedule::Bounds bounds;
      bounds.months = months;
      for (size_t i = 0; i < 2; ++i) {
        const toml::node* e = b->get(i);
        if (!e->is_integer() || e->as_integer()->get() <= 0) {
          r.Fail(e, bt.Key("bounds") + "[" + std::to_string(i) + "]",
                 "must be a positive whole number of kWh");
          return false;
        }
        bounds.upper_kwh[i] = e->as_integer()->get();
      }
      if (bounds.upper_kwh[1] <= bounds.upper_kwh[0]) {
        bt.Fail("bounds", "must increase");
        return false;
      }
      ts.bounds.push_back(bounds);
      return true;
    };
    if (tt.Has("seasons")) {
      if (tt.Has("bounds")) tt.Fail("bounds", "give either bounds or seasons");
      const toml::array* seasons = tt.Array("seasons", true);
      MonthSet covered;
      for (size_t i = 0; seasons && i < seasons->size() && !r.failed(); ++i) {
        std::string spath = path + ".seasons[" + std::to_string(i) + "]";
        const toml::node* sn = seasons->get(i);
        if (!sn->is_table()) {
          r.Fail(sn, spath, "must be a table {months, bounds}");
          return;
        }
        Table st(r, *sn->as_table(), spath);
        auto m = st.Months("months", true);
        if (m) {
          if (covered.bits & m->bits) st.Fail("months", "overlaps an earlier season");
          covered.bits |= m->bits;
          read_bounds(st, *m);
        }
        st.Finish();
      }
      if (!r.failed() && covered.bits != MonthSet::All().bits) {
        tt.Fail("seasons", "must cover every month exactly once");
      }
    } else {
      read_bounds(tt, MonthSet::All());
    }
    if (r.failed()) return;
    if (tt.Has("prices")) {
      if (tt.Has("increments")) tt.Fail("increments", "give either prices or increments");
      if (v->pricing != EnergyPricing::kFlat) {
        tt.Fail("prices", "a TOU tariff gives tier increments over its period prices (§2.4)");
        return;
      }
      const toml::array* a = tt.Array("prices", true);
      if (a->size() != 3) {
        tt.Fail("prices", "must list the prices of tiers 1, 2 and 3");
        return;
      }
      Price p[3] = {Price::FromNanoYuanX10(0), Price::FromNanoYuanX10(0),
                    Price::FromNanoYuanX10(0)};
      for (size_t i = 0; i < 3; ++i) {
        auto price = tt.PriceOf(a->get(i), path + ".prices[" + std::to_string(i) + "]");
        if (!price) return;
        p[i] = *price;
      }
      if (p[1] < p[0] || p[2] < p[1]) {
        tt.Fail("prices", "must not decrease from tier to tier");
        return;
      }
      if (tt.table().contains("prices") && v->flat_price.raw() != 0 && v->flat_price != p[0]) {
        tt.Fail("prices", "tier 1 price differs from the version's price");
        return;
      }
      v->flat_price = p[0];
      ts.increment[0] = Price::FromNanoYuanX10(p[1].raw() - p[0].raw());
      ts.increment[1] = Price::FromNanoYuanX10(p[2].raw() - p[0].raw());
    } else {
      const toml::array* a = tt.Array("increments", true);
      if (a == nullptr) return;
      if (a->size() != 2) {
        tt.Fail("increments", "must list the increments of tiers 2 and 3 over tier 1");
        return;
      }
      for (size_t i = 0; i < 2; ++i) {
        auto price = tt.PriceOf(a->get(i), path + ".increments[" + std::to_string(i) + "]");
        if (!price) return;
        ts.increment[i] = *price;
      }
      if (ts.increment[1] < ts.increment[0]) {
        tt.Fail("increments", "must not decrease from tier 2 to tier 3");
        return;
      }
    }
    tt.Finish();
    v->tiers = std::move(ts);
  }

  TariffCatalogue* c_;
  bool seen_policies_ = false;
  std::string policies_file_;
};

Result<std::shared_ptr<const TariffCatalogue>> TariffCatalogue::FromTexts(
    const std::map<std::string, std::string>& files) {
  std::shared_ptr<TariffCatalogue> c(new TariffCatalogue());
  CatalogueBuilder b(c.get());
  for (const auto& [name, text] : files) RETURN_IF_ERROR(b.AddFile(name, text));
  RETURN_IF_ERROR(b.Finish());
  return std::shared_ptr<const TariffCatalogue>(std::move(c));
}

const std::map<std::string, std::string>& TariffCatalogue::CompiledIn() {
  return internal::EmbeddedTariffFiles();
}

namespace {

Result<std::string> ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return InvalidArgument("cannot read tariff file " + p.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

Result<std::shared_ptr<const TariffCatalogue>> TariffCatalogue::Load(
    std::string_view province, const std::vector<std::string>& extra_dirs) {
  bool name_ok = !province.empty() && province.size() <= 40;
  for (char ch : province) {
    name_ok = name_ok && ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_');
  }
  if (!name_ok) {
    return InvalidArgument("billing province '" + std::string(province.substr(0, 40)) +
                               "' must be a catalogue name of a-z, 0-9 and _ (e.g. nmg_west)",
                           "province");
  }
  std::string file = std::string(province) + ".toml";
  for (const auto& dir : extra_dirs) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
      return InvalidArgument("tariff directory " + dir + " does not exist", "tariff_dirs");
    }
    std::filesystem::path p = std::filesystem::path(dir) / file;
    if (std::filesystem::exists(p, ec)) {
      ASSIGN_OR_RETURN(std::string text, ReadFile(p));
      ASSIGN_OR_RETURN(auto cat, FromTexts({{p.string(), text}}));
      if (cat->province() != province) {
        return InvalidArgument(p.string() + ": province is '" + cat->province() + "', expected '" +
                               std::string(province) + "'");
      }
      return cat;
    }
  }
  const auto& compiled = CompiledIn();
  auto it = compiled.find(file);
  if (it == compiled.end()) {
    std::string known;
    for (const auto& [name, text] : compiled) {
      known += (known.empty() ? "" : ", ") + name.substr(0, name.size() - 5);
    }
    return InvalidArgument("no tariff catalogue for province '" + std::string(province) +
                               "' (compiled in: " + known + "; or put " + file +
                               " in a billing.tariff_dirs directory)",
                           "province");
  }
  ASSIGN_OR_RETURN(auto cat, FromTexts({{it->first, it->second}}));
  if (cat->province() != province) {
    return Internal(file + ": province is '" + cat->province() + "'");
  }
  return cat;
}

std::vector<TariffCatalogue::CheckResult> TariffCatalogue::CheckPath(
    const std::string& file_or_dir) {
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  if (std::filesystem::is_directory(file_or_dir, ec)) {
    for (const auto& e : std::filesystem::directory_iterator(file_or_dir, ec)) {
      if (e.path().extension() == ".toml") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) {
      return {{file_or_dir, InvalidArgument(file_or_dir + ": no *.toml files"), nullptr}};
    }
  } else if (std::filesystem::exists(file_or_dir, ec)) {
    files.push_back(file_or_dir);
  } else {
    return {{file_or_dir, InvalidArgument(file_or_dir + ": no such file or directory"), nullptr}};
  }
  std::vector<CheckResult> out;
  for (const auto& p : files) {
    CheckResult r{p.string(), Status::Ok(), nullptr};
    auto text = ReadFile(p);
    if (!text.ok()) {
      r.status = text.status();
    } else {
      auto cat = FromTexts({{p.filename().string(), *text}});
      if (cat.ok()) {
        r.catalogue = *cat;
      } else {
        r.status = cat.status();
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

const Tariff* TariffCatalogue::FindTariff(std::string_view code) const {
  auto it = index_.find(code);
  return it == index_.end() ? nullptr : &tariffs_[it->second];
}

Result<const TariffVersion*> TariffCatalogue::Find(std::string_view code, Date day) const {
  const Tariff* t = FindTariff(code);
  if (t == nullptr) {
    return NotFound("tariff '" + std::string(code) + "' is not in the " + province_ + " catalogue");
  }
  for (const auto& v : t->versions) {
    if (v.InForce(day)) return &v;
  }
  return NotFound("tariff '" + std::string(code) + "' has no version in force on " +
                  day.ToString());
}

Result<std::vector<const TariffVersion*>> TariffCatalogue::VersionsCovering(std::string_view code,
                                                                            Date first,
                                                                            Date last) const {
  const Tariff* t = FindTariff(code);
  if (t == nullptr) {
    return NotFound("tariff '" + std::string(code) + "' is not in the " + province_ + " catalogue");
  }
  std::vector<const TariffVersion*> out;
  Date day = first;
  while (!(last < day)) {
    const TariffVersion* found = nullptr;
    for (const auto& v : t->versions) {
      if (v.InForce(day)) {
        found = &v;
        break;
      }
    }
    if (found == nullptr) {
      return NotFound("tariff '" + std::string(code) + "' has no version in force on " +
                      day.ToString());
    }
    out.push_back(found);
    if (!found->effective_to) break;
    day = found->effective_to->AddDays(1);
  }
  return out;
}

const LossTable* TariffCatalogue::FindLossTable(std::string_view name) const {
  auto it = loss_tables_.find(name);
  return it == loss_tables_.end() ? nullptr : &it->second;
}

const TouTable* TariffCatalogue::FindTouTable(std::string_view name) const {
  auto it = tou_tables_.find(name);
  return it == tou_tables_.end() ? nullptr : &it->second;
}

}  // namespace gridmis::rating
