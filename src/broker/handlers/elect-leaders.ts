/**
 * ElectLeaders (KIP-183, KIP-460; kafka-leader-election.sh): a preferred or unclean election
 * for the partitions named, or for every partition when the list is null (then only those
 * where an election was possible are answered, as Kafka's Admin reports). The controller
 * decides and commits (forwarded when it is another broker); each partition answers NONE or
 * Kafka's reason: ELECTION_NOT_NEEDED, PREFERRED_LEADER_NOT_AVAILABLE,
 * ELIGIBLE_LEADERS_NOT_AVAILABLE, UNKNOWN_TOPIC_OR_PARTITION. An unknown election type is
 * INVALID_REQUEST. v1 adds the election type and a top-level error code; v2 is flexible.
 */
import { ControllerError, type ElectionType } from '../../controller/controller.js'
import {
  ELECTION_TYPE_PREFERRED, ELECTION_TYPE_UNCLEAN, ElectLeaders, type ElectLeadersRequest,
  type ElectLeadersResponse,
} from '../../protocol/apis/elect-leaders.js'
import { ERROR, errorCodeOf } from '../../protocol/errors.js'
import type { HandlerEntry } from '../broker.js'
import { byTopic } from './partition-reassignments.js'

function electionTypeOf (code: number): ElectionType | undefined {
  if (code === ELECTION_TYPE_PREFERRED) return 'preferred'
  if (code === ELECTION_TYPE_UNCLEAN) return 'unclean'
  return undefined
}

export const electLeadersHandler: HandlerEntry<ElectLeadersRequest, ElectLeadersResponse> = {
  api: ElectLeaders,
  minVersion: 0,
  maxVersion: 2,
  async handle (broker, request, context) {
    const electionType = electionTypeOf(context.version >= 1
      ? request.electionType
      : ELECTION_TYPE_PREFERRED)
    if (electionType === undefined) {
      // The request's partitions, each answering the error (Kafka's getErrorResponse).
      return ElectLeaders.errorResponse(request, context.version, errorCodeOf('INVALID_REQUEST'))
    }
    const refs = request.topicPartitions?.flatMap(({ topic, partitions }) =>
      partitions.map(partition => ({ topic, partition }))) ?? null
    let results
    try {
      results = await broker.controller.electLeaders(electionType, refs)
    } catch (error) {
      if (!(error instanceof ControllerError)) throw error
      return ElectLeaders.errorResponse(request, context.version, errorCodeOf(error.errorName))
    }
    const grouped = byTopic(results, result => ({ partitionId: result.partition,
      errorCode: errorCodeOf(result.errorName), errorMessage: result.message }))
    return { throttleTimeMs: 0, errorCode: ERROR.NONE,
      replicaElectionResults: grouped.map(({ name, partitions }) =>
        ({ topic: name, partitionResult: partitions })) }
  },
}
