/**
 * Every metric of a broker, defined in this one file (prom-client). Tributary's own are named
 * `tributary_*`; the standard process and Node.js metrics keep their standard names
 * (`process_cpu_seconds_total`, `nodejs_heap_size_used_bytes`, ...) so that stock dashboards
 * and alerts work unchanged. No gauge ends in `_total`, a suffix OpenMetrics reserves for
 * counters: prom-client's `nodejs_active_{handles,requests,resources}_total` gauges are left
 * out (each is `sum()` of the gauge of the same name without the suffix).
 *
 * State: one prom-client Registry per `createMetrics` call (never prom-client's global one),
 * so several brokers in one test process do not collide. Counters and histograms are pushed
 * by the code that sees the event (`record*`); gauges of partitions and consumer groups are
 * pulled at scrape time from providers set later (`setPartitionProvider`,
 * `setGroupLagProvider`), so the broker keeps no second copy of that state.
 *
 * Invariants: label values are bounded by what the broker itself bounds: topics (once a
 * partition provider is set, a scrape exports series only for topics with a partition on this
 * broker now, and forgets the running totals of the others, so a deleted topic's series
 * disappear), the fixed set of Kafka API names, and HTTP route
 * templates (callers pass the route pattern, never the raw URL). Per-partition series
 * (`tributary.metrics.partition.enabled` = false drops them) are the only ones that grow with
 * partitions × groups; the per-topic lag sums stay.
 *
 * Concurrency: single-threaded; a scrape calls each provider once per gauge, synchronously.
 * Failure: a provider that throws does not fail the scrape: its gauges are left empty and
 * `tributary_metrics_collect_errors_total` counts it.
 */
import client from 'prom-client'
import { FixedHistogram } from './fixed-histogram.js'

export interface PartitionSample {
  topic: string
  partition: number
  logEndOffset: number
  sizeBytes: number
}

/** One consumer group's position on one partition, as Kafka's consumer-groups tool shows it. */
export interface GroupLagSample {
  group: string
  topic: string
  partition: number
  /** Log end offset minus the committed offset (never negative). */
  lag: number
  /** Age of the oldest unconsumed record: now minus the timestamp of the record at the
   * committed offset; 0 when caught up. */
  lagSeconds: number
}

/** Group-commit totals since start-up, as the storage engine counts them. */
export interface ClientSoftwareSample {
  name: string
  version: string
  connections: number
}

export interface FlushTotals {
  rounds: number
  fsyncs: number
  bytes: number
  /** Time spent in those rounds (writing, then fdatasync), in seconds. */
  roundSeconds: number
  /** Each round's duration (the flusher's own histogram, read at scrape). */
  roundDurations?: FixedHistogram
  /** Each fsync's duration by kind of file (log, index, snapshot, checkpoint, directory). */
  fsyncDurations?: ReadonlyMap<string, FixedHistogram>
  /** Reads answered from the tail cache and not, and the memory of its rings. */
  tailCache?: { hits: number, misses: number, bytesAllocated: number }
}

/** A cluster broker's view of the cluster (absent on a single node: the gauges read 1/own id). */
export interface ClusterSample {
  activeControllerId: number
  isActiveController: boolean
  liveBrokers: number
  /** etcd revisions: the newest this broker saw, and the one its image has applied. */
  latestRevision: number
  appliedRevision: number
}

/** The log cleaner's totals (issue #16), as the storage engine counts them. */
export interface CleanerTotals {
  bytesRead: number
  bytesWritten: number
  /** The largest dirty ratio among compacted logs at the cleaner's last look. */
  maxDirtyRatio: number
  /** Seconds since the last cleaning finished, -1 before the first. */
  secondsSinceLastClean: number
  errors: number
  /** Logs marked uncleanable after a failed cleaning (until restart). */
  uncleanable: number
}

/**
 * This broker's partitions by replication health (src/metadata/partition-health.ts), counted
 * from the metadata image at scrape time. Kafka's ReplicaManager gauges count on the leader
 * only; OfflinePartitionsCount only on the active controller (0 elsewhere).
 */
export interface ReplicationStatusSample {
  /** Partitions this broker leads (Kafka's LeaderCount). */
  leaders: number
  /** Led here, ISR smaller than the replica set (UnderReplicatedPartitions). */
  underReplicated: number
  /** Led here, ISR below the effective min.insync.replicas (UnderMinIsrPartitionCount). */
  underMinIsr: number
  /** Led here, ISR exactly min.insync.replicas (AtMinIsrPartitionCount, KIP-427). */
  atMinIsr: number
  /** On the active controller: partitions without a live leader; 0 on the others. */
  offline: number
}

/** One follower of a partition this broker leads, as the leader sees it (hook for #15). */
export interface FollowerLagSample {
  topic: string
  partition: number
  followerId: number
  /** Leader's log end offset minus the follower's last reported end offset. */
  lagRecords: number
  /** Time since the follower was last caught up to the leader's log end (Kafka's lag time). */
  lagMs: number
}

export type Metrics = ReturnType<typeof createMetrics>

/** prom-client default metrics that are gauges named like counters (see the header). */
const GAUGES_NAMED_TOTAL = [
  'nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total',
]

const LATENCY_BUCKETS_SECONDS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30,
]
const DURABLE_BUCKETS_SECONDS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1]

/** Reclaim latency is the check interval (5 min) plus file.delete.delay.ms (1 min) at default. */
const RECLAIM_BUCKETS_SECONDS = [1, 10, 60, 120, 300, 600, 1800, 3600, 21_600, 86_400]

export function createMetrics (options: { perPartition: boolean }) {
  const registry = new client.Registry()
  client.collectDefaultMetrics({ register: registry })
  for (const name of GAUGES_NAMED_TOTAL) registry.removeSingleMetric(name)
  const registers = [registry]
  let partitionProvider: (() => readonly PartitionSample[]) | undefined
  let groupLagProvider: () => readonly GroupLagSample[] = () => []
  let flushProvider: () => FlushTotals = () => ({ rounds: 0, fsyncs: 0, bytes: 0,
    roundSeconds: 0 })
  let clusterProvider: (() => ClusterSample) | undefined
  let replicationStatusProvider: (() => ReplicationStatusSample) | undefined
  let followerLagProvider: () => readonly FollowerLagSample[] = () => []

  const onPartitionError = (): void => { collectErrors.inc({ provider: 'partition' }) }
  const partitions = guard(() => partitionProvider?.() ?? [], onPartitionError, [])
  /** Topics with a partition here, or undefined when unknown (no provider, or it threw). */
  const liveTopics = (): Set<string> | undefined => {
    if (partitionProvider === undefined) return undefined
    try {
      return new Set(partitionProvider().map(p => p.topic))
    } catch {
      onPartitionError()
      return undefined
    }
  }
  const groupLags = guard(() => {
    const live = liveTopics()
    const samples = groupLagProvider()
    // The lag sampler refreshes every few seconds: a deleted topic must not linger until then.
    return live === undefined ? samples : samples.filter(s => live.has(s.topic))
  }, () => { collectErrors.inc({ provider: 'group' }) }, [])

  const topicTotals = new Totals(() => ({ bytesIn: 0, messagesIn: 0, bytesOut: 0, messagesOut: 0 }),
    liveTopics)
  const requestTotals = new Totals(() => ({ ok: 0, failed: 0,
    seconds: new FixedHistogram(LATENCY_BUCKETS_SECONDS) }))
  const durableHistogram = new FixedHistogram(DURABLE_BUCKETS_SECONDS)
  defineTopicMetrics(registers, topicTotals)
  const requests = defineRequestMetrics(registers, requestTotals)
  defineLatencyHistograms(registry, requestTotals, durableHistogram)
  const connections = new client.Gauge({
    name: 'tributary_connections_active', help: 'Open Kafka-protocol connections', registers,
  })
  let clientSoftwareProvider: () => readonly ClientSoftwareSample[] = () => []
  // Kafka's socket-server `connections` gauge by clientSoftwareName/Version (KIP-511).
  new client.Gauge({
    name: 'tributary_client_connections',
    help: 'Open connections by the client software they named in ApiVersions v3+',
    labelNames: ['client_software_name', 'client_software_version'], registers,
    collect () {
      this.reset()
      for (const sample of clientSoftwareProvider()) {
        this.set({ client_software_name: sample.name, client_software_version: sample.version },
          sample.connections)
      }
    },
  })
  definePartitionGauges(registers, partitions, options.perPartition)
  defineGroupLagGauges(registers, groupLags, options.perPartition)
  defineFlushCounters(registers, () => flushProvider())
  defineClusterGauges(registers, guard(() => clusterProvider?.(),
    () => { collectErrors.inc({ provider: 'cluster' }) }, undefined))
  const onReplicationError = (): void => { collectErrors.inc({ provider: 'replication' }) }
  const replication = defineReplicationMetrics(registers, options.perPartition,
    guard(() => replicationStatusProvider?.(), onReplicationError, undefined),
    guard(() => followerLagProvider(), onReplicationError, []))
  const retention = defineRetentionMetrics(registers)
  let cleanerProvider: () => CleanerTotals = () => ({ bytesRead: 0, bytesWritten: 0,
    maxDirtyRatio: 0, secondsSinceLastClean: -1, errors: 0, uncleanable: 0 })
  defineCleanerMetrics(registers, () => cleanerProvider())
  defineFlushHistograms(registry, () => flushProvider())
  // Registered last so that a scrape renders it after the gauges whose collect() it counts.
  const collectErrors = new client.Counter({
    name: 'tributary_metrics_collect_errors_total',
    help: 'Scrapes where a partition, group, cluster or replication provider threw',
    labelNames: ['provider'], registers,
  })

  return {
    registry,
    /** Labels: method, route (the route pattern), status. Prefer `recordHttpRequest`. */
    httpSeconds: requests.httpSeconds,
    setPartitionProvider (provider: () => readonly PartitionSample[]): void {
      partitionProvider = provider
    },
    setGroupLagProvider (provider: () => readonly GroupLagSample[]): void {
      groupLagProvider = provider
    },
    setFlushProvider (provider: () => FlushTotals): void {
      flushProvider = provider
    },
    setClusterProvider (provider: () => ClusterSample): void {
      clusterProvider = provider
    },
    setClientSoftwareProvider (provider: () => readonly ClientSoftwareSample[]): void {
      clientSoftwareProvider = provider
    },
    setCleanerProvider (provider: () => CleanerTotals): void {
      cleanerProvider = provider
    },
    setReplicationStatusProvider (provider: () => ReplicationStatusSample): void {
      replicationStatusProvider = provider
    },
    /** The replication layer's followers of partitions led here (issue #15's contract). */
    setReplicationProvider (provider: () => readonly FollowerLagSample[]): void {
      followerLagProvider = provider
    },
    /**
     * An ISR change committed for a partition this broker leads (Kafka's IsrShrinksPerSec /
     * IsrExpandsPerSec). broker/replication-health.ts calls it for every committed Partition
     * record that changes the ISR under the same leader; a second caller would count twice.
     */
    recordIsrChange (kind: 'shrink' | 'expand'): void {
      if (kind === 'shrink') replication.isrShrinks.inc()
      else replication.isrExpands.inc()
    },
    /** An out-of-sync replica was made leader (Kafka's UncleanLeaderElectionsPerSec). */
    recordUncleanElection (): void {
      replication.uncleanElections.inc()
    },
    recordProduce (topicName: string, records: number, bytes: number, durableSeconds: number) {
      const totals = topicTotals.get(topicName)
      totals.bytesIn += bytes
      totals.messagesIn += records
      durableHistogram.observe(durableSeconds)
    },
    recordFetch (topicName: string, bytes: number, records: number) {
      const totals = topicTotals.get(topicName)
      totals.bytesOut += bytes
      totals.messagesOut += records
    },
    recordRequest (api: string, seconds: number, failed: boolean) {
      const totals = requestTotals.get(api)
      if (failed) totals.failed++
      else totals.ok++
      totals.seconds.observe(seconds)
    },
    recordHttpRequest (method: string, route: string, status: number, seconds: number) {
      requests.httpRequests.inc({ method, route, status: String(status) })
      requests.httpSeconds.observe({ method, route, status: String(status) }, seconds)
    },
    /**
     * A segment deleted by retention or DeleteRecords had its files removed: its bytes, and
     * the seconds from when it became eligible (for retention.ms, its largest timestamp plus
     * retention.ms) to then.
     */
    recordSegmentReclaimed (bytes: number, latencySeconds: number) {
      retention.reclaimedBytes.inc(bytes)
      retention.reclaimSeconds.observe(Math.max(0, latencySeconds))
    },
    setConnections (count: number) {
      connections.set(count)
    },
  }
}

type Registers = client.Registry[]

/**
 * Running totals of hot-path counters, copied into their prom-client counters at scrape time:
 * prom-client hashes the label object on every `inc({...})`, which a profile of the broker at
 * 900 k msg/s put at 2-3 % of its CPU, three times per produce request. Keys are topics or
 * Kafka API names, so the map is bounded by them; with `liveKeys`, keys it no longer lists (a
 * deleted topic) are dropped at the next scrape.
 */
class Totals<T> {
  readonly #byKey = new Map<string, T>()
  readonly #fresh: () => T
  readonly #liveKeys: () => Set<string> | undefined

  constructor (fresh: () => T, liveKeys: () => Set<string> | undefined = () => undefined) {
    this.#fresh = fresh
    this.#liveKeys = liveKeys
  }

  /** The current totals, after dropping keys that are no longer live. */
  entries (): IterableIterator<[string, T]> {
    const live = this.#liveKeys()
    if (live !== undefined) {
      for (const key of this.#byKey.keys()) if (!live.has(key)) this.#byKey.delete(key)
    }
    return this.#byKey.entries()
  }

  get (key: string): T {
    let totals = this.#byKey.get(key)
    if (totals === undefined) {
      totals = this.#fresh()
      this.#byKey.set(key, totals)
    }
    return totals
  }
}

interface TopicTotals { bytesIn: number, messagesIn: number, bytesOut: number, messagesOut: number }

/** A counter per key whose values are copied from `totals` at each scrape. */
function totalsCounter<T> (options: { name: string, help: string, registers: Registers,
  labelNames: string[], totals: Totals<T>, read: (key: string, totals: T) =>
  Array<[Record<string, string>, number]> }): client.Counter<string> {
  const { totals, read, ...config } = options
  return new client.Counter({
    ...config,
    collect () {
      this.reset()
      for (const [key, value] of totals.entries()) {
        for (const [labels, count] of read(key, value)) if (count > 0) this.inc(labels, count)
      }
    },
  })
}

/** A provider that cannot fail a scrape: a throw reads as no samples, and is counted. */
/** A provider that may throw: a throw is counted and the scrape gets `fallback` instead. */
function guard<T> (read: () => T, onError: () => void, fallback: T): () => T {
  return () => {
    try {
      return read()
    } catch {
      onError()
      return fallback
    }
  }
}

/** A gauge set at scrape time from the provider's sample; left as it was when there is none. */
function sampledGauge<S> (registers: Registers, sample: () => S | undefined, name: string,
  help: string, read: (sample: S) => number): void {
  new client.Gauge({ // eslint-disable-line no-new
    name, help, registers,
    collect () {
      const current = sample()
      if (current !== undefined) this.set(read(current))
    },
  })
}

/** The per-topic counters, registered; their values are copied from `totals` at scrape. */
function defineTopicMetrics (registers: Registers, totals: Totals<TopicTotals>): void {
  const perTopic = (name: string, help: string, field: keyof TopicTotals): void => {
    totalsCounter({ name, help, registers, labelNames: ['topic'], totals,
      read: (topic, value) => [[{ topic }, value[field]]] })
  }
  perTopic('tributary_topic_bytes_in_total', 'Record-batch bytes appended, per topic', 'bytesIn')
  perTopic('tributary_topic_messages_in_total', 'Records appended, per topic', 'messagesIn')
  perTopic('tributary_topic_bytes_out_total', 'Record-batch bytes fetched, per topic', 'bytesOut')
  perTopic('tributary_topic_messages_out_total', 'Records fetched, per topic', 'messagesOut')
}

/**
 * Kafka's kafka.log:type=LogFlushStats, as counters pulled from the storage engine at scrape
 * time: bytes / fsyncs is the average group-commit size the benchmark's raw limit uses.
 */
function defineFlushCounters (registers: Registers, totals: () => FlushTotals): void {
  const counter = (name: string, help: string, read: (t: FlushTotals) => number): void => {
    // eslint-disable-next-line no-new
    new client.Counter({
      name, help, registers,
      collect () {
        // The storage engine owns the running total; a scrape copies it.
        this.reset()
        this.inc(read(totals()))
      },
    })
  }
  counter('tributary_log_flush_rounds_total', 'Group-commit rounds run by the flusher',
    t => t.rounds)
  counter('tributary_log_fsyncs_total', 'fdatasync calls on segment files', t => t.fsyncs)
  counter('tributary_log_flushed_bytes_total', 'Bytes made durable by those fdatasyncs',
    t => t.bytes)
  // Kafka's LogFlushRateAndTimeMs as a sum: rate(this) / rate(rounds) is the mean round time.
  counter('tributary_log_flush_round_seconds_total',
    'Time spent in group-commit rounds (writes, then fdatasyncs)', t => t.roundSeconds)
  counter('tributary_log_tail_cache_hits_total',
    'Log reads answered from the memory of the newest batches (no file read)',
    t => t.tailCache?.hits ?? 0)
  counter('tributary_log_tail_cache_misses_total',
    'Log reads the tail cache did not reach back to (read from the files)',
    t => t.tailCache?.misses ?? 0)
  // eslint-disable-next-line no-new
  new client.Gauge({ name: 'tributary_log_tail_cache_bytes',
    help: 'Memory allocated to the tail cache (tributary.log.tail.cache.bytes bounds it)',
    registers, collect () { this.set(totals().tailCache?.bytesAllocated ?? 0) } })
}

/** Kafka's kafka.log:type=LogCleaner metrics, pulled from the cleaner at scrape time. */
function defineCleanerMetrics (registers: Registers, totals: () => CleanerTotals): void {
  const pulled = (kind: 'counter' | 'gauge', name: string, help: string,
    read: (t: CleanerTotals) => number): void => {
    if (kind === 'counter') {
      // eslint-disable-next-line no-new
      new client.Counter({ name, help, registers,
        collect () { this.reset(); this.inc(read(totals())) } })
    } else {
      // eslint-disable-next-line no-new
      new client.Gauge({ name, help, registers, collect () { this.set(read(totals())) } })
    }
  }
  pulled('counter', 'tributary_log_cleaner_read_bytes_total', 'Bytes the log cleaner read',
    t => t.bytesRead)
  pulled('counter', 'tributary_log_cleaner_written_bytes_total',
    'Bytes the log cleaner wrote', t => t.bytesWritten)
  pulled('gauge', 'tributary_log_cleaner_max_dirty_ratio',
    'Largest dirty ratio among compacted logs (the cleaner backlog)', t => t.maxDirtyRatio)
  pulled('gauge', 'tributary_log_cleaner_seconds_since_last_clean',
    'Seconds since the last cleaning finished (-1: none yet)', t => t.secondsSinceLastClean)
  pulled('counter', 'tributary_log_cleaner_errors_total', 'Cleanings that failed',
    t => t.errors)
  pulled('gauge', 'tributary_log_cleaner_uncleanable_partitions',
    'Partitions marked uncleanable after a failed cleaning (until restart)',
    t => t.uncleanable)
}

/** Retention's effect (issue #16): bytes freed and how long freeing took. */
function defineRetentionMetrics (registers: Registers) {
  return {
    reclaimedBytes: new client.Counter({
      name: 'tributary_log_reclaimed_bytes_total',
      help: 'Segment bytes freed by retention and DeleteRecords', registers,
    }),
    reclaimSeconds: new client.Histogram({
      name: 'tributary_log_retention_reclaim_seconds',
      help: 'Time from a segment becoming eligible for deletion to its files being removed',
      registers, buckets: RECLAIM_BUCKETS_SECONDS,
    }),
  }
}

/**
 * Request latency per Kafka API and produce-to-durable latency: observed on every request and
 * every produced partition, so kept in fixed buckets (no label hashing) and published at
 * scrape, as the flush histograms are.
 */
function defineLatencyHistograms (registry: client.Registry,
  requests: Totals<{ seconds: FixedHistogram }>, durable: FixedHistogram): void {
  publishedHistogram(registry, {
    name: 'tributary_request_duration_seconds', help: 'Kafka request latency, per API',
    labelNames: ['api'],
    read: () => [...requests.entries()].map(([api, totals]) => [{ api }, totals.seconds]),
  })
  publishedHistogram(registry, {
    name: 'tributary_produce_durable_seconds',
    help: 'Time from append to durable (group-commit fsync) acknowledgement',
    labelNames: [],
    read: () => [[{}, durable]],
  })
}

/**
 * The flush-round and fsync histograms: the storage engine observes into fixed buckets on its
 * hot path (no label hashing), and a scrape publishes them as Prometheus histograms.
 */
function defineFlushHistograms (registry: client.Registry, totals: () => FlushTotals): void {
  publishedHistogram(registry, {
    name: 'tributary_log_flush_round_duration_seconds',
    help: 'Duration of each group-commit round (writes of the logs it took, then their fdatasyncs)',
    labelNames: [],
    read: () => {
      const round = totals().roundDurations
      return round === undefined ? [] : [[{}, round]]
    },
  })
  publishedHistogram(registry, {
    name: 'tributary_log_fsync_duration_seconds',
    help: 'Duration of each fsync/fdatasync, by kind of file (log, index, snapshot, ' +
      'checkpoint, directory)',
    labelNames: ['kind'],
    read: () => [...totals().fsyncDurations ?? []].map(([kind, h]) => [{ kind }, h]),
  })
}

/**
 * A histogram whose buckets are kept elsewhere (a FixedHistogram) and read at scrape: prom-client
 * accepts any object with its metric shape (name, help, type, get), so this is registered as
 * one without a prom-client Histogram's per-observation label hashing.
 */
function publishedHistogram (registry: client.Registry, options: { name: string, help: string,
  labelNames: string[], read: () => Array<[Record<string, string>, FixedHistogram]> }): void {
  const { name, help, labelNames, read } = options
  const metric = {
    name, help, labelNames, type: 'histogram', aggregator: 'sum',
    get () {
      const values: Array<{ labels: Record<string, string | number>, value: number,
        metricName: string }> = []
      for (const [labels, histogram] of read()) {
        const cumulative = histogram.cumulative()
        histogram.bounds.forEach((bound, i) => {
          values.push({ labels: { ...labels, le: bound }, value: cumulative[i] as number,
            metricName: `${name}_bucket` })
        })
        values.push({ labels: { ...labels, le: '+Inf' }, value: histogram.count,
          metricName: `${name}_bucket` })
        values.push({ labels, value: histogram.sum, metricName: `${name}_sum` })
        values.push({ labels, value: histogram.count, metricName: `${name}_count` })
      }
      return { name, help, type: 'histogram', values, aggregator: 'sum' }
    },
    reset: () => undefined,
  }
  registry.registerMetric(metric as unknown as client.Metric)
}

function defineRequestMetrics (registers: Registers,
  totals: Totals<{ ok: number, failed: number }>) {
  return {
    kafkaRequests: totalsCounter({
      name: 'tributary_requests_total', help: 'Kafka requests handled, per API and outcome',
      labelNames: ['api', 'outcome'], registers, totals,
      read: (api, value) => [[{ api, outcome: 'ok' }, value.ok],
        [{ api, outcome: 'error' }, value.failed]],
    }),
    httpRequests: new client.Counter({
      name: 'tributary_http_requests_total', help: 'HTTP requests handled, per route and status',
      labelNames: ['method', 'route', 'status'], registers,
    }),
    httpSeconds: new client.Histogram({
      name: 'tributary_http_request_duration_seconds', help: 'HTTP request latency, per route',
      labelNames: ['method', 'route', 'status'], registers, buckets: LATENCY_BUCKETS_SECONDS,
    }),
  }
}

function definePartitionGauges (registers: Registers,
  partitions: () => readonly PartitionSample[], perPartition: boolean): void {
  new client.Gauge({
    name: 'tributary_partitions', help: 'Partition logs hosted by this broker', registers,
    collect () { this.set(partitions().length) },
  })
  new client.Gauge({
    name: 'tributary_topic_size_bytes', help: 'Log size per topic (all its partitions)',
    labelNames: ['topic'], registers,
    collect () {
      this.reset()
      const sizes = new Map<string, number>()
      for (const p of partitions()) sizes.set(p.topic, (sizes.get(p.topic) ?? 0) + p.sizeBytes)
      for (const [topic, size] of sizes) this.set({ topic }, size)
    },
  })
  if (!perPartition) return
  new client.Gauge({
    name: 'tributary_partition_log_end_offset', help: 'Log end offset per partition',
    labelNames: ['topic', 'partition'], registers,
    collect () {
      this.reset()
      for (const p of partitions()) {
        this.set({ topic: p.topic, partition: String(p.partition) }, p.logEndOffset)
      }
    },
  })
  new client.Gauge({
    name: 'tributary_partition_size_bytes', help: 'Log size per partition',
    labelNames: ['topic', 'partition'], registers,
    collect () {
      this.reset()
      for (const p of partitions()) {
        this.set({ topic: p.topic, partition: String(p.partition) }, p.sizeBytes)
      }
    },
  })
}

function defineGroupLagGauges (registers: Registers, lags: () => readonly GroupLagSample[],
  perPartition: boolean): void {
  // Per group and topic, always: lag summed over partitions (kafka_exporter's lag_sum) and the
  // worst lag in seconds, which is what an alert wants.
  new client.Gauge({
    name: 'tributary_consumer_group_lag',
    help: 'Records a consumer group has not consumed, summed over the topic\'s partitions',
    labelNames: ['group', 'topic'], registers,
    collect () {
      this.reset()
      for (const [key, value] of aggregate(lags(), s => s.lag, (a, b) => a + b)) {
        this.set(key, value)
      }
    },
  })
  new client.Gauge({
    name: 'tributary_consumer_group_lag_seconds',
    help: 'Age of the oldest record a consumer group has not consumed, worst partition',
    labelNames: ['group', 'topic'], registers,
    collect () {
      this.reset()
      for (const [key, value] of aggregate(lags(), s => s.lagSeconds, Math.max)) {
        this.set(key, value)
      }
    },
  })
  if (!perPartition) return
  new client.Gauge({
    name: 'tributary_consumer_group_partition_lag',
    help: 'Records a consumer group has not consumed, per partition',
    labelNames: ['group', 'topic', 'partition'], registers,
    collect () {
      this.reset()
      for (const s of lags()) {
        this.set({ group: s.group, topic: s.topic, partition: String(s.partition) }, s.lag)
      }
    },
  })
  new client.Gauge({
    name: 'tributary_consumer_group_partition_lag_seconds',
    help: 'Age of the oldest record a consumer group has not consumed, per partition',
    labelNames: ['group', 'topic', 'partition'], registers,
    collect () {
      this.reset()
      for (const s of lags()) {
        this.set({ group: s.group, topic: s.topic, partition: String(s.partition) }, s.lagSeconds)
      }
    },
  })
}

function aggregate (samples: readonly GroupLagSample[], pick: (s: GroupLagSample) => number,
  combine: (a: number, b: number) => number): Map<{ group: string, topic: string }, number> {
  const byKey = new Map<string, { labels: { group: string, topic: string }, value: number }>()
  for (const s of samples) {
    // JSON of the pair: group and topic names may contain any character but not collide here.
    const key = JSON.stringify([s.group, s.topic])
    const entry = byKey.get(key)
    if (entry === undefined) {
      byKey.set(key, { labels: { group: s.group, topic: s.topic }, value: pick(s) })
    } else {
      entry.value = combine(entry.value, pick(s))
    }
  }
  return new Map([...byKey.values()].map(e => [e.labels, e.value]))
}

/** The cluster gauges (issue: active controller, live brokers, metadata lag). */
function defineClusterGauges (registers: Registers,
  sample: () => ClusterSample | undefined): void {
  const gauge = (name: string, help: string, read: (cluster: ClusterSample) => number): void => {
    sampledGauge(registers, sample, name, help, read)
  }
  gauge('tributary_cluster_active_controller_id',
    'Node id of the active controller as this broker sees it (-1: none)',
    cluster => cluster.activeControllerId)
  gauge('tributary_cluster_active_controller',
    '1 on the broker that is the active controller, else 0 (sums to 1 over the cluster)',
    cluster => cluster.isActiveController ? 1 : 0)
  gauge('tributary_cluster_live_brokers', 'Brokers with a live session in the metadata image',
    cluster => cluster.liveBrokers)
  gauge('tributary_cluster_metadata_lag_revisions',
    'etcd revisions between the newest seen and the one this broker\'s image has applied',
    cluster => Math.max(0, cluster.latestRevision - cluster.appliedRevision))
}

/**
 * Replication (issue #15), Kafka's kafka.server:type=ReplicaManager and
 * kafka.controller:type=KafkaController metrics: health counts pulled from the image at scrape,
 * ISR change and unclean election counters pushed by whoever sees them, and follower lag pulled
 * from the replication layer. Lag is one series per topic (the worst follower of any of its
 * partitions) with per-partition metrics on, else one series per broker (its worst follower),
 * so its cardinality never grows with partitions × replicas; `max()` over either answers "how
 * far behind is the slowest follower" in a dashboard.
 */
function defineReplicationMetrics (registers: Registers, perPartition: boolean,
  status: () => ReplicationStatusSample | undefined,
  lags: () => readonly FollowerLagSample[]) {
  const gauge = (name: string, help: string, read: (s: ReplicationStatusSample) => number):
  void => {
    sampledGauge(registers, status, name, help, read)
  }
  gauge('tributary_partition_leaders', 'Partitions this broker leads (Kafka\'s LeaderCount)',
    s => s.leaders)
  gauge('tributary_under_replicated_partitions',
    'Partitions led here whose ISR is smaller than their replica set (must be 0)',
    s => s.underReplicated)
  gauge('tributary_under_min_isr_partitions',
    'Partitions led here with fewer in-sync replicas than min.insync.replicas: acks=all ' +
    'produce is refused (must be 0)', s => s.underMinIsr)
  gauge('tributary_at_min_isr_partitions',
    'Partitions led here with exactly min.insync.replicas in sync: one more loss refuses ' +
    'acks=all', s => s.atMinIsr)
  gauge('tributary_offline_partitions',
    'On the active controller: partitions with no live leader (must be 0); 0 on the others',
    s => s.offline)
  const lagGauge = (name: string, help: string, read: (s: FollowerLagSample) => number):
  void => {
    new client.Gauge({ // eslint-disable-line no-new
      name, help, labelNames: perPartition ? ['topic'] : [], registers,
      collect () {
        this.reset()
        const worst = new Map<string, number>()
        for (const sample of lags()) {
          const key = perPartition ? sample.topic : ''
          worst.set(key, Math.max(worst.get(key) ?? 0, read(sample)))
        }
        for (const [topic, value] of worst) {
          if (perPartition) this.set({ topic }, value)
          else this.set(value)
        }
      },
    })
  }
  lagGauge('tributary_replica_lag_records',
    'Records the slowest follower of a partition led here is behind the leader\'s log end',
    s => Math.max(0, s.lagRecords))
  lagGauge('tributary_replica_lag_seconds',
    'Seconds since the slowest follower of a partition led here was last caught up',
    s => Math.max(0, s.lagMs) / 1000)
  return {
    isrShrinks: new client.Counter({
      name: 'tributary_isr_shrinks_total',
      help: 'ISR shrinks of partitions led here (Kafka\'s IsrShrinksPerSec)', registers,
    }),
    isrExpands: new client.Counter({
      name: 'tributary_isr_expands_total',
      help: 'ISR expansions of partitions led here (Kafka\'s IsrExpandsPerSec)', registers,
    }),
    uncleanElections: new client.Counter({
      name: 'tributary_unclean_leader_elections_total',
      // Kafka's kafka.controller:type=ControllerStats,name=UncleanLeaderElectionsPerSec.
      help: 'Leaders elected from outside the ISR by this broker as the active controller ' +
        '(unclean.leader.election.enable, or an unclean ElectLeaders): records may be lost ' +
        '(must stay 0)', registers,
    }),
  }
}
