// The side menu: what exists, and which permission shows each entry. Pure, so it is tested
// without a browser; the layout renders what `visibleMenu` returns.

export interface MenuItem {
  /** Route path */
  path: string
  /** i18n key of the label */
  label: string
  icon: string
  /** Shown when the user holds this permission (none: everyone). */
  permission?: string
  children?: MenuItem[]
}

export const MENU: MenuItem[] = [
  { path: '/', label: 'menu.home', icon: 'House' },
  { path: '/customers', label: 'menu.customers', icon: 'User', permission: 'customer.read' },
  { path: '/grid', label: 'menu.grid', icon: 'Share', permission: 'grid.read' },
  { path: '/terminals', label: 'menu.terminals', icon: 'Cpu', permission: 'terminal.read' },
  {
    path: '/admin',
    label: 'menu.admin',
    icon: 'Setting',
    children: [
      {
        path: '/admin/departments',
        label: 'menu.departments',
        icon: 'OfficeBuilding',
        permission: 'org.department.write',
      },
      { path: '/admin/users', label: 'menu.users', icon: 'Avatar', permission: 'org.user.read' },
      { path: '/admin/roles', label: 'menu.roles', icon: 'Lock', permission: 'org.role.read' },
      { path: '/admin/audit', label: 'menu.audit', icon: 'Document', permission: 'audit.read' },
    ],
  },
]

/** The menu entries `can` allows; a group with no visible child is left out. */
export function visibleMenu(can: (permission?: string) => boolean, menu = MENU): MenuItem[] {
  const out: MenuItem[] = []
  for (const item of menu) {
    if (item.children) {
      const children = visibleMenu(can, item.children)
      if (children.length) out.push({ ...item, children })
    } else if (can(item.permission)) {
      out.push(item)
    }
  }
  return out
}
