/**
 * What every scenario reports: percentiles and spectra from HdrHistograms, per-second samples,
 * a TTY progress bar, and the summary table.
 */
import hdr from 'hdr-histogram-js'
import { SPECTRUM_PERCENTILES } from './chart.js'

export interface Percentiles {
  p50: number
  p99: number
  p999: number
  max: number
}

export interface Sample {
  second: number
  messages: number
  bytes: number
}

/** Microsecond-resolution histogram up to 60 s. */
export function latencyHistogram (): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000 })
}

export function recordMs (histogram: hdr.Histogram, milliseconds: number, count = 1): void {
  const micros = Math.min(60_000_000, Math.max(1, Math.round(milliseconds * 1000)))
  if (count === 1) histogram.recordValue(micros)
  else histogram.recordValueWithCount(micros, count)
}

export function percentilesMs (histogram: hdr.Histogram): Percentiles {
  const at = (percentile: number): number =>
    Math.round(histogram.getValueAtPercentile(percentile)) / 1000
  return { p50: at(50), p99: at(99), p999: at(99.9), max: histogram.maxValue / 1000 }
}

/** [percentile, ms] pairs for the latency chart. */
export function spectrumMs (histogram: hdr.Histogram): Array<[number, number]> {
  if (histogram.totalCount === 0) return []
  return SPECTRUM_PERCENTILES.map(p => [p, histogram.getValueAtPercentile(p) / 1000])
}

/** Per-second throughput samples taken by a timer while a run goes on. */
export class Sampler {
  readonly samples: Sample[] = []
  #messages = 0
  #bytes = 0
  readonly #timer: NodeJS.Timeout

  constructor (label: string, durationSeconds: number) {
    this.#timer = setInterval(() => {
      this.samples.push({
        second: this.samples.length + 1, messages: this.#messages, bytes: this.#bytes,
      })
      progressBar(label, this.samples.length, durationSeconds,
        `${formatRate(this.#messages)} msg/s ${(this.#bytes / 1e6).toFixed(1)} MB/s`)
      this.#messages = 0
      this.#bytes = 0
    }, 1000)
  }

  add (messages: number, bytes: number): void {
    this.#messages += messages
    this.#bytes += bytes
  }

  stop (): Sample[] {
    clearInterval(this.#timer)
    progressBar('', 0, 0, '')
    return this.samples
  }
}

/** A one-line bar redrawn in place, on a terminal only (CI logs stay clean). */
export function progressBar (label: string, done: number, total: number, detail: string): void {
  if (!process.stdout.isTTY) return
  if (total === 0) {
    process.stdout.write(`\r${' '.repeat(Math.max(0, (process.stdout.columns ?? 80) - 1))}\r`)
    return
  }
  const width = 24
  const filled = Math.min(width, Math.round(done / total * width))
  process.stdout.write(`\r${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ` +
    `${done}/${total}s ${detail}`.slice(0, (process.stdout.columns ?? 80) - 1))
}

/** Milliseconds for a table cell: two decimals below 100, '-' when not measured. */
export function ms (value: number | undefined): string {
  return value === undefined ? '-' : value >= 100 ? value.toFixed(0) : value.toFixed(2)
}

export function formatRate (perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)} M`
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)} k`
  return perSecond.toFixed(0)
}

/** A plain-text table with right-aligned columns after the first. */
export function table (header: string[], rows: string[][]): string {
  const widths = header.map((cell, column) =>
    Math.max(cell.length, ...rows.map(row => (row[column] ?? '').length)))
  const line = (row: string[]): string => row.map((cell, column) => column === 0
    ? cell.padEnd(widths[column] as number)
    : cell.padStart(widths[column] as number)).join('  ')
  return [line(header), widths.map(w => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}
