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
 * log written least recently; a log without one reads its files as before. Batches are copied
 * into the ring: a cache holding views of request buffers kept whole socket reads alive and
 * ran the heap into mark-compacts.
 *
 * Validity is derived from offsets, so no path that cuts a log has to remember the cache: the
 * entries are whole batches in offset order, and they are used only while the last one ends at
 * the log's written end (a cut lowers it) and the next write continues after them (a write at
 * a lower offset, after a cut or a truncation, empties the cache first). Then a read from them
 * returns the batches a read of the files returns (test/storage/tail-cache). The one rewrite
 * offsets do not show, a cleaner swap, empties the cache explicitly.
 */
import { readInt64 } from '../records/batch-header.js'
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
      // `cache` holds no ring while it asks for one, so the idlest holder is another log.
      const [idlest] = this.#holders.keys()
      if (idlest === undefined) return undefined
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

  /** Copies a batch just written at the log's end into `segment` (its base segment offset). */
  add (batch: Buffer, segment: number, nextOffset: number): void {
    if (!this.#read || this.#closed) return
    const baseOffset = readInt64(batch, 0)
    const last = this.#entries[this.#entries.length - 1]
    // Below the cached end: the log was cut or truncated since, and the entries are stale.
    if (last !== undefined && baseOffset < last.nextOffset) this.clear()
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
   * back to `fetchOffset` or does not end at `writtenEnd`, the log's written end.
   */
  read (fetchOffset: number, maxBytes: number, maxOffset: number, minOneBatch: boolean,
    writtenEnd: number): Buffer | undefined {
    this.#read = true
    const entries = this.#entries
    const first = entries[0]
    const ring = this.#ring
    if (first === undefined || ring === undefined || fetchOffset < first.baseOffset ||
      (entries[entries.length - 1] as TailEntry).nextOffset !== writtenEnd) {
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
