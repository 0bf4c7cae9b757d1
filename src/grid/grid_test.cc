#include "grid/grid.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "grid/routes.h"
#include "grid/testing.h"
#include "org/audit.h"

namespace gridmis::grid {
namespace {

using nlohmann::json;

class GridTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto u = testing::TestUtility::Create(GetParam(), clock_);
    if (!u.ok() && GetParam() == "postgres" && !store::testing::PostgresRequiredForTest()) {
      GTEST_SKIP() << u.status().ToString();
    }
    ASSERT_TRUE(u.ok()) << u.status().ToString();
    u_ = std::move(*u);
    grid_ = std::make_unique<GridService>(u_->db(), clock_);
    sys_ = u_->system();
    auto a = u_->MakeActor("editor_a", u_->county_a, {"editor_below"});
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    county_a_user_ = *a;
  }

  Substation MakeSubstation(const std::string& code, int64_t dept,
                            const org::Actor* actor = nullptr) {
    SubstationInput in;
    in.code = code;
    in.name = code + "变电站";
    in.voltage_v = 110'000;
    in.department_id = dept;
    auto s = grid_->CreateSubstation(actor ? *actor : sys_, in);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : Substation{};
  }
  Feeder MakeFeeder(const std::string& code, int64_t substation_id) {
    FeederInput in;
    in.code = code;
    in.name = code + "线";
    in.substation_id = substation_id;
    auto f = grid_->CreateFeeder(sys_, in);
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    return f.ok() ? *f : Feeder{};
  }
  TransformerArea MakeArea(const std::string& code, int64_t feeder_id,
                           std::optional<int64_t> dept = std::nullopt) {
    TransformerAreaInput in;
    in.code = code;
    in.name = code + "台区";
    in.feeder_id = feeder_id;
    in.capacity_kva = 400;
    in.department_id = dept;
    auto a = grid_->CreateTransformerArea(sys_, in);
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return a.ok() ? *a : TransformerArea{};
  }

  FakeClock clock_{1'800'000'000'000'000};
  std::unique_ptr<testing::TestUtility> u_;
  std::unique_ptr<GridService> grid_;
  org::Actor sys_;
  org::Actor county_a_user_;
};

TEST_P(GridTest, TopologyWithChildCounts) {
  Substation s = MakeSubstation("SUB-A1", u_->county_a);
  Feeder f1 = MakeFeeder("F-A101", s.id);
  MakeFeeder("F-A102", s.id);
  EXPECT_EQ(f1.department_id, u_->county_a);  // defaults to the substation's department
  EXPECT_EQ(f1.voltage_v, 10'000);
  EXPECT_EQ(f1.substation_name, "SUB-A1变电站");
  TransformerArea a = MakeArea("TA-0001", f1.id, u_->station_a);
  EXPECT_EQ(a.substation_id, s.id);
  EXPECT_EQ(a.ownership, "public");
  EXPECT_EQ(a.metering_point_count, 0);

  int64_t total = 0;
  auto subs = grid_->ListSubstations(sys_, {}, &total);
  ASSERT_TRUE(subs.ok()) << subs.status().ToString();
  ASSERT_EQ(total, 1);
  EXPECT_EQ((*subs)[0].feeder_count, 2);
  FeederQuery fq;
  fq.substation_id = s.id;
  auto feeders = grid_->ListFeeders(sys_, fq, &total);
  ASSERT_TRUE(feeders.ok());
  ASSERT_EQ(total, 2);
  EXPECT_EQ((*feeders)[0].code, "F-A101");
  EXPECT_EQ((*feeders)[0].transformer_area_count, 1);
  EXPECT_EQ((*feeders)[1].transformer_area_count, 0);
  TransformerAreaQuery aq;
  aq.substation_id = s.id;
  auto areas = grid_->ListTransformerAreas(sys_, aq, &total);
  ASSERT_TRUE(areas.ok());
  EXPECT_EQ(total, 1);
  aq.feeder_id = f1.id + 1;  // the other feeder: none
  areas = grid_->ListTransformerAreas(sys_, aq, &total);
  EXPECT_EQ(total, 0);
}

TEST_P(GridTest, CountyUsersSeeAndChangeOnlyTheirCounty) {
  Substation sa = MakeSubstation("SUB-A", u_->county_a, &county_a_user_);
  Substation sb = MakeSubstation("SUB-B", u_->county_b);
  Substation st = MakeSubstation("SUB-A1", u_->station_a);

  // Creating in another county is refused, naming the field.
  SubstationInput in;
  in.code = "SUB-X";
  in.name = "X";
  in.voltage_v = 35'000;
  in.department_id = u_->county_b;
  auto refused = grid_->CreateSubstation(county_a_user_, in);
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.status().field(), "department_id");

  // Another county's records do not exist for this user: read, change, list, and as a parent.
  EXPECT_EQ(grid_->GetSubstation(county_a_user_, sb.id).status().code(), StatusCode::kNotFound);
  SubstationInput rename;
  rename.name = "改名";
  EXPECT_EQ(grid_->UpdateSubstation(county_a_user_, sb.id, sb.version, rename).status().code(),
            StatusCode::kNotFound);
  FeederInput fin;
  fin.code = "F-B1";
  fin.name = "B1";
  fin.substation_id = sb.id;
  EXPECT_EQ(grid_->CreateFeeder(county_a_user_, fin).status().field(), "substation_id");
  // Moving their own substation into county B is refused too.
  SubstationInput move;
  move.department_id = u_->county_b;
  EXPECT_EQ(grid_->UpdateSubstation(county_a_user_, sa.id, sa.version, move).status().field(),
            "department_id");

  int64_t total = 0;
  auto list = grid_->ListSubstations(county_a_user_, {}, &total);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(total, 2);  // county A and its station
  for (const auto& s : *list) EXPECT_NE(s.id, sb.id);

  // Own-department scope: the county, not the station below it.
  auto own = u_->MakeActor("own_a", u_->county_a, {"editor_own"});
  ASSERT_TRUE(own.ok());
  list = grid_->ListSubstations(*own, {}, &total);
  ASSERT_EQ(total, 1);
  EXPECT_EQ((*list)[0].id, sa.id);
  EXPECT_EQ(grid_->GetSubstation(*own, st.id).status().code(), StatusCode::kNotFound);

  // Self scope: topology has no responsible user, so the user's own department.
  auto self = u_->MakeActor("self_a1", u_->station_a, {"editor_self"});
  ASSERT_TRUE(self.ok());
  list = grid_->ListSubstations(*self, {}, &total);
  ASSERT_EQ(total, 1);
  EXPECT_EQ((*list)[0].id, st.id);

  // Without grid.read nothing at all.
  auto clerk = u_->MakeActor("nobody", u_->county_a, {});
  ASSERT_TRUE(clerk.ok());
  EXPECT_EQ(grid_->ListSubstations(*clerk, {}, &total).status().code(),
            StatusCode::kPermissionDenied);
}

TEST_P(GridTest, DepartmentFilterIncludesDepartmentsBelow) {
  MakeSubstation("SUB-A", u_->county_a);
  MakeSubstation("SUB-A1", u_->station_a);
  MakeSubstation("SUB-B", u_->county_b);
  int64_t total = 0;
  SubstationQuery q;
  q.department_id = u_->county_a;
  ASSERT_TRUE(grid_->ListSubstations(sys_, q, &total).ok());
  EXPECT_EQ(total, 2);
  q.department_id = u_->station_a;
  ASSERT_TRUE(grid_->ListSubstations(sys_, q, &total).ok());
  EXPECT_EQ(total, 1);
  q.department_id = u_->city;
  ASSERT_TRUE(grid_->ListSubstations(sys_, q, &total).ok());
  EXPECT_EQ(total, 3);
  // Intersected with the scope: county A's user asking for the city sees only county A.
  ASSERT_TRUE(grid_->ListSubstations(county_a_user_, q, &total).ok());
  EXPECT_EQ(total, 2);
  q.department_id = 999'999;
  ASSERT_TRUE(grid_->ListSubstations(sys_, q, &total).ok());
  EXPECT_EQ(total, 0);
}

TEST_P(GridTest, TextStatusFiltersAndPages) {
  for (int i = 1; i <= 25; ++i) {
    char code[16];
    std::snprintf(code, sizeof code, "SUB-%03d", i);
    MakeSubstation(code, u_->county_a);
  }
  SubstationQuery q;
  q.q = "sub-01";  // case-insensitive code contains: SUB-010..SUB-019
  int64_t total = 0;
  auto page = grid_->ListSubstations(sys_, q, &total);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(total, 10);
  q.q = "变电站";  // name contains
  q.page = 2;
  q.page_size = 10;
  page = grid_->ListSubstations(sys_, q, &total);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(total, 25);
  ASSERT_EQ(page->size(), 10u);
  EXPECT_EQ((*page)[0].code, "SUB-011");
  q = {};
  q.q = "100%";  // wildcards are literal
  ASSERT_TRUE(grid_->ListSubstations(sys_, q, &total).ok());
  EXPECT_EQ(total, 0);

  auto one = grid_->ListSubstations(sys_, {.q = "SUB-007"}, &total);
  ASSERT_EQ(one->size(), 1u);
  SubstationInput retire;
  retire.status = "retired";
  ASSERT_TRUE(grid_->UpdateSubstation(sys_, (*one)[0].id, (*one)[0].version, retire).ok());
  ASSERT_TRUE(grid_->ListSubstations(sys_, {.status = "retired"}, &total).ok());
  EXPECT_EQ(total, 1);
}

TEST_P(GridTest, ValidationNamesTheField) {
  auto field_of = [&](SubstationInput in) {
    return grid_->CreateSubstation(sys_, in).status().field();
  };
  SubstationInput good;
  good.code = "SUB-1";
  good.name = "一号站";
  good.voltage_v = 35'000;
  good.department_id = u_->county_a;
  auto bad = good;
  bad.code = "SUB 1";
  EXPECT_EQ(field_of(bad), "code");
  bad = good;
  bad.code = std::string(33, 'A');
  EXPECT_EQ(field_of(bad), "code");
  bad = good;
  bad.name = std::string(101, 'n');
  EXPECT_EQ(field_of(bad), "name");
  bad = good;
  bad.voltage_v = 12'345;
  auto st = grid_->CreateSubstation(sys_, bad).status();
  EXPECT_EQ(st.field(), "voltage_v");
  EXPECT_NE(st.message().find("12345"), std::string::npos) << st.message();
  bad = good;
  bad.status = "broken";
  EXPECT_EQ(field_of(bad), "status");
  bad = good;
  bad.department_id.reset();
  EXPECT_EQ(field_of(bad), "department_id");
  bad = good;
  bad.department_id = 424242;
  EXPECT_EQ(field_of(bad), "department_id");
  ASSERT_TRUE(grid_->CreateSubstation(sys_, good).ok());
  auto dup = grid_->CreateSubstation(sys_, good).status();
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(dup.field(), "code");

  Substation s = MakeSubstation("SUB-2", u_->county_a);
  Feeder f = MakeFeeder("F-1", s.id);
  TransformerAreaInput ain;
  ain.code = "TA-1";
  ain.name = "台区一";
  ain.feeder_id = f.id;
  ain.capacity_kva = 0;
  EXPECT_EQ(grid_->CreateTransformerArea(sys_, ain).status().field(), "capacity_kva");
  ain.capacity_kva = 100'001;
  EXPECT_EQ(grid_->CreateTransformerArea(sys_, ain).status().field(), "capacity_kva");
  ain.capacity_kva = 630;
  ain.ownership = "shared";
  EXPECT_EQ(grid_->CreateTransformerArea(sys_, ain).status().field(), "ownership");
  ain.ownership = "private";
  ain.feeder_id = 999'999;
  EXPECT_EQ(grid_->CreateTransformerArea(sys_, ain).status().field(), "feeder_id");
  ain.feeder_id = f.id;
  EXPECT_TRUE(grid_->CreateTransformerArea(sys_, ain).ok());
}

TEST_P(GridTest, StaleVersionIsAbortedAndWritesAreAudited) {
  Substation s = MakeSubstation("SUB-A", u_->county_a, &county_a_user_);
  SubstationInput in;
  in.name = "新名称";
  auto updated = grid_->UpdateSubstation(county_a_user_, s.id, s.version, in);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(updated->version, s.version + 1);
  in.name = "又一个名称";
  auto stale = grid_->UpdateSubstation(county_a_user_, s.id, s.version, in);
  EXPECT_EQ(stale.status().code(), StatusCode::kAborted);
  EXPECT_NE(stale.status().message().find("was changed by someone else"), std::string::npos);
  EXPECT_EQ(grid_->GetSubstation(sys_, s.id)->name, "新名称");  // the stale edit changed nothing

  org::AuditQuery q;
  q.entity = "substation";
  q.entity_id = std::to_string(s.id);
  auto audit = org::ListAudit(u_->db(), sys_, q);
  ASSERT_TRUE(audit.ok()) << audit.status().ToString();
  ASSERT_EQ(audit->total, 2);
  const auto& upd = audit->items[0];
  EXPECT_EQ(upd.action, "update");
  EXPECT_EQ(upd.username, "editor_a");
  EXPECT_EQ(upd.department_id, u_->county_a);
  EXPECT_EQ(json::parse(upd.before_json)["name"], "SUB-A变电站");
  EXPECT_EQ(json::parse(upd.after_json)["name"], "新名称");
  EXPECT_EQ(audit->items[1].action, "create");
  EXPECT_TRUE(audit->items[1].before_json.empty());

  Feeder f = MakeFeeder("F-1", s.id);
  FeederInput fin;
  fin.status = "out_of_service";
  ASSERT_TRUE(grid_->UpdateFeeder(sys_, f.id, f.version, fin).ok());
  EXPECT_EQ(grid_->UpdateFeeder(sys_, f.id, f.version, fin).status().code(), StatusCode::kAborted);
  TransformerArea a = MakeArea("TA-1", f.id);
  TransformerAreaInput ain;
  ain.capacity_kva = 800;
  auto a2 = grid_->UpdateTransformerArea(sys_, a.id, a.version, ain);
  ASSERT_TRUE(a2.ok());
  EXPECT_EQ(a2->capacity_kva, 800);
  EXPECT_EQ(grid_->UpdateTransformerArea(sys_, a.id, a.version, ain).status().code(),
            StatusCode::kAborted);
  q.entity = "transformer_area";
  q.entity_id = std::to_string(a.id);
  audit = org::ListAudit(u_->db(), sys_, q);
  ASSERT_EQ(audit->total, 2);
  EXPECT_EQ(json::parse(audit->items[0].before_json)["capacity_kva"], 400);
  EXPECT_EQ(json::parse(audit->items[0].after_json)["capacity_kva"], 800);
}

// ---- Routes ----

class GridRoutesTest : public GridTest {
 protected:
  void SetUp() override {
    GridTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    router_.SetAuthenticator([this](const http::Request& r) -> Result<org::Actor> {
      if (r.Header("authorization") == "Bearer a") return county_a_user_;
      if (r.Header("authorization") == "Bearer sys") return sys_;
      return Unauthenticated("log in first");
    });
    AddRoutes(router_, *grid_);
  }
  http::Response Call(std::string method, std::string target, std::string body = "",
                      std::string who = "a") {
    http::Request r;
    r.method = std::move(method);
    r.target = target;
    auto qpos = target.find('?');
    r.path = target.substr(0, qpos);
    if (qpos != std::string::npos) http::ParseQueryString(target.substr(qpos + 1), &r.query);
    r.body = std::move(body);
    if (!r.body.empty()) r.headers.emplace_back("content-type", "application/json");
    r.headers.emplace_back("authorization", "Bearer " + who);
    return router_.Handle(r);
  }
  http::Router router_;
};

TEST_P(GridRoutesTest, CreateReadUpdateOverHttp) {
  std::string dept = std::to_string(u_->county_a);
  auto created =
      Call("POST", "/api/v1/substations",
           R"({"code":"SUB-9","name":"九号站","voltage_v":110000,"department_id":)" + dept + "}");
  ASSERT_EQ(created.status, 201) << created.body;
  json s = json::parse(created.body);
  EXPECT_EQ(s["feeder_count"], 0);
  std::string id = std::to_string(s["id"].get<int64_t>());

  auto unknown =
      Call("POST", "/api/v1/feeders",
           R"({"code":"F-9","name":"九线","substation_id":)" + id + R"(,"colour":"red"})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(json::parse(unknown.body)["error"]["field"], "colour");
  auto wrong_type = Call("POST", "/api/v1/feeders",
                         R"({"code":"F-9","name":"九线","substation_id":")" + id + R"("})");
  EXPECT_EQ(json::parse(wrong_type.body)["error"]["field"], "substation_id");
  auto feeder =
      Call("POST", "/api/v1/feeders", R"({"code":"F-9","name":"九线","substation_id":)" + id + "}");
  ASSERT_EQ(feeder.status, 201) << feeder.body;

  auto list = Call("GET", "/api/v1/substations?q=SUB&page_size=5");
  ASSERT_EQ(list.status, 200) << list.body;
  json page = json::parse(list.body);
  EXPECT_EQ(page["total"], 1);
  EXPECT_EQ(page["page_size"], 5);
  EXPECT_EQ(page["items"][0]["feeder_count"], 1);
  EXPECT_EQ(Call("GET", "/api/v1/substations?status=bogus").status, 400);

  auto patched = Call("PATCH", "/api/v1/substations/" + id, R"({"version":1,"address":"集宁区"})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(json::parse(patched.body)["version"], 2);
  auto stale = Call("PATCH", "/api/v1/substations/" + id, R"({"version":1,"address":"x"})");
  EXPECT_EQ(stale.status, 409);
  auto no_version = Call("PATCH", "/api/v1/substations/" + id, R"({"address":"x"})");
  EXPECT_EQ(json::parse(no_version.body)["error"]["field"], "version");

  // County B's substation is 404 for county A's user, found for the system.
  Substation b = MakeSubstation("SUB-B", u_->county_b);
  EXPECT_EQ(Call("GET", "/api/v1/substations/" + std::to_string(b.id)).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/substations/" + std::to_string(b.id), "", "sys").status, 200);
}

TEST_P(GridRoutesTest, EveryReferencedSchemaIsRegistered) {
  for (const auto& r : router_.routes()) {
    for (const auto& name : {r.request, r.response}) {
      if (!name.empty()) {
        EXPECT_TRUE(router_.schemas().count(name)) << r.pattern << " " << name;
      }
    }
  }
  EXPECT_EQ(router_.routes().size(), 12u);
}

INSTANTIATE_TEST_SUITE_P(Backends, GridTest,
                         ::testing::ValuesIn(store::testing::AvailableBackendsForTest()),
                         [](const auto& p) { return p.param; });
INSTANTIATE_TEST_SUITE_P(Backends, GridRoutesTest,
                         ::testing::ValuesIn(store::testing::AvailableBackendsForTest()),
                         [](const auto& p) { return p.param; });

}  // namespace
}  // namespace gridmis::grid
