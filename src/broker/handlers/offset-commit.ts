/**
 * OffsetCommit v2-9 (v2 for kafka-python, v5 for kafkajs; the range must overlap 1..2 for
 * librdkafka's gate, docs/protocol.md "Minimum versions"). Partitions of unknown topics get
 * UNKNOWN_TOPIC_OR_PARTITION (Kafka's KafkaApis.handleOffsetCommitRequest), which also bounds
 * how many offsets a group can hold; the rest go to the coordinator, whose answer comes once
 * the offsets are durable in __consumer_offsets. v2-4 retention_time_ms sets an explicit
 * expiry; -1 (and v5, which dropped the field) leaves it to offsets.retention.minutes.
 * v6 adds each partition's leader epoch (KIP-320, stored and returned by OffsetFetch); v7
 * group.instance.id (KIP-345); v8 is flexible; v9 reads the generation as a member epoch for
 * consumer-protocol groups (KIP-848), and every group here is a classic one, for which it is
 * the generation as before.
 */
import { OffsetCommit, type OffsetCommitRequest } from '../../protocol/apis/offset-commit.js'
import { ERROR } from '../../protocol/errors.js'
import type { CommitEntry } from '../../group/group-state.js'
import type { HandlerEntry } from '../broker.js'

export const offsetCommitHandler: HandlerEntry = {
  api: OffsetCommit,
  minVersion: 2,
  maxVersion: 9,
  async handle (broker, request: OffsetCommitRequest, context) {
    const known: CommitEntry[] = []
    const codes = request.topics.map(topic => topic.partitions.map(partition => {
      const count = broker.image.topic(topic.name)?.partitions.length ?? 0
      if (partition.partitionIndex < 0 || partition.partitionIndex >= count) {
        return ERROR.UNKNOWN_TOPIC_OR_PARTITION
      }
      known.push({ topic: topic.name, partition: partition.partitionIndex,
        offset: partition.committedOffset, leaderEpoch: partition.committedLeaderEpoch,
        metadata: partition.committedMetadata })
      return -1 // filled in below, in the same order
    }))
    const groups = broker.groups
    const retentionMs = context.version <= 4 ? request.retentionTimeMs : -1
    const results = groups === undefined
      ? known.map(() => ERROR.COORDINATOR_NOT_AVAILABLE as number)
      : known.length === 0
        ? []
        : await groups.commit(request.groupId, { memberId: request.memberId,
          groupInstanceId: context.version >= 7 ? request.groupInstanceId : null },
        request.generationIdOrMemberEpoch, retentionMs, known)
    let next = 0
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((topic, t) => ({
        name: topic.name,
        partitions: topic.partitions.map((partition, p) => {
          const code = codes[t]?.[p] ?? ERROR.UNKNOWN_SERVER_ERROR
          return { partitionIndex: partition.partitionIndex,
            errorCode: code === -1 ? results[next++] ?? ERROR.UNKNOWN_SERVER_ERROR : code }
        }),
      })),
    }
  },
}
