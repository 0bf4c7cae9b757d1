// Frame JSON and hex text: every vector renders, with what a field engineer needs; bad input
// gives an error object, never an exception.
#include "acquisition/protocol/frame_json.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "acquisition/protocol/dlt645.h"
#include "acquisition/protocol/gdw1376.h"

namespace gridmis::acquisition::protocol {
namespace {

using json = nlohmann::json;

json LoadVectors(const std::string& file) {
  std::ifstream in(std::string(GRIDMIS_VECTORS_DIR) + "/" + file);
  EXPECT_TRUE(in.good()) << file;
  return json::parse(in);
}

// The vector list of a file (a copy: a range-for over a temporary's member would dangle).
json VectorsOf(const std::string& file) { return LoadVectors(file)["vectors"]; }

Bytes HexOf(const std::string& text) {
  auto b = ParseHex(text);
  EXPECT_TRUE(b.ok()) << b.status().ToString();
  return b.ok() ? *b : Bytes{};
}

json VectorJson(const std::string& file, const std::string& id) {
  for (const auto& v : VectorsOf(file)) {
    if (v["id"] == id) return FrameToJson(HexOf(v["hex"]));
  }
  ADD_FAILURE() << "no vector " << id;
  return json();
}

const json& Item(const json& j, size_t group = 0, size_t item = 0) {
  return j.at("groups").at(group).at("items").at(item);
}

TEST(Hex, RoundTripsAndAcceptsSeparators) {
  Bytes b = {0x68, 0x32, 0x00, 0xFE, 0x0a};
  EXPECT_EQ(Hex(b), "68 32 00 FE 0A");
  EXPECT_EQ(Hex(Bytes{}), "");
  EXPECT_EQ(*ParseHex("68 32 00 fe 0A"), b);
  EXPECT_EQ(*ParseHex("683200FE0a"), b);
  EXPECT_EQ(*ParseHex("68:32:00:FE:0A\n"), b);
  EXPECT_EQ(*ParseHex("  68\t3200 fe0a\r\n"), b);
  EXPECT_TRUE(ParseHex("")->empty());
}

TEST(Hex, ErrorsNameTheCharacter) {
  auto bad = ParseHex("68 3G 00");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "hex: character 5 'G' is not a hex digit");
  auto half = ParseHex("68 3 00");
  ASSERT_FALSE(half.ok());
  EXPECT_EQ(half.status().message(), "hex: character 4: a byte needs two hex digits");
  auto odd = ParseHex("68320");
  ASSERT_FALSE(odd.ok());
  EXPECT_EQ(odd.status().message(), "hex: character 5: a byte needs two hex digits");
  auto ctrl = ParseHex("68\x01");
  ASSERT_FALSE(ctrl.ok());
  EXPECT_EQ(ctrl.status().message(), "hex: character 3 '\\x01' is not a hex digit");
}

TEST(FrameJson, EveryVectorRendersWithItsProtocol) {
  struct File {
    const char* name;
    const char* protocol;
  };
  for (File file : {File{"gdw3761_real_capture.json", "Q/GDW 1376.1"},
                    File{"gdw3761_constructed.json", "Q/GDW 1376.1"},
                    File{"dlt645_2007.json", "DL/T 645-2007"}}) {
    for (const auto& v : VectorsOf(file.name)) {
      SCOPED_TRACE(v["id"].get<std::string>());
      Bytes raw = HexOf(v["hex"]);
      json j = FrameToJson(raw);
      EXPECT_EQ(j["protocol"], file.protocol);
      EXPECT_EQ(j["hex"], Hex(raw));
      EXPECT_EQ(j["length"], raw.size());
      // The frames decode (a frame-level failure would hide every field).
      EXPECT_FALSE(j.contains("error")) << j.dump();
      // Always serialisable.
      EXPECT_FALSE(j.dump().empty());
    }
  }
}

TEST(FrameJson, Gdw1376HeaderAddressAndAux) {
  json j = VectorJson("gdw3761_constructed.json", "c-afn05-f1-trip");
  ASSERT_FALSE(j.contains("error")) << j.dump(2);
  EXPECT_EQ(j["control"]["byte"], "4A");
  EXPECT_EQ(j["control"]["dir"], "master->terminal");
  EXPECT_EQ(j["control"]["func"], 10);
  EXPECT_EQ(j["control"]["func_name"], "request class 1 data");
  EXPECT_EQ(j["address"]["terminal"], "3201-04660");
  EXPECT_EQ(j["address"]["area"], "3201");
  EXPECT_EQ(j["address"]["a2"], 4660);
  EXPECT_EQ(j["address"]["msa"], 1);
  EXPECT_EQ(j["afn"], "05");
  EXPECT_EQ(j["seq"]["byte"], "F1");
  EXPECT_EQ(j["seq"]["tpv"], true);
  EXPECT_EQ(j["seq"]["con"], true);
  EXPECT_EQ(j["seq"]["seq"], 1);
  EXPECT_EQ(j["aux"]["pw"], Hex(Bytes(16, 0)));
  EXPECT_EQ(j["aux"]["tp"]["pfc"], 1);
  EXPECT_EQ(j["aux"]["tp"]["send_time"], "15 10:30:00");
  EXPECT_EQ(j["aux"]["tp"]["delay_minutes"], 5);
  const json& it = Item(j);
  EXPECT_EQ(it["pn"], 1);
  EXPECT_EQ(it["fn"], 1);
  EXPECT_EQ(it["name"], "remote trip");
  EXPECT_EQ(it["data"]["limit_half_hours"], 0);
  EXPECT_EQ(it["data"]["alarm_delay_minutes"], 0);

  json r2 = VectorJson("gdw3761_constructed.json", "c-afn05-f1-trip-r2");
  EXPECT_EQ(r2["groups"][0]["pns"], json({1, 2}));
  EXPECT_EQ(Item(r2, 0, 1)["data"]["limit_half_hours"], 2);
  EXPECT_EQ(Item(r2, 0, 1)["data"]["alarm_delay_minutes"], 3);

  json login = VectorJson("gdw3761_real_capture.json", "real-login");
  EXPECT_EQ(login["control"]["dir"], "terminal->master");
  EXPECT_EQ(login["control"]["func_name"], "link test");
  EXPECT_EQ(login["address"]["terminal"], "0171-02082");
  EXPECT_EQ(Item(login)["name"], "login");
}

TEST(FrameJson, Gdw1376DataUnits) {
  json clock = VectorJson("gdw3761_constructed.json", "c-afn0c-f2-resp");
  EXPECT_EQ(Item(clock)["data"]["time"], "2024-03-15 10:30:05");
  EXPECT_EQ(Item(clock)["data"]["weekday"], 5);

  json sync = VectorJson("gdw3761_constructed.json", "c-afn05-f31-timesync");
  EXPECT_EQ(Item(sync)["name"], "time sync");
  EXPECT_EQ(Item(sync)["data"]["time"], "2024-03-15 10:30:00");

  json f129 = VectorJson("gdw3761_constructed.json", "c-afn0c-f129-resp-p9");
  EXPECT_EQ(Item(f129)["pn"], 9);
  EXPECT_EQ(Item(f129)["data"]["total"], "12345.6789");
  EXPECT_EQ(Item(f129)["data"]["rate_values"],
            json({"1000.0001", "2000.0002", "3000.0003", "6345.6783"}));
  EXPECT_EQ(Item(f129)["data"]["rate_names"], json({"sharp", "peak", "flat", "valley"}));

  json f161req = VectorJson("gdw3761_constructed.json", "c-afn0d-f161-req");
  EXPECT_EQ(Item(f161req)["data"]["td_d"], "2024-03-14");

  json f161 = VectorJson("gdw3761_constructed.json", "c-afn0d-f161-resp");
  const json& d = Item(f161)["data"];
  EXPECT_EQ(d["td_d"], "2024-03-14");
  EXPECT_EQ(d["reading_time"], "2024-03-15 00:00");
  EXPECT_EQ(d["rates"], 4);
  EXPECT_EQ(d["unit"], "kWh");
  EXPECT_EQ(d["total"], "12345.6789");

  json f101req = VectorJson("gdw3761_constructed.json", "c-afn0d-f101-req");
  EXPECT_EQ(Item(f101req)["data"]["td_c"]["start"], "2024-03-14 00:00");
  EXPECT_EQ(Item(f101req)["data"]["td_c"]["density_code"], 2);
  EXPECT_EQ(Item(f101req)["data"]["td_c"]["points"], 4);

  json f101 = VectorJson("gdw3761_constructed.json", "c-afn0d-f101-resp");
  const json& c = Item(f101)["data"];
  EXPECT_EQ(c["start"], "2024-03-14 00:00");
  EXPECT_EQ(c["interval_minutes"], 30);
  EXPECT_EQ(c["values"], json({"1000.00", "1000.25", "1000.50", nullptr}));

  json events = VectorJson("gdw3761_constructed.json", "c-afn0e-f1-req");
  EXPECT_EQ(Item(events)["data"]["pm"], 0);
  EXPECT_EQ(Item(events)["data"]["pn"], 10);

  json f3 = VectorJson("gdw3761_constructed.json", "c-login-confirm-f3");
  ASSERT_TRUE(f3.contains("confirm")) << f3.dump(2);
  EXPECT_EQ(f3["confirm"]["afn"], "02");
  EXPECT_EQ(f3["confirm"]["units"][0]["fn"], 1);
  EXPECT_EQ(f3["confirm"]["units"][0]["ok"], true);

  // F33/F34 content: current, daily frozen (after Td_d) and monthly frozen (after Td_m).
  json f33 = VectorJson("gdw3761_real_capture.json", "real-rafn12f33");
  EXPECT_EQ(Item(f33)["data"]["reading_time"], "2018-08-28 16:48");
  EXPECT_EQ(Item(f33)["data"]["forward_active"]["total"], "0.0100");
  EXPECT_EQ(Item(f33)["data"]["forward_reactive"]["total"], nullptr);
  EXPECT_EQ(Item(f33)["data"]["quadrant4_reactive"]["unit"], "kvarh");
  json f34 = VectorJson("gdw3761_real_capture.json", "real-rafn12f34");
  EXPECT_EQ(Item(f34)["data"]["reverse_active"]["total"], nullptr);  // 00 EE EE EE EE
  json d1 = VectorJson("gdw3761_real_capture.json", "real-rafn13f1");
  EXPECT_EQ(Item(d1)["data"]["td_d"], "2018-08-27");
  EXPECT_EQ(Item(d1)["data"]["forward_active"]["total"], "0.0100");
  json m17 = VectorJson("gdw3761_real_capture.json", "real-rafn13f17");
  EXPECT_EQ(Item(m17)["data"]["td_m"], "2018-07");
  EXPECT_EQ(Item(m17)["data"]["rates"], 4);

  // Missing data stays null, never a number.
  json partial = VectorJson("gdw3761_real_capture.json", "real-rafn12f129");
  EXPECT_EQ(Item(partial)["data"]["total"], "0.0100");
  EXPECT_EQ(Item(partial)["data"]["rate_values"], json({nullptr, nullptr, nullptr, nullptr}));
}

TEST(FrameJson, ForwardedDlt645FramesAreDecodedRecursively) {
  json req = VectorJson("gdw3761_constructed.json", "c-afn10-f1-fwd-req");
  const json& d = Item(req)["data"];
  EXPECT_EQ(d["port"], 2);
  EXPECT_EQ(d["comm_control"], "6B");
  EXPECT_EQ(d["baud"], 2400);
  EXPECT_EQ(d["frame_timeout"], "8A");
  EXPECT_EQ(d["byte_timeout_10ms"], 20);
  EXPECT_EQ(d["length"], 20);
  EXPECT_EQ(d["frame"]["protocol"], "DL/T 645-2007");
  EXPECT_EQ(d["frame"]["leading_fe"], 4);
  EXPECT_EQ(d["frame"]["di"], "00010000");
  EXPECT_EQ(d["frame"]["di_name"], "forward active energy, total");

  json resp = VectorJson("gdw3761_constructed.json", "c-afn10-f1-fwd-resp");
  const json& inner = Item(resp)["data"]["frame"];
  EXPECT_EQ(inner["control"]["byte"], "91");
  EXPECT_EQ(inner["values"], json({"1234.56"}));
  EXPECT_EQ(inner["unit"], "kWh");
  // depth 0: the payload stays hex.
  Bytes raw;
  for (const auto& v : VectorsOf("gdw3761_constructed.json")) {
    if (v["id"] == "c-afn10-f1-fwd-resp") raw = HexOf(v["hex"]);
  }
  json shallow = FrameToJson(raw, 0);
  EXPECT_FALSE(Item(shallow)["data"].contains("frame"));
  EXPECT_EQ(Item(shallow)["data"]["payload"],
            "68 01 00 00 00 00 00 68 91 08 33 33 34 33 89 67 45 33 9F 16");
}

TEST(FrameJson, Dlt645Functions) {
  json block = VectorJson("dlt645_2007.json", "read-energy-block-resp");
  EXPECT_EQ(block["di"], "0001FF00");
  EXPECT_EQ(block["values"], json({"100.00", "10.00", "20.00", "30.00", "40.00"}));
  json date = VectorJson("dlt645_2007.json", "read-date-resp");
  EXPECT_EQ(date["values"], json({"2024-03-15"}));
  EXPECT_EQ(date["weekday"], 5);
  json current = VectorJson("dlt645_2007.json", "read-current-a-resp");
  EXPECT_EQ(current["values"], json({"5.123"}));
  EXPECT_EQ(current["unit"], "A");
  json err = VectorJson("dlt645_2007.json", "read-error-resp");
  EXPECT_EQ(err["control"]["abnormal"], true);
  EXPECT_EQ(err["err"], "02");
  EXPECT_EQ(err["err_text"], "no requested data");
  json addr = VectorJson("dlt645_2007.json", "read-address-req");
  EXPECT_EQ(addr["address_kind"], "wildcard");
  json addr_resp = VectorJson("dlt645_2007.json", "read-address-resp");
  EXPECT_EQ(addr_resp["values"], json({"000000000001"}));
  json bt = VectorJson("dlt645_2007.json", "broadcast-time");
  EXPECT_EQ(bt["address_kind"], "broadcast");
  EXPECT_EQ(bt["time"], "2024-03-15 10:30:00");
  json trip = VectorJson("dlt645_2007.json", "remote-trip-plain");
  EXPECT_EQ(trip["command"]["action"], "1A");
  EXPECT_EQ(trip["command"]["action_name"], "trip");
  EXPECT_EQ(trip["command"]["valid_until"], "2024-03-16 00:00:00");
  json freeze = VectorJson("dlt645_2007.json", "read-dayfreeze-time-resp");
  EXPECT_EQ(freeze["values"], json({"2024-03-15 00:00"}));
  // An unknown DI shows its bytes.
  dlt645::Frame unknown =
      dlt645::MakeReadReply(dlt645::MakeRead("000000000001", 0x12345678), Bytes{0x01, 0x02});
  json u = FrameToJson(dlt645::Encode(unknown));
  EXPECT_EQ(u["di"], "12345678");
  EXPECT_EQ(u["value_hex"], "01 02");
  EXPECT_FALSE(u.contains("values"));
  // A value that does not decode carries the message beside the frame.
  dlt645::Frame bad =
      dlt645::MakeReadReply(dlt645::MakeRead("000000000001", 0x02010100), Bytes{0x1A, 0x22});
  json b = FrameToJson(dlt645::Encode(bad));
  EXPECT_FALSE(b.contains("error"));
  EXPECT_NE(b["value_error"].get<std::string>().find("not BCD"), std::string::npos);
}

TEST(FrameJson, VendorStringsAlwaysSerialise) {
  namespace g = gdw1376;
  g::Address a;
  a.terminal = {3201, 4660};
  a.msa = 1;
  g::Frame request = g::MakeRequest(a, g::kAfnConfig, 2, g::GroupsFor({0}, 1, {}));
  g::TerminalVersion v;
  v.vendor =
      "\xFF\xC0"
      "A\x01";  // invalid UTF-8 and a control character
  v.device_id =
      "\xE8\xAE\xBE\xE5\xA4\x87"
      "01";  // "设备01", valid UTF-8
  v.software_version = "V1.0";
  v.software_date = "2024-03-01";
  v.capacity = "16M";
  v.protocol_version = "1376";
  v.hardware_version = "H2.0";
  v.hardware_date = "2023-12-01";
  std::vector<g::Group> groups = request.groups;
  groups[0].items = {{0, 1, g::EncodeTerminalVersion(v)}};
  auto bytes = g::Encode(g::MakeResponse(request, g::kAfnConfig, groups));
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  json j = FrameToJson(*bytes);
  const json& d = Item(j)["data"];
  EXPECT_EQ(d["vendor"], "\\xFF\\xC0A\\x01");
  EXPECT_EQ(d["device_id"],
            "\xE8\xAE\xBE\xE5\xA4\x87"
            "01");
  EXPECT_EQ(d["software_version"], "V1.0");
  EXPECT_NO_THROW((void)j.dump());
}

TEST(FrameJson, BadFramesGiveAnErrorObject) {
  Bytes raw = HexOf("68 32 00 32 00 68 C9 01 32 34 12 00 02 73 00 00 01 00 B8 16");
  raw[18] = 0xB9;  // checksum
  json j = FrameToJson(raw);
  EXPECT_EQ(j["protocol"], "Q/GDW 1376.1");
  ASSERT_TRUE(j.contains("error"));
  EXPECT_NE(j["error"].get<std::string>().find("offset"), std::string::npos) << j.dump();
  json d = FrameToJson(HexOf("FE FE 68 01 00 00 00 00 00 68 91 08 33 33 34 33 89 67 45 33 9E 16"));
  EXPECT_EQ(d["protocol"], "DL/T 645-2007");
  EXPECT_EQ(d["error"], "offset 20: checksum 9E, computed 9F");
  json u = FrameToJson(HexOf("01 02 03"));
  EXPECT_EQ(u["protocol"], "unknown");
  EXPECT_TRUE(u.contains("error"));
  EXPECT_EQ(FrameToJson(Bytes{})["error"], "empty frame");
  EXPECT_EQ(DetectFrame(HexOf("68 32 00 32 00 68")), FrameKind::kGdw1376);
  EXPECT_EQ(DetectFrame(HexOf("FE 68 01 00 00 00 00 00 68")), FrameKind::kDlt645);
  EXPECT_EQ(DetectFrame(HexOf("16 16")), FrameKind::kUnknown);
}

TEST(FrameJson, NeverThrowsOnTruncatedFlippedOrRandomInput) {
  std::mt19937 rng(645);
  std::vector<Bytes> seeds;
  for (const char* file :
       {"gdw3761_real_capture.json", "gdw3761_constructed.json", "dlt645_2007.json"}) {
    for (const auto& v : VectorsOf(file)) seeds.push_back(HexOf(v["hex"]));
  }
  size_t errors = 0, renders = 0;
  for (const Bytes& seed : seeds) {
    for (size_t n = 0; n < seed.size(); ++n) {
      json j = FrameToJson(ByteSpan(seed).first(n));
      ASSERT_NO_THROW((void)j.dump());
      errors += j.contains("error");
      ++renders;
    }
    for (int round = 0; round < 50; ++round) {
      Bytes m = seed;
      std::uniform_int_distribution<size_t> pos(0, m.size() - 1);
      m[pos(rng)] = static_cast<uint8_t>(rng());
      json j = FrameToJson(m);
      ASSERT_NO_THROW((void)j.dump());
    }
  }
  // Every proper prefix of a frame is refused.
  EXPECT_EQ(errors, renders);
  for (int round = 0; round < 2000; ++round) {
    Bytes m(static_cast<size_t>(rng() % 64));
    for (auto& b : m) b = static_cast<uint8_t>(rng());
    if (!m.empty() && round % 2) m[0] = 0x68;
    ASSERT_NO_THROW((void)FrameToJson(m).dump());
  }
}

}  // namespace
}  // namespace gridmis::acquisition::protocol
