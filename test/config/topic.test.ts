/** Topic configs over broker defaults, and their DescribeConfigs entries. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  brokerDefaultFor, describeBrokerConfig, describeTopicConfig, effectiveTopicConfig,
  loadBrokerConfig, parseTopicConfigs, validateTopicConfigs,
} from '../../src/config/index.js'

const load = async (env: Record<string, string>) => (await loadBrokerConfig({ env, flags: {} }))
  .config

describe('topic configs', () => {
  it('resolves retention with Kafka\'s ms > minutes > hours precedence', async () => {
    assert.equal(brokerDefaultFor(await load({}), 'retention.ms'), String(168 * 3_600_000))
    assert.equal(brokerDefaultFor(await load({ TRIBUTARY_LOG_RETENTION_HOURS: '2' }),
      'retention.ms'), '7200000')
    assert.equal(brokerDefaultFor(await load({
      TRIBUTARY_LOG_RETENTION_MINUTES: '5', TRIBUTARY_LOG_RETENTION_HOURS: '1',
    }), 'retention.ms'), '300000')
    assert.equal(brokerDefaultFor(await load({
      TRIBUTARY_LOG_RETENTION_MINUTES: '5', TRIBUTARY_LOG_RETENTION_MS: '42',
    }), 'retention.ms'), '42')
  })

  it('treats a negative retention in any unit as forever (-1)', async () => {
    assert.equal(brokerDefaultFor(await load({ TRIBUTARY_LOG_RETENTION_HOURS: '-1' }),
      'retention.ms'), '-1')
    assert.equal(brokerDefaultFor(await load({ TRIBUTARY_LOG_RETENTION_MINUTES: '-1' }),
      'retention.ms'), '-1')
  })

  it('rolls segments by log.roll.ms, else log.roll.hours', async () => {
    assert.equal(brokerDefaultFor(await load({}), 'segment.ms'), String(168 * 3_600_000))
    assert.equal(brokerDefaultFor(await load({ TRIBUTARY_LOG_ROLL_HOURS: '1' }), 'segment.ms'),
      '3600000')
    assert.equal(brokerDefaultFor(await load({
      TRIBUTARY_LOG_ROLL_HOURS: '1', TRIBUTARY_LOG_ROLL_MS: '90000',
    }), 'segment.ms'), '90000')
  })

  it('validates topic overrides by the same schema and returns canonical values', () => {
    assert.equal(validateTopicConfigs({ 'retention.ms': '1000', 'cleanup.policy': 'compact' }),
      undefined)
    assert.match(validateTopicConfigs({ 'retention.ms': 'soon' }) ?? '', /retention\.ms/)
    assert.match(validateTopicConfigs({ 'no.such': '1' }) ?? '', /unknown topic config no\.such/)
    assert.match(validateTopicConfigs({ 'cleanup.policy': 'delete,shred' }) ?? '', /shred/)
    assert.match(validateTopicConfigs({ 'min.cleanable.dirty.ratio': '1.5' }) ?? '',
      /min\.cleanable\.dirty\.ratio: 1\.5 is above the maximum 1/)
    assert.deepEqual(parseTopicConfigs({ 'cleanup.policy': 'compact, delete',
      'unclean.leader.election.enable': 'TRUE', 'retention.bytes': null }),
    { ok: { 'cleanup.policy': 'compact,delete', 'unclean.leader.election.enable': 'true',
      'retention.bytes': null } })
    assert.deepEqual(parseTopicConfigs({ 'segment.bytes': '10' }), { error: {
      name: 'segment.bytes',
      message: 'invalid value for segment.bytes: 10 is below the minimum 1048576',
    } })
  })

  it('has Kafka 4\'s minimums (KIP-1030), so no topic config rolls a file every few batches',
    async () => {
      // Before: segment.bytes 14, segment.ms 1 and segment.index.bytes 4 were all accepted.
      for (const [name, below, minimum] of [['segment.bytes', '1048575', '1048576'],
        ['segment.ms', '59999', '60000'], ['segment.index.bytes', '1023', '1024']] as const) {
        assert.match(validateTopicConfigs({ [name]: below }) ?? '',
          new RegExp(`^invalid value for ${name}: ${below} is below the minimum ${minimum}$`))
        assert.equal(validateTopicConfigs({ [name]: minimum }), undefined)
      }
      for (const [variable, value] of [['TRIBUTARY_LOG_SEGMENT_BYTES', '14'],
        ['TRIBUTARY_LOG_ROLL_MS', '1'], ['TRIBUTARY_LOG_INDEX_SIZE_MAX_BYTES', '4']]) {
        await assert.rejects(load({ [variable as string]: value as string }), /below the minimum/)
      }
    })

  it('lets the broker\'s internal.segment.bytes (tests only) replace every segment.bytes',
    async () => {
      const config = await load({ TRIBUTARY_INTERNAL_SEGMENT_BYTES: '16384' })
      assert.equal(effectiveTopicConfig(config).segmentBytes, 16384)
      assert.equal(effectiveTopicConfig(config, new Map([['segment.bytes', '2097152']]))
        .segmentBytes, 16384)
      assert.equal(effectiveTopicConfig(await load({}), new Map([['segment.bytes', '2097152']]))
        .segmentBytes, 2097152)
    })

  it('computes effective topic settings from overrides over broker defaults', async () => {
    const config = await load({ TRIBUTARY_LOG_SEGMENT_BYTES: '1048576',
      TRIBUTARY_LOG_RETENTION_MINUTES: '10' })
    const defaults = effectiveTopicConfig(config)
    assert.equal(defaults.segmentBytes, 1048576)
    assert.equal(defaults.retentionMs, 600000)
    assert.deepEqual(defaults.cleanupPolicy, ['delete'])
    assert.equal(defaults.messageTimestampType, 'CreateTime')
    assert.equal(defaults.flushMessages, Number.MAX_SAFE_INTEGER)
    assert.equal(defaults.deleteRetentionMs, 86400000)
    const topic = effectiveTopicConfig(config, new Map([['retention.ms', '5'],
      ['cleanup.policy', 'compact,delete'], ['message.timestamp.type', 'LogAppendTime']]))
    assert.equal(topic.retentionMs, 5)
    assert.equal(topic.segmentBytes, 1048576)
    assert.deepEqual(topic.cleanupPolicy, ['delete', 'compact'])
    assert.equal(topic.messageTimestampType, 'LogAppendTime')
  })

  it('describes a topic config with its override and broker synonyms in precedence order',
    async () => {
      const config = await load({ TRIBUTARY_LOG_RETENTION_MINUTES: '10' })
      const [overridden] = describeTopicConfig(config, new Map([['retention.ms', '5']]),
        ['retention.ms'])
      assert.deepEqual(overridden, {
        name: 'retention.ms', value: '5', readOnly: false, isDefault: false, isSensitive: false,
        source: 'DYNAMIC_TOPIC_CONFIG',
        synonyms: [
          { name: 'retention.ms', value: '5', source: 'DYNAMIC_TOPIC_CONFIG' },
          { name: 'log.retention.minutes', value: '10', source: 'STATIC_BROKER_CONFIG' },
          { name: 'log.retention.hours', value: '168', source: 'DEFAULT_CONFIG' },
        ],
        documentation: overridden?.documentation, type: 'long',
      })
      const [inherited] = describeTopicConfig(config, new Map(), ['retention.ms'])
      assert.equal(inherited?.value, '600000')
      assert.equal(inherited?.source, 'STATIC_BROKER_CONFIG')
      assert.equal(inherited?.isDefault, false)
      const [plain] = describeTopicConfig(config, new Map(), ['segment.bytes'])
      assert.equal(plain?.source, 'DEFAULT_CONFIG')
      assert.equal(plain?.isDefault, true)
      assert.equal(describeTopicConfig(config, new Map()).length > 15, true)
      assert.deepEqual(describeTopicConfig(config, new Map(), ['no.such']), [])
    })

  it('describes broker configs as read-only with their source', async () => {
    const config = await load({ TRIBUTARY_NUM_PARTITIONS: '3' })
    const [partitions, flush] = describeBrokerConfig(config,
      ['num.partitions', 'tributary.fsync.before.ack'])
    assert.equal(partitions?.value, '3')
    assert.equal(partitions?.readOnly, true)
    assert.equal(partitions?.source, 'STATIC_BROKER_CONFIG')
    assert.equal(partitions?.isDefault, false)
    assert.equal(flush?.value, 'true')
    assert.equal(flush?.source, 'DEFAULT_CONFIG')
    assert.ok(describeBrokerConfig(config).some(entry => entry.name === 'log.retention.hours'))
  })
})
