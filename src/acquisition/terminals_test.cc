#include "acquisition/terminals.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "acquisition/routes.h"
#include "customer/customer.h"
#include "grid/grid.h"
#include "grid/testing.h"
#include "metering/metering.h"
#include "org/audit.h"

namespace gridmis::acquisition {
namespace {

using nlohmann::json;

TEST(TerminalAddressTest, FormatAndParse) {
  EXPECT_EQ(FormatTerminalAddress("1501", 12), "1501-00012");
  EXPECT_EQ(FormatTerminalAddress("1501", 65535), "1501-65535");
  auto a = ParseTerminalAddress("1501-00012");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->first, "1501");
  EXPECT_EQ(a->second, 12);
  EXPECT_EQ(ParseTerminalAddress("1501-12")->second, 12);
  for (const char* bad : {"1501-0", "1501-65536", "150-00012", "15011-0001", "1501-", "1501",
                          "15a1-00012", "1501-000012"}) {
    EXPECT_FALSE(ParseTerminalAddress(bad).has_value()) << bad;
  }
}

class TerminalTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto u = grid::testing::TestUtility::Create(GetParam(), clock_);
    if (!u.ok() && GetParam() == "postgres" && !store::testing::PostgresRequiredForTest()) {
      GTEST_SKIP() << u.status().ToString();
    }
    ASSERT_TRUE(u.ok()) << u.status().ToString();
    u_ = std::move(*u);
    sys_ = u_->system();
    grid::GridService grid(u_->db(), clock_);
    customer::CustomerService customers(u_->db(), clock_);
    metering::MeteringService metering(u_->db(), clock_);
    service_ = std::make_unique<TerminalService>(u_->db(), clock_);
    for (auto [dept, suffix] : {std::pair{u_->county_a, "A"}, std::pair{u_->county_b, "B"}}) {
      bool a = std::string(suffix) == "A";
      grid::SubstationInput s;
      s.code = std::string("SUB-") + suffix;
      s.name = *s.code;
      s.voltage_v = 110'000;
      s.department_id = dept;
      auto sub = grid.CreateSubstation(sys_, s);
      ASSERT_TRUE(sub.ok());
      grid::FeederInput f;
      f.code = std::string("F-") + suffix;
      f.name = *f.code;
      f.substation_id = sub->id;
      auto feeder = grid.CreateFeeder(sys_, f);
      ASSERT_TRUE(feeder.ok());
      grid::TransformerAreaInput ta;
      ta.code = std::string("TA-") + suffix;
      ta.name = *ta.code;
      ta.feeder_id = feeder->id;
      ta.capacity_kva = 400;
      ta.department_id = a ? u_->station_a : dept;
      auto area = grid.CreateTransformerArea(sys_, ta);
      ASSERT_TRUE(area.ok());
      customer::CustomerInput c;
      c.customer_no = a ? "1501000001" : "1502000001";
      c.name = std::string("专变客户") + suffix;
      c.category = "large_industry";
      c.address = "工业园区";
      c.department_id = dept;
      auto cust = customers.Create(sys_, c);
      ASSERT_TRUE(cust.ok());
      (a ? sub_a_ : sub_b_) = sub->id;
      (a ? area_a_ : area_b_) = area->id;
      (a ? customer_a_ : customer_b_) = cust->id;
      for (int i = 1; i <= 3; ++i) {
        metering::MeterInput m;
        m.asset_no = std::string("M-") + suffix + std::to_string(i);
        m.make = "威胜";
        m.model = "DTZ341";
        m.phases = 3;
        m.accuracy_class = "0.5S";
        m.registers = std::vector<std::string>{"total"};
        m.comm_address =
            std::optional<std::string>((a ? "00000000000" : "99999999999") + std::to_string(i));
        m.department_id = dept;
        auto meter = metering.CreateMeter(sys_, m);
        ASSERT_TRUE(meter.ok()) << meter.status().ToString();
        (a ? meters_a_ : meters_b_).push_back(meter->id);
      }
    }
    auto a = u_->MakeActor("terminal_a", u_->county_a, {"editor_below"});
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    clerk_a_ = *a;
  }

  TerminalInput Input(const std::string& asset_no, const std::string& kind, int64_t address) {
    TerminalInput in;
    in.asset_no = asset_no;
    in.kind = kind;
    in.area_code = "1501";
    in.address = address;
    in.make = "东软";
    in.model = "DJGZ23";
    if (kind == "public_transformer") in.transformer_area_id = std::optional<int64_t>(area_a_);
    if (kind == "special_transformer" || kind == "large_customer") {
      in.customer_id = std::optional<int64_t>(customer_a_);
    }
    if (kind == "substation") in.substation_id = std::optional<int64_t>(sub_a_);
    return in;
  }
  Terminal Make(const std::string& asset_no, const std::string& kind, int64_t address) {
    auto t = service_->Create(clerk_a_, Input(asset_no, kind, address));
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? *t : Terminal{};
  }

  FakeClock clock_{1'800'000'000'000'000};
  std::unique_ptr<grid::testing::TestUtility> u_;
  std::unique_ptr<TerminalService> service_;
  org::Actor sys_;
  org::Actor clerk_a_;
  int64_t sub_a_ = 0, sub_b_ = 0, area_a_ = 0, area_b_ = 0, customer_a_ = 0, customer_b_ = 0;
  std::vector<int64_t> meters_a_, meters_b_;
};

TEST_P(TerminalTest, EachKindNeedsItsOwnLink) {
  Terminal pub = Make("T-PUB", "public_transformer", 1);
  EXPECT_EQ(pub.department_id, u_->station_a);  // the transformer area's department
  EXPECT_EQ(ToJson(pub)["address_text"], "1501-00001");
  Terminal spec = Make("T-SPEC", "special_transformer", 2);
  EXPECT_EQ(spec.department_id, u_->county_a);  // the customer's
  Make("T-BIG", "large_customer", 3);
  Terminal subst = Make("T-SUB", "substation", 4);
  EXPECT_EQ(subst.substation_id, sub_a_);

  auto field = [&](std::function<void(TerminalInput&)> edit) {
    TerminalInput in = Input("T-X", "public_transformer", 99);
    edit(in);
    return service_->Create(clerk_a_, in).status().field();
  };
  EXPECT_EQ(field([](auto& in) { in.transformer_area_id.reset(); }), "transformer_area_id");
  EXPECT_EQ(field([&](auto& in) { in.customer_id = std::optional<int64_t>(customer_a_); }),
            "customer_id");
  EXPECT_EQ(field([](auto& in) { in.kind = "special_transformer"; }), "customer_id");
  EXPECT_EQ(field([&](auto& in) {
              in.kind = "substation";
              in.transformer_area_id.reset();
            }),
            "substation_id");
  EXPECT_EQ(field([](auto& in) { in.kind = "concentrator"; }), "kind");
  EXPECT_EQ(field([&](auto& in) { in.transformer_area_id = std::optional<int64_t>(area_b_); }),
            "transformer_area_id");
  EXPECT_EQ(field([&](auto& in) {
              in.kind = "large_customer";
              in.transformer_area_id.reset();
              in.customer_id = std::optional<int64_t>(customer_b_);
            }),
            "customer_id");
  EXPECT_EQ(field([](auto& in) { in.area_code = "15a1"; }), "area_code");
  EXPECT_EQ(field([](auto& in) { in.area_code = "150"; }), "area_code");
  EXPECT_EQ(field([](auto& in) { in.address = 0; }), "address");
  EXPECT_EQ(field([](auto& in) { in.address = 65'536; }), "address");
  EXPECT_EQ(field([](auto& in) { in.sim_no = std::optional<std::string>("1380000"); }), "sim_no");
  EXPECT_EQ(field([](auto& in) { in.comm_mode = "pigeon"; }), "comm_mode");
  EXPECT_EQ(field([&](auto& in) { in.department_id = u_->county_b; }), "department_id");

  // Changing the kind needs the matching link, and the old one cleared, in the same edit.
  TerminalInput change;
  change.kind = "special_transformer";
  EXPECT_EQ(service_->Update(clerk_a_, pub.id, pub.version, change).status().field(),
            "customer_id");
  change.customer_id = std::optional<int64_t>(customer_a_);
  EXPECT_EQ(service_->Update(clerk_a_, pub.id, pub.version, change).status().field(),
            "transformer_area_id");
  change.transformer_area_id = std::optional<int64_t>();
  auto changed = service_->Update(clerk_a_, pub.id, pub.version, change);
  ASSERT_TRUE(changed.ok()) << changed.status().ToString();
  EXPECT_EQ(changed->kind, "special_transformer");
  EXPECT_FALSE(changed->transformer_area_id.has_value());
  EXPECT_EQ(service_->Update(clerk_a_, pub.id, pub.version, change).status().code(),
            StatusCode::kAborted);

  org::AuditQuery q;
  q.entity = "terminal";
  q.entity_id = std::to_string(pub.id);
  auto audit = org::ListAudit(u_->db(), sys_, q);
  ASSERT_EQ(audit->total, 2);
  EXPECT_EQ(json::parse(audit->items[0].before_json)["kind"], "public_transformer");
  EXPECT_EQ(json::parse(audit->items[0].after_json)["kind"], "special_transformer");
}

TEST_P(TerminalTest, AddressAndAssetNumberAreUnique) {
  Terminal t = Make("T-1", "public_transformer", 12);
  auto same_address = service_->Create(clerk_a_, Input("T-2", "public_transformer", 12));
  EXPECT_EQ(same_address.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(same_address.status().field(), "address");
  EXPECT_NE(same_address.status().message().find("1501-00012"), std::string::npos);
  EXPECT_NE(same_address.status().message().find("T-1"), std::string::npos);
  auto same_asset = service_->Create(clerk_a_, Input("T-1", "public_transformer", 13));
  EXPECT_EQ(same_asset.status().field(), "asset_no");
  TerminalInput other_area = Input("T-3", "public_transformer", 12);
  other_area.area_code = "1502";
  EXPECT_TRUE(service_->Create(clerk_a_, other_area).ok());
  // A terminal in another county holding the address is not named.
  TerminalInput b = Input("T-B", "substation", 77);
  b.substation_id = std::optional<int64_t>(sub_b_);
  ASSERT_TRUE(service_->Create(sys_, b).ok());
  auto hidden = service_->Create(clerk_a_, Input("T-4", "public_transformer", 77));
  EXPECT_EQ(hidden.status().field(), "address");
  EXPECT_EQ(hidden.status().message().find("T-B"), std::string::npos);
  TerminalInput move;
  move.address = 77;
  EXPECT_EQ(service_->Update(clerk_a_, t.id, t.version, move).status().field(), "address");
}

TEST_P(TerminalTest, MetersBehindATerminal) {
  Terminal t1 = Make("T-1", "public_transformer", 1);
  Terminal t2 = Make("T-2", "public_transformer", 2);
  auto pn1 = service_->AddMeter(clerk_a_, t1.id, {meters_a_[0], 1, 2, 2400, "dlt645_2007"});
  ASSERT_TRUE(pn1.ok()) << pn1.status().ToString();
  EXPECT_EQ(pn1->meter_asset_no, "M-A1");
  ASSERT_TRUE(service_->AddMeter(clerk_a_, t1.id, {meters_a_[2], 3, 31, 9600, "dlt645_2007"}).ok());
  auto taken_pn = service_->AddMeter(clerk_a_, t1.id, {meters_a_[1], 1, {}, {}, {}});
  EXPECT_EQ(taken_pn.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(taken_pn.status().field(), "point_no");
  EXPECT_NE(taken_pn.status().message().find("M-A1"), std::string::npos);
  auto twice = service_->AddMeter(clerk_a_, t2.id, {meters_a_[0], 1, {}, {}, {}});
  EXPECT_EQ(twice.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(twice.status().field(), "meter_id");
  EXPECT_NE(twice.status().message().find("T-1"), std::string::npos);
  EXPECT_EQ(service_->AddMeter(clerk_a_, t2.id, {meters_a_[1], 0, {}, {}, {}}).status().field(),
            "point_no");
  EXPECT_EQ(service_->AddMeter(clerk_a_, t2.id, {meters_a_[1], 2041, {}, {}, {}}).status().field(),
            "point_no");
  EXPECT_EQ(service_->AddMeter(clerk_a_, t2.id, {meters_a_[1], 5, {}, 1000, {}}).status().field(),
            "baud_rate");
  EXPECT_EQ(service_->AddMeter(clerk_a_, t2.id, {meters_b_[0], 5, {}, {}, {}}).status().field(),
            "meter_id");
  auto pn2040 = service_->AddMeter(clerk_a_, t2.id, {meters_a_[1], 2040, {}, {}, {}});
  ASSERT_TRUE(pn2040.ok()) << pn2040.status().ToString();
  EXPECT_EQ(pn2040->port, 2);
  EXPECT_EQ(pn2040->baud_rate, 2400);

  auto got = service_->Get(clerk_a_, t1.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->meter_count, 2);
  ASSERT_TRUE(got->meters.has_value());
  ASSERT_EQ(got->meters->size(), 2u);
  EXPECT_EQ((*got->meters)[1].point_no, 3);
  EXPECT_EQ((*got->meters)[1].meter_comm_address, "000000000003");

  // The 360 view's lookup: the terminals reading given meters, with just those entries.
  auto reading = service_->TerminalsReadingMeters(clerk_a_, {meters_a_[2], meters_a_[1], 999});
  ASSERT_TRUE(reading.ok());
  ASSERT_EQ(reading->size(), 2u);
  EXPECT_EQ((*reading)[0].id, t1.id);
  ASSERT_EQ((*reading)[0].meters->size(), 1u);
  EXPECT_EQ((*reading)[0].meters->front().point_no, 3);
  EXPECT_EQ((*reading)[1].meters->front().point_no, 2040);
  auto b_user = u_->MakeActor("terminal_b", u_->county_b, {"editor_below"});
  ASSERT_TRUE(b_user.ok());
  EXPECT_TRUE(service_->TerminalsReadingMeters(*b_user, {meters_a_[2]})->empty());

  // Taking a meter off: a stale version is refused, then it may go behind another terminal.
  EXPECT_EQ(service_->RemoveMeter(clerk_a_, pn1->id, pn1->version + 1).code(),
            StatusCode::kAborted);
  EXPECT_EQ(service_->RemoveMeter(*b_user, pn1->id, std::nullopt).code(), StatusCode::kNotFound);
  ASSERT_TRUE(service_->RemoveMeter(clerk_a_, pn1->id, pn1->version).ok());
  EXPECT_EQ(service_->RemoveMeter(clerk_a_, pn1->id, std::nullopt).code(), StatusCode::kNotFound);
  EXPECT_TRUE(service_->AddMeter(clerk_a_, t2.id, {meters_a_[0], 1, {}, {}, {}}).ok());

  org::AuditQuery q;
  q.entity = "terminal_meter";
  q.entity_id = std::to_string(pn1->id);
  auto audit = org::ListAudit(u_->db(), sys_, q);
  ASSERT_EQ(audit->total, 2);
  EXPECT_EQ(audit->items[0].action, "delete");
  EXPECT_EQ(json::parse(audit->items[0].before_json)["point_no"], 1);
}

TEST_P(TerminalTest, ScopeAndFilters) {
  Terminal t1 = Make("T-0001", "public_transformer", 12);
  Make("T-0002", "special_transformer", 13);
  TerminalInput other = Input("T-0003", "substation", 12);
  other.area_code = "1509";
  other.substation_id = std::optional<int64_t>(sub_b_);
  auto b = service_->Create(sys_, other);
  ASSERT_TRUE(b.ok()) << b.status().ToString();

  int64_t total = 0;
  auto list = service_->List(clerk_a_, {}, &total);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(total, 2);
  EXPECT_EQ(service_->Get(clerk_a_, b->id).status().code(), StatusCode::kNotFound);
  TerminalInput edit;
  edit.model = "x";
  EXPECT_EQ(service_->Update(clerk_a_, b->id, b->version, edit).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(service_->AddMeter(clerk_a_, b->id, {meters_a_[0], 1, {}, {}, {}}).status().code(),
            StatusCode::kNotFound);

  auto own = u_->MakeActor("own_a", u_->county_a, {"editor_own"});
  ASSERT_TRUE(own.ok());
  list = service_->List(*own, {}, &total);
  EXPECT_EQ(total, 1);  // the public transformer terminal belongs to station A1
  EXPECT_EQ((*list)[0].asset_no, "T-0002");

  list = service_->List(sys_, {.q = "1501-00012"}, &total);
  ASSERT_EQ(total, 1);
  EXPECT_EQ((*list)[0].id, t1.id);
  list = service_->List(sys_, {.q = "1509"}, &total);  // area code
  EXPECT_EQ(total, 1);
  list = service_->List(sys_, {.q = "T-000"}, &total);  // asset number prefix
  EXPECT_EQ(total, 3);
  list = service_->List(sys_, {.kind = "substation"}, &total);
  EXPECT_EQ(total, 1);
  list = service_->List(sys_, {.department_id = u_->county_a}, &total);
  EXPECT_EQ(total, 2);
  list = service_->List(sys_, {.transformer_area_id = area_a_}, &total);
  EXPECT_EQ(total, 1);
  EXPECT_EQ(service_->List(sys_, {.kind = "fep"}, &total).status().field(), "kind");
}

// ---- Routes ----

class TerminalRoutesTest : public TerminalTest {
 protected:
  void SetUp() override {
    TerminalTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    router_.SetAuthenticator(
        [this](const http::Request&) -> Result<org::Actor> { return clerk_a_; });
    AddRoutes(router_, *service_);
  }
  json Call(std::string method, std::string target, std::string body, int want) {
    http::Request r;
    r.method = std::move(method);
    r.path = target.substr(0, target.find('?'));
    r.target = target;
    if (target.find('?') != std::string::npos) {
      http::ParseQueryString(target.substr(target.find('?') + 1), &r.query);
    }
    r.body = std::move(body);
    if (!r.body.empty()) r.headers.emplace_back("content-type", "application/json");
    http::Response res = router_.Handle(r);
    EXPECT_EQ(res.status, want) << r.method << " " << target << ": " << res.body;
    return json::parse(res.body);
  }
  http::Router router_;
};

TEST_P(TerminalRoutesTest, TerminalsOverHttp) {
  std::string area = std::to_string(area_a_);
  json t = Call("POST", "/api/v1/terminals",
                R"({"asset_no":"T-1","kind":"public_transformer","area_code":"1501",)"
                R"("address":12,"transformer_area_id":)" +
                    area + "}",
                201);
  EXPECT_EQ(t["address_text"], "1501-00012");
  EXPECT_FALSE(t.contains("meters"));
  json err = Call("POST", "/api/v1/terminals",
                  R"({"asset_no":"T-2","kind":"public_transformer","area_code":"1501",)"
                  R"("address":12,"transformer_area_id":)" +
                      area + "}",
                  409);
  EXPECT_EQ(err["error"]["field"], "address");
  err = Call("POST", "/api/v1/terminals",
             R"({"asset_no":"T-2","kind":"substation","area_code":"1501","address":13})", 400);
  EXPECT_EQ(err["error"]["field"], "substation_id");
  std::string id = std::to_string(t["id"].get<int64_t>());
  json pn = Call("POST", "/api/v1/terminals/" + id + "/meters",
                 R"({"meter_id":)" + std::to_string(meters_a_[0]) + R"(,"point_no":1})", 201);
  err = Call("POST", "/api/v1/terminals/" + id + "/meters",
             R"({"meter_id":)" + std::to_string(meters_a_[1]) + R"(,"point_no":2041})", 400);
  EXPECT_EQ(err["error"]["field"], "point_no");
  json got = Call("GET", "/api/v1/terminals/" + id, "", 200);
  ASSERT_EQ(got["meters"].size(), 1u);
  EXPECT_EQ(got["meters"][0]["meter_asset_no"], "M-A1");
  json list = Call("GET", "/api/v1/terminals?q=1501-00012", "", 200);
  EXPECT_EQ(list["total"], 1);
  EXPECT_EQ(list["items"][0]["meter_count"], 1);
  Call("PATCH", "/api/v1/terminals/" + id, R"({"version":1,"sim_no":"14812345678901"})", 200);
  Call("PATCH", "/api/v1/terminals/" + id, R"({"version":1,"sim_no":null})", 409);
  std::string pid = std::to_string(pn["id"].get<int64_t>());
  Call("DELETE", "/api/v1/terminal-meters/" + pid + "?version=2", "", 409);
  Call("DELETE", "/api/v1/terminal-meters/" + pid, "", 200);
  Call("DELETE", "/api/v1/terminal-meters/" + pid, "", 404);

  for (const auto& r : router_.routes()) {
    for (const auto& name : {r.request, r.response}) {
      if (!name.empty()) {
        EXPECT_TRUE(router_.schemas().count(name)) << r.pattern << " " << name;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, TerminalTest,
                         ::testing::ValuesIn(store::testing::AvailableBackendsForTest()),
                         [](const auto& p) { return p.param; });
INSTANTIATE_TEST_SUITE_P(Backends, TerminalRoutesTest,
                         ::testing::ValuesIn(store::testing::AvailableBackendsForTest()),
                         [](const auto& p) { return p.param; });

}  // namespace
}  // namespace gridmis::acquisition
