/**
 * ListOffsets: the offset for a timestamp, or the special timestamps -1 (latest: the high
 * watermark, the next offset a consumer would read) and -2 (earliest: the log start offset).
 * For a real timestamp it is the first offset whose batch has a timestamp at or after it, or
 * offset -1 when there is none (Kafka's UnifiedLog.fetchOffsetByTimestamp).
 */
import {
  ListOffsets, type ListOffsetsRequest, type ListOffsetsResponse,
} from '../../protocol/apis/list-offsets.js'
import { ERROR, errorCodeOf } from '../../protocol/errors.js'
import { validateTopicName } from '../../protocol/topic-name.js'
import { READ_COMMITTED } from './fetch.js'
import type { Broker, HandlerEntry } from '../broker.js'

type PartitionResponse = ListOffsetsResponse['topics'][number]['partitions'][number]

export const LATEST_TIMESTAMP = -1
export const EARLIEST_TIMESTAMP = -2

export const listOffsetsHandler: HandlerEntry<ListOffsetsRequest, ListOffsetsResponse> = {
  api: ListOffsets,
  minVersion: 1,
  maxVersion: 3,
  async handle (broker, request) {
    const topics: ListOffsetsResponse['topics'] = []
    for (const topic of request.topics) {
      const partitions: PartitionResponse[] = []
      topics.push({ name: topic.name, partitions })
      for (const partition of topic.partitions) {
        partitions.push(await lookup(broker, topic.name, partition.partitionIndex,
          partition.timestamp, request.isolationLevel === READ_COMMITTED))
      }
    }
    return { throttleTimeMs: 0, topics }
  },
}

async function lookup (broker: Broker, topic: string, partitionIndex: number,
  timestamp: number, readCommitted: boolean): Promise<PartitionResponse> {
  const response: PartitionResponse = {
    partitionIndex, errorCode: ERROR.NONE, oldStyleOffsets: [], timestamp: -1, offset: -1,
    leaderEpoch: -1,
  }
  if (validateTopicName(topic) !== undefined) {
    response.errorCode = ERROR.INVALID_TOPIC_EXCEPTION
    return response
  }
  const log = broker.image.topic(topic) === undefined
    ? undefined
    : broker.replicaManager.log(topic, partitionIndex)
  if (log === undefined) {
    response.errorCode = ERROR.UNKNOWN_TOPIC_OR_PARTITION
    return response
  }
  if (timestamp === LATEST_TIMESTAMP) {
    // read_committed: the last stable offset (KIP-98), as Kafka's fetchOffsetForTimestamp.
    response.offset = readCommitted ? log.lastStableOffset
      : broker.replicaManager.highWatermark(log)
  } else if (timestamp === EARLIEST_TIMESTAMP) {
    response.offset = log.logStartOffset
  } else if (timestamp < 0) {
    response.errorCode = errorCodeOf('UNSUPPORTED_VERSION')
  } else {
    try {
      const found = await log.offsetForTimestamp(timestamp)
      const highWatermark = broker.replicaManager.highWatermark(log)
      if (found !== undefined && found.offset < highWatermark) {
        response.offset = found.offset
        response.timestamp = found.timestamp
      }
    } catch {
      response.errorCode = ERROR.KAFKA_STORAGE_ERROR
    }
  }
  return response
}
