/** The etcd test helper starts a real etcd that the etcd3 client can use, and cleans up. */
import assert from 'node:assert/strict'
import { access } from 'node:fs/promises'
import { test } from 'node:test'
import { Etcd3 } from 'etcd3'
import { etcdAvailable, startEtcd } from '../support/etcd-process.js'

test('startEtcd serves the v3 API on a free port and stop removes its data', {
  skip: etcdAvailable() ? false : 'etcd is not on PATH (Debian package etcd-server)',
}, async () => {
  const etcd = await startEtcd()
  const client = new Etcd3({ hosts: `http://${etcd.endpoint}` })
  try {
    await client.put('/probe').value('1')
    assert.equal(await client.get('/probe').string(), '1')
    await etcd.restart()
    assert.equal(await client.get('/probe').string(), '1', 'data survives a restart')
  } finally {
    client.close()
    await etcd.stop()
  }
  await assert.rejects(access(etcd.dataDir))
})
