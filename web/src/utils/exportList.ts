// Excel export of a whole list the way the customer list does it: every page of the API's list
// (up to 10,000 rows), written in the browser, downloaded, and a message with the count.
import { ElMessage } from 'element-plus'
import { fetchAll } from '@/api/client'
import { i18n } from '@/i18n'
import { describeError } from './errors'
import { downloadBlob, exportFileName, toXlsx, type ExportColumn } from './xlsx'

export const EXPORT_LIMIT = 10000

type Query = Record<string, string | number | boolean | null | undefined>

export async function exportList<T>(
  path: string,
  query: Query | null,
  columns: ExportColumn<T>[],
  name: string,
): Promise<number> {
  const t = i18n.global.t
  try {
    const items = query === null ? [] : await fetchAll<T>(path, query, EXPORT_LIMIT)
    downloadBlob(await toXlsx(items, columns, name), exportFileName(name))
    ElMessage.success(t('common.exported', { n: items.length }))
    return items.length
  } catch (e) {
    ElMessage.error(describeError(e))
    return 0
  }
}
