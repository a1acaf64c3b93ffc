/** ListGroups v0-2: every group this coordinator holds, Empty ones included (as Kafka). */
import { ListGroups } from '../../protocol/apis/list-groups.js'
import { ERROR } from '../../protocol/errors.js'
import type { HandlerEntry } from '../broker.js'

export const listGroupsHandler: HandlerEntry = {
  api: ListGroups,
  minVersion: 0,
  maxVersion: 2,
  async handle (broker) {
    const groups = broker.groups
    if (groups === undefined) {
      return { throttleTimeMs: 0, errorCode: ERROR.COORDINATOR_NOT_AVAILABLE, groups: [] }
    }
    return { throttleTimeMs: 0, errorCode: ERROR.NONE,
      groups: groups.listGroups().map(group => ({ groupId: group.groupId,
        protocolType: group.protocolType })) }
  },
}
