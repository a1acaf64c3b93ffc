/**
 * One connection to a Kafka-compatible broker: frames requests (header v1, or v2 for flexible
 * versions), matches responses by correlation id, negotiates versions with ApiVersions on
 * connect, and bounds both the requests in flight and how long each may take. A timed-out
 * request closes the connection, since the stream position is then unknown.
 */
import type { Socket } from 'node:net'
import { connectTcp } from '../io/tcp.js'
import { isFlexible, type ApiDefinition } from '../protocol/api.js'
import { ApiVersions, type ApiVersionsResponse } from '../protocol/apis/api-versions.js'
import { errorByCode } from '../protocol/errors.js'
import { FrameDecoder } from '../protocol/frame-decoder.js'
import { decodeResponseHeader, encodeRequestHeader } from '../protocol/headers.js'
import { Reader } from '../protocol/reader.js'
import { Writer } from '../protocol/writer.js'

export class KafkaClientError extends Error {
  override name = 'KafkaClientError'
  readonly errorName: string
  readonly code: number

  constructor (code: number, message?: string) {
    const known = errorByCode(code)
    super(message ?? `${known?.name ?? `error ${code}`}: ${known?.message ?? ''}`)
    this.code = code
    this.errorName = known?.name ?? 'UNKNOWN'
  }
}

interface Pending {
  api: ApiDefinition<unknown, unknown>
  version: number
  resolve: (value: unknown) => void
  reject: (error: Error) => void
  timer: NodeJS.Timeout
}

export interface ConnectionOptions {
  clientId?: string
  requestTimeoutMs?: number
  inflightMax?: number
  maxFrameBytes?: number
}

const UNSUPPORTED_VERSION = 35

export class KafkaConnection {
  readonly #socket: Socket
  readonly #pending = new Map<number, Pending>()
  readonly #waitingForSlot: (() => void)[] = []
  readonly #options: Required<ConnectionOptions>
  readonly #decoder: FrameDecoder
  #correlationId = 0
  #closedError: Error | undefined
  #versions = new Map<number, { min: number, max: number }>()

  private constructor (socket: Socket, options: ConnectionOptions) {
    this.#socket = socket
    this.#options = {
      clientId: options.clientId ?? 'tributary',
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      inflightMax: options.inflightMax ?? 100,
      maxFrameBytes: options.maxFrameBytes ?? 256 * 1024 * 1024,
    }
    this.#decoder = new FrameDecoder(this.#options.maxFrameBytes)
    socket.on('data', chunk => this.#onData(chunk))
    socket.on('error', error => this.#fail(error))
    socket.on('close', () => this.#fail(new Error('connection closed')))
  }

  static async connect (host: string, port: number,
    options: ConnectionOptions = {}): Promise<KafkaConnection> {
    const socket = await connectTcp(host, port, options.requestTimeoutMs ?? 30_000)
    const connection = new KafkaConnection(socket, options)
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
      clientSoftwareName: 'tributary', clientSoftwareVersion: '0.1.0',
    }, { version: 3 })
    if (response.errorCode === UNSUPPORTED_VERSION) {
      response = await this.send(ApiVersions, {
        clientSoftwareName: null, clientSoftwareVersion: null,
      }, { version: 0 })
    }
    if (response.errorCode !== 0) throw new KafkaClientError(response.errorCode)
    this.#versions = new Map((response as ApiVersionsResponse).apiKeys
      .map(range => [range.apiKey, { min: range.minVersion, max: range.maxVersion }]))
  }

  /** The highest version both this client and the broker implement. */
  versionFor (api: ApiDefinition<unknown, unknown>): number {
    const broker = this.#versions.get(api.key)
    if (broker === undefined) {
      throw new KafkaClientError(UNSUPPORTED_VERSION, `the broker does not serve ${api.name}`)
    }
    const version = Math.min(broker.max, api.maxVersion)
    if (version < Math.max(broker.min, api.minVersion)) {
      throw new KafkaClientError(UNSUPPORTED_VERSION, `no common version of ${api.name}`)
    }
    return version
  }

  #frame<Req> (api: ApiDefinition<Req, unknown>, version: number, request: Req,
    correlationId: number): Buffer[] {
    const writer = new Writer()
    writer.int32(0)
    const flexible = isFlexible(api, version)
    encodeRequestHeader(writer, {
      apiKey: api.key, apiVersion: version, correlationId, clientId: this.#options.clientId,
    }, flexible)
    api.encodeRequest(writer, version, request)
    const chunks = writer.toChunks()
    ;(chunks[0] as Buffer).writeInt32BE(writer.size - 4, 0)
    return chunks
  }

  async send<Req, Res> (api: ApiDefinition<Req, Res>, request: Req,
    options: { version?: number, timeoutMs?: number } = {}): Promise<Res> {
    while (this.#pending.size >= this.#options.inflightMax && this.#closedError === undefined) {
      await new Promise<void>(resolve => this.#waitingForSlot.push(resolve))
    }
    if (this.#closedError !== undefined) throw this.#closedError
    const version = options.version ?? this.versionFor(api as ApiDefinition<unknown, unknown>)
    const correlationId = this.#correlationId
    this.#correlationId = (this.#correlationId + 1) & 0x7fffffff
    const chunks = this.#frame(api, version, request, correlationId)
    return new Promise<Res>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this.#options.requestTimeoutMs
      const timer = setTimeout(() => {
        this.#fail(new Error(`${api.name} timed out after ${timeoutMs} ms`))
      }, timeoutMs)
      this.#pending.set(correlationId, {
        api: api as ApiDefinition<unknown, unknown>, version, resolve: resolve as (v: unknown) => void,
        reject, timer,
      })
      this.#socket.cork()
      for (const chunk of chunks) this.#socket.write(chunk)
      this.#socket.uncork()
    })
  }

  /** Produce with acks=0: no response will come. */
  sendNoResponse<Req> (api: ApiDefinition<Req, unknown>, request: Req, version: number): void {
    if (this.#closedError !== undefined) throw this.#closedError
    const correlationId = this.#correlationId
    this.#correlationId = (this.#correlationId + 1) & 0x7fffffff
    for (const chunk of this.#frame(api, version, request, correlationId)) this.#socket.write(chunk)
  }

  #onData (chunk: Buffer): void {
    let frames: Buffer[]
    try {
      frames = this.#decoder.push(chunk)
    } catch (error) {
      this.#fail(error as Error)
      return
    }
    for (const frame of frames) {
      const reader = new Reader(frame)
      const correlationId = reader.int32()
      const pending = this.#pending.get(correlationId)
      if (pending === undefined) {
        this.#fail(new Error(`response with unknown correlation id ${correlationId}`))
        return
      }
      this.#pending.delete(correlationId)
      clearTimeout(pending.timer)
      try {
        reader.offset = 0
        decodeResponseHeader(reader, pending.api.key, isFlexible(pending.api, pending.version))
        pending.resolve(pending.api.decodeResponse(reader, pending.version))
      } catch (error) {
        pending.reject(error as Error)
      }
      this.#waitingForSlot.shift()?.()
    }
  }

  #fail (error: Error): void {
    if (this.#closedError !== undefined) return
    this.#closedError = error
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer)
      pending.reject(error)
    }
    this.#pending.clear()
    for (const wake of this.#waitingForSlot.splice(0)) wake()
    this.#socket.destroy()
  }

  get closed (): boolean {
    return this.#closedError !== undefined
  }

  close (): void {
    this.#fail(new Error('connection closed by the client'))
  }
}
