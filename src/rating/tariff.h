// The tariff catalogue (电价目录): versioned tariffs with effective dates, loaded from data files
// (TOML, one file per province, shipped under data/tariffs/ and compiled into the binary; more
// directories may be configured). Every figure is data: prices, tier bounds, TOU ratios and
// period tables, demand and capacity prices, fund rates and their exemptions, loss tables, and
// the province's rating policies (tariffs.md §0.2). Each figure carries the confidence label of
// the reference (§0.1): V verified, T third party, M domain knowledge, I illustrative.
//
// The file format is documented in data/tariffs/README.md. A catalogue is immutable once built
// and safe to share between threads (the bill run rates on several threads at once).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/decimal.h"
#include "core/money.h"
#include "core/status.h"
#include "core/time.h"

namespace gridmis::rating {

// Customer classes (用电类别) a tariff belongs to; funds and late fees depend on them.
enum class TariffCategory { kResidential, kCommercial, kLargeIndustry, kAgricultural, kOther };
std::string_view CategoryName(TariffCategory c);  // residential, commercial, ...
std::string_view CategoryNameZh(TariffCategory c);  // 居民生活, 一般工商业, 大工业, 农业生产, 其他
std::optional<TariffCategory> ParseCategory(std::string_view name);

// Time-of-use periods (时段): 尖峰 1, 高峰 2, 平段 3, 低谷 4, 深谷 5 (tariffs.md §3.3).
enum class TouPeriod { kSharp = 0, kPeak, kFlat, kValley, kDeepValley };
inline constexpr int kTouPeriodCount = 5;
std::string_view TouPeriodName(TouPeriod p);    // sharp, peak, flat, valley, deep_valley
std::string_view TouPeriodNameZh(TouPeriod p);  // 尖峰, 高峰, 平段, 低谷, 深谷
std::optional<TouPeriod> ParseTouPeriod(std::string_view name);

// Confidence label of a figure (tariffs.md §0.1), plus kIllustrative for fixture figures that
// have no source at all (the file says why).
enum class Verification { kVerified, kThirdParty, kMemory, kIllustrative };
std::string_view VerificationName(Verification v);  // "V", "T", "M", "I"

// A set of calendar months, bit m-1 for month m.
struct MonthSet {
  uint16_t bits = 0;
  static constexpr MonthSet All() { return MonthSet{0x0FFF}; }
  bool Has(int month) const { return month >= 1 && month <= 12 && (bits >> (month - 1)) & 1; }
  std::vector<int> Months() const;
};

// A document a figure comes from.
struct Source {
  std::string id;        // key in the file's [sources]
  std::string title;     // e.g. "内发改价费字〔2023〕1630号"
  std::string cited_by;  // where the reference read it, e.g. "cronx TestNewPeriod"
  std::string url;
  Verification label = Verification::kMemory;
};

// Energy prices of one season of a TOU tariff: the months it covers and the price of each
// period it prices. Derived prices (flat base × ratio, rounded as the province says) are
// computed when the catalogue loads; `derivation` says how, for display.
struct SeasonPrices {
  std::string name;  // e.g. "windy" (大风季), "" for a single season
  MonthSet months;
  std::array<std::optional<Price>, kTouPeriodCount> price;
  std::array<std::string, kTouPeriodCount> derivation;  // "0.6500 × 1.7", "1.1050 × 1.25"
};

// Residential tiers (居民阶梯): three tiers, tier k up to and including bound k (≤, §2.3).
struct TierSchedule {
  enum class Cycle { kYear, kMonth };
  struct Bounds {
    MonthSet months;       // the months (by 电费年月) these bounds apply to
    int64_t upper_kwh[2];  // upper bounds of tiers 1 and 2 per cycle
  };
  Cycle cycle = Cycle::kYear;
  std::vector<Bounds> bounds;  // covers all 12 months
  // Added to the base energy price (flat or each TOU period) in tiers 2 and 3 (§0.3 rule 1).
  Price increment[2] = {Price::FromNanoYuanX10(0), Price::FromNanoYuanX10(0)};

  const Bounds& BoundsFor(int month) const;
};

enum class EnergyPricing { kFlat, kTou };

// One effective-dated version of a tariff. All prices are yuan, tax-inclusive.
struct TariffVersion {
  std::string code;     // the tariff's code, e.g. "large_industry_10kv"
  std::string name_zh;  // "大工业用电 1-10千伏"
  TariffCategory category = TariffCategory::kOther;
  std::string voltage;  // lv (不满1千伏), 10kv (1-10千伏), 35kv, 110kv, 220kv
  Date effective_from;
  std::optional<Date> effective_to;  // last day in force, inclusive; empty = open
  std::string id;                    // "code@effective_from", e.g. "residential_lv@2024-01-01"

  EnergyPricing pricing = EnergyPricing::kFlat;
  Price flat_price = Price::FromNanoYuanX10(
      0);  // kFlat: the (tier 1) price; kTou: the flat base when derived, else 0
  std::vector<SeasonPrices> seasons;  // kTou: exactly one season covers each month
  std::optional<TierSchedule> tiers;  // residential tiers
  // The price already includes the government funds (residential, agricultural catalogue
  // prices): no fund lines, also not on a share of another point carved out at this price.
  bool funds_included = false;
  std::optional<Price> capacity_price;  // 容量电价, yuan per kVA·month
  std::optional<Price> demand_price;    // 需量电价, yuan per kW·month
  std::string tou_table;                // key into TariffCatalogue::tou_tables(); "" = none

  std::vector<std::string> sources;            // keys into TariffCatalogue::sources()
  Verification label = Verification::kMemory;  // of every figure not in `labels`
  std::map<std::string, Verification> labels;  // figure key ("tiers.bounds") -> label
  std::string note;

  bool InForce(Date day) const {
    return effective_from <= day && (!effective_to || day <= *effective_to);
  }
  // The season of `month` (kTou), or nullptr.
  const SeasonPrices* SeasonFor(int month) const;
  // The energy price of `period` in `month` at tier 1 (kFlat: flat_price for every period).
  std::optional<Price> PeriodPrice(TouPeriod period, int month) const;
  Verification LabelOf(std::string_view figure) const;
};

// All versions of one tariff code, in effective order without overlaps.
struct Tariff {
  std::string code;
  std::vector<TariffVersion> versions;
};

// A government fund or surcharge (政府性基金及附加, §7), itemised on tariffs whose price does not
// include it, except on the exempt categories.
struct Fund {
  std::string code;                        // e.g. "gov_funds"
  std::string name_zh;                     // "政府性基金及附加"
  Price rate = Price::FromNanoYuanX10(0);  // yuan per kWh, e.g. 0.02766875
  Date effective_from;
  std::optional<Date> effective_to;
  std::vector<TariffCategory> exempt;
  std::vector<std::string> sources;
  Verification label = Verification::kMemory;

  bool AppliesTo(TariffCategory c, Date day) const;
};

// The TOU period table (时段表) by season: [from, to) minute ranges covering the day. Used for
// display, prepaid estimation and the simulator; bills take period energy from the registers.
struct TouTable {
  struct Range {
    int from_minute = 0;  // 0..1439
    int to_minute = 0;    // 1..1440, after from_minute
    TouPeriod period = TouPeriod::kFlat;
  };
  struct Season {
    std::string name;
    MonthSet months;
    std::vector<Range> ranges;  // sorted, contiguous, 00:00 to 24:00
  };
  std::string name;
  std::string description;
  std::vector<std::string> sources;
  Verification label = Verification::kMemory;
  std::vector<Season> seasons;  // exactly one covers each month

  TouPeriod PeriodAt(int month, int minute_of_day) const;
};

// A transformer loss table (变损表, §6.4 table method): monthly (30-day) losses by load ratio for
// one transformer model and shift pattern. The row with load ratio 0 is the no-load row.
struct LossTable {
  struct Row {
    Decimal load_ratio;  // 0.0 .. 1.1, one decimal
    int64_t active_kwh = 0;
    int64_t reactive_kvarh = 0;
  };
  std::string name;
  std::string description;
  int64_t rated_kva = 0;
  std::vector<Row> rows;  // ascending load ratio, the first is 0.0
  Verification label = Verification::kIllustrative;

  // The row for a load ratio (one decimal, ≤ 1.1): the exact row, or the next higher one.
  const Row& RowFor(Decimal load_ratio) const;
};

// ---- Policies (tariffs.md §0.2 rule 3, §0.3): the reference's defaults ----

enum class TierProration { kMonths, kDays, kNone };            // §2.5
enum class DemandOverage { kStandard, kAlternative };          // §4.2
enum class SubAllocationOrder { kLossesFirst, kLossesAfter };  // §0.3 rule 4
enum class EnergyRounding { kWholeKwhHalfUp, kExact };         // §9.1 residential 计费电量

// Late fees (电费违约金, §8), applied by the accounts module.
struct LateFeePolicy {
  Decimal residential_daily_rate = {1, 3};   // 1‰ per day
  Decimal current_year_daily_rate = {2, 3};  // 2‰, arrears of the bill's own year
  Decimal cross_year_daily_rate = {3, 3};    // 3‰, days in a later year than the bill's
  Money minimum = Money::FromFen(100);       // a total under 1.00 yuan is charged as 1.00
  bool count_payment_day = true;             // the fee runs up to and including the pay day
  bool residential_waived = false;           // some utilities waive residential late fees
  // §0.3 rule 7: each overdue day takes the rate of its own year compared with the bill's year
  // (true); false: the whole arrear takes the cross-year rate once the year has turned.
  bool rate_by_day_year = true;
};

struct Policy {
  TierProration tier_proration = TierProration::kMonths;
  DemandOverage demand_overage = DemandOverage::kStandard;
  // 260 kWh per kVA in the month → the demand price at 90 %.
  bool high_utilisation_discount = true;
  int64_t high_utilisation_kwh_per_kva = 260;
  Decimal high_utilisation_price_ratio = {9, 1};
  // Σ period registers may differ from the total register by this much per period register
  // (register difference, before the multiplier); the remainder goes to `tou_remainder_period`.
  Energy tou_register_tolerance = Energy::FromDwh(100);  // 0.01 kWh
  TouPeriod tou_remainder_period = TouPeriod::kFlat;
  EnergyRounding residential_energy_rounding = EnergyRounding::kWholeKwhHalfUp;
  bool pf_includes_losses = true;  // §0.3 rule 3
  SubAllocationOrder sub_allocation_order = SubAllocationOrder::kLossesFirst;
  Decimal no_reactive_meter_pf = {8, 1};  // transformer loss without a reactive meter (§6.4)
  // Non-residential points of this capacity and above need a power-factor standard (§5.1,
  // §0.3 rule 10); below it they are not assessed.
  int64_t pf_assessed_min_kva = 100;
  LateFeePolicy late_fee;
  int bill_due_days = 15;  // 交费截止日期 = issue date + N days
};

std::string_view TierProrationName(TierProration p);  // months, days, none
std::string_view DemandOverageName(DemandOverage d);  // standard, alternative

class TariffCatalogue {
 public:
  // The catalogue of `province` ("nmg_west", "guangdong", "zhejiang"): the file
  // "<province>.toml" of the first of `extra_dirs` that has one, else the compiled-in file.
  // Errors name the file, line, key and reason.
  static Result<std::shared_ptr<const TariffCatalogue>> Load(
      std::string_view province, const std::vector<std::string>& extra_dirs = {});
  // From TOML texts (file name → text): the files of one province, merged (codes must not
  // repeat; at most one file has [policies]). For tests and `gridmis tariff check`.
  static Result<std::shared_ptr<const TariffCatalogue>> FromTexts(
      const std::map<std::string, std::string>& files);
  // Reads and validates one file or every *.toml of a directory, each file on its own (for
  // `gridmis tariff check`): one result per file, or one error when the path is unusable.
  struct CheckResult {
    std::string file;
    Status status;
    std::shared_ptr<const TariffCatalogue> catalogue;  // when status is OK
  };
  static std::vector<CheckResult> CheckPath(const std::string& file_or_dir);
  // The compiled-in catalogues: file name ("nmg_west.toml") → text.
  static const std::map<std::string, std::string>& CompiledIn();

  // The version of `code` in force on `day` (NotFound naming code and day).
  Result<const TariffVersion*> Find(std::string_view code, Date day) const;
  const Tariff* FindTariff(std::string_view code) const;  // nullptr when unknown
  // The versions of `code` in force on some day of [first, last], in order; NotFound when the
  // code is unknown or a day of the range has no version.
  Result<std::vector<const TariffVersion*>> VersionsCovering(std::string_view code, Date first,
                                                             Date last) const;

  const std::string& province() const { return province_; }
  const std::string& name() const { return name_; }
  const std::string& note() const { return note_; }
  const std::vector<std::string>& files() const { return files_; }
  const Policy& policy() const { return policy_; }
  const std::vector<Tariff>& tariffs() const { return tariffs_; }  // by code
  const std::vector<Fund>& funds() const { return funds_; }
  const std::map<std::string, Source, std::less<>>& sources() const { return sources_; }
  const std::map<std::string, TouTable, std::less<>>& tou_tables() const { return tou_tables_; }
  const std::map<std::string, LossTable, std::less<>>& loss_tables() const { return loss_tables_; }
  const LossTable* FindLossTable(std::string_view name) const;
  const TouTable* FindTouTable(std::string_view name) const;

 private:
  friend class CatalogueBuilder;
  TariffCatalogue() = default;

  std::string province_;
  std::string name_;
  std::string note_;
  std::vector<std::string> files_;
  Policy policy_;
  std::vector<Tariff> tariffs_;
  std::map<std::string, size_t, std::less<>> index_;  // code → tariffs_ position
  std::vector<Fund> funds_;
  std::map<std::string, Source, std::less<>> sources_;
  std::map<std::string, TouTable, std::less<>> tou_tables_;
  std::map<std::string, LossTable, std::less<>> loss_tables_;
};

}  // namespace gridmis::rating
