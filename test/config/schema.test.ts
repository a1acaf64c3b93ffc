/** The schema table and value normalization. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import {
  BROKER_CONFIG_BY_NAME, BROKER_CONFIGS, envName, normalizeValue, TOPIC_CONFIGS,
} from '../../src/config/index.js'

const definition = (name: string) => {
  const found = BROKER_CONFIG_BY_NAME.get(name)
  assert.ok(found !== undefined, name)
  return found
}

describe('config schema', () => {
  it('has the broker and topic properties the issue lists, with Kafka\'s defaults', () => {
    const defaults: Record<string, string | null> = {
      'num.partitions': '1', 'default.replication.factor': '1',
      'auto.create.topics.enable': 'true', 'delete.topic.enable': 'true',
      'message.max.bytes': '1048588', 'socket.request.max.bytes': '104857600',
      'log.segment.bytes': '1073741824', 'log.retention.hours': '168',
      'log.index.interval.bytes': '4096', 'log.index.size.max.bytes': '10485760',
      'offsets.topic.num.partitions': '50', 'offsets.retention.minutes': '10080',
      'group.initial.rebalance.delay.ms': '3000', 'group.min.session.timeout.ms': '6000',
      'group.max.session.timeout.ms': '1800000', 'log.message.timestamp.type': 'CreateTime',
      'compression.type': 'producer', 'min.insync.replicas': '1',
      'tributary.fsync.before.ack': 'true', 'tributary.metrics.partition.enabled': 'true',
      'log.retention.ms': null, 'log.retention.minutes': null, 'log.roll.ms': null,
    }
    for (const [name, value] of Object.entries(defaults)) {
      assert.equal(definition(name).default, value, name)
    }
    for (const name of ['node.id', 'log.dirs', 'log.dir', 'listeners', 'advertised.host',
      'http.port', 'log.roll.hours', 'log.retention.bytes', 'log.flush.interval.messages',
      'log.flush.interval.ms', 'log.cleanup.policy', 'log.retention.check.interval.ms',
      'transactional.id.expiration.ms', 'producer.id.expiration.ms', 'queued.max.requests',
      'connections.max.idle.ms', 'consumer.instance.timeout.ms',
      'log.message.timestamp.difference.max.ms']) {
      definition(name)
    }
    const topicNames = TOPIC_CONFIGS.map(d => d.name).sort()
    assert.deepEqual(topicNames, ['cleanup.policy', 'compression.type', 'delete.retention.ms',
      'file.delete.delay.ms', 'flush.messages', 'flush.ms', 'index.interval.bytes',
      'max.compaction.lag.ms', 'max.message.bytes', 'message.timestamp.difference.max.ms',
      'message.timestamp.type',
      'min.cleanable.dirty.ratio', 'min.compaction.lag.ms', 'min.insync.replicas',
      'retention.bytes', 'retention.ms', 'segment.bytes', 'segment.index.bytes', 'segment.ms',
      'unclean.leader.election.enable'])
    const synonyms = Object.fromEntries(TOPIC_CONFIGS.map(d => [d.name, d.brokerSynonym]))
    assert.equal(synonyms['retention.ms'], 'log.retention.ms')
    assert.equal(synonyms['segment.bytes'], 'log.segment.bytes')
    assert.equal(synonyms['max.message.bytes'], 'message.max.bytes')
    assert.equal(synonyms['cleanup.policy'], 'log.cleanup.policy')
    assert.equal(synonyms['message.timestamp.type'], 'log.message.timestamp.type')
  })

  it('maps each property to a distinct TRIBUTARY_ environment variable', () => {
    assert.equal(envName('log.segment.bytes'), 'TRIBUTARY_LOG_SEGMENT_BYTES')
    assert.equal(new Set(BROKER_CONFIGS.map(d => envName(d.name))).size, BROKER_CONFIGS.length)
  })

  it('normalizes every in-range integer and rejects everything else, for random input', () => {
    const seed = Number(process.env.SEED ?? Date.now() % 1_000_000)
    console.log(`seed ${seed}`)
    const partitions = definition('num.partitions')
    fc.assert(fc.property(fc.string(), raw => {
      const result = normalizeValue(partitions, raw)
      const trimmed = raw.trim()
      if (/^[+-]?\d+$/.test(trimmed) && Number(trimmed) >= 1 && Number(trimmed) <= 10000) {
        assert.deepEqual(result, { value: String(Number(trimmed)) })
      } else {
        assert.ok('problem' in result)
        assert.ok(result.problem.startsWith('invalid value for num.partitions: '))
        assert.ok(!result.problem.includes('\n'))
      }
    }), { seed, numRuns: 2000 })
    fc.assert(fc.property(fc.integer({ min: 1, max: 10000 }), n => {
      assert.deepEqual(normalizeValue(partitions, ` ${n}\t`), { value: String(n) })
    }), { seed })
  })
})
