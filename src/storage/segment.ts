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
import type { Disk, DiskFile } from '../io/disk.js'
import {
  BATCH_HEADER_BYTES, BATCH_LENGTH_OFFSET, LOG_OVERHEAD_BYTES, MAX_TIMESTAMP_OFFSET,
  batchCrcMatches, lastOffsetOf, readInt64, writeInt64,
} from '../records/batch-header.js'
import { assert } from '../util/assert.js'

const SEGMENT_SUFFIXES = ['.log', '.index', '.timeindex', '.snapshot', '.txnindex']
const OFFSET_ENTRY_BYTES = 8
const TIME_ENTRY_BYTES = 12
/** Bytes read at once while scanning batch headers. */
const SCAN_CHUNK_BYTES = 256 * 1024
/**
 * Index entries checked against the log when a clean start loads an index: enough to catch a
 * shifted or scribbled index, few enough (one 61-byte read each) to keep start-up fast.
 */
const INDEX_SAMPLE_COUNT = 32

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
  readonly #disk: Disk
  #handle: DiskFile
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
  #indexTrusted = true
  /** The index files on disk are fsynced and match memory: a clean close can skip them. */
  #indexesSynced = false
  readonly #indexIntervalBytes: number
  /** Set once the files were renamed `.deleted`: the suffixes renamed. */
  #renamedSuffixes: readonly string[] | undefined
  /** Reads in flight that hold this segment (`retain`/`release`). */
  #readers = 0
  #idleWaiters: (() => void)[] = []

  private constructor (disk: Disk, directory: string, baseOffset: number, handle: DiskFile,
    indexIntervalBytes: number, createdMs: number) {
    this.#disk = disk
    this.directory = directory
    this.baseOffset = baseOffset
    this.nextOffset = baseOffset
    this.#handle = handle
    this.#indexIntervalBytes = indexIntervalBytes
    this.createdMs = createdMs
  }

  static async open (disk: Disk, directory: string, baseOffset: number,
    indexIntervalBytes: number, nowMs: number): Promise<LogSegment> {
    const handle = await disk.open(path.join(directory, segmentFileName(baseOffset, '.log')),
      'segment')
    return new LogSegment(disk, directory, baseOffset, handle, indexIntervalBytes, nowMs)
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
    this.#indexTrusted = true
    this.#indexesSynced = false
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
   * After a clean shutdown: trusts the index files if they pass Kafka's sanity check (whole
   * entries, increasing offsets and positions inside the file), a sample of entries points at
   * batch starts with the indexed last offset, the tail after the last entry parses to the
   * end of the file, and the time index fits the log (`#timeIndexMatches`); only that tail
   * and one batch header are read. Otherwise falls back to a full `recover`.
   * Returns whether it had to recover and the bytes that recovery cut from the tail.
   */
  async load (validateCrc: boolean): Promise<{ recovered: boolean, truncatedBytes: number }> {
    const fileBytes = (await this.#handle.stat()).size
    if (fileBytes === 0) {
      // An empty segment (a new partition, or one rolled just before shutdown) has nothing to
      // index: whatever its index files hold, the in-memory indexes start empty and are written
      // back at the next roll or close. Nothing is lost, so this is not a recovery.
      await this.recover(validateCrc)
      return { recovered: false, truncatedBytes: 0 }
    }
    const offsets = await this.#disk.readOptional(path.join(this.directory,
      segmentFileName(this.baseOffset, '.index')))
    const times = await this.#disk.readOptional(path.join(this.directory,
      segmentFileName(this.baseOffset, '.timeindex')))
    const usable = offsets !== undefined && times !== undefined && offsets.length > 0 &&
      indexIsSane(offsets, fileBytes) && timeIndexIsSane(times) &&
      await this.#sampleMatches(offsets) && await this.#loadTail(offsets, times, fileBytes) &&
      await this.#timeIndexMatches(times)
    const truncatedBytes = usable ? 0 : (await this.recover(validateCrc)).truncatedBytes
    this.#indexesSynced = usable
    return { recovered: !usable, truncatedBytes }
  }

  /** Up to INDEX_SAMPLE_COUNT evenly spaced entries must point at a batch ending there. */
  async #sampleMatches (offsets: Buffer): Promise<boolean> {
    const count = offsets.length / OFFSET_ENTRY_BYTES
    const step = Math.max(1, Math.floor(count / INDEX_SAMPLE_COUNT))
    for (let entry = 0; entry < count; entry += step) {
      const relative = offsets.readInt32BE(entry * OFFSET_ENTRY_BYTES)
      const position = offsets.readInt32BE(entry * OFFSET_ENTRY_BYTES + 4)
      const head = await this.#readAt(position, BATCH_HEADER_BYTES)
      if (!headerEndsAt(head, this.baseOffset + relative)) return false
    }
    return true
  }

  /** Parses the batches after the last index entry; false if they do not end the file. */
  async #loadTail (offsets: Buffer, times: Buffer, fileBytes: number): Promise<boolean> {
    const lastEntry = offsets.length - OFFSET_ENTRY_BYTES
    const tailPosition = offsets.readInt32BE(lastEntry + 4)
    const tailLastOffset = this.baseOffset + offsets.readInt32BE(lastEntry)
    const tail = await this.#readAt(tailPosition, fileBytes - tailPosition)
    if (!headerEndsAt(tail, tailLastOffset)) return false
    let position = 0
    let nextOffset = tailLastOffset + 1
    let maxTimestamp = -1
    let offsetOfMaxTimestamp = -1
    while (position + BATCH_HEADER_BYTES <= tail.length) {
      const size = tail.readInt32BE(position + 8) + LOG_OVERHEAD_BYTES
      if (size < BATCH_HEADER_BYTES || position + size > tail.length) break
      const lastOffset = readInt64(tail, position) + tail.readInt32BE(position + 23)
      if (lastOffset < nextOffset - 1) return false
      nextOffset = lastOffset + 1
      const timestamp = readInt64(tail, position + 35)
      if (timestamp > maxTimestamp) {
        maxTimestamp = timestamp
        offsetOfMaxTimestamp = lastOffset
      }
      position += size
    }
    if (tailPosition + position !== fileBytes) return false
    this.#offsetIndex.load(offsets)
    this.#timeIndex.load(times)
    this.size = fileBytes
    this.writtenBytes = fileBytes
    this.nextOffset = nextOffset
    this.#bytesSinceIndexEntry = position
    const lastTimeEntry = times.length - TIME_ENTRY_BYTES
    const indexedMax = lastTimeEntry >= 0 ? readInt64(times, lastTimeEntry) : -1
    if (indexedMax >= maxTimestamp) {
      this.maxTimestamp = indexedMax
      this.offsetOfMaxTimestamp = this.baseOffset + times.readInt32BE(lastTimeEntry + 8)
    } else {
      this.maxTimestamp = maxTimestamp
      this.offsetOfMaxTimestamp = offsetOfMaxTimestamp
    }
    return true
  }

  /**
   * The time index fits the loaded log: its last entry (the newest, with the highest offset:
   * `timeIndexIsSane` checked the order) is the segment's maximum timestamp at the last offset
   * of the batch that carries it, as `writeIndexes` leaves it. Kafka's TimeIndex.sanityCheck
   * looks at the order only, which lets a garbage file whose entries happen to increase through.
   */
  async #timeIndexMatches (times: Buffer): Promise<boolean> {
    // The first batch of a segment always adds a time entry (unless its timestamp is -1), so an
    // empty file beside a non-empty log is one whose write was cut short: trusting it would
    // take the tail's maximum for the segment's (rebuilding costs one scan of the segment).
    if (times.length === 0) return false
    const last = times.length - TIME_ENTRY_BYTES
    const offset = this.baseOffset + times.readInt32BE(last + 8)
    if (offset >= this.nextOffset) return false
    const header = await this.#headerOfBatchEndingAt(offset)
    return header !== undefined &&
      readInt64(header, MAX_TIMESTAMP_OFFSET) === readInt64(times, last)
  }

  /** The header of the batch whose last offset is `offset`, found from the offset index. */
  async #headerOfBatchEndingAt (offset: number): Promise<Buffer | undefined> {
    let position = this.lookup(offset)
    while (position + BATCH_HEADER_BYTES <= this.writtenBytes) {
      const chunk = await this.#readAt(position,
        Math.min(SCAN_CHUNK_BYTES, this.writtenBytes - position))
      let at = 0
      while (at + BATCH_HEADER_BYTES <= chunk.length) {
        const size = chunk.readInt32BE(at + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD_BYTES
        if (size < BATCH_HEADER_BYTES) return undefined
        const lastOffset = lastOffsetOf(chunk, at)
        if (lastOffset >= offset) {
          return lastOffset === offset ? chunk.subarray(at, at + BATCH_HEADER_BYTES) : undefined
        }
        at += size
      }
      // Batches were validated up to writtenBytes, so each pass moves forward.
      position += at
    }
    return undefined
  }

  #readAt (position: number, length: number): Promise<Buffer> {
    const buffer = Buffer.allocUnsafe(length)
    return this.#handle.read(buffer, 0, length, position)
      .then(({ bytesRead }) => buffer.subarray(0, bytesRead))
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
    assert(lastOffset >= baseOffset, 'a batch ends at or after its base offset')
    if (maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = maxTimestamp
      this.offsetOfMaxTimestamp = lastOffset
    }
    if (this.#bytesSinceIndexEntry > this.#indexIntervalBytes || this.#offsetIndex.count === 0) {
      // Kafka's LogSegment.append: the entry holds the appended batch's LAST offset and the
      // position where that batch starts, and the time index gets (max timestamp so far, its
      // offset) when the maximum grew since the previous time entry.
      this.#indexesSynced = false
      const at = this.#offsetIndex.slot()
      this.#offsetIndex.buffer.writeInt32BE(lastOffset - this.baseOffset, at)
      this.#offsetIndex.buffer.writeInt32BE(this.size, at + 4)
      this.#maybeAppendTimeEntry()
      this.#bytesSinceIndexEntry = 0
    }
    this.#bytesSinceIndexEntry += size
    this.size += size
  }

  #maybeAppendTimeEntry (): void {
    const count = this.#timeIndex.count
    const lastTimestamp = count > 0
      ? readInt64(this.#timeIndex.buffer, (count - 1) * TIME_ENTRY_BYTES)
      : -1
    if (this.maxTimestamp <= lastTimestamp) return
    this.#indexesSynced = false
    const at = this.#timeIndex.slot()
    writeInt64(this.#timeIndex.buffer, at, this.maxTimestamp)
    this.#timeIndex.buffer.writeInt32BE(this.offsetOfMaxTimestamp - this.baseOffset, at + 8)
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

  /**
   * The file position to start scanning at for `offset`: the start of the batch of the largest
   * index entry ≤ `offset` (Kafka's OffsetIndex.lookup), or 0. Every batch before that position
   * ends before `offset`.
   */
  lookup (offset: number): number {
    if (!this.#indexTrusted) return 0
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

  /**
   * The file position to start a timestamp search at. An entry (T, O) says every offset ≤ O
   * has a timestamp ≤ T, so the scan starts at the batch of O of the last entry with
   * T < `timestampMs` (binary search; entries have increasing timestamps).
   */
  lookupTimestamp (timestampMs: number): number {
    if (!this.#indexTrusted) return 0
    const entries = this.#timeIndex.buffer
    let low = 0
    let high = this.#timeIndex.count - 1
    let found = -1
    while (low <= high) {
      const middle = (low + high) >>> 1
      if (readInt64(entries, middle * TIME_ENTRY_BYTES) < timestampMs) {
        found = middle
        low = middle + 1
      } else {
        high = middle - 1
      }
    }
    if (found < 0) return 0
    return this.lookup(this.baseOffset + entries.readInt32BE(found * TIME_ENTRY_BYTES + 8))
  }

  /**
   * Called by a reader that found no batch start at an indexed position: the index passed the
   * load-time checks but is wrong. From now on lookups scan from the segment start (slow but
   * correct), and the index files are rewritten empty so the next start rebuilds them.
   */
  distrustIndex (): void {
    this.#indexTrusted = false
    this.#indexesSynced = false
  }

  get indexTrusted (): boolean {
    return this.#indexTrusted
  }

  /** Whether the index files on disk are fsynced and hold every entry in memory. */
  get indexesSynced (): boolean {
    return this.#indexesSynced
  }

  /** Reads `length` bytes at `position`, never past what is written. */
  read (position: number, length: number): Promise<Buffer> {
    const available = Math.max(0, Math.min(length, this.writtenBytes - position))
    if (available === 0) return Promise.resolve(Buffer.alloc(0))
    return this.#readAt(position, available)
  }

  /**
   * Drops everything from `position` (a batch start, found by the caller) on, as Kafka's
   * LogSegment.truncateTo: index entries at or past it go, time entries for offsets at or past
   * `nextOffset` go, and only the batches after the last kept index entry are read to restore
   * the maximum timestamp. A distrusted index is rebuilt by a full scan instead.
   */
  async truncateAt (position: number, nextOffset: number): Promise<void> {
    assert(position <= this.writtenBytes, 'truncation cuts written bytes only')
    await this.#handle.truncate(position)
    if (!this.#indexTrusted) {
      await this.recover(false)
      return
    }
    this.#indexesSynced = false
    const offsets = this.#offsetIndex
    while (offsets.count > 0 &&
      offsets.buffer.readInt32BE((offsets.count - 1) * OFFSET_ENTRY_BYTES + 4) >= position) {
      offsets.truncate(offsets.count - 1)
    }
    const times = this.#timeIndex
    while (times.count > 0 && this.baseOffset +
      times.buffer.readInt32BE((times.count - 1) * TIME_ENTRY_BYTES + 8) >= nextOffset) {
      times.truncate(times.count - 1)
    }
    const lastEntryPosition = offsets.count > 0
      ? offsets.buffer.readInt32BE((offsets.count - 1) * OFFSET_ENTRY_BYTES + 4)
      : 0
    this.maxTimestamp = -1
    this.offsetOfMaxTimestamp = -1
    if (times.count > 0) {
      this.maxTimestamp = readInt64(times.buffer, (times.count - 1) * TIME_ENTRY_BYTES)
      this.offsetOfMaxTimestamp = this.baseOffset +
        times.buffer.readInt32BE((times.count - 1) * TIME_ENTRY_BYTES + 8)
    }
    const tail = await this.#readAt(lastEntryPosition, position - lastEntryPosition)
    for (let at = 0; at + BATCH_HEADER_BYTES <= tail.length;) {
      const size = tail.readInt32BE(at + 8) + LOG_OVERHEAD_BYTES
      assert(size >= BATCH_HEADER_BYTES, 'batches before a truncation point were validated')
      const timestamp = readInt64(tail, at + 35)
      if (timestamp > this.maxTimestamp) {
        this.maxTimestamp = timestamp
        this.offsetOfMaxTimestamp = readInt64(tail, at) + tail.readInt32BE(at + 23)
      }
      at += size
    }
    this.size = position
    this.writtenBytes = position
    this.nextOffset = nextOffset
    this.#bytesSinceIndexEntry = position - lastEntryPosition
  }


  /**
   * Writes both indexes (with a final time-index entry for the segment's maximum timestamp, as
   * Kafka's onBecomeInactiveSegment), fsynced when `sync` (clean shutdown: the marker that
   * follows vouches for them). A distrusted index is written empty, to be rebuilt at start.
   */
  async writeIndexes (sync: boolean): Promise<void> {
    if (this.#renamedSuffixes !== undefined) return
    this.#maybeAppendTimeEntry()
    if (sync && this.#indexesSynced) return
    const write = async (suffix: string, bytes: Buffer): Promise<void> => {
      // Renamed for deletion meanwhile: the plain name is no longer this segment's.
      if (this.#renamedSuffixes !== undefined) return
      const handle = await this.#disk.open(path.join(this.directory,
        segmentFileName(this.baseOffset, suffix)), 'replace')
      try {
        await handle.writeFile(bytes)
        if (sync) await handle.datasync()
      } finally {
        await handle.close()
      }
    }
    const empty = Buffer.alloc(0)
    await write('.index', this.#indexTrusted ? this.#offsetIndex.bytes() : empty)
    await write('.timeindex', this.#indexTrusted ? this.#timeIndex.bytes() : empty)
    // Appends during an unsynced write re-clear the flag (#track), so this is only ever true
    // for files that hold every entry.
    if (sync) this.#indexesSynced = true
  }

  /** Whether the index would force a roll: it holds `segment.index.bytes` (Kafka: isFull). */
  indexFull (segmentIndexBytes: number): boolean {
    return (this.#offsetIndex.count + 1) * OFFSET_ENTRY_BYTES > segmentIndexBytes
  }

  async close (): Promise<void> {
    await this.#handle.close()
  }

  /**
   * Renames the segment's files to `<name>.deleted` (Kafka's asynchronous segment deletion):
   * readers holding the open handle keep reading; `delete` removes them later, and a start-up
   * removes any `.deleted` file left by a crash.
   */
  async renameForDeletion (options: { keepSnapshot?: boolean, keepTxnIndex?: boolean } = {}):
  Promise<void> {
    // From now on the plain names may belong to a cleaned copy of this segment: nothing of this
    // segment writes or removes them again (writeIndexes, delete). `keepTxnIndex`: the cleaned
    // copy's `.txnindex` already replaced this segment's (PartitionLog.replaceSegments).
    this.#renamedSuffixes = SEGMENT_SUFFIXES.filter(suffix =>
      !(suffix === '.snapshot' && options.keepSnapshot === true) &&
      !(suffix === '.txnindex' && options.keepTxnIndex === true))
    // A segment replaced by its cleaned copy keeps the producer snapshot at its base: the
    // producer state it describes is still that of the log at that offset.
    for (const suffix of this.#renamedSuffixes) {
      const file = path.join(this.directory, segmentFileName(this.baseOffset, suffix))
      await this.#disk.rename(file, `${file}.deleted`).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error
      })
    }
  }

  /**
   * A reader holds the segment open across its awaits (`retain` … `release`): deletion waits for
   * the last reader, so a read that began before a segment was deleted (retention,
   * DeleteRecords) or replaced reads the bytes it began with, never a closed handle.
   */
  retain (): void {
    this.#readers++
  }

  release (): void {
    assert(this.#readers > 0, 'every release follows a retain')
    this.#readers--
    if (this.#readers === 0) {
      const idle = this.#idleWaiters
      this.#idleWaiters = []
      for (const resolve of idle) resolve()
    }
  }

  get readers (): number {
    return this.#readers
  }

  /** Deletes the files once no reader holds the segment (see `retain`). */
  async deleteWhenUnread (): Promise<void> {
    while (this.#readers > 0) {
      await new Promise<void>(resolve => { this.#idleWaiters.push(resolve) })
    }
    await this.delete()
  }

  async delete (): Promise<void> {
    await this.#handle.close().catch(() => undefined)
    const renamed = this.#renamedSuffixes
    for (const suffix of renamed ?? SEGMENT_SUFFIXES) {
      const file = path.join(this.directory, segmentFileName(this.baseOffset, suffix))
      if (renamed === undefined) await this.#disk.remove(file)
      await this.#disk.remove(`${file}.deleted`)
    }
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

/**
 * Time entries are whole, their timestamps increase (Kafka's TimeIndex.sanityCheck) and their
 * offsets do not decrease from the segment's base.
 */
function timeIndexIsSane (entries: Buffer): boolean {
  if (entries.length % TIME_ENTRY_BYTES !== 0) return false
  let previousTimestamp = -1
  let previousOffset = 0
  for (let at = 0; at < entries.length; at += TIME_ENTRY_BYTES) {
    // NaN (a timestamp past 2^53) fails the comparison too.
    const timestamp = readInt64(entries, at)
    const relative = entries.readInt32BE(at + 8)
    if (!(timestamp > previousTimestamp) || relative < previousOffset) return false
    previousTimestamp = timestamp
    previousOffset = relative
  }
  return true
}

/** True when `head` starts with a v2 batch header whose last offset is `lastOffset`. */
export function headerEndsAt (head: Buffer, lastOffset: number): boolean {
  if (head.length < BATCH_HEADER_BYTES) return false
  if (head.readInt8(16) !== 2) return false
  if (head.readInt32BE(8) + LOG_OVERHEAD_BYTES < BATCH_HEADER_BYTES) return false
  return readInt64(head, 0) + head.readInt32BE(23) === lastOffset
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
