/**
 * Topic configs over broker defaults, and the DescribeConfigs view of both.
 *
 * A topic's effective value is its own override (a DYNAMIC_TOPIC_CONFIG, stored in metadata)
 * or else its broker synonym, as in Kafka's LogConfig: `retention.ms` falls back to
 * `log.retention.ms`, then `.minutes`, then `.hours` (KafkaConfig.logRetentionTimeMillis);
 * `segment.ms` to `log.roll.ms`, then `log.roll.hours`. DescribeConfigs (KIP-226 synonyms) lists
 * those synonyms in that precedence, each with its own source. Broker configs are read-only here:
 * Tributary has no dynamic broker configs. Pure functions over a loaded BrokerConfig.
 */
import type { BrokerConfig, ConfigSource } from './load.js'
import {
  BROKER_CONFIG_BY_NAME, BROKER_CONFIGS, normalizeValue, TOPIC_CONFIG_BY_NAME, TOPIC_CONFIGS,
} from './schema.js'

export type DescribeSource = ConfigSource | 'DYNAMIC_TOPIC_CONFIG'

/** One DescribeConfigs entry (field names as in DescribeConfigsResponse v1+). */
export interface ConfigEntry {
  name: string
  value: string | null
  readOnly: boolean
  isDefault: boolean
  isSensitive: boolean
  source: DescribeSource
  synonyms: { name: string, value: string | null, source: DescribeSource }[]
  documentation: string
  type: string
}

/** Effective topic settings, camelCase of the topic config names, numbers where numeric. */
export interface TopicConfig {
  cleanupPolicy: readonly ('delete' | 'compact')[]
  retentionMs: number
  retentionBytes: number
  segmentBytes: number
  segmentMs: number
  maxMessageBytes: number
  minInsyncReplicas: number
  compressionType: string
  messageTimestampType: 'CreateTime' | 'LogAppendTime'
  messageTimestampDifferenceMaxMs: number
  indexIntervalBytes: number
  segmentIndexBytes: number
  flushMessages: number
  flushMs: number
  deleteRetentionMs: number
  minCleanableDirtyRatio: number
  uncleanLeaderElectionEnable: boolean
  minCompactionLagMs: number
}

const HOUR_MS = 3_600_000

/** Broker properties behind a topic config, highest precedence first. */
function brokerSynonyms (topicConfig: string): string[] {
  switch (topicConfig) {
    case 'retention.ms': return ['log.retention.ms', 'log.retention.minutes', 'log.retention.hours']
    case 'segment.ms': return ['log.roll.ms', 'log.roll.hours']
    default: {
      const synonym = TOPIC_CONFIG_BY_NAME.get(topicConfig)?.brokerSynonym
      return synonym === undefined ? [] : [synonym]
    }
  }
}

/** Milliseconds from a broker synonym's value; any negative retention means "forever". */
function toMs (property: string, value: string): string {
  const number = Number(value)
  if (property.startsWith('log.retention.') && number < 0) return '-1'
  if (property.endsWith('.minutes')) return String(number * 60_000)
  if (property.endsWith('.hours')) return String(number * HOUR_MS)
  return value
}

/** The broker-level value that supplies a topic config's default, in the topic's units. */
export function brokerDefaultFor (config: BrokerConfig, topicConfig: string): string | null {
  for (const property of brokerSynonyms(topicConfig)) {
    const value = config.properties.get(property)?.value ?? null
    if (value !== null) return toMs(property, value)
  }
  // No broker synonym set (flush.ms without log.flush.interval.ms): the topic default.
  return TOPIC_CONFIG_BY_NAME.get(topicConfig)?.default ?? null
}

/**
 * A topic config's effective value: the topic's override, else its broker default. The one
 * exception is the broker's `internal.segment.bytes` (tests only): when set, it is every
 * topic's segment.bytes, below that config's minimum (Kafka 4's internal.segment.bytes).
 */
export function topicConfigValue (config: BrokerConfig,
  overrides: ReadonlyMap<string, string> | undefined, name: string): string {
  if (name === 'segment.bytes') {
    const internal = config.properties.get('internal.segment.bytes')?.value ?? null
    if (internal !== null) return internal
  }
  return overrides?.get(name) ?? brokerDefaultFor(config, name) ?? ''
}

/** Validates topic overrides (null removes one); returns a one-line problem or undefined. */
export function validateTopicConfigs (configs: Record<string, string | null>):
string | undefined {
  const result = parseTopicConfigs(configs)
  return 'error' in result ? result.error.message : undefined
}

/**
 * Validates topic overrides and returns their canonical values (null: remove the override),
 * or the first problem, naming the property (CreateTopics / AlterConfigs answer
 * INVALID_CONFIG with that message).
 */
export function parseTopicConfigs (configs: Record<string, string | null>):
{ ok: Record<string, string | null> } | { error: { name: string, message: string } } {
  const ok: Record<string, string | null> = {}
  for (const [name, raw] of Object.entries(configs)) {
    const definition = TOPIC_CONFIG_BY_NAME.get(name)
    if (definition === undefined) {
      return { error: { name, message: `unknown topic config ${name}` } }
    }
    if (raw === null) {
      ok[name] = null
      continue
    }
    const result = normalizeValue(definition, raw)
    if ('problem' in result) return { error: { name, message: result.problem } }
    ok[name] = result.value
  }
  return { ok }
}

/** A topic's settings: each override, else its broker default. Overrides must be valid. */
export function effectiveTopicConfig (config: BrokerConfig,
  overrides: ReadonlyMap<string, string> = new Map()): TopicConfig {
  const text = (name: string): string => topicConfigValue(config, overrides, name)
  const number = (name: string): number => {
    const value = Number(text(name))
    return Number.isFinite(value) ? value : Number.MAX_SAFE_INTEGER
  }
  const policy = text('cleanup.policy').split(',')
  return {
    cleanupPolicy: (['delete', 'compact'] as const).filter(p => policy.includes(p)),
    retentionMs: number('retention.ms'),
    retentionBytes: number('retention.bytes'),
    segmentBytes: number('segment.bytes'),
    segmentMs: number('segment.ms'),
    maxMessageBytes: number('max.message.bytes'),
    minInsyncReplicas: number('min.insync.replicas'),
    compressionType: text('compression.type'),
    messageTimestampType: text('message.timestamp.type') === 'LogAppendTime'
      ? 'LogAppendTime'
      : 'CreateTime',
    messageTimestampDifferenceMaxMs: number('message.timestamp.difference.max.ms'),
    indexIntervalBytes: number('index.interval.bytes'),
    segmentIndexBytes: number('segment.index.bytes'),
    flushMessages: number('flush.messages'),
    flushMs: number('flush.ms'),
    deleteRetentionMs: number('delete.retention.ms'),
    minCleanableDirtyRatio: number('min.cleanable.dirty.ratio'),
    uncleanLeaderElectionEnable: text('unclean.leader.election.enable') === 'true',
    minCompactionLagMs: number('min.compaction.lag.ms'),
  }
}

/** DescribeConfigs for the broker resource: every property, read-only, with its source. */
export function describeBrokerConfig (config: BrokerConfig, names?: readonly string[]):
ConfigEntry[] {
  const wanted = names === undefined ? BROKER_CONFIGS : names.flatMap(name => {
    const definition = BROKER_CONFIG_BY_NAME.get(name)
    return definition === undefined ? [] : [definition]
  })
  return wanted.map(definition => {
    const property = config.properties.get(definition.name)
    const source = property?.source ?? 'DEFAULT_CONFIG'
    const sensitive = definition.sensitive === true
    const value = sensitive ? null : property?.value ?? null
    return {
      name: definition.name,
      value,
      readOnly: true,
      isDefault: source === 'DEFAULT_CONFIG',
      isSensitive: sensitive,
      source,
      synonyms: [{ name: definition.name, value, source }],
      documentation: definition.doc,
      type: definition.type,
    }
  })
}

/** DescribeConfigs for a topic resource: override, else broker synonyms in precedence order. */
export function describeTopicConfig (config: BrokerConfig,
  overrides: ReadonlyMap<string, string>, names?: readonly string[]): ConfigEntry[] {
  const wanted = names === undefined ? TOPIC_CONFIGS : names.flatMap(name => {
    const definition = TOPIC_CONFIG_BY_NAME.get(name)
    return definition === undefined ? [] : [definition]
  })
  return wanted.map(definition => {
    const synonyms: ConfigEntry['synonyms'] = []
    const override = overrides.get(definition.name)
    if (override !== undefined) {
      synonyms.push({ name: definition.name, value: override, source: 'DYNAMIC_TOPIC_CONFIG' })
    }
    for (const name of brokerSynonyms(definition.name)) {
      const property = config.properties.get(name)
      if (property === undefined || property.value === null) continue
      synonyms.push({ name, value: property.value, source: property.source })
    }
    const source: DescribeSource = synonyms[0]?.source ?? 'DEFAULT_CONFIG'
    return {
      name: definition.name,
      value: override ?? brokerDefaultFor(config, definition.name),
      readOnly: false,
      isDefault: source === 'DEFAULT_CONFIG',
      isSensitive: false,
      source,
      synonyms,
      documentation: definition.doc,
      type: definition.type,
    }
  })
}
