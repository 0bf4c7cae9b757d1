// Excel (xlsx) export of a list, built in the browser (write-excel-file, no server round trip).
import writeXlsxFile from 'write-excel-file/universal'

export interface ExportColumn<T> {
  header: string
  value: (row: T) => string | number | null | undefined
  /** width in characters */
  width?: number
}

/** An xlsx workbook with one sheet: a bold header row, then one row per item. */
export async function toXlsx<T>(rows: T[], columns: ExportColumn<T>[], sheet = 'Sheet1'): Promise<Blob> {
  const header = columns.map((c) => ({ value: c.header, fontWeight: 'bold' as const }))
  const data = rows.map((r) =>
    columns.map((c) => {
      const v = c.value(r)
      if (v === null || v === undefined || v === '') return null
      // Numbers that are identifiers (customer numbers, phone numbers) stay text.
      return typeof v === 'number' ? { value: v, type: Number } : { value: String(v), type: String }
    }),
  )
  return writeXlsxFile([header, ...data], {
    sheet: sheet.slice(0, 31),
    columns: columns.map((c) => ({ width: c.width ?? 14 })),
  }).toBlob()
}

export function downloadBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = filename
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10000)
}

/** "客户_20261128-1305.xlsx" */
export function exportFileName(base: string, now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0')
  return `${base}_${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}.xlsx`
}
