/**
 * Splits a TCP byte stream into Kafka frames: `int32 size` followed by `size` bytes.
 *
 * Pure (no I/O), pull-style: `append(chunk)` keeps the bytes a socket read; `next()` returns the
 * next complete frame (header + body, without the size prefix) or undefined. The caller decides
 * how many frames it takes, so it can stop at a limit (in-flight requests, memory) with the
 * rest still buffered here, unparsed. `push(chunk)` appends and takes every complete frame (the
 * client's use).
 *
 * Memory: a frame's announced size is never allocated up front. Bytes are held as the chunks
 * that brought them, and a frame is assembled (one allocation of exactly its size) only once all
 * its bytes are here; a frame inside one chunk is returned as a view without a copy. So a peer
 * that announces 100 MiB and sends nothing more costs 4 bytes, and `bufferedBytes` is what the
 * peer actually sent (the broker accounts it in its request memory budget).
 *
 * A size that is negative or above `maxFrameBytes` (Kafka's `socket.request.max.bytes`) is a
 * `FrameTooLargeError` as soon as its 4 bytes are here: the caller closes the connection, as
 * Kafka does.
 */
export class FrameTooLargeError extends Error {
  override name = 'FrameTooLargeError'
}

const SIZE_PREFIX_BYTES = 4
/** A chunk this small is merged into a small previous one, bounding per-chunk overhead. */
const SMALL_CHUNK_BYTES = 1024

export class FrameDecoder {
  readonly #maxFrameBytes: number
  /** Received bytes not yet returned as frames; the first chunk starts at `#offset`. */
  readonly #chunks: Buffer[] = []
  #offset = 0
  #buffered = 0

  constructor (maxFrameBytes: number) {
    this.#maxFrameBytes = maxFrameBytes
  }

  /** Bytes received and not yet returned as a frame (a partial frame, or frames not taken). */
  get bufferedBytes (): number {
    return this.#buffered
  }

  append (chunk: Buffer): void {
    if (chunk.length === 0) return
    const last = this.#chunks.at(-1)
    // A peer trickling tiny chunks must not make us hold one Buffer object per byte.
    // Both small, so a merge copies at most 2 KiB.
    if (last !== undefined && chunk.length < SMALL_CHUNK_BYTES &&
      last.length < SMALL_CHUNK_BYTES) {
      this.#chunks[this.#chunks.length - 1] = Buffer.concat([last, chunk])
    } else {
      this.#chunks.push(chunk)
    }
    this.#buffered += chunk.length
  }

  /** The next complete frame, or undefined until all of its bytes have arrived. */
  next (): Buffer | undefined {
    if (this.#buffered < SIZE_PREFIX_BYTES) return undefined
    const size = this.#checkSize(this.#peekSize())
    if (this.#buffered - SIZE_PREFIX_BYTES < size) return undefined
    this.#skip(SIZE_PREFIX_BYTES)
    return this.#take(size)
  }

  push (chunk: Buffer): Buffer[] {
    this.append(chunk)
    const frames: Buffer[] = []
    for (let frame = this.next(); frame !== undefined; frame = this.next()) frames.push(frame)
    return frames
  }

  #peekSize (): number {
    const first = this.#chunks[0] as Buffer
    if (first.length - this.#offset >= SIZE_PREFIX_BYTES) return first.readInt32BE(this.#offset)
    const prefix = Buffer.alloc(SIZE_PREFIX_BYTES)
    let filled = 0
    let offset = this.#offset
    for (const chunk of this.#chunks) {
      filled += chunk.copy(prefix, filled, offset, offset + SIZE_PREFIX_BYTES - filled)
      offset = 0
      if (filled === SIZE_PREFIX_BYTES) break
    }
    return prefix.readInt32BE(0)
  }

  #checkSize (size: number): number {
    if (size < 0 || size > this.#maxFrameBytes) {
      throw new FrameTooLargeError(
        `frame of ${size} bytes is outside 0..${this.#maxFrameBytes} (socket.request.max.bytes)`)
    }
    return size
  }

  /** Removes `count` buffered bytes (count <= #buffered). */
  #skip (count: number): void {
    this.#take(count)
  }

  /** Removes and returns the first `count` buffered bytes (count <= #buffered). */
  #take (count: number): Buffer {
    this.#buffered -= count
    const first = this.#chunks[0]
    if (first === undefined) return Buffer.alloc(0)
    if (first.length - this.#offset >= count) {
      const view = first.subarray(this.#offset, this.#offset + count)
      this.#advance(count)
      return view
    }
    const frame = Buffer.allocUnsafe(count)
    let filled = 0
    while (filled < count) {
      const chunk = this.#chunks[0] as Buffer
      const copied = chunk.copy(frame, filled, this.#offset,
        Math.min(chunk.length, this.#offset + count - filled))
      filled += copied
      this.#advance(copied)
    }
    return frame
  }

  /** Moves the read position within the first chunk, dropping it once consumed. */
  #advance (count: number): void {
    this.#offset += count
    if (this.#offset === (this.#chunks[0] as Buffer).length) {
      this.#chunks.shift()
      this.#offset = 0
    }
  }
}
