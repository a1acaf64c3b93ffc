/**
 * `__consumer_offsets` for the group coordinator: a compacted internal topic written through
 * the replica manager (the same durable append as Produce, acks=all semantics) and replayed
 * from its partition logs at start-up.
 */
import type { OffsetsLog } from '../group/coordinator.js'
import { decodeRecordBatch, splitBatches } from '../records/batch.js'
import { buildRecordBatch } from '../records/builder.js'
import type { Broker } from './broker.js'
import { CONSUMER_OFFSETS_TOPIC } from './internal-topics.js'

const REPLAY_READ_BYTES = 4 * 1024 * 1024

/** Creates the topic if this is a fresh cluster (Kafka creates it on first use). */
export async function ensureOffsetsTopic (broker: Broker, partitions: number): Promise<number> {
  const existing = broker.image.topic(CONSUMER_OFFSETS_TOPIC)
  if (existing !== undefined) return existing.partitions.length
  await broker.controller.createTopic({
    name: CONSUMER_OFFSETS_TOPIC,
    partitions,
    replicationFactor: 1,
    configs: { 'cleanup.policy': 'compact', 'segment.bytes': String(100 * 1024 * 1024) },
  })
  await broker.replicaManager.reconcile()
  return partitions
}

export function offsetsLogFor (broker: Broker, partitionCount: number): OffsetsLog {
  return {
    partitionCount,
    async append (partition, records) {
      const batch = await buildRecordBatch(records.map(record => ({
        key: record.key, value: record.value,
      })))
      await broker.replicaManager.appendRecords(CONSUMER_OFFSETS_TOPIC, partition, batch)
    },
    async * replay (partition) {
      const log = broker.replicaManager.log(CONSUMER_OFFSETS_TOPIC, partition)
      if (log === undefined) return
      let offset = log.logStartOffset
      while (offset < log.logEndOffset) {
        const { records } = await log.read(offset, REPLAY_READ_BYTES)
        const batches = splitBatches(records)
        if (batches.length === 0) break
        for (const { position, size } of batches) {
          const batch = await decodeRecordBatch(records.subarray(position, position + size))
          for (const record of batch.records) {
            if (record.offset >= offset && record.key !== null) {
              yield { key: record.key, value: record.value }
            }
          }
          offset = batch.header.baseOffset + batch.header.lastOffsetDelta + 1
        }
      }
    },
  }
}
