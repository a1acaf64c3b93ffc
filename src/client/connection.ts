/**
 * One connection to a Kafka-compatible broker.
 *
 * Wire format: each request is `int32 size` + request header (v1, or v2 with tagged fields when
 * the request version is flexible, KIP-482) + body; each response is `int32 size` + response
 * header (v0, or v1 when flexible, except ApiVersions whose header is always v0, KIP-511) + body.
 *
 * Invariants:
 * - Kafka answers the requests of one connection in the order they were sent (the broker's
 *   per-connection response pipeline, as Kafka's `SocketServer` muting), so a response must
 *   carry the correlation id of the oldest pending request; anything else means the stream
 *   can no longer be trusted, and the connection is closed.
 * - At most `inflightMax` requests are in flight (Kafka's
 *   `max.in.flight.requests.per.connection`); further senders wait in a FIFO of at most
 *   `waitingMax`, each for at most its request timeout. A full wait queue rejects at once.
 * - Every request has a timeout. A timed-out request closes the connection, since the position
 *   of its response in the stream is then unknown (the Java client's NetworkClient does the
 *   same on `request.timeout.ms`).
 *
 * Version negotiation: ApiVersions v3 first. A broker that does not know v3 answers
 * UNSUPPORTED_VERSION in the v0 body layout, listing its own ApiVersions range; we then retry
 * with its highest version (or v0), as librdkafka does. INVALID_REQUEST on v3 (a client
 * software name the broker refuses) also retries with v0, as librdkafka does.
 *
 * Concurrency: `send` may be called concurrently from any number of async callers; requests
 * are framed and written synchronously, so their order on the wire is the order of the calls
 * that got a slot.
 *
 * Failure: a socket error, a close, a timeout, a frame that is too large, or an unexpected
 * correlation id closes the connection, and every pending and waiting request rejects with
 * the same `KafkaConnectionError`. A response body that fails to decode rejects only its own
 * request: the frame boundary is known, so the stream stays usable.
 */
import { CLIENT_VERSION_MAX } from './client-versions.js'
import { connectTcp, type TcpSocket } from '../io/tcp.js'
import { systemClock, type Clock, type TimerHandle } from '../io/clock.js'
import { isFlexible, type ApiDefinition } from '../protocol/api.js'
import { ApiVersions, type ApiVersionsResponse } from '../protocol/apis/api-versions.js'
import { ERROR } from '../protocol/errors.js'
import { FrameDecoder } from '../protocol/frame-decoder.js'
import { decodeResponseHeader, encodeRequestHeader } from '../protocol/headers.js'
import { Reader } from '../protocol/reader.js'
import { Writer } from '../protocol/writer.js'
import { assert } from '../util/assert.js'
import { KafkaClientError, KafkaConnectionError } from './errors.js'

export { KafkaClientError, KafkaConnectionError } from './errors.js'

type AnyApi = ApiDefinition<unknown, unknown>

interface Pending {
  api: AnyApi
  version: number
  resolve: (value: unknown) => void
  reject: (error: Error) => void
  timer: TimerHandle
}

interface Waiter {
  resolve: () => void
  reject: (error: Error) => void
  timer: TimerHandle
}

export interface ConnectionOptions {
  clientId?: string
  /** Per-request timeout unless a call gives its own (Kafka's request.timeout.ms is 30 s). */
  requestTimeoutMs?: number
  /** TCP connect timeout (Kafka's socket.connection.setup.timeout.ms is 10 s). */
  connectTimeoutMs?: number
  /** Requests in flight at once; the load generator pipelines, so 100 by default. */
  inflightMax?: number
  /** Callers waiting for an in-flight slot; more reject at once rather than queue without end. */
  waitingMax?: number
  /** Largest response frame accepted; a fetch of fetch.max.bytes (50 MiB) fits. */
  maxFrameBytes?: number
  clock?: Clock
}

export interface SendOptions {
  version?: number
  timeoutMs?: number
}

const CLIENT_SOFTWARE_NAME = 'tributary'
const CLIENT_SOFTWARE_VERSION = '0.1.0'
/** The highest ApiVersions version before v3 (the first flexible one). */
const API_VERSIONS_LAYOUT_MAX = 2
const CORRELATION_ID_MAX = 0x7fffffff
/** After the size prefix, api_key int16 and api_version int16. */
const CORRELATION_ID_POSITION = 8

export class KafkaConnection {
  /** `host:port`, for error messages. */
  readonly broker: string
  readonly #socket: TcpSocket
  readonly #pending = new Map<number, Pending>()
  readonly #waiters = new Set<Waiter>()
  readonly #options: Required<ConnectionOptions>
  readonly #decoder: FrameDecoder
  /** Slots handed to woken waiters whose requests are not written yet. */
  #reservedSlots = 0
  #correlationId = 0
  #closedError: KafkaConnectionError | undefined
  #versions = new Map<number, { min: number, max: number }>()

  private constructor (broker: string, socket: TcpSocket, options: Required<ConnectionOptions>) {
    this.broker = broker
    this.#socket = socket
    this.#options = options
    this.#decoder = new FrameDecoder(options.maxFrameBytes)
    socket.on('data', chunk => this.#onData(chunk))
    socket.on('error', error => this.#fail(`socket error: ${error.message}`, error))
    socket.on('end', () => this.#fail('the broker closed the connection'))
    socket.on('close', () => this.#fail('the connection closed'))
  }

  static async connect (host: string, port: number,
    options: ConnectionOptions = {}): Promise<KafkaConnection> {
    const resolved: Required<ConnectionOptions> = {
      clientId: options.clientId ?? 'tributary',
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      connectTimeoutMs: options.connectTimeoutMs ?? options.requestTimeoutMs ?? 10_000,
      inflightMax: options.inflightMax ?? 100,
      waitingMax: options.waitingMax ?? 10_000,
      maxFrameBytes: options.maxFrameBytes ?? 100 * 1024 * 1024,
      clock: options.clock ?? systemClock,
    }
    assert(resolved.inflightMax >= 1, 'inflightMax must be at least 1')
    assert(resolved.waitingMax >= 0, 'waitingMax must not be negative')
    const broker = `${host}:${port}`
    let socket: TcpSocket
    try {
      socket = await connectTcp(host, port, resolved.connectTimeoutMs)
    } catch (error) {
      throw new KafkaConnectionError(broker, `cannot connect: ${(error as Error).message}`,
        { cause: error })
    }
    const connection = new KafkaConnection(broker, socket, resolved)
    try {
      await connection.#negotiate()
    } catch (error) {
      connection.close()
      throw error
    }
    return connection
  }

  async #negotiate (): Promise<void> {
    let response = await this.send(ApiVersions, {
      clientSoftwareName: CLIENT_SOFTWARE_NAME, clientSoftwareVersion: CLIENT_SOFTWARE_VERSION,
    }, { version: ApiVersions.maxVersion })
    if (response.errorCode === ERROR.UNSUPPORTED_VERSION ||
      response.errorCode === ERROR.INVALID_REQUEST) {
      const offered = response.errorCode === ERROR.UNSUPPORTED_VERSION
        ? response.apiKeys.find(range => range.apiKey === ApiVersions.key)?.maxVersion ?? 0
        : 0
      const version = Math.max(0, Math.min(offered, API_VERSIONS_LAYOUT_MAX))
      response = await this.send(ApiVersions, {
        clientSoftwareName: null, clientSoftwareVersion: null,
      }, { version })
    }
    if (response.errorCode !== 0) throw new KafkaClientError(response.errorCode)
    this.#versions = versionTable(response)
  }

  /** Whether the broker advertised any version of `api`. */
  supports (api: { key: number }): boolean {
    return this.#versions.has(api.key)
  }

  /** The broker's advertised range of an API key, if any. */
  brokerVersions (apiKey: number): { min: number, max: number } | undefined {
    return this.#versions.get(apiKey)
  }

  /** The highest version both this client and the broker implement. */
  versionFor (api: { key: number, name: string, minVersion: number, maxVersion: number }): number {
    const broker = this.#versions.get(api.key)
    if (broker === undefined) {
      throw new KafkaClientError(ERROR.UNSUPPORTED_VERSION,
        `UNSUPPORTED_VERSION: ${this.broker} does not serve ${api.name}`)
    }
    const version = Math.min(broker.max, api.maxVersion,
      CLIENT_VERSION_MAX.get(api.key) ?? api.maxVersion)
    if (version < Math.max(broker.min, api.minVersion)) {
      throw new KafkaClientError(ERROR.UNSUPPORTED_VERSION, `UNSUPPORTED_VERSION: ${this.broker} ` +
        `serves ${api.name} v${broker.min}-${broker.max}, this client v${api.minVersion}-` +
        `${api.maxVersion}`)
    }
    return version
  }

  #nextCorrelationId (): number {
    const correlationId = this.#correlationId
    this.#correlationId = correlationId === CORRELATION_ID_MAX ? 0 : correlationId + 1
    return correlationId
  }

  /**
   * Encodes a whole request frame before the caller waits for a slot, so that an encoding
   * error rejects at once; the correlation id is stamped into the header just before writing.
   */
  #frame<Req> (api: ApiDefinition<Req, unknown>, version: number, request: Req): Buffer[] {
    const writer = new Writer()
    writer.int32(0)
    encodeRequestHeader(writer, {
      apiKey: api.key, apiVersion: version, correlationId: 0, clientId: this.#options.clientId,
    }, isFlexible(api, version))
    api.encodeRequest(writer, version, request)
    const chunks = writer.toChunks()
    const first = chunks[0]
    assert(first !== undefined, 'a request frame has at least its size prefix')
    assert(first.length >= CORRELATION_ID_POSITION + 4, 'the header starts in the first chunk')
    first.writeInt32BE(writer.size - 4, 0)
    return chunks
  }

  #write (chunks: Buffer[], correlationId: number): void {
    const first = chunks[0]
    assert(first !== undefined, 'a framed request has a first chunk')
    first.writeInt32BE(correlationId, CORRELATION_ID_POSITION)
    this.#socket.cork()
    for (const chunk of chunks) this.#socket.write(chunk)
    this.#socket.uncork()
  }

  async send<Req, Res> (api: ApiDefinition<Req, Res>, request: Req,
    options: SendOptions = {}): Promise<Res> {
    const timeoutMs = options.timeoutMs ?? this.#options.requestTimeoutMs
    if (this.#closedError !== undefined) throw this.#closedError
    const version = options.version ?? this.versionFor(api)
    const chunks = this.#frame(api, version, request)
    if (this.#slotsUsed() >= this.#options.inflightMax || this.#waiters.size > 0) {
      await this.#waitForSlot(api.name, timeoutMs)
      this.#reservedSlots--
      assert(this.#reservedSlots >= 0, 'reserved slots never go negative')
      if (this.#closedError !== undefined) throw this.#closedError
    }
    const correlationId = this.#nextCorrelationId()
    return new Promise<Res>((resolve, reject) => {
      const timer = this.#options.clock.setTimer(timeoutMs, () => {
        this.#fail(`${api.name} (correlation id ${correlationId}) got no response within ` +
          `${timeoutMs} ms`)
      })
      this.#pending.set(correlationId, {
        api: api as AnyApi, version, resolve: resolve as (value: unknown) => void, reject, timer,
      })
      this.#write(chunks, correlationId)
    })
  }

  /** For Produce with acks=0: the broker sends no response, so nothing is tracked. */
  sendNoResponse<Req> (api: ApiDefinition<Req, unknown>, request: Req, version?: number): void {
    if (this.#closedError !== undefined) throw this.#closedError
    const chosen = version ?? this.versionFor(api)
    this.#write(this.#frame(api, chosen, request), this.#nextCorrelationId())
  }

  /** Requests in flight plus slots promised to woken waiters. */
  #slotsUsed (): number {
    return this.#pending.size + this.#reservedSlots
  }

  #waitForSlot (apiName: string, timeoutMs: number): Promise<void> {
    if (this.#waiters.size >= this.#options.waitingMax) {
      return Promise.reject(new KafkaConnectionError(this.broker, `${apiName}: ` +
        `${this.#options.inflightMax} requests in flight and ${this.#waiters.size} waiting`))
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: this.#options.clock.setTimer(timeoutMs, () => {
          this.#waiters.delete(waiter)
          reject(new KafkaConnectionError(this.broker, `${apiName} waited ${timeoutMs} ms for ` +
            `one of ${this.#options.inflightMax} in-flight slots`))
        }),
      }
      this.#waiters.add(waiter)
    })
  }

  /** Hands freed slots to waiters, oldest first. */
  #wakeWaiters (): void {
    for (const waiter of this.#waiters) {
      if (this.#slotsUsed() >= this.#options.inflightMax) return
      this.#waiters.delete(waiter)
      waiter.timer.cancel()
      this.#reservedSlots++
      waiter.resolve()
    }
  }

  #onData (chunk: Buffer): void {
    if (this.#closedError !== undefined) return
    let frames: Buffer[]
    try {
      frames = this.#decoder.push(chunk)
    } catch (error) {
      this.#fail(`bad response frame: ${(error as Error).message}`, error)
      return
    }
    for (const frame of frames) {
      if (!this.#onFrame(frame)) return
    }
    this.#wakeWaiters()
  }

  /** Settles the request a frame answers; false once the connection had to be closed. */
  #onFrame (frame: Buffer): boolean {
    if (frame.length < 4) {
      this.#fail(`a response frame of ${frame.length} bytes has no correlation id`)
      return false
    }
    const correlationId = frame.readInt32BE(0)
    const oldest = this.#pending.keys().next()
    if (oldest.done === true || oldest.value !== correlationId) {
      this.#fail(`response with correlation id ${correlationId}, expected ` +
        `${oldest.done === true ? 'none' : oldest.value}`)
      return false
    }
    const pending = this.#pending.get(correlationId)
    assert(pending !== undefined, 'the oldest pending key has an entry')
    this.#pending.delete(correlationId)
    pending.timer.cancel()
    try {
      const reader = new Reader(frame)
      decodeResponseHeader(reader, pending.api.key, isFlexible(pending.api, pending.version))
      pending.resolve(pending.api.decodeResponse(reader, bodyVersion(pending, reader)))
    } catch (error) {
      pending.reject(error instanceof Error ? error : new Error(String(error)))
    }
    return true
  }

  #fail (reason: string, cause?: unknown): void {
    if (this.#closedError !== undefined) return
    const error = new KafkaConnectionError(this.broker, reason, { cause })
    this.#closedError = error
    for (const pending of this.#pending.values()) {
      pending.timer.cancel()
      pending.reject(error)
    }
    this.#pending.clear()
    for (const waiter of this.#waiters) {
      waiter.timer.cancel()
      waiter.reject(error)
    }
    this.#waiters.clear()
    this.#socket.destroy()
  }

  get closed (): boolean {
    return this.#closedError !== undefined
  }

  /** Requests sent and not yet answered (for tests and metrics). */
  get inflightCount (): number {
    return this.#pending.size
  }

  close (): void {
    this.#fail('the connection was closed by the client')
  }
}

/**
 * The version to decode a response body with. A broker that does not implement the
 * ApiVersions version asked for answers UNSUPPORTED_VERSION in the v0 layout (Kafka's
 * `ApiVersionsResponse` fallback, KIP-511), so the error code is peeked first.
 */
function bodyVersion (pending: Pending, reader: Reader): number {
  if (pending.api.key !== ApiVersions.key || pending.version === 0) return pending.version
  if (reader.remaining < 2) return pending.version
  const errorCode = reader.buffer.readInt16BE(reader.offset)
  return errorCode === ERROR.UNSUPPORTED_VERSION ? 0 : pending.version
}

function versionTable (response: ApiVersionsResponse): Map<number, { min: number, max: number }> {
  const table = new Map<number, { min: number, max: number }>()
  for (const range of response.apiKeys) {
    if (range.minVersion <= range.maxVersion) {
      table.set(range.apiKey, { min: range.minVersion, max: range.maxVersion })
    }
  }
  return table
}
