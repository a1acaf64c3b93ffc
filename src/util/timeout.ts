/**
 * Timer bounds: Node's setTimeout/setInterval hold at most 2^31-1 ms; a larger delay (or a
 * negative or NaN one) fires after 1 ms, which turns a "wait forever" into a busy loop. Every
 * timeout or deadline that comes from a client or a config passes through here first.
 */
export const TIMEOUT_MS_MAX = 2_147_483_647

/** `ms` clamped to [0, 2^31-1]; NaN becomes 0. */
export function clampTimeoutMs (ms: number): number {
  if (Number.isNaN(ms)) return 0
  return Math.min(Math.max(ms, 0), TIMEOUT_MS_MAX)
}
