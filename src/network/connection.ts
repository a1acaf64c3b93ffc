/**
 * One Kafka client connection: frames in, requests dispatched, responses out in request order.
 *
 * Ordering: every decoded request takes a slot in `#pipeline` before its handler runs; handlers
 * run concurrently, but a response is written only when every earlier slot has been written.
 * kafka-python pops responses FIFO and raises on a mismatch, so this ordering is a contract
 * (docs/protocol.md, "Responses in request order").
 *
 * Limits: at most `inflightRequestsMax` requests are handled at once per connection; past that
 * the socket is paused (TCP back-pressure reaches the client) until a response is written. The
 * frame decoder caps a frame at `socket.request.max.bytes`. While the socket's write buffer is
 * over `writeBufferBytesMax`, reading is paused too. So a connection can hold at most
 * inflight × request size plus the write buffer.
 *
 * Failure: a malformed frame, an unknown API, an unsupported version (other than ApiVersions'),
 * or an exception from a handler closes this connection with a logged reason; nothing escapes
 * to the process.
 */
import {
  NO_RESPONSE, type RequestContext, type RequestDispatcher,
} from '../broker/request-context.js'
import type { TcpSocket } from '../io/tcp.js'
import { isFlexible, type ApiDefinition } from '../protocol/api.js'
import {
  API_VERSIONS_KEY, decodeRequestHeaderPrefix, decodeRequestHeaderTail, encodeResponseHeader,
  type RequestHeader,
} from '../protocol/headers.js'
import { ProtocolDecodeError, Reader } from '../protocol/reader.js'
import { Writer } from '../protocol/writer.js'
import { FrameDecoder } from '../protocol/frame-decoder.js'

export interface ConnectionLimits {
  /** The listener's name, e.g. PLAINTEXT or EXTERNAL. */
  listener: string
  maxFrameBytes: number
  inflightRequestsMax: number
  writeBufferBytesMax: number
}

export interface ConnectionLogger {
  warn (message: string): void
}

interface Slot {
  done: boolean
  chunks: Buffer[] | undefined
}

export class Connection {
  readonly id: number
  readonly #socket: TcpSocket
  readonly #dispatcher: RequestDispatcher
  readonly #limits: ConnectionLimits
  readonly #logger: ConnectionLogger
  readonly #decoder: FrameDecoder
  readonly #pipeline: Slot[] = []
  readonly #abort = new AbortController()
  readonly #clientHost: string
  #readingPaused = false
  #closed = false
  #onClose: (() => void) | undefined

  constructor (id: number, socket: TcpSocket, dispatcher: RequestDispatcher,
    limits: ConnectionLimits, logger: ConnectionLogger) {
    this.id = id
    this.#socket = socket
    this.#dispatcher = dispatcher
    this.#limits = limits
    this.#logger = logger
    this.#decoder = new FrameDecoder(limits.maxFrameBytes)
    this.#clientHost = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`
    socket.setNoDelay(true)
    socket.on('data', chunk => this.#onData(chunk))
    socket.on('drain', () => this.#updateReading())
    socket.on('error', () => this.close())
    socket.on('end', () => this.close())
    socket.on('close', () => this.close())
  }

  get inflightCount (): number {
    return this.#pipeline.length
  }

  onClose (callback: () => void): void {
    this.#onClose = callback
  }

  close (reason?: string): void {
    if (this.#closed) return
    this.#closed = true
    if (reason !== undefined) this.#logger.warn(`closing connection ${this.#clientHost}: ${reason}`)
    this.#abort.abort()
    this.#pipeline.length = 0
    this.#drained?.()
    this.#drained = undefined
    if (!this.#socket.destroyed) this.#socket.destroy()
    this.#onClose?.()
  }

  /**
   * Stops reading new requests and resolves once every in-flight response has been written and
   * the socket ended (a clean shutdown); the caller closes the connection afterwards.
   */
  drain (): Promise<void> {
    if (this.#closed) return Promise.resolve()
    this.#socket.pause()
    this.#readingPaused = true
    return new Promise(resolve => {
      this.#drained = resolve
      this.#flush()
    })
  }

  #drained: (() => void) | undefined

  #onData (chunk: Buffer): void {
    if (this.#closed) return
    let frames: Buffer[]
    try {
      frames = this.#decoder.push(chunk)
    } catch (error) {
      this.close((error as Error).message)
      return
    }
    for (const frame of frames) {
      if (this.#closed) return
      this.#onFrame(frame)
    }
    this.#updateReading()
  }

  #onFrame (frame: Buffer): void {
    const reader = new Reader(frame)
    let header: RequestHeader
    try {
      header = decodeRequestHeaderPrefix(reader)
    } catch (error) {
      this.close(`malformed request header: ${(error as Error).message}`)
      return
    }
    const entry = this.#dispatcher.lookup(header.apiKey)
    if (header.apiKey === API_VERSIONS_KEY && entry !== undefined &&
      (header.apiVersion > entry.maxVersion || header.apiVersion < entry.minVersion)) {
      this.#answerUnsupportedApiVersions(header, entry.minVersion, entry.maxVersion)
      return
    }
    if (entry === undefined) {
      this.close(`unsupported API key ${header.apiKey}`)
      return
    }
    if (header.apiVersion < entry.minVersion || header.apiVersion > entry.maxVersion) {
      // Kafka cannot parse such a request and closes the connection (RequestContext).
      this.close(`unsupported version ${header.apiVersion} of ${entry.api.name} ` +
        `(supported ${entry.minVersion}-${entry.maxVersion})`)
      return
    }
    const flexible = isFlexible(entry.api, header.apiVersion)
    let request: unknown
    try {
      decodeRequestHeaderTail(reader, header, flexible)
      request = entry.api.decodeRequest(reader, header.apiVersion)
    } catch (error) {
      const detail = error instanceof ProtocolDecodeError ? error.message : String(error)
      this.close(`malformed ${entry.api.name} v${header.apiVersion} request: ${detail}`)
      return
    }
    this.#dispatch(header, entry.api, request)
  }

  #dispatch (header: RequestHeader, api: ApiDefinition<unknown, unknown>, request: unknown): void {
    const slot: Slot = { done: false, chunks: undefined }
    this.#pipeline.push(slot)
    const context: RequestContext = {
      connectionId: this.id,
      clientHost: this.#clientHost,
      listener: this.#limits.listener,
      header,
      api,
      version: header.apiVersion,
      signal: this.#abort.signal,
    }
    const startedMs = performance.now()
    let handled: Promise<unknown>
    try {
      handled = this.#dispatcher.handle(context, request)
    } catch (error) {
      handled = Promise.reject(error)
    }
    handled.then(response => {
      this.#dispatcher.onRequestDone?.(api.name, performance.now() - startedMs, false)
      if (response !== NO_RESPONSE) slot.chunks = this.#encode(header, api, response)
      slot.done = true
      this.#flush()
    }, (error: unknown) => {
      this.#dispatcher.onRequestDone?.(api.name, performance.now() - startedMs, true)
      const detail = error instanceof Error ? (error.stack ?? error.message) : String(error)
      this.close(`${api.name} v${header.apiVersion} handler failed: ${detail}`)
    })
  }

  #encode (header: RequestHeader, api: ApiDefinition<unknown, unknown>,
    response: unknown): Buffer[] {
    const writer = new Writer()
    writer.int32(0) // size placeholder, patched below
    encodeResponseHeader(writer, header.apiKey, header.correlationId,
      isFlexible(api, header.apiVersion))
    api.encodeResponse(writer, header.apiVersion, response)
    const chunks = writer.toChunks()
    const first = chunks[0] as Buffer
    first.writeInt32BE(writer.size - 4, 0)
    return chunks
  }

  /**
   * Kafka answers an ApiVersions request of an unknown version in the v0 layout with
   * UNSUPPORTED_VERSION and only its own range, so the client can retry with a version it
   * knows (RequestContext / ApiVersionsRequest; docs/protocol.md).
   */
  #answerUnsupportedApiVersions (header: RequestHeader, minVersion: number,
    maxVersion: number): void {
    const UNSUPPORTED_VERSION = 35
    const writer = new Writer()
    writer.int32(0).int32(header.correlationId)
    writer.int16(UNSUPPORTED_VERSION).int32(1)
    writer.int16(API_VERSIONS_KEY).int16(minVersion).int16(maxVersion)
    const chunks = writer.toChunks()
    ;(chunks[0] as Buffer).writeInt32BE(writer.size - 4, 0)
    this.#pipeline.push({ done: true, chunks })
    this.#flush()
  }

  #flush (): void {
    if (this.#closed) return
    let wrote = false
    while (this.#pipeline.length > 0 && (this.#pipeline[0] as Slot).done) {
      const slot = this.#pipeline.shift() as Slot
      if (slot.chunks === undefined) continue
      if (!wrote) this.#socket.cork()
      wrote = true
      for (const chunk of slot.chunks) this.#socket.write(chunk)
    }
    if (wrote) this.#socket.uncork()
    if (this.#drained !== undefined && this.#pipeline.length === 0) {
      const drained = this.#drained
      this.#drained = undefined
      this.#socket.end()
      drained()
      return
    }
    this.#updateReading()
  }

  /** Pauses reading while too many requests are in flight or the write buffer is full. */
  #updateReading (): void {
    if (this.#closed || this.#drained !== undefined) return
    const overloaded = this.#pipeline.length >= this.#limits.inflightRequestsMax ||
      this.#socket.writableLength > this.#limits.writeBufferBytesMax
    if (overloaded && !this.#readingPaused) {
      this.#socket.pause()
      this.#readingPaused = true
    } else if (!overloaded && this.#readingPaused) {
      this.#socket.resume()
      this.#readingPaused = false
    }
  }
}
