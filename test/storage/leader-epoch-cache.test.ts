/**
 * The leader epoch cache, pure: the cases of Kafka's LeaderEpochFileCacheTest (assign,
 * endOffsetFor, truncateFromEnd, truncateFromStart), the checkpoint text format, and a seeded
 * run against a model log (the epoch of every offset): EPOCH_SEED=<n> replays one seed.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { seededRandom } from '../support/seeded-random.js'
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

/**
 * A log as the epoch of each offset from `start`, driven like a replica's: leader appends with
 * an epoch at least the newest present, follower truncations, log start moves and restarts.
 * After every step the cache must name each offset's epoch, stay strictly increasing, and
 * answer endOffsetFor as the records say.
 */
function simulateEpochs (seed: number, steps = 400): void {
  const random = seededRandom(seed)
  const pick = (n: number): number => Math.floor(random() * n)
  const cache = new LeaderEpochCache()
  let start = 0
  let epochs: number[] = [] // epochs[i] is the epoch of offset start + i
  let nextEpoch = 0
  const end = (): number => start + epochs.length
  const check = (step: number, what: string): void => {
    const where = `seed ${seed} step ${step} (${what})`
    const entries = cache.entries
    for (let i = 1; i < entries.length; i++) {
      const [a, b] = [entries[i - 1], entries[i]] as [{ epoch: number, startOffset: number },
        { epoch: number, startOffset: number }]
      assert.ok(a.epoch < b.epoch && a.startOffset < b.startOffset, `${where}: not increasing`)
    }
    epochs.forEach((epoch, i) => {
      assert.equal(cache.epochForOffset(start + i), epoch, `${where}: offset ${start + i}`)
    })
    if (epochs.length === 0) return
    for (let epoch = Math.max(0, (epochs[0] as number) - 1); epoch <= nextEpoch; epoch++) {
      const latest = epochs[epochs.length - 1] as number
      const after = epochs.findIndex(e => e > epoch)
      const below = epochs.filter(e => e <= epoch)
      const expected = epoch === latest
        ? { leaderEpoch: epoch, endOffset: end() }
        : after < 0
          ? { leaderEpoch: -1, endOffset: -1 }
          : { leaderEpoch: below.length === 0 ? epoch : Math.max(...below),
              endOffset: start + after }
      assert.deepEqual(cache.endOffsetFor(epoch, end()), expected, `${where}: epoch ${epoch}`)
    }
  }
  for (let step = 0; step < steps; step++) {
    const roll = random()
    let what: string
    if (roll < 0.55) {
      // A leader appends a batch; sometimes a new leader (a newer epoch) first.
      if (random() < 0.3) nextEpoch += 1 + pick(3)
      const epoch = Math.max(nextEpoch, ...epochs.slice(-1))
      cache.assign(epoch, end())
      const records = 1 + pick(4)
      for (let i = 0; i < records; i++) epochs.push(epoch)
      what = `append ${records} at epoch ${epoch}`
    } else if (roll < 0.75) {
      const offset = start + pick(epochs.length + 1)
      epochs = epochs.slice(0, offset - start)
      cache.truncateFromEnd(offset)
      what = `truncate to ${offset}`
    } else if (roll < 0.95) {
      const offset = start + pick(epochs.length + 1)
      if (offset < end()) {
        epochs = epochs.slice(offset - start)
        start = offset
        cache.truncateFromStart(offset)
      }
      what = `log start to ${offset}`
    } else {
      start = end() + pick(10)
      epochs = []
      cache.clear()
      what = `restart at ${start}`
    }
    check(step, what)
  }
}

describe('LeaderEpochCache against a model log', () => {
  it('names every offset\'s epoch and answers endOffsetFor for fixed and random seeds', () => {
    if (process.env.EPOCH_SEED !== undefined) return simulateEpochs(Number(process.env.EPOCH_SEED))
    for (const seed of [1, 2, 3, 42, 1234, 99_999]) simulateEpochs(seed)
    const base = Math.floor(Math.random() * 1_000_000)
    console.log(`epoch cache simulation: seeds ${base}..${base + 19} (EPOCH_SEED replays one)`)
    for (let seed = base; seed < base + 20; seed++) simulateEpochs(seed)
  })
})
