/**
 * The partition side's memory of transaction markers (src/broker/txn-marker-ledger.ts): on
 * `__consumer_offsets`, a marker from an older coordinator epoch than one already written for
 * the producer is fenced, per partition and producer; a marker counts against verification
 * guards from before its append.
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { TxnMarkerLedger } from '../../src/broker/txn-marker-ledger.js'
import { ERROR } from '../../src/protocol/errors.js'

it('fences offsets markers of a deposed coordinator per partition and producer', () => {
  // Data partitions fence in their producer state (test/storage/producer-state.test.ts).
  const ledger = new TxnMarkerLedger()
  assert.equal(ledger.checkOffsetsMarker(0, 7, -1), ERROR.NONE, 'nothing known: any epoch')
  ledger.markerStarting('__consumer_offsets', 0, 7)
  ledger.recordOffsetsMarker(0, 7, 4)
  assert.equal(ledger.checkOffsetsMarker(0, 7, 3), ERROR.TRANSACTION_COORDINATOR_FENCED)
  assert.equal(ledger.checkOffsetsMarker(0, 7, 4), ERROR.NONE, 'the same coordinator again')
  assert.equal(ledger.checkOffsetsMarker(0, 7, 5), ERROR.NONE, 'a newer coordinator')
  assert.equal(ledger.checkOffsetsMarker(1, 7, 0), ERROR.NONE, 'another partition')
  assert.equal(ledger.checkOffsetsMarker(0, 8, 0), ERROR.NONE, 'another producer')
  ledger.recordOffsetsMarker(0, 7, 2)
  assert.equal(ledger.checkOffsetsMarker(0, 7, 3), ERROR.TRANSACTION_COORDINATOR_FENCED,
    'never goes back')
})

it('counts markers from before their append, for verification guards', () => {
  const ledger = new TxnMarkerLedger()
  const before = ledger.markers('t', 0, 7)
  ledger.markerStarting('t', 0, 7)
  assert.notEqual(ledger.markers('t', 0, 7), before)
  assert.equal(ledger.markers('t', 1, 7), 0)
})

it('remembers a remote verification until the next marker for the producer there', () => {
  const ledger = new TxnMarkerLedger()
  assert.equal(ledger.stillVerified('t', 0, 7, 2), false)
  ledger.rememberVerified('t', 0, 7, 2, ledger.markers('t', 0, 7))
  assert.equal(ledger.stillVerified('t', 0, 7, 2), true)
  assert.equal(ledger.stillVerified('t', 0, 7, 3), false, 'another epoch')
  assert.equal(ledger.stillVerified('t', 1, 7, 2), false, 'another partition')
  ledger.markerStarting('t', 0, 7)
  assert.equal(ledger.stillVerified('t', 0, 7, 2), false, 'the transaction ended')
  // Verified while a marker was landing: stale from the start.
  const before = ledger.markers('t', 0, 7)
  ledger.markerStarting('t', 0, 7)
  ledger.rememberVerified('t', 0, 7, 2, before)
  assert.equal(ledger.stillVerified('t', 0, 7, 2), false)
})
