/**
 * LeaveGroup v0-5. v0-2 name one member and carry one error; v3 (KIP-345) names members by id
 * or group.instance.id, each with its own error, and the top-level error is NONE unless the
 * whole request failed. v4 is flexible; v5 adds a reason per member (KIP-800), informational.
 */
import { LeaveGroup, type LeaveGroupRequest } from '../../protocol/apis/leave-group.js'
import { ERROR } from '../../protocol/errors.js'
import type { HandlerEntry } from '../broker.js'

/** Members one LeaveGroup may name; a longer list is refused (the request would be hostile). */
const LEAVE_MEMBERS_MAX = 10_000

export const leaveGroupHandler: HandlerEntry = {
  api: LeaveGroup,
  minVersion: 0,
  maxVersion: 5,
  async handle (broker, request: LeaveGroupRequest, context) {
    const batched = context.version >= 3
    const members = batched
      ? request.members
      : [{ memberId: request.memberId, groupInstanceId: null }]
    const groups = broker.groups
    const failure = groups === undefined
      ? ERROR.COORDINATOR_NOT_AVAILABLE
      : members.length > LEAVE_MEMBERS_MAX ? ERROR.INVALID_REQUEST : ERROR.NONE
    if (groups === undefined || failure !== ERROR.NONE) {
      return { throttleTimeMs: 0, errorCode: failure, members: [] }
    }
    const coordinatorError = groups.coordinatorError(request.groupId)
    if (coordinatorError !== ERROR.NONE) {
      return { throttleTimeMs: 0, errorCode: coordinatorError, members: [] }
    }
    const codes = await groups.leave(request.groupId, members)
    return {
      throttleTimeMs: 0,
      errorCode: batched ? ERROR.NONE : codes[0] ?? ERROR.NONE,
      members: members.map((member, i) => ({ ...member, errorCode: codes[i] ?? ERROR.NONE })),
    }
  },
}
