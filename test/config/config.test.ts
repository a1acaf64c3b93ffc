/** Configuration: .properties parsing, precedence file < env < flags, one-line errors. */
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { describe, it } from 'node:test'
import {
  brokerDefaultFor, ConfigError, loadBrokerConfig, parseProperties, validateTopicConfigs,
} from '../../src/config/index.js'

describe('configuration', () => {
  it('parses Java .properties syntax', () => {
    const parsed = parseProperties([
      '# a comment', '! another', 'a=1', 'b : 2', 'c 3', '  d=with spaces  ',
      'e=line\\', '  continued', 'f=tab\\there', 'g=',
    ].join('\n'))
    assert.deepEqual(Object.fromEntries(parsed), {
      a: '1', b: '2', c: '3', d: 'with spaces  ', e: 'linecontinued', f: 'tab\there', g: '',
    })
  })

  it('applies file, then environment, then flags', async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'tributary-config-'))
    try {
      const file = path.join(directory, 'broker.properties')
      await writeFile(file, 'num.partitions=3\nlog.segment.bytes=1000\nlog.dir=/from/file\n')
      const { config } = await loadBrokerConfig({
        propertiesFile: file,
        env: { TRIBUTARY_NUM_PARTITIONS: '5', TRIBUTARY_LOG_LEVEL: 'debug', OTHER: 'x' },
        flags: { 'data-dir': '/from/flag', port: '0' },
      })
      assert.equal(config.numPartitions, 5)
      assert.equal(config.properties.get('log.segment.bytes')?.value, '1000')
      assert.equal(config.dataDir, '/from/flag')
      assert.equal(config.port, 0)
      assert.equal(config.httpPort, 8080)
      assert.equal(config.properties.get('num.partitions')?.source, 'STATIC_BROKER_CONFIG')
      assert.equal(config.properties.get('http.port')?.source, 'DEFAULT_CONFIG')
    } finally {
      await rm(directory, { recursive: true, force: true })
    }
  })

  it('names the property in a one-line error for unknown names and bad values', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ TRIBUTARY_NO_SUCH_THING: '1' }, /TRIBUTARY_NO_SUCH_THING/],
      [{ TRIBUTARY_NUM_PARTITIONS: 'many' }, /num\.partitions.*not an integer/],
      [{ TRIBUTARY_NUM_PARTITIONS: '0' }, /num\.partitions.*below the minimum 1/],
      [{ TRIBUTARY_AUTO_CREATE_TOPICS_ENABLE: 'yes' }, /auto\.create\.topics\.enable/],
      [{ TRIBUTARY_LOG_MESSAGE_TIMESTAMP_TYPE: 'Now' }, /log\.message\.timestamp\.type/],
    ]
    for (const [env, pattern] of cases) {
      await assert.rejects(loadBrokerConfig({ env, flags: {} }), (error: unknown) => {
        assert.ok(error instanceof ConfigError)
        assert.match(error.message, pattern)
        assert.ok(!error.message.includes('\n'))
        return true
      })
    }
  })

  it('resolves retention with Kafka\'s ms > minutes > hours precedence', async () => {
    const hours = (await loadBrokerConfig({ env: {}, flags: {} })).config
    assert.equal(brokerDefaultFor(hours, 'retention.ms'), String(168 * 3_600_000))
    const minutes = (await loadBrokerConfig({
      env: { TRIBUTARY_LOG_RETENTION_MINUTES: '5', TRIBUTARY_LOG_RETENTION_HOURS: '1' },
      flags: {},
    })).config
    assert.equal(brokerDefaultFor(minutes, 'retention.ms'), '300000')
    const ms = (await loadBrokerConfig({
      env: { TRIBUTARY_LOG_RETENTION_MINUTES: '5', TRIBUTARY_LOG_RETENTION_MS: '42' },
      flags: {},
    })).config
    assert.equal(brokerDefaultFor(ms, 'retention.ms'), '42')
  })

  it('validates topic configs by the same schema', () => {
    assert.equal(validateTopicConfigs({ 'retention.ms': '1000', 'cleanup.policy': 'compact' }),
      undefined)
    assert.match(validateTopicConfigs({ 'retention.ms': 'soon' }) ?? '', /retention\.ms/)
    assert.match(validateTopicConfigs({ 'no.such': '1' }) ?? '', /unknown topic config no\.such/)
    assert.match(validateTopicConfigs({ 'cleanup.policy': 'delete,shred' }) ?? '', /shred/)
  })
})
