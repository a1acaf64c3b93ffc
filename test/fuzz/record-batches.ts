/**
 * Record sets for the fuzzer's `records` fields: valid RecordBatch v2 in every codec, and
 * hostile ones that keep a correct CRC (so they get past the CRC check to the code behind it):
 *
 * - compression bombs: a small body that inflates to far more than any limit (gzip, lz4, zstd
 *   of 100 MiB of zeros; a zstd frame of RLE blocks that really holds 1 or 4 GiB);
 * - lying sizes: frames whose headers claim far more than they hold (a zstd frame declaring
 *   4 GiB, a raw snappy block claiming ~4 GiB, a xerial block of that, an lz4 frame whose
 *   content size says 4 GiB), so a decoder that trusts the header allocates it;
 * - corrupt headers: batchLength, records count, magic, codec bits, flags and record varints
 *   set to boundary values, with the CRC recomputed afterwards.
 *
 * Bombs are built once per run (they take a moment) and cached; everything else is drawn from
 * the Prng, so a seed gives the same bytes except for record timestamps.
 */
import zlib from 'node:zlib'
import {
  ATTRIBUTES_OFFSET, BATCH_HEADER_BYTES, BATCH_LENGTH_OFFSET, CompressionCodec,
  LAST_OFFSET_DELTA_OFFSET, MAGIC_OFFSET, PRODUCER_ID_OFFSET, RECORDS_COUNT_OFFSET,
  writeBatchCrc, writeInt64,
} from '../../src/records/batch-header.js'
import { buildRecordBatch, type RecordInput } from '../../src/records/builder.js'
import { compress } from '../../src/records/compression.js'
import type { Prng } from './prng.js'

const CODECS = [CompressionCodec.None, CompressionCodec.Gzip, CompressionCodec.Snappy,
  CompressionCodec.Lz4, CompressionCodec.Zstd]
const BOMB_BYTES = 100 * 1024 * 1024
const CLAIMED_BYTES = 0xffff_fff0

export type RecordSetKind = 'valid' | 'bomb' | 'lying-size' | 'corrupt-header' | 'garbage'

export interface RecordSet {
  bytes: Buffer
  /** For the failure report: what this record set is. */
  description: string
}

export function randomRecords (prng: Prng, baseTimestamp: number, count: number): RecordInput[] {
  const records: RecordInput[] = []
  for (let i = 0; i < count; i++) {
    records.push({
      key: prng.chance(0.3) ? null : prng.bytes(prng.int(0, 16)),
      value: prng.chance(0.1) ? null : prng.bytes(prng.int(0, 200)),
      headers: prng.chance(0.3)
        ? [{ key: `h${prng.int(0, 9)}`, value: prng.chance(0.5) ? null : prng.bytes(4) }]
        : [],
      timestamp: baseTimestamp + prng.int(0, 1000),
    })
  }
  return records
}

export class RecordSetFactory {
  readonly #baseTimestamp: number
  readonly #bombs = new Map<number, Buffer>()

  /** `baseTimestamp` anchors record timestamps near now, so retention does not drop them. */
  constructor (baseTimestamp: number) {
    this.#baseTimestamp = baseTimestamp
  }

  async make (prng: Prng, kind: RecordSetKind): Promise<RecordSet> {
    switch (kind) {
      case 'valid': return this.#valid(prng)
      case 'bomb': return this.#bomb(prng)
      case 'lying-size': return this.#lyingSize(prng)
      case 'corrupt-header': return this.#corruptHeader(prng)
      case 'garbage': {
        const length = prng.pick([0, 1, 11, 60, 61, 62, 200])
        return { bytes: prng.bytes(length), description: `${length} random bytes` }
      }
    }
  }

  async #valid (prng: Prng): Promise<RecordSet> {
    const codec = prng.pick(CODECS)
    const batches: Buffer[] = []
    const count = prng.chance(0.8) ? 1 : prng.int(2, 3)
    for (let i = 0; i < count; i++) {
      const records = randomRecords(prng, this.#baseTimestamp, prng.int(1, 5))
      batches.push(await buildRecordBatch(records, { compression: codec }))
    }
    return { bytes: Buffer.concat(batches), description: `${count} valid batch(es), codec ${codec}` }
  }

  async #bomb (prng: Prng): Promise<RecordSet> {
    const codec = prng.pick([CompressionCodec.Gzip, CompressionCodec.Lz4, CompressionCodec.Zstd,
      CompressionCodec.Zstd])
    if (codec === CompressionCodec.Zstd && prng.chance(0.5)) {
      const total = prng.pick([1024 * 1024 * 1024, 4 * 1024 * 1024 * 1024 - 16])
      const body = zstdRleBomb(total)
      return {
        bytes: wrapBody(body, codec, 1, this.#baseTimestamp),
        description: `zstd frame of ${body.length} bytes that truly inflates to ${total}`,
      }
    }
    let body = this.#bombs.get(codec)
    if (body === undefined) {
      body = await compress(codec, Buffer.alloc(BOMB_BYTES))
      this.#bombs.set(codec, body)
    }
    const recordsCount = prng.pick([1, 1000, 0x7fffffff])
    return {
      bytes: wrapBody(body, codec, recordsCount, this.#baseTimestamp),
      description: `codec ${codec} bomb of ${BOMB_BYTES} bytes in ${body.length}, ` +
        `${recordsCount} records claimed`,
    }
  }

  #lyingSize (prng: Prng): RecordSet {
    const codec = prng.pick([CompressionCodec.Gzip, CompressionCodec.Snappy,
      CompressionCodec.Snappy, CompressionCodec.Lz4, CompressionCodec.Zstd])
    const payload = prng.bytes(prng.int(1, 64))
    const body = lyingFrame(codec, payload, prng)
    return {
      bytes: wrapBody(body, codec, prng.pick([1, 0x7fffffff]), this.#baseTimestamp),
      description: `codec ${codec} frame claiming ${CLAIMED_BYTES} bytes, holding ` +
        `${payload.length}`,
    }
  }

  async #corruptHeader (prng: Prng): Promise<RecordSet> {
    const { bytes } = await this.#valid(prng)
    const batch = Buffer.from(bytes)
    const field = prng.pick(['batchLength', 'recordsCount', 'magic', 'attributes',
      'lastOffsetDelta', 'producerId', 'recordVarint', 'truncate'] as const)
    const boundary = prng.pick([0, -1, 1, 0x7fffffff, -0x80000000])
    switch (field) {
      case 'batchLength': batch.writeInt32BE(boundary, BATCH_LENGTH_OFFSET); break
      case 'recordsCount': batch.writeInt32BE(boundary, RECORDS_COUNT_OFFSET); break
      case 'magic': batch.writeInt8(prng.pick([0, 1, 3, -1]), MAGIC_OFFSET); break
      case 'attributes': batch.writeInt16BE(prng.pick([5, 6, 7, 0x20, 0x30, 0x7f, -1]),
        ATTRIBUTES_OFFSET); break
      case 'lastOffsetDelta': batch.writeInt32BE(boundary, LAST_OFFSET_DELTA_OFFSET); break
      case 'producerId': writeInt64(batch, PRODUCER_ID_OFFSET, prng.pick([0, 1, -2])); break
      case 'recordVarint':
        if (batch.length > BATCH_HEADER_BYTES) {
          batch.fill(0xff, BATCH_HEADER_BYTES, Math.min(batch.length, BATCH_HEADER_BYTES + 5))
        }
        break
      case 'truncate': break
    }
    // Recompute the CRC (over the real bytes) so the corruption reaches the checks behind it;
    // a wrong magic keeps a stale CRC, the other way a broker sees a broken batch.
    if (field !== 'magic') writeBatchCrc(batch, 0, batch.length)
    const cut = field === 'truncate' ? prng.int(0, batch.length - 1) : batch.length
    return { bytes: batch.subarray(0, cut), description: `valid batch with ${field} corrupted` }
  }
}

/** A batch header around an already-compressed body, with a correct CRC. */
function wrapBody (body: Buffer, codec: number, recordsCount: number,
  baseTimestamp: number): Buffer {
  const batch = Buffer.alloc(BATCH_HEADER_BYTES + body.length)
  batch.writeInt32BE(batch.length - 12, BATCH_LENGTH_OFFSET)
  batch.writeInt32BE(-1, 12)
  batch.writeInt8(2, MAGIC_OFFSET)
  batch.writeInt16BE(codec, ATTRIBUTES_OFFSET)
  batch.writeInt32BE(0, LAST_OFFSET_DELTA_OFFSET)
  writeInt64(batch, 27, baseTimestamp)
  writeInt64(batch, 35, baseTimestamp)
  writeInt64(batch, PRODUCER_ID_OFFSET, -1)
  batch.writeInt16BE(-1, 51)
  batch.writeInt32BE(-1, 53)
  batch.writeInt32BE(recordsCount, RECORDS_COUNT_OFFSET)
  body.copy(batch, BATCH_HEADER_BYTES)
  writeBatchCrc(batch, 0, batch.length)
  return batch
}

/** A frame of `codec` whose header claims CLAIMED_BYTES of output but holds `payload`. */
function lyingFrame (codec: number, payload: Buffer, prng: Prng): Buffer {
  switch (codec) {
    case CompressionCodec.Zstd: return lyingZstd(payload)
    case CompressionCodec.Snappy:
      return prng.chance(0.5) ? lyingSnappyRaw(payload) : lyingXerial(payload)
    case CompressionCodec.Lz4: return lyingLz4(payload)
    default: return lyingGzip(payload)
  }
}

/** Zstd frame (RFC 8878): single segment, 8-byte Frame_Content_Size, one raw block. */
function lyingZstd (payload: Buffer): Buffer {
  const header = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0xe0, 0, 0, 0, 0, 0, 0, 0, 0])
  header.writeUInt32LE(CLAIMED_BYTES, 5)
  const block = Buffer.alloc(3)
  block.writeUIntLE(1 | (payload.length << 3), 0, 3)
  return Buffer.concat([header, block, payload])
}

/**
 * A zstd frame that declares and really holds `total` zero bytes, as RLE blocks of 128 KiB
 * (4 bytes each): 32 KiB of frame per GiB, and no compression work to make it.
 */
function zstdRleBomb (total: number): Buffer {
  const header = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0xe0, 0, 0, 0, 0, 0, 0, 0, 0])
  header.writeUInt32LE(total % 2 ** 32, 5)
  header.writeUInt32LE(Math.floor(total / 2 ** 32), 9)
  const blockBytes = 128 * 1024
  const count = Math.ceil(total / blockBytes)
  const blocks = Buffer.alloc(count * 4)
  for (let i = 0; i < count; i++) {
    const size = Math.min(blockBytes, total - i * blockBytes)
    const last = i === count - 1 ? 1 : 0
    // Block header: Last_Block, Block_Type 1 (RLE), Block_Size; then the byte to repeat.
    blocks.writeUIntLE(last | (1 << 1) | (size << 3), i * 4, 3)
  }
  return Buffer.concat([header, blocks])
}

/** Raw snappy: the varint preamble is the uncompressed length; then one literal. */
function lyingSnappyRaw (payload: Buffer): Buffer {
  const preamble = Buffer.from([0xf0, 0xff, 0xff, 0xff, 0x0f])
  const literal = Buffer.from([(Math.min(payload.length, 60) - 1) << 2])
  return Buffer.concat([preamble, literal, payload.subarray(0, 60)])
}

/** snappy-java's framing around the lying raw block. */
function lyingXerial (payload: Buffer): Buffer {
  const block = lyingSnappyRaw(payload)
  const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00,
    0, 0, 0, 1, 0, 0, 0, 1])
  const length = Buffer.alloc(4)
  length.writeInt32BE(block.length)
  return Buffer.concat([header, length, block])
}

/** LZ4 frame with the content-size flag set to a lie, then one uncompressed block. */
function lyingLz4 (payload: Buffer): Buffer {
  const descriptor = Buffer.alloc(10)
  descriptor[0] = 0x68 // version 01, independent blocks, content size present
  descriptor[1] = 0x70 // 4 MiB maximum block size
  descriptor.writeUInt32LE(CLAIMED_BYTES, 2)
  const checksum = Buffer.from([(xxh32(descriptor) >>> 8) & 0xff])
  const block = Buffer.alloc(4)
  block.writeUInt32LE((payload.length | 0x80000000) >>> 0)
  return Buffer.concat([Buffer.from([0x04, 0x22, 0x4d, 0x18]), descriptor, checksum, block,
    payload, Buffer.alloc(4)])
}

/** A gzip member whose ISIZE trailer claims CLAIMED_BYTES. */
function lyingGzip (payload: Buffer): Buffer {
  const member = zlib.gzipSync(payload)
  member.writeUInt32LE(CLAIMED_BYTES, member.length - 4)
  return member
}

const PRIME1 = 2654435761
const PRIME2 = 2246822519
const PRIME3 = 3266489917
const PRIME4 = 668265263
const PRIME5 = 374761393

/** xxHash32 with seed 0, for the LZ4 frame descriptor's checksum (inputs under 16 bytes). */
function xxh32 (input: Buffer): number {
  let hash = (PRIME5 + input.length) >>> 0
  let position = 0
  for (; position + 4 <= input.length; position += 4) {
    hash = (hash + Math.imul(input.readUInt32LE(position), PRIME3)) >>> 0
    hash = Math.imul(rotl(hash, 17), PRIME4) >>> 0
  }
  for (; position < input.length; position++) {
    hash = (hash + Math.imul(input[position] as number, PRIME5)) >>> 0
    hash = Math.imul(rotl(hash, 11), PRIME1) >>> 0
  }
  hash ^= hash >>> 15
  hash = Math.imul(hash, PRIME2) >>> 0
  hash ^= hash >>> 13
  hash = Math.imul(hash, PRIME3) >>> 0
  hash ^= hash >>> 16
  return hash >>> 0
}

function rotl (value: number, bits: number): number {
  return ((value << bits) | (value >>> (32 - bits))) >>> 0
}
