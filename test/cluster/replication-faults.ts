/**
 * The replication fault run (issue #15's fault tests): three real brokers on a real etcd, every
 * inter-broker and etcd link through a fault proxy (test/support/proxied-cluster.ts), an
 * idempotent acks=all producer and a consumer group running throughout
 * (replication-workload.ts), on a topic with replication factor 3 and min.insync.replicas=2.
 *
 * Faults, in a seeded order, each followed by healing, a settle period (every partition led by
 * a live broker with all three replicas in sync) and the checks of replication-checks.ts:
 *
 * - kill: SIGKILL the leader of a partition, restart it on its data;
 * - pause: SIGSTOP the leader past the broker session timeout, SIGCONT: it must step down (a
 *   produce to it is refused) instead of serving as a second leader;
 * - lag: a follower falls behind (SIGSTOP shorter than the session timeout, or a slow link to
 *   the leader) and catches up;
 * - cut: one broker is cut from the others and from etcd (its links blackholed or dropped),
 *   then healed;
 * - kill-two: two brokers are SIGKILLed at once: with one replica left and
 *   min.insync.replicas=2 no produce may be acknowledged until they are back.
 *
 * Every result is a named check; the run prints `N passed, M failed`. The seed is printed and
 * replays the choices (the timing of a real cluster does not replay exactly).
 */
import { KafkaClient } from '../../src/client/client.js'
import { KafkaConnection } from '../../src/client/connection.js'
import { Produce } from '../../src/protocol/apis/produce.js'
import { errorByCode } from '../../src/protocol/errors.js'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import { ProxiedCluster } from '../support/proxied-cluster.js'
import { seededRandom } from '../support/seeded-random.js'
import { checkCluster, type CheckContext, type CheckResult } from './replication-checks.js'
import { kcatAvailable } from './kcat-producer.js'
import { Workload } from './replication-workload.js'

export const FAULT_KINDS = ['kill', 'pause', 'lag', 'cut', 'kill-two'] as const
export type FaultKind = typeof FAULT_KINDS[number]

export interface FaultRunOptions {
  seed: number
  /** Leader SIGKILL cycles (5 in CI, 20 or more in the long run). */
  killCycles: number
  /** Cycles of each other fault. */
  otherCycles: number
  partitions?: number
  sessionTimeoutMs?: number
  /** Only these faults (default all). */
  kinds?: FaultKind[]
  /** Sender loops = the producer's maxInFlightRequests (default seeded, 1-5). */
  loops?: number
  log?: (line: string) => void
}

const TOPIC = 'faults'
const SETTLE_TIMEOUT_MS = 30_000
/** Kafka's replica.lag.time.max.ms, shortened so a stalled follower leaves the ISR in-test. */
const REPLICA_LAG_TIME_MAX_MS = 2_000

const sleep = async (ms: number): Promise<void> =>
  new Promise(resolve => setTimeout(resolve, ms))

interface PartitionView { partition: number, leaderId: number, leaderEpoch: number,
  isr: number[], replicas: number[] }

interface Run {
  cluster: ProxiedCluster
  client: KafkaClient
  workload: Workload
  random: () => number
  partitions: number
  log: (line: string) => void
  results: CheckResult[]
}

function pick<T> (random: () => number, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)]
  if (item === undefined) throw new Error('pick from nothing')
  return item
}

export function faultSchedule (random: () => number, killCycles: number, otherCycles: number):
FaultKind[] {
  const kinds: FaultKind[] = Array.from({ length: killCycles }, () => 'kill' as const)
  for (let i = 0; i < otherCycles; i++) kinds.push('pause', 'lag', 'cut', 'kill-two')
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const swap = kinds[i] as FaultKind
    kinds[i] = kinds[j] as FaultKind
    kinds[j] = swap
  }
  return kinds
}

/** The topic's partitions as broker `nodeId` (over its EXTERNAL listener) sees them. */
async function viewFrom (run: Run, nodeId: number): Promise<PartitionView[] | undefined> {
  const client = new KafkaClient({
    bootstrap: `127.0.0.1:${run.cluster.broker(nodeId).externalPort}`, requestTimeoutMs: 3_000,
  })
  try {
    const response = await client.metadata([TOPIC])
    const topic = response.topics.find(t => t.name === TOPIC)
    if (topic === undefined || topic.errorCode !== 0) return undefined
    return topic.partitions.map(p => ({ partition: p.partitionIndex, leaderId: p.leaderId,
      leaderEpoch: p.leaderEpoch, isr: [...p.isrNodes].sort(), replicas: p.replicaNodes }))
      .sort((a, b) => a.partition - b.partition)
  } catch {
    return undefined
  } finally {
    await client.close()
  }
}

/** Polls until `check` returns a value; undefined after `timeoutMs`. */
async function within<T> (timeoutMs: number, check: () => Promise<T | undefined>):
Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const value = await check().catch(() => undefined)
    if (value !== undefined) return value
    await sleep(100)
  }
  return undefined
}

function record (run: Run, name: string, ok: boolean, detail: string): void {
  run.results.push({ name, ok, detail })
  run.log(`${ok ? 'PASS' : 'FAIL'} ${name}: ${detail}`)
}

/** Every live broker agrees: each partition led by a live broker, all replicas in the ISR. */
async function settled (run: Run): Promise<PartitionView[] | undefined> {
  const live = run.cluster.liveIds
  let agreed: string | undefined
  let view: PartitionView[] | undefined
  for (const nodeId of live) {
    view = await viewFrom(run, nodeId)
    if (view === undefined || view.length !== run.partitions) return undefined
    for (const p of view) {
      if (!live.includes(p.leaderId) || p.isr.length !== p.replicas.length) return undefined
    }
    const text = JSON.stringify(view)
    if (agreed !== undefined && agreed !== text) return undefined
    agreed = text
  }
  return view
}

async function settle (run: Run, label: string): Promise<PartitionView[] | undefined> {
  const started = Date.now()
  const view = await within(SETTLE_TIMEOUT_MS, async () => settled(run))
  record(run, `${label}: settles (leaders live, full ISR, brokers agree)`, view !== undefined,
    view === undefined
      ? `not within ${SETTLE_TIMEOUT_MS} ms: ` +
        JSON.stringify(await viewFrom(run, run.cluster.liveIds[0] ?? 1))
      : `after ${Date.now() - started} ms`)
  return view
}

let probes = 0

/** Produces one batch acks=all straight to broker `nodeId`; the error name, or 'NONE'. */
async function produceDirect (run: Run, nodeId: number, partition: number, timeoutMs: number):
Promise<string> {
  let connection: KafkaConnection | undefined
  try {
    connection = await KafkaConnection.connect('127.0.0.1',
      run.cluster.broker(nodeId).externalPort, { requestTimeoutMs: timeoutMs + 5_000 })
    const response = await connection.send(Produce, {
      transactionalId: null, acks: -1, timeoutMs,
      topicData: [{ name: TOPIC, partitionData: [{ index: partition,
        records: buildRecordBatchSync([{ value: Buffer.from(`probe:${probes++}`) }],
          { timestampMs: Date.now() }) }] }],
    })
    const code = response.responses[0]?.partitionResponses[0]?.errorCode ?? -1
    return errorByCode(code)?.name ?? `code ${code}`
  } catch (error) {
    return `no answer (${error instanceof Error ? error.message : String(error)})`
  } finally {
    connection?.close()
  }
}

async function faultKill (run: Run, label: string, view: PartitionView[]): Promise<void> {
  const target = pick(run.random, view)
  const victim = target.leaderId
  run.log(`${label}: SIGKILL broker ${victim} (leader of ${TOPIC}-${target.partition})`)
  await run.cluster.kill(victim)
  // Down for up to two session timeouts: about half the cycles outlive the session, so the
  // controller moves leadership; the others restart a broker that is still the leader.
  const downMs = Math.floor(run.random() * 2 * run.cluster.sessionTimeoutMs)
  await sleep(downMs)
  const others = run.cluster.liveIds
  const seen = await viewFrom(run, others[0] as number)
  const leader = seen?.[target.partition]?.leaderId
  run.log(`${label}: broker ${victim} restarts after ${downMs} ms down; ` +
    `${TOPIC}-${target.partition} is led by ` +
    `${leader === victim ? 'it still' : `broker ${leader}`}` +
    ` at epoch ${seen?.[target.partition]?.leaderEpoch} (epoch ${target.leaderEpoch} before)`)
  await run.cluster.startNode(victim)
  // Kafka never lets a restarted broker go on leading at its old epoch: it registers anew and
  // starts fenced, so leadership (and the epoch) moves. Logged, as the other brokers see it.
  await sleep(2_000)
  const after = (await viewFrom(run, others[0] as number))?.[target.partition]
  run.log(`${label}: 2 s after the restart broker ${after?.leaderId} leads at epoch ` +
    `${after?.leaderEpoch}` + (after?.leaderId === victim &&
    after.leaderEpoch === target.leaderEpoch ? ' (the restarted broker, at its old epoch)' : ''))
}

async function faultPause (run: Run, label: string, view: PartitionView[]): Promise<void> {
  const target = pick(run.random, view)
  const victim = target.leaderId
  const others = run.cluster.liveIds.filter(id => id !== victim)
  run.log(`${label}: SIGSTOP broker ${victim} (leader of ${TOPIC}-${target.partition})`)
  run.cluster.pause(victim)
  const moved = await within(run.cluster.sessionTimeoutMs + 15_000, async () => {
    const seen = await viewFrom(run, others[0] as number)
    const p = seen?.[target.partition]
    return p !== undefined && p.leaderId !== victim && p.leaderId >= 0 ? p : undefined
  })
  record(run, `${label}: a new leader while broker ${victim} is stopped`, moved !== undefined,
    moved === undefined ? 'the leader did not move' : `broker ${moved.leaderId}, epoch ` +
      `${moved.leaderEpoch} (was ${target.leaderEpoch})`)
  run.cluster.resume(victim)
  // The resumed broker must stop acting as leader: a produce to it for that partition is
  // refused (NOT_LEADER_OR_FOLLOWER once it has caught up with the metadata), never accepted.
  let last = ''
  const refused = await within(15_000, async () => {
    last = await produceDirect(run, victim, target.partition, 2_000)
    return last === 'NOT_LEADER_OR_FOLLOWER' ? last : undefined
  })
  record(run, `${label}: resumed broker ${victim} refuses to lead ${TOPIC}-${target.partition}`,
    refused !== undefined, refused === undefined ? `last answer: ${last}` : refused)
}

async function faultLag (run: Run, label: string, view: PartitionView[]): Promise<void> {
  const target = pick(run.random, view)
  const follower = pick(run.random, target.replicas.filter(id => id !== target.leaderId))
  if (run.random() < 0.5) {
    const stopMs = 500 + Math.floor(run.random() * (run.cluster.sessionTimeoutMs - 1_000))
    run.log(`${label}: SIGSTOP follower ${follower} of ${TOPIC}-${target.partition} for ` +
      `${stopMs} ms`)
    run.cluster.pause(follower)
    await sleep(stopMs)
    run.cluster.resume(follower)
  } else {
    const delayMs = 100 + Math.floor(run.random() * 400)
    run.log(`${label}: ${delayMs} ms link delay to leader ${target.leaderId} for 4 s ` +
      `(its followers, ${follower} among them, fall behind)`)
    run.cluster.broker(target.leaderId).brokerProxy.setMode({ kind: 'delay', delayMs })
    await sleep(4_000)
    run.cluster.broker(target.leaderId).brokerProxy.setMode({ kind: 'pass' })
  }
}

async function faultCut (run: Run, label: string, view: PartitionView[]): Promise<void> {
  const target = pick(run.random, view)
  const victim = target.leaderId
  const others = run.cluster.liveIds.filter(id => id !== victim)
  const cutMs = run.cluster.sessionTimeoutMs * 2 + Math.floor(run.random() * 2_000)
  // Packets that vanish (blackhole) or connections that are refused and reset (drop).
  const mode = run.random() < 0.5 ? 'blackhole' as const : 'drop' as const
  run.log(`${label}: cut broker ${victim} (leader of ${TOPIC}-${target.partition}) from etcd ` +
    `and the other brokers for ${cutMs} ms (${mode})`)
  run.cluster.network(victim, { kind: mode })
  const started = Date.now()
  const moved = await within(cutMs, async () => {
    const seen = await viewFrom(run, others[0] as number)
    const p = seen?.[target.partition]
    return p !== undefined && p.leaderId !== victim && p.leaderId >= 0 ? p : undefined
  })
  record(run, `${label}: the others elect a new leader while ${victim} is cut off`,
    moved !== undefined, moved === undefined ? 'the leader did not move' : `broker ` +
      `${moved.leaderId}, epoch ${moved.leaderEpoch}`)
  // The cut-off broker still takes client connections: nothing it accepts now may be acked.
  const answer = await produceDirect(run, victim, target.partition, 2_000)
  record(run, `${label}: the cut-off broker acknowledges no acks=all produce`,
    answer !== 'NONE', answer)
  await sleep(Math.max(0, cutMs - (Date.now() - started)))
  run.cluster.network(victim, { kind: 'pass' })
}

async function faultKillTwo (run: Run, label: string): Promise<void> {
  const ids = [...run.cluster.liveIds]
  const survivor = pick(run.random, ids)
  const victims = ids.filter(id => id !== survivor)
  run.log(`${label}: SIGKILL brokers ${victims.join(' and ')} at once; ${survivor} survives`)
  const killedAt = Date.now()
  await Promise.all(victims.map(async id => run.cluster.kill(id)))
  // Past the session timeout the dead brokers are fenced; the survivor may lead what it can.
  await sleep(run.cluster.sessionTimeoutMs + 2_000)
  const answers: string[] = []
  for (let partition = 0; partition < run.partitions; partition++) {
    answers.push(`${partition}: ${await produceDirect(run, survivor, partition, 2_000)}`)
  }
  record(run, `${label}: with one replica left every acks=all produce is refused`,
    answers.every(answer => !answer.endsWith(': NONE')), answers.join(', '))
  const restartAt = Date.now()
  await Promise.all(victims.map(async id => run.cluster.startNode(id)))
  // A send begun after the kill can only have been acknowledged by the survivor alone if it was
  // acknowledged before the others came back.
  const wrongly = run.workload.sends.filter(send => send.startedMs > killedAt + 100 &&
    send.ackedMs !== undefined && send.ackedMs < restartAt)
  record(run, `${label}: the producer got no acknowledgement while two brokers were down`,
    wrongly.length === 0, wrongly.length === 0
      ? 'none'
      : `${wrongly.length} sends acknowledged, e.g. ids ${wrongly[0]?.ids.join(',')}`)
}

async function faultCycle (run: Run, kind: FaultKind, label: string): Promise<void> {
  const view = await settled(run) ?? await viewFrom(run, run.cluster.liveIds[0] ?? 1)
  if (view === undefined) {
    record(run, `${label}: a view of the topic before the fault`, false, 'no metadata')
    return
  }
  if (kind === 'kill') await faultKill(run, label, view)
  else if (kind === 'pause') await faultPause(run, label, view)
  else if (kind === 'lag') await faultLag(run, label, view)
  else if (kind === 'cut') await faultCut(run, label, view)
  else await faultKillTwo(run, label)
  await settle(run, label)
  await checkPaused(run, label)
}

/** Pauses the workload, runs the data checks, resumes. */
async function checkPaused (run: Run, label: string): Promise<void> {
  const paused = await run.workload.pause()
  if (!paused) record(run, `${label}: the workload pauses`, false, 'sends still in flight')
  const context: CheckContext = { cluster: run.cluster, client: run.client, topic: TOPIC,
    partitions: run.partitions, workload: run.workload }
  for (const check of await checkCluster(context, label)) {
    record(run, check.name, check.ok, check.detail)
  }
  if (run.workload.kcatAlive === false) {
    record(run, `${label}: kcat keeps producing`, false, run.workload.kcatDiagnostics)
  }
  run.workload.resume()
}

async function createTopic (run: Run): Promise<void> {
  // Ready brokers are registered, but the controller may not list all three yet.
  const all = await within(30_000, async () =>
    (await run.client.metadata([])).brokers.length === run.cluster.brokers.size ? true : undefined)
  if (all === undefined) throw new Error('the brokers do not all appear in Metadata')
  await run.client.createTopic(TOPIC, { partitions: run.partitions, replicationFactor: 3,
    configs: { 'min.insync.replicas': '2' } })
  const view = await within(30_000, async () => settled(run))
  if (view === undefined) throw new Error(`topic ${TOPIC} has no leaders`)
}

export async function runReplicationFaults (options: FaultRunOptions): Promise<CheckResult[]> {
  const log = options.log ?? ((line: string) => console.log(line))
  log(`replication faults: seed ${options.seed} (REPLICATION_FAULTS_SEED replays the choices), ` +
    `${options.killCycles} leader kills, ${options.otherCycles} of each other fault` +
    (options.kinds === undefined ? '' : ` (only ${options.kinds.join(', ')})`))
  const random = seededRandom(options.seed)
  const cluster = await ProxiedCluster.start({
    sessionTimeoutMs: options.sessionTimeoutMs ?? 3_000,
    outputTailBytes: 200_000,
    properties: { 'replica.lag.time.max.ms': String(REPLICA_LAG_TIME_MAX_MS) },
  })
  const client = new KafkaClient({ bootstrap: cluster.bootstrap, requestTimeoutMs: 10_000 })
  const partitions = options.partitions ?? 6
  // The workload draws from its own generator as its sends complete, in real-time order; the
  // fault choices have theirs, so a seed replays the same schedule and victims.
  const workload = new Workload({
    bootstrap: () => cluster.bootstrap, topic: TOPIC, partitions,
    loops: options.loops ?? 1 + Math.floor(random() * 5),
    random: seededRandom(options.seed ^ 0x5bd1e995), sendGapMs: 50,
    ...(kcatAvailable() ? { kcatPartition: Math.floor(random() * partitions) } : {}),
  })
  log(`producers: kafkajs idempotent acks=all with ${workload.loops} sender loops ` +
    `(= maxInFlightRequests); ${workload.kcatAlive === undefined
      ? 'no kcat on PATH'
      : 'kcat (librdkafka) idempotent acks=all'}`)
  const run: Run = { cluster, client, workload, random, partitions, log, results: [] }
  try {
    await createTopic(run)
    await workload.start()
    await sleep(2_000)
    await checkPaused(run, 'baseline')
    const baseline = { acknowledged: workload.acknowledged, consumed: workload.consumedCount }
    const schedule = faultSchedule(random, options.killCycles, options.otherCycles)
      .filter(kind => options.kinds?.includes(kind) ?? true)
    // A run without faults would check only the baseline (REPLICATION_FAULTS_KINDS=kil, say).
    if (schedule.length === 0) throw new Error('no fault is scheduled')
    for (const [index, kind] of schedule.entries()) {
      await faultCycle(run, kind, `#${index + 1} ${kind}`)
    }
    // The data checks hold trivially for a workload that stopped writing or reading: it must
    // have gone on through the faults.
    const acknowledged = workload.acknowledged - baseline.acknowledged
    const consumed = workload.consumedCount - baseline.consumed
    record(run, 'the producers and the group made progress after the baseline',
      acknowledged > 0 && consumed > 0,
      `${acknowledged} more messages acknowledged, ${consumed} more records consumed`)
  } catch (error) {
    record(run, 'the run completes', false, error instanceof Error ? error.stack ?? '' : '')
  } finally {
    await workload.stop()
    await client.close()
    if (run.results.some(r => !r.ok)) dumpBrokerTails(run)
    await cluster.stop()
  }
  const failed = run.results.filter(r => !r.ok).length
  log(`${run.results.length - failed} passed, ${failed} failed (seed ${options.seed}, ` +
    `${workload.acknowledged} messages acknowledged)`)
  return run.results
}

function dumpBrokerTails (run: Run): void {
  if (process.env.REPLICATION_FAULTS_VERBOSE === undefined) return
  for (const broker of run.cluster.brokers.values()) {
    run.log(`--- broker ${broker.nodeId} output (tail) ---\n` +
      (broker.process?.output().slice(-5_000) ?? '(not running)'))
  }
}
