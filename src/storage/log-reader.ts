/**
 * Reading a partition's segments: fetch reads of whole batches, header scans (producer-state
 * replay, truncation) and timestamp lookups. Every function reads only a segment's written
 * prefix (`writtenBytes`) with positional reads, so readers never wait for appends and never
 * see a reserved-but-unwritten batch.
 *
 * Segment bytes were validated before they were written (and again by recovery after a crash),
 * but an index that passed its load-time checks can still be wrong: the batch found at an
 * indexed position is checked, and on a mismatch the segment stops trusting its index (lookups
 * scan from its start) instead of returning garbage. A batch length that cannot be a batch is a
 * KAFKA_STORAGE_ERROR, never an endless loop.
 */
import { iterateRecords } from '../records/batch.js'
import {
  ATTRIBUTES_OFFSET, BATCH_HEADER_BYTES, LOG_OVERHEAD_BYTES, MAX_TIMESTAMP_OFFSET,
  LAST_OFFSET_DELTA_OFFSET, RECORDS_COUNT_OFFSET, PARTITION_LEADER_EPOCH_OFFSET, isControlBatch,
  readInt64,
} from '../records/batch-header.js'
import { StorageError } from './errors.js'
import type { LogSegment } from './segment.js'

/** Bytes read at once when scanning for a fetch offset or a timestamp. */
export const READ_CHUNK_BYTES = 64 * 1024
/**
 * The most a single read returns (beyond a first batch larger than it). A fetch's `maxBytes`
 * comes from a client; without a cap, one request could make us allocate a whole segment.
 * Kafka's broker-side fetch.max.bytes default is 55 MiB.
 */
export const READ_BYTES_MAX = 64 * 1024 * 1024
/**
 * A control batch larger than this is not a transaction marker this broker can read (one is
 * about 80 bytes); scanHeaders hands only its header over.
 */
const CONTROL_BATCH_BYTES_MAX = 4096

export interface LogWarner {
  warn (message: string): void
}

function lastOffsetAt (buffer: Buffer, at: number): number {
  return readInt64(buffer, at) + buffer.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET)
}

/** The size of the batch at `at`, or a KAFKA_STORAGE_ERROR if the length is impossible. */
function batchSizeChecked (segment: LogSegment, buffer: Buffer, at: number,
  position: number): number {
  const size = buffer.readInt32BE(at + 8) + LOG_OVERHEAD_BYTES
  if (size < BATCH_HEADER_BYTES) {
    throw new StorageError('KAFKA_STORAGE_ERROR', `impossible batch length ${size} at ` +
      `position ${position + at} of ${segment.logPath}`)
  }
  return size
}

/** A batch header of this segment at position 0 of `chunk` (magic 2, offsets inside it). */
function plausibleBatchStart (segment: LogSegment, chunk: Buffer): boolean {
  if (chunk.length < BATCH_HEADER_BYTES) return false
  if (chunk.readInt8(16) !== 2) return false
  if (chunk.readInt32BE(8) + LOG_OVERHEAD_BYTES < BATCH_HEADER_BYTES) return false
  const baseOffset = readInt64(chunk, 0)
  return baseOffset >= segment.baseOffset && baseOffset < segment.nextOffset
}

/**
 * Reads `length` bytes at the indexed `position`; if no batch starts there, the segment's index
 * is distrusted and the read restarts at position 0.
 */
async function readIndexed (segment: LogSegment, position: number, length: number,
  warner: LogWarner): Promise<{ chunk: Buffer, position: number }> {
  const chunk = await segment.read(position, length)
  if (position === 0 || chunk.length === 0 || plausibleBatchStart(segment, chunk)) {
    return { chunk, position }
  }
  warner.warn(`${segment.logPath}: index points at position ${position}, which is not a ` +
    'batch start; scanning without the index until it is rebuilt at the next start')
  segment.distrustIndex()
  return { chunk: await segment.read(0, length), position: 0 }
}

/**
 * Whole batches of `segment` from the one holding `fetchOffset`, at most `maxBytes` of them
 * (the first batch whole even if larger when `minOneBatch`, KIP-74), none at or past
 * `maxOffset`. An empty buffer when the segment has nothing at or after `fetchOffset`.
 */
export async function readSegment (segment: LogSegment, fetchOffset: number, maxBytes: number,
  maxOffset: number, minOneBatch: boolean, warner: LogWarner): Promise<Buffer> {
  const wanted = Math.min(Math.max(maxBytes, 0), READ_BYTES_MAX)
  const chunkBytes = Math.max(READ_CHUNK_BYTES, wanted + 8192)
  let { chunk, position } = await readIndexed(segment, segment.lookup(fetchOffset), chunkBytes,
    warner)
  for (;;) {
    let at = 0
    let start = -1
    while (at + BATCH_HEADER_BYTES <= chunk.length) {
      const size = batchSizeChecked(segment, chunk, at, position)
      if (readInt64(chunk, at) >= maxOffset) break
      if (start < 0 && lastOffsetAt(chunk, at) < fetchOffset) {
        at += size
        continue
      }
      if (start < 0) start = at
      const taken = at - start
      if (taken + size > wanted && (taken > 0 || !minOneBatch)) break
      if (at + size > chunk.length) {
        if (taken > 0) break
        // The first batch does not fit the chunk: read it whole (KIP-74).
        return segment.read(position + at, size)
      }
      at += size
    }
    if (start >= 0) return chunk.subarray(start, at)
    if (at === 0) return Buffer.alloc(0)
    position += at
    if (position >= segment.writtenBytes) return Buffer.alloc(0)
    chunk = await segment.read(position, chunkBytes)
  }
}

/**
 * Runs `read` over a copy of `segments`, each held open for it (LogSegment.retain): a deletion or
 * a swap that removes one of them meanwhile waits for this read before it closes the file. The
 * copy and the retains happen synchronously, before anything can change the caller's list.
 */
export async function readHolding<T> (segments: readonly LogSegment[],
  read: (held: readonly LogSegment[]) => Promise<T>): Promise<T> {
  const held = segments.slice()
  for (const segment of held) segment.retain()
  try {
    return await read(held)
  } finally {
    for (const segment of held) segment.release()
  }
}

/** The index of the segment holding `offset` (the last one based at or below it), or 0. */
function segmentIndexFor (segments: readonly LogSegment[], offset: number): number {
  let low = 0
  let high = segments.length - 1
  let found = 0
  while (low <= high) {
    const middle = (low + high) >>> 1
    if ((segments[middle] as LogSegment).baseOffset <= offset) {
      found = middle
      low = middle + 1
    } else {
      high = middle - 1
    }
  }
  return found
}

/**
 * A fetch read over a log's segments (sorted by base offset): whole batches from the one
 * holding `fetchOffset`, moving to the next segment when one has nothing at or after it.
 */
export async function readSegments (segments: readonly LogSegment[], fetchOffset: number,
  maxBytes: number, maxOffset: number, minOneBatch: boolean,
  warner: LogWarner): Promise<Buffer> {
  // Held before the first await: a roll, a deletion or a swap may change the caller's list.
  return readHolding(segments.slice(segmentIndexFor(segments, fetchOffset)), async held => {
    const parts: Buffer[] = []
    let from = fetchOffset
    let budget = maxBytes
    for (const segment of held) {
      if (segment.baseOffset >= maxOffset) break
      const records = await readSegment(segment, from, budget, maxOffset,
        minOneBatch && parts.length === 0, warner)
      if (records.length === 0) {
        // Nothing here at or after `from` (a compacted segment's end): on to the next segment.
        // Otherwise the batch at `from` is over the budget (minOneBatch off) or past the
        // bound, and the answer stops before it: a later segment's batches would make the
        // reader skip it (a consumer's position, a follower's log would jump past it).
        if (segment.nextOffset > from) break
        continue
      }
      parts.push(records)
      const last = lastBatchEnd(records)
      // A compacted segment may hold only emptied batches (the cleaner keeps a group's last
      // batch): a client given nothing but those cannot move on (kafkajs refetches the same
      // offset), so the read goes on into the next segment, within the same byte budget.
      if (last.holdsRecords || records.length >= budget) break
      budget -= records.length
      from = last.nextOffset
    }
    return parts.length === 1 ? parts[0] as Buffer : Buffer.concat(parts)
  })
}

/** The offset after the last batch of `records`, and whether any batch holds records. */
function lastBatchEnd (records: Buffer): { nextOffset: number, holdsRecords: boolean } {
  let at = 0
  let nextOffset = 0
  let holdsRecords = false
  while (at + BATCH_HEADER_BYTES <= records.length) {
    nextOffset = lastOffsetAt(records, at) + 1
    if (records.readInt32BE(at + RECORDS_COUNT_OFFSET) > 0) holdsRecords = true
    at += records.readInt32BE(at + 8) + LOG_OVERHEAD_BYTES
  }
  return { nextOffset, holdsRecords }
}

/**
 * Calls `onBatch` with the 61-byte header of every batch whose last offset is ≥ `from`; with
 * `wholeControlBatches`, a control batch (a transaction marker, a few dozen bytes) comes whole,
 * so that its control record can be read (header fields sit at the same positions).
 */
export async function scanHeaders (segments: readonly LogSegment[], from: number,
  onBatch: (header: Buffer) => void, warner: LogWarner,
  options: { wholeControlBatches?: boolean } = {}): Promise<void> {
  await readHolding(segments, async held => {
    for (const segment of held) {
      await scanSegmentHeaders(segment, from, onBatch, warner,
        options.wholeControlBatches === true)
    }
  })
}

async function scanSegmentHeaders (segment: LogSegment, from: number,
  onBatch: (header: Buffer) => void, warner: LogWarner, wholeControl: boolean):
  Promise<void> {
  if (segment.nextOffset <= from) return
  let { chunk, position } = await readIndexed(segment, segment.lookup(from), READ_CHUNK_BYTES,
    warner)
  for (;;) {
    let at = 0
    while (at + BATCH_HEADER_BYTES <= chunk.length) {
      const size = batchSizeChecked(segment, chunk, at, position)
      if (lastOffsetAt(chunk, at) >= from) {
        const control = wholeControl && size <= CONTROL_BATCH_BYTES_MAX &&
          isControlBatch(chunk.readInt16BE(at + ATTRIBUTES_OFFSET))
        if (!control) {
          onBatch(chunk.subarray(at, at + BATCH_HEADER_BYTES))
        } else if (at + size <= chunk.length) {
          onBatch(chunk.subarray(at, at + size))
        } else {
          // Cut by the chunk's end: read on its own (bounded by CONTROL_BATCH_BYTES_MAX).
          onBatch(await segment.read(position + at, size))
        }
      }
      at += size
    }
    if (at === 0) break
    position += at
    if (position >= segment.writtenBytes) break
    chunk = await segment.read(position, READ_CHUNK_BYTES)
  }
}

/**
 * Where `segment` must be cut so that every batch holding `offset` or later goes: the file
 * position and the offset after the last kept batch (Kafka's LogSegment.truncateTo).
 */
export async function truncationPoint (segment: LogSegment, offset: number,
  warner: LogWarner): Promise<{ position: number, nextOffset: number }> {
  // Every batch before lookup(offset - 1) ends before `offset`, and so does the one there.
  let { chunk, position } = await readIndexed(segment, segment.lookup(offset - 1),
    READ_CHUNK_BYTES, warner)
  let cut = position
  let nextOffset = segment.baseOffset
  for (;;) {
    let at = 0
    while (at + BATCH_HEADER_BYTES <= chunk.length) {
      const size = batchSizeChecked(segment, chunk, at, position)
      const lastOffset = lastOffsetAt(chunk, at)
      if (lastOffset >= offset) return { position: cut, nextOffset }
      cut = position + at + size
      nextOffset = lastOffset + 1
      at += size
    }
    if (at === 0) return { position: cut, nextOffset }
    position += at
    if (position >= segment.writtenBytes) return { position: cut, nextOffset }
    chunk = await segment.read(position, READ_CHUNK_BYTES)
  }
}

/** A record found by its timestamp (Kafka's FileRecords.TimestampAndOffset). */
export interface TimestampAndOffset {
  offset: number
  timestamp: number
  /** The partition leader epoch its batch was written in. */
  leaderEpoch: number
}

/**
 * The first record at or after `logStartOffset` whose timestamp is ≥ `timestampMs` (Kafka's
 * LogSegment.findOffsetByTimestamp): skip segments whose maximum is below it, start at the
 * time index's position, skip batches whose maxTimestamp is below it, then decode the batch's
 * records one at a time (iterateRecords) up to the first that qualifies. Its leader epoch is
 * the one its batch was stamped with, as Kafka answers it in ListOffsets.
 */
export async function findOffsetByTimestamp (segments: readonly LogSegment[],
  timestampMs: number, logStartOffset: number): Promise<TimestampAndOffset | undefined> {
  return readHolding(segments, async held => {
    for (const segment of held) {
      const found = await findInSegment(segment, timestampMs, logStartOffset)
      if (found !== undefined) return found
    }
    return undefined
  })
}

async function findInSegment (segment: LogSegment, timestampMs: number,
  logStartOffset: number): Promise<TimestampAndOffset | undefined> {
  if (segment.maxTimestamp < timestampMs || segment.nextOffset <= logStartOffset) {
    return undefined
  }
  let position = segment.lookupTimestamp(timestampMs)
  while (position < segment.writtenBytes) {
    const head = await segment.read(position, BATCH_HEADER_BYTES)
    if (head.length < BATCH_HEADER_BYTES) break
    const size = batchSizeChecked(segment, head, 0, position)
    if (readInt64(head, MAX_TIMESTAMP_OFFSET) >= timestampMs &&
      lastOffsetAt(head, 0) >= logStartOffset) {
      // Lazily: the walk stops at the first record that qualifies.
      const records = iterateRecords(await segment.read(position, size),
        { fromOffset: logStartOffset, includeControl: true })
      for await (const record of records) {
        if (record.timestamp >= timestampMs) {
          return { offset: record.offset, timestamp: record.timestamp,
            leaderEpoch: head.readInt32BE(PARTITION_LEADER_EPOCH_OFFSET) }
        }
      }
    }
    position += size
  }
  return undefined
}
