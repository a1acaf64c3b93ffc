/**
 * Fetch: a long poll. It reads every requested partition from its fetch offset up to the high
 * watermark; if fewer than `min_bytes` came back it waits in the purgatory, woken by any append
 * to one of the partitions, until `max_wait_ms` has passed, then reads once more
 * (Kafka's DelayedFetch). Errors answer at once.
 *
 * Limits and pitfalls (docs/protocol.md, Fetch): `max_bytes` bounds the response and
 * `partition_max_bytes` each partition, except that the first batch of the first non-empty
 * partition is returned whole even if larger (KIP-74). The broker's `fetch.max.bytes` (default
 * 55 MiB) caps `max_bytes` whatever the client asks, as Kafka's KafkaApis.handleFetchRequest
 * does (min of the two); `max_bytes` ≤ 0 is a budget of 0, which returns that first batch only,
 * never "unlimited". A partition named twice in one request is answered once, at its first
 * occurrence (Kafka's fetch session keys partitions in one map); later ones are dropped.
 * Empty records are encoded with size 0; `preferred_read_replica` is -1; `session_id` is 0
 * (no sessions are kept: fetch-sessions.ts); v13+ topic ids are resolved first
 * (fetch-topic-ids.ts). isolation_level 1 (read_committed, KIP-98) reads up to the last stable
 * offset and lists the aborted transactions in range, so the client drops their records.
 *
 * A fetch with a replica id (replica_id up to v14, replica_state from v15) is a follower's
 * (ReplicaManager.readForFollower): it reads up to the leader's written end (fsynced or not, as
 * Kafka's followers read the page cache) and is woken as soon as the leader's writes land
 * (`followerFetchKey`), so its copy overlaps the leader's own fsync; its fetch offset counts
 * as its log end offset for the ISR and the high watermark, and a diverging log gets
 * diverging_epoch instead of records (KIP-320).
 */
import { Fetch, type FetchRequest, type FetchResponse } from '../../protocol/apis/fetch.js'
import { ERROR, errorCodeOf } from '../../protocol/errors.js'
import type { Broker, HandlerEntry } from '../broker.js'
import { followerFetchKey, partitionKey } from '../delayed-operations.js'
import { PartitionError, type FollowerRead } from '../replica-manager.js'
import { fetchSessionError, NO_FETCH_SESSION } from '../fetch-sessions.js'
import { markStaleTopics, resolveFetchTopics } from '../fetch-topic-ids.js'

type TopicResponse = FetchResponse['responses'][number]
type PartitionResponse = TopicResponse['partitions'][number]

const EMPTY = Buffer.alloc(0)
/** FetchRequest/ListOffsetsRequest isolation_level: 0 read_uncommitted, 1 read_committed. */
export const READ_COMMITTED = 1
/** Kafka's fetch.max.wait bound: a client cannot park a request longer than this. */
const FETCH_WAIT_MAX_MS = 30_000

export const fetchHandler: HandlerEntry<FetchRequest, FetchResponse> = {
  api: Fetch,
  minVersion: 4,
  maxVersion: 18,
  async handle (broker, asked, context) {
    const sessionError = fetchSessionError(context.version, asked.sessionEpoch)
    if (sessionError !== ERROR.NONE) {
      return { throttleTimeMs: 0, errorCode: sessionError, sessionId: NO_FETCH_SESSION,
        responses: [] }
    }
    const { known, unknown } = resolveFetchTopics(broker.image, asked, context.version)
    const request = { ...asked, topics: known }
    const waitMs = Math.min(Math.max(request.maxWaitMs, 0), FETCH_WAIT_MAX_MS)
    const deadlineMs = broker.clock.monotonicMs() + waitMs
    const topics = withoutDuplicates(request.topics)
    const maxBytes = Math.min(Math.max(request.maxBytes, 0), broker.settings.fetchMaxBytes)
    const replicaId = replicaIdOf(request, context.version)
    // A follower's fetch also wakes when its leader has written new bytes, before their fsync.
    const keys = topics.flatMap(topic => topic.partitions.flatMap(partition => replicaId >= 0
      ? [partitionKey(topic.topic, partition.partition),
          followerFetchKey(topic.topic, partition.partition)]
      : [partitionKey(topic.topic, partition.partition)]))
    for (;;) {
      const { responses, bytes, failed } = await readAll(broker, topics, maxBytes,
        request.isolationLevel === READ_COMMITTED, replicaId)
      const stale = markStaleTopics(broker.image, responses, context.version)
      const remainingMs = deadlineMs - broker.clock.monotonicMs()
      if (bytes >= request.minBytes || failed || stale || unknown.length > 0 ||
        remainingMs <= 0 || context.signal.aborted) {
        return {
          throttleTimeMs: 0, errorCode: ERROR.NONE, sessionId: NO_FETCH_SESSION,
          responses: unknown.length === 0 ? responses : [...responses, ...unknown],
        }
      }
      await broker.replicaManager.purgatory.wait(keys, remainingMs, context.signal)
    }
  },
}

type TopicRequest = FetchRequest['topics'][number]

/** The topics of a request with each partition at its first occurrence only. */
function withoutDuplicates (topics: readonly TopicRequest[]): TopicRequest[] {
  const seen = new Set<string>()
  const unique: TopicRequest[] = []
  for (const topic of topics) {
    const partitions = topic.partitions.filter(partition => {
      const key = partitionKey(topic.topic, partition.partition)
      if (seen.has(key)) return false
      seen.add(key)
      return true
    })
    if (partitions.length > 0) unique.push({ ...topic, partitions })
  }
  return unique
}

/**
 * The fetching replica's broker id, or -1 for a consumer: replica_id up to v14, the tagged
 * replica_state from v15 (KIP-903).
 */
function replicaIdOf (request: FetchRequest, version: number): number {
  const replicaId = version >= 15 ? request.replicaState?.replicaId ?? -1 : request.replicaId
  // -1 is a consumer; Kafka's other negatives (-2 debug, -3 future log) read as a consumer here.
  return replicaId >= 0 ? replicaId : -1
}

async function readAll (broker: Broker, topics: readonly TopicRequest[], maxBytes: number,
  readCommitted: boolean, replicaId: number):
  Promise<{ responses: TopicResponse[], bytes: number, failed: boolean }> {
  let bytes = 0
  let failed = false
  const responses: TopicResponse[] = []
  for (const topic of topics) {
    const partitions: PartitionResponse[] = []
    responses.push({ topic: topic.topic, topicId: topic.topicId, partitions })
    for (const partition of topic.partitions) {
      const response = emptyResponse(partition.partition)
      partitions.push(response)
      const budget = Math.min(Math.max(partition.partitionMaxBytes, 0), maxBytes - bytes)
      if (budget <= 0 && bytes > 0) continue
      try {
        const read = replicaId >= 0
          ? await broker.replicaManager.readForFollower(topic.topic, partition.partition, {
            replicaId, fetchOffset: partition.fetchOffset,
            currentLeaderEpoch: partition.currentLeaderEpoch,
            lastFetchedEpoch: partition.lastFetchedEpoch,
          }, Math.max(budget, 0), bytes === 0)
          : await broker.replicaManager.readPartition(topic.topic, partition.partition,
            partition.fetchOffset, Math.max(budget, 0), bytes === 0, readCommitted,
            partition.currentLeaderEpoch)
        const divergingEpoch = (read as FollowerRead).divergingEpoch
        if (divergingEpoch !== undefined) {
          response.divergingEpoch = divergingEpoch
          // A follower that must truncate answers at once rather than long-polling.
          failed = true
        }
        response.highWatermark = read.highWatermark
        if (read.abortedTransactions !== undefined) {
          response.abortedTransactions = read.abortedTransactions
        }
        response.lastStableOffset = read.lastStableOffset
        response.logStartOffset = read.logStartOffset
        response.records = read.records
        bytes += read.records.length
      } catch (error) {
        if (!(error instanceof PartitionError)) throw error
        response.errorCode = errorCodeOf(error.errorName)
        if (replicaId >= 0) describeForFollower(broker, topic.topic, response)
        failed = true
      }
    }
  }
  return { responses, bytes, failed }
}

/**
 * A follower that got OFFSET_OUT_OF_RANGE (or another error) learns this log's start and high
 * watermark, so it can start over at the leader's log start (Kafka's follower asks ListOffsets).
 */
function describeForFollower (broker: Broker, topic: string, response: PartitionResponse): void {
  const log = broker.replicaManager.log(topic, response.partitionIndex)
  if (log === undefined) return
  response.logStartOffset = log.logStartOffset
  response.highWatermark = log.highWatermark
}

function emptyResponse (partitionIndex: number): PartitionResponse {
  return {
    partitionIndex,
    errorCode: ERROR.NONE,
    highWatermark: -1,
    lastStableOffset: -1,
    logStartOffset: -1,
    abortedTransactions: [],
    preferredReadReplica: -1,
    records: EMPTY,
  }
}

