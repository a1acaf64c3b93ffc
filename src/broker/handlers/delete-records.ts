/**
 * DeleteRecords: raises a partition's log start offset (deleting whole segments below it), as
 * Kafka's `kafka-delete-records`. -1 means the high watermark. An offset above the high
 * watermark is OFFSET_OUT_OF_RANGE. The answer's low watermark is the new log start offset.
 * Internal topics answer INVALID_TOPIC_EXCEPTION, and a topic whose cleanup.policy is compact
 * without delete POLICY_VIOLATION, as in Kafka. v1 is v0; v2 is flexible.
 */
import {
  DeleteRecords, type DeleteRecordsRequest, type DeleteRecordsResponse,
} from '../../protocol/apis/delete-records.js'
import { ERROR, errorCodeOf } from '../../protocol/errors.js'
import type { HandlerEntry } from '../broker.js'
import { isInternalTopic } from '../internal-topics.js'
import { PartitionError } from '../replica-manager.js'

type PartitionResult = DeleteRecordsResponse['topics'][number]['partitions'][number]

export const deleteRecordsHandler: HandlerEntry<DeleteRecordsRequest, DeleteRecordsResponse> = {
  api: DeleteRecords,
  minVersion: 0,
  maxVersion: 2,
  async handle (broker, request) {
    const topics: DeleteRecordsResponse['topics'] = []
    for (const topic of request.topics) {
      const partitions: PartitionResult[] = []
      topics.push({ name: topic.name, partitions })
      for (const partition of topic.partitions) {
        const result: PartitionResult = {
          partitionIndex: partition.partitionIndex, lowWatermark: -1, errorCode: ERROR.NONE,
        }
        partitions.push(result)
        if (isInternalTopic(topic.name)) {
          // Kafka's ReplicaManager.deleteRecordsOnLocalLog: "Cannot delete records of internal
          // topic" (InvalidTopicException) unless the broker itself asks.
          result.errorCode = errorCodeOf('INVALID_TOPIC_EXCEPTION')
          continue
        }
        let log
        try {
          // The leader deletes; followers follow its log start offset in their fetches.
          log = broker.replicaManager.leaderLog(topic.name, partition.partitionIndex)
        } catch (error) {
          if (!(error instanceof PartitionError)) throw error
          result.errorCode = errorCodeOf(error.errorName)
          continue
        }
        if (!log.config.cleanupPolicy.includes('delete')) {
          // Kafka's UnifiedLog.maybeIncrementLogStartOffset: a compacted-only log keeps its
          // records by key, so deleting a prefix is refused (cleanup.policy=compact,delete is
          // allowed).
          result.errorCode = errorCodeOf('POLICY_VIOLATION')
          continue
        }
        const highWatermark = broker.replicaManager.highWatermark(log)
        const offset = partition.offset === -1 ? highWatermark : partition.offset
        if (offset < 0 || offset > highWatermark) {
          result.errorCode = errorCodeOf('OFFSET_OUT_OF_RANGE')
          continue
        }
        try {
          if (offset > log.logStartOffset) await log.deleteSegmentsBefore(offset)
          result.lowWatermark = log.logStartOffset
        } catch {
          result.errorCode = ERROR.KAFKA_STORAGE_ERROR
        }
      }
    }
    return { throttleTimeMs: 0, topics }
  },
}
