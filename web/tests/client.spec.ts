import { afterEach, describe, expect, it, vi } from 'vitest'
import { api, ApiError, buildUrl, fetchAll, setUnauthenticatedHandler } from '@/api/client'
import { fakeFetch } from './helpers'

afterEach(() => {
  vi.unstubAllGlobals()
  setUnauthenticatedHandler(null)
})

describe('api client', () => {
  it('builds URLs under /api/v1 and drops empty parameters', () => {
    expect(buildUrl('customers', { q: '张', page: 2, category: '', status: null })).toBe(
      '/api/v1/customers?q=%E5%BC%A0&page=2',
    )
    expect(buildUrl('/metrics')).toBe('/metrics')
  })

  it('turns the error body into an ApiError with its field', async () => {
    fakeFetch(() => [400, { error: { code: 'INVALID_ARGUMENT', message: 'mobile must be 11 digits', field: 'mobile' } }])
    const err = (await api.patch('customers/1', { mobile: '1' }).catch((e) => e)) as ApiError
    expect(err).toBeInstanceOf(ApiError)
    expect(err.status).toBe(400)
    expect(err.code).toBe('INVALID_ARGUMENT')
    expect(err.field).toBe('mobile')
    expect(err.message).toBe('mobile must be 11 digits')
  })

  it('reports a 401 as the end of the session, except for the login itself', async () => {
    const seen: string[] = []
    setUnauthenticatedHandler((e) => seen.push(e.message))
    fakeFetch(() => [401, { error: { code: 'UNAUTHENTICATED', message: 'your session has expired; log in again' } }])
    await api.get('me').catch(() => {})
    await api.post('auth/login', { username: 'x', password: 'y' }, { noAuthRedirect: true }).catch(() => {})
    expect(seen).toEqual(['your session has expired; log in again'])
  })

  it('sends JSON with the version and reads JSON back', async () => {
    const calls = fakeFetch(() => [200, { id: 1, version: 2 }])
    const r = await api.patch<{ version: number }>('customers/1', { remark: 'x', version: 1 })
    expect(r.version).toBe(2)
    expect(calls[0]).toMatchObject({ method: 'PATCH', url: '/api/v1/customers/1', body: { remark: 'x', version: 1 } })
  })

  it('fetchAll pages through a list', async () => {
    const calls = fakeFetch((_m, url) => {
      const page = Number(new URL(url, 'http://x').searchParams.get('page'))
      const items = Array.from({ length: page < 3 ? 200 : 50 }, (_, i) => ({ id: (page - 1) * 200 + i }))
      return [200, { items, page, page_size: 200, total: 450 }]
    })
    const all = await fetchAll<{ id: number }>('departments')
    expect(all).toHaveLength(450)
    expect(calls).toHaveLength(3)
  })

  it('a network failure is an ApiError with status 0', async () => {
    vi.stubGlobal('fetch', async () => {
      throw new TypeError('Failed to fetch')
    })
    const err = (await api.get('me').catch((e) => e)) as ApiError
    expect(err).toBeInstanceOf(ApiError)
    expect(err.status).toBe(0)
  })
})
