/**
 * LogManager: owns the data directory (Kafka's LogManager).
 *
 *   <data-dir>/.lock                             held with proper-lockfile while running
 *   <data-dir>/meta.properties                   version, node.id, cluster.id
 *   <data-dir>/.kafka_cleanshutdown              present only after a clean shutdown
 *   <data-dir>/recovery-point-offset-checkpoint  per partition: everything below is durable
 *   <data-dir>/log-start-offset-checkpoint       per partition: the log start offset
 *   <data-dir>/<topic>-<partition>/              one PartitionLog each
 *
 * Start-up: lock, read the marker (and delete it: a crash from now on is unclean), open every
 * partition, recovering from its recovery point when the marker was missing. Checkpoints are
 * written atomically (temp, fsync, rename, fsync dir) every `checkpointIntervalMs`, when a log
 * start offset moves, and at close. Close flushes every log, writes the checkpoints and the
 * marker, then releases the lock.
 */
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import lockfile from 'proper-lockfile'
import type { Clock, TimerHandle } from '../io/clock.js'
import { systemClock } from '../io/clock.js'
import {
  mkdir, readdir, rename, rm, syncDirectory, unlink, writeFile, readFile,
} from '../io/disk.js'
import {
  checkpointKey, formatCheckpoint, parseCheckpoint, readOptional, writeAtomic,
  type OffsetCheckpoint,
} from './checkpoint.js'
import { LogDirLockedError } from './errors.js'
import { GroupCommitFlusher } from './flusher.js'
import { DEFAULT_LOG_CONFIG, type LogConfig } from './log-config.js'
import { PartitionLog, type LogLogger } from './partition-log.js'

export { LogDirLockedError } from './errors.js'

const CLEAN_SHUTDOWN_FILE = '.kafka_cleanshutdown'
const RECOVERY_POINT_FILE = 'recovery-point-offset-checkpoint'
const LOG_START_FILE = 'log-start-offset-checkpoint'
const META_FILE = 'meta.properties'
/** Kafka's log.flush.offset.checkpoint.interval.ms default. */
const CHECKPOINT_INTERVAL_MS = 60_000
/** proper-lockfile refreshes the lock's mtime at half this; a dead owner's lock goes stale. */
const LOCK_STALE_MS = 10_000
const PARTITION_DIRECTORY = /^(.+)-(\d+)$/

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
}

const silentLogger: LogLogger = { info: () => undefined, warn: () => undefined }

export class LogManager {
  readonly dataDir: string
  readonly clusterId: string
  readonly #logs = new Map<string, PartitionLog>()
  readonly #clock: Clock
  readonly #logger: LogLogger
  readonly #defaultConfig: LogConfig
  readonly #flusher: GroupCommitFlusher
  readonly #topicConfigs: (topic: string) => Partial<LogConfig>
  readonly #release: () => Promise<void>
  #checkpointTimer: TimerHandle | undefined
  #closed = false

  private constructor (dataDir: string, clusterId: string, release: () => Promise<void>,
    options: LogManagerOptions) {
    this.dataDir = dataDir
    this.clusterId = clusterId
    this.#release = release
    this.#clock = options.clock ?? systemClock
    this.#logger = options.logger ?? silentLogger
    this.#defaultConfig = { ...DEFAULT_LOG_CONFIG, ...options.defaultConfig }
    this.#flusher = new GroupCommitFlusher(this.#clock, options.pendingBytesMax)
    this.#topicConfigs = options.topicConfigs ?? (() => ({}))
  }

  #configFor (topic: string, overrides: Partial<LogConfig> = {}): LogConfig {
    return { ...this.#defaultConfig, ...this.#topicConfigs(topic), ...overrides }
  }

  get flushRounds (): number {
    return this.#flusher.rounds
  }

  /** Appended bytes not yet flushed, across all logs (bounded by `pendingBytesMax`). */
  get pendingBytes (): number {
    return this.#flusher.pendingBytes
  }

  static async open (options: LogManagerOptions): Promise<LogManager> {
    const dataDir = path.resolve(options.dataDir)
    await mkdir(dataDir, { recursive: true })
    const release = await acquireLock(dataDir)
    try {
      const clusterId = await readOrCreateMeta(dataDir, options.nodeId)
      const manager = new LogManager(dataDir, clusterId, release, options)
      await manager.#loadLogs()
      return manager
    } catch (error) {
      await release().catch(() => undefined)
      throw error
    }
  }

  async #loadLogs (): Promise<void> {
    const started = this.#clock.monotonicMs()
    const marker = path.join(this.dataDir, CLEAN_SHUTDOWN_FILE)
    const clean = await readOptional(marker) !== undefined
    if (clean) await unlink(marker)
    const recoveryPoints = parseCheckpoint(
      (await readOptional(path.join(this.dataDir, RECOVERY_POINT_FILE)))?.toString() ?? '')
    const logStarts = parseCheckpoint(
      (await readOptional(path.join(this.dataDir, LOG_START_FILE)))?.toString() ?? '')
    for (const entry of await readdir(this.dataDir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue
      if (entry.name.endsWith('-delete')) {
        await rm(path.join(this.dataDir, entry.name), { recursive: true, force: true })
        continue
      }
      const match = PARTITION_DIRECTORY.exec(entry.name)
      if (match === null) continue
      const topic = match[1] as string
      const partition = Number(match[2])
      const key = checkpointKey(topic, partition)
      await this.#openLog(topic, partition, this.#configFor(topic), clean,
        recoveryPoints.get(key) ?? 0, logStarts.get(key) ?? 0)
    }
    this.#logger.info(`loaded ${this.#logs.size} partition logs from ${this.dataDir} in ` +
      `${(this.#clock.monotonicMs() - started).toFixed(1)} ms after ` +
      `${clean ? 'a clean' : 'an unclean'} shutdown`)
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
  }

  async #openLog (topic: string, partition: number, config: LogConfig, clean: boolean,
    recoveryPoint: number, logStartOffset: number): Promise<PartitionLog> {
    const log = await PartitionLog.open({
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
      onLogStartOffsetChange: () => {
        void this.writeCheckpoints().catch(() => undefined)
      },
    })
    this.#logs.set(checkpointKey(topic, partition), log)
    return log
  }

  getLog (topic: string, partition: number): PartitionLog | undefined {
    return this.#logs.get(checkpointKey(topic, partition))
  }

  async getOrCreateLog (topic: string, partition: number,
    config: Partial<LogConfig> = {}): Promise<PartitionLog> {
    const existing = this.getLog(topic, partition)
    if (existing !== undefined) {
      existing.updateConfig(config)
      return existing
    }
    const directory = path.join(this.dataDir, `${topic}-${partition}`)
    await mkdir(directory, { recursive: true })
    // The partition directory must survive a crash once its first batch is acknowledged.
    await syncDirectory(this.dataDir)
    return this.#openLog(topic, partition, this.#configFor(topic, config), true, 0, 0)
  }

  /** Deletes a partition's log: rename to `-delete` (atomic), then remove. */
  async deleteLog (topic: string, partition: number): Promise<void> {
    const key = checkpointKey(topic, partition)
    const log = this.#logs.get(key)
    if (log === undefined) return
    this.#logs.delete(key)
    await log.abandon()
    const directory = path.join(this.dataDir, `${topic}-${partition}`)
    const doomed = `${directory}.${randomBytes(4).toString('hex')}-delete`
    await rename(directory, doomed)
    await rm(doomed, { recursive: true, force: true })
  }

  logs (): IterableIterator<PartitionLog> {
    return this.#logs.values()
  }

  async writeCheckpoints (): Promise<void> {
    const recovery: OffsetCheckpoint = new Map()
    const starts: OffsetCheckpoint = new Map()
    for (const [key, log] of this.#logs) {
      recovery.set(key, log.durableEndOffset)
      starts.set(key, log.logStartOffset)
    }
    await writeAtomic(path.join(this.dataDir, RECOVERY_POINT_FILE), formatCheckpoint(recovery))
    await writeAtomic(path.join(this.dataDir, LOG_START_FILE), formatCheckpoint(starts))
  }

  writeAtomic (name: string, contents: string | Buffer): Promise<void> {
    return writeAtomic(path.join(this.dataDir, name), contents)
  }

  readSmallFile (name: string): Promise<Buffer | undefined> {
    return readOptional(path.join(this.dataDir, name))
  }

  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#checkpointTimer?.cancel()
    this.#flusher.stop()
    await this.#flusher.idle()
    for (const log of this.#logs.values()) await log.close()
    await this.writeCheckpoints()
    await writeAtomic(path.join(this.dataDir, CLEAN_SHUTDOWN_FILE),
      JSON.stringify({ version: 0, brokerEpoch: -1 }))
    await this.#release()
  }
}

async function readOrCreateMeta (dataDir: string, nodeId: number): Promise<string> {
  const file = path.join(dataDir, META_FILE)
  const existing = await readOptional(file)
  if (existing !== undefined) {
    const clusterId = /^cluster\.id=(.+)$/m.exec(existing.toString())?.[1]
    const storedNode = /^node\.id=(\d+)$/m.exec(existing.toString())?.[1]
    if (storedNode !== undefined && Number(storedNode) !== nodeId) {
      throw new Error(`${file} belongs to node ${storedNode}, not node ${nodeId}`)
    }
    if (clusterId !== undefined) return clusterId
  }
  const clusterId = randomBytes(16).toString('base64url')
  await writeAtomic(file, `#Written by Tributary\nversion=1\nnode.id=${nodeId}\n` +
    `cluster.id=${clusterId}\n`)
  return clusterId
}

/** Data directories locked by this process: its own pid in `.lock.owner` is then no stale. */
const lockedByThisProcess = new Set<string>()

/**
 * Takes `<data-dir>/.lock`. proper-lockfile treats a lock as stale only after LOCK_STALE_MS
 * without refresh; a broker killed with SIGKILL would block its own restart that long, so the
 * owner's pid is kept beside the lock and a lock whose owner is gone is taken over at once.
 * A container restart can give the new broker the dead one's pid: our own pid on a lock this
 * process does not hold is stale too.
 */
async function acquireLock (dataDir: string): Promise<() => Promise<void>> {
  const lockPath = path.join(dataDir, '.lock')
  const ownerPath = path.join(dataDir, '.lock.owner')
  const options = { lockfilePath: lockPath, stale: LOCK_STALE_MS, realpath: false }
  const onCompromised = (): void => undefined
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const release = await lockfile.lock(dataDir, { ...options, onCompromised })
      lockedByThisProcess.add(dataDir)
      await writeFile(ownerPath, String(process.pid))
      return async () => {
        lockedByThisProcess.delete(dataDir)
        await unlink(ownerPath).catch(() => undefined)
        await release()
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error
      const owner = Number((await readFile(ownerPath).catch(() => Buffer.from(''))).toString())
      const stale = owner === process.pid
        ? !lockedByThisProcess.has(dataDir)
        : Number.isInteger(owner) && owner > 0 && !processAlive(owner)
      if (attempt === 0 && stale) {
        await rm(lockPath, { recursive: true, force: true })
        continue
      }
      throw new LogDirLockedError(`another broker holds the lock on ${dataDir}` +
        `${owner > 0 ? ` (pid ${owner})` : ''}`)
    }
  }
  throw new LogDirLockedError(`another broker holds the lock on ${dataDir}`)
}

function processAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
