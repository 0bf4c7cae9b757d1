// Billing parameters of metering points: validation, storage, JSON and the service methods.
#include <nlohmann/json.hpp>

#include "billing/internal/billing_internal.h"
#include "org/audit.h"

namespace gridmis::billing {

using nlohmann::json;
using store::Connection;
using store::Row;

std::string_view BasicModeName(rating::BasicChargeMode m) {
  switch (m) {
    case rating::BasicChargeMode::kNone:
      return "none";
    case rating::BasicChargeMode::kCapacity:
      return "capacity";
    case rating::BasicChargeMode::kDeclaredDemand:
      return "declared_demand";
    case rating::BasicChargeMode::kActualDemand:
      return "actual_demand";
  }
  return "none";
}

Result<rating::BasicChargeMode> ParseBasicMode(std::string_view s, std::string_view field) {
  if (s == "none") return rating::BasicChargeMode::kNone;
  if (s == "capacity") return rating::BasicChargeMode::kCapacity;
  if (s == "declared_demand") return rating::BasicChargeMode::kDeclaredDemand;
  if (s == "actual_demand") return rating::BasicChargeMode::kActualDemand;
  return InvalidArgument(
      std::string(field) + " must be one of none, capacity, declared_demand, actual_demand",
      std::string(field));
}

namespace {

Status Bad(const std::string& field, const std::string& message) {
  return InvalidArgument(field + " " + message, field);
}

bool Positive(const Decimal& d) { return d.mantissa > 0; }

}  // namespace

Status CheckParameters(const BillingParameters& p) {
  if (p.basic_mode == rating::BasicChargeMode::kDeclaredDemand) {
    if (!p.declared_demand_kw || *p.declared_demand_kw <= 0) {
      return Bad("declared_demand_kw", "is required (a positive kW value) for declared_demand");
    }
  }
  if (p.declared_demand_kw && (*p.declared_demand_kw <= 0 || *p.declared_demand_kw > 10'000'000)) {
    return Bad("declared_demand_kw", "must be between 1 and 10000000 kW");
  }
  if (p.transformer) {
    const auto& t = *p.transformer;
    if (t.rated_kva <= 0 || t.rated_kva > 1'000'000) {
      return Bad("transformer.rated_kva", "must be between 1 and 1000000 kVA");
    }
    if (t.method == rating::TransformerLossConfig::Method::kFormula) {
      if (!Positive(t.no_load_loss_kw)) return Bad("transformer.no_load_loss_kw", "must be > 0");
      if (!Positive(t.load_loss_kw)) return Bad("transformer.load_loss_kw", "must be > 0");
      if (t.no_load_current_pct.mantissa < 0) {
        return Bad("transformer.no_load_current_pct", "must not be negative");
      }
      if (t.impedance_voltage_pct.mantissa < 0) {
        return Bad("transformer.impedance_voltage_pct", "must not be negative");
      }
    } else if (t.loss_table.empty()) {
      return Bad("transformer.loss_table", "is required for the table method");
    }
    if (!Positive(t.correction)) return Bad("transformer.correction", "must be > 0");
    if (t.shift_load_kwh < 0) return Bad("transformer.shift_load_kwh", "must not be negative");
  }
  if (p.line_loss_rate && (p.line_loss_rate->mantissa < 0 || *p.line_loss_rate > Decimal{5, 1})) {
    return Bad("line_loss_rate", "must be between 0 and 0.5");
  }
  if (p.sub_allocations.size() > 10) return Bad("sub_allocations", "has more than 10 entries");
  Decimal ratio_sum{0, 0};
  for (size_t i = 0; i < p.sub_allocations.size(); ++i) {
    const auto& s = p.sub_allocations[i];
    std::string f = "sub_allocations[" + std::to_string(i) + "]";
    RETURN_IF_ERROR(grid::CheckCode(s.tariff_code, f + ".tariff_code"));
    if (s.ratio.has_value() == s.fixed_kwh.has_value()) {
      return Bad(f, "needs exactly one of ratio (定比) and fixed_kwh (定量)");
    }
    if (s.ratio) {
      if (s.ratio->mantissa <= 0 || *s.ratio >= Decimal{1, 0}) {
        return Bad(f + ".ratio", "must be above 0 and below 1");
      }
      int scale = std::max(ratio_sum.scale, s.ratio->scale);
      auto a = ratio_sum.Rescale(scale);
      auto b = s.ratio->Rescale(scale);
      if (!a.ok() || !b.ok()) return Bad(f + ".ratio", "is out of range");
      ratio_sum = Decimal{a->mantissa + b->mantissa, scale};
      if (ratio_sum >= Decimal{1, 0}) return Bad("sub_allocations", "ratios must sum below 1");
    }
    if (s.fixed_kwh && (*s.fixed_kwh <= 0 || *s.fixed_kwh > 100'000'000)) {
      return Bad(f + ".fixed_kwh", "must be between 1 and 100000000 kWh");
    }
    RETURN_IF_ERROR(grid::CheckText(s.label, f + ".label", 0, 50));
  }
  if (p.suspensions.size() > 50) return Bad("suspensions", "has more than 50 entries");
  for (size_t i = 0; i < p.suspensions.size(); ++i) {
    if (p.suspensions[i].last < p.suspensions[i].first) {
      return Bad("suspensions[" + std::to_string(i) + "]", "ends before it starts");
    }
  }
  if (p.household_multiplier < 1 || p.household_multiplier > 10) {
    return Bad("household_multiplier", "must be between 1 and 10");
  }
  if (p.free_allowance_kwh < 0 || p.free_allowance_kwh > 1000) {
    return Bad("free_allowance_kwh", "must be between 0 and 1000 kWh per month");
  }
  if (p.service_start && p.service_end && *p.service_end < *p.service_start) {
    return Bad("service_end", "is before service_start");
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// JSON

namespace {

json OptDecimal(const std::optional<Decimal>& d) { return d ? json(d->ToString()) : json(nullptr); }

json SubAllocationsJson(const std::vector<rating::SubAllocation>& subs) {
  json a = json::array();
  for (const auto& s : subs) {
    json e = {{"tariff_code", s.tariff_code}, {"label", s.label}};
    if (s.ratio) e["ratio"] = s.ratio->ToString();
    if (s.fixed_kwh) e["fixed_kwh"] = *s.fixed_kwh;
    a.push_back(std::move(e));
  }
  return a;
}

json SuspensionsJson(const std::vector<rating::DayRange>& ranges) {
  json a = json::array();
  for (const auto& r : ranges) {
    a.push_back({{"first", r.first.ToString()}, {"last", r.last.ToString()}});
  }
  return a;
}

json TransformerJson(const std::optional<rating::TransformerLossConfig>& t) {
  if (!t) return nullptr;
  bool table = t->method == rating::TransformerLossConfig::Method::kTable;
  return {{"method", table ? "table" : "formula"},
          {"rated_kva", t->rated_kva},
          {"no_load_loss_kw", t->no_load_loss_kw.ToString()},
          {"load_loss_kw", t->load_loss_kw.ToString()},
          {"no_load_current_pct", t->no_load_current_pct.ToString()},
          {"impedance_voltage_pct", t->impedance_voltage_pct.ToString()},
          {"correction", t->correction.ToString()},
          {"loss_table", t->loss_table},
          {"shift_load_kwh", t->shift_load_kwh}};
}

Result<Decimal> ParseDecimalText(const std::string& text, const std::string& what) {
  return Decimal::Parse(text, 8, what);
}

}  // namespace

json ToJson(const BillingParameters& p) {
  auto opt_date = [](const std::optional<Date>& d) {
    return d ? json(d->ToString()) : json(nullptr);
  };
  return json{
      {"metering_point_id", p.metering_point_id},
      {"basic_mode", BasicModeName(p.basic_mode)},
      {"declared_demand_kw", p.declared_demand_kw ? json(*p.declared_demand_kw) : json(nullptr)},
      {"transformer", TransformerJson(p.transformer)},
      {"line_loss_rate", OptDecimal(p.line_loss_rate)},
      {"sub_allocations", SubAllocationsJson(p.sub_allocations)},
      {"suspensions", SuspensionsJson(p.suspensions)},
      {"household_multiplier", p.household_multiplier},
      {"free_allowance_kwh", p.free_allowance_kwh},
      {"service_start", opt_date(p.service_start)},
      {"service_end", opt_date(p.service_end)},
      {"version", p.version},
      {"created_at", p.version ? json(FormatUtc(p.created_at_us)) : json(nullptr)},
      {"updated_at", p.version ? json(FormatUtc(p.updated_at_us)) : json(nullptr)}};
}

// ---------------------------------------------------------------------------------------------
// Storage

const char* const kParameterCols =
    "bp.basic_mode, bp.declared_demand_kw, bp.tx_method, bp.tx_rated_kva, bp.tx_no_load_loss_kw, "
    "bp.tx_load_loss_kw, bp.tx_no_load_current_pct, bp.tx_impedance_voltage_pct, "
    "bp.tx_correction, bp.tx_loss_table, bp.tx_shift_load_kwh, bp.line_loss_rate, "
    "bp.sub_allocations_json, bp.suspensions_json, bp.household_multiplier, "
    "bp.free_allowance_kwh, bp.service_start, bp.service_end, bp.version, bp.created_at_us, "
    "bp.updated_at_us";

Result<BillingParameters> ReadParameterColumns(const Row& r, int at, int64_t point_id) {
  BillingParameters p;
  p.metering_point_id = point_id;
  if (r.IsNull(at + 18)) return p;  // no row: the defaults
  std::string where = "billing parameters of metering point " + std::to_string(point_id);
  auto bad = [&](const Status& s) { return Internal(where + ": " + s.message()); };
  auto mode = ParseBasicMode(r.TextView(at + 0), "basic_mode");
  if (!mode.ok()) return bad(mode.status());
  p.basic_mode = *mode;
  p.declared_demand_kw = r.OptInt(at + 1);
  if (!r.IsNull(at + 2)) {
    rating::TransformerLossConfig t;
    t.method = r.TextView(at + 2) == "table" ? rating::TransformerLossConfig::Method::kTable
                                             : rating::TransformerLossConfig::Method::kFormula;
    t.rated_kva = r.Int(at + 3);
    auto dec = [&](int col, const char* what, Decimal* out) -> Status {
      if (r.IsNull(col)) return Status::Ok();
      auto d = ParseDecimalText(r.Text(col), what);
      if (!d.ok()) return bad(d.status());
      *out = *d;
      return Status::Ok();
    };
    RETURN_IF_ERROR(dec(at + 4, "tx_no_load_loss_kw", &t.no_load_loss_kw));
    RETURN_IF_ERROR(dec(at + 5, "tx_load_loss_kw", &t.load_loss_kw));
    RETURN_IF_ERROR(dec(at + 6, "tx_no_load_current_pct", &t.no_load_current_pct));
    RETURN_IF_ERROR(dec(at + 7, "tx_impedance_voltage_pct", &t.impedance_voltage_pct));
    RETURN_IF_ERROR(dec(at + 8, "tx_correction", &t.correction));
    t.loss_table = r.Text(at + 9);
    t.shift_load_kwh = r.Int(at + 10);
    p.transformer = t;
  }
  if (!r.IsNull(at + 11)) {
    auto d = ParseDecimalText(r.Text(at + 11), "line_loss_rate");
    if (!d.ok()) return bad(d.status());
    p.line_loss_rate = *d;
  }
  std::string_view subs = r.TextView(at + 12);
  if (subs != "[]" && !subs.empty()) {
    json a = json::parse(subs, nullptr, false);
    if (!a.is_array()) return Internal(where + ": sub_allocations_json is not a JSON array");
    for (const auto& e : a) {
      rating::SubAllocation s;
      s.tariff_code = e.value("tariff_code", "");
      s.label = e.value("label", "");
      if (e.contains("ratio")) {
        auto d = ParseDecimalText(e["ratio"].get<std::string>(), "ratio");
        if (!d.ok()) return bad(d.status());
        s.ratio = *d;
      }
      if (e.contains("fixed_kwh")) s.fixed_kwh = e["fixed_kwh"].get<int64_t>();
      p.sub_allocations.push_back(std::move(s));
    }
  }
  std::string_view sus = r.TextView(at + 13);
  if (sus != "[]" && !sus.empty()) {
    json a = json::parse(sus, nullptr, false);
    if (!a.is_array()) return Internal(where + ": suspensions_json is not a JSON array");
    for (const auto& e : a) {
      auto first = Date::Parse(e.value("first", ""), "suspension first day");
      auto last = Date::Parse(e.value("last", ""), "suspension last day");
      if (!first.ok()) return bad(first.status());
      if (!last.ok()) return bad(last.status());
      p.suspensions.push_back({*first, *last});
    }
  }
  p.household_multiplier = r.Int(at + 14);
  p.free_allowance_kwh = r.Int(at + 15);
  if (!r.IsNull(at + 16)) {
    auto d = Date::Parse(r.TextView(at + 16), "service_start");
    if (!d.ok()) return bad(d.status());
    p.service_start = *d;
  }
  if (!r.IsNull(at + 17)) {
    auto d = Date::Parse(r.TextView(at + 17), "service_end");
    if (!d.ok()) return bad(d.status());
    p.service_end = *d;
  }
  p.version = r.Int(at + 18);
  p.created_at_us = r.Int(at + 19);
  p.updated_at_us = r.Int(at + 20);
  return p;
}

Result<std::optional<BillingParameters>> LoadParameters(Connection& c, int64_t point_id) {
  std::optional<Result<BillingParameters>> out;
  RETURN_IF_ERROR(c.Query(std::string("SELECT ") + kParameterCols +
                              " FROM billing_parameters bp WHERE bp.metering_point_id = $1",
                          {point_id},
                          [&](const Row& r) { out = ReadParameterColumns(r, 0, point_id); }));
  if (!out) return std::optional<BillingParameters>();
  if (!out->ok()) return out->status();
  return std::optional<BillingParameters>(std::move(**out));
}

namespace {

store::Params ParameterValues(const BillingParameters& p) {
  const auto& t = p.transformer;
  auto dec = [&](const Decimal& d) { return t ? store::Value(d.ToString()) : store::Value(); };
  store::Params v = {
      std::string(BasicModeName(p.basic_mode)),
      p.declared_demand_kw,
      t ? store::Value(t->method == rating::TransformerLossConfig::Method::kTable ? "table"
                                                                                  : "formula")
        : store::Value(),
      t ? store::Value(t->rated_kva) : store::Value(),
      t ? dec(t->no_load_loss_kw) : store::Value(),
      t ? dec(t->load_loss_kw) : store::Value(),
      t ? dec(t->no_load_current_pct) : store::Value(),
      t ? dec(t->impedance_voltage_pct) : store::Value(),
      t ? dec(t->correction) : store::Value(),
      t ? store::Value(t->loss_table) : store::Value(),
      t ? store::Value(t->shift_load_kwh) : store::Value(),
      p.line_loss_rate ? store::Value(p.line_loss_rate->ToString()) : store::Value(),
      SubAllocationsJson(p.sub_allocations).dump(),
      SuspensionsJson(p.suspensions).dump(),
      p.household_multiplier,
      p.free_allowance_kwh,
      p.service_start ? store::Value(p.service_start->ToString()) : store::Value(),
      p.service_end ? store::Value(p.service_end->ToString()) : store::Value()};
  return v;
}

}  // namespace

Result<BillingParameters> BillingService::GetParameters(const org::Actor& actor, int64_t point_id) {
  RETURN_IF_ERROR(actor.Require("billing.read"));
  return impl_->db.ReadValue<BillingParameters>([&](Connection& c) -> Result<BillingParameters> {
    ASSIGN_OR_RETURN(PointInfo point, impl_->VisiblePoint(c, actor, point_id));
    return point.params;
  });
}

Result<BillingParameters> BillingService::PutParameters(const org::Actor& actor, int64_t point_id,
                                                        int64_t version,
                                                        const BillingParameters& in) {
  RETURN_IF_ERROR(actor.Require("billing.run"));
  RETURN_IF_ERROR(CheckParameters(in));
  // Codes and loss tables must exist in the catalogue.
  for (size_t i = 0; i < in.sub_allocations.size(); ++i) {
    if (!impl_->catalogue->FindTariff(in.sub_allocations[i].tariff_code)) {
      std::string f = "sub_allocations[" + std::to_string(i) + "].tariff_code";
      return InvalidArgument(
          f + ": tariff '" + in.sub_allocations[i].tariff_code + "' is not in the tariff catalogue",
          f);
    }
  }
  if (in.transformer && in.transformer->method == rating::TransformerLossConfig::Method::kTable &&
      !impl_->catalogue->FindLossTable(in.transformer->loss_table)) {
    return InvalidArgument("transformer.loss_table: loss table '" + in.transformer->loss_table +
                               "' is not in the tariff catalogue",
                           "transformer.loss_table");
  }
  int64_t now = impl_->clock.NowMicros();
  return impl_->db.WriteValue<BillingParameters>([&](Connection& c) -> Result<BillingParameters> {
    ASSIGN_OR_RETURN(PointInfo point, impl_->VisiblePoint(c, actor, point_id));
    const BillingParameters& before = point.params;
    if (before.version != version) {
      if (before.version == 0) {
        return Aborted("metering point " + point.code +
                       " has no billing parameters yet; create them with version 0");
      }
      return grid::StaleVersion("billing parameters of metering point " + point.code, point_id,
                                before.version, version);
    }
    store::Params v = ParameterValues(in);
    if (before.version == 0) {
      v.push_back(now);
      v.push_back(point_id);
      auto n = c.Exec(
          "INSERT INTO billing_parameters (basic_mode, declared_demand_kw, tx_method, "
          "tx_rated_kva, tx_no_load_loss_kw, tx_load_loss_kw, tx_no_load_current_pct, "
          "tx_impedance_voltage_pct, tx_correction, tx_loss_table, tx_shift_load_kwh, "
          "line_loss_rate, sub_allocations_json, suspensions_json, household_multiplier, "
          "free_allowance_kwh, service_start, service_end, created_at_us, updated_at_us, "
          "metering_point_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
          "$14, $15, $16, $17, $18, $19, $19, $20)",
          v);
      if (!n.ok() && n.status().code() == StatusCode::kAlreadyExists) {
        return Aborted("the billing parameters of metering point " + point.code +
                       " were created by someone else meanwhile; reload them and try again");
      }
      RETURN_IF_ERROR(n.status());
    } else {
      v.push_back(now);
      v.push_back(point_id);
      v.push_back(version);
      ASSIGN_OR_RETURN(
          int64_t n,
          c.Exec("UPDATE billing_parameters SET basic_mode = $1, declared_demand_kw = $2, "
                 "tx_method = $3, tx_rated_kva = $4, tx_no_load_loss_kw = $5, tx_load_loss_kw = "
                 "$6, tx_no_load_current_pct = $7, tx_impedance_voltage_pct = $8, tx_correction "
                 "= $9, tx_loss_table = $10, tx_shift_load_kwh = $11, line_loss_rate = $12, "
                 "sub_allocations_json = $13, suspensions_json = $14, household_multiplier = $15, "
                 "free_allowance_kwh = $16, service_start = $17, service_end = $18, "
                 "updated_at_us = $19, version = version + 1 WHERE metering_point_id = $20 AND "
                 "version = $21",
                 v));
      if (n == 0) {
        ASSIGN_OR_RETURN(int64_t current, c.QueryInt("SELECT version FROM billing_parameters WHERE "
                                                     "metering_point_id = $1",
                                                     {point_id}));
        return grid::StaleVersion("billing parameters of metering point " + point.code, point_id,
                                  current, version);
      }
    }
    ASSIGN_OR_RETURN(auto after, LoadParameters(c, point_id));
    if (!after) return Internal("billing parameters vanished after the write");
    RETURN_IF_ERROR(
        org::WriteAudit(c, actor,
                        {before.version == 0 ? "create" : "update", "billing_parameters",
                         std::to_string(point_id), before.version == 0 ? "" : ToJson(before).dump(),
                         ToJson(*after).dump(), point.department_id},
                        now));
    return *after;
  });
}

}  // namespace gridmis::billing
