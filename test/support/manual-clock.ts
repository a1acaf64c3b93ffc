/**
 * A Clock that moves only when a test says so: `advance(ms)` fires due timers in due order,
 * with the time set to each timer's due time as it fires, so deterministic tests see the same
 * sequence of callbacks as the real clock would give.
 */
import type { Clock, TimerHandle } from '../../src/io/clock.js'

interface Timer {
  at: number
  callback: () => void
  cancelled: boolean
}

export class ManualClock implements Clock {
  #now: number
  #timers: Timer[] = []

  constructor (startMs = 1_700_000_000_000) {
    this.#now = startMs
  }

  nowMs (): number { return this.#now }
  monotonicMs (): number { return this.#now }

  setTimer (delayMs: number, callback: () => void): TimerHandle {
    const timer = { at: this.#now + delayMs, callback, cancelled: false }
    this.#timers.push(timer)
    return { cancel: () => { timer.cancelled = true } }
  }

  /** Timers set and neither fired nor cancelled. */
  get pendingTimers (): number {
    return this.#timers.filter(timer => !timer.cancelled).length
  }

  advance (ms: number): void {
    const until = this.#now + ms
    for (;;) {
      const next = this.#timers.filter(timer => !timer.cancelled && timer.at <= until)
        .sort((a, b) => a.at - b.at)[0]
      if (next === undefined) break
      this.#now = next.at
      next.cancelled = true
      next.callback()
    }
    this.#timers = this.#timers.filter(timer => !timer.cancelled)
    this.#now = until
  }
}
