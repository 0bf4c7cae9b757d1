import { describe, expect, it } from 'vitest'
import { visibleMenu, type MenuItem } from '@/menu'

const paths = (items: MenuItem[]): string[] =>
  items.flatMap((i) => (i.children ? [i.path, ...paths(i.children)] : [i.path]))
const canOf = (perms: string[]) => (p?: string) => !p || perms.includes(p)

describe('visibleMenu', () => {
  it('gives a counter clerk the business pages and no administration', () => {
    const clerk = ['customer.read', 'customer.write', 'grid.read', 'metering.read', 'terminal.read', 'org.department.read']
    expect(paths(visibleMenu(canOf(clerk)))).toEqual(['/', '/customers', '/grid', '/terminals'])
  })
  it('gives the system administrator departments and users but no business data', () => {
    const admin = ['org.department.read', 'org.department.write', 'org.role.read', 'org.user.read', 'org.user.write', 'system.config']
    expect(paths(visibleMenu(canOf(admin)))).toEqual(['/', '/admin', '/admin/departments', '/admin/users', '/admin/roles'])
  })
  it('gives the auditor the audit log only', () => {
    const auditor = ['audit.read', 'org.department.read', 'org.user.read']
    expect(paths(visibleMenu(canOf(auditor)))).toEqual(['/', '/admin', '/admin/users', '/admin/audit'])
  })
  it('leaves out a group with nothing visible', () => {
    expect(paths(visibleMenu(canOf([])))).toEqual(['/'])
  })
})
