/**
 * Every metric of a broker, in one registry (prom-client), prefixed `tributary_`. One
 * registry per broker instance (never prom-client's global one), so several brokers in one
 * process do not collide. Per-partition series can be switched off
 * (`tributary.metrics.partition.enabled`) for brokers with thousands of partitions.
 */
import client from 'prom-client'

export interface PartitionSample {
  topic: string
  partition: number
  logEndOffset: number
  sizeBytes: number
}

export type Metrics = ReturnType<typeof createMetrics>

export function createMetrics (options: { perPartition: boolean }) {
  const registry = new client.Registry()
  client.collectDefaultMetrics({ register: registry, prefix: 'tributary_' })
  let partitionProvider: () => PartitionSample[] = () => []
  const registers = [registry]

  const bytesIn = new client.Counter({
    name: 'tributary_topic_bytes_in_total', help: 'Record-batch bytes appended, per topic',
    labelNames: ['topic'], registers,
  })
  const messagesIn = new client.Counter({
    name: 'tributary_topic_messages_in_total', help: 'Records appended, per topic',
    labelNames: ['topic'], registers,
  })
  const bytesOut = new client.Counter({
    name: 'tributary_topic_bytes_out_total', help: 'Record-batch bytes fetched, per topic',
    labelNames: ['topic'], registers,
  })
  const messagesOut = new client.Counter({
    name: 'tributary_topic_messages_out_total', help: 'Records fetched, per topic',
    labelNames: ['topic'], registers,
  })
  const requests = new client.Counter({
    name: 'tributary_requests_total', help: 'Kafka requests handled, per API and outcome',
    labelNames: ['api', 'outcome'], registers,
  })
  const requestSeconds = new client.Histogram({
    name: 'tributary_request_duration_seconds', help: 'Kafka request latency, per API',
    labelNames: ['api'], registers,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
  })
  const httpSeconds = new client.Histogram({
    name: 'tributary_http_request_duration_seconds', help: 'HTTP request latency, per route',
    labelNames: ['method', 'route', 'status'], registers,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
  })
  const durableSeconds = new client.Histogram({
    name: 'tributary_produce_durable_seconds',
    help: 'Time from append to durable (group-commit fsync) acknowledgement',
    registers, buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
  })
  const connections = new client.Gauge({
    name: 'tributary_connections_active', help: 'Open Kafka-protocol connections', registers,
  })
  new client.Gauge({
    name: 'tributary_partitions', help: 'Partition logs hosted by this broker', registers,
    collect () { this.set(partitionProvider().length) },
  })
  if (options.perPartition) {
    new client.Gauge({
      name: 'tributary_partition_log_end_offset', help: 'Log end offset per partition',
      labelNames: ['topic', 'partition'], registers,
      collect () {
        this.reset()
        for (const p of partitionProvider()) {
          this.set({ topic: p.topic, partition: String(p.partition) }, p.logEndOffset)
        }
      },
    })
    new client.Gauge({
      name: 'tributary_partition_size_bytes', help: 'Log size per partition',
      labelNames: ['topic', 'partition'], registers,
      collect () {
        this.reset()
        for (const p of partitionProvider()) {
          this.set({ topic: p.topic, partition: String(p.partition) }, p.sizeBytes)
        }
      },
    })
  }
  return {
    registry,
    httpSeconds,
    setPartitionProvider (provider: () => PartitionSample[]): void {
      partitionProvider = provider
    },
    recordProduce (topic: string, records: number, bytes: number, durableSecondsValue: number) {
      bytesIn.inc({ topic }, bytes)
      messagesIn.inc({ topic }, records)
      durableSeconds.observe(durableSecondsValue)
    },
    recordFetch (topic: string, bytes: number, records: number) {
      if (bytes > 0) bytesOut.inc({ topic }, bytes)
      if (records > 0) messagesOut.inc({ topic }, records)
    },
    recordRequest (api: string, seconds: number, failed: boolean) {
      requests.inc({ api, outcome: failed ? 'error' : 'ok' })
      requestSeconds.observe({ api }, seconds)
    },
    setConnections (count: number) {
      connections.set(count)
    },
  }
}
