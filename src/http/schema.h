// Builders of OpenAPI 3 schema fragments for route files: Obj({{"id", Int()}, ...}, {"id"}),
// Str("description"), Ref("Customer"), ArrayOf(...), Enum({...}). Include only from route files
// (it pulls in nlohmann/json.hpp).
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gridmis::http::schema {

using nlohmann::json;

inline json Obj(std::initializer_list<std::pair<const std::string, json>> props,
                std::vector<std::string> required = {}) {
  // Key by key: json(initializer_list of pairs) would make an array of [key, value] pairs.
  json properties = json::object();
  for (const auto& [name, schema] : props) properties[name] = schema;
  json j = {{"type", "object"}, {"properties", std::move(properties)}};
  if (!required.empty()) j["required"] = required;
  return j;
}
inline json Str(std::string description = {}) {
  json j = {{"type", "string"}};
  if (!description.empty()) j["description"] = description;
  return j;
}
inline json Int(std::string description = {}) {
  json j = {{"type", "integer"}};
  if (!description.empty()) j["description"] = description;
  return j;
}
inline json Bool() { return {{"type", "boolean"}}; }
inline json NullableStr() { return {{"type", "string"}, {"nullable", true}}; }
inline json NullableInt() { return {{"type", "integer"}, {"nullable", true}}; }
inline json Enum(std::initializer_list<std::string_view> values) {
  json e = json::array();
  for (auto v : values) e.push_back(v);
  return {{"type", "string"}, {"enum", e}};
}
inline json NullableEnum(std::initializer_list<std::string_view> values) {
  json j = Enum(values);
  j["nullable"] = true;
  return j;
}
inline json Ref(std::string_view schema) {
  return {{"$ref", "#/components/schemas/" + std::string(schema)}};
}
inline json ArrayOf(json items) { return {{"type", "array"}, {"items", std::move(items)}}; }
inline json VersionField() { return Int("the version the edit is based on; required on update"); }
inline json StrArray() { return ArrayOf(Str()); }

}  // namespace gridmis::http::schema
