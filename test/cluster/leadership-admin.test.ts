/**
 * `tributary topic elect-leaders|reassign|reassignments` against a real cluster (three broker
 * processes on a real etcd), through the ElectLeaders / AlterPartitionReassignments /
 * ListPartitionReassignments APIs, answered by any broker and forwarded to the controller:
 * nothing to elect on a fresh topic; a reorder of replicas completes at once and a preferred
 * election then moves the leader to the new first replica on every broker; a shrink completes
 * at once; a reassignment is listed until it completes or is cancelled; refusals exit 1; and
 * kafkajs' admin reassigns and lists through the same APIs.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import kafkajs from 'kafkajs'
import { BIN, REPO_ROOT } from '../support/broker-process.js'
import {
  createTopicOn, eventually, metadataFrom, startCluster, type TestCluster,
} from '../support/cluster-process.js'
import { etcdAvailable } from '../support/etcd-process.js'

const { Kafka, logLevel } = kafkajs
const skip = etcdAvailable() ? false : 'etcd is not on PATH (Debian package etcd-server)'
const run = promisify(execFile)

interface Partition { leader: number, epoch: number, replicas: number[], isr: number[] }

describe('leader elections and reassignments from the CLI', { skip }, () => {
  let cluster: TestCluster

  async function cli (nodeId: number, args: string[]): Promise<{ status: number,
    stdout: string, stderr: string }> {
    const broker = cluster.brokers.get(nodeId)
    assert.ok(broker !== undefined)
    try {
      const { stdout, stderr } = await run(process.execPath,
        [BIN, '--bootstrap', broker.bootstrap, ...args], { cwd: REPO_ROOT, timeout: 30_000 })
      return { status: 0, stdout, stderr }
    } catch (error) {
      const failed = error as { code?: number, stdout?: string, stderr?: string }
      return { status: failed.code ?? -1, stdout: failed.stdout ?? '',
        stderr: failed.stderr ?? '' }
    }
  }

  async function partitionOn (nodeId: number, topic: string, id: number):
  Promise<Partition | undefined> {
    const metadata = await metadataFrom(cluster, nodeId, [topic])
    const p = metadata.topics[0]?.partitions.find(q => q.partitionIndex === id)
    return p === undefined
      ? undefined
      : { leader: p.leaderId, epoch: p.leaderEpoch, replicas: p.replicaNodes, isr: p.isrNodes }
  }

  /** Waits until every broker shows partition `id` as `check` wants it. */
  async function everywhere (what: string, topic: string, id: number,
    check: (p: Partition) => boolean): Promise<Partition> {
    return eventually(what, async () => {
      const views = await Promise.all([1, 2, 3].map(node => partitionOn(node, topic, id)))
      return views.every(view => view !== undefined && check(view)) ? views[0] : undefined
    })
  }

  before(async () => {
    cluster = await startCluster(3, 30_000)
  })
  after(async () => {
    await cluster?.stop()
  })

  it('elects nothing on a fresh topic; refuses what it cannot do', async () => {
    assert.equal(await createTopicOn(cluster, 2, 'lead', 3, 2), 'NONE')
    await everywhere('the topic everywhere', 'lead', 2, p => p.leader > 0)
    const all = await cli(1, ['topic', 'elect-leaders'])
    assert.equal(all.status, 0, all.stderr)
    assert.match(all.stdout, /No partition needed it/)
    const unclean = await cli(3, ['topic', 'elect-leaders', '--topic', 'lead', '--partition',
      '0', '--type', 'unclean'])
    assert.equal(unclean.status, 0, unclean.stderr)
    assert.match(unclean.stdout, /lead-0: ELECTION_NOT_NEEDED/)
    const missing = await cli(1, ['topic', 'elect-leaders', '--topic', 'nope'])
    assert.equal(missing.status, 1)
    const unknownBroker = await cli(2, ['topic', 'reassign', 'lead', '--partition', '0',
      '--replicas', '1,9'])
    assert.equal(unknownBroker.status, 1)
    assert.match(unknownBroker.stdout, /INVALID_REPLICA_ASSIGNMENT.*9/)
    const cancelNone = await cli(2, ['topic', 'reassign', 'lead', '--partition', '0',
      '--cancel'])
    assert.equal(cancelNone.status, 1)
    assert.match(cancelNone.stdout, /NO_REASSIGNMENT_IN_PROGRESS/)
  })

  it('reorders replicas, then a preferred election moves the leader on every broker',
    async () => {
      const before = await everywhere('partition 0', 'lead', 0, p => p.leader > 0)
      const [first, second] = before.replicas as [number, number]
      const reordered = await cli(1, ['topic', 'reassign', 'lead', '--partition', '0',
        '--replicas', `${second},${first}`])
      assert.equal(reordered.status, 0, reordered.stderr + reordered.stdout)
      await everywhere('the new replica order', 'lead', 0,
        p => p.replicas.join() === `${second},${first}` && p.leader === first)
      const elected = await cli(3, ['topic', 'elect-leaders', '--topic', 'lead', '--partition',
        '0'])
      assert.equal(elected.status, 0, elected.stderr + elected.stdout)
      assert.match(elected.stdout, /lead-0: preferred leader elected/)
      const after = await everywhere('the preferred leader', 'lead', 0, p => p.leader === second)
      assert.ok(after.epoch > before.epoch, `leader epoch ${before.epoch} → ${after.epoch}`)
    })

  it('shrinks at once; lists a reassignment until it completes or is cancelled', async () => {
    const one = await everywhere('partition 1', 'lead', 1, p => p.leader > 0)
    const keep = one.replicas[1] as number
    const shrunk = await cli(2, ['topic', 'reassign', 'lead', '--partition', '1', '--replicas',
      String(keep)])
    assert.equal(shrunk.status, 0, shrunk.stderr + shrunk.stdout)
    await everywhere('the shrunk partition', 'lead', 1,
      p => p.replicas.join() === String(keep) && p.leader === keep)
    const two = await everywhere('partition 2', 'lead', 2, p => p.leader > 0)
    const outsider = [1, 2, 3].find(id => !two.replicas.includes(id)) as number
    const target = [two.leader, outsider]
    const started = await cli(3, ['topic', 'reassign', 'lead', '--partition', '2', '--replicas',
      target.join(',')])
    assert.equal(started.status, 0, started.stderr + started.stdout)
    const listed = await cli(1, ['topic', 'reassignments'])
    assert.equal(listed.status, 0, listed.stderr)
    if (listed.stdout.includes('lead-2:')) {
      assert.match(listed.stdout, new RegExp(`lead-2: .*Adding: ${outsider}\\b`))
      // The added replica catches up only where brokers replicate; cancel either way (a
      // reassignment that completed meanwhile answers NO_REASSIGNMENT_IN_PROGRESS).
      const cancelled = await cli(2, ['topic', 'reassign', 'lead', '--partition', '2',
        '--cancel'])
      assert.ok(cancelled.status === 0 ||
        cancelled.stdout.includes('NO_REASSIGNMENT_IN_PROGRESS'), cancelled.stdout)
    }
    await eventually('no reassignment left', async () => {
      const left = await cli(2, ['topic', 'reassignments'])
      return left.stdout.includes('No reassignment in progress.') ? true : undefined
    })
  })

  it('serves kafkajs\' admin alterPartitionReassignments and listPartitionReassignments',
    async () => {
      assert.equal(await createTopicOn(cluster, 1, 'kjs', 1, 2), 'NONE')
      const before = await everywhere('kjs everywhere', 'kjs', 0, p => p.leader > 0)
      const reversed = [...before.replicas].reverse()
      const kafka = new Kafka({ clientId: 'reassign', logLevel: logLevel.NOTHING,
        brokers: [`127.0.0.1:${cluster.brokers.get(3)?.kafkaPort}`],
        retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 1000 } })
      const admin = kafka.admin()
      await admin.connect()
      try {
        await admin.alterPartitionReassignments({ topics: [{ topic: 'kjs',
          partitionAssignment: [{ partition: 0, replicas: reversed }] }] })
        await everywhere('the reversed replicas', 'kjs', 0,
          p => p.replicas.join() === reversed.join())
        const listed = await admin.listPartitionReassignments({})
        assert.deepEqual(listed.topics, [])
      } finally {
        await admin.disconnect()
      }
    })
})
