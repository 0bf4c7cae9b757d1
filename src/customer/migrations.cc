#include "customer/migrations.h"

namespace gridmis::customer {

namespace {

constexpr std::string_view kTables = R"sql(
CREATE TABLE customers (
  {{PK}},
  customer_no TEXT NOT NULL UNIQUE,     -- 户号
  name TEXT NOT NULL,
  category TEXT NOT NULL,               -- residential, commercial, large_industry, agricultural, other
  id_doc_type TEXT,                     -- resident_id, unified_credit_code, passport, other
  id_doc_no TEXT,
  address TEXT NOT NULL,
  postal_address TEXT,
  phone TEXT,
  mobile TEXT,
  email TEXT,
  status TEXT NOT NULL DEFAULT 'active',   -- active, suspended, closed
  department_id BIGINT NOT NULL REFERENCES departments(id),
  transformer_area_id BIGINT REFERENCES transformer_areas(id),
  account_manager_id BIGINT REFERENCES users(id),   -- 客户经理, for the "self" data scope
  opened_on TEXT,                       -- YYYY-MM-DD business date
  closed_on TEXT,
  remark TEXT NOT NULL DEFAULT '',
  version BIGINT NOT NULL DEFAULT 1,
  created_at_us BIGINT NOT NULL,
  updated_at_us BIGINT NOT NULL
);
CREATE INDEX customers_department ON customers (department_id, id);
CREATE INDEX customers_name ON customers (name);
CREATE INDEX customers_mobile ON customers (mobile);
CREATE INDEX customers_phone ON customers (phone);
CREATE INDEX customers_transformer_area ON customers (transformer_area_id);
CREATE INDEX customers_manager ON customers (account_manager_id);
-- Search (customer.cc) pages through these in sort order: the whole table, or department by
-- department (customer numbers and creation order run department by department).
CREATE INDEX customers_created ON customers (created_at_us);
CREATE INDEX customers_department_no ON customers (department_id, customer_no);
CREATE INDEX customers_department_created ON customers (department_id, created_at_us);
CREATE INDEX customers_category ON customers (category, customer_no);

CREATE TABLE customer_contacts (
  {{PK}},
  customer_id BIGINT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  role TEXT NOT NULL DEFAULT 'owner',   -- owner, electrician, finance, agent, other
  phone TEXT,
  email TEXT,
  is_primary BIGINT NOT NULL DEFAULT 0,
  version BIGINT NOT NULL DEFAULT 1,
  created_at_us BIGINT NOT NULL,
  updated_at_us BIGINT NOT NULL
);
CREATE INDEX customer_contacts_customer ON customer_contacts (customer_id);

CREATE TABLE accounts (                 -- 账户: who pays, and how
  {{PK}},
  account_no TEXT NOT NULL UNIQUE,
  customer_id BIGINT NOT NULL REFERENCES customers(id),
  name TEXT NOT NULL,
  payment_method TEXT NOT NULL DEFAULT 'counter',  -- counter, bank_debit, prepaid, online
  bank_name TEXT,
  bank_account_no TEXT,
  invoice_title TEXT,
  tax_no TEXT,
  status TEXT NOT NULL DEFAULT 'active',
  department_id BIGINT NOT NULL REFERENCES departments(id),
  version BIGINT NOT NULL DEFAULT 1,
  created_at_us BIGINT NOT NULL,
  updated_at_us BIGINT NOT NULL
);
CREATE INDEX accounts_customer ON accounts (customer_id)
)sql";

}  // namespace

const std::vector<store::Migration>& Migrations() {
  static const std::string kSqlite = std::string(kTables) + R"sql(;
-- Substring search over name and address (trigram: any 3+ character fragment).
CREATE VIRTUAL TABLE customers_fts USING fts5(name, address, content='customers',
  content_rowid='id', tokenize='trigram');
CREATE TRIGGER customers_fts_ai AFTER INSERT ON customers BEGIN
  INSERT INTO customers_fts (rowid, name, address) VALUES (new.id, new.name, new.address);
END;
CREATE TRIGGER customers_fts_ad AFTER DELETE ON customers BEGIN
  INSERT INTO customers_fts (customers_fts, rowid, name, address)
    VALUES ('delete', old.id, old.name, old.address);
END;
CREATE TRIGGER customers_fts_au AFTER UPDATE OF name, address ON customers BEGIN
  INSERT INTO customers_fts (customers_fts, rowid, name, address)
    VALUES ('delete', old.id, old.name, old.address);
  INSERT INTO customers_fts (rowid, name, address) VALUES (new.id, new.name, new.address);
END
)sql";
  static const std::string kPostgres = std::string(kTables) + R"sql(;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX customers_name_trgm ON customers USING gin (name gin_trgm_ops);
CREATE INDEX customers_address_trgm ON customers USING gin (address gin_trgm_ops);
-- Name-prefix search (LIKE 'x%') whatever the database's collation.
CREATE INDEX customers_name_pattern ON customers (name text_pattern_ops)
)sql";
  static const std::vector<store::Migration> kMigrations = {
      {"customer", 1, "customers, contacts, accounts, search", kSqlite, kPostgres},
  };
  return kMigrations;
}

}  // namespace gridmis::customer
