/**
 * What a process loses to itself while it runs: event-loop delay (perf_hooks'
 * monitorEventLoopDelay: how late the loop ran a timer, i.e. how long a ready request could not
 * run) and garbage-collection pauses (a PerformanceObserver on 'gc' entries, by kind). Both the
 * broker (debug latency report) and the load generator use it, so that a latency tail can be
 * blamed on the process that stalled.
 *
 * Cost: one libuv timer every `resolutionMs` and one callback per GC; nothing while stopped.
 * Memory: fixed (one HdrHistogram inside Node, four counters per GC kind).
 */
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
  windowMs: number
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
  }

  report (): StallReport {
    // Node records each whole interval between the timer's runs (resolution included).
    const ns = (value: number): number =>
      Math.max(0, Math.round((value / 1e6 - this.#resolutionMs) * 100) / 100)
    const count = this.#delay.count
    return {
      eventLoopDelayMs: count === 0 ? { p50: 0, p99: 0, max: 0, mean: 0 } : {
        p50: ns(this.#delay.percentile(50)), p99: ns(this.#delay.percentile(99)),
        max: ns(this.#delay.max), mean: ns(this.#delay.mean),
      },
      gc: Object.fromEntries([...this.#gc].map(([kind, pauses]) => [kind, {
        count: pauses.count, totalMs: round(pauses.totalMs), maxMs: round(pauses.maxMs),
      }])),
      windowMs: Math.round(performance.now() - this.#windowStartMs),
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
