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
    path: '/acquisition',
    label: 'menu.acquisition',
    icon: 'Connection',
    children: [
      { path: '/acquisition/dashboard', label: 'menu.acqDashboard', icon: 'DataLine', permission: 'acquisition.read' },
      { path: '/acquisition/terminals', label: 'menu.acqTerminals', icon: 'Monitor', permission: 'acquisition.read' },
      { path: '/acquisition/commands', label: 'menu.acqCommands', icon: 'Promotion', permission: 'acquisition.read' },
      { path: '/acquisition/curves', label: 'menu.acqCurves', icon: 'TrendCharts', permission: 'acquisition.read' },
      { path: '/acquisition/vee', label: 'menu.acqVee', icon: 'Finished', permission: 'acquisition.read' },
    ],
  },
  {
    path: '/reading',
    label: 'menu.reading',
    icon: 'Notebook',
    children: [
      { path: '/reading/review', label: 'menu.readingReview', icon: 'Checked', permission: 'reading.review' },
      { path: '/reading/plans', label: 'menu.readingPlans', icon: 'Calendar', permission: 'reading.read' },
      { path: '/reading/segments', label: 'menu.readingSegments', icon: 'Files', permission: 'reading.read' },
      { path: '/reading/import', label: 'menu.readingImport', icon: 'Upload', permission: 'reading.write' },
    ],
  },
  {
    path: '/billing',
    label: 'menu.billing',
    icon: 'Tickets',
    children: [
      { path: '/billing/tariffs', label: 'menu.tariffs', icon: 'PriceTag', permission: 'tariff.read' },
      { path: '/billing/trial', label: 'menu.trial', icon: 'Operation', permission: 'billing.trial' },
      { path: '/billing/runs', label: 'menu.billRuns', icon: 'VideoPlay', permission: 'billing.read' },
      { path: '/billing/review', label: 'menu.billReview', icon: 'Finished', permission: 'billing.review' },
      { path: '/billing/bills', label: 'menu.bills', icon: 'Document', permission: 'billing.read' },
    ],
  },
  {
    path: '/accounts',
    label: 'menu.accounts',
    icon: 'Wallet',
    children: [
      { path: '/accounts/counter', label: 'menu.counter', icon: 'Coin', permission: 'payment.counter' },
      { path: '/accounts/payments', label: 'menu.payments', icon: 'List', permission: 'accounts.read' },
      { path: '/accounts/arrears', label: 'menu.arrears', icon: 'Warning', permission: 'accounts.read' },
      { path: '/accounts/bank', label: 'menu.bankFiles', icon: 'Files', permission: 'bank.file' },
      { path: '/accounts/reconcile', label: 'menu.reconcile', icon: 'DocumentChecked', permission: 'accounts.reconcile' },
    ],
  },
  {
    path: '/prepaid',
    label: 'menu.prepaid',
    icon: 'CreditCard',
    children: [
      { path: '/prepaid/accounts', label: 'menu.prepaidAccounts', icon: 'Postcard', permission: 'prepaid.read' },
      { path: '/prepaid/controls', label: 'menu.prepaidControls', icon: 'SwitchButton', permission: 'prepaid.read' },
    ],
  },
  { path: '/jobs', label: 'menu.jobs', icon: 'Timer', permission: 'jobs.read' },
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
