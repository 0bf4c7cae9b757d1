// The typed-in trial (电费试算): the form as the POST /api/v1/billing/trial body, checked first
// so that a typo is caught at the field before anything is sent.
import type { RatingInput } from '@/api/meter-to-cash'
import { compareDecimal, isDecimal } from './decimal'

export interface TrialForm {
  metering_point_code: string
  period: string
  tariff_code: string
  multiplier: number
  register_integer_digits: number
  registers: string[]
  start: Record<string, string>
  end: Record<string, string>
  basic_mode: NonNullable<RatingInput['basic_mode']>
  capacity_kva: number | null
  declared_demand_kw: number | null
  pf_standard: NonNullable<RatingInput['pf_standard']>
  tier_cumulative_kwh: number | null
}

export type TrialErrors = Record<string, string>

/** Errors by field ("period", "start.total", "end.peak", ...) as message keys. */
export function validateTrial(f: TrialForm): TrialErrors {
  const e: TrialErrors = {}
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(f.period)) e.period = 'trial.errPeriod'
  if (!f.tariff_code) e.tariff_code = 'validation.required'
  if (!Number.isInteger(f.multiplier) || f.multiplier < 1) e.multiplier = 'trial.errMultiplier'
  let any = false
  for (const r of f.registers) {
    const s = (f.start[r] ?? '').trim()
    const en = (f.end[r] ?? '').trim()
    if (!s && !en) continue
    if (!isDecimal(s)) e[`start.${r}`] = 'trial.errReading'
    if (!isDecimal(en)) e[`end.${r}`] = 'trial.errReading'
    if (!e[`start.${r}`] && !e[`end.${r}`]) {
      any = true
      if (r !== 'max_demand' && f.register_integer_digits === 0 && compareDecimal(en, s) === -1) {
        e[`end.${r}`] = 'trial.errBelowStart'
      }
    }
  }
  if (!any && !e['start.total'] && !e['end.total']) e['end.total'] = 'trial.errNoReadings'
  if (f.basic_mode === 'capacity' && !(f.capacity_kva && f.capacity_kva > 0)) e.capacity_kva = 'trial.errCapacity'
  if (f.basic_mode === 'declared_demand' && !(f.declared_demand_kw && f.declared_demand_kw > 0)) {
    e.declared_demand_kw = 'trial.errDemand'
  }
  return e
}

/** The request body: only the registers typed in, readings trimmed. */
export function trialBody(f: TrialForm): RatingInput {
  const start: Record<string, string> = {}
  const end: Record<string, string> = {}
  for (const r of f.registers) {
    const s = (f.start[r] ?? '').trim()
    const en = (f.end[r] ?? '').trim()
    if (!s && !en) continue
    start[r] = s
    end[r] = en
  }
  const body: RatingInput = {
    period: f.period,
    tariff_code: f.tariff_code,
    meters: [{ multiplier: f.multiplier, register_integer_digits: f.register_integer_digits, start, end }],
    basic_mode: f.basic_mode,
    pf_standard: f.pf_standard,
  }
  if (f.metering_point_code) body.metering_point_code = f.metering_point_code
  if (f.basic_mode === 'capacity' && f.capacity_kva) body.capacity_kva = f.capacity_kva
  if (f.basic_mode === 'declared_demand' && f.declared_demand_kw) body.declared_demand_kw = f.declared_demand_kw
  if (f.tier_cumulative_kwh) body.tier_cumulative_kwh = f.tier_cumulative_kwh
  return body
}

/** The form field an API error names: "meters[0].end.total" → "end.total". */
export function trialFieldOf(apiField: string | undefined): string | undefined {
  if (!apiField) return undefined
  return apiField.replace(/^meters\[\d+\]\./, '')
}
