/**
 * Controlled shutdown on a real cluster (three broker processes on a real etcd): SIGTERM to a
 * broker that leads partitions of an RF=3 topic moves their leadership to other in-sync
 * replicas (leader epoch + 1) and takes it out of the ISRs while it still runs, so the other
 * brokers' metadata shows the new leaders; the broker still exits 0 within the clean-shutdown
 * budget. Times are diagnostics, never asserted.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
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
    cluster = await startCluster(3, 30_000)
  })
  after(async () => {
    await cluster?.stop()
  })

  it('SIGTERM moves leadership off the broker before it stops', async t => {
    assert.equal(await createTopicOn(cluster, 1, 'handoff', 3, 3), 'NONE')
    const before = await eventually('the topic on every broker with leaders', async () => {
      const views = await Promise.all([1, 2, 3].map(id => partitionsOn(cluster, id, 'handoff')))
      const [first] = views
      return first?.length === 3 && first.every(p => p.leader > 0) &&
        views.every(view => JSON.stringify(view) === JSON.stringify(first))
        ? first
        : undefined
    })
    const stopping = (before[0] as Led).leader
    const led = before.filter(p => p.leader === stopping)
    assert.ok(led.length > 0)
    const broker = cluster.brokers.get(stopping)
    assert.ok(broker !== undefined)
    const startedMs = performance.now()
    assert.equal(await broker.stop('SIGTERM'), 0, broker.output())
    const stoppedMs = performance.now() - startedMs
    assert.match(broker.output(), /controlled shutdown moved leadership away/)
    const others = [1, 2, 3].filter(id => id !== stopping)
    for (const id of others) {
      const after = await eventually(`broker ${id} sees the handoff`, async () => {
        const view = await partitionsOn(cluster, id, 'handoff')
        return view.every(p => p.leader !== stopping && p.leader > 0) ? view : undefined
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
    t.diagnostic(`broker ${stopping} led ${led.length} partition(s); SIGTERM to exit ` +
      `${stoppedMs.toFixed(0)} ms`)
  })
})
