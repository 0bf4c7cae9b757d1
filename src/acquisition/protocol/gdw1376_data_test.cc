// Q/GDW 1376.1 Appendix A formats and data units: the values of every vector with `data`, then
// each format and data unit on its own (exact bytes, EEH, bounds, round trips through frames).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "acquisition/protocol/gdw1376.h"
#include "acquisition/protocol/gdw1376_test_util.h"

namespace gridmis::acquisition::gdw1376 {
namespace {

using nlohmann::json;
using testutil::FormatMinute;
using testutil::FromHex;
using testutil::ToHex;

// An energy from the vector's decimal number, exactly ("12345.6789" → 123456789 dWh); null →
// missing.
std::optional<Energy> ExpectedEnergy(const json& j) {
  if (j.is_null()) return std::nullopt;
  Result<Energy> e = Energy::ParseKwh(j.dump());
  EXPECT_TRUE(e.ok()) << j.dump();
  return e.ok() ? std::optional<Energy>(*e) : std::nullopt;
}

void ExpectEnergies(const std::vector<std::optional<Energy>>& got, const json& total_and_rates) {
  ASSERT_EQ(got.size(), total_and_rates.at("rates").size() + 1);
  EXPECT_EQ(got[0], ExpectedEnergy(total_and_rates.at("total")));
  for (size_t i = 0; i < total_and_rates.at("rates").size(); ++i) {
    EXPECT_EQ(got[i + 1], ExpectedEnergy(total_and_rates.at("rates")[i])) << "rate " << i + 1;
  }
}

// A measured (not billed) value: compared as a number; null → missing.
void ExpectFixed(const std::optional<Fixed>& got, const json& want, const std::string& what) {
  if (want.is_null()) {
    EXPECT_FALSE(got.has_value()) << what;
    return;
  }
  ASSERT_TRUE(got.has_value()) << what;
  EXPECT_NEAR(static_cast<double>(got->units) / std::pow(10.0, got->scale), want.get<double>(),
              1e-9)
      << what;
}

void ExpectClock(const ClockTime& c, const json& want) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", c.year, c.month, c.day, c.hour,
                c.minute, c.second);
  EXPECT_EQ(buf, want.at("datetime").get<std::string>());
  EXPECT_EQ(c.weekday, want.at("weekday").get<int>());
}

void ExpectIndicationSet(const IndicationSet& s, const json& d, uint16_t fn) {
  EXPECT_EQ(FormatMinute(s.reading_time), d.at("reading_time").get<std::string>());
  EXPECT_EQ(s.rates, d.at("rates_M").get<int>());
  bool forward = fn == 33 || fn == 1 || fn == 17;
  const char* names[4] = {"fwd_active_kWh", "fwd_reactive_kvarh", "q1_reactive_kvarh",
                          "q4_reactive_kvarh"};
  const char* rev[4] = {"rev_active_kWh", "rev_reactive_kvarh", "q2_reactive_kvarh",
                        "q3_reactive_kvarh"};
  for (size_t k = 0; k < 4; ++k) {
    SCOPED_TRACE(forward ? names[k] : rev[k]);
    ExpectEnergies(s.values[k], d.at(forward ? names[k] : rev[k]));
  }
}

// Checks the decoded value of one item against the vector's `data`.
// `canonical`: the item re-encodes byte for byte (not so when a value is only partly EEH: it
// comes back all EEH).
void CheckData(const Frame& f, const Item& item, const json& d, bool canonical) {
  const ByteSpan data(item.data);
  if (f.afn == kAfnClass1 && item.fn == 129) {
    Result<Indication> v = DecodeIndication(data, true);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_EQ(FormatMinute(v->reading_time), d.at("reading_time").get<std::string>());
    EXPECT_EQ(v->rates, d.at("rates_M").get<int>());
    ExpectEnergies(v->values, d.at("fwd_active_kWh"));
    EXPECT_EQ(EncodeIndication(*v, true), item.data);
  } else if (f.afn == kAfnClass1 && (item.fn == 33 || item.fn == 34)) {
    Result<IndicationSet> v = DecodeIndicationSet(data);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    ExpectIndicationSet(*v, d, item.fn);
    if (canonical) {
      EXPECT_EQ(EncodeIndicationSet(*v), item.data);
    }
  } else if (f.afn == kAfnClass2 && (item.fn == 1 || item.fn == 2)) {
    Result<Date> day = DecodeTd(data);
    ASSERT_TRUE(day.ok());
    EXPECT_EQ(day->ToString(), d.at("Td_d").get<std::string>());
    Result<IndicationSet> v = DecodeIndicationSet(data.subspan(3));
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    ExpectIndicationSet(*v, d, item.fn);
  } else if (f.afn == kAfnClass2 && (item.fn == 17 || item.fn == 18)) {
    Result<YearMonth> m = DecodeTdMonth(data);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->ToString(), d.at("Td_m").get<std::string>());
    Result<IndicationSet> v = DecodeIndicationSet(data.subspan(2));
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    ExpectIndicationSet(*v, d, item.fn);
  } else if (f.afn == kAfnClass2 && item.fn == 161) {
    Result<DailyIndication> v = DecodeDailyIndication(data, true);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_EQ(v->day.ToString(), d.at("Td_d").get<std::string>());
    EXPECT_EQ(FormatMinute(v->value.reading_time), d.at("reading_time").get<std::string>());
    EXPECT_EQ(v->value.rates, d.at("rates_M").get<int>());
    ExpectEnergies(v->value.values, d.at("fwd_active_kWh"));
    EXPECT_EQ(EncodeDailyIndication(*v, true), item.data);
  } else if (f.afn == kAfnClass2 && item.fn == 101) {
    Result<Curve> c = DecodeCurve(101, data);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    const json& tdc = d.at("Td_c");
    EXPECT_EQ(FormatMinute(c->start), tdc.at("start").get<std::string>());
    EXPECT_EQ(c->density_code, tdc.at("density_m").get<int>());
    EXPECT_EQ(c->interval_minutes, 30);
    const json& points = d.at("fwd_active_total_kWh_points");
    ASSERT_EQ(c->energy.size(), static_cast<size_t>(tdc.at("points_n").get<int>()));
    ASSERT_EQ(c->energy.size(), points.size());
    for (size_t i = 0; i < points.size(); ++i) {
      EXPECT_EQ(c->energy[i], ExpectedEnergy(points[i])) << "point " << i;
    }
    EXPECT_TRUE(c->fixed.empty());
    EXPECT_EQ(EncodeCurve(101, *c), item.data);
  } else if (f.afn == kAfnClass1 && item.fn == 25) {
    Result<RealTimePower> v = DecodeRealTimePower(data);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_EQ(FormatMinute(v->reading_time), d.at("reading_time").get<std::string>());
    const char* ph[] = {"total", "a", "b", "c"};
    for (size_t i = 0; i < 4; ++i) {
      ExpectFixed(v->p[i], d.at(std::string("P_") + ph[i] + "_kW"), "P");
      ExpectFixed(v->q[i], d.at(std::string("Q_") + ph[i] + "_kvar"), "Q");
      ExpectFixed(v->pf[i], d.at(std::string("PF_") + ph[i] + "_pct"), "PF");
      ExpectFixed(v->s[i], d.at(std::string("S_") + ph[i] + "_kVA"), "S");
    }
    for (size_t i = 0; i < 3; ++i) {
      ExpectFixed(v->u[i], d.at(std::string("U_") + ph[i + 1] + "_V"), "U");
      ExpectFixed(v->i[i], d.at(std::string("I_") + ph[i + 1] + "_A"), "I");
    }
    ExpectFixed(v->i[3], d.at("I_zero_A"), "I0");
    EXPECT_EQ(EncodeRealTimePower(*v), item.data);
  } else if ((f.afn == kAfnClass1 && item.fn == 2) || (f.afn == kAfnControl && item.fn == 31)) {
    Result<ClockTime> c = DecodeClock(data);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    ExpectClock(*c, d.contains("terminal_clock") ? d.at("terminal_clock") : d.at("clock"));
    EXPECT_EQ(EncodeClock(*c), item.data);
  } else if (f.afn == kAfnControl && item.fn == 1) {
    ASSERT_EQ(item.data.size(), 1u);
    EXPECT_EQ(item.data[0], std::stoi(d.at("byte").get<std::string>(), nullptr, 16));
    TripParams t = DecodeTrip(item.data[0]);
    EXPECT_EQ(t.limit_half_hours, d.at("limit_time_half_hours(D7-D4)").get<int>());
    EXPECT_EQ(t.alarm_delay_minutes, d.at("alarm_delay_min(D3-D0)").get<int>());
    EXPECT_EQ(EncodeTrip(t), item.data[0]);
  } else if (f.afn == kAfnForward && item.fn == 1 && !f.c.up) {
    Result<ForwardRequest> v = DecodeForwardRequest(data);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_EQ(v->port, d.at("port").get<int>());
    EXPECT_EQ(v->comm_control, std::stoi(d.at("comm_ctrl_word").get<std::string>(), nullptr, 16));
    EXPECT_EQ(v->frame_timeout,
              std::stoi(d.at("frame_timeout_raw").get<std::string>(), nullptr, 16));
    EXPECT_EQ(v->byte_timeout, d.at("byte_timeout_10ms").get<int>());
    EXPECT_EQ(v->payload.size(), d.at("len").get<size_t>());
    EXPECT_EQ(ToHex(v->payload), d.at("forwarded_frame").get<std::string>());
    EXPECT_EQ(EncodeForwardRequest(*v), item.data);
  } else if (f.afn == kAfnForward && item.fn == 1 && f.c.up) {
    Result<ForwardReply> v = DecodeForwardReply(data);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_EQ(v->port, d.at("port").get<int>());
    EXPECT_EQ(v->payload.size(), d.at("len").get<size_t>());
    EXPECT_EQ(ToHex(v->payload), d.at("forwarded_frame").get<std::string>());
    EXPECT_EQ(EncodeForwardReply(*v), item.data);
  } else {
    ADD_FAILURE() << "no check for AFN" << int(f.afn) << " F" << item.fn;
  }
}

TEST(Gdw1376Data, EveryVectorValueDecodes) {
  int checked = 0;
  for (const char* file : {"gdw3761_real_capture.json", "gdw3761_constructed.json"}) {
    std::ifstream in(std::string(GRIDMIS_VECTORS_DIR) + "/" + file);
    ASSERT_TRUE(in) << file;
    json doc = json::parse(in);
    for (const json& v : doc.at("vectors")) {
      SCOPED_TRACE(v.at("id").get<std::string>());
      Result<Frame> f = Decode(FromHex(v.at("hex").get<std::string>()));
      ASSERT_TRUE(f.ok()) << f.status().ToString();
      const json& units = v.at("expected").at("units");
      for (size_t i = 0; i < units.size(); ++i) {
        const json& u = units[i];
        const Group& g = f->groups[i];
        if (u.contains("data")) {
          ASSERT_EQ(g.items.size(), 1u);
          // real-rafn12f34: the reverse active total is 00 EE EE EE EE (partly EEH).
          CheckData(*f, g.items[0], u.at("data"), v.at("id") != "real-rafn12f34");
          ++checked;
        }
        if (u.contains("items")) {
          for (size_t k = 0; k < u.at("items").size(); ++k) {
            if (!u.at("items")[k].contains("data")) continue;
            ASSERT_LT(k, g.items.size());
            CheckData(*f, g.items[k], u.at("items")[k].at("data"), true);
            ++checked;
          }
        }
      }
    }
  }
  // Every vector value: F129, F25, F33, F34 (real), F1, F2, F17 (real AFN0D), F18? (no data),
  // F31, F1 ×3 (trip), F2 clock, F129 p9, F161, F101, AFN10 ×2.
  EXPECT_EQ(checked, 17);
}

// ---- Formats ----

TEST(Gdw1376Data, IndicationFormatsAreExact) {
  // A.14: 12345.6789 kWh; A.11: 123456.78 → exact dWh.
  Indication v;
  v.reading_time = {2024, 3, 15, 10, 30};
  v.rates = 4;
  v.values = {Energy::FromDwh(123456789), Energy::FromDwh(10000001), std::nullopt,
              Energy::FromDwh(0), Energy::FromDwh(9999999999)};
  Bytes active = EncodeIndication(v, true);
  EXPECT_EQ(ToHex(active),
            "30 10 15 03 24 04 89 67 45 23 01 01 00 00 10 00 EE EE EE EE EE 00 00 00 00 00 99 99 "
            "99 99 99");
  Result<Indication> back = DecodeIndication(active, true);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->values, v.values);
  EXPECT_EQ(back->reading_time, v.reading_time);

  // A.11 keeps 2 decimals: 12345.6789 is written 12345.67.
  Bytes reactive = EncodeIndication(v, false);
  EXPECT_EQ(reactive.size(), 6u + 5 * 4);
  Result<Indication> r = DecodeIndication(reactive, false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->values[0], Energy::FromDwh(123456700));
  EXPECT_EQ(r->values[2], std::nullopt);

  // A register past the format's range wraps as the meter's does.
  Indication big = v;
  big.values = {Energy::FromDwh(10000000000 + 5)};
  big.rates = 0;
  EXPECT_EQ(DecodeIndication(EncodeIndication(big, true), true)->values[0], Energy::FromDwh(5));
}

TEST(Gdw1376Data, PartialEehMakesTheWholeValueMissing) {
  Bytes b = FromHex("30 10 15 03 24 01 00 EE EE EE EE 89 67 45 23 01");
  Result<Indication> v = DecodeIndication(b, true);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->values[0], std::nullopt);
  EXPECT_EQ(v->values[1], Energy::FromDwh(123456789));
}

TEST(Gdw1376Data, BadValuesNameOffsetAndField) {
  auto err = [](Result<Indication> r) { return r.ok() ? "ok" : r.status().message(); };
  EXPECT_EQ(err(DecodeIndication(FromHex("30 10 15 03 24 01 00 01 00 00 00 89 6A 45 23 01"), true)),
            "indication offset 12: value 1 (A.14) byte 6A is not BCD");
  EXPECT_EQ(err(DecodeIndication(FromHex("30 10 15 03 24 04 00 01 00 00 00"), true)),
            "indication offset 6: M = 4 needs 25 bytes of values, 5 left");
  EXPECT_EQ(err(DecodeIndication(FromHex("30 10 15 03 24 00 00 01 00 00 00 00"), true)),
            "indication offset 11: 1 bytes after the last field");
  EXPECT_EQ(err(DecodeIndication(FromHex("30 10 15 13 24 00 00 01 00 00 00"), true)),
            "indication offset 0: reading time (A.15) 2024-13-15 10:30 is not a valid time");
  EXPECT_EQ(err(DecodeIndication(FromHex("EE EE EE EE EE 00 00 01 00 00 00"), true)),
            "indication offset 0: reading time (A.15) is missing (EEH)");
  EXPECT_EQ(err(DecodeIndication(FromHex("30 10"), true)),
            "indication offset 0: reading time (A.15) needs 5 bytes, 2 left");
  Result<DailyIndication> d = DecodeDailyIndication(FromHex("32 02 24"), true);
  EXPECT_EQ(d.status().message(),
            "daily indication offset 0: Td_d (A.20) 32 02 24 is not a valid date");
}

TEST(Gdw1376Data, DailyAndMonthlyRoundTrip) {
  DailyIndication d{{2024, 2, 29}, {{2024, 3, 1, 0, 5}, 4, {}}};
  d.value.values = {Energy::FromDwh(50000), Energy::FromDwh(10000), Energy::FromDwh(15000),
                    Energy::FromDwh(20000), Energy::FromDwh(5000)};
  Bytes b = EncodeDailyIndication(d, true);
  EXPECT_EQ(ToHex(Bytes(b.begin(), b.begin() + 3)), "29 02 24");
  Result<DailyIndication> back = DecodeDailyIndication(b, true);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->day, d.day);
  EXPECT_EQ(back->value.values, d.value.values);

  MonthlyIndication m{{2024, 2}, d.value};
  Bytes mb = EncodeMonthlyIndication(m, false);
  EXPECT_EQ(ToHex(Bytes(mb.begin(), mb.begin() + 2)), "02 24");
  Result<MonthlyIndication> mback = DecodeMonthlyIndication(mb, false);
  ASSERT_TRUE(mback.ok());
  EXPECT_EQ(mback->month, m.month);
  EXPECT_EQ(mback->value.values, d.value.values);  // whole hundredths survive A.11

  IndicationSet s;
  s.reading_time = {2024, 3, 15, 10, 30};
  s.rates = 1;
  s.values = {std::vector<std::optional<Energy>>{Energy::FromDwh(123), std::nullopt},
              {Energy::FromDwh(100), Energy::FromDwh(200)},
              {std::nullopt, std::nullopt},
              {Energy::FromDwh(0), Energy::FromDwh(9900)}};
  Bytes sb = EncodeIndicationSet(s);
  EXPECT_EQ(sb.size(), 6u + 2 * 17);
  Result<IndicationSet> sback = DecodeIndicationSet(sb);
  ASSERT_TRUE(sback.ok()) << sback.status().ToString();
  EXPECT_EQ(sback->values, s.values);
}

TEST(Gdw1376Data, FixedFormats) {
  RealTimePower p;
  p.reading_time = {2024, 3, 15, 10, 30};
  p.p = {Fixed{-123456, 4}, Fixed{5, 1}, std::nullopt, Fixed{799999, 4}};       // A.9
  p.q = {Fixed{800000, 4}, std::nullopt, std::nullopt, std::nullopt};           // out of range
  p.pf = {Fixed{1000, 1}, Fixed{-855, 1}, std::nullopt, std::nullopt};          // A.5
  p.u = {Fixed{2427, 1}, Fixed{22005, 2}, std::nullopt};                        // A.7, rounded
  p.i = {Fixed{-5123, 3}, Fixed{799999, 3}, std::nullopt, Fixed{0, 0}};         // A.25
  p.s = {Fixed{1, 0}, Fixed{INT64_MAX, 0}, Fixed{INT64_MIN, 2}, std::nullopt};  // no overflow
  Bytes b = EncodeRealTimePower(p);
  ASSERT_EQ(b.size(), 67u);
  EXPECT_EQ(ToHex(Bytes(b.begin() + 5, b.begin() + 8)), "56 34 92");    // -12.3456
  EXPECT_EQ(ToHex(Bytes(b.begin() + 29, b.begin() + 31)), "00 10");     // PF 100.0
  EXPECT_EQ(ToHex(Bytes(b.begin() + 31, b.begin() + 33)), "55 88");     // PF -85.5
  EXPECT_EQ(ToHex(Bytes(b.begin() + 37, b.begin() + 39)), "27 24");     // 242.7 V
  EXPECT_EQ(ToHex(Bytes(b.begin() + 43, b.begin() + 46)), "23 51 80");  // -5.123 A
  Result<RealTimePower> d = DecodeRealTimePower(b);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->p[0], (Fixed{-123456, 4}));
  EXPECT_EQ(d->p[1], (Fixed{5000, 4}));
  EXPECT_EQ(d->p[3], (Fixed{799999, 4}));
  EXPECT_EQ(d->q[0], std::nullopt);  // 80.0000 does not fit ±XX.XXXX with 3 bits of tens
  EXPECT_EQ(d->pf[1], (Fixed{-855, 1}));
  EXPECT_EQ(d->u[1], (Fixed{2201, 1}));  // 220.05 rounded half away from zero
  EXPECT_EQ(d->i[0], (Fixed{-5123, 3}));
  EXPECT_EQ(d->i[1], (Fixed{799999, 3}));
  EXPECT_EQ(d->i[3], (Fixed{0, 3}));
  EXPECT_EQ(d->s[0], (Fixed{10000, 4}));
  EXPECT_EQ(d->s[1], std::nullopt);
  EXPECT_EQ(d->s[2], std::nullopt);
  EXPECT_EQ((Fixed{INT64_MIN, 0}).ToString(), "-9223372036854775808");
  EXPECT_EQ(d->s[0]->ToString(), "1.0000");
  EXPECT_EQ(d->p[0]->ToString(), "-12.3456");
  EXPECT_EQ((Fixed{-5, 3}).ToString(), "-0.005");
  EXPECT_EQ((Fixed{12, -2}).ToString(), "1200");
  EXPECT_EQ(EncodeRealTimePower(*d), b);
  EXPECT_FALSE(DecodeRealTimePower(Bytes(b.begin(), b.end() - 1)).ok());
}

TEST(Gdw1376Data, Curves) {
  // F101 (A.11 energy), F97 (A.13), F81 (A.9 power), F89 (A.7), F92 (A.25), F105 (A.5),
  // F109 (3 × A.5 per point), F73 (A.2), F75 (A.3).
  Curve e;
  e.start = {2024, 3, 14, 0, 0};
  e.density_code = 1;
  e.energy = {Energy::FromDwh(10000000), std::nullopt, Energy::FromDwh(10002500)};
  for (uint16_t fn : {101, 97, 145}) {
    SCOPED_TRACE(fn);
    Bytes b = EncodeCurve(fn, e);
    EXPECT_EQ(b.size(), 7u + 3 * 4);
    Result<Curve> c = DecodeCurve(fn, b);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_EQ(c->interval_minutes, 15);
    EXPECT_EQ(c->start, e.start);
    if (fn == 97) {
      // A.13 holds 4 digits of kWh: 1000.0000 and 1000.2500 fit exactly.
      EXPECT_EQ(c->energy, e.energy);
    } else {
      EXPECT_EQ(c->energy, e.energy);
    }
    // ItemLength agrees inside a frame.
    EXPECT_EQ(*ItemLength(kAfnClass2, fn, true, b), b.size());
  }
  EXPECT_EQ(ToHex(EncodeCurve(97, e)), "00 00 14 03 24 01 03 00 00 00 10 EE EE EE EE 00 25 00 10");
  Curve a3;
  a3.start = e.start;
  a3.energy = {Energy::FromKwh(1234567), Energy::FromKwh(-12), Energy::FromKwh(12345678)};
  Result<Curve> a3back = DecodeCurve(75, EncodeCurve(75, a3));
  ASSERT_TRUE(a3back.ok()) << a3back.status().ToString();
  EXPECT_EQ(a3back->energy[0], Energy::FromKwh(1234567));
  EXPECT_EQ(a3back->energy[1], Energy::FromKwh(-12));
  EXPECT_EQ(a3back->energy[2], Energy::FromKwh(12345000));  // MWh unit: 12345 MWh

  struct Case {
    uint16_t fn;
    std::vector<std::optional<Fixed>> values;
    size_t width;
  };
  std::vector<Case> cases = {
      {81, {Fixed{-12345, 4}, std::nullopt, Fixed{1, 4}}, 3},
      {89, {Fixed{2201, 1}, std::nullopt}, 2},
      {92, {Fixed{-1500, 3}, Fixed{12345, 3}}, 3},
      {105, {Fixed{-999, 1}, Fixed{1000, 1}}, 2},
      {109,
       {Fixed{0, 1}, Fixed{1200, 1}, Fixed{2400, 1}, std::nullopt, std::nullopt, std::nullopt},
       6},
      {73, {Fixed{123, 0}, Fixed{-45, 2}, Fixed{9990000, 0}, Fixed{5, 3}}, 2},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.fn);
    Curve v;
    v.start = e.start;
    v.density_code = 254;
    v.fixed = c.values;
    Bytes b = EncodeCurve(c.fn, v);
    size_t points = c.fn == 109 ? c.values.size() / 3 : c.values.size();
    EXPECT_EQ(b.size(), 7 + points * c.width);
    EXPECT_EQ(b[6], points);
    Result<Curve> back = DecodeCurve(c.fn, b);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(back->interval_minutes, 5);
    ASSERT_EQ(back->fixed.size(), c.values.size());
    for (size_t i = 0; i < c.values.size(); ++i) {
      ASSERT_EQ(back->fixed[i].has_value(), c.values[i].has_value()) << i;
      if (!c.values[i]) continue;
      // Same value, whatever the scale it comes back in.
      int s = std::max(back->fixed[i]->scale, c.values[i]->scale);
      auto at = [s](const Fixed& f) {
        return f.units * static_cast<int64_t>(std::pow(10, s - f.scale));
      };
      EXPECT_EQ(at(*back->fixed[i]), at(*c.values[i])) << i;
    }
    EXPECT_EQ(*ItemLength(kAfnClass2, c.fn, true, b), b.size());
  }
  // A.2 codes: 123 × 10^0 is G=4, 9990000 is 999 × 10^4 (G=0), 0.005 is 5 × 10^-3 (G=7).
  Curve a2;
  a2.start = e.start;
  a2.fixed = {Fixed{123, 0}, Fixed{9990000, 0}, Fixed{5, 3}, Fixed{-45, 2}};
  EXPECT_EQ(ToHex(EncodeCurve(73, a2)),
            "00 00 14 03 24 01 04 23 81 99 09 05 E0 50 F4");  // -0.450 at G=7

  EXPECT_EQ(DecodeCurve(101, FromHex("00 00 14 03 24 00 01 00 00 10 00")).status().message(),
            "F101 curve offset 5: curve density m 0 is not 1, 2, 3, 254 or 255");
  EXPECT_EQ(DecodeCurve(101, FromHex("00 00 14 03 24 01 02 00 00 10 00")).status().message(),
            "F101 curve offset 11: point 1 (A.11) needs 4 bytes, 0 left");
  EXPECT_FALSE(DecodeCurve(161, FromHex("00 00 14 03 24 01 00")).ok());
}

TEST(Gdw1376Data, TimeTags) {
  EXPECT_EQ(ToHex(EncodeTd({2024, 3, 14})), "14 03 24");
  EXPECT_EQ(ToHex(EncodeTdMonth({2018, 7})), "07 18");
  EXPECT_EQ(ToHex(EncodeTdCurve({2024, 3, 14, 0, 15}, 2, 96)), "15 00 14 03 24 02 60");
  EXPECT_EQ(*DecodeTd(FromHex("29 02 24")), (Date{2024, 2, 29}));
  EXPECT_FALSE(DecodeTd(FromHex("29 02 23")).ok());  // not a leap year
  EXPECT_EQ(DecodeTd(FromHex("EE EE EE")).status().message(),
            "Td_d offset 0: Td_d (A.20) is missing (EEH)");
  EXPECT_EQ(*DecodeTdMonth(FromHex("12 23")), (YearMonth{2023, 12}));
  Result<CurveTag> t = DecodeTdCurve(FromHex("15 00 14 03 24 03 18"));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->start, (MinuteTime{2024, 3, 14, 0, 15}));
  EXPECT_EQ(t->interval_minutes, 60);
  EXPECT_EQ(t->points, 24);
  EXPECT_EQ(ToHex(EncodeMinuteTime(std::nullopt)), "EE EE EE EE EE");
  EXPECT_EQ(*DecodeMinuteTime(FromHex("EE EE EE EE EE")), std::nullopt);
  EXPECT_EQ(ToHex(EncodeTd({1999, 12, 31})), "EE EE EE");
}

TEST(Gdw1376Data, Clock) {
  ClockTime c{2024, 3, 15, 10, 30, 5, 5};
  EXPECT_EQ(ToHex(EncodeClock(c)), "05 30 10 15 A3 24");
  ClockTime dec{2024, 12, 31, 23, 59, 59, 2};
  Bytes b = EncodeClock(dec);
  EXPECT_EQ(ToHex(b), "59 59 23 31 52 24");
  Result<ClockTime> back = DecodeClock(b);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->month, 12);
  EXPECT_EQ(back->weekday, 2);
  EXPECT_EQ(DecodeClock(FromHex("05 30 10 15 A3")).status().message(),
            "clock offset 0: A.1 needs 6 bytes, 5 left");
  EXPECT_EQ(DecodeClock(FromHex("05 30 10 31 A2 24")).status().message(),
            "clock offset 0: A.1 2024-02-31 10:30:05 is not a valid time");
}

TEST(Gdw1376Data, TerminalVersion) {
  TerminalVersion v{"GRID",        "00000001", "V1.2", "2024-01-31",
                    "CAP-00001  ", "1376",     "H2.0", "2023-12-01"};
  Bytes b = EncodeTerminalVersion(v);
  ASSERT_EQ(b.size(), 41u);
  EXPECT_EQ(ToHex(Bytes(b.begin() + 16, b.begin() + 19)), "31 01 24");
  EXPECT_EQ(*ItemLength(kAfnConfig, 1, true, b), 41u);
  Result<TerminalVersion> back = DecodeTerminalVersion(b);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->vendor, "GRID");
  EXPECT_EQ(back->device_id, "00000001");
  EXPECT_EQ(back->software_date, "2024-01-31");
  EXPECT_EQ(back->capacity, "CAP-00001  ");
  EXPECT_EQ(back->hardware_date, "2023-12-01");
  EXPECT_EQ(EncodeTerminalVersion(*back), b);
  b[17] = 0x13;
  EXPECT_EQ(DecodeTerminalVersion(b).status().message(),
            "AFN09 F1 offset 16: software date 31 13 24 is not a valid date (A.20)");
}

TEST(Gdw1376Data, UplinkParamsAndMeterArchive) {
  UplinkParams p{3, 5, 60, 2, true, false, true, 15};
  Bytes b = EncodeUplinkParams(p);
  EXPECT_EQ(ToHex(b), "03 05 3C 20 05 0F");
  Result<UplinkParams> back = DecodeUplinkParams(b);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->timeout_seconds, 60);
  EXPECT_EQ(back->retries, 2);
  EXPECT_TRUE(back->confirm_class1);
  EXPECT_FALSE(back->confirm_class2);
  EXPECT_TRUE(back->confirm_events);
  EXPECT_EQ(back->heartbeat_minutes, 15);

  MeterArchiveEntry m;
  m.index = 1;
  m.pn = 1;
  m.baud_code = 3;
  m.port = 2;
  m.protocol = 30;
  m.meter_address = "000000000001";
  m.password = "00000000ABCD";
  m.rates = 4;
  m.integer_digits = 6;
  m.decimal_digits = 2;
  m.collector_address = "000000000000";
  m.user_class = 5;
  m.sub_class = 1;
  MeterArchiveEntry m2 = m;
  m2.index = 2;
  m2.pn = 2040;
  m2.meter_address = "123456789012";
  Bytes ab = EncodeMeterArchive({m, m2});
  ASSERT_EQ(ab.size(), 2u + 2 * 27);
  EXPECT_EQ(ToHex(Bytes(ab.begin(), ab.begin() + 29)),
            "02 00 01 00 01 00 62 1E 01 00 00 00 00 00 CD AB 00 00 00 00 04 09 00 00 00 00 00 00 "
            "51");
  Result<std::vector<MeterArchiveEntry>> back_m = DecodeMeterArchive(ab);
  ASSERT_TRUE(back_m.ok()) << back_m.status().ToString();
  ASSERT_EQ(back_m->size(), 2u);
  EXPECT_EQ((*back_m)[1].pn, 2040);
  EXPECT_EQ((*back_m)[1].meter_address, "123456789012");
  EXPECT_EQ((*back_m)[0].password, "00000000ABCD");
  EXPECT_EQ((*back_m)[0].baud_code, 3);
  EXPECT_EQ((*back_m)[0].port, 2);
  EXPECT_EQ((*back_m)[0].integer_digits, 6);
  EXPECT_EQ((*back_m)[0].decimal_digits, 2);
  EXPECT_EQ((*back_m)[0].user_class, 5);
  EXPECT_EQ(EncodeMeterArchive(*back_m), ab);
  EXPECT_EQ(*ItemLength(kAfnSetParams, 10, false, ab), ab.size());
  EXPECT_EQ(*ItemLength(kAfnQueryParams, 10, true, ab), ab.size());
  EXPECT_EQ(DecodeMeterArchive(Bytes(ab.begin(), ab.end() - 1)).status().message(),
            "F10 meter archive offset 2: 2 meters need 54 bytes, 53 left");
  Bytes q = EncodeMeterArchiveQuery({1, 2, 300});
  EXPECT_EQ(ToHex(q), "03 00 01 00 02 00 2C 01");
  EXPECT_EQ(*DecodeMeterArchiveQuery(q), (std::vector<uint16_t>{1, 2, 300}));
  EXPECT_EQ(*ItemLength(kAfnQueryParams, 10, false, q), q.size());
}

TEST(Gdw1376Data, EventRecords) {
  MinuteTime t{2024, 3, 15, 10, 30};
  MinuteTime t2{2024, 3, 15, 11, 5};
  EventBlock block;
  block.ec1 = 9;
  block.ec2 = 0;
  block.pm = 254;
  block.pn = 5;  // 7 records, wrapping past 255
  // ERC1: time, flags, software versions before and after.
  EventRecord erc1;
  erc1.erc = 1;
  erc1.content = FromHex("30 10 15 03 24 02 56 31 2E 30 56 31 2E 31");
  // ERC3: time, master address, then changed DA DT.
  EventRecord erc3;
  erc3.erc = 3;
  erc3.content = FromHex("30 10 15 03 24 02 00 00 01 00");
  block.records = {erc1,
                   erc3,
                   RemoteTripRecord(t, 0x01, Fixed{1234, 2}, Fixed{0, 0}),
                   MeterEventRecord(12, t, 7, true),
                   MeterEventRecord(13, t, 8, false, 0x10),
                   PowerOffRecord(t, t2),
                   EventRecord{31, FromHex("30 10 15 03 24 09 80 00 00 15 03 24 89 67 45 23 01 "
                                           "00 00 10 00")}};
  Bytes b = EncodeEvents(block);
  EXPECT_EQ(*ItemLength(kAfnClass3, 1, true, b), b.size());
  Result<EventBlock> back = DecodeEvents(b);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->records.size(), 7u);
  const auto& r = back->records;
  EXPECT_EQ(r[0].meaning, "version change V1.0 -> V1.1");
  EXPECT_EQ(r[0].time, t);
  EXPECT_EQ(r[1].meaning, "parameter change by MSA 2: p0 F1");
  EXPECT_EQ(r[1].time, t);
  EXPECT_EQ(r[2].meaning, "remote trip (round 1)");
  // A.2 keeps 3 digits: 12.34 kW is 123 × 10^-1 (G=5), 0 is 000 × 10^-3 (G=7).
  EXPECT_EQ(ToHex(r[2].content), "30 10 15 03 24 01 23 A1 00 E0");
  EXPECT_EQ(r[2].time, t);
  EXPECT_EQ(r[3].meaning, "meter clock drift");
  EXPECT_EQ(r[3].time, t);
  EXPECT_EQ(r[3].pn, 7);
  EXPECT_EQ(r[4].meaning, "meter fault (restored) (flags 10H)");
  EXPECT_EQ(r[4].pn, 8);
  EXPECT_EQ(r[5].meaning, "power off and on");
  EXPECT_EQ(r[5].time, t);
  EXPECT_EQ(r[5].end_time, t2);
  EXPECT_EQ(r[6].meaning, "RS-485 read failure");
  EXPECT_EQ(r[6].pn, 9);
  EXPECT_EQ(r[6].time, t);
  EXPECT_EQ(EncodeEvents(*back), b);

  EventRecord init{1, FromHex("30 10 15 03 24 01 56 31 2E 30 56 31 2E 30")};
  ASSERT_TRUE(DecodeEvents(EncodeEvents({0, 0, 0, 1, {init}})).ok());
  EXPECT_EQ(DecodeEvents(EncodeEvents({0, 0, 0, 1, {init}}))->records[0].meaning, "initialisation");

  EventRecord still_off = PowerOffRecord(t, std::nullopt);
  EXPECT_EQ(still_off.meaning, "power off");
  EXPECT_EQ(still_off.end_time, std::nullopt);
  EXPECT_EQ(ToHex(still_off.content), "30 10 15 03 24 EE EE EE EE EE");

  // A record count the data does not hold.
  Bytes cut(b.begin(), b.end() - 3);
  EXPECT_EQ(DecodeEvents(cut).status().message(),
            "events offset 77: record 7 of 7 (ERC31) needs 21 bytes, 18 left");
}

TEST(Gdw1376Data, ForwardAndTrip) {
  ForwardRequest req;
  req.payload = FromHex("FE FE FE FE 68 01 00 00 00 00 00 68 11 04 33 33 34 33 B3 16");
  Bytes b = EncodeForwardRequest(req);
  EXPECT_EQ(ToHex(Bytes(b.begin(), b.begin() + 6)), "02 6B 8A 14 14 00");
  EXPECT_EQ(DecodeForwardRequest(b)->payload, req.payload);
  EXPECT_EQ(DecodeForwardRequest(Bytes(b.begin(), b.end() - 1)).status().message(),
            "AFN10 F1 request offset 6: forwarded frame needs 20 bytes, 19 left");
  ForwardReply none{2, {}};
  EXPECT_EQ(ToHex(EncodeForwardReply(none)), "02 00 00");
  EXPECT_TRUE(DecodeForwardReply(EncodeForwardReply(none))->payload.empty());
  EXPECT_EQ(EncodeTrip({2, 3}), 0x23);
  EXPECT_EQ(EncodeTrip({20, -1}), 0xF0);
  EXPECT_EQ(DecodeTrip(0x23).limit_half_hours, 2);
}

// Data units in frames: several points and Fns per DA/DT split by ItemLength and back.
TEST(Gdw1376Data, RepliesWithSeveralItemsRoundTripThroughFrames) {
  Address a{{3201, 4660}, 1};
  Frame req = MakeRequest(a, kAfnClass2, 2, GroupsFor({1, 2, 3}, 161, EncodeTd({2024, 3, 14})));
  std::vector<Group> groups;
  Group g = *MakeGroup({1, 2, 3}, {161, 162, 163});
  for (uint16_t pn : {1, 2, 3}) {
    for (uint16_t fn : {161, 162, 163}) {
      DailyIndication d{{2024, 3, 14}, {{2024, 3, 15, 0, 1}, pn, {}}};
      for (int i = 0; i <= pn; ++i) d.value.values.push_back(Energy::FromDwh(100 * pn + i * 100));
      g.items.push_back({pn, fn, EncodeDailyIndication(d, fn != 162)});
    }
  }
  groups.push_back(g);
  Group curve = *MakeGroup({9}, {101, 102});
  Curve c;
  c.start = {2024, 3, 14, 0, 15};
  c.energy.assign(96, Energy::FromDwh(12300));
  curve.items.push_back({9, 101, EncodeCurve(101, c)});
  c.energy.assign(3, std::nullopt);
  curve.items.push_back({9, 102, EncodeCurve(102, c)});
  groups.push_back(curve);
  Group monthly = *MakeGroup({2}, {177, 178});
  MonthlyIndication mi{{2024, 2}, {{2024, 3, 1, 0, 0}, 4, {}}};
  mi.value.values.assign(5, Energy::FromDwh(1234500));
  monthly.items.push_back({2, 177, EncodeMonthlyIndication(mi, true)});
  monthly.items.push_back({2, 178, EncodeMonthlyIndication(mi, false)});
  groups.push_back(monthly);
  Frame reply = MakeResponse(req, kAfnClass2, groups);
  Result<Bytes> b = Encode(reply);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  Result<Frame> d = Decode(*b);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_TRUE(d->warnings.empty());
  ASSERT_EQ(d->groups.size(), 3u);
  ASSERT_EQ(d->groups[0].items.size(), 9u);
  Result<MonthlyIndication> m178 = DecodeMonthlyIndication(d->Find(178)->data, false);
  ASSERT_TRUE(m178.ok()) << m178.status().ToString();
  EXPECT_EQ(m178->month, (YearMonth{2024, 2}));
  EXPECT_EQ(m178->value.values[4], Energy::FromDwh(1234500));
  Result<DailyIndication> p3 = DecodeDailyIndication(d->groups[0].items[6].data, true);
  ASSERT_TRUE(p3.ok());
  EXPECT_EQ(d->groups[0].items[6].pn, 3);
  EXPECT_EQ(p3->value.rates, 3);
  EXPECT_EQ(p3->value.values[3], Energy::FromDwh(600));
  Result<Curve> cv = DecodeCurve(101, d->Find(101)->data);
  ASSERT_TRUE(cv.ok());
  EXPECT_EQ(cv->energy.size(), 96u);
  EXPECT_EQ(*Encode(*d), *b);

  // Class-1 F25 + F33 + F129 + F2 and events in one reply each.
  Frame r1 = MakeResponse(MakeRequest(a, kAfnClass1, 3, {}), kAfnClass1, {});
  RealTimePower p;
  Group g25 = *MakeGroup({1}, {25});
  g25.items.push_back({1, 25, EncodeRealTimePower(p)});
  IndicationSet set;
  set.rates = 2;
  Group g33 = *MakeGroup({1}, {33, 34});
  g33.items.push_back({1, 33, EncodeIndicationSet(set)});
  g33.items.push_back({1, 34, EncodeIndicationSet(set)});
  Indication ind;
  ind.rates = 12;
  Group g129 = *MakeGroup({1}, {129, 130});
  g129.items.push_back({1, 129, EncodeIndication(ind, true)});
  g129.items.push_back({1, 130, EncodeIndication(ind, false)});
  Group g2 = *MakeGroup({0}, {2});
  g2.items.push_back({0, 2, EncodeClock({})});
  r1.groups = {g25, g33, g129, g2};
  Result<Bytes> b1 = Encode(r1);
  ASSERT_TRUE(b1.ok()) << b1.status().ToString();
  Result<Frame> d1 = Decode(*b1);
  ASSERT_TRUE(d1.ok()) << d1.status().ToString();
  EXPECT_EQ(d1->Find(130)->data.size(), 6u + 13 * 4);
  EXPECT_EQ(DecodeIndication(d1->Find(129)->data, true)->rates, 12);
}

}  // namespace
}  // namespace gridmis::acquisition::gdw1376
