/**
 * The HTTP `timestamp` field: Unix milliseconds as in Kafka; a number below 10^11 is Unix
 * seconds (10^11 ms is March 1973, so no real millisecond timestamp is that small, while 10^11
 * s is the year 5138); or an ISO-8601 date-time with a zone. The schema (schemas.ts,
 * `Timestamp`) has already checked the type, range and format; this turns it into the
 * milliseconds Kafka stores.
 */
import { HttpError } from './errors.js'

export const SECONDS_BELOW = 1e11

export function timestampMs (value: number | string, field: string): number {
  const ms = typeof value === 'number'
    ? (value < SECONDS_BELOW ? Math.round(value * 1000) : Math.trunc(value))
    : Date.parse(value)
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new HttpError(422, 6, `${field} is not a timestamp this broker can store`,
      [{ field, message: 'must be a date-time from 1970 on' }])
  }
  return ms
}
