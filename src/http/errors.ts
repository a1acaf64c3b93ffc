/**
 * HTTP errors: one body shape, `{ error_code, message }` (plus `validation_errors` for schema
 * failures), with REST Proxy's code style: HTTP status × 100 + detail. Broker-side Kafka errors
 * map to the closest HTTP status here, and only here.
 */
export class HttpError extends Error {
  override name = 'HttpError'
  readonly status: number
  readonly errorCode: number
  readonly validationErrors: { field: string, message: string }[] | undefined

  constructor (status: number, detail: number, message: string,
    validationErrors?: { field: string, message: string }[]) {
    super(message)
    this.status = status
    this.errorCode = status * 100 + detail
    this.validationErrors = validationErrors
  }
}

export const TOPIC_NOT_FOUND = (topic: string): HttpError =>
  new HttpError(404, 1, `topic '${topic}' not found`)
export const PARTITION_NOT_FOUND = (topic: string, partition: number): HttpError =>
  new HttpError(404, 2, `partition ${partition} of topic '${topic}' not found`)

/** The HTTP face of a Kafka error name from the broker (field: the request field at fault). */
export function fromKafkaError (errorName: string, message: string, field?: string): HttpError {
  const named = field === undefined ? message : `${field}: ${message}`
  switch (errorName) {
    case 'UNKNOWN_TOPIC_OR_PARTITION': return new HttpError(404, 2, named)
    case 'OFFSET_OUT_OF_RANGE': return new HttpError(416, 1, named)
    case 'TOPIC_ALREADY_EXISTS': return new HttpError(409, 1, named)
    case 'INVALID_REPLICATION_FACTOR': return new HttpError(400, 2, named)
    case 'INVALID_PARTITIONS': return new HttpError(400, 3, named)
    case 'INVALID_TOPIC_EXCEPTION': return new HttpError(400, 4, named)
    case 'INVALID_REQUEST': return new HttpError(400, 6, named)
    case 'INVALID_CONFIG': return new HttpError(400, 5, named)
    case 'MESSAGE_TOO_LARGE': case 'RECORD_LIST_TOO_LARGE': return new HttpError(413, 2, named)
    case 'INVALID_TIMESTAMP': case 'INVALID_RECORD': case 'CORRUPT_MESSAGE':
      return new HttpError(422, 6, named)
    case 'REQUEST_TIMED_OUT': return new HttpError(504, 1, named)
    case 'LEADER_NOT_AVAILABLE': return new HttpError(503, 3, `${named} (retry shortly)`)
    // Leadership moved after this broker looked it up, or this broker was fenced: retriable.
    case 'NOT_LEADER_OR_FOLLOWER': return new HttpError(503, 4, `${named} (retry shortly)`)
    // acks=all with fewer in-sync replicas than min.insync.replicas (issue #15). After append,
    // the records are in the leader's log but not acknowledged, as Kafka's producer sees it.
    case 'NOT_ENOUGH_REPLICAS': case 'NOT_ENOUGH_REPLICAS_AFTER_APPEND':
      return new HttpError(503, 7, `${named} (retry shortly)`)
    default: return new HttpError(500, 2, `Kafka error ${errorName}: ${named}`)
  }
}

/** One Ajv error, as fastify hands it over (allErrors: several per request). */
interface SchemaError {
  instancePath?: string
  keyword?: string
  params?: Record<string, unknown>
  propertyName?: string
  message?: string
}

/** Reported schema errors per request: a body of 10,000 bad items gets 10 lines, not 10,000. */
const SCHEMA_ERRORS_SHOWN = 10

const article = (type: string): string => /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`

/** "a name" shortened for a message: what a client sent is echoed only up to 40 characters. */
const quoted = (text: unknown): string => {
  const value = String(text)
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)
}

function schemaErrorMessage (item: SchemaError, meanings: SchemaMeanings): string {
  const params = item.params ?? {}
  const limit = Number(params.limit)
  switch (item.keyword) {
    case 'required': return 'is required'
    case 'additionalProperties': return 'is not a known field'
    case 'type': {
      const types = Array.isArray(params.type) ? params.type : String(params.type).split(',')
      return `must be ${types.map(type => article(String(type))).join(' or ')}`
    }
    case 'pattern': return meanings.patterns[String(params.pattern)] ??
      `must match ${String(params.pattern)}`
    case 'format': return meanings.formats[String(params.format)] ??
      `must be ${article(String(params.format))}`
    case 'maxLength': return `must be at most ${limit} characters`
    case 'minLength':
      return limit === 1 ? 'must not be empty' : `must be at least ${limit} characters`
    case 'maxItems': return `must have at most ${limit} items`
    case 'minItems': return limit === 1 ? 'must not be empty' : `must have at least ${limit} items`
    case 'enum': return `must be one of ${(params.allowedValues as unknown[]).join(', ')}`
    default: return item.message ?? 'is invalid'
  }
}

export interface SchemaMeanings {
  patterns: Record<string, string>
  formats: Record<string, string>
}

/**
 * Schema failures as `{ field, message }`, the field named as the client wrote it:
 * `body.messages[0].timestamp`, `querystring.partition`, `params.topic`.
 */
export function schemaErrors (context: string, items: SchemaError[],
  meanings: SchemaMeanings): { field: string, message: string }[] {
  const errors = items
    // A bad key is reported by its own error (below); this one only says "some key is bad".
    .filter(item => item.keyword !== 'propertyNames')
    .map(item => {
      const path = (item.instancePath ?? '').replace(/^\//, '').replace(/\/(\d+)(?=\/|$)/g, '[$1]')
        .replace(/\//g, '.').replace(/~1/g, '/').replace(/~0/g, '~')
      const params = item.params ?? {}
      const child = item.keyword === 'required' ? params.missingProperty
        : item.keyword === 'additionalProperties' ? params.additionalProperty : undefined
      const field = [context, path, child].filter(part => part !== undefined && part !== '')
        .join('.').replace(/\.\[/g, '[')
      const message = schemaErrorMessage(item, meanings)
      return item.propertyName === undefined
        ? { field, message }
        : { field, message: `key ${quoted(item.propertyName)} ${message}` }
    })
  const shown = errors.slice(0, SCHEMA_ERRORS_SHOWN)
  if (errors.length > shown.length) {
    shown.push({ field: context, message: `and ${errors.length - shown.length} more errors` })
  }
  return shown
}
