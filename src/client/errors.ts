/**
 * The two ways a client call fails. `KafkaClientError` carries a Kafka error code the broker
 * sent (its name and message from the wire table in protocol/errors.ts, like the Java client's
 * `Errors.forCode(code).exception(message)`). `KafkaConnectionError` means no answer came: the
 * connection failed, closed, timed out or saw bytes it could not trust; whether a request that
 * was in flight took effect is then unknown (Kafka's NetworkException).
 */
import { errorByCode } from '../protocol/errors.js'

export class KafkaClientError extends Error {
  override name = 'KafkaClientError'
  readonly errorName: string
  readonly code: number
  /** As Kafka's RetriableException: the same call may succeed later. */
  readonly retriable: boolean

  constructor (code: number, message?: string) {
    const known = errorByCode(code)
    const errorName = known?.name ?? 'UNKNOWN_SERVER_ERROR'
    super(message ?? `${errorName}: ${known?.message ?? `unknown error code ${code}`}`)
    this.code = code
    this.errorName = errorName
    this.retriable = known?.retriable ?? false
  }
}

export class KafkaConnectionError extends Error {
  override name = 'KafkaConnectionError'
  /** `host:port` of the broker. */
  readonly broker: string

  constructor (broker: string, message: string, options?: { cause?: unknown }) {
    super(`${broker}: ${message}`, options)
    this.broker = broker
  }
}
