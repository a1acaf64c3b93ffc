/**
 * The metrics reference of docs/operations.md, rendered from the broker's own registry: it
 * builds one with `createMetrics` (src/metrics/metrics.ts, every metric defined there) and lists
 * what is registered, so the reference cannot name a metric the broker does not export.
 *
 * Two tables: Tributary's own metrics, and the standard process and Node.js metrics that
 * prom-client's collectDefaultMetrics adds. The second differs by platform (prom-client
 * registers the file-descriptor and memory-map metrics on Linux only), so it is checked on
 * Linux only (test/docs/generated-docs.test.ts).
 *
 * No I/O, no timers left running: prom-client's default collectors are pull-based.
 */
import client from 'prom-client'
import { createMetrics } from '../../../src/metrics/metrics.js'
import { cell, code, markdownTable } from './markdown-table.js'

interface MetricRow {
  name: string
  type: string
  labels: readonly string[]
  help: string
}

function rowsOf (registry: client.Registry): MetricRow[] {
  return registry.getMetricsAsArray().map(metric => ({
    name: metric.name,
    type: String(metric.type),
    // prom-client keeps the configured label names on the metric object (not in its types).
    labels: (metric as unknown as { labelNames?: readonly string[] }).labelNames ?? [],
    help: metric.help,
  }))
}

/** Names prom-client's collectDefaultMetrics registers on this platform, without a prefix. */
function defaultMetricNames (): string[] {
  const registry = new client.Registry()
  client.collectDefaultMetrics({ register: registry })
  return registry.getMetricsAsArray().map(metric => metric.name)
}

/** A default metric keeps its standard name, or has a prefix before it (`x_` + name). */
function isDefaultMetric (name: string, defaults: readonly string[]): boolean {
  return defaults.some(standard => name === standard || name.endsWith('_' + standard))
}

function render (rows: readonly MetricRow[]): string {
  const sorted = [...rows].sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  return markdownTable(['Metric', 'Type', 'Labels', 'Help'], sorted.map(row => [
    code(row.name), row.type, row.labels.map(code).join(', '), cell(row.help),
  ]))
}

function brokerMetricRows (): { own: MetricRow[], standard: MetricRow[] } {
  // Per-partition series on, so that the reference lists every metric there can be.
  const metrics = createMetrics({ perPartition: true })
  const defaults = defaultMetricNames()
  const rows = rowsOf(metrics.registry)
  return {
    own: rows.filter(row => !isDefaultMetric(row.name, defaults)),
    standard: rows.filter(row => isDefaultMetric(row.name, defaults)),
  }
}

export function renderBrokerMetrics (): string {
  return render(brokerMetricRows().own)
}

export function renderProcessMetrics (): string {
  return render(brokerMetricRows().standard)
}
