/**
 * Decoding whole record batches (for the HTTP API, the CLI, the metadata log and tests) and
 * splitting a run of batches (a fetch response or a segment read) at batch boundaries.
 * The produce path never decodes records: it only validates them in place (validate.ts).
 */
import {
  BATCH_HEADER_BYTES, LOG_OVERHEAD_BYTES, RECORDS_OFFSET, compressionCodecOf, readBatchHeader,
  type BatchHeader,
} from './batch-header.js'
import { decompress } from './compression.js'
import { RecordsError } from './errors.js'
import { readVarint, type Cursor } from './varint.js'

export interface RecordHeader {
  key: string
  value: Buffer | null
}

export interface Record {
  offset: number
  timestamp: number
  key: Buffer | null
  value: Buffer | null
  headers: RecordHeader[]
}

export interface DecodedBatch {
  header: BatchHeader
  records: Record[]
}

/**
 * The complete batches in `buffer`, back to back from position 0. A partial trailing batch
 * (normal at the end of a fetch) is left out; so is anything after a batch with an impossible
 * length, which is where decoding must stop.
 */
export function splitBatches (buffer: Buffer): { position: number, size: number }[] {
  const batches: { position: number, size: number }[] = []
  let position = 0
  while (position + LOG_OVERHEAD_BYTES <= buffer.length) {
    const size = buffer.readInt32BE(position + 8) + LOG_OVERHEAD_BYTES
    if (size < BATCH_HEADER_BYTES || position + size > buffer.length) break
    batches.push({ position, size })
    position += size
  }
  return batches
}

export async function decodeRecordBatch (batch: Buffer,
  options: { maxDecompressedBytes?: number } = {}): Promise<DecodedBatch> {
  if (batch.length < BATCH_HEADER_BYTES) {
    throw new RecordsError('CORRUPT_MESSAGE', `batch of ${batch.length} bytes is truncated`)
  }
  const header = readBatchHeader(batch)
  if (header.magic !== 2) {
    throw new RecordsError('UNSUPPORTED_FOR_MESSAGE_FORMAT', `magic ${header.magic} is not 2`)
  }
  const end = header.batchLength + LOG_OVERHEAD_BYTES
  if (end > batch.length || end < BATCH_HEADER_BYTES) {
    throw new RecordsError('CORRUPT_MESSAGE', `batch length ${header.batchLength} is invalid`)
  }
  let body = batch.subarray(RECORDS_OFFSET, end)
  const codec = compressionCodecOf(header.attributes)
  if (codec !== 0) {
    body = await decompress(codec, body, options.maxDecompressedBytes)
  }
  const records: Record[] = []
  const cursor: Cursor = { position: 0 }
  for (let i = 0; i < header.recordsCount; i++) {
    records.push(decodeRecord(body, cursor, header))
  }
  return { header, records }
}

function decodeRecord (body: Buffer, cursor: Cursor, header: BatchHeader): Record {
  const length = readVarint(body, cursor, body.length)
  const end = cursor.position + length
  if (length < 1 || end > body.length) {
    throw new RecordsError('CORRUPT_MESSAGE', `record length ${length} is invalid`)
  }
  cursor.position++ // attributes, unused
  const timestampDelta = readVarint(body, cursor, end)
  const offsetDelta = readVarint(body, cursor, end)
  const key = readBytes(body, cursor, end)
  const value = readBytes(body, cursor, end)
  const headerCount = readVarint(body, cursor, end)
  if (headerCount < 0 || headerCount > end - cursor.position) {
    throw new RecordsError('CORRUPT_MESSAGE', `header count ${headerCount} is invalid`)
  }
  const headers: RecordHeader[] = []
  for (let i = 0; i < headerCount; i++) {
    const headerKey = readBytes(body, cursor, end)
    if (headerKey === null) throw new RecordsError('CORRUPT_MESSAGE', 'null header key')
    headers.push({ key: headerKey.toString('utf8'), value: readBytes(body, cursor, end) })
  }
  if (cursor.position !== end) {
    throw new RecordsError('CORRUPT_MESSAGE', 'record length does not match its fields')
  }
  return {
    offset: header.baseOffset + offsetDelta,
    // With LogAppendTime every record carries the batch's max timestamp (KIP-32).
    timestamp: (header.attributes & 0x08) !== 0
      ? header.maxTimestamp
      : header.baseTimestamp + timestampDelta,
    key,
    value,
    headers,
  }
}

function readBytes (body: Buffer, cursor: Cursor, end: number): Buffer | null {
  const length = readVarint(body, cursor, end)
  if (length === -1) return null
  if (length < 0 || cursor.position + length > end) {
    throw new RecordsError('CORRUPT_MESSAGE', `field length ${length} is invalid`)
  }
  const bytes = body.subarray(cursor.position, cursor.position + length)
  cursor.position += length
  return bytes
}
