/**
 * Loading the broker configuration once, at start-up: a Java `.properties` file (`--config`),
 * then environment variables `TRIBUTARY_<NAME>` (the property name upper-cased, `.` and `-` as
 * `_`, looked up in the schema because `_` is ambiguous), then command-line flags; later sources
 * win. Within one source, Kafka's synonyms resolve first: `log.dirs` beats `log.dir`, and
 * `listeners=NAME://host:port` fills `listeners.host`/`listeners.port` unless the same source
 * sets those.
 *
 * Flags of `tributary broker` and their properties: --data-dir → log.dirs, --host →
 * listeners.host, --port → listeners.port, --http-port → http.port, --node-id → node.id,
 * --advertised-host → advertised.host (--config names the file).
 *
 * Failure: an unknown property, flag or TRIBUTARY_* variable, a bad value, an unreadable file
 * or inconsistent values reject with a ConfigError whose message is one line naming the
 * property and its source; the caller exits non-zero with it. Variables outside the TRIBUTARY_
 * prefix, and those in ENV_ALLOW_LIST, are ignored. The result is immutable after loading.
 */
import { readFile } from '../io/disk.js'
import { assert } from '../util/assert.js'
import { parseProperties } from './properties.js'
import {
  BROKER_CONFIG_BY_NAME, BROKER_CONFIGS, ConfigError, normalizeValue,
} from './schema.js'

/** Where a value came from, by DescribeConfigs' ConfigSource names. */
export type ConfigSource = 'DEFAULT_CONFIG' | 'STATIC_BROKER_CONFIG'

export interface ConfigProperty { value: string | null, source: ConfigSource }

export interface BrokerConfig {
  nodeId: number
  dataDir: string
  host: string
  port: number
  httpPort: number
  advertisedHost: string
  /** Port announced in Metadata; undefined: the port actually bound. */
  advertisedPort: number | undefined
  externalListenerPort: number | undefined
  externalAdvertisedHost: string
  externalAdvertisedPort: number | undefined
  numPartitions: number
  defaultReplicationFactor: number
  autoCreateTopicsEnable: boolean
  deleteTopicEnable: boolean
  messageMaxBytes: number
  socketRequestMaxBytes: number
  fetchMaxBytes: number
  queuedMaxRequests: number
  connectionMaxInflightRequests: number
  connectionsMaxIdleMs: number
  maxConnections: number
  maxConnectionsPerIp: number
  queuedMaxRequestBytes: number
  requestFrameTimeoutMs: number
  fsyncBeforeAck: boolean
  logRetentionCheckIntervalMs: number
  /** The log cleaner (issue #16): log.cleaner.* */
  logCleaner: {
    enable: boolean
    threads: number
    dedupeBufferBytes: number
    ioMaxBytesPerSecond: number
    backoffMs: number
  }
  offsetsTopicNumPartitions: number
  offsetsRetentionMinutes: number
  groupInitialRebalanceDelayMs: number
  groupMinSessionTimeoutMs: number
  groupMaxSessionTimeoutMs: number
  groupMaxSize: number
  transactionalIdExpirationMs: number
  producerIdExpirationMs: number
  consumerInstanceTimeoutMs: number
  metricsPartitionEnabled: boolean
  /** Every broker property with its effective value (null: unset) and where it came from. */
  properties: ReadonlyMap<string, ConfigProperty>
}

const NUMERIC_TYPES: ReadonlySet<string> = new Set(['int', 'long', 'double', 'short'])

/**
 * A numeric broker property's effective value, for the parts that read one by name (the ones
 * without a field of their own above). Only for properties with a schema default: an unset one
 * is an assertion, not a NaN that would reach a timer or a size.
 */
export function numericProperty (config: BrokerConfig, name: string): number {
  const definition = BROKER_CONFIG_BY_NAME.get(name)
  assert(definition !== undefined && NUMERIC_TYPES.has(definition.type),
    `${name} is a numeric broker property`)
  const value = config.properties.get(name)?.value
  assert(value !== null && value !== undefined, `${name} has a value (its schema default)`)
  return Number(value)
}

export interface LoadedBrokerConfig {
  config: BrokerConfig
  /** Effective canonical values of every broker property (null: unset). */
  properties: ReadonlyMap<string, string | null>
  sources: ReadonlyMap<string, ConfigSource>
}

/** TRIBUTARY_* variables that are not properties: the log level of the console logger. */
export const ENV_ALLOW_LIST: ReadonlySet<string> = new Set(['TRIBUTARY_LOG_LEVEL'])

export const FLAG_PROPERTIES: Readonly<Record<string, string>> = {
  'data-dir': 'log.dirs',
  host: 'listeners.host',
  port: 'listeners.port',
  'http-port': 'http.port',
  'node-id': 'node.id',
  'advertised-host': 'advertised.host',
  etcd: 'tributary.etcd.endpoints',
  cluster: 'tributary.cluster.name',
}

export function envName (property: string): string {
  return `TRIBUTARY_${property.toUpperCase().replace(/[.-]/g, '_')}`
}

const ENV_TO_PROPERTY = new Map(BROKER_CONFIGS.map(d => [envName(d.name), d.name]))
assert(ENV_TO_PROPERTY.size === BROKER_CONFIGS.length, 'environment names are unique')

/** One source's raw values, each with the origin that error messages name. */
type SourceEntries = Map<string, { raw: string, origin: string }>

export async function loadBrokerConfig (input: {
  flags: Record<string, string | undefined>
  env: NodeJS.ProcessEnv
  propertiesFile?: string | undefined
}): Promise<LoadedBrokerConfig> {
  const values = new Map<string, string>()
  if (input.propertiesFile !== undefined) {
    const file = input.propertiesFile
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (error) {
      throw new ConfigError(`cannot read --config ${file}: ` +
        `${(error as NodeJS.ErrnoException).code ?? String(error)}`)
    }
    const entries: SourceEntries = new Map()
    for (const [name, raw] of parseProperties(text)) entries.set(name, { raw, origin: file })
    applySource(values, entries)
  }
  applySource(values, envEntries(input.env))
  applySource(values, flagEntries(input.flags))
  checkConsistency(values)
  return buildResult(values)
}

function envEntries (env: NodeJS.ProcessEnv): SourceEntries {
  const entries: SourceEntries = new Map()
  for (const [variable, raw] of Object.entries(env)) {
    if (!variable.startsWith('TRIBUTARY_') || raw === undefined) continue
    if (ENV_ALLOW_LIST.has(variable)) continue
    const name = ENV_TO_PROPERTY.get(variable)
    if (name === undefined) {
      throw new ConfigError(`unknown property in environment variable ${variable}`)
    }
    entries.set(name, { raw, origin: `environment ${variable}` })
  }
  return entries
}

function flagEntries (flags: Record<string, string | undefined>): SourceEntries {
  const entries: SourceEntries = new Map()
  for (const [flag, raw] of Object.entries(flags)) {
    if (raw === undefined) continue
    const name = FLAG_PROPERTIES[flag]
    if (name === undefined) throw new ConfigError(`unknown flag --${flag}`)
    entries.set(name, { raw, origin: `--${flag}` })
  }
  return entries
}

/** Validates one source's values, resolves its synonyms, and lays them over `values`. */
function applySource (values: Map<string, string>, entries: SourceEntries): void {
  const normal = new Map<string, string>()
  for (const [name, { raw, origin }] of entries) {
    const definition = BROKER_CONFIG_BY_NAME.get(name)
    if (definition === undefined) throw new ConfigError(`unknown property ${name} (from ${origin})`)
    const result = normalizeValue(definition, raw)
    if ('problem' in result) throw new ConfigError(`${result.problem} (from ${origin})`)
    if ((name === 'log.dirs' || name === 'log.dir') && result.value.includes(',')) {
      throw new ConfigError(`invalid value for ${name}: Tributary supports one data directory ` +
        `(from ${origin})`)
    }
    normal.set(name, result.value)
  }
  const dir = normal.get('log.dir')
  // KafkaConfig.logDirs: log.dirs when set, else log.dir.
  if (dir !== undefined && !normal.has('log.dirs')) normal.set('log.dirs', dir)
  const listeners = normal.get('listeners')
  if (listeners !== undefined) {
    const origin = entries.get('listeners')?.origin ?? 'listeners'
    const { host, port } = parseListener(listeners, origin)
    if (!normal.has('listeners.host')) normal.set('listeners.host', host)
    if (!normal.has('listeners.port')) normal.set('listeners.port', port)
  }
  for (const [name, value] of normal) values.set(name, value)
}

/** `NAME://host:port`, host possibly empty (all interfaces) or a bracketed IPv6 address. */
function parseListener (value: string, origin: string): { host: string, port: string } {
  const problem = (why: string): ConfigError =>
    new ConfigError(`invalid value for listeners: ${why} (from ${origin})`)
  if (value.includes(',')) {
    throw problem('Tributary takes one listener (external.listener.port adds a second)')
  }
  const match = /^[A-Za-z_][A-Za-z0-9_]*:\/\/(\[[0-9A-Fa-f:.]*\]|[^:/[\]]*):(\d{1,5})$/
    .exec(value)
  if (match === null) throw problem(`${JSON.stringify(value)} is not NAME://host:port`)
  const bracketed = match[1] ?? ''
  const host = bracketed.startsWith('[') ? bracketed.slice(1, -1) : bracketed
  const port = match[2] ?? ''
  if (Number(port) > 65535) throw problem(`port ${port} is above the maximum 65535`)
  return { host: host === '' ? '0.0.0.0' : host, port }
}

function checkConsistency (values: Map<string, string>): void {
  const effective = (name: string): number =>
    Number(values.get(name) ?? BROKER_CONFIG_BY_NAME.get(name)?.default)
  const min = effective('group.min.session.timeout.ms')
  const max = effective('group.max.session.timeout.ms')
  if (min > max) {
    throw new ConfigError(`invalid value for group.min.session.timeout.ms: ${min} is above ` +
      `group.max.session.timeout.ms ${max}`)
  }
  // Kafka's KafkaConfig requires the same: a pool smaller than one frame could never fill it.
  const poolBytes = effective('queued.max.request.bytes')
  const frameBytes = effective('socket.request.max.bytes')
  if (poolBytes > 0 && poolBytes < frameBytes) {
    throw new ConfigError(`invalid value for queued.max.request.bytes: ${poolBytes} is below ` +
      `socket.request.max.bytes ${frameBytes}`)
  }
}

function buildResult (values: Map<string, string>): LoadedBrokerConfig {
  const properties = new Map<string, ConfigProperty>()
  for (const definition of BROKER_CONFIGS) {
    const explicit = values.get(definition.name)
    properties.set(definition.name, explicit === undefined
      ? { value: definition.default, source: 'DEFAULT_CONFIG' }
      : { value: explicit, source: 'STATIC_BROKER_CONFIG' })
  }
  const config = buildConfig(properties)
  return {
    config,
    properties: new Map([...properties].map(([name, p]) => [name, p.value])),
    sources: new Map([...properties].map(([name, p]) => [name, p.source])),
  }
}

function buildConfig (properties: Map<string, ConfigProperty>): BrokerConfig {
  const text = (name: string): string | null => properties.get(name)?.value ?? null
  const number = (name: string): number => Number(text(name))
  const optional = (name: string): number | undefined => {
    const value = text(name)
    return value === null ? undefined : Number(value)
  }
  const flag = (name: string): boolean => text(name) === 'true'
  const host = text('listeners.host') ?? '127.0.0.1'
  // A wildcard bind address is no address to give a client (Kafka refuses 0.0.0.0 in
  // advertised.listeners); fall back to loopback.
  const advertisedHost = text('advertised.host') ??
    (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host)
  return {
    nodeId: number('node.id'),
    dataDir: text('log.dirs') ?? './segments',
    host,
    port: number('listeners.port'),
    httpPort: number('http.port'),
    advertisedHost,
    advertisedPort: optional('advertised.port'),
    externalListenerPort: optional('external.listener.port'),
    externalAdvertisedHost: text('external.advertised.host') ?? advertisedHost,
    externalAdvertisedPort: optional('external.advertised.port'),
    numPartitions: number('num.partitions'),
    defaultReplicationFactor: number('default.replication.factor'),
    autoCreateTopicsEnable: flag('auto.create.topics.enable'),
    deleteTopicEnable: flag('delete.topic.enable'),
    messageMaxBytes: number('message.max.bytes'),
    socketRequestMaxBytes: number('socket.request.max.bytes'),
    fetchMaxBytes: number('fetch.max.bytes'),
    queuedMaxRequests: number('queued.max.requests'),
    connectionMaxInflightRequests: number('tributary.connection.max.inflight.requests'),
    connectionsMaxIdleMs: number('connections.max.idle.ms'),
    maxConnections: number('max.connections'),
    maxConnectionsPerIp: number('max.connections.per.ip'),
    queuedMaxRequestBytes: number('queued.max.request.bytes'),
    requestFrameTimeoutMs: number('tributary.request.frame.timeout.ms'),
    fsyncBeforeAck: flag('tributary.fsync.before.ack'),
    logRetentionCheckIntervalMs: number('log.retention.check.interval.ms'),
    logCleaner: {
      enable: flag('log.cleaner.enable'),
      threads: number('log.cleaner.threads'),
      dedupeBufferBytes: number('log.cleaner.dedupe.buffer.size'),
      ioMaxBytesPerSecond: number('log.cleaner.io.max.bytes.per.second'),
      backoffMs: number('log.cleaner.backoff.ms'),
    },
    offsetsTopicNumPartitions: number('offsets.topic.num.partitions'),
    offsetsRetentionMinutes: number('offsets.retention.minutes'),
    groupInitialRebalanceDelayMs: number('group.initial.rebalance.delay.ms'),
    groupMinSessionTimeoutMs: number('group.min.session.timeout.ms'),
    groupMaxSessionTimeoutMs: number('group.max.session.timeout.ms'),
    groupMaxSize: number('group.max.size'),
    transactionalIdExpirationMs: number('transactional.id.expiration.ms'),
    producerIdExpirationMs: number('producer.id.expiration.ms'),
    consumerInstanceTimeoutMs: number('consumer.instance.timeout.ms'),
    metricsPartitionEnabled: flag('tributary.metrics.partition.enabled'),
    properties,
  }
}
