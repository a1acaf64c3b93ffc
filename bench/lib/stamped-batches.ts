/**
 * Record batches for latency runs: built once from a template, copied into buffers that are
 * reused from send to send, each stamped before its send with the send time (a float64 of
 * epoch milliseconds with a sub-millisecond fraction, in the first 8 bytes of the first
 * record's value, and the batch's timestamps) and re-checksummed.
 * A buffer goes back to the pool only once its request was answered, so a stamp never changes
 * bytes still being written to a socket.
 */
import {
  BASE_TIMESTAMP_OFFSET, MAX_TIMESTAMP_OFFSET, RECORDS_OFFSET, writeBatchCrc, writeInt64,
} from '../../src/records/batch-header.js'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import { readVarint } from '../../src/records/varint.js'

/**
 * Records of `messageSize` bytes that fit a batch of `batchBytes`: about 8 bytes of framing per
 * small record (length, attributes, deltas, key and value lengths, header count).
 */
export function recordsPerBatch (messageSize: number, batchBytes: number): number {
  return Math.max(1, Math.floor(batchBytes / (messageSize + 8)))
}

export function nowEpochMs (): number {
  return performance.timeOrigin + performance.now()
}

export class StampedBatches {
  readonly records: number
  readonly size: number
  readonly #template: Buffer
  readonly #stampAt: number
  readonly #free: Buffer[] = []

  /** `recordsMax` caps the records per batch below what `batchBytes` holds (linger). */
  constructor (messageSize: number, batchBytes: number, recordsMax = Infinity) {
    if (messageSize < 8) throw new Error('latency runs need --message-size of at least 8 bytes')
    this.records = Math.max(1, Math.min(recordsPerBatch(messageSize, batchBytes),
      Math.floor(recordsMax)))
    this.#template = buildRecordBatchSync(Array.from({ length: this.records },
      (_, i) => ({ value: Buffer.alloc(messageSize, i % 251) })))
    this.size = this.#template.length
    this.#stampAt = RECORDS_OFFSET + firstValueOffset(this.#template.subarray(RECORDS_OFFSET))
  }

  /**
   * A batch stamped `now` (epoch ms; the caller keeps it to decide whether the batch is in the
   * measured window); return it with `release` once the broker answered.
   */
  take (now = nowEpochMs()): Buffer {
    // A returned buffer still holds the template: only the stamp, timestamps and CRC change.
    const buffer = this.#free.pop() ?? Buffer.from(this.#template)
    buffer.writeDoubleBE(now, this.#stampAt)
    writeInt64(buffer, BASE_TIMESTAMP_OFFSET, Math.floor(now))
    writeInt64(buffer, MAX_TIMESTAMP_OFFSET, Math.floor(now))
    writeBatchCrc(buffer, 0, this.size)
    return buffer
  }

  release (buffer: Buffer): void {
    this.#free.push(buffer)
  }
}

/** The send stamp of a fetched uncompressed batch of this generator, at `position`. */
export function readSendStamp (records: Buffer, position: number, size: number): number {
  const body = records.subarray(position + RECORDS_OFFSET, position + size)
  return body.readDoubleBE(firstValueOffset(body))
}

/** Where the first record's value starts in an uncompressed records body. */
function firstValueOffset (body: Buffer): number {
  const cursor = { position: 0 }
  readVarint(body, cursor, body.length) // length
  cursor.position++ // attributes
  readVarint(body, cursor, body.length) // timestamp delta
  readVarint(body, cursor, body.length) // offset delta
  const keyLength = readVarint(body, cursor, body.length)
  if (keyLength > 0) cursor.position += keyLength
  readVarint(body, cursor, body.length) // value length
  return cursor.position
}
