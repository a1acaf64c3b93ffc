/**
 * Network hardening against real broker processes (issue 11): a request whose response cannot
 * be encoded does not kill the broker; the connection limits are wired from the configuration
 * (max.connections.per.ip, connections.max.idle.ms, tributary.request.frame.timeout.ms); and
 * the resource test: 500 connections each announcing a 100 MiB frame and stalling, plus a client
 * that pipelines fetches of 1 GiB in all without reading its socket, leave the broker's RSS
 * under a stated bound while another client is served.
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import net from 'node:net'
import { after, before, describe, it } from 'node:test'
import { KafkaClient } from '../../src/client/client.js'
import { envName } from '../../src/config/load.js'
import { Fetch } from '../../src/protocol/apis/fetch.js'
import { Writer } from '../../src/protocol/writer.js'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import { removeDataDir, startBroker, type BrokerProcess } from '../support/broker-process.js'

const MiB = 1024 * 1024

function frame (apiKey: number, version: number, correlationId: number, body: Buffer): Buffer {
  const header = Buffer.alloc(14)
  header.writeInt32BE(10 + body.length, 0)
  header.writeInt16BE(apiKey, 4)
  header.writeInt16BE(version, 6)
  header.writeInt32BE(correlationId, 8)
  header.writeInt16BE(-1, 12) // null client id
  return Buffer.concat([header, body])
}

function connect (port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port })
    socket.once('connect', () => resolve(socket))
    socket.once('error', reject)
  })
}

/** Resolves with the first response frame, or null when the broker closes the connection. */
function firstResponseOrClose (socket: net.Socket, timeoutMs: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0)
    const timer = setTimeout(() => reject(new Error('neither an answer nor a close')), timeoutMs)
    socket.on('data', chunk => {
      received = Buffer.concat([received, chunk])
      if (received.length >= 4 && received.length >= 4 + received.readInt32BE(0)) {
        clearTimeout(timer)
        resolve(received.subarray(4, 4 + received.readInt32BE(0)))
      }
    })
    socket.on('error', () => undefined)
    socket.once('close', () => { clearTimeout(timer); resolve(null) })
  })
}

function closed (socket: net.Socket): Promise<void> {
  return new Promise(resolve => {
    if (socket.destroyed) resolve()
    socket.on('error', () => undefined)
    socket.once('close', () => resolve())
  })
}

async function within<T> (timeoutMs: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([promise, new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} not within ${timeoutMs} ms`)), timeoutMs)
    })])
  } finally {
    clearTimeout(timer)
  }
}

/** Waits up to 3 s for the broker's output to match (its log lines arrive asynchronously). */
async function outputMatches (broker: BrokerProcess, pattern: RegExp): Promise<void> {
  for (let i = 0; i < 60 && !pattern.test(broker.output()); i++) {
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  assert.match(broker.output(), pattern)
}

async function rssBytes (pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const match = /VmRSS:\s+(\d+) kB/.exec(status)
  assert.ok(match !== null, 'VmRSS in /proc/<pid>/status')
  return Number(match[1]) * 1024
}

describe('a request whose response cannot be encoded', () => {
  let broker: BrokerProcess
  before(async () => { broker = await startBroker() })
  after(async () => {
    await broker.stop()
    await removeDataDir(broker.dataDir)
  })

  it('leaves the broker alive and serving (Metadata v1 naming 11,000 bytes of 0xFF)', async () => {
    // Each invalid byte decodes to U+FFFD (3 bytes): echoed back, the name is 33,000 bytes,
    // over what an int16-length string can hold, and the old broker died of the encode error.
    const name = Buffer.alloc(11_000, 0xff)
    const body = Buffer.alloc(4 + 2 + name.length)
    body.writeInt32BE(1, 0)
    body.writeInt16BE(name.length, 4)
    name.copy(body, 6)
    const socket = await connect(broker.kafkaPort)
    socket.write(frame(3, 1, 1, body))
    // Answered with an error or closed, depending on where it is caught; never a dead broker.
    await firstResponseOrClose(socket, 5000)
    socket.destroy()
    await new Promise(resolve => setTimeout(resolve, 200))
    assert.equal(broker.child.exitCode, null, broker.output())
    const client = new KafkaClient({ bootstrap: broker.bootstrap })
    try {
      const metadata = await client.metadata()
      assert.ok(metadata.brokers.length === 1)
    } finally {
      await client.close()
    }
  })
})

describe('connection limits from the configuration', () => {
  let broker: BrokerProcess
  before(async () => {
    broker = await startBroker({ env: {
      [envName('max.connections.per.ip')]: '3',
      [envName('connections.max.idle.ms')]: '1500',
      [envName('tributary.request.frame.timeout.ms')]: '500',
    } })
  })
  after(async () => {
    await broker.stop()
    await removeDataDir(broker.dataDir)
  })

  it('refuses a connection past max.connections.per.ip', async () => {
    const sockets = await Promise.all([1, 2, 3].map(() => connect(broker.kafkaPort)))
    const fourth = await connect(broker.kafkaPort)
    await within(3000, 'the refusal', closed(fourth))
    for (const socket of sockets) assert.equal(socket.destroyed, false)
    for (const socket of sockets) socket.destroy()
    await outputMatches(broker, /max\.connections\.per\.ip/)
  })

  it('closes a slow frame at the deadline and an idle connection after connections.max.idle.ms',
    async () => {
    // Let the previous test's closes reach the broker before using its address again.
    await new Promise(resolve => setTimeout(resolve, 300))
    const slow = await connect(broker.kafkaPort)
    const idle = await connect(broker.kafkaPort)
    const startedMs = Date.now()
    slow.write(frame(3, 1, 1, Buffer.alloc(4)).subarray(0, 9))
    await within(3000, 'the frame deadline close', closed(slow))
    assert.equal(idle.destroyed, false, 'an idle connection lives until its own timeout')
    await within(5000, 'the idle close', closed(idle))
    assert.ok(Date.now() - startedMs >= 1000, 'the idle connection lived about 1500 ms')
    await outputMatches(broker, /request frame incomplete after 500 ms/)
  })
})

describe('the resource test', () => {
  const STALLED_CONNECTIONS = 500
  const TOPIC_BYTES = 64 * MiB
  const FETCHES = 16 // 16 x 64 MiB: the non-reading client asks for 1 GiB
  /** The bound this test holds the broker to while clients demand over 50 GB. */
  const RSS_BOUND_BYTES = 400 * MiB
  let broker: BrokerProcess
  const sockets: net.Socket[] = []
  before(async () => { broker = await startBroker({ readyTimeoutMs: 30_000 }) })
  after(async () => {
    for (const socket of sockets) socket.destroy()
    await broker.stop()
    await removeDataDir(broker.dataDir)
  })

  it('keeps RSS bounded under stalled giant frames and a client that does not read', async (t) => {
    const pid = broker.child.pid as number
    const client = new KafkaClient({ bootstrap: broker.bootstrap })
    try {
      await client.createTopic('bulk', { partitions: 1 })
      await client.createTopic('other', { partitions: 1 })
      const value = Buffer.alloc(64 * 1024, 'x')
      const batch = buildRecordBatchSync(Array.from({ length: 15 }, () => ({ value })))
      for (let written = 0; written < TOPIC_BYTES; written += 8 * batch.length) {
        await Promise.all(Array.from({ length: 8 }, () => client.produce('bulk', 0, batch)))
      }
      const baseline = await rssBytes(pid)

      let peak = baseline
      const sampler = setInterval(() => {
        void rssBytes(pid).then(rss => { peak = Math.max(peak, rss) }, () => undefined)
      }, 50)
      try {
        const reader = await connect(broker.kafkaPort)
        sockets.push(reader)
        reader.on('error', () => undefined)
        reader.pause() // never reads a byte of its responses
        for (let i = 0; i < FETCHES; i++) reader.write(fetchFrame(i))
        const fetchesSentMs = Date.now()
        const announce = Buffer.alloc(4)
        announce.writeInt32BE(100 * MiB)
        for (let i = 0; i < STALLED_CONNECTIONS; i += 50) {
          const batchOf = await Promise.all(Array.from({ length: 50 },
            () => connect(broker.kafkaPort)))
          for (const socket of batchOf) {
            socket.on('error', () => undefined)
            socket.write(announce)
            sockets.push(socket)
          }
        }

        // Another client is served meanwhile: it writes and reads back.
        const produced = await client.produce('other', 0,
          buildRecordBatchSync([{ value: 'still served' }]))
        const fetched = await client.fetch('other', 0, produced.baseOffset, { maxWaitMs: 0 })
        assert.ok((fetched.records?.length ?? 0) > 0)
        // The broker before this bound reached 1.1 GiB within a second of the fetches; give it 3.
        await new Promise(resolve => setTimeout(resolve,
          Math.max(500, fetchesSentMs + 3000 - Date.now())))
        peak = Math.max(peak, await rssBytes(pid))
      } finally {
        clearInterval(sampler)
      }
      t.diagnostic(`broker RSS: ${(baseline / MiB).toFixed(0)} MiB after producing ` +
        `${TOPIC_BYTES / MiB} MiB, peak ${(peak / MiB).toFixed(0)} MiB with ` +
        `${STALLED_CONNECTIONS} stalled 100 MiB frames and ${FETCHES} unread fetches ` +
        `(bound ${RSS_BOUND_BYTES / MiB} MiB)`)
      assert.equal(broker.child.exitCode, null)
      assert.ok(peak < RSS_BOUND_BYTES, `peak RSS ${(peak / MiB).toFixed(0)} MiB`)
    } finally {
      await client.close()
    }
    // Shutdown is still clean with every one of those connections open.
    const startedMs = Date.now()
    assert.equal(await broker.stop(), 0, broker.output().slice(-2000))
    assert.ok(Date.now() - startedMs < 5000, 'within the 5 s shutdown contract')
  })
})

/** Fetch v11 of all of partition bulk-0, with max_bytes of 1 GiB. */
function fetchFrame (correlationId: number): Buffer {
  const writer = new Writer()
  Fetch.encodeRequest(writer, 11, {
    replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 1024 * MiB, isolationLevel: 0,
    sessionId: 0, sessionEpoch: -1, forgottenTopicsData: [], rackId: '',
    topics: [{ topic: 'bulk', topicId: Buffer.alloc(16), partitions: [{ partition: 0,
      currentLeaderEpoch: -1, fetchOffset: 0, lastFetchedEpoch: -1, logStartOffset: -1,
      partitionMaxBytes: 1024 * MiB }] }],
  })
  return frame(Fetch.key, 11, correlationId, writer.toBuffer())
}
