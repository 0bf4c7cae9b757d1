#include "org/migrations.h"

namespace gridmis::org {

const std::vector<store::Migration>& Migrations() {
  static const std::vector<store::Migration> kMigrations = {
      {"org", 1, "departments, users, roles, sessions, api tokens, audit log", R"sql(
CREATE TABLE departments (
  {{PK}},
  code TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,            -- company, city, county, station, office
  parent_id BIGINT REFERENCES departments(id),
  path TEXT NOT NULL,            -- "/1/4/9/": ancestors and self, for subtree queries
  status TEXT NOT NULL DEFAULT 'active',
  sort_order BIGINT NOT NULL DEFAULT 0,
  version BIGINT NOT NULL DEFAULT 1,
  created_at_us BIGINT NOT NULL,
  updated_at_us BIGINT NOT NULL
);
CREATE INDEX departments_parent ON departments (parent_id);
CREATE INDEX departments_path ON departments (path);

CREATE TABLE roles (
  {{PK}},
  code TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  category TEXT NOT NULL,        -- admin (三员) or business
  data_scope TEXT NOT NULL,      -- self, own_department, department_and_below, all
  builtin BIGINT NOT NULL DEFAULT 0,
  description TEXT NOT NULL DEFAULT '',
  version BIGINT NOT NULL DEFAULT 1,
  created_at_us BIGINT NOT NULL,
  updated_at_us BIGINT NOT NULL
);

CREATE TABLE role_permissions (
  role_id BIGINT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
  permission TEXT NOT NULL,
  PRIMARY KEY (role_id, permission)
);

CREATE TABLE users (
  {{PK}},
  username TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  department_id BIGINT NOT NULL REFERENCES departments(id),
  phone TEXT,
  email TEXT,
  password_hash TEXT NOT NULL,
  password_changed_at_us BIGINT NOT NULL,
  must_change_password BIGINT NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT 'active',   -- active, disabled
  failed_logins BIGINT NOT NULL DEFAULT 0,
  locked_until_us BIGINT NOT NULL DEFAULT 0,
  last_login_at_us BIGINT,
  version BIGINT NOT NULL DEFAULT 1,
  created_at_us BIGINT NOT NULL,
  updated_at_us BIGINT NOT NULL
);
CREATE INDEX users_department ON users (department_id);

CREATE TABLE user_roles (
  user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role_id BIGINT NOT NULL REFERENCES roles(id),
  PRIMARY KEY (user_id, role_id)
);
CREATE INDEX user_roles_role ON user_roles (role_id);

CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  user_id BIGINT NOT NULL REFERENCES users(id),
  created_at_us BIGINT NOT NULL,
  last_seen_at_us BIGINT NOT NULL,
  expires_at_us BIGINT NOT NULL,   -- absolute lifetime
  revoked_at_us BIGINT,
  remote_ip TEXT NOT NULL DEFAULT '',
  user_agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
  {{PK}},
  name TEXT NOT NULL,
  prefix TEXT NOT NULL,            -- first characters, to recognise a token in lists
  token_hash TEXT NOT NULL UNIQUE,
  user_id BIGINT NOT NULL REFERENCES users(id),
  created_by BIGINT REFERENCES users(id),
  created_at_us BIGINT NOT NULL,
  expires_at_us BIGINT,
  revoked_at_us BIGINT,
  last_used_at_us BIGINT
);

CREATE TABLE audit_log (
  id BIGINT PRIMARY KEY,
  at_us BIGINT NOT NULL,
  user_id BIGINT,
  username TEXT NOT NULL,
  action TEXT NOT NULL,
  entity TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  before_json TEXT,
  after_json TEXT,
  remote_ip TEXT NOT NULL DEFAULT '',
  department_id BIGINT,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX audit_entity ON audit_log (entity, entity_id, id);
CREATE INDEX audit_at ON audit_log (at_us);
CREATE INDEX audit_user ON audit_log (username, id);

CREATE TABLE audit_chain (
  id BIGINT PRIMARY KEY,
  seq BIGINT NOT NULL,
  last_hash TEXT NOT NULL
);
INSERT INTO audit_chain (id, seq, last_hash) VALUES (1, 0, '')
)sql"},
  };
  return kMigrations;
}

}  // namespace gridmis::org
