/**
 * A tiny fake Kafka broker on node:net for connection tests: it parses request frames, answers
 * ApiVersions (with Kafka's v0-layout UNSUPPORTED_VERSION fallback when asked for a version
 * above `apiVersionsMax`), and hands every other request to a test-supplied handler that
 * decides what to write back. Also exports `Echo`, a made-up API (key 1000) whose response
 * repeats the request payload, so tests can match answers to requests.
 */
import net from 'node:net'
import type { ApiDefinition } from '../../src/protocol/api.js'
import { ApiVersions } from '../../src/protocol/apis/api-versions.js'
import { Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'

export const ECHO_KEY = 1000

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyApi = ApiDefinition<any, any>

export interface EchoMessage {
  payload: string
}

export const Echo: ApiDefinition<EchoMessage, EchoMessage> = {
  key: ECHO_KEY,
  name: 'Echo',
  minVersion: 0,
  maxVersion: 1,
  flexibleFrom: 1,
  decodeRequest: (reader, version) => ({ payload: readPayload(reader, version) }),
  encodeRequest: (writer, version, request) => { writePayload(writer, version, request.payload) },
  decodeResponse: (reader, version) => ({ payload: readPayload(reader, version) }),
  encodeResponse: (writer, version, response) => {
    writePayload(writer, version, response.payload)
  },
}

function readPayload (reader: Reader, version: number): string {
  const payload = version >= 1 ? reader.compactString() : reader.string()
  if (version >= 1) reader.taggedFields()
  return payload
}

function writePayload (writer: Writer, version: number, payload: string): void {
  writer.stringOf(version >= 1, payload)
  if (version >= 1) writer.taggedFields()
}

export interface FakeRequest {
  apiKey: number
  apiVersion: number
  correlationId: number
  clientId: string | null
  /** The request body after the header (header v2 tagged fields already skipped). */
  body: Reader
  socket: net.Socket
}

export interface FakeBrokerOptions {
  /** Highest ApiVersions version served; above it the answer is the v0-layout error. */
  apiVersionsMax?: number
  /** Whether the v0-layout error lists the ApiVersions range (Kafka does since 2.4). */
  listRangeInError?: boolean
  /** More APIs to advertise (their whole range), answered by `handle`. */
  apis?: AnyApi[]
  /** What other requests get; the default echoes Echo requests. */
  handle?: (request: FakeRequest) => void
}

export interface FakeBroker {
  port: number
  /** Every request seen, in order (key, version, correlation id). */
  seen: { apiKey: number, apiVersion: number, correlationId: number }[]
  sockets: net.Socket[]
  close: () => Promise<void>
}

/** Writes one response frame: int32 size, correlation id (header v0 or v1), body. */
export function respond (socket: net.Socket, correlationId: number, flexibleHeader: boolean,
  writeBody: (writer: Writer) => void): void {
  socket.write(responseFrame(correlationId, flexibleHeader, writeBody))
}

export function responseFrame (correlationId: number, flexibleHeader: boolean,
  writeBody: (writer: Writer) => void): Buffer {
  const writer = new Writer()
  writer.int32(0).int32(correlationId)
  if (flexibleHeader) writer.taggedFields()
  writeBody(writer)
  const frame = writer.toBuffer()
  frame.writeInt32BE(frame.length - 4, 0)
  return frame
}

/** Answers `request` with `response` encoded by `api` at the request's version. */
export function answer<Res> (request: FakeRequest, api: ApiDefinition<unknown, Res>,
  response: Res): void {
  respond(request.socket, request.correlationId, request.apiVersion >= api.flexibleFrom,
    writer => api.encodeResponse(writer, request.apiVersion, response))
}

export function echoResponse (request: FakeRequest): Buffer {
  const message = Echo.decodeRequest(request.body, request.apiVersion)
  return responseFrame(request.correlationId, request.apiVersion >= 1,
    writer => Echo.encodeResponse(writer, request.apiVersion, message))
}

function answerApiVersions (request: FakeRequest, options: FakeBrokerOptions): void {
  const max = options.apiVersionsMax ?? ApiVersions.maxVersion
  const apiKeys = [
    { apiKey: ApiVersions.key, minVersion: 0, maxVersion: max },
    { apiKey: ECHO_KEY, minVersion: 0, maxVersion: 1 },
    ...(options.apis ?? []).map(api => ({
      apiKey: api.key, minVersion: api.minVersion, maxVersion: api.maxVersion,
    })),
  ]
  if (request.apiVersion > max) {
    respond(request.socket, request.correlationId, false, writer => {
      ApiVersions.encodeResponse(writer, 0, {
        errorCode: 35,
        apiKeys: options.listRangeInError === false ? [] : apiKeys.slice(0, 1),
        throttleTimeMs: 0,
      })
    })
    return
  }
  respond(request.socket, request.correlationId, false, writer => {
    ApiVersions.encodeResponse(writer, request.apiVersion, {
      errorCode: 0, apiKeys, throttleTimeMs: 0,
    })
  })
}

function parseFrames (buffered: Buffer, onFrame: (frame: Buffer) => void): Buffer {
  let rest = buffered
  while (rest.length >= 4 && rest.length >= 4 + rest.readInt32BE(0)) {
    const size = rest.readInt32BE(0)
    onFrame(rest.subarray(4, 4 + size))
    rest = rest.subarray(4 + size)
  }
  return rest
}

export async function startFakeBroker (options: FakeBrokerOptions = {}): Promise<FakeBroker> {
  const seen: FakeBroker['seen'] = []
  const sockets: net.Socket[] = []
  const server = net.createServer(socket => {
    sockets.push(socket)
    socket.on('error', () => undefined)
    let buffered: Buffer = Buffer.alloc(0)
    socket.on('data', chunk => {
      buffered = parseFrames(Buffer.concat([buffered, chunk]), frame => {
        const reader = new Reader(frame)
        const apiKey = reader.int16()
        const apiVersion = reader.int16()
        const correlationId = reader.int32()
        const clientId = reader.nullableString()
        const api = [ApiVersions, Echo, ...(options.apis ?? [])]
          .find(candidate => candidate.key === apiKey)
        const flexible = apiVersion >= (api?.flexibleFrom ?? Infinity)
        if (flexible) reader.taggedFields()
        seen.push({ apiKey, apiVersion, correlationId })
        const request = { apiKey, apiVersion, correlationId, clientId, body: reader, socket }
        if (apiKey === ApiVersions.key) answerApiVersions(request, options)
        else if (options.handle !== undefined) options.handle(request)
        else socket.write(echoResponse(request))
      })
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  return {
    port,
    seen,
    sockets,
    close: () => new Promise<void>(resolve => {
      for (const socket of sockets) socket.destroy()
      server.close(() => resolve())
    }),
  }
}
