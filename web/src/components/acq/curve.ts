// A load curve (负荷曲线) for the chart and the tables: 96 interval values (kWh strings, null =
// missing) with one quality letter each (V valid, S suspect, E estimated, D edited, M missing).
// The sums are exact (decimal strings); only the chart's bar heights are numbers.
import { addDecimal, subDecimal } from '@/utils/decimal'

export const QUALITY_LETTERS: Record<string, CurveQuality> = {
  V: 'valid',
  S: 'suspect',
  E: 'estimated',
  D: 'edited',
  M: 'missing',
}
export type CurveQuality = 'valid' | 'suspect' | 'estimated' | 'edited' | 'missing'
export const CURVE_QUALITIES: CurveQuality[] = ['valid', 'suspect', 'estimated', 'edited', 'missing']

export const QUALITY_COLORS: Record<CurveQuality, string> = {
  valid: '#4e86c6',
  suspect: '#c0392b',
  estimated: '#f2a541',
  edited: '#8e63c9',
  missing: '#f0a8a5',
}

/** The quality of value i: its letter, or missing where the value is null and no letter says otherwise. */
export function qualityAt(quality: string, values: (string | null)[], i: number): CurveQuality {
  const q = QUALITY_LETTERS[quality.charAt(i)]
  if (q) return q
  return values[i] === null || values[i] === undefined ? 'missing' : 'valid'
}

/** "00:00", "00:15", ... the start of each interval of `minutes`. */
export function intervalLabels(count: number, minutes = 15): string[] {
  const out: string[] = []
  for (let i = 0; i < count; i++) {
    const m = i * minutes
    out.push(`${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`)
  }
  return out
}

/** "00:00–00:15" of interval i. */
export function intervalRange(i: number, minutes = 15): string {
  const [a, b] = intervalLabels(i + 2, minutes).slice(i, i + 2)
  return `${a}–${b === '24:00' || i * minutes + minutes >= 1440 ? '24:00' : b}`
}

export interface CurveSeries {
  labels: string[]
  /** per quality, the value where the interval has that quality, null elsewhere (stacked bars) */
  byQuality: Record<CurveQuality, (number | null)[]>
  /** every value (null where missing), for the line */
  values: (number | null)[]
  qualities: CurveQuality[]
  /** runs of missing intervals, [first, last] inclusive */
  missingRuns: [number, number][]
  counts: Record<CurveQuality, number>
  /** exact sum of the values present, kWh */
  total: string
  /** the largest value and its interval */
  peak: { index: number; value: string } | null
}

export function buildCurveSeries(values: (string | null)[], quality: string, minutes = 15): CurveSeries {
  const n = values.length
  const byQuality = Object.fromEntries(CURVE_QUALITIES.map((q) => [q, new Array<number | null>(n).fill(null)])) as Record<CurveQuality, (number | null)[]>
  const counts = Object.fromEntries(CURVE_QUALITIES.map((q) => [q, 0])) as Record<CurveQuality, number>
  const qualities: CurveQuality[] = []
  const nums: (number | null)[] = []
  const missingRuns: [number, number][] = []
  let total = '0.0000'
  let peak: { index: number; value: string } | null = null
  for (let i = 0; i < n; i++) {
    const v = values[i]
    const q = qualityAt(quality, values, i)
    qualities.push(q)
    counts[q]++
    const num = v === null || v === undefined ? null : Number(v)
    nums.push(num)
    if (num !== null && Number.isFinite(num)) {
      byQuality[q === 'missing' ? 'valid' : q][i] = num
      total = addDecimal(total, v as string) ?? total
      if (!peak || num > Number(peak.value)) peak = { index: i, value: v as string }
    }
    if (q === 'missing') {
      const last = missingRuns[missingRuns.length - 1]
      if (last && last[1] === i - 1) last[1] = i
      else missingRuns.push([i, i])
    }
  }
  return { labels: intervalLabels(n, minutes), byQuality, values: nums, qualities, missingRuns, counts, total, peak }
}

/** The ECharts option of a curve: stacked bars by quality (or one line), missing runs shaded. */
export function curveChartOption(
  s: CurveSeries,
  opts: { mode: 'bar' | 'line'; label: (q: CurveQuality) => string; unit: string; minutes?: number },
): Record<string, unknown> {
  const minutes = opts.minutes ?? 15
  const missingArea = {
    silent: true,
    itemStyle: { color: 'rgba(240, 168, 165, 0.35)' },
    data: s.missingRuns.map(([a, b]) => [{ xAxis: s.labels[a] }, { xAxis: s.labels[b] }]),
  }
  const shown: CurveQuality[] = ['valid', 'suspect', 'estimated', 'edited']
  const series: Record<string, unknown>[] =
    opts.mode === 'bar'
      ? shown.map((q) => ({
          name: opts.label(q),
          type: 'bar',
          stack: 'curve',
          barCategoryGap: '10%',
          itemStyle: { color: QUALITY_COLORS[q] },
          data: s.byQuality[q],
        }))
      : [
          {
            name: opts.label('valid'),
            type: 'line',
            connectNulls: false,
            showSymbol: true,
            symbolSize: 4,
            itemStyle: { color: QUALITY_COLORS.valid },
            lineStyle: { color: QUALITY_COLORS.valid },
            data: s.values.map((v, i) => {
              const q = s.qualities[i]
              return q === 'valid' || v === null ? v : { value: v, symbolSize: 8, itemStyle: { color: QUALITY_COLORS[q] } }
            }),
          },
          ...shown.slice(1).map((q) => ({ name: opts.label(q), type: 'line', data: [], itemStyle: { color: QUALITY_COLORS[q] } })),
        ]
  // the missing runs: a legend entry of their own whose series carries the shading
  series.push({ name: opts.label('missing'), type: opts.mode, data: [], itemStyle: { color: QUALITY_COLORS.missing }, markArea: missingArea })
  return {
    animation: false,
    tooltip: {
      trigger: 'axis',
      formatter: (params: { dataIndex: number }[]) => {
        const i = params[0]?.dataIndex ?? 0
        const v = s.values[i]
        return `${intervalRange(i, minutes)}<br/>${v === null ? '–' : `${v} ${opts.unit}`} · ${opts.label(s.qualities[i])}`
      },
    },
    legend: { top: 0 },
    grid: { left: 8, right: 16, top: 32, bottom: 40, containLabel: true },
    dataZoom: [{ type: 'inside' }, { type: 'slider', height: 18, bottom: 6 }],
    xAxis: { type: 'category', data: s.labels, axisLabel: { interval: 7 } },
    yAxis: { type: 'value', name: opts.unit },
    series,
  }
}

/**
 * The use (kWh, as the meter counts) of each day with a frozen row on the next day: the row of day D
 * holds the registers frozen at 00:00 of D, so D's use is total(D + 1) − total(D). Exact.
 */
export function dailyUse(rows: { day: string; registers: Record<string, string> }[], register = 'total'): Map<string, string> {
  const out = new Map<string, string>()
  const byDay = new Map(rows.map((r) => [r.day, r.registers[register]]))
  for (const r of rows) {
    const next = new Date(`${r.day}T00:00:00Z`)
    next.setUTCDate(next.getUTCDate() + 1)
    const nextDay = next.toISOString().slice(0, 10)
    const a = r.registers[register]
    const b = byDay.get(nextDay)
    if (a !== undefined && b !== undefined) {
      const d = subDecimal(b, a)
      if (d !== null) out.set(r.day, d)
    }
  }
  return out
}
