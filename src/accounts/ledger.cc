#include "accounts/ledger.h"

namespace gridmis::accounts {

using store::Connection;
using store::Row;
using store::Value;

std::string BankClearingAccount(std::string_view channel_code) {
  return "bank_clearing." + std::string(channel_code);
}

bool HasCustomerSubledger(std::string_view account) {
  return account == kReceivable || account == kLateFeeIncome || account == kCustomerCredit ||
         account == kPrepaidLiability || account == kPrepaidEstimated;
}

Status CheckBalanced(const JournalEntry& e) {
  int64_t debits = 0, credits = 0;
  int lines = 0;
  for (const auto& l : e.lines) {
    if (l.debit.fen() == 0 && l.credit.fen() == 0) continue;
    if (l.debit.fen() < 0 || l.credit.fen() < 0 || (l.debit.fen() != 0 && l.credit.fen() != 0)) {
      return Internal("journal entry " + e.kind + ": line on " + l.account +
                      " must be a debit or a credit above zero");
    }
    if (HasCustomerSubledger(l.account) && !l.customer_id) {
      return Internal("journal entry " + e.kind + ": line on " + l.account + " needs its customer");
    }
    debits += l.debit.fen();
    credits += l.credit.fen();
    ++lines;
  }
  if (lines < 2 || debits != credits || debits <= 0) {
    return Internal("journal entry " + e.kind + " does not balance: debits " +
                    Money::FromFen(debits).ToYuanString() + ", credits " +
                    Money::FromFen(credits).ToYuanString());
  }
  return Status::Ok();
}

Result<int64_t> PostEntry(Connection& c, const JournalEntry& e, int64_t now_us) {
  RETURN_IF_ERROR(CheckBalanced(e));
  int64_t amount = 0;
  for (const auto& l : e.lines) amount += l.debit.fen();
  ASSIGN_OR_RETURN(
      int64_t id,
      c.InsertReturningId(
          "INSERT INTO journal_entries (kind, business_date, posted_at_us, department_id, "
          "customer_id, ref_type, ref_id, memo, amount_fen, created_by, reverses_entry_id) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
          {e.kind, e.business_date.ToString(), now_us, e.department_id, e.customer_id, e.ref_type,
           e.ref_id, e.memo, amount, e.created_by, e.reverses_entry_id}));
  int64_t line_no = 0;
  for (const auto& l : e.lines) {
    if (l.debit.fen() == 0 && l.credit.fen() == 0) continue;
    RETURN_IF_ERROR(c.Exec("INSERT INTO journal_lines (entry_id, line_no, account_code, "
                           "customer_id, department_id, debit_fen, credit_fen) "
                           "VALUES ($1, $2, $3, $4, $5, $6, $7)",
                           {id, ++line_no, l.account, l.customer_id, e.department_id, l.debit.fen(),
                            l.credit.fen()})
                        .status()
                        .WithContext("journal line on " + l.account));
  }
  return id;
}

Result<int64_t> PostReversal(Connection& c, int64_t entry_id, std::string_view kind,
                             Date business_date, std::optional<int64_t> created_by,
                             std::string_view memo, int64_t now_us) {
  JournalEntry r;
  bool found = false;
  RETURN_IF_ERROR(
      c.QueryOne("SELECT department_id, customer_id, ref_type, ref_id FROM journal_entries "
                 "WHERE id = $1",
                 {entry_id},
                 [&](const Row& row) {
                   found = true;
                   r.department_id = row.Int(0);
                   r.customer_id = row.OptInt(1);
                   r.ref_type = row.Text(2);
                   r.ref_id = row.OptInt(3);
                 })
          .status());
  if (!found) return Internal("journal entry " + std::to_string(entry_id) + " does not exist");
  ASSIGN_OR_RETURN(bool already,
                   c.QueryOne("SELECT 1 FROM journal_entries WHERE reverses_entry_id = $1",
                              {entry_id}, [](const Row&) {}));
  if (already) {
    return FailedPrecondition("journal entry " + std::to_string(entry_id) +
                              " has already been reversed");
  }
  RETURN_IF_ERROR(
      c.Query("SELECT account_code, customer_id, debit_fen, credit_fen "
              "FROM journal_lines WHERE entry_id = $1 ORDER BY line_no",
              {entry_id}, [&](const Row& row) {
                r.lines.push_back({row.Text(0), row.OptInt(1), Money::FromFen(row.Int(3)),
                                   Money::FromFen(row.Int(2))});
              }));
  r.kind = std::string(kind);
  r.business_date = business_date;
  r.created_by = created_by;
  r.memo = memo.empty() ? "冲正凭证 " + std::to_string(entry_id) : std::string(memo);
  r.reverses_entry_id = entry_id;
  auto id = PostEntry(c, r, now_us);
  if (!id.ok() && id.status().code() == StatusCode::kAlreadyExists) {
    return FailedPrecondition("journal entry " + std::to_string(entry_id) +
                              " has already been reversed");
  }
  return id;
}

Result<Money> CustomerSubledgerBalance(Connection& c, std::string_view account,
                                       int64_t customer_id) {
  ASSIGN_OR_RETURN(int64_t v,
                   c.QueryInt("SELECT COALESCE(SUM(debit_fen - credit_fen), 0) FROM journal_lines "
                              "WHERE customer_id = $1 AND account_code = $2",
                              {customer_id, std::string(account)}));
  return Money::FromFen(v);
}

Status EnsureBankClearingAccount(Connection& c, int64_t channel_id, std::string_view channel_code,
                                 std::string_view channel_name, int64_t now_us) {
  return c
      .Exec(
          "INSERT INTO ledger_accounts (code, name, kind, subledger, channel_id, created_at_us) "
          "VALUES ($1, $2, 'asset', '', $3, $4) ON CONFLICT (code) DO NOTHING",
          {BankClearingAccount(channel_code), "银行存款待清算-" + std::string(channel_name),
           channel_id, now_us})
      .status();
}

}  // namespace gridmis::accounts
