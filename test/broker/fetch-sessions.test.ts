/**
 * Fetch sessions (KIP-227) as a broker with no free cache slot answers them: full fetches
 * (epoch 0 opens, -1 closes or goes without) are served, incremental ones (any other epoch)
 * name a session that does not exist; versions before 7 have no sessions at all.
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { fetchSessionError } from '../../src/broker/fetch-sessions.js'
import { ERROR, errorCodeOf } from '../../src/protocol/errors.js'

it('serves full fetches and refuses incremental ones with FETCH_SESSION_ID_NOT_FOUND', () => {
  const notFound = errorCodeOf('FETCH_SESSION_ID_NOT_FOUND')
  assert.equal(fetchSessionError(18, 0), ERROR.NONE)
  assert.equal(fetchSessionError(18, -1), ERROR.NONE)
  assert.equal(fetchSessionError(7, 1), notFound)
  assert.equal(fetchSessionError(12, 2147483647), notFound)
  assert.equal(fetchSessionError(6, 5), ERROR.NONE)
})
