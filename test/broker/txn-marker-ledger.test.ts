/**
 * The partition side's memory of transaction markers (src/broker/txn-marker-ledger.ts): a
 * marker counts against verification guards from before its append, per leadership term.
 * (Markers of deposed coordinators are fenced by producer state:
 * test/storage/producer-state.test.ts.)
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import type { Broker } from '../../src/broker/broker.js'
import { leaderTerm, TxnMarkerLedger } from '../../src/broker/txn-marker-ledger.js'
import { verifyTransaction } from '../../src/broker/txn-verification.js'
import { MetadataImage } from '../../src/metadata/image.js'
import type { PartitionRecord } from '../../src/metadata/records.js'
import { ERROR } from '../../src/protocol/errors.js'

it('counts markers from before their append, for verification guards', () => {
  const ledger = new TxnMarkerLedger()
  const before = ledger.markers('t/0', 7)
  ledger.markerStarting('t/0', 7)
  assert.notEqual(ledger.markers('t/0', 7), before)
  assert.equal(ledger.markers('t/1', 7), 0)
})

it('remembers a remote verification until the next marker for the producer there', () => {
  const ledger = new TxnMarkerLedger()
  assert.equal(ledger.stillVerified('t/0', 7, 2), false)
  ledger.rememberVerified('t/0', 7, 2, ledger.markers('t/0', 7))
  assert.equal(ledger.stillVerified('t/0', 7, 2), true)
  assert.equal(ledger.stillVerified('t/0', 7, 3), false, 'another epoch')
  assert.equal(ledger.stillVerified('t/1', 7, 2), false, 'another partition or term')
  ledger.markerStarting('t/0', 7)
  assert.equal(ledger.stillVerified('t/0', 7, 2), false, 'the transaction ended')
  // Verified while a marker was landing: stale from the start.
  const before = ledger.markers('t/0', 7)
  ledger.markerStarting('t/0', 7)
  ledger.rememberVerified('t/0', 7, 2, before)
  assert.equal(ledger.stillVerified('t/0', 7, 2), false)
})

function partition (leader: number, leaderEpoch: number): PartitionRecord {
  return { type: 'Partition', version: 0, topicId: 'T', partitionId: 0, replicas: [1, 2],
    isr: [1, 2], leader, leaderEpoch, partitionEpoch: leaderEpoch }
}

/**
 * Broker 1 leads t-0; broker 2 coordinates every transactional id. While broker 2 led t-0 it
 * wrote the marker that ended the verified transaction: broker 1 only replicated it, so its
 * ledger never counted it. Back as leader, broker 1 must ask the coordinator again rather
 * than take a late batch of the ended transaction on the old verification (a hanging
 * transaction); a guard taken before the leadership moved must not pass either.
 */
it('a verification does not outlive the leadership term it was made in', async () => {
  const image = new MetadataImage()
  image.replay({ type: 'Topic', version: 0, name: 't', topicId: 'T' })
  image.replay(partition(1, 0))
  image.replay({ type: 'Topic', version: 0, name: '__transaction_state', topicId: 'S' })
  image.replay({ type: 'Partition', version: 0, topicId: 'S', partitionId: 0, replicas: [2],
    isr: [2], leader: 2, leaderEpoch: 0, partitionEpoch: 0 })
  let asked = 0
  let answer: number = ERROR.NONE
  const broker = {
    image,
    settings: { nodeId: 1 },
    txnMarkers: new TxnMarkerLedger(),
    transactions: undefined,
    logger: { warn: () => undefined },
    brokerConnections: {
      send: async () => {
        asked++
        return { throttleTimeMs: 0, errorCode: ERROR.NONE, resultsByTransaction: [{
          transactionalId: 'tx', topicResults: [{ name: 't', resultsByPartition: [
            { partitionIndex: 0, partitionErrorCode: answer }] }] }] }
      },
    },
  } as unknown as Broker
  const tp = { topic: 't', partition: 0 }
  const first = await verifyTransaction(broker, 'tx', 5, 0, tp)
  assert.equal(first.errorCode, ERROR.NONE)
  assert.equal(asked, 1)
  const again = await verifyTransaction(broker, 'tx', 5, 0, tp)
  assert.equal(again.errorCode, ERROR.NONE)
  assert.equal(asked, 1, 'the same term: the verification is reused')

  image.replay(partition(2, 1)) // broker 2 leads and writes the marker
  assert.equal(first.guard(), ERROR.NOT_ENOUGH_REPLICAS, 'a guard from another term')
  image.replay(partition(1, 2)) // broker 1 leads again
  assert.notEqual(leaderTerm(image, 't', 0), undefined)
  answer = ERROR.INVALID_TXN_STATE // the transaction has ended
  const late = await verifyTransaction(broker, 'tx', 5, 0, tp)
  assert.equal(asked, 2, 'a new term asks the coordinator again')
  assert.equal(late.errorCode, ERROR.INVALID_TXN_STATE)
  assert.equal(first.guard(), ERROR.NOT_ENOUGH_REPLICAS, 'still another term')
})
