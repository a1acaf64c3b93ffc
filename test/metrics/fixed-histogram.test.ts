/** FixedHistogram (hot-path buckets published at scrape) and the fsync kinds by file name. */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { FixedHistogram } from '../../src/metrics/fixed-histogram.js'
import { fsyncKindOf } from '../../src/storage/fsync-times.js'

it('counts each observation in the first bucket whose bound holds it, +Inf past the last', () => {
  const histogram = new FixedHistogram([0.001, 0.01])
  for (const seconds of [0, 0.001, 0.0011, 0.01, 5]) histogram.observe(seconds)
  assert.deepEqual([...histogram.counts], [2, 2, 1])
  assert.deepEqual(histogram.cumulative(), [2, 4, 5])
  assert.equal(histogram.count, 5)
  assert.ok(Math.abs(histogram.sum - 5.0121) < 1e-9)
})

it('refuses bounds that do not ascend', () => {
  assert.throws(() => new FixedHistogram([0.01, 0.001]), /ascend/)
})

it('names the kind of an fsynced file from its name', () => {
  assert.equal(fsyncKindOf('/d/t-0/00000000000000000000.log'), 'log')
  assert.equal(fsyncKindOf('/d/t-0/00000000000000000000.index'), 'index')
  assert.equal(fsyncKindOf('/d/t-0/00000000000000000000.timeindex'), 'index')
  assert.equal(fsyncKindOf('/d/t-0/00000000000000000042.snapshot'), 'snapshot')
  assert.equal(fsyncKindOf('/d/recovery-point-offset-checkpoint'), 'checkpoint')
  assert.equal(fsyncKindOf('/d/t-0/partition.metadata'), 'checkpoint')
})
