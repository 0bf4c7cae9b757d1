import { afterEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import { createRouter, createMemoryHistory } from 'vue-router'
import LoginView from '@/views/LoginView.vue'
import { useSession } from '@/stores/session'
import { fakeFetch, flush } from './helpers'

function setup() {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/login', component: LoginView },
      { path: '/', component: { template: '<div>home</div>' } },
      { path: '/customers', component: { template: '<div>customers</div>' } },
    ],
  })
  return router
}

afterEach(() => vi.unstubAllGlobals())

describe('LoginView', () => {
  it('shows the lockout with its minutes', async () => {
    fakeFetch(() => [429, { error: { code: 'RESOURCE_EXHAUSTED', message: 'too many failed logins: the account is locked for 9 more minute(s)' } }])
    const router = setup()
    router.push('/login')
    await router.isReady()
    const w = mount(LoginView, { global: { plugins: [router], stubs: { LocaleSwitch: true } } })
    await w.find('input[name=username]').setValue('clerk')
    await w.find('input[name=password]').setValue('bad')
    await w.find('form').trigger('submit')
    await flush()
    await flush()
    const err = w.find('[data-test=login-error]')
    expect(err.text()).toContain('请 9 分钟后再试')
    expect(err.text()).toContain('locked for 9 more minute(s)')
    expect((w.find('input[name=password]').element as HTMLInputElement).value).toBe('')
  })

  it('logs in and goes where the user was headed', async () => {
    const me = { user: { id: 4, username: 'manager', display_name: '潘永斌', roles: ['manager'] }, permissions: ['customer.read'], data_scope: 'all' }
    const calls = fakeFetch((_m, url) => (url.endsWith('/auth/login') ? [200, { user_id: 4 }] : [200, me]))
    const router = setup()
    router.push('/login?redirect=/customers')
    await router.isReady()
    const w = mount(LoginView, { global: { plugins: [router], stubs: { LocaleSwitch: true } } })
    await w.find('input[name=username]').setValue(' manager ')
    await w.find('input[name=password]').setValue('Gridmis@2026')
    await w.find('form').trigger('submit')
    await flush()
    await flush()
    await flush()
    expect(calls[0].body).toEqual({ username: 'manager', password: 'Gridmis@2026' })
    expect(useSession().me?.user.username).toBe('manager')
    expect(router.currentRoute.value.fullPath).toBe('/customers')
  })

  it('says why the last session ended', async () => {
    const router = setup()
    router.push('/login')
    await router.isReady()
    useSession().sessionEnded('your session expired after 30 minutes idle; log in again')
    const w = mount(LoginView, { global: { plugins: [router], stubs: { LocaleSwitch: true } } })
    expect(w.find('[data-test=session-ended]').text()).toContain('您已 30 分钟无操作')
  })
})
