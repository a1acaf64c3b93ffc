/** The byte-for-byte replica comparison of the replication fault run (replica-files.ts). */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { firstDifference, type StoredBatch } from './replica-files.js'

const batch = (baseOffset: number, lastOffset: number, fill = baseOffset): StoredBatch =>
  ({ baseOffset, lastOffset, bytes: Buffer.alloc(8, fill) })

const leader = [batch(0, 4), batch(5, 9), batch(10, 14)]

it('finds replicas with the same batches identical', () => {
  assert.equal(firstDifference(leader, [...leader], 0), undefined)
  assert.equal(firstDifference([], [], 0), undefined)
})

it('reports a replica missing its first batches, a missing tail, an extra or a changed batch',
  () => {
    assert.match(firstDifference(leader, leader.slice(1), 0) ?? '', /batch at offset 5/)
    assert.match(firstDifference(leader, leader.slice(0, 2), 0) ?? '', /ends at batch 2/)
    assert.match(firstDifference(leader, [], 0) ?? '', /no batches/)
    assert.match(firstDifference(leader.slice(0, 2), leader, 0) ?? '', /extra batch at offset 10/)
    assert.match(firstDifference(leader, [batch(0, 4), batch(5, 9, 99), batch(10, 14)], 0) ?? '',
      /batch at offset 5 .* differs/)
  })

it('ignores batches wholly below the log start offset', () => {
  // A replica that started its log at the leader's log start offset (truncateFullyAndStartAt).
  assert.equal(firstDifference(leader, leader.slice(1), 5), undefined)
  assert.equal(firstDifference(leader, leader.slice(1), 7), undefined)
  assert.match(firstDifference(leader, leader.slice(2), 7) ?? '', /batch at offset 10/)
})
