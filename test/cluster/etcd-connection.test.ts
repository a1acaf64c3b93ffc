/**
 * `--etcd` / tributary.etcd.endpoints parsing, and a broker whose etcd cannot be reached or
 * whose endpoint list is malformed: it stops with one line and a non-zero exit.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { offsetKey, parseEtcdEndpoints, prefixEnd } from '../../src/cluster/etcd-connection.js'
import { startBroker } from '../support/broker-process.js'
import { freePort } from '../support/etcd-process.js'

describe('etcd endpoints', () => {
  it('parses HOST:PORT lists and names the property on a bad entry', () => {
    assert.deepEqual(parseEtcdEndpoints('a:2379, 10.0.0.2:2380,http://c:1'),
      ['a:2379', '10.0.0.2:2380', 'http://c:1'])
    for (const bad of ['', 'a', 'a:', 'a:99999', 'a:0', 'a b:1', 'a:1/x']) {
      assert.throws(() => parseEtcdEndpoints(bad), /tributary\.etcd\.endpoints/, bad)
    }
  })

  it('orders keys by offset and ends a prefix range right after the prefix', () => {
    assert.ok(offsetKey(9) < offsetKey(10))
    assert.equal(prefixEnd('/c/log/'), '/c/log0')
  })

  it('a broker that cannot reach etcd exits 1 with one line', async () => {
    const port = await freePort()
    await assert.rejects(startBroker({ args: ['--etcd', `127.0.0.1:${port}`],
      readyTimeoutMs: 30_000 }), (error: Error) => {
      assert.match(error.message, /exited with 1/)
      assert.match(error.message, /tributary: broker failed to start: .*cannot reach etcd at/)
      return true
    })
  })

  it('a malformed --etcd exits 1 with one line naming the property', async () => {
    await assert.rejects(startBroker({ args: ['--etcd', 'nowhere'] }), (error: Error) => {
      assert.match(error.message, /exited with 1/)
      assert.match(error.message, /invalid tributary\.etcd\.endpoints \(--etcd\) entry 'nowhere'/)
      return true
    })
  })
})
