// Money in the console: the API sends yuan as decimal strings ("1234.56", "-3.20") and often the
// same amount as an integer of fen. The console never puts money through binary floating point:
// amounts are parsed to integer fen, added and subtracted as integers, and written back as text.

/** "1234.56" → 123456 fen; null for anything that is not a yuan amount with at most 2 decimals. */
export function parseFen(text: string | number | null | undefined): number | null {
  if (text === null || text === undefined) return null
  const s = String(text).trim().replace(/,/g, '').replace(/^[¥￥]/, '')
  const m = s.match(/^([+-]?)(\d+)(?:\.(\d{0,2}))?$/)
  if (!m) return null
  const fen = Number(m[2]) * 100 + Number((m[3] ?? '').padEnd(2, '0') || '0')
  if (!Number.isSafeInteger(fen)) return null
  return m[1] === '-' ? -fen : fen
}

/** 123456 → "1234.56" (the API's form). */
export function fenToYuan(fen: number): string {
  const neg = fen < 0
  const abs = Math.abs(Math.trunc(fen))
  const s = `${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`
  return neg && abs !== 0 ? `-${s}` : s
}

function groupThousands(intPart: string): string {
  return intPart.replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}

/**
 * A yuan amount for display: "1234.5" → "1,234.50", with "¥" when `symbol`. Accepts the API's
 * yuan string or integer fen (`{ fen: n }`). Unparseable text is shown as it is.
 */
export function formatYuan(v: string | number | { fen: number } | null | undefined, symbol = false): string {
  if (v === null || v === undefined || v === '') return ''
  const fen = typeof v === 'object' ? v.fen : parseFen(v)
  if (fen === null) return String(v)
  const [i, d] = fenToYuan(Math.abs(fen)).split('.')
  return `${fen < 0 ? '-' : ''}${symbol ? '¥' : ''}${groupThousands(i)}.${d}`
}

/** A kWh decimal string with thousands separators, its decimals kept: "12345.6700" → "12,345.67". */
export function formatKwh(v: string | number | null | undefined, keepDecimals = false): string {
  if (v === null || v === undefined || v === '') return ''
  const s = String(v)
  const m = s.match(/^(-?)(\d+)(?:\.(\d+))?$/)
  if (!m) return s
  let dec = m[3] ?? ''
  if (!keepDecimals) dec = dec.replace(/0+$/, '')
  return `${m[1]}${groupThousands(m[2])}${dec ? `.${dec}` : ''}`
}

/** A unit price for display: at least 4 decimals, trailing zeros beyond them dropped ("0.50000000" → "0.5000", "0.02766875" stays). */
export function formatPrice(v: string | null | undefined): string {
  if (v === null || v === undefined || v === '') return ''
  const m = String(v).match(/^(-?\d+)(?:\.(\d*))?$/)
  if (!m) return String(v)
  let dec = (m[2] ?? '').padEnd(4, '0')
  while (dec.length > 4 && dec.endsWith('0')) dec = dec.slice(0, -1)
  return `${m[1]}.${dec}`
}

/** Sum of yuan strings, exactly (as fen). */
export function sumFen(values: (string | number | null | undefined)[]): number {
  let total = 0
  for (const v of values) total += parseFen(v) ?? 0
  return total
}

/** The change for cash: tendered − amount in fen, or null when too little was handed over. */
export function changeFen(tenderedFen: number, amountFen: number): number | null {
  if (!Number.isSafeInteger(tenderedFen) || !Number.isSafeInteger(amountFen)) return null
  const c = tenderedFen - amountFen
  return c < 0 ? null : c
}

const DIGITS = '零壹贰叁肆伍陆柒捌玖'
const UNITS = ['', '拾', '佰', '仟']
const GROUPS = ['', '万', '亿', '万亿']

function groupWords(n: number): string {
  // n < 10000
  let out = ''
  let zero = false
  for (let p = 3; p >= 0; p--) {
    const d = Math.floor(n / 10 ** p) % 10
    if (d === 0) {
      if (out) zero = true
    } else {
      if (zero) out += '零'
      zero = false
      out += DIGITS[d] + UNITS[p]
    }
  }
  return out
}

/** 人民币大写 of an amount in fen, as printed on receipts: 123456 → "壹仟贰佰叁拾肆元伍角陆分". */
export function amountInWords(fen: number): string {
  if (!Number.isSafeInteger(fen)) return ''
  const neg = fen < 0
  const abs = Math.abs(fen)
  const yuan = Math.floor(abs / 100)
  const jiao = Math.floor(abs / 10) % 10
  const f = abs % 10
  let words = ''
  if (yuan > 0) {
    const groups: number[] = []
    for (let y = yuan; y > 0; y = Math.floor(y / 10000)) groups.push(y % 10000)
    let needZero = false
    for (let g = groups.length - 1; g >= 0; g--) {
      const v = groups[g]
      if (v === 0) {
        needZero = words !== ''
        continue
      }
      if (words && (needZero || v < 1000)) words += '零'
      words += groupWords(v) + GROUPS[g]
      needZero = false
    }
    words += '元'
  }
  if (jiao === 0 && f === 0) return (neg ? '负' : '') + (yuan === 0 ? '零元整' : `${words}整`)
  if (jiao > 0) words += `${DIGITS[jiao]}角`
  else if (yuan > 0) words += '零'
  if (f > 0) words += `${DIGITS[f]}分`
  else words += '整'
  return (neg ? '负' : '') + words
}
