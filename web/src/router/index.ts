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
