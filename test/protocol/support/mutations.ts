/**
 * Byte-level mutations of valid encodings, for the fuzz and property tests: bytes set to
 * boundary values, inserted, deleted, the buffer truncated, and 2 or 4 bytes overwritten with
 * length- and count-like extremes (a huge or negative size where a size is expected).
 */
import fc from 'fast-check'

export type Mutation =
  | { kind: 'set', at: number, value: number }
  | { kind: 'insert', at: number, bytes: Uint8Array }
  | { kind: 'delete', at: number, count: number }
  | { kind: 'truncate', at: number }
  | { kind: 'size', at: number, value: number, width: 2 | 4 }

const BYTE = fc.oneof(fc.constantFrom(0x00, 0x7f, 0x80, 0xff, 0x01, 0xfe), fc.nat(255))
/** Sizes and counts at the edges: negative, zero, the int16 and int32 maxima, just past them. */
const SIZE = fc.constantFrom(-2, -1, 0, 1, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000,
  0xffffffff, 200_001, 1_000_000)

export const MUTATION: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: BYTE }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 6 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(),
    count: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('size' as const), at: fc.nat(), value: SIZE,
    width: fc.constantFrom(2 as const, 4 as const) }),
)

export function mutate (bytes: Buffer, mutations: Mutation[]): Buffer {
  let result = Buffer.from(bytes)
  for (const mutation of mutations) {
    const at = result.length === 0 ? 0 : mutation.at % (result.length + 1)
    switch (mutation.kind) {
      case 'set':
        if (at < result.length) result[at] = mutation.value
        break
      case 'insert':
        result = Buffer.concat([result.subarray(0, at), mutation.bytes, result.subarray(at)])
        break
      case 'delete':
        result = Buffer.concat([result.subarray(0, at), result.subarray(at + mutation.count)])
        break
      case 'truncate':
        result = result.subarray(0, at)
        break
      case 'size':
        if (at + mutation.width <= result.length) {
          const unsigned = mutation.value >>> 0
          if (mutation.width === 2) result.writeUInt16BE(unsigned & 0xffff, at)
          else result.writeUInt32BE(unsigned, at)
        }
        break
    }
  }
  return result
}
