/**
 * The newest written batches of the most recently written partitions, kept in memory so that a
 * fetch at the tail (a consumer or a follower that keeps up) is answered without a file read:
 * no libuv pool round trip, no syscall, no thread hand-off. Such reads are most of the reads of
 * an end-to-end pipeline, and on a small machine their cost on the main thread competes with
 * everything else (issue #18: about 8 % of the broker's busy time at 1 M msg/s).
 *
 * Memory: `TailCachePool` owns fixed rings of TAIL_RING_BYTES, `tributary.log.tail.cache.bytes`
 * in all, each allocated the first time it is needed. A log takes a ring at its first write
 * after its first read (a log nobody reads copies nothing), a free one or else the one of the
 * log written least recently; a log without one reads its files as before. Batches are copied into the ring: a cache holding views of request buffers
 * kept whole socket reads alive and ran the heap into mark-compacts.
 *
 * Invariant: a cache's entries are whole batches, contiguous, ending at the log's written end,
 * so a read from them returns the same bytes as a read of the files (test/storage/tail-cache).
 * The log clears the cache whenever written bytes are cut or rewritten (a failed write, a
 * truncation, a restart, a cleaner swap) and when it cannot copy a batch in.
 */
import { assert } from '../util/assert.js'
import { READ_BYTES_MAX } from './log-reader.js'

/** One ring per cached partition: enough for a consumer a few rounds behind the tail. */
export const TAIL_RING_BYTES = 1024 * 1024
/** Larger batches are read from the files: a ring holds at least four batches. */
const CACHED_BATCH_BYTES_MAX = TAIL_RING_BYTES / 4

interface TailEntry {
  /** The base offset of the segment the batch was written to. */
  segment: number
  baseOffset: number
  nextOffset: number
  start: number
  size: number
}

export class TailCachePool {
  readonly #ringsMax: number
  readonly #free: Buffer[] = []
  #allocated = 0
  /** The caches holding a ring, least recently written first (a Map keeps insertion order). */
  readonly #holders = new Map<TailCache, true>()
  hits = 0
  misses = 0

  constructor (totalBytes: number) {
    this.#ringsMax = Math.max(0, Math.floor(totalBytes / TAIL_RING_BYTES))
  }

  get bytesAllocated (): number { return this.#allocated * TAIL_RING_BYTES }

  /** A ring for `cache`: a free one, a new one within the budget, or the idlest holder's. */
  acquire (cache: TailCache): Buffer | undefined {
    if (this.#ringsMax === 0) return undefined
    let ring = this.#free.pop()
    if (ring === undefined && this.#allocated < this.#ringsMax) {
      ring = Buffer.allocUnsafeSlow(TAIL_RING_BYTES)
      this.#allocated++
    }
    if (ring === undefined) {
      const [idlest] = this.#holders.keys()
      if (idlest === undefined || idlest === cache) return undefined
      this.#holders.delete(idlest)
      ring = idlest.surrender()
    }
    this.#holders.set(cache, true)
    return ring
  }

  /** `cache` was just written: it is now the last to lose its ring. */
  touched (cache: TailCache): void {
    this.#holders.delete(cache)
    this.#holders.set(cache, true)
  }

  release (cache: TailCache, ring: Buffer): void {
    this.#holders.delete(cache)
    this.#free.push(ring)
  }
}

export class TailCache {
  readonly #pool: TailCachePool
  #ring: Buffer | undefined
  #position = 0
  #entries: TailEntry[] = []
  /** Set by the first read: a log nobody reads (a producer-only topic) copies nothing. */
  #read = false
  /** The log closed: a round still finishing must not take a ring again. */
  #closed = false

  constructor (pool: TailCachePool) {
    this.#pool = pool
  }

  /** Copies a batch just written at the log's end into `segment` (called in offset order). */
  add (batch: Buffer, segment: number, baseOffset: number, nextOffset: number): void {
    const last = this.#entries[this.#entries.length - 1]
    // The log writes in offset order, so entries stay contiguous up to its written end.
    assert(last === undefined || baseOffset >= last.nextOffset, 'tail batches in offset order')
    if (!this.#read || this.#closed) return
    if (batch.length > CACHED_BATCH_BYTES_MAX) {
      this.clear()
      return
    }
    this.#ring ??= this.#pool.acquire(this)
    const ring = this.#ring
    if (ring === undefined) return
    if (this.#position + batch.length > ring.length) this.clear()
    batch.copy(ring, this.#position)
    this.#entries.push({ segment, baseOffset, nextOffset, start: this.#position,
      size: batch.length })
    this.#position += batch.length
    this.#pool.touched(this)
  }

  /**
   * Whole batches from the one holding `fetchOffset`, as `readSegments` returns them (up to
   * `maxBytes`, the first whole when `minOneBatch`, none based at or past `maxOffset`, all from
   * the segment of the first), copied out of the ring; undefined when the cache does not reach
   * back to `fetchOffset`.
   */
  read (fetchOffset: number, maxBytes: number, maxOffset: number, minOneBatch: boolean):
  Buffer | undefined {
    this.#read = true
    const entries = this.#entries
    const first = entries[0]
    const ring = this.#ring
    if (first === undefined || ring === undefined || fetchOffset < first.baseOffset) {
      this.#pool.misses++
      return undefined
    }
    this.#pool.hits++
    let index = entryHolding(entries, fetchOffset)
    const wanted = Math.min(Math.max(maxBytes, 0), READ_BYTES_MAX)
    const start = entries[index]?.start ?? 0
    const segment = entries[index]?.segment
    let taken = 0
    for (; index < entries.length; index++) {
      const entry = entries[index] as TailEntry
      if (entry.baseOffset >= maxOffset || entry.segment !== segment) break
      if (taken + entry.size > wanted && (taken > 0 || !minOneBatch)) break
      taken += entry.size
    }
    // A copy: the ring is overwritten while the answer may still wait for its socket.
    return Buffer.from(ring.subarray(start, start + taken))
  }

  clear (): void {
    this.#entries = []
    this.#position = 0
  }

  /** Gives the ring back to the pool (the log closes or is deleted). */
  close (): void {
    this.#closed = true
    this.clear()
    if (this.#ring !== undefined) this.#pool.release(this, this.#ring)
    this.#ring = undefined
  }

  /** Called by the pool, which hands this cache's ring to a more recently written log. */
  surrender (): Buffer {
    const ring = this.#ring
    assert(ring !== undefined, 'only a holder surrenders its ring')
    this.clear()
    this.#ring = undefined
    return ring
  }
}

/** The index of the first entry ending after `offset` (entries.length if none). */
function entryHolding (entries: readonly TailEntry[], offset: number): number {
  let low = 0
  let high = entries.length
  while (low < high) {
    const middle = (low + high) >>> 1
    if ((entries[middle] as TailEntry).nextOffset <= offset) low = middle + 1
    else high = middle
  }
  return low
}
