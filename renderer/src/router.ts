import { createRouter, createWebHashHistory } from 'vue-router'
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
    // Loaded when first opened: the counter and sign-in come up without parsing the rest.
    { path: '/sale', name: 'sale', component: () => import('./views/SaleView.vue') },
    { path: '/history', name: 'history', component: () => import('./views/HistoryView.vue') },
    { path: '/receipt/:saleId', name: 'receipt', component: () => import('./views/ReceiptPage.vue') },
    { path: '/settings', name: 'settings', component: () => import('./views/SettingsView.vue') },
  ],
})

// Every screen but sign-in is for a signed-in operator; the services refuse their calls anyway.
router.beforeEach((to) => {
  if (to.meta.public || useAuthStore().signedIn) return true
  return { name: 'sign-in', query: to.fullPath === '/counter' ? {} : { back: to.fullPath } }
})
