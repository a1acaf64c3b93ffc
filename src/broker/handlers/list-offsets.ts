/**
 * ListOffsets: the offset for a timestamp, or the special timestamps -1 (latest: the high
 * watermark, the next offset a consumer would read) and -2 (earliest: the log start offset).
 * For a real timestamp it is the first offset whose batch has a timestamp at or after it, or
 * offset -1 when there is none (Kafka's UnifiedLog.fetchOffsetByTimestamp).
 *
 * Newer specs, each from the version that allows it (older versions answer them
 * UNSUPPORTED_VERSION): -3 (v7+, KIP-734) the first offset holding the largest timestamp, with
 * that timestamp; -4 (v8+, KIP-405) the local log start offset, which without tiered storage
 * is the log start offset; -5 (v9+, KIP-1005) the last tiered offset, -1 without tiered
 * storage, as Kafka answers. v4+: a current_leader_epoch other than -1 is checked against the
 * partition's (FENCED_LEADER_EPOCH if older, UNKNOWN_LEADER_EPOCH if newer, KIP-320), and
 * latest answers with the leader epoch. v10's timeout_ms bounds remote lookups; every lookup
 * here is local.
 */
import {
  ListOffsets, type ListOffsetsRequest, type ListOffsetsResponse,
} from '../../protocol/apis/list-offsets.js'
import { ERROR, errorCodeOf } from '../../protocol/errors.js'
import { validateTopicName } from '../../protocol/topic-name.js'
import { READ_COMMITTED } from './fetch.js'
import type { Broker, HandlerEntry } from '../broker.js'
import type { PartitionLog } from '../../storage/partition-log.js'
import { PartitionError } from '../replica-manager.js'

type PartitionResponse = ListOffsetsResponse['topics'][number]['partitions'][number]

export const LATEST_TIMESTAMP = -1
export const EARLIEST_TIMESTAMP = -2
const MAX_TIMESTAMP = -3
const EARLIEST_LOCAL_TIMESTAMP = -4
const LATEST_TIERED_TIMESTAMP = -5
/** The first version that allows each newer special timestamp. */
const SPEC_FIRST_VERSION = new Map([
  [MAX_TIMESTAMP, 7], [EARLIEST_LOCAL_TIMESTAMP, 8], [LATEST_TIERED_TIMESTAMP, 9],
])

export const listOffsetsHandler: HandlerEntry<ListOffsetsRequest, ListOffsetsResponse> = {
  api: ListOffsets,
  minVersion: 1,
  maxVersion: 10,
  async handle (broker, request, context) {
    const topics: ListOffsetsResponse['topics'] = []
    for (const topic of request.topics) {
      const partitions: PartitionResponse[] = []
      topics.push({ name: topic.name, partitions })
      for (const partition of topic.partitions) {
        partitions.push(await lookup(broker, topic.name, partition, context.version,
          request.isolationLevel === READ_COMMITTED))
      }
    }
    return { throttleTimeMs: 0, topics }
  },
}

type PartitionRequest = ListOffsetsRequest['topics'][number]['partitions'][number]

async function lookup (broker: Broker, topic: string, partition: PartitionRequest,
  version: number, readCommitted: boolean): Promise<PartitionResponse> {
  const { partitionIndex, currentLeaderEpoch } = partition
  let timestamp = partition.timestamp
  if ((SPEC_FIRST_VERSION.get(timestamp) ?? 0) > version) timestamp = Number.MIN_SAFE_INTEGER
  const response: PartitionResponse = {
    partitionIndex, errorCode: ERROR.NONE, oldStyleOffsets: [], timestamp: -1, offset: -1,
    leaderEpoch: -1,
  }
  if (validateTopicName(topic) !== undefined) {
    response.errorCode = ERROR.INVALID_TOPIC_EXCEPTION
    return response
  }
  let log: PartitionLog
  try {
    // Only the leader answers, and a current_leader_epoch is checked (KIP-320).
    log = broker.replicaManager.leaderLog(topic, partitionIndex, currentLeaderEpoch)
  } catch (error) {
    if (!(error instanceof PartitionError)) throw error
    response.errorCode = errorCodeOf(error.errorName)
    return response
  }
  const leaderEpoch = broker.image.topic(topic)?.partitions
    .find(p => p.partitionId === partitionIndex)?.leaderEpoch ?? -1
  if (timestamp === LATEST_TIMESTAMP) {
    // read_committed: the last stable offset (KIP-98), as Kafka's fetchOffsetForTimestamp.
    response.offset = readCommitted ? log.lastStableOffset
      : broker.replicaManager.highWatermark(log)
    response.leaderEpoch = leaderEpoch
  } else if (timestamp === EARLIEST_TIMESTAMP || timestamp === EARLIEST_LOCAL_TIMESTAMP) {
    response.offset = log.logStartOffset
    response.leaderEpoch = await earliestEpoch(log, leaderEpoch)
  } else if (timestamp === LATEST_TIERED_TIMESTAMP) {
    response.offset = -1
  } else if (timestamp === MAX_TIMESTAMP) {
    await findMaxTimestamp(broker, log, response)
  } else if (timestamp < 0) {
    response.errorCode = errorCodeOf('UNSUPPORTED_VERSION')
  } else {
    try {
      const found = await log.offsetForTimestamp(timestamp)
      const highWatermark = broker.replicaManager.highWatermark(log)
      if (found !== undefined && found.offset < highWatermark) {
        response.offset = found.offset
        response.timestamp = found.timestamp
        response.leaderEpoch = found.leaderEpoch
      }
    } catch {
      response.errorCode = ERROR.KAFKA_STORAGE_ERROR
    }
  }
  return response
}

/**
 * The leader epoch of the log start offset, as Kafka answers -2 and -4 from its epoch cache:
 * the epoch of the first batch still in the log (read back by the smallest timestamp), or of
 * the current leader when the log holds nothing, whose epoch Kafka assigns at the log end when
 * a leader takes over. -1 if the log cannot be read.
 */
async function earliestEpoch (log: PartitionLog, leaderEpoch: number): Promise<number> {
  try {
    return (await log.offsetForTimestamp(Number.MIN_SAFE_INTEGER))?.leaderEpoch ?? leaderEpoch
  } catch {
    return -1
  }
}

/** -3: the first offset holding the log's largest timestamp, if it is below the high watermark. */
async function findMaxTimestamp (broker: Broker, log: PartitionLog,
  response: PartitionResponse): Promise<void> {
  try {
    const found = await log.offsetOfMaxTimestamp()
    if (found !== undefined && found.offset < broker.replicaManager.highWatermark(log)) {
      response.offset = found.offset
      response.timestamp = found.timestamp
      response.leaderEpoch = found.leaderEpoch
    }
  } catch {
    response.errorCode = ERROR.KAFKA_STORAGE_ERROR
  }
}
