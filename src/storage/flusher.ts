/**
 * The group-commit flusher shared by every partition of a LogManager (TigerStyle: "run at its
 * own pace ... you get to batch"). Appends mark their log dirty; a round writes the pending
 * batches of every log dirtied in the same event-loop turn, then fdatasyncs their files in
 * parallel, and each log acknowledges as its own fdatasync returns. Appends that arrive during
 * their log's round wait for its next, so under load one fsync covers many produce requests,
 * and durability costs latency, not throughput. Logs idle when dirtied start at once, without
 * waiting for rounds of other logs.
 *
 * Back-pressure: appended bytes not yet flushed are bounded by `pendingBytesMax` across all
 * logs. An append over the budget waits (FIFO, so offsets stay in call order) until a round
 * releases bytes; rounds always finish, with success or an I/O error, so the wait is bounded
 * by the disk, and the broker's request timeout bounds what the client sees. The wait queue
 * holds at most one entry per in-flight produce request, which the network layer caps.
 *
 * A relaxed-mode timer (flush.ms) also runs rounds so that fsyncs happen without new appends.
 * Concurrency: single-threaded; rounds of different logs may overlap, a log's never do (it is
 * in one round at a time here, and PartitionLog serializes its own `flushRound` as well).
 */
import type { Clock, TimerHandle } from '../io/clock.js'
import { FixedHistogram } from '../metrics/fixed-histogram.js'
import type { FlushTotals } from '../metrics/metrics.js'
import { assert } from '../util/assert.js'

/** Default bound on appended-but-unflushed bytes per LogManager (all partitions). */
export const PENDING_BYTES_MAX = 128 * 1024 * 1024

/**
 * Splits a round into two phases across all logs: every log reports `written()` exactly once
 * (after writing, or on any early exit) and waits for `allWritten` before it fsyncs. On ext4 an
 * fdatasync commits the journal and stalls writers of other files; writing everything first,
 * then fsyncing in parallel, measured 1.5-2x faster with large batches.
 */
export interface RoundBarrier {
  written (): void
  readonly allWritten: Promise<void>
}

export const NO_BARRIER: RoundBarrier = { written: () => undefined, allWritten: Promise.resolve() }

export interface FlushTarget {
  flushRound (barrier?: RoundBarrier): Promise<void>
  readonly relaxed: boolean
}

export interface Flusher {
  markDirty (log: FlushTarget): void
  /** Reserves `bytes` of the budget; a promise when the caller must wait for room. */
  admit (bytes: number): Promise<void> | undefined
  /** Returns bytes reserved by `admit` once flushed (or never queued). */
  release (bytes: number): void
  /** Counts one log's fsync round: `files` fdatasyncs covering `bytes` written since its last. */
  recordFlush (bytes: number, files: number): void
}

interface Admission {
  bytes: number
  resolve: () => void
}

export class GroupCommitFlusher implements Flusher {
  /** Logs dirtied while idle, waiting for the next round to start (this tick's burst). */
  readonly #forming = new Set<FlushTarget>()
  /** Logs in a round now; a log is never in two. */
  readonly #inRound = new Set<FlushTarget>()
  /** Logs dirtied during their own round. */
  readonly #again = new Set<FlushTarget>()
  /** Logs of `#again` whose part ended, each with the rounds it waits for (those then running). */
  readonly #held = new Map<FlushTarget, Set<Promise<void>>>()
  /** Rounds in progress. */
  readonly #rounds = new Set<Promise<void>>()
  readonly #clock: Clock
  readonly #pendingBytesMax: number
  readonly #admissions: Admission[] = []
  #pendingBytes = 0
  #starting: Promise<void> | undefined
  #timer: TimerHandle | undefined
  rounds = 0
  fsyncs = 0
  flushedBytes = 0
  /** Wall time spent in rounds (writes and fdatasyncs), for the flush-time metric. */
  roundMs = 0
  /** Each round's duration, for the flush-round histogram (published at scrape). */
  readonly roundDurations = new FixedHistogram()

  constructor (clock: Clock, pendingBytesMax = PENDING_BYTES_MAX) {
    assert(pendingBytesMax > 0, 'the pending-bytes budget is positive')
    this.#clock = clock
    this.#pendingBytesMax = pendingBytesMax
  }

  get pendingBytes (): number {
    return this.#pendingBytes
  }

  markDirty (log: FlushTarget): void {
    if (this.#inRound.has(log)) {
      this.#again.add(log)
      return
    }
    if (this.#held.has(log)) return
    this.#forming.add(log)
    this.#starting ??= this.#startRound()
  }

  admit (bytes: number): Promise<void> | undefined {
    if (this.#admissions.length === 0 && this.#fits(bytes)) {
      this.#pendingBytes += bytes
      return undefined
    }
    return new Promise(resolve => { this.#admissions.push({ bytes, resolve }) })
  }

  release (bytes: number): void {
    this.#pendingBytes -= bytes
    assert(this.#pendingBytes >= 0, 'released no more than was admitted')
    for (;;) {
      const next = this.#admissions[0]
      if (next === undefined || !this.#fits(next.bytes)) return
      this.#admissions.shift()
      this.#pendingBytes += next.bytes
      next.resolve()
    }
  }

  recordFlush (bytes: number, files: number): void {
    this.fsyncs += files
    this.flushedBytes += bytes
  }

  /** Totals since start-up, in the shape the metrics export (Kafka's LogFlushStats). */
  get stats (): FlushTotals {
    return { rounds: this.rounds, fsyncs: this.fsyncs, bytes: this.flushedBytes,
      roundSeconds: this.roundMs / 1000, roundDurations: this.roundDurations }
  }

  /** A batch larger than the whole budget still goes through, alone. */
  #fits (bytes: number): boolean {
    return this.#pendingBytes === 0 || this.#pendingBytes + bytes <= this.#pendingBytesMax
  }

  /**
   * Starts a round of every log dirtied while idle since the last start, one event-loop turn
   * later so the current burst of appends (this tick's produce requests) joins it.
   *
   * A log idle when dirtied does not wait for rounds of other logs: its batch pays its own
   * write and fdatasync only (issue #18 measured the wait for other logs' rounds as the largest
   * stage of the tail at low load). A log dirtied during its own round is under load: it is held
   * until every round in progress as its own part ends has ended, and then starts at once (no
   * turn in between, the disk would idle) with the others released by the same round. So at
   * peak all logs go round by round together, writes of one round never land during another's
   * fdatasyncs, and one fdatasync wave covers many requests.
   */
  async #startRound (): Promise<void> {
    await new Promise<void>(resolve => setImmediate(resolve))
    this.#starting = undefined
    this.#launch()
  }

  /** Runs one round of the `#forming` logs. */
  #launch (): void {
    const logs = [...this.#forming]
    this.#forming.clear()
    if (logs.length === 0) return
    const barrier = roundBarrier(logs.length)
    this.rounds++
    const started = this.#clock.monotonicMs()
    // `round` is read in the callback, which runs after this statement has assigned it.
    const round: Promise<void> = Promise.allSettled(
      logs.map(log => this.#flushLog(log, barrier))).then(() => {
      const elapsedMs = this.#clock.monotonicMs() - started
      this.roundMs += elapsedMs
      this.roundDurations.observe(elapsedMs / 1000)
      this.#rounds.delete(round)
      this.#release(round)
    })
    this.#rounds.add(round)
  }

  /** One log's part of a round; `flushRound` settles I/O errors itself and never rejects. */
  async #flushLog (log: FlushTarget, barrier: RoundBarrier): Promise<void> {
    assert(!this.#inRound.has(log), 'a log is in one round at a time')
    this.#inRound.add(log)
    try {
      await log.flushRound(barrier)
    } finally {
      this.#inRound.delete(log)
      // Its own round is among those in progress: it ends only after this part has.
      if (this.#again.delete(log)) this.#held.set(log, new Set(this.#rounds))
    }
  }

  /** `round` ended: logs that waited for no other round start together, now. */
  #release (round: Promise<void>): void {
    for (const [log, awaited] of this.#held) {
      awaited.delete(round)
      if (awaited.size > 0) continue
      this.#held.delete(log)
      this.#forming.add(log)
    }
    // Logs dirtied while idle in this turn (waiting for `#startRound`) join them.
    if (this.#forming.size > 0) this.#launch()
  }

  /** Periodic rounds for relaxed-mode logs (flush.ms); `logs` is read at each tick. */
  startPeriodic (intervalMs: number, logs: () => Iterable<FlushTarget>): void {
    const tick = (): void => {
      for (const log of logs()) if (log.relaxed) this.markDirty(log)
      this.#timer = this.#clock.setTimer(intervalMs, tick)
    }
    this.#timer = this.#clock.setTimer(intervalMs, tick)
  }

  /** Waits until no round is starting or in progress; used by a clean shutdown. */
  async idle (): Promise<void> {
    while (this.#starting !== undefined || this.#rounds.size > 0) {
      await (this.#starting ?? Promise.allSettled(this.#rounds))
    }
    // A held log waits only for rounds in progress, and the last of them to end starts it
    // (`#release`, before that round settles): none is left once no round runs.
    assert(this.#held.size === 0, 'no log is held once every round has ended')
  }

  stop (): void {
    this.#timer?.cancel()
  }
}

function roundBarrier (count: number): RoundBarrier {
  let remaining = count
  let release: () => void = () => undefined
  const allWritten = new Promise<void>(resolve => { release = resolve })
  return {
    written: () => {
      remaining--
      assert(remaining >= 0, 'each log reports its write phase once per round')
      if (remaining === 0) release()
    },
    allWritten,
  }
}
