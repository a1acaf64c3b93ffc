/**
 * The debug latency breakdown (tributary.debug.latency.sample.rate, default 0 = off): for one
 * produced batch in every 1/rate, the broker notes monotonic times at each stage of its way
 * (handler entry, offsets assigned, flush round start, write done, fdatasync done, append
 * resolved in the handler, fetch long polls woken), for fetches the time of each log read, and
 * for Produce answers how long each waited behind earlier answers on its connection.
 * `report()` gives per-stage percentiles over the last traces, beside the broker's event-loop
 * delay, GC pauses and CPU wait over the same window, so a latency tail can be placed in a
 * stage or in a stall (served at GET /debug/latency on the HTTP port).
 *
 * Memory: a ring of at most TRACES_MAX finished traces and rings of READS_MAX read times and
 * answer waits; nothing grows with load. Cost when on: a few `performance.now()` per sampled
 * batch, and one per answer written.
 */
import type { Clock } from '../io/clock.js'
import { ProcessStalls, type StallReport } from '../io/process-stalls.js'
import type { BatchTrace } from '../storage/batch-trace.js'
import { assert } from '../util/assert.js'

export interface ProduceTrace extends BatchTrace {
  /** The produce handler asked to append it (the request was read and decoded). */
  receivedMs: number
  /** The append resolved back in the handler (durable per the flush policy). */
  acknowledgedMs?: number
  /** Fetch long polls woken by it, and when (purgatory.notify returned). */
  woken?: number
  wokenMs?: number
}

export interface StagePercentiles {
  count: number
  p50: number
  p90: number
  p99: number
  max: number
}

export interface LatencyReport {
  sampleRate: number
  traces: number
  /** Share of sampled batches queued while their log's round ran (they wait for the next). */
  waitedForRoundShare: number
  /** Milliseconds per stage, over the traces in the ring. */
  stagesMs: Record<string, StagePercentiles>
  broker: StallReport
}

const TRACES_MAX = 8192
const READS_MAX = 8192

/**
 * Each stage: its name, the timestamps it runs from and to (a trace counts where both are set)
 * and, for some, which traces it covers. Accessor functions, not key names: the report reads
 * every trace once per stage, and a property read through a variable key is many times slower.
 */
interface Stage {
  name: string
  from: (trace: ProduceTrace) => number | undefined
  to: (trace: ProduceTrace) => number | undefined
  covers?: (trace: ProduceTrace) => boolean
}

const STAGES: readonly Stage[] = [
  { name: 'received → appended (validation, admission, roll)',
    from: t => t.receivedMs, to: t => t.appendedMs },
  { name: 'appended → round start (queued before the round)',
    from: t => t.appendedMs, to: t => t.roundStartMs },
  { name: '  of which: its log\'s round was running (waits for the next)',
    from: t => t.appendedMs, to: t => t.roundStartMs, covers: t => t.waitedForRound === true },
  { name: '  of which: no round of its log was running',
    from: t => t.appendedMs, to: t => t.roundStartMs, covers: t => t.waitedForRound !== true },
  { name: 'round start → written (writev)', from: t => t.roundStartMs, to: t => t.writtenMs },
  { name: 'written → synced (other logs\' writes, fdatasync)',
    from: t => t.writtenMs, to: t => t.syncedMs },
  { name: 'synced → acknowledged (back in the handler)',
    from: t => t.syncedMs, to: t => t.acknowledgedMs },
  // Relaxed mode's written → acknowledged only where no fdatasync stood between them.
  { name: 'written → acknowledged (relaxed: no fsync)',
    from: t => t.writtenMs, to: t => t.acknowledgedMs, covers: t => t.syncedMs === undefined },
  { name: 'acknowledged → consumer woken', from: t => t.acknowledgedMs, to: t => t.wokenMs },
  { name: 'received → acknowledged (broker total)',
    from: t => t.receivedMs, to: t => t.acknowledgedMs },
]

/** Not part of a trace: sampled separately, as the connection writes each answer. */
export const ANSWER_WAIT_STAGE =
  'produce answer ready → to the socket (behind earlier answers on its connection)'

export class LatencySampler {
  readonly sampleRate: number
  readonly #every: number
  readonly #clock: Clock
  readonly #traces: ProduceTrace[] = []
  #next = 0
  readonly #reads: number[] = []
  #nextRead = 0
  readonly #answerWaits: number[] = []
  #nextAnswerWait = 0
  #seen = 0
  #seenReads = 0
  #seenAnswers = 0
  readonly #stalls: ProcessStalls

  constructor (sampleRate: number, clock: Clock) {
    assert(sampleRate > 0 && sampleRate <= 1, 'a sampler exists only for a rate in (0, 1]')
    this.sampleRate = sampleRate
    this.#every = Math.max(1, Math.round(1 / sampleRate))
    this.#clock = clock
    this.#stalls = new ProcessStalls().start()
  }

  /** A trace for this batch if it is sampled, else undefined. */
  startProduce (): ProduceTrace | undefined {
    if (this.#seen++ % this.#every !== 0) return undefined
    return { receivedMs: this.#clock.monotonicMs() }
  }

  finishProduce (trace: ProduceTrace, woken: number): void {
    const now = this.#clock.monotonicMs()
    trace.acknowledgedMs ??= now
    trace.woken = woken
    if (woken > 0) trace.wokenMs = now
    this.#traces[this.#next] = trace
    this.#next = (this.#next + 1) % TRACES_MAX
  }

  /** Whether to time this log read (same rate as produce). */
  sampleRead (): boolean {
    return this.#seenReads++ % this.#every === 0
  }

  recordRead (ms: number): void {
    this.#reads[this.#nextRead] = ms
    this.#nextRead = (this.#nextRead + 1) % READS_MAX
  }

  /**
   * A Produce answer handed to its socket `behindEarlierMs` after it was ready: answers leave
   * a connection in request order, so one waits for every earlier one, whatever its partition.
   * Sampled at the same rate as produce traces. An arrow function: the connection's hook.
   */
  readonly recordAnswerWait = (apiName: string, behindEarlierMs: number): void => {
    if (apiName !== 'Produce' || this.#seenAnswers++ % this.#every !== 0) return
    this.#answerWaits[this.#nextAnswerWait] = behindEarlierMs
    this.#nextAnswerWait = (this.#nextAnswerWait + 1) % READS_MAX
  }

  /** Starts a new window: the traces, reads and stall counters so far are dropped. */
  reset (): void {
    this.#traces.length = 0
    this.#next = 0
    this.#reads.length = 0
    this.#nextRead = 0
    this.#answerWaits.length = 0
    this.#nextAnswerWait = 0
    this.#stalls.reset()
  }

  /**
   * The percentiles of each stage over the window. Up to TRACES_MAX traces per stage are sorted
   * (as Float64Arrays, whose numeric sort is native), one stage per event-loop turn: a report
   * must not hold the broker's loop for the tens of milliseconds a full ring once took, as
   * the latency benchmark asks for one while it measures.
   */
  async report (): Promise<LatencyReport> {
    const stagesMs: Record<string, StagePercentiles> = {}
    for (const stage of STAGES) {
      await new Promise(resolve => setImmediate(resolve))
      const values = new Float64Array(this.#traces.length)
      let count = 0
      for (const trace of this.#traces) {
        if (stage.covers !== undefined && !stage.covers(trace)) continue
        const start = stage.from(trace)
        const end = stage.to(trace)
        if (start !== undefined && end !== undefined) values[count++] = end - start
      }
      if (count > 0) stagesMs[stage.name] = percentiles(values.subarray(0, count))
    }
    if (this.#answerWaits.length > 0) {
      stagesMs[ANSWER_WAIT_STAGE] = percentiles(this.#answerWaits)
    }
    if (this.#reads.length > 0) stagesMs['fetch: log read'] = percentiles(this.#reads)
    const waited = this.#traces.filter(trace => trace.waitedForRound === true).length
    return {
      sampleRate: this.sampleRate,
      traces: this.#traces.length,
      waitedForRoundShare: this.#traces.length === 0 ? 0
        : Math.round(1000 * waited / this.#traces.length) / 1000,
      stagesMs,
      broker: await this.#stalls.report(),
    }
  }

  stop (): void {
    this.#stalls.stop()
  }
}

/** Sorts `values` in place (a copy first for a plain array). */
function percentiles (values: Float64Array | readonly number[]): StagePercentiles {
  const sorted = (values instanceof Float64Array ? values : Float64Array.from(values)).sort()
  const at = (q: number): number =>
    round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number)
  return { count: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99),
    max: round(sorted[sorted.length - 1] as number) }
}

function round (value: number): number {
  return Math.round(value * 1000) / 1000
}
