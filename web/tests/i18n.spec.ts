import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import zhCN from '@/i18n/zh-CN'
import en from '@/i18n/en'

function keys(o: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) =>
    typeof v === 'string' ? [prefix + k] : keys(v as Record<string, unknown>, `${prefix}${k}.`),
  )
}
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f)
    return statSync(p).isDirectory() ? files(p) : /\.(vue|ts)$/.test(f) ? [p] : []
  })
}

describe('messages', () => {
  const zh = new Set(keys(zhCN))
  it('zh-CN and en have the same keys', () => {
    expect(keys(en).sort()).toEqual([...zh].sort())
  })
  it('every key the source names exists', () => {
    const src = join(__dirname, '..', 'src')
    const missing: string[] = []
    for (const f of files(src)) {
      if (f.includes(`${join('src', 'i18n')}`)) continue
      const text = readFileSync(f, 'utf8')
      for (const m of text.matchAll(/\b(?:t|tr)\(\s*'([a-zA-Z0-9_.-]+)'/g)) if (!zh.has(m[1])) missing.push(`${f}: ${m[1]}`)
      for (const m of text.matchAll(/(?:label|title): '([a-z]+\.[a-zA-Z0-9_.]+)'/g)) if (!zh.has(m[1])) missing.push(`${f}: ${m[1]}`)
    }
    expect(missing).toEqual([])
  })
  it('templates carry no Chinese text outside the messages', () => {
    const src = join(__dirname, '..', 'src')
    const offenders: string[] = []
    for (const f of files(src)) {
      if (f.includes(`${join('src', 'i18n')}`) || !f.endsWith('.vue')) continue
      const template = readFileSync(f, 'utf8').split('<template>').slice(1).join('')
      // language names are written in their own language on purpose (the switch)
      const cleaned = template.replace(/中文（简体）|中文/g, '')
      const hit = cleaned.match(/[\u4e00-\u9fff]+/)
      if (hit) offenders.push(`${f}: ${hit[0]}`)
    }
    expect(offenders).toEqual([])
  })
})
