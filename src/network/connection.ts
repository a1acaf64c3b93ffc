/**
 * One Kafka client connection: frames in, requests dispatched, responses out in request order.
 *
 * Ordering: every decoded request takes a slot in `#pipeline` before its handler runs; handlers
 * run concurrently, but a response is written only when every earlier slot has been written.
 * kafka-python pops responses FIFO and raises on a mismatch, so this ordering is a contract.
 *
 * Limits, checked before each frame is taken from the decoder (not per socket read, which can
 * carry many frames); while one says no, the socket is paused and TCP back-pressure reaches the
 * client:
 * - at most `inflightRequestsMax` requests of this connection unanswered;
 * - one Fetch runs at a time: a Fetch read while another runs, or while the unsent responses
 *   are over their bound, keeps its slot but starts later. Kafka serves every request of a
 *   connection one at a time (the channel is muted until the response is sent); we pipeline for
 *   produce throughput and so that a long poll does not hold up the requests behind it, but a
 *   Fetch's response is the one that can be large, and Kafka clients send one Fetch per
 *   connection at a time anyway;
 * - unsent response bytes (encoded, not yet written, plus the socket's write buffer) at most
 *   `responseBufferBytesMax`, so a client that does not read cannot make the broker buffer more
 *   than that bound plus one response;
 * - the broker-wide `RequestBudget` (queued.max.request.bytes, queued.max.requests); when it is
 *   exhausted only a connection holding nothing may read, one request at a time.
 * The frame decoder never allocates a frame's announced size before its bytes arrive.
 *
 * Deadlines: a frame that has started arriving must be complete within `frameTimeoutMs`
 * (slowloris; `tributary.request.frame.timeout.ms`), counted while we wait for the client, not
 * while our own limits pause reading. A connection with no handler running and no traffic for
 * `idleTimeoutMs` is closed (Kafka's connections.max.idle.ms), so a client that stops reading
 * its answers gives back what they hold.
 *
 * Failure stays local: a malformed frame, an unknown API or an unsupported version (other than
 * ApiVersions') closes this connection with a logged reason, as Kafka does. A handler that fails
 * or a response that cannot be encoded is answered with the API's error response
 * (UNKNOWN_SERVER_ERROR) when it has one; otherwise, or if that fails too, this connection is
 * closed with the reason. An AssertionError (our own invariant broken) is rethrown to the process
 * guard, which logs it and exits so a supervisor restarts the broker onto recovery.
 */
import {
  NO_RESPONSE, type RequestContext, type RequestDispatcher,
} from '../broker/request-context.js'
import type { TcpSocket } from '../io/tcp.js'
import { isFlexible, type ApiDefinition } from '../protocol/api.js'
import { Fetch } from '../protocol/apis/fetch.js'
import { ERROR } from '../protocol/errors.js'
import {
  API_VERSIONS_KEY, decodeRequestHeaderPrefix, decodeRequestHeaderTail, encodeResponseHeader,
  type RequestHeader,
} from '../protocol/headers.js'
import { ProtocolDecodeError, Reader } from '../protocol/reader.js'
import { Writer } from '../protocol/writer.js'
import { FrameDecoder } from '../protocol/frame-decoder.js'
import { AssertionError } from '../util/assert.js'
import { clampTimeoutMs } from '../util/timeout.js'
import type { RequestBudget } from './request-budget.js'

const FAILURES_LOGGED_MAX = 5

export interface ConnectionLimits {
  /** The listener's name, e.g. PLAINTEXT or EXTERNAL. */
  listener: string
  maxFrameBytes: number
  inflightRequestsMax: number
  /** Unsent response bytes above which the connection stops reading requests. */
  responseBufferBytesMax: number
  /**
   * The largest response one request may encode; a larger one is answered with the API's
   * error response instead (default: unbounded).
   */
  responseBytesMax?: number
  /** connections.max.idle.ms */
  idleTimeoutMs: number
  /** tributary.request.frame.timeout.ms */
  frameTimeoutMs: number
}

export interface ConnectionLogger {
  warn (message: string): void
}

interface Slot {
  done: boolean
  chunks: Buffer[] | undefined
  /** Frame bytes held until the request is answered. */
  requestBytes: number
  /** Encoded response bytes while the slot waits to be written. */
  responseBytes: number
  exclusive: boolean
  /** The API, for the dispatcher's onResponseWritten. */
  apiName: string
  /** performance.now() when its answer was ready (set by #finish; 0 with no hook to tell). */
  readyMs: number
}

/** A decoded request with what answering it needs. */
interface Decoded {
  header: RequestHeader
  api: ApiDefinition<unknown, unknown>
  request: unknown
}

export class Connection {
  readonly id: number
  readonly #socket: TcpSocket
  readonly #dispatcher: RequestDispatcher
  readonly #limits: ConnectionLimits
  readonly #logger: ConnectionLogger
  readonly #budget: RequestBudget
  readonly #decoder: FrameDecoder
  readonly #pipeline: Slot[] = []
  readonly #abort = new AbortController()
  readonly #clientHost: string
  readonly #wake = (): void => { this.#guard(() => this.#pump()) }
  #requestBytesHeld = 0
  /** Requests taken and not yet answered (slots not done). */
  #unanswered = 0
  #responseBytesQueued = 0
  #exclusiveRunning = false
  /** Fetches read but waiting for the running one (see #startDeferredFetch). */
  readonly #deferredFetches: (() => void)[] = []
  /** What this connection has reported to the budget. */
  #budgetBytes = 0
  #budgetRequests = 0
  #readingPaused = false
  #failuresLogged = 0
  #frameTimer: NodeJS.Timeout | undefined
  #closed = false
  #onClose: (() => void) | undefined
  #drained: (() => void) | undefined

  constructor (id: number, socket: TcpSocket, dispatcher: RequestDispatcher,
    limits: ConnectionLimits, logger: ConnectionLogger, budget: RequestBudget) {
    this.id = id
    this.#socket = socket
    this.#dispatcher = dispatcher
    this.#limits = limits
    this.#logger = logger
    this.#budget = budget
    this.#decoder = new FrameDecoder(limits.maxFrameBytes)
    this.#clientHost = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`
    socket.setNoDelay(true)
    // Node's socket timeout fires after this long without a read or a write.
    socket.setTimeout(clampTimeoutMs(limits.idleTimeoutMs))
    socket.on('timeout', () => this.#guard(() => this.#onIdle()))
    socket.on('data', chunk => this.#guard(() => this.#onData(chunk)))
    socket.on('drain', () => this.#guard(() => this.#pump()))
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
    this.#deferredFetches.length = 0
    clearTimeout(this.#frameTimer)
    this.#budget.cancelWait(this.#wake)
    this.#budget.adjust(-this.#budgetBytes, -this.#budgetRequests)
    this.#budgetBytes = 0
    this.#budgetRequests = 0
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
    clearTimeout(this.#frameTimer)
    return new Promise(resolve => {
      this.#drained = resolve
      this.#flush()
    })
  }

  /**
   * Runs a socket or timer callback so that nothing but a broken invariant escapes: any other
   * exception closes this connection with the reason.
   */
  #guard (body: () => void): void {
    try {
      body()
    } catch (error) {
      if (error instanceof AssertionError) throw error
      this.close(`internal error: ${describe(error)}`)
    }
  }

  #onData (chunk: Buffer): void {
    if (this.#closed) return
    this.#decoder.append(chunk)
    this.#pump()
  }

  /**
   * No bytes in or out for connections.max.idle.ms. A handler still running (a long poll, a
   * parked JoinGroup) is not idleness, and the timer restarts with the next read or write; but
   * answers the client does not read, or requests waiting behind them, are.
   */
  #onIdle (): void {
    if (this.#closed || this.#unanswered - this.#deferredFetches.length > 0) return
    this.close() // Kafka closes idle connections silently (DEBUG), so do we.
  }

  /** Takes frames from the decoder while the limits allow, then sets reading and deadlines. */
  #pump (): void {
    this.#startDeferredFetch()
    let took = false
    while (!this.#closed && this.#mayTakeRequest()) {
      let frame: Buffer | undefined
      try {
        frame = this.#decoder.next()
      } catch (error) {
        this.close((error as Error).message)
        return
      }
      if (frame === undefined) {
        // Only a partial frame (or nothing) is left: we are waiting for the client.
        this.#setFrameDeadline(took, this.#decoder.bufferedBytes > 0)
        this.#updateReading()
        return
      }
      took = true
      this.#onFrame(frame)
      // Per frame, so the broker-wide limits see each request as it is taken.
      if (!this.#closed) this.#reportToBudget()
    }
    this.#setFrameDeadline(took, false)
    this.#updateReading()
  }

  /** Whether the next complete frame may be taken and dispatched now. */
  #mayTakeRequest (): boolean {
    if (this.#closed || this.#drained !== undefined || !this.#ownLimitsAllow()) return false
    if (this.#budget.requestsExhausted && this.#pipeline.length > 0) return false
    return !(this.#budget.bytesExhausted && this.#heldBeyondDecoder() > 0)
  }

  /** This connection's own limits: in-flight count and unsent response bytes. */
  #ownLimitsAllow (): boolean {
    return this.#pipeline.length < this.#limits.inflightRequestsMax &&
      this.#unsentResponseBytes() <= this.#limits.responseBufferBytesMax
  }

  #unsentResponseBytes (): number {
    return this.#responseBytesQueued + this.#socket.writableLength
  }

  #heldBeyondDecoder (): number {
    return this.#requestBytesHeld + this.#unsentResponseBytes()
  }

  /** A frame's deadline runs while a partial frame waits for the client's bytes. */
  #setFrameDeadline (restart: boolean, waitingForClient: boolean): void {
    if (!waitingForClient || restart) {
      clearTimeout(this.#frameTimer)
      this.#frameTimer = undefined
    }
    if (!waitingForClient || this.#frameTimer !== undefined) return
    const timeoutMs = clampTimeoutMs(this.#limits.frameTimeoutMs)
    this.#frameTimer = setTimeout(() => this.#guard(() => {
      this.close(`request frame incomplete after ${timeoutMs} ms ` +
        `(${this.#decoder.bufferedBytes} bytes received; tributary.request.frame.timeout.ms)`)
    }), timeoutMs)
    this.#frameTimer.unref()
  }

  #onFrame (frame: Buffer): void {
    const reader = new Reader(frame)
    let header: RequestHeader
    try {
      header = decodeRequestHeaderPrefix(reader)
    } catch (error) {
      this.#closeAfterAnswered(`malformed request header: ${(error as Error).message}`)
      return
    }
    const entry = this.#dispatcher.lookup(header.apiKey)
    if (header.apiKey === API_VERSIONS_KEY && entry !== undefined &&
      (header.apiVersion > entry.maxVersion || header.apiVersion < entry.minVersion)) {
      this.#answerUnsupportedApiVersions(header, entry.minVersion, entry.maxVersion)
      return
    }
    if (entry === undefined) {
      this.#closeAfterAnswered(`unsupported API key ${header.apiKey}`)
      return
    }
    if (header.apiVersion < entry.minVersion || header.apiVersion > entry.maxVersion) {
      // Kafka cannot parse such a request and closes the connection (RequestContext).
      this.#closeAfterAnswered(`unsupported version ${header.apiVersion} of ${entry.api.name} ` +
        `(supported ${entry.minVersion}-${entry.maxVersion})`)
      return
    }
    const flexible = isFlexible(entry.api, header.apiVersion)
    let request: unknown
    try {
      decodeRequestHeaderTail(reader, header, flexible)
      request = entry.api.decodeRequest(reader, header.apiVersion)
    } catch (error) {
      if (error instanceof AssertionError) throw error
      const detail = error instanceof ProtocolDecodeError ? error.message : String(error)
      this.#closeAfterAnswered(`malformed ${entry.api.name} v${header.apiVersion} request: ${detail}`)
      return
    }
    this.#dispatch({ header, api: entry.api, request }, frame.length)
  }

  /**
   * A request that cannot be parsed ends the connection, as in Kafka; but the requests before it
   * on this connection are answered first (Kafka reads one request at a time, so by the time it
   * meets the bad one it has answered them). Nothing more is read; the wait for the earlier
   * answers is bounded by the frame deadline.
   */
  #closeAfterAnswered (reason: string): void {
    if (this.#pipeline.length === 0 || this.#drained !== undefined) {
      this.close(reason)
      return
    }
    this.#logger.warn(`closing connection ${this.#clientHost} once its earlier requests are ` +
      `answered: ${reason}`)
    const timer = setTimeout(() => this.#guard(() => this.close()),
      clampTimeoutMs(this.#limits.frameTimeoutMs))
    timer.unref()
    void this.drain().then(() => {
      clearTimeout(timer)
      this.close()
    })
  }

  /** Takes a slot in order; the handler starts now, or for a Fetch once no Fetch runs. */
  #dispatch (decoded: Decoded, frameBytes: number): void {
    const slot: Slot = {
      done: false,
      chunks: undefined,
      requestBytes: frameBytes,
      responseBytes: 0,
      exclusive: decoded.header.apiKey === Fetch.key,
      apiName: decoded.api.name,
      readyMs: 0,
    }
    this.#pipeline.push(slot)
    this.#requestBytesHeld += frameBytes
    this.#unanswered++
    if (slot.exclusive) {
      // At most inflightRequestsMax deferred, each holding its slot.
      this.#deferredFetches.push(() => this.#start(slot, decoded))
      this.#startDeferredFetch()
    } else {
      this.#start(slot, decoded)
    }
  }

  /**
   * Starts the oldest deferred Fetch when no Fetch runs and the unsent responses are within
   * their bound: one large response at a time per connection.
   */
  #startDeferredFetch (): void {
    if (this.#exclusiveRunning || this.#closed ||
      this.#unsentResponseBytes() > this.#limits.responseBufferBytesMax) return
    const start = this.#deferredFetches.shift()
    if (start === undefined) return
    this.#exclusiveRunning = true
    start()
  }

  #start (slot: Slot, decoded: Decoded): void {
    const { header, api, request } = decoded
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
      this.#answer(slot, decoded, response)
    }, (error: unknown) => {
      this.#dispatcher.onRequestDone?.(api.name, performance.now() - startedMs, true)
      if (error instanceof AssertionError) throw error
      this.#answerWithError(slot, decoded, `handler failed: ${describe(error)}`)
    }).catch((error: unknown) => {
      // Rethrown, an AssertionError becomes an unhandled rejection: the process guard's exit.
      if (error instanceof AssertionError) throw error
      this.close(`internal error answering ${api.name}: ${describe(error)}`)
    })
  }

  #answer (slot: Slot, decoded: Decoded, response: unknown): void {
    if (this.#closed) return
    if (response === NO_RESPONSE) {
      this.#finish(slot, undefined)
      return
    }
    let chunks: Buffer[]
    try {
      chunks = this.#encode(decoded.header, decoded.api, response)
    } catch (error) {
      if (error instanceof AssertionError) throw error
      this.#answerWithError(slot, decoded, `response could not be encoded: ${describe(error)}`)
      return
    }
    this.#finish(slot, chunks)
  }

  /** Answers UNKNOWN_SERVER_ERROR if the API can form an error response, else closes. */
  #answerWithError (slot: Slot, decoded: Decoded, reason: string): void {
    if (this.#closed) return
    const { header, api, request } = decoded
    const what = `${api.name} v${header.apiVersion} (correlation id ${header.correlationId})`
    // A Produce with acks=0 gets no response at all; Kafka closes the connection when one
    // fails, so the client notices (KafkaApis.handleProduceRequest, "acks == 0" branch).
    if (api.errorResponse !== undefined && !expectsNoResponse(header.apiKey, request)) {
      try {
        const response = api.errorResponse(request, header.apiVersion, ERROR.UNKNOWN_SERVER_ERROR)
        const chunks = this.#encode(header, api, response)
        this.#logFailure(`${what} from ${this.#clientHost} answered UNKNOWN_SERVER_ERROR: ` +
          reason)
        this.#finish(slot, chunks)
        return
      } catch (error) {
        if (error instanceof AssertionError) throw error
        reason += `; its error response failed too: ${describe(error)}`
      }
    }
    this.close(`${what} ${reason}`)
  }

  /**
   * A connection that keeps failing is answered every time, but only its first
   * FAILURES_LOGGED_MAX failures are logged, so one client cannot flood the log.
   */
  #logFailure (line: string): void {
    this.#failuresLogged++
    if (this.#failuresLogged <= FAILURES_LOGGED_MAX) this.#logger.warn(line)
    if (this.#failuresLogged === FAILURES_LOGGED_MAX) {
      this.#logger.warn(`further request failures of connection ${this.#clientHost} are ` +
        'answered but not logged')
    }
  }

  /** When an answer became ready, for onResponseWritten; 0 (no clock read) with no hook. */
  #answerReadyMs (): number {
    return this.#dispatcher.onResponseWritten === undefined ? 0 : performance.now()
  }

  #finish (slot: Slot, chunks: Buffer[] | undefined): void {
    slot.done = true
    slot.readyMs = this.#answerReadyMs()
    slot.chunks = chunks
    this.#requestBytesHeld -= slot.requestBytes
    this.#unanswered--
    if (slot.exclusive) this.#exclusiveRunning = false
    if (chunks !== undefined) {
      for (const chunk of chunks) slot.responseBytes += chunk.length
      this.#responseBytesQueued += slot.responseBytes
    }
    this.#flush()
    this.#pump()
  }

  #encode (header: RequestHeader, api: ApiDefinition<unknown, unknown>,
    response: unknown): Buffer[] {
    const writer = new Writer().limitTo(this.#limits.responseBytesMax ?? Infinity)
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
   * knows (RequestContext / ApiVersionsRequest).
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
    const responseBytes = writer.size
    this.#pipeline.push({ done: true, chunks, requestBytes: 0, responseBytes, exclusive: false,
      apiName: 'ApiVersions', readyMs: this.#answerReadyMs() })
    this.#responseBytesQueued += responseBytes
    this.#flush()
  }

  #flush (): void {
    if (this.#closed) return
    const chunks: Buffer[] = []
    const nowMs = this.#dispatcher.onResponseWritten === undefined ? 0 : performance.now()
    while (this.#pipeline.length > 0 && (this.#pipeline[0] as Slot).done) {
      const slot = this.#pipeline.shift() as Slot
      this.#responseBytesQueued -= slot.responseBytes
      if (slot.chunks !== undefined) chunks.push(...slot.chunks)
      // Answers leave in request order (as Kafka's), so a ready one waits for earlier ones.
      this.#dispatcher.onResponseWritten?.(slot.apiName, nowMs - slot.readyMs)
    }
    if (chunks.length > 0) {
      const last = chunks.pop() as Buffer
      this.#socket.cork()
      for (const chunk of chunks) this.#socket.write(chunk)
      // Once the kernel has the bytes the write buffer has shrunk: re-account, maybe read on.
      this.#socket.write(last, () => { this.#guard(() => this.#pump()) })
      this.#socket.uncork()
    }
    if (this.#drained !== undefined && this.#pipeline.length === 0) {
      const drained = this.#drained
      this.#drained = undefined
      // Drained once the last response has left for the kernel ('finish'): the server then
      // destroys the socket, which would discard bytes still in the write buffer. The server's
      // drain timeout bounds a socket that never finishes.
      this.#socket.end(() => { drained() })
    }
  }

  /** Pauses or resumes the socket and reports what this connection holds to the budget. */
  #updateReading (): void {
    if (this.#closed) return
    this.#reportToBudget()
    if (this.#drained !== undefined) return
    const budgetSaysWait = (this.#budget.bytesExhausted && this.#decoder.bufferedBytes +
      this.#heldBeyondDecoder() > 0) ||
      (this.#budget.requestsExhausted && this.#pipeline.length > 0)
    const read = this.#mayTakeRequest() && !budgetSaysWait
    if (budgetSaysWait) this.#budget.waitForRoom(this.#wake)
    if (!read && !this.#readingPaused) {
      this.#socket.pause()
      this.#readingPaused = true
    } else if (read && this.#readingPaused) {
      this.#socket.resume()
      this.#readingPaused = false
    }
  }

  #reportToBudget (): void {
    const bytes = this.#decoder.bufferedBytes + this.#heldBeyondDecoder()
    const requests = this.#unanswered
    this.#budget.adjust(bytes - this.#budgetBytes, requests - this.#budgetRequests)
    this.#budgetBytes = bytes
    this.#budgetRequests = requests
  }
}

function describe (error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error)
}

const PRODUCE_KEY = 0

function expectsNoResponse (apiKey: number, request: unknown): boolean {
  return apiKey === PRODUCE_KEY && (request as { acks?: unknown }).acks === 0
}
