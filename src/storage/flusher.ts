/**
 * The group-commit flusher shared by every partition of a LogManager (TigerStyle: "run at its
 * own pace ... you get to batch"). Appends mark their log dirty; one round writes every dirty
 * log's pending batches and fdatasyncs their files in parallel, then acknowledges them all.
 * Appends that arrive during a round wait for the next, so under load one fsync covers many
 * produce requests across all partitions, and durability costs latency, not throughput.
 *
 * Back-pressure: appended bytes not yet flushed are bounded by `pendingBytesMax` across all
 * logs. An append over the budget waits (FIFO, so offsets stay in call order) until a round
 * releases bytes; rounds always finish, with success or an I/O error, so the wait is bounded
 * by the disk, and the broker's request timeout bounds what the client sees. The wait queue
 * holds at most one entry per in-flight produce request, which the network layer caps.
 *
 * A relaxed-mode timer (flush.ms) also runs rounds so that fsyncs happen without new appends.
 * Concurrency: single-threaded; `#run` is the only loop; a log is in at most one round at a
 * time (and PartitionLog serializes its own `flushRound` too), though rounds of different logs
 * may overlap below the pipelining threshold.
 */
import type { Clock, TimerHandle } from '../io/clock.js'
import { FixedHistogram } from '../metrics/fixed-histogram.js'
import type { FlushTotals } from '../metrics/metrics.js'
import { assert } from '../util/assert.js'

/** Default bound on appended-but-unflushed bytes per LogManager (all partitions). */
export const PENDING_BYTES_MAX = 128 * 1024 * 1024

/**
 * Rounds are pipelined (`#run`) while both the appended-but-unflushed bytes (all logs) when a
 * round starts and the recent bytes per fdatasync are below this; otherwise they coalesce.
 * 32 KiB is two full 16 KiB producer batches. At peak a closed-loop producer keeps its whole
 * window waiting for the disk and each fdatasync covers several batches (about 66 KiB in the
 * benchmark's peak runs); far below peak a round holds one batch or so per log. The average of
 * bytes per fdatasync keeps rounds coalescing through a momentary dip in the queue at peak
 * (with the queue alone, 128 KiB, peak runs split rounds: 3.0-3.4 fdatasyncs per round, not 3.9).
 */
export const PIPELINE_BYTES_MAX = 32 * 1024

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
  readonly #dirty = new Set<FlushTarget>()
  readonly #clock: Clock
  readonly #pendingBytesMax: number
  readonly #admissions: Admission[] = []
  #pendingBytes = 0
  #running: Promise<void> | undefined
  /** Logs whose flush round is running (a log is in at most one round at a time). */
  readonly #inRound = new Set<FlushTarget>()
  /** Wakes the loop while it waits for a round to end (`#run`). */
  #wake: (() => void) | undefined
  readonly #pipelineBytesMax: number
  /** Recent bytes per fdatasync (moving average), for the pipelining rule. */
  #bytesPerSync = 0
  #timer: TimerHandle | undefined
  rounds = 0
  fsyncs = 0
  flushedBytes = 0
  /** Wall time spent in rounds (writes and fdatasyncs), for the flush-time metric. */
  roundMs = 0
  /** Each round's duration, for the flush-round histogram (published at scrape). */
  readonly roundDurations = new FixedHistogram()

  constructor (clock: Clock, pendingBytesMax = PENDING_BYTES_MAX,
    pipelineBytesMax = PIPELINE_BYTES_MAX) {
    assert(pendingBytesMax > 0, 'the pending-bytes budget is positive')
    assert(pipelineBytesMax >= 0, 'the pipelining threshold is not negative')
    this.#clock = clock
    this.#pendingBytesMax = pendingBytesMax
    this.#pipelineBytesMax = pipelineBytesMax
  }

  get pendingBytes (): number {
    return this.#pendingBytes
  }

  markDirty (log: FlushTarget): void {
    this.#dirty.add(log)
    // A loop waiting for a round to end starts one for this log now (pipelined mode only waits
    // there; at peak it waits for whole rounds, and the log joins the next).
    if (!this.#inRound.has(log)) this.#wake?.()
    this.#running ??= this.#run()
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
    // An exponentially weighted average over about the last five fsyncing logs.
    if (files > 0) this.#bytesPerSync += (bytes / files - this.#bytesPerSync) / 5
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
   * The loop. A round takes every dirty log not already in a round. At peak (appended bytes
   * waiting for the disk, or recent bytes per fdatasync, at least `pipelineBytesMax` when a
   * round starts: PIPELINE_BYTES_MAX) the loop waits for
   * the whole round, so appends that arrive meanwhile coalesce into the next one: few large
   * fsyncs, the throughput design. Below that, the disk is not the bottleneck and the loop only
   * waits for the round's writes: a log not in the round then starts its own round at once,
   * and a log still in one starts its next as soon as its own fdatasync returns, instead of
   * after the slowest fdatasync of the round (adaptive pipelining; a log's rounds still never
   * overlap). Kafka has no group commit to compare with; this is the queue-length rule of
   * group-commit databases (commit at once while the log device is idle, batch while busy).
   */
  async #run (): Promise<void> {
    // Let the current burst of appends (this tick's produce requests) join the round.
    await new Promise<void>(resolve => setImmediate(resolve))
    const rounds = new Set<Promise<void>>()
    try {
      for (;;) {
        const ready = [...this.#dirty].filter(log => !this.#inRound.has(log))
        if (ready.length === 0) {
          // Every dirty log is in a round, so a round is running unless nothing is dirty.
          if (rounds.size === 0) return
          await Promise.race([...rounds, new Promise<void>(resolve => { this.#wake = resolve })])
          this.#wake = undefined
          continue
        }
        for (const log of ready) this.#dirty.delete(log)
        const pipelined = this.#pendingBytes < this.#pipelineBytesMax &&
          this.#bytesPerSync < this.#pipelineBytesMax
        const barrier = roundBarrier(ready.length)
        const round = this.#round(ready, barrier)
        rounds.add(round)
        void round.finally(() => rounds.delete(round))
        await (pipelined ? Promise.race([barrier.allWritten, round]) : round)
      }
    } finally {
      this.#wake = undefined
      this.#running = undefined
    }
  }

  /** One round over `logs`: each writes, waits for all to have written, fsyncs, acknowledges. */
  async #round (logs: FlushTarget[], barrier: RoundBarrier): Promise<void> {
    this.rounds++
    const started = this.#clock.monotonicMs()
    for (const log of logs) this.#inRound.add(log)
    await Promise.all(logs.map(async log => {
      try {
        await log.flushRound(barrier)
      } finally {
        this.#inRound.delete(log)
        // Appends that arrived during this log's round: a pipelining loop starts its next now.
        if (this.#dirty.has(log)) this.#wake?.()
      }
    }))
    const elapsedMs = this.#clock.monotonicMs() - started
    this.roundMs += elapsedMs
    this.roundDurations.observe(elapsedMs / 1000)
  }

  /** Periodic rounds for relaxed-mode logs (flush.ms); `logs` is read at each tick. */
  startPeriodic (intervalMs: number, logs: () => Iterable<FlushTarget>): void {
    const tick = (): void => {
      for (const log of logs()) if (log.relaxed) this.markDirty(log)
      this.#timer = this.#clock.setTimer(intervalMs, tick)
    }
    this.#timer = this.#clock.setTimer(intervalMs, tick)
  }

  /** Waits for the round in progress; used by a clean shutdown. */
  async idle (): Promise<void> {
    while (this.#running !== undefined) await this.#running
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
