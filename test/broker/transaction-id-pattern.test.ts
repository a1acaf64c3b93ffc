/**
 * ListTransactions' transactional-id pattern (KIP-1152) comes from a client: it must match as
 * Java's Matcher.matches does, and no pattern may hold the event loop (RE2: linear time).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { idMatcher } from '../../src/broker/handlers/transaction-admin.js'

describe('ListTransactions id pattern', () => {
  it('matches whole ids, and treats null or empty as "every id"', () => {
    const matcher = idMatcher('tx-[0-9]+')
    assert.ok(matcher !== undefined)
    assert.equal(matcher('tx-12'), true)
    assert.equal(matcher('tx-12a'), false, 'the whole id must match')
    assert.equal(idMatcher(null)?.('anything'), true)
    assert.equal(idMatcher('')?.('anything'), true)
    assert.equal(idMatcher('(unclosed'), undefined, 'a pattern that does not compile')
  })

  it('answers a pattern that backtracks catastrophically in linear time', () => {
    // (a+)+b against 40 a's and a '!' takes a backtracking engine about 2^40 steps.
    const matcher = idMatcher('(a+)+b')
    assert.ok(matcher !== undefined)
    // With a backtracking engine this call would not return in any useful time.
    assert.equal(matcher('a'.repeat(40) + '!'), false)
  })
})
