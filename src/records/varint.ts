/**
 * Zig-zag varints as records use them (DefaultRecord: lengths, deltas, header counts).
 * `readVarint` returns the value and advances `cursor.position`; it throws RecordsError on a
 * truncated or over-long varint, never reads past `end`.
 */
import { RecordsError } from './errors.js'

export interface Cursor {
  position: number
}

export function readVarint (buffer: Buffer, cursor: Cursor, end: number): number {
  const position = cursor.position
  // Fast paths: most varints in a record (attributes-adjacent deltas, small lengths) fit in
  // one or two bytes; decode them with integer ops (the profile's top broker hot spot).
  if (position < end) {
    const first = buffer[position] as number
    if (first < 0x80) {
      cursor.position = position + 1
      return (first >>> 1) ^ -(first & 1)
    }
    if (position + 1 < end) {
      const second = buffer[position + 1] as number
      if (second < 0x80) {
        const raw = (first & 0x7f) | (second << 7)
        cursor.position = position + 2
        return (raw >>> 1) ^ -(raw & 1)
      }
    }
  }
  return readVarintSlow(buffer, cursor, end)
}

function readVarintSlow (buffer: Buffer, cursor: Cursor, end: number): number {
  let raw = 0
  let shift = 0
  let position = cursor.position
  for (;;) {
    if (position >= end) {
      throw new RecordsError('CORRUPT_MESSAGE', `truncated varint at ${cursor.position}`)
    }
    const byte = buffer[position++] as number
    raw += (byte & 0x7f) * 2 ** shift
    if ((byte & 0x80) === 0) break
    shift += 7
    if (shift > 63) throw new RecordsError('CORRUPT_MESSAGE', 'varint longer than 10 bytes')
  }
  cursor.position = position
  // Zig-zag: even raw values are positive, odd ones negative.
  return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2
}

export function varintSize (value: number): number {
  let raw = value >= 0 ? value * 2 : -value * 2 - 1
  let size = 1
  while (raw >= 0x80) {
    raw = Math.floor(raw / 128)
    size++
  }
  return size
}

export function writeVarint (buffer: Buffer, position: number, value: number): number {
  let raw = value >= 0 ? value * 2 : -value * 2 - 1
  while (raw >= 0x80) {
    buffer[position++] = (raw & 0x7f) | 0x80
    raw = Math.floor(raw / 128)
  }
  buffer[position++] = raw
  return position
}
