import { describe, expect, it } from 'vitest'
import { amountInWords, changeFen, fenToYuan, formatKwh, formatPrice, formatYuan, parseFen, sumFen } from '@/utils/money'
import { addDecimal, compareDecimal, isDecimal, subDecimal } from '@/utils/decimal'

describe('money in fen', () => {
  it('parses yuan text exactly, never through floating point', () => {
    expect(parseFen('616.00')).toBe(61600)
    expect(parseFen('0.1')).toBe(10)
    expect(parseFen('0.29')).toBe(29) // 0.29 * 100 is 28.999999999999996 in floating point
    expect(parseFen('-3.2')).toBe(-320)
    expect(parseFen('1,234.56')).toBe(123456)
    expect(parseFen('¥12')).toBe(1200)
    expect(parseFen('1.234')).toBeNull()
    expect(parseFen('abc')).toBeNull()
    expect(parseFen('')).toBeNull()
  })
  it('writes fen back as the API writes yuan', () => {
    expect(fenToYuan(123456)).toBe('1234.56')
    expect(fenToYuan(5)).toBe('0.05')
    expect(fenToYuan(-320)).toBe('-3.20')
    expect(fenToYuan(0)).toBe('0.00')
  })
  it('formats for display with separators and the symbol', () => {
    expect(formatYuan('1234567.5')).toBe('1,234,567.50')
    expect(formatYuan('-263.43', true)).toBe('-¥263.43')
    expect(formatYuan({ fen: 8400 }, true)).toBe('¥84.00')
    expect(formatYuan(null)).toBe('')
    expect(formatYuan('n/a')).toBe('n/a')
  })
  it('sums line amounts exactly', () => {
    // 0.1 + 0.2 is 0.30000000000000004 in floating point
    expect(sumFen(['0.10', '0.20'])).toBe(30)
    expect(fenToYuan(sumFen(['7762.00', '19404.00', '12600.00', '5544.00', '13230.00', '-263.43', '2242.50']))).toBe('60519.07')
  })
  it('gives change only when enough cash was handed over', () => {
    expect(changeFen(70000, 61600)).toBe(8400)
    expect(changeFen(61600, 61600)).toBe(0)
    expect(changeFen(50000, 61600)).toBeNull()
  })
  it('unit prices show at least four decimals', () => {
    expect(formatPrice('0.50000000')).toBe('0.5000')
    expect(formatPrice('0.02766875')).toBe('0.02766875')
    expect(formatPrice('21')).toBe('21.0000')
    expect(formatPrice('0.9')).toBe('0.9000')
  })
  it('kWh keeps its digits', () => {
    expect(formatKwh('12345.6700')).toBe('12,345.67')
    expect(formatKwh('100000.0000')).toBe('100,000')
    expect(formatKwh('1231.5556', true)).toBe('1,231.5556')
    expect(formatKwh(1232)).toBe('1,232')
  })
})

describe('人民币大写 (the same cases as the bill PDF, billing/amount_words_test.cc)', () => {
  const cases: [number, string][] = [
    [12345, '壹佰贰拾叁元肆角伍分'],
    [10000, '壹佰元整'],
    [100503, '壹仟零伍元零叁分'],
    [5, '伍分'],
    [50, '伍角整'],
    [0, '零元整'],
    [1000, '壹拾元整'],
    [1050, '壹拾元伍角整'],
    [1005, '壹拾元零伍分'],
    [-1000, '负壹拾元整'],
    [-12, '负壹角贰分'],
    [100100, '壹仟零壹元整'],
    [101000, '壹仟零壹拾元整'],
    [10000000, '壹拾万元整'],
    [10001000, '壹拾万零壹拾元整'],
    [1000001000, '壹仟万零壹拾元整'],
    [10000000100, '壹亿零壹元整'],
    [10100000000, '壹亿零壹佰万元整'],
    [12345678900, '壹亿贰仟叁佰肆拾伍万陆仟柒佰捌拾玖元整'],
    [2000500007, '贰仟万伍仟元零柒分'],
    [2000050007, '贰仟万零伍佰元零柒分'],
    [168032, '壹仟陆佰捌拾元叁角贰分'],
  ]
  for (const [fen, words] of cases) {
    it(`${fen} fen`, () => expect(amountInWords(fen)).toBe(words))
  }
})

describe('decimals', () => {
  it('adds tier increments to prices exactly', () => {
    expect(addDecimal('0.5000', '0.0500')).toBe('0.5500')
    expect(addDecimal('0.5000', '0.3')).toBe('0.8000')
    expect(addDecimal('0.1', '0.2')).toBe('0.3')
    expect(subDecimal('1.00', '1.25')).toBe('-0.25')
    expect(addDecimal('x', '1')).toBeNull()
  })
  it('checks and compares register readings', () => {
    expect(isDecimal('1234.5678')).toBe(true)
    expect(isDecimal('1234.56789')).toBe(false)
    expect(isDecimal('-1')).toBe(false)
    expect(compareDecimal('1.00', '3.3549')).toBe(-1)
    expect(compareDecimal('10', '10.000')).toBe(0)
    expect(compareDecimal('10.5', '10.49')).toBe(1)
  })
})
