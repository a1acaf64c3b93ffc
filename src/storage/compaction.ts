/**
 * Compaction of one log (Kafka's Cleaner.doClean): keep at least the last record of every key.
 *
 * 1. Range: the dirty section runs from the first dirty offset (the cleaner checkpoint, never
 *    below the log start) to the end of the cleanable segments: inactive, wholly below the high
 *    watermark and the last stable offset (Kafka's cleaner stops at min(HW, LSO): an open
 *    transaction's records may still abort, so they must neither be cleaned nor supersede
 *    anything), and older than min.compaction.lag.ms (by their largest timestamp).
 * 2. Map: the dirty section's keys → their last offset, in a bounded OffsetMap; when it is full
 *    the pass stops at a batch boundary (`mapEnd`) and the rest stays dirty for the next pass.
 * 3. Rewrite: every cleanable segment below `mapEnd`, in groups whose total size fits
 *    segment.bytes, is copied without the records the map supersedes; tombstones reached by a
 *    cleaning at least delete.retention.ms ago go too. Batches keep their base offsets and
 *    producer fields (batch-filter.ts). A batch left empty stays, as an empty batch, when it is
 *    the last of its group (so the group still ends at the same offset and the log stays
 *    contiguous) or is one of the last batches of a producer that idempotence still tracks (a
 *    restart's replay needs it; Kafka keeps each producer's last batch); otherwise it goes.
 *    Transactions (cleaned-transactions.ts, Kafka's CleanedTransactionMetadata): the records
 *    of aborted transactions go (and never enter the map); a COMMIT marker goes once no record
 *    of its transaction is left, an ABORT marker once an earlier pass removed its records, and
 *    either only when a cleaning reached it at least delete.retention.ms ago (markers are
 *    retained like tombstones, so a reader that saw the data sees the marker). Each group gets
 *    a new `.txnindex` holding the entries of the ABORT markers it kept (Kafka's cleanedIndex).
 * 4. Swap, crash safe: `<base>.log.cleaned` and `<base>.txnindex.cleaned` are written and
 *    fsynced; the producer snapshots a removed marker makes stale are deleted
 *    (forgetStaleSnapshots); the files are renamed `.swap` (the index first), the directory
 *    fsynced, then
 *    PartitionLog.replaceSegments renames the old files `.deleted` and the swap files into
 *    place, and drops the removed markers' entries from memory (swap-recovery.ts finishes it
 *    after a crash).
 *
 * Runs off the append path: appends never wait for it; reads of replaced segments finish on the
 * old files (LogSegment.retain).
 */
import path from 'node:path'
import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import type { Disk, DiskFile } from '../io/disk.js'
import {
  ATTRIBUTES_OFFSET, BATCH_HEADER_BYTES, LAST_OFFSET_DELTA_OFFSET, LOG_OVERHEAD_BYTES,
  PRODUCER_ID_OFFSET, RECORDS_COUNT_OFFSET, isControlBatch, isTransactionalBatch, readInt64,
} from '../records/batch-header.js'
import { controlTypeOf } from '../records/control-batch.js'
import { filterBatch } from './batch-filter.js'
import { CleanedTransactions, type RemovedMarker } from './cleaned-transactions.js'
import { listSnapshots } from './log-loader.js'
import { readHolding } from './log-reader.js'
import { OffsetMap } from './offset-map.js'
import type { PartitionLog } from './partition-log.js'
import { ProducerState } from './producer-state.js'
import { largestTimestamp } from './retention.js'
import { segmentFileName, type LogSegment } from './segment.js'
import { TXN_INDEX_SUFFIX, writeCleanedTxnIndex, type AbortedTxn } from './txn-index.js'

/** A cleaning reached `offset` at `timeMs`: tombstones below it expire delete.retention.ms on. */
export interface TombstoneMark {
  offset: number
  timeMs: number
}

/** What the cleaner remembers of a log between cleanings (cleaner checkpoints). */
export interface CleanerState {
  /** Everything below it has been cleaned once (Kafka's cleaner-offset-checkpoint). */
  firstDirtyOffset: number
  marks: TombstoneMark[]
}

export interface DirtyRange {
  firstDirtyOffset: number
  /** The end of the cleanable segments (after min.compaction.lag.ms). */
  cleanableEnd: number
  cleanBytes: number
  dirtyBytes: number
  /** dirty / (clean + dirty), 0 with nothing cleanable. */
  ratio: number
  /** Whether max.compaction.lag.ms forces a cleaning whatever the ratio. */
  overdue: boolean
}

export interface CleanResult {
  /** The new first dirty offset. */
  cleanedTo: number
  bytesRead: number
  bytesWritten: number
  recordsRemoved: number
  tombstonesRemoved: number
  segmentsBefore: number
  segmentsAfter: number
}

export interface CleanOptions {
  disk: Disk
  nowMs: number
  dedupeBufferBytes: number
  /** Called with the bytes read or written so far, to pace the cleaner (the I/O throttle). */
  throttle?: (bytes: number) => Promise<void>
  /**
   * Runs the map and copy passes elsewhere (a worker thread, log-cleaner.ts); without it they
   * run here, on the segments themselves.
   */
  runner?: (task: CleanTask) => Promise<CleanedGroups | undefined>
}

/** What the map and copy passes read: a LogSegment here, a read-only file in a worker. */
export interface SegmentSource {
  baseOffset: number
  nextOffset: number
  size: number
  writtenBytes: number
  read (position: number, length: number): Promise<Buffer>
}

/** A cleaning's map and copy passes as plain data, so that it can go to a worker thread. */
export interface CleanTask {
  directory: string
  segments: { path: string, baseOffset: number, nextOffset: number, size: number,
    writtenBytes: number }[]
  firstDirtyOffset: number
  /** Tombstones below this offset have expired (tombstoneHorizon). */
  horizon: number
  segmentBytes: number
  dedupeBufferBytes: number
  nowMs: number
  state: CleanerState
  /** Last offsets of the producer batches idempotence still needs (kept even when emptied). */
  producerBatchEnds: number[]
  /** The aborted transactions overlapping the cleanable segments (their `.txnindex`). */
  abortedTransactions: AbortedTxn[]
}

/**
 * The `.cleaned` files written, one per group of `count` consecutive segments, in order: the
 * segment (`cleanedPath`) and its new `.txnindex` (`cleanedIndexPath`, holding `abortedIndex`:
 * the entries of the ABORT markers the group kept).
 */
export interface CleanedGroups {
  mapEnd: number
  groups: CleanedGroup[]
  counters: GroupCounters
}

export interface CleanedGroup {
  cleanedPath: string
  cleanedIndexPath: string
  count: number
  abortedIndex: AbortedTxn[]
  /** The transaction markers (COMMIT or ABORT) the group no longer holds. */
  removedMarkers: RemovedMarker[]
}

/** `<base>.txnindex.cleaned` beside `<base>.log.cleaned`. */
export function cleanedIndexPathOf (cleanedPath: string): string {
  return cleanedPath.replace(/\.log\.cleaned$/, `${TXN_INDEX_SUFFIX}.cleaned`)
}

/** Bytes read at once while scanning a segment. */
const CLEANER_READ_BYTES = 1024 * 1024
/** Bytes of cleaned batches gathered before one write. */
const CLEANER_WRITE_BYTES = 1024 * 1024
const RELATIVE_OFFSET_MAX = 0x7fffffff

/**
 * The segments the cleaner may touch now: cleanable (below the high watermark), wholly below
 * the last stable offset, and past min.compaction.lag.ms.
 */
function cleanableNow (log: PartitionLog, nowMs: number): readonly LogSegment[] {
  const lag = log.config.minCompactionLagMs
  const lastStableOffset = log.lastStableOffset
  const segments: LogSegment[] = []
  for (const segment of log.cleanableSegments) {
    if (segment.nextOffset > lastStableOffset) break
    if (nowMs - largestTimestamp(segment) < lag) break
    segments.push(segment)
  }
  return segments
}

/** Kafka's LogToClean: the clean and dirty bytes that decide which log to clean first. */
export function dirtyRange (log: PartitionLog, state: CleanerState, nowMs: number): DirtyRange {
  const segments = cleanableNow(log, nowMs)
  // Kafka's LogCleanerManager: a checkpoint past the log end (a partition deleted and created
  // again under the same name) is invalid, and cleaning starts from the log start.
  const checkpointed = state.firstDirtyOffset > log.logEndOffset ? 0 : state.firstDirtyOffset
  const firstDirtyOffset = Math.max(checkpointed, log.logStartOffset)
  let cleanBytes = 0
  let dirtyBytes = 0
  let firstDirtySegment: LogSegment | undefined
  for (const segment of segments) {
    if (segment.nextOffset <= firstDirtyOffset) {
      cleanBytes += segment.size
    } else {
      dirtyBytes += segment.size
      firstDirtySegment ??= segment
    }
  }
  const cleanableEnd = segments[segments.length - 1]?.nextOffset ?? firstDirtyOffset
  const total = cleanBytes + dirtyBytes
  return {
    firstDirtyOffset,
    cleanableEnd,
    cleanBytes,
    dirtyBytes,
    ratio: total === 0 ? 0 : dirtyBytes / total,
    overdue: firstDirtySegment !== undefined &&
      nowMs - largestTimestamp(firstDirtySegment) > log.config.maxCompactionLagMs,
  }
}

/** Whether the log is due for cleaning (compact policy, enough dirt or overdue). */
export function needsCleaning (log: PartitionLog, range: DirtyRange): boolean {
  if (!log.config.cleanupPolicy.includes('compact') || range.dirtyBytes === 0) return false
  return range.ratio >= log.config.minCleanableDirtyRatio || range.overdue
}

/**
 * Batches the cleaner handles between two yields to the event loop: filtering and hashing are
 * synchronous, and a whole 1 MiB chunk of small batches at once held produce requests back
 * (the bench's p99 with the cleaner running).
 */
const BATCHES_PER_YIELD = 64

/** The batches of a segment's written bytes, in order. */
async function * batchesOf (segment: SegmentSource,
  cooperative: boolean): AsyncGenerator<Buffer> {
  let position = 0
  let count = 0
  while (position < segment.writtenBytes) {
    const chunk = await segment.read(position, CLEANER_READ_BYTES)
    let at = 0
    while (at + BATCH_HEADER_BYTES <= chunk.length) {
      const size = chunk.readInt32BE(at + 8) + LOG_OVERHEAD_BYTES
      if (size < BATCH_HEADER_BYTES) {
        throw new Error(`impossible batch length ${size} in segment ${segment.baseOffset}`)
      }
      if (at + size > chunk.length) break
      yield chunk.subarray(at, at + size)
      at += size
      if (cooperative && ++count % BATCHES_PER_YIELD === 0) await yieldToEventLoop()
    }
    if (at === 0) {
      if (chunk.length < BATCH_HEADER_BYTES) return
      // One batch larger than the read: read it whole.
      const size = chunk.readInt32BE(8) + LOG_OVERHEAD_BYTES
      yield await segment.read(position, size)
      position += size
      continue
    }
    position += at
  }
}

function lastOffsetOf (batch: Buffer): number {
  return readInt64(batch, 0) + batch.readInt32BE(LAST_OFFSET_DELTA_OFFSET)
}

/**
 * Fills `map` with the keys of the dirty section; returns the offset the map covers up to (a
 * batch boundary: a batch that might not fit is left for the next pass).
 */
async function buildOffsetMap (segments: readonly SegmentSource[], firstDirtyOffset: number,
  map: OffsetMap, progress: { bytesRead: number }, io: CleanerIo,
  aborted: readonly AbortedTxn[]): Promise<number> {
  let mapEnd = firstDirtyOffset
  const txns = new CleanedTransactions(aborted)
  for (const segment of segments) {
    if (segment.nextOffset <= firstDirtyOffset) continue
    for await (const batch of batchesOf(segment, io.worker !== true)) {
      progress.bytesRead += batch.length
      if (lastOffsetOf(batch) < firstDirtyOffset) continue
      const attributes = batch.readInt16BE(ATTRIBUTES_OFFSET)
      const producerId = readInt64(batch, PRODUCER_ID_OFFSET)
      if (isControlBatch(attributes)) {
        txns.endTransaction(producerId, lastOffsetOf(batch), undefined)
        mapEnd = lastOffsetOf(batch) + 1
        continue
      }
      // Aborted records are never the latest value of a key (Kafka's buildOffsetMap skips them).
      if (txns.isAborted(producerId, isTransactionalBatch(attributes), lastOffsetOf(batch))) {
        mapEnd = lastOffsetOf(batch) + 1
        continue
      }
      if (map.size + batch.readInt32BE(RECORDS_COUNT_OFFSET) > map.capacity) return mapEnd
      await filterBatch(batch, record => {
        if (record.key !== null && record.offset >= firstDirtyOffset) {
          map.put(record.key, record.offset)
        }
        return true
      })
      mapEnd = lastOffsetOf(batch) + 1
    }
    await io.throttle?.(progress.bytesRead)
  }
  return mapEnd
}

/** Consecutive segments below `mapEnd`, grouped so that each group fits one segment. */
function groupSegments<T extends SegmentSource> (segments: readonly T[], mapEnd: number,
  segmentBytes: number): T[][] {
  const groups: T[][] = []
  let group: T[] = []
  let bytes = 0
  for (const segment of segments) {
    if (segment.baseOffset >= mapEnd) break
    const first = group[0]
    if (first !== undefined && (bytes + segment.size > segmentBytes ||
      segment.nextOffset - 1 - first.baseOffset > RELATIVE_OFFSET_MAX)) {
      groups.push(group)
      group = []
      bytes = 0
    }
    group.push(segment)
    bytes += segment.size
  }
  if (group.length > 0) groups.push(group)
  return groups
}

/** The highest offset below which tombstones have expired: reached ≥ delete.retention.ms ago. */
export function tombstoneHorizon (marks: readonly TombstoneMark[], deleteRetentionMs: number,
  nowMs: number): number {
  let horizon = -1
  for (const mark of marks) {
    if (mark.timeMs + deleteRetentionMs <= nowMs) horizon = Math.max(horizon, mark.offset)
  }
  return horizon
}

/**
 * The marks after a cleaning that reached `offset` at `nowMs`: expired marks collapse into the
 * one reaching furthest; a new mark is added only if the newest is at least an eighth of
 * delete.retention.ms old (else its tombstones wait for a later mark, which only keeps them
 * longer). So at most about ten marks live per log.
 */
export function nextMarks (marks: readonly TombstoneMark[], offset: number,
  deleteRetentionMs: number, nowMs: number): TombstoneMark[] {
  const expired = marks.filter(mark => mark.timeMs + deleteRetentionMs <= nowMs)
  const live = marks.filter(mark => mark.timeMs + deleteRetentionMs > nowMs)
  const result: TombstoneMark[] = []
  const furthest = expired.reduce<TombstoneMark | undefined>((best, mark) =>
    best === undefined || mark.offset > best.offset ? mark : best, undefined)
  if (furthest !== undefined) result.push(furthest)
  result.push(...live)
  const newest = result[result.length - 1]
  if ((newest === undefined || nowMs - newest.timeMs >= deleteRetentionMs / 8) &&
    offset > (newest?.offset ?? -1)) {
    result.push({ offset, timeMs: nowMs })
  }
  return result
}

export interface GroupCounters {
  bytesRead: number
  bytesWritten: number
  recordsRemoved: number
  tombstonesRemoved: number
}

/** Writes the cleaned copy of `group` to `cleanedPath` (`<base>.log.cleaned`), fsynced. */
async function writeCleanedGroup (cleanedPath: string, group: readonly SegmentSource[],
  keep: (offset: number, key: Buffer | null, tombstone: boolean) => boolean,
  task: CleanTask, counters: GroupCounters, io: CleanerIo,
  txns: CleanedTransactions): Promise<Pick<CleanedGroup, 'abortedIndex' | 'removedMarkers'>> {
  const needed = new Set(task.producerBatchEnds)
  const file = await io.disk.open(cleanedPath, 'replace')
  let pending: Buffer[] = []
  let pendingBytes = 0
  let position = 0
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return
    await writeAll(file, pending, position)
    position += pendingBytes
    counters.bytesWritten += pendingBytes
    pending = []
    pendingBytes = 0
    await io.throttle?.(counters.bytesRead + counters.bytesWritten)
  }
  try {
    let held: Buffer | undefined
    const emit = async (batch: Buffer, last: boolean): Promise<void> => {
      const output = await cleanBatch(batch, last || needed.has(lastOffsetOf(batch)), keep,
        { txns, horizon: task.horizon }, counters)
      if (output === undefined) return
      pending.push(output)
      pendingBytes += output.length
      if (pendingBytes >= CLEANER_WRITE_BYTES) await flush()
    }
    for (const segment of group) {
      for await (const batch of batchesOf(segment, io.worker !== true)) {
        counters.bytesRead += batch.length
        // One batch behind, so that the group's last batch is known when it is cleaned.
        if (held !== undefined) await emit(held, false)
        held = Buffer.from(batch)
      }
    }
    if (held !== undefined) await emit(held, true)
    await flush()
    await file.datasync()
  } finally {
    await file.close()
  }
  const abortedIndex = txns.takeCleanedIndex()
  await writeCleanedTxnIndex(io.disk, cleanedIndexPathOf(cleanedPath), abortedIndex)
  return { abortedIndex, removedMarkers: txns.takeRemovedMarkers() }
}

/**
 * `retain`: the batch stays even if emptied (its group's last, or a producer still needs it).
 * `horizon`: offsets below it were reached by a cleaning delete.retention.ms ago or more.
 */
async function cleanBatch (batch: Buffer, retain: boolean,
  keep: (offset: number, key: Buffer | null, tombstone: boolean) => boolean,
  transactions: { txns: CleanedTransactions, horizon: number },
  counters: GroupCounters): Promise<Buffer | undefined> {
  const attributes = batch.readInt16BE(ATTRIBUTES_OFFSET)
  const producerId = readInt64(batch, PRODUCER_ID_OFFSET)
  const lastOffset = lastOffsetOf(batch)
  const { txns, horizon } = transactions
  if (isControlBatch(attributes)) {
    let controlType: number | undefined
    await filterBatch(batch, record => {
      controlType ??= controlTypeOf(record.key)
      return true
    })
    const fate = txns.endTransaction(producerId, lastOffset, controlType)
    if (!retain && fate.removable && lastOffset < horizon) {
      txns.removeMarker(producerId, lastOffset)
      return undefined
    }
    txns.keepMarker(fate)
    return batch
  }
  const transactional = isTransactionalBatch(attributes)
  const aborted = txns.isAborted(producerId, transactional, lastOffset)
  let tombstones = 0
  const result = await filterBatch(batch, record => {
    const kept = !aborted && keep(record.offset, record.key, record.tombstone)
    if (!kept && record.tombstone) tombstones++
    return kept
  })
  counters.recordsRemoved += result.removed
  counters.tombstonesRemoved += tombstones
  if (result.kept === 0 && !retain) return undefined
  // A batch of the transaction stays (with records, or emptied for producer state): its marker
  // must stay too, or a replay would see the batch open a transaction that never ends.
  if (transactional && !aborted) txns.keptRecords(producerId)
  return result.batch
}

async function writeAll (file: DiskFile, buffers: Buffer[], position: number): Promise<void> {
  let expected = 0
  for (const buffer of buffers) expected += buffer.length
  let written = 0
  let rest = buffers
  while (written < expected) {
    const { bytesWritten } = await file.writev(rest, position + written)
    written += bytesWritten
    if (written < expected) rest = [Buffer.concat(buffers).subarray(written)]
  }
}

/** The file system side of the map and copy passes. */
export interface CleanerIo {
  disk: Disk
  throttle?: (bytes: number) => Promise<void>
  /** Running in a worker thread: no need to yield to an event loop that serves clients. */
  worker?: boolean
}

/**
 * The map and copy passes of a cleaning (steps 2 and 3 of the module comment) over `sources`
 * (the task's segments, in order): writes one fsynced `.cleaned` file per group. Undefined when
 * the map could not take one batch of the dirty section. Pure file work: runs in a worker.
 */
export async function compactSegments (sources: readonly SegmentSource[], task: CleanTask,
  io: CleanerIo): Promise<CleanedGroups | undefined> {
  const map = new OffsetMap(task.dedupeBufferBytes)
  const counters: GroupCounters = {
    bytesRead: 0, bytesWritten: 0, recordsRemoved: 0, tombstonesRemoved: 0,
  }
  const mapEnd = await buildOffsetMap(sources, task.firstDirtyOffset, map, counters, io,
    task.abortedTransactions)
  if (mapEnd <= task.firstDirtyOffset) return undefined
  const keep = (offset: number, key: Buffer | null, tombstone: boolean): boolean => {
    if (offset >= mapEnd || key === null) return true
    const latest = map.get(key)
    if (latest !== undefined && offset < latest) return false
    return !(tombstone && offset < task.horizon)
  }
  const groups: CleanedGroup[] = []
  // One pass in offset order over every group: a transaction may span segments.
  const txns = new CleanedTransactions(task.abortedTransactions)
  for (const group of groupSegments(sources, mapEnd, task.segmentBytes)) {
    const cleanedPath = path.join(task.directory,
      `${segmentFileName((group[0] as SegmentSource).baseOffset, '.log')}.cleaned`)
    const cleanedIndexPath = cleanedIndexPathOf(cleanedPath)
    try {
      const transactions = await writeCleanedGroup(cleanedPath, group, keep, task, counters, io,
        txns)
      groups.push({ cleanedPath, cleanedIndexPath, count: group.length, ...transactions })
    } catch (error) {
      // Nothing refers to a `.cleaned` file: the old segments are intact.
      for (const written of [...groups, { cleanedPath, cleanedIndexPath }]) {
        await io.disk.remove(written.cleanedPath).catch(() => undefined)
        await io.disk.remove(written.cleanedIndexPath).catch(() => undefined)
      }
      throw error
    }
  }
  return { mapEnd, groups, counters }
}

async function removeCleanedFiles (disk: Disk, groups: readonly CleanedGroup[]):
Promise<void> {
  for (const group of groups) {
    await disk.remove(group.cleanedPath).catch(() => undefined)
    await disk.remove(group.cleanedIndexPath).catch(() => undefined)
  }
}

/**
 * Puts one cleaned group in place of `old` (step 4 of the module comment); on a failure before
 * the segment's `.log.swap` exists, removes this group's files and those of the groups `after`
 * it (the old segments stay).
 */
async function swapGroup (log: PartitionLog, old: readonly LogSegment[], group: CleanedGroup,
  after: readonly CleanedGroup[], disk: Disk): Promise<void> {
  const swapPath = group.cleanedPath.replace(/\.cleaned$/, '.swap')
  const indexSwapPath = group.cleanedIndexPath.replace(/\.cleaned$/, '.swap')
  try {
    // The index first: from the moment `.log.swap` exists it wins, and its index with it.
    await disk.rename(group.cleanedIndexPath, indexSwapPath)
    await disk.rename(group.cleanedPath, swapPath)
    await disk.syncDirectory(log.directory)
  } catch (error) {
    await disk.remove(indexSwapPath).catch(() => undefined)
    await removeCleanedFiles(disk, [group, ...after])
    throw error
  }
  await log.replaceSegments(old, swapPath, group.abortedIndex)
}

/**
 * A producer snapshot taken inside a transaction whose marker (COMMIT or ABORT) the cleaning
 * removes, at or before that marker, describes the transaction as open; a restart or a
 * truncation that replayed from it would never see it end (the last stable offset would stay
 * there for good). Such snapshots go before the swap can take effect (before `.log.swap`
 * exists: a crash in between only costs a longer replay from an earlier snapshot). A snapshot
 * showing the producer open at or before the removed marker is treated as taken inside its
 * transaction: at worst one more snapshot goes, which only lengthens a replay. Kafka's
 * UnifiedLog.replaceSegments goes further and deletes the snapshots of every replaced segment
 * but the first; this broker keeps the others (a shorter replay) and drops only those.
 */
async function forgetStaleSnapshots (disk: Disk, directory: string,
  removed: readonly RemovedMarker[]): Promise<void> {
  if (removed.length === 0) return
  const last = Math.max(...removed.map(marker => marker.offset))
  for (const offset of await listSnapshots(disk, directory)) {
    if (offset > last) break
    const file = path.join(directory, segmentFileName(offset, '.snapshot'))
    const bytes = await disk.readOptional(file)
    const state = new ProducerState()
    // An unreadable snapshot is skipped by the load as well.
    if (bytes === undefined || !state.loadSnapshot(bytes)) continue
    const open = new Set(state.activeProducers()
      .filter(producer => producer.currentTxnStartOffset >= 0)
      .map(producer => producer.producerId))
    if (removed.some(marker => offset <= marker.offset && open.has(marker.producerId))) {
      await disk.remove(file)
    }
  }
}

/**
 * Cleans `log` once (see the module comment). Returns undefined when there is nothing to do.
 * Throws on an I/O or format failure; the old segments then stay in place.
 */
export async function cleanLog (log: PartitionLog, state: CleanerState,
  options: CleanOptions): Promise<CleanResult | undefined> {
  const range = dirtyRange(log, state, options.nowMs)
  if (range.dirtyBytes === 0) return undefined
  const segments = cleanableNow(log, options.nowMs)
  // Held until the swaps are done: a worker reads the same files by name meanwhile.
  return readHolding(segments, async held => {
    const task: CleanTask = {
      directory: log.directory,
      segments: held.map(segment => ({ path: segment.logPath, baseOffset: segment.baseOffset,
        nextOffset: segment.nextOffset, size: segment.size, writtenBytes: segment.writtenBytes })),
      firstDirtyOffset: range.firstDirtyOffset,
      horizon: tombstoneHorizon(state.marks, log.config.deleteRetentionMs, options.nowMs),
      segmentBytes: log.config.segmentBytes,
      dedupeBufferBytes: options.dedupeBufferBytes,
      nowMs: options.nowMs,
      state,
      producerBatchEnds: log.producerBatchEnds,
      abortedTransactions: await log.abortedTransactionEntries(log.logStartOffset,
        segments[segments.length - 1]?.nextOffset ?? log.logStartOffset),
    }
    const cleaned = options.runner !== undefined
      ? await options.runner(task)
      : await compactSegments(held, task, { disk: options.disk, throttle: options.throttle })
    if (cleaned === undefined) return undefined
    let next = 0
    for (const [i, group] of cleaned.groups.entries()) {
      const old = held.slice(next, next + group.count)
      next += group.count
      try {
        await forgetStaleSnapshots(options.disk, log.directory, group.removedMarkers)
      } catch (error) {
        await removeCleanedFiles(options.disk, cleaned.groups.slice(i))
        throw error
      }
      await swapGroup(log, old, group, cleaned.groups.slice(i + 1), options.disk)
    }
    const { counters } = cleaned
    return {
      cleanedTo: cleaned.mapEnd,
      bytesRead: counters.bytesRead,
      bytesWritten: counters.bytesWritten,
      recordsRemoved: counters.recordsRemoved,
      tombstonesRemoved: counters.tombstonesRemoved,
      segmentsBefore: next,
      segmentsAfter: cleaned.groups.length,
    }
  })
}
