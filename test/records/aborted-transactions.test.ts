/**
 * withoutAbortedBatches (what read_committed HTTP reads use, as Kafka's consumer filters a
 * fetch): with two producers interleaved, only the batches of the aborted transaction go, from
 * its first offset to its ABORT marker; the same producer's next transaction stays; control
 * batches never come out; and the end offset covers batches that were all dropped.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { withoutAbortedBatches } from '../../src/records/aborted-transactions.js'
import { iterateRecords } from '../../src/records/batch.js'
import { stampBatch } from '../../src/records/batch-header.js'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import { buildControlBatch } from '../../src/records/control-batch.js'

let nextOffset = 0
const sequences = new Map<number, number>()

function data (producerId: number, value: string, transactional = true): Buffer {
  const sequence = sequences.get(producerId) ?? 0
  sequences.set(producerId, sequence + 1)
  const batch = buildRecordBatchSync([{ value }], { producerId, producerEpoch: 0,
    baseSequence: sequence, transactional })
  stampBatch(batch, 0, nextOffset++, 0)
  return batch
}

function marker (producerId: number, commit: boolean): Buffer {
  const batch = buildControlBatch({ producerId, producerEpoch: 0, commit, coordinatorEpoch: 0,
    timestampMs: 0 })
  stampBatch(batch, 0, nextOffset++, 0)
  return batch
}

async function values (buffer: Buffer): Promise<string[]> {
  const found: string[] = []
  for await (const record of iterateRecords(buffer, { includeControl: true })) {
    found.push(record.value?.length === 6 ? 'MARKER' : record.value?.toString() ?? '')
  }
  return found
}

describe('withoutAbortedBatches', () => {
  it('drops the aborted transaction only, and every marker', async () => {
    nextOffset = 0
    const log = Buffer.concat([
      data(1, 'p1-committed'), // 0
      data(2, 'p2-aborted-a'), // 1: producer 2's aborted transaction starts here
      marker(1, true), // 2
      data(3, 'plain', false), // 3
      data(2, 'p2-aborted-b'), // 4
      marker(2, false), // 5
      data(2, 'p2-committed'), // 6: the same producer's next transaction
      marker(2, true), // 7
    ])
    const aborted = [{ producerId: 2, firstOffset: 1 }]
    const committed = withoutAbortedBatches(log, aborted)
    assert.deepEqual(await values(committed.records), ['p1-committed', 'plain', 'p2-committed'])
    assert.equal(committed.endOffset, 8)
    const uncommitted = withoutAbortedBatches(log, [])
    assert.deepEqual(await values(uncommitted.records), ['p1-committed', 'p2-aborted-a',
      'plain', 'p2-aborted-b', 'p2-committed'], 'read_uncommitted: markers only go')
    const onlyDropped = withoutAbortedBatches(log.subarray(0, 0), aborted)
    assert.equal(onlyDropped.endOffset, undefined)
    const tail = Buffer.concat([marker(2, true)])
    assert.deepEqual(await values(withoutAbortedBatches(tail, []).records), [])
    assert.equal(withoutAbortedBatches(tail, []).endOffset, nextOffset,
      'a read of markers alone still moves the position past them')
  })

  it('hands back the read itself when nothing is dropped, up to its last whole batch', () => {
    const read = Buffer.concat([data(7, 'a', false), data(7, 'b', false)])
    const partial = Buffer.concat([read, data(7, 'c', false).subarray(0, 20)])
    const { records, endOffset } = withoutAbortedBatches(partial, [])
    assert.ok(records.equals(read), 'the whole batches, unchanged')
    assert.ok(records.buffer === partial.buffer && records.byteOffset === partial.byteOffset,
      'a view of the read, not a copy')
    assert.equal(endOffset, nextOffset - 1)
  })
})
