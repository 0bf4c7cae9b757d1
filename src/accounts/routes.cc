#include "accounts/routes.h"

#include "grid/route_helpers.h"

namespace gridmis::accounts {

using grid::api::ArrayOf;
using grid::api::Bool;
using grid::api::Enum;
using grid::api::Int;
using grid::api::JsonReply;
using grid::api::NullableInt;
using grid::api::NullableStr;
using grid::api::Obj;
using grid::api::QueryEnum;
using grid::api::QueryText;
using grid::api::Ref;
using grid::api::Str;
using grid::api::VersionField;
using http::JsonFields;
using http::Reply;
using http::RouteContext;
using nlohmann::json;

namespace {

json Yuan(std::string description = "yuan, two decimals, e.g. \"123.45\"") {
  return Str(std::move(description));
}
json Day(std::string description = "YYYY-MM-DD") { return Str(std::move(description)); }
json NullableYuan() { return NullableStr(); }

// ---- Request helpers ----

Result<Money> ReadMoney(JsonFields& f, std::string_view name) {
  std::string text = f.DecimalText(name);
  RETURN_IF_ERROR(f.error());
  auto m = Money::ParseYuan(text, name);
  if (!m.ok()) return InvalidArgument(m.status().message(), std::string(name));
  return *m;
}

Result<std::optional<Money>> ReadOptMoney(JsonFields& f, std::string_view name) {
  auto text = f.OptDecimalText(name);
  RETURN_IF_ERROR(f.error());
  if (!text) return std::optional<Money>();
  auto m = Money::ParseYuan(*text, name);
  if (!m.ok()) return InvalidArgument(m.status().message(), std::string(name));
  return std::optional<Money>(*m);
}

Result<std::optional<Date>> ReadOptDate(JsonFields& f, std::string_view name) {
  auto text = f.OptString(name, {.max_len = 10});
  RETURN_IF_ERROR(f.error());
  if (!text) return std::optional<Date>();
  auto d = Date::Parse(*text, name);
  if (!d.ok()) return InvalidArgument(d.status().message(), std::string(name));
  return std::optional<Date>(*d);
}

Result<std::optional<Date>> QueryDate(const http::Request& req, std::string_view name) {
  auto v = req.Query(name);
  if (!v || v->empty()) return std::optional<Date>();
  auto d = Date::Parse(*v, name);
  if (!d.ok()) return InvalidArgument(d.status().message(), std::string(name));
  return std::optional<Date>(*d);
}

Result<Date> PathDate(const RouteContext& ctx, std::string_view name) {
  auto d = Date::Parse(ctx.Param(name), name);
  if (!d.ok()) return InvalidArgument(d.status().message(), std::string(name));
  return *d;
}

Result<json> Body(const RouteContext& ctx) { return http::ParseJsonObject(ctx.req.body); }

// A file upload: the raw body, or a JSON wrapper. `extra` reads the wrapper's other fields.
struct Upload {
  std::string bytes;
  std::string file_name;
};
Result<Upload> ReadUpload(RouteContext& ctx, const std::function<void(JsonFields&)>& extra) {
  Upload u;
  std::string_view ct = ctx.req.Header("content-type");
  if (ct.rfind("application/json", 0) != 0) {
    if (ctx.req.body.empty()) return InvalidArgument("the file is empty", "content");
    u.bytes = ctx.req.body;
    u.file_name = std::string(ctx.req.Query("file_name").value_or(""));
    return u;
  }
  ASSIGN_OR_RETURN(json body, Body(ctx));
  JsonFields f(body);
  auto text = f.OptString("content", {.max_len = 50'000'000, .min_len = 1, .trim = false});
  auto b64 = f.OptString("content_base64", {.max_len = 70'000'000, .min_len = 1, .trim = false});
  u.file_name = f.OptString("file_name", {.max_len = 200, .min_len = 0}).value_or("");
  if (extra) extra(f);
  RETURN_IF_ERROR(f.Finish());
  if (text.has_value() == b64.has_value()) {
    return InvalidArgument("give the file as content (UTF-8 text) or content_base64 (its bytes)",
                           "content");
  }
  if (text) {
    u.bytes = std::move(*text);
  } else {
    ASSIGN_OR_RETURN(u.bytes, DecodeBase64(*b64));
  }
  return u;
}

// The reply for a rejected file: the error body plus every bad line.
Reply FileRejected(const Status& s, const std::vector<FileError>& errors) {
  json err = {{"code", StatusCodeName(s.code())}, {"message", s.message()}};
  if (!s.field().empty()) err["field"] = s.field();
  return JsonReply({{"error", err}, {"bad_lines", ToJson(errors)}}, http::HttpStatusFor(s.code()));
}

Reply TextReply(std::string text, std::string content_type = "text/plain; charset=utf-8") {
  Reply r;
  r.raw_content_type = std::move(content_type);
  r.raw_body = std::move(text);
  return r;
}

const std::initializer_list<std::string_view> kMethods = {"cash", "card", "transfer"};

void AddSchemas(http::Router& r) {
  json money = Yuan();
  r.AddSchema("LedgerAccount", Obj({{"code", Str()},
                                    {"name", Str()},
                                    {"kind", Enum({"asset", "liability", "revenue"})},
                                    {"subledger", Str("customer when lines name the customer")}},
                                   {"code", "name", "kind"}));
  r.AddSchema("LedgerAccounts", Obj({{"items", ArrayOf(Ref("LedgerAccount"))}}, {"items"}));
  r.AddSchema("TrialBalance",
              Obj({{"department_id", NullableInt()},
                   {"from", NullableStr()},
                   {"to", NullableStr()},
                   {"rows", ArrayOf(Obj({{"code", Str()},
                                         {"name", Str()},
                                         {"kind", Str()},
                                         {"debit", money},
                                         {"credit", money},
                                         {"balance", Yuan("debit − credit")}}))},
                   {"total_debit", money},
                   {"total_credit", money},
                   {"total_balance", Yuan("always 0.00")},
                   {"balanced", Bool()}},
                  {"rows", "total_debit", "total_credit", "total_balance", "balanced"}));
  r.AddSchema("JournalEntry",
              Obj({{"id", Int()},
                   {"kind", Str("bill_issue, bill_cancel, payment, payment_reversal, ...")},
                   {"business_date", Day()},
                   {"posted_at", Str()},
                   {"department_id", Int()},
                   {"customer_id", NullableInt()},
                   {"ref_type", Str()},
                   {"ref_id", NullableInt()},
                   {"memo", Str()},
                   {"amount", money},
                   {"reverses_entry_id", NullableInt()},
                   {"reversed_by_entry_id", NullableInt()},
                   {"created_by", NullableInt()},
                   {"lines", ArrayOf(Obj({{"line_no", Int()},
                                          {"account", Str()},
                                          {"customer_id", NullableInt()},
                                          {"debit", money},
                                          {"credit", money}}))}},
                  {"id", "kind", "business_date", "amount", "lines"}));
  r.AddSchema("Statement",
              Obj({{"customer_id", Int()},
                   {"customer_no", Str()},
                   {"customer_name", Str()},
                   {"from", Day()},
                   {"to", Day()},
                   {"opening_balance", Yuan("owed at the start (negative: the utility owes)")},
                   {"charges", money},
                   {"payments", money},
                   {"closing_balance", money},
                   {"lines", ArrayOf(Obj({{"entry_id", Int()},
                                          {"business_date", Day()},
                                          {"kind", Str()},
                                          {"memo", Str()},
                                          {"amount", money},
                                          {"late_fee", money},
                                          {"change", money},
                                          {"balance", money}}))}},
                  {"customer_id", "opening_balance", "closing_balance", "lines"}));
  r.AddSchema("Receivable",
              Obj({{"id", Int()},
                   {"bill_id", Int()},
                   {"bill_no", Str()},
                   {"customer_id", Int()},
                   {"customer_no", Str()},
                   {"customer_name", Str()},
                   {"account_id", NullableInt()},
                   {"department_id", Int()},
                   {"metering_point_id", NullableInt()},
                   {"period", Str("电费年月 YYYY-MM")},
                   {"category", Str()},
                   {"amount", money},
                   {"principal_paid", money},
                   {"outstanding", money},
                   {"late_fee_accrued", Yuan("to as_of: paid, waived and due together")},
                   {"late_fee_paid", money},
                   {"late_fee_waived", money},
                   {"late_fee_due", money},
                   {"as_of", Day()},
                   {"issue_date", Day()},
                   {"due_date", Day()},
                   {"days_overdue", Int()},
                   {"status", Enum({"open", "paid", "cancelled"})},
                   {"settled_date", NullableStr()},
                   {"debit_batch_id", NullableInt()},
                   {"frozen", Bool()},
                   {"version", Int()},
                   {"created_at", Str()},
                   {"updated_at", Str()},
                   {"allocations", ArrayOf(Obj({{"id", Int()},
                                                {"payment_id", NullableInt()},
                                                {"receipt_no", NullableStr()},
                                                {"source", Enum({"payment", "credit", "prepaid"})},
                                                {"pay_date", Day()},
                                                {"principal", money},
                                                {"late_fee", money},
                                                {"reversed", Bool()}}))},
                   {"waivers", ArrayOf(Obj({{"id", Int()},
                                            {"amount", money},
                                            {"as_of", Day()},
                                            {"reason", Str()},
                                            {"created_by", NullableInt()},
                                            {"created_by_name", Str()},
                                            {"created_at", Str()}}))}},
                  {"id", "bill_id", "customer_id", "amount", "outstanding", "status", "version"}));
  r.AddSchema("WaiverRequest", Obj({{"amount", Yuan("default: all of the late fee due today")},
                                    {"reason", Str("2-200 characters")},
                                    {"version", VersionField()}},
                                   {"reason", "version"}));
  r.AddSchema("Arrears", Obj({{"customer_id", Int()},
                              {"customer_no", Str()},
                              {"name", Str()},
                              {"address", Str()},
                              {"department_id", Int()},
                              {"as_of", Day("late fees computed to this day")},
                              {"bills", ArrayOf(Obj({{"receivable_id", Int()},
                                                     {"bill_id", Int()},
                                                     {"bill_no", Str()},
                                                     {"period", Str()},
                                                     {"amount", money},
                                                     {"principal", money},
                                                     {"late_fee", money},
                                                     {"due_date", Day()},
                                                     {"days_overdue", Int()},
                                                     {"frozen", Bool()}}))},
                              {"principal", money},
                              {"late_fee", money},
                              {"total", Yuan("principal + late fee: what to pay")},
                              {"credit", money},
                              {"prepaid_account_id", NullableInt()},
                              {"prepaid_balance", NullableYuan()}},
                             {"customer_no", "bills", "principal", "late_fee", "total"}));
  r.AddSchema("Receipt", Obj({{"payment_id", Int()},
                              {"receipt_no", Str("SK<clearing date>-<id>")},
                              {"customer_id", Int()},
                              {"customer_no", Str()},
                              {"customer_name", Str()},
                              {"department_id", Int()},
                              {"source", Enum({"counter", "channel", "debit"})},
                              {"channel_id", NullableInt()},
                              {"channel_code", NullableStr()},
                              {"method", Enum({"cash", "card", "transfer", "bank"})},
                              {"serial", NullableStr()},
                              {"request_id", NullableStr()},
                              {"amount", money},
                              {"tendered", NullableYuan()},
                              {"change", money},
                              {"principal", money},
                              {"late_fee", money},
                              {"credit", Yuan("to the customer's credit (overpayment)")},
                              {"prepaid", Yuan("to the remote prepaid balance")},
                              {"prepaid_account_id", NullableInt()},
                              {"pay_date", Day("late fees computed to this day")},
                              {"txn_time", NullableStr()},
                              {"clearing_date", Day()},
                              {"lines", ArrayOf(Obj({{"receivable_id", Int()},
                                                     {"bill_no", Str()},
                                                     {"period", Str()},
                                                     {"principal", money},
                                                     {"late_fee", money}}))},
                              {"status", Enum({"posted", "reversed"})},
                              {"reversed_at", NullableStr()},
                              {"reversal_reason", NullableStr()},
                              {"cashier", Str()},
                              {"created_at", Str()},
                              {"version", Int()},
                              {"duplicate", Bool()},
                              {"printable", Str("the receipt as printable text")}},
                             {"payment_id", "receipt_no", "amount", "lines", "status", "version"}));
  r.AddSchema("CounterPayment",
              Obj({{"customer_id", Int()},
                   {"amount", money},
                   {"method", Enum(kMethods)},
                   {"tendered", Yuan("cash handed over; change is given")},
                   {"request_id",
                    Str("optional, recommended: 1-64 of A-Z a-z 0-9 - _ . chosen by the client "
                        "per payment, unique per cashier; a retry with it answers the original "
                        "receipt (duplicate: true, status 200) and posts nothing; the same id "
                        "with another customer, amount or method is 409 on request_id")}},
                  {"customer_id", "amount", "method"}));
  r.AddSchema("Reversal", Obj({{"version", VersionField()}, {"reason", Str("2-200 characters")}},
                              {"version", "reason"}));
  r.AddSchema("ChannelPayment",
              Obj({{"serial", Str("the channel's serial: 1-64 of A-Z a-z 0-9 - _ .; the "
                                  "idempotency key")},
                   {"customer_no", Str("户号")},
                   {"amount", money},
                   {"txn_date", Day("the bank's transaction date (default today)")},
                   {"txn_time", Str("HHMMSS")},
                   {"expected_total",
                    Yuan("the total of the query; refused if the arrears changed since")}},
                  {"serial", "customer_no", "amount"}));
  r.AddSchema("ChannelReversal",
              Obj({{"serial", Str("the serial of the payment to reverse")}, {"reason", Str()}},
                  {"serial"}));
  r.AddSchema("PaymentChannel", Obj({{"id", Int()},
                                     {"code", Str()},
                                     {"name", Str()},
                                     {"kind", Enum({"bank", "third_party"})},
                                     {"user_id", NullableInt()},
                                     {"username", Str()},
                                     {"bank_name", NullableStr()},
                                     {"file_encoding", Enum({"utf8", "gbk"})},
                                     {"allow_partial", Bool()},
                                     {"status", Enum({"active", "suspended"})},
                                     {"ledger_account", Str()},
                                     {"version", Int()},
                                     {"created_at", Str()},
                                     {"updated_at", Str()}},
                                    {"id", "code", "name", "version"}));
  r.AddSchema("PaymentChannelInput",
              Obj({{"code", Str("1-20 code characters; required on create; cannot change")},
                   {"name", Str("required on create")},
                   {"kind", Enum({"bank", "third_party"})},
                   {"user_id", NullableInt()},
                   {"bank_name", NullableStr()},
                   {"file_encoding", Enum({"utf8", "gbk"})},
                   {"allow_partial", Bool()},
                   {"status", Enum({"active", "suspended"})},
                   {"version", VersionField()}}));
  r.AddSchema("ChannelDay", Obj({{"channel_id", Int()},
                                 {"clearing_date", Day()},
                                 {"status", Enum({"open", "closed"})},
                                 {"payment_count", Int()},
                                 {"payment_total", money},
                                 {"reconciliation_id", NullableInt()},
                                 {"closed_at", NullableStr()}},
                                {"channel_id", "clearing_date", "status"}));
  r.AddSchema("DebitExport", Obj({{"channel_id", Int()}, {"department_id", Int()}},
                                 {"channel_id", "department_id"}));
  r.AddSchema(
      "DebitBatch",
      Obj({{"id", Int()},
           {"batch_no", Str()},
           {"channel_id", Int()},
           {"channel_code", Str()},
           {"department_id", Int()},
           {"export_date", Day()},
           {"status", Enum({"exported", "returned", "cancelled"})},
           {"item_count", Int()},
           {"total", money},
           {"encoding", Enum({"utf8", "gbk"})},
           {"success_count", Int()},
           {"success_total", money},
           {"failure_count", Int()},
           {"exported_at", Str()},
           {"returned_at", NullableStr()},
           {"version", Int()},
           {"skipped", ArrayOf(Str())},
           {"items", ArrayOf(Obj({{"line_no", Int()},
                                  {"serial", Str()},
                                  {"receivable_id", Int()},
                                  {"customer_id", Int()},
                                  {"customer_no", Str()},
                                  {"account_name", Str()},
                                  {"bank_account_no", Str()},
                                  {"period", Str()},
                                  {"amount", money},
                                  {"status", Enum({"pending", "success", "failed", "cancelled"})},
                                  {"debited", money},
                                  {"bank_serial", NullableStr()},
                                  {"debit_date", NullableStr()},
                                  {"reason", NullableStr()},
                                  {"payment_id", NullableInt()}}))}},
          {"id", "batch_no", "status", "item_count", "total"}));
  json upload = Obj({{"content", Str("the file as UTF-8 text")},
                     {"content_base64", Str("the file's bytes in the channel's encoding")},
                     {"file_name", Str()}});
  r.AddSchema("BankFileUpload", upload);
  json check_upload = upload;
  check_upload["properties"]["channel_id"] = Int("the channel (or ?channel_id= with a raw body)");
  check_upload["properties"]["clearing_date"] = Day("the day reconciled (or ?clearing_date=)");
  check_upload["required"] = json::array({"channel_id", "clearing_date"});
  r.AddSchema("CheckFileUpload", check_upload);
  r.AddSchema("CloseDay", Obj({}));
  r.AddSchema("DebitCancel",
              Obj({{"version", VersionField()}, {"reason", Str()}}, {"version", "reason"}));
  r.AddSchema("Reconciliation",
              Obj({{"id", Int()},
                   {"channel_id", Int()},
                   {"channel_code", Str()},
                   {"clearing_date", Day()},
                   {"status", Enum({"current", "superseded"})},
                   {"file_name", Str()},
                   {"bank_count", Int()},
                   {"bank_total", money},
                   {"utility_count", Int()},
                   {"utility_total", money},
                   {"matched_count", Int()},
                   {"bank_only_count", Int()},
                   {"utility_only_count", Int()},
                   {"mismatch_count", Int()},
                   {"balanced", Bool()},
                   {"day_status", Enum({"open", "closed"})},
                   {"imported_at", Str()},
                   {"items", ArrayOf(Obj({{"item_no", Int()},
                                          {"category", Enum({"matched", "bank_only", "utility_only",
                                                             "amount_mismatch"})},
                                          {"serial", Str()},
                                          {"file_line", NullableInt()},
                                          {"payment_id", NullableInt()},
                                          {"receipt_no", NullableStr()},
                                          {"customer_no", NullableStr()},
                                          {"bank_amount", NullableYuan()},
                                          {"utility_amount", NullableYuan()}}))}},
                  {"id", "channel_id", "clearing_date", "matched_count"}));
  json aging_row = Obj({{"department_id", Int()},
                        {"department_name", Str()},
                        {"current", Yuan("not yet due")},
                        {"d0_30", Yuan("1-30 days overdue")},
                        {"d31_60", money},
                        {"d61_90", money},
                        {"d90_plus", money},
                        {"overdue", money},
                        {"overdue_bills", Int()},
                        {"overdue_customers", Int()}});
  r.AddSchema("Aging", Obj({{"as_of", Day()}, {"rows", ArrayOf(aging_row)}, {"total", aging_row}},
                           {"as_of", "rows", "total"}));
  r.AddSchema("ArrearsCustomer", Obj({{"customer_id", Int()},
                                      {"customer_no", Str()},
                                      {"name", Str()},
                                      {"department_id", Int()},
                                      {"overdue_bills", Int()},
                                      {"principal", money},
                                      {"late_fee", money},
                                      {"total", money},
                                      {"oldest_due_date", Day()},
                                      {"max_days_overdue", Int()}},
                                     {"customer_id", "customer_no", "total"}));
  r.AddSchema("ReminderRequest", Obj({{"department_id", Int("that department and below")},
                                      {"as_of", Day("default today")},
                                      {"level2_days", Int("default 15")},
                                      {"level3_days", Int("default 30: a disconnection warning")},
                                      {"deadline_days", Int("default 7")}},
                                     {"department_id"}));
  r.AddSchema("ReminderRun", Obj({{"as_of", Day()},
                                  {"created", Int()},
                                  {"existing", Int("already generated for that bill and level")},
                                  {"bills", Int()}},
                                 {"created", "existing", "bills"}));
  r.AddSchema("Reminder", Obj({{"id", Int()},
                               {"receivable_id", Int()},
                               {"bill_no", Str()},
                               {"period", Str()},
                               {"customer_id", Int()},
                               {"customer_no", Str()},
                               {"customer_name", Str()},
                               {"department_id", Int()},
                               {"level", Int("1 催缴, 2 再次催缴, 3 停电预告")},
                               {"title", Str()},
                               {"as_of", Day()},
                               {"days_overdue", Int()},
                               {"amount", money},
                               {"principal", money},
                               {"late_fee", money},
                               {"due_date", Day()},
                               {"deadline", Day()},
                               {"created_at", Str()},
                               {"notice", Str("the printable notice (GET /reminders/{id})")}},
                              {"id", "level", "customer_no"}));
  r.AddSchema("PrepaidAccount",
              Obj({{"id", Int()},
                   {"metering_point_id", Int()},
                   {"point_code", Str()},
                   {"tariff_code", Str()},
                   {"customer_id", Int()},
                   {"customer_no", Str()},
                   {"customer_name", Str()},
                   {"department_id", Int()},
                   {"mode", Enum({"ic_card", "remote"})},
                   {"card_no", NullableStr()},
                   {"balance", money},
                   {"purchase_count", Int("购电次数")},
                   {"total_purchased", money},
                   {"warn_below", money},
                   {"disconnect_below", money},
                   {"reconnect_above", money},
                   {"keep_power", Bool()},
                   {"control_state", Enum({"normal", "warned", "disconnected"})},
                   {"status", Enum({"active", "closed"})},
                   {"version", Int()},
                   {"created_at", Str()},
                   {"updated_at", Str()}},
                  {"id", "metering_point_id", "mode", "balance", "control_state", "version"}));
  r.AddSchema("PrepaidAccountInput",
              Obj({{"metering_point_id", Int("required on create; cannot change")},
                   {"mode", Enum({"ic_card", "remote"})},
                   {"card_no", NullableStr()},
                   {"warn_below", Yuan("default 50.00")},
                   {"disconnect_below", Yuan("default 0.00")},
                   {"reconnect_above", Yuan("default 0.00")},
                   {"keep_power", Bool()},
                   {"status", Enum({"active", "closed"})},
                   {"version", VersionField()}}));
  json txn = Obj({{"id", Int()},
                  {"prepaid_account_id", Int()},
                  {"kind", Str("purchase, deduction, estimate_reversal, settlement, payment, ...")},
                  {"amount", Yuan("signed change of the balance")},
                  {"balance_after", money},
                  {"business_date", Day()},
                  {"method", NullableStr()},
                  {"purchase_count", NullableInt()},
                  {"energy_kwh", NullableStr()},
                  {"charge_to_date", NullableYuan()},
                  {"receivable_id", NullableInt()},
                  {"payment_id", NullableInt()},
                  {"entry_id", NullableInt()},
                  {"request_id", NullableStr()},
                  {"created_at", Str()}},
                 {"id", "kind", "amount", "balance_after"});
  r.AddSchema("PrepaidTransaction", txn);
  r.AddSchema("PrepaidPurchase",
              Obj({{"amount", money},
                   {"method", Enum(kMethods)},
                   {"request_id",
                    Str("optional, recommended: 1-64 of A-Z a-z 0-9 - _ . chosen by the client "
                        "per purchase, unique per account; a retry with it answers the original "
                        "purchase and card write (duplicate: true, status 200) and posts "
                        "nothing; the same id with another amount or method is 409 on "
                        "request_id")}},
                  {"amount", "method"}));
  r.AddSchema("PrepaidPurchaseResult", Obj({{"account", Ref("PrepaidAccount")},
                                            {"transaction", Ref("PrepaidTransaction")},
                                            {"card_write",
                                             {{"type", "object"},
                                              {"nullable", true},
                                              {"properties",
                                               {{"card_no", Str()},
                                                {"purchase_count", Int()},
                                                {"amount", money},
                                                {"total_purchased", money}}}}},
                                            {"duplicate", Bool()}},
                                           {"account", "transaction"}));
  r.AddSchema("DeductionRequest",
              Obj({{"day", Day("a day that has ended")}, {"department_id", Int()}}, {"day"}));
  r.AddSchema("DeductionRun", Obj({{"day", Day()},
                                   {"accounts", Int()},
                                   {"deducted", Int()},
                                   {"already_done", Int()},
                                   {"total", money},
                                   {"control_requests", Int()},
                                   {"problems", ArrayOf(Obj({{"prepaid_account_id", Int()},
                                                             {"point_code", Str()},
                                                             {"reason", Str()}}))}},
                                  {"day", "deducted", "problems"}));
  r.AddSchema("ControlRequest", Obj({{"id", Int()},
                                     {"metering_point_id", Int()},
                                     {"point_code", Str()},
                                     {"prepaid_account_id", NullableInt()},
                                     {"department_id", Int()},
                                     {"kind", Enum({"warn", "disconnect", "reconnect"})},
                                     {"reason", Str()},
                                     {"balance", money},
                                     {"status", Enum({"pending", "sent", "confirmed", "failed"})},
                                     {"error", NullableStr()},
                                     {"created_at", Str()},
                                     {"sent_at", NullableStr()},
                                     {"completed_at", NullableStr()},
                                     {"version", Int()}},
                                    {"id", "kind", "status", "version"}));
  r.AddSchema("ControlRequestUpdate", Obj({{"status", Enum({"sent", "confirmed", "failed"})},
                                           {"error", Str("required with failed")},
                                           {"version", VersionField()}},
                                          {"status", "version"}));
}

json ReceiptJson(const Receipt& r, const TimeZone& zone) {
  json j = ToJson(r);
  j["printable"] = PrintableReceipt(r, zone);
  return j;
}

}  // namespace

void AddRoutes(http::Router& router, AccountsService& accounts, ChannelService& channels,
               PrepaidService& prepaid) {
  AddSchemas(router);
  AccountsService* a = &accounts;
  ChannelService* ch = &channels;
  PrepaidService* pp = &prepaid;
  const TimeZone zone = accounts.context().zone;

  // ---- Ledger ----
  router.Add(
      {.method = "GET",
       .pattern = "/api/v1/ledger/accounts",
       .permission = "accounts.read",
       .summary = "The chart of ledger accounts (科目)",
       .tag = "accounts",
       .response = "LedgerAccounts",
       .fn = [a](RouteContext& ctx) -> Result<Reply> {
         ASSIGN_OR_RETURN(auto list, a->ListLedgerAccounts(ctx.actor));
         json items = json::array();
         for (const auto& l : list) {
           items.push_back(
               {{"code", l.code}, {"name", l.name}, {"kind", l.kind}, {"subledger", l.subledger}});
         }
         return JsonReply({{"items", items}});
       }});
  router.Add(
      {.method = "GET",
       .pattern = "/api/v1/ledger/trial-balance",
       .permission = "accounts.read",
       .summary = "Trial balance (试算平衡表) of your data scope; debits always equal credits",
       .tag = "accounts",
       .query = {{"department_id", "integer", "that department and below"},
                 {"from", "string", "business date YYYY-MM-DD, inclusive"},
                 {"to", "string", "business date YYYY-MM-DD, inclusive"}},
       .response = "TrialBalance",
       .fn = [a](RouteContext& ctx) -> Result<Reply> {
         ASSIGN_OR_RETURN(auto dept, http::QueryInt(ctx.req, "department_id"));
         ASSIGN_OR_RETURN(auto from, QueryDate(ctx.req, "from"));
         ASSIGN_OR_RETURN(auto to, QueryDate(ctx.req, "to"));
         ASSIGN_OR_RETURN(auto tb, a->GetTrialBalance(ctx.actor, dept, from, to));
         return JsonReply(ToJson(tb));
       }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/ledger/entries",
              .permission = "accounts.read",
              .summary = "Journal entries (记账凭证) with their lines, newest first",
              .tag = "accounts",
              .query = {{"customer_id", "integer", ""},
                        {"department_id", "integer", "that department and below"},
                        {"kind", "string", "bill_issue, payment, payment_reversal, ..."},
                        {"from", "string", "YYYY-MM-DD"},
                        {"to", "string", "YYYY-MM-DD"}},
              .response = "JournalEntry",
              .list = true,
              .fn = [a](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
                EntryQuery q;
                ASSIGN_OR_RETURN(q.customer_id, http::QueryInt(ctx.req, "customer_id"));
                ASSIGN_OR_RETURN(q.department_id, http::QueryInt(ctx.req, "department_id"));
                ASSIGN_OR_RETURN(q.kind, QueryText(ctx.req, "kind", 40));
                ASSIGN_OR_RETURN(q.from, QueryDate(ctx.req, "from"));
                ASSIGN_OR_RETURN(q.to, QueryDate(ctx.req, "to"));
                q.page = page.page;
                q.page_size = page.page_size;
                int64_t total = 0;
                ASSIGN_OR_RETURN(auto list, a->ListEntries(ctx.actor, q, &total));
                return JsonReply(http::PageOf(list, page, total));
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/customers/{id}/statement",
              .permission = "accounts.read",
              .summary = "A customer's statement (对账单): bills, payments and the balance owed",
              .tag = "accounts",
              .query = {{"from", "string", "YYYY-MM-DD (default: a year ago)"},
                        {"to", "string", "YYYY-MM-DD (default: today)"}},
              .response = "Statement",
              .fn = [a](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(auto from, QueryDate(ctx.req, "from"));
                ASSIGN_OR_RETURN(auto to, QueryDate(ctx.req, "to"));
                Date today = a->context().Today();
                ASSIGN_OR_RETURN(auto s,
                                 a->GetStatement(ctx.actor, id, from.value_or(today.AddDays(-365)),
                                                 to.value_or(today)));
                return JsonReply(ToJson(s));
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/customers/{id}/arrears",
              .permission = "accounts.read",
              .summary = "What a customer owes, bill by bill, with late fees to a day (the "
                         "counter's query before taking money)",
              .tag = "accounts",
              .query = {{"as_of", "string", "YYYY-MM-DD (default today)"}},
              .response = "Arrears",
              .fn = [a](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(auto as_of, QueryDate(ctx.req, "as_of"));
                ASSIGN_OR_RETURN(auto r, a->GetArrears(ctx.actor, id, as_of));
                return JsonReply(ToJson(r));
              }});

  // ---- Receivables ----
  router.Add(
      {.method = "GET",
       .pattern = "/api/v1/receivables",
       .permission = "accounts.read",
       .summary = "Receivables (应收) in your data scope with late fees to a day",
       .tag = "accounts",
       .query = {{"customer_id", "integer", ""},
                 {"department_id", "integer", "that department and below"},
                 {"status", "string", "open, paid, cancelled"},
                 {"period", "string", "YYYY-MM"},
                 {"overdue", "boolean", "open and past due only"},
                 {"as_of", "string", "late fees to this day (default today)"}},
       .response = "Receivable",
       .list = true,
       .fn = [a](RouteContext& ctx) -> Result<Reply> {
         ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
         ReceivableQuery q;
         ASSIGN_OR_RETURN(q.customer_id, http::QueryInt(ctx.req, "customer_id"));
         ASSIGN_OR_RETURN(q.department_id, http::QueryInt(ctx.req, "department_id"));
         ASSIGN_OR_RETURN(q.status, QueryEnum(ctx.req, "status", {"open", "paid", "cancelled"}));
         ASSIGN_OR_RETURN(q.period, QueryText(ctx.req, "period", 7));
         ASSIGN_OR_RETURN(std::string overdue, QueryEnum(ctx.req, "overdue", {"true", "false"}));
         q.overdue_only = overdue == "true";
         ASSIGN_OR_RETURN(q.as_of, QueryDate(ctx.req, "as_of"));
         q.page = page.page;
         q.page_size = page.page_size;
         int64_t total = 0;
         ASSIGN_OR_RETURN(auto list, a->ListReceivables(ctx.actor, q, &total));
         return JsonReply(http::PageOf(list, page, total));
       }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/receivables/{id}",
              .permission = "accounts.read",
              .summary = "A receivable with what paid it (allocations) and its late-fee waivers",
              .tag = "accounts",
              .query = {{"as_of", "string", "late fee to this day (default today)"}},
              .response = "Receivable",
              .fn = [a](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(auto as_of, QueryDate(ctx.req, "as_of"));
                ASSIGN_OR_RETURN(auto d, a->GetReceivable(ctx.actor, id, as_of));
                return JsonReply(ToJson(d));
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/receivables/{id}/late-fee-waivers",
              .permission = "accounts.late_fee",
              .summary = "Waive a bill's late fee (违约金减免), all or part of what is due today; "
                         "audited with the reason",
              .tag = "accounts",
              .request = "WaiverRequest",
              .response = "Receivable",
              .success_status = 201,
              .fn = [a](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(json body, Body(ctx));
                JsonFields f(body);
                int64_t version = f.Int("version", {.min = 1});
                std::string reason = f.String("reason", {.max_len = 200});
                ASSIGN_OR_RETURN(auto amount, ReadOptMoney(f, "amount"));
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(auto r, a->WaiveLateFee(ctx.actor, id, version, amount, reason));
                return JsonReply(ToJson(r), 201);
              }});

  // ---- Counter payments ----
  router.Add({.method = "POST",
              .pattern = "/api/v1/payments",
              .permission = "payment.counter",
              .summary =
                  "Take a payment at the counter (坐收): allocated to the oldest bills, late "
                  "fee first; the receipt. Idempotent by request_id: a retry answers the "
                  "original receipt (duplicate: true, status 200)",
              .tag = "accounts",
              .request = "CounterPayment",
              .response = "Receipt",
              .success_status = 201,
              .fn = [a, zone](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(json body, Body(ctx));
                JsonFields f(body);
                CounterPaymentInput in;
                in.customer_id = f.Int("customer_id", {.min = 1});
                in.method = f.Enum("method", kMethods);
                ASSIGN_OR_RETURN(in.amount, ReadMoney(f, "amount"));
                ASSIGN_OR_RETURN(in.tendered, ReadOptMoney(f, "tendered"));
                in.request_id = f.OptString("request_id", {.max_len = 64});
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(auto r, a->PayAtCounter(ctx.actor, in));
                return JsonReply(ReceiptJson(r, zone), r.duplicate ? 200 : 201);
              }});
  router.Add(
      {.method = "GET",
       .pattern = "/api/v1/payments",
       .permission = "accounts.read",
       .summary = "Payments (实收) in your data scope, newest first",
       .tag = "accounts",
       .query = {{"customer_id", "integer", ""},
                 {"channel_id", "integer", ""},
                 {"source", "string", "counter, channel, debit"},
                 {"status", "string", "posted, reversed"},
                 {"from", "string", "clearing date YYYY-MM-DD"},
                 {"to", "string", "clearing date YYYY-MM-DD"}},
       .response = "Receipt",
       .list = true,
       .fn = [a](RouteContext& ctx) -> Result<Reply> {
         ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
         PaymentQuery q;
         ASSIGN_OR_RETURN(q.customer_id, http::QueryInt(ctx.req, "customer_id"));
         ASSIGN_OR_RETURN(q.channel_id, http::QueryInt(ctx.req, "channel_id"));
         ASSIGN_OR_RETURN(q.source, QueryEnum(ctx.req, "source", {"counter", "channel", "debit"}));
         ASSIGN_OR_RETURN(q.status, QueryEnum(ctx.req, "status", {"posted", "reversed"}));
         ASSIGN_OR_RETURN(q.from, QueryDate(ctx.req, "from"));
         ASSIGN_OR_RETURN(q.to, QueryDate(ctx.req, "to"));
         q.page = page.page;
         q.page_size = page.page_size;
         int64_t total = 0;
         ASSIGN_OR_RETURN(auto list, a->ListPayments(ctx.actor, q, &total));
         return JsonReply(http::PageOf(list, page, total));
       }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/payments/{id}",
              .permission = "accounts.read",
              .summary = "A payment as its receipt (JSON with the printable text)",
              .tag = "accounts",
              .response = "Receipt",
              .fn = [a, zone](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(auto r, a->GetPayment(ctx.actor, id));
                return JsonReply(ReceiptJson(r, zone));
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/payments/{id}/receipt",
              .permission = "accounts.read",
              .summary = "The printable receipt (收据) as text/plain",
              .tag = "accounts",
              .fn = [a, zone](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(auto r, a->GetPayment(ctx.actor, id));
                return TextReply(PrintableReceipt(r, zone));
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/payments/{id}/reverse",
              .permission = "payment.reverse",
              .summary = "Reverse a payment (冲正) on the day it was taken: reversal entries, the "
                         "bills reopened",
              .tag = "accounts",
              .request = "Reversal",
              .response = "Receipt",
              .fn = [a, zone](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(json body, Body(ctx));
                JsonFields f(body);
                int64_t version = f.Int("version", {.min = 1});
                std::string reason = f.String("reason", {.max_len = 200});
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(auto r, a->ReversePayment(ctx.actor, id, version, reason));
                return JsonReply(ReceiptJson(r, zone));
              }});

  // ---- The channel API (代收), for banks and payment channels with an API token ----
  router.Add({.method = "GET",
              .pattern = "/api/v1/channel/arrears",
              .permission = "payment.channel",
              .summary = "Channel API: query a customer's arrears (查询欠费) by 户号, late fees to "
                         "the transaction date",
              .tag = "channel",
              .query = {{"customer_no", "string", "户号 (required)"},
                        {"txn_date", "string", "the bank's transaction date (default today)"}},
              .response = "Arrears",
              .fn = [ch](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(std::string no, QueryText(ctx.req, "customer_no", 32));
                if (no.empty()) return InvalidArgument("customer_no is required", "customer_no");
                ASSIGN_OR_RETURN(auto day, QueryDate(ctx.req, "txn_date"));
                ASSIGN_OR_RETURN(auto r, ch->QueryArrears(ctx.actor, no, day));
                return JsonReply(ToJson(r));
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/channel/payments",
              .permission = "payment.channel",
              .summary = "Channel API: pay (缴费), idempotent by the channel's serial: a retry "
                         "answers the original receipt (duplicate: true, status 200)",
              .tag = "channel",
              .request = "ChannelPayment",
              .response = "Receipt",
              .success_status = 201,
              .fn = [ch, zone](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(json body, Body(ctx));
                JsonFields f(body);
                ChannelPayInput in;
                in.serial = f.String("serial", {.max_len = 64});
                in.customer_no = f.String("customer_no", {.max_len = 32});
                ASSIGN_OR_RETURN(in.amount, ReadMoney(f, "amount"));
                ASSIGN_OR_RETURN(in.txn_date, ReadOptDate(f, "txn_date"));
                in.txn_time = f.OptString("txn_time", {.max_len = 8});
                ASSIGN_OR_RETURN(in.expected_total, ReadOptMoney(f, "expected_total"));
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(auto r, ch->Pay(ctx.actor, in));
                return JsonReply(ReceiptJson(r, zone), r.duplicate ? 200 : 201);
              }});
  router.Add(
      {.method = "POST",
       .pattern = "/api/v1/channel/reversals",
       .permission = "payment.channel",
       .summary = "Channel API: reverse (冲正) a payment by its serial, the same day only and "
                  "not after the day is closed; a retry answers the same",
       .tag = "channel",
       .request = "ChannelReversal",
       .response = "Receipt",
       .fn = [ch, zone](RouteContext& ctx) -> Result<Reply> {
         ASSIGN_OR_RETURN(json body, Body(ctx));
         JsonFields f(body);
         std::string serial = f.String("serial", {.max_len = 64});
         std::string reason = f.OptString("reason", {.max_len = 200, .min_len = 0}).value_or("");
         RETURN_IF_ERROR(f.Finish());
         ASSIGN_OR_RETURN(auto r, ch->Reverse(ctx.actor, serial, reason));
         return JsonReply(ReceiptJson(r, zone));
       }});

  // ---- Channels, their days ----
  auto channel_input = [](JsonFields& f, const json& body) {
    ChannelInput in;
    in.code = f.OptString("code", {.max_len = 20});
    in.name = f.OptString("name", {.max_len = 100});
    in.kind = f.OptEnum("kind", {"bank", "third_party"});
    in.user_id = grid::api::NullableId(f, body, "user_id");
    in.bank_name = grid::api::NullableText(f, body, "bank_name", 100);
    in.file_encoding = f.OptEnum("file_encoding", {"utf8", "gbk"});
    in.allow_partial = f.OptBool("allow_partial");
    in.status = f.OptEnum("status", {"active", "suspended"});
    return in;
  };
  router.Add({.method = "GET",
              .pattern = "/api/v1/payment-channels",
              .permission = "accounts.read",
              .summary = "Payment channels (banks, third parties) and their API users",
              .tag = "accounts",
              .response = "PaymentChannel",
              .list = true,
              .fn = [ch](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
                ASSIGN_OR_RETURN(auto list, ch->ListChannels(ctx.actor));
                json items = json::array();
                for (size_t i = 0; i < list.size(); ++i) {
                  if (page.Contains(static_cast<int64_t>(i))) items.push_back(ToJson(list[i]));
                }
                return JsonReply(
                    http::PageJson(std::move(items), page, static_cast<int64_t>(list.size())));
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/payment-channels",
              .permission = "accounts.reconcile",
              .summary = "Add a payment channel (its ledger clearing account is made with it)",
              .tag = "accounts",
              .request = "PaymentChannelInput",
              .response = "PaymentChannel",
              .success_status = 201,
              .fn = [ch, channel_input](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(json body, Body(ctx));
                JsonFields f(body);
                ChannelInput in = channel_input(f, body);
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(auto c, ch->CreateChannel(ctx.actor, in));
                return JsonReply(ToJson(c), 201);
              }});
  router.Add({.method = "PATCH",
              .pattern = "/api/v1/payment-channels/{id}",
              .permission = "accounts.reconcile",
              .summary = "Change a payment channel (with its version)",
              .tag = "accounts",
              .request = "PaymentChannelInput",
              .response = "PaymentChannel",
              .fn = [ch, channel_input](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(json body, Body(ctx));
                JsonFields f(body);
                int64_t version = f.Int("version", {.min = 1});
                ChannelInput in = channel_input(f, body);
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(auto c, ch->UpdateChannel(ctx.actor, id, version, in));
                return JsonReply(ToJson(c));
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/payment-channels/{id}/days",
              .permission = "accounts.read",
              .summary = "A channel's clearing days: payments, reconciliation, closed or open",
              .tag = "accounts",
              .response = "ChannelDay",
              .list = true,
              .fn = [ch](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
                int64_t total = 0;
                ASSIGN_OR_RETURN(auto list,
                                 ch->ListDays(ctx.actor, id, page.page, page.page_size, &total));
                return JsonReply(http::PageOf(list, page, total));
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/payment-channels/{id}/days/{date}/close",
              .permission = "accounts.reconcile",
              .summary = "Close a channel's day (清算) after its reconciliation: no reversals or "
                         "payments for it afterwards",
              .tag = "accounts",
              .request = "CloseDay",
              .response = "ChannelDay",
              .fn = [ch](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(Date day, PathDate(ctx, "date"));
                if (!ctx.req.body.empty()) {
                  ASSIGN_OR_RETURN(json body, Body(ctx));
                  JsonFields f(body);
                  RETURN_IF_ERROR(f.Finish());
                }
                ASSIGN_OR_RETURN(auto d, ch->CloseDay(ctx.actor, id, day));
                return JsonReply(ToJson(d));
              }});

  // ---- Direct debit (代扣) ----
  router.Add({.method = "POST",
              .pattern = "/api/v1/debit-batches",
              .permission = "bank.file",
              .summary = "Export a direct-debit batch for a channel and department: the open "
                         "bills of bank-debit accounts, frozen until the return file",
              .tag = "accounts",
              .request = "DebitExport",
              .response = "DebitBatch",
              .success_status = 201,
              .fn = [ch](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(json body, Body(ctx));
                JsonFields f(body);
                int64_t channel = f.Int("channel_id", {.min = 1});
                int64_t dept = f.Int("department_id", {.min = 1});
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(auto b, ch->ExportDebits(ctx.actor, channel, dept));
                return JsonReply(ToJson(b), 201);
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/debit-batches",
              .permission = "accounts.read",
              .summary = "Direct-debit batches, newest first",
              .tag = "accounts",
              .query = {{"channel_id", "integer", ""}},
              .response = "DebitBatch",
              .list = true,
              .fn = [ch](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
                ASSIGN_OR_RETURN(auto channel, http::QueryInt(ctx.req, "channel_id"));
                int64_t total = 0;
                ASSIGN_OR_RETURN(auto list, ch->ListDebitBatches(ctx.actor, channel, page.page,
                                                                 page.page_size, &total));
                return JsonReply(http::PageOf(list, page, total));
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/debit-batches/{id}",
              .permission = "accounts.read",
              .summary = "A direct-debit batch with its lines",
              .tag = "accounts",
              .response = "DebitBatch",
              .fn = [ch](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(auto b, ch->GetDebitBatch(ctx.actor, id));
                return JsonReply(ToJson(b));
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/debit-batches/{id}/file",
              .permission = "bank.file",
              .summary = "The direct-debit request file for the bank ('|' delimited, in the "
                         "channel's encoding)",
              .tag = "accounts",
              .fn = [ch](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(auto file, ch->DebitFile(ctx.actor, id));
                Reply r = TextReply(std::move(file.bytes), file.content_type);
                r.headers.emplace_back("Content-Disposition",
                                       "attachment; filename=\"" + file.file_name + "\"");
                return r;
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/debit-batches/{id}/return",
              .permission = "bank.file",
              .summary = "Import the bank's return file (回盘): all or nothing; a bad file lists "
                         "every bad line (bad_lines); the same file again answers the same",
              .tag = "accounts",
              .request = "BankFileUpload",
              .content_types = {"application/json", "text/plain", "application/octet-stream"},
              .response = "DebitBatch",
              .fn = [ch](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(Upload u, ReadUpload(ctx, nullptr));
                std::vector<FileError> errors;
                auto b = ch->ImportDebitReturn(ctx.actor, id, u.bytes, &errors);
                if (!b.ok() && !errors.empty()) return FileRejected(b.status(), errors);
                RETURN_IF_ERROR(b.status());
                return JsonReply(ToJson(*b));
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/debit-batches/{id}/cancel",
              .permission = "bank.file",
              .summary = "Cancel an exported batch whose return file will not come: its bills "
                         "are released",
              .tag = "accounts",
              .request = "DebitCancel",
              .response = "DebitBatch",
              .fn = [ch](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(json body, Body(ctx));
                JsonFields f(body);
                int64_t version = f.Int("version", {.min = 1});
                std::string reason = f.String("reason", {.max_len = 200});
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(auto b, ch->CancelDebitBatch(ctx.actor, id, version, reason));
                return JsonReply(ToJson(b));
              }});

  // ---- Reconciliation (对账) ----
  router.Add(
      {.method = "POST",
       .pattern = "/api/v1/reconciliations",
       .permission = "accounts.reconcile",
       .summary = "Import a channel's check file for a clearing date and reconcile it with our "
                  "receipts: matched, bank only, utility only, amount mismatch",
       .tag = "accounts",
       .query = {{"channel_id", "integer", "with a raw file body"},
                 {"clearing_date", "string", "with a raw file body"}},
       .request = "CheckFileUpload",
       .content_types = {"application/json", "text/plain", "application/octet-stream"},
       .response = "Reconciliation",
       .success_status = 201,
       .fn = [ch](RouteContext& ctx) -> Result<Reply> {
         std::optional<int64_t> channel;
         std::optional<std::string> day_text;
         ASSIGN_OR_RETURN(Upload u, ReadUpload(ctx, [&](JsonFields& f) {
                            channel = f.Int("channel_id", {.min = 1});
                            day_text = f.String("clearing_date", {.max_len = 10});
                          }));
         if (!channel) {
           ASSIGN_OR_RETURN(channel, http::QueryInt(ctx.req, "channel_id"));
           auto q = ctx.req.Query("clearing_date");
           if (q) day_text = std::string(*q);
         }
         if (!channel) return InvalidArgument("channel_id is required", "channel_id");
         if (!day_text) return InvalidArgument("clearing_date is required", "clearing_date");
         auto day = Date::Parse(*day_text, "clearing_date");
         if (!day.ok()) return InvalidArgument(day.status().message(), "clearing_date");
         std::vector<FileError> errors;
         auto r = ch->ImportCheckFile(ctx.actor, *channel, *day, u.bytes, u.file_name, &errors);
         if (!r.ok() && !errors.empty()) return FileRejected(r.status(), errors);
         RETURN_IF_ERROR(r.status());
         return JsonReply(ToJson(*r), 201);
       }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/reconciliations",
              .permission = "accounts.read",
              .summary = "Reconciliation reports, newest clearing date first",
              .tag = "accounts",
              .query = {{"channel_id", "integer", ""}},
              .response = "Reconciliation",
              .list = true,
              .fn = [ch](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
                ASSIGN_OR_RETURN(auto channel, http::QueryInt(ctx.req, "channel_id"));
                int64_t total = 0;
                ASSIGN_OR_RETURN(auto list, ch->ListReconciliations(ctx.actor, channel, page.page,
                                                                    page.page_size, &total));
                return JsonReply(http::PageOf(list, page, total));
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/reconciliations/{id}",
              .permission = "accounts.read",
              .summary = "A reconciliation report with its items, differences first",
              .tag = "accounts",
              .response = "Reconciliation",
              .fn = [ch](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(auto r, ch->GetReconciliation(ctx.actor, id));
                return JsonReply(ToJson(r));
              }});

  // ---- Arrears and reminders ----
  router.Add({.method = "GET",
              .pattern = "/api/v1/arrears/aging",
              .permission = "accounts.read",
              .summary = "Arrears aging (账龄) per department: not due, 1-30, 31-60, 61-90, >90 "
                         "days overdue",
              .tag = "accounts",
              .query = {{"department_id", "integer", "that department and below"},
                        {"as_of", "string", "YYYY-MM-DD (default today)"}},
              .response = "Aging",
              .fn = [a](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(auto dept, http::QueryInt(ctx.req, "department_id"));
                ASSIGN_OR_RETURN(auto as_of, QueryDate(ctx.req, "as_of"));
                ASSIGN_OR_RETURN(auto r, a->GetAging(ctx.actor, dept, as_of));
                return JsonReply(ToJson(r));
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/arrears/customers",
              .permission = "accounts.read",
              .summary = "Customers in arrears (欠费清单), the oldest debt first",
              .tag = "accounts",
              .query = {{"department_id", "integer", "that department and below"},
                        {"as_of", "string", "YYYY-MM-DD (default today)"},
                        {"min_days_overdue", "integer", "default 1"}},
              .response = "ArrearsCustomer",
              .list = true,
              .fn = [a](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
                ArrearsQuery q;
                ASSIGN_OR_RETURN(q.department_id, http::QueryInt(ctx.req, "department_id"));
                ASSIGN_OR_RETURN(q.as_of, QueryDate(ctx.req, "as_of"));
                ASSIGN_OR_RETURN(auto min_days, http::QueryInt(ctx.req, "min_days_overdue"));
                q.min_days_overdue = min_days.value_or(1);
                q.page = page.page;
                q.page_size = page.page_size;
                int64_t total = 0;
                ASSIGN_OR_RETURN(auto list, a->ListArrearsCustomers(ctx.actor, q, &total));
                return JsonReply(http::PageOf(list, page, total));
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/reminders/generate",
              .permission = "accounts.late_fee",
              .summary = "Generate payment reminders (催缴) for the overdue bills of a department "
                         "and below; idempotent per bill and level",
              .tag = "accounts",
              .request = "ReminderRequest",
              .response = "ReminderRun",
              .fn = [a](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(json body, Body(ctx));
                JsonFields f(body);
                int64_t dept = f.Int("department_id", {.min = 1});
                ASSIGN_OR_RETURN(auto as_of, ReadOptDate(f, "as_of"));
                ReminderPolicy policy;
                policy.level2_days =
                    f.OptInt("level2_days", {.min = 2, .max = 365}).value_or(policy.level2_days);
                policy.level3_days =
                    f.OptInt("level3_days", {.min = 3, .max = 730}).value_or(policy.level3_days);
                policy.deadline_days =
                    f.OptInt("deadline_days", {.min = 1, .max = 90}).value_or(policy.deadline_days);
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(auto run, a->GenerateReminders(ctx.actor, dept, as_of, policy));
                return JsonReply(ToJson(run));
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/reminders",
              .permission = "accounts.read",
              .summary = "Payment reminders, newest first",
              .tag = "accounts",
              .query = {{"department_id", "integer", "that department and below"},
                        {"customer_id", "integer", ""},
                        {"level", "integer", "1, 2 or 3"}},
              .response = "Reminder",
              .list = true,
              .fn = [a](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
                ReminderQuery q;
                ASSIGN_OR_RETURN(q.department_id, http::QueryInt(ctx.req, "department_id"));
                ASSIGN_OR_RETURN(q.customer_id, http::QueryInt(ctx.req, "customer_id"));
                ASSIGN_OR_RETURN(q.level, http::QueryInt(ctx.req, "level"));
                q.page = page.page;
                q.page_size = page.page_size;
                int64_t total = 0;
                ASSIGN_OR_RETURN(auto list, a->ListReminders(ctx.actor, q, &total));
                return JsonReply(http::PageOf(list, page, total));
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/reminders/{id}",
              .permission = "accounts.read",
              .summary = "A reminder with its notice text",
              .tag = "accounts",
              .response = "Reminder",
              .fn = [a](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(auto m, a->GetReminder(ctx.actor, id));
                json j = ToJson(m);
                j["notice"] = ReminderNoticeText(m);
                return JsonReply(j);
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/reminders/{id}/notice",
              .permission = "accounts.read",
              .summary = "The printable reminder notice (催缴通知单) as text/plain",
              .tag = "accounts",
              .fn = [a](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(auto m, a->GetReminder(ctx.actor, id));
                return TextReply(ReminderNoticeText(m));
              }});

  // ---- Prepaid ----
  auto prepaid_input = [](JsonFields& f, const json& body) -> Result<PrepaidAccountInput> {
    PrepaidAccountInput in;
    in.metering_point_id = f.OptInt("metering_point_id", {.min = 1});
    in.mode = f.OptEnum("mode", {"ic_card", "remote"});
    in.card_no = grid::api::NullableText(f, body, "card_no", 32);
    ASSIGN_OR_RETURN(in.warn_below, ReadOptMoney(f, "warn_below"));
    ASSIGN_OR_RETURN(in.disconnect_below, ReadOptMoney(f, "disconnect_below"));
    ASSIGN_OR_RETURN(in.reconnect_above, ReadOptMoney(f, "reconnect_above"));
    in.keep_power = f.OptBool("keep_power");
    in.status = f.OptEnum("status", {"active", "closed"});
    return in;
  };
  router.Add({.method = "GET",
              .pattern = "/api/v1/prepaid-accounts",
              .permission = "prepaid.read",
              .summary = "Prepaid accounts (预付费) in your data scope",
              .tag = "prepaid",
              .query = {{"department_id", "integer", "that department and below"},
                        {"customer_id", "integer", ""},
                        {"mode", "string", "ic_card, remote"},
                        {"control_state", "string", "normal, warned, disconnected"}},
              .response = "PrepaidAccount",
              .list = true,
              .fn = [pp](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
                PrepaidQuery q;
                ASSIGN_OR_RETURN(q.department_id, http::QueryInt(ctx.req, "department_id"));
                ASSIGN_OR_RETURN(q.customer_id, http::QueryInt(ctx.req, "customer_id"));
                ASSIGN_OR_RETURN(q.mode, QueryEnum(ctx.req, "mode", {"ic_card", "remote"}));
                ASSIGN_OR_RETURN(q.control_state, QueryEnum(ctx.req, "control_state",
                                                            {"normal", "warned", "disconnected"}));
                q.page = page.page;
                q.page_size = page.page_size;
                int64_t total = 0;
                ASSIGN_OR_RETURN(auto list, pp->List(ctx.actor, q, &total));
                return JsonReply(http::PageOf(list, page, total));
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/prepaid-accounts",
              .permission = "prepaid.write",
              .summary = "Open a prepaid account for a metering point (IC card or remote)",
              .tag = "prepaid",
              .request = "PrepaidAccountInput",
              .response = "PrepaidAccount",
              .success_status = 201,
              .fn = [pp, prepaid_input](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(json body, Body(ctx));
                JsonFields f(body);
                ASSIGN_OR_RETURN(auto in, prepaid_input(f, body));
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(auto p, pp->Create(ctx.actor, in));
                return JsonReply(ToJson(p), 201);
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/prepaid-accounts/{id}",
              .permission = "prepaid.read",
              .summary = "A prepaid account with its balance and control state",
              .tag = "prepaid",
              .response = "PrepaidAccount",
              .fn = [pp](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(auto p, pp->Get(ctx.actor, id));
                return JsonReply(ToJson(p));
              }});
  router.Add({.method = "PATCH",
              .pattern = "/api/v1/prepaid-accounts/{id}",
              .permission = "prepaid.write",
              .summary = "Change thresholds, card number, 保电 or status (with the version); a new "
                         "threshold may request a control action at once",
              .tag = "prepaid",
              .request = "PrepaidAccountInput",
              .response = "PrepaidAccount",
              .fn = [pp, prepaid_input](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(json body, Body(ctx));
                JsonFields f(body);
                int64_t version = f.Int("version", {.min = 1});
                ASSIGN_OR_RETURN(auto in, prepaid_input(f, body));
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(auto p, pp->Update(ctx.actor, id, version, in));
                return JsonReply(ToJson(p));
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/prepaid-accounts/{id}/purchases",
              .permission = "prepaid.write",
              .summary = "Buy electricity (购电): the credit to write to the IC card, or a remote "
                         "top-up that may reconnect the point. Idempotent by request_id: a retry "
                         "answers the original (duplicate: true, status 200)",
              .tag = "prepaid",
              .request = "PrepaidPurchase",
              .response = "PrepaidPurchaseResult",
              .success_status = 201,
              .fn = [pp](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(json body, Body(ctx));
                JsonFields f(body);
                PurchaseInput in;
                in.method = f.Enum("method", kMethods);
                ASSIGN_OR_RETURN(in.amount, ReadMoney(f, "amount"));
                in.request_id = f.OptString("request_id", {.max_len = 64});
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(auto r, pp->Purchase(ctx.actor, id, in));
                return JsonReply(ToJson(r), r.duplicate ? 200 : 201);
              }});
  router.Add({.method = "GET",
              .pattern = "/api/v1/prepaid-accounts/{id}/transactions",
              .permission = "prepaid.read",
              .summary = "A prepaid account's purchases, deductions and settlements, newest first",
              .tag = "prepaid",
              .response = "PrepaidTransaction",
              .list = true,
              .fn = [pp](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
                int64_t total = 0;
                ASSIGN_OR_RETURN(auto list, pp->ListTransactions(ctx.actor, id, page.page,
                                                                 page.page_size, &total));
                return JsonReply(http::PageOf(list, page, total));
              }});
  router.Add({.method = "POST",
              .pattern = "/api/v1/prepaid/deductions",
              .permission = "prepaid.write",
              .summary = "Run the remote prepaid daily deduction for a day that has ended "
                         "(idempotent per day)",
              .tag = "prepaid",
              .request = "DeductionRequest",
              .response = "DeductionRun",
              .fn = [pp](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(json body, Body(ctx));
                JsonFields f(body);
                ASSIGN_OR_RETURN(auto day, ReadOptDate(f, "day"));
                auto dept = f.OptInt("department_id", {.min = 1});
                RETURN_IF_ERROR(f.Finish());
                if (!day) return InvalidArgument("day is required", "day");
                ASSIGN_OR_RETURN(auto run, pp->RunDailyDeduction(ctx.actor, *day, dept));
                return JsonReply(ToJson(run));
              }});
  router.Add(
      {.method = "GET",
       .pattern = "/api/v1/control-requests",
       .permission = "prepaid.read",
       .summary = "Control requests (warn, disconnect, reconnect) for the acquisition "
                  "subsystem, oldest first",
       .tag = "prepaid",
       .query = {{"status", "string", "pending, sent, confirmed, failed"},
                 {"kind", "string", "warn, disconnect, reconnect"},
                 {"metering_point_id", "integer", ""},
                 {"department_id", "integer", "that department and below"}},
       .response = "ControlRequest",
       .list = true,
       .fn = [pp](RouteContext& ctx) -> Result<Reply> {
         ASSIGN_OR_RETURN(http::Page page, http::ParsePage(ctx.req));
         ControlRequestQuery q;
         ASSIGN_OR_RETURN(q.status,
                          QueryEnum(ctx.req, "status", {"pending", "sent", "confirmed", "failed"}));
         ASSIGN_OR_RETURN(q.kind, QueryEnum(ctx.req, "kind", {"warn", "disconnect", "reconnect"}));
         ASSIGN_OR_RETURN(q.metering_point_id, http::QueryInt(ctx.req, "metering_point_id"));
         ASSIGN_OR_RETURN(q.department_id, http::QueryInt(ctx.req, "department_id"));
         q.page = page.page;
         q.page_size = page.page_size;
         int64_t total = 0;
         ASSIGN_OR_RETURN(auto list, pp->ListControlRequests(ctx.actor, q, &total));
         return JsonReply(http::PageOf(list, page, total));
       }});
  router.Add({.method = "PATCH",
              .pattern = "/api/v1/control-requests/{id}",
              .permission = "prepaid.write",
              .summary = "Mark a control request sent, confirmed or failed (with the version)",
              .tag = "prepaid",
              .request = "ControlRequestUpdate",
              .response = "ControlRequest",
              .fn = [pp](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(json body, Body(ctx));
                JsonFields f(body);
                int64_t version = f.Int("version", {.min = 1});
                std::string status = f.Enum("status", {"sent", "confirmed", "failed"});
                auto error = f.OptString("error", {.max_len = 500});
                RETURN_IF_ERROR(f.Finish());
                ASSIGN_OR_RETURN(auto r,
                                 pp->UpdateControlRequest(ctx.actor, id, version, status, error));
                return JsonReply(ToJson(r));
              }});
}

}  // namespace gridmis::accounts
