// The counter payment form (坐收): what is paid, how, and the change for cash, in integer fen.
import type { PayMethod } from '@/api/meter-to-cash'
import { changeFen, fenToYuan, parseFen } from './money'

export interface CounterForm {
  amount: string
  method: PayMethod
  tendered: string
}

export interface CounterCheck {
  /** message keys by field */
  errors: Partial<Record<'amount' | 'tendered', string>>
  amountFen: number | null
  /** cash only: tendered − amount, null while unknown or too little */
  changeFen: number | null
  /** the POST /api/v1/payments body (without customer_id) when there are no errors */
  body: { amount: string; method: PayMethod; tendered?: string } | null
}

export function checkCounter(f: CounterForm): CounterCheck {
  const errors: CounterCheck['errors'] = {}
  const amountFen = parseFen(f.amount)
  if (amountFen === null) errors.amount = 'counter.errAmount'
  else if (amountFen <= 0) errors.amount = 'counter.errAmountPositive'
  let change: number | null = null
  let tendered: number | null = null
  if (f.method === 'cash' && f.tendered.trim() !== '') {
    tendered = parseFen(f.tendered)
    if (tendered === null) errors.tendered = 'counter.errAmount'
    else if (amountFen !== null) {
      change = changeFen(tendered, amountFen)
      if (change === null) errors.tendered = 'counter.errTenderedLow'
    }
  }
  const ok = Object.keys(errors).length === 0 && amountFen !== null
  const body: CounterCheck['body'] = ok ? { amount: fenToYuan(amountFen!), method: f.method } : null
  if (body && f.method === 'cash' && tendered !== null) body.tendered = fenToYuan(tendered)
  return { errors, amountFen, changeFen: change, body }
}
