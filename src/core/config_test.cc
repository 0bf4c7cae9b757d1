#include "core/config.h"

#include <gtest/gtest.h>

#include <map>

namespace gridmis {
namespace {

TEST(ConfigTest, ParsesFileAndDefaults) {
  auto c = ParseConfig(R"(
database_url = "postgresql://gridmis@localhost/gridmis"
listen = "0.0.0.0:9000"
[session]
idle_minutes = 15
)",
                       "test.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->database_url, "postgresql://gridmis@localhost/gridmis");
  EXPECT_EQ(c->listen, "0.0.0.0:9000");
  EXPECT_EQ(c->session_idle_minutes, 15);
  EXPECT_EQ(c->time_zone, "Asia/Shanghai");
  EXPECT_EQ(c->lockout_failures, 5);
}

TEST(ConfigTest, UnknownKeyIsAnErrorNamingIt) {
  auto c = ParseConfig("databse_url = \"x\"\n", "gridmis.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("databse_url"), std::string::npos);
  EXPECT_NE(c.status().message().find("gridmis.toml"), std::string::npos);
}

TEST(ConfigTest, WrongTypeAndSyntaxErrorsNameTheLine) {
  auto c = ParseConfig("[session]\nidle_minutes = \"ten\"\n", "a.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("session.idle_minutes"), std::string::npos);
  auto s = ParseConfig("listen = \n", "b.toml");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("b.toml:1"), std::string::npos);
}

TEST(ConfigTest, EnvironmentOverridesFile) {
  std::map<std::string, std::string> env = {{"GRIDMIS_DATABASE_URL", "sqlite://:memory:"},
                                            {"GRIDMIS_TIME_ZONE", "UTC"}};
  auto c = LoadConfig(std::nullopt, [&](const char* n) -> const char* {
    auto it = env.find(n);
    return it == env.end() ? nullptr : it->second.c_str();
  });
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->database_url, "sqlite://:memory:");
  EXPECT_EQ(c->time_zone, "UTC");
  EXPECT_TRUE(ValidateConfig(*c).ok());
}

TEST(ConfigTest, ValidateRejectsBadValues) {
  Config c;
  c.listen = "localhost";
  EXPECT_EQ(ValidateConfig(c).field(), "listen");
  c = Config();
  c.time_zone = "Asia/Nowhere";
  EXPECT_EQ(ValidateConfig(c).field(), "time_zone");
  c = Config();
  c.database_url = "mysql://x";
  EXPECT_EQ(ValidateConfig(c).field(), "database_url");
  std::string host;
  uint16_t port;
  ASSERT_TRUE(SplitHostPort("[::1]:8080", &host, &port).ok());
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 8080);
}

}  // namespace
}  // namespace gridmis
