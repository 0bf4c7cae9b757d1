// Progress of a background job (GET /api/v1/jobs/{id}, a bill run): the same figures the API
// computes, for a job or a run.
export interface Progress {
  status: string
  done: number
  total: number
  stage?: string
}

export const FINISHED = ['succeeded', 'failed', 'cancelled']
export const isFinished = (status: string) => FINISHED.includes(status)

/** 0..100: done of total (rounded down), 100 once succeeded, 0 while the total is unknown. */
export function jobPercent(p: Progress): number {
  if (p.total > 0) return Math.max(0, Math.min(100, Math.floor((p.done * 100) / p.total)))
  return p.status === 'succeeded' ? 100 : 0
}

/** The el-progress status of a job: success, exception, warning or '' (running). */
export function progressStatus(status: string): '' | 'success' | 'exception' | 'warning' {
  if (status === 'succeeded') return 'success'
  if (status === 'failed') return 'exception'
  if (status === 'cancelled') return 'warning'
  return ''
}

export function statusTagType(status: string): 'success' | 'danger' | 'warning' | 'info' | 'primary' {
  if (status === 'succeeded') return 'success'
  if (status === 'failed') return 'danger'
  if (status === 'cancelled') return 'warning'
  if (status === 'running') return 'primary'
  return 'info'
}
