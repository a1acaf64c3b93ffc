/**
 * SVG charts for benchmark results, with no dependency: throughput over time, and latency
 * distributions drawn as HdrHistogram draws them (latency against percentile, with the
 * percentile axis stretched as 1 / (1 - p) so the tail from p90 to p99.99 gets most of the
 * width).
 */

export interface Series {
  label: string
  points: Array<[number, number]>
}

const WIDTH = 720
const HEIGHT = 320
const MARGIN = { left: 64, right: 16, top: 32, bottom: 44 }
const COLOURS = ['#1f6feb', '#d73a49', '#2da44e', '#bf8700', '#8250df', '#57606a', '#e16f24']

function escape (text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

function niceStep (range: number, ticks: number): number {
  const raw = range / ticks
  const magnitude = 10 ** Math.floor(Math.log10(raw))
  for (const step of [1, 2, 2.5, 5, 10]) if (raw <= step * magnitude) return step * magnitude
  return 10 * magnitude
}

interface Axis {
  toX: (x: number) => number
  toY: (y: number) => number
  xTicks: Array<{ at: number, label: string }>
  yTicks: Array<{ at: number, label: string }>
}

function render (title: string, xLabel: string, yLabel: string, series: Series[],
  axis: Axis): string {
  const plotBottom = HEIGHT - MARGIN.bottom
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" ` +
      'font-family="sans-serif" font-size="11">',
    '<rect width="100%" height="100%" fill="white"/>',
    `<text x="${MARGIN.left}" y="18" font-size="13">${escape(title)}</text>`,
  ]
  for (const tick of axis.yTicks) {
    const y = axis.toY(tick.at).toFixed(1)
    parts.push(`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y}" y2="${y}" ` +
      'stroke="#e1e4e8"/>',
    `<text x="${MARGIN.left - 6}" y="${y}" text-anchor="end" dy="4">${tick.label}</text>`)
  }
  for (const tick of axis.xTicks) {
    const x = axis.toX(tick.at).toFixed(1)
    parts.push(`<line x1="${x}" x2="${x}" y1="${MARGIN.top}" y2="${plotBottom}" ` +
      'stroke="#f0f2f4"/>',
    `<text x="${x}" y="${plotBottom + 16}" text-anchor="middle">${tick.label}</text>`)
  }
  parts.push(`<text x="${(MARGIN.left + WIDTH - MARGIN.right) / 2}" y="${HEIGHT - 8}" ` +
    `text-anchor="middle">${escape(xLabel)}</text>`,
  `<text transform="translate(14 ${(MARGIN.top + plotBottom) / 2}) rotate(-90)" ` +
    `text-anchor="middle">${escape(yLabel)}</text>`)
  series.forEach((line, index) => {
    const colour = COLOURS[index % COLOURS.length] as string
    const points = line.points
      .map(([x, y]) => `${axis.toX(x).toFixed(1)},${axis.toY(y).toFixed(1)}`).join(' ')
    parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="2" points="${points}"/>`)
    if (series.length > 1) {
      const y = MARGIN.top + 8 + index * 14
      parts.push(`<line x1="${MARGIN.left + 10}" x2="${MARGIN.left + 28}" y1="${y}" y2="${y}" ` +
        `stroke="${colour}" stroke-width="2"/>`,
      `<text x="${MARGIN.left + 32}" y="${y + 4}">${escape(line.label)}</text>`)
    }
  })
  parts.push('</svg>', '')
  return parts.join('\n')
}

function linearTicks (max: number, format: (v: number) => string): Array<{ at: number,
  label: string }> {
  const step = niceStep(max, 5)
  const ticks = []
  for (let at = 0; at <= max + step / 1000; at += step) ticks.push({ at, label: format(at) })
  return ticks
}

/** Throughput (messages/s) against elapsed seconds, one line per series. */
export function throughputChart (title: string, series: Series[]): string {
  const xMax = Math.max(1, ...series.flatMap(s => s.points.map(([x]) => x)))
  const yMax = Math.max(1, ...series.flatMap(s => s.points.map(([, y]) => y))) * 1.1
  const width = WIDTH - MARGIN.left - MARGIN.right
  const height = HEIGHT - MARGIN.top - MARGIN.bottom
  const millions = yMax >= 2e6
  return render(title, 'elapsed (s)', millions ? 'M messages/s' : 'k messages/s', series, {
    toX: x => MARGIN.left + x / xMax * width,
    toY: y => MARGIN.top + height - y / yMax * height,
    xTicks: linearTicks(xMax, v => String(Math.round(v))),
    yTicks: linearTicks(yMax, v => millions ? (v / 1e6).toFixed(1) : String(Math.round(v / 1e3))),
  })
}

/** The percentiles a latency distribution is sampled at (HdrHistogram's spectrum, shortened). */
export const SPECTRUM_PERCENTILES = [
  0, 10, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90, 92.5, 95, 96, 97, 97.5, 98, 98.5, 99, 99.25,
  99.5, 99.75, 99.9, 99.95, 99.99, 99.999, 100,
]

/**
 * Latency (ms) against percentile; each series' points are [percentile, latencyMs]. The x axis
 * is log10(1 / (1 - p/100)), capped at the 99.999th percentile.
 */
export function latencyChart (title: string, series: Series[]): string {
  const stretch = (percentile: number): number =>
    Math.log10(1 / (1 - Math.min(percentile, 99.999) / 100))
  const xMax = stretch(99.999)
  const yMax = Math.max(1, ...series.flatMap(s => s.points.map(([, y]) => y))) * 1.1
  const width = WIDTH - MARGIN.left - MARGIN.right
  const height = HEIGHT - MARGIN.top - MARGIN.bottom
  const xTicks = [0, 90, 99, 99.9, 99.99, 99.999].map(p => ({ at: p, label: `${p}%` }))
  return render(title, 'percentile', 'latency (ms)', series, {
    toX: p => MARGIN.left + stretch(p) / xMax * width,
    toY: y => MARGIN.top + height - y / yMax * height,
    xTicks,
    yTicks: linearTicks(yMax, v => v >= 10 ? String(Math.round(v)) : v.toFixed(1)),
  })
}
