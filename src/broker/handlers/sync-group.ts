/**
 * SyncGroup v0-5: the leader hands in the assignment; every member waits for its share. v3 adds
 * group.instance.id; v4 is flexible; v5 (KIP-559) lets a member state the protocol type and
 * name it joined with, and a mismatch with the group's is INCONSISTENT_GROUP_PROTOCOL, as
 * Kafka checks; a successful answer carries the group's type and name.
 */
import { SyncGroup, type SyncGroupRequest } from '../../protocol/apis/sync-group.js'
import { ERROR, errorCodeOf } from '../../protocol/errors.js'
import type { HandlerEntry } from '../broker.js'

export const syncGroupHandler: HandlerEntry = {
  api: SyncGroup,
  minVersion: 0,
  maxVersion: 5,
  async handle (broker, request: SyncGroupRequest, context) {
    const groups = broker.groups
    if (groups === undefined) {
      return { throttleTimeMs: 0, errorCode: ERROR.COORDINATOR_NOT_AVAILABLE,
        assignment: Buffer.alloc(0) }
    }
    const before = groups.describeGroup(request.groupId)
    if (before !== undefined && (
      !matches(request.protocolType, before.protocolType) ||
      !matches(request.protocolName, before.protocolName))) {
      return { throttleTimeMs: 0, errorCode: errorCodeOf('INCONSISTENT_GROUP_PROTOCOL'),
        assignment: Buffer.alloc(0) }
    }
    const result = await groups.sync(request.groupId, request.memberId,
      context.version >= 3 ? request.groupInstanceId : null, request.generationId,
      request.assignments)
    const after = result.errorCode === ERROR.NONE
      ? groups.describeGroup(request.groupId)
      : undefined
    return { throttleTimeMs: 0, ...result, protocolType: after?.protocolType ?? null,
      protocolName: after?.protocolName ?? null }
  },
}

/**
 * An absent stated value (null, or before v5) matches any; a group without a protocol yet
 * (Empty) is left to the sync itself, which refuses a member it does not know.
 */
function matches (stated: string | null | undefined, actual: string | null | undefined): boolean {
  return stated === null || stated === undefined || actual === null || actual === undefined ||
    stated === actual
}
