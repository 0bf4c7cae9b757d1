// Golden tests: every tests/data/rating/*.json is one case (adding a file adds a test).
//
//   {"description": "...", "reference": "tariffs.md §13 Example B",
//    "catalogue": "guangdong" | {"toml": "<inline catalogue>"},
//    "input": {<the trial JSON, see rating/json.h>},
//    "expected": {"lines": [{<fields that must match the bill line exactly>}, ...],
//                 "total": "358450.04",
//                 "fields": {"power_factor": "0.85", "energy.loss": {...}, ...}}
//                | {"error": "<substring of the message>", "code": "INVALID_ARGUMENT"}}
//
// or a table of power-factor vectors: {"pf_vectors": [{"pf", "standard", "rate"}],
// "pf_boundary": [{"p", "q", "pf"}]}.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "rating/json.h"
#include "rating/rating.h"
#include "rating/tariff.h"

namespace gridmis::rating {
namespace {

using nlohmann::json;

std::vector<std::string> GoldenFiles() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(GRIDMIS_RATING_GOLDEN_DIR)) {
    if (e.path().extension() == ".json") out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

json ReadJson(const std::string& name) {
  std::ifstream in(std::string(GRIDMIS_RATING_GOLDEN_DIR) + "/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

// The value at a dotted path of the bill JSON ("energy.loss.peak").
const json* At(const json& j, const std::string& path) {
  const json* cur = &j;
  size_t start = 0;
  while (start <= path.size()) {
    size_t dot = path.find('.', start);
    std::string key =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!cur->is_object() || !cur->contains(key)) return nullptr;
    cur = &(*cur)[key];
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return cur;
}

class GoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenTest, MatchesTheExpectedBill) {
  json t = ReadJson(GetParam());
  ASSERT_TRUE(t.contains("description")) << "every golden file says what it shows";
  SCOPED_TRACE(t["description"].get<std::string>());

  if (t.contains("pf_vectors")) {
    ASSERT_FALSE(t["pf_vectors"].empty());
    for (const auto& v : t["pf_vectors"]) {
      auto pf = Decimal::Parse(v["pf"].get<std::string>());
      ASSERT_TRUE(pf.ok());
      auto rate = PowerFactorAdjustment(*pf, v["standard"].get<std::string>());
      ASSERT_TRUE(rate.ok()) << rate.status().ToString();
      EXPECT_EQ(rate->ToString(), v["rate"].get<std::string>())
          << "PF " << v["pf"] << " standard " << v["standard"];
    }
    for (const auto& b : t["pf_boundary"]) {
      auto p = Energy::ParseKwh(b["p"].get<std::string>());
      auto q = Energy::ParseKwh(b["q"].get<std::string>());
      ASSERT_TRUE(p.ok() && q.ok());
      EXPECT_EQ(PowerFactor(*p, *q).ToString(), b["pf"].get<std::string>())
          << "P " << b["p"] << " Q " << b["q"];
    }
    return;
  }

  std::shared_ptr<const TariffCatalogue> cat;
  if (t["catalogue"].is_string()) {
    auto c = TariffCatalogue::Load(t["catalogue"].get<std::string>());
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cat = *c;
  } else {
    auto c = TariffCatalogue::FromTexts({{GetParam() + ":catalogue", t["catalogue"]["toml"]}});
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cat = *c;
  }
  auto in = RatingInputFromJson(t["input"]);
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  // The JSON form round-trips.
  auto again = RatingInputFromJson(ToJson(*in));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(ToJson(*again), ToJson(*in));

  auto bill = Rate(*in, *cat);
  const json& exp = t["expected"];
  if (exp.contains("error")) {
    ASSERT_FALSE(bill.ok()) << "expected an error, got a bill: " << ToJson(*bill).dump(2);
    EXPECT_NE(bill.status().message().find(exp["error"].get<std::string>()), std::string::npos)
        << bill.status().ToString();
    if (exp.contains("code")) {
      EXPECT_EQ(StatusCodeName(bill.status().code()), exp["code"].get<std::string>());
    }
    return;
  }
  ASSERT_TRUE(bill.ok()) << bill.status().ToString();
  json got = ToJson(*bill);
  const json& lines = got["lines"];
  ASSERT_EQ(lines.size(), exp["lines"].size()) << got.dump(2);
  for (size_t i = 0; i < lines.size(); ++i) {
    for (auto it = exp["lines"][i].begin(); it != exp["lines"][i].end(); ++it) {
      ASSERT_TRUE(lines[i].contains(it.key())) << "line " << i << " has no " << it.key();
      EXPECT_EQ(lines[i][it.key()], *it) << "line " << i << " field " << it.key() << "\n"
                                         << lines[i].dump(2);
    }
  }
  EXPECT_EQ(got["total"], exp["total"]) << got.dump(2);
  // The total is the sum of the rounded lines.
  Money sum;
  for (const auto& l : bill->lines) sum += l.amount;
  EXPECT_EQ(sum, bill->total);
  EXPECT_EQ(bill->energy_charge + bill->basic_charge + bill->pf_charge + bill->fund_charge,
            bill->total);
  if (exp.contains("fields")) {
    for (auto it = exp["fields"].begin(); it != exp["fields"].end(); ++it) {
      const json* v = At(got, it.key());
      ASSERT_NE(v, nullptr) << "bill has no " << it.key();
      EXPECT_EQ(*v, *it) << it.key();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Files, GoldenTest, ::testing::ValuesIn(GoldenFiles()), [](const auto& p) {
  std::string n = p.param.substr(0, p.param.size() - 5);
  for (auto& c : n) {
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return n;
});

TEST(GoldenFilesTest, TheFolderHoldsTheReferenceExamples) {
  auto files = GoldenFiles();
  EXPECT_GE(files.size(), 15u);
  for (const char* must : {"a_tiers_tou.json", "b_two_part_demand.json", "c_transformer_loss.json",
                           "f_pf_vectors.json"}) {
    EXPECT_NE(std::find(files.begin(), files.end(), must), files.end()) << must;
  }
}

}  // namespace
}  // namespace gridmis::rating
