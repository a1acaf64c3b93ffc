/**
 * Metadata: brokers, controller and topics with their partitions.
 *
 * Pitfalls this follows (docs/protocol.md, Metadata): kafkajs throws on any non-zero topic or
 * partition error, so a topic that exists is always answered without error; `controller_id`
 * and `leader_id` name a broker that is listed; auto-creation is synchronous, so the first
 * response already carries the new topic; v0 requests with no topics and v1+ requests with a
 * null list mean "all topics"; v0-v3 imply allow_auto_topic_creation. One request auto-creates
 * at most AUTO_CREATE_TOPICS_PER_REQUEST topics (the rest answer LEADER_NOT_AVAILABLE, retried
 * by clients); internal and reserved names are never auto-created.
 *
 * v10+ carry topic ids (KIP-516); v12+ may ask for a topic by id alone (null name), answered
 * UNKNOWN_TOPIC_ID with a null name when no topic has it, as Kafka does (so a client holding the
 * id of a deleted topic learns it is gone, even if the name was re-created under a new id).
 * v8+ authorized operations are all allowed when asked for (authorized-operations.ts).
 */
import { Metadata, type MetadataRequest, type MetadataResponse } from '../../protocol/apis/metadata.js'
import { ControllerError } from '../../controller/controller.js'
import { validateTopicName } from '../../protocol/topic-name.js'
import { ERROR, errorCodeOf } from '../../protocol/errors.js'
import type { MetadataImage, TopicInfo } from '../../metadata/image.js'
import type { Broker, HandlerEntry } from '../broker.js'
import { isInternalTopic } from '../internal-topics.js'
import { AutoCreateBudget } from '../topic-creator.js'
import {
  authorizedOperations, CLUSTER_OPERATIONS, OPERATIONS_NOT_REQUESTED, TOPIC_OPERATIONS,
} from '../authorized-operations.js'

type TopicResponse = MetadataResponse['topics'][number]
const NO_TOPIC_ID = Buffer.alloc(16)

export const metadataHandler: HandlerEntry<MetadataRequest, MetadataResponse> = {
  api: Metadata,
  minVersion: 0,
  maxVersion: 13,
  async handle (broker, request, context) {
    const allTopics = request.topics === null ||
      (context.version === 0 && request.topics.length === 0)
    const allowAutoCreate = context.version < 4 || request.allowAutoTopicCreation
    const topics: TopicResponse[] = []
    if (allTopics) {
      for (const topic of broker.image.topics()) topics.push(describeTopic(topic, broker.image))
    } else {
      const budget = new AutoCreateBudget()
      for (const requested of request.topics ?? []) {
        topics.push(requested.name === null
          ? describeById(broker, requested.topicId)
          : await describeRequested(broker, requested.name, allowAutoCreate, budget))
      }
    }
    const topicOperations = authorizedOperations(request.includeTopicAuthorizedOperations,
      TOPIC_OPERATIONS)
    for (const topic of topics) {
      if (topic.errorCode === ERROR.NONE) topic.topicAuthorizedOperations = topicOperations
    }
    return {
      throttleTimeMs: 0,
      brokers: [...broker.image.brokers.values()].map(info => {
        const endpoint = info.endpoints.find(e => e.listener === context.listener) ?? info
        return { nodeId: info.brokerId, host: endpoint.host, port: endpoint.port,
          rack: info.rack }
      }),
      clusterId: broker.settings.clusterId,
      controllerId: broker.controller.activeControllerId,
      topics,
      clusterAuthorizedOperations: authorizedOperations(
        request.includeClusterAuthorizedOperations, CLUSTER_OPERATIONS),
      errorCode: ERROR.NONE,
    }
  },
}

/** A topic asked for by id alone (v12+): UNKNOWN_TOPIC_ID unless a live topic has it. */
function describeById (broker: Broker, topicId: Buffer): TopicResponse {
  const topic = broker.image.topicById(topicId.toString('base64url'))
  if (topic === undefined) {
    return { ...missingTopic('', errorCodeOf('UNKNOWN_TOPIC_ID')), name: null, topicId }
  }
  return describeTopic(topic, broker.image)
}

/**
 * An illegal name is INVALID_TOPIC_EXCEPTION whether or not auto-creation is on, before any
 * lookup (Kafka's KafkaApis.getTopicMetadata validates the names it does not know).
 */
async function describeRequested (broker: Broker, name: string,
  allowAutoCreate: boolean, budget: AutoCreateBudget): Promise<TopicResponse> {
  if (validateTopicName(name) !== undefined) {
    return missingTopic(name, ERROR.INVALID_TOPIC_EXCEPTION)
  }
  let topic: TopicInfo | undefined
  try {
    topic = await broker.topicOrAutoCreate(name, allowAutoCreate, budget)
  } catch (error) {
    return missingTopic(name, autoCreateErrorCode(error))
  }
  if (topic === undefined) return missingTopic(name, ERROR.UNKNOWN_TOPIC_OR_PARTITION)
  return describeTopic(topic, broker.image)
}

/**
 * The topic error for a name that could not be auto-created: a name that can never be a
 * topic (invalid, or the reserved __cluster_metadata) is INVALID_TOPIC_EXCEPTION; a spent
 * per-request budget is LEADER_NOT_AVAILABLE (retriable); anything else UNKNOWN_TOPIC_OR_PARTITION.
 */
function autoCreateErrorCode (error: unknown): number {
  const errorName = error instanceof ControllerError ? error.errorName : undefined
  switch (errorName) {
    case 'INVALID_TOPIC_EXCEPTION': case 'INVALID_REQUEST': return ERROR.INVALID_TOPIC_EXCEPTION
    case 'LEADER_NOT_AVAILABLE': return errorCodeOf('LEADER_NOT_AVAILABLE')
    default: return ERROR.UNKNOWN_TOPIC_OR_PARTITION
  }
}

function missingTopic (name: string, errorCode: number): TopicResponse {
  return {
    errorCode, name, topicId: NO_TOPIC_ID, isInternal: false, partitions: [],
    topicAuthorizedOperations: OPERATIONS_NOT_REQUESTED,
  }
}

/**
 * A topic as Metadata (and DescribeTopicPartitions) answer it. As KRaft's metadata cache does,
 * a partition whose leader is not a live broker (none elected, or its session ended) answers
 * LEADER_NOT_AVAILABLE with leader -1, so clients retry instead of dialling a dead broker, and
 * replicas on brokers that are not live are listed as offline.
 */
export function describeTopic (topic: TopicInfo, image: MetadataImage): TopicResponse {
  const live = (brokerId: number): boolean => image.brokers.has(brokerId)
  return {
    errorCode: ERROR.NONE,
    name: topic.name,
    topicId: Buffer.from(topic.topicId, 'base64url'),
    isInternal: isInternalTopic(topic.name),
    partitions: topic.partitions.map(partition => {
      const leaderLive = partition.leader >= 0 && live(partition.leader)
      return {
        errorCode: leaderLive ? ERROR.NONE : errorCodeOf('LEADER_NOT_AVAILABLE'),
        partitionIndex: partition.partitionId,
        leaderId: leaderLive ? partition.leader : -1,
        leaderEpoch: partition.leaderEpoch,
        replicaNodes: partition.replicas,
        isrNodes: partition.isr,
        offlineReplicas: partition.replicas.filter(replica => !live(replica)),
      }
    }),
    topicAuthorizedOperations: OPERATIONS_NOT_REQUESTED,
  }
}
