/**
 * ListGroups v0-2: every group this coordinator holds, Empty ones included (as Kafka).
 *
 * A group whose id or protocol type no Kafka string can carry (more than 32767 bytes: say one
 * created over HTTP before its names were bounded, and persisted) is left out: no Kafka client
 * could name it anyway, and listing it would make every ListGroups response unencodable.
 */
import { ListGroups } from '../../protocol/apis/list-groups.js'
import { STRING_BYTES_MAX } from '../../protocol/decode-limits.js'
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
      groups: groups.listGroups().filter(group => encodable(group.groupId) &&
        encodable(group.protocolType)).map(group => ({ groupId: group.groupId,
        protocolType: group.protocolType })) }
  },
}

function encodable (value: string): boolean {
  return Buffer.byteLength(value) <= STRING_BYTES_MAX
}
