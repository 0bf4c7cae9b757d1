#include "rating/json.h"

#include <set>
#include <string_view>

namespace gridmis::rating {

using nlohmann::json;

namespace {

// ---- Strict reading with JSON paths ----

class Obj {
 public:
  Obj(const json& j, std::string path, Status* err) : j_(j), path_(std::move(path)), err_(err) {
    if (!j_.is_object() && err_->ok()) {
      *err_ = InvalidArgument(
          (path_.empty() ? std::string("the body") : path_) + " must be a JSON object", path_);
    }
  }

  std::string Path(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }
  bool ok() const { return err_->ok(); }
  void Fail(const std::string& path, const std::string& why) {
    if (err_->ok()) *err_ = InvalidArgument(path + ": " + why, path);
  }
  const json* Get(std::string_view key) {
    known_.insert(std::string(key));
    if (!j_.is_object()) return nullptr;
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return nullptr;
    return &*it;
  }
  const json* Required(std::string_view key) {
    const json* v = Get(key);
    if (v == nullptr) Fail(Path(key), "is required");
    return v;
  }

  std::string Str(std::string_view key, bool required, size_t max_len = 200) {
    const json* v = required ? Required(key) : Get(key);
    if (v == nullptr) return {};
    if (!v->is_string()) {
      Fail(Path(key), "must be a string");
      return {};
    }
    std::string s = v->get<std::string>();
    if (s.size() > max_len) Fail(Path(key), "is longer than " + std::to_string(max_len));
    return s;
  }
  std::optional<int64_t> Int(std::string_view key, bool required, int64_t min, int64_t max) {
    const json* v = required ? Required(key) : Get(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_number_integer()) {
      Fail(Path(key), "must be an integer");
      return std::nullopt;
    }
    int64_t x =
        v->is_number_unsigned() && v->get<uint64_t>() > INT64_MAX ? INT64_MAX : v->get<int64_t>();
    if (x < min || x > max) {
      Fail(Path(key), "must be between " + std::to_string(min) + " and " + std::to_string(max));
      return std::nullopt;
    }
    return x;
  }
  std::optional<Decimal> Dec(std::string_view key, bool required, int max_scale) {
    const json* v = required ? Required(key) : Get(key);
    if (v == nullptr) return std::nullopt;
    return DecOf(*v, Path(key), max_scale);
  }
  std::optional<Decimal> DecOf(const json& v, const std::string& path, int max_scale) {
    std::string text;
    if (v.is_string()) {
      text = v.get<std::string>();
    } else if (v.is_number_integer()) {
      text = v.dump();
    } else {
      Fail(path, "must be a decimal number written as a string, e.g. \"1234.56\"");
      return std::nullopt;
    }
    auto d = Decimal::Parse(text, max_scale, path);
    if (!d.ok()) {
      Fail(path, d.status().message().substr(path.size() + 1));
      return std::nullopt;
    }
    return *d;
  }
  std::optional<Energy> EnergyOf(const json& v, const std::string& path) {
    auto d = DecOf(v, path, Energy::kScale);
    if (!d) return std::nullopt;
    auto r = d->Rescale(Energy::kScale);
    if (!r.ok()) {
      Fail(path, "is too large");
      return std::nullopt;
    }
    return Energy::FromDwh(r->mantissa);
  }
  std::optional<Energy> EnergyAt(std::string_view key) {
    const json* v = Get(key);
    if (v == nullptr) return std::nullopt;
    return EnergyOf(*v, Path(key));
  }
  std::optional<Date> DateAt(std::string_view key, bool required) {
    std::string s = Str(key, required, 10);
    if (s.empty()) return std::nullopt;
    auto d = Date::Parse(s, Path(key));
    if (!d.ok()) {
      Fail(Path(key), "must be a date YYYY-MM-DD");
      return std::nullopt;
    }
    return *d;
  }
  const json* Array(std::string_view key, bool required) {
    const json* v = required ? Required(key) : Get(key);
    if (v == nullptr) return nullptr;
    if (!v->is_array()) {
      Fail(Path(key), "must be an array");
      return nullptr;
    }
    return v;
  }
  const json* Object(std::string_view key, bool required) {
    const json* v = required ? Required(key) : Get(key);
    if (v == nullptr) return nullptr;
    if (!v->is_object()) {
      Fail(Path(key), "must be an object");
      return nullptr;
    }
    return v;
  }
  void Finish() {
    if (!err_->ok() || !j_.is_object()) return;
    for (auto it = j_.begin(); it != j_.end(); ++it) {
      if (!known_.count(it.key())) {
        Fail(Path(it.key()), "unknown field");
        return;
      }
    }
  }

 private:
  const json& j_;
  std::string path_;
  Status* err_;
  std::set<std::string, std::less<>> known_;
};

std::map<std::string, Energy> ReadRegisters(Obj& o, std::string_view key, bool required) {
  std::map<std::string, Energy> out;
  const json* v = o.Object(key, required);
  if (v == nullptr) return out;
  for (auto it = v->begin(); it != v->end(); ++it) {
    std::string path = o.Path(key) + "." + it.key();
    if (!IsKnownRegister(it.key())) {
      o.Fail(path,
             "unknown register (total, sharp, peak, flat, valley, export, reactive_import, "
             "reactive_export, max_demand)");
      return out;
    }
    auto e = o.EnergyOf(*it, path);
    if (!e) return out;
    if (e->dwh() < 0) {
      o.Fail(path, "must not be negative");
      return out;
    }
    out[it.key()] = *e;
  }
  return out;
}

// Trims zeros beyond 4 decimals: "0.55000000" → "0.5500", "0.02766875" stays.
std::string PriceText(Decimal d) {
  std::string s = d.ToString();
  size_t point = s.find('.');
  if (point == std::string::npos) return s + ".0000";
  while (s.size() < point + 5) s.push_back('0');
  while (s.size() > point + 5 && s.back() == '0') s.pop_back();
  return s;
}
std::string PriceText(Price p) { return PriceText(Decimal{p.raw(), Price::kScale}); }
std::string KwhText(Energy e) { return e.ToKwhString(4); }

json RegisterMap(const std::map<std::string, Energy>& m) {
  json j = json::object();
  for (const auto& [k, v] : m) j[k] = KwhText(v);
  return j;
}

std::string_view BasicModeName(BasicChargeMode m) {
  switch (m) {
    case BasicChargeMode::kNone:
      return "none";
    case BasicChargeMode::kCapacity:
      return "capacity";
    case BasicChargeMode::kDeclaredDemand:
      return "declared_demand";
    case BasicChargeMode::kActualDemand:
      return "actual_demand";
  }
  return "none";
}

json MonthsJson(MonthSet m) { return json(m.Months()); }

std::string Hhmm(int minute) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d:%02d", minute / 60, minute % 60);
  return buf;
}

json LabelsJson(const TariffVersion& v) {
  json j = json::object();
  for (const auto& [k, l] : v.labels) j[k] = std::string(VerificationName(l));
  return j;
}

}  // namespace

Result<RatingInput> RatingInputFromJson(const json& j) {
  Status err;
  RatingInput in;
  Obj o(j, "", &err);
  if (!err.ok()) return err;
  in.metering_point_code = o.Str("metering_point_code", false, 64);
  std::string period = o.Str("period", true, 7);
  if (o.ok()) {
    auto p = YearMonth::Parse(period, "period");
    if (!p.ok()) {
      o.Fail("period", "must be a month YYYY-MM");
    } else {
      in.period = *p;
    }
  }
  in.first_day = o.DateAt("first_day", false).value_or(in.period.FirstDay());
  in.last_day = o.DateAt("last_day", false).value_or(in.period.LastDay());
  in.tariff_code = o.Str("tariff_code", true, 32);
  if (const json* meters = o.Array("meters", true)) {
    if (meters->empty()) o.Fail("meters", "must list at least one meter span");
    if (meters->size() > 20) o.Fail("meters", "lists more than 20 meter spans");
    for (size_t i = 0; i < meters->size() && o.ok(); ++i) {
      std::string path = "meters[" + std::to_string(i) + "]";
      Obj m(meters->at(i), path, &err);
      if (!m.ok()) break;
      MeterSpan span;
      span.meter_asset_no = m.Str("meter_asset_no", false, 64);
      span.multiplier = m.Int("multiplier", false, 1, 100'000'000).value_or(1);
      span.register_integer_digits =
          static_cast<int>(m.Int("register_integer_digits", false, 0, 12).value_or(0));
      span.start = ReadRegisters(m, "start", true);
      span.end = ReadRegisters(m, "end", true);
      span.start_source = m.Str("start_source", false);
      span.end_source = m.Str("end_source", false);
      m.Finish();
      in.meters.push_back(std::move(span));
    }
  }
  in.adjustment = o.EnergyAt("adjustment").value_or(Energy());
  in.refund_energy = o.EnergyAt("refund_energy").value_or(Energy());
  in.adjustment_reason = o.Str("adjustment_reason", false);
  std::string mode = o.Str("basic_mode", false, 20);
  if (mode.empty() || mode == "none") {
    in.basic_mode = BasicChargeMode::kNone;
  } else if (mode == "capacity") {
    in.basic_mode = BasicChargeMode::kCapacity;
  } else if (mode == "declared_demand") {
    in.basic_mode = BasicChargeMode::kDeclaredDemand;
  } else if (mode == "actual_demand") {
    in.basic_mode = BasicChargeMode::kActualDemand;
  } else {
    o.Fail("basic_mode", "must be none, capacity, declared_demand or actual_demand");
  }
  in.capacity_kva = o.Int("capacity_kva", false, 0, 10'000'000).value_or(0);
  in.declared_demand_kw = o.Int("declared_demand_kw", false, 1, 10'000'000);
  in.service_start = o.DateAt("service_start", false);
  in.service_end = o.DateAt("service_end", false);
  if (const json* s = o.Array("suspensions", false)) {
    for (size_t i = 0; i < s->size() && o.ok(); ++i) {
      Obj r(s->at(i), "suspensions[" + std::to_string(i) + "]", &err);
      if (!r.ok()) break;
      DayRange d;
      d.first = r.DateAt("first", true).value_or(Date{});
      d.last = r.DateAt("last", true).value_or(Date{});
      r.Finish();
      if (r.ok() && d.last < d.first) r.Fail(r.Path("last"), "is before first");
      in.suspensions.push_back(d);
    }
  }
  std::string pf = o.Str("pf_standard", false, 8);
  if (pf.empty()) pf = "none";
  if (pf != "none" && pf != "0.90" && pf != "0.85" && pf != "0.80") {
    o.Fail("pf_standard", "must be 0.90, 0.85, 0.80 or none");
  }
  in.pf_standard = pf;
  if (const json* t = o.Object("transformer", false)) {
    Obj to(*t, "transformer", &err);
    TransformerLossConfig c;
    std::string method = to.Str("method", false, 10);
    if (method.empty() || method == "formula") {
      c.method = TransformerLossConfig::Method::kFormula;
    } else if (method == "table") {
      c.method = TransformerLossConfig::Method::kTable;
    } else {
      to.Fail(to.Path("method"), "must be formula or table");
    }
    c.rated_kva = to.Int("rated_kva", true, 1, 10'000'000).value_or(0);
    bool formula = c.method == TransformerLossConfig::Method::kFormula;
    auto dec = [&](std::string_view key, Decimal* out) {
      if (auto d = to.Dec(key, formula, 8)) {
        if (d->mantissa < 0) {
          to.Fail(to.Path(key), "must not be negative");
        } else {
          *out = *d;
        }
      }
    };
    dec("no_load_loss_kw", &c.no_load_loss_kw);
    dec("load_loss_kw", &c.load_loss_kw);
    dec("no_load_current_pct", &c.no_load_current_pct);
    dec("impedance_voltage_pct", &c.impedance_voltage_pct);
    if (auto d = to.Dec("correction", false, 8)) c.correction = *d;
    c.loss_table = to.Str("loss_table", !formula, 64);
    c.shift_load_kwh = to.Int("shift_load_kwh", false, 0, 10'000'000'000).value_or(0);
    to.Finish();
    in.transformer = c;
  }
  if (auto d = o.Dec("line_loss_rate", false, 8)) {
    if (d->mantissa < 0 || *d >= Decimal{1, 0}) {
      o.Fail("line_loss_rate", "must be at least 0 and below 1");
    }
    in.line_loss_rate = *d;
  }
  if (const json* subs = o.Array("sub_allocations", false)) {
    for (size_t i = 0; i < subs->size() && o.ok(); ++i) {
      std::string path = "sub_allocations[" + std::to_string(i) + "]";
      Obj so(subs->at(i), path, &err);
      if (!so.ok()) break;
      SubAllocation sa;
      sa.tariff_code = so.Str("tariff_code", true, 32);
      sa.ratio = so.Dec("ratio", false, 8);
      sa.fixed_kwh = so.Int("fixed_kwh", false, 1, 10'000'000'000);
      sa.label = so.Str("label", false, 64);
      so.Finish();
      if (so.ok() && sa.ratio.has_value() == sa.fixed_kwh.has_value()) {
        so.Fail(path, "give exactly one of ratio (定比) and fixed_kwh (定量)");
      }
      in.sub_allocations.push_back(std::move(sa));
    }
  }
  in.tier_cumulative_kwh = o.Int("tier_cumulative_kwh", false, 0, 100'000'000).value_or(0);
  if (auto m = o.Int("tier_months_in_service", false, 1, 12)) {
    in.tier_months_in_service = static_cast<int>(*m);
  }
  if (auto d = o.Int("tier_days_in_service", false, 1, 366)) {
    in.tier_days_in_service = static_cast<int>(*d);
  }
  in.household_multiplier = o.Int("household_multiplier", false, 1, 100).value_or(1);
  in.free_allowance_kwh = o.Int("free_allowance_kwh", false, 0, 10'000).value_or(0);
  if (const json* daily = o.Object("daily_total", false)) {
    if (daily->size() > 400) o.Fail("daily_total", "has more than 400 days");
    for (auto it = daily->begin(); it != daily->end() && o.ok(); ++it) {
      std::string path = "daily_total." + it.key();
      auto d = Date::Parse(it.key(), path);
      if (!d.ok()) {
        o.Fail(path, "the key must be a date YYYY-MM-DD");
        break;
      }
      auto e = o.EnergyOf(*it, path);
      if (e) in.daily_total[*d] = *e;
    }
  }
  o.Finish();
  if (!err.ok()) return err;
  if (in.last_day < in.first_day) {
    return InvalidArgument("last_day: is before first_day", "last_day");
  }
  return in;
}

json ToJson(const RatingInput& in) {
  json j;
  j["metering_point_code"] = in.metering_point_code;
  j["period"] = in.period.ToString();
  j["first_day"] = in.first_day.ToString();
  j["last_day"] = in.last_day.ToString();
  j["tariff_code"] = in.tariff_code;
  json meters = json::array();
  for (const auto& m : in.meters) {
    meters.push_back({{"meter_asset_no", m.meter_asset_no},
                      {"multiplier", m.multiplier},
                      {"register_integer_digits", m.register_integer_digits},
                      {"start", RegisterMap(m.start)},
                      {"end", RegisterMap(m.end)},
                      {"start_source", m.start_source},
                      {"end_source", m.end_source}});
  }
  j["meters"] = meters;
  j["adjustment"] = KwhText(in.adjustment);
  j["refund_energy"] = KwhText(in.refund_energy);
  j["adjustment_reason"] = in.adjustment_reason;
  j["basic_mode"] = std::string(BasicModeName(in.basic_mode));
  j["capacity_kva"] = in.capacity_kva;
  j["declared_demand_kw"] = in.declared_demand_kw ? json(*in.declared_demand_kw) : json(nullptr);
  j["service_start"] = in.service_start ? json(in.service_start->ToString()) : json(nullptr);
  j["service_end"] = in.service_end ? json(in.service_end->ToString()) : json(nullptr);
  json sus = json::array();
  for (const auto& s : in.suspensions) {
    sus.push_back({{"first", s.first.ToString()}, {"last", s.last.ToString()}});
  }
  j["suspensions"] = sus;
  j["pf_standard"] = in.pf_standard;
  if (in.transformer) {
    const auto& t = *in.transformer;
    j["transformer"] = {
        {"method", t.method == TransformerLossConfig::Method::kFormula ? "formula" : "table"},
        {"rated_kva", t.rated_kva},
        {"no_load_loss_kw", t.no_load_loss_kw.ToString()},
        {"load_loss_kw", t.load_loss_kw.ToString()},
        {"no_load_current_pct", t.no_load_current_pct.ToString()},
        {"impedance_voltage_pct", t.impedance_voltage_pct.ToString()},
        {"correction", t.correction.ToString()},
        {"loss_table", t.loss_table},
        {"shift_load_kwh", t.shift_load_kwh}};
  } else {
    j["transformer"] = nullptr;
  }
  j["line_loss_rate"] = in.line_loss_rate ? json(in.line_loss_rate->ToString()) : json(nullptr);
  json subs = json::array();
  for (const auto& s : in.sub_allocations) {
    json x = {{"tariff_code", s.tariff_code}, {"label", s.label}};
    if (s.ratio) x["ratio"] = s.ratio->ToString();
    if (s.fixed_kwh) x["fixed_kwh"] = *s.fixed_kwh;
    subs.push_back(x);
  }
  j["sub_allocations"] = subs;
  j["tier_cumulative_kwh"] = in.tier_cumulative_kwh;
  j["tier_months_in_service"] =
      in.tier_months_in_service ? json(*in.tier_months_in_service) : json(nullptr);
  j["tier_days_in_service"] =
      in.tier_days_in_service ? json(*in.tier_days_in_service) : json(nullptr);
  j["household_multiplier"] = in.household_multiplier;
  j["free_allowance_kwh"] = in.free_allowance_kwh;
  json daily = json::object();
  for (const auto& [d, e] : in.daily_total) daily[d.ToString()] = KwhText(e);
  j["daily_total"] = daily;
  return j;
}

json ToJson(const BillLine& l) {
  json j = {{"kind", l.kind},
            {"description", l.description},
            {"tariff_code", l.tariff_code},
            {"tariff_version", l.tariff_version},
            {"share", l.share},
            {"period_code", l.period_code},
            {"tier", l.tier},
            {"quantity", l.quantity.ToString()},
            {"unit", l.unit},
            {"unit_price", PriceText(l.unit_price)},
            {"amount", l.amount.ToYuanString()},
            {"rule", l.rule},
            {"sources", l.sources}};
  if (l.days_base != 0) {
    j["days"] = l.days;
    j["days_base"] = l.days_base;
  }
  if (l.from) j["from"] = l.from->ToString();
  if (l.to) j["to"] = l.to->ToString();
  return j;
}

json ToJson(const RatedBill& b) {
  json j;
  j["metering_point_code"] = b.metering_point_code;
  j["period"] = b.period.ToString();
  j["tariff_code"] = b.tariff_code;
  j["tariff_version"] = b.tariff_version;
  j["tariff_category"] = b.tariff_category;
  j["energy"] = {{"metered", RegisterMap(b.energy.metered)},
                 {"replaced", RegisterMap(b.energy.replaced)},
                 {"loss", RegisterMap(b.energy.loss)},
                 {"billed", RegisterMap(b.energy.billed)},
                 {"transformer_active_loss", KwhText(b.energy.transformer_active_loss)},
                 {"transformer_reactive_loss", KwhText(b.energy.transformer_reactive_loss)},
                 {"line_loss", KwhText(b.energy.line_loss)},
                 {"max_demand_kw", KwhText(b.energy.max_demand_kw)}};
  j["billed_kwh"] = b.billed_kwh;
  j["tier_kwh"] = {b.tier_kwh[0], b.tier_kwh[1], b.tier_kwh[2]};
  j["tier_bounds_kwh"] = {b.tier_bounds_kwh[0], b.tier_bounds_kwh[1]};
  j["tier_cumulative_after_kwh"] = b.tier_cumulative_after_kwh;
  j["power_factor"] = b.power_factor ? json(b.power_factor->ToString()) : json(nullptr);
  j["pf_standard"] = b.pf_standard ? json(b.pf_standard->ToString()) : json(nullptr);
  j["pf_adjust_rate"] = b.pf_adjust_rate ? json(b.pf_adjust_rate->ToString()) : json(nullptr);
  j["pf_base"] = b.pf_base.ToYuanString();
  j["energy_charge"] = b.energy_charge.ToYuanString();
  j["basic_charge"] = b.basic_charge.ToYuanString();
  j["pf_charge"] = b.pf_charge.ToYuanString();
  j["fund_charge"] = b.fund_charge.ToYuanString();
  j["total"] = b.total.ToYuanString();
  json lines = json::array();
  for (const auto& l : b.lines) lines.push_back(ToJson(l));
  j["lines"] = std::move(lines);
  j["notes"] = b.notes;
  return j;
}

json ToJson(const Policy& p) {
  const LateFeePolicy& f = p.late_fee;
  return {{"tier_proration", std::string(TierProrationName(p.tier_proration))},
          {"demand_overage", std::string(DemandOverageName(p.demand_overage))},
          {"high_utilisation_discount", p.high_utilisation_discount},
          {"high_utilisation_kwh_per_kva", p.high_utilisation_kwh_per_kva},
          {"high_utilisation_price_ratio", p.high_utilisation_price_ratio.ToString()},
          {"tou_register_tolerance_kwh", KwhText(p.tou_register_tolerance)},
          {"tou_remainder_period", std::string(TouPeriodName(p.tou_remainder_period))},
          {"residential_energy_rounding",
           p.residential_energy_rounding == EnergyRounding::kWholeKwhHalfUp ? "whole_kwh_half_up"
                                                                            : "exact"},
          {"pf_includes_losses", p.pf_includes_losses},
          {"sub_allocation_order", p.sub_allocation_order == SubAllocationOrder::kLossesFirst
                                       ? "losses_first"
                                       : "losses_after"},
          {"no_reactive_meter_pf", p.no_reactive_meter_pf.ToString()},
          {"pf_assessed_min_kva", p.pf_assessed_min_kva},
          {"bill_due_days", p.bill_due_days},
          {"late_fee",
           {{"residential_daily_rate", f.residential_daily_rate.ToString()},
            {"current_year_daily_rate", f.current_year_daily_rate.ToString()},
            {"cross_year_daily_rate", f.cross_year_daily_rate.ToString()},
            {"minimum", f.minimum.ToYuanString()},
            {"count_payment_day", f.count_payment_day},
            {"residential_waived", f.residential_waived},
            {"rate_by_day_year", f.rate_by_day_year}}}};
}

json ToJson(const TariffVersion& v) {
  json j;
  j["code"] = v.code;
  j["id"] = v.id;
  j["name_zh"] = v.name_zh;
  j["category"] = std::string(CategoryName(v.category));
  j["category_zh"] = std::string(CategoryNameZh(v.category));
  j["voltage"] = v.voltage;
  j["effective_from"] = v.effective_from.ToString();
  j["effective_to"] = v.effective_to ? json(v.effective_to->ToString()) : json(nullptr);
  j["pricing"] = v.pricing == EnergyPricing::kFlat ? "flat" : "tou";
  j["flat_price"] = v.flat_price.raw() != 0 ? json(PriceText(v.flat_price)) : json(nullptr);
  json seasons = json::array();
  for (const auto& s : v.seasons) {
    json prices = json::object();
    for (int p = 0; p < kTouPeriodCount; ++p) {
      if (!s.price[p]) continue;
      prices[std::string(TouPeriodName(static_cast<TouPeriod>(p)))] = {
          {"price", PriceText(*s.price[p])}, {"derivation", s.derivation[p]}};
    }
    seasons.push_back({{"name", s.name}, {"months", MonthsJson(s.months)}, {"prices", prices}});
  }
  j["seasons"] = seasons;
  if (v.tiers) {
    const TierSchedule& t = *v.tiers;
    json bounds = json::array();
    for (const auto& b : t.bounds) {
      bounds.push_back(
          {{"months", MonthsJson(b.months)}, {"upper_kwh", {b.upper_kwh[0], b.upper_kwh[1]}}});
    }
    j["tiers"] = {{"cycle", t.cycle == TierSchedule::Cycle::kYear ? "year" : "month"},
                  {"bounds", bounds},
                  {"increments", {PriceText(t.increment[0]), PriceText(t.increment[1])}}};
  } else {
    j["tiers"] = nullptr;
  }
  j["funds_included"] = v.funds_included;
  j["capacity_price"] = v.capacity_price ? json(PriceText(*v.capacity_price)) : json(nullptr);
  j["demand_price"] = v.demand_price ? json(PriceText(*v.demand_price)) : json(nullptr);
  j["tou_table"] = v.tou_table.empty() ? json(nullptr) : json(v.tou_table);
  j["sources"] = v.sources;
  j["label"] = std::string(VerificationName(v.label));
  j["labels"] = LabelsJson(v);
  j["note"] = v.note;
  return j;
}

json ToJson(const Tariff& t) {
  json versions = json::array();
  for (const auto& v : t.versions) versions.push_back(ToJson(v));
  const TariffVersion& last = t.versions.back();
  return {{"code", t.code},
          {"name_zh", last.name_zh},
          {"category", std::string(CategoryName(last.category))},
          {"voltage", last.voltage},
          {"versions", versions}};
}

json ToJson(const TariffCatalogue& c) {
  json j;
  j["province"] = c.province();
  j["name"] = c.name();
  j["note"] = c.note();
  j["policies"] = ToJson(c.policy());
  json sources = json::array();
  for (const auto& [id, s] : c.sources()) {
    sources.push_back({{"id", id},
                       {"title", s.title},
                       {"cited_by", s.cited_by},
                       {"url", s.url},
                       {"label", std::string(VerificationName(s.label))}});
  }
  j["sources"] = sources;
  json tables = json::array();
  for (const auto& [name, t] : c.tou_tables()) {
    json seasons = json::array();
    for (const auto& s : t.seasons) {
      json ranges = json::array();
      for (const auto& r : s.ranges) {
        ranges.push_back({{"from", Hhmm(r.from_minute)},
                          {"to", Hhmm(r.to_minute)},
                          {"period", std::string(TouPeriodName(r.period))}});
      }
      seasons.push_back({{"name", s.name}, {"months", MonthsJson(s.months)}, {"periods", ranges}});
    }
    tables.push_back({{"name", name},
                      {"description", t.description},
                      {"sources", t.sources},
                      {"label", std::string(VerificationName(t.label))},
                      {"seasons", seasons}});
  }
  j["tou_tables"] = tables;
  json losses = json::array();
  for (const auto& [name, t] : c.loss_tables()) {
    json rows = json::array();
    for (const auto& r : t.rows) {
      rows.push_back({{"load_ratio", r.load_ratio.ToString()},
                      {"active_kwh", r.active_kwh},
                      {"reactive_kvarh", r.reactive_kvarh}});
    }
    losses.push_back({{"name", name},
                      {"description", t.description},
                      {"rated_kva", t.rated_kva},
                      {"label", std::string(VerificationName(t.label))},
                      {"rows", rows}});
  }
  j["loss_tables"] = losses;
  json funds = json::array();
  for (const auto& f : c.funds()) {
    json exempt = json::array();
    for (auto e : f.exempt) exempt.push_back(std::string(CategoryName(e)));
    funds.push_back(
        {{"code", f.code},
         {"name_zh", f.name_zh},
         {"rate", PriceText(f.rate)},
         {"effective_from", f.effective_from.ToString()},
         {"effective_to", f.effective_to ? json(f.effective_to->ToString()) : json(nullptr)},
         {"exempt", exempt},
         {"sources", f.sources},
         {"label", std::string(VerificationName(f.label))}});
  }
  j["funds"] = funds;
  json tariffs = json::array();
  for (const auto& t : c.tariffs()) tariffs.push_back(ToJson(t));
  j["tariffs"] = tariffs;
  return j;
}

}  // namespace gridmis::rating
