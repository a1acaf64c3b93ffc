/**
 * Record batches for latency runs: built once from a template, then for each send copied into
 * a reused buffer, stamped with the send time (a float64 of epoch milliseconds with a
 * sub-millisecond fraction, in the first 8 bytes of the first record's value), and re-checksummed.
 * A buffer goes back to the pool only once its request was answered, so a stamp never changes
 * bytes still being written to a socket.
 */
import { writeBatchCrc, writeInt64 } from '../../src/records/batch-header.js'
import { buildRecordBatchSync } from '../../src/records/builder.js'

const BASE_TIMESTAMP_OFFSET = 27
const MAX_TIMESTAMP_OFFSET = 35
const RECORDS_OFFSET = 61

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
    // About 8 bytes of per-record framing for small records (length, attributes, deltas,
    // key and value lengths, header count).
    this.records = Math.max(1, Math.min(Math.floor(batchBytes / (messageSize + 8)),
      Math.floor(recordsMax)))
    this.#template = buildRecordBatchSync(Array.from({ length: this.records },
      (_, i) => ({ value: Buffer.alloc(messageSize, i % 251) })))
    this.size = this.#template.length
    this.#stampAt = RECORDS_OFFSET + firstValueOffset(this.#template.subarray(RECORDS_OFFSET))
  }

  /** A batch stamped now; return it with `release` once the broker answered. */
  take (): Buffer {
    const buffer = this.#free.pop() ?? Buffer.allocUnsafe(this.size)
    this.#template.copy(buffer)
    const now = nowEpochMs()
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
  let position = 0
  const varint = (): number => {
    let raw = 0
    let shift = 0
    for (;;) {
      const byte = body[position++] as number
      raw += (byte & 0x7f) * 2 ** shift
      if ((byte & 0x80) === 0) break
      shift += 7
    }
    return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2
  }
  varint() // length
  position++ // attributes
  varint() // timestamp delta
  varint() // offset delta
  const keyLength = varint()
  if (keyLength > 0) position += keyLength
  varint() // value length
  return position
}
