/**
 * The record-batch compression codecs, framed as Kafka frames them (docs/protocol.md):
 * gzip (node:zlib), snappy (xerial-framed as the Java client writes it; raw snappy, as
 * librdkafka writes it, is also read), lz4 (the LZ4 frame format with independent blocks,
 * through lz4-napi) and zstd (zstd-napi).
 *
 * Decompression is bounded: `maxOutputBytes` caps what a batch may inflate to, so a small
 * hostile batch cannot make the broker allocate gigabytes (a zip bomb is CORRUPT_MESSAGE).
 */
import { promisify } from 'node:util'
import zlib from 'node:zlib'
import { compressFrame, decompressFrame } from 'lz4-napi'
import { compress as snappyCompress, uncompress as snappyUncompress } from 'snappy'
import * as zstd from 'zstd-napi'
import { CompressionCodec } from './batch-header.js'
import { RecordsError } from './errors.js'

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
  maxOutputBytes: number): Promise<Buffer> {
  let output: Buffer
  try {
    switch (codec) {
      case CompressionCodec.None: output = data; break
      case CompressionCodec.Gzip:
        output = await gunzip(data, { maxOutputLength: maxOutputBytes })
        break
      case CompressionCodec.Snappy: output = await snappyDecompress(data, maxOutputBytes); break
      case CompressionCodec.Lz4: output = await decompressFrame(data); break
      case CompressionCodec.Zstd: output = zstd.decompress(data); break
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
  if (!isXerial) return await snappyUncompress(data) as Buffer
  const blocks: Buffer[] = []
  let total = 0
  let position = XERIAL_HEADER_BYTES
  while (position < data.length) {
    if (position + 4 > data.length) throw new Error('truncated xerial block length')
    const length = data.readInt32BE(position)
    position += 4
    if (length < 0 || position + length > data.length) {
      throw new Error(`xerial block of ${length} bytes past the end`)
    }
    const block = await snappyUncompress(data.subarray(position, position + length)) as Buffer
    position += length
    total += block.length
    if (total > maxOutputBytes) throw new Error(`more than ${maxOutputBytes} bytes`)
    blocks.push(block)
  }
  return Buffer.concat(blocks)
}
