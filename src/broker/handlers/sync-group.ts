/** SyncGroup v0-3: the leader hands in the assignment; every member waits for its share. */
import { SyncGroup, type SyncGroupRequest } from '../../protocol/apis/sync-group.js'
import { ERROR } from '../../protocol/errors.js'
import type { HandlerEntry } from '../broker.js'

export const syncGroupHandler: HandlerEntry = {
  api: SyncGroup,
  minVersion: 0,
  maxVersion: 3,
  async handle (broker, request: SyncGroupRequest, context) {
    const groups = broker.groups
    if (groups === undefined) {
      return { throttleTimeMs: 0, errorCode: ERROR.COORDINATOR_NOT_AVAILABLE,
        assignment: Buffer.alloc(0) }
    }
    const result = await groups.sync(request.groupId, request.memberId,
      context.version >= 3 ? request.groupInstanceId : null, request.generationId,
      request.assignments)
    return { throttleTimeMs: 0, ...result }
  },
}
