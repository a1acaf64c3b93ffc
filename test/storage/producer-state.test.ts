/**
 * ProducerState is pure: these tests need no files and no timers.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
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
})
