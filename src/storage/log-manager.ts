/**
 * LogManager: owns the data directory (Kafka's LogManager).
 *
 *   <data-dir>/.lock                             held while running (Disk.lock: proper-lockfile)
 *   <data-dir>/meta.properties                   version, node.id, cluster.id
 *   <data-dir>/.kafka_cleanshutdown              present only after a clean shutdown
 *   <data-dir>/recovery-point-offset-checkpoint  per partition: everything below is durable,
 *                                                indexes included (PartitionLog.recoveryPoint)
 *   <data-dir>/log-start-offset-checkpoint       per partition: the log start offset
 *   <data-dir>/replication-offset-checkpoint     per replicated partition: its high watermark
 *   <data-dir>/<topic>-<partition>/              one PartitionLog each
 *   <data-dir>/metadata/__cluster_metadata-0/    the controller's metadata log (not a topic)
 *
 * The metadata log is opened through its own path (`openMetadataLog`) and is never among the
 * topic logs: `getLog`, `logs()` and the directory scan do not see it, so no request that names
 * a topic can reach it (Kafka's LogManager likewise leaves `__cluster_metadata-0` to the Raft
 * layer). A data directory from before this layout has it at `<data-dir>/__cluster_metadata-0`;
 * start-up moves it into `metadata/` before any topic log is opened.
 *
 * A partition log is opened once: concurrent `getOrCreateLog` calls for one partition share a
 * single open (two PartitionLogs on one directory would overwrite each other's appends).
 *
 * Start-up: lock, read the marker (and delete it: a crash from now on is unclean), open every
 * partition, recovering from its recovery point when the marker was missing. Checkpoints are
 * written atomically (temp, fsync, rename, fsync dir) every `checkpointIntervalMs`, when a log
 * start offset moves, and at close. Close flushes every log, writes the checkpoints and the
 * marker, then releases the lock.
 */
import {
  formatPartitionMetadata, parsePartitionMetadata, PARTITION_METADATA_FILE,
} from './partition-metadata.js'
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import type { Clock, TimerHandle } from '../io/clock.js'
import { systemClock } from '../io/clock.js'
import { DirectoryLockedError, nodeDisk, type Disk } from '../io/disk.js'
import type { CleanerTotals, FlushTotals } from '../metrics/metrics.js'
import {
  checkpointKey, formatCheckpoint, parseCheckpoint, writeAtomic,
  type OffsetCheckpoint,
} from './checkpoint.js'
import { LogDirLockedError } from './errors.js'
import { GroupCommitFlusher } from './flusher.js'
import {
  DEFAULT_CLEANER_CONFIG, LogCleaner, type LogCleanerConfig,
} from './log-cleaner.js'
import { FsyncTimes, timedDisk } from './fsync-times.js'
import { DEFAULT_LOG_CONFIG, type LogConfig } from './log-config.js'
import { TAIL_RING_BYTES, TailCachePool } from './tail-cache.js'
import {
  PartitionLog, type LogLogger, type RetentionOutcome, type SegmentReclaim,
} from './partition-log.js'
import { assert } from '../util/assert.js'

export { LogDirLockedError } from './errors.js'

const CLEAN_SHUTDOWN_FILE = '.kafka_cleanshutdown'
const RECOVERY_POINT_FILE = 'recovery-point-offset-checkpoint'
const LOG_START_FILE = 'log-start-offset-checkpoint'
/**
 * Kafka's replication-offset-checkpoint (ReplicaManager's high watermark checkpoint): the high
 * watermark of every log in replicated mode, so that a restarted replica starts from it instead
 * of from its log end. A log listed here opens replicated (PartitionLog OpenOptions
 * highWatermark); single-node logs are never listed, and keep the durable end on restart.
 */
const REPLICATION_OFFSET_FILE = 'replication-offset-checkpoint'
/**
 * Kafka's replica.high.watermark.checkpoint.interval.ms default: how often the high watermarks
 * are checkpointed while any log is replicated (a stale one only starts a replica lower).
 */
const HIGH_WATERMARK_CHECKPOINT_INTERVAL_MS = 5_000
const META_FILE = 'meta.properties'
/** Kafka's log.flush.offset.checkpoint.interval.ms default. */
const CHECKPOINT_INTERVAL_MS = 60_000
/** Logs closed in parallel at shutdown. */
const CLOSE_CONCURRENCY = 16
const PARTITION_DIRECTORY = /^(.+)-(\d+)$/
/** Where the metadata log lives, and its directory name before it moved there. */
const METADATA_DIRECTORY = 'metadata'
const METADATA_LOG_NAME = '__cluster_metadata-0'
/**
 * The metadata log's own settings, whatever the broker's log.* defaults say: always fsynced
 * before an operation is acknowledged (Raft's flush), and nothing ever deleted by retention
 * (Kafka's metadata.log.* configs, with snapshots instead of retention).
 */
const METADATA_LOG_CONFIG: Partial<LogConfig> = {
  fsyncBeforeAck: true,
  retentionMs: -1,
  retentionBytes: -1,
  flushIntervalMessages: Number.MAX_SAFE_INTEGER,
  flushIntervalMs: Number.MAX_SAFE_INTEGER,
  maxMessageBytes: 8 * 1024 * 1024,
}

export interface LogManagerOptions {
  dataDir: string
  nodeId: number
  clock?: Clock
  logger?: LogLogger
  /** Kafka's log.* broker settings; missing fields take DEFAULT_LOG_CONFIG. */
  defaultConfig?: Partial<LogConfig>
  /** Per-topic overrides (topic configs), applied over `defaultConfig` when a log opens. */
  topicConfigs?: (topic: string) => Partial<LogConfig>
  /** Bound on appended-but-unflushed bytes across all logs (back-pressure). */
  pendingBytesMax?: number
  /**
   * tributary.log.tail.cache.bytes: memory for the newest written batches of the most recently
   * written partitions (tail-cache.ts); 0 or unset: every read goes to the files.
   */
  tailCacheBytes?: number
  /** The disk port; a simulator passes its own (default: the real file system). */
  disk?: Disk
  /** Kafka's log.retention.check.interval.ms (default 300000): how often retention runs. */
  retentionCheckIntervalMs?: number
  /** Kafka's log.cleaner.* settings; missing fields take DEFAULT_CLEANER_CONFIG. */
  cleaner?: Partial<LogCleanerConfig>
}

/** Kafka's log.retention.check.interval.ms default. */
const RETENTION_CHECK_INTERVAL_MS = 300_000

const silentLogger: LogLogger = { info: () => undefined, warn: () => undefined }

export class LogManager {
  readonly dataDir: string
  readonly clusterId: string
  readonly #logs = new Map<string, PartitionLog>()
  /** Opens in progress, so that concurrent creations of one partition share one open. */
  readonly #opening = new Map<string, Promise<PartitionLog>>()
  #metadataLog: PartitionLog | undefined
  /** Set by the first openMetadataLog, so that every caller shares one open. */
  #metadataLogOpening: Promise<PartitionLog> | undefined
  #clean = false
  readonly #clock: Clock
  readonly #logger: LogLogger
  readonly #defaultConfig: LogConfig
  readonly #flusher: GroupCommitFlusher
  /** Undefined when tributary.log.tail.cache.bytes holds no ring: reads go to the files. */
  readonly #tailCache: TailCachePool | undefined
  readonly #topicConfigs: (topic: string) => Partial<LogConfig>
  readonly #release: () => Promise<void>
  readonly #disk: Disk
  readonly #fsyncTimes = new FsyncTimes()
  /** The topic id each open log's partition.metadata is known to hold (one entry per log). */
  readonly #topicIds = new Map<string, string>()
  #checkpointTimer: TimerHandle | undefined
  #highWatermarkTimer: TimerHandle | undefined
  /** The high-watermark checkpoint write in flight, and whether another is wanted after it. */
  #highWatermarkWrite: Promise<void> | undefined
  #highWatermarkWriteAgain = false
  /**
   * Whether replication-offset-checkpoint may list a log: a broker whose logs were never
   * replicated never writes the file (single-node data directories stay as they were).
   */
  #highWatermarksListed = false
  #retentionTimer: TimerHandle | undefined
  readonly #cleaner: LogCleaner
  readonly #retentionCheckIntervalMs: number
  #onSegmentReclaimed: ((reclaim: SegmentReclaim) => void) | undefined
  #closed = false

  private constructor (dataDir: string, clusterId: string, release: () => Promise<void>,
    options: LogManagerOptions) {
    this.dataDir = dataDir
    this.clusterId = clusterId
    this.#release = release
    this.#clock = options.clock ?? systemClock
    this.#disk = timedDisk(options.disk ?? nodeDisk, this.#fsyncTimes, this.#clock)
    this.#logger = options.logger ?? silentLogger
    this.#defaultConfig = { ...DEFAULT_LOG_CONFIG, ...options.defaultConfig }
    this.#flusher = new GroupCommitFlusher(this.#clock, options.pendingBytesMax)
    const tailCacheBytes = options.tailCacheBytes ?? 0
    this.#tailCache = tailCacheBytes >= TAIL_RING_BYTES ? new TailCachePool(tailCacheBytes)
      : undefined
    this.#topicConfigs = options.topicConfigs ?? (() => ({}))
    this.#retentionCheckIntervalMs = options.retentionCheckIntervalMs ??
      RETENTION_CHECK_INTERVAL_MS
    this.#cleaner = new LogCleaner({
      disk: this.#disk, dataDir, clock: this.#clock, logger: this.#logger,
      logs: () => this.#logs.values(),
      config: { ...DEFAULT_CLEANER_CONFIG, ...options.cleaner },
      useWorker: this.#disk === nodeDisk,
    })
  }

  #configFor (topic: string, overrides: Partial<LogConfig> = {}): LogConfig {
    return { ...this.#defaultConfig, ...this.#topicConfigs(topic), ...overrides }
  }

  /** Called when a segment deleted by retention or DeleteRecords has its files removed. */
  setReclaimListener (listener: (reclaim: SegmentReclaim) => void): void {
    this.#onSegmentReclaimed = listener
  }

  /** Group-commit totals since start-up (rounds, fdatasyncs, bytes they covered). */
  get flushStats (): FlushTotals {
    return { ...this.#flusher.stats, fsyncDurations: this.#fsyncTimes.byKind,
      tailCache: this.tailCacheStats }
  }

  /** Reads the tail cache answered and did not, and the memory of its rings so far. */
  get tailCacheStats (): { hits: number, misses: number, bytesAllocated: number } {
    const pool = this.#tailCache
    return pool === undefined ? { hits: 0, misses: 0, bytesAllocated: 0 }
      : { hits: pool.hits, misses: pool.misses, bytesAllocated: pool.bytesAllocated }
  }

  /** Appended bytes not yet flushed, across all logs (bounded by `pendingBytesMax`). */
  get pendingBytes (): number {
    return this.#flusher.pendingBytes
  }

  static async open (options: LogManagerOptions): Promise<LogManager> {
    const dataDir = path.resolve(options.dataDir)
    const disk = options.disk ?? nodeDisk
    await disk.mkdir(dataDir)
    const release = await disk.lock(dataDir).catch((error: unknown) => {
      if (error instanceof DirectoryLockedError) throw new LogDirLockedError(error.message)
      throw error
    })
    try {
      const meta = await readOrCreateMeta(disk, dataDir, options.nodeId)
      const manager = new LogManager(dataDir, meta.clusterId, release, options)
      await manager.#loadLogs(meta.created)
      return manager
    } catch (error) {
      await release().catch(() => undefined)
      throw error
    }
  }

  /** `fresh`: meta.properties was just written, so this is the directory's first start. */
  async #loadLogs (fresh: boolean): Promise<void> {
    const started = this.#clock.monotonicMs()
    const marker = path.join(this.dataDir, CLEAN_SHUTDOWN_FILE)
    const disk = this.#disk
    const clean = await disk.readOptional(marker) !== undefined
    this.#clean = clean
    if (clean) {
      // The removal must be durable: a crash that brought the marker back would skip recovery.
      await disk.remove(marker)
      await disk.syncDirectory(this.dataDir)
    }
    await this.#moveLegacyMetadataLog()
    const recoveryPoints = parseCheckpoint(
      (await disk.readOptional(path.join(this.dataDir, RECOVERY_POINT_FILE)))?.toString() ?? '')
    const logStarts = parseCheckpoint(
      (await disk.readOptional(path.join(this.dataDir, LOG_START_FILE)))?.toString() ?? '')
    const highWatermarks = parseCheckpoint((await disk.readOptional(
      path.join(this.dataDir, REPLICATION_OFFSET_FILE)))?.toString() ?? '')
    this.#highWatermarksListed = highWatermarks.size > 0
    for (const name of await disk.listDirectories(this.dataDir)) {
      if (name.endsWith('-delete')) {
        await disk.remove(path.join(this.dataDir, name))
        continue
      }
      const match = PARTITION_DIRECTORY.exec(name)
      if (match === null) continue
      const topic = match[1] as string
      const partition = Number(match[2])
      const key = checkpointKey(topic, partition)
      await this.#openLog(topic, partition, this.#configFor(topic), clean,
        recoveryPoints.get(key) ?? 0, logStarts.get(key) ?? 0, highWatermarks.get(key))
    }
    // A new directory (no meta.properties, no partitions) has no shutdown to speak of.
    const previous = fresh && this.#logs.size === 0 ? 'in a new data directory'
      : `after ${clean ? 'a clean' : 'an unclean'} shutdown`
    this.#logger.info(`loaded ${this.#logs.size} partition logs from ${this.dataDir} in ` +
      `${(this.#clock.monotonicMs() - started).toFixed(1)} ms ${previous}`)
    // flush.ms is honoured at this granularity (Kafka's log.flush.scheduler.interval.ms).
    const flushTickMs = Math.max(10, Math.min(1000, this.#defaultConfig.flushIntervalMs))
    this.#flusher.startPeriodic(flushTickMs, () => this.#logs.values())
    const tick = (): void => {
      void this.writeCheckpoints().catch(error => {
        this.#logger.warn(`checkpoint write failed: ${String(error)}`)
      })
      this.#checkpointTimer = this.#clock.setTimer(CHECKPOINT_INTERVAL_MS, tick)
    }
    this.#checkpointTimer = this.#clock.setTimer(CHECKPOINT_INTERVAL_MS, tick)
    const highWatermarkTick = (): void => {
      if ([...this.#logs.values()].some(log => log.replicated)) this.#checkpointHighWatermarks()
      this.#highWatermarkTimer = this.#clock.setTimer(HIGH_WATERMARK_CHECKPOINT_INTERVAL_MS,
        highWatermarkTick)
    }
    this.#highWatermarkTimer = this.#clock.setTimer(HIGH_WATERMARK_CHECKPOINT_INTERVAL_MS,
      highWatermarkTick)
    this.#scheduleRetention()
    await this.#cleaner.start()
  }

  /** The log cleaner (compaction of cleanup.policy=compact logs). */
  get cleaner (): LogCleaner {
    return this.#cleaner
  }

  /** Cleaner totals for the metrics. */
  get cleanerStats (): CleanerTotals {
    const stats = this.#cleaner.stats
    return {
      bytesRead: stats.bytesRead,
      bytesWritten: stats.bytesWritten,
      maxDirtyRatio: stats.maxDirtyRatio,
      secondsSinceLastClean: stats.lastCleanMs === undefined
        ? -1
        : (this.#clock.monotonicMs() - stats.lastCleanMs) / 1000,
      errors: stats.errors,
      uncleanable: stats.uncleanable,
    }
  }

  /** The next retention check, log.retention.check.interval.ms after the last one ended. */
  #scheduleRetention (): void {
    this.#retentionTimer = this.#clock.setTimer(this.#retentionCheckIntervalMs, () => {
      void this.enforceRetention().finally(() => {
        if (!this.#closed) this.#scheduleRetention()
      })
    })
  }

  /**
   * One retention check over every topic log (never the metadata log), one log at a time so
   * that deletion I/O never bursts. A log whose check fails is logged and skipped; the others
   * go on. Returns what each log did, by `<topic>-<partition>`.
   */
  async enforceRetention (): Promise<Map<string, RetentionOutcome>> {
    const outcomes = new Map<string, RetentionOutcome>()
    for (const log of [...this.#logs.values()]) {
      if (this.#closed) break
      try {
        const outcome = await log.enforceRetention()
        outcomes.set(log.name, outcome)
        if (outcome.deletedSegments > 0) {
          this.#logger.info(`${log.name}: deleted ${outcome.deletedSegments} segment(s), ` +
            `${outcome.deletedBytes} bytes, by ${String(outcome.reason)}; log start offset ` +
            `${log.logStartOffset}`)
        }
      } catch (error) {
        this.#logger.warn(`retention of ${log.name} failed: ${String(error)}`)
      }
    }
    return outcomes
  }

  async #openLog (topic: string, partition: number, config: LogConfig, clean: boolean,
    recoveryPoint: number, logStartOffset: number,
    highWatermark?: number): Promise<PartitionLog> {
    const log = await PartitionLog.open({
      disk: this.#disk,
      directory: path.join(this.dataDir, `${topic}-${partition}`),
      topic,
      partition,
      config,
      flusher: this.#flusher,
      clock: this.#clock,
      logger: this.#logger,
      cleanShutdown: clean,
      recoveryPoint,
      logStartOffset,
      highWatermark,
      tailCache: this.#tailCache,
      onLogStartOffsetChange: () => {
        void this.writeCheckpoints().catch(() => undefined)
      },
      onSegmentReclaimed: reclaim => { this.#onSegmentReclaimed?.(reclaim) },
      onTruncated: endOffset => { this.#cleaner.truncated(`${topic}-${partition}`, endOffset) },
      // A log that turns replicated is listed at once: restarted before its entry lands, it
      // would open with its high watermark at its log end.
      onReplicatedChange: () => { this.#checkpointHighWatermarks() },
    })
    this.#logs.set(checkpointKey(topic, partition), log)
    return log
  }

  /**
   * A data directory written before the metadata log had its own place keeps it at
   * `<data-dir>/__cluster_metadata-0`, where the topic scan would take it for a partition:
   * move it into `metadata/` (one atomic rename, made durable) before the scan.
   */
  async #moveLegacyMetadataLog (): Promise<void> {
    const disk = this.#disk
    const legacy = path.join(this.dataDir, METADATA_LOG_NAME)
    if (!(await disk.listDirectories(this.dataDir)).includes(METADATA_LOG_NAME)) return
    const metadataDir = path.join(this.dataDir, METADATA_DIRECTORY)
    if ((await disk.list(metadataDir)).includes(METADATA_LOG_NAME)) {
      throw new Error(`${legacy} and ${path.join(metadataDir, METADATA_LOG_NAME)} both exist; ` +
        'keep the metadata log that is current, move the other away, and start again')
    }
    await disk.mkdir(metadataDir)
    await disk.rename(legacy, path.join(metadataDir, METADATA_LOG_NAME))
    await disk.syncDirectory(metadataDir)
    await disk.syncDirectory(this.dataDir)
    this.#logger.info(`moved the metadata log from ${legacy} to ${metadataDir}`)
  }

  /**
   * The controller's metadata log, at `<data-dir>/metadata/__cluster_metadata-0`. It is not a
   * topic log: getLog/logs() never return it. Opened once; it is recovered from its start
   * after an unclean shutdown (it is small, and its recovery point is not checkpointed).
   */
  openMetadataLog (): Promise<PartitionLog> {
    this.#metadataLogOpening ??= this.#openMetadataLog()
    return this.#metadataLogOpening
  }

  async #openMetadataLog (): Promise<PartitionLog> {
    const metadataDir = path.join(this.dataDir, METADATA_DIRECTORY)
    const directory = path.join(metadataDir, METADATA_LOG_NAME)
    await this.#disk.mkdir(directory)
    await this.#disk.syncDirectory(metadataDir)
    await this.#disk.syncDirectory(this.dataDir)
    this.#metadataLog = await PartitionLog.open({
      disk: this.#disk,
      directory,
      topic: '__cluster_metadata',
      partition: 0,
      config: { ...this.#defaultConfig, ...METADATA_LOG_CONFIG },
      flusher: this.#flusher,
      clock: this.#clock,
      logger: this.#logger,
      cleanShutdown: this.#clean,
      recoveryPoint: 0,
      logStartOffset: 0,
      onLogStartOffsetChange: () => undefined,
    })
    return this.#metadataLog
  }

  getLog (topic: string, partition: number): PartitionLog | undefined {
    return this.#logs.get(checkpointKey(topic, partition))
  }

  /**
   * The partition's log, opened (and its directory created) if needed. Single-flight: while
   * one call is opening a partition, other calls for it wait for that open instead of
   * opening the directory a second time.
   */
  async getOrCreateLog (topic: string, partition: number,
    config: Partial<LogConfig> = {}): Promise<PartitionLog> {
    const key = checkpointKey(topic, partition)
    // No await before #opening is set: a second call in between would open the log again.
    const pending = this.#opening.get(key)
    const existing = this.#logs.get(key) ?? (pending === undefined ? undefined : await pending)
    if (existing !== undefined) {
      existing.updateConfig(config)
      return existing
    }
    const opening = this.#createLog(topic, partition, config)
    this.#opening.set(key, opening)
    try {
      return await opening
    } finally {
      this.#opening.delete(key)
    }
  }

  async #createLog (topic: string, partition: number,
    config: Partial<LogConfig>): Promise<PartitionLog> {
    const directory = path.join(this.dataDir, `${topic}-${partition}`)
    await this.#disk.mkdir(directory)
    // The partition directory must survive a crash once its first batch is acknowledged.
    await this.#disk.syncDirectory(this.dataDir)
    // Only #createLog adds a log after start-up, and #opening lets one run per partition.
    assert(this.getLog(topic, partition) === undefined, `${topic}-${partition} opened twice`)
    return this.#openLog(topic, partition, this.#configFor(topic, config), true, 0, 0)
  }

  /** Deletes a partition's log: rename to `-delete` (atomic), then remove. */
  async deleteLog (topic: string, partition: number): Promise<void> {
    const doomed = await this.#detachLog(topic, partition, 'delete')
    if (doomed !== undefined) await this.#disk.remove(doomed)
  }

  /**
   * Sets aside a log that the metadata does not know (Kafka's stray logs, KAFKA-14616):
   * renamed to `<dir>.<random>-stray`, kept on disk for an operator, never loaded again.
   * Returns the new directory, or undefined if there was no such log.
   */
  setAsideLog (topic: string, partition: number): Promise<string | undefined> {
    return this.#detachLog(topic, partition, 'stray')
  }

  async #detachLog (topic: string, partition: number,
    suffix: 'delete' | 'stray'): Promise<string | undefined> {
    const key = checkpointKey(topic, partition)
    await this.#opening.get(key)?.catch(() => undefined)
    const log = this.#logs.get(key)
    if (log === undefined) return undefined
    this.#logs.delete(key)
    this.#topicIds.delete(key)
    await log.abandon()
    const directory = path.join(this.dataDir, `${topic}-${partition}`)
    const renamed = `${directory}.${randomBytes(4).toString('hex')}-${suffix}`
    await this.#disk.rename(directory, renamed)
    await this.#disk.syncDirectory(this.dataDir)
    return renamed
  }

  /**
   * Records the partition's topic id in its directory (partition.metadata, KIP-516), written
   * atomically when missing or naming another id, as Kafka does when it creates a log or
   * assigns it an id. A no-op for a log that is not open.
   */
  async recordTopicId (topic: string, partition: number, topicId: string): Promise<void> {
    const key = checkpointKey(topic, partition)
    const log = this.#logs.get(key)
    if (log === undefined || this.#topicIds.get(key) === topicId) return
    const file = path.join(log.directory, PARTITION_METADATA_FILE)
    const existing = await this.#disk.readOptional(file)
    if (existing === undefined || parsePartitionMetadata(existing.toString('utf8')) !== topicId) {
      await writeAtomic(this.#disk, file, formatPartitionMetadata(topicId))
    }
    // The log may have been detached during the awaits; only an open log keeps an entry.
    if (this.#logs.get(key) === log) this.#topicIds.set(key, topicId)
  }

  logs (): IterableIterator<PartitionLog> {
    return this.#logs.values()
  }

  /**
   * Writes replication-offset-checkpoint soon, coalescing bursts (many partitions turning
   * replicated at once): at most one write in flight and one more queued after it.
   */
  #checkpointHighWatermarks (): void {
    if (this.#highWatermarkWrite !== undefined) {
      this.#highWatermarkWriteAgain = true
      return
    }
    this.#highWatermarkWrite = this.#writeHighWatermarks().catch((error: unknown) => {
      this.#logger.warn(`writing ${REPLICATION_OFFSET_FILE} failed: ${String(error)}`)
    }).finally(() => {
      this.#highWatermarkWrite = undefined
      if (this.#highWatermarkWriteAgain && !this.#closed) {
        this.#highWatermarkWriteAgain = false
        this.#checkpointHighWatermarks()
      }
    })
  }

  async #writeHighWatermarks (): Promise<void> {
    const highWatermarks: OffsetCheckpoint = new Map()
    for (const [key, log] of this.#logs) {
      if (log.replicated) highWatermarks.set(key, log.highWatermark)
    }
    // Written while it lists a log, and once more when it stops (to drop the last entries).
    if (highWatermarks.size === 0 && !this.#highWatermarksListed) return
    this.#highWatermarksListed = highWatermarks.size > 0
    await writeAtomic(this.#disk, path.join(this.dataDir, REPLICATION_OFFSET_FILE),
      formatCheckpoint(highWatermarks))
  }

  async writeCheckpoints (): Promise<void> {
    const recovery: OffsetCheckpoint = new Map()
    const starts: OffsetCheckpoint = new Map()
    for (const [key, log] of this.#logs) {
      recovery.set(key, log.recoveryPoint)
      starts.set(key, log.logStartOffset)
    }
    await writeAtomic(this.#disk, path.join(this.dataDir, RECOVERY_POINT_FILE),
      formatCheckpoint(recovery))
    await writeAtomic(this.#disk, path.join(this.dataDir, LOG_START_FILE),
      formatCheckpoint(starts))
    await this.#writeHighWatermarks()
  }

  writeAtomic (name: string, contents: string | Buffer): Promise<void> {
    return writeAtomic(this.#disk, path.join(this.dataDir, name), contents)
  }

  readSmallFile (name: string): Promise<Buffer | undefined> {
    return this.#disk.readOptional(path.join(this.dataDir, name))
  }

  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#checkpointTimer?.cancel()
    this.#highWatermarkTimer?.cancel()
    this.#retentionTimer?.cancel()
    await this.#cleaner.stop()
    this.#flusher.stop()
    await this.#flusher.idle()
    // A few logs at a time: each close fsyncs several files, and file handles are finite.
    const logs = [...this.#logs.values()]
    if (this.#metadataLog !== undefined) logs.push(this.#metadataLog)
    for (let i = 0; i < logs.length; i += CLOSE_CONCURRENCY) {
      await Promise.all(logs.slice(i, i + CLOSE_CONCURRENCY).map(log => log.close()))
    }
    await this.writeCheckpoints()
    await writeAtomic(this.#disk, path.join(this.dataDir, CLEAN_SHUTDOWN_FILE),
      JSON.stringify({ version: 0, brokerEpoch: -1 }))
    await this.#release()
  }
}

async function readOrCreateMeta (disk: Disk, dataDir: string,
  nodeId: number): Promise<{ clusterId: string, created: boolean }> {
  const file = path.join(dataDir, META_FILE)
  const existing = await disk.readOptional(file)
  if (existing !== undefined) {
    const clusterId = /^cluster\.id=(.+)$/m.exec(existing.toString())?.[1]
    const storedNode = /^node\.id=(\d+)$/m.exec(existing.toString())?.[1]
    if (storedNode !== undefined && Number(storedNode) !== nodeId) {
      throw new Error(`${file} belongs to node ${storedNode}, not node ${nodeId}`)
    }
    if (clusterId !== undefined) return { clusterId, created: false }
  }
  const clusterId = randomBytes(16).toString('base64url')
  await writeAtomic(disk, file, `#Written by Tributary\nversion=1\nnode.id=${nodeId}\n` +
    `cluster.id=${clusterId}\n`)
  return { clusterId, created: existing === undefined }
}
