/**
 * Loading the broker configuration: a Java `.properties` file (`--config`), then environment
 * variables `TRIBUTARY_<NAME>` (the property name upper-cased, '.' and '-' as '_'), then
 * command-line flags; later sources win. An unknown property or a bad value is a ConfigError
 * whose message is one line naming the property.
 */
import { readFile } from 'node:fs/promises'
import {
  BROKER_CONFIG_BY_NAME, BROKER_CONFIGS, checkValue, ConfigError, TOPIC_CONFIG_BY_NAME,
  type ConfigDefinition,
} from './schema.js'

export { ConfigError } from './schema.js'
export * from './schema.js'

export type ConfigSource = 'DEFAULT_CONFIG' | 'STATIC_BROKER_CONFIG'

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
  socketRequestMaxBytes: number
  maxConnections: number
  fsyncBeforeAck: boolean
  metricsPartitionEnabled: boolean
  /** Every broker property with its effective value (null: unset) and where it came from. */
  properties: Map<string, { value: string | null, source: ConfigSource }>
}

/** Environment variables that are not properties. */
const ENV_ALLOW_LIST = new Set(['TRIBUTARY_LOG_LEVEL'])

const FLAG_PROPERTIES: Record<string, string> = {
  'data-dir': 'log.dirs',
  host: 'listeners.host',
  port: 'listeners.port',
  'http-port': 'http.port',
  'node-id': 'node.id',
  'advertised-host': 'advertised.host',
}

/** Java .properties: `#`/`!` comments, `=`, `:` or space separators, `\` continuations. */
export function parseProperties (text: string): Map<string, string> {
  const result = new Map<string, string>()
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    let line = (lines[i] as string).trimStart()
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < lines.length) {
      line = line.slice(0, -1) + (lines[++i] as string).trimStart()
    }
    const match = /^((?:\\.|[^=:\s\\])+)\s*[=:\s]\s*(.*)$/.exec(line)
    const key = unescape(match?.[1] ?? line)
    result.set(key, unescape(match?.[2] ?? ''))
  }
  return result
}

function unescape (text: string): string {
  return text.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, escaped: string) => {
    if (escaped.startsWith('u') && escaped.length === 5) {
      return String.fromCharCode(parseInt(escaped.slice(1), 16))
    }
    return ({ t: '\t', n: '\n', r: '\r', f: '\f' } as Record<string, string>)[escaped] ?? escaped
  })
}

function envName (property: string): string {
  return `TRIBUTARY_${property.toUpperCase().replace(/[.-]/g, '_')}`
}

const ENV_TO_PROPERTY = new Map(BROKER_CONFIGS.map(d => [envName(d.name), d.name]))

function set (values: Map<string, string>, name: string, value: string, origin: string): void {
  const definition = BROKER_CONFIG_BY_NAME.get(name)
  if (definition === undefined) {
    throw new ConfigError(`unknown property ${name} (from ${origin})`)
  }
  const problem = checkValue(definition, value)
  if (problem !== undefined) throw new ConfigError(`${problem} (from ${origin})`)
  values.set(name, value)
}

export async function loadBrokerConfig (input: {
  flags: Record<string, string | undefined>
  env: NodeJS.ProcessEnv
  propertiesFile?: string | undefined
}): Promise<{ config: BrokerConfig }> {
  const values = new Map<string, string>()
  if (input.propertiesFile !== undefined) {
    let text: string
    try {
      text = await readFile(input.propertiesFile, 'utf8')
    } catch (error) {
      throw new ConfigError(`cannot read --config ${input.propertiesFile}: ` +
        `${(error as NodeJS.ErrnoException).code ?? String(error)}`)
    }
    for (const [name, value] of parseProperties(text)) {
      // Kafka accepts log.dir as a single-directory synonym of log.dirs.
      set(values, name === 'log.dir' ? 'log.dirs' : name, value, input.propertiesFile)
    }
  }
  for (const [name, value] of Object.entries(input.env)) {
    if (!name.startsWith('TRIBUTARY_') || value === undefined || ENV_ALLOW_LIST.has(name)) {
      continue
    }
    const property = ENV_TO_PROPERTY.get(name)
    if (property === undefined) throw new ConfigError(`unknown property in environment ${name}`)
    set(values, property, value, `environment ${name}`)
  }
  for (const [flag, value] of Object.entries(input.flags)) {
    if (value === undefined) continue
    const property = FLAG_PROPERTIES[flag]
    if (property === undefined) throw new ConfigError(`unknown flag --${flag}`)
    set(values, property, value, `--${flag}`)
  }
  return { config: buildConfig(values) }
}

function buildConfig (values: Map<string, string>): BrokerConfig {
  const properties = new Map<string, { value: string | null, source: ConfigSource }>()
  for (const definition of BROKER_CONFIGS) {
    const explicit = values.get(definition.name)
    properties.set(definition.name, explicit === undefined
      ? { value: definition.default, source: 'DEFAULT_CONFIG' }
      : { value: explicit, source: 'STATIC_BROKER_CONFIG' })
  }
  const get = (name: string): string => properties.get(name)?.value ?? ''
  const host = get('listeners.host')
  return {
    nodeId: Number(get('node.id')),
    dataDir: get('log.dirs'),
    host,
    port: Number(get('listeners.port')),
    httpPort: Number(get('http.port')),
    advertisedHost: properties.get('advertised.host')?.value ??
      (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host),
    advertisedPort: optionalNumber(properties, 'advertised.port'),
    externalListenerPort: optionalNumber(properties, 'external.listener.port'),
    externalAdvertisedHost: properties.get('external.advertised.host')?.value ??
      properties.get('advertised.host')?.value ??
      (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host),
    externalAdvertisedPort: optionalNumber(properties, 'external.advertised.port'),
    numPartitions: Number(get('num.partitions')),
    defaultReplicationFactor: Number(get('default.replication.factor')),
    autoCreateTopicsEnable: get('auto.create.topics.enable') === 'true',
    deleteTopicEnable: get('delete.topic.enable') === 'true',
    socketRequestMaxBytes: Number(get('socket.request.max.bytes')),
    maxConnections: Number(get('max.connections')),
    fsyncBeforeAck: get('tributary.fsync.before.ack') === 'true',
    metricsPartitionEnabled: get('tributary.metrics.partition.enabled') === 'true',
    properties,
  }
}

function optionalNumber (properties: BrokerConfig['properties'],
  name: string): number | undefined {
  const value = properties.get(name)?.value
  return value === null || value === undefined ? undefined : Number(value)
}

/** The broker-level value that supplies a topic config's default, in the topic's units. */
export function brokerDefaultFor (config: BrokerConfig, topicConfig: string): string | null {
  const property = (name: string): string | null => config.properties.get(name)?.value ?? null
  switch (topicConfig) {
    case 'retention.ms': {
      // Kafka's precedence: log.retention.ms, then .minutes, then .hours.
      const ms = property('log.retention.ms')
      if (ms !== null) return ms
      const minutes = property('log.retention.minutes')
      if (minutes !== null) return String(Number(minutes) * 60_000)
      const hours = Number(property('log.retention.hours'))
      return hours < 0 ? '-1' : String(hours * 3_600_000)
    }
    case 'segment.ms':
      return property('log.roll.ms') ?? String(Number(property('log.roll.hours')) * 3_600_000)
    case 'flush.ms':
      return property('log.flush.interval.ms') ?? String(Number.MAX_SAFE_INTEGER)
    default: {
      const definition = TOPIC_CONFIG_BY_NAME.get(topicConfig)
      const synonym = definition?.brokerSynonym
      return synonym === undefined ? definition?.default ?? null : property(synonym)
    }
  }
}

/** Validates topic overrides (null removes one); returns a one-line problem or undefined. */
export function validateTopicConfigs (configs: Record<string, string | null>):
string | undefined {
  for (const [name, value] of Object.entries(configs)) {
    const definition: ConfigDefinition | undefined = TOPIC_CONFIG_BY_NAME.get(name)
    if (definition === undefined) return `unknown topic config ${name}`
    if (value === null) continue
    const problem = checkValue(definition, value)
    if (problem !== undefined) return problem
  }
  return undefined
}
