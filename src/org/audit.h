// The audit log: every write records who, when, what (entity and id), the before and after
// values as JSON, and the client address. Rows are chained by hash (each row's hash covers the
// previous row's hash and its own content), so deleting or editing a row is detectable.
//
// Write audit rows in the same transaction as the change they describe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "org/actor.h"
#include "store/db.h"

namespace gridmis::org {

struct AuditRecord {
  std::string action;       // "create", "update", "delete", "login", "login_failed", "logout", ...
  std::string entity;       // "customer", "user", "department", ...
  std::string entity_id;    // the record's id as text
  std::string before_json;  // "" when there is no before (create) or nothing to show
  std::string after_json;   // "" for deletes
  int64_t department_id = 0;  // the department that owns the record (for scoped audit views)
};

// Appends one row. `now_us` stamps it.
Status WriteAudit(store::Connection& c, const Actor& actor, const AuditRecord& record,
                  int64_t now_us);

struct AuditEntry {
  int64_t id = 0;
  int64_t at_us = 0;
  int64_t user_id = 0;
  std::string username;
  std::string action;
  std::string entity;
  std::string entity_id;
  std::string before_json;
  std::string after_json;
  std::string remote_ip;
  int64_t department_id = 0;
};

struct AuditQuery {
  std::string entity;     // "" = any
  std::string entity_id;  // "" = any
  std::string username;   // "" = any
  std::string action;     // "" = any
  int64_t from_us = 0;    // inclusive; 0 = open
  int64_t to_us = 0;      // exclusive; 0 = open
  int page = 1;
  int page_size = 50;
};

struct AuditPage {
  std::vector<AuditEntry> items;
  int64_t total = 0;
};

// Newest first. Needs audit.read; records outside the actor's data scope are left out.
Result<AuditPage> ListAudit(store::Database& db, const Actor& actor, const AuditQuery& q);

// Recomputes the hash chain; returns the id of the first row that does not match, or 0.
Result<int64_t> VerifyAuditChain(store::Database& db);

}  // namespace gridmis::org
