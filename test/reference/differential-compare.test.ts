/**
 * The comparison of the differential tests (differential-compare.ts), without a broker: which
 * paths two observations differ at, and how they are named.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { describeDifferences, differences } from './differential-compare.js'

describe('differential comparison', () => {
  it('finds nothing in equal observations, whatever the field order', () => {
    assert.deepEqual(differences('s', { a: 1, b: [1, { c: 'x' }] }, { b: [1, { c: 'x' }], a: 1 }),
      [])
  })

  it('names each differing leaf by scenario and path', () => {
    const found = differences('metadata', {
      topic: { isInternal: false, partitions: [{ leaderEpoch: 0 }, { leaderEpoch: 0 }] },
    }, {
      topic: { isInternal: true, partitions: [{ leaderEpoch: 0 }, { leaderEpoch: -1 }] },
    })
    assert.deepEqual(found.map(difference => difference.key),
      ['metadata:topic.isInternal', 'metadata:topic.partitions[1].leaderEpoch'])
    assert.equal(describeDifferences(found.slice(0, 1)),
      'metadata:topic.isInternal: kafka=false tributary=true')
  })

  it('takes arrays of different lengths, and fields only one side has, as one difference', () => {
    assert.deepEqual(differences('s', { list: [1, 2], only: 1 }, { list: [1] }), [
      { key: 's:list', kafka: [1, 2], tributary: [1] },
      { key: 's:only', kafka: 1, tributary: undefined },
    ])
    assert.deepEqual(differences('s', 'closed', { errorCode: 35 }),
      [{ key: 's:', kafka: 'closed', tributary: { errorCode: 35 } }])
  })
})
