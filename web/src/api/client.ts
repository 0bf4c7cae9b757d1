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
  /** The whole error body, for replies that say more than {error} (the bad lines of a file). */
  readonly body?: Record<string, unknown>

  constructor(status: number, code: string, message: string, field?: string, body?: Record<string, unknown>) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.field = field
    this.body = body
  }

  /** The rejected lines of an imported file ({"lines": [{"line", "message"}]}), if any. */
  get lines(): { line: number; message: string; field?: string }[] {
    // reads import: "lines" [{line, message}]; bank files: "bad_lines" [{line, reason}]
    const l = this.body?.lines ?? this.body?.bad_lines
    if (!Array.isArray(l)) return []
    return l.map((x: { line: number; message?: string; reason?: string; field?: string }) => ({
      line: x.line,
      message: x.message ?? x.reason ?? '',
      field: x.field,
    }))
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
  let whole: Record<string, unknown> | undefined
  try {
    const body = await res.json()
    if (body && typeof body === 'object' && body.error) {
      code = body.error.code ?? code
      message = body.error.message ?? message
      field = body.error.field || undefined
      whole = body
    }
  } catch {
    // not JSON (a proxy's page): keep the status text
  }
  return new ApiError(res.status, code, message, field, whole)
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

/**
 * Sends a file as the request body (an import: CSV, xlsx, a bank's text file) with its content
 * type, and reads the JSON reply; failures are ApiErrors whose `lines` are the rejected lines.
 */
export async function uploadFile<T>(path: string, file: Blob, contentType: string, query?: Query): Promise<T> {
  let res: Response
  try {
    res = await fetch(buildUrl(path, query), {
      method: 'POST',
      credentials: 'same-origin',
      headers: { Accept: 'application/json', 'Content-Type': contentType },
      body: file,
    })
  } catch (e) {
    throw new ApiError(0, 'UNAVAILABLE', (e as Error).message || 'network error')
  }
  if (!res.ok) {
    const err = await errorFromResponse(res)
    if (err.status === 401 && onUnauthenticated) onUnauthenticated(err)
    throw err
  }
  const text = await res.text()
  return (text ? JSON.parse(text) : undefined) as T
}

/** Downloads a file the API makes (xlsx, PDF, a bank file): its bytes and the name it gives. */
export async function downloadFile(path: string, query?: Query, init: { method?: string; body?: unknown } = {}): Promise<{ blob: Blob; filename: string | null }> {
  let res: Response
  try {
    res = await fetch(buildUrl(path, query), {
      method: init.method ?? 'GET',
      credentials: 'same-origin',
      headers: init.body !== undefined ? { 'Content-Type': 'application/json' } : {},
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
    })
  } catch (e) {
    throw new ApiError(0, 'UNAVAILABLE', (e as Error).message || 'network error')
  }
  if (!res.ok) {
    const err = await errorFromResponse(res)
    if (err.status === 401 && onUnauthenticated) onUnauthenticated(err)
    throw err
  }
  const cd = res.headers.get('Content-Disposition') ?? ''
  const m = cd.match(/filename\*=UTF-8''([^;]+)/i) ?? cd.match(/filename="?([^";]+)"?/i)
  return { blob: await res.blob(), filename: m ? decodeURIComponent(m[1]) : null }
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
