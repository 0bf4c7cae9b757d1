// Strict reading of JSON request bodies: types, lengths and ranges checked, unknown fields
// rejected, and the first problem reported with the field's name.
//
//   ASSIGN_OR_RETURN(auto body, ParseJsonObject(req.body));
//   JsonFields f(body);
//   std::string name = f.String("name", {.max_len = 100});
//   std::optional<std::string> phone = f.OptString("phone", {.max_len = 32});
//   int64_t version = f.Int("version", {.min = 1});
//   RETURN_IF_ERROR(f.Finish());   // unknown fields, wrong types, missing required fields
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace gridmis::http {

// Parses `body` as a JSON object. Malformed JSON or a non-object is InvalidArgument naming the
// byte offset.
Result<nlohmann::json> ParseJsonObject(std::string_view body);

struct StringRule {
  size_t max_len = 200;  // in Unicode code points
  size_t min_len = 1;    // after trimming; 0 allows ""
  bool trim = true;      // strip ASCII whitespace at both ends
};

struct IntRule {
  int64_t min = INT64_MIN;
  int64_t max = INT64_MAX;
};

class JsonFields {
 public:
  // `prefix` is prepended to field names in errors ("meters[2].").
  explicit JsonFields(const nlohmann::json& object, std::string prefix = {});

  bool Has(std::string_view name) const;

  // Required fields: a missing or mistyped field records an error and returns a default.
  std::string String(std::string_view name, StringRule rule = {});
  int64_t Int(std::string_view name, IntRule rule = {});
  bool Bool(std::string_view name);
  // A decimal number given as a JSON string ("1234.56") or integer, returned as its text.
  std::string DecimalText(std::string_view name);

  // Optional fields: absent or null gives nullopt.
  std::optional<std::string> OptString(std::string_view name, StringRule rule = {});
  std::optional<int64_t> OptInt(std::string_view name, IntRule rule = {});
  std::optional<bool> OptBool(std::string_view name);
  std::optional<std::string> OptDecimalText(std::string_view name);
  // A string that must be one of `allowed`.
  std::optional<std::string> OptEnum(std::string_view name,
                                     std::initializer_list<std::string_view> allowed);
  std::string Enum(std::string_view name, std::initializer_list<std::string_view> allowed);
  // Arrays and objects are returned raw for the caller to read with a nested JsonFields.
  const nlohmann::json* OptArray(std::string_view name);
  const nlohmann::json* OptObject(std::string_view name);

  // Marks a field as known without reading it.
  void Allow(std::string_view name);
  // Records an error found by the caller (e.g. a cross-field rule).
  void Fail(Status s);

  // The first error seen, or an unknown field, or OK.
  Status Finish() const;
  // The first error seen so far (OK when none), without the unknown-field check.
  const Status& error() const { return error_; }
  std::string FieldName(std::string_view name) const { return prefix_ + std::string(name); }

 private:
  const nlohmann::json* Get(std::string_view name, bool required);
  void TypeError(std::string_view name, std::string_view expected);

  const nlohmann::json& obj_;
  std::string prefix_;
  std::set<std::string, std::less<>> known_;
  Status error_;
};

// Number of Unicode code points in valid UTF-8 (invalid sequences count per byte).
size_t Utf8Length(std::string_view s);
bool IsValidUtf8(std::string_view s);

}  // namespace gridmis::http
