import { createRouter, createWebHashHistory } from 'vue-router'
import CounterView from './views/CounterView.vue'

/** Hash history: the same URLs work from file:// under Electron and over HTTP in browser mode. */
export const router = createRouter({
  history: createWebHashHistory(),
  routes: [
    { path: '/', redirect: '/counter' },
    { path: '/counter', name: 'counter', component: CounterView },
  ],
})
