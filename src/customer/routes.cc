#include "customer/routes.h"

#include "grid/route_helpers.h"

namespace gridmis::customer {

using grid::api::Bool;
using grid::api::Enum;
using grid::api::Int;
using grid::api::JsonReply;
using grid::api::NullableEnum;
using grid::api::NullableId;
using grid::api::NullableInt;
using grid::api::NullableStr;
using grid::api::NullableText;
using grid::api::Obj;
using grid::api::QueryEnum;
using grid::api::QueryText;
using grid::api::Str;
using grid::api::VersionField;
using http::JsonFields;
using http::Reply;
using http::RouteContext;
using nlohmann::json;

namespace {

const std::initializer_list<std::string_view> kCategories = {
    "residential", "commercial", "large_industry", "agricultural", "other"};
const std::initializer_list<std::string_view> kStatuses = {"active", "suspended", "closed"};
const std::initializer_list<std::string_view> kDocTypes = {"resident_id", "unified_credit_code",
                                                           "passport", "other"};
const std::initializer_list<std::string_view> kContactRoles = {"owner", "electrician", "finance",
                                                               "agent", "other"};
const std::initializer_list<std::string_view> kPaymentMethods = {"counter", "bank_debit", "prepaid",
                                                                 "online"};

void AddSchemas(http::Router& r) {
  r.AddSchema(
      "Customer",
      Obj({{"id", Int()},
           {"customer_no", Str("户号: 10-20 digits")},
           {"name", Str()},
           {"category", Enum(kCategories)},
           {"id_doc_type", NullableEnum(kDocTypes)},
           {"id_doc_no",
            {{"type", "string"},
             {"nullable", true},
             {"description", "masked in lists (first 6 and last 4 characters)"}}},
           {"address", Str()},
           {"postal_address", NullableStr()},
           {"phone", {{"type", "string"}, {"nullable", true}, {"description", "masked in lists"}}},
           {"mobile",
            {{"type", "string"},
             {"nullable", true},
             {"description", "masked in lists: 150****1234"}}},
           {"email", NullableStr()},
           {"status", Enum(kStatuses)},
           {"department_id", Int()},
           {"transformer_area_id", NullableInt()},
           {"account_manager_id", NullableInt()},
           {"opened_on", {{"type", "string"}, {"format", "date"}, {"nullable", true}}},
           {"closed_on", {{"type", "string"}, {"format", "date"}, {"nullable", true}}},
           {"remark", Str()},
           {"version", Int()},
           {"created_at", Str()},
           {"updated_at", Str()}},
          {"id", "customer_no", "name", "category", "address", "status", "department_id",
           "version"}));
  r.AddSchema(
      "CustomerInput",
      Obj({{"customer_no", Str("10-20 digits; required on create; cannot change")},
           {"name", Str("1-100 characters; required on create")},
           {"category", Enum(kCategories)},
           {"id_doc_type", Enum(kDocTypes)},
           {"id_doc_no", Str("resident_id: 18 characters with the GB 11643 check digit; "
                             "unified_credit_code: 18 characters (GB 32100); others 1-40")},
           {"address", Str("required on create")},
           {"postal_address", NullableStr()},
           {"phone", NullableStr()},
           {"mobile",
            {{"type", "string"}, {"nullable", true}, {"description", "11 digits starting with 1"}}},
           {"email", NullableStr()},
           {"status", Enum(kStatuses)},
           {"department_id", Int("required on create")},
           {"transformer_area_id", NullableInt()},
           {"account_manager_id", NullableInt()},
           {"opened_on", {{"type", "string"}, {"format", "date"}, {"nullable", true}}},
           {"closed_on", {{"type", "string"}, {"format", "date"}, {"nullable", true}}},
           {"remark", Str()},
           {"version", VersionField()}}));
  r.AddSchema("Contact", Obj({{"id", Int()},
                              {"customer_id", Int()},
                              {"name", Str()},
                              {"role", Enum(kContactRoles)},
                              {"phone", NullableStr()},
                              {"email", NullableStr()},
                              {"is_primary", Bool()},
                              {"version", Int()},
                              {"created_at", Str()},
                              {"updated_at", Str()}},
                             {"id", "customer_id", "name", "role", "is_primary", "version"}));
  r.AddSchema("ContactInput", Obj({{"name", Str("1-50 characters; required on create")},
                                   {"role", Enum(kContactRoles)},
                                   {"phone", NullableStr()},
                                   {"email", NullableStr()},
                                   {"is_primary", Bool()},
                                   {"version", VersionField()}}));
  r.AddSchema("Account", Obj({{"id", Int()},
                              {"account_no", Str()},
                              {"customer_id", Int()},
                              {"name", Str()},
                              {"payment_method", Enum(kPaymentMethods)},
                              {"bank_name", NullableStr()},
                              {"bank_account_no", NullableStr()},
                              {"invoice_title", NullableStr()},
                              {"tax_no", NullableStr()},
                              {"status", Enum(kStatuses)},
                              {"department_id", Int()},
                              {"version", Int()},
                              {"created_at", Str()},
                              {"updated_at", Str()}},
                             {"id", "account_no", "customer_id", "name", "payment_method", "status",
                              "version"}));
  r.AddSchema("AccountInput",
              Obj({{"account_no", Str("1-32 of A-Z a-z 0-9 _ . -; required on create")},
                   {"name", Str("required on create")},
                   {"payment_method", Enum(kPaymentMethods)},
                   {"bank_name", Str("required for bank_debit")},
                   {"bank_account_no", Str("8-30 digits; required for bank_debit")},
                   {"invoice_title", NullableStr()},
                   {"tax_no", NullableStr()},
                   {"status", Enum(kStatuses)},
                   {"version", VersionField()}}));
  r.AddSchema("Ok", Obj({{"ok", Bool()}}));
}

CustomerInput ReadCustomerInput(JsonFields& f, const json& body) {
  CustomerInput in;
  in.customer_no = f.OptString("customer_no", {.max_len = 20});
  in.name = f.OptString("name", {.max_len = 100});
  in.category = f.OptEnum("category", kCategories);
  in.id_doc_type = NullableText(f, body, "id_doc_type", 32);
  in.id_doc_no = NullableText(f, body, "id_doc_no", 40);
  in.address = f.OptString("address", {.max_len = 200});
  in.postal_address = NullableText(f, body, "postal_address", 200);
  in.phone = NullableText(f, body, "phone", 20);
  in.mobile = NullableText(f, body, "mobile", 20);
  in.email = NullableText(f, body, "email", 100);
  in.status = f.OptEnum("status", kStatuses);
  in.department_id = f.OptInt("department_id", {.min = 1});
  in.transformer_area_id = NullableId(f, body, "transformer_area_id");
  in.account_manager_id = NullableId(f, body, "account_manager_id");
  in.opened_on = NullableText(f, body, "opened_on", 10);
  in.closed_on = NullableText(f, body, "closed_on", 10);
  in.remark = f.OptString("remark", {.max_len = 500, .min_len = 0});
  return in;
}

ContactInput ReadContactInput(JsonFields& f, const json& body) {
  ContactInput in;
  in.name = f.OptString("name", {.max_len = 50});
  in.role = f.OptEnum("role", kContactRoles);
  in.phone = NullableText(f, body, "phone", 20);
  in.email = NullableText(f, body, "email", 100);
  in.is_primary = f.OptBool("is_primary");
  return in;
}

AccountInput ReadAccountInput(JsonFields& f, const json& body) {
  AccountInput in;
  in.account_no = f.OptString("account_no", {.max_len = 32});
  in.name = f.OptString("name", {.max_len = 100});
  in.payment_method = f.OptEnum("payment_method", kPaymentMethods);
  in.bank_name = NullableText(f, body, "bank_name", 100);
  in.bank_account_no = NullableText(f, body, "bank_account_no", 30);
  in.invoice_title = NullableText(f, body, "invoice_title", 200);
  in.tax_no = NullableText(f, body, "tax_no", 20);
  in.status = f.OptEnum("status", kStatuses);
  return in;
}

// A page of an already complete list (contacts and accounts of one customer are few).
template <typename T>
json PageOf(const std::vector<T>& all, const http::Page& page) {
  json items = json::array();
  for (size_t i = 0; i < all.size(); ++i) {
    auto n = static_cast<int64_t>(i);
    if (n >= page.offset() && n < page.offset() + page.page_size) items.push_back(ToJson(all[i]));
  }
  return http::PageJson(std::move(items), page, static_cast<int64_t>(all.size()));
}

}  // namespace

void AddCustomerSchemas(http::Router& router) { AddSchemas(router); }

void AddRoutes(http::Router& router, CustomerService& customers) {
  AddSchemas(router);
  CustomerService* s = &customers;

  router.Add(
      {.method = "GET",
       .pattern = "/api/v1/customers",
       .permission = "customer.read",
       .summary = "Search customers in your data scope (identity and phone numbers masked); "
                  "total counts at most 10000 and total_capped says there are more",
       .tag = "customers",
       .query = {{"q", "string",
                  "digits: customer number prefix, or mobile/phone prefix (4+ digits); text of 3+ "
                  "characters: name or address contains; 1-2 characters: name prefix"},
                 {"category", "string",
                  "residential, commercial, large_industry, agricultural, other"},
                 {"status", "string", "active, suspended, closed"},
                 {"department_id", "integer", "that department and below"},
                 {"transformer_area_id", "integer", "customers of this transformer area"},
                 {"account_manager_id", "integer", "customers of this account manager"},
                 {"sort", "string", "customer_no (default), name or -created_at"}},
       .response = "Customer",
       .list = true,
       .fn = [s](RouteContext& ctx) -> Result<Reply> {
         ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
         CustomerQuery q;
         ASSIGN_OR_RETURN(q.q, QueryText(ctx.req, "q"));
         ASSIGN_OR_RETURN(q.category, QueryEnum(ctx.req, "category", kCategories));
         ASSIGN_OR_RETURN(q.status, QueryEnum(ctx.req, "status", kStatuses));
         ASSIGN_OR_RETURN(q.department_id, http::QueryInt(ctx.req, "department_id"));
         ASSIGN_OR_RETURN(q.transformer_area_id, http::QueryInt(ctx.req, "transformer_area_id"));
         ASSIGN_OR_RETURN(q.account_manager_id, http::QueryInt(ctx.req, "account_manager_id"));
         ASSIGN_OR_RETURN(std::string sort,
                          QueryEnum(ctx.req, "sort", {"customer_no", "name", "-created_at"}));
         if (!sort.empty()) q.sort = sort;
         q.page = page.page;
         q.page_size = page.page_size;
         ASSIGN_OR_RETURN(CustomerPage result, s->Search(ctx.actor, q));
         json items = json::array();
         for (const auto& c : result.items) items.push_back(ToJson(c));
         json body = http::PageJson(std::move(items), page, result.total);
         body["total_capped"] = result.total_capped;
         return JsonReply(std::move(body));
       }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/customers",
              .permission = "customer.write",
              .summary = "Open a customer record",
              .tag = "customers",
              .request = "CustomerInput",
              .response = "Customer",
              .success_status = 201,
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                CustomerInput in = ReadCustomerInput(f, body);
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(Customer c, s->Create(ctx.actor, in));
                return JsonReply(ToJson(c), 201);
              }});
  router.Add({.method = "PATCH",
              .pattern = "/api/v1/customers/{id}",
              .permission = "customer.write",
              .summary = "Change a customer (with the version it was read at); null clears a "
                         "nullable field",
              .tag = "customers",
              .request = "CustomerInput",
              .response = "Customer",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                int64_t version = f.Int("version", {.min = 1});
                CustomerInput in = ReadCustomerInput(f, body);
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(Customer c, s->Update(ctx.actor, id, version, in));
                return JsonReply(ToJson(c));
              }});

  // ---- Contacts ----
  router.Add({.method = "GET",
              .pattern = "/api/v1/customers/{id}/contacts",
              .permission = "customer.read",
              .summary = "A customer's contacts, primary first",
              .tag = "customers",
              .response = "Contact",
              .list = true,
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
                ASSIGN_OR_RETURN(auto contacts, s->ListContacts(ctx.actor, id));
                return JsonReply(PageOf(contacts, page));
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/customers/{id}/contacts",
              .permission = "customer.write",
              .summary = "Add a contact to a customer",
              .tag = "customers",
              .request = "ContactInput",
              .response = "Contact",
              .success_status = 201,
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                ContactInput in = ReadContactInput(f, body);
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(Contact c, s->AddContact(ctx.actor, id, in));
                return JsonReply(ToJson(c), 201);
              }});
  router.Add({.method = "PATCH",
              .pattern = "/api/v1/contacts/{id}",
              .permission = "customer.write",
              .summary = "Change a contact (with its version)",
              .tag = "customers",
              .request = "ContactInput",
              .response = "Contact",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                int64_t version = f.Int("version", {.min = 1});
                ContactInput in = ReadContactInput(f, body);
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(Contact c, s->UpdateContact(ctx.actor, id, version, in));
                return JsonReply(ToJson(c));
              }});
  router.Add({.method = "DELETE",
              .pattern = "/api/v1/contacts/{id}",
              .permission = "customer.write",
              .summary = "Remove a contact (?version= makes the deletion conditional)",
              .tag = "customers",
              .query = {{"version", "integer", "the version the deletion is based on"}},
              .response = "Ok",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(auto version, http::QueryInt(ctx.req, "version"));
                RETURN_IF_ERROR(s->DeleteContact(ctx.actor, id, version));
                return JsonReply({{"ok", true}});
              }});

  // ---- Accounts ----
  router.Add({.method = "GET",
              .pattern = "/api/v1/customers/{id}/accounts",
              .permission = "customer.read",
              .summary = "A customer's accounts",
              .tag = "customers",
              .response = "Account",
              .list = true,
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
                ASSIGN_OR_RETURN(auto accounts, s->ListAccounts(ctx.actor, id));
                return JsonReply(PageOf(accounts, page));
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/customers/{id}/accounts",
              .permission = "customer.write",
              .summary = "Open an account for a customer",
              .tag = "customers",
              .request = "AccountInput",
              .response = "Account",
              .success_status = 201,
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                AccountInput in = ReadAccountInput(f, body);
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(Account a, s->CreateAccount(ctx.actor, id, in));
                return JsonReply(ToJson(a), 201);
              }});
  router.Add({.method = "PATCH",
              .pattern = "/api/v1/accounts/{id}",
              .permission = "customer.write",
              .summary = "Change an account (with its version)",
              .tag = "customers",
              .request = "AccountInput",
              .response = "Account",
              .fn = [s](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(json body, http::ParseJsonObject(ctx.req.body));
                JsonFields f(body);
                int64_t version = f.Int("version", {.min = 1});
                AccountInput in = ReadAccountInput(f, body);
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(Account a, s->UpdateAccount(ctx.actor, id, version, in));
                return JsonReply(ToJson(a));
              }});
}

}  // namespace gridmis::customer
