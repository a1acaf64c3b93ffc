/**
 * Heartbeat v0-4: keeps a member's session; REBALANCE_IN_PROGRESS tells it to rejoin. Answered
 * at once: a heartbeat changes no persisted state. v3 adds group.instance.id; v4 is flexible.
 */
import { Heartbeat, type HeartbeatRequest } from '../../protocol/apis/heartbeat.js'
import { ERROR } from '../../protocol/errors.js'
import type { HandlerEntry } from '../broker.js'

export const heartbeatHandler: HandlerEntry = {
  api: Heartbeat,
  minVersion: 0,
  maxVersion: 4,
  async handle (broker, request: HeartbeatRequest, context) {
    const groups = broker.groups
    const errorCode = groups === undefined
      ? ERROR.COORDINATOR_NOT_AVAILABLE
      : groups.heartbeat(request.groupId, request.memberId,
        context.version >= 3 ? request.groupInstanceId : null, request.generationId)
    return { throttleTimeMs: 0, errorCode }
  },
}
