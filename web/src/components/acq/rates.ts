// Acquisition success rates (采集成功率): the API's rate strings ("98.75", floored to hundredths)
// compared as integers of hundredths, never as floats, and coloured by threshold.

/** "98.75" → 9875, "100" → 10000, "99.5" → 9950; null for anything else. */
export function rateHundredths(rate: string | null | undefined): number | null {
  if (rate === null || rate === undefined) return null
  const m = String(rate).trim().match(/^(\d{1,3})(?:\.(\d{1,2})\d*)?$/)
  if (!m) return null
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'))
}

/** The rate of collected of expected, floored to hundredths, as the API writes it; null when nothing was expected. */
export function rateOf(collected: number, expected: number): string | null {
  if (!(expected > 0)) return null
  const h = Math.floor((Math.max(0, collected) * 10000) / expected)
  const whole = Math.floor(h / 100)
  const frac = h % 100
  return `${whole}.${String(frac).padStart(2, '0')}`
}

export interface RateThresholds {
  /** at or above: good (green); hundredths of a percent */
  good: number
  /** at or above: fair (amber); below: poor (red) */
  fair: number
}
/** The usual targets: 98 % for daily frozen collection, 95 % the floor. */
export const DEFAULT_THRESHOLDS: RateThresholds = { good: 9800, fair: 9500 }

export type RateLevel = 'good' | 'fair' | 'poor' | 'none'

export function rateLevel(rate: string | null | undefined, th: RateThresholds = DEFAULT_THRESHOLDS): RateLevel {
  const h = rateHundredths(rate)
  if (h === null) return 'none'
  if (h >= th.good) return 'good'
  if (h >= th.fair) return 'fair'
  return 'poor'
}

export const RATE_COLORS: Record<RateLevel, string> = {
  good: '#3a9b5c',
  fair: '#d98e04',
  poor: '#d9534f',
  none: '#9aa5b1',
}

/** The el-tag / el-progress type of a level. */
export function rateTagType(level: RateLevel): 'success' | 'warning' | 'danger' | 'info' {
  return level === 'good' ? 'success' : level === 'fair' ? 'warning' : level === 'poor' ? 'danger' : 'info'
}

/** "98.75 %" or "–". */
export function formatRate(rate: string | null | undefined): string {
  return rate === null || rate === undefined ? '–' : `${rate} %`
}
