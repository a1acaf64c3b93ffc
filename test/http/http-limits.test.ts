/**
 * The HTTP API's limits, against a real broker started with small ones: string lengths in
 * bodies, params and query strings; the caps on open SSE streams and on consumer instances
 * (pending REST Proxy v2 ones included, which expire too); auto-creation turned off; and a
 * SIGTERM with streams and long polls open still exits 0 after a clean shutdown.
 */
import assert from 'node:assert/strict'
import net from 'node:net'
import { access } from 'node:fs/promises'
import http from 'node:http'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { clampTimeoutMs } from '../../src/util/timeout.js'
import { removeDataDir, startBroker, type BrokerProcess } from '../support/broker-process.js'
import { httpCaller } from '../support/http-call.js'

let broker: BrokerProcess
let base: string
const call = httpCaller(() => base)
const V2 = { 'content-type': 'application/vnd.kafka.v2+json' }
/** The marker a clean shutdown leaves in the data directory (storage/log-manager.ts). */
const CLEAN_SHUTDOWN_MARKER = '.kafka_cleanshutdown'

/** Opens an SSE stream; resolves with its status once the response head arrives. */
function openStream (url: string): Promise<{ status: number, ended: Promise<void>,
  close: () => void }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, response => {
      const ended = new Promise<void>(done => {
        response.on('end', done)
        response.on('close', done)
      })
      response.resume()
      resolve({ status: response.statusCode ?? 0, ended, close: () => request.destroy() })
    })
    request.on('error', reject)
  })
}

describe('HTTP API limits', () => {
  before(async () => {
    broker = await startBroker({ env: { TRIBUTARY_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      TRIBUTARY_OFFSETS_TOPIC_NUM_PARTITIONS: '1', TRIBUTARY_HTTP_SSE_STREAMS_MAX: '2',
      TRIBUTARY_HTTP_CONSUMER_INSTANCES_MAX: '3', TRIBUTARY_CONSUMER_INSTANCE_TIMEOUT_MS: '1000',
      TRIBUTARY_AUTO_CREATE_TOPICS_ENABLE: 'false' } })
    base = `http://127.0.0.1:${broker.httpPort}`
    assert.equal((await call('POST', '/api/v1/topics', { name: 'limits', partitions: 1 }))
      .status, 201)
  })
  after(async () => {
    await broker.kill()
    await removeDataDir(broker.dataDir)
  })

  it('refuses an over-long string anywhere, naming the field', async () => {
    const long = (n: number): string => 'x'.repeat(n)
    const cases: [string, string, unknown, string][] = [
      ['POST', '/api/v1/topics', { name: long(250) }, 'body.name'],
      ['POST', '/api/v1/produce', { topic: long(250), messages: [{ value: 1 }] }, 'body.topic'],
      ['POST', '/api/v1/produce', { topic: 'limits', messages: [
        { value: 1, headers: { [long(256)]: 'v' } }] }, 'body.messages[0].headers'],
      ['GET', `/api/v1/consume?topic=${long(250)}&partition=0&offset=0`, undefined,
        'querystring.topic'],
      ['GET', `/api/v1/topics/${long(250)}/partitions/0/stream`, undefined, 'params.topic'],
      ['POST', '/api/v1/consumer-groups', { group_id: long(256), topics: ['limits'] },
        'body.group_id'],
      ['GET', `/api/v1/consumer-groups/${long(256)}/instances/i/records`, undefined,
        'params.group'],
      ['POST', '/api/v1/topics', { name: 'cfg', configs: { 'retention.ms': long(4097) } },
        'body.configs.retention.ms'],
      ['POST', '/consumers/g', { name: long(256) }, 'body.name'],
      ['POST', `/consumers/${long(256)}`, {}, 'params.group'],
      ['POST', '/consumers/g/instances/i/subscription', { topics: ['a/b'] },
        'body.topics[0]'],
      ['GET', `/topics/${long(250)}`, undefined, 'params.topic'],
    ]
    for (const [method, url, body, field] of cases) {
      const answer = await call(method, url, body, url.startsWith('/consumers') ? V2 : {})
      assert.equal(answer.status, 422, `${method} ${url.slice(0, 60)}: ${answer.status}`)
      assert.equal(answer.body.validation_errors[0].field, field, answer.body.message)
      assert.ok(answer.body.message.length < 300, 'the message does not echo the whole value')
    }
    // Past what any schema allows even percent-encoded: the router refuses it, in the same shape.
    const router = await call('GET', `/consumers/${long(5000)}/instances/i/records`)
    assert.deepEqual(router.body, { error_code: 41401,
      message: 'a path parameter is longer than 4096 characters' })
    const undecodable = await call('GET', '/consumers/%E0%A4%A/instances/i/records')
    assert.equal(undecodable.status, 400)
    assert.equal(undecodable.body.error_code, 40001)
  })

  it('caps open SSE streams with a 429 naming the limit, and frees a closed one', async () => {
    const url = `${base}/api/v1/topics/limits/partitions/0/stream`
    const first = await openStream(url)
    const second = await openStream(url)
    assert.deepEqual([first.status, second.status], [200, 200])
    const refused = await call('GET', '/api/v1/topics/limits/partitions/0/stream')
    assert.equal(refused.status, 429)
    assert.match(refused.body.message, /at most 2 .*http\.sse\.streams\.max/)
    first.close()
    let third
    for (let attempt = 0; attempt < 50; attempt++) {
      third = await openStream(url)
      if (third.status === 200) break
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    assert.equal(third?.status, 200, 'a closed stream gives its place back')
    second.close()
    third?.close()
  })

  it('caps consumer instances, pending v2 ones included, which expire when unused',
    async () => {
      for (const name of ['p1', 'p2', 'p3']) {
        assert.equal((await call('POST', '/consumers/pending', { name }, V2)).status, 200)
      }
      const refused = await call('POST', '/api/v1/consumer-groups', { group_id: 'native',
        topics: ['limits'] })
      assert.equal(refused.status, 429)
      assert.match(refused.body.message, /at most 3 .*http\.consumer\.instances\.max/)
      assert.equal((await call('POST', '/consumers/pending', { name: 'p4' }, V2)).status, 429)
      assert.equal((await call('POST', '/consumers/pending', { name: 'p1' }, V2)).status, 409,
        'a name is taken until the instance goes')
      // consumer.instance.timeout.ms is 1 s: the never-subscribed instances expire.
      let created
      for (let attempt = 0; attempt < 40; attempt++) {
        await new Promise(resolve => setTimeout(resolve, 250))
        created = await call('POST', '/api/v1/consumer-groups', { group_id: 'native',
          topics: ['limits'] })
        if (created.status === 201) break
      }
      assert.equal(created?.status, 201)
      assert.equal((await call('POST', '/consumers/pending/instances/p1/subscription',
        { topics: ['limits'] }, V2)).status, 404, 'the pending instance is gone')
      await call('DELETE', created?.body.base_uri)
    })

  it('says why a produce to a missing topic is refused when auto-creation is off',
    async () => {
      const refused = await call('POST', '/api/v1/produce', { topic: 'nowhere',
        messages: [{ value: 'x' }] })
      assert.equal(refused.status, 404)
      assert.match(refused.body.message, /auto\.create\.topics\.enable is false/)
    })

  it('clamps a timeout to what setTimeout holds', () => {
    assert.equal(clampTimeoutMs(2 ** 40), 2 ** 31 - 1)
    assert.equal(clampTimeoutMs(-5), 0)
    assert.equal(clampTimeoutMs(Number.NaN), 0)
    assert.equal(clampTimeoutMs(Number.POSITIVE_INFINITY), 2 ** 31 - 1)
    assert.equal(clampTimeoutMs(1500), 1500)
  })
})

describe('HTTP connection cap', () => {
  it('closes a connection past http.connections.max at once, and serves again once one ends',
    async () => {
    const capped = await startBroker({ env: { TRIBUTARY_HTTP_CONNECTIONS_MAX: '3' } })
    const held: net.Socket[] = []
    try {
      for (let i = 0; i < 3; i++) {
        held.push(await new Promise<net.Socket>((resolve, reject) => {
          const socket = net.connect(capped.httpPort, '127.0.0.1', () => resolve(socket))
          socket.once('error', reject)
        }))
      }
      // Give the server the time to count the three before the fourth arrives.
      await new Promise(resolve => setTimeout(resolve, 100))
      const refused = await new Promise<string>(resolve => {
        const socket = net.connect(capped.httpPort, '127.0.0.1', () => {
          socket.write('GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n')
        })
        let answer = ''
        socket.on('data', chunk => { answer += String(chunk) })
        socket.on('error', () => undefined)
        socket.on('close', () => resolve(answer))
      })
      assert.equal(refused, '', 'the fourth connection is closed without an answer')
      held.shift()?.destroy()
      let status = 0
      for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
        status = await fetch(`http://127.0.0.1:${capped.httpPort}/healthz`,
          { headers: { connection: 'close' } }).then(response => response.status, () => 0)
        if (status !== 200) await new Promise(resolve => setTimeout(resolve, 50))
      }
      assert.equal(status, 200, 'a freed place serves the next client')
    } finally {
      for (const socket of held) socket.destroy()
      await capped.kill()
      await removeDataDir(capped.dataDir)
    }
  })
})

describe('HTTP shutdown', () => {
  it('ends open SSE streams and long polls on SIGTERM, exiting 0 after a clean shutdown',
    async () => {
      const stopping = await startBroker({ env: {
        TRIBUTARY_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
        TRIBUTARY_OFFSETS_TOPIC_NUM_PARTITIONS: '1' } })
      try {
        const url = `http://127.0.0.1:${stopping.httpPort}`
        const stopCall = httpCaller(() => url)
        await stopCall('POST', '/api/v1/topics', { name: 'open', partitions: 1 })
        const streams = await Promise.all([1, 2].map(() =>
          openStream(`${url}/api/v1/topics/open/partitions/0/stream`)))
        const group = await stopCall('POST', '/api/v1/consumer-groups', { group_id: 'waiting',
          topics: ['open'] })
        const polls = [
          stopCall('GET', '/api/v1/consume?topic=open&partition=0&offset=0&max_wait_ms=30000'),
          stopCall('GET', `${group.body.base_uri}/records?max_wait_ms=30000`),
        ].map(poll => poll.catch(() => undefined))
        await new Promise(resolve => setTimeout(resolve, 300))
        const code = await stopping.stop('SIGTERM')
        assert.equal(code, 0, stopping.output())
        await access(path.join(stopping.dataDir, CLEAN_SHUTDOWN_MARKER))
        await Promise.all(streams.map(stream => stream.ended))
        await Promise.all(polls)
      } finally {
        await stopping.kill()
        await removeDataDir(stopping.dataDir)
      }
    })
})
