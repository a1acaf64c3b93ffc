/**
 * Reads a replica's partition straight from its data directory (`<data-dir>/<topic>-<p>/` and
 * its `<20-digit base offset>.log` segments, Kafka's format: docs/architecture.md) and compares
 * replicas batch by batch, byte for byte, below a high watermark. The bytes include the
 * broker-stamped base offset and partition leader epoch: a follower must store exactly what the
 * leader stored.
 */
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import {
  BASE_OFFSET_OFFSET, LAST_OFFSET_DELTA_OFFSET, splitBatches,
} from '../../src/records/index.js'

export interface StoredBatch {
  baseOffset: number
  lastOffset: number
  bytes: Buffer
}

const SEGMENT_NAME = /^\d{20}\.log$/

/**
 * The whole batches of a partition on disk, in offset order, ending before the first batch that
 * reaches `belowOffset` (a batch still being written, or above the high watermark, is left out).
 */
export async function storedBatches (dataDir: string, topic: string, partition: number,
  belowOffset: number): Promise<StoredBatch[]> {
  const directory = path.join(dataDir, `${topic}-${partition}`)
  let names: string[]
  try {
    names = (await readdir(directory)).filter(name => SEGMENT_NAME.test(name)).sort()
  } catch {
    return []
  }
  const batches: StoredBatch[] = []
  for (const name of names) {
    const buffer = await readFile(path.join(directory, name))
    for (const { position, size } of splitBatches(buffer)) {
      const baseOffset = Number(buffer.readBigInt64BE(position + BASE_OFFSET_OFFSET))
      const lastOffset = baseOffset + buffer.readInt32BE(position + LAST_OFFSET_DELTA_OFFSET)
      if (lastOffset >= belowOffset) return batches
      batches.push({ baseOffset, lastOffset, bytes: buffer.subarray(position, position + size) })
    }
  }
  return batches
}

/**
 * Compares a replica's batches with the leader's from the partition's log start offset up to
 * the high watermark: undefined when they are the same bytes, else a sentence naming the first
 * difference. Batches wholly below the log start offset may differ (a replica that started its
 * log later, truncateFullyAndStartAt, has none); from there on a replica must hold every batch.
 */
export function firstDifference (leader: StoredBatch[], replica: StoredBatch[],
  logStartOffset: number): string | undefined {
  const expected = leader.filter(batch => batch.lastOffset >= logStartOffset)
  const actual = replica.filter(batch => batch.lastOffset >= logStartOffset)
  for (let i = 0; i < Math.max(expected.length, actual.length); i++) {
    const want = expected[i]
    const got = actual[i]
    if (want === undefined) return `has an extra batch at offset ${got?.baseOffset}`
    if (got === undefined) {
      return i === 0
        ? `has no batches from the log start offset ${logStartOffset}; the leader has ` +
          `${expected.length} below the high watermark`
        : `ends at batch ${i}; the leader has one at ${want.baseOffset}`
    }
    if (!want.bytes.equals(got.bytes)) {
      return `batch at offset ${got.baseOffset} (leader: ${want.baseOffset}) differs ` +
        `(${got.bytes.length} vs ${want.bytes.length} bytes)`
    }
  }
  return undefined
}
