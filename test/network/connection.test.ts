/**
 * Connection and KafkaServer over real loopback sockets, with a test dispatcher serving a small
 * test API (no broker): failures stay on their request or connection, frames are taken one at a
 * time under the limits, unsent responses pause reading, idle and slow connections are closed,
 * per-address caps hold, and the request budget accounts what clients send.
 */
import assert from 'node:assert/strict'
import net from 'node:net'
import { afterEach, describe, it } from 'node:test'
import type { RequestContext, RequestDispatcher } from '../../src/broker/request-context.js'
import type { ApiDefinition } from '../../src/protocol/api.js'
import { FrameDecoder } from '../../src/protocol/frame-decoder.js'
import { Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'
import { ConnectionQuotas } from '../../src/network/connection-quotas.js'
import { RequestBudget } from '../../src/network/request-budget.js'
import { KafkaServer } from '../../src/network/server.js'
import type { ConnectionLimits } from '../../src/network/connection.js'

/** What the test handler does with a request. */
const MODE = { OK: 0, THROW: 1, UNENCODABLE: 2, HOLD: 3, LARGE: 4 } as const

interface TestRequest { mode: number, size: number }
interface TestResponse { errorCode: number, text: string | null, payload: Buffer | null }

function testApi (key: number, withErrorResponse: boolean):
ApiDefinition<TestRequest, TestResponse> {
  return {
    key,
    name: `Test${key}`,
    minVersion: 0,
    maxVersion: 0,
    flexibleFrom: Number.POSITIVE_INFINITY,
    decodeRequest: reader => ({ mode: reader.int8(), size: reader.int32() }),
    encodeRequest: (writer, _version, request) => { writer.int8(request.mode).int32(request.size) },
    decodeResponse: reader => ({ errorCode: reader.int16(), text: reader.nullableString(),
      payload: reader.nullableBytes() }),
    encodeResponse: (writer, _version, response) => {
      writer.int16(response.errorCode).nullableString(response.text)
        .nullableBytes(response.payload)
    },
    ...(withErrorResponse
      ? { errorResponse: (_request: TestRequest, _version: number, errorCode: number) =>
          ({ errorCode, text: null, payload: null }) }
      : {}),
  }
}

const WITH_ERROR_RESPONSE = testApi(60, true)
const WITHOUT_ERROR_RESPONSE = testApi(61, false)
/** Key 1 is Fetch's: the connection runs requests of this key one at a time. */
const FETCH_LIKE = testApi(1, true)
/** Key 0 is Produce's; its requests say acks=0, so a failure gets no response at all. */
const PRODUCE_ACKS_0: ApiDefinition<TestRequest, TestResponse> = {
  ...testApi(0, true),
  decodeRequest: reader => ({ mode: reader.int8(), size: reader.int32(), acks: 0 }),
}
const APIS = new Map([WITH_ERROR_RESPONSE, WITHOUT_ERROR_RESPONSE, FETCH_LIKE, PRODUCE_ACKS_0]
  .map(api => [api.key, api as ApiDefinition<unknown, unknown>]))

class TestDispatcher implements RequestDispatcher {
  handled = 0
  /** Each answer handed to the socket: its API and how long it waited behind earlier ones. */
  readonly written: Array<[string, number]> = []
  readonly #held: (() => void)[] = []

  lookup (apiKey: number): { api: ApiDefinition<unknown, unknown>, minVersion: number,
    maxVersion: number } | undefined {
    const api = APIS.get(apiKey)
    return api === undefined ? undefined : { api, minVersion: 0, maxVersion: 0 }
  }

  async handle (_context: RequestContext, request: unknown): Promise<unknown> {
    this.handled++
    const { mode, size } = request as TestRequest
    if (mode === MODE.HOLD) await new Promise<void>(resolve => this.#held.push(resolve))
    if (mode === MODE.THROW) throw new Error('the handler exploded')
    if (mode === MODE.UNENCODABLE) return { errorCode: 0, text: 'x'.repeat(40_000), payload: null }
    if (mode === MODE.LARGE) return { errorCode: 0, text: null, payload: Buffer.alloc(size) }
    return { errorCode: 0, text: 'ok', payload: null }
  }

  releaseHeld (): void {
    for (const release of this.#held.splice(0)) release()
  }

  onResponseWritten (apiName: string, behindEarlierMs: number): void {
    this.written.push([apiName, behindEarlierMs])
  }
}

function requestFrame (apiKey: number, correlationId: number, mode: number, size = 0): Buffer {
  const writer = new Writer()
  writer.int32(0).int16(apiKey).int16(0).int32(correlationId).nullableString(null)
  writer.int8(mode).int32(size)
  const frame = writer.toBuffer()
  frame.writeInt32BE(frame.length - 4, 0)
  return frame
}

/** A raw client: sends bytes, reads response frames, notices the close. */
class RawClient {
  readonly socket: net.Socket
  readonly closed: Promise<void>
  readonly #decoder = new FrameDecoder(1024 ** 3)
  readonly #frames: Buffer[] = []
  #waiter: (() => void) | undefined

  private constructor (socket: net.Socket) {
    this.socket = socket
    socket.on('error', () => undefined)
    socket.on('data', chunk => {
      this.#frames.push(...this.#decoder.push(chunk))
      this.#waiter?.()
    })
    this.closed = new Promise(resolve => socket.once('close', () => {
      resolve()
      this.#waiter?.()
    }))
  }

  static async connect (port: number): Promise<RawClient> {
    const socket = net.connect({ host: '127.0.0.1', port })
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    return new RawClient(socket)
  }

  send (bytes: Buffer): void {
    this.socket.write(bytes)
  }

  /** The next response: correlation id and the decoded body. */
  async next (timeoutMs = 3000): Promise<{ correlationId: number, response: TestResponse }> {
    const deadline = Date.now() + timeoutMs
    while (this.#frames.length === 0) {
      if (this.socket.destroyed) throw new Error('connection closed')
      if (Date.now() > deadline) throw new Error('no response')
      await new Promise<void>(resolve => {
        this.#waiter = resolve
        setTimeout(resolve, 50)
      })
    }
    const reader = new Reader(this.#frames.shift() as Buffer)
    const correlationId = reader.int32()
    return { correlationId, response: WITH_ERROR_RESPONSE.decodeResponse(reader, 0) }
  }

  close (): void {
    this.socket.destroy()
  }
}

async function within (timeoutMs: number, what: string, promise: Promise<unknown>):
Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([promise, new Promise((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} not within ${timeoutMs} ms`)), timeoutMs)
  })])
  clearTimeout(timer)
}

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

interface Harness {
  server: KafkaServer
  dispatcher: TestDispatcher
  budget: RequestBudget
  warnings: string[]
  clients: RawClient[]
  connect: () => Promise<RawClient>
}

const harnesses: Harness[] = []
afterEach(async () => {
  for (const harness of harnesses.splice(0)) {
    harness.dispatcher.releaseHeld()
    for (const client of harness.clients) client.close()
    await harness.server.close(100)
  }
})

async function start (limits: Partial<ConnectionLimits> = {}, options: {
  bytesMax?: number, requestsMax?: number, perIpMax?: number } = {}): Promise<Harness> {
  const dispatcher = new TestDispatcher()
  const budget = new RequestBudget(options.bytesMax ?? 64 * 1024 * 1024,
    options.requestsMax ?? 500)
  const warnings: string[] = []
  const server = new KafkaServer({
    host: '127.0.0.1',
    port: 0,
    quotas: new ConnectionQuotas(10_000, options.perIpMax ?? 10_000),
    limits: {
      listener: 'PLAINTEXT',
      maxFrameBytes: 100 * 1024 * 1024,
      inflightRequestsMax: 64,
      responseBufferBytesMax: 1024 * 1024,
      idleTimeoutMs: 600_000,
      frameTimeoutMs: 30_000,
      ...limits,
    },
    budget,
    logger: { warn: message => warnings.push(message) },
  }, dispatcher)
  await server.listen()
  const clients: RawClient[] = []
  const harness: Harness = {
    server, dispatcher, budget, warnings, clients,
    connect: async () => {
      const client = await RawClient.connect(server.port)
      clients.push(client)
      return client
    },
  }
  harnesses.push(harness)
  return harness
}

/** Collects unhandled rejections while `body` runs (the old code leaked encode failures). */
async function noUnhandledRejection (body: () => Promise<void>): Promise<unknown[]> {
  const rejections: unknown[] = []
  const listener = (reason: unknown): void => { rejections.push(reason) }
  process.on('unhandledRejection', listener)
  try {
    await body()
    await sleep(50)
  } finally {
    process.off('unhandledRejection', listener)
  }
  return rejections
}

describe('Connection: failures stay local', () => {
  it('answers UNKNOWN_SERVER_ERROR when a response cannot be encoded, and serves the next request',
    async () => {
    const { connect, warnings } = await start()
    const rejections = await noUnhandledRejection(async () => {
      const client = await connect()
      client.send(requestFrame(60, 1, MODE.UNENCODABLE))
      const failed = await client.next()
      assert.deepEqual(failed, { correlationId: 1,
        response: { errorCode: -1, text: null, payload: null } })
      client.send(requestFrame(60, 2, MODE.OK))
      assert.equal((await client.next()).response.text, 'ok')
    })
    assert.deepEqual(rejections, [])
    assert.ok(warnings.some(line => line.includes('could not be encoded')), warnings.join('\n'))
  })

  it('answers UNKNOWN_SERVER_ERROR when the handler throws, logging only the first few',
    async () => {
    const { connect, warnings } = await start()
    const client = await connect()
    client.send(Buffer.concat([...Array.from({ length: 20 }, (_, i) =>
      requestFrame(60, i, MODE.THROW)), requestFrame(60, 20, MODE.OK)]))
    for (let i = 0; i < 20; i++) assert.equal((await client.next()).response.errorCode, -1)
    assert.deepEqual((await client.next()).correlationId, 20)
    assert.equal(warnings.filter(line => line.includes('the handler exploded')).length, 5)
    assert.equal(warnings.filter(line => line.includes('not logged')).length, 1)
  })

  it('closes only that connection when no error response can be formed', async () => {
    const { connect, warnings } = await start()
    const rejections = await noUnhandledRejection(async () => {
      const client = await connect()
      client.send(requestFrame(61, 1, MODE.UNENCODABLE))
      await within(3000, 'the close', client.closed)
      const other = await connect()
      other.send(requestFrame(61, 2, MODE.OK))
      assert.equal((await other.next()).response.text, 'ok')
    })
    assert.deepEqual(rejections, [])
    assert.ok(warnings.some(line => line.includes('closing connection') &&
      line.includes('32767-byte limit')), warnings.join('\n'))
  })
})

describe('Connection: a response past responseBytesMax', () => {
  it('is answered with the API\'s error response instead of being encoded whole', async () => {
    const { connect, warnings } = await start({ responseBytesMax: 64 * 1024 })
    const client = await connect()
    client.send(requestFrame(60, 1, MODE.LARGE, 1024 * 1024))
    assert.deepEqual(await client.next(), { correlationId: 1,
      response: { errorCode: -1, text: null, payload: null } })
    client.send(requestFrame(60, 2, MODE.LARGE, 1024))
    assert.equal((await client.next()).response.payload?.length, 1024, 'a small one still goes')
    assert.ok(warnings.some(line => line.includes('larger than its limit of 65536 bytes')),
      warnings.join('\n'))
  })
})

describe('Connection: a request that cannot be parsed', () => {
  it('answers the requests before it, then closes the connection', async () => {
    const { connect, warnings } = await start()
    const client = await connect()
    // One write: a valid request, then one of an API the broker does not serve.
    client.send(Buffer.concat([requestFrame(60, 1, MODE.OK), requestFrame(99, 2, MODE.OK)]))
    const answered = await client.next()
    assert.deepEqual(answered.correlationId, 1)
    assert.equal(answered.response.text, 'ok')
    await within(3000, 'the close', client.closed)
    assert.ok(warnings.some(line => line.includes('unsupported API key 99')), warnings.join('\n'))
  })
})

describe('Connection: a failed acks=0 Produce', () => {
  it('closes the connection instead of sending a response the client does not expect',
    async () => {
    const { connect } = await start()
    const client = await connect()
    client.send(requestFrame(0, 1, MODE.THROW))
    await within(3000, 'the close', client.closed)
  })
})

describe('Connection: limits', () => {
  it('checks the in-flight limit per frame, not per socket read', async () => {
    const { connect, dispatcher } = await start({ inflightRequestsMax: 2 })
    const client = await connect()
    client.send(Buffer.concat(Array.from({ length: 10 }, (_, i) =>
      requestFrame(60, i, MODE.HOLD))))
    await sleep(200)
    assert.equal(dispatcher.handled, 2)
    for (let i = 0; i < 10; i++) {
      dispatcher.releaseHeld()
      assert.equal((await client.next()).correlationId, i)
    }
  })

  it('runs one Fetch at a time, while the requests behind it still run', async () => {
    const { connect, dispatcher } = await start()
    const client = await connect()
    client.send(Buffer.concat([requestFrame(1, 1, MODE.HOLD), requestFrame(1, 2, MODE.HOLD),
      requestFrame(60, 3, MODE.OK)]))
    await sleep(200)
    assert.equal(dispatcher.handled, 2, 'the first Fetch and the request after the second')
    dispatcher.releaseHeld()
    assert.equal((await client.next()).correlationId, 1)
    await sleep(100)
    assert.equal(dispatcher.handled, 3)
    dispatcher.releaseHeld()
    assert.equal((await client.next()).correlationId, 2)
    assert.equal((await client.next()).correlationId, 3)
  })

  it('answers in request order, telling how long a ready answer waited behind earlier ones',
    async () => {
      const { connect, dispatcher } = await start()
      const client = await connect()
      client.send(Buffer.concat([requestFrame(60, 1, MODE.HOLD), requestFrame(61, 2, MODE.OK)]))
      await sleep(200)
      assert.deepEqual(dispatcher.written, [], 'the ready answer waits for the held one')
      dispatcher.releaseHeld()
      assert.equal((await client.next()).correlationId, 1)
      assert.equal((await client.next()).correlationId, 2)
      const [first, second] = dispatcher.written
      assert.equal(first?.[0], 'Test60')
      assert.ok((first?.[1] ?? -1) >= 0 && (first?.[1] ?? Infinity) < 100, `${first?.[1]}`)
      assert.equal(second?.[0], 'Test61')
      assert.ok((second?.[1] ?? 0) >= 150, `waited ${second?.[1]} ms behind the held answer`)
    })

  it('stops reading from a client that does not read its responses', async (t) => {
    const responseBytes = 8 * 1024 * 1024
    const { connect, dispatcher, budget } = await start({ responseBufferBytesMax: 1024 * 1024 },
      { bytesMax: 1024 ** 3 })
    const client = await connect()
    client.socket.pause()
    // Fetch's key: a response that can be large (a non-Fetch request runs concurrently).
    client.send(Buffer.concat(Array.from({ length: 30 }, (_, i) =>
      requestFrame(1, i, MODE.LARGE, responseBytes))))
    await sleep(500)
    // The kernel's loopback buffers take a few MiB; the broker holds at most one response more.
    t.diagnostic(`handled ${dispatcher.handled} of 30, budget ${budget.bytes} bytes`)
    assert.ok(dispatcher.handled <= 6, `handled ${dispatcher.handled} of 30 requests`)
    assert.ok(budget.bytes <= 2 * responseBytes, `budget holds ${budget.bytes} bytes`)
    client.socket.resume()
    for (let i = 0; i < 30; i++) assert.equal((await client.next(10_000)).correlationId, i)
  })

  it('past queued.max.requests, holds back a connection with requests in flight but not a new one',
    async () => {
    const { connect, dispatcher, budget } = await start({}, { requestsMax: 2 })
    const busy = await connect()
    busy.send(Buffer.concat([1, 2, 3].map(i => requestFrame(60, i, MODE.HOLD))))
    await sleep(200)
    assert.equal(dispatcher.handled, 2)
    assert.ok(budget.requestsExhausted)
    const fresh = await connect()
    fresh.send(requestFrame(60, 9, MODE.OK))
    assert.equal((await fresh.next()).correlationId, 9)
    assert.equal(dispatcher.handled, 3, 'the busy connection\'s third request still waits')
    dispatcher.releaseHeld()
    assert.equal((await busy.next()).correlationId, 1)
    assert.equal((await busy.next()).correlationId, 2)
    dispatcher.releaseHeld()
    for (let i = 0; i < 40 && dispatcher.handled < 4; i++) await sleep(25)
    dispatcher.releaseHeld()
    assert.equal((await busy.next()).correlationId, 3)
  })

  it('closes a connection idle for connections.max.idle.ms, but not one with a request in flight',
    async () => {
    const { connect } = await start({ idleTimeoutMs: 300 })
    const idle = await connect()
    const busy = await connect()
    busy.send(requestFrame(60, 1, MODE.HOLD))
    await within(3000, 'the idle close', idle.closed)
    assert.equal(busy.socket.destroyed, false)
  })

  it('closes an idle client that stopped reading its answers, requests waiting behind them',
    async () => {
      const { connect, budget, server } = await start({ idleTimeoutMs: 500 })
      const client = await connect()
      client.socket.pause() // so it does not see the close either: watch the server
      client.send(Buffer.concat(Array.from({ length: 4 }, (_, i) =>
        requestFrame(1, i, MODE.LARGE, 8 * 1024 * 1024))))
      await sleep(200)
      assert.equal(server.connectionCount, 1)
      assert.ok(budget.bytes > 8 * 1024 * 1024 - 4 * 1024 * 1024, `holds ${budget.bytes}`)
      for (let i = 0; i < 120 && server.connectionCount > 0; i++) await sleep(25)
      assert.equal(server.connectionCount, 0, 'closed as idle')
      assert.equal(budget.bytes, 0)
    })

  it('refuses connections past max.connections.per.ip', async () => {
    const { connect, server } = await start({}, { perIpMax: 2 })
    const first = await connect()
    await connect()
    const third = await connect()
    await within(3000, 'the refusal', third.closed)
    assert.equal(server.connectionCount, 2)
    first.close()
    await first.closed
    for (let i = 0; i < 40 && server.connectionCount > 1; i++) await sleep(25)
    const again = await connect()
    again.send(requestFrame(60, 1, MODE.OK))
    assert.equal((await again.next()).response.text, 'ok')
  })

  it('closes a connection whose frame does not complete within the frame deadline', async () => {
    const { connect, warnings } = await start({ frameTimeoutMs: 300 })
    const slow = await connect()
    const quiet = await connect()
    const started = requestFrame(60, 1, MODE.OK)
    slow.send(started.subarray(0, 8))
    await within(3000, 'the deadline close', slow.closed)
    assert.ok(warnings.some(line => line.includes('tributary.request.frame.timeout.ms')))
    assert.equal(quiet.socket.destroyed, false, 'a connection that sent nothing is only idle')
  })

  it('accounts partial frames in the budget without allocating their announced size', async () => {
    const { connect, budget } = await start()
    const arrayBuffersBefore = process.memoryUsage().arrayBuffers
    const announcing = await Promise.all(Array.from({ length: 50 }, () => connect()))
    const size = Buffer.alloc(4)
    size.writeInt32BE(100 * 1024 * 1024)
    for (const client of announcing) client.send(size)
    for (let i = 0; i < 40 && budget.bytes < 200; i++) await sleep(25)
    assert.equal(budget.bytes, 200)
    const grownBytes = process.memoryUsage().arrayBuffers - arrayBuffersBefore
    assert.ok(grownBytes < 16 * 1024 * 1024, `array buffers grew by ${grownBytes} bytes`)
    for (const client of announcing) client.close()
    for (let i = 0; i < 40 && budget.bytes > 0; i++) await sleep(25)
    assert.equal(budget.bytes, 0)
  })

  it('pauses a connection holding bytes when the budget is exhausted, and still serves others',
    async () => {
    const { connect, budget } = await start({ frameTimeoutMs: 1000 }, { bytesMax: 1024 * 1024 })
    const hog = await connect()
    const size = Buffer.alloc(4)
    size.writeInt32BE(4 * 1024 * 1024)
    hog.send(Buffer.concat([size, Buffer.alloc(3 * 1024 * 1024)]))
    await sleep(300)
    assert.ok(budget.bytesExhausted)
    // Reading stopped about one socket read past the budget, far short of the 3 MiB sent.
    assert.ok(budget.bytes < 2 * 1024 * 1024, `budget holds ${budget.bytes} bytes`)
    const polite = await connect()
    polite.send(requestFrame(60, 1, MODE.OK))
    assert.equal((await polite.next()).response.text, 'ok')
    // A paused socket does not see its peer's close, but the frame deadline still runs.
    await within(3000, 'the deadline close of the stalled frame', hog.closed)
    assert.equal(budget.bytes, 0)
  })
})
