/**
 * CreateTopics: validates every topic (name rules, partitions, replication factor against the
 * live brokers, configs against the schema) and creates it through the controller. -1 for
 * partitions or replication factor means the broker default (KIP-464). Internal topic names
 * cannot be created by clients. `validate_only` checks without creating.
 */
import {
  CreateTopics, type CreateTopicsRequest, type CreateTopicsResponse,
} from '../../protocol/apis/create-topics.js'
import { ControllerError } from '../../controller/controller.js'
import { ERROR, errorCodeOf } from '../../protocol/errors.js'
import type { Broker, HandlerEntry } from '../broker.js'
import { isInternalTopic } from '../internal-topics.js'

type TopicRequest = CreateTopicsRequest['topics'][number]
type TopicResponse = CreateTopicsResponse['topics'][number]

export const createTopicsHandler: HandlerEntry<CreateTopicsRequest, CreateTopicsResponse> = {
  api: CreateTopics,
  minVersion: 0,
  maxVersion: 4,
  async handle (broker, request) {
    const topics: TopicResponse[] = []
    const seen = new Set<string>()
    for (const topic of request.topics) {
      if (seen.has(topic.name)) {
        topics.push(failed(topic, 'INVALID_REQUEST', `topic '${topic.name}' appears twice`))
        continue
      }
      seen.add(topic.name)
      topics.push(await createOne(broker, topic, request.validateOnly))
    }
    await broker.replicaManager.reconcile()
    return { throttleTimeMs: 0, topics }
  },
}

async function createOne (broker: Broker, topic: TopicRequest,
  validateOnly: boolean): Promise<TopicResponse> {
  if (isInternalTopic(topic.name)) {
    return failed(topic, 'INVALID_REQUEST', `'${topic.name}' is an internal topic`)
  }
  if (topic.assignments.length > 0) {
    return failed(topic, 'INVALID_REQUEST',
      'manual replica assignments are not supported; give partitions and replication factor')
  }
  const configs: Record<string, string> = {}
  for (const config of topic.configs) {
    if (config.value === null) continue
    configs[config.name] = config.value
  }
  const invalidConfig = broker.configs.validateTopicConfigs(configs)
  if (invalidConfig !== undefined) return failed(topic, 'INVALID_CONFIG', invalidConfig)
  const spec = {
    name: topic.name,
    partitions: topic.numPartitions === -1 ? broker.settings.numPartitions : topic.numPartitions,
    replicationFactor: topic.replicationFactor === -1
      ? broker.settings.defaultReplicationFactor
      : topic.replicationFactor,
    configs,
  }
  try {
    if (validateOnly) broker.controller.validateCreateTopic(spec)
    else await broker.controller.createTopic(spec)
  } catch (error) {
    if (!(error instanceof ControllerError)) throw error
    return failed(topic, error.errorName, error.message)
  }
  return {
    name: topic.name,
    topicId: Buffer.from(broker.image.topic(topic.name)?.topicId ?? '', 'base64url'),
    errorCode: ERROR.NONE,
    errorMessage: null,
    numPartitions: spec.partitions,
    replicationFactor: spec.replicationFactor,
    configs: null,
  }
}

function failed (topic: TopicRequest, errorName: string, message: string): TopicResponse {
  return {
    name: topic.name,
    topicId: Buffer.alloc(16),
    errorCode: errorCodeOf(errorName),
    errorMessage: message,
    numPartitions: -1,
    replicationFactor: -1,
    configs: null,
  }
}
