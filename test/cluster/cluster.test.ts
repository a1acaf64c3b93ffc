/**
 * A cluster of real broker processes on a real etcd: formation, admin requests on any broker
 * (forwarded to the controller and visible everywhere), placement, leadership, a duplicate
 * node id, etcd going away and coming back, controller failover after SIGKILL, and a broker
 * rejoining with its data. Times are reported as diagnostics, never asserted.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { RESOURCE_TYPE_TOPIC } from '../../src/client/client.js'
import { DescribeCluster } from '../../src/protocol/apis/describe-cluster.js'
import { DescribeGroups } from '../../src/protocol/apis/describe-groups.js'
import { errorByCode, errorCodeOf } from '../../src/protocol/errors.js'
import { startBroker } from '../support/broker-process.js'
import {
  agreedView, connect, createTopicOn, describeTopic, eventually, metadataFrom, produceOn,
  startCluster, type TestCluster,
} from '../support/cluster-process.js'
import { etcdAvailable } from '../support/etcd-process.js'

const skip = etcdAvailable() ? false : 'etcd is not on PATH (Debian package etcd-server)'

describe('a cluster of three brokers on etcd', { skip }, () => {
  let cluster: TestCluster

  before(async () => {
    cluster = await startCluster(3)
  })
  after(async () => {
    await cluster?.stop()
  })

  it('forms: every broker lists the three brokers and the same controller', async () => {
    const { controllerId } = await eventually('an agreed view',
      () => agreedView(cluster, [1, 2, 3]))
    assert.ok([1, 2, 3].includes(controllerId))
    const connection = await connect(cluster, 2)
    try {
      const described = await connection.send(DescribeCluster, {
        includeClusterAuthorizedOperations: false, endpointType: 1,
      })
      assert.equal(described.controllerId, controllerId)
      assert.deepEqual(described.brokers.map(b => b.brokerId).sort(), [1, 2, 3])
    } finally {
      connection.close()
    }
  })

  it('creates a topic on a non-controller broker, visible at once there and soon on all',
    async t => {
      const { controllerId } = await eventually('a controller',
        () => agreedView(cluster, [1, 2, 3]))
      const via = [1, 2, 3].find(id => id !== controllerId) as number
      const startedMs = performance.now()
      assert.equal(await createTopicOn(cluster, via, 'spread', 6, 2), 'NONE')
      const answeredMs = performance.now() - startedMs
      const own = describeTopic(await metadataFrom(cluster, via, ['spread']), 'spread')
      assert.ok(own !== undefined, 'the forwarding broker answers only once its image has it')
      const views = await eventually('the topic on every broker', async () => {
        const all = await Promise.all([1, 2, 3].map(async id =>
          describeTopic(await metadataFrom(cluster, id, ['spread']), 'spread')))
        return all.every(view => view === own) ? all : undefined
      })
      const visibleMs = performance.now() - startedMs
      t.diagnostic(`CreateTopics answered after ${answeredMs.toFixed(0)} ms; same metadata on ` +
        `all 3 brokers after ${visibleMs.toFixed(0)} ms`)
      assert.equal(views.length, 3)
      const metadata = await metadataFrom(cluster, 1, ['spread'])
      const partitions = metadata.topics[0]?.partitions ?? []
      const leaders = new Map<number, number>()
      for (const p of partitions) {
        assert.equal(new Set(p.replicaNodes).size, 2, 'two distinct replicas')
        assert.equal(p.leaderId, p.replicaNodes[0], 'the preferred replica leads')
        leaders.set(p.leaderId, (leaders.get(p.leaderId) ?? 0) + 1)
      }
      assert.deepEqual([...leaders.values()], [2, 2, 2], 'leaders spread evenly')
    })

  it('forwards config changes and producer-id blocks from every broker', async () => {
    const { controllerId } = await eventually('a controller',
      () => agreedView(cluster, [1, 2, 3]))
    const via = [1, 2, 3].find(id => id !== controllerId) as number
    assert.equal(await createTopicOn(cluster, via, 'configured', 1, 1), 'NONE')
    await cluster.clientOf(via).alterTopicConfigs('configured', { 'retention.ms': '12345' })
    await eventually('the config on every broker', async () => {
      const values = await Promise.all([1, 2, 3].map(async id =>
        (await cluster.clientOf(id).describeConfigs(RESOURCE_TYPE_TOPIC, 'configured'))
          .find(entry => entry.name === 'retention.ms')?.value))
      return values.every(value => value === '12345') ? true : undefined
    })
    const ids = await Promise.all([1, 2, 3].map(async id =>
      (await cluster.clientOf(id).initProducerId()).producerId))
    assert.equal(new Set(ids).size, 3, `distinct producer ids from each broker: ${ids}`)
  })

  it('refuses a replication factor above the live broker count', async () => {
    assert.equal(await createTopicOn(cluster, 3, 'too-wide', 1, 4),
      'INVALID_REPLICATION_FACTOR')
  })

  it('deletes and expands a topic from any broker, seen the same by all', async () => {
    assert.equal(await createTopicOn(cluster, 1, 'grow', 1, 1), 'NONE')
    const client = cluster.clientOf(3)
    await client.createPartitions('grow', 3)
    await eventually('three partitions everywhere', async () => {
      const counts = await Promise.all([1, 2, 3].map(async id =>
        (await metadataFrom(cluster, id, ['grow'])).topics[0]?.partitions.length))
      return counts.every(count => count === 3) ? true : undefined
    })
    await cluster.clientOf(2).deleteTopic('grow')
    await eventually('the topic gone everywhere', async () => {
      const codes = await Promise.all([1, 2, 3].map(async id =>
        (await metadataFrom(cluster, id, ['grow'])).topics[0]?.errorCode))
      return codes.every(code => code === 3) ? true : undefined
    })
  })

  it('takes produce only on the leader; the others answer NOT_LEADER_OR_FOLLOWER', async () => {
    assert.equal(await createTopicOn(cluster, 2, 'led', 1, 1), 'NONE')
    const leader = (await metadataFrom(cluster, 2, ['led'])).topics[0]?.partitions[0]?.leaderId
    assert.ok(leader !== undefined && leader > 0)
    // Brokers follow the metadata log on their own: every one has the topic soon, not at once
    // (a client retries UNKNOWN_TOPIC_OR_PARTITION meanwhile, as with Kafka).
    await eventually('the topic on every broker', async () => {
      const views = await Promise.all([1, 2, 3].map(async id =>
        describeTopic(await metadataFrom(cluster, id, ['led']), 'led')))
      return views.every(view => view !== undefined) ? true : undefined
    })
    // The leader may still be creating the log: NOT_LEADER_OR_FOLLOWER (retriable) until then.
    await eventually('the leader takes produce', async () => {
      const result = await produceOn(cluster, leader, 'led', 0)
      assert.ok(['NONE', 'NOT_LEADER_OR_FOLLOWER'].includes(result), result)
      return result === 'NONE' ? true : undefined
    })
    const other = [1, 2, 3].find(id => id !== leader) as number
    assert.equal(await produceOn(cluster, other, 'led', 0), 'NOT_LEADER_OR_FOLLOWER')
  })

  it('coordinates a group on the leader of its __consumer_offsets partition only', async () => {
    await eventually('a controller', () => agreedView(cluster, [1, 2, 3]))
    const client = cluster.clientOf(1)
    const coordinator = await eventually('a coordinator', async () =>
      (await client.findCoordinator('cluster-group')).nodeId)
    const offsets = (await metadataFrom(cluster, 1, ['__consumer_offsets'])).topics[0]
    assert.ok(offsets?.partitions.some(p => p.leaderId === coordinator))
    await client.commitGroupOffsets('cluster-group', [{ topic: 'led', partition: 0, offset: 1 }])
    assert.equal((await client.fetchGroupOffsets('cluster-group')).get('led')?.get(0), 1)
    for (const nodeId of [1, 2, 3]) {
      const connection = await connect(cluster, nodeId)
      try {
        const described = await connection.send(DescribeGroups, {
          groups: ['cluster-group'], includeAuthorizedOperations: false,
        })
        assert.equal(errorByCode(described.groups[0]?.errorCode ?? -1)?.name,
          nodeId === coordinator ? 'NONE' : 'NOT_COORDINATOR', `broker ${nodeId}`)
      } finally {
        connection.close()
      }
    }
  })

  it('refuses a second broker with a live node id, with one line and exit code 1', async () => {
    await assert.rejects(startBroker({
      args: ['--node-id', '2', '--etcd', cluster.etcd.endpoint],
      env: { TRIBUTARY_BROKER_SESSION_TIMEOUT_MS: String(cluster.sessionTimeoutMs) },
      readyTimeoutMs: 30_000,
    }), (error: Error) => {
      assert.match(error.message, /exited with 1/)
      assert.match(error.message, /tributary: node id 2 is already registered in this cluster/)
      return true
    })
  })

  it('rides out an etcd restart: produce goes on, admin fails retriably, then recovers',
    async t => {
      assert.equal(await createTopicOn(cluster, 1, 'through-outage', 1, 1), 'NONE')
      const leader = (await metadataFrom(cluster, 1, ['through-outage'])).topics[0]
        ?.partitions[0]?.leaderId as number
      // The leader's log exists once a produce works (it follows the metadata by itself).
      await eventually('the leader takes produce', async () =>
        await produceOn(cluster, leader, 'through-outage', 0) === 'NONE' ? true : undefined)
      await cluster.etcd.kill()
      try {
        // Shorter than the session: leaders keep leading with the metadata they have.
        assert.equal(await produceOn(cluster, leader, 'through-outage', 0), 'NONE')
        const refused = await createTopicOn(cluster, 2, 'during-outage', 1, 1)
        assert.ok(errorByCode(errorCodeOf(refused))?.retriable === true,
          `admin during the outage is refused retriably, got ${refused}`)
      } finally {
        await cluster.etcd.start()
      }
      const startedMs = performance.now()
      await eventually('admin works again', async () => {
        const result = await createTopicOn(cluster, 2, 'after-outage', 1, 1)
        return result === 'NONE' || result === 'TOPIC_ALREADY_EXISTS' ? true : undefined
      }, 30_000)
      t.diagnostic(`admin requests worked again ${(performance.now() - startedMs).toFixed(0)} ` +
        'ms after etcd came back')
      await eventually('three brokers again', () => agreedView(cluster, [1, 2, 3]), 30_000)
    })

  it('fences a broker cut off from etcd for longer than its session; it leads again after',
    async t => {
      assert.equal(await createTopicOn(cluster, 3, 'fenced', 1, 1), 'NONE')
      const leaderOf = async (): Promise<number> => (await metadataFrom(cluster, 3,
        ['fenced'])).topics[0]?.partitions[0]?.leaderId ?? -1
      const leader = await leaderOf()
      await eventually('the leader takes produce', async () =>
        await produceOn(cluster, leader, 'fenced', 0) === 'NONE' ? true : undefined)
      await cluster.etcd.kill()
      try {
        await new Promise(resolve => setTimeout(resolve, cluster.sessionTimeoutMs + 1_000))
        assert.equal(await produceOn(cluster, leader, 'fenced', 0), 'NOT_LEADER_OR_FOLLOWER',
          'no session, no leadership')
      } finally {
        await cluster.etcd.start()
      }
      const startedMs = performance.now()
      await eventually('produce works again', async () =>
        await produceOn(cluster, await leaderOf(), 'fenced', 0) === 'NONE' ? true : undefined,
      30_000)
      t.diagnostic(`the partition took produce again ${(performance.now() - startedMs)
        .toFixed(0)} ms after etcd came back`)
      await eventually('three brokers again', () => agreedView(cluster, [1, 2, 3]), 30_000)
    })

  it('forwards again from a broker restarted cleanly (request ids are never reused)',
    async () => {
      const { controllerId } = await eventually('a controller',
        () => agreedView(cluster, [1, 2, 3]))
      const other = [1, 2, 3].find(id => id !== controllerId) as number
      assert.equal(await createTopicOn(cluster, other, 'before-restart', 1, 1), 'NONE')
      assert.equal(await cluster.brokers.get(other)?.stop(), 0, 'clean shutdown')
      await cluster.startNode(other)
      // Retriable refusals may come while the cluster settles; a dropped request would time
      // out (REQUEST_TIMED_OUT after 15 s) again and again.
      await eventually('a forwarded creation after the restart', async () => {
        const result = await createTopicOn(cluster, other, 'after-restart', 1, 1)
        assert.notEqual(result, 'REQUEST_TIMED_OUT')
        return result === 'NONE' || result === 'TOPIC_ALREADY_EXISTS' ? true : undefined
      }, 30_000)
      await eventually('three brokers again', () => agreedView(cluster, [1, 2, 3]), 30_000)
    })

  it('fails the controller over after SIGKILL; admin works again; the broker rejoins',
    async t => {
      const { controllerId } = await eventually('a controller',
        () => agreedView(cluster, [1, 2, 3]))
      const survivors = [1, 2, 3].filter(id => id !== controllerId)
      // A partition the controller's broker leads, with data, to recognise after its restart.
      assert.equal(await createTopicOn(cluster, controllerId, 'kept', 3, 1), 'NONE')
      const kept = (await metadataFrom(cluster, controllerId, ['kept'])).topics[0]?.partitions
        .find(p => p.leaderId === controllerId)?.partitionIndex as number
      assert.equal(await produceOn(cluster, controllerId, 'kept', kept), 'NONE')
      const killedMs = performance.now()
      await cluster.brokers.get(controllerId)?.kill()
      const next = await eventually('a new controller', () => agreedView(cluster, survivors),
        30_000)
      t.diagnostic(`controller ${controllerId} → ${next.controllerId} after ` +
        `${(performance.now() - killedMs).toFixed(0)} ms (session ${cluster.sessionTimeoutMs} ms)`)
      assert.notEqual(next.controllerId, controllerId)
      // Its only replica is gone: KRaft's answer, LEADER_NOT_AVAILABLE with no leader and the
      // replica listed offline, so clients retry rather than dial a dead broker.
      const orphan = await eventually('the orphaned partition has no leader', async () => {
        const partition = (await metadataFrom(cluster, next.controllerId, ['kept'])).topics[0]
          ?.partitions.find(p => p.partitionIndex === kept)
        return partition?.leaderId === -1 ? partition : undefined
      }, 30_000)
      assert.equal(orphan.errorCode, errorCodeOf('LEADER_NOT_AVAILABLE'))
      assert.deepEqual(orphan.offlineReplicas, [controllerId])
      assert.equal(await createTopicOn(cluster, survivors[0] as number, 'after-failover', 2, 1),
        'NONE')
      await cluster.startNode(controllerId)
      await eventually('three brokers again', () => agreedView(cluster, [1, 2, 3]), 30_000)
      const view = describeTopic(await metadataFrom(cluster, controllerId, ['spread']), 'spread')
      assert.ok(view !== undefined, 'the restarted broker has the metadata')
      // Its replica is recognised: it leads the partition again (it stayed the last in-sync
      // replica) with the record it had, and takes the next one at offset 1.
      await eventually('the rejoined broker leads its partition again', async () =>
        (await metadataFrom(cluster, controllerId, ['kept'])).topics[0]?.partitions
          .find(p => p.partitionIndex === kept)?.leaderId === controllerId ? true : undefined)
      const end = await eventually('the end offset', async () =>
        (await cluster.clientOf(controllerId).listOffsets('kept', kept, -1)).offset)
      assert.equal(end, 1, 'the record produced before the kill is there')
    })
})
