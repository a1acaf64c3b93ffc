/** The metrics registry: names, per-partition switch, isolation between brokers. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { FixedHistogram } from '../../src/metrics/fixed-histogram.js'
import { createMetrics } from '../../src/metrics/metrics.js'

function feed (metrics: ReturnType<typeof createMetrics>): void {
  metrics.setPartitionProvider(() => [
    { topic: 'orders', partition: 0, logEndOffset: 10, sizeBytes: 1000 },
    { topic: 'orders', partition: 1, logEndOffset: 5, sizeBytes: 500 },
  ])
  metrics.setGroupLagProvider(() => [
    { group: 'billing', topic: 'orders', partition: 0, lag: 4, lagSeconds: 2.5 },
    { group: 'billing', topic: 'orders', partition: 1, lag: 3, lagSeconds: 7 },
  ])
  metrics.recordProduce('orders', 3, 300, 0.002)
  metrics.recordFetch('orders', 200, 2)
  metrics.recordRequest('Produce', 0.001, false)
  metrics.recordRequest('Fetch', 0.5, true)
  metrics.recordHttpRequest('POST', '/api/v1/topics/:topic/records', 200, 0.01)
  metrics.setConnections(2)
}

describe('createMetrics', () => {
  it('renders every issue #4 series in Prometheus text with tributary_ names', async () => {
    const metrics = createMetrics({ perPartition: true })
    feed(metrics)
    const text = await metrics.registry.metrics()
    const expected = [
      'tributary_topic_bytes_in_total{topic="orders"} 300',
      'tributary_topic_messages_in_total{topic="orders"} 3',
      'tributary_topic_bytes_out_total{topic="orders"} 200',
      'tributary_topic_messages_out_total{topic="orders"} 2',
      'tributary_requests_total{api="Produce",outcome="ok"} 1',
      'tributary_requests_total{api="Fetch",outcome="error"} 1',
      'tributary_request_duration_seconds_count{api="Fetch"} 1',
      'tributary_http_requests_total{method="POST",route="/api/v1/topics/:topic/records",' +
        'status="200"} 1',
      'tributary_http_request_duration_seconds_count{method="POST",' +
        'route="/api/v1/topics/:topic/records",status="200"} 1',
      'tributary_produce_durable_seconds_count 1',
      'tributary_produce_durable_seconds_bucket{le="0.002"} 1',
      'tributary_connections_active 2',
      'tributary_partitions 2',
      'tributary_topic_size_bytes{topic="orders"} 1500',
      'tributary_partition_log_end_offset{topic="orders",partition="1"} 5',
      'tributary_partition_size_bytes{topic="orders",partition="0"} 1000',
      'tributary_consumer_group_lag{group="billing",topic="orders"} 7',
      'tributary_consumer_group_lag_seconds{group="billing",topic="orders"} 7',
      'tributary_consumer_group_partition_lag{group="billing",topic="orders",partition="0"} 4',
      'tributary_consumer_group_partition_lag_seconds{group="billing",topic="orders",' +
        'partition="0"} 2.5',
    ]
    const lines = new Set(text.split('\n'))
    for (const line of expected) assert.ok(lines.has(line), `missing: ${line}`)
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#')) continue
      assert.match(line, /^(tributary|process|nodejs)_/, `unexpected series: ${line}`)
    }
  })

  it('keeps the standard process and Node.js metric names for stock dashboards', async () => {
    const text = await createMetrics({ perPartition: true }).registry.metrics()
    for (const name of ['process_cpu_seconds_total', 'process_cpu_user_seconds_total',
      'process_resident_memory_bytes', 'process_start_time_seconds', 'nodejs_heap_size_used_bytes',
      'nodejs_heap_size_total_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_version_info',
      'nodejs_active_handles']) {
      assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), `missing ${name}`)
    }
    assert.doesNotMatch(text, /^# TYPE tributary_(process|nodejs)_/m)
  })

  it('has no gauge whose name ends in _total', async () => {
    const metrics = createMetrics({ perPartition: true })
    feed(metrics)
    const gauges = [...(await metrics.registry.metrics())
      .matchAll(/^# TYPE (\S+) gauge$/gm)].map(match => match[1] as string)
    assert.ok(gauges.length > 10)
    assert.deepEqual(gauges.filter(name => name.endsWith('_total')), [])
  })

  it('drops per-partition series when switched off but keeps topic and group totals',
    async () => {
      const metrics = createMetrics({ perPartition: false })
      feed(metrics)
      const text = await metrics.registry.metrics()
      assert.doesNotMatch(text, /partition="/)
      assert.doesNotMatch(text, /tributary_partition_log_end_offset|tributary_partition_size/)
      assert.doesNotMatch(text, /tributary_consumer_group_partition_lag/)
      assert.match(text, /^tributary_partitions 2$/m)
      assert.match(text, /^tributary_topic_size_bytes\{topic="orders"\} 1500$/m)
      assert.match(text, /^tributary_consumer_group_lag\{group="billing",topic="orders"\} 7$/m)
    })

  it('keeps two brokers in one process apart', async () => {
    const first = createMetrics({ perPartition: true })
    const second = createMetrics({ perPartition: true })
    first.recordProduce('a', 1, 10, 0.001)
    assert.match(await first.registry.metrics(), /tributary_topic_bytes_in_total\{topic="a"\} 10/)
    assert.doesNotMatch(await second.registry.metrics(), /topic="a"/)
  })

  it('reflects the provider at each scrape and forgets deleted partitions', async () => {
    const metrics = createMetrics({ perPartition: true })
    let samples = [{ topic: 'gone', partition: 0, logEndOffset: 1, sizeBytes: 1 }]
    metrics.setPartitionProvider(() => samples)
    assert.match(await metrics.registry.metrics(), /topic="gone"/)
    samples = []
    const text = await metrics.registry.metrics()
    assert.doesNotMatch(text, /topic="gone"/)
    assert.match(text, /^tributary_partitions 0$/m)
  })

  it('survives a provider that throws and counts it', async () => {
    const metrics = createMetrics({ perPartition: true })
    metrics.setGroupLagProvider(() => { throw new Error('coordinator not loaded') })
    const text = await metrics.registry.metrics()
    assert.match(text, /^tributary_metrics_collect_errors_total\{provider="group"\} [1-9]/m)
  })

  it('survives a cluster provider that throws, keeping the other gauges', async () => {
    const metrics = createMetrics({ perPartition: false })
    metrics.setClusterProvider(() => { throw new Error('no session yet') })
    metrics.setPartitionProvider(() => [{ topic: 'a', partition: 0, logEndOffset: 1,
      sizeBytes: 1 }])
    const text = await metrics.registry.metrics()
    assert.match(text, /^tributary_metrics_collect_errors_total\{provider="cluster"\} [1-9]/m)
    assert.match(text, /^tributary_partitions 1$/m)
  })

  it('forgets a deleted topic\'s counters and group lag at the next scrape', async () => {
    const metrics = createMetrics({ perPartition: true })
    let samples = [{ topic: 'tmp', partition: 0, logEndOffset: 1, sizeBytes: 1 },
      { topic: 'kept', partition: 0, logEndOffset: 1, sizeBytes: 1 }]
    metrics.setPartitionProvider(() => samples)
    metrics.setGroupLagProvider(() => [
      { group: 'g', topic: 'tmp', partition: 0, lag: 1, lagSeconds: 1 },
      { group: 'g', topic: 'kept', partition: 0, lag: 1, lagSeconds: 1 },
    ])
    metrics.recordProduce('tmp', 1, 10, 0.001)
    metrics.recordFetch('tmp', 10, 1)
    metrics.recordProduce('kept', 1, 10, 0.001)
    assert.match(await metrics.registry.metrics(), /tributary_topic_bytes_in_total\{topic="tmp"\}/)
    samples = samples.filter(s => s.topic !== 'tmp')
    const text = await metrics.registry.metrics()
    assert.doesNotMatch(text, /topic="tmp"/)
    assert.match(text, /tributary_topic_bytes_in_total\{topic="kept"\} 10/)
    assert.match(text, /tributary_consumer_group_lag\{group="g",topic="kept"\} 1/)
    // A topic re-created under the same name starts from zero.
    samples = [...samples, { topic: 'tmp', partition: 0, logEndOffset: 0, sizeBytes: 0 }]
    metrics.recordProduce('tmp', 1, 3, 0.001)
    assert.match(await metrics.registry.metrics(),
      /tributary_topic_bytes_in_total\{topic="tmp"\} 3/)
  })

  it('exports the flusher totals, including the time spent in rounds', async () => {
    const metrics = createMetrics({ perPartition: false })
    metrics.setFlushProvider(() => ({ rounds: 4, fsyncs: 6, bytes: 4096, roundSeconds: 0.25 }))
    const text = await metrics.registry.metrics()
    assert.match(text, /^tributary_log_flush_rounds_total 4$/m)
    assert.match(text, /^tributary_log_fsyncs_total 6$/m)
    assert.match(text, /^tributary_log_flushed_bytes_total 4096$/m)
    assert.match(text, /^tributary_log_flush_round_seconds_total 0\.25$/m)
  })

  it('publishes the flush-round and fsync histograms kept by the storage engine', async () => {
    const metrics = createMetrics({ perPartition: false })
    const rounds = new FixedHistogram([0.001, 0.01])
    rounds.observe(0.0005)
    rounds.observe(0.005)
    rounds.observe(0.5)
    const log = new FixedHistogram([0.001, 0.01])
    log.observe(0.002)
    metrics.setFlushProvider(() => ({ rounds: 3, fsyncs: 1, bytes: 10, roundSeconds: 0.5055,
      roundDurations: rounds, fsyncDurations: new Map([['log', log]]) }))
    const text = await metrics.registry.metrics()
    assert.match(text, /^# TYPE tributary_log_flush_round_duration_seconds histogram$/m)
    assert.match(text, /^tributary_log_flush_round_duration_seconds_bucket\{le="0\.001"\} 1$/m)
    assert.match(text, /^tributary_log_flush_round_duration_seconds_bucket\{le="0\.01"\} 2$/m)
    assert.match(text, /^tributary_log_flush_round_duration_seconds_bucket\{le="\+Inf"\} 3$/m)
    assert.match(text, /^tributary_log_flush_round_duration_seconds_count 3$/m)
    assert.match(text, /^tributary_log_fsync_duration_seconds_bucket\{kind="log",le="0\.001"\} 0$/m)
    assert.match(text, /^tributary_log_fsync_duration_seconds_bucket\{kind="log",le="0\.01"\} 1$/m)
    assert.match(text, /^tributary_log_fsync_duration_seconds_sum\{kind="log"\} 0\.002$/m)
  })

  it('keeps counters when the partition provider throws', async () => {
    const metrics = createMetrics({ perPartition: true })
    metrics.setPartitionProvider(() => { throw new Error('log manager closed') })
    metrics.recordProduce('t', 1, 10, 0.001)
    assert.match(await metrics.registry.metrics(), /tributary_topic_bytes_in_total\{topic="t"\} 10/)
  })
})
