/**
 * The partition side's memory of transaction markers (src/broker/txn-marker-ledger.ts): a
 * marker counts against verification guards from before its append. (Markers of deposed
 * coordinators are fenced by producer state: test/storage/producer-state.test.ts.)
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { TxnMarkerLedger } from '../../src/broker/txn-marker-ledger.js'

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
