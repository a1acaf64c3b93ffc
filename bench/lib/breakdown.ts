/**
 * The latency breakdown printed beside a latency table: where a sampled batch's time went at
 * the broker (its debug report), and how long each process stalled (event-loop delay and GC
 * pauses of the broker and of the generator over the same measured window), so that a tail is
 * blamed on the stage or the process that caused it.
 */
import type { StallReport } from '../../src/io/process-stalls.js'
import type { RateRunResult } from './rate-run.js'
import { ms, table } from './report.js'

function gc (report: StallReport | undefined): string {
  if (report === undefined) return '-'
  const parts = Object.entries(report.gc).map(([kind, pauses]) =>
    `${kind} ${pauses.count}× (max ${ms(pauses.maxMs)})`)
  return parts.length === 0 ? 'none' : parts.join(', ')
}

/** A main thread's time on a CPU / runnable but waiting for one, over the window. */
function cpuWait (report: StallReport | undefined): string {
  const main = report?.mainThread
  return main === undefined ? '-'
    : `${main.onCpuMs.toFixed(0)} / ${main.waitingForCpuMs.toFixed(0)}`
}

/**
 * One row per run: event-loop delay p99/max, GC pauses and the main thread's CPU time and wait
 * for a CPU, broker and generator, and the whole machine's busy and stolen CPU shares.
 */
export function stallTable (runs: ReadonlyArray<{ label: string, run: RateRunResult }>): string {
  return table(['run', 'broker loop p99/max ms', 'broker GC',
    'broker main thread on CPU / waiting for CPU ms', 'generator loop p99/max ms',
    'generator GC', 'generator on CPU / waiting ms', 'generator schedule lag max ms',
    'generator CPU s', 'machine busy / steal %'],
  runs.map(({ label, run }) => {
    const broker = run.broker?.broker
    return [label,
      broker === undefined ? '-'
        : `${ms(broker.eventLoopDelayMs.p99)} / ${ms(broker.eventLoopDelayMs.max)}`,
      gc(broker),
      cpuWait(broker),
      run.generator === undefined ? '- (no event loop)'
        : `${ms(run.generator.eventLoopDelayMs.p99)} / ${ms(run.generator.eventLoopDelayMs.max)}`,
      run.goGc === undefined ? gc(run.generator)
        : `go ${run.goGc.count}× (max ${ms(run.goGc.maxMs)})`,
      cpuWait(run.generator),
      ms(run.maxScheduleLagMs),
      run.generatorCpuSeconds === undefined ? '-' : run.generatorCpuSeconds.toFixed(2),
      run.machine === undefined ? '-'
        : `${run.machine.busyPercent.toFixed(0)} / ${run.machine.stealPercent.toFixed(1)}`]
  }))
}

/** The broker's per-stage percentiles for one run, with the client's view beside its total. */
export function stageTable (run: RateRunResult): string {
  const report = run.broker
  if (report === undefined) return 'no broker breakdown'
  const rows = Object.entries(report.stagesMs).map(([stage, p]) =>
    [stage, String(p.count), ms(p.p50), ms(p.p90), ms(p.p99), ms(p.max)])
  rows.push(['client: send → acknowledgement (produce latency)', '', ms(run.produceLatencyMs.p50),
    '', ms(run.produceLatencyMs.p99), ms(run.produceLatencyMs.max)])
  if (run.produceRequestMs !== undefined) {
    rows.push(['client: produce request written → answered (per request)', '',
      ms(run.produceRequestMs.p50), '', ms(run.produceRequestMs.p99), ms(run.produceRequestMs.max)])
  }
  if (run.endToEndLatencyMs !== undefined) {
    rows.push(['client: send → consumer (end to end)', '', ms(run.endToEndLatencyMs.p50), '',
      ms(run.endToEndLatencyMs.p99), ms(run.endToEndLatencyMs.max)])
  }
  return `broker stages of sampled batches (1 in ${Math.round(1 / report.sampleRate)}; ` +
    `${Math.round(report.waitedForRoundShare * 100)} % queued while their log's round ran)\n` +
    table(['stage', 'n', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'], rows)
}
