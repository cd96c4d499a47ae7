import { createRouter, createWebHashHistory, type RouteLocationNormalized } from 'vue-router'
import { useAuthStore } from './stores/auth'
import CounterView from './views/CounterView.vue'
import SignInView from './views/SignInView.vue'

/** Hash history: the same URLs work from file:// under Electron and over HTTP in browser mode. */
export const router = createRouter({
  history: createWebHashHistory(),
  routes: [
    { path: '/', redirect: '/counter' },
    { path: '/sign-in', name: 'sign-in', component: SignInView, meta: { public: true } },
    { path: '/counter', name: 'counter', component: CounterView },
    // The customer-facing screen's own window: no sign-in, no header, nothing but the keypad.
    {
      path: '/customer-pin',
      name: 'customer-pin',
      component: () => import('./views/CustomerPinView.vue'),
      meta: { public: true, bare: true }
    },
    // Loaded when first opened: the counter and sign-in come up without parsing the rest.
    { path: '/sale', name: 'sale', component: () => import('./views/SaleView.vue') },
    { path: '/history', name: 'history', component: () => import('./views/HistoryView.vue') },
    { path: '/benefits', name: 'benefits', component: () => import('./views/BenefitsView.vue') },
    { path: '/receipt/:saleId', name: 'receipt', component: () => import('./views/ReceiptPage.vue') },
    { path: '/settings', name: 'settings', component: () => import('./views/SettingsView.vue') },
    {
      path: '/supervisor',
      component: () => import('./views/supervisor/SupervisorLayout.vue'),
      meta: { supervisor: true },
      redirect: { name: 'reports' },
      children: [
        { path: 'reports', name: 'reports', component: () => import('./views/supervisor/ReportsView.vue') },
        {
          path: 'closes/:number?',
          name: 'closes',
          component: () => import('./views/supervisor/ClosesView.vue')
        },
        {
          path: 'rejections',
          name: 'rejections',
          component: () => import('./views/supervisor/RejectionsView.vue')
        },
        {
          path: 'operators',
          name: 'operators',
          component: () => import('./views/supervisor/OperatorsView.vue')
        },
        { path: 'audit', name: 'audit', component: () => import('./views/supervisor/AuditView.vue') }
      ]
    }
  ]
})

/**
 * Every screen but sign-in is for a signed-in operator, the supervisor's screens for supervisors
 * only. The services refuse the calls anyway; the guard keeps a clerk from an empty, refusing screen.
 */
export function guard(to: RouteLocationNormalized): true | { name: string; query?: Record<string, string> } {
  const auth = useAuthStore()
  if (to.meta.public) return true
  if (!auth.signedIn)
    return { name: 'sign-in', query: to.fullPath === '/counter' ? {} : { back: to.fullPath } }
  // A PIN someone else set: the sign-in screen asks for a new one before anything else.
  if (auth.session?.pinChangeRequired) return { name: 'sign-in' }
  if (to.matched.some((record) => record.meta.supervisor) && !auth.isSupervisor) return { name: 'counter' }
  return true
}

router.beforeEach(guard)
