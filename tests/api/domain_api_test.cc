// The domain model over HTTP: grid → customers → metering points, meters and terminals; data
// scope between counties; the audit trail of edits; optimistic concurrency; bad input.
#include "api/api_fixture.h"

namespace gridmis::testing {
namespace {

using nlohmann::json;

class DomainApiTest : public ApiTest {
 protected:
  // Builds a substation → feeder → transformer area in `dept` as the manager; returns the
  // area id.
  int64_t MakeArea(HttpClient& mgr, const std::string& tag, int64_t dept) {
    auto s = mgr.Post("/api/v1/substations", json{{"code", "SS" + tag},
                                                  {"name", tag + "变电站"},
                                                  {"voltage_v", 35000},
                                                  {"department_id", dept}}
                                                 .dump());
    EXPECT_EQ(s.status, 201) << s.body;
    auto f = mgr.Post("/api/v1/feeders", json{{"code", "FD" + tag},
                                              {"name", tag + "线"},
                                              {"substation_id", Json(s)["id"]},
                                              {"department_id", dept}}
                                             .dump());
    EXPECT_EQ(f.status, 201) << f.body;
    auto a = mgr.Post("/api/v1/transformer-areas", json{{"code", "TA" + tag},
                                                        {"name", tag + "台区"},
                                                        {"feeder_id", Json(f)["id"]},
                                                        {"department_id", dept},
                                                        {"capacity_kva", 400}}
                                                       .dump());
    EXPECT_EQ(a.status, 201) << a.body;
    return Json(a).value("id", int64_t{0});
  }

  json MakeCustomer(HttpClient& clerk, const std::string& no, const std::string& name, int64_t dept,
                    int64_t area) {
    auto r = clerk.Post("/api/v1/customers", json{{"customer_no", no},
                                                  {"name", name},
                                                  {"category", "residential"},
                                                  {"address", "集宁区新华街" + no + "号"},
                                                  {"mobile", "13800138000"},
                                                  {"department_id", dept},
                                                  {"transformer_area_id", area}}
                                                 .dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return Json(r);
  }

  void SetUp() override {
    ApiTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    mgr_ = LoginAs("manager");
    clerk_a_ = LoginAs("clerk_a");
    clerk_b_ = LoginAs("clerk_b");
    area_a_ = MakeArea(*mgr_, "A", county_a_);
    area_b_ = MakeArea(*mgr_, "B", county_b_);
    cust_a_ = MakeCustomer(*clerk_a_, "1500000001", "张伟", county_a_, area_a_);
    cust_b_ = MakeCustomer(*clerk_b_, "1500000002", "李娜", county_b_, area_b_);
  }

  std::string CustomerPath(const json& c) {
    return "/api/v1/customers/" + std::to_string(c["id"].get<int64_t>());
  }

  std::unique_ptr<HttpClient> mgr_, clerk_a_, clerk_b_;
  int64_t area_a_ = 0, area_b_ = 0;
  json cust_a_, cust_b_;
};

TEST_P(DomainApiTest, ACountyUserCannotReadOrChangeAnotherCountysCustomers) {
  // Reading: 404, so that existence does not leak.
  auto r = clerk_a_->Get(CustomerPath(cust_b_));
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_EQ(Json(r)["error"]["code"], "NOT_FOUND");
  // Changing: the same 404, and nothing changes.
  int64_t before = AuditCount();
  auto p = clerk_a_->Patch(CustomerPath(cust_b_),
                           json{{"name", "篡改"}, {"version", cust_b_["version"]}}.dump());
  EXPECT_EQ(p.status, 404) << p.body;
  EXPECT_EQ(AuditCount(), before);
  EXPECT_EQ(Json(clerk_b_->Get(CustomerPath(cust_b_)))["customer"]["name"], "李娜");
  // Listing and searching never show it.
  auto list = Json(clerk_a_->Get("/api/v1/customers"));
  EXPECT_EQ(list["total"], 1);
  EXPECT_EQ(list["items"][0]["customer_no"], "1500000001");
  EXPECT_EQ(Json(clerk_a_->Get("/api/v1/customers?q=1500000002"))["total"], 0);
  EXPECT_EQ(Json(clerk_a_->Get("/api/v1/customers?q=" + UrlEncode("李娜")))["total"], 0);
  // Nor can a customer be created in the other county.
  auto c = clerk_a_->Post("/api/v1/customers", json{{"customer_no", "1500000003"},
                                                    {"name", "王芳"},
                                                    {"category", "residential"},
                                                    {"address", "丰镇市"},
                                                    {"department_id", county_b_}}
                                                   .dump());
  EXPECT_EQ(c.status, 400) << c.body;
  EXPECT_EQ(Json(c)["error"]["field"], "department_id");
  // The city manager sees both.
  EXPECT_EQ(Json(mgr_->Get("/api/v1/customers"))["total"], 2);
  EXPECT_EQ(mgr_->Get(CustomerPath(cust_b_)).status, 200);
}

TEST_P(DomainApiTest, EditsAreAuditedWithBeforeAndAfterAndStaleVersionsConflict) {
  auto p = clerk_a_->Patch(CustomerPath(cust_a_),
                           json{{"name", "张伟强"}, {"version", cust_a_["version"]}}.dump());
  ASSERT_EQ(p.status, 200) << p.body;
  EXPECT_EQ(Json(p)["version"], cust_a_["version"].get<int64_t>() + 1);
  auto stale = clerk_a_->Patch(CustomerPath(cust_a_),
                               json{{"name", "张三"}, {"version", cust_a_["version"]}}.dump());
  EXPECT_EQ(stale.status, 409) << stale.body;
  EXPECT_NE(Json(stale)["error"]["message"].get<std::string>().find("reload"), std::string::npos);
  // The clerk can read this record's history; it names who changed what.
  auto hist = clerk_a_->Get("/api/v1/audit?entity=customer&id=" +
                            std::to_string(cust_a_["id"].get<int64_t>()));
  ASSERT_EQ(hist.status, 200) << hist.body;
  json h = Json(hist);
  ASSERT_EQ(h["total"], 2);  // create + update
  EXPECT_EQ(h["items"][0]["action"], "update");
  EXPECT_EQ(h["items"][0]["username"], "clerk_a");
  EXPECT_EQ(h["items"][0]["before"]["name"], "张伟");
  EXPECT_EQ(h["items"][0]["after"]["name"], "张伟强");
  EXPECT_EQ(h["items"][1]["action"], "create");
  EXPECT_TRUE(h["items"][1]["before"].is_null());
  // But not another county's record history, nor the whole log.
  auto other = Json(clerk_a_->Get("/api/v1/audit?entity=customer&id=" +
                                  std::to_string(cust_b_["id"].get<int64_t>())));
  EXPECT_EQ(other["total"], 0);
  EXPECT_EQ(clerk_a_->Get("/api/v1/audit").status, 403);
  // Every write so far is in the log, chained.
  auto aud = LoginAs("auditor");
  json all = Json(aud->Get("/api/v1/audit?action=create&page_size=200"));
  int creates = 0;
  for (const auto& e : all["items"]) {
    std::string ent = e["entity"];
    if (ent == "customer" || ent == "substation" || ent == "feeder" || ent == "transformer_area") {
      ++creates;
      EXPECT_FALSE(e["after"].is_null()) << e.dump();
    }
  }
  EXPECT_EQ(creates, 2 + 3 * 2);
  EXPECT_EQ(Json(aud->Get("/api/v1/audit/verify"))["ok"], true);
}

TEST_P(DomainApiTest, BadCustomerInputIs400WithTheFieldAndChangesNothing) {
  int64_t before = AuditCount();
  std::string path = CustomerPath(cust_a_);
  int64_t v = cust_a_["version"];
  struct Case {
    std::string method, path, body, field;
  };
  std::vector<Case> cases = {
      {"PATCH", path, "{\"name\": ", ""},
      {"PATCH", path, json{{"name", 42}, {"version", v}}.dump(), "name"},
      {"PATCH", path, json{{"name", "x"}}.dump(), "version"},
      {"PATCH", path, json{{"nmae", "x"}, {"version", v}}.dump(), "nmae"},
      {"PATCH", path, json{{"name", std::string(101, 'x')}, {"version", v}}.dump(), "name"},
      {"PATCH", path, json{{"category", "royalty"}, {"version", v}}.dump(), "category"},
      {"PATCH", path, json{{"mobile", "12345"}, {"version", v}}.dump(), "mobile"},
      {"PATCH", path,
       json{{"id_doc_type", "resident_id"}, {"id_doc_no", "150102199003071235"}, {"version", v}}
           .dump(),
       "id_doc_no"},  // wrong GB 11643 check digit
      {"PATCH", "/api/v1/customers/abc", json{{"name", "x"}, {"version", v}}.dump(), "id"},
      {"POST", "/api/v1/customers",
       json{{"customer_no", "15000000a1"},
            {"name", "x"},
            {"category", "residential"},
            {"address", "a"},
            {"department_id", county_a_}}
           .dump(),
       "customer_no"},
      {"POST", "/api/v1/customers",
       json{{"customer_no", "1500000001"},
            {"name", "重复"},
            {"category", "residential"},
            {"address", "a"},
            {"department_id", county_a_}}
           .dump(),
       "customer_no"},
  };
  for (const auto& c : cases) {
    auto r = clerk_a_->Send(c.method, c.path, c.body);
    if (c.body.find("重复") != std::string::npos) {
      EXPECT_EQ(r.status, 409) << c.body << " -> " << r.body;
    } else {
      EXPECT_EQ(r.status, 400) << c.body << " -> " << r.body;
    }
    if (!c.field.empty()) {
      EXPECT_EQ(Json(r)["error"].value("field", ""), c.field) << c.body << " -> " << r.body;
    }
  }
  EXPECT_EQ(AuditCount(), before);
  json now = Json(clerk_a_->Get(path))["customer"];
  EXPECT_EQ(now["name"], "张伟");
  EXPECT_EQ(now["version"], v);
}

TEST_P(DomainApiTest, Customer360ShowsMetersWithMultiplierAndTerminals) {
  int64_t cid = cust_a_["id"];
  auto mp = clerk_a_->Post("/api/v1/metering-points", json{{"code", "MP0001"},
                                                           {"customer_id", cid},
                                                           {"transformer_area_id", area_a_},
                                                           {"voltage_v", 380},
                                                           {"tariff_code", "GS-COM-380"},
                                                           {"contracted_capacity_kva", 100},
                                                           {"pf_standard", "0.85"},
                                                           {"metering_side", "low"}}
                                                          .dump());
  ASSERT_EQ(mp.status, 201) << mp.body;
  auto meter = clerk_a_->Post("/api/v1/meters", json{{"asset_no", "M0001"},
                                                     {"make", "威胜"},
                                                     {"model", "DTZ341"},
                                                     {"phases", 3},
                                                     {"accuracy_class", "0.5S"},
                                                     {"registers", {"total", "peak", "valley"}},
                                                     {"ct_ratio", "200/5"},
                                                     {"department_id", county_a_}}
                                                    .dump());
  ASSERT_EQ(meter.status, 201) << meter.body;
  EXPECT_EQ(Json(meter)["multiplier"], 40);
  auto inst = clerk_a_->Post(
      "/api/v1/metering-points/" + std::to_string(Json(mp)["id"].get<int64_t>()) + "/install",
      json{{"meter_id", Json(meter)["id"]},
           {"installed_at", "2027-01-10T09:00:00+08:00"},
           {"readings", {{"total", "12.34"}, {"peak", "5.00"}, {"valley", "7.34"}}}}
          .dump());
  ASSERT_EQ(inst.status, 201) << inst.body;
  auto term = mgr_->Post("/api/v1/terminals", json{{"asset_no", "T0001"},
                                                   {"kind", "public_transformer"},
                                                   {"area_code", "1509"},
                                                   {"address", 101},
                                                   {"department_id", county_a_},
                                                   {"transformer_area_id", area_a_}}
                                                  .dump());
  ASSERT_EQ(term.status, 201) << term.body;
  auto tm =
      mgr_->Post("/api/v1/terminals/" + std::to_string(Json(term)["id"].get<int64_t>()) + "/meters",
                 json{{"meter_id", Json(meter)["id"]}, {"point_no", 1}}.dump());
  ASSERT_EQ(tm.status, 201) << tm.body;

  auto view = clerk_a_->Get(CustomerPath(cust_a_));
  ASSERT_EQ(view.status, 200) << view.body;
  json v = Json(view);
  EXPECT_EQ(v["customer"]["customer_no"], "1500000001");
  ASSERT_EQ(v["metering_points"].size(), 1u);
  json cur = v["metering_points"][0]["current_meter"];
  EXPECT_EQ(cur["asset_no"], "M0001");
  EXPECT_EQ(cur["ct_ratio"], "200/5");
  EXPECT_EQ(cur["multiplier"], 40);
  EXPECT_EQ(v["metering_points"][0]["installations"].size(), 1u);
  ASSERT_EQ(v["terminals"].size(), 1u);
  EXPECT_EQ(v["terminals"][0]["asset_no"], "T0001");
  EXPECT_EQ(v["terminals"][0]["area_code"], "1509");
}

TEST_P(DomainApiTest, SearchFindsByNumberNamePhoneAndAddress) {
  for (const auto& q : {std::string("1500000001"), std::string("150000"), std::string("张伟"),
                        std::string("张"), std::string("1380013"), std::string("新华街")}) {
    auto r = clerk_a_->Get("/api/v1/customers?q=" + UrlEncode(q));
    ASSERT_EQ(r.status, 200) << q << ": " << r.body;
    EXPECT_EQ(Json(r)["total"], 1) << q << ": " << r.body;
  }
  // List items mask the mobile number; the 360 view shows it.
  json item = Json(clerk_a_->Get("/api/v1/customers"))["items"][0];
  EXPECT_EQ(item["mobile"], "138****8000");
  EXPECT_EQ(Json(clerk_a_->Get(CustomerPath(cust_a_)))["customer"]["mobile"], "13800138000");
}

GRIDMIS_API_TEST_BACKENDS(DomainApiTest);

}  // namespace
}  // namespace gridmis::testing
