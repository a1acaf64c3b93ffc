/**
 * The one configuration schema: every broker and topic property Tributary knows, by Kafka's
 * names, with type, default, validation and documentation (Kafka's KafkaConfig / LogConfig /
 * ServerLogConfigs). Topic-level properties name their broker-level default (`retention.ms`
 * falls back to `log.retention.ms`), as Kafka's LogConfig synonyms do.
 */
export type ConfigType = 'int' | 'long' | 'short' | 'double' | 'boolean' | 'string' | 'list'

export interface ConfigDefinition {
  name: string
  type: ConfigType
  default: string | null
  doc: string
  min?: number
  max?: number
  choices?: readonly string[]
  /** For topic configs: the broker property that supplies the default. */
  brokerSynonym?: string
  sensitive?: boolean
}

const LONG_MAX = String(Number.MAX_SAFE_INTEGER)
const DAY_MS = 24 * 3600 * 1000

export const BROKER_CONFIGS: readonly ConfigDefinition[] = [
  { name: 'node.id', type: 'int', default: '1', min: 0, doc: 'This broker\'s node id' },
  { name: 'log.dirs', type: 'string', default: './segments', doc: 'The data directory' },
  { name: 'listeners.host', type: 'string', default: '127.0.0.1',
    doc: 'Address the Kafka and HTTP listeners bind (0.0.0.0 in a container)' },
  { name: 'listeners.port', type: 'int', default: '9092', min: 0, max: 65535,
    doc: 'Kafka listener port (0 picks a free port)' },
  { name: 'http.port', type: 'int', default: '8080', min: 0, max: 65535,
    doc: 'HTTP listener port (0 picks a free port)' },
  { name: 'advertised.host', type: 'string', default: null,
    doc: 'Host clients are told to connect to (default: the listener host)' },
  { name: 'advertised.port', type: 'int', default: null, min: 1, max: 65535,
    doc: 'Port clients are told to connect to (default: the bound listener port)' },
  { name: 'external.listener.port', type: 'int', default: null, min: 0, max: 65535,
    doc: 'Port of a second Kafka listener, EXTERNAL, for clients outside a container network' },
  { name: 'external.advertised.host', type: 'string', default: null,
    doc: 'Host advertised on the EXTERNAL listener (default: advertised.host)' },
  { name: 'external.advertised.port', type: 'int', default: null, min: 1, max: 65535,
    doc: 'Port advertised on the EXTERNAL listener (default: its bound port)' },
  { name: 'num.partitions', type: 'int', default: '1', min: 1, max: 10000,
    doc: 'Partitions of an auto-created topic' },
  { name: 'default.replication.factor', type: 'short', default: '1', min: 1,
    doc: 'Replication factor of auto-created topics' },
  { name: 'auto.create.topics.enable', type: 'boolean', default: 'true',
    doc: 'Create a topic when a client first asks for it' },
  { name: 'delete.topic.enable', type: 'boolean', default: 'true',
    doc: 'Allow DeleteTopics' },
  { name: 'message.max.bytes', type: 'int', default: '1048588', min: 0,
    doc: 'Largest record batch the broker accepts' },
  { name: 'socket.request.max.bytes', type: 'int', default: '104857600', min: 1,
    doc: 'Largest request frame' },
  { name: 'max.connections', type: 'int', default: '10000', min: 1,
    doc: 'Connections accepted at once' },
  { name: 'log.segment.bytes', type: 'int', default: String(1024 ** 3), min: 14,
    doc: 'Segment size before a roll' },
  { name: 'log.roll.ms', type: 'long', default: null, min: 1, doc: 'Segment age before a roll' },
  { name: 'log.roll.hours', type: 'int', default: '168', min: 1,
    doc: 'Segment age before a roll, in hours (log.roll.ms wins)' },
  { name: 'log.retention.ms', type: 'long', default: null, min: -1,
    doc: 'How long to keep a segment (-1: forever)' },
  { name: 'log.retention.minutes', type: 'int', default: null, min: -1,
    doc: 'Retention in minutes (log.retention.ms wins)' },
  { name: 'log.retention.hours', type: 'int', default: '168', min: -1,
    doc: 'Retention in hours (minutes and ms win)' },
  { name: 'log.retention.bytes', type: 'long', default: '-1', min: -1,
    doc: 'Bytes to keep per partition (-1: no limit)' },
  { name: 'log.index.interval.bytes', type: 'int', default: '4096', min: 0,
    doc: 'Bytes of log between two offset index entries' },
  { name: 'log.index.size.max.bytes', type: 'int', default: '10485760', min: 4,
    doc: 'Largest offset index' },
  { name: 'log.flush.interval.messages', type: 'long', default: LONG_MAX, min: 1,
    doc: 'Relaxed mode: fsync after this many records' },
  { name: 'log.flush.interval.ms', type: 'long', default: null, min: 0,
    doc: 'Relaxed mode: fsync at least this often' },
  { name: 'tributary.fsync.before.ack', type: 'boolean', default: 'true',
    doc: 'Acknowledge a write only after an fdatasync covers it (group commit). When false, ' +
      'log.flush.interval.messages/ms decide when to fsync, as in Kafka' },
  { name: 'log.cleanup.policy', type: 'list', default: 'delete',
    choices: ['delete', 'compact'], doc: 'delete and/or compact' },
  { name: 'log.retention.check.interval.ms', type: 'long', default: '300000', min: 1,
    doc: 'How often retention runs' },
  { name: 'log.message.timestamp.type', type: 'string', default: 'CreateTime',
    choices: ['CreateTime', 'LogAppendTime'], doc: 'Which timestamp records keep' },
  { name: 'log.message.timestamp.difference.max.ms', type: 'long', default: LONG_MAX, min: 0,
    doc: 'Largest allowed gap between a record timestamp and the broker clock' },
  { name: 'min.insync.replicas', type: 'int', default: '1', min: 1,
    doc: 'Replicas that must have a write for acks=all' },
  { name: 'compression.type', type: 'string', default: 'producer',
    choices: ['producer', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd'],
    doc: 'Final compression of a topic' },
  { name: 'offsets.topic.num.partitions', type: 'int', default: '50', min: 1,
    doc: 'Partitions of __consumer_offsets' },
  { name: 'offsets.retention.minutes', type: 'int', default: '10080', min: 1,
    doc: 'How long offsets of an empty group are kept' },
  { name: 'group.initial.rebalance.delay.ms', type: 'int', default: '3000', min: 0,
    doc: 'Wait for more members before the first rebalance' },
  { name: 'group.max.size', type: 'int', default: '2147483647', min: 1,
    doc: 'Members a consumer group may have' },
  { name: 'group.min.session.timeout.ms', type: 'int', default: '6000', min: 0,
    doc: 'Smallest session timeout a member may ask for' },
  { name: 'group.max.session.timeout.ms', type: 'int', default: '1800000', min: 0,
    doc: 'Largest session timeout a member may ask for' },
  { name: 'transactional.id.expiration.ms', type: 'int', default: '604800000', min: 1,
    doc: 'Idle time before a transactional id expires' },
  { name: 'producer.id.expiration.ms', type: 'int', default: '86400000', min: 1,
    doc: 'Idle time before a producer id\'s state expires' },
  { name: 'connections.max.idle.ms', type: 'long', default: '600000', min: 1,
    doc: 'Idle connections are closed after this' },
  { name: 'tributary.metrics.partition.enabled', type: 'boolean', default: 'true',
    doc: 'Export per-partition metric series' },
  { name: 'consumer.instance.timeout.ms', type: 'int', default: '300000', min: 1000,
    doc: 'HTTP consumer instances expire after this long without requests' },
]

/** Topic-level configs (Kafka's TopicConfig) and the broker property behind each default. */
export const TOPIC_CONFIGS: readonly ConfigDefinition[] = [
  { name: 'cleanup.policy', type: 'list', default: 'delete', choices: ['delete', 'compact'],
    brokerSynonym: 'log.cleanup.policy', doc: 'delete and/or compact' },
  { name: 'retention.ms', type: 'long', default: String(7 * DAY_MS), min: -1,
    brokerSynonym: 'log.retention.ms', doc: 'How long to keep a segment (-1: forever)' },
  { name: 'retention.bytes', type: 'long', default: '-1', min: -1,
    brokerSynonym: 'log.retention.bytes', doc: 'Bytes to keep per partition' },
  { name: 'segment.bytes', type: 'int', default: String(1024 ** 3), min: 14,
    brokerSynonym: 'log.segment.bytes', doc: 'Segment size before a roll' },
  { name: 'segment.ms', type: 'long', default: String(7 * DAY_MS), min: 1,
    brokerSynonym: 'log.roll.ms', doc: 'Segment age before a roll' },
  { name: 'max.message.bytes', type: 'int', default: '1048588', min: 0,
    brokerSynonym: 'message.max.bytes', doc: 'Largest record batch' },
  { name: 'min.insync.replicas', type: 'int', default: '1', min: 1,
    brokerSynonym: 'min.insync.replicas', doc: 'Replicas needed for acks=all' },
  { name: 'compression.type', type: 'string', default: 'producer',
    choices: ['producer', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd'],
    brokerSynonym: 'compression.type', doc: 'Final compression' },
  { name: 'message.timestamp.type', type: 'string', default: 'CreateTime',
    choices: ['CreateTime', 'LogAppendTime'], brokerSynonym: 'log.message.timestamp.type',
    doc: 'Which timestamp records keep' },
  { name: 'message.timestamp.difference.max.ms', type: 'long', default: LONG_MAX, min: 0,
    brokerSynonym: 'log.message.timestamp.difference.max.ms',
    doc: 'Largest gap between record timestamp and broker clock' },
  { name: 'index.interval.bytes', type: 'int', default: '4096', min: 0,
    brokerSynonym: 'log.index.interval.bytes', doc: 'Bytes between index entries' },
  { name: 'segment.index.bytes', type: 'int', default: '10485760', min: 4,
    brokerSynonym: 'log.index.size.max.bytes', doc: 'Largest offset index' },
  { name: 'flush.messages', type: 'long', default: LONG_MAX, min: 1,
    brokerSynonym: 'log.flush.interval.messages', doc: 'Relaxed mode: fsync every N records' },
  { name: 'flush.ms', type: 'long', default: LONG_MAX, min: 0,
    brokerSynonym: 'log.flush.interval.ms', doc: 'Relaxed mode: fsync at least this often' },
  { name: 'delete.retention.ms', type: 'long', default: String(DAY_MS), min: 0,
    doc: 'How long tombstones are kept after compaction' },
  { name: 'min.cleanable.dirty.ratio', type: 'double', default: '0.5', min: 0, max: 1,
    doc: 'Dirty ratio that makes a log eligible for compaction' },
  { name: 'min.compaction.lag.ms', type: 'long', default: '0', min: 0,
    doc: 'Minimum age before a record may be compacted' },
  { name: 'unclean.leader.election.enable', type: 'boolean', default: 'false',
    doc: 'Allow an out-of-sync replica to become leader' },
]

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** Checks one value against its definition; returns the problem, or undefined. */
export function checkValue (definition: ConfigDefinition, value: string): string | undefined {
  const name = definition.name
  switch (definition.type) {
    case 'boolean':
      return value === 'true' || value === 'false'
        ? undefined
        : `invalid value for ${name}: "${value}" is not true or false`
    case 'string':
    case 'list': {
      if (definition.choices === undefined) return undefined
      const items = definition.type === 'list' ? value.split(',').map(v => v.trim()) : [value]
      const bad = items.find(item => !definition.choices?.includes(item))
      return bad === undefined
        ? undefined
        : `invalid value for ${name}: "${bad}" is not one of ${definition.choices.join(', ')}`
    }
    default: {
      const number = Number(value)
      const integral = definition.type !== 'double'
      if (value.trim() === '' || !Number.isFinite(number) ||
        (integral && !Number.isSafeInteger(number))) {
        return `invalid value for ${name}: "${value}" is not ${integral ? 'an integer' : 'a number'}`
      }
      if (definition.type === 'int' && Math.abs(number) > 0x7fffffff) {
        return `invalid value for ${name}: ${value} does not fit a 32-bit int`
      }
      if (definition.min !== undefined && number < definition.min) {
        return `invalid value for ${name}: ${value} is below the minimum ${definition.min}`
      }
      if (definition.max !== undefined && number > definition.max) {
        return `invalid value for ${name}: ${value} is above the maximum ${definition.max}`
      }
      return undefined
    }
  }
}

export const BROKER_CONFIG_BY_NAME = new Map(BROKER_CONFIGS.map(d => [d.name, d]))
export const TOPIC_CONFIG_BY_NAME = new Map(TOPIC_CONFIGS.map(d => [d.name, d]))
