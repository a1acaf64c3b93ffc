/**
 * Transactions with a real client (issue #17): the kafkajs transactional producer against a
 * broker process. Commit makes records visible to read_committed readers; abort hides them
 * there but not from read_uncommitted readers; a second instance with the same transactional
 * id fences the first (a zombie), whose open transaction is aborted; consume-transform-produce
 * with `sendOffsets` commits the group's offsets with the output, exactly once; and a broker
 * SIGKILLed mid-transaction aborts that transaction after its restart. On the wire: a
 * transactional produce to a partition not added to the transaction is refused (KIP-890
 * part 1), and a transaction past its timeout is aborted and its producer fenced. Exactly
 * once: a consume-transform-produce job in its own process is SIGKILLed with a transaction
 * open and restarted; and the broker (coordinator and partition leader at once) is SIGKILLed
 * while a supervised job runs; read_committed output holds every input exactly once.
 */
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { after, before, describe, it } from 'node:test'
import kafkajs, { type Producer } from 'kafkajs'
import { KafkaConnection } from '../../src/client/connection.js'
import { AddPartitionsToTxn } from '../../src/protocol/apis/add-partitions-to-txn.js'
import { FindCoordinator } from '../../src/protocol/apis/find-coordinator.js'
import { InitProducerId } from '../../src/protocol/apis/init-producer-id.js'
import { ListOffsets } from '../../src/protocol/apis/list-offsets.js'
import { Produce } from '../../src/protocol/apis/produce.js'
import { ERROR } from '../../src/protocol/errors.js'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import {
  REPO_ROOT, removeDataDir, startBroker, type BrokerProcess,
} from '../support/broker-process.js'

const { Kafka, logLevel } = kafkajs
const ENV = {
  TRIBUTARY_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
  TRIBUTARY_OFFSETS_TOPIC_NUM_PARTITIONS: '3',
  TRIBUTARY_TRANSACTION_STATE_LOG_NUM_PARTITIONS: '3',
}

let broker: BrokerProcess
let nextGroup = 1

function kafka (): InstanceType<typeof Kafka> {
  return new Kafka({ clientId: 'txn', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING,
    retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 } })
}

async function transactionalProducer (transactionalId: string, timeoutMs = 60_000):
Promise<Producer> {
  const producer = kafka().producer({ transactionalId, idempotent: true,
    maxInFlightRequests: 1, transactionTimeout: timeoutMs })
  await producer.connect()
  return producer
}

async function createTopic (topic: string, partitions: number): Promise<void> {
  const admin = kafka().admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }] })
  await admin.disconnect()
}

/** Every value in the topic as a fresh group reads it, once nothing new came for `quietMs`. */
async function readValues (topic: string, readUncommitted: boolean, quietMs = 1_500):
Promise<string[]> {
  const consumer = kafka().consumer({ groupId: `reader-${nextGroup++}`, readUncommitted,
    maxWaitTimeInMs: 100 })
  const values: string[] = []
  let lastAt = Date.now()
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({ eachMessage: async ({ message }) => {
    values.push(message.value?.toString() ?? '')
    lastAt = Date.now()
  } })
  const started = Date.now()
  while (Date.now() - lastAt < quietMs || Date.now() - started < quietMs * 2) {
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  await consumer.disconnect()
  return values.sort()
}

/**
 * A consume-transform-produce job in its own process: each input record becomes one output
 * record in a transaction that also commits the input offset. With CRASH_AFTER=n it commits n
 * transactions, then sends the next output and offset, prints "open" and waits to be killed.
 */
const JOB = `
import kafkajs from 'kafkajs'
const name = process.env.JOB_NAME
const { Kafka, logLevel } = kafkajs
const kafka = new Kafka({ clientId: 'eos-job', brokers: [process.env.BOOTSTRAP],
  logLevel: Number(process.env.JOB_LOG ?? 0),
  retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 } })
const crashAfter = Number(process.env.CRASH_AFTER ?? -1)
const producer = kafka.producer({ transactionalId: name + '-job-tx', idempotent: true,
  maxInFlightRequests: 1, transactionTimeout: 10000 })
await producer.connect()
// A short session, so the group does not wait long for the killed instance's member.
const consumer = kafka.consumer({ groupId: name + '-job', maxWaitTimeInMs: 100,
  sessionTimeout: 6000, rebalanceTimeout: 6000, heartbeatInterval: 500 })
await consumer.connect()
await consumer.subscribe({ topic: name + '-in', fromBeginning: true })
let committed = 0
// Any failure ends the process, and its supervisor starts a new one, which resumes from the
// committed offsets (retrying inside would reprocess a record whose commit did land).
const die = () => process.exit(1)
consumer.on(consumer.events.CRASH, die)
// For the test's failure message: which inputs were processed after which (re)join.
consumer.on(consumer.events.GROUP_JOIN, event => console.log('joined generation ' +
  event.payload.generationId + ' ' + JSON.stringify(event.payload.memberAssignment)))
await consumer.run({ autoCommit: false, eachMessage: async ({ topic, partition, message }) => {
  try {
  console.log('input ' + topic + '-' + partition + '@' + message.offset + ' ' + message.value)
  const txn = await producer.transaction()
  await txn.send({ topic: name + '-out', messages: [{ value: 'out-' + message.value }] })
  await txn.sendOffsets({ consumerGroupId: name + '-job', topics: [{ topic, partitions: [
    { partition, offset: String(Number(message.offset) + 1) }] }] })
  if (committed === crashAfter) {
    console.log('open')
    await new Promise(() => {})
  }
  await txn.commit()
  committed++
  console.log('committed ' + committed)
  } catch (error) {
    console.log('failed: ' + error)
    die()
  }
} })
`

function startJob (name: string, crashAfter: number):
{ child: ChildProcess, open: Promise<void> } {
  const child = spawn(process.execPath, ['--input-type=module', '-e', JOB], {
    cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, BOOTSTRAP: broker.bootstrap, CRASH_AFTER: String(crashAfter),
      JOB_NAME: name },
  })
  const open = new Promise<void>(resolve => {
    child.stdout?.on('data', (chunk: Buffer) => { if (chunk.includes('open')) resolve() })
  })
  return { child, open }
}

/** Lines of the supervised job's output kept for a failure message. */
const JOB_LOG_LINES = 300

/** Keeps one job running (restarting it whenever it exits) until stopped. */
function superviseJob (name: string): { stop: () => Promise<void>, committed: () => number,
  restarts: () => number, log: () => string } {
  let stopped = false
  const log: string[] = []
  let committed = 0
  let restarts = -1
  let child: ChildProcess | undefined
  const launch = (): void => {
    if (stopped || restarts >= 20) return
    restarts++
    const job = startJob(name, -1)
    child = job.child
    job.child.stdout?.on('data', (chunk: Buffer) => {
      const lines = chunk.toString().split('\n').filter(line => line !== '')
      committed += lines.filter(line => line.startsWith('committed')).length
      log.push(...lines.map(line => `${Date.now()} [job ${restarts}] ${line}`))
      log.splice(0, log.length - JOB_LOG_LINES)
    })
    job.child.once('exit', () => setTimeout(launch, 200))
  }
  launch()
  return {
    stop: async () => {
      stopped = true
      if (child !== undefined) await stopJob(child, 'SIGTERM')
    },
    committed: () => committed,
    restarts: () => restarts,
    log: () => log.join('\n'),
  }
}

async function stopJob (child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise(resolve => child.once('exit', resolve))
  child.kill(signal)
  await withTimeout(exited, 10_000, 'the job to exit').catch(() => child.kill('SIGKILL'))
}

async function withTimeout<T> (promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

describe('transactions (kafkajs)', () => {
  before(async () => { broker = await startBroker({ env: ENV }) })
  after(async () => {
    await broker.stop()
    await removeDataDir(broker.dataDir)
  })

  it('commit makes records visible to read_committed; abort hides them there only', async () => {
    await createTopic('txn-basic', 2)
    const producer = await transactionalProducer('basic')
    const committed = await producer.transaction()
    await committed.send({ topic: 'txn-basic', messages: [
      { value: 'c1', partition: 0 }, { value: 'c2', partition: 1 }] })
    await committed.commit()
    const aborted = await producer.transaction()
    await aborted.send({ topic: 'txn-basic', messages: [
      { value: 'a1', partition: 0 }, { value: 'a2', partition: 1 }] })
    await aborted.abort()
    const again = await producer.transaction()
    await again.send({ topic: 'txn-basic', messages: [{ value: 'c3', partition: 0 }] })
    await again.commit()
    await producer.disconnect()
    assert.deepEqual(await readValues('txn-basic', false), ['c1', 'c2', 'c3'])
    assert.deepEqual(await readValues('txn-basic', true), ['a1', 'a2', 'c1', 'c2', 'c3'])
  })

  it('keeps an open transaction out of read_committed reads until it commits', async () => {
    await createTopic('txn-open', 1)
    const producer = await transactionalProducer('open')
    const txn = await producer.transaction()
    await txn.send({ topic: 'txn-open', messages: [{ value: 'pending' }] })
    assert.deepEqual(await readValues('txn-open', false, 800), [])
    assert.deepEqual(await readValues('txn-open', true, 800), ['pending'])
    await txn.commit()
    await producer.disconnect()
    assert.deepEqual(await readValues('txn-open', false), ['pending'])
  })

  it('fences a zombie: the new instance aborts what the old one left open', async () => {
    await createTopic('txn-zombie', 1)
    const zombie = await transactionalProducer('zombie')
    const open = await zombie.transaction()
    await open.send({ topic: 'txn-zombie', messages: [{ value: 'from-zombie' }] })
    const successor = await transactionalProducer('zombie')
    // kafkajs sends the transactional InitProducerId when the first transaction begins.
    const txn = await successor.transaction()
    await assert.rejects(async () => {
      await open.send({ topic: 'txn-zombie', messages: [{ value: 'late' }] })
      await open.commit()
    }, (error: Error & { type?: string }) => /FENCED|EPOCH|PRODUCER/.test(
      `${error.type ?? ''} ${error.name} ${error.message}`))
    await txn.send({ topic: 'txn-zombie', messages: [{ value: 'from-successor' }] })
    await txn.commit()
    await successor.disconnect()
    await zombie.disconnect().catch(() => undefined)
    assert.deepEqual(await readValues('txn-zombie', false), ['from-successor'])
  })

  it('consume-transform-produce commits the group offsets with the output', async () => {
    await createTopic('ctp-in', 2)
    await createTopic('ctp-out', 2)
    const plain = kafka().producer()
    await plain.connect()
    await plain.send({ topic: 'ctp-in', messages: Array.from({ length: 20 }, (_, i) =>
      ({ value: `v${i}`, partition: i % 2 })) })
    await plain.disconnect()
    const producer = await transactionalProducer('ctp')
    const consumer = kafka().consumer({ groupId: 'ctp-job', maxWaitTimeInMs: 100 })
    await consumer.connect()
    await consumer.subscribe({ topic: 'ctp-in', fromBeginning: true })
    let done = 0
    await consumer.run({ autoCommit: false, eachBatch: async ({ batch }) => {
      const txn = await producer.transaction()
      await txn.send({ topic: 'ctp-out', messages: batch.messages.map(m =>
        ({ value: `out-${m.value?.toString() ?? ''}` })) })
      await txn.sendOffsets({ consumerGroupId: 'ctp-job', topics: [{ topic: batch.topic,
        partitions: [{ partition: batch.partition,
          offset: String(Number(batch.lastOffset()) + 1) }] }] })
      await txn.commit()
      done += batch.messages.length
    } })
    const deadline = Date.now() + 30_000
    while (done < 20 && Date.now() < deadline) await new Promise(r => setTimeout(r, 100))
    await consumer.disconnect()
    await producer.disconnect()
    assert.equal(done, 20)
    const admin = kafka().admin()
    await admin.connect()
    const offsets = await admin.fetchOffsets({ groupId: 'ctp-job', topics: ['ctp-in'] })
    await admin.disconnect()
    assert.deepEqual(offsets[0]?.partitions.map(p => [p.partition, p.offset])
      .sort((a, b) => Number(a[0]) - Number(b[0])), [[0, '10'], [1, '10']])
    const out = await readValues('ctp-out', false)
    assert.deepEqual(out, Array.from({ length: 20 }, (_, i) => `out-v${i}`).sort())
  })

  it('refuses a transactional produce to a partition not in the transaction (KIP-890); ' +
    'ListOffsets read_committed answers the LSO',
    async () => {
      await createTopic('txn-hanging', 2)
      const connection = await KafkaConnection.connect('127.0.0.1', broker.kafkaPort)
      try {
        const found = await connection.send(FindCoordinator, { key: 'hanging', keyType: 1,
          coordinatorKeys: [] }, { version: 1 })
        assert.equal(found.errorCode, ERROR.NONE)
        const init = await connection.send(InitProducerId, { transactionalId: 'hanging',
          transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 }, { version: 1 })
        assert.equal(init.errorCode, ERROR.NONE)
        const produce = async (partition: number) => {
          const records = buildRecordBatchSync([{ value: 'x' }], { producerId: init.producerId,
            producerEpoch: init.producerEpoch, baseSequence: 0, transactional: true })
          const response = await connection.send(Produce, { transactionalId: 'hanging', acks: -1,
            timeoutMs: 5000, topicData: [{ name: 'txn-hanging', partitionData: [{ index: partition,
              records }] }] }, { version: 7 })
          return response.responses[0]?.partitionResponses[0]?.errorCode
        }
        assert.equal(await produce(0), ERROR.INVALID_TXN_STATE, 'before AddPartitionsToTxn')
        const anonymous = await connection.send(Produce, { transactionalId: null, acks: -1,
          timeoutMs: 5000, topicData: [{ name: 'txn-hanging', partitionData: [{ index: 1,
            records: buildRecordBatchSync([{ value: 'y' }], { producerId: init.producerId,
              producerEpoch: init.producerEpoch, baseSequence: 0, transactional: true }) }] }] },
        { version: 7 })
        assert.equal(anonymous.responses[0]?.partitionResponses[0]?.errorCode,
          ERROR.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 'transactional records need the id')
        const added = await connection.send(AddPartitionsToTxn, {
          v3AndBelowTransactionalId: 'hanging', v3AndBelowProducerId: init.producerId,
          v3AndBelowProducerEpoch: init.producerEpoch,
          v3AndBelowTopics: [{ name: 'txn-hanging', partitions: [0] }] }, { version: 1 })
        assert.equal(added.resultsByTopicV3AndBelow[0]?.resultsByPartition[0]?.partitionErrorCode,
          ERROR.NONE)
        assert.equal(await produce(1), ERROR.INVALID_TXN_STATE, 'a partition not added')
        assert.equal(await produce(0), ERROR.NONE, 'the added partition')
        // v4+ (KIP-890's broker-to-broker form): verify_only answers NONE for a partition in
        // the ongoing transaction and an error for one that is not, adding nothing.
        const verified = await connection.send(AddPartitionsToTxn, {
          transactions: [{ transactionalId: 'hanging', producerId: init.producerId,
            producerEpoch: init.producerEpoch, verifyOnly: true,
            topics: [{ name: 'txn-hanging', partitions: [0, 1] }] }],
          v3AndBelowTransactionalId: '', v3AndBelowProducerId: 0, v3AndBelowProducerEpoch: 0,
          v3AndBelowTopics: [] }, { version: 4 })
        assert.equal(verified.errorCode, ERROR.NONE)
        assert.deepEqual(verified.resultsByTransaction?.[0]?.topicResults[0]?.resultsByPartition
          .map(p => p.partitionErrorCode), [ERROR.NONE, ERROR.INVALID_TXN_STATE])
        assert.equal(await produce(1), ERROR.INVALID_TXN_STATE, 'verify_only added nothing')
        // ListOffsets latest: the high watermark, or under read_committed the LSO, which the
        // open transaction holds at its first offset.
        const latest = async (isolationLevel: number) => {
          const listed = await connection.send(ListOffsets, { replicaId: -1, isolationLevel,
            topics: [{ name: 'txn-hanging', partitions: [{ partitionIndex: 0,
              currentLeaderEpoch: -1, timestamp: -1 }] }] }, { version: 2 })
          return listed.topics[0]?.partitions[0]?.offset
        }
        assert.equal(await latest(0), 1)
        assert.equal(await latest(1), 0)
      } finally {
        connection.close()
      }
      assert.deepEqual(await readValues('txn-hanging', true, 800), ['x'])
    })

  it('aborts a transaction past transaction.timeout.ms and fences its producer', async () => {
    await createTopic('txn-timeout', 1)
    const producer = await transactionalProducer('timeout', 1_000)
    const txn = await producer.transaction()
    await txn.send({ topic: 'txn-timeout', messages: [{ value: 'too-slow' }] })
    await new Promise(resolve => setTimeout(resolve, 2_500))
    await assert.rejects(txn.commit())
    await producer.disconnect().catch(() => undefined)
    assert.deepEqual(await readValues('txn-timeout', false, 800), [])
    assert.deepEqual(await readValues('txn-timeout', true, 800), ['too-slow'])
  })

  it('exactly once: a job SIGKILLed mid-transaction and restarted outputs every input once',
    async () => {
      await createTopic('eos-in', 2)
      await createTopic('eos-out', 2)
      const plain = kafka().producer()
      await plain.connect()
      await plain.send({ topic: 'eos-in', messages: Array.from({ length: 30 }, (_, i) =>
        ({ value: `v${i}`, partition: i % 2 })) })
      await plain.disconnect()
      const first = startJob('eos', 10)
      try {
        await withTimeout(first.open, 30_000, 'the first job to open its 11th transaction')
      } finally {
        await stopJob(first.child, 'SIGKILL')
      }
      const second = startJob('eos', -1)
      const expected = Array.from({ length: 30 }, (_, i) => `out-v${i}`).sort()
      try {
        const deadline = Date.now() + 60_000
        let out: string[] = []
        while (Date.now() < deadline) {
          out = await readValues('eos-out', false, 700)
          if (out.length >= expected.length) break
        }
        assert.deepEqual(out, expected, 'read_committed: every input exactly once')
      } finally {
        await stopJob(second.child, 'SIGTERM')
      }
      const uncommitted = await readValues('eos-out', true, 700)
      assert.ok(uncommitted.length > expected.length, 'the killed transaction\'s output is ' +
        `in the log (${uncommitted.length} records), aborted`)
    })

  it('exactly once: the broker (coordinator and leader) SIGKILLed while the job runs',
    async () => {
      await createTopic('eos2-in', 2)
      await createTopic('eos2-out', 2)
      const plain = kafka().producer()
      await plain.connect()
      await plain.send({ topic: 'eos2-in', messages: Array.from({ length: 40 }, (_, i) =>
        ({ value: `v${i}`, partition: i % 2 })) })
      await plain.disconnect()
      const job = superviseJob('eos2')
      const expected = Array.from({ length: 40 }, (_, i) => `out-v${i}`).sort()
      try {
        const started = Date.now()
        while (job.committed() < 8 && Date.now() - started < 30_000) {
          await new Promise(resolve => setTimeout(resolve, 20))
        }
        const atKill = job.committed()
        assert.ok(atKill >= 8 && atKill < 40, `killed mid-run, after ${atKill} transactions`)
        const { dataDir, kafkaPort } = broker
        const killedAt = Date.now()
        await broker.kill()
        broker = await startBroker({ env: ENV, dataDir, kafkaPort })
        const restartedAt = Date.now()
        const deadline = Date.now() + 90_000
        let out: string[] = []
        while (Date.now() < deadline) {
          out = await readValues('eos2-out', false, 700)
          if (out.length >= expected.length) break
        }
        if (out.join() !== expected.join()) {
          // Enough to tell a duplicate in the log from a reader's, and which input ran twice.
          const uncommitted = await readValues('eos2-out', true, 700)
          assert.fail(`read_committed holds every input exactly once (${job.restarts()} job ` +
            `restarts): ${JSON.stringify(out)}\nread_uncommitted: ${JSON.stringify(uncommitted)}` +
            `\nkilled at ${killedAt}, restarted at ${restartedAt}; the job's output:\n` +
            `${job.log()}\nthe restarted broker's output:\n${broker.output()}`)
        }
      } finally {
        await job.stop()
      }
    })

  it('aborts a transaction left open by a broker killed mid-transaction', async () => {
    await createTopic('txn-crash', 1)
    const producer = await transactionalProducer('crash', 3_000)
    const committed = await producer.transaction()
    await committed.send({ topic: 'txn-crash', messages: [{ value: 'before' }] })
    await committed.commit()
    const open = await producer.transaction()
    await open.send({ topic: 'txn-crash', messages: [{ value: 'in-flight' }] })
    await producer.disconnect().catch(() => undefined)
    const { dataDir, kafkaPort } = broker
    await broker.kill()
    broker = await startBroker({ env: ENV, dataDir, kafkaPort })
    // The reloaded coordinator aborts the open transaction at its timeout (3 s).
    const deadline = Date.now() + 20_000
    let values: string[] = []
    while (Date.now() < deadline) {
      values = await readValues('txn-crash', false, 500)
      if (values.length > 0) break
    }
    assert.deepEqual(values, ['before'])
    assert.deepEqual(await readValues('txn-crash', true), ['before', 'in-flight'])
    const successor = await transactionalProducer('crash')
    const txn = await successor.transaction()
    await txn.send({ topic: 'txn-crash', messages: [{ value: 'after' }] })
    await txn.commit()
    await successor.disconnect()
    assert.deepEqual(await readValues('txn-crash', false), ['after', 'before'])
  })
})
