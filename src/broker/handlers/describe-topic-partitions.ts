/**
 * DescribeTopicPartitions (KIP-966): the named topics (every topic when none is named), sorted
 * by name, with their partitions, at most `response_partition_limit` partitions per response
 * (and never more than Kafka's max.request.partition.size.limit default, 2000). When the limit
 * cuts a listing short, next_cursor names the first partition left out, and a request with that
 * cursor goes on from there; a cursor naming a topic the request does not list is
 * INVALID_REQUEST, as Kafka's DescribeTopicPartitionsRequestHandler answers.
 *
 * A topic that does not exist answers UNKNOWN_TOPIC_OR_PARTITION (an illegal name
 * INVALID_TOPIC_EXCEPTION) and takes no part of the limit; authorized operations are all allowed
 * (authorized-operations.ts); eligible leader replicas (KIP-966's ELR) are empty: with one
 * replica per partition there are none.
 */
import {
  DescribeTopicPartitions, type DescribedTopic, type DescribeTopicPartitionsRequest,
  type DescribeTopicPartitionsResponse, type TopicPartitionCursor,
} from '../../protocol/apis/describe-topic-partitions.js'
import { ERROR, errorCodeOf } from '../../protocol/errors.js'
import { validateTopicName } from '../../protocol/topic-name.js'
import type { MetadataImage, TopicInfo } from '../../metadata/image.js'
import { OPERATIONS_NOT_REQUESTED, TOPIC_OPERATIONS } from '../authorized-operations.js'
import type { Broker, HandlerEntry } from '../broker.js'
import { describeTopic } from './metadata.js'

/** Kafka's max.request.partition.size.limit default: the most partitions one response holds. */
const RESPONSE_PARTITIONS_MAX = 2000
const NO_TOPIC_ID = Buffer.alloc(16)

export const describeTopicPartitionsHandler: HandlerEntry<DescribeTopicPartitionsRequest,
DescribeTopicPartitionsResponse> = {
  api: DescribeTopicPartitions,
  minVersion: 0,
  maxVersion: 0,
  async handle (broker, request) {
    const cursor = request.cursor
    const names = request.topics.length === 0
      ? [...broker.image.topics()].map(topic => topic.name)
      : [...new Set(request.topics.map(topic => topic.name))]
    names.sort()
    if (cursor !== null && (cursor.partitionIndex < 0 || !names.includes(cursor.topicName))) {
      return invalidCursor(request)
    }
    const limit = request.responsePartitionLimit > 0
      ? Math.min(request.responsePartitionLimit, RESPONSE_PARTITIONS_MAX)
      : RESPONSE_PARTITIONS_MAX
    return { throttleTimeMs: 0, ...page(broker, names, cursor, limit) }
  },
}

/** The whole request refused: INVALID_REQUEST for every topic named. */
function invalidCursor (request: DescribeTopicPartitionsRequest):
DescribeTopicPartitionsResponse {
  return DescribeTopicPartitions.errorResponse(request, 0, errorCodeOf('INVALID_REQUEST'))
}

function page (broker: Broker, names: string[], cursor: TopicPartitionCursor | null,
  limit: number): { topics: DescribedTopic[], nextCursor: TopicPartitionCursor | null } {
  const topics: DescribedTopic[] = []
  let room = limit
  const start = cursor === null ? 0 : names.indexOf(cursor.topicName)
  for (let i = start; i < names.length; i++) {
    const name = names[i] as string
    const topic = broker.image.topic(name)
    if (topic === undefined) {
      topics.push(missing(name))
      continue
    }
    const first = cursor !== null && i === start ? cursor.partitionIndex : 0
    const partitions = [...topic.partitions].sort((a, b) => a.partitionId - b.partitionId)
      .filter(partition => partition.partitionId >= first)
    if (room === 0) return { topics, nextCursor: { topicName: name, partitionIndex: first } }
    const taken = partitions.slice(0, room)
    topics.push(describe(topic, taken, broker.image))
    room -= taken.length
    const next = partitions[taken.length]
    if (next !== undefined) {
      return { topics, nextCursor: { topicName: name, partitionIndex: next.partitionId } }
    }
  }
  return { topics, nextCursor: null }
}

function missing (name: string): DescribedTopic {
  return {
    errorCode: validateTopicName(name) === undefined
      ? ERROR.UNKNOWN_TOPIC_OR_PARTITION
      : ERROR.INVALID_TOPIC_EXCEPTION,
    name, topicId: NO_TOPIC_ID, isInternal: false, partitions: [],
    topicAuthorizedOperations: OPERATIONS_NOT_REQUESTED,
  }
}

/** Metadata's description of the topic (one definition), with KIP-966's fields added. */
function describe (topic: TopicInfo, partitions: TopicInfo['partitions'],
  image: MetadataImage): DescribedTopic {
  const described = describeTopic({ ...topic, partitions }, image)
  return {
    ...described,
    partitions: described.partitions.map(partition => ({
      ...partition, eligibleLeaderReplicas: [], lastKnownElr: [],
    })),
    topicAuthorizedOperations: TOPIC_OPERATIONS,
  }
}
