/**
 * The batches of a partition log below an offset, exactly as stored (read_uncommitted:
 * nothing dropped), for tests that check what the cleaner or a crash left on disk.
 */
import { readBatchHeader } from '../../src/records/batch-header.js'
import { splitBatches } from '../../src/records/batch.js'
import type { PartitionLog } from '../../src/storage/partition-log.js'

export async function rawBatches (log: PartitionLog, end = log.logEndOffset):
Promise<Buffer[]> {
  const batches: Buffer[] = []
  let offset = log.logStartOffset
  while (offset < end) {
    const { records } = await log.read(offset, 1 << 20, { maxOffset: end })
    if (records.length === 0) break
    for (const { position, size } of splitBatches(records)) {
      const batch = records.subarray(position, position + size)
      batches.push(batch)
      const header = readBatchHeader(batch)
      offset = header.baseOffset + header.lastOffsetDelta + 1
    }
  }
  return batches
}
