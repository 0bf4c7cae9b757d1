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

TEST(ConfigTest, AcquisitionSectionAndEnvironment) {
  auto c = ParseConfig(
      "[acquisition]\nfep = false\nfep_listen = \"127.0.0.1:9100\"\ncollect_daily_at = "
      "\"02:15\"\nretries = 4\n",
      "a.toml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_FALSE(c->fep_enabled);
  EXPECT_EQ(c->fep_listen, "127.0.0.1:9100");
  EXPECT_EQ(c->collect_daily_at, "02:15");
  EXPECT_EQ(c->fep_retries, 4);
  auto bad = ParseConfig("[acquisition]\nfep_port = 1\n", "a.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("fep_port"), std::string::npos);
  auto env = LoadConfig(std::nullopt, [](const char* n) -> const char* {
    if (std::string_view(n) == "GRIDMIS_FEP") return "off";
    if (std::string_view(n) == "GRIDMIS_FEP_LISTEN") return "127.0.0.1:9200";
    return nullptr;
  });
  ASSERT_TRUE(env.ok());
  EXPECT_FALSE(env->fep_enabled);
  EXPECT_EQ(env->fep_listen, "127.0.0.1:9200");
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
  c = Config();
  c.fep_listen = "9001";
  EXPECT_EQ(ValidateConfig(c).field(), "fep_listen");
  c = Config();
  c.fep_master_address = 0;
  EXPECT_EQ(ValidateConfig(c).field(), "master_address");
  c = Config();
  c.collect_daily_at = "25:00";
  EXPECT_EQ(ValidateConfig(c).field(), "acquisition");
  c = Config();
  c.command_password = "1234";
  EXPECT_EQ(ValidateConfig(c).field(), "command_password");
  c = Config();
  c.command_password = "00112233445566778899aabbccddeeff";
  EXPECT_TRUE(ValidateConfig(c).ok());
  std::string host;
  uint16_t port;
  ASSERT_TRUE(SplitHostPort("[::1]:8080", &host, &port).ok());
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 8080);
}

}  // namespace
}  // namespace gridmis
