/**
 * What a process loses while it runs: event-loop delay (perf_hooks' monitorEventLoopDelay: how
 * late the loop ran a timer, i.e. how long a ready request could not run), garbage-collection
 * pauses (a PerformanceObserver on 'gc' entries, by kind) and, on Linux, how long its main
 * thread was runnable but waiting for a CPU (the scheduler's run delay in
 * /proc/<pid>/task/<pid>/schedstat), which the other two do not see as such. Both the broker
 * (debug latency report) and the load generator use it, so that a latency tail can be blamed
 * on the process that stalled, or on the two competing for the same cores.
 *
 * Cost: one libuv timer every `resolutionMs`, one callback per GC and a read of a /proc file per
 * window; nothing while stopped.
 * Memory: fixed (one HdrHistogram inside Node, four counters per GC kind).
 */
import { readFile } from 'node:fs/promises'
import { constants, monitorEventLoopDelay, PerformanceObserver, type IntervalHistogram }
  from 'node:perf_hooks'

export interface GcPauses {
  count: number
  totalMs: number
  maxMs: number
}

export interface StallReport {
  /** Over the window: how late the event loop ran a `resolutionMs` timer, in ms. */
  eventLoopDelayMs: { p50: number, p99: number, max: number, mean: number }
  /** GC pauses by kind (minor = scavenge, major = mark-compact, incremental, weakcb). */
  gc: Record<string, GcPauses>
  /**
   * Linux: the main thread's time on a CPU and its time runnable but waiting for one, over the
   * window, in ms (absent where the scheduler's counters are not readable).
   */
  mainThread?: { onCpuMs: number, waitingForCpuMs: number }
  windowMs: number
}

/**
 * The main thread's scheduler counters (ns), or undefined off Linux. By its task id (the
 * process id): readFile runs on a libuv pool thread, whose own counters thread-self would give.
 */
async function schedulerTimes (): Promise<{ onCpuNs: number, waitingNs: number } | undefined> {
  try {
    const file = `/proc/${process.pid}/task/${process.pid}/schedstat`
    const [onCpu, waiting] = (await readFile(file, 'utf8'))
      .split(' ').map(Number)
    if (!Number.isFinite(onCpu) || !Number.isFinite(waiting)) return undefined
    return { onCpuNs: onCpu as number, waitingNs: waiting as number }
  } catch {
    return undefined
  }
}

const GC_KINDS: ReadonlyMap<number, string> = new Map([
  [constants.NODE_PERFORMANCE_GC_MINOR, 'minor'],
  [constants.NODE_PERFORMANCE_GC_MAJOR, 'major'],
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental'],
  [constants.NODE_PERFORMANCE_GC_WEAKCB, 'weakcb'],
])

/** A 1 ms timer would itself add a thousand wake-ups a second; 5 ms still shows 10 ms stalls. */
const DEFAULT_RESOLUTION_MS = 5

export class ProcessStalls {
  readonly #delay: IntervalHistogram
  readonly #resolutionMs: number
  readonly #observer: PerformanceObserver
  #gc = new Map<string, GcPauses>()
  #windowStartMs = performance.now()
  #schedulerAtStart: Promise<{ onCpuNs: number, waitingNs: number } | undefined> =
    Promise.resolve(undefined)

  constructor (resolutionMs = DEFAULT_RESOLUTION_MS) {
    this.#resolutionMs = resolutionMs
    this.#delay = monitorEventLoopDelay({ resolution: resolutionMs })
    this.#observer = new PerformanceObserver(list => {
      for (const entry of list.getEntries()) {
        const detail = (entry as unknown as { detail?: { kind?: number } }).detail
        const kind = GC_KINDS.get(detail?.kind ?? -1) ?? 'other'
        let pauses = this.#gc.get(kind)
        if (pauses === undefined) {
          pauses = { count: 0, totalMs: 0, maxMs: 0 }
          this.#gc.set(kind, pauses)
        }
        pauses.count++
        pauses.totalMs += entry.duration
        pauses.maxMs = Math.max(pauses.maxMs, entry.duration)
      }
    })
  }

  start (): this {
    this.#delay.enable()
    this.#observer.observe({ entryTypes: ['gc'] })
    this.reset()
    return this
  }

  /** Starts a new window (the measured part of a run). */
  reset (): void {
    this.#delay.reset()
    this.#gc = new Map()
    this.#windowStartMs = performance.now()
    this.#schedulerAtStart = schedulerTimes()
  }

  async report (): Promise<StallReport> {
    const windowMs = Math.round(performance.now() - this.#windowStartMs)
    // Node records each whole interval between the timer's runs (resolution included).
    const ns = (value: number): number =>
      Math.max(0, Math.round((value / 1e6 - this.#resolutionMs) * 100) / 100)
    const count = this.#delay.count
    const eventLoopDelayMs = count === 0 ? { p50: 0, p99: 0, max: 0, mean: 0 } : {
      p50: ns(this.#delay.percentile(50)), p99: ns(this.#delay.percentile(99)),
      max: ns(this.#delay.max), mean: ns(this.#delay.mean),
    }
    const gc = Object.fromEntries([...this.#gc].map(([kind, pauses]) => [kind, {
      count: pauses.count, totalMs: round(pauses.totalMs), maxMs: round(pauses.maxMs),
    }]))
    const [start, end] = await Promise.all([this.#schedulerAtStart, schedulerTimes()])
    return {
      eventLoopDelayMs,
      gc,
      ...(start === undefined || end === undefined ? {} : { mainThread: {
        onCpuMs: round((end.onCpuNs - start.onCpuNs) / 1e6),
        waitingForCpuMs: round((end.waitingNs - start.waitingNs) / 1e6),
      } }),
      windowMs,
    }
  }

  stop (): void {
    this.#delay.disable()
    this.#observer.disconnect()
  }
}

function round (value: number): number {
  return Math.round(value * 100) / 100
}
