/**
 * iterateRecords: lazy decoding within record, byte and offset limits, the same bound on
 * decompression as every other path, and batches below the start offset never inflated.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodeRecordBatch, iterateRecords, type Record } from '../../src/records/batch.js'
import {
  BATCH_HEADER_BYTES, CompressionCodec, stampBatch, writeBatchCrc,
} from '../../src/records/batch-header.js'
import { buildRecordBatch } from '../../src/records/builder.js'
import { RecordsError } from '../../src/records/errors.js'

async function collect (records: AsyncGenerator<Record>): Promise<Record[]> {
  const all: Record[] = []
  for await (const record of records) all.push(record)
  return all
}

/** Three batches of ten records, offsets 0..29, values 1 KiB each. */
async function threeBatches (compression: CompressionCodec): Promise<Buffer> {
  const batches = await Promise.all([0, 10, 20].map(async base => {
    const batch = await buildRecordBatch(Array.from({ length: 10 }, (_, i) => ({
      key: `k${base + i}`, value: Buffer.alloc(1024, base + i),
    })), { compression, timestampMs: 1000 + base })
    stampBatch(batch, 0, base, 0)
    return batch
  }))
  return Buffer.concat(batches)
}

describe('iterateRecords', () => {
  for (const codec of [CompressionCodec.None, CompressionCodec.Zstd]) {
    it(`stops at maxRecords, maxBytes and skips below fromOffset (codec ${codec})`,
      async () => {
        const buffer = await threeBatches(codec)
        const all = await collect(iterateRecords(buffer))
        assert.deepEqual(all.map(r => r.offset), Array.from({ length: 30 }, (_, i) => i))
        const some = await collect(iterateRecords(buffer, { fromOffset: 15, maxRecords: 7 }))
        assert.deepEqual(some.map(r => r.offset), [15, 16, 17, 18, 19, 20, 21])
        const bounded = await collect(iterateRecords(buffer, { maxBytes: 3 * 1024 + 100 }))
        assert.equal(bounded.length, 3, 'each record is a little over 1 KiB')
        const first = await collect(iterateRecords(buffer, { fromOffset: 29, maxBytes: 1 }))
        assert.deepEqual(first.map(r => r.offset), [29], 'the first record always comes')
        assert.deepEqual(await collect(iterateRecords(buffer, { maxRecords: 0 })), [])
      })
  }

  it('decodes nothing past the limit: a damaged record after it is never reached', async () => {
    const buffer = await threeBatches(CompressionCodec.None)
    // Corrupt the last batch's records section (its CRC is not checked on reads).
    buffer.fill(0xff, buffer.length - 100)
    const records = await collect(iterateRecords(buffer, { maxRecords: 5 }))
    assert.equal(records.length, 5)
    await assert.rejects(collect(iterateRecords(buffer)), { kind: 'CORRUPT_MESSAGE' })
  })

  it('never inflates a batch wholly below fromOffset, and bounds the ones it inflates',
    async () => {
      // A zstd "batch" at offsets 0..9 whose body claims 4 GiB, then a good one at 10..19.
      const good = await buildRecordBatch(
        Array.from({ length: 10 }, (_, i) => ({ value: `v${i}` })),
        { compression: CompressionCodec.Zstd })
      stampBatch(good, 0, 10, 0)
      const body = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0xc0, 0x38, 0, 0, 0, 0, 1, 0, 0, 0,
        0x09, 0, 0x10, 0x61])
      const bomb = Buffer.concat([good.subarray(0, BATCH_HEADER_BYTES), body])
      bomb.writeInt32BE(bomb.length - 12, 8)
      stampBatch(bomb, 0, 0, 0)
      writeBatchCrc(bomb, 0, bomb.length)
      const buffer = Buffer.concat([bomb, good])
      const after = await collect(iterateRecords(buffer, { fromOffset: 10 }))
      assert.deepEqual(after.map(r => r.value?.toString()), Array.from({ length: 10 },
        (_, i) => `v${i}`))
      await assert.rejects(collect(iterateRecords(buffer)), (error: unknown) =>
        error instanceof RecordsError && error.kind === 'CORRUPT_MESSAGE' &&
        /declares 4294967296/.test(error.message))
      await assert.rejects(decodeRecordBatch(bomb), { kind: 'CORRUPT_MESSAGE' })
    })

  it('stops at the end of the body when a header claims more records than it holds',
    async () => {
      const batch = await buildRecordBatch([{ value: 'only one' }])
      batch.writeInt32BE(0x7fffffff, 57)
      await assert.rejects(collect(iterateRecords(batch)), { kind: 'CORRUPT_MESSAGE' })
      const first = await collect(iterateRecords(batch, { maxRecords: 1 }))
      assert.equal(first[0]?.value?.toString(), 'only one')
    })
})
