/**
 * Finishing a cleaner swap that a crash interrupted (Kafka's LogLoader: .swap files). The
 * cleaner writes `<base>.log.cleaned`, fsyncs it, renames it to `<base>.log.swap` and fsyncs
 * the directory: from then on the swap file is complete and wins. It then renames the old
 * segments' files to `.deleted` and the swap file to `<base>.log`. So at start-up:
 *
 * - a `.cleaned` file is an unfinished copy: the old segments are intact (log-loader removes it);
 * - a `.swap` file covers exactly the offsets of the old segments it replaces, from `<base>` to
 *   the end of its last batch (the cleaner keeps each group's last batch): every `.log` based
 *   in that range, with its indexes, is an old segment and goes; then the swap file becomes
 *   `<base>.log` (its indexes are rebuilt by the load).
 *
 * Either way the log ends with the old segments or the new one, never both, never neither.
 * Producer snapshots are left alone: they describe producer state at an offset, and cleaning
 * does not change it.
 */
import path from 'node:path'
import type { Disk } from '../io/disk.js'
import { BATCH_HEADER_BYTES, LOG_OVERHEAD_BYTES, readInt64 } from '../records/batch-header.js'
import { segmentFileName } from './segment.js'

const SWAP_FILE = /^(\d{20})\.log\.swap$/
const LOG_FILE = /^(\d{20})\.log$/

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
    for (const other of names) {
      const log = LOG_FILE.exec(other)
      if (log === null) continue
      const otherBase = Number(log[1])
      if (otherBase < base || otherBase >= end) continue
      for (const suffix of ['.log', '.index', '.timeindex']) {
        await disk.remove(path.join(directory, segmentFileName(otherBase, suffix)))
      }
    }
    await disk.remove(path.join(directory, segmentFileName(base, '.index')))
    await disk.remove(path.join(directory, segmentFileName(base, '.timeindex')))
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
