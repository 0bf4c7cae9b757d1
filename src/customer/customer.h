// Customers (户号), their contacts and their accounts (who pays, and how), and the customer
// search used at the counter.
//
// Data scope: a customer belongs to a department and may have an account manager (客户经理);
// actors see customers by org::Actor::CanSee(department_id, account_manager_id), so a "self"
// scope user sees the customers they manage. Contacts and accounts follow their customer.
// Records outside the scope are NotFound. Reads need customer.read, writes customer.write;
// every write is audited with before/after values in its transaction; edits carry the version
// they were based on (stale: Aborted, HTTP 409).
//
// Search is built for a million customers on SQLite (a few milliseconds per page, measured on
// the demo utility):
//   - q of digits: customer number prefix, and from 4 digits also mobile or phone prefix, as
//     index range scans (customer_no >= '1501' AND customer_no < '1502'); digits that begin more
//     than kCountCap customer numbers (a county's prefix) search customer numbers only;
//   - other text of 3+ characters: name or address contains, through the customers_fts trigram
//     index on SQLite and the pg_trgm GIN indexes (ILIKE) on PostgreSQL;
//   - other text of 1-2 characters: name prefix;
// always intersected with the data scope and the other filters. The total counts at most
// kCountCap + 1 rows, so a broad query never counts the whole table. On SQLite, which has no
// statistics, Search chooses the index that drives the query from those capped counts (see
// customer.cc). However broad the text, the page is in the requested order: up to 50,000
// trigram matches are read from customers_fts and sorted (a few milliseconds); broader text
// first tries the first entries of the sort index, where such text is usually dense, and
// otherwise sorts every match too (at worst about 0.2 s for a million on the demo utility).
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.h"
#include "grid/records.h"
#include "org/actor.h"
#include "store/db.h"

namespace gridmis::customer {

// ---- Identity documents and masking (pure) ----

// GB 11643 居民身份证号码: the check character ('0'-'9' or 'X') for the first 17 digits, or '\0'
// when they are not 17 digits.
char ResidentIdCheckChar(std::string_view first17);
// 18 characters: 6-digit area code, a valid birth date YYYYMMDD, 3-digit sequence, check char.
bool IsValidResidentId(std::string_view id);
// GB 32100 统一社会信用代码: the check character for the first 17 characters, or '\0' when one
// is outside the code's alphabet (digits and capitals except I, O, S, V, Z).
char CreditCodeCheckChar(std::string_view first17);
bool IsValidCreditCode(std::string_view code);
// 11 digits starting with 1.
bool IsValidMobile(std::string_view s);
// A fixed-line or mobile number: digits and '-', 7-20 characters, at least 7 digits.
bool IsValidPhone(std::string_view s);
bool IsValidEmail(std::string_view s);

// For list views: "150****1234" (first 3, last 4); shorter numbers keep less.
std::string MaskPhone(std::string_view s);
// "150102********1234" (first 6, last 4); shorter documents keep less.
std::string MaskIdentity(std::string_view s);

// ---- Records ----

inline constexpr int64_t kCountCap = grid::kListCountCap;

struct Customer {
  int64_t id = 0;
  std::string customer_no;  // 户号: 10-20 digits, unique, never changes
  std::string name;
  std::string category;  // residential, commercial, large_industry, agricultural, other
  std::optional<std::string> id_doc_type;  // resident_id, unified_credit_code, passport, other
  std::optional<std::string> id_doc_no;
  std::string address;
  std::optional<std::string> postal_address;
  std::optional<std::string> phone;
  std::optional<std::string> mobile;
  std::optional<std::string> email;
  std::string status = "active";  // active, suspended, closed
  int64_t department_id = 0;
  std::optional<int64_t> transformer_area_id;
  std::optional<int64_t> account_manager_id;
  std::optional<std::string> opened_on;  // YYYY-MM-DD
  std::optional<std::string> closed_on;
  std::string remark;
  int64_t version = 0;
  int64_t created_at_us = 0;
  int64_t updated_at_us = 0;
};

// Create: customer_no, name, category, address and department_id are required. Update: absent
// fields stay; Nullable fields can be cleared.
struct CustomerInput {
  std::optional<std::string> customer_no;
  std::optional<std::string> name;
  std::optional<std::string> category;
  // Given together: type and number (clearing one clears both).
  grid::Nullable<std::string> id_doc_type;
  grid::Nullable<std::string> id_doc_no;
  std::optional<std::string> address;
  grid::Nullable<std::string> postal_address;
  grid::Nullable<std::string> phone;
  grid::Nullable<std::string> mobile;
  grid::Nullable<std::string> email;
  std::optional<std::string> status;
  std::optional<int64_t> department_id;
  grid::Nullable<int64_t> transformer_area_id;  // must exist and be visible
  grid::Nullable<int64_t> account_manager_id;   // an active user
  grid::Nullable<std::string> opened_on;
  grid::Nullable<std::string> closed_on;
  std::optional<std::string> remark;
};

struct CustomerQuery {
  std::string q;  // see the header comment; at most 100 characters
  std::string category;
  std::string status;
  std::optional<int64_t> department_id;  // that department and below
  std::optional<int64_t> transformer_area_id;
  std::optional<int64_t> account_manager_id;
  std::string sort = "customer_no";  // customer_no, name, -created_at
  int page = 1;
  int page_size = 20;
};

struct CustomerPage {
  // Identity numbers, phones and mobiles are masked (MaskIdentity, MaskPhone).
  std::vector<Customer> items;
  int64_t total = 0;          // at most kCountCap
  bool total_capped = false;  // more than kCountCap records match
};

struct Contact {
  int64_t id = 0;
  int64_t customer_id = 0;
  std::string name;
  std::string role = "owner";  // owner, electrician, finance, agent, other
  std::optional<std::string> phone;
  std::optional<std::string> email;
  bool is_primary = false;  // at most one per customer
  int64_t version = 0;
  int64_t created_at_us = 0;
  int64_t updated_at_us = 0;
};

struct ContactInput {
  std::optional<std::string> name;  // required on create
  std::optional<std::string> role;
  grid::Nullable<std::string> phone;
  grid::Nullable<std::string> email;
  std::optional<bool> is_primary;  // true makes the others non-primary
};

// 账户: who pays, and how.
struct Account {
  int64_t id = 0;
  std::string account_no;  // unique
  int64_t customer_id = 0;
  std::string name;
  std::string payment_method = "counter";  // counter, bank_debit, prepaid, online
  std::optional<std::string> bank_name;    // both required for bank_debit
  std::optional<std::string> bank_account_no;
  std::optional<std::string> invoice_title;
  std::optional<std::string> tax_no;
  std::string status = "active";  // active, suspended, closed
  int64_t department_id = 0;      // the customer's, kept in step
  int64_t version = 0;
  int64_t created_at_us = 0;
  int64_t updated_at_us = 0;
};

struct AccountInput {
  std::optional<std::string> account_no;  // required on create
  std::optional<std::string> name;        // required on create
  std::optional<std::string> payment_method;
  grid::Nullable<std::string> bank_name;
  grid::Nullable<std::string> bank_account_no;
  grid::Nullable<std::string> invoice_title;
  grid::Nullable<std::string> tax_no;
  std::optional<std::string> status;
};

// Thread-safe: it holds no state besides its references.
class CustomerService {
 public:
  CustomerService(store::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  Result<CustomerPage> Search(const org::Actor& actor, const CustomerQuery& q);
  // The full record (identity and phone numbers unmasked).
  Result<Customer> Get(const org::Actor& actor, int64_t id);
  Result<Customer> Create(const org::Actor& actor, const CustomerInput& in);
  // Moving a customer to another department moves its accounts with it.
  Result<Customer> Update(const org::Actor& actor, int64_t id, int64_t version,
                          const CustomerInput& in);

  // Primary first, then by id.
  Result<std::vector<Contact>> ListContacts(const org::Actor& actor, int64_t customer_id);
  Result<Contact> AddContact(const org::Actor& actor, int64_t customer_id, const ContactInput& in);
  Result<Contact> UpdateContact(const org::Actor& actor, int64_t id, int64_t version,
                                const ContactInput& in);
  // `version`, when given, must be current.
  Status DeleteContact(const org::Actor& actor, int64_t id, std::optional<int64_t> version);

  // By account number.
  Result<std::vector<Account>> ListAccounts(const org::Actor& actor, int64_t customer_id);
  Result<Account> CreateAccount(const org::Actor& actor, int64_t customer_id,
                                const AccountInput& in);
  Result<Account> UpdateAccount(const org::Actor& actor, int64_t id, int64_t version,
                                const AccountInput& in);

 private:
  store::Database& db_;
  const Clock& clock_;
};

// Records as JSON for the API and the audit log, with full values.
nlohmann::json ToJson(const Customer& c);
nlohmann::json ToJson(const Contact& c);
nlohmann::json ToJson(const Account& a);

}  // namespace gridmis::customer
