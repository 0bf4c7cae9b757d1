// The TOU period table as a 24-hour strip: each range's share of the day, for drawing.
import type { TouPeriodCode, TouRange } from '@/api/meter-to-cash'

export const TOU_COLORS: Record<TouPeriodCode, string> = {
  sharp: '#c62828',
  peak: '#ef6c00',
  flat: '#f9c74f',
  valley: '#4e86c6',
  deep_valley: '#1d3f72',
}

export interface StripSegment {
  period: TouPeriodCode
  from: string
  to: string
  /** minutes since midnight */
  start: number
  end: number
  /** share of the day in percent */
  width: number
}

export function minutesOf(hhmm: string): number {
  const m = hhmm.match(/^(\d{1,2}):(\d{2})$/)
  if (!m) return NaN
  return Number(m[1]) * 60 + Number(m[2])
}

/** The ranges of a season as strip segments, in time order; throws when they do not cover 00:00-24:00 without gaps. */
export function stripSegments(ranges: TouRange[]): StripSegment[] {
  const out = ranges
    .map((r) => ({ period: r.period, from: r.from, to: r.to, start: minutesOf(r.from), end: minutesOf(r.to), width: 0 }))
    .sort((a, b) => a.start - b.start)
  let at = 0
  for (const s of out) {
    if (!(s.start === at && s.end > s.start && s.end <= 1440)) {
      throw new Error(`TOU ranges do not cover the day: ${s.from}-${s.to} after ${Math.floor(at / 60)}:${String(at % 60).padStart(2, '0')}`)
    }
    s.width = ((s.end - s.start) / 1440) * 100
    at = s.end
  }
  if (at !== 1440) throw new Error('TOU ranges end before 24:00')
  return out
}

/** Hours per period over the day: {peak: 6, flat: 9, ...}. */
export function hoursByPeriod(ranges: TouRange[]): Partial<Record<TouPeriodCode, number>> {
  const out: Partial<Record<TouPeriodCode, number>> = {}
  for (const s of stripSegments(ranges)) out[s.period] = (out[s.period] ?? 0) + (s.end - s.start) / 60
  return out
}

/** "1-5, 9-12" for [1,2,3,4,5,9,10,11,12]. */
export function monthRanges(months: number[]): string {
  const sorted = [...months].sort((a, b) => a - b)
  const parts: string[] = []
  for (let i = 0; i < sorted.length; ) {
    let j = i
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`)
    i = j + 1
  }
  return parts.join(', ')
}
