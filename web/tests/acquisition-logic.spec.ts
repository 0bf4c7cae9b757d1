// The pure logic of the acquisition pages: frames for people, success-rate colouring, a curve's
// series, command parameters, read value names, days, and the two shapes of a curve.
import { describe, expect, it } from 'vitest'
import { normalizeCurve } from '@/api/acquisition'
import { afnHex, branchIds, compactList, directionArrow, hexFields, hexLines, jsonTree, protocolOf, summarizeFrame } from '@/components/acq/frames'
import { formatRate, rateHundredths, rateLevel, rateOf, rateTagType } from '@/components/acq/rates'
import { buildCurveSeries, curveChartOption, dailyUse, intervalLabels, intervalRange, qualityAt } from '@/components/acq/curve'
import { commandParams, commandStatusType, DEFAULT_FORM, formatParams, isFinalStatus, paramFields } from '@/components/acq/commands'
import { splitValueName, valueLabel } from '@/components/acq/values'
import { addDays, daysBetween, isDay } from '@/components/acq/days'
import { visibleMenu, type MenuItem } from '@/menu'

// What frame_json.cc makes of a heartbeat (real capture "real-heartBeat") and of an F129 reply.
const HEARTBEAT_HEX = '68 32 00 32 00 68 C9 71 01 22 08 00 02 79 00 00 04 00 E4 16'
const heartbeat = {
  protocol: 'Q/GDW 1376.1',
  length: 20,
  control: { byte: 'C9', dir: 'terminal->master', prm: true, acd: false, func: 9, func_name: 'link test' },
  address: { terminal: '0171-2201', area: '0171', a2: 8706, msa: 0, group: false },
  afn: '02',
  afn_name: 'link interface check',
  seq: { byte: '79', tpv: false, fir: true, fin: true, con: true, seq: 9 },
  groups: [{ da: '00 00', dt: '04 00', all_points: false, pns: [0], fns: [3], items: [{ pn: 0, fn: 3, name: 'heartbeat', length: 0 }] }],
}
const f161 = {
  protocol: 'Q/GDW 1376.1',
  afn: '0D',
  afn_name: 'request class 2 data',
  groups: [
    { pns: [1, 2, 3, 4, 5, 6, 7, 8], fns: [161], items: [{ pn: 1, fn: 161, name: 'daily frozen forward active' }] },
    { pns: [9, 10], fns: [161], items: [{ pn: 9, fn: 161, name: 'daily frozen forward active', error: 'offset 40: short' }] },
  ],
}

describe('frames', () => {
  it('direction arrows: ↑ from the terminal, ↓ to it', () => {
    expect(directionArrow('in')).toBe('↑')
    expect(directionArrow('out')).toBe('↓')
  })
  it('protocol of a decoded frame', () => {
    expect(protocolOf(heartbeat)).toBe('gdw1376')
    expect(protocolOf({ protocol: 'DL/T 645-2007' })).toBe('dlt645')
    expect(protocolOf({ protocol: 'unknown', error: 'offset 0: no start' })).toBe('unknown')
    expect(protocolOf(null)).toBe('unknown')
  })
  it('AFN as two hex digits whatever the decoder wrote', () => {
    expect(afnHex('0C')).toBe('0C')
    expect(afnHex('c')).toBe('0C')
    expect(afnHex(16)).toBe('10')
    expect(afnHex('0x0d')).toBe('0D')
    expect(afnHex('zz')).toBeNull()
    expect(afnHex(300)).toBeNull()
  })
  it('Pn lists compacted', () => {
    expect(compactList([1, 2, 3, 5, 9, 10])).toBe('1-3,5,9,10')
    expect(compactList([3, 1, 2, 2])).toBe('1-3')
    expect(compactList([])).toBe('')
  })
  it('summary of a heartbeat: AFN02 F3 p0, a known function', () => {
    const s = summarizeFrame(heartbeat)
    expect(s.code).toBe('AFN02')
    expect(s.units).toBe('F3 p0')
    expect(s.nameKey).toBe('f02F3')
    expect(s.name).toBe('heartbeat')
    expect(s.error).toBeNull()
  })
  it('summary of a multi-group F161 reply names every Pn and the first item error', () => {
    const s = summarizeFrame(f161)
    expect(s.code).toBe('AFN0D')
    expect(s.units).toBe('F161 p1-10')
    expect(s.nameKey).toBe('f0DF161')
    expect(s.error).toBe('offset 40: short')
  })
  it('an unknown Fn falls back to the AFN name; a confirm names the confirmed AFN', () => {
    const s = summarizeFrame({ protocol: 'Q/GDW 1376.1', afn: '0C', afn_name: 'request class 1 data', groups: [{ pns: [1], fns: [200], items: [{ pn: 1, fn: 200, name: 'F200' }] }] })
    expect(s.nameKey).toBe('afn0C')
    const c = summarizeFrame({ protocol: 'Q/GDW 1376.1', afn: '00', groups: [{ pns: [0], fns: [3], items: [] }], confirm: { afn: '05', units: [] } })
    expect(c.units).toBe('F3 p0 AFN05')
    expect(c.nameKey).toBe('f00F3')
  })
  it('summary of a 645 frame: function, data identifier and an abnormal reply', () => {
    const s = summarizeFrame({ protocol: 'DL/T 645-2007', control: { func: '11', func_name: 'read data' }, di: '00010000', di_name: 'forward active total' })
    expect(s.code).toBe('645 11')
    expect(s.units).toBe('00010000')
    expect(s.name).toBe('read data · forward active total')
    const e = summarizeFrame({ protocol: 'DL/T 645-2007', control: { func: '1C', func_name: 'control', abnormal: true }, err_text: 'password wrong' })
    expect(e.error).toBe('password wrong')
  })
  it('a frame that does not decode keeps its error', () => {
    const s = summarizeFrame({ protocol: 'Q/GDW 1376.1', hex: '68', error: 'offset 1: frame shorter than its L field' })
    expect(s.code).toBe('')
    expect(s.error).toContain('offset 1')
  })
  it('1376.1 hex split into its fields', () => {
    const f = hexFields(HEARTBEAT_HEX, 'gdw1376')
    expect(f.map((x) => x.key)).toEqual(['start', 'control', 'address', 'afn', 'seq', 'data', 'checksum', 'end'])
    expect(f[0].hex).toBe('68 32 00 32 00 68')
    expect(f[2].hex).toBe('71 01 22 08 00')
    expect(f[3].hex).toBe('02')
    expect(f[5].hex).toBe('00 00 04 00')
    expect(f[6].hex).toBe('E4')
    // every byte is in exactly one field
    expect(f.map((x) => x.hex).join(' ')).toBe(HEARTBEAT_HEX)
  })
  it('645 hex with wake-up bytes split into its fields', () => {
    const hex = 'FE FE FE FE 68 11 11 11 11 11 11 68 11 04 33 33 34 33 B3 16'
    const f = hexFields(hex, 'dlt645')
    expect(f.map((x) => x.key)).toEqual(['wake', 'start', 'address', 'start', 'control', 'length', 'data', 'checksum', 'end'])
    expect(f[6].hex).toBe('33 33 34 33')
    expect(f.map((x) => x.hex).join(' ')).toBe(hex)
  })
  it('a frame of another shape is one field of raw bytes', () => {
    expect(hexFields('68 32 00', 'gdw1376')).toEqual([{ key: 'raw', hex: '68 32 00' }])
    expect(hexFields('de ad', 'unknown')).toEqual([{ key: 'raw', hex: 'DE AD' }])
  })
  it('hex lines with offsets', () => {
    const lines = hexLines(HEARTBEAT_HEX, 16)
    expect(lines).toHaveLength(2)
    expect(lines[1]).toEqual(['0010', '04 00 E4 16'])
  })
  it('JSON as a tree, and the branches to open', () => {
    const root = jsonTree({ afn: '02', seq: { fin: true, seq: 9 }, groups: [{ fns: [3] }], x: null })
    expect(root.children!.map((c) => [c.key, c.kind, c.value ?? c.size])).toEqual([
      ['afn', 'string', '"02"'],
      ['seq', 'object', '{2}'],
      ['groups', 'array', '[1]'],
      ['x', 'null', 'null'],
    ])
    expect(root.children![1].children!.map((c) => c.value)).toEqual(['true', '9'])
    expect(branchIds(root, 2)).toEqual(['$', '$.seq', '$.groups'])
    expect(branchIds(root, 3)).toContain('$.groups.0')
  })
})

describe('success rates', () => {
  it('rates compared as hundredths, never floats', () => {
    expect(rateHundredths('98.75')).toBe(9875)
    expect(rateHundredths('100')).toBe(10000)
    expect(rateHundredths('99.5')).toBe(9950)
    expect(rateHundredths('0.07')).toBe(7)
    expect(rateHundredths(null)).toBeNull()
    expect(rateHundredths('abc')).toBeNull()
  })
  it('the rate of collected of expected, floored as the API does', () => {
    expect(rateOf(9875, 10000)).toBe('98.75')
    expect(rateOf(2, 3)).toBe('66.66')
    expect(rateOf(199999, 200000)).toBe('99.99') // not rounded up to 100.00
    expect(rateOf(5, 5)).toBe('100.00')
    expect(rateOf(0, 0)).toBeNull()
  })
  it('coloured by threshold: ≥ 98 good, ≥ 95 fair, else poor; none when nothing expected', () => {
    expect(rateLevel('98.00')).toBe('good')
    expect(rateLevel('97.99')).toBe('fair')
    expect(rateLevel('95.00')).toBe('fair')
    expect(rateLevel('94.99')).toBe('poor')
    expect(rateLevel(null)).toBe('none')
    expect(rateLevel('90', { good: 9000, fair: 8000 })).toBe('good')
    expect(rateTagType('poor')).toBe('danger')
    expect(formatRate('98.75')).toBe('98.75 %')
    expect(formatRate(null)).toBe('–')
  })
})

describe('curves', () => {
  const values: (string | null)[] = Array.from({ length: 96 }, (_, i) => (i >= 40 && i < 43 ? null : '0.2500'))
  values[10] = '1.1000'
  const quality = Array.from({ length: 96 }, (_, i) => (i >= 40 && i < 43 ? 'M' : i === 10 ? 'S' : i === 50 ? 'E' : i === 60 ? 'D' : 'V')).join('')

  it('96 labels at 15 minutes and the interval of a value', () => {
    const l = intervalLabels(96)
    expect(l[0]).toBe('00:00')
    expect(l[1]).toBe('00:15')
    expect(l[95]).toBe('23:45')
    expect(intervalRange(0)).toBe('00:00–00:15')
    expect(intervalRange(95)).toBe('23:45–24:00')
    expect(intervalRange(23, 60)).toBe('23:00–24:00')
  })
  it('quality by letter, and missing where there is no value and no letter', () => {
    expect(qualityAt(quality, values, 10)).toBe('suspect')
    expect(qualityAt(quality, values, 41)).toBe('missing')
    expect(qualityAt('', ['1', null], 0)).toBe('valid')
    expect(qualityAt('', ['1', null], 1)).toBe('missing')
  })
  it('series by quality, missing runs, counts, an exact total and the peak', () => {
    const s = buildCurveSeries(values, quality)
    expect(s.counts).toEqual({ valid: 90, suspect: 1, estimated: 1, edited: 1, missing: 3 })
    expect(s.missingRuns).toEqual([[40, 42]])
    expect(s.byQuality.suspect[10]).toBe(1.1)
    expect(s.byQuality.valid[10]).toBeNull()
    expect(s.byQuality.estimated[50]).toBe(0.25)
    expect(s.values[41]).toBeNull()
    // 92 values of 0.25 and one of 1.1: exactly 24.1, not 24.099999...
    expect(s.total).toBe('24.1000')
    expect(s.peak).toEqual({ index: 10, value: '1.1000' })
  })
  it('the total of many small values stays exact', () => {
    const s = buildCurveSeries(Array(96).fill('0.1000'), 'V'.repeat(96))
    expect(s.total).toBe('9.6000')
  })
  it('chart option: stacked bars by quality and the missing runs shaded', () => {
    const s = buildCurveSeries(values, quality)
    const o = curveChartOption(s, { mode: 'bar', label: (q) => q, unit: 'kWh' }) as { series: { name: string; type: string; stack?: string; markArea?: { data: unknown[] } }[] }
    expect(o.series.map((x) => x.name)).toEqual(['valid', 'suspect', 'estimated', 'edited', 'missing'])
    expect(o.series[0].stack).toBe('curve')
    expect(o.series[4].markArea!.data).toEqual([[{ xAxis: '10:00' }, { xAxis: '10:30' }]])
    const line = curveChartOption(s, { mode: 'line', label: (q) => q, unit: 'kWh' }) as { series: { type: string; data: unknown[] }[] }
    expect(line.series[0].type).toBe('line')
    expect(line.series[0].data[10]).toMatchObject({ value: 1.1 })
    expect(line.series[0].data[41]).toBeNull()
  })
  it('daily use: the next day’s register minus the day’s, exact, only with both rows', () => {
    const use = dailyUse([
      { day: '2026-11-01', registers: { total: '1000.1000' } },
      { day: '2026-11-02', registers: { total: '1012.3000' } },
      { day: '2026-11-04', registers: { total: '1030.0000' } },
    ])
    expect(use.get('2026-11-01')).toBe('12.2000')
    expect(use.has('2026-11-02')).toBe(false) // no row on the 3rd
    expect(use.has('2026-11-04')).toBe(false)
  })
  it('the collection route and the VEE route give the quality in two shapes; one comes out', () => {
    const base = { metering_point_id: 1, day: '2026-11-27', quantity: 'fwd_active_energy', interval_minutes: 15, multiplier: 1, values: ['0.1', null] }
    expect(normalizeCurve({ ...base, quality: ['valid', 'missing'], quality_flags: 'VM' }).quality).toBe('VM')
    expect(normalizeCurve({ ...base, quality: ['estimated', 'missing'] }).quality).toBe('EM')
    expect(normalizeCurve({ ...base, quality: 'DM' }).quality).toBe('DM')
  })
})

describe('commands', () => {
  it('the fields each kind takes', () => {
    expect(paramFields('time_sync', undefined)).toEqual([])
    expect(paramFields('trip', 'afn05')).toEqual(['round', 'limit_half_hours', 'alarm_delay_minutes'])
    expect(paramFields('trip', 'afn10_645')).toEqual([])
    expect(paramFields('permit_close', undefined)).toEqual(['round'])
    expect(paramFields('power_control_enable', undefined, 'period')).toContain('period_flags')
    expect(paramFields('power_control_enable', undefined, 'power_down')).toContain('alarm_minutes')
    expect(paramFields('power_control_release', undefined, 'power_down')).toEqual(['control', 'total_group'])
  })
  it('params carry only those fields', () => {
    expect(commandParams('time_sync', undefined, DEFAULT_FORM)).toEqual({})
    expect(commandParams('trip', undefined, { ...DEFAULT_FORM, round: 2 })).toEqual({ round: 2, limit_half_hours: 0, alarm_delay_minutes: 0 })
    expect(commandParams('power_control_release', undefined, { ...DEFAULT_FORM, control: 'monthly_energy', total_group: 3 })).toEqual({ control: 'monthly_energy', total_group: 3 })
    const pd = commandParams('power_control_enable', undefined, { ...DEFAULT_FORM, control: 'power_down', alarm_minutes: [1, 2, 3, 4] })
    expect(pd.alarm_minutes).toEqual([1, 2, 3, 4])
    expect(pd.slip_minutes).toBe(5)
    expect('round' in pd).toBe(false)
  })
  it('status colours and final states', () => {
    expect(commandStatusType('confirmed')).toBe('success')
    expect(commandStatusType('denied')).toBe('danger')
    expect(commandStatusType('timed_out')).toBe('warning')
    expect(isFinalStatus('pending')).toBe(false)
    expect(isFinalStatus('sent')).toBe(false)
    expect(isFinalStatus('cancelled')).toBe(true)
  })
  it('params in words', () => {
    expect(formatParams({ round: 1, control: 'period', alarm_minutes: [1, 2] }, (k) => k.toUpperCase(), (k, v) => (k === 'control' ? `<${v}>` : String(v)))).toBe('ROUND 1 · CONTROL <period> · ALARM_MINUTES 1/2')
    expect(formatParams(null, (k) => k)).toBe('')
  })
})

describe('read value names', () => {
  const labels: Record<string, string> = { 'readQuantity.fwd_active': '正向有功', 'readPart.sharp': '尖', 'readPart.a': 'A相', 'readQuantity.voltage': '电压', 'readValue.clock': '终端时钟', 'readPart.rate': '费率' }
  const label = (g: string, k: string) => labels[`${g}.${k}`] ?? null
  it('split into quantity and part', () => {
    expect(splitValueName('fwd_active_sharp')).toEqual({ quantity: 'fwd_active', part: 'sharp' })
    expect(splitValueName('current_zero_sequence')).toEqual({ quantity: 'current', part: 'zero_sequence' })
    expect(splitValueName('clock')).toBeNull()
  })
  it('said in the console language, falling back to the name', () => {
    expect(valueLabel('fwd_active_sharp', label)).toBe('正向有功 尖')
    expect(valueLabel('voltage_a', label)).toBe('电压 A相')
    expect(valueLabel('fwd_active_rate_6', label)).toBe('正向有功 费率 6')
    expect(valueLabel('clock', label)).toBe('终端时钟')
    expect(valueLabel('something_else', label)).toBe('something_else')
  })
})

describe('days', () => {
  it('move across months and years', () => {
    expect(addDays('2026-02-28', 1)).toBe('2026-03-01')
    expect(addDays('2026-01-01', -1)).toBe('2025-12-31')
    expect(isDay('2026-11-28')).toBe(true)
    expect(isDay('2026-13-01')).toBe(false)
    expect(isDay('x')).toBe(false)
    expect(daysBetween('2026-11-29', '2026-12-02')).toEqual(['2026-11-29', '2026-11-30', '2026-12-01', '2026-12-02'])
  })
})

describe('the acquisition menu', () => {
  const paths = (items: MenuItem[]): string[] => items.flatMap((i) => (i.children ? [i.path, ...paths(i.children)] : [i.path]))
  const canOf = (perms: string[]) => (p?: string) => !p || perms.includes(p)
  it('a role with acquisition.read gets the five pages; one without gets none of them', () => {
    const operator = paths(visibleMenu(canOf(['terminal.read', 'acquisition.read', 'acquisition.collect', 'acquisition.command', 'acquisition.vee'])))
    expect(operator.filter((p) => p.startsWith('/acquisition'))).toEqual([
      '/acquisition',
      '/acquisition/dashboard',
      '/acquisition/terminals',
      '/acquisition/commands',
      '/acquisition/curves',
      '/acquisition/vee',
    ])
    const reader = paths(visibleMenu(canOf(['terminal.read', 'reading.read'])))
    expect(reader).toContain('/terminals')
    expect(reader.some((p) => p.startsWith('/acquisition'))).toBe(false)
  })
})
