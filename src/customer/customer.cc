#include "customer/customer.h"

#include <algorithm>
#include <iterator>
#include <nlohmann/json.hpp>

#include "http/json_fields.h"
#include "org/audit.h"

namespace gridmis::customer {

using grid::CheckOneOf;
using grid::CheckText;
using grid::InSql;
using grid::IsDigits;
using grid::SqlWhere;
using nlohmann::json;
using org::Actor;
using store::Connection;
using store::Row;

// ---------------------------------------------------------------------------------------------
// Identity documents, phones, masks

char ResidentIdCheckChar(std::string_view first17) {
  static constexpr int kWeights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  static constexpr char kCheck[] = "10X98765432";
  if (first17.size() != 17 || !IsDigits(first17)) return '\0';
  int sum = 0;
  for (int i = 0; i < 17; ++i) sum += (first17[i] - '0') * kWeights[i];
  return kCheck[sum % 11];
}

bool IsValidResidentId(std::string_view id) {
  if (id.size() != 18) return false;
  char check = ResidentIdCheckChar(id.substr(0, 17));
  if (check == '\0' || id[17] != check) return false;
  auto birth = Date::Parse(std::string(id.substr(6, 4)) + "-" + std::string(id.substr(10, 2)) +
                           "-" + std::string(id.substr(12, 2)));
  return birth.ok() && birth->year >= 1850;
}

namespace {
constexpr std::string_view kCreditAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";  // 31 characters
}  // namespace

char CreditCodeCheckChar(std::string_view first17) {
  static constexpr int kWeights[17] = {1,  3,  9,  27, 19, 26, 16, 17, 20,
                                       29, 25, 13, 8,  24, 10, 30, 28};
  if (first17.size() != 17) return '\0';
  int sum = 0;
  for (int i = 0; i < 17; ++i) {
    size_t v = kCreditAlphabet.find(first17[i]);
    if (v == std::string_view::npos) return '\0';
    sum += static_cast<int>(v) * kWeights[i];
  }
  int check = (31 - sum % 31) % 31;
  return kCreditAlphabet[check];
}

bool IsValidCreditCode(std::string_view code) {
  if (code.size() != 18) return false;
  char check = CreditCodeCheckChar(code.substr(0, 17));
  return check != '\0' && code[17] == check;
}

bool IsValidMobile(std::string_view s) { return s.size() == 11 && IsDigits(s) && s[0] == '1'; }

bool IsValidPhone(std::string_view s) {
  if (s.size() < 7 || s.size() > 20 || s.front() == '-' || s.back() == '-') return false;
  if (s.find("--") != std::string_view::npos) return false;
  size_t digits = 0;
  for (char ch : s) {
    if (ch >= '0' && ch <= '9') {
      ++digits;
    } else if (ch != '-') {
      return false;
    }
  }
  return digits >= 7;
}

bool IsValidEmail(std::string_view s) {
  if (s.size() < 3 || s.size() > 100) return false;
  size_t at = s.find('@');
  if (at == std::string_view::npos || at == 0 || s.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  std::string_view domain = s.substr(at + 1);
  size_t dot = domain.find('.');
  if (dot == std::string_view::npos || dot == 0 || domain.back() == '.') return false;
  return std::none_of(s.begin(), s.end(), [](char ch) {
    return static_cast<unsigned char>(ch) <= ' ' || ch == '<' || ch == '>' || ch == ',';
  });
}

namespace {
std::string MaskMiddle(std::string_view s, size_t head, size_t tail) {
  if (s.size() <= head + tail) {
    // Too short to keep both ends: keep at most a fifth at each end.
    head = tail = s.size() / 5;
  }
  std::string out(s.substr(0, head));
  out.append(s.size() - head - tail, '*');
  out.append(s.substr(s.size() - tail));
  return out;
}
}  // namespace

std::string MaskPhone(std::string_view s) { return MaskMiddle(s, 3, 4); }
std::string MaskIdentity(std::string_view s) { return MaskMiddle(s, 6, 4); }

// ---------------------------------------------------------------------------------------------
// JSON

namespace {
json Opt(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }
json Opt(const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); }
}  // namespace

json ToJson(const Customer& c) {
  return json{{"id", c.id},
              {"customer_no", c.customer_no},
              {"name", c.name},
              {"category", c.category},
              {"id_doc_type", Opt(c.id_doc_type)},
              {"id_doc_no", Opt(c.id_doc_no)},
              {"address", c.address},
              {"postal_address", Opt(c.postal_address)},
              {"phone", Opt(c.phone)},
              {"mobile", Opt(c.mobile)},
              {"email", Opt(c.email)},
              {"status", c.status},
              {"department_id", c.department_id},
              {"transformer_area_id", Opt(c.transformer_area_id)},
              {"account_manager_id", Opt(c.account_manager_id)},
              {"opened_on", Opt(c.opened_on)},
              {"closed_on", Opt(c.closed_on)},
              {"remark", c.remark},
              {"version", c.version},
              {"created_at", FormatUtc(c.created_at_us)},
              {"updated_at", FormatUtc(c.updated_at_us)}};
}

json ToJson(const Contact& c) {
  return json{{"id", c.id},
              {"customer_id", c.customer_id},
              {"name", c.name},
              {"role", c.role},
              {"phone", Opt(c.phone)},
              {"email", Opt(c.email)},
              {"is_primary", c.is_primary},
              {"version", c.version},
              {"created_at", FormatUtc(c.created_at_us)},
              {"updated_at", FormatUtc(c.updated_at_us)}};
}

json ToJson(const Account& a) {
  return json{{"id", a.id},
              {"account_no", a.account_no},
              {"customer_id", a.customer_id},
              {"name", a.name},
              {"payment_method", a.payment_method},
              {"bank_name", Opt(a.bank_name)},
              {"bank_account_no", Opt(a.bank_account_no)},
              {"invoice_title", Opt(a.invoice_title)},
              {"tax_no", Opt(a.tax_no)},
              {"status", a.status},
              {"department_id", a.department_id},
              {"version", a.version},
              {"created_at", FormatUtc(a.created_at_us)},
              {"updated_at", FormatUtc(a.updated_at_us)}};
}

namespace {

const std::initializer_list<std::string_view> kCategories = {
    "residential", "commercial", "large_industry", "agricultural", "other"};
const std::initializer_list<std::string_view> kCustomerStatuses = {"active", "suspended", "closed"};
const std::initializer_list<std::string_view> kDocTypes = {"resident_id", "unified_credit_code",
                                                           "passport", "other"};
const std::initializer_list<std::string_view> kContactRoles = {"owner", "electrician", "finance",
                                                               "agent", "other"};
const std::initializer_list<std::string_view> kPaymentMethods = {"counter", "bank_debit", "prepaid",
                                                                 "online"};
const std::initializer_list<std::string_view> kAccountStatuses = {"active", "suspended", "closed"};

Status Required(bool present, std::string_view field) {
  if (present) return Status::Ok();
  return InvalidArgument(std::string(field) + " is required", std::string(field));
}

std::string Upper(std::string s) {
  for (char& ch : s) {
    if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
  }
  return s;
}

// ---- Customers: rows, checks ----

constexpr const char* kCustomerCols =
    "c.id, c.customer_no, c.name, c.category, c.id_doc_type, c.id_doc_no, c.address, "
    "c.postal_address, c.phone, c.mobile, c.email, c.status, c.department_id, "
    "c.transformer_area_id, c.account_manager_id, c.opened_on, c.closed_on, c.remark, c.version, "
    "c.created_at_us, c.updated_at_us";

Customer ReadCustomer(const Row& r) {
  Customer c;
  c.id = r.Int(0);
  c.customer_no = r.Text(1);
  c.name = r.Text(2);
  c.category = r.Text(3);
  c.id_doc_type = r.OptText(4);
  c.id_doc_no = r.OptText(5);
  c.address = r.Text(6);
  c.postal_address = r.OptText(7);
  c.phone = r.OptText(8);
  c.mobile = r.OptText(9);
  c.email = r.OptText(10);
  c.status = r.Text(11);
  c.department_id = r.Int(12);
  c.transformer_area_id = r.OptInt(13);
  c.account_manager_id = r.OptInt(14);
  c.opened_on = r.OptText(15);
  c.closed_on = r.OptText(16);
  c.remark = r.Text(17);
  c.version = r.Int(18);
  c.created_at_us = r.Int(19);
  c.updated_at_us = r.Int(20);
  return c;
}

Result<std::optional<Customer>> LoadCustomer(Connection& c, int64_t id) {
  std::optional<Customer> out;
  RETURN_IF_ERROR(
      c.Query(std::string("SELECT ") + kCustomerCols + " FROM customers c WHERE c.id = $1", {id},
              [&](const Row& r) { out = ReadCustomer(r); }));
  return out;
}

bool Visible(const Actor& actor, const Customer& c) {
  return actor.CanSee(c.department_id, c.account_manager_id);
}

// The customer if it exists and the actor may see it; NotFound otherwise.
Result<Customer> LoadVisibleCustomer(Connection& c, const Actor& actor, int64_t id) {
  ASSIGN_OR_RETURN(auto cu, LoadCustomer(c, id));
  if (!cu || !Visible(actor, *cu)) return NotFound("customer " + std::to_string(id) + " not found");
  return *cu;
}

Status CheckDate(const std::optional<std::string>& d, std::string_view field) {
  if (!d) return Status::Ok();
  auto parsed = Date::Parse(*d, field);
  if (!parsed.ok()) return InvalidArgument(parsed.status().message(), std::string(field));
  return Status::Ok();
}

// Checks a complete (created or merged) customer record.
Status CheckCustomer(const Customer& c) {
  if (c.customer_no.size() < 10 || c.customer_no.size() > 20 || !IsDigits(c.customer_no)) {
    return InvalidArgument(
        "customer_no must be 10-20 digits (got '" + c.customer_no.substr(0, 40) + "')",
        "customer_no");
  }
  RETURN_IF_ERROR(CheckText(c.name, "name", 1, 100));
  RETURN_IF_ERROR(CheckOneOf(c.category, "category", kCategories));
  if (c.id_doc_type.has_value() != c.id_doc_no.has_value()) {
    return c.id_doc_type ? InvalidArgument("id_doc_no is required with id_doc_type", "id_doc_no")
                         : InvalidArgument("id_doc_type is required with id_doc_no", "id_doc_type");
  }
  if (c.id_doc_type) {
    RETURN_IF_ERROR(CheckOneOf(*c.id_doc_type, "id_doc_type", kDocTypes));
    const std::string& no = *c.id_doc_no;
    if (*c.id_doc_type == "resident_id" && !IsValidResidentId(no)) {
      return InvalidArgument(
          "id_doc_no is not a valid resident identity number: 18 characters with a valid birth "
          "date and the GB 11643 check digit",
          "id_doc_no");
    }
    if (*c.id_doc_type == "unified_credit_code" && !IsValidCreditCode(no)) {
      return InvalidArgument(
          "id_doc_no is not a valid unified social credit code: 18 characters of 0-9 and A-Y "
          "(without I, O, S, V, Z) with the GB 32100 check character",
          "id_doc_no");
    }
    RETURN_IF_ERROR(CheckText(no, "id_doc_no", 1, 40));
  }
  RETURN_IF_ERROR(CheckText(c.address, "address", 1, 200));
  if (c.postal_address) RETURN_IF_ERROR(CheckText(*c.postal_address, "postal_address", 1, 200));
  if (c.phone && !IsValidPhone(*c.phone)) {
    return InvalidArgument(
        "phone must be a telephone number of 7-20 digits and '-', e.g. "
        "0474-8123456",
        "phone");
  }
  if (c.mobile && !IsValidMobile(*c.mobile)) {
    return InvalidArgument("mobile must be 11 digits starting with 1", "mobile");
  }
  if (c.email && !IsValidEmail(*c.email)) {
    return InvalidArgument("email is not a valid e-mail address", "email");
  }
  RETURN_IF_ERROR(CheckOneOf(c.status, "status", kCustomerStatuses));
  RETURN_IF_ERROR(CheckDate(c.opened_on, "opened_on"));
  RETURN_IF_ERROR(CheckDate(c.closed_on, "closed_on"));
  if (c.opened_on && c.closed_on && *c.closed_on < *c.opened_on) {
    return InvalidArgument("closed_on " + *c.closed_on + " is before opened_on " + *c.opened_on,
                           "closed_on");
  }
  return CheckText(c.remark, "remark", 0, 500);
}

// Applies `in` over `c` (all of it on create, over the stored record on update).
void MergeCustomer(const CustomerInput& in, Customer* c) {
  if (in.customer_no) c->customer_no = *in.customer_no;
  if (in.name) c->name = *in.name;
  if (in.category) c->category = *in.category;
  // The document's type and number go together: clearing either clears both.
  bool clear_doc = (in.id_doc_type && !*in.id_doc_type) || (in.id_doc_no && !*in.id_doc_no);
  c->id_doc_type = grid::Merge(in.id_doc_type, c->id_doc_type);
  c->id_doc_no = grid::Merge(in.id_doc_no, c->id_doc_no);
  if (clear_doc) {
    c->id_doc_type.reset();
    c->id_doc_no.reset();
  }
  if (c->id_doc_type && c->id_doc_no &&
      (*c->id_doc_type == "resident_id" || *c->id_doc_type == "unified_credit_code")) {
    c->id_doc_no = Upper(*c->id_doc_no);
  }
  if (in.address) c->address = *in.address;
  c->postal_address = grid::Merge(in.postal_address, c->postal_address);
  c->phone = grid::Merge(in.phone, c->phone);
  c->mobile = grid::Merge(in.mobile, c->mobile);
  c->email = grid::Merge(in.email, c->email);
  if (in.status) c->status = *in.status;
  if (in.department_id) c->department_id = *in.department_id;
  c->transformer_area_id = grid::Merge(in.transformer_area_id, c->transformer_area_id);
  c->account_manager_id = grid::Merge(in.account_manager_id, c->account_manager_id);
  c->opened_on = grid::Merge(in.opened_on, c->opened_on);
  c->closed_on = grid::Merge(in.closed_on, c->closed_on);
  if (in.remark) c->remark = *in.remark;
}

// The references of a created or changed customer: its department (and the actor must still
// see the record), transformer area and account manager.
Status CheckCustomerReferences(Connection& c, const Actor& actor, const Customer& cu,
                               const Customer* before) {
  if (!before || before->department_id != cu.department_id) {
    // A "self" scope user places customers in their own department.
    RETURN_IF_ERROR(grid::CheckDepartment(c, actor, cu.department_id));
  }
  if (!Visible(actor, cu)) {
    return InvalidArgument(
        "with the 'self' data scope you may only keep customers you manage: set "
        "account_manager_id to your own user id (" +
            std::to_string(actor.user_id) + ")",
        "account_manager_id");
  }
  if (cu.transformer_area_id &&
      (!before || before->transformer_area_id != cu.transformer_area_id)) {
    RETURN_IF_ERROR(grid::CheckVisibleReference(c, actor, "transformer_areas", "transformer area",
                                                *cu.transformer_area_id, "transformer_area_id")
                        .status());
  }
  if (cu.account_manager_id && (!before || before->account_manager_id != cu.account_manager_id)) {
    std::optional<std::string> status;
    RETURN_IF_ERROR(c.Query("SELECT status FROM users WHERE id = $1", {*cu.account_manager_id},
                            [&](const Row& r) { status = r.Text(0); }));
    if (status != "active") {
      return InvalidArgument(
          "user " + std::to_string(*cu.account_manager_id) + " does not exist or is not active",
          "account_manager_id");
    }
  }
  return Status::Ok();
}

Status CustomerNoTaken(const Status& s, const std::string& customer_no) {
  if (s.code() == StatusCode::kAlreadyExists) {
    return AlreadyExists("customer number " + customer_no + " is already used", "customer_no");
  }
  return s;
}

// ---- Search ----

// The smallest string greater than every string starting with the digit string `prefix`, when
// one exists: "1501" -> "1502", "1599" -> "16", "99" -> none. Digits compare the same under
// every collation, so the range works on PostgreSQL whatever the database's locale.
std::optional<std::string> NextDigitPrefix(std::string prefix) {
  while (!prefix.empty() && prefix.back() == '9') prefix.pop_back();
  if (prefix.empty()) return std::nullopt;
  ++prefix.back();
  return prefix;
}

// "col >= $a AND col < $b" for the strings starting with `lo` (`hi` from Next*Prefix).
std::string PrefixRange(SqlWhere& w, std::string_view col, const std::string& lo,
                        const std::optional<std::string>& hi, const std::string& lo_param) {
  std::string c(col);
  if (hi) return "(" + c + " >= " + lo_param + " AND " + c + " < " + w.Bind(*hi) + ")";
  // No upper bound ("999", or the last code point of Unicode): compare the leading part.
  return "(" + c + " >= " + lo_param + " AND substr(" + c + ", 1, " +
         w.Bind(static_cast<int64_t>(http::Utf8Length(lo))) + ") = " + lo_param + ")";
}

// Which columns a query may use indexes on. SQLite has no statistics here (nobody runs ANALYZE
// on a generated database) and guesses: it prefers "department_id IN (...)" over a one-row
// customer_no range, and sorts hundreds of thousands of matches for a page of 20. Search picks
// the driving index itself from capped counts, and writes every other column as "+c.col",
// which SQLite cannot use an index for. PostgreSQL plans with statistics: no hints there.
struct Indexable {
  enum class Fts {
    kRowTest,  // a per-row substring test
    kJoin,     // customers_fts drives a join (see FromClause): streams its matches
  };
  bool all = false;  // every column (PostgreSQL)
  std::vector<std::string_view> columns;
  Fts fts = Fts::kRowTest;

  std::string col(std::string_view name) const {
    bool indexed = all || std::find(columns.begin(), columns.end(), name) != columns.end();
    return (indexed ? "c." : "+c.") + std::string(name);
  }
};

// Text that an index lists, on SQLite: trigram text (customers_fts, in rowid order) and one or
// two characters (a name prefix: the name index). Measured on the demo utility (a million
// customers, 2 cores, a reader's page cache of 16 MiB):
//   - reading every match from customers and sorting them costs about 0.13 µs a trigram match
//     (a town's or a street's customers are neighbours in rowid order: 7 ms for 50,000) but up
//     to 2 µs a name-prefix match (a surname's customers are scattered: 15-20 ms for 10,000),
//     wherever the matches sit in the sort order;
//   - walking the sort index and testing each row costs about 0.2 µs an entry up to the last
//     row of the page: next to nothing when the matches are dense in that order (a common
//     surname, the city's name in every address), hundreds of milliseconds when they sit in one
//     county far down it (the 10,000-50,000 matches of a town's or a street's name).
// So Search sorts every match of trigram text that customers_fts lists at most kTextSortCap
// times, and of a name prefix of at most kCountCap matches (as before). Beyond, it first walks
// the sort index up to its kProbeEntries-th entry (a share of that in each department's
// stretch of the index when departments drive; an eighth in name order, whose rows are
// scattered): when the matches there fill the page, they are the page. When they do not, it
// sorts every match of trigram text, however many (at worst about 0.2 s for a million), or of
// a name prefix of at most kTextSortCap; a name prefix of more (a common surname, whose
// scattered rows cost the most to sort) walks on as before. Every plan returns the rows of the
// requested order: only the cost differs.
constexpr int64_t kTextSortCap = 50'000;
constexpr int64_t kProbeEntries = 16'384;
constexpr int64_t kProbeMinEntries = 1'024;  // per department, when many departments drive

// Whether the trigram index serves `q` on SQLite (3+ characters, not all digits).
bool IsTrigramText(const std::string& q) { return !IsDigits(q) && http::Utf8Length(q) >= 3; }

// An FTS5 string: the text in double quotes, inner quotes doubled. The trigram tokenizer matches
// it anywhere in the name or the address, case-insensitively.
std::string FtsPhrase(const std::string& q) {
  std::string fts = "\"";
  for (char ch : q) {
    fts += ch;
    if (ch == '"') fts += '"';
  }
  fts += '"';
  return fts;
}

// "customers c WHERE " or, when the trigram index drives, the join that streams its matches
// (CROSS JOIN: SQLite keeps that order, rather than walking an index of customers for an
// ORDER BY and looking each row up in customers_fts).
std::string FromClause(const Indexable& ix, const std::string& q) {
  if (ix.fts == Indexable::Fts::kJoin && IsTrigramText(q)) {
    return "customers_fts CROSS JOIN customers c ON c.id = customers_fts.rowid WHERE ";
  }
  return "customers c WHERE ";
}

// Adds the condition for the search text `q` (trimmed, not empty). With `numbers_only`, digits
// search customer numbers only.
void AddSearchText(SqlWhere& w, store::Dialect dialect, const std::string& q, const Indexable& ix,
                   bool numbers_only) {
  if (IsDigits(q)) {
    std::optional<std::string> hi = NextDigitPrefix(q);
    std::string lo = w.Bind(q);
    if (numbers_only) {
      w.And(PrefixRange(w, ix.col("customer_no"), q, hi, lo));
      return;
    }
    w.And("(" + PrefixRange(w, ix.col("customer_no"), q, hi, lo) + " OR " +
          PrefixRange(w, ix.col("mobile"), q, hi, lo) + " OR " +
          PrefixRange(w, ix.col("phone"), q, hi, lo) + ")");
    return;
  }
  if (http::Utf8Length(q) >= 3) {
    if (dialect != store::Dialect::kSqlite) {
      std::string p = w.Bind("%" + store::EscapeLike(q) + "%");  // pg_trgm GIN indexes
      w.And("(c.name ILIKE " + p + " ESCAPE '\\' OR c.address ILIKE " + p + " ESCAPE '\\')");
    } else if (ix.fts == Indexable::Fts::kJoin) {
      w.And("customers_fts MATCH " + w.Bind(FtsPhrase(q)));
    } else {
      // The same test row by row (case-insensitive for ASCII, like the trigram tokenizer).
      std::string p = w.Bind(q);
      w.And("(instr(lower(c.name), lower(" + p + ")) > 0 OR instr(lower(c.address), lower(" + p +
            ")) > 0)");
    }
    return;
  }
  // One or two characters: name prefix.
  if (dialect == store::Dialect::kSqlite) {
    w.And(PrefixRange(w, ix.col("name"), q, grid::NextPrefix(q), w.Bind(q)));
  } else {
    // text_pattern_ops index (customers_name_pattern) serves it under any collation.
    w.And("c.name LIKE " + w.Bind(store::EscapeLike(q) + "%") + " ESCAPE '\\'");
  }
}

void MaskForList(Customer* cu) {
  if (cu->id_doc_no) cu->id_doc_no = MaskIdentity(*cu->id_doc_no);
  if (cu->phone) cu->phone = MaskPhone(*cu->phone);
  if (cu->mobile) cu->mobile = MaskPhone(*cu->mobile);
}

// ---- Contacts ----

constexpr const char* kContactCols =
    "k.id, k.customer_id, k.name, k.role, k.phone, k.email, k.is_primary, k.version, "
    "k.created_at_us, k.updated_at_us";

Contact ReadContact(const Row& r) {
  Contact k;
  k.id = r.Int(0);
  k.customer_id = r.Int(1);
  k.name = r.Text(2);
  k.role = r.Text(3);
  k.phone = r.OptText(4);
  k.email = r.OptText(5);
  k.is_primary = r.Bool(6);
  k.version = r.Int(7);
  k.created_at_us = r.Int(8);
  k.updated_at_us = r.Int(9);
  return k;
}

Result<std::optional<Contact>> LoadContact(Connection& c, int64_t id) {
  std::optional<Contact> k;
  RETURN_IF_ERROR(
      c.Query(std::string("SELECT ") + kContactCols + " FROM customer_contacts k WHERE k.id = $1",
              {id}, [&](const Row& r) { k = ReadContact(r); }));
  return k;
}

Status CheckContact(const Contact& k) {
  RETURN_IF_ERROR(CheckText(k.name, "name", 1, 50));
  RETURN_IF_ERROR(CheckOneOf(k.role, "role", kContactRoles));
  if (k.phone && !IsValidPhone(*k.phone)) {
    return InvalidArgument("phone must be a mobile or telephone number of 7-20 digits and '-'",
                           "phone");
  }
  if (k.email && !IsValidEmail(*k.email)) {
    return InvalidArgument("email is not a valid e-mail address", "email");
  }
  return Status::Ok();
}

void MergeContact(const ContactInput& in, Contact* k) {
  if (in.name) k->name = *in.name;
  if (in.role) k->role = *in.role;
  k->phone = grid::Merge(in.phone, k->phone);
  k->email = grid::Merge(in.email, k->email);
  if (in.is_primary) k->is_primary = *in.is_primary;
}

// Makes every other contact of the customer non-primary, auditing each change.
Status ClearOtherPrimaries(Connection& c, const Actor& actor, int64_t customer_id,
                           int64_t except_id, int64_t department_id, int64_t now) {
  std::vector<Contact> others;
  RETURN_IF_ERROR(c.Query(std::string("SELECT ") + kContactCols +
                              " FROM customer_contacts k WHERE k.customer_id = $1 AND "
                              "k.is_primary = 1 AND k.id <> $2",
                          {customer_id, except_id},
                          [&](const Row& r) { others.push_back(ReadContact(r)); }));
  for (const Contact& before : others) {
    RETURN_IF_ERROR(c.Exec("UPDATE customer_contacts SET is_primary = 0, version = version + 1, "
                           "updated_at_us = $1 WHERE id = $2",
                           {now, before.id})
                        .status());
    Contact after = before;
    after.is_primary = false;
    after.version += 1;
    after.updated_at_us = now;
    RETURN_IF_ERROR(org::WriteAudit(c, actor,
                                    {"update", "contact", std::to_string(before.id),
                                     ToJson(before).dump(), ToJson(after).dump(), department_id},
                                    now));
  }
  return Status::Ok();
}

// ---- Accounts ----

constexpr const char* kAccountCols =
    "a.id, a.account_no, a.customer_id, a.name, a.payment_method, a.bank_name, "
    "a.bank_account_no, a.invoice_title, a.tax_no, a.status, a.department_id, a.version, "
    "a.created_at_us, a.updated_at_us";

Account ReadAccount(const Row& r) {
  Account a;
  a.id = r.Int(0);
  a.account_no = r.Text(1);
  a.customer_id = r.Int(2);
  a.name = r.Text(3);
  a.payment_method = r.Text(4);
  a.bank_name = r.OptText(5);
  a.bank_account_no = r.OptText(6);
  a.invoice_title = r.OptText(7);
  a.tax_no = r.OptText(8);
  a.status = r.Text(9);
  a.department_id = r.Int(10);
  a.version = r.Int(11);
  a.created_at_us = r.Int(12);
  a.updated_at_us = r.Int(13);
  return a;
}

Result<std::optional<Account>> LoadAccount(Connection& c, int64_t id) {
  std::optional<Account> a;
  RETURN_IF_ERROR(
      c.Query(std::string("SELECT ") + kAccountCols + " FROM accounts a WHERE a.id = $1", {id},
              [&](const Row& r) { a = ReadAccount(r); }));
  return a;
}

// A record that belongs to a customer (a contact, an account), loaded for an edit: NotFound
// when it, or the customer it belongs to, is outside the actor's data scope; Aborted when
// `version` is given and stale. Returns the record and its customer.
template <typename T>
Result<std::pair<T, Customer>> LoadChildForEdit(
    Connection& c, const Actor& actor, std::string_view entity, int64_t id,
    std::optional<int64_t> version, Result<std::optional<T>> (*load)(Connection&, int64_t)) {
  ASSIGN_OR_RETURN(std::optional<T> record, load(c, id));
  std::optional<Customer> cu;
  if (record) {
    ASSIGN_OR_RETURN(cu, LoadCustomer(c, record->customer_id));
  }
  if (!record || !cu || !Visible(actor, *cu)) {
    return NotFound(std::string(entity) + " " + std::to_string(id) + " not found");
  }
  if (version && record->version != *version) {
    return grid::StaleVersion(entity, id, record->version, *version);
  }
  return std::make_pair(std::move(*record), std::move(*cu));
}

Status CheckAccount(const Account& a) {
  RETURN_IF_ERROR(grid::CheckCode(a.account_no, "account_no", 32));
  RETURN_IF_ERROR(CheckText(a.name, "name", 1, 100));
  RETURN_IF_ERROR(CheckOneOf(a.payment_method, "payment_method", kPaymentMethods));
  if (a.payment_method == "bank_debit") {
    if (!a.bank_name) {
      return InvalidArgument("bank_name is required when payment_method is bank_debit",
                             "bank_name");
    }
    if (!a.bank_account_no) {
      return InvalidArgument("bank_account_no is required when payment_method is bank_debit",
                             "bank_account_no");
    }
  }
  if (a.bank_name) RETURN_IF_ERROR(CheckText(*a.bank_name, "bank_name", 1, 100));
  if (a.bank_account_no && (a.bank_account_no->size() < 8 || a.bank_account_no->size() > 30 ||
                            !IsDigits(*a.bank_account_no))) {
    return InvalidArgument("bank_account_no must be 8-30 digits", "bank_account_no");
  }
  if (a.invoice_title) RETURN_IF_ERROR(CheckText(*a.invoice_title, "invoice_title", 1, 200));
  if (a.tax_no) {
    bool ok = a.tax_no->size() >= 15 && a.tax_no->size() <= 20 &&
              std::all_of(a.tax_no->begin(), a.tax_no->end(), [](char ch) {
                return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z');
              });
    if (!ok) {
      return InvalidArgument(
          "tax_no must be a taxpayer identification number of 15-20 digits or capital letters",
          "tax_no");
    }
  }
  return CheckOneOf(a.status, "status", kAccountStatuses);
}

void MergeAccount(const AccountInput& in, Account* a) {
  if (in.account_no) a->account_no = *in.account_no;
  if (in.name) a->name = *in.name;
  if (in.payment_method) a->payment_method = *in.payment_method;
  a->bank_name = grid::Merge(in.bank_name, a->bank_name);
  a->bank_account_no = grid::Merge(in.bank_account_no, a->bank_account_no);
  a->invoice_title = grid::Merge(in.invoice_title, a->invoice_title);
  a->tax_no = grid::Merge(in.tax_no, a->tax_no);
  if (a->tax_no) a->tax_no = Upper(*a->tax_no);
  if (in.status) a->status = *in.status;
}

Status AccountNoTaken(const Status& s, const std::string& account_no) {
  if (s.code() == StatusCode::kAlreadyExists) {
    return AlreadyExists("account number " + account_no + " is already used", "account_no");
  }
  return s;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Customers

Result<CustomerPage> CustomerService::Search(const Actor& actor, const CustomerQuery& q) {
  RETURN_IF_ERROR(actor.Require("customer.read"));
  std::string order;
  std::string_view sort_column;
  if (q.sort == "customer_no" || q.sort.empty()) {
    order = "c.customer_no";
    sort_column = "customer_no";
  } else if (q.sort == "name") {
    order = "c.name, c.id";
    sort_column = "name";
  } else if (q.sort == "-created_at") {
    order = "c.created_at_us DESC, c.id DESC";
    sort_column = "created_at_us";
  } else {
    return InvalidArgument("sort must be one of: customer_no, name, -created_at", "sort");
  }
  if (!q.category.empty()) RETURN_IF_ERROR(CheckOneOf(q.category, "category", kCategories));
  if (!q.status.empty()) RETURN_IF_ERROR(CheckOneOf(q.status, "status", kCustomerStatuses));
  std::string text = q.q;
  text.erase(0, text.find_first_not_of(" \t\r\n"));
  text.erase(text.find_last_not_of(" \t\r\n") + 1);
  if (!http::IsValidUtf8(text) || http::Utf8Length(text) > 100) {
    return InvalidArgument("q must be valid text of at most 100 characters", "q");
  }
  const bool self_scope = actor.scope == org::DataScope::kSelf;

  CustomerPage page;
  Status st = db_.Read([&](Connection& c) -> Status {
    const store::Dialect dialect = c.dialect();
    // The departments a customer may belong to: the data scope intersected with the filter's
    // subtree, and whether that restricts anything. A "self" scope is the manager condition.
    bool department_scope = actor.scope == org::DataScope::kOwnDepartment ||
                            actor.scope == org::DataScope::kDepartmentAndBelow;
    ASSIGN_OR_RETURN(
        grid::DepartmentRestriction restriction,
        grid::RestrictDepartments(c, department_scope ? &actor.scope_departments : nullptr,
                                  q.department_id, "customers"));
    const std::optional<std::vector<int64_t>>& depts = restriction.ids;
    const bool selective_depts = restriction.selective;
    const bool has_text = !text.empty();
    // 1-3 digits cannot usefully narrow phone numbers: they search customer numbers only. So do
    // more digits that begin more than kCountCap customer numbers (a county's or a station's
    // prefix): the list is customer numbers either way, and the range stays one index range.
    bool numbers_only = IsDigits(text) && text.size() < 4;
    if (IsDigits(text) && !numbers_only) {
      SqlWhere w;
      AddSearchText(w, dialect, text, Indexable{false, {"customer_no"}}, true);
      ASSIGN_OR_RETURN(grid::CappedCount numbers,
                       grid::CountCapped(c, "customers c WHERE " + w.sql(), w.params(), kCountCap));
      numbers_only = numbers.capped;
    }
    const bool has_filters = self_scope || !q.category.empty() || !q.status.empty() ||
                             q.transformer_area_id || q.account_manager_id;

    struct Parts {
      bool text = true;
      bool departments = true;
      bool filters = true;  // includes the "self" scope: never left out of a returned result
    };
    auto build = [&](const Indexable& ix, Parts parts) {
      SqlWhere w;
      if (parts.filters) {
        if (self_scope) {
          w.And(ix.col("account_manager_id") + " = " + std::to_string(actor.user_id));
        }
        if (!q.category.empty()) w.And(ix.col("category") + " = " + w.Bind(q.category));
        if (!q.status.empty()) w.And(ix.col("status") + " = " + w.Bind(q.status));
        if (q.transformer_area_id) {
          w.And(ix.col("transformer_area_id") + " = " + w.Bind(*q.transformer_area_id));
        }
        if (q.account_manager_id) {
          w.And(ix.col("account_manager_id") + " = " + w.Bind(*q.account_manager_id));
        }
      }
      if (parts.departments && depts) w.And(InSql(ix.col("department_id"), *depts));
      if (parts.text && has_text) AddSearchText(w, dialect, text, ix, numbers_only);
      return w;
    };
    auto count = [&](const Indexable& ix, Parts parts, int64_t cap = kCountCap) {
      SqlWhere w = build(ix, parts);
      return grid::CountCapped(c, FromClause(ix, text) + w.sql(), w.params(), cap);
    };
    // Totals leave out a department condition that was just shown to exclude no customer, so a
    // city-wide count stays within one covering index. Page rows always carry it: it is the
    // data scope. (At worst a total counts a customer added elsewhere a moment ago.)
    const Parts totals{true, selective_depts, true};

    // Choose the driving index.
    enum class Drive { kAny, kFilter, kText, kDepartments, kMerge, kWalk };
    Drive drive = Drive::kAny;
    Indexable ix;
    const Indexable by_text{
        false, {"customer_no", "mobile", "phone", "name"}, Indexable::Fts::kJoin};
    const Indexable by_departments{false, {"department_id"}};
    std::optional<grid::CappedCount> total;
    // Text an index lists on SQLite (see kTextSortCap): trigram text (customers_fts) or one or
    // two characters (a name prefix: the name index).
    const bool text_index = has_text && dialect == store::Dialect::kSqlite && !IsDigits(text);
    const bool trigram = text_index && IsTrigramText(text);
    // Whether to try the first entries of the sort index, then sort every text match.
    bool probe = false;
    if (dialect != store::Dialect::kSqlite) {
      ix.all = true;
    } else if (self_scope || q.transformer_area_id || q.account_manager_id) {
      drive = Drive::kFilter;  // a transformer area or a manager has hundreds of customers
      ix = Indexable{false, {"transformer_area_id", "account_manager_id"}};
    } else {
      // Up to kTextSortCap for trigram text, kCountCap for a name prefix.
      std::optional<grid::CappedCount> text_matches;
      if (text_index) {
        if (trigram) {
          ASSIGN_OR_RETURN(text_matches,
                           grid::CountCapped(c, "customers_fts WHERE customers_fts MATCH $1",
                                             {FtsPhrase(text)}, kTextSortCap));
        } else {
          ASSIGN_OR_RETURN(text_matches, count(by_text, {true, false, false}));
        }
        // At most kCountCap matches; or a name prefix in name order: the name index lists the
        // matches in that order.
        if ((trigram ? text_matches->total <= kCountCap : !text_matches->capped) ||
            (!trigram && sort_column == "name")) {
          drive = Drive::kText;
          ix = by_text;
        }
      } else if (has_text) {
        ASSIGN_OR_RETURN(grid::CappedCount matches, count(by_text, {true, false, false}));
        if (!matches.capped) {
          drive = Drive::kText;
          ix = by_text;
          if (!depts && !has_filters) total = matches;
        }
      }
      if (drive == Drive::kAny && selective_depts) {
        ASSIGN_OR_RETURN(grid::CappedCount members, count(by_departments, {false, true, false}));
        if (!members.capped) {
          drive = Drive::kDepartments;
          ix = by_departments;
          if (!has_text && !has_filters) total = members;
        } else if (!has_text && !has_filters) {
          total = members;
        }
      }
      if (drive == Drive::kAny && !q.category.empty()) {
        // Large industry, agricultural, other: categories of a few thousand customers.
        SqlWhere w;
        w.And("c.category = " + w.Bind(q.category));
        ASSIGN_OR_RETURN(
            grid::CappedCount members,
            grid::CountCapped(c, "customers c WHERE " + w.sql(), w.params(), kCountCap));
        if (!members.capped) {
          drive = Drive::kFilter;
          ix = Indexable{false, {"category"}};
        }
      }
      if (drive == Drive::kAny && trigram && !text_matches->capped) {
        // Up to kTextSortCap trigram matches: read them all and sort.
        drive = Drive::kText;
        ix = by_text;
      }
      if (drive == Drive::kAny) {
        // Dense on every side: read in sort order, per department where the customers of a
        // department are contiguous in that order (customer numbers and creation order are
        // assigned department by department); by name across the whole table. Text that an index
        // lists only probes that order (see below).
        drive = selective_depts && sort_column != "name" ? Drive::kMerge : Drive::kWalk;
        ix = Indexable{false, {sort_column}};
        probe = text_index;
        if (!total) {
          // Count through the narrowest index at hand: the departments (with the customer number
          // range, which index (department_id, customer_no) serves), or the text.
          Indexable by = selective_depts ? by_departments : has_text ? by_text : ix;
          if (selective_depts && numbers_only) by.columns.push_back("customer_no");
          ASSIGN_OR_RETURN(total, count(by, totals));
        }
      }
    }
    auto read = [&](const std::string& sql, const store::Params& params) {
      return c.Query(sql, params, [&](const Row& r) {
        Customer cu = ReadCustomer(r);
        MaskForList(&cu);
        page.items.push_back(std::move(cu));
      });
    };
    const int64_t first_rows = static_cast<int64_t>(q.page) * q.page_size;
    const int64_t offset = first_rows - q.page_size;

    if (!total && drive == Drive::kText && text_index && !trigram &&
        (selective_depts || has_filters)) {
      // A name prefix of at most kCountCap matches within a narrower scope or filters: the total
      // would read every match again, from rows scattered over the table (see kTextSortCap).
      // One statement counts them (all of them: there are at most kCountCap) and pages.
      SqlWhere w = build(ix, {});
      std::string sql = "SELECT c.id, COUNT(*) OVER () FROM customers c WHERE " + w.sql() +
                        " ORDER BY " + order + " ";
      sql += w.LimitOffset(q.page, q.page_size);
      std::vector<int64_t> ids;
      int64_t n = 0;
      RETURN_IF_ERROR(c.Query(sql, w.params(), [&](const Row& r) {
        ids.push_back(r.Int(0));
        n = r.Int(1);
      }));
      if (!ids.empty() || offset == 0) {
        total = grid::CappedCount{std::min(n, kCountCap), n > kCountCap};
      } else {
        ASSIGN_OR_RETURN(total, count(ix, totals));  // past the last page
      }
      page.total = total->total;
      page.total_capped = total->capped;
      if (ids.empty()) return Status::Ok();
      return read(std::string("SELECT ") + kCustomerCols + " FROM customers c WHERE " +
                      InSql("c.id", ids) + " ORDER BY " + order,
                  {});
    }
    if (!total) {
      ASSIGN_OR_RETURN(total, count(ix, totals));
    }
    page.total = total->total;
    page.total_capped = total->capped;
    // The total counts these rows or more (without a department condition that excludes no
    // customer): none past it.
    if (!total->capped && total->total <= offset) return Status::Ok();

    if (probe) {
      // Walk the sort index only up to its kProbeEntries-th entry (see kTextSortCap; up to a
      // share of that in each department's stretch of it when the departments drive), testing
      // each row. The entries before it are the first in sort order, so the matches among them
      // are the first matches: when they fill offset + page_size rows, or the index (the
      // department's stretch) ends before, they give the page.
      const int64_t entries_in_all = sort_column == "name" ? kProbeEntries / 8 : kProbeEntries;
      const int64_t entries =
          drive == Drive::kMerge
              ? std::max(kProbeMinEntries,
                         entries_in_all / std::max<int64_t>(1, std::ssize(*depts)))
              : entries_in_all;
      const bool descending = sort_column == "created_at_us";
      const std::string col = "c." + std::string(sort_column);
      const std::string before = descending ? " > " : " < ";
      const Indexable walk = drive == Drive::kMerge
                                 ? Indexable{false, {"department_id", sort_column}}
                                 : Indexable{false, {sort_column}};
      const Parts parts = drive == Drive::kMerge ? Parts{true, false, true} : Parts{};
      std::vector<int64_t> ids;
      // Adds the ids of the first first_rows matches in the stretch `where` of the index; false
      // when they are fewer and the stretch goes on.
      auto first_matches = [&](const std::string& where) -> Result<bool> {
        // The entry to stop at (nullopt: the stretch ends before), from the index alone.
        std::optional<store::Value> last;
        int64_t last_id = 0;
        RETURN_IF_ERROR(
            c.Query("SELECT " + col + ", c.id FROM customers c WHERE " + where + " ORDER BY " +
                        order + " LIMIT 1 OFFSET " + std::to_string(entries - 1),
                    {}, [&](const Row& r) {
                      last = descending ? store::Value(r.Int(0)) : store::Value(r.Text(0));
                      last_id = r.Int(1);
                    }));
        size_t found = ids.size();
        auto add = [&](SqlWhere& pw) {
          return c.Query("SELECT c.id FROM customers c WHERE " + pw.sql() + " ORDER BY " + order +
                             " LIMIT " +
                             std::to_string(first_rows - static_cast<int64_t>(ids.size() - found)),
                         pw.params(), [&](const Row& r) { ids.push_back(r.Int(0)); });
        };
        // The entries before it: those of an earlier value of the sort column, then those of its
        // value before it (the order ties only within a value: by id, descending with
        // created_at_us), each an index range that stops the walk however many rows share a
        // value (the demo utility's customers were all created in the same microsecond).
        SqlWhere pw = build(walk, parts);
        pw.And(where);
        if (last) pw.And(col + before + pw.Bind(*last));
        RETURN_IF_ERROR(add(pw));
        if (!last) return true;
        if (static_cast<int64_t>(ids.size() - found) < first_rows && sort_column != "customer_no") {
          SqlWhere tw = build(walk, parts);
          tw.And(where);
          tw.And(col + " = " + tw.Bind(*last) + " AND c.id" + before + tw.Bind(last_id));
          RETURN_IF_ERROR(add(tw));
        }
        return static_cast<int64_t>(ids.size() - found) == first_rows;
      };
      if (first_rows * 8 <= entries) {
        bool complete = true;
        if (drive == Drive::kMerge) {
          for (int64_t d : *depts) {
            ASSIGN_OR_RETURN(complete, first_matches("c.department_id = " + std::to_string(d)));
            if (!complete) break;
          }
        } else {
          ASSIGN_OR_RETURN(complete, first_matches("1=1"));
        }
        if (complete) {
          SqlWhere iw;
          std::string sql = std::string("SELECT ") + kCustomerCols + " FROM customers c WHERE " +
                            InSql("c.id", ids) + " ORDER BY " + order + " ";
          sql += iw.LimitOffset(q.page, q.page_size);
          return read(sql, iw.params());
        }
      }
      // Sort every match: trigram text, or a name prefix of at most kTextSortCap matches; a
      // name prefix of more walks on.
      bool sort = trigram;
      if (!sort) {
        ASSIGN_OR_RETURN(grid::CappedCount names,
                         count(by_text, {true, false, false}, kTextSortCap));
        sort = !names.capped;
      }
      if (sort) {
        drive = Drive::kText;
        ix = by_text;
      }
    }

    SqlWhere w;
    std::string sql = std::string("SELECT ") + kCustomerCols + " FROM ";
    if (drive == Drive::kMerge) {
      // Each department's first offset+page_size in sort order through the composite index
      // (department_id, customer_no) or (department_id, created_at_us), merged.
      w = build(Indexable{false, {"department_id", sort_column}}, {true, false, true});
      std::string ids;
      for (int64_t d : *depts) {
        if (!ids.empty()) ids += " UNION ALL ";
        ids += "SELECT id FROM (SELECT c.id AS id FROM customers c WHERE c.department_id = " +
               std::to_string(d) + " AND " + w.sql() + " ORDER BY " + order + " LIMIT " +
               std::to_string(first_rows) + ")";
      }
      sql += "customers c WHERE c.id IN (" + ids + ")";
    } else if (drive == Drive::kText && trigram) {
      // customers_fts streams the matches in rowid order and SQLite keeps the page's ids: a
      // sorter of whole rows would copy every match that arrives before the page's last (in
      // descending order, every one of them).
      w = build(ix, {});
      sql += "customers c WHERE c.id IN (SELECT c.id FROM " + FromClause(ix, text) + w.sql() +
             " ORDER BY " + order + " " + w.LimitOffset(q.page, q.page_size) + ") ORDER BY " +
             order;
      return read(sql, w.params());
    } else {
      w = build(ix, {});
      sql += FromClause(ix, text) + w.sql();
    }
    sql += " ORDER BY " + order + " ";
    sql += w.LimitOffset(q.page, q.page_size);
    return read(sql, w.params());
  });
  if (!st.ok()) return st;
  return page;
}

Result<Customer> CustomerService::Get(const Actor& actor, int64_t id) {
  RETURN_IF_ERROR(actor.Require("customer.read"));
  return db_.ReadValue<Customer>(
      [&](Connection& c) -> Result<Customer> { return LoadVisibleCustomer(c, actor, id); });
}

Result<Customer> CustomerService::Create(const Actor& actor, const CustomerInput& in) {
  RETURN_IF_ERROR(actor.Require("customer.write"));
  RETURN_IF_ERROR(Required(in.customer_no.has_value(), "customer_no"));
  RETURN_IF_ERROR(Required(in.name.has_value(), "name"));
  RETURN_IF_ERROR(Required(in.category.has_value(), "category"));
  RETURN_IF_ERROR(Required(in.address.has_value(), "address"));
  RETURN_IF_ERROR(Required(in.department_id.has_value(), "department_id"));
  Customer cu;
  MergeCustomer(in, &cu);
  RETURN_IF_ERROR(CheckCustomer(cu));
  int64_t now = clock_.NowMicros();
  return db_.WriteValue<Customer>([&](Connection& c) -> Result<Customer> {
    RETURN_IF_ERROR(CheckCustomerReferences(c, actor, cu, nullptr));
    auto id = c.InsertReturningId(
        "INSERT INTO customers (customer_no, name, category, id_doc_type, id_doc_no, address, "
        "postal_address, phone, mobile, email, status, department_id, transformer_area_id, "
        "account_manager_id, opened_on, closed_on, remark, created_at_us, updated_at_us) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, "
        "$18) RETURNING id",
        {cu.customer_no, cu.name, cu.category, cu.id_doc_type, cu.id_doc_no, cu.address,
         cu.postal_address, cu.phone, cu.mobile, cu.email, cu.status, cu.department_id,
         cu.transformer_area_id, cu.account_manager_id, cu.opened_on, cu.closed_on, cu.remark,
         now});
    if (!id.ok()) return CustomerNoTaken(id.status(), cu.customer_no);
    ASSIGN_OR_RETURN(auto created, LoadCustomer(c, *id));
    RETURN_IF_ERROR(org::WriteAudit(c, actor,
                                    {"create", "customer", std::to_string(*id), "",
                                     ToJson(*created).dump(), created->department_id},
                                    now));
    return *created;
  });
}

Result<Customer> CustomerService::Update(const Actor& actor, int64_t id, int64_t version,
                                         const CustomerInput& in) {
  RETURN_IF_ERROR(actor.Require("customer.write"));
  int64_t now = clock_.NowMicros();
  return db_.WriteValue<Customer>([&](Connection& c) -> Result<Customer> {
    ASSIGN_OR_RETURN(Customer before, LoadVisibleCustomer(c, actor, id));
    if (before.version != version)
      return grid::StaleVersion("customer", id, before.version, version);
    if (in.customer_no && *in.customer_no != before.customer_no) {
      return InvalidArgument(
          "customer_no cannot be changed: it identifies the customer in bills, payments and bank "
          "files",
          "customer_no");
    }
    Customer cu = before;
    MergeCustomer(in, &cu);
    RETURN_IF_ERROR(CheckCustomer(cu));
    RETURN_IF_ERROR(CheckCustomerReferences(c, actor, cu, &before));
    ASSIGN_OR_RETURN(
        int64_t n,
        c.Exec("UPDATE customers SET name = $1, category = $2, id_doc_type = $3, id_doc_no = $4, "
               "address = $5, postal_address = $6, phone = $7, mobile = $8, email = $9, "
               "status = $10, department_id = $11, transformer_area_id = $12, "
               "account_manager_id = $13, opened_on = $14, closed_on = $15, remark = $16, "
               "version = version + 1, updated_at_us = $17 WHERE id = $18 AND version = $19",
               {cu.name, cu.category, cu.id_doc_type, cu.id_doc_no, cu.address, cu.postal_address,
                cu.phone, cu.mobile, cu.email, cu.status, cu.department_id, cu.transformer_area_id,
                cu.account_manager_id, cu.opened_on, cu.closed_on, cu.remark, now, id, version}));
    if (n == 0) return grid::StaleVersionAfterUpdate(c, "customers", "customer", id, version);
    if (cu.department_id != before.department_id) {
      // Accounts carry the customer's department for scoping: they move along.
      std::vector<Account> accounts;
      RETURN_IF_ERROR(c.Query(
          std::string("SELECT ") + kAccountCols + " FROM accounts a WHERE a.customer_id = $1", {id},
          [&](const Row& r) { accounts.push_back(ReadAccount(r)); }));
      for (const Account& a : accounts) {
        RETURN_IF_ERROR(c.Exec("UPDATE accounts SET department_id = $1, version = version + 1, "
                               "updated_at_us = $2 WHERE id = $3",
                               {cu.department_id, now, a.id})
                            .status());
        ASSIGN_OR_RETURN(auto moved, LoadAccount(c, a.id));
        RETURN_IF_ERROR(org::WriteAudit(c, actor,
                                        {"update", "account", std::to_string(a.id),
                                         ToJson(a).dump(), ToJson(*moved).dump(), cu.department_id},
                                        now));
      }
    }
    ASSIGN_OR_RETURN(auto after, LoadCustomer(c, id));
    RETURN_IF_ERROR(
        org::WriteAudit(c, actor,
                        {"update", "customer", std::to_string(id), ToJson(before).dump(),
                         ToJson(*after).dump(), after->department_id},
                        now));
    return *after;
  });
}

// ---------------------------------------------------------------------------------------------
// Contacts

Result<std::vector<Contact>> CustomerService::ListContacts(const Actor& actor,
                                                           int64_t customer_id) {
  RETURN_IF_ERROR(actor.Require("customer.read"));
  return db_.ReadValue<std::vector<Contact>>([&](Connection& c) -> Result<std::vector<Contact>> {
    RETURN_IF_ERROR(LoadVisibleCustomer(c, actor, customer_id).status());
    std::vector<Contact> out;
    RETURN_IF_ERROR(c.Query(std::string("SELECT ") + kContactCols +
                                " FROM customer_contacts k WHERE k.customer_id = $1 "
                                "ORDER BY k.is_primary DESC, k.id",
                            {customer_id}, [&](const Row& r) { out.push_back(ReadContact(r)); }));
    return out;
  });
}

Result<Contact> CustomerService::AddContact(const Actor& actor, int64_t customer_id,
                                            const ContactInput& in) {
  RETURN_IF_ERROR(actor.Require("customer.write"));
  RETURN_IF_ERROR(Required(in.name.has_value(), "name"));
  Contact k;
  k.customer_id = customer_id;
  MergeContact(in, &k);
  RETURN_IF_ERROR(CheckContact(k));
  int64_t now = clock_.NowMicros();
  return db_.WriteValue<Contact>([&](Connection& c) -> Result<Contact> {
    ASSIGN_OR_RETURN(Customer cu, LoadVisibleCustomer(c, actor, customer_id));
    ASSIGN_OR_RETURN(
        int64_t id,
        c.InsertReturningId("INSERT INTO customer_contacts (customer_id, name, role, phone, email, "
                            "is_primary, created_at_us, updated_at_us) "
                            "VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
                            {customer_id, k.name, k.role, k.phone, k.email, k.is_primary, now}));
    if (k.is_primary) {
      RETURN_IF_ERROR(ClearOtherPrimaries(c, actor, customer_id, id, cu.department_id, now));
    }
    ASSIGN_OR_RETURN(auto created, LoadContact(c, id));
    RETURN_IF_ERROR(org::WriteAudit(
        c, actor,
        {"create", "contact", std::to_string(id), "", ToJson(*created).dump(), cu.department_id},
        now));
    return *created;
  });
}

Result<Contact> CustomerService::UpdateContact(const Actor& actor, int64_t id, int64_t version,
                                               const ContactInput& in) {
  RETURN_IF_ERROR(actor.Require("customer.write"));
  int64_t now = clock_.NowMicros();
  return db_.WriteValue<Contact>([&](Connection& c) -> Result<Contact> {
    ASSIGN_OR_RETURN(auto loaded,
                     LoadChildForEdit<Contact>(c, actor, "contact", id, version, &LoadContact));
    const Contact& before = loaded.first;
    const Customer& cu = loaded.second;
    Contact k = before;
    MergeContact(in, &k);
    RETURN_IF_ERROR(CheckContact(k));
    ASSIGN_OR_RETURN(int64_t n,
                     c.Exec("UPDATE customer_contacts SET name = $1, role = $2, phone = $3, "
                            "email = $4, is_primary = $5, version = version + 1, "
                            "updated_at_us = $6 WHERE id = $7 AND version = $8",
                            {k.name, k.role, k.phone, k.email, k.is_primary, now, id, version}));
    if (n == 0)
      return grid::StaleVersionAfterUpdate(c, "customer_contacts", "contact", id, version);
    if (k.is_primary && !before.is_primary) {
      RETURN_IF_ERROR(ClearOtherPrimaries(c, actor, k.customer_id, id, cu.department_id, now));
    }
    ASSIGN_OR_RETURN(auto after, LoadContact(c, id));
    RETURN_IF_ERROR(org::WriteAudit(c, actor,
                                    {"update", "contact", std::to_string(id), ToJson(before).dump(),
                                     ToJson(*after).dump(), cu.department_id},
                                    now));
    return *after;
  });
}

Status CustomerService::DeleteContact(const Actor& actor, int64_t id,
                                      std::optional<int64_t> version) {
  RETURN_IF_ERROR(actor.Require("customer.write"));
  int64_t now = clock_.NowMicros();
  return db_.Write([&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(auto loaded,
                     LoadChildForEdit<Contact>(c, actor, "contact", id, version, &LoadContact));
    const Contact& before = loaded.first;
    const Customer& cu = loaded.second;
    RETURN_IF_ERROR(c.Exec("DELETE FROM customer_contacts WHERE id = $1", {id}).status());
    return org::WriteAudit(
        c, actor,
        {"delete", "contact", std::to_string(id), ToJson(before).dump(), "", cu.department_id},
        now);
  });
}

// ---------------------------------------------------------------------------------------------
// Accounts

Result<std::vector<Account>> CustomerService::ListAccounts(const Actor& actor,
                                                           int64_t customer_id) {
  RETURN_IF_ERROR(actor.Require("customer.read"));
  return db_.ReadValue<std::vector<Account>>([&](Connection& c) -> Result<std::vector<Account>> {
    RETURN_IF_ERROR(LoadVisibleCustomer(c, actor, customer_id).status());
    std::vector<Account> out;
    RETURN_IF_ERROR(c.Query(std::string("SELECT ") + kAccountCols +
                                " FROM accounts a WHERE a.customer_id = $1 ORDER BY a.account_no",
                            {customer_id}, [&](const Row& r) { out.push_back(ReadAccount(r)); }));
    return out;
  });
}

Result<Account> CustomerService::CreateAccount(const Actor& actor, int64_t customer_id,
                                               const AccountInput& in) {
  RETURN_IF_ERROR(actor.Require("customer.write"));
  RETURN_IF_ERROR(Required(in.account_no.has_value(), "account_no"));
  RETURN_IF_ERROR(Required(in.name.has_value(), "name"));
  Account a;
  a.customer_id = customer_id;
  MergeAccount(in, &a);
  RETURN_IF_ERROR(CheckAccount(a));
  int64_t now = clock_.NowMicros();
  return db_.WriteValue<Account>([&](Connection& c) -> Result<Account> {
    ASSIGN_OR_RETURN(Customer cu, LoadVisibleCustomer(c, actor, customer_id));
    a.department_id = cu.department_id;
    auto id = c.InsertReturningId(
        "INSERT INTO accounts (account_no, customer_id, name, payment_method, bank_name, "
        "bank_account_no, invoice_title, tax_no, status, department_id, created_at_us, "
        "updated_at_us) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
        {a.account_no, customer_id, a.name, a.payment_method, a.bank_name, a.bank_account_no,
         a.invoice_title, a.tax_no, a.status, a.department_id, now});
    if (!id.ok()) return AccountNoTaken(id.status(), a.account_no);
    ASSIGN_OR_RETURN(auto created, LoadAccount(c, *id));
    RETURN_IF_ERROR(org::WriteAudit(c, actor,
                                    {"create", "account", std::to_string(*id), "",
                                     ToJson(*created).dump(), created->department_id},
                                    now));
    return *created;
  });
}

Result<Account> CustomerService::UpdateAccount(const Actor& actor, int64_t id, int64_t version,
                                               const AccountInput& in) {
  RETURN_IF_ERROR(actor.Require("customer.write"));
  int64_t now = clock_.NowMicros();
  return db_.WriteValue<Account>([&](Connection& c) -> Result<Account> {
    ASSIGN_OR_RETURN(auto loaded,
                     LoadChildForEdit<Account>(c, actor, "account", id, version, &LoadAccount));
    const Account& before = loaded.first;
    Account a = before;
    MergeAccount(in, &a);
    RETURN_IF_ERROR(CheckAccount(a));
    auto n = c.Exec(
        "UPDATE accounts SET account_no = $1, name = $2, payment_method = $3, bank_name = $4, "
        "bank_account_no = $5, invoice_title = $6, tax_no = $7, status = $8, "
        "version = version + 1, updated_at_us = $9 WHERE id = $10 AND version = $11",
        {a.account_no, a.name, a.payment_method, a.bank_name, a.bank_account_no, a.invoice_title,
         a.tax_no, a.status, now, id, version});
    if (!n.ok()) return AccountNoTaken(n.status(), a.account_no);
    if (*n == 0) return grid::StaleVersionAfterUpdate(c, "accounts", "account", id, version);
    ASSIGN_OR_RETURN(auto after, LoadAccount(c, id));
    RETURN_IF_ERROR(org::WriteAudit(c, actor,
                                    {"update", "account", std::to_string(id), ToJson(before).dump(),
                                     ToJson(*after).dump(), after->department_id},
                                    now));
    return *after;
  });
}

}  // namespace gridmis::customer
