/**
 * Reading one partition without a consumer group: fetch from an offset and yield decoded
 * records in order, skipping control batches and records below the requested offset (a
 * fetch starts at the batch that holds it), tolerating a partial trailing batch.
 */
import { decodeRecordBatch, splitBatches, type Record } from '../records/batch.js'
import { isControlBatch } from '../records/batch-header.js'
import type { KafkaClient } from './client.js'

export interface ReadOptions {
  /** Stop before this offset (default: the high watermark when reading started). */
  untilOffset?: number
  maxWaitMs?: number
  maxBytes?: number
}

export async function * readPartition (client: KafkaClient, topic: string, partition: number,
  fromOffset: number, options: ReadOptions = {}): AsyncGenerator<Record> {
  let offset = fromOffset
  const until = options.untilOffset ??
    (await client.listOffsets(topic, partition, -1)).offset
  while (offset < until) {
    const fetched = await client.fetch(topic, partition, offset, {
      maxWaitMs: options.maxWaitMs ?? 500, maxBytes: options.maxBytes ?? 1024 * 1024,
    })
    const records = fetched.records ?? Buffer.alloc(0)
    for (const { position, size } of splitBatches(records)) {
      const bytes = records.subarray(position, position + size)
      const batch = await decodeRecordBatch(bytes)
      const next = batch.header.baseOffset + batch.header.lastOffsetDelta + 1
      if (!isControlBatch(batch.header.attributes)) {
        for (const record of batch.records) {
          if (record.offset < offset || record.offset >= until) continue
          yield record
        }
      }
      offset = Math.max(offset, next)
      if (offset >= until) return
    }
  }
}
