/**
 * The load generator (issue #6): drives any Kafka-compatible broker with our lean client,
 * building each record batch once and keeping many produce requests in flight.
 *
 *   npm run bench -- produce  [options]  produce throughput (messages/s, MB/s), request latency,
 *                                        and with --spawn the raw-disk limit of the same bytes
 *   npm run bench -- consume  [options]  produce a data set, then fetch it all back
 *   npm run bench -- latency  [options]  end-to-end latency at --rate, or at --rate-fraction of
 *                                        the peak measured first
 *   npm run bench -- sweep    [options]  the peak, then produce and end-to-end latency at each
 *                                        of --fractions of it
 *   npm run bench -- compare-kafka [options]  produce, consume and latency against Apache Kafka
 *                                        4.1 and Tributary, each flushed both ways, with ratios
 *                                        (bench/lib/compare-kafka.ts)
 *   npm run bench -- replication [options]  on a cluster it starts (etcd + 3 brokers): acks=all
 *                                        produce and end-to-end latency at replication factor 1
 *                                        and 3 in the same run, with ratios and each broker's CPU
 *                                        (bench/lib/replication.ts); with --compare-kafka
 *                                        the same on Apache Kafka with three nodes, each
 *                                        flushed both ways (bench/lib/replication-compare.ts)
 *
 * `--cluster` runs any scenario on etcd and three brokers started for the run, and
 * `--replication-factor N` sets the replicas of the topics the bench creates.
 *
 * `--bootstrap host:port` drives any broker; `--spawn` starts a fresh local Tributary for the
 * run (and `--profile` records its CPU profile). `--client kafkajs` runs the produce scenario
 * with kafkajs, as a labelled second client; `--client franz-go` runs the latency scenario with
 * the Go program's franz-go generator instead of ours (bench/lib/franz-go-run.ts), and
 * `--client librdkafka` with confluent-kafka's (bench/lib/librdkafka-run.ts). Results: a
 * summary table, a JSON file and SVG charts under bench/results/, each recording the machine it
 * ran on.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Command, InvalidArgumentError, Option } from 'commander'
import {
  makeDataDir, removeDataDir, REPO_ROOT, startBroker,
} from '../test/support/broker-process.js'
import { startCluster, type TestCluster } from '../test/support/cluster-process.js'
import { goToolchainWorks } from '../test/interop/go-build.js'
import { librdkafkaPython } from './lib/librdkafka-run.js'
import {
  replication, replicationTable, tributaryBrokers, type ReplicationResult,
} from './lib/replication.js'
import {
  replicationCompare, replicationCompareTable, type ReplicationCompareResult,
} from './lib/replication-compare.js'
import { latencyChart, throughputChart, type Series } from './lib/chart.js'
import { summariseProfile, type HotSpot } from './lib/cpu-profile.js'
import {
  missingSteadyLoadFlags, STEADY_LOAD_NODE_FLAGS, tuneV8ForSteadyLoad,
} from '../src/io/v8-tuning.js'
import { describeMachine, machineFacts } from './lib/machine.js'
import { describeNoise, probeNoise } from './lib/noise.js'
import { compareKafka, compareTable, type CompareResult } from './lib/compare-kafka.js'
import type { RateRunResult } from './lib/rate-run.js'
import { formatRate, ms, table, type Sample } from './lib/report.js'
import {
  ab, brokerEnv, CODECS, consume, latency, produce, sweep, type AbRun, type AbSummary,
  type Context, type Options, type ProduceResult,
} from './lib/scenarios.js'
import { stallTable, stageTable } from './lib/breakdown.js'

function produceRow (label: string, result: ProduceResult): string[] {
  return [label, formatRate(result.messagesPerSecond), result.megabytesPerSecond.toFixed(1),
    ms(result.requestLatencyMs.p50), ms(result.requestLatencyMs.p99),
    ms(result.requestLatencyMs.p999), ms(result.requestLatencyMs.max)]
}

function rateRow (label: string, run: RateRunResult): string[] {
  return [label, formatRate(run.targetRate), formatRate(run.achievedRate),
    String(run.recordsPerBatch), ms(run.produceLatencyMs.p50), ms(run.produceLatencyMs.p99),
    ms(run.endToEndLatencyMs?.p50), ms(run.endToEndLatencyMs?.p99),
    ms(run.endToEndLatencyMs?.p999), ms(run.endToEndLatencyMs?.max),
    run.saturated ? 'saturated' : 'ok']
}

const PRODUCE_HEADER = ['run', 'msg/s', 'MB/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms']
const RATE_HEADER = ['run', 'target/s', 'acked/s', 'rec/batch', 'produce p50', 'produce p99',
  'e2e p50', 'e2e p99', 'e2e p99.9', 'e2e max', 'state']

function heading (scenario: string, options: Options): string {
  return `${scenario}: ${options.messageSize} B messages, ${options.batchBytes} B ` +
    `batches, acks=${options.acks}, ${options.partitions} partitions, ${options.producers}×` +
    `${options.inflight} in flight, ${options.compression}, ${options.duration} s per phase`
}

/** The summary table and the charts of one result. */
function summarise (scenario: string, result: Record<string, unknown>, options: Options):
  { text: string, throughput?: Series[], latency?: Series[] } {
  if (scenario === 'compare-kafka') {
    return { text: `${heading(scenario, options)}\n\n` +
      compareTable(result as unknown as CompareResult) }
  }
  if (scenario === 'replication' && options.compareKafka) {
    return { text: `${heading(scenario, options)}, 3 brokers per cluster\n\n` +
      replicationCompareTable(result as unknown as ReplicationCompareResult) }
  }
  if (scenario === 'replication') {
    return { text: `${heading(scenario, options)}, 3 brokers\n\n` +
      replicationTable(result as unknown as ReplicationResult) }
  }
  const lines: string[] = []
  const throughput: Series[] = []
  const latencySeries: Series[] = []
  const peak = (scenario === 'produce' ? result : result.peak ?? result.produce) as
    ProduceResult | undefined
  if (peak !== undefined) {
    lines.push(table(PRODUCE_HEADER, [produceRow(`produce (${peak.client})`, peak)]))
    throughput.push({ label: `produce (${peak.client})`,
      points: peak.samples.map(s => [s.second, s.messages]) })
    latencySeries.push({ label: 'produce request (closed loop)', points: peak.spectrum })
    if (peak.groupCommit !== undefined) {
      lines.push(`group commit: ${peak.groupCommit.fsyncs} fdatasyncs in ` +
        `${peak.groupCommit.rounds} rounds, ` +
        `${(peak.groupCommit.bytesPerFsync / 1024).toFixed(0)} KiB per fdatasync`)
    }
    if (peak.rawLimit !== undefined) {
      lines.push(`raw limit (same bytes, plain loop, one fdatasync per ` +
        `${(peak.rawLimit.bytesPerFsync / 1024).toFixed(0)} KiB): ` +
        `${peak.rawLimit.megabytesPerSecond.toFixed(1)} MB/s; broker/raw = ` +
        `${peak.rawLimit.ratio.toFixed(2)}`)
    }
  }
  const consumed = result.consume as { messagesPerSecond: number, megabytesPerSecond: number,
    samples: Sample[] } | undefined
  if (consumed !== undefined) {
    lines.push(`consume: ${formatRate(consumed.messagesPerSecond)} msg/s, ` +
      `${consumed.megabytesPerSecond.toFixed(1)} MB/s, ` +
      `${(result.consumeOverProduce as number).toFixed(2)}× produce`)
    throughput.push({ label: 'consume', points: consumed.samples.map(s => [s.second, s.messages]) })
  }
  const runs: Array<{ label: string, run: RateRunResult }> = []
  if (scenario === 'ab') {
    for (const entry of result.runs as AbRun[]) {
      runs.push({ label: `${entry.variant} #${entry.pair + 1}`, run: entry.run })
    }
  }
  if (result.run !== undefined) {
    const run = result.run as RateRunResult
    const client = run.client === undefined ? '' : ` (${run.client})`
    runs.push({ label: `latency${client} @ ${formatRate(run.targetRate)}/s`, run })
  }
  const sweepRuns = scenario === 'sweep' ? result.runs ?? [] : []
  for (const run of sweepRuns as Array<{ fraction: number } & RateRunResult>) {
    runs.push({ label: `${Math.round(run.fraction * 100)}% of peak`, run })
  }
  if (runs.length > 0) {
    lines.push(table(RATE_HEADER, runs.map(({ label, run }) => rateRow(label, run))))
    const flushes = runs.filter(({ run }) => run.pageCacheFlushMs !== undefined)
    if (flushes.length > 0) {
      lines.push('dirty page cache written back (sync -f) before each phase: ' +
        flushes.map(({ label, run }) => `${label} ${run.pageCacheFlushMs ?? 0} ms`).join(', '))
    }
    for (const { label, run } of runs) {
      if (run.spectrum.endToEnd !== undefined) {
        latencySeries.push({ label: `end-to-end, ${label}`, points: run.spectrum.endToEnd })
      }
    }
    if (runs.length === 1) {
      latencySeries.push({ label: `produce request, ${runs[0]?.label}`,
        points: runs[0]?.run.spectrum.produce ?? [] })
    }
    lines.push('', 'stalls over each measured window (event-loop delay; GC pauses):',
      stallTable(runs))
    for (const { label, run } of runs) {
      if (run.broker !== undefined) lines.push('', `${label}: ${stageTable(run)}`)
    }
  }
  if (scenario === 'ab') lines.push('', abTable(result.summary as AbSummary[]))
  lines.unshift(heading(scenario, options))
  return {
    text: lines.join('\n'),
    ...(throughput.length > 0 ? { throughput } : {}),
    ...(latencySeries.some(s => s.points.length > 0) ? { latency: latencySeries } : {}),
  }
}

/** Medians per build over the pairs, and this build over the baseline. */
function abTable (summary: readonly AbSummary[]): string {
  const [base, mine] = summary
  if (base === undefined || mine === undefined) return ''
  const row = (label: string, pick: (s: AbSummary) => number, format: (v: number) => string) =>
    [label, format(pick(base)), format(pick(mine)), (pick(mine) / pick(base)).toFixed(2)]
  return table(['median over pairs', base.variant, mine.variant, 'ratio'], [
    row('peak msg/s', s => s.peakMessagesPerSecond, formatRate),
    row('produce p50 ms', s => s.produceP50, ms),
    row('produce p99 ms', s => s.produceP99, ms),
    row('e2e p50 ms', s => s.endToEndP50, ms),
    row('e2e p99 ms', s => s.endToEndP99, ms),
  ])
}

async function latestProfile (directory: string): Promise<string | undefined> {
  const files = (await readdir(directory).catch(() => [] as string[]))
    .filter(name => name.endsWith('.cpuprofile')).sort()
  const last = files[files.length - 1]
  return last === undefined ? undefined : path.join(directory, last)
}

function positiveInteger (value: string): number {
  const parsed = Number(value)
  if (!Number.isInteger(parsed) || parsed < 1) {
    throw new InvalidArgumentError('must be a positive integer')
  }
  return parsed
}

function positiveNumber (value: string): number {
  const parsed = Number(value)
  if (!Number.isFinite(parsed) || parsed <= 0) throw new InvalidArgumentError('must be above 0')
  return parsed
}

function nonNegativeNumber (value: string): number {
  const parsed = Number(value)
  if (!Number.isFinite(parsed) || parsed < 0) throw new InvalidArgumentError('must be 0 or more')
  return parsed
}

function fraction (value: string): number {
  const parsed = Number(value)
  if (!Number.isFinite(parsed) || parsed < 0 || parsed > 1) {
    throw new InvalidArgumentError('must be a fraction in [0, 1]')
  }
  return parsed
}

function propertyList (value: string, previous: Record<string, string>): Record<string, string> {
  const at = value.indexOf('=')
  if (at <= 0) throw new InvalidArgumentError('must be name=value')
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) }
}

function fractionList (value: string): number[] {
  const fractions = value.split(',').map(Number)
  if (fractions.some(f => !Number.isFinite(f) || f <= 0 || f > 1)) {
    throw new InvalidArgumentError('must be fractions in (0, 1], comma-separated')
  }
  return fractions
}

const SCENARIOS = ['produce', 'consume', 'latency', 'sweep', 'compare-kafka', 'ab', 'replication']

function parseOptions (): { scenario: string, options: Options } {
  const program = new Command('bench')
    .argument('<scenario>',
      'produce | consume | latency | sweep | compare-kafka | compaction | ab | replication')
    .option('--bootstrap <address>', 'broker to drive', '127.0.0.1:9092')
    .option('--spawn', 'start a fresh local broker for the run', false)
    .option('--cluster', 'start etcd and three brokers for the run (replication: always)', false)
    .option('--replication-factor <count>', 'replicas of each topic the bench creates',
      positiveInteger, 1)
    .option('--compare-kafka', 'replication: also on three-node Apache Kafka clusters, each ' +
      'side flushed both ways, in the same run', false)
    .option('--profile', 'with --spawn: record the broker CPU profile (node --cpu-prof)', false)
    .addOption(new Option('--client <client>', 'produce: the client (kafkajs as a labelled ' +
      'second one); latency: the load generator (franz-go: the Go program in test/interop/go; ' +
      'librdkafka: test/interop/librdkafka_latency.py on confluent-kafka)')
      .choices(['tributary', 'kafkajs', 'franz-go', 'librdkafka']).default('tributary'))
    .option('--message-size <bytes>', 'record value size', positiveInteger, 100)
    .option('--linger-ms <ms>', 'fixed-rate runs: a batch is sent this long after its first ' +
      'record if not full (Kafka 4.0\'s linger.ms default, KIP-1030)', nonNegativeNumber, 5)
    .option('--batch-bytes <bytes>', 'record batch size (a full batch)',
      positiveInteger, 16384)
    .addOption(new Option('--acks <acks>', 'acks').choices(['-1', '1', '0']).default('-1'))
    .option('--partitions <count>', 'partitions', positiveInteger, 4)
    .option('--producers <count>', 'producer connections', positiveInteger, 2)
    .option('--inflight <count>', 'closed-loop requests in flight per producer connection',
      positiveInteger, 16)
    .option('--duration <seconds>', 'seconds per measured phase', positiveNumber, 10)
    .option('--messages <count>', 'produce: stop after this many messages (whole batches; ' +
      '--duration still caps the phase)', positiveInteger)
    .option('--warmup <seconds>', 'fixed-rate runs: seconds at the rate before measuring ' +
      '(compare-kafka: also seconds of closed-loop produce on each fresh broker)',
      nonNegativeNumber, 2)
    .option('--rate <messages>', 'latency: messages per second', positiveNumber)
    .option('--rate-fraction <fraction>', 'latency: this fraction of the peak measured first ' +
      '(compare-kafka: of the lowest of its four peaks; default 0.25 there)',
      positiveNumber)
    .option('--fractions <list>', 'sweep: fractions of the peak', fractionList,
      [0.1, 0.25, 0.5, 0.75, 0.9])
    .addOption(new Option('--compression <codec>', 'compression').choices(Object.keys(CODECS))
      .default('none'))
    .option('--topic <prefix>', 'topic name prefix', `bench-${Date.now()}`)
    .option('--no-raw-limit', 'with --spawn: skip the raw-disk comparison')
    .option('--sample-rate <fraction>', 'with --spawn and in ab: the broker\'s ' +
      'tributary.debug.latency.sample.rate, for the per-stage breakdown (0: none)',
      fraction, 0.05)
    .option('--broker-config <name=value...>', 'with --spawn and in ab: broker properties ' +
      '(e.g. tributary.fsync.before.ack=false)', propertyList, {})
    .option('--baseline-bin <path>', 'ab: the other build\'s bin/tributary.js')
    .option('--baseline-node-flags <flags>', 'ab: node flags for the other build\'s brokers, ' +
      `space-separated ('' for none; default this build's: ${STEADY_LOAD_NODE_FLAGS.join(' ')})`)
    .option('--pairs <count>', 'ab: pairs of runs (baseline and this build, order alternating)',
      positiveInteger, 3)
    .option('--out <dir>', 'directory for the JSON and the charts',
      path.join(REPO_ROOT, 'bench/results'))
  program.parse()
  const raw = program.opts()
  const scenario = program.args[0] ?? ''
  if (!SCENARIOS.includes(scenario)) {
    program.error(`bench: unknown scenario "${scenario}" (${SCENARIOS.join(', ')})`)
  }
  if (scenario === 'compare-kafka' && (raw.spawn === true || raw.profile === true ||
    program.getOptionValueSource('bootstrap') === 'cli')) {
    program.error('bench: compare-kafka starts its own brokers; drop --spawn, --profile and ' +
      '--bootstrap')
  }
  if (raw.compareKafka === true && (scenario !== 'replication' || raw.spawn === true ||
    program.getOptionValueSource('bootstrap') === 'cli')) {
    program.error('bench: --compare-kafka is a replication option, and it starts its own ' +
      'clusters; drop --spawn and --bootstrap')
  }
  if (raw.client === 'kafkajs' && scenario !== 'produce') {
    program.error('bench: --client kafkajs runs the produce scenario only')
  }
  if ((raw.client === 'franz-go' || raw.client === 'librdkafka') && (scenario !== 'latency' ||
    raw.rateFraction !== undefined || raw.cluster === true)) {
    program.error(`bench: --client ${String(raw.client)} runs the latency scenario at --rate on ` +
      'one broker')
  }
  if (raw.client === 'librdkafka' && librdkafkaPython() === undefined) {
    program.error('bench: --client librdkafka needs python3 with confluent-kafka ' +
      '(pip install confluent-kafka)')
  }
  if (raw.client === 'franz-go' && !goToolchainWorks()) {
    program.error('bench: --client franz-go needs Go (the go command) to build test/interop/go')
  }
  if (scenario !== 'produce' && raw.compression !== 'none') {
    program.error('bench: latency stamps need uncompressed batches; use --compression none')
  }
  if (raw.profile === true && raw.spawn !== true) program.error('bench: --profile needs --spawn')
  const cluster = raw.cluster === true || scenario === 'replication'
  if (cluster && (raw.spawn === true || scenario === 'ab' || scenario === 'compare-kafka' ||
    program.getOptionValueSource('bootstrap') === 'cli')) {
    program.error('bench: --cluster (and replication) starts its own brokers; drop --spawn and ' +
      '--bootstrap, and it does not run ab or compare-kafka')
  }
  if (raw.replicationFactor > (cluster ? 3 : 1) && program.getOptionValueSource('bootstrap') !==
    'cli') {
    program.error('bench: --replication-factor above 1 needs --cluster (at most 3) or a ' +
      '--bootstrap cluster')
  }
  if (scenario === 'ab' && (raw.baselineBin === undefined || raw.spawn === true)) {
    program.error('bench: ab starts its own brokers from --baseline-bin and this build; ' +
      'give --baseline-bin and drop --spawn')
  }
  return {
    scenario,
    options: {
      bootstrap: raw.bootstrap, spawn: raw.spawn, profile: raw.profile, client: raw.client,
      messageSize: raw.messageSize, batchBytes: raw.batchBytes, lingerMs: raw.lingerMs,
      acks: Number(raw.acks),
      partitions: raw.partitions, producers: raw.producers,
      inflight: raw.inflight,
      duration: raw.duration, messages: raw.messages, warmup: raw.warmup, rate: raw.rate,
      rateFraction: raw.rateFraction,
      fractions: raw.fractions, compression: raw.compression, topic: raw.topic,
      rawLimit: raw.rawLimit, out: path.resolve(raw.out),
      sampleRate: raw.sampleRate, brokerConfig: raw.brokerConfig, pairs: raw.pairs,
      replicationFactor: raw.replicationFactor, cluster,
      compareKafka: raw.compareKafka === true,
      ...(raw.baselineBin === undefined ? {} : { baselineBin: path.resolve(raw.baselineBin) }),
      baselineNodeFlags: raw.baselineNodeFlags === undefined ? [...STEADY_LOAD_NODE_FLAGS]
        : String(raw.baselineNodeFlags).split(/\s+/).filter(flag => flag !== ''),
    },
  }
}

async function main (): Promise<void> {
  const { scenario, options } = parseOptions()
  // The generator's mark-compacts stall its schedule and read as broker latency.
  tuneV8ForSteadyLoad()
  const missingFlags = missingSteadyLoadFlags()
  if (missingFlags.length > 0) {
    console.error(`bench: warning: the generator's node runs without ${missingFlags.join(' ')} ` +
      '(npm run bench passes it): its own GC storms will read as broker latency')
  }
  const directory = options.out
  await mkdir(directory, { recursive: true })
  const profileDir = options.profile ? await makeDataDir('tributary-profile-') : undefined
  const broker = options.spawn
    ? await startBroker({
      nodeArgs: [...STEADY_LOAD_NODE_FLAGS,
        ...profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir]],
      env: brokerEnv(options),
    })
    : undefined
  if (broker !== undefined) options.bootstrap = broker.bootstrap
  // Cluster mode: broker.session.timeout.ms as Kafka's default; the broker properties apply.
  const cluster: TestCluster | undefined = options.cluster && !options.compareKafka
    ? await startCluster(3, 9_000, brokerEnv(options))
    : undefined
  if (cluster !== undefined) {
    options.bootstrap = [...cluster.brokers.values()].map(b => b.bootstrap).join(',')
  }
  const context: Context = { options, topics: 0, ...(broker === undefined ? {} : { broker }) }
  const machine = await machineFacts(broker?.dataDir ?? os.tmpdir())
  const noise = await probeNoise(broker?.dataDir ?? os.tmpdir())
  let result: Record<string, unknown>
  let hotSpots: HotSpot[] | undefined
  try {
    const scenarios = { produce, consume, latency, sweep, ab,
      'compare-kafka': async (context: Context) => compareKafka(context.options),
      replication: async (context: Context) => options.compareKafka
        ? replicationCompare(context.options)
        : replication(context, tributaryBrokers(cluster as TestCluster)) } as
      Record<string, (context: Context) => Promise<object>>
    result = await (scenarios[scenario] as (context: Context) => Promise<object>)(context) as
      Record<string, unknown>
  } finally {
    if (broker !== undefined) {
      await broker.stop()
      await removeDataDir(broker.dataDir)
    }
    await cluster?.stop()
  }
  if (profileDir !== undefined) {
    const file = await latestProfile(profileDir)
    if (file !== undefined) hotSpots = await summariseProfile(file)
    await removeDataDir(profileDir)
  }
  const at = new Date().toISOString()
  const name = `${scenario}-${at.replace(/[:.]/g, '-')}`
  const summary = summarise(scenario, result, options)
  const report = { scenario, options, machine, noise, at, result,
    ...(hotSpots ? { hotSpots } : {}) }
  await writeFile(path.join(directory, `${name}.json`), JSON.stringify(report, null, 2))
  const shown = (file: string): string => path.relative(process.cwd(), path.join(directory, file))
  const written = [shown(`${name}.json`)]
  const title = `${scenario}: ${options.messageSize} B, acks=${options.acks}, ` +
    `${options.partitions} partitions (${machine.cpus} CPUs)`
  if (summary.throughput !== undefined) {
    await writeFile(path.join(directory, `${name}-throughput.svg`),
      throughputChart(`${title}: throughput`, summary.throughput))
    written.push(shown(`${name}-throughput.svg`))
  }
  if (summary.latency !== undefined) {
    await writeFile(path.join(directory, `${name}-latency.svg`),
      latencyChart(`${title}: latency distribution`, summary.latency))
    written.push(shown(`${name}-latency.svg`))
  }
  console.log(summary.text)
  if (hotSpots !== undefined) {
    console.log('\nbroker CPU profile, self time as a share of busy time:')
    console.log(table(['function', 'location', '%'], hotSpots.slice(0, 15)
      .map(spot => [spot.function, spot.location, spot.selfPercent.toFixed(1)])))
  }
  console.log(`\nmachine: ${describeMachine(machine)}`)
  console.log(`before the run: ${describeNoise(noise)}`)
  console.log(`load average after the run (1, 5, 15 min): ` +
    os.loadavg().map(value => value.toFixed(2)).join(', '))
  console.log(`results: ${written.join(', ')}`)
}

try {
  // The compaction scenario runs the storage engine in-process (bench/compaction.ts).
  if (process.argv[2] === 'compaction') {
    await (await import('./compaction.js')).runCompactionBench(process.argv.slice(3))
  } else {
    await main()
  }
} catch (error) {
  // One readable line, not a stack: a refused connection or a broker error is input, not a bug.
  console.error(`bench: ${error instanceof Error ? error.message : String(error)}`)
  process.exitCode = 1
}
