/**
 * `__consumer_offsets` for the group coordinator: a compacted internal topic written through
 * the replica manager (the same durable append as Produce, acks=all semantics) and replayed
 * from its partition logs at start-up. A batch or record that cannot be read stops the load
 * (OffsetsLoadError), as the offsets store does for a value it cannot decode.
 */
import { ControllerError } from '../controller/controller.js'
import type { OffsetsLog } from '../group/coordinator.js'
import { OffsetsLoadError } from '../group/offsets-store.js'
import { decodeRecordBatch, splitBatches } from '../records/batch.js'
import { buildRecordBatch } from '../records/builder.js'
import type { Broker } from './broker.js'
import { CONSUMER_OFFSETS_TOPIC } from './internal-topics.js'

const REPLAY_READ_BYTES = 4 * 1024 * 1024

/**
 * Creates the topic if this is a fresh cluster (Kafka creates it on first use), through the
 * broker's one creation path as its only caller allowed to create internal topics.
 */
export async function ensureOffsetsTopic (broker: Broker, partitions: number): Promise<number> {
  const existing = broker.image.topic(CONSUMER_OFFSETS_TOPIC)
  if (existing !== undefined) return existing.partitions.length
  try {
    await broker.topicCreator.create({
      name: CONSUMER_OFFSETS_TOPIC,
      partitions,
      replicationFactor: 1,
      // Kafka's offsets.topic.segment.bytes default, and compaction (OffsetConfig).
      configs: { 'cleanup.policy': 'compact', 'segment.bytes': String(100 * 1024 * 1024) },
    }, 'broker')
  } catch (error) {
    // In a cluster every broker starting at once asks for it; one creation wins.
    const created = broker.image.topic(CONSUMER_OFFSETS_TOPIC)
    if (!(error instanceof ControllerError) || error.errorName !== 'TOPIC_ALREADY_EXISTS' ||
      created === undefined) throw error
    return created.partitions.length
  }
  return partitions
}

export function offsetsLogFor (broker: Broker, partitionCount: number): OffsetsLog {
  return {
    partitionCount,
    async append (partition, records) {
      const batch = await buildRecordBatch(records.map(record => ({
        key: record.key, value: record.value,
      })))
      await broker.replicaManager.appendRecords(CONSUMER_OFFSETS_TOPIC, partition, batch,
        { internalTopicsAllowed: true })
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
            .catch((error: unknown) => {
              throw new OffsetsLoadError(`__consumer_offsets-${partition}: the batch at offset ` +
                `${offset} does not decode (${(error as Error).message})`)
            })
          for (const record of batch.records) {
            if (record.offset < offset) continue
            if (record.key === null) {
              throw new OffsetsLoadError(`__consumer_offsets-${partition}: the record at ` +
                `offset ${record.offset} has no key; loading stops rather than skip it`)
            }
            yield { key: record.key, value: record.value, offset: record.offset }
          }
          offset = batch.header.baseOffset + batch.header.lastOffsetDelta + 1
        }
      }
    },
  }
}
