// LoadBillableReads over a generated database: the bill run's read path for N metering points.
//
//   billable_benchmark [--points 1000000] [--db sqlite:///tmp/billable_bench.db] [--reuse]
//                      [--daily]
//
// Generates (unless --reuse finds the database filled) one company with ten stations, N billing
// points with a meter each (1 % replaced during December, the new meter with a CT of 200/5),
// approved reads for 2026-11 and 2026-12, then pages through December with the contract's
// default page size and prints the time, rows and spans. --daily also fills and loads the daily
// frozen totals of 1 % of the points. A benchmark, not a test: figures go to docs/.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

#include "app/migrations.h"
#include "core/time.h"
#include "reading/billable.h"
#include "reading/review.h"
#include "store/migrate.h"

namespace gridmis::reading {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

Status Check(const Status& s, const char* what) {
  if (!s.ok()) std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
  return s;
}

Status Generate(store::Database& db, int64_t points, bool daily) {
  const int64_t now = 1'800'000'000'000'000;
  auto zone = TimeZone::Load("Asia/Shanghai");
  RETURN_IF_ERROR(zone.status());
  const int64_t installed = zone->StartOfDay(Date{2026, 10, 1}) + 10 * 3600 * kMicrosPerSecond;
  const int64_t swapped = zone->StartOfDay(Date{2026, 12, 10}) + 9 * 3600 * kMicrosPerSecond;
  return db.Write([&](store::Connection& c) -> Status {
    RETURN_IF_ERROR(c.Exec("INSERT INTO departments (id, code, name, kind, parent_id, path, "
                           "created_at_us, updated_at_us) VALUES (1, 'GS', '公司', 'company', "
                           "NULL, '/1/', $1, $1)",
                           {now})
                        .status());
    for (int64_t s = 2; s <= 11; ++s) {
      RETURN_IF_ERROR(c.Exec("INSERT INTO departments (id, code, name, kind, parent_id, path, "
                             "created_at_us, updated_at_us) VALUES ($1, $2, $3, 'station', 1, $4, "
                             "$5, $5)",
                             {s, "GS" + std::to_string(s), "供电所" + std::to_string(s),
                              "/1/" + std::to_string(s) + "/", now})
                          .status());
    }
    ASSIGN_OR_RETURN(auto customer,
                     c.Prepare("INSERT INTO customers (id, customer_no, name, category, address, "
                               "department_id, created_at_us, updated_at_us) VALUES ($1, $2, $3, "
                               "'residential', '地址', $4, $5, $5)"));
    ASSIGN_OR_RETURN(auto point,
                     c.Prepare("INSERT INTO metering_points (id, code, customer_id, department_id, "
                               "voltage_v, tariff_code, created_at_us, updated_at_us) VALUES ($1, "
                               "$2, $3, $4, 220, 'RES', $5, $5)"));
    ASSIGN_OR_RETURN(auto meter,
                     c.Prepare("INSERT INTO meters (id, asset_no, make, model, phases, "
                               "accuracy_class, registers, ct_primary_a, ct_secondary_a, "
                               "multiplier, status, department_id, register_integer_digits, "
                               "created_at_us, updated_at_us) VALUES ($1, $2, 'm', 'm', 1, '2', "
                               "'total,peak,valley', $3, $4, $5, $6, $7, 6, $8, $8)"));
    ASSIGN_OR_RETURN(auto install,
                     c.Prepare("INSERT INTO meter_installations (id, meter_id, metering_point_id, "
                               "installed_at_us, removed_at_us, install_reason, remove_reason, "
                               "multiplier, created_at_us, updated_at_us) VALUES ($1, $2, $3, $4, "
                               "$5, $6, $7, $8, $9, $9)"));
    ASSIGN_OR_RETURN(auto reading,
                     c.Prepare("INSERT INTO installation_readings (installation_id, event, "
                               "register, value_dwh) VALUES ($1, $2, $3, $4)"));
    ASSIGN_OR_RETURN(auto read,
                     c.Prepare("INSERT INTO meter_reads (metering_point_id, period, "
                               "installation_id, read_date, total_dwh, peak_dwh, valley_dwh, "
                               "multiplier, source, status, billable, consumption_dwh, "
                               "first_day, days, created_at_us, updated_at_us) VALUES ($1, $2, "
                               "$3, $4, $5, $6, $7, $8, 'frozen', 'approved', 1, $9, $10, $11, "
                               "$12, $12)"));
    ASSIGN_OR_RETURN(auto frozen,
                     c.Prepare("INSERT INTO daily_frozen_reads (day, metering_point_id, "
                               "multiplier, total_dwh) VALUES ($1, $2, $3, $4)"));
    int64_t next_install = 1;
    for (int64_t p = 1; p <= points; ++p) {
      int64_t dept = 2 + p % 10;
      int64_t cust = (p - 1) / 1000 + 1;
      if (p % 1000 == 1) {
        RETURN_IF_ERROR(
            customer->Run({cust, "C" + std::to_string(cust), "客户", dept, now}).status());
      }
      RETURN_IF_ERROR(point->Run({p, "MP" + std::to_string(p), cust, dept, now}).status());
      bool replaced = p % 100 == 0;
      RETURN_IF_ERROR(meter
                          ->Run({p, "M" + std::to_string(p), 1, 1, 1,
                                 replaced ? "removed" : "installed", dept, now})
                          .status());
      int64_t first = next_install++;
      RETURN_IF_ERROR(
          install
              ->Run({first, p, p, installed, replaced ? store::Value(swapped) : store::Value(),
                     "new", replaced ? store::Value("fault") : store::Value(), int64_t{1}, now})
              .status());
      for (const char* reg : {"total", "peak", "valley"}) {
        RETURN_IF_ERROR(reading->Run({first, "install", reg, int64_t{0}}).status());
      }
      int64_t use = 1'000'000 + p % 5000 * 100;  // 100.0000 kWh and up, in dWh
      int64_t last = first;
      int64_t multiplier = 1;
      if (replaced) {
        for (auto [reg, v] : {std::pair{"total", use + use / 2}, std::pair{"peak", use},
                              std::pair{"valley", use / 2}}) {
          RETURN_IF_ERROR(reading->Run({first, "remove", reg, v}).status());
        }
        last = next_install++;
        multiplier = 40;
        RETURN_IF_ERROR(
            meter->Run({points + p, "N" + std::to_string(p), 200, 5, 40, "installed", dept, now})
                .status());
        RETURN_IF_ERROR(install
                            ->Run({last, points + p, p, swapped, store::Value(), "replacement",
                                   store::Value(), multiplier, now})
                            .status());
        for (const char* reg : {"total", "peak", "valley"}) {
          RETURN_IF_ERROR(reading->Run({last, "install", reg, int64_t{0}}).status());
        }
      }
      RETURN_IF_ERROR(read->Run({p, int64_t{202611}, first, int64_t{20261125}, use, use / 2,
                                 use / 2, int64_t{1}, use, int64_t{20261001}, int64_t{56}, now})
                          .status());
      int64_t end = replaced ? use / 4 : 2 * use;
      RETURN_IF_ERROR(
          read->Run({p, int64_t{202612}, last, int64_t{20261225}, end, end / 2, end - end / 2,
                     multiplier, use, int64_t{20261126}, int64_t{30}, now})
              .status());
      if (daily && p % 100 == 1) {
        for (int d = 0; d <= 30; ++d) {
          Date day = Date{2026, 11, 26}.AddDays(d);
          RETURN_IF_ERROR(frozen->Run({DayKey(day), p, int64_t{1}, use + use * d / 30}).status());
        }
      }
    }
    return Status::Ok();
  });
}

int Main(int argc, char** argv) {
  int64_t points = 1'000'000;
  std::string url = "sqlite:///tmp/billable_bench.db";
  bool reuse = false, daily = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--points") && i + 1 < argc) {
      points = std::atoll(argv[++i]);
    } else if (!std::strcmp(argv[i], "--db") && i + 1 < argc) {
      url = argv[++i];
    } else if (!std::strcmp(argv[i], "--reuse")) {
      reuse = true;
    } else if (!std::strcmp(argv[i], "--daily")) {
      daily = true;
    } else {
      std::fprintf(stderr, "usage: %s [--points N] [--db URL] [--reuse] [--daily]\n", argv[0]);
      return 2;
    }
  }
  if (!reuse && url.rfind("sqlite://", 0) == 0) {
    std::string path = url.substr(9);
    std::remove(path.c_str());
    std::remove((path + "-wal").c_str());
    std::remove((path + "-shm").c_str());
  }
  {
    store::DatabaseOptions o;
    o.bulk_load = true;
    auto db = store::Database::Open(url, o);
    if (!Check(db.status(), "open").ok()) return 1;
    auto t0 = Clock::now();
    if (!Check(store::Migrate(**db, app::AllMigrations(), 0), "migrate").ok()) return 1;
    auto n = (*db)->ReadValue<int64_t>(
        [](store::Connection& c) { return c.QueryInt("SELECT COUNT(*) FROM metering_points"); });
    if (!n.ok() || *n == 0) {
      if (!Check(Generate(**db, points, daily), "generate").ok()) return 1;
      std::printf("generated %lld points in %.1f s\n", static_cast<long long>(points), Seconds(t0));
    }
  }
  auto db = store::Database::Open(url);
  if (!Check(db.status(), "open").ok()) return 1;
  BillableQuery q;
  q.period = {2026, 12};
  q.department_id = 1;
  q.with_daily_total = daily;
  int64_t rows = 0, pages = 0, spans = 0, two_spans = 0, with_daily = 0, unbillable = 0;
  auto t0 = Clock::now();
  std::clock_t cpu0 = std::clock();
  Status st = (*db)->Read([&](store::Connection& c) -> Status {
    for (;;) {
      ASSIGN_OR_RETURN(auto page, LoadBillableReads(c, q));
      if (page.empty()) break;
      ++pages;
      for (const auto& r : page) {
        ++rows;
        spans += static_cast<int64_t>(r.spans.size());
        if (r.spans.size() == 2) ++two_spans;
        if (!r.daily_total.empty()) ++with_daily;
      }
      q.after_point_id = page.back().metering_point_id;
    }
    return Status::Ok();
  });
  double load = Seconds(t0);
  double load_cpu = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
  if (!Check(st, "load").ok()) return 1;
  t0 = Clock::now();
  st = (*db)->Read([&](store::Connection& c) -> Status {
    ASSIGN_OR_RETURN(unbillable, CountUnbillable(c, q));
    return Status::Ok();
  });
  double count = Seconds(t0);
  if (!Check(st, "count").ok()) return 1;
  std::printf(
      "LoadBillableReads %s: %lld reads in %lld pages of %d, %lld spans (%lld with a "
      "replacement), %lld with daily totals: %.2f s, %.2f s of CPU (%.0f reads/s)\n"
      "CountUnbillable: %lld in %.2f s\n",
      (*db)->Describe().c_str(), static_cast<long long>(rows), static_cast<long long>(pages),
      q.limit, static_cast<long long>(spans), static_cast<long long>(two_spans),
      static_cast<long long>(with_daily), load, load_cpu, rows / load,
      static_cast<long long>(unbillable), count);
  return rows == points ? 0 : 1;
}

}  // namespace
}  // namespace gridmis::reading

int main(int argc, char** argv) { return gridmis::reading::Main(argc, argv); }
