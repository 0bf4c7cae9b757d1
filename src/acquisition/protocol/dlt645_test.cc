// DL/T 645-2007 codec against tests/data/vectors/dlt645_2007.json (every vector and every
// recorded simulator exchange), plus the builders, the DI table and hostile input.
#include "acquisition/protocol/dlt645.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "acquisition/protocol/frame_json.h"

namespace gridmis::acquisition::dlt645 {
namespace {

using protocol::Hex;
using protocol::ParseHex;

nlohmann::json LoadVectors() {
  std::ifstream in(std::string(GRIDMIS_VECTORS_DIR) + "/dlt645_2007.json");
  EXPECT_TRUE(in.good());
  return nlohmann::json::parse(in);
}

Bytes HexOf(const std::string& text) {
  auto b = ParseHex(text);
  EXPECT_TRUE(b.ok()) << b.status().ToString();
  return b.ok() ? *b : Bytes{};
}

uint32_t DiOf(const std::string& text) {
  return static_cast<uint32_t>(std::stoul(text, nullptr, 16));
}

// "1234.56" from the vector's JSON number, compared as 0.01 kWh (exact for these values).
int64_t Hundredths(double kwh) { return static_cast<int64_t>(kwh * 100 + (kwh >= 0 ? 0.5 : -0.5)); }

const nlohmann::json& Vector(const nlohmann::json& all, const std::string& id) {
  for (const auto& v : all["vectors"]) {
    if (v["id"] == id) return v;
  }
  static nlohmann::json none;
  ADD_FAILURE() << "no vector " << id;
  return none;
}

TEST(Dlt645Vectors, EveryVectorDecodesToItsExpectedFieldsAndReencodes) {
  auto all = LoadVectors();
  ASSERT_GE(all["vectors"].size(), 17u);
  for (const auto& v : all["vectors"]) {
    SCOPED_TRACE(v["id"].get<std::string>());
    Bytes raw = HexOf(v["hex"]);
    auto scan = ScanFrame(raw);
    ASSERT_EQ(scan.kind, Scan::kFrame) << scan.reason;
    EXPECT_EQ(scan.length, raw.size());
    auto f = Decode(raw);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    const auto& e = v["expected"];
    if (e.contains("address")) {
      EXPECT_EQ(f->address, e["address"].get<std::string>());
    }
    if (e.contains("C")) {
      EXPECT_EQ(Hex(std::vector<uint8_t>{f->ControlByte()}), e["C"].get<std::string>());
    }
    if (e.contains("L")) {
      EXPECT_EQ(static_cast<int>(f->data.size()), e["L"].get<int>());
    }
    if (e.contains("leading_FE")) {
      EXPECT_EQ(f->leading_fe, e["leading_FE"].get<int>());
    }
    if (e.contains("dir")) {
      EXPECT_EQ(f->up, e["dir"] == "meter->master");
    }
    if (e.contains("ACK")) {
      EXPECT_EQ(f->abnormal, e["ACK"] == "abnormal");
    }
    if (e.contains("data_on_wire_plus33")) {
      Bytes wire = HexOf(e["data_on_wire_plus33"]);
      ASSERT_EQ(wire.size(), f->data.size());
      for (size_t k = 0; k < wire.size(); ++k) EXPECT_EQ(uint8_t(f->data[k] + 0x33), wire[k]);
    }
    if (e.contains("DI") && !f->up) {
      ASSERT_GE(f->data.size(), 4u);
      uint32_t di = uint32_t{f->data[0]} | uint32_t{f->data[1]} << 8 | uint32_t{f->data[2]} << 16 |
                    uint32_t{f->data[3]} << 24;
      EXPECT_EQ(di, DiOf(e["DI"]));
    }
    if (e.contains("DI") && f->up) {
      auto r = DecodeReadReply(*f);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      uint32_t di = DiOf(e["DI"]);
      EXPECT_EQ(r->di, di);
      auto info = LookupDi(di);
      ASSERT_TRUE(info.ok()) << info.status().ToString();
      if (e.contains("unit")) {
        EXPECT_EQ(std::string(info->unit), e["unit"].get<std::string>());
      }
      auto text = DecodeValueText(di, r->value);
      ASSERT_TRUE(text.ok()) << text.status().ToString();
      if (e.contains("values_kWh")) {
        auto energies = DecodeEnergies(di, r->value);
        ASSERT_TRUE(energies.ok()) << energies.status().ToString();
        ASSERT_EQ(energies->size(), e["values_kWh"].size());
        for (size_t k = 0; k < energies->size(); ++k) {
          ASSERT_TRUE((*energies)[k].has_value());
          EXPECT_EQ((*energies)[k]->dwh(), Hundredths(e["values_kWh"][k].get<double>()) * 100);
        }
        // Canonical: the values re-encode to the same bytes.
        EXPECT_EQ(EncodeEnergies(*energies), r->value);
      }
      if (e.contains("value")) {
        ASSERT_EQ(text->size(), 1u);
        ASSERT_TRUE((*text)[0].has_value());
        EXPECT_DOUBLE_EQ(std::stod(*(*text)[0]), e["value"].get<double>());
        // The text re-encodes byte for byte.
        auto again = EncodeValueText(di, *text);
        ASSERT_TRUE(again.ok()) << again.status().ToString();
        EXPECT_EQ(*again, r->value);
      }
      if (e.contains("date")) {
        EXPECT_EQ(*(*text)[0], e["date"].get<std::string>());
        EXPECT_EQ(int(r->value[0]), e["weekday"].get<int>());
        EXPECT_EQ(*EncodeValueText(di, *text), r->value);  // weekday recomputed from the date
      }
      if (e.contains("freeze_time")) {
        EXPECT_EQ(*(*text)[0], e["freeze_time"].get<std::string>());
      }
    }
    if (e.contains("ERR")) {
      ASSERT_TRUE(f->abnormal);
      ASSERT_EQ(f->data.size(), 1u);
      EXPECT_EQ(Hex(f->data), e["ERR"].get<std::string>());
      auto r = DecodeReadReply(*f);
      EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
    }
    if (e.contains("address_in_data")) {
      auto r = DecodeReadReply(*f);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_EQ(r->di, 0x04000401u);
      EXPECT_EQ(*(*DecodeValueText(r->di, r->value))[0], e["address_in_data"].get<std::string>());
    }
    if (e.contains("time")) {  // broadcast time ss mm hh DD MM YY
      ASSERT_EQ(f->data.size(), 6u);
      EXPECT_EQ(f->func, kBroadcastTime);
      char buf[32];
      std::snprintf(buf, sizeof buf, "20%02X-%02X-%02X %02X:%02X:%02X", f->data[5], f->data[4],
                    f->data[3], f->data[2], f->data[1], f->data[0]);
      EXPECT_EQ(std::string(buf), e["time"].get<std::string>());
    }
    if (e.contains("valid_until")) {
      auto p = DecodeControl(*f);
      ASSERT_TRUE(p.ok()) << p.status().ToString();
      EXPECT_EQ(p->action, ControlAction::kTrip);
      EXPECT_EQ(p->password_level, 0x02);
      EXPECT_EQ(p->operator_code, 0u);
      char buf[32];
      std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", p->valid_year, p->valid_month,
                    p->valid_day, p->valid_hour, p->valid_minute, p->valid_second);
      EXPECT_EQ(std::string(buf), e["valid_until"].get<std::string>());
    }
    // Canonical frames re-encode byte for byte (FE preamble included).
    EXPECT_EQ(Hex(Encode(*f)), Hex(raw));
  }
}

TEST(Dlt645Vectors, RecordedSimulatorExchangesDecodeAndMatchOurReplies) {
  auto all = LoadVectors();
  const auto& pairs = all["peer_simulator_exchanges"]["pairs"];
  ASSERT_EQ(pairs.size(), 7u);
  for (const auto& p : pairs) {
    SCOPED_TRACE(p["id"].get<std::string>());
    Bytes req_raw = HexOf(p["request_hex"]), resp_raw = HexOf(p["response_hex"]);
    auto req = Decode(req_raw);
    ASSERT_TRUE(req.ok()) << req.status().ToString();
    auto resp = Decode(resp_raw);
    ASSERT_TRUE(resp.ok()) << resp.status().ToString();
    EXPECT_FALSE(req->up);
    EXPECT_TRUE(resp->up);
    EXPECT_EQ(resp->leading_fe, 4);
    auto r = DecodeReadReply(*resp);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    auto text = DecodeValueText(r->di, r->value);
    ASSERT_TRUE(text.ok()) << text.status().ToString();
    ASSERT_FALSE(text->empty());
    // Our meter-side builder gives the simulator's reply byte for byte.
    Frame ours = MakeReadReply(*req, r->value);
    ours.leading_fe = 4;
    EXPECT_EQ(Hex(Encode(ours)), Hex(resp_raw));
    if (req->func == kRead) {
      EXPECT_EQ(Hex(Encode(MakeRead(req->address, r->di))), Hex(req_raw));
    } else {
      EXPECT_EQ(Hex(Encode(MakeReadAddress())), Hex(req_raw));
    }
  }
  // The recorded meanings, value by value.
  auto value_of = [&](int k) {
    Bytes raw = HexOf(pairs[k]["response_hex"]);
    auto r = DecodeReadReply(*Decode(raw));
    return *(*DecodeValueText(r->di, r->value))[0];
  };
  EXPECT_EQ(value_of(0), "1234.56");
  EXPECT_EQ(value_of(1), "1500.25");
  EXPECT_EQ(value_of(2), "220.1");
  EXPECT_EQ(value_of(3), "5.123");
  EXPECT_EQ(value_of(4), "1.2345");
  EXPECT_EQ(value_of(5), "000000000001");
  EXPECT_EQ(value_of(6), "000000000000");  // that simulator leaves its parameter at zero
}

TEST(Dlt645Builders, RequestsMatchTheVectors) {
  auto all = LoadVectors();
  EXPECT_EQ(Hex(Encode(MakeRead("000000000001", 0x00010000))),
            Vector(all, "read-energy-req")["hex"].get<std::string>());
  Frame fe = MakeRead("000000000001", 0x00010000);
  fe.leading_fe = 4;
  EXPECT_EQ(Hex(Encode(fe)), Vector(all, "read-energy-req-fe")["hex"].get<std::string>());
  EXPECT_EQ(Hex(Encode(MakeBroadcastTime(2024, 3, 15, 10, 30, 0))),
            Vector(all, "broadcast-time")["hex"].get<std::string>());
  EXPECT_EQ(Hex(Encode(MakeReadAddress())),
            Vector(all, "read-address-req")["hex"].get<std::string>());
  ControlParams p;
  p.valid_year = 2024, p.valid_month = 3, p.valid_day = 16, p.valid_hour = 0, p.valid_minute = 0,
  p.valid_second = 0;
  Frame trip = MakeControl("000000000001", p);
  EXPECT_EQ(Hex(Encode(trip)), Vector(all, "remote-trip-plain")["hex"].get<std::string>());
  EXPECT_EQ(Hex(Encode(MakeControlReply(trip))),
            Vector(all, "remote-trip-ok")["hex"].get<std::string>());
  EXPECT_EQ(Hex(Encode(MakeErrorReply(trip, 0x04))),
            Vector(all, "remote-trip-err")["hex"].get<std::string>());
  EXPECT_EQ(Hex(Encode(MakeErrorReply(MakeRead("000000000001", 0x00010000), 0x02))),
            Vector(all, "read-error-resp")["hex"].get<std::string>());
  // Every action round-trips through DecodeControl.
  for (auto a : {ControlAction::kTrip, ControlAction::kPermitClose, ControlAction::kDirectClose,
                 ControlAction::kAlarm, ControlAction::kAlarmOff, ControlAction::kKeepPower,
                 ControlAction::kKeepPowerOff}) {
    ControlParams q;
    q.action = a;
    q.password = 0x123456;
    q.operator_code = 0x89ABCDEF;
    auto back = DecodeControl(*Decode(Encode(MakeControl("112233445566", q))));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(back->action, a);
    EXPECT_EQ(back->password, 0x123456u);
    EXPECT_EQ(back->operator_code, 0x89ABCDEFu);
    EXPECT_EQ(back->valid_year, 2099);
  }
}

TEST(Dlt645, ErrorTextNamesEveryBit) {
  EXPECT_EQ(ErrorText(0x02), "no requested data");
  EXPECT_EQ(ErrorText(0x04), "password error / not authorised");
  EXPECT_EQ(ErrorText(0x05), "other error, password error / not authorised");
  EXPECT_EQ(ErrorText(0x40), "too many tariffs");
  auto r = DecodeReadReply(MakeErrorReply(MakeRead("000000000001", 0x00010000), 0x02));
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("no requested data"), std::string::npos);
}

TEST(Dlt645, MissingValuesAreNoData) {
  // A block of total + 4 rates with rate 2 EEH and rate 4 FFH.
  std::vector<std::optional<Energy>> v = {Energy::FromDwh(1000000), Energy::FromDwh(100000),
                                          std::nullopt, Energy::FromDwh(300000), std::nullopt};
  Bytes bytes = EncodeEnergies(v);
  bytes[16] = bytes[17] = bytes[18] = bytes[19] = 0xFF;
  auto back = DecodeEnergies(0x0001FF00, bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, v);
  // Partly EE inside one value: the whole value is missing, never a number.
  Bytes partial = {0x00, 0xEE, 0x12, 0x00};
  auto p = DecodeEnergies(0x00010000, partial);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE((*p)[0].has_value());
  auto t = DecodeValueText(0x02010100, Bytes{0xEE, 0xEE});
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE((*t)[0].has_value());
  // And back: nullopt encodes as EEH.
  EXPECT_EQ(*EncodeValueText(0x02010100, {std::nullopt}), (Bytes{0xEE, 0xEE}));
}

TEST(Dlt645, SignedValuesAndTheirText) {
  // Current -5.123 A: sign in D7 of the high byte.
  auto t = DecodeValueText(0x02020100, Bytes{0x23, 0x51, 0x80});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*(*t)[0], "-5.123");
  EXPECT_EQ(*EncodeValueText(0x02020100, {"-5.123"}), (Bytes{0x23, 0x51, 0x80}));
  // Combined active energy is signed, forward active is not.
  auto e = DecodeEnergies(0x00000000, Bytes{0x56, 0x34, 0x12, 0x80});
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)[0]->dwh(), -12345600);
  EXPECT_EQ(EncodeEnergies(*e), (Bytes{0x56, 0x34, 0x12, 0x80}));
  // Forward active is unsigned: 80 is the digits 8 and 0; A0 is not BCD.
  EXPECT_EQ(*(*DecodeEnergies(0x00010000, Bytes{0x56, 0x34, 0x12, 0x80}))[0],
            Energy::FromDwh(8012345600));
  EXPECT_FALSE(DecodeEnergies(0x00010000, Bytes{0x56, 0x34, 0x12, 0xA0}).ok());
  // Power factor 0.987, frequency 50.01 Hz, time of day, freeze time.
  EXPECT_EQ(*(*DecodeValueText(0x02060000, Bytes{0x87, 0x09}))[0], "0.987");
  EXPECT_EQ(*(*DecodeValueText(0x02800002, Bytes{0x01, 0x50}))[0], "50.01");
  EXPECT_EQ(*(*DecodeValueText(0x04000102, Bytes{0x05, 0x30, 0x10}))[0], "10:30:05");
  EXPECT_EQ(*EncodeValueText(0x04000102, {"10:30:05"}), (Bytes{0x05, 0x30, 0x10}));
  EXPECT_EQ(*EncodeValueText(0x05060001, {"2024-03-15 00:00"}),
            (Bytes{0x00, 0x00, 0x15, 0x03, 0x24}));
  // Out of range or malformed text is refused, naming the value.
  auto bad = EncodeValueText(0x02010100, {"220.15"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'220.15'"), std::string::npos);
  EXPECT_FALSE(EncodeValueText(0x02010100, {"1000.0"}).ok());
  EXPECT_EQ(*EncodeValueText(0x02010100, {"999.9"}), (Bytes{0x99, 0x99}));
  EXPECT_EQ(*EncodeValueText(0x02020100, {"-799.999"}), (Bytes{0x99, 0x99, 0xF9}));
  EXPECT_FALSE(EncodeValueText(0x02020100, {"800.000"}).ok());
  EXPECT_FALSE(EncodeValueText(0x02010100, {"-1.0"}).ok());
  EXPECT_FALSE(EncodeValueText(0x04000101, {"2024-02-30"}).ok());
  EXPECT_FALSE(EncodeValueText(0x0201FF00, {"220.0"}).ok());  // block of 3
}

TEST(Dlt645, DemandAndEventRecords) {
  // Forward active max demand 1.2345 kW at 2024-03-15 10:30.
  Bytes demand = {0x45, 0x23, 0x01, 0x30, 0x10, 0x15, 0x03, 0x24};
  auto t = DecodeValueText(0x01010000, demand);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(*(*t)[0], "1.2345 at 2024-03-15 10:30");
  // Last trip: 2024-03-15 10:30:00, operator 12345678, forward 100.00 kWh, reverse 0.
  Bytes rec = {0x00, 0x30, 0x10, 0x15, 0x03, 0x24, 0x78, 0x56, 0x34, 0x12};
  Bytes energies = EncodeEnergies({Energy::FromKwh(100), Energy::FromKwh(0), std::nullopt,
                                   std::nullopt, std::nullopt, std::nullopt});
  rec.insert(rec.end(), energies.begin(), energies.end());
  ASSERT_EQ(rec.size(), 34u);
  auto e = DecodeSwitchEvent(rec);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(*e->time, "2024-03-15 10:30:00");
  EXPECT_EQ(e->operator_code, 0x12345678u);
  EXPECT_EQ(e->forward_active, Energy::FromKwh(100));
  EXPECT_EQ(e->reverse_active, Energy::FromKwh(0));
  EXPECT_FALSE(e->reactive[0].has_value());
  auto text = DecodeValueText(0x1D000101, rec);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(*(*text)[0],
            "2024-03-15 10:30:00, operator 12345678, forward active 100.00 kWh, "
            "reverse active 0.00 kWh");
  EXPECT_TRUE(DecodeValueText(0x1E000103, Bytes(rec.begin(), rec.begin() + 10)).ok());
  EXPECT_FALSE(DecodeSwitchEvent(Bytes(rec.begin(), rec.begin() + 9)).ok());
  EXPECT_FALSE(DecodeSwitchEvent(Bytes(rec.begin(), rec.begin() + 12)).ok());
  // A date of 2024-02-30 is refused with the byte.
  Bytes bad = rec;
  bad[3] = 0x30, bad[4] = 0x02;
  auto b = DecodeSwitchEvent(bad);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("no such date"), std::string::npos);
}

TEST(Dlt645, DiTable) {
  auto a = LookupDi(0x00010000);
  ASSERT_TRUE(a.ok());
  EXPECT_STREQ(a->name, "forward active energy, total");
  EXPECT_EQ(a->format, DiFormat::kEnergy);
  EXPECT_STREQ(LookupDi(0x00010203)->name, "forward active energy, rate 2 (last 3 settlement day)");
  EXPECT_EQ(LookupDi(0x0001FF00)->count, 0);
  EXPECT_EQ(LookupDi(0x05060101)->count, 0);
  EXPECT_STREQ(LookupDi(0x05060101)->name,
               "(last 1) daily freeze forward active energy (total, rates)");
  EXPECT_EQ(LookupDi(0x05060001)->format, DiFormat::kMinuteTime);
  EXPECT_EQ(LookupDi(0x1D000101)->format, DiFormat::kSwitchEvent);
  EXPECT_EQ(LookupDi(0x02020100)->is_signed, true);
  EXPECT_EQ(LookupDi(0x9010)->format, DiFormat::kEnergy);
  for (uint32_t unknown : {0x00014000u, 0x000B0000u, 0x0001000Du, 0x05060100u, 0x1D00010Bu,
                           0x12345678u, 0xFFFFFFFFu}) {
    auto r = LookupDi(unknown);
    EXPECT_EQ(r.status().code(), StatusCode::kNotFound) << std::hex << unknown;
  }
  // A block of the wrong length, a non-energy DI for DecodeEnergies.
  EXPECT_FALSE(DecodeEnergies(0x0001FF00, Bytes(7, 0)).ok());
  EXPECT_FALSE(DecodeEnergies(0x0001FF00, Bytes{}).ok());
  EXPECT_FALSE(DecodeEnergies(0x02010100, Bytes(2, 0)).ok());
  EXPECT_FALSE(DecodeValueText(0x02010100, Bytes(3, 0)).ok());
}

TEST(Dlt645, Rollover) {
  // A register beyond 999999.99 kWh wraps as the meter's does.
  auto b = EncodeEnergies({Energy::FromKwh(1'000'001)});
  EXPECT_EQ(*(*DecodeEnergies(0x00010000, b))[0], Energy::FromKwh(1));
}

TEST(Dlt645, ReadAddressAnd1997Replies) {
  Frame req = MakeReadAddress();
  Frame reply = MakeReadReply(req, Bytes{0x01, 0, 0, 0, 0, 0});
  EXPECT_EQ(reply.address, "000000000001");
  auto r = DecodeReadReply(reply);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->di, 0x04000401u);
  Frame q97 = MakeRead1997("000000000001", 0x9010);
  Frame a97 = MakeReadReply(q97, Bytes{0x56, 0x34, 0x12, 0x00});
  EXPECT_EQ(a97.ControlByte(), 0x81);
  auto r97 = DecodeReadReply(*Decode(Encode(a97)));
  ASSERT_TRUE(r97.ok());
  EXPECT_EQ(r97->di, 0x9010u);
  EXPECT_EQ(*(*DecodeEnergies(r97->di, r97->value))[0], Energy::FromDwh(12345600));
  // A request is not a reply; a reply of another function is not a read reply.
  EXPECT_FALSE(DecodeReadReply(q97).ok());
  EXPECT_FALSE(DecodeReadReply(MakeControlReply(MakeControl("000000000001", {}))).ok());
}

TEST(Dlt645Framing, ScanFindsFramesInAStream) {
  auto all = LoadVectors();
  Bytes a = HexOf(Vector(all, "read-energy-resp")["hex"]);
  Bytes b = HexOf(Vector(all, "read-energy-req-fe")["hex"]);
  Bytes stream = {0x00, 0x12, 0x68, 0x99};  // garbage, including a false 68H
  stream.insert(stream.end(), a.begin(), a.end());
  stream.insert(stream.end(), b.begin(), b.end());
  std::vector<Bytes> frames;
  size_t pos = 0, skipped = 0;
  while (pos < stream.size()) {
    auto s = ScanFrame(ByteSpan(stream).subspan(pos));
    if (s.kind == Scan::kNeedMore) break;
    ASSERT_GT(s.length, 0u);
    if (s.kind == Scan::kSkip) {
      skipped += s.length;
    } else {
      frames.emplace_back(stream.begin() + pos, stream.begin() + pos + s.length);
    }
    pos += s.length;
  }
  EXPECT_EQ(pos, stream.size());
  EXPECT_EQ(skipped, 4u);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0], a);
  EXPECT_EQ(frames[1], b);
  // Every prefix of a frame is kNeedMore (never a skip that would lose it).
  for (size_t n = 0; n < b.size(); ++n) {
    EXPECT_EQ(ScanFrame(ByteSpan(b).first(n)).kind, Scan::kNeedMore) << n;
  }
  // A long run of FE is cut down.
  Bytes noise(40, 0xFE);
  auto s = ScanFrame(noise);
  EXPECT_EQ(s.kind, Scan::kSkip);
  EXPECT_EQ(s.length, 36u);
}

TEST(Dlt645Framing, TruncationsAndFlipsAreRejectedWithoutCrash) {
  auto all = LoadVectors();
  std::mt19937 rng(1376);
  for (const auto& v : all["vectors"]) {
    Bytes raw = HexOf(v["hex"]);
    // Every truncation: an error naming an offset.
    for (size_t n = 0; n < raw.size(); ++n) {
      auto r = Decode(ByteSpan(raw).first(n));
      ASSERT_FALSE(r.ok()) << v["id"] << " length " << n;
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
      EXPECT_EQ(r.status().message().rfind("offset ", 0), 0u) << r.status().message();
    }
    // Every single-bit flip is caught by the frame checks (FE, start bytes, L, CS, end byte).
    for (size_t i = 0; i < raw.size(); ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        Bytes flipped = raw;
        flipped[i] ^= static_cast<uint8_t>(1 << bit);
        auto r = Decode(flipped);
        EXPECT_FALSE(r.ok()) << v["id"] << " byte " << i << " bit " << bit;
        auto s = ScanFrame(flipped);
        EXPECT_NE(s.kind, Scan::kFrame);
      }
    }
    // Random bytes with a valid envelope: the value decoders never crash.
    for (int round = 0; round < 200; ++round) {
      Frame f;
      f.address = "000000000001";
      f.up = true;
      f.func = kRead;
      std::uniform_int_distribution<int> len(0, 40), byte(0, 255);
      f.data.resize(static_cast<size_t>(len(rng)));
      for (auto& x : f.data) x = static_cast<uint8_t>(byte(rng));
      if (f.data.size() >= 4 && round % 2 == 0) {  // a known DI half of the time
        uint32_t known[] = {0x00010000, 0x0001FF00, 0x02020100, 0x04000101, 0x05060001,
                            0x05060101, 0x1D000101, 0x01010000, 0x04000401};
        uint32_t di = known[static_cast<size_t>(round / 2) % 9];
        for (int k = 0; k < 4; ++k) f.data[static_cast<size_t>(k)] = uint8_t(di >> (8 * k));
      }
      auto back = Decode(Encode(f));
      ASSERT_TRUE(back.ok());
      auto r = DecodeReadReply(*back);
      if (!r.ok()) continue;
      (void)DecodeValueText(r->di, r->value);
      (void)DecodeEnergies(r->di, r->value);
    }
  }
}

TEST(Dlt645Framing, DecodeErrorsNameOffsetAndField) {
  Bytes raw = HexOf("68 01 00 00 00 00 00 68 91 08 33 33 34 33 89 67 45 33 9F 16");
  Bytes bad_cs = raw;
  bad_cs[18] = 0x9E;
  EXPECT_EQ(Decode(bad_cs).status().message(), "offset 18: checksum 9E, computed 9F");
  Bytes bad_end = raw;
  bad_end[19] = 0x17;
  EXPECT_EQ(Decode(bad_end).status().message(), "offset 19: end byte 17, not 16H");
  Bytes bad_start = raw;
  bad_start[7] = 0x69;
  EXPECT_EQ(Decode(bad_start).status().message(), "offset 7: second start byte 69, not 68H");
  Bytes longer = raw;
  longer.push_back(0x00);
  EXPECT_EQ(Decode(longer).status().message(), "offset 9: L = 8 makes a frame of 20 bytes, got 21");
  // Encode refuses a bad address or too much data through EncodeChecked.
  Frame f = MakeRead("00000000000G", 0x00010000);
  EXPECT_FALSE(EncodeChecked(f).ok());
  f.address = "000000000001";
  f.data.assign(256, 0);
  EXPECT_FALSE(EncodeChecked(f).ok());
  f.data.assign(255, 0);
  auto ok = EncodeChecked(f);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->size(), 12u + 255u);
  EXPECT_TRUE(Decode(*ok).ok());
}

}  // namespace
}  // namespace gridmis::acquisition::dlt645
