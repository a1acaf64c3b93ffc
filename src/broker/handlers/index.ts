/**
 * The handler table: every API the broker serves, with the versions it advertises
 * (docs/protocol.md, "APIs and versions"). ApiVersions derives its answer from this list.
 */
import type { HandlerEntry } from '../broker.js'
import { apiVersionsHandler } from './api-versions.js'
import {
  alterConfigsHandler, describeConfigsHandler, incrementalAlterConfigsHandler,
} from './configs.js'
import { createPartitionsHandler } from './create-partitions.js'
import { createTopicsHandler } from './create-topics.js'
import { deleteRecordsHandler } from './delete-records.js'
import { deleteTopicsHandler } from './delete-topics.js'
import { describeClusterHandler } from './describe-cluster.js'
import { describeProducersHandler } from './describe-producers.js'
import { describeTopicPartitionsHandler } from './describe-topic-partitions.js'
import { fetchHandler } from './fetch.js'
import { GROUP_HANDLERS } from './groups.js'
import { initProducerIdHandler } from './init-producer-id.js'
import { listOffsetsHandler } from './list-offsets.js'
import { metadataHandler } from './metadata.js'
import { offsetForLeaderEpochHandler } from './offset-for-leader-epoch.js'
import { produceHandler } from './produce.js'
import { describeTransactionsHandler, listTransactionsHandler } from './transaction-admin.js'
import { TRANSACTION_HANDLERS } from './transactions.js'
import { writeTxnMarkersHandler } from './write-txn-markers.js'

export const ALL_HANDLERS: HandlerEntry[] = [
  produceHandler,
  fetchHandler,
  listOffsetsHandler,
  metadataHandler,
  apiVersionsHandler,
  createTopicsHandler,
  deleteTopicsHandler,
  deleteRecordsHandler,
  initProducerIdHandler,
  describeConfigsHandler,
  alterConfigsHandler,
  createPartitionsHandler,
  incrementalAlterConfigsHandler,
  describeClusterHandler,
  describeTopicPartitionsHandler,
  describeProducersHandler,
  ...GROUP_HANDLERS,
  ...TRANSACTION_HANDLERS,
  describeTransactionsHandler,
  listTransactionsHandler,
  writeTxnMarkersHandler,
  offsetForLeaderEpochHandler,
]
