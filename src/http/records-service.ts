/**
 * Produce and consume for the HTTP routes, on the broker's own paths: a produce builds one
 * record batch per partition and appends it through `ReplicaManager.appendRecords`, the very
 * call Kafka Produce makes (same validation, durability and metrics); a consume reads through
 * `readPartition`, long-polling in the same purgatory as Fetch. In a cluster, a partition led
 * by another broker is produced to and read from there, over the Kafka protocol
 * (leader-router.ts). Reads are at an isolation level (KIP-98):
 * read_committed reads up to the last stable offset and drops the records of aborted
 * transactions with the list Fetch answers; read_uncommitted reads up to the high watermark.
 * Neither shows transaction markers (control batches), and a read that held only dropped
 * batches moves the next offset past them.
 */
import type { Broker } from '../broker/broker.js'
import { ControllerError } from '../controller/controller.js'
import { partitionKey } from '../broker/delayed-operations.js'
import { partitionForKey } from '../client/partitioner.js'
import { withoutAbortedBatches } from '../records/aborted-transactions.js'
import { iterateRecords, type Record as LogRecord } from '../records/batch.js'
import { buildRecordBatch, type RecordInput } from '../records/builder.js'
import { fromBytes } from './codec.js'
import { fromKafkaError, HttpError, PARTITION_NOT_FOUND, TOPIC_NOT_FOUND } from './errors.js'
import type { LeaderRouter } from './leader-router.js'

export interface OutgoingMessage {
  key: Buffer | null
  value: Buffer | null
  headers: { key: string, value: Buffer | null }[]
  timestamp?: number
  partition?: number
}

export interface ConsumedRecord {
  offset: number
  key: string | { base64: string } | null
  value: string | { base64: string } | null
  timestamp: number
  headers: Record<string, string | { base64: string } | null>
}

/** Bytes one HTTP consume reads from the log at once. */
const CONSUME_READ_BYTES = 1024 * 1024
/**
 * Record bytes (keys, values and headers) one consume decodes and returns at most, over all
 * the partitions it reads (the first record always comes): a compressed read of
 * CONSUME_READ_BYTES may inflate much further, and only this much of it is turned into JSON.
 */
export const CONSUME_RECORD_BYTES = 4 * 1024 * 1024

function partitionCount (broker: Broker, topic: string): number {
  const info = broker.image.topic(topic)
  if (info === undefined) throw TOPIC_NOT_FOUND(topic)
  return info.partitions.length
}

/**
 * The partition count of a topic to produce to, creating the topic with the broker defaults
 * when it does not exist and auto.create.topics.enable is true: what a Kafka producer gets
 * from its Metadata request (the broker's one auto-create path, Broker.topicOrAutoCreate).
 */
async function partitionCountForProduce (broker: Broker, topic: string,
  field: string): Promise<number> {
  let info
  try {
    info = await broker.topicOrAutoCreate(topic, true)
  } catch (error) {
    if (error instanceof ControllerError) {
      throw fromKafkaError(error.errorName, error.message, field)
    }
    throw error
  }
  if (info !== undefined) return info.partitions.length
  throw new HttpError(404, 1, `topic '${topic}' not found, and auto.create.topics.enable is ` +
    'false on this broker: create it first (POST /api/v1/topics)')
}

export interface ProduceResult {
  partition: number
  /** null with acks=0: nobody waited for the append. */
  offset: number | null
  /** The timestamp stored, in Unix ms (the append time when the topic uses LogAppendTime). */
  timestamp: number
}

/** Where a produce request names its topic and its messages, for errors that point there. */
export interface ProduceFields {
  topic: string
  messages: string
}

const NATIVE_FIELDS: ProduceFields = { topic: 'body.topic', messages: 'body.messages' }

/** Produces in request order; returns where and with what timestamp each message went. */
export async function produceMessages (router: LeaderRouter, topic: string,
  messages: OutgoingMessage[], acks: number, fields = NATIVE_FIELDS): Promise<ProduceResult[]> {
  const count = await partitionCountForProduce(router.broker, topic, fields.topic)
  // One create time for the messages that bring none, so the response can echo it.
  const nowMs = Date.now()
  let roundRobin = Math.floor(Math.random() * count)
  const placed = messages.map((message, index) => {
    const partition = message.partition ??
      (message.key !== null ? partitionForKey(message.key, count) : roundRobin++ % count)
    if (!Number.isInteger(partition) || partition < 0 || partition >= count) {
      throw new HttpError(404, 2, `${fields.messages}[${index}].partition: partition ` +
        `${partition} of topic '${topic}' not found`)
    }
    return partition
  })
  const byPartition = new Map<number, number[]>()
  placed.forEach((partition, index) => {
    const indexes = byPartition.get(partition) ?? []
    indexes.push(index)
    byPartition.set(partition, indexes)
  })
  const results: ProduceResult[] = placed.map((partition, index) => ({ partition,
    offset: null, timestamp: (messages[index] as OutgoingMessage).timestamp ?? nowMs }))
  const appends = [...byPartition].map(async ([partition, indexes]) => {
    const records: RecordInput[] = indexes.map(index => {
      const message = messages[index] as OutgoingMessage
      return { key: message.key, value: message.value, headers: message.headers,
        timestamp: (results[index] as ProduceResult).timestamp }
    })
    const batch = await buildRecordBatch(records)
    const result = await router.append(topic, partition, batch, acks, fields.messages)
    if (result === undefined) return
    indexes.forEach((index, i) => {
      const stored = results[index] as ProduceResult
      stored.offset = result.baseOffset + i
      if (result.logAppendTimeMs !== -1) stored.timestamp = result.logAppendTimeMs
    })
  })
  await Promise.all(appends)
  return results
}

/** A consume's byte budget: record bytes, and whether the first record comes regardless. */
export interface ByteBudget {
  maxBytes: number
  minOneRecord: boolean
}

const WHOLE_BUDGET: ByteBudget = { maxBytes: CONSUME_RECORD_BYTES, minOneRecord: true }

/** Kafka's `isolation.level` values (KIP-98). */
export type IsolationLevel = 'read_committed' | 'read_uncommitted'
/**
 * The native HTTP API's default. Kafka's consumers default to read_uncommitted, but they get
 * the batches' producer ids and the markers and could tell; an HTTP reader gets bare JSON
 * records and could not tell an aborted record from a committed one. read_committed costs
 * nothing where no transactions are used (the LSO is then the high watermark).
 */
export const HTTP_DEFAULT_ISOLATION: IsolationLevel = 'read_committed'

/**
 * Up to `limit` records and the budget's bytes from `offset` (`bytes` says how many were
 * returned, for a caller that spreads one budget over several partitions).
 */
export async function consumeRecords (router: LeaderRouter, topic: string, partition: number,
  offset: number, limit: number, maxWaitMs: number, signal?: AbortSignal,
  budget = WHOLE_BUDGET, isolation: IsolationLevel = HTTP_DEFAULT_ISOLATION):
  Promise<{ records: ConsumedRecord[], nextOffset: number, highWatermark: number,
    bytes: number }> {
  if (partition >= partitionCount(router.broker, topic)) {
    throw PARTITION_NOT_FOUND(topic, partition)
  }
  const deadline = Date.now() + maxWaitMs
  for (;;) {
    // On another broker's partition the read is a Fetch that itself waits for records.
    const read = await router.read(topic, partition, offset, CONSUME_READ_BYTES,
      isolation === 'read_committed', Math.max(0, deadline - Date.now()), 'offset', signal)
    const visible = withoutAbortedBatches(read.records, read.abortedTransactions ?? [])
    const { records, bytes } = await decodeRecords(visible.records, offset, limit, budget)
    const remainingMs = deadline - Date.now()
    if (records.length === 0 && visible.endOffset !== undefined && visible.endOffset > offset) {
      // Only aborted data or markers here: step past them (a Kafka consumer's position moves
      // past a skipped batch the same way) and read on while there is time.
      offset = visible.endOffset
      if (remainingMs > 0 && signal?.aborted !== true) continue
    }
    if (records.length > 0 || remainingMs <= 0 || signal?.aborted === true) {
      const last = records[records.length - 1]
      return {
        records,
        nextOffset: last === undefined ? offset : last.offset + 1,
        highWatermark: read.highWatermark,
        bytes,
      }
    }
    if (read.waited) {
      // The leader's Fetch waited already; one that came back early and empty (its purgatory
      // full) is not retried in a tight loop.
      if (read.records.length === 0) await pause(Math.min(remainingMs, 100))
      continue
    }
    await router.broker.replicaManager.purgatory.wait([partitionKey(topic, partition)],
      remainingMs, signal)
  }
}

/**
 * Records from `fromOffset`, decoded lazily: at most `limit` of them and the budget's bytes;
 * decoding stops there.
 */
export async function decodeRecords (bytes: Buffer, fromOffset: number, limit: number,
  budget: ByteBudget): Promise<{ records: ConsumedRecord[], bytes: number }> {
  const records: ConsumedRecord[] = []
  let total = 0
  for await (const record of iterateRecords(bytes, { fromOffset, maxRecords: limit })) {
    const size = recordBytes(record)
    const exempt = records.length === 0 && budget.minOneRecord
    if (!exempt && total + size > budget.maxBytes) break
    total += size
    records.push({
      offset: record.offset,
      key: fromBytes(record.key),
      value: fromBytes(record.value),
      timestamp: record.timestamp,
      headers: Object.fromEntries(record.headers.map(h => [h.key, fromBytes(h.value)])),
    })
  }
  return { records, bytes: total }
}

/** What a record costs a consume's byte budget: its key, value and headers. */
function recordBytes (record: LogRecord): number {
  let size = (record.key?.length ?? 0) + (record.value?.length ?? 0)
  for (const header of record.headers) size += header.key.length + (header.value?.length ?? 0)
  return size
}

function pause (ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}
