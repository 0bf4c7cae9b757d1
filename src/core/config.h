// Configuration: a TOML file, then environment overrides, then command-line flags (applied by
// the CLI). Unknown keys are errors, so a typo never silently falls back to a default.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace gridmis {

struct Config {
  // Storage: "sqlite://PATH", "sqlite://:memory:", "postgresql://user@host/db?host=/socket".
  std::string database_url = "sqlite://gridmis.db";
  std::string listen = "127.0.0.1:8080";  // HOST:PORT
  std::string time_zone = "Asia/Shanghai";
  std::string log_level = "info";  // trace, debug, info, warn, error, off
  std::string static_dir;          // built web console; empty: the default next to the binary

  // HTTP server
  int io_threads = 2;
  int db_workers = 8;  // threads that run handlers and hold database connections
  int max_inflight = 1024;
  int64_t max_body_bytes = 1 << 20;
  int request_timeout_ms = 10'000;
  int idle_timeout_ms = 30'000;

  // Sessions and login (等保 2.0 level-3 defaults)
  int session_idle_minutes = 30;
  int session_max_hours = 12;
  int lockout_failures = 5;
  int lockout_minutes = 10;
  int password_min_length = 8;
  int admin_password_min_length = 12;
  bool cookie_secure = false;  // set true behind TLS

  // Billing: the province whose tariff catalogue rates bills (data/tariffs/<province>.toml,
  // compiled in) and directories searched first for a <province>.toml that replaces it.
  std::string billing_province = "nmg_west";
  std::vector<std::string> billing_tariff_dirs;
  // The payment link a bill's QR code carries: this prefix + the bill number (the utility's
  // payment page or its channel's).
  std::string billing_payment_url_prefix = "https://pay.gridmis.example/bill?no=";

  // Acquisition: the terminal front end (Q/GDW 1376.1 over TCP) that `serve` runs beside the
  // HTTP server (`fep` runs it alone), the collection schedule and control commands.
  bool fep_enabled = true;                    // [acquisition] fep
  std::string fep_listen = "127.0.0.1:9001";  // terminals connect here; 0.0.0.0:9001 in the field
  int fep_io_threads = 1;
  int fep_master_address = 1;  // MSA, 1..127
  int fep_request_timeout_ms = 10'000;
  int fep_retries = 2;
  int fep_idle_timeout_s = 1200;            // offline after this long without a frame
  int fep_max_frames_per_second = 50;       // per connection
  std::string collect_daily_at = "01:30";   // yesterday's daily frozen registers
  std::string collect_curves_at = "02:30";  // yesterday's 96-point curves; "" = off
  int collect_catch_up_days = 7;            // retry missing days this far back
  int collect_warm_up_s = 180;        // scheduled runs wait this long after the front end starts
  int collect_window = 256;           // terminals in flight at once
  std::string command_password;       // PW for AFN05/AFN10: 32 hex digits ("" = zeros)
  int command_expiry_minutes = 1440;  // a command not sent by then times out
};

// Reads `path` (when given) and applies environment overrides through `getenv` (tests pass a
// fake; nullptr means the process environment):
//   GRIDMIS_DATABASE_URL, GRIDMIS_LISTEN, GRIDMIS_TIME_ZONE, GRIDMIS_LOG_LEVEL, GRIDMIS_STATIC_DIR
//   GRIDMIS_BILLING_PROVINCE, GRIDMIS_FEP_LISTEN, GRIDMIS_FEP ("0" / "off" disables it)
// Errors name the file, the key and what is wrong.
Result<Config> LoadConfig(std::optional<std::string> path,
                          const std::function<const char*(const char*)>& getenv = nullptr);

// Parses TOML text (for tests and LoadConfig). `source` names the file in errors.
Result<Config> ParseConfig(std::string_view toml_text, std::string_view source);

// Checks values that are well-typed but wrong (a bad zone, listen address, level).
Status ValidateConfig(const Config& config);

// Splits "HOST:PORT" ("[::1]:8080" for IPv6).
Status SplitHostPort(std::string_view listen, std::string* host, uint16_t* port);

}  // namespace gridmis
