import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import {
  KafkaClientError, KafkaConnection, KafkaConnectionError,
} from '../../src/client/connection.js'
import { ApiVersions } from '../../src/protocol/apis/api-versions.js'
import { Metadata } from '../../src/protocol/apis/metadata.js'
import { Reader } from '../../src/protocol/reader.js'
import {
  ECHO_KEY, Echo, echoResponse, respond, responseFrame, startFakeBroker, type FakeBroker,
  type FakeRequest,
} from './fake-broker.js'

const brokers: FakeBroker[] = []
after(async () => {
  for (const broker of brokers) await broker.close()
})

async function fake (options: Parameters<typeof startFakeBroker>[0] = {}): Promise<FakeBroker> {
  const broker = await startFakeBroker(options)
  brokers.push(broker)
  return broker
}

/** A fresh reader over the same request body, for handlers that peek at it first. */
function reread (request: FakeRequest): FakeRequest['body'] {
  return new Reader(request.body.buffer, request.body.offset, request.body.end)
}

function isConnectionError (pattern: RegExp) {
  return (error: unknown): boolean => error instanceof KafkaConnectionError &&
    pattern.test(error.message)
}

describe('KafkaConnection', () => {
  it('negotiates with its newest ApiVersions and picks the highest common version', async () => {
    const broker = await fake()
    const connection = await KafkaConnection.connect('127.0.0.1', broker.port)
    try {
      assert.deepEqual(broker.seen[0],
        { apiKey: ApiVersions.key, apiVersion: ApiVersions.maxVersion, correlationId: 0 })
      assert.equal(connection.versionFor(Echo), 1)
      assert.equal(connection.versionFor(ApiVersions), ApiVersions.maxVersion)
      assert.equal(connection.supports(Metadata), false)
      assert.throws(() => connection.versionFor(Metadata),
        (error: KafkaClientError) => error.errorName === 'UNSUPPORTED_VERSION')
      assert.deepEqual(await connection.send(Echo, { payload: 'flexible' }),
        { payload: 'flexible' })
      assert.deepEqual(await connection.send(Echo, { payload: 'classic' }, { version: 0 }),
        { payload: 'classic' })
      assert.deepEqual(broker.seen.slice(1).map(request => request.apiVersion), [1, 0])
    } finally {
      connection.close()
    }
  })

  it('retries ApiVersions with the version a v0-layout UNSUPPORTED_VERSION answer lists',
    async () => {
      const broker = await fake({ apiVersionsMax: 2 })
      const connection = await KafkaConnection.connect('127.0.0.1', broker.port)
      connection.close()
      assert.deepEqual(broker.seen.map(request => request.apiVersion),
        [ApiVersions.maxVersion, 2])
      assert.equal(connection.closed, true)
    })

  it('falls back to ApiVersions v0 when the error lists no range, and then works', async () => {
    const broker = await fake({ apiVersionsMax: 0, listRangeInError: false })
    const connection = await KafkaConnection.connect('127.0.0.1', broker.port)
    try {
      assert.deepEqual(broker.seen.map(request => request.apiVersion),
        [ApiVersions.maxVersion, 0])
      assert.equal(connection.versionFor(ApiVersions), 0)
      assert.equal(connection.versionFor(Echo), 1)
      assert.equal((await connection.send(Echo, { payload: 'after fallback' })).payload,
        'after fallback')
    } finally {
      connection.close()
    }
  })

  it('reassembles responses split into single bytes and splits coalesced ones', async () => {
    const held: FakeRequest[] = []
    const broker = await fake({
      handle: request => {
        held.push(request)
        if (held.length < 3) return
        const frames = held.map(echoResponse)
        const bytes = Buffer.concat(frames)
        // Two whole frames in one write, then the third one byte at a time.
        const third = (frames[2] as Buffer).length
        request.socket.write(bytes.subarray(0, bytes.length - third))
        for (let i = bytes.length - third; i < bytes.length; i++) {
          request.socket.write(bytes.subarray(i, i + 1))
        }
      },
    })
    const connection = await KafkaConnection.connect('127.0.0.1', broker.port)
    try {
      const answers = await Promise.all(['a', 'bb', 'c'.repeat(5000)].map(payload =>
        connection.send(Echo, { payload })))
      assert.deepEqual(answers.map(answer => answer.payload.length), [1, 2, 5000])
    } finally {
      connection.close()
    }
  })

  it('pipelines 1000 requests on one connection and matches each answer', async () => {
    const held: FakeRequest[] = []
    const broker = await fake({
      handle: request => {
        // Answer nothing until all 1000 are in: a client that waited for each answer would
        // deadlock here and time out.
        held.push(request)
        if (held.length === 1000) {
          request.socket.write(Buffer.concat(held.map(echoResponse)))
        }
      },
    })
    const connection = await KafkaConnection.connect('127.0.0.1', broker.port,
      { inflightMax: 1000, requestTimeoutMs: 5000 })
    try {
      const answers = await Promise.all(Array.from({ length: 1000 }, (_, i) =>
        connection.send(Echo, { payload: `request ${i}` })))
      answers.forEach((answer, i) => assert.equal(answer.payload, `request ${i}`))
      const ids = broker.seen.slice(1).map(request => request.correlationId)
      assert.deepEqual(ids, Array.from({ length: 1000 }, (_, i) => i + 1))
    } finally {
      connection.close()
    }
  })

  it('keeps at most inflightMax requests in flight and queues the rest in order', async () => {
    const held: FakeRequest[] = []
    const broker = await fake({ handle: request => held.push(request) })
    const connection = await KafkaConnection.connect('127.0.0.1', broker.port,
      { inflightMax: 2, waitingMax: 3 })
    try {
      const sends = Array.from({ length: 5 }, (_, i) => connection.send(Echo, { payload: `${i}` }))
      await assert.rejects(connection.send(Echo, { payload: 'sixth' }),
        isConnectionError(/2 requests in flight and 3 waiting/))
      await new Promise(resolve => setTimeout(resolve, 50))
      assert.equal(held.length, 2, 'only two requests reach the broker')
      assert.equal(connection.inflightCount, 2)
      for (let answered = 0; answered < 5; answered++) {
        while ((held.length as number) === 0) await new Promise(resolve => setTimeout(resolve, 5))
        assert.ok(connection.inflightCount <= 2)
        const next = held.shift() as FakeRequest
        next.socket.write(echoResponse(next))
      }
      const answers = await Promise.all(sends)
      assert.deepEqual(answers.map(answer => answer.payload), ['0', '1', '2', '3', '4'])
      assert.equal(connection.closed, false)
    } finally {
      connection.close()
    }
  })

  it('times out a wait for a slot without closing the connection', async () => {
    const held: FakeRequest[] = []
    const broker = await fake({ handle: request => held.push(request) })
    const connection = await KafkaConnection.connect('127.0.0.1', broker.port,
      { inflightMax: 1 })
    try {
      const first = connection.send(Echo, { payload: 'slow' }, { timeoutMs: 2000 })
      await assert.rejects(connection.send(Echo, { payload: 'waits' }, { timeoutMs: 50 }),
        isConnectionError(/waited 50 ms for one of 1 in-flight slots/))
      assert.equal(connection.closed, false)
      const request = held[0] as FakeRequest
      request.socket.write(echoResponse(request))
      assert.equal((await first).payload, 'slow')
    } finally {
      connection.close()
    }
  })

  it('rejects a request that gets no answer in time and closes the connection', async () => {
    const broker = await fake({ handle: () => undefined })
    const connection = await KafkaConnection.connect('127.0.0.1', broker.port)
    const other = connection.send(Echo, { payload: 'patient' }, { timeoutMs: 10_000 })
    const started = Date.now()
    await assert.rejects(connection.send(Echo, { payload: 'hurried' }, { timeoutMs: 100 }),
      isConnectionError(/Echo \(correlation id 2\) got no response within 100 ms/))
    assert.ok(Date.now() - started < 2000)
    await assert.rejects(other, isConnectionError(/got no response within 100 ms/))
    assert.equal(connection.closed, true)
    await assert.rejects(connection.send(Echo, { payload: 'late' }), KafkaConnectionError)
  })

  it('rejects every pending request when the client or the broker closes', async () => {
    const broker = await fake({ handle: () => undefined })
    const mine = await KafkaConnection.connect('127.0.0.1', broker.port)
    const pending = [1, 2, 3].map(i => mine.send(Echo, { payload: `${i}` }))
    mine.close()
    for (const request of pending) {
      await assert.rejects(request, isConnectionError(/closed by the client/))
    }
    const theirs = await KafkaConnection.connect('127.0.0.1', broker.port)
    const waiting = theirs.send(Echo, { payload: 'never' })
    await new Promise(resolve => setTimeout(resolve, 20))
    broker.sockets.at(-1)?.end()
    await assert.rejects(waiting, isConnectionError(/broker closed the connection|closed/))
    assert.equal(theirs.closed, true)
  })

  it('closes the connection on a response with an unexpected correlation id', async () => {
    const broker = await fake({
      handle: request => request.socket.write(responseFrame(request.correlationId + 7, true,
        writer => Echo.encodeResponse(writer, 1, { payload: 'stray' }))),
    })
    const connection = await KafkaConnection.connect('127.0.0.1', broker.port)
    await assert.rejects(connection.send(Echo, { payload: 'x' }),
      isConnectionError(/correlation id 8, expected 1/))
    assert.equal(connection.closed, true)
  })

  it('rejects only the request whose body does not decode', async () => {
    let count = 0
    const broker = await fake({
      handle: request => {
        count++
        if (count === 1) {
          respond(request.socket, request.correlationId, true, writer => writer.uvarint(50))
        } else {
          request.socket.write(echoResponse(request))
        }
      },
    })
    const connection = await KafkaConnection.connect('127.0.0.1', broker.port)
    try {
      const bad = connection.send(Echo, { payload: 'truncated' })
      const good = connection.send(Echo, { payload: 'intact' })
      await assert.rejects(bad, { name: 'ProtocolDecodeError' })
      assert.equal((await good).payload, 'intact')
      assert.equal(connection.closed, false)
    } finally {
      connection.close()
    }
  })

  it('refuses a response frame larger than maxFrameBytes', async () => {
    const broker = await fake({
      handle: request => {
        const size = Buffer.alloc(4)
        size.writeInt32BE(10_000)
        request.socket.write(size)
      },
    })
    const connection = await KafkaConnection.connect('127.0.0.1', broker.port,
      { maxFrameBytes: 1000 })
    await assert.rejects(connection.send(Echo, { payload: 'x' }),
      isConnectionError(/bad response frame: frame of 10000 bytes/))
  })

  it('sends without tracking a response for acks=0 requests', async () => {
    const broker = await fake({
      handle: request => {
        const body = reread(request)
        const message = Echo.decodeRequest(request.body, request.apiVersion)
        // Like a Produce with acks=0, the fire-and-forget request gets no answer.
        if (message.payload === 'fire') return
        request.socket.write(echoResponse({ ...request, body }))
      },
    })
    const connection = await KafkaConnection.connect('127.0.0.1', broker.port)
    try {
      connection.sendNoResponse(Echo, { payload: 'fire' })
      assert.equal(connection.inflightCount, 0)
      assert.equal((await connection.send(Echo, { payload: 'after' })).payload, 'after')
      assert.deepEqual(broker.seen.slice(1).map(request => request.correlationId), [1, 2])
    } finally {
      connection.close()
    }
  })

  it('rejects connecting to a closed port with a KafkaConnectionError', async () => {
    const broker = await fake()
    const port = broker.port
    await broker.close()
    await assert.rejects(KafkaConnection.connect('127.0.0.1', port, { connectTimeoutMs: 2000 }),
      isConnectionError(/cannot connect/))
  })

  it('survives random response bytes (FUZZ_SEED printed) with typed errors only', async () => {
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000)
    console.log(`FUZZ_SEED=${seed}`)
    let state = seed
    const random = (): number => {
      state = (state * 1103515245 + 12345) % 2147483648
      return state / 2147483648
    }
    for (let round = 0; round < 30; round++) {
      const broker = await fake({
        handle: request => {
          const valid = echoResponse(request)
          const mangled = Buffer.from(valid)
          for (let i = 0; i < 3; i++) {
            const at = Math.floor(random() * mangled.length)
            mangled[at] = Math.floor(random() * 256)
          }
          const cut = mangled.subarray(0, 4 + Math.floor(random() * 7))
          request.socket.write(random() < 0.5 ? mangled : cut)
        },
      })
      const connection = await KafkaConnection.connect('127.0.0.1', broker.port,
        { requestTimeoutMs: 200, maxFrameBytes: 1 << 16 })
      const outcome = await connection.send(Echo, { payload: `round ${round}` })
        .then(() => 'resolved', (error: Error) => error.name)
      assert.ok(['resolved', 'KafkaConnectionError', 'ProtocolDecodeError'].includes(outcome),
        `round ${round}: ${outcome}`)
      connection.close()
      await broker.close()
    }
    assert.equal(ECHO_KEY, Echo.key)
  })
})
