#include "accounts/channel.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "accounts/internal.h"
#include "accounts/ledger.h"

namespace gridmis::accounts {

using internal::CustomerInfo;
using nlohmann::json;
using org::Actor;
using store::Connection;
using store::Row;
using store::Value;

namespace {

std::string Yuan(Money m) { return m.ToYuanString(); }
json OptText(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }
json OptInt(const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); }

Date StoredDate(std::string_view s) {
  auto d = Date::Parse(s);
  return d.ok() ? *d : Date{};
}

std::optional<int64_t> Author(const Actor& a) {
  return a.user_id > 0 ? std::optional<int64_t>(a.user_id) : std::nullopt;
}

std::string PageSql(int page, int page_size) {
  return " LIMIT " + std::to_string(page_size) + " OFFSET " +
         std::to_string(static_cast<int64_t>(page - 1) * page_size);
}

Status CheckPage(int page, int page_size) {
  if (page < 1) return InvalidArgument("page must be at least 1", "page");
  if (page_size < 1 || page_size > 500) {
    return InvalidArgument("page_size must be 1-500", "page_size");
  }
  return Status::Ok();
}

// FNV-1a, 64 bits: recognises a return file imported again.
std::string ContentHash(std::string_view bytes) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char out[24];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
  return std::string(out) + "-" + std::to_string(bytes.size());
}

const char* const kChannelCols =
    "ch.id, ch.code, ch.name, ch.kind, ch.user_id, COALESCE(u.username, ''), ch.bank_name, "
    "ch.file_encoding, ch.allow_partial, ch.status, ch.version, ch.created_at_us, "
    "ch.updated_at_us";
const char* const kChannelFrom =
    " FROM payment_channels ch LEFT JOIN users u ON u.id = ch.user_id ";

Channel ReadChannel(const Row& r) {
  Channel ch;
  ch.id = r.Int(0);
  ch.code = r.Text(1);
  ch.name = r.Text(2);
  ch.kind = r.Text(3);
  ch.user_id = r.OptInt(4);
  ch.username = r.Text(5);
  ch.bank_name = r.OptText(6);
  ch.file_encoding = r.Text(7);
  ch.allow_partial = r.Bool(8);
  ch.status = r.Text(9);
  ch.version = r.Int(10);
  ch.created_at_us = r.Int(11);
  ch.updated_at_us = r.Int(12);
  return ch;
}

Result<std::optional<Channel>> LoadChannel(Connection& c, int64_t id) {
  std::optional<Channel> out;
  RETURN_IF_ERROR(
      c.QueryOne(std::string("SELECT ") + kChannelCols + kChannelFrom + "WHERE ch.id = $1", {id},
                 [&](const Row& r) { out = ReadChannel(r); })
          .status());
  return out;
}

Result<Channel> LoadChannelOrNotFound(Connection& c, int64_t id) {
  ASSIGN_OR_RETURN(auto ch, LoadChannel(c, id));
  if (!ch) return NotFound("payment channel " + std::to_string(id) + " not found");
  return *ch;
}

const char* const kBatchCols =
    "b.id, b.batch_no, b.channel_id, ch.code, b.department_id, b.export_date, b.status, "
    "b.item_count, b.total_fen, b.encoding, b.success_count, b.success_fen, b.failure_count, "
    "b.exported_at_us, b.returned_at_us, b.version, b.return_hash";
const char* const kBatchFrom =
    " FROM debit_batches b JOIN payment_channels ch ON ch.id = b.channel_id ";

DebitBatch ReadBatch(const Row& r) {
  DebitBatch b;
  b.id = r.Int(0);
  b.batch_no = r.Text(1);
  b.channel_id = r.Int(2);
  b.channel_code = r.Text(3);
  b.department_id = r.Int(4);
  b.export_date = StoredDate(r.TextView(5));
  b.status = r.Text(6);
  b.item_count = r.Int(7);
  b.total = Money::FromFen(r.Int(8));
  b.encoding = r.Text(9);
  b.success_count = r.Int(10);
  b.success_total = Money::FromFen(r.Int(11));
  b.failure_count = r.Int(12);
  b.exported_at_us = r.Int(13);
  b.returned_at_us = r.OptInt(14);
  b.version = r.Int(15);
  return b;
}

// The batch (with its items) when visible to the actor.
Result<DebitBatch> LoadBatch(Connection& c, const Actor& actor, int64_t id,
                             std::string* return_hash = nullptr) {
  std::optional<DebitBatch> b;
  RETURN_IF_ERROR(c.QueryOne(std::string("SELECT ") + kBatchCols + kBatchFrom + "WHERE b.id = $1",
                             {id},
                             [&](const Row& r) {
                               b = ReadBatch(r);
                               if (return_hash) *return_hash = r.Text(16);
                             })
                      .status());
  if (!b || !grid::CanSeeDepartment(actor, b->department_id)) {
    return NotFound("direct-debit batch " + std::to_string(id) + " not found");
  }
  RETURN_IF_ERROR(c.Query(
      "SELECT line_no, serial, receivable_id, customer_id, customer_no, account_name, "
      "bank_account_no, period, amount_fen, status, debited_fen, bank_serial, debit_date, reason, "
      "payment_id, principal_fen, late_fee_fen FROM debit_items WHERE batch_id = $1 "
      "ORDER BY line_no",
      {id}, [&](const Row& r) {
        DebitItem it;
        it.line_no = r.Int(0);
        it.serial = r.Text(1);
        it.receivable_id = r.Int(2);
        it.customer_id = r.Int(3);
        it.customer_no = r.Text(4);
        it.account_name = r.Text(5);
        it.bank_account_no = r.Text(6);
        auto p = YearMonth::Parse(r.TextView(7));
        if (p.ok()) it.period = *p;
        it.amount = Money::FromFen(r.Int(8));
        it.status = r.Text(9);
        it.debited = Money::FromFen(r.Int(10));
        it.bank_serial = r.OptText(11);
        it.debit_date = r.OptText(12);
        it.reason = r.OptText(13);
        it.payment_id = r.OptInt(14);
        if (!r.IsNull(15)) it.principal = Money::FromFen(r.Int(15));
        if (!r.IsNull(16)) it.late_fee = Money::FromFen(r.Int(16));
        b->items.push_back(std::move(it));
      }));
  return *b;
}

Status CheckChannelInput(const ChannelInput& in) {
  if (in.code) RETURN_IF_ERROR(grid::CheckCode(*in.code, "code", 20));
  if (in.name) RETURN_IF_ERROR(grid::CheckText(*in.name, "name", 1, 100));
  if (in.kind) RETURN_IF_ERROR(grid::CheckOneOf(*in.kind, "kind", {"bank", "third_party"}));
  if (in.file_encoding) {
    RETURN_IF_ERROR(grid::CheckOneOf(*in.file_encoding, "file_encoding", {"utf8", "gbk"}));
  }
  if (in.status) RETURN_IF_ERROR(grid::CheckOneOf(*in.status, "status", {"active", "suspended"}));
  if (in.bank_name && *in.bank_name) {
    RETURN_IF_ERROR(grid::CheckText(**in.bank_name, "bank_name", 1, 100));
  }
  return Status::Ok();
}

// The API user must exist and hold payment.channel through a role.
Status CheckChannelUser(Connection& c, int64_t user_id) {
  ASSIGN_OR_RETURN(bool exists,
                   c.QueryOne("SELECT 1 FROM users WHERE id = $1", {user_id}, [](const Row&) {}));
  if (!exists) {
    return InvalidArgument("user " + std::to_string(user_id) + " does not exist", "user_id");
  }
  ASSIGN_OR_RETURN(bool allowed,
                   c.QueryOne("SELECT 1 FROM user_roles ur JOIN role_permissions rp ON "
                              "rp.role_id = ur.role_id WHERE ur.user_id = $1 AND "
                              "rp.permission = 'payment.channel'",
                              {user_id}, [](const Row&) {}));
  if (!allowed) {
    return InvalidArgument("user " + std::to_string(user_id) +
                               " has no role with payment.channel (give it the payment_channel "
                               "role)",
                           "user_id");
  }
  return Status::Ok();
}

Status CheckSerial(std::string_view serial, std::string_view field) {
  if (serial.empty() || serial.size() > 64) {
    return InvalidArgument(std::string(field) + " must be 1-64 characters", std::string(field));
  }
  for (char ch : serial) {
    bool ok = (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
              ch == '-' || ch == '_' || ch == '.';
    if (!ok) {
      return InvalidArgument(std::string(field) + " may hold only A-Z a-z 0-9 - _ .",
                             std::string(field));
    }
  }
  return Status::Ok();
}

// The answer to a payment request whose serial was used before. A reversed payment is not
// answered as paid: the channel must not take the money again under that serial.
Result<Receipt> AnswerRetry(Connection& c, const internal::PaymentRow& existing,
                            const ChannelPayInput& in, const TimeZone& zone) {
  ASSIGN_OR_RETURN(Receipt r, internal::LoadReceipt(c, existing.id));
  if (r.status == "reversed") {
    return FailedPrecondition(
        "serial " + in.serial + " was reversed on " +
            zone.LocalDate(r.reversed_at_us.value_or(r.created_at_us)).ToString() + " (receipt " +
            r.receipt_no + "); a new payment needs a new serial",
        "serial");
  }
  if (r.customer_no != in.customer_no || r.amount != in.amount) {
    return AlreadyExists("serial " + in.serial + " was already used on " +
                             r.clearing_date.ToString() + " for " + r.amount.ToYuanString() +
                             " yuan to customer " + r.customer_no + " (receipt " + r.receipt_no +
                             "); a new payment needs a new serial",
                         "serial");
  }
  r.duplicate = true;
  return r;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Channels

Result<std::vector<Channel>> ChannelService::ListChannels(const Actor& actor) {
  if (!actor.Can("accounts.read") && !actor.Can("accounts.reconcile")) {
    return PermissionDenied("permission 'accounts.read' is required");
  }
  return ctx_.db.ReadValue<std::vector<Channel>>(
      [&](Connection& c) -> Result<std::vector<Channel>> {
        std::vector<Channel> out;
        RETURN_IF_ERROR(
            c.Query(std::string("SELECT ") + kChannelCols + kChannelFrom + "ORDER BY ch.code", {},
                    [&](const Row& r) { out.push_back(ReadChannel(r)); }));
        return out;
      });
}

Result<Channel> ChannelService::CreateChannel(const Actor& actor, const ChannelInput& in) {
  RETURN_IF_ERROR(actor.Require("accounts.reconcile"));
  if (!in.code) return InvalidArgument("code is required", "code");
  if (!in.name) return InvalidArgument("name is required", "name");
  RETURN_IF_ERROR(CheckChannelInput(in));
  int64_t now = ctx_.clock.NowMicros();
  return ctx_.db.WriteValue<Channel>([&](Connection& c) -> Result<Channel> {
    std::optional<int64_t> user = in.user_id ? *in.user_id : std::nullopt;
    if (user) RETURN_IF_ERROR(CheckChannelUser(c, *user));
    std::optional<std::string> bank = in.bank_name ? *in.bank_name : std::nullopt;
    auto id = c.InsertReturningId(
        "INSERT INTO payment_channels (code, name, kind, user_id, bank_name, file_encoding, "
        "allow_partial, status, created_at_us, updated_at_us) VALUES ($1, $2, $3, $4, $5, $6, $7, "
        "$8, $9, $9) RETURNING id",
        {*in.code, *in.name, in.kind.value_or("bank"), user, bank,
         in.file_encoding.value_or("utf8"), in.allow_partial.value_or(true),
         in.status.value_or("active"), now});
    if (!id.ok() && id.status().code() == StatusCode::kAlreadyExists) {
      return AlreadyExists(
          "channel code " + *in.code + " or its API user is already used by another channel",
          "code");
    }
    RETURN_IF_ERROR(id.status());
    RETURN_IF_ERROR(EnsureBankClearingAccount(c, *id, *in.code, *in.name, now));
    ASSIGN_OR_RETURN(Channel ch, LoadChannelOrNotFound(c, *id));
    RETURN_IF_ERROR(internal::Audit(c, actor, "create", "payment_channel", ch.id, "",
                                    ToJson(ch).dump(), 0, now));
    return ch;
  });
}

Result<Channel> ChannelService::UpdateChannel(const Actor& actor, int64_t id, int64_t version,
                                              const ChannelInput& in) {
  RETURN_IF_ERROR(actor.Require("accounts.reconcile"));
  RETURN_IF_ERROR(CheckChannelInput(in));
  int64_t now = ctx_.clock.NowMicros();
  return ctx_.db.WriteValue<Channel>([&](Connection& c) -> Result<Channel> {
    ASSIGN_OR_RETURN(Channel before, LoadChannelOrNotFound(c, id));
    if (before.version != version)
      return grid::StaleVersion("payment channel", id, before.version, version);
    if (in.code && *in.code != before.code) {
      return InvalidArgument("a channel's code cannot change (its ledger account is named by it)",
                             "code");
    }
    Channel ch = before;
    if (in.name) ch.name = *in.name;
    if (in.kind) ch.kind = *in.kind;
    if (in.user_id) ch.user_id = *in.user_id;
    if (in.bank_name) ch.bank_name = *in.bank_name;
    if (in.file_encoding) ch.file_encoding = *in.file_encoding;
    if (in.allow_partial) ch.allow_partial = *in.allow_partial;
    if (in.status) ch.status = *in.status;
    if (ch.user_id && ch.user_id != before.user_id)
      RETURN_IF_ERROR(CheckChannelUser(c, *ch.user_id));
    auto n = c.Exec(
        "UPDATE payment_channels SET name = $1, kind = $2, user_id = $3, bank_name = $4, "
        "file_encoding = $5, allow_partial = $6, status = $7, version = version + 1, "
        "updated_at_us = $8 WHERE id = $9 AND version = $10",
        {ch.name, ch.kind, ch.user_id, ch.bank_name, ch.file_encoding, ch.allow_partial, ch.status,
         now, id, version});
    if (!n.ok() && n.status().code() == StatusCode::kAlreadyExists) {
      return AlreadyExists("that API user already belongs to another channel", "user_id");
    }
    RETURN_IF_ERROR(n.status());
    if (*n == 0)
      return grid::StaleVersionAfterUpdate(c, "payment_channels", "payment channel", id, version);
    ASSIGN_OR_RETURN(Channel after, LoadChannelOrNotFound(c, id));
    RETURN_IF_ERROR(internal::Audit(c, actor, "update", "payment_channel", id,
                                    ToJson(before).dump(), ToJson(after).dump(), 0, now));
    return after;
  });
}

// ---------------------------------------------------------------------------------------------
// The channel API

Result<Channel> ChannelService::CallerChannel(Connection& c, const Actor& actor) {
  RETURN_IF_ERROR(actor.Require("payment.channel"));
  std::optional<Channel> ch;
  RETURN_IF_ERROR(
      c.QueryOne(std::string("SELECT ") + kChannelCols + kChannelFrom + "WHERE ch.user_id = $1",
                 {actor.user_id}, [&](const Row& r) { ch = ReadChannel(r); })
          .status());
  if (!ch) {
    return PermissionDenied("user " + actor.username + " is not the API user of a payment channel");
  }
  if (ch->status != "active") {
    return PermissionDenied("payment channel " + ch->code + " is " + ch->status);
  }
  return *ch;
}

Result<CustomerArrears> ChannelService::QueryArrears(const Actor& actor,
                                                     const std::string& customer_no,
                                                     std::optional<Date> txn_date) {
  RETURN_IF_ERROR(actor.Require("payment.channel"));
  if (customer_no.empty() || customer_no.size() > 32) {
    return InvalidArgument("customer_no must be 1-32 characters", "customer_no");
  }
  Date today = ctx_.Today();
  Date day = txn_date.value_or(today);
  if (today < day) return InvalidArgument("txn_date is in the future", "txn_date");
  LateFeePolicy policy = ctx_.Policy();
  return ctx_.db.ReadValue<CustomerArrears>([&](Connection& c) -> Result<CustomerArrears> {
    RETURN_IF_ERROR(CallerChannel(c, actor).status());
    ASSIGN_OR_RETURN(auto cu, internal::LoadCustomerByNo(c, customer_no));
    if (!cu) return NotFound("customer number " + customer_no + " does not exist (户号不存在)");
    ASSIGN_OR_RETURN(internal::Dues dues, internal::CustomerDues(c, policy, cu->id, day));
    CustomerArrears a;
    a.customer_id = cu->id;
    a.customer_no = cu->customer_no;
    a.name = cu->name;
    a.address = cu->address;
    a.department_id = cu->department_id;
    a.as_of = day;
    for (const auto& b : dues.bills) {
      a.bills.push_back({b.receivable.id, b.receivable.bill_id, b.receivable.bill_no,
                         b.receivable.period, b.receivable.amount, b.principal, b.late_fee.due,
                         b.receivable.due_date, DaysOverdue(b.receivable.due_date, day),
                         b.receivable.debit_batch_id.has_value()});
    }
    a.principal = dues.principal;
    a.late_fee = dues.late_fee;
    a.total = dues.total();
    ASSIGN_OR_RETURN(a.credit, internal::CustomerCredit(c, cu->id));
    return a;
  });
}

Result<Receipt> ChannelService::Pay(const Actor& actor, const ChannelPayInput& in) {
  RETURN_IF_ERROR(actor.Require("payment.channel"));
  RETURN_IF_ERROR(CheckSerial(in.serial, "serial"));
  if (in.customer_no.empty() || in.customer_no.size() > 32) {
    return InvalidArgument("customer_no must be 1-32 characters", "customer_no");
  }
  if (in.amount <= Money()) return InvalidArgument("amount must be above zero", "amount");
  if (in.amount > Money::FromFen(100'000'000'000)) {
    return InvalidArgument("amount is more than 1,000,000,000.00 yuan", "amount");
  }
  if (in.txn_time && (in.txn_time->empty() || in.txn_time->size() > 8)) {
    return InvalidArgument("txn_time must be HHMMSS or HH:MM:SS", "txn_time");
  }
  Date today = ctx_.Today();
  Date txn_date = in.txn_date.value_or(today);
  if (today < txn_date) return InvalidArgument("txn_date is in the future", "txn_date");
  if (txn_date < today.AddDays(-7)) {
    return InvalidArgument("txn_date " + txn_date.ToString() +
                               " is more than 7 days ago; such a payment goes through "
                               "reconciliation",
                           "txn_date");
  }
  LateFeePolicy policy = ctx_.Policy();
  int64_t now = ctx_.clock.NowMicros();

  // A retry of a request that was already posted answers the original.
  auto earlier = ctx_.db.ReadValue<std::optional<Receipt>>(
      [&](Connection& c) -> Result<std::optional<Receipt>> {
        ASSIGN_OR_RETURN(Channel ch, CallerChannel(c, actor));
        ASSIGN_OR_RETURN(auto existing,
                         internal::LoadPaymentBySerial(c, ch.id, "channel", in.serial));
        if (!existing) return std::optional<Receipt>();
        ASSIGN_OR_RETURN(Receipt r, AnswerRetry(c, *existing, in, ctx_.zone));
        return std::optional<Receipt>(std::move(r));
      });
  if (!earlier.ok()) return earlier.status();
  if (*earlier) return **earlier;

  auto posted = ctx_.db.WriteValue<Receipt>([&](Connection& c) -> Result<Receipt> {
    ASSIGN_OR_RETURN(Channel ch, CallerChannel(c, actor));
    ASSIGN_OR_RETURN(auto cu, internal::LoadCustomerByNo(c, in.customer_no));
    if (!cu) return NotFound("customer number " + in.customer_no + " does not exist (户号不存在)");
    // The channel's day: open, and its row lock orders concurrent requests of the channel.
    RETURN_IF_ERROR(c.Exec("INSERT INTO channel_days (channel_id, clearing_date, status, "
                           "updated_at_us) VALUES ($1, $2, 'open', $3) "
                           "ON CONFLICT (channel_id, clearing_date) DO NOTHING",
                           {ch.id, today.ToString(), now})
                        .status());
    ASSIGN_OR_RETURN(int64_t n,
                     c.Exec("UPDATE channel_days SET payment_count = payment_count + 1, "
                            "payment_total_fen = payment_total_fen + $1, updated_at_us = $2 "
                            "WHERE channel_id = $3 AND clearing_date = $4 AND status = 'open'",
                            {in.amount.fen(), now, ch.id, today.ToString()}));
    if (n != 1) {
      return FailedPrecondition("channel " + ch.code + "'s day " + today.ToString() +
                                " is closed (已清算); no more payments for it");
    }
    // Checked again under the day's lock: a concurrent identical request has committed by now.
    ASSIGN_OR_RETURN(auto existing, internal::LoadPaymentBySerial(c, ch.id, "channel", in.serial));
    if (existing) return AlreadyExists("retry", "serial");
    RETURN_IF_ERROR(internal::LockCustomer(c, cu->id, now).status());
    RETURN_IF_ERROR(internal::CheckNotFrozen(c, cu->id));
    ASSIGN_OR_RETURN(internal::Dues dues, internal::CustomerDues(c, policy, cu->id, txn_date));
    if (in.expected_total && *in.expected_total != dues.total()) {
      return FailedPrecondition("the arrears of customer " + cu->customer_no +
                                    " changed since the query (电费发生变动): the query said " +
                                    in.expected_total->ToYuanString() + ", now " +
                                    dues.total().ToYuanString() + "; query again",
                                "expected_total");
    }
    if (!ch.allow_partial && in.amount < dues.total()) {
      return FailedPrecondition("channel " + ch.code +
                                    " takes full payments only (不允许部分缴费): " + "customer " +
                                    cu->customer_no + " owes " + dues.total().ToYuanString(),
                                "amount");
    }
    internal::PaymentRow p;
    p.customer_id = cu->id;
    p.department_id = cu->department_id;
    p.source = "channel";
    p.channel_id = ch.id;
    p.method = "bank";
    p.serial = in.serial;
    p.amount = in.amount;
    p.pay_date = txn_date;
    p.txn_time = in.txn_time;
    p.clearing_date = today;
    p.created_by = Author(actor);
    ASSIGN_OR_RETURN(int64_t id, internal::TakePayment(c, policy, actor, p,
                                                       BankClearingAccount(ch.code), today, now));
    return internal::LoadReceipt(c, id);
  });
  if (posted.ok() || posted.status().code() != StatusCode::kAlreadyExists) return posted;
  // The serial was taken meanwhile (a concurrent identical request): answer as a retry.
  return ctx_.db.ReadValue<Receipt>([&](Connection& c) -> Result<Receipt> {
    ASSIGN_OR_RETURN(Channel ch, CallerChannel(c, actor));
    ASSIGN_OR_RETURN(auto existing, internal::LoadPaymentBySerial(c, ch.id, "channel", in.serial));
    if (!existing) return posted.status();
    return AnswerRetry(c, *existing, in, ctx_.zone);
  });
}

Result<Receipt> ChannelService::Reverse(const Actor& actor, const std::string& serial,
                                        const std::string& reason) {
  RETURN_IF_ERROR(actor.Require("payment.channel"));
  RETURN_IF_ERROR(CheckSerial(serial, "serial"));
  std::string why = reason.empty() ? "渠道冲正" : reason;
  RETURN_IF_ERROR(grid::CheckText(why, "reason", 1, 200));
  Date today = ctx_.Today();
  int64_t now = ctx_.clock.NowMicros();
  return ctx_.db.WriteValue<Receipt>([&](Connection& c) -> Result<Receipt> {
    ASSIGN_OR_RETURN(Channel ch, CallerChannel(c, actor));
    ASSIGN_OR_RETURN(auto p, internal::LoadPaymentBySerial(c, ch.id, "channel", serial));
    if (!p) {
      return NotFound("channel " + ch.code + " has no payment with serial " + serial +
                      " (no payment recorded by the utility)");
    }
    if (p->status == "reversed") return internal::LoadReceipt(c, p->id);  // a retried reversal
    if (p->clearing_date != today) {
      return FailedPrecondition("payment " + serial + " was taken on " +
                                p->clearing_date.ToString() +
                                "; a reversal (冲正) is only accepted on the same day");
    }
    ASSIGN_OR_RETURN(int64_t n,
                     c.Exec("UPDATE channel_days SET payment_count = payment_count - 1, "
                            "payment_total_fen = payment_total_fen - $1, updated_at_us = $2 "
                            "WHERE channel_id = $3 AND clearing_date = $4 AND status = 'open'",
                            {p->amount.fen(), now, ch.id, today.ToString()}));
    if (n != 1) {
      return FailedPrecondition("channel " + ch.code + "'s day " + today.ToString() +
                                " is closed (已清算，不可发起该交易)");
    }
    RETURN_IF_ERROR(internal::ReversePaymentTx(c, *p, actor, why, today, now));
    return internal::LoadReceipt(c, p->id);
  });
}

// ---------------------------------------------------------------------------------------------
// Direct debit

Result<DebitBatch> ChannelService::ExportDebits(const Actor& actor, int64_t channel_id,
                                                int64_t department_id) {
  RETURN_IF_ERROR(actor.Require("bank.file"));
  Date today = ctx_.Today();
  LateFeePolicy policy = ctx_.Policy();
  int64_t now = ctx_.clock.NowMicros();
  return ctx_.db.WriteValue<DebitBatch>([&](Connection& c) -> Result<DebitBatch> {
    ASSIGN_OR_RETURN(Channel ch, LoadChannelOrNotFound(c, channel_id));
    if (ch.status != "active") {
      return FailedPrecondition("payment channel " + ch.code + " is " + ch.status);
    }
    RETURN_IF_ERROR(grid::CheckDepartment(c, actor, department_id));
    ASSIGN_OR_RETURN(auto subtree, grid::DepartmentSubtree(c, department_id));
    grid::SqlWhere w(internal::CustomerScopeSql(actor, "r.department_id"));
    w.And(grid::InSql("r.department_id", subtree));
    w.And("r.status = 'open' AND r.debit_batch_id IS NULL AND a.payment_method = 'bank_debit'");
    if (ch.bank_name) w.And("a.bank_name = " + w.Bind(*ch.bank_name));
    std::vector<std::tuple<internal::ReceivableRow, std::string, std::string, std::string>> rows;
    RETURN_IF_ERROR(c.Query(std::string("SELECT ") + internal::kReceivableCols +
                                ", cu.customer_no, a.name, COALESCE(a.bank_account_no, '') "
                                "FROM receivables r JOIN accounts a ON a.id = r.account_id "
                                "JOIN customers cu ON cu.id = r.customer_id WHERE " +
                                w.sql() + " ORDER BY r.customer_id, r.period, r.id",
                            w.params(), [&](const Row& row) {
                              rows.emplace_back(internal::ReadReceivable(row), row.Text(23),
                                                row.Text(24), row.Text(25));
                            }));
    std::vector<int64_t> ids;
    for (const auto& row : rows) ids.push_back(std::get<0>(row).id);
    ASSIGN_OR_RETURN(auto hist, internal::LoadPrincipalHistory(c, ids));
    DebitBatch b;
    b.channel_id = ch.id;
    b.channel_code = ch.code;
    b.department_id = department_id;
    b.export_date = today;
    b.status = "exported";
    b.encoding = ch.file_encoding;
    for (const auto& [r, customer_no, account_name, bank_account] : rows) {
      if (bank_account.empty()) {
        b.skipped.push_back("bill " + r.bill_no + " of customer " + customer_no +
                            ": its bank-debit account has no bank account number");
        continue;
      }
      ASSIGN_OR_RETURN(internal::LateFee fee,
                       internal::ReceivableLateFee(policy, r, hist[r.id], today));
      DebitItem it;
      it.line_no = static_cast<int64_t>(b.items.size()) + 1;
      it.receivable_id = r.id;
      it.customer_id = r.customer_id;
      it.customer_no = customer_no;
      it.account_name = account_name;
      it.bank_account_no = bank_account;
      it.period = r.period;
      it.principal = r.outstanding();
      it.late_fee = fee.due;
      it.amount = r.outstanding() + fee.due;
      it.status = "pending";
      b.total += it.amount;
      b.items.push_back(std::move(it));
    }
    if (b.items.empty()) {
      return FailedPrecondition("no open bank-debit bill to export for channel " + ch.code +
                                " in department " + std::to_string(department_id) +
                                (b.skipped.empty() ? "" : " (" + b.skipped.front() + ")"));
    }
    b.item_count = static_cast<int64_t>(b.items.size());
    ASSIGN_OR_RETURN(
        b.id,
        c.InsertReturningId(
            "INSERT INTO debit_batches (batch_no, channel_id, department_id, export_date, "
            "status, item_count, total_fen, encoding, exported_by, exported_at_us) "
            "VALUES ($1, $2, $3, $4, 'exported', $5, $6, $7, $8, $9) RETURNING id",
            {"pending-" + std::to_string(now) + "-" + ch.code, ch.id, department_id,
             today.ToString(), b.item_count, b.total.fen(), ch.file_encoding, Author(actor), now}));
    char no[64];
    std::snprintf(no, sizeof no, "DK%04d%02d%02d%s%06lld", today.year, today.month, today.day,
                  ch.code.c_str(), static_cast<long long>(b.id));
    b.batch_no = no;
    b.exported_at_us = now;
    b.version = 1;
    RETURN_IF_ERROR(
        c.Exec("UPDATE debit_batches SET batch_no = $1 WHERE id = $2", {b.batch_no, b.id})
            .status());
    for (auto& it : b.items) {
      char serial[96];
      std::snprintf(serial, sizeof serial, "%s-%05lld", b.batch_no.c_str(),
                    static_cast<long long>(it.line_no));
      it.serial = serial;
      RETURN_IF_ERROR(
          c.Exec("INSERT INTO debit_items (batch_id, line_no, serial, receivable_id, "
                 "customer_id, customer_no, account_name, bank_account_no, period, "
                 "amount_fen, principal_fen, late_fee_fen, status) VALUES ($1, $2, $3, $4, $5, "
                 "$6, $7, $8, $9, $10, $11, $12, 'pending')",
                 {b.id, it.line_no, it.serial, it.receivable_id, it.customer_id, it.customer_no,
                  it.account_name, it.bank_account_no, it.period.ToString(), it.amount.fen(),
                  it.principal->fen(), it.late_fee->fen()})
              .status());
    }
    for (const auto& [r, customer_no, account_name, bank_account] : rows) {
      if (bank_account.empty()) continue;
      // Frozen only if unchanged since read: a payment that slipped in makes the export retry.
      ASSIGN_OR_RETURN(int64_t n, c.Exec("UPDATE receivables SET debit_batch_id = $1, "
                                         "version = version + 1, updated_at_us = $2 WHERE id = $3 "
                                         "AND version = $4 AND debit_batch_id IS NULL AND "
                                         "status = 'open'",
                                         {b.id, now, r.id, r.version}));
      if (n != 1) {
        return Aborted("bill " + r.bill_no +
                       " changed while the debit file was being made; nothing was exported, "
                       "try again");
      }
    }
    json after = ToJson(b);
    after.erase("items");
    RETURN_IF_ERROR(internal::Audit(c, actor, "export", "debit_batch", b.id, "", after.dump(),
                                    department_id, now));
    return b;
  });
}

Result<std::vector<DebitBatch>> ChannelService::ListDebitBatches(const Actor& actor,
                                                                 std::optional<int64_t> channel_id,
                                                                 int page, int page_size,
                                                                 int64_t* total) {
  if (!actor.Can("accounts.read") && !actor.Can("bank.file")) {
    return PermissionDenied("permission 'accounts.read' is required");
  }
  RETURN_IF_ERROR(CheckPage(page, page_size));
  return ctx_.db.ReadValue<std::vector<DebitBatch>>(
      [&](Connection& c) -> Result<std::vector<DebitBatch>> {
        grid::SqlWhere w(grid::DepartmentScopeSql(actor, "b.department_id"));
        if (channel_id) w.And("b.channel_id = " + w.Bind(*channel_id));
        ASSIGN_OR_RETURN(*total, c.QueryInt("SELECT COUNT(*) FROM debit_batches b WHERE " + w.sql(),
                                            w.params()));
        std::vector<DebitBatch> out;
        RETURN_IF_ERROR(c.Query(std::string("SELECT ") + kBatchCols + kBatchFrom + "WHERE " +
                                    w.sql() + " ORDER BY b.id DESC" + PageSql(page, page_size),
                                w.params(), [&](const Row& r) { out.push_back(ReadBatch(r)); }));
        return out;
      });
}

Result<DebitBatch> ChannelService::GetDebitBatch(const Actor& actor, int64_t id) {
  if (!actor.Can("accounts.read") && !actor.Can("bank.file")) {
    return PermissionDenied("permission 'accounts.read' is required");
  }
  return ctx_.db.ReadValue<DebitBatch>(
      [&](Connection& c) -> Result<DebitBatch> { return LoadBatch(c, actor, id); });
}

Result<BankFile> ChannelService::DebitFile(const Actor& actor, int64_t id) {
  RETURN_IF_ERROR(actor.Require("bank.file"));
  return ctx_.db.ReadValue<BankFile>([&](Connection& c) -> Result<BankFile> {
    ASSIGN_OR_RETURN(DebitBatch b, LoadBatch(c, actor, id));
    ASSIGN_OR_RETURN(std::string dept_code,
                     c.QueryText("SELECT code FROM departments WHERE id = $1", {b.department_id}));
    std::vector<DebitRequestLine> lines;
    for (const auto& it : b.items) {
      lines.push_back({it.customer_no, it.bank_account_no, it.amount, it.period, dept_code,
                       it.serial, it.account_name});
    }
    ASSIGN_OR_RETURN(std::string bytes,
                     FromUtf8(FormatDebitRequest(b.batch_no, b.export_date, lines), b.encoding));
    return BankFile{b.batch_no + ".txt",
                    b.encoding == "gbk" ? "text/plain; charset=GBK" : "text/plain; charset=utf-8",
                    std::move(bytes)};
  });
}

Result<DebitBatch> ChannelService::ImportDebitReturn(const Actor& actor, int64_t id,
                                                     std::string_view bytes,
                                                     std::vector<FileError>* errors) {
  RETURN_IF_ERROR(actor.Require("bank.file"));
  Date today = ctx_.Today();
  LateFeePolicy policy = ctx_.Policy();
  int64_t now = ctx_.clock.NowMicros();
  const std::string hash = ContentHash(bytes);
  std::string stored_hash;
  ASSIGN_OR_RETURN(DebitBatch b, ctx_.db.ReadValue<DebitBatch>([&](Connection& c) {
    return LoadBatch(c, actor, id, &stored_hash);
  }));
  if (b.status == "returned") {
    if (stored_hash == hash) return b;  // the same file again: the same result
    return FailedPrecondition("batch " + b.batch_no +
                              " was already settled by another return file " + "on " +
                              FormatUtc(b.returned_at_us.value_or(0)));
  }
  if (b.status != "exported") {
    return FailedPrecondition("batch " + b.batch_no + " is " + b.status);
  }
  auto text = ToUtf8(bytes, b.encoding);
  if (!text.ok()) {
    errors->push_back({0, text.status().message()});
    return InvalidArgument("return file of batch " + b.batch_no +
                               " rejected: " + text.status().message() + "; nothing was posted",
                           "content");
  }
  DebitReturn ret = ParseDebitReturn(*text, errors);
  std::map<std::string, const DebitItem*> by_serial;
  for (const auto& it : b.items) by_serial[it.serial] = &it;
  if (!ret.batch_no.empty() && ret.batch_no != b.batch_no) {
    errors->push_back({1, "the header names batch " + ret.batch_no + ", not " + b.batch_no});
  }
  std::set<std::string> answered;
  for (const auto& l : ret.lines) {
    auto it = by_serial.find(l.serial);
    if (it == by_serial.end()) {
      errors->push_back(
          {l.line, "serial " + l.serial + " was not exported in batch " + b.batch_no});
      continue;
    }
    answered.insert(l.serial);
    const DebitItem& item = *it->second;
    if (l.customer_no != item.customer_no) {
      errors->push_back({l.line, "serial " + l.serial + " was exported for customer " +
                                     item.customer_no + ", not " + l.customer_no});
    }
    if (l.amount != item.amount) {
      errors->push_back({l.line, "serial " + l.serial + " was exported for " +
                                     item.amount.ToYuanString() + ", not " +
                                     l.amount.ToYuanString()});
    }
    if (l.debit_date < b.export_date || today < l.debit_date) {
      errors->push_back({l.line, "debit date " + l.debit_date.ToString() +
                                     " is outside the batch's window " + b.export_date.ToString() +
                                     " .. " + today.ToString()});
    }
  }
  // A bad line may be the answer for an exported serial: missing ones are named only when
  // every line was readable.
  if (static_cast<int64_t>(ret.lines.size()) == ret.detail_lines) {
    for (const auto& it : b.items) {
      if (!answered.count(it.serial)) {
        errors->push_back({0, "exported serial " + it.serial + " (customer " + it.customer_no +
                                  ") has no line in the return file"});
      }
    }
  }
  if (!errors->empty()) {
    std::sort(errors->begin(), errors->end(),
              [](const FileError& a, const FileError& x) { return a.line < x.line; });
    return InvalidArgument("return file of batch " + b.batch_no +
                               " rejected, nothing posted: " + std::to_string(errors->size()) +
                               " problem(s): " + DescribeFileErrors(*errors),
                           "content");
  }
  return ctx_.db.WriteValue<DebitBatch>([&](Connection& c) -> Result<DebitBatch> {
    ASSIGN_OR_RETURN(auto changed,
                     c.Exec("UPDATE debit_batches SET status = 'returned', version = version + 1, "
                            "return_hash = $1, returned_by = $2, returned_at_us = $3 "
                            "WHERE id = $4 AND status = 'exported' AND version = $5",
                            {hash, Author(actor), now, b.id, b.version}));
    if (changed != 1) {
      return Aborted("batch " + b.batch_no + " changed while its return file was read; try again");
    }
    RETURN_IF_ERROR(c.Exec("UPDATE receivables SET debit_batch_id = NULL, version = version + 1, "
                           "updated_at_us = $1 WHERE debit_batch_id = $2",
                           {now, b.id})
                        .status());
    int64_t successes = 0, failures = 0;
    Money success_total;
    for (const auto& l : ret.lines) {
      const DebitItem& item = *by_serial[l.serial];
      if (!l.success) {
        ++failures;
        RETURN_IF_ERROR(
            c.Exec("UPDATE debit_items SET status = 'failed', reason = $1, "
                   "debit_date = $2, bank_serial = $3 WHERE batch_id = $4 AND "
                   "line_no = $5",
                   {l.reason.empty() ? std::string("扣款失败") : l.reason, l.debit_date.ToString(),
                    l.bank_serial.empty() ? Value() : Value(l.bank_serial), b.id, item.line_no})
                .status());
        continue;
      }
      ++successes;
      success_total += l.debited;
      ASSIGN_OR_RETURN(auto cu, internal::LoadCustomer(c, item.customer_id));
      if (!cu) return Internal("customer of debit line " + l.serial + " vanished");
      internal::PaymentRow p;
      p.customer_id = cu->id;
      p.department_id = cu->department_id;
      p.source = "debit";
      p.channel_id = b.channel_id;
      p.method = "bank";
      p.serial = item.serial;
      p.amount = l.debited;
      p.pay_date = l.debit_date;
      p.clearing_date = today;
      p.created_by = Author(actor);
      // The bank was asked for the principal and the late fee as of the export date: that is
      // what the debit settles on its bill, so the bill closes (no fee accrues while frozen).
      // Items exported before the split was kept: the principal first, the rest late fee.
      internal::MoneyIn::Target target;
      target.receivable_id = item.receivable_id;
      if (item.principal && item.late_fee) {
        target.principal = *item.principal;
        target.late_fee = *item.late_fee;
      } else {
        ASSIGN_OR_RETURN(auto r, internal::LoadReceivable(c, item.receivable_id));
        target.principal = r ? std::min(item.amount, r->outstanding()) : item.amount;
        target.late_fee = item.amount - target.principal;
      }
      ASSIGN_OR_RETURN(
          int64_t payment_id,
          internal::TakePayment(c, policy, actor, p, BankClearingAccount(b.channel_code), today,
                                now, target));
      RETURN_IF_ERROR(
          c.Exec("UPDATE debit_items SET status = 'success', debited_fen = $1, "
                 "bank_serial = $2, debit_date = $3, reason = $4, payment_id = $5 "
                 "WHERE batch_id = $6 AND line_no = $7",
                 {l.debited.fen(), l.bank_serial, l.debit_date.ToString(),
                  l.reason.empty() ? Value() : Value(l.reason), payment_id, b.id, item.line_no})
              .status());
    }
    RETURN_IF_ERROR(c.Exec("UPDATE debit_batches SET success_count = $1, success_fen = $2, "
                           "failure_count = $3 WHERE id = $4",
                           {successes, success_total.fen(), failures, b.id})
                        .status());
    ASSIGN_OR_RETURN(DebitBatch after, LoadBatch(c, actor, b.id));
    json summary = ToJson(after);
    summary.erase("items");
    RETURN_IF_ERROR(internal::Audit(c, actor, "import_return", "debit_batch", b.id, "",
                                    summary.dump(), b.department_id, now));
    return after;
  });
}

Result<DebitBatch> ChannelService::CancelDebitBatch(const Actor& actor, int64_t id, int64_t version,
                                                    const std::string& reason) {
  RETURN_IF_ERROR(actor.Require("bank.file"));
  RETURN_IF_ERROR(grid::CheckText(reason, "reason", 2, 200));
  int64_t now = ctx_.clock.NowMicros();
  return ctx_.db.WriteValue<DebitBatch>([&](Connection& c) -> Result<DebitBatch> {
    ASSIGN_OR_RETURN(DebitBatch b, LoadBatch(c, actor, id));
    if (b.version != version) return grid::StaleVersion("debit batch", id, b.version, version);
    if (b.status != "exported") {
      return FailedPrecondition("batch " + b.batch_no + " is " + b.status +
                                "; only an exported batch awaiting its return file can be "
                                "cancelled");
    }
    RETURN_IF_ERROR(c.Exec("UPDATE receivables SET debit_batch_id = NULL, version = version + 1, "
                           "updated_at_us = $1 WHERE debit_batch_id = $2",
                           {now, b.id})
                        .status());
    RETURN_IF_ERROR(c.Exec("UPDATE debit_items SET status = 'cancelled', reason = $1 "
                           "WHERE batch_id = $2",
                           {reason, b.id})
                        .status());
    RETURN_IF_ERROR(c.Exec("UPDATE debit_batches SET status = 'cancelled', version = version + 1 "
                           "WHERE id = $1",
                           {b.id})
                        .status());
    ASSIGN_OR_RETURN(DebitBatch after, LoadBatch(c, actor, id));
    json j = ToJson(after);
    j.erase("items");
    j["reason"] = reason;
    RETURN_IF_ERROR(
        internal::Audit(c, actor, "cancel", "debit_batch", id, "", j.dump(), b.department_id, now));
    return after;
  });
}

// ---------------------------------------------------------------------------------------------
// Reconciliation

namespace {

const char* const kReconCols =
    "rc.id, rc.channel_id, ch.code, rc.clearing_date, rc.status, rc.file_name, rc.bank_count, "
    "rc.bank_total_fen, rc.utility_count, rc.utility_total_fen, rc.matched_count, "
    "rc.bank_only_count, rc.utility_only_count, rc.mismatch_count, "
    "COALESCE(cd.status, 'open'), rc.imported_at_us";
const char* const kReconFrom =
    " FROM reconciliations rc JOIN payment_channels ch ON ch.id = rc.channel_id "
    "LEFT JOIN channel_days cd ON cd.channel_id = rc.channel_id AND "
    "cd.clearing_date = rc.clearing_date ";

Reconciliation ReadRecon(const Row& r) {
  Reconciliation x;
  x.id = r.Int(0);
  x.channel_id = r.Int(1);
  x.channel_code = r.Text(2);
  x.clearing_date = StoredDate(r.TextView(3));
  x.status = r.Text(4);
  x.file_name = r.Text(5);
  x.bank_count = r.Int(6);
  x.bank_total = Money::FromFen(r.Int(7));
  x.utility_count = r.Int(8);
  x.utility_total = Money::FromFen(r.Int(9));
  x.matched_count = r.Int(10);
  x.bank_only_count = r.Int(11);
  x.utility_only_count = r.Int(12);
  x.mismatch_count = r.Int(13);
  x.day_status = r.Text(14);
  x.imported_at_us = r.Int(15);
  return x;
}

Result<Reconciliation> LoadRecon(Connection& c, int64_t id) {
  std::optional<Reconciliation> x;
  RETURN_IF_ERROR(c.QueryOne(std::string("SELECT ") + kReconCols + kReconFrom + "WHERE rc.id = $1",
                             {id}, [&](const Row& r) { x = ReadRecon(r); })
                      .status());
  if (!x) return NotFound("reconciliation " + std::to_string(id) + " not found");
  RETURN_IF_ERROR(c.Query(
      "SELECT item_no, category, serial, file_line, payment_id, receipt_no, customer_no, "
      "bank_amount_fen, utility_amount_fen FROM reconciliation_items WHERE reconciliation_id = $1 "
      "ORDER BY item_no",
      {id}, [&](const Row& r) {
        ReconciliationItem it;
        it.item_no = r.Int(0);
        it.category = r.Text(1);
        it.serial = r.Text(2);
        it.file_line = r.OptInt(3);
        it.payment_id = r.OptInt(4);
        it.receipt_no = r.OptText(5);
        it.customer_no = r.OptText(6);
        if (!r.IsNull(7)) it.bank_amount = Money::FromFen(r.Int(7));
        if (!r.IsNull(8)) it.utility_amount = Money::FromFen(r.Int(8));
        x->items.push_back(std::move(it));
      }));
  return *x;
}

}  // namespace

Result<Reconciliation> ChannelService::ImportCheckFile(const Actor& actor, int64_t channel_id,
                                                       Date clearing_date, std::string_view bytes,
                                                       const std::string& file_name,
                                                       std::vector<FileError>* errors) {
  RETURN_IF_ERROR(actor.Require("accounts.reconcile"));
  if (ctx_.Today() < clearing_date) {
    return InvalidArgument("clearing_date is in the future", "clearing_date");
  }
  int64_t now = ctx_.clock.NowMicros();
  ASSIGN_OR_RETURN(Channel ch, ctx_.db.ReadValue<Channel>([&](Connection& c) {
    return LoadChannelOrNotFound(c, channel_id);
  }));
  auto text = ToUtf8(bytes, ch.file_encoding);
  if (!text.ok()) {
    errors->push_back({0, text.status().message()});
    return InvalidArgument("check file rejected: " + text.status().message(), "content");
  }
  CheckFile file = ParseCheckFile(*text, errors);
  if (!file.channel_code.empty() && file.channel_code != ch.code) {
    errors->push_back({1, "the header names channel " + file.channel_code + ", not " + ch.code});
  }
  if (file.clearing_date != Date{} && file.clearing_date != clearing_date) {
    errors->push_back({1, "the header's clearing date " + file.clearing_date.ToString() +
                              " is not " + clearing_date.ToString()});
  }
  if (!errors->empty()) {
    std::sort(errors->begin(), errors->end(),
              [](const FileError& a, const FileError& x) { return a.line < x.line; });
    return InvalidArgument(
        "check file rejected, nothing stored: " + std::to_string(errors->size()) +
            " problem(s): " + DescribeFileErrors(*errors),
        "content");
  }
  return ctx_.db.WriteValue<Reconciliation>([&](Connection& c) -> Result<Reconciliation> {
    RETURN_IF_ERROR(c.Exec("INSERT INTO channel_days (channel_id, clearing_date, status, "
                           "updated_at_us) VALUES ($1, $2, 'open', $3) "
                           "ON CONFLICT (channel_id, clearing_date) DO NOTHING",
                           {ch.id, clearing_date.ToString(), now})
                        .status());
    ASSIGN_OR_RETURN(std::string day_status,
                     c.QueryText("UPDATE channel_days SET updated_at_us = $1 WHERE channel_id = $2 "
                                 "AND clearing_date = $3 RETURNING status",
                                 {now, ch.id, clearing_date.ToString()}));
    if (day_status == "closed") {
      return FailedPrecondition("channel " + ch.code + "'s day " + clearing_date.ToString() +
                                " is closed; its reconciliation is final");
    }
    // The bank's effective payments: the 01 lines less those reversed by a 02 line.
    std::set<std::string> reversed;
    for (const auto& l : file.lines) {
      if (l.reversal) reversed.insert(l.original_serial);
    }
    std::map<std::string, const CheckLine*> bank;
    for (const auto& l : file.lines) {
      if (!l.reversal && !reversed.count(l.serial)) bank[l.serial] = &l;
    }
    struct Ours {
      int64_t id;
      Money amount;
      std::string customer_no;
      std::string receipt_no;
    };
    std::map<std::string, Ours> ours;
    RETURN_IF_ERROR(c.Query(
        "SELECT p.id, p.serial, p.amount_fen, cu.customer_no, p.clearing_date FROM payments p "
        "JOIN customers cu ON cu.id = p.customer_id WHERE p.channel_id = $1 AND p.source = "
        "'channel' AND p.clearing_date = $2 AND p.status = 'posted'",
        {ch.id, clearing_date.ToString()}, [&](const Row& r) {
          ours[r.Text(1)] = {r.Int(0), Money::FromFen(r.Int(2)), r.Text(3),
                             internal::ReceiptNo(r.Int(0), r.TextView(4))};
        }));
    Reconciliation x;
    x.channel_id = ch.id;
    x.channel_code = ch.code;
    x.clearing_date = clearing_date;
    x.status = "current";
    x.file_name = file_name;
    x.day_status = day_status;
    std::vector<ReconciliationItem> diffs, matched;
    for (const auto& [serial, l] : bank) {
      ++x.bank_count;
      x.bank_total += l->amount;
      ReconciliationItem it;
      it.serial = serial;
      it.file_line = l->line;
      it.customer_no = l->customer_no;
      it.bank_amount = l->amount;
      auto o = ours.find(serial);
      if (o == ours.end()) {
        it.category = "bank_only";
        ++x.bank_only_count;
        diffs.push_back(std::move(it));
        continue;
      }
      it.payment_id = o->second.id;
      it.receipt_no = o->second.receipt_no;
      it.utility_amount = o->second.amount;
      if (o->second.amount != l->amount) {
        it.category = "amount_mismatch";
        ++x.mismatch_count;
        diffs.push_back(std::move(it));
      } else {
        it.category = "matched";
        ++x.matched_count;
        matched.push_back(std::move(it));
      }
    }
    for (const auto& [serial, o] : ours) {
      ++x.utility_count;
      x.utility_total += o.amount;
      if (bank.count(serial)) continue;
      ReconciliationItem it;
      it.category = "utility_only";
      it.serial = serial;
      it.payment_id = o.id;
      it.receipt_no = o.receipt_no;
      it.customer_no = o.customer_no;
      it.utility_amount = o.amount;
      ++x.utility_only_count;
      diffs.push_back(std::move(it));
    }
    RETURN_IF_ERROR(c.Exec("UPDATE reconciliations SET status = 'superseded' WHERE channel_id = $1 "
                           "AND clearing_date = $2 AND status = 'current'",
                           {ch.id, clearing_date.ToString()})
                        .status());
    ASSIGN_OR_RETURN(
        x.id, c.InsertReturningId(
                  "INSERT INTO reconciliations (channel_id, clearing_date, status, file_name, "
                  "bank_count, bank_total_fen, utility_count, utility_total_fen, matched_count, "
                  "bank_only_count, utility_only_count, mismatch_count, imported_by, "
                  "imported_at_us) VALUES ($1, $2, 'current', $3, $4, $5, $6, $7, $8, $9, $10, "
                  "$11, $12, $13) RETURNING id",
                  {ch.id, clearing_date.ToString(), file_name, x.bank_count, x.bank_total.fen(),
                   x.utility_count, x.utility_total.fen(), x.matched_count, x.bank_only_count,
                   x.utility_only_count, x.mismatch_count, Author(actor), now}));
    x.imported_at_us = now;
    int64_t item_no = 0;
    for (auto* list : {&diffs, &matched}) {
      for (auto& it : *list) {
        it.item_no = ++item_no;
        RETURN_IF_ERROR(c.Exec("INSERT INTO reconciliation_items (reconciliation_id, item_no, "
                               "category, serial, file_line, payment_id, receipt_no, customer_no, "
                               "bank_amount_fen, utility_amount_fen) VALUES ($1, $2, $3, $4, $5, "
                               "$6, $7, $8, $9, $10)",
                               {x.id, it.item_no, it.category, it.serial, it.file_line,
                                it.payment_id, it.receipt_no, it.customer_no,
                                it.bank_amount ? Value(it.bank_amount->fen()) : Value(),
                                it.utility_amount ? Value(it.utility_amount->fen()) : Value()})
                            .status());
        x.items.push_back(it);
      }
    }
    RETURN_IF_ERROR(c.Exec("UPDATE channel_days SET reconciliation_id = $1 WHERE channel_id = $2 "
                           "AND clearing_date = $3",
                           {x.id, ch.id, clearing_date.ToString()})
                        .status());
    json summary = ToJson(x);
    summary.erase("items");
    RETURN_IF_ERROR(
        internal::Audit(c, actor, "import", "reconciliation", x.id, "", summary.dump(), 0, now));
    return x;
  });
}

Result<std::vector<Reconciliation>> ChannelService::ListReconciliations(
    const Actor& actor, std::optional<int64_t> channel_id, int page, int page_size,
    int64_t* total) {
  if (!actor.Can("accounts.read") && !actor.Can("accounts.reconcile")) {
    return PermissionDenied("permission 'accounts.read' is required");
  }
  RETURN_IF_ERROR(CheckPage(page, page_size));
  return ctx_.db.ReadValue<std::vector<Reconciliation>>(
      [&](Connection& c) -> Result<std::vector<Reconciliation>> {
        grid::SqlWhere w;
        if (channel_id) w.And("rc.channel_id = " + w.Bind(*channel_id));
        ASSIGN_OR_RETURN(
            *total,
            c.QueryInt("SELECT COUNT(*) FROM reconciliations rc WHERE " + w.sql(), w.params()));
        std::vector<Reconciliation> out;
        RETURN_IF_ERROR(c.Query(std::string("SELECT ") + kReconCols + kReconFrom + "WHERE " +
                                    w.sql() + " ORDER BY rc.clearing_date DESC, rc.id DESC" +
                                    PageSql(page, page_size),
                                w.params(), [&](const Row& r) { out.push_back(ReadRecon(r)); }));
        return out;
      });
}

Result<Reconciliation> ChannelService::GetReconciliation(const Actor& actor, int64_t id) {
  if (!actor.Can("accounts.read") && !actor.Can("accounts.reconcile")) {
    return PermissionDenied("permission 'accounts.read' is required");
  }
  return ctx_.db.ReadValue<Reconciliation>(
      [&](Connection& c) -> Result<Reconciliation> { return LoadRecon(c, id); });
}

Result<ChannelDay> ChannelService::CloseDay(const Actor& actor, int64_t channel_id,
                                            Date clearing_date) {
  RETURN_IF_ERROR(actor.Require("accounts.reconcile"));
  if (ctx_.Today() < clearing_date) {
    return InvalidArgument("clearing_date is in the future", "clearing_date");
  }
  int64_t now = ctx_.clock.NowMicros();
  return ctx_.db.WriteValue<ChannelDay>([&](Connection& c) -> Result<ChannelDay> {
    ASSIGN_OR_RETURN(Channel ch, LoadChannelOrNotFound(c, channel_id));
    RETURN_IF_ERROR(c.Exec("INSERT INTO channel_days (channel_id, clearing_date, status, "
                           "updated_at_us) VALUES ($1, $2, 'open', $3) "
                           "ON CONFLICT (channel_id, clearing_date) DO NOTHING",
                           {ch.id, clearing_date.ToString(), now})
                        .status());
    ChannelDay d;
    RETURN_IF_ERROR(c.QueryOne("UPDATE channel_days SET updated_at_us = $1 WHERE channel_id = $2 "
                               "AND clearing_date = $3 RETURNING status, payment_count, "
                               "payment_total_fen, reconciliation_id, closed_at_us",
                               {now, ch.id, clearing_date.ToString()},
                               [&](const Row& r) {
                                 d.channel_id = ch.id;
                                 d.clearing_date = clearing_date;
                                 d.status = r.Text(0);
                                 d.payment_count = r.Int(1);
                                 d.payment_total = Money::FromFen(r.Int(2));
                                 d.reconciliation_id = r.OptInt(3);
                                 d.closed_at_us = r.OptInt(4);
                               })
                        .status());
    if (d.status == "closed") return d;  // closing twice changes nothing
    ASSIGN_OR_RETURN(bool reconciled,
                     c.QueryOne("SELECT 1 FROM reconciliations WHERE channel_id = $1 AND "
                                "clearing_date = $2 AND status = 'current'",
                                {ch.id, clearing_date.ToString()}, [](const Row&) {}));
    if (!reconciled) {
      return FailedPrecondition("channel " + ch.code + "'s day " + clearing_date.ToString() +
                                " has no reconciliation; import the channel's check file first");
    }
    RETURN_IF_ERROR(c.Exec("UPDATE channel_days SET status = 'closed', closed_by = $1, "
                           "closed_at_us = $2 WHERE channel_id = $3 AND clearing_date = $4",
                           {Author(actor), now, ch.id, clearing_date.ToString()})
                        .status());
    d.status = "closed";
    d.closed_at_us = now;
    RETURN_IF_ERROR(internal::Audit(c, actor, "close_day", "payment_channel", ch.id, "",
                                    ToJson(d).dump(), 0, now));
    return d;
  });
}

Result<std::vector<ChannelDay>> ChannelService::ListDays(const Actor& actor, int64_t channel_id,
                                                         int page, int page_size, int64_t* total) {
  if (!actor.Can("accounts.read") && !actor.Can("accounts.reconcile")) {
    return PermissionDenied("permission 'accounts.read' is required");
  }
  RETURN_IF_ERROR(CheckPage(page, page_size));
  return ctx_.db.ReadValue<std::vector<ChannelDay>>(
      [&](Connection& c) -> Result<std::vector<ChannelDay>> {
        RETURN_IF_ERROR(LoadChannelOrNotFound(c, channel_id).status());
        ASSIGN_OR_RETURN(
            *total,
            c.QueryInt("SELECT COUNT(*) FROM channel_days WHERE channel_id = $1", {channel_id}));
        std::vector<ChannelDay> out;
        RETURN_IF_ERROR(c.Query(
            "SELECT clearing_date, status, payment_count, payment_total_fen, reconciliation_id, "
            "closed_at_us FROM channel_days WHERE channel_id = $1 ORDER BY clearing_date DESC" +
                PageSql(page, page_size),
            {channel_id}, [&](const Row& r) {
              out.push_back({channel_id, StoredDate(r.TextView(0)), r.Text(1), r.Int(2),
                             Money::FromFen(r.Int(3)), r.OptInt(4), r.OptInt(5)});
            }));
        return out;
      });
}

// ---------------------------------------------------------------------------------------------
// JSON

json ToJson(const Channel& c) {
  return json{{"id", c.id},
              {"code", c.code},
              {"name", c.name},
              {"kind", c.kind},
              {"user_id", OptInt(c.user_id)},
              {"username", c.username},
              {"bank_name", OptText(c.bank_name)},
              {"file_encoding", c.file_encoding},
              {"allow_partial", c.allow_partial},
              {"status", c.status},
              {"ledger_account", BankClearingAccount(c.code)},
              {"version", c.version},
              {"created_at", FormatUtc(c.created_at_us)},
              {"updated_at", FormatUtc(c.updated_at_us)}};
}

json ToJson(const DebitBatch& b) {
  json items = json::array();
  for (const auto& it : b.items) {
    items.push_back({{"line_no", it.line_no},
                     {"serial", it.serial},
                     {"receivable_id", it.receivable_id},
                     {"customer_id", it.customer_id},
                     {"customer_no", it.customer_no},
                     {"account_name", it.account_name},
                     {"bank_account_no", it.bank_account_no},
                     {"period", it.period.ToString()},
                     {"amount", Yuan(it.amount)},
                     {"status", it.status},
                     {"debited", Yuan(it.debited)},
                     {"bank_serial", OptText(it.bank_serial)},
                     {"debit_date", OptText(it.debit_date)},
                     {"reason", OptText(it.reason)},
                     {"payment_id", OptInt(it.payment_id)}});
  }
  return json{
      {"id", b.id},
      {"batch_no", b.batch_no},
      {"channel_id", b.channel_id},
      {"channel_code", b.channel_code},
      {"department_id", b.department_id},
      {"export_date", b.export_date.ToString()},
      {"status", b.status},
      {"item_count", b.item_count},
      {"total", Yuan(b.total)},
      {"encoding", b.encoding},
      {"success_count", b.success_count},
      {"success_total", Yuan(b.success_total)},
      {"failure_count", b.failure_count},
      {"exported_at", FormatUtc(b.exported_at_us)},
      {"returned_at", b.returned_at_us ? json(FormatUtc(*b.returned_at_us)) : json(nullptr)},
      {"version", b.version},
      {"items", std::move(items)},
      {"skipped", b.skipped}};
}

json ToJson(const Reconciliation& x) {
  json items = json::array();
  for (const auto& it : x.items) {
    items.push_back(
        {{"item_no", it.item_no},
         {"category", it.category},
         {"serial", it.serial},
         {"file_line", OptInt(it.file_line)},
         {"payment_id", OptInt(it.payment_id)},
         {"receipt_no", OptText(it.receipt_no)},
         {"customer_no", OptText(it.customer_no)},
         {"bank_amount", it.bank_amount ? json(Yuan(*it.bank_amount)) : json(nullptr)},
         {"utility_amount", it.utility_amount ? json(Yuan(*it.utility_amount)) : json(nullptr)}});
  }
  return json{
      {"id", x.id},
      {"channel_id", x.channel_id},
      {"channel_code", x.channel_code},
      {"clearing_date", x.clearing_date.ToString()},
      {"status", x.status},
      {"file_name", x.file_name},
      {"bank_count", x.bank_count},
      {"bank_total", Yuan(x.bank_total)},
      {"utility_count", x.utility_count},
      {"utility_total", Yuan(x.utility_total)},
      {"matched_count", x.matched_count},
      {"bank_only_count", x.bank_only_count},
      {"utility_only_count", x.utility_only_count},
      {"mismatch_count", x.mismatch_count},
      {"balanced", x.bank_only_count == 0 && x.utility_only_count == 0 && x.mismatch_count == 0},
      {"day_status", x.day_status},
      {"imported_at", FormatUtc(x.imported_at_us)},
      {"items", std::move(items)}};
}

json ToJson(const ChannelDay& d) {
  return json{{"channel_id", d.channel_id},
              {"clearing_date", d.clearing_date.ToString()},
              {"status", d.status},
              {"payment_count", d.payment_count},
              {"payment_total", Yuan(d.payment_total)},
              {"reconciliation_id", OptInt(d.reconciliation_id)},
              {"closed_at", d.closed_at_us ? json(FormatUtc(*d.closed_at_us)) : json(nullptr)}};
}

json ToJson(const std::vector<FileError>& errors) {
  json out = json::array();
  for (const auto& e : errors) out.push_back({{"line", e.line}, {"reason", e.reason}});
  return out;
}

}  // namespace gridmis::accounts
