// The department list, fetched once per session and shared: names for ids in tables, the tree
// for pickers. Departments are few (a province has hundreds), so the whole list is cached.
import { computed, ref } from 'vue'
import { fetchAll } from '@/api/client'
import type { Department } from '@/api/types'

const list = ref<Department[]>([])
const loaded = ref(false)
const loading = ref(false)
const error = ref<unknown>(null)
let pending: Promise<void> | null = null

export interface DeptNode extends Department {
  children: DeptNode[]
}

export function buildTree(departments: Department[]): DeptNode[] {
  const nodes = new Map<number, DeptNode>()
  for (const d of departments) nodes.set(d.id, { ...d, children: [] })
  const roots: DeptNode[] = []
  for (const n of nodes.values()) {
    const parent = n.parent_id !== null ? nodes.get(n.parent_id) : undefined
    if (parent) parent.children.push(n)
    else roots.push(n)
  }
  const sort = (xs: DeptNode[]) => {
    xs.sort((a, b) => a.sort_order - b.sort_order || a.id - b.id)
    xs.forEach((x) => sort(x.children))
  }
  sort(roots)
  return roots
}

export function useDepartments() {
  async function load(force = false): Promise<void> {
    if (loaded.value && !force) return
    if (pending && !force) return pending
    loading.value = true
    error.value = null
    pending = fetchAll<Department>('departments')
      .then((items) => {
        list.value = items
        loaded.value = true
      })
      .catch((e) => {
        error.value = e
      })
      .finally(() => {
        loading.value = false
        pending = null
      })
    return pending
  }
  const byId = computed(() => new Map(list.value.map((d) => [d.id, d])))
  const tree = computed(() => buildTree(list.value))
  const name = (id: number | null | undefined) =>
    id === null || id === undefined ? '' : (byId.value.get(id)?.name ?? `#${id}`)
  return { list, tree, byId, name, load, loading, error, loaded }
}

/** Forget the cache (logout, or after an edit elsewhere). */
export function resetDepartments(): void {
  list.value = []
  loaded.value = false
}
