/**
 * ListGroups v0-5: every group this coordinator holds, Empty ones included (as Kafka). v4+
 * filter by state and answer each group's state (KIP-518); v5+ filter by type and answer each
 * group's type (KIP-848), always "classic" here, the only group protocol served. Both filters
 * compare case-insensitively, as Kafka's GroupCoordinatorShard.listGroups does; an empty
 * filter lets every group through.
 *
 * A group whose id or protocol type no Kafka string can carry (more than 32767 bytes: say one
 * created over HTTP before its names were bounded, and persisted) is left out: no Kafka client
 * could name it anyway, and listing it would make every ListGroups response unencodable.
 */
import {
  ListGroups, type ListGroupsRequest, type ListGroupsResponse,
} from '../../protocol/apis/list-groups.js'
import { STRING_BYTES_MAX } from '../../protocol/decode-limits.js'
import { ERROR } from '../../protocol/errors.js'
import type { HandlerEntry } from '../broker.js'

/** Kafka's Group.GroupType.CLASSIC: the group type of every group here. */
const CLASSIC_GROUP_TYPE = 'classic'

export const listGroupsHandler: HandlerEntry<ListGroupsRequest, ListGroupsResponse> = {
  api: ListGroups,
  minVersion: 0,
  maxVersion: 5,
  async handle (broker, request, context) {
    const groups = broker.groups
    if (groups === undefined) {
      return { throttleTimeMs: 0, errorCode: ERROR.COORDINATOR_NOT_AVAILABLE, groups: [] }
    }
    const states = filterOf(context.version >= 4 ? request.statesFilter : [])
    const types = filterOf(context.version >= 5 ? request.typesFilter ?? [] : [])
    return { throttleTimeMs: 0, errorCode: ERROR.NONE,
      groups: groups.listGroups().filter(group => encodable(group.groupId) &&
        encodable(group.protocolType) && states(group.state) && types(CLASSIC_GROUP_TYPE))
        .map(group => ({ groupId: group.groupId, protocolType: group.protocolType,
          groupState: group.state, groupType: CLASSIC_GROUP_TYPE })) }
  },
}

function filterOf (values: string[]): (value: string) => boolean {
  if (values.length === 0) return () => true
  const wanted = new Set(values.map(value => value.toLowerCase()))
  return value => wanted.has(value.toLowerCase())
}

function encodable (value: string): boolean {
  return Buffer.byteLength(value) <= STRING_BYTES_MAX
}
