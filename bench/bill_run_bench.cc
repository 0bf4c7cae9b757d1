// The bill run over N metering points: bills per second, peak memory, and the ratio of the run's
// time to a pass that reads the same inputs and writes the same rows without rating.
//
//   bill_run_bench [--points 100000] [--db sqlite:///tmp/bill_run_bench.db] [--reuse]
//                  [--setup-only] [--no-io-pass] [--no-pipeline] [--page N]
//
// The mix is tariffs.md's: 90 % residential tiers (residential_lv), 8 % commercial TOU
// (commercial_lv), 2 % large industry two-part with power factor (large_industry_10kv, CT/PT,
// capacity or declared demand) of the nmg_west catalogue. The generator writes, directly in the
// database: one company with ten stations, a customer (with an account) per ten points, a meter
// per point installed 2026-10-01, and approved reads for 2026-11 and 2026-12. Then, each phase in
// its own process (so that its peak RSS is its own):
//   1. the November bill run (so that December has last month's bills and a tier cumulative),
//   2. the I/O pass for December: the same pages of reads, points and prior bills in, the same
//      bills and lines out (each tariff's bill rated once and reused), on a copy of the SQLite
//      file (on PostgreSQL in place, then deleted and vacuumed),
//   3. the December bill run: the figure.
// --setup-only stops after generating (the CLI test uses it to make a database). A benchmark,
// not a test: the figures go to docs/benchmarks.md.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <map>
#include <string>

#include "app/migrations.h"
#include "billing/billing.h"
#include "billing/internal/billing_internal.h"
#include "core/time.h"
#include "jobs/jobs.h"
#include "rating/tariff.h"
#include "reading/billable.h"
#include "store/migrate.h"

namespace gridmis::billing {
namespace {

using SteadyClock = std::chrono::steady_clock;

double Seconds(SteadyClock::time_point since) {
  return std::chrono::duration<double>(SteadyClock::now() - since).count();
}

double PeakRssMb() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

Status Check(const Status& s, const char* what) {
  if (!s.ok()) std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
  return s;
}

// ---- The generator ----

enum class Kind { kResidential, kCommercial, kIndustry };

Kind KindOf(int64_t p) {
  int64_t r = p % 100;
  if (r < 90) return Kind::kResidential;
  if (r < 98) return Kind::kCommercial;
  return Kind::kIndustry;
}

// Rows of one table, written with multi-row INSERTs on Flush() (parents before children, so
// that foreign keys hold at every statement).
class Inserter {
 public:
  Inserter(store::Connection& c, std::string table, std::vector<std::string> cols)
      : c_(c), table_(std::move(table)), cols_(std::move(cols)) {
    rows_per_ = std::max<size_t>(1, 4000 / cols_.size());
  }
  Status Add(store::Params row) {
    if (row.size() != cols_.size()) {
      return Internal(table_ + ": " + std::to_string(row.size()) + " values for " +
                      std::to_string(cols_.size()) + " columns");
    }
    for (auto& v : row) buf_.push_back(std::move(v));
    return Status::Ok();
  }
  Status Flush() {
    size_t rows = buf_.size() / cols_.size();
    size_t at = 0;
    store::Params batch;
    while (rows > 0) {
      size_t n = std::min(rows, rows_per_);
      std::unique_ptr<store::Statement> once;
      store::Statement* st = nullptr;
      if (n == rows_per_) {
        if (!full_) {
          ASSIGN_OR_RETURN(full_, c_.Prepare(Sql(n)));
        }
        st = full_.get();
      } else {
        ASSIGN_OR_RETURN(once, c_.Prepare(Sql(n)));
        st = once.get();
      }
      batch.assign(std::make_move_iterator(buf_.begin() + at * cols_.size()),
                   std::make_move_iterator(buf_.begin() + (at + n) * cols_.size()));
      RETURN_IF_ERROR(st->Run(batch).status());
      at += n;
      rows -= n;
    }
    buf_.clear();
    return Status::Ok();
  }

 private:
  std::string Sql(size_t rows) const {
    std::string s = "INSERT INTO " + table_ + " (";
    for (size_t i = 0; i < cols_.size(); ++i) s += (i ? ", " : "") + cols_[i];
    s += ") VALUES ";
    size_t n = 1;
    for (size_t r = 0; r < rows; ++r) {
      s += r ? ",(" : "(";
      for (size_t i = 0; i < cols_.size(); ++i) s += (i ? ",$" : "$") + std::to_string(n++);
      s += ")";
    }
    return s;
  }
  store::Connection& c_;
  std::string table_;
  std::vector<std::string> cols_;
  size_t rows_per_;
  store::Params buf_;
  std::unique_ptr<store::Statement> full_;
};

Status Generate(store::Database& db, int64_t points) {
  const int64_t now = 1'800'000'000'000'000;
  auto zone = TimeZone::Load("Asia/Shanghai");
  RETURN_IF_ERROR(zone.status());
  const int64_t installed = zone->StartOfDay(Date{2026, 10, 1}) + 10 * 3600 * kMicrosPerSecond;
  return db.Write([&](store::Connection& c) -> Status {
    RETURN_IF_ERROR(c.Exec("INSERT INTO departments (id, code, name, kind, parent_id, path, "
                           "created_at_us, updated_at_us) VALUES (1, 'GS', '示范供电公司', "
                           "'company', NULL, '/1/', $1, $1)",
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
    Inserter customers(c, "customers",
                       {"id", "customer_no", "name", "category", "address", "department_id",
                        "created_at_us", "updated_at_us"});
    Inserter accounts(c, "accounts",
                      {"id", "account_no", "customer_id", "name", "department_id", "created_at_us",
                       "updated_at_us"});
    Inserter mps(c, "metering_points",
                 {"id", "code", "customer_id", "department_id", "voltage_v", "tariff_code",
                  "contracted_capacity_kva", "pf_standard", "metering_side", "created_at_us",
                  "updated_at_us"});
    Inserter meters(
        c, "meters",
        {"id", "asset_no", "make", "model", "phases", "accuracy_class", "registers", "ct_primary_a",
         "ct_secondary_a", "pt_primary_v", "pt_secondary_v", "multiplier", "status",
         "department_id", "register_integer_digits", "created_at_us", "updated_at_us"});
    Inserter installs(c, "meter_installations",
                      {"id", "meter_id", "metering_point_id", "installed_at_us", "install_reason",
                       "multiplier", "created_at_us", "updated_at_us"});
    Inserter readings(c, "installation_readings",
                      {"installation_id", "event", "register", "value_dwh"});
    Inserter reads(c, "meter_reads",
                   {"metering_point_id", "period", "installation_id", "read_date", "total_dwh",
                    "peak_dwh", "flat_dwh", "valley_dwh", "reactive_import_dwh", "max_demand_dwh",
                    "multiplier", "source", "status", "billable", "consumption_dwh", "first_day",
                    "days", "created_at_us", "updated_at_us"});
    Inserter params(c, "billing_parameters",
                    {"metering_point_id", "basic_mode", "declared_demand_kw", "created_at_us",
                     "updated_at_us"});
    auto flush_all = [&]() -> Status {
      for (Inserter* i :
           {&customers, &accounts, &mps, &meters, &installs, &readings, &reads, &params}) {
        RETURN_IF_ERROR(i->Flush());
      }
      return Status::Ok();
    };
    for (int64_t p = 1; p <= points; ++p) {
      if (p % 5000 == 0) RETURN_IF_ERROR(flush_all());
      int64_t dept = 2 + (p / 1000) % 10;  // runs of 1000 points per station
      int64_t cust = (p - 1) / 10 + 1;
      Kind kind = KindOf(p);
      if ((p - 1) % 10 == 0) {
        std::string no = "15" + std::to_string(100'000'000 + cust);
        RETURN_IF_ERROR(customers.Add({cust, no, "客户" + std::to_string(cust),
                                       kind == Kind::kResidential ? "residential" : "commercial",
                                       "集宁区" + std::to_string(cust) + "号", dept, now, now}));
        RETURN_IF_ERROR(
            accounts.Add({cust, "A" + no, cust, "客户" + std::to_string(cust), dept, now, now}));
      }
      const char* tariff = kind == Kind::kResidential  ? "residential_lv"
                           : kind == Kind::kCommercial ? "commercial_lv"
                                                       : "large_industry_10kv";
      int64_t volts = kind == Kind::kResidential ? 220 : kind == Kind::kCommercial ? 380 : 10'000;
      int64_t kva = kind == Kind::kIndustry ? (p % 2 ? 630 : 1000) : 0;
      RETURN_IF_ERROR(mps.Add({p, "MP" + std::to_string(p), cust, dept, volts, tariff, kva,
                               kind == Kind::kIndustry ? "0.90" : "none", "high", now, now}));
      std::string regs = kind == Kind::kResidential  ? "total"
                         : kind == Kind::kCommercial ? "total,peak,flat,valley"
                                                     : "total,peak,flat,valley,reactive_import,"
                                                       "max_demand";
      bool ctpt = kind == Kind::kIndustry;
      int64_t mult = ctpt ? 2000 : 1;
      RETURN_IF_ERROR(
          meters.Add({p, "M" + std::to_string(p), "威胜", "DTZ341",
                      int64_t{kind == Kind::kResidential ? 1 : 3}, "1", regs,
                      int64_t{ctpt ? 100 : 1}, int64_t{ctpt ? 5 : 1}, int64_t{ctpt ? 10000 : 1},
                      int64_t{ctpt ? 100 : 1}, mult, "installed", dept, int64_t{6}, now, now}));
      RETURN_IF_ERROR(installs.Add({p, p, p, installed, "new", mult, now, now}));
      // Register values: Nov = 1×use, Dec = 2×use (+ a little) from 0 at installation.
      int64_t use = 0;  // dWh per period on the total register (before the multiplier)
      if (kind == Kind::kResidential) use = (100 + p % 300) * 10'000;
      if (kind == Kind::kCommercial) use = (1000 + p % 4000) * 10'000;
      if (kind == Kind::kIndustry) use = (80 + p % 60) * 10'000;
      auto tou = [&](int64_t total, double share) {
        return static_cast<int64_t>(static_cast<double>(total / 10'000) * share) * 10'000;
      };
      auto add_readings = [&](int64_t id) -> Status {
        RETURN_IF_ERROR(readings.Add({id, "install", "total", int64_t{0}}));
        if (kind != Kind::kResidential) {
          for (const char* r : {"peak", "flat", "valley"}) {
            RETURN_IF_ERROR(readings.Add({id, "install", r, int64_t{0}}));
          }
        }
        if (kind == Kind::kIndustry) {
          RETURN_IF_ERROR(readings.Add({id, "install", "reactive_import", int64_t{0}}));
          RETURN_IF_ERROR(readings.Add({id, "install", "max_demand", int64_t{0}}));
        }
        return Status::Ok();
      };
      RETURN_IF_ERROR(add_readings(p));
      for (int month : {11, 12}) {
        int64_t total = use * (month - 10) + (month == 12 ? (p % 7) * 10'000 : 0);
        store::Value peak, flat, valley, reactive, demand;
        if (kind != Kind::kResidential) {
          int64_t pk = tou(total, 0.4), fl = tou(total, 0.3);
          peak = pk;
          flat = fl;
          valley = total - pk - fl;
        }
        if (kind == Kind::kIndustry) {
          reactive = total * 45 / 100;
          demand = int64_t{2000 + p % 1000};  // 0.2xxx kW × 2000
        }
        int64_t period = 202600 + month;
        int64_t read_date = 20260000 + month * 100 + 25;
        int64_t first_day = month == 11 ? 20261001 : 20261126;
        int64_t days = month == 11 ? 56 : 30;
        RETURN_IF_ERROR(
            reads.Add({p, period, p, read_date, total, peak, flat, valley, reactive, demand, mult,
                       "frozen", "approved", int64_t{1}, (month == 11 ? total : total - use) * mult,
                       first_day, days, now, now}));
      }
      if (kind == Kind::kIndustry) {
        bool declared = p % 4 == 0;
        RETURN_IF_ERROR(
            params.Add({p, declared ? "declared_demand" : "capacity",
                        declared ? store::Value(int64_t{kva / 2}) : store::Value(), now, now}));
      }
    }
    RETURN_IF_ERROR(flush_all());
    for (const char* t : {"departments", "customers", "accounts", "metering_points", "meters",
                          "meter_installations", "meter_reads"}) {
      RETURN_IF_ERROR(db.ResetIdentity(c, t));
    }
    return Status::Ok();
  });
}

// ---- Phases ----

struct Env {
  std::unique_ptr<store::Database> db;
  std::shared_ptr<const rating::TariffCatalogue> catalogue;
  TimeZone tz;
};

Result<Env> Open(const std::string& url) {
  Env e;
  ASSIGN_OR_RETURN(e.db, store::Database::Open(url));
  ASSIGN_OR_RETURN(e.catalogue, rating::TariffCatalogue::Load("nmg_west"));
  ASSIGN_OR_RETURN(e.tz, TimeZone::Load("Asia/Shanghai"));
  return e;
}

struct RunFigures {
  int64_t bills = 0;
  int64_t lines = 0;
  double seconds = 0;
  double cpu_seconds = 0;
  double rss_mb = 0;
  // The I/O pass's parts.
  double t_reads = 0, t_points = 0, t_prior = 0, t_make = 0, t_write = 0;
};

Result<RunFigures> RunPhase(const std::string& url, YearMonth period, const BillingOptions& o) {
  ASSIGN_OR_RETURN(Env e, Open(url));
  jobs::JobRunner runner(*e.db, *SystemClock::Get());
  BillingService billing(*e.db, *SystemClock::Get(), e.tz, e.catalogue, runner, o);
  org::Actor sys = org::Actor::System("bench");
  auto t0 = SteadyClock::now();
  std::clock_t cpu0 = std::clock();
  ASSIGN_OR_RETURN(BillRun run, billing.StartRun(sys, {.period = period,
                                                       .department_id = 1,
                                                       .claim_for_this_process = true}));
  ASSIGN_OR_RETURN(jobs::Job job, runner.RunNow(run.job_id));
  if (job.status != "succeeded") return Internal("the run " + job.status + ": " + job.error);
  RunFigures f;
  f.seconds = Seconds(t0);
  f.cpu_seconds = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
  ASSIGN_OR_RETURN(BillRun done, billing.GetRun(sys, run.id));
  f.bills = done.bills;
  ASSIGN_OR_RETURN(f.lines, e.db->ReadValue<int64_t>([&](store::Connection& c) {
    return c.QueryInt(
        "SELECT COUNT(*) FROM bill_lines l JOIN bills b ON b.id = l.bill_id WHERE b.run_id = $1",
        {run.id});
  }));
  if (done.exceptions > 0) {
    std::fprintf(stderr, "  %lld exceptions\n", static_cast<long long>(done.exceptions));
  }
  f.rss_mb = PeakRssMb();
  return f;
}

// The same pages in and the same rows out, without rating: each tariff's bill is rated once and
// reused for every read of that tariff.
Result<RunFigures> IoPass(const std::string& url, YearMonth period, int page_size) {
  ASSIGN_OR_RETURN(Env e, Open(url));
  std::map<std::string, rating::RatedBill> templates;
  reading::BillableQuery base;
  base.period = period;
  base.department_id = 1;
  base.time_zone = e.tz.name();
  auto t0 = SteadyClock::now();
  std::clock_t cpu0 = std::clock();
  RunFigures f;
  int64_t after = 0;
  while (true) {
    std::vector<reading::BillableRead> reads;
    std::map<int64_t, PointInfo> points;
    std::map<int64_t, PriorBills> prior;
    RETURN_IF_ERROR(e.db->Read([&](store::Connection& c) -> Status {
      reading::BillableQuery q = base;
      q.after_point_id = after;
      q.limit = page_size;
      auto t = SteadyClock::now();
      ASSIGN_OR_RETURN(reads, reading::LoadBillableReads(c, q));
      f.t_reads += Seconds(t);
      if (reads.empty()) return Status::Ok();
      std::vector<int64_t> ids;
      for (const auto& r : reads) ids.push_back(r.metering_point_id);
      t = SteadyClock::now();
      ASSIGN_OR_RETURN(points, LoadPoints(c, ids));
      f.t_points += Seconds(t);
      t = SteadyClock::now();
      ASSIGN_OR_RETURN(prior, LoadPriorBills(c, ids, period));
      f.t_prior += Seconds(t);
      return Status::Ok();
    }));
    if (reads.empty()) break;
    after = reads.back().metering_point_id;
    std::vector<NewBill> bills;
    auto tm = SteadyClock::now();
    int64_t now = SystemClock::Get()->NowMicros();
    for (const auto& read : reads) {
      const PointInfo& point = points.at(read.metering_point_id);
      auto it = templates.find(point.tariff_code);
      if (it == templates.end()) {
        ASSIGN_OR_RETURN(rating::RatedBill rated,
                         rating::Rate(BuildInput(read, point, 0), *e.catalogue));
        it = templates.emplace(point.tariff_code, std::move(rated)).first;
      }
      bills.push_back(MakeBill(read, point, period, it->second, {}, std::nullopt, 1, std::nullopt,
                               std::nullopt, now));
    }
    f.t_make += Seconds(tm);
    auto tw = SteadyClock::now();
    RETURN_IF_ERROR(e.db->Write([&](store::Connection& c) -> Status {
      RETURN_IF_ERROR(BillsOfPeriod(c, period, bills.front().bill.metering_point_id,
                                    bills.back().bill.metering_point_id)
                          .status());
      return InsertBills(c, bills);
    }));
    f.t_write += Seconds(tw);
    f.bills += static_cast<int64_t>(bills.size());
    for (const auto& b : bills) f.lines += static_cast<int64_t>(b.rated.lines.size());
  }
  f.seconds = Seconds(t0);
  f.cpu_seconds = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
  f.rss_mb = PeakRssMb();
  if (e.db->dialect() == store::Dialect::kPostgres) {
    // Leave the period as it was (SQLite runs this pass on a copy of the file instead).
    RETURN_IF_ERROR(e.db->Write([&](store::Connection& c) -> Status {
      RETURN_IF_ERROR(c.Exec("DELETE FROM bill_lines WHERE bill_id IN (SELECT id FROM bills "
                             "WHERE period = $1)",
                             {period.ToString()})
                          .status());
      return c.Exec("DELETE FROM bills WHERE period = $1", {period.ToString()}).status();
    }));
    RETURN_IF_ERROR(e.db->Read([](store::Connection& c) -> Status {
      RETURN_IF_ERROR(c.Exec("VACUUM ANALYZE bill_lines").status());
      return c.Exec("VACUUM ANALYZE bills").status();
    }));
  }
  return f;
}

// Runs `fn` in a child process (its peak RSS its own); the figures come back through a pipe.
Result<RunFigures> InChild(const std::function<Result<RunFigures>()>& fn) {
  int fds[2];
  if (pipe(fds) != 0) return Internal("pipe failed");
  pid_t pid = fork();
  if (pid < 0) return Internal("fork failed");
  if (pid == 0) {
    close(fds[0]);
    auto r = fn();
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
      _exit(1);
    }
    ssize_t n = write(fds[1], &*r, sizeof(RunFigures));
    _exit(n == sizeof(RunFigures) ? 0 : 1);
  }
  close(fds[1]);
  RunFigures f;
  ssize_t n = read(fds[0], &f, sizeof(f));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (n != sizeof(f) || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Internal("the phase failed");
  }
  return f;
}

void Report(const char* what, const RunFigures& f) {
  std::printf(
      "%-22s %9lld bills %9lld lines  %7.2f s  %9.0f bills/s  cpu %6.2f s  peak RSS %6.0f MB\n",
      what, static_cast<long long>(f.bills), static_cast<long long>(f.lines), f.seconds,
      f.seconds > 0 ? static_cast<double>(f.bills) / f.seconds : 0.0, f.cpu_seconds, f.rss_mb);
  std::fflush(stdout);
}

int Main(int argc, char** argv) {
  int64_t points = 100'000;
  std::string url = "sqlite:///tmp/bill_run_bench.db";
  bool reuse = false, setup_only = false, io_pass = true;
  BillingOptions o;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--points") && i + 1 < argc) {
      points = std::atoll(argv[++i]);
    } else if (!std::strcmp(argv[i], "--db") && i + 1 < argc) {
      url = argv[++i];
    } else if (!std::strcmp(argv[i], "--page") && i + 1 < argc) {
      o.page_size = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--reuse")) {
      reuse = true;
    } else if (!std::strcmp(argv[i], "--setup-only")) {
      setup_only = true;
    } else if (!std::strcmp(argv[i], "--no-io-pass")) {
      io_pass = false;
    } else if (!std::strcmp(argv[i], "--no-pipeline")) {
      o.pipeline = false;
    } else {
      std::fprintf(stderr,
                   "usage: %s [--points N] [--db URL] [--reuse] [--setup-only] [--no-io-pass] "
                   "[--no-pipeline] [--page N]\n",
                   argv[0]);
      return 2;
    }
  }
  if (!reuse && url.rfind("sqlite://", 0) == 0) {
    std::string path = url.substr(9);
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
  }
  std::printf(
      "bill run benchmark: %lld points (90 %% residential, 8 %% commercial TOU, 2 %% large "
      "industry) on %s\n",
      static_cast<long long>(points), url.c_str());
  bool generated = false;
  {
    store::DatabaseOptions dbo;
    dbo.bulk_load = true;
    auto db = store::Database::Open(url, dbo);
    if (!Check(db.status(), "open").ok()) return 1;
    auto t0 = SteadyClock::now();
    if (!Check(store::Migrate(**db, app::AllMigrations(), 0), "migrate").ok()) return 1;
    auto n = (*db)->ReadValue<int64_t>(
        [](store::Connection& c) { return c.QueryInt("SELECT COUNT(*) FROM metering_points"); });
    if (!n.ok() || *n == 0) {
      if (!Check(Generate(**db, points), "generate").ok()) return 1;
      if ((*db)->dialect() == store::Dialect::kPostgres) {
        // Statistics, as autovacuum keeps them on a database in use (a fresh bulk load has none).
        Status st = (*db)->Read([](store::Connection& c) { return c.Exec("ANALYZE").status(); });
        if (!Check(st, "analyze").ok()) return 1;
      }
      std::printf("generated in %.1f s\n", Seconds(t0));
      generated = true;
    }
  }
  if (setup_only) return 0;
  (void)generated;
  auto nov = InChild([&] { return RunPhase(url, {2026, 11}, o); });
  if (!nov.ok()) {
    // With --reuse the November bills may be there already.
    std::printf("November run skipped or failed (already billed with --reuse?)\n");
  } else {
    Report("run 2026-11", *nov);
  }
  std::optional<RunFigures> io;
  if (io_pass) {
    // On SQLite the pass writes into a copy of the database file, so that the run below finds
    // the file exactly as it would without the pass.
    std::string io_url = url;
    if (url.rfind("sqlite://", 0) == 0) {
      std::string path = url.substr(9);
      std::string copy = path + ".io";
      std::string cmd = "cp '" + path + "' '" + copy + "'";
      if (std::system(cmd.c_str()) != 0) {
        std::fprintf(stderr, "could not copy %s\n", path.c_str());
        return 1;
      }
      io_url = "sqlite://" + copy;
    }
    auto r = InChild([&] { return IoPass(io_url, {2026, 12}, o.page_size); });
    if (io_url != url) {
      for (const char* suffix : {"", "-wal", "-shm"}) {
        std::remove((io_url.substr(9) + suffix).c_str());
      }
    }
    if (!Check(r.status(), "io pass").ok()) return 1;
    io = *r;
    Report("I/O pass 2026-12", *io);
    std::printf(
        "  of which: reads %.2f s, points %.2f s, prior bills %.2f s, making rows %.2f s, "
        "writing %.2f s\n",
        io->t_reads, io->t_points, io->t_prior, io->t_make, io->t_write);
  }
  auto dec = InChild([&] { return RunPhase(url, {2026, 12}, o); });
  if (!Check(dec.status(), "run").ok()) return 1;
  Report("run 2026-12", *dec);
  if (io) {
    // The run reads and rates the next page on a second thread while it writes, the I/O pass
    // does everything on one: compare the CPU time too.
    std::printf("run / I/O pass: wall %.2f, cpu %.2f (rating and the pipeline add %.2f s cpu)\n",
                dec->seconds / io->seconds, dec->cpu_seconds / io->cpu_seconds,
                dec->cpu_seconds - io->cpu_seconds);
  }
  return 0;
}

}  // namespace
}  // namespace gridmis::billing

int main(int argc, char** argv) { return gridmis::billing::Main(argc, argv); }
