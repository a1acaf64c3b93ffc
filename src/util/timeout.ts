/**
 * `setTimeout` holds a delay as a signed 32-bit count of milliseconds: Node turns anything above
 * 2^31-1 (about 24.8 days), and NaN, into 1 ms with a TimeoutOverflowWarning, so a client's
 * `max_wait_ms` or `session_timeout_ms` of 2^31 would become a busy loop. Every delay that comes
 * from a client or a config goes through `clampTimeoutMs` before it reaches a timer.
 */
export const TIMEOUT_MAX_MS = 2 ** 31 - 1

/** `delayMs` within [0, 2^31-1]; NaN and negatives are 0, +Infinity is the maximum. */
export function clampTimeoutMs (delayMs: number): number {
  if (Number.isNaN(delayMs) || delayMs <= 0) return 0
  return Math.min(delayMs, TIMEOUT_MAX_MS)
}
