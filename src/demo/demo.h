// The demo utility: a realistic synthetic power-supply bureau, deterministic by seed.
//
// BuildDemo fills an empty, migrated database with the Ulanqab (乌兰察布) bureau of Inner
// Mongolia Electric Power: the department tree (company → city bureau → 11 county branches → 38
// supply stations), a user for every built-in role, the grid (110 kV and 35 kV substations, 10 kV
// feeders, public and private transformer areas), customers of every category with accounts and
// contacts, metering points, meters with CT/PT, installations with their readings, and terminals
// of all four kinds with the meters behind them. See docs in demo.cc for the proportions.
//
// Demo logins (all with the password kDemoPassword, must_change_password = 0):
//   company  (NM):        admin (system_admin), security (security_admin), auditor (audit_admin)
//   city     (NM1509):    manager, clerk, reader, billing, inspector, analyst
//   county   (NM1509xx):  manager_<county>, clerk_<county>, reader_<county>, billing_<county>,
//                         inspector_<county>, analyst_<county>, with <county> one of jining,
//                         fengzhen, zhuozi, huade, shangdu, xinghe, liangcheng, qianqi, zhongqi,
//                         houqi, siziwang
//   station  (NM1509xxnn): reader_<station>, e.g. reader_baihaizi (meter readers work at stations)
// DemoSummary::logins lists them all.
//
// Speed: rows are written with prepared multi-row INSERTs in one transaction per chunk of
// customers, with ids computed by the generator (no per-row queries); generation of the next
// chunk overlaps the writing of the current one. For a large SQLite build open the database with
// DatabaseOptions{.bulk_load = true} (synchronous=OFF): measured here, 1,000,000 customers take
// about half a minute (src/demo/demo_benchmark.cc).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "org/password.h"
#include "store/db.h"

namespace gridmis::demo {

// The documented password of every demo login. It satisfies the administrators' policy (12
// characters, four classes) and contains none of the demo usernames.
// A character array so that it serves both printf("%s") and std::string_view.
inline constexpr char kDemoPassword[] = "Gridmis@2026";

// Most customers BuildDemo accepts: every terminal has the city's area code A1 = "1509" and a
// unique terminal address A2 in 1..65534 (Q/GDW 1376.1), about one terminal per 46 customers.
inline constexpr int64_t kMaxDemoCustomers = 2'500'000;

struct DemoOptions {
  uint64_t seed = 20261128;
  int64_t customers = 20000;  // 1..kMaxDemoCustomers
  // Called often during generation: stage name ("org", "grid", "customers", "finish"), done,
  // total. Called on the thread that called BuildDemo, between transactions. May be null.
  std::function<void(std::string_view stage, int64_t done, int64_t total)> progress;
  // The Argon2id cost of the (one) demo password hash; kMinimum only for tests.
  org::HashStrength password_strength = org::HashStrength::kInteractive;
};

struct DemoLogin {
  std::string username, password, role, department_code, department_name;
};

// Where the time went, in order of first occurrence: "plan", "roles", "password hash", "org"
// and "grid" (their transactions), "write <table>" (all INSERTs into that table over the run),
// "begin + commit" (of the customer transactions), "wait for generator", "generate
// (overlapped)" (on the second thread, hidden behind the writes), "finish".
struct DemoStageTime {
  std::string stage;
  double seconds = 0;
};

struct DemoSummary {
  uint64_t seed = 0;
  int64_t departments = 0;
  int64_t users = 0;
  int64_t substations = 0;
  int64_t feeders = 0;
  int64_t transformer_areas = 0;  // public and private
  int64_t private_transformer_areas = 0;
  int64_t customers = 0;
  int64_t residential = 0;
  int64_t commercial = 0;
  int64_t large_industry = 0;
  int64_t agricultural = 0;
  int64_t other = 0;
  int64_t contacts = 0;
  int64_t accounts = 0;
  int64_t metering_points = 0;
  int64_t meters = 0;
  int64_t installations = 0;
  int64_t installation_readings = 0;
  int64_t terminals = 0;
  int64_t public_transformer_terminals = 0;
  int64_t special_transformer_terminals = 0;
  int64_t large_customer_terminals = 0;
  int64_t substation_terminals = 0;
  int64_t terminal_meters = 0;
  std::vector<DemoLogin> logins;
  std::vector<DemoStageTime> stages;
  double elapsed_seconds = 0;
};

// Fills an empty, migrated database (app::AllMigrations) with the synthetic utility.
// FailedPrecondition, changing nothing, if it already holds customers or departments;
// InvalidArgument for a size outside 1..kMaxDemoCustomers.
// Deterministic: the same seed, size and clock reading give identical rows (ids included) on
// either backend, except the password hashes (salted) and the audit row's hash chain. Business
// dates (opened_on, installations, production dates) are placed before the clock's date in
// Asia/Shanghai (UTC+8); created_at_us/updated_at_us are the clock's reading.
// The writes are committed chunk by chunk: a failure part-way (disk full) leaves a partial demo,
// which a fresh database file replaces. Records one audit row (Actor::System("demo"), entity
// "demo") so the data's origin is attributable.
Result<DemoSummary> BuildDemo(store::Database& db, const Clock& clock, const DemoOptions& options);

// What was built, how long it took and how to log in, as lines of text for a terminal: the
// counts, the administrators' and the city's logins one per line, then the county and station
// logins by pattern. Ends with a newline.
std::string FormatSummary(const DemoSummary& summary);

}  // namespace gridmis::demo
