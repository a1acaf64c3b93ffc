/**
 * A writer of Kafka wire primitives that builds a response as a list of chunks.
 *
 * Small fields go into a growing scratch buffer; large byte fields (the record batches of a
 * Fetch response, read straight from segment files) are appended by reference with
 * `bytesReference`, so a fetch never copies its records into the response. `toChunks()` returns
 * the chunks in order for a vectored socket write; `size` is their total, used for the frame's
 * int32 length prefix.
 */
import type { TaggedFields } from './reader.js'
import { STRING_BYTES_MAX } from './decode-limits.js'

const INITIAL_SCRATCH_BYTES = 256
/** Byte fields at least this large are referenced instead of copied into the scratch buffer. */
const REFERENCE_THRESHOLD_BYTES = 1024

/** A message that would pass its writer's limit (`Writer.limitTo`). */
export class MessageTooLargeError extends RangeError {
  override name = 'MessageTooLargeError'
}

export class Writer {
  #chunks: Buffer[] = []
  #scratch: Buffer
  #position = 0
  #start = 0
  #flushedBytes = 0

  /** Bytes this writer may hold; past it a write throws (see `limitTo`). */
  #bytesMax = Number.POSITIVE_INFINITY

  constructor (initialBytes = INITIAL_SCRATCH_BYTES) {
    this.#scratch = Buffer.allocUnsafe(initialBytes)
  }

  /**
   * Caps what this writer may hold: a write that would take it past `bytesMax` throws
   * `MessageTooLargeError` before allocating. A response whose encoding repeats large parts
   * (say a DescribeGroups naming one group thirty thousand times) stops there instead of
   * growing to gigabytes.
   */
  limitTo (bytesMax: number): this {
    this.#bytesMax = bytesMax
    return this
  }

  #checkLimit (bytes: number): void {
    if (this.size + bytes > this.#bytesMax) {
      throw new MessageTooLargeError(
        `the message would be larger than its limit of ${this.#bytesMax} bytes`)
    }
  }

  /**
   * A new, empty writer of the same kind, for a part written apart and then inserted (a
   * tagged field, whose size precedes it).
   */
  fork (): Writer {
    return new (this.constructor as new (initialBytes: number) => Writer)(16)
  }

  /** Total bytes written so far. */
  get size (): number {
    return this.#flushedBytes + (this.#position - this.#start)
  }

  #ensure (bytes: number): void {
    this.#checkLimit(bytes)
    if (this.#position + bytes <= this.#scratch.length) return
    this.#sealScratch()
    this.#scratch = Buffer.allocUnsafe(Math.max(bytes, this.#scratch.length * 2))
    this.#position = 0
    this.#start = 0
  }

  /** Moves the written part of the scratch buffer into the chunk list. */
  #sealScratch (): void {
    if (this.#position > this.#start) {
      this.#chunks.push(this.#scratch.subarray(this.#start, this.#position))
      this.#flushedBytes += this.#position - this.#start
      this.#start = this.#position
    }
  }

  int8 (value: number): this {
    this.#ensure(1)
    this.#scratch.writeInt8(value, this.#position)
    this.#position += 1
    return this
  }

  boolean (value: boolean): this {
    return this.int8(value ? 1 : 0)
  }

  int16 (value: number): this {
    this.#ensure(2)
    this.#scratch.writeInt16BE(value, this.#position)
    this.#position += 2
    return this
  }

  uint16 (value: number): this {
    this.#ensure(2)
    this.#scratch.writeUInt16BE(value, this.#position)
    this.#position += 2
    return this
  }

  int32 (value: number): this {
    this.#ensure(4)
    this.#scratch.writeInt32BE(value, this.#position)
    this.#position += 4
    return this
  }

  uint32 (value: number): this {
    this.#ensure(4)
    this.#scratch.writeUInt32BE(value, this.#position)
    this.#position += 4
    return this
  }

  int64 (value: number): this {
    this.#ensure(8)
    const high = Math.floor(value / 0x100000000)
    this.#scratch.writeInt32BE(high, this.#position)
    this.#scratch.writeUInt32BE(value - high * 0x100000000, this.#position + 4)
    this.#position += 8
    return this
  }

  float64 (value: number): this {
    this.#ensure(8)
    this.#scratch.writeDoubleBE(value, this.#position)
    this.#position += 8
    return this
  }

  uuid (value: Buffer): this {
    return this.raw(value.length === 16 ? value : Buffer.alloc(16))
  }

  uvarint (value: number): this {
    this.#ensure(5)
    let remaining = value
    while (remaining >= 0x80) {
      this.#scratch[this.#position++] = (remaining & 0x7f) | 0x80
      remaining = Math.floor(remaining / 128)
    }
    this.#scratch[this.#position++] = remaining
    return this
  }

  varint (value: number): this {
    return this.uvarint(value >= 0 ? value * 2 : -value * 2 - 1)
  }

  /** Raw bytes, copied. */
  raw (bytes: Uint8Array): this {
    this.#ensure(bytes.length)
    this.#scratch.set(bytes, this.#position)
    this.#position += bytes.length
    return this
  }

  /** Raw bytes appended by reference (no copy); the caller must not modify them afterwards. */
  rawReference (bytes: Buffer): this {
    if (bytes.length < REFERENCE_THRESHOLD_BYTES) return this.raw(bytes)
    this.#checkLimit(bytes.length)
    this.#sealScratch()
    this.#chunks.push(bytes)
    this.#flushedBytes += bytes.length
    return this
  }

  nullableString (value: string | null): this {
    if (value === null) return this.int16(-1)
    const length = stringBytes(value)
    this.int16(length)
    this.#ensure(length)
    this.#position += this.#scratch.write(value, this.#position)
    return this
  }

  compactNullableString (value: string | null): this {
    if (value === null) return this.uvarint(0)
    const length = stringBytes(value)
    this.uvarint(length + 1)
    this.#ensure(length)
    this.#position += this.#scratch.write(value, this.#position)
    return this
  }

  /** A (nullable) string in the encoding of the message version: compact when flexible. */
  stringOf (flexible: boolean, value: string | null): this {
    return flexible ? this.compactNullableString(value) : this.nullableString(value)
  }

  nullableBytes (value: Buffer | null): this {
    if (value === null) return this.int32(-1)
    this.int32(value.length)
    return this.rawReference(value)
  }

  compactNullableBytes (value: Buffer | null): this {
    if (value === null) return this.uvarint(0)
    this.uvarint(value.length + 1)
    return this.rawReference(value)
  }

  bytesOf (flexible: boolean, value: Buffer | null): this {
    return flexible ? this.compactNullableBytes(value) : this.nullableBytes(value)
  }

  /** An array (null allowed) with an int32 count, or a compact count+1 when flexible. */
  arrayOf<T> (flexible: boolean, items: readonly T[] | null,
    element: (writer: Writer, item: T) => void): this {
    if (items === null) return flexible ? this.uvarint(0) : this.int32(-1)
    if (flexible) this.uvarint(items.length + 1)
    else this.int32(items.length)
    for (const item of items) element(this, item)
    return this
  }

  int32ArrayOf (flexible: boolean, items: readonly number[]): this {
    return this.arrayOf(flexible, items, (writer, item) => writer.int32(item))
  }

  /** The tagged-field buffer that ends every flexible struct (KIP-482). */
  taggedFields (fields?: TaggedFields): this {
    if (fields === undefined || fields.size === 0) return this.uvarint(0)
    this.uvarint(fields.size)
    for (const tag of [...fields.keys()].sort((a, b) => a - b)) {
      const value = fields.get(tag) as Buffer
      this.uvarint(tag).uvarint(value.length).raw(value)
    }
    return this
  }

  taggedFieldsIf (flexible: boolean, fields?: TaggedFields): this {
    return flexible ? this.taggedFields(fields) : this
  }

  /** The chunks written, in order. The writer must not be used afterwards. */
  toChunks (): Buffer[] {
    this.#sealScratch()
    return this.#chunks
  }

  /** One contiguous buffer (copies when there are several chunks): for tests and small frames. */
  toBuffer (): Buffer {
    const chunks = this.toChunks()
    return chunks.length === 1 ? chunks[0] as Buffer : Buffer.concat(chunks)
  }
}

/**
 * The UTF-8 length of a string to write, which Kafka caps at 0x7fff for classic and compact
 * strings alike. The reader bounds every string it decodes by the same limit
 * (decode-limits.ts), so an echoed string always fits; a longer one is a bug in what the broker
 * built, reported with its length rather than as Node's ERR_OUT_OF_RANGE.
 */
function stringBytes (value: string): number {
  const length = Buffer.byteLength(value)
  if (length > STRING_BYTES_MAX) {
    throw new RangeError(`a string of ${length} bytes of UTF-8 exceeds the ${STRING_BYTES_MAX}` +
      '-byte limit of a Kafka string')
  }
  return length
}
