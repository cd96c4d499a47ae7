import 'element-plus/dist/index.css'
import './styles.css'
import { createPinia } from 'pinia'
import { createApp } from 'vue'
import App from './App.vue'
import { i18n } from './i18n'
import { router } from './router'
import { installFailureNet } from './unexpected'

const app = createApp(App).use(createPinia()).use(i18n).use(router)
installFailureNet(app, window)
app.mount('#app')
