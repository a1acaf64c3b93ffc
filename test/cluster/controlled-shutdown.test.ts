/**
 * Controlled shutdown on a real, replicating cluster (three broker processes on a real etcd):
 * SIGTERM to a broker that leads partitions of an RF=3 topic moves their leadership to other
 * in-sync replicas (leader epoch + 1) and takes it out of the ISRs while it still runs, so the
 * other brokers' metadata shows the new leaders; the broker still exits 0 within the
 * clean-shutdown budget. A producer with retries (acks=all) writing to one of its partitions
 * meanwhile sees no error, and every acknowledged record is on the new leader. Times (the
 * longest produce across the handoff: the failover after a controlled shutdown) are
 * diagnostics, never asserted.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { KafkaConnectionError } from '../../src/client/errors.js'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import { decodeRecordBatch, splitBatches } from '../../src/records/batch.js'
import {
  createTopicOn, eventually, metadataFrom, startCluster, type TestCluster,
} from '../support/cluster-process.js'
import { etcdAvailable } from '../support/etcd-process.js'

const skip = etcdAvailable() ? false : 'etcd is not on PATH (Debian package etcd-server)'

interface Led { partition: number, leader: number, epoch: number, isr: number[] }

async function partitionsOn (cluster: TestCluster, nodeId: number, topic: string):
Promise<Led[]> {
  const metadata = await metadataFrom(cluster, nodeId, [topic])
  return (metadata.topics[0]?.partitions ?? []).map(p => ({ partition: p.partitionIndex,
    leader: p.leaderId, epoch: p.leaderEpoch, isr: p.isrNodes }))
}

describe('controlled shutdown', { skip }, () => {
  let cluster: TestCluster

  before(async () => {
    // A long session: leadership must move because the broker asked, not because it expired.
    cluster = await startCluster(3, 30_000, { TRIBUTARY_REPLICA_LAG_TIME_MAX_MS: '2000',
      TRIBUTARY_REPLICA_FETCH_BACKOFF_MS: '200' })
  })
  after(async () => {
    await cluster?.stop()
  })

  it('SIGTERM moves leadership off the broker before it stops', async t => {
    assert.equal(await createTopicOn(cluster, 1, 'handoff', 3, 3), 'NONE')
    const before = await eventually('the topic on every broker, all in sync', async () => {
      const views = await Promise.all([1, 2, 3].map(id => partitionsOn(cluster, id, 'handoff')))
      const [first] = views
      return first?.length === 3 && first.every(p => p.leader > 0 && p.isr.length === 3) &&
        views.every(view => JSON.stringify(view) === JSON.stringify(first))
        ? first
        : undefined
    })
    const stopping = (before[0] as Led).leader
    const led = before.filter(p => p.leader === stopping)
    assert.ok(led.length > 0)
    const broker = cluster.brokers.get(stopping)
    assert.ok(broker !== undefined)
    // A producer on partition 0 (led by the broker that stops), bootstrapped elsewhere.
    const client = cluster.clientOf([1, 2, 3].find(id => id !== stopping) as number)
    const acknowledged: string[] = []
    const failures: string[] = []
    let longestMs = 0
    let producing = true
    // The stopping broker drains its connections: a request the client sends after the drain
    // began is never read, and the connection ends under it. A retrying producer (Kafka's
    // retries on a disconnect) sends it again, once; this one does too and counts it.
    const resent: string[] = []
    const producer = (async () => {
      for (let i = 0; producing; i++) {
        const value = `h${i}`
        const sentMs = performance.now()
        for (let attempt = 0; ; attempt++) {
          try {
            await client.produce('handoff', 0, buildRecordBatchSync(
              [{ value: Buffer.from(value) }], { timestampMs: Date.now() }),
            { acks: -1, timeoutMs: 10_000 })
            acknowledged.push(value)
            longestMs = Math.max(longestMs, performance.now() - sentMs)
          } catch (error) {
            if (error instanceof KafkaConnectionError && attempt === 0) {
              resent.push(`${value}: ${error.message}`)
              continue
            }
            failures.push(`${value}: ${(error as Error).message}`)
          }
          break
        }
      }
    })()
    await eventually('a few records acknowledged', async () =>
      acknowledged.length >= 5 ? true : undefined)
    longestMs = 0
    const startedMs = performance.now()
    assert.equal(await broker.stop('SIGTERM'), 0, broker.output())
    const stoppedMs = performance.now() - startedMs
    const countAtStop = acknowledged.length
    await eventually('records acknowledged by the new leader', async () =>
      acknowledged.length >= countAtStop + 5 ? true : undefined)
    producing = false
    await producer
    assert.deepEqual(failures, [], 'a producer with retries sees no error')
    assert.ok(resent.length <= 1,
      `one request at most is caught by the drain: ${resent.join('; ')}`)
    assert.match(broker.output(), /controlled shutdown moved leadership away/)
    const others = [1, 2, 3].filter(id => id !== stopping)
    for (const id of others) {
      // The new leaders and the ISRs without the stopped broker can reach a broker's metadata
      // in separate updates (a follower's ISR removal need not ride with a leader change).
      const after = await eventually(`broker ${id} sees the handoff`, async () => {
        const view = await partitionsOn(cluster, id, 'handoff')
        return view.every(p => p.leader !== stopping && p.leader > 0 &&
          !p.isr.includes(stopping)) ? view : undefined
      })
      for (const p of after) {
        assert.ok(!p.isr.includes(stopping), `${stopping} left the ISR of partition ` +
          `${p.partition}: ${p.isr}`)
        const old = before.find(b => b.partition === p.partition) as Led
        if (old.leader === stopping) {
          assert.ok(p.epoch > old.epoch, `partition ${p.partition}: epoch ${old.epoch} → ` +
            `${p.epoch}`)
          assert.ok(old.isr.includes(p.leader), 'the new leader was in sync')
        }
      }
    }
    const newLeader = (await partitionsOn(cluster, others[0] as number, 'handoff'))
      .find(p => p.partition === 0)?.leader as number
    const fetched = await cluster.clientOf(newLeader).fetch('handoff', 0, 0,
      { maxBytes: 8 * 1024 * 1024 })
    const records = fetched.records ?? Buffer.alloc(0)
    const stored = new Set<string>()
    for (const { position, size } of splitBatches(records)) {
      const batch = await decodeRecordBatch(records.subarray(position, position + size))
      for (const record of batch.records) stored.add(record.value?.toString() ?? '')
    }
    assert.deepEqual(acknowledged.filter(value => !stored.has(value)), [],
      'every acknowledged record is on the new leader')
    t.diagnostic(`broker ${stopping} led ${led.length} partition(s); SIGTERM to exit ` +
      `${stoppedMs.toFixed(0)} ms; ${acknowledged.length} acks=all produces, the longest ` +
      `across the handoff ${longestMs.toFixed(0)} ms`)
  })
})
