import { createRouter, createWebHashHistory } from 'vue-router'
import CounterView from './views/CounterView.vue'
import SettingsView from './views/SettingsView.vue'

/** Hash history: the same URLs work from file:// under Electron and over HTTP in browser mode. */
export const router = createRouter({
  history: createWebHashHistory(),
  routes: [
    { path: '/', redirect: '/counter' },
    { path: '/counter', name: 'counter', component: CounterView },
    { path: '/settings', name: 'settings', component: SettingsView },
  ],
})
