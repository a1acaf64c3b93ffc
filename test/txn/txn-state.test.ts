/**
 * The transaction state machine (src/txn/txn-state.ts) step by step: every transition is
 * answered only after its record is durable, markers follow a durable Prepare record, an
 * InitProducerId bumps the epoch and fences the previous instance, and timeouts abort.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ERROR } from '../../src/protocol/errors.js'
import {
  TransactionState, type TxnEffect, type TxnEvent, type TxnLimits,
} from '../../src/txn/txn-state.js'

const LIMITS: TxnLimits = { maxTimeoutMs: 900_000, idExpirationMs: 604_800_000,
  partitionsMax: 1000 }
const tp = (partition: number) => ({ topic: 'orders', partition })

function kinds (effects: TxnEffect[]): string[] {
  return effects.filter(e => e.type !== 'timer').map(e => e.type)
}

function respond (effects: TxnEffect[]) {
  const effect = effects.find(e => e.type === 'respond')
  assert.ok(effect !== undefined && effect.type === 'respond', 'a response')
  return effect.response
}

/** Steps an event and, if it wrote, reports the write durable; returns all effects. */
function durably (txn: TransactionState, event: TxnEvent, nowMs = 0): TxnEffect[] {
  const first = txn.step(event, nowMs)
  if (!first.some(e => e.type === 'append')) return first
  return [...first, ...txn.step({ type: 'written', ok: true }, nowMs)]
}

describe('TransactionState', () => {
  it('answers InitProducerId only after its record is durable, with epoch 0 then bumped', () => {
    const txn = new TransactionState('t1', LIMITS)
    const first = txn.step({ type: 'init', requestId: 1, timeoutMs: 60_000, freshProducerId: 7 },
      0)
    assert.deepEqual(kinds(first), ['append'])
    assert.deepEqual(respond(txn.step({ type: 'written', ok: true }, 0)),
      { errorCode: ERROR.NONE, producerId: 7, producerEpoch: 0 })
    const again = durably(txn, { type: 'init', requestId: 2, timeoutMs: 60_000,
      freshProducerId: null })
    assert.deepEqual(respond(again), { errorCode: ERROR.NONE, producerId: 7, producerEpoch: 1 })
  })

  it('refuses a timeout above transaction.max.timeout.ms', () => {
    const txn = new TransactionState('t1', LIMITS)
    const effects = txn.step({ type: 'init', requestId: 1, timeoutMs: 900_001,
      freshProducerId: 1 }, 0)
    assert.equal(respond(effects).errorCode, ERROR.INVALID_TRANSACTION_TIMEOUT)
  })

  it('fences the old epoch and aborts the transaction it left open', () => {
    const txn = new TransactionState('t1', LIMITS)
    durably(txn, { type: 'init', requestId: 1, timeoutMs: 60_000, freshProducerId: 7 })
    durably(txn, { type: 'add-partitions', requestId: 2, producerId: 7, producerEpoch: 0,
      partitions: [tp(0), tp(1)] })
    assert.ok(txn.verifies(7, 0, tp(1)))
    assert.ok(!txn.verifies(7, 0, tp(2)), 'a partition not added is not verified (KIP-890)')
    const init = durably(txn, { type: 'init', requestId: 3, timeoutMs: 60_000,
      freshProducerId: null })
    assert.equal(respond(init).errorCode, ERROR.CONCURRENT_TRANSACTIONS)
    const markers = init.find(e => e.type === 'markers')
    assert.ok(markers !== undefined && markers.type === 'markers')
    assert.equal(markers.commit, false)
    assert.equal(markers.producerEpoch, 1, 'the abort markers carry the bumped epoch')
    assert.equal(txn.state, 'PrepareAbort')
    const zombie = txn.step({ type: 'end', requestId: 4, producerId: 7, producerEpoch: 0,
      commit: true }, 0)
    assert.equal(respond(zombie).errorCode, ERROR.PRODUCER_FENCED)
    durably(txn, { type: 'markers-written', producerEpoch: 1 })
    assert.equal(txn.state, 'CompleteAbort')
    const retried = durably(txn, { type: 'init', requestId: 5, timeoutMs: 60_000,
      freshProducerId: null })
    assert.deepEqual(respond(retried), { errorCode: ERROR.NONE, producerId: 7, producerEpoch: 2 })
  })

  it('asks for commit markers only once PrepareCommit is durable, then completes', () => {
    const txn = new TransactionState('t1', LIMITS)
    durably(txn, { type: 'init', requestId: 1, timeoutMs: 60_000, freshProducerId: 7 })
    durably(txn, { type: 'add-partitions', requestId: 2, producerId: 7, producerEpoch: 0,
      partitions: [tp(0)] })
    const end = txn.step({ type: 'end', requestId: 3, producerId: 7, producerEpoch: 0,
      commit: true }, 5)
    assert.deepEqual(kinds(end), ['append'], 'no marker and no answer before the write')
    assert.equal(respond(txn.step({ type: 'end', requestId: 4, producerId: 7, producerEpoch: 0,
      commit: true }, 5)).errorCode, ERROR.CONCURRENT_TRANSACTIONS)
    const written = txn.step({ type: 'written', ok: true }, 5)
    assert.deepEqual(kinds(written), ['respond', 'markers'])
    durably(txn, { type: 'markers-written', producerEpoch: 0 })
    assert.equal(txn.state, 'CompleteCommit')
    assert.equal(respond(txn.step({ type: 'end', requestId: 5, producerId: 7, producerEpoch: 0,
      commit: true }, 6)).errorCode, ERROR.NONE, 'a retried EndTxn gets the same answer')
  })

  it('keeps the state when a write fails, answering COORDINATOR_NOT_AVAILABLE', () => {
    const txn = new TransactionState('t1', LIMITS)
    durably(txn, { type: 'init', requestId: 1, timeoutMs: 60_000, freshProducerId: 7 })
    txn.step({ type: 'add-partitions', requestId: 2, producerId: 7, producerEpoch: 0,
      partitions: [tp(0)] }, 0)
    const failed = txn.step({ type: 'written', ok: false }, 0)
    assert.equal(respond(failed).errorCode, ERROR.COORDINATOR_NOT_AVAILABLE)
    assert.equal(txn.state, 'Empty')
    assert.ok(!txn.verifies(7, 0, tp(0)))
  })

  it('aborts a transaction past transaction.timeout.ms with a bumped epoch', () => {
    const txn = new TransactionState('t1', LIMITS)
    durably(txn, { type: 'init', requestId: 1, timeoutMs: 1_000, freshProducerId: 7 })
    const added = durably(txn, { type: 'add-partitions', requestId: 2, producerId: 7,
      producerEpoch: 0, partitions: [tp(0)] }, 100)
    assert.deepEqual(added.at(-1), { type: 'timer', deadlineMs: 1_100 })
    assert.deepEqual(kinds(txn.step({ type: 'tick' }, 1_099)), [])
    const timedOut = durably(txn, { type: 'tick' }, 1_100)
    assert.equal(txn.state, 'PrepareAbort')
    assert.equal(txn.metadata?.producerEpoch, 1)
    assert.ok(timedOut.some(e => e.type === 'markers'))
    const late = txn.step({ type: 'end', requestId: 3, producerId: 7, producerEpoch: 0,
      commit: true }, 1_200)
    assert.equal(respond(late).errorCode, ERROR.PRODUCER_FENCED)
  })

  it('forgets an idle id after transactional.id.expiration.ms with a tombstone', () => {
    const txn = new TransactionState('t1', { ...LIMITS, idExpirationMs: 1_000 })
    durably(txn, { type: 'init', requestId: 1, timeoutMs: 500, freshProducerId: 7 }, 0)
    const effects = txn.step({ type: 'tick' }, 1_000)
    assert.deepEqual(effects[0], { type: 'append', value: null })
    txn.step({ type: 'written', ok: true }, 1_000)
    assert.equal(txn.metadata, null)
    assert.ok(txn.needsFreshProducerId())
  })
})
