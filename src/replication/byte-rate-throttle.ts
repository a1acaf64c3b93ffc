/**
 * A replication throttle (Kafka's leader.replication.throttled.rate /
 * follower.replication.throttled.rate, its ReplicationQuotaManager simplified to a token
 * bucket): `rateBytesPerSec` bytes may pass per second, with at most one second's worth saved
 * up. A rate of Number.MAX_SAFE_INTEGER (Kafka's Long.MAX_VALUE default) is unthrottled.
 *
 * The rate is read on every use. Broker configs are static in Tributary (set in the properties
 * file, environment or flags; AlterConfigs refuses broker resources), unlike Kafka, where
 * kafka-reassign-partitions sets these as dynamic broker configs.
 *
 * PURE: time comes in as `nowMs` (monotonic). Kafka applies the rate to the partitions listed
 * in the topic configs `*.replication.throttled.replicas`; here it covers all of a broker's
 * replication traffic, which is what a reassignment throttle needs when it is the only
 * replication under way.
 */
import { assert } from '../util/assert.js'

export const UNTHROTTLED = Number.MAX_SAFE_INTEGER

export class ByteRateThrottle {
  readonly #rate: () => number
  #rateBytesPerSec: number
  #tokens: number
  #lastMs: number

  constructor (rate: () => number, nowMs: number) {
    this.#rate = rate
    this.#rateBytesPerSec = Math.max(0, rate())
    this.#tokens = this.#rateBytesPerSec
    this.#lastMs = nowMs
  }

  get unthrottled (): boolean {
    this.#syncRate()
    return this.#rateBytesPerSec >= UNTHROTTLED
  }

  /** Follows the configured rate; saved-up bytes are capped at a new, lower rate. */
  #syncRate (): void {
    const rate = this.#rate()
    if (rate === this.#rateBytesPerSec) return
    this.#rateBytesPerSec = Number.isFinite(rate) && rate >= 0 ? rate : UNTHROTTLED
    this.#tokens = Math.min(this.#tokens, this.#rateBytesPerSec)
    assert(this.#rateBytesPerSec >= 0, 'a rate is not negative')
  }

  /** Bytes that may pass now (0 when the bucket is empty). */
  available (nowMs: number): number {
    if (this.unthrottled) return UNTHROTTLED
    this.#refill(nowMs)
    return Math.max(0, Math.floor(this.#tokens))
  }

  /** Milliseconds until `bytes` (at most one second's worth) may pass. */
  delayMsFor (bytes: number, nowMs: number): number {
    if (this.unthrottled || this.#rateBytesPerSec === 0) return this.unthrottled ? 0 : 1000
    this.#refill(nowMs)
    const missing = Math.min(bytes, this.#rateBytesPerSec) - this.#tokens
    return missing <= 0 ? 0 : Math.ceil(missing * 1000 / this.#rateBytesPerSec)
  }

  /** Counts bytes that passed; the bucket may go negative (a whole batch over the rest). */
  record (bytes: number, nowMs: number): void {
    if (this.unthrottled) return
    this.#refill(nowMs)
    this.#tokens -= bytes
  }

  #refill (nowMs: number): void {
    const elapsedMs = Math.max(0, nowMs - this.#lastMs)
    this.#lastMs = Math.max(this.#lastMs, nowMs)
    this.#tokens = Math.min(this.#rateBytesPerSec,
      this.#tokens + elapsedMs * this.#rateBytesPerSec / 1000)
  }
}
