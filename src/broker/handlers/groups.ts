/**
 * The consumer-group APIs, answered by the GroupCoordinator (src/group). Versions follow
 * KAFKA_PROTOCOL.md section 2; every minimum is what librdkafka's BrokerBalancedConsumer
 * feature gate needs (P1.1). This single node coordinates every group; FindCoordinator names
 * it on the listener the request came in on (P3.1).
 */
import {
  DeleteGroups, DescribeGroups, FindCoordinator, Heartbeat, JoinGroup, LeaveGroup, ListGroups,
  OffsetCommit, OffsetDelete, OffsetFetch, SyncGroup,
} from '../../protocol/apis/groups.js'
import { ERROR } from '../../protocol/errors.js'
import type { GroupCoordinator } from '../../group/coordinator.js'
import type { Broker, HandlerEntry } from '../broker.js'

function coordinator (broker: Broker): GroupCoordinator {
  const groups = broker.groups
  if (groups === undefined) throw new Error('the group coordinator is not running')
  return groups
}

const findCoordinator: HandlerEntry = {
  api: FindCoordinator, minVersion: 0, maxVersion: 2,
  async handle (broker, request: { keyType: number }, context) {
    const self = broker.image.brokers.get(broker.settings.nodeId)
    const endpoint = self?.endpoints.find(e => e.listener === context.listener) ?? self
    if (request.keyType !== 0 || endpoint === undefined) {
      return { throttleTimeMs: 0, errorCode: ERROR.COORDINATOR_NOT_AVAILABLE,
        errorMessage: request.keyType !== 0 ? 'no transaction coordinator yet' : null,
        nodeId: -1, host: '', port: -1 }
    }
    return { throttleTimeMs: 0, errorCode: ERROR.NONE, errorMessage: null,
      nodeId: broker.settings.nodeId, host: endpoint.host, port: endpoint.port }
  },
}

const joinGroup: HandlerEntry = {
  api: JoinGroup, minVersion: 0, maxVersion: 5,
  async handle (broker, request, context) {
    const result = await coordinator(broker).join(request.groupId, {
      memberId: request.memberId,
      groupInstanceId: request.groupInstanceId,
      clientId: context.header.clientId ?? '',
      clientHost: context.clientHost,
      sessionTimeoutMs: request.sessionTimeoutMs,
      rebalanceTimeoutMs: request.rebalanceTimeoutMs,
      protocolType: request.protocolType,
      protocols: request.protocols,
      requireKnownMemberId: context.version >= 4,
    })
    return { throttleTimeMs: 0, ...result }
  },
}

const syncGroup: HandlerEntry = {
  api: SyncGroup, minVersion: 0, maxVersion: 3,
  async handle (broker, request) {
    const result = await coordinator(broker).sync(request.groupId, request.memberId,
      request.groupInstanceId, request.generationId, request.assignments)
    return { throttleTimeMs: 0, ...result }
  },
}

const heartbeat: HandlerEntry = {
  api: Heartbeat, minVersion: 0, maxVersion: 3,
  async handle (broker, request) {
    return { throttleTimeMs: 0, errorCode: coordinator(broker).heartbeat(request.groupId,
      request.memberId, request.groupInstanceId, request.generationId) }
  },
}

const leaveGroup: HandlerEntry = {
  api: LeaveGroup, minVersion: 0, maxVersion: 3,
  async handle (broker, request, context) {
    const members = context.version >= 3
      ? request.members as { memberId: string, groupInstanceId: string | null }[]
      : [{ memberId: request.memberId as string, groupInstanceId: null }]
    const codes = await coordinator(broker).leave(request.groupId, members)
    return {
      throttleTimeMs: 0,
      errorCode: context.version >= 3 ? ERROR.NONE : codes[0] ?? ERROR.NONE,
      members: members.map((member, i) => ({ ...member, errorCode: codes[i] ?? ERROR.NONE })),
    }
  },
}

const offsetCommit: HandlerEntry = {
  api: OffsetCommit, minVersion: 2, maxVersion: 5,
  async handle (broker, request) {
    const entries = (request.topics as { name: string, partitions: { partitionIndex: number,
      committedOffset: number, committedLeaderEpoch: number,
      committedMetadata: string | null }[] }[]).flatMap(topic =>
      topic.partitions.map(partition => ({ topic: topic.name,
        partition: partition.partitionIndex, offset: partition.committedOffset,
        leaderEpoch: partition.committedLeaderEpoch, metadata: partition.committedMetadata })))
    const errorCode = await coordinator(broker).commitOffsets(request.groupId,
      request.memberId, request.groupInstanceId, request.generationIdOrMemberEpoch, entries)
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((topic: { name: string, partitions: { partitionIndex: number }[] }) =>
        ({ name: topic.name, partitions: topic.partitions.map(partition =>
          ({ partitionIndex: partition.partitionIndex, errorCode })) })),
    }
  },
}

const offsetFetch: HandlerEntry = {
  api: OffsetFetch, minVersion: 1, maxVersion: 4,
  async handle (broker, request) {
    const stored = coordinator(broker).fetchOffsets(request.groupId)
    let wanted = request.topics as { name: string, partitionIndexes: number[] }[] | null
    if (wanted === null) {
      const byTopic = new Map<string, number[]>()
      for (const tp of stored.keys()) {
        const [topic, partition] = tp.split('\u0000') as [string, string]
        byTopic.set(topic, [...(byTopic.get(topic) ?? []), Number(partition)])
      }
      wanted = [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes }))
    }
    return {
      throttleTimeMs: 0,
      errorCode: ERROR.NONE,
      topics: wanted.map(topic => ({
        name: topic.name,
        partitions: topic.partitionIndexes.map(partitionIndex => {
          const committed = stored.get(`${topic.name}\u0000${partitionIndex}`)
          return { partitionIndex, committedOffset: committed?.offset ?? -1,
            committedLeaderEpoch: committed?.leaderEpoch ?? -1,
            metadata: committed?.metadata ?? '', errorCode: ERROR.NONE }
        }),
      })),
    }
  },
}

const listGroups: HandlerEntry = {
  api: ListGroups, minVersion: 0, maxVersion: 2,
  async handle (broker) {
    return { throttleTimeMs: 0, errorCode: ERROR.NONE,
      groups: coordinator(broker).listGroups().map(group => ({ groupId: group.groupId,
        protocolType: group.protocolType })) }
  },
}

const describeGroups: HandlerEntry = {
  api: DescribeGroups, minVersion: 0, maxVersion: 2,
  async handle (broker, request) {
    return {
      throttleTimeMs: 0,
      groups: (request.groups as string[]).map(groupId => {
        const group = coordinator(broker).describeGroup(groupId)
        if (group === undefined) {
          return { errorCode: ERROR.NONE, groupId, groupState: 'Dead', protocolType: '',
            protocolData: '', members: [], authorizedOperations: -2147483648 }
        }
        return {
          errorCode: ERROR.NONE, groupId, groupState: group.state,
          protocolType: group.protocolType ?? '', protocolData: group.protocolName ?? '',
          authorizedOperations: -2147483648,
          members: [...group.members.values()].map(member => ({
            memberId: member.memberId, groupInstanceId: member.groupInstanceId,
            clientId: member.clientId, clientHost: member.clientHost,
            memberMetadata: member.protocols.find(p => p.name === group.protocolName)?.metadata ??
              Buffer.alloc(0),
            memberAssignment: member.assignment,
          })),
        }
      }),
    }
  },
}

const deleteGroups: HandlerEntry = {
  api: DeleteGroups, minVersion: 0, maxVersion: 1,
  async handle (broker, request) {
    const codes = await coordinator(broker).deleteGroups(request.groupsNames)
    return { throttleTimeMs: 0, results: (request.groupsNames as string[]).map((groupId, i) =>
      ({ groupId, errorCode: codes[i] ?? ERROR.NONE })) }
  },
}

const offsetDelete: HandlerEntry = {
  api: OffsetDelete, minVersion: 0, maxVersion: 0,
  async handle (broker, request) {
    const partitions = (request.topics as { name: string,
      partitions: { partitionIndex: number }[] }[]).flatMap(topic =>
      topic.partitions.map(p => ({ topic: topic.name, partition: p.partitionIndex })))
    const errorCode = await coordinator(broker).deleteOffsets(request.groupId, partitions)
    const topLevel = errorCode === ERROR.GROUP_ID_NOT_FOUND ? errorCode : ERROR.NONE
    return {
      errorCode: topLevel,
      throttleTimeMs: 0,
      topics: request.topics.map((topic: { name: string, partitions: { partitionIndex: number }[] }) =>
        ({ name: topic.name, partitions: topic.partitions.map(p =>
          ({ partitionIndex: p.partitionIndex,
            errorCode: topLevel === ERROR.NONE ? errorCode : ERROR.NONE })) })),
    }
  },
}

export const GROUP_HANDLERS: HandlerEntry[] = [
  offsetCommit, offsetFetch, findCoordinator, joinGroup, heartbeat, leaveGroup, syncGroup,
  describeGroups, listGroups, deleteGroups, offsetDelete,
]
