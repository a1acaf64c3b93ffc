/**
 * A histogram with fixed buckets for hot paths: `observe` is a short scan and two additions, no
 * label hashing and no allocation. The registry publishes it at scrape time
 * (`publishedHistogram` in metrics.ts), as it copies hot counters' plain totals.
 *
 * Invariants: `counts[i]` counts observations ≤ `bounds[i]` and above `bounds[i - 1]`; the last
 * slot counts those above every bound (+Inf); `count` is the sum of `counts`.
 */
import { assert } from '../util/assert.js'

/** Flush rounds and fdatasyncs: a disk's own fdatasync is 0.1-1 ms, the tails reach 100 ms. */
export const DISK_BUCKETS_SECONDS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
]

export class FixedHistogram {
  readonly bounds: readonly number[]
  readonly counts: Float64Array
  sum = 0
  count = 0

  constructor (bounds: readonly number[] = DISK_BUCKETS_SECONDS) {
    for (let i = 1; i < bounds.length; i++) {
      assert((bounds[i] as number) > (bounds[i - 1] as number), 'bucket bounds ascend')
    }
    this.bounds = bounds
    this.counts = new Float64Array(bounds.length + 1)
  }

  observe (seconds: number): void {
    let slot = 0
    while (slot < this.bounds.length && seconds > (this.bounds[slot] as number)) slot++
    this.counts[slot] = (this.counts[slot] as number) + 1
    this.sum += seconds
    this.count++
  }

  /** Cumulative counts per bound, as Prometheus' `_bucket{le=...}` series, then +Inf. */
  cumulative (): number[] {
    const result: number[] = []
    let running = 0
    for (const count of this.counts) {
      running += count
      result.push(running)
    }
    return result
  }
}
