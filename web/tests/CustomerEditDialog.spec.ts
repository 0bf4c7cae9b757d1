import { afterEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import CustomerEditDialog from '@/components/CustomerEditDialog.vue'
import type { Customer } from '@/api/types'
import { errorsShown, fakeFetch, flush } from './helpers'

const customer: Customer = {
  id: 7,
  customer_no: '0200000007',
  name: '张雨梅',
  category: 'residential',
  id_doc_type: 'resident_id',
  id_doc_no: '150902197507102687',
  address: '乌兰察布市集宁区前进路144号',
  postal_address: null,
  phone: null,
  mobile: '15745260770',
  email: null,
  status: 'active',
  department_id: 4,
  transformer_area_id: null,
  account_manager_id: null,
  opened_on: '2021-07-19',
  closed_on: null,
  remark: '',
  version: 3,
}

async function mountDialog() {
  const w = mount(CustomerEditDialog, {
    props: { modelValue: true, customer },
    attachTo: document.body,
    global: { stubs: { ElSelect: true, ElOption: true, ElDatePicker: true, TransformerAreaSelect: true } },
  })
  await flush()
  return w
}
const item = (w: Awaited<ReturnType<typeof mountDialog>>, label: string) =>
  w.findAll('.el-form-item').find((f) => f.find('.el-form-item__label').text() === label)!

afterEach(() => {
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

describe('CustomerEditDialog', () => {
  it('checks the mobile number before sending anything', async () => {
    const calls = fakeFetch(() => [200, {}])
    const w = await mountDialog()
    await w.find('input[name=mobile]').setValue('123')
    await w.find('[data-test=customer-save]').trigger('click')
    await errorsShown()
    expect(calls).toHaveLength(0)
    expect(item(w, '手机').classes()).toContain('is-error')
    expect(item(w, '手机').text()).toContain('手机号应为 1 开头的 11 位数字')
  })

  it('sends only the changed field with the version, and emits the saved record', async () => {
    const calls = fakeFetch((_m, _u, body) => [200, { ...customer, ...(body as object), version: 4 }])
    const w = await mountDialog()
    await w.find('textarea[name=remark]').setValue('  换表后回访 ')
    await w.find('[data-test=customer-save]').trigger('click')
    await flush()
    expect(calls).toHaveLength(1)
    expect(calls[0].method).toBe('PATCH')
    expect(calls[0].url).toBe('/api/v1/customers/7')
    expect(calls[0].body).toEqual({ remark: '换表后回访', version: 3 })
    const saved = w.emitted('saved')![0][0] as Customer
    expect(saved.version).toBe(4)
    expect(w.emitted('update:modelValue')![0]).toEqual([false])
  })

  it("shows the API's field error at that field", async () => {
    fakeFetch(() => [
      400,
      { error: { code: 'INVALID_ARGUMENT', field: 'id_doc_no', message: 'id_doc_no is not a valid resident identity number' } },
    ])
    const w = await mountDialog()
    await w.find('input[name=id_doc_no]').setValue('150902197507102680')
    await w.find('[data-test=customer-save]').trigger('click')
    await flush()
    await errorsShown()
    const f = item(w, '证件号码')
    expect(f.classes()).toContain('is-error')
    expect(f.find('.el-form-item__error').text()).toBe('id_doc_no is not a valid resident identity number')
    expect(w.emitted('saved')).toBeUndefined()
  })

  it('explains a version conflict (409) and offers to reload', async () => {
    fakeFetch(() => [
      409,
      { error: { code: 'CONFLICT', message: 'customer 7 was changed by someone else (now version 4, your edit was based on version 3); reload it and try again' } },
    ])
    const w = await mountDialog()
    await w.find('input[name=address]').setValue('乌兰察布市集宁区新华街1号')
    await w.find('[data-test=customer-save]').trigger('click')
    await flush()
    await flush()
    const conflict = w.find('[data-test=conflict]')
    expect(conflict.exists()).toBe(true)
    expect(conflict.text()).toContain('保存失败：记录已被他人修改')
    expect(conflict.text()).toContain('now version 4')
    await conflict.find('button').trigger('click')
    expect(w.emitted('reload')).toHaveLength(1)
  })
})
