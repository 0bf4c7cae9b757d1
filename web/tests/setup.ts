import { config } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach } from 'vitest'
import { i18n, setLocale } from '@/i18n'

config.global.plugins = [i18n, ElementPlus]
// Element Plus's poppers (select, dropdown, tooltip) loop in happy-dom: tests stub them where they
// are not what is tested.
config.global.stubs = { teleport: true, 'transition-group': false }

beforeEach(() => {
  setActivePinia(createPinia())
  setLocale('zh-CN')
})
