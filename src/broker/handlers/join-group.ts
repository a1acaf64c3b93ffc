/**
 * JoinGroup v0-9. v4+ lets the coordinator demand a member id first (MEMBER_ID_REQUIRED,
 * KIP-394); v5 carries group.instance.id (KIP-345). The response waits until the group's
 * rebalance completes (bounded by the rebalance timeout; docs/protocol.md, "JoinGroup waits
 * for the rebalance"). v7+ answer a successful join with the group's protocol type, which a
 * join only succeeds with when it is the member's own (KIP-559); v8's reason (KIP-800) is
 * informational; v9's skip_assignment (KIP-814) is always false, since the leader of a classic
 * group always assigns.
 */
import { JoinGroup, type JoinGroupRequest } from '../../protocol/apis/join-group.js'
import { ERROR } from '../../protocol/errors.js'
import type { HandlerEntry } from '../broker.js'

export const joinGroupHandler: HandlerEntry = {
  api: JoinGroup,
  minVersion: 0,
  maxVersion: 9,
  async handle (broker, request: JoinGroupRequest, context) {
    const groups = broker.groups
    const result = groups === undefined
      ? { errorCode: ERROR.COORDINATOR_NOT_AVAILABLE, generationId: -1, protocolName: '',
          leader: '', memberId: '', members: [] }
      : await groups.join(request.groupId, {
        memberId: request.memberId,
        groupInstanceId: context.version >= 5 ? request.groupInstanceId : null,
        clientId: context.header.clientId ?? '',
        clientHost: context.clientHost,
        sessionTimeoutMs: request.sessionTimeoutMs,
        rebalanceTimeoutMs: context.version >= 1 ? request.rebalanceTimeoutMs : -1,
        protocolType: request.protocolType,
        protocols: request.protocols,
        requireKnownMemberId: context.version >= 4,
      })
    return { throttleTimeMs: 0, ...result, skipAssignment: false,
      protocolType: result.errorCode === ERROR.NONE ? request.protocolType : null }
  },
}
