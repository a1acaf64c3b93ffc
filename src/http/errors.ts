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
    case 'INVALID_CONFIG': return new HttpError(400, 5, named)
    case 'MESSAGE_TOO_LARGE': case 'RECORD_LIST_TOO_LARGE': return new HttpError(413, 2, named)
    case 'INVALID_TIMESTAMP': case 'INVALID_RECORD': case 'CORRUPT_MESSAGE':
      return new HttpError(422, 6, named)
    case 'REQUEST_TIMED_OUT': return new HttpError(504, 1, named)
    default: return new HttpError(500, 2, `Kafka error ${errorName}: ${named}`)
  }
}
