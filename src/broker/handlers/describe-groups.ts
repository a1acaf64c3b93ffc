/**
 * DescribeGroups v0-2. An unknown group is described as Dead with no error, as Kafka does for
 * these versions; protocol_data is the selected protocol. Member metadata and assignment are
 * always given (Kafka leaves them empty outside Stable); kafka-consumer-groups and the clients
 * read them only for Stable groups, where both agree.
 */
import { DescribeGroups, type DescribeGroupsRequest } from '../../protocol/apis/describe-groups.js'
import { ERROR } from '../../protocol/errors.js'
import type { GroupCoordinator } from '../../group/coordinator.js'
import type { HandlerEntry } from '../broker.js'

/** Kafka's "authorized operations not requested" marker (Integer.MIN_VALUE). */
const NO_AUTHORIZED_OPERATIONS = -2147483648

function describe (groups: GroupCoordinator | undefined, groupId: string) {
  const errorCode = groups === undefined
    ? ERROR.COORDINATOR_NOT_AVAILABLE
    : groups.coordinatorError(groupId)
  const group = errorCode === ERROR.NONE ? groups?.describeGroup(groupId) : undefined
  if (group === undefined) {
    return { errorCode, groupId, groupState: 'Dead', protocolType: '', protocolData: '',
      members: [], authorizedOperations: NO_AUTHORIZED_OPERATIONS }
  }
  return {
    errorCode, groupId, groupState: group.state,
    protocolType: group.protocolType ?? '', protocolData: group.protocolName ?? '',
    authorizedOperations: NO_AUTHORIZED_OPERATIONS,
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
  maxVersion: 2,
  async handle (broker, request: DescribeGroupsRequest) {
    return { throttleTimeMs: 0,
      groups: request.groups.map(groupId => describe(broker.groups, groupId)) }
  },
}
