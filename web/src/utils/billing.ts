// Display helpers of bills.
export function billStatusType(status: string): 'success' | 'warning' | 'danger' | 'info' | 'primary' {
  switch (status) {
    case 'issued':
      return 'success'
    case 'approved':
      return 'primary'
    case 'review':
    case 'held':
      return 'warning'
    case 'cancelled':
      return 'info'
    default:
      return 'info'
  }
}

/** What a reviewer may do with a bill of this status (the API checks again). */
export function reviewActions(status: string): { approve: boolean; recalculate: boolean; hold: boolean; unhold: boolean; issue: boolean } {
  const open = status === 'calculated' || status === 'review'
  return {
    approve: open,
    recalculate: open || status === 'held' || status === 'approved',
    hold: open || status === 'approved',
    unhold: status === 'held',
    issue: status === 'calculated' || status === 'approved',
  }
}
