#include "org/audit.h"

#include <sodium.h>

namespace gridmis::org {

namespace {

std::string Hex(const unsigned char* p, size_t n) {
  static const char* kHex = "0123456789abcdef";
  std::string s(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    s[2 * i] = kHex[p[i] >> 4];
    s[2 * i + 1] = kHex[p[i] & 15];
  }
  return s;
}

// BLAKE2b-256 over the previous hash and the row's fields, each length-prefixed.
std::string ChainHash(const std::string& prev, const AuditEntry& e) {
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, 32);
  auto add = [&](const std::string& s) {
    uint64_t n = s.size();
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(&n), sizeof n);
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(s.data()), s.size());
  };
  add(prev);
  add(std::to_string(e.id));
  add(std::to_string(e.at_us));
  add(std::to_string(e.user_id));
  add(e.username);
  add(e.action);
  add(e.entity);
  add(e.entity_id);
  add(e.before_json);
  add(e.after_json);
  add(e.remote_ip);
  add(std::to_string(e.department_id));
  unsigned char out[32];
  crypto_generichash_final(&st, out, sizeof out);
  return Hex(out, sizeof out);
}

}  // namespace

Status WriteAudit(store::Connection& c, const Actor& actor, const AuditRecord& r, int64_t now_us) {
  // The chain head row serialises audit writers (PostgreSQL row lock; SQLite has one writer).
  ASSIGN_OR_RETURN(std::string prev,
                   c.QueryText("UPDATE audit_chain SET seq = seq + 1 WHERE id = 1 "
                               "RETURNING last_hash"));
  ASSIGN_OR_RETURN(int64_t id, c.QueryInt("SELECT seq FROM audit_chain WHERE id = 1"));
  AuditEntry e;
  e.id = id;
  e.at_us = now_us;
  e.user_id = actor.user_id;
  e.username = actor.username;
  e.action = r.action;
  e.entity = r.entity;
  e.entity_id = r.entity_id;
  e.before_json = r.before_json;
  e.after_json = r.after_json;
  e.remote_ip = actor.remote_ip;
  e.department_id = r.department_id;
  std::string hash = ChainHash(prev, e);
  RETURN_IF_ERROR(
      c.Exec("INSERT INTO audit_log (id, at_us, user_id, username, action, entity, entity_id, "
             "before_json, after_json, remote_ip, department_id, prev_hash, hash) "
             "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)",
             {e.id, e.at_us, e.user_id == 0 ? store::Value() : store::Value(e.user_id), e.username,
              e.action, e.entity, e.entity_id,
              e.before_json.empty() ? store::Value() : store::Value(e.before_json),
              e.after_json.empty() ? store::Value() : store::Value(e.after_json), e.remote_ip,
              e.department_id == 0 ? store::Value() : store::Value(e.department_id), prev, hash})
          .status());
  return c.Exec("UPDATE audit_chain SET last_hash = $1 WHERE id = 1", {hash}).status();
}

namespace {
constexpr const char* kCols =
    "id, at_us, COALESCE(user_id, 0), username, action, entity, entity_id, "
    "COALESCE(before_json, ''), COALESCE(after_json, ''), COALESCE(remote_ip, ''), "
    "COALESCE(department_id, 0)";

AuditEntry ReadEntry(const store::Row& r) {
  return AuditEntry{r.Int(0),  r.Int(1),  r.Int(2),  r.Text(3), r.Text(4), r.Text(5),
                    r.Text(6), r.Text(7), r.Text(8), r.Text(9), r.Int(10)};
}

// The read permission guarding an entity's history for users without audit.read.
std::string EntityReadPermission(std::string_view entity) {
  if (entity == "customer" || entity == "account" || entity == "contact") return "customer.read";
  if (entity == "substation" || entity == "feeder" || entity == "transformer_area") {
    return "grid.read";
  }
  if (entity == "metering_point" || entity == "meter" || entity == "meter_installation") {
    return "metering.read";
  }
  if (entity == "terminal" || entity == "terminal_meter") return "terminal.read";
  if (entity == "department") return "org.department.read";
  if (entity == "user" || entity == "role") return "org.user.read";
  return "audit.read";
}
}  // namespace

Result<AuditPage> ListAudit(store::Database& db, const Actor& actor, const AuditQuery& q) {
  std::string where = "1=1";
  store::Params params;
  auto add = [&](const std::string& cond, store::Value v) {
    params.push_back(std::move(v));
    where += " AND " + cond + " $" + std::to_string(params.size());
  };
  if (!actor.Can("audit.read")) {
    // Business users may read the history of one record they can see.
    if (q.entity.empty() || q.entity_id.empty()) {
      return PermissionDenied(
          "permission 'audit.read' is required to browse the audit log; give entity and id to "
          "see one record's history");
    }
    RETURN_IF_ERROR(actor.Require(EntityReadPermission(q.entity)));
    where += " AND (department_id IS NULL OR " + actor.ScopeSql("department_id") + ")";
  }
  if (!q.entity.empty()) add("entity =", q.entity);
  if (!q.entity_id.empty()) add("entity_id =", q.entity_id);
  if (!q.username.empty()) add("username =", q.username);
  if (!q.action.empty()) add("action =", q.action);
  if (q.from_us) add("at_us >=", q.from_us);
  if (q.to_us) add("at_us <", q.to_us);
  AuditPage page;
  RETURN_IF_ERROR(db.Read([&](store::Connection& c) -> Status {
    ASSIGN_OR_RETURN(page.total,
                     c.QueryInt("SELECT COUNT(*) FROM audit_log WHERE " + where, params));
    store::Params p = params;
    p.push_back(static_cast<int64_t>(q.page_size));
    p.push_back(static_cast<int64_t>(q.page - 1) * q.page_size);
    return c.Query(std::string("SELECT ") + kCols + " FROM audit_log WHERE " + where +
                       " ORDER BY id DESC LIMIT $" + std::to_string(p.size() - 1) + " OFFSET $" +
                       std::to_string(p.size()),
                   p, [&](const store::Row& r) { page.items.push_back(ReadEntry(r)); });
  }));
  return page;
}

Result<int64_t> VerifyAuditChain(store::Database& db) {
  int64_t bad = 0;
  RETURN_IF_ERROR(db.Read([&](store::Connection& c) {
    std::string prev;
    return c.Query(std::string("SELECT ") + kCols + ", prev_hash, hash FROM audit_log ORDER BY id",
                   {}, [&](const store::Row& r) {
                     if (bad) return;
                     AuditEntry e = ReadEntry(r);
                     std::string want = ChainHash(prev, e);
                     if (r.Text(11) != prev || r.Text(12) != want) bad = e.id;
                     prev = r.Text(12);
                   });
  }));
  return bad;
}

}  // namespace gridmis::org
