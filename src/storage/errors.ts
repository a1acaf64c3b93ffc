/**
 * Storage failures, each with the Kafka error name the broker puts on the wire.
 */
export class StorageError extends Error {
  override name = 'StorageError'
  readonly kind: string

  constructor (kind: string, message: string) {
    super(message)
    this.kind = kind
  }
}

export class LogDirLockedError extends Error {
  override name = 'LogDirLockedError'
}
