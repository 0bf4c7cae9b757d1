// The one way the console talks to the API: JSON over fetch on the same origin, the session in
// the gridmis_session cookie, and every failure an ApiError carrying the API's
// {"error":{"code","message","field"}}.

export class ApiError extends Error {
  /** HTTP status, or 0 when the server could not be reached. */
  readonly status: number
  /** The API's canonical code: INVALID_ARGUMENT, NOT_FOUND, CONFLICT, UNAUTHENTICATED, ... */
  readonly code: string
  /** The request field the error is about, when the API names one. */
  readonly field?: string

  constructor(status: number, code: string, message: string, field?: string) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.field = field
  }

  get isConflict(): boolean {
    return this.status === 409
  }
  get isUnauthenticated(): boolean {
    return this.status === 401
  }
}

type Query = Record<string, string | number | boolean | null | undefined>

/** Called with a 401 from any request but the login itself (the session ended). */
let onUnauthenticated: ((err: ApiError) => void) | null = null
export function setUnauthenticatedHandler(fn: ((err: ApiError) => void) | null): void {
  onUnauthenticated = fn
}

export function buildUrl(path: string, query?: Query): string {
  const url = path.startsWith('/') ? path : `/api/v1/${path}`
  if (!query) return url
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue
    params.set(k, String(v))
  }
  const s = params.toString()
  return s ? `${url}?${s}` : url
}

/** Turns a non-2xx response into an ApiError, whatever its body. */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  let code = `HTTP_${res.status}`
  let message = res.statusText || `HTTP ${res.status}`
  let field: string | undefined
  try {
    const body = await res.json()
    if (body && typeof body === 'object' && body.error) {
      code = body.error.code ?? code
      message = body.error.message ?? message
      field = body.error.field || undefined
    }
  } catch {
    // not JSON (a proxy's page): keep the status text
  }
  return new ApiError(res.status, code, message, field)
}

export interface RequestOptions {
  query?: Query
  body?: unknown
  /** Do not treat a 401 as the end of the session (the login request). */
  noAuthRedirect?: boolean
  signal?: AbortSignal
}

export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const init: RequestInit = {
    method,
    credentials: 'same-origin',
    headers: { Accept: 'application/json' },
    signal: opts.signal,
  }
  if (opts.body !== undefined) {
    init.headers = { ...init.headers, 'Content-Type': 'application/json' }
    init.body = JSON.stringify(opts.body)
  }
  let res: Response
  try {
    res = await fetch(buildUrl(path, opts.query), init)
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e
    throw new ApiError(0, 'UNAVAILABLE', (e as Error).message || 'network error')
  }
  if (!res.ok) {
    const err = await errorFromResponse(res)
    if (err.status === 401 && !opts.noAuthRedirect && onUnauthenticated) onUnauthenticated(err)
    throw err
  }
  if (res.status === 204) return undefined as T
  const text = await res.text()
  return (text ? JSON.parse(text) : undefined) as T
}

export const api = {
  get: <T>(path: string, query?: Query, signal?: AbortSignal) =>
    request<T>('GET', path, { query, signal }),
  post: <T>(path: string, body?: unknown, opts: RequestOptions = {}) =>
    request<T>('POST', path, { ...opts, body: body ?? {} }),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, { body }),
  put: <T>(path: string, body: unknown) => request<T>('PUT', path, { body }),
  del: <T>(path: string, query?: Query) => request<T>('DELETE', path, { query }),
}

/** Every item of a paged list, page by page (page_size 200), up to `limit` items. */
export async function fetchAll<T>(path: string, query: Query = {}, limit = 10000): Promise<T[]> {
  const out: T[] = []
  for (let page = 1; out.length < limit; page++) {
    const p = await api.get<{ items: T[]; total: number }>(path, { ...query, page, page_size: 200 })
    out.push(...p.items)
    if (p.items.length < 200 || out.length >= p.total) break
  }
  return out.slice(0, limit)
}
