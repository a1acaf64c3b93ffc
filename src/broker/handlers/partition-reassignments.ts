/**
 * AlterPartitionReassignments and ListPartitionReassignments (KIP-455;
 * kafka-reassign-partitions.sh). Alter hands every partition's target replicas (or null:
 * cancel) to the controller, forwarded when it is another broker, and answers per partition:
 * NONE, or INVALID_REPLICA_ASSIGNMENT (empty, a broker twice, an unregistered broker),
 * INVALID_REPLICATION_FACTOR (v1's allow_replication_factor_change=false, KIP-860),
 * NO_REASSIGNMENT_IN_PROGRESS (cancel of none), UNKNOWN_TOPIC_OR_PARTITION. List answers
 * from this broker's metadata image: the partitions whose reassignment is in progress, with
 * their replicas and the adding and removing ones.
 */
import { ControllerError } from '../../controller/controller.js'
import {
  AlterPartitionReassignments, type AlterPartitionReassignmentsRequest,
  type AlterPartitionReassignmentsResponse,
} from '../../protocol/apis/alter-partition-reassignments.js'
import {
  ListPartitionReassignments, type ListPartitionReassignmentsRequest,
  type ListPartitionReassignmentsResponse,
} from '../../protocol/apis/list-partition-reassignments.js'
import { ERROR, errorCodeOf } from '../../protocol/errors.js'
import type { HandlerEntry } from '../broker.js'

/** Groups per-partition items under their topic, topics in first-seen order. */
export function byTopic<T extends { topic: string }, U> (items: readonly T[],
  each: (item: T) => U): { name: string, partitions: U[] }[] {
  const topics = new Map<string, { name: string, partitions: U[] }>()
  for (const item of items) {
    let topic = topics.get(item.topic)
    if (topic === undefined) {
      topic = { name: item.topic, partitions: [] }
      topics.set(item.topic, topic)
    }
    topic.partitions.push(each(item))
  }
  return [...topics.values()]
}

export const alterPartitionReassignmentsHandler: HandlerEntry<
AlterPartitionReassignmentsRequest, AlterPartitionReassignmentsResponse> = {
  api: AlterPartitionReassignments,
  minVersion: 0,
  maxVersion: 1,
  async handle (broker, request, context) {
    // v0 has no allow_replication_factor_change: it was always allowed (KIP-860's default).
    const allowReplicationFactorChange = context.version < 1 ||
      request.allowReplicationFactorChange
    const reassignments = request.topics.flatMap(topic => topic.partitions.map(p => ({
      topic: topic.name, partition: p.partitionIndex, replicas: p.replicas,
    })))
    let results
    try {
      results = await broker.controller.alterPartitionReassignments(reassignments,
        allowReplicationFactorChange)
    } catch (error) {
      if (!(error instanceof ControllerError)) throw error
      return { ...AlterPartitionReassignments.errorResponse(request, context.version,
        errorCodeOf(error.errorName)), errorMessage: error.message }
    }
    return {
      throttleTimeMs: 0, allowReplicationFactorChange, errorCode: ERROR.NONE,
      errorMessage: null,
      responses: byTopic(results, result => ({ partitionIndex: result.partition,
        errorCode: errorCodeOf(result.errorName), errorMessage: result.message })),
    }
  },
}

export const listPartitionReassignmentsHandler: HandlerEntry<
ListPartitionReassignmentsRequest, ListPartitionReassignmentsResponse> = {
  api: ListPartitionReassignments,
  minVersion: 0,
  maxVersion: 0,
  async handle (broker, request) {
    const refs = request.topics?.flatMap(topic => topic.partitionIndexes.map(partition =>
      ({ topic: topic.name, partition }))) ?? null
    const ongoing = broker.controller.listPartitionReassignments(refs)
    return {
      throttleTimeMs: 0, errorCode: ERROR.NONE, errorMessage: null,
      topics: byTopic(ongoing, item => ({ partitionIndex: item.partition,
        replicas: item.replicas, addingReplicas: item.addingReplicas,
        removingReplicas: item.removingReplicas })),
    }
  },
}
