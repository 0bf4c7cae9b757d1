#include "core/config.h"

#include <toml++/toml.h>

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/time.h"

namespace gridmis {

namespace {

template <typename T>
Status Take(const toml::table& t, std::string_view section, std::string_view key, T* out,
            std::string_view source) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return Status::Ok();
  std::string where = std::string(source) + ": " +
                      (section.empty() ? "" : std::string(section) + ".") + std::string(key);
  if constexpr (std::is_same_v<T, std::string>) {
    if (!n->is_string()) return InvalidArgument(where + " must be a string", std::string(key));
    *out = n->as_string()->get();
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!n->is_boolean())
      return InvalidArgument(where + " must be true or false", std::string(key));
    *out = n->as_boolean()->get();
  } else {
    if (!n->is_integer()) return InvalidArgument(where + " must be an integer", std::string(key));
    int64_t v = n->as_integer()->get();
    if (v < 0 || v > std::numeric_limits<T>::max()) {
      return InvalidArgument(where + " is out of range", std::string(key));
    }
    *out = static_cast<T>(v);
  }
  return Status::Ok();
}

Status CheckKeys(const toml::table& t, std::string_view section,
                 std::initializer_list<std::string_view> known, std::string_view source) {
  for (const auto& [k, v] : t) {
    bool ok = false;
    for (auto kk : known) ok = ok || kk == k.str();
    if (!ok) {
      return InvalidArgument(std::string(source) + ": unknown key '" +
                             (section.empty() ? "" : std::string(section) + ".") +
                             std::string(k.str()) + "'");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<Config> ParseConfig(std::string_view text, std::string_view source) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << source << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
        << e.description();
    return InvalidArgument(msg.str());
  }
  Config c;
  RETURN_IF_ERROR(CheckKeys(root, "",
                            {"database_url", "listen", "time_zone", "log_level", "static_dir",
                             "http", "session", "billing", "acquisition"},
                            source));
  RETURN_IF_ERROR(Take(root, "", "database_url", &c.database_url, source));
  RETURN_IF_ERROR(Take(root, "", "listen", &c.listen, source));
  RETURN_IF_ERROR(Take(root, "", "time_zone", &c.time_zone, source));
  RETURN_IF_ERROR(Take(root, "", "log_level", &c.log_level, source));
  RETURN_IF_ERROR(Take(root, "", "static_dir", &c.static_dir, source));
  if (const toml::table* h = root["http"].as_table()) {
    RETURN_IF_ERROR(CheckKeys(*h, "http",
                              {"io_threads", "db_workers", "max_inflight", "max_body_bytes",
                               "request_timeout_ms", "idle_timeout_ms"},
                              source));
    RETURN_IF_ERROR(Take(*h, "http", "io_threads", &c.io_threads, source));
    RETURN_IF_ERROR(Take(*h, "http", "db_workers", &c.db_workers, source));
    RETURN_IF_ERROR(Take(*h, "http", "max_inflight", &c.max_inflight, source));
    RETURN_IF_ERROR(Take(*h, "http", "max_body_bytes", &c.max_body_bytes, source));
    RETURN_IF_ERROR(Take(*h, "http", "request_timeout_ms", &c.request_timeout_ms, source));
    RETURN_IF_ERROR(Take(*h, "http", "idle_timeout_ms", &c.idle_timeout_ms, source));
  } else if (root.contains("http")) {
    return InvalidArgument(std::string(source) + ": [http] must be a table");
  }
  if (const toml::table* s = root["session"].as_table()) {
    RETURN_IF_ERROR(CheckKeys(*s, "session",
                              {"idle_minutes", "max_hours", "lockout_failures", "lockout_minutes",
                               "password_min_length", "admin_password_min_length", "cookie_secure"},
                              source));
    RETURN_IF_ERROR(Take(*s, "session", "idle_minutes", &c.session_idle_minutes, source));
    RETURN_IF_ERROR(Take(*s, "session", "max_hours", &c.session_max_hours, source));
    RETURN_IF_ERROR(Take(*s, "session", "lockout_failures", &c.lockout_failures, source));
    RETURN_IF_ERROR(Take(*s, "session", "lockout_minutes", &c.lockout_minutes, source));
    RETURN_IF_ERROR(Take(*s, "session", "password_min_length", &c.password_min_length, source));
    RETURN_IF_ERROR(
        Take(*s, "session", "admin_password_min_length", &c.admin_password_min_length, source));
    RETURN_IF_ERROR(Take(*s, "session", "cookie_secure", &c.cookie_secure, source));
  } else if (root.contains("session")) {
    return InvalidArgument(std::string(source) + ": [session] must be a table");
  }
  if (const toml::table* b = root["billing"].as_table()) {
    RETURN_IF_ERROR(
        CheckKeys(*b, "billing", {"province", "tariff_dirs", "payment_url_prefix"}, source));
    RETURN_IF_ERROR(Take(*b, "billing", "province", &c.billing_province, source));
    RETURN_IF_ERROR(
        Take(*b, "billing", "payment_url_prefix", &c.billing_payment_url_prefix, source));
    if (const toml::node* dirs = b->get("tariff_dirs")) {
      const toml::array* a = dirs->as_array();
      std::string where = std::string(source) + ": billing.tariff_dirs";
      if (a == nullptr) return InvalidArgument(where + " must be an array of directory paths");
      c.billing_tariff_dirs.clear();
      for (const toml::node& d : *a) {
        if (!d.is_string()) return InvalidArgument(where + " must hold strings", "tariff_dirs");
        c.billing_tariff_dirs.push_back(d.as_string()->get());
      }
    }
  } else if (root.contains("billing")) {
    return InvalidArgument(std::string(source) + ": [billing] must be a table");
  }
  if (const toml::table* a = root["acquisition"].as_table()) {
    constexpr const char* kA = "acquisition";
    RETURN_IF_ERROR(
        CheckKeys(*a, kA,
                  {"fep", "fep_listen", "fep_io_threads", "master_address", "request_timeout_ms",
                   "retries", "idle_timeout_s", "max_frames_per_second", "collect_daily_at",
                   "collect_curves_at", "catch_up_days", "collect_warm_up_s", "collect_window",
                   "command_password", "command_expiry_minutes"},
                  source));
    RETURN_IF_ERROR(Take(*a, kA, "fep", &c.fep_enabled, source));
    RETURN_IF_ERROR(Take(*a, kA, "fep_listen", &c.fep_listen, source));
    RETURN_IF_ERROR(Take(*a, kA, "fep_io_threads", &c.fep_io_threads, source));
    RETURN_IF_ERROR(Take(*a, kA, "master_address", &c.fep_master_address, source));
    RETURN_IF_ERROR(Take(*a, kA, "request_timeout_ms", &c.fep_request_timeout_ms, source));
    RETURN_IF_ERROR(Take(*a, kA, "retries", &c.fep_retries, source));
    RETURN_IF_ERROR(Take(*a, kA, "idle_timeout_s", &c.fep_idle_timeout_s, source));
    RETURN_IF_ERROR(Take(*a, kA, "max_frames_per_second", &c.fep_max_frames_per_second, source));
    RETURN_IF_ERROR(Take(*a, kA, "collect_daily_at", &c.collect_daily_at, source));
    RETURN_IF_ERROR(Take(*a, kA, "collect_curves_at", &c.collect_curves_at, source));
    RETURN_IF_ERROR(Take(*a, kA, "catch_up_days", &c.collect_catch_up_days, source));
    RETURN_IF_ERROR(Take(*a, kA, "collect_window", &c.collect_window, source));
    RETURN_IF_ERROR(Take(*a, kA, "collect_warm_up_s", &c.collect_warm_up_s, source));
    RETURN_IF_ERROR(Take(*a, kA, "command_password", &c.command_password, source));
    RETURN_IF_ERROR(Take(*a, kA, "command_expiry_minutes", &c.command_expiry_minutes, source));
  } else if (root.contains("acquisition")) {
    return InvalidArgument(std::string(source) + ": [acquisition] must be a table");
  }
  return c;
}

Result<Config> LoadConfig(std::optional<std::string> path,
                          const std::function<const char*(const char*)>& getenv_fn) {
  Config c;
  if (path) {
    std::ifstream in(*path, std::ios::binary);
    if (!in) return InvalidArgument("cannot read config file " + *path, "config");
    std::stringstream ss;
    ss << in.rdbuf();
    ASSIGN_OR_RETURN(c, ParseConfig(ss.str(), *path));
  }
  auto env = [&](const char* name) -> const char* {
    return getenv_fn ? getenv_fn(name) : std::getenv(name);
  };
  if (const char* v = env("GRIDMIS_DATABASE_URL"); v && *v) c.database_url = v;
  if (const char* v = env("GRIDMIS_LISTEN"); v && *v) c.listen = v;
  if (const char* v = env("GRIDMIS_TIME_ZONE"); v && *v) c.time_zone = v;
  if (const char* v = env("GRIDMIS_LOG_LEVEL"); v && *v) c.log_level = v;
  if (const char* v = env("GRIDMIS_STATIC_DIR"); v && *v) c.static_dir = v;
  if (const char* v = env("GRIDMIS_BILLING_PROVINCE"); v && *v) c.billing_province = v;
  if (const char* v = env("GRIDMIS_FEP_LISTEN"); v && *v) c.fep_listen = v;
  if (const char* v = env("GRIDMIS_FEP"); v && *v) {
    std::string_view s(v);
    c.fep_enabled = !(s == "0" || s == "off" || s == "false" || s == "no");
  }
  return c;
}

Status SplitHostPort(std::string_view listen, std::string* host, uint16_t* port) {
  auto bad = [&] {
    return InvalidArgument(
        "listen address '" + std::string(listen) + "' is not HOST:PORT (e.g. 127.0.0.1:8080)",
        "listen");
  };
  size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return bad();
  std::string_view h = listen.substr(0, colon);
  std::string_view p = listen.substr(colon + 1);
  if (h.front() == '[') {
    if (h.back() != ']') return bad();
    h = h.substr(1, h.size() - 2);
  }
  unsigned v = 0;
  auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
  if (ec != std::errc() || ptr != p.data() + p.size() || v > 65535 || p.empty()) return bad();
  *host = std::string(h);
  *port = static_cast<uint16_t>(v);
  return Status::Ok();
}

Status ValidateConfig(const Config& c) {
  std::string host;
  uint16_t port;
  RETURN_IF_ERROR(SplitHostPort(c.listen, &host, &port));
  auto tz = TimeZone::Load(c.time_zone);
  if (!tz.ok()) return tz.status();
  static constexpr std::string_view kLevels[] = {"trace", "debug",    "info", "warn",
                                                 "error", "critical", "off"};
  bool level_ok = false;
  for (auto l : kLevels) level_ok = level_ok || l == c.log_level;
  if (!level_ok) {
    return InvalidArgument("log level '" + c.log_level +
                               "' is not one of trace, debug, info, warn, error, critical, off",
                           "log_level");
  }
  if (c.database_url.rfind("sqlite://", 0) != 0 && c.database_url.rfind("postgresql://", 0) != 0 &&
      c.database_url.rfind("postgres://", 0) != 0) {
    return InvalidArgument(
        "database URL '" + c.database_url + "' must start with sqlite:// or postgresql://",
        "database_url");
  }
  if (c.io_threads < 1 || c.db_workers < 1) {
    return InvalidArgument("http.io_threads and http.db_workers must be at least 1", "http");
  }
  if (Status st = SplitHostPort(c.fep_listen, &host, &port); !st.ok()) {
    return InvalidArgument(
        "acquisition.fep_listen '" + c.fep_listen + "' is not HOST:PORT (e.g. 0.0.0.0:9001)",
        "fep_listen");
  }
  if (c.fep_master_address < 1 || c.fep_master_address > 127) {
    return InvalidArgument("acquisition.master_address must be 1..127 (the MSA of A3)",
                           "master_address");
  }
  if (c.fep_io_threads < 1 || c.fep_request_timeout_ms < 100 || c.fep_retries < 0 ||
      c.fep_idle_timeout_s < 10 || c.fep_max_frames_per_second < 1 || c.collect_catch_up_days < 0 ||
      c.collect_window < 1 || c.command_expiry_minutes < 1) {
    return InvalidArgument(
        "acquisition: fep_io_threads, collect_window, max_frames_per_second and "
        "command_expiry_minutes must be at least 1, request_timeout_ms at least 100, "
        "idle_timeout_s at least 10, retries, catch_up_days and collect_warm_up_s not negative",
        "acquisition");
  }
  auto hhmm = [](const std::string& t) {
    return t.size() == 5 && t[2] == ':' && std::isdigit(static_cast<unsigned char>(t[0])) &&
           std::isdigit(static_cast<unsigned char>(t[1])) &&
           std::isdigit(static_cast<unsigned char>(t[3])) &&
           std::isdigit(static_cast<unsigned char>(t[4])) &&
           (t[0] - '0') * 10 + (t[1] - '0') < 24 && (t[3] - '0') * 10 + (t[4] - '0') < 60;
  };
  if (!hhmm(c.collect_daily_at) || (!c.collect_curves_at.empty() && !hhmm(c.collect_curves_at))) {
    return InvalidArgument("acquisition.collect_daily_at and collect_curves_at must be HH:MM",
                           "acquisition");
  }
  if (!c.command_password.empty()) {
    bool hex = c.command_password.size() == 32;
    for (char ch : c.command_password) hex = hex && std::isxdigit(static_cast<unsigned char>(ch));
    if (!hex) {
      return InvalidArgument("acquisition.command_password must be 32 hex digits (16 bytes)",
                             "command_password");
    }
  }
  return Status::Ok();
}

}  // namespace gridmis
