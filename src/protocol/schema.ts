/**
 * A schema-driven codec for Kafka messages, in the manner of Kafka's own message generator:
 * each API states its fields once, with the versions each field exists in (Kafka's JSON
 * `versions` / `nullableVersions`), and one generic reader/writer handles every version,
 * classic or flexible (KIP-482 compact types and tagged-field buffers). So an API file holds
 * its grammar as data, and raising a version maximum is a matter of adding fields.
 *
 * A field outside its versions is not on the wire: decoding gives its default, encoding skips
 * it. Unknown tagged fields are read and dropped.
 */
import type { DefinedApi } from './api.js'
import { NAME_BYTES_MAX, REQUEST_ELEMENTS_MAX, STRING_BYTES_MAX } from './decode-limits.js'
import { ProtocolDecodeError, type ElementBudget, type Reader } from './reader.js'
import type { Writer } from './writer.js'
import {
  arrayItemsOf, nullable, present, structFieldsOf, zero, zeroFor, type Field, type Message,
  type Primitive,
} from './fields.js'
import { buildErrorResponse, checkErrorEcho, type ErrorEcho } from './error-response.js'

export type { Field, FieldType, Primitive } from './fields.js'

/**
 * The fewest bytes a value of `type` takes on the wire in this version, to bound an array's
 * count by the bytes left before allocating it: a struct takes the sum of its present fields
 * (plus its tagged-field count when flexible), a string or bytes at least its length prefix.
 * Cached per field list and version, since the same schemas are decoded again and again.
 */
function wireBytesMin (type: Primitive | Field[], version: number, flexible: boolean): number {
  if (!Array.isArray(type)) return primitiveBytesMin(type, flexible)
  let cache = STRUCT_BYTES_MIN.get(type)
  if (cache === undefined) {
    cache = new Map()
    STRUCT_BYTES_MIN.set(type, cache)
  }
  const key = flexible ? -1 - version : version
  let bytes = cache.get(key)
  if (bytes === undefined) {
    bytes = flexible ? 1 : 0
    for (const field of type) {
      if (!present(field, version) || field.tag !== undefined) continue
      const fieldType = field.type
      // A struct field takes at least its null marker, or nothing (a struct of no fields).
      bytes += structFieldsOf(fieldType) !== undefined
        ? 0
        : Array.isArray(fieldType) || typeof fieldType === 'object'
          ? (flexible ? 1 : 4)
          : primitiveBytesMin(fieldType, flexible)
    }
    cache.set(key, bytes)
  }
  return bytes
}

const STRUCT_BYTES_MIN = new WeakMap<Field[], Map<number, number>>()

function primitiveBytesMin (type: Primitive, flexible: boolean): number {
  switch (type) {
    case 'int8': case 'bool': return 1
    case 'int16': case 'uint16': return 2
    case 'int32': return 4
    case 'int64': case 'float64': return 8
    case 'uuid': return 16
    case 'string': return flexible ? 1 : 2
    case 'bytes': case 'records': return flexible ? 1 : 4
  }
}

function readPrimitive (reader: Reader, type: Primitive, flexible: boolean,
  canBeNull: boolean, field: Field, stringBytesMax: number): unknown {
  switch (type) {
    case 'int8': return reader.int8()
    case 'int16': return reader.int16()
    case 'uint16': return reader.uint16()
    case 'int32': return reader.int32()
    case 'int64': return reader.int64()
    case 'float64': return reader.float64()
    case 'bool': return reader.boolean()
    case 'uuid': return Buffer.from(reader.uuid())
    case 'string': {
      const value = reader.nullableStringOf(flexible, field.maxBytes ?? stringBytesMax,
        field.name)
      if (value === null && !canBeNull) throw new ProtocolDecodeError(`null ${field.name}`)
      return value
    }
    case 'bytes': case 'records': {
      const value = reader.nullableBytesOf(flexible)
      // Kafka rejects null in a non-nullable bytes field as it does for strings.
      if (value === null && !canBeNull) throw new ProtocolDecodeError(`null ${field.name}`)
      return value
    }
  }
}

function writePrimitive (writer: Writer, type: Primitive, flexible: boolean,
  value: unknown): void {
  switch (type) {
    case 'int8': writer.int8(value as number); return
    case 'int16': writer.int16(value as number); return
    case 'uint16': writer.uint16(value as number); return
    case 'int32': writer.int32(value as number); return
    case 'int64': writer.int64(value as number); return
    case 'float64': writer.float64(value as number); return
    case 'bool': writer.boolean(value as boolean); return
    case 'uuid': writer.uuid(value as Buffer); return
    case 'string': writer.stringOf(flexible, value as string | null); return
    case 'bytes': writer.bytesOf(flexible, value as Buffer | null); return
    case 'records':
      // An empty record set is sent with size 0, never null (librdkafka rejects -1).
      writer.bytesOf(flexible, (value as Buffer | null) ?? Buffer.alloc(0))
  }
}

/**
 * Decodes one struct. `stringBytesMax` bounds each string whose field sets no `maxBytes`, and
 * `budget` counts the array elements of the whole message; without it only the frame bounds
 * them. Requests get NAME_BYTES_MAX and REQUEST_ELEMENTS_MAX (decode-limits.ts). Tagged fields
 * take their default unless the struct's tagged-field buffer carries them; unknown tags are
 * stepped over.
 */
export function decodeStruct (reader: Reader, fields: Field[], version: number,
  flexible: boolean, budget?: ElementBudget, stringBytesMax = STRING_BYTES_MAX): Message {
  const message: Message = {}
  for (const field of fields) {
    message[field.name] = present(field, version) && field.tag === undefined
      ? decodeValue(reader, field, version, flexible, budget, stringBytesMax)
      : zero(field)
  }
  if (!flexible) return message
  reader.forEachTaggedField((tag, fieldReader) => {
    const field = fields.find(f => f.tag === tag && present(f, version))
    if (field === undefined) return
    message[field.name] = decodeValue(fieldReader, field, version, flexible, budget,
      stringBytesMax)
    if (fieldReader.remaining !== 0) {
      throw new ProtocolDecodeError(`${fieldReader.remaining} bytes left in tagged ${field.name}`)
    }
  })
  return message
}

function decodeValue (reader: Reader, field: Field, version: number, flexible: boolean,
  budget: ElementBudget | undefined, stringBytesMax: number): unknown {
  const type = field.type
  const canBeNull = nullable(field, version)
  if (!Array.isArray(type) && typeof type !== 'object') {
    return readPrimitive(reader, type, flexible, canBeNull, field, stringBytesMax)
  }
  const struct = structFieldsOf(type)
  if (struct !== undefined) {
    if (canBeNull) {
      const marker = reader.int8()
      if (marker === -1) return null
      if (marker !== 1) throw new ProtocolDecodeError(`bad null marker ${marker} of ${field.name}`)
    }
    return decodeStruct(reader, struct, version, flexible, budget, stringBytesMax)
  }
  const items = arrayItemsOf(type) as Primitive | Field[]
  const decodeItem = Array.isArray(items)
    ? (r: Reader) => decodeStruct(r, items, version, flexible, budget, stringBytesMax)
    : (r: Reader) => readPrimitive(r, items, flexible, false, field, stringBytesMax)
  const array = reader.nullableArrayOf(flexible, decodeItem,
    wireBytesMin(items, version, flexible), budget)
  if (array === null && !canBeNull) throw new ProtocolDecodeError(`null ${field.name}`)
  return array
}

export function encodeStruct (writer: Writer, fields: Field[], version: number,
  flexible: boolean, message: Message): void {
  let tagged: Map<number, Buffer> | undefined
  for (const field of fields) {
    if (!present(field, version)) continue
    const value = message[field.name] ?? zeroFor(field, version)
    if (field.tag === undefined) {
      encodeValue(writer, field, version, flexible, value)
    } else if (flexible && !holdsDefault(field, value)) {
      const fieldWriter = writer.fork()
      encodeValue(fieldWriter, field, version, flexible, value)
      tagged ??= new Map()
      tagged.set(field.tag, fieldWriter.toBuffer())
    }
  }
  writer.taggedFieldsIf(flexible, tagged)
}

function encodeValue (writer: Writer, field: Field, version: number, flexible: boolean,
  value: unknown): void {
  const type = field.type
  if (!Array.isArray(type) && typeof type !== 'object') {
    writePrimitive(writer, type, flexible, value)
    return
  }
  const struct = structFieldsOf(type)
  if (struct !== undefined) {
    if (nullable(field, version)) {
      writer.int8(value === null ? -1 : 1)
      if (value === null) return
    }
    encodeStruct(writer, struct, version, flexible, (value ?? {}) as Message)
    return
  }
  const items = arrayItemsOf(type) as Primitive | Field[]
  writer.arrayOf(flexible, value as unknown[] | null, (w, item) => {
    if (Array.isArray(items)) encodeStruct(w, items, version, flexible, item as Message)
    else writePrimitive(w, items, flexible, item)
  })
}

/** A tagged field left off the wire: it holds what a decoder fills in when it is absent. */
function holdsDefault (field: Field, value: unknown): boolean {
  const absent = zero(field)
  if (Array.isArray(value)) return value.length === 0 && Array.isArray(absent)
  if (Buffer.isBuffer(value)) return Buffer.isBuffer(absent) && value.equals(absent)
  return value === absent
}

/** The field lists behind each schema-driven API, for generic tests (fuzzing, round trips). */
const SCHEMAS = new WeakMap<object, { request: Field[], response: Field[] }>()

export function schemaOf (api: object): { request: Field[], response: Field[] } | undefined {
  return SCHEMAS.get(api)
}

/** Builds an ApiDefinition from request and response schemas. */
export function defineApi<Request, Response> (spec: {
  key: number
  name: string
  minVersion: number
  maxVersion: number
  flexibleFrom: number
  request: Field[]
  response: Field[]
  /**
   * What an error response repeats of its request (error-response.ts); without it, an error
   * response carries only the top-level error code, for APIs that answer as a whole.
   */
  errorEcho?: ErrorEcho
}): DefinedApi<Request, Response> {
  const flexible = (version: number): boolean => version >= spec.flexibleFrom
  const echo = spec.errorEcho ?? {}
  checkErrorEcho(spec.name, spec.response, spec.request, echo)
  const api: DefinedApi<Request, Response> = {
    key: spec.key,
    name: spec.name,
    minVersion: spec.minVersion,
    maxVersion: spec.maxVersion,
    flexibleFrom: spec.flexibleFrom,
    decodeRequest: (reader, version) =>
      decodeStruct(reader, spec.request, version, flexible(version),
        { elementsMax: REQUEST_ELEMENTS_MAX, elementsLeft: REQUEST_ELEMENTS_MAX },
        NAME_BYTES_MAX) as Request,
    encodeRequest: (writer, version, request) =>
      encodeStruct(writer, spec.request, version, flexible(version), request as Message),
    decodeResponse: (reader, version) =>
      decodeStruct(reader, spec.response, version, flexible(version)) as Response,
    encodeResponse: (writer, version, response) =>
      encodeStruct(writer, spec.response, version, flexible(version), response as Message),
    errorResponse: (request, version, errorCode) =>
      buildErrorResponse(spec.response, echo, request as Message, version,
        errorCode) as Response,
  }
  SCHEMAS.set(api, { request: spec.request, response: spec.response })
  return api
}
