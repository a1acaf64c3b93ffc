/**
 * Kafka's LogValidator checks for what one Produce request carries for one partition
 * (docs/protocol.md): exactly one v2 batch filling the buffer, sane lengths, a matching
 * CRC-32C, a known codec, no control batch from a client, `lastOffsetDelta + 1 == count`, and
 * a walk of every record (length, offset deltas 0..n-1, timestamps) — decompressing a
 * compressed batch to walk its records, as Kafka does.
 *
 * Hot path: an uncompressed batch is walked in place without allocating per record.
 */
import {
  BATCH_HEADER_BYTES, LOG_OVERHEAD_BYTES, RECORDS_OFFSET, batchCrcMatches, compressionCodecOf,
  isControlBatch, isTransactionalBatch, readInt64,
} from './batch-header.js'
import { decompress } from './compression.js'
import { RecordsError } from './errors.js'
import { readVarint, type Cursor } from './varint.js'

export { RecordsError } from './errors.js'

export interface ValidationOptions {
  maxMessageBytes: number
  nowMs: number
  /** message.timestamp.difference.max.ms; Infinity disables the check. */
  messageTimestampDifferenceMaxMs?: number
  /** Default MAX_DECOMPRESSED_BATCH_BYTES (compression.ts). */
  maxDecompressedBytes?: number
}

export interface ValidatedBatch {
  recordsCount: number
  lastOffsetDelta: number
  baseTimestamp: number
  maxTimestamp: number
  producerId: number
  producerEpoch: number
  baseSequence: number
  isTransactional: boolean
  codec: number
  sizeBytes: number
}

/** The smallest batchLength: the header after the length field. */
const BATCH_LENGTH_MIN = BATCH_HEADER_BYTES - LOG_OVERHEAD_BYTES

export async function validateProducedBatches (buffer: Buffer,
  options: ValidationOptions): Promise<ValidatedBatch> {
  if (buffer.length < BATCH_HEADER_BYTES) {
    throw new RecordsError('CORRUPT_MESSAGE',
      `records of ${buffer.length} bytes are shorter than a batch header`)
  }
  const batchLength = buffer.readInt32BE(8)
  if (batchLength < BATCH_LENGTH_MIN) {
    throw new RecordsError('CORRUPT_MESSAGE', `batch length ${batchLength} is invalid`)
  }
  const size = batchLength + LOG_OVERHEAD_BYTES
  if (size > buffer.length) {
    throw new RecordsError('CORRUPT_MESSAGE',
      `batch of ${size} bytes is truncated to ${buffer.length}`)
  }
  if (size < buffer.length) {
    throw new RecordsError('INVALID_RECORD',
      'a produce request must carry exactly one record batch per partition')
  }
  const magic = buffer.readInt8(16)
  if (magic !== 2) {
    throw new RecordsError('UNSUPPORTED_FOR_MESSAGE_FORMAT',
      `record batch magic ${magic} is not supported; only magic 2 (Kafka 0.11+) is`)
  }
  if (size > options.maxMessageBytes) {
    throw new RecordsError('MESSAGE_TOO_LARGE', `batch of ${size} bytes is larger than ` +
      `max.message.bytes ${options.maxMessageBytes}`)
  }
  if (!batchCrcMatches(buffer, 0, size)) {
    throw new RecordsError('CORRUPT_MESSAGE', `batch CRC mismatch: stored 0x` +
      `${buffer.readUInt32BE(17).toString(16)}`)
  }
  const attributes = buffer.readInt16BE(21)
  const codec = compressionCodecOf(attributes)
  if (codec > 4) {
    throw new RecordsError('UNSUPPORTED_COMPRESSION_TYPE', `unknown compression codec ${codec}`)
  }
  if (isControlBatch(attributes)) {
    throw new RecordsError('INVALID_RECORD', 'clients may not produce control batches')
  }
  const info = readInfo(buffer, attributes, codec, size)
  if (info.lastOffsetDelta + 1 !== info.recordsCount || info.recordsCount < 1) {
    throw new RecordsError('INVALID_RECORD', `lastOffsetDelta ${info.lastOffsetDelta} does ` +
      `not match ${info.recordsCount} records`)
  }
  checkTimestamp(info.maxTimestamp, options)
  let body = buffer.subarray(RECORDS_OFFSET, size)
  if (codec !== 0) {
    body = await decompress(codec, body, options.maxDecompressedBytes)
  }
  walkRecords(body, info, options)
  return info
}

function readInfo (buffer: Buffer, attributes: number, codec: number,
  size: number): ValidatedBatch {
  const info = {
    recordsCount: buffer.readInt32BE(57),
    lastOffsetDelta: buffer.readInt32BE(23),
    baseTimestamp: readInt64(buffer, 27),
    maxTimestamp: readInt64(buffer, 35),
    producerId: readInt64(buffer, 43),
    producerEpoch: buffer.readInt16BE(51),
    baseSequence: buffer.readInt32BE(53),
    isTransactional: isTransactionalBatch(attributes),
    codec,
    sizeBytes: size,
  }
  if (Number.isNaN(info.baseTimestamp) || Number.isNaN(info.maxTimestamp) ||
    Number.isNaN(info.producerId)) {
    throw new RecordsError('CORRUPT_MESSAGE', 'int64 field out of range in batch header')
  }
  return info
}

/** `recordIndex`: the record checked, when it is one record's timestamp (not the batch's). */
function checkTimestamp (timestamp: number, options: ValidationOptions,
  recordIndex?: number): void {
  const differenceMax = options.messageTimestampDifferenceMaxMs ?? Infinity
  if (timestamp < -1) {
    throw new RecordsError('INVALID_TIMESTAMP', `timestamp ${timestamp} is negative`,
      recordIndex)
  }
  if (Math.abs(timestamp - options.nowMs) > differenceMax) {
    throw new RecordsError('INVALID_TIMESTAMP', `timestamp ${timestamp} is more than ` +
      `message.timestamp.difference.max.ms ${differenceMax} away from the broker's clock`,
      recordIndex)
  }
}

/**
 * Walks every record in place: lengths, offset deltas 0..n-1, timestamp range. A record's
 * timestamp delta is first compared with bounds on deltas computed once per batch: its
 * absolute timestamp (an epoch-milliseconds double) would be a heap number per record, a
 * million a second at full load. Only a delta outside them gets the exact checks.
 */
function walkRecords (body: Buffer, info: ValidatedBatch, options: ValidationOptions): void {
  const cursor: Cursor = { position: 0 }
  const end = body.length
  const count = info.recordsCount
  const { deltaMin, deltaMax } = timestampDeltaBounds(info, options)
  for (let expectedDelta = 0; expectedDelta < count; expectedDelta++) {
    if (cursor.position >= end) {
      throw new RecordsError('INVALID_RECORD', `batch header says ${count} ` +
        `records but holds only ${expectedDelta}`)
    }
    const length = readVarint(body, cursor, end)
    const recordEnd = cursor.position + length
    if (length < 6 || recordEnd > end) {
      throw new RecordsError('CORRUPT_MESSAGE', `record ${expectedDelta} length ${length} ` +
        'is invalid')
    }
    cursor.position++ // attributes
    const timestampDelta = readVarint(body, cursor, recordEnd)
    const offsetDelta = readVarint(body, cursor, recordEnd)
    if (offsetDelta !== expectedDelta) {
      throw new RecordsError('INVALID_RECORD',
        `record offset delta ${offsetDelta} where ${expectedDelta} was expected`, expectedDelta)
    }
    if (timestampDelta > deltaMax || timestampDelta < deltaMin) {
      checkRecordTimestamp(info.baseTimestamp + timestampDelta, info, options, expectedDelta)
    }
    cursor.position = recordEnd
  }
  if (cursor.position !== end) {
    throw new RecordsError('INVALID_RECORD',
      `${end - cursor.position} bytes after the last of ${count} records`)
  }
}

/**
 * The timestamp deltas that pass checkRecordTimestamp: at most maxTimestamp (unless it is -1)
 * and, with message.timestamp.difference.max.ms, not below -1 and within that many ms of now.
 * Exact while timestamps stay within 2^53 ms (integers a double holds exactly).
 */
function timestampDeltaBounds (info: ValidatedBatch, options: ValidationOptions):
  { deltaMin: number, deltaMax: number } {
  let deltaMax = info.maxTimestamp === -1 ? Infinity : info.maxTimestamp - info.baseTimestamp
  let deltaMin = -Infinity
  const differenceMax = options.messageTimestampDifferenceMaxMs
  if (differenceMax !== undefined) {
    deltaMax = Math.min(deltaMax, options.nowMs + differenceMax - info.baseTimestamp)
    deltaMin = Math.max(-1 - info.baseTimestamp,
      options.nowMs - differenceMax - info.baseTimestamp)
  }
  return { deltaMin, deltaMax }
}

/** One record's timestamp: not above the batch's maximum, then checkTimestamp's rules. */
function checkRecordTimestamp (timestamp: number, info: ValidatedBatch,
  options: ValidationOptions, recordIndex: number): void {
  if (timestamp > info.maxTimestamp && info.maxTimestamp !== -1) {
    throw new RecordsError('INVALID_TIMESTAMP',
      `record timestamp ${timestamp} is above the batch max timestamp ${info.maxTimestamp}`,
      recordIndex)
  }
  if (options.messageTimestampDifferenceMaxMs !== undefined) {
    checkTimestamp(timestamp, options, recordIndex)
  }
}
