/**
 * Waiting for log progress: the purgatory of long-poll fetches (Kafka's DelayedFetch), and of
 * OffsetFetch v1-6 requests waiting for a group's transactional offsets to be decided
 * (`transactionalOffsetsKey`).
 *
 * A waiter watches a set of partition keys and completes when any of them reports progress
 * (`notify(key)`, called when a partition's high watermark advances, or for a follower's fetch
 * when its leader has written new bytes: `followerFetchKey`) or when its deadline
 * passes, whichever is first. The caller then re-reads the logs: the purgatory only wakes, it
 * carries no data, so a missed or spurious wake-up costs at most one extra read.
 *
 * Limits: at most `waitersMax` waiters at once (each is one in-flight Fetch, itself bounded per
 * connection); past that a waiter completes at once, which degrades a long poll into a short
 * poll instead of growing memory. Every waiter has a timeout, and aborting its connection
 * completes it.
 */
import type { Clock, TimerHandle } from '../io/clock.js'

interface Waiter {
  keys: string[]
  timer: TimerHandle | undefined
  resolve: () => void
  done: boolean
  /** Removes the abort listener: a connection's signal outlives its many long polls. */
  unlisten: () => void
}

export class Purgatory {
  readonly #clock: Clock
  readonly #waitersMax: number
  readonly #byKey = new Map<string, Set<Waiter>>()
  #count = 0

  constructor (clock: Clock, waitersMax: number) {
    this.#clock = clock
    this.#waitersMax = waitersMax
  }

  get waiterCount (): number {
    return this.#count
  }

  /** True when a new waiter would complete at once (the cap is reached). */
  get full (): boolean {
    return this.#count >= this.#waitersMax
  }

  /** Resolves on progress of any key, on timeout, or on abort; never rejects. */
  wait (keys: string[], timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (timeoutMs <= 0 || keys.length === 0 || this.#count >= this.#waitersMax ||
      signal?.aborted === true) {
      return Promise.resolve()
    }
    return new Promise(resolve => {
      const waiter: Waiter = {
        keys, timer: undefined, resolve, done: false, unlisten: () => undefined,
      }
      const complete = (): void => this.#complete(waiter)
      waiter.timer = this.#clock.setTimer(timeoutMs, complete)
      if (signal !== undefined) {
        // Without the removal every long poll of a connection left a listener behind on its
        // signal: memory that grew with each fetch, and a slower addEventListener each time.
        signal.addEventListener('abort', complete, { once: true })
        waiter.unlisten = () => signal.removeEventListener('abort', complete)
      }
      for (const key of keys) {
        let set = this.#byKey.get(key)
        if (set === undefined) {
          set = new Set()
          this.#byKey.set(key, set)
        }
        set.add(waiter)
      }
      this.#count++
    })
  }

  /** Wakes every waiter on `key`; returns how many it woke. */
  notify (key: string): number {
    const set = this.#byKey.get(key)
    if (set === undefined) return 0
    const woken = set.size
    for (const waiter of [...set]) this.#complete(waiter)
    return woken
  }

  /** Completes every waiter (shutdown). */
  completeAll (): void {
    for (const set of [...this.#byKey.values()]) {
      for (const waiter of [...set]) this.#complete(waiter)
    }
  }

  #complete (waiter: Waiter): void {
    if (waiter.done) return
    waiter.done = true
    waiter.timer?.cancel()
    waiter.unlisten()
    for (const key of waiter.keys) {
      const set = this.#byKey.get(key)
      if (set === undefined) continue
      set.delete(waiter)
      if (set.size === 0) this.#byKey.delete(key)
    }
    this.#count--
    waiter.resolve()
  }
}

export { partitionKey } from '../util/partition-key.js'

/**
 * The key only followers' fetches of a partition also wait on: new written bytes on its leader
 * (before their fsync) wake them, not consumers, whose high watermark has not moved yet.
 */
export function followerFetchKey (topic: string, partition: number): string {
  return `${topic}\u0000${partition}\u0000follower`
}

/**
 * The key OffsetFetch v1-6 waits on while a transaction's offsets for the group are undecided
 * (src/broker/handlers/offset-fetch.ts). Topic names never start with \u0000, so no partition
 * key collides with it.
 */
export function transactionalOffsetsKey (groupId: string): string {
  return `\u0000txn-offsets\u0000${groupId}`
}
