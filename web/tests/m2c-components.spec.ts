import { afterEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import { visibleMenu, type MenuItem } from '@/menu'
import { ApiError, uploadFile } from '@/api/client'
import type { Receipt } from '@/api/meter-to-cash'
import JobProgress from '@/components/m2c/JobProgress.vue'
import PaymentReceipt from '@/components/m2c/PaymentReceipt.vue'
import ImportErrorTable from '@/components/m2c/ImportErrorTable.vue'
import BillLinesTable from '@/components/m2c/BillLinesTable.vue'
import TouStrip from '@/components/m2c/TouStrip.vue'
import { flush } from './helpers'

afterEach(() => vi.unstubAllGlobals())

const paths = (items: MenuItem[]): string[] => items.flatMap((i) => (i.children ? [i.path, ...paths(i.children)] : [i.path]))
const canOf = (perms: string[]) => (p?: string) => !p || perms.includes(p)

// The permissions of the built-in roles (src/org/permissions.cc).
const ROLES: Record<string, string[]> = {
  counter_clerk: ['org.department.read', 'customer.read', 'customer.write', 'customer.export', 'grid.read', 'metering.read', 'metering.write', 'terminal.read', 'reading.read', 'tariff.read', 'billing.trial', 'billing.read', 'accounts.read', 'payment.counter', 'payment.reverse', 'prepaid.read', 'prepaid.write'],
  meter_reader: ['org.department.read', 'customer.read', 'grid.read', 'metering.read', 'terminal.read', 'reading.read', 'reading.write', 'tariff.read'],
  billing_clerk: ['org.department.read', 'customer.read', 'customer.export', 'grid.read', 'metering.read', 'terminal.read', 'reading.read', 'reading.write', 'reading.review', 'tariff.read', 'billing.trial', 'billing.read', 'billing.run', 'billing.review', 'billing.correct', 'billing.export', 'accounts.read', 'prepaid.read', 'jobs.read'],
  finance_clerk: ['org.department.read', 'customer.read', 'billing.read', 'accounts.read', 'payment.counter', 'payment.reverse', 'bank.file', 'accounts.reconcile', 'accounts.late_fee', 'prepaid.read', 'jobs.read'],
}

describe('meter-to-cash menu by role', () => {
  it('a meter reader gets reading but not the review queue, billing or accounts', () => {
    const m = paths(visibleMenu(canOf(ROLES.meter_reader)))
    expect(m).toContain('/reading/plans')
    expect(m).toContain('/reading/import')
    expect(m).not.toContain('/reading/review')
    expect(m).toContain('/billing/tariffs')
    expect(m.filter((p) => p.startsWith('/billing/') && p !== '/billing/tariffs')).toEqual([])
    expect(m.some((p) => p.startsWith('/accounts') || p.startsWith('/prepaid') || p === '/jobs')).toBe(false)
  })
  it('a billing clerk gets review, runs and jobs but no cash desk', () => {
    const m = paths(visibleMenu(canOf(ROLES.billing_clerk)))
    for (const p of ['/reading/review', '/billing/trial', '/billing/runs', '/billing/review', '/billing/bills', '/jobs']) expect(m).toContain(p)
    expect(m).not.toContain('/accounts/counter')
    expect(m).not.toContain('/accounts/bank')
  })
  it('a counter clerk gets the counter, trial and prepaid, not bill runs or bank files', () => {
    const m = paths(visibleMenu(canOf(ROLES.counter_clerk)))
    for (const p of ['/accounts/counter', '/accounts/payments', '/billing/trial', '/prepaid/accounts', '/prepaid/controls']) expect(m).toContain(p)
    expect(m).toContain('/billing/runs') // billing.read: the runs list, read-only
    expect(m).not.toContain('/billing/review')
    expect(m).not.toContain('/accounts/bank')
    expect(m).not.toContain('/accounts/reconcile')
    expect(m).not.toContain('/jobs')
  })
  it('a finance clerk gets bank files, reconciliation and arrears', () => {
    const m = paths(visibleMenu(canOf(ROLES.finance_clerk)))
    for (const p of ['/accounts/counter', '/accounts/bank', '/accounts/reconcile', '/accounts/arrears', '/jobs']) expect(m).toContain(p)
    expect(m.some((p) => p.startsWith('/reading'))).toBe(false)
    expect(m).not.toContain('/billing/trial')
  })
  it('every group is a prefix of its entries (the e2e menu helper relies on it)', () => {
    const all = visibleMenu(() => true)
    for (const g of all.filter((i) => i.children)) for (const c of g.children!) expect(c.path.startsWith(`${g.path}/`)).toBe(true)
  })
})

describe('JobProgress', () => {
  it('shows percent, stage and counts of a running job, and cancels', async () => {
    const w = mount(JobProgress, { props: { job: { status: 'running', stage: 'rating', done: 250, total: 1000 }, canCancel: true } })
    expect(w.find('[data-test=job-progress]').attributes('data-percent')).toBe('25')
    expect(w.find('.el-progress').text()).toContain('25%')
    expect(w.find('[data-test=job-stage]').text()).toContain('计算电费')
    expect(w.find('[data-test=job-counts]').text()).toBe('250 / 1,000')
    expect(w.find('[data-test=job-status]').text()).toBe('运行中')
    await w.find('[data-test=job-cancel]').trigger('click')
    expect(w.emitted('cancel')).toHaveLength(1)
  })
  it('a finished job has no cancel button, a failed one shows its error', () => {
    const w = mount(JobProgress, { props: { job: { status: 'failed', stage: 'rating', done: 3, total: 10, error: 'tariff x missing' }, canCancel: true } })
    expect(w.find('[data-test=job-cancel]').exists()).toBe(false)
    expect(w.find('[data-test=job-error]').text()).toContain('tariff x missing')
    expect(w.find('.el-progress').classes()).toContain('is-exception')
  })
  it('a cancel already asked for is shown, not asked again', () => {
    const w = mount(JobProgress, { props: { job: { status: 'running', done: 1, total: 2, cancel_requested: true }, canCancel: true } })
    expect(w.find('[data-test=job-cancel]').attributes('disabled')).toBeDefined()
    expect(w.find('[data-test=job-cancel]').text()).toContain('正在取消')
  })
  it('succeeded is 100 %', () => {
    const w = mount(JobProgress, { props: { job: { status: 'succeeded', done: 0, total: 0 } } })
    expect(w.find('[data-test=job-progress]').attributes('data-percent')).toBe('100')
    expect(w.find('.el-progress').classes()).toContain('is-success')
  })
})

const receipt: Receipt = {
  payment_id: 1,
  receipt_no: 'SK20261128-00000001',
  customer_id: 1,
  customer_no: '0200000001',
  customer_name: '冯永辉',
  customer_address: '集宁区前进路144号',
  department_id: 4,
  source: 'counter',
  method: 'cash',
  amount: '616.00',
  tendered: '700.00',
  change: '84.00',
  principal: '600.00',
  late_fee: '16.00',
  credit: '0.00',
  prepaid: '0.00',
  pay_date: '2026-11-28',
  clearing_date: '2026-11-28',
  lines: [
    { receivable_id: 1, bill_no: '202609000000000101', period: '2026-09', principal: '300.00', late_fee: '16.00' },
    { receivable_id: 2, bill_no: '202610000000000101', period: '2026-10', principal: '300.00', late_fee: '0.00' },
  ],
  status: 'posted',
  cashier: 'clerk',
  created_at: '2026-11-28T07:28:15Z',
  version: 1,
}

describe('PaymentReceipt', () => {
  it('prints the bills paid, the amount in figures and words, tendered and change', () => {
    const w = mount(PaymentReceipt, { props: { receipt } })
    expect(w.find('[data-test=receipt-no]').text()).toBe('SK20261128-00000001')
    expect(w.findAll('tbody tr')).toHaveLength(2)
    expect(w.find('tbody tr').text()).toContain('202609000000000101')
    expect(w.find('tbody tr').text()).toContain('16.00')
    expect(w.find('[data-test=receipt-amount]').text()).toBe('¥616.00')
    expect(w.find('[data-test=receipt-words]').text()).toBe('陆佰壹拾陆元整')
    expect(w.find('[data-test=receipt-change]').text()).toBe('84.00')
    expect(w.text()).toContain('集宁区前进路144号')
    expect(w.find('.gm-print-area').exists()).toBe(true) // the print stylesheet prints only this
    expect(w.find('[data-test=receipt-reversed]').exists()).toBe(false)
  })
  it('a reversed receipt says so', () => {
    const w = mount(PaymentReceipt, { props: { receipt: { ...receipt, status: 'reversed', reversal_reason: '金额录错', reversed_at: '2026-11-28T08:00:00Z' } } })
    expect(w.find('[data-test=receipt-reversed]').text()).toBe('已冲正')
    expect(w.text()).toContain('金额录错')
  })
  it('overpayment to credit, card without change', () => {
    const w = mount(PaymentReceipt, { props: { receipt: { ...receipt, method: 'card', tendered: null, change: '0.00', credit: '34.00', amount: '650.00' } } })
    expect(w.text()).toContain('转预收')
    expect(w.find('[data-test=receipt-change]').exists()).toBe(false)
    expect(w.find('[data-test=receipt-words]').text()).toBe('陆佰伍拾元整')
  })
})

describe('ImportErrorTable', () => {
  it('lists every bad line in line order with the message, and says nothing was stored', async () => {
    const lines = [
      { line: 7, message: 'point_code 0200 is not a metering point' },
      { line: 3, message: 'read_date 2026-13-01 is not a date' },
    ]
    const w = mount(ImportErrorTable, { props: { message: 'the file has 2 bad lines', lines, fileName: 'reads.csv' } })
    await flush()
    expect(w.find('[data-test=import-error-message]').text()).toBe('the file has 2 bad lines')
    expect(w.findAll('[data-test=error-line]').map((x) => x.text())).toEqual(['3', '7'])
    expect(w.find('[data-test=import-error-table]').text()).toContain('read_date 2026-13-01 is not a date')
    expect(w.text()).toContain('均未保存')
    expect(w.text()).toContain('reads.csv')
  })
  it('pages long lists', async () => {
    const lines = Array.from({ length: 120 }, (_, i) => ({ line: i + 2, message: `bad ${i + 2}` }))
    const w = mount(ImportErrorTable, { props: { message: 'x', lines } })
    await flush()
    expect(w.findAll('[data-test=error-line]')).toHaveLength(50)
    expect(w.text()).toContain('共 120 处错误')
  })
})

describe('BillLinesTable', () => {
  it('sums the lines exactly and flags a total that differs', () => {
    const line = (amount: string) => ({ kind: 'energy', description: '电度电费', tariff_code: 'x', period_code: 'peak', tier: 0, quantity: '1', unit: 'kWh', unit_price: '0.1', amount, rule: 'r', sources: [] })
    const ok = mount(BillLinesTable, { props: { lines: [line('0.10'), line('0.20')], total: '0.30' } })
    expect(ok.find('[data-test=lines-total]').text()).toContain('¥0.30')
    expect(ok.find('.el-tag--danger').exists()).toBe(false)
    const bad = mount(BillLinesTable, { props: { lines: [line('0.10'), line('0.20')], total: '0.31' } })
    expect(bad.find('.el-tag--danger').exists()).toBe(true)
  })
})

describe('TouStrip', () => {
  it('draws one segment per range, as wide as its share of the day', () => {
    const w = mount(TouStrip, { props: { ranges: [{ from: '00:00', to: '06:00', period: 'valley' }, { from: '06:00', to: '24:00', period: 'flat' }] } })
    const segs = w.findAll('.seg')
    expect(segs.map((s) => s.attributes('data-period'))).toEqual(['valley', 'flat'])
    expect(segs[0].attributes('style')).toContain('width: 25%')
    expect(segs[1].text()).toBe('平段')
  })
})

describe('file uploads', () => {
  it('send the file as the body with its type, and a rejection carries the bad lines', async () => {
    const calls: { url: string; type: string | null; body: unknown }[] = []
    vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
      calls.push({ url, type: new Headers(init.headers).get('Content-Type'), body: init.body })
      return new Response(JSON.stringify({ error: { code: 'INVALID_ARGUMENT', message: '2 bad lines' }, bad_lines: [{ line: 4, reason: 'amount x' }] }), { status: 400 })
    })
    const file = new Blob(['H|1\n'], { type: 'text/plain' })
    const err = (await uploadFile('debit-batches/3/return', file, 'application/octet-stream', { file_name: 'ret.txt' }).catch((e) => e)) as ApiError
    expect(calls[0].url).toBe('/api/v1/debit-batches/3/return?file_name=ret.txt')
    expect(calls[0].type).toBe('application/octet-stream')
    expect(calls[0].body).toBe(file)
    expect(err).toBeInstanceOf(ApiError)
    expect(err.lines).toEqual([{ line: 4, message: 'amount x', field: undefined }])
  })
  it('the reads import answers its lines under "lines"', async () => {
    vi.stubGlobal('fetch', async () =>
      new Response(JSON.stringify({ error: { code: 'INVALID_ARGUMENT', message: 'bad file' }, lines: [{ line: 2, message: 'no such point' }] }), { status: 400 }),
    )
    const err = (await uploadFile('meter-reads/import', new Blob(['x']), 'text/csv').catch((e) => e)) as ApiError
    expect(err.status).toBe(400)
    expect(err.lines).toEqual([{ line: 2, message: 'no such point', field: undefined }])
  })
})
