import { describe, expect, it } from 'vitest'
import { exportFileName, toXlsx } from '@/utils/xlsx'

describe('xlsx export', () => {
  it('writes a zip (xlsx) workbook with the rows', async () => {
    const rows = [
      { no: '0200000001', name: '冯永辉', n: 3 },
      { no: '0200000002', name: '张文华', n: 4 },
    ]
    const blob = await toXlsx(rows, [
      { header: '户号', value: (r) => r.no },
      { header: '户名', value: (r) => r.name },
      { header: '数', value: (r) => r.n },
    ], '客户清单')
    const bytes = new Uint8Array(await blob.arrayBuffer())
    expect(bytes.length).toBeGreaterThan(1000)
    expect(String.fromCharCode(bytes[0], bytes[1])).toBe('PK')
  })
  it('names the file with the time', () => {
    expect(exportFileName('客户清单', new Date(2026, 10, 28, 9, 5))).toBe('客户清单_20261128-0905.xlsx')
  })
})
