/**
 * The exactly-once pipeline of issue #17 on a cluster of three real brokers on etcd: a
 * consume-transform-produce job (Apache Kafka's Java client, test/interop/java EosJob: input
 * read with read_committed, each value transformed to the same partition of the output, the
 * input offsets committed inside each small transaction with sendOffsetsToTransaction) runs
 * over N numbered input records produced up front, while
 *   1. the job is SIGKILLed and a new instance with the same transactional.id started (its
 *      InitProducerId fences the zombie and aborts what it left open);
 *   2. the broker hosting the job's transaction coordinator (FindCoordinator, key type 1) is
 *      SIGKILLed, and restarted once the job has committed again;
 *   3. the leader of a (seeded) random output partition is SIGKILLed, and restarted once the
 *      job has committed again.
 * Input and output have replication factor 3 and min.insync.replicas=2; `__transaction_state`
 * and `__consumer_offsets` replicate with factor 3. Then the output, read with read_committed
 * (read-committed.ts, the Java consumer's abort filtering), holds every input exactly once, in
 * input order within each partition, and the group's committed offsets are the input's ends.
 *
 * Kills are placed by the job's progress (committed input positions), at seeded fractions of N;
 * the seed is printed and EOS_SEED=<n> replays the choices (timing still varies). The checks
 * are summarized as `N passed, M failed` before they are asserted.
 */
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { after, before, describe, it } from 'node:test'
import { KafkaClient } from '../../src/client/client.js'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import {
  agreedView, eventually, metadataFrom, startCluster, type TestCluster,
} from '../support/cluster-process.js'
import {
  liveBootstrap, partitionLeaders, transactionCoordinatorOf,
} from '../support/cluster-roles.js'
import { etcdAvailable } from '../support/etcd-process.js'
import { fetchCommitted } from '../support/read-committed.js'
import { seededRandom } from '../support/seeded-random.js'
import { buildJava, javaToolchainWorks } from '../interop/java-build.js'

const skip = !etcdAvailable() ? 'etcd is not on PATH (Debian package etcd-server)'
  : !javaToolchainWorks() ? 'Java 17 with Maven is not installed' : false
const ENV = {
  TRIBUTARY_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
  TRIBUTARY_TRANSACTION_STATE_LOG_NUM_PARTITIONS: '3',
}
const INPUT = 'eos-in'
const OUTPUT = 'eos-out'
const GROUP = 'eos-job'
const TRANSACTIONAL_ID = 'eos-job-id'
const PARTITIONS = 3
const RECORDS = 1200
const MAX_POLL = 10
const PAUSE_MS = 20
const JOB_DEADLINE_S = 150
const PROGRESS_TIMEOUT_MS = 60_000
const READ_TIMEOUT_MS = 30_000

/** One instance of the Java job: its committed progress as it reports it, and its exit. */
class JobProcess {
  readonly child: ChildProcess
  readonly exited: Promise<number | null>
  readonly events: string[] = []
  done = false
  commits = 0

  constructor (classpath: string, bootstrap: string[], readonly name: string,
    readonly onCommit: (position: number) => void) {
    this.child = spawn('java', ['-cp', classpath, 'tributary.interop.EosJob',
      bootstrap.join(','), INPUT, OUTPUT, GROUP, TRANSACTIONAL_ID, String(PARTITIONS),
      String(MAX_POLL), String(JOB_DEADLINE_S), String(PAUSE_MS)],
    { stdio: ['ignore', 'pipe', 'pipe'] })
    this.child.stderr?.resume()
    this.exited = new Promise(resolve => this.child.once('exit', code => { resolve(code) }))
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on('line', line => {
      let event: { event?: string, position?: number }
      try {
        event = JSON.parse(line) as typeof event
      } catch {
        return
      }
      if (event.event === 'commit' && typeof event.position === 'number') {
        this.commits++
        this.onCommit(event.position)
      } else if (event.event === 'done') {
        this.done = true
      } else if (this.events.length < 50) {
        this.events.push(line.slice(0, 300))
      }
    })
  }

  kill (): void {
    this.child.kill('SIGKILL')
  }
}

describe('exactly-once pipeline on three brokers: the job, the coordinator\'s broker and an ' +
  'output leader SIGKILLed', { skip }, () => {
  let cluster: TestCluster
  let classpath: string
  const jobs: JobProcess[] = []

  before(async () => {
    classpath = await buildJava()
    cluster = await startCluster(3, 3_000, ENV)
    await eventually('three live brokers', () => agreedView(cluster, [1, 2, 3]))
    const admin = cluster.clientOf(1)
    for (const topic of [INPUT, OUTPUT]) {
      await admin.createTopic(topic, { partitions: PARTITIONS, replicationFactor: 3,
        configs: { 'min.insync.replicas': '2' } })
    }
    await eventually('leaders of the input and output', async () => {
      const leaders = [...await partitionLeaders(cluster, INPUT),
        ...await partitionLeaders(cluster, OUTPUT)]
      return leaders.length === 2 * PARTITIONS && leaders.every(id => id > 0) ? true : undefined
    })
  })
  after(async () => {
    for (const job of jobs) job.kill()
    await cluster?.stop()
  })

  /** Input record i is "in-i" on partition i % PARTITIONS, produced with acks=all. */
  async function produceInput (): Promise<void> {
    const client = new KafkaClient({ bootstrap: liveBootstrap(cluster), clientId: 'eos-input' })
    try {
      for (let partition = 0; partition < PARTITIONS; partition++) {
        const values: string[] = []
        for (let i = partition; i < RECORDS; i += PARTITIONS) values.push(`in-${i}`)
        for (let start = 0; start < values.length; start += 100) {
          const batch = buildRecordBatchSync(values.slice(start, start + 100).map(value => ({
            key: Buffer.from(value), value: Buffer.from(value) })), { timestampMs: Date.now() })
          await client.produce(INPUT, partition, batch, { acks: -1 })
        }
      }
    } finally {
      await client.close()
    }
  }

  /** Every value of the output as a read_committed reader sees it, partition by partition. */
  async function readOutput (): Promise<string[][]> {
    const client = new KafkaClient({ bootstrap: liveBootstrap(cluster), clientId: 'eos-reader',
      requestTimeoutMs: 5_000 })
    const values: string[][] = Array.from({ length: PARTITIONS }, () => [])
    const positions = new Array<number>(PARTITIONS).fill(0)
    const deadline = Date.now() + READ_TIMEOUT_MS
    let quietSince = Date.now()
    try {
      // Until every input came (or the deadline), then one quiet second for any extra.
      while (Date.now() < deadline) {
        for (let partition = 0; partition < PARTITIONS; partition++) {
          const { records, next } = await fetchCommitted(client, OUTPUT, partition,
            positions[partition] ?? 0)
          positions[partition] = next
          values[partition]?.push(...records.map(record => record.value))
          if (records.length > 0) quietSince = Date.now()
        }
        const count = values.reduce((sum, part) => sum + part.length, 0)
        if (count >= RECORDS && Date.now() - quietSince > 1_000) break
      }
    } finally {
      await client.close()
    }
    return values
  }

  it('the output, read with read_committed, holds every input exactly once', async () => {
    const seed = Number(process.env.EOS_SEED ?? Math.floor(Math.random() * 2 ** 31))
    console.log(`eos pipeline seed ${seed} (replay with EOS_SEED=${seed})`)
    const random = seededRandom(seed)
    const at = (low: number, high: number): number =>
      Math.floor(RECORDS * (low + random() * (high - low)))
    const started = Date.now()
    const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1)} s`
    const killJobAt = at(0.1, 0.2)
    const killCoordinatorAt = at(0.3, 0.4)
    const outputPartition = Math.floor(random() * PARTITIONS)
    const killLeaderAt = at(0.55, 0.65)
    await produceInput()

    let position = 0
    const waiters = new Set<() => void>()
    const onCommit = (reported: number): void => {
      position = Math.max(position, reported)
      for (const wake of waiters) wake()
    }
    /** Waits until the job's committed position reaches `target`. */
    const progress = async (target: number, what: string): Promise<void> => {
      const deadline = Date.now() + PROGRESS_TIMEOUT_MS
      while (position < target && Date.now() < deadline) {
        await new Promise<void>(resolve => {
          const wake = (): void => { waiters.delete(wake); resolve() }
          waiters.add(wake)
          setTimeout(wake, 200)
        })
      }
      assert.ok(position >= target, `${what}: the job is at ${position}, not ${target}, ` +
        `after ${PROGRESS_TIMEOUT_MS} ms (seed ${seed}; ${JSON.stringify(jobs.map(job =>
          job.events))})`)
    }
    const startJob = (name: string): JobProcess => {
      const job = new JobProcess(classpath, liveBootstrap(cluster), name, onCommit)
      jobs.push(job)
      return job
    }
    /** SIGKILLs broker `nodeId`, waits for the job to commit again, restarts the broker. */
    const killBroker = async (nodeId: number, why: string): Promise<number> => {
      const before = position
      await cluster.brokers.get(nodeId)?.kill()
      console.log(`eos pipeline: SIGKILLed broker ${nodeId}, the ${why}, at position ${before}, ` +
        elapsed())
      await progress(Math.min(RECORDS, before + MAX_POLL), `a commit after killing the ${why}`)
      const resumedAt = position
      await cluster.startNode(nodeId)
      await eventually('three live brokers again', () => agreedView(cluster, [1, 2, 3]), 30_000)
      console.log(`eos pipeline: broker ${nodeId} back (the job resumed at ${resumedAt}), ` +
        elapsed())
      return resumedAt
    }

    // 1. The job, killed and replaced by a new instance of the same transactional.id.
    const first = startJob('first')
    await progress(killJobAt, 'before killing the job')
    first.kill()
    await first.exited
    const killedJobAt = position
    console.log(`eos pipeline: SIGKILLed the job at position ${killedJobAt}, ${elapsed()}`)
    const second = startJob('second')
    await progress(Math.min(RECORDS, killedJobAt + MAX_POLL), 'a commit of the new instance')
    const secondCommitted = second.commits > 0

    // 2. The broker of the job's transaction coordinator.
    await progress(killCoordinatorAt, 'before killing the coordinator')
    const coordinator = await eventually('the job\'s transaction coordinator',
      async () => await transactionCoordinatorOf(cluster, TRANSACTIONAL_ID))
    await killBroker(coordinator, `transaction coordinator of ${TRANSACTIONAL_ID}`)

    // 3. The leader of an output partition.
    await progress(killLeaderAt, 'before killing an output leader')
    const leader = await eventually(`leader of ${OUTPUT}-${outputPartition}`, async () => {
      const found = (await partitionLeaders(cluster, OUTPUT))[outputPartition]
      return found !== undefined && found > 0 ? found : undefined
    })
    const leaderKilledBeforeEnd = position < RECORDS
    await killBroker(leader, `leader of ${OUTPUT}-${outputPartition}`)

    // The job stops itself at its deadline; this unref'd timer only guards a hung JVM.
    const code = await Promise.race([second.exited, new Promise<string>(resolve => {
      setTimeout(() => { resolve('timeout') }, (JOB_DEADLINE_S + 10) * 1000).unref()
    })])
    console.log(`eos pipeline: the job ended (${String(code)}), ${elapsed()}`)
    const output = await readOutput()
    const committed = await cluster.clientOf(1).fetchGroupOffsets(GROUP)
    const internal = await metadataFrom(cluster, 1, ['__transaction_state', '__consumer_offsets'])
    const internalReplicas = internal.topics.flatMap(topic => topic.partitions.map(partition =>
      `${topic.name}-${partition.partitionIndex}:${partition.replicaNodes.length}`))

    const all = output.flat()
    const counts = new Map<string, number>()
    for (const value of all) counts.set(value, (counts.get(value) ?? 0) + 1)
    const expected = Array.from({ length: RECORDS }, (_, i) => `out-${i}`)
    const missing = expected.filter(value => !counts.has(value))
    const duplicated = [...counts].filter(([, count]) => count > 1).map(([value]) => value)
    const unexpected = all.filter(value => !/^out-\d+$/.test(value) ||
      Number(value.slice(4)) >= RECORDS)
    const outOfOrder = output.flatMap((values, partition) => values.filter((value, i) =>
      Number(value.slice(4)) % PARTITIONS !== partition ||
      (i > 0 && Number(value.slice(4)) <= Number(values[i - 1]?.slice(4)))))
    const offsets = Array.from({ length: PARTITIONS }, (_, p) => committed.get(INPUT)?.get(p))
    const ends = Array.from({ length: PARTITIONS }, (_, p) =>
      expected.filter((_, i) => i % PARTITIONS === p).length)
    const checks: [string, boolean, string][] = [
      ['the replacement job committed after the zombie was killed', secondCommitted, ''],
      ['the output leader was killed before the job finished', leaderKilledBeforeEnd, ''],
      ['the job finished (exit 0, done)', code === 0 && second.done,
        `exit ${String(code)}, events ${JSON.stringify(second.events)}`],
      ['no input lost', missing.length === 0, `${missing.length} missing: ${missing.slice(0, 10)}`],
      ['no input duplicated', duplicated.length === 0,
        `${duplicated.length} duplicated: ${duplicated.slice(0, 10)}`],
      ['nothing else in the output', unexpected.length === 0, unexpected.slice(0, 10).join()],
      ['each output partition in input order', outOfOrder.length === 0,
        outOfOrder.slice(0, 10).join()],
      ['__transaction_state and __consumer_offsets replicate with factor 3',
        internalReplicas.length > 0 && internalReplicas.every(entry => entry.endsWith(':3')),
        internalReplicas.join(' ')],
      ['the group\'s committed offsets are the input\'s ends',
        JSON.stringify(offsets) === JSON.stringify(ends), `${JSON.stringify(offsets)}`],
    ]
    const failed = checks.filter(([, ok]) => !ok)
    console.log(`eos pipeline: ${checks.length - failed.length} passed, ${failed.length} failed ` +
      `(seed ${seed}, ${all.length} output records, ${jobs.length} job instances, ` +
      `${jobs.reduce((sum, job) => sum + job.commits, 0)} commits)`)
    for (const [name, , detail] of failed) console.log(`  FAILED ${name}: ${detail}`)
    assert.deepEqual(failed.map(([name, , detail]) => `${name}: ${detail}`), [],
      `seed ${seed}`)
  })
})
