/**
 * The GroupCoordinator driver on a simulated clock and an in-memory __consumer_offsets:
 * committed offsets and group metadata come back from a replay, responses follow durable
 * writes, and offsets of a group that stays empty expire after offsets.retention.minutes.
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { GroupCoordinator, type OffsetsLog } from '../../src/group/coordinator.js'
import { ERROR } from '../../src/protocol/errors.js'
import { ManualClock } from '../support/manual-clock.js'

class MemoryLog implements OffsetsLog {
  readonly partitionCount = 3
  readonly partitions: { key: Buffer, value: Buffer | null }[][] = [[], [], []]
  /** While set, appends wait for it (a slow fsync); `fail` makes the next append throw. */
  gate: Promise<void> | undefined
  fail = false
  appends = 0
  async append (partition: number, records: { key: Buffer, value: Buffer | null }[]) {
    this.appends++
    await this.gate
    if (this.fail) {
      this.fail = false
      throw new Error('disk full')
    }
    this.partitions[partition]?.push(...records)
  }

  async * replay (partition: number) {
    yield * this.partitions[partition] ?? []
  }
}

const LIMITS = { initialRebalanceDelayMs: 0, minSessionTimeoutMs: 10,
  maxSessionTimeoutMs: 60_000, membersMax: 10 }

/** One offset of partition 0, as TxnOffsetCommit stages it. */
function txnOffsets (offset: number, topic = 't') {
  return [{ topic, partition: 0, offset, leaderEpoch: -1, metadata: null }]
}

function coordinator (clock: ManualClock, log: MemoryLog): GroupCoordinator {
  let n = 0
  return new GroupCoordinator({ clock, log, limits: LIMITS, offsetsRetentionMs: 60_000,
    newMemberId: clientId => `${clientId}-${n++}` })
}

it('rebuilds groups and offsets by replaying __consumer_offsets', async () => {
  const clock = new ManualClock()
  const log = new MemoryLog()
  const first = coordinator(clock, log)
  await first.load()
  let joined = await first.join('g', { memberId: '', groupInstanceId: 'static-1',
    clientId: 'c', clientHost: 'h', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000,
    protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.from('m') }],
    requireKnownMemberId: false })
  assert.equal(joined.errorCode, ERROR.NONE)
  const synced = await first.sync('g', joined.memberId, 'static-1', joined.generationId,
    [{ memberId: joined.memberId, assignment: Buffer.from('assigned') }])
  assert.equal(synced.errorCode, ERROR.NONE)
  assert.equal(await first.commitOffsets('g', joined.memberId, null, joined.generationId,
    [{ topic: 't', partition: 0, offset: 42, leaderEpoch: -1, metadata: null }]), ERROR.NONE)
  first.stop()

  const second = coordinator(clock, log)
  await second.load()
  assert.equal(second.fetchOffsets('g').get('t\u00000')?.offset, 42)
  const group = second.describeGroup('g')
  assert.equal(group?.state, 'Stable')
  assert.equal(group?.members.get(joined.memberId)?.assignment.toString(), 'assigned')
  // The static member comes back with a new id and keeps its assignment.
  joined = await second.join('g', { memberId: '', groupInstanceId: 'static-1', clientId: 'c',
    clientHost: 'h', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000,
    protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.from('m') }],
    requireKnownMemberId: true })
  assert.equal(joined.errorCode, ERROR.NONE)
  const resynced = await second.sync('g', joined.memberId, 'static-1', joined.generationId, [])
  assert.equal(resynced.assignment.toString(), 'assigned')
  second.stop()
})

it('expires the offsets of a group that stays empty past offsets.retention.minutes',
  async () => {
    const clock = new ManualClock()
    const log = new MemoryLog()
    const groups = coordinator(clock, log)
    await groups.load()
    assert.equal(await groups.commitOffsets('idle', '', null, -1,
      [{ topic: 't', partition: 1, offset: 7, leaderEpoch: -1, metadata: null }]), ERROR.NONE)
    clock.advance(30_000)
    await new Promise(resolve => setImmediate(resolve))
    assert.equal(groups.fetchOffsets('idle').size, 1, 'still inside the retention')
    clock.advance(40_000)
    await new Promise(resolve => setImmediate(resolve))
    assert.equal(groups.fetchOffsets('idle').size, 0, 'expired')
    // The expiry is durable: a replay does not bring the offsets back.
    const replayed = coordinator(clock, log)
    await replayed.load()
    assert.equal(replayed.fetchOffsets('idle').size, 0)
    groups.stop()
    replayed.stop()
  })

const JOIN = { memberId: '', groupInstanceId: null, clientId: 'c', clientHost: 'h',
  sessionTimeoutMs: 1000, rebalanceTimeoutMs: 1000, protocolType: 'consumer',
  protocols: [{ name: 'range', metadata: Buffer.from('m') }], requireKnownMemberId: false }

/** Lets pending promise callbacks run. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise(resolve => setImmediate(resolve))
}

it('answers COORDINATOR_LOAD_IN_PROGRESS until __consumer_offsets is loaded', async () => {
  const groups = coordinator(new ManualClock(), new MemoryLog())
  assert.equal((await groups.join('g', JOIN)).errorCode, ERROR.COORDINATOR_LOAD_IN_PROGRESS)
  assert.equal(groups.heartbeat('g', 'm', null, 1), ERROR.COORDINATOR_LOAD_IN_PROGRESS)
  await groups.load()
  assert.equal((await groups.join('g', JOIN)).errorCode, ERROR.NONE)
  groups.stop()
})

it('answers a sync and a commit only once their records are durable', async () => {
  const clock = new ManualClock()
  const log = new MemoryLog()
  const groups = coordinator(clock, log)
  await groups.load()
  const joined = await groups.join('g', JOIN)
  let release: () => void = () => undefined
  log.gate = new Promise(resolve => { release = resolve })
  let synced = false
  const sync = groups.sync('g', joined.memberId, null, joined.generationId,
    [{ memberId: joined.memberId, assignment: Buffer.from('a') }]).then(r => {
    synced = true
    return r
  })
  await settle()
  assert.equal(synced, false, 'the group record is not durable yet')
  assert.equal(log.appends, 1)
  release()
  assert.equal((await sync).errorCode, ERROR.NONE)
  groups.stop()
})

it('answers COORDINATOR_NOT_AVAILABLE when an append fails and reloads from the log',
  async () => {
    const clock = new ManualClock()
    const log = new MemoryLog()
    const groups = coordinator(clock, log)
    await groups.load()
    const commit = (offset: number) => groups.commit('g', { memberId: '',
      groupInstanceId: null }, -1, -1, [{ topic: 't', partition: 0, offset, leaderEpoch: -1,
      metadata: null }])
    assert.deepEqual(await commit(1), [ERROR.NONE])
    log.fail = true
    assert.deepEqual(await commit(2), [ERROR.COORDINATOR_NOT_AVAILABLE])
    await settle()
    assert.equal(groups.fetchOffsets('g').get('t\u00000')?.offset, 1,
      'memory holds what the log holds')
    groups.stop()
  })

it('expires a silent member\'s session on the clock and persists the Empty group', async () => {
  const clock = new ManualClock()
  const log = new MemoryLog()
  const groups = coordinator(clock, log)
  await groups.load()
  const joined = await groups.join('g', JOIN)
  await groups.sync('g', joined.memberId, null, joined.generationId, [])
  clock.advance(999)
  assert.equal(groups.describeGroup('g')?.state, 'Stable')
  clock.advance(1)
  assert.equal(groups.describeGroup('g')?.state, 'Empty')
  await settle()
  const replayed = coordinator(clock, log)
  await replayed.load()
  assert.equal(replayed.describeGroup('g')?.state, 'Empty')
  assert.equal(replayed.describeGroup('g')?.generationId, 2)
  groups.stop()
  replayed.stop()
})

it('answers a heartbeat at once while the group\'s commit is being written', async () => {
  const clock = new ManualClock()
  const log = new MemoryLog()
  const groups = coordinator(clock, log)
  await groups.load()
  const joined = await groups.join('g', JOIN)
  await groups.sync('g', joined.memberId, null, joined.generationId,
    [{ memberId: joined.memberId, assignment: Buffer.from('a') }])
  let release = (): void => undefined
  log.gate = new Promise(resolve => { release = resolve })
  const commit = groups.commitOffsets('g', joined.memberId, null, joined.generationId,
    [{ topic: 't', partition: 0, offset: 1, leaderEpoch: -1, metadata: null }])
  await settle()
  // Before the fix the heartbeat's answer waited behind the commit's append, and the
  // synchronous heartbeat read UNKNOWN_SERVER_ERROR (kafkajs consumers then rejoined).
  assert.equal(groups.heartbeat('g', joined.memberId, null, joined.generationId), ERROR.NONE)
  release()
  log.gate = undefined
  assert.equal(await commit, ERROR.NONE)
  groups.stop()
})

it('stages transactional offsets until the marker: COMMIT makes them the group\'s, ABORT ' +
  'drops them, a replay keeps exactly the undecided ones, an older epoch is fenced', async () => {
  const clock = new ManualClock()
  const log = new MemoryLog()
  const first = coordinator(clock, log)
  await first.load()
  const partition = first.partitionFor('g')
  assert.equal(await first.stageTransactionalOffsets('g', 7, 0, txnOffsets(5)), ERROR.NONE)
  assert.equal(first.fetchOffsets('g').get('t\u00000'), undefined, 'invisible before commit')
  assert.equal(first.hasPendingTransactionalOffset('g', 't', 0), true, 'unstable (KIP-447)')
  assert.equal(await first.completeTransaction(partition, 7, true), ERROR.NONE)
  assert.equal(first.hasPendingTransactionalOffset('g', 't', 0), false)
  assert.equal(first.fetchOffsets('g').get('t\u00000')?.offset, 5)

  assert.equal(await first.stageTransactionalOffsets('g', 7, 0, txnOffsets(9)), ERROR.NONE)
  assert.equal(await first.completeTransaction(partition, 7, false), ERROR.NONE)
  assert.equal(first.fetchOffsets('g').get('t\u00000')?.offset, 5, 'an abort drops them')

  // Undecided when the coordinator moves: the next one has them pending, not committed.
  assert.equal(await first.stageTransactionalOffsets('g', 7, 2, txnOffsets(11)), ERROR.NONE)
  assert.equal(await first.stageTransactionalOffsets('g', 7, 1, txnOffsets(12)),
    ERROR.PRODUCER_FENCED)
  first.stop()
  const second = coordinator(clock, log)
  await second.load()
  assert.equal(second.fetchOffsets('g').get('t\u00000')?.offset, 5)
  assert.equal(await second.completeTransaction(partition, 7, true), ERROR.NONE)
  assert.equal(second.fetchOffsets('g').get('t\u00000')?.offset, 11)
  // A retried marker finds nothing left to decide.
  assert.equal(await second.completeTransaction(partition, 7, false), ERROR.NONE)
  assert.equal(second.fetchOffsets('g').get('t\u00000')?.offset, 11)
  second.stop()

  const third = coordinator(clock, log)
  await third.load()
  assert.equal(third.fetchOffsets('g').get('t\u00000')?.offset, 11)
  assert.equal(await third.completeTransaction(partition, 7, false), ERROR.NONE)
  assert.equal(third.fetchOffsets('g').get('t\u00000')?.offset, 11, 'nothing pending replayed')
  third.stop()
})

it('tells which groups a marker decided once their commits are issued, so a reader that ' +
  'then waits for the group\'s appends reads the committed offsets', async () => {
  const clock = new ManualClock()
  const log = new MemoryLog()
  const seen: { groupId: string, pending: boolean, issued: number | undefined,
    offset: Promise<number | undefined> }[] = []
  let n = 0
  const groups: GroupCoordinator = new GroupCoordinator({ clock, log, limits: LIMITS,
    offsetsRetentionMs: 60_000, newMemberId: clientId => `${clientId}-${n++}`,
    onTransactionalOffsetsDecided: groupId => {
      // The commit's step has run when it was issued (its append may still be in flight).
      const issued = groups.fetchOffsets(groupId).get('t\u00000')?.offset
      seen.push({ groupId, pending: groups.hasPendingTransactionalOffsets(groupId), issued,
        offset: groups.settled(groupId).then(() => groups.fetchOffsets(groupId)
          .get('t\u00000')?.offset) })
    } })
  await groups.load()
  const partition = groups.partitionFor('g')
  // A second group on the same __consumer_offsets partition, so one marker decides both.
  let other = 'h'
  while (groups.partitionFor(other) !== partition) other += 'h'
  assert.equal(await groups.stageTransactionalOffsets('g', 7, 0, txnOffsets(5)), ERROR.NONE)
  assert.equal(await groups.stageTransactionalOffsets(other, 7, 0, txnOffsets(6)), ERROR.NONE)
  assert.equal(await groups.stageTransactionalOffsets('g', 8, 0, txnOffsets(1, 'u')),
    ERROR.NONE)

  assert.equal(await groups.completeTransaction(partition, 7, true), ERROR.NONE)
  assert.deepEqual(seen.map(s => s.groupId), ['g', other], 'each group once')
  assert.deepEqual(seen.map(s => s.pending), [true, false], 'g still waits for producer 8')
  assert.deepEqual(seen.map(s => s.issued), [5, 6],
    'both groups\' commits were issued before anyone was told')
  assert.deepEqual(await Promise.all(seen.map(s => s.offset)), [5, 6])
  assert.equal(groups.hasPendingTransactionalOffset('g', 't', 0), false)

  assert.equal(await groups.completeTransaction(partition, 8, false), ERROR.NONE)
  assert.deepEqual(seen.map(s => s.groupId), ['g', other, 'g'])
  assert.equal(groups.hasPendingTransactionalOffsets('g'), false)
  assert.equal(await seen[2]?.offset, 5, 'an abort leaves the committed offset')
  // A retried marker finds nothing left to decide and tells nobody.
  assert.equal(await groups.completeTransaction(partition, 8, false), ERROR.NONE)
  assert.equal(seen.length, 3)
  groups.stop()
})

it('answers NOT_COORDINATOR for a marker on a partition it does not lead, and keeps the ' +
  'pending offsets when the commit fails', async () => {
  const clock = new ManualClock()
  const log = new MemoryLog()
  let leads = true
  const txn = new GroupCoordinator({ clock, log, limits: LIMITS, offsetsRetentionMs: 60_000,
    newMemberId: clientId => clientId, leads: () => leads })
  await txn.load()
  const partition = txn.partitionFor('g')
  assert.equal(await txn.stageTransactionalOffsets('g', 3, 0, [{ topic: 't', partition: 1,
    offset: 8, leaderEpoch: -1, metadata: null }]), ERROR.NONE)
  leads = false
  assert.equal(await txn.completeTransaction(partition, 3, true), ERROR.NOT_COORDINATOR)
  leads = true
  log.fail = true
  assert.notEqual(await txn.completeTransaction(partition, 3, true), ERROR.NONE)
  for (let i = 0; i < 5 && txn.coordinatorError('g') !== ERROR.NONE; i++) {
    await new Promise(resolve => setImmediate(resolve))
  }
  assert.equal(await txn.completeTransaction(partition, 3, true), ERROR.NONE)
  assert.equal(txn.fetchOffsets('g').get('t\u00001')?.offset, 8)
  txn.stop()
})

it('stages nothing when the verification guard says the transaction ended meanwhile',
  async () => {
    const clock = new ManualClock()
    const log = new MemoryLog()
    const groups = coordinator(clock, log)
    await groups.load()
    const partition = groups.partitionFor('g')
    const offsets = [{ topic: 't', partition: 0, offset: 8, leaderEpoch: -1, metadata: null }]
    assert.equal(await groups.stageTransactionalOffsets('g', 3, 0, offsets, undefined,
      () => ERROR.INVALID_TXN_STATE), ERROR.INVALID_TXN_STATE)
    // The producer's next transaction commits: the refused offsets must not ride along.
    assert.equal(await groups.completeTransaction(partition, 3, true), ERROR.NONE)
    assert.equal(groups.fetchOffsets('g').get('t\u00000'), undefined)
    groups.stop()
  })

it('checks the member and generation TxnOffsetCommit v3+ names (KIP-447) before staging',
  async () => {
    const clock = new ManualClock()
    const log = new MemoryLog()
    const groups = coordinator(clock, log)
    await groups.load()
    const joined = await groups.join('g', { memberId: '', groupInstanceId: 'static-1',
      clientId: 'c', clientHost: 'h', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000,
      protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.from('m') }],
      requireKnownMemberId: false })
    assert.equal(joined.errorCode, ERROR.NONE)
    assert.equal((await groups.sync('g', joined.memberId, 'static-1', joined.generationId,
      [{ memberId: joined.memberId, assignment: Buffer.from('a') }])).errorCode, ERROR.NONE)
    const offset = (partition: number) => [{ topic: 't', partition, offset: 5,
      leaderEpoch: -1, metadata: null }]
    const stage = (partition: number, memberId: string, groupInstanceId: string | null,
      generationId: number, groupId = 'g') => groups.stageTransactionalOffsets(groupId, 7, 0,
      offset(partition), { memberId, groupInstanceId, generationId })
    const current = joined.generationId
    assert.equal(await stage(0, joined.memberId, 'static-1', current), ERROR.NONE)
    assert.equal(await stage(1, joined.memberId, 'static-1', current + 1),
      ERROR.ILLEGAL_GENERATION, 'a generation that is not the current one')
    assert.equal(await stage(2, 'zombie', null, current), ERROR.UNKNOWN_MEMBER_ID)
    assert.equal(await stage(3, 'zombie', 'static-1', current), ERROR.FENCED_INSTANCE_ID,
      'the static member\'s old instance')
    assert.equal(await stage(4, '', null, -1), ERROR.NONE,
      'no member fields (v0-2): a non-empty group takes transactional offsets')
    for (const partition of [1, 2, 3]) {
      assert.equal(groups.hasPendingTransactionalOffset('g', 't', partition), false,
        `nothing staged for refused partition ${partition}`)
    }
    assert.equal(groups.hasPendingTransactionalOffset('g', 't', 0), true)
    // A group that does not exist has no generation (Kafka's
    // OffsetMetadataManager.validateTransactionalOffsetCommit).
    assert.equal(await stage(0, 'm', null, 1, 'nobody'), ERROR.ILLEGAL_GENERATION)
    assert.equal(await stage(0, '', null, -1, 'nobody'), ERROR.NONE)
    groups.stop()
  })
