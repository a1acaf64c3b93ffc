/**
 * RecordBatch v2: codecs round-trip, interop with kafkajs's own encoder and decoder, and each
 * malformed-batch case rejected with its own error kind.
 */
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { decodeRecordBatch, splitBatches } from '../../src/records/batch.js'
import {
  CompressionCodec, stampBatch, writeBatchCrc, writeInt64,
} from '../../src/records/batch-header.js'
import { buildRecordBatch, buildRecordBatchSync } from '../../src/records/builder.js'
import { compress, decompress } from '../../src/records/compression.js'
import { RecordsError } from '../../src/records/errors.js'
import { validateProducedBatches } from '../../src/records/validate.js'

const require = createRequire(import.meta.url)
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js')
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js')
const decodeKafkajsBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js')
const KafkajsDecoder = require('kafkajs/src/protocol/decoder.js')
const { Types: KafkajsCompression } = require('kafkajs/src/protocol/message/compression/index.js')

const CODECS = [CompressionCodec.None, CompressionCodec.Gzip, CompressionCodec.Snappy,
  CompressionCodec.Lz4, CompressionCodec.Zstd]
const VALIDATION = { maxMessageBytes: 10 * 1024 * 1024, nowMs: Date.now() }

async function expectKind (promise: Promise<unknown>, kind: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof RecordsError, `expected RecordsError, got ${String(error)}`)
    assert.equal(error.kind, kind, error.message)
    return true
  })
}

describe('compression codecs', () => {
  const inputs = [Buffer.alloc(0), Buffer.from('hello'), Buffer.alloc(1 << 20, 'abc'),
    Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7919) % 251))]
  for (const codec of CODECS) {
    it(`round-trips codec ${codec}`, async () => {
      for (const input of inputs) {
        const output = await decompress(codec, await compress(codec, input), 4 << 20)
        assert.ok(output.equals(input))
      }
    })
  }

  it('reads raw snappy as librdkafka writes it, as well as the xerial framing', async () => {
    const { compressSync } = await import('snappy')
    const input = Buffer.from('raw snappy from librdkafka '.repeat(100))
    const raw = compressSync(input)
    assert.ok((await decompress(CompressionCodec.Snappy, raw, 1 << 20)).equals(input))
    const framed = await compress(CompressionCodec.Snappy, input)
    assert.equal(framed.subarray(0, 8).toString('hex'), '82534e4150505900')
  })

  it('refuses output beyond the limit (a zip bomb is corrupt)', async () => {
    const bomb = await compress(CompressionCodec.Gzip, Buffer.alloc(8 << 20))
    await expectKind(decompress(CompressionCodec.Gzip, bomb, 1 << 20), 'CORRUPT_MESSAGE')
  })

  it('rejects an unknown codec', async () => {
    await expectKind(compress(6, Buffer.from('x')), 'UNSUPPORTED_COMPRESSION_TYPE')
  })
})

describe('record batches', () => {
  it('builds batches that decode to the same records for every codec', async () => {
    for (const codec of CODECS) {
      const batch = await buildRecordBatch([
        { key: 'k1', value: 'v1', headers: { a: '1' }, timestamp: 1000 },
        { key: null, value: null, headers: [{ key: 'b', value: null }], timestamp: 1005 },
      ], { compression: codec, producerId: 7, producerEpoch: 1, baseSequence: 3 })
      const decoded = await decodeRecordBatch(batch)
      assert.equal(decoded.header.recordsCount, 2)
      assert.equal(decoded.header.producerId, 7)
      assert.equal(decoded.header.maxTimestamp, 1005)
      assert.equal(decoded.records[0]?.key?.toString(), 'k1')
      assert.equal(decoded.records[0]?.headers[0]?.value?.toString(), '1')
      assert.equal(decoded.records[1]?.value, null)
      assert.equal(decoded.records[1]?.offset, 1)
      assert.equal(decoded.records[1]?.timestamp, 1005)
      await validateProducedBatches(batch, VALIDATION)
    }
  })

  it('decodes a batch encoded by kafkajs, and kafkajs decodes ours', async () => {
    const records = [0, 1, 2].map(i => Record({
      offsetDelta: i, timestampDelta: i, key: Buffer.from(`key-${i}`),
      value: Buffer.from(`value-${i}`), headers: { h: `header-${i}` },
    }))
    const encoded = await RecordBatch({
      compression: KafkajsCompression.GZIP, firstTimestamp: 1_600_000_000_000,
      maxTimestamp: 1_600_000_000_002, lastOffsetDelta: 2, records,
    })
    const fromKafkajs: Buffer = encoded.buffer
    await validateProducedBatches(Buffer.from(fromKafkajs), VALIDATION)
    const decoded = await decodeRecordBatch(fromKafkajs)
    assert.deepEqual(decoded.records.map(r => [r.offset, r.key?.toString(), r.value?.toString(),
      r.headers[0]?.value?.toString(), r.timestamp]), [0, 1, 2].map(i =>
      [i, `key-${i}`, `value-${i}`, `header-${i}`, 1_600_000_000_000 + i]))

    const ours = await buildRecordBatch([{ key: 'a', value: 'b', headers: { x: 'y' } }],
      { compression: CompressionCodec.Gzip })
    stampBatch(ours, 0, 42, 0)
    const theirs = await decodeKafkajsBatch(new KafkajsDecoder(ours))
    assert.equal(theirs.records[0].key.toString(), 'a')
    assert.equal(theirs.records[0].value.toString(), 'b')
    assert.equal(theirs.records[0].headers.x.toString(), 'y')
    assert.equal(theirs.records[0].offset, '42')
  })

  it('splits back-to-back batches and leaves out a partial trailing one', () => {
    const one = buildRecordBatchSync([{ value: 'a' }])
    const two = buildRecordBatchSync([{ value: 'bb' }, { value: 'cc' }])
    const joined = Buffer.concat([one, two, two.subarray(0, 20)])
    assert.deepEqual(splitBatches(joined), [
      { position: 0, size: one.length }, { position: one.length, size: two.length }])
  })
})

describe('validation of produced batches', () => {
  const valid = (): Buffer => buildRecordBatchSync([{ value: 'one' }, { value: 'two' }],
    { timestampMs: Date.now() })

  it('rejects a CRC mismatch', async () => {
    const batch = valid()
    batch.writeUInt8((batch[batch.length - 1] as number) ^ 0xff, batch.length - 1)
    await expectKind(validateProducedBatches(batch, VALIDATION), 'CORRUPT_MESSAGE')
  })

  it('rejects a truncated batch', async () => {
    await expectKind(validateProducedBatches(valid().subarray(0, 70), VALIDATION),
      'CORRUPT_MESSAGE')
    await expectKind(validateProducedBatches(valid().subarray(0, 30), VALIDATION),
      'CORRUPT_MESSAGE')
  })

  it('rejects a wrong magic', async () => {
    const batch = valid()
    batch.writeInt8(1, 16)
    await expectKind(validateProducedBatches(batch, VALIDATION), 'UNSUPPORTED_FOR_MESSAGE_FORMAT')
  })

  it('rejects negative and absurd lengths', async () => {
    const negative = valid()
    negative.writeInt32BE(-5, 8)
    await expectKind(validateProducedBatches(negative, VALIDATION), 'CORRUPT_MESSAGE')
    const absurd = valid()
    absurd.writeInt32BE(0x7ffffff0, 8)
    await expectKind(validateProducedBatches(absurd, VALIDATION), 'CORRUPT_MESSAGE')
  })

  it('rejects a record count that does not match, and a lastOffsetDelta that does not', async () => {
    const count = valid()
    count.writeInt32BE(3, 57)
    count.writeInt32BE(2, 23)
    writeBatchCrc(count, 0, count.length)
    await expectKind(validateProducedBatches(count, VALIDATION), 'INVALID_RECORD')
    const delta = valid()
    delta.writeInt32BE(5, 23)
    writeBatchCrc(delta, 0, delta.length)
    await expectKind(validateProducedBatches(delta, VALIDATION), 'INVALID_RECORD')
  })

  it('checks each record\'s timestamp as the per-record rule says, whatever the deltas', async () => {
    // The rule, record by record: not above the batch's maxTimestamp (unless -1); with
    // message.timestamp.difference.max.ms, not below -1 and within that many ms of now.
    // validate.ts checks deltas against bounds computed once; this is the plain statement.
    const now = 1_700_000_000_000
    const expected = (timestamps: number[], maxTimestamp: number, differenceMax?: number) =>
      timestamps.findIndex(t => (t > maxTimestamp && maxTimestamp !== -1) ||
        (differenceMax !== undefined && (t < -1 || Math.abs(t - now) > differenceMax)))
    await fc.assert(fc.asyncProperty(
      fc.array(fc.integer({ min: -5000, max: 5000 }), { minLength: 1, maxLength: 20 }),
      fc.constantFrom(now - 3000, now, 2000, 0),
      fc.integer({ min: -3000, max: 3000 }),
      fc.option(fc.integer({ min: 0, max: 4000 }), { nil: undefined }),
      async (deltas, base, maxShift, differenceMax) => {
        const timestamps = deltas.map(delta => base + delta)
        const batch = buildRecordBatchSync(timestamps.map(timestamp => ({ value: 'v', timestamp })))
        // A batch maximum that some records may exceed, or -1 (no maximum).
        const maxTimestamp = maxShift === 3000 ? -1 : Math.max(...timestamps) + maxShift
        writeInt64(batch, 35, maxTimestamp)
        writeBatchCrc(batch, 0, batch.length)
        const failing = expected(timestamps, maxTimestamp, differenceMax)
        const options = { ...VALIDATION, nowMs: now,
          ...differenceMax === undefined ? {} : { messageTimestampDifferenceMaxMs: differenceMax } }
        // The batch's own maximum is checked first: only a valid one reaches the records.
        const batchFails = maxTimestamp < -1 ||
          (differenceMax !== undefined && Math.abs(maxTimestamp - now) > differenceMax)
        const outcome = await validateProducedBatches(batch, options).then(() => -1,
          (error: unknown) => {
            assert.ok(error instanceof RecordsError && error.kind === 'INVALID_TIMESTAMP',
              String(error))
            return error.recordIndex ?? 'batch'
          })
        assert.equal(outcome, batchFails ? 'batch' : failing)
      }), { numRuns: 400 })
  })

  it('rejects timestamps out of range', async () => {
    const old = buildRecordBatchSync([{ value: 'x', timestamp: 1000 }])
    await expectKind(validateProducedBatches(old, { ...VALIDATION,
      messageTimestampDifferenceMaxMs: 3_600_000 }), 'INVALID_TIMESTAMP')
    const negative = valid()
    writeInt64(negative, 35, -7)
    writeBatchCrc(negative, 0, negative.length)
    await expectKind(validateProducedBatches(negative, VALIDATION), 'INVALID_TIMESTAMP')
  })

  it('rejects a control batch from a client', async () => {
    const batch = valid()
    batch.writeInt16BE(0x20, 21)
    writeBatchCrc(batch, 0, batch.length)
    await expectKind(validateProducedBatches(batch, VALIDATION), 'INVALID_RECORD')
  })

  it('rejects an unknown codec', async () => {
    const batch = valid()
    batch.writeInt16BE(6, 21)
    writeBatchCrc(batch, 0, batch.length)
    await expectKind(validateProducedBatches(batch, VALIDATION), 'UNSUPPORTED_COMPRESSION_TYPE')
  })

  it('rejects a batch above max.message.bytes and two batches in one request', async () => {
    await expectKind(validateProducedBatches(valid(), { ...VALIDATION, maxMessageBytes: 50 }),
      'MESSAGE_TOO_LARGE')
    await expectKind(validateProducedBatches(Buffer.concat([valid(), valid()]), VALIDATION),
      'INVALID_RECORD')
  })

  it('never throws anything but RecordsError on random or mutated input', async () => {
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 100000)
    const base = await buildRecordBatch([{ key: 'k', value: 'value', headers: { h: 'v' } }],
      { compression: CompressionCodec.Lz4 })
    await fc.assert(fc.asyncProperty(
      fc.oneof(fc.uint8Array({ maxLength: 300 }),
        fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })).map(([at, v]) => {
          const copy = Buffer.from(base)
          copy[at] = v
          return copy
        })),
      async bytes => {
        for (const run of [() => validateProducedBatches(Buffer.from(bytes), VALIDATION),
          () => decodeRecordBatch(Buffer.from(bytes))]) {
          try {
            await run()
          } catch (error) {
            if (!(error instanceof RecordsError)) {
              throw new Error(`seed ${seed}: ${String(error)}`)
            }
          }
        }
      }), { seed, numRuns: 1000 })
  })
})
