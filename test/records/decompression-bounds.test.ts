/**
 * Decompression bombs, one per codec: each is CORRUPT_MESSAGE, and the peak RSS of this process
 * does not grow by anything near what the bomb claims or inflates to (the bounded decoders
 * check declared sizes first and stop at the limit). Then the same through a real broker: a
 * produced bomb is answered CORRUPT_MESSAGE and the broker keeps serving.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import zlib from 'node:zlib'
import { compress as lz4Block } from 'lz4-napi'
import { KafkaClient } from '../../src/client/client.js'
import {
  BATCH_HEADER_BYTES, CompressionCodec, writeBatchCrc,
} from '../../src/records/batch-header.js'
import { buildRecordBatch, buildRecordBatchSync } from '../../src/records/builder.js'
import { compress, decompress } from '../../src/records/compression.js'
import { RecordsError } from '../../src/records/errors.js'
import { validateProducedBatches } from '../../src/records/validate.js'
import { xxhash32 } from '../../src/records/xxhash32.js'
import { removeDataDir, startBroker, type BrokerProcess } from '../support/broker-process.js'

const MiB = 1024 * 1024
/** The limit the unit cases run with; the bombs inflate to 512 MiB or claim 1-4 GiB. */
const LIMIT = MiB
/** Peak RSS growth tolerated per case: far below any bomb, far above the 1 MiB limit. */
const RSS_GROWTH_MAX = 48 * MiB

function peakRss (): number {
  return process.resourceUsage().maxRSS * 1024
}

async function expectCorruptWithFlatMemory (codec: CompressionCodec, bomb: Buffer,
  message?: RegExp): Promise<void> {
  const before = peakRss()
  await assert.rejects(decompress(codec, bomb, LIMIT), (error: unknown) => {
    assert.ok(error instanceof RecordsError, String(error))
    assert.equal(error.kind, 'CORRUPT_MESSAGE')
    if (message !== undefined) assert.match(error.message, message)
    return true
  })
  const growth = peakRss() - before
  assert.ok(growth < RSS_GROWTH_MAX, `peak RSS grew by ${(growth / MiB).toFixed(1)} MiB`)
}

/** zstd frame header: magic, FHD, window descriptor (128 KiB window), optional 8-byte FCS. */
function zstdHeader (declaredBytes: number | undefined): Buffer {
  const magic = Buffer.from([0x28, 0xb5, 0x2f, 0xfd])
  if (declaredBytes === undefined) return Buffer.concat([magic, Buffer.from([0x00, 0x38])])
  const size = Buffer.alloc(8)
  size.writeBigUInt64LE(BigInt(declaredBytes))
  return Buffer.concat([magic, Buffer.from([0xc0, 0x38]), size])
}

/** `count` RLE blocks of 128 KiB each: 4 bytes of input per 128 KiB of output. */
function zstdRleBlocks (count: number): Buffer {
  const blocks = Buffer.alloc(count * 4)
  for (let i = 0; i < count; i++) {
    const last = i === count - 1 ? 1 : 0
    blocks.writeUIntLE((128 * 1024) << 3 | 1 << 1 | last, i * 4, 3)
    blocks[i * 4 + 3] = 0x61
  }
  return blocks
}

/** An LZ4 frame header (independent blocks, 4 MiB block maximum), maybe with a content size. */
function lz4Header (declaredBytes?: number, flags = 0x60, blockMax = 0x70): Buffer {
  const size = Buffer.alloc(8)
  size.writeBigUInt64LE(BigInt(declaredBytes ?? 0))
  const descriptor = declaredBytes === undefined
    ? Buffer.from([flags, blockMax])
    : Buffer.concat([Buffer.from([flags | 0x08, blockMax]), size])
  const checksum = (xxhash32(descriptor) >>> 8) & 0xff
  return Buffer.concat([Buffer.from([0x04, 0x22, 0x4d, 0x18]), descriptor,
    Buffer.from([checksum])])
}

const SNAPPY_CLAIMS_1_GIB = Buffer.concat([Buffer.from([0x80, 0x80, 0x80, 0x80, 0x04]),
  Buffer.alloc(64, 0x11)])

describe('decompression bounds', () => {
  it('zstd: a frame declaring 4 GiB is refused before anything is allocated', async () => {
    const bomb = Buffer.concat([zstdHeader(4 * 1024 * MiB), zstdRleBlocks(1)])
    await expectCorruptWithFlatMemory(CompressionCodec.Zstd, bomb, /declares 4294967296/)
  })

  it('zstd: a frame without a declared size stops at the limit (512 MiB of RLE)', async () => {
    const bomb = Buffer.concat([zstdHeader(undefined), zstdRleBlocks(4096)])
    await expectCorruptWithFlatMemory(CompressionCodec.Zstd, bomb, /inflate past/)
  })

  it('zstd: a frame that declares less than it holds stops at the limit', async () => {
    const bomb = Buffer.concat([zstdHeader(100), zstdRleBlocks(4096)])
    await expectCorruptWithFlatMemory(CompressionCodec.Zstd, bomb)
  })

  it('snappy: a raw block claiming 1 GiB is refused from its varint length', async () => {
    await expectCorruptWithFlatMemory(CompressionCodec.Snappy, SNAPPY_CLAIMS_1_GIB,
      /declares 1073741824/)
  })

  it('snappy: a xerial block claiming 1 GiB is refused the same way', async () => {
    const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00,
      0, 0, 0, 1, 0, 0, 0, 1])
    const length = Buffer.alloc(4)
    length.writeInt32BE(SNAPPY_CLAIMS_1_GIB.length)
    await expectCorruptWithFlatMemory(CompressionCodec.Snappy,
      Buffer.concat([header, length, SNAPPY_CLAIMS_1_GIB]), /declares 1073741824/)
  })

  it('snappy: xerial blocks that are each small but add up past the limit', async () => {
    const { compressSync } = await import('snappy')
    const block = compressSync(Buffer.alloc(32 * 1024))
    const length = Buffer.alloc(4)
    length.writeInt32BE(block.length)
    const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00,
      0, 0, 0, 1, 0, 0, 0, 1])
    const blocks = Array.from({ length: 64 }, () => [length, block]).flat()
    const bomb = Buffer.concat([header, ...blocks])
    await expectCorruptWithFlatMemory(CompressionCodec.Snappy, bomb, /more than/)
  })

  it('gzip: 512 gzip members of 1 MiB of zeros stop at the limit', async () => {
    const member = zlib.gzipSync(Buffer.alloc(MiB))
    const bomb = Buffer.concat(Array.from({ length: 512 }, () => member))
    await expectCorruptWithFlatMemory(CompressionCodec.Gzip, bomb)
  })

  it('lz4: a frame declaring 4 GiB is refused from its header', async () => {
    const bomb = Buffer.concat([lz4Header(4 * 1024 * MiB), Buffer.alloc(4)])
    await expectCorruptWithFlatMemory(CompressionCodec.Lz4, bomb, /declares 4294967296/)
  })

  it('lz4: skips a skippable frame and decodes the frame after it', async () => {
    const frame = await compress(CompressionCodec.Lz4, Buffer.from('after the skippable frame'))
    const skippable = Buffer.alloc(8 + 5)
    skippable.writeUInt32LE(0x184d2a53, 0)
    skippable.writeUInt32LE(5, 4)
    const output = await decompress(CompressionCodec.Lz4, Buffer.concat([skippable, frame]), LIMIT)
    assert.equal(output.toString(), 'after the skippable frame')
  })

  it('lz4: refuses a frame whose header checksum does not match', async () => {
    const frame = Buffer.concat([lz4Header(), Buffer.alloc(4)])
    frame[6] = (frame[6] as number) ^ 0xff
    await expectCorruptWithFlatMemory(CompressionCodec.Lz4, frame, /checksum/)
  })

  it('lz4: 128 blocks of 4 MiB of zeros stop at the limit', async () => {
    const block = (await lz4Block(Buffer.alloc(4 * MiB))).subarray(4)
    const size = Buffer.alloc(4)
    size.writeUInt32LE(block.length)
    const bomb = Buffer.concat([lz4Header(),
      ...Array.from({ length: 128 }, () => [size, block]).flat(), Buffer.alloc(4)])
    await expectCorruptWithFlatMemory(CompressionCodec.Lz4, bomb)
  })

  it('lz4: decodes linked blocks with the previous output as their dictionary', async () => {
    const first = Buffer.from('a fairly repetitive line of text for lz4. '.repeat(40))
    const second = Buffer.from('a fairly repetitive line of text for lz4. '.repeat(50))
    const blocks = [(await lz4Block(first)).subarray(4),
      (await lz4Block(second, first)).subarray(4)]
    const sized = blocks.flatMap(block => {
      const size = Buffer.alloc(4)
      size.writeUInt32LE(block.length)
      return [size, block]
    })
    // FLG 0x40: version 1, linked blocks; BD 0x40: 64 KiB blocks.
    const frame = Buffer.concat([lz4Header(undefined, 0x40, 0x40), ...sized, Buffer.alloc(4)])
    const output = await decompress(CompressionCodec.Lz4, frame, LIMIT)
    assert.ok(output.equals(Buffer.concat([first, second])))
  })

  it('inflates at most two batches at once: 16 concurrent bombs cost about two', async () => {
    // Before, every partition of a produce request inflated at once: 16 gzip bombs at a 16 MiB
    // limit built 16 × 16 MiB in parallel on the thread pool.
    const member = zlib.gzipSync(Buffer.alloc(MiB))
    const bomb = Buffer.concat(Array.from({ length: 64 }, () => member))
    const before = peakRss()
    const results = await Promise.allSettled(Array.from({ length: 16 }, () =>
      decompress(CompressionCodec.Gzip, bomb, 16 * MiB)))
    assert.ok(results.every(result => result.status === 'rejected' &&
      (result.reason as RecordsError).kind === 'CORRUPT_MESSAGE'))
    const growth = peakRss() - before
    assert.ok(growth < 100 * MiB, `peak RSS grew by ${(growth / MiB).toFixed(1)} MiB`)
  })

  it('refuses a produced zstd batch whose frame declares 4 GiB, at the default limit',
    async () => {
      const body = Buffer.concat([zstdHeader(4 * 1024 * MiB), zstdRleBlocks(1)])
      const batch = bombBatch(body, CompressionCodec.Zstd)
      await assert.rejects(validateProducedBatches(batch,
        { maxMessageBytes: MiB, nowMs: Date.now() }), { kind: 'CORRUPT_MESSAGE' })
    })
})

/** A valid batch header (one record) around a compressed body of our choosing. */
function bombBatch (body: Buffer, codec: CompressionCodec): Buffer {
  const template = buildRecordBatchSync([{ value: 'x' }], { timestampMs: Date.now() })
  const batch = Buffer.concat([template.subarray(0, BATCH_HEADER_BYTES), body])
  batch.writeInt32BE(batch.length - 12, 8)
  batch.writeInt16BE(codec, 21)
  writeBatchCrc(batch, 0, batch.length)
  return batch
}

describe('decompression bombs against a real broker', () => {
  let broker: BrokerProcess
  let client: KafkaClient
  before(async () => {
    broker = await startBroker()
    client = new KafkaClient({ bootstrap: broker.bootstrap })
    await client.createTopic('bombs', { partitions: 1 })
  })
  after(async () => {
    await client.close()
    await broker.stop()
    await removeDataDir(broker.dataDir)
  })

  it('answers CORRUPT_MESSAGE for each codec\'s bomb and keeps serving', async () => {
    const lz4Zeros = (await lz4Block(Buffer.alloc(4 * MiB))).subarray(4)
    const lz4Size = Buffer.alloc(4)
    lz4Size.writeUInt32LE(lz4Zeros.length)
    const gzipMember = zlib.gzipSync(Buffer.alloc(MiB))
    const bombs: [CompressionCodec, Buffer][] = [
      [CompressionCodec.Zstd, Buffer.concat([zstdHeader(4 * 1024 * MiB), zstdRleBlocks(1)])],
      [CompressionCodec.Zstd, Buffer.concat([zstdHeader(undefined), zstdRleBlocks(4096)])],
      [CompressionCodec.Snappy, SNAPPY_CLAIMS_1_GIB],
      [CompressionCodec.Gzip, Buffer.concat(Array.from({ length: 200 }, () => gzipMember))],
      [CompressionCodec.Lz4, Buffer.concat([lz4Header(),
        ...Array.from({ length: 40 }, () => [lz4Size, lz4Zeros]).flat(), Buffer.alloc(4)])],
    ]
    for (const [codec, body] of bombs) {
      await assert.rejects(client.produce('bombs', 0, bombBatch(body, codec)),
        { errorName: 'CORRUPT_MESSAGE' }, `codec ${codec}`)
    }
    const good = await buildRecordBatch([{ value: 'still here' }],
      { compression: CompressionCodec.Zstd })
    assert.equal((await client.produce('bombs', 0, good)).baseOffset, 0)
  })
})
