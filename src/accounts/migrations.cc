#include "accounts/migrations.h"

namespace gridmis::accounts {

namespace {

// Money is BIGINT fen, business dates TEXT 'YYYY-MM-DD', instants BIGINT UTC microseconds.
// Nothing here references the bills table (billing/): receivables are keyed by bill id.
constexpr std::string_view kLedger = R"sql(
CREATE TABLE ledger_accounts (          -- 会计科目: the chart the journal posts to
  code TEXT PRIMARY KEY,                -- receivable, cash, bank_clearing.<channel code>, ...
  name TEXT NOT NULL,                   -- zh-CN
  kind TEXT NOT NULL,                   -- asset, liability, revenue
  subledger TEXT NOT NULL DEFAULT '',   -- 'customer' when every line names its customer
  channel_id BIGINT,                    -- bank clearing accounts: their channel
  created_at_us BIGINT NOT NULL
);
INSERT INTO ledger_accounts (code, name, kind, subledger, created_at_us) VALUES
  ('receivable', '应收电费', 'asset', 'customer', 0),
  ('cash', '库存现金', 'asset', '', 0),
  ('card_clearing', '银行卡收款待清算', 'asset', '', 0),
  ('transfer_clearing', '转账收款待清算', 'asset', '', 0),
  ('energy_sales', '电费收入', 'revenue', '', 0),
  ('late_fee_income', '电费违约金收入', 'revenue', 'customer', 0),
  ('customer_credit', '预收电费-溢缴款', 'liability', 'customer', 0),
  ('prepaid_liability', '预收电费-预付费', 'liability', 'customer', 0),
  ('prepaid_estimated', '预付费测算电费(未发行)', 'liability', 'customer', 0);

CREATE TABLE journal_entries (          -- 记账凭证: balanced, never edited (reversal entries only)
  {{PK}},
  kind TEXT NOT NULL,                   -- bill_issue, bill_cancel, payment, payment_reversal, ...
  business_date TEXT NOT NULL,
  posted_at_us BIGINT NOT NULL,
  department_id BIGINT NOT NULL,
  customer_id BIGINT REFERENCES customers(id),
  ref_type TEXT NOT NULL DEFAULT '',    -- bill (issue), receivable, payment, prepaid_account, ...
  ref_id BIGINT,
  memo TEXT NOT NULL DEFAULT '',
  amount_fen BIGINT NOT NULL,           -- the sum of the debits (= the sum of the credits)
  reverses_entry_id BIGINT UNIQUE REFERENCES journal_entries(id),
  created_by BIGINT                     -- users.id; NULL for the system
);
CREATE INDEX journal_entries_customer ON journal_entries (customer_id, id);
CREATE INDEX journal_entries_date ON journal_entries (business_date, id);
CREATE INDEX journal_entries_ref ON journal_entries (ref_type, ref_id);

CREATE TABLE journal_lines (
  entry_id BIGINT NOT NULL REFERENCES journal_entries(id),
  line_no BIGINT NOT NULL,
  account_code TEXT NOT NULL REFERENCES ledger_accounts(code),
  customer_id BIGINT REFERENCES customers(id),
  department_id BIGINT NOT NULL,
  debit_fen BIGINT NOT NULL DEFAULT 0,
  credit_fen BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (entry_id, line_no)
);
CREATE INDEX journal_lines_account ON journal_lines (account_code, customer_id);
CREATE INDEX journal_lines_customer ON journal_lines (customer_id, account_code);

CREATE TABLE customer_balances (        -- per customer: credit (溢缴) and the money lock row
  customer_id BIGINT PRIMARY KEY REFERENCES customers(id),
  credit_fen BIGINT NOT NULL DEFAULT 0,
  lock_seq BIGINT NOT NULL DEFAULT 0,   -- bumped by every money operation: a row lock on PG
  updated_at_us BIGINT NOT NULL
);

CREATE TABLE receivables (              -- 应收: one per issued bill
  {{PK}},
  bill_id BIGINT NOT NULL UNIQUE,
  bill_no TEXT NOT NULL,
  customer_id BIGINT NOT NULL REFERENCES customers(id),
  account_id BIGINT,
  department_id BIGINT NOT NULL,
  metering_point_id BIGINT,
  period TEXT NOT NULL,                 -- 电费年月 YYYY-MM
  category TEXT NOT NULL,               -- residential, commercial, ... (late-fee rates)
  amount_fen BIGINT NOT NULL,
  principal_paid_fen BIGINT NOT NULL DEFAULT 0,
  late_fee_paid_fen BIGINT NOT NULL DEFAULT 0,
  late_fee_waived_fen BIGINT NOT NULL DEFAULT 0,
  issue_date TEXT NOT NULL,
  due_date TEXT NOT NULL,
  status TEXT NOT NULL,                 -- open, paid, cancelled
  settled_date TEXT,                    -- the day it was paid in full
  debit_batch_id BIGINT,                -- frozen while in a direct-debit batch (代扣)
  issue_entry_id BIGINT,
  cancel_entry_id BIGINT,
  version BIGINT NOT NULL DEFAULT 1,
  created_at_us BIGINT NOT NULL,
  updated_at_us BIGINT NOT NULL
);
CREATE INDEX receivables_customer ON receivables (customer_id, status, period);
CREATE INDEX receivables_status_due ON receivables (status, due_date);
CREATE INDEX receivables_department ON receivables (department_id, status, due_date);
CREATE INDEX receivables_point ON receivables (metering_point_id);

CREATE TABLE payment_channels (         -- banks and third-party channels (代收/代扣)
  {{PK}},
  code TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  kind TEXT NOT NULL DEFAULT 'bank',    -- bank, third_party
  user_id BIGINT UNIQUE REFERENCES users(id),  -- the API identity the channel calls with
  bank_name TEXT,                       -- direct debit: accounts.bank_name it serves
  file_encoding TEXT NOT NULL DEFAULT 'utf8',  -- utf8, gbk
  allow_partial BIGINT NOT NULL DEFAULT 1,
  status TEXT NOT NULL DEFAULT 'active',
  version BIGINT NOT NULL DEFAULT 1,
  created_at_us BIGINT NOT NULL,
  updated_at_us BIGINT NOT NULL
);

CREATE TABLE payments (                 -- 实收: counter, channel (代收) and direct debit (代扣)
  {{PK}},
  customer_id BIGINT NOT NULL REFERENCES customers(id),
  department_id BIGINT NOT NULL,
  source TEXT NOT NULL,                 -- counter, channel, debit
  channel_id BIGINT REFERENCES payment_channels(id),
  method TEXT NOT NULL,                 -- cash, card, transfer, bank
  serial TEXT,                          -- the channel's serial: the idempotency key
  amount_fen BIGINT NOT NULL,
  tendered_fen BIGINT,
  change_fen BIGINT NOT NULL DEFAULT 0,
  principal_fen BIGINT NOT NULL DEFAULT 0,
  late_fee_fen BIGINT NOT NULL DEFAULT 0,
  credit_fen BIGINT NOT NULL DEFAULT 0,
  prepaid_fen BIGINT NOT NULL DEFAULT 0,
  prepaid_account_id BIGINT,
  pay_date TEXT NOT NULL,               -- when the money was paid (bank transaction date)
  txn_time TEXT,
  clearing_date TEXT NOT NULL,          -- the utility business day it belongs to
  entry_id BIGINT,
  status TEXT NOT NULL DEFAULT 'posted',   -- posted, reversed
  reversal_entry_id BIGINT,
  reversed_at_us BIGINT,
  reversed_by BIGINT,
  reversal_reason TEXT,
  created_by BIGINT,
  created_at_us BIGINT NOT NULL,
  version BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX payments_channel_serial ON payments (channel_id, source, serial);
CREATE INDEX payments_customer ON payments (customer_id, id);
CREATE INDEX payments_clearing ON payments (clearing_date, channel_id);

CREATE TABLE payment_allocations (      -- 销账: what each payment (or credit) paid
  {{PK}},
  receivable_id BIGINT NOT NULL REFERENCES receivables(id),
  payment_id BIGINT REFERENCES payments(id),  -- NULL for credit and prepaid settlement
  source TEXT NOT NULL,                 -- payment, credit, prepaid
  entry_id BIGINT NOT NULL,
  pay_date TEXT NOT NULL,
  principal_fen BIGINT NOT NULL,
  late_fee_fen BIGINT NOT NULL,
  reversed BIGINT NOT NULL DEFAULT 0,
  created_at_us BIGINT NOT NULL
);
CREATE INDEX payment_allocations_receivable ON payment_allocations (receivable_id);
CREATE INDEX payment_allocations_payment ON payment_allocations (payment_id);

CREATE TABLE late_fee_waivers (         -- 违约金减免
  {{PK}},
  receivable_id BIGINT NOT NULL REFERENCES receivables(id),
  amount_fen BIGINT NOT NULL,
  as_of_date TEXT NOT NULL,
  reason TEXT NOT NULL,
  created_by BIGINT,
  created_at_us BIGINT NOT NULL
);
CREATE INDEX late_fee_waivers_receivable ON late_fee_waivers (receivable_id);

CREATE TABLE channel_days (             -- a channel's clearing day: open, then closed (清算)
  channel_id BIGINT NOT NULL REFERENCES payment_channels(id),
  clearing_date TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'open',  -- open, closed
  payment_count BIGINT NOT NULL DEFAULT 0,
  payment_total_fen BIGINT NOT NULL DEFAULT 0,
  reconciliation_id BIGINT,
  closed_by BIGINT,
  closed_at_us BIGINT,
  updated_at_us BIGINT NOT NULL,
  PRIMARY KEY (channel_id, clearing_date)
);

CREATE TABLE debit_batches (            -- 代扣 batches: exported file, then the return file
  {{PK}},
  batch_no TEXT NOT NULL UNIQUE,
  channel_id BIGINT NOT NULL REFERENCES payment_channels(id),
  department_id BIGINT NOT NULL,
  export_date TEXT NOT NULL,
  status TEXT NOT NULL,                 -- exported, returned, cancelled
  item_count BIGINT NOT NULL,
  total_fen BIGINT NOT NULL,
  encoding TEXT NOT NULL,
  success_count BIGINT NOT NULL DEFAULT 0,
  success_fen BIGINT NOT NULL DEFAULT 0,
  failure_count BIGINT NOT NULL DEFAULT 0,
  return_hash TEXT,
  exported_by BIGINT,
  exported_at_us BIGINT NOT NULL,
  returned_by BIGINT,
  returned_at_us BIGINT,
  version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX debit_batches_channel ON debit_batches (channel_id, id);

CREATE TABLE debit_items (
  batch_id BIGINT NOT NULL REFERENCES debit_batches(id),
  line_no BIGINT NOT NULL,
  serial TEXT NOT NULL UNIQUE,          -- 账务流水号, what the return file answers to
  receivable_id BIGINT NOT NULL REFERENCES receivables(id),
  customer_id BIGINT NOT NULL,
  customer_no TEXT NOT NULL,
  account_name TEXT NOT NULL,
  bank_account_no TEXT NOT NULL,
  period TEXT NOT NULL,
  amount_fen BIGINT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending',  -- pending, success, failed, cancelled
  debited_fen BIGINT NOT NULL DEFAULT 0,
  bank_serial TEXT,
  debit_date TEXT,
  reason TEXT,
  payment_id BIGINT,
  PRIMARY KEY (batch_id, line_no)
);
CREATE INDEX debit_items_receivable ON debit_items (receivable_id);

CREATE TABLE reconciliations (          -- 对账: a channel's check file against our receipts
  {{PK}},
  channel_id BIGINT NOT NULL REFERENCES payment_channels(id),
  clearing_date TEXT NOT NULL,
  status TEXT NOT NULL,                 -- current, superseded
  file_name TEXT NOT NULL DEFAULT '',
  bank_count BIGINT NOT NULL,
  bank_total_fen BIGINT NOT NULL,
  utility_count BIGINT NOT NULL,
  utility_total_fen BIGINT NOT NULL,
  matched_count BIGINT NOT NULL,
  bank_only_count BIGINT NOT NULL,
  utility_only_count BIGINT NOT NULL,
  mismatch_count BIGINT NOT NULL,
  imported_by BIGINT,
  imported_at_us BIGINT NOT NULL
);
CREATE INDEX reconciliations_day ON reconciliations (channel_id, clearing_date);

CREATE TABLE reconciliation_items (
  reconciliation_id BIGINT NOT NULL REFERENCES reconciliations(id),
  item_no BIGINT NOT NULL,
  category TEXT NOT NULL,               -- matched, bank_only, utility_only, amount_mismatch
  serial TEXT NOT NULL,
  file_line BIGINT,
  payment_id BIGINT,
  receipt_no TEXT,
  customer_no TEXT,
  bank_amount_fen BIGINT,
  utility_amount_fen BIGINT,
  PRIMARY KEY (reconciliation_id, item_no)
);

CREATE TABLE reminders (                -- 催缴通知: one per bill and level
  {{PK}},
  receivable_id BIGINT NOT NULL REFERENCES receivables(id),
  customer_id BIGINT NOT NULL,
  department_id BIGINT NOT NULL,
  level BIGINT NOT NULL,
  as_of_date TEXT NOT NULL,
  days_overdue BIGINT NOT NULL,
  principal_fen BIGINT NOT NULL,
  late_fee_fen BIGINT NOT NULL,
  deadline_date TEXT NOT NULL,
  created_by BIGINT,
  created_at_us BIGINT NOT NULL
);
CREATE UNIQUE INDEX reminders_bill_level ON reminders (receivable_id, level);
CREATE INDEX reminders_department ON reminders (department_id, id);

CREATE TABLE prepaid_accounts (         -- 预付费 (IC card 本地费控 or remote 远程费控)
  {{PK}},
  metering_point_id BIGINT NOT NULL UNIQUE REFERENCES metering_points(id),
  customer_id BIGINT NOT NULL REFERENCES customers(id),
  department_id BIGINT NOT NULL,
  mode TEXT NOT NULL,                   -- ic_card, remote
  card_no TEXT,
  balance_fen BIGINT NOT NULL DEFAULT 0,
  purchase_count BIGINT NOT NULL DEFAULT 0,
  total_purchased_fen BIGINT NOT NULL DEFAULT 0,
  warn_below_fen BIGINT NOT NULL DEFAULT 5000,
  disconnect_below_fen BIGINT NOT NULL DEFAULT 0,
  reconnect_above_fen BIGINT NOT NULL DEFAULT 0,
  keep_power BIGINT NOT NULL DEFAULT 0,        -- 保电: never disconnected
  control_state TEXT NOT NULL DEFAULT 'normal',  -- normal, warned, disconnected
  status TEXT NOT NULL DEFAULT 'active',
  version BIGINT NOT NULL DEFAULT 1,
  created_at_us BIGINT NOT NULL,
  updated_at_us BIGINT NOT NULL
);
CREATE INDEX prepaid_accounts_customer ON prepaid_accounts (customer_id);
CREATE INDEX prepaid_accounts_department ON prepaid_accounts (department_id, id);

CREATE TABLE prepaid_transactions (
  {{PK}},
  prepaid_account_id BIGINT NOT NULL REFERENCES prepaid_accounts(id),
  kind TEXT NOT NULL,                   -- purchase, deduction, estimate_reversal, settlement, refund
  amount_fen BIGINT NOT NULL,           -- signed change of the balance
  balance_after_fen BIGINT NOT NULL,
  business_date TEXT NOT NULL,
  method TEXT,
  purchase_count BIGINT,
  energy_dwh BIGINT,                    -- deductions: month-to-date consumption
  charge_to_date_fen BIGINT,            -- deductions: month-to-date charge
  receivable_id BIGINT,
  payment_id BIGINT,
  settled_by_receivable_id BIGINT,      -- deductions cleared by the month's bill
  entry_id BIGINT,
  created_by BIGINT,
  created_at_us BIGINT NOT NULL
);
CREATE INDEX prepaid_transactions_account ON prepaid_transactions (prepaid_account_id, id);
CREATE UNIQUE INDEX prepaid_deduction_day ON prepaid_transactions (prepaid_account_id,
  business_date) WHERE kind = 'deduction';

CREATE TABLE control_requests (         -- for the acquisition subsystem: warn, trip, close
  {{PK}},
  metering_point_id BIGINT NOT NULL REFERENCES metering_points(id),
  prepaid_account_id BIGINT REFERENCES prepaid_accounts(id),
  department_id BIGINT NOT NULL,
  kind TEXT NOT NULL,                   -- warn, disconnect, reconnect
  reason TEXT NOT NULL,
  balance_fen BIGINT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending',  -- pending, sent, confirmed, failed
  error TEXT,
  created_by BIGINT,
  created_at_us BIGINT NOT NULL,
  sent_at_us BIGINT,
  completed_at_us BIGINT,
  version BIGINT NOT NULL DEFAULT 1,
  updated_at_us BIGINT NOT NULL
);
CREATE INDEX control_requests_status ON control_requests (status, id);
CREATE INDEX control_requests_point ON control_requests (metering_point_id, id)
)sql";

// Client request ids make counter payments and prepaid purchases idempotent (a retry after a
// timeout or a double click answers the original); a debit item keeps what it was exported for,
// principal and late fee (the fee as of the export date), so its debit settles exactly that.
// Items exported before this have NULL there (the return then splits the amount).
constexpr std::string_view kRequestIds = R"sql(
ALTER TABLE payments ADD COLUMN request_id TEXT;
CREATE UNIQUE INDEX payments_request ON payments (created_by, request_id)
  WHERE request_id IS NOT NULL;
ALTER TABLE prepaid_transactions ADD COLUMN request_id TEXT;
CREATE UNIQUE INDEX prepaid_transactions_request ON prepaid_transactions (prepaid_account_id,
  request_id) WHERE request_id IS NOT NULL;
ALTER TABLE debit_items ADD COLUMN principal_fen BIGINT;
ALTER TABLE debit_items ADD COLUMN late_fee_fen BIGINT
)sql";

}  // namespace

const std::vector<store::Migration>& Migrations() {
  static const std::vector<store::Migration> kMigrations = {
      {"accounts", 1,
       "ledger, receivables, payments, channels, debit files, reconciliation, reminders, prepaid",
       kLedger},
      {"accounts", 2,
       "request ids of counter payments and prepaid purchases, debit items' principal and fee",
       kRequestIds},
  };
  return kMigrations;
}

}  // namespace gridmis::accounts
