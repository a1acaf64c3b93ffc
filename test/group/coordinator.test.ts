/**
 * The GroupCoordinator driver on a simulated clock and an in-memory __consumer_offsets:
 * committed offsets and group metadata come back from a replay, responses follow durable
 * writes, and offsets of a group that stays empty expire after offsets.retention.minutes.
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import type { Clock, TimerHandle } from '../../src/io/clock.js'
import { GroupCoordinator, type OffsetsLog } from '../../src/group/coordinator.js'
import { ERROR } from '../../src/protocol/errors.js'

class SimClock implements Clock {
  now = 1_000_000
  timers: { at: number, callback: () => void, cancelled: boolean }[] = []
  nowMs (): number { return this.now }
  monotonicMs (): number { return this.now }
  setTimer (delayMs: number, callback: () => void): TimerHandle {
    const timer = { at: this.now + delayMs, callback, cancelled: false }
    this.timers.push(timer)
    return { cancel: () => { timer.cancelled = true } }
  }

  advance (ms: number): void {
    const until = this.now + ms
    for (;;) {
      const next = this.timers.filter(t => !t.cancelled && t.at <= until)
        .sort((a, b) => a.at - b.at)[0]
      if (next === undefined) break
      this.now = next.at
      next.cancelled = true
      next.callback()
    }
    this.now = until
  }
}

class MemoryLog implements OffsetsLog {
  readonly partitionCount = 3
  readonly partitions: { key: Buffer, value: Buffer | null }[][] = [[], [], []]
  async append (partition: number, records: { key: Buffer, value: Buffer | null }[]) {
    this.partitions[partition]?.push(...records)
  }

  async * replay (partition: number) {
    yield * this.partitions[partition] ?? []
  }
}

const LIMITS = { initialRebalanceDelayMs: 0, minSessionTimeoutMs: 10,
  maxSessionTimeoutMs: 60_000, membersMax: 10 }

function coordinator (clock: SimClock, log: MemoryLog): GroupCoordinator {
  let n = 0
  return new GroupCoordinator({ clock, log, limits: LIMITS, offsetsRetentionMs: 60_000,
    newMemberId: clientId => `${clientId}-${n++}` })
}

it('rebuilds groups and offsets by replaying __consumer_offsets', async () => {
  const clock = new SimClock()
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
    const clock = new SimClock()
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
