/**
 * Finishing a cleaner swap that a crash interrupted (Kafka's LogLoader: .swap files). The
 * cleaner writes `<base>.log.cleaned`, fsyncs it, renames it to `<base>.log.swap` and fsyncs
 * the directory: from then on the swap file is complete and wins. It then renames the old
 * segments' files to `.deleted` and the swap file to `<base>.log`. The group's new
 * aborted-transaction index goes the same way one step ahead: `<base>.txnindex.cleaned` is
 * renamed `<base>.txnindex.swap` before the segment's `.log.swap` exists, and into place (over
 * the first old segment's index) before the old segments' files are renamed `.deleted`. So at
 * start-up:
 *
 * - a `.cleaned` file is an unfinished copy: the old segments are intact (log-loader removes it);
 *   so is a `.txnindex.swap` without its `.log.swap`: the old indexes are intact;
 * - a `.log.swap` file covers exactly the offsets of the old segments it replaces, from `<base>`
 *   to the end of its last batch (the cleaner keeps each group's last batch): every `.log` based
 *   in that range, with its indexes, is an old segment and goes; so does every `.txnindex`
 *   in that range, unless the `.txnindex.swap` is gone, which means it is already in place as
 *   `<base>.txnindex`; then the swap files become `<base>.txnindex` and `<base>.log` (the other
 *   indexes are rebuilt by the load).
 *
 * Either way the log ends with the old segments and their `.txnindex` files or the new one and
 * its own, never both, never neither, never a mix (a mix would let an entry outlive its ABORT
 * marker, or a marker lose its entry).
 * Producer snapshots are left alone: they describe producer state at an offset, which
 * cleaning does not change, except inside a transaction whose marker the cleaning removes;
 * those snapshots are deleted before the `.log.swap` exists (compaction.ts).
 */
import path from 'node:path'
import type { Disk } from '../io/disk.js'
import { BATCH_HEADER_BYTES, LOG_OVERHEAD_BYTES, readInt64 } from '../records/batch-header.js'
import { segmentFileName } from './segment.js'
import { TXN_INDEX_SUFFIX } from './txn-index.js'

const SWAP_FILE = /^(\d{20})\.log\.swap$/
const LOG_FILE = /^(\d{20})\.log$/
const TXN_INDEX_FILE = /^(\d{20})\.txnindex$/

/** Renames every complete swap file into place; returns the base offsets it recovered. */
export async function recoverSwapFiles (disk: Disk, directory: string): Promise<number[]> {
  const names = await disk.list(directory)
  const recovered: number[] = []
  for (const name of names) {
    const match = SWAP_FILE.exec(name)
    if (match === null) continue
    const base = Number(match[1])
    const swap = path.join(directory, name)
    const end = await endOffsetOf(disk, swap, base)
    const indexSwap = `${segmentFileName(base, TXN_INDEX_SUFFIX)}.swap`
    const indexSwapped = !names.includes(indexSwap)
    for (const other of names) {
      const log = LOG_FILE.exec(other)
      if (log === null) continue
      const otherBase = Number(log[1])
      if (otherBase < base || otherBase >= end) continue
      for (const suffix of ['.log', '.index', '.timeindex']) {
        await disk.remove(path.join(directory, segmentFileName(otherBase, suffix)))
      }
    }
    // By name, not by `.log`: a crash amid an old segment's renames can leave its `.txnindex`.
    for (const other of names) {
      const index = TXN_INDEX_FILE.exec(other)
      if (index === null) continue
      const otherBase = Number(index[1])
      if (otherBase < base || otherBase >= end || (otherBase === base && indexSwapped)) continue
      await disk.remove(path.join(directory, other))
    }
    await disk.remove(path.join(directory, segmentFileName(base, '.index')))
    await disk.remove(path.join(directory, segmentFileName(base, '.timeindex')))
    if (!indexSwapped) {
      await disk.rename(path.join(directory, indexSwap),
        path.join(directory, segmentFileName(base, TXN_INDEX_SUFFIX)))
    }
    await disk.rename(swap, path.join(directory, segmentFileName(base, '.log')))
    recovered.push(base)
  }
  if (recovered.length > 0) await disk.syncDirectory(directory)
  return recovered
}

/** The offset after the last batch of a complete segment file (its header walk). */
async function endOffsetOf (disk: Disk, file: string, base: number): Promise<number> {
  const handle = await disk.open(file, 'read')
  try {
    const size = (await handle.stat()).size
    const header = Buffer.alloc(BATCH_HEADER_BYTES)
    let position = 0
    let end = base
    while (position + BATCH_HEADER_BYTES <= size) {
      const { bytesRead } = await handle.read(header, 0, BATCH_HEADER_BYTES, position)
      if (bytesRead < BATCH_HEADER_BYTES) break
      const length = header.readInt32BE(8) + LOG_OVERHEAD_BYTES
      if (length < BATCH_HEADER_BYTES) break
      end = readInt64(header, 0) + header.readInt32BE(23) + 1
      position += length
    }
    return end
  } finally {
    await handle.close()
  }
}
