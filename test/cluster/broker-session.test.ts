/**
 * A broker session on a real etcd, with one etcd failure injected: a registration attempt
 * whose transaction fails after its lease was granted revokes that lease, rather than leaving
 * it kept alive in the background for the life of the process (every re-registration attempt
 * while etcd is flaky grants one).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { BrokerSession } from '../../src/cluster/broker-session.js'
import { ClusterKeys } from '../../src/cluster/etcd-connection.js'
import { etcdAvailable, etcdFixture, failingNextTransaction } from '../support/etcd-process.js'

const skip = etcdAvailable() ? false : 'etcd is not on PATH (Debian package etcd-server)'


describe('BrokerSession', { skip }, () => {
  const fixture = etcdFixture()

  it('revokes the lease of a registration attempt that failed', async () => {
    const keys = new ClusterKeys('session-test')
    const logger = { info: () => undefined, warn: () => undefined }
    const registration = { brokerId: 1, host: '127.0.0.1', port: 9092, rack: null,
      endpoints: [], incarnationId: 'i1' }
    const failing = failingNextTransaction(fixture.client)
    const session = new BrokerSession(failing.client, keys, registration, 2_000, logger)
    await assert.rejects(session.register(), /injected/)
    const leases = async (): Promise<number> =>
      (await fixture.client.leaseClient.leaseLeases()).leases.length
    assert.equal(await leases(), 0, 'no lease left behind')
    await session.register()
    assert.ok(session.alive)
    assert.equal(await leases(), 1)
    await session.close()
    assert.equal(await leases(), 0)
  })
})
