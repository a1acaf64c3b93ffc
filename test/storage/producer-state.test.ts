/**
 * ProducerState is pure: these tests need no files and no timers.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { crc32c } from '../../src/records/crc32c.js'
import { ProducerState } from '../../src/storage/producer-state.js'

const INT32_MAX = 0x7fffffff

/** Appends `count` batches of `records` records for producer 1, epoch 0, from offset 0. */
function withBatches (count: number, records = 10): ProducerState {
  const state = new ProducerState()
  for (let i = 0; i < count; i++) {
    assert.deepEqual(state.check(1, 0, i * records, records - 1), { outcome: 'append' })
    state.update(1, 0, i * records, records - 1, i * records, 1000 + i)
  }
  return state
}

describe('ProducerState', () => {
  it('accepts a new producer only at sequence 0', () => {
    const state = new ProducerState()
    assert.equal(state.check(1, 0, 0, 4).outcome, 'append')
    const late = state.check(1, 0, 5, 4)
    assert.equal(late.outcome, 'error')
    assert.equal(late.outcome === 'error' && late.kind, 'OUT_OF_ORDER_SEQUENCE_NUMBER')
  })

  it('recognises a retry of each of the last 5 batches with its original offsets', () => {
    const state = withBatches(8)
    for (let i = 3; i < 8; i++) {
      assert.deepEqual(state.check(1, 0, i * 10, 9),
        { outcome: 'duplicate', firstOffset: i * 10, lastOffset: i * 10 + 9 })
    }
    // The 6th batch back is forgotten: its retry is out of order, as in Kafka.
    assert.equal(state.check(1, 0, 20, 9).outcome, 'error')
  })

  it('rejects a sequence gap and a stale epoch, and requires 0 in a new epoch', () => {
    const state = withBatches(2)
    const gap = state.check(1, 0, 30, 9)
    assert.equal(gap.outcome === 'error' && gap.kind, 'OUT_OF_ORDER_SEQUENCE_NUMBER')
    assert.equal(state.check(1, 0, 20, 9).outcome, 'append')
    const newEpochLate = state.check(1, 1, 20, 9)
    assert.equal(newEpochLate.outcome === 'error' && newEpochLate.kind,
      'OUT_OF_ORDER_SEQUENCE_NUMBER')
    assert.equal(state.check(1, 1, 0, 9).outcome, 'append')
    state.update(1, 1, 0, 9, 20, 2000)
    const stale = state.check(1, 0, 20, 9)
    assert.equal(stale.outcome === 'error' && stale.kind, 'INVALID_PRODUCER_EPOCH')
  })

  it('wraps the sequence after int32 max to 0', () => {
    const state = new ProducerState()
    state.update(1, 0, 0, 0, 0, 1)
    state.update(1, 0, INT32_MAX - 4, 4, 1, 1) // as if restored mid-stream
    assert.equal(state.check(1, 0, 0, 2).outcome, 'append', 'next after 2147483647 is 0')
    assert.equal(state.check(1, 0, INT32_MAX, 0).outcome, 'error')
    // A batch that itself crosses the wrap: firstSeq near max, lastSeq past 0.
    const crossing = new ProducerState()
    crossing.update(2, 0, INT32_MAX - 1, 3, 0, 1)
    assert.equal(crossing.check(2, 0, 2, 0).outcome, 'append')
    assert.equal(crossing.check(2, 0, INT32_MAX - 1, 3).outcome, 'duplicate')
  })

  it('round-trips through a snapshot and rejects a corrupt one', () => {
    const state = withBatches(7)
    state.update(99, 3, 0, 0, 70, 5000)
    const snapshot = state.encodeSnapshot()
    const restored = new ProducerState()
    assert.equal(restored.loadSnapshot(snapshot), true)
    assert.equal(restored.size, 2)
    for (let i = 2; i < 7; i++) {
      assert.deepEqual(restored.check(1, 0, i * 10, 9),
        { outcome: 'duplicate', firstOffset: i * 10, lastOffset: i * 10 + 9 })
    }
    assert.equal(restored.check(1, 0, 70, 9).outcome, 'append')
    assert.equal(restored.check(99, 2, 1, 0).outcome, 'error')
    const corrupt = Buffer.from(snapshot)
    corrupt[corrupt.length - 1] = (corrupt[corrupt.length - 1] as number) ^ 0xff
    const untouched = new ProducerState()
    assert.equal(untouched.loadSnapshot(corrupt), false)
    assert.equal(untouched.loadSnapshot(snapshot.subarray(0, 20)), false)
    assert.equal(untouched.loadSnapshot(Buffer.alloc(0)), false)
    assert.equal(untouched.size, 0)
  })

  it('forgets batches at or after a truncation offset', () => {
    const state = withBatches(4)
    state.truncateTo(20)
    assert.equal(state.check(1, 0, 20, 9).outcome, 'append')
    assert.equal(state.check(1, 0, 10, 9).outcome, 'duplicate')
  })

  it('fences a marker of an older coordinator epoch, after an older producer epoch', () => {
    const state = withBatches(1)
    state.beginTransaction(1, 0)
    assert.equal(state.checkMarker(1, 0, 3), undefined, 'nothing known yet: any epoch')
    assert.equal(state.endTransaction(1, 0, 2000, 3), 0, 'ends the transaction begun at 0')
    assert.equal(state.checkMarker(1, 0, 2)?.kind, 'TRANSACTION_COORDINATOR_FENCED')
    assert.equal(state.checkMarker(1, 0, 3), undefined, 'the same coordinator again')
    assert.equal(state.checkMarker(1, 1, 4), undefined, 'a newer coordinator')
    // Kafka checks the producer epoch first: a stale producer epoch wins over a stale
    // coordinator epoch.
    state.endTransaction(1, 2, 2001, 4)
    assert.equal(state.checkMarker(1, 1, 2)?.kind, 'INVALID_PRODUCER_EPOCH')
    assert.equal(state.checkMarker(2, 0, 0), undefined, 'another producer')
    // A new producer epoch keeps the coordinator epoch (it belongs to the transactional id).
    state.update(1, 3, 0, 0, 10, 2002)
    assert.equal(state.checkMarker(1, 3, 3)?.kind, 'TRANSACTION_COORDINATOR_FENCED')
    assert.equal(state.activeProducers()[0]?.coordinatorEpoch, 4)
  })

  it('keeps coordinator epochs in snapshots, also of producers known only from markers', () => {
    const state = withBatches(3)
    state.endTransaction(1, 0, 2000, 5)
    state.endTransaction(9, 4, 2001, 7) // producer 9: no batch here, only a marker
    const restored = new ProducerState()
    assert.equal(restored.loadSnapshot(state.encodeSnapshot()), true)
    assert.deepEqual(restored.activeProducers(), state.activeProducers())
    assert.deepEqual(restored.activeProducers().map(p => [p.producerId, p.coordinatorEpoch]),
      [[1, 5], [9, 7]])
    assert.equal(restored.checkMarker(9, 4, 6)?.kind, 'TRANSACTION_COORDINATOR_FENCED')
    assert.equal(restored.checkMarker(9, 3, 7)?.kind, 'INVALID_PRODUCER_EPOCH')
    assert.equal(restored.check(1, 0, 20, 9).outcome, 'duplicate', 'dedup survives too')
  })

  it('loads a snapshot written before coordinator epochs were kept (-1) as none seen', () => {
    // The old layout wrote -1 in the coordinator epoch field and no entry for a producer
    // without batches: build such a file by hand.
    const entry = Buffer.alloc(46)
    entry.writeBigInt64BE(1n, 0) // producer id
    entry.writeInt16BE(2, 8) // epoch
    entry.writeInt32BE(9, 10) // last sequence
    entry.writeBigInt64BE(9n, 14) // last offset
    entry.writeInt32BE(9, 22) // offset delta
    entry.writeBigInt64BE(1000n, 26) // timestamp
    entry.writeInt32BE(-1, 34) // coordinator epoch
    entry.writeBigInt64BE(0n, 38) // transaction start
    const body = Buffer.concat([Buffer.from([0, 0, 0, 1]), entry])
    const header = Buffer.alloc(6)
    header.writeInt16BE(1, 0)
    header.writeUInt32BE(crc32c(body), 2)
    const state = new ProducerState()
    assert.equal(state.loadSnapshot(Buffer.concat([header, body])), true)
    assert.deepEqual(state.activeProducers(), [{ producerId: 1, epoch: 2, lastSequence: 9,
      lastTimestamp: 1000, coordinatorEpoch: -1, currentTxnStartOffset: 0 }])
    assert.equal(state.checkMarker(1, 2, 0), undefined, 'no coordinator epoch fenced')
    assert.equal(state.check(1, 2, 0, 9).outcome, 'duplicate')
  })
})
