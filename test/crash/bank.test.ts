/**
 * The bank check (Jepsen's bank workload, issue #17) on one broker that is SIGKILLed and
 * restarted on the same data directory and port several times during the run. The workload
 * and its read_committed reader are test/support/bank-workload.ts.
 *
 * At the end (producers stopped, the reader quiet): no half transfer remains, the raw total is
 * exact, and every transfer whose commit() was acknowledged is visible (durable across the
 * kills). The seed is printed; BANK_SEED=<n> replays the same transfers and kill times (the
 * interleaving with the kills still varies with timing).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Producer } from 'kafkajs'
import { KafkaClient } from '../../src/client/client.js'
import {
  removeDataDir, startBroker, type BrokerProcess,
} from '../support/broker-process.js'
import {
  BankReader, bankKafka, deposit, transfers, type BankConfig,
} from '../support/bank-workload.js'
import { seededRandom } from '../support/seeded-random.js'

const ENV = {
  TRIBUTARY_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
  TRIBUTARY_OFFSETS_TOPIC_NUM_PARTITIONS: '2',
  TRIBUTARY_TRANSACTION_STATE_LOG_NUM_PARTITIONS: '2',
}
const TOPIC = 'bank'
const ACCOUNTS = 8
const PARTITIONS = 4
const INITIAL = 100
const TOTAL = ACCOUNTS * INITIAL
const PRODUCERS = 3
const RUN_MS = 18_000
const KILLS = 3
const ABORT_RATE = 0.2
const QUIET_MS = 2_000
const SETTLE_TIMEOUT_MS = 45_000

let broker: BrokerProcess

const sleep = async (ms: number): Promise<void> => {
  await new Promise(resolve => setTimeout(resolve, ms))
}

const CONFIG: BankConfig = { topic: TOPIC, accounts: ACCOUNTS, partitions: PARTITIONS,
  initial: INITIAL, abortRate: ABORT_RATE, bootstrap: () => [broker.bootstrap] }

describe('bank check: transfers as transactions across partitions, broker SIGKILLed', () => {
  before(async () => {
    broker = await startBroker({ env: ENV })
    const admin = bankKafka(CONFIG, 'bank-admin').admin()
    await admin.connect()
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }] })
    await admin.disconnect()
  })
  after(async () => {
    await broker?.kill()
    if (broker !== undefined && process.env.BANK_KEEP === undefined) {
      await removeDataDir(broker.dataDir)
    }
  })

  it('a read_committed Fetch starting inside two overlapping aborted transactions lists both',
    async () => {
      // The pattern kafkajs's consumer mishandles (see fetchCommitted in
      // test/support/read-committed.ts): A's record at 0, B's at 1,
      // A's ABORT marker at 2, B's at 3; a fetch from offset 1 must name both transactions.
      const admin = bankKafka(CONFIG, 'bank-admin').admin()
      await admin.connect()
      await admin.createTopics({ topics: [{ topic: 'bank-overlap', numPartitions: 1 }] })
      await admin.disconnect()
      const producers = await Promise.all(['overlap-a', 'overlap-b'].map(async id => {
        const producer = bankKafka(CONFIG, id).producer({ transactionalId: id, idempotent: true,
          maxInFlightRequests: 1 })
        await producer.connect()
        return producer
      }))
      const [a, b] = producers as [Producer, Producer]
      const txnA = await a.transaction()
      await txnA.send({ topic: 'bank-overlap', messages: [{ value: 'a' }] })
      const txnB = await b.transaction()
      await txnB.send({ topic: 'bank-overlap', messages: [{ value: 'b' }] })
      await txnA.abort()
      await txnB.abort()
      await Promise.all(producers.map(async producer => { await producer.disconnect() }))
      const client = new KafkaClient({ bootstrap: broker.bootstrap, clientId: 'bank-overlap' })
      try {
        const fetched = await client.fetch('bank-overlap', 0, 1, { isolationLevel: 1 })
        assert.deepEqual((fetched.abortedTransactions ?? []).map(txn => txn.firstOffset).sort(),
          [0, 1])
        assert.equal(fetched.lastStableOffset, 4)
      } finally {
        await client.close()
      }
    })

  it('a read_committed reader always sees the same total and no aborted transfer', async () => {
    const seed = Number(process.env.BANK_SEED ?? Math.floor(Math.random() * 2 ** 31))
    console.log(`bank check seed ${seed} (replay with BANK_SEED=${seed})`)
    const random = seededRandom(seed)

    await deposit(CONFIG)
    const reader = new BankReader(CONFIG)
    reader.start()
    const committed = new Set<string>()
    const started = Date.now()
    const until = started + RUN_MS
    const killTimes = Array.from({ length: KILLS },
      (_, k) => (k + 0.3 + random() * 0.5) * RUN_MS / (KILLS + 1)).sort((a, b) => a - b)
    const producerRandoms = Array.from({ length: PRODUCERS },
      () => seededRandom(Math.floor(random() * 2 ** 31)))
    const running = producerRandoms.map(async (producerRandom, index) =>
      await transfers(CONFIG, index, producerRandom, { at: until }, committed))

    let kills = 0
    for (const at of killTimes) {
      await sleep(Math.max(0, started + at - Date.now()))
      const { dataDir, kafkaPort } = broker
      await broker.kill()
      broker = await startBroker({ env: ENV, dataDir, kafkaPort })
      kills++
      console.log(`bank check: killed and restarted at ${Date.now()}`)
    }
    const counts = await Promise.all(running)

    // Settle: every acknowledged commit visible, no half transfer left, the reader quiet.
    await reader.settle(committed, QUIET_MS, SETTLE_TIMEOUT_MS)
    await reader.stop()

    console.log(`bank check: settled ${Date.now() - until} ms after the run, data ${broker.dataDir}`)
    const total = reader.total()
    const summary = { seed, kills, checks: reader.checks, records: reader.seen.size,
      halfSeen: reader.halfSeen, counts }
    console.log(`bank check: ${JSON.stringify(summary)}`)
    assert.deepEqual(reader.violations, [], `seed ${seed}`)
    assert.deepEqual(reader.halfOpen(), [], `seed ${seed}: transfers still half visible`)
    assert.deepEqual(reader.missing(committed), [],
      `seed ${seed}: acknowledged commits not visible`)
    assert.equal(total, TOTAL, `seed ${seed}: the final total`)
    assert.equal(kills, KILLS)
    const commits = counts.reduce((sum, count) => sum + count.commits, 0)
    const aborts = counts.reduce((sum, count) => sum + count.aborts, 0)
    assert.ok(commits >= 20 && aborts >= 3,
      `seed ${seed}: too little work to check (${commits} commits, ${aborts} aborts)`)
  })
})
