// gridmis: one binary, subcommands.
//
//   gridmis serve    [--config F] [--db URL] [--listen HOST:PORT]
//   gridmis migrate  [--config F] [--db URL] [--status]
//   gridmis user create --username U --password P --role ROLE --department CODE [--name N]
//   gridmis demo     [--seed N] [--customers N] [--fresh] [--no-serve] [--config F] [--db URL]
//   [--listen H:P] gridmis openapi  prints the OpenAPI document gridmis version
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/app.h"
#include "app/migrations.h"
#include "core/config.h"
#include "core/log.h"
#include "demo/demo.h"
#include "http/router.h"
#include "org/org.h"
#include "store/db.h"
#include "store/migrate.h"

namespace gridmis {
namespace {

struct CommonFlags {
  std::string config_path;
  std::string db_url;
  std::string listen;
};

void AddCommon(CLI::App* cmd, CommonFlags* f, bool server) {
  cmd->add_option("--config", f->config_path, "TOML configuration file");
  cmd->add_option("--db", f->db_url, "database URL: sqlite://PATH or postgresql://...");
  if (server) cmd->add_option("--listen", f->listen, "HOST:PORT to serve on");
}

Result<Config> LoadWithFlags(const CommonFlags& f) {
  std::optional<std::string> path;
  if (!f.config_path.empty()) path = f.config_path;
  ASSIGN_OR_RETURN(Config c, LoadConfig(path));
  if (!f.db_url.empty()) c.database_url = f.db_url;
  if (!f.listen.empty()) c.listen = f.listen;
  RETURN_IF_ERROR(ValidateConfig(c));
  InitLogging(c.log_level);
  return c;
}

int Fail(const Status& s) {
  std::fprintf(stderr, "gridmis: %s\n", s.ToString().c_str());
  return s.code() == StatusCode::kInvalidArgument ? 2 : 1;
}

// A progress bar on a terminal, plain lines otherwise.
class Progress {
 public:
  Progress() : tty_(isatty(STDERR_FILENO)), start_(std::chrono::steady_clock::now()) {}
  void Update(std::string_view stage, int64_t done, int64_t total) {
    auto now = std::chrono::steady_clock::now();
    double secs = std::chrono::duration<double>(now - start_).count();
    bool stage_changed = stage != stage_;
    if (!tty_) {
      if (stage_changed || done == total) {
        std::fprintf(stderr, "%7.1fs %-18s %lld/%lld\n", secs, std::string(stage).c_str(),
                     static_cast<long long>(done), static_cast<long long>(total));
      }
    } else if (stage_changed || now - last_ > std::chrono::milliseconds(100) || done == total) {
      int width = 30;
      int filled = total > 0 ? static_cast<int>(width * done / total) : width;
      std::string bar(static_cast<size_t>(filled), '#');
      bar.resize(static_cast<size_t>(width), ' ');
      std::fprintf(stderr, "\r[%s] %-18s %10lld/%-10lld %3d%% %6.1fs", bar.c_str(),
                   std::string(stage).c_str(), static_cast<long long>(done),
                   static_cast<long long>(total),
                   total > 0 ? static_cast<int>(100 * done / total) : 100, secs);
      if (done == total) std::fputc('\n', stderr);
      last_ = now;
    }
    stage_ = std::string(stage);
  }

 private:
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_{};
  std::string stage_;
};

int CmdServe(const CommonFlags& f) {
  auto config = LoadWithFlags(f);
  if (!config.ok()) return Fail(config.status());
  auto app = app::App::Create(*config);
  if (!app.ok()) return Fail(app.status());
  Status s = (*app)->Serve(true);
  return s.ok() ? 0 : Fail(s);
}

int CmdMigrate(const CommonFlags& f, bool status_only) {
  auto config = LoadWithFlags(f);
  if (!config.ok()) return Fail(config.status());
  auto db = store::Database::Open(config->database_url);
  if (!db.ok()) return Fail(db.status());
  auto all = app::AllMigrations();
  if (!status_only) {
    Status s =
        store::Migrate(**db, all, SystemClock::Get()->NowMicros(), [](const store::Migration& m) {
          std::printf("applying %.*s/%d: %.*s\n", static_cast<int>(m.module.size()),
                      m.module.data(), m.version, static_cast<int>(m.name.size()), m.name.data());
        });
    if (!s.ok()) return Fail(s);
  }
  auto applied = store::AppliedMigrations(**db);
  if (!applied.ok()) return Fail(applied.status());
  auto pending = store::PendingMigrations(**db, all);
  if (!pending.ok()) return Fail(pending.status());
  std::printf("schema of %s: %zu migration(s) applied, %zu pending\n", (*db)->Describe().c_str(),
              applied->size(), pending->size());
  for (const auto& a : *applied) {
    std::printf("  %-12s v%-3d %s  (%s)\n", a.module.c_str(), a.version, a.name.c_str(),
                FormatUtc(a.applied_at_us).c_str());
  }
  for (const auto& p : *pending) {
    std::printf("  %-12.*s v%-3d %.*s  (pending)\n", static_cast<int>(p.module.size()),
                p.module.data(), p.version, static_cast<int>(p.name.size()), p.name.data());
  }
  return 0;
}

struct UserFlags {
  std::string username, password, role, department, name;
};

int CmdUserCreate(const CommonFlags& f, const UserFlags& u) {
  auto config = LoadWithFlags(f);
  if (!config.ok()) return Fail(config.status());
  auto app = app::App::Create(*config);
  if (!app.ok()) return Fail(app.status());
  org::OrgService& org = (*app)->org();
  org::Actor sys = org::Actor::System("cli");
  auto dept = org.FindDepartmentByCode(u.department);
  if (!dept.ok()) return Fail(dept.status());
  if (!*dept) {
    auto all = org.ListDepartments(sys);
    if (!all.ok()) return Fail(all.status());
    if (!all->empty()) {
      return Fail(InvalidArgument(
          "department '" + u.department +
              "' does not exist (existing top department: " + all->front().code + ")",
          "department"));
    }
    // A fresh database: the first department becomes the company root.
    org::DepartmentInput in;
    in.code = u.department;
    in.name = u.department;
    in.kind = "company";
    auto created = org.CreateDepartment(sys, in);
    if (!created.ok()) return Fail(created.status());
    std::printf("created root department %s (id %lld)\n", created->code.c_str(),
                static_cast<long long>(created->id));
    *dept = *created;
  }
  org::UserInput in;
  in.username = u.username;
  in.display_name = u.name.empty() ? u.username : u.name;
  in.department_id = (*dept)->id;
  in.password = u.password;
  in.roles = std::vector<std::string>{u.role};
  auto user = org.CreateUser(sys, in);
  if (!user.ok()) return Fail(user.status());
  std::printf("created user %s (id %lld) with role %s in %s\n", user->username.c_str(),
              static_cast<long long>(user->id), u.role.c_str(), (*dept)->code.c_str());
  return 0;
}

struct DemoFlags {
  uint64_t seed = 20261128;
  int64_t customers = 20000;
  bool fresh = false;
  bool no_serve = false;
};

int CmdDemo(CommonFlags f, const DemoFlags& d) {
  auto config = LoadWithFlags(f);
  if (!config.ok()) return Fail(config.status());
  if (d.fresh && config->database_url.rfind("sqlite://", 0) == 0) {
    std::string path = config->database_url.substr(9);
    if (path != ":memory:") {
      for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    }
  }
  bool built = false;
  {
    app::AppOptions opts;
    opts.bulk_load = true;
    auto gen = app::App::Create(*config, opts);
    if (!gen.ok()) return Fail(gen.status());
    auto n = (*gen)->db().ReadValue<int64_t>(
        [](store::Connection& c) { return c.QueryInt("SELECT COUNT(*) FROM customers"); });
    if (!n.ok()) return Fail(n.status());
    if (*n > 0) {
      std::printf(
          "%s already holds a demo utility (%lld customers); serving it. Use --fresh to "
          "rebuild.\n",
          (*gen)->db().Describe().c_str(), static_cast<long long>(*n));
    } else {
      Progress progress;
      demo::DemoOptions o;
      o.seed = d.seed;
      o.customers = d.customers;
      o.progress = [&](std::string_view stage, int64_t done, int64_t total) {
        progress.Update(stage, done, total);
      };
      auto summary = demo::BuildDemo((*gen)->db(), (*gen)->clock(), o);
      if (!summary.ok()) return Fail(summary.status());
      std::printf("%s", demo::FormatSummary(*summary).c_str());
      built = true;
    }
  }
  if (d.no_serve) return 0;
  auto app = app::App::Create(*config);
  if (!app.ok()) return Fail(app.status());
  Status s = (*app)->Serve(true, [&](uint16_t port) {
    std::string host = config->listen.substr(0, config->listen.rfind(':'));
    std::printf(
        "\ngridmis demo is serving at http://%s:%u/  (log in as 'manager' with password "
        "'%s'; all demo logins are in README.md)\nPress Ctrl-C to stop.\n",
        host.c_str(), port, demo::kDemoPassword);
    std::fflush(stdout);
  });
  (void)built;
  return s.ok() ? 0 : Fail(s);
}

int CmdOpenApi() {
  Config c;
  c.database_url = "sqlite://:memory:";
  c.log_level = "warn";
  InitLogging(c.log_level);
  app::AppOptions o;
  o.hash_strength = org::HashStrength::kMinimum;
  auto app = app::App::Create(c, o);
  if (!app.ok()) return Fail(app.status());
  std::printf("%s\n", (*app)->router().OpenApi("gridmis API", GRIDMIS_VERSION).dump(2).c_str());
  return 0;
}

}  // namespace
}  // namespace gridmis

int main(int argc, char** argv) {
  using namespace gridmis;
  CLI::App cli{"gridmis: marketing information system for electricity utilities"};
  cli.require_subcommand(1);
  CommonFlags common;

  auto* serve = cli.add_subcommand("serve", "Serve the HTTP API and web console");
  AddCommon(serve, &common, true);

  auto* migrate = cli.add_subcommand("migrate", "Create or upgrade the database schema");
  AddCommon(migrate, &common, false);
  bool status_only = false;
  migrate->add_flag("--status", status_only, "Only show applied and pending migrations");

  auto* user = cli.add_subcommand("user", "Manage user accounts");
  user->require_subcommand(1);
  auto* user_create = user->add_subcommand("create", "Create a user (bootstraps a fresh database)");
  AddCommon(user_create, &common, false);
  UserFlags uf;
  user_create->add_option("--username", uf.username, "login name")->required();
  user_create->add_option("--password", uf.password, "initial password")->required();
  user_create->add_option("--role", uf.role, "role code, e.g. system_admin, counter_clerk")
      ->required();
  user_create
      ->add_option("--department", uf.department,
                   "department code; on an empty database it becomes the company root")
      ->required();
  user_create->add_option("--name", uf.name, "display name (default: the username)");

  auto* demo_cmd = cli.add_subcommand("demo", "Build a synthetic utility and serve it");
  AddCommon(demo_cmd, &common, true);
  DemoFlags df;
  demo_cmd->add_option("--seed", df.seed, "random seed (same seed, same utility)");
  demo_cmd->add_option("--customers", df.customers, "number of customers")
      ->check(CLI::Range(int64_t{1}, int64_t{20'000'000}));
  demo_cmd->add_flag("--fresh", df.fresh, "delete an existing SQLite demo file first");
  demo_cmd->add_flag("--no-serve", df.no_serve, "only build the database");

  auto* openapi = cli.add_subcommand("openapi", "Print the OpenAPI document");
  auto* version = cli.add_subcommand("version", "Print the version");

  CLI11_PARSE(cli, argc, argv);
  if (serve->parsed()) return CmdServe(common);
  if (migrate->parsed()) return CmdMigrate(common, status_only);
  if (user_create->parsed()) return CmdUserCreate(common, uf);
  if (demo_cmd->parsed()) return CmdDemo(common, df);
  if (openapi->parsed()) return CmdOpenApi();
  if (version->parsed()) {
    std::printf("gridmis %s\n", GRIDMIS_VERSION);
    return 0;
  }
  return 0;
}
