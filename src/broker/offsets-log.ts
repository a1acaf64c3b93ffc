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
import {
  ATTRIBUTES_OFFSET, LAST_OFFSET_DELTA_OFFSET, isControlBatch, readInt64,
} from '../records/batch-header.js'
import { buildRecordBatch } from '../records/builder.js'
import type { Broker } from './broker.js'
import { CONSUMER_OFFSETS_TOPIC, TRANSACTION_STATE_TOPIC } from './internal-topics.js'

const REPLAY_READ_BYTES = 4 * 1024 * 1024
/** Kafka's offsets.commit.timeout.ms: how long a coordinator write waits for the ISR. */
const COORDINATOR_APPEND_TIMEOUT_MS = 5_000

/**
 * Creates an internal topic if this is a fresh cluster (Kafka creates `__consumer_offsets` and
 * `__transaction_state` on first use), through the broker's one creation path as its only
 * caller allowed to create internal topics: compacted, with Kafka's 100 MiB
 * offsets.topic.segment.bytes / transaction.state.log.segment.bytes. Returns its partition count.
 * The replication factor is offsets.topic.replication.factor /
 * transaction.state.log.replication.factor (Kafka's default 3), capped at the brokers live now
 * (where Kafka would refuse until enough brokers exist): one on a single node. A topic that
 * asks for `minInsyncReplicas` (transaction.state.log.min.isr) gets it as its
 * min.insync.replicas, capped at that factor so a capped topic still takes acks=all writes.
 */
async function ensureInternalTopic (broker: Broker, name: string, partitions: number,
  replicationFactor: number, minInsyncReplicas?: number): Promise<number> {
  const existing = broker.image.topic(name)
  if (existing !== undefined) return existing.partitions.length
  const replicas = Math.max(1, Math.min(replicationFactor, broker.controller.liveBrokerCount))
  const minInsync: Record<string, string> = minInsyncReplicas === undefined || replicas === 1
    ? {}
    : { 'min.insync.replicas': String(Math.min(minInsyncReplicas, replicas)) }
  try {
    await broker.topicCreator.create({
      name,
      partitions,
      replicationFactor: replicas,
      configs: { 'cleanup.policy': 'compact', 'segment.bytes': String(100 * 1024 * 1024),
        ...minInsync },
    }, 'broker')
  } catch (error) {
    // In a cluster every broker starting at once asks for it; one creation wins.
    const created = broker.image.topic(name)
    if (!(error instanceof ControllerError) || error.errorName !== 'TOPIC_ALREADY_EXISTS' ||
      created === undefined) throw error
    return created.partitions.length
  }
  return partitions
}

export function ensureOffsetsTopic (broker: Broker, partitions: number,
  replicationFactor: number): Promise<number> {
  return ensureInternalTopic(broker, CONSUMER_OFFSETS_TOPIC, partitions, replicationFactor)
}

/**
 * `__transaction_state` (transaction.state.log.num.partitions partitions,
 * transaction.state.log.replication.factor replicas, transaction.state.log.min.isr).
 */
export function ensureTransactionStateTopic (broker: Broker, partitions: number,
  replicationFactor: number, minInsyncReplicas: number): Promise<number> {
  return ensureInternalTopic(broker, TRANSACTION_STATE_TOPIC, partitions, replicationFactor,
    minInsyncReplicas)
}

/**
 * An internal topic as the coordinators' log port: `__consumer_offsets` for the group
 * coordinator, `__transaction_state` for the transaction coordinator (one path for both).
 */
export function offsetsLogFor (broker: Broker, partitionCount: number,
  topic: string = CONSUMER_OFFSETS_TOPIC): OffsetsLog {
  return {
    partitionCount,
    async append (partition, records) {
      const batch = await buildRecordBatch(records.map(record => ({
        key: record.key, value: record.value,
      })))
      // Kafka's coordinators write with acks=all (bounded by offsets.commit.timeout.ms), so
      // a committed offset or transaction state survives the loss of its leader.
      await broker.replicaManager.appendRecords(topic, partition, batch,
        { internalTopicsAllowed: true, acks: -1, timeoutMs: COORDINATOR_APPEND_TIMEOUT_MS })
    },
    async * replay (partition) {
      const log = broker.replicaManager.log(topic, partition)
      if (log === undefined) return
      let offset = log.logStartOffset
      while (offset < log.logEndOffset) {
        const { records } = await log.read(offset, REPLAY_READ_BYTES)
        const batches = splitBatches(records)
        if (batches.length === 0) break
        for (const { position, size } of batches) {
          const bytes = records.subarray(position, position + size)
          if (isControlBatch(bytes.readInt16BE(ATTRIBUTES_OFFSET))) {
            // A transaction marker (written to `__consumer_offsets` for its coordinator epoch,
            // src/broker/txn-markers.ts): no group record; Kafka's loader skips it too.
            offset = readInt64(bytes, 0) + bytes.readInt32BE(LAST_OFFSET_DELTA_OFFSET) + 1
            continue
          }
          const batch = await decodeRecordBatch(bytes)
            .catch((error: unknown) => {
              throw new OffsetsLoadError(`${topic}-${partition}: the batch at offset ` +
                `${offset} does not decode (${(error as Error).message})`)
            })
          for (const record of batch.records) {
            if (record.offset < offset) continue
            if (record.key === null) {
              throw new OffsetsLoadError(`${topic}-${partition}: the record at ` +
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
