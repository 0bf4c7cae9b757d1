// Shapes of the meter-to-cash API (issue 4): tariffs and trial (src/rating/routes.cc), reading
// (src/reading/routes.cc), jobs (src/jobs/routes.cc), billing (src/billing/routes.cc) and
// accounts (src/accounts/routes.cc). Field names are the API's. Money is a yuan string
// ("1234.56") and, where the API gives it, an integer of fen; energy a kWh decimal string.

// ---- Tariffs (GET /api/v1/tariffs) ----

export type TouPeriodCode = 'sharp' | 'peak' | 'flat' | 'valley' | 'deep_valley'
export const TOU_PERIODS: TouPeriodCode[] = ['sharp', 'peak', 'flat', 'valley', 'deep_valley']

export interface SeasonPrice {
  price: string
  derivation: string
}

export interface TariffSeason {
  name: string
  months: number[]
  prices: Partial<Record<TouPeriodCode, SeasonPrice>>
}

export interface TierSchedule {
  cycle: 'year' | 'month'
  bounds: { months: number[]; upper_kwh: [number, number] }[]
  increments: [string, string]
}

export interface TariffVersion {
  code: string
  id: string
  name_zh: string
  category: string
  category_zh: string
  voltage: string
  effective_from: string
  effective_to: string | null
  pricing: 'flat' | 'tou'
  flat_price: string | null
  seasons: TariffSeason[]
  tiers: TierSchedule | null
  funds_included: boolean
  capacity_price: string | null
  demand_price: string | null
  tou_table: string | null
  sources: string[]
  label: 'V' | 'T' | 'M' | 'I'
  labels: Record<string, string>
  note: string
}

export interface Tariff {
  code: string
  name_zh: string
  category: string
  voltage: string
  versions: TariffVersion[]
}

export interface TouRange {
  from: string
  to: string
  period: TouPeriodCode
}

export interface TouTable {
  name: string
  description: string
  sources: string[]
  label: string
  seasons: { name: string; months: number[]; periods: TouRange[] }[]
}

export interface Fund {
  code: string
  name_zh: string
  rate: string
  effective_from: string
  effective_to: string | null
  exempt: string[]
  sources: string[]
  label: string
}

export interface CatalogueSource {
  id: string
  title: string
  cited_by: string
  url: string
  label: string
}

export interface LossTable {
  name: string
  description: string
  rated_kva: number
  label: string
  rows: { load_ratio: string; active_kwh: number; reactive_kvarh: number }[]
}

export interface TariffCatalogue {
  province: string
  name: string
  note: string
  policies: Record<string, unknown> & { late_fee?: Record<string, unknown> }
  sources: CatalogueSource[]
  tou_tables: TouTable[]
  loss_tables: LossTable[]
  funds: Fund[]
  tariffs: Tariff[]
}

// ---- Trial (POST /api/v1/billing/trial, /api/v1/billing/trial-stored) ----

export type Registers = Record<string, string>

export interface TrialMeterSpan {
  meter_asset_no?: string
  multiplier?: number
  register_integer_digits?: number
  start: Registers
  end: Registers
}

export interface RatingInput {
  metering_point_code?: string
  period: string
  tariff_code: string
  meters: TrialMeterSpan[]
  basic_mode?: 'none' | 'capacity' | 'declared_demand' | 'actual_demand'
  capacity_kva?: number
  declared_demand_kw?: number | null
  pf_standard?: '0.90' | '0.85' | '0.80' | 'none'
  tier_cumulative_kwh?: number
  household_multiplier?: number
  adjustment?: string
}

export interface BillLine {
  kind: string
  description: string
  tariff_code: string
  tariff_version?: string
  share?: string
  period_code: string
  tier: number
  quantity: string
  unit: string
  unit_price: string
  amount: string
  amount_fen?: number
  days?: number
  days_base?: number
  from?: string | null
  to?: string | null
  rule: string
  sources: string[]
}

export interface EnergyDerivation {
  metered: Record<string, string>
  replaced: Record<string, string>
  loss: Record<string, string>
  billed: Record<string, string>
  transformer_active_loss?: string
  transformer_reactive_loss?: string
  line_loss?: string
  max_demand_kw?: string
}

/** The trial reply of either route (typed-in reads: RatedBill; stored reads: TrialStored). */
export interface TrialResult {
  metering_point_code: string
  period: string
  tariff_code: string
  tariff_version: string
  tariff_category?: string
  read_id?: number
  first_day?: string
  last_day?: string
  energy: EnergyDerivation
  billed_kwh: number
  tier_kwh: number[]
  tier_bounds_kwh?: number[]
  tier_cumulative_before_kwh?: number
  tier_cumulative_after_kwh: number
  power_factor: string | null
  pf_standard?: string | null
  pf_adjust_rate: string | null
  energy_charge: string
  basic_charge: string
  pf_charge: string
  fund_charge: string
  total: string
  total_fen?: number
  review_flags?: string[]
  lines: BillLine[]
  notes?: string[]
}

// ---- Reading ----

export interface ReadingSegment {
  id: number
  code: string
  name: string
  department_id: number
  reading_day: number
  cycle: 'monthly' | 'bimonthly'
  read_months: number[]
  reader_user_id: number | null
  reader_name?: string
  status: 'active' | 'inactive'
  point_count?: number
  version: number
  created_at?: string
  updated_at?: string
}

export interface SegmentPoint {
  metering_point_id: number
  code: string
  name?: string
  customer_no?: string
  customer_name?: string
  department_id?: number
  added_at?: string
}

export type PlanStatus = 'planned' | 'reading' | 'reviewing' | 'completed'

export interface ReadingPlan {
  id: number
  segment_id: number
  segment_code?: string
  segment_name?: string
  period: string
  reading_date: string
  department_id?: number
  reader_user_id?: number | null
  status: PlanStatus
  point_count: number
  read_count: number
  flagged_count: number
  approved_count: number
  estimated_count?: number
  missing_count: number
  version?: number
}

export interface PointIssue {
  metering_point_id: number
  point_code: string
  message: string
}

export interface CollectResult {
  plan_id: number
  frozen_day?: string
  collected: number
  approved?: number
  flagged?: number
  already_read?: number
  missing: number
  issues: PointIssue[]
}

export interface EstimateResult {
  plan_id: number
  estimated: number
  already_read?: number
  issues: PointIssue[]
}

export const READ_RULES = [
  'zero_use',
  'above_last_month',
  'below_last_month',
  'above_last_year',
  'below_last_year',
  'below_previous',
  'meter_replaced',
  'estimated',
  'tou_mismatch',
  'multiplier_changed',
  'previous_unreviewed',
] as const

export interface MeterRead {
  id: number
  metering_point_id: number
  point_code?: string
  department_id?: number
  period: string
  plan_id?: number | null
  installation_id?: number
  meter_asset_no?: string
  read_date: string
  registers: Registers
  multiplier?: number
  source: string
  status: 'pending' | 'flagged' | 'approved' | 'superseded'
  flags: string[]
  findings: { rule: string; message: string }[]
  rollover?: string[]
  billable: boolean
  consumption_kwh?: string | null
  first_day?: string
  days?: number
  corrected_from?: number | null
  corrected_by?: number | null
  note?: string
  version: number
}

export interface ReadImportResult {
  import_id: number
  lines: number
  reads: number
  approved: number
  flagged: number
  charset?: string
}

/** One rejected line of an imported file (reads, bank return and check files). */
export interface LineError {
  line: number
  message: string
  field?: string
}

// ---- Jobs ----

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled'

export interface Job {
  id: number
  kind: string
  params?: Record<string, unknown>
  department_id?: number | null
  status: JobStatus
  stage?: string
  done: number
  total: number
  percent?: number
  result?: Record<string, unknown> | null
  error?: string
  cancel_requested?: boolean
  created_by?: number | null
  created_by_name?: string
  attempts?: number
  created_at?: string
  started_at?: string | null
  finished_at?: string | null
  heartbeat_at?: string | null
  version?: number
}

// ---- Billing ----

export const BILL_STATUSES = ['calculated', 'review', 'held', 'approved', 'issued', 'cancelled'] as const
export type BillStatus = (typeof BILL_STATUSES)[number]

export interface Bill {
  id: number
  bill_no: string
  metering_point_id: number
  metering_point_code: string
  metering_point_name?: string
  customer_id: number
  customer_no: string
  customer_name: string
  account_id?: number | null
  department_id: number
  period: string
  seq: number
  status: BillStatus
  tariff_code: string
  tariff_version?: string
  customer_category?: string
  first_day: string
  last_day: string
  billed_kwh: number
  tier_kwh?: number[]
  power_factor?: string | null
  pf_adjust_rate?: string | null
  energy_charge: string
  basic_charge: string
  pf_charge: string
  fund_charge: string
  total: string
  total_fen: number
  run_id?: number | null
  read_id?: number
  read_source?: string
  review_flags: string[]
  review_note?: string
  due_date?: string | null
  approved_at?: string | null
  issued_at?: string | null
  cancelled_at?: string | null
  cancel_reason?: string | null
  replaces_bill_id?: number | null
  created_at?: string
  updated_at?: string
  version: number
  lines?: BillLine[]
  detail?: Record<string, unknown> | null
}

export interface RunException {
  metering_point_id: number
  metering_point_code: string
  read_id?: number
  code: string
  message: string
}

export interface BillRunSummary {
  bills: number
  total: string
  total_fen: number
  exceptions: number
  unbillable: number
  review: number
  skipped: number
  elapsed_ms: number
}

export interface BillRun {
  id: number
  job_id: number
  department_id: number
  segment_id: number | null
  period: string
  change_threshold_pct?: number
  status: JobStatus
  stage: string
  done: number
  total_points: number
  error: string
  summary: BillRunSummary | null
  started_by?: number | null
  started_by_name?: string
  created_at?: string
  finished_at?: string | null
  exceptions?: RunException[]
  exceptions_total?: number
}

// ---- Accounts (src/accounts/routes.cc) ----

export interface ArrearsBill {
  receivable_id: number
  bill_id: number
  bill_no: string
  period: string
  amount: string
  principal: string
  late_fee: string
  due_date: string
  days_overdue: number
  frozen: boolean
}

export interface Arrears {
  customer_id: number
  customer_no: string
  name: string
  address: string
  department_id: number
  as_of: string
  bills: ArrearsBill[]
  principal: string
  late_fee: string
  total: string
  credit: string
  prepaid_account_id: number | null
  prepaid_balance: string | null
}

export interface ReceiptLine {
  receivable_id: number
  bill_no: string
  period: string
  principal: string
  late_fee: string
}

export type PayMethod = 'cash' | 'card' | 'transfer'
export const PAY_METHODS: PayMethod[] = ['cash', 'card', 'transfer']

export interface Receipt {
  payment_id: number
  receipt_no: string
  customer_id: number
  customer_no: string
  customer_name: string
  customer_address?: string
  department_id: number
  department_name?: string
  source: 'counter' | 'channel' | 'debit'
  channel_id?: number | null
  channel_code?: string | null
  method: string
  serial?: string | null
  amount: string
  tendered?: string | null
  change: string
  principal: string
  late_fee: string
  credit: string
  prepaid: string
  prepaid_account_id?: number | null
  pay_date: string
  txn_time?: string | null
  clearing_date: string
  lines: ReceiptLine[]
  status: 'posted' | 'reversed'
  reversed_at?: string | null
  reversal_reason?: string | null
  cashier: string
  created_at?: string
  version: number
  duplicate?: boolean
  printable?: string
}

export interface Receivable {
  id: number
  bill_id: number
  bill_no: string
  customer_id: number
  customer_no: string
  customer_name: string
  department_id: number
  period: string
  category?: string
  amount: string
  principal_paid: string
  outstanding: string
  late_fee_accrued: string
  late_fee_paid: string
  late_fee_waived: string
  late_fee_due: string
  as_of: string
  issue_date: string
  due_date: string
  days_overdue: number
  status: 'open' | 'paid' | 'cancelled'
  settled_date: string | null
  debit_batch_id: number | null
  frozen?: boolean
  version: number
}

export interface StatementLine {
  entry_id: number
  business_date: string
  kind: string
  memo: string
  amount: string
  late_fee: string
  change: string
  balance: string
}

export interface Statement {
  customer_id: number
  customer_no: string
  customer_name: string
  from: string
  to: string
  opening_balance: string
  charges: string
  payments: string
  closing_balance: string
  lines: StatementLine[]
}

export interface AgingRow {
  department_id: number
  department_name: string
  current: string
  d0_30: string
  d31_60: string
  d61_90: string
  d90_plus: string
  overdue: string
  overdue_bills: number
  overdue_customers: number
}

export interface Aging {
  as_of: string
  rows: AgingRow[]
  total: AgingRow
}

export interface ArrearsCustomer {
  customer_id: number
  customer_no: string
  name: string
  department_id: number
  overdue_bills: number
  principal: string
  late_fee: string
  total: string
  oldest_due_date: string
  max_days_overdue: number
}

export interface Reminder {
  id: number
  receivable_id: number
  bill_no: string
  period: string
  customer_id: number
  customer_no: string
  customer_name: string
  department_id: number
  level: number
  title?: string
  as_of: string
  days_overdue: number
  amount: string
  principal: string
  late_fee: string
  due_date: string
  deadline: string
  created_at?: string
  notice?: string
}

export interface ReminderRun {
  as_of: string
  created: number
  existing: number
  bills: number
}

export interface PaymentChannel {
  id: number
  code: string
  name: string
  kind: 'bank' | 'third_party'
  user_id: number | null
  username?: string
  bank_name: string | null
  file_encoding: 'utf8' | 'gbk'
  allow_partial: boolean
  status: 'active' | 'suspended'
  ledger_account?: string
  version: number
}

export interface ChannelDay {
  channel_id: number
  clearing_date: string
  status: 'open' | 'closed'
  payment_count?: number
  payment_total?: string
  reconciliation_id?: number | null
  closed_at?: string | null
}

export interface DebitItem {
  line_no: number
  serial: string
  receivable_id: number
  customer_id: number
  customer_no: string
  account_name: string
  bank_account_no: string
  period: string
  amount: string
  status: 'pending' | 'success' | 'failed' | 'cancelled'
  debited: string
  bank_serial: string | null
  debit_date: string | null
  reason: string | null
  payment_id: number | null
}

export interface DebitBatch {
  id: number
  batch_no: string
  channel_id: number
  channel_code: string
  department_id: number
  export_date: string
  status: 'exported' | 'returned' | 'cancelled'
  item_count: number
  total: string
  encoding: string
  success_count: number
  success_total: string
  failure_count: number
  exported_at: string
  returned_at: string | null
  version: number
  skipped?: string[]
  items?: DebitItem[]
}

export interface ReconciliationItem {
  item_no: number
  category: 'matched' | 'bank_only' | 'utility_only' | 'amount_mismatch'
  serial: string
  file_line: number | null
  payment_id: number | null
  receipt_no: string | null
  customer_no: string | null
  bank_amount: string | null
  utility_amount: string | null
}

export interface Reconciliation {
  id: number
  channel_id: number
  channel_code: string
  clearing_date: string
  status: 'current' | 'superseded'
  file_name: string
  bank_count: number
  bank_total: string
  utility_count: number
  utility_total: string
  matched_count: number
  bank_only_count: number
  utility_only_count: number
  mismatch_count: number
  balanced: boolean
  day_status: 'open' | 'closed'
  imported_at: string
  items?: ReconciliationItem[]
}

// ---- Prepaid ----

export interface PrepaidAccount {
  id: number
  metering_point_id: number
  point_code: string
  tariff_code: string
  customer_id: number
  customer_no: string
  customer_name: string
  department_id: number
  mode: 'ic_card' | 'remote'
  card_no: string | null
  balance: string
  purchase_count: number
  total_purchased: string
  warn_below: string
  disconnect_below: string
  reconnect_above: string
  keep_power: boolean
  control_state: 'normal' | 'warned' | 'disconnected'
  status: 'active' | 'closed'
  version: number
  created_at?: string
  updated_at?: string
}

export interface PrepaidTransaction {
  id: number
  prepaid_account_id: number
  kind: string
  amount: string
  balance_after: string
  business_date: string
  method: string | null
  purchase_count: number | null
  energy_kwh: string | null
  charge_to_date: string | null
  created_at: string
}

export interface PurchaseResult {
  account: PrepaidAccount
  transaction: PrepaidTransaction
  card_write: { card_no: string; purchase_count: number; amount: string; total_purchased: string } | null
}

export interface ControlRequest {
  id: number
  metering_point_id: number
  point_code: string
  prepaid_account_id: number | null
  department_id: number
  kind: 'warn' | 'disconnect' | 'reconnect'
  reason: string
  balance: string
  status: 'pending' | 'sent' | 'confirmed' | 'failed'
  error: string | null
  created_at: string
  sent_at: string | null
  completed_at: string | null
  version: number
}
