/**
 * The cleaner's key → last offset map (Kafka's SkimpyOffsetMap): keys are kept as 16-byte MD5
 * digests, and the number of entries is bounded by log.cleaner.dedupe.buffer.size divided by
 * Kafka's 24 bytes an entry (digest + offset), so a log with more distinct keys than that is
 * cleaned in several passes instead of growing memory. A digest collision would make two keys
 * share an entry; with 128-bit digests that is not a practical concern (Kafka's reasoning).
 */
import { createHash } from 'node:crypto'
import { assert } from '../util/assert.js'

/** Kafka's SkimpyOffsetMap: a 16-byte MD5 digest and an 8-byte offset per entry. */
export const OFFSET_MAP_ENTRY_BYTES = 24

export class OffsetMap {
  readonly capacity: number
  readonly #entries = new Map<string, number>()

  constructor (bufferBytes: number) {
    this.capacity = Math.floor(bufferBytes / OFFSET_MAP_ENTRY_BYTES)
    assert(this.capacity > 0, 'the dedupe buffer holds at least one entry')
  }

  get size (): number {
    return this.#entries.size
  }

  /** Records `offset` as the latest for `key`; false (and no change) when full with a new key. */
  put (key: Buffer, offset: number): boolean {
    const digest = digestOf(key)
    if (!this.#entries.has(digest) && this.#entries.size >= this.capacity) return false
    this.#entries.set(digest, offset)
    return true
  }

  get (key: Buffer): number | undefined {
    return this.#entries.get(digestOf(key))
  }

  /** Whether a new key still fits. */
  get full (): boolean {
    return this.#entries.size >= this.capacity
  }
}

function digestOf (key: Buffer): string {
  return createHash('md5').update(key).digest('base64')
}
