/**
 * Builds RecordBatch v2 from plain records: used by the HTTP API, the CLI, the load
 * generator, the metadata log and tests. The result has a correct CRC-32C and baseOffset 0
 * (the broker assigns offsets).
 */
import {
  BATCH_HEADER_BYTES, CompressionCodec, CURRENT_MAGIC, LOG_OVERHEAD_BYTES, NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID, NO_SEQUENCE, TRANSACTIONAL_FLAG_MASK, writeBatchCrc, writeInt64,
} from './batch-header.js'
import { compress } from './compression.js'
import { varintSize, writeVarint } from './varint.js'

export interface RecordHeaderInput {
  key: string
  value: Buffer | string | null
}

export interface RecordInput {
  key?: Buffer | string | null
  value: Buffer | string | null
  headers?: RecordHeaderInput[] | { [key: string]: string | Buffer }
  timestamp?: number
}

export interface BatchOptions {
  compression?: CompressionCodec
  producerId?: number
  producerEpoch?: number
  baseSequence?: number
  transactional?: boolean
  baseOffset?: number
  partitionLeaderEpoch?: number
  /** Timestamp for records that carry none (default: now). */
  timestampMs?: number
}

interface EncodedRecord {
  key: Buffer | null
  value: Buffer | null
  headers: { key: Buffer, value: Buffer | null }[]
  timestamp: number
}

function toBuffer (value: Buffer | string | null | undefined): Buffer | null {
  if (value === null || value === undefined) return null
  return typeof value === 'string' ? Buffer.from(value) : value
}

function normalize (record: RecordInput, defaultTimestamp: number): EncodedRecord {
  const headers = Array.isArray(record.headers)
    ? record.headers
    : Object.entries(record.headers ?? {}).map(([key, value]) => ({ key, value }))
  return {
    key: toBuffer(record.key),
    value: toBuffer(record.value),
    headers: headers.map(header => ({ key: Buffer.from(header.key), value: toBuffer(header.value) })),
    timestamp: record.timestamp ?? defaultTimestamp,
  }
}

function minTimestamp (records: EncodedRecord[]): number {
  if (records.length === 0) return -1
  let min = Number.MAX_SAFE_INTEGER
  for (const record of records) min = Math.min(min, record.timestamp)
  return min
}

function bytesSize (value: Buffer | null): number {
  return value === null ? varintSize(-1) : varintSize(value.length) + value.length
}

function writeBytes (buffer: Buffer, position: number, value: Buffer | null): number {
  if (value === null) return writeVarint(buffer, position, -1)
  position = writeVarint(buffer, position, value.length)
  value.copy(buffer, position)
  return position + value.length
}

/** The records section (uncompressed) of a batch. */
function encodeRecords (records: EncodedRecord[], baseTimestamp: number): Buffer {
  const bodies = records.map((record, offsetDelta) => {
    const timestampDelta = record.timestamp - baseTimestamp
    let size = 1 + varintSize(timestampDelta) + varintSize(offsetDelta) +
      bytesSize(record.key) + bytesSize(record.value) + varintSize(record.headers.length)
    for (const header of record.headers) size += bytesSize(header.key) + bytesSize(header.value)
    return { size, timestampDelta, offsetDelta, record }
  })
  const total = bodies.reduce((sum, body) => sum + varintSize(body.size) + body.size, 0)
  const buffer = Buffer.allocUnsafe(total)
  let position = 0
  for (const { size, timestampDelta, offsetDelta, record } of bodies) {
    position = writeVarint(buffer, position, size)
    buffer[position++] = 0
    position = writeVarint(buffer, position, timestampDelta)
    position = writeVarint(buffer, position, offsetDelta)
    position = writeBytes(buffer, position, record.key)
    position = writeBytes(buffer, position, record.value)
    position = writeVarint(buffer, position, record.headers.length)
    for (const header of record.headers) {
      position = writeBytes(buffer, position, header.key)
      position = writeBytes(buffer, position, header.value)
    }
  }
  return buffer
}

function assemble (records: EncodedRecord[], body: Buffer, codec: number,
  options: BatchOptions): Buffer {
  const baseTimestamp = minTimestamp(records)
  let maxTimestamp = -1
  for (const record of records) maxTimestamp = Math.max(maxTimestamp, record.timestamp)
  const size = BATCH_HEADER_BYTES + body.length
  const batch = Buffer.allocUnsafe(size)
  writeInt64(batch, 0, options.baseOffset ?? 0)
  batch.writeInt32BE(size - LOG_OVERHEAD_BYTES, 8)
  batch.writeInt32BE(options.partitionLeaderEpoch ?? -1, 12)
  batch.writeInt8(CURRENT_MAGIC, 16)
  const attributes = codec | (options.transactional === true ? TRANSACTIONAL_FLAG_MASK : 0)
  batch.writeInt16BE(attributes, 21)
  batch.writeInt32BE(Math.max(records.length - 1, 0), 23)
  writeInt64(batch, 27, baseTimestamp)
  writeInt64(batch, 35, maxTimestamp)
  writeInt64(batch, 43, options.producerId ?? NO_PRODUCER_ID)
  batch.writeInt16BE(options.producerEpoch ?? NO_PRODUCER_EPOCH, 51)
  batch.writeInt32BE(options.baseSequence ?? NO_SEQUENCE, 53)
  batch.writeInt32BE(records.length, 57)
  body.copy(batch, BATCH_HEADER_BYTES)
  writeBatchCrc(batch, 0, size)
  return batch
}

export async function buildRecordBatch (records: RecordInput[],
  options: BatchOptions = {}): Promise<Buffer> {
  const now = options.timestampMs ?? Date.now()
  const encoded = records.map(record => normalize(record, now))
  const baseTimestamp = minTimestamp(encoded)
  const codec = options.compression ?? CompressionCodec.None
  const body = await compress(codec, encodeRecords(encoded, baseTimestamp))
  return assemble(encoded, body, codec, options)
}

/** Uncompressed batches without awaiting (the load generator builds many). */
export function buildRecordBatchSync (records: RecordInput[],
  options: BatchOptions = {}): Buffer {
  const now = options.timestampMs ?? Date.now()
  const encoded = records.map(record => normalize(record, now))
  const baseTimestamp = minTimestamp(encoded)
  return assemble(encoded, encodeRecords(encoded, baseTimestamp), CompressionCodec.None,
    { ...options, compression: CompressionCodec.None })
}
