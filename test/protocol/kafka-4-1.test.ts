/**
 * The protocol at Kafka 4.1's maxima, against a real broker process: the semantics that come
 * with the newer versions (topic ids and partition.metadata, ApiVersions features and client
 * software, authorized operations, DescribeCluster endpoint types, CreateTopics configs),
 * each asked for at the version that carries it.
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { KafkaClient } from '../../src/client/client.js'
import { KafkaConnection } from '../../src/client/connection.js'
import { ApiVersions } from '../../src/protocol/apis/api-versions.js'
import { CreateTopics } from '../../src/protocol/apis/create-topics.js'
import { DescribeCluster } from '../../src/protocol/apis/describe-cluster.js'
import { DeleteGroups } from '../../src/protocol/apis/delete-groups.js'
import { DescribeGroups } from '../../src/protocol/apis/describe-groups.js'
import {
  DescribeTopicPartitions,
} from '../../src/protocol/apis/describe-topic-partitions.js'
import { DeleteTopics } from '../../src/protocol/apis/delete-topics.js'
import { DescribeProducers } from '../../src/protocol/apis/describe-producers.js'
import { AlterConfigs } from '../../src/protocol/apis/alter-configs.js'
import { CreatePartitions } from '../../src/protocol/apis/create-partitions.js'
import { DeleteRecords } from '../../src/protocol/apis/delete-records.js'
import { DescribeConfigs } from '../../src/protocol/apis/describe-configs.js'
import {
  IncrementalAlterConfigs,
} from '../../src/protocol/apis/incremental-alter-configs.js'
import { InitProducerId } from '../../src/protocol/apis/init-producer-id.js'
import { Fetch, type FetchRequest } from '../../src/protocol/apis/fetch.js'
import { FindCoordinator } from '../../src/protocol/apis/find-coordinator.js'
import { Heartbeat } from '../../src/protocol/apis/heartbeat.js'
import { JoinGroup } from '../../src/protocol/apis/join-group.js'
import { LeaveGroup } from '../../src/protocol/apis/leave-group.js'
import { ListGroups } from '../../src/protocol/apis/list-groups.js'
import { OffsetCommit } from '../../src/protocol/apis/offset-commit.js'
import { OffsetFetch } from '../../src/protocol/apis/offset-fetch.js'
import { SyncGroup } from '../../src/protocol/apis/sync-group.js'
import { ListOffsets } from '../../src/protocol/apis/list-offsets.js'
import { Produce } from '../../src/protocol/apis/produce.js'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import { Metadata } from '../../src/protocol/apis/metadata.js'
import { ERROR, errorCodeOf } from '../../src/protocol/errors.js'
import { removeDataDir, startBroker, type BrokerProcess } from '../support/broker-process.js'

const NO_TOPIC_ID = Buffer.alloc(16)

describe('the protocol at Kafka 4.1 maxima', () => {
  let broker: BrokerProcess
  let client: KafkaClient
  let connection: KafkaConnection
  before(async () => {
    broker = await startBroker()
    client = new KafkaClient({ bootstrap: [broker.bootstrap] })
    connection = await KafkaConnection.connect('127.0.0.1', broker.kafkaPort)
  })
  after(async () => {
    connection?.close()
    await client?.close()
    await broker?.stop()
    await removeDataDir(broker.dataDir)
  })

  const metadataById = (topicId: Buffer, version = 13) => connection.send(Metadata, {
    topics: [{ topicId, name: null }], allowAutoTopicCreation: false,
    includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: true,
  }, { version })

  async function createTopic (name: string, version = 7,
    configs = [{ name: 'retention.ms', value: '3600000' }]) {
    const response = await connection.send(CreateTopics, {
      topics: [{ name, numPartitions: 2, replicationFactor: 1, assignments: [], configs }],
      timeoutMs: 5000, validateOnly: false,
    }, { version })
    const topic = response.topics[0]
    assert.ok(topic !== undefined)
    assert.equal(topic.errorCode, ERROR.NONE, topic.errorMessage ?? '')
    return topic
  }

  it('ApiVersions v4 lists metadata.version among the supported and finalized features, ' +
    'and every API at its Kafka 4.1 maximum', async () => {
    const response = await connection.send(ApiVersions,
      { clientSoftwareName: 'proto-test', clientSoftwareVersion: '4.1.0' }, { version: 4 })
    assert.equal(response.errorCode, ERROR.NONE)
    assert.deepEqual(response.supportedFeatures,
      [{ name: 'metadata.version', minVersion: 7, maxVersion: 27 }])
    assert.deepEqual(response.finalizedFeatures,
      [{ name: 'metadata.version', maxVersionLevel: 27, minVersionLevel: 27 }])
    assert.equal(response.finalizedFeaturesEpoch, 0)
    const max = new Map(response.apiKeys.map(range => [range.apiKey, range.maxVersion]))
    assert.equal(max.get(ApiVersions.key), 4)
    assert.equal(max.get(Metadata.key), 13)
    assert.equal(max.get(CreateTopics.key), 7)
    assert.equal(max.get(DescribeCluster.key), 2)
  })

  it('counts open connections by the client software they named', async () => {
    const second = await KafkaConnection.connect('127.0.0.1', broker.kafkaPort)
    try {
      await second.send(ApiVersions,
        { clientSoftwareName: 'proto-test', clientSoftwareVersion: '4.1.0' }, { version: 4 })
      const metrics = await (await fetch(`http://127.0.0.1:${broker.httpPort}/metrics`)).text()
      // This connection and the suite's, which named the same software in the first test.
      assert.match(metrics, new RegExp('tributary_client_connections\\{client_software_name=' +
        '"proto-test",client_software_version="4\\.1\\.0"\\} 2\n'))
    } finally {
      second.close()
    }
  })

  it('CreateTopics v7 returns the topic id and the configs with their sources; Metadata ' +
    'v13 finds the topic by that id', async () => {
    const created = await createTopic('ids-a')
    assert.ok(created.topicId !== undefined && !created.topicId.equals(NO_TOPIC_ID))
    assert.equal(created.numPartitions, 2)
    const retention = created.configs?.find(config => config.name === 'retention.ms')
    assert.deepEqual(retention, { name: 'retention.ms', value: '3600000', readOnly: false,
      configSource: 1, isSensitive: false })
    const byId = await metadataById(created.topicId)
    assert.equal(byId.errorCode, ERROR.NONE)
    const topic = byId.topics[0]
    assert.equal(topic?.errorCode, ERROR.NONE)
    assert.equal(topic?.name, 'ids-a')
    assert.ok(topic?.topicId.equals(created.topicId))
    assert.equal(topic?.partitions.length, 2)
    // Kafka's bitfield for every topic operation (READ..ALTER_CONFIGS), no authorizer.
    assert.equal(topic?.topicAuthorizedOperations, 3576)
  })

  it('writes partition.metadata as Kafka does, and a re-created topic gets a new id that ' +
    'the old one is told apart from', async () => {
    const first = await createTopic('ids-b')
    const idText = (first.topicId as Buffer).toString('base64url')
    for (const partition of [0, 1]) {
      const text = await readFile(path.join(broker.dataDir, `ids-b-${partition}`,
        'partition.metadata'), 'utf8')
      assert.equal(text, `version: 0\ntopic_id: ${idText}\n`)
    }
    await client.deleteTopic('ids-b')
    const second = await createTopic('ids-b')
    assert.ok(!(second.topicId as Buffer).equals(first.topicId as Buffer))
    const text = await readFile(path.join(broker.dataDir, 'ids-b-0', 'partition.metadata'),
      'utf8')
    const secondId = (second.topicId as Buffer).toString('base64url')
    assert.equal(text, `version: 0\ntopic_id: ${secondId}\n`)
    const stale = await metadataById(first.topicId as Buffer)
    assert.equal(stale.topics[0]?.errorCode, errorCodeOf('UNKNOWN_TOPIC_ID'))
    assert.equal(stale.topics[0]?.name, null)
  })

  it('Metadata v8-v10 answer cluster authorized operations only when asked', async () => {
    const asked = await connection.send(Metadata, {
      topics: [], allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: true, includeTopicAuthorizedOperations: false,
    }, { version: 10 })
    assert.equal(asked.clusterAuthorizedOperations, 8096)
    const notAsked = await connection.send(Metadata, {
      topics: null, allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false,
    }, { version: 10 })
    assert.equal(notAsked.clusterAuthorizedOperations, -2147483648)
    assert.ok(notAsked.topics.every(topic => topic.topicAuthorizedOperations === -2147483648))
  })

  it('DescribeCluster v2 serves brokers, and answers a controller or unknown endpoint type ' +
    'with Kafka\'s errors', async () => {
    const brokers = await connection.send(DescribeCluster, {
      includeClusterAuthorizedOperations: true, endpointType: 1, includeFencedBrokers: true,
    }, { version: 2 })
    assert.equal(brokers.errorCode, ERROR.NONE)
    assert.equal(brokers.brokers.length, 1)
    assert.equal(brokers.brokers[0]?.isFenced, false)
    assert.equal(brokers.clusterAuthorizedOperations, 8096)
    const controllers = await connection.send(DescribeCluster, {
      includeClusterAuthorizedOperations: false, endpointType: 2, includeFencedBrokers: false,
    }, { version: 2 })
    assert.equal(controllers.errorCode, errorCodeOf('MISMATCHED_ENDPOINT_TYPE'))
    const unknown = await connection.send(DescribeCluster, {
      includeClusterAuthorizedOperations: false, endpointType: 7,
    }, { version: 1 })
    assert.equal(unknown.errorCode, errorCodeOf('UNSUPPORTED_ENDPOINT_TYPE'))
  })

  const fetchRequest = (topicId: Buffer, offset: number,
    session = { sessionId: 0, sessionEpoch: -1 }): FetchRequest => ({
    replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 0,
    ...session,
    topics: [{ topic: '', topicId, partitions: [{ partition: 0, currentLeaderEpoch: -1,
      fetchOffset: offset, lastFetchedEpoch: -1, logStartOffset: -1,
      partitionMaxBytes: 1 << 20 }] }],
    forgottenTopicsData: [], rackId: '',
  })

  it('Produce v13 and Fetch v18 address a topic by id; a stale id is UNKNOWN_TOPIC_ID',
    async () => {
      const created = await createTopic('ids-c')
      const topicId = created.topicId as Buffer
      const produced = await connection.send(Produce, {
        transactionalId: null, acks: -1, timeoutMs: 5000,
        topicData: [{ name: '', topicId, partitionData: [
          { index: 0, records: buildRecordBatchSync([{ value: 'by id' }]) }] }],
      }, { version: 13 })
      const partition = produced.responses[0]?.partitionResponses[0]
      assert.equal(partition?.errorCode, ERROR.NONE, partition?.errorMessage ?? '')
      assert.ok(produced.responses[0]?.topicId?.equals(topicId))
      const fetched = await connection.send(Fetch, fetchRequest(topicId, 0), { version: 18 })
      assert.equal(fetched.errorCode, ERROR.NONE)
      assert.equal(fetched.sessionId, 0)
      const data = fetched.responses[0]
      assert.ok(data?.topicId?.equals(topicId))
      assert.equal(data?.partitions[0]?.errorCode, ERROR.NONE)
      assert.equal(data?.partitions[0]?.highWatermark, 1)
      assert.ok((data?.partitions[0]?.records?.length ?? 0) > 0)
      // KIP-320: a consumer naming the leader epoch it knows is checked against the partition's
      // (0 here): the same epoch reads, a newer one is UNKNOWN_LEADER_EPOCH.
      const withEpoch = (epoch: number): FetchRequest => {
        const request = fetchRequest(topicId, 0)
        const first = request.topics[0]?.partitions[0]
        if (first !== undefined) first.currentLeaderEpoch = epoch
        return request
      }
      const current = await connection.send(Fetch, withEpoch(0), { version: 18 })
      assert.equal(current.responses[0]?.partitions[0]?.errorCode, ERROR.NONE)
      const future = await connection.send(Fetch, withEpoch(7), { version: 18 })
      assert.equal(future.responses[0]?.partitions[0]?.errorCode,
        errorCodeOf('UNKNOWN_LEADER_EPOCH'))

      await client.deleteTopic('ids-c')
      await createTopic('ids-c')
      const stale = await connection.send(Fetch, fetchRequest(topicId, 0), { version: 13 })
      assert.equal(stale.responses[0]?.partitions[0]?.errorCode,
        errorCodeOf('UNKNOWN_TOPIC_ID'))
      const staleProduce = await connection.send(Produce, {
        transactionalId: null, acks: 1, timeoutMs: 5000,
        topicData: [{ name: '', topicId, partitionData: [
          { index: 0, records: buildRecordBatchSync([{ value: 'lost' }]) }] }],
      }, { version: 13 })
      assert.equal(staleProduce.responses[0]?.partitionResponses[0]?.errorCode,
        errorCodeOf('UNKNOWN_TOPIC_ID'))
    })

  it('keeps no fetch sessions: a full fetch gets session id 0, an incremental one ' +
    'FETCH_SESSION_ID_NOT_FOUND (KIP-227, as a broker with no free cache slot)', async () => {
    const created = await createTopic('sessions')
    const topicId = created.topicId as Buffer
    const opening = await connection.send(Fetch,
      fetchRequest(topicId, 0, { sessionId: 0, sessionEpoch: 0 }), { version: 17 })
    assert.equal(opening.errorCode, ERROR.NONE)
    assert.equal(opening.sessionId, 0)
    assert.equal(opening.responses[0]?.partitions[0]?.errorCode, ERROR.NONE)
    const incremental = await connection.send(Fetch,
      fetchRequest(topicId, 0, { sessionId: 1234, sessionEpoch: 1 }), { version: 17 })
    assert.equal(incremental.errorCode, errorCodeOf('FETCH_SESSION_ID_NOT_FOUND'))
    assert.deepEqual(incremental.responses, [])
  })

  it('Produce v8+ names the record at fault in record_errors', async () => {
    await createTopic('record-errors', 7,
      [{ name: 'message.timestamp.difference.max.ms', value: '3600000' }])
    const now = Date.now()
    const batch = buildRecordBatchSync([{ value: 'fresh', timestamp: now },
      { value: 'stale', timestamp: now - 10 * 24 * 3600 * 1000 },
      { value: 'fresh', timestamp: now }])
    const response = await connection.send(Produce, {
      transactionalId: null, acks: -1, timeoutMs: 5000,
      topicData: [{ name: 'record-errors', partitionData: [{ index: 0, records: batch }] }],
    }, { version: 12 })
    const partition = response.responses[0]?.partitionResponses[0]
    assert.equal(partition?.errorCode, errorCodeOf('INVALID_TIMESTAMP'))
    assert.equal(partition?.recordErrors.length, 1)
    assert.equal(partition?.recordErrors[0]?.batchIndex, 1)
    assert.match(partition?.recordErrors[0]?.batchIndexErrorMessage ?? '', /timestamp/)
  })

  it('ListOffsets v10 answers max timestamp (-3), earliest local (-4) and last tiered (-5), ' +
    'each only from the version that allows it, and checks the current leader epoch',
  async () => {
    await createTopic('specs')
    const t = 1_700_000_000_000
    await client.produce('specs', 0, buildRecordBatchSync([{ value: 'a', timestamp: t },
      { value: 'b', timestamp: t + 5000 }, { value: 'c', timestamp: t + 1000 }]))
    const list = async (timestamp: number, version = 10, currentLeaderEpoch = -1) => {
      const response = await connection.send(ListOffsets, {
        replicaId: -1, isolationLevel: 0, timeoutMs: 1000,
        topics: [{ name: 'specs', partitions: [{ partitionIndex: 0, currentLeaderEpoch,
          timestamp }] }],
      }, { version })
      const partition = response.topics[0]?.partitions[0]
      assert.ok(partition !== undefined)
      return partition
    }
    const max = await list(-3)
    assert.deepEqual([max.errorCode, max.offset, max.timestamp], [ERROR.NONE, 1, t + 5000])
    assert.deepEqual([(await list(-4)).offset, (await list(-5)).offset], [0, -1])
    assert.equal((await list(-1)).offset, 3)
    assert.equal((await list(-3, 6)).errorCode, errorCodeOf('UNSUPPORTED_VERSION'))
    assert.equal((await list(-4, 7)).errorCode, errorCodeOf('UNSUPPORTED_VERSION'))
    assert.equal((await list(-1, 10, 999)).errorCode, errorCodeOf('UNKNOWN_LEADER_EPOCH'))
  })

  it('runs a classic group through every group API at its Kafka 4.1 maximum', async () => {
    await createTopic('grouped')
    const found = await connection.send(FindCoordinator,
      { key: '', keyType: 0, coordinatorKeys: ['g41', ''] }, { version: 6 })
    assert.deepEqual(found.coordinators?.map(c => [c.key, c.errorCode, c.nodeId]),
      [['g41', ERROR.NONE, 1], ['', ERROR.INVALID_REQUEST, -1]])
    const share = await connection.send(FindCoordinator,
      { key: '', keyType: 2, coordinatorKeys: ['s'] }, { version: 6 })
    assert.equal(share.coordinators?.[0]?.errorCode, ERROR.INVALID_REQUEST)

    const join = (memberId: string) => connection.send(JoinGroup, {
      groupId: 'g41', sessionTimeoutMs: 10000, rebalanceTimeoutMs: 10000, memberId,
      groupInstanceId: null, protocolType: 'consumer', reason: 'test',
      protocols: [{ name: 'range', metadata: Buffer.from('meta') }],
    }, { version: 9 })
    const first = await join('')
    assert.equal(first.errorCode, errorCodeOf('MEMBER_ID_REQUIRED'))
    const joined = await join(first.memberId)
    assert.equal(joined.errorCode, ERROR.NONE)
    assert.equal(joined.protocolType, 'consumer')
    assert.equal(joined.protocolName, 'range')
    assert.equal(joined.skipAssignment, false)
    const memberId = joined.memberId
    const sync = (protocolName: string) => connection.send(SyncGroup, {
      groupId: 'g41', generationId: joined.generationId, memberId, groupInstanceId: null,
      protocolType: 'consumer', protocolName,
      assignments: [{ memberId, assignment: Buffer.from('assigned') }],
    }, { version: 5 })
    assert.equal((await sync('roundrobin')).errorCode, errorCodeOf('INCONSISTENT_GROUP_PROTOCOL'))
    const synced = await sync('range')
    assert.equal(synced.errorCode, ERROR.NONE)
    assert.deepEqual([synced.protocolType, synced.protocolName], ['consumer', 'range'])
    assert.equal(synced.assignment.toString(), 'assigned')
    const beat = await connection.send(Heartbeat, { groupId: 'g41',
      generationId: joined.generationId, memberId, groupInstanceId: null }, { version: 4 })
    assert.equal(beat.errorCode, ERROR.NONE)

    const committed = await connection.send(OffsetCommit, {
      groupId: 'g41', generationIdOrMemberEpoch: joined.generationId, memberId,
      groupInstanceId: null, retentionTimeMs: -1,
      topics: [{ name: 'grouped', partitions: [{ partitionIndex: 1, committedOffset: 0,
        committedLeaderEpoch: 0, commitTimestamp: -1, committedMetadata: 'm' }] }],
    }, { version: 9 })
    assert.equal(committed.topics[0]?.partitions[0]?.errorCode, ERROR.NONE)
    const fetched = await connection.send(OffsetFetch, {
      groupId: '', topics: null, requireStable: true, groups: [
        { groupId: 'g41', memberId: null, memberEpoch: -1, topics: null },
        { groupId: '', memberId: null, memberEpoch: -1,
          topics: [{ name: 'grouped', partitionIndexes: [0] }] },
      ],
    }, { version: 9 })
    const g41 = fetched.groups?.[0]
    assert.equal(g41?.errorCode, ERROR.NONE)
    assert.deepEqual(g41?.topics.map(t => [t.name, t.partitions.map(p =>
      [p.partitionIndex, p.committedOffset, p.committedLeaderEpoch, p.metadata])]),
    [['grouped', [[1, 0, 0, 'm']]]])
    assert.equal(fetched.groups?.[1]?.groupId, '')

    const described = await connection.send(DescribeGroups,
      { groups: ['g41', 'nobody'], includeAuthorizedOperations: true }, { version: 6 })
    assert.equal(described.groups[0]?.groupState, 'Stable')
    assert.equal(described.groups[0]?.authorizedOperations, 328)
    assert.equal(described.groups[1]?.errorCode, errorCodeOf('GROUP_ID_NOT_FOUND'))
    assert.equal(described.groups[1]?.errorMessage, 'Group nobody not found.')
    const listed = await connection.send(ListGroups,
      { statesFilter: ['STABLE'], typesFilter: ['Classic'] }, { version: 5 })
    assert.deepEqual(listed.groups.filter(g => g.groupId === 'g41'),
      [{ groupId: 'g41', protocolType: 'consumer', groupState: 'Stable', groupType: 'classic' }])
    const emptyOnly = await connection.send(ListGroups,
      { statesFilter: ['Empty'], typesFilter: [] }, { version: 5 })
    assert.ok(emptyOnly.groups.every(g => g.groupId !== 'g41'))

    const left = await connection.send(LeaveGroup, { groupId: 'g41', memberId: '',
      members: [{ memberId, groupInstanceId: null, reason: 'done' }] }, { version: 5 })
    assert.equal(left.errorCode, ERROR.NONE)
    assert.equal(left.members[0]?.errorCode, ERROR.NONE)
    const deleted = await connection.send(DeleteGroups, { groupsNames: ['g41'] },
      { version: 2 })
    assert.equal(deleted.results[0]?.errorCode, ERROR.NONE)
  })

  it('DescribeTopicPartitions pages topics sorted by name with a cursor', async () => {
    await createTopic('page-a')
    const b = await createTopic('page-b')
    const first = await connection.send(DescribeTopicPartitions, {
      topics: [{ name: 'page-b' }, { name: 'page-a' }, { name: 'missing' }],
      responsePartitionLimit: 3, cursor: null,
    }, { version: 0 })
    assert.deepEqual(first.topics.map(t => [t.name, t.errorCode,
      t.partitions.map(p => p.partitionIndex)]),
    [['missing', ERROR.UNKNOWN_TOPIC_OR_PARTITION, []], ['page-a', 0, [0, 1]],
      ['page-b', 0, [0]]])
    assert.deepEqual(first.nextCursor, { topicName: 'page-b', partitionIndex: 1 })
    assert.ok(first.topics[2]?.topicId.equals(b.topicId as Buffer))
    assert.equal(first.topics[2]?.topicAuthorizedOperations, 3576)
    const rest = await connection.send(DescribeTopicPartitions, {
      topics: [{ name: 'page-a' }, { name: 'page-b' }], responsePartitionLimit: 3,
      cursor: first.nextCursor,
    }, { version: 0 })
    assert.deepEqual(rest.topics.map(t => [t.name, t.partitions.map(p => p.partitionIndex)]),
      [['page-b', [1]]])
    assert.equal(rest.nextCursor, null)
    const stray = await connection.send(DescribeTopicPartitions, {
      topics: [{ name: 'page-a' }], responsePartitionLimit: 3,
      cursor: { topicName: 'page-b', partitionIndex: 0 },
    }, { version: 0 })
    assert.equal(stray.topics[0]?.errorCode, ERROR.INVALID_REQUEST)
  })

  it('DeleteTopics v6 deletes by topic id; a stale id is UNKNOWN_TOPIC_ID, name and id ' +
    'together INVALID_REQUEST', async () => {
    const created = await createTopic('doomed')
    const topicId = created.topicId as Buffer
    const both = await connection.send(DeleteTopics, { topicNames: [], timeoutMs: 5000,
      topics: [{ name: 'doomed', topicId }] }, { version: 6 })
    assert.equal(both.responses[0]?.errorCode, ERROR.INVALID_REQUEST)
    const byId = await connection.send(DeleteTopics, { topicNames: [], timeoutMs: 5000,
      topics: [{ name: null, topicId }] }, { version: 6 })
    assert.equal(byId.responses[0]?.errorCode, ERROR.NONE)
    assert.equal(byId.responses[0]?.name, 'doomed')
    const again = await connection.send(DeleteTopics, { topicNames: [], timeoutMs: 5000,
      topics: [{ name: null, topicId }] }, { version: 6 })
    assert.equal(again.responses[0]?.errorCode, errorCodeOf('UNKNOWN_TOPIC_ID'))
  })

  it('serves the admin APIs at their Kafka 4.1 maxima', async () => {
    await createTopic('admin41')
    const grown = await connection.send(CreatePartitions, { timeoutMs: 5000,
      validateOnly: false, topics: [{ name: 'admin41', count: 3, assignments: null }] },
    { version: 3 })
    assert.equal(grown.results[0]?.errorCode, ERROR.NONE)
    await client.produce('admin41', 2, buildRecordBatchSync([{ value: 'x' }, { value: 'y' }]))
    const deleted = await connection.send(DeleteRecords, { timeoutMs: 5000,
      topics: [{ name: 'admin41', partitions: [{ partitionIndex: 2, offset: 1 }] }] },
    { version: 2 })
    assert.deepEqual(deleted.topics[0]?.partitions[0],
      { partitionIndex: 2, lowWatermark: 1, errorCode: ERROR.NONE })
    const incremental = await connection.send(IncrementalAlterConfigs, { validateOnly: false,
      resources: [{ resourceType: 2, resourceName: 'admin41',
        configs: [{ name: 'cleanup.policy', configOperation: 0, value: 'compact' }] }] },
    { version: 1 })
    assert.equal(incremental.responses[0]?.errorCode, ERROR.NONE)
    const altered = await connection.send(AlterConfigs, { validateOnly: true,
      resources: [{ resourceType: 2, resourceName: 'admin41',
        configs: [{ name: 'retention.ms', value: '60000' }] }] }, { version: 2 })
    assert.equal(altered.responses[0]?.errorCode, ERROR.NONE)
    const described = await connection.send(DescribeConfigs, { includeSynonyms: true,
      includeDocumentation: true,
      resources: [{ resourceType: 2, resourceName: 'admin41', configurationKeys: null }] },
    { version: 4 })
    const policy = described.results[0]?.configs.find(c => c.name === 'cleanup.policy')
    assert.equal(policy?.value, 'compact')
    assert.equal(policy?.configSource, 1)
    assert.ok((policy?.documentation ?? '').length > 0, 'v3+ documentation')
    assert.ok((policy?.configType ?? 0) > 0, 'v3+ config type')
    const undocumented = await connection.send(DescribeConfigs, { includeSynonyms: false,
      includeDocumentation: false,
      resources: [{ resourceType: 2, resourceName: 'admin41', configurationKeys: null }] },
    { version: 4 })
    assert.ok(undocumented.results[0]?.configs.every(c => c.documentation === null &&
      c.synonyms.length === 0))
    const producer = await connection.send(InitProducerId, { transactionalId: null,
      transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1 }, { version: 5 })
    assert.equal(producer.errorCode, ERROR.NONE)
    assert.ok(producer.producerId >= 0)
  })

  it('DescribeProducers lists the idempotent producers of a partition', async () => {
    await createTopic('producers')
    const { producerId } = await client.initProducerId()
    await client.produce('producers', 0, buildRecordBatchSync([{ value: 'a' }, { value: 'b' }],
      { producerId, producerEpoch: 0, baseSequence: 0 }))
    const response = await connection.send(DescribeProducers, {
      topics: [{ name: 'producers', partitionIndexes: [0, 1, 7] }, { name: 'nope',
        partitionIndexes: [0] }],
    }, { version: 0 })
    const [p0, p1, p7] = response.topics[0]?.partitions ?? []
    assert.equal(p0?.errorCode, ERROR.NONE)
    assert.equal(p0?.activeProducers.length, 1)
    assert.deepEqual({ ...p0?.activeProducers[0], lastTimestamp: 0 }, { producerId,
      producerEpoch: 0, lastSequence: 1, lastTimestamp: 0, coordinatorEpoch: -1,
      currentTxnStartOffset: -1 })
    assert.deepEqual([p1?.errorCode, p1?.activeProducers], [ERROR.NONE, []])
    assert.equal(p7?.errorCode, ERROR.UNKNOWN_TOPIC_OR_PARTITION)
    assert.equal(response.topics[1]?.partitions[0]?.errorCode, ERROR.UNKNOWN_TOPIC_OR_PARTITION)
  })

  it('Fetch v13+ long-polling a topic deleted and re-created meanwhile answers UNKNOWN_TOPIC_ID',
    async () => {
      const created = await createTopic('reborn')
      const poller = await KafkaConnection.connect('127.0.0.1', broker.kafkaPort)
      try {
        const polling = poller.send(Fetch, { ...fetchRequest(created.topicId as Buffer, 0),
          maxWaitMs: 5000, minBytes: 1 }, { version: 18 })
        await client.deleteTopic('reborn')
        await createTopic('reborn')
        await client.produce('reborn', 0, buildRecordBatchSync([{ value: 'not yours' }]))
        const answer = await polling
        assert.deepEqual(answer.responses[0]?.partitions.map(p =>
          [p.errorCode, p.records?.length ?? 0]), [[errorCodeOf('UNKNOWN_TOPIC_ID'), 0]])
      } finally {
        poller.close()
      }
    })
})
