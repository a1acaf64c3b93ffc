/**
 * Reading one partition without a consumer group: fetch from an offset and yield decoded
 * records in order.
 *
 * - A fetch starts at the batch that holds the requested offset, so records below it are
 *   skipped; control batches (transaction markers, KIP-98) are skipped whole.
 * - A fetch answer may end in a partial batch (Kafka cuts at partitionMaxBytes); it is left
 *   for the next fetch. If not even one whole batch fits (a broker without KIP-74's "at least
 *   one batch" rule), the fetch size doubles up to `READ_BYTES_MAX`, as the Java consumer
 *   did before KIP-74 when it raised RecordTooLargeException.
 * - Every fetch that returns a whole batch must move the position forward; a broker that
 *   returns only batches below it is an error, not a loop.
 *
 * Stops before `untilOffset` (default: the high watermark when reading started). With an
 * `untilOffset` beyond the end it keeps long-polling for new records, like `kcat -f`.
 */
import { ERROR } from '../protocol/errors.js'
import { iterateRecords, splitBatches, type Record } from '../records/batch.js'
import { readBatchHeader } from '../records/batch-header.js'
import type { KafkaClient } from './client.js'
import { KafkaClientError } from './errors.js'

export interface ReadOptions {
  /** Stop before this offset (default: the high watermark when reading started). */
  untilOffset?: number
  maxWaitMs?: number
  maxBytes?: number
  /** 0 read_uncommitted, 1 read_committed. */
  isolationLevel?: number
}

/** The largest single fetch the reader grows to when one batch does not fit. */
const READ_BYTES_MAX = 64 * 1024 * 1024

export async function * readPartition (client: KafkaClient, topic: string, partition: number,
  fromOffset: number, options: ReadOptions = {}): AsyncGenerator<Record> {
  let offset = fromOffset
  let maxBytes = options.maxBytes ?? 1024 * 1024
  const until = options.untilOffset ??
    (await client.listOffsets(topic, partition, -1)).offset
  while (offset < until) {
    const fetched = await client.fetch(topic, partition, offset, {
      maxWaitMs: options.maxWaitMs ?? 500,
      maxBytes,
      isolationLevel: options.isolationLevel ?? 0,
    })
    const records = fetched.records ?? Buffer.alloc(0)
    const batches = splitBatches(records)
    if (batches.length === 0) {
      if (records.length > 0) maxBytes = grow(maxBytes, topic, partition, offset)
      continue
    }
    const before = offset
    for (const { position, size } of batches) {
      const header = readBatchHeader(records, position)
      const next = header.baseOffset + header.lastOffsetDelta + 1
      // Lazily, so a caller that stops early (--max-messages) stops the decoding too.
      for await (const record of iterateRecords(records.subarray(position, position + size),
        { fromOffset: offset })) {
        if (record.offset >= until) break
        yield record
      }
      offset = Math.max(offset, next)
      if (offset >= until) return
    }
    if (offset === before) {
      throw new KafkaClientError(ERROR.UNKNOWN_SERVER_ERROR, `UNKNOWN_SERVER_ERROR: a fetch of ` +
        `${topic}-${partition} at offset ${offset} returned only batches below it`)
    }
  }
}

function grow (maxBytes: number, topic: string, partition: number, offset: number): number {
  if (maxBytes >= READ_BYTES_MAX) {
    throw new KafkaClientError(ERROR.MESSAGE_TOO_LARGE,
      `MESSAGE_TOO_LARGE: the batch at ${topic}-${partition} ` +
      `offset ${offset} is larger than ${READ_BYTES_MAX} bytes`)
  }
  return Math.min(maxBytes * 2, READ_BYTES_MAX)
}
