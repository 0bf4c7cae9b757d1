import { vi } from 'vitest'

export interface FakeCall {
  method: string
  url: string
  body: unknown
}

/** Replaces fetch with `handler` (method, url, body) -> [status, json]; returns the calls made. */
export function fakeFetch(handler: (method: string, url: string, body: unknown) => [number, unknown]): FakeCall[] {
  const calls: FakeCall[] = []
  vi.stubGlobal('fetch', async (input: string, init: RequestInit = {}) => {
    const method = init.method ?? 'GET'
    const body = init.body ? JSON.parse(String(init.body)) : undefined
    calls.push({ method, url: String(input), body })
    const [status, json] = handler(method, String(input), body)
    return new Response(json === undefined ? '' : JSON.stringify(json), {
      status,
      headers: { 'Content-Type': 'application/json' },
    })
  })
  return calls
}

/** Lets pending promises, watchers and renders run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 4; i++) await new Promise((r) => setTimeout(r, 0))
}

/** Element Plus debounces a form item's error display by 100 ms. */
export const errorsShown = () => new Promise((r) => setTimeout(r, 150))
