/**
 * Test helpers for the protocol codecs: a fast-check arbitrary of valid messages built from an
 * API's schema (every field present in the version gets a random value of its type, every
 * field absent from it gets the value the decoder fills in), and a strict round trip.
 */
import assert from 'node:assert/strict'
import fc from 'fast-check'
import type { ApiDefinition } from '../../../src/protocol/api.js'
import { ProtocolDecodeError, Reader } from '../../../src/protocol/reader.js'
import { schemaOf, type Field, type Primitive } from '../../../src/protocol/schema.js'
import { Writer } from '../../../src/protocol/writer.js'

export type Direction = 'request' | 'response'
type Message = Record<string, unknown>

const INT64 = fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER })
const BYTES = fc.uint8Array({ maxLength: 40 }).map(bytes => Buffer.from(bytes))

function present (field: Field, version: number): boolean {
  const [first, last] = field.versions
  return version >= first && (last === undefined || version <= last)
}

const STRING = fc.string({ maxLength: 20 })

function primitive (type: Primitive, canBeNull: boolean,
  strings: fc.Arbitrary<string> = STRING): fc.Arbitrary<unknown> {
  const nullable = <T>(value: fc.Arbitrary<T>): fc.Arbitrary<T | null> =>
    canBeNull ? fc.option(value, { nil: null, freq: 4 }) : value
  switch (type) {
    case 'int8': return fc.integer({ min: -128, max: 127 })
    case 'int16': return fc.integer({ min: -32768, max: 32767 })
    case 'uint16': return fc.integer({ min: 0, max: 65535 })
    case 'int32': return fc.integer({ min: -0x80000000, max: 0x7fffffff })
    case 'int64': return INT64
    case 'float64': return fc.double()
    case 'bool': return fc.boolean()
    case 'uuid': return fc.uint8Array({ minLength: 16, maxLength: 16 }).map(b => Buffer.from(b))
    case 'string': return nullable(strings)
    case 'bytes': return nullable(BYTES)
    // An empty or null record set goes on the wire as size 0 and decodes as an empty buffer.
    case 'records': return BYTES
  }
}

/** What the decoder yields for a field the version does not carry. */
function absentValue (field: Field): unknown {
  if (field.default !== undefined) return field.default
  const type = field.type
  if (typeof type === 'object') return 'struct' in type ? null : []
  switch (type) {
    case 'bool': return false
    case 'string': return ''
    case 'bytes': case 'records': return null
    case 'uuid': return Buffer.alloc(16)
    default: return 0
  }
}

/**
 * Random valid messages of `version`. `strings` generates every string (default: short
 * Unicode); with `HOSTILE_STRINGS` and `HostileWriter`, strings go on the wire as raw bytes.
 */
export function messageArbitrary (fields: Field[], version: number,
  depth = 0, strings: fc.Arbitrary<string> = STRING): fc.Arbitrary<Message> {
  const record: Record<string, fc.Arbitrary<unknown>> = {}
  for (const field of fields) {
    if (!present(field, version)) {
      record[field.name] = fc.constant(absentValue(field))
      continue
    }
    const canBeNull = field.nullableFrom !== undefined && version >= field.nullableFrom
    const type = field.type
    if (typeof type === 'object' && 'struct' in type) {
      const struct = messageArbitrary(type.struct, version, depth + 1, strings)
      record[field.name] = canBeNull ? fc.option(struct, { nil: null, freq: 4 }) : struct
    } else if (typeof type === 'object') {
      const items = Array.isArray(type) ? type : type.items
      const item = Array.isArray(items)
        ? messageArbitrary(items, version, depth + 1, strings)
        : primitive(items, false, strings)
      const array = fc.array(item, { maxLength: depth === 0 ? 3 : 2 })
      record[field.name] = canBeNull ? fc.option(array, { nil: null, freq: 4 }) : array
    } else {
      record[field.name] = primitive(type, canBeNull, strings)
    }
  }
  return fc.record(record, { noNullPrototype: true })
}

export function fieldsOf (api: ApiDefinition<unknown, unknown>, direction: Direction): Field[] {
  const schema = schemaOf(api)
  assert.ok(schema !== undefined, `${api.name} has no schema`)
  return direction === 'request' ? schema.request : schema.response
}

export function encode (api: ApiDefinition<unknown, unknown>, direction: Direction,
  version: number, message: unknown): Buffer {
  const writer = new Writer(16)
  if (direction === 'request') api.encodeRequest(writer, version, message)
  else api.encodeResponse(writer, version, message)
  return writer.toBuffer()
}

export function decode (api: ApiDefinition<unknown, unknown>, direction: Direction,
  version: number, bytes: Buffer): unknown {
  const reader = new Reader(bytes)
  const message = direction === 'request'
    ? api.decodeRequest(reader, version)
    : api.decodeResponse(reader, version)
  assert.equal(reader.remaining, 0, `${api.name} v${version} ${direction} left bytes unread`)
  return message
}

/** Encodes, decodes, checks deep equality and that re-encoding gives the same bytes. */
export function assertRoundTrip (api: ApiDefinition<any, any>, direction: Direction,
  version: number, message: unknown): Buffer {
  const bytes = encode(api, direction, version, message)
  const decoded = decode(api, direction, version, bytes)
  assert.deepEqual(decoded, message, `${api.name} v${version} ${direction} round trip`)
  assert.ok(encode(api, direction, version, decoded).equals(bytes),
    `${api.name} v${version} ${direction} re-encodes to the same bytes`)
  return bytes
}

export function versionsOf (api: { minVersion: number, maxVersion: number }): number[] {
  const versions: number[] = []
  for (let version = api.minVersion; version <= api.maxVersion; version++) versions.push(version)
  return versions
}

/** The seed of randomized protocol tests: PROTOCOL_SEED=<n> replays a run. */
export const PROTOCOL_SEED = Number(process.env.PROTOCOL_SEED ?? Date.now() % 1_000_000)

/**
 * Random valid messages of every version and direction round-trip exactly (deep equality
 * and identical bytes on re-encoding).
 */
export function checkRandomRoundTrips (api: ApiDefinition<any, any>, runsPerCase = 40): void {
  for (const version of versionsOf(api)) {
    for (const direction of ['request', 'response'] as const) {
      fc.assert(fc.property(messageArbitrary(fieldsOf(api, direction), version), message => {
        assertRoundTrip(api, direction, version, message)
      }), { seed: PROTOCOL_SEED, numRuns: runsPerCase })
    }
  }
}

/** Every proper prefix of `bytes` is rejected with ProtocolDecodeError. */
export function assertPrefixesRejected (api: ApiDefinition<any, any>, direction: Direction,
  version: number, bytes: Buffer): void {
  for (let length = 0; length < bytes.length; length++) {
    assert.throws(() => decode(api, direction, version, bytes.subarray(0, length)),
      ProtocolDecodeError, `${api.name} v${version} ${direction} prefix of ${length} bytes`)
  }
}

/**
 * A writer that puts each string on the wire as raw bytes, one byte per character code
 * (latin1), so a string of U+0080-U+00FF characters becomes invalid UTF-8, and that skips the
 * writer's length check: the bytes a hostile client can send, not the ones our writer would.
 */
export class HostileWriter extends Writer {
  override nullableString (value: string | null): this {
    if (value === null) return this.int16(-1)
    const bytes = Buffer.from(value, 'latin1')
    return this.int16(bytes.length).raw(bytes)
  }

  override compactNullableString (value: string | null): this {
    if (value === null) return this.uvarint(0)
    const bytes = Buffer.from(value, 'latin1')
    return this.uvarint(bytes.length + 1).raw(bytes)
  }
}

/** The longest string a classic (int16-length) field can carry. */
const CLASSIC_STRING_MAX = 0x7fff

/**
 * Strings as a hostile client sends them through HostileWriter: mostly short runs of any byte
 * (invalid UTF-8 included), sometimes long runs of 0xFF around the limits where U+FFFD
 * expansion (3 bytes per invalid byte) crosses the identifier and string bounds.
 */
export const HOSTILE_STRINGS: fc.Arbitrary<string> = fc.oneof(
  { weight: 12, arbitrary: fc.string({ unit: fc.integer({ min: 0, max: 255 })
    .map(code => String.fromCharCode(code)), maxLength: 24 }) },
  { weight: 1, arbitrary: fc.constantFrom(3641, 5461, 5462, 10922, 10923, 16384, 16385,
    CLASSIC_STRING_MAX).map(length => '\u00ff'.repeat(length)) },
)

/** Encodes a request or response with HostileWriter. */
export function encodeHostile (api: ApiDefinition<unknown, unknown>, direction: Direction,
  version: number, message: unknown): Buffer {
  const writer = new HostileWriter(16)
  if (direction === 'request') api.encodeRequest(writer, version, message)
  else api.encodeResponse(writer, version, message)
  return writer.toBuffer()
}
