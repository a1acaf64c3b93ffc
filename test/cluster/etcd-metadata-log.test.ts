/**
 * The metadata log in etcd on a real etcd: appends are fenced by the controller epoch (a
 * deposed controller's write is refused and nothing is written), offsets stay dense, a
 * follower replays what another broker wrote through the same Controller replay, and keeps
 * following after etcd compacts its history.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ClusterKeys, connectEtcd } from '../../src/cluster/etcd-connection.js'
import { EtcdMetadataLog } from '../../src/cluster/etcd-metadata-log.js'
import {
  Controller, ControllerError, type ControllerRole,
} from '../../src/controller/controller.js'
import { MetadataImage } from '../../src/metadata/image.js'
import { etcdAvailable, etcdFixture } from '../support/etcd-process.js'

const skip = etcdAvailable() ? false : 'etcd is not on PATH (Debian package etcd-server)'

/** A role that is active exactly while the test says so (the seat is tested end to end). */
function role (nodeId: number): ControllerRole & { active: boolean } {
  return {
    active: false,
    activeControllerId: nodeId,
    forward: () => Promise.reject(new ControllerError('NOT_CONTROLLER', 'not in this test')),
  }
}

const spec = (name: string) => ({ name, partitions: 1, replicationFactor: 1, configs: {} })

describe('EtcdMetadataLog', { skip }, () => {
  const fixture = etcdFixture()
  const keys = new ClusterKeys('log-test')

  /** Wins the controller key for `nodeId` (as the seat does) and returns the epoch. */
  async function elect (nodeId: number): Promise<string> {
    await fixture.client.delete().key(keys.controller).exec()
    const response = await fixture.client.if(keys.controller, 'Create', '==', 0)
      .then(fixture.client.put(keys.controller).value(JSON.stringify({ nodeId }))).commit()
    assert.ok(response.succeeded)
    return response.header.revision
  }

  async function member (nodeId: number): Promise<{ controller: Controller,
    log: EtcdMetadataLog, role: ReturnType<typeof role> }> {
    const log = new EtcdMetadataLog(connectEtcd([fixture.etcd.endpoint]), keys)
    const seat = role(nodeId)
    const controller = new Controller(new MetadataImage(), log, nodeId, { role: seat })
    await log.start(controller, error => { throw error })
    return { controller, log, role: seat }
  }

  it('fences a deposed controller, keeps offsets dense, and feeds every follower', async () => {
    const one = await member(1)
    const two = await member(2)
    one.log.setEpoch({ epoch: await elect(1) })
    one.role.active = true
    await one.controller.createTopic(spec('first'))
    assert.ok(one.controller.image.topic('first') !== undefined, 'applied before resolving')

    // Broker 2 is elected; broker 1 still believes it leads (same epoch in hand).
    two.log.setEpoch({ epoch: await elect(2) })
    two.role.active = true
    await assert.rejects(one.controller.createTopic(spec('from-deposed')),
      (error: unknown) => error instanceof ControllerError && error.errorName === 'NOT_CONTROLLER')
    await two.log.wake()
    await two.controller.createTopic(spec('second'))

    await one.log.wake()
    for (const { controller, log } of [one, two]) {
      assert.deepEqual([...controller.image.topics()].map(t => t.name), ['first', 'second'])
      assert.equal(log.appliedOffset, 1, 'two batches, offsets 0 and 1')
    }
    const written = await fixture.client.getAll().prefix(keys.log).keys()
    assert.equal(written.length, 2, 'the deposed controller wrote nothing')
    await Promise.all([one.log.close(), two.log.close()])
  })

  it('a follower keeps following after etcd compacts the history', async () => {
    const writer = await member(3)
    writer.log.setEpoch({ epoch: await elect(3) })
    writer.role.active = true
    await writer.controller.createTopic(spec('before-compaction'))
    const follower = await member(4)
    await writer.controller.createTopic(spec('after-compaction'))
    const latest = await fixture.client.get(keys.controller).exec()
    // Compacting past every revision the follower's watch could resume from.
    await fixture.client.kv.compact({ revision: latest.header.revision })
    await writer.controller.createTopic(spec('last'))
    // No explicit wake-up: the watch (or its backstop read) brings the batch.
    const deadline = Date.now() + 10_000
    while (follower.controller.image.topic('last') === undefined && Date.now() < deadline) {
      await new Promise(resolve => setTimeout(resolve, 20))
    }
    assert.ok(follower.controller.image.topic('last') !== undefined)
    assert.equal(follower.log.appliedOffset, writer.log.appliedOffset)
    await Promise.all([writer.log.close(), follower.log.close()])
  })
})
