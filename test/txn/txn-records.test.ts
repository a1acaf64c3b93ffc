/**
 * `__transaction_state` records (src/txn/txn-records.ts): a value round-trips, a tombstone is
 * null, and bytes this broker did not write decode to undefined, which stops a load
 * (TxnLoadError) rather than losing a transaction.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { TransactionCoordinator, TxnLoadError } from '../../src/txn/txn-coordinator.js'
import { decodeTxnRecord, encodeTxnRecord } from '../../src/txn/txn-records.js'
import type { TxnMetadata } from '../../src/txn/txn-state.js'
import { ManualClock } from '../support/manual-clock.js'

const VALUE: TxnMetadata = { producerId: 7, producerEpoch: 3, timeoutMs: 60_000,
  state: 'Ongoing', partitions: [{ topic: 'a', partition: 2 }],
  offsets: [{ groupId: 'g', topic: 'in', partition: 0, offset: 42, leaderEpoch: -1,
    metadata: null }], txnStartMs: 5, lastUpdateMs: 6 }

describe('transaction records', () => {
  it('round-trips a value and a tombstone', () => {
    const encoded = encodeTxnRecord('app', VALUE)
    assert.deepEqual(decodeTxnRecord(encoded.key, encoded.value),
      { transactionalId: 'app', value: VALUE })
    const tombstone = encodeTxnRecord('app', null)
    assert.deepEqual(decodeTxnRecord(tombstone.key, tombstone.value),
      { transactionalId: 'app', value: null })
  })

  it('refuses bytes it did not write, and a load stops on them', async () => {
    assert.equal(decodeTxnRecord(Buffer.from('garbage'), null), undefined)
    const key = encodeTxnRecord('app', null).key
    assert.equal(decodeTxnRecord(key, Buffer.from([0xc1])), undefined)
    const coordinator = new TransactionCoordinator({
      clock: new ManualClock(),
      limits: { maxTimeoutMs: 1, idExpirationMs: 1, partitionsMax: 1 },
      log: { partitionCount: 1, append: async () => undefined,
        async * replay () { yield { key, value: Buffer.from('x'), offset: 9 } } },
      markers: { send: async () => [] },
      nextProducerId: async () => 1,
      groupPartition: () => ({ topic: '__consumer_offsets', partition: 0 }),
    })
    await assert.rejects(coordinator.load(), (error: unknown) =>
      error instanceof TxnLoadError && /offset 9/.test(error.message))
  })
})
