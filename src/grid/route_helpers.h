// Small helpers for the route files of the grid, customer, metering and acquisition modules:
// OpenAPI schema builders, checked query parameters, nullable JSON fields and replies.
// Include only from routes.cc files (it pulls in nlohmann/json.hpp through http/router.h).
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "grid/records.h"
#include "http/json_fields.h"
#include "http/router.h"
#include "http/schema.h"

namespace gridmis::grid::api {

using nlohmann::json;

// ---- OpenAPI schema fragments (http/schema.h) ----
using http::schema::ArrayOf;
using http::schema::Bool;
using http::schema::Enum;
using http::schema::Int;
using http::schema::NullableEnum;
using http::schema::NullableInt;
using http::schema::NullableStr;
using http::schema::Obj;
using http::schema::Ref;
using http::schema::Str;
using http::schema::VersionField;

// ---- Query parameters ----

// An optional text parameter of at most `max_len` characters ("" when absent).
inline Result<std::string> QueryText(const http::Request& req, std::string_view name,
                                     size_t max_len = 100) {
  std::string v(req.Query(name).value_or(""));
  if (!http::IsValidUtf8(v) || http::Utf8Length(v) > max_len) {
    return InvalidArgument("query parameter " + std::string(name) +
                               " must be valid text of at most " + std::to_string(max_len) +
                               " characters",
                           std::string(name));
  }
  return v;
}

// An optional parameter that must be one of `allowed` ("" when absent).
inline Result<std::string> QueryEnum(const http::Request& req, std::string_view name,
                                     std::initializer_list<std::string_view> allowed) {
  std::string v(req.Query(name).value_or(""));
  if (v.empty()) return v;
  RETURN_IF_ERROR(CheckOneOf(v, name, allowed));
  return v;
}

// ---- JSON bodies ----

// A nullable id in a PATCH body: absent = unchanged, null = clear, a positive integer = set.
inline Nullable<int64_t> NullableId(http::JsonFields& f, const json& body, std::string_view name) {
  auto it = body.find(name);
  if (it != body.end() && it->is_null()) {
    f.Allow(name);
    return std::optional<int64_t>();
  }
  auto v = f.OptInt(name, {.min = 1});
  if (!v) return std::nullopt;
  return std::optional<int64_t>(*v);
}

// A nullable text in a PATCH body: absent = unchanged, null or "" = clear, text = set.
inline Nullable<std::string> NullableText(http::JsonFields& f, const json& body,
                                          std::string_view name, size_t max_len) {
  auto it = body.find(name);
  if (it != body.end() && it->is_null()) {
    f.Allow(name);
    return std::optional<std::string>();
  }
  auto v = f.OptString(name, {.max_len = max_len, .min_len = 0});
  if (!v) return std::nullopt;
  if (v->empty()) return std::optional<std::string>();
  return std::optional<std::string>(*v);
}

// ---- Replies ----

using http::JsonReply;

}  // namespace gridmis::grid::api
