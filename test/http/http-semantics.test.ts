/**
 * What the HTTP API means, against a real broker: timestamps (ms, seconds, ISO-8601) and their
 * echo, JSON values that round-trip through consume, SSE and group reads, REST Proxy v2's
 * formats, absolute base_uri, auto-commit of what the previous read returned, auto-creation
 * of a produced-to topic, validation messages, and an OpenAPI description with a schema and a
 * tag for every route.
 */
import assert from 'node:assert/strict'
import http from 'node:http'
import { after, before, describe, it } from 'node:test'
import { KafkaClient } from '../../src/client/client.js'
import { readPartition } from '../../src/client/consumer.js'
import { removeDataDir, startBroker, type BrokerProcess } from '../support/broker-process.js'
import { httpCaller } from '../support/http-call.js'
import { sseRecords } from '../support/sse.js'

let broker: BrokerProcess
let base: string
const call = httpCaller(() => base)

/** The `data:` of the first `count` record events of an SSE stream. */
async function streamRecords (path: string, count: number): Promise<any[]> {
  return (await sseRecords(base + path, count)).map(record => record.data)
}

describe('HTTP API semantics', () => {
  before(async () => {
    broker = await startBroker({ env: { TRIBUTARY_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      TRIBUTARY_OFFSETS_TOPIC_NUM_PARTITIONS: '3', TRIBUTARY_NUM_PARTITIONS: '2' } })
    base = `http://127.0.0.1:${broker.httpPort}`
  })
  after(async () => {
    await broker.stop()
    await removeDataDir(broker.dataDir)
  })

  it('stores a timestamp given in ms, in seconds or as ISO-8601, and echoes it', async () => {
    const produced = await call('POST', '/api/v1/produce', { topic: 'times', partition: 0,
      messages: [
        { value: 'seconds', timestamp: 1640995200 },
        { value: 'fractional seconds', timestamp: 1640995200.25 },
        { value: 'milliseconds', timestamp: 1640995200000 },
        { value: 'iso', timestamp: '2022-01-01T01:00:00+01:00' },
        { value: 'none' }] })
    assert.equal(produced.status, 200, JSON.stringify(produced.body))
    const stamps = produced.body.results.map((r: { timestamp: number }) => r.timestamp)
    assert.deepEqual(stamps.slice(0, 4), [1640995200000, 1640995200250, 1640995200000,
      1640995200000])
    assert.ok(stamps[4] > 1640995200000, 'no timestamp: the broker\'s clock, echoed')
    const read = await call('GET', '/api/v1/consume?topic=times&partition=0&offset=0')
    assert.deepEqual(read.body.records.map((r: { timestamp: number }) => r.timestamp), stamps)
    const bad = await call('POST', '/api/v1/produce', { topic: 'times',
      messages: [{ value: 'x', timestamp: 'yesterday' }] })
    assert.equal(bad.status, 422)
    assert.equal(bad.body.validation_errors[0].field, 'body.messages[0].timestamp')
    assert.match(bad.body.message, /ISO-8601/)
  })

  it('gives back a produced JSON value as that JSON value, wherever it is read', async () => {
    const binary = Buffer.from([0xff, 0x00, 0xfe])
    const values: unknown[] = [{ a: 1 }, [1, 'two'], 42, true, 'just a string', '{"a":1}',
      { base64: binary.toString('base64') }]
    const produced = await call('POST', '/api/v1/produce', { topic: 'json', partition: 0,
      messages: values.map((value, i) => ({ key: i === 0 ? { id: 7 } : `k${i}`, value })) })
    assert.equal(produced.status, 200, JSON.stringify(produced.body))
    const read = await call('GET', '/api/v1/consume?topic=json&partition=0&offset=0')
    assert.deepEqual(read.body.records.map((r: { value: unknown }) => r.value), values,
      'objects, arrays, numbers and booleans come back as JSON; strings (even JSON text) as ' +
      'strings; bytes as base64')
    assert.deepEqual(read.body.records[0].key, { id: 7 })
    assert.equal(read.body.records[0].headers['content-type'], 'application/json')
    assert.equal(read.body.records[4].headers['content-type'], undefined)
    const streamed = await streamRecords('/api/v1/topics/json/partitions/0/stream?offset=0',
      values.length)
    assert.deepEqual(streamed.map(r => r.value), values)
    const group = await call('POST', '/api/v1/consumer-groups', { group_id: 'json-readers',
      topics: ['json'], auto_offset_reset: 'earliest' })
    const polled = await call('GET', `${group.body.base_uri}/records?max_wait_ms=2000`)
    assert.deepEqual(polled.body.records.filter((r: { partition: number }) => r.partition === 0)
      .map((r: { value: unknown }) => r.value), values)
    await call('DELETE', group.body.base_uri)
    // A Kafka client sees the JSON text and the header that says what it is.
    const client = new KafkaClient({ bootstrap: broker.bootstrap })
    try {
      for await (const record of readPartition(client, 'json', 0, 0, { untilOffset: 1 })) {
        assert.equal(record.value?.toString(), '{"a":1}')
        assert.deepEqual(record.headers.map(h => [h.key, h.value?.toString()]),
          [['key-content-type', 'application/json'], ['content-type', 'application/json']])
      }
    } finally {
      await client.close()
    }
  })

  it('follows REST Proxy v2\'s embedded formats, binary bytes exactly', async () => {
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x80])
    await call('POST', '/api/v1/topics', { name: 'v2-formats', partitions: 1 })
    await call('POST', '/topics/v2-formats/partitions/0', { records: [
      { value: bytes.toString('base64') }] },
    { 'content-type': 'application/vnd.kafka.binary.v2+json' })
    await call('POST', '/topics/v2-formats/partitions/0', { records: [{ value: { n: 1 } }] },
      { 'content-type': 'application/vnd.kafka.json.v2+json' })
    const v2 = { 'content-type': 'application/vnd.kafka.v2+json' }
    const created = await call('POST', '/consumers/v2-binary', { name: 'b', format: 'binary',
      'auto.offset.reset': 'earliest' }, v2)
    assert.equal(created.status, 200, JSON.stringify(created.body))
    await call('POST', `${created.body.base_uri}/subscription`, { topics: ['v2-formats'] }, v2)
    const records = await call('GET', `${created.body.base_uri}/records`)
    assert.match(records.headers.get('content-type') ?? '',
      /^application\/vnd\.kafka\.binary\.v2\+json/)
    const values = records.body.map((r: { value: string }) => Buffer.from(r.value, 'base64'))
    assert.deepEqual([...values[0]], [...bytes], 'non-UTF-8 bytes come back unchanged')
    assert.equal(values[1].toString(), '{"n":1}')
    await call('DELETE', created.body.base_uri)
  })

  it('answers an absolute base_uri in both APIs, from the request\'s Host', async () => {
    await call('POST', '/api/v1/topics', { name: 'hosted', partitions: 1 })
    const native = await call('POST', '/api/v1/consumer-groups', { group_id: 'g/with slash',
      topics: ['hosted'] })
    assert.equal(native.body.base_uri, `${base}/api/v1/consumer-groups/g%2Fwith%20slash/` +
      `instances/${native.body.instance_id}`)
    assert.equal((await call('GET', `${native.body.base_uri}/offsets`)).status, 200,
      'the URL works as given')
    await call('DELETE', native.body.base_uri)
    // fetch() may not set Host; a client behind a proxy or a port mapping does.
    const v2 = await new Promise<any>((resolve, reject) => {
      const request = http.request(`${base}/consumers/hosted-v2`, { method: 'POST', headers: {
        host: 'broker.example:8080', 'content-type': 'application/vnd.kafka.v2+json' } },
      response => {
        let text = ''
        response.on('data', chunk => { text += chunk.toString() })
        response.on('end', () => resolve(JSON.parse(text)))
      })
      request.on('error', reject)
      request.end(JSON.stringify({ name: 'c' }))
    })
    assert.equal(v2.base_uri, 'http://broker.example:8080/consumers/hosted-v2/instances/c')
    await call('DELETE', '/consumers/hosted-v2/instances/c')
  })

  it('commits on each read what the previous read returned, unless auto-commit is off',
    async () => {
      await call('POST', '/api/v1/topics', { name: 'commits', partitions: 1 })
      await call('POST', '/api/v1/produce', { topic: 'commits', partition: 0,
        messages: [{ value: 'a' }, { value: 'b' }] })
      const committedOf = async (uri: string): Promise<number> =>
        (await call('GET', `${uri}/offsets`)).body.offsets[0].offset
      const auto = await call('POST', '/api/v1/consumer-groups', { group_id: 'auto',
        topics: ['commits'], auto_offset_reset: 'earliest' })
      assert.equal(auto.body.auto_commit, true)
      assert.equal((await call('GET', `${auto.body.base_uri}/records`)).body.records.length, 2)
      assert.equal(await committedOf(auto.body.base_uri), -1, 'nothing committed before a read')
      await call('GET', `${auto.body.base_uri}/records?max_wait_ms=0`)
      assert.equal(await committedOf(auto.body.base_uri), 2, 'the next read committed a and b')
      await call('POST', '/api/v1/produce', { topic: 'commits', partition: 0,
        messages: [{ value: 'c' }] })
      await call('GET', `${auto.body.base_uri}/records`)
      assert.equal(await committedOf(auto.body.base_uri), 2)
      assert.equal((await call('DELETE', auto.body.base_uri)).status, 204)
      const client = new KafkaClient({ bootstrap: broker.bootstrap })
      try {
        assert.equal((await client.fetchGroupOffsets('auto')).get('commits')?.get(0), 3,
          'DELETE committed what the last read returned')
      } finally {
        await client.close()
      }
      const manual = await call('POST', '/api/v1/consumer-groups', { group_id: 'manual',
        topics: ['commits'], auto_offset_reset: 'earliest', auto_commit: false })
      await call('GET', `${manual.body.base_uri}/records`)
      await call('GET', `${manual.body.base_uri}/records?max_wait_ms=0`)
      assert.equal(await committedOf(manual.body.base_uri), -1)
      await call('DELETE', manual.body.base_uri)
      // REST Proxy v2: auto.commit.enable, default true.
      const v2 = { 'content-type': 'application/vnd.kafka.v2+json' }
      await call('POST', '/consumers/auto-v2', { name: 'c', 'auto.offset.reset': 'earliest' }, v2)
      await call('POST', '/consumers/auto-v2/instances/c/subscription', { topics: ['commits'] },
        v2)
      assert.equal((await call('GET', '/consumers/auto-v2/instances/c/records')).body.length, 3)
      await call('GET', '/consumers/auto-v2/instances/c/records?timeout=0')
      const v2Client = new KafkaClient({ bootstrap: broker.bootstrap })
      try {
        assert.equal((await v2Client.fetchGroupOffsets('auto-v2')).get('commits')?.get(0), 3)
      } finally {
        await v2Client.close()
      }
      await call('DELETE', '/consumers/auto-v2/instances/c')
    })

  it('creates a produced-to topic with the broker defaults, as Kafka clients do', async () => {
    const produced = await call('POST', '/api/v1/produce', { topic: 'born-on-produce',
      messages: [{ value: 'first' }] })
    assert.equal(produced.status, 200, JSON.stringify(produced.body))
    const topics = await call('GET', '/api/v1/topics')
    assert.deepEqual(topics.body.find((t: { name: string }) => t.name === 'born-on-produce'),
      { name: 'born-on-produce', partitions: 2 }, 'num.partitions')
    const v2 = await call('POST', '/topics/born-on-v2', { records: [{ value: 1 }] },
      { 'content-type': 'application/vnd.kafka.json.v2+json' })
    assert.equal(v2.status, 200)
    // A name topic creation refuses is the client's error, naming where the name was.
    await call('POST', '/api/v1/produce', { topic: 'clash.name', messages: [{ value: 1 }] })
    const clash = await call('POST', '/api/v1/produce', { topic: 'clash_name',
      messages: [{ value: 1 }] })
    assert.equal(clash.status, 400, JSON.stringify(clash.body))
    assert.match(clash.body.message, /^body\.topic: .*collides/)
    const v2Clash = await call('POST', '/topics/clash_name', { records: [{ value: 1 }] },
      { 'content-type': 'application/vnd.kafka.json.v2+json' })
    assert.match(v2Clash.body.message, /^params\.topic: /)
  })

  it('says which field is wrong and what is wrong with it', async () => {
    const cases: [string, string, unknown, string][] = [
      ['POST', '/api/v1/produce', { topic: 'times' }, 'body.messages is required'],
      ['GET', '/api/v1/consume?topic=times&offset=0', undefined,
        'querystring.partition is required'],
      ['POST', '/api/v1/produce', { topic: 'times', messages: [] },
        'body.messages must not be empty'],
      ['POST', '/api/v1/produce', { topic: 'times', messages: [{ value: 'x', partition: 'p' }] },
        'body.messages[0].partition must be an integer'],
      ['POST', '/api/v1/produce', { topic: 'times', acks: 2, messages: [{ value: 'x' }] },
        'body.acks must be one of -1, 0, 1'],
      ['POST', '/api/v1/consumer-groups', { group_id: '', topics: ['times'] },
        'body.group_id must not be empty'],
    ]
    for (const [method, path, body, message] of cases) {
      const answer = await call(method, path, body)
      assert.equal(answer.status, 422, `${method} ${path}`)
      assert.equal(answer.body.message, message)
    }
  })

  it('describes every route in /openapi.json with schemas, examples and a tag', async () => {
    const openapi = (await call('GET', '/openapi.json')).body
    const components = openapi.components.schemas
    assert.ok(Object.keys(components).length >= 20)
    const refs = JSON.stringify(openapi).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)
    for (const [, name] of refs) assert.ok(components[name as string], `${name} is defined`)
    const tags = new Set(openapi.tags.map((t: { name: string }) => t.name))
    assert.ok(tags.size >= 3, 'native, REST Proxy v2 and operations each have a tag')
    let routes = 0
    for (const [path, operations] of Object.entries<any>(openapi.paths)) {
      for (const [method, operation] of Object.entries<any>(operations)) {
        routes++
        const where = `${method.toUpperCase()} ${path}`
        assert.equal(operation.tags?.length, 1, `${where} has a tag`)
        assert.ok(tags.has(operation.tags[0]), `${where}'s tag is declared`)
        const ok = Object.entries<any>(operation.responses)
          .filter(([status]) => status.startsWith('2'))
        assert.equal(ok.length, 1, `${where} has one 2xx response`)
        const [status, response] = ok[0] as [string, any]
        assert.notEqual(response.description, 'Default Response', where)
        if (status !== '204' && !/no body/.test(response.description)) {
          const content = Object.values<any>(response.content ?? {})
          assert.ok(content.length > 0 && content[0].schema !== undefined, `${where} 2xx schema`)
        }
        if (method !== 'get' && method !== 'delete' && operation.requestBody !== undefined) {
          const schema = Object.values<any>(operation.requestBody.content)[0].schema
          assert.ok(schema.$ref !== undefined, `${where}: the body is a shared component`)
        }
      }
    }
    assert.ok(routes >= 20, `${routes} routes`)
    assert.ok(components.ProduceRequest.examples !== undefined ||
      components.ProduceRequest.example !== undefined, 'components carry examples')
    assert.match(components.Timestamp.description, /10\^11/)
  })
})
