// Names of the values an on-demand read returns ("fwd_active_sharp", "voltage_a",
// "current_zero_sequence", "meter_date") split into the quantity and the part (rate or phase),
// so that the console can say them in its language.

export const VALUE_QUANTITIES = [
  'fwd_active',
  'fwd_reactive',
  'q1_reactive',
  'q4_reactive',
  'active_power',
  'reactive_power',
  'apparent_power',
  'power_factor',
  'voltage',
  'current',
] as const

/** { quantity: 'fwd_active', part: 'sharp' } of "fwd_active_sharp"; null for a name of its own ("clock"). */
export function splitValueName(name: string): { quantity: string; part: string } | null {
  for (const q of VALUE_QUANTITIES) {
    if (name.startsWith(`${q}_`) && name.length > q.length + 1) return { quantity: q, part: name.slice(q.length + 1) }
  }
  return null
}

/** The words of a value name: "正向有功 尖" from the quantity and part labels, or the whole name's label. */
export function valueLabel(name: string, label: (group: string, key: string) => string | null): string {
  const whole = label('readValue', name)
  if (whole) return whole
  const s = splitValueName(name)
  if (!s) return name
  const q = label('readQuantity', s.quantity) ?? s.quantity
  const rate = /^rate_(\d+)$/.exec(s.part)
  const p = rate ? `${label('readPart', 'rate') ?? 'rate'} ${rate[1]}` : (label('readPart', s.part) ?? s.part)
  return `${q} ${p}`
}
