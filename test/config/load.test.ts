/** Broker config loading: file < environment < flags, Kafka synonyms, one-line errors. */
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { ConfigError, loadBrokerConfig, numericProperty } from '../../src/config/index.js'
import { AssertionError } from '../../src/util/assert.js'

let directory = ''
before(async () => { directory = await mkdtemp(path.join(os.tmpdir(), 'tributary-config-')) })
after(async () => { await rm(directory, { recursive: true, force: true }) })

async function propertiesFile (text: string): Promise<string> {
  const file = path.join(directory, `broker-${Math.random().toString(36).slice(2)}.properties`)
  await writeFile(file, text)
  return file
}

async function rejectsWith (input: Parameters<typeof loadBrokerConfig>[0],
  pattern: RegExp): Promise<void> {
  await assert.rejects(loadBrokerConfig(input), (error: unknown) => {
    assert.ok(error instanceof ConfigError, String(error))
    assert.match(error.message, pattern)
    assert.ok(!error.message.includes('\n'), 'the message is one line')
    return true
  })
}

describe('loadBrokerConfig', () => {
  it('uses the documented defaults when nothing is given', async () => {
    const { config, sources } = await loadBrokerConfig({ env: {}, flags: {} })
    assert.equal(config.dataDir, './segments')
    assert.equal(config.host, '127.0.0.1')
    assert.equal(config.port, 9092)
    assert.equal(config.httpPort, 8080)
    assert.equal(config.nodeId, 1)
    assert.equal(config.advertisedHost, '127.0.0.1')
    assert.equal(config.numPartitions, 1)
    assert.equal(config.defaultReplicationFactor, 1)
    assert.equal(config.autoCreateTopicsEnable, true)
    assert.equal(config.deleteTopicEnable, true)
    assert.equal(config.messageMaxBytes, 1048588)
    assert.equal(config.socketRequestMaxBytes, 104857600)
    assert.equal(config.fsyncBeforeAck, true)
    assert.equal(config.offsetsTopicNumPartitions, 50)
    assert.equal(config.offsetsRetentionMinutes, 10080)
    assert.equal(config.groupInitialRebalanceDelayMs, 3000)
    assert.equal(config.groupMinSessionTimeoutMs, 6000)
    assert.equal(config.groupMaxSessionTimeoutMs, 1800000)
    assert.equal(config.metricsPartitionEnabled, true)
    assert.ok([...sources.values()].every(source => source === 'DEFAULT_CONFIG'))
  })

  it('applies the file, then the environment, then flags', async () => {
    const file = await propertiesFile(
      'num.partitions=3\nlog.segment.bytes=2000000\nlog.dirs=/from/file\nhttp.port=1\n')
    const { config, properties, sources } = await loadBrokerConfig({
      propertiesFile: file,
      env: { TRIBUTARY_NUM_PARTITIONS: '5', TRIBUTARY_HTTP_PORT: '2', TRIBUTARY_LOG_LEVEL: 'debug',
        OTHER: 'x' },
      flags: { 'data-dir': '/from/flag', port: '0', 'http-port': '3', host: undefined },
    })
    assert.equal(config.numPartitions, 5)
    assert.equal(properties.get('log.segment.bytes'), '2000000')
    assert.equal(config.dataDir, '/from/flag')
    assert.equal(config.port, 0)
    assert.equal(config.httpPort, 3)
    assert.equal(sources.get('num.partitions'), 'STATIC_BROKER_CONFIG')
    assert.equal(sources.get('node.id'), 'DEFAULT_CONFIG')
    assert.equal(config.properties.get('log.segment.bytes')?.source, 'STATIC_BROKER_CONFIG')
  })

  it('maps every flag onto its property', async () => {
    const { properties } = await loadBrokerConfig({
      env: {},
      flags: { 'data-dir': '/d', host: '0.0.0.0', port: '19092', 'http-port': '18080',
        'node-id': '7', 'advertised-host': 'broker.example' },
    })
    assert.equal(properties.get('log.dirs'), '/d')
    assert.equal(properties.get('listeners.host'), '0.0.0.0')
    assert.equal(properties.get('listeners.port'), '19092')
    assert.equal(properties.get('http.port'), '18080')
    assert.equal(properties.get('node.id'), '7')
    assert.equal(properties.get('advertised.host'), 'broker.example')
  })

  it('advertises loopback, not a wildcard bind address, unless told otherwise', async () => {
    const { config } = await loadBrokerConfig({ env: {}, flags: { host: '0.0.0.0' } })
    assert.equal(config.advertisedHost, '127.0.0.1')
    assert.equal(config.externalAdvertisedHost, '127.0.0.1')
  })

  it('resolves log.dir and log.dirs within a source, then by source precedence', async () => {
    const both = await propertiesFile('log.dir=/single\nlog.dirs=/plural\n')
    assert.equal((await loadBrokerConfig({ propertiesFile: both, env: {}, flags: {} }))
      .config.dataDir, '/plural')
    const fileDirs = await propertiesFile('log.dirs=/from/file\n')
    const { config } = await loadBrokerConfig({
      propertiesFile: fileDirs, env: { TRIBUTARY_LOG_DIR: '/from/env' }, flags: {},
    })
    assert.equal(config.dataDir, '/from/env')
    await rejectsWith({ env: { TRIBUTARY_LOG_DIRS: '/a,/b' }, flags: {} },
      /invalid value for log\.dirs: Tributary supports one data directory/)
  })

  it('expands listeners=NAME://host:port, with explicit host and port winning', async () => {
    const file = await propertiesFile('listeners=PLAINTEXT://[::1]:19092\n')
    const { config } = await loadBrokerConfig({ propertiesFile: file, env: {}, flags: {} })
    assert.equal(config.host, '::1')
    assert.equal(config.port, 19092)
    const wildcard = await loadBrokerConfig({
      env: { TRIBUTARY_LISTENERS: 'PLAINTEXT://:9093' }, flags: { port: '9094' },
    })
    assert.equal(wildcard.config.host, '0.0.0.0')
    assert.equal(wildcard.config.port, 9094)
    await rejectsWith({ env: { TRIBUTARY_LISTENERS: 'localhost:9092' }, flags: {} },
      /invalid value for listeners: .* is not NAME:\/\/host:port/)
    await rejectsWith({ env: { TRIBUTARY_LISTENERS: 'A://h:1,B://h:2' }, flags: {} },
      /invalid value for listeners: Tributary takes one listener/)
  })

  it('parses values as Kafka does: trimmed, booleans in any case, Long.MAX clamped', async () => {
    const { config, properties } = await loadBrokerConfig({
      env: {
        TRIBUTARY_NUM_PARTITIONS: ' 4 ',
        TRIBUTARY_AUTO_CREATE_TOPICS_ENABLE: 'FALSE',
        TRIBUTARY_LOG_FLUSH_INTERVAL_MESSAGES: '9223372036854775807',
        TRIBUTARY_LOG_CLEANUP_POLICY: ' compact , delete ',
      },
      flags: {},
    })
    assert.equal(config.numPartitions, 4)
    assert.equal(config.autoCreateTopicsEnable, false)
    assert.equal(properties.get('auto.create.topics.enable'), 'false')
    assert.equal(properties.get('log.flush.interval.messages'), String(Number.MAX_SAFE_INTEGER))
    assert.equal(properties.get('log.cleanup.policy'), 'compact,delete')
  })

  it('stops with one line naming the property for unknown names and bad values', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ TRIBUTARY_NO_SUCH_THING: '1' }, /unknown property .*TRIBUTARY_NO_SUCH_THING/],
      [{ TRIBUTARY_NUM_PARTITIONS: 'many' }, new RegExp('^invalid value for num\\.partitions: ' +
        '"many" is not an integer \\(from environment TRIBUTARY_NUM_PARTITIONS\\)$')],
      [{ TRIBUTARY_NUM_PARTITIONS: '1e3' }, /num\.partitions: "1e3" is not an integer/],
      [{ TRIBUTARY_NUM_PARTITIONS: '0' }, /num\.partitions: 0 is below the minimum 1/],
      [{ TRIBUTARY_LISTENERS_PORT: '70000' }, /listeners\.port: 70000 is above the maximum/],
      [{ TRIBUTARY_MESSAGE_MAX_BYTES: '4294967296' }, /message\.max\.bytes: .* does not fit/],
      [{ TRIBUTARY_LOG_RETENTION_MS: '99999999999999999999' }, /log\.retention\.ms: .* not fit/],
      [{ TRIBUTARY_AUTO_CREATE_TOPICS_ENABLE: 'yes' }, /auto\.create\.topics\.enable: "yes"/],
      [{ TRIBUTARY_LOG_MESSAGE_TIMESTAMP_TYPE: 'Now' }, /log\.message\.timestamp\.type.*Now/],
      [{ TRIBUTARY_LOG_CLEANUP_POLICY: 'delete,shred' }, /log\.cleanup\.policy: "shred"/],
      [{ TRIBUTARY_ADVERTISED_HOST: '  ' }, /advertised\.host: it is empty/],
      [{ TRIBUTARY_NODE_ID: '1\n2' }, /node\.id: "1\\n2" is not an integer/],
      [{ TRIBUTARY_GROUP_MIN_SESSION_TIMEOUT_MS: '7000',
        TRIBUTARY_GROUP_MAX_SESSION_TIMEOUT_MS: '6000' },
      /group\.min\.session\.timeout\.ms: 7000 is above group\.max\.session\.timeout\.ms 6000/],
    ]
    for (const [env, pattern] of cases) await rejectsWith({ env, flags: {} }, pattern)
  })

  it('names the file for a bad property in it and the flag for a bad flag', async () => {
    const file = await propertiesFile('# ok\nlog.segment.bytes=big\n')
    await rejectsWith({ propertiesFile: file, env: {}, flags: {} },
      new RegExp(`log\\.segment\\.bytes: "big" is not an integer \\(from .*${path.basename(file)}`))
    const unknown = await propertiesFile('no.such.property=1\n')
    await rejectsWith({ propertiesFile: unknown, env: {}, flags: {} },
      /^unknown property no\.such\.property \(from /)
    await rejectsWith({ env: {}, flags: { port: 'http' } },
      /listeners\.port: "http" is not an integer \(from --port\)/)
    await rejectsWith({ env: {}, flags: { verbose: '1' } }, /unknown flag --verbose/)
    await rejectsWith({ propertiesFile: path.join(directory, 'missing'), env: {}, flags: {} },
      /cannot read --config .*missing: ENOENT/)
  })
})

describe('numericProperty', () => {
  it('reads a numeric property\'s effective value, default or set, and refuses other names',
    async () => {
      const { config } = await loadBrokerConfig({ env: {
        TRIBUTARY_LEADER_IMBALANCE_PER_BROKER_PERCENTAGE: '25',
      }, flags: {} })
      assert.equal(numericProperty(config, 'leader.imbalance.per.broker.percentage'), 25)
      assert.equal(numericProperty(config, 'leader.imbalance.check.interval.seconds'), 300)
      assert.equal(numericProperty(config, 'tributary.debug.latency.sample.rate'), 0)
      assert.throws(() => numericProperty(config, 'auto.leader.rebalance.enable'), AssertionError)
      assert.throws(() => numericProperty(config, 'no.such.property'), AssertionError)
    })
})
