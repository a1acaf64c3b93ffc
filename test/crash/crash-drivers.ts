/**
 * The clients of the whole-broker crash script (broker-crash.test.ts), each on its own topic:
 * - `KafkajsDriver`: a kafkajs idempotent producer, acks=all, one request in flight;
 * - `LeanDriver`: the lean client's `IdempotentProducer` (the load generator's client), acks=all,
 *   one loop per partition, retrying a failed send with the same sequence across restarts;
 * - `CommittingConsumer`: the lean client reading one topic and committing its position to a
 *   group after every fetch round; after each broker restart it resumes from the committed
 *   offsets and checks they did not go back.
 * Every producer writes the numbers 0, 1, 2, ... per partition as record values and remembers
 * which were acknowledged at which offset; `checkStoredPartition` compares that with a full
 * read of the partition.
 */
import kafkajs from 'kafkajs'
import { KafkaClient } from '../../src/client/client.js'
import { DeliveryTimeoutError, IdempotentProducer } from '../../src/client/idempotent-producer.js'
import { batchCrcMatches, isControlBatch } from '../../src/records/batch-header.js'
import { decodeRecordBatch, splitBatches } from '../../src/records/batch.js'

const { Kafka, logLevel } = kafkajs

/** Acknowledged values of one partition and the offset the broker gave each. */
export interface AckedPartition {
  values: number[]
  offsets: number[]
}

export interface Driver {
  readonly name: string
  readonly topic: string
  readonly acked: AckedPartition[]
  /** Sends that failed in doubt (not acknowledged, so allowed to be missing). */
  failedSends: number
  /** Errors no crash may cause (fatal producer errors). */
  readonly problems: string[]
  /** Waits for the send in flight, then disconnects; `abort` disconnects first (on failure). */
  stop: (abort?: boolean) => Promise<void>
}

function emptyAcks (partitions: number): AckedPartition[] {
  return Array.from({ length: partitions }, () => ({ values: [], offsets: [] }))
}

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

export async function startKafkajsDriver (bootstrap: string, topic: string,
  partitions: number, recordsPerSend: number): Promise<Driver> {
  const kafka = new Kafka({
    clientId: 'crash-kafkajs', brokers: [bootstrap], logLevel: logLevel.NOTHING,
    // About 6 s of retries: a restart takes well under one, and a failing run ends soon.
    retry: { retries: 20, initialRetryTime: 50, maxRetryTime: 300 },
  })
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  const driver: Driver = { name: 'kafkajs', topic, acked: emptyAcks(partitions), failedSends: 0,
    problems: [], stop: async () => undefined }
  const next = new Array<number>(partitions).fill(0)
  let producing = true
  const loop = (async () => {
    for (let round = 0; producing; round++) {
      const partition = round % partitions
      const first = next[partition] as number
      const values = Array.from({ length: recordsPerSend }, (_, i) => first + i)
      next[partition] = first + values.length
      try {
        const [metadata] = await producer.send({ topic, acks: -1, messages: values.map(value => ({
          partition, value: String(value),
        })) })
        const baseOffset = Number(metadata?.baseOffset ?? -1)
        const acked = driver.acked[partition] as AckedPartition
        values.forEach((value, i) => {
          acked.values.push(value)
          acked.offsets.push(baseOffset < 0 ? -1 : baseOffset + i)
        })
      } catch {
        driver.failedSends++ // indefinite: stored or not, but at most once
      }
    }
  })()
  driver.stop = async (abort = false) => {
    producing = false
    if (abort) await producer.disconnect().catch(() => undefined)
    await loop
    await producer.disconnect().catch(() => undefined)
  }
  return driver
}

export async function startLeanDriver (bootstrap: string, topic: string, partitions: number,
  recordsPerSend: number): Promise<Driver & { retriedSends: () => number }> {
  const client = new KafkaClient({ bootstrap, clientId: 'crash-lean', requestTimeoutMs: 10_000 })
  const producer = new IdempotentProducer(client, { deliveryTimeoutMs: 30_000 })
  await producer.init()
  let retried = 0
  let producing = true
  const driver = { name: 'lean', topic, acked: emptyAcks(partitions), failedSends: 0,
    problems: [] as string[], stop: async () => undefined, retriedSends: () => retried }
  const loops = Array.from({ length: partitions }, async (_, partition) => {
    const acked = driver.acked[partition] as AckedPartition
    let next = 0
    while (producing) {
      const values = Array.from({ length: recordsPerSend }, (_, i) => next + i)
      next += values.length
      try {
        const result = await producer.send(topic, partition,
          values.map(value => ({ value: String(value) })))
        if (result.attempts > 1) retried++
        values.forEach((value, i) => {
          acked.values.push(value)
          acked.offsets.push(result.baseOffset < 0 ? -1 : result.baseOffset + i)
        })
      } catch (error) {
        if (error instanceof DeliveryTimeoutError) driver.failedSends++
        else driver.problems.push(`lean producer, partition ${partition}: ${String(error)}`)
        await sleep(100)
      }
    }
  })
  driver.stop = async (abort = false) => {
    producing = false
    if (abort) await client.close()
    await Promise.all(loops)
    await client.close()
  }
  return driver
}

export interface StoredPartition {
  /** Record values by offset (the topics here are neither compacted nor transactional). */
  values: string[]
  problems: string[]
}

/**
 * Reads a whole partition with raw fetches up to its high watermark: every batch has a valid
 * CRC and starts where the one before ended; the values are strictly increasing (no duplicate,
 * no reorder); every acknowledged value is there, at the offset it was acknowledged with.
 */
export async function checkStoredPartition (client: KafkaClient, topic: string,
  partition: number, acked: AckedPartition): Promise<StoredPartition> {
  const ackedCount = acked.values.length // acknowledged before the read began
  const problems: string[] = []
  const values: string[] = []
  const where = `${topic}-${partition}`
  const end = (await client.listOffsets(topic, partition, -1)).offset
  let offset = 0
  while (offset < end && problems.length === 0) {
    const fetched = await client.fetch(topic, partition, offset, { maxBytes: 4 << 20 })
    const records = fetched.records ?? Buffer.alloc(0)
    const batches = splitBatches(records)
    if (batches.length === 0) problems.push(`${where}: fetch at ${offset} returned no batch`)
    for (const { position, size } of batches) {
      if (!batchCrcMatches(records, position, size)) {
        problems.push(`${where}: CRC mismatch in the batch at ${offset}`)
      }
      const batch = await decodeRecordBatch(records.subarray(position, position + size))
      if (batch.header.baseOffset !== offset) {
        problems.push(`${where}: batch at ${batch.header.baseOffset}, expected ${offset}`)
        break
      }
      if (!isControlBatch(batch.header.attributes)) {
        for (const record of batch.records) values[record.offset] = record.value?.toString() ?? ''
      }
      offset = batch.header.baseOffset + batch.header.lastOffsetDelta + 1
    }
  }
  problems.push(...compareWithAcked(where, values, acked, ackedCount))
  return { values, problems }
}

function compareWithAcked (where: string, values: string[], acked: AckedPartition,
  ackedCount: number): string[] {
  const problems: string[] = []
  let previous = -1
  const present = new Set<number>()
  for (const [offset, text] of values.entries()) {
    const value = Number(text)
    if (!(value > previous)) {
      problems.push(`${where}: value ${text} at offset ${offset} after ${previous} ` +
        '(duplicate or reorder)')
      break
    }
    previous = value
    present.add(value)
  }
  for (let i = 0; i < ackedCount; i++) {
    const value = acked.values[i] as number
    const offset = acked.offsets[i] as number
    if (!present.has(value)) {
      problems.push(`${where}: acknowledged value ${value} (offset ${offset}) is lost`)
      break
    }
    if (offset >= 0 && values[offset] !== String(value)) {
      problems.push(`${where}: acknowledged value ${value} was at offset ${offset}, ` +
        `which now holds ${values[offset]}`)
      break
    }
  }
  return problems
}

/** A consumer of one topic that commits its positions and resumes from the commits. */
export class CommittingConsumer {
  readonly #client: KafkaClient
  readonly #groupId: string
  readonly #topic: string
  readonly #positions: number[]
  /** Per partition: the largest offset whose commit the broker acknowledged. */
  readonly #committed: number[]
  /** Per partition: the largest offset ever sent in a commit (acknowledged or not). */
  readonly #attempted: number[]
  /** Per partition, by offset: the values read (the same offset must always read the same). */
  readonly seen: string[][]
  readonly problems: string[] = []
  commits = 0
  resumes = 0
  #running = true
  #resume: ((problems: string[]) => void) | undefined
  #loop: Promise<void> = Promise.resolve()

  constructor (bootstrap: string, groupId: string, topic: string, partitions: number) {
    this.#client = new KafkaClient({ bootstrap, clientId: 'crash-consumer',
      requestTimeoutMs: 10_000 })
    this.#groupId = groupId
    this.#topic = topic
    this.#positions = new Array<number>(partitions).fill(0)
    this.#committed = new Array<number>(partitions).fill(0)
    this.#attempted = new Array<number>(partitions).fill(0)
    this.seen = Array.from({ length: partitions }, () => [])
  }

  start (): void {
    this.#loop = this.#run()
  }

  /**
   * Asks the consumer to restart from its committed offsets (as a consumer does after its
   * broker went away) and resolves with the problems found: a committed offset below the
   * last acknowledged commit, or above anything ever committed.
   */
  resume (): Promise<string[]> {
    return new Promise(resolve => { this.#resume = resolve })
  }

  async stop (): Promise<void> {
    this.#running = false
    await this.#loop
    await this.#client.close()
  }

  async #run (): Promise<void> {
    while (this.#running) {
      try {
        const resolve = this.#resume
        if (resolve !== undefined) {
          this.#resume = undefined
          resolve(await this.#resumeFromCommitted())
        }
        for (let partition = 0; partition < this.#positions.length; partition++) {
          await this.#consume(partition)
        }
        const offsets = this.#positions.map((offset, partition) =>
          ({ topic: this.#topic, partition, offset }))
        offsets.forEach(({ offset }, p) => {
          this.#attempted[p] = Math.max(this.#attempted[p] as number, offset)
        })
        await this.#client.commitGroupOffsets(this.#groupId, offsets)
        this.commits++
        offsets.forEach(({ offset }, p) => {
          this.#committed[p] = Math.max(this.#committed[p] as number, offset)
        })
      } catch {
        await sleep(50) // the broker is away; the resume after its restart rewinds
      }
    }
  }

  async #resumeFromCommitted (): Promise<string[]> {
    let committed: Map<number, number> | undefined
    for (let attempt = 0; committed === undefined; attempt++) {
      try {
        committed = (await this.#client.fetchGroupOffsets(this.#groupId)).get(this.#topic) ??
          new Map()
      } catch (error) {
        if (attempt >= 100) return [`consumer: cannot fetch committed offsets: ${String(error)}`]
        await sleep(50)
      }
    }
    const problems: string[] = []
    for (let partition = 0; partition < this.#positions.length; partition++) {
      const offset = committed.get(partition) ?? 0
      const acked = this.#committed[partition] as number
      if (offset < acked) {
        problems.push(`consumer: ${this.#topic}-${partition} committed offset ${offset} went ` +
          `back below the acknowledged commit ${acked}`)
      }
      if (offset > (this.#attempted[partition] as number)) {
        problems.push(`consumer: ${this.#topic}-${partition} committed offset ${offset} was ` +
          'never committed')
      }
      this.#positions[partition] = offset
    }
    this.resumes++
    return problems
  }

  /** One fetch round; every record must be at the next expected offset (no gap). */
  async #consume (partition: number): Promise<void> {
    const position = this.#positions[partition] as number
    const fetched = await this.#client.fetch(this.#topic, partition, position,
      { maxWaitMs: 20, maxBytes: 1 << 20 })
    const records = fetched.records ?? Buffer.alloc(0)
    let next = position
    const seen = this.seen[partition] as string[]
    for (const { position: at, size } of splitBatches(records)) {
      const batch = await decodeRecordBatch(records.subarray(at, at + size))
      for (const record of batch.records) {
        if (record.offset < next) continue
        if (record.offset > next) {
          this.problems.push(`consumer: ${this.#topic}-${partition} jumped from ${next} to ` +
            `${record.offset}`)
        }
        const value = record.value?.toString() ?? ''
        const before = seen[record.offset]
        if (before !== undefined && before !== value) {
          this.problems.push(`consumer: ${this.#topic}-${partition} offset ${record.offset} ` +
            `read ${value}, earlier ${before}`)
        }
        seen[record.offset] = value
        next = record.offset + 1
      }
    }
    this.#positions[partition] = next
  }
}

/** What the consumer read must match what is stored, with no hole below its furthest read. */
export function compareConsumed (topic: string, partition: number, seen: string[],
  stored: string[]): string[] {
  for (let offset = 0; offset < seen.length; offset++) {
    if (seen[offset] === undefined) {
      return [`consumer: ${topic}-${partition} never read offset ${offset} (below ${seen.length})`]
    }
    if (seen[offset] !== stored[offset]) {
      return [`consumer: ${topic}-${partition} read ${seen[offset]} at ${offset}, ` +
        `stored ${stored[offset]}`]
    }
  }
  return []
}
