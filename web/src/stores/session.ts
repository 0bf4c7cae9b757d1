import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { api, ApiError } from '@/api/client'
import type { Me } from '@/api/types'

/** Who is logged in, with what permissions. The server enforces; the console only hides. */
export const useSession = defineStore('session', () => {
  const me = ref<Me | null>(null)
  const loaded = ref(false)
  /** Why the last session ended (the API's message), shown on the login page. */
  const endedReason = ref<string | null>(null)

  const permissions = computed(() => new Set(me.value?.permissions ?? []))
  const can = (permission: string | undefined | null) =>
    !permission || permissions.value.has(permission)
  const canAny = (list: string[]) => list.some((p) => permissions.value.has(p))

  async function load(): Promise<Me | null> {
    try {
      me.value = await api.get<Me>('me')
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) me.value = null
      else throw e
    } finally {
      loaded.value = true
    }
    return me.value
  }

  async function login(username: string, password: string): Promise<Me | null> {
    await api.post('auth/login', { username, password }, { noAuthRedirect: true })
    endedReason.value = null
    return load()
  }

  async function logout(): Promise<void> {
    try {
      await api.post('auth/logout', {}, { noAuthRedirect: true })
    } finally {
      me.value = null
    }
  }

  function sessionEnded(reason: string): void {
    me.value = null
    endedReason.value = reason
  }

  return { me, loaded, endedReason, permissions, can, canAny, load, login, logout, sessionEnded }
})
