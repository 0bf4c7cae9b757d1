import { describe, expect, it } from 'vitest'
import { changedFields, formatDate, formatReadings, formatVoltage } from '@/utils/format'
import { buildTree } from '@/composables/useDepartments'
import type { Department } from '@/api/types'

describe('format', () => {
  it('voltages', () => {
    expect(formatVoltage(220)).toBe('220 V')
    expect(formatVoltage(10000)).toBe('10 kV')
  })
  it('dates stay as business dates', () => {
    expect(formatDate('2021-07-19')).toBe('2021-07-19')
  })
  it('readings with register labels', () => {
    expect(formatReadings({ total: '12.5', peak: '3' }, (r) => r.toUpperCase())).toBe('TOTAL 12.5 · PEAK 3')
  })
  it('changed fields ignore version and timestamps', () => {
    const before = { remark: '', mobile: '1', version: 1, updated_at: 'a' }
    const after = { remark: 'x', mobile: '1', version: 2, updated_at: 'b' }
    expect(changedFields(before, after)).toEqual([{ field: 'remark', before: '', after: 'x' }])
    expect(changedFields(null, { a: 1 })).toEqual([{ field: 'a', before: undefined, after: 1 }])
  })
})

describe('department tree', () => {
  const d = (id: number, parent_id: number | null, sort_order: number): Department => ({
    id, parent_id, sort_order, code: `D${id}`, name: `d${id}`, kind: 'station', path: '', status: 'active', version: 1,
  })
  it('nests children under parents in sort order', () => {
    const tree = buildTree([d(3, 1, 2), d(1, null, 0), d(2, 1, 1), d(4, 3, 0)])
    expect(tree.map((n) => n.id)).toEqual([1])
    expect(tree[0].children.map((n) => n.id)).toEqual([2, 3])
    expect(tree[0].children[1].children.map((n) => n.id)).toEqual([4])
  })
  it('a department whose parent is out of scope becomes a root', () => {
    expect(buildTree([d(5, 99, 0)]).map((n) => n.id)).toEqual([5])
  })
})
