/**
 * OffsetFetch v1-9 (kafkajs has no v0). A null topic list (v2+) means every committed offset
 * of the group. A partition without a committed offset answers offset -1 and metadata ''
 * (Kafka's OffsetFetchResponse.INVALID_OFFSET and NO_METADATA). Offsets are read once the
 * group's pending appends are durable (Kafka reads at the last committed offset). A
 * coordinator error goes in the top-level error_code (v2+) and, for v1 which has none, in
 * every partition.
 *
 * v8+ (KIP-709) fetch for several groups at once, each answered with its own error. v9's
 * member id and epoch (KIP-848) concern consumer-protocol groups; every group here is a
 * classic one, for which Kafka does not check them. require_stable (v7+, KIP-447, sent by
 * read_committed consumers): a partition with an offset staged by a transaction that is not
 * decided yet answers UNSTABLE_OFFSET_COMMIT, which the consumer retries, so it does not start
 * from an offset the pending commit is about to replace.
 */
import {
  OffsetFetch, type OffsetFetchRequest, type OffsetFetchRequestTopic, type OffsetFetchResponse,
  type OffsetFetchResponseTopic,
} from '../../protocol/apis/offset-fetch.js'
import { ERROR } from '../../protocol/errors.js'
import { offsetKey, splitOffsetKey } from '../../group/group-records.js'
import type { Broker, HandlerEntry } from '../broker.js'

const FIRST_BATCHED_VERSION = 8

export const offsetFetchHandler: HandlerEntry<OffsetFetchRequest, OffsetFetchResponse> = {
  api: OffsetFetch,
  minVersion: 1,
  maxVersion: 9,
  async handle (broker, request, context) {
    if (context.version >= FIRST_BATCHED_VERSION) {
      const groups = []
      for (const group of request.groups ?? []) {
        const { errorCode, topics } = await fetchGroup(broker, group.groupId, group.topics,
          request.requireStable === true)
        // A group that failed as a whole lists no topics (Kafka's group-level error response).
        groups.push({ groupId: group.groupId, errorCode,
          topics: errorCode === ERROR.NONE ? topics : [] })
      }
      return { throttleTimeMs: 0, errorCode: ERROR.NONE, topics: [], groups }
    }
    const { errorCode, topics } = await fetchGroup(broker, request.groupId, request.topics,
      request.requireStable === true)
    if (context.version < 2) {
      for (const topic of topics) {
        for (const partition of topic.partitions) partition.errorCode = errorCode
      }
    }
    return { throttleTimeMs: 0, errorCode, topics }
  },
}

async function fetchGroup (broker: Broker, groupId: string,
  topics: OffsetFetchRequestTopic[] | null, requireStable: boolean):
  Promise<{ errorCode: number, topics: OffsetFetchResponseTopic[] }> {
  const groups = broker.groups
  const errorCode = groups === undefined
    ? ERROR.COORDINATOR_NOT_AVAILABLE
    : groups.coordinatorError(groupId)
  if (errorCode === ERROR.NONE) await groups?.settled(groupId)
  const stored = errorCode === ERROR.NONE && groups !== undefined
    ? groups.fetchOffsets(groupId)
    : new Map()
  let wanted = topics
  if (wanted === null) {
    const byTopic = new Map<string, number[]>()
    for (const key of stored.keys()) {
      const { topic, partition } = splitOffsetKey(key)
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition])
    }
    wanted = [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes }))
  }
  return {
    errorCode,
    topics: wanted.map(topic => ({
      name: topic.name,
      partitions: topic.partitionIndexes.map(partitionIndex => {
        if (requireStable && groups?.hasPendingTransactionalOffset(groupId, topic.name,
          partitionIndex) === true) {
          return { partitionIndex, committedOffset: -1, committedLeaderEpoch: -1, metadata: '',
            errorCode: ERROR.UNSTABLE_OFFSET_COMMIT }
        }
        const committed = stored.get(offsetKey(topic.name, partitionIndex))
        return { partitionIndex, committedOffset: committed?.offset ?? -1,
          committedLeaderEpoch: committed?.leaderEpoch ?? -1,
          metadata: committed?.metadata ?? '', errorCode: ERROR.NONE }
      }),
    })),
  }
}
