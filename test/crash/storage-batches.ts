/**
 * Deterministic record batches for crash tests: the same id (and producer fields) always gives
 * the same bytes, so the parent can rebuild what the child appended byte for byte.
 */
import { createHash } from 'node:crypto'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import { stampBatch } from '../../src/records/batch-header.js'

export interface ProducerFields {
  producerId: number
  producerEpoch: number
  baseSequence: number
}

export const CRASH_PRODUCER_ID = 7

export function batchForId (id: string, producer?: ProducerFields): { bytes: Buffer,
  records: number, maxTimestamp: number } {
  const digest = createHash('sha256').update(id).digest()
  const records = 1 + (digest[0] as number) % 20
  const timestamp = 1_700_000_000_000 + digest.readUInt16BE(1)
  const bytes = buildRecordBatchSync(Array.from({ length: records }, (_, i) => ({
    key: `${id}/${i}`,
    value: Buffer.alloc(50 + (digest[3 + i] as number), digest[i] as number),
    timestamp,
  })), { timestampMs: timestamp, ...producer })
  return { bytes, records, maxTimestamp: timestamp }
}

/** The bytes `id` must have on disk at `baseOffset` (the broker stamps offset and epoch). */
export function storedBatchForId (id: string, baseOffset: number,
  producer?: ProducerFields): Buffer {
  const { bytes } = batchForId(id, producer)
  stampBatch(bytes, 0, baseOffset, 0)
  return bytes
}
