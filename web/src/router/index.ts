import { createRouter, createWebHistory, type RouteRecordRaw, type Router } from 'vue-router'
import { useSession } from '@/stores/session'

declare module 'vue-router' {
  interface RouteMeta {
    /** i18n key of the page title (and its breadcrumb) */
    title?: string
    /** The permission the page needs; without it the page shows "no access". */
    permission?: string
    /** Breadcrumb trail above this page: [i18n key, path?] */
    crumbs?: [string, string?][]
    /** The side-menu entry to highlight when the page itself is not one (a detail page). */
    menu?: string
    public?: boolean
  }
}

export const routes: RouteRecordRaw[] = [
  {
    path: '/login',
    name: 'login',
    component: () => import('@/views/LoginView.vue'),
    meta: { public: true, title: 'login.title' },
  },
  {
    path: '/',
    component: () => import('@/layouts/MainLayout.vue'),
    children: [
      {
        path: '',
        name: 'home',
        component: () => import('@/views/HomeView.vue'),
        meta: { title: 'menu.home' },
      },
      {
        path: 'customers',
        name: 'customers',
        component: () => import('@/views/CustomersView.vue'),
        meta: { title: 'menu.customers', permission: 'customer.read' },
      },
      {
        path: 'customers/:id(\\d+)',
        name: 'customer',
        component: () => import('@/views/Customer360View.vue'),
        meta: {
          title: 'c360.title',
          permission: 'customer.read',
          crumbs: [['menu.customers', '/customers']],
        },
      },
      {
        path: 'grid',
        name: 'grid',
        component: () => import('@/views/GridView.vue'),
        meta: { title: 'menu.grid', permission: 'grid.read' },
      },
      {
        path: 'terminals',
        name: 'terminals',
        component: () => import('@/views/TerminalsView.vue'),
        meta: { title: 'menu.terminals', permission: 'terminal.read' },
      },
      // ---- acquisition ----
      {
        path: 'acquisition/dashboard',
        name: 'acq-dashboard',
        component: () => import('@/views/acquisition/DashboardView.vue'),
        meta: { title: 'menu.acqDashboard', permission: 'acquisition.read', crumbs: [['menu.acquisition']] },
      },
      {
        path: 'acquisition/terminals',
        name: 'acq-terminals',
        component: () => import('@/views/acquisition/TerminalStatesView.vue'),
        meta: { title: 'menu.acqTerminals', permission: 'acquisition.read', crumbs: [['menu.acquisition']] },
      },
      {
        path: 'acquisition/terminals/:id(\\d+)',
        name: 'acq-terminal',
        component: () => import('@/views/acquisition/TerminalDetailView.vue'),
        meta: {
          title: 'acqTerm.title',
          permission: 'acquisition.read',
          menu: '/acquisition/terminals',
          crumbs: [['menu.acquisition'], ['menu.acqTerminals', '/acquisition/terminals']],
        },
      },
      {
        path: 'acquisition/commands',
        name: 'acq-commands',
        component: () => import('@/views/acquisition/CommandsView.vue'),
        meta: { title: 'menu.acqCommands', permission: 'acquisition.read', crumbs: [['menu.acquisition']] },
      },
      {
        path: 'acquisition/curves',
        name: 'acq-curves',
        component: () => import('@/views/acquisition/CurveView.vue'),
        meta: { title: 'menu.acqCurves', permission: 'acquisition.read', crumbs: [['menu.acquisition']] },
      },
      {
        path: 'acquisition/vee',
        name: 'acq-vee',
        component: () => import('@/views/acquisition/VeeView.vue'),
        meta: { title: 'menu.acqVee', permission: 'acquisition.read', crumbs: [['menu.acquisition']] },
      },
      // ---- meter to cash ----
      {
        path: 'reading/review',
        name: 'reading-review',
        component: () => import('@/views/reading/ReviewQueueView.vue'),
        meta: { title: 'menu.readingReview', permission: 'reading.review', crumbs: [['menu.reading']] },
      },
      {
        path: 'reading/plans',
        name: 'reading-plans',
        component: () => import('@/views/reading/PlansView.vue'),
        meta: { title: 'menu.readingPlans', permission: 'reading.read', crumbs: [['menu.reading']] },
      },
      {
        path: 'reading/segments',
        name: 'reading-segments',
        component: () => import('@/views/reading/SegmentsView.vue'),
        meta: { title: 'menu.readingSegments', permission: 'reading.read', crumbs: [['menu.reading']] },
      },
      {
        path: 'reading/import',
        name: 'reading-import',
        component: () => import('@/views/reading/ImportView.vue'),
        meta: { title: 'menu.readingImport', permission: 'reading.write', crumbs: [['menu.reading']] },
      },
      {
        path: 'billing/tariffs',
        name: 'tariffs',
        component: () => import('@/views/billing/TariffsView.vue'),
        meta: { title: 'menu.tariffs', permission: 'tariff.read', crumbs: [['menu.billing']] },
      },
      {
        path: 'billing/trial',
        name: 'trial',
        component: () => import('@/views/billing/TrialView.vue'),
        meta: { title: 'menu.trial', permission: 'billing.trial', crumbs: [['menu.billing']] },
      },
      {
        path: 'billing/runs',
        name: 'bill-runs',
        component: () => import('@/views/billing/BillRunsView.vue'),
        meta: { title: 'menu.billRuns', permission: 'billing.read', crumbs: [['menu.billing']] },
      },
      {
        path: 'billing/runs/:id(\\d+)',
        name: 'bill-run',
        component: () => import('@/views/billing/BillRunView.vue'),
        meta: {
          title: 'runs.detailTitle',
          permission: 'billing.read',
          menu: '/billing/runs',
          crumbs: [['menu.billing'], ['menu.billRuns', '/billing/runs']],
        },
      },
      {
        path: 'billing/review',
        name: 'bill-review',
        component: () => import('@/views/billing/BillReviewView.vue'),
        meta: { title: 'menu.billReview', permission: 'billing.review', crumbs: [['menu.billing']] },
      },
      {
        path: 'billing/bills',
        name: 'bills',
        component: () => import('@/views/billing/BillsView.vue'),
        meta: { title: 'menu.bills', permission: 'billing.read', crumbs: [['menu.billing']] },
      },
      {
        path: 'billing/bills/:id(\\d+)',
        name: 'bill',
        component: () => import('@/views/billing/BillView.vue'),
        meta: {
          title: 'bill.title',
          permission: 'billing.read',
          menu: '/billing/bills',
          crumbs: [['menu.billing'], ['menu.bills', '/billing/bills']],
        },
      },
      {
        path: 'accounts/counter',
        name: 'counter',
        component: () => import('@/views/accounts/CounterView.vue'),
        meta: { title: 'menu.counter', permission: 'payment.counter', crumbs: [['menu.accounts']] },
      },
      {
        path: 'accounts/payments',
        name: 'payments',
        component: () => import('@/views/accounts/PaymentsView.vue'),
        meta: { title: 'menu.payments', permission: 'accounts.read', crumbs: [['menu.accounts']] },
      },
      {
        path: 'accounts/arrears',
        name: 'arrears',
        component: () => import('@/views/accounts/ArrearsView.vue'),
        meta: { title: 'menu.arrears', permission: 'accounts.read', crumbs: [['menu.accounts']] },
      },
      {
        path: 'accounts/bank',
        name: 'bank-files',
        component: () => import('@/views/accounts/BankFilesView.vue'),
        meta: { title: 'menu.bankFiles', permission: 'bank.file', crumbs: [['menu.accounts']] },
      },
      {
        path: 'accounts/reconcile',
        name: 'reconcile',
        component: () => import('@/views/accounts/ReconcileView.vue'),
        meta: { title: 'menu.reconcile', permission: 'accounts.reconcile', crumbs: [['menu.accounts']] },
      },
      {
        path: 'prepaid/accounts',
        name: 'prepaid-accounts',
        component: () => import('@/views/prepaid/PrepaidAccountsView.vue'),
        meta: { title: 'menu.prepaidAccounts', permission: 'prepaid.read', crumbs: [['menu.prepaid']] },
      },
      {
        path: 'prepaid/controls',
        name: 'prepaid-controls',
        component: () => import('@/views/prepaid/ControlRequestsView.vue'),
        meta: { title: 'menu.prepaidControls', permission: 'prepaid.read', crumbs: [['menu.prepaid']] },
      },
      {
        path: 'jobs',
        name: 'jobs',
        component: () => import('@/views/JobsView.vue'),
        meta: { title: 'menu.jobs', permission: 'jobs.read' },
      },
      {
        path: 'admin/departments',
        name: 'departments',
        component: () => import('@/views/admin/DepartmentsView.vue'),
        meta: { title: 'menu.departments', permission: 'org.department.read', crumbs: [['menu.admin']] },
      },
      {
        path: 'admin/users',
        name: 'users',
        component: () => import('@/views/admin/UsersView.vue'),
        meta: { title: 'menu.users', permission: 'org.user.read', crumbs: [['menu.admin']] },
      },
      {
        path: 'admin/roles',
        name: 'roles',
        component: () => import('@/views/admin/RolesView.vue'),
        meta: { title: 'menu.roles', permission: 'org.role.read', crumbs: [['menu.admin']] },
      },
      {
        path: 'admin/audit',
        name: 'audit',
        component: () => import('@/views/admin/AuditView.vue'),
        meta: { title: 'menu.audit', permission: 'audit.read', crumbs: [['menu.admin']] },
      },
      {
        path: ':pathMatch(.*)*',
        name: 'not-found',
        component: () => import('@/views/NotFoundView.vue'),
        meta: { title: 'common.notFound' },
      },
    ],
  },
]

export function makeRouter(): Router {
  const router = createRouter({ history: createWebHistory(), routes })
  router.beforeEach(async (to) => {
    const session = useSession()
    if (to.meta.public) return true
    if (!session.loaded || !session.me) {
      try {
        await session.load()
      } catch {
        // the server is unreachable: the layout shows the error when its own requests fail
      }
    }
    if (!session.me) {
      return { name: 'login', query: to.fullPath !== '/' ? { redirect: to.fullPath } : {} }
    }
    return true
  })
  return router
}
