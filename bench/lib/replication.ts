/**
 * The replication scenario (issue #15's performance section), on a cluster the bench starts
 * (`--cluster`: etcd and three brokers on this machine, test/support/cluster-process.ts):
 *
 *   npm run bench -- replication [--partitions 4] [--duration 10] [--rate-fraction 0.25]
 *
 * 1. closed-loop acks=all produce to a topic with replication factor 1, then to one with
 *    replication factor 3 (min.insync.replicas=2), each on a fresh topic: the peaks;
 * 2. end-to-end latency at one rate for both (--rate, or --rate-fraction of the RF=3 peak), so
 *    the two are compared at the same load;
 * 3. each broker's CPU seconds (from /proc/<pid>/stat) over each phase: where the CPU goes with
 *    three brokers sharing the machine's cores;
 * 4. the follower-lag metrics the brokers export (sampled every 500 ms during the RF=3
 *    phases; the largest value of each), if the build has them.
 *
 * Results are ratios from one run: the machine is shared, absolute numbers drift between runs.
 */
import { readdir, readFile } from 'node:fs/promises'
import type { TestCluster } from '../../test/support/cluster-process.js'
import type { RateRunResult } from './rate-run.js'
import { formatRate, ms, table } from './report.js'
import { atRate, produce, type Context, type ProduceResult } from './scenarios.js'

export interface ReplicationPhase {
  replicationFactor: number
  peak: ProduceResult
  latency?: RateRunResult
  /** Process label ('broker 1', 'etcd') → CPU seconds over the closed-loop phase. */
  peakCpuSeconds: Record<string, number>
  /** This process's (the load generator's) CPU seconds over the same phase. */
  peakGeneratorCpuSeconds: number
}

export interface ReplicationResult {
  phases: ReplicationPhase[]
  rate: number
  /** Follower-lag series → the largest value seen during the RF=3 phases. */
  lagMetrics: Record<string, number>
}

const CLOCK_TICKS_PER_SECOND = 100

/** utime + stime of a process, in seconds (Linux; 0 elsewhere). */
async function cpuSeconds (pid: number | undefined): Promise<number> {
  if (pid === undefined) return 0
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may hold spaces) start at the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND
  } catch {
    return 0
  }
}

/**
 * The processes of the cluster under test: their pids for CPU seconds, and the follower-lag
 * metrics where the brokers export them (Tributary's /metrics; Kafka has them in JMX only).
 */
export interface ReplicationBrokers {
  /** Process label ('broker 1', 'etcd') → pid. */
  pids: () => Promise<Map<string, number | undefined>>
  lag?: () => Promise<Map<string, number>>
}

/** The pid of the process whose command line contains `fragment` (Linux /proc), if any. */
async function pidByCommandLine (fragment: string): Promise<number | undefined> {
  const entries = await readdir('/proc').catch(() => [] as string[])
  for (const entry of entries.filter(name => /^\d+$/.test(name))) {
    const command = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')
    if (command.includes(fragment)) return Number(entry)
  }
  return undefined
}

/** Tributary's three brokers and the etcd they share (its metadata store and controller). */
export function tributaryBrokers (cluster: TestCluster): ReplicationBrokers {
  let etcdPid: Promise<number | undefined> | undefined
  return {
    pids: async () => {
      const pids = new Map<string, number | undefined>()
      // By node id: the brokers start in parallel, so the map's order is the order they came up.
      for (const [nodeId, broker] of [...cluster.brokers].sort(([a], [b]) => a - b)) {
        pids.set(`broker ${nodeId}`, broker.child.pid)
      }
      etcdPid ??= pidByCommandLine(cluster.etcd.dataDir)
      pids.set('etcd', await etcdPid)
      return pids
    },
    lag: async () => lagMetrics(cluster),
  }
}

/** Follower-lag series (name and labels → value) of every broker's /metrics, if exported. */
async function lagMetrics (cluster: TestCluster): Promise<Map<string, number>> {
  const values = new Map<string, number>()
  for (const [nodeId, broker] of cluster.brokers) {
    const text = await (await fetch(`http://127.0.0.1:${broker.httpPort}/metrics`)).text()
      .catch(() => '')
    for (const line of text.split('\n')) {
      if (line.startsWith('#') || !/lag/.test(line) || !/replica|follower/.test(line)) continue
      const at = line.lastIndexOf(' ')
      values.set(`broker ${nodeId} ${line.slice(0, at)}`, Number(line.slice(at + 1)))
    }
  }
  return values
}

async function cpuOf (brokers: ReplicationBrokers): Promise<Record<string, number>> {
  const cpu: Record<string, number> = {}
  for (const [label, pid] of await brokers.pids()) cpu[label] = await cpuSeconds(pid)
  return cpu
}

/**
 * Runs `phase` while sampling the follower-lag metrics every half second; the largest value
 * of each series over the phase (Kafka's replica lag is watched as a maximum).
 */
async function sampled<T> (brokers: ReplicationBrokers, worst: Map<string, number>,
  phase: () => Promise<T>): Promise<T> {
  const lag = brokers.lag
  if (lag === undefined) return phase()
  let running = true
  const sampler = (async () => {
    while (running) {
      for (const [series, value] of await lag().catch(() => new Map<string, number>())) {
        worst.set(series, Math.max(worst.get(series) ?? 0, value))
      }
      await new Promise(resolve => setTimeout(resolve, 500))
    }
  })()
  try {
    return await phase()
  } finally {
    running = false
    await sampler
  }
}

/** CPU seconds of each cluster process and of this load generator over `phase`. */
async function measured<T> (brokers: ReplicationBrokers, phase: () => Promise<T>):
  Promise<{ value: T, cpuSeconds: Record<string, number>, generatorCpuSeconds: number }> {
  const before = await cpuOf(brokers)
  const generatorBefore = process.cpuUsage()
  const value = await phase()
  const generator = process.cpuUsage(generatorBefore)
  const after = await cpuOf(brokers)
  const cpuSeconds: Record<string, number> = {}
  for (const label of Object.keys(after)) {
    cpuSeconds[label] = (after[label] ?? 0) - (before[label] ?? 0)
  }
  return { value, cpuSeconds, generatorCpuSeconds: (generator.user + generator.system) / 1e6 }
}

export async function replication (context: Context, brokers: ReplicationBrokers):
Promise<ReplicationResult> {
  const phases: ReplicationPhase[] = []
  const worstLag = new Map<string, number>()
  for (const replicationFactor of [1, 3]) {
    context.options.replicationFactor = replicationFactor
    const { value: peak, cpuSeconds, generatorCpuSeconds } = await measured(brokers,
      async () => replicationFactor === 1
        ? produce(context)
        : sampled(brokers, worstLag, async () => produce(context)))
    phases.push({ replicationFactor, peak, peakCpuSeconds: cpuSeconds,
      peakGeneratorCpuSeconds: generatorCpuSeconds })
  }
  const replicatedPeak = phases[1]?.peak.messagesPerSecond ?? 0
  const rate = context.options.rate ??
    Math.max(1, Math.round(replicatedPeak * (context.options.rateFraction ?? 0.25)))
  for (const phase of phases) {
    context.options.replicationFactor = phase.replicationFactor
    const run = async (): Promise<RateRunResult> => atRate(context, rate,
      `RF=${phase.replicationFactor} @ ${formatRate(rate)}`)
    phase.latency = phase.replicationFactor === 1
      ? await run()
      : await sampled(brokers, worstLag, run)
  }
  return { phases, rate, lagMetrics: Object.fromEntries(worstLag) }
}

/** CPU seconds of the brokers alone (not etcd) over a phase. */
export function brokerCpuTotal (phase: ReplicationPhase): number {
  return Object.entries(phase.peakCpuSeconds).filter(([label]) => label.startsWith('broker'))
    .reduce((sum, [, value]) => sum + value, 0)
}

/** Broker CPU seconds per million messages acknowledged in the closed-loop phase. */
export function brokerCpuPerMillion (phase: ReplicationPhase): number {
  return brokerCpuTotal(phase) / (phase.peak.messages / 1e6)
}

export function replicationTable (result: ReplicationResult): string {
  const [single, replicated] = result.phases
  if (single === undefined || replicated === undefined) return ''
  const rows: Array<[string, (phase: ReplicationPhase) => number | undefined,
    (value: number | undefined) => string]> = [
    ['peak msg/s (acks=all)', p => p.peak.messagesPerSecond, v => formatRate(v ?? 0)],
    ['peak MB/s', p => p.peak.megabytesPerSecond, v => (v ?? 0).toFixed(1)],
    ['produce p50 ms at peak', p => p.peak.requestLatencyMs.p50, ms],
    ['produce p99 ms at peak', p => p.peak.requestLatencyMs.p99, ms],
    [`produce p50 ms @ ${formatRate(result.rate)}/s`, p => p.latency?.produceLatencyMs.p50, ms],
    [`produce p99 ms @ ${formatRate(result.rate)}/s`, p => p.latency?.produceLatencyMs.p99, ms],
    [`e2e p50 ms @ ${formatRate(result.rate)}/s`, p => p.latency?.endToEndLatencyMs?.p50, ms],
    [`e2e p99 ms @ ${formatRate(result.rate)}/s`, p => p.latency?.endToEndLatencyMs?.p99, ms],
    ['broker CPU s per 1M msgs (3 brokers)', brokerCpuPerMillion, v => (v ?? 0).toFixed(1)],
  ]
  const ratio = (a: number | undefined, b: number | undefined): string =>
    a === undefined || b === undefined || a === 0 ? '-' : (b / a).toFixed(2)
  const lines = [table(['acks=all', 'RF=1', 'RF=3', 'RF=3 / RF=1'], rows.map(([label, pick,
    format]) => [label, format(pick(single)), format(pick(replicated)),
    ratio(pick(single), pick(replicated))]))]
  lines.push('', 'broker CPU seconds over each closed-loop phase (where the CPU goes):')
  lines.push(table(['phase', ...Object.keys(single.peakCpuSeconds), 'load generator'],
    result.phases.map(phase => [`RF=${phase.replicationFactor}`,
      ...Object.values(phase.peakCpuSeconds).map(value => value.toFixed(1)),
      phase.peakGeneratorCpuSeconds.toFixed(1)])))
  lines.push('', 'follower lag metrics, largest value sampled during the RF=3 phases:')
  const lag = Object.entries(result.lagMetrics)
  if (lag.length === 0) lines.push('  (none exported by this build)')
  for (const [series, value] of lag) lines.push(`  ${series}: ${value}`)
  return lines.join('\n')
}
