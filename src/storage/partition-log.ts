/**
 * PartitionLog: the segments of one `<topic>-<partition>` directory (Kafka's UnifiedLog/LocalLog).
 *
 * Appends: `append` validates idempotence, assigns offsets and reserves file space
 * synchronously, in call order, then waits for the group-commit flusher (flusher.ts) to write
 * the bytes and, with fsync-before-ack, to fdatasync them. So concurrent appends across all
 * partitions share fsyncs. Offsets: every batch gets baseOffset = logEndOffset, and
 * logEndOffset only grows, except by `truncateTo`.
 *
 * Invariants: logStartOffset ≤ durableEndOffset ≤ writtenEndOffset ≤ logEndOffset; segments are
 * sorted by base offset and each starts at or after the previous one's next offset.
 *
 * Failure: a failed write or fsync rejects every append it covered with KAFKA_STORAGE_ERROR,
 * then the log truncates itself back to what is durable and accepts appends again, so a full
 * disk heals when space returns and nothing unacknowledged is ever half-kept.
 */
import path from 'node:path'
import type { Clock } from '../io/clock.js'
import { readdir, rm, stat, writeFile } from '../io/disk.js'
import { decodeRecordBatch } from '../records/batch.js'
import {
  BATCH_HEADER_BYTES, LOG_OVERHEAD_BYTES, readInt64, stampBatch,
} from '../records/batch-header.js'
import { assert } from '../util/assert.js'
import { readOptional } from './checkpoint.js'
import { StorageError } from './errors.js'
import type { LogConfig } from './log-config.js'
import { ProducerState } from './producer-state.js'
import { LogSegment, segmentFileName } from './segment.js'

export interface AppendOptions {
  leaderEpoch: number
  recordsCount: number
  maxTimestamp: number
  producerId?: number
  producerEpoch?: number
  baseSequence?: number
  isTransactional?: boolean
}

export interface AppendResult {
  baseOffset: number
  lastOffset: number
  duplicate: boolean
  logAppendTimeMs: number
}

export interface ReadResult {
  records: Buffer
}

export interface Flusher {
  markDirty (log: PartitionLog): void
}

export interface LogLogger {
  info (message: string): void
  warn (message: string): void
}

interface PendingWrite {
  segment: LogSegment
  position: number
  buffer: Buffer
  nextOffset: number
  records: number
}

interface Waiter {
  offset: number
  resolve: () => void
  reject: (error: Error) => void
}

/** Bytes read at once when scanning for a fetch offset or a timestamp. */
const READ_CHUNK_BYTES = 64 * 1024
const RELATIVE_OFFSET_MAX = 0x7fffffff

export interface OpenOptions {
  directory: string
  topic: string
  partition: number
  config: LogConfig
  flusher: Flusher
  clock: Clock
  logger: LogLogger
  cleanShutdown: boolean
  recoveryPoint: number
  logStartOffset: number
  onLogStartOffsetChange?: () => void
}

export class PartitionLog {
  readonly topic: string
  readonly partition: number
  readonly directory: string
  #config: LogConfig
  readonly #flusher: Flusher
  readonly #clock: Clock
  readonly #logger: LogLogger
  #segments: LogSegment[] = []
  #logStartOffset = 0
  #logEndOffset = 0
  #writtenEndOffset = 0
  #durableEndOffset = 0
  #pending: PendingWrite[] = []
  #waiters: Waiter[] = []
  #listeners = new Set<() => void>()
  #producers = new ProducerState()
  #rolling: Promise<void> | undefined
  #recovering: Promise<void> | undefined
  #unflushedMessages = 0
  #lastFsyncMs = 0
  #closed = false
  readonly #onLogStartOffsetChange: (() => void) | undefined

  private constructor (options: OpenOptions) {
    this.topic = options.topic
    this.partition = options.partition
    this.directory = options.directory
    this.#config = options.config
    this.#flusher = options.flusher
    this.#clock = options.clock
    this.#logger = options.logger
    this.#onLogStartOffsetChange = options.onLogStartOffsetChange
  }

  get logStartOffset (): number { return this.#logStartOffset }
  get logEndOffset (): number { return this.#logEndOffset }
  get durableEndOffset (): number { return this.#durableEndOffset }
  get writtenEndOffset (): number { return this.#writtenEndOffset }
  get config (): LogConfig { return this.#config }
  get segmentCount (): number { return this.#segments.length }

  get sizeBytes (): number {
    let total = 0
    for (const segment of this.#segments) total += segment.size
    return total
  }

  get #active (): LogSegment {
    const active = this.#segments[this.#segments.length - 1]
    assert(active !== undefined, 'a log always has an active segment')
    return active
  }

  /** Opens the directory, recovering it if the last shutdown was not clean. */
  static async open (options: OpenOptions): Promise<PartitionLog> {
    const log = new PartitionLog(options)
    await log.#load(options)
    return log
  }

  async #load (options: OpenOptions): Promise<void> {
    const started = this.#clock.monotonicMs()
    const names = await readdir(this.directory)
    for (const name of names) {
      if (/\.(tmp|deleted|cleaned|swap)$/.test(name)) {
        await rm(path.join(this.directory, name), { force: true })
      }
    }
    const bases = names.filter(name => /^\d{20}\.log$/.test(name))
      .map(name => Number(name.slice(0, 20))).sort((a, b) => a - b)
    if (bases.length === 0) bases.push(Math.max(0, options.logStartOffset))
    let truncatedBytes = 0
    let recovered = 0
    const recoveryBase = bases.filter(base => base <= options.recoveryPoint).pop() ?? 0
    for (let i = 0; i < bases.length; i++) {
      const base = bases[i] as number
      const segment = await LogSegment.open(this.directory, base,
        this.#config.indexIntervalBytes, this.#clock.nowMs())
      const previous = this.#segments[this.#segments.length - 1]
      if (previous !== undefined && base !== previous.nextOffset) {
        // A segment rolled at an offset the previous one never durably reached: everything
        // from here on was appended after data a crash took back, so none of it was
        // acknowledged (acks go out in offset order). Kafka's LogLoader drops it the same way.
        for (const later of bases.slice(i)) {
          const doomed = await LogSegment.open(this.directory, later, 1, 0)
          truncatedBytes += (await stat(doomed.logPath)).size
          await doomed.delete()
        }
        await segment.close()
        break
      }
      this.#segments.push(segment)
      if (!options.cleanShutdown && base >= recoveryBase) {
        const result = await segment.recover(true)
        recovered++
        truncatedBytes += result.truncatedBytes
        if (result.truncatedBytes > 0) {
          // Kafka's LogLoader: after the first bad batch, every later segment goes too.
          for (const later of bases.slice(i + 1)) {
            const doomed = await LogSegment.open(this.directory, later, 1, 0)
            truncatedBytes += (await stat(doomed.logPath)).size
            await doomed.delete()
          }
          break
        }
      } else if (!await segment.load(false)) {
        recovered++
      }
    }
    this.#logEndOffset = this.#active.nextOffset
    this.#writtenEndOffset = this.#logEndOffset
    this.#durableEndOffset = this.#logEndOffset
    this.#logStartOffset = Math.min(Math.max(options.logStartOffset,
      (this.#segments[0] as LogSegment).baseOffset), this.#logEndOffset)
    await this.#active.datasync()
    await this.#loadProducerState()
    if ((recovered > 0 && this.#logEndOffset > 0) || truncatedBytes > 0) {
      this.#logger.warn(`recovered ${this.name}: ${recovered} segment(s) scanned in ` +
        `${(this.#clock.monotonicMs() - started).toFixed(1)} ms, ${truncatedBytes} bytes ` +
        `truncated, log end offset ${this.#logEndOffset}`)
    }
  }

  get name (): string {
    return `${this.topic}-${this.partition}`
  }

  /** The newest snapshot at or below the log end, then a replay of the batches after it. */
  async #loadProducerState (): Promise<void> {
    const snapshots = (await readdir(this.directory))
      .filter(name => /^\d{20}\.snapshot$/.test(name))
      .map(name => Number(name.slice(0, 20)))
      .filter(offset => offset <= this.#logEndOffset)
      .sort((a, b) => b - a)
    let from = this.#segments[0]?.baseOffset ?? 0
    for (const offset of snapshots) {
      const bytes = await readOptional(path.join(this.directory,
        segmentFileName(offset, '.snapshot')))
      if (bytes !== undefined && this.#producers.loadSnapshot(bytes)) {
        from = offset
        break
      }
    }
    await this.#scanHeaders(from, header => {
      const producerId = readInt64(header, 43)
      if (producerId < 0) return
      this.#producers.update(producerId, header.readInt16BE(51), header.readInt32BE(53),
        header.readInt32BE(23), readInt64(header, 0), readInt64(header, 35))
    })
  }

  /** Calls `onBatch` with the header of every batch whose last offset is ≥ `from`. */
  async #scanHeaders (from: number, onBatch: (header: Buffer) => void): Promise<void> {
    for (const segment of this.#segments) {
      if (segment.nextOffset <= from) continue
      let position = segment.lookup(from)
      while (position < segment.writtenBytes) {
        const chunk = await segment.read(position, READ_CHUNK_BYTES)
        let at = 0
        while (at + BATCH_HEADER_BYTES <= chunk.length) {
          const size = chunk.readInt32BE(at + 8) + LOG_OVERHEAD_BYTES
          const header = chunk.subarray(at, at + BATCH_HEADER_BYTES)
          if (readInt64(header, 0) + header.readInt32BE(23) >= from) onBatch(header)
          at += size
        }
        if (at === 0) {
          // A batch larger than the chunk: step over it using its length field.
          const head = await segment.read(position, BATCH_HEADER_BYTES)
          if (head.length < BATCH_HEADER_BYTES) break
          onBatch(head)
          position += head.readInt32BE(8) + LOG_OVERHEAD_BYTES
          continue
        }
        position += at
      }
    }
  }

  updateConfig (config: Partial<LogConfig>): void {
    this.#config = { ...this.#config, ...config }
  }

  onAppend (listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /**
   * Appends one validated batch (stamped in place with its base offset and leader epoch).
   * Resolves when durable per the flush policy; a retried duplicate of one of the producer's
   * last 5 batches resolves with its original offsets and is not written again.
   */
  async append (batch: Buffer, options: AppendOptions): Promise<AppendResult> {
    while (this.#rolling !== undefined || this.#recovering !== undefined) {
      await (this.#rolling ?? this.#recovering)
    }
    if (this.#closed) throw new StorageError('KAFKA_STORAGE_ERROR', `${this.name} is closed`)
    const lastOffsetDelta = batch.readInt32BE(23)
    const producerId = options.producerId ?? -1
    if (producerId >= 0) {
      const check = this.#producers.check(producerId, options.producerEpoch ?? 0,
        options.baseSequence ?? 0, lastOffsetDelta)
      if (check.outcome === 'error') throw new StorageError(check.kind, check.message)
      if (check.outcome === 'duplicate') {
        await this.#waitFor(check.lastOffset + 1)
        return {
          baseOffset: check.firstOffset, lastOffset: check.lastOffset, duplicate: true,
          logAppendTimeMs: -1,
        }
      }
    }
    if (this.#needsRoll(batch.length, lastOffsetDelta)) {
      this.#rolling = this.#roll().finally(() => { this.#rolling = undefined })
      await this.#rolling
      return this.append(batch, options)
    }
    const baseOffset = this.#logEndOffset
    const lastOffset = baseOffset + lastOffsetDelta
    stampBatch(batch, 0, baseOffset, options.leaderEpoch)
    const segment = this.#active
    const position = segment.reserve(batch.length, baseOffset, lastOffset, options.maxTimestamp)
    this.#logEndOffset = lastOffset + 1
    if (producerId >= 0) {
      this.#producers.update(producerId, options.producerEpoch ?? 0, options.baseSequence ?? 0,
        lastOffsetDelta, baseOffset, options.maxTimestamp)
    }
    this.#pending.push({
      segment, position, buffer: batch, nextOffset: lastOffset + 1, records: options.recordsCount,
    })
    this.#flusher.markDirty(this)
    await this.#waitFor(lastOffset + 1)
    return { baseOffset, lastOffset, duplicate: false, logAppendTimeMs: -1 }
  }

  #needsRoll (batchBytes: number, lastOffsetDelta: number): boolean {
    const active = this.#active
    if (active.size === 0) return false
    return active.size + batchBytes > this.#config.segmentBytes ||
      this.#clock.nowMs() - active.createdMs > this.#config.segmentMs ||
      this.#logEndOffset + lastOffsetDelta - active.baseOffset > RELATIVE_OFFSET_MAX
  }

  async #roll (): Promise<void> {
    const previous = this.#active
    const segment = await LogSegment.open(this.directory, this.#logEndOffset,
      this.#config.indexIntervalBytes, this.#clock.nowMs())
    this.#segments.push(segment)
    // The old segment's indexes and the producer state at the new base (Kafka snapshots at
    // roll) are written in the background; a crash before they land only costs a rebuild.
    const snapshot = this.#producers.encodeSnapshot()
    void writeFile(path.join(this.directory, segmentFileName(segment.baseOffset, '.snapshot')),
      snapshot).catch(() => undefined)
    void previous.writeIndexes().catch(() => undefined)
  }

  /** Resolves once the durable (or, relaxed, written) end passes `offset`. */
  #waitFor (offset: number): Promise<void> {
    const acknowledged = this.#config.fsyncBeforeAck
      ? this.#durableEndOffset
      : this.#writtenEndOffset
    if (offset <= acknowledged) return Promise.resolve()
    return new Promise((resolve, reject) => {
      this.#waiters.push({ offset, resolve, reject })
    })
  }

  /** Called by the flusher: writes pending batches, fsyncs per policy, acknowledges. */
  async flushRound (): Promise<void> {
    const pending = this.#pending
    if (pending.length === 0 && !this.#fsyncDue()) return
    this.#pending = []
    const touched = new Set<LogSegment>()
    try {
      let start = 0
      while (start < pending.length) {
        const first = pending[start] as PendingWrite
        let end = start + 1
        while (end < pending.length && (pending[end] as PendingWrite).segment === first.segment) {
          end++
        }
        const group = pending.slice(start, end)
        await first.segment.write(group.map(write => write.buffer), first.position)
        touched.add(first.segment)
        start = end
      }
      const last = pending[pending.length - 1]
      if (last !== undefined) this.#writtenEndOffset = last.nextOffset
      for (const write of pending) this.#unflushedMessages += write.records
      if (this.#config.fsyncBeforeAck || this.#fsyncDue()) {
        if (touched.size === 0) touched.add(this.#active)
        await Promise.all([...touched].map(segment => segment.datasync()))
        this.#durableEndOffset = this.#writtenEndOffset
        this.#unflushedMessages = 0
        this.#lastFsyncMs = this.#clock.monotonicMs()
      }
    } catch (error) {
      this.#fail(error as NodeJS.ErrnoException, pending)
      return
    }
    this.#acknowledge()
  }

  #fsyncDue (): boolean {
    if (this.#durableEndOffset === this.#writtenEndOffset && this.#pending.length === 0) {
      return false
    }
    return this.#unflushedMessages >= this.#config.flushIntervalMessages ||
      this.#clock.monotonicMs() - this.#lastFsyncMs >= this.#config.flushIntervalMs
  }

  #acknowledge (): void {
    const acknowledged = this.#config.fsyncBeforeAck
      ? this.#durableEndOffset
      : this.#writtenEndOffset
    let released = 0
    while (released < this.#waiters.length &&
      (this.#waiters[released] as Waiter).offset <= acknowledged) {
      (this.#waiters[released] as Waiter).resolve()
      released++
    }
    if (released > 0) {
      this.#waiters.splice(0, released)
      for (const listener of this.#listeners) listener()
    }
  }

  #fail (error: NodeJS.ErrnoException, pending: PendingWrite[]): void {
    const failure = new StorageError('KAFKA_STORAGE_ERROR',
      `write to ${this.name} failed: ${error.code ?? ''} ${error.message}`)
    this.#logger.warn(failure.message)
    const keep = this.#config.fsyncBeforeAck ? this.#durableEndOffset : this.#writtenEndOffset
    this.#pending = []
    for (const waiter of this.#waiters) waiter.reject(failure)
    this.#waiters = []
    void pending
    // Throw away everything not acknowledged, then accept appends again.
    this.#recovering = this.truncateTo(keep, true).catch(truncateError => {
      this.#logger.warn(`${this.name}: truncation after a failed write failed: ` +
        `${String(truncateError)}`)
    }).finally(() => { this.#recovering = undefined })
  }

  /**
   * Removes every batch at or after `offset` (whole batches: the batch holding `offset` goes
   * too). Replication and failed writes need it.
   */
  async truncateTo (offset: number, afterFailure = false): Promise<void> {
    if (!afterFailure && this.#pending.length > 0) await this.#waitFor(this.#logEndOffset)
    if (offset >= this.#logEndOffset) return
    while (this.#segments.length > 1 && this.#active.baseOffset >= offset) {
      const removed = this.#segments.pop() as LogSegment
      await removed.delete()
    }
    const segment = this.#active
    let truncateAt = 0
    let nextOffset = segment.baseOffset
    await this.#scanSegmentBatches(segment, (position, _base, last) => {
      if (last < offset) {
        truncateAt = position + 0
        nextOffset = last + 1
        return true
      }
      return false
    }, sizeAt => { truncateAt += sizeAt })
    await segment.truncateAt(truncateAt, nextOffset)
    this.#logEndOffset = segment.nextOffset
    this.#writtenEndOffset = this.#logEndOffset
    this.#durableEndOffset = Math.min(this.#durableEndOffset, this.#logEndOffset)
    this.#logStartOffset = Math.min(this.#logStartOffset, this.#logEndOffset)
    this.#producers.truncateTo(this.#logEndOffset)
    await segment.datasync()
  }

  /** Walks batch positions of a segment while `keep` returns true; `advance` sees sizes. */
  async #scanSegmentBatches (segment: LogSegment,
    keep: (position: number, baseOffset: number, lastOffset: number) => boolean,
    advance: (size: number) => void): Promise<void> {
    let position = 0
    while (position < segment.writtenBytes) {
      const head = await segment.read(position, BATCH_HEADER_BYTES)
      if (head.length < BATCH_HEADER_BYTES) return
      const size = head.readInt32BE(8) + LOG_OVERHEAD_BYTES
      const base = readInt64(head, 0)
      if (!keep(position, base, base + head.readInt32BE(23))) return
      advance(size)
      position += size
    }
  }

  /** Raises the log start offset and deletes segments wholly below it (DeleteRecords). */
  async deleteSegmentsBefore (offset: number): Promise<void> {
    const target = Math.min(offset, this.#logEndOffset)
    if (target <= this.#logStartOffset) return
    this.#logStartOffset = target
    this.#onLogStartOffsetChange?.()
    while (this.#segments.length > 1 &&
      (this.#segments[1] as LogSegment).baseOffset <= target) {
      const removed = this.#segments.shift() as LogSegment
      await removed.delete()
    }
  }

  /**
   * Whole batches from the one holding `fetchOffset`, up to `maxBytes` (but the first batch
   * whole even if larger, when `minOneBatch`), never at or past `maxOffset`.
   */
  async read (fetchOffset: number, maxBytes: number,
    options: { maxOffset?: number, minOneBatch?: boolean } = {}): Promise<ReadResult> {
    if (fetchOffset < this.#logStartOffset || fetchOffset > this.#logEndOffset) {
      throw new StorageError('OFFSET_OUT_OF_RANGE', `offset ${fetchOffset} is outside ` +
        `[${this.#logStartOffset}, ${this.#logEndOffset}] of ${this.name}`)
    }
    const maxOffset = Math.min(options.maxOffset ?? this.#logEndOffset, this.#writtenEndOffset)
    const minOneBatch = options.minOneBatch ?? true
    for (let i = this.#segmentIndexFor(fetchOffset); i < this.#segments.length; i++) {
      const segment = this.#segments[i] as LogSegment
      if (segment.baseOffset >= maxOffset) break
      const records = await this.#readSegment(segment, fetchOffset, maxBytes, maxOffset,
        minOneBatch)
      if (records.length > 0) return { records }
    }
    return { records: Buffer.alloc(0) }
  }

  #segmentIndexFor (offset: number): number {
    let low = 0
    let high = this.#segments.length - 1
    let found = 0
    while (low <= high) {
      const middle = (low + high) >>> 1
      if ((this.#segments[middle] as LogSegment).baseOffset <= offset) {
        found = middle
        low = middle + 1
      } else {
        high = middle - 1
      }
    }
    return found
  }

  async #readSegment (segment: LogSegment, fetchOffset: number, maxBytes: number,
    maxOffset: number, minOneBatch: boolean): Promise<Buffer> {
    let position = segment.lookup(fetchOffset)
    for (;;) {
      if (position >= segment.writtenBytes) return Buffer.alloc(0)
      const chunk = await segment.read(position, Math.max(READ_CHUNK_BYTES, maxBytes + 8192))
      let at = 0
      let start = -1
      while (at + LOG_OVERHEAD_BYTES <= chunk.length) {
        const size = chunk.readInt32BE(at + 8) + LOG_OVERHEAD_BYTES
        const base = readInt64(chunk, at)
        const last = base + (at + 27 <= chunk.length ? chunk.readInt32BE(at + 23) : 0)
        if (base >= maxOffset) break
        if (start < 0 && at + BATCH_HEADER_BYTES <= chunk.length && last < fetchOffset) {
          at += size
          continue
        }
        if (start < 0) start = at
        const taken = at - start
        if (taken + size > maxBytes && (taken > 0 || !minOneBatch)) break
        if (at + size > chunk.length) {
          if (taken > 0) break
          // The first batch does not fit the chunk: read it whole (KIP-74).
          return segment.read(position + at, size)
        }
        at += size
      }
      if (start >= 0) return chunk.subarray(start, at)
      if (at === 0) return Buffer.alloc(0)
      position += at
    }
  }

  /** The first offset whose record timestamp is ≥ `timestampMs` (ListOffsets). */
  async offsetForTimestamp (timestampMs: number):
  Promise<{ offset: number, timestamp: number } | undefined> {
    for (const segment of this.#segments) {
      if (segment.maxTimestamp < timestampMs) continue
      let position = segment.lookupTimestamp(timestampMs)
      while (position < segment.writtenBytes) {
        const head = await segment.read(position, BATCH_HEADER_BYTES)
        if (head.length < BATCH_HEADER_BYTES) break
        const size = head.readInt32BE(8) + LOG_OVERHEAD_BYTES
        if (readInt64(head, 35) >= timestampMs) {
          const batch = await decodeRecordBatch(await segment.read(position, size))
          for (const record of batch.records) {
            if (record.timestamp >= timestampMs && record.offset >= this.#logStartOffset) {
              return { offset: record.offset, timestamp: record.timestamp }
            }
          }
        }
        position += size
      }
    }
    return undefined
  }

  /** Clean close: flush what is pending, write indexes and a producer snapshot. */
  async close (): Promise<void> {
    if (this.#closed) return
    if (this.#pending.length > 0) {
      await this.flushRound()
    }
    if (this.#durableEndOffset < this.#writtenEndOffset) {
      await this.#active.datasync()
      this.#durableEndOffset = this.#writtenEndOffset
      this.#acknowledge()
    }
    this.#closed = true
    for (const segment of this.#segments) await segment.writeIndexes()
    await writeFile(path.join(this.directory,
      segmentFileName(this.#logEndOffset, '.snapshot')), this.#producers.encodeSnapshot())
    for (const segment of this.#segments) await segment.close()
  }

  /** Closes without flushing (the log is being deleted). */
  async abandon (): Promise<void> {
    this.#closed = true
    for (const waiter of this.#waiters) {
      waiter.reject(new StorageError('UNKNOWN_TOPIC_OR_PARTITION', `${this.name} was deleted`))
    }
    this.#waiters = []
    this.#pending = []
    for (const segment of this.#segments) await segment.close().catch(() => undefined)
  }
}
