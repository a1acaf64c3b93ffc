/**
 * OffsetForLeaderEpoch: for each partition, the end offset of a leader epoch in this leader's
 * log (KIP-101, KIP-279; Kafka's ReplicaManager.lastOffsetForLeaderEpoch): the requested epoch
 * if it is the latest gives the log end offset, else the largest epoch at or below it and the
 * start offset of the next one; { -1, -1 } when the epoch is below the first one known. Only
 * the leader answers (NOT_LEADER_OR_FOLLOWER elsewhere); a current_leader_epoch older than the
 * leader's is FENCED_LEADER_EPOCH, a newer one UNKNOWN_LEADER_EPOCH (this broker has not seen
 * it yet). Followers use Fetch's diverging_epoch instead (KIP-320); consumers use this to
 * detect truncation after a leader change.
 */
import {
  OffsetForLeaderEpoch, type OffsetForLeaderEpochRequest, type OffsetForLeaderEpochResponse,
} from '../../protocol/apis/offset-for-leader-epoch.js'
import { ERROR, errorCodeOf } from '../../protocol/errors.js'
import type { Broker, HandlerEntry } from '../broker.js'
import { PartitionError } from '../replica-manager.js'

type PartitionResult = OffsetForLeaderEpochResponse['topics'][number]['partitions'][number]
type PartitionRequest = OffsetForLeaderEpochRequest['topics'][number]['partitions'][number]

export const offsetForLeaderEpochHandler: HandlerEntry<OffsetForLeaderEpochRequest,
  OffsetForLeaderEpochResponse> = {
  api: OffsetForLeaderEpoch,
  // Kafka 4 removed v0-1 (KIP-896); the codec still reads them.
  minVersion: 2,
  maxVersion: 4,
  async handle (broker, request) {
    return {
      throttleTimeMs: 0,
      topics: request.topics.map(topic => ({
        topic: topic.topic,
        partitions: topic.partitions.map(partition => endOffsetOf(broker, topic.topic,
          partition)),
      })),
    }
  },
}

function endOffsetOf (broker: Broker, topic: string, request: PartitionRequest):
PartitionResult {
  const result: PartitionResult = {
    errorCode: ERROR.NONE, partition: request.partition, leaderEpoch: -1, endOffset: -1,
  }
  try {
    const end = broker.replicaManager.endOffsetForEpoch(topic, request.partition,
      request.currentLeaderEpoch, request.leaderEpoch)
    result.leaderEpoch = end.leaderEpoch
    result.endOffset = end.endOffset
  } catch (error) {
    if (!(error instanceof PartitionError)) throw error
    result.errorCode = errorCodeOf(error.errorName)
  }
  return result
}
