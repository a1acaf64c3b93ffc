/**
 * A bounds-checked reader of Kafka wire primitives (big-endian), covering both the classic
 * encodings (int16-length strings, int32-length bytes and arrays) and the flexible ones of KIP-482
 * (unsigned-varint length+1 compact strings, bytes and arrays, and tagged-field buffers).
 *
 * Input is hostile: every read checks the remaining bytes first, and every length or count is
 * checked against what is left in the frame before anything is allocated, so a forged size
 * prefix can never make the broker allocate more than the frame it already holds. Any failure
 * throws `ProtocolDecodeError`, which the network layer turns into a closed connection.
 *
 * Strings are bounded by what can be written back (decode-limits.ts): the length prefix before
 * anything is read, and the decoded UTF-8 length after invalid bytes became U+FFFD.
 */
import { STRING_BYTES_MAX } from './decode-limits.js'

export class ProtocolDecodeError extends Error {
  override name = 'ProtocolDecodeError'
}

/** How many more array elements one message may decode into (decode-limits.ts). */
export interface ElementBudget {
  readonly elementsMax: number
  elementsLeft: number
}

/** Tagged fields we do not understand are kept raw so that a re-encode can carry them. */
export type TaggedFields = Map<number, Buffer>

const EMPTY_BUFFER = Buffer.alloc(0)

export class Reader {
  readonly buffer: Buffer
  offset: number
  readonly end: number

  constructor (buffer: Buffer, offset = 0, end = buffer.length) {
    this.buffer = buffer
    this.offset = offset
    this.end = end
  }

  get remaining (): number {
    return this.end - this.offset
  }

  #need (bytes: number, what: string): void {
    if (bytes < 0 || this.offset + bytes > this.end) {
      throw new ProtocolDecodeError(
        `truncated ${what}: need ${bytes} bytes at offset ${this.offset}, have ${this.remaining}`)
    }
  }

  int8 (): number {
    this.#need(1, 'int8')
    return this.buffer.readInt8(this.offset++)
  }

  boolean (): boolean {
    return this.int8() !== 0
  }

  int16 (): number {
    this.#need(2, 'int16')
    const value = this.buffer.readInt16BE(this.offset)
    this.offset += 2
    return value
  }

  uint16 (): number {
    this.#need(2, 'uint16')
    const value = this.buffer.readUInt16BE(this.offset)
    this.offset += 2
    return value
  }

  int32 (): number {
    this.#need(4, 'int32')
    const value = this.buffer.readInt32BE(this.offset)
    this.offset += 4
    return value
  }

  uint32 (): number {
    this.#need(4, 'uint32')
    const value = this.buffer.readUInt32BE(this.offset)
    this.offset += 4
    return value
  }

  /**
   * An int64 as a JS number. Offsets, timestamps and ids beyond ±2^53 cannot be represented;
   * they are rejected as malformed rather than silently rounded.
   */
  int64 (): number {
    this.#need(8, 'int64')
    const high = this.buffer.readInt32BE(this.offset)
    const low = this.buffer.readUInt32BE(this.offset + 4)
    this.offset += 8
    if (high >= 0x200000 || high < -0x200000) {
      // -1 and other small negatives have high = -1 and are fine; only huge magnitudes fail.
      throw new ProtocolDecodeError(`int64 out of the safe integer range at ${this.offset - 8}`)
    }
    return high * 0x100000000 + low
  }

  float64 (): number {
    this.#need(8, 'float64')
    const value = this.buffer.readDoubleBE(this.offset)
    this.offset += 8
    return value
  }

  uuid (): Buffer {
    this.#need(16, 'uuid')
    const value = this.buffer.subarray(this.offset, this.offset + 16)
    this.offset += 16
    return value
  }

  /** Unsigned varint (protobuf style), at most 5 bytes for a uint32. */
  uvarint (): number {
    let result = 0
    let shift = 0
    for (let i = 0; i < 5; i++) {
      this.#need(1, 'varint')
      const byte = this.buffer[this.offset++] as number
      result += (byte & 0x7f) * 2 ** shift
      if ((byte & 0x80) === 0) return result
      shift += 7
    }
    throw new ProtocolDecodeError(`varint longer than 5 bytes at ${this.offset}`)
  }

  /** Zig-zag signed varint (as used inside records and in a few flexible fields). */
  varint (): number {
    const raw = this.uvarint()
    return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2
  }

  /** A length that must fit in what is left of the frame (`elementBytesMin` per element). */
  #checkedLength (length: number, elementBytesMin: number, what: string): number {
    if (length * elementBytesMin > this.remaining) {
      throw new ProtocolDecodeError(
        `${what} length ${length} exceeds the ${this.remaining} bytes left in the frame`)
    }
    return length
  }

  /**
   * Nullable string with an int16 length (-1 = null), of at most `maxBytes` bytes of UTF-8 once
   * decoded (`what` names the field in the error).
   */
  nullableString (maxBytes = STRING_BYTES_MAX, what = 'string'): string | null {
    const length = this.int16()
    if (length < 0) {
      if (length !== -1) throw new ProtocolDecodeError(`invalid ${what} length ${length}`)
      return null
    }
    return this.#utf8(length, maxBytes, what)
  }

  string (maxBytes = STRING_BYTES_MAX, what = 'string'): string {
    const value = this.nullableString(maxBytes, what)
    if (value === null) throw new ProtocolDecodeError(`null in the non-nullable ${what}`)
    return value
  }

  compactNullableString (maxBytes = STRING_BYTES_MAX, what = 'string'): string | null {
    const lengthPlusOne = this.uvarint()
    if (lengthPlusOne === 0) return null
    return this.#utf8(lengthPlusOne - 1, maxBytes, what)
  }

  compactString (maxBytes = STRING_BYTES_MAX, what = 'string'): string {
    const value = this.compactNullableString(maxBytes, what)
    if (value === null) throw new ProtocolDecodeError(`null in the non-nullable ${what}`)
    return value
  }

  /** A string in the encoding of the message version: compact when flexible. */
  stringOf (flexible: boolean, maxBytes = STRING_BYTES_MAX, what = 'string'): string {
    return flexible ? this.compactString(maxBytes, what) : this.string(maxBytes, what)
  }

  nullableStringOf (flexible: boolean, maxBytes = STRING_BYTES_MAX,
    what = 'string'): string | null {
    return flexible
      ? this.compactNullableString(maxBytes, what)
      : this.nullableString(maxBytes, what)
  }

  /**
   * `length` bytes of UTF-8. Invalid bytes become U+FFFD (3 bytes each when written again), so
   * a decoded string is never shorter in UTF-8 than its wire form and may be up to 3 times
   * longer: the prefix is checked before reading, the decoded length only when it can exceed.
   */
  #utf8 (length: number, maxBytes: number, what: string): string {
    if (length > maxBytes) {
      throw new ProtocolDecodeError(`${what} of ${length} bytes exceeds the limit of ${maxBytes}`)
    }
    this.#need(length, what)
    const value = this.buffer.toString('utf8', this.offset, this.offset + length)
    this.offset += length
    if (length * 3 > maxBytes) {
      const decodedBytes = Buffer.byteLength(value)
      if (decodedBytes > maxBytes) {
        throw new ProtocolDecodeError(`${what} of ${length} bytes decodes to ${decodedBytes} ` +
          `bytes of UTF-8 (each invalid byte becomes U+FFFD), more than the limit of ${maxBytes}`)
      }
    }
    return value
  }

  /** Nullable bytes with an int32 length; returned as a view into the frame (no copy). */
  nullableBytes (): Buffer | null {
    const length = this.int32()
    if (length < 0) {
      if (length !== -1) throw new ProtocolDecodeError(`invalid bytes length ${length}`)
      return null
    }
    return this.#slice(length)
  }

  bytes (): Buffer {
    return this.nullableBytes() ?? EMPTY_BUFFER
  }

  compactNullableBytes (): Buffer | null {
    const lengthPlusOne = this.uvarint()
    if (lengthPlusOne === 0) return null
    return this.#slice(lengthPlusOne - 1)
  }

  nullableBytesOf (flexible: boolean): Buffer | null {
    return flexible ? this.compactNullableBytes() : this.nullableBytes()
  }

  bytesOf (flexible: boolean): Buffer {
    return this.nullableBytesOf(flexible) ?? EMPTY_BUFFER
  }

  #slice (length: number): Buffer {
    this.#need(length, 'bytes')
    const value = this.buffer.subarray(this.offset, this.offset + length)
    this.offset += length
    return value
  }

  /**
   * An array (int32 count, or compact uvarint count+1 when flexible). Null arrays decode as
   * null; `elementBytesMin` (≥ 1) bounds the count by the bytes left before anything is built,
   * and `budget`, when given, by the elements the whole message may still hold.
   */
  nullableArrayOf<T> (flexible: boolean, element: (reader: Reader) => T,
    elementBytesMin = 1, budget?: ElementBudget): T[] | null {
    let count: number
    if (flexible) {
      const countPlusOne = this.uvarint()
      if (countPlusOne === 0) return null
      count = countPlusOne - 1
    } else {
      count = this.int32()
      if (count < 0) {
        if (count !== -1) throw new ProtocolDecodeError(`invalid array length ${count}`)
        return null
      }
    }
    this.#checkedLength(count, Math.max(1, elementBytesMin), 'array')
    if (budget !== undefined) {
      if (count > budget.elementsLeft) {
        throw new ProtocolDecodeError(`array of ${count} elements: the message may hold ` +
          `${budget.elementsLeft} more of its limit of ${budget.elementsMax}`)
      }
      budget.elementsLeft -= count
    }
    const items = new Array<T>(count)
    for (let i = 0; i < count; i++) items[i] = element(this)
    return items
  }

  arrayOf<T> (flexible: boolean, element: (reader: Reader) => T, elementBytesMin = 1): T[] {
    return this.nullableArrayOf(flexible, element, elementBytesMin) ?? []
  }

  /** An int32 array of int32s, the most common shape (replica ids, partitions). */
  int32ArrayOf (flexible: boolean): number[] {
    return this.arrayOf(flexible, reader => reader.int32(), 4)
  }

  /** The tagged-field buffer that ends every flexible struct (KIP-482). */
  taggedFields (): TaggedFields | undefined {
    const count = this.uvarint()
    if (count === 0) return undefined
    this.#checkedLength(count, 2, 'tagged fields')
    const fields: TaggedFields = new Map()
    let previousTag = -1
    for (let i = 0; i < count; i++) {
      const tag = this.uvarint()
      if (tag <= previousTag) throw new ProtocolDecodeError(`tagged fields out of order: ${tag}`)
      previousTag = tag
      const size = this.uvarint()
      fields.set(tag, this.#slice(size))
    }
    return fields
  }

  /** Reads the tagged-field buffer only for flexible versions. */
  taggedFieldsIf (flexible: boolean): TaggedFields | undefined {
    return flexible ? this.taggedFields() : undefined
  }

  /**
   * Checks and steps over a tagged-field buffer whose fields nobody reads, without building
   * anything: a frame of two-byte tagged fields would otherwise become a Map with an entry for
   * every two bytes of it.
   */
  skipTaggedFields (): void {
    this.forEachTaggedField(() => {})
  }

  /**
   * Walks a tagged-field buffer: `visit` gets each field's tag and a reader bounded to its
   * bytes (it may read none of them); the fields are stepped over whatever it reads. Tags must
   * ascend, as Kafka requires.
   */
  forEachTaggedField (visit: (tag: number, field: Reader) => void): void {
    const count = this.uvarint()
    this.#checkedLength(count, 2, 'tagged fields')
    let previousTag = -1
    for (let i = 0; i < count; i++) {
      const tag = this.uvarint()
      if (tag <= previousTag) throw new ProtocolDecodeError(`tagged fields out of order: ${tag}`)
      previousTag = tag
      const size = this.uvarint()
      this.#need(size, 'tagged field')
      visit(tag, new Reader(this.buffer, this.offset, this.offset + size))
      this.offset += size
    }
  }
}
