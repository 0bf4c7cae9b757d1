// Arrears aging (账龄) for the chart and the table: the buckets of each department in fen.
import type { Aging, AgingRow } from '@/api/meter-to-cash'
import { parseFen } from './money'

export const AGING_BUCKETS = ['current', 'd0_30', 'd31_60', 'd61_90', 'd90_plus'] as const
export type AgingBucket = (typeof AGING_BUCKETS)[number]
export const AGING_COLORS: Record<AgingBucket, string> = {
  current: '#9aa5b1',
  d0_30: '#f9c74f',
  d31_60: '#f8961e',
  d61_90: '#f3722c',
  d90_plus: '#c0392b',
}

export interface AgingBars {
  departments: string[]
  /** per bucket, per department: fen */
  fen: Record<AgingBucket, number[]>
}

/** The departments (short names) and each bucket's amounts in fen, biggest overdue first. */
export function agingBars(a: Aging | null): AgingBars {
  const rows: AgingRow[] = [...(a?.rows ?? [])].sort((x, y) => (parseFen(y.overdue) ?? 0) - (parseFen(x.overdue) ?? 0))
  const fen = Object.fromEntries(AGING_BUCKETS.map((b) => [b, rows.map((r) => parseFen(r[b]) ?? 0)])) as Record<AgingBucket, number[]>
  return { departments: rows.map((r) => r.department_name.replace(/供电(分局|所|公司)$/, '')), fen }
}

/** Share of the overdue total that is more than 90 days overdue, in whole percent (rounded half up). */
export function over90Share(row: AgingRow): number {
  const overdue = parseFen(row.overdue) ?? 0
  if (overdue <= 0) return 0
  return Math.floor(((parseFen(row.d90_plus) ?? 0) * 200 + overdue) / (2 * overdue))
}
