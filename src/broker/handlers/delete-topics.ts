/**
 * DeleteTopics: removes topics through the controller; the replica manager, following the
 * metadata, deletes their partition logs before the controller operation resolves. Internal
 * topics are refused with INVALID_REQUEST. `delete.topic.enable=false` refuses with
 * TOPIC_DELETION_DISABLED, as Kafka does.
 *
 * v6+ (KIP-516) name each topic by name or by id: an id no live topic has is UNKNOWN_TOPIC_ID
 * (so a client holding a deleted topic's id cannot delete its successor), and giving both is
 * INVALID_REQUEST, as Kafka's KafkaApis.handleDeleteTopicsRequest answers. The response names
 * each deleted topic and its id.
 */
import {
  DeleteTopics, type DeleteTopicsRequest, type DeleteTopicsResponse,
} from '../../protocol/apis/delete-topics.js'
import { ControllerError } from '../../controller/controller.js'
import { ERROR, errorCodeOf } from '../../protocol/errors.js'
import type { Broker, HandlerEntry } from '../broker.js'
import { isInternalTopic } from '../internal-topics.js'

type TopicResponse = DeleteTopicsResponse['responses'][number]

export const deleteTopicsHandler: HandlerEntry<DeleteTopicsRequest, DeleteTopicsResponse> = {
  api: DeleteTopics,
  // Kafka 4 serves DeleteTopics from v1 (KIP-896), and no tested client sends older.
  minVersion: 1,
  maxVersion: 6,
  async handle (broker, request, context) {
    const wanted = context.version >= 6
      ? request.topics
      : request.topicNames.map(name => ({ name, topicId: NO_TOPIC_ID }))
    const responses: TopicResponse[] = []
    for (const topic of wanted) {
      const response: TopicResponse = {
        name: topic.name, topicId: topic.topicId, errorCode: ERROR.NONE, errorMessage: null,
      }
      responses.push(response)
      const name = resolveName(broker, topic, response)
      if (name === undefined) continue
      if (!broker.settings.deleteTopicEnable) {
        response.errorCode = errorCodeOf('TOPIC_DELETION_DISABLED')
        continue
      }
      if (isInternalTopic(name)) {
        response.errorCode = errorCodeOf('INVALID_REQUEST')
        response.errorMessage = `'${name}' is an internal topic`
        continue
      }
      try {
        const topic = await broker.controller.deleteTopic(name)
        response.topicId = Buffer.from(topic.topicId, 'base64url')
      } catch (error) {
        if (!(error instanceof ControllerError)) throw error
        response.errorCode = errorCodeOf(error.errorName)
        response.errorMessage = error.message
      }
    }
    return { throttleTimeMs: 0, responses }
  },
}

const NO_TOPIC_ID = Buffer.alloc(16)

/** The name of the topic to delete, or undefined once `response` says why there is none. */
function resolveName (broker: Broker, topic: { name: string | null, topicId: Buffer },
  response: TopicResponse): string | undefined {
  const byId = !topic.topicId.equals(NO_TOPIC_ID)
  if (byId && topic.name !== null) {
    response.errorCode = errorCodeOf('INVALID_REQUEST')
    response.errorMessage = 'You may not specify both topic name and topic id.'
    return undefined
  }
  if (!byId) return topic.name ?? ''
  const live = broker.image.topicById(topic.topicId.toString('base64url'))
  if (live === undefined) {
    response.errorCode = errorCodeOf('UNKNOWN_TOPIC_ID')
    return undefined
  }
  response.name = live.name
  return live.name
}
