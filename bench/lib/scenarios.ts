/**
 * The load generator's scenarios (`npm run bench -- <scenario>`), each against the broker at
 * `options.bootstrap` with the lean client: `produce` (closed loop), `consume` (a produce
 * phase read back), `latency` (open loop at a rate) and `sweep` (latency at fractions of the
 * peak). bench/load.ts parses the options and reports; compare-kafka runs these same
 * functions against Apache Kafka and Tributary.
 */
import { execFile } from 'node:child_process'
import { readdir } from 'node:fs/promises'
import { promisify } from 'node:util'
import { KafkaClient } from '../../src/client/client.js'
import { KafkaClientError } from '../../src/client/errors.js'
import {
  CompressionCodec, lastOffsetOf, RECORDS_COUNT_OFFSET,
} from '../../src/records/batch-header.js'
import { splitBatches } from '../../src/records/batch.js'
import { buildRecordBatch } from '../../src/records/builder.js'
import { envName } from '../../src/config/load.js'
import { STEADY_LOAD_NODE_FLAGS } from '../../src/io/v8-tuning.js'
import {
  BIN, removeDataDir, startBroker, type BrokerProcess,
} from '../../test/support/broker-process.js'
import { produceWithKafkajs } from './kafkajs-producer.js'
import { runWithFranzGo } from './franz-go-run.js'
import { runWithLibrdkafka } from './librdkafka-run.js'
import { runAtRate, type RateRunResult } from './rate-run.js'
import { recordsPerBatch } from './stamped-batches.js'
import { measureRawLimit, scrapeFlushTotals, type RawLimit } from './raw-limit.js'
import {
  formatRate, latencyHistogram, percentilesMs, recordMs, Sampler, spectrumMs,
  type Percentiles, type Sample,
} from './report.js'

export interface Options {
  bootstrap: string
  spawn: boolean
  profile: boolean
  /** produce: tributary or kafkajs; latency: the load generator (ours, franz-go or librdkafka). */
  client: 'tributary' | 'kafkajs' | 'franz-go' | 'librdkafka'
  messageSize: number
  batchBytes: number
  lingerMs: number
  acks: number
  partitions: number
  producers: number
  inflight: number
  duration: number
  /** Closed-loop produce: stop after this many messages (or `duration`, whichever is first). */
  messages?: number
  warmup: number
  rate?: number
  rateFraction?: number
  fractions: number[]
  compression: string
  topic: string
  rawLimit: boolean
  /** Where the JSON and the charts go. */
  out: string
  /** With --spawn: the broker's tributary.debug.latency.sample.rate (0 = no breakdown). */
  sampleRate: number
  /** With --spawn: extra broker properties (name → value), passed as TRIBUTARY_* variables. */
  brokerConfig: Record<string, string>
  /** ab: the other build's bin/tributary.js, and how many pairs of runs. */
  baselineBin?: string
  pairs: number
  /** ab: node flags for the baseline's brokers (this build's are STEADY_LOAD_NODE_FLAGS). */
  baselineNodeFlags: string[]
  /** Replicas of each topic the bench creates (--replication-factor; 1 on one broker). */
  replicationFactor: number
  /** --cluster: etcd and three brokers started for the run (bench/lib/replication.ts). */
  cluster: boolean
  /** replication --compare-kafka: four clusters, Kafka's and ours (replication-compare.ts). */
  compareKafka: boolean
}

export interface Context {
  options: Options
  broker?: BrokerProcess
  topics: number
}

export interface ProduceResult {
  client: string
  messages: number
  bytes: number
  seconds: number
  messagesPerSecond: number
  megabytesPerSecond: number
  requestLatencyMs: Percentiles
  spectrum: Array<[number, number]>
  samples: Sample[]
  groupCommit?: { rounds: number, fsyncs: number, bytes: number, bytesPerFsync: number }
  rawLimit?: RawLimit & { ratio: number }
}

/**
 * The bound on outstanding requests per producer connection in fixed-rate runs: an open loop
 * must not stall on its own bound below the broker's, or it would measure itself.
 */
const OPEN_LOOP_INFLIGHT = 256

export const CODECS: Record<string, CompressionCodec> = {
  none: CompressionCodec.None, gzip: CompressionCodec.Gzip, snappy: CompressionCodec.Snappy,
  lz4: CompressionCodec.Lz4, zstd: CompressionCodec.Zstd,
}

/** How long a new topic may take to have a leader for every partition. */
const LEADERS_TIMEOUT_MS = 30_000

/**
 * A fresh topic per measured phase, so one phase's data never feeds another's reads. It is
 * ready once Metadata names a leader for every partition: Kafka's brokers learn a new topic
 * from the controller's log moments after CreateTopics answers. The phase before's topic is
 * deleted first (see retireTopic).
 */
async function freshTopic (context: Context, partitions: number): Promise<string> {
  const client = new KafkaClient({ bootstrap: context.options.bootstrap })
  const name = `${context.options.topic}-${context.topics + 1}`
  try {
    if (context.topics > 0) {
      await retireTopic(context, client, `${context.options.topic}-${context.topics}`)
    }
    context.topics++
    const replicationFactor = context.options.replicationFactor
    // min.insync.replicas=2 with three replicas: the durable setting Kafka's docs recommend.
    await client.createTopic(name, { partitions, replicationFactor,
      configs: replicationFactor > 1 ? { 'min.insync.replicas': '2' } : {} })
    const deadline = Date.now() + LEADERS_TIMEOUT_MS
    for (;;) {
      const topic = (await client.metadata([name])).topics.find(found => found.name === name)
      const led = topic?.partitions.filter(p => p.errorCode === 0 && p.leaderId >= 0).length
      // In a cluster another broker's Metadata may name a leader that has not yet created the
      // partition: ready once every leader answers ListOffsets for it.
      if (led === partitions && await everyLeaderHosts(client, name, partitions)) break
      if (Date.now() > deadline) {
        throw new Error(`topic ${name}: ${led ?? 0} of ${partitions} partitions have a leader ` +
          `after ${LEADERS_TIMEOUT_MS} ms`)
      }
      await new Promise(resolve => setTimeout(resolve, 100))
    }
  } finally {
    await client.close()
  }
  return name
}

/** How long a deleted topic's files may take to leave a spawned broker's data directory. */
const TOPIC_REMOVAL_TIMEOUT_MS = 60_000

/**
 * Deletes a finished phase's topic and, with a spawned broker, waits until its partition
 * directories are gone. A closed-loop peak leaves gigabytes in the page cache; kept, they push
 * every later phase's page cache into memory the machine has not touched before, and on a VM
 * whose host backs guest memory on first touch (this project's CI and bench machines) a write
 * there costs about ten times the CPU: 43 µs per 16 KiB instead of 4 once the page cache grew
 * past 3 GiB, measured with plain writeSync (bench/README.md). Freed, those pages are reused.
 */
async function retireTopic (context: Context, client: KafkaClient, topic: string):
Promise<void> {
  try {
    await client.deleteTopic(topic)
  } catch (error) {
    if (!(error instanceof KafkaClientError && error.errorName === 'UNKNOWN_TOPIC_OR_PARTITION')) {
      throw error
    }
  }
  const dataDir = context.broker?.dataDir
  if (dataDir === undefined) return
  const deadline = Date.now() + TOPIC_REMOVAL_TIMEOUT_MS
  while ((await readdir(dataDir)).some(entry => entry.startsWith(`${topic}-`))) {
    if (Date.now() > deadline) {
      throw new Error(`topic ${topic}: its files are still in ${dataDir} after ` +
        `${TOPIC_REMOVAL_TIMEOUT_MS} ms`)
    }
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

async function everyLeaderHosts (client: KafkaClient, topic: string, partitions: number):
Promise<boolean> {
  try {
    for (let partition = 0; partition < partitions; partition++) {
      await client.listOffsets(topic, partition, -1)
    }
    return true
  } catch {
    return false
  }
}

async function makeBatch (options: Options): Promise<Buffer> {
  const now = Date.now()
  const count = recordsPerBatch(options.messageSize, options.batchBytes)
  return buildRecordBatch(Array.from({ length: count },
    (_, i) => ({ value: Buffer.alloc(options.messageSize, i % 251) })),
  { compression: CODECS[options.compression] ?? CompressionCodec.None, timestampMs: now })
}

/** Closed loop: `producers` connections × `inflight` workers, each sending the same batch. */
export async function produce (context: Context): Promise<ProduceResult> {
  const { options } = context
  const topic = await freshTopic(context, options.partitions)
  const before = context.broker === undefined ? undefined
    : await scrapeFlushTotals(httpAddress(context.broker))
  const latency = latencyHistogram()
  const sampler = new Sampler(`produce (${options.client})`, options.duration)
  let messages = 0
  let bytes = 0
  const acknowledged = (latencyMs: number, count: number, size: number): void => {
    recordMs(latency, latencyMs)
    messages += count
    bytes += size
  }
  const started = performance.now()
  let claimed = 0
  // Each send claims its records first, so in-flight sends never overshoot --messages.
  const claim = (count: number): boolean => {
    if (options.messages !== undefined && claimed + count > options.messages) return false
    claimed += count
    return true
  }
  const records = recordsPerBatch(options.messageSize, options.batchBytes)
  let chunk: Buffer | undefined
  if (options.client === 'kafkajs') {
    await produceWithKafkajs({ ...options, topic, durationSeconds: options.duration,
      recordsPerSend: records, claim }, sampler, acknowledged)
  } else {
    chunk = await makeBatch(options)
    const batch = chunk
    const clients = Array.from({ length: options.producers },
      () => new KafkaClient({ bootstrap: options.bootstrap, inflightMax: options.inflight }))
    const deadline = started + options.duration * 1000
    let next = 0
    await Promise.all(clients.flatMap(client => Array.from({ length: options.inflight },
      async () => {
        while (performance.now() < deadline && claim(records)) {
          const partition = next++ % options.partitions
          const sent = performance.now()
          await client.produce(topic, partition, batch, { acks: options.acks })
          acknowledged(performance.now() - sent, records, batch.length)
          sampler.add(records, batch.length)
        }
      })))
    for (const client of clients) await client.close()
  }
  const seconds = (performance.now() - started) / 1000
  const result: ProduceResult = {
    client: options.client,
    messages,
    bytes,
    seconds,
    messagesPerSecond: messages / seconds,
    megabytesPerSecond: bytes / seconds / 1e6,
    requestLatencyMs: percentilesMs(latency),
    spectrum: spectrumMs(latency),
    samples: sampler.stop(),
  }
  if (context.broker !== undefined && before !== undefined) {
    const after = await scrapeFlushTotals(httpAddress(context.broker))
    const fsyncs = after.fsyncs - before.fsyncs
    const flushed = after.bytes - before.bytes
    const bytesPerFsync = fsyncs === 0 ? flushed : flushed / fsyncs
    result.groupCommit = { rounds: after.rounds - before.rounds, fsyncs, bytes: flushed,
      bytesPerFsync: Math.round(bytesPerFsync) }
    if (options.rawLimit && chunk !== undefined && flushed > 0) {
      const raw = measureRawLimit(context.broker.dataDir, flushed, bytesPerFsync,
        options.partitions, chunk)
      result.rawLimit = { ...raw, ratio: result.megabytesPerSecond / raw.megabytesPerSecond }
    }
  }
  return result
}

export interface ConsumeResult {
  produce: ProduceResult
  consume: { messages: number, bytes: number, seconds: number, messagesPerSecond: number,
    megabytesPerSecond: number, samples: Sample[] }
  consumeOverProduce: number
}

export async function consume (context: Context): Promise<ConsumeResult> {
  const { options } = context
  const produced = await produce(context)
  const topic = `${options.topic}-${context.topics}`
  const client = new KafkaClient({ bootstrap: options.bootstrap })
  await client.metadata([topic])
  const sampler = new Sampler('consume', Math.ceil(produced.seconds / 4))
  const started = performance.now()
  let messages = 0
  let bytes = 0
  await Promise.all(Array.from({ length: options.partitions }, async (_, partition) => {
    const end = (await client.listOffsets(topic, partition, -1)).offset
    let offset = 0
    while (offset < end) {
      const fetched = await client.fetch(topic, partition, offset,
        { maxBytes: 8 * 1024 * 1024, maxWaitMs: 100 })
      const records = fetched.records ?? Buffer.alloc(0)
      let count = 0
      let size = 0
      // Whole batches only: Kafka cuts a response at max_bytes, mid-batch, and the cut batch
      // comes again in the next fetch.
      for (const batch of splitBatches(records)) {
        count += records.readInt32BE(batch.position + RECORDS_COUNT_OFFSET)
        offset = lastOffsetOf(records, batch.position) + 1
        size += batch.size
      }
      messages += count
      bytes += size
      sampler.add(count, size)
    }
  }))
  const seconds = (performance.now() - started) / 1000
  const samples = sampler.stop()
  await client.close()
  const messagesPerSecond = messages / seconds
  return {
    produce: produced,
    consume: { messages, bytes, seconds, messagesPerSecond,
      megabytesPerSecond: bytes / seconds / 1e6, samples },
    consumeOverProduce: messagesPerSecond / produced.messagesPerSecond,
  }
}

export async function atRate (context: Context, rate: number, label: string):
Promise<RateRunResult> {
  const { options } = context
  const topic = await freshTopic(context, options.partitions)
  const run = options.client === 'franz-go' ? runWithFranzGo
    : options.client === 'librdkafka' ? runWithLibrdkafka : runAtRate
  // The phase before (a closed-loop peak writes gigabytes; relaxed mode leaves them dirty in
  // the page cache) must not be written back during this one's window: the kernel's writeback
  // stalls the broker's writes and would read as this rate's latency.
  const pageCacheFlushMs = context.broker === undefined
    ? undefined
    : await flushPageCache(context.broker.dataDir)
  const result = await run({
    bootstrap: options.bootstrap, topic, partitions: options.partitions,
    producers: options.producers, inflight: Math.max(options.inflight, OPEN_LOOP_INFLIGHT), rate,
    durationSeconds: options.duration, messageSize: options.messageSize,
    batchBytes: options.batchBytes, lingerMs: options.lingerMs, acks: options.acks,
    endToEnd: true, label,
    warmupSeconds: options.warmup,
    ...(context.broker === undefined ? {}
      : { debugUrl: `http://${httpAddress(context.broker)}/debug/latency` }),
  })
  return pageCacheFlushMs === undefined ? result : { ...result, pageCacheFlushMs }
}

/** Writes back the dirty pages of the data directory's filesystem (syncfs); its duration. */
async function flushPageCache (dataDir: string): Promise<number> {
  const started = performance.now()
  await runCommand('sync', ['-f', dataDir])
  return Math.round(performance.now() - started)
}

export async function latency (context: Context): Promise<Record<string, unknown>> {
  const { options } = context
  let peak: ProduceResult | undefined
  let rate = options.rate
  if (options.rateFraction !== undefined) {
    peak = await produce(context)
    rate = Math.round(peak.messagesPerSecond * options.rateFraction)
  }
  const client = options.client === 'franz-go' || options.client === 'librdkafka'
    ? ` (${options.client})` : ''
  const run = await atRate(context, rate ?? 100_000,
    `latency${client} @ ${formatRate(rate ?? 100_000)}`)
  return { peak, run }
}

export async function sweep (context: Context): Promise<Record<string, unknown>> {
  const peak = await produce(context)
  const runs: Array<{ fraction: number } & RateRunResult> = []
  for (const fraction of context.options.fractions) {
    const rate = Math.round(peak.messagesPerSecond * fraction)
    const label = `${Math.round(fraction * 100)}% of peak`
    runs.push({ fraction, ...await atRate(context, rate, label) })
  }
  return { peak, runs }
}

const runCommand = promisify(execFile)

export function httpAddress (broker: BrokerProcess): string {
  return `127.0.0.1:${broker.httpPort}`
}

/** The environment that gives a spawned broker the bench's sample rate and --broker-config. */
export function brokerEnv (options: Options): Record<string, string> {
  const env: Record<string, string> = {}
  if (options.sampleRate > 0) {
    env[envName('tributary.debug.latency.sample.rate')] = String(options.sampleRate)
  }
  for (const [name, value] of Object.entries(options.brokerConfig)) env[envName(name)] = value
  return env
}

export interface AbRun {
  variant: string
  pair: number
  peak: ProduceResult
  run: RateRunResult
}

/**
 * Paired A/B runs in one invocation, so both builds see the same machine state: `--pairs`
 * times, a fresh broker of each build (the order alternating: A B, B A, ...) gets a closed-loop
 * `produce` (its peak) and then a `latency` run at `--rate`. On a shared VM single runs vary
 * by more than most changes, so only ratios of medians over pairs are worth reading.
 */
export async function ab (context: Context): Promise<Record<string, unknown>> {
  const { options } = context
  if (options.baselineBin === undefined) throw new Error('ab needs --baseline-bin')
  const variants = [
    { name: 'baseline', bin: options.baselineBin, nodeArgs: options.baselineNodeFlags },
    { name: 'this build', bin: BIN, nodeArgs: STEADY_LOAD_NODE_FLAGS },
  ]
  const runs: AbRun[] = []
  for (let pair = 0; pair < options.pairs; pair++) {
    const order = pair % 2 === 0 ? variants : [...variants].reverse()
    for (const variant of order) {
      const broker = await startBroker({ bin: variant.bin, nodeArgs: variant.nodeArgs,
        env: brokerEnv(options),
        outputTailBytes: 64 * 1024 })
      try {
        const sub: Context = { options: { ...options, bootstrap: broker.bootstrap }, broker,
          topics: 0 }
        const peak = await produce(sub)
        const run = await atRate(sub, options.rate ?? 100_000,
          `${variant.name} @ ${formatRate(options.rate ?? 100_000)}`)
        runs.push({ variant: variant.name, pair, peak, run })
      } finally {
        await broker.stop()
        await removeDataDir(broker.dataDir)
      }
    }
  }
  return { runs, summary: abSummary(runs, variants.map(v => v.name)) }
}

export interface AbSummary {
  variant: string
  peakMessagesPerSecond: number
  produceP50: number
  produceP99: number
  endToEndP50: number
  endToEndP99: number
}

/** Medians over pairs, per variant. */
function abSummary (runs: readonly AbRun[], variants: readonly string[]): AbSummary[] {
  const median = (values: number[]): number => {
    const sorted = [...values].sort((a, b) => a - b)
    const middle = Math.floor(sorted.length / 2)
    return sorted.length % 2 === 1 ? sorted[middle] as number
      : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
  }
  return variants.map(variant => {
    const mine = runs.filter(run => run.variant === variant)
    return {
      variant,
      peakMessagesPerSecond: median(mine.map(r => r.peak.messagesPerSecond)),
      produceP50: median(mine.map(r => r.run.produceLatencyMs.p50)),
      produceP99: median(mine.map(r => r.run.produceLatencyMs.p99)),
      endToEndP50: median(mine.map(r => r.run.endToEndLatencyMs?.p50 ?? NaN)),
      endToEndP99: median(mine.map(r => r.run.endToEndLatencyMs?.p99 ?? NaN)),
    }
  })
}
