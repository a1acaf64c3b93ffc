/**
 * Keys and values over HTTP: a request may give a string (stored as UTF-8), any other JSON
 * value (stored as its JSON text) or `{ "base64": "..." }` (stored as those bytes). A response
 * gives a stored value back as a string when it is valid UTF-8, else as `{ "base64": ... }`.
 * REST Proxy v2's binary format carries base64 strings instead.
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
