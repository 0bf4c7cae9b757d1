// Display helpers of the tariff catalogue.
import type { TariffVersion, TouPeriodCode } from '@/api/meter-to-cash'
import { TOU_PERIODS } from '@/api/meter-to-cash'
import { addDecimal } from './decimal'

export interface TierRow {
  tier: 1 | 2 | 3
  /** exclusive lower bound (kWh per cycle); 0 for tier 1 */
  above: number
  /** inclusive upper bound; null for the last tier */
  upTo: number | null
  /** the tier's increment over the base price */
  increment: string
  /** the energy price of the tier (flat pricing), exactly base + increment */
  price: string | null
}

/** The residential tiers of a version, one set of rows per group of months with its own bounds. */
export function tierRows(v: TariffVersion): { months: number[]; rows: TierRow[] }[] {
  if (!v.tiers) return []
  const base = v.pricing === 'flat' ? v.flat_price : null
  return v.tiers.bounds.map((b) => {
    const incs = ['0', v.tiers!.increments[0], v.tiers!.increments[1]]
    const rows: TierRow[] = [0, 1, 2].map((i) => ({
      tier: (i + 1) as 1 | 2 | 3,
      above: i === 0 ? 0 : b.upper_kwh[i - 1],
      upTo: i < 2 ? b.upper_kwh[i] : null,
      increment: incs[i],
      price: base ? addDecimal(base, incs[i]) : null,
    }))
    return { months: b.months, rows }
  })
}

/** The periods any season of the version prices, in the order 尖 峰 平 谷 深谷. */
export function pricedPeriods(v: TariffVersion): TouPeriodCode[] {
  return TOU_PERIODS.filter((p) => v.seasons.some((s) => s.prices[p]))
}

/** The version in force on `day` (YYYY-MM-DD), or the latest. */
export function versionOn(versions: TariffVersion[], day: string): TariffVersion | undefined {
  return (
    versions.find((v) => v.effective_from <= day && (!v.effective_to || day <= v.effective_to)) ??
    versions[versions.length - 1]
  )
}
