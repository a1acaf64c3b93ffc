/**
 * Metadata: brokers, controller and topics with their partitions.
 *
 * Pitfalls this follows (KAFKA_PROTOCOL.md P2): kafkajs throws on any non-zero topic or
 * partition error, so a topic that exists is always answered without error; `controller_id`
 * and `leader_id` name a broker that is listed; auto-creation is synchronous, so the first
 * response already carries the new topic; v0 requests with no topics and v1+ requests with a
 * null list mean "all topics"; v0-v3 imply allow_auto_topic_creation.
 */
import { Metadata, type MetadataRequest, type MetadataResponse } from '../../protocol/apis/metadata.js'
import { ERROR } from '../../protocol/errors.js'
import { validateTopicName } from '../../protocol/topic-name.js'
import type { TopicInfo } from '../../metadata/image.js'
import type { Broker, HandlerEntry } from '../broker.js'
import { isInternalTopic } from '../internal-topics.js'

type TopicResponse = MetadataResponse['topics'][number]
const NO_TOPIC_ID = Buffer.alloc(16)
/**
 * The most topics one Metadata request auto-creates. Past it, a new topic is answered
 * LEADER_NOT_AVAILABLE (retriable, Kafka's answer for a topic still being created), so a client
 * naming more gets them on its next retry, and one small request naming 100,000 new topics
 * cannot make the controller create them all. Kafka bounds the same work with the controller
 * mutation quota (KIP-599).
 */
export const AUTO_CREATED_TOPICS_PER_REQUEST_MAX = 100

export const metadataHandler: HandlerEntry<MetadataRequest, MetadataResponse> = {
  api: Metadata,
  minVersion: 0,
  maxVersion: 6,
  async handle (broker, request, context) {
    const allTopics = request.topics === null ||
      (context.version === 0 && request.topics.length === 0)
    const allowAutoCreate = context.version < 4 || request.allowAutoTopicCreation
    const topics: TopicResponse[] = []
    if (allTopics) {
      for (const topic of broker.image.topics()) topics.push(describeTopic(topic))
    } else {
      const creations: Creations = {
        allowed: allowAutoCreate && broker.settings.autoCreateTopicsEnable,
        left: AUTO_CREATED_TOPICS_PER_REQUEST_MAX,
      }
      for (const requested of request.topics ?? []) {
        topics.push(await describeRequested(broker, requested.name ?? '', creations))
      }
    }
    return {
      throttleTimeMs: 0,
      brokers: [...broker.image.brokers.values()].map(info => {
        const endpoint = info.endpoints.find(e => e.listener === context.listener) ?? info
        return { nodeId: info.brokerId, host: endpoint.host, port: endpoint.port,
          rack: info.rack }
      }),
      clusterId: broker.settings.clusterId,
      controllerId: broker.settings.nodeId,
      topics,
      clusterAuthorizedOperations: -2147483648,
    }
  },
}

/** Whether this request may auto-create topics, and how many more. */
interface Creations {
  allowed: boolean
  left: number
}

/**
 * An illegal name is INVALID_TOPIC_EXCEPTION whether or not auto-creation is on, before any
 * lookup (Kafka's KafkaApis.getTopicMetadata validates the names it does not know).
 */
async function describeRequested (broker: Broker, name: string,
  creations: Creations): Promise<TopicResponse> {
  if (validateTopicName(name) !== undefined) {
    return missingTopic(name, ERROR.INVALID_TOPIC_EXCEPTION)
  }
  let create = false
  if (creations.allowed && broker.image.topic(name) === undefined) {
    if (creations.left === 0) return missingTopic(name, ERROR.LEADER_NOT_AVAILABLE)
    creations.left--
    create = true
  }
  let topic: TopicInfo | undefined
  try {
    topic = await broker.topicOrAutoCreate(name, create)
  } catch (error) {
    const errorName = (error as { errorName?: string }).errorName
    const code = errorName === 'INVALID_TOPIC_EXCEPTION'
      ? ERROR.INVALID_TOPIC_EXCEPTION
      : ERROR.UNKNOWN_TOPIC_OR_PARTITION
    return missingTopic(name, code)
  }
  if (topic === undefined) return missingTopic(name, ERROR.UNKNOWN_TOPIC_OR_PARTITION)
  return describeTopic(topic)
}

function missingTopic (name: string, errorCode: number): TopicResponse {
  return {
    errorCode, name, topicId: NO_TOPIC_ID, isInternal: false, partitions: [],
    topicAuthorizedOperations: -2147483648,
  }
}

export function describeTopic (topic: TopicInfo): TopicResponse {
  return {
    errorCode: ERROR.NONE,
    name: topic.name,
    topicId: Buffer.from(topic.topicId, 'base64url'),
    isInternal: isInternalTopic(topic.name),
    partitions: topic.partitions.map(partition => ({
      errorCode: ERROR.NONE,
      partitionIndex: partition.partitionId,
      leaderId: partition.leader,
      leaderEpoch: partition.leaderEpoch,
      replicaNodes: partition.replicas,
      isrNodes: partition.isr,
      offlineReplicas: [],
    })),
    topicAuthorizedOperations: -2147483648,
  }
}
