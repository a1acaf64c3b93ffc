/**
 * The transaction coordinator's driver (src/txn/txn-coordinator.ts) on an in-memory log and a
 * manual clock: answers wait for the append, a failed append answers COORDINATOR_NOT_AVAILABLE
 * and reloads the partition, markers are retried until written, a transaction left Ongoing is
 * aborted by its timeout after a reload, and a reload resumes the markers of a Prepare state.
 * In a cluster it follows leadership: two coordinators on one log hand a partition over, the
 * new one resumes the markers in its own coordinator epoch and the old one stops.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { OffsetsLog } from '../../src/group/offsets-store.js'
import { ERROR } from '../../src/protocol/errors.js'
import {
  TransactionCoordinator, type TxnMarker,
} from '../../src/txn/txn-coordinator.js'
import { ManualClock } from '../support/manual-clock.js'

class MemoryLog implements OffsetsLog {
  readonly partitionCount = 3
  readonly records: { partition: number, key: Buffer, value: Buffer | null }[] = []
  failNext = 0
  gate: Promise<void> | undefined

  async append (partition: number, records: { key: Buffer, value: Buffer | null }[]):
  Promise<void> {
    await this.gate
    if (this.failNext-- > 0) throw new Error('injected append failure')
    for (const record of records) this.records.push({ partition, ...record })
  }

  async * replay (partition: number) {
    for (const [offset, record] of this.records.entries()) {
      if (record.partition === partition) yield { key: record.key, value: record.value, offset }
    }
  }
}

function coordinator (log: MemoryLog, clock: ManualClock, markers: TxnMarker[],
  failMarkers = { count: 0 }, leaderEpoch?: (partition: number) => number | undefined):
  TransactionCoordinator {
  let nextId = 100
  return new TransactionCoordinator({
    ...(leaderEpoch === undefined ? {} : { leaderEpoch }),
    clock,
    limits: { maxTimeoutMs: 60_000, idExpirationMs: 3_600_000, partitionsMax: 100 },
    log,
    markers: { async send (marker) {
      if (failMarkers.count-- > 0) return marker.partitions
      markers.push(marker)
      return []
    } },
    nextProducerId: async () => nextId++,
    groupPartition: () => ({ topic: '__consumer_offsets', partition: 0 }),
  })
}

const tick = (): Promise<void> => new Promise(resolve => setImmediate(resolve))

describe('TransactionCoordinator', () => {
  it('answers after the append, writes markers after EndTxn, and completes', async () => {
    const log = new MemoryLog()
    const clock = new ManualClock()
    const markers: TxnMarker[] = []
    const txn = coordinator(log, clock, markers)
    await txn.load()
    let release = (): void => undefined
    log.gate = new Promise(resolve => { release = resolve })
    let answered = false
    const init = txn.initProducerId('app', 10_000).then(r => { answered = true; return r })
    await tick()
    assert.equal(answered, false, 'no answer before the record is durable')
    release()
    log.gate = undefined
    assert.deepEqual(await init, { errorCode: ERROR.NONE, producerId: 100, producerEpoch: 0 })
    assert.equal(await txn.addPartitions('app', 100, 0, [{ topic: 't', partition: 1 }]),
      ERROR.NONE)
    assert.equal(txn.verification('app', 100, 0, { topic: 't', partition: 1 }), ERROR.NONE)
    assert.equal(txn.verification('app', 100, 0, { topic: 't', partition: 2 }),
      ERROR.INVALID_TXN_STATE)
    assert.equal(await txn.endTxn('app', 100, 0, true), ERROR.NONE)
    for (let i = 0; i < 5 && txn.describe('app')?.state !== 'CompleteCommit'; i++) await tick()
    assert.equal(txn.describe('app')?.state, 'CompleteCommit')
    assert.deepEqual(markers.map(m => [m.commit, m.producerEpoch, m.partitions]),
      [[true, 0, [{ topic: 't', partition: 1 }]]])
  })

  it('answers COORDINATOR_NOT_AVAILABLE on a failed append and keeps the log state', async () => {
    const log = new MemoryLog()
    const clock = new ManualClock()
    const txn = coordinator(log, clock, [])
    await txn.load()
    await txn.initProducerId('app', 10_000)
    log.failNext = 1
    assert.equal(await txn.addPartitions('app', 100, 0, [{ topic: 't', partition: 0 }]),
      ERROR.COORDINATOR_NOT_AVAILABLE)
    for (let i = 0; i < 5 && txn.coordinatorError('app') !== ERROR.NONE; i++) await tick()
    assert.equal(txn.describe('app')?.state, 'Empty', 'reloaded from the log')
    assert.equal(await txn.addPartitions('app', 100, 0, [{ topic: 't', partition: 0 }]),
      ERROR.NONE)
  })

  it('retries markers until written', async () => {
    const log = new MemoryLog()
    const clock = new ManualClock()
    const markers: TxnMarker[] = []
    const failures = { count: 2 }
    const txn = coordinator(log, clock, markers, failures)
    await txn.load()
    await txn.initProducerId('app', 10_000)
    await txn.addPartitions('app', 100, 0, [{ topic: 't', partition: 0 }])
    assert.equal(await txn.endTxn('app', 100, 0, false), ERROR.NONE)
    for (let i = 0; i < 10; i++) {
      clock.advance(1_000)
      await tick()
    }
    assert.equal(markers.length, 1)
    assert.equal(txn.describe('app')?.state, 'CompleteAbort')
  })

  it('after a reload, resumes markers of a Prepare state and aborts an Ongoing one at its ' +
    'timeout with a bumped epoch', async () => {
    const log = new MemoryLog()
    const clock = new ManualClock()
    const first = coordinator(log, clock, [], { count: Number.MAX_SAFE_INTEGER })
    await first.load()
    await first.initProducerId('prepared', 10_000)
    await first.addPartitions('prepared', 100, 0, [{ topic: 't', partition: 0 }])
    await first.endTxn('prepared', 100, 0, true)
    await first.initProducerId('open', 5_000)
    await first.addPartitions('open', 101, 0, [{ topic: 't', partition: 1 }])
    first.stop()

    const markers: TxnMarker[] = []
    const second = coordinator(log, clock, markers)
    await second.load()
    for (let i = 0; i < 5; i++) await tick()
    assert.deepEqual(markers.map(m => [m.commit, m.producerId]), [[true, 100]])
    assert.equal(second.describe('prepared')?.state, 'CompleteCommit')
    assert.equal(second.describe('open')?.state, 'Ongoing')
    clock.advance(5_000)
    for (let i = 0; i < 5; i++) await tick()
    assert.equal(second.describe('open')?.state, 'CompleteAbort')
    assert.deepEqual(markers.map(m => [m.commit, m.producerId, m.producerEpoch]),
      [[true, 100, 0], [false, 101, 1]])
    assert.equal(await second.endTxn('open', 101, 0, true), ERROR.PRODUCER_FENCED)
  })

  it('follows leadership: the new leader loads the partition and resumes its markers in its ' +
    'epoch; the old one drops its ids, answers its waiters and stops sending', async () => {
    const log = new MemoryLog()
    const clock = new ManualClock()
    const leaders = new Map<number, { node: string, epoch: number }>()
    const epochOn = (node: string) => (partition: number): number | undefined => {
      const leader = leaders.get(partition)
      return leader?.node === node ? leader.epoch : undefined
    }
    for (let partition = 0; partition < log.partitionCount; partition++) {
      leaders.set(partition, { node: 'a', epoch: 0 })
    }
    const stuck = { count: Number.MAX_SAFE_INTEGER }
    const a = coordinator(log, clock, [], stuck, epochOn('a'))
    const fromB: TxnMarker[] = []
    const b = coordinator(log, clock, fromB, { count: 0 }, epochOn('b'))
    await a.load()
    await b.load()
    assert.equal(a.coordinatorError('app'), ERROR.NONE)
    assert.equal(b.coordinatorError('app'), ERROR.NOT_COORDINATOR)
    await a.initProducerId('app', 10_000)
    await a.addPartitions('app', 100, 0, [{ topic: 't', partition: 0 }])
    assert.equal(await a.endTxn('app', 100, 0, true), ERROR.NONE)
    await tick()
    assert.equal(a.describe('app')?.state, 'PrepareCommit', 'its markers keep failing on a')
    // A request of another id on the same partition waits for its append when leadership moves.
    const sibling = ['app-1', 'app-2', 'app-3', 'app-4', 'app-5']
      .find(id => a.partitionFor(id) === a.partitionFor('app')) as string
    let release = (): void => undefined
    log.gate = new Promise(resolve => { release = resolve })
    const waiting = a.initProducerId(sibling, 10_000)
    await tick()

    leaders.set(a.partitionFor('app'), { node: 'b', epoch: 7 })
    assert.equal(b.coordinatorError('app'), ERROR.COORDINATOR_LOAD_IN_PROGRESS)
    await a.followLeadership()
    assert.equal((await waiting).errorCode, ERROR.NOT_COORDINATOR)
    assert.equal(a.coordinatorError('app'), ERROR.NOT_COORDINATOR)
    assert.equal(a.describe('app'), undefined, 'the old leader forgot the id')
    release()
    log.gate = undefined
    await b.followLeadership()
    for (let i = 0; i < 5 && b.describe('app')?.state !== 'CompleteCommit'; i++) await tick()
    assert.equal(b.describe('app')?.state, 'CompleteCommit')
    assert.deepEqual(fromB.map(m => [m.commit, m.producerId, m.coordinatorEpoch]),
      [[true, 100, 7]], 'the markers carry the new leader epoch as coordinator epoch')
    const attempts = Number.MAX_SAFE_INTEGER - stuck.count
    for (let i = 0; i < 10; i++) {
      clock.advance(5_000)
      await tick()
    }
    assert.equal(Number.MAX_SAFE_INTEGER - stuck.count, attempts,
      'the deposed coordinator sends no more markers')
  })

  it('holds its markers while its session lapses and sends them when it leads again in the ' +
    'same epoch', async () => {
    const log = new MemoryLog()
    const clock = new ManualClock()
    let sessionAlive = true
    const markers: TxnMarker[] = []
    const failing = { count: 1 }
    const txn = coordinator(log, clock, markers, failing,
      () => sessionAlive ? 4 : undefined)
    await txn.load()
    await txn.initProducerId('app', 10_000)
    await txn.addPartitions('app', 100, 0, [{ topic: 't', partition: 0 }])
    assert.equal(await txn.endTxn('app', 100, 0, true), ERROR.NONE)
    await tick()
    sessionAlive = false
    for (let i = 0; i < 5; i++) {
      clock.advance(5_000)
      await tick()
    }
    assert.equal(markers.length, 0, 'nothing is sent without leadership')
    assert.equal(txn.coordinatorError('app'), ERROR.NOT_COORDINATOR)
    sessionAlive = true
    for (let i = 0; i < 10 && txn.describe('app')?.state !== 'CompleteCommit'; i++) {
      clock.advance(5_000)
      await tick()
    }
    assert.equal(txn.describe('app')?.state, 'CompleteCommit')
    assert.deepEqual(markers.map(m => [m.commit, m.coordinatorEpoch]), [[true, 4]])
  })
})
