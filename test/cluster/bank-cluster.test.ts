/**
 * The bank check (Jepsen's bank workload, issue #17) on a cluster of three real brokers on
 * etcd, while brokers are SIGKILLed in turn and restarted. The workload and its read_committed
 * reader are test/support/bank-workload.ts: transfers between accounts on different partitions
 * as kafkajs transactions (a fifth deliberately aborted), a continuous reader checking after
 * every fetch that no aborted transfer is visible and that the total (half-visible committed
 * transfers set aside) is constant.
 *
 * The bank topic has replication factor 3 and min.insync.replicas=2; `__transaction_state` and
 * `__consumer_offsets` replicate with factor 3 (their defaults, capped at the live brokers).
 * The kills alternate between the leader of a random account partition and the broker hosting
 * the transaction coordinator of a random producer's transactional.id (FindCoordinator, key
 * type 1); one broker is down at a time, so acks=all keeps working with two in-sync replicas.
 *
 * At the end: no half transfer remains, the total is exact, every transfer whose commit() was
 * acknowledged is visible exactly once. The seed is printed; BANK_SEED=<n> replays the
 * transfers and the choice of victims (the interleaving with the kills still varies).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { KafkaClient } from '../../src/client/client.js'
import {
  BankReader, deposit, transfers, type BankConfig,
} from '../support/bank-workload.js'
import {
  agreedView, eventually, metadataFrom, startCluster, type TestCluster,
} from '../support/cluster-process.js'
import {
  liveBootstrap, partitionLeaders, transactionCoordinatorOf,
} from '../support/cluster-roles.js'
import type { BrokerProcess } from '../support/broker-process.js'
import { describeRawLog } from '../support/read-committed.js'
import { etcdAvailable } from '../support/etcd-process.js'
import { seededRandom } from '../support/seeded-random.js'

const skip = etcdAvailable() ? false : 'etcd is not on PATH (Debian package etcd-server)'
const ENV = {
  TRIBUTARY_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
  TRIBUTARY_TRANSACTION_STATE_LOG_NUM_PARTITIONS: '3',
}
const TOPIC = 'bank'
const ACCOUNTS = 8
const PARTITIONS = 4
const INITIAL = 100
const PRODUCERS = 3
/** The kills are spread over this span from the start (each waits for the previous one). */
const RUN_MS = 24_000
const KILLS = 3
const DOWN_MS = 4_000
/** Transfers go on this long after the last broker is back. */
const TAIL_MS = 3_000
const QUIET_MS = 2_000
const SETTLE_TIMEOUT_MS = 60_000

const sleep = async (ms: number): Promise<void> => {
  await new Promise(resolve => setTimeout(resolve, ms))
}

describe('bank check on three brokers: transfers as transactions, brokers SIGKILLed in turn',
  { skip }, () => {
    let cluster: TestCluster
    const config: BankConfig = { topic: TOPIC, accounts: ACCOUNTS, partitions: PARTITIONS,
      initial: INITIAL, abortRate: 0.2, bootstrap: () => liveBootstrap(cluster) }

    before(async () => {
      cluster = await startCluster(3, 3_000, ENV)
      await eventually('three live brokers', () => agreedView(cluster, [1, 2, 3]))
      await cluster.clientOf(1).createTopic(TOPIC, { partitions: PARTITIONS,
        replicationFactor: 3, configs: { 'min.insync.replicas': '2' } })
      await eventually('bank leaders', async () => {
        const leaders = await partitionLeaders(cluster, TOPIC)
        return leaders.length === PARTITIONS && leaders.every(id => id > 0) ? true : undefined
      })
    })
    after(async () => {
      await cluster?.stop()
    })

    /** The broker to kill: a random account partition's leader, or a coordinator's broker. */
    async function victim (kind: 'leader' | 'coordinator', random: () => number):
    Promise<{ nodeId: number, why: string }> {
      if (kind === 'leader') {
        const partition = Math.floor(random() * PARTITIONS)
        const nodeId = await eventually(`leader of ${TOPIC}-${partition}`, async () => {
          const leader = (await partitionLeaders(cluster, TOPIC))[partition]
          return leader !== undefined && leader > 0 ? leader : undefined
        })
        return { nodeId, why: `leader of ${TOPIC}-${partition}` }
      }
      const transactionalId = `bank-${Math.floor(random() * PRODUCERS)}`
      const nodeId = await eventually(`coordinator of ${transactionalId}`,
        async () => await transactionCoordinatorOf(cluster, transactionalId))
      return { nodeId, why: `transaction coordinator of ${transactionalId}` }
    }

    /** The raw log around each transfer that did not end fully visible, for the report. */
    async function explain (ids: string[], placements: Map<string, string>): Promise<void> {
      const client = new KafkaClient({ bootstrap: liveBootstrap(cluster), clientId: 'explain' })
      try {
        for (const id of new Set(ids.slice(0, 3))) {
          console.log(`transfer ${id} acknowledged at ${placements.get(id) ?? '?'}`)
          for (let partition = 0; partition < PARTITIONS; partition++) {
            const lines = await describeRawLog(client, TOPIC, partition,
              value => value.includes(`"${id}"`))
            console.log(`transfer ${id}: ${lines.join('\n')}`)
          }
        }
      } finally {
        await client.close()
      }
    }

    it('a read_committed reader always sees the same total and no aborted transfer',
      async () => {
        const seed = Number(process.env.BANK_SEED ?? Math.floor(Math.random() * 2 ** 31))
        console.log(`bank cluster seed ${seed} (replay with BANK_SEED=${seed})`)
        const random = seededRandom(seed)
        await deposit(config)
        const reader = new BankReader(config)
        reader.start()
        const committed = new Set<string>()
        const placements = new Map<string, string>()
        const started = Date.now()
        // Until the last killed broker is back, and TAIL_MS more (set below).
        const until = { at: Number.MAX_SAFE_INTEGER }
        const producerRandoms = Array.from({ length: PRODUCERS },
          () => seededRandom(Math.floor(random() * 2 ** 31)))
        const running = producerRandoms.map(async (producerRandom, index) =>
          await transfers(config, index, producerRandom, until, committed,
            placements))

        const killed: string[] = []
        const retired: [number, BrokerProcess][] = []
        try {
          for (let k = 0; k < KILLS; k++) {
            const at = (k + 0.3 + random() * 0.4) * RUN_MS / (KILLS + 1)
            await sleep(Math.max(0, started + at - Date.now()))
            const { nodeId, why } = await victim(k % 2 === 0 ? 'leader' : 'coordinator', random)
            const broker = cluster.brokers.get(nodeId)
            await broker?.kill()
            if (broker !== undefined) retired.push([nodeId, broker])
            killed.push(`broker ${nodeId} (${why})`)
            console.log(`bank cluster: SIGKILLed broker ${nodeId}, the ${why}, at ${Date.now()}`)
            await sleep(DOWN_MS)
            await cluster.startNode(nodeId)
            await eventually('three live brokers again', () => agreedView(cluster, [1, 2, 3]),
              30_000)
            console.log(`bank cluster: broker ${nodeId} back at ${Date.now()}`)
          }
        } finally {
          // The producers stop TAIL_MS after the last broker is back (or at once on a failure).
          until.at = Date.now() + TAIL_MS
        }
        const counts = await Promise.all(running)
        await reader.settle(committed, QUIET_MS, SETTLE_TIMEOUT_MS)
        await reader.stop()

        const state = await metadataFrom(cluster, 1, ['__transaction_state'])
        const stateReplicas = state.topics.flatMap(topic =>
          topic.partitions.map(partition => partition.replicaNodes.length))
        const commits = counts.reduce((sum, count) => sum + count.commits, 0)
        const aborts = counts.reduce((sum, count) => sum + count.aborts, 0)
        const checks: [string, boolean][] = [
          ['no violation (aborted visible, third record, total off) at any read',
            reader.violations.length === 0],
          ['no transfer left half visible', reader.halfOpen().length === 0],
          ['every acknowledged commit visible', reader.missing(committed).length === 0],
          ['the final total', reader.total() === ACCOUNTS * INITIAL],
          ['enough work to check', commits >= 20 && aborts >= 3],
          ['__transaction_state replicates with factor 3',
            stateReplicas.length > 0 && stateReplicas.every(count => count === 3)],
        ]
        const failed = checks.filter(([, ok]) => !ok)
        if (failed.length > 0) {
          await explain([...reader.halfOpen(), ...reader.missing(committed)], placements)
          for (const [nodeId, broker] of [...retired, ...cluster.brokers]) {
            const lines = broker.output().split('\n').filter(line =>
              /truncat|diverg|bank-\d/.test(line)).slice(0, 30)
            console.log(`broker ${nodeId} (${broker.kafkaPort}):\n${lines.join('\n')}`)
          }
        }
        console.log(`bank cluster: ${checks.length - failed.length} passed, ${failed.length} ` +
          `failed; ${JSON.stringify({ seed, killed, checks: reader.checks,
            records: reader.seen.size, halfSeen: reader.halfSeen, commits, aborts,
            failures: counts.map(count => count.failures.length) })}`)
        assert.deepEqual(reader.violations, [], `seed ${seed}`)
        assert.deepEqual(reader.halfOpen(), [], `seed ${seed}: transfers still half visible`)
        assert.deepEqual(reader.missing(committed), [],
          `seed ${seed}: acknowledged commits not visible`)
        assert.equal(reader.total(), ACCOUNTS * INITIAL, `seed ${seed}: the final total`)
        assert.ok(commits >= 20 && aborts >= 3,
          `seed ${seed}: too little work to check (${commits} commits, ${aborts} aborts)`)
      })
  })
