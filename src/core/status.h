// Status and Result<T>: expected failures as values.
//
// A Status carries a canonical code, a human message that says what was wrong and where, and
// optionally the name of the input field at fault (API bodies, imported files). The HTTP layer
// maps codes to statuses in one table (http/errors.cc).
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace gridmis {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // bad input: 400
  kUnauthenticated,     // no or expired credentials: 401
  kPermissionDenied,    // authenticated but not allowed: 403
  kNotFound,            // absent, or outside the caller's data scope: 404
  kAlreadyExists,       // unique key taken: 409
  kAborted,             // optimistic-concurrency conflict (stale version): 409
  kFailedPrecondition,  // state does not allow the operation: 409/422
  kResourceExhausted,   // rate or size limits, lockout: 429
  kUnavailable,         // try again later (pool full, db down): 503
  kDeadlineExceeded,    // took too long: 504
  kInternal,            // our bug or an unexpected library failure: 500
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message, std::string field = {})
      : code_(code), message_(std::move(message)), field_(std::move(field)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // The input field the error is about ("name", "meters[2].ct_ratio"), or empty.
  const std::string& field() const { return field_; }

  // "NOT_FOUND: customer 12 not found"
  std::string ToString() const;

  // Returns a copy whose message is prefixed with `context: `.
  Status WithContext(std::string_view context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string field_;
};

inline Status InvalidArgument(std::string message, std::string field = {}) {
  return Status(StatusCode::kInvalidArgument, std::move(message), std::move(field));
}
inline Status NotFound(std::string message) {
  return Status(StatusCode::kNotFound, std::move(message));
}
inline Status AlreadyExists(std::string message, std::string field = {}) {
  return Status(StatusCode::kAlreadyExists, std::move(message), std::move(field));
}
inline Status PermissionDenied(std::string message) {
  return Status(StatusCode::kPermissionDenied, std::move(message));
}
inline Status Unauthenticated(std::string message) {
  return Status(StatusCode::kUnauthenticated, std::move(message));
}
inline Status Aborted(std::string message) {
  return Status(StatusCode::kAborted, std::move(message));
}
inline Status FailedPrecondition(std::string message, std::string field = {}) {
  return Status(StatusCode::kFailedPrecondition, std::move(message), std::move(field));
}
inline Status ResourceExhausted(std::string message) {
  return Status(StatusCode::kResourceExhausted, std::move(message));
}
inline Status Unavailable(std::string message) {
  return Status(StatusCode::kUnavailable, std::move(message));
}
inline Status Internal(std::string message) {
  return Status(StatusCode::kInternal, std::move(message));
}

// Result<T>: a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(v_).ok() && "Result built from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  // OK when holding a value.
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace gridmis

#define GRIDMIS_CONCAT_INNER(a, b) a##b
#define GRIDMIS_CONCAT(a, b) GRIDMIS_CONCAT_INNER(a, b)

// RETURN_IF_ERROR(expr): returns the Status of `expr` from the enclosing function when not OK.
#define RETURN_IF_ERROR(expr) \
  RETURN_IF_ERROR_IMPL(GRIDMIS_CONCAT(gridmis_status_, __COUNTER__), expr)
#define RETURN_IF_ERROR_IMPL(tmp, expr) \
  do {                                  \
    ::gridmis::Status tmp = (expr);     \
    if (!tmp.ok()) return tmp;          \
  } while (0)

// ASSIGN_OR_RETURN(lhs, rexpr): evaluates a Result; returns its Status or assigns its value.
#define ASSIGN_OR_RETURN(lhs, rexpr) \
  ASSIGN_OR_RETURN_IMPL(GRIDMIS_CONCAT(gridmis_result_, __COUNTER__), lhs, rexpr)
#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                          \
  if (!tmp.ok()) return tmp.status();          \
  lhs = std::move(tmp).value()
