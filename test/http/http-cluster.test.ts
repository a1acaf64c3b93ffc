/**
 * The HTTP API on a real three-broker cluster (real etcd): produce and consume on any broker
 * reach the partition's leader, as through a REST proxy. Produce over HTTP to broker 1 for a
 * partition broker 2 leads, read it back over HTTP from broker 3 (offset reads, a long poll
 * woken by a later produce, a server-sent-event stream), REST Proxy v2 produce, the same error
 * answers as on the leader itself, an HTTP consumer starting at the remote latest offset, a
 * prompt shutdown with forwarded reads open, and 503 while the partition has no live leader.
 */
import assert from 'node:assert/strict'
import http from 'node:http'
import { after, before, describe, it } from 'node:test'
import {
  agreedView, eventually, metadataFrom, startCluster, type TestCluster,
} from '../support/cluster-process.js'
import kafkajs from 'kafkajs'
import { etcdAvailable } from '../support/etcd-process.js'
import { httpCaller, type HttpCall } from '../support/http-call.js'
import { sseRecords } from '../support/sse.js'

const skip = etcdAvailable() ? false : 'etcd is not on PATH (Debian package etcd-server)'

describe('HTTP produce and consume on any broker of a cluster', { skip }, () => {
  let cluster: TestCluster
  let on: (nodeId: number) => HttpCall
  let partition: number

  const base = (nodeId: number): string =>
    `http://127.0.0.1:${cluster.brokers.get(nodeId)?.httpPort ?? 0}`

  before(async () => {
    cluster = await startCluster(3)
    on = nodeId => httpCaller(() => base(nodeId))
    await eventually('an agreed view', () => agreedView(cluster, [1, 2, 3]))
    // Replication factor 1: the records live on the leader only, so reading them anywhere
    // else shows the request went there.
    await cluster.clientOf(1).createTopic('routed', { partitions: 3, replicationFactor: 1 })
    partition = await eventually('a partition led by broker 2 known to brokers 1 and 3',
      async () => {
        const views = await Promise.all([1, 3].map(async id =>
          (await metadataFrom(cluster, id, ['routed'])).topics[0]?.partitions
            .find(p => p.leaderId === 2)?.partitionIndex))
        return views[0] !== undefined && views[0] === views[1] ? views[0] : undefined
      })
  })
  after(async () => {
    await cluster?.stop()
  })

  it('produces on broker 1 and consumes on broker 3 a partition led by broker 2', async () => {
    const produced = await on(1)('POST', '/api/v1/produce', { topic: 'routed', partition,
      messages: [{ key: 'k', value: { n: 1 } }, { value: 'two' }] })
    assert.equal(produced.status, 200, JSON.stringify(produced.body))
    assert.deepEqual(produced.body.results.map((r: any) => [r.partition, r.offset]),
      [[partition, 0], [partition, 1]])
    const read = await on(3)('GET',
      `/api/v1/consume?topic=routed&partition=${partition}&offset=0`)
    assert.equal(read.status, 200, JSON.stringify(read.body))
    assert.deepEqual(read.body.records.map((r: any) => [r.offset, r.key, r.value]),
      [[0, 'k', { n: 1 }], [1, null, 'two']])
    assert.equal(read.body.high_watermark, 2)
    assert.equal(read.body.next_offset, 2)
    // The leader itself has the same records: nothing was written on 1 or read from 3's disk.
    const onLeader = await on(2)('GET',
      `/api/v1/consume?topic=routed&partition=${partition}&offset=0`)
    assert.deepEqual(onLeader.body.records, read.body.records)
  })

  it('wakes a long poll on broker 3 when broker 1 produces', async () => {
    const polling = on(3)('GET', `/api/v1/consume?topic=routed&partition=${partition}` +
      '&offset=2&max_wait_ms=20000')
    await new Promise(resolve => setTimeout(resolve, 300))
    const produced = await on(1)('POST', '/api/v1/produce', { topic: 'routed', partition,
      messages: [{ value: 'late' }] })
    assert.equal(produced.status, 200)
    const polled = await polling
    assert.equal(polled.status, 200)
    assert.deepEqual(polled.body.records.map((r: any) => [r.offset, r.value]), [[2, 'late']])
  })

  it('streams a remote partition as server-sent events', async () => {
    const records = await sseRecords(`${base(3)}/api/v1/topics/routed/partitions/` +
      `${partition}/stream?offset=1`, 2)
    const ids = records.map(record => record.id)
    assert.deepEqual(ids, [`${partition}:1`, `${partition}:2`])
  })

  it('produces through REST Proxy v2 on a broker that does not lead', async () => {
    const produced = await on(3)('POST', `/topics/routed/partitions/${partition}`,
      { records: [{ value: { via: 'v2' } }] },
      { 'content-type': 'application/vnd.kafka.json.v2+json' })
    assert.equal(produced.status, 200, JSON.stringify(produced.body))
    assert.deepEqual(produced.body.offsets, [{ partition, offset: 3, error_code: null,
      error: null }])
  })

  it('reads a remote partition at the isolation level asked, without aborted records',
    async () => {
    // Its own topic, so that the offsets are known: kept 0, COMMIT 1, dropped 2, ABORT 3.
    await cluster.clientOf(1).createTopic('routed-txn', { partitions: 1, replicationFactor: 1 })
    const leader = await eventually('routed-txn led and known to every broker', async () => {
      const views = await Promise.all([1, 2, 3].map(async id =>
        (await metadataFrom(cluster, id, ['routed-txn'])).topics[0]?.partitions[0]?.leaderId))
      return views.every(view => view === views[0] && view !== undefined && view > 0)
        ? views[0] : undefined
    })
    const { Kafka, logLevel } = kafkajs
    const producer = new Kafka({ clientId: 'http-cluster-txn', logLevel: logLevel.NOTHING,
      brokers: [...cluster.brokers.values()].map(broker => broker.bootstrap),
      retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 } })
      .producer({ transactionalId: 'http-cluster-txn', idempotent: true,
        maxInFlightRequests: 1 })
    await producer.connect()
    try {
      for (const [value, end] of [['kept', 'commit'], ['dropped', 'abort']] as const) {
        const txn = await producer.transaction()
        await txn.send({ topic: 'routed-txn', messages: [{ value, partition: 0 }] })
        await (end === 'commit' ? txn.commit() : txn.abort())
      }
    } finally {
      await producer.disconnect()
    }
    const elsewhere = [1, 2, 3].find(id => id !== leader) as number
    const read = async (query: string): Promise<string[]> => {
      const answer = await on(elsewhere)('GET',
        `/api/v1/consume?topic=routed-txn&partition=0&offset=0${query}`)
      assert.equal(answer.status, 200, JSON.stringify(answer.body))
      return answer.body.records.map((r: { value: string }) => r.value)
    }
    assert.deepEqual(await read(''), ['kept'], 'read_committed is the HTTP default')
    assert.deepEqual(await read('&isolation_level=read_uncommitted'), ['kept', 'dropped'])
  })

  it('answers a remote error as the leader would', async () => {
    const path = `/api/v1/consume?topic=routed&partition=${partition}&offset=1000`
    const remote = await on(1)('GET', path)
    const local = await on(2)('GET', path)
    assert.equal(remote.status, 416)
    assert.equal(remote.body.error_code, local.body.error_code)
  })

  it('starts an HTTP consumer at the remote leader\'s latest offset', async () => {
    // The instance lives on its group's coordinator; it reads a partition another broker leads.
    const group = 'http-group'
    const coordinator = (await cluster.clientOf(1).findCoordinator(group)).nodeId
    const routed = (await metadataFrom(cluster, coordinator, ['routed'])).topics[0]
    const remote = routed?.partitions.find(p => p.leaderId !== coordinator)?.partitionIndex
    assert.ok(remote !== undefined, `a partition not led by broker ${coordinator}`)
    const produce = async (value: string): Promise<number> => {
      const produced = await on(1)('POST', '/api/v1/produce', { topic: 'routed',
        partition: remote, messages: [{ value }] })
      assert.equal(produced.status, 200, JSON.stringify(produced.body))
      return produced.body.results[0].offset as number
    }
    await produce('before join')
    const created = await on(coordinator)('POST', '/api/v1/consumer-groups', { group_id: group,
      topics: ['routed'], auto_offset_reset: 'latest' })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    const first = await on(coordinator)('GET', `${created.body.base_uri}/records?max_wait_ms=0`)
    assert.equal(first.status, 200, JSON.stringify(first.body))
    assert.deepEqual(first.body.records ?? first.body, [], 'nothing before latest')
    const offset = await produce('after join')
    const next = await on(coordinator)('GET', `${created.body.base_uri}/records?max_wait_ms=5000`)
    const records = next.body.records ?? next.body
    assert.deepEqual(records.map((r: any) => [r.partition, r.offset, r.value]),
      [[remote, offset, 'after join']])
    await on(coordinator)('DELETE', created.body.base_uri)
  })

  it('shuts down within its budget with a forwarded stream and long poll open', async t => {
    const broker3 = cluster.brokers.get(3)
    assert.ok(broker3 !== undefined)
    // Both read from the log end, so they wait on the leader.
    const end = (await on(3)('GET', `/api/v1/consume?topic=routed&partition=${partition}` +
      '&offset=0&limit=1')).body.high_watermark as number
    const opened = await new Promise<http.ClientRequest>((resolve, reject) => {
      const request = http.get(`${base(3)}/api/v1/topics/routed/partitions/${partition}/` +
        `stream?offset=${end}`, () => resolve(request))
      request.on('error', reject)
    })
    opened.on('error', () => undefined)
    const polling = on(3)('GET', `/api/v1/consume?topic=routed&partition=${partition}` +
      `&offset=${end}&max_wait_ms=30000`).catch(() => undefined)
    await new Promise(resolve => setTimeout(resolve, 300))
    const started = Date.now()
    assert.equal(await broker3.stop(), 0)
    t.diagnostic(`stopped after ${Date.now() - started} ms`)
    await polling
    opened.destroy()
  })

  it('answers 503 while the partition has no live leader', async () => {
    await cluster.brokers.get(2)?.kill()
    const answer = await eventually('LEADER_NOT_AVAILABLE once the session expired', async () => {
      const produced = await on(1)('POST', '/api/v1/produce', { topic: 'routed', partition,
        messages: [{ value: 'lost' }] })
      assert.equal(produced.status, 503, JSON.stringify(produced.body))
      return produced.body.error_code === 50303 ? produced : undefined
    }, 30_000)
    assert.match(answer.body.message, /retry shortly/)
  })
})
