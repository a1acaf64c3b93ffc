/**
 * CreateTopics: each topic goes through the broker's one creation path (TopicCreator: name
 * rules, partitions, replication factor against the live brokers, configs against the schema,
 * internal and reserved names refused with INVALID_REQUEST). -1 for partitions or replication
 * factor means the broker default (KIP-464). `validate_only` checks without creating. A name
 * given twice is INVALID_REQUEST, as in Kafka.
 *
 * v5+ answer with the topic's partitions, replication factor and every config with its value
 * and source (KIP-525), also for validate_only; v7+ with the new topic's id (KIP-516).
 */
import {
  CreateTopics, type CreateTopicsRequest, type CreateTopicsResponse,
} from '../../protocol/apis/create-topics.js'
import { ControllerError } from '../../controller/controller.js'
import { ERROR, errorCodeOf } from '../../protocol/errors.js'
import type { Broker, HandlerEntry } from '../broker.js'
import { CONFIG_SOURCE } from './configs.js'

type TopicRequest = CreateTopicsRequest['topics'][number]
const NO_TOPIC_ID = Buffer.alloc(16)
type TopicResponse = CreateTopicsResponse['topics'][number]

export const createTopicsHandler: HandlerEntry<CreateTopicsRequest, CreateTopicsResponse> = {
  api: CreateTopics,
  // Kafka 4 serves CreateTopics from v2 (KIP-896), and no tested client sends older.
  minVersion: 2,
  maxVersion: 7,
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
    return { throttleTimeMs: 0, topics }
  },
}

async function createOne (broker: Broker, topic: TopicRequest,
  validateOnly: boolean): Promise<TopicResponse> {
  if (topic.assignments.length > 0) {
    return failed(topic, 'INVALID_REQUEST',
      'manual replica assignments are not supported; give partitions and replication factor')
  }
  const configs: Record<string, string> = {}
  for (const config of topic.configs) {
    if (config.value === null) continue
    configs[config.name] = config.value
  }
  const newTopic = {
    name: topic.name, partitions: topic.numPartitions,
    replicationFactor: topic.replicationFactor, configs,
  }
  let spec
  try {
    spec = broker.topicCreator.validate(newTopic, 'client')
    if (!validateOnly) await broker.topicCreator.create(newTopic, 'client')
  } catch (error) {
    if (!(error instanceof ControllerError)) throw error
    return failed(topic, error.errorName, error.message)
  }
  const created = validateOnly ? undefined : broker.image.topic(topic.name)
  return {
    name: topic.name,
    topicId: created === undefined ? NO_TOPIC_ID : Buffer.from(created.topicId, 'base64url'),
    errorCode: ERROR.NONE,
    errorMessage: null,
    numPartitions: spec.partitions,
    replicationFactor: spec.replicationFactor,
    configs: describeConfigs(broker, topic.name, created?.configs ?? new Map(
      Object.entries(configs))),
  }
}

/** The topic's configs as CreateTopics v5+ returns them (Kafka's CreatableTopicConfigs). */
function describeConfigs (broker: Broker, name: string,
  overrides: Map<string, string>): NonNullable<TopicResponse['configs']> {
  return broker.configs.describeTopic(name, overrides).map(entry => ({
    name: entry.name,
    value: entry.isSensitive ? null : entry.value,
    readOnly: entry.readOnly,
    configSource: CONFIG_SOURCE[entry.source],
    isSensitive: entry.isSensitive,
  }))
}

function failed (topic: TopicRequest, errorName: string, message: string): TopicResponse {
  return {
    name: topic.name,
    topicId: NO_TOPIC_ID,
    errorCode: errorCodeOf(errorName),
    errorMessage: message,
    numPartitions: -1,
    replicationFactor: -1,
    configs: null,
  }
}
