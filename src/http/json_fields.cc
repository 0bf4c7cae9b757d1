#include "http/json_fields.h"

namespace gridmis::http {

using nlohmann::json;

Result<json> ParseJsonObject(std::string_view body) {
  if (body.empty()) return InvalidArgument("request body is empty; a JSON object is expected");
  json j;
  try {
    j = json::parse(body.begin(), body.end());
  } catch (const json::parse_error& e) {
    return InvalidArgument("malformed JSON at byte " + std::to_string(e.byte) + ": " +
                           std::string(e.what()).substr(std::string(e.what()).find(':') + 2));
  }
  if (!j.is_object()) return InvalidArgument("the request body must be a JSON object");
  return j;
}

size_t Utf8Length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t extra;
    if (c < 0x80) {
      extra = 0;
    } else if ((c & 0xE0) == 0xC0 && c >= 0xC2) {
      extra = 1;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
    } else if ((c & 0xF8) == 0xF0 && c <= 0xF4) {
      extra = 3;
    } else {
      return false;
    }
    if (i + extra >= n && extra > 0) return false;
    for (size_t k = 1; k <= extra; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += extra + 1;
  }
  return true;
}

JsonFields::JsonFields(const json& object, std::string prefix)
    : obj_(object), prefix_(std::move(prefix)) {}

bool JsonFields::Has(std::string_view name) const {
  auto it = obj_.find(name);
  return it != obj_.end() && !it->is_null();
}

void JsonFields::Fail(Status s) {
  if (error_.ok() && !s.ok()) error_ = std::move(s);
}

void JsonFields::Allow(std::string_view name) { known_.emplace(name); }

const json* JsonFields::Get(std::string_view name, bool required) {
  known_.emplace(name);
  auto it = obj_.find(name);
  if (it == obj_.end() || it->is_null()) {
    if (required) Fail(InvalidArgument(FieldName(name) + " is required", FieldName(name)));
    return nullptr;
  }
  return &*it;
}

void JsonFields::TypeError(std::string_view name, std::string_view expected) {
  Fail(InvalidArgument(FieldName(name) + " must be " + std::string(expected), FieldName(name)));
}

namespace {
std::string Trim(std::string s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}
}  // namespace

std::optional<std::string> JsonFields::OptString(std::string_view name, StringRule rule) {
  const json* v = Get(name, false);
  if (!v) return std::nullopt;
  if (!v->is_string()) {
    TypeError(name, "a string");
    return std::nullopt;
  }
  std::string s = v->get<std::string>();
  if (rule.trim) s = Trim(std::move(s));
  if (!IsValidUtf8(s) || s.find('\0') != std::string::npos) {
    TypeError(name, "valid UTF-8 text");
    return std::nullopt;
  }
  size_t len = Utf8Length(s);
  if (len > rule.max_len) {
    Fail(InvalidArgument(
        FieldName(name) + " is longer than " + std::to_string(rule.max_len) + " characters",
        FieldName(name)));
    return std::nullopt;
  }
  if (len < rule.min_len) {
    Fail(InvalidArgument(rule.min_len == 1 ? FieldName(name) + " must not be empty"
                                           : FieldName(name) + " is shorter than " +
                                                 std::to_string(rule.min_len) + " characters",
                         FieldName(name)));
    return std::nullopt;
  }
  return s;
}

std::string JsonFields::String(std::string_view name, StringRule rule) {
  if (!Has(name)) {
    Get(name, true);
    return {};
  }
  return OptString(name, rule).value_or("");
}

std::optional<int64_t> JsonFields::OptInt(std::string_view name, IntRule rule) {
  const json* v = Get(name, false);
  if (!v) return std::nullopt;
  if (!v->is_number_integer()) {
    TypeError(name, "an integer");
    return std::nullopt;
  }
  int64_t i;
  if (v->is_number_unsigned()) {
    uint64_t u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) {
      TypeError(name, "an integer in range");
      return std::nullopt;
    }
    i = static_cast<int64_t>(u);
  } else {
    i = v->get<int64_t>();
  }
  if (i < rule.min || i > rule.max) {
    std::string range = rule.max == INT64_MAX   ? "at least " + std::to_string(rule.min)
                        : rule.min == INT64_MIN ? "at most " + std::to_string(rule.max)
                                                : "between " + std::to_string(rule.min) + " and " +
                                                      std::to_string(rule.max);
    Fail(InvalidArgument(FieldName(name) + " must be " + range, FieldName(name)));
    return std::nullopt;
  }
  return i;
}

int64_t JsonFields::Int(std::string_view name, IntRule rule) {
  if (!Has(name)) {
    Get(name, true);
    return 0;
  }
  return OptInt(name, rule).value_or(0);
}

std::optional<bool> JsonFields::OptBool(std::string_view name) {
  const json* v = Get(name, false);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) {
    TypeError(name, "true or false");
    return std::nullopt;
  }
  return v->get<bool>();
}

bool JsonFields::Bool(std::string_view name) {
  if (!Has(name)) {
    Get(name, true);
    return false;
  }
  return OptBool(name).value_or(false);
}

std::optional<std::string> JsonFields::OptDecimalText(std::string_view name) {
  const json* v = Get(name, false);
  if (!v) return std::nullopt;
  if (v->is_number_integer()) return v->dump();
  if (!v->is_string()) {
    TypeError(name, "a decimal number written as a string, e.g. \"1234.56\"");
    return std::nullopt;
  }
  std::string s = v->get<std::string>();
  if (s.size() > 40) {
    TypeError(name, "a decimal number of at most 40 characters");
    return std::nullopt;
  }
  return s;
}

std::string JsonFields::DecimalText(std::string_view name) {
  if (!Has(name)) {
    Get(name, true);
    return {};
  }
  return OptDecimalText(name).value_or("");
}

std::optional<std::string> JsonFields::OptEnum(std::string_view name,
                                               std::initializer_list<std::string_view> allowed) {
  auto s = OptString(name, {.max_len = 64});
  if (!s) return std::nullopt;
  for (auto a : allowed) {
    if (a == *s) return s;
  }
  std::string list;
  for (auto a : allowed) {
    if (!list.empty()) list += ", ";
    list += a;
  }
  Fail(InvalidArgument(FieldName(name) + " must be one of: " + list, FieldName(name)));
  return std::nullopt;
}

std::string JsonFields::Enum(std::string_view name,
                             std::initializer_list<std::string_view> allowed) {
  if (!Has(name)) {
    Get(name, true);
    return {};
  }
  return OptEnum(name, allowed).value_or("");
}

const json* JsonFields::OptArray(std::string_view name) {
  const json* v = Get(name, false);
  if (v && !v->is_array()) {
    TypeError(name, "an array");
    return nullptr;
  }
  return v;
}

const json* JsonFields::OptObject(std::string_view name) {
  const json* v = Get(name, false);
  if (v && !v->is_object()) {
    TypeError(name, "an object");
    return nullptr;
  }
  return v;
}

Status JsonFields::Finish() const {
  if (!error_.ok()) return error_;
  for (auto it = obj_.begin(); it != obj_.end(); ++it) {
    if (!known_.count(it.key())) {
      std::string f = prefix_ + it.key();
      return InvalidArgument("unknown field '" + f + "'", f);
    }
  }
  return Status::Ok();
}

}  // namespace gridmis::http
