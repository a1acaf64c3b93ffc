/**
 * The leader epoch cache, pure: the cases of Kafka's LeaderEpochFileCacheTest (assign,
 * endOffsetFor, truncateFromEnd, truncateFromStart), and the checkpoint text format.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  LeaderEpochCache, formatEpochCheckpoint, parseEpochCheckpoint,
} from '../../src/storage/leader-epoch-cache.js'

const UNDEFINED = { leaderEpoch: -1, endOffset: -1 }

function cacheOf (...entries: [number, number][]): LeaderEpochCache {
  const cache = new LeaderEpochCache()
  for (const [epoch, startOffset] of entries) cache.assign(epoch, startOffset)
  return cache
}

function entries (cache: LeaderEpochCache): [number, number][] {
  return cache.entries.map(entry => [entry.epoch, entry.startOffset])
}

describe('LeaderEpochCache.assign', () => {
  it('adds an epoch and answers the log end for the latest one', () => {
    const cache = cacheOf([2, 10])
    assert.equal(cache.latestEpoch, 2)
    assert.deepEqual(entries(cache), [[2, 10]])
    assert.deepEqual(cache.endOffsetFor(2, 11), { leaderEpoch: 2, endOffset: 11 })
  })

  it('never moves an assigned epoch\'s start to a later offset', () => {
    const cache = cacheOf([2, 9])
    assert.equal(cache.assign(2, 10), false)
    assert.deepEqual(entries(cache), [[2, 9]])
  })

  it('replaces the last entry when a new epoch starts at the same offset', () => {
    assert.deepEqual(entries(cacheOf([2, 9], [3, 9])), [[3, 9]])
  })

  it('drops later entries when an older epoch comes back (monotonic epochs)', () => {
    const cache = cacheOf([1, 5], [2, 6], [1, 7])
    assert.equal(cache.latestEpoch, 1)
    assert.deepEqual(cache.endOffsetFor(1, 8), { leaderEpoch: 1, endOffset: 8 })
    assert.deepEqual(cache.endOffsetFor(2, 8), UNDEFINED)
    assert.deepEqual(entries(cache), [[1, 7]])
  })

  it('drops an entry whose start is past a newer epoch\'s (monotonic offsets)', () => {
    assert.deepEqual(entries(cacheOf([2, 6], [3, 5])), [[3, 5]])
  })

  it('truncates when the matching epoch starts earlier', () => {
    const cache = cacheOf([5, 11], [6, 12], [7, 13], [7, 12])
    assert.deepEqual(cache.endOffsetFor(5, 0), { leaderEpoch: 5, endOffset: 12 })
    assert.deepEqual(cache.endOffsetFor(6, 0), { leaderEpoch: 5, endOffset: 12 })
  })

  it('ignores a batch without an epoch', () => {
    const cache = cacheOf([-1, 0])
    assert.equal(cache.size, 0)
    assert.equal(cache.latestEpoch, -1)
  })
})

describe('LeaderEpochCache.endOffsetFor', () => {
  it('answers undefined for an undefined epoch or an empty cache', () => {
    assert.deepEqual(cacheOf([2, 11], [3, 12]).endOffsetFor(-1, 0), UNDEFINED)
    assert.deepEqual(new LeaderEpochCache().endOffsetFor(0, 0), UNDEFINED)
    assert.deepEqual(new LeaderEpochCache().endOffsetFor(-1, 73), UNDEFINED)
  })

  it('answers the requested epoch and the first start when it predates every entry', () => {
    assert.deepEqual(cacheOf([5, 11], [6, 12], [7, 13]).endOffsetFor(4, 0),
      { leaderEpoch: 4, endOffset: 11 })
  })

  it('answers the start of the next epoch for an earlier one', () => {
    const cache = cacheOf([1, 11], [1, 12], [2, 13], [2, 14], [3, 15], [3, 16])
    assert.deepEqual(cache.endOffsetFor(2, 17), { leaderEpoch: 2, endOffset: 15 })
  })

  it('answers the largest epoch below a missing one, and the next start', () => {
    const cache = cacheOf([0, 10], [2, 13], [4, 17])
    assert.deepEqual(cache.endOffsetFor(1, 0), { leaderEpoch: 0, endOffset: 13 })
    assert.deepEqual(cache.endOffsetFor(2, 0), { leaderEpoch: 2, endOffset: 17 })
    assert.deepEqual(cache.endOffsetFor(3, 0), { leaderEpoch: 2, endOffset: 17 })
  })

  it('answers undefined for an epoch newer than any known', () => {
    assert.deepEqual(cacheOf([2, 100]).endOffsetFor(3, 100), UNDEFINED)
  })

  it('tracks epochs as leaders change many times', () => {
    const cache = cacheOf([0, 0], [1, 3], [2, 6])
    assert.deepEqual(cache.endOffsetFor(2, 8), { leaderEpoch: 2, endOffset: 8 })
    assert.deepEqual(cache.endOffsetFor(0, 8), { leaderEpoch: 0, endOffset: 3 })
    assert.deepEqual(cache.endOffsetFor(1, 8), { leaderEpoch: 1, endOffset: 6 })
  })

  it('answers the next epoch\'s start for an epoch that wrote nothing', () => {
    const cache = cacheOf([0, 0], [1, 0])
    assert.deepEqual(entries(cache), [[1, 0]], 'the same start replaces')
    assert.deepEqual(cache.endOffsetFor(0, 5), { leaderEpoch: 0, endOffset: 0 })
    assert.deepEqual(cache.endOffsetFor(1, 5), { leaderEpoch: 1, endOffset: 5 })
  })
})

describe('LeaderEpochCache truncation', () => {
  const base = (): LeaderEpochCache => cacheOf([2, 6], [3, 8], [4, 11])

  it('truncateFromEnd drops the entries starting at or after the end', () => {
    const cache = base()
    assert.equal(cache.truncateFromEnd(9), true)
    assert.deepEqual(entries(cache), [[2, 6], [3, 8]])
    assert.equal(cache.latestEpoch, 3)
    assert.equal(cache.truncateFromEnd(11), false)
    assert.equal(cache.truncateFromEnd(6), true)
    assert.equal(cache.size, 0)
  })

  it('truncateFromEnd past the last start changes nothing', () => {
    const cache = base()
    assert.equal(cache.truncateFromEnd(12), false)
    assert.deepEqual(entries(cache), [[2, 6], [3, 8], [4, 11]])
  })

  it('truncateFromStart at an entry\'s start keeps it', () => {
    const cache = base()
    assert.equal(cache.truncateFromStart(8), true)
    assert.deepEqual(entries(cache), [[3, 8], [4, 11]])
  })

  it('truncateFromStart between entries moves the first one kept up', () => {
    const cache = base()
    cache.truncateFromStart(9)
    assert.deepEqual(entries(cache), [[3, 9], [4, 11]])
  })

  it('truncateFromStart before the first entry changes nothing', () => {
    const cache = base()
    assert.equal(cache.truncateFromStart(5), false)
    assert.equal(cache.truncateFromStart(6), false)
    assert.deepEqual(entries(cache), [[2, 6], [3, 8], [4, 11]])
  })

  it('truncateFromStart past the last entry keeps the latest epoch at the new start', () => {
    const cache = base()
    cache.truncateFromStart(15)
    assert.deepEqual(entries(cache), [[4, 15]])
  })

  it('clear empties the cache', () => {
    const cache = base()
    assert.equal(cache.clear(), true)
    assert.equal(cache.latestEpoch, -1)
    assert.deepEqual(cache.endOffsetFor(7, 0), UNDEFINED)
  })
})

describe('leader-epoch-checkpoint format', () => {
  it('round-trips Kafka\'s text format', () => {
    const text = formatEpochCheckpoint([{ epoch: 0, startOffset: 0 },
      { epoch: 3, startOffset: 120 }])
    assert.equal(text, '0\n2\n0 0\n3 120\n')
    assert.deepEqual(parseEpochCheckpoint(text), [{ epoch: 0, startOffset: 0 },
      { epoch: 3, startOffset: 120 }])
    assert.deepEqual(parseEpochCheckpoint('0\n0\n'), [])
  })

  it('rejects anything else', () => {
    for (const text of ['', '1\n0\n', '0\n2\n0 0\n', '0\n1\n0 0\n1 5\n', '0\n1\n0\n',
      '0\n1\n-1 0\n', '0\n2\n3 10\n2 20\n', '0\n2\n2 10\n3 10\n', '0\n1\n0 0 0\n',
      '0\nx\n', '0\n1\n0 99999999999999999999\n']) {
      assert.equal(parseEpochCheckpoint(text), undefined, JSON.stringify(text))
    }
  })
})
