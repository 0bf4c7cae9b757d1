import { createApp } from 'vue'
import { createPinia } from 'pinia'
import ElementPlus from 'element-plus'
import 'element-plus/dist/index.css'
import * as Icons from '@element-plus/icons-vue'
import App from './App.vue'
import { i18n } from './i18n'
import { makeRouter } from './router'
import { setUnauthenticatedHandler } from './api/client'
import { useSession } from './stores/session'
import './styles.css'

const app = createApp(App)
const pinia = createPinia()
app.use(pinia)
app.use(i18n)
app.use(ElementPlus)
for (const [name, component] of Object.entries(Icons)) app.component(name, component)
const router = makeRouter()
app.use(router)

// A 401 from any request means the session ended (idle, expired, logged out elsewhere, locked):
// back to the login page with the API's reason.
setUnauthenticatedHandler((err) => {
  const session = useSession()
  if (!session.me) return
  session.sessionEnded(err.message)
  const current = router.currentRoute.value
  if (current.name !== 'login') {
    router.replace({ name: 'login', query: { redirect: current.fullPath } })
  }
})

document.documentElement.lang = i18n.global.locale.value
app.mount('#app')
