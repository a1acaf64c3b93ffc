/**
 * OffsetDelete v0 (librdkafka, platformatic): deletes committed offsets of partitions the
 * group does not consume; GROUP_SUBSCRIBED_TO_TOPIC per partition for topics an active
 * consumer group subscribes to, NON_EMPTY_GROUP for an active non-consumer group (Kafka's
 * OffsetMetadataManager.deleteOffsets).
 */
import { OffsetDelete, type OffsetDeleteRequest } from '../../protocol/apis/offset-delete.js'
import { ERROR } from '../../protocol/errors.js'
import type { HandlerEntry } from '../broker.js'

export const offsetDeleteHandler: HandlerEntry = {
  api: OffsetDelete,
  minVersion: 0,
  maxVersion: 0,
  async handle (broker, request: OffsetDeleteRequest) {
    const partitions = request.topics.flatMap(topic =>
      topic.partitions.map(p => ({ topic: topic.name, partition: p.partitionIndex })))
    const groups = broker.groups
    const result = groups === undefined
      ? { errorCode: ERROR.COORDINATOR_NOT_AVAILABLE as number, errorCodes: [] }
      : await groups.deleteOffsets(request.groupId, partitions)
    let next = 0
    return {
      errorCode: result.errorCode,
      throttleTimeMs: 0,
      topics: request.topics.map(topic => ({
        name: topic.name,
        partitions: topic.partitions.map(p => ({ partitionIndex: p.partitionIndex,
          errorCode: result.errorCodes[next++] ?? ERROR.NONE })),
      })),
    }
  },
}
