import { afterEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import { createMemoryHistory, createRouter } from 'vue-router'
import CounterView from '@/views/accounts/CounterView.vue'
import { useSession } from '@/stores/session'
import type { Me } from '@/api/types'
import { fakeFetch, flush } from './helpers'

const arrears = {
  customer_id: 1,
  customer_no: '0200000001',
  name: '冯永辉',
  address: '集宁区前进路144号',
  department_id: 4,
  as_of: '2026-11-28',
  bills: [
    { receivable_id: 1, bill_id: 1, bill_no: '202609000000000101', period: '2026-09', amount: '300.00', principal: '300.00', late_fee: '16.00', due_date: '2026-10-13', days_overdue: 46, frozen: false },
    { receivable_id: 2, bill_id: 2, bill_no: '202610000000000101', period: '2026-10', amount: '300.00', principal: '300.00', late_fee: '0.00', due_date: '2026-12-13', days_overdue: 0, frozen: false },
  ],
  principal: '600.00',
  late_fee: '16.00',
  total: '616.00',
  credit: '0.00',
  prepaid_account_id: null,
  prepaid_balance: null,
}

async function mountAt(url: string) {
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/accounts/counter', name: 'counter', component: CounterView }] })
  await router.push(url)
  useSession().me = { user: { display_name: '营业员', department_id: 4 }, permissions: ['accounts.read', 'payment.counter', 'payment.reverse', 'customer.read'], data_scope: 'department_and_below' } as unknown as Me
  const w = mount(CounterView, { global: { plugins: [router], stubs: { ElDatePicker: true } } })
  await flush()
  await flush()
  return w
}

afterEach(() => vi.unstubAllGlobals())

describe('CounterView', () => {
  it('shows what the customer owes with the late fee, computes change, takes cash and shows the receipt', async () => {
    const calls = fakeFetch((method, url, body) => {
      if (url.startsWith('/api/v1/customers/1/arrears')) return [200, arrears]
      if (method === 'GET' && url.startsWith('/api/v1/payments')) return [200, { items: [], page: 1, page_size: 50, total: 0 }]
      if (method === 'POST' && url === '/api/v1/payments') {
        return [201, {
          payment_id: 9, receipt_no: 'SK20261128-00000009', customer_id: 1, customer_no: '0200000001', customer_name: '冯永辉', department_id: 4,
          source: 'counter', method: 'cash', amount: (body as { amount: string }).amount, tendered: '700.00', change: '84.00', principal: '600.00', late_fee: '16.00',
          credit: '0.00', prepaid: '0.00', pay_date: '2026-11-28', clearing_date: '2026-11-28',
          lines: [{ receivable_id: 1, bill_no: '202609000000000101', period: '2026-09', principal: '300.00', late_fee: '16.00' }, { receivable_id: 2, bill_no: '202610000000000101', period: '2026-10', principal: '300.00', late_fee: '0.00' }],
          status: 'posted', cashier: 'clerk', created_at: '2026-11-28T07:28:15Z', version: 1,
        }]
      }
      return [404, { error: { code: 'NOT_FOUND', message: url } }]
    })
    const w = await mountAt('/accounts/counter?customer=1')
    expect(w.find('[data-test=counter-customer]').text()).toContain('冯永辉')
    expect(w.find('[data-test=counter-total]').text()).toBe('¥616.00')
    expect(w.find('[data-test=counter-sums]').text()).toContain('16.00')
    expect((w.find('input[name=counter-amount]').element as HTMLInputElement).value).toBe('616.00')
    await w.find('input[name=counter-tendered]').setValue('700')
    expect(w.find('[data-test=counter-change]').text()).toContain('¥84.00')
    await w.find('form.pay-form').trigger('submit')
    await flush()
    const post = calls.find((c) => c.method === 'POST')!
    expect(post.body).toEqual({ customer_id: 1, amount: '616.00', method: 'cash', tendered: '700.00' })
    expect(w.find('[data-test=receipt-no]').text()).toBe('SK20261128-00000009')
    expect(w.find('[data-test=receipt-words]').text()).toBe('陆佰壹拾陆元整')
    // the address comes from the arrears the clerk looked at
    expect(w.find('[data-test=receipt]').text()).toContain('集宁区前进路144号')
  })

  it('does not send a payment with too little cash', async () => {
    const calls = fakeFetch((_method, url) => {
      if (url.startsWith('/api/v1/customers/1/arrears')) return [200, arrears]
      return [200, { items: [], page: 1, page_size: 50, total: 0 }]
    })
    const w = await mountAt('/accounts/counter?customer=1')
    await w.find('input[name=counter-tendered]').setValue('600')
    expect(w.find('[data-test=counter-change]').text()).toContain('–')
    expect(w.find('[data-test=counter-pay]').attributes('disabled')).toBeDefined()
    await w.find('form.pay-form').trigger('submit')
    await flush()
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(0)
  })
})
