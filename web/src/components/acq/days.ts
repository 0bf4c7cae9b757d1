// Calendar days as YYYY-MM-DD text (the API's days), moved without time zones getting in the way.
import { today } from '@/utils/format'

export const isDay = (s: unknown): s is string => typeof s === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`))

export function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`)
  d.setUTCDate(d.getUTCDate() + n)
  return d.toISOString().slice(0, 10)
}

/** Yesterday in the browser's zone: the latest day with a whole curve and a frozen row. */
export const yesterday = (now = new Date()) => addDays(today(now), -1)

/** Days from `from` to `to` inclusive (at most `limit`). */
export function daysBetween(from: string, to: string, limit = 400): string[] {
  const out: string[] = []
  for (let d = from; d <= to && out.length < limit; d = addDays(d, 1)) out.push(d)
  return out
}
