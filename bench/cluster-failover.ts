/**
 * Cluster timings on real processes (issue #14's closing numbers), measured, never asserted:
 *
 *   npm run bench:failover -- [--runs 10] [--session-ms 9000]
 *     [--replication-only | --skip-replication]
 *
 * 1. Topic visibility: CreateTopics sent to a broker that is not the controller; the time until
 *    it answers (it answers once its own image has the topic) and until all three brokers'
 *    Metadata show the same partitions.
 * 2. Controller failover: SIGKILL of the active controller's process; the time until both
 *    survivors name the same new controller, and until a CreateTopics through a survivor
 *    succeeds. The killed broker then restarts on its data and rejoins before the next run.
 *
 * 3. Partition failover with replication (issue #15): a topic with replication factor 3 and
 *    min.insync.replicas=2; its leader is stopped by SIGKILL, then (separately) by SIGTERM
 *    (controlled shutdown where the build has it); the time from the signal until an acks=all
 *    produce is acknowledged by the new leader. The stopped broker restarts and the ISR is full
 *    again before the next run.
 * 4. Replication lag: acks=1 and acks=all produce latency on that topic (the difference is what
 *    waiting for the followers costs), and the follower-lag metrics the brokers export, if any.
 *
 * 5. With `--baseline-bin <other build's bin/tributary.js>` only: paired A/B of acks=all
 *    latency at RF=3 (`--pairs`, default 3): a fresh 3-broker cluster of each build in turn
 *    (order alternating), 500 sequential 1 KB acks=all produces to the leader of an RF=3
 *    topic, p50 and p99 per run, then the medians over pairs. Both builds see the same
 *    machine state, which single runs on a shared VM do not.
 *
 * Needs `etcd` on PATH (Debian: etcd-server). Prints median and max of each.
 */
import os from 'node:os'
import path from 'node:path'
import { KafkaConnection } from '../src/client/connection.js'
import { KafkaClient } from '../src/client/client.js'
import { Produce } from '../src/protocol/apis/produce.js'
import { errorByCode } from '../src/protocol/errors.js'
import { buildRecordBatchSync } from '../src/records/builder.js'
import {
  agreedView, createTopicOn, describeTopic, eventually, metadataFrom, startCluster,
  type TestCluster,
} from '../test/support/cluster-process.js'
import { BIN } from '../test/support/broker-process.js'

function option (name: string, fallback: number): number {
  const index = process.argv.indexOf(name)
  return index < 0 ? fallback : Number(process.argv[index + 1])
}

function summary (label: string, values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b)
  const median = sorted.length % 2 === 1
    ? sorted[(sorted.length - 1) / 2] as number
    : ((sorted[sorted.length / 2 - 1] as number) + (sorted[sorted.length / 2] as number)) / 2
  return `${label}: median ${median.toFixed(0)} ms, max ${(sorted.at(-1) ?? 0).toFixed(0)} ms ` +
    `(n=${values.length}: ${values.map(v => v.toFixed(0)).join(' ')})`
}

async function topicVisibility (cluster: TestCluster, run: number):
Promise<{ answered: number, everywhere: number }> {
  const { controllerId } = await eventually('a controller', () => agreedView(cluster, [1, 2, 3]))
  const via = [1, 2, 3].find(id => id !== controllerId) as number
  const name = `visible-${run}`
  const started = performance.now()
  const result = await createTopicOn(cluster, via, name, 3, 1)
  if (result !== 'NONE') throw new Error(`CreateTopics ${name}: ${result}`)
  const answered = performance.now() - started
  await eventually('the topic everywhere', async () => {
    const views = await Promise.all([1, 2, 3].map(async id =>
      describeTopic(await metadataFrom(cluster, id, [name]), name)))
    return views.every(view => view !== undefined && view === views[0]) ? true : undefined
  }, 30_000)
  return { answered, everywhere: performance.now() - started }
}

async function failover (cluster: TestCluster, run: number):
Promise<{ elected: number, adminWorks: number }> {
  const { controllerId } = await eventually('a controller',
    () => agreedView(cluster, [1, 2, 3]), 60_000)
  const survivors = [1, 2, 3].filter(id => id !== controllerId)
  const killed = performance.now()
  await cluster.brokers.get(controllerId)?.kill()
  await eventually('a new controller', async () => {
    const view = await agreedView(cluster, survivors)
    return view !== undefined && view.controllerId !== controllerId ? view : undefined
  }, 60_000)
  const elected = performance.now() - killed
  await eventually('admin works again', async () =>
    await createTopicOn(cluster, survivors[0] as number, `after-failover-${run}`, 1, 1) ===
      'NONE' ? true : undefined, 60_000)
  const adminWorks = performance.now() - killed
  await cluster.startNode(controllerId)
  await eventually('three brokers again', () => agreedView(cluster, [1, 2, 3]), 60_000)
  return { elected, adminWorks }
}

const REPLICATED = 'failover-rf3'

async function partitionState (cluster: TestCluster, nodeId: number):
Promise<{ leaderId: number, isr: number[] } | undefined> {
  const metadata = await metadataFrom(cluster, nodeId, [REPLICATED])
  const partition = metadata.topics.find(t => t.name === REPLICATED)?.partitions[0]
  return partition === undefined ? undefined
    : { leaderId: partition.leaderId, isr: partition.isrNodes }
}

async function produceOn (connection: KafkaConnection, acks: number,
  value: Buffer = Buffer.from('failover')): Promise<string> {
  const response = await connection.send(Produce, {
    transactionalId: null, acks, timeoutMs: 2_000,
    topicData: [{ name: REPLICATED, partitionData: [{ index: 0,
      records: buildRecordBatchSync([{ value }], { timestampMs: Date.now() }) }] }],
  })
  return errorByCode(response.responses[0]?.partitionResponses[0]?.errorCode ?? -1)?.name ??
    'UNKNOWN'
}

async function connectTo (cluster: TestCluster, nodeId: number): Promise<KafkaConnection> {
  const broker = cluster.brokers.get(nodeId)
  if (broker === undefined) throw new Error(`no broker ${nodeId}`)
  return KafkaConnection.connect('127.0.0.1', broker.kafkaPort, { requestTimeoutMs: 5_000 })
}

/** One produce straight to broker `nodeId` on a new connection: the error name, or NONE. */
async function produceTo (cluster: TestCluster, nodeId: number, acks: number): Promise<string> {
  const connection = await connectTo(cluster, nodeId)
  try {
    return await produceOn(connection, acks)
  } finally {
    connection.close()
  }
}

async function fullIsr (cluster: TestCluster): Promise<{ leaderId: number }> {
  return eventually('leader and full ISR', async () => {
    const state = await partitionState(cluster, [...cluster.brokers.keys()][0] as number)
    return state !== undefined && state.leaderId >= 0 && state.isr.length === 3
      ? state : undefined
  }, 120_000)
}

/** Signal → first acks=all produce acknowledged by a new leader, in ms. */
async function partitionFailover (cluster: TestCluster, signal: 'SIGKILL' | 'SIGTERM'):
Promise<number> {
  const { leaderId } = await fullIsr(cluster)
  const survivor = [1, 2, 3].find(id => id !== leaderId) as number
  const broker = cluster.brokers.get(leaderId)
  const started = performance.now()
  const stopped = signal === 'SIGKILL' ? broker?.kill() : broker?.stop('SIGTERM')
  await eventually('an acknowledged produce on the new leader', async () => {
    const state = await partitionState(cluster, survivor)
    if (state === undefined || state.leaderId < 0 || state.leaderId === leaderId) return undefined
    return await produceTo(cluster, state.leaderId, -1) === 'NONE' ? true : undefined
  }, 120_000)
  const elapsed = performance.now() - started
  await stopped
  await cluster.startNode(leaderId)
  return elapsed
}

function percentile (values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? 0
}

/** acks=1 and acks=all latency on the replicated topic, and the brokers' lag metrics. */
async function replicationLag (cluster: TestCluster): Promise<string[]> {
  const { leaderId } = await fullIsr(cluster)
  const lines: string[] = []
  const connection = await connectTo(cluster, leaderId)
  try {
    for (const acks of [1, -1, 1, -1]) {
      const latencies: number[] = []
      for (let i = 0; i < 500; i++) {
        const started = performance.now()
        const result = await produceOn(connection, acks)
        if (result !== 'NONE') throw new Error(`produce acks=${acks}: ${result}`)
        latencies.push(performance.now() - started)
      }
      lines.push(`produce latency acks=${acks === -1 ? 'all' : '1'} (RF=3, one batch at a ` +
        `time on one connection, 500 batches): median ${percentile(latencies, 0.5).toFixed(2)} ` +
        `ms, p99 ${percentile(latencies, 0.99).toFixed(2)} ms`)
    }
  } finally {
    connection.close()
  }
  for (const [nodeId, broker] of cluster.brokers) {
    const text = await (await fetch(`http://127.0.0.1:${broker.httpPort}/metrics`)).text()
    const lag = text.split('\n').filter(line => !line.startsWith('#') &&
      /lag/.test(line) && /replica|follower/.test(line))
    lines.push(`broker ${nodeId} follower-lag metrics: ` +
      (lag.length === 0 ? '(none exported by this build)' : lag.join('; ')))
  }
  return lines
}

async function replicatedFailovers (cluster: TestCluster, runs: number): Promise<string[]> {
  const client = new KafkaClient({ bootstrap: [...cluster.brokers.values()].map(b => b.bootstrap) })
  try {
    await client.createTopic(REPLICATED, { partitions: 1, replicationFactor: 3,
      configs: { 'min.insync.replicas': '2' } })
  } finally {
    await client.close()
  }
  const lines = await replicationLag(cluster)
  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    const times: number[] = []
    for (let run = 0; run < runs; run++) {
      times.push(await partitionFailover(cluster, signal))
      console.log(`partition failover run ${run + 1}/${runs} (${signal}): ` +
        `${times.at(-1)?.toFixed(0)} ms`)
    }
    lines.push(summary(`partition failover (RF=3, acks=all): ${signal} of the leader → first ` +
      'acknowledged produce on the new leader', times))
  }
  return lines
}

async function controllerTimings (cluster: TestCluster, runs: number, sessionMs: number):
Promise<void> {
  const answered: number[] = []
  const everywhere: number[] = []
  for (let run = 0; run < runs; run++) {
    const timing = await topicVisibility(cluster, run)
    answered.push(timing.answered)
    everywhere.push(timing.everywhere)
  }
  const elected: number[] = []
  const adminWorks: number[] = []
  for (let run = 0; run < runs; run++) {
    const timing = await failover(cluster, run)
    elected.push(timing.elected)
    adminWorks.push(timing.adminWorks)
    console.log(`failover run ${run + 1}/${runs}: new controller after ` +
      `${timing.elected.toFixed(0)} ms, admin after ${timing.adminWorks.toFixed(0)} ms`)
  }
  console.log(`3 brokers, broker.session.timeout.ms=${sessionMs}`)
  console.log(summary('CreateTopics answered by a non-controller broker', answered))
  console.log(summary('topic visible on all 3 brokers', everywhere))
  console.log(summary('failover: new controller agreed after SIGKILL', elected))
  console.log(summary('failover: CreateTopics succeeds again after SIGKILL', adminWorks))
}

/** One build's run of the A/B: a fresh cluster, sequential 1 KB acks=all produces. */
async function ackAllLatencyRun (bin: string, sessionMs: number):
Promise<{ p50: number, p99: number }> {
  const cluster = await startCluster(3, sessionMs, {}, bin)
  try {
    const client = new KafkaClient({
      bootstrap: [...cluster.brokers.values()].map(b => b.bootstrap),
    })
    try {
      await client.createTopic(REPLICATED, { partitions: 1, replicationFactor: 3,
        configs: { 'min.insync.replicas': '2' } })
    } finally {
      await client.close()
    }
    let connection = await connectTo(cluster, (await fullIsr(cluster)).leaderId)
    const value = Buffer.alloc(1024, 7)
    const latencies: number[] = []
    let moved = 0
    try {
      for (let i = 0; i < 600; i++) {
        const started = performance.now()
        const result = await produceOn(connection, -1, value)
        if (result === 'NOT_LEADER_OR_FOLLOWER' && moved < 50) {
          // Leadership moved (a preferred-leader rebalance, or a loaded machine missing a
          // heartbeat): not counted; the metadata may lag the move, hence the pause.
          moved++
          connection.close()
          await new Promise(resolve => setTimeout(resolve, 200))
          connection = await connectTo(cluster, (await fullIsr(cluster)).leaderId)
          continue
        }
        if (result !== 'NONE') throw new Error(`produce acks=all: ${result}`)
        if (i >= 100) latencies.push(performance.now() - started) // the first 100 warm up
      }
    } finally {
      connection.close()
    }
    if (moved > 0) console.log(`(leadership moved ${moved} times during this run)`)
    return { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) }
  } finally {
    await cluster.stop()
  }
}

/** Paired A/B of RF=3 acks=all latency: this build against `--baseline-bin`. */
async function ackAllAb (baselineBin: string, pairs: number, sessionMs: number):
Promise<void> {
  const variants = [{ name: 'baseline', bin: baselineBin }, { name: 'this build', bin: BIN }]
  const results = new Map<string, { p50: number, p99: number }[]>()
  for (let pair = 0; pair < pairs; pair++) {
    for (const variant of pair % 2 === 0 ? variants : [...variants].reverse()) {
      const run = await ackAllLatencyRun(variant.bin, sessionMs)
      results.set(variant.name, [...(results.get(variant.name) ?? []), run])
      console.log(`pair ${pair + 1}/${pairs} ${variant.name}: acks=all RF=3 1 KB sequential ` +
        `p50 ${run.p50.toFixed(2)} ms, p99 ${run.p99.toFixed(2)} ms ` +
        `(load average ${os.loadavg().map(v => v.toFixed(1)).join(' ')})`)
    }
  }
  for (const [name, runs] of results) {
    console.log(`${name}: median over ${runs.length} runs of p50 ` +
      `${percentile(runs.map(r => r.p50), 0.5).toFixed(2)} ms, of p99 ` +
      `${percentile(runs.map(r => r.p99), 0.5).toFixed(2)} ms`)
  }
}

async function main (): Promise<void> {
  const runs = option('--runs', 10)
  const sessionMs = option('--session-ms', 9_000)
  const baselineAt = process.argv.indexOf('--baseline-bin')
  if (baselineAt >= 0) {
    await ackAllAb(path.resolve(process.argv[baselineAt + 1] ?? ''), option('--pairs', 3),
      sessionMs)
    return
  }
  const cluster = await startCluster(3, sessionMs)
  try {
    if (!process.argv.includes('--replication-only')) {
      await controllerTimings(cluster, runs, sessionMs)
    }
    if (!process.argv.includes('--skip-replication')) {
      console.log(`3 brokers, broker.session.timeout.ms=${sessionMs}`)
      for (const line of await replicatedFailovers(cluster, runs)) console.log(line)
    }
  } finally {
    await cluster.stop()
  }
}

await main()
