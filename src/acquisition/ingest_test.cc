#include "acquisition/ingest.h"
#include "reading/billable.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "acquisition/collection_test_util.h"
#include "acquisition/readings.h"
#include "org/actor.h"

namespace gridmis::acquisition {
namespace {

using gdw1376::Frame;
using gdw1376::Group;
using gdw1376::Item;
using gdw1376::MinuteTime;
using gdw1376::TerminalKey;
using testing::AcquisitionField;
using testing::FieldPoint;
using testing::FieldTerminal;

constexpr TerminalKey kKey{3201, 7};

Energy Kwh(const char* text) { return Energy::ParseKwh(text).value(); }

TimeZone Shanghai() { return TimeZone::Load("Asia/Shanghai").value(); }

// A terminal of the snapshot with points 1 (multiplier 1), 2 (multiplier 40) and 3.
RegistryTerminal Terminal() {
  RegistryTerminal t;
  t.id = 11;
  t.key = kKey;
  t.kind = "public_transformer";
  t.department_id = 5;
  t.installed = true;
  t.points = {{1, 101, 1001, 1, true}, {2, 102, 1002, 40, true}, {3, 103, 1003, 1, false}};
  return t;
}

// A reply frame as it comes off the wire: the items encoded, framed, and decoded again.
Frame Reply(uint8_t afn, std::vector<Group> groups) {
  Frame req = gdw1376::MakeRequest(gdw1376::Address{kKey, 1, false}, afn, 3, {});
  Frame reply = gdw1376::MakeResponse(req, afn, std::move(groups));
  auto bytes = gdw1376::Encode(reply);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  if (!bytes.ok()) return reply;
  auto back = gdw1376::Decode(*bytes);
  EXPECT_TRUE(back.ok()) << back.status().ToString();
  return back.ok() ? *back : reply;
}

Group OneItem(uint16_t pn, uint16_t fn, gdw1376::Bytes data) {
  auto g = gdw1376::MakeGroup({pn}, {fn});
  EXPECT_TRUE(g.ok()) << g.status().ToString();
  Group out = g.ok() ? *g : Group{};
  out.items.push_back(Item{pn, fn, std::move(data)});
  return out;
}

gdw1376::Bytes Daily(Date day, std::vector<std::optional<Energy>> values) {
  gdw1376::DailyIndication v;
  v.day = day;
  v.value.reading_time = MinuteTime{day.year, day.month, day.day, 23, 59};
  v.value.rates = static_cast<int>(values.size()) - 1;
  v.value.values = std::move(values);
  return gdw1376::EncodeDailyIndication(v, true);
}

TEST(DecodeDailyFrozenTest, TdPlusOneRatesMultiplierAndMissingData) {
  const Date td{2027, 1, 14};
  Frame f = Reply(
      gdw1376::kAfnClass2,
      {OneItem(1, 161,
               Daily(td, {Kwh("1234.5678"), Kwh("100"), Kwh("200"), Kwh("300.5678"), Kwh("634")})),
       // The peak rate EEH: left out of the row, counted.
       OneItem(2, 161,
               Daily(td, {Kwh("50.0001"), Kwh("10"), std::nullopt, Kwh("20"), Kwh("10.0001")})),
       // No total: no row.
       OneItem(3, 161, Daily(td, {std::nullopt, Kwh("1"), Kwh("1"), Kwh("1"), Kwh("1")})),
       // A point the registry does not map.
       OneItem(9, 161, Daily(td, {Kwh("1"), Kwh("1"), Kwh("0"), Kwh("0"), Kwh("0")}))});
  // Another day than asked: skipped.
  Frame other = Reply(
      gdw1376::kAfnClass2,
      {OneItem(1, 161, Daily(td.AddDays(-1), {Kwh("1"), Kwh("1"), Kwh("0"), Kwh("0"), Kwh("0")}))});
  DecodedData d = DecodeDailyFrozen(Terminal(), {f, other}, td);
  ASSERT_EQ(d.daily.size(), 2u);
  EXPECT_EQ(d.daily[0].metering_point_id, 1001);
  EXPECT_EQ(d.daily[0].day, (Date{2027, 1, 15}));  // frozen at 24:00 of Td_d
  EXPECT_EQ(d.daily[0].multiplier, 1);
  EXPECT_EQ(d.daily[0].registers.at("total"), Kwh("1234.5678"));
  EXPECT_EQ(d.daily[0].registers.at("sharp"), Kwh("100"));
  EXPECT_EQ(d.daily[0].registers.at("peak"), Kwh("200"));
  EXPECT_EQ(d.daily[0].registers.at("flat"), Kwh("300.5678"));
  EXPECT_EQ(d.daily[0].registers.at("valley"), Kwh("634"));
  EXPECT_EQ(d.daily[1].metering_point_id, 1002);
  EXPECT_EQ(d.daily[1].multiplier, 40);
  EXPECT_EQ(d.daily[1].registers.size(), 4u);
  EXPECT_FALSE(d.daily[1].registers.count("peak"));
  EXPECT_EQ(d.collected, (std::set<uint16_t>{1, 2}));
  EXPECT_EQ(d.missing_values, 1 + 5);  // the peak of pn 2; every value of pn 3
  EXPECT_EQ(d.missing_points, 1);
  EXPECT_EQ(d.unknown_points, 1);
  EXPECT_EQ(d.other_period, 1);
  EXPECT_TRUE(d.errors.empty());

  // Without an expected day (an active report) every day counts.
  DecodedData any = DecodeDailyFrozen(Terminal(), {other});
  ASSERT_EQ(any.daily.size(), 1u);
  EXPECT_EQ(any.daily[0].day, td);
}

TEST(DecodeDailyFrozenTest, AMalformedItemIsAnErrorNotARow) {
  Frame f;
  f.afn = gdw1376::kAfnClass2;
  f.groups.push_back(OneItem(1, 161, {0x14, 0x01, 0x27, 0x00}));  // cut short
  DecodedData d = DecodeDailyFrozen(Terminal(), {f});
  EXPECT_TRUE(d.daily.empty());
  ASSERT_EQ(d.errors.size(), 1u);
  EXPECT_NE(d.errors[0].find("pn 1 F161"), std::string::npos) << d.errors[0];
}

TEST(DecodeMonthlyFrozenTest, MonthAndRegisters) {
  gdw1376::MonthlyIndication v;
  v.month = YearMonth{2026, 12};
  v.value.reading_time = MinuteTime{2027, 1, 1, 0, 5};
  v.value.rates = 4;
  v.value.values = {Kwh("900"), Kwh("100"), Kwh("200"), Kwh("300"), Kwh("300")};
  Frame f =
      Reply(gdw1376::kAfnClass2, {OneItem(2, 177, gdw1376::EncodeMonthlyIndication(v, true))});
  DecodedData d = DecodeMonthlyFrozen(Terminal(), {f}, YearMonth{2026, 12});
  ASSERT_EQ(d.monthly.size(), 1u);
  EXPECT_EQ(d.monthly[0].metering_point_id, 1002);
  EXPECT_EQ(d.monthly[0].month, (YearMonth{2026, 12}));
  EXPECT_EQ(d.monthly[0].multiplier, 40);
  EXPECT_EQ(d.monthly[0].registers.at("total"), Kwh("900"));
  EXPECT_TRUE(DecodeMonthlyFrozen(Terminal(), {f}, YearMonth{2026, 11}).monthly.empty());
}

TEST(DecodeCurvesTest, EnergyQuantitiesEndAtTheirPoint) {
  const Date day{2027, 1, 14};
  gdw1376::Curve k;
  k.start = MinuteTime{2027, 1, 14, 0, 15};
  k.density_code = 1;
  k.interval_minutes = 15;
  for (int i = 0; i < 96; ++i) k.energy.push_back(Energy::FromDwh(1000 + i));
  k.energy[10] = std::nullopt;  // EEH
  Frame f = Reply(gdw1376::kAfnClass2, {OneItem(1, 97, gdw1376::EncodeCurve(97, k))});
  DecodedData d = DecodeCurves(Terminal(), {f}, day);
  ASSERT_EQ(d.curves.size(), 1u);
  const Curve& c = d.curves[0];
  EXPECT_EQ(c.metering_point_id, 1001);
  EXPECT_EQ(c.day, day);
  ASSERT_EQ(c.values.size(), 96u);
  EXPECT_EQ(c.values[0], Energy::FromDwh(1000));  // 00:15's point is [00:00, 00:15)
  EXPECT_EQ(c.values[95], Energy::FromDwh(1095));
  EXPECT_FALSE(c.values[10].has_value());
  EXPECT_EQ(c.quality[10], 'M');
  EXPECT_EQ(c.quality[11], 'V');
  EXPECT_EQ(d.missing_values, 1);
  EXPECT_TRUE(d.collected.empty());  // stored, but not complete
}

TEST(DecodeCurvesTest, IndicationsGiveDifferences) {
  const Date day{2027, 1, 14};
  gdw1376::Curve k;
  k.start = MinuteTime{2027, 1, 14, 0, 0};
  k.density_code = 1;
  k.interval_minutes = 15;
  // 97 indications 00:00 .. 24:00, 0.25 kWh apart; one going backwards.
  for (int i = 0; i <= 96; ++i) k.energy.push_back(Energy::FromDwh(5'000'000 + 2500 * i));
  k.energy[50] = Energy::FromDwh(5'000'000 + 2500 * 48);
  Frame f = Reply(gdw1376::kAfnClass2, {OneItem(3, 101, gdw1376::EncodeCurve(101, k))});
  DecodedData d = DecodeCurves(Terminal(), {f}, day);
  ASSERT_EQ(d.curves.size(), 1u);
  const Curve& c = d.curves[0];
  EXPECT_EQ(c.values[0], Energy::FromDwh(2500));
  EXPECT_EQ(c.values[95], Energy::FromDwh(2500));
  EXPECT_EQ(c.values[49], Energy::FromDwh(-2500));  // 12:15 → 12:30 went back
  EXPECT_EQ(c.quality[49], 'S');
  EXPECT_EQ(c.values[50], Energy::FromDwh(7500));
  EXPECT_EQ(d.collected, (std::set<uint16_t>{3}));

  // Without the 24:00 point the last interval is missing.
  k.energy.pop_back();
  Frame short_f = Reply(gdw1376::kAfnClass2, {OneItem(3, 101, gdw1376::EncodeCurve(101, k))});
  DecodedData s = DecodeCurves(Terminal(), {short_f}, day);
  ASSERT_EQ(s.curves.size(), 1u);
  EXPECT_FALSE(s.curves[0].values[95].has_value());
  EXPECT_TRUE(s.collected.empty());
}

TEST(DecodeEventRepliesTest, PowerOffOnAndRemoteTrip) {
  TimeZone tz = Shanghai();
  gdw1376::EventBlock b;
  b.ec1 = 3;
  b.pm = 1;
  b.pn = 3;
  b.records.push_back(
      gdw1376::PowerOffRecord(MinuteTime{2027, 1, 14, 10, 20}, MinuteTime{2027, 1, 14, 10, 21}));
  b.records.push_back(
      gdw1376::RemoteTripRecord(MinuteTime{2027, 1, 14, 11, 0}, 0x01, std::nullopt, std::nullopt));
  Frame f = Reply(gdw1376::kAfnClass3, {OneItem(0, 1, gdw1376::EncodeEvents(b))});
  int64_t received = 1'800'000'000'000'000;
  DecodedEvents ev = DecodeEventReplies(Terminal(), {f}, tz, received);
  ASSERT_TRUE(ev.errors.empty()) << ev.errors[0];
  EXPECT_EQ(ev.ec1, 3);
  ASSERT_EQ(ev.events.size(), 3u);
  int64_t off = tz.StartOfDay(Date{2027, 1, 14}) + (10 * 60 + 20) * kMicrosPerMinute;
  EXPECT_EQ(ev.events[0].kind, "power_off");
  EXPECT_EQ(ev.events[0].erc, 14);
  EXPECT_EQ(ev.events[0].occurred_at_us, off);
  EXPECT_EQ(ev.events[0].ended_at_us, off + kMicrosPerMinute);
  EXPECT_EQ(ev.events[1].kind, "power_on");
  EXPECT_EQ(ev.events[1].occurred_at_us, off + kMicrosPerMinute);
  EXPECT_EQ(ev.events[2].kind, "remote_trip");
  EXPECT_EQ(ev.events[2].terminal_id, 11);
  EXPECT_EQ(ev.events[2].received_at_us, received);
  auto detail = nlohmann::json::parse(ev.events[2].detail_json);
  EXPECT_EQ(detail["erc"], 5);
  EXPECT_EQ(detail["time"], "2027-01-14 11:00");
}

TEST(EventKindTest, KnownAndUnknownCodes) {
  EXPECT_EQ(EventKindOfErc(5), "remote_trip");
  EXPECT_EQ(EventKindOfErc(12), "clock_drift");
  EXPECT_EQ(EventKindOfErc(14), "power_off");
  EXPECT_EQ(EventKindOfErc(37), "cover_open");
  EXPECT_EQ(EventKindOfErc(99), "erc_99");
}

// ---- On a database ----

class IngestDbTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto f = AcquisitionField::Create(GetParam(), clock_);
    if (!f.ok() && GetParam() == "postgres" && !store::testing::PostgresRequiredForTest()) {
      GTEST_SKIP() << f.status().ToString();
    }
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    f_ = std::move(*f);
    auto t = f_->AddTerminal("T-A", "public_transformer", kKey);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    t_ = *t;
    for (uint16_t pn : {1, 2}) {
      auto p = f_->AddPoint(t_, pn, pn == 2 ? "200/5" : "1/1");
      ASSERT_TRUE(p.ok()) << p.status().ToString();
      points_.push_back(*p);
    }
    auto check = f_->AddPoint(t_, 3, "1/1", "check");
    ASSERT_TRUE(check.ok()) << check.status().ToString();
    points_.push_back(*check);
    ASSERT_TRUE(f_->AddUninstalledMeter(t_, 4).ok());
    auto b = f_->AddTerminal("T-B", "special_transformer", TerminalKey{3201, 8}, true);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    t_b_ = *b;
    auto pb = f_->AddPoint(t_b_, 1);
    ASSERT_TRUE(pb.ok()) << pb.status().ToString();
    point_b_ = *pb;
    auto stock =
        f_->AddTerminal("T-STOCK", "special_transformer", TerminalKey{3201, 9}, false, "in_stock");
    ASSERT_TRUE(stock.ok()) << stock.status().ToString();
  }

  store::Database& db() { return f_->db(); }
  int64_t Count(const std::string& sql, const store::Params& params = {}) {
    auto n = db().ReadValue<int64_t>([&](store::Connection& c) { return c.QueryInt(sql, params); });
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? *n : -1;
  }

  Curve DayCurve(int64_t point, Date day, int64_t base) {
    Curve k;
    k.metering_point_id = point;
    k.day = day;
    for (int i = 0; i < 96; ++i) {
      k.values.push_back(Energy::FromDwh(base + i));
      k.quality += 'V';
    }
    return k;
  }

  FakeClock clock_{1'800'000'000'000'000};  // 2027-01-15 16:00 in Shanghai
  TimeZone tz_ = Shanghai();
  std::unique_ptr<AcquisitionField> f_;
  FieldTerminal t_, t_b_;
  std::vector<FieldPoint> points_;
  FieldPoint point_b_;
};

TEST_P(IngestDbTest, CurvesRoundTripAndReplaceTheDay) {
  const Date day{2027, 1, 14};
  Curve a = DayCurve(points_[0].point_id, day, 100);
  a.values[5].reset();
  a.quality[5] = 'M';
  a.values[6] = Energy::FromDwh(-3);
  a.quality[6] = 'S';
  a.quality[7] = 'E';
  Curve b = DayCurve(points_[1].point_id, day.AddDays(-1), 7);
  b.multiplier = 40;
  ASSERT_TRUE(db().Write([&](store::Connection& c) { return StoreCurves(c, {a, b}); }).ok());
  auto loaded = db().ReadValue<std::vector<Curve>>([&](store::Connection& c) {
    return LoadCurves(c, {points_[1].point_id, points_[0].point_id}, day.AddDays(-5), day);
  });
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ASSERT_EQ(loaded->size(), 2u);
  const Curve& la = (*loaded)[0];
  EXPECT_EQ(la.metering_point_id, points_[0].point_id);
  EXPECT_EQ(la.values, a.values);
  EXPECT_EQ(la.quality, a.quality);
  EXPECT_EQ((*loaded)[1].multiplier, 40);
  EXPECT_EQ((*loaded)[1].day, day.AddDays(-1));
  EXPECT_EQ(Count("SELECT missing_count FROM load_curves WHERE metering_point_id = $1",
                  {points_[0].point_id}),
            1);

  // The whole day is replaced.
  Curve a2 = DayCurve(points_[0].point_id, day, 9);
  ASSERT_TRUE(db().Write([&](store::Connection& c) { return StoreCurves(c, {a2}); }).ok());
  auto again = db().ReadValue<std::vector<Curve>>(
      [&](store::Connection& c) { return LoadCurves(c, {points_[0].point_id}, day, day); });
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ((*again)[0].values, a2.values);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM load_curves"), 2);
}

TEST_P(IngestDbTest, BadCurvesAreRefusedNamingTheRowAndChangeNothing) {
  const Date day{2027, 1, 14};
  auto refused = [&](Curve k, const std::string& field, const std::string& words) {
    Curve good = DayCurve(points_[0].point_id, day, 1);
    Status s = db().Write([&](store::Connection& c) { return StoreCurves(c, {good, k}); });
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
    EXPECT_EQ(s.field(), field) << s.ToString();
    EXPECT_NE(s.message().find(words), std::string::npos) << s.message();
  };
  Curve k = DayCurve(points_[1].point_id, day, 1);
  k.values.pop_back();
  refused(k, "values", "95 values");
  k = DayCurve(points_[1].point_id, day, 1);
  k.quality[3] = 'x';
  refused(k, "quality", "value 3");
  k = DayCurve(points_[1].point_id, day, 1);
  k.quality[4] = 'M';
  refused(k, "quality", "value 4: a value flagged missing");
  k = DayCurve(points_[1].point_id, day, 1);
  k.values[8].reset();
  refused(k, "quality", "not flagged missing");
  k = DayCurve(points_[1].point_id, day, 1);
  k.values[9] = Energy::FromDwh(-1);
  refused(k, "values", "negative");
  k = DayCurve(987654, day, 1);
  refused(k, "metering_point_id", "does not exist");
  k = DayCurve(points_[1].point_id, day, 1);
  k.interval_minutes = 7;
  refused(k, "interval_minutes", "interval");
  k = DayCurve(points_[1].point_id, day, 1);
  k.quantity = "voltage";
  refused(k, "quantity", "unknown quantity");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM load_curves"), 0);
}

TEST_P(IngestDbTest, MonthlyFrozenUpsertAndLoad) {
  MonthlyFrozen m;
  m.metering_point_id = points_[1].point_id;
  m.month = YearMonth{2026, 12};
  m.multiplier = 40;
  m.registers = {{"total", Kwh("10.5")}, {"peak", Kwh("3")}};
  m.reading_time_us = clock_.NowMicros();
  ASSERT_TRUE(db().Write([&](store::Connection& c) {
                    return StoreMonthlyFrozen(c, {m}, clock_.NowMicros());
                  })
                  .ok());
  m.registers["total"] = Kwh("11");
  ASSERT_TRUE(db().Write([&](store::Connection& c) {
                    return StoreMonthlyFrozen(c, {m}, clock_.NowMicros());
                  })
                  .ok());
  auto rows = db().ReadValue<std::vector<MonthlyFrozen>>([&](store::Connection& c) {
    return LoadMonthlyFrozen(c, {m.metering_point_id}, YearMonth{2026, 1}, YearMonth{2027, 1});
  });
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].registers.at("total"), Kwh("11"));
  EXPECT_EQ((*rows)[0].registers.at("peak"), Kwh("3"));
  EXPECT_EQ((*rows)[0].registers.size(), 2u);
  EXPECT_EQ((*rows)[0].reading_time_us, clock_.NowMicros());
  // A row needs its total.
  m.registers = {{"peak", Kwh("3")}};
  Status s = db().Write(
      [&](store::Connection& c) { return StoreMonthlyFrozen(c, {m}, clock_.NowMicros()); });
  EXPECT_EQ(s.field(), "registers.total") << s.ToString();
}

TEST_P(IngestDbTest, EventsAreStoredOnceAndQueriedInScope) {
  MeterEvent off;
  off.terminal_id = t_.id;
  off.metering_point_id = points_[0].point_id;
  off.erc = 14;
  off.kind = "power_off";
  off.occurred_at_us = clock_.NowMicros() - 3600 * kMicrosPerSecond;
  off.detail_json = R"({"erc":14})";
  off.received_at_us = clock_.NowMicros();
  MeterEvent trip = off;
  trip.erc = 5;
  trip.kind = "remote_trip";
  trip.metering_point_id.reset();
  MeterEvent other = off;
  other.terminal_id = t_b_.id;
  other.metering_point_id = point_b_.point_id;
  std::vector<MeterEvent> batch = {off, trip, other};
  auto n = db().WriteValue<int64_t>([&](store::Connection& c) { return InsertEvents(c, &batch); });
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 3);
  EXPECT_GT(batch[0].id, 0);
  // Read again (the terminal's records read twice), the power-off now with its restoration.
  off.ended_at_us = off.occurred_at_us + kMicrosPerMinute;
  off.detail_json = R"({"erc":14,"end":1})";
  std::vector<MeterEvent> again = {off, trip};
  n = db().WriteValue<int64_t>([&](store::Connection& c) { return InsertEvents(c, &again); });
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0);
  EXPECT_EQ(again[0].id, 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM meter_events"), 3);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM meter_events WHERE ended_at_us IS NOT NULL"), 1);

  auto query = [&](EventQuery q) {
    int64_t total = 0;
    auto r = db().ReadValue<std::vector<MeterEvent>>(
        [&](store::Connection& c) { return QueryEvents(c, q, &total); });
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::vector<MeterEvent>{};
  };
  EventQuery q;
  EXPECT_EQ(query(q).size(), 3u);
  q.kind = "power_off";
  EXPECT_EQ(query(q).size(), 2u);
  q.departments = std::vector<int64_t>{f_->u().county_b};
  auto in_b = query(q);
  ASSERT_EQ(in_b.size(), 1u);
  EXPECT_EQ(in_b[0].terminal_id, t_b_.id);
  q = EventQuery{};
  q.metering_point_id = points_[0].point_id;
  EXPECT_EQ(query(q).size(), 1u);
  q = EventQuery{};
  q.from_us = off.occurred_at_us + 1;
  EXPECT_TRUE(query(q).empty());
}

TEST_P(IngestDbTest, TerminalStatusFollowsTheFrontEnd) {
  using K = TerminalStatusChange::Kind;
  int64_t t0 = clock_.NowMicros();
  auto apply = [&](std::vector<TerminalStatusChange> ch) {
    return db().Write([&](store::Connection& c) { return ApplyTerminalStatus(c, ch, t0); });
  };
  ASSERT_TRUE(apply({{t_.id, K::kOnline, "10.0.0.1:5000", "", t0},
                     {t_.id, K::kSeen, "", "", t0 + 60 * kMicrosPerSecond},
                     {t_b_.id, K::kOnline, "10.0.0.2:5000", "", t0}})
                  .ok());
  // A new login, then the old connection reports its end: still online.
  ASSERT_TRUE(
      apply({{t_.id, K::kOnline, "10.0.0.1:6000", "", t0 + 120 * kMicrosPerSecond},
             {t_.id, K::kOffline, "", "replaced by a new login", t0 + 100 * kMicrosPerSecond},
             {t_b_.id, K::kOffline, "", "idle timeout", t0 + 200 * kMicrosPerSecond}})
          .ok());
  auto rows = db().ReadValue<std::vector<TerminalStatus>>([&](store::Connection& c) {
    return LoadTerminalStatus(c, {t_b_.id, t_.id});
  });
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  const TerminalStatus& a = (*rows)[0].terminal_id == t_.id ? (*rows)[0] : (*rows)[1];
  const TerminalStatus& b = (*rows)[0].terminal_id == t_.id ? (*rows)[1] : (*rows)[0];
  EXPECT_TRUE(a.online);
  EXPECT_EQ(a.peer, "10.0.0.1:6000");
  EXPECT_EQ(a.logins, 2);
  EXPECT_EQ(a.login_at_us, t0 + 120 * kMicrosPerSecond);
  EXPECT_EQ(a.last_seen_us, t0 + 120 * kMicrosPerSecond);
  EXPECT_FALSE(b.online);
  EXPECT_EQ(b.offline_reason, "idle timeout");
  EXPECT_EQ(b.offline_at_us, t0 + 200 * kMicrosPerSecond);

  auto n = db().WriteValue<int64_t>(
      [&](store::Connection& c) { return MarkAllOffline(c, "master station restarted", t0); });
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM terminal_status WHERE online = 1"), 0);

  Status bad = apply({{987654, K::kOnline, "x", "", t0}});
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.field(), "terminal_id");
}

TEST_P(IngestDbTest, TheRegistrySnapshot) {
  auto reg = db().ReadValue<std::shared_ptr<const Registry>>(
      [](store::Connection& c) { return Registry::Load(c); });
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  const RegistryTerminal* t = (*reg)->Find(kKey);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->id, t_.id);
  EXPECT_EQ(t->kind, "public_transformer");
  EXPECT_EQ(t->department_id, f_->u().station_a);
  EXPECT_TRUE(t->installed);
  ASSERT_EQ(t->points.size(), 3u);  // pn 4's meter is installed nowhere
  EXPECT_EQ(t->unmapped_meters, 1);
  EXPECT_EQ(t->FindPoint(1)->metering_point_id, points_[0].point_id);
  EXPECT_EQ(t->FindPoint(2)->multiplier, 40);
  EXPECT_TRUE(t->FindPoint(1)->billing);
  EXPECT_FALSE(t->FindPoint(3)->billing);  // a check meter
  EXPECT_EQ(t->FindPoint(4), nullptr);
  EXPECT_EQ((*reg)->FindById(t_b_.id)->key, (TerminalKey{3201, 8}));
  EXPECT_FALSE((*reg)->Find(TerminalKey{3201, 9})->installed);
  EXPECT_EQ((*reg)->Find(TerminalKey{3201, 10}), nullptr);
  EXPECT_EQ((*reg)->point_count(), 4);

  // The ingestor answers the front end from it, and a registry change reloads it.
  Ingestor ingestor(db(), clock_, tz_);
  ASSERT_TRUE(ingestor.RefreshRegistry().ok());
  EXPECT_TRUE(ingestor.IsKnown(kKey));
  EXPECT_FALSE(ingestor.IsKnown(TerminalKey{3201, 9}));   // in stock
  EXPECT_FALSE(ingestor.IsKnown(TerminalKey{3201, 10}));  // not registered
  std::string before = ingestor.registry()->fingerprint();
  auto fresh = f_->AddTerminal("T-NEW", "special_transformer", TerminalKey{3201, 10});
  ASSERT_TRUE(fresh.ok());
  ASSERT_TRUE(ingestor.RefreshRegistry().ok());
  EXPECT_NE(ingestor.registry()->fingerprint(), before);
  EXPECT_TRUE(ingestor.IsKnown(TerminalKey{3201, 10}));
  EXPECT_EQ(ingestor.Stats().unknown_terminals, 2u);
}

TEST_P(IngestDbTest, CollectionKeepsWhatAPersonEditedAndValuesItDidNotGetAgain) {
  Ingestor ingestor(db(), clock_, tz_);
  const Date day{2027, 1, 14};
  int64_t p = points_[0].point_id;
  // A day's registers a person edited, and a curve with an edited and a collected interval.
  reading::DailyFrozen edited;
  edited.metering_point_id = p;
  edited.day = day;
  edited.registers["total"] = Energy::FromDwh(1'000'000);
  edited.quality = "edited";
  Curve stored = DayCurve(p, day, 100);
  stored.values[3] = Energy::FromDwh(5);
  stored.quality[3] = 'D';
  ASSERT_TRUE(db().Write([&](store::Connection& c) -> Status {
                    RETURN_IF_ERROR(reading::StoreDailyFrozen(c, {edited}));
                    return StoreCurves(c, {stored});
                  })
                  .ok());
  // Collection brings the day again: other registers for the edited day (kept), a new day
  // (stored), and a curve with a new value where the edit is and a gap where a value was.
  DecodedData d;
  reading::DailyFrozen again = edited;
  again.registers["total"] = Energy::FromDwh(2'000'000);
  again.quality = "valid";
  reading::DailyFrozen next = again;
  next.day = day.AddDays(1);
  d.daily = {again, next};
  Curve recollected = DayCurve(p, day, 900);
  recollected.values[5].reset();
  recollected.quality[5] = 'M';
  d.curves = {recollected};
  ASSERT_TRUE(db().Write([&](store::Connection& c) { return ingestor.StoreDecoded(c, d); }).ok());

  EXPECT_EQ(Count("SELECT total_dwh FROM daily_frozen_reads WHERE metering_point_id = $1 AND "
                  "day = $2",
                  {p, DayKey(day)}),
            1'000'000);
  EXPECT_EQ(Count("SELECT total_dwh FROM daily_frozen_reads WHERE metering_point_id = $1 AND "
                  "day = $2",
                  {p, DayKey(day.AddDays(1))}),
            2'000'000);
  auto curves = db().ReadValue<std::vector<Curve>>(
      [&](store::Connection& c) { return LoadCurves(c, {p}, day, day); });
  ASSERT_TRUE(curves.ok()) << curves.status().ToString();
  ASSERT_EQ(curves->size(), 1u);
  const Curve& k = (*curves)[0];
  EXPECT_EQ(k.values[3], Energy::FromDwh(5));  // the edit
  EXPECT_EQ(k.quality[3], 'D');
  EXPECT_EQ(k.values[5], Energy::FromDwh(105));  // collected before, missing now: kept
  EXPECT_EQ(k.quality[5], 'V');
  EXPECT_EQ(k.values[6], Energy::FromDwh(906));  // collected again: the new value
}

TEST_P(IngestDbTest, TheIngestorWritesWhatTheFrontEndReports) {
  IngestorOptions o;
  o.write_interval = std::chrono::milliseconds(5);
  Ingestor ingestor(db(), clock_, tz_, o);
  ASSERT_TRUE(ingestor.Start().ok());
  int64_t t0 = clock_.NowMicros();
  ingestor.OnOnline(kKey, "10.9.8.7:40000", t0);
  ingestor.OnOnline(TerminalKey{3201, 8}, "10.9.8.8:40000", t0);
  ingestor.OnOffline(TerminalKey{3201, 8}, "logout", t0 + kMicrosPerSecond);
  ingestor.OnOnline(TerminalKey{4444, 4}, "10.0.0.1:1", t0);  // unknown: ignored
  // An active report of a daily freeze (class-2 timed task) and of an event.
  const Date td{2027, 1, 14};
  ingestor.OnReport(
      kKey,
      Reply(gdw1376::kAfnClass2,
            {OneItem(2, 161, Daily(td, {Kwh("12.5"), Kwh("1"), Kwh("2"), Kwh("3"), Kwh("6.5")}))}),
      t0);
  gdw1376::EventBlock b;
  b.ec1 = 1;
  b.pm = 0;
  b.pn = 1;  // the records are pointers Pm..Pn-1
  b.records.push_back(gdw1376::PowerOffRecord(MinuteTime{2027, 1, 15, 9, 0}, std::nullopt));
  ingestor.OnReport(kKey, Reply(gdw1376::kAfnClass3, {OneItem(0, 1, gdw1376::EncodeEvents(b))}),
                    t0);
  ASSERT_TRUE(ingestor.Flush(std::chrono::seconds(10)));
  ingestor.Stop();

  EXPECT_EQ(Count("SELECT online FROM terminal_status WHERE terminal_id = $1", {t_.id}), 1);
  EXPECT_EQ(Count("SELECT online FROM terminal_status WHERE terminal_id = $1", {t_b_.id}), 0);
  auto frozen = db().ReadValue<std::vector<reading::DailyFrozen>>([&](store::Connection& c) {
    return reading::LoadDailyFrozen(c, {points_[1].point_id}, td, td.AddDays(1));
  });
  ASSERT_TRUE(frozen.ok()) << frozen.status().ToString();
  ASSERT_EQ(frozen->size(), 1u);
  EXPECT_EQ((*frozen)[0].day, td.AddDays(1));
  EXPECT_EQ((*frozen)[0].multiplier, 40);
  EXPECT_EQ((*frozen)[0].registers.at("valley"), Kwh("6.5"));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM meter_events WHERE kind = 'power_off' AND terminal_id = "
                  "$1 AND ended_at_us IS NULL",
                  {t_.id}),
            1);
  IngestorStats s = ingestor.Stats();
  EXPECT_EQ(s.reports, 2u);
  EXPECT_EQ(s.report_rows, 1u);
  EXPECT_EQ(s.events_stored, 1u);
  EXPECT_EQ(s.write_errors, 0u) << s.last_error;
}

TEST_P(IngestDbTest, StartMarksTerminalsLeftOnlineOffline) {
  ASSERT_TRUE(db().Write([&](store::Connection& c) {
                    return ApplyTerminalStatus(
                        c, {{t_.id, TerminalStatusChange::Kind::kOnline, "p", "", 1}}, 1);
                  })
                  .ok());
  Ingestor ingestor(db(), clock_, tz_);
  ASSERT_TRUE(ingestor.Start().ok());
  ingestor.Stop();
  EXPECT_EQ(Count("SELECT COUNT(*) FROM terminal_status WHERE online = 0 AND offline_reason = "
                  "'master station restarted'"),
            1);
}

INSTANTIATE_TEST_SUITE_P(Backends, IngestDbTest,
                         ::testing::ValuesIn(store::testing::AvailableBackendsForTest()),
                         [](const auto& p) { return p.param; });

}  // namespace
}  // namespace gridmis::acquisition
