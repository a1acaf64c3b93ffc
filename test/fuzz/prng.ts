/**
 * The fuzzer's only source of randomness: mulberry32 (test/support/seeded-random.ts) behind a
 * few helpers. Every choice the generator makes is drawn from here and from nothing else (no
 * clock, no response contents), so a seed replays the same sequence of requests.
 */
import { seededRandom } from '../support/seeded-random.js'

export class Prng {
  readonly #next: () => number

  constructor (seed: number) {
    this.#next = seededRandom(seed)
  }

  /** A float in [0, 1). */
  float (): number {
    return this.#next()
  }

  /** An integer in [min, max], both included. */
  int (min: number, max: number): number {
    return min + Math.floor(this.#next() * (max - min + 1))
  }

  chance (probability: number): boolean {
    return this.#next() < probability
  }

  pick<T> (items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list')
    return items[this.int(0, items.length - 1)] as T
  }

  bytes (length: number): Buffer {
    const bytes = Buffer.allocUnsafe(length)
    for (let i = 0; i < length; i++) bytes[i] = this.int(0, 255)
    return bytes
  }

  /** A seed for a sub-generator, so one stream's length does not shift another's. */
  seed (): number {
    return this.int(0, 0xffffffff)
  }
}
