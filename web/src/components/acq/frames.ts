// Frames of the communication log for people: the direction arrow, a one-line summary of what a
// decoded frame is (AFN and Fn with their names, the 645 function and data identifier), the hex
// split into the fields of the frame, and the decoded JSON as a tree. Pure, so it is unit-tested.
import type { DecodedFrame } from '@/api/acquisition'

/** A frame of a table: the communication log's, a command's, an on-demand read's. */
export interface FrameRow {
  key: string | number
  at?: string
  direction: 'in' | 'out'
  hex: string
  decoded: DecodedFrame | null | undefined
  note?: string
  peer?: string
}

/** ↑ uplink (terminal → master station), ↓ downlink (master station → terminal). */
export function directionArrow(direction: string): string {
  return direction === 'in' ? '↑' : '↓'
}

export type Protocol = 'gdw1376' | 'dlt645' | 'unknown'

export function protocolOf(d: DecodedFrame | null | undefined): Protocol {
  const p = d?.protocol ?? ''
  if (p.includes('1376')) return 'gdw1376'
  if (p.includes('645')) return 'dlt645'
  return 'unknown'
}

/** "0C" from "0C" / "0c" / 12. */
export function afnHex(afn: unknown): string | null {
  if (typeof afn === 'number' && Number.isInteger(afn) && afn >= 0 && afn < 256) return afn.toString(16).toUpperCase().padStart(2, '0')
  if (typeof afn === 'string' && /^(0x)?[0-9a-fA-F]{1,2}$/.test(afn)) return afn.replace(/^0x/, '').toUpperCase().padStart(2, '0')
  return null
}

/** [1, 2, 3, 5] as "1-3,5". */
export function compactList(ns: number[]): string {
  const s = [...new Set(ns)].sort((a, b) => a - b)
  const out: string[] = []
  for (let i = 0; i < s.length; ) {
    let j = i
    while (j + 1 < s.length && s[j + 1] === s[j] + 1) j++
    out.push(j - i >= 2 ? `${s[i]}-${s[j]}` : j > i ? `${s[i]},${s[j]}` : String(s[i]))
    i = j + 1
  }
  return out.join(',')
}

export interface FrameSummary {
  /** "AFN0C", "645 11" */
  code: string
  /** The Fn and Pn of the data units: "F129 p1", "F161 p1-64" */
  units: string
  /** key of the name for the locale (`acqFrame.<key>`), when the console knows the function */
  nameKey: string | null
  /** the decoder's (English) name, the fallback */
  name: string
  /** the decoder's name of the data item when the frame carries one function */
  item: string
  error: string | null
}

/** AFN / Fn pairs whose names the console translates (key AFN hex + "F" + fn; or just the AFN). */
export const KNOWN_FUNCTIONS = new Set([
  '00F1', '00F2', '00F3', '02F1', '02F2', '02F3', '04F1', '04F10', '05F1', '05F2', '05F9', '05F12',
  '05F17', '05F20', '05F26', '05F31', '05F34', '09F1', '0AF1', '0AF10', '0CF2', '0CF25', '0CF33',
  '0CF129', '0DF97', '0DF101', '0DF161', '0DF177', '0EF1', '0EF2', '10F1',
  '00', '01', '02', '04', '05', '09', '0A', '0C', '0D', '0E', '10',
])

/** What the frame is, in one line: the code, the data units and the function. */
export function summarizeFrame(d: DecodedFrame | null | undefined): FrameSummary {
  const out: FrameSummary = { code: '', units: '', nameKey: null, name: '', item: '', error: null }
  if (!d) return out
  if (typeof d.error === 'string' && d.error) out.error = d.error
  const proto = protocolOf(d)
  if (proto === 'gdw1376') {
    const afn = afnHex(d.afn)
    if (afn === null) return out
    out.code = `AFN${afn}`
    const fns: number[] = []
    const pns: number[] = []
    for (const g of d.groups ?? []) {
      for (const f of g.fns ?? []) fns.push(f)
      for (const p of g.pns ?? []) pns.push(p)
    }
    // AFN00 F3 answers per data unit: name the confirmed AFN
    if (afn === '00' && d.confirm?.afn) out.units = `AFN${afnHex(d.confirm.afn) ?? d.confirm.afn}`
    if (fns.length) {
      const uniqueFns = [...new Set(fns)]
      const p = pns.filter((x) => x > 0)
      out.units = [`F${compactList(uniqueFns)}`, p.length ? `p${compactList(p)}` : 'p0', out.units].filter(Boolean).join(' ')
      const one = uniqueFns.length === 1 ? `${afn}F${uniqueFns[0]}` : null
      if (one && KNOWN_FUNCTIONS.has(one)) out.nameKey = `f${one}`
      const itemName = d.groups?.flatMap((g) => g.items ?? []).find((i) => i.name)?.name
      out.item = uniqueFns.length === 1 ? (itemName ?? '') : ''
      out.name = out.item || d.afn_name || ''
      if (!out.error) out.error = d.groups?.flatMap((g) => g.items ?? []).find((i) => i.error)?.error ?? null
    } else {
      out.name = d.afn_name ?? ''
    }
    if (!out.nameKey && KNOWN_FUNCTIONS.has(afn)) out.nameKey = `afn${afn}`
    return out
  }
  if (proto === 'dlt645') {
    const func = typeof d.control?.func === 'string' ? d.control.func : afnHex(d.control?.func)
    out.code = `645 ${func ?? ''}`.trim()
    out.units = typeof d.di === 'string' ? d.di : ''
    out.name = [d.control?.func_name, d.di_name].filter(Boolean).join(' · ')
    if (d.control?.abnormal && typeof d.err_text === 'string') out.error = d.err_text
    return out
  }
  return out
}

export interface HexField {
  /** label key (`acqFrame.field.<key>`) */
  key: string
  hex: string
}

function bytesOf(hex: string): string[] {
  return hex
    .trim()
    .split(/\s+/)
    .filter((b) => /^[0-9a-fA-F]{2}$/.test(b))
    .map((b) => b.toUpperCase())
}

/**
 * The bytes of a frame split into its fields: 1376.1 start (68 L L 68), control, address, AFN,
 * SEQ, data units, checksum, end; 645 wake-up, start, address, control, length, data, checksum,
 * end. A frame that has not that shape is one field of raw bytes.
 */
export function hexFields(hex: string, proto: Protocol): HexField[] {
  const b = bytesOf(hex)
  const join = (from: number, to: number) => b.slice(from, to).join(' ')
  const n = b.length
  if (proto === 'gdw1376' && n >= 16 && b[0] === '68' && b[5] === '68' && b[n - 1] === '16') {
    const out: HexField[] = [
      { key: 'start', hex: join(0, 6) },
      { key: 'control', hex: join(6, 7) },
      { key: 'address', hex: join(7, 12) },
      { key: 'afn', hex: join(12, 13) },
      { key: 'seq', hex: join(13, 14) },
    ]
    if (n - 2 > 14) out.push({ key: 'data', hex: join(14, n - 2) })
    out.push({ key: 'checksum', hex: join(n - 2, n - 1) }, { key: 'end', hex: join(n - 1, n) })
    return out
  }
  if (proto === 'dlt645') {
    let i = 0
    while (i < n && b[i] === 'FE') i++
    if (n - i >= 12 && b[i] === '68' && b[i + 7] === '68' && b[n - 1] === '16') {
      const out: HexField[] = []
      if (i > 0) out.push({ key: 'wake', hex: join(0, i) })
      out.push(
        { key: 'start', hex: b[i] },
        { key: 'address', hex: join(i + 1, i + 7) },
        { key: 'start', hex: b[i + 7] },
        { key: 'control', hex: join(i + 8, i + 9) },
        { key: 'length', hex: join(i + 9, i + 10) },
      )
      if (n - 2 > i + 10) out.push({ key: 'data', hex: join(i + 10, n - 2) })
      out.push({ key: 'checksum', hex: join(n - 2, n - 1) }, { key: 'end', hex: join(n - 1, n) })
      return out
    }
  }
  return [{ key: 'raw', hex: b.join(' ') }]
}

/** The hex as lines of `perLine` bytes with their offsets: [["0000", "68 32 ..."], ...]. */
export function hexLines(hex: string, perLine = 16): [string, string][] {
  const b = bytesOf(hex)
  const out: [string, string][] = []
  for (let i = 0; i < b.length; i += perLine) {
    out.push([i.toString(16).toUpperCase().padStart(4, '0'), b.slice(i, i + perLine).join(' ')])
  }
  return out
}

export interface TreeNode {
  id: string
  key: string
  /** the value of a leaf, as text; objects and arrays have children */
  value?: string
  /** "{3}" / "[96]" of a branch */
  size?: string
  kind: 'string' | 'number' | 'boolean' | 'null' | 'object' | 'array'
  children?: TreeNode[]
}

/** A JSON value as tree nodes (keys in their order, array items by index), for el-tree. */
export function jsonTree(value: unknown, key = '', id = '$'): TreeNode {
  if (Array.isArray(value)) {
    return { id, key, kind: 'array', size: `[${value.length}]`, children: value.map((v, i) => jsonTree(v, String(i), `${id}.${i}`)) }
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
    return { id, key, kind: 'object', size: `{${entries.length}}`, children: entries.map(([k, v]) => jsonTree(v, k, `${id}.${k}`)) }
  }
  if (value === null || value === undefined) return { id, key, kind: 'null', value: 'null' }
  if (typeof value === 'string') return { id, key, kind: 'string', value: JSON.stringify(value) }
  if (typeof value === 'number') return { id, key, kind: 'number', value: String(value) }
  if (typeof value === 'boolean') return { id, key, kind: 'boolean', value: String(value) }
  return { id, key, kind: 'string', value: String(value) }
}

/** The ids of the branches down to `depth` levels (the tree opens that far). */
export function branchIds(node: TreeNode, depth: number): string[] {
  if (!node.children || depth <= 0) return []
  return [node.id, ...node.children.flatMap((c) => branchIds(c, depth - 1))]
}
