/**
 * The controller's replication duties on an in-memory metadata log: unclean leader election
 * (per topic, logged and counted), controlled shutdown, ElectLeaders (preferred and unclean),
 * the automatic preferred-leader rebalance, and partition reassignment (start, completion on a
 * commit or a tick, cancel, validation). Then a seeded simulation of all of them together,
 * checking the partition invariants after every step (CONTROLLER_SEED=<n> replays one seed,
 * CONTROLLER_TRACE=1 prints each step).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  Controller, type BrokerRegistration, type MetadataLog,
} from '../../src/controller/controller.js'
import { MetadataImage, type PartitionInfo } from '../../src/metadata/image.js'
import {
  METADATA_RECORD_VERSION, type MetadataRecord, type PartitionRecord,
} from '../../src/metadata/records.js'
import { seededRandom } from '../support/seeded-random.js'

class MemoryLog implements MetadataLog {
  readonly batches: MetadataRecord[][] = []
  async append (records: MetadataRecord[]): Promise<void> {
    this.batches.push(records)
  }
}

function registration (brokerId: number, incarnationId = `i${brokerId}`): BrokerRegistration {
  return { brokerId, host: '127.0.0.1', port: 9000 + brokerId, rack: null, endpoints: [],
    incarnationId }
}

interface Harness {
  controller: Controller
  log: MemoryLog
  errors: string[]
  unclean: { count: number }
}

async function cluster (brokers: number[], options: {
  rebalance?: { enabled: boolean, intervalMs: number, imbalancePercent: number }
} = {}): Promise<Harness> {
  const log = new MemoryLog()
  const errors: string[] = []
  const unclean = { count: 0 }
  const controller = new Controller(new MetadataImage(), log, brokers[0] as number, {
    random: () => 0,
    onUncleanElection: () => { unclean.count++ },
    logger: { info: () => undefined, error: message => errors.push(message) },
    ...(options.rebalance === undefined ? {} : { leaderRebalance: options.rebalance }),
  })
  await controller.reconcileBrokers(brokers.map(id => registration(id)))
  return { controller, log, errors, unclean }
}

function partitionOf (controller: Controller, topic: string, id = 0): PartitionInfo {
  const partition = controller.image.topic(topic)?.partitions[id]
  assert.ok(partition !== undefined)
  return partition
}

/** What a leader's AlterPartition would commit: `isr` as the new ISR (tests only). */
async function setIsr (controller: Controller, topic: string, id: number,
  isr: number[]): Promise<void> {
  const p = partitionOf(controller, topic, id)
  await controller.applyCommitted([{
    type: 'Partition', version: METADATA_RECORD_VERSION,
    topicId: controller.image.topic(topic)?.topicId as string, partitionId: id,
    replicas: p.replicas, isr, leader: p.leader, leaderEpoch: p.leaderEpoch,
    partitionEpoch: p.partitionEpoch + 1, addingReplicas: p.addingReplicas,
    removingReplicas: p.removingReplicas,
  }])
}

const spec = (name: string, replicationFactor: number, partitions = 1,
  configs: Record<string, string> = {}): { name: string, partitions: number,
  replicationFactor: number, configs: Record<string, string> } =>
  ({ name, partitions, replicationFactor, configs })

describe('unclean leader election', () => {
  it('keeps the partition offline by default when its last in-sync replica dies', async () => {
    const { controller, unclean } = await cluster([1, 2])
    await controller.createTopic(spec('safe', 2))
    await setIsr(controller, 'safe', 0, [1])
    await controller.reconcileBrokers([registration(2)])
    const p = partitionOf(controller, 'safe')
    assert.deepEqual([p.leader, p.isr], [-1, [1]])
    assert.equal(unclean.count, 0)
  })

  it('with unclean.leader.election.enable: elects a live replica, logs and counts it',
    async () => {
      const { controller, unclean, errors } = await cluster([1, 2])
      await controller.createTopic(spec('lossy', 2, 1,
        { 'unclean.leader.election.enable': 'true' }))
      await setIsr(controller, 'lossy', 0, [1])
      const before = partitionOf(controller, 'lossy')
      await controller.reconcileBrokers([registration(2)])
      const p = partitionOf(controller, 'lossy')
      assert.deepEqual([p.leader, p.isr, p.leaderEpoch], [2, [2], before.leaderEpoch + 1])
      assert.equal(unclean.count, 1)
      assert.match(errors.join('\n'), /UNCLEAN LEADER ELECTION for lossy-0.*ISR \[1\].*LOST/)
    })
})

describe('controlled shutdown', () => {
  it('moves leadership off the broker and removes it from every ISR it is not alone in',
    async () => {
      const { controller } = await cluster([1, 2, 3])
      await controller.createTopic(spec('t', 3, 3))
      await controller.createTopic(spec('alone', 1, 3))
      const led = controller.image.topic('t')?.partitions.filter(p => p.leader === 1) ?? []
      assert.ok(led.length > 0)
      const epochs = led.map(p => p.leaderEpoch)
      await controller.controlledShutdown(1)
      for (const p of controller.image.topic('t')?.partitions ?? []) {
        assert.notEqual(p.leader, 1)
        assert.ok(!p.isr.includes(1), `1 left the ISR of t-${p.partitionId}`)
      }
      led.forEach((p, index) => {
        assert.equal(partitionOf(controller, 't', p.partitionId).leaderEpoch,
          (epochs[index] as number) + 1)
      })
      const single = controller.image.topic('alone')?.partitions.find(p => p.replicas[0] === 1)
      assert.ok(single !== undefined)
      assert.equal(single.leader, 1, 'the only replica keeps its partition')
      // While it shuts down it is not elected back, even as the preferred replica.
      const results = await controller.electLeaders('preferred',
        led.map(p => ({ topic: 't', partition: p.partitionId })))
      assert.ok(results.every(r => r.errorName === 'PREFERRED_LEADER_NOT_AVAILABLE'))
      // Nor may a leader take it back into an ISR (AlterPartition).
      const p0 = partitionOf(controller, 't', led[0]?.partitionId as number)
      await assert.rejects(controller.alterPartition({ topic: 't', partition: p0.partitionId,
        leaderId: p0.leader, leaderEpoch: p0.leaderEpoch, partitionEpoch: p0.partitionEpoch,
        isr: [...p0.isr, 1] }), (error: Error & { errorName?: string }) =>
        error.errorName === 'INELIGIBLE_REPLICA')
      // Its next incarnation is eligible again.
      await controller.reconcileBrokers([2, 3].map(id => registration(id)))
      await controller.reconcileBrokers([registration(1, 'again'), registration(2),
        registration(3)])
      await setIsr(controller, 't', led[0]?.partitionId as number, [1, 2, 3])
      const [again] = await controller.electLeaders('preferred',
        [{ topic: 't', partition: led[0]?.partitionId as number }])
      assert.equal(again?.errorName, 'NONE')
    })
})

describe('ElectLeaders', () => {
  it('preferred: moves leaders back to replicas[0]; answers per partition', async () => {
    const { controller } = await cluster([1, 2, 3])
    await controller.createTopic(spec('p', 3, 3))
    await controller.reconcileBrokers([2, 3].map(id => registration(id)))
    await controller.reconcileBrokers([1, 2, 3].map(id => registration(id, `new${id}`)))
    // Broker 1 is back but out of sync on the partitions it prefers.
    const preferred1 = controller.image.topic('p')?.partitions
      .filter(p => p.replicas[0] === 1).map(p => p.partitionId) ?? []
    assert.ok(preferred1.length > 0)
    const refs = preferred1.map(partition => ({ topic: 'p', partition }))
    const notYet = await controller.electLeaders('preferred', refs)
    assert.ok(notYet.every(r => r.errorName === 'PREFERRED_LEADER_NOT_AVAILABLE'))
    for (const id of preferred1) await setIsr(controller, 'p', id, [1, 2, 3])
    const elected = await controller.electLeaders('preferred', refs)
    assert.ok(elected.every(r => r.errorName === 'NONE'), JSON.stringify(elected))
    for (const id of preferred1) assert.equal(partitionOf(controller, 'p', id).leader, 1)
    const again = await controller.electLeaders('preferred', [...refs,
      { topic: 'p', partition: 99 }, { topic: 'nope', partition: 0 }])
    assert.deepEqual(again.map(r => r.errorName), [...refs.map(() => 'ELECTION_NOT_NEEDED'),
      'UNKNOWN_TOPIC_OR_PARTITION', 'UNKNOWN_TOPIC_OR_PARTITION'])
    assert.deepEqual(await controller.electLeaders('preferred', null), [],
      'all partitions: those that needed no election are left out')
  })

  it('unclean: only for partitions without a live leader, whatever the topic says',
    async () => {
      const { controller, unclean } = await cluster([1, 2])
      await controller.createTopic(spec('u', 2))
      await setIsr(controller, 'u', 0, [1])
      await controller.reconcileBrokers([registration(2)])
      assert.equal(partitionOf(controller, 'u').leader, -1)
      const [result] = await controller.electLeaders('unclean', [{ topic: 'u', partition: 0 }])
      assert.equal(result?.errorName, 'NONE')
      assert.deepEqual([partitionOf(controller, 'u').leader, partitionOf(controller, 'u').isr],
        [2, [2]])
      assert.equal(unclean.count, 1)
      const [again] = await controller.electLeaders('unclean', [{ topic: 'u', partition: 0 }])
      assert.equal(again?.errorName, 'ELECTION_NOT_NEEDED')
    })

  it('rebalances automatically when a broker leads too few of its preferred partitions',
    async () => {
      const { controller } = await cluster([1, 2, 3],
        { rebalance: { enabled: true, intervalMs: 1000, imbalancePercent: 10 } })
      await controller.createTopic(spec('r', 3, 6))
      await controller.reconcileBrokers([2, 3].map(id => registration(id)))
      await controller.reconcileBrokers([1, 2, 3].map(id => registration(id, `n${id}`)))
      const mine = controller.image.topic('r')?.partitions.filter(p => p.replicas[0] === 1) ?? []
      for (const p of mine) await setIsr(controller, 'r', p.partitionId, [1, 2, 3])
      await controller.periodicDuties(0)
      await controller.periodicDuties(500)
      assert.ok(mine.every(p => partitionOf(controller, 'r', p.partitionId).leader !== 1),
        'not before the interval')
      await controller.periodicDuties(1000)
      assert.ok(mine.every(p => partitionOf(controller, 'r', p.partitionId).leader === 1))
    })
})

describe('partition reassignment', () => {
  it('adds, waits for the ISR, then completes and moves the leader', async () => {
    const { controller } = await cluster([1, 2, 3])
    await controller.createTopic(spec('m', 1))
    const before = partitionOf(controller, 'm')
    assert.deepEqual(before.replicas, [1])
    const [result] = await controller.alterPartitionReassignments(
      [{ topic: 'm', partition: 0, replicas: [2, 3] }], true)
    assert.equal(result?.errorName, 'NONE')
    let p = partitionOf(controller, 'm')
    assert.deepEqual([p.replicas, p.addingReplicas, p.removingReplicas, p.leader],
      [[2, 3, 1], [2, 3], [1], 1])
    assert.deepEqual(controller.listPartitionReassignments(null), [{ topic: 'm', partition: 0,
      replicas: [2, 3, 1], addingReplicas: [2, 3], removingReplicas: [1] }])
    await setIsr(controller, 'm', 0, [1, 2])
    await controller.periodicDuties(0)
    assert.deepEqual(partitionOf(controller, 'm').addingReplicas, [2, 3], 'still catching up')
    await setIsr(controller, 'm', 0, [1, 2, 3])
    await controller.periodicDuties(0)
    p = partitionOf(controller, 'm')
    assert.deepEqual([p.replicas, p.isr, p.leader, p.addingReplicas, p.removingReplicas,
      p.leaderEpoch], [[2, 3], [2, 3], 2, [], [], before.leaderEpoch + 1])
    assert.deepEqual(controller.listPartitionReassignments(null), [])
  })

  it('completes in the same call when the target is already in sync', async () => {
    const { controller } = await cluster([1, 2, 3])
    await controller.createTopic(spec('s', 3))
    await controller.alterPartitionReassignments([{ topic: 's', partition: 0,
      replicas: [3, 2] }], true)
    const p = partitionOf(controller, 's')
    assert.deepEqual([p.replicas, p.addingReplicas, p.removingReplicas], [[3, 2], [], []])
    assert.ok(p.leader === 3 || p.leader === 2)
  })

  it('cancels, refuses bad assignments and answers per partition', async () => {
    const { controller } = await cluster([1, 2, 3])
    await controller.createTopic(spec('c', 1))
    const results = await controller.alterPartitionReassignments([
      { topic: 'c', partition: 0, replicas: null },
      { topic: 'c', partition: 0, replicas: [2] },
      { topic: 'c', partition: 1, replicas: [2] },
    ], true)
    assert.deepEqual(results.map(r => r.errorName),
      ['NO_REASSIGNMENT_IN_PROGRESS', 'INVALID_REQUEST', 'UNKNOWN_TOPIC_OR_PARTITION'])
    for (const replicas of [[], [2, 2], [7]]) {
      const [bad] = await controller.alterPartitionReassignments([{ topic: 'c', partition: 0,
        replicas }], true)
      assert.equal(bad?.errorName, 'INVALID_REPLICA_ASSIGNMENT', JSON.stringify(replicas))
    }
    const [rf] = await controller.alterPartitionReassignments([{ topic: 'c', partition: 0,
      replicas: [2, 3] }], false)
    assert.equal(rf?.errorName, 'INVALID_REPLICATION_FACTOR')
    await controller.alterPartitionReassignments([{ topic: 'c', partition: 0,
      replicas: [2, 3] }], true)
    assert.deepEqual(partitionOf(controller, 'c').addingReplicas, [2, 3])
    const [cancel] = await controller.alterPartitionReassignments([{ topic: 'c', partition: 0,
      replicas: null }], true)
    assert.equal(cancel?.errorName, 'NONE')
    const p = partitionOf(controller, 'c')
    assert.deepEqual([p.replicas, p.isr, p.leader, p.addingReplicas], [[1], [1], 1, []])
  })

  it('survives a replay of the log: the reassignment fields are in the records', async () => {
    const { controller, log } = await cluster([1, 2])
    await controller.createTopic(spec('r', 1))
    await controller.alterPartitionReassignments([{ topic: 'r', partition: 0,
      replicas: [2] }], true)
    const image = new MetadataImage()
    for (const batch of log.batches) for (const record of batch) image.replay(record)
    assert.deepEqual(image.topic('r')?.partitions[0], partitionOf(controller, 'r'))
  })
})

/**
 * The seeded simulation: brokers die and return, shut down in a controlled way, followers
 * catch up (ISR expansion) or fall behind (shrink), operators elect leaders and reassign.
 * After every step: the leader is in the ISR, the ISR is a non-empty subset of the replicas,
 * leader epochs never decrease, a leader is a live broker, and without unclean election every
 * new leader was in the ISR before (so it has every committed record).
 */
async function simulate (seed: number): Promise<{ reassigned: number, completed: number }> {
  const random = seededRandom(seed)
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T
  const brokers = [1, 2, 3, 4]
  const { controller, log } = await cluster(brokers)
  await controller.createTopic(spec('sim', 3, 4))
  const topicId = controller.image.topic('sim')?.topicId
  const live = new Set(brokers)
  const incarnation = new Map(brokers.map(id => [id, 0]))
  let reassigned = 0
  let completed = 0
  // The invariants are checked on every committed Partition record, in log order (one step
  // may commit two: an ISR change, then the reassignment it completes).
  const state = new Map<number, PartitionRecord>()
  let checkedBatches = 0
  const checkCommits = (where: string): void => {
    for (; checkedBatches < log.batches.length; checkedBatches++) {
      for (const q of log.batches[checkedBatches] ?? []) {
        if (q.type !== 'Partition' || q.topicId !== topicId) continue
        const before = state.get(q.partitionId)
        state.set(q.partitionId, q)
        if (before === undefined) continue
        checkPartition(where, before, q, live)
        const moving = (r: PartitionRecord): boolean =>
          (r.addingReplicas ?? []).length + (r.removingReplicas ?? []).length > 0
        if (moving(before) && !moving(q)) completed++
      }
    }
  }
  checkCommits('creation')
  const steps = 300
  for (let step = 0; step < steps; step++) {
    const where = `seed ${seed} step ${step}`
    const partition = Math.floor(random() * 4)
    const p = partitionOf(controller, 'sim', partition)
    const roll = random()
    if (roll < 0.15) {
      const id = pick(brokers)
      if (live.has(id) && live.size > 1) live.delete(id)
      else if (!live.has(id)) { live.add(id); incarnation.set(id, (incarnation.get(id) ?? 0) + 1) }
      await controller.reconcileBrokers([...live].sort().map(b =>
        registration(b, `i${b}.${incarnation.get(b) ?? 0}`)))
    } else if (roll < 0.25) {
      if (live.size > 1) await controller.controlledShutdown(pick([...live]))
    } else if (roll < 0.5 && p.leader !== -1) {
      // The leader's ISR change: a live replica catches up, or a follower falls out.
      const joining = p.replicas.filter(id => live.has(id) && !p.isr.includes(id) &&
        controller.isEligibleReplica(id))
      const leaving = p.isr.filter(id => id !== p.leader)
      // Through the leader's AlterPartition, as h/repl's leaders send it: the controller
      // refuses ineligible replicas and completes reassignments on the commit.
      const isr = joining.length > 0 && random() < 0.7
        ? [...p.isr, pick(joining)]
        : leaving.length > 0 ? p.isr.filter(id => id !== pick(leaving)) : p.isr
      await controller.alterPartition({ topic: 'sim', partition, leaderId: p.leader,
        leaderEpoch: p.leaderEpoch, partitionEpoch: p.partitionEpoch, isr })
    } else if (roll < 0.65) {
      await controller.electLeaders(pick(['preferred', 'preferred', 'unclean'] as const),
        [{ topic: 'sim', partition }])
    } else if (roll < 0.8) {
      const size = 1 + Math.floor(random() * 3)
      const target = [...brokers].sort(() => random() - 0.5).slice(0, size)
      const [result] = await controller.alterPartitionReassignments([{ topic: 'sim', partition,
        replicas: random() < 0.2 ? null : target }], true)
      if (result?.errorName === 'NONE') reassigned++
    } else {
      await controller.periodicDuties(step * 1000)
    }
    if (process.env.CONTROLLER_TRACE !== undefined) {
      console.log(where, roll.toFixed(2), JSON.stringify(partitionOf(controller, 'sim',
        partition)), [...live])
    }
    checkCommits(`seed ${seed} step ${step}`)
  }
  return { reassigned, completed }
}

function checkPartition (where: string, before: PartitionRecord, q: PartitionRecord,
  live: ReadonlySet<number>): void {
  const id = q.partitionId
  const adding = q.addingReplicas ?? []
  const removing = q.removingReplicas ?? []
  assert.ok(q.isr.length > 0, `${where}: ISR of ${id} is empty`)
  assert.ok(q.isr.every(r => q.replicas.includes(r)), `${where}: ISR outside replicas`)
  assert.ok(q.leader === -1 || q.isr.includes(q.leader), `${where}: leader outside ISR`)
  assert.ok(q.leader === -1 || live.has(q.leader), `${where}: dead leader ${q.leader}`)
  assert.ok(q.leaderEpoch >= before.leaderEpoch, `${where}: leader epoch went back`)
  assert.ok(q.partitionEpoch > before.partitionEpoch, `${where}: partition epoch not bumped`)
  assert.ok(new Set(q.replicas).size === q.replicas.length, `${where}: duplicate replica`)
  assert.ok(adding.every(r => q.replicas.includes(r)) &&
    removing.every(r => q.replicas.includes(r)), `${where}: adding/removing outside replicas`)
  if (q.leader !== before.leader) {
    assert.ok(q.leaderEpoch > before.leaderEpoch, `${where}: new leader, same epoch`)
  }
  // Unclean elections are only ever the operator's ('unclean' ElectLeaders), and then only
  // for a partition whose leader was gone; any other new leader was in sync.
  if (q.leader !== -1 && q.leader !== before.leader && before.leader !== -1) {
    assert.ok(before.isr.includes(q.leader), `${where}: leader ${q.leader} of ${id} was ` +
      `not in the ISR ${before.isr}`)
  }
}

describe('controller simulation', () => {
  it('keeps the partition invariants for fixed and random seeds', async () => {
    const fromEnv = process.env.CONTROLLER_SEED
    const base = fromEnv !== undefined ? Number(fromEnv) : Date.now() % 1_000_000_000
    const seeds = fromEnv !== undefined ? [base] : [1, 2, 3, 42, base, base + 1, base + 2]
    console.log(`controller simulation: seeds ${seeds.join(',')} (CONTROLLER_SEED replays one)`)
    let reassigned = 0
    let completed = 0
    for (const seed of seeds) {
      const result = await simulate(seed)
      reassigned += result.reassigned
      completed += result.completed
    }
    assert.ok(reassigned >= seeds.length && completed > 0, 'the runs exercised reassignments ' +
      `(${reassigned} started or cancelled, ${completed} completed or cancelled)`)
  })
})
