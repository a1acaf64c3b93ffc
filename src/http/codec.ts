/**
 * Keys and values over HTTP: a request may give a string (stored as UTF-8), any other JSON
 * value (stored as its JSON text) or `{ "base64": "..." }` (stored as those bytes). A response
 * gives a stored value back as a string when it is valid UTF-8, else as `{ "base64": ... }`.
 * REST Proxy v2's binary format carries base64 strings instead.
 *
 * The native API (/api/v1) round-trips JSON: a key or value sent as a JSON value other than a
 * string is stored with the record header `content-type: application/json` (for a value) or
 * `key-content-type: application/json` (for a key), and a record carrying that header is read
 * back as the JSON value, whoever produced it. Strings stay strings, bytes stay base64 objects.
 */
import { HttpError } from './errors.js'

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

export function isBase64Object (value: unknown): value is { base64: string } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) &&
    Object.keys(value).length === 1 && typeof (value as { base64?: unknown }).base64 === 'string'
}

export function decodeBase64 (text: string, field: string): Buffer {
  if (text.length % 4 !== 0 || !BASE64.test(text)) {
    throw new HttpError(422, 6, `${field} is not valid base64`,
      [{ field, message: 'must be valid base64' }])
  }
  return Buffer.from(text, 'base64')
}

export const JSON_TYPE = 'application/json'
export const VALUE_TYPE_HEADER = 'content-type'
export const KEY_TYPE_HEADER = 'key-content-type'

/** A JSON value stored as JSON text: anything but null, a string or a base64 object. */
export function isJsonValue (value: unknown): boolean {
  return value !== null && value !== undefined && typeof value !== 'string' &&
    !isBase64Object(value)
}

/**
 * The record headers a native produce stores: the client's, then the type headers for a JSON
 * key or value unless the client set that header itself (its word wins).
 */
export function headersFor (key: unknown, value: unknown,
  given: Record<string, string | null>): { key: string, value: Buffer | null }[] {
  const headers = Object.entries(given).map(([name, text]) => ({
    key: name, value: text === null ? null : Buffer.from(text) }))
  const typed = (name: string, part: unknown): void => {
    if (isJsonValue(part) && !(name in given)) {
      headers.push({ key: name, value: Buffer.from(JSON_TYPE) })
    }
  }
  typed(KEY_TYPE_HEADER, key)
  typed(VALUE_TYPE_HEADER, value)
  return headers
}

type Rendered = string | { base64: string } | null

/** A consumed record as the native API shows it: JSON parts parsed back (see above). */
export function withJsonParts<T extends { key: Rendered, value: Rendered,
  headers: Record<string, Rendered> }> (record: T): Omit<T, 'key' | 'value'> &
  { key: unknown, value: unknown } {
  const parse = (part: Rendered, header: string): unknown => {
    if (typeof part !== 'string' || record.headers[header] !== JSON_TYPE) return part
    try {
      return JSON.parse(part)
    } catch {
      return part
    }
  }
  return { ...record, key: parse(record.key, KEY_TYPE_HEADER),
    value: parse(record.value, VALUE_TYPE_HEADER) }
}

export function toBytes (value: unknown, field: string): Buffer | null {
  if (value === null || value === undefined) return null
  if (typeof value === 'string') return Buffer.from(value)
  if (isBase64Object(value)) return decodeBase64(value.base64, field)
  return Buffer.from(JSON.stringify(value))
}

const decoder = new TextDecoder('utf-8', { fatal: true })

export function fromBytes (bytes: Buffer | null): string | { base64: string } | null {
  if (bytes === null) return null
  try {
    return decoder.decode(bytes)
  } catch {
    return { base64: bytes.toString('base64') }
  }
}
