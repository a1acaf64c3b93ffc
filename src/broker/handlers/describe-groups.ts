/**
 * DescribeGroups v0-6. An unknown group is described as Dead, with no error up to v5 and with
 * GROUP_ID_NOT_FOUND from v6 (KIP-1043), as Kafka does; protocol_data is the selected protocol.
 * v3+ authorized operations are all allowed when asked for (authorized-operations.ts). Member
 * metadata and assignment are always given (Kafka leaves them empty outside Stable);
 * kafka-consumer-groups and the clients read them only for Stable groups, where both agree.
 */
import {
  DescribeGroups, type DescribedGroup, type DescribeGroupsRequest,
} from '../../protocol/apis/describe-groups.js'
import { ERROR, errorCodeOf } from '../../protocol/errors.js'
import {
  authorizedOperations, GROUP_OPERATIONS, OPERATIONS_NOT_REQUESTED,
} from '../authorized-operations.js'
import type { GroupCoordinator } from '../../group/coordinator.js'
import type { HandlerEntry } from '../broker.js'

const FIRST_VERSION_WITH_NOT_FOUND = 6

function describe (groups: GroupCoordinator | undefined, groupId: string, version: number,
  authorizedOperations: number): DescribedGroup {
  const errorCode = groups === undefined
    ? ERROR.COORDINATOR_NOT_AVAILABLE
    : groups.coordinatorError(groupId)
  const group = errorCode === ERROR.NONE ? groups?.describeGroup(groupId) : undefined
  if (group === undefined) {
    const notFound = errorCode === ERROR.NONE && version >= FIRST_VERSION_WITH_NOT_FOUND
    return {
      errorCode: notFound ? errorCodeOf('GROUP_ID_NOT_FOUND') : errorCode,
      errorMessage: notFound ? `Group ${groupId} not found.` : null,
      groupId, groupState: 'Dead', protocolType: '', protocolData: '',
      members: [], authorizedOperations: OPERATIONS_NOT_REQUESTED,
    }
  }
  return {
    errorCode, errorMessage: null, groupId, groupState: group.state,
    protocolType: group.protocolType ?? '', protocolData: group.protocolName ?? '',
    authorizedOperations,
    members: [...group.members.values()].map(member => ({
      memberId: member.memberId, groupInstanceId: member.groupInstanceId,
      clientId: member.clientId, clientHost: member.clientHost,
      memberMetadata: member.protocols.find(p => p.name === group.protocolName)?.metadata ??
        Buffer.alloc(0),
      memberAssignment: member.assignment,
    })),
  }
}

export const describeGroupsHandler: HandlerEntry = {
  api: DescribeGroups,
  minVersion: 0,
  maxVersion: 6,
  async handle (broker, request: DescribeGroupsRequest, context) {
    const operations = authorizedOperations(context.version >= 3 &&
      request.includeAuthorizedOperations, GROUP_OPERATIONS)
    return { throttleTimeMs: 0,
      groups: request.groups.map(groupId =>
        describe(broker.groups, groupId, context.version, operations)) }
  },
}
