/**
 * The consumer-group APIs, one handler file each, answered by the GroupCoordinator
 * (src/group). Versions follow docs/protocol.md ("Why these versions"); every minimum is what
 * librdkafka's BrokerGroupCoordinator / BrokerBalancedConsumer feature gates need ("Minimum
 * versions and librdkafka's feature gates").
 */
import type { HandlerEntry } from '../broker.js'
import { deleteGroupsHandler } from './delete-groups.js'
import { describeGroupsHandler } from './describe-groups.js'
import { findCoordinatorHandler } from './find-coordinator.js'
import { heartbeatHandler } from './heartbeat.js'
import { joinGroupHandler } from './join-group.js'
import { leaveGroupHandler } from './leave-group.js'
import { listGroupsHandler } from './list-groups.js'
import { offsetCommitHandler } from './offset-commit.js'
import { offsetDeleteHandler } from './offset-delete.js'
import { offsetFetchHandler } from './offset-fetch.js'
import { syncGroupHandler } from './sync-group.js'

export const GROUP_HANDLERS: HandlerEntry[] = [
  offsetCommitHandler, offsetFetchHandler, findCoordinatorHandler, joinGroupHandler,
  heartbeatHandler, leaveGroupHandler, syncGroupHandler, describeGroupsHandler,
  listGroupsHandler, deleteGroupsHandler, offsetDeleteHandler,
]
