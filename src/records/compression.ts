/**
 * The record-batch compression codecs, framed as Kafka frames them: gzip (node:zlib), snappy
 * (xerial-framed as the Java client writes it; raw snappy, as librdkafka writes it, is also
 * read), lz4 (the LZ4 frame format, lz4-frame.ts) and zstd (zstd-frames.ts).
 *
 * Decompression is bounded before it allocates: every size a frame declares (snappy's varint
 * length, per xerial block; the lz4 content size and block sizes; the zstd frame content size)
 * is checked against `maxOutputBytes` first, and output is produced in bounded chunks (zlib's
 * maxOutputLength, one xerial/lz4 block at a time, streamed zstd) that stop as soon as the
 * limit is passed. A bomb is CORRUPT_MESSAGE, and memory never grows past the limit. At most
 * INFLATIONS_MAX batches inflate at once in the whole process, so a produce request naming a
 * hundred partitions, each with a bomb, builds at most INFLATIONS_MAX × the limit at a time.
 *
 * The limit is MAX_DECOMPRESSED_BATCH_BYTES, a broker constant. Kafka has no explicit cap (its
 * decompressing iterators stream records through BufferSupplier-bounded blocks); a constant
 * rather than a multiple of max.message.bytes because a stored batch must stay readable after
 * a topic's max.message.bytes is lowered, and every read path (HTTP consume and SSE, the CLI,
 * ListOffsets by timestamp, the internal-topic replays) needs the same bound without knowing the topic's history.
 */
import { promisify } from 'node:util'
import zlib from 'node:zlib'
import { compressFrame } from 'lz4-napi'
import { compress as snappyCompress, uncompress as snappyUncompress } from 'snappy'
import * as zstd from 'zstd-napi'
import { assert } from '../util/assert.js'
import { CompressionCodec } from './batch-header.js'
import { RecordsError } from './errors.js'
import { decompressLz4Frames } from './lz4-frame.js'
import { decompressZstdFrames } from './zstd-frames.js'

/**
 * What one batch may inflate to: 64 MiB, 64 times the default max.message.bytes (1 MiB), more
 * than any producer's batch.size makes in practice, and small enough that a few concurrent
 * bombs cannot exhaust the heap.
 */
export const MAX_DECOMPRESSED_BATCH_BYTES = 64 * 1024 * 1024

/**
 * Inflations in flight at once, process-wide. The rest wait in FIFO order; each waiter belongs
 * to a request (or a read) already held in memory, so the wait list is bounded by what the
 * network layer admits.
 */
const INFLATIONS_MAX = 2
let inflating = 0
const waitingForSlot: (() => void)[] = []

async function withInflationSlot<T> (inflate: () => Promise<T> | T): Promise<T> {
  if (inflating >= INFLATIONS_MAX) {
    await new Promise<void>(resolve => { waitingForSlot.push(resolve) })
  } else {
    inflating++
  }
  // A slot is taken only when one was free, or handed over by its holder (below).
  assert(inflating <= INFLATIONS_MAX, 'no more inflations than slots')
  try {
    return await inflate()
  } finally {
    // The slot passes straight to the next waiter, else frees up.
    const next = waitingForSlot.shift()
    if (next !== undefined) next()
    else inflating--
  }
}

const gzip = promisify(zlib.gzip)
const gunzip = promisify(zlib.gunzip)

/** snappy-java's stream header: magic, then int32 version 1 and int32 compatible version 1. */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00])
const XERIAL_HEADER_BYTES = 16
/** snappy-java writes blocks of at most 32 KiB of input. */
const XERIAL_BLOCK_BYTES = 32 * 1024

export async function compress (codec: number, data: Buffer): Promise<Buffer> {
  switch (codec) {
    case CompressionCodec.None: return data
    case CompressionCodec.Gzip: return gzip(data)
    case CompressionCodec.Snappy: return xerialCompress(data)
    case CompressionCodec.Lz4: return compressFrame(data)
    case CompressionCodec.Zstd: return zstd.compress(data)
    default: throw unsupported(codec)
  }
}

export async function decompress (codec: number, data: Buffer,
  maxOutputBytes = MAX_DECOMPRESSED_BATCH_BYTES): Promise<Buffer> {
  if (codec === CompressionCodec.None) return data
  return withInflationSlot(() => inflate(codec, data, maxOutputBytes))
}

async function inflate (codec: number, data: Buffer, maxOutputBytes: number): Promise<Buffer> {
  let output: Buffer
  try {
    switch (codec) {
      case CompressionCodec.Gzip:
        // zlib inflates in 16 KiB chunks and stops with ERR_BUFFER_TOO_LARGE past the limit.
        output = await gunzip(data, { maxOutputLength: Math.max(maxOutputBytes, 1) })
        break
      case CompressionCodec.Snappy: output = await snappyDecompress(data, maxOutputBytes); break
      case CompressionCodec.Lz4: output = decompressLz4Frames(data, maxOutputBytes); break
      case CompressionCodec.Zstd: output = decompressZstdFrames(data, maxOutputBytes); break
      default: throw unsupported(codec)
    }
  } catch (error) {
    if (error instanceof RecordsError) throw error
    throw new RecordsError('CORRUPT_MESSAGE',
      `cannot decompress batch (codec ${codec}): ${(error as Error).message}`)
  }
  if (output.length > maxOutputBytes) {
    throw new RecordsError('CORRUPT_MESSAGE',
      `batch decompresses to ${output.length} bytes, more than ${maxOutputBytes}`)
  }
  return output
}

function unsupported (codec: number): RecordsError {
  return new RecordsError('UNSUPPORTED_COMPRESSION_TYPE', `unknown compression codec ${codec}`)
}

async function xerialCompress (data: Buffer): Promise<Buffer> {
  const parts: Buffer[] = [XERIAL_MAGIC, Buffer.from([0, 0, 0, 1, 0, 0, 0, 1])]
  for (let start = 0; start < data.length; start += XERIAL_BLOCK_BYTES) {
    const block = await snappyCompress(data.subarray(start, start + XERIAL_BLOCK_BYTES))
    const length = Buffer.alloc(4)
    length.writeInt32BE(block.length)
    parts.push(length, block)
  }
  return Buffer.concat(parts)
}

async function snappyDecompress (data: Buffer, maxOutputBytes: number): Promise<Buffer> {
  const isXerial = data.length >= XERIAL_HEADER_BYTES &&
    data.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC)
  if (!isXerial) return snappyBlock(data, maxOutputBytes)
  const blocks: Buffer[] = []
  let total = 0
  let position = XERIAL_HEADER_BYTES
  while (position < data.length) {
    if (position + 4 > data.length) throw snappyCorrupt('truncated xerial block length')
    const length = data.readInt32BE(position)
    position += 4
    if (length < 0 || position + length > data.length) {
      throw snappyCorrupt(`xerial block of ${length} bytes past the end`)
    }
    const block = await snappyBlock(data.subarray(position, position + length),
      maxOutputBytes - total)
    position += length
    total += block.length
    blocks.push(block)
  }
  return Buffer.concat(blocks, total)
}

/** A raw snappy block: its varint length is checked before the decoder allocates it. */
async function snappyBlock (block: Buffer, maxOutputBytes: number): Promise<Buffer> {
  const declared = snappyDeclaredLength(block)
  if (declared > maxOutputBytes) {
    throw snappyCorrupt(`block declares ${declared} bytes, more than the ${maxOutputBytes} ` +
      'allowed')
  }
  return await snappyUncompress(block) as Buffer
}

/** The uncompressed length a raw snappy block starts with (a varint of at most 32 bits). */
function snappyDeclaredLength (block: Buffer): number {
  let value = 0
  for (let i = 0; i < 5; i++) {
    if (i >= block.length) throw snappyCorrupt('truncated block length')
    const byte = block[i] as number
    value += (byte & 0x7f) * 2 ** (7 * i)
    if ((byte & 0x80) === 0) return value
  }
  throw snappyCorrupt('block length varint is longer than 5 bytes')
}

function snappyCorrupt (message: string): RecordsError {
  return new RecordsError('CORRUPT_MESSAGE', `snappy: ${message}`)
}
