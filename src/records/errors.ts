/**
 * Why a batch was refused. `kind` is the Kafka error name the broker puts on the wire; the
 * message says what exactly is wrong, for logs and for clients that show it.
 */
export type RecordsErrorKind =
  | 'CORRUPT_MESSAGE'
  | 'INVALID_RECORD'
  | 'UNSUPPORTED_COMPRESSION_TYPE'
  | 'MESSAGE_TOO_LARGE'
  | 'INVALID_TIMESTAMP'
  | 'UNSUPPORTED_FOR_MESSAGE_FORMAT'

export class RecordsError extends Error {
  override name = 'RecordsError'
  readonly kind: RecordsErrorKind
  /**
   * The index in its batch of the one record at fault, when one record is (Produce v8+
   * record_errors, KIP-467); undefined when the batch as a whole is.
   */
  readonly recordIndex: number | undefined

  constructor (kind: RecordsErrorKind, message: string, recordIndex?: number) {
    super(message)
    this.kind = kind
    this.recordIndex = recordIndex
  }
}
