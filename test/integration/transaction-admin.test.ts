/**
 * The transaction admin APIs and `tributary txn` against a real broker, with a kafkajs
 * transactional producer holding a transaction open: ListTransactions and DescribeTransactions
 * show it (Kafka's state names, its partition, producer id and timeout); DescribeProducers
 * gives its first offset, and find-hanging does not call it hanging while its coordinator
 * runs it; `txn abort --start-offset` writes an ABORT marker with
 * WriteTxnMarkers, after which the last stable offset moves past it, so read_committed readers
 * are no longer held back.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { after, before, it } from 'node:test'
import kafkajs from 'kafkajs'
import { KafkaClient } from '../../src/client/client.js'
import { KafkaConnection } from '../../src/client/connection.js'
import { DescribeTransactions } from '../../src/protocol/apis/describe-transactions.js'
import { ListTransactions } from '../../src/protocol/apis/list-transactions.js'
import { WriteTxnMarkers } from '../../src/protocol/apis/write-txn-markers.js'
import { ERROR } from '../../src/protocol/errors.js'
import {
  BIN, REPO_ROOT, removeDataDir, startBroker, type BrokerProcess,
} from '../support/broker-process.js'

const { Kafka, logLevel } = kafkajs
const READ_COMMITTED = 1
let broker: BrokerProcess

function cli (args: string[]): { status: number | null, stdout: string, stderr: string } {
  const result = spawnSync(process.execPath, [BIN, '--bootstrap', broker.bootstrap, ...args],
    { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

function cliJson (args: string[]): any {
  const result = cli(['--format', 'json', ...args])
  assert.equal(result.status, 0, result.stderr)
  return JSON.parse(result.stdout)
}

before(async () => {
  broker = await startBroker({ env: { TRIBUTARY_OFFSETS_TOPIC_NUM_PARTITIONS: '3',
    TRIBUTARY_TRANSACTION_STATE_LOG_NUM_PARTITIONS: '3' } })
})
after(async () => {
  await broker.stop()
  await removeDataDir(broker.dataDir)
})

it('lists, describes and aborts a hanging transaction; the LSO then advances', async () => {
  const kafka = new Kafka({ clientId: 'txadmin', brokers: [broker.bootstrap],
    logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 } })
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic: 'hang', numPartitions: 1 }] })
  await admin.disconnect()
  const producer = kafka.producer({ transactionalId: 'tx-admin', idempotent: true,
    maxInFlightRequests: 1, transactionTimeout: 60_000 })
  await producer.connect()
  const client = new KafkaClient({ bootstrap: broker.bootstrap, requestTimeoutMs: 15_000 })
  try {
    const transaction = await producer.transaction()
    await transaction.send({ topic: 'hang', messages: [{ value: 'a' }, { value: 'b' }] })

    const listed = cliJson(['txn', 'list'])
    const entry = listed.find((t: any) => t.transactionalId === 'tx-admin')
    assert.equal(entry?.transactionState, 'Ongoing')
    assert.deepEqual(cliJson(['txn', 'list', '--state', 'CompleteCommit'])
      .filter((t: any) => t.transactionalId === 'tx-admin'), [])
    assert.equal(cliJson(['txn', 'list', '--producer-id', String(entry.producerId)]).length, 1)
    assert.equal(cliJson(['txn', 'list', '--transactional-id-pattern', 'tx-.*']).length, 1)
    assert.equal(cliJson(['txn', 'list', '--transactional-id-pattern', 'tx']).length, 0)
    const text = cli(['txn', 'list'])
    assert.match(text.stdout, /TRANSACTIONAL-ID\s+PRODUCER-ID\s+TRANSACTION-STATE/)
    assert.match(cli(['txn', 'list', '--state', 'Bogus']).stderr, /unknown transaction states: Bogus/)

    const described = cliJson(['txn', 'describe', 'tx-admin'])
    assert.equal(described.transactionState, 'Ongoing')
    assert.equal(described.producerId, entry.producerId)
    assert.equal(described.transactionTimeoutMs, 60_000)
    assert.deepEqual(described.topics, [{ topic: 'hang', partitions: [0] }])
    assert.ok(described.transactionStartTimeMs > 0)
    const unknown = cli(['txn', 'describe', 'no-such-id'])
    assert.notEqual(unknown.status, 0)
    assert.match(unknown.stderr, /^tributary: .*TRANSACTIONAL_ID_NOT_FOUND/)

    // The open transaction holds the last stable offset at its first offset (0).
    assert.equal((await client.listOffsets('hang', 0, -1, READ_COMMITTED)).offset, 0)
    assert.equal((await client.listOffsets('hang', 0, -1)).offset, 2)
    // Open for longer than 0 minutes, but its coordinator still runs it on hang-0 (Ongoing,
    // partition added, same producer epoch): not hanging, as kafka-transactions.sh decides.
    const producers = await client.describeProducers('hang', 0)
    assert.deepEqual(producers.map(p => [p.producerId, p.currentTxnStartOffset]),
      [[entry.producerId, 0]])
    assert.deepEqual(cliJson(['txn', 'find-hanging', '--topic', 'hang', '--partition', '0',
      '--max-transaction-timeout', '0']), [])
    assert.match(cli(['txn', 'find-hanging', '--topic', 'hang', '--partition', '0']).stdout,
      /^No hanging transactions on hang-0\.$/m)

    const wrong = cli(['txn', 'abort', '--topic', 'hang', '--partition', '0',
      '--start-offset', '7'])
    assert.equal(wrong.status, 1)
    assert.match(wrong.stderr, /^tributary: no open transaction starts at offset 7 of hang-0$/m)
    const aborted = cliJson(['txn', 'abort', '--topic', 'hang', '--partition', '0',
      '--start-offset', '0'])
    assert.equal(aborted.producerId, entry.producerId)

    // The ABORT marker sits at offset 2: the LSO is the high watermark again (3).
    assert.equal((await client.listOffsets('hang', 0, -1)).offset, 3)
    assert.equal((await client.listOffsets('hang', 0, -1, READ_COMMITTED)).offset, 3)
    assert.deepEqual(cliJson(['txn', 'find-hanging', '--topic', 'hang', '--partition', '0',
      '--max-transaction-timeout', '0']), [])
  } finally {
    await client.close()
    await producer.disconnect()
  }
})

it('refuses an abort naming neither a start offset nor a producer', () => {
  const result = cli(['txn', 'abort', '--topic', 'hang', '--partition', '0'])
  assert.equal(result.status, 2)
  assert.match(result.stderr, /give either --start-offset or --producer-id/)
})

it('answers bad admin requests with Kafka error codes on the wire', async () => {
  const connection = await KafkaConnection.connect('127.0.0.1', broker.kafkaPort)
  try {
    const list = (pattern: string | null, durationFilter = -1) => connection.send(
      ListTransactions, { stateFilters: [], producerIdFilters: [], durationFilter,
        transactionalIdPattern: pattern }, { version: 2 })
    // KIP-1152: a pattern that does not compile.
    assert.equal((await list('(')).errorCode, ERROR.INVALID_REGULAR_EXPRESSION)
    assert.equal((await list(null)).errorCode, ERROR.NONE)
    // KIP-994: nothing has run for a day.
    assert.deepEqual((await list(null, 86_400_000)).transactionStates, [])
    const described = await connection.send(DescribeTransactions, { transactionalIds: [''] },
      { version: 0 })
    assert.equal(described.transactionStates[0]?.errorCode, ERROR.INVALID_REQUEST)

    const marker = async (topic: string, commit: boolean) => {
      const response = await connection.send(WriteTxnMarkers, { markers: [{ producerId: 1,
        producerEpoch: 0, transactionResult: commit, coordinatorEpoch: 0,
        topics: [{ name: topic, partitionIndexes: [0] }] }] }, { version: 1 })
      return response.markers[0]?.topics[0]?.partitions[0]?.errorCode
    }
    assert.equal(await marker('no-such-topic', false), ERROR.UNKNOWN_TOPIC_OR_PARTITION)
    assert.equal(await marker('bad/name', false), ERROR.INVALID_TOPIC_EXCEPTION)
    assert.equal(await marker('__transaction_state', false), ERROR.TOPIC_AUTHORIZATION_FAILED)
    // The group coordinator completes the producer's pending offsets there (none here).
    assert.equal(await marker('__consumer_offsets', true), ERROR.NONE)
    assert.equal(await marker('__consumer_offsets', false), ERROR.NONE)
  } finally {
    await connection.close()
  }
})

it('shows a committed transaction as CompleteCommit, with no partitions', async () => {
  const kafka = new Kafka({ clientId: 'txadmin', brokers: [broker.bootstrap],
    logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 } })
  const producer = kafka.producer({ transactionalId: 'tx-done', idempotent: true,
    maxInFlightRequests: 1 })
  await producer.connect()
  try {
    const transaction = await producer.transaction()
    await transaction.send({ topic: 'hang', messages: [{ value: 'c' }] })
    await transaction.commit()
  } finally {
    await producer.disconnect()
  }
  // EndTxn answers once PrepareCommit is durable; CompleteCommit follows the markers.
  let completed: any[] = []
  for (const deadline = Date.now() + 15_000; completed.length === 0 && Date.now() < deadline;) {
    completed = cliJson(['txn', 'list', '--state', 'CompleteCommit'])
  }
  assert.deepEqual(completed.map((t: any) => t.transactionalId), ['tx-done'])
  const described = cliJson(['txn', 'describe', 'tx-done'])
  assert.equal(described.transactionState, 'CompleteCommit')
  assert.deepEqual(described.topics, [])
})
