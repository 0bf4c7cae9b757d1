#include "http/json_fields.h"

#include <gtest/gtest.h>

namespace gridmis::http {
namespace {

TEST(JsonFieldsTest, ReadsTypedFieldsAndRejectsUnknownOnes) {
  auto body = ParseJsonObject(R"({"name":"  张三  ","age":42,"vip":true,"extra":1})");
  ASSERT_TRUE(body.ok());
  JsonFields f(*body);
  EXPECT_EQ(f.String("name"), "张三");
  EXPECT_EQ(f.Int("age", {.min = 0, .max = 150}), 42);
  EXPECT_EQ(f.OptBool("vip"), true);
  Status s = f.Finish();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.field(), "extra");
}

TEST(JsonFieldsTest, NamesTheFirstBadField) {
  auto body = ParseJsonObject(R"({"name":123,"age":"x"})");
  JsonFields f(*body);
  f.String("name");
  f.Int("age");
  EXPECT_EQ(f.Finish().field(), "name");
  EXPECT_NE(f.Finish().message().find("must be a string"), std::string::npos);
}

TEST(JsonFieldsTest, LengthsCountCharactersNotBytes) {
  auto body = ParseJsonObject(R"({"a":"国网浙江","b":"12345"})");
  JsonFields f(*body);
  EXPECT_EQ(f.String("a", {.max_len = 4}), "国网浙江");
  f.String("b", {.max_len = 4});
  EXPECT_EQ(f.Finish().field(), "b");
}

TEST(JsonFieldsTest, RequiredRangesAndEnums) {
  auto body = ParseJsonObject(R"({"n":-1,"k":"bogus","p":"x"})");
  JsonFields f(*body, "meters[2].");
  f.Int("n", {.min = 0});
  EXPECT_EQ(f.error().field(), "meters[2].n");
  JsonFields g(*body);
  g.Enum("k", {"a", "b"});
  EXPECT_NE(g.error().message().find("one of: a, b"), std::string::npos);
  JsonFields h(*body);
  h.String("missing");
  EXPECT_EQ(h.error().message(), "missing is required");
}

TEST(JsonFieldsTest, MalformedBodies) {
  EXPECT_FALSE(ParseJsonObject("").ok());
  EXPECT_FALSE(ParseJsonObject("[1,2]").ok());
  auto bad = ParseJsonObject("{\"a\": }");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("malformed JSON at byte"), std::string::npos);
  EXPECT_FALSE(ParseJsonObject("{\"a\":\"\xff\"}").ok());  // invalid UTF-8
}

TEST(Utf8Test, Validates) {
  EXPECT_TRUE(IsValidUtf8("abc 张三"));
  EXPECT_FALSE(IsValidUtf8("\xC0\x80"));
  EXPECT_FALSE(IsValidUtf8("\xE5\xBC"));
  EXPECT_EQ(Utf8Length("张三a"), 3u);
}

}  // namespace
}  // namespace gridmis::http
