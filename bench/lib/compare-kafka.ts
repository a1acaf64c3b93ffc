/**
 * `npm run bench -- compare-kafka`: the produce, consume and latency scenarios, with the same
 * client (the lean client) and the same options, against Apache Kafka 4.1 (the reference from
 * test/reference/kafka.ts) and against Tributary in one run, and the ratio of each result.
 *
 * Like is compared with like, in two pairs:
 * - no fsync before the acknowledgement: Kafka with its defaults (log.flush.interval.messages
 *   is Long.MAX_VALUE: the page cache and replication are its durability) and Tributary with
 *   `tributary.fsync.before.ack=false` (the same Kafka flush settings decide when to fsync);
 * - fsync before the acknowledgement: Kafka with `log.flush.interval.messages=1` (the append
 *   path flushes the log in the request handler before the produce is answered) and Tributary
 *   with its default (group commit).
 *
 * Every phase runs on a freshly started broker after `--warmup` seconds of unmeasured produce.
 * First each broker's produce peak (closed loop, `--duration` s), then consume: the first
 * READ_BACK_MESSAGES records it wrote, fetched again and again for `--duration` s, so every
 * broker serves the same data set (bench/lib/read-back.ts); then each broker's latency run
 * at one rate for all: `--rate`, or
 * `--rate-fraction` (default 0.25) of the lowest of the four peaks, so that every broker is
 * offered a load it can carry.
 */
import {
  removeDataDir, startBroker,
} from '../../test/support/broker-process.js'
import { KAFKA_VERSION, startKafka } from '../../test/reference/kafka.js'
import type { RateRunResult } from './rate-run.js'
import { readBack, type ReadBackResult } from './read-back.js'
import { formatRate } from './report.js'
import { atRate, produce, type Context, type Options, type ProduceResult } from './scenarios.js'

type TargetKey = 'kafka' | 'tributary-relaxed' | 'kafka-flush' | 'tributary'

interface Target {
  key: TargetKey
  label: string
  start: () => Promise<{ bootstrap: string, stop: () => Promise<void> }>
}

/** The JVM heap of the reference broker (Kafka's scripts default to 1 GiB; the VM is shared). */
const KAFKA_HEAP_MB = 512
const DEFAULT_RATE_FRACTION = 0.25
/**
 * The consume data set: 100,000 records (11 MB of 100 B records) is what even Kafka with a
 * flush per message produced in 5 s here, so every broker reads back the same set.
 */
export const READ_BACK_MESSAGES = 100_000

function kafka (key: TargetKey, label: string, config: Record<string, string>): Target {
  return {
    key,
    label,
    start: async () => {
      const broker = await startKafka({ config, heapMb: KAFKA_HEAP_MB })
      return { bootstrap: broker.bootstrap, stop: broker.stop }
    },
  }
}

function tributary (key: TargetKey, label: string, env: Record<string, string>): Target {
  return {
    key,
    label,
    start: async () => {
      const broker = await startBroker({ env })
      return {
        bootstrap: broker.bootstrap,
        stop: async () => {
          await broker.stop()
          await removeDataDir(broker.dataDir)
        },
      }
    },
  }
}

export const TARGETS: Target[] = [
  kafka('kafka', `Kafka ${KAFKA_VERSION} defaults`, {}),
  tributary('tributary-relaxed', 'Tributary relaxed',
    { TRIBUTARY_TRIBUTARY_FSYNC_BEFORE_ACK: 'false' }),
  kafka('kafka-flush', 'Kafka flush.messages=1', { 'log.flush.interval.messages': '1' }),
  tributary('tributary', 'Tributary default', {}),
]

/** The two like-with-like pairs: [Kafka, Tributary]. */
const PAIRS: Array<{ title: string, kafka: TargetKey, tributary: TargetKey }> = [
  { title: 'no fsync before ack', kafka: 'kafka', tributary: 'tributary-relaxed' },
  { title: 'fsync before ack', kafka: 'kafka-flush', tributary: 'tributary' },
]

export interface TargetResult {
  key: TargetKey
  label: string
  produce: ProduceResult
  consume: ReadBackResult
  latency?: RateRunResult
}

export interface CompareResult {
  rate: number
  rateSource: string
  targets: TargetResult[]
}

async function onFreshBroker<T> (target: Target, options: Options,
  phase: (context: Context) => Promise<T>): Promise<T> {
  const broker = await target.start()
  try {
    return await phase({ options: { ...options, bootstrap: broker.bootstrap, rawLimit: false },
      topics: 0 })
  } finally {
    await broker.stop()
  }
}

/**
 * `--warmup` seconds of closed-loop produce, not measured, before the measured phases: a
 * fresh JVM interprets Kafka's code for its first seconds (Kafka at 1 s phases measured a tenth
 * of its warm rate here), and Node's JIT warms Tributary the same way.
 */
async function warmedUp<T> (context: Context, phase: (context: Context) => Promise<T>):
  Promise<T> {
  const { options } = context
  if (options.warmup > 0) {
    const warming: Context = { ...context,
      options: { ...options, duration: options.warmup, messages: undefined } }
    await produce(warming)
    context.topics = warming.topics
  }
  return phase(context)
}

/** The produce peak, then the first READ_BACK_MESSAGES of what it wrote, read repeatedly. */
async function produceAndConsume (context: Context):
  Promise<{ produce: ProduceResult, consume: ReadBackResult }> {
  const { options } = context
  const produced = await produce(context)
  const topic = `${options.topic}-${context.topics}`
  const consumed = await readBack(options.bootstrap, topic, options.partitions,
    Math.min(READ_BACK_MESSAGES, produced.messages), options.duration)
  return { produce: produced, consume: consumed }
}

export async function compareKafka (options: Options): Promise<CompareResult> {
  const targets: TargetResult[] = []
  for (const target of TARGETS) {
    console.log(`compare-kafka: ${target.label}: produce and consume`)
    targets.push({ key: target.key, label: target.label,
      ...await onFreshBroker(target, options, context => warmedUp(context, produceAndConsume)) })
  }
  const lowest = Math.min(...targets.map(target => target.produce.messagesPerSecond))
  const fraction = options.rateFraction ?? DEFAULT_RATE_FRACTION
  const rate = options.rate ?? Math.max(1, Math.round(lowest * fraction))
  const rateSource = options.rate !== undefined ? '--rate'
    : `${Math.round(fraction * 100)} % of the lowest peak (${formatRate(lowest)} msg/s)`
  for (const [index, target] of TARGETS.entries()) {
    console.log(`compare-kafka: ${target.label}: latency at ${formatRate(rate)} msg/s`)
    const result = targets[index] as TargetResult
    result.latency = await onFreshBroker(target, options, context => warmedUp(context,
      warm => atRate(warm, rate, `${target.label} @ ${formatRate(rate)}`)))
  }
  return { rate, rateSource, targets }
}

interface Metric {
  name: string
  value: (target: TargetResult) => number | undefined
  /** The number as shown. */
  show: (value: number) => string
}

function milliseconds (value: number): string {
  return value >= 100 ? value.toFixed(0) : value.toFixed(2)
}

const METRICS: Metric[] = [
  { name: 'produce msg/s', value: t => t.produce.messagesPerSecond, show: formatRate },
  { name: 'produce MB/s', value: t => t.produce.megabytesPerSecond, show: v => v.toFixed(1) },
  { name: 'produce request p50 ms (closed loop)', value: t => t.produce.requestLatencyMs.p50,
    show: milliseconds },
  { name: 'produce request p99 ms (closed loop)', value: t => t.produce.requestLatencyMs.p99,
    show: milliseconds },
  { name: 'consume data set, messages', value: t => t.consume.dataSetMessages,
    show: formatRate },
  { name: 'consume msg/s', value: t => t.consume.messagesPerSecond, show: formatRate },
  { name: 'consume MB/s', value: t => t.consume.megabytesPerSecond, show: v => v.toFixed(1) },
  { name: 'latency run: acknowledged msg/s', value: t => t.latency?.achievedRate,
    show: formatRate },
  { name: 'latency run: produce p50 ms', value: t => t.latency?.produceLatencyMs.p50,
    show: milliseconds },
  { name: 'latency run: produce p99 ms', value: t => t.latency?.produceLatencyMs.p99,
    show: milliseconds },
  { name: 'latency run: end-to-end p50 ms', value: t => t.latency?.endToEndLatencyMs?.p50,
    show: milliseconds },
  { name: 'latency run: end-to-end p99 ms', value: t => t.latency?.endToEndLatencyMs?.p99,
    show: milliseconds },
  { name: 'latency run: end-to-end p99.9 ms', value: t => t.latency?.endToEndLatencyMs?.p999,
    show: milliseconds },
]

function cell (metric: Metric, target: TargetResult | undefined): string {
  const value = target === undefined ? undefined : metric.value(target)
  if (value === undefined) return '-'
  const saturated = metric.name.includes('acknowledged') && target?.latency?.saturated === true
  return saturated ? `${metric.show(value)} (saturated)` : metric.show(value)
}

function ratio (metric: Metric, kafkaSide: TargetResult | undefined,
  tributarySide: TargetResult | undefined): string {
  const k = kafkaSide === undefined ? undefined : metric.value(kafkaSide)
  const t = tributarySide === undefined ? undefined : metric.value(tributarySide)
  if (k === undefined || t === undefined || k === 0) return '-'
  return `${(t / k).toFixed(2)}`
}

/** The comparison as a Markdown table (bench/README.md shows it as printed). */
export function compareTable (result: CompareResult): string {
  const find = (key: TargetKey): TargetResult | undefined =>
    result.targets.find(target => target.key === key)
  const header = ['', ...PAIRS.flatMap(pair => [find(pair.kafka)?.label ?? pair.kafka,
    find(pair.tributary)?.label ?? pair.tributary, `Tributary/Kafka (${pair.title})`])]
  const rows = METRICS.map(metric => [metric.name, ...PAIRS.flatMap(pair => [
    cell(metric, find(pair.kafka)), cell(metric, find(pair.tributary)),
    ratio(metric, find(pair.kafka), find(pair.tributary))])])
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`
  return [line(header), line(header.map((_, i) => i === 0 ? '---' : '---:')), ...rows.map(line),
    '',
    `Latency runs at ${formatRate(result.rate)} msg/s (${result.rateSource}). Ratios are ` +
    'Tributary / Kafka: above 1 is better for msg/s and MB/s, below 1 is better for latency.',
  ].join('\n')
}
