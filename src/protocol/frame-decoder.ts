/**
 * Splits a TCP byte stream into Kafka frames: `int32 size` followed by `size` bytes.
 *
 * Pure (no I/O), in the manner of grpc-js's StreamDecoder: `push(chunk)` returns the complete
 * frames the chunk finished, each as its own Buffer (header + body, without the size prefix).
 * A size that is negative or above `maxFrameBytes` (Kafka's `socket.request.max.bytes`) is a
 * `FrameTooLargeError`: the caller closes the connection, as Kafka does, before a single byte
 * of the oversized body is buffered.
 *
 * Invariant: at most one partial frame is buffered, and it is never larger than maxFrameBytes;
 * so what one connection can make the broker hold is bounded.
 */
export class FrameTooLargeError extends Error {
  override name = 'FrameTooLargeError'
}

const SIZE_PREFIX_BYTES = 4

export class FrameDecoder {
  readonly #maxFrameBytes: number
  /** Bytes of an incomplete size prefix (fewer than 4). */
  #prefix = Buffer.alloc(SIZE_PREFIX_BYTES)
  #prefixBytes = 0
  /** The frame being filled, once its size is known. */
  #frame: Buffer | undefined
  #frameFilled = 0

  constructor (maxFrameBytes: number) {
    this.#maxFrameBytes = maxFrameBytes
  }

  /** Bytes held for an incomplete frame (for limits and metrics). */
  get bufferedBytes (): number {
    return this.#prefixBytes + this.#frameFilled
  }

  push (chunk: Buffer): Buffer[] {
    const frames: Buffer[] = []
    let position = 0
    while (position < chunk.length) {
      if (this.#frame === undefined) {
        // Fast path: a whole frame inside this chunk is returned as a view, without a copy.
        if (this.#prefixBytes === 0 && chunk.length - position >= SIZE_PREFIX_BYTES) {
          const size = this.#checkSize(chunk.readInt32BE(position))
          if (chunk.length - position - SIZE_PREFIX_BYTES >= size) {
            const start = position + SIZE_PREFIX_BYTES
            frames.push(chunk.subarray(start, start + size))
            position = start + size
            continue
          }
          this.#startFrame(size)
          position += SIZE_PREFIX_BYTES
          continue
        }
        const take = Math.min(SIZE_PREFIX_BYTES - this.#prefixBytes, chunk.length - position)
        chunk.copy(this.#prefix, this.#prefixBytes, position, position + take)
        this.#prefixBytes += take
        position += take
        if (this.#prefixBytes < SIZE_PREFIX_BYTES) break
        this.#prefixBytes = 0
        const size = this.#checkSize(this.#prefix.readInt32BE(0))
        // An empty frame is complete at once; the caller rejects it when parsing the header.
        if (size === 0) frames.push(Buffer.alloc(0))
        else this.#startFrame(size)
        continue
      }
      const frame = this.#frame
      const take = Math.min(frame.length - this.#frameFilled, chunk.length - position)
      chunk.copy(frame, this.#frameFilled, position, position + take)
      this.#frameFilled += take
      position += take
      if (this.#frameFilled === frame.length) {
        frames.push(frame)
        this.#frame = undefined
        this.#frameFilled = 0
      }
    }
    return frames
  }

  #checkSize (size: number): number {
    if (size < 0 || size > this.#maxFrameBytes) {
      throw new FrameTooLargeError(
        `frame of ${size} bytes is outside 0..${this.#maxFrameBytes} (socket.request.max.bytes)`)
    }
    return size
  }

  #startFrame (size: number): void {
    this.#frame = Buffer.allocUnsafe(size)
    this.#frameFilled = 0
  }
}
