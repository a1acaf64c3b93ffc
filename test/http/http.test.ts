/**
 * The HTTP API end to end against a real broker: the seed calls verbatim, REST Proxy v2,
 * msgpack, the SSE stream with Last-Event-ID resume, Kafka-client interop both ways, and a
 * table of bad inputs that must each be a 4xx with the error shape.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import http from 'node:http'
import { after, before, describe, it } from 'node:test'
import kafkajs from 'kafkajs'
import { pack, unpack } from 'msgpackr'
import { KafkaClient } from '../../src/client/client.js'
import { readPartition } from '../../src/client/consumer.js'
import { removeDataDir, startBroker, type BrokerProcess } from '../support/broker-process.js'
import { httpCaller } from '../support/http-call.js'

const { Kafka, logLevel } = kafkajs
let broker: BrokerProcess
let base: string

const call = httpCaller(() => base)

describe('HTTP API', () => {
  before(async () => {
    broker = await startBroker({ env: { TRIBUTARY_MESSAGE_MAX_BYTES: '200000',
      TRIBUTARY_GROUP_INITIAL_REBALANCE_DELAY_MS: '0', TRIBUTARY_OFFSETS_TOPIC_NUM_PARTITIONS: '5',
      TRIBUTARY_CONSUMER_INSTANCE_TIMEOUT_MS: '4000' } })
    base = `http://127.0.0.1:${broker.httpPort}`
  })
  after(async () => {
    await broker.stop()
    await removeDataDir(broker.dataDir)
  })

  it('answers the seed calls exactly as written', async () => {
    const refused = await call('POST', '/api/v1/topics', {
      name: 'user-events', partitions: 12, replication_factor: 3, retention_ms: 604800000 })
    assert.equal(refused.status, 400)
    assert.match(refused.body.message, /1 broker/)
    const created = await call('POST', '/api/v1/topics', {
      name: 'user-events', partitions: 12, replication_factor: 1, retention_ms: 604800000 })
    assert.equal(created.status, 201)
    assert.equal(created.body.partitions, 12)
    assert.equal(created.body.configs['retention.ms'], '604800000')
    assert.equal((await call('POST', '/api/v1/topics', { name: 'user-events' })).status, 409)
    const produced = await call('POST', '/api/v1/produce', {
      topic: 'user-events', partition: 0,
      messages: [{ key: 'user:123', value: 'login', timestamp: 1640995200 },
        { key: 'user:123', value: 'logout', timestamp: 1640995300 }] })
    assert.equal(produced.status, 200)
    // Numbers below 10^11 are Unix seconds: the seed's timestamps are 2022, not 1970.
    assert.deepEqual(produced.body, { topic: 'user-events', results: [
      { partition: 0, offset: 0, timestamp: 1640995200000 },
      { partition: 0, offset: 1, timestamp: 1640995300000 }] })
    const consumed = await call('GET',
      '/api/v1/consume?topic=user-events&partition=0&offset=0&limit=10')
    assert.equal(consumed.status, 200)
    assert.deepEqual(consumed.body, { topic: 'user-events', partition: 0, records: [
      { offset: 0, key: 'user:123', value: 'login', timestamp: 1640995200000, headers: {} },
      { offset: 1, key: 'user:123', value: 'logout', timestamp: 1640995300000, headers: {} },
    ], next_offset: 2, high_watermark: 2 })
    const group = await call('POST', '/api/v1/consumer-groups', {
      group_id: 'analytics-service', topics: ['user-events'], auto_offset_reset: 'earliest' })
    assert.equal(group.status, 201)
    assert.equal(group.body.assignment.length, 12, 'a lone member owns all 12 partitions')
    const records = await call('GET', `${group.body.base_uri}/records?max_wait_ms=500`)
    assert.deepEqual(records.body.records.map((r: { value: string }) => r.value),
      ['login', 'logout'])
    const committed = await call('POST', `${group.body.base_uri}/offsets`, {})
    assert.equal(committed.status, 200)
    assert.ok(committed.body.offsets.some((o: { partition: number, offset: number }) =>
      o.partition === 0 && o.offset === 2))
    assert.equal((await call('DELETE', group.body.base_uri)).status, 204)
  })

  it('produces over HTTP what Kafka clients read, and reads what kafkajs produced', async () => {
    await call('POST', '/api/v1/topics', { name: 'interop', partitions: 4 })
    const produced = await call('POST', '/api/v1/produce', { topic: 'interop', messages: [
      { key: 'k1', value: { json: true }, headers: { h: 'v' } },
      { key: { base64: Buffer.from([0, 1, 2]).toString('base64') }, value: 'bin' },
      { value: 'keyless' }] })
    assert.equal(produced.status, 200)
    const client = new KafkaClient({ bootstrap: broker.bootstrap })
    try {
      const first = produced.body.results[0]
      const records = []
      for await (const record of readPartition(client, 'interop', first.partition, first.offset,
        { untilOffset: first.offset + 1 })) records.push(record)
      assert.equal(records[0]?.key?.toString(), 'k1')
      assert.equal(records[0]?.value?.toString(), '{"json":true}')
      assert.equal(records[0]?.headers[0]?.value?.toString(), 'v')
      const second = produced.body.results[1]
      for await (const record of readPartition(client, 'interop', second.partition,
        second.offset, { untilOffset: second.offset + 1 })) {
        assert.deepEqual([...(record.key ?? [])], [0, 1, 2], 'a base64 key is stored as bytes')
        assert.equal(record.value?.toString(), 'bin')
      }
      // Same key, same partition as kafkajs's default partitioner would choose.
      const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING })
      const producer = kafka.producer()
      await producer.connect()
      const [meta] = await producer.send({ topic: 'interop', messages: [
        { key: 'k1', value: 'from kafkajs', headers: { origin: 'kafkajs' } }] })
      await producer.disconnect()
      assert.equal(meta?.partition, first.partition, 'murmur2 agrees with kafkajs')
      const read = await call('GET', `/api/v1/consume?topic=interop&partition=${meta?.partition}` +
        `&offset=${meta?.baseOffset}`)
      assert.deepEqual(read.body.records[0].headers, { origin: 'kafkajs' })
      assert.equal(read.body.records[0].value, 'from kafkajs')
    } finally {
      await client.close()
    }
    if (spawnSync('kcat', ['-V']).status === 0) {
      const kcat = spawnSync('kcat', ['-b', broker.bootstrap, '-C', '-t', 'interop', '-e',
        '-f', '%k|%s\\n'], { encoding: 'utf8', timeout: 20_000 })
      assert.match(kcat.stdout, /^k1\|\{"json":true\}$/m)
      assert.match(kcat.stdout, /^\|keyless$/m)
    }
  })

  it('lets an HTTP consumer instance and a kafkajs member split a group\'s partitions',
    async () => {
      await call('POST', '/api/v1/topics', { name: 'split', partitions: 4 })
      await call('POST', '/api/v1/produce', { topic: 'split', messages: Array.from(
        { length: 40 }, (_, i) => ({ value: String(i), partition: i % 4 })) })
      const created = await call('POST', '/api/v1/consumer-groups', { group_id: 'mixed-http',
        topics: ['split'], auto_offset_reset: 'earliest' })
      assert.equal(created.status, 201)
      const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING })
      const consumer = kafka.consumer({ groupId: 'mixed-http', heartbeatInterval: 300 })
      let assigned: number[] = []
      consumer.on(consumer.events.GROUP_JOIN, event => {
        assigned = event.payload.memberAssignment.split ?? []
      })
      await consumer.connect()
      await consumer.subscribe({ topic: 'split', fromBeginning: true })
      const seen: string[] = []
      await consumer.run({ eachMessage: async ({ message }) => {
        seen.push(message.value?.toString() ?? '')
      } })
      // The HTTP member's polls keep it in the group and let it rejoin during the rebalance.
      const httpSeen: string[] = []
      const deadline = Date.now() + 20_000
      while (Date.now() < deadline && (assigned.length !== 2 || seen.length + httpSeen.length < 40)) {
        const polled = await call('GET', `${created.body.base_uri}/records?max_wait_ms=200`)
        httpSeen.push(...polled.body.records.map((r: { value: string }) => r.value))
      }
      assert.equal((await call('DELETE', created.body.base_uri)).status, 204)
      await consumer.disconnect()
      assert.equal(assigned.length, 2, 'kafkajs got half of the partitions')
      assert.ok(httpSeen.length > 0, 'the HTTP member read its half')
      assert.ok(new Set([...seen, ...httpSeen]).size === 40, 'every record read by one of them')
    })

  it('speaks REST Proxy v2\'s consumer API, committing offsets as sent + 1', async () => {
    await call('POST', '/api/v1/topics', { name: 'v2-consume', partitions: 1 })
    await call('POST', '/api/v1/produce', { topic: 'v2-consume', messages: [
      { key: 'k', value: { n: 1 } }, { key: 'k', value: { n: 2 } }] })
    const v2 = { 'content-type': 'application/vnd.kafka.v2+json' }
    const created = await call('POST', '/consumers/v2-group', { name: 'c1', format: 'json',
      'auto.offset.reset': 'earliest' }, v2)
    assert.equal(created.status, 200)
    assert.equal(created.body.instance_id, 'c1')
    const base = '/consumers/v2-group/instances/c1'
    assert.equal((await call('POST', `${base}/subscription`, { topics: ['v2-consume'] }, v2))
      .status, 204)
    const records = await call('GET', `${base}/records`, undefined,
      { accept: 'application/vnd.kafka.json.v2+json' })
    assert.deepEqual(records.body.map((r: { value: unknown, offset: number }) =>
      [r.offset, r.value]), [[0, { n: 1 }], [1, { n: 2 }]])
    assert.equal((await call('POST', `${base}/offsets`, { offsets: [
      { topic: 'v2-consume', partition: 0, offset: 1 }] }, v2)).status, 200)
    const client = new KafkaClient({ bootstrap: broker.bootstrap })
    try {
      const committed = await client.fetchGroupOffsets('v2-group')
      assert.equal(committed.get('v2-consume')?.get(0), 2, 'stored as sent + 1')
    } finally {
      await client.close()
    }
    assert.equal((await call('DELETE', base)).status, 204)
    assert.equal((await call('GET', `${base}/records`)).status, 404)
  })

  it('expires an HTTP consumer instance after consumer.instance.timeout.ms', async () => {
    const created = await call('POST', '/api/v1/consumer-groups', { group_id: 'idle',
      topics: ['user-events'] })
    assert.equal(created.status, 201)
    await new Promise(resolve => setTimeout(resolve, 7000))
    const gone = await call('GET', `${created.body.base_uri}/records?max_wait_ms=0`)
    assert.equal(gone.status, 404)
  })

  it('speaks REST Proxy v2 for topics and produce', async () => {
    const topics = await call('GET', '/topics')
    assert.ok(topics.body.includes('user-events'))
    const topic = await call('GET', '/topics/user-events')
    assert.equal(topic.body.partitions.length, 12)
    assert.deepEqual(topic.body.partitions[0].replicas, [{ broker: 1, leader: true, in_sync: true }])
    const json = await call('POST', '/topics/user-events', { records: [
      { key: { id: 1 }, value: { event: 'click' } }] },
    { 'content-type': 'application/vnd.kafka.json.v2+json' })
    assert.equal(json.status, 200)
    assert.equal(json.body.key_schema_id, null)
    assert.equal(json.body.offsets[0].error_code, null)
    const binary = await call('POST', '/topics/user-events/partitions/3', { records: [
      { value: Buffer.from('raw bytes').toString('base64') }] },
    { 'content-type': 'application/vnd.kafka.binary.v2+json' })
    assert.deepEqual(binary.body.offsets, [{ partition: 3, offset: 0, error_code: null,
      error: null }])
    const read = await call('GET', '/api/v1/consume?topic=user-events&partition=3&offset=0')
    assert.equal(read.body.records[0].value, 'raw bytes')
  })

  it('accepts and answers msgpack', async () => {
    const response = await fetch(`${base}/api/v1/produce`, {
      method: 'POST',
      headers: { 'content-type': 'application/msgpack', accept: 'application/msgpack' },
      body: pack({ topic: 'user-events', partition: 5, messages: [{ value: 'packed' }] }),
    })
    assert.equal(response.status, 200)
    const body = unpack(Buffer.from(await response.arrayBuffer()))
    assert.deepEqual(body.results.map((r: { partition: number, offset: number }) =>
      [r.partition, r.offset]), [[5, 0]])
  })

  it('streams records as server-sent events and resumes after Last-Event-ID', async () => {
    await call('POST', '/api/v1/topics', { name: 'stream', partitions: 1 })
    await call('POST', '/api/v1/produce', { topic: 'stream', messages: [{ value: 'a' },
      { value: 'b' }] })
    const events = await new Promise<string[]>((resolve, reject) => {
      const ids: string[] = []
      const request = http.get(`${base}/api/v1/topics/stream/partitions/0/stream?offset=0`,
        response => {
          let text = ''
          response.on('data', chunk => {
            text += chunk.toString()
            for (const match of text.matchAll(/^id: (\S+)$/gm)) {
              if (!ids.includes(match[1] as string)) ids.push(match[1] as string)
            }
            if (ids.length === 2) {
              void call('POST', '/api/v1/produce', { topic: 'stream',
                messages: [{ value: 'appended after open' }] })
            }
            if (ids.length >= 3) {
              assert.match(text, /appended after open/)
              request.destroy()
              resolve(ids)
            }
          })
        })
      request.on('error', reject)
    })
    assert.deepEqual(events, ['0:0', '0:1', '0:2'])
    const resumed = await new Promise<string>((resolve, reject) => {
      const request = http.get(`${base}/api/v1/topics/stream/partitions/0/stream`,
        { headers: { 'last-event-id': '0:1' } }, response => {
          response.once('data', chunk => {
            request.destroy()
            resolve(chunk.toString())
          })
        })
      request.on('error', reject)
    })
    assert.match(resumed, /^id: 0:2$/m)
    assert.doesNotMatch(resumed, /^id: 0:1$/m)
  })

  it('does not buffer without bound for a stalled SSE reader', async () => {
    await call('POST', '/api/v1/topics', { name: 'stalled', partitions: 1 })
    const rss = async (): Promise<number> => {
      const { readFile } = await import('node:fs/promises')
      const status = await readFile(`/proc/${broker.child.pid}/status`, 'utf8')
      return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024
    }
    const value = 'v'.repeat(60_000)
    const produceRound = async (): Promise<void> => {
      for (let i = 0; i < 200; i++) {
        const produced = await call('POST', '/api/v1/produce', { topic: 'stalled',
          messages: Array.from({ length: 3 }, () => ({ value })) })
        assert.equal(produced.status, 200)
      }
    }
    // A first round without the stream lets the heap reach its working size, so the second
    // round measures what the stalled stream adds.
    await produceRound()
    const before = await rss()
    const request = http.get(`${base}/api/v1/topics/stalled/partitions/0/stream?offset=0`,
      response => response.pause())
    request.on('error', () => undefined)
    await produceRound()
    await produceRound()
    await new Promise(resolve => setTimeout(resolve, 500))
    const grown = (await rss()) - before
    request.destroy()
    // 144 MB wait for the reader; a stream that buffered them would grow by more than that.
    console.log(`stalled SSE reader: broker RSS grew by ${(grown / 2 ** 20).toFixed(1)} MiB`)
    // RSS is noisy (GC timing: once 38 MiB with the stream paused), so the bound is half the
    // backlog: buffering it would pass it, noise does not.
    assert.ok(grown < 72 * 1024 * 1024, `broker RSS grew by ${grown} bytes`)
  })

  it('answers bad input with a 4xx and the error shape, and keeps serving', async () => {
    const cases: [string, string, unknown, number, RegExp, Record<string, string>?][] = [
      ['POST', '/api/v1/produce', { topic: 'user-events', messages: 'no' }, 422, /messages/],
      ['POST', '/api/v1/produce', { messages: [{ value: 'x' }] }, 422, /topic/],
      ['GET', '/api/v1/consume?topic=ghost&partition=0&offset=0', undefined, 404, /ghost/],
      ['POST', '/api/v1/produce', { topic: 'user-events', partition: 99,
        messages: [{ value: 'x' }] }, 404, /partition 99/],
      ['POST', '/api/v1/produce', { topic: 'user-events', messages: [
        { value: { base64: '***' } }] }, 422, /messages\[0\]\.value is not valid base64/],
      ['GET', '/api/v1/consume?topic=user-events&partition=0&offset=-1', undefined, 422,
        /offset/],
      ['GET', '/api/v1/consume?topic=user-events&partition=77&offset=0', undefined, 404,
        /partition 77/],
      ['GET', '/api/v1/consume?topic=user-events&partition=0&offset=999', undefined, 416,
        /offset/],
      ['POST', '/api/v1/topics', { name: 'bad name!' }, 422, /body\.name must be a topic name/],
      ['POST', '/api/v1/topics', { name: 'x', partitions: 'many' }, 422, /partitions/],
      ['POST', '/api/v1/topics', { name: 'y', configs: { 'retention.ms': 'soon' } }, 422,
        /retention\.ms/],
      ['POST', '/api/v1/produce', '{"topic": ', 400, /body/],
      ['POST', '/api/v1/produce', 'plain', 415, /Content-Type/, { 'content-type': 'text/plain' }],
      ['POST', '/topics/user-events', { records: [{ value: 1 }] }, 415, /Content-Type/],
      ['GET', '/topics/ghost', undefined, 404, /ghost/],
    ]
    for (const [method, path, body, status, pattern, headers] of cases) {
      const response = await call(method, path, body, headers)
      assert.equal(response.status, status, `${method} ${path} ${JSON.stringify(body)}: ` +
        JSON.stringify(response.body))
      assert.equal(typeof response.body.error_code, 'number')
      assert.equal(Math.floor(response.body.error_code / 100), status)
      assert.match(response.body.message, pattern)
    }
    const validation = await call('POST', '/api/v1/produce', { topic: {}, messages: [{}] })
    assert.ok(validation.body.validation_errors.length >= 2)
    const huge = await call('POST', '/api/v1/produce', { topic: 'user-events',
      messages: [{ value: 'x'.repeat(17 * 1024 * 1024) }] })
    assert.equal(huge.status, 413)
    const tooBig = await call('POST', '/api/v1/produce', { topic: 'user-events',
      messages: [{ value: 'x'.repeat(300_000) }] })
    assert.equal(tooBig.status, 413)
    assert.equal((await call('GET', '/healthz')).status, 200)
  })

  it('serves metrics and the OpenAPI description', async () => {
    const metrics = await (await fetch(`${base}/metrics`)).text()
    assert.match(metrics, /tributary_topic_messages_in_total\{topic="user-events"\}/)
    assert.match(metrics, /tributary_request_duration_seconds_bucket\{api="Produce",le="[^"]+"\}/)
    assert.match(metrics, /tributary_http_request_duration_seconds_count/)
    assert.match(metrics, /tributary_partition_log_end_offset\{topic="user-events",partition="0"\} \d+/)
    const openapi = await call('GET', '/openapi.json')
    assert.ok(openapi.body.paths['/api/v1/produce'])
    assert.equal((await fetch(`${base}/docs/`)).status, 200)
  })
})
