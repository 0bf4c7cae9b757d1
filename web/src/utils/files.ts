// Files the user picks for an import: their content type as the API takes it.
export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'

/** The Content-Type to send a picked file with: xlsx by its name, else CSV text with the charset asked for. */
export function importContentType(fileName: string, charset: string): string {
  if (/\.xlsx$/i.test(fileName)) return XLSX_TYPE
  return charset ? `text/csv; charset=${charset}` : 'text/csv'
}
