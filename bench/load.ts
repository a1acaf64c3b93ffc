/**
 * The load generator (issue #6): drives any Kafka-compatible broker with our lean client,
 * building each record batch once and keeping many produce requests in flight.
 *
 *   npm run bench -- produce  [options]   produce throughput (messages/s, MB/s)
 *   npm run bench -- consume  [options]   produce a data set, then fetch it all back
 *   npm run bench -- latency  [options]   end-to-end latency at a fixed rate (HdrHistogram)
 *
 * Options: --bootstrap host:port | --spawn (a fresh local broker), --message-size, --batch-bytes,
 * --acks, --partitions, --producers, --inflight, --duration (s), --rate (messages/s, latency),
 * --compression none|gzip|snappy|lz4|zstd. Results: a summary table, a JSON file and an SVG
 * chart under bench/results/. Every result records the machine it ran on.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Command } from 'commander'
import hdr from 'hdr-histogram-js'
import { KafkaClient } from '../src/client/client.js'
import { CompressionCodec } from '../src/records/batch-header.js'
import { splitBatches } from '../src/records/batch.js'
import { buildRecordBatch } from '../src/records/builder.js'
import { removeDataDir, REPO_ROOT, startBroker } from '../test/support/broker-process.js'

interface Options {
  bootstrap: string
  spawn: boolean
  messageSize: number
  batchBytes: number
  acks: number
  partitions: number
  producers: number
  inflight: number
  duration: number
  rate: number
  compression: string
  topic: string
}

interface Sample { second: number, messages: number, bytes: number }

const CODECS: Record<string, CompressionCodec> = {
  none: CompressionCodec.None, gzip: CompressionCodec.Gzip, snappy: CompressionCodec.Snappy,
  lz4: CompressionCodec.Lz4, zstd: CompressionCodec.Zstd,
}

function machine (): Record<string, unknown> {
  return {
    cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGiB: os.totalmem() / 2 ** 30,
    node: process.version, platform: `${os.platform()} ${os.release()}`, tmpdir: os.tmpdir(),
  }
}

function progress (text: string): void {
  if (process.stdout.isTTY) process.stdout.write(`\r${text.padEnd(78)}`)
}

async function prepareTopic (client: KafkaClient, options: Options): Promise<void> {
  try {
    await client.createTopic(options.topic, { partitions: options.partitions })
  } catch (error) {
    if ((error as { errorName?: string }).errorName !== 'TOPIC_ALREADY_EXISTS') throw error
  }
  await client.metadata([options.topic])
}

async function makeBatch (options: Options, stampTime = false): Promise<{ batch: Buffer,
  records: number }> {
  const records = Math.max(1, Math.floor(options.batchBytes / (options.messageSize + 8)))
  const now = Date.now()
  const batch = await buildRecordBatch(Array.from({ length: records }, (_, i) => {
    const value = Buffer.alloc(options.messageSize, i % 251)
    if (stampTime && value.length >= 8) value.writeDoubleBE(now, 0)
    return { value }
  }), { compression: CODECS[options.compression] ?? CompressionCodec.None, timestampMs: now })
  return { batch, records }
}

/** Produces for `duration` seconds; returns per-second samples and request latencies. */
async function produce (options: Options): Promise<Record<string, unknown>> {
  const clients = Array.from({ length: options.producers },
    () => new KafkaClient({ bootstrap: options.bootstrap, inflightMax: options.inflight }))
  await prepareTopic(clients[0] as KafkaClient, options)
  const { batch, records } = await makeBatch(options)
  const latency = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000 })
  const samples: Sample[] = []
  let messages = 0
  let bytes = 0
  const started = performance.now()
  const deadline = started + options.duration * 1000
  let sampleMessages = 0
  let sampleBytes = 0
  const sampler = setInterval(() => {
    samples.push({ second: samples.length + 1, messages: sampleMessages, bytes: sampleBytes })
    progress(`produce: ${samples.length}s ${(sampleMessages / 1e6).toFixed(2)} M msg/s ` +
      `${(sampleBytes / 1e6).toFixed(1)} MB/s`)
    sampleMessages = 0
    sampleBytes = 0
  }, 1000)
  let next = 0
  const worker = async (client: KafkaClient): Promise<void> => {
    while (performance.now() < deadline) {
      const partition = next++ % options.partitions
      const sent = performance.now()
      await client.produce(options.topic, partition, batch, { acks: options.acks })
      latency.recordValue(Math.round((performance.now() - sent) * 1000))
      messages += records
      bytes += batch.length
      sampleMessages += records
      sampleBytes += batch.length
    }
  }
  await Promise.all(clients.flatMap(client =>
    Array.from({ length: options.inflight }, () => worker(client))))
  clearInterval(sampler)
  const seconds = (performance.now() - started) / 1000
  for (const client of clients) await client.close()
  progress('')
  return {
    messages,
    bytes,
    seconds,
    messagesPerSecond: messages / seconds,
    megabytesPerSecond: bytes / seconds / 1e6,
    requestLatencyMs: percentiles(latency, 1000),
    samples,
  }
}

async function consume (options: Options): Promise<Record<string, unknown>> {
  const produced = await produce(options)
  const client = new KafkaClient({ bootstrap: options.bootstrap })
  await client.metadata([options.topic])
  const started = performance.now()
  let messages = 0
  let bytes = 0
  await Promise.all(Array.from({ length: options.partitions }, async (_, partition) => {
    const end = (await client.listOffsets(options.topic, partition, -1)).offset
    let offset = 0
    while (offset < end) {
      const fetched = await client.fetch(options.topic, partition, offset,
        { maxBytes: 8 * 1024 * 1024, maxWaitMs: 100 })
      const records = fetched.records ?? Buffer.alloc(0)
      for (const { position } of splitBatches(records)) {
        messages += records.readInt32BE(position + 57)
        offset = Number(records.readBigInt64BE(position)) + records.readInt32BE(position + 23) + 1
      }
      bytes += records.length
    }
  }))
  const seconds = (performance.now() - started) / 1000
  await client.close()
  return {
    produce: produced,
    consume: { messages, bytes, seconds, messagesPerSecond: messages / seconds,
      megabytesPerSecond: bytes / seconds / 1e6 },
  }
}

/** End-to-end: timestamped batches at a fixed rate, read back by a long-polling fetcher. */
async function latency (options: Options): Promise<Record<string, unknown>> {
  const producer = new KafkaClient({ bootstrap: options.bootstrap, inflightMax: 1000 })
  const consumer = new KafkaClient({ bootstrap: options.bootstrap })
  await prepareTopic(producer, { ...options, partitions: 1 })
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000 })
  const recordsPerBatch = Math.max(1, Math.floor(options.batchBytes / (options.messageSize + 8)))
  const intervalMs = 1000 * recordsPerBatch / options.rate
  const deadline = performance.now() + options.duration * 1000
  let stop = false
  const reading = (async () => {
    let offset = (await consumer.listOffsets(options.topic, 0, -1)).offset
    while (!stop) {
      const fetched = await consumer.fetch(options.topic, 0, offset, { maxWaitMs: 200 })
      const received = performance.timeOrigin + performance.now()
      const records = fetched.records ?? Buffer.alloc(0)
      for (const { position, size } of splitBatches(records)) {
        const count = records.readInt32BE(position + 57)
        const firstValue = records.subarray(position + 61, position + size)
        // The first record's value starts after a few varints; its first 8 bytes are the send
        // time (uncompressed batches only, which the latency scenario uses).
        const sentAt = readSendTime(firstValue)
        for (let i = 0; i < count; i++) histogram.recordValue(Math.max(1, Math.round((received - sentAt) * 1000)))
        offset = Number(records.readBigInt64BE(position)) + records.readInt32BE(position + 23) + 1
      }
    }
  })()
  let sent = 0
  let refused = 0
  const started = performance.now()
  let batches = 0
  while (performance.now() < deadline) {
    // Send every batch that is due by now, so timer granularity does not lower the rate.
    const due = Math.floor((performance.now() - started) / intervalMs)
    while (batches < due) {
      const { batch } = await makeBatch({ ...options, compression: 'none' }, true)
      // At rates beyond what one connection carries, requests queue up to the client's
      // bounds; refused sends are counted, not silently lost.
      producer.produce(options.topic, 0, batch, { acks: options.acks })
        .catch(() => { refused += recordsPerBatch })
      batches++
      sent += recordsPerBatch
    }
    await new Promise(resolve => setTimeout(resolve, 1))
  }
  await new Promise(resolve => setTimeout(resolve, 500))
  stop = true
  await reading
  await producer.close()
  await consumer.close()
  return { rate: options.rate, sent, refused, latencyMs: percentiles(histogram, 1000) }
}

/** The first record's value in an uncompressed batch body: skip length, attributes, deltas, key. */
function readSendTime (body: Buffer): number {
  let position = 0
  const varint = (): number => {
    let raw = 0
    let shift = 0
    for (;;) {
      const byte = body[position++] as number
      raw += (byte & 0x7f) * 2 ** shift
      if ((byte & 0x80) === 0) break
      shift += 7
    }
    return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2
  }
  varint()
  position++
  varint()
  varint()
  const keyLength = varint()
  if (keyLength > 0) position += keyLength
  varint()
  return body.readDoubleBE(position)
}

function percentiles (histogram: hdr.Histogram, unit: number): Record<string, number> {
  return {
    p50: histogram.getValueAtPercentile(50) / unit,
    p99: histogram.getValueAtPercentile(99) / unit,
    p999: histogram.getValueAtPercentile(99.9) / unit,
    max: histogram.maxValue / unit,
  }
}

function svgChart (title: string, samples: Sample[]): string {
  const width = 640
  const height = 240
  const peak = Math.max(1, ...samples.map(s => s.messages))
  const points = samples.map((s, i) => {
    const x = 40 + (i / Math.max(1, samples.length - 1)) * (width - 60)
    const y = height - 30 - (s.messages / peak) * (height - 60)
    return `${x.toFixed(1)},${y.toFixed(1)}`
  }).join(' ')
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="18" font-family="sans-serif" font-size="13">${title}</text>
<text x="10" y="${height - 8}" font-family="sans-serif" font-size="11">time (s)</text>
<text x="10" y="40" font-family="sans-serif" font-size="11">${(peak / 1e6).toFixed(2)} M msg/s</text>
<polyline fill="none" stroke="#1f6feb" stroke-width="2" points="${points}"/>
</svg>
`
}

async function main (): Promise<void> {
  const program = new Command('bench')
    .argument('<scenario>', 'produce | consume | latency')
    .option('--bootstrap <address>', 'broker to drive', '127.0.0.1:9092')
    .option('--spawn', 'start a fresh local broker for the run', false)
    .option('--message-size <bytes>', 'record value size', '100')
    .option('--batch-bytes <bytes>', 'record batch size', '16384')
    .option('--acks <acks>', '-1, 1 or 0', '-1')
    .option('--partitions <count>', 'partitions', '4')
    .option('--producers <count>', 'producer connections', '2')
    .option('--inflight <count>', 'requests in flight per producer', '16')
    .option('--duration <seconds>', 'how long to run', '10')
    .option('--rate <messages>', 'latency scenario: messages per second', '100000')
    .option('--compression <codec>', 'none, gzip, snappy, lz4, zstd', 'none')
    .option('--topic <name>', 'topic', `bench-${Date.now()}`)
  program.parse()
  const scenario = program.args[0] ?? ''
  const raw = program.opts()
  const options: Options = {
    bootstrap: raw.bootstrap, spawn: raw.spawn, messageSize: Number(raw.messageSize),
    batchBytes: Number(raw.batchBytes), acks: Number(raw.acks),
    partitions: Number(raw.partitions), producers: Number(raw.producers),
    inflight: Number(raw.inflight), duration: Number(raw.duration), rate: Number(raw.rate),
    compression: raw.compression, topic: raw.topic,
  }
  const run = { produce, consume, latency }[scenario]
  if (run === undefined) {
    console.error(`bench: unknown scenario "${scenario}" (produce, consume, latency)`)
    process.exit(2)
  }
  const broker = options.spawn ? await startBroker() : undefined
  if (broker !== undefined) options.bootstrap = broker.bootstrap
  try {
    const result = await run(options)
    const report = { scenario, options, machine: machine(), at: new Date().toISOString(), result }
    const directory = path.join(REPO_ROOT, 'bench/results')
    await mkdir(directory, { recursive: true })
    const name = `${scenario}-${report.at.replace(/[:.]/g, '-')}`
    await writeFile(path.join(directory, `${name}.json`), JSON.stringify(report, null, 2))
    const samples = (result.samples ?? (result.produce as { samples?: Sample[] })?.samples) as
      Sample[] | undefined
    if (samples !== undefined) {
      await writeFile(path.join(directory, `${name}.svg`), svgChart(
        `${scenario}: ${options.messageSize} B messages, acks=${options.acks}`, samples))
    }
    console.log(JSON.stringify({ ...result, samples: undefined,
      produce: result.produce === undefined ? undefined : { ...(result.produce as object),
        samples: undefined } }, null, 2))
    console.log(`results: bench/results/${name}.json`)
  } finally {
    if (broker !== undefined) {
      await broker.stop()
      await removeDataDir(broker.dataDir)
    }
  }
}

await main()
