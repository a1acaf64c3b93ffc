/**
 * Decoding record batches and splitting a run of batches (a fetch response or a segment read)
 * at batch boundaries. Read paths that hand records to someone (HTTP consume, SSE, HTTP
 * consumer instances, ListOffsets by timestamp, the CLI) use `iterateRecords`: records are
 * decoded one at a time and the iteration stops at the caller's record and byte limits, so a
 * read never builds more than it returns (a compressed batch is inflated once, bounded by
 * MAX_DECOMPRESSED_BATCH_BYTES, and batches wholly below `fromOffset` are not inflated at all).
 * `decodeRecordBatch` decodes one whole batch (the metadata log, dump-log, tests).
 * The produce path never decodes records: it only validates them in place (validate.ts).
 */
import {
  BATCH_HEADER_BYTES, LOG_OVERHEAD_BYTES, RECORDS_OFFSET, compressionCodecOf, isControlBatch,
  readBatchHeader, type BatchHeader,
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

export interface RecordLimits {
  /** Records below this offset are skipped (a read starts at the batch holding it). */
  fromOffset?: number
  /** Stop after this many records. */
  maxRecords?: number
  /**
   * Stop before a record whose encoded size would take the records yielded past this; the
   * first record always comes, however large (as a fetch returns its first batch, KIP-74).
   */
  maxBytes?: number
  /** Control batches (transaction markers) are skipped unless this is true. */
  includeControl?: boolean
  /** Default MAX_DECOMPRESSED_BATCH_BYTES. */
  maxDecompressedBytes?: number
}

/** The records of the whole batches in `buffer`, decoded lazily, within `limits`. */
export async function * iterateRecords (buffer: Buffer,
  limits: RecordLimits = {}): AsyncGenerator<Record> {
  const fromOffset = limits.fromOffset ?? Number.NEGATIVE_INFINITY
  const maxRecords = limits.maxRecords ?? Number.POSITIVE_INFINITY
  const maxBytes = limits.maxBytes ?? Number.POSITIVE_INFINITY
  if (maxRecords <= 0) return
  let count = 0
  let bytes = 0
  for (const { position, size } of splitBatches(buffer)) {
    const batch = buffer.subarray(position, position + size)
    const header = checkedHeader(batch)
    if (isControlBatch(header.attributes) && limits.includeControl !== true) continue
    if (header.baseOffset + header.lastOffsetDelta < fromOffset) continue
    const body = await batchBody(batch, header, limits.maxDecompressedBytes)
    for (const { record, sizeBytes } of recordsOf(body, header)) {
      if (record.offset < fromOffset) continue
      if (count > 0 && bytes + sizeBytes > maxBytes) return
      count++
      bytes += sizeBytes
      yield record
      if (count >= maxRecords) return
    }
  }
}

export async function decodeRecordBatch (batch: Buffer,
  options: { maxDecompressedBytes?: number } = {}): Promise<DecodedBatch> {
  const header = checkedHeader(batch)
  const body = await batchBody(batch, header, options.maxDecompressedBytes)
  const records: Record[] = []
  for (const { record } of recordsOf(body, header)) records.push(record)
  return { header, records }
}

/**
 * The records of an uncompressed batch, decoded synchronously, or undefined if it is
 * compressed (control batches never are: Kafka writes markers uncompressed). Throws
 * RecordsError on a malformed batch.
 */
export function decodeUncompressedBatch (batch: Buffer): DecodedBatch | undefined {
  const header = checkedHeader(batch)
  if (compressionCodecOf(header.attributes) !== 0) return undefined
  const body = batch.subarray(RECORDS_OFFSET, header.batchLength + LOG_OVERHEAD_BYTES)
  const records: Record[] = []
  for (const { record } of recordsOf(body, header)) records.push(record)
  return { header, records }
}

function checkedHeader (batch: Buffer): BatchHeader {
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
  return header
}

/** The records section of a checked batch, inflated (within the bound) if compressed. */
async function batchBody (batch: Buffer, header: BatchHeader,
  maxDecompressedBytes: number | undefined): Promise<Buffer> {
  const body = batch.subarray(RECORDS_OFFSET, header.batchLength + LOG_OVERHEAD_BYTES)
  const codec = compressionCodecOf(header.attributes)
  return codec === 0 ? body : await decompress(codec, body, maxDecompressedBytes)
}

/**
 * The records of a body one at a time. `recordsCount` comes from the header and may lie: each
 * record is decoded from bytes that exist, so a huge count ends at the end of the body.
 */
function * recordsOf (body: Buffer, header: BatchHeader):
Generator<{ record: Record, sizeBytes: number }> {
  const cursor: Cursor = { position: 0 }
  for (let i = 0; i < header.recordsCount; i++) {
    const start = cursor.position
    const record = decodeRecord(body, cursor, header)
    yield { record, sizeBytes: cursor.position - start }
  }
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
