// Shapes of the acquisition API (issue 5): terminal online states, collected registers, curves
// and events, success statistics and collection tasks (src/acquisition/routes_collection.cc);
// commands, on-demand reads, the communication log and the front end's figures
// (src/acquisition/routes_commands.cc); the VEE review list (src/acquisition/routes_vee.cc).
// Field names are the API's; energy is a kWh decimal string, never a float; a missing value
// (EEH) is null. The paths are here, in one place.
import { api } from './client'
import type { Page } from './types'
import type { Job } from './meter-to-cash'

// ---- Terminal online state ----

/** One installed terminal with its last known state (GET /acquisition/terminal-states). */
export interface TerminalStateRow {
  terminal_id: number
  asset_no: string
  address: string
  kind: string
  department_id: number
  meter_count: number
  online: boolean
  /** false: the front end never saw it log in */
  seen: boolean
  peer: string | null
  login_at: string | null
  last_seen_at: string | null
  offline_at: string | null
  offline_reason: string | null
  logins: number
}

export interface TerminalStateCounts {
  total: number
  online: number
  offline: number
  never_seen: number
  by_kind: { kind: string; total: number; online: number }[]
}

/** GET /terminals/{id}/link: the live link in the front end. */
export interface TerminalLink {
  terminal_id: number
  terminal_address: string
  online: boolean
  peer: string
  login_at: string | null
  last_seen: string | null
  frames_in: number
  frames_out: number
  bad_frames: number
  queued_requests: number
}

// ---- Communication log ----

/** What frame_json.cc makes of a frame (the keys the console reads; the tree shows all). */
export interface DecodedFrame {
  protocol?: string
  error?: string
  hex?: string
  afn?: string
  afn_name?: string
  control?: { dir?: string; func_name?: string; func?: string | number; abnormal?: boolean }
  address?: { terminal?: string } | string
  groups?: { pns?: number[]; fns?: number[]; items?: { pn: number; fn: number; name?: string; error?: string }[] }[]
  confirm?: { afn?: string; afn_name?: string; units?: { pn: number; fn: number; err: number; ok: boolean }[] }
  di?: string
  di_name?: string
  err_text?: string
  [k: string]: unknown
}

export interface CommLogEntry {
  seq: number
  at: string
  direction: 'in' | 'out'
  terminal_address: string | null
  peer: string
  hex: string
  decoded: DecodedFrame | null
  note: string
}

export interface CommLogPage {
  items: CommLogEntry[]
  next_before: number | null
}

export type FrontEndStats = Record<string, number>
export const FRONT_END_STATS = [
  'connections_open',
  'terminals_online',
  'connections_accepted',
  'logins',
  'refused_unknown',
  'frames_in',
  'frames_out',
  'bytes_in',
  'bytes_out',
  'bad_frames',
  'rate_limited',
  'requests',
  'request_timeouts',
  'request_retries',
  'denied',
  'reports',
] as const

// ---- Commands ----

export const COMMAND_KINDS = [
  'time_sync',
  'trip',
  'permit_close',
  'power_control_enable',
  'power_control_release',
  'urge_alarm_on',
  'urge_alarm_off',
] as const
export type CommandKind = (typeof COMMAND_KINDS)[number]
export const COMMAND_STATUSES = ['pending', 'sent', 'confirmed', 'denied', 'timed_out', 'failed', 'cancelled'] as const
export type CommandStatus = (typeof COMMAND_STATUSES)[number]
export const COMMAND_VIAS = ['afn05', 'afn10_645'] as const
export const POWER_CONTROLS = ['period', 'rest_day', 'business_stop', 'power_down', 'monthly_energy', 'purchase_energy'] as const

export interface CommandParams {
  round?: number
  limit_half_hours?: number
  alarm_delay_minutes?: number
  control?: string
  total_group?: number
  period_flags?: number
  scheme?: number
  slip_minutes?: number
  float_percent?: number
  freeze_delay_minutes?: number
  control_half_hours?: number
  alarm_minutes?: number[]
}

export interface CommandInput {
  terminal_id?: number
  metering_point_id?: number
  kind: CommandKind
  via?: 'afn05' | 'afn10_645'
  params?: CommandParams
  /** Why: required for trip and power_control_enable; audited. */
  reason?: string
}

export interface TerminalCommand {
  id: number
  reason?: string
  terminal_id: number
  terminal_address: string
  terminal_kind: string
  metering_point_id: number | null
  point_code: string | null
  point_no: number | null
  meter_address: string | null
  port: number | null
  baud_rate: number | null
  department_id: number
  kind: CommandKind
  params: CommandParams
  via: 'afn05' | 'afn10_645'
  status: CommandStatus
  attempts: number
  request_hex: string | null
  request_decoded?: DecodedFrame | null
  answer_hex: string | null
  answer_decoded?: DecodedFrame | null
  answer_text: string | null
  control_request_id: number | null
  issued_by: number | null
  issued_by_name: string
  created_at: string
  expires_at: string
  sent_at: string | null
  completed_at: string | null
  updated_at: string
  version: number
}

// ---- On-demand read (召测) ----

export const READ_ITEMS = ['energy', 'power', 'clock'] as const
export type ReadItem = (typeof READ_ITEMS)[number]

export interface ReadNowValue {
  item: string
  source: string
  name: string
  value: string | null
  unit: string
}

export interface FrameRecord {
  direction: 'in' | 'out'
  hex: string
  note: string
  decoded: DecodedFrame | null
}

export interface ReadNowResult {
  metering_point_id: number
  terminal_id: number
  terminal_address: string
  point_no: number
  via: string
  read_at: string
  values: ReadNowValue[]
  errors: string[]
  frames: FrameRecord[]
}

// ---- Collected data ----

export type Registers = Record<string, string>

/** A daily frozen row: `day` D holds the registers frozen at 00:00 of D. */
export interface DailyFrozenRow {
  metering_point_id: number
  day: string
  multiplier: number
  registers: Registers
  quality: string
}

export interface MonthlyFrozenRow {
  metering_point_id: number
  month: string
  multiplier: number
  registers: Registers
  reading_time?: string | null
  quality: string
}

/**
 * 96 interval values (kWh strings, null = missing) and one quality letter per value (V S E D M).
 * The VEE routes give `quality` as the letters; the collection route gives the names in `quality`
 * and the letters in `quality_flags` (normalizeCurve makes them one shape).
 */
export interface CurveData {
  metering_point_id: number
  day: string
  quantity: string
  interval_minutes: number
  multiplier: number
  values: (string | null)[]
  quality: string
  times?: string[]
  total?: string | null
  missing?: number
}

interface RawCurve extends Omit<CurveData, 'quality'> {
  quality: string | string[]
  quality_flags?: string
}

const QUALITY_LETTER: Record<string, string> = { valid: 'V', suspect: 'S', estimated: 'E', edited: 'D', missing: 'M' }

/** A curve of either route with `quality` as one letter per value. */
export function normalizeCurve(raw: RawCurve): CurveData {
  let quality: string
  if (typeof raw.quality_flags === 'string') quality = raw.quality_flags
  else if (typeof raw.quality === 'string') quality = raw.quality
  else quality = (raw.quality ?? []).map((q) => QUALITY_LETTER[q] ?? 'M').join('')
  return { ...raw, quality }
}

export interface MeterEvent {
  id: number
  terminal_id: number
  metering_point_id: number | null
  erc: number
  kind: string
  meaning: string
  occurred_at: string
  ended_at: string | null
  detail?: unknown
  received_at: string
}

// ---- Statistics, results, tasks ----

export const COLLECTION_KINDS = ['daily_frozen', 'monthly_frozen', 'curve', 'events'] as const

export interface SuccessRow {
  key: string
  label: string
  depth?: number
  terminals: number
  failed_terminals: number
  expected_points: number
  collected_points: number
  rate_percent: string | null
}

export interface CollectionResult {
  day: string
  kind: string
  terminal_id: number
  terminal_address: string
  terminal_asset_no: string
  terminal_kind: string
  department_id: number
  expected_points: number
  collected_points: number
  billing_expected: number
  billing_collected: number
  missing_count: number
  /** the first 100 missing points */
  missing_points: { metering_point_id: number; code: string }[]
  missing_values: number
  attempts: number
  status: 'complete' | 'partial' | 'failed'
  last_error: string
  job_id: number | null
  first_attempt_at?: string
  last_attempt_at?: string
}

export interface CollectionTask {
  id: number
  name: string
  kind: string
  department_id: number
  time_of_day: string
  day_of_month: number
  catch_up_days: number
  enabled: boolean
  version: number
  last_run_key?: string | null
  last_job_id?: number | null
}

// ---- VEE ----

export const VEE_RULES = ['rollover', 'reverse', 'spike', 'zero_run', 'curve_sum', 'clock_drift', 'tou_sum'] as const
export const VEE_STATUSES = ['open', 'accepted', 'corrected', 'dismissed'] as const

export interface VeeIssue {
  id: number
  metering_point_id: number | null
  point_code: string
  terminal_id: number | null
  department_id: number
  day: string
  rule: string
  severity: 'info' | 'suspect'
  detail: string
  status: string
  note: string
  detected_at: string
  updated_at: string
  resolved_by: number | null
  resolved_by_name: string | null
  resolved_at: string | null
  version: number
}

export interface VeeDay {
  day: string
  quality: 'valid' | 'estimated' | 'edited' | 'suspect' | 'missing'
  registers: Registers | null
  multiplier: number | null
  use: string | null
  open_rules: string[]
}

export interface VeeIssueDetail {
  issue: VeeIssue
  point_name: string
  days: VeeDay[]
  curve: CurveData | null
}

export interface VeeEstimateResult {
  metering_point_id: number
  from: string
  to: string
  daily_frozen: DailyFrozenRow[]
  frozen_without_basis: number
  curve_days: number
  curve_values: number
  curve_values_without_basis: number
}

// ---- Paths and calls ----

type Query = Record<string, string | number | boolean | null | undefined>

export const PATHS = {
  terminalStates: 'acquisition/terminal-states',
  terminalStateSummary: 'acquisition/terminal-states/summary',
  frontEnd: 'acquisition/front-end',
  statistics: 'acquisition/statistics',
  failures: 'acquisition/failures',
  results: 'acquisition/collection-results',
  events: 'acquisition/events',
  tasks: 'acquisition/collection-tasks',
  collections: 'acquisition/collections',
  commands: 'terminal-commands',
  veeIssues: 'vee/issues',
  commLog: (terminalId: number) => `terminals/${terminalId}/comm-log`,
  link: (terminalId: number) => `terminals/${terminalId}/link`,
  dailyFrozen: (pointId: number) => `acquisition/metering-points/${pointId}/daily-frozen`,
  monthlyFrozen: (pointId: number) => `acquisition/metering-points/${pointId}/monthly-frozen`,
  curve: (pointId: number) => `acquisition/metering-points/${pointId}/curve`,
  readNow: (pointId: number) => `metering-points/${pointId}/read-now`,
  runTask: (taskId: number) => `acquisition/collection-tasks/${taskId}/run`,
}

export const acq = {
  terminalStates: (q: Query) => api.get<Page<TerminalStateRow>>(PATHS.terminalStates, q),
  terminalStateSummary: (q: Query = {}) => api.get<TerminalStateCounts>(PATHS.terminalStateSummary, q),
  link: (terminalId: number) => api.get<TerminalLink>(PATHS.link(terminalId)),
  commLog: (terminalId: number, q: { before?: number; limit?: number }) => api.get<CommLogPage>(PATHS.commLog(terminalId), q),
  frontEnd: () => api.get<FrontEndStats>(PATHS.frontEnd),
  statistics: (q: Query) => api.get<{ items: SuccessRow[] }>(PATHS.statistics, q),
  failures: (q: Query) => api.get<Page<CollectionResult>>(PATHS.failures, q),
  results: (q: Query) => api.get<Page<CollectionResult>>(PATHS.results, q),
  events: (q: Query) => api.get<Page<MeterEvent>>(PATHS.events, q),
  tasks: () => api.get<{ items: CollectionTask[] }>(PATHS.tasks),
  runTask: (taskId: number, body: { day?: string; month?: string } = {}) => api.post<Job>(PATHS.runTask(taskId), body),
  dailyFrozen: (pointId: number, from: string, to: string) =>
    api.get<{ items: DailyFrozenRow[] }>(PATHS.dailyFrozen(pointId), { from, to }),
  monthlyFrozen: (pointId: number, from: string, to: string) =>
    api.get<{ items: MonthlyFrozenRow[] }>(PATHS.monthlyFrozen(pointId), { from, to }),
  curve: async (pointId: number, day: string) => normalizeCurve(await api.get<RawCurve>(PATHS.curve(pointId), { day })),
  readNow: (pointId: number, body: { items?: ReadItem[]; via?: 'terminal' | 'afn10_645' }) =>
    api.post<ReadNowResult>(PATHS.readNow(pointId), body),
  commandsPage: (q: Query) => api.get<Page<TerminalCommand>>(PATHS.commands, q),
  command: (id: number) => api.get<TerminalCommand>(`${PATHS.commands}/${id}`),
  issueCommand: (input: CommandInput) => api.post<TerminalCommand>(PATHS.commands, input),
  cancelCommand: (c: TerminalCommand) => api.post<TerminalCommand>(`${PATHS.commands}/${c.id}/cancel`, { version: c.version }),
  veeIssue: async (id: number) => {
    const d = await api.get<VeeIssueDetail>(`${PATHS.veeIssues}/${id}`)
    return { ...d, curve: d.curve ? normalizeCurve(d.curve) : null }
  },
  veeResolve: (i: VeeIssue, action: 'accept' | 'dismiss', note: string) =>
    api.post<VeeIssue>(`${PATHS.veeIssues}/${i.id}/${action}`, { version: i.version, note }),
  veeEstimate: (pointId: number, from: string, to: string) =>
    api.post<VeeEstimateResult>('vee/estimate', { metering_point_id: pointId, from, to }),
  veeEditDailyFrozen: (body: { metering_point_id: number; day: string; registers: Registers; previous: Registers | null; reason: string }) =>
    api.put<DailyFrozenRow>('vee/daily-frozen', body),
  veeEditCurveValue: (body: { metering_point_id: number; day: string; interval: number; value: string; previous: string | null; reason: string }) =>
    api.put<RawCurve>('vee/curve-values', body).then(normalizeCurve),
}
