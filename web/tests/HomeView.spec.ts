import { afterEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import { createRouter, createMemoryHistory } from 'vue-router'
import HomeView from '@/views/HomeView.vue'
import { useSession } from '@/stores/session'
import type { Me, StatsOverview } from '@/api/types'
import { fakeFetch, flush } from './helpers'

// ECharts draws on a canvas, which happy-dom lacks: the charts are stand-ins here (the e2e run
// draws them in Chromium).
vi.mock('vue-echarts', () => ({ default: { name: 'VChart', props: ['option'], template: '<div class="chart-stub" />' } }))

function mountWith(stats: StatsOverview, permissions: string[]) {
  fakeFetch(() => [200, stats])
  useSession().me = { user: { display_name: '潘永斌' }, permissions, data_scope: stats.data_scope } as unknown as Me
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/:p(.*)*', component: { template: '<div/>' } }] })
  return mount(HomeView, { global: { plugins: [router] } })
}

afterEach(() => vi.unstubAllGlobals())

describe('HomeView', () => {
  it('shows the counts of the scope', async () => {
    const w = mountWith(
      {
        data_scope: 'department_and_below',
        department_id: 3,
        customers: { total: 3820, by_category: { residential: 3402, commercial: 274, large_industry: 38, agricultural: 74, other: 32 } },
        customers_by_county: [{ department_id: 3, department_name: '集宁区供电分局', total: 3820, by_category: { residential: 3402 } }],
        metering_points: { total: 3835, by_status: { active: 3805 } },
        meters: { total: 3835, by_status: { installed: 3818, in_stock: 0 } },
        terminals: { total: 84, by_kind: { public_transformer: 25 } },
      },
      ['customer.read', 'metering.read', 'terminal.read'],
    )
    await flush()
    await flush()
    expect(w.find('[data-stat=customers] .stat-value').text()).toBe('3,820')
    expect(w.find('[data-stat=meters]').text()).toContain('在装 3,818')
    expect(w.find('[data-stat=terminals] .stat-value').text()).toBe('84')
    expect(w.findAll('.chart-stub').length).toBeGreaterThanOrEqual(2)
  })

  it('welcomes an administrator with links instead of business figures', async () => {
    const w = mountWith({ data_scope: 'all', department_id: 1 }, ['org.department.write', 'org.user.read'])
    await flush()
    await flush()
    expect(w.find('[data-stat]').exists()).toBe(false)
    const home = w.find('[data-test=admin-home]')
    expect(home.text()).toContain('组织机构')
    expect(home.text()).toContain('用户管理')
  })
})
