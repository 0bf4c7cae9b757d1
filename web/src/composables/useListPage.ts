// A paged list whose filters live in the URL (links can be shared, back and forward work), the
// pattern of CustomersView.vue for the meter-to-cash lists: `form` is what the filter bar edits,
// `search()` puts it in the query string, and the query string drives `load()`.
import { computed, onBeforeUnmount, reactive, ref, watch, type Ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { useRoute, useRouter, type LocationQuery } from 'vue-router'
import { api } from '@/api/client'
import type { Page } from '@/api/types'
import { formatCount } from '@/utils/format'

type FilterValue = string | number | null
export type Filters = Record<string, FilterValue>
type Query = Record<string, string | number | boolean | null | undefined>

export interface ListPageOptions<F extends Filters> {
  /** the route name of the page (the list reloads only while it is shown) */
  name: string
  /** API path of the list */
  path: string
  defaults: F
  pageSizes?: number[]
  /** the API query of the filters; may add or rename parameters; null: nothing to ask */
  apiQuery?: (f: F) => Query | null | Promise<Query | null>
}

export function filtersFromQuery<F extends Filters>(q: LocationQuery, defaults: F): F {
  const out = { ...defaults }
  for (const [k, d] of Object.entries(defaults)) {
    const v = q[k]
    if (typeof v !== 'string' || v === '') continue
    if (typeof d === 'number' || (d === null && /^\d+$/.test(v))) {
      const n = Number(v)
      if (Number.isFinite(n)) (out as Filters)[k] = n
    } else {
      ;(out as Filters)[k] = v
    }
  }
  return out
}

export function filtersToQuery<F extends Filters>(f: F, defaults: F): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(f)) {
    if (v === null || v === '' || v === undefined) continue
    if (v === defaults[k]) continue
    out[k] = String(typeof v === 'string' ? v.trim() : v)
  }
  return out
}

export function useListPage<T, F extends Filters>(opts: ListPageOptions<F>) {
  const { t } = useI18n()
  const route = useRoute()
  const router = useRouter()
  const defaults = { page: 1, page_size: (opts.pageSizes ?? [20])[0], ...opts.defaults } as F & { page: number; page_size: number }
  const form = reactive({ ...filtersFromQuery(route.query, defaults) }) as F & { page: number; page_size: number }
  const result = ref<Page<T> | null>(null) as Ref<Page<T> | null>
  const loading = ref(false)
  const error = ref<unknown>(null)
  let controller: AbortController | null = null

  async function apiQueryOf(f: F & { page: number; page_size: number }): Promise<Query | null> {
    const { page, page_size, ...rest } = f
    const base = opts.apiQuery ? await opts.apiQuery(rest as unknown as F) : (filtersToQuery(rest as unknown as F, opts.defaults) as Query)
    return base === null ? null : { ...base, page, page_size }
  }

  async function load() {
    const f = filtersFromQuery(route.query, defaults)
    Object.assign(form, f)
    controller?.abort()
    controller = new AbortController()
    const mine = controller
    loading.value = true
    error.value = null
    try {
      const q = await apiQueryOf(f)
      result.value = q === null
        ? { items: [], page: 1, page_size: f.page_size, total: 0 }
        : await api.get<Page<T>>(opts.path, q, mine.signal)
    } catch (e) {
      if ((e as Error).name === 'AbortError') return
      error.value = e
      result.value = null
    } finally {
      if (controller === mine) loading.value = false
    }
  }

  function search(resetPage = true) {
    const next = filtersToQuery({ ...form, page: resetPage ? 1 : form.page } as F, defaults as unknown as F)
    if (JSON.stringify(next) === JSON.stringify(filtersToQuery(filtersFromQuery(route.query, defaults), defaults))) load()
    else router.push({ query: next })
  }
  function reset() {
    Object.assign(form, defaults)
    search()
  }
  function goPage(page: number) {
    form.page = page
    search(false)
  }
  function changeSize(size: number) {
    form.page_size = size
    search()
  }
  watch(
    () => route.query,
    () => {
      if (route.name === opts.name) load()
    },
  )
  onBeforeUnmount(() => controller?.abort())

  const rows = computed(() => result.value?.items ?? [])
  const totalLabel = computed(() => {
    const r = result.value
    if (!r) return ''
    return r.total_capped ? t('common.totalCapped', { n: formatCount(r.total) }) : t('common.totalN', { n: formatCount(r.total) })
  })
  /** The API query of what the URL shows, without paging (for an export). */
  const currentApiQuery = async () => {
    const q = await apiQueryOf(filtersFromQuery(route.query, defaults))
    if (q) {
      delete q.page
      delete q.page_size
    }
    return q
  }
  return { form, result, rows, loading, error, load, search, reset, goPage, changeSize, totalLabel, currentApiQuery }
}
