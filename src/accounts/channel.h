// Bank and payment channels (tariffs.md §11): real-time collection (代收) through the channel
// API, batch direct debit (代扣) files, and the daily reconciliation (对账) and closing (清算) of
// each channel's day.
//
// Channel API: a channel calls with an API token of a user holding payment.channel; the
// payment_channels row with that user_id is the channel. Its pay request is idempotent by the
// channel's serial number: a retry with the same serial and amount answers the original receipt
// (duplicate: true) and posts nothing; the same serial with another amount or customer is a
// conflict (AlreadyExists, HTTP 409). Two identical requests at once: the unique index on
// (channel, serial) lets exactly one post; the other answers the original. Late fees run to the
// bank's transaction date. When the request carries the query's total (expected_total) and the
// arrears changed since, it is refused (电费发生变动). A payment is reversed by its serial on the
// same day only, and never after the channel's day is closed.
//
// Direct debit: the export freezes the receivables it lists (counter and channel payments of
// those customers are refused) until the bank's return file is imported (or the batch is
// cancelled). A return file with any bad line posts nothing and names every bad line; a good one
// posts the successes and releases the failures, in one transaction. Importing the same file
// again answers the same result.
//
// Reconciliation: the channel's check file for a clearing date, joined with our receipts of that
// channel and date on the bank serial: matched, bank only (银行单边), utility only (电力单边),
// amount mismatch. Importing again replaces the day's report until the day is closed; closing
// needs a report and stops reversals and payments for that date.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "accounts/accounts.h"
#include "accounts/bank_files.h"
#include "grid/records.h"

namespace gridmis::accounts {

struct Channel {
  int64_t id = 0;
  std::string code;
  std::string name;
  std::string kind = "bank";  // bank, third_party
  std::optional<int64_t> user_id;
  std::string username;
  std::optional<std::string> bank_name;
  std::string file_encoding = "utf8";  // utf8, gbk
  bool allow_partial = true;
  std::string status = "active";  // active, suspended
  int64_t version = 0;
  int64_t created_at_us = 0;
  int64_t updated_at_us = 0;
};

struct ChannelInput {
  std::optional<std::string> code;  // required on create; cannot change
  std::optional<std::string> name;  // required on create
  std::optional<std::string> kind;
  grid::Nullable<int64_t> user_id;  // the API user (must hold payment.channel)
  grid::Nullable<std::string> bank_name;
  std::optional<std::string> file_encoding;
  std::optional<bool> allow_partial;
  std::optional<std::string> status;
};

struct ChannelPayInput {
  std::string serial;  // the channel's serial number: the idempotency key
  std::string customer_no;
  Money amount;
  std::optional<Date> txn_date;  // the bank's transaction date (default today)
  std::optional<std::string> txn_time;
  std::optional<Money> expected_total;  // the total of the channel's query
};

struct DebitItem {
  int64_t line_no = 0;
  std::string serial;
  int64_t receivable_id = 0;
  int64_t customer_id = 0;
  std::string customer_no;
  std::string account_name;
  std::string bank_account_no;
  YearMonth period;
  Money amount;
  // What `amount` was made of on the export date; a success settles exactly these. Empty for
  // items exported before they were kept.
  std::optional<Money> principal;
  std::optional<Money> late_fee;
  std::string status;  // pending, success, failed, cancelled
  Money debited;
  std::optional<std::string> bank_serial;
  std::optional<std::string> debit_date;
  std::optional<std::string> reason;
  std::optional<int64_t> payment_id;
};

struct DebitBatch {
  int64_t id = 0;
  std::string batch_no;
  int64_t channel_id = 0;
  std::string channel_code;
  int64_t department_id = 0;
  Date export_date;
  std::string status;  // exported, returned, cancelled
  int64_t item_count = 0;
  Money total;
  std::string encoding;
  int64_t success_count = 0;
  Money success_total;
  int64_t failure_count = 0;
  int64_t exported_at_us = 0;
  std::optional<int64_t> returned_at_us;
  int64_t version = 0;
  std::vector<DebitItem> items;      // filled by GetDebitBatch and the import
  std::vector<std::string> skipped;  // export: bank-debit bills left out, with the reason
};

struct BankFile {
  std::string file_name;
  std::string content_type;  // text/plain; charset=GBK or UTF-8
  std::string bytes;
};

struct ReconciliationItem {
  int64_t item_no = 0;
  std::string category;  // matched, bank_only, utility_only, amount_mismatch
  std::string serial;
  std::optional<int64_t> file_line;
  std::optional<int64_t> payment_id;
  std::optional<std::string> receipt_no;
  std::optional<std::string> customer_no;
  std::optional<Money> bank_amount;
  std::optional<Money> utility_amount;
};

struct Reconciliation {
  int64_t id = 0;
  int64_t channel_id = 0;
  std::string channel_code;
  Date clearing_date;
  std::string status;  // current, superseded
  std::string file_name;
  int64_t bank_count = 0;
  Money bank_total;
  int64_t utility_count = 0;
  Money utility_total;
  int64_t matched_count = 0;
  int64_t bank_only_count = 0;
  int64_t utility_only_count = 0;
  int64_t mismatch_count = 0;
  std::string day_status;  // open, closed
  int64_t imported_at_us = 0;
  std::vector<ReconciliationItem> items;  // differences first
};

struct ChannelDay {
  int64_t channel_id = 0;
  Date clearing_date;
  std::string status;  // open, closed
  int64_t payment_count = 0;
  Money payment_total;
  std::optional<int64_t> reconciliation_id;
  std::optional<int64_t> closed_at_us;
};

class ChannelService {
 public:
  explicit ChannelService(AccountsContext ctx) : ctx_(std::move(ctx)) {}

  // ---- Channels (accounts.read to list, accounts.reconcile to edit) ----
  Result<std::vector<Channel>> ListChannels(const org::Actor& actor);
  Result<Channel> CreateChannel(const org::Actor& actor, const ChannelInput& in);
  Result<Channel> UpdateChannel(const org::Actor& actor, int64_t id, int64_t version,
                                const ChannelInput& in);

  // ---- The channel API (payment.channel, the caller's channel) ----
  Result<CustomerArrears> QueryArrears(const org::Actor& actor, const std::string& customer_no,
                                       std::optional<Date> txn_date);
  Result<Receipt> Pay(const org::Actor& actor, const ChannelPayInput& in);
  Result<Receipt> Reverse(const org::Actor& actor, const std::string& serial,
                          const std::string& reason);

  // ---- Direct debit (bank.file; lists need accounts.read) ----
  // Every open, unfrozen bill of a bank-debit account (accounts.payment_method = bank_debit, of
  // the channel's bank when it names one) in the department and below, for outstanding principal
  // plus the late fee due today. FailedPrecondition when there is none.
  Result<DebitBatch> ExportDebits(const org::Actor& actor, int64_t channel_id,
                                  int64_t department_id);
  Result<std::vector<DebitBatch>> ListDebitBatches(const org::Actor& actor,
                                                   std::optional<int64_t> channel_id, int page,
                                                   int page_size, int64_t* total);
  Result<DebitBatch> GetDebitBatch(const org::Actor& actor, int64_t id);
  // The request file in the channel's encoding.
  Result<BankFile> DebitFile(const org::Actor& actor, int64_t id);
  // `bytes` in the channel's encoding. A bad file: InvalidArgument and every bad line in
  // `errors`; nothing posted.
  Result<DebitBatch> ImportDebitReturn(const org::Actor& actor, int64_t id, std::string_view bytes,
                                       std::vector<FileError>* errors);
  Result<DebitBatch> CancelDebitBatch(const org::Actor& actor, int64_t id, int64_t version,
                                      const std::string& reason);

  // ---- Reconciliation (accounts.reconcile; lists need accounts.read) ----
  Result<Reconciliation> ImportCheckFile(const org::Actor& actor, int64_t channel_id,
                                         Date clearing_date, std::string_view bytes,
                                         const std::string& file_name,
                                         std::vector<FileError>* errors);
  Result<std::vector<Reconciliation>> ListReconciliations(const org::Actor& actor,
                                                          std::optional<int64_t> channel_id,
                                                          int page, int page_size, int64_t* total);
  Result<Reconciliation> GetReconciliation(const org::Actor& actor, int64_t id);
  // 清算: closes the channel's day; needs a reconciliation of that day.
  Result<ChannelDay> CloseDay(const org::Actor& actor, int64_t channel_id, Date clearing_date);
  Result<std::vector<ChannelDay>> ListDays(const org::Actor& actor, int64_t channel_id, int page,
                                           int page_size, int64_t* total);

 private:
  Result<Channel> CallerChannel(store::Connection& c, const org::Actor& actor);
  AccountsContext ctx_;
};

nlohmann::json ToJson(const Channel& c);
nlohmann::json ToJson(const DebitBatch& b);
nlohmann::json ToJson(const Reconciliation& r);
nlohmann::json ToJson(const ChannelDay& d);
nlohmann::json ToJson(const std::vector<FileError>& errors);

}  // namespace gridmis::accounts
