#include "reading/billable.h"

#include <gtest/gtest.h>

#include "reading/reading_test_fixture.h"

namespace gridmis::reading {
namespace {

class BillableTest : public ReadingDbTest {
 protected:
  Result<std::vector<BillableRead>> Load(BillableQuery q) {
    return u_->db().ReadValue<std::vector<BillableRead>>(
        [&](store::Connection& c) { return LoadBillableReads(c, q); });
  }
  Result<int64_t> Unbillable(BillableQuery q) {
    return u_->db().ReadValue<int64_t>([&](store::Connection& c) { return CountUnbillable(c, q); });
  }
  void MustEnter(int64_t point, Date date, Registers regs) {
    auto r = Enter(point, date, std::move(regs));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->status, "approved") << r->findings.front().message;
  }
};

TEST_P(BillableTest, PagesOfApprovedReadsWithTheirSpans) {
  std::vector<int64_t> points;
  for (int i = 1; i <= 5; ++i) {
    int64_t p = MakePoint("MP-A00" + std::to_string(i));
    points.push_back(p);
    MustEnter(p, {2026, 11, 25}, R({{"total", "300"}, {"peak", "180"}, {"valley", "120"}}));
    MustEnter(p, {2026, 12, 25}, R({{"total", "500"}, {"peak", "300"}, {"valley", "200"}}));
  }
  int64_t other = MakePoint("MP-B001", true);
  ASSERT_TRUE(reading_
                  ->EnterRead(clerk_b_, {other,
                                         std::nullopt,
                                         {2026, 12, 25},
                                         R({{"total", "10"}, {"peak", "6"}, {"valley", "4"}})})
                  .ok());

  BillableQuery q;
  q.period = {2026, 12};
  q.department_id = u_->county_a;
  q.limit = 2;
  std::vector<BillableRead> all;
  std::vector<size_t> pages;
  for (;;) {
    auto page = Load(q);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    if (page->empty()) break;
    pages.push_back(page->size());
    for (auto& r : *page) all.push_back(std::move(r));
    q.after_point_id = all.back().metering_point_id;
  }
  EXPECT_EQ(pages, (std::vector<size_t>{2, 2, 1}));
  ASSERT_EQ(all.size(), 5u);
  for (size_t i = 0; i < all.size(); ++i) {
    const BillableRead& r = all[i];
    EXPECT_EQ(r.metering_point_id, points[i]);
    EXPECT_EQ(r.period, (YearMonth{2026, 12}));
    EXPECT_EQ(r.first_day, (Date{2026, 11, 26}));
    EXPECT_EQ(r.last_day, (Date{2026, 12, 25}));
    EXPECT_EQ(r.source, "manual");
    EXPECT_FALSE(r.estimated);
    ASSERT_EQ(r.spans.size(), 1u);
    const BillableSpan& s = r.spans[0];
    EXPECT_EQ(s.meter_asset_no, "M-MP-A00" + std::to_string(i + 1));
    EXPECT_EQ(s.multiplier, 1);
    EXPECT_EQ(s.register_integer_digits, 6);
    EXPECT_EQ(s.start.at("total"), Kwh("300"));
    EXPECT_EQ(s.start.at("valley"), Kwh("120"));
    EXPECT_EQ(s.end.at("total"), Kwh("500"));
    EXPECT_EQ(s.end.at("peak"), Kwh("300"));
    EXPECT_EQ(s.end_source, "read #" + std::to_string(r.read_id) + " 2026-12-25");
    EXPECT_EQ(s.start_source.rfind("read #", 0), 0u);
    EXPECT_TRUE(r.daily_total.empty());  // not asked for
  }
  // The company sees both counties; a segment filter narrows.
  q = BillableQuery{};
  q.period = {2026, 12};
  q.department_id = u_->root;
  EXPECT_EQ(Load(q)->size(), 6u);
  q.limit = 0;
  EXPECT_EQ(Load(q).status().field(), "limit");
}

TEST_P(BillableTest, FirstReadsAndReplacementsMakeSpans) {
  // A first read starts at the installation reading.
  int64_t fresh = MakePoint("MP-NEW", false, {"total"}, 6, {2026, 12, 3}, R({{"total", "12.5"}}));
  MustEnter(fresh, {2026, 12, 25}, R({{"total", "112.5"}}));
  // A replacement in the period: the old meter to its removal, the new one from its installation.
  int64_t swapped = MakePoint("MP-SWAP", false, {"total", "max_demand"});
  MustEnter(swapped, {2026, 11, 25}, R({{"total", "5230"}, {"max_demand", "3.2"}}));
  metering::ReplaceInput swap;
  swap.at_us = At({2026, 12, 10}, 9);
  swap.remove_readings = R({{"total", "5310"}, {"max_demand", "3.5"}});
  swap.new_meter_id = MakeMeter("M-NEW", false, {"total", "max_demand"}, 6, "200/5");
  swap.install_readings = R({{"total", "0"}, {"max_demand", "0"}});
  ASSERT_TRUE(metering_->Replace(sys_, swapped, swap).ok());
  auto r = Enter(swapped, {2026, 12, 25}, R({{"total", "145"}, {"max_demand", "0.1"}}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->status, "flagged");  // meter_replaced (and far above last month: ×40)
  BillableQuery q;
  q.period = {2026, 12};
  q.department_id = u_->county_a;
  EXPECT_EQ(Load(q)->size(), 1u);  // the flagged one is not billable yet
  ASSERT_TRUE(reading_->Approve(reviewer_, r->id, r->version).ok());

  auto reads = Load(q);
  ASSERT_TRUE(reads.ok()) << reads.status().ToString();
  ASSERT_EQ(reads->size(), 2u);
  const BillableRead& first = (*reads)[0];
  EXPECT_EQ(first.metering_point_id, fresh);
  EXPECT_EQ(first.first_day, (Date{2026, 12, 3}));
  ASSERT_EQ(first.spans.size(), 1u);
  EXPECT_EQ(first.spans[0].start.at("total"), Kwh("12.5"));
  EXPECT_EQ(first.spans[0].start_source, "install 2026-12-03");
  EXPECT_EQ(first.spans[0].end.at("total"), Kwh("112.5"));

  const BillableRead& two = (*reads)[1];
  EXPECT_EQ(two.metering_point_id, swapped);
  EXPECT_EQ(two.first_day, (Date{2026, 11, 26}));
  ASSERT_EQ(two.spans.size(), 2u);
  EXPECT_EQ(two.spans[0].meter_asset_no, "M-MP-SWAP");
  EXPECT_EQ(two.spans[0].multiplier, 1);
  EXPECT_EQ(two.spans[0].start.at("total"), Kwh("5230"));
  EXPECT_EQ(two.spans[0].end.at("total"), Kwh("5310"));
  EXPECT_EQ(two.spans[0].end.at("max_demand"), Kwh("3.5"));
  EXPECT_EQ(two.spans[0].end_source, "remove 2026-12-10");
  EXPECT_EQ(two.spans[1].meter_asset_no, "M-NEW");
  EXPECT_EQ(two.spans[1].multiplier, 40);
  EXPECT_EQ(two.spans[1].start.at("total"), Kwh("0"));
  EXPECT_EQ(two.spans[1].start_source, "install 2026-12-10");
  EXPECT_EQ(two.spans[1].end.at("total"), Kwh("145"));
  EXPECT_EQ(two.spans[1].installation_id, r->installation_id);
}

TEST_P(BillableTest, ACorrectedPreviousReadStartsTheNextPeriod) {
  // Corrected before the next read (a read with a later one is not corrected).
  int64_t p = MakePoint("MP-A001", false, {"total"});
  MustEnter(p, {2026, 11, 25}, R({{"total", "300"}}));
  grid::CappedCount total;
  auto nov = reading_->ListReads(reviewer_, {.metering_point_id = p, .period = YearMonth{2026, 11}},
                                 &total);
  ASSERT_EQ(nov->size(), 1u);
  ASSERT_TRUE(reading_
                  ->Correct(reviewer_, (*nov)[0].id, (*nov)[0].version,
                            {R({{"total", "320"}}), std::nullopt, "transcription"})
                  .ok());
  MustEnter(p, {2026, 12, 25}, R({{"total", "500"}}));
  BillableQuery q;
  q.period = {2026, 12};
  q.department_id = u_->county_a;
  auto reads = Load(q);
  ASSERT_EQ(reads->size(), 1u);
  EXPECT_EQ((*reads)[0].spans[0].start.at("total"), Kwh("320"));
  q.period = {2026, 11};
  reads = Load(q);
  ASSERT_EQ(reads->size(), 1u);
  EXPECT_EQ((*reads)[0].source, "correction");
  EXPECT_EQ((*reads)[0].spans[0].end.at("total"), Kwh("320"));
}

TEST_P(BillableTest, APreviousReadMonthsBefore) {
  // Read in August, not again until December: the period runs from the August read.
  int64_t p = MakePoint("MP-GAP", false, {"total"}, 6, {2026, 6, 1});
  MustEnter(p, {2026, 8, 25}, R({{"total", "300"}}));
  MustEnter(p, {2026, 12, 25}, R({{"total", "1000"}}));
  BillableQuery q;
  q.period = {2026, 12};
  q.department_id = u_->county_a;
  auto reads = Load(q);
  ASSERT_TRUE(reads.ok()) << reads.status().ToString();
  ASSERT_EQ(reads->size(), 1u);
  EXPECT_EQ((*reads)[0].first_day, (Date{2026, 8, 26}));
  EXPECT_EQ((*reads)[0].spans[0].start.at("total"), Kwh("300"));
  EXPECT_EQ((*reads)[0].spans[0].start_source.substr((*reads)[0].spans[0].start_source.size() - 10),
            "2026-08-25");
}

TEST_P(BillableTest, CountUnbillable) {
  int64_t ok = MakePoint("MP-OK"), flagged = MakePoint("MP-FLAG"), none = MakePoint("MP-NONE");
  int64_t bi = MakePoint("MP-BI");
  for (int64_t p : {ok, flagged}) {
    MustEnter(p, {2026, 11, 25}, R({{"total", "300"}, {"peak", "180"}, {"valley", "120"}}));
  }
  MustEnter(ok, {2026, 12, 25}, R({{"total", "500"}, {"peak", "300"}, {"valley", "200"}}));
  ASSERT_TRUE(
      Enter(flagged, {2026, 12, 25}, R({{"total", "300"}, {"peak", "180"}, {"valley", "120"}}))
          .ok());
  grid::CappedCount listed;
  EXPECT_TRUE(reading_->ListReads(reviewer_, {.metering_point_id = none}, &listed)->empty());
  // A bimonthly segment (odd months) has nothing to read in December.
  SegmentInput in;
  in.code = "SEG-BI";
  in.name = "双月段";
  in.department_id = u_->county_a;
  in.reading_day = 20;
  in.cycle = "bimonthly";
  auto seg = reading_->CreateSegment(reader_, in);
  ASSERT_TRUE(seg.ok());
  ASSERT_TRUE(reading_->AddPoints(reader_, seg->id, seg->version, {bi}).ok());
  BillableQuery q;
  q.period = {2026, 12};
  q.department_id = u_->county_a;
  EXPECT_EQ(*Unbillable(q), 2);  // the flagged one and the one without a read
  q.period = {2027, 1};
  EXPECT_EQ(*Unbillable(q), 4);
  q.period = {2026, 12};
  q.department_id = u_->county_b;
  EXPECT_EQ(*Unbillable(q), 0);
  q.department_id = u_->county_a;
  q.segment_id = seg->id;
  EXPECT_EQ(*Unbillable(q), 0);
}

TEST_P(BillableTest, DailyTotalsFromCompleteFrozenRows) {
  // 2 kWh a day on the register from the installation on: 112 kWh by 2026-11-25.
  int64_t full =
      MakePoint("MP-FULL", false, {"total"}, 6, {2026, 10, 1}, R({{"total", "888"}}), "100/5");
  int64_t gap = MakePoint("MP-GAP", false, {"total"}, 6, {2026, 10, 1}, R({{"total", "888"}}));
  MustEnter(full, {2026, 11, 25}, R({{"total", "1000"}}));
  MustEnter(gap, {2026, 11, 25}, R({{"total", "1000"}}));
  // Frozen rows from 2026-11-26 (the end of the 25th) to 2026-12-26: +2 kWh a day.
  std::vector<DailyFrozen> rows;
  for (int d = 0; d <= 30; ++d) {
    Date day = Date{2026, 11, 26}.AddDays(d);
    for (int64_t p : {full, gap}) {
      if (p == gap && d == 10) continue;
      DailyFrozen f;
      f.metering_point_id = p;
      f.day = day;
      f.multiplier = p == full ? 20 : 1;
      f.registers = R({{"total", "1000"}});
      f.registers["total"] = Kwh("1000") + Energy::FromKwh(2 * d);
      rows.push_back(f);
    }
  }
  ASSERT_TRUE(u_->db().Write([&](store::Connection& c) { return StoreDailyFrozen(c, rows); }).ok());
  MustEnter(full, {2026, 12, 25}, R({{"total", "1060"}}));
  MustEnter(gap, {2026, 12, 25}, R({{"total", "1060"}}));
  BillableQuery q;
  q.period = {2026, 12};
  q.department_id = u_->county_a;
  q.with_daily_total = true;
  auto reads = Load(q);
  ASSERT_TRUE(reads.ok()) << reads.status().ToString();
  ASSERT_EQ(reads->size(), 2u);
  const auto& daily = (*reads)[0].daily_total;
  ASSERT_EQ(daily.size(), 30u);
  EXPECT_EQ(daily.begin()->first, (Date{2026, 11, 26}));
  EXPECT_EQ(daily.rbegin()->first, (Date{2026, 12, 25}));
  Energy sum;
  for (const auto& [day, e] : daily) {
    EXPECT_EQ(e, Energy::FromKwh(40)) << day.ToString();  // 2 kWh × multiplier 20
    sum = sum + e;
  }
  EXPECT_EQ(sum, Energy::FromKwh(1200));
  EXPECT_TRUE((*reads)[1].daily_total.empty());  // a day is missing

  // LoadDailyFrozen: by point then day.
  auto frozen = u_->db().ReadValue<std::vector<DailyFrozen>>([&](store::Connection& c) {
    return LoadDailyFrozen(c, {gap, full}, {2026, 12, 5}, {2026, 12, 7});
  });
  ASSERT_TRUE(frozen.ok()) << frozen.status().ToString();
  ASSERT_EQ(frozen->size(), 5u);  // gap has no 2026-12-06
  EXPECT_EQ((*frozen)[0].metering_point_id, std::min(gap, full));
  EXPECT_EQ((*frozen)[0].day, (Date{2026, 12, 5}));
}

TEST_P(BillableTest, StoreDailyFrozenUpsertsAndChecks) {
  int64_t p = MakePoint("MP-A001");
  DailyFrozen f;
  f.metering_point_id = p;
  f.day = {2026, 12, 1};
  f.multiplier = 1;
  f.registers = R({{"total", "100"}, {"peak", "60"}});
  auto store = [&](std::vector<DailyFrozen> rows) {
    return u_->db().Write([&](store::Connection& c) { return StoreDailyFrozen(c, rows); });
  };
  ASSERT_TRUE(store({f}).ok());
  f.registers = R({{"total", "101"}, {"peak", "61"}, {"valley", "40"}});
  f.quality = "edited";
  ASSERT_TRUE(store({f}).ok());  // a later value for the same day replaces the earlier
  auto rows = reading_->DailyFrozenOfPoint(reader_, p, Date{2026, 11, 1}, Date{2026, 12, 31});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].registers.at("total"), Kwh("101"));
  EXPECT_EQ((*rows)[0].registers.at("valley"), Kwh("40"));
  EXPECT_EQ((*rows)[0].quality, "edited");
  EXPECT_EQ(reading_->DailyFrozenOfPoint(clerk_b_, p, std::nullopt, std::nullopt).status().code(),
            StatusCode::kNotFound);

  DailyFrozen bad = f;
  bad.registers["sharpest"] = Kwh("1");
  Status st = store({f, bad});
  EXPECT_EQ(st.field(), "registers.sharpest");
  EXPECT_NE(st.message().find("metering point " + std::to_string(p) + " on 2026-12-01"),
            std::string::npos);
  bad = f;
  bad.metering_point_id = 999999;
  st = store({bad});
  EXPECT_NE(st.message().find("999999 does not exist"), std::string::npos);
  bad = f;
  bad.quality = "guessed";
  EXPECT_EQ(store({bad}).field(), "quality");
  // Many rows at once (batches of a hundred).
  std::vector<DailyFrozen> many;
  for (int d = 0; d < 250; ++d) {
    DailyFrozen x = f;
    x.day = Date{2026, 1, 1}.AddDays(d);
    many.push_back(x);
  }
  ASSERT_TRUE(store(many).ok());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM daily_frozen_reads"), 251);  // and 2026-12-01
}

GRIDMIS_READING_BACKENDS(BillableTest);

}  // namespace
}  // namespace gridmis::reading
