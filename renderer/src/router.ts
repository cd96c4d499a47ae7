import { createRouter, createWebHashHistory } from 'vue-router'
import { useAuthStore } from './stores/auth'
import CounterView from './views/CounterView.vue'
import HistoryView from './views/HistoryView.vue'
import ReceiptPage from './views/ReceiptPage.vue'
import SaleView from './views/SaleView.vue'
import SettingsView from './views/SettingsView.vue'
import SignInView from './views/SignInView.vue'

/** Hash history: the same URLs work from file:// under Electron and over HTTP in browser mode. */
export const router = createRouter({
  history: createWebHashHistory(),
  routes: [
    { path: '/', redirect: '/counter' },
    { path: '/sign-in', name: 'sign-in', component: SignInView, meta: { public: true } },
    { path: '/counter', name: 'counter', component: CounterView },
    { path: '/sale', name: 'sale', component: SaleView },
    { path: '/history', name: 'history', component: HistoryView },
    { path: '/receipt/:saleId', name: 'receipt', component: ReceiptPage },
    { path: '/settings', name: 'settings', component: SettingsView },
  ],
})

// Every screen but sign-in is for a signed-in operator; the services refuse their calls anyway.
router.beforeEach((to) => {
  if (to.meta.public || useAuthStore().signedIn) return true
  return { name: 'sign-in', query: to.fullPath === '/counter' ? {} : { back: to.fullPath } }
})
