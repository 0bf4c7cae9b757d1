// Demo generation time into a real database.
//
//   demo_benchmark --customers 1000000 --db /tmp/demo.db [--seed N] [--fresh]
//   demo_benchmark --customers 20000 --db postgresql://...
//   demo_benchmark --customers 1000000 --db /tmp/x.db --fresh --drop customers_fts_ai
//
// --drop NAME (repeatable) is for diagnosis only: it drops a trigger or index after migrating, to
// measure what that schema object costs; the resulting file is not a valid gridmis database.
//
// Applies app::AllMigrations, builds the demo (SQLite opened with bulk_load, as `gridmis demo`
// does), and prints the total, the per-stage breakdown and the row counts. --fresh deletes an
// existing SQLite file (and its -wal/-shm) first; without it a non-empty database is refused.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "app/migrations.h"
#include "demo/demo.h"
#include "store/migrate.h"

namespace {

int Usage() {
  std::fprintf(stderr, "usage: demo_benchmark --customers N --db PATH|URL [--seed N] [--fresh]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using gridmis::demo::DemoOptions;
  DemoOptions options;
  options.customers = 1'000'000;
  std::string db_arg;
  bool fresh = false;
  std::vector<std::string> drops;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", argv[i]);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--customers") {
      options.customers = std::stoll(value());
    } else if (a == "--seed") {
      options.seed = std::stoull(value());
    } else if (a == "--db") {
      db_arg = value();
    } else if (a == "--fresh") {
      fresh = true;
    } else if (a == "--drop") {
      drops.push_back(value());
    } else {
      return Usage();
    }
  }
  if (db_arg.empty()) return Usage();
  std::string url = db_arg.find("://") == std::string::npos ? "sqlite://" + db_arg : db_arg;
  if (fresh && url.starts_with("sqlite://")) {
    std::string path = url.substr(9);
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  }

  gridmis::store::DatabaseOptions db_options;
  db_options.bulk_load = true;
  auto db = gridmis::store::Database::Open(url, db_options);
  if (!db.ok()) {
    std::fprintf(stderr, "%s\n", db.status().ToString().c_str());
    return 1;
  }
  const gridmis::Clock& clock = *gridmis::SystemClock::Get();
  auto t0 = std::chrono::steady_clock::now();
  gridmis::Status st =
      gridmis::store::Migrate(**db, gridmis::app::AllMigrations(), clock.NowMicros());
  if (!st.ok()) {
    std::fprintf(stderr, "migrate: %s\n", st.ToString().c_str());
    return 1;
  }
  double migrate_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (const std::string& name : drops) {
    st = (*db)->Write([&](gridmis::store::Connection& c) -> gridmis::Status {
      bool trigger = false;
      auto found = c.Query("SELECT type FROM sqlite_master WHERE name = $1", {name},
                           [&](const gridmis::store::Row& r) { trigger = r.Text(0) == "trigger"; });
      if (!found.ok()) return found;
      return c.ExecScript((trigger ? "DROP TRIGGER " : "DROP INDEX ") + name);
    });
    if (!st.ok()) {
      std::fprintf(stderr, "--drop %s: %s\n", name.c_str(), st.ToString().c_str());
      return 1;
    }
    std::printf("dropped      %s (diagnosis only)\n", name.c_str());
  }

  int64_t last_percent = -1;
  options.progress = [&](std::string_view stage, int64_t done, int64_t total) {
    if (stage != "customers" || total == 0) return;
    int64_t percent = done * 100 / total;
    if (percent / 10 != last_percent / 10) {
      std::fprintf(stderr, "  customers %3lld%% (%lld)\n", static_cast<long long>(percent),
                   static_cast<long long>(done));
      last_percent = percent;
    }
  };
  auto summary = gridmis::demo::BuildDemo(**db, clock, options);
  if (!summary.ok()) {
    std::fprintf(stderr, "demo: %s\n", summary.status().ToString().c_str());
    return 1;
  }
  const auto& s = *summary;
  std::printf("%s", gridmis::demo::FormatSummary(s).c_str());
  std::printf("database     %s\n", (*db)->Describe().c_str());
  std::printf("customers    %lld (seed %llu)\n", static_cast<long long>(s.customers),
              static_cast<unsigned long long>(s.seed));
  std::printf("migrate      %.2f s\n", migrate_s);
  std::printf("BuildDemo    %.2f s\n", s.elapsed_seconds);
  std::printf("stages:\n");
  for (const auto& stage : s.stages) {
    std::printf("  %-34s %8.2f s\n", stage.stage.c_str(), stage.seconds);
  }
  int64_t rows = s.departments + s.users * 2 + s.substations + s.feeders + s.transformer_areas +
                 s.customers + s.contacts + s.accounts + s.metering_points + s.meters +
                 s.installations + s.installation_readings + s.terminals + s.terminal_meters;
  std::printf("rows:\n");
  std::printf(
      "  departments %lld, users %lld, substations %lld, feeders %lld, areas %lld "
      "(%lld private)\n",
      static_cast<long long>(s.departments), static_cast<long long>(s.users),
      static_cast<long long>(s.substations), static_cast<long long>(s.feeders),
      static_cast<long long>(s.transformer_areas),
      static_cast<long long>(s.private_transformer_areas));
  std::printf(
      "  customers: residential %lld, commercial %lld, large_industry %lld, "
      "agricultural %lld, other %lld\n",
      static_cast<long long>(s.residential), static_cast<long long>(s.commercial),
      static_cast<long long>(s.large_industry), static_cast<long long>(s.agricultural),
      static_cast<long long>(s.other));
  std::printf(
      "  contacts %lld, accounts %lld, metering points %lld, meters %lld, "
      "installations %lld, readings %lld\n",
      static_cast<long long>(s.contacts), static_cast<long long>(s.accounts),
      static_cast<long long>(s.metering_points), static_cast<long long>(s.meters),
      static_cast<long long>(s.installations), static_cast<long long>(s.installation_readings));
  std::printf(
      "  terminals %lld (public %lld, special %lld, large customer %lld, substation "
      "%lld), terminal meters %lld\n",
      static_cast<long long>(s.terminals), static_cast<long long>(s.public_transformer_terminals),
      static_cast<long long>(s.special_transformer_terminals),
      static_cast<long long>(s.large_customer_terminals),
      static_cast<long long>(s.substation_terminals), static_cast<long long>(s.terminal_meters));
  std::printf("  total %lld rows, %.0f rows/s\n", static_cast<long long>(rows),
              static_cast<double>(rows) / s.elapsed_seconds);
  return 0;
}
