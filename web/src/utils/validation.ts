// Checks the browser makes before sending an edit, so that a typo is caught at once. The API
// checks everything again and its field errors are shown the same way.

export const CUSTOMER_EDITABLE = [
  'name',
  'category',
  'id_doc_type',
  'id_doc_no',
  'address',
  'postal_address',
  'phone',
  'mobile',
  'email',
  'status',
  'transformer_area_id',
  'opened_on',
  'closed_on',
  'remark',
] as const
export type CustomerField = (typeof CUSTOMER_EDITABLE)[number]
/** Fields the API accepts null for (null clears them). */
export const CUSTOMER_NULLABLE: CustomerField[] = [
  'postal_address',
  'phone',
  'mobile',
  'email',
  'transformer_area_id',
  'opened_on',
  'closed_on',
]
export type CustomerForm = Record<CustomerField, string | number | null>

export function validateCustomer(
  f: CustomerForm,
  tr: (k: string) => string,
): Partial<Record<CustomerField, string>> {
  const e: Partial<Record<CustomerField, string>> = {}
  const name = String(f.name ?? '').trim()
  if (!name) e.name = tr('validation.required')
  else if ([...name].length > 100) e.name = tr('validation.max100')
  if (!String(f.address ?? '').trim()) e.address = tr('validation.required')
  if (f.mobile && !/^1\d{10}$/.test(String(f.mobile).trim())) e.mobile = tr('validation.mobile')
  if (f.email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(String(f.email).trim())) {
    e.email = tr('validation.email')
  }
  if (
    f.id_doc_type === 'resident_id' &&
    f.id_doc_no &&
    !/^\d{17}[\dXx]$/.test(String(f.id_doc_no).trim())
  ) {
    e.id_doc_no = tr('validation.residentId')
  }
  if (f.closed_on && f.opened_on && String(f.closed_on) < String(f.opened_on)) {
    e.closed_on = tr('validation.closedBeforeOpened')
  }
  return e
}

/** The changed fields of `form` against `before`, as the PATCH body wants them. */
export function customerChanges(
  before: Record<string, unknown>,
  form: CustomerForm,
): Partial<Record<CustomerField, unknown>> {
  const norm = (v: unknown) => (v === '' || v === undefined ? null : v)
  const out: Partial<Record<CustomerField, unknown>> = {}
  for (const f of CUSTOMER_EDITABLE) {
    const was = norm(before[f])
    let now = norm(form[f])
    if (typeof now === 'string') now = now.trim() || null
    if (was !== now) out[f] = now === null && !CUSTOMER_NULLABLE.includes(f) ? '' : now
  }
  return out
}
