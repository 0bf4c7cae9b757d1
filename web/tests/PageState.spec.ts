import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import PageState from '@/components/PageState.vue'
import { ApiError } from '@/api/client'

const slot = { default: '<p class="content">rows</p>' }

describe('PageState', () => {
  it('shows the content when ready', () => {
    const w = mount(PageState, { props: { loading: false, empty: false }, slots: slot })
    expect(w.find('[data-state=ready] .content').exists()).toBe(true)
  })
  it('shows loading before there is anything', () => {
    const w = mount(PageState, { props: { loading: true, empty: true }, slots: slot })
    expect(w.find('[data-state=loading]').exists()).toBe(true)
    expect(w.find('.content').exists()).toBe(false)
  })
  it('keeps the old content under a loading mask while reloading', () => {
    const w = mount(PageState, { props: { loading: true, empty: false }, slots: slot })
    expect(w.find('[data-state=ready] .content').exists()).toBe(true)
  })
  it('shows empty with its text', () => {
    const w = mount(PageState, { props: { empty: true, emptyText: '没有符合条件的客户' }, slots: slot })
    expect(w.find('[data-state=empty]').text()).toContain('没有符合条件的客户')
  })
  it('shows the error and asks to retry', async () => {
    const w = mount(PageState, { props: { error: new ApiError(404, 'NOT_FOUND', 'customer 5 not found') }, slots: slot })
    expect(w.find('[data-state=error]').text()).toContain('不在您的数据权限范围内')
    await w.find('[data-state=error] button').trigger('click')
    expect(w.emitted('retry')).toHaveLength(1)
  })
})
