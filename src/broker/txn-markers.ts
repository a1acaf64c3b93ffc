/**
 * The transaction coordinator's marker channel on this broker: each partition's marker goes to
 * its leader. On one broker every leader is local, so a marker is a local append through the
 * replica manager (the partition side of WriteTxnMarkers); the interface is the coordinator's
 * "send to the partition leader", so a cluster routes the same call to another broker.
 *
 * `__consumer_offsets` partitions in a transaction carry its staged offsets instead of a
 * control batch: on COMMIT they are committed to their groups (Kafka's
 * completePendingTxnOffsetCommit), on ABORT dropped. A partition whose topic is gone counts as
 * written (Kafka drops markers for deleted partitions). Anything else failed is retried.
 */
import { ERROR } from '../protocol/errors.js'
import type {
  TopicPartition, TxnMarker, TxnMarkerChannel,
} from '../txn/txn-coordinator.js'
import type { Broker } from './broker.js'
import { CONSUMER_OFFSETS_TOPIC } from './internal-topics.js'
import { PartitionError } from './replica-manager.js'

export function localTxnMarkerChannel (broker: Broker): TxnMarkerChannel {
  return {
    async send (marker: TxnMarker): Promise<TopicPartition[]> {
      const failed: TopicPartition[] = []
      await Promise.all(marker.partitions.map(async tp => {
        const written = tp.topic === CONSUMER_OFFSETS_TOPIC
          ? await completeOffsets(broker, marker, tp.partition)
          : await writeMarker(broker, marker, tp)
        if (!written) failed.push(tp)
      }))
      return failed
    },
  }
}

async function writeMarker (broker: Broker, marker: TxnMarker, tp: TopicPartition):
Promise<boolean> {
  try {
    await broker.replicaManager.appendTxnMarker(tp.topic, tp.partition, marker)
    return true
  } catch (error) {
    if (error instanceof PartitionError && error.errorName === 'UNKNOWN_TOPIC_OR_PARTITION' &&
      broker.image.topic(tp.topic) === undefined) return true
    if (error instanceof PartitionError && error.errorName === 'INVALID_PRODUCER_EPOCH') {
      // A newer epoch already wrote here: this marker is stale (Kafka abandons it too).
      broker.logger.warn(`transaction marker for ${tp.topic}-${tp.partition} dropped: ` +
        error.message)
      return true
    }
    broker.logger.warn(`transaction marker for ${tp.topic}-${tp.partition} failed (` +
      `${(error as Error).message}); retrying`)
    return false
  }
}

async function completeOffsets (broker: Broker, marker: TxnMarker, partition: number):
Promise<boolean> {
  const groups = broker.groups
  if (!marker.commit) return true
  if (groups === undefined) return false
  const byGroup = new Map<string, TxnMarker['offsets']>()
  for (const offset of marker.offsets) {
    if (groups.partitionFor(offset.groupId) !== partition) continue
    const list = byGroup.get(offset.groupId) ?? []
    list.push(offset)
    byGroup.set(offset.groupId, list)
  }
  for (const [groupId, offsets] of byGroup) {
    if (groups.coordinatorError(groupId) !== ERROR.NONE) return false
    const errorCode = await groups.commitTransactionalOffsets(groupId, offsets.map(o => ({
      topic: o.topic, partition: o.partition, offset: o.offset, leaderEpoch: o.leaderEpoch,
      metadata: o.metadata })))
    if (errorCode !== ERROR.NONE) return false
  }
  return true
}
