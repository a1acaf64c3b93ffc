/**
 * Consume throughput on a data set of a fixed size, for comparing brokers that produce at very
 * different speeds (compare-kafka): the first `messages` records of a topic (spread over its
 * partitions as the produce phase spread them) are fetched from offset 0 to their end, again
 * and again, for `durationSeconds`, one fetcher per partition. Every broker then serves the
 * same bytes from its page cache, where reading back whatever each one produced would time
 * reads of 13 MB against reads of 600 MB.
 */
import { KafkaClient } from '../../src/client/client.js'
import {
  lastOffsetOf, RECORDS_COUNT_OFFSET,
} from '../../src/records/batch-header.js'
import { splitBatches } from '../../src/records/batch.js'
import { Sampler, type Sample } from './report.js'

export interface ReadBackResult {
  /** Records in the data set (whole batches, so a little above the cap asked for). */
  dataSetMessages: number
  dataSetBytes: number
  passes: number
  messages: number
  bytes: number
  seconds: number
  messagesPerSecond: number
  megabytesPerSecond: number
  samples: Sample[]
}

/** As the consume scenario: large fetches, and a short wait should a fetch find nothing. */
const FETCH_MAX_BYTES = 8 * 1024 * 1024
const FETCH_MAX_WAIT_MS = 100

interface Pass { messages: number, bytes: number }

/**
 * One read of `[0, end)` of a partition. Once the data set's size is known (`setBytes`), no
 * fetch asks for more than what is left of it, so a broker serves the data set and nothing
 * after it (both brokers fill a fetch up to its max_bytes).
 */
async function readOnce (client: KafkaClient, topic: string, partition: number, end: number,
  setBytes?: number): Promise<Pass> {
  const pass: Pass = { messages: 0, bytes: 0 }
  let offset = 0
  while (offset < end) {
    const left = setBytes === undefined ? FETCH_MAX_BYTES : setBytes - pass.bytes
    const fetched = await client.fetch(topic, partition, offset,
      { maxBytes: Math.max(1, Math.min(FETCH_MAX_BYTES, left)), maxWaitMs: FETCH_MAX_WAIT_MS })
    const records = fetched.records ?? Buffer.alloc(0)
    // Whole batches only: Kafka cuts a response at max_bytes, mid-batch.
    for (const batch of splitBatches(records)) {
      if (offset >= end) break
      pass.messages += records.readInt32BE(batch.position + RECORDS_COUNT_OFFSET)
      pass.bytes += batch.size
      offset = lastOffsetOf(records, batch.position) + 1
    }
  }
  return pass
}

export async function readBack (bootstrap: string, topic: string, partitions: number,
  messages: number, durationSeconds: number): Promise<ReadBackResult> {
  const client = new KafkaClient({ bootstrap })
  try {
    const perPartition = Math.ceil(messages / partitions)
    const ends = await Promise.all(Array.from({ length: partitions }, async (_, partition) =>
      Math.min(perPartition, (await client.listOffsets(topic, partition, -1)).offset)))
    // The first pass defines the data set (and warms the path); the timed passes follow.
    const first = await Promise.all(ends.map((end, partition) =>
      readOnce(client, topic, partition, end)))
    const sampler = new Sampler('consume (read back)', durationSeconds)
    const started = performance.now()
    const deadline = started + durationSeconds * 1000
    let passes = 0
    let read = 0
    let bytes = 0
    await Promise.all(ends.map(async (end, partition) => {
      while (performance.now() < deadline && end > 0) {
        const pass = await readOnce(client, topic, partition, end, first[partition]?.bytes)
        read += pass.messages
        bytes += pass.bytes
        passes++
        sampler.add(pass.messages, pass.bytes)
      }
    }))
    const seconds = (performance.now() - started) / 1000
    return {
      dataSetMessages: first.reduce((sum, pass) => sum + pass.messages, 0),
      dataSetBytes: first.reduce((sum, pass) => sum + pass.bytes, 0),
      passes: passes / partitions,
      messages: read,
      bytes,
      seconds,
      messagesPerSecond: read / seconds,
      megabytesPerSecond: bytes / seconds / 1e6,
      samples: sampler.stop(),
    }
  } finally {
    await client.close()
  }
}
