/**
 * The group APIs on the wire against a real broker, with the project's client and kafkajs:
 * FindCoordinator names a node of Metadata (P3.1); offsets committed outside a generation are
 * fetched back and refused for unknown partitions; OffsetDelete and DeleteGroups refuse an
 * active group and succeed on an Empty one; an unknown group cannot be deleted.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import kafkajs from 'kafkajs'
import { KafkaClient } from '../../src/client/client.js'
import { removeDataDir, startBroker, type BrokerProcess } from '../support/broker-process.js'

const { Kafka, logLevel } = kafkajs
let broker: BrokerProcess
let client: KafkaClient

async function waitFor (condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000
  while (!await condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

describe('group APIs on the wire', () => {
  before(async () => {
    broker = await startBroker({ env: { TRIBUTARY_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      TRIBUTARY_OFFSETS_TOPIC_NUM_PARTITIONS: '3' } })
    client = new KafkaClient({ bootstrap: [broker.bootstrap], clientId: 'groups-admin' })
  })
  after(async () => {
    await client.close()
    await broker.stop()
    await removeDataDir(broker.dataDir)
  })

  it('names a coordinator that Metadata lists', async () => {
    const coordinator = await client.findCoordinator('any-group')
    const cluster = await client.describeCluster()
    assert.ok(cluster.brokers.some(b => b.nodeId === coordinator.nodeId))
  })

  it('stores offsets of an inactive group and refuses unknown partitions', async () => {
    await client.createTopic('admin-t', { partitions: 2, replicationFactor: 1 })
    await client.commitGroupOffsets('inactive', [{ topic: 'admin-t', partition: 0, offset: 5 },
      { topic: 'admin-t', partition: 1, offset: 9 }])
    const offsets = await client.fetchGroupOffsets('inactive')
    assert.deepEqual([...(offsets.get('admin-t') ?? [])], [[0, 5], [1, 9]])
    await assert.rejects(client.commitGroupOffsets('inactive',
      [{ topic: 'admin-t', partition: 7, offset: 1 }]), /UNKNOWN_TOPIC_OR_PARTITION/)
    await assert.rejects(client.commitGroupOffsets('inactive',
      [{ topic: 'no-such-topic', partition: 0, offset: 1 }]), /UNKNOWN_TOPIC_OR_PARTITION/)
    await client.deleteGroupOffsets('inactive', [{ topic: 'admin-t', partition: 1 }])
    assert.deepEqual([...((await client.fetchGroupOffsets('inactive')).get('admin-t') ?? [])],
      [[0, 5]])
    await client.deleteGroup('inactive')
    assert.equal((await client.fetchGroupOffsets('inactive')).size, 0)
    await assert.rejects(client.deleteGroup('inactive'), /GROUP_ID_NOT_FOUND/)
  })

  it('refuses to delete an active group or the offsets of its topics', async () => {
    const kafka = new Kafka({ clientId: 'admin-test', brokers: [broker.bootstrap],
      logLevel: logLevel.NOTHING })
    const consumer = kafka.consumer({ groupId: 'active', sessionTimeout: 10_000 })
    await consumer.connect()
    await consumer.subscribe({ topic: 'admin-t', fromBeginning: true })
    await consumer.run({ eachMessage: async () => undefined })
    try {
      await waitFor(async () => (await client.describeGroup('active')).groupState === 'Stable',
        'the consumer group to be Stable')
      await assert.rejects(client.deleteGroup('active'), /NON_EMPTY_GROUP/)
      await assert.rejects(client.deleteGroupOffsets('active',
        [{ topic: 'admin-t', partition: 0 }]), /GROUP_SUBSCRIBED_TO_TOPIC/)
    } finally {
      await consumer.disconnect()
    }
    const described = await client.describeGroup('active')
    assert.equal(described.groupState, 'Empty', 'LeaveGroup emptied it')
    await client.deleteGroup('active')
  })
})
