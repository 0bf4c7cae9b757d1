import { describe, expect, it } from 'vitest'
import { ApiError } from '@/api/client'
import { describeError, describeLoginError, describeSessionEnd } from '@/utils/errors'
import { setLocale } from '@/i18n'

describe('login messages from the API', () => {
  it('wrong password with the attempts left', () => {
    const e = new ApiError(401, 'UNAUTHENTICATED', 'wrong username or password (3 attempt(s) left before the account is locked)')
    expect(describeLoginError(e).title).toBe('用户名或密码错误，再错 3 次账号将被锁定')
    expect(describeLoginError(e).detail).toContain('3 attempt(s)')
  })
  it('locked, with the minutes', () => {
    const e = new ApiError(429, 'RESOURCE_EXHAUSTED', 'too many failed logins: the account is locked for 7 more minute(s)')
    expect(describeLoginError(e).title).toBe('登录失败次数过多，账号已被锁定，请 7 分钟后再试')
  })
  it('disabled', () => {
    const e = new ApiError(403, 'PERMISSION_DENIED', 'this account is disabled; ask your security administrator')
    expect(describeLoginError(e).title).toBe('该账号已停用，请联系安全管理员')
  })
  it('in English too', () => {
    setLocale('en')
    const e = new ApiError(429, 'RESOURCE_EXHAUSTED', 'too many failed logins: the account is locked for 10 minutes')
    expect(describeLoginError(e).title).toContain('10 minute(s)')
  })
})

describe('session end and request errors', () => {
  it('explains why the session ended', () => {
    expect(describeSessionEnd('your session expired after 30 minutes idle; log in again')).toBe('您已 30 分钟无操作，登录已失效，请重新登录')
    expect(describeSessionEnd('your session has expired; log in again')).toBe('登录已过期，请重新登录')
    expect(describeSessionEnd('your session has ended (logged out); log in again')).toBe('会话已结束，请重新登录')
  })
  it('names the common failures', () => {
    expect(describeError(new ApiError(404, 'NOT_FOUND', 'customer 9 not found'))).toContain('数据权限')
    expect(describeError(new ApiError(409, 'CONFLICT', 'x'))).toContain('已被他人修改')
    expect(describeError(new ApiError(0, 'UNAVAILABLE', 'x'))).toContain('无法连接服务器')
    expect(describeError(new ApiError(400, 'INVALID_ARGUMENT', 'q is too long'))).toBe('q is too long')
  })
})
