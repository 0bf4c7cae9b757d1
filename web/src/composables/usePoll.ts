// Polls while a page shows something that changes on the server (a running job): `tick` runs
// every `ms` until it returns false or the component unmounts; a failed tick is retried at the
// next interval. Never two ticks at once.
import { onBeforeUnmount, ref } from 'vue'

export function usePoll(tick: () => Promise<boolean>, ms = 1000) {
  const active = ref(false)
  let timer: ReturnType<typeof setTimeout> | null = null
  let stopped = false

  async function loop() {
    timer = null
    if (stopped) return
    let again = true
    try {
      again = await tick()
    } catch {
      again = true
    }
    if (again && !stopped) timer = setTimeout(loop, ms)
    else active.value = false
  }
  function start(immediate = false) {
    stopped = false
    if (active.value) return
    active.value = true
    timer = setTimeout(loop, immediate ? 0 : ms)
  }
  function stop() {
    stopped = true
    active.value = false
    if (timer) clearTimeout(timer)
    timer = null
  }
  onBeforeUnmount(stop)
  return { start, stop, active }
}
