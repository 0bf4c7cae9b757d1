// Components and pages of the acquisition console against a faked API: frames, rates, online
// state, the curve's figures, the command dialog (and the trip confirmation), the command list
// (live status, cancel), the on-demand read, the VEE decisions.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import { createMemoryHistory, createRouter } from 'vue-router'
import { useSession } from '@/stores/session'
import type { Me } from '@/api/types'
import { setLocale } from '@/i18n'
import FrameSummary from '@/components/acq/FrameSummary.vue'
import FrameDetail from '@/components/acq/FrameDetail.vue'
import FrameTable from '@/components/acq/FrameTable.vue'
import RateTag from '@/components/acq/RateTag.vue'
import OnlineTag from '@/components/acq/OnlineTag.vue'
import CurveChart from '@/components/acq/CurveChart.vue'
import CommandDialog from '@/components/acq/CommandDialog.vue'
import ReadNowDialog from '@/components/acq/ReadNowDialog.vue'
import CommandsView from '@/views/acquisition/CommandsView.vue'
import VeeView from '@/views/acquisition/VeeView.vue'
import TerminalStatesView from '@/views/acquisition/TerminalStatesView.vue'
import TerminalDetailView from '@/views/acquisition/TerminalDetailView.vue'
import { errorsShown, fakeFetch, flush } from './helpers'

// ECharts draws on a canvas, which happy-dom lacks (the e2e run draws the charts in Chromium).
vi.mock('vue-echarts', () => ({ default: { name: 'VChart', props: ['option'], template: '<div class="chart-stub" :data-series="option.series.length" />' } }))

afterEach(() => vi.unstubAllGlobals())

// Element Plus's selects loop in happy-dom: stand-ins (the e2e run drives the real ones).
const STUBS = { ElSelect: true, ElOption: true, ElTreeSelect: true, ElDatePicker: true }

const HEARTBEAT_HEX = '68 32 00 32 00 68 C9 71 01 22 08 00 02 79 00 00 04 00 E4 16'
const heartbeat = {
  protocol: 'Q/GDW 1376.1',
  afn: '02',
  afn_name: 'link interface check',
  control: { byte: 'C9', dir: 'terminal->master', func_name: 'link test' },
  groups: [{ da: '00 00', dt: '04 00', pns: [0], fns: [3], items: [{ pn: 0, fn: 3, name: 'heartbeat', length: 0 }] }],
}
const confirm = {
  protocol: 'Q/GDW 1376.1',
  afn: '00',
  afn_name: 'confirm/deny',
  groups: [{ pns: [0], fns: [1], items: [{ pn: 0, fn: 1, name: 'all confirmed' }] }],
}

function me(permissions: string[]) {
  useSession().me = { user: { display_name: '采集运维', department_id: 2 }, permissions, data_scope: 'department_and_below' } as unknown as Me
}
const OPERATOR = ['terminal.read', 'acquisition.read', 'acquisition.collect', 'acquisition.command', 'acquisition.vee', 'metering.read', 'customer.read', 'org.department.read']

async function mountPage(component: unknown, name: string, path: string, url: string) {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path, name, component: component as never },
      { path: '/acquisition/terminals/:id', name: 'acq-terminal', component: { template: '<div/>' } },
      { path: '/curves', name: 'acq-curves', component: { template: '<div/>' } },
      { path: '/commands', name: 'acq-commands', component: { template: '<div/>' } },
      { path: '/vee', name: 'acq-vee', component: { template: '<div/>' } },
    ],
  })
  await router.push(url)
  const w = mount(component as never, { global: { plugins: [router], stubs: STUBS } })
  await flush()
  await flush()
  return w
}

describe('frames', () => {
  it('a summary names the function in the console language, with the decoder’s words as fallback', async () => {
    const w = mount(FrameSummary, { props: { decoded: heartbeat } })
    expect(w.text()).toContain('AFN02')
    expect(w.text()).toContain('F3 p0')
    expect(w.text()).toContain('心跳')
    setLocale('en')
    await flush()
    expect(w.text()).toContain('Heartbeat')
    // a function the console has no words for: the AFN's words and the decoder's name of the item
    const unknown = mount(FrameSummary, { props: { decoded: { protocol: 'Q/GDW 1376.1', afn: '0D', groups: [{ pns: [1], fns: [250], items: [{ pn: 1, fn: 250, name: 'vendor F250' }] }] } } })
    expect(unknown.find('.name').text()).toBe('Class 2 data (frozen)')
    expect(unknown.find('.detail').text()).toBe('vendor F250')
  })
  it('an undecodable frame says why', () => {
    const w = mount(FrameSummary, { props: { decoded: { protocol: 'Q/GDW 1376.1', error: 'offset 3: L fields differ' } } })
    expect(w.find('.error').text()).toContain('offset 3: L fields differ')
    expect(w.find('.error').text()).toContain('无法解析')
  })
  it('the hex beside the decoded tree, the hex split into named fields', () => {
    const w = mount(FrameDetail, { props: { hex: HEARTBEAT_HEX, decoded: heartbeat, note: 'heartbeat' } })
    const fields = w.findAll('[data-test=frame-hex] .bytes .field')
    expect(fields.map((f) => f.text())).toEqual(['68 32 00 32 00 68', 'C9', '71 01 22 08 00', '02', '79', '00 00 04 00', 'E4', '16'])
    expect(fields[3].attributes('title')).toBe('应用功能码 AFN')
    const tree = w.find('[data-test=json-tree]')
    expect(tree.text()).toContain('afn_name')
    expect(tree.text()).toContain('"link interface check"')
    expect(w.text()).toContain('20 字节')
  })
  it('a table of frames: time, ↑ for what the terminal sent, ↓ for what the master sent', async () => {
    const w = mount(FrameTable, {
      props: {
        showTime: true,
        frames: [
          { key: 2, at: '2026-11-28T10:00:01Z', direction: 'out', hex: '68 00', decoded: confirm, note: 'heartbeat confirmed' },
          { key: 1, at: '2026-11-28T10:00:00Z', direction: 'in', hex: HEARTBEAT_HEX, decoded: heartbeat, note: 'heartbeat' },
        ],
      },
    })
    await flush()
    const rows = w.findAll('tbody tr')
    expect(rows).toHaveLength(2)
    expect(rows[0].find('[data-direction]').text()).toBe('↓ 下行')
    expect(rows[1].find('[data-direction]').text()).toBe('↑ 上行')
    expect(rows[0].text()).toContain('全部确认')
    expect(rows[1].text()).toContain('心跳')
    expect(rows[1].text()).toContain('20')
  })
})

describe('rates and states', () => {
  it('a rate is coloured by threshold', () => {
    expect(mount(RateTag, { props: { rate: '99.10' } }).find('[data-test=rate]').attributes('data-level')).toBe('good')
    expect(mount(RateTag, { props: { rate: '96.00' } }).find('[data-test=rate]').attributes('data-level')).toBe('fair')
    const poor = mount(RateTag, { props: { rate: '80.25', bar: true } })
    expect(poor.find('[data-test=rate]').attributes('data-level')).toBe('poor')
    expect(poor.text()).toBe('80.25 %')
    expect(poor.find('.fill').attributes('style')).toContain('width: 80.25%')
    const none = mount(RateTag, { props: { rate: null, bar: true } })
    expect(none.text()).toBe('–')
    expect(none.find('.fill').exists()).toBe(false)
  })
  it('online, offline (with since when and why) and never seen', () => {
    expect(mount(OnlineTag, { props: { status: { online: true, seen: true } } }).text()).toBe('在线')
    const off = mount(OnlineTag, { props: { status: { online: false, seen: true, offline_at: '2026-11-28T02:00:00Z', offline_reason: 'idle timeout' } } })
    expect(off.text()).toBe('离线')
    expect(off.find('[data-test=online-tag]').attributes('title')).toContain('idle timeout')
    expect(mount(OnlineTag, { props: { status: { online: false, seen: false } } }).find('[data-online]').attributes('data-online')).toBe('never')
  })
})

describe('CurveChart', () => {
  it('shows the exact sum of what was collected, the peak and the counts by quality', () => {
    const values: (string | null)[] = Array(96).fill('0.1250')
    values[3] = null
    values[4] = null
    values[80] = '0.9000'
    const quality = 'VVVMMEEEDS'.padEnd(96, 'V')
    const w = mount(CurveChart, { props: { curve: { metering_point_id: 1, day: '2026-11-27', quantity: 'fwd_active_energy', interval_minutes: 15, multiplier: 40, values, quality } } })
    // 93 × 0.125 + 0.9 = 12.525: shown exactly, and said to be the sum of the 94 values there
    expect(w.find('[data-test=curve-total]').text()).toBe('12.525')
    expect(w.text()).toContain('已采 94 点合计')
    expect(w.text()).toContain('20:00–20:15')
    expect(w.find('[data-quality=missing]').text()).toBe('缺失 2')
    expect(w.find('[data-quality=estimated]').text()).toBe('估算 3')
    expect(w.find('[data-quality=suspect]').text()).toBe('可疑 1')
    expect(w.text()).toContain('倍率 40')
    expect(w.find('[data-test=curve-chart]').attributes('data-missing')).toBe('2')
    expect(w.find('.chart-stub').attributes('data-series')).toBe('5')
  })
})

describe('CommandDialog', () => {
  const issued = (body: Record<string, unknown>) => ({ id: 7, terminal_id: 3, terminal_address: '1509-00003', kind: body.kind, status: 'pending', version: 1, params: body.params ?? {} })

  it('sends a time sync to the terminal with no parameters', async () => {
    me(OPERATOR)
    const calls = fakeFetch((method, _url, body) => (method === 'POST' ? [201, issued(body as Record<string, unknown>)] : [200, { items: [] }]))
    const w = mount(CommandDialog, { props: { modelValue: true, terminal: { id: 3, address_text: '1509-00003', asset_no: 'ZD3', kind: 'special_transformer' } }, global: { stubs: STUBS } })
    await flush()
    await w.find('[data-test=command-submit]').trigger('click')
    await flush()
    const post = calls.find((c) => c.method === 'POST')!
    expect(post.url).toBe('/api/v1/terminal-commands')
    expect(post.body).toEqual({ kind: 'time_sync', terminal_id: 3 })
    expect(w.emitted('issued')).toHaveLength(1)
  })

  it('a trip is confirmed by typing the target again before anything is sent', async () => {
    me(OPERATOR)
    const calls = fakeFetch((method, _url, body) => (method === 'POST' ? [201, issued(body as Record<string, unknown>)] : [200, { items: [] }]))
    const w = mount(CommandDialog, { props: { modelValue: true, terminal: { id: 3, address_text: '1509-00003', asset_no: 'ZD3', kind: 'special_transformer' } }, global: { stubs: STUBS } })
    await flush()
    ;(w.vm as unknown as { kind: string }).kind = 'trip'
    await flush()
    expect(w.text()).toContain('遥控跳闸会切断客户供电')
    await w.find('[data-test=command-submit]').trigger('click')
    await flush()
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(0)
    const confirmBox = w.find('[data-test=trip-confirm]')
    expect(confirmBox.exists()).toBe(true)
    expect(w.find('[data-test=trip-confirm-send]').attributes('disabled')).toBeDefined()
    await w.find('input[name=confirm-target]').setValue('1509-0000')
    expect(w.find('[data-test=trip-confirm-send]').attributes('disabled')).toBeDefined()
    await w.find('input[name=confirm-target]').setValue('1509-00003')
    expect(w.find('[data-test=trip-confirm-send]').attributes('disabled')).toBeDefined()
    await w.find('textarea[name=confirm-reason]').setValue('  欠费停电  ')
    expect(w.find('[data-test=trip-confirm-send]').attributes('disabled')).toBeUndefined()
    await w.find('[data-test=trip-confirm-send]').trigger('click')
    await flush()
    const post = calls.find((c) => c.method === 'POST')!
    expect(post.body).toEqual({
      kind: 'trip',
      terminal_id: 3,
      params: { round: 1, limit_half_hours: 0, alarm_delay_minutes: 0 },
      reason: '欠费停电',
    })
  })

  it('an API field error shows at its field', async () => {
    me(OPERATOR)
    fakeFetch((method) =>
      method === 'POST' ? [400, { error: { code: 'INVALID_ARGUMENT', message: 'params.round must be 1..8', field: 'params.round' } }] : [200, { items: [] }],
    )
    const w = mount(CommandDialog, { props: { modelValue: true, terminal: { id: 3, address_text: '1509-00003', asset_no: 'ZD3', kind: 'special_transformer' } }, global: { stubs: STUBS } })
    await flush()
    ;(w.vm as unknown as { kind: string }).kind = 'permit_close'
    await flush()
    await w.find('[data-test=command-submit]').trigger('click')
    await flush()
    await errorsShown()
    expect(w.find('.el-form-item.is-error').text()).toContain('params.round must be 1..8')
  })
})

describe('ReadNowDialog', () => {
  it('reads a point now and shows values, a missing value as no data, the errors and the frames', async () => {
    const calls = fakeFetch(() => [
      200,
      {
        metering_point_id: 5,
        terminal_id: 2,
        terminal_address: '1509-00002',
        point_no: 12,
        via: 'terminal',
        read_at: '2026-11-28T10:00:00Z',
        values: [
          { item: 'energy', source: 'AFN0C F129', name: 'fwd_active_total', value: '62146.0791', unit: 'kWh' },
          { item: 'energy', source: 'AFN0C F129', name: 'fwd_active_sharp', value: null, unit: 'kWh' },
        ],
        errors: ['power: the terminal denied the read (AFN00 F2)'],
        frames: [{ direction: 'out', hex: '68 32 00 32 00 68', note: 'AFN0C F129 request', decoded: null }],
      },
    ])
    const w = mount(ReadNowDialog, { props: { modelValue: true, pointId: 5, label: 'Pn 12' }, global: { stubs: STUBS } })
    await flush()
    await w.find('[data-test=read-run]').trigger('click')
    await flush()
    expect(calls[0]).toMatchObject({ method: 'POST', url: '/api/v1/metering-points/5/read-now', body: { items: ['energy'], via: 'terminal' } })
    const rows = w.findAll('[data-test=read-values] tbody tr')
    expect(rows[0].text()).toContain('正向有功 总')
    expect(rows[0].text()).toContain('62146.0791')
    expect(rows[1].text()).toContain('正向有功 尖')
    expect(rows[1].text()).toContain('无数据')
    expect(w.text()).toContain('the terminal denied the read')
    expect(w.find('[data-test=frame-table]').text()).toContain('AFN0C F129 request')
  })
})

describe('CommandsView', () => {
  const cmd = (id: number, status: string) => ({
    id, terminal_id: 3, terminal_address: '1509-00003', terminal_kind: 'special_transformer', metering_point_id: null, point_code: null, point_no: 1,
    meter_address: null, port: null, baud_rate: null, department_id: 4, kind: 'time_sync', params: {}, via: 'afn05', status, attempts: 1,
    request_hex: null, answer_hex: null, answer_text: status === 'confirmed' ? 'confirmed by the terminal (AFN00 F1)' : null, control_request_id: null,
    issued_by: 5, issued_by_name: 'manager', created_at: '2026-11-28T10:00:00Z', expires_at: '2026-11-29T10:00:00Z', sent_at: null, completed_at: null,
    updated_at: '2026-11-28T10:00:00Z', version: 3,
  })

  it('lists commands with their state, filters in the URL, cancels a pending one with its version', async () => {
    me(OPERATOR)
    const calls = fakeFetch((method, url) => {
      if (url.startsWith('/api/v1/departments')) return [200, { items: [], total: 0 }]
      if (method === 'POST' && url === '/api/v1/terminal-commands/9/cancel') return [200, cmd(9, 'cancelled')]
      return [200, { items: [cmd(9, 'pending'), cmd(8, 'confirmed')], page: 1, page_size: 20, total: 2 }]
    })
    const w = await mountPage(CommandsView, 'acq-commands', '/acquisition/commands', '/acquisition/commands?status=pending')
    const list = calls.find((c) => c.url.startsWith('/api/v1/terminal-commands?'))!
    expect(list.url).toContain('status=pending')
    const rows = w.findAll('[data-test=commands-table] tbody tr')
    expect(rows[0].find('[data-test=cmd-status-tag]').text()).toBe('待发送')
    expect(rows[1].find('[data-test=cmd-status-tag]').text()).toBe('已确认')
    expect(rows[1].text()).toContain('confirmed by the terminal')
    // a pending command keeps the page refreshing, and only it can be cancelled
    expect(w.find('[data-test=cmd-live]').exists()).toBe(true)
    expect(w.findAll('[data-test=cmd-cancel]')).toHaveLength(1)
    await w.find('[data-test=cmd-cancel]').trigger('click')
    await flush()
    ;(document.querySelector('.el-message-box .el-button--primary') as HTMLElement).click()
    await flush()
    await flush()
    const cancel = calls.find((c) => c.method === 'POST')!
    expect(cancel.url).toBe('/api/v1/terminal-commands/9/cancel')
    expect(cancel.body).toEqual({ version: 3 })
  })
})

describe('VeeView', () => {
  const issue = { id: 31, metering_point_id: 1, point_code: '020000000101', terminal_id: null, department_id: 4, day: '2026-11-26', rule: 'curve_sum', severity: 'suspect', detail: '96 intervals add up to 8.6 kWh but the register moved 11.8 kWh', status: 'open', note: '', detected_at: '2026-11-28T10:00:00Z', updated_at: '2026-11-28T10:00:00Z', resolved_by: null, resolved_by_name: null, resolved_at: null, version: 2 }
  const detail = {
    issue,
    point_name: '居民生活用电',
    days: [
      { day: '2026-11-26', quality: 'suspect', registers: { total: '62137.0145' }, multiplier: 1, use: '9.0646', open_rules: ['curve_sum'] },
      { day: '2026-11-27', quality: 'missing', registers: null, multiplier: null, use: null, open_rules: [] },
    ],
    curve: { metering_point_id: 1, day: '2026-11-26', quantity: 'fwd_active_energy', interval_minutes: 15, multiplier: 1, values: Array(96).fill('0.0900'), quality: 'S'.repeat(96) },
  }

  it('opens a finding with its days; dismissing needs a note; accepting sends the version', async () => {
    me(OPERATOR)
    const calls = fakeFetch((method, url) => {
      if (url.startsWith('/api/v1/departments')) return [200, { items: [], total: 0 }]
      if (url === '/api/v1/vee/issues/31') return [200, detail]
      if (method === 'POST') return [200, { ...issue, status: 'accepted', version: 3 }]
      return [200, { items: [issue], page: 1, page_size: 20, total: 1 }]
    })
    const w = await mountPage(VeeView, 'acq-vee', '/acquisition/vee', '/acquisition/vee?rule=curve_sum')
    const listUrl = calls.find((c) => c.url.startsWith('/api/v1/vee/issues?'))!.url
    expect(listUrl).toContain('rule=curve_sum')
    expect(listUrl).toContain('status=open')
    const row = w.find('[data-test=vee-table] tbody tr')
    expect(row.text()).toContain('曲线与示数差不符')
    await row.trigger('click')
    await flush()
    const drawer = w.find('[data-test=vee-detail]')
    expect(drawer.text()).toContain('96 intervals add up')
    const days = w.findAll('[data-test=vee-days] tbody tr')
    expect(days).toHaveLength(2)
    expect(days[1].text()).toContain('无数据')
    // dismiss without a note: nothing sent
    await w.find('[data-test=vee-dismiss]').trigger('click')
    await flush()
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(0)
    await errorsShown()
    expect(w.text()).toContain('判为误报需要填写原因')
    // accept with a note
    await w.find('textarea[name=vee-note]').setValue('曲线与示数差异已现场核实')
    await w.find('[data-test=vee-accept]').trigger('click')
    await flush()
    const post = calls.find((c) => c.method === 'POST')!
    expect(post.url).toBe('/api/v1/vee/issues/31/accept')
    expect(post.body).toEqual({ version: 2, note: '曲线与示数差异已现场核实' })
  })

  it('edits a day’s registers with the values seen and a reason', async () => {
    me(OPERATOR)
    const calls = fakeFetch((method, url) => {
      if (url.startsWith('/api/v1/departments')) return [200, { items: [], total: 0 }]
      if (url === '/api/v1/vee/issues/31') return [200, detail]
      if (method === 'PUT') return [200, { metering_point_id: 1, day: '2026-11-26', multiplier: 1, registers: { total: '62137.5000' }, quality: 'edited' }]
      return [200, { items: [issue], page: 1, page_size: 20, total: 1 }]
    })
    const w = await mountPage(VeeView, 'acq-vee', '/acquisition/vee', '/acquisition/vee?issue=31')
    await flush()
    await w.findAll('[data-test=vee-edit-day]')[0].trigger('click')
    await flush()
    await w.find('input[name=vee-reg-total]').setValue('62137.5')
    await w.find('[data-test=vee-day-save]').trigger('click')
    await flush()
    expect(calls.filter((c) => c.method === 'PUT')).toHaveLength(0) // no reason yet
    await w.find('textarea[name=vee-day-reason]').setValue('现场抄见示数')
    await w.find('[data-test=vee-day-save]').trigger('click')
    await flush()
    const put = calls.find((c) => c.method === 'PUT')!
    expect(put.url).toBe('/api/v1/vee/daily-frozen')
    expect(put.body).toEqual({ metering_point_id: 1, day: '2026-11-26', registers: { total: '62137.5' }, previous: { total: '62137.0145' }, reason: '现场抄见示数' })
  })
})

describe('TerminalStatesView', () => {
  it('shows the online counts and filters offline terminals through the URL', async () => {
    me(OPERATOR)
    const calls = fakeFetch((_method, url) => {
      if (url.startsWith('/api/v1/departments')) return [200, { items: [], total: 0 }]
      if (url.startsWith('/api/v1/acquisition/terminal-states/summary')) {
        return [200, { total: 68, online: 60, offline: 5, never_seen: 3, by_kind: [{ kind: 'public_transformer', total: 14, online: 12 }] }]
      }
      return [200, {
        items: [{ terminal_id: 2, asset_no: 'ZD2', address: '1509-00002', kind: 'public_transformer', department_id: 4, meter_count: 111, online: false, seen: true, peer: '10.0.0.2:5000', login_at: '2026-11-27T10:00:00Z', last_seen_at: '2026-11-28T01:00:00Z', offline_at: '2026-11-28T01:05:00Z', offline_reason: 'idle timeout', logins: 3 }],
        page: 1, page_size: 50, total: 1,
      }]
    })
    const w = await mountPage(TerminalStatesView, 'acq-terminals', '/acquisition/terminals', '/acquisition/terminals?online=false')
    expect(calls.find((c) => c.url.startsWith('/api/v1/acquisition/terminal-states?'))!.url).toContain('online=false')
    expect(w.find('[data-stat=online] .value').text()).toBe('60')
    expect(w.find('[data-stat=offline]').text()).toContain('另有 3 台从未上线')
    expect(w.find('[data-stat=offline]').classes()).toContain('on')
    // 60 of 68 online, floored: 88.23 %
    expect(w.find('[data-test=terminal-counts] [data-test=rate]').text()).toBe('88.23 %')
    const row = w.find('[data-test=terminal-states] tbody tr')
    expect(row.find('[data-online]').attributes('data-online')).toBe('offline')
    expect(row.text()).toContain('idle timeout')
  })
})

describe('TerminalDetailView', () => {
  const terminal = { id: 2, asset_no: 'ZD2', kind: 'public_transformer', area_code: '1509', address: 2, address_text: '1509-00002', make: '许继', model: 'DJGZ23', protocol: 'gdw1376_1', comm_mode: '4g', sim_no: null, department_id: 4, transformer_area_id: 1, customer_id: null, substation_id: null, status: 'installed', installed_on: '2019-01-18', meter_count: 1, meters: [{ id: 1, terminal_id: 2, meter_id: 11, meter_asset_no: 'M11', meter_comm_address: '000000000001', point_no: 1, port: 31, baud_rate: 9600, protocol: 'dlt645_2007', version: 1 }], version: 1 }
  const entry = (seq: number, direction: 'in' | 'out') => ({ seq, at: '2026-11-28T10:00:00Z', direction, terminal_address: '1509-00002', peer: '10.0.0.2:5000', hex: HEARTBEAT_HEX, decoded: direction === 'in' ? heartbeat : confirm, note: direction === 'in' ? 'heartbeat' : 'heartbeat confirmed' })

  it('pages the communication log back with "older" and shows the live link', async () => {
    me(OPERATOR)
    const calls = fakeFetch((_method, url) => {
      if (url.startsWith('/api/v1/departments')) return [200, { items: [], total: 0 }]
      if (url === '/api/v1/terminals/2') return [200, terminal]
      if (url === '/api/v1/terminals/2/link') return [200, { terminal_id: 2, terminal_address: '1509-00002', online: true, peer: '10.0.0.2:5000', login_at: '2026-11-28T09:00:00Z', last_seen: '2026-11-28T10:00:00Z', frames_in: 120, frames_out: 80, bad_frames: 1, queued_requests: 0 }]
      if (url.startsWith('/api/v1/terminals/2/comm-log') && url.includes('before=9')) return [200, { items: [entry(8, 'out'), entry(7, 'in')], next_before: null }]
      if (url.startsWith('/api/v1/terminals/2/comm-log')) return [200, { items: [entry(10, 'out'), entry(9, 'in')], next_before: 9 }]
      return [200, { items: [], page: 1, page_size: 10, total: 0 }]
    })
    const w = await mountPage(TerminalDetailView, 'acq-terminal-x', '/t/:id', '/t/2')
    await flush()
    expect(w.find('[data-test=terminal-head]').text()).toContain('1509-00002')
    expect(w.find('[data-test=terminal-head] [data-online]').attributes('data-online')).toBe('online')
    expect(w.find('[data-test=link-counters]').text()).toBe('↑120 ↓80')
    expect(w.findAll('[data-test=comm-log] tbody tr.el-table__row')).toHaveLength(2)
    expect(calls.find((c) => c.url.startsWith('/api/v1/terminals/2/comm-log'))!.url).toBe('/api/v1/terminals/2/comm-log?limit=50')
    await w.find('[data-test=log-older]').trigger('click')
    await flush()
    await flush()
    expect(calls.some((c) => c.url === '/api/v1/terminals/2/comm-log?limit=50&before=9')).toBe(true)
    const rows = w.findAll('[data-test=comm-log] tbody tr.el-table__row')
    expect(rows).toHaveLength(4)
    expect(rows[3].find('[data-direction]').text()).toBe('↑ 上行')
    expect(w.find('[data-test=log-older]').exists()).toBe(false) // the oldest entry is shown
  })

  it('says so when no front end runs in this server', async () => {
    me(OPERATOR)
    fakeFetch((_method, url) => {
      if (url.startsWith('/api/v1/departments')) return [200, { items: [], total: 0 }]
      if (url === '/api/v1/terminals/2') return [200, terminal]
      if (url.startsWith('/api/v1/terminals/2/')) return [503, { error: { code: 'UNAVAILABLE', message: 'no terminal front end runs in this process' } }]
      return [200, { items: [], page: 1, page_size: 10, total: 0 }]
    })
    const w = await mountPage(TerminalDetailView, 'acq-terminal-x', '/t/:id', '/t/2')
    await flush()
    expect(w.find('[data-test=no-front-end]').exists()).toBe(true)
    expect(w.find('[data-test=log-no-front-end]').text()).toContain('本服务未运行前置机')
  })
})
