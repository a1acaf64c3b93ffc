/**
 * OffsetFetch v1-4 (kafkajs has no v0). A null topic list (v2+) means every committed offset
 * of the group. A partition without a committed offset answers offset -1 and metadata ''
 * (Kafka's OffsetFetchResponse.INVALID_OFFSET and NO_METADATA). Offsets are read once the
 * group's pending appends are durable (Kafka reads at the last committed offset). A
 * coordinator error goes in the top-level error_code (v2+) and, for v1 which has none, in
 * every partition.
 */
import { OffsetFetch, type OffsetFetchRequest } from '../../protocol/apis/offset-fetch.js'
import { ERROR } from '../../protocol/errors.js'
import { offsetKey, splitOffsetKey } from '../../group/group-records.js'
import type { HandlerEntry } from '../broker.js'

export const offsetFetchHandler: HandlerEntry = {
  api: OffsetFetch,
  minVersion: 1,
  maxVersion: 4,
  async handle (broker, request: OffsetFetchRequest, context) {
    const groups = broker.groups
    const errorCode = groups === undefined
      ? ERROR.COORDINATOR_NOT_AVAILABLE
      : groups.coordinatorError(request.groupId)
    if (errorCode === ERROR.NONE) await groups?.settled(request.groupId)
    const stored = errorCode === ERROR.NONE && groups !== undefined
      ? groups.fetchOffsets(request.groupId)
      : new Map()
    let wanted = request.topics
    if (wanted === null) {
      const byTopic = new Map<string, number[]>()
      for (const key of stored.keys()) {
        const { topic, partition } = splitOffsetKey(key)
        byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition])
      }
      wanted = [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes }))
    }
    const partitionError = context.version >= 2 ? ERROR.NONE : errorCode
    return {
      throttleTimeMs: 0,
      errorCode,
      topics: wanted.map(topic => ({
        name: topic.name,
        partitions: topic.partitionIndexes.map(partitionIndex => {
          const committed = stored.get(offsetKey(topic.name, partitionIndex))
          return { partitionIndex, committedOffset: committed?.offset ?? -1,
            committedLeaderEpoch: committed?.leaderEpoch ?? -1,
            metadata: committed?.metadata ?? '', errorCode: partitionError }
        }),
      })),
    }
  },
}
