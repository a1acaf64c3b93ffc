/**
 * The one configuration schema: every broker and topic property Tributary knows, by Kafka's
 * names, with type, default, validation, importance and a one-line doc (Kafka's ConfigDef as
 * used by KafkaConfig, ServerLogConfigs, LogConfig and TopicConfig).
 *
 * Format: two tables of plain definitions. Values travel as strings, as in Kafka's
 * DescribeConfigs; `normalizeValue` turns raw input into the canonical string (trimmed,
 * booleans lower-cased, list items trimmed) or names the problem in one line.
 * Invariants: names are unique within a table; every topic config's `brokerSynonym` names a
 * broker config (checked at module load); every default passes its own validator.
 * Concurrency and failure: pure data and pure functions; nothing here does I/O.
 *
 * Tributary departures from Kafka, all documented in the docs below:
 * - `log.dirs` holds one directory (Kafka's JBOD list is not supported).
 * - `listeners` takes one `NAME://host:port` and expands into `listeners.host` and
 *   `listeners.port`, which the `--host`/`--port` flags set; `advertised.host`/`.port` play the
 *   role of Kafka's `advertised.listeners`.
 * - `tributary.fsync.before.ack` (default true): an append is acknowledged only once an
 *   fdatasync covers it (group commit). When false, Kafka's `log.flush.interval.messages`/`.ms`
 *   (`flush.messages`/`flush.ms` per topic) decide when to fsync, as in Kafka.
 * - Kafka's Long.MAX_VALUE is accepted for `long` properties and clamped to
 *   Number.MAX_SAFE_INTEGER (2^53-1), which is "never" for every count or duration here.
 * - Broker configs are static (read-only in DescribeConfigs): Tributary has no dynamic broker
 *   configs. Topic configs are dynamic per topic (AlterConfigs / IncrementalAlterConfigs).
 */
import { assert } from '../util/assert.js'

export type ConfigType = 'int' | 'long' | 'short' | 'double' | 'boolean' | 'string' | 'list'

/** Kafka's ConfigDef.Importance, shown in docs only. */
export type Importance = 'high' | 'medium' | 'low'

export interface ConfigDefinition {
  name: string
  type: ConfigType
  /** Canonical default; null means unset (another property or a computed value decides). */
  default: string | null
  importance: Importance
  doc: string
  min?: number
  max?: number
  /** Allowed values of a string (an enum) or of each item of a list. */
  choices?: readonly string[]
  /** For topic configs: the broker property that supplies the default (LogConfig synonyms). */
  brokerSynonym?: string
  /** Never shown in DescribeConfigs (Kafka's Type.PASSWORD); none of ours are today. */
  sensitive?: boolean
}

const LONG_MAX = String(Number.MAX_SAFE_INTEGER)
const DAY_MS = 24 * 3600 * 1000
/**
 * KIP-1030's minimums, so that no topic config opens a new file every few batches: segments of
 * at least 1 MiB (Kafka 4.0), rolled by age at most once a minute and with an offset index of
 * at least 1 KiB (the values KIP-1030 sets for Kafka 5.0, taken now). Tests that need small
 * segments set the broker's `internal.segment.bytes` (Kafka 4's internal.segment.bytes).
 */
const SEGMENT_BYTES_MIN = 1024 * 1024
const SEGMENT_MS_MIN = 60_000
const SEGMENT_INDEX_BYTES_MIN = 1024

export const BROKER_CONFIGS: readonly ConfigDefinition[] = [
  { name: 'node.id', importance: 'high',
    type: 'int', default: '1', min: 0, doc: 'This broker\'s node id' },
  { name: 'log.dirs', importance: 'high', type: 'string', default: './segments',
    doc: 'The data directory (one; Kafka\'s comma-separated JBOD list is not supported)' },
  { name: 'log.dir', importance: 'high', type: 'string', default: null,
    doc: 'Kafka\'s single-directory synonym: used when the same source does not set log.dirs' },
  { name: 'listeners', importance: 'high', type: 'string', default: null,
    doc: 'One NAME://host:port listener; sets listeners.host and listeners.port' },
  { name: 'listeners.host', importance: 'high', type: 'string', default: '127.0.0.1',
    doc: 'Address the Kafka and HTTP listeners bind (0.0.0.0 in a container)' },
  { name: 'listeners.port', importance: 'high', type: 'int', default: '9092', min: 0, max: 65535,
    doc: 'Kafka listener port (0 picks a free port)' },
  // A cluster on etcd (src/cluster). Unset endpoints: a single-node cluster, as before.
  { name: 'tributary.etcd.endpoints', importance: 'high', type: 'string', default: null,
    doc: 'etcd endpoints HOST:PORT[,HOST:PORT...] of the cluster metadata (unset: single node)' },
  { name: 'tributary.cluster.name', importance: 'medium', type: 'string', default: 'tributary',
    doc: 'The cluster\'s key prefix in etcd, so several clusters can share one etcd' },
  { name: 'broker.rack', importance: 'medium', type: 'string', default: null,
    doc: 'Rack of this broker, for rack-aware replica placement' },
  { name: 'broker.session.timeout.ms', importance: 'medium', type: 'int', default: '9000',
    min: 2000, doc: 'A broker whose etcd session is not renewed for this long is fenced' },
  // Replication (Kafka's ReplicationConfigs, same names and defaults).
  { name: 'replica.lag.time.max.ms', importance: 'high', type: 'long', default: '30000', min: 1,
    doc: 'A follower that has not caught up with the leader for this long leaves the ISR' },
  { name: 'replica.fetch.wait.max.ms', importance: 'medium', type: 'int', default: '500', min: 0,
    doc: 'Longest a follower fetch waits at the leader for data' },
  { name: 'replica.fetch.max.bytes', importance: 'medium', type: 'int', default: '1048576',
    min: 0, doc: 'Bytes a follower fetch asks for per partition' },
  { name: 'replica.fetch.response.max.bytes', importance: 'medium', type: 'int',
    default: '10485760', min: 0, doc: 'Bytes a follower fetch asks for in all' },
  { name: 'replica.fetch.backoff.ms', importance: 'medium', type: 'int', default: '1000', min: 0,
    doc: 'Pause of a follower fetcher after an error' },
  { name: 'num.replica.fetchers', importance: 'low', type: 'int', default: '1', min: 1, max: 1,
    doc: 'Fetch loops per source broker (one here)' },
  { name: 'leader.replication.throttled.rate', importance: 'medium', type: 'long',
    default: LONG_MAX, min: 0,
    doc: 'Bytes per second followers may fetch from this broker' },
  { name: 'follower.replication.throttled.rate', importance: 'medium', type: 'long',
    default: LONG_MAX, min: 0,
    doc: 'Bytes per second this broker may fetch as a follower' },
  { name: 'http.port', importance: 'high', type: 'int', default: '8080', min: 0, max: 65535,
    doc: 'HTTP listener port (0 picks a free port)' },
  { name: 'advertised.host', importance: 'high', type: 'string', default: null,
    doc: 'Host clients are told to connect to (default: the listener host)' },
  { name: 'advertised.port', importance: 'high', type: 'int', default: null, min: 1, max: 65535,
    doc: 'Port clients are told to connect to (default: the bound listener port)' },
  { name: 'external.listener.port', importance: 'medium',
    type: 'int', default: null, min: 0, max: 65535,
    doc: 'Port of a second Kafka listener, EXTERNAL, for clients outside a container network' },
  { name: 'external.advertised.host', importance: 'medium', type: 'string', default: null,
    doc: 'Host advertised on the EXTERNAL listener (default: advertised.host)' },
  { name: 'external.advertised.port', importance: 'medium',
    type: 'int', default: null, min: 1, max: 65535,
    doc: 'Port advertised on the EXTERNAL listener (default: its bound port)' },
  { name: 'num.partitions', importance: 'high', type: 'int', default: '1', min: 1, max: 10000,
    doc: 'Partitions of an auto-created topic' },
  { name: 'default.replication.factor', importance: 'medium', type: 'short', default: '1', min: 1,
    doc: 'Replication factor of auto-created topics' },
  { name: 'auto.create.topics.enable', importance: 'high', type: 'boolean', default: 'true',
    doc: 'Create a topic when a client first asks for it' },
  { name: 'delete.topic.enable', importance: 'medium', type: 'boolean', default: 'true',
    doc: 'Allow DeleteTopics' },
  { name: 'message.max.bytes', importance: 'high', type: 'int', default: '1048588', min: 0,
    doc: 'Largest record batch the broker accepts' },
  { name: 'socket.request.max.bytes', importance: 'high', type: 'int', default: '104857600', min: 1,
    doc: 'Largest request frame' },
  // Kafka's ServerConfigs.FETCH_MAX_BYTES_CONFIG (KIP-74): 55 MiB, at least 1024.
  { name: 'fetch.max.bytes', importance: 'medium', type: 'int', default: '57671680', min: 1024,
    doc: 'Most bytes one Fetch response carries, whatever the client asks (the first batch ' +
      'is returned whole even if larger)' },
  { name: 'queued.max.requests', importance: 'high', type: 'int', default: '500', min: 1,
    doc: 'Requests read but not yet answered, over all connections, before connections that ' +
      'have a request in flight stop reading (one with none may still send one)' },
  // KIP-72's memory pool. Kafka's default is -1 (unbounded); ours is bounded: 512 MiB holds five
  // maximum-size requests (socket.request.max.bytes) and fits a 1 GiB container with the heap.
  { name: 'queued.max.request.bytes', importance: 'medium', type: 'long',
    default: String(512 * 1024 * 1024), min: -1,
    doc: 'Request bytes received and response bytes not yet sent, over all connections, ' +
      'before reading pauses (-1: unbounded); at least socket.request.max.bytes' },
  { name: 'tributary.connection.max.inflight.requests', importance: 'medium', type: 'int',
    default: '64', min: 1, max: 10000,
    doc: 'Requests of one connection read but not yet answered before its reads pause' },
  { name: 'max.connections', importance: 'medium', type: 'int', default: '10000', min: 1,
    doc: 'Connections accepted at once' },
  // Kafka allows 0 together with max.connections.per.ip.overrides, which we do not have.
  { name: 'max.connections.per.ip', importance: 'medium', type: 'int', default: '2147483647',
    min: 1, doc: 'Connections accepted at once from one address' },
  // Ours, not Kafka's (Kafka relies on connections.max.idle.ms and the memory pool): a slowloris
  // client that starts a frame and trickles it is closed after this.
  { name: 'tributary.request.frame.timeout.ms', importance: 'low', type: 'int', default: '30000',
    min: 1, doc: 'A request frame that has started arriving must be complete within this' },
  { name: 'log.segment.bytes', importance: 'high', type: 'int', default: String(1024 ** 3),
    min: SEGMENT_BYTES_MIN,
    doc: 'Segment size before a roll' },
  { name: 'internal.segment.bytes', importance: 'low', type: 'int', default: null, min: 14,
    doc: 'For tests only: when set, the segment size of every topic, in place of segment.bytes ' +
      'and below its 1 MiB minimum (Kafka 4\'s internal.segment.bytes, KIP-1030)' },
  { name: 'log.roll.ms', importance: 'high',
    type: 'long', default: null, min: SEGMENT_MS_MIN, doc: 'Segment age before a roll' },
  { name: 'log.roll.hours', importance: 'high', type: 'int', default: '168', min: 1,
    doc: 'Segment age before a roll, in hours (log.roll.ms wins)' },
  { name: 'log.retention.ms', importance: 'high', type: 'long', default: null, min: -1,
    doc: 'How long to keep a segment (-1: forever)' },
  { name: 'log.retention.minutes', importance: 'high', type: 'int', default: null, min: -1,
    doc: 'Retention in minutes (log.retention.ms wins)' },
  { name: 'log.retention.hours', importance: 'high', type: 'int', default: '168', min: -1,
    doc: 'Retention in hours (minutes and ms win)' },
  { name: 'log.retention.bytes', importance: 'high', type: 'long', default: '-1', min: -1,
    doc: 'Bytes to keep per partition (-1: no limit)' },
  { name: 'log.index.interval.bytes', importance: 'low', type: 'int', default: '4096', min: 0,
    doc: 'Bytes of log between two offset index entries' },
  { name: 'log.index.size.max.bytes', importance: 'low', type: 'int', default: '10485760',
    min: SEGMENT_INDEX_BYTES_MIN,
    doc: 'Largest offset index' },
  { name: 'log.flush.interval.messages', importance: 'high',
    type: 'long', default: LONG_MAX, min: 1,
    doc: 'Relaxed mode: fsync after this many records' },
  { name: 'log.flush.interval.ms', importance: 'high', type: 'long', default: null, min: 0,
    doc: 'Relaxed mode: fsync at least this often' },
  { name: 'tributary.fsync.before.ack', importance: 'high', type: 'boolean', default: 'true',
    doc: 'Acknowledge a write only after an fdatasync covers it (group commit). When false, ' +
      'log.flush.interval.messages/ms decide when to fsync, as in Kafka' },
  { name: 'tributary.log.tail.cache.bytes', importance: 'low', type: 'long',
    default: String(64 * 1024 * 1024), min: 0,
    doc: 'Memory for the newest written batches of the most recently written partitions ' +
      '(1 MiB each), so that fetches at the tail are answered without a file read; ' +
      '0 turns it off' },
  { name: 'log.cleanup.policy', importance: 'medium', type: 'list', default: 'delete',
    choices: ['delete', 'compact'], doc: 'delete and/or compact' },
  { name: 'log.retention.check.interval.ms', importance: 'low',
    type: 'long', default: '300000', min: 1,
    doc: 'How often retention runs' },
  { name: 'log.segment.delete.delay.ms', importance: 'high', type: 'long', default: '60000',
    min: 0, doc: 'How long a deleted segment\'s files wait (renamed .deleted) before removal' },
  { name: 'log.message.timestamp.type', importance: 'medium', type: 'string', default: 'CreateTime',
    choices: ['CreateTime', 'LogAppendTime'], doc: 'Which timestamp records keep' },
  { name: 'log.message.timestamp.difference.max.ms', importance: 'low',
    type: 'long', default: LONG_MAX, min: 0,
    doc: 'Largest allowed gap between a record timestamp and the broker clock' },
  { name: 'min.insync.replicas', importance: 'high', type: 'int', default: '1', min: 1,
    doc: 'Replicas that must have a write for acks=all' },
  { name: 'compression.type', importance: 'high', type: 'string', default: 'producer',
    choices: ['producer', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd'],
    doc: 'Final compression of a topic' },
  { name: 'offsets.topic.num.partitions', importance: 'high', type: 'int', default: '50', min: 1,
    doc: 'Partitions of __consumer_offsets' },
  { name: 'offsets.topic.replication.factor', importance: 'high', type: 'short', default: '3',
    min: 1, doc: 'Replication factor of __consumer_offsets (capped at the live brokers)' },
  { name: 'offsets.retention.minutes', importance: 'high', type: 'int', default: '10080', min: 1,
    doc: 'How long offsets of an empty group are kept' },
  { name: 'group.initial.rebalance.delay.ms', importance: 'medium',
    type: 'int', default: '3000', min: 0,
    doc: 'Wait for more members before the first rebalance' },
  { name: 'group.max.size', importance: 'medium', type: 'int', default: '2147483647', min: 1,
    doc: 'Members a consumer group may have' },
  { name: 'group.min.session.timeout.ms', importance: 'medium',
    type: 'int', default: '6000', min: 0,
    doc: 'Smallest session timeout a member may ask for' },
  { name: 'group.max.session.timeout.ms', importance: 'medium',
    type: 'int', default: '1800000', min: 0,
    doc: 'Largest session timeout a member may ask for' },
  { name: 'transactional.id.expiration.ms', importance: 'medium',
    type: 'int', default: '604800000', min: 1,
    doc: 'Idle time before a transactional id expires' },
  { name: 'transaction.max.timeout.ms', importance: 'high', type: 'int', default: '900000',
    min: 1, doc: 'Largest transaction.timeout.ms a transactional producer may ask for' },
  { name: 'transaction.state.log.num.partitions', importance: 'high', type: 'int',
    default: '50', min: 1, doc: 'Partitions of __transaction_state' },
  { name: 'transaction.state.log.replication.factor', importance: 'high', type: 'short',
    default: '3', min: 1,
    doc: 'Replication factor of __transaction_state (capped at the live brokers)' },
  { name: 'transaction.state.log.min.isr', importance: 'high', type: 'int', default: '2',
    min: 1, doc: 'min.insync.replicas of __transaction_state (capped at its replication ' +
      'factor)' },
  { name: 'producer.id.expiration.ms', importance: 'medium',
    type: 'int', default: '86400000', min: 1,
    doc: 'Idle time before a producer id\'s state expires' },
  { name: 'connections.max.idle.ms', importance: 'medium', type: 'long', default: '600000', min: 1,
    doc: 'A connection with no request being handled and no traffic for this long is closed' },
  { name: 'log.cleaner.delete.retention.ms', importance: 'medium', type: 'long',
    default: String(DAY_MS), min: 0,
    doc: 'How long tombstones and transaction markers are kept after compaction' },
  { name: 'log.cleaner.min.cleanable.ratio', importance: 'medium', type: 'double',
    default: '0.5', min: 0, max: 1, doc: 'Dirty ratio that makes a log eligible for compaction' },
  { name: 'log.cleaner.min.compaction.lag.ms', importance: 'medium', type: 'long', default: '0',
    min: 0, doc: 'Minimum age before a record may be compacted' },
  { name: 'log.cleaner.max.compaction.lag.ms', importance: 'medium', type: 'long',
    default: LONG_MAX, min: 1,
    doc: 'Age after which a record is compacted whatever the dirty ratio' },
  { name: 'log.cleaner.enable', importance: 'medium', type: 'boolean', default: 'true',
    doc: 'Run the log cleaner (compaction of cleanup.policy=compact topics)' },
  { name: 'log.cleaner.threads', importance: 'medium', type: 'int', default: '1', min: 0,
    doc: 'Logs cleaned at once (0: no compaction)' },
  { name: 'log.cleaner.dedupe.buffer.size', importance: 'medium', type: 'long',
    default: String(128 * 1024 * 1024), min: 1024,
    doc: 'Memory for the key to offset map of a cleaning, over all cleaner threads' },
  { name: 'log.cleaner.io.max.bytes.per.second', importance: 'medium', type: 'double',
    default: '1.7976931348623157E308', min: 1,
    doc: 'Bytes per second the cleaner reads and writes at most, all threads together' },
  { name: 'log.cleaner.backoff.ms', importance: 'medium', type: 'long', default: '15000', min: 0,
    doc: 'Pause of the cleaner when no log needs cleaning' },
  { name: 'unclean.leader.election.enable', importance: 'high', type: 'boolean',
    default: 'false', doc: 'Allow an out-of-sync replica to become leader' },
  { name: 'controlled.shutdown.enable', importance: 'medium', type: 'boolean', default: 'true',
    doc: 'On SIGTERM, ask the controller to move leadership off this broker before it stops' },
  { name: 'auto.leader.rebalance.enable', importance: 'high', type: 'boolean', default: 'true',
    doc: 'The active controller moves leadership back to preferred replicas when a broker\'s ' +
      'leader imbalance passes leader.imbalance.per.broker.percentage' },
  { name: 'leader.imbalance.check.interval.seconds', importance: 'high', type: 'long',
    default: '300', min: 1, doc: 'How often the active controller checks leader imbalance' },
  { name: 'leader.imbalance.per.broker.percentage', importance: 'high', type: 'int',
    default: '10', min: 0, max: 100,
    doc: 'Share of a broker\'s preferred partitions led elsewhere that triggers a rebalance' },
  { name: 'tributary.metrics.partition.enabled', importance: 'low',
    type: 'boolean', default: 'true',
    doc: 'Export per-partition metric series' },
  { name: 'tributary.debug.latency.sample.rate', importance: 'low',
    type: 'double', default: '0', min: 0, max: 1,
    doc: 'Debug: share of produced batches whose stages (queued, write, fdatasync, ' +
      'acknowledgement, consumer wake-up) are timed and served with event-loop delay and GC ' +
      'pauses at GET /debug/latency on the HTTP port; 0 turns it off' },
  { name: 'consumer.instance.timeout.ms', importance: 'medium',
    type: 'int', default: '300000', min: 1000,
    doc: 'HTTP consumer instances expire after this long without requests' },
  { name: 'http.consumer.instances.max', importance: 'low',
    type: 'int', default: '1000', min: 0,
    doc: 'HTTP consumer instances (native and REST Proxy v2, pending ones included) at once' },
  { name: 'http.sse.streams.max', importance: 'low',
    type: 'int', default: '1000', min: 0,
    doc: 'Server-sent event streams open at once on the HTTP listener' },
  // Ours: the HTTP listener's counterpart of max.connections (Node's server.maxConnections);
  // past it a new connection is closed at once. Node's own headersTimeout and requestTimeout
  // bound a slow client's request.
  { name: 'http.connections.max', importance: 'low',
    type: 'int', default: '1000', min: 1,
    doc: 'Connections open at once on the HTTP listener' },
]

/** Topic-level configs (Kafka's TopicConfig) and the broker property behind each default. */
export const TOPIC_CONFIGS: readonly ConfigDefinition[] = [
  { name: 'cleanup.policy', importance: 'high',
    type: 'list', default: 'delete', choices: ['delete', 'compact'],
    brokerSynonym: 'log.cleanup.policy', doc: 'delete and/or compact' },
  { name: 'retention.ms', importance: 'high', type: 'long', default: String(7 * DAY_MS), min: -1,
    brokerSynonym: 'log.retention.ms', doc: 'How long to keep a segment (-1: forever)' },
  { name: 'retention.bytes', importance: 'high', type: 'long', default: '-1', min: -1,
    brokerSynonym: 'log.retention.bytes', doc: 'Bytes to keep per partition' },
  { name: 'segment.bytes', importance: 'high', type: 'int', default: String(1024 ** 3),
    min: SEGMENT_BYTES_MIN, brokerSynonym: 'log.segment.bytes',
    doc: 'Segment size before a roll' },
  { name: 'segment.ms', importance: 'medium', type: 'long', default: String(7 * DAY_MS),
    min: SEGMENT_MS_MIN,
    brokerSynonym: 'log.roll.ms', doc: 'Segment age before a roll' },
  { name: 'max.message.bytes', importance: 'high', type: 'int', default: '1048588', min: 0,
    brokerSynonym: 'message.max.bytes', doc: 'Largest record batch' },
  { name: 'min.insync.replicas', importance: 'high', type: 'int', default: '1', min: 1,
    brokerSynonym: 'min.insync.replicas', doc: 'Replicas needed for acks=all' },
  { name: 'compression.type', importance: 'high', type: 'string', default: 'producer',
    choices: ['producer', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd'],
    brokerSynonym: 'compression.type', doc: 'Final compression' },
  { name: 'message.timestamp.type', importance: 'medium', type: 'string', default: 'CreateTime',
    choices: ['CreateTime', 'LogAppendTime'], brokerSynonym: 'log.message.timestamp.type',
    doc: 'Which timestamp records keep' },
  { name: 'message.timestamp.difference.max.ms', importance: 'low',
    type: 'long', default: LONG_MAX, min: 0,
    brokerSynonym: 'log.message.timestamp.difference.max.ms',
    doc: 'Largest gap between record timestamp and broker clock' },
  { name: 'index.interval.bytes', importance: 'low', type: 'int', default: '4096', min: 0,
    brokerSynonym: 'log.index.interval.bytes', doc: 'Bytes between index entries' },
  { name: 'segment.index.bytes', importance: 'low', type: 'int', default: '10485760',
    min: SEGMENT_INDEX_BYTES_MIN,
    brokerSynonym: 'log.index.size.max.bytes', doc: 'Largest offset index' },
  { name: 'flush.messages', importance: 'medium', type: 'long', default: LONG_MAX, min: 1,
    brokerSynonym: 'log.flush.interval.messages', doc: 'Relaxed mode: fsync every N records' },
  { name: 'flush.ms', importance: 'medium', type: 'long', default: LONG_MAX, min: 0,
    brokerSynonym: 'log.flush.interval.ms', doc: 'Relaxed mode: fsync at least this often' },
  { name: 'file.delete.delay.ms', importance: 'medium', type: 'long', default: '60000', min: 0,
    brokerSynonym: 'log.segment.delete.delay.ms',
    doc: 'How long a deleted segment\'s files wait (renamed .deleted) before removal' },
  { name: 'delete.retention.ms', importance: 'high', type: 'long', default: String(DAY_MS), min: 0,
    brokerSynonym: 'log.cleaner.delete.retention.ms',
    doc: 'How long tombstones and transaction markers are kept after compaction' },
  { name: 'min.cleanable.dirty.ratio', importance: 'medium',
    type: 'double', default: '0.5', min: 0, max: 1,
    brokerSynonym: 'log.cleaner.min.cleanable.ratio',
    doc: 'Dirty ratio that makes a log eligible for compaction' },
  { name: 'min.compaction.lag.ms', importance: 'low', type: 'long', default: '0', min: 0,
    brokerSynonym: 'log.cleaner.min.compaction.lag.ms',
    doc: 'Minimum age before a record may be compacted' },
  { name: 'max.compaction.lag.ms', importance: 'low', type: 'long', default: LONG_MAX, min: 1,
    brokerSynonym: 'log.cleaner.max.compaction.lag.ms',
    doc: 'Age after which a record is compacted whatever the dirty ratio' },
  { name: 'unclean.leader.election.enable', importance: 'high', type: 'boolean', default: 'false',
    brokerSynonym: 'unclean.leader.election.enable',
    doc: 'Allow an out-of-sync replica to become leader' },
]

/** A configuration problem; its message is always one line naming the property. */
export class ConfigError extends Error {
  override name = 'ConfigError'
  constructor (message: string) {
    // One line, whatever a hostile value or file name contains.
    super(message.replace(/[\r\n]+/g, ' '))
  }
}

const INTEGER = /^[+-]?\d+$/
const INT64_MAX = 9223372036854775807n

/** Shows a raw value in a message: quoted, escaped, and cut short. */
function show (value: string): string {
  return JSON.stringify(value.length > 60 ? value.slice(0, 60) + '...' : value)
}

/**
 * The canonical form of a raw value, or the one-line problem with it. Parsing follows Kafka's
 * ConfigDef.parseType: values are trimmed, booleans are case-insensitive, numbers are plain
 * decimal (no `1e3`, no hex), list items are trimmed and empty items dropped.
 */
export function normalizeValue (definition: ConfigDefinition, raw: string):
{ value: string } | { problem: string } {
  const name = definition.name
  const value = raw.trim()
  const bad = (why: string): { problem: string } =>
    ({ problem: `invalid value for ${name}: ${why}` })
  switch (definition.type) {
    case 'boolean': {
      const lower = value.toLowerCase()
      return lower === 'true' || lower === 'false'
        ? { value: lower }
        : bad(`${show(raw)} is not true or false`)
    }
    case 'string':
      // Kafka's ConfigDef.NonEmptyString: an empty host or directory is never meant.
      if (value === '') return bad('it is empty')
      if (definition.choices !== undefined && !definition.choices.includes(value)) {
        return bad(`${show(value)} is not one of ${definition.choices.join(', ')}`)
      }
      return { value }
    case 'list': {
      const items = value.split(',').map(item => item.trim()).filter(item => item !== '')
      const wrong = items.find(item => definition.choices?.includes(item) === false)
      if (wrong !== undefined) {
        return bad(`${show(wrong)} is not one of ${definition.choices?.join(', ') ?? ''}`)
      }
      return { value: items.join(',') }
    }
    case 'double': {
      const number = Number(value)
      if (value === '' || !Number.isFinite(number)) return bad(`${show(raw)} is not a number`)
      return checkRange(definition, number, value)
    }
    default:
      return normalizeInteger(definition, raw, value)
  }
}

function normalizeInteger (definition: ConfigDefinition, raw: string, value: string):
{ value: string } | { problem: string } {
  const name = definition.name
  if (!INTEGER.test(value)) {
    return { problem: `invalid value for ${name}: ${show(raw)} is not an integer` }
  }
  const big = BigInt(value)
  const limit = definition.type === 'long' ? INT64_MAX
    : definition.type === 'short' ? 0x7fffn : 0x7fffffffn
  if (big > limit || big < -limit - 1n) {
    return { problem: `invalid value for ${name}: ${value} does not fit a ${definition.type}` }
  }
  // Kafka's Long.MAX_VALUE means "never"; 2^53-1 means the same to every caller here.
  const safe = BigInt(Number.MAX_SAFE_INTEGER)
  const clamped = big > safe ? safe : big < -safe ? -safe : big
  return checkRange(definition, Number(clamped), String(clamped))
}

function checkRange (definition: ConfigDefinition, number: number, canonical: string):
{ value: string } | { problem: string } {
  const name = definition.name
  if (definition.min !== undefined && number < definition.min) {
    return { problem: `invalid value for ${name}: ${canonical} is below the minimum ` +
      String(definition.min) }
  }
  if (definition.max !== undefined && number > definition.max) {
    return { problem: `invalid value for ${name}: ${canonical} is above the maximum ` +
      String(definition.max) }
  }
  return { value: canonical }
}

/** Checks one value against its definition; returns the one-line problem, or undefined. */
export function checkValue (definition: ConfigDefinition, value: string): string | undefined {
  const result = normalizeValue(definition, value)
  return 'problem' in result ? result.problem : undefined
}

export const BROKER_CONFIG_BY_NAME: ReadonlyMap<string, ConfigDefinition> =
  new Map(BROKER_CONFIGS.map(d => [d.name, d]))
export const TOPIC_CONFIG_BY_NAME: ReadonlyMap<string, ConfigDefinition> =
  new Map(TOPIC_CONFIGS.map(d => [d.name, d]))

// The table invariants from the header, checked once at load: a typo here is a programmer error.
for (const [table, byName] of [[BROKER_CONFIGS, BROKER_CONFIG_BY_NAME],
  [TOPIC_CONFIGS, TOPIC_CONFIG_BY_NAME]] as const) {
  assert(byName.size === table.length, 'config names are unique')
  for (const definition of table) {
    if (definition.default === null) continue
    const normal = normalizeValue(definition, definition.default)
    assert('value' in normal, `default of ${definition.name} is valid`)
    assert(normal.value === definition.default, `default of ${definition.name} is canonical`)
  }
}
for (const definition of TOPIC_CONFIGS) {
  if (definition.brokerSynonym === undefined) continue
  assert(BROKER_CONFIG_BY_NAME.has(definition.brokerSynonym),
    `${definition.name} names a broker synonym that exists`)
}
