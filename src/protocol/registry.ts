/**
 * The registry of every Kafka API codec the project has, keyed by API key. The broker's
 * handler table (src/broker/handlers/index.ts) decides what is ADVERTISED; this list is what
 * can be decoded and encoded, at the codec's full version range (often wider than advertised,
 * so raising an advertised maximum is a one-line change).
 *
 * Stateless: built once at load. The fuzz test (test/protocol/fuzz.test.ts) feeds every
 * decoder listed here at every version, so an API is only covered once it is listed.
 */
import type { ApiDefinition } from './api.js'
import { ApiVersions } from './apis/api-versions.js'
import { AlterConfigs } from './apis/alter-configs.js'
import { CreatePartitions } from './apis/create-partitions.js'
import { CreateTopics } from './apis/create-topics.js'
import { DeleteRecords } from './apis/delete-records.js'
import { DeleteTopics } from './apis/delete-topics.js'
import { DescribeCluster } from './apis/describe-cluster.js'
import { DescribeConfigs } from './apis/describe-configs.js'
import { DescribeProducers } from './apis/describe-producers.js'
import { DescribeTransactions } from './apis/describe-transactions.js'
import { DescribeTopicPartitions } from './apis/describe-topic-partitions.js'
import { AddOffsetsToTxn } from './apis/add-offsets-to-txn.js'
import { AddPartitionsToTxn } from './apis/add-partitions-to-txn.js'
import { DeleteGroups } from './apis/delete-groups.js'
import { DescribeGroups } from './apis/describe-groups.js'
import { EndTxn } from './apis/end-txn.js'
import { FindCoordinator } from './apis/find-coordinator.js'
import { Heartbeat } from './apis/heartbeat.js'
import { JoinGroup } from './apis/join-group.js'
import { LeaveGroup } from './apis/leave-group.js'
import { ListTransactions } from './apis/list-transactions.js'
import { ListGroups } from './apis/list-groups.js'
import { OffsetCommit } from './apis/offset-commit.js'
import { OffsetDelete } from './apis/offset-delete.js'
import { OffsetFetch } from './apis/offset-fetch.js'
import { SyncGroup } from './apis/sync-group.js'
import { TxnOffsetCommit } from './apis/txn-offset-commit.js'
import { WriteTxnMarkers } from './apis/write-txn-markers.js'
import { IncrementalAlterConfigs } from './apis/incremental-alter-configs.js'
import { Fetch } from './apis/fetch.js'
import { InitProducerId } from './apis/init-producer-id.js'
import { ListOffsets } from './apis/list-offsets.js'
import { Metadata } from './apis/metadata.js'
import { OffsetForLeaderEpoch } from './apis/offset-for-leader-epoch.js'
import { Produce } from './apis/produce.js'
import { SaslAuthenticate } from './apis/sasl-authenticate.js'
import { SaslHandshake } from './apis/sasl-handshake.js'
import { assert } from '../util/assert.js'

export const API_DEFINITIONS: readonly ApiDefinition<any, any>[] = Object.freeze([
  Produce,
  Fetch,
  ListOffsets,
  Metadata,
  SaslHandshake,
  ApiVersions,
  InitProducerId,
  SaslAuthenticate,
  DescribeCluster,
  CreateTopics,
  DeleteTopics,
  CreatePartitions,
  DescribeConfigs,
  AlterConfigs,
  IncrementalAlterConfigs,
  DeleteRecords,
  FindCoordinator,
  JoinGroup,
  SyncGroup,
  Heartbeat,
  LeaveGroup,
  OffsetCommit,
  OffsetFetch,
  ListGroups,
  DescribeGroups,
  DeleteGroups,
  OffsetDelete,
  AddPartitionsToTxn,
  AddOffsetsToTxn,
  EndTxn,
  TxnOffsetCommit,
  WriteTxnMarkers,
  DescribeTopicPartitions,
  DescribeProducers,
  DescribeTransactions,
  ListTransactions,
  OffsetForLeaderEpoch,
])

const BY_KEY = new Map<number, ApiDefinition<any, any>>()
for (const api of API_DEFINITIONS) {
  assert(!BY_KEY.has(api.key), `API key ${api.key} registered twice`)
  assert(api.minVersion <= api.maxVersion, `${api.name}: empty version range`)
  BY_KEY.set(api.key, api)
}

export function apiByKey (key: number): ApiDefinition<any, any> | undefined {
  return BY_KEY.get(key)
}
