// A real gridmis server on 127.0.0.1 and an ephemeral port, over a fresh database of the
// parameter's backend ("sqlite" or "postgres"), with a fake clock and a small organisation:
//
//   GS (company) ── GS01 city ─┬─ GS0101 county A ── GS010101 station A1
//                              └─ GS0102 county B
//
// Users (password kPassword): sysadmin (system_admin), secadmin (security_admin), auditor
// (audit_admin) at GS; clerk_a / clerk_b (counter_clerk) in the counties; reader_a
// (meter_reader, own department) in county A; manager (manager) in the city.
#pragma once

#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "app/app.h"
#include "org/org.h"
#include "store/testing.h"
#include "support/http_client.h"

namespace gridmis::testing {

inline constexpr const char* kPassword = "Passw0rd!Long1";

class ApiTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override;
  void TearDown() override;
  // Adjusts the server's configuration before it starts. By default the terminal front end is
  // off (no port, no scheduler); a test of the front end's routes turns it on (port 0: a free
  // one, see app_->front_end_port()).
  virtual void Configure(Config& c) { c.fep_enabled = false; }

  // A client logged in as `username` (kPassword); fails the test if login fails.
  std::unique_ptr<HttpClient> LoginAs(const std::string& username);
  std::unique_ptr<HttpClient> Anonymous() { return std::make_unique<HttpClient>(port_); }
  static nlohmann::json Json(const HttpResponse& r);
  int64_t CreateUser(const std::string& username, int64_t dept, const std::string& role);
  // Rows in audit_log (to show a refused request changed nothing).
  int64_t AuditCount();

  FakeClock clock_{1'800'000'000'000'000};  // 2027-01-15
  std::unique_ptr<store::testing::TestDatabase> tdb_;
  std::unique_ptr<app::App> app_;
  std::thread server_;
  uint16_t port_ = 0;
  int64_t root_ = 0, city_ = 0, county_a_ = 0, county_b_ = 0, station_a_ = 0;
};

#define GRIDMIS_API_TEST_BACKENDS(Suite)                                                    \
  INSTANTIATE_TEST_SUITE_P(Backends, Suite,                                                 \
                           ::testing::ValuesIn(store::testing::AvailableBackendsForTest()), \
                           [](const auto& p) { return p.param; })

}  // namespace gridmis::testing
