/**
 * DeleteGroups v0-2 (v2 is flexible): removes Empty groups and their offsets (tombstones in
 * __consumer_offsets); NON_EMPTY_GROUP while members remain, GROUP_ID_NOT_FOUND if unknown.
 */
import { DeleteGroups, type DeleteGroupsRequest } from '../../protocol/apis/delete-groups.js'
import { ERROR } from '../../protocol/errors.js'
import type { HandlerEntry } from '../broker.js'

export const deleteGroupsHandler: HandlerEntry = {
  api: DeleteGroups,
  minVersion: 0,
  maxVersion: 2,
  async handle (broker, request: DeleteGroupsRequest) {
    const groups = broker.groups
    const codes = groups === undefined
      ? request.groupsNames.map(() => ERROR.COORDINATOR_NOT_AVAILABLE as number)
      : await groups.deleteGroups(request.groupsNames)
    return { throttleTimeMs: 0, results: request.groupsNames.map((groupId, i) =>
      ({ groupId, errorCode: codes[i] ?? ERROR.UNKNOWN_SERVER_ERROR })) }
  },
}
