/**
 * An open-loop run at a fixed rate: batches are due on a schedule (rate / records per batch per
 * second), spread round-robin over partitions and producer connections, whatever the broker's
 * answers do, so a slow broker shows up as latency rather than as a lower offered load
 * (no coordinated omission). Produce latency is send to acknowledgement; end-to-end latency is
 * the send stamp in each batch to its arrival at a long-polling consumer, counted once per
 * record. Each producer connection sends the batches that fell due in one turn of the pacing
 * loop (1 ms) together, one request per set of distinct partitions, as Kafka's own producer
 * does. A connection with `inflight` requests outstanding skips what falls due and counts it,
 * and the run reports itself saturated when it could not offer its rate.
 */
import type { LatencyReport } from '../../src/broker/latency-sampler.js'
import { KafkaClient } from '../../src/client/client.js'
import {
  ProcessStalls, type GcPauses, type StallReport,
} from '../../src/io/process-stalls.js'
import { lastOffsetOf, RECORDS_COUNT_OFFSET } from '../../src/records/batch-header.js'
import { splitBatches } from '../../src/records/batch.js'
import {
  latencyHistogram, percentilesMs, recordMs, Sampler, spectrumMs, type Percentiles, type Sample,
} from './report.js'
import { cpuTimes, machineUse, type CpuTimes } from './noise.js'
import { nowEpochMs, readSendStamp, StampedBatches } from './stamped-batches.js'

export interface RateRunOptions {
  bootstrap: string
  topic: string
  partitions: number
  producers: number
  inflight: number
  rate: number
  durationSeconds: number
  messageSize: number
  batchBytes: number
  /**
   * A producer sends a partition's batch when it is full or `lingerMs` after its first record
   * (linger.ms), so below the rate that fills batches within the linger, batches get smaller.
   */
  lingerMs: number
  acks: number
  endToEnd: boolean
  /** Seconds sent at the rate before measuring: connections, JIT and fresh segments settle. */
  warmupSeconds: number
  label: string
  /**
   * The broker's debug latency report (`http://host:port/debug/latency`, served when its
   * tributary.debug.latency.sample.rate > 0): reset when measuring starts, read at the end.
   */
  debugUrl?: string
}

export interface RateRunResult {
  targetRate: number
  achievedRate: number
  /** Records per batch: a full batch, or what `lingerMs` collects at this rate. */
  recordsPerBatch: number
  sent: number
  acknowledged: number
  failed: number
  skipped: number
  saturated: boolean
  /** The furthest the sender fell behind its schedule. */
  maxScheduleLagMs: number
  /** CPU time (user + system) the generator's process used over the measured window. */
  generatorCpuSeconds?: number
  /** The whole machine over the measured window (Linux): busy and stolen shares of all CPUs. */
  machine?: { busyPercent: number, stealPercent: number }
  produceLatencyMs: Percentiles
  endToEndLatencyMs?: Percentiles
  received?: number
  spectrum: { produce: Array<[number, number]>, endToEnd?: Array<[number, number]> }
  samples: Sample[]
  /**
   * The Node generator's own event-loop delay and GC pauses over the measured window (none
   * for franz-go, which has no event loop).
   */
  generator?: StallReport
  /** The generator that made the run, when not this file's Node one (bench/lib/franz-go-run.ts). */
  client?: 'franz-go' | 'librdkafka'
  /** franz-go: its module version (github.com/twmb/franz-go). */
  clientVersion?: string
  /**
   * franz-go: each produce request's write to its answer (kgo's BrokerE2E), per request and
   * without a record's wait in its batch, i.e. what the Node generator's produce latency counts.
   */
  produceRequestMs?: Percentiles
  /** franz-go: the Go runtime's GC pauses over the measured window. */
  goGc?: GcPauses
  /** The broker's per-stage breakdown and stalls over the same window, when it serves them. */
  broker?: LatencyReport
  /**
   * With a spawned broker: how long writing back the data filesystem's dirty pages took just
   * before the phase (scenarios.ts atRate), so that the previous phase's writeback stays out
   * of this one's window.
   */
  pageCacheFlushMs?: number
}

/** How long the consumer keeps reading after the last send, for the last batches to arrive. */
const DRAIN_MS = 2000

/** A batch taken in this turn of the pacing loop, with its stamp's place in the window. */
interface PendingBatch {
  partition: number
  batch: Buffer
  counted: boolean
  sentAt: number
}

export async function runAtRate (options: RateRunOptions): Promise<RateRunResult> {
  const producers = Array.from({ length: options.producers }, () =>
    new KafkaClient({ bootstrap: options.bootstrap, inflightMax: options.inflight }))
  // One consumer connection per partition: a broker answers a connection's requests in order
  // (as Kafka does), so long polls of several partitions on one connection would hold up each
  // other's answers. A real consumer sends one fetch for all its partitions instead.
  const consumers = options.endToEnd
    ? Array.from({ length: options.partitions },
      () => new KafkaClient({ bootstrap: options.bootstrap }))
    : []
  // Batches go round-robin over partitions: each partition gets rate / partitions records a
  // second, and a batch must be sent within lingerMs of its first record.
  const lingerRecords = options.rate / options.partitions * options.lingerMs / 1000
  const batches = new StampedBatches(options.messageSize, options.batchBytes, lingerRecords)
  const produceLatency = latencyHistogram()
  const endToEndLatency = latencyHistogram()
  for (const producer of producers) await producer.metadata([options.topic])
  const outstanding = new Array<number>(producers.length).fill(0)
  let sent = 0
  let acknowledged = 0
  let failed = 0
  let skipped = 0
  let received = 0
  let maxScheduleLagMs = 0
  let stopReading = false
  let measuredFromEpochMs = Infinity

  const reading = Promise.all(consumers.map(async (consumer, partition) => {
      let offset = (await consumer.listOffsets(options.topic, partition, -1)).offset
      while (!stopReading) {
        const fetched = await consumer.fetch(options.topic, partition, offset,
          { maxWaitMs: 100, maxBytes: 4 * 1024 * 1024 })
        const arrived = nowEpochMs()
        const records = fetched.records ?? Buffer.alloc(0)
        for (const { position, size } of splitBatches(records)) {
          const count = records.readInt32BE(position + RECORDS_COUNT_OFFSET)
          const stamp = readSendStamp(records, position, size)
          if (stamp >= measuredFromEpochMs) {
            recordMs(endToEndLatency, arrived - stamp, count)
            received += count
          }
          offset = lastOffsetOf(records, position) + 1
        }
      }
    }))
  // The consumer must be positioned before the first send, or early records are missed.
  await new Promise(resolve => setTimeout(resolve, consumers.length === 0 ? 0 : 200))
  // A first fetch() loads and compiles Node's HTTP client (~20 ms on the event loop): done
  // now, the reset at the window's start does not stall the schedule it measures.
  if (options.debugUrl !== undefined) await debugReport(options.debugUrl, false)

  const sampler = new Sampler(options.label, options.warmupSeconds + options.durationSeconds)
  const intervalMs = 1000 * batches.records / options.rate
  const started = performance.now()
  const measuredFrom = started + options.warmupSeconds * 1000
  measuredFromEpochMs = performance.timeOrigin + measuredFrom
  const deadline = measuredFrom + options.durationSeconds * 1000
  let due = 0
  let next = 0
  const settle = new Set<Promise<void>>()
  const send = (producerIndex: number, request: PendingBatch[]): void => {
    const sending: Promise<void> = (producers[producerIndex] as KafkaClient)
      .produceMany(options.topic, request.map(entry =>
        ({ partition: entry.partition, records: entry.batch })), { acks: options.acks })
      .then(() => {
        const answeredAt = performance.now()
        for (const entry of request) {
          sampler.add(batches.records, entry.batch.length)
          if (!entry.counted) continue
          recordMs(produceLatency, answeredAt - entry.sentAt)
          acknowledged += batches.records
        }
      }, () => {
        for (const entry of request) if (entry.counted) failed += batches.records
      })
      .finally(() => {
        outstanding[producerIndex] = (outstanding[producerIndex] as number) - 1
        for (const entry of request) batches.release(entry.batch)
        settle.delete(sending)
      })
    settle.add(sending)
  }
  const stalls = new ProcessStalls().start()
  let windowStarted = false
  let cpuAtWindowStart = process.cpuUsage()
  let machineAtWindowStart: Promise<CpuTimes | undefined> = Promise.resolve(undefined)
  while (performance.now() < deadline) {
    // Send every batch due by now, so timer granularity does not lower the offered rate.
    const now = performance.now()
    const dueNow = Math.floor((now - started) / intervalMs)
    const measuring = now >= measuredFrom
    if (measuring && !windowStarted) {
      windowStarted = true
      stalls.reset()
      cpuAtWindowStart = process.cpuUsage()
      machineAtWindowStart = cpuTimes()
      if (options.debugUrl !== undefined) void debugReport(options.debugUrl, true)
    }
    if (dueNow > due && measuring) {
      maxScheduleLagMs = Math.max(maxScheduleLagMs, now - started - due * intervalMs)
    }
    // Each producer connection sends what fell due in this turn as one request per set of
    // distinct partitions, as the Java producer's sender drains every ready batch for a broker
    // into one request (Kafka takes one batch per partition in a request).
    const turn = producers.map((): PendingBatch[][] => [])
    while (due < dueNow) {
      due++
      const slot = next++
      const producerIndex = slot % producers.length
      const partition = Math.floor(slot / producers.length) % options.partitions
      const requests = turn[producerIndex] as PendingBatch[][]
      let request = requests.find(pending => pending.every(entry => entry.partition !== partition))
      if (request === undefined) {
        if ((outstanding[producerIndex] as number) >= options.inflight) {
          if (measuring) skipped += batches.records
          continue
        }
        outstanding[producerIndex] = (outstanding[producerIndex] as number) + 1
        request = []
        requests.push(request)
      }
      // Counted by its own stamp, as the consumer counts what it receives: a batch of the
      // loop's last turn before the window can be stamped inside it.
      const stampMs = nowEpochMs()
      const counted = stampMs >= measuredFromEpochMs
      if (counted) sent += batches.records
      request.push({ partition, batch: batches.take(stampMs), counted, sentAt: performance.now() })
    }
    turn.forEach((requests, producerIndex) => {
      for (const request of requests) send(producerIndex, request)
    })
    await new Promise(resolve => setTimeout(resolve, 1))
  }
  const seconds = (performance.now() - measuredFrom) / 1000
  const generator = await stalls.report()
  const cpu = process.cpuUsage(cpuAtWindowStart)
  const machine = machineUse(await machineAtWindowStart, await cpuTimes())
  stalls.stop()
  const broker = options.debugUrl === undefined ? undefined
    : await debugReport(options.debugUrl, false)
  await Promise.all(settle)
  const samples = sampler.stop()
  if (options.endToEnd) {
    const drainDeadline = performance.now() + DRAIN_MS
    while (received < acknowledged && performance.now() < drainDeadline) {
      await new Promise(resolve => setTimeout(resolve, 20))
    }
  }
  stopReading = true
  await reading
  for (const client of [...producers, ...consumers]) await client.close()
  const offered = sent + skipped
  return {
    targetRate: options.rate,
    achievedRate: acknowledged / seconds,
    recordsPerBatch: batches.records,
    sent,
    acknowledged,
    failed,
    skipped,
    // Under 95% of the target offered or answered, the rate was beyond this setup.
    saturated: skipped > 0 || failed > 0 || acknowledged < 0.95 * options.rate * seconds ||
      offered < 0.95 * options.rate * seconds,
    maxScheduleLagMs: Math.round(maxScheduleLagMs * 100) / 100,
    generatorCpuSeconds: Math.round((cpu.user + cpu.system) / 1e4) / 100,
    ...(machine === undefined ? {} : { machine }),
    produceLatencyMs: percentilesMs(produceLatency),
    ...(!options.endToEnd ? {} : {
      endToEndLatencyMs: percentilesMs(endToEndLatency), received,
    }),
    spectrum: {
      produce: spectrumMs(produceLatency),
      ...(!options.endToEnd ? {} : { endToEnd: spectrumMs(endToEndLatency) }),
    },
    samples,
    generator,
    ...(broker === undefined ? {} : { broker }),
  }
}

/**
 * The broker's debug latency report, or undefined when it does not serve one (sampling off) or
 * for `reset`: that starts a new window (DELETE), and computes no report while the run measures.
 */
async function debugReport (url: string, reset: boolean): Promise<LatencyReport | undefined> {
  try {
    const response = await fetch(url,
      { method: reset ? 'DELETE' : 'GET', signal: AbortSignal.timeout(5000) })
    if (!response.ok || reset) return undefined
    return await response.json() as LatencyReport
  } catch {
    return undefined
  }
}
