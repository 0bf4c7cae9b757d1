import { describe, expect, it } from 'vitest'
import { customerChanges, validateCustomer, type CustomerForm } from '@/utils/validation'

const base = {
  name: '张三',
  category: 'residential',
  id_doc_type: 'resident_id',
  id_doc_no: '150902196506232813',
  address: '集宁区前进路1号',
  postal_address: null,
  phone: null,
  mobile: '13312239153',
  email: null,
  status: 'active',
  transformer_area_id: 1,
  opened_on: '2008-10-16',
  closed_on: null,
  remark: '',
} as CustomerForm
const tr = (k: string) => k

describe('validateCustomer', () => {
  it('accepts a good record', () => {
    expect(validateCustomer(base, tr)).toEqual({})
  })
  it('names each bad field', () => {
    const e = validateCustomer(
      { ...base, name: ' ', address: '', mobile: '123', email: 'a@', id_doc_no: '12345', closed_on: '2000-01-01' },
      tr,
    )
    expect(e).toEqual({
      name: 'validation.required',
      address: 'validation.required',
      mobile: 'validation.mobile',
      email: 'validation.email',
      id_doc_no: 'validation.residentId',
      closed_on: 'validation.closedBeforeOpened',
    })
  })
  it('counts characters, not bytes, for the 100 limit', () => {
    expect(validateCustomer({ ...base, name: '电'.repeat(100) }, tr)).toEqual({})
    expect(validateCustomer({ ...base, name: '电'.repeat(101) }, tr).name).toBe('validation.max100')
  })
})

describe('customerChanges', () => {
  it('sends only what changed, trimmed, with null clearing a nullable field', () => {
    const form = { ...base, remark: ' 新备注 ', mobile: '', transformer_area_id: null }
    expect(customerChanges(base as Record<string, unknown>, form)).toEqual({
      remark: '新备注',
      mobile: null,
      transformer_area_id: null,
    })
  })
  it('sends nothing when nothing changed', () => {
    expect(customerChanges(base as Record<string, unknown>, { ...base })).toEqual({})
  })
})
