/**
 * Transactions across a cluster of three real brokers on etcd (issue #17's cluster part), with
 * the kafkajs transactional producer. Transactional ids, groups and partitions are chosen so
 * that the transaction coordinator (leader of the id's `__transaction_state` partition), the
 * partition leader the data goes to, and the group coordinator (leader of the group's
 * `__consumer_offsets` partition) are three different brokers: markers then travel as
 * WriteTxnMarkers between brokers, transactional produces are verified with the remote
 * coordinator, and the offsets of `sendOffsets` are staged at the group's coordinator until the
 * marker decides them.
 *
 * - commit and abort: read_committed readers see the committed records only; the group's
 *   offsets move with the committed transaction only, and not before its commit;
 * - a zombie is fenced across brokers: a second instance with the same id aborts what the
 *   first left open, and the first can no longer commit;
 * - the Java client's transaction scenario (test/interop/java: commit, abort, zombie fencing,
 *   timeout abort, read_committed and read_uncommitted reads, consume-transform-produce with
 *   sendOffsetsToTransaction) on topics with three replicas;
 * - a partition leader SIGKILLed inside a transaction: its commit marker is retried until the
 *   partition's new leader has it (then the broker comes back);
 * - a partition leader SIGKILLed after a marker of coordinator epoch 5: the new leader (a
 *   follower that replicated the marker) refuses a marker of epoch 4 with
 *   TRANSACTION_COORDINATOR_FENCED and reports epoch 5 in DescribeProducers;
 * - the coordinator's broker SIGKILLed mid-transaction: the new leader of the id's
 *   `__transaction_state` partition takes over, aborts the open transaction, and a new
 *   producer instance proceeds (needs the state replicated to the new leader).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import kafkajs, { type Producer } from 'kafkajs'
import { partitionForGroup } from '../../src/group/offsets-store.js'
import { DescribeProducers } from '../../src/protocol/apis/describe-producers.js'
import { FindCoordinator } from '../../src/protocol/apis/find-coordinator.js'
import { WriteTxnMarkers } from '../../src/protocol/apis/write-txn-markers.js'
import { ERROR } from '../../src/protocol/errors.js'
import {
  agreedView, connect, eventually, metadataFrom, startCluster, type TestCluster,
} from '../support/cluster-process.js'
import { liveBootstrap, partitionLeaders } from '../support/cluster-roles.js'
import { etcdAvailable } from '../support/etcd-process.js'
import {
  okStep, parseStepLines, runProgram,
} from '../interop/client-harness.js'
import { buildJava, javaToolchainWorks } from '../interop/java-build.js'

const { Kafka, logLevel } = kafkajs
const skip = etcdAvailable() ? false : 'etcd is not on PATH (Debian package etcd-server)'
const TXN_PARTITIONS = 6
const OFFSETS_PARTITIONS = 3
const javaSkip = javaToolchainWorks() ? false : 'Java 17 with Maven is not installed'

const ENV = {
  TRIBUTARY_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
  TRIBUTARY_TRANSACTION_STATE_LOG_NUM_PARTITIONS: String(TXN_PARTITIONS),
}

describe('transactions across a cluster of three brokers', { skip }, () => {
  let cluster: TestCluster
  let nextReader = 1

  const kafka = (): InstanceType<typeof Kafka> => new Kafka({ clientId: 'txn-cluster',
    brokers: liveBootstrap(cluster), logLevel: logLevel.NOTHING,
    retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1000 } })

  /** A key (transactional id or group) whose partition of `topic` broker `nodeId` leads. */
  async function keyLedBy (topic: string, partitionCount: number, nodeId: number,
    prefix: string): Promise<string> {
    const led = await eventually(`${topic} leaders`, async () => {
      const found = await partitionLeaders(cluster, topic)
      return found.length === partitionCount && found.every(id => id > 0) ? found : undefined
    })
    for (let i = 0; i < 10_000; i++) {
      const key = `${prefix}-${i}`
      if (led[partitionForGroup(key, partitionCount)] === nodeId) return key
    }
    throw new Error(`no key of ${topic} is led by broker ${nodeId}`)
  }

  async function transactionalProducer (transactionalId: string): Promise<Producer> {
    const producer = kafka().producer({ transactionalId, idempotent: true,
      maxInFlightRequests: 1, transactionTimeout: 30_000 })
    await producer.connect()
    return producer
  }

  /**
   * Replicated topics by default: a partition whose only replica is a killed broker is offline,
   * and Metadata then answers LEADER_NOT_AVAILABLE for it (as Kafka does), on which kafkajs'
   * metadata refresh fails the whole request, so a later kill would break unrelated producers.
   */
  async function createTopic (topic: string, partitions: number, replicationFactor = 3):
  Promise<void> {
    const admin = kafka().admin()
    await admin.connect()
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: partitions,
        replicationFactor }], waitForLeaders: true })
    } finally {
      await admin.disconnect()
    }
  }

  /**
   * Three distinct brokers: the group coordinator (a leader of `__consumer_offsets`, which has
   * only three partitions), the transaction coordinator and the data partition leader.
   */
  async function roles (): Promise<{ group: number, txn: number, data: number }> {
    const offsets = await eventually('__consumer_offsets leaders', async () => {
      const found = await partitionLeaders(cluster, '__consumer_offsets')
      return found.length === OFFSETS_PARTITIONS && found.every(id => id > 0) ? found : undefined
    })
    const group = offsets[0] as number
    const [txn, data] = [1, 2, 3].filter(id => id !== group) as [number, number]
    return { group, txn, data }
  }

  /** A partition of `topic` that `nodeId` leads. */
  async function partitionLedBy (topic: string, nodeId: number): Promise<number> {
    const led = await partitionLeaders(cluster, topic)
    const partition = led.indexOf(nodeId)
    assert.ok(partition >= 0, `broker ${nodeId} leads a partition of ${topic} (${led})`)
    return partition
  }

  /**
   * Every value of one partition as a fresh read_committed (or uncommitted) reader sees it:
   * read until `expected` values came (or 30 s passed, for a slow group join on a loaded
   * machine), then for `quietMs` more, so a value that should not be there has time to show.
   */
  async function readValues (topic: string, partition: number | 'all', expected: number,
    readUncommitted = false, quietMs = 1_500): Promise<string[]> {
    const consumer = kafka().consumer({ groupId: `reader-${nextReader++}`, readUncommitted,
      maxWaitTimeInMs: 100 })
    const values: string[] = []
    await consumer.connect()
    await consumer.subscribe({ topic, fromBeginning: true })
    await consumer.run({ eachMessage: async ({ message, partition: from }) => {
      if (partition === 'all' || from === partition) values.push(message.value?.toString() ?? '')
    } })
    const deadline = Date.now() + 30_000
    while (values.length < expected && Date.now() < deadline) {
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    await new Promise(resolve => setTimeout(resolve, quietMs))
    await consumer.disconnect()
    return values
  }

  async function groupOffset (groupId: string, topic: string): Promise<string | undefined> {
    const admin = kafka().admin()
    await admin.connect()
    try {
      const [fetched] = await admin.fetchOffsets({ groupId, topics: [topic] })
      const offset = fetched?.partitions.find(p => p.partition === 0)?.offset
      return offset === '-1' ? undefined : offset
    } finally {
      await admin.disconnect()
    }
  }

  /** Creates `__transaction_state`: the first FindCoordinator for a transactional id does. */
  async function ensureTransactionState (): Promise<void> {
    const connection = await connect(cluster, 1)
    try {
      const response = await connection.send(FindCoordinator, { key: 'warm-up', keyType: 1,
        coordinatorKeys: [] }, { version: 3 })
      assert.equal(response.errorCode, ERROR.NONE)
    } finally {
      connection.close()
    }
  }

  before(async () => {
    cluster = await startCluster(3, 3_000, ENV)
    await eventually('three live brokers', () => agreedView(cluster, [1, 2, 3]))
    await ensureTransactionState()
  })
  after(async () => {
    await cluster?.stop()
  })

  it('commit and abort with the coordinator, the data leader and the group coordinator on ' +
    'three brokers', async () => {
    const role = await roles()
    const transactionalId = await keyLedBy('__transaction_state', TXN_PARTITIONS, role.txn, 'eos')
    const groupId = await keyLedBy('__consumer_offsets', OFFSETS_PARTITIONS, role.group, 'job')
    await createTopic('spread-out', 6)
    await createTopic('spread-in', 1)
    const partition = await partitionLedBy('spread-out', role.data)
    // FindCoordinator (batched, v4+) names the id's __transaction_state leader from any broker.
    const connection = await connect(cluster, role.data)
    try {
      const found = await connection.send(FindCoordinator, { key: '', keyType: 1,
        coordinatorKeys: [transactionalId] }, { version: 4 })
      assert.equal(found.coordinators?.[0]?.errorCode, ERROR.NONE)
      assert.equal(found.coordinators?.[0]?.nodeId, role.txn)
    } finally {
      connection.close()
    }
    const producer = await transactionalProducer(transactionalId)
    try {
      let visible: string | undefined
      const send = async (value: string, offset: string, commit: boolean): Promise<void> => {
        const txn = await producer.transaction()
        await txn.send({ topic: 'spread-out', messages: [{ value, partition }] })
        await txn.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: 'spread-in',
          partitions: [{ partition: 0, offset }] }] })
        // Staged at the group's coordinator, invisible to the group before the decision.
        assert.equal(await groupOffset(groupId, 'spread-in'), visible)
        if (commit) await txn.commit()
        else await txn.abort()
        if (commit) visible = offset
      }
      await send('first', '1', true)
      assert.equal(await eventually('the committed offset', async () => {
        const offset = await groupOffset(groupId, 'spread-in')
        return offset === '1' ? offset : undefined
      }), '1')
      await send('aborted', '2', false)
      // The abort's markers are sent after EndTxn answers; the next send waits for them.
      await send('second', '3', true)
      await eventually('the second committed offset', async () =>
        await groupOffset(groupId, 'spread-in') === '3' ? true : undefined)
      assert.deepEqual(await readValues('spread-out', partition, 2), ['first', 'second'])
      assert.deepEqual(await readValues('spread-out', partition, 3, true),
        ['first', 'aborted', 'second'])
    } finally {
      await producer.disconnect()
    }
  })

  it('fences a zombie whose coordinator is on another broker than its partition', async () => {
    const transactionalId = await keyLedBy('__transaction_state', TXN_PARTITIONS, 3, 'zombie')
    await createTopic('zombie-out', 6)
    const partition = await partitionLedBy('zombie-out', 1)
    const zombie = await transactionalProducer(transactionalId)
    const open = await zombie.transaction()
    await open.send({ topic: 'zombie-out', messages: [{ value: 'zombie', partition }] })
    const fresh = await transactionalProducer(transactionalId)
    try {
      // kafkajs sends the transactional InitProducerId when the first transaction begins: it
      // aborts the zombie's transaction, with markers to the partition's leader.
      const txn = await fresh.transaction()
      await assert.rejects(async () => {
        await open.send({ topic: 'zombie-out', messages: [{ value: 'late', partition }] })
        await open.commit()
      }, (error: Error & { type?: string }) =>
        /FENCED|EPOCH|PRODUCER/.test(`${error.name} ${error.type ?? ''} ${error.message}`))
      await txn.send({ topic: 'zombie-out', messages: [{ value: 'fresh', partition }] })
      await txn.commit()
      assert.deepEqual(await readValues('zombie-out', partition, 1), ['fresh'])
    } finally {
      await zombie.disconnect().catch(() => undefined)
      await fresh.disconnect()
    }
  })

  it('the Java client\'s transactions against the cluster: commit, abort, fencing, timeout, ' +
    'read_committed, consume-transform-produce with sendOffsetsToTransaction',
  { skip: javaSkip }, async () => {
    const classpath = await buildJava()
    for (const topic of ['java-txn', 'java-txn-in', 'java-txn-out']) {
      await createTopic(topic, 2, 3)
    }
    const run = await runProgram('java', ['-cp', classpath, 'tributary.interop.Interop',
      liveBootstrap(cluster).join(','), 'txn'], { timeoutMs: 240_000 })
    assert.equal(run.code, 0, `the Java program exited ${run.code}: ${run.stderr.slice(-2000)}`)
    const steps = parseStepLines(run.stdout)
    const committed = Array.from({ length: 10 }, (_, i) => `committed-${i}`)
    assert.equal(okStep(steps, 'txn/commit').committed, 10)
    assert.equal(okStep(steps, 'txn/abort').aborted, 5)
    assert.equal(okStep(steps, 'txn/fence').zombieError, 'ProducerFencedException')
    assert.equal(okStep(steps, 'txn/timeout').commitError, 'ProducerFencedException')
    assert.deepEqual(okStep<{ values: string[] }>(steps, 'txn/read-committed').values,
      [...committed, 'second'].sort())
    const ctp = okStep<{ copied: number, committed: Record<string, number>, output: string[] }>(
      steps, 'txn/ctp')
    assert.equal(ctp.copied, 40)
    assert.deepEqual(ctp.committed, { 0: 20, 1: 20 })
    // The program reads the output right after its last commit, up to the LSO it sees then;
    // the markers are written after EndTxn answers (as in Kafka), so on a loaded machine a
    // partition's last transaction may not be readable yet: what it read is a subset with no
    // duplicate, and a reader that waits sees every input exactly once.
    const expected = Array.from({ length: 40 }, (_, i) => `INPUT-${i}`).sort()
    assert.equal(new Set(ctp.output).size, ctp.output.length)
    assert.ok(ctp.output.every(value => expected.includes(value)))
    assert.deepEqual((await readValues('java-txn-out', 'all', 40)).sort(), expected)
  })

  it('a partition leader SIGKILLed inside a transaction: the commit marker goes to its new ' +
    'leader', async () => {
    const transactionalId = await keyLedBy('__transaction_state', TXN_PARTITIONS, 1, 'moved')
    await createTopic('moved-out', 6, 3)
    const partition = await partitionLedBy('moved-out', 3)
    const producer = await transactionalProducer(transactionalId)
    try {
      const txn = await producer.transaction()
      await txn.send({ topic: 'moved-out', messages: [{ value: 'moved', partition }] })
      await cluster.brokers.get(3)?.kill()
      // The Prepare record is durable on the coordinator's partition; the marker for the dead
      // leader's partition is retried until a new leader is elected and has it.
      await txn.commit()
      assert.deepEqual(await readValues('moved-out', partition, 1), ['moved'])
    } finally {
      await producer.disconnect()
    }
    await cluster.startNode(3)
    await eventually('three live brokers again', () => agreedView(cluster, [1, 2, 3]), 30_000)
  })

  it('a new partition leader after failover refuses a marker of an older coordinator epoch',
    async () => {
      await createTopic('fenced-out', 6, 3)
      const partition = await partitionLedBy('fenced-out', 3)
      const producerId = 4242
      /** WriteTxnMarkers (as a deposed or current coordinator would send) to `nodeId`. */
      const writeMarker = async (nodeId: number, coordinatorEpoch: number): Promise<number> => {
        const connection = await connect(cluster, nodeId)
        try {
          const response = await connection.send(WriteTxnMarkers, { markers: [{ producerId,
            producerEpoch: 0, transactionResult: false, coordinatorEpoch,
            topics: [{ name: 'fenced-out', partitionIndexes: [partition] }] }] }, { version: 1 })
          return response.markers[0]?.topics[0]?.partitions[0]?.errorCode ?? -1
        } finally {
          connection.close()
        }
      }
      // Markers are written with acks=all: once answered, every in-sync follower has it.
      assert.equal(await writeMarker(3, 5), ERROR.NONE)
      assert.equal(await writeMarker(3, 4), ERROR.TRANSACTION_COORDINATOR_FENCED,
        'the leader that wrote coordinator epoch 5')
      await cluster.brokers.get(3)?.kill()
      const leader = await eventually('a new leader of the partition', async () => {
        const found = (await partitionLeaders(cluster, 'fenced-out'))[partition]
        return found !== undefined && found > 0 && found !== 3 ? found : undefined
      }, 30_000)
      // The new leader learned coordinator epoch 5 from the replicated control batch: a late
      // marker of the deposed coordinator (epoch 4) cannot end a newer transaction there.
      assert.equal(await eventually('an answer from the new leader', async () => {
        const code = await writeMarker(leader, 4)
        return code === ERROR.NOT_LEADER_OR_FOLLOWER ? undefined : code
      }, 30_000), ERROR.TRANSACTION_COORDINATOR_FENCED)
      const connection = await connect(cluster, leader)
      try {
        const described = await connection.send(DescribeProducers, { topics: [{
          name: 'fenced-out', partitionIndexes: [partition] }] }, { version: 0 })
        const producer = described.topics[0]?.partitions[0]?.activeProducers
          .find(p => p.producerId === producerId)
        assert.equal(producer?.coordinatorEpoch, 5, 'DescribeProducers reports the epoch')
      } finally {
        connection.close()
      }
      assert.equal(await writeMarker(leader, 6), ERROR.NONE, 'a newer coordinator')
      await cluster.startNode(3)
      await eventually('three live brokers again', () => agreedView(cluster, [1, 2, 3]), 30_000)
      // The next test kills another broker: broker 3 must be back in every ISR first.
      await eventually('broker 3 back in the ISRs', async () => {
        const response = await metadataFrom(cluster, 1,
          ['__transaction_state', '__consumer_offsets', 'fenced-out'])
        return response.topics.every(topic => topic.errorCode === ERROR.NONE &&
          topic.partitions.every(p => p.isrNodes.length === 3)) ? true : undefined
      }, 60_000)
    })

  it('the coordinator\'s broker SIGKILLed mid-transaction: the new coordinator aborts it and ' +
    'a new producer instance proceeds', async () => {
    const transactionalId = await keyLedBy('__transaction_state', TXN_PARTITIONS, 2, 'killed')
    await createTopic('killed-out', 6, 3)
    const partition = await partitionLedBy('killed-out', 3)
    const producer = await transactionalProducer(transactionalId)
    const committed = await producer.transaction()
    await committed.send({ topic: 'killed-out', messages: [{ value: 'committed', partition }] })
    await committed.commit()
    const open = await producer.transaction()
    await open.send({ topic: 'killed-out', messages: [{ value: 'open', partition }] })
    const killedAt = Date.now()
    await cluster.brokers.get(2)?.kill()
    await producer.disconnect().catch(() => undefined)
    await eventually('a new transaction coordinator', async () => {
      const led = await partitionLeaders(cluster, '__transaction_state')
      const leader = led[partitionForGroup(transactionalId, TXN_PARTITIONS)]
      return leader !== undefined && leader > 0 && leader !== 2 ? leader : undefined
    }, 30_000)
    // kafkajs looks the controller up when a producer connects and gives up on a dead one.
    await eventually('the cluster without broker 2', async () => {
      const view = await agreedView(cluster, [1, 3])
      return view !== undefined && view.controllerId !== 2 ? view : undefined
    }, 30_000)
    const fresh = await transactionalProducer(transactionalId)
    try {
      const txn = await fresh.transaction()
      await txn.send({ topic: 'killed-out', messages: [{ value: 'after', partition }] })
      await txn.commit()
      // Reported, not asserted (no timed assertions): session timeout, election, load, abort.
      console.log(`coordinator failover: SIGKILL to the new instance's commit in ` +
        `${Date.now() - killedAt} ms (broker session timeout ${cluster.sessionTimeoutMs} ms)`)
      assert.deepEqual(await readValues('killed-out', partition, 2), ['committed', 'after'])
    } finally {
      await fresh.disconnect()
    }
  })
})
