/**
 * ReplicaFetcherManager's `mayFetch` gate: a broker that is not registered (a second process
 * with a live broker's node.id, waiting to be refused) opens no connection to a leader, and
 * starts fetching as soon as the gate opens. The connection is the fetcher's own seam
 * (`connect`); a refused connect stands in for the leader, so the count of attempts is all
 * that is observed.
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { systemClock } from '../../src/io/clock.js'
import type { KafkaConnection } from '../../src/client/connection.js'
import { ReplicaFetcherManager } from '../../src/replication/replica-fetcher.js'

const sleep = async (ms: number): Promise<void> => {
  await new Promise(resolve => setTimeout(resolve, ms))
}

it('fetches as a replica only while mayFetch holds', async () => {
  let registered = false
  let connects = 0
  const fetchers = new ReplicaFetcherManager({
    nodeId: 2,
    clock: systemClock,
    config: { waitMaxMs: 100, maxBytes: 1 << 20, responseMaxBytes: 1 << 20, backoffMs: 20 },
    endpointOf: () => ({ host: '127.0.0.1', port: 1 }),
    logOf: () => undefined,
    topicIdOf: () => Buffer.alloc(16),
    logger: { info: () => undefined, warn: () => undefined },
    mayFetch: () => registered,
    connect: async (): Promise<KafkaConnection> => {
      connects++
      throw new Error('the leader is not there')
    },
  })
  try {
    await fetchers.assign('t', 0, 1, 0)
    await sleep(300)
    assert.equal(connects, 0, 'no connection to the leader before registration')
    registered = true
    const deadline = Date.now() + 5_000
    while (connects === 0 && Date.now() < deadline) await sleep(10)
    assert.ok(connects > 0, 'fetching starts once registered')
  } finally {
    await fetchers.close()
  }
})
