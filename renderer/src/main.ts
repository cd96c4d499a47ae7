import 'element-plus/dist/index.css'
import './styles.css'
import { createPinia } from 'pinia'
import { createApp } from 'vue'
import App from './App.vue'
import { i18n } from './i18n'
import { router } from './router'
import { installFailureNet } from './unexpected'
import { ElMessage } from 'element-plus'
import { whenSessionEnds } from './api/client'
import { useAuthStore } from './stores/auth'

const app = createApp(App).use(createPinia()).use(i18n).use(router)
installFailureNet(app, window)
// Idle too long (or the service restarted): the screen goes to sign-in and comes back after it.
whenSessionEnds((message) => {
  useAuthStore().ended()
  ElMessage({ type: 'warning', message, grouping: true })
  const back = router.currentRoute.value.fullPath
  void router.push({ name: 'sign-in', query: back === '/counter' ? {} : { back } })
})
app.mount('#app')
