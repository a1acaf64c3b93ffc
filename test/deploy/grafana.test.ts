/**
 * The Grafana dashboard shipped in deploy/grafana queries only metrics the broker's registry
 * exports (under the names a scrape shows), covers what an operator watches (throughput,
 * request latency, fsync time, consumer lag in records and seconds), and uses the datasource
 * the provisioning defines; docker-compose.yml mounts files that exist and publishes Grafana on
 * port 3000.
 */
import assert from 'node:assert/strict'
import { readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { describe, it } from 'node:test'
import YAML from 'yaml'
import { createMetrics } from '../../src/metrics/metrics.js'
import { REPO_ROOT } from '../support/broker-process.js'

const DASHBOARDS = path.join(REPO_ROOT, 'deploy/grafana/dashboards')
const DASHBOARD = path.join(DASHBOARDS, 'tributary-broker.json')
const METRIC_NAME = /\b((?:tributary|process|nodejs)_[a-z0-9_]+)\b/g

interface Panel { type: string, title: string, datasource?: { uid: string },
  targets?: { expr: string, datasource?: { uid: string } }[] }
interface Dashboard { uid: string, panels: Panel[],
  templating: { list: { query: { query: string } | string, datasource?: { uid: string } }[] } }

async function dashboard (): Promise<Dashboard> {
  return JSON.parse(await readFile(DASHBOARD, 'utf8')) as Dashboard
}

/** Every query in the dashboard: panel targets and template variables. */
function queries (board: Dashboard): string[] {
  return [
    ...board.panels.flatMap(panel => (panel.targets ?? []).map(target => target.expr)),
    ...board.templating.list.map(v => typeof v.query === 'string' ? v.query : v.query.query),
  ]
}

/** The series names a scrape can show: histograms as _bucket, _sum and _count. */
async function exportedNames (): Promise<Set<string>> {
  const metrics = createMetrics({ perPartition: true })
  const names = new Set<string>()
  for (const metric of await metrics.registry.getMetricsAsJSON()) {
    names.add(metric.name)
    if (String(metric.type) === 'histogram' || String(metric.type) === 'summary') {
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix)
    }
  }
  return names
}

async function compose (): Promise<{ services: Record<string, { image?: string,
  volumes?: string[], ports?: string[], environment?: Record<string, string> }> }> {
  return YAML.parse(await readFile(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8'))
}

describe('the Grafana dashboard', () => {
  it('queries only metrics the registry exports', async () => {
    const names = await exportedNames()
    const used = new Set(queries(await dashboard()).flatMap(query =>
      [...query.matchAll(METRIC_NAME)].map(match => match[1] as string)))
    assert.ok(used.size >= 15, `only ${used.size} metrics used`)
    assert.deepEqual([...used].filter(name => !names.has(name)), [])
  })

  it('shows throughput, request latency, fsync time and consumer lag', async () => {
    const all = queries(await dashboard()).join('\n')
    for (const name of ['tributary_topic_messages_in_total', 'tributary_topic_bytes_out_total',
      'tributary_request_duration_seconds_bucket', 'tributary_produce_durable_seconds_bucket',
      'tributary_log_flush_round_seconds_total', 'tributary_consumer_group_lag',
      'tributary_consumer_group_lag_seconds', 'process_resident_memory_bytes']) {
      assert.match(all, new RegExp(`\\b${name}\\b`), `no panel shows ${name}`)
    }
  })

  it('has a Replication row with the health counts, ISR changes, leaders and follower lag',
    async () => {
      const board = await dashboard()
      const titles = board.panels.map(panel => panel.title)
      const row = titles.indexOf('Replication')
      assert.ok(row >= 0, 'no Replication row')
      const replication = board.panels.slice(row + 1)
      const next = replication.findIndex(panel => panel.type === 'row')
      const all = (next < 0 ? replication : replication.slice(0, next))
        .flatMap(panel => (panel.targets ?? []).map(target => target.expr)).join('\n')
      for (const name of ['tributary_under_replicated_partitions',
        'tributary_under_min_isr_partitions', 'tributary_offline_partitions',
        'tributary_isr_shrinks_total', 'tributary_isr_expands_total',
        'tributary_partition_leaders', 'tributary_replica_lag_records',
        'tributary_replica_lag_seconds', 'tributary_unclean_leader_elections_total']) {
        assert.match(all, new RegExp(`\\b${name}\\b`), `the Replication row lacks ${name}`)
      }
      assert.ok(titles.includes('Offline partitions (must be 0)'))
    })

  it('uses the provisioned datasource in every panel and variable', async () => {
    const provisioned = YAML.parse(await readFile(path.join(REPO_ROOT,
      'deploy/grafana/provisioning/datasources/prometheus.yml'), 'utf8')) as
      { datasources: { uid: string, type: string }[] }
    const uids = new Set(provisioned.datasources.map(source => source.uid))
    const board = await dashboard()
    for (const panel of board.panels.filter(p => p.type !== 'row')) {
      assert.ok(uids.has(panel.datasource?.uid ?? ''), `panel ${panel.title}`)
      for (const target of panel.targets ?? []) assert.ok(uids.has(target.datasource?.uid ?? ''))
    }
    for (const variable of board.templating.list) {
      assert.ok(uids.has(variable.datasource?.uid ?? ''))
    }
  })
})

describe('docker-compose.yml', () => {
  it('mounts only files and directories that exist in the repository', async () => {
    const { services } = await compose()
    let mounts = 0
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0] as string
        if (!source.startsWith('.')) continue // a named volume
        mounts++
        assert.ok(await stat(path.join(REPO_ROOT, source)).catch(() => undefined),
          `${name} mounts ${source}, which does not exist`)
      }
    }
    assert.ok(mounts >= 3)
  })

  it('runs Grafana on port 3000, provisioned from deploy/grafana', async () => {
    const { services } = await compose()
    const grafana = services.grafana
    assert.ok(grafana !== undefined)
    assert.match(grafana.image ?? '', /^grafana\/grafana:\d/)
    assert.ok((grafana.ports ?? []).includes('3000:3000'))
    const mounts = new Map((grafana.volumes ?? []).map(volume => {
      const [source, target] = volume.split(':') as [string, string]
      return [target, source]
    }))
    assert.equal(mounts.get('/etc/grafana/provisioning'), './deploy/grafana/provisioning')
    // The dashboard provider reads a container path that is the mounted dashboards directory.
    const provider = YAML.parse(await readFile(path.join(REPO_ROOT,
      'deploy/grafana/provisioning/dashboards/tributary.yml'), 'utf8')) as
      { providers: { options: { path: string } }[] }
    const providerPath = provider.providers[0]?.options.path ?? ''
    assert.equal(mounts.get(providerPath), './deploy/grafana/dashboards')
    const home = grafana.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH ?? ''
    assert.equal(path.posix.dirname(home), providerPath)
    await stat(path.join(DASHBOARDS, path.posix.basename(home)))
  })

  it('has Prometheus scrape the broker service on its HTTP port', async () => {
    const { services } = await compose()
    const prometheus = YAML.parse(await readFile(path.join(REPO_ROOT, 'deploy/prometheus.yml'),
      'utf8')) as { scrape_configs: { static_configs: { targets: string[] }[] }[] }
    const targets = prometheus.scrape_configs.flatMap(c => c.static_configs)
      .flatMap(c => c.targets)
    for (const target of targets) {
      const [host, port] = target.split(':')
      assert.ok(services[host as string] !== undefined, `no service ${host}`)
      assert.equal(port, '8080')
    }
    const datasource = YAML.parse(await readFile(path.join(REPO_ROOT,
      'deploy/grafana/provisioning/datasources/prometheus.yml'), 'utf8')) as
      { datasources: { url: string }[] }
    assert.equal(new URL(datasource.datasources[0]?.url ?? '').hostname, 'prometheus')
    assert.ok(services.prometheus !== undefined)
  })
})
