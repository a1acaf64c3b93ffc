/**
 * Differences from Apache Kafka 4.1 that the differential tests (test/reference/
 * differential.test.ts) found and that were fixed in Tributary, each checked here against a
 * real broker process, without needing Java:
 *
 *   - IncrementalAlterConfigs APPEND/SUBTRACT on a config that is not a list answers
 *     INVALID_CONFIG (Kafka's ConfigAdminManager), and still works on a list config;
 *   - DescribeGroups outside Stable gives no protocol, member metadata or assignment (Kafka's
 *     ClassicGroup.describe);
 *   - ListOffsets answers earliest, by-timestamp and max-timestamp lookups with the leader
 *     epoch of the batch found (Kafka's TimestampAndOffset), not -1.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { KafkaClient } from '../../src/client/client.js'
import type { KafkaConnection } from '../../src/client/connection.js'
import { DescribeGroups } from '../../src/protocol/apis/describe-groups.js'
import {
  IncrementalAlterConfigs,
} from '../../src/protocol/apis/incremental-alter-configs.js'
import { JoinGroup } from '../../src/protocol/apis/join-group.js'
import { ListOffsets } from '../../src/protocol/apis/list-offsets.js'
import { SyncGroup } from '../../src/protocol/apis/sync-group.js'
import { ERROR, errorNameOf } from '../../src/protocol/errors.js'
import { buildRecordBatch } from '../../src/records/builder.js'
import { removeDataDir, startBroker, type BrokerProcess } from '../support/broker-process.js'

const RESOURCE_TOPIC = 2
const APPEND = 2
const SUBTRACT = 3

describe('answers as Apache Kafka 4.1 where the differential tests found it did not', () => {
  let broker: BrokerProcess
  let client: KafkaClient
  let connection: KafkaConnection
  before(async () => {
    broker = await startBroker({ env: { TRIBUTARY_GROUP_INITIAL_REBALANCE_DELAY_MS: '0' } })
    client = new KafkaClient({ bootstrap: broker.bootstrap })
    connection = await client.any()
  })
  after(async () => {
    await client.close()
    await broker.stop()
    await removeDataDir(broker.dataDir)
  })

  it('IncrementalAlterConfigs appends to and subtracts from list configs only', async () => {
    await client.createTopic('parity-configs', { partitions: 1 })
    const alter = async (name: string, configOperation: number, value: string):
    Promise<[string, string | null]> => {
      const response = await connection.send(IncrementalAlterConfigs, {
        resources: [{ resourceType: RESOURCE_TOPIC, resourceName: 'parity-configs',
          configs: [{ name, configOperation, value }] }],
        validateOnly: false,
      })
      const result = response.responses[0]
      return [errorNameOf(result?.errorCode ?? -1), result?.errorMessage ?? null]
    }
    assert.deepEqual(await alter('retention.ms', APPEND, '1000'), ['INVALID_CONFIG',
      'Config value append is not allowed for config key: retention.ms'])
    assert.deepEqual(await alter('segment.ms', SUBTRACT, '1000'), ['INVALID_CONFIG',
      'Config value subtract is not allowed for config key: segment.ms'])
    assert.deepEqual((await alter('cleanup.policy', APPEND, 'compact'))[0], 'NONE')
    const policy = (await client.describeConfigs(RESOURCE_TOPIC, 'parity-configs'))
      .find(config => config.name === 'cleanup.policy')
    assert.equal(policy?.value, 'delete,compact')
  })

  it('DescribeGroups gives no protocol, metadata or assignment until the group is Stable',
    async () => {
      const groupId = 'parity-group'
      await client.findCoordinator(groupId)
      const metadata = Buffer.from('subscription')
      const assignment = Buffer.from('assignment')
      const join = (memberId: string) => connection.send(JoinGroup, {
        groupId, sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 30_000, memberId,
        groupInstanceId: null, protocolType: 'consumer',
        protocols: [{ name: 'range', metadata }], reason: null,
      })
      const describeGroup = async () => (await connection.send(DescribeGroups, {
        groups: [groupId], includeAuthorizedOperations: false })).groups[0]
      const joined = await join((await join('')).memberId)
      assert.equal(joined.errorCode, ERROR.NONE)
      const rebalancing = await describeGroup()
      assert.equal(rebalancing?.groupState, 'CompletingRebalance')
      assert.equal(rebalancing?.protocolData, '')
      assert.deepEqual(rebalancing?.members.map(member => [member.memberId,
        member.memberMetadata.length, member.memberAssignment.length]), [[joined.memberId, 0, 0]])
      const synced = await connection.send(SyncGroup, {
        groupId, generationId: joined.generationId, memberId: joined.memberId,
        groupInstanceId: null, protocolType: 'consumer', protocolName: 'range',
        assignments: [{ memberId: joined.memberId, assignment }],
      })
      assert.equal(synced.errorCode, ERROR.NONE)
      const stable = await describeGroup()
      assert.equal(stable?.groupState, 'Stable')
      assert.equal(stable?.protocolData, 'range')
      assert.deepEqual(stable?.members.map(member => [member.memberMetadata.toString(),
        member.memberAssignment.toString()]), [['subscription', 'assignment']])
    })

  it('ListOffsets answers each lookup with the leader epoch its batch was written in',
    async () => {
      await client.createTopic('parity-epochs', { partitions: 1 })
      const epoch = (await client.metadata(['parity-epochs'])).topics[0]?.partitions[0]?.leaderEpoch
      assert.equal(typeof epoch, 'number')
      const empty = await client.listOffsets('parity-epochs', 0, -2)
      assert.equal(empty.offset, 0)
      const base = Date.now() - 10_000
      await client.produce('parity-epochs', 0, await buildRecordBatch([
        { value: 'a', timestamp: base }, { value: 'b', timestamp: base + 20 }]), { acks: -1 })
      const lookup = async (timestamp: number) => {
        const response = await connection.send(ListOffsets, {
          replicaId: -1, isolationLevel: 0, timeoutMs: 10_000,
          topics: [{ name: 'parity-epochs', partitions: [{ partitionIndex: 0,
            currentLeaderEpoch: -1, timestamp }] }],
        }, { version: 10 })
        const partition = response.topics[0]?.partitions[0]
        return [partition?.offset, partition?.leaderEpoch]
      }
      assert.deepEqual(await lookup(-2), [0, epoch], 'earliest')
      assert.deepEqual(await lookup(-4), [0, epoch], 'earliest local')
      assert.deepEqual(await lookup(-1), [2, epoch], 'latest')
      assert.deepEqual(await lookup(-3), [1, epoch], 'max timestamp')
      assert.deepEqual(await lookup(base + 10), [1, epoch], 'by timestamp')
      assert.deepEqual(await lookup(base + 1000), [-1, -1], 'after every record')
    })
})
