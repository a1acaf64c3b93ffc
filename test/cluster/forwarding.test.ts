/**
 * The controller's side of forwarding on a real etcd, with one etcd failure injected: when the
 * answer to a forwarded request cannot be written (etcd unreachable for a moment) after the
 * operation was committed, the next sweep sends that same answer; it does not run the
 * operation a second time (which would answer a forwarded CreateTopics TOPIC_ALREADY_EXISTS
 * for the topic it just created).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ClusterKeys } from '../../src/cluster/etcd-connection.js'
import type { EtcdMetadataLog } from '../../src/cluster/etcd-metadata-log.js'
import { ForwardingServer } from '../../src/cluster/forwarding.js'
import { Controller, type MetadataLog } from '../../src/controller/controller.js'
import { MetadataImage } from '../../src/metadata/image.js'
import type { MetadataRecord } from '../../src/metadata/records.js'
import { etcdAvailable, etcdFixture, failingNextTransaction } from '../support/etcd-process.js'

const skip = etcdAvailable() ? false : 'etcd is not on PATH (Debian package etcd-server)'

class MemoryLog implements MetadataLog {
  readonly batches: MetadataRecord[][] = []
  async append (records: MetadataRecord[]): Promise<void> {
    this.batches.push(records)
  }
}


describe('ForwardingServer', { skip }, () => {
  const fixture = etcdFixture()
  const keys = new ClusterKeys('forwarding-test')

  it('resends the answer it could not write instead of running the operation again',
    async () => {
      const created = await fixture.client.put(keys.controller)
        .value(JSON.stringify({ nodeId: 1 })).exec()
      const epoch = created.header.revision
      const log = new MemoryLog()
      const controller = new Controller(new MetadataImage(), log, 1)
      const metadataLog = { appliedOffset: 0 } as unknown as EtcdMetadataLog
      const failing = failingNextTransaction(fixture.client)
      const server = new ForwardingServer(failing.client, keys, controller, metadataLog, epoch)
      await fixture.client.put(keys.request(2, 1)).value(JSON.stringify({ kind: 'createTopic',
        spec: { name: 'once', partitions: 1, replicationFactor: 1, configs: {} } })).exec()
      await server.start()
      const deadline = Date.now() + 10_000
      let answer: string | null = null
      while (answer === null && Date.now() < deadline) {
        await new Promise(resolve => setTimeout(resolve, 50))
        if (log.batches.length > 0) await server.sweep()
        answer = await fixture.client.get(keys.response(2, 1)).string()
      }
      await server.stop()
      assert.ok(failing.failed, 'the first answer\'s write failed')
      assert.ok(answer !== null, 'answered after the failed write')
      assert.deepEqual(JSON.parse(answer), { result: {}, offset: 0 })
      assert.equal(log.batches.length, 1, 'the topic was created once')
      assert.equal(await fixture.client.get(keys.request(2, 1)).string(), null,
        'the request is gone')
    })
})
