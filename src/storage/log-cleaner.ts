/**
 * The log cleaner (Kafka's LogCleaner / LogCleanerManager): picks the dirtiest log with
 * `cleanup.policy` containing `compact` (min.cleanable.dirty.ratio, or max.compaction.lag.ms
 * overdue), cleans it (compaction.ts), checkpoints how far it got, and backs off
 * log.cleaner.backoff.ms when nothing is due.
 *
 * Files in the data directory (written atomically):
 *   cleaner-offset-checkpoint     Kafka's format: per partition, the first dirty offset
 *   cleaner-tombstone-checkpoint  per partition, `<offset>:<timeMs>` marks of the cleanings that
 *                                 reached an offset (tombstones below expire delete.retention.ms
 *                                 after theirs)
 *
 * A log whose cleaning fails is marked uncleanable until restart (Kafka's
 * LogCleaningState.uncleanable): logged once, counted, skipped; it is still read and written.
 *
 * Threads: the map and copy passes of a cleaning run in a worker thread (cleaner-worker.ts), off
 * the event loop; planning and the swap stay here. Cleanings go one at a time, so
 * `log.cleaner.threads` is honoured as on (≥ 1) or off (0). With a disk port other than the
 * real file system (a simulator's), the passes run in-process on that port instead. I/O is
 * paced by log.cleaner.io.max.bytes.per.second.
 */
import { Worker } from 'node:worker_threads'
import path from 'node:path'
import type { Clock, TimerHandle } from '../io/clock.js'
import type { Disk } from '../io/disk.js'
import { formatCheckpoint, parseCheckpoint, writeAtomic } from './checkpoint.js'
import {
  cleanLog, dirtyRange, needsCleaning, nextMarks, type CleanedGroups, type CleanerState,
  type CleanResult, type CleanTask, type TombstoneMark,
} from './compaction.js'
import type { LogLogger, PartitionLog } from './partition-log.js'

export const CLEANER_OFFSET_FILE = 'cleaner-offset-checkpoint'
export const CLEANER_TOMBSTONE_FILE = 'cleaner-tombstone-checkpoint'

export interface LogCleanerConfig {
  enable: boolean
  threads: number
  dedupeBufferBytes: number
  ioMaxBytesPerSecond: number
  backoffMs: number
}

/** Kafka's log.cleaner.* defaults. */
export const DEFAULT_CLEANER_CONFIG: LogCleanerConfig = {
  enable: true,
  threads: 1,
  dedupeBufferBytes: 128 * 1024 * 1024,
  ioMaxBytesPerSecond: Number.MAX_VALUE,
  backoffMs: 15_000,
}

/** What the metrics read (pulled at scrape time). */
export interface CleanerStats {
  bytesRead: number
  bytesWritten: number
  /** The largest dirty ratio among compacted logs at the last pass. */
  maxDirtyRatio: number
  /** When the last cleaning finished (monotonic ms), or undefined. */
  lastCleanMs: number | undefined
  errors: number
  uncleanable: number
}

export interface LogCleanerOptions {
  disk: Disk
  dataDir: string
  clock: Clock
  logger: LogLogger
  logs: () => Iterable<PartitionLog>
  config: LogCleanerConfig
  /** Run the passes in a worker thread (the disk port is the real file system). */
  useWorker: boolean
}

/** The fixed part of a worker task's time limit (CleanerThread.run). */
const CLEANER_TASK_TIMEOUT_BASE_MS = 600_000

/** The worker thread running the passes, started on first use. */
class CleanerThread {
  readonly #ioMaxBytesPerSecond: number
  readonly #clock: Clock
  #worker: Worker | undefined

  constructor (ioMaxBytesPerSecond: number, clock: Clock) {
    this.#ioMaxBytesPerSecond = ioMaxBytesPerSecond
    this.#clock = clock
  }

  /**
   * Runs one task. The wait is bounded: 10 minutes plus the task's bytes at 1 MB/s (or at the
   * I/O limit, if lower), read twice and written once; past that the worker is terminated
   * (and replaced at the next cleaning) and the cleaning fails.
   */
  run (task: CleanTask): Promise<CleanedGroups | undefined> {
    const worker = this.#worker ??= this.#start()
    const bytes = task.segments.reduce((total, segment) => total + segment.size, 0)
    const timeoutMs = CLEANER_TASK_TIMEOUT_BASE_MS +
      (3 * bytes / Math.min(this.#ioMaxBytesPerSecond, 1e6)) * 1000
    return new Promise((resolve, reject) => {
      const settle = (): void => {
        timer.cancel()
        worker.off('message', onMessage)
        worker.off('error', onError)
      }
      const onMessage = (reply: { ok: boolean, result?: CleanedGroups, error?: string }): void => {
        settle()
        if (reply.ok) resolve(reply.result)
        else reject(new Error(reply.error))
      }
      const onError = (error: Error): void => {
        settle()
        // A crashed worker is replaced at the next cleaning.
        if (this.#worker === worker) this.#worker = undefined
        reject(error)
      }
      const timer = this.#clock.setTimer(timeoutMs, () => {
        settle()
        if (this.#worker === worker) this.#worker = undefined
        void worker.terminate()
        reject(new Error(`the cleaner thread took more than ${Math.round(timeoutMs)} ms`))
      })
      worker.on('message', onMessage)
      worker.on('error', onError)
      worker.postMessage(task)
    })
  }

  #start (): Worker {
    const worker = new Worker(new URL('./cleaner-worker.js', import.meta.url),
      { workerData: { ioMaxBytesPerSecond: this.#ioMaxBytesPerSecond } })
    // The broker's shutdown stops it; it must not keep a process alive by itself.
    worker.unref()
    return worker
  }

  async stop (): Promise<void> {
    const worker = this.#worker
    this.#worker = undefined
    await worker?.terminate()
  }
}

/** Paces I/O to a byte rate: after `bytes` in total, waits until they are due. */
class IoThrottle {
  readonly #clock: Clock
  readonly #bytesPerSecond: number
  #startedMs = 0
  #base = 0

  constructor (clock: Clock, bytesPerSecond: number) {
    this.#clock = clock
    this.#bytesPerSecond = bytesPerSecond
  }

  /** Starts a cleaning: counts from zero. */
  reset (): void {
    this.#startedMs = this.#clock.monotonicMs()
    this.#base = 0
  }

  async pace (bytes: number): Promise<void> {
    if (!Number.isFinite(this.#bytesPerSecond) || this.#bytesPerSecond >= Number.MAX_VALUE) {
      return
    }
    const dueMs = this.#startedMs + ((bytes - this.#base) / this.#bytesPerSecond) * 1000
    const waitMs = dueMs - this.#clock.monotonicMs()
    if (waitMs <= 0) return
    await new Promise<void>(resolve => { this.#clock.setTimer(waitMs, resolve) })
  }
}

export class LogCleaner {
  readonly #options: LogCleanerOptions
  readonly #states = new Map<string, CleanerState>()
  readonly #uncleanable = new Set<string>()
  readonly #throttle: IoThrottle
  readonly #thread: CleanerThread | undefined
  readonly stats: CleanerStats = {
    bytesRead: 0, bytesWritten: 0, maxDirtyRatio: 0, lastCleanMs: undefined, errors: 0,
    uncleanable: 0,
  }

  #timer: TimerHandle | undefined
  #running: Promise<unknown> | undefined
  #stopped = false

  constructor (options: LogCleanerOptions) {
    this.#options = options
    this.#throttle = new IoThrottle(options.clock, options.config.ioMaxBytesPerSecond)
    this.#thread = options.useWorker
      ? new CleanerThread(options.config.ioMaxBytesPerSecond, options.clock)
      : undefined
  }

  get enabled (): boolean {
    return this.#options.config.enable && this.#options.config.threads > 0
  }

  /** Reads the checkpoints and starts the background loop (when enabled). */
  async start (): Promise<void> {
    await this.#loadCheckpoints()
    if (this.enabled) this.#schedule(this.#options.config.backoffMs)
  }

  #schedule (delayMs: number): void {
    if (this.#stopped) return
    this.#timer = this.#options.clock.setTimer(delayMs, () => {
      this.#running = this.cleanOnce().catch(() => undefined).then(cleaned => {
        this.#running = undefined
        // Go on at once while there is work; back off when nothing was due.
        this.#schedule(cleaned === undefined ? this.#options.config.backoffMs : 0)
      })
    })
  }

  /** Stops the loop and waits for a cleaning in progress. */
  async stop (): Promise<void> {
    this.#stopped = true
    this.#timer?.cancel()
    await this.#running
    await this.#thread?.stop()
  }

  /** The cleaner's state of a log (tests and the dump tool). */
  stateOf (name: string): CleanerState {
    return this.#states.get(name) ?? { firstDirtyOffset: 0, marks: [] }
  }

  /**
   * The log `name` was cut back to `endOffset` (a follower truncating): what is appended there
   * from now on is dirty, and no tombstone mark may vouch for it (Kafka's
   * LogCleanerManager.maybeTruncateCheckpoint).
   */
  truncated (name: string, endOffset: number): void {
    const state = this.#states.get(name)
    if (state === undefined || state.firstDirtyOffset <= endOffset) return
    this.#states.set(name, {
      firstDirtyOffset: endOffset,
      marks: state.marks.filter(mark => mark.offset <= endOffset),
    })
    void this.#writeCheckpoints().catch((error: unknown) => {
      this.#options.logger.warn(`writing the cleaner checkpoints after truncating ${name} ` +
        `failed: ${String(error)}`)
    })
  }

  isUncleanable (name: string): boolean {
    return this.#uncleanable.has(name)
  }

  /**
   * Cleans the dirtiest log that is due, if any (Kafka's grabFilthiestCompactedLog), and
   * checkpoints. Returns what it did, or undefined when nothing was due.
   */
  async cleanOnce (): Promise<{ log: string, result: CleanResult } | undefined> {
    const nowMs = this.#options.clock.nowMs()
    let filthiest: { log: PartitionLog, ratio: number } | undefined
    let maxRatio = 0
    for (const log of this.#options.logs()) {
      if (this.#uncleanable.has(log.name) || !log.config.cleanupPolicy.includes('compact')) {
        continue
      }
      const range = dirtyRange(log, this.stateOf(log.name), nowMs)
      maxRatio = Math.max(maxRatio, range.ratio)
      if (!needsCleaning(log, range)) continue
      // An overdue log (max.compaction.lag.ms) goes first, as Kafka does.
      const score = range.overdue ? Number.POSITIVE_INFINITY : range.ratio
      if (filthiest === undefined || score > filthiest.ratio) filthiest = { log, ratio: score }
    }
    this.stats.maxDirtyRatio = maxRatio
    if (filthiest === undefined) return undefined
    const { log } = filthiest
    try {
      return { log: log.name, result: await this.#clean(log, nowMs) }
    } catch (error) {
      this.#uncleanable.add(log.name)
      this.stats.errors++
      this.stats.uncleanable = this.#uncleanable.size
      this.#options.logger.warn(`cleaning ${log.name} failed; it is marked uncleanable until ` +
        `restart and still served: ${String(error)}`)
      return undefined
    }
  }

  async #clean (log: PartitionLog, nowMs: number): Promise<CleanResult> {
    const state = this.stateOf(log.name)
    this.#throttle.reset()
    const result = await cleanLog(log, state, {
      disk: this.#options.disk,
      nowMs,
      dedupeBufferBytes: this.#options.config.dedupeBufferBytes,
      throttle: bytes => this.#throttle.pace(bytes),
      ...(this.#thread === undefined
        ? {}
        : { runner: (task: CleanTask) => (this.#thread as CleanerThread).run(task) }),
    })
    if (result === undefined) throw new Error('the dedupe buffer cannot hold one batch')
    this.#states.set(log.name, {
      firstDirtyOffset: result.cleanedTo,
      marks: nextMarks(state.marks, result.cleanedTo, log.config.deleteRetentionMs, nowMs),
    })
    this.stats.bytesRead += result.bytesRead
    this.stats.bytesWritten += result.bytesWritten
    this.stats.lastCleanMs = this.#options.clock.monotonicMs()
    await this.#writeCheckpoints()
    this.#options.logger.info(`cleaned ${log.name} up to offset ${result.cleanedTo}: ` +
      `${result.segmentsBefore} segment(s) into ${result.segmentsAfter}, ${result.bytesRead} ` +
      `bytes read, ${result.bytesWritten} written, ${result.recordsRemoved} records removed ` +
      `(${result.tombstonesRemoved} tombstones)`)
    return result
  }

  async #loadCheckpoints (): Promise<void> {
    const { disk, dataDir } = this.#options
    const offsets = parseCheckpoint(
      (await disk.readOptional(path.join(dataDir, CLEANER_OFFSET_FILE)))?.toString() ?? '')
    const marks = parseMarks(
      (await disk.readOptional(path.join(dataDir, CLEANER_TOMBSTONE_FILE)))?.toString() ?? '')
    for (const [key, offset] of offsets) {
      this.#states.set(nameOf(key), { firstDirtyOffset: offset, marks: marks.get(key) ?? [] })
    }
  }

  async #writeCheckpoints (): Promise<void> {
    const offsets = new Map<string, number>()
    const marks = new Map<string, TombstoneMark[]>()
    const live = new Set([...this.#options.logs()].map(log => log.name))
    for (const [name, state] of this.#states) {
      // A deleted partition's state goes with it (bounded by the partitions that exist).
      if (!live.has(name)) {
        this.#states.delete(name)
        continue
      }
      const key = keyOf(name)
      offsets.set(key, state.firstDirtyOffset)
      marks.set(key, state.marks)
    }
    const { disk, dataDir } = this.#options
    await writeAtomic(disk, path.join(dataDir, CLEANER_OFFSET_FILE), formatCheckpoint(offsets))
    await writeAtomic(disk, path.join(dataDir, CLEANER_TOMBSTONE_FILE), formatMarks(marks))
  }
}

/** `<topic>-<partition>` ↔ the checkpoint key `<topic> <partition>`. */
function keyOf (name: string): string {
  const dash = name.lastIndexOf('-')
  return `${name.slice(0, dash)} ${name.slice(dash + 1)}`
}

function nameOf (key: string): string {
  const space = key.lastIndexOf(' ')
  return `${key.slice(0, space)}-${key.slice(space + 1)}`
}

function formatMarks (marks: Map<string, TombstoneMark[]>): string {
  const lines = ['0', String(marks.size)]
  for (const [key, list] of marks) {
    lines.push(`${key} ${list.map(mark => `${mark.offset}:${mark.timeMs}`).join(',') || '-'}`)
  }
  return lines.join('\n') + '\n'
}

/** A torn or corrupt file reads as empty: tombstones then wait for new marks (kept longer). */
function parseMarks (text: string): Map<string, TombstoneMark[]> {
  const result = new Map<string, TombstoneMark[]>()
  const lines = text.split('\n').filter(line => line !== '')
  if (lines[0] !== '0' || lines.length !== Number(lines[1]) + 2) return result
  for (const line of lines.slice(2)) {
    const parts = line.split(' ')
    if (parts.length !== 3) return new Map()
    const list: TombstoneMark[] = []
    for (const item of parts[2] === '-' ? [] : (parts[2] as string).split(',')) {
      const [offset, timeMs] = item.split(':').map(Number)
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(timeMs)) return new Map()
      list.push({ offset: offset as number, timeMs: timeMs as number })
    }
    result.set(`${parts[0]} ${parts[1]}`, list)
  }
  return result
}
