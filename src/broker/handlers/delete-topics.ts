/**
 * DeleteTopics: removes topics through the controller; the replica manager, following the
 * metadata, deletes their partition logs before the controller operation resolves. Internal
 * topics are refused with INVALID_REQUEST. `delete.topic.enable=false` refuses with
 * TOPIC_DELETION_DISABLED, as Kafka does.
 */
import {
  DeleteTopics, type DeleteTopicsRequest, type DeleteTopicsResponse,
} from '../../protocol/apis/delete-topics.js'
import { ControllerError } from '../../controller/controller.js'
import { ERROR, errorCodeOf } from '../../protocol/errors.js'
import type { HandlerEntry } from '../broker.js'
import { isInternalTopic } from '../internal-topics.js'

type TopicResponse = DeleteTopicsResponse['responses'][number]

export const deleteTopicsHandler: HandlerEntry<DeleteTopicsRequest, DeleteTopicsResponse> = {
  api: DeleteTopics,
  minVersion: 0,
  maxVersion: 4,
  async handle (broker, request) {
    const names = request.topicNames.length > 0
      ? request.topicNames
      : request.topics.map(topic => topic.name ?? '')
    const responses: TopicResponse[] = []
    for (const name of names) {
      const response: TopicResponse = {
        name, topicId: Buffer.alloc(16), errorCode: ERROR.NONE, errorMessage: null,
      }
      responses.push(response)
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
