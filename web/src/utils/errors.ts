import { ApiError } from '@/api/client'
import { i18n } from '@/i18n'

/** A message for a failed request, in the console's language where we know the case. */
export function describeError(e: unknown): string {
  const t = i18n.global.t
  if (e instanceof ApiError) {
    switch (e.status) {
      case 0:
        return t('errors.network')
      case 403:
        return t('errors.forbidden', { message: e.message })
      case 404:
        return t('errors.notFound')
      case 409:
        return t('errors.conflict')
      case 503:
        return t('errors.unavailable')
      default:
        return e.message
    }
  }
  if (e instanceof Error) return e.message
  return String(e)
}

/**
 * The login failure in the console's language, from the API's message: wrong password with the
 * attempts left, locked for N minutes, disabled. Anything else is the API's own message.
 */
export function describeLoginError(e: unknown): { title: string; detail?: string } {
  const t = i18n.global.t
  if (!(e instanceof ApiError)) return { title: describeError(e) }
  const msg = e.message
  if (e.status === 429 || (e.status !== 401 && /locked for/i.test(msg))) {
    const m = msg.match(/(\d+)\s*(?:more\s*)?minute/)
    return { title: m ? t('login.locked', { minutes: m[1] }) : t('login.lockedNoTime'), detail: msg }
  }
  if (e.status === 401) {
    const m = msg.match(/(\d+)\s*attempt/)
    return {
      title: m ? t('login.wrongWithAttempts', { n: m[1] }) : t('login.wrong'),
      detail: msg,
    }
  }
  if (e.status === 403) return { title: t('login.disabled'), detail: msg }
  return { title: describeError(e), detail: msg }
}

/** Why a session ended, from the 401 message of the request that found out. */
export function describeSessionEnd(message: string): string {
  const t = i18n.global.t
  const idle = message.match(/after\s+(\d+)\s*minute/)
  if (idle) return t('login.sessionIdle', { minutes: idle[1] })
  if (/expired/i.test(message)) return t('login.sessionExpired')
  if (/logged out|ended/i.test(message)) return t('login.sessionEnded')
  if (/disabled/i.test(message)) return t('login.disabled')
  return t('login.sessionInvalid')
}
