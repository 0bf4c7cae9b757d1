#include "demo/demo.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "app/migrations.h"
#include "demo/names.h"
#include "org/audit.h"
#include "org/org.h"
#include "org/password.h"
#include "org/permissions.h"
#include "store/migrate.h"
#include "store/testing.h"

namespace gridmis::demo {
namespace {

constexpr int64_t kCustomers = 2000;
constexpr int64_t kNowUs = 1'795'840'541'033'743;  // 2026-11-28T04:35:41Z

// Every table the demo writes (or that the org service fills for it), with its ordering key
// and the columns that legitimately differ between two runs.
struct TableKey {
  const char* table;
  const char* order_by;
};
constexpr TableKey kTables[] = {
    {"departments", "id"},
    {"roles", "id"},
    {"role_permissions", "role_id, permission"},
    {"users", "id"},
    {"user_roles", "user_id, role_id"},
    {"substations", "id"},
    {"feeders", "id"},
    {"transformer_areas", "id"},
    {"customers", "id"},
    {"customer_contacts", "id"},
    {"accounts", "id"},
    {"metering_points", "id"},
    {"meters", "id"},
    {"meter_installations", "id"},
    {"installation_readings", "installation_id, event, register"},
    {"terminals", "id"},
    {"terminal_meters", "id"},
    {"audit_log", "id"},
};

// FNV-1a over every column of every row in key order, except salted password hashes and the
// audit chain's hashes.
uint64_t TableChecksum(store::Database& db, const TableKey& t) {
  uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](std::string_view s) {
    for (unsigned char ch : s) {
      h ^= ch;
      h *= 1099511628211ULL;
    }
    h ^= 0xff;
    h *= 1099511628211ULL;
  };
  Status st = db.Read([&](store::Connection& c) {
    return c.Query(std::string("SELECT * FROM ") + t.table + " ORDER BY " + t.order_by, {},
                   [&](const store::Row& r) {
                     for (int i = 0; i < r.size(); ++i) {
                       std::string_view name = r.Name(i);
                       if (name == "password_hash" || name == "hash" || name == "prev_hash")
                         continue;
                       mix(name);
                       mix(r.IsNull(i) ? std::string_view("\\N") : r.TextView(i));
                     }
                   });
  });
  EXPECT_TRUE(st.ok()) << t.table << ": " << st.ToString();
  return h;
}

std::map<std::string, uint64_t> Checksums(store::Database& db) {
  std::map<std::string, uint64_t> out;
  for (const TableKey& t : kTables) out[t.table] = TableChecksum(db, t);
  return out;
}

class DemoTest : public ::testing::TestWithParam<std::string> {
 protected:
  Result<std::unique_ptr<store::testing::TestDatabase>> NewDatabase() {
    ASSIGN_OR_RETURN(auto t, store::testing::TestDatabase::Create(GetParam()));
    RETURN_IF_ERROR(store::Migrate(t->db(), app::AllMigrations(), kNowUs));
    return t;
  }

  void SetUp() override {
    auto t = NewDatabase();
    if (!t.ok() && GetParam() == "postgres" && !store::testing::PostgresRequiredForTest()) {
      GTEST_SKIP() << t.status().ToString();
    }
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    tdb_ = std::move(*t);
  }

  static DemoOptions Options(uint64_t seed = 20261128) {
    DemoOptions o;
    o.seed = seed;
    o.customers = kCustomers;
    o.password_strength = org::HashStrength::kMinimum;
    return o;
  }

  Result<DemoSummary> Build(store::Database& db, const DemoOptions& o) {
    return BuildDemo(db, clock_, o);
  }

  int64_t Count(const std::string& sql) {
    auto n = tdb_->db().ReadValue<int64_t>(
        [&](store::Connection& c) -> Result<int64_t> { return c.QueryInt(sql); });
    EXPECT_TRUE(n.ok()) << sql << ": " << n.status().ToString();
    return n.ok() ? *n : -1;
  }

  std::map<std::string, int64_t> GroupCount(const std::string& sql) {
    std::map<std::string, int64_t> out;
    Status st = tdb_->db().Read([&](store::Connection& c) {
      return c.Query(sql, {}, [&](const store::Row& r) { out[r.Text(0)] = r.Int(1); });
    });
    EXPECT_TRUE(st.ok()) << sql << ": " << st.ToString();
    return out;
  }

  FakeClock clock_{kNowUs};
  std::unique_ptr<store::testing::TestDatabase> tdb_;
};

TEST_P(DemoTest, CountsMatchTheSummaryAndEverythingExists) {
  std::vector<std::tuple<std::string, int64_t, int64_t>> progress;
  DemoOptions o = Options();
  o.progress = [&](std::string_view stage, int64_t done, int64_t total) {
    progress.emplace_back(std::string(stage), done, total);
  };
  auto s = Build(tdb_->db(), o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();

  EXPECT_EQ(Count("SELECT COUNT(*) FROM departments"), s->departments);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM users"), s->users);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM substations"), s->substations);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM feeders"), s->feeders);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM transformer_areas"), s->transformer_areas);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM transformer_areas WHERE ownership = 'private'"),
            s->private_transformer_areas);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM customers"), kCustomers);
  EXPECT_EQ(s->customers, kCustomers);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM customer_contacts"), s->contacts);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM accounts"), s->accounts);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM metering_points"), s->metering_points);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM meters"), s->meters);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM meter_installations"), s->installations);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM installation_readings"), s->installation_readings);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM terminals"), s->terminals);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM terminal_meters"), s->terminal_meters);

  // Every category, in plausible proportions.
  auto cats = GroupCount("SELECT category, COUNT(*) FROM customers GROUP BY category");
  ASSERT_EQ(cats.size(), 5u);
  EXPECT_EQ(cats["residential"], s->residential);
  EXPECT_EQ(cats["commercial"], s->commercial);
  EXPECT_EQ(cats["large_industry"], s->large_industry);
  EXPECT_EQ(cats["agricultural"], s->agricultural);
  EXPECT_EQ(cats["other"], s->other);
  EXPECT_NEAR(cats["residential"] / double(kCustomers), 0.90, 0.03);
  EXPECT_NEAR(cats["commercial"] / double(kCustomers), 0.07, 0.02);
  EXPECT_NEAR(cats["large_industry"] / double(kCustomers), 0.01, 0.003);
  EXPECT_NEAR(cats["agricultural"] / double(kCustomers), 0.02, 0.015);
  EXPECT_GT(cats["other"], 0);

  // All four kinds of terminal.
  auto kinds = GroupCount("SELECT kind, COUNT(*) FROM terminals GROUP BY kind");
  EXPECT_EQ(kinds["public_transformer"], s->public_transformer_terminals);
  EXPECT_EQ(kinds["special_transformer"], s->special_transformer_terminals);
  EXPECT_EQ(kinds["large_customer"], s->large_customer_terminals);
  EXPECT_EQ(kinds["substation"], s->substation_terminals);
  for (const char* k :
       {"public_transformer", "special_transformer", "large_customer", "substation"}) {
    EXPECT_GT(kinds[k], 0) << k;
  }
  // Both voltage levels of substation; 10-20 areas a feeder on average.
  auto volts = GroupCount("SELECT voltage_v, COUNT(*) FROM substations GROUP BY voltage_v");
  EXPECT_GT(volts["110000"], 0);
  EXPECT_GT(volts["35000"], 0);

  // Every built-in role has a user; the logins list them all.
  auto roles = GroupCount(
      "SELECT r.code, COUNT(*) FROM roles r JOIN user_roles ur ON ur.role_id = r.id "
      "GROUP BY r.code");
  for (const auto& b : org::BuiltinRoles()) {
    EXPECT_GT(roles[std::string(b.code)], 0) << b.code;
  }
  EXPECT_EQ(static_cast<int64_t>(s->logins.size()), s->users);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM users WHERE must_change_password <> 0"), 0);

  // The terminal summary names the sizes and every login (by pattern for counties/stations).
  std::string text = FormatSummary(*s);
  for (const char* part : {"2000 customers", "Gridmis@2026", "admin      system_admin",
                           "manager    manager         NM1509", "for X in jining, fengzhen",
                           "siziwang\n", "reader_baihaizi"}) {
    EXPECT_NE(text.find(part), std::string::npos) << part << " in\n" << text;
  }

  // Progress ran to the end of the customers.
  bool customers_done = false;
  for (const auto& [stage, done, total] : progress) {
    if (stage == "customers" && done == total && total == kCustomers) customers_done = true;
  }
  EXPECT_TRUE(customers_done);
}

TEST_P(DemoTest, DepartmentTreeIsUlanqab) {
  ASSERT_TRUE(Build(tdb_->db(), Options()).ok());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM departments WHERE kind = 'company' AND parent_id IS NULL"),
            1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM departments WHERE kind = 'city' AND name = "
                  "'乌兰察布供电公司'"),
            1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM departments WHERE kind = 'county'"), 11);
  // Codes and paths are hierarchical; each county has 2-4 stations.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM departments d JOIN departments p ON p.id = d.parent_id "
                  "WHERE substr(d.code, 1, length(p.code)) <> p.code "
                  "OR d.path <> p.path || CAST(d.id AS TEXT) || '/'"),
            0);
  auto stations = GroupCount(
      "SELECT p.code, COUNT(*) FROM departments d JOIN departments p ON p.id = d.parent_id "
      "WHERE d.kind = 'station' GROUP BY p.code");
  EXPECT_EQ(stations.size(), 11u);
  for (const auto& [code, n] : stations) {
    EXPECT_GE(n, 2) << code;
    EXPECT_LE(n, 4) << code;
  }
  // Customers belong to stations; grid records to the stations and counties.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM customers c JOIN departments d ON d.id = c.department_id "
                  "WHERE d.kind <> 'station'"),
            0);
}

TEST_P(DemoTest, IdentityNumbersAndContactDetailsAreValid) {
  ASSERT_TRUE(Build(tdb_->db(), Options()).ok());
  int64_t residents = 0, credit_codes = 0, cards = 0;
  Status st = tdb_->db().Read([&](store::Connection& c) -> Status {
    RETURN_IF_ERROR(
        c.Query("SELECT customer_no, id_doc_type, id_doc_no, mobile, category FROM customers", {},
                [&](const store::Row& r) {
                  std::string no = r.Text(0);
                  EXPECT_EQ(no.size(), 10u) << no;
                  EXPECT_EQ(no.find_first_not_of("0123456789"), std::string::npos) << no;
                  if (r.Text(1) == "resident_id") {
                    ++residents;
                    EXPECT_TRUE(IsValidResidentId(r.Text(2))) << r.Text(2);
                    EXPECT_TRUE(r.Text(2).starts_with("1509")) << r.Text(2);
                  } else {
                    ++credit_codes;
                    EXPECT_EQ(r.Text(1), "unified_credit_code");
                    EXPECT_TRUE(IsValidCreditCode(r.Text(2))) << r.Text(2);
                  }
                  if (r.Text(4) == "residential") {
                    EXPECT_EQ(r.Text(1), "resident_id");
                  }
                  if (!r.IsNull(3)) {
                    EXPECT_EQ(r.Text(3).size(), 11u) << r.Text(3);
                    EXPECT_EQ(r.Text(3)[0], '1') << r.Text(3);
                  }
                }));
    return c.Query(
        "SELECT a.bank_name, a.bank_account_no, c.id_doc_type FROM accounts a "
        "JOIN customers c ON c.id = a.customer_id WHERE a.payment_method = 'bank_debit'",
        {}, [&](const store::Row& r) {
          EXPECT_FALSE(r.IsNull(0));
          EXPECT_FALSE(r.IsNull(1));
          if (r.Text(2) == "resident_id") {
            ++cards;
            EXPECT_TRUE(IsValidLuhn(r.Text(1))) << r.Text(1);
          }
        });
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_GT(residents, 1500);
  EXPECT_GT(credit_codes, 50);
  EXPECT_GT(cards, 50);
  // Non-residential customers have contacts; large customers an account manager.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM customers c WHERE c.category <> 'residential' AND NOT "
                  "EXISTS (SELECT 1 FROM customer_contacts k WHERE k.customer_id = c.id)"),
            0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM customers WHERE category = 'large_industry' AND "
                  "account_manager_id IS NULL"),
            0);
}

TEST_P(DemoTest, MeteringIsConsistent) {
  ASSERT_TRUE(Build(tdb_->db(), Options()).ok());
  // Each metering point has exactly one meter on it, unless the customer closed (then its one
  // installation has been removed).
  Status st = tdb_->db().Read([&](store::Connection& c) {
    return c.Query(
        "SELECT p.id, p.status, c.status, "
        "SUM(CASE WHEN i.removed_at_us IS NULL THEN 1 ELSE 0 END), COUNT(i.id) "
        "FROM metering_points p JOIN customers c ON c.id = p.customer_id "
        "LEFT JOIN meter_installations i ON i.metering_point_id = p.id "
        "GROUP BY p.id, p.status, c.status",
        {}, [&](const store::Row& r) {
          EXPECT_EQ(r.Int(4), 1) << "point " << r.Int(0);
          if (r.Text(2) == "closed") {
            EXPECT_EQ(r.Text(1), "removed");
            EXPECT_EQ(r.Int(3), 0) << "point " << r.Int(0);
          } else {
            EXPECT_EQ(r.Int(3), 1) << "point " << r.Int(0);
          }
        });
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_GT(Count("SELECT COUNT(*) FROM metering_points WHERE status = 'removed'"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM customers c WHERE NOT EXISTS "
                  "(SELECT 1 FROM metering_points p WHERE p.customer_id = c.id)"),
            0);
  // Installed meters are 'installed', removed ones 'removed'.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM meters m JOIN meter_installations i ON i.meter_id = m.id "
                  "WHERE (i.removed_at_us IS NULL) <> (m.status = 'installed')"),
            0);
  // 倍率 = CT ratio × PT ratio.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM meters WHERE multiplier <> "
                  "(ct_primary_a / ct_secondary_a) * (pt_primary_v / pt_secondary_v)"),
            0);
  // Category-specific metering.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM metering_points p JOIN meter_installations i ON "
                  "i.metering_point_id = p.id JOIN meters m ON m.id = i.meter_id "
                  "WHERE p.tariff_code = 'residential_lv' AND (p.voltage_v <> 220 OR m.phases <> 1 "
                  "OR m.registers <> 'total' OR m.multiplier <> 1 OR p.pf_standard <> 'none')"),
            0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM metering_points p JOIN meter_installations i ON "
                  "i.metering_point_id = p.id JOIN meters m ON m.id = i.meter_id "
                  "WHERE p.tariff_code = 'large_industry_10kv' AND (p.voltage_v <> 10000 OR "
                  "p.pf_standard <> '0.90' OR p.metering_side <> 'high' OR m.pt_primary_v <> "
                  "10000 OR m.pt_secondary_v <> 100 OR m.ct_secondary_a <> 5 OR m.multiplier < "
                  "200)"),
            0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM metering_points WHERE tariff_code = 'commercial_lv' "
                  "AND contracted_capacity_kva >= 100 AND pf_standard <> '0.85'"),
            0);
  EXPECT_GT(Count("SELECT COUNT(*) FROM meters WHERE ct_primary_a > 1 AND pt_primary_v = 1"), 0);
  // Every installation has an install reading per register, the time-of-use registers adding
  // up to the total.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM meter_installations i WHERE NOT EXISTS (SELECT 1 FROM "
                  "installation_readings r WHERE r.installation_id = i.id AND r.event = 'install' "
                  "AND r.register = 'total')"),
            0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM installation_readings t WHERE t.register = 'total' AND "
                  "EXISTS (SELECT 1 FROM installation_readings s WHERE s.installation_id = "
                  "t.installation_id AND s.event = t.event AND s.register = 'sharp') AND "
                  "t.value_dwh <> (SELECT SUM(value_dwh) FROM installation_readings x WHERE "
                  "x.installation_id = t.installation_id AND x.event = t.event AND x.register IN "
                  "('sharp', 'peak', 'flat', 'valley'))"),
            0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM meter_installations i JOIN installation_readings a ON "
                  "a.installation_id = i.id AND a.event = 'install' AND a.register = 'total' "
                  "JOIN installation_readings b ON b.installation_id = i.id AND b.event = "
                  "'remove' AND b.register = 'total' WHERE b.value_dwh < a.value_dwh"),
            0);
}

TEST_P(DemoTest, TerminalsAndTheirMeters) {
  ASSERT_TRUE(Build(tdb_->db(), Options()).ok());
  // Pn unique per terminal, within 1..2040; A1 = 1509 and A2 unique.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM (SELECT terminal_id, point_no FROM terminal_meters "
                  "GROUP BY terminal_id, point_no HAVING COUNT(*) > 1) x"),
            0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM terminal_meters WHERE point_no < 1 OR point_no > 2040"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM terminals WHERE area_code <> '1509' OR address < 1 OR "
                  "address > 65534"),
            0);
  // Pn are 1..n without gaps.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM (SELECT terminal_id FROM terminal_meters GROUP BY "
                  "terminal_id HAVING MAX(point_no) <> COUNT(*)) x"),
            0);
  // Every installed meter is behind exactly one terminal: its area's concentrator, or its
  // customer's own terminal.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM meters WHERE status = 'installed'"),
            Count("SELECT COUNT(*) FROM terminal_meters"));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM terminal_meters tm JOIN terminals t ON t.id = "
                  "tm.terminal_id JOIN meter_installations i ON i.meter_id = tm.meter_id AND "
                  "i.removed_at_us IS NULL JOIN metering_points p ON p.id = i.metering_point_id "
                  "WHERE t.transformer_area_id <> p.transformer_area_id OR (t.kind IN "
                  "('special_transformer', 'large_customer') AND t.customer_id <> p.customer_id)"),
            0);
  // One concentrator per public area; special-transformer terminals for large industry,
  // large-customer terminals for commercial customers; one terminal per substation.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM transformer_areas a WHERE a.ownership = 'public' AND 1 <> "
                  "(SELECT COUNT(*) FROM terminals t WHERE t.transformer_area_id = a.id AND "
                  "t.kind = 'public_transformer')"),
            0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM terminals t JOIN customers c ON c.id = t.customer_id "
                  "WHERE (t.kind = 'special_transformer' AND c.category <> 'large_industry') OR "
                  "(t.kind = 'large_customer' AND c.category <> 'commercial')"),
            0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM substations s WHERE 1 <> (SELECT COUNT(*) FROM terminals "
                  "t WHERE t.substation_id = s.id AND t.kind = 'substation')"),
            0);
  // Areas hold 120-180 customers on average, public areas 50-630 kVA, private 200-2000.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM transformer_areas WHERE (ownership = 'public' AND "
                  "(capacity_kva < 50 OR capacity_kva > 630)) OR (ownership = 'private' AND "
                  "(capacity_kva < 200 OR capacity_kva > 2000))"),
            0);
  int64_t public_areas = Count("SELECT COUNT(*) FROM transformer_areas WHERE ownership = 'public'");
  int64_t public_customers = Count(
      "SELECT COUNT(*) FROM customers c JOIN transformer_areas a ON a.id = c.transformer_area_id "
      "WHERE a.ownership = 'public'");
  ASSERT_GT(public_areas, 0);
  EXPECT_GE(public_customers / public_areas, 100);
  EXPECT_LE(public_customers / public_areas, 200);
}

TEST_P(DemoTest, DeterministicBySeed) {
  auto s1 = Build(tdb_->db(), Options(7));
  ASSERT_TRUE(s1.ok()) << s1.status().ToString();
  auto other = NewDatabase();
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  auto s2 = Build((*other)->db(), Options(7));
  ASSERT_TRUE(s2.ok()) << s2.status().ToString();
  auto third = NewDatabase();
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  auto s3 = Build((*third)->db(), Options(8));
  ASSERT_TRUE(s3.ok()) << s3.status().ToString();

  auto a = Checksums(tdb_->db());
  auto b = Checksums((*other)->db());
  auto c = Checksums((*third)->db());
  for (const TableKey& t : kTables) EXPECT_EQ(a[t.table], b[t.table]) << t.table;
  // A different seed changes the content, not the organisation's skeleton.
  for (const char* t : {"customers", "accounts", "metering_points", "meters",
                        "installation_readings", "terminals", "transformer_areas", "users"}) {
    EXPECT_NE(a[t], c[t]) << t;
  }
  EXPECT_EQ(a["departments"], c["departments"]);
  EXPECT_EQ(a["roles"], c["roles"]);
}

TEST_P(DemoTest, SecondBuildFailsAndChangesNothing) {
  ASSERT_TRUE(Build(tdb_->db(), Options()).ok());
  auto before = Checksums(tdb_->db());
  auto again = Build(tdb_->db(), Options(99));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition) << again.status().ToString();
  auto after = Checksums(tdb_->db());
  for (const TableKey& t : kTables) EXPECT_EQ(before[t.table], after[t.table]) << t.table;
}

TEST_P(DemoTest, RefusesBadSizes) {
  DemoOptions o = Options();
  o.customers = 0;
  EXPECT_EQ(Build(tdb_->db(), o).status().code(), StatusCode::kInvalidArgument);
  o.customers = kMaxDemoCustomers + 1;
  EXPECT_EQ(Build(tdb_->db(), o).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM departments"), 0);
}

TEST_P(DemoTest, DemoLoginsWorkAndScopesFollowTheTree) {
  auto s = Build(tdb_->db(), Options());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  std::set<std::string> names;
  for (const DemoLogin& l : s->logins) {
    EXPECT_EQ(l.password, kDemoPassword);
    names.insert(l.username);
  }
  for (const char* u : {"admin", "security", "auditor", "manager", "clerk", "reader", "billing",
                        "inspector", "analyst", "clerk_jining", "manager_fengzhen",
                        "reader_siziwang", "analyst_qianqi", "reader_baihaizi"}) {
    EXPECT_TRUE(names.count(u)) << u;
  }

  auto hash = tdb_->db().ReadValue<std::string>([](store::Connection& c) {
    return c.QueryText("SELECT password_hash FROM users WHERE username = 'admin'");
  });
  ASSERT_TRUE(hash.ok());
  EXPECT_TRUE(hash->starts_with("$argon2id$"));
  EXPECT_TRUE(org::VerifyPassword(*hash, kDemoPassword));

  org::OrgOptions oo;
  oo.hash_strength = org::HashStrength::kMinimum;
  org::OrgService org_service(tdb_->db(), clock_, oo);
  for (const char* u : {"admin", "auditor", "clerk_jining"}) {
    auto session = org_service.Login(u, kDemoPassword, "127.0.0.1", "demo_test");
    ASSERT_TRUE(session.ok()) << u << ": " << session.status().ToString();
    auto actor = org_service.AuthenticateSession(session->token, "127.0.0.1");
    ASSERT_TRUE(actor.ok()) << actor.status().ToString();
    EXPECT_EQ(actor->username, u);
  }
  EXPECT_FALSE(org_service.Login("clerk_jining", "wrong-password", "127.0.0.1", "t").ok());

  // A 集宁 clerk sees 集宁's customers' stations, not 丰镇's.
  auto user_id = tdb_->db().ReadValue<int64_t>([](store::Connection& c) {
    return c.QueryInt("SELECT id FROM users WHERE username = 'clerk_jining'");
  });
  ASSERT_TRUE(user_id.ok());
  auto clerk = org_service.LoadActor(*user_id);
  ASSERT_TRUE(clerk.ok());
  int64_t jining_station =
      Count("SELECT MIN(c.department_id) FROM customers c WHERE c.customer_no LIKE '02%'");
  int64_t fengzhen_station =
      Count("SELECT MIN(c.department_id) FROM customers c WHERE c.customer_no LIKE '81%'");
  EXPECT_TRUE(clerk->CanSee(jining_station));
  EXPECT_FALSE(clerk->CanSee(fengzhen_station));
}

TEST_P(DemoTest, TheGenerationIsAudited) {
  ASSERT_TRUE(Build(tdb_->db(), Options()).ok());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_log WHERE entity = 'demo' AND username = 'demo' AND "
                  "action = 'create' AND entity_id = '20261128'"),
            1);
  auto broken = org::VerifyAuditChain(tdb_->db());
  ASSERT_TRUE(broken.ok()) << broken.status().ToString();
  EXPECT_EQ(*broken, 0);
}

TEST_P(DemoTest, IdentitiesContinueAfterTheDemo) {
  // New rows after the demo get ids past the generated ones (PostgreSQL sequences reset).
  ASSERT_TRUE(Build(tdb_->db(), Options()).ok());
  int64_t max_id = Count("SELECT MAX(id) FROM customers");
  auto id = tdb_->db().WriteValue<int64_t>([](store::Connection& c) {
    return c.InsertReturningId(
        "INSERT INTO customers (customer_no, name, category, address, department_id, "
        "created_at_us, updated_at_us) VALUES ('9999999999', '测试', 'residential', '测试地址', "
        "3, 0, 0) RETURNING id",
        {});
  });
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(*id, max_id + 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, DemoTest,
                         ::testing::ValuesIn(store::testing::AvailableBackendsForTest()),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

// The same seed gives the same rows on SQLite and PostgreSQL.
TEST(DemoCrossBackendTest, SameRowsOnBothBackends) {
  auto backends = store::testing::AvailableBackendsForTest();
  if (backends.size() < 2) GTEST_SKIP() << "PostgreSQL is not configured";
  FakeClock clock(kNowUs);
  std::map<std::string, uint64_t> sums[2];
  for (int i = 0; i < 2; ++i) {
    auto t = store::testing::TestDatabase::Create(backends[i]);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    ASSERT_TRUE(store::Migrate((*t)->db(), app::AllMigrations(), kNowUs).ok());
    DemoOptions o;
    o.customers = 500;
    o.password_strength = org::HashStrength::kMinimum;
    auto s = BuildDemo((*t)->db(), clock, o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    sums[i] = Checksums((*t)->db());
  }
  for (const TableKey& t : kTables) {
    if (std::string_view(t.table) == "roles" || std::string_view(t.table) == "role_permissions") {
      continue;  // filled by the org service
    }
    EXPECT_EQ(sums[0][t.table], sums[1][t.table]) << t.table;
  }
}

}  // namespace
}  // namespace gridmis::demo
