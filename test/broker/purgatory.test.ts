/**
 * The fetch purgatory on a manual clock: a waiter completes on progress of any of its keys, on
 * its timeout or on its connection's abort, once; past `waitersMax` a wait completes at once;
 * and completed waiters leave nothing behind: no keys, no timers, no abort listeners on the
 * connection's signal (which lives as long as the connection and sees every long poll).
 */
import assert from 'node:assert/strict'
import { getEventListeners } from 'node:events'
import { it } from 'node:test'
import { partitionKey, Purgatory } from '../../src/broker/delayed-operations.js'
import { ManualClock } from '../support/manual-clock.js'

const A = partitionKey('orders', 0)
const B = partitionKey('orders', 1)

it('wakes a waiter on progress of any of its keys, once', async () => {
  const clock = new ManualClock()
  const purgatory = new Purgatory(clock, 10)
  let woken = 0
  const waiting = purgatory.wait([A, B], 500).then(() => { woken++ })
  assert.equal(purgatory.notify(partitionKey('orders', 2)), 0)
  await Promise.resolve()
  assert.equal(woken, 0, 'progress of another partition does not wake it')
  // notify says how many it woke (the debug latency breakdown's consumer-woken stage).
  assert.equal(purgatory.notify(B), 1)
  assert.equal(purgatory.notify(A), 0)
  await waiting
  assert.equal(woken, 1)
  assert.equal(purgatory.waiterCount, 0)
  assert.equal(clock.pendingTimers, 0, 'its timer is cancelled')
})

it('completes a waiter at its timeout, and on abort', async () => {
  const clock = new ManualClock()
  const purgatory = new Purgatory(clock, 10)
  const timedOut = purgatory.wait([A], 500)
  clock.advance(499)
  assert.equal(purgatory.waiterCount, 1)
  clock.advance(1)
  await timedOut
  const abort = new AbortController()
  const aborted = purgatory.wait([A], 500, abort.signal)
  abort.abort()
  await aborted
  assert.equal(purgatory.waiterCount, 0)
  await purgatory.wait([A], 500, abort.signal) // already aborted: at once
})

it('leaves no abort listener behind on a long-lived connection signal', async () => {
  const clock = new ManualClock()
  const purgatory = new Purgatory(clock, 10)
  const connection = new AbortController()
  for (let i = 0; i < 1000; i++) {
    const waiting = purgatory.wait([A], 500, connection.signal)
    if (i % 2 === 0) purgatory.notify(A)
    else clock.advance(500)
    await waiting
  }
  assert.equal(getEventListeners(connection.signal, 'abort').length, 0)
  assert.equal(purgatory.waiterCount, 0)
})

it('degrades to a short poll past waitersMax instead of growing', async () => {
  const clock = new ManualClock()
  const purgatory = new Purgatory(clock, 2)
  const held = [purgatory.wait([A], 500), purgatory.wait([A], 500)]
  let third = false
  await purgatory.wait([A], 500).then(() => { third = true })
  assert.equal(third, true)
  assert.equal(purgatory.waiterCount, 2)
  purgatory.completeAll()
  await Promise.all(held)
  assert.equal(purgatory.waiterCount, 0)
})
