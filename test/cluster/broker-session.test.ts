/**
 * A broker session on a real etcd, with one etcd failure injected: a registration attempt
 * whose transaction fails after its lease was granted revokes that lease, rather than leaving
 * it kept alive in the background for the life of the process (every re-registration attempt
 * while etcd is flaky grants one).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Etcd3 } from 'etcd3'
import { BrokerSession } from '../../src/cluster/broker-session.js'
import { ClusterKeys, connectEtcd } from '../../src/cluster/etcd-connection.js'
import { etcdAvailable, startEtcd, type EtcdProcess } from '../support/etcd-process.js'

const skip = etcdAvailable() ? false : 'etcd is not on PATH (Debian package etcd-server)'

/** `client`, except that its next transaction fails as if etcd were unreachable. */
function failingOnce (client: Etcd3): Etcd3 {
  let fail = true
  const failed = { commit: () => Promise.reject(new Error('etcd unreachable (injected)')) }
  const builder = { then: () => ({ else: () => failed }) }
  return new Proxy(client, {
    get (target, property) {
      if (property === 'if' && fail) {
        fail = false
        return () => builder
      }
      const value = Reflect.get(target, property, target) as unknown
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

describe('BrokerSession', { skip }, () => {
  let etcd: EtcdProcess
  let client: Etcd3

  before(async () => {
    etcd = await startEtcd()
    client = connectEtcd([etcd.endpoint])
  })
  after(async () => {
    client?.close()
    await etcd?.stop()
  })

  it('revokes the lease of a registration attempt that failed', async () => {
    const keys = new ClusterKeys('session-test')
    const logger = { info: () => undefined, warn: () => undefined }
    const registration = { brokerId: 1, host: '127.0.0.1', port: 9092, rack: null,
      endpoints: [], incarnationId: 'i1' }
    const session = new BrokerSession(failingOnce(client), keys, registration, 2_000, logger)
    await assert.rejects(session.register(), /injected/)
    const leases = async (): Promise<number> =>
      (await client.leaseClient.leaseLeases()).leases.length
    assert.equal(await leases(), 0, 'no lease left behind')
    await session.register()
    assert.ok(session.alive)
    assert.equal(await leases(), 1)
    await session.close()
    assert.equal(await leases(), 0)
  })
})
