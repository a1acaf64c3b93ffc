/**
 * Rewrites one stored RecordBatch v2 with only some of its records (Kafka's
 * MemoryRecords.filterTo, as the log cleaner uses it). The batch keeps its base offset, last
 * offset delta, timestamps, producer id, epoch, base sequence and attributes: the records that
 * stay are copied byte for byte (each carries its own offset and timestamp deltas), a
 * compressed batch is recompressed with its own codec, and the length, record count and CRC
 * are written anew. So offsets and idempotent-producer state stay valid after cleaning, and a
 * batch whose records all went can stay as an empty batch (recordsCount 0) when the caller
 * needs its offsets or producer fields.
 */
import {
  ATTRIBUTES_OFFSET, BATCH_HEADER_BYTES, BATCH_LENGTH_OFFSET, LOG_OVERHEAD_BYTES,
  RECORDS_COUNT_OFFSET, RECORDS_OFFSET, compressionCodecOf, readBatchHeader, writeBatchCrc,
} from '../records/batch-header.js'
import { compress, decompress } from '../records/compression.js'
import { RecordsError } from '../records/errors.js'
import { readVarint, type Cursor } from '../records/varint.js'

/** What the filter sees of a record. */
export interface FilteredRecord {
  offset: number
  key: Buffer | null
  /** A null value: a tombstone. */
  tombstone: boolean
}

export interface FilterResult {
  /** The rewritten batch, or the input itself when every record stays. */
  batch: Buffer
  kept: number
  removed: number
}

export async function filterBatch (batch: Buffer,
  keep: (record: FilteredRecord) => boolean): Promise<FilterResult> {
  const header = readBatchHeader(batch)
  const end = header.batchLength + LOG_OVERHEAD_BYTES
  const codec = compressionCodecOf(header.attributes)
  const stored = batch.subarray(RECORDS_OFFSET, end)
  const body = codec === 0 ? stored : await decompress(codec, stored)
  const kept: Buffer[] = []
  const cursor: Cursor = { position: 0 }
  for (let i = 0; i < header.recordsCount; i++) {
    const start = cursor.position
    const length = readVarint(body, cursor, body.length)
    const recordEnd = cursor.position + length
    if (length < 1 || recordEnd > body.length) {
      throw new RecordsError('CORRUPT_MESSAGE', `record length ${length} is invalid`)
    }
    cursor.position++ // attributes
    readVarint(body, cursor, recordEnd) // timestamp delta
    const offsetDelta = readVarint(body, cursor, recordEnd)
    const key = readField(body, cursor, recordEnd)
    const valueLength = readVarint(body, cursor, recordEnd)
    cursor.position = recordEnd
    if (keep({ offset: header.baseOffset + offsetDelta, key, tombstone: valueLength < 0 })) {
      kept.push(body.subarray(start, recordEnd))
    }
  }
  const removed = header.recordsCount - kept.length
  if (removed === 0) return { batch, kept: kept.length, removed: 0 }
  const records = Buffer.concat(kept)
  const payload = codec === 0 || kept.length === 0 ? records : await compress(codec, records)
  const rewritten = Buffer.alloc(BATCH_HEADER_BYTES + payload.length)
  batch.copy(rewritten, 0, 0, BATCH_HEADER_BYTES)
  payload.copy(rewritten, RECORDS_OFFSET)
  rewritten.writeInt32BE(rewritten.length - LOG_OVERHEAD_BYTES, BATCH_LENGTH_OFFSET)
  rewritten.writeInt32BE(kept.length, RECORDS_COUNT_OFFSET)
  if (kept.length === 0) {
    // An empty batch holds no payload to decompress: Kafka writes it uncompressed.
    rewritten.writeInt16BE(header.attributes & ~0x07, ATTRIBUTES_OFFSET)
  }
  writeBatchCrc(rewritten, 0, rewritten.length)
  return { batch: rewritten, kept: kept.length, removed }
}

function readField (body: Buffer, cursor: Cursor, end: number): Buffer | null {
  const length = readVarint(body, cursor, end)
  if (length < 0) return null
  if (cursor.position + length > end) {
    throw new RecordsError('CORRUPT_MESSAGE', `field length ${length} is invalid`)
  }
  const bytes = body.subarray(cursor.position, cursor.position + length)
  cursor.position += length
  return bytes
}
