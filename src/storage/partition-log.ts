/**
 * PartitionLog: the segments of one `<topic>-<partition>` directory (Kafka's UnifiedLog and
 * LocalLog). Loading and recovery live in log-loader.ts, segment reads in log-reader.ts.
 *
 * Appends: `append` checks idempotence, assigns offsets and reserves file space synchronously,
 * in call order, then waits for the group-commit flusher (flusher.ts) to write the bytes and,
 * with fsync-before-ack, to fdatasync them. So concurrent appends across all partitions share
 * fsyncs. Every batch gets baseOffset = logEndOffset, and logEndOffset only grows, except by
 * `truncateTo`.
 *
 * The high watermark (`highWatermark`) is defined here and only here: the end of what the flush
 * policy has acknowledged, i.e. written bytes (relaxed mode) or fsynced bytes
 * (fsync-before-ack). It never counts a reservation, and it never goes backwards: it only rises,
 * in `#acknowledge`, and a failed write cuts the log back to it, never below, so an offset a
 * consumer may have seen below it is never handed out again (only an explicit `truncateTo`,
 * for replication, may lower it).
 *
 * Replication: in replicated mode (`setReplicated(true)`, or a log listed in the
 * replication-offset-checkpoint) the log stops raising the high watermark itself; the
 * replication layer raises it with `advanceHighWatermark`, never past `acknowledgedEndOffset`,
 * and a failed write cuts back to the acknowledged end (≥ the high watermark). A follower
 * appends the leader's batches unchanged with `appendAsFollower`; `truncateTo` and
 * `truncateFullyAndStartAt` are the only ways down. The leader epoch cache
 * (leader-epoch-cache.ts, persisted in `leader-epoch-checkpoint`) follows every append,
 * truncation and log start move.
 *
 * Invariants: logStartOffset ≤ logEndOffset; durableEndOffset ≤ writtenEndOffset ≤
 * logEndOffset; highWatermark ≤ writtenEndOffset; segments are sorted by base offset and each
 * starts at the previous one's next offset; reads see only written bytes (never a
 * reservation), so reading never waits for appending.
 *
 * Concurrency: appends wait (FIFO) while a roll, a truncation or a recovery from a failed write
 * runs; this log's flush rounds never overlap (`flushRound` chains them).
 *
 * Failure: a failed write or fsync rejects every append not yet acknowledged with
 * KAFKA_STORAGE_ERROR, then the log truncates itself back to what was acknowledged and accepts
 * appends again, so a full disk heals when space returns and nothing unacknowledged is half-kept.
 * If even that truncation fails, each later append retries it and fails with
 * KAFKA_STORAGE_ERROR until it succeeds; reads of what was acknowledged go on meanwhile.
 * Replicated, a cut of written bytes also fences leader appends (`cutFenced`) until the
 * replication layer knows no follower still holds them (`liftCutFence`); `onWrittenEnd`
 * reports each round's writes (before the fsync) and each cut.
 */
import path from 'node:path'
import type { Clock } from '../io/clock.js'
import type { Disk } from '../io/disk.js'
import {
  ATTRIBUTES_OFFSET, BATCH_HEADER_BYTES, BATCH_LENGTH_OFFSET, CURRENT_MAGIC,
  LAST_OFFSET_DELTA_OFFSET, LOG_OVERHEAD_BYTES, MAGIC_OFFSET, PARTITION_LEADER_EPOCH_OFFSET,
  TIMESTAMP_TYPE_MASK, TRANSACTIONAL_FLAG_MASK, batchCrcMatches, isControlBatch, readBatchHeader,
  readInt64, stampBatch, type BatchHeader,
} from '../records/batch-header.js'
import { assert } from '../util/assert.js'
import { TailCache, type TailCachePool } from './tail-cache.js'
import type { BatchTrace } from './batch-trace.js'
import { writeAtomic } from './checkpoint.js'
import { StorageError } from './errors.js'
import { NO_BARRIER, type Flusher, type FlushTarget, type RoundBarrier } from './flusher.js'
import {
  LEADER_EPOCH_CHECKPOINT_FILE, LeaderEpochCache, formatEpochCheckpoint, parseEpochCheckpoint,
  type EpochEndOffset, type EpochEntry,
} from './leader-epoch-cache.js'
import { segmentIndexIntervalBytes, type LogConfig } from './log-config.js'
import {
  deleteSnapshots, loadProducerState, loadSegments, writeSnapshot,
} from './log-loader.js'
import {
  findOffsetByTimestamp, readSegments, scanHeaders, truncationPoint, type TimestampAndOffset,
} from './log-reader.js'
import { ProducerState } from './producer-state.js'
import { appendTxnIndex, readTxnIndex, txnIndexFile, type AbortedTxn } from './txn-index.js'
import { CONTROL_TYPE_ABORT, readControlMarker } from '../records/control-batch.js'
import { planRetention, type RetentionReason } from './retention.js'
import { LogSegment } from './segment.js'

export interface AppendOptions {
  leaderEpoch: number
  recordsCount: number
  maxTimestamp: number
  producerId?: number
  producerEpoch?: number
  baseSequence?: number
  isTransactional?: boolean
  /** A control batch that is an ABORT marker (its range goes to the aborted transactions). */
  abortMarker?: boolean
  /**
   * Checked in the same synchronous step that assigns the offsets (Kafka's VerificationGuard,
   * KIP-890): a transactional batch whose transaction ended meanwhile (a marker got in between
   * the coordinator's check and this append) is refused, so it cannot open a transaction no
   * one will end. Returns an error message, or undefined when the batch may land.
   */
  verifyTransaction?: () => { kind: string, message: string } | undefined
  /** A sampled batch's stage timestamps (debug latency breakdown), filled in as it goes. */
  trace?: BatchTrace
}

export interface AppendResult {
  baseOffset: number
  lastOffset: number
  duplicate: boolean
  /** The broker time stamped into a LogAppendTime batch, else -1 (ProduceResponse). */
  logAppendTimeMs: number
}

export interface ReadResult {
  records: Buffer
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
  trace: BatchTrace | undefined
}

interface Reservation {
  result: AppendResult
  /** Settles when the flush policy acknowledges the batch, or its write fails. */
  durable: Promise<void>
}

interface Waiter {
  offset: number
  resolve: () => void
  reject: (error: Error) => void
}

const RELATIVE_OFFSET_MAX = 0x7fffffff
/** Aborted transactions remembered per partition for read_committed fetches. */
const ABORTED_TRANSACTIONS_KEPT = 10_000

/** What one retention check did (`enforceRetention`). */
export interface RetentionOutcome {
  deletedSegments: number
  deletedBytes: number
  reason: RetentionReason | undefined
  /** Whether segment.ms rolled the idle active segment. */
  rolled: boolean
}

/** A deleted segment's files are gone: its bytes, and how long after it became eligible. */
export interface SegmentReclaim {
  bytes: number
  latencyMs: number
}

export interface OpenOptions {
  disk: Disk
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
  /** Called when a deleted segment's files are removed (metrics). */
  onSegmentReclaimed?: (reclaim: SegmentReclaim) => void
  /**
   * The high watermark in the data directory's replication-offset-checkpoint: present only for
   * a log that was replicated when the checkpoint was written. The log then opens replicated,
   * with this high watermark (clamped to the log), as Kafka's UnifiedLog loads its own.
   */
  highWatermark?: number
  /** Called when the log was cut back to `endOffset` (truncateTo, truncateFullyAndStartAt). */
  onTruncated?: (endOffset: number) => void
  /** Called when `setReplicated` changed the mode (the high-watermark checkpoint lists it). */
  onReplicatedChange?: () => void
  /** The shared rings of the newest written batches (tail-cache.ts); none: files only. */
  tailCache?: TailCachePool
}

/** What `appendAsFollower` appended: the first and last offsets of its batches. */
export interface FollowerAppendResult {
  firstOffset: number
  lastOffset: number
}

/** One whole, checked batch of a follower append: its header and what its marker says. */
interface FollowerBatch extends BatchHeader {
  buffer: Buffer
  lastOffset: number
  abortMarker: boolean
  /** A control batch's coordinator epoch, from its control record; else -1. */
  coordinatorEpoch: number
}

export class PartitionLog implements FlushTarget {
  readonly topic: string
  readonly partition: number
  readonly directory: string
  readonly #disk: Disk
  #config: LogConfig
  readonly #flusher: Flusher
  readonly #clock: Clock
  readonly #logger: LogLogger
  #segments: LogSegment[] = []
  #logStartOffset = 0
  #logEndOffset = 0
  #writtenEndOffset = 0
  #durableEndOffset = 0
  #highWatermark = 0
  #pending: PendingWrite[] = []
  #waiters: Waiter[] = []
  readonly #listeners = new Set<() => void>()
  /** Told where the written end went: after each round's writes, and after a failed write's cut. */
  readonly #writtenListeners = new Set<(writtenEndOffset: number, cut: boolean) => void>()
  /**
   * Replicated: a failed write cut written bytes that followers may have copied; leader appends
   * are refused (KAFKA_STORAGE_ERROR, retriable) until the replication layer lifts this
   * (`liftCutFence`), once every follower has dropped that tail or a new leader epoch begins.
   */
  #cutFenced = false
  readonly #producers = new ProducerState()
  /** Aborted transactions, from the segments' `.txnindex` files and live abort markers. */
  readonly #aborted: (AbortedTxn & { segmentBase: number })[] = []
  #txnIndexWrites: Promise<void> = Promise.resolve()
  /** Entries in each segment's `.txnindex` file (the next append goes after them). */
  readonly #txnIndexCounts = new Map<number, number>()
  /** The highest last offset among entries dropped from memory (-1: none). */
  #abortedEvictedUpTo = -1
  readonly #background = new Set<Promise<void>>()
  readonly #deletedSegments = new Set<LogSegment>()
  #rolling: Promise<void> | undefined
  #recovering: Promise<void> | undefined
  #flushing: Promise<void> | undefined
  /** The newest written batches, so that tail reads need no file read (tail-cache.ts). */
  readonly #tail: TailCache | undefined
  /** Set when the truncation after a failed write failed too: retried by the next append. */
  #pendingTruncation: number | undefined
  #unflushedMessages = 0
  #unflushedBytes = 0
  #lastFsyncMs = 0
  #closed = false
  readonly #onLogStartOffsetChange: (() => void) | undefined
  readonly #onSegmentReclaimed: ((reclaim: SegmentReclaim) => void) | undefined
  readonly #onTruncated: ((endOffset: number) => void) | undefined
  readonly #onReplicatedChange: (() => void) | undefined
  /** Segment deletions (DeleteRecords, retention) run one at a time, in call order. */
  #deletions: Promise<unknown> = Promise.resolve()
  /** Leader epochs and their start offsets, persisted in `leader-epoch-checkpoint`. */
  readonly #epochs = new LeaderEpochCache()
  /**
   * Replicated: the replication layer owns the high watermark (`advanceHighWatermark`); the
   * log no longer raises it as its own writes are acknowledged.
   */
  #replicated = false
  /** The follower append in progress: they run one at a time (a follower fetches in order). */
  #followerAppend: Promise<unknown> = Promise.resolve()

  private constructor (options: OpenOptions) {
    this.topic = options.topic
    this.partition = options.partition
    this.directory = options.directory
    this.#disk = options.disk
    this.#config = options.config
    this.#flusher = options.flusher
    this.#clock = options.clock
    this.#logger = options.logger
    this.#onLogStartOffsetChange = options.onLogStartOffsetChange
    this.#onSegmentReclaimed = options.onSegmentReclaimed
    this.#onTruncated = options.onTruncated
    this.#onReplicatedChange = options.onReplicatedChange
    this.#tail = options.tailCache === undefined ? undefined : new TailCache(options.tailCache)
    this.#lastFsyncMs = this.#clock.monotonicMs()
  }

  get logStartOffset (): number { return this.#logStartOffset }
  get logEndOffset (): number { return this.#logEndOffset }
  get durableEndOffset (): number { return this.#durableEndOffset }
  get writtenEndOffset (): number { return this.#writtenEndOffset }

  /**
   * Where recovery after a crash must start (the `recovery-point-offset-checkpoint` value):
   * the durable end, but never past a rolled segment whose index files are not yet fsynced
   * whole. A start trusts the indexes of every segment before the one holding this offset, so
   * (as Kafka flushes a rolled segment's indexes before it moves the recovery point past it)
   * an index write cut short by a crash must leave its segment to be rebuilt, not loaded.
   */
  get recoveryPoint (): number {
    for (const segment of this.#segments) {
      if (segment === this.#active) break
      if (!segment.indexesSynced) return Math.min(segment.baseOffset, this.#durableEndOffset)
    }
    return this.#durableEndOffset
  }
  /** What consumers may read up to; see the module comment. */
  get highWatermark (): number { return this.#highWatermark }
  get config (): LogConfig { return this.#config }
  get relaxed (): boolean { return !this.#config.fsyncBeforeAck }
  get segmentCount (): number { return this.#segments.length }
  get name (): string { return `${this.topic}-${this.partition}` }

  /** The base offsets of the live segments, oldest first. */
  get segmentBaseOffsets (): number[] {
    return this.#segments.map(segment => segment.baseOffset)
  }

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
    const loaded = await loadSegments({
      disk: this.#disk,
      directory: this.directory,
      indexIntervalBytes: segmentIndexIntervalBytes(this.#config),
      nowMs: this.#clock.nowMs(),
      cleanShutdown: options.cleanShutdown,
      recoveryPoint: options.recoveryPoint,
      logStartOffset: options.logStartOffset,
    })
    this.#segments = loaded.segments
    this.#logEndOffset = this.#active.nextOffset
    this.#writtenEndOffset = this.#logEndOffset
    this.#durableEndOffset = this.#logEndOffset
    this.#highWatermark = this.#logEndOffset
    const first = this.#segments[0] as LogSegment
    this.#logStartOffset = Math.min(Math.max(options.logStartOffset, first.baseOffset),
      this.#logEndOffset)
    if (options.highWatermark !== undefined) {
      // Kafka's UnifiedLog.updateHighWatermark on load: clamped to [log start, log end].
      this.#replicated = true
      this.#highWatermark = Math.min(Math.max(options.highWatermark, this.#logStartOffset),
        this.#logEndOffset)
    }
    await this.#active.datasync()
    // A snapshot past the log end describes batches a crash took back (Kafka's
    // ProducerStateManager.truncateAndReload deletes them the same way).
    await deleteSnapshots(this.#disk, this.directory, offset => offset > this.#logEndOffset)
    await this.#loadProducerState()
    await this.#loadEpochCache()
    if (loaded.recoveredCount > 0 || loaded.truncatedBytes > 0) {
      // WARN only when an operator should look: bytes were cut, or indexes written by a clean
      // shutdown did not hold up. Scanning after an unclean shutdown is routine (Kafka logs
      // its "Recovering unflushed segment" at INFO).
      const suspicious = loaded.truncatedBytes > 0 || options.cleanShutdown
      const report = suspicious ? this.#logger.warn : this.#logger.info
      report.call(this.#logger, `recovered ${this.name}: ${loaded.recoveredCount} segment(s) ` +
        `scanned in ${(this.#clock.monotonicMs() - started).toFixed(1)} ms, ` +
        `${loaded.truncatedBytes} bytes truncated, log end offset ${this.#logEndOffset}`)
    }
  }

  get #epochCheckpointPath (): string {
    return path.join(this.directory, LEADER_EPOCH_CHECKPOINT_FILE)
  }

  /**
   * Loads `leader-epoch-checkpoint` and makes it agree with the log. Entries past the log end
   * (a truncation whose checkpoint write a crash lost) go. If the last batch carries a newer
   * epoch than the last entry (a crash between a data write and its checkpoint write), the
   * missing entries are rebuilt by scanning batch headers from the last entry's start; a file
   * that is missing or corrupt, or any other disagreement, rebuilds the cache from every batch
   * header (headers only: records are never decoded). Kafka's LogLoader likewise rebuilds the
   * cache from the log when its checkpoint cannot be trusted.
   */
  async #loadEpochCache (): Promise<void> {
    const text = (await this.#disk.readOptional(this.#epochCheckpointPath))?.toString('utf8')
    const stored = text === undefined ? undefined : parseEpochCheckpoint(text)
    for (const entry of stored ?? []) this.#epochs.assign(entry.epoch, entry.startOffset)
    this.#epochs.truncateFromEnd(this.#logEndOffset)
    const lastEpoch = await this.#lastBatchEpoch()
    const latest = this.#epochs.latestEntry
    let rebuildFrom: number | undefined
    if (stored === undefined) {
      rebuildFrom = this.#logStartOffset
    } else if (lastEpoch !== undefined && lastEpoch >= 0 && lastEpoch !== latest?.epoch) {
      rebuildFrom = latest !== undefined && lastEpoch > latest.epoch
        ? latest.startOffset
        : this.#logStartOffset
    }
    if (rebuildFrom !== undefined) {
      if (rebuildFrom === this.#logStartOffset) this.#epochs.clear()
      await scanHeaders(this.#segments, rebuildFrom, header => {
        this.#epochs.assign(header.readInt32BE(PARTITION_LEADER_EPOCH_OFFSET),
          readInt64(header, 0))
      }, this.#logger)
    }
    this.#epochs.truncateFromStart(this.#logStartOffset)
    // A new log (no file, no batches) writes its file with its first epoch.
    const changed = stored === undefined
      ? this.#epochs.size > 0
      : !sameEntries(stored, this.#epochs.entries)
    if (changed) {
      this.#logger.info(`${this.name}: rebuilt the leader epoch cache from the log ` +
        `(${this.#epochs.size} entries)`)
      await this.#writeEpochCheckpoint()
    }
  }

  /** The partition leader epoch of the log's last batch, or undefined for an empty log. */
  async #lastBatchEpoch (): Promise<number | undefined> {
    if (this.#logEndOffset <= this.#logStartOffset) return undefined
    let epoch: number | undefined
    await scanHeaders(this.#segments, this.#logEndOffset - 1, header => {
      epoch = header.readInt32BE(PARTITION_LEADER_EPOCH_OFFSET)
    }, this.#logger)
    return epoch
  }

  /**
   * Writes the cache's entries as they are now to `leader-epoch-checkpoint`, atomically;
   * writes of the file are serialized in call order (writeAtomic), so the newest lands last.
   */
  #writeEpochCheckpoint (): Promise<void> {
    return writeAtomic(this.#disk, this.#epochCheckpointPath,
      formatEpochCheckpoint(this.#epochs.entries))
  }

  /**
   * The checkpoint write after a change the log does not wait for: a failure is logged, and the
   * next load rebuilds what the file lacks from the batches (see #loadEpochCache).
   */
  #epochCheckpointWritten (): Promise<void> {
    return this.#writeEpochCheckpoint().catch((error: unknown) => {
      this.#logger.warn(`${this.name}: writing ${LEADER_EPOCH_CHECKPOINT_FILE} failed ` +
        `(${String(error)}); the next load rebuilds it from the log`)
    })
  }

  /** The newest leader epoch in this log, or -1 when it has none. */
  get latestEpoch (): number {
    return this.#epochs.latestEpoch
  }

  /** The leader epoch entries, oldest first (tests and tools). */
  get epochEntries (): EpochEntry[] {
    return this.#epochs.entries
  }

  /**
   * A replica that becomes leader records its epoch at the log end before it writes anything
   * (Kafka's Partition.makeLeader → maybeAssignEpochStartOffset): the previous epochs then end
   * where this one began, even before its first batch, and across a reload that dropped an
   * epoch with no batch left. Resolves once the checkpoint is written.
   */
  async assignLeaderEpoch (epoch: number): Promise<void> {
    while (this.#recovering !== undefined) await this.#recovering
    if (this.#epochs.assign(epoch, this.#logEndOffset)) await this.#epochCheckpointWritten()
  }

  /**
   * Where `epoch` ends in this log (OffsetForLeaderEpoch, KIP-101/KIP-279; Kafka's
   * LeaderEpochFileCache.endOffsetFor): the latest epoch ends at the log end; see
   * LeaderEpochCache.endOffsetFor for the rest.
   */
  endOffsetForEpoch (epoch: number): EpochEndOffset {
    return this.#epochs.endOffsetFor(epoch, this.#logEndOffset)
  }

  /**
   * Transactions on this partition (KIP-98): a transactional batch opens its producer's
   * transaction, a marker (control batch) closes it and reports the aborted range.
   */
  #trackTransaction (attributes: number, producerId: number, producerEpoch: number,
    baseOffset: number, maxTimestamp: number, abortMarker: boolean | undefined,
    coordinatorEpoch: number): void {
    if (producerId < 0 || (attributes & TRANSACTIONAL_FLAG_MASK) === 0) return
    if (!isControlBatch(attributes)) {
      this.#producers.beginTransaction(producerId, baseOffset)
      return
    }
    const first = this.#producers.endTransaction(producerId, producerEpoch, maxTimestamp,
      coordinatorEpoch)
    if (first !== undefined && abortMarker === true) {
      const segmentBase = this.#active.baseOffset
      const entry = { producerId, firstOffset: first, lastOffset: baseOffset,
        // Kafka's completeTxn: the first unstable offset left, else the end after the marker.
        lastStableOffset: this.#producers.firstUnstableOffset() ?? baseOffset + 1, segmentBase }
      this.#rememberAborted(entry)
      // Index writes are chained, so entries land in marker order.
      this.#txnIndexWrites = this.#txnIndexWrites.then(() => this.#appendTxnIndex(entry))
        .catch((error: unknown) => {
          // The marker is in the log; the next load rebuilds the entry from it.
          this.#logger.warn(`${this.name}: writing the .txnindex of segment ${segmentBase} ` +
            `failed (${(error as Error).message}); it is rebuilt at the next load`)
        })
    }
  }

  /**
   * The last stable offset: the first offset of the oldest ongoing transaction, or the high
   * watermark when none is open below it (Kafka's UnifiedLog.lastStableOffset).
   */
  get lastStableOffset (): number {
    const unstable = this.#producers.firstUnstableOffset()
    return unstable === undefined ? this.#highWatermark : Math.min(unstable, this.#highWatermark)
  }

  /**
   * Aborted transactions overlapping [fromOffset, toOffset), oldest first, for a
   * read_committed Fetch (Kafka's FetchResponse.AbortedTransaction).
   */
  async abortedTransactions (fromOffset: number, toOffset: number):
  Promise<{ producerId: number, firstOffset: number }[]> {
    return (await this.abortedTransactionEntries(fromOffset, toOffset))
      .map(txn => ({ producerId: txn.producerId, firstOffset: txn.firstOffset }))
  }

  /** The whole `.txnindex` entries overlapping [fromOffset, toOffset) (the log cleaner's). */
  async abortedTransactionEntries (fromOffset: number, toOffset: number):
  Promise<AbortedTxn[]> {
    let entries: AbortedTxn[] = this.#aborted
    if (fromOffset <= this.#abortedEvictedUpTo) {
      // Older than what memory keeps: every index from the segment holding `fromOffset` on
      // (an abort marker may sit in any later segment), as Kafka's collectAbortedTxns reads.
      entries = []
      const first = this.#segmentBaseOf(fromOffset)
      for (const segment of this.#segments) {
        if (segment.baseOffset < first) continue
        entries.push(...await readTxnIndex(this.#disk, this.directory, segment.baseOffset))
      }
    }
    return entries
      .filter(txn => txn.lastOffset >= fromOffset && txn.firstOffset < toOffset)
      .map(({ producerId, firstOffset, lastOffset, lastStableOffset }) =>
        ({ producerId, firstOffset, lastOffset, lastStableOffset }))
  }

  /**
   * The cleaner replaced the segments based at `oldBases` by one at `newBase` whose
   * `.txnindex` holds `kept` (the entries of the ABORT markers it kept): the entries of the
   * markers it removed leave memory too. Called in the same synchronous step as the segment
   * switch, so that a read_committed Fetch never pairs the cleaned data with an entry whose
   * marker is gone (it would drop the producer's next, committed transaction).
   */
  #cleanedAbortedTransactions (oldBases: ReadonlySet<number>, newBase: number,
    kept: readonly AbortedTxn[]): void {
    const rest = this.#aborted.filter(entry => !oldBases.has(entry.segmentBase))
    // Entries evicted from memory before stay on disk only (abortedTransactions reads them).
    const cleaned = kept.filter(entry => entry.lastOffset > this.#abortedEvictedUpTo)
      .map(entry => ({ ...entry, segmentBase: newBase }))
    this.#aborted.splice(0, this.#aborted.length,
      ...[...cleaned, ...rest].sort((a, b) => a.lastOffset - b.lastOffset))
    for (const base of oldBases) this.#txnIndexCounts.delete(base)
    if (kept.length > 0) this.#txnIndexCounts.set(newBase, kept.length)
  }

  /** Rebuilds producer state from the newest valid snapshot and a replay (log-loader.ts). */
  async #loadProducerState (): Promise<void> {
    const markers: { producerId: number, firstOffset: number, markerOffset: number }[] = []
    await loadProducerState(this.#disk, this.directory, this.#segments, this.#logEndOffset,
      this.#producers, this.#logger, (producerId, firstOffset, markerOffset) => {
        if (firstOffset !== undefined) markers.push({ producerId, firstOffset, markerOffset })
      })
    await this.#loadAbortedTransactions(markers)
  }

  /**
   * The aborted transactions from every segment's `.txnindex`, plus any abort marker in the
   * replayed tail that an index lacks (a crash between the marker and its index entry): its
   * type is read from the control record, and the index is written again.
   */
  async #loadAbortedTransactions (markers: { producerId: number, firstOffset: number,
    markerOffset: number }[]): Promise<void> {
    this.#aborted.length = 0
    this.#txnIndexCounts.clear()
    this.#abortedEvictedUpTo = -1
    for (const segment of this.#segments) {
      const entries = await readTxnIndex(this.#disk, this.directory, segment.baseOffset)
      if (entries.length > 0) this.#txnIndexCounts.set(segment.baseOffset, entries.length)
      for (const entry of entries) {
        this.#rememberAborted({ ...entry, segmentBase: segment.baseOffset })
      }
    }
    const known = new Set(this.#aborted.map(entry => `${entry.producerId}:${entry.lastOffset}`))
    for (const marker of markers) {
      if (known.has(`${marker.producerId}:${marker.markerOffset}`)) continue
      if (marker.markerOffset < this.#logStartOffset) continue
      const { records } = await this.read(marker.markerOffset, 1024,
        { maxOffset: marker.markerOffset + 1 })
      const control = readControlMarker(records.subarray(0,
        records.readInt32BE(BATCH_LENGTH_OFFSET) + LOG_OVERHEAD_BYTES))
      if (control?.type !== CONTROL_TYPE_ABORT) continue
      const entry = { producerId: marker.producerId, firstOffset: marker.firstOffset,
        lastOffset: marker.markerOffset, lastStableOffset: marker.markerOffset + 1,
        segmentBase: this.#segmentBaseOf(marker.markerOffset) }
      this.#rememberAborted(entry)
      await this.#appendTxnIndex(entry)
    }
  }

  #segmentBaseOf (offset: number): number {
    let base = this.#segments[0]?.baseOffset ?? 0
    for (const segment of this.#segments) {
      if (segment.baseOffset <= offset) base = segment.baseOffset
    }
    return base
  }

  /** Keeps the newest entries in memory; older ones are read from the files when needed. */
  #rememberAborted (entry: AbortedTxn & { segmentBase: number }): void {
    this.#aborted.push(entry)
    if (this.#aborted.length > ABORTED_TRANSACTIONS_KEPT) {
      const evicted = this.#aborted.shift()
      if (evicted !== undefined) {
        this.#abortedEvictedUpTo = Math.max(this.#abortedEvictedUpTo, evicted.lastOffset)
      }
    }
  }

  /** Appends one entry to its segment's `.txnindex`, after the entries already there. */
  async #appendTxnIndex (entry: AbortedTxn & { segmentBase: number }): Promise<void> {
    const at = this.#txnIndexCounts.get(entry.segmentBase) ?? 0
    await appendTxnIndex(this.#disk, this.directory, entry.segmentBase, at, [entry],
      this.#config.fsyncBeforeAck)
    this.#txnIndexCounts.set(entry.segmentBase, at + 1)
  }

  updateConfig (config: Partial<LogConfig>): void {
    this.#config = { ...this.#config, ...config }
  }

  onAppend (listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /**
   * Listens to the written end (bytes in the file, readable, maybe not yet fsynced): called
   * after each flush round's writes land, before its fdatasync (`cut` false), so a leader can
   * wake its followers' fetches while its own fsync runs (Kafka's followers read up to the log
   * end offset in the page cache, not the flushed offset); and after a failed write or fsync
   * cut written bytes off (`cut` true, `writtenEndOffset` the end kept), so a leader can make
   * followers that copied the lost tail truncate it. `onAppend` stays the acknowledgement hook.
   */
  onWrittenEnd (listener: (writtenEndOffset: number, cut: boolean) => void): () => void {
    this.#writtenListeners.add(listener)
    return () => this.#writtenListeners.delete(listener)
  }

  /**
   * Appends one validated batch (stamped in place with its base offset and leader epoch).
   * Resolves when durable per the flush policy; a retried duplicate of one of the producer's
   * last 5 batches resolves with its original offsets and is not written again.
   */
  async append (batch: Buffer, options: AppendOptions): Promise<AppendResult> {
    // The caller validated the batch; a wrong length here would poison the segment for every
    // reader after it, so the framing is checked once more (paired assertions, TigerStyle).
    if (batch.length < BATCH_HEADER_BYTES ||
      batch.readInt32BE(BATCH_LENGTH_OFFSET) + LOG_OVERHEAD_BYTES !== batch.length) {
      throw new StorageError('CORRUPT_MESSAGE', `${this.name}: a batch of ${batch.length} ` +
        'bytes does not match its length field')
    }
    // Kafka's UnifiedLog.append (RecordBatchTooLargeException): a batch larger than a segment
    // would get a segment, and a file, of its own.
    if (batch.length > this.#config.segmentBytes) {
      throw new StorageError('RECORD_LIST_TOO_LARGE', `a batch of ${batch.length} bytes to ` +
        `${this.name} exceeds the segment size (segment.bytes) ${this.#config.segmentBytes}`)
    }
    const admission = this.#flusher.admit(batch.length)
    if (admission !== undefined) await admission
    let reservation: Reservation
    try {
      reservation = await this.#reserve(batch, options)
    } catch (error) {
      this.#flusher.release(batch.length)
      throw error
    }
    // A queued write owns its admitted bytes until its round; a duplicate never queued.
    if (reservation.result.duplicate) this.#flusher.release(batch.length)
    await reservation.durable
    // An abort marker counts as written once its .txnindex entry is, so a coordinator that
    // sees it written never depends on the load-time rebuild.
    if (options.abortMarker === true) await this.#txnIndexWrites
    return reservation.result
  }

  /**
   * Appends batches exactly as the leader stored them (Kafka's UnifiedLog.appendAsFollower):
   * offsets, leader epochs and bytes are kept. `records` is a fetch response's records: whole
   * batches, and a trailing partial batch that is ignored (as Kafka's record iteration does).
   * Every batch is checked first (framing, magic 2, CRC-32C, offsets increasing), and the first
   * must start at or after the log end (after it only where the leader's log has a gap left by
   * compaction, which Kafka's follower accepts too); a violation throws StorageError
   * (CORRUPT_MESSAGE, OFFSET_OUT_OF_RANGE) before anything is written. Producer state and
   * transactions are updated without sequence checks (Kafka's AppendOrigin.REPLICATION), the
   * leader epoch cache takes each batch's epoch. Goes through the same reservation, flusher and
   * group commit as `append`; resolves once the batches are durable per the flush policy
   * (fsynced, by default). Undefined when `records` holds no whole batch. Follower appends of a
   * log run one at a time.
   *
   * `fetchOffset`, the offset the records were fetched from, must still be the log end when
   * they are queued (checked in the same synchronous step), else OFFSET_OUT_OF_RANGE: Kafka's
   * ReplicaFetcherThread refuses a response whose fetch offset is no longer the log end, and
   * without it a stale response after a truncation would land past a gap.
   */
  async appendAsFollower (records: Buffer,
    options: { fetchOffset?: number } = {}): Promise<FollowerAppendResult | undefined> {
    const batches = this.#checkFollowerBatches(records)
    if (batches.length === 0) return undefined
    const run = this.#followerAppend.catch(() => undefined)
      .then(() => this.#appendFollowerBatches(batches, options.fetchOffset))
    this.#followerAppend = run
    return run
  }

  /** Splits and checks a follower's records; see appendAsFollower. */
  #checkFollowerBatches (records: Buffer): FollowerBatch[] {
    const batches: FollowerBatch[] = []
    let position = 0
    let previousLast = -1
    while (position + LOG_OVERHEAD_BYTES <= records.length) {
      const size = records.readInt32BE(position + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD_BYTES
      const where = `${this.name}: the follower batch at byte ${position}`
      if (size < BATCH_HEADER_BYTES) {
        throw new StorageError('CORRUPT_MESSAGE', `${where} has a length of ${size} bytes`)
      }
      if (position + size > records.length) break
      const buffer = records.subarray(position, position + size)
      if (buffer.readInt8(MAGIC_OFFSET) !== CURRENT_MAGIC) {
        throw new StorageError('CORRUPT_MESSAGE',
          `${where} has magic ${buffer.readInt8(MAGIC_OFFSET)}, not ${CURRENT_MAGIC}`)
      }
      if (!batchCrcMatches(buffer, 0, size)) {
        throw new StorageError('CORRUPT_MESSAGE', `${where} fails its CRC-32C check`)
      }
      const batch = this.#followerBatch(buffer, where)
      if (batch.baseOffset <= previousLast) {
        throw new StorageError('CORRUPT_MESSAGE', `${where} starts at offset ` +
          `${batch.baseOffset}, not after the previous batch's last offset ${previousLast}`)
      }
      previousLast = batch.lastOffset
      batches.push(batch)
      position += size
    }
    return batches
  }

  /**
   * The header of one follower batch, with its marker read from the control record the same
   * way as on the leader and in replay (readControlMarker: markers are never compressed).
   */
  #followerBatch (buffer: Buffer, where: string): FollowerBatch {
    const header = readBatchHeader(buffer)
    const { baseOffset, lastOffsetDelta, producerId, maxTimestamp } = header
    if (!Number.isSafeInteger(baseOffset) || baseOffset < 0 || lastOffsetDelta < 0 ||
      !Number.isSafeInteger(baseOffset + lastOffsetDelta) || Number.isNaN(producerId) ||
      Number.isNaN(maxTimestamp)) {
      throw new StorageError('CORRUPT_MESSAGE', `${where} has base offset ${baseOffset}, ` +
        `last offset delta ${lastOffsetDelta}, producer id ${producerId}`)
    }
    let marker: ReturnType<typeof readControlMarker>
    if (isControlBatch(header.attributes) && producerId >= 0) {
      marker = readControlMarker(buffer)
      if (marker === undefined) {
        throw new StorageError('CORRUPT_MESSAGE', `${where} is a control batch that does not ` +
          'decode (or is compressed)')
      }
    }
    return {
      ...header, buffer, lastOffset: baseOffset + lastOffsetDelta,
      abortMarker: marker?.type === CONTROL_TYPE_ABORT,
      // Followers keep the leader's coordinator epochs, so a new leader fences as it did.
      coordinatorEpoch: marker?.coordinatorEpoch ?? -1,
    }
  }

  async #appendFollowerBatches (batches: FollowerBatch[],
    fetchOffset: number | undefined): Promise<FollowerAppendResult> {
    let bytes = 0
    for (const batch of batches) bytes += batch.buffer.length
    const admission = this.#flusher.admit(bytes)
    if (admission !== undefined) await admission
    const waits: Promise<void>[] = []
    let queuedBytes = 0
    try {
      let next = 0
      while (next < batches.length) {
        const step = await this.#reserveFollower(batches, next,
          next === 0 ? fetchOffset : undefined)
        for (const batch of batches.slice(next, step.next)) queuedBytes += batch.buffer.length
        waits.push(step.durable)
        next = step.next
      }
    } catch (error) {
      this.#flusher.release(bytes - queuedBytes)
      // What was queued before the failure stays (valid batches at the right offsets).
      await Promise.allSettled(waits)
      throw error
    }
    await Promise.all(waits)
    if (batches.some(batch => batch.abortMarker)) await this.#txnIndexWrites
    const first = batches[0] as FollowerBatch
    const last = batches[batches.length - 1] as FollowerBatch
    return { firstOffset: first.baseOffset, lastOffset: last.lastOffset }
  }

  /**
   * Queues batches[from..] in one synchronous step, up to the first that needs a roll (the
   * next step rolls first); returns the index after the last queued and the wait for them.
   */
  async #reserveFollower (batches: FollowerBatch[], from: number,
    fetchOffset: number | undefined): Promise<{ next: number, durable: Promise<void> }> {
    while (this.#rolling !== undefined || this.#recovering !== undefined) {
      await (this.#rolling ?? this.#recovering)?.catch(() => undefined)
    }
    if (this.#closed) throw new StorageError('KAFKA_STORAGE_ERROR', `${this.name} is closed`)
    if (this.#pendingTruncation !== undefined) {
      await this.#retryTruncation(this.#pendingTruncation)
      return this.#reserveFollower(batches, from, fetchOffset)
    }
    if (fetchOffset !== undefined && fetchOffset !== this.#logEndOffset) {
      throw new StorageError('OFFSET_OUT_OF_RANGE', `${this.name}: records fetched from ` +
        `offset ${fetchOffset}, but the log end offset is now ${this.#logEndOffset}`)
    }
    const first = batches[from] as FollowerBatch
    if (first.baseOffset < this.#logEndOffset) {
      throw new StorageError('OFFSET_OUT_OF_RANGE', `${this.name}: a follower append at ` +
        `offset ${first.baseOffset} is below the log end offset ${this.#logEndOffset}`)
    }
    if (this.#needsRoll(first.buffer.length, first.lastOffset)) {
      this.#rolling = this.#roll().finally(() => { this.#rolling = undefined })
      await this.#rolling
      return this.#reserveFollower(batches, from, fetchOffset)
    }
    if (first.lastOffset - this.#active.baseOffset > RELATIVE_OFFSET_MAX) {
      // Only a gap of over 2^31 offsets (a compacted leader) gets here: a segment starts at the
      // log end (the loader wants them contiguous) and indexes offsets relative to its base.
      throw new StorageError('KAFKA_STORAGE_ERROR', `${this.name}: a follower batch ending at ` +
        `${first.lastOffset} is too far past the segment base ${this.#active.baseOffset}`)
    }
    let next = from
    let epochWrite: Promise<void> | undefined
    while (next < batches.length) {
      const batch = batches[next] as FollowerBatch
      if (next > from && this.#needsRoll(batch.buffer.length, batch.lastOffset)) break
      if (this.#queueFollowerBatch(batch)) epochWrite = this.#epochCheckpointWritten()
      next++
    }
    this.#flusher.markDirty(this)
    const written = this.#waitFor(this.#logEndOffset)
    return {
      next,
      durable: epochWrite === undefined
        ? written
        : Promise.all([written, epochWrite]).then(() => undefined),
    }
  }

  /** Reserves and queues one follower batch; true if it changed the leader epoch cache. */
  #queueFollowerBatch (batch: FollowerBatch): boolean {
    // Offsets only grow: the caller checked the first batch against the log end, and each
    // later one starts after the one before.
    assert(batch.baseOffset >= this.#logEndOffset, 'follower batches start at the log end')
    const segment = this.#active
    const position = segment.reserve(batch.buffer.length, batch.baseOffset, batch.lastOffset,
      batch.maxTimestamp)
    this.#logEndOffset = batch.lastOffset + 1
    if (batch.producerId >= 0 && !isControlBatch(batch.attributes)) {
      this.#producers.update(batch.producerId, batch.producerEpoch, batch.baseSequence,
        batch.lastOffset - batch.baseOffset, batch.baseOffset, batch.maxTimestamp)
    }
    this.#trackTransaction(batch.attributes, batch.producerId, batch.producerEpoch,
      batch.baseOffset, batch.maxTimestamp, batch.abortMarker, batch.coordinatorEpoch)
    this.#pending.push({
      segment, position, buffer: batch.buffer, nextOffset: batch.lastOffset + 1,
      records: batch.recordsCount, trace: undefined,
    })
    return this.#epochs.assign(batch.partitionLeaderEpoch, batch.baseOffset)
  }

  /**
   * Checks producer state, rolls if needed, assigns offsets, queues the write and, in the same
   * synchronous step, its wait: a failed round that drops the queued write between the two
   * would otherwise leave a waiter for offsets that no longer exist.
   */
  async #reserve (batch: Buffer, options: AppendOptions): Promise<Reservation> {
    while (this.#rolling !== undefined || this.#recovering !== undefined) {
      await (this.#rolling ?? this.#recovering)?.catch(() => undefined)
    }
    if (this.#closed) throw new StorageError('KAFKA_STORAGE_ERROR', `${this.name} is closed`)
    if (this.#pendingTruncation !== undefined) {
      await this.#retryTruncation(this.#pendingTruncation)
      return this.#reserve(batch, options)
    }
    // Checked in the step that assigns the offsets: none may be reused while a follower may
    // still hold the records a failed write lost at them.
    if (this.#cutFenced) {
      throw new StorageError('KAFKA_STORAGE_ERROR', `${this.name}: a failed write cut records ` +
        'followers may have copied; appends resume once they have dropped them')
    }
    const attributes = batch.readInt16BE(ATTRIBUTES_OFFSET)
    const lastOffsetDelta = batch.readInt32BE(LAST_OFFSET_DELTA_OFFSET)
    const producerId = options.producerId ?? -1
    const tracked = producerId >= 0 && !isControlBatch(attributes)
    const producerEpoch = options.producerEpoch ?? 0
    const baseSequence = options.baseSequence ?? 0
    if (tracked) {
      // Kafka's UnifiedLog.analyzeAndValidateProducerState, before offsets are assigned.
      const check = this.#producers.check(producerId, producerEpoch, baseSequence,
        lastOffsetDelta)
      if (check.outcome === 'error') throw new StorageError(check.kind, check.message)
      if (check.outcome === 'duplicate') {
        return {
          result: {
            baseOffset: check.firstOffset, lastOffset: check.lastOffset, duplicate: true,
            logAppendTimeMs: -1,
          },
          durable: this.#waitFor(check.lastOffset + 1),
        }
      }
    }
    const refused = options.verifyTransaction?.()
    if (refused !== undefined) throw new StorageError(refused.kind, refused.message)
    const marker = producerId >= 0 && isControlBatch(attributes)
    // A marker's coordinator epoch, from its control record (the bytes followers and replays
    // read it from too): an older one than the producer's here is a deposed coordinator's.
    const coordinatorEpoch = marker ? readControlMarker(batch)?.coordinatorEpoch ?? -1 : -1
    if (marker) {
      const fenced = this.#producers.checkMarker(producerId, producerEpoch, coordinatorEpoch)
      if (fenced !== undefined) throw new StorageError(fenced.kind, fenced.message)
    }
    if (this.#needsRoll(batch.length, this.#logEndOffset + lastOffsetDelta)) {
      this.#rolling = this.#roll().finally(() => { this.#rolling = undefined })
      await this.#rolling
      return this.#reserve(batch, options)
    }
    const baseOffset = this.#logEndOffset
    const lastOffset = baseOffset + lastOffsetDelta
    stampBatch(batch, 0, baseOffset, options.leaderEpoch)
    // A new leader epoch starts at its first batch; the append waits for the checkpoint too.
    const epochWrite = this.#epochs.assign(options.leaderEpoch, baseOffset)
      ? this.#epochCheckpointWritten()
      : undefined
    const segment = this.#active
    const position = segment.reserve(batch.length, baseOffset, lastOffset, options.maxTimestamp)
    this.#logEndOffset = lastOffset + 1
    if (tracked) {
      this.#producers.update(producerId, producerEpoch, baseSequence, lastOffsetDelta,
        baseOffset, options.maxTimestamp)
    }
    // Arguments, not an options object: this runs for every appended batch.
    this.#trackTransaction(attributes, producerId, producerEpoch, baseOffset,
      options.maxTimestamp, options.abortMarker, coordinatorEpoch)
    this.#pending.push({
      segment, position, buffer: batch, nextOffset: lastOffset + 1, records: options.recordsCount,
      trace: options.trace,
    })
    if (options.trace !== undefined) {
      options.trace.appendedMs = this.#clock.monotonicMs()
      options.trace.waitedForRound = this.#flushing !== undefined
    }
    this.#flusher.markDirty(this)
    const logAppendTime = (attributes & TIMESTAMP_TYPE_MASK) !== 0
    return {
      result: {
        baseOffset, lastOffset, duplicate: false,
        logAppendTimeMs: logAppendTime ? options.maxTimestamp : -1,
      },
      durable: epochWrite === undefined
        ? this.#waitFor(lastOffset + 1)
        : Promise.all([this.#waitFor(lastOffset + 1), epochWrite]).then(() => undefined),
    }
  }

  /**
   * Kafka's LogSegment.shouldRoll: size, age, a full index, or a relative-offset overflow, for
   * a batch of `batchBytes` ending at `lastOffset`. An empty segment takes any batch, so a
   * follower's batch larger than segment.bytes gets a segment of its own.
   */
  #needsRoll (batchBytes: number, lastOffset: number): boolean {
    const active = this.#active
    if (active.size === 0) return false
    return active.size + batchBytes > this.#config.segmentBytes ||
      this.#clock.nowMs() - active.createdMs > this.#config.segmentMs ||
      active.indexFull(this.#config.segmentIndexBytes) ||
      lastOffset - active.baseOffset > RELATIVE_OFFSET_MAX
  }

  async #roll (): Promise<void> {
    const previous = this.#active
    let segment: LogSegment
    try {
      segment = await LogSegment.open(this.#disk, this.directory, this.#logEndOffset,
        segmentIndexIntervalBytes(this.#config), this.#clock.nowMs())
      // The new file's directory entry must be durable before data in it is acknowledged.
      await this.#disk.syncDirectory(this.directory)
    } catch (error) {
      throw this.#storageError('roll', error)
    }
    this.#segments.push(segment)
    // The old segment's indexes (fsynced: until then `recoveryPoint` stays at its base) and the
    // producer state at the new base (Kafka snapshots at roll) are written in the background;
    // a crash before they land only costs a rebuild.
    this.#inBackground(writeSnapshot(this.#disk, this.directory, segment.baseOffset,
      this.#producers.encodeSnapshot(), false))
    this.#inBackground(previous.writeIndexes(true))
  }

  #inBackground (task: Promise<void>): void {
    const tracked = task.catch(error => {
      this.#logger.warn(`${this.name}: background write failed: ${String(error)}`)
    }).finally(() => { this.#background.delete(tracked) })
    this.#background.add(tracked)
  }

  #storageError (operation: string, error: unknown): StorageError {
    const cause = error as NodeJS.ErrnoException
    return new StorageError('KAFKA_STORAGE_ERROR',
      `${operation} of ${this.name} failed: ${cause.code ?? ''} ${cause.message}`)
  }

  /** Resolves once the durable (or, relaxed, written) end passes `offset`. */
  #waitFor (offset: number): Promise<void> {
    if (offset <= this.acknowledgedEndOffset) return Promise.resolve()
    return new Promise((resolve, reject) => {
      this.#waiters.push({ offset, resolve, reject })
    })
  }

  /**
   * The end of what the flush policy acknowledges: the durable end (fsync-before-ack) or the
   * written end (relaxed). What this replica may report to a leader, or count for itself.
   */
  get acknowledgedEndOffset (): number {
    return this.#config.fsyncBeforeAck ? this.#durableEndOffset : this.#writtenEndOffset
  }

  /** Whether leader appends wait for followers to drop a failed write's tail (`#cutFenced`). */
  get cutFenced (): boolean {
    return this.#cutFenced
  }

  /** Lets leader appends go on after a failed write's cut (see `#cutFenced`). */
  liftCutFence (): void {
    this.#cutFenced = false
  }

  /** Whether the replication layer owns the high watermark (`setReplicated`). */
  get replicated (): boolean {
    return this.#replicated
  }

  /**
   * Replicated: the log stops raising its own high watermark as writes are acknowledged; the
   * replication layer raises it with `advanceHighWatermark`. Back to single node: the high
   * watermark rises to the acknowledged end at once, as it would have.
   */
  setReplicated (replicated: boolean): void {
    if (this.#replicated === replicated) return
    this.#replicated = replicated
    if (!replicated) {
      this.#cutFenced = false
      this.advanceHighWatermark(this.acknowledgedEndOffset)
    }
    this.#onReplicatedChange?.()
  }

  /**
   * Raises the high watermark to min(offset, acknowledgedEndOffset), never lowers it (Kafka's
   * UnifiedLog.maybeIncrementHighWatermark); wakes the `onAppend` listeners when it moved.
   * Returns whether it moved.
   */
  advanceHighWatermark (offset: number): boolean {
    const target = Math.min(offset, this.acknowledgedEndOffset)
    if (!(target > this.#highWatermark)) return false
    this.#highWatermark = target
    // The acknowledged end counts only written bytes.
    assert(this.#highWatermark <= this.#writtenEndOffset,
      'the high watermark covers only written bytes')
    for (const listener of this.#listeners) listener()
    return true
  }

  /**
   * Called by the flusher: writes pending batches, waits until every log of the round has
   * written, fsyncs per policy, acknowledges. Rounds of one log never overlap.
   */
  async flushRound (barrier: RoundBarrier = NO_BARRIER): Promise<void> {
    while (this.#flushing !== undefined) await this.#flushing
    this.#flushing = this.#flushOnce(barrier)
    try {
      await this.#flushing
    } finally {
      this.#flushing = undefined
    }
  }

  /** Waits for this log's flush round in progress, if any, without starting one. */
  async roundIdle (): Promise<void> {
    while (this.#flushing !== undefined) await this.#flushing
  }

  async #flushOnce (barrier: RoundBarrier): Promise<void> {
    const pending = this.#pending
    this.#pending = []
    let bytes = 0
    for (const write of pending) bytes += write.buffer.length
    let reported = false
    const report = (): void => {
      if (!reported) barrier.written()
      reported = true
    }
    try {
      const idle = this.#config.fsyncBeforeAck
        ? this.#durableEndOffset === this.#writtenEndOffset
        : !this.#fsyncDue()
      if (pending.length === 0 && idle) return
      this.#stamp(pending, 'roundStartMs')
      const touched = await this.#writePending(pending)
      this.#stamp(pending, 'writtenMs')
      if (pending.length > 0) {
        for (const listener of this.#writtenListeners) listener(this.#writtenEndOffset, false)
      }
      report()
      if (!this.#config.fsyncBeforeAck) this.#acknowledge()
      if (this.#config.fsyncBeforeAck || this.#fsyncDue()) {
        await barrier.allWritten
        if (touched.size === 0) touched.add(this.#active)
        await Promise.all([...touched].map(segment => segment.datasync()))
        this.#stamp(pending, 'syncedMs')
        this.#flusher.recordFlush(this.#unflushedBytes, touched.size)
        this.#durableEndOffset = this.#writtenEndOffset
        this.#unflushedMessages = 0
        this.#unflushedBytes = 0
        this.#lastFsyncMs = this.#clock.monotonicMs()
        this.#acknowledge()
      }
    } catch (error) {
      this.#fail(error)
    } finally {
      report()
      this.#flusher.release(bytes)
    }
  }

  /** Stamps a stage on the sampled batches of a round (debug latency breakdown). */
  #stamp (pending: PendingWrite[], stage: 'roundStartMs' | 'writtenMs' | 'syncedMs'): void {
    for (const write of pending) {
      if (write.trace !== undefined) write.trace[stage] = this.#clock.monotonicMs()
    }
  }

  /** Writes each run of pending batches of one segment with one writev. */
  async #writePending (pending: PendingWrite[]): Promise<Set<LogSegment>> {
    const touched = new Set<LogSegment>()
    let start = 0
    while (start < pending.length) {
      const first = pending[start] as PendingWrite
      let end = start + 1
      while (end < pending.length && (pending[end] as PendingWrite).segment === first.segment) {
        end++
      }
      await first.segment.write(pending.slice(start, end).map(write => write.buffer),
        first.position)
      touched.add(first.segment)
      start = end
    }
    const last = pending[pending.length - 1]
    if (last !== undefined) this.#writtenEndOffset = last.nextOffset
    if (this.#tail !== undefined) {
      for (const write of pending) {
        this.#tail.add(write.buffer, write.segment.baseOffset, write.nextOffset)
      }
    }
    for (const write of pending) {
      this.#unflushedMessages += write.records
      this.#unflushedBytes += write.buffer.length
    }
    return touched
  }

  #fsyncDue (): boolean {
    if (this.#durableEndOffset === this.#writtenEndOffset && this.#pending.length === 0) {
      return false
    }
    return this.#unflushedMessages >= this.#config.flushIntervalMessages ||
      this.#clock.monotonicMs() - this.#lastFsyncMs >= this.#config.flushIntervalMs
  }

  #acknowledge (): void {
    const acknowledged = this.acknowledgedEndOffset
    // By max: the acknowledged end sits below the high watermark only if the flush policy
    // changed from relaxed to fsync-before-ack, and then the bytes below it stay written.
    // Replicated, the replication layer raises it (advanceHighWatermark).
    if (!this.#replicated) this.#highWatermark = Math.max(this.#highWatermark, acknowledged)
    // Acknowledged bytes are written bytes, and a cut never goes below the high watermark.
    assert(this.#highWatermark <= this.#writtenEndOffset,
      'the high watermark covers only written bytes')
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

  /**
   * A write or fsync failed: reject everything unacknowledged and cut it off the log, back to
   * the high watermark and never below it (offsets a consumer may have seen are never reused).
   * Readers stop at the high watermark at once; if the cut fails too, the next append retries
   * it and fails with KAFKA_STORAGE_ERROR until it succeeds (the condition cleared).
   */
  #fail (error: unknown): void {
    const failure = this.#storageError('write', error)
    this.#logger.warn(failure.message)
    // Waiters at or below the acknowledged end were resolved as it rose (#acknowledge); the
    // rest are rejected, even one below a high watermark left by a flush-policy change (its
    // batch stays; an idempotent retry is answered as a duplicate).
    // Replicated, what was acknowledged may already count on the leader (or was reported to
    // it): the cut goes back to the acknowledged end, which is at or above the high watermark.
    const keep = this.#replicated
      ? Math.max(this.#highWatermark, this.acknowledgedEndOffset)
      : this.#highWatermark
    const cut = this.#writtenEndOffset > keep
    if (cut) {
      // Only fsync-before-ack cuts written bytes, and then all of them since the last fsync.
      this.#unflushedMessages = 0
      this.#unflushedBytes = 0
    }
    this.#writtenEndOffset = Math.min(this.#writtenEndOffset, keep)
    if (cut && this.#replicated) this.#cutFenced = true
    if (cut) for (const listener of this.#writtenListeners) listener(keep, true)
    let bytes = 0
    for (const write of this.#pending) bytes += write.buffer.length
    this.#pending = []
    this.#flusher.release(bytes)
    for (const waiter of this.#waiters) waiter.reject(failure)
    this.#waiters = []
    this.#recovering = this.#truncate(keep).catch(truncateError => {
      this.#pendingTruncation = keep
      this.#logger.warn(`${this.#storageError('truncation after a failed write',
        truncateError).message}; the next append retries it`)
    }).finally(() => { this.#recovering = undefined })
  }

  async #retryTruncation (keep: number): Promise<void> {
    const truncation = this.#truncate(keep)
    this.#recovering = truncation.then(() => { this.#pendingTruncation = undefined })
      .finally(() => { this.#recovering = undefined })
    try {
      await this.#recovering
    } catch (error) {
      throw this.#storageError('truncation after a failed write', error)
    }
  }

  /**
   * Removes every batch holding `offset` or later (whole batches: the batch holding `offset`
   * goes too), then rebuilds producer state. Replication and failed writes need it. Appends
   * wait while it runs; pending appends are flushed first.
   */
  async truncateTo (offset: number): Promise<void> {
    while (this.#recovering !== undefined) await this.#recovering
    if (this.#pending.length > 0) await this.#waitFor(this.#logEndOffset)
    const truncation = this.#truncate(offset)
    this.#recovering = truncation.catch(() => undefined)
      .finally(() => { this.#recovering = undefined })
    await truncation
  }

  async #truncate (offset: number): Promise<void> {
    if (offset >= this.#logEndOffset) return
    while (this.#segments.length > 1 && this.#active.baseOffset >= offset) {
      const removed = this.#segments.pop() as LogSegment
      await removed.delete()
    }
    const segment = this.#active
    const cut = await truncationPoint(segment, offset, this.#logger)
    await segment.truncateAt(cut.position, cut.nextOffset)
    // Durable before the offsets move: if this fsync fails, a retry redoes the (idempotent) cut.
    await segment.datasync()
    this.#logEndOffset = segment.nextOffset
    this.#writtenEndOffset = this.#logEndOffset
    this.#durableEndOffset = Math.min(this.#durableEndOffset, this.#logEndOffset)
    // Only an explicit truncateTo (replication) may cut below the high watermark; a failed
    // write cuts to it exactly.
    this.#highWatermark = Math.min(this.#highWatermark, this.#logEndOffset)
    this.#logStartOffset = Math.min(this.#logStartOffset, this.#logEndOffset)
    // Awaited, so that the file drops the truncated epochs before any later append adds new
    // ones; a failed write is rebuilt from the log at the next load.
    if (this.#epochs.truncateFromEnd(this.#logEndOffset)) await this.#epochCheckpointWritten()
    await this.#truncateTxnIndex(segment.baseOffset)
    await deleteSnapshots(this.#disk, this.directory, snapshot => snapshot > this.#logEndOffset)
    await this.#loadProducerState()
    this.#onTruncated?.(this.#logEndOffset)
  }

  /**
   * Drops the cut segment's aborted transactions whose marker is gone (Kafka's
   * TransactionIndex.truncateTo): a stale entry would make read_committed consumers drop
   * whatever that producer later writes at those offsets.
   */
  async #truncateTxnIndex (segmentBase: number): Promise<void> {
    await this.#txnIndexWrites
    const entries = await readTxnIndex(this.#disk, this.directory, segmentBase)
    const kept = entries.filter(entry => entry.lastOffset < this.#logEndOffset)
    if (kept.length === entries.length) return
    await appendTxnIndex(this.#disk, this.directory, segmentBase, 0, kept, true)
  }

  /**
   * Deletes every segment (with its indexes, transaction index and snapshot) and restarts the
   * log empty at `offset`: log start = log end = high watermark = `offset`, no producer state,
   * no leader epochs (Kafka's UnifiedLog.truncateFullyAndStartAt, for a follower whose fetch
   * offset is below the leader's log start). Durable (directory fsync) before it resolves. The
   * old segments are renamed `.deleted` first and removed after file.delete.delay.ms and their
   * last reader, as retention does; a crash leaves only files the next start removes.
   */
  truncateFullyAndStartAt (offset: number): Promise<void> {
    if (!Number.isSafeInteger(offset) || offset < 0) {
      return Promise.reject(new StorageError('OFFSET_OUT_OF_RANGE',
        `${this.name}: cannot restart the log at offset ${offset}`))
    }
    return this.#serialDeletion(async () => {
      while (this.#recovering !== undefined) await this.#recovering
      if (this.#pending.length > 0) await this.#waitFor(this.#logEndOffset).catch(() => undefined)
      await this.roundIdle()
      // A .txnindex write still in flight must not land after the old files are renamed.
      await this.#txnIndexWrites
      const restart = this.#restartAt(offset)
      this.#recovering = restart.catch(() => undefined)
        .finally(() => { this.#recovering = undefined })
      try {
        await restart
      } catch (error) {
        throw this.#storageError(`restarting the log at ${offset}`, error)
      }
    })
  }

  async #restartAt (offset: number): Promise<void> {
    const old = this.#segments
    for (const segment of old) await segment.renameForDeletion()
    await deleteSnapshots(this.#disk, this.directory, () => true)
    const fresh = await LogSegment.open(this.#disk, this.directory, offset,
      segmentIndexIntervalBytes(this.#config), this.#clock.nowMs())
    await fresh.recover(false)
    await this.#disk.syncDirectory(this.directory)
    this.#segments = [fresh]
    for (const segment of old) this.#retire(segment, this.#clock.nowMs(), false)
    this.#logStartOffset = offset
    this.#logEndOffset = offset
    this.#writtenEndOffset = offset
    this.#durableEndOffset = offset
    // The one place besides truncation that lowers the high watermark: nothing is left below.
    this.#highWatermark = offset
    this.#unflushedMessages = 0
    this.#unflushedBytes = 0
    this.#producers.clear()
    this.#aborted.length = 0
    this.#txnIndexCounts.clear()
    this.#abortedEvictedUpTo = -1
    this.#epochs.clear()
    await this.#writeEpochCheckpoint()
    this.#onLogStartOffsetChange?.()
    this.#onTruncated?.(offset)
  }

  /**
   * Raises the log start offset to `offset` (DeleteRecords) and deletes the segments wholly
   * below it. Reads below the new start get OFFSET_OUT_OF_RANGE from now on.
   */
  deleteSegmentsBefore (offset: number): Promise<void> {
    return this.#serialDeletion(async () => {
      const target = Math.min(offset, this.#logEndOffset)
      if (target <= this.#logStartOffset) return
      await this.#raiseLogStartOffset(target)
      let count = 0
      while (count + 1 < this.#segments.length &&
        (this.#segments[count + 1] as LogSegment).baseOffset <= target) count++
      await this.#deleteOldest(count, this.#segments.slice(0, count).map(() =>
        this.#clock.nowMs()))
    })
  }

  /**
   * One retention check (Kafka's UnifiedLog.deleteOldSegments, run every
   * log.retention.check.interval.ms): first segment.ms rolls a non-empty active segment that is
   * too old, so that an idle partition's data can age out; then retention.ms, retention.bytes
   * and the log start offset delete whole old segments (retention.ts decides which).
   */
  enforceRetention (): Promise<RetentionOutcome> {
    return this.#serialDeletion(async () => {
      const outcome: RetentionOutcome = {
        deletedSegments: 0, deletedBytes: 0, reason: undefined, rolled: false,
      }
      if (this.#closed) return outcome
      const active = this.#active
      if (active.size > 0 && this.#clock.nowMs() - active.createdMs > this.#config.segmentMs) {
        outcome.rolled = await this.#rollNow()
      }
      const plan = planRetention(this.#segments, {
        retentionMs: this.#config.retentionMs,
        retentionBytes: this.#config.retentionBytes,
        deleteEnabled: this.#config.cleanupPolicy.includes('delete'),
      }, {
        nowMs: this.#clock.nowMs(),
        logStartOffset: this.#logStartOffset,
        highWatermark: this.#highWatermark,
        logEndOffset: this.#logEndOffset,
      })
      if (plan.count === 0) return outcome
      // Kafka's deleteSegments: a log keeps an active segment, so when every segment goes a new
      // one is rolled first (at the log end: the high watermark covers everything, so nothing
      // is pending).
      if (plan.count === this.#segments.length && !await this.#rollNow()) return outcome
      for (const segment of this.#segments.slice(0, plan.count)) {
        outcome.deletedBytes += segment.size
      }
      await this.#raiseLogStartOffset((this.#segments[plan.count] as LogSegment).baseOffset)
      await this.#deleteOldest(plan.count, plan.eligibleSinceMs)
      outcome.deletedSegments = plan.count
      outcome.reason = plan.reason
      return outcome
    })
  }

  #serialDeletion<T> (task: () => Promise<T>): Promise<T> {
    const run = this.#deletions.catch(() => undefined).then(task)
    this.#deletions = run
    return run
  }

  /** Rolls the active segment now unless a roll or a recovery is under way; true if it did. */
  async #rollNow (): Promise<boolean> {
    if (this.#rolling !== undefined || this.#recovering !== undefined || this.#closed ||
      this.#pendingTruncation !== undefined) return false
    this.#rolling = this.#roll().finally(() => { this.#rolling = undefined })
    await this.#rolling
    return true
  }

  /**
   * Raises the log start offset (reads below it fail from now on), then rewrites the epoch
   * checkpoint if its first entry moved, then tells the LogManager. Kafka flushes that
   * checkpoint asynchronously (truncateFromStartAsyncFlush); here the deletion task waits for it,
   * off the produce path, and a stale file is corrected at the next load either way.
   */
  async #raiseLogStartOffset (offset: number): Promise<void> {
    if (offset <= this.#logStartOffset) return
    this.#logStartOffset = Math.min(offset, this.#logEndOffset)
    if (this.#epochs.truncateFromStart(this.#logStartOffset)) await this.#epochCheckpointWritten()
    this.#onLogStartOffsetChange?.()
  }

  /**
   * Takes the `count` oldest segments out of the log at once (no read that starts from now on
   * sees them), renames their files to `.deleted` (a crash from here on leaves only files that
   * the next start removes) and removes the files after file.delete.delay.ms and after the last
   * read holding them (LogSegment.retain), so a read in flight completes with the bytes it
   * began with.
   */
  async #deleteOldest (count: number, eligibleSinceMs: readonly number[]): Promise<void> {
    // The active segment always stays: appends go there.
    assert(count < this.#segments.length, 'retention never deletes the active segment')
    const removed = this.#segments.splice(0, count)
    for (const [i, segment] of removed.entries()) {
      try {
        await segment.renameForDeletion()
      } catch (error) {
        this.#logger.warn(`${this.name}: renaming segment ${segment.baseOffset} for deletion ` +
          `failed (${String(error)}); it is removed after the delay all the same`)
      }
      this.#retire(segment, eligibleSinceMs[i] ?? this.#clock.nowMs(), true)
    }
  }

  /**
   * Removes a segment taken out of the log (already renamed `.deleted`) after
   * file.delete.delay.ms and its last reader; `reclaimed` reports its bytes as freed.
   */
  #retire (segment: LogSegment, eligibleMs: number, reclaimed: boolean): void {
    this.#deletedSegments.add(segment)
    this.#clock.setTimer(this.#config.fileDeleteDelayMs, () => {
      if (!this.#deletedSegments.delete(segment)) return
      const bytes = segment.size
      this.#inBackground(segment.deleteWhenUnread().then(() => {
        if (!reclaimed) return
        this.#onSegmentReclaimed?.({ bytes, latencyMs: this.#clock.nowMs() - eligibleMs })
      }))
    })
  }

  /** Last offsets of the producer batches idempotence still needs (ProducerState). */
  get producerBatchEnds (): number[] {
    return this.#producers.retainedBatchEnds()
  }

  /**
   * The segments the cleaner may rewrite: every inactive segment wholly below the high
   * watermark, oldest first (Kafka never cleans the active segment).
   */
  get cleanableSegments (): readonly LogSegment[] {
    const cleanable: LogSegment[] = []
    for (const segment of this.#segments.slice(0, -1)) {
      if (segment.nextOffset > this.#highWatermark) break
      cleanable.push(segment)
    }
    return cleanable
  }

  /**
   * Puts a cleaned copy in place of `old` (consecutive segments of this log), the last steps
   * of Kafka's crash-safe swap: the caller wrote `<base>.log.cleaned` and its new index
   * `<base>.txnindex.cleaned` (holding `abortedIndex`), fsynced them and renamed them `.swap`
   * (`swapPath` is the segment's); here the old files are renamed `.deleted`, the swap files
   * become `<base>.txnindex` and `<base>.log`, and the log switches to them (segments and
   * aborted transactions) in one synchronous step. A restart
   * after a kill at any step ends with either the old segments or the new one (log-loader.ts,
   * recoverSwapFiles). Readers holding an old segment finish on it (LogSegment.retain).
   */
  replaceSegments (old: readonly LogSegment[], swapPath: string,
    abortedIndex: readonly AbortedTxn[]): Promise<LogSegment> {
    return this.#serialDeletion(async () => {
      const first = old[0]
      const last = old[old.length - 1]
      assert(first !== undefined && last !== undefined, 'a swap replaces at least one segment')
      // The cleaned batches replace written ones at the same offsets, which the tail cache's
      // offset checks cannot see: tail reads of them go to the new file.
      this.#tail?.clear()
      const indexPath = txnIndexFile(this.directory, first.baseOffset)
      const start = this.#segments.indexOf(first)
      if (start < 0 || old.some((segment, i) => this.#segments[start + i] !== segment) ||
        start + old.length >= this.#segments.length) {
        // Retention or a truncation changed the log meanwhile: this cleaning is void.
        await this.#disk.remove(`${indexPath}.swap`)
        await this.#disk.remove(swapPath)
        throw new StorageError('KAFKA_STORAGE_ERROR', `${this.name}: the segments from ` +
          `${first.baseOffset} changed during cleaning`)
      }
      // No index append may land in a file being replaced (markers of these segments).
      await this.#txnIndexWrites
      // The new index replaces the first old one in one rename, before the old files go: a
      // read of the index files (aborted transactions older than memory keeps) finds every
      // kept entry at any moment. A restart that finds `.log.swap` but no `.txnindex.swap`
      // knows the index in place is the new one (swap-recovery.ts).
      await this.#disk.rename(`${indexPath}.swap`, indexPath)
      for (const [i, segment] of old.entries()) {
        await segment.renameForDeletion({ keepSnapshot: true, keepTxnIndex: i === 0 })
      }
      await this.#disk.rename(swapPath, first.logPath)
      await this.#disk.syncDirectory(this.directory)
      const cleaned = await LogSegment.open(this.#disk, this.directory, first.baseOffset,
        segmentIndexIntervalBytes(this.#config), first.createdMs)
      await cleaned.recover(false)
      // The cleaner keeps each group's last batch, so the log stays contiguous.
      assert(cleaned.nextOffset === last.nextOffset, 'a cleaned group ends where it began')
      const current = this.#segments.indexOf(first)
      this.#segments.splice(current, old.length, cleaned)
      this.#cleanedAbortedTransactions(new Set(old.map(segment => segment.baseOffset)),
        first.baseOffset, abortedIndex)
      for (const segment of old) this.#retire(segment, this.#clock.nowMs(), false)
      this.#inBackground(cleaned.writeIndexes(true))
      return cleaned
    })
  }

  /**
   * Whole batches from the one holding `fetchOffset`, up to `maxBytes` (but the first batch
   * whole even if larger, when `minOneBatch`, the default), never at or past `maxOffset`.
   */
  async read (fetchOffset: number, maxBytes: number,
    options: { maxOffset?: number, minOneBatch?: boolean } = {}): Promise<ReadResult> {
    if (fetchOffset < this.#logStartOffset || fetchOffset > this.#logEndOffset) {
      throw new StorageError('OFFSET_OUT_OF_RANGE', `offset ${fetchOffset} is outside ` +
        `[${this.#logStartOffset}, ${this.#logEndOffset}] of ${this.name}`)
    }
    const maxOffset = Math.min(options.maxOffset ?? this.#logEndOffset, this.#writtenEndOffset)
    const minOneBatch = options.minOneBatch ?? true
    const cached = this.#tail?.read(fetchOffset, maxBytes, maxOffset, minOneBatch,
      this.#writtenEndOffset)
    if (cached !== undefined) return { records: cached }
    const records = await readSegments(this.#segments, fetchOffset, maxBytes, maxOffset,
      minOneBatch, this.#logger)
    return { records }
  }

  /** The first offset whose record timestamp is ≥ `timestampMs` (ListOffsets). */
  offsetForTimestamp (timestampMs: number): Promise<TimestampAndOffset | undefined> {
    return findOffsetByTimestamp(this.#segments.slice(), timestampMs, this.#logStartOffset)
  }

  /** The idempotent producers with state in this partition (DescribeProducers). */
  activeProducers (): ReturnType<ProducerState['activeProducers']> {
    return this.#producers.activeProducers()
  }

  /**
   * The first offset holding the largest record timestamp of the log (ListOffsets -3,
   * KIP-734; Kafka's UnifiedLog.fetchOffsetByTimestamp for MAX_TIMESTAMP), or undefined when
   * the log holds no record.
   */
  offsetOfMaxTimestamp (): Promise<TimestampAndOffset | undefined> {
    let maxTimestamp = -1
    for (const segment of this.#segments) {
      if (segment.nextOffset > this.#logStartOffset) {
        maxTimestamp = Math.max(maxTimestamp, segment.maxTimestamp)
      }
    }
    if (maxTimestamp < 0) return Promise.resolve(undefined)
    return this.offsetForTimestamp(maxTimestamp)
  }

  /**
   * Clean close: flush what is pending, then fsynced indexes and a producer snapshot at the
   * log end (so the next start needs neither a scan nor a replay).
   */
  async close (): Promise<void> {
    if (this.#closed) return
    while (this.#recovering !== undefined) await this.#recovering
    await this.flushRound()
    if (this.#durableEndOffset < this.#writtenEndOffset) {
      await this.#active.datasync()
      this.#durableEndOffset = this.#writtenEndOffset
      this.#acknowledge()
    }
    this.#closed = true
    this.#tail?.close()
    await Promise.all(this.#background)
    for (const segment of this.#segments) await segment.writeIndexes(true)
    await writeSnapshot(this.#disk, this.directory, this.#logEndOffset,
      this.#producers.encodeSnapshot(), true)
    // Earlier shutdown snapshots are superseded; those at segment bases stay (Kafka keeps them).
    const bases = new Set(this.#segments.map(segment => segment.baseOffset))
    await deleteSnapshots(this.#disk, this.directory,
      snapshot => snapshot < this.#logEndOffset && !bases.has(snapshot))
    await this.#disk.syncDirectory(this.directory)
    for (const segment of this.#segments) await segment.close()
    for (const segment of this.#deletedSegments) await segment.delete()
    this.#deletedSegments.clear()
  }

  /** Closes without flushing (the log is being deleted). */
  async abandon (): Promise<void> {
    this.#closed = true
    this.#tail?.close()
    for (const waiter of this.#waiters) {
      waiter.reject(new StorageError('UNKNOWN_TOPIC_OR_PARTITION', `${this.name} was deleted`))
    }
    this.#waiters = []
    let bytes = 0
    for (const write of this.#pending) bytes += write.buffer.length
    this.#pending = []
    this.#flusher.release(bytes)
    await Promise.all(this.#background)
    for (const segment of this.#segments) await segment.close().catch(() => undefined)
    for (const segment of this.#deletedSegments) await segment.close().catch(() => undefined)
  }
}

function sameEntries (stored: readonly EpochEntry[] | undefined,
  entries: readonly EpochEntry[]): boolean {
  return stored !== undefined && stored.length === entries.length && stored.every((entry, i) =>
    entry.epoch === entries[i]?.epoch && entry.startOffset === entries[i]?.startOffset)
}
