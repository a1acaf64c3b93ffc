/**
 * LogSegment: one `.log` file of batches back to back, with its sparse `.index` (8-byte entries:
 * int32 offset relative to the base offset, int32 file position of a batch start) and
 * `.timeindex` (12-byte entries: int64 max timestamp so far, int32 relative offset), named by the
 * 20-digit base offset (Kafka's LogSegment, OffsetIndex, TimeIndex).
 *
 * The indexes live in memory and are written to their files on roll and on close; after an
 * unclean shutdown they are rebuilt from the log, never trusted ("no attempt is made to
 * checksum the contents of this file", AbstractIndex). An index entry is added once more than
 * `index.interval.bytes` were appended since the previous one, and always points at a batch
 * start, so a lookup binary-searches the index and scans forward from there.
 *
 * Concurrency: appends reserve space synchronously (`reserve`), the flusher writes reserved
 * bytes in order; readers see only `writtenBytes`, the contiguous prefix already written, so
 * reading never waits for appending.
 */
import path from 'node:path'
import { open, rm, type FileHandle } from '../io/disk.js'
import {
  BATCH_HEADER_BYTES, LOG_OVERHEAD_BYTES, batchCrcMatches, readInt64,
} from '../records/batch-header.js'
import { assert } from '../util/assert.js'

const OFFSET_ENTRY_BYTES = 8
const TIME_ENTRY_BYTES = 12
/** Bytes read at once while scanning batch headers. */
const SCAN_CHUNK_BYTES = 256 * 1024

export function segmentFileName (baseOffset: number, suffix: string): string {
  return `${String(baseOffset).padStart(20, '0')}${suffix}`
}

/** A growable in-memory array of fixed-size index entries. */
class IndexEntries {
  #buffer: Buffer
  count = 0
  readonly entryBytes: number

  constructor (entryBytes: number, initial?: Buffer) {
    this.entryBytes = entryBytes
    this.#buffer = initial ?? Buffer.alloc(entryBytes * 64)
    if (initial !== undefined) this.count = Math.floor(initial.length / entryBytes)
  }

  slot (): number {
    if ((this.count + 1) * this.entryBytes > this.#buffer.length) {
      const grown = Buffer.alloc(this.#buffer.length * 2 + this.entryBytes)
      this.#buffer.copy(grown)
      this.#buffer = grown
    }
    return this.count++ * this.entryBytes
  }

  get buffer (): Buffer {
    return this.#buffer
  }

  bytes (): Buffer {
    return this.#buffer.subarray(0, this.count * this.entryBytes)
  }

  load (bytes: Buffer): void {
    this.#buffer = Buffer.from(bytes)
    this.count = Math.floor(bytes.length / this.entryBytes)
  }

  truncate (count: number): void {
    this.count = Math.min(this.count, count)
  }
}

export interface ScanResult {
  /** Bytes of valid batches from the start of the segment. */
  validBytes: number
  nextOffset: number
}

export class LogSegment {
  readonly baseOffset: number
  readonly directory: string
  readonly createdMs: number
  #handle: FileHandle
  /** Bytes appended, including bytes reserved but not yet written. */
  size = 0
  /** The contiguous prefix that has been written to the file. */
  writtenBytes = 0
  /** The offset after the last batch appended to this segment. */
  nextOffset: number
  maxTimestamp = -1
  offsetOfMaxTimestamp = -1
  readonly #offsetIndex = new IndexEntries(OFFSET_ENTRY_BYTES)
  readonly #timeIndex = new IndexEntries(TIME_ENTRY_BYTES)
  #bytesSinceIndexEntry = 0
  readonly #indexIntervalBytes: number

  private constructor (directory: string, baseOffset: number, handle: FileHandle,
    indexIntervalBytes: number, createdMs: number) {
    this.directory = directory
    this.baseOffset = baseOffset
    this.nextOffset = baseOffset
    this.#handle = handle
    this.#indexIntervalBytes = indexIntervalBytes
    this.createdMs = createdMs
  }

  static async open (directory: string, baseOffset: number, indexIntervalBytes: number,
    nowMs: number): Promise<LogSegment> {
    const handle = await open(path.join(directory, segmentFileName(baseOffset, '.log')), 'a+')
    return new LogSegment(directory, baseOffset, handle, indexIntervalBytes, nowMs)
  }

  get logPath (): string {
    return path.join(this.directory, segmentFileName(this.baseOffset, '.log'))
  }

  get indexEntryCount (): number {
    return this.#offsetIndex.count
  }

  /**
   * Scans the file from the start, validating length, CRC and offset order of every batch,
   * rebuilding the indexes, and truncating the file at the first bad or partial batch (Kafka's
   * LogSegment.recover). `onBatch` sees each valid batch's header bytes.
   */
  async recover (validateCrc: boolean,
    onBatch?: (header: Buffer) => void): Promise<{ truncatedBytes: number }> {
    const fileBytes = (await this.#handle.stat()).size
    this.#offsetIndex.truncate(0)
    this.#timeIndex.truncate(0)
    this.#bytesSinceIndexEntry = 0
    this.maxTimestamp = -1
    this.offsetOfMaxTimestamp = -1
    this.size = 0
    this.nextOffset = this.baseOffset
    let position = 0
    let nextOffset = this.baseOffset
    let chunk: Buffer = Buffer.alloc(0)
    let chunkStart = 0
    for (;;) {
      if (position + LOG_OVERHEAD_BYTES > fileBytes) break
      if (position + LOG_OVERHEAD_BYTES > chunkStart + chunk.length) {
        chunk = await this.#readAt(position, Math.min(SCAN_CHUNK_BYTES, fileBytes - position))
        chunkStart = position
      }
      const size = chunk.readInt32BE(position - chunkStart + 8) + LOG_OVERHEAD_BYTES
      if (size < BATCH_HEADER_BYTES || position + size > fileBytes) break
      if (position + size > chunkStart + chunk.length) {
        chunk = await this.#readAt(position, Math.max(size, Math.min(SCAN_CHUNK_BYTES,
          fileBytes - position)))
        chunkStart = position
      }
      const at = position - chunkStart
      const baseOffset = readInt64(chunk, at)
      const lastOffset = baseOffset + chunk.readInt32BE(at + 23)
      const validBatch = chunk.readInt8(at + 16) === 2 && baseOffset >= nextOffset &&
        lastOffset >= baseOffset && lastOffset - this.baseOffset <= 0x7fffffff &&
        (!validateCrc || batchCrcMatches(chunk, at, size))
      if (!validBatch) break
      onBatch?.(chunk.subarray(at, at + BATCH_HEADER_BYTES))
      this.size = position
      this.#track(size, baseOffset, lastOffset, readInt64(chunk, at + 35))
      this.nextOffset = lastOffset + 1
      position += size
      nextOffset = lastOffset + 1
    }
    this.size = position
    this.writtenBytes = position
    this.nextOffset = nextOffset
    if (position < fileBytes) await this.#handle.truncate(position)
    return { truncatedBytes: fileBytes - position }
  }

  /**
   * After a clean shutdown: trusts the index files if they pass a sanity check (sizes,
   * monotonic entries inside the file) and scans only the tail after the last entry; otherwise
   * falls back to a full `recover`. Returns false when it had to recover.
   */
  async load (validateCrc: boolean, onBatch?: (header: Buffer) => void): Promise<boolean> {
    const fileBytes = (await this.#handle.stat()).size
    const offsets = await readIndexFile(path.join(this.directory,
      segmentFileName(this.baseOffset, '.index')))
    const times = await readIndexFile(path.join(this.directory,
      segmentFileName(this.baseOffset, '.timeindex')))
    if (offsets === undefined || times === undefined || onBatch !== undefined ||
      !indexIsSane(offsets, fileBytes) || times.length % TIME_ENTRY_BYTES !== 0 ||
      offsets.length === 0) {
      await this.recover(validateCrc, onBatch)
      return false
    }
    const lastEntry = offsets.length - OFFSET_ENTRY_BYTES
    const tailPosition = offsets.readInt32BE(lastEntry + 4)
    const tailOffset = this.baseOffset + offsets.readInt32BE(lastEntry)
    const tail = await this.#readAt(tailPosition, fileBytes - tailPosition)
    let position = 0
    let nextOffset = tailOffset
    let maxTimestamp = -1
    while (position + BATCH_HEADER_BYTES <= tail.length) {
      const size = tail.readInt32BE(position + 8) + LOG_OVERHEAD_BYTES
      if (size < BATCH_HEADER_BYTES || position + size > tail.length) break
      nextOffset = readInt64(tail, position) + tail.readInt32BE(position + 23) + 1
      maxTimestamp = Math.max(maxTimestamp, readInt64(tail, position + 35))
      position += size
    }
    if (tailPosition + position !== fileBytes || readInt64(tail, 0) !== tailOffset) {
      await this.recover(validateCrc, onBatch)
      return false
    }
    this.#offsetIndex.load(offsets)
    this.#timeIndex.load(times)
    this.size = fileBytes
    this.writtenBytes = fileBytes
    this.nextOffset = nextOffset
    this.#bytesSinceIndexEntry = position
    const lastTime = times.length >= TIME_ENTRY_BYTES
      ? readTime(times, times.length - TIME_ENTRY_BYTES)
      : -1
    this.maxTimestamp = Math.max(maxTimestamp, lastTime)
    this.offsetOfMaxTimestamp = nextOffset - 1
    return true
  }

  #readAt (position: number, length: number): Promise<Buffer> {
    return this.#handle.read(Buffer.allocUnsafe(length), 0, length, position)
      .then(({ buffer, bytesRead }) => buffer.subarray(0, bytesRead))
  }

  /** Records a batch appended at `this.size` (its bytes are written later by the flusher). */
  reserve (size: number, baseOffset: number, lastOffset: number, maxTimestamp: number): number {
    const position = this.size
    this.#track(size, baseOffset, lastOffset, maxTimestamp)
    this.nextOffset = lastOffset + 1
    return position
  }

  #track (size: number, baseOffset: number, lastOffset: number, maxTimestamp: number): void {
    // Offsets only grow within a segment: the index binary search relies on it.
    assert(baseOffset >= this.nextOffset || this.size === 0, 'offsets in a segment increase')
    if (this.#bytesSinceIndexEntry > this.#indexIntervalBytes || this.#offsetIndex.count === 0) {
      const at = this.#offsetIndex.slot()
      this.#offsetIndex.buffer.writeInt32BE(baseOffset - this.baseOffset, at)
      this.#offsetIndex.buffer.writeInt32BE(this.size, at + 4)
      if (maxTimestamp > this.maxTimestamp) {
        const timeAt = this.#timeIndex.slot()
        writeTime(this.#timeIndex.buffer, timeAt, maxTimestamp)
        this.#timeIndex.buffer.writeInt32BE(baseOffset - this.baseOffset, timeAt + 8)
      }
      this.#bytesSinceIndexEntry = 0
    }
    if (maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = maxTimestamp
      this.offsetOfMaxTimestamp = lastOffset
    }
    this.#bytesSinceIndexEntry += size
    this.size += size
  }

  /** Writes reserved bytes at `position` (the flusher calls this in reservation order). */
  async write (buffers: Buffer[], position: number): Promise<void> {
    assert(position === this.writtenBytes, 'segment writes are contiguous')
    let written = 0
    let expected = 0
    for (const buffer of buffers) expected += buffer.length
    while (written < expected) {
      const { bytesWritten } = await this.#handle.writev(
        skipBytes(buffers, written), position + written)
      written += bytesWritten
    }
    this.writtenBytes = position + expected
  }

  datasync (): Promise<void> {
    return this.#handle.datasync()
  }

  /** The file position of the batch to start reading at for `offset` (index lookup). */
  lookup (offset: number): number {
    const relative = offset - this.baseOffset
    const entries = this.#offsetIndex.buffer
    let low = 0
    let high = this.#offsetIndex.count - 1
    let position = 0
    while (low <= high) {
      const middle = (low + high) >>> 1
      if (entries.readInt32BE(middle * OFFSET_ENTRY_BYTES) <= relative) {
        position = entries.readInt32BE(middle * OFFSET_ENTRY_BYTES + 4)
        low = middle + 1
      } else {
        high = middle - 1
      }
    }
    return position
  }

  /** The file position to start a timestamp search at: before the first entry ≥ timestamp. */
  lookupTimestamp (timestampMs: number): number {
    const entries = this.#timeIndex.buffer
    let position = 0
    for (let i = 0; i < this.#timeIndex.count; i++) {
      if (readTime(entries, i * TIME_ENTRY_BYTES) >= timestampMs) break
      position = this.lookup(this.baseOffset + entries.readInt32BE(i * TIME_ENTRY_BYTES + 8))
    }
    return position
  }

  /** Reads `length` bytes at `position`, never past what is written. */
  read (position: number, length: number): Promise<Buffer> {
    const available = Math.max(0, Math.min(length, this.writtenBytes - position))
    if (available === 0) return Promise.resolve(Buffer.alloc(0))
    return this.#readAt(position, available)
  }

  /** Drops everything from `position` on (truncateTo); indexes forget entries past it. */
  async truncateAt (position: number, nextOffset: number): Promise<void> {
    await this.#handle.truncate(position)
    this.size = position
    this.writtenBytes = Math.min(this.writtenBytes, position)
    this.nextOffset = nextOffset
    await this.recover(false)
  }

  async writeIndexes (): Promise<void> {
    const write = async (suffix: string, bytes: Buffer): Promise<void> => {
      const handle = await open(path.join(this.directory, segmentFileName(this.baseOffset,
        suffix)), 'w')
      try {
        await handle.writeFile(bytes)
      } finally {
        await handle.close()
      }
    }
    await write('.index', this.#offsetIndex.bytes())
    await write('.timeindex', this.#timeIndex.bytes())
  }

  async close (): Promise<void> {
    await this.#handle.close()
  }

  async delete (): Promise<void> {
    await this.#handle.close().catch(() => undefined)
    for (const suffix of ['.log', '.index', '.timeindex', '.snapshot']) {
      await rm(path.join(this.directory, segmentFileName(this.baseOffset, suffix)),
        { force: true })
    }
  }
}

async function readIndexFile (file: string): Promise<Buffer | undefined> {
  try {
    const handle = await open(file, 'r')
    try {
      return await handle.readFile()
    } finally {
      await handle.close()
    }
  } catch {
    return undefined
  }
}

/** Kafka's sanityCheck: whole entries, increasing offsets and positions inside the file. */
function indexIsSane (entries: Buffer, fileBytes: number): boolean {
  if (entries.length % OFFSET_ENTRY_BYTES !== 0) return false
  let previousOffset = -1
  let previousPosition = -1
  for (let at = 0; at < entries.length; at += OFFSET_ENTRY_BYTES) {
    const offset = entries.readInt32BE(at)
    const position = entries.readInt32BE(at + 4)
    if (offset <= previousOffset || position <= previousPosition || position >= fileBytes) {
      return false
    }
    previousOffset = offset
    previousPosition = position
  }
  return true
}

function writeTime (buffer: Buffer, at: number, timestampMs: number): void {
  const high = Math.floor(timestampMs / 0x100000000)
  buffer.writeInt32BE(high, at)
  buffer.writeUInt32BE(timestampMs - high * 0x100000000, at + 4)
}

function readTime (buffer: Buffer, at: number): number {
  return buffer.readInt32BE(at) * 0x100000000 + buffer.readUInt32BE(at + 4)
}

function skipBytes (buffers: Buffer[], skip: number): Buffer[] {
  if (skip === 0) return buffers
  const rest: Buffer[] = []
  let remaining = skip
  for (const buffer of buffers) {
    if (remaining >= buffer.length) {
      remaining -= buffer.length
      continue
    }
    rest.push(remaining > 0 ? buffer.subarray(remaining) : buffer)
    remaining = 0
  }
  return rest
}
