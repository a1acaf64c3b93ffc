/**
 * Bounded decoding of the LZ4 frame format (lz4 Frame Format Description v1.6.x), the framing
 * Kafka's KafkaLZ4BlockOutputStream and librdkafka write for codec 3.
 *
 * Nothing a frame claims is allocated before it is checked: the header's content size and each
 * block's size are checked against the block maximum (BD, at most 4 MiB) and against what is
 * left of `maxOutputBytes` before a block is decoded, and a block is decoded into at most the
 * block maximum (lz4-napi's size-prepended `uncompress`, given the block maximum as the size,
 * allocates that and truncates to what the block held). The header checksum is verified, as
 * Kafka's KafkaLZ4BlockInputStream does; block and content checksums are skipped: the batch
 * CRC-32C already covers these bytes. Linked blocks get the previous 64 KiB as their
 * dictionary. Skippable frames are skipped; a preset dictionary is refused (no Kafka client
 * writes one).
 */
import { uncompressSync } from 'lz4-napi'
import { RecordsError } from './errors.js'
import { xxhash32 } from './xxhash32.js'

const FRAME_MAGIC = 0x184d2204
const SKIPPABLE_MAGIC_MASK = 0xfffffff0
const SKIPPABLE_MAGIC = 0x184d2a50
/** Block maximum sizes by the BD byte's bits 4-6 (4: 64 KiB ... 7: 4 MiB). */
const BLOCK_MAX_BYTES: Record<number, number> = {
  4: 64 * 1024, 5: 256 * 1024, 6: 1024 * 1024, 7: 4 * 1024 * 1024,
}
const UNCOMPRESSED_BLOCK_FLAG = 0x80000000
/** How far back an LZ4 match may reach: the dictionary a linked block needs. */
const WINDOW_BYTES = 64 * 1024

interface FrameHeader {
  blockMaxBytes: number
  linkedBlocks: boolean
  blockChecksum: boolean
  contentChecksum: boolean
  /** Position of the first block. */
  end: number
}

function corrupt (message: string): RecordsError {
  return new RecordsError('CORRUPT_MESSAGE', `lz4: ${message}`)
}

/** Decodes every frame in `data`; throws CORRUPT_MESSAGE past `maxOutputBytes` or on damage. */
export function decompressLz4Frames (data: Buffer, maxOutputBytes: number): Buffer {
  const output: Buffer[] = []
  let total = 0
  let position = 0
  while (position < data.length) {
    need(data, position, 4)
    const magic = data.readUInt32LE(position)
    if ((magic & SKIPPABLE_MAGIC_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      need(data, position, 8)
      position += 8 + data.readUInt32LE(position + 4)
      continue
    }
    if (magic !== FRAME_MAGIC) throw corrupt(`bad frame magic 0x${magic.toString(16)}`)
    const header = readFrameHeader(data, position, maxOutputBytes - total)
    position = header.end
    for (;;) {
      need(data, position, 4)
      const word = data.readUInt32LE(position)
      position += 4
      if (word === 0) break // EndMark
      const size = (word & ~UNCOMPRESSED_BLOCK_FLAG) >>> 0
      if (size > header.blockMaxBytes) {
        throw corrupt(`block of ${size} bytes exceeds the frame's block maximum`)
      }
      need(data, position, size)
      const stored = data.subarray(position, position + size)
      position += size + (header.blockChecksum ? 4 : 0)
      const dictionary = header.linkedBlocks ? window(output) : undefined
      const block = (word & UNCOMPRESSED_BLOCK_FLAG) !== 0
        ? stored
        : decodeBlock(stored, Math.min(header.blockMaxBytes, maxOutputBytes - total + 1),
          dictionary)
      total += block.length
      if (total > maxOutputBytes) throw corrupt(`frame inflates past ${maxOutputBytes} bytes`)
      output.push(block)
    }
    position += header.contentChecksum ? 4 : 0
  }
  if (position > data.length) throw corrupt('truncated frame')
  return output.length === 1 ? output[0] as Buffer : Buffer.concat(output, total)
}

function need (data: Buffer, position: number, bytes: number): void {
  if (position + bytes > data.length) throw corrupt('truncated frame')
}

/** FLG, BD, the optional content size and dictionary id, and the header checksum byte. */
function readFrameHeader (data: Buffer, start: number, remainingBytes: number): FrameHeader {
  need(data, start, 7)
  const flags = data.readUInt8(start + 4)
  const descriptor = data.readUInt8(start + 5)
  if (flags >> 6 !== 1) throw corrupt(`frame version ${flags >> 6} is not 1`)
  const blockMaxBytes = BLOCK_MAX_BYTES[(descriptor >> 4) & 0x07]
  if (blockMaxBytes === undefined) {
    throw corrupt(`bad block maximum in BD 0x${descriptor.toString(16)}`)
  }
  if ((flags & 0x01) !== 0) throw corrupt('preset dictionaries are not supported')
  let position = start + 6
  if ((flags & 0x08) !== 0) {
    need(data, position, 9)
    const contentSize = data.readUInt32LE(position) + data.readUInt32LE(position + 4) * 2 ** 32
    if (contentSize > remainingBytes) {
      throw corrupt(`frame declares ${contentSize} bytes, more than the ${remainingBytes} allowed`)
    }
    position += 8
  }
  need(data, position, 1)
  const checksum = (xxhash32(data.subarray(start + 4, position)) >>> 8) & 0xff
  if (checksum !== data.readUInt8(position)) throw corrupt('frame header checksum mismatch')
  return {
    blockMaxBytes,
    linkedBlocks: (flags & 0x20) === 0,
    blockChecksum: (flags & 0x10) !== 0,
    contentChecksum: (flags & 0x04) !== 0,
    end: position + 1, // the header checksum byte
  }
}

/**
 * One compressed block, decoded into at most `capacity` bytes. Synchronously, as zstd is: a
 * block is at most 4 MiB, and a thread-pool round trip per 64 KiB block (the Java client's
 * size) cost more than the decoding itself (1.8 ms against 0.7 ms for a 1 MiB batch).
 */
function decodeBlock (stored: Buffer, capacity: number,
  dictionary: Buffer | undefined): Buffer {
  const framed = Buffer.allocUnsafe(4 + stored.length)
  framed.writeUInt32LE(capacity, 0)
  stored.copy(framed, 4)
  try {
    return dictionary === undefined || dictionary.length === 0
      ? uncompressSync(framed)
      : uncompressSync(framed, dictionary)
  } catch (error) {
    throw corrupt(`bad block: ${(error as Error).message}`)
  }
}

/** The last WINDOW_BYTES of what was decoded so far (a linked block's dictionary). */
function window (output: Buffer[]): Buffer {
  const parts: Buffer[] = []
  let bytes = 0
  for (let i = output.length - 1; i >= 0 && bytes < WINDOW_BYTES; i--) {
    const part = output[i] as Buffer
    const take = part.subarray(Math.max(0, part.length - (WINDOW_BYTES - bytes)))
    parts.unshift(take)
    bytes += take.length
  }
  return parts.length === 1 ? parts[0] as Buffer : Buffer.concat(parts, bytes)
}
