// Commands to terminals: which parameters each kind takes (the API refuses the others), the
// parameters of a filled form, and what the status of a command means for the console.
import type { CommandKind, CommandParams, CommandStatus } from '@/api/acquisition'

export type ParamField = keyof CommandParams

export interface CommandForm {
  round: number
  limit_half_hours: number
  alarm_delay_minutes: number
  control: string
  total_group: number
  period_flags: number
  scheme: number
  slip_minutes: number
  float_percent: number
  freeze_delay_minutes: number
  control_half_hours: number
  alarm_minutes: [number, number, number, number]
}

export const DEFAULT_FORM: CommandForm = {
  round: 1,
  limit_half_hours: 0,
  alarm_delay_minutes: 0,
  control: 'purchase_energy',
  total_group: 1,
  period_flags: 255,
  scheme: 0,
  slip_minutes: 5,
  float_percent: 0,
  freeze_delay_minutes: 1,
  control_half_hours: 2,
  alarm_minutes: [0, 0, 0, 0],
}

/**
 * The parameter fields of a kind sent `via` (undefined: the server picks; a point behind a
 * concentrator gets afn10_645, which takes no round).
 */
export function paramFields(kind: CommandKind, via: string | undefined, control?: string): ParamField[] {
  switch (kind) {
    case 'trip':
      return via === 'afn10_645' ? [] : ['round', 'limit_half_hours', 'alarm_delay_minutes']
    case 'permit_close':
      return via === 'afn10_645' ? [] : ['round']
    case 'power_control_enable':
      if (control === 'period') return ['control', 'total_group', 'period_flags', 'scheme']
      if (control === 'power_down') return ['control', 'total_group', 'slip_minutes', 'float_percent', 'freeze_delay_minutes', 'control_half_hours', 'alarm_minutes']
      return ['control', 'total_group']
    case 'power_control_release':
      return ['control', 'total_group']
    default:
      return []
  }
}

/** The params object of the form: only the fields the kind takes. */
export function commandParams(kind: CommandKind, via: string | undefined, f: CommandForm): CommandParams {
  const out: CommandParams = {}
  for (const k of paramFields(kind, via, f.control)) {
    if (k === 'alarm_minutes') out.alarm_minutes = [...f.alarm_minutes]
    else (out as Record<string, unknown>)[k] = f[k as Exclude<ParamField, 'alarm_minutes'>]
  }
  return out
}

/** Kinds that cut a customer's supply: the console asks again before sending them. */
export const DANGEROUS_KINDS: CommandKind[] = ['trip', 'power_control_enable']

export const FINAL_STATUSES: CommandStatus[] = ['confirmed', 'denied', 'timed_out', 'failed', 'cancelled']
export const isFinalStatus = (s: string) => (FINAL_STATUSES as string[]).includes(s)

export function commandStatusType(s: string): 'success' | 'danger' | 'warning' | 'info' | 'primary' {
  if (s === 'confirmed') return 'success'
  if (s === 'denied' || s === 'failed') return 'danger'
  if (s === 'timed_out') return 'warning'
  if (s === 'sent') return 'primary'
  return 'info'
}

/** A command's parameters in words: "round 1 · limit_half_hours 0" with labels. */
export function formatParams(p: CommandParams | null | undefined, label: (k: string) => string, value: (k: string, v: unknown) => string = (_, v) => String(v)): string {
  if (!p) return ''
  return Object.entries(p)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `${label(k)} ${Array.isArray(v) ? v.join('/') : value(k, v)}`)
    .join(' · ')
}
