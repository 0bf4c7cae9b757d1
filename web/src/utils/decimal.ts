// Exact decimal arithmetic on the API's decimal strings (prices with 4-8 decimals, kWh with 4):
// scaled BigInt, never binary floating point.

interface Scaled {
  v: bigint
  scale: number
}

function parse(text: string): Scaled | null {
  const m = String(text).trim().match(/^([+-]?)(\d+)(?:\.(\d+))?$/)
  if (!m) return null
  const frac = m[3] ?? ''
  const v = BigInt(m[2] + frac)
  return { v: m[1] === '-' ? -v : v, scale: frac.length }
}

function rescale(x: Scaled, scale: number): bigint {
  return x.v * 10n ** BigInt(scale - x.scale)
}

function format(v: bigint, scale: number): string {
  const neg = v < 0n
  let s = (neg ? -v : v).toString().padStart(scale + 1, '0')
  if (scale > 0) s = `${s.slice(0, s.length - scale)}.${s.slice(s.length - scale)}`
  return neg ? `-${s}` : s
}

/** a + b, keeping the larger number of decimals ("0.5000" + "0.05" = "0.5500"); null if either is not a decimal. */
export function addDecimal(a: string, b: string): string | null {
  const x = parse(a)
  const y = parse(b)
  if (!x || !y) return null
  const scale = Math.max(x.scale, y.scale)
  return format(rescale(x, scale) + rescale(y, scale), scale)
}

/** a − b, as addDecimal. */
export function subDecimal(a: string, b: string): string | null {
  const y = parse(b)
  if (!y) return null
  return addDecimal(a, format(-y.v, y.scale))
}

/** Whether `text` is a non-negative decimal with at most `maxDecimals` decimals (register readings). */
export function isDecimal(text: string, maxDecimals = 4): boolean {
  const m = String(text).trim().match(/^\d+(?:\.(\d+))?$/)
  return !!m && (m[1]?.length ?? 0) <= maxDecimals
}

/** Compares two decimal strings: -1, 0 or 1 (null when either is not a decimal). */
export function compareDecimal(a: string, b: string): number | null {
  const d = subDecimal(a, b)
  if (d === null) return null
  if (/^-/.test(d) && /[1-9]/.test(d)) return -1
  return /[1-9]/.test(d) ? 1 : 0
}
