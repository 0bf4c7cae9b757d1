// Rating throughput: bills per second of rating::Rate for the three shapes the bill run meets
// most (a residential tiered bill, a commercial TOU bill, a large-industry two-part bill with
// power factor and funds). The bill run's target is 1,000,000 bills in under 60 s on 2 cores
// including database I/O, so Rate() must cost a few microseconds.
//
//   rating_bench [--benchmark_filter=...]     (items_per_second = bills/s on one core)
#include <benchmark/benchmark.h>

#include <cstdio>

#include "rating/json.h"
#include "rating/rating.h"
#include "rating/tariff.h"

namespace gridmis::rating {
namespace {

Energy Kwh(const char* s) { return *Energy::ParseKwh(s); }

RatingInput Base(const char* tariff, const char* period) {
  RatingInput in;
  in.metering_point_code = "1500000001-01";
  in.period = *YearMonth::Parse(period);
  in.first_day = in.period.FirstDay();
  in.last_day = in.period.LastDay();
  in.tariff_code = tariff;
  return in;
}

MeterSpan Span(const char* asset, int64_t multiplier,
               std::initializer_list<std::pair<const char*, const char*>> regs) {
  MeterSpan m;
  m.meter_asset_no = asset;
  m.multiplier = multiplier;
  m.register_integer_digits = 6;
  m.start_source = "read 2026-09-30";
  m.end_source = "read 2026-10-31";
  for (const auto& [name, end] : regs) {
    if (std::string_view(name) != "max_demand") m.start[name] = Kwh("1000");
    m.end[name] = Kwh(end);
  }
  return m;
}

RatingInput Residential() {
  RatingInput in = Base("residential_lv", "2026-10");
  in.meters.push_back(Span("1509000001", 1, {{"total", "1231.57"}}));
  in.tier_cumulative_kwh = 2050;
  return in;
}

RatingInput CommercialTou() {
  RatingInput in = Base("commercial_lv", "2026-10");
  in.meters.push_back(Span("1509000002", 20,
                           {{"total", "1500"},
                            {"sharp", "1000"},
                            {"peak", "1150"},
                            {"flat", "1200"},
                            {"valley", "1150"},
                            {"reactive_import", "1200"}}));
  in.capacity_kva = 125;
  in.pf_standard = "0.85";
  return in;
}

RatingInput LargeIndustry() {
  RatingInput in = Base("large_industry_10kv", "2026-10");
  in.meters.push_back(Span("1509000003", 2000,
                           {{"total", "1200.50"},
                            {"sharp", "1000"},
                            {"peak", "1060"},
                            {"flat", "1080.25"},
                            {"valley", "1060.25"},
                            {"reactive_import", "1125"},
                            {"reactive_export", "1000"},
                            {"max_demand", "0.65"}}));
  in.basic_mode = BasicChargeMode::kDeclaredDemand;
  in.capacity_kva = 2000;
  in.declared_demand_kw = 1200;
  in.pf_standard = "0.90";
  return in;
}

const TariffCatalogue& Catalogue() {
  static auto c = *TariffCatalogue::Load("nmg_west");
  return *c;
}

void RunRate(benchmark::State& state, const RatingInput& in) {
  const TariffCatalogue& cat = Catalogue();
  auto check = Rate(in, cat);
  if (!check.ok()) {
    state.SkipWithError(check.status().ToString().c_str());
    return;
  }
  int64_t lines = 0;
  for (auto _ : state) {
    auto b = Rate(in, cat);
    benchmark::DoNotOptimize(b);
    lines += static_cast<int64_t>(b->lines.size());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["lines/bill"] = benchmark::Counter(
      static_cast<double>(lines) / static_cast<double>(std::max<int64_t>(1, state.iterations())));
}

void BM_RateResidentialTiered(benchmark::State& state) { RunRate(state, Residential()); }
void BM_RateCommercialTou(benchmark::State& state) { RunRate(state, CommercialTou()); }
void BM_RateLargeIndustryTwoPartPf(benchmark::State& state) { RunRate(state, LargeIndustry()); }

// The bill JSON the trial page and the bill store serialise, for comparison.
void BM_BillToJson(benchmark::State& state) {
  auto b = *Rate(LargeIndustry(), Catalogue());
  for (auto _ : state) {
    auto j = ToJson(b);
    benchmark::DoNotOptimize(j);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_CatalogueLoad(benchmark::State& state) {
  for (auto _ : state) {
    auto c = TariffCatalogue::Load("nmg_west");
    benchmark::DoNotOptimize(c);
  }
}

BENCHMARK(BM_RateResidentialTiered);
BENCHMARK(BM_RateCommercialTou);
BENCHMARK(BM_RateLargeIndustryTwoPartPf);
BENCHMARK(BM_BillToJson);
BENCHMARK(BM_CatalogueLoad);

}  // namespace
}  // namespace gridmis::rating

BENCHMARK_MAIN();
