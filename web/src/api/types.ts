// Shapes of the gridmis JSON API (/api/v1, see `gridmis openapi`). Field names are the API's.

export interface Page<T> {
  items: T[]
  page: number
  page_size: number
  total: number
  /** Some lists count at most 10,000 (customers) and say so. */
  total_capped?: boolean
}

export type DepartmentKind = 'company' | 'city' | 'county' | 'station' | 'office'

export interface Department {
  id: number
  code: string
  name: string
  kind: DepartmentKind
  parent_id: number | null
  path: string
  status: string
  sort_order: number
  version: number
  created_at?: string
  updated_at?: string
}

export interface User {
  id: number
  username: string
  display_name: string
  department_id: number
  phone: string | null
  email: string | null
  status: string
  must_change_password: boolean
  failed_logins: number
  locked_until: string | null
  last_login_at: string | null
  roles: string[]
  version: number
  created_at?: string
  updated_at?: string
}

export interface Me {
  user: User
  department?: Department
  permissions: string[]
  roles?: string[]
  data_scope: string
  auth_method?: string
  session_idle_seconds?: number
}

export interface Role {
  id: number
  code: string
  name: string
  category: string
  data_scope: string
  builtin: boolean
  description: string
  permissions: string[]
  version: number
}

export interface Permission {
  code: string
  name_zh: string
  name_en: string
}

export interface AuditEntry {
  id: number
  at: string
  user_id: number
  username: string
  action: string
  entity: string
  entity_id: string
  before: Record<string, unknown> | null
  after: Record<string, unknown> | null
  remote_ip: string
  department_id: number
}

export type CustomerCategory =
  | 'residential'
  | 'commercial'
  | 'large_industry'
  | 'agricultural'
  | 'other'
export const CUSTOMER_CATEGORIES: CustomerCategory[] = [
  'residential',
  'commercial',
  'large_industry',
  'agricultural',
  'other',
]
export const CUSTOMER_STATUSES = ['active', 'suspended', 'closed'] as const
export const ID_DOC_TYPES = ['resident_id', 'unified_credit_code', 'passport', 'other'] as const

export interface Customer {
  id: number
  customer_no: string
  name: string
  category: CustomerCategory
  id_doc_type: string | null
  id_doc_no: string | null
  address: string
  postal_address: string | null
  phone: string | null
  mobile: string | null
  email: string | null
  status: string
  department_id: number
  transformer_area_id: number | null
  account_manager_id: number | null
  opened_on: string | null
  closed_on: string | null
  remark: string
  version: number
  created_at?: string
  updated_at?: string
}

export interface Contact {
  id: number
  customer_id: number
  name: string
  role: string
  phone: string | null
  email: string | null
  is_primary: boolean
  version: number
}

export interface Account {
  id: number
  account_no: string
  customer_id: number
  name: string
  payment_method: string
  bank_name: string | null
  bank_account_no: string | null
  invoice_title: string | null
  tax_no: string | null
  status: string
  department_id: number
  version: number
}

export type Readings = Record<string, string>

export interface Meter {
  id: number
  asset_no: string
  make: string
  model: string
  phases: number
  accuracy_class: string
  rated_current: string
  registers: string[]
  ct_ratio: string
  pt_ratio: string
  multiplier: number
  comm_address: string | null
  protocol: string
  status: string
  department_id: number
  production_date: string | null
  installed_point_id: number | null
  version: number
}

export interface CurrentMeter extends Meter {
  installation_id: number
  installed_at: string
  install_readings: Readings
}

export interface Installation {
  id: number
  meter_id: number
  metering_point_id: number
  installed_at: string
  removed_at: string | null
  install_reason: string
  remove_reason: string | null
  ct_ratio: string
  pt_ratio: string
  multiplier: number
  install_readings: Readings
  remove_readings: Readings | null
  meter: Meter
  version: number
}

export interface MeteringPoint {
  id: number
  code: string
  name: string
  customer_id: number
  customer_no?: string
  customer_name?: string
  transformer_area_id: number | null
  department_id: number
  voltage_v: number
  tariff_code: string
  contracted_capacity_kva: number
  pf_standard: string
  metering_side: string
  purpose: string
  status: string
  current_meter_id: number | null
  current_meter_asset_no: string | null
  version: number
}

export interface MeteringPoint360 extends MeteringPoint {
  current_meter: CurrentMeter | null
  installations: Installation[]
}

export interface TerminalMeter {
  id: number
  terminal_id: number
  meter_id: number
  meter_asset_no: string
  meter_comm_address: string | null
  point_no: number
  port: number
  baud_rate: number
  protocol: string
  version: number
}

export type TerminalKind =
  | 'public_transformer'
  | 'special_transformer'
  | 'large_customer'
  | 'substation'
export const TERMINAL_KINDS: TerminalKind[] = [
  'public_transformer',
  'special_transformer',
  'large_customer',
  'substation',
]

export interface Terminal {
  id: number
  asset_no: string
  kind: TerminalKind
  area_code: string
  address: number
  address_text: string
  make: string
  model: string
  protocol: string
  comm_mode: string
  sim_no: string | null
  department_id: number
  transformer_area_id: number | null
  customer_id: number | null
  substation_id: number | null
  status: string
  installed_on: string | null
  meter_count: number
  meters?: TerminalMeter[]
  version: number
}

export interface Customer360 {
  customer: Customer
  contacts: Contact[]
  accounts: Account[]
  metering_points?: MeteringPoint360[]
  terminals?: Terminal[]
}

export interface Substation {
  id: number
  code: string
  name: string
  voltage_v: number
  department_id: number
  address: string
  status: string
  feeder_count: number
  version: number
}

export interface Feeder {
  id: number
  code: string
  name: string
  substation_id: number
  substation_name: string
  voltage_v: number
  department_id: number
  status: string
  transformer_area_count: number
  version: number
}

export interface TransformerArea {
  id: number
  code: string
  name: string
  feeder_id: number
  feeder_name: string
  substation_id: number
  department_id: number
  capacity_kva: number
  ownership: string
  address: string
  status: string
  metering_point_count: number
  version: number
}

export interface CountyCounts {
  department_id: number
  department_name: string
  department_kind?: string
  total: number
  by_category: Record<string, number>
}

/** GET /api/v1/stats/overview: each section only with its read permission. */
export interface StatsOverview {
  data_scope: string
  department_id: number
  customers?: { total: number; by_category: Record<string, number> }
  customers_by_county?: CountyCounts[]
  metering_points?: { total: number; by_status: Record<string, number> }
  meters?: { total: number; by_status: Record<string, number> }
  terminals?: { total: number; by_kind: Record<string, number> }
}
