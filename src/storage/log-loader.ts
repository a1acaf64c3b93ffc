/**
 * Opening a partition directory (Kafka's LogLoader): remove stray temporary files, open every
 * segment in base-offset order, and either load its indexes (clean shutdown, or a segment below
 * the recovery point) or recover it (scan every batch from the segment start, checking length,
 * magic, offset order and CRC-32C, rebuilding the indexes, truncating at the first bad byte).
 *
 * After the first segment that needed truncation every later segment is deleted (LogLoader
 * does the same): acknowledgements go out in offset order and only after an fsync, so nothing
 * after a torn batch was acknowledged. So is a segment that starts past the end of the one
 * before it (it was rolled after data the crash took back).
 *
 * Producer state is rebuilt from the newest `.snapshot` at or below the log end plus a replay
 * of the batch headers after it; snapshots past the log end are deleted by the caller.
 *
 * Startup code (and truncation): runs while the log takes no appends. Failure: an I/O error
 * rejects the open.
 */
import path from 'node:path'
import type { Disk } from '../io/disk.js'
import {
  ATTRIBUTES_OFFSET, BASE_SEQUENCE_OFFSET, LAST_OFFSET_DELTA_OFFSET, MAX_TIMESTAMP_OFFSET,
  PRODUCER_EPOCH_OFFSET, PRODUCER_ID_OFFSET, isControlBatch, isTransactionalBatch, readInt64,
} from '../records/batch-header.js'
import { readControlMarker } from '../records/control-batch.js'
import { scanHeaders, type LogWarner } from './log-reader.js'
import type { ProducerState } from './producer-state.js'
import { LogSegment, segmentFileName } from './segment.js'
import { recoverSwapFiles } from './swap-recovery.js'

export interface LoadedSegments {
  segments: LogSegment[]
  /**
   * Segments holding data that were scanned (recovered) rather than loaded from their indexes;
   * an empty segment (a new partition's) has nothing to recover and is not counted.
   */
  recoveredCount: number
  truncatedBytes: number
}

export interface LoadOptions {
  disk: Disk
  directory: string
  indexIntervalBytes: number
  nowMs: number
  cleanShutdown: boolean
  recoveryPoint: number
  logStartOffset: number
}

const TEMPORARY_FILE = /\.(tmp|deleted|cleaned|swap)$/
const SEGMENT_FILE = /^\d{20}\.log$/
const SNAPSHOT_FILE = /^\d{20}\.snapshot$/

/** The base offsets of the `.snapshot` files in `directory`, ascending. */
export async function listSnapshots (disk: Disk, directory: string): Promise<number[]> {
  return (await disk.list(directory)).filter(name => SNAPSHOT_FILE.test(name))
    .map(name => Number(name.slice(0, 20))).sort((a, b) => a - b)
}

/** Deletes the snapshots for which `doomed(offset)` holds. */
export async function deleteSnapshots (disk: Disk, directory: string,
  doomed: (offset: number) => boolean): Promise<void> {
  for (const offset of await listSnapshots(disk, directory)) {
    if (!doomed(offset)) continue
    await disk.remove(path.join(directory, segmentFileName(offset, '.snapshot')))
  }
}

async function deleteSegments (disk: Disk, directory: string,
  bases: number[]): Promise<number> {
  let bytes = 0
  for (const base of bases) {
    const doomed = await LogSegment.open(disk, directory, base, 1, 0)
    bytes += await disk.size(doomed.logPath)
    await doomed.delete()
  }
  return bytes
}

const INDEX_FILE = /^(\d{20})\.(index|timeindex|txnindex)$/

/**
 * Removes `.index`, `.timeindex` and `.txnindex` files whose `.log` is gone: a crash between
 * the renames of a segment deletion or a cleaner swap leaves them (Kafka's LogLoader deletes
 * such orphaned index files too).
 */
async function removeOrphanIndexes (disk: Disk, directory: string,
  names: readonly string[]): Promise<void> {
  const logs = new Set(names.filter(name => SEGMENT_FILE.test(name)))
  for (const name of names) {
    const match = INDEX_FILE.exec(name)
    if (match !== null && !logs.has(`${match[1] as string}.log`)) {
      await disk.remove(path.join(directory, name))
    }
  }
}

export async function loadSegments (options: LoadOptions): Promise<LoadedSegments> {
  const { disk, directory } = options
  await recoverSwapFiles(disk, directory)
  const names = await disk.list(directory)
  for (const name of names) {
    if (TEMPORARY_FILE.test(name)) await disk.remove(path.join(directory, name))
  }
  await removeOrphanIndexes(disk, directory, names)
  const bases = names.filter(name => SEGMENT_FILE.test(name))
    .map(name => Number(name.slice(0, 20))).sort((a, b) => a - b)
  const created = bases.length === 0
  if (created) bases.push(Math.max(0, options.logStartOffset))
  const recoveryBase = bases.filter(base => base <= options.recoveryPoint).pop() ?? 0
  const loaded: LoadedSegments = { segments: [], recoveredCount: 0, truncatedBytes: 0 }
  for (let i = 0; i < bases.length; i++) {
    const base = bases[i] as number
    const previous = loaded.segments[loaded.segments.length - 1]
    if (previous !== undefined && base !== previous.nextOffset) {
      loaded.truncatedBytes += await deleteSegments(disk, directory, bases.slice(i))
      break
    }
    const segment = await LogSegment.open(disk, directory, base, options.indexIntervalBytes,
      options.nowMs)
    loaded.segments.push(segment)
    if (created) {
      // A new log: its one segment is empty and was never written, so there is nothing to
      // recover after any kind of shutdown.
      await segment.recover(false)
    } else if (!options.cleanShutdown && base >= recoveryBase) {
      const { truncatedBytes } = await segment.recover(true)
      if (segment.size > 0 || truncatedBytes > 0) loaded.recoveredCount++
      loaded.truncatedBytes += truncatedBytes
      // Segments after a cut one were never fsynced ahead of it: they go (Kafka's
      // LogLoader.recoverLog deletes the unflushed segments after a truncation).
      if (truncatedBytes > 0) {
        loaded.truncatedBytes += await deleteSegments(disk, directory, bases.slice(i + 1))
        break
      }
    } else {
      // After a clean shutdown the later segments were fsynced and stay; if the cut left a gap
      // in offsets, the contiguity check above drops them at the next base.
      const { recovered, truncatedBytes } = await segment.load(false)
      if (recovered) loaded.recoveredCount++
      loaded.truncatedBytes += truncatedBytes
    }
  }
  // A new segment file must survive a crash once data in it has been fsynced and acknowledged.
  if (created) await disk.syncDirectory(directory)
  return loaded
}

/**
 * Rebuilds `producers`: the newest valid snapshot at or below `logEndOffset`, then a replay of
 * the batch headers after it (Kafka's ProducerStateManager load and UnifiedLog
 * rebuildProducerState). A control batch (transaction marker) carries no sequence: it ends its
 * producer's transaction and sets its coordinator epoch from the control record.
 */
export async function loadProducerState (disk: Disk, directory: string,
  segments: readonly LogSegment[], logEndOffset: number, producers: ProducerState,
  warner: LogWarner,
  onMarker?: (producerId: number, firstOffset: number | undefined, markerOffset: number) =>
  void): Promise<void> {
  producers.clear()
  let from = segments[0]?.baseOffset ?? 0
  for (const offset of (await listSnapshots(disk, directory)).reverse()) {
    if (offset > logEndOffset) continue
    const bytes = await disk.readOptional(path.join(directory,
      segmentFileName(offset, '.snapshot')))
    if (bytes !== undefined && producers.loadSnapshot(bytes)) {
      from = offset
      break
    }
  }
  await scanHeaders(segments, from, header => {
    const producerId = readInt64(header, PRODUCER_ID_OFFSET)
    if (producerId < 0) return
    const attributes = header.readInt16BE(ATTRIBUTES_OFFSET)
    if (isControlBatch(attributes)) {
      // A transaction marker: the producer's transaction on this partition ended, and the
      // marker's coordinator epoch becomes the producer's (-1 if the batch cannot be read).
      const coordinatorEpoch = readControlMarker(header)?.coordinatorEpoch ?? -1
      const first = producers.endTransaction(producerId,
        header.readInt16BE(PRODUCER_EPOCH_OFFSET), readInt64(header, MAX_TIMESTAMP_OFFSET),
        coordinatorEpoch)
      onMarker?.(producerId, first, readInt64(header, 0))
      return
    }
    producers.update(producerId, header.readInt16BE(PRODUCER_EPOCH_OFFSET),
      header.readInt32BE(BASE_SEQUENCE_OFFSET), header.readInt32BE(LAST_OFFSET_DELTA_OFFSET),
      readInt64(header, 0), readInt64(header, MAX_TIMESTAMP_OFFSET))
    if (isTransactionalBatch(attributes)) {
      producers.beginTransaction(producerId, readInt64(header, 0))
    }
  }, warner, { wholeControlBatches: true })
}

/** Writes `<offset>.snapshot`; fsynced when `sync` (a clean shutdown vouches for it). */
export async function writeSnapshot (disk: Disk, directory: string, offset: number,
  bytes: Buffer, sync: boolean): Promise<void> {
  const handle = await disk.open(path.join(directory, segmentFileName(offset, '.snapshot')),
    'replace')
  try {
    await handle.writeFile(bytes)
    if (sync) await handle.datasync()
  } finally {
    await handle.close()
  }
}
