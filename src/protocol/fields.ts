/**
 * The field model of the schema-driven codec (schema.ts): a field's type, the versions it
 * exists in, when it may be null, and the value a message holds for it when the version does
 * not carry it. Shared by the codec and by the error-response builder (error-response.ts).
 */

export type Primitive =
  | 'int8' | 'int16' | 'int32' | 'int64' | 'uint16' | 'float64' | 'bool' | 'uuid'
  | 'string' | 'bytes' | 'records'

/**
 * A field's type: a primitive; an array of structs (`Field[]`) or of primitives (`{ items }`);
 * or one struct (`{ struct }`, Kafka's struct-typed fields such as a cursor), which when
 * nullable goes on the wire behind an int8 marker: -1 for null, 1 before the struct.
 */
export type FieldType =
  | Primitive | Field[] | { items: Primitive | Field[] } | { struct: Field[] }

export interface Field {
  name: string
  type: FieldType
  /** [first, last] version the field exists in; last defaults to unbounded. */
  versions: [number, number?]
  /** First version in which the field may be null. */
  nullableFrom?: number
  /** Value when absent from the version (default: a zero of the type). */
  default?: unknown
  /**
   * For a string, or an array of strings: the most bytes of UTF-8 a value may decode to, where
   * it differs from the message's default (decode-limits.ts: names in requests, and the
   * request fields that keep Kafka's full string limit).
   */
  maxBytes?: number
  /**
   * A tagged field (KIP-482; Kafka's JSON `taggedVersions` + `tag`): carried in the struct's
   * tagged-field buffer under this tag, in the flexible versions within `versions`, and left
   * off the wire while it holds its default.
   */
  tag?: number
}

export type Message = Record<string, unknown>

export function present (field: Field, version: number): boolean {
  const [first, last] = field.versions
  return version >= first && (last === undefined || version <= last)
}

export function nullable (field: Field, version: number): boolean {
  return field.nullableFrom !== undefined && version >= field.nullableFrom
}

/**
 * Shared values for fields a version does not carry, so that a decoded message of many
 * elements does not allocate an empty array or a zero UUID per element. The array is frozen:
 * a handler that tried to fill it in would otherwise change every message at once; the UUID
 * is only ever read or written to the wire.
 */
const ABSENT_ARRAY: readonly unknown[] = Object.freeze([])
const ABSENT_UUID = Buffer.alloc(16)

/** The struct fields of a single-struct type, or undefined for any other type. */
export function structFieldsOf (type: FieldType): Field[] | undefined {
  return typeof type === 'object' && 'struct' in type ? type.struct : undefined
}

/** The element type of an array type, or undefined for any other type. */
export function arrayItemsOf (type: FieldType): Primitive | Field[] | undefined {
  if (Array.isArray(type)) return type
  return typeof type === 'object' && 'items' in type ? type.items : undefined
}

export function zero (field: Field): unknown {
  if (field.default !== undefined) return field.default
  const type = field.type
  // A struct field states its default (null, in every Kafka schema that has one).
  if (structFieldsOf(type) !== undefined) return null
  if (Array.isArray(type) || typeof type === 'object') return ABSENT_ARRAY
  switch (type) {
    case 'bool': return false
    case 'string': return ''
    case 'bytes': case 'records': return null
    case 'uuid': return ABSENT_UUID
    default: return 0
  }
}

/** A missing value encodes as null where the version allows it, else as the type's zero. */
export function zeroFor (field: Field, version: number): unknown {
  if (nullable(field, version)) return null
  const value = zero(field)
  if (value !== null) return value
  return field.type === 'string' ? '' : Buffer.alloc(0)
}
