/**
 * The clock port. Modules below `main.ts` get time from a `Clock` so that a simulator can drive
 * it; only `io/`, `http/` and `main.ts` read the real clock or start real timers.
 */
import { clampTimeoutMs } from '../util/timeout.js'

export interface TimerHandle {
  cancel (): void
}

export interface Clock {
  /** Wall-clock milliseconds since the epoch (record timestamps, retention). */
  nowMs (): number
  /** Monotonic milliseconds for measuring durations and deadlines. */
  monotonicMs (): number
  /** Runs `callback` once after `delayMs` (clamped to [0, 2^31-1]); the handle cancels it. */
  setTimer (delayMs: number, callback: () => void): TimerHandle
}

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  monotonicMs: () => performance.now(),
  setTimer (delayMs, callback) {
    const timer = setTimeout(callback, clampTimeoutMs(delayMs))
    timer.unref?.()
    return { cancel: () => clearTimeout(timer) }
  },
}
