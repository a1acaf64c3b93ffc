/**
 * The broker-wide budget for requests held in memory, shared by every connection of every
 * listener (Kafka's request memory pool, KIP-72, and its request queue bound):
 *
 * - bytes, `queued.max.request.bytes`: request bytes received and not yet answered (partial
 *   frames included) plus response bytes encoded and not yet taken by the kernel;
 * - requests, `queued.max.requests`: requests read and not yet answered.
 *
 * Connections report what they hold with `adjust`; when the budget is exhausted they stop reading
 * (Kafka mutes the channel) and park a wake-up with `waitForRoom`, which runs once there is room
 * again. A connection holding nothing may still read one request (see Connection), so parked
 * long polls and JoinGroups cannot starve everyone else. The waiters are at most one per open
 * connection, so the set is bounded by `max.connections`.
 */
import { assert } from '../util/assert.js'

export class RequestBudget {
  readonly bytesMax: number
  readonly requestsMax: number
  #bytes = 0
  #requests = 0
  readonly #waiters = new Set<() => void>()

  /** `bytesMax` <= 0 means unbounded, as Kafka's -1. */
  constructor (bytesMax: number, requestsMax: number) {
    this.bytesMax = bytesMax > 0 ? bytesMax : Number.POSITIVE_INFINITY
    this.requestsMax = requestsMax
  }

  get bytes (): number {
    return this.#bytes
  }

  get requests (): number {
    return this.#requests
  }

  get bytesExhausted (): boolean {
    return this.#bytes >= this.bytesMax
  }

  get requestsExhausted (): boolean {
    return this.#requests >= this.requestsMax
  }

  adjust (bytesDelta: number, requestsDelta: number): void {
    this.#bytes += bytesDelta
    this.#requests += requestsDelta
    // Each connection releases exactly what it reported, so the totals cannot go negative.
    assert(this.#bytes >= 0 && this.#requests >= 0,
      `request budget below zero: ${this.#bytes} bytes, ${this.#requests} requests`)
    if ((bytesDelta < 0 || requestsDelta < 0) && this.#waiters.size > 0) this.#wakeIfRoom()
  }

  /** Runs `wake` once when neither limit is exhausted any more. */
  waitForRoom (wake: () => void): void {
    this.#waiters.add(wake)
  }

  cancelWait (wake: () => void): void {
    this.#waiters.delete(wake)
  }

  /** Wakes in a microtask, so a connection's own `adjust` never re-enters that connection. */
  #wakeIfRoom (): void {
    if (this.bytesExhausted || this.requestsExhausted) return
    const waiters = [...this.#waiters]
    this.#waiters.clear()
    queueMicrotask(() => {
      for (const wake of waiters) wake()
    })
  }
}
