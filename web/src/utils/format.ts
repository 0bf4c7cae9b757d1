// Display formats. Instants from the API are UTC RFC 3339; the console shows them in the
// browser's zone (the bureau's) as YYYY-MM-DD HH:mm:ss.

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n)
}

export function formatDateTime(v: string | null | undefined): string {
  if (!v) return ''
  const d = new Date(v)
  if (Number.isNaN(d.getTime())) return v
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  )
}

export function formatDate(v: string | null | undefined): string {
  if (!v) return ''
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) return v
  return formatDateTime(v).slice(0, 10)
}

/** 10000 -> "10 kV", 220 -> "220 V" */
export function formatVoltage(v: number | null | undefined): string {
  if (v === null || v === undefined) return ''
  return v >= 1000 ? `${v / 1000} kV` : `${v} V`
}

export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined) return '–'
  return n.toLocaleString('en-US')
}

/** Readings {"total":"12.3","peak":"4"} as "total 12.3 · peak 4" with labels. */
export function formatReadings(
  r: Record<string, string> | null | undefined,
  label: (register: string) => string,
): string {
  if (!r) return ''
  return Object.entries(r)
    .map(([k, v]) => `${label(k)} ${v}`)
    .join(' · ')
}

/** The fields whose values differ between an audit row's before and after. */
export function changedFields(
  before: Record<string, unknown> | null,
  after: Record<string, unknown> | null,
): { field: string; before: unknown; after: unknown }[] {
  const keys = new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])
  const out: { field: string; before: unknown; after: unknown }[] = []
  for (const k of keys) {
    if (k === 'version' || k === 'updated_at' || k === 'updated_at_us') continue
    const b = before?.[k]
    const a = after?.[k]
    if (JSON.stringify(b) !== JSON.stringify(a)) out.push({ field: k, before: b, after: a })
  }
  return out
}

export function displayValue(v: unknown): string {
  if (v === null || v === undefined || v === '') return '∅'
  if (typeof v === 'object') return JSON.stringify(v)
  return String(v)
}

/** Today in the browser's zone as YYYY-MM-DD. */
export function today(now = new Date()): string {
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`
}

/** The billing month (电费年月) `offset` months from `now`'s: previousPeriod() is last month. */
export function periodOf(now = new Date(), offset = 0): string {
  const d = new Date(now.getFullYear(), now.getMonth() + offset, 1)
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}`
}
export const previousPeriod = (now = new Date()) => periodOf(now, -1)
