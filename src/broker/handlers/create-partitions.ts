/**
 * CreatePartitions: grows topics to a new partition count through the controller (Kafka never
 * shrinks a topic). Manual assignments are refused, and so are internal topics (their partition
 * count places the groups); `validate_only` checks without creating. The replica manager opens
 * the new logs itself as it follows the metadata. v1 is v0; v2 is flexible; v3 is v2 (quota
 * errors, KIP-599).
 */
import {
  CreatePartitions, type CreatePartitionsRequest, type CreatePartitionsResponse,
} from '../../protocol/apis/create-partitions.js'
import { ControllerError } from '../../controller/controller.js'
import { ERROR, errorCodeOf } from '../../protocol/errors.js'
import type { HandlerEntry } from '../broker.js'
import { isInternalTopic } from '../internal-topics.js'

type Result = CreatePartitionsResponse['results'][number]

export const createPartitionsHandler:
HandlerEntry<CreatePartitionsRequest, CreatePartitionsResponse> = {
  api: CreatePartitions,
  minVersion: 0,
  maxVersion: 3,
  async handle (broker, request) {
    const results: Result[] = []
    for (const topic of request.topics) {
      const result: Result = { name: topic.name, errorCode: ERROR.NONE, errorMessage: null }
      results.push(result)
      if (topic.assignments !== null && topic.assignments.length > 0) {
        result.errorCode = errorCodeOf('INVALID_REQUEST')
        result.errorMessage = 'manual replica assignments are not supported'
        continue
      }
      if (isInternalTopic(topic.name)) {
        // More partitions would move groups to other partitions of __consumer_offsets.
        result.errorCode = errorCodeOf('INVALID_REQUEST')
        result.errorMessage = `'${topic.name}' is an internal topic; its partitions are fixed`
        continue
      }
      try {
        await broker.controller.createPartitions(topic.name, topic.count, request.validateOnly)
      } catch (error) {
        if (!(error instanceof ControllerError)) throw error
        result.errorCode = errorCodeOf(error.errorName)
        result.errorMessage = error.message
      }
    }
    return { throttleTimeMs: 0, results }
  },
}
