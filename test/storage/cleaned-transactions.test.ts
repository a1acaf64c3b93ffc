/**
 * CleanedTransactions (Kafka's CleanedTransactionMetadata), one cleaner pass at a time, in
 * offset order: which data batches are aborted, which markers may go as far as the data is
 * concerned, and which `.txnindex` entries the cleaned group keeps (Kafka's cleanedIndex).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CleanedTransactions } from '../../src/storage/cleaned-transactions.js'
import { CONTROL_TYPE_ABORT, CONTROL_TYPE_COMMIT } from '../../src/records/control-batch.js'
import type { AbortedTxn } from '../../src/storage/txn-index.js'

const ABORTED_7: AbortedTxn = {
  producerId: 7, firstOffset: 10, lastOffset: 20, lastStableOffset: 21,
}
const ABORTED_8: AbortedTxn = {
  producerId: 8, firstOffset: 12, lastOffset: 30, lastStableOffset: 31,
}

describe('CleanedTransactions', () => {
  it('keeps an ABORT marker, and its index entry, in the pass that removes its records',
    () => {
      const txns = new CleanedTransactions([ABORTED_7])
      assert.equal(txns.isAborted(7, true, 10), true, 'the aborted batch goes')
      const fate = txns.endTransaction(7, 20, CONTROL_TYPE_ABORT)
      assert.deepEqual(fate, { removable: false, entry: ABORTED_7 })
      txns.keepMarker(fate)
      assert.deepEqual(txns.takeCleanedIndex(), [ABORTED_7])
      assert.deepEqual(txns.takeCleanedIndex(), [], 'one group at a time')
    })

  it('lets an ABORT marker go once no batch of its transaction is left, and its entry with it',
    () => {
      const txns = new CleanedTransactions([ABORTED_7])
      // Only other producers' data between the first offset and the marker.
      assert.equal(txns.isAborted(9, true, 11), false)
      assert.equal(txns.isAborted(7, false, 12), false,
      'a non-transactional batch is not aborted')
      const fate = txns.endTransaction(7, 20, CONTROL_TYPE_ABORT)
      assert.deepEqual(fate, { removable: true, entry: ABORTED_7 })
      assert.deepEqual(txns.takeCleanedIndex(), [], 'a removed marker takes its entry along')
    })

  it('keeps the entry of a removable marker that stays anyway (a group\'s last batch)', () => {
    const txns = new CleanedTransactions([ABORTED_7])
    const fate = txns.endTransaction(7, 20, CONTROL_TYPE_ABORT)
    assert.equal(fate.removable, true)
    txns.keepMarker(fate)
    assert.deepEqual(txns.takeCleanedIndex(), [ABORTED_7])
  })

  it('tracks interleaved transactions of several producers', () => {
    const txns = new CleanedTransactions([ABORTED_8, ABORTED_7])
    assert.equal(txns.isAborted(7, true, 10), true)
    assert.equal(txns.isAborted(9, true, 11), false, 'a committed transaction in between')
    txns.keptRecords(9)
    assert.equal(txns.isAborted(8, true, 13), true, 'producer 8\'s abort began at 12')
    const commit9 = txns.endTransaction(9, 15, CONTROL_TYPE_COMMIT)
    assert.deepEqual(commit9, { removable: false, entry: undefined }, 'its data stays')
    const abort7 = txns.endTransaction(7, 20, CONTROL_TYPE_ABORT)
    assert.equal(abort7.removable, false)
    txns.keepMarker(abort7)
    const abort8 = txns.endTransaction(8, 30, CONTROL_TYPE_ABORT)
    txns.keepMarker(abort8)
    assert.deepEqual(txns.takeCleanedIndex().map(entry => entry.producerId), [7, 8])
    // After its marker, producer 7's next transaction is not aborted.
    assert.equal(txns.isAborted(7, true, 40), false)
  })

  it('lets a COMMIT marker go only when no batch of its transaction stayed', () => {
    const txns = new CleanedTransactions([])
    assert.deepEqual(txns.endTransaction(5, 3, CONTROL_TYPE_COMMIT),
      { removable: true, entry: undefined })
    txns.keptRecords(5)
    assert.deepEqual(txns.endTransaction(5, 6, CONTROL_TYPE_COMMIT),
      { removable: false, entry: undefined })
  })

  it('lets an ABORT marker without an index entry go (nothing of it was ever aborted here)',
    () => {
      const txns = new CleanedTransactions([])
      assert.deepEqual(txns.endTransaction(5, 3, CONTROL_TYPE_ABORT),
        { removable: true, entry: undefined })
    })

  it('never removes a marker of an unknown type', () => {
    const txns = new CleanedTransactions([ABORTED_7])
    assert.deepEqual(txns.endTransaction(7, 20, undefined), { removable: false, entry: undefined })
  })

  it('lists the markers a group removed, one group at a time', () => {
    const txns = new CleanedTransactions([])
    txns.removeMarker(5, 3)
    txns.removeMarker(6, 4)
    assert.deepEqual(txns.takeRemovedMarkers(),
      [{ producerId: 5, offset: 3 }, { producerId: 6, offset: 4 }])
    assert.deepEqual(txns.takeRemovedMarkers(), [])
  })
})
