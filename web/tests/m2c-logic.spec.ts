import { describe, expect, it } from 'vitest'
import type { AgingRow, TariffVersion } from '@/api/meter-to-cash'
import { checkCounter } from '@/utils/counter'
import { hoursByPeriod, monthRanges, stripSegments } from '@/utils/tou'
import { pricedPeriods, tierRows, versionOn } from '@/utils/tariff'
import { trialBody, trialFieldOf, validateTrial, type TrialForm } from '@/utils/trial'
import { isFinished, jobPercent, progressStatus } from '@/utils/jobs'
import { agingBars, over90Share } from '@/utils/aging'
import { reviewActions } from '@/utils/billing'
import { importContentType, XLSX_TYPE } from '@/utils/files'
import { filtersFromQuery, filtersToQuery } from '@/composables/useListPage'
import { periodOf, previousPeriod, today } from '@/utils/format'

describe('counter payment form', () => {
  it('computes the change for cash in fen and the body with two decimals', () => {
    const c = checkCounter({ amount: '616', method: 'cash', tendered: '700' })
    expect(c.errors).toEqual({})
    expect(c.changeFen).toBe(8400)
    expect(c.body).toEqual({ amount: '616.00', method: 'cash', tendered: '700.00' })
  })
  it('refuses too little cash, a zero amount and three decimals', () => {
    expect(checkCounter({ amount: '616.00', method: 'cash', tendered: '600' }).errors.tendered).toBe('counter.errTenderedLow')
    expect(checkCounter({ amount: '0', method: 'card', tendered: '' }).errors.amount).toBe('counter.errAmountPositive')
    expect(checkCounter({ amount: '1.234', method: 'card', tendered: '' }).body).toBeNull()
  })
  it('sends no tendered amount for a card or a transfer', () => {
    expect(checkCounter({ amount: '10.5', method: 'card', tendered: '100' }).body).toEqual({ amount: '10.50', method: 'card' })
  })
})

const windy = [
  { from: '00:00', to: '04:00', period: 'valley' },
  { from: '04:00', to: '06:00', period: 'flat' },
  { from: '06:00', to: '08:00', period: 'peak' },
  { from: '08:00', to: '11:00', period: 'flat' },
  { from: '11:00', to: '16:00', period: 'valley' },
  { from: '16:00', to: '18:00', period: 'flat' },
  { from: '18:00', to: '22:00', period: 'peak' },
  { from: '22:00', to: '24:00', period: 'flat' },
] as const

describe('TOU strip', () => {
  it('turns the ranges of a season into shares of the day', () => {
    const s = stripSegments([...windy].reverse())
    expect(s.map((x) => x.from)).toEqual(['00:00', '04:00', '06:00', '08:00', '11:00', '16:00', '18:00', '22:00'])
    expect(s[0].width).toBeCloseTo((4 / 24) * 100)
    expect(s.reduce((a, x) => a + (x.end - x.start), 0)).toBe(1440)
  })
  it('counts hours per period', () => {
    expect(hoursByPeriod([...windy])).toEqual({ valley: 9, flat: 9, peak: 6 })
  })
  it('refuses a table with a gap', () => {
    expect(() => stripSegments([{ from: '00:00', to: '08:00', period: 'flat' }, { from: '09:00', to: '24:00', period: 'peak' }])).toThrow()
  })
  it('writes months as ranges', () => {
    expect(monthRanges([1, 2, 3, 4, 5, 9, 10, 11, 12])).toBe('1-5, 9-12')
    expect(monthRanges([6, 7, 8])).toBe('6-8')
    expect(monthRanges([1, 3, 5])).toBe('1, 3, 5')
  })
})

const residential = {
  code: 'residential_lv',
  id: 'residential_lv@2012-07-01',
  effective_from: '2012-07-01',
  effective_to: null,
  pricing: 'flat',
  flat_price: '0.5000',
  seasons: [],
  tiers: { cycle: 'year', bounds: [{ months: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], upper_kwh: [2160, 4200] }], increments: ['0.0500', '0.3000'] },
} as unknown as TariffVersion

describe('tariffs', () => {
  it('tier rows: bounds and the exact price of each tier', () => {
    const [g] = tierRows(residential)
    expect(g.rows.map((r) => [r.tier, r.above, r.upTo, r.price])).toEqual([
      [1, 0, 2160, '0.5000'],
      [2, 2160, 4200, '0.5500'],
      [3, 4200, null, '0.8000'],
    ])
  })
  it('the periods a TOU version prices, in 尖峰平谷 order', () => {
    const v = { seasons: [{ prices: { flat: {}, valley: {} } }, { prices: { sharp: {}, peak: {}, deep_valley: {} } }] } as unknown as TariffVersion
    expect(pricedPeriods(v)).toEqual(['sharp', 'peak', 'flat', 'valley', 'deep_valley'])
  })
  it('the version in force on a day', () => {
    const a = { ...residential, id: 'a', effective_from: '2020-01-01', effective_to: '2023-12-31' }
    const b = { ...residential, id: 'b', effective_from: '2024-01-01', effective_to: null }
    expect(versionOn([a, b], '2022-06-30')?.id).toBe('a')
    expect(versionOn([a, b], '2026-11-28')?.id).toBe('b')
  })
})

const form = (over: Partial<TrialForm> = {}): TrialForm => ({
  metering_point_code: '020000011201',
  period: '2026-10',
  tariff_code: 'large_industry_10kv',
  multiplier: 800,
  register_integer_digits: 0,
  registers: ['total', 'peak'],
  start: { total: '1000', peak: '300' },
  end: { total: '1500', peak: '450' },
  basic_mode: 'capacity',
  capacity_kva: 630,
  declared_demand_kw: null,
  pf_standard: '0.90',
  tier_cumulative_kwh: null,
  ...over,
})

describe('typed-in trial', () => {
  it('builds the body the API takes', () => {
    expect(trialBody(form())).toEqual({
      metering_point_code: '020000011201',
      period: '2026-10',
      tariff_code: 'large_industry_10kv',
      meters: [{ multiplier: 800, register_integer_digits: 0, start: { total: '1000', peak: '300' }, end: { total: '1500', peak: '450' } }],
      basic_mode: 'capacity',
      pf_standard: '0.90',
      capacity_kva: 630,
    })
  })
  it('leaves out registers left empty', () => {
    expect(trialBody(form({ start: { total: '1' }, end: { total: '2' } })).meters[0].end).toEqual({ total: '2' })
  })
  it('names each bad field', () => {
    expect(validateTrial(form({ period: '2026-13', end: { total: '900', peak: 'x' }, capacity_kva: null }))).toEqual({
      period: 'trial.errPeriod',
      'end.total': 'trial.errBelowStart',
      'end.peak': 'trial.errReading',
      capacity_kva: 'trial.errCapacity',
    })
  })
  it('a reading below the previous one is a rollover when the register size is known', () => {
    expect(validateTrial(form({ register_integer_digits: 6, end: { total: '900', peak: '450' } }))).toEqual({})
  })
  it('maps the API field to the form field', () => {
    expect(trialFieldOf('meters[0].end.total')).toBe('end.total')
    expect(trialFieldOf('period')).toBe('period')
  })
})

describe('jobs', () => {
  it('percent as the API computes it', () => {
    expect(jobPercent({ status: 'running', done: 1, total: 3 })).toBe(33)
    expect(jobPercent({ status: 'running', done: 5, total: 0 })).toBe(0)
    expect(jobPercent({ status: 'succeeded', done: 0, total: 0 })).toBe(100)
    expect(jobPercent({ status: 'running', done: 9, total: 4 })).toBe(100)
  })
  it('finished states and bar colours', () => {
    expect(isFinished('running')).toBe(false)
    expect(isFinished('cancelled')).toBe(true)
    expect(progressStatus('failed')).toBe('exception')
    expect(progressStatus('queued')).toBe('')
  })
})

describe('arrears aging', () => {
  const row = (name: string, d90: string, overdue: string): AgingRow => ({
    department_id: 1, department_name: name, current: '10.00', d0_30: '1.00', d31_60: '0.00', d61_90: '0.00', d90_plus: d90, overdue, overdue_bills: 1, overdue_customers: 1,
  })
  it('bars in fen, biggest overdue first, short names', () => {
    const bars = agingBars({ as_of: '2026-11-28', rows: [row('集宁区供电分局', '1.00', '2.00'), row('丰镇市供电分局', '100.00', '101.00')], total: row('', '0', '0') })
    expect(bars.departments).toEqual(['丰镇市', '集宁区'])
    expect(bars.fen.d90_plus).toEqual([10000, 100])
  })
  it('share over 90 days, rounded half up', () => {
    expect(over90Share(row('x', '1.00', '8.00'))).toBe(13) // 12.5 → 13
    expect(over90Share(row('x', '0.00', '0.00'))).toBe(0)
  })
})

describe('bill review actions', () => {
  it('follow the status', () => {
    expect(reviewActions('review')).toEqual({ approve: true, recalculate: true, hold: true, unhold: false, issue: false })
    expect(reviewActions('held').unhold).toBe(true)
    expect(reviewActions('issued')).toEqual({ approve: false, recalculate: false, hold: false, unhold: false, issue: false })
  })
})

describe('files and list filters', () => {
  it('an import is sent with its content type', () => {
    expect(importContentType('reads.xlsx', '')).toBe(XLSX_TYPE)
    expect(importContentType('reads.csv', 'gbk')).toBe('text/csv; charset=gbk')
    expect(importContentType('reads.csv', '')).toBe('text/csv')
  })
  it('filters round-trip through the URL', () => {
    const defaults = { status: 'review', period: '', department_id: null as number | null, page: 1 }
    const f = filtersFromQuery({ period: '2026-10', department_id: '4', page: '2', junk: 'x' }, defaults)
    expect(f).toEqual({ status: 'review', period: '2026-10', department_id: 4, page: 2 })
    expect(filtersToQuery(f, defaults)).toEqual({ period: '2026-10', department_id: '4', page: '2' })
  })
  it('billing months', () => {
    const d = new Date(2026, 0, 15)
    expect(previousPeriod(d)).toBe('2025-12')
    expect(periodOf(d)).toBe('2026-01')
    expect(today(d)).toBe('2026-01-15')
  })
})
