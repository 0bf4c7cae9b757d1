#include "customer/customer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "customer/routes.h"
#include "grid/grid.h"
#include "grid/testing.h"
#include "org/audit.h"

namespace gridmis::customer {
namespace {

using nlohmann::json;

TEST(IdentityTest, ResidentIdCheckDigitAndBirthDate) {
  EXPECT_EQ(ResidentIdCheckChar("11010519491231002"), 'X');
  EXPECT_TRUE(IsValidResidentId("11010519491231002X"));
  EXPECT_TRUE(IsValidResidentId("150902198001010018"));
  EXPECT_TRUE(IsValidResidentId("150902200002290023"));   // 2000-02-29 exists
  EXPECT_FALSE(IsValidResidentId("150902198001010019"));  // wrong check digit
  EXPECT_FALSE(IsValidResidentId("150902199902290031"));  // right check digit, no 1999-02-29
  EXPECT_FALSE(IsValidResidentId("11010519491231002"));   // 17 characters
  EXPECT_FALSE(IsValidResidentId("1101051949123100AX"));
  EXPECT_EQ(ResidentIdCheckChar("1101051949123100A"), '\0');
}

TEST(IdentityTest, CreditCodeCheckCharacter) {
  EXPECT_TRUE(IsValidCreditCode("91350100M000100Y43"));
  EXPECT_EQ(CreditCodeCheckChar("91350100M000100Y4"), '3');
  EXPECT_FALSE(IsValidCreditCode("91350100M000100Y44"));
  EXPECT_FALSE(IsValidCreditCode("91350100I000100Y43"));  // I is not in the alphabet
  EXPECT_FALSE(IsValidCreditCode("91350100M000100Y4"));
}

TEST(IdentityTest, PhonesAndMasks) {
  EXPECT_TRUE(IsValidMobile("15012341234"));
  EXPECT_FALSE(IsValidMobile("25012341234"));
  EXPECT_FALSE(IsValidMobile("1501234123"));
  EXPECT_TRUE(IsValidPhone("0474-8123456"));
  EXPECT_TRUE(IsValidPhone("15012341234"));
  EXPECT_FALSE(IsValidPhone("0474--812345"));
  EXPECT_FALSE(IsValidPhone("call me"));
  EXPECT_TRUE(IsValidEmail("wang.li@example.cn"));
  EXPECT_FALSE(IsValidEmail("wang@li"));
  EXPECT_FALSE(IsValidEmail("a@b@c.cn"));
  EXPECT_EQ(MaskPhone("15012341234"), "150****1234");
  EXPECT_EQ(MaskPhone("0474-8123456"), "047*****3456");
  EXPECT_EQ(MaskIdentity("11010519491231002X"), "110105********002X");
  EXPECT_EQ(MaskIdentity("E1234567"), "E******7");  // short documents keep less
  EXPECT_EQ(MaskPhone("1234"), "****");
}

class CustomerTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto u = grid::testing::TestUtility::Create(GetParam(), clock_);
    if (!u.ok() && GetParam() == "postgres" && !store::testing::PostgresRequiredForTest()) {
      GTEST_SKIP() << u.status().ToString();
    }
    ASSERT_TRUE(u.ok()) << u.status().ToString();
    u_ = std::move(*u);
    sys_ = u_->system();
    service_ = std::make_unique<CustomerService>(u_->db(), clock_);
    grid::GridService grid(u_->db(), clock_);
    for (auto [dept, suffix] : {std::pair{u_->county_a, "A"}, std::pair{u_->county_b, "B"}}) {
      grid::SubstationInput s;
      s.code = std::string("SUB-") + suffix;
      s.name = s.code;
      s.voltage_v = 35'000;
      s.department_id = dept;
      auto sub = grid.CreateSubstation(sys_, s);
      ASSERT_TRUE(sub.ok()) << sub.status().ToString();
      grid::FeederInput f;
      f.code = std::string("F-") + suffix;
      f.name = *f.code;
      f.substation_id = sub->id;
      auto feeder = grid.CreateFeeder(sys_, f);
      ASSERT_TRUE(feeder.ok());
      grid::TransformerAreaInput a;
      a.code = std::string("TA-") + suffix;
      a.name = *a.code;
      a.feeder_id = feeder->id;
      a.capacity_kva = 400;
      auto area = grid.CreateTransformerArea(sys_, a);
      ASSERT_TRUE(area.ok());
      (dept == u_->county_a ? area_a_ : area_b_) = area->id;
    }
    auto a = u_->MakeActor("clerk_a", u_->county_a, {"editor_below"});
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    clerk_a_ = *a;
  }

  CustomerInput Input(const std::string& no, const std::string& name, int64_t dept) {
    CustomerInput in;
    in.customer_no = no;
    in.name = name;
    in.category = "residential";
    in.address = "集宁区新华街道幸福路12号";
    in.department_id = dept;
    return in;
  }
  Customer Make(const std::string& no, const std::string& name, int64_t dept,
                const org::Actor* actor = nullptr) {
    auto c = service_->Create(actor ? *actor : sys_, Input(no, name, dept));
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *c : Customer{};
  }
  std::vector<std::string> Search(const CustomerQuery& q, const org::Actor* actor = nullptr) {
    auto page = service_->Search(actor ? *actor : sys_, q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    std::vector<std::string> nos;
    if (page.ok()) {
      for (const auto& c : page->items) nos.push_back(c.customer_no);
    }
    return nos;
  }
  int64_t Total(const CustomerQuery& q) {
    auto page = service_->Search(sys_, q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? page->total : -1;
  }

  FakeClock clock_{1'800'000'000'000'000};
  std::unique_ptr<grid::testing::TestUtility> u_;
  std::unique_ptr<CustomerService> service_;
  org::Actor sys_;
  org::Actor clerk_a_;
  int64_t area_a_ = 0, area_b_ = 0;
};

TEST_P(CustomerTest, CreateGetAndUpdate) {
  CustomerInput in = Input("1501000001", "王建国", u_->county_a);
  in.id_doc_type = std::optional<std::string>("resident_id");
  in.id_doc_no = std::optional<std::string>("11010519491231002x");  // normalised to X
  in.mobile = std::optional<std::string>("13947401234");
  in.phone = std::optional<std::string>("0474-8123456");
  in.email = std::optional<std::string>("wjg@example.cn");
  in.transformer_area_id = std::optional<int64_t>(area_a_);
  in.opened_on = std::optional<std::string>("2019-03-01");
  auto c = service_->Create(clerk_a_, in);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->id_doc_no, "11010519491231002X");
  EXPECT_EQ(c->status, "active");
  EXPECT_EQ(c->version, 1);
  auto got = service_->Get(clerk_a_, c->id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->mobile, "13947401234");  // the single record is unmasked
  EXPECT_EQ(got->transformer_area_id, area_a_);

  CustomerInput change;
  change.name = "王建国（商铺）";
  change.category = "commercial";
  change.mobile = std::optional<std::string>();       // clear
  change.id_doc_type = std::optional<std::string>();  // clears the document (type and number)
  auto updated = service_->Update(clerk_a_, c->id, c->version, change);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(updated->name, "王建国（商铺）");
  EXPECT_EQ(updated->category, "commercial");
  EXPECT_FALSE(updated->mobile.has_value());
  EXPECT_FALSE(updated->id_doc_no.has_value());
  EXPECT_EQ(updated->phone, "0474-8123456");  // untouched
  EXPECT_EQ(updated->version, 2);

  CustomerInput renumber;
  renumber.customer_no = "1501000999";
  EXPECT_EQ(service_->Update(clerk_a_, c->id, 2, renumber).status().field(), "customer_no");
  auto dup = service_->Create(sys_, Input("1501000001", "另一户", u_->county_b));
  EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(dup.status().field(), "customer_no");
}

TEST_P(CustomerTest, ValidationNamesTheField) {
  auto field = [&](std::function<void(CustomerInput&)> edit) {
    CustomerInput in = Input("1501000001", "测试户", u_->county_a);
    edit(in);
    auto r = service_->Create(clerk_a_, in);
    EXPECT_FALSE(r.ok());
    return r.status().field();
  };
  EXPECT_EQ(field([](auto& in) { in.customer_no = "123456789"; }), "customer_no");
  EXPECT_EQ(field([](auto& in) { in.customer_no = "15010000A1"; }), "customer_no");
  EXPECT_EQ(field([](auto& in) { in.customer_no.reset(); }), "customer_no");
  EXPECT_EQ(field([](auto& in) { in.name = std::string(101, 'x'); }), "name");
  EXPECT_EQ(field([](auto& in) { in.category = "industrial"; }), "category");
  EXPECT_EQ(field([](auto& in) { in.address = ""; }), "address");
  EXPECT_EQ(field([](auto& in) {
              in.id_doc_type = std::optional<std::string>("resident_id");
              in.id_doc_no = std::optional<std::string>("150902198001010019");
            }),
            "id_doc_no");
  EXPECT_EQ(field([](auto& in) {
              in.id_doc_type = std::optional<std::string>("unified_credit_code");
              in.id_doc_no = std::optional<std::string>("91350100M000100Y44");
            }),
            "id_doc_no");
  EXPECT_EQ(field([](auto& in) { in.id_doc_type = std::optional<std::string>("passport"); }),
            "id_doc_no");
  EXPECT_EQ(field([](auto& in) { in.mobile = std::optional<std::string>("2394740123"); }),
            "mobile");
  EXPECT_EQ(field([](auto& in) { in.phone = std::optional<std::string>("ring me"); }), "phone");
  EXPECT_EQ(field([](auto& in) { in.email = std::optional<std::string>("nobody"); }), "email");
  EXPECT_EQ(field([](auto& in) { in.opened_on = std::optional<std::string>("2019-02-30"); }),
            "opened_on");
  EXPECT_EQ(field([](auto& in) {
              in.opened_on = std::optional<std::string>("2020-01-01");
              in.closed_on = std::optional<std::string>("2019-12-31");
            }),
            "closed_on");
  EXPECT_EQ(field([](auto& in) { in.department_id = 987'654; }), "department_id");
  EXPECT_EQ(field([&](auto& in) { in.department_id = u_->county_b; }), "department_id");
  EXPECT_EQ(field([&](auto& in) { in.transformer_area_id = std::optional<int64_t>(area_b_); }),
            "transformer_area_id");
  EXPECT_EQ(field([](auto& in) { in.account_manager_id = std::optional<int64_t>(987'654); }),
            "account_manager_id");
  // Nothing was created by any of those.
  EXPECT_EQ(Total({}), 0);
  // A valid credit code and passport pass.
  CustomerInput ok = Input("1501000002", "某某公司", u_->county_a);
  ok.category = "large_industry";
  ok.id_doc_type = std::optional<std::string>("unified_credit_code");
  ok.id_doc_no = std::optional<std::string>("91350100m000100y43");
  auto created = service_->Create(clerk_a_, ok);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->id_doc_no, "91350100M000100Y43");
}

TEST_P(CustomerTest, DataScopeHidesOtherCountiesAndUnmanagedCustomers) {
  Customer a = Make("1501000001", "甲县户", u_->county_a);
  Customer st = Make("1501000002", "甲一所户", u_->station_a);
  Customer b = Make("1502000001", "乙县户", u_->county_b);

  EXPECT_EQ(service_->Get(clerk_a_, b.id).status().code(), StatusCode::kNotFound);
  CustomerInput rename;
  rename.name = "改名";
  EXPECT_EQ(service_->Update(clerk_a_, b.id, b.version, rename).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(Search({}, &clerk_a_), (std::vector<std::string>{"1501000001", "1501000002"}));
  EXPECT_TRUE(Search({.q = "1502"}, &clerk_a_).empty());  // exists, but not for this user
  CustomerInput move;
  move.department_id = u_->county_b;
  EXPECT_EQ(service_->Update(clerk_a_, a.id, a.version, move).status().field(), "department_id");
  EXPECT_EQ(service_->AddContact(clerk_a_, b.id, {.name = "x"}).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(service_->ListAccounts(clerk_a_, b.id).status().code(), StatusCode::kNotFound);

  auto own = u_->MakeActor("own_a", u_->county_a, {"editor_own"});
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(Search({}, &*own), (std::vector<std::string>{"1501000001"}));
  EXPECT_EQ(service_->Get(*own, st.id).status().code(), StatusCode::kNotFound);

  // "self": only the customers they manage.
  auto self = u_->MakeActor("manager_a1", u_->station_a, {"editor_self"});
  ASSERT_TRUE(self.ok());
  EXPECT_TRUE(Search({}, &*self).empty());
  EXPECT_EQ(service_->Get(*self, st.id).status().code(), StatusCode::kNotFound);
  CustomerInput assign;
  assign.account_manager_id = std::optional<int64_t>(self->user_id);
  auto managed = service_->Update(sys_, st.id, st.version, assign);
  ASSERT_TRUE(managed.ok()) << managed.status().ToString();
  EXPECT_EQ(Search({}, &*self), (std::vector<std::string>{"1501000002"}));
  EXPECT_TRUE(service_->Get(*self, st.id).ok());
  // They create customers they manage, in their own department...
  CustomerInput mine = Input("1501000003", "新户", u_->station_a);
  auto unmanaged = service_->Create(*self, mine);
  EXPECT_EQ(unmanaged.status().field(), "account_manager_id");
  mine.account_manager_id = std::optional<int64_t>(self->user_id);
  EXPECT_TRUE(service_->Create(*self, mine).ok());
  // ...and cannot hand a customer to someone else (they would lose it).
  CustomerInput give;
  give.account_manager_id = std::optional<int64_t>(clerk_a_.user_id);
  EXPECT_EQ(service_->Update(*self, st.id, managed->version, give).status().field(),
            "account_manager_id");
  EXPECT_EQ(Search({.account_manager_id = self->user_id}),
            (std::vector<std::string>{"1501000002", "1501000003"}));
}

TEST_P(CustomerTest, StaleVersionAndAudit) {
  Customer c = Make("1501000001", "李四", u_->county_a, &clerk_a_);
  CustomerInput in;
  in.remark = "改电价";
  auto u1 = service_->Update(clerk_a_, c.id, c.version, in);
  ASSERT_TRUE(u1.ok());
  in.remark = "过户";
  auto stale = service_->Update(clerk_a_, c.id, c.version, in);
  EXPECT_EQ(stale.status().code(), StatusCode::kAborted);
  EXPECT_EQ(service_->Get(sys_, c.id)->remark, "改电价");

  org::AuditQuery q;
  q.entity = "customer";
  q.entity_id = std::to_string(c.id);
  auto audit = org::ListAudit(u_->db(), sys_, q);
  ASSERT_TRUE(audit.ok());
  ASSERT_EQ(audit->total, 2);
  EXPECT_EQ(audit->items[0].action, "update");
  EXPECT_EQ(audit->items[0].username, "clerk_a");
  EXPECT_EQ(json::parse(audit->items[0].before_json)["remark"], "");
  EXPECT_EQ(json::parse(audit->items[0].after_json)["remark"], "改电价");
  EXPECT_EQ(json::parse(audit->items[1].after_json)["customer_no"], "1501000001");
  EXPECT_EQ(*org::VerifyAuditChain(u_->db()), 0);
}

TEST_P(CustomerTest, SearchStrategies) {
  struct Row {
    const char* no;
    const char* name;
    const char* address;
    const char* mobile;
    const char* phone;
  };
  const Row rows[] = {
      {"1501000001", "张三", "集宁区新华街道幸福路12号", "13900000001", nullptr},
      {"1501000002", "张三丰", "集宁区桥东幸福路8号", "13900000002", nullptr},
      {"1501000003", "李张氏", "丰镇市南城区", "15019998888", nullptr},
      {"1501000004", "ABC电器商行", "集宁区恩和路", nullptr, "0474-8123456"},
      {"1502000001", "王五", "卓资县新华街", "13900000005", nullptr},
      {"9990000001", "赵六", "化德县长顺镇", nullptr, nullptr},
      {"9999999999", "钱七", "商都县七台镇", nullptr, nullptr},
  };
  for (const auto& r : rows) {
    CustomerInput in = Input(r.no, r.name, u_->county_a);
    in.address = r.address;
    if (r.mobile) in.mobile = std::optional<std::string>(r.mobile);
    if (r.phone) in.phone = std::optional<std::string>(r.phone);
    auto c = service_->Create(sys_, in);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
  }
  using V = std::vector<std::string>;
  // Digits: customer number prefix, and from 4 digits mobile and phone prefixes too.
  EXPECT_EQ(Search({.q = "1501"}), (V{"1501000001", "1501000002", "1501000003", "1501000004"}));
  EXPECT_EQ(Search({.q = "150100000"}),
            (V{"1501000001", "1501000002", "1501000003", "1501000004"}));
  EXPECT_EQ(Search({.q = "1502"}), (V{"1502000001"}));
  EXPECT_EQ(Search({.q = "15019998"}), (V{"1501000003"}));  // by mobile
  EXPECT_EQ(Search({.q = "13900000005"}), (V{"1502000001"}));
  EXPECT_EQ(Search({.q = "0474"}), (V{"1501000004"}));  // by phone
  // 1-3 digits: customer numbers only (mobile 15019998888 is not why 1501000003 matches).
  EXPECT_EQ(Search({.q = "150"}),
            (V{"1501000001", "1501000002", "1501000003", "1501000004", "1502000001"}));
  EXPECT_TRUE(Search({.q = "139"}).empty());
  EXPECT_EQ(Search({.q = "99"}), (V{"9990000001", "9999999999"}));  // no upper bound
  EXPECT_EQ(Search({.q = "9999999999"}), (V{"9999999999"}));
  EXPECT_TRUE(Search({.q = "1503"}).empty());
  // Three or more characters: name or address contains (trigram / ILIKE).
  EXPECT_EQ(Search({.q = "幸福路"}), (V{"1501000001", "1501000002"}));
  EXPECT_EQ(Search({.q = "新华街"}), (V{"1501000001", "1502000001"}));
  EXPECT_EQ(Search({.q = "abc电器"}), (V{"1501000004"}));  // case-insensitive
  EXPECT_EQ(Search({.q = "三丰"}), V{});                   // 2 characters: name prefix only
  EXPECT_EQ(Search({.q = "张三丰"}), (V{"1501000002"}));
  EXPECT_TRUE(Search({.q = "幸福\"路"}).empty());  // quotes are literal, not FTS syntax
  EXPECT_TRUE(Search({.q = "%%%"}).empty());
  // One or two characters: name prefix.
  EXPECT_EQ(Search({.q = "张"}), (V{"1501000001", "1501000002"}));
  EXPECT_EQ(Search({.q = "张三"}), (V{"1501000001", "1501000002"}));
  EXPECT_EQ(Search({.q = "AB"}), (V{"1501000004"}));
  // Combined with filters and sorting.
  EXPECT_EQ(Search({.q = "张", .sort = "-created_at"}), (V{"1501000002", "1501000001"}));
  EXPECT_EQ(Search({.q = "1501", .sort = "name"}).front(), "1501000004");  // "ABC..." first
  EXPECT_TRUE(Search({.q = "张", .category = "commercial"}).empty());
  EXPECT_EQ(service_->Search(sys_, {.sort = "created_at"}).status().field(), "sort");
  EXPECT_EQ(service_->Search(sys_, {.q = std::string(101, '1')}).status().field(), "q");

  // Lists mask identity and phone numbers; the single record does not.
  auto page = service_->Search(sys_, {.q = "15019998888"});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].mobile, "150****8888");
  EXPECT_EQ(service_->Get(sys_, page->items[0].id)->mobile, "15019998888");
  EXPECT_FALSE(page->total_capped);
  EXPECT_EQ(page->total, 1);
}

TEST_P(CustomerTest, FiltersAndCappedTotal) {
  // 12,000 customers written in bulk (the service path is tested above): every 12th in county B,
  // the others in station A1 (below county A). SQLite pages through them by different indexes
  // depending on how many rows match (see CustomerService::Search); PostgreSQL plans by itself.
  // Both must give the same rows.
  ASSERT_TRUE(
      u_->db()
          .Write([&](store::Connection& c) -> Status {
            ASSIGN_OR_RETURN(
                auto stmt,
                c.Prepare("INSERT INTO customers (customer_no, name, category, address, "
                          "department_id, transformer_area_id, created_at_us, updated_at_us) "
                          "VALUES ($1, $2, $3, $4, $5, $6, $7, $7)"));
            for (int i = 0; i < 12'000; ++i) {
              char no[16];
              std::snprintf(no, sizeof no, "16%08d", i);
              bool b = i % 12 == 0;
              RETURN_IF_ERROR(
                  stmt->Run({std::string(no), "户" + std::to_string(i),
                             i % 2 ? "commercial" : "residential",
                             "幸福路" + std::to_string(i) + "号", b ? u_->county_b : u_->station_a,
                             b ? store::Value(area_b_) : store::Value(area_a_),
                             int64_t{1'700'000'000'000'000} + i})
                      .status());
            }
            return Status::Ok();
          })
          .ok());
  auto first_no = [&](const org::Actor& who, const CustomerQuery& q, bool capped) {
    auto p = service_->Search(who, q);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_EQ(p.ok() && p->total_capped, capped) << who.username << " q=" << q.q;
    return p.ok() && !p->items.empty() ? p->items.front().customer_no : "";
  };
  auto all = service_->Search(sys_, {});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->total, kCountCap);
  EXPECT_TRUE(all->total_capped);
  ASSERT_EQ(all->items.size(), 20u);
  EXPECT_EQ(all->items.front().customer_no, "1600000000");
  EXPECT_EQ(first_no(sys_, {.sort = "-created_at", .page = 2, .page_size = 5}, true), "1600011994");

  // Few members in the department filter: read through the department index.
  auto county_b = service_->Search(sys_, {.department_id = u_->county_b});
  ASSERT_TRUE(county_b.ok());
  EXPECT_EQ(county_b->total, 1000);
  EXPECT_FALSE(county_b->total_capped);
  EXPECT_EQ(county_b->items[1].customer_no, "1600000012");
  EXPECT_EQ(Total({.department_id = u_->county_a, .transformer_area_id = area_b_}), 0);
  EXPECT_EQ(Total({.q = "1600001", .category = "commercial"}), 500);

  // Broad text (12,000 matches): customers_fts lists them and they are sorted; one or two
  // characters: the sort index is walked, testing each row.
  EXPECT_EQ(first_no(sys_, {.q = "幸福路"}, true), "1600000000");
  EXPECT_EQ(first_no(sys_, {.q = "幸福路", .sort = "-created_at"}, true), "1600011999");
  EXPECT_EQ(first_no(sys_, {.q = "户", .sort = "name", .page = 2, .page_size = 3}, true),
            "1600000100");
  EXPECT_EQ(first_no(sys_, {.q = "16000", .page = 3}, true), "1600000040");
  EXPECT_EQ(first_no(sys_, {.q = "1", .status = "active", .page = 2}, true), "1600000020");
  // A category of fewer than the cap: its index.
  EXPECT_EQ(first_no(sys_, {.q = "幸福路", .category = "commercial", .page = 3}, false),
            "1600000081");
  // Few text matches (3,111 addresses contain "福路1"): the text indexes, then sorted.
  EXPECT_EQ(first_no(sys_, {.q = "福路1", .page = 2, .page_size = 10}, false), "1600000019");
  EXPECT_EQ(first_no(sys_, {.q = "户1", .sort = "name"}, false), "1600000001");

  // Many members in the department restriction (county A's clerk, or a filter): department by
  // department in sort order, merged.
  EXPECT_EQ(first_no(sys_, {.department_id = u_->station_a}, true), "1600000001");
  EXPECT_EQ(first_no(clerk_a_, {}, true), "1600000001");
  EXPECT_EQ(first_no(clerk_a_, {.q = "幸福路"}, true), "1600000001");
  EXPECT_EQ(first_no(clerk_a_, {.sort = "-created_at"}, true), "1600011999");
  EXPECT_EQ(first_no(clerk_a_, {.q = "16000", .page = 2, .page_size = 5}, true), "1600000006");
  EXPECT_EQ(first_no(clerk_a_, {.q = "户1", .sort = "name"}, false), "1600000001");
  auto b_user = u_->MakeActor("clerk_b", u_->county_b, {"editor_below"});
  ASSERT_TRUE(b_user.ok());
  EXPECT_EQ(first_no(*b_user, {.q = "幸福路", .page = 2, .page_size = 10}, false), "1600000120");
  EXPECT_EQ(first_no(*b_user, {.q = "16000001"}, false), "1600000108");  // 100..199

  // A city-wide user's scope leaves out only the company itself, which has no customers: no
  // restriction at all, and the same rows as the system's.
  auto city = u_->MakeActor("clerk_city", u_->city, {"editor_below"});
  ASSERT_TRUE(city.ok());
  EXPECT_EQ(first_no(*city, {}, true), "1600000000");
  EXPECT_EQ(first_no(*city, {.q = "幸福路", .sort = "-created_at"}, true), "1600011999");
}

TEST_P(CustomerTest, BroadTextSearchMatchesBruteForce) {
  // 70,000 customers, more than Search's thresholds on SQLite (kCountCap = 10,000 for a plain
  // sort, 50,000 matches sorted from customers_fts, walks of 16,384 entries of the sort index:
  // see customer.cc), laid out so that each text takes another plan, and the rows of each page
  // compared with a brute-force search of the same rows in memory. i = 0..69,999:
  //   customer_no 16000i (sort order: i); created in two microseconds, 35,000 customers in each
  //   (ties, broken by id), in another order than i; every 10th customer
  //   in county B, every 10th + 1 in county A, the others in its station A1; odd ones
  //   commercial;
  //   name: "户" and 6 digits (a permutation of i) for i < 17,000, "丰乙" and 6 digits for
  //   40,000 <= i < 55,000, "丰" and 6 digits for the others;
  //   address: 乌兰察布市, 长顺镇 from i = 17,000 (53,000 of them, none among the first 16,384
  //   customer numbers), 七台镇 for 20,000 <= i < 45,000 (25,000), 黑土台 in county B from
  //   i = 30,000 (4,000), then 幸福路<i>号 (all of them).
  constexpr int kN = 70'000;
  struct Gen {
    std::string no, name, category, address;
    int64_t department_id = 0, created_at_us = 0, id = 0;
  };
  std::vector<Gen> rows(kN);
  auto digits6 = [](int64_t v) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%06d", static_cast<int>(v));
    return std::string(buf);
  };
  for (int i = 0; i < kN; ++i) {
    Gen& g = rows[i];
    g.no = std::to_string(int64_t{1'600'000'000} + i);
    g.created_at_us = int64_t{1'700'000'000'000'000} + (int64_t{i} * 7919) % kN / 35'000;
    g.department_id = i % 10 == 0 ? u_->county_b : i % 10 == 1 ? u_->county_a : u_->station_a;
    g.category = i % 2 ? "commercial" : "residential";
    std::string n = digits6((int64_t{i} * 4099 + 7) % kN);
    g.name = i < 17'000 ? "户" + n : (i >= 40'000 && i < 55'000) ? "丰乙" + n : "丰" + n;
    g.address = "乌兰察布市";
    if (i >= 17'000) g.address += "长顺镇";
    if (i >= 20'000 && i < 45'000) g.address += "七台镇";
    if (i % 10 == 0 && i >= 30'000) g.address += "黑土台";
    g.address += "幸福路" + std::to_string(i) + "号";
  }
  ASSERT_TRUE(u_->db()
                  .Write([&](store::Connection& c) -> Status {
                    constexpr int kBatch = 1'000;
                    for (int from = 0; from < kN; from += kBatch) {
                      std::string sql =
                          "INSERT INTO customers (customer_no, name, category, address, "
                          "department_id, created_at_us, updated_at_us) VALUES ";
                      store::Params params;
                      for (int i = from; i < from + kBatch; ++i) {
                        const Gen& g = rows[i];
                        int p = static_cast<int>(params.size());
                        if (i > from) sql += ", ";
                        sql += "(";
                        for (int k = 1; k <= 7; ++k) {
                          sql += (k > 1 ? ", $" : "$") + std::to_string(p + k);
                        }
                        sql += ")";
                        for (store::Value v :
                             {store::Value(g.no), store::Value(g.name), store::Value(g.category),
                              store::Value(g.address), store::Value(g.department_id),
                              store::Value(g.created_at_us), store::Value(g.created_at_us)}) {
                          params.push_back(std::move(v));
                        }
                      }
                      RETURN_IF_ERROR(c.Exec(sql, params).status());
                    }
                    return Status::Ok();
                  })
                  .ok());
  ASSERT_TRUE(u_->db()
                  .Read([&](store::Connection& c) {
                    return c.Query("SELECT id, customer_no FROM customers", {},
                                   [&](const store::Row& r) {
                                     rows[std::stoll(r.Text(1)) - 1'600'000'000].id = r.Int(0);
                                   });
                  })
                  .ok());

  auto clerk_b = u_->MakeActor("clerk_b", u_->county_b, {"editor_below"});
  ASSERT_TRUE(clerk_b.ok());
  auto city = u_->MakeActor("clerk_city", u_->city, {"editor_below"});
  ASSERT_TRUE(city.ok());
  struct Who {
    const org::Actor* actor;
    std::vector<int64_t> departments;  // empty: every one
  };
  const Who everyone[] = {{&sys_, {}},
                          {&*city, {}},
                          {&clerk_a_, {u_->county_a, u_->station_a}},
                          {&*clerk_b, {u_->county_b}}};

  // The rows a query should return, in order, and how many match in all.
  auto brute_force = [&](const Who& who, const CustomerQuery& q) {
    std::vector<int> match;
    bool prefix = std::count_if(q.q.begin(), q.q.end(), [](char ch) {
                    return (static_cast<unsigned char>(ch) & 0xC0) != 0x80;  // code points
                  }) < 3;
    for (int i = 0; i < kN; ++i) {
      const Gen& g = rows[i];
      bool text = prefix ? g.name.rfind(q.q, 0) == 0
                         : g.name.find(q.q) != std::string::npos ||
                               g.address.find(q.q) != std::string::npos;
      bool scope = who.departments.empty() ||
                   std::find(who.departments.begin(), who.departments.end(), g.department_id) !=
                       who.departments.end();
      if (text && scope && (q.category.empty() || g.category == q.category)) match.push_back(i);
    }
    // Names are unique; creation times tie, broken by id (customer numbers sort as i does).
    std::sort(match.begin(), match.end(), [&](int a, int b) {
      if (q.sort == "name") return rows[a].name < rows[b].name;
      if (q.sort == "-created_at") {
        return std::pair{rows[a].created_at_us, rows[a].id} >
               std::pair{rows[b].created_at_us, rows[b].id};
      }
      return a < b;
    });
    std::vector<std::string> page;
    size_t from = static_cast<size_t>(q.page - 1) * q.page_size;
    for (size_t k = from; k < match.size() && k < from + q.page_size; ++k) {
      page.push_back(rows[match[k]].no);
    }
    return std::pair{page, static_cast<int64_t>(match.size())};
  };
  int checked = 0;
  auto check = [&](const Who& who, const CustomerQuery& q) {
    auto [expected, matches] = brute_force(who, q);
    auto got = service_->Search(*who.actor, q);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    std::vector<std::string> nos;
    for (const auto& c : got->items) nos.push_back(c.customer_no);
    std::string what = who.actor->username + " q=" + q.q + " sort=" + q.sort +
                       " category=" + q.category + " page=" + std::to_string(q.page);
    EXPECT_EQ(nos, expected) << what;
    EXPECT_EQ(got->total, std::min(matches, kCountCap)) << what;
    EXPECT_EQ(got->total_capped, matches > kCountCap) << what;
    ++checked;
  };
  for (const Who& who : everyone) {
    for (std::string text : {"幸福路", "长顺镇", "七台镇", "黑土台", "户", "丰", "丰乙"}) {
      for (std::string sort : {"customer_no", "-created_at", "name"}) {
        for (int page : {1, 3}) {
          check(who, {.q = text, .sort = sort, .page = page});
        }
      }
      // Deeper than a walk of the sort index, a filter, and past the last row.
      check(who, {.q = text, .page = 120, .page_size = 200});
      check(who, {.q = text, .category = "commercial", .page = 2});
      check(who, {.q = text, .page = 5'000, .page_size = 20});
    }
  }
  EXPECT_EQ(checked, 4 * 7 * 9);
}

TEST_P(CustomerTest, ContactsKeepOnePrimary) {
  Customer c = Make("1501000001", "张三", u_->county_a);
  auto first = service_->AddContact(
      clerk_a_, c.id,
      {.name = "张三", .phone = std::optional<std::string>("13900000001"), .is_primary = true});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = service_->AddContact(clerk_a_, c.id,
                                     {.name = "电工老李",
                                      .role = "electrician",
                                      .phone = std::optional<std::string>("0474-8123456")});
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->is_primary);
  EXPECT_EQ(service_->AddContact(clerk_a_, c.id, {.name = "x", .role = "boss"}).status().field(),
            "role");
  EXPECT_EQ(service_->AddContact(clerk_a_, c.id, {.phone = std::optional<std::string>("1")})
                .status()
                .field(),
            "name");

  // Making the electrician primary demotes the owner (and bumps the owner's version).
  auto promoted =
      service_->UpdateContact(clerk_a_, second->id, second->version, {.is_primary = true});
  ASSERT_TRUE(promoted.ok()) << promoted.status().ToString();
  auto contacts = service_->ListContacts(clerk_a_, c.id);
  ASSERT_TRUE(contacts.ok());
  ASSERT_EQ(contacts->size(), 2u);
  EXPECT_EQ((*contacts)[0].name, "电工老李");
  EXPECT_TRUE((*contacts)[0].is_primary);
  EXPECT_FALSE((*contacts)[1].is_primary);
  EXPECT_EQ((*contacts)[1].version, first->version + 1);

  EXPECT_EQ(
      service_->UpdateContact(clerk_a_, first->id, first->version, {.name = "张"}).status().code(),
      StatusCode::kAborted);
  EXPECT_EQ(service_->DeleteContact(clerk_a_, first->id, first->version).code(),
            StatusCode::kAborted);
  ASSERT_TRUE(service_->DeleteContact(clerk_a_, first->id, first->version + 1).ok());
  EXPECT_EQ(service_->ListContacts(clerk_a_, c.id)->size(), 1u);
  EXPECT_EQ(service_->DeleteContact(clerk_a_, first->id, std::nullopt).code(),
            StatusCode::kNotFound);

  org::AuditQuery q;
  q.entity = "contact";
  q.entity_id = std::to_string(first->id);
  auto audit = org::ListAudit(u_->db(), sys_, q);
  ASSERT_EQ(audit->total, 3);  // create, demoted, delete
  EXPECT_EQ(audit->items[0].action, "delete");
  EXPECT_TRUE(audit->items[0].after_json.empty());
  EXPECT_EQ(json::parse(audit->items[1].after_json)["is_primary"], false);
}

TEST_P(CustomerTest, AccountsFollowTheirCustomer) {
  Customer c = Make("1501000001", "集宁宾馆", u_->county_a);
  AccountInput in;
  in.account_no = "ACC-0001";
  in.name = "集宁宾馆";
  in.payment_method = "bank_debit";
  auto missing_bank = service_->CreateAccount(clerk_a_, c.id, in);
  EXPECT_EQ(missing_bank.status().field(), "bank_name");
  in.bank_name = std::optional<std::string>("中国工商银行乌兰察布分行");
  in.bank_account_no = std::optional<std::string>("62220206021234");
  in.tax_no = std::optional<std::string>("91150900x12345678q");
  auto a = service_->CreateAccount(clerk_a_, c.id, in);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->department_id, u_->county_a);
  EXPECT_EQ(a->tax_no, "91150900X12345678Q");
  auto dup = service_->CreateAccount(clerk_a_, c.id, in);
  EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(dup.status().field(), "account_no");

  AccountInput bad;
  bad.bank_account_no = std::optional<std::string>("12ab");
  EXPECT_EQ(service_->UpdateAccount(clerk_a_, a->id, a->version, bad).status().field(),
            "bank_account_no");
  AccountInput to_counter;
  to_counter.payment_method = "counter";
  auto changed = service_->UpdateAccount(clerk_a_, a->id, a->version, to_counter);
  ASSERT_TRUE(changed.ok()) << changed.status().ToString();
  EXPECT_EQ(service_->UpdateAccount(clerk_a_, a->id, a->version, to_counter).status().code(),
            StatusCode::kAborted);

  // Moving the customer to county B moves its account: county A no longer sees either.
  CustomerInput move;
  move.department_id = u_->county_b;
  ASSERT_TRUE(service_->Update(sys_, c.id, c.version, move).ok());
  auto accounts = service_->ListAccounts(sys_, c.id);
  ASSERT_TRUE(accounts.ok());
  ASSERT_EQ(accounts->size(), 1u);
  EXPECT_EQ((*accounts)[0].department_id, u_->county_b);
  EXPECT_EQ(
      service_->UpdateAccount(clerk_a_, a->id, (*accounts)[0].version, to_counter).status().code(),
      StatusCode::kNotFound);
}

// ---- Routes ----

class CustomerRoutesTest : public CustomerTest {
 protected:
  void SetUp() override {
    CustomerTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    router_.SetAuthenticator(
        [this](const http::Request&) -> Result<org::Actor> { return clerk_a_; });
    AddRoutes(router_, *service_);
  }
  http::Response Call(std::string method, std::string target, std::string body = "") {
    http::Request r;
    r.method = std::move(method);
    r.target = target;
    auto qpos = target.find('?');
    r.path = target.substr(0, qpos);
    if (qpos != std::string::npos) http::ParseQueryString(target.substr(qpos + 1), &r.query);
    r.body = std::move(body);
    if (!r.body.empty()) r.headers.emplace_back("content-type", "application/json");
    return router_.Handle(r);
  }
  http::Router router_;
};

TEST_P(CustomerRoutesTest, CustomersContactsAccountsOverHttp) {
  std::string dept = std::to_string(u_->county_a);
  auto created = Call("POST", "/api/v1/customers",
                      R"({"customer_no":"1501000001","name":"张三","category":"residential",)"
                      R"("address":"幸福路1号","mobile":"13947401234","department_id":)" +
                          dept + "}");
  ASSERT_EQ(created.status, 201) << created.body;
  json c = json::parse(created.body);
  std::string id = std::to_string(c["id"].get<int64_t>());
  EXPECT_EQ(c["mobile"], "13947401234");

  auto list = Call("GET", "/api/v1/customers?q=1501&page_size=10");
  ASSERT_EQ(list.status, 200) << list.body;
  json page = json::parse(list.body);
  EXPECT_EQ(page["total"], 1);
  EXPECT_EQ(page["total_capped"], false);
  EXPECT_EQ(page["items"][0]["mobile"], "139****1234");
  EXPECT_EQ(json::parse(Call("GET", "/api/v1/customers?sort=id").body)["error"]["field"], "sort");
  EXPECT_EQ(json::parse(Call("GET", "/api/v1/customers?category=x").body)["error"]["field"],
            "category");

  auto bad = Call("POST", "/api/v1/customers", R"({"customer_no":"1501000002","nme":"x"})");
  EXPECT_EQ(bad.status, 400);
  auto cleared = Call("PATCH", "/api/v1/customers/" + id, R"({"version":1,"mobile":null})");
  ASSERT_EQ(cleared.status, 200) << cleared.body;
  EXPECT_TRUE(json::parse(cleared.body)["mobile"].is_null());
  EXPECT_EQ(Call("PATCH", "/api/v1/customers/" + id, R"({"version":1,"remark":"x"})").status, 409);

  auto contact = Call("POST", "/api/v1/customers/" + id + "/contacts",
                      R"({"name":"李工","role":"electrician","is_primary":true})");
  ASSERT_EQ(contact.status, 201) << contact.body;
  std::string cid = std::to_string(json::parse(contact.body)["id"].get<int64_t>());
  EXPECT_EQ(json::parse(Call("GET", "/api/v1/customers/" + id + "/contacts").body)["total"], 1);
  EXPECT_EQ(Call("PATCH", "/api/v1/contacts/" + cid, R"({"version":1,"email":"li@x.cn"})").status,
            200);
  EXPECT_EQ(Call("DELETE", "/api/v1/contacts/" + cid + "?version=1").status, 409);
  EXPECT_EQ(Call("DELETE", "/api/v1/contacts/" + cid + "?version=2").status, 200);

  auto account = Call("POST", "/api/v1/customers/" + id + "/accounts",
                      R"({"account_no":"A-1","name":"张三","payment_method":"bank_debit"})");
  EXPECT_EQ(account.status, 400);
  EXPECT_EQ(json::parse(account.body)["error"]["field"], "bank_name");
  account = Call("POST", "/api/v1/customers/" + id + "/accounts",
                 R"({"account_no":"A-1","name":"张三","payment_method":"prepaid"})");
  ASSERT_EQ(account.status, 201) << account.body;
  std::string aid = std::to_string(json::parse(account.body)["id"].get<int64_t>());
  EXPECT_EQ(Call("PATCH", "/api/v1/accounts/" + aid, R"({"version":1,"status":"closed"})").status,
            200);
  EXPECT_EQ(
      json::parse(Call("GET", "/api/v1/customers/" + id + "/accounts").body)["items"][0]["status"],
      "closed");

  for (const auto& r : router_.routes()) {
    for (const auto& name : {r.request, r.response}) {
      if (!name.empty()) {
        EXPECT_TRUE(router_.schemas().count(name)) << r.pattern << " " << name;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, CustomerTest,
                         ::testing::ValuesIn(store::testing::AvailableBackendsForTest()),
                         [](const auto& p) { return p.param; });
INSTANTIATE_TEST_SUITE_P(Backends, CustomerRoutesTest,
                         ::testing::ValuesIn(store::testing::AvailableBackendsForTest()),
                         [](const auto& p) { return p.param; });

}  // namespace
}  // namespace gridmis::customer
