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
 *
 * A request that cannot ask for that (v1-6, which kafkajs and kafka-python send) waits instead,
 * in the fetch purgatory and up to UNDECIDED_WAIT_MS, until the transactions with offsets staged
 * for the partitions it asks about are decided; then, or at the bound, or when its connection
 * closes, it reads the committed offsets. Kafka answers
 * such a request at once with the offset before the transaction, so a consumer that rejoins
 * between its producer's EndTxn and the commit marker restarts from the input the transaction
 * already consumed and processes it twice; the wait closes that window (a decided transaction's
 * markers take milliseconds) and costs at most the bound when a transaction stays open. A
 * v7+ request without require_stable (a read_uncommitted Java consumer) chose not to wait.
 */
import {
  OffsetFetch, type OffsetFetchRequest, type OffsetFetchRequestTopic, type OffsetFetchResponse,
  type OffsetFetchResponseTopic,
} from '../../protocol/apis/offset-fetch.js'
import { ERROR } from '../../protocol/errors.js'
import { offsetKey, splitOffsetKey } from '../../group/group-records.js'
import type { Broker, HandlerEntry } from '../broker.js'
import { transactionalOffsetsKey } from '../delayed-operations.js'
import type { RequestContext } from '../request-context.js'

const FIRST_BATCHED_VERSION = 8
/** The first version with require_stable (KIP-447). */
const FIRST_REQUIRE_STABLE_VERSION = 7
/** How long a v1-6 OffsetFetch waits for undecided transactional offsets (see above). */
export const UNDECIDED_WAIT_MS = 3_000

export const offsetFetchHandler: HandlerEntry<OffsetFetchRequest, OffsetFetchResponse> = {
  api: OffsetFetch,
  minVersion: 1,
  maxVersion: 9,
  async handle (broker, request, context) {
    if (context.version >= FIRST_BATCHED_VERSION) {
      const groups = []
      for (const group of request.groups ?? []) {
        const { errorCode, topics } = await fetchGroup(broker, context, group.groupId,
          group.topics, request.requireStable === true)
        // A group that failed as a whole lists no topics (Kafka's group-level error response).
        groups.push({ groupId: group.groupId, errorCode,
          topics: errorCode === ERROR.NONE ? topics : [] })
      }
      return { throttleTimeMs: 0, errorCode: ERROR.NONE, topics: [], groups }
    }
    const { errorCode, topics } = await fetchGroup(broker, context, request.groupId,
      request.topics, request.requireStable === true)
    if (context.version < 2) {
      for (const topic of topics) {
        for (const partition of topic.partitions) partition.errorCode = errorCode
      }
    }
    return { throttleTimeMs: 0, errorCode, topics }
  },
}

async function fetchGroup (broker: Broker, context: RequestContext, groupId: string,
  topics: OffsetFetchRequestTopic[] | null, requireStable: boolean):
  Promise<{ errorCode: number, topics: OffsetFetchResponseTopic[] }> {
  const groups = broker.groups
  if (context.version < FIRST_REQUIRE_STABLE_VERSION) {
    await untilDecided(broker, context, groupId, topics)
  }
  // Checked after the wait: the group's partition may have moved meanwhile.
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

/**
 * Waits, up to UNDECIDED_WAIT_MS, until no transaction has an undecided offset for the
 * partitions asked about (all of the group's for a null list), in the purgatory: the group
 * coordinator notifies `transactionalOffsetsKey` as it decides them.
 */
async function untilDecided (broker: Broker, context: RequestContext, groupId: string,
  topics: OffsetFetchRequestTopic[] | null): Promise<void> {
  const groups = broker.groups
  if (groups === undefined) return
  const undecided = (): boolean => groups.coordinatorError(groupId) === ERROR.NONE && (
    topics === null
      ? groups.hasPendingTransactionalOffsets(groupId)
      : topics.some(topic => topic.partitionIndexes.some(partition =>
        groups.hasPendingTransactionalOffset(groupId, topic.name, partition))))
  const purgatory = broker.replicaManager.purgatory
  const deadlineMs = broker.clock.monotonicMs() + UNDECIDED_WAIT_MS
  for (;;) {
    const remainingMs = deadlineMs - broker.clock.monotonicMs()
    // A full purgatory would answer at once: Kafka's answer then, rather than a busy loop.
    if (!undecided() || remainingMs <= 0 || context.signal.aborted || purgatory.full) return
    await purgatory.wait([transactionalOffsetsKey(groupId)], remainingMs, context.signal)
  }
}
