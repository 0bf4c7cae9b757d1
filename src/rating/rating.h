// The rating engine (计费): a pure function from a metering point's billing configuration, its
// billable reads, a tariff version and the calendar to a bill whose every line carries quantity,
// unit price, amount, the rule that made it and the reads it came from.
//
// No I/O, no clock, no database: the bill run, the trial calculation (試算), the CLI and the
// tests all call Rate() with data they gathered. Money and energy are exact (core/money.h); lines
// round to the fen half up (四舍五入) as tariffs.md §9 says, and the bill total is the sum of its
// rounded lines. Rules marked province-specific in the reference are policies
// (TariffCatalogue::policy()), chosen per catalogue, with the reference's recommended defaults.
//
// The order of operations is tariffs.md §1: register differences (rollover) × multiplier, meter
// replacement, adjustments, transformer and line losses allocated to the TOU registers, fixed
// ratio / fixed quantity carve-outs, tiers and TOU prices, basic charge, power factor, funds.
//
// Conventions the reference leaves open, decided here:
// - Energy not on a period register (the §0.3 rule 2 remainder, adjustments, refunds) goes to the
//   policy's remainder period (flat), or by share when the tariff does not price that period.
// - TOU prices and seasons are those of the 电费年月 (`period`) month.
// - A price change inside [first_day, last_day] splits every share's energy by daily frozen
//   totals when `daily_total` covers every day, else by days (largest remainder, whole kWh for
//   residential); tiers walk through the parts in time order with unchanged bounds.
// - The basic charge is that of the calendar month of `period` (used days / 30 unless the whole
//   month), priced by the version in force at the end of the read period.
// - The power-factor base is the basic charge plus the energy charges of the non-residential
//   shares (carve-outs included), funds excluded; P includes transformer and line losses and Q
//   the transformer's reactive loss when the policy says so (§0.3 rule 3).
// - Line losses: (energy + transformer loss) × agreed rate, whole kWh.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/money.h"
#include "core/status.h"
#include "core/time.h"
#include "rating/tariff.h"

namespace gridmis::rating {

// One meter's part of the billing period: the whole period, or the part before or after a
// replacement (换表). Registers are the names of metering::AllRegisters(): total, sharp, peak,
// flat, valley, export, reactive_import, reactive_export, max_demand. Cumulative registers are
// read at `start` and `end` (kWh / kvarh, exact to 0.0001); max_demand is the period's maximum
// reading (kW) and appears in `end` only.
struct MeterSpan {
  std::string meter_asset_no;  // for the lines' sources
  int64_t multiplier = 1;      // 综合倍率 = CT × PT
  // Integer digits of the register (e.g. 6 for 999999.99); 0 = unknown, so a reading below the
  // previous one is an error rather than a rollover (tariffs.md §0.3 rule 8).
  int register_integer_digits = 0;
  std::map<std::string, Energy> start;
  std::map<std::string, Energy> end;
  std::string start_source;  // e.g. "install 2026-03-14", "read #812 2026-02-28"
  std::string end_source;
};

// 定比 / 定量: a share of this point's energy billed at another tariff (e.g. office lighting
// inside a factory at the commercial price).
struct SubAllocation {
  std::string tariff_code;
  std::optional<Decimal> ratio;      // 定比, e.g. 0.03; exactly one of ratio / fixed_kwh
  std::optional<int64_t> fixed_kwh;  // 定量 per month, capped at the total
  std::string label;                 // "办公照明"
};

// Transformer on the customer's side of a low-side metered supply (高供低计), tariffs.md §6.4.
struct TransformerLossConfig {
  enum class Method { kFormula, kTable };
  Method method = Method::kFormula;
  int64_t rated_kva = 0;               // Se
  Decimal no_load_loss_kw;             // P0
  Decimal load_loss_kw;                // Pk
  Decimal no_load_current_pct;         // I0%
  Decimal impedance_voltage_pct;       // Uk%
  Decimal correction = Decimal{1, 0};  // K
  // Table method: the loss table row chosen by load ratio (see tariff.h LossTable).
  std::string loss_table;      // key into the catalogue's loss tables
  int64_t shift_load_kwh = 0;  // 班次负荷电量 per 30 days, for the table's load ratio
};

enum class BasicChargeMode { kNone, kCapacity, kDeclaredDemand, kActualDemand };

// A closed range of days during which the equipment was sealed (暂停) — no basic charge.
struct DayRange {
  Date first;
  Date last;
};

struct RatingInput {
  std::string metering_point_code;
  YearMonth period;  // 电费年月
  // The days the reads cover, inclusive (the day after the previous reading day .. this reading
  // day). Used for proration and the transformer's hours.
  Date first_day;
  Date last_day;
  std::string tariff_code;
  std::vector<MeterSpan> meters;  // in time order; two or more when a meter was replaced
  Energy adjustment;              // 增减电量 (may be negative), before losses (§1 step 4)
  Energy refund_energy;           // 退补电量 (may be negative), after losses (§1 step 6)
  std::string adjustment_reason;

  // Two-part tariff.
  BasicChargeMode basic_mode = BasicChargeMode::kNone;
  int64_t capacity_kva = 0;                   // in service; the 40% declared-demand floor's base
  std::optional<int64_t> declared_demand_kw;  // required for kDeclaredDemand
  // kDeclaredDemand and kActualDemand need a max_demand reading. A two-part (large industry)
  // tariff refuses kNone.
  // Days in service this month for basic-charge proration: the days from connection or to
  // termination; empty = the whole month.
  std::optional<Date> service_start;
  std::optional<Date> service_end;
  std::vector<DayRange> suspensions;  // the whole point sealed (暂停) on these days

  // Power factor: "0.90", "0.85", "0.80" or "none". "none" is refused for a non-residential
  // point of policy().pf_assessed_min_kva (100) and above (§0.3 rule 10); a standard needs the
  // reactive registers.
  std::string pf_standard = "none";

  // Losses when not metered at the property boundary.
  std::optional<TransformerLossConfig> transformer;
  std::optional<Decimal> line_loss_rate;  // 协议线损率, e.g. 0.02

  std::vector<SubAllocation> sub_allocations;

  // Residential tiers: the tier energy already billed in this tier year before this bill
  // (whole kWh), the months in service this tier year when connected or closed within it
  // (empty = 12; for tiers_proration = months), and the household's base multiplier
  // (一户多人口, ≥1) and free allowance (低保/五保, kWh per month).
  int64_t tier_cumulative_kwh = 0;
  std::optional<int> tier_months_in_service;
  std::optional<int> tier_days_in_service;  // for tier_proration = days
  int64_t household_multiplier = 1;
  int64_t free_allowance_kwh = 0;

  // Daily consumption of the total register (kWh, from daily frozen reads) when known: splits
  // the energy at a price change exactly; otherwise it is split by days.
  std::map<Date, Energy> daily_total;
};

// One line of a bill.
struct BillLine {
  std::string kind;         // energy, tier_increment, basic_capacity, basic_demand, basic_overage,
                            // pf_adjustment, fund, free_allowance
  std::string rule;         // the rule that made it, e.g. "tariffs.md §2.4 tier 2 increment"
  std::string description;  // zh-CN, as printed on the bill: "峰段电度电费", "阶梯二档加价"
  std::string tariff_code;
  std::string period_code;  // sharp, peak, flat, valley, deep_valley, or "" (TOU period)
  int tier = 0;             // 1..3 for tier lines
  Decimal quantity;         // kWh, kW·month, kVA·month, or the base in yuan (pf_adjustment)
  std::string unit;         // kWh, kW, kVA, yuan
  Decimal unit_price;       // yuan per unit; for pf_adjustment the rate, e.g. 0.025
  Money amount;
  std::vector<std::string> sources;  // the reads and working values it came from
  std::string tariff_version;        // "code@effective_from" of the version that priced it
  std::string share;                 // "" for the point's own tariff, else the carve-out label
  // Basic charge of a partial month: amount = quantity × unit_price × days / days_base
  // (days_base 30, tariffs.md §0.3 rule 5); 0/0 for a whole month and for other lines.
  int days = 0;
  int days_base = 0;
  // The part of the period the line covers when a price changed inside it (else empty).
  std::optional<Date> from;
  std::optional<Date> to;
};

// Working values (电量 derivation) that the bill prints beside its lines.
struct EnergyBreakdown {
  std::map<std::string, Energy> metered;   // 抄见电量 per register (diff × multiplier)
  std::map<std::string, Energy> replaced;  // 换表电量 per register (old meters' part)
  std::map<std::string, Energy> loss;      // 变损 + 线损 per register (whole kWh)
  std::map<std::string, Energy> billed;    // 计费电量 per register (main tariff)
  Energy transformer_active_loss;          // ΔA
  Energy transformer_reactive_loss;        // ΔR
  Energy line_loss;
  Energy max_demand_kw;  // × multiplier
};

struct RatedBill {
  std::string metering_point_code;
  YearMonth period;
  std::string tariff_code;
  std::string tariff_version;  // code@effective_from (comma-joined when the price changed)
  EnergyBreakdown energy;
  int64_t billed_kwh = 0;           // total 计费电量 in whole kWh (all tariffs)
  int64_t tier_kwh[3] = {0, 0, 0};  // energy in tiers 1..3 this bill
  int64_t tier_cumulative_after_kwh = 0;
  std::optional<Decimal> power_factor;    // 2 decimals
  std::optional<Decimal> pf_adjust_rate;  // e.g. 0.025 = +2.5 %
  Money energy_charge;                    // 电度电费 (energy + tier lines)
  Money basic_charge;                     // 基本电费
  Money pf_charge;                        // 力调电费
  Money fund_charge;                      // 政府性基金及附加
  Money total;                            // sum of all lines
  std::vector<BillLine> lines;

  std::string tariff_category;         // residential, commercial, ... (late fees, reports)
  std::optional<Decimal> pf_standard;  // 0.90 / 0.85 / 0.80 when assessed
  Money pf_base;  // 参与调整电费金额: basic + energy charges the PF rate applies to
  int64_t tier_bounds_kwh[2] = {0, 0};  // this bill's tier upper bounds (after proration)
  std::vector<std::string> notes;       // working notes printed with the bill (zh-CN)
};

// Register names (metering::AllRegisters()): total, sharp, peak, flat, valley, export,
// reactive_import, reactive_export, max_demand.
bool IsKnownRegister(std::string_view name);

// Errors are InvalidArgument (or FailedPrecondition for missing configuration, NotFound for a
// tariff unknown or not in force) with a message naming the cause: "register peak of meter
// 3301...: reading 120.00 below previous 999850.00 and the register's digit count is unknown",
// "declared demand is required for demand billing". Pure and thread-safe: the catalogue is only
// read.
Result<RatedBill> Rate(const RatingInput& in, const TariffCatalogue& catalogue);

// ---- Pieces, exposed for tests and for the trial page's explanations ----

// 功率因数 from active P and reactive Q (any consistent unit), two decimals half up, decided
// exactly: returns e.g. Decimal{85, 2}.
Decimal PowerFactor(Energy active, Energy reactive);
// The 1983 table: rate for a power factor (2 decimals) and a standard ("0.90"/"0.85"/"0.80"),
// as a fraction (Decimal{25, 3} = +2.5 %; negative = reduction).
Result<Decimal> PowerFactorAdjustment(Decimal pf, std::string_view standard);
// Register difference with rollover: InvalidArgument when end < start and the digit count is
// unknown or the consumption would exceed 10 % of the register range.
Result<Energy> RegisterDifference(Energy start, Energy end, int integer_digits,
                                  std::string_view what);

}  // namespace gridmis::rating
